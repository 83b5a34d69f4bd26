#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "plot.h"
#include "gpcheck.h"
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
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 2, \"server.backlog\": 8}", 90, 10, 0, 0, 100,
         1000, 200, 3000},
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 0, \"server.backlog\": 8}", 50, 10, 0, 40, 100,
         1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    char *script = NULL, err[ERRBUF_LEN];
    char *first, *second;

    (void)state;
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "set terminal pngcairo"));
    assert_null(strstr(script, "set output")); /* gnuplot draws to its stdout */
    assert_non_null(strstr(script, "rowstacked"));
    assert_non_null(strstr(script, "set logscale y"));
    assert_non_null(strstr(script, " 1000, 2000, 5000,"));
    assert_non_null(strstr(script, "by tcp_synack_retries")); /* the varying key */
    assert_non_null(strstr(script, "title \"greeting_timeout: no greeting, server side unknown\""));
    /* the legend names only the classes that happened, each with a meaning */
    assert_null(strstr(script, "title \"never_accepted:"));
    assert_null(strstr(script, "title \"reset:"));
    assert_non_null(strstr(script, "title \"timeout: SYNs dropped, no handshake\""));
    assert_non_null(strstr(script, "milliseconds"));
    assert_non_null(strstr(script, "kernel ")); /* caption */
    /* x values sorted numerically: the 0 point comes before the 2 point */
    assert_non_null(strstr(script, "set xtics ('0' 0, '2' 1)"));
    first = strstr(script, "\n0 0.5");
    second = strstr(script, "\n1 0.9");
    assert_non_null(first);
    assert_non_null(second);
    assert_true(first < second);
    /* the greeting_timeout column carries 40 of 100 */
    assert_non_null(strstr(script, "\n0 0.500000 0.100000 0.000000 0.000000 0.400000"));
    assert_null(gpcheck(script));
    free(script);
    json_decref(doc);
}

static void test_single_run_script_draws_timeline_and_queue(void **state)
{
    struct fake_run runs[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_SVG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "set terminal svg"));
    /* a closing row of zeros draws the last interval to its end */
    assert_non_null(strstr(script, "$timeline << EOD\n0.000 10 8 0 0 0 0 0 0 0 0 0\n"
                                   "0.100 10 5 3 0 0 0 0 0 0 0 0\n"
                                   "0.200 0 0 0 0 0 0 0 0 0 0 0\nEOD"));
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
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "set xtics ('1' 0, '2' 1)"));
    assert_non_null(strstr(script, "\n0 0.1000 1.0000 NaN NaN"));
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
    assert_int_equal(
        plot_script(&doc, 1, "server.no_such_key", PLOT_PNG, &script, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--x server.no_such_key"));
    assert_int_equal(
        plot_script(&doc, 1, "sysctl.net.ipv4.no_such_sysctl", PLOT_PNG, &script, err, sizeof(err)),
        -1);
    assert_non_null(strstr(err, "--x sysctl.net.ipv4.no_such_sysctl"));
    /* the refusal lists what would work */
    assert_non_null(strstr(err, "what varies between them: rate (client.rate)"));
    json_decref(doc);
}

/* --x takes every name the plots show: the short name on the axis, a
 * sysctl with or without "sysctl.", the full key. */
static void test_x_takes_the_names_the_plot_shows(void **state)
{
    static const char *const names[] = {"tcp_synack_retries", "net.ipv4.tcp_synack_retries",
                                        "sysctl.net.ipv4.tcp_synack_retries"};
    struct fake_run runs[] = {
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 2}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 0}", 50, 10, 0, 40, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        assert_int_equal(plot_script(&doc, 1, names[i], PLOT_PNG, &script, err, sizeof(err)), 0);
        assert_non_null(strstr(script, "set xtics ('0' 0, '2' 1)"));
        assert_non_null(strstr(script, "by tcp_synack_retries'"));
        free(script);
    }
    /* the short name of a constant setting: refused for being constant */
    assert_int_equal(plot_script(&doc, 1, "backlog", PLOT_PNG, &script, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "every run has the same value (8)"));
    assert_non_null(strstr(err, "sysctl.net.ipv4.tcp_synack_retries"));
    json_decref(doc);
}

