/* validate's estimate of how long a run takes: its upper bound holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include "errbuf.h"
#include "plan.h"
#include "runner.h"

/* validate's "at most" must hold: configs/nginx.json said 6-18 s and
 * took 41.7 s (2026-12-02, 2 vCPU VM), the time going to nginx's start
 * and stop, watching given-up connections and draining a queue nginx no
 * longer empties. */
static void test_estimate_covers_a_users_server(void **state)
{
    char path[512], err[ERRBUF_LEN];
    struct plan p;
    double least, most, over = 0;

    (void)state;
    snprintf(path, sizeof(path), "%s/configs/nginx.json", QBENCH_SOURCE_DIR);
    assert_int_equal(plan_load(&p, path, NULL, 0, NULL, NULL, err, sizeof(err)), 0);
    plan_duration(&p, &least, &most);
    for (size_t i = 0; i < p.npoints; i++)
        over += runner_overhead_max_s(&p.points[i].cfg);
    assert_true(least <= 6.1);
    assert_true(most + over >= 41.7);
    /* the drain of backlog 128 (129 queued, 100 ms each, 1.5x, plus 1 s)
     * is most of it */
    assert_true(runner_overhead_max_s(&p.points[1].cfg) >= 20.35 + 3);
    plan_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_estimate_covers_a_users_server),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
