/* outcome: what the client saw of one connection, as the SPEC's classes.
 * Pure: classification depends only on the phase and the error. */
#ifndef QB_OUTCOME_H
#define QB_OUTCOME_H

enum outcome {
    OUTCOME_ESTABLISHED,
    OUTCOME_TIMEOUT,
    OUTCOME_RESET,
    OUTCOME_REFUSED,
    OUTCOME_GREETING_TIMEOUT, /* handshake done, no greeting: the server side unknown */
    OUTCOME_ACCEPTED_LATE,    /* ... and the server accepted it after the client gave up */
    OUTCOME_NEVER_ACCEPTED,   /* ... and the server never accepted it */
    OUTCOME_ERROR,
    OUTCOME_COUNT
};

/* Where the connection was when it ended. */
enum outcome_phase {
    PHASE_CONNECT,  /* SYN sent, handshake not complete */
    PHASE_GREETING, /* handshake complete, waiting for the server's byte */
};

/* Causes that are not errnos. */
#define OUTCOME_ERR_TIMER (-1)       /* qbench's own timer expired */
#define OUTCOME_ERR_EOF (-2)         /* orderly close before the greeting */
#define OUTCOME_ERR_INTERRUPTED (-3) /* still in flight when an interrupt ended the run */

/* Class of a connection that ended in phase with cause err (an errno, or
 * one of OUTCOME_ERR_*). err 0 in PHASE_GREETING means the greeting came.
 * A handshake without a greeting is OUTCOME_GREETING_TIMEOUT here; where
 * the server's side is known, story splits it into ACCEPTED_LATE and
 * NEVER_ACCEPTED after the run. */
enum outcome outcome_classify(enum outcome_phase phase, int err);

/* Counts kept per cause and per retransmit count (client tallies, server
 * stats) are indexed by these slots. */
#define OUTCOME_ERRNO_MAX 256 /* errnos 1..255 */
#define OUTCOME_PSEUDO 4      /* OUTCOME_ERR_* */
#define OUTCOME_ERR_SLOTS (OUTCOME_ERRNO_MAX + OUTCOME_PSEUDO)
#define OUTCOME_RETRANS_SLOTS 16 /* 0..14, and 15 or more */

/* Slot of an error cause (errno or OUTCOME_ERR_*), and back; 0 unknown. */
unsigned outcome_err_slot(int err);
int outcome_slot_err(unsigned slot);

/* Slot of a retransmit count (the last one holds the rest). */
unsigned outcome_retrans_slot(unsigned retransmits);

/* "established", "timeout" ... as used in results files. */
const char *outcome_name(enum outcome o);

/* A few words on what the class means, for plot legends. */
const char *outcome_meaning(enum outcome o);

/* Name of an error cause: "EADDRNOTAVAIL", "EOF", "INTERRUPTED", or "E<n>". */
const char *outcome_error_name(int err, char *buf, unsigned len);

#endif
