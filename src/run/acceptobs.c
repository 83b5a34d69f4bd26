#include "acceptobs.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errbuf.h"

/* Enough for a long run at a high rate (about 80 bytes a socket); beyond
 * it new sockets are not followed and the stats say so. */
#define ACCEPTOBS_MAX_SOCKS (4u << 20)

/* cookie -> index of the socket in the record array (open addressing) */
struct slot {
    uint64_t cookie; /* 0: empty (the kernel's cookies start at 1) */
    uint32_t index;
};

struct acceptobs {
    struct diag *diag;
    uint16_t port;
    struct acceptobs_sock *v;
    size_t n, cap;
    struct slot *table;
    size_t table_cap; /* a power of two, kept under half full */
    uint32_t *live;   /* indices of sockets not yet gone */
    size_t nlive, live_cap;
    uint32_t gen;
    uint64_t last_start_ns;
    /* the poll in progress */
    uint64_t start_ns, end_ns;
    struct acceptobs_queues q;
    uint64_t seen;
    unsigned families; /* bit 0 IPv4, bit 1 IPv6: where listeners were seen */
    unsigned listen_families;
    bool oom;
    struct acceptobs_stats st;
};

bool acceptobs_state_accepted(uint8_t tcp_state, uint32_t inode)
{
    if (inode != 0)
        return true;
    /* only the owner's close() takes a child to these states; a queued one
     * is only ever reset */
    switch (tcp_state) {
    case TCP_FIN_WAIT1:
    case TCP_FIN_WAIT2:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
    case TCP_TIME_WAIT:
        return true;
    default:
        return false;
    }
}

void acceptobs_sighting(struct acceptobs_sock *s, const struct diag_sock *d, uint64_t start_ns,
                        uint64_t end_ns)
{
    s->last_state = d->state;
    if (d->state == TCP_SYN_RECV && s->kind == ACCEPTOBS_REQUEST) {
        if (d->retrans > s->synack_retrans)
            s->synack_retrans = d->retrans;
        return;
    }
    s->kind = ACCEPTOBS_CHILD;
    if (s->accepted_ns)
        return;
    if (acceptobs_state_accepted(d->state, d->inode)) {
        s->accepted_ns = end_ns;
        s->closed_by_owner = d->inode == 0;
    } else
        s->queued_ns = start_ns;
}

void acceptobs_vanished(struct acceptobs_sock *s, unsigned listeners, uint64_t end_ns)
{
    s->gone_ns = end_ns;
    if (s->accepted_ns)
        s->end = ACCEPTOBS_GONE_ACCEPTED;
    else
        s->end = listeners ? ACCEPTOBS_GONE_QUEUED : ACCEPTOBS_GONE_NO_LISTENER;
}

struct acceptobs *acceptobs_new(uint16_t port, char *err, size_t errlen)
{
    struct acceptobs *o = calloc(1, sizeof(*o));

    if (!o) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    o->port = port;
    o->diag = diag_open(err, errlen);
    o->table_cap = 1024;
    o->table = calloc(o->table_cap, sizeof(*o->table));
    if (!o->diag || !o->table) {
        if (o->diag)
            errbuf_set(err, errlen, "out of memory");
        acceptobs_free(o);
        return NULL;
    }
    return o;
}

void acceptobs_free(struct acceptobs *o)
{
    if (!o)
        return;
    diag_close(o->diag);
    free(o->v);
    free(o->table);
    free(o->live);
    free(o);
}

static size_t slot_of(const struct acceptobs *o, uint64_t cookie)
{
    size_t mask = o->table_cap - 1, i = (size_t)((cookie * 0x9E3779B97F4A7C15ull) >> 20) & mask;

    while (o->table[i].cookie && o->table[i].cookie != cookie)
        i = (i + 1) & mask;
    return i;
}

static int table_grow(struct acceptobs *o)
{
    struct slot *old = o->table;
    size_t old_cap = o->table_cap;

    o->table = calloc(old_cap * 2, sizeof(*o->table));
    if (!o->table) {
        o->table = old;
        return -1;
    }
    o->table_cap = old_cap * 2;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].cookie)
            o->table[slot_of(o, old[i].cookie)] = old[i];
    free(old);
    return 0;
}

static struct acceptobs_sock *add_sock(struct acceptobs *o, const struct diag_sock *d)
{
    struct acceptobs_sock *s;
    struct sockaddr_storage ss;

    if (o->n >= ACCEPTOBS_MAX_SOCKS) {
        o->st.truncated = true;
        return NULL;
    }
    if ((o->n + 1) * 2 > o->table_cap && table_grow(o) < 0)
        return NULL;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 1024;
        struct acceptobs_sock *v = realloc(o->v, cap * sizeof(*v));

        if (!v)
            return NULL;
        o->v = v;
        o->cap = cap;
    }
    if (o->nlive == o->live_cap) {
        size_t cap = o->live_cap ? o->live_cap * 2 : 1024;
        uint32_t *l = realloc(o->live, cap * sizeof(*l));

        if (!l)
            return NULL;
        o->live = l;
        o->live_cap = cap;
    }
    s = &o->v[o->n];
    memset(s, 0, sizeof(*s));
    memset(&ss, 0, sizeof(ss));
    if (d->family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, d->dst, 4);
        in->sin_port = htons(d->dport);
    } else if (memcmp(d->dst, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        /* a v4 client of a dual-stack listener: as the client knows itself */
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;

        in->sin_family = AF_INET;
        memcpy(&in->sin_addr, d->dst + 12, 4);
        in->sin_port = htons(d->dport);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, d->dst, 16);
        in6->sin6_port = htons(d->dport);
    }
    story_tuple_of((struct sockaddr *)&ss, &s->peer);
    s->cookie = d->cookie;
    s->before_ns = o->last_start_ns ? o->last_start_ns : o->start_ns;
    s->first_ns = o->end_ns;
    s->kind = d->state == TCP_SYN_RECV ? ACCEPTOBS_REQUEST : ACCEPTOBS_CHILD;
    s->born_request = s->kind == ACCEPTOBS_REQUEST;
    o->table[slot_of(o, d->cookie)] = (struct slot){d->cookie, (uint32_t)o->n};
    o->live[o->nlive++] = (uint32_t)o->n;
    o->n++;
    return s;
}

