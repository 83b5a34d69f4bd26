/* merge: repeats and shards combined exactly, from results documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "histjson.h"
#include "merge.h"

static json_t *run_with(uint64_t base, uint64_t n, long long established)
{
    struct histogram h;
    json_t *run;

    histogram_init(&h);
    for (uint64_t i = 0; i < n; i++)
        histogram_record(&h, base + i * 37);
    run = json_pack("{s:{}, s:{s:I, s:I, s:I}, s:{s:o, s:o}, s:{s:i}, s:[[i,i,i,i]],"
                    " s:{s:i, s:i}, s:o, s:i}",
                    "params", "outcomes", "attempted", (json_int_t)(established + 3), "established",
                    (json_int_t)established, "timeout", (json_int_t)3, "latency_us", "connect",
                    histogram_to_json(&h), "accept", histogram_to_json(&h), "kernel",
                    "ListenOverflows", 7, "timeline", 0, 5, 4, 1, "accept_queue", "limit", 8, "max",
                    9, "schedule_lag_us", histogram_to_json(&h), "elapsed_ms", 1000);
    return run;
}

static long long at(const json_t *o, const char *a, const char *b)
{
    return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static void test_merge_of_one_is_itself(void **state)
{
    json_t *a = run_with(100, 500, 40), *m;
    char err[ERRBUF_LEN];

    (void)state;
    m = merge_runs(&a, 1, err, sizeof(err));
    assert_non_null(m);
    assert_true(json_equal(json_object_get(m, "outcomes"), json_object_get(a, "outcomes")));
    assert_true(json_equal(json_object_get(m, "latency_us"), json_object_get(a, "latency_us")));
    assert_true(json_equal(json_object_get(m, "kernel"), json_object_get(a, "kernel")));
    json_decref(m);
    json_decref(a);
}

static void test_merge_of_a_twice_doubles_counts_and_keeps_percentiles(void **state)
{
    json_t *a = run_with(100, 500, 40), *two[2], *m;
    const json_t *hc, *ha;
    char err[ERRBUF_LEN];

    (void)state;
    two[0] = two[1] = a;
    m = merge_runs(two, 2, err, sizeof(err));
    assert_non_null(m);
    assert_int_equal(at(m, "outcomes", "established"), 80);
    assert_int_equal(at(m, "outcomes", "attempted"), 86);
    assert_int_equal(at(m, "kernel", "ListenOverflows"), 14);
    hc = json_object_get(json_object_get(m, "latency_us"), "connect");
    ha = json_object_get(json_object_get(a, "latency_us"), "connect");
    assert_int_equal(json_integer_value(json_object_get(hc, "count")), 1000);
    for (const char *const *p =
             (const char *const[]){"p50", "p90", "p99", "p999", "max", "min", NULL};
         *p; p++)
        assert_int_equal(json_integer_value(json_object_get(hc, *p)),
                         json_integer_value(json_object_get(ha, *p)));
    assert_int_equal(
        json_integer_value(json_array_get(json_array_get(json_object_get(m, "timeline"), 0), 1)),
        10);
    json_decref(m);
    json_decref(a);
}

/* Percentiles are recomputed from merged buckets, never averaged: two
 * runs far apart give the p50 of the whole, not a mean of medians. */
static void test_percentiles_come_from_merged_buckets(void **state)
{
    json_t *runs[2] = {run_with(100, 100, 10), run_with(100000, 300, 10)}, *m;
    char err[ERRBUF_LEN];
    json_int_t p50;

    (void)state;
    m = merge_runs(runs, 2, err, sizeof(err));
    assert_non_null(m);
    p50 = json_integer_value(
        json_object_get(json_object_get(json_object_get(m, "latency_us"), "connect"), "p50"));
    assert_true(p50 >= 100000); /* 300 of the 400 values are the second run's */
    json_decref(m);
    json_decref(runs[0]);
    json_decref(runs[1]);
}

static void test_runs_without_buckets_are_refused(void **state)
{
    json_t *a = run_with(100, 10, 1), *m;
    char err[ERRBUF_LEN];

    (void)state;
    json_object_del(json_object_get(json_object_get(a, "latency_us"), "connect"), "buckets");
    m = merge_runs(&a, 1, err, sizeof(err));
    assert_null(m);
    assert_non_null(strstr(err, "no histogram buckets"));
    json_decref(a);
}

