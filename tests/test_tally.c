#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clock.h"
#include "tally.h"

static void test_attempted_is_the_sum_of_outcomes(void **state)
{
    struct tally t;

    (void)state;
    assert_int_equal(tally_init(&t, 0, 100 * NS_PER_MS, NS_PER_S), 0);
    tally_outcome(&t, OUTCOME_ESTABLISHED, 0, 1);
    tally_outcome(&t, OUTCOME_TIMEOUT, ETIMEDOUT, 2);
    tally_outcome(&t, OUTCOME_ERROR, EADDRNOTAVAIL, 3);
    tally_outcome(&t, OUTCOME_ERROR, OUTCOME_ERR_EOF, 3);
    assert_int_equal(tally_attempted(&t), 4);
    assert_int_equal(t.errors[outcome_err_slot(EADDRNOTAVAIL)], 1);
    assert_int_equal(t.errors[outcome_err_slot(OUTCOME_ERR_EOF)], 1);
    tally_destroy(&t);
}

static void test_error_slots_round_trip(void **state)
{
    (void)state;
    for (int e = 1; e < OUTCOME_ERRNO_MAX; e++)
        assert_int_equal(outcome_slot_err(outcome_err_slot(e)), e);
    for (int e = -1; e >= -OUTCOME_PSEUDO; e--) {
        assert_true(outcome_err_slot(e) < OUTCOME_ERR_SLOTS);
        assert_int_equal(outcome_slot_err(outcome_err_slot(e)), e);
    }
}

static void test_timeline_grows_past_its_estimate(void **state)
{
    struct tally t;

    (void)state;
    assert_int_equal(tally_init(&t, 0, 100 * NS_PER_MS, 0), 0);
    tally_attempt(&t, 0);
    tally_attempt(&t, 60 * NS_PER_S); /* row 600, far beyond the first allocation */
    tally_outcome(&t, OUTCOME_ESTABLISHED, 0, 60 * NS_PER_S + 1);
    assert_int_equal(t.timeline.len, 601);
    assert_int_equal(t.timeline.rows[0].attempted, 1);
    assert_int_equal(t.timeline.rows[600].attempted, 1);
    assert_int_equal(t.timeline.rows[600].established, 1);
    assert_int_equal(t.timeline.rows[300].attempted, 0);
    tally_destroy(&t);
}

static void test_merge_adds_everything(void **state)
{
    struct tally a, b;

    (void)state;
    tally_init(&a, 0, NS_PER_S, 0);
    tally_init(&b, 0, NS_PER_S, 0);
    tally_attempt(&a, 0);
    tally_outcome(&a, OUTCOME_ESTABLISHED, 0, NS_PER_S / 2);
    tally_retrans(&a, 0, false);
    tally_retrans(&a, 2, true);
    tally_attempt(&b, 3 * NS_PER_S);
    tally_outcome(&b, OUTCOME_RESET, ECONNRESET, 4 * NS_PER_S);
    tally_retrans(&b, 40, false); /* clamps into the last slot */
    histogram_record(&b.connect_us, 1000);
    assert_int_equal(tally_merge(&a, &b), 0);
    assert_int_equal(tally_attempted(&a), 2);
    assert_int_equal(a.outcomes[OUTCOME_RESET], 1);
    assert_int_equal(a.retrans[0], 1);
    assert_int_equal(a.retrans_failed[2], 1);
    assert_int_equal(a.retrans[OUTCOME_RETRANS_SLOTS - 1], 1);
    assert_int_equal(a.connect_us.count, 1);
    assert_int_equal(a.timeline.len, 5);
    assert_int_equal(a.timeline.rows[3].attempted, 1);
    assert_int_equal(a.timeline.rows[4].failed, 1);
    assert_int_equal(a.first_ns, 0);
    assert_int_equal(a.last_ns, 4 * NS_PER_S);
    tally_destroy(&a);
    tally_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attempted_is_the_sum_of_outcomes),
        cmocka_unit_test(test_error_slots_round_trip),
        cmocka_unit_test(test_timeline_grows_past_its_estimate),
        cmocka_unit_test(test_merge_adds_everything),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
