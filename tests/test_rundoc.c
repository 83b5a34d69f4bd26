/* rundoc: every field the writer emits has a merge rule, and a field
 * without one cannot be dropped or taken from one input silently. */
#include <errno.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
#include "clock.h"
#include "errbuf.h"
#include "merge.h"
#include "report.h"
#include "results.h"
#include "rundoc.h"

static struct config cfg;

/* A run point as the runner leaves it, with every optional part on. */
static struct run_data *make_run_data(void)
{
    struct run_data *rd = calloc(1, sizeof(*rd));
    json_t *root = json_loads("{\"server\": {\"backlog\": 4}, \"client\": {\"rate\": 100, "
                              "\"connections\": 7}}",
                              0, NULL);
    char err[ERRBUF_LEN];

    assert_non_null(rd);
    assert_int_equal(config_from_json(root, "t.json", "rd", &cfg, err, sizeof(err)), 0);
    json_decref(root);
    rd->cfg = &cfg;
    rd->params = json_pack("{s:i}", "server.backlog", 4);
    rd->sysctl = json_pack("{s:i}", "net.core.somaxconn", 4096);
    tally_init(&rd->tally, 0, 100 * NS_PER_MS, NS_PER_S);
    for (int i = 0; i < 5; i++) {
        tally_attempt(&rd->tally, (uint64_t)i * 10 * NS_PER_MS);
        histogram_record(&rd->tally.connect_us, 50 + (uint64_t)i);
        histogram_record(&rd->tally.accept_us, 1000 + (uint64_t)i);
        histogram_record(&rd->tally.late_by_us, 300 + (uint64_t)i);
        histogram_record(&rd->tally.class_us[OUTCOME_TIMEOUT], 3000 + (uint64_t)i);
        histogram_record(&rd->tally.class_us[OUTCOME_ESTABLISHED], 1000 + (uint64_t)i);
        tally_retrans(&rd->tally, 1, false);
        tally_outcome(&rd->tally, OUTCOME_ESTABLISHED, 0, (uint64_t)i * 10 * NS_PER_MS + 1000);
    }
    tally_attempt(&rd->tally, 210 * NS_PER_MS);
    tally_outcome(&rd->tally, OUTCOME_ERROR, EADDRNOTAVAIL, 220 * NS_PER_MS);
    rd->server.accepted = 5;
    rd->server.accept_errors[0] = 1;
    rd->server.synack_retrans[1] = 1;
    kstats_read(&rd->before, QBENCH_FIXTURES "/net-before", err, sizeof(err));
    kstats_read(&rd->after, QBENCH_FIXTURES "/net-after", err, sizeof(err));
    rd->drain_after = rd->after;
    queue_series_init(&rd->queue);
    queue_series_add(&rd->queue, 0, 0);
    queue_series_add(&rd->queue, 10, 5);
    queue_series_init(&rd->syn_queue);
    queue_series_add(&rd->syn_queue, 0, 3);
    queue_series_add(&rd->syn_queue, 10, 2);
    rd->has_queue = rd->has_syn_queue = true;
    rd->syn_dumps = 2;
    rd->syn_cost_ns = 4000;
    rd->queue_limit = 4;
    rd->listeners = 1;
    rd->client_threads = 1;
    rd->unstarted = 1;
    rd->interrupted = true;
    rd->story_joined = true;
    rd->late_unmatched = 2;
    rd->drain_ms = 30;
    snprintf(rd->ext_status, sizeof(rd->ext_status), "exited 0");
    snprintf(rd->ext_log, sizeof(rd->ext_log), "/tmp/server.log");
    {
        struct capture_result cr = {"/tmp/rd-p1.pcap",
                                    "inbound and tcp port 80",
                                    "lo",
                                    128,
                                    4096,
                                    10,
                                    700,
                                    false,
                                    true,
                                    12,
                                    2,
                                    0,
                                    true,
                                    100.0,
                                    0.5,
                                    ""};

        snprintf(cr.error, sizeof(cr.error), "writing the capture: No space left on device");
        rd->capture = capture_result_json(&cr);
    }
    return rd;
}

static void free_run_data(struct run_data *rd)
{
    tally_destroy(&rd->tally);
    json_decref((json_t *)rd->params);
    json_decref(rd->sysctl);
    json_decref(rd->capture);
    free(rd);
}

/* Every member at every level of run is a row of rundoc's table. */
static void assert_every_field_has_a_row(const json_t *run)
{
    char err[ERRBUF_LEN] = "";

    if (rundoc_check_run(run, err, sizeof(err)) < 0)
        fail_msg("%s", err);
}

static void test_every_field_the_writer_emits_has_a_row(void **state)
{
    struct run_data *rd = make_run_data();
    json_t *run;

    (void)state;
    for (int shape = 0; shape < 2; shape++) {
        /* the built-in server, then a server.command */
        rd->has_server = shape == 0;
        rd->has_ext = shape == 1;
        run = report_run_json(rd);
        assert_non_null(json_object_get(run, RD_STORY));
        assert_non_null(json_object_get(run, RD_SERVER));
        assert_non_null(json_object_get(run, RD_SYN_QUEUE));
        assert_non_null(rundoc_get(run, RD_CAPTURE, RD_CAP_ERROR));
        assert_every_field_has_a_row(run);
        json_decref(run);
    }
    free_run_data(rd);
}