static void on_sock(const struct diag_sock *d, void *arg)
{
    struct acceptobs *o = arg;
    struct acceptobs_sock *s;
    size_t i;

    if (d->state == TCP_LISTEN) {
        o->listen_families |= d->family == AF_INET6 ? 2u : 1u;
        o->q.listeners++;
        o->q.accept_len += d->rqueue;
        o->q.accept_limit += d->wqueue;
        return;
    }
    if (d->state == TCP_SYN_RECV)
        o->q.syn_recv++;
    o->seen++;
    if (!d->cookie)
        return;
    i = slot_of(o, d->cookie);
    if (o->table[i].cookie) {
        s = &o->v[o->table[i].index];
        if (s->gone_ns) {
            /* missed by one dump (a hole), seen again: still there */
            s->gone_ns = 0;
            s->end = ACCEPTOBS_ALIVE;
            if (o->nlive < o->live_cap)
                o->live[o->nlive++] = o->table[i].index;
        }
    } else {
        s = add_sock(o, d);
        if (!s) {
            o->oom = o->oom || !o->st.truncated;
            return;
        }
    }
    s->seen_gen = o->gen;
    acceptobs_sighting(s, d, o->start_ns, o->end_ns);
}

int acceptobs_poll(struct acceptobs *o, struct acceptobs_queues *q, char *err, size_t errlen)
{
    struct diag_queues lq;
    uint64_t dump_ns, cpu0 = clock_thread_cpu_ns();
    size_t w = 0;

    o->gen++;
    memset(&o->q, 0, sizeof(o->q));
    o->seen = 0;
    o->start_ns = clock_now_ns();
    /* a sighting is stamped with the dump's end, known only afterwards:
     * the start stands in, and the end is put right below */
    o->end_ns = o->start_ns;
    if (o->last_start_ns && o->start_ns - o->last_start_ns > o->st.gap_ns_max)
        o->st.gap_ns_max = o->start_ns - o->last_start_ns;
    o->listen_families = 0;
    /* TIME_WAIT is left out: a server that closes first leaves one per
     * connection for a minute (one closed that fast left the queue with
     * its listener open, which says accepted too). Once the listeners are
     * known, only their families are asked: a server on 127.0.0.1 has
     * nothing in IPv6. The listeners are asked after the walk, not in it
     * (the kernel would walk the machine's whole listening hash first,
     * diag.h): a listener that closes unhashes itself before its queued
     * children go, so a child that vanished from this walk while the
     * listener is still there afterwards was not taken by the close. */
    if (diag_each(o->diag,
                  o->families == 1   ? AF_INET
                  : o->families == 2 ? AF_INET6
                                     : 0,
                  o->port,
                  (1u << TCP_SYN_RECV) | (1u << TCP_ESTABLISHED) | (1u << TCP_CLOSE_WAIT) |
                      (1u << TCP_FIN_WAIT1) | (1u << TCP_FIN_WAIT2) | (1u << TCP_CLOSING) |
                      (1u << TCP_LAST_ACK),
                  on_sock, o, err, errlen) < 0 ||
        diag_queues(o->diag, o->port, false, &lq, err, errlen) < 0) {
        /* nothing is concluded from a failed dump: no socket is gone */
        o->st.errors++;
        o->last_start_ns = o->start_ns;
        return -1;
    }
    o->q.listeners = lq.listeners;
    o->q.accept_len = lq.accept_len;
    o->q.accept_limit = lq.accept_limit;
    o->listen_families = lq.families;
    o->end_ns = clock_now_ns();
    if (!o->families && o->listen_families)
        o->families = o->listen_families;
    dump_ns = o->end_ns - o->start_ns;
    o->st.last_cpu_ns = clock_thread_cpu_ns() - cpu0;
    o->st.cpu_ns_sum += o->st.last_cpu_ns;
    o->st.polls++;
    if (!o->st.first_ns)
        o->st.first_ns = o->start_ns;
    o->st.last_ns = o->end_ns;
    o->st.dump_ns_sum += dump_ns;
    if (dump_ns > o->st.dump_ns_max)
        o->st.dump_ns_max = dump_ns;
    if (o->seen > o->st.socks_max)
        o->st.socks_max = o->seen;
    for (size_t i = 0; i < o->nlive; i++) {
        struct acceptobs_sock *s = &o->v[o->live[i]];

        if (s->seen_gen == o->gen) {
            /* the dump's true end, for what this dump saw first or accepted */
            if (s->first_ns == o->start_ns)
                s->first_ns = o->end_ns;
            if (s->accepted_ns == o->start_ns)
                s->accepted_ns = o->end_ns;
            o->live[w++] = o->live[i];
        } else {
            acceptobs_vanished(s, o->q.listeners, o->end_ns);
        }
    }
    o->nlive = w;
    o->last_start_ns = o->start_ns;
    if (o->oom) {
        o->oom = false;
        o->st.errors++;
    }
    if (q)
        *q = o->q;
    return 0;
}

const struct acceptobs_sock *acceptobs_socks(const struct acceptobs *o, size_t *n)
{
    *n = o->n;
    return o->v;
}

void acceptobs_stats(const struct acceptobs *o, struct acceptobs_stats *st)
{
    *st = o->st;
}
