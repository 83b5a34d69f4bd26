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

struct diag {
    int fd;
    uint32_t seq;
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
    } else if (s->state == TCP_SYN_RECV) {
        q->syn_recv++;
    }
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

int diag_queues(struct diag *d, uint16_t port, bool syn, struct diag_queues *q, char *err,
                size_t errlen)
{
    /* listeners live in a small hash of their own; request sockets in the
     * established hash, which the kernel walks whole (all namespaces') */
    uint32_t states = (1u << TCP_LISTEN) | (syn ? 1u << TCP_SYN_RECV : 0);

    memset(q, 0, sizeof(*q));
    return diag_each(d, 0, port, states, count_queues, q, err, errlen);
}
