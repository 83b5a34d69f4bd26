/* stats: Mann-Whitney U and Holm against known values. The exact p values
 * come from enumerating every split of the pooled ranks (the definition of
 * the exact test) in an independent script; for samples without ties they
 * equal the textbook/scipy exact values (e.g. 2/252 for 5 vs 5 fully
 * separated). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "stats.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void test_fully_separated_samples(void **state)
{
    const double x[] = {1, 2, 3, 4, 5}, y[] = {6, 7, 8, 9, 10};
    struct mwu r;

    (void)state;
    assert_int_equal(stats_mann_whitney(x, 5, y, 5, &r), 0);
    NEAR(r.u, 0);
    NEAR(r.p, 2.0 / 252.0);
    assert_true(r.exact);
    /* symmetric: the other way round, U = nx * ny - U */
    assert_int_equal(stats_mann_whitney(y, 5, x, 5, &r), 0);
    NEAR(r.u, 25);
    NEAR(r.p, 2.0 / 252.0);
}

static void test_ties_use_midranks(void **state)
{
    const double a[] = {1.1, 2.2, 3.3, 4.4}, b[] = {0.5, 2.2, 5.5, 6.6, 7.7};
    const double c[] = {1, 2, 2, 3}, d[] = {2, 3, 4, 5};
    const double same[] = {5, 5, 5};
    struct mwu r;

    (void)state;
    assert_int_equal(stats_mann_whitney(a, 4, b, 5, &r), 0);
    NEAR(r.u, 6.5);
    NEAR(r.p, 0.4444444444444444);
    assert_int_equal(stats_mann_whitney(c, 4, d, 4, &r), 0);
    NEAR(r.u, 2.5);
    NEAR(r.p, 0.2);
    assert_int_equal(stats_mann_whitney(same, 3, same, 3, &r), 0);
    NEAR(r.u, 4.5);
    NEAR(r.p, 1.0);
}

/* The case the CI gate exists for: a 20% slower acceptor moved the
 * established ratio from 17.5-17.6% to 15.7-16.0% in every repeat. */
static void test_seven_repeats_separate_a_small_change(void **state)
{
    const double base[] = {0.175, 0.176, 0.175, 0.176, 0.175, 0.176, 0.175};
    const double slower[] = {0.157, 0.16, 0.158, 0.159, 0.157, 0.16, 0.158};
    struct mwu r;

    (void)state;
    assert_int_equal(stats_mann_whitney(base, 7, slower, 7, &r), 0);
    NEAR(r.u, 49);
    NEAR(r.p, 0.0005827505827505828);
}

static void test_large_samples_use_the_normal_approximation(void **state)
{
    double x[30], y[30];
    struct mwu r;

    (void)state;
    for (int i = 0; i < 30; i++) {
        x[i] = i;
        y[i] = 15 + i;
    }
    assert_int_equal(stats_mann_whitney(x, 30, y, 30, &r), 0);
    assert_false(r.exact);
    NEAR(r.u, 112.5);
    assert_true(fabs(r.p - 6.247984928789204e-07) < 1e-12);
}

static void test_one_value_on_a_side(void **state)
{
    const double one[] = {3}, many[] = {1, 2, 4, 5};
    struct mwu r;

    (void)state;
    assert_int_equal(stats_mann_whitney(one, 1, many, 4, &r), 0);
    NEAR(r.u, 2);
    NEAR(r.p, 1.0); /* the middle of five: as central as it gets */
    assert_int_equal(stats_mann_whitney(one, 0, many, 4, &r), -1);
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
        cmocka_unit_test(test_fully_separated_samples),
        cmocka_unit_test(test_ties_use_midranks),
        cmocka_unit_test(test_seven_repeats_separate_a_small_change),
        cmocka_unit_test(test_large_samples_use_the_normal_approximation),
        cmocka_unit_test(test_one_value_on_a_side),
        cmocka_unit_test(test_holm_adjusts_step_down),
        cmocka_unit_test(test_median),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
