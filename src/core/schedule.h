/* schedule: open-loop pacing arithmetic. Pure: the caller passes the time.
 *
 * Connection g of the whole run is due at start + g / rate. With several
 * client threads, stream i of n owns g = i, i+n, i+2n ..., so the streams
 * interleave into one even sequence instead of n bursts. A due time never
 * depends on when earlier connects actually left: a generator that falls
 * behind catches up instead of silently lowering the rate, and latency is
 * measured from the due time, so a stall cannot hide. */
#ifndef QB_SCHEDULE_H
#define QB_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define SCHEDULE_UNLIMITED UINT64_MAX

struct schedule {
    uint64_t start_ns;
    double rate;     /* connects per second, whole run */
    unsigned stream; /* this stream's index */
    unsigned nstreams;
    uint64_t next;   /* this stream's next local index */
    uint64_t limit;  /* this stream's number of connects, or SCHEDULE_UNLIMITED */
    uint64_t end_ns; /* nothing is due at or after this, or SCHEDULE_UNLIMITED */
    bool stopped;
};

/* total: connects in the whole run (SCHEDULE_UNLIMITED for none);
 * duration_ns: 0 for no time bound. */
void schedule_init(struct schedule *s, double rate, unsigned stream, unsigned nstreams,
                   uint64_t total, uint64_t duration_ns, uint64_t start_ns);

/* Due time of this stream's k-th connect. */
uint64_t schedule_due_ns(const struct schedule *s, uint64_t k);

/* If the next connect is due at or before now, stores its due time,
 * advances and returns true. */
bool schedule_take(struct schedule *s, uint64_t now_ns, uint64_t *due_ns);

/* True when no connect will ever be due again. */
bool schedule_finished(const struct schedule *s);

/* Nanoseconds from now until the next connect is due (0 if overdue). */
uint64_t schedule_wait_ns(const struct schedule *s, uint64_t now_ns);

/* Stops the schedule early (interrupt). */
void schedule_stop(struct schedule *s);

/* Ends a duration-bound schedule once now is SCHEDULE_EXPIRE_SLACK_NS past
 * its end: a generator that fell far behind does not keep starting connects
 * that were due before the end, while one that is merely a timer tick late
 * still starts the last one. */
#define SCHEDULE_EXPIRE_SLACK_NS 10000000ULL
void schedule_expire(struct schedule *s, uint64_t now_ns);

/* Connects that were due (within the bounds) but never started, because
 * the schedule was stopped or expired while behind. */
uint64_t schedule_unstarted(const struct schedule *s);

#endif
