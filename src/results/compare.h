/* compare: a CI regression gate between two results documents that knows
 * its own noise and says what it could not see.
 *
 * Runs are matched by their params, after checks that they are the same
 * experiment (no interrupted run, the same name and settings unless told
 * otherwise; another kernel or host, or a value filled in from the host
 * such as client.threads, is a warning). The metrics that gate (the
 * config's "gate" key, by default the metric table's compared rows) are
 * judged by the best evidence at hand:
 *   - 3 or more values in all (repeats): outcome ratios by a
 *     quasi-binomial test on the per-repeat counts, latency percentiles by
 *     a t-test on their logarithms (stats.h), a minimum effect size, and
 *     Holm's adjustment over every metric tested, so the chance of any
 *     false alarm stays at alpha. A metric constant on both sides is not
 *     tested. Each tested metric reports the smallest worsening it could
 *     have flagged; where no possible worsening could, the verdict is
 *     "cannot judge" with the repeats a side that would;
 *   - single runs on both sides: fixed thresholds (the options).
 * Percentiles of fewer than min_samples values are shown, not judged.
 * Output as text, JSON, Markdown (a CI job summary) or JUnit XML. */
#ifndef QB_COMPARE_H
#define QB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum compare_format { COMPARE_TEXT, COMPARE_JSON, COMPARE_MARKDOWN, COMPARE_JUNIT };

struct compare_opts {
    double latency_pct;      /* single runs: a latency percentile may grow this much (%) */
    double latency_floor_us; /* ... and changes smaller than this never count */
    double ratio_pp;         /* single runs: an outcome ratio may worsen this many points */
    double min_samples;      /* a percentile of fewer samples (either side) is not judged */
    double alpha;            /* repeats: family-wise false-alarm level (Holm) */
    double min_effect_pp;    /* repeats: smallest ratio change that counts (points) */
    double min_effect_pct;   /* repeats: smallest latency change that counts (%) */
    bool allow_different;    /* compare other names/settings anyway (warn, do not refuse) */
    const char *gate;        /* metrics that gate, comma-separated; NULL: the files' "gate" */
    enum compare_format format;
};

void compare_default_opts(struct compare_opts *o);

/* "text", "json", "markdown", "junit" -> format; -1 if none. */
int compare_format_of(const char *name);

enum compare_verdict {
    COMPARE_OK = 0,
    COMPARE_REGRESSION = 1,
    COMPARE_BAD_INPUT = 2,
    COMPARE_CANNOT_JUDGE = 3, /* exit 2 too: a gated metric no change could have flagged */
};

/* Writes the report to out (warnings also to warn, when not NULL).
 * BAD_INPUT (with err, nothing written to out) when the files are not the
 * same experiment. A baseline run missing from current is a regression:
 * the gate lost coverage. CANNOT_JUDGE (the report written, err saying
 * "cannot judge: ...; need N a side") when no regression was found and a
 * gated metric could not have been flagged by any change. */
enum compare_verdict compare_results(const json_t *baseline, const json_t *current,
                                     const struct compare_opts *o, FILE *out, FILE *warn, char *err,
                                     size_t errlen);

/* What a config's repeat count leaves the gate able to see, as a warning
 * for validate and run; "" when nothing to say. repeat 2 leaves Student's
 * t two degrees of freedom (a change must exceed some 15 standard errors
 * to be flagged); repeat 1 leaves compare fixed thresholds alone, which is
 * worth a word only when the config declares a gate. */
void compare_repeat_warning(unsigned repeat, const char *gate, double alpha, char *buf, size_t len);

#endif
