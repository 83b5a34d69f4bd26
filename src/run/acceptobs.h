/* acceptobs: which connections a TCP server took with accept(), and when,
 * seen from outside the server through the kernel (NETLINK_SOCK_DIAG, what
 * `ss` uses). Works for any listener in the calling thread's network
 * namespace, whoever runs it, with no privileges there and nothing in the
 * server.
 *
 * The fact it rests on (measured, see KERNEL.md 2026-12-02): an
 * established child socket has inode 0 while it waits in the accept queue
 * and a non-zero inode once accept() gave it a file. A child whose owner
 * closed it moves to FIN_WAIT1/2, CLOSING, LAST_ACK or TIME_WAIT (inode 0
 * again): only an accepted socket gets there, since a queued one is only
 * ever reset (the listener's close, or its peer). So one dump of the
 * port's sockets tells, per child, "still queued" or "accepted"; a poll
 * every interval brackets each accept between two dumps.
 *
 * Each poll is one walk (request sockets and children, filtered by local
 * port in the kernel), then the listeners (diag_queues): it gives the SYN
 * queue, every child's state and the accept queue. Its cost is the walk of
 * the established hash; in a namespace with a private hash (netns.h) that
 * is only the run's own sockets, about 0.2 us each (diag.h).
 *
 * Usage: acceptobs_new, then acceptobs_poll every interval while the
 * server runs (and once after it stopped); then acceptobs_socks lists
 * every socket seen with what became of it. The verdict per connection
 * (accepted, when, or how it ended unaccepted) is fate.h's, which joins
 * these with the client's view. Not thread-safe: one thread polls. */
#ifndef QB_ACCEPTOBS_H
#define QB_ACCEPTOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "story.h"

/* What a socket was when last seen. */
enum acceptobs_kind {
    ACCEPTOBS_REQUEST, /* SYN_RECV request socket: the SYN queue */
    ACCEPTOBS_CHILD,   /* an established child (queued or accepted) */
};

/* How a child left the table (or not). */
enum acceptobs_end {
    ACCEPTOBS_ALIVE,            /* still there at the last poll */
    ACCEPTOBS_GONE_ACCEPTED,    /* gone after it had been seen accepted */
    ACCEPTOBS_GONE_QUEUED,      /* gone while queued, the listener still open */
    ACCEPTOBS_GONE_NO_LISTENER, /* gone while queued, the listener closed */
};

/* One socket of the server's side, followed from its first dump to its
 * last. Times are CLOCK_MONOTONIC ns of the dumps that saw it: a dump
 * sees a socket at some moment between its start and its end. */
struct acceptobs_sock {
    struct story_tuple peer; /* the client's address and port */
    uint64_t cookie;         /* the kernel's socket id */
    uint64_t before_ns;      /* start of the dump before the first that saw it */
    uint64_t first_ns;       /* end of the first dump that saw it */
    uint64_t queued_ns;      /* start of the last dump that saw it queued (0: never) */
    uint64_t accepted_ns;    /* end of the first dump that saw it accepted (0: never) */
    uint64_t gone_ns;        /* end of the first dump without it (0: alive) */
    uint8_t kind;            /* enum acceptobs_kind */
    uint8_t end;             /* enum acceptobs_end */
    uint8_t last_state;      /* TCP_* when last seen */
    uint8_t synack_retrans;  /* request sockets: SYN-ACK retransmits seen */
    uint8_t closed_by_owner; /* seen accepted by its state, not its file */
    uint8_t born_request;    /* first seen as a request (SYN_RECV): seen before the
                              * client's handshake completed */
    uint32_t seen_gen;       /* internal: the poll that last saw it */
};

/* What one poll saw of the listeners' queues (summed over listeners). */
struct acceptobs_queues {
    unsigned listeners;
    unsigned accept_len, accept_limit;
    unsigned syn_recv;
};

/* What the polls cost and how regular they were. */
struct acceptobs_stats {
    uint64_t polls;
    uint64_t errors;                   /* failed dumps: the view has a hole */
    uint64_t dump_ns_sum, dump_ns_max; /* wall time of the dumps */
    uint64_t cpu_ns_sum;               /* CPU time of the dumps (the kernel's walk included) */
    uint64_t last_cpu_ns;              /* ... of the last one */
    uint64_t gap_ns_max;               /* longest time between two dump starts */
    uint64_t first_ns;                 /* start of the first good dump */
    uint64_t last_ns;                  /* end of the last good dump */
    uint64_t socks_max;                /* most sockets one dump returned */
    bool truncated;                    /* the table hit its cap: later sockets untracked */
};

struct acceptobs;

/* Watches the listener(s) on local port (host order). */
struct acceptobs *acceptobs_new(uint16_t port, char *err, size_t errlen);
void acceptobs_free(struct acceptobs *o);

/* One dump at now: updates every socket's story, fills q. -1 (and a hole
 * in the view, counted in stats.errors) when the dump failed. */
int acceptobs_poll(struct acceptobs *o, struct acceptobs_queues *q, char *err, size_t errlen);

/* Every socket seen so far, in the order first seen. */
const struct acceptobs_sock *acceptobs_socks(const struct acceptobs *o, size_t *n);
void acceptobs_stats(const struct acceptobs *o, struct acceptobs_stats *st);

/* The pure core, exposed for tests: what one sighting of a socket (as in
 * a dump from start_ns to end_ns) does to its record. */
bool acceptobs_state_accepted(uint8_t tcp_state, uint32_t inode);
void acceptobs_sighting(struct acceptobs_sock *s, const struct diag_sock *d, uint64_t start_ns,
                        uint64_t end_ns);
/* ... and what its absence from such a dump does (listeners: how many
 * listened in that dump). */
void acceptobs_vanished(struct acceptobs_sock *s, unsigned listeners, uint64_t end_ns);

#endif
