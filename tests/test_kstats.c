#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "kstats.h"
#include "qseries.h"

static void test_reads_tcpext_and_tcp_without_prefix(void **state)
{
    struct kstats *ks = malloc(sizeof(*ks));
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(kstats_read(ks, QBENCH_FIXTURES "/net-after", err, sizeof(err)), 0);
    assert_int_equal(kstats_get(ks, "ListenOverflows"), 52);
    assert_int_equal(kstats_get(ks, "TCPSynRetrans"), 40);
    assert_int_equal(kstats_get(ks, "ActiveOpens"), 50);
    assert_int_equal(kstats_get(ks, "MaxConn"), -1);
    /* other sections are not TCP's */
    assert_int_equal(kstats_get(ks, "InMcastPkts"), 0);
    assert_int_equal(kstats_get(ks, "InReceives"), 0);
    assert_int_equal(kstats_get(ks, "InDatagrams"), 0);
    free(ks);
}

static void test_delta_keeps_only_counters_that_moved(void **state)
{
    struct kstats *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    char err[ERRBUF_LEN];
    json_t *d;

    (void)state;
    assert_int_equal(kstats_read(a, QBENCH_FIXTURES "/net-before", err, sizeof(err)), 0);
    assert_int_equal(kstats_read(b, QBENCH_FIXTURES "/net-after", err, sizeof(err)), 0);
    d = kstats_delta_json(a, b);
    assert_int_equal(json_integer_value(json_object_get(d, "ListenOverflows")), 42);
    assert_int_equal(json_integer_value(json_object_get(d, "ListenDrops")), 42);
    assert_int_equal(json_integer_value(json_object_get(d, "SyncookiesSent")), 4);
    assert_int_equal(json_integer_value(json_object_get(d, "AttemptFails")), 5);
    assert_null(json_object_get(d, "TCPReqQFullDrop")); /* did not move */
    assert_null(json_object_get(d, "CurrEstab"));       /* a gauge, not a count */
    assert_null(json_object_get(d, "RtoMin"));
    json_decref(d);
    free(a);
    free(b);
}

static void test_malformed_file_is_an_error(void **state)
{
    struct kstats *ks = malloc(sizeof(*ks));
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(kstats_read(ks, QBENCH_FIXTURES "/net-broken", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "do not pair up"));
    assert_int_equal(kstats_read(ks, "/nonexistent", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent/netstat"));
    free(ks);
}

static void test_queue_series_keeps_peaks_in_bounded_memory(void **state)
{
    struct queue_series *q = malloc(sizeof(*q));

    (void)state;
    queue_series_init(q);
    /* three times the capacity: the stride doubles twice, the peak survives */
    for (uint32_t t = 0; t < 3 * QUEUE_SERIES_CAP; t++)
        queue_series_add(q, t * 10, t == 5000 ? 99 : t % 7);
    queue_series_flush(q);
    assert_true(q->n <= QUEUE_SERIES_CAP);
    assert_int_equal(q->stride, 4);
    assert_int_equal(q->max, 99);
    {
        uint32_t seen = 0;

        for (size_t i = 0; i < q->n; i++) {
            if (q->length[i] > seen)
                seen = q->length[i];
            if (i)
                assert_true(q->t_ms[i] > q->t_ms[i - 1]);
        }
        assert_int_equal(seen, 99);
    }
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_tcpext_and_tcp_without_prefix),
        cmocka_unit_test(test_delta_keeps_only_counters_that_moved),
        cmocka_unit_test(test_malformed_file_is_an_error),
        cmocka_unit_test(test_queue_series_keeps_peaks_in_bounded_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
