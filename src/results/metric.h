/* metric: the one table of what a run is judged by. Each metric has a
 * name (as expect bounds, compare and the summary say it), where it lives
 * in a runs[] entry of a results file, its kind, which direction is worse,
 * and how many samples stand behind it. expect, compare, the summary line
 * and the config's expect validation all read this table; adding a metric
 * is one row (and a test that resolves it on a real run document).
 * Pure: reads JSON, knows nothing of the run side. */
#ifndef QB_METRIC_H
#define QB_METRIC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

enum metric_kind {
    METRIC_RATIO,   /* outcomes.<class> / outcomes.attempted, 0..1 */
    METRIC_COUNT,   /* outcomes.<class> */
    METRIC_LATENCY, /* latency_us.<hist>.<stat>, microseconds */
    METRIC_GAUGE,   /* a number at a path: accept_queue.max ... */
};

struct metric {
    const char *name; /* "connect_p99_us" */
    enum metric_kind kind;
    const char *where; /* the object: "outcomes", "latency_us.connect", "accept_queue" */
    const char *field; /* the member: "established", "p99", "max" */
    bool higher_is_worse;
    bool compared;       /* judged by `qbench compare` */
    const char *meaning; /* one line, for help and documentation */
};

/* All metrics, in display order. */
const struct metric *metric_table(size_t *n);

/* The row called name, or NULL. */
const struct metric *metric_find(const char *name);

/* Splits an expect bound "<metric>_min" / "<metric>_max" into its row and
 * direction; NULL when the suffix is missing or the metric unknown. */
const struct metric *metric_parse_bound(const char *bound, bool *is_max);

/* The metric's value in one runs[] entry; -1 when the run does not have it
 * (no accept latency without a greeting, a histogram of no samples). */
int metric_value(const json_t *run, const struct metric *m, double *value);

/* How many observations stand behind the value: a latency percentile's
 * histogram count, a ratio's attempts; 0 when unknown. */
double metric_samples(const json_t *run, const struct metric *m);

/* The gate: which metrics `qbench compare` judges, as a config's "gate"
 * key lists them ("established_ratio,accept_p99_us"). An empty or NULL
 * list is the default: the rows marked compared. Only ratios and latency
 * percentiles can gate (they have a test across repeats). */
bool metric_gates(const char *list, const struct metric *m);

/* 0 when every name in list is a metric that can gate; -1 with "unknown
 * metric 'x' (gateable: ...)" or "'x' cannot gate (...)" in err. */
int metric_check_gate(const char *list, char *err, size_t errlen);

/* The value as a person reads it: "17.52%", "3.06 s", "452 ms", "12"; "-"
 * when have is false. */
void metric_format(const struct metric *m, bool have, double value, char *buf, size_t len);

/* A duration in microseconds with 3 significant digits and a unit:
 * "812 us", "45.2 ms", "3.06 s". */
void metric_format_us(double us, char *buf, size_t len);

#endif
