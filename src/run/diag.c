#include "diag.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "errbuf.h"

/* The one listener the last full listener dump of a port found: asked by
 * its id until it changes, or until DIAG_FULL_EVERY asks have passed. */
struct known_listener {
    bool valid;
    uint16_t port;
    uint8_t family;
    struct inet_diag_sockid id;
    unsigned asks; /* asks by id since the last full dump */
    bool broken;   /* an ask missed a listener the full dump then found: asks stop */
};

struct diag {
    int fd;
    uint32_t seq;
    unsigned families; /* of the listeners on the port the last full dump saw: 1 v4, 2 v6 */
    uint16_t family_port;
    struct known_listener one;
    uint64_t asked_by_id;
    char buf[32768];
};

struct diag *diag_open(char *err, size_t errlen)
{
    struct diag *d = calloc(1, sizeof(*d));

    if (!d) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    d->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (d->fd < 0) {
        errbuf_set(err, errlen, "socket(NETLINK_SOCK_DIAG): %s", strerror(errno));
        free(d);
        return NULL;
    }
    return d;
}

void diag_close(struct diag *d)
{
    if (!d)
        return;
    close(d->fd);
    free(d);
}

/* The inet_diag bytecode of "local port == port": one S_EQ test whose
 * "no" jumps past the end (reject), followed by the port operand. */
struct sport_filter {
    struct nlattr nla;
    struct inet_diag_bc_op op[2];
};

static int dump(struct diag *d, int family, uint16_t port, uint32_t states, bool filter,
                diag_each_fn fn, void *arg, char *err, size_t errlen)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
        struct sport_filter bc;
    } msg;
    struct sockaddr_nl nladdr = {.nl_family = AF_NETLINK};

    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = filter ? sizeof(msg) : NLMSG_LENGTH(sizeof(msg.req));
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.nlh.nlmsg_seq = ++d->seq;
    msg.req.sdiag_family = (uint8_t)family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = states;
    if (filter) {
        msg.bc.nla.nla_type = INET_DIAG_REQ_BYTECODE;
        msg.bc.nla.nla_len = sizeof(msg.bc);
        msg.bc.op[0] =
            (struct inet_diag_bc_op){INET_DIAG_BC_S_EQ, sizeof(msg.bc.op), sizeof(msg.bc.op) + 4};
        msg.bc.op[1] = (struct inet_diag_bc_op){0, 0, port};
        /* the kernel compares the port in the request before anything
         * dearer (a reference, the bytecode), for every socket it walks */
        msg.req.id.idiag_sport = htons(port);
    }
    if (sendto(d->fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&nladdr, sizeof(nladdr)) < 0)
        return errbuf_set(err, errlen, "sock_diag request: %s", strerror(errno));
    for (;;) {
        ssize_t n = recv(d->fd, d->buf, sizeof(d->buf), 0);
        struct nlmsghdr *h;

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errbuf_set(err, errlen, "sock_diag reply: %s", strerror(errno));
        }
        for (h = (struct nlmsghdr *)d->buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            const struct inet_diag_msg *m;
            struct diag_sock s;

            if (h->nlmsg_seq != d->seq)
                continue;
            if (h->nlmsg_type == NLMSG_DONE)
                return 0;
            if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);

                /* no IPv6 in this kernel is not an error: nothing listens there */
                if (e->error == -ENOENT || e->error == -EAFNOSUPPORT)
                    return 0;
                return errbuf_set(err, errlen, "sock_diag: %s", strerror(-e->error));
            }
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
                continue;
            m = NLMSG_DATA(h);
            if (ntohs(m->id.idiag_sport) != port)
                continue;
            memset(&s, 0, sizeof(s));
            s.family = m->idiag_family;
            s.state = m->idiag_state;
            s.retrans = m->idiag_retrans;
            s.sport = ntohs(m->id.idiag_sport);
            s.dport = ntohs(m->id.idiag_dport);
            memcpy(s.src, m->id.idiag_src, 16);
            memcpy(s.dst, m->id.idiag_dst, 16);
            s.inode = m->idiag_inode;
            s.cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
            s.rqueue = m->idiag_rqueue;
            s.wqueue = m->idiag_wqueue;
            s.ifindex = m->id.idiag_if;
            fn(&s, arg);
        }
    }
}

