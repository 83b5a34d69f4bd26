/* diag: the queues of any TCP listener, asked of the kernel over
 * NETLINK_SOCK_DIAG (inet_diag), which is what `ss` uses. Works for every
 * listener in the calling thread's network namespace, whoever owns it:
 * the built-in server, a server qbench started (server.command), or a
 * local target. The listeners on one port (SO_REUSEPORT, nginx workers,
 * both address families) are summed.
 *
 * Cost: listeners are in a small hash of their own, so the accept queue
 * costs about 13 us a dump. Request sockets (the SYN queue) are in the
 * established hash, which is shared by every namespace and sized by the
 * machine's memory: the kernel walks all of it, some milliseconds here,
 * whatever the load. Callers ask for the SYN queue sparingly. */
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
};

struct diag;

struct diag *diag_open(char *err, size_t errlen);
void diag_close(struct diag *d);

/* The queues of the TCP listeners on local port (host order), IPv4 and
 * IPv6; with syn, also the SYN queue (the expensive part, see above).
 * listeners 0: nothing listens there (yet). */
int diag_queues(struct diag *d, uint16_t port, bool syn, struct diag_queues *q, char *err,
                size_t errlen);

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
