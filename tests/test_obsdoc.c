/* obsdoc: observer documents are checked on read, and joined onto the
 * merged run's timeline by wall clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "obsdoc.h"

static json_t *observer(const char *host, int port, double origin, long long elapsed)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:f, s:I, s:I, s:{s:I, s:I, s:i, s:[[i,i],[i,i],[i,i]]},"
                          " s:{s:I, s:[[i,i],[i,i]]}, s:{s:I, s:I}, s:{s:s}, s:{s:b, s:[]}}",
                          "schema", OBSDOC_SCHEMA, "host", host, "port", port, "origin_epoch_s",
                          origin, "duration_ms", (json_int_t)elapsed, "elapsed_ms",
                          (json_int_t)elapsed, "accept_queue", "limit", (json_int_t)8, "max",
                          (json_int_t)9, "listeners", 1, "samples", 0, 3, 10, 9, 20, 4, "syn_queue",
                          "max", (json_int_t)5, "samples", 0, 5, 30, 2, "kernel", "ListenOverflows",
                          (json_int_t)100, "ListenDrops", (json_int_t)100, "sysctl",
                          "net.ipv4.tcp_synack_retries", "1", "accepts", "complete", 1, "sockets");

    assert_non_null(o);
    return o;
}

static json_t *merged_doc(double origin, long long elapsed, size_t nruns)
{
    json_t *runs = json_array();

    for (size_t i = 0; i < nruns; i++)
        json_array_append_new(runs, json_pack("{s:{}, s:{s:i}, s:f, s:I, s:{s:I}}", "params",
                                              "outcomes", "attempted", 10, "origin_epoch_s", origin,
                                              "elapsed_ms", (json_int_t)elapsed, "kernel",
                                              "ListenOverflows", (json_int_t)0));
    return json_pack("{s:s, s:o}", "schema", "qbench-result/2", "runs", runs);
}

static void test_check_accepts_a_good_document(void **state)
{
    char err[ERRBUF_LEN];
    json_t *o = observer("srv", 80, 1000.0, 5000);

    (void)state;
    assert_true(obsdoc_is_observer(o));
    assert_int_equal(obsdoc_check(o, "o.json", err, sizeof(err)), 0);
    json_decref(o);
}

/* Every part the join reads is checked, and the message names it. */
static void test_check_names_what_is_wrong(void **state)
{
    static const struct {
        const char *key;
        const char *json;
        const char *must_say;
    } cases[] = {
        {"schema", "\"qbench-result/2\"", "not a qbench observer document"},
        {"origin_epoch_s", "\"yesterday\"", "origin_epoch_s: expected seconds"},
        {"port", "0", "port: expected 1..65535"},
        {"duration_ms", "-1", "duration_ms: expected a non-negative integer"},
        {"host", "7", "host: expected a string"},
        {"accept_queue", "{\"max\": 1, \"samples\": [[1, -2]]}", "accept_queue.samples[0]"},
        {"syn_queue", "{\"samples\": []}", "syn_queue: needs max and samples"},
        {"kernel", "{\"ListenOverflows\": \"many\"}",
         "kernel.ListenOverflows: expected an integer"},
        {"accepts",
         "{\"complete\": true, \"sockets\": [[\"not an address\", 1, 1, 0, 1, 0, 0,"
         " null, 1, null, null, null]]}",
         "accepts.sockets[0]"},
        {"accepts",
         "{\"complete\": true, \"sockets\": [[\"::1\", 1, 1, 0, 1, 0, 0, null, 1,"
         " null, \"soon\", null]]}",
         "accepts.sockets[0]"},
        {"accepts", "{\"sockets\": []}", "accepts: needs complete and sockets"},
    };
    char err[ERRBUF_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *o = observer("srv", 80, 1000.0, 5000);

        json_object_set_new(o, cases[i].key, json_loads(cases[i].json, JSON_DECODE_ANY, NULL));
        assert_int_equal(obsdoc_check(o, "o.json", err, sizeof(err)), -1);
        if (!strstr(err, cases[i].must_say))
            fail_msg("case %zu: \"%s\" does not say \"%s\"", i, err, cases[i].must_say);
        assert_non_null(strstr(err, "o.json"));
        json_decref(o);
    }
}

/* The observer started 500 ms after the run's origin: its samples move
 * 500 ms later on the run's timeline, and it did not cover the run. */
