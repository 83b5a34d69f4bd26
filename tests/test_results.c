#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "clock.h"
#include "metric.h"
#include "errbuf.h"
#include "report.h"
#include "results.h"
#include "testdocs.h"

static struct config cfg;

static int results_metric(const json_t *run, const char *name, double *v)
{
    const struct metric *m = metric_find(name);

    return m ? metric_value(run, m, v) : -1;
}

static struct run_data *make_run_data(void)
{
    struct run_data *rd = calloc(1, sizeof(*rd));
    json_t *root = json_loads("{\"server\": {\"backlog\": 4}, \"client\": {\"rate\": 100, "
                              "\"connections\": 7}}",
                              0, NULL);
    char err[ERRBUF_LEN];

    assert_int_equal(config_from_json(root, "t.json", "rt", &cfg, err, sizeof(err)), 0);
    json_decref(root);
    rd->cfg = &cfg;
    rd->params = json_pack("{s:i}", "server.backlog", 4);
    rd->sysctl = json_pack("{s:i}", "net.core.somaxconn", 4096);
    tally_init(&rd->tally, 0, 100 * NS_PER_MS, NS_PER_S);
    for (int i = 0; i < 5; i++) {
        tally_attempt(&rd->tally, (uint64_t)i * 10 * NS_PER_MS);
        histogram_record(&rd->tally.connect_us, 50 + (uint64_t)i);
        histogram_record(&rd->tally.accept_us, 1000 + (uint64_t)i);
        tally_retrans(&rd->tally, 0, false);
        tally_outcome(&rd->tally, OUTCOME_ESTABLISHED, 0, (uint64_t)i * 10 * NS_PER_MS + 1000);
    }
    /* every class's time to its outcome, and a late accept's lateness */
    for (int i = 0; i < OUTCOME_COUNT; i++)
        histogram_record(&rd->tally.class_us[i], 2000 + (uint64_t)i);
    histogram_record(&rd->tally.late_by_us, 300);
    tally_attempt(&rd->tally, 200 * NS_PER_MS);
    tally_outcome(&rd->tally, OUTCOME_TIMEOUT, ETIMEDOUT, 3200 * NS_PER_MS);
    tally_attempt(&rd->tally, 210 * NS_PER_MS);
    tally_outcome(&rd->tally, OUTCOME_ERROR, EADDRNOTAVAIL, 220 * NS_PER_MS);
    rd->has_server = true;
    rd->server.accepted = 5;
    rd->server.synack_retrans[0] = 4;
    rd->server.synack_retrans[1] = 1;
    kstats_read(&rd->before, QBENCH_FIXTURES "/net-before", err, sizeof(err));
    kstats_read(&rd->after, QBENCH_FIXTURES "/net-after", err, sizeof(err));
    queue_series_init(&rd->queue);
    queue_series_add(&rd->queue, 0, 0);
    queue_series_add(&rd->queue, 10, 5);
    rd->queue_limit = 4;
    rd->listeners = 1;
    rd->client_threads = 1;
    return rd;
}

static void free_run_data(struct run_data *rd)
{
    tally_destroy(&rd->tally);
    json_decref((json_t *)rd->params);
    json_decref(rd->sysctl);
    free(rd);
}

static void test_run_json_has_the_spec_keys(void **state)
{
    struct run_data *rd = make_run_data();
    json_t *run = report_run_json(rd);
    const json_t *o = json_object_get(run, "outcomes");
    static const char *const keys[] = {
        "params",          "elapsed_ms",         "sysctl", "outcomes",     "latency_us",
        "syn_retransmits", "synack_retransmits", "kernel", "accept_queue", "timeline",
        "schedule_lag_us"};
    long long sum = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (!json_object_get(run, keys[i]))
            fail_msg("runs[] entry lacks %s", keys[i]);
    assert_int_equal(json_integer_value(json_object_get(o, "attempted")), 7);
    for (const char *const *k = (const char *const[]){"established", "timeout", "reset", "refused",
                                                      "greeting_timeout", "error", NULL};
         *k; k++)
        sum += json_integer_value(json_object_get(o, *k));
    assert_int_equal(sum, 7);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(o, "errors"), "EADDRNOTAVAIL")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "kernel"), "ListenOverflows")), 42);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "syn_retransmits"), "0")), 5);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "synack_retransmits"), "1")), 1);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "accept_queue"), "max")), 5);
    assert_int_equal(json_integer_value(json_object_get(run, "elapsed_ms")), 3200);
    json_decref(run);
    free_run_data(rd);
}

