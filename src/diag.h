/* diag: the queues of any TCP listener, asked of the kernel over
 * NETLINK_SOCK_DIAG (inet_diag), which is what `ss` uses. Works for every
 * listener in the calling thread's network namespace, whoever owns it:
 * the built-in server, a server qbench started (server.command), or a
 * local target. One dump of the listening and SYN_RECV sockets per sample
 * (about 13 us here); the listeners on one port (SO_REUSEPORT, nginx
 * workers, both address families) are summed. */
#ifndef QB_DIAG_H
#define QB_DIAG_H

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
 * IPv6. listeners 0: nothing listens there (yet). */
int diag_queues(struct diag *d, uint16_t port, struct diag_queues *q, char *err,
                size_t errlen);

#endif
