/* histjson: a histogram as it appears in a results file, and back.
 *
 *   {"count", "min", "mean", "p50", "p90", "p95", "p99", "p999", "max",
 *    "sum", "buckets": [[index, count], ...]}
 *
 * The percentiles are for readers; "buckets" makes the histogram lossless:
 * the non-empty buckets of histogram.h's layout, sparse, in index order
 * (index i < 128 holds exactly the value i microseconds; above, index
 * 128 + 64 (k - 1) + j holds [(64 + j) << k, ((65 + j) << k) - 1]). Two
 * results merge exactly by adding bucket counts, and every percentile is
 * recomputed from the sum, never averaged. */
#ifndef QB_HISTJSON_H
#define QB_HISTJSON_H

#include <jansson.h>

#include "histogram.h"

json_t *histogram_to_json(const struct histogram *h);

/* Rebuilds h from its JSON; -1 if it carries no usable "buckets" (older
 * files) or the buckets disagree with its count. */
int histogram_from_json(const json_t *j, struct histogram *h);

#endif
