/* diag: the queues of any TCP listener, asked of the kernel over
 * NETLINK_SOCK_DIAG (inet_diag), which is what `ss` uses. Works for every
 * listener in the calling thread's network namespace, whoever owns it:
 * the built-in server, a server qbench started (server.command), or a
 * local target. The listeners on one port (SO_REUSEPORT, nginx workers,
 * both address families) are summed.
 *
 * Cost (measured 2026-12-02, 2 vCPU VM, thread CPU time of a request 10 ms
 * after the last, as a sampler makes them): a dump of the listeners walks
 * the machine's listening hash, shared by every namespace: 48-62 us. Once
 * a dump has shown a lone listener on the port, it is asked by its id
 * instead (a hash lookup: 4-6 us), with a full dump every DIAG_FULL_EVERY
 * asks to see listeners added since. Request sockets (the SYN queue) are
 * in the established hash, which the kernel walks whole, touching every
 * socket in it, whatever its state: about 0.2 us a socket from a cold
 * cache (2,000 sockets: 420-540 us; a namespace with a hash of its own
 * holds only the run's sockets, qbench's clients included; the host's
 * shared hash: 2.5-3.6 ms). Callers space the walks by their cost
 * (diag_walk_spacing_ns). */
#ifndef QB_DIAG_H
#define QB_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag_queues {
    unsigned listeners;    /* listening sockets on the port */
    unsigned accept_len;   /* established, waiting for accept() (idiag_rqueue) */
    unsigned accept_limit; /* the backlog the kernel applied (idiag_wqueue) */
    unsigned syn_recv;     /* request sockets: the SYN queue */
    unsigned families;     /* of the listeners: bit 0 IPv4, bit 1 IPv6 */
};

struct diag;

/* A walk dearer than about 1% of a sampling tick is spaced so that walks
 * take 1/DIAG_COST_SHARE of a CPU (0.71%) */
#define DIAG_COST_SHARE 140
/* a lone listener asked by id is looked for with a full dump every this
 * many asks (100 ms at the default 10 ms tick) */
#define DIAG_FULL_EVERY 10

struct diag *diag_open(char *err, size_t errlen);
void diag_close(struct diag *d);

/* The queues of the TCP listeners on local port (host order), IPv4 and
 * IPv6; with syn, also the SYN queue (the expensive part, see above; only
 * the families the last listener dump saw are walked). Without syn, a
 * lone listener is asked by its id (see above): a reuseport group, or
 * listeners added within the last DIAG_FULL_EVERY asks, are summed from
 * the next full dump on. listeners 0: nothing listens there (yet). */
int diag_queues(struct diag *d, uint16_t port, bool syn, struct diag_queues *q, char *err,
                size_t errlen);

/* The SYN queue alone (request sockets of the listeners on port, of
 * family, or 0 for both): no walk of the listening hash, for a caller
 * that knows its listeners. */
int diag_syn_queue(struct diag *d, int family, uint16_t port, unsigned *syn_recv, char *err,
                   size_t errlen);

/* Whether a known lone listener is asked by id rather than by a full dump,
 * asks_since_full asks after the last full dump. */
bool diag_ask_by_id(bool known, unsigned asks_since_full);

/* How many listener asks were answered by id, not by a full dump. */
uint64_t diag_asks_by_id(const struct diag *d);

/* How long after a walk that cost cost_ns of CPU the next one may start,
 * at a sampling tick of tick_ns: 0 (the next tick) while a walk costs up
 * to about 1% of a tick, else spaced so walks take 1/DIAG_COST_SHARE of a
 * CPU. Pure: the sampler's pacing rule. */
uint64_t diag_walk_spacing_ns(uint64_t cost_ns, uint64_t tick_ns);

/* One socket of a dump, as the kernel reported it. */
struct diag_sock {
    uint8_t family;           /* AF_INET, AF_INET6 */
    uint8_t state;            /* TCP_LISTEN, TCP_SYN_RECV, TCP_ESTABLISHED ... */
    uint8_t retrans;          /* request sockets: SYN-ACKs retransmitted so far */
    uint16_t sport, dport;    /* host order */
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint32_t inode;           /* 0: no file (queued, orphaned, request, time-wait) */
    uint64_t cookie;          /* the kernel's socket id, never reused while it runs */
    uint32_t rqueue, wqueue;
    uint32_t ifindex; /* a socket bound to a device: its index, else 0 */
};

typedef void (*diag_each_fn)(const struct diag_sock *s, void *arg);

/* Calls fn for every TCP socket whose local port is port and whose state
 * is in states (a mask of 1 << TCP_*), of family (AF_INET, AF_INET6, or 0
 * for both; a dual-stack listener on :: is AF_INET6). The port is
 * filtered in the kernel (inet_diag bytecode), so only the server's side
 * crosses to user space; the kernel still walks the hash the states live
 * in (see the cost note above). */
int diag_each(struct diag *d, int family, uint16_t port, uint32_t states, diag_each_fn fn,
              void *arg, char *err, size_t errlen);

#endif
