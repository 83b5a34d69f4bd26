/* The command line's contract: exit codes, messages that name the cause,
 * nothing written on bad input, and a clean run that leaves the host alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#include <sys/resource.h>

#include "harness.h"

#define FAST_CONFIG(extra)                                                                         \
    "{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1, \"net.ipv4.tcp_syn_retries\": 1},"          \
    " \"server\": {\"backlog\": 4096, \"accept_delay_ms\": 0},"                                    \
    " \"client\": {\"rate\": 1000, \"connections\": 3000, \"connect_timeout_ms\": 5000,"           \
    "             \"greeting_timeout_ms\": 5000}" extra "}"

static int teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static void test_validate_accepts_the_shipped_configs(void **state)
{
    static const char *const configs[] = {"slow-accept", NULL};

    (void)state;
    for (const char *const *c = configs; *c; c++) {
        char path[512];

        snprintf(path, sizeof(path), "%s/configs/%s.json", QBENCH_SOURCE_DIR, *c);
        assert_int_equal(harness_qbench((const char *[]){"validate", "--config", path, NULL}), 0);
        assert_non_null(strstr(harness_stdout(), ": ok"));
    }
}

/* A repeat count the gate cannot judge by is said before anything runs. */
static void test_validate_warns_of_a_blind_gate(void **state)
{
    const char *cfg = harness_file("r.json", "{\"client\": {\"rate\": 10, \"connections\": 5}}");

    (void)state;
    assert_int_equal(
        harness_qbench((const char *[]){"validate", "--config", cfg, "--set", "repeat=2", NULL}),
        0);
    assert_non_null(strstr(harness_stderr(), "warning: repeat 2: Student's t"));
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "gate=established_ratio", NULL}),
                     0);
    assert_non_null(strstr(harness_stderr(), "warning: repeat 1: compare can judge"));
    assert_int_equal(
        harness_qbench((const char *[]){"validate", "--config", cfg, "--set", "repeat=5", NULL}),
        0);
    assert_null(strstr(harness_stderr(), "warning"));
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "gate=established_ratio,accept_p99", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "gate: unknown metric 'accept_p99'"));
}

static void test_bad_config_exits_2_names_key_and_writes_nothing(void **state)
{
    char out[256];
    const char *cfg;

    (void)state;
    snprintf(out, sizeof(out), "%s/never.json", harness_dir());
    cfg = harness_file("bad.json", "{\"client\": {\"rate\": -5, \"connections\": 10}}");
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "bad.json: client.rate: must be > 0, got -5"));
    assert_false(exists(out));
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, NULL}), 2);
}

static void test_bad_set_exits_2(void **state)
{
    const char *cfg = harness_file("ok.json", FAST_CONFIG(""));

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "server.backlog=-3", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "server.backlog: must be >= -1, got -3"));
    assert_int_equal(
        harness_qbench((const char *[]){"validate", "--config", cfg, "--set", "nonsense", NULL}),
        2);
    assert_non_null(strstr(harness_stderr(), "expected KEY=VALUE"));
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "client.rate=5", NULL}),
                     0);
    /* a bad value a --set gave is blamed on the --set, not on the file */
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "client.rate=-5", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "--set client.rate: must be > 0, got -5"));
    assert_null(strstr(harness_stderr(), "ok.json: client.rate"));
}

/* --set on a swept key replaces the sweep, with a note; --no-sweep drops it. */
static void test_set_over_a_sweep(void **state)
{
    const char *cfg = harness_file("sw.json", "{\"client\": {\"rate\": 10, \"connections\": 5},"
                                              " \"sweep\": {\"server.backlog\": [1, 2, 3]}}");

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "3 run points"));
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "server.backlog=8", NULL}),
                     0);
    assert_non_null(strstr(harness_stdout(), "1 run point "));
    assert_non_null(strstr(harness_stderr(), "note: --set server.backlog=8 replaces the sweep"));
    assert_int_equal(
        harness_qbench((const char *[]){"validate", "--config", cfg, "--no-sweep", NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "1 run point "));
    assert_int_equal(
        harness_qbench((const char *[]){"validate", "--config", cfg, "--set", "sweep={}", NULL}),
        0);
    assert_non_null(strstr(harness_stdout(), "1 run point "));
}

