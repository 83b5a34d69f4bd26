/* client: one thread's share of the open-loop connection generator.
 *
 * Each client thread runs its own libev loop and owns one stream of the
 * schedule (see schedule.h), a connection pool sized up front (no
 * allocation per connect) and its own tally; the runner merges the tallies
 * when the threads are done. A timerfd with an absolute deadline wakes the
 * loop when the next connect is due, so the schedule neither drifts nor
 * inherits the millisecond rounding of epoll timeouts. */
#ifndef QB_CLIENT_H
#define QB_CLIENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "records.h"
#include "story.h"
#include "tally.h"

struct client;

struct client_progress {
    uint64_t started;
    uint64_t established;
    uint64_t failed;
};

/* The connection pool needed for cfg's rate and timeouts, per thread,
 * before any open-file limit is applied. */
uint64_t client_pool_needed(const struct config *cfg, unsigned nthreads);

#define CLIENT_RECORDS_BUFFER 4096

struct client_setup {
    const struct sockaddr_storage *dst;
    socklen_t dstlen;
    unsigned stream, nstreams; /* this thread's share of the schedule */
    uint64_t start_ns;         /* the schedule's origin */
    uint64_t pool;             /* connections in flight at once (when all are busy, a
                                * due connect is counted as error EMFILE) */
    bool track_gave_up;        /* remember connections that gave up on the greeting */
    int records_fd;            /* stream a client_record per attempt here; -1: none */
    /* the source range to bind from: addresses source_base with its last
     * 32 bits (host order) from source_first on, source_count of them
     * (0: none). IPv4 or IPv6, as the destination. */
    uint32_t source_first;
    uint32_t source_count;
    const struct sockaddr_storage *source_base;
};

struct client *client_new(const struct config *cfg, const struct client_setup *cs, char *err,
                          size_t errlen);
int client_start(struct client *c, char *err, size_t errlen);

/* Thread-safe: stop scheduling, give in-flight connections one second, then
 * count what is left as error INTERRUPTED. */
void client_interrupt(struct client *c);

/* Thread-safe: true once every scheduled connection has an outcome. */
bool client_done(const struct client *c);
void client_progress(const struct client *c, struct client_progress *p);

/* Waits for the thread; afterwards the tally is final. */
void client_join(struct client *c);
const struct tally *client_tally(const struct client *c);
/* After join: connects that were due but never started (see schedule.h). */
uint64_t client_unstarted(const struct client *c);

/* After join: the connections that gave up waiting for the greeting
 * (*complete false if some could not be remembered for want of memory). */
struct story_gave_up *client_gave_up(struct client *c, size_t *n, bool *complete);

/* After join: the errno of a failed records write, 0 if none. */
int client_records_error(const struct client *c);

void client_free(struct client *c);

#endif