static void test_write_then_load_round_trips(void **state)
{
    struct run_data *rd = make_run_data();
    char dir[] = "/tmp/qbench-results-XXXXXX", path[128], err[ERRBUF_LEN];
    json_t *runs = json_array(), *eff = config_to_json(&cfg), *doc, *back;
    double v;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/sub/dir/r.json", dir);
    json_array_append_new(runs, report_run_json(rd));
    doc = report_document(eff, runs, NULL, "2026-01-01T00:00:00Z", false);
    assert_int_equal(results_write(doc, path, err, sizeof(err)), 0);
    back = results_load(path, err, sizeof(err));
    assert_non_null(back);
    assert_true(json_equal(doc, back));
    assert_string_equal(json_string_value(json_object_get(back, "schema")), RESULTS_SCHEMA);
    assert_int_equal(
        results_metric(json_array_get(json_object_get(back, "runs"), 0), "established_ratio", &v),
        0);
    assert_true(v > 0.714 && v < 0.715);
    assert_int_equal(
        results_metric(json_array_get(json_object_get(back, "runs"), 0), "connect_p50_us", &v), 0);
    assert_true(v == 52);
    assert_int_equal(
        results_metric(json_array_get(json_object_get(back, "runs"), 0), "accept_queue_max", &v),
        0);
    assert_true(v == 5);
    {
        char cmd[256];

        /* no temporary file is left beside the result */
        snprintf(cmd, sizeof(cmd), "test $(ls %s/sub/dir | wc -l) -eq 1", dir);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
    }
    json_decref(doc);
    json_decref(back);
    json_decref(eff);
    free_run_data(rd);
}

static void test_write_to_unwritable_place_fails_cleanly(void **state)
{
    json_t *doc = json_pack("{s:s}", "schema", RESULTS_SCHEMA);
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(results_write(doc, "/proc/qbench/r.json", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "/proc/qbench"));
    json_decref(doc);
}

static void test_load_rejects_what_is_not_a_result(void **state)
{
    char path[] = "/tmp/qbench-notresult-XXXXXX", err[ERRBUF_LEN];
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");

    (void)state;
    fputs("{\"schema\": \"something-else/2\", \"runs\": []}", f);
    fclose(f);
    assert_null(results_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "expected \"schema\": \"qbench-result/2\""));
    f = fopen(path, "w");
    fputs("{\"schema\": \"qbench-result/1\", \"runs\": [{\"params\": {}}]}", f);
    fclose(f);
    assert_null(results_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "runs[0]"));
    f = fopen(path, "w");
    fputs("{\"schema\": ", f);
    fclose(f);
    assert_null(results_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "invalid JSON"));
    unlink(path);
}

static void test_metrics_by_name(void **state)
{
    struct fake_run r = {"{}", 80, 10, 5, 5, 100, 2000, 0, 0};
    json_t *run = fake_run_json(&r);
    double v;

    (void)state;
    assert_int_equal(results_metric(run, "timeout_ratio", &v), 0);
    assert_true(v == 0.1);
    assert_int_equal(results_metric(run, "reset", &v), 0);
    assert_true(v == 5);
    assert_int_equal(results_metric(run, "connect_p99_us", &v), 0);
    assert_true(v == 2000);
    /* no greeting: no accept latency */
    assert_int_equal(results_metric(run, "accept_p99_us", &v), -1);
    assert_int_equal(results_metric(run, "nonsense", &v), -1);
    json_decref(run);
}

/* Every row of the metric table resolves on a document the run side
 * really builds, so a metric cannot name a place report does not fill. */
static void test_every_metric_resolves_on_a_real_run(void **state)
{
    struct run_data *rd = make_run_data();
    json_t *run;
    size_t n;
    const struct metric *all = metric_table(&n);

    (void)state;
    histogram_record(&rd->tally.lag_us, 7);
    run = report_run_json(rd);
    for (size_t i = 0; i < n; i++) {
        double v = -1;
        bool is_max;
        char bound[80];

        if (metric_value(run, &all[i], &v) != 0)
            fail_msg("metric %s does not resolve on a report_run_json document", all[i].name);
        assert_true(v >= 0);
        assert_true(metric_samples(run, &all[i]) > 0 || all[i].kind == METRIC_GAUGE);
        snprintf(bound, sizeof(bound), "%s_max", all[i].name);
        assert_ptr_equal(metric_parse_bound(bound, &is_max), &all[i]);
        assert_true(is_max);
    }
    json_decref(run);
    free_run_data(rd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_json_has_the_spec_keys),
        cmocka_unit_test(test_write_then_load_round_trips),
        cmocka_unit_test(test_write_to_unwritable_place_fails_cleanly),
        cmocka_unit_test(test_load_rejects_what_is_not_a_result),
        cmocka_unit_test(test_metrics_by_name),
        cmocka_unit_test(test_every_metric_resolves_on_a_real_run),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