/* One run is a timeline: --x there is an error that says why, not a
 * flag silently ignored. */
static void test_x_on_one_run_is_explained(void **state)
{
    struct fake_run runs[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, "server.backlog", PLOT_PNG, &script, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "--x server.backlog: one run is drawn as a timeline"));
    json_decref(doc);
}

/* An interrupted sweep says so in the title, on the point, and draws its
 * in-flight connections as unfinished, not as local errors. */
static void test_interrupted_runs_are_marked(void **state)
{
    struct fake_run runs[] = {
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 0}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"sysctl.net.ipv4.tcp_synack_retries\": 2}", 60, 10, 0, 0, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    json_t *run1 = json_array_get(json_object_get(doc, "runs"), 1);
    json_t *o = json_object_get(run1, "outcomes");
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_null(strstr(script, "INTERRUPTED"));
    assert_null(strstr(script, "unfinished"));
    free(script);

    json_object_set_new(doc, "interrupted", json_true());
    json_object_set_new(run1, "interrupted", json_true());
    json_object_set_new(o, "error", json_integer(30));
    json_object_set_new(o, "attempted", json_integer(100));
    json_object_set_new(json_object_get(o, "errors"), "INTERRUPTED", json_integer(30));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "qbench fake (INTERRUPTED): what clients saw"));
    assert_non_null(strstr(script, "'Interrupted: 1 marked point did not finish"));
    assert_non_null(strstr(script, "set label 'interrupted' at first 1, first 1.06"));
    /* 30 of 100 unfinished, none of them a local error */
    assert_non_null(strstr(script, "\n1 0.600000 0.100000 0.000000 0.000000 0.000000 0.000000 "
                                   "0.000000 0.000000 0.300000\n"));
    assert_non_null(strstr(script, "title \"unfinished: in flight when the run was stopped\""));
    assert_null(strstr(script, "title \"error:"));
    assert_null(gpcheck(script));
    free(script);
    json_decref(doc);

    /* one interrupted run: its timeline's error line is the unfinished */
    doc = fake_doc(runs, 1);
    run1 = json_array_get(json_object_get(doc, "runs"), 0);
    o = json_object_get(run1, "outcomes");
    json_object_set_new(doc, "interrupted", json_true());
    json_object_set_new(run1, "interrupted", json_true());
    json_object_set_new(o, "error", json_integer(30));
    json_object_set_new(json_object_get(o, "errors"), "INTERRUPTED", json_integer(30));
    /* rows with a column per class: attempted, established, failed, then
     * established ... error */
    json_object_set_new(
        run1, "timeline",
        json_pack("[[i,i,i,i,i,i,i,i,i,i,i,i]]", 0, 100, 60, 40, 60, 10, 0, 0, 0, 0, 0, 30));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "(INTERRUPTED): one run over time"));
    assert_non_null(strstr(script, "title \"unfinished: in flight when the run was stopped\""));
    assert_null(strstr(script, "local error"));
    free(script);
    json_decref(doc);
}

/* H21's marker: a document that says it is incomplete, with its cause. */
static void test_incomplete_documents_say_why(void **state)
{
    struct fake_run runs[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(doc, "complete", json_false());
    json_object_set_new(doc, "incomplete", json_pack("{s:s}", "cause", "server 'x' died"));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_SVG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "qbench fake (INCOMPLETE): one run over time"));
    assert_non_null(strstr(script, "'Incomplete (server ''x'' died): the run did not finish"));
    assert_null(gpcheck(script));
    free(script);
    json_decref(doc);
}

/* Both panels of a picture share their left and right edges, so one x
 * value is one vertical line; the caption wraps instead of running off
 * the right edge. */