/* The documents checked in under results/ (examples and gate baselines,
 * with repeats) were written by real runs: every field of theirs too. */
static void test_every_field_of_the_checked_in_results_has_a_row(void **state)
{
    static const char *const dirs[] = {QBENCH_SOURCE_DIR "/results/examples",
                                       QBENCH_SOURCE_DIR "/results/baseline"};
    size_t checked = 0;

    (void)state;
    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        DIR *dir = opendir(dirs[d]);
        struct dirent *e;

        assert_non_null(dir);
        while ((e = readdir(dir))) {
            char path[512], err[ERRBUF_LEN];
            size_t len = strlen(e->d_name);
            const json_t *runs;
            json_t *doc;

            if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
                continue;
            snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
            doc = results_load(path, err, sizeof(err));
            if (!doc)
                fail_msg("%s", err);
            runs = rundoc_runs(doc);
            for (size_t i = 0; i < json_array_size(runs); i++) {
                const json_t *reps = json_object_get(json_array_get(runs, i), RD_REPEATS);

                assert_every_field_has_a_row(json_array_get(runs, i));
                for (size_t r = 0; r < json_array_size(reps); r++)
                    assert_every_field_has_a_row(json_array_get(reps, r));
                checked++;
            }
            json_decref(doc);
        }
        closedir(dir);
    }
    assert_true(checked >= 5);
}

static void test_a_field_without_a_row_makes_merge_fail(void **state)
{
    struct run_data *rd = make_run_data();
    json_t *runs[2], *m;
    char err[ERRBUF_LEN] = "";

    (void)state;
    rd->has_server = true;
    runs[0] = report_run_json(rd);
    runs[1] = report_run_json(rd);
    /* at the top, then inside a section */
    json_object_set_new(runs[1], "new_field", json_integer(1));
    m = merge_runs(runs, 2, err, sizeof(err));
    assert_null(m);
    assert_non_null(strstr(err, "new_field"));
    assert_non_null(strstr(err, "no merge rule"));
    json_object_del(runs[1], "new_field");
    json_object_set_new(json_object_get(runs[0], RD_STORY), "new_count", json_integer(1));
    err[0] = '\0';
    m = merge_runs(runs, 2, err, sizeof(err));
    assert_null(m);
    assert_non_null(strstr(err, "story.new_count"));
    assert_int_equal(rundoc_check_run(runs[0], err, sizeof(err)), -1);
    json_decref(runs[0]);
    json_decref(runs[1]);
    free_run_data(rd);
}

/* Two writer entries merge into one with the same members, nothing lost. */
static void test_merge_keeps_every_member_of_the_writer(void **state)
{
    struct run_data *rd = make_run_data();
    json_t *runs[2], *m;
    const char *key;
    json_t *val;
    char err[ERRBUF_LEN] = "";

    (void)state;
    rd->has_server = true;
    runs[0] = report_run_json(rd);
    runs[1] = report_run_json(rd);
    m = merge_runs(runs, 2, err, sizeof(err));
    if (!m)
        fail_msg("%s", err);
    json_object_foreach(runs[0], key, val) {
        const struct rundoc_field *f = rundoc_field_find(rundoc_run_fields(), key);

        assert_non_null(f);
        if (f->merge != RD_MERGE_DROP && !json_object_get(m, key))
            fail_msg("merge lost %s", key);
    }
    assert_int_equal(json_integer_value(rundoc_get(m, RD_OUTCOMES, RD_ATTEMPTED)), 12);
    assert_int_equal(json_integer_value(rundoc_get(m, RD_SERVER, RD_SRV_ACCEPTED)), 10);
    assert_int_equal(json_integer_value(json_object_get(m, RD_UNSTARTED)), 2);
    assert_int_equal(json_integer_value(rundoc_get(m, RD_SYN_QUEUE, RD_Q_MAX)), 3);
    assert_true(json_is_true(json_object_get(m, RD_INTERRUPTED)));
    json_decref(m);
    json_decref(runs[0]);
    json_decref(runs[1]);
    free_run_data(rd);
}

static void test_every_section_row_has_members(void **state)
{
    (void)state;
    for (const struct rundoc_field *f = rundoc_run_fields(); f->name; f++) {
        assert_true(f->name[0] != '\0');
        assert_true((f->merge == RD_MERGE_SECTION) == (f->members != NULL));
        assert_string_not_equal(rundoc_merge_name(f->merge), "?");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_field_the_writer_emits_has_a_row),
        cmocka_unit_test(test_every_field_of_the_checked_in_results_has_a_row),
        cmocka_unit_test(test_a_field_without_a_row_makes_merge_fail),
        cmocka_unit_test(test_merge_keeps_every_member_of_the_writer),
        cmocka_unit_test(test_every_section_row_has_members),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
