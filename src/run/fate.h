/* fate: what a server did with each connection, from the kernel's view
 * (acceptobs.h) joined with the client's, for servers qbench did not write
 * (server.command, a target in qbench's namespace).
 *
 * A connection is found among the server's sockets by its client tuple and
 * time: the child of tuple T that first appeared between the client's
 * connect() and the release of its socket, or, after a graceful close,
 * while the client's kernel still retransmits its FIN (a tuple is busy
 * while the client holds it, so that child is this connection's). Then:
 *   accepted        the child was seen with a file (inode), or in a state
 *                   only its owner's close() leads to, or it left the
 *                   table while the listener was open and the client had
 *                   not reset it (a queued child leaves only by accept,
 *                   a reset, or the listener's close); the accept lies
 *                   between two dumps: accept_ns +- precision_ns;
 *   never accepted  the kernel showed it end unaccepted: still queued when
 *                   the listener closed; a request socket (SYN_RECV) that
 *                   went away without a child (SYN-ACK retransmits ran
 *                   out); or no server socket at all in any dump while the
 *                   client held an established connection (a half-open
 *                   connection: its final ACK dropped, its request gone),
 *                   unless the client let it go with bytes unacknowledged
 *                   (then its kernel goes on presenting them, and a cookie
 *                   connection can still be made and accepted, too briefly
 *                   for any dump to see);
 *   accepted too    when no dump saw a child, or the last saw it queued
 *                   before the listener closed, but the client, after
 *                   giving up, read the server's answer or orderly close:
 *                   only an application that accepted it sends those (the
 *                   listener's close resets what is queued);
 *   unknown         anything else (a hole in the polls, a child still
 *                   queued when the watch ended, a reset that may have
 *                   followed an accept): never guessed.
 * Pure: arrays in, verdicts out. */
#ifndef QB_FATE_H
#define QB_FATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acceptobs.h"
#include "story.h"

enum fate_verdict {
    FATE_UNKNOWN,
    FATE_ACCEPTED,
    FATE_NEVER_ACCEPTED,
};

/* Why: how the verdict was seen. */
enum fate_cause {
    FATE_CAUSE_NONE,
    FATE_CAUSE_FILE,             /* accepted: seen with a file */
    FATE_CAUSE_CLOSED_BY_OWNER,  /* accepted: seen in a state only close() leads to */
    FATE_CAUSE_LEFT_QUEUE,       /* accepted: left the table, listener open, no reset */
    FATE_CAUSE_LISTENER_CLOSED,  /* never: still queued when the listener closed */
    FATE_CAUSE_REQUEST_EXPIRED,  /* never: a request socket went away without a child */
    FATE_CAUSE_NO_SERVER_SOCKET, /* never: no server socket in any dump (half-open) */
    FATE_CAUSE_CLIENT_READ,      /* accepted: no dump saw it accepted, the client read its answer
                                  * or orderly close */
    FATE_CAUSE_COUNT
};

/* The observer's view as a whole. */
struct fate_view {
    const struct acceptobs_sock *socks;
    size_t n;
    uint64_t first_poll_ns; /* start of the first good dump */
    uint64_t last_poll_ns;  /* end of the last good dump */
    uint64_t gap_ns_max;    /* the longest gap between dumps */
    bool complete;          /* no failed dump, nothing untracked */
};

/* The client's side of one connection. */
struct fate_conn {
    struct story_tuple src;
    uint64_t start_ns;   /* connect() */
    uint64_t connect_ns; /* handshake complete as the client saw it (0: never) */
    uint64_t answer_ns;  /* first byte read (0: none): the accept came before */
    uint64_t release_ns; /* the client let the socket go (0: unknown: the polls end) */
    bool client_reset;   /* the client reset it (an RST of its own) */
    bool saw_reset;      /* the client read an RST from the server's side */
    uint64_t late_ns;    /* the client read an answer or an orderly close after giving up (0: no) */
    uint64_t unacked_ns; /* the client last saw bytes of its unacknowledged: no child then */
    bool released_unacked; /* let go with bytes unacknowledged: the orphan still presents them */
};

struct fate_result {
    uint8_t verdict;       /* enum fate_verdict */
    uint8_t cause;         /* enum fate_cause */
    uint64_t accept_ns;    /* accepted: the middle of the bracket */
    uint64_t precision_ns; /* accepted: half the bracket */
};

/* How long after a graceful close (FIN, not RST) the client's kernel still
 * holds the tuple and can complete the handshake with a retransmitted FIN:
 * an orphan's FIN retransmits (tcp_orphan_retries, default 8) span about
 * 100 s at the 200 ms minimum RTO; no other connection can use the tuple
 * meanwhile. Bounded well below that, since a tuple freed early (the
 * server's RST) may be reused by a connection the join does not see. */
#define FATE_ORPHAN_HOLD_NS (30ULL * 1000000000ULL)

struct fate_index;

/* Sorts the view's children and requests by tuple and time. NULL if
 * memory ran out. */
struct fate_index *fate_index_new(const struct fate_view *v);
void fate_index_free(struct fate_index *x);

/* The fate of one connection; each child is claimed at most once, so
 * call in order of start, latest first, for connections sharing a tuple. */
void fate_of(struct fate_index *x, const struct fate_conn *c, struct fate_result *r);

const char *fate_cause_name(enum fate_cause c);

#endif