static void test_panels_align_and_caption_wraps(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"client.rate\": 2}", 50, 10, 0, 40, 100, 1000, 200, 3000},
    };
    for (size_t nruns = 1; nruns <= 2; nruns++) {
        json_t *doc = fake_doc(runs, nruns);
        char *script = NULL, err[ERRBUF_LEN], name[64];
        size_t lm = 0, rm = 0, lines = 0;

        (void)state;
        for (size_t r = 0; r < nruns; r++) {
            json_t *sys =
                json_object_get(json_array_get(json_object_get(doc, "runs"), r), "sysctl");

            for (int i = 0; i < 20; i++) {
                snprintf(name, sizeof(name), "net.ipv4.tcp_some_long_setting_%d", i);
                json_object_set_new(sys, name, json_integer(1000 + i));
            }
        }
        assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
        for (const char *p = script; (p = strstr(p, "set lmargin at screen 0.075\n")); p++)
            lm++;
        for (const char *p = script; (p = strstr(p, "set rmargin at screen 0.640\n")); p++)
            rm++;
        assert_int_equal(lm, 2);
        assert_int_equal(rm, 2);
        /* caption lines: screen labels at x 0.01, each at most 180 characters */
        for (const char *p = script; (p = strstr(p, "\nset label '")); p++) {
            const char *end = strstr(p + 12, "' at screen 0.010");
            const char *nl = strchr(p + 1, '\n');

            if (end && nl && end < nl) {
                assert_true(end - (p + 12) <= 180);
                lines++;
            }
        }
        assert_true(lines >= 3);
        assert_non_null(strstr(script, "tcp_some_long_setting_1 1001"));
        free(script);
        json_decref(doc);
    }
}

/* Under each point, what its percentiles stand on, in words; the time
 * failures took is drawn where the results carry it. */
static void test_counts_say_what_they_count(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"client.rate\": 2}", 50, 10, 0, 40, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    json_t *run0 = json_array_get(json_object_get(doc, "runs"), 0);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(json_object_get(run0, "latency_us"), "timeout",
                        fake_hist(3000000, 3000000, 10));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "set label 'served 90/100' at first 0"));
    assert_non_null(strstr(script, "set label 'served 50/100' at first 1"));
    assert_non_null(strstr(script, "set label '90 handshakes' at first 0"));
    assert_non_null(strstr(script, "accept p50 (of the served only)"));
    assert_non_null(strstr(script, "title \"timeout p50: until the client knew\""));
    /* timeout p50 of point 0 is 3000 ms; point 1 carries none: a gap */
    assert_non_null(strstr(script, "\n0 0.1000 1.0000 0.2000 3.0000 NaN 3000.0000 "));
    assert_null(gpcheck(script));
    free(script);
    json_decref(doc);
}

/* A sweep over client.rate plotted against server.backlog (8 in every
 * run) would label every bar "8": an error that names what varies. */
