/* stats: Student's t against printed tables, the count and log tests
 * against hand-computed t-tests, Holm against known values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "stats.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* Student's t against printed tables and the closed form at df 1. */
static void test_t_distribution_matches_the_tables(void **state)
{
    (void)state;
    assert_true(fabs(stats_t_p(2.776445, 4) - 0.05) < 1e-5);
    assert_true(fabs(stats_t_p(2.228139, 10) - 0.05) < 1e-5);
    assert_true(fabs(stats_t_p(9.924843, 2) - 0.01) < 1e-6);
    assert_true(fabs(stats_t_p(-3.0, 1) - (1 - 2 / M_PI * atan(3.0))) < 1e-9);
    assert_true(fabs(stats_t_p(0, 7) - 1.0) < 1e-12);
    assert_true(fabs(stats_t_critical(0.05, 4) - 2.776445) < 1e-4);
    assert_true(fabs(stats_t_critical(0.01, 2) - 9.924843) < 1e-4);
    assert_true(fabs(stats_t_critical(0.05, 1e6) - 1.959964) < 1e-4);
}

/* With equal attempts per repeat the quasi-binomial test is Student's
 * t-test on the per-repeat proportions (the variance taken at the pooled
 * proportion): 78, 79, 80 of 300 against 66, 67, 68 is t = 12/sqrt(2/3)
 * = 14.7 on 4 degrees of freedom. */
static void test_proportions_are_a_t_test_on_repeats(void **state)
{
    const double xa[] = {78, 79, 80}, xb[] = {66, 67, 68}, n[] = {300, 300, 300};
    struct stats_test t;

    (void)state;
    assert_int_equal(stats_proportions(xa, n, 3, xb, n, 3, &t), 0);
    assert_true(fabs(t.df - 4) < 1e-12);
    assert_true(fabs(t.diff - (-12.0 / 300)) < 1e-12);
    /* Student's t is -14.70; the binomial variance at each side's own
     * proportion (phi) against the pooled one moves it by 0.04 */
    assert_true(fabs(t.t - (-12.0 / sqrt(2.0 / 3.0))) < 0.1);
    assert_true(t.p < 0.001);
    assert_true(t.spread < 0.05); /* paced: far less spread than coin flips */
}

/* The same counts on both sides are no evidence; counts that never move
 * still leave half a count of doubt; all-or-nothing is not testable. */
static void test_proportions_edge_cases(void **state)
{
    const double x[] = {78, 79, 80}, same[] = {79, 79, 79}, one_more[] = {80, 80, 80};
    const double n[] = {300, 300, 300}, zero[] = {0, 0, 0};
    struct stats_test t;

    (void)state;
    assert_int_equal(stats_proportions(x, n, 3, x, n, 3, &t), 0);
    assert_true(fabs(t.p - 1.0) < 1e-9);
    assert_int_equal(stats_proportions(same, n, 3, one_more, n, 3, &t), 0);
    assert_true(t.p > 0.05);
    assert_int_equal(stats_proportions(zero, n, 3, zero, n, 3, &t), -1);
    assert_int_equal(stats_proportions(n, n, 3, n, n, 3, &t), -1);
    assert_int_equal(stats_proportions(x, n, 1, x, n, 1, &t), -1); /* no degree of freedom */
    assert_int_equal(stats_proportions(x, n, 1, x, n, 2, &t), 0);
    assert_true(fabs(t.df - 1) < 1e-12);
}

/* Latency percentiles: a t-test on logarithms, i.e. on ratios. */
static void test_log_t_judges_ratios(void **state)
{
    const double a[] = {450, 455, 448, 460, 452}, b[] = {545, 540, 550, 548, 539};
    const double c[] = {900, 910, 896, 920, 904};
    struct stats_test t1, t2;

    (void)state;
    assert_int_equal(stats_log_t(a, 5, b, 5, 0.01, &t1), 0);
    assert_true(t1.p < 1e-6);
    assert_true(fabs(exp(t1.diff) - 544.4 / 453.0) < 0.01);
    /* doubling every value moves the log mean by ln 2, and no spread */
    assert_int_equal(stats_log_t(a, 5, c, 5, 0.01, &t2), 0);
    assert_true(fabs(t2.diff - log(2.0)) < 1e-9);
    assert_true(fabs(t2.spread - t1.spread) < 0.01);
    assert_int_equal(stats_log_t(a, 1, c, 1, 0.01, &t2), -1);
}

static void test_holm_adjusts_step_down(void **state)
{
    const double p[] = {0.01, 0.04, 0.03, 0.005};
    double adj[4];

    (void)state;
    stats_holm(p, 4, adj);
    NEAR(adj[0], 0.03);
    NEAR(adj[1], 0.06);
    NEAR(adj[2], 0.06);
    NEAR(adj[3], 0.02);
    {
        const double big[] = {0.5, 0.9};

        stats_holm(big, 2, adj);
        NEAR(adj[0], 1.0);
        NEAR(adj[1], 1.0);
    }
}

static void test_median(void **state)
{
    const double odd[] = {3, 1, 2}, even[] = {4, 1, 3, 2};

    (void)state;
    NEAR(stats_median(odd, 3), 2);
    NEAR(stats_median(even, 4), 2.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t_distribution_matches_the_tables),
        cmocka_unit_test(test_proportions_are_a_t_test_on_repeats),
        cmocka_unit_test(test_proportions_edge_cases),
        cmocka_unit_test(test_log_t_judges_ratios),
        cmocka_unit_test(test_holm_adjusts_step_down),
        cmocka_unit_test(test_median),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
