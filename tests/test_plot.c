#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "plot.h"
#include "testdocs.h"

static void test_format_from_extension(void **state)
{
    (void)state;
    assert_int_equal(plot_format_of("a/b.png"), PLOT_PNG);
    assert_int_equal(plot_format_of("x.SVG"), PLOT_SVG);
    assert_int_equal(plot_format_of("x.pdf"), -1);
    assert_int_equal(plot_format_of("png"), -1);
}

static void test_sweep_script_stacks_outcomes_in_x_order(void **state)
{
    struct fake_run runs[] = {
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 2, \"server.backlog\": 8}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 0, \"server.backlog\": 8}", 50, 10, 0, 40, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    char *script = NULL, err[ERRBUF_LEN];
    char *first, *second;

    (void)state;
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, "/tmp/o.png", &script, err,
                                 sizeof(err)), 0);
    assert_non_null(strstr(script, "set terminal pngcairo"));
    assert_non_null(strstr(script, "set output \"/tmp/o.png\""));
    assert_non_null(strstr(script, "rowstacked"));
    assert_non_null(strstr(script, "set logscale y"));
    assert_non_null(strstr(script, " 1000, 2000, 5000,"));
    assert_non_null(strstr(script, "by tcp_synack_retries"));     /* the varying key */
    assert_non_null(strstr(script, "title \"greeting_timeout\""));
    assert_non_null(strstr(script, "milliseconds"));
    assert_non_null(strstr(script, "kernel "));                  /* caption */
    /* x values sorted numerically: the 0 row comes before the 2 row */
    first = strstr(script, "\"0\" 0.5");
    second = strstr(script, "\"2\" 0.9");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    /* the greeting_timeout column carries 40 of 100 */
    assert_non_null(strstr(script, "\"0\" 0.500000 0.100000 0.000000 0.000000 0.400000"));
    free(script);
    json_decref(doc);
}

static void test_single_run_script_draws_timeline_and_queue(void **state)
{
    struct fake_run runs[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_SVG, "/tmp/o.svg", &script, err,
                                 sizeof(err)), 0);
    assert_non_null(strstr(script, "set terminal svg"));
    assert_non_null(strstr(script, "$timeline << EOD\n0.000 10 8 0\n0.100 10 5 3\nEOD"));
    assert_non_null(strstr(script, "$queue << EOD\n0.000 0\n0.010 9\nEOD"));
    assert_non_null(strstr(script, "capacity 9")); /* limit 8 + 1 per listener */
    free(script);
    json_decref(doc);
}

static void test_missing_latency_is_a_gap_not_zero(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 0, 0},
        {"{\"client.rate\": 2}", 90, 10, 0, 0, 100, 1000, 0, 0},
    };
    json_t *doc = fake_doc(runs, 2);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, "o.png", &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "\"1\" 0.1000 1.0000 NaN NaN"));
    free(script);
    json_decref(doc);
}

static void test_unknown_x_param_is_an_error(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 0, 0},
        {"{\"client.rate\": 2}", 90, 10, 0, 0, 100, 1000, 0, 0},
    };
    json_t *doc = fake_doc(runs, 2);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, "server.no_such_key", PLOT_PNG, "o.png", &script, err,
                                 sizeof(err)), -1);
    assert_non_null(strstr(err, "--x server.no_such_key"));
    assert_int_equal(plot_script(&doc, 1, "sysctl.net.ipv4.no_such_sysctl", PLOT_PNG, "o.png",
                                 &script, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--x sysctl.net.ipv4.no_such_sysctl"));
    json_decref(doc);
}

/* Files made one at a time (--set, no sweep) have empty params: the x axis
 * comes from what differs between them, the sysctls read back first, then
 * the config, and the caption does not claim the first file's value. */
static void test_files_without_params_plot_against_what_differs(void **state)
{
    struct fake_run one[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    struct fake_run two[] = {{"{}", 50, 10, 0, 40, 100, 1000, 200, 3000}};
    json_t *docs[2] = {fake_doc(one, 1), fake_doc(two, 1)};
    json_t *run0 = json_array_get(json_object_get(docs[0], "runs"), 0);
    json_t *run1 = json_array_get(json_object_get(docs[1], "runs"), 0);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(json_object_get(run0, "sysctl"), "net.ipv4.tcp_synack_retries",
                        json_integer(3));
    json_object_set_new(json_object_get(run1, "sysctl"), "net.ipv4.tcp_synack_retries",
                        json_integer(0));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, "o.png", &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by tcp_synack_retries"));
    assert_non_null(strstr(script, "\"0\" 0.5")); /* sorted: 0 before 3 */
    assert_true(strstr(script, "\"0\" 0.5") < strstr(script, "\"3\" 0.9"));
    assert_null(strstr(script, "| tcp_synack_retries")); /* not in the caption */
    free(script);

    /* the same sysctls, a different backlog in the config */
    json_object_set_new(json_object_get(run1, "sysctl"), "net.ipv4.tcp_synack_retries",
                        json_integer(3));
    json_object_set_new(json_object_get(json_object_get(docs[1], "config"), "server"), "backlog",
                        json_integer(2));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, "o.png", &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by backlog"));
    assert_null(strstr(script, "| backlog 8"));
    assert_non_null(strstr(script, "| accept every 50 ms"));
    free(script);
    assert_int_equal(plot_script(docs, 2, "server.backlog", PLOT_PNG, "o.png", &script, err,
                                 sizeof(err)), 0);
    assert_non_null(strstr(script, "\"2\" 0.5"));
    free(script);

    /* unrelated experiments differ in several settings: all of them label a run */
    json_object_set_new(json_object_get(run1, "sysctl"), "net.ipv4.tcp_synack_retries",
                        json_integer(0));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, "o.png", &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by tcp_synack_retries, backlog\""));
    assert_non_null(strstr(script, "\"3, 8\" 0.9"));
    assert_non_null(strstr(script, "\"0, 2\" 0.5"));
    assert_null(strstr(script, "| backlog"));
    free(script);

    /* more than three differ: three label the runs, the caption names the rest */
    json_object_set_new(json_object_get(json_object_get(docs[1], "config"), "server"),
                        "accept_delay_ms", json_integer(10));
    json_object_set_new(json_object_get(json_object_get(docs[1], "config"), "client"), "rate",
                        json_real(400));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, "o.png", &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by tcp_synack_retries, backlog, accept_delay_ms\""));
    assert_non_null(strstr(script, "\"0, 2, 10\" 0.5"));
    assert_non_null(strstr(script, "| also differ between runs: rate\""));
    assert_null(strstr(script, "| rate"));
    assert_null(strstr(script, "accept every"));
    free(script);
    json_decref(docs[0]);
    json_decref(docs[1]);
}

static void test_titles_are_quoted(void **state)
{
    struct fake_run runs[] = {{"{}", 1, 0, 0, 0, 1, 1, 1, 1}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(doc, "name", json_string("evil\" ; system(\"rm -rf /\")"));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, "o.png", &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "evil\\\" ; system(\\\"rm -rf /\\\")"));
    free(script);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_from_extension),
        cmocka_unit_test(test_sweep_script_stacks_outcomes_in_x_order),
        cmocka_unit_test(test_single_run_script_draws_timeline_and_queue),
        cmocka_unit_test(test_missing_latency_is_a_gap_not_zero),
        cmocka_unit_test(test_unknown_x_param_is_an_error),
        cmocka_unit_test(test_files_without_params_plot_against_what_differs),
        cmocka_unit_test(test_titles_are_quoted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
