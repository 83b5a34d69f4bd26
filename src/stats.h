/* stats: the statistics behind compare's verdicts. Pure.
 *
 * Mann-Whitney U (Wilcoxon rank-sum), two-sided: ranks with midranks for
 * ties; the p value is exact, by enumerating every way of splitting the
 * pooled values into the two sample sizes (at most 200,000 splits, e.g.
 * 10 + 10), and otherwise from the normal approximation with the tie
 * correction and a continuity correction. Holm's step-down adjustment
 * controls the chance of any false alarm among the m metrics tested at
 * once. */
#ifndef QB_STATS_H
#define QB_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct mwu {
    double u;      /* U of the first sample: pairs (x, y) with x > y, ties counting 1/2 */
    double p;      /* two-sided */
    bool exact;    /* p from enumeration, not the normal approximation */
};

/* -1 if either sample is empty or too large (over 10,000 values). */
int stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, struct mwu *out);

/* Holm-adjusted p values (adjusted[i] for p[i]); monotone, at most 1. */
void stats_holm(const double *p, size_t m, double *adjusted);

/* The median of n values (sorted copy; n >= 1). */
double stats_median(const double *v, size_t n);

#endif