static void test_x_on_a_constant_setting_is_an_error(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 0, 0},
        {"{\"client.rate\": 2}", 90, 10, 0, 0, 100, 1000, 0, 0},
    };
    json_t *doc = fake_doc(runs, 2);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plot_script(&doc, 1, "server.backlog", PLOT_PNG, &script, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "--x server.backlog: every run has the same value (8)"));
    assert_non_null(strstr(err, "what varies: client.rate"));
    assert_int_equal(plot_script(&doc, 1, "client.rate", PLOT_PNG, &script, err, sizeof(err)), 0);
    free(script);
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
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by tcp_synack_retries"));
    assert_non_null(strstr(script, "set xtics ('0' 0, '3' 1)")); /* sorted: 0 before 3 */
    assert_non_null(strstr(script, "\n0 0.5"));
    assert_null(strstr(script, "| tcp_synack_retries")); /* not in the caption */
    free(script);

    /* the same sysctls, a different backlog in the config */
    json_object_set_new(json_object_get(run1, "sysctl"), "net.ipv4.tcp_synack_retries",
                        json_integer(3));
    json_object_set_new(json_object_get(json_object_get(docs[1], "config"), "server"), "backlog",
                        json_integer(2));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by backlog"));
    assert_null(strstr(script, "| backlog 8"));
    assert_non_null(strstr(script, "| accept every 50 ms"));
    free(script);
    assert_int_equal(plot_script(docs, 2, "server.backlog", PLOT_PNG, &script, err, sizeof(err)),
                     0);
    assert_non_null(strstr(script, "set xtics ('2' 0, '8' 1)"));
    free(script);

    /* unrelated experiments differ in several settings: all of them label a run */
    json_object_set_new(json_object_get(run1, "sysctl"), "net.ipv4.tcp_synack_retries",
                        json_integer(0));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by tcp_synack_retries, backlog'"));
    assert_non_null(strstr(script, "set xtics ('3, 8' 0, '0, 2' 1)"));
    assert_null(strstr(script, "| backlog"));
    free(script);

    /* more than three differ: three label the runs, the caption names the rest */
    json_object_set_new(json_object_get(json_object_get(docs[1], "config"), "server"),
                        "accept_delay_ms", json_integer(10));
    json_object_set_new(json_object_get(json_object_get(docs[1], "config"), "client"), "rate",
                        json_real(400));
    assert_int_equal(plot_script(docs, 2, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "by tcp_synack_retries, backlog, accept_delay_ms'"));
    assert_non_null(strstr(script, "'0, 2, 10' 1"));
    assert_non_null(strstr(script, "| also differ between runs: rate'"));
    assert_null(strstr(script, "| rate"));
    assert_null(strstr(script, "accept every"));
    free(script);
    json_decref(docs[0]);
    json_decref(docs[1]);
}

/* Strings an attacker controls in a results file: each must reach the
 * script only inside a single-quoted string (where gnuplot substitutes
 * nothing), literally, with quotes doubled and '%' doubled in tic labels. */
static const char *const hostile[] = {
    "demo`id>PWNED`", "@x @ARG0 $ARG1",
    "a'b''c",         "\" ; system(\"id\") ; \"",
    "%s%n%d%%",       "line\nbreak\rreturn\x1b[31m",
    "\\`\\'",         "EOD",
    "x << EOD",       "'; system('id'); '",
};

/* Where a run's strings can come from in a file: the experiment's name,
 * the kernel, a sysctl read back, a swept value, a config value. */
static void plant(json_t *doc, const char *field, const char *s)
{
    json_t *run0 = json_array_get(json_object_get(doc, "runs"), 0);

    if (strcmp(field, "name") == 0 || strcmp(field, "kernel") == 0)
        json_object_set_new(doc, field, json_string(s));
    else if (strcmp(field, "sysctl") == 0)
        json_object_set_new(json_object_get(run0, "sysctl"), "net.ipv4.tcp_synack_retries",
                            json_string(s));
    else if (strcmp(field, "sysctl_name") == 0)
        json_object_set_new(json_object_get(run0, "sysctl"), s, json_integer(1));
    else if (strcmp(field, "params") == 0)
        json_object_set_new(json_object_get(run0, "params"), s, json_string(s));
    else
        json_object_set_new(json_object_get(json_object_get(doc, "config"), "server"), "backlog",
                            json_string(s));
}

