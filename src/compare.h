/* compare: a CI regression check between two results documents.
 *
 * Runs are matched by their params. For each matched run, outcome ratios
 * are compared in absolute percentage points (a ratio near zero makes
 * relative change meaningless) and latency percentiles in relative
 * percent, with an absolute floor below which a change is noise, and only
 * where both histograms hold enough samples for the percentile to mean
 * something (the p99 of five handshakes is their maximum). Pure but
 * for the table it prints to out. */
#ifndef QB_COMPARE_H
#define QB_COMPARE_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

struct compare_opts {
    double latency_pct;      /* a latency percentile may grow this much (%) */
    double latency_floor_us; /* ... and changes smaller than this never count */
    double ratio_pp;         /* an outcome ratio may worsen this many points */
    double min_samples;      /* a percentile of fewer samples (either side) is not judged */
};

void compare_default_opts(struct compare_opts *o);

enum compare_verdict {
    COMPARE_OK = 0,
    COMPARE_REGRESSION = 1,
    COMPARE_BAD_INPUT = 2,
};

/* Prints one line per metric and run to out. BAD_INPUT (with err) when no
 * run of current matches a run of baseline. A baseline run missing from
 * current is a regression: the gate lost coverage. */
enum compare_verdict compare_results(const json_t *baseline, const json_t *current,
                                     const struct compare_opts *o, FILE *out, char *err,
                                     size_t errlen);

#endif
