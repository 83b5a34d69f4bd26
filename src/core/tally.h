/* tally: everything one client thread counts during a run point, merged
 * across threads at the end. Memory is fixed but for the timeline, which
 * grows with the run's duration (one row per interval), never with the
 * number of connections. */
#ifndef QB_TALLY_H
#define QB_TALLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"
#include "outcome.h"

struct timeline_row {
    uint64_t attempted;
    uint64_t established;
    uint64_t failed;
    uint32_t by_class[OUTCOME_COUNT]; /* every outcome, by class */
};

struct timeline {
    uint64_t start_ns;
    uint64_t interval_ns;
    size_t len;
    size_t cap;
    struct timeline_row *rows;
};

struct tally {
    uint64_t outcomes[OUTCOME_COUNT];
    uint64_t errors[OUTCOME_ERR_SLOTS];
    uint64_t retrans[OUTCOME_RETRANS_SLOTS];        /* SYN retransmits of completed handshakes */
    uint64_t retrans_failed[OUTCOME_RETRANS_SLOTS]; /* ... of handshakes that failed */
    struct histogram connect_us;                    /* due -> handshake complete */
    struct histogram late_by_us;                    /* accepted_late: give-up -> accept */
    struct histogram accept_us;                     /* due -> greeting read */
    struct histogram lag_us;                        /* due -> connect() called */
    /* due -> the moment the client knew, per final class (outcomes with a
     * tracked give-up are added when their class is known, tally_class_us) */
    struct histogram class_us[OUTCOME_COUNT];
    /* connect_us split by the SYN retransmits the handshake needed: shows
     * that k retransmits cost k seconds (linear timeouts) or 2^k-1 */
    struct histogram connect_by_retrans[OUTCOME_RETRANS_SLOTS];
    uint64_t first_ns; /* first connect() */
    uint64_t last_ns;  /* last outcome */
    struct timeline timeline;
};

/* expected_ns sizes the timeline up front (0: grow as needed). */
int tally_init(struct tally *t, uint64_t start_ns, uint64_t interval_ns, uint64_t expected_ns);
void tally_destroy(struct tally *t);

void tally_attempt(struct tally *t, uint64_t now_ns);
/* Records one finished connection; err as for outcome_classify (errors only). */
void tally_outcome(struct tally *t, enum outcome o, int err, uint64_t now_ns);
/* Counts one connection's SYN retransmits; failed: its handshake never completed. */
void tally_retrans(struct tally *t, unsigned retransmits, bool failed);
/* Records a completed handshake: its latency and the retransmits it took. */
void tally_handshake(struct tally *t, uint64_t latency_us, unsigned retransmits);
uint64_t tally_attempted(const struct tally *t);

/* Moves one outcome counted at at_ns from class from to class to, in the
 * totals and in the timeline row of at_ns (story splits greeting_timeout
 * after the run). */
void tally_reclass(struct tally *t, uint64_t at_ns, enum outcome from, enum outcome to);

/* Adds src into dst. Returns -1 if memory ran out. */
int tally_merge(struct tally *dst, const struct tally *src);

#endif
