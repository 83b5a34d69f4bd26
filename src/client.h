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

/* stream/nstreams: this thread's share; pool: connections in flight at once
 * (when all are busy, a due connect is counted as error EMFILE). */
struct client *client_new(const struct config *cfg, const struct sockaddr_storage *dst,
                          socklen_t dstlen, unsigned stream, unsigned nstreams, uint64_t start_ns,
                          uint64_t pool, char *err, size_t errlen);
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

void client_free(struct client *c);

#endif
