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

#endif