static void test_hostile_strings_stay_literal(void **state)
{
    static const char *const fields[] = {"name",        "kernel", "sysctl",
                                         "sysctl_name", "params", "config"};
    char err[ERRBUF_LEN];

    (void)state;
    for (size_t h = 0; h < sizeof(hostile) / sizeof(hostile[0]); h++) {
        for (size_t fi = 0; fi < sizeof(fields) / sizeof(fields[0]); fi++) {
            for (size_t nruns = 1; nruns <= 2; nruns++) {
                struct fake_run runs[] = {
                    {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 200, 3000},
                    {"{\"client.rate\": 2}", 50, 10, 0, 40, 100, 1000, 200, 3000},
                };
                json_t *doc = fake_doc(runs, nruns);
                char *script = NULL;
                const char *bad;

                plant(doc, fields[fi], hostile[h]);
                for (int fmt = PLOT_PNG; fmt <= PLOT_SVG; fmt++) {
                    assert_int_equal(plot_script(&doc, 1, NULL, (enum plot_format)fmt, &script, err,
                                                 sizeof(err)),
                                     0);
                    bad = gpcheck(script);
                    if (bad)
                        fail_msg("%s in %s (%zu runs): %s", hostile[h], fields[fi], nruns, bad);
                    free(script);
                }
                json_decref(doc);
            }
        }
    }
}

static void test_names_are_single_quoted_literally(void **state)
{
    struct fake_run runs[] = {{"{}", 1, 0, 0, 0, 1, 1, 1, 1}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(doc, "name", json_string("demo`id>PWNED` it's"));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "title 'qbench demo`id>PWNED` it''s: one run over time'"));
    free(script);
    json_decref(doc);
}

/* A kernel string longer than the caption once overflowed a stack buffer:
 * the caption is cut, and everything after it is still written. */
static void test_long_strings_are_cut_not_overflowed(void **state)
{
    struct fake_run runs[] = {{"{}", 1, 0, 0, 0, 1, 1, 1, 1}};
    json_t *doc = fake_doc(runs, 1);
    char *script = NULL, err[ERRBUF_LEN], *big = malloc(5000), *sys = malloc(300);
    json_t *run0 = json_array_get(json_object_get(doc, "runs"), 0);

    (void)state;
    memset(big, 'k', 4999);
    big[4999] = '\0';
    json_object_set_new(doc, "kernel", json_string(big));
    json_object_set_new(doc, "name", json_string(big));
    for (int i = 0; i < 40; i++) {
        memset(sys, 's', 299);
        sys[299] = '\0';
        sys[0] = (char)('A' + i);
        json_object_set_new(json_object_get(run0, "sysctl"), sys, json_string(big));
    }
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_null(gpcheck(script));
    assert_non_null(strstr(script, "unset multiplot"));
    assert_null(strstr(script, big)); /* cut, not copied whole */
    free(script);
    free(big);
    free(sys);
    json_decref(doc);
}

/* Repeats: whiskers from the spread, so two points can be told apart. */
static void test_repeats_draw_their_spread(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.rate\": 1}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"client.rate\": 2}", 50, 10, 0, 40, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    json_t *run0 = json_array_get(json_object_get(doc, "runs"), 0);
    char *script = NULL, err[ERRBUF_LEN];

    (void)state;
    json_object_set_new(run0, "spread",
                        json_pack("{s:{s:f, s:f, s:f}}", "established_ratio", "median", 0.9, "min",
                                  0.85, "max", 0.95));
    assert_int_equal(plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)), 0);
    assert_non_null(strstr(script, "$spread << EOD\n0 0.900000 0.850000 0.950000 NaN NaN NaN"));
    assert_non_null(strstr(script, "with yerrorbars"));
    assert_null(gpcheck(script));
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
        cmocka_unit_test(test_x_on_a_constant_setting_is_an_error),
        cmocka_unit_test(test_x_takes_the_names_the_plot_shows),
        cmocka_unit_test(test_x_on_one_run_is_explained),
        cmocka_unit_test(test_interrupted_runs_are_marked),
        cmocka_unit_test(test_incomplete_documents_say_why),
        cmocka_unit_test(test_panels_align_and_caption_wraps),
        cmocka_unit_test(test_counts_say_what_they_count),
        cmocka_unit_test(test_repeats_draw_their_spread),
        cmocka_unit_test(test_files_without_params_plot_against_what_differs),
        cmocka_unit_test(test_hostile_strings_stay_literal),
        cmocka_unit_test(test_names_are_single_quoted_literally),
        cmocka_unit_test(test_long_strings_are_cut_not_overflowed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
