/* runner: one run point from start to finish. Makes the private namespace
 * and writes its sysctls, starts the server and the client threads,
 * samples the accept queue and prints progress while they run, reads the
 * kernel's counters before and after, and turns it all into one runs[]
 * entry. The namespace dies with the point: nothing leaks into the next. */
#ifndef QB_RUNNER_H
#define QB_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"

struct records;
struct shard;

struct runner_opts {
    bool quiet;
    unsigned point; /* 1-based, for progress */
    unsigned npoints;
    struct records *records; /* the per-connection file, or NULL */
    unsigned repeat;         /* 1-based, for progress */
    unsigned nrepeats;
    const struct shard *shard; /* this process's part of a sharded run, or NULL */
    bool start_at;             /* this run starts at the shard's wall-clock instant */
};

/* The sharded run's checks before anything runs (a source range too small
 * to split, a start instant already past). */
int runner_check_shard(const struct config *cfg, const struct shard *shard, char *err,
                       size_t errlen);

/* Before any point runs: -1 and the cause (naming the limit and the
 * command that raises it) when the open-file limit is too low to run cfg
 * at all, so libev and the namespace never fail half-way. */
int runner_check_fds(const struct config *cfg, char *err, size_t errlen);

/* The longest a point of cfg can take beyond its schedule and its last
 * connections' timeouts, in seconds: the user's server's start
 * (ready_timeout_ms) and stop (3 s), watching connections the client gave
 * up on, and the drain of an accept queue a slow server still empties.
 * For validate's estimate, which must hold. */
double runner_overhead_max_s(const struct config *cfg);

/* Returns 0 and the run's JSON in *run (interrupted set if a signal cut
 * it short), or -1 when the environment refused (namespace, sysctl,
 * bind ...) with the cause in err. When only the per-connection file
 * failed (a full disk), the run is still returned, with the cause in its
 * "connections_error": the caller drops that file and keeps the run. */
int runner_run_point(const struct config *cfg, const json_t *params, const struct runner_opts *opts,
                     json_t **run, bool *interrupted, char *err, size_t errlen);

#endif
