#include "histogram.h"

#include <math.h>
#include <string.h>

#define SUB_BITS 7
#define SUB_COUNT (1u << SUB_BITS) /* 128 exact values */
#define HALF_COUNT (SUB_COUNT / 2) /* 64 sub-buckets per octave above */

void histogram_init(struct histogram *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned histogram_bucket_of(uint64_t value)
{
    unsigned msb, shift, idx;

    if (value < SUB_COUNT)
        return (unsigned)value;
    msb = 63u - (unsigned)__builtin_clzll(value);
    shift = msb - (SUB_BITS - 1); /* value >> shift lies in [64, 127] */
    idx = SUB_COUNT + (shift - 1) * HALF_COUNT + (unsigned)((value >> shift) - HALF_COUNT);
    return idx < HISTOGRAM_BUCKETS ? idx : HISTOGRAM_BUCKETS - 1;
}

uint64_t histogram_bucket_low(unsigned bucket)
{
    unsigned shift;

    if (bucket < SUB_COUNT)
        return bucket;
    shift = (bucket - SUB_COUNT) / HALF_COUNT + 1;
    return (uint64_t)(HALF_COUNT + (bucket - SUB_COUNT) % HALF_COUNT) << shift;
}

uint64_t histogram_bucket_high(unsigned bucket)
{
    unsigned shift;

    if (bucket < SUB_COUNT)
        return bucket;
    shift = (bucket - SUB_COUNT) / HALF_COUNT + 1;
    return histogram_bucket_low(bucket) + ((uint64_t)1 << shift) - 1;
}

void histogram_record(struct histogram *h, uint64_t value)
{
    h->buckets[histogram_bucket_of(value)]++;
    h->count++;
    h->sum += value;
    if (value < h->min)
        h->min = value;
    if (value > h->max)
        h->max = value;
}

void histogram_merge(struct histogram *dst, const struct histogram *src)
{
    if (src->count == 0)
        return;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++)
        dst->buckets[i] += src->buckets[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t histogram_quantile(const struct histogram *h, double q)
{
    uint64_t rank, seen = 0, mid;

    if (h->count == 0)
        return 0;
    if (q >= 1.0)
        return h->max;
    /* The smallest value such that at least q of all values are <= it. */
    rank = (uint64_t)ceil(q * (double)h->count);
    if (rank == 0)
        rank = 1;
    for (unsigned i = 0; i < HISTOGRAM_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t lo = histogram_bucket_low(i), hi = histogram_bucket_high(i);

            /* The bucket's midpoint, but never outside what was recorded. */
            mid = lo + (hi - lo) / 2;
            if (mid < h->min)
                mid = h->min;
            if (mid > h->max)
                mid = h->max;
            return mid;
        }
    }
    return h->max;
}

double histogram_mean(const struct histogram *h)
{
    return h->count ? (double)h->sum / (double)h->count : 0.0;
}