static void test_join_aligns_by_wall_clock(void **state)
{
    char err[ERRBUF_LEN];
    json_t *m = merged_doc(1000.0, 4000, 1), *o = observer("srv", 80, 1000.5, 5000);
    const char *names[] = {"o.json"};
    const json_t *run, *samples, *by;

    (void)state;
    assert_int_equal(obsdoc_join(m, &o, names, 1, err, sizeof(err)), 0);
    run = json_array_get(json_object_get(m, "runs"), 0);
    samples = json_object_get(json_object_get(run, "accept_queue"), "samples");
    assert_int_equal(json_array_size(samples), 3);
    assert_int_equal(json_integer_value(json_array_get(json_array_get(samples, 1), 0)), 510);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "accept_queue"), "max")), 9);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(run, "server_kernel"), "ListenOverflows")),
                     100);
    /* the clients' own counters are left as they were */
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "kernel"), "ListenOverflows")), 0);
    by = json_array_get(json_object_get(run, "observed_by"), 0);
    assert_int_equal(json_integer_value(json_object_get(by, "offset_ms")), 500);
    assert_false(json_is_true(json_object_get(by, "covers_run")));
    json_decref(m);
    json_decref(o);
}

/* An observer that started 15 ms early covers the run; samples before
 * the run's origin are dropped and the max is that of what is kept. */
static void test_join_drops_samples_before_the_origin(void **state)
{
    char err[ERRBUF_LEN];
    json_t *m = merged_doc(1000.0, 4000, 1), *o = observer("srv", 80, 999.985, 5000);
    const char *names[] = {"o.json"};
    const json_t *run, *q;

    (void)state;
    assert_int_equal(obsdoc_join(m, &o, names, 1, err, sizeof(err)), 0);
    run = json_array_get(json_object_get(m, "runs"), 0);
    q = json_object_get(run, "accept_queue");
    assert_int_equal(json_array_size(json_object_get(q, "samples")), 1);
    assert_int_equal(json_integer_value(json_object_get(q, "max")), 4);
    assert_true(json_is_true(
        json_object_get(json_array_get(json_object_get(run, "observed_by"), 0), "covers_run")));
    json_decref(m);
    json_decref(o);
}

/* Two servers (two replicas) are summed per 10 ms, and kept per server. */
static void test_two_servers_are_summed_and_kept_apart(void **state)
{
    char err[ERRBUF_LEN];
    json_t *m = merged_doc(1000.0, 4000, 1);
    json_t *o[2] = {observer("a", 80, 1000.0, 5000), observer("b", 80, 1000.0, 5000)};
    const char *names[] = {"a.json", "b.json"};
    const json_t *run;

    (void)state;
    assert_int_equal(obsdoc_join(m, o, names, 2, err, sizeof(err)), 0);
    run = json_array_get(json_object_get(m, "runs"), 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "accept_queue"), "max")), 18);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "accept_queue"), "limit")), 16);
    assert_int_equal(json_integer_value(
                         json_object_get(json_object_get(run, "server_kernel"), "ListenOverflows")),
                     200);
    assert_int_equal(json_object_size(json_object_get(run, "server_by_host")), 2);
    json_decref(m);
    json_decref(o[0]);
    json_decref(o[1]);
}

static void test_join_refuses_what_it_cannot_place(void **state)
{
    char err[ERRBUF_LEN];
    json_t *o[2] = {observer("a", 80, 1000.0, 5000), observer("a", 80, 1000.0, 5000)};
    const char *names[] = {"a.json", "b.json"};
    json_t *m = merged_doc(1000.0, 4000, 2);

    (void)state;
    /* a sweep's points each have a window of their own */
    assert_int_equal(obsdoc_join(m, o, names, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "one run point"));
    json_decref(m);
    /* the same server twice */
    m = merged_doc(1000.0, 4000, 1);
    assert_int_equal(obsdoc_join(m, o, names, 2, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "both watched a:80"));
    json_decref(m);
    /* results from before origin_epoch_s */
    m = merged_doc(1000.0, 4000, 1);
    json_object_del(json_array_get(json_object_get(m, "runs"), 0), "origin_epoch_s");
    assert_int_equal(obsdoc_join(m, o, names, 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "origin_epoch_s"));
    json_decref(m);
    json_decref(o[0]);
    json_decref(o[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_accepts_a_good_document),
        cmocka_unit_test(test_check_names_what_is_wrong),
        cmocka_unit_test(test_join_aligns_by_wall_clock),
        cmocka_unit_test(test_join_drops_samples_before_the_origin),
        cmocka_unit_test(test_two_servers_are_summed_and_kept_apart),
        cmocka_unit_test(test_join_refuses_what_it_cannot_place),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
