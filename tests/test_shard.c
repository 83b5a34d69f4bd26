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

            schedule_init(&sc, 1000.0, shard_stream(&s, t, threads),
                          shard_streams(&s, threads), total, 0, 0);
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
        cmocka_unit_test(test_shards_interleave_into_one_sequence),
        cmocka_unit_test(test_source_slices_are_disjoint_and_cover),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