static void count_queues(const struct diag_sock *s, void *arg)
{
    struct diag_queues *q = arg;

    if (s->state == TCP_LISTEN) {
        q->listeners++;
        q->accept_len += s->rqueue;
        q->accept_limit += s->wqueue;
        q->families |= s->family == AF_INET6 ? 2u : 1u;
    } else if (s->state == TCP_SYN_RECV) {
        q->syn_recv++;
    }
}

/* A full listener dump: the count, and the listener it saw when it saw one. */
struct listen_scan {
    struct diag_queues *q;
    struct diag_sock last;
};

static void scan_listeners(const struct diag_sock *s, void *arg)
{
    struct listen_scan *ls = arg;

    count_queues(s, ls->q);
    if (s->state == TCP_LISTEN)
        ls->last = *s;
}

int diag_each(struct diag *d, int family, uint16_t port, uint32_t states, diag_each_fn fn,
              void *arg, char *err, size_t errlen)
{
    if (family != AF_INET6 && dump(d, AF_INET, port, states, true, fn, arg, err, errlen) < 0)
        return -1;
    if (family == AF_INET)
        return 0;
    return dump(d, AF_INET6, port, states, true, fn, arg, err, errlen);
}

bool diag_ask_by_id(bool known, unsigned asks_since_full)
{
    return known && asks_since_full + 1 < DIAG_FULL_EVERY;
}

/* The known listener, asked by its id (no NLM_F_DUMP: the kernel looks it
 * up in its hash, as for an incoming SYN, and checks the cookie). 0 and
 * *q filled; 1: it is gone or another socket answers (ask the full dump);
 * -1: the request failed. */
