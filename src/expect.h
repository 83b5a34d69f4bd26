/* expect: pass/fail bounds from the config, checked against every run of
 * a results document after the run. */
#ifndef QB_EXPECT_H
#define QB_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "config.h"

/* Evaluates the n bounds against each of runs[]. Returns the "expect" object:
 * {"<bound>": {"bound": b, "value": worst, "pass": bool,
 *              "runs": [{"params": {...}, "value": v, "pass": bool}]}}
 * and sets *all_pass. A metric a run does not have (e.g. accept latency
 * without a greeting) fails its bound, with value null. */
json_t *expect_evaluate(const struct config_expect *bounds, size_t n, const json_t *runs,
                        bool *all_pass);

/* One line per failed bound, naming it with the worst value and the limit
 * ("established_ratio_min: 12.30% < 50.00% (run {\"server.backlog\": 4})"),
 * written to out; returns how many failed. */
size_t expect_print_failures(const json_t *expect, FILE *out);

#endif
