/* stats: the statistics behind compare's verdicts. Pure.
 *
 * Two-sample tests for a CI gate with a few repeats a side:
 *   - stats_proportions: outcome counts, x of n attempts per repeat. A
 *     quasi-binomial test: the counts are binomial with a dispersion phi
 *     that the repeats estimate (Pearson chi-square over its degrees of
 *     freedom, both sides pooled), never below the half count an integer
 *     can hide; the Wald statistic of the difference of the pooled
 *     proportions, its variance taken under "no change", is referred to
 *     Student's t with phi's degrees of freedom (repeats - 2). With equal
 *     attempts per repeat this is Student's t-test on the per-repeat
 *     proportions, weighted by what each repeat attempted.
 *   - stats_log_t: a positive quantity per repeat (a latency percentile):
 *     Student's pooled t-test on logarithms, i.e. on ratios, with a floor
 *     on the spread (sd_floor, in log units).
 * Both report the smallest difference they could have flagged at a given
 * level (stats_t_critical times the standard error). Holm's step-down
 * adjustment controls the chance of any false alarm among m metrics. */
#ifndef QB_STATS_H
#define QB_STATS_H

#include <stdbool.h>
#include <stddef.h>

struct stats_test {
    double diff;   /* b minus a: proportions, or log ratio for stats_log_t */
    double se;     /* standard error of diff under "no change" */
    double df;     /* degrees of freedom of the spread: repeats - 2 */
    double t, p;   /* statistic and two-sided p */
    double spread; /* phi (proportions) or the pooled sd of the logs */
};

/* x[i] of n[i] attempts per repeat on each side. -1 when the spread has no
 * degree of freedom (fewer than 3 values in all), an n is not positive, or
 * no attempt succeeded or failed anywhere (p 0 or 1 on both sides: there
 * is nothing to test). */
int stats_proportions(const double *xa, const double *na, size_t ra, const double *xb,
                      const double *nb, size_t rb, struct stats_test *out);

/* The values must be positive (each is clamped to at least 1). -1 when
 * there are fewer than 3 values in all. */
int stats_log_t(const double *a, size_t na, const double *b, size_t nb, double sd_floor,
                struct stats_test *out);

/* Two-sided p of Student's t with df degrees of freedom (df > 0). */
double stats_t_p(double t, double df);

/* The |t| whose two-sided p is alpha (0 < alpha < 1, df > 0). */
double stats_t_critical(double alpha, double df);

/* Holm-adjusted p values (adjusted[i] for p[i]); monotone, at most 1. */
void stats_holm(const double *p, size_t m, double *adjusted);

/* The median of n values (sorted copy; n >= 1). */
double stats_median(const double *v, size_t n);

#endif