static int ask_by_id(struct diag *d, struct diag_queues *q, char *err, size_t errlen)
{
    struct {
        struct nlmsghdr nlh;
        struct inet_diag_req_v2 req;
    } msg;
    struct sockaddr_nl nladdr = {.nl_family = AF_NETLINK};
    ssize_t n;

    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST;
    msg.nlh.nlmsg_seq = ++d->seq;
    msg.req.sdiag_family = d->one.family;
    msg.req.sdiag_protocol = IPPROTO_TCP;
    msg.req.idiag_states = 1u << TCP_LISTEN;
    msg.req.id = d->one.id;
    if (sendto(d->fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&nladdr, sizeof(nladdr)) < 0)
        return errbuf_set(err, errlen, "sock_diag request: %s", strerror(errno));
    for (;;) {
        struct nlmsghdr *h;

        n = recv(d->fd, d->buf, sizeof(d->buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errbuf_set(err, errlen, "sock_diag reply: %s", strerror(errno));
        for (h = (struct nlmsghdr *)d->buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            const struct inet_diag_msg *m;

            if (h->nlmsg_seq != d->seq)
                continue; /* the tail of an older, interrupted request */
            if (h->nlmsg_type == NLMSG_ERROR)
                return 1; /* ENOENT: closed; ESTALE: another socket now */
            if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
                return 1;
            m = NLMSG_DATA(h);
            if (m->idiag_state != TCP_LISTEN || m->id.idiag_sport != d->one.id.idiag_sport ||
                memcmp(m->id.idiag_cookie, d->one.id.idiag_cookie, sizeof(m->id.idiag_cookie)))
                return 1;
            memset(q, 0, sizeof(*q));
            q->listeners = 1;
            q->families = d->one.family == AF_INET6 ? 2u : 1u;
            q->accept_len = m->idiag_rqueue;
            q->accept_limit = m->idiag_wqueue;
            return 0;
        }
    }
}

static int listen_queues(struct diag *d, uint16_t port, struct diag_queues *q, char *err,
                         size_t errlen)
{
    struct listen_scan ls;
    bool missed = false;
    uint32_t missed_cookie[2];

    if (!d->one.broken && diag_ask_by_id(d->one.valid && d->one.port == port, d->one.asks)) {
        int rc = ask_by_id(d, q, err, errlen);

        if (rc <= 0) {
            d->one.asks += rc == 0;
            d->asked_by_id += rc == 0;
            return rc;
        }
        missed = true;
        memcpy(missed_cookie, d->one.id.idiag_cookie, sizeof(missed_cookie));
    }
    memset(q, 0, sizeof(*q));
    memset(&ls, 0, sizeof(ls));
    ls.q = q;
    d->one.valid = false;
    if (diag_each(d, 0, port, 1u << TCP_LISTEN, scan_listeners, &ls, err, errlen) < 0)
        return -1;
    d->families = q->families;
    d->family_port = port;
    if (q->listeners == 1) {
        /* a reuseport group of several would answer an ask by id with
         * any one of them: only a lone listener is asked that way */
        d->one.valid = true;
        d->one.port = port;
        d->one.family = ls.last.family;
        d->one.asks = 0;
        memset(&d->one.id, 0, sizeof(d->one.id));
        d->one.id.idiag_sport = htons(ls.last.sport);
        memcpy(d->one.id.idiag_src, ls.last.src, sizeof(d->one.id.idiag_src));
        d->one.id.idiag_if = ls.last.ifindex;
        d->one.id.idiag_cookie[0] = (uint32_t)ls.last.cookie;
        d->one.id.idiag_cookie[1] = (uint32_t)(ls.last.cookie >> 32);
        /* the same socket the ask did not find: this kernel does not
         * answer asks by id, and every tick would pay both */
        if (missed && !memcmp(missed_cookie, d->one.id.idiag_cookie, sizeof(missed_cookie)))
            d->one.broken = true;
    }
    return 0;
}

int diag_queues(struct diag *d, uint16_t port, bool syn, struct diag_queues *q, char *err,
                size_t errlen)
{
    /* listeners live in a small hash of their own; request sockets in the
     * established hash, which the kernel walks whole */
    uint32_t states = (1u << TCP_LISTEN) | (1u << TCP_SYN_RECV);
    int family = 0;

    if (!syn)
        return listen_queues(d, port, q, err, errlen);
    /* request sockets have their listener's family: a walk per family
     * that listens is enough */
    if (d->family_port == port && d->families == 1)
        family = AF_INET;
    else if (d->family_port == port && d->families == 2)
        family = AF_INET6;
    memset(q, 0, sizeof(*q));
    if (diag_each(d, family, port, states, count_queues, q, err, errlen) < 0)
        return -1;
    if (family && q->listeners == 0)
        d->families = 0; /* look at both families next time */
    return 0;
}

int diag_syn_queue(struct diag *d, int family, uint16_t port, unsigned *syn_recv, char *err,
                   size_t errlen)
{
    struct diag_queues q;

    memset(&q, 0, sizeof(q));
    if (diag_each(d, family, port, 1u << TCP_SYN_RECV, count_queues, &q, err, errlen) < 0)
        return -1;
    *syn_recv = q.syn_recv;
    return 0;
}

uint64_t diag_asks_by_id(const struct diag *d)
{
    return d->asked_by_id;
}

uint64_t diag_walk_spacing_ns(uint64_t cost_ns, uint64_t tick_ns)
{
    uint64_t share = cost_ns * DIAG_COST_SHARE;

    /* the next walk is due at the next tick while it costs under
     * 1/DIAG_COST_SHARE of a tick (the half tick absorbs the jitter
     * between the walk's end and the tick); a dear one waits for as
     * many ticks as its cost asks */
    return share > tick_ns ? share - tick_ns / 2 : 0;
}