static size_t lines_of(const char *text)
{
    size_t n = 0;

    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* A usage error says what went wrong and where help is, in a few lines,
 * not the whole usage. */
static void test_usage_errors_are_short_with_a_hint(void **state)
{
    const char *cfg = harness_file("given.json", FAST_CONFIG(""));

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){cfg, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "did you mean qbench --config "));
    assert_true(lines_of(harness_stderr()) <= 3);
    assert_int_equal(harness_qbench((const char *[]){"plto", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "did you mean 'plot'"));
    assert_true(lines_of(harness_stderr()) <= 3);
    assert_int_equal(harness_qbench((const char *[]){"run", "--bogus", NULL}), 2);
    assert_true(lines_of(harness_stderr()) <= 3);
    assert_non_null(strstr(harness_stderr(), "qbench run --help"));
    assert_int_equal(harness_qbench((const char *[]){"run", cfg, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "did you mean --config"));
    assert_true(lines_of(harness_stderr()) <= 3);
    /* unknown help topics are errors */
    assert_int_equal(harness_qbench((const char *[]){"help", "foo", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "no topic 'foo'"));
    assert_int_equal(harness_qbench((const char *[]){"help", "plot", NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "usage: qbench plot"));
}

/* help config covers sweep, expect, repeat and which keys can be swept;
 * no range of a list shows as [0..0]. help man is roff. */
static void test_help_config_and_man(void **state)
{
    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"help", "config", NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "\n  sweep "));
    assert_non_null(strstr(harness_stdout(), "\n  expect "));
    assert_non_null(strstr(harness_stdout(), "\n  repeat "));
    assert_non_null(strstr(harness_stdout(), "server.backlog"));
    assert_non_null(strstr(harness_stdout(), "[sweepable]"));
    assert_null(strstr(harness_stdout(), "[0..0]"));
    assert_int_equal(harness_qbench((const char *[]){"help", "man", NULL}), 0);
    assert_non_null(strstr(harness_stdout(), ".TH \"QBENCH\" \"1\""));
    assert_non_null(strstr(harness_stdout(), ".SH \"CONFIG KEYS\""));
    assert_non_null(strstr(harness_stdout(), "server.backlog"));
}

static void test_usage_errors_exit_2(void **state)
{
    const char *notres = harness_file("notres.json", "{\"hello\": 1}");

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"frobnicate", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "unknown command 'frobnicate'"));
    assert_int_equal(harness_qbench((const char *[]){"run", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "--config FILE is required"));
    assert_int_equal(harness_qbench((const char *[]){"--config", "/nonexistent.json", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "/nonexistent.json: cannot open"));
    assert_int_equal(harness_qbench((const char *[]){"compare", notres, notres, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "expected \"schema\": \"qbench-result/2\""));
    assert_int_equal(harness_qbench((const char *[]){"compare", notres, NULL}), 2);
    assert_int_equal(harness_qbench((const char *[]){"plot", notres, "-o", "x.pdf", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "must end in .png or .svg"));
    assert_int_equal(
        harness_qbench((const char *[]){"compare", "--threshold", "abc", notres, notres, NULL}), 2);
}

static void read_host(const char *name, char *buf, size_t len)
{
    FILE *f = fopen(name, "r");

    assert_non_null(f);
    assert_non_null(fgets(buf, (int)len, f));
    fclose(f);
}

/* A fast acceptor takes every connection; qbench's own teardown leaves no
 * trace in the failure counters; the host's sysctls are what they were. */
static void test_fast_server_admits_everything_cleanly(void **state)
{
    static const char *const host[] = {"/proc/sys/net/ipv4/tcp_synack_retries",
                                       "/proc/sys/net/ipv4/tcp_syn_retries"};
    char before[2][64], after[2][64], out[256];
    const char *cfg = harness_file("fast.json", FAST_CONFIG(""));
    json_t *doc;
    const json_t *run;

    (void)state;
    harness_require_netns();
    for (int i = 0; i < 2; i++)
        read_host(host[i], before[i], sizeof(before[i]));
    snprintf(out, sizeof(out), "%s/fast-result.json", harness_dir());
    assert_int_equal(
        harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}), 0);
    for (int i = 0; i < 2; i++) {
        read_host(host[i], after[i], sizeof(after[i]));
        assert_string_equal(before[i], after[i]);
    }
    doc = harness_load(out);
    run = harness_run(doc, 0);
    harness_assert_outcomes_add_up(run);
    assert_int_equal(harness_int(run, "outcomes.attempted"), 3000);
    assert_int_equal(harness_int(run, "outcomes.established"), 3000);
    assert_int_equal(harness_int(run, "server.accepted"), 3000);
    assert_int_equal(harness_int(run, "latency_us.accept.count"), 3000);
    /* the sysctls were written in the namespace and read back */
    assert_int_equal(json_integer_value(json_object_get(json_object_get(run, "sysctl"),
                                                        "net.ipv4.tcp_synack_retries")),
                     1);
    /* clean measurement: nothing overflowed, and qbench's own closes sent no RST */
    assert_int_equal(harness_kernel(run, "ListenOverflows"), 0);
    assert_int_equal(harness_kernel(run, "ListenDrops"), 0);
    harness_assert_no_resets_of_qbench(run, "quick start");
    assert_int_equal(harness_kernel(run, "ActiveOpens"), 3000);
    assert_int_equal(harness_kernel(run, "PassiveOpens"), 3000);
    assert_true(harness_int(run, "latency_us.connect.p50") < 100000);
    json_decref(doc);
}

static void test_expect_failure_exits_1_and_is_recorded(void **state)
{
    char out[256];
    const char *cfg = harness_file(
        "exp.json",
        "{\"server\": {\"backlog\": 128}, \"client\": {\"rate\": 500, \"connections\": "
        "50}, \"expect\": {\"established_ratio_min\": 1.0, \"connect_max_us_max\": 0}}");
    json_t *doc;
    const json_t *e;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/exp-result.json", harness_dir());
    assert_int_equal(
        harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}), 1);
    doc = harness_load(out);
    e = json_object_get(doc, "expect");
    assert_true(json_is_true(json_object_get(json_object_get(e, "established_ratio_min"), "pass")));
    assert_false(json_is_true(json_object_get(json_object_get(e, "connect_max_us_max"), "pass")));
    /* the failed bound is named with its value and limit, the passed one is not */
    assert_non_null(strstr(harness_stderr(), "expect connect_max_us_max failed: connect_max_us"));
    assert_null(strstr(harness_stderr(), "established_ratio_min failed"));
    json_decref(doc);
}

