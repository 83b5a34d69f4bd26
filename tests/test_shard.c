/* shard: the arithmetic of one machine's part of an experiment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "schedule.h"
#include "shard.h"

static void test_parse(void **state)
{
    struct shard s = {0, 1, false, 0};
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(shard_parse("2/4", &s, err, sizeof(err)), 0);
    assert_int_equal(s.index, 2);
    assert_int_equal(s.count, 4);
    assert_int_equal(shard_parse("4/4", &s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "0 <= I < N"));
    assert_int_equal(shard_parse("x", &s, err, sizeof(err)), -1);
    assert_int_equal(shard_parse("1/0", &s, err, sizeof(err)), -1);
}

static void test_times(void **state)
{
    double t;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(shard_parse_time("1795658400.25", &t, err, sizeof(err)), 0);
    assert_true(t == 1795658400.25);
    assert_int_equal(shard_parse_time("2026-11-26T02:00:00Z", &t, err, sizeof(err)), 0);
    assert_true(t == 1795658400.0);
    assert_int_equal(shard_parse_time("2026-11-26T03:00:00.5+01:00", &t, err, sizeof(err)), 0);
    assert_true(t == 1795658400.5);
    assert_int_equal(shard_parse_time("2026-11-26T02:00:00", &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "zone"));
    assert_int_equal(shard_parse_time("tomorrow", &t, err, sizeof(err)), -1);
}

/* A start qbench could never honestly wait for is refused at once:
 * beyond the horizon, beyond the clock, not a number. */
static void test_far_or_impossible_starts_are_refused(void **state)
{
    double t;
    char err[ERRBUF_LEN];
    const char *bad[] = {"9999-12-31T23:59:59Z", "inf", "1e308", "nan", "-5", "1e20"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(shard_parse_time(bad[i], &t, err, sizeof(err)), -1);
        assert_non_null(strstr(err, bad[i]));
    }
    assert_int_equal(
        shard_check_start("x", 1000.0 + SHARD_START_HORIZON_S, 1000.0, err, sizeof(err)), 0);
    assert_int_equal(
        shard_check_start("x", 1001.0 + SHARD_START_HORIZON_S, 1000.0, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "7 days"));
}

/* Half a sharding setting would run the whole load on every pod. */
static void test_half_an_indexed_job_is_refused(void **state)
{
    struct shard s = {0, 1, false, 0};
    char err[ERRBUF_LEN];

    (void)state;
    unsetenv("QBENCH_SHARD");
    unsetenv("QBENCH_START_AT");
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    unsetenv("QBENCH_SHARDS");
    assert_int_equal(shard_from_env(&s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "QBENCH_SHARDS"));
    setenv("QBENCH_SHARDS", "4", 1);
    setenv("JOB_COMPLETION_INDEX", "", 1);
    assert_int_equal(shard_from_env(&s, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    setenv("JOB_COMPLETION_INDEX", "3", 1);
    assert_int_equal(shard_from_env(&s, err, sizeof(err)), 0);
    assert_int_equal(s.index, 3);
    assert_int_equal(s.count, 4);
    unsetenv("JOB_COMPLETION_INDEX");
    unsetenv("QBENCH_SHARDS");
}

/* The union of every shard's streams is the single client's sequence:
 * each connection index is due exactly once, at start + g / rate. */
static void test_shards_interleave_into_one_sequence(void **state)
{
    const unsigned shards = 3, threads = 2;
    const uint64_t total = 60;
    unsigned seen[60] = {0};

    (void)state;
    for (unsigned i = 0; i < shards; i++) {
        struct shard s = {i, shards, false, 0};

        for (unsigned t = 0; t < threads; t++) {
            struct schedule sc;
            uint64_t due;

            schedule_init(&sc, 1000.0, shard_stream(&s, t, threads), shard_streams(&s, threads),
                          total, 0, 0);
            while (schedule_take(&sc, UINT64_MAX / 2, &due)) {
                uint64_t g = due / 1000000; /* 1 ms apart at 1000/s */

                assert_true(g < total);
                assert_int_equal(due, g * 1000000);
                seen[g]++;
            }
        }
    }
    for (uint64_t g = 0; g < total; g++)
        assert_int_equal(seen[g], 1);
}

static void test_source_slices_are_disjoint_and_cover(void **state)
{
    uint32_t covered = 0, next = 100;

    (void)state;
    for (unsigned i = 0; i < 3; i++) {
        struct shard s = {i, 3, false, 0};
        uint32_t first, count;

        assert_int_equal(shard_sources(&s, 100, 10, &first, &count), 0);
        assert_int_equal(first, next);
        next = first + count;
        covered += count;
    }
    assert_int_equal(covered, 10);
    {
        struct shard s = {0, 4, false, 0};
        uint32_t first, count;

        assert_int_equal(shard_sources(&s, 100, 3, &first, &count), -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_far_or_impossible_starts_are_refused),
        cmocka_unit_test(test_half_an_indexed_job_is_refused),
        cmocka_unit_test(test_shards_interleave_into_one_sequence),
        cmocka_unit_test(test_source_slices_are_disjoint_and_cover),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
