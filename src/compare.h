/* compare: a CI regression gate between two results documents that knows
 * its own noise.
 *
 * Runs are matched by their params, after checks that they are the same
 * experiment (no interrupted run, the same name and settings unless told
 * otherwise; another kernel or host is a warning). Each metric the metric
 * table marks as compared is then judged by the best evidence at hand:
 *   - both sides with repeats (3 or more): a Mann-Whitney U test across the
 *     repeats, a minimum effect size, and Holm's adjustment over every
 *     metric tested, so the chance of any false alarm stays at alpha;
 *   - one side with repeats: the single run against the spread the other
 *     side recorded (beyond its worst repeat by more than half its range
 *     or the minimum effect);
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
    enum compare_format format;
};

void compare_default_opts(struct compare_opts *o);

/* "text", "json", "markdown", "junit" -> format; -1 if none. */
int compare_format_of(const char *name);

enum compare_verdict {
    COMPARE_OK = 0,
    COMPARE_REGRESSION = 1,
    COMPARE_BAD_INPUT = 2,
};

/* Writes the report to out (warnings also to warn, when not NULL).
 * BAD_INPUT (with err, nothing written to out) when the files are not the
 * same experiment. A baseline run missing from current is a regression:
 * the gate lost coverage. */
enum compare_verdict compare_results(const json_t *baseline, const json_t *current,
                                     const struct compare_opts *o, FILE *out, FILE *warn,
                                     char *err, size_t errlen);

#endif