/* The committed CI baseline, as a 4-CPU runner would have filled in
 * client.threads: judged (with a warning naming it), not refused. */
static void test_a_baseline_from_another_core_count_is_judged(void **state)
{
    char base[512], cur[256];
    json_t *doc;
    int rc;

    (void)state;
    snprintf(base, sizeof(base), "%s/results/baseline/gate.json", QBENCH_SOURCE_DIR);
    doc = harness_load(base);
    json_object_set_new(json_object_get(json_object_get(doc, "config"), "client"), "threads",
                        json_integer(4));
    snprintf(cur, sizeof(cur), "%s/gate-4cpu.json", harness_dir());
    assert_int_equal(json_dump_file(doc, cur, 0), 0);
    json_decref(doc);
    rc = harness_qbench((const char *[]){"compare", base, cur, NULL});
    if (rc != 0 && rc != 1)
        fail_msg("exit %d: %s", rc, harness_stderr());
    assert_non_null(strstr(harness_stdout(), "client.threads differs: 2 (baseline) against 4"));
}

/* Every command explains itself, with its defaults. */
static void test_every_command_has_help(void **state)
{
    static const char *const cmds[] = {"run",  "validate", "compare", "ab",
                                       "plot", "export",   "merge",   "observe"};

    (void)state;
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (harness_qbench((const char *[]){cmds[i], "--help", NULL}) != 0)
            fail_msg("%s --help failed: %s", cmds[i], harness_stderr());
        assert_non_null(strstr(harness_stdout(), "usage: qbench"));
    }
    assert_int_equal(harness_qbench((const char *[]){"compare", "--help", NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "(default 0.05)"));
    assert_int_equal(harness_qbench((const char *[]){"help", "config", NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "server.backlog"));
    assert_non_null(strstr(harness_stdout(), "net.ipv4.tcp_synack_retries"));
    assert_non_null(strstr(harness_stdout(), "established_ratio"));
}

/* The test process runs under valgrind (CI runs test_cli so). */
static bool under_valgrind(void)
{
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
    if (RUNNING_ON_VALGRIND)
        return true;
#endif
#endif
    {
        const char *pre = getenv("LD_PRELOAD");

        return pre && strstr(pre, "vgpreload");
    }
}

static void few_files(void)
{
    struct rlimit rl = {160, 160};

    setrlimit(RLIMIT_NOFILE, &rl);
}

/* Most attempts failing on qbench's own machine (EMFILE under ulimit -n
 * 160) is not a measurement of the server: exit 3, saying so; a bound on
 * error_ratio in the config is how a user accepts it. The server never
 * accepts, so every connection holds its socket until its timeout and the
 * sockets run out however slowly the client goes (under valgrind on a
 * loaded machine a paced acceptor kept up with it, and nothing failed). */
static void test_local_errors_do_not_pass(void **state)
{
    char out[256];
    const char *cfg =
        harness_file("emfile.json", "{\"server\": {\"backlog\": 8, \"accept_delay_ms\": -1},"
                                    " \"client\": {\"rate\": 400, \"connections\": 400,"
                                    " \"connect_timeout_ms\": 2000, \"greeting_timeout_ms\": 2000},"
                                    " \"expect\": {\"timeout_max\": 400}}");

    (void)state;
    harness_require_netns();
    /* valgrind keeps RLIMIT_NOFILE to itself: a limit set under it never
     * reaches the qbench it starts, so there is nothing to run out of.
     * The normal and ASan runs of this test are the ones that judge. */
    if (under_valgrind()) {
        print_message("skipped under valgrind: setrlimit(RLIMIT_NOFILE) is virtual there\n");
        skip();
    }
    snprintf(out, sizeof(out), "%s/emfile-result.json", harness_dir());
    assert_int_equal(
        harness_qbench_with((const char *[]){"--config", cfg, "--output", out, NULL}, few_files),
        3);
    assert_non_null(strstr(harness_stderr(), "failed on this machine before reaching the server"));
    assert_non_null(strstr(harness_stderr(), "EMFILE"));
    assert_non_null(strstr(harness_stderr(), "expect not judged"));
    assert_null(strstr(harness_stdout(), "passed"));
    assert_true(exists(out)); /* what was seen is still written */
    assert_int_equal(
        harness_qbench_with((const char *[]){"--config", cfg, "--output", out, "--quiet", "--set",
                                             "expect.error_ratio_max=1", NULL},
                            few_files),
        0);
}

/* The summary a person reads: counts with shares, latencies in units, no
 * JSON braces for a run without a sweep. */
static void test_summary_is_readable(void **state)
{
    char out[256];
    const char *cfg = harness_file("sum.json", "{\"server\": {\"backlog\": 128},"
                                               " \"client\": {\"rate\": 500,"
                                               " \"connections\": 50}}");

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/sum-result.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "attempted 50: established 50 (100.0%)"));
    assert_non_null(strstr(harness_stdout(), "connect_p50 "));
    assert_true(strstr(harness_stdout(), " us") || strstr(harness_stdout(), " ms"));
    assert_null(strstr(harness_stdout(), "{}"));
    assert_non_null(strstr(harness_stderr(), "1 run point x 1 repeat"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_validate_accepts_the_shipped_configs, teardown),
        cmocka_unit_test_teardown(test_validate_warns_of_a_blind_gate, teardown),
        cmocka_unit_test_teardown(test_a_baseline_from_another_core_count_is_judged, teardown),
        cmocka_unit_test_teardown(test_bad_config_exits_2_names_key_and_writes_nothing, teardown),
        cmocka_unit_test_teardown(test_bad_set_exits_2, teardown),
        cmocka_unit_test_teardown(test_usage_errors_exit_2, teardown),
        cmocka_unit_test_teardown(test_set_over_a_sweep, teardown),
        cmocka_unit_test_teardown(test_usage_errors_are_short_with_a_hint, teardown),
        cmocka_unit_test_teardown(test_help_config_and_man, teardown),
        cmocka_unit_test_teardown(test_fast_server_admits_everything_cleanly, teardown),
        cmocka_unit_test_teardown(test_expect_failure_exits_1_and_is_recorded, teardown),
        cmocka_unit_test_teardown(test_every_command_has_help, teardown),
        cmocka_unit_test_teardown(test_summary_is_readable, teardown),
        cmocka_unit_test_teardown(test_local_errors_do_not_pass, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
