/* histogram: fixed-memory, mergeable, log-bucketed record of values in
 * microseconds (HdrHistogram-like).
 *
 * Values below 128 are exact; above, every power of two is split into 64
 * linear sub-buckets, so a reported percentile is within 1/128 (0.8%) of a
 * recorded value. Values up to 2^40 us (12 days) are kept; larger ones are
 * clamped into the top bucket. Memory is constant (about 18 KiB) whatever
 * the number of values. */
#ifndef QB_HISTOGRAM_H
#define QB_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_BUCKETS (128 + 34 * 64)

struct histogram {
    uint64_t count;
    uint64_t min;
    uint64_t max;
    uint64_t sum;
    uint64_t buckets[HISTOGRAM_BUCKETS];
};

void histogram_init(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t value);
/* Adds every value of src to dst. */
void histogram_merge(struct histogram *dst, const struct histogram *src);
/* The value at quantile q (0 < q <= 1), e.g. 0.99; 0 when empty. */
uint64_t histogram_quantile(const struct histogram *h, double q);
double histogram_mean(const struct histogram *h);

/* Bucket arithmetic, exposed for the tests. */
unsigned histogram_bucket_of(uint64_t value);
uint64_t histogram_bucket_low(unsigned bucket);
uint64_t histogram_bucket_high(unsigned bucket); /* inclusive */

#endif
