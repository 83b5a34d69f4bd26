#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "schedule.h"

static void test_due_times_follow_the_rate(void **state)
{
    struct schedule s;

    (void)state;
    schedule_init(&s, 200, 0, 1, 1000, 0, 1000);
    assert_int_equal(schedule_due_ns(&s, 0), 1000);
    assert_int_equal(schedule_due_ns(&s, 1), 1000 + 5 * NS_PER_MS);
    assert_int_equal(schedule_due_ns(&s, 200), 1000 + NS_PER_S);
}

static void test_take_waits_for_due_time(void **state)
{
    struct schedule s;
    uint64_t due;

    (void)state;
    schedule_init(&s, 100, 0, 1, 10, 0, 0);
    assert_true(schedule_take(&s, 0, &due));
    assert_int_equal(due, 0);
    assert_false(schedule_take(&s, 9 * NS_PER_MS, &due));
    assert_int_equal(schedule_wait_ns(&s, 9 * NS_PER_MS), NS_PER_MS);
    assert_true(schedule_take(&s, 10 * NS_PER_MS, &due));
    assert_int_equal(due, 10 * NS_PER_MS);
}

static void test_late_generator_catches_up_with_original_due_times(void **state)
{
    struct schedule s;
    uint64_t due, n = 0;

    (void)state;
    schedule_init(&s, 1000, 0, 1, 100, 0, 0);
    /* stalled for 50 ms: all 51 connects due by then leave at once, each
     * keeping its own due time, so latency is counted from when it was due */
    while (schedule_take(&s, 50 * NS_PER_MS, &due)) {
        assert_int_equal(due, n * NS_PER_MS);
        n++;
    }
    assert_int_equal(n, 51);
    assert_int_equal(schedule_wait_ns(&s, 50 * NS_PER_MS), 0 + NS_PER_MS);
}

static void test_streams_interleave_and_split_the_count(void **state)
{
    struct schedule a, b, c;
    uint64_t total;

    (void)state;
    schedule_init(&a, 300, 0, 3, 10, 0, 0);
    schedule_init(&b, 300, 1, 3, 10, 0, 0);
    schedule_init(&c, 300, 2, 3, 10, 0, 0);
    /* global connect g is due at g/300 s; stream i owns g = i, i+3, ... */
    assert_int_equal(schedule_due_ns(&a, 1), 3 * NS_PER_S / 300);
    assert_int_equal(schedule_due_ns(&b, 0), NS_PER_S / 300);
    assert_int_equal(schedule_due_ns(&c, 0), 2 * NS_PER_S / 300);
    total = a.limit + b.limit + c.limit;
    assert_int_equal(a.limit, 4);
    assert_int_equal(b.limit, 3);
    assert_int_equal(c.limit, 3);
    assert_int_equal(total, 10);
}

static void test_count_bound_finishes(void **state)
{
    struct schedule s;
    uint64_t due;
    int n = 0;

    (void)state;
    schedule_init(&s, 1e6, 0, 1, 5, 0, 0);
    while (schedule_take(&s, NS_PER_S, &due))
        n++;
    assert_int_equal(n, 5);
    assert_true(schedule_finished(&s));
}

static void test_duration_bound_finishes(void **state)
{
    struct schedule s;
    uint64_t due;
    int n = 0;

    (void)state;
    schedule_init(&s, 100, 0, 1, SCHEDULE_UNLIMITED, NS_PER_S, 0);
    while (schedule_take(&s, 10 * NS_PER_S, &due))
        n++;
    assert_int_equal(n, 100); /* due at 0, 10 ms ... 990 ms; 1000 ms is past the end */
    assert_true(schedule_finished(&s));
}

static void test_stop_ends_the_schedule(void **state)
{
    struct schedule s;
    uint64_t due;

    (void)state;
    schedule_init(&s, 100, 0, 1, 100, 0, 0);
    schedule_stop(&s);
    assert_true(schedule_finished(&s));
    assert_false(schedule_take(&s, NS_PER_S, &due));
}

static void test_stream_with_nothing_to_do(void **state)
{
    struct schedule s;

    (void)state;
    schedule_init(&s, 100, 5, 8, 3, 0, 0); /* 3 connects over 8 streams */
    assert_int_equal(s.limit, 0);
    assert_true(schedule_finished(&s));
}

static void test_late_generator_stops_at_the_end_and_counts_what_it_missed(void **state)
{
    struct schedule s;
    uint64_t due;
    int n = 0;

    (void)state;
    /* 1000/s for 1 s, but the generator only got 300 out before the end */
    schedule_init(&s, 1000, 0, 1, SCHEDULE_UNLIMITED, NS_PER_S, 0);
    while (n < 300 && schedule_take(&s, 2 * NS_PER_S, &due))
        n++;
    schedule_expire(&s, NS_PER_S + SCHEDULE_EXPIRE_SLACK_NS - 1);
    assert_false(schedule_finished(&s));
    schedule_expire(&s, NS_PER_S + SCHEDULE_EXPIRE_SLACK_NS);
    assert_true(schedule_finished(&s));
    assert_false(schedule_take(&s, 2 * NS_PER_S, &due));
    assert_int_equal(schedule_unstarted(&s), 700);
}

static void test_unstarted_with_streams_and_counts(void **state)
{
    struct schedule a, b;
    uint64_t due;

    (void)state;
    schedule_init(&a, 100, 0, 2, 11, 0, 0);
    schedule_init(&b, 100, 1, 2, 11, 0, 0);
    assert_true(schedule_take(&a, NS_PER_S, &due));
    schedule_stop(&a);
    assert_int_equal(schedule_unstarted(&a), 5); /* stream 0 owns 6 of 11 */
    assert_int_equal(schedule_unstarted(&b), 5);
    /* duration bound, two streams: 100/s for 1 s is 50 each */
    schedule_init(&a, 100, 0, 2, SCHEDULE_UNLIMITED, NS_PER_S, 0);
    schedule_init(&b, 100, 1, 2, SCHEDULE_UNLIMITED, NS_PER_S, 0);
    assert_int_equal(schedule_unstarted(&a) + schedule_unstarted(&b), 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_times_follow_the_rate),
        cmocka_unit_test(test_take_waits_for_due_time),
        cmocka_unit_test(test_late_generator_catches_up_with_original_due_times),
        cmocka_unit_test(test_streams_interleave_and_split_the_count),
        cmocka_unit_test(test_count_bound_finishes),
        cmocka_unit_test(test_duration_bound_finishes),
        cmocka_unit_test(test_stop_ends_the_schedule),
        cmocka_unit_test(test_stream_with_nothing_to_do),
        cmocka_unit_test(test_late_generator_stops_at_the_end_and_counts_what_it_missed),
        cmocka_unit_test(test_unstarted_with_streams_and_counts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
