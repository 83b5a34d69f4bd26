#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "histogram.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The exact q-quantile: smallest value with at least q of the values <= it. */
static uint64_t exact_quantile(const uint64_t *sorted, size_t n, double q)
{
    size_t rank = (size_t)((q * (double)n) + 0.999999999);

    if (rank == 0)
        rank = 1;
    return sorted[rank - 1];
}

static void check_against_sort(uint64_t *values, size_t n)
{
    static const double qs[] = {0.5, 0.9, 0.99, 0.999, 1.0};
    struct histogram h;

    histogram_init(&h);
    for (size_t i = 0; i < n; i++)
        histogram_record(&h, values[i]);
    qsort(values, n, sizeof(*values), cmp_u64);
    assert_int_equal(h.count, n);
    assert_int_equal(h.min, values[0]);
    assert_int_equal(h.max, values[n - 1]);
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        uint64_t exact = exact_quantile(values, n, qs[i]);
        uint64_t got = histogram_quantile(&h, qs[i]);
        double rel = exact ? ((double)got - (double)exact) / (double)exact : (double)got;

        if (rel < 0)
            rel = -rel;
        /* 64 sub-buckets per octave: within 1/128 of a value of the same bucket */
        if (rel > 1.0 / 128 + 1e-9)
            fail_msg("q=%g exact %llu got %llu (rel err %g)", qs[i], (unsigned long long)exact,
                     (unsigned long long)got, rel);
    }
}

static void test_percentiles_match_exact_sort_uniform(void **state)
{
    size_t n = 100000;
    uint64_t *v = malloc(n * sizeof(*v));

    (void)state;
    srand(42);
    for (size_t i = 0; i < n; i++)
        v[i] = (uint64_t)rand() % 10000000;
    check_against_sort(v, n);
    free(v);
}

static void test_percentiles_match_exact_sort_heavy_tail(void **state)
{
    size_t n = 50000;
    uint64_t *v = malloc(n * sizeof(*v));

    (void)state;
    srand(7);
    /* loopback handshakes (tens of us) plus 1 s, 2 s ... SYN retransmit steps */
    for (size_t i = 0; i < n; i++) {
        uint64_t base = 20 + (uint64_t)rand() % 200;

        v[i] = rand() % 10 == 0 ? (uint64_t)(1 + rand() % 5) * 1000000 + base : base;
    }
    check_against_sort(v, n);
    free(v);
}

static void test_small_values_are_exact(void **state)
{
    struct histogram h;

    (void)state;
    histogram_init(&h);
    for (uint64_t i = 0; i < 128; i++)
        histogram_record(&h, i);
    assert_int_equal(histogram_quantile(&h, 0.5), 63);
    assert_int_equal(histogram_quantile(&h, 1.0), 127);
    for (unsigned b = 0; b < 128; b++) {
        assert_int_equal(histogram_bucket_low(b), b);
        assert_int_equal(histogram_bucket_high(b), b);
    }
}

static void test_buckets_tile_the_range(void **state)
{
    (void)state;
    /* every bucket starts right after the previous one ends, and values map back */
    for (unsigned b = 1; b < HISTOGRAM_BUCKETS; b++) {
        assert_int_equal(histogram_bucket_low(b), histogram_bucket_high(b - 1) + 1);
        assert_int_equal(histogram_bucket_of(histogram_bucket_low(b)), b);
        assert_int_equal(histogram_bucket_of(histogram_bucket_high(b)), b);
    }
    /* minutes in microseconds fit well below the top */
    assert_true(histogram_bucket_of(3600ULL * 1000000) < HISTOGRAM_BUCKETS - 1);
    assert_int_equal(histogram_bucket_of(UINT64_MAX), HISTOGRAM_BUCKETS - 1);
}

static void test_merge_equals_recording_everything(void **state)
{
    struct histogram a, b, all;

    (void)state;
    histogram_init(&a);
    histogram_init(&b);
    histogram_init(&all);
    for (uint64_t i = 0; i < 5000; i++) {
        uint64_t v = i * 37 % 100000;

        histogram_record(i % 2 ? &a : &b, v);
        histogram_record(&all, v);
    }
    histogram_merge(&a, &b);
    assert_int_equal(a.count, all.count);
    assert_int_equal(a.sum, all.sum);
    assert_int_equal(a.min, all.min);
    assert_int_equal(a.max, all.max);
    assert_memory_equal(a.buckets, all.buckets, sizeof(a.buckets));
}

static void test_empty_histogram_reports_zero(void **state)
{
    struct histogram h;

    (void)state;
    histogram_init(&h);
    assert_int_equal(histogram_quantile(&h, 0.99), 0);
    assert_true(histogram_mean(&h) == 0.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_match_exact_sort_uniform),
        cmocka_unit_test(test_percentiles_match_exact_sort_heavy_tail),
        cmocka_unit_test(test_small_values_are_exact),
        cmocka_unit_test(test_buckets_tile_the_range),
        cmocka_unit_test(test_merge_equals_recording_everything),
        cmocka_unit_test(test_empty_histogram_reports_zero),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
