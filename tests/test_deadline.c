#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "deadline.h"

static void test_waits_expire_in_arrival_order_at_their_deadline(void **state)
{
    struct deadline_list l;
    struct deadline_node a = {0}, b = {0}, c = {0};
    uint64_t at;

    (void)state;
    deadline_list_init(&l, 100);
    assert_false(deadline_next(&l, &at));
    assert_true(deadline_enter(&l, &a, 10)); /* first: arm the timer */
    assert_false(deadline_enter(&l, &b, 20));
    assert_false(deadline_enter(&l, &c, 20));
    assert_true(deadline_next(&l, &at));
    assert_int_equal(at, 110);
    assert_null(deadline_expired(&l, 109));
    assert_ptr_equal(deadline_expired(&l, 110), &a);
    assert_false(deadline_waiting(&a));
    assert_null(deadline_expired(&l, 119));
    assert_ptr_equal(deadline_expired(&l, 500), &b);
    assert_ptr_equal(deadline_expired(&l, 500), &c);
    assert_null(deadline_expired(&l, 500));
    assert_false(deadline_next(&l, &at));
}

static void test_leaving_from_anywhere_keeps_the_order(void **state)
{
    struct deadline_list l;
    struct deadline_node n[5] = {{0}};

    (void)state;
    deadline_list_init(&l, 10);
    for (int i = 0; i < 5; i++)
        deadline_enter(&l, &n[i], (uint64_t)i);
    deadline_leave(&n[0]); /* head */
    deadline_leave(&n[2]); /* middle */
    deadline_leave(&n[4]); /* tail */
    deadline_leave(&n[4]); /* twice: nothing */
    assert_ptr_equal(deadline_expired(&l, 100), &n[1]);
    assert_ptr_equal(deadline_expired(&l, 100), &n[3]);
    assert_null(deadline_expired(&l, 100));
    /* an emptied list takes new waits, and the first is the head again */
    assert_true(deadline_enter(&l, &n[2], 200));
}

static void test_entering_another_list_leaves_the_first(void **state)
{
    struct deadline_list connecting, greeting;
    struct deadline_node a = {0}, b = {0};
    uint64_t at;

    (void)state;
    deadline_list_init(&connecting, 1000);
    deadline_list_init(&greeting, 50);
    deadline_enter(&connecting, &a, 0);
    deadline_enter(&connecting, &b, 1);
    /* a's handshake completes: it now waits for the greeting only */
    assert_true(deadline_enter(&greeting, &a, 5));
    assert_true(deadline_next(&connecting, &at));
    assert_int_equal(at, 1001);
    assert_ptr_equal(deadline_expired(&greeting, 55), &a);
    assert_null(deadline_expired(&connecting, 55));
    /* re-entering the same list restarts the wait at the tail */
    deadline_enter(&greeting, &a, 60);
    deadline_enter(&greeting, &b, 61);
    deadline_enter(&greeting, &a, 62);
    assert_ptr_equal(deadline_expired(&greeting, 1000), &b);
    assert_ptr_equal(deadline_expired(&greeting, 1000), &a);
}

/* A clock read that goes backwards (another thread's, a coarse one) must
 * not put a later deadline behind an earlier one. */
static void test_an_earlier_entry_time_cannot_unsort_the_list(void **state)
{
    struct deadline_list l;
    struct deadline_node a = {0}, b = {0};

    (void)state;
    deadline_list_init(&l, 10);
    deadline_enter(&l, &a, 100);
    deadline_enter(&l, &b, 90);
    assert_int_equal(b.at_ns, 110);
    assert_ptr_equal(deadline_expired(&l, 110), &a);
    assert_ptr_equal(deadline_expired(&l, 110), &b);
}

/* Against a brute-force model: random enters, leaves and expiries over
 * many nodes, the list always returns the earliest deadline first and
 * exactly the nodes still waiting. */
static void test_random_operations_match_a_model(void **state)
{
    enum { N = 64 };
    struct deadline_list l;
    struct deadline_node n[N];
    uint64_t model[N], now = 0; /* 0: not waiting; else its deadline */
    unsigned seed = 12345;

    (void)state;
    memset(n, 0, sizeof(n));
    memset(model, 0, sizeof(model));
    deadline_list_init(&l, 37);
    for (int step = 0; step < 20000; step++) {
        int i = (int)(rand_r(&seed) % N), op = (int)(rand_r(&seed) % 3);
        struct deadline_node *e;

        now += (uint64_t)(rand_r(&seed) % 5);
        if (op == 0) {
            deadline_enter(&l, &n[i], now);
            model[i] = now + 37;
        } else if (op == 1) {
            deadline_leave(&n[i]);
            model[i] = 0;
        } else {
            while ((e = deadline_expired(&l, now)) != NULL) {
                int j = (int)(e - n);

                assert_true(model[j] != 0 && model[j] <= now);
                for (int k = 0; k < N; k++)
                    assert_true(model[k] == 0 || model[k] >= model[j]);
                model[j] = 0;
            }
            for (int k = 0; k < N; k++) {
                assert_true(model[k] == 0 || model[k] > now);
                assert_int_equal(deadline_waiting(&n[k]), model[k] != 0);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_waits_expire_in_arrival_order_at_their_deadline),
        cmocka_unit_test(test_leaving_from_anywhere_keeps_the_order),
        cmocka_unit_test(test_entering_another_list_leaves_the_first),
        cmocka_unit_test(test_an_earlier_entry_time_cannot_unsort_the_list),
        cmocka_unit_test(test_random_operations_match_a_model),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
