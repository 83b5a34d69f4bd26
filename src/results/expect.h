/* expect: pass/fail bounds from the config, checked against every run of
 * a results document after the run. */
#ifndef QB_EXPECT_H
#define QB_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* One bound of the config's expect: a metric name with _min or _max. */
struct expect_bound {
    char name[64]; /* "established_ratio_min" */
    double bound;
};

/* Evaluates the n bounds against each of runs[]. Returns the "expect" object:
 * {"<bound>": {"bound": b, "value": worst, "pass": bool,
 *              "runs": [{"params": {...}, "value": v, "pass": bool,
 *                        "unfinished": "interrupted"|"incomplete" (if so)}]}}
 * and sets *all_pass. A metric a run does not have (e.g. accept latency
 * without a greeting) fails its bound, with value null. A run that did not
 * finish (interrupted, or marked incomplete) fails every bound: its counts
 * are partial, so it is not judged to pass. */
json_t *expect_evaluate(const struct expect_bound *bounds, size_t n, const json_t *runs,
                        bool *all_pass);

/* One line per failed bound, naming it with the worst value, the limit and
 * the points that failed ("expect established_ratio_min failed:
 * established_ratio 12.30% < 50.00%; point 2 (server.backlog=4): 12.30%"),
 * or "not judged" when only unfinished points failed it; written to out;
 * returns how many failed. */
size_t expect_print_failures(const json_t *expect, FILE *out);

/* A run whose attempts failed on qbench's own machine (outcome error:
 * EMFILE, EADDRNOTAVAIL ..., not counting those an interrupt caught) for
 * more than this fraction measured the client, not the server. */
#define EXPECT_LOCAL_ERROR_MAX 0.10

/* Writes a line to out for every run past EXPECT_LOCAL_ERROR_MAX, naming
 * the point, the errors and the fix; returns how many. A bound on
 * error_ratio in the config (expect.error_ratio_max) replaces this check:
 * it is how a user accepts such runs. */
size_t expect_local_errors(const struct expect_bound *bounds, size_t n, const json_t *runs,
                           FILE *out);

#endif
