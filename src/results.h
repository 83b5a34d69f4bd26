/* results: the JSON results document (schema "qbench-result/1"): building
 * it from what a run point produced, writing it atomically (temporary file
 * beside the target, fsync, rename), loading it back, and reading metrics
 * out of a run (shared by expect, compare and plot). */
#ifndef QB_RESULTS_H
#define QB_RESULTS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"
#include "kstats.h"
#include "server.h"
#include "tally.h"

#define RESULTS_SCHEMA "qbench-result/1"

/* What one run point produced; the runner fills it. */
struct run_data {
    const struct config *cfg;
    const json_t *params;
    json_t *sysctl;              /* read back from the namespace (owned) */
    struct tally tally;          /* merged over client threads */
    bool has_server;
    struct server_stats server;
    struct kstats before, after;
    struct queue_series queue;
    unsigned queue_limit;        /* sum over listeners */
    unsigned listeners;
    unsigned client_threads;
    uint64_t unstarted;          /* due connects never started (generator behind) */
    long peak_rss_kb;            /* qbench's own peak RSS so far */
    bool interrupted;
};

/* One entry of runs[]. */
json_t *results_run_json(const struct run_data *rd);

/* {count, min, mean, p50, p90, p99, p999, max} */
json_t *results_histogram_json(const struct histogram *h);

/* The whole document around runs (stolen) and expect (stolen, may be NULL). */
json_t *results_document(const json_t *effective_config, json_t *runs, json_t *expect,
                         const char *started_at, bool interrupted);

/* Writes doc to path through safefile: whole or not at all, replacing only
 * a regular file; missing parent directories are created. Check the path
 * with safefile_check before the run. */
int results_write(const json_t *doc, const char *path, char *err, size_t errlen);

/* Loads and checks a results file (schema, runs[]). */
json_t *results_load(const char *path, char *err, size_t errlen);

/* The checks of results_load on a parsed document; source names it in err. */
int results_check(const json_t *doc, const char *source, char *err, size_t errlen);

/* A metric of one run: "established_ratio", "timeout", "connect_p99_us",
 * "accept_queue_max" ... (the names expect bounds use). -1 if unknown or
 * missing (e.g. no accept latency without a greeting). */
int results_metric(const json_t *run, const char *metric, double *value);

#endif
