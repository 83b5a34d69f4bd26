/* expect: pass/fail bounds from the config, checked against every run of
 * a results document after the run. */
#ifndef QB_EXPECT_H
#define QB_EXPECT_H

#include <stdbool.h>

#include <jansson.h>

#include "config.h"

/* Evaluates cfg's bounds against each of runs[]. Returns the "expect" object:
 * {"<bound>": {"bound": b, "value": worst, "pass": bool,
 *              "runs": [{"params": {...}, "value": v, "pass": bool}]}}
 * and sets *all_pass. A metric a run does not have (e.g. accept latency
 * without a greeting) fails its bound, with value null. */
json_t *expect_evaluate(const struct config *cfg, const json_t *runs, bool *all_pass);

#endif