static void test_spread_has_median_min_max(void **state)
{
    json_t *runs[3] = {run_with(100, 10, 10), run_with(100, 10, 20), run_with(100, 10, 30)};
    json_t *s = merge_spread(runs, 3);
    const json_t *est = json_object_get(s, "established");

    (void)state;
    assert_non_null(est);
    assert_true(json_real_value(json_object_get(est, "median")) == 20);
    assert_true(json_real_value(json_object_get(est, "min")) == 10);
    assert_true(json_real_value(json_object_get(est, "max")) == 30);
    assert_int_equal(json_array_size(json_object_get(est, "values")), 3);
    json_decref(s);
    for (int i = 0; i < 3; i++)
        json_decref(runs[i]);
}

/* Repeats whose story blocks differ: the merge is joined only if every
 * repeat was, and the unmatched late accepts of all of them count. */
static void test_story_blocks_merge_all_joined_and_unmatched_summed(void **state)
{
    json_t *runs[2] = {run_with(100, 10, 10), run_with(100, 10, 10)}, *m;
    const json_t *story;
    char err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(
        runs[0], "story",
        json_pack("{s:b, s:i, s:i}", "joined", 1, "late_accepts_unmatched", 3, "drain_ms", 20));
    json_object_set_new(
        runs[1], "story",
        json_pack("{s:b, s:i, s:i}", "joined", 0, "late_accepts_unmatched", 5, "drain_ms", 40));
    m = merge_runs(runs, 2, err, sizeof(err));
    assert_non_null(m);
    story = json_object_get(m, "story");
    assert_true(json_is_false(json_object_get(story, "joined")));
    assert_int_equal(json_integer_value(json_object_get(story, "late_accepts_unmatched")), 8);
    assert_int_equal(json_integer_value(json_object_get(story, "drain_ms")), 40);
    json_decref(m);
    /* and joined stays true when every repeat was joined */
    json_object_set_new(json_object_get(runs[1], "story"), "joined", json_true());
    m = merge_runs(runs, 2, err, sizeof(err));
    assert_non_null(m);
    assert_true(json_is_true(json_object_get(json_object_get(m, "story"), "joined")));
    json_decref(m);
    json_decref(runs[0]);
    json_decref(runs[1]);
}

/* Counts that would overflow are refused, not wrapped: 2^63-1 merged
 * twice gave -2; anything past what a results file may hold is refused. */
static void test_counts_that_would_overflow_are_refused(void **state)
{
    json_t *a = run_with(100, 10, 600000000000000LL), *two[2], *m;
    char err[ERRBUF_LEN];

    (void)state;
    two[0] = two[1] = a;
    m = merge_runs(two, 2, err, sizeof(err));
    assert_null(m);
    assert_non_null(strstr(err, "outcomes"));
    assert_non_null(strstr(err, "overflow"));
    json_object_set_new(json_object_get(a, "outcomes"), "established", json_integer(INT64_MAX - 3));
    m = merge_runs(two, 2, err, sizeof(err));
    assert_null(m);
    assert_non_null(strstr(err, "overflow"));
    /* the timeline too */
    json_object_set_new(json_object_get(a, "outcomes"), "established", json_integer(40));
    json_object_set_new(json_object_get(a, "outcomes"), "attempted", json_integer(43));
    json_array_set_new(json_array_get(json_object_get(a, "timeline"), 0), 1,
                       json_integer(INT64_MAX));
    m = merge_runs(two, 2, err, sizeof(err));
    assert_null(m);
    assert_non_null(strstr(err, "timeline"));
    json_decref(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge_of_one_is_itself),
        cmocka_unit_test(test_counts_that_would_overflow_are_refused),
        cmocka_unit_test(test_merge_of_a_twice_doubles_counts_and_keeps_percentiles),
        cmocka_unit_test(test_percentiles_come_from_merged_buckets),
        cmocka_unit_test(test_runs_without_buckets_are_refused),
        cmocka_unit_test(test_spread_has_median_min_max),
        cmocka_unit_test(test_story_blocks_merge_all_joined_and_unmatched_summed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
