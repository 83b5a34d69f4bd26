/* story: every connection's fate, joined from both ends.
 *
 * The client knows when it started a connection, when the handshake
 * completed and when it gave up waiting for the greeting; the server knows
 * when it accepted which peer (address and port). Joined by that 4-tuple
 * (the server's address is the same for all), a handshake that never got
 * its greeting turns out to be one of two different things:
 *   accepted_late   the server did accept it, after the client gave up:
 *                   a slow server (its lateness is reported);
 *   never_accepted  the server never accepted it: a half-open connection
 *                   it forgot after its SYN-ACK retransmits, a cookie
 *                   connection whose ACK was dropped, or one still queued
 *                   when the run ended.
 *
 * A tuple is busy while either end holds the connection, so one tuple's
 * connections follow one another in time and each one's accept (if any)
 * falls between its start and the next one's start. Taking connections
 * latest first, each takes the first unused accept of its tuple at or
 * after its start, which is then its own. Pure: arrays in, counts out. */
#ifndef QB_STORY_H
#define QB_STORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "histogram.h"

/* A connection's client end (the server's peer): family, address, port. */
struct story_tuple {
    uint8_t family;   /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* IPv4 in the first 4 bytes */
    uint16_t port;    /* host order */
};

/* One accept() of the server. late: the client had already closed (or
 * reset) the connection when it was taken off the queue. */
struct story_accept {
    struct story_tuple peer;
    uint64_t ns;
    uint16_t synack_retrans;
    bool late;
    bool used;
};

/* A growable log of accepts (one per server thread: no locking). */
struct story_log {
    struct story_accept *v;
    size_t n, cap;
};

/* A connection whose handshake completed and whose greeting never came;
 * story_classify fills in what the server did with it. */
struct story_gave_up {
    struct story_tuple src;
    uint64_t due_ns; /* the schedule's time for it */
    uint64_t start_ns;
    uint64_t connect_ns; /* handshake complete (client view) */
    uint64_t giveup_ns;
    uint64_t release_ns;     /* the client let go of the socket (0: not yet) */
    uint8_t late_seen;       /* what the client read after giving up (STORY_LATE_*) */
    uint64_t late_ns;        /* when it read it (0: nothing) */
    uint64_t unacked_ns;     /* last seen with bytes the server had not acknowledged (0: never) */
    bool released_unacked;   /* let go with such bytes: its kernel still presents them */
    bool client_reset;       /* the client's close was an RST */
    uint8_t outcome;         /* out: its final class (enum outcome) */
    bool accepted;           /* out: accepted late (else never accepted) */
    uint64_t accept_ns;      /* out: when */
    uint64_t precision_ns;   /* out: accept_ns is within this (0: exact) */
    uint16_t synack_retrans; /* out: SYN-ACK retransmits the server saw */
};

/* What the client saw on a connection it had given up on and watched. */
#define STORY_LATE_NONE 0
#define STORY_LATE_DATA 1  /* an answer */
#define STORY_LATE_EOF 2   /* an orderly close */
#define STORY_LATE_RESET 3 /* an RST */

/* The tuple of a socket address (the other fields zeroed). */
void story_tuple_of(const struct sockaddr *sa, struct story_tuple *t);

/* Orders tuples (family, port, address): for sorting and searching. */
int story_tuple_cmp(const struct story_tuple *a, const struct story_tuple *b);

/* Appends a; -1 if memory ran out (the log keeps what it has). */
int story_log_add(struct story_log *log, const struct story_accept *a);
/* Moves src's accepts to the end of dst (src emptied). */
int story_log_take(struct story_log *dst, struct story_log *src);
void story_log_free(struct story_log *log);

/* Sorts the log by tuple, then time: call once before story_find. */
void story_log_sort(struct story_log *log);

/* The first unused accept of tuple t in [from_ns, to_ns] (late: only late
 * ones, or any), marked used; NULL if none. */
struct story_accept *story_find(struct story_log *log, const struct story_tuple *t,
                                uint64_t from_ns, uint64_t to_ns, bool late_only);

/* Splits the n connections that gave up into accepted_late and
 * never_accepted (counts added to *late and *never, each g[i]'s out fields
 * set); records each late one's lateness (accept - give-up, in us) in
 * late_by. The log must be sorted; only its late accepts are considered
 * (one the server took while the client still waited is not a give-up's).
 * -1 if memory for the order ran out. */
int story_classify(struct story_log *log, struct story_gave_up *g, size_t n, uint64_t *late,
                   uint64_t *never, struct histogram *late_by);

#endif
