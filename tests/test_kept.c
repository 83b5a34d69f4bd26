/* Nothing measured is ever lost, and no input can crash or fool qbench:
 * the cases of issue 21, run with the real binary. */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static const char *quick_config(void)
{
    return harness_file("quick.json", "{\"name\": \"quick\", \"server\": {\"backlog\": 8},"
                                      " \"client\": {\"rate\": 200, \"connections\": 40}}");
}

/* --output X.csv --connections ./X.csv: one file under two spellings is
 * refused before anything runs. */
static void test_the_same_output_under_another_spelling_is_refused(void **state)
{
    const char *cfg = quick_config();
    char out[300], conn[300], sub[300], lnk[300];
    struct stat st;

    (void)state;
    snprintf(out, sizeof(out), "%s/X.csv", harness_dir());
    snprintf(conn, sizeof(conn), "%s/./X.csv", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out,
                                                     "--connections", conn, "-q", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "same file"));
    assert_int_equal(stat(out, &st), -1);
    /* through a symbolic link among the parents */
    snprintf(sub, sizeof(sub), "%s/sub", harness_dir());
    snprintf(lnk, sizeof(lnk), "%s/lnk", harness_dir());
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(symlink(sub, lnk), 0);
    snprintf(out, sizeof(out), "%s/sub/r.csv", harness_dir());
    snprintf(conn, sizeof(conn), "%s/lnk/r.csv", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out,
                                                     "--connections", conn, "-q", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "same file"));
}

/* One SIGTERM while a shard waits for a --start-at ten minutes away ends
 * the wait at once: exit 130, a results file that says it was interrupted
 * and that nothing was measured. */
static void test_one_sigterm_ends_a_start_at_wait(void **state)
{
    const char *cfg = quick_config();
    char out[300], at[32];
    double t;
    pid_t pid;
    json_t *doc;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/wait.json", harness_dir());
    snprintf(at, sizeof(at), "%lld", (long long)time(NULL) + 600);
    pid = harness_qbench_start(
        (const char *[]){"--config", cfg, "--output", out, "--start-at", at, NULL});
    usleep(1000 * 1000);
    t = harness_now();
    kill(pid, SIGTERM);
    assert_int_equal(harness_qbench_wait(pid), 130);
    assert_true(harness_now() - t < 3.0);
    assert_non_null(strstr(harness_stderr(), "nothing was measured"));
    doc = harness_load(out);
    assert_true(json_is_true(json_object_get(doc, "interrupted")));
    assert_int_equal(harness_int(harness_run(doc, 0), "outcomes.attempted"), 0);
    json_decref(doc);
}

/* A start far in the future, or none the clock can hold, is refused. */
static void test_far_future_starts_are_refused(void **state)
{
    const char *cfg = quick_config();
    const char *bad[] = {"9999-12-31T23:59:59Z", "inf", "1e308"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(
            harness_qbench((const char *[]){"--config", cfg, "--start-at", bad[i], "-q", NULL}), 2);
        assert_non_null(strstr(harness_stderr(), "--start-at"));
    }
}

/* Half an Indexed Job setting would run the whole load on every pod. */
static void test_job_index_without_shard_count_is_refused(void **state)
{
    const char *cfg = quick_config();

    (void)state;
    setenv("JOB_COMPLETION_INDEX", "1", 1);
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "-q", NULL}), 2);
    unsetenv("JOB_COMPLETION_INDEX");
    assert_non_null(strstr(harness_stderr(), "QBENCH_SHARDS"));
}

/* A server that rewrites sysctls inside the namespace: the results say
 * what was in force, not only what qbench wrote, and qbench warns. */
static void test_a_sysctl_the_server_rewrites_is_recorded(void **state)
{
    char script[300], cfg_text[1200], out[300];
    const char *cfg;
    json_t *doc;
    const json_t *run, *changed;

    (void)state;
    harness_require_netns();
    snprintf(script, sizeof(script), "%s",
             harness_file("rewrite.py",
                          "import socket, sys\n"
                          "open('/proc/sys/net/ipv4/tcp_synack_retries', 'w').write('7')\n"
                          "open('/proc/sys/net/core/somaxconn', 'w').write('3')\n"
                          "s = socket.socket()\n"
                          "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                          "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(100)\n"
                          "while True:\n"
                          "    c, _ = s.accept(); c.send(b'h'); c.close()\n"));
    snprintf(cfg_text, sizeof(cfg_text),
             "{\"name\": \"rewrite\", \"sysctl\": {\"net.ipv4.tcp_synack_retries\": 2,"
             " \"net.core.somaxconn\": 4096}, \"server\": {\"command\": [\"python3\", \"%s\","
             " \"{host}\", \"{port}\"], \"backlog\": 100}, \"client\": {\"rate\": 100,"
             " \"connections\": 10, \"expect_greeting\": true}}",
             script);
    cfg = harness_file("rewrite.json", cfg_text);
    snprintf(out, sizeof(out), "%s/rewrite-out.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, NULL}), 0);
    assert_non_null(strstr(harness_stderr(), "net.core.somaxconn was 4096"));
    doc = harness_load(out);
    run = harness_run(doc, 0);
    changed = json_object_get(run, "sysctl_changed");
    assert_non_null(changed);
    /* sysctl names have dots: looked up whole */
    assert_int_equal(harness_int(json_object_get(changed, "net.core.somaxconn"), "written"), 4096);
    assert_int_equal(
        harness_int(json_object_get(changed, "net.core.somaxconn"), "after_server_start"), 3);
    assert_int_equal(harness_int(json_object_get(changed, "net.ipv4.tcp_synack_retries"), "at_end"),
                     7);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(run, "sysctl_in_force"),
                                                        "net.core.somaxconn")),
                     3);
    /* the kernel capped the backlog at what the server set, as recorded */
    assert_int_equal(harness_int(run, "accept_queue.limit"), 3);
    json_decref(doc);
}

/* A sweep whose second point's server will not start: point 1 is kept,
 * the file says the run is incomplete and why, exit 3. */
static void test_a_second_server_that_fails_keeps_the_first_point(void **state)
{
    char script[300], cfg_text[1500], out[300];
    const char *cfg;
    const json_t *inc;
    json_t *doc;

    (void)state;
    harness_require_netns();
    snprintf(script, sizeof(script), "%s",
             harness_file("serve.py",
                          "import socket, sys\n"
                          "if sys.argv[3] == '9':\n"
                          "    print('cannot start: refusing backlog 9', flush=True)\n"
                          "    sys.exit(1)\n"
                          "s = socket.socket()\n"
                          "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                          "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(int(sys.argv[3]))\n"
                          "while True:\n"
                          "    c, _ = s.accept(); c.send(b'h'); c.close()\n"));
    snprintf(cfg_text, sizeof(cfg_text),
             "{\"name\": \"second\", \"server\": {\"command\": [\"python3\", \"%s\", \"{host}\","
             " \"{port}\", \"{backlog}\"], \"backlog\": 8}, \"client\": {\"rate\": 200,"
             " \"connections\": 20, \"expect_greeting\": true},"
             " \"sweep\": {\"server.backlog\": [8, 9, 10]}}",
             script);
    cfg = harness_file("second.json", cfg_text);
    snprintf(out, sizeof(out), "%s/second-out.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, "-q", NULL}),
                     3);
    assert_non_null(strstr(harness_stderr(), "exited 1"));
    assert_non_null(strstr(harness_stderr(), out));
    doc = harness_load(out);
    assert_true(json_is_false(json_object_get(doc, "complete")));
    inc = json_object_get(doc, "incomplete");
    assert_non_null(inc);
    assert_int_equal(harness_int(inc, "point"), 2);
    assert_non_null(strstr(json_string_value(json_object_get(inc, "cause")), "exited 1"));
    assert_int_equal(json_array_size(json_object_get(doc, "runs")), 1);
    assert_int_equal(harness_int(harness_run(doc, 0), "outcomes.attempted"), 20);
    assert_int_equal(harness_param(harness_run(doc, 0), "server.backlog"), 8);
    json_decref(doc);
    /* readers see it: export reads it, compare refuses to judge it */
    assert_int_equal(harness_qbench((const char *[]){"export", out, NULL}), 0);
    assert_int_equal(harness_qbench((const char *[]){"compare", out, out, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "did not finish"));
}

/* The per-connection file on a disk that fills: the results (on a disk
 * with room) are still written, marked incomplete, exit 3. */
static void test_a_full_connections_disk_keeps_the_results(void **state)
{
    const char *cfg =
        harness_file("conns.json", "{\"name\": \"conns\", \"server\": {\"backlog\": 128},"
                                   " \"client\": {\"rate\": 2000, \"connections\": 3000}}");
    char out[300], conns[300];
    json_t *doc;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/conns-out.json", harness_dir());
    snprintf(conns, sizeof(conns), "%s/tiny/conns.csv", harness_dir());
    assert_int_equal(
        harness_qbench_on_tiny_fs(
            "64k", 0,
            (const char *[]){"--config", cfg, "--output", out, "--connections", conns, "-q", NULL}),
        3);
    assert_non_null(strstr(harness_stderr(), "No space left on device"));
    doc = harness_load(out);
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(doc, "incomplete"), "cause")),
               "connection"));
    assert_int_equal(harness_int(harness_run(doc, 0), "outcomes.attempted"), 3000);
    json_decref(doc);
}

/* The results' own disk is full: the document is rescued and the message
 * says where. */
static void test_a_full_results_disk_says_where_the_results_went(void **state)
{
    const char *cfg = quick_config();
    char out[300], rescued[400];
    const char *at;
    json_t *doc;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/tiny/result.json", harness_dir());
    assert_int_equal(harness_qbench_on_tiny_fs(
                         "4k", 0, (const char *[]){"--config", cfg, "--output", out, "-q", NULL}),
                     3);
    at = strstr(harness_stderr(), "kept in ");
    if (!at)
        fail_msg("stderr: %s", harness_stderr());
    sscanf(at + strlen("kept in "), "%399[^ \n;]", rescued);
    doc = harness_load(rescued);
    assert_int_equal(harness_int(harness_run(doc, 0), "outcomes.attempted"), 40);
    json_decref(doc);
}

/* A repeat that fails after another finished: the finished repeat is
 * kept, its point marked incomplete. The server starts once only (a
 * marker file says it already ran). */
static void test_a_failing_repeat_keeps_the_finished_ones(void **state)
{
    char script[300], cfg_text[1500], out[300], marker[300];
    const char *cfg;
    const json_t *run;
    json_t *doc;

    (void)state;
    harness_require_netns();
    snprintf(marker, sizeof(marker), "%s/ran-once", harness_dir());
    snprintf(script, sizeof(script), "%s",
             harness_file("once.py", "import os, socket, sys\n"
                                     "if os.path.exists(sys.argv[3]):\n"
                                     "    sys.exit(1)\n"
                                     "open(sys.argv[3], 'w').close()\n"
                                     "s = socket.socket()\n"
                                     "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                                     "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)\n"
                                     "while True:\n"
                                     "    c, _ = s.accept(); c.send(b'h'); c.close()\n"));
    snprintf(cfg_text, sizeof(cfg_text),
             "{\"name\": \"once\", \"repeat\": 3, \"server\": {\"command\": [\"python3\", \"%s\","
             " \"{host}\", \"{port}\", \"%s\"]}, \"client\": {\"rate\": 200,"
             " \"connections\": 20, \"expect_greeting\": true}}",
             script, marker);
    cfg = harness_file("once.json", cfg_text);
    snprintf(out, sizeof(out), "%s/once-out.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, "-q", NULL}),
                     3);
    doc = harness_load(out);
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_int_equal(harness_int(json_object_get(doc, "incomplete"), "repeat"), 2);
    run = harness_run(doc, 0);
    assert_non_null(json_object_get(run, "incomplete"));
    assert_int_equal(harness_int(json_object_get(run, "incomplete"), "repeats_done"), 1);
    assert_int_equal(json_array_size(json_object_get(run, "repeats")), 1);
    assert_int_equal(harness_int(run, "outcomes.attempted"), 20);
    json_decref(doc);
}

/* SIGKILL after the first point of a sweep: that point is on disk,
 * the file says the run did not finish. */
static void test_sigkill_leaves_the_finished_points(void **state)
{
    const char *cfg =
        harness_file("killed.json", "{\"name\": \"killed\", \"server\": {\"backlog\": 8},"
                                    " \"client\": {\"rate\": 200, \"connections\": 40},"
                                    " \"sweep\": {\"client.connections\": [40, 100000]}}");
    char out[300];
    struct stat st;
    pid_t pid;
    json_t *doc;
    int waited = 0;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/killed-out.json", harness_dir());
    pid = harness_qbench_start((const char *[]){"--config", cfg, "--output", out, "-q", NULL});
    while (stat(out, &st) < 0 && waited++ < 300)
        usleep(100 * 1000);
    assert_int_equal(stat(out, &st), 0);
    usleep(300 * 1000); /* into the second point */
    kill(pid, SIGKILL);
    {
        int status;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    }
    doc = harness_load(out);
    assert_true(json_is_false(json_object_get(doc, "complete")));
    assert_non_null(
        strstr(json_string_value(json_object_get(json_object_get(doc, "incomplete"), "cause")),
               "unfinished"));
    assert_int_equal(harness_int(json_object_get(doc, "incomplete"), "point"), 2);
    assert_int_equal(json_array_size(json_object_get(doc, "runs")), 1);
    assert_int_equal(harness_int(harness_run(doc, 0), "outcomes.attempted"), 40);
    json_decref(doc);
}

/* A measured file merged with itself under another spelling: a warning;
 * a merge input without started_at: exit 2 naming the field, no crash. */
static void test_one_file_merged_twice_and_a_file_without_started_at(void **state)
{
    const char *cfg = quick_config();
    char out[300], again[300], merged[300];
    json_t *doc;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/m.json", harness_dir());
    snprintf(again, sizeof(again), "%s/./m.json", harness_dir());
    snprintf(merged, sizeof(merged), "%s/merged.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, "-q", NULL}),
                     0);
    assert_int_equal(harness_qbench((const char *[]){"merge", out, again, "-o", merged, NULL}), 0);
    assert_non_null(strstr(harness_stderr(), "same file"));
    assert_non_null(strstr(harness_stderr(), "counted twice"));
    snprintf(again, sizeof(again), "%s/nostart.json", harness_dir());
    doc = harness_load(out);
    json_object_del(doc, "started_at");
    assert_int_equal(json_dump_file(doc, again, 0), 0);
    json_decref(doc);
    assert_int_equal(harness_qbench((const char *[]){"merge", again, "-o", merged, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "started_at"));
}

/* A swept client.request that a spreadsheet would run, through a real
 * run and export: defused. */
static void test_a_formula_looking_sweep_value_is_defused_in_export(void **state)
{
    const char *cfg =
        harness_file("formula.json", "{\"name\": \"formula\", \"server\": {\"backlog\": 8},"
                                     " \"client\": {\"rate\": 200, \"connections\": 5},"
                                     " \"sweep\": {\"client.request\": [\"-2+3+cmd|' /C calc'!A0\","
                                     " \"=1+1\", \"plain\"]}}");
    char out[300];

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/formula-out.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, "-q", NULL}),
                     0);
    assert_int_equal(harness_qbench((const char *[]){"export", out, NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "\n1,0,\"'-2+3+cmd|' /C calc'!A0\","));
    assert_non_null(strstr(harness_stdout(), "\n2,0,\"'=1+1\","));
    assert_non_null(strstr(harness_stdout(), "\n3,0,plain,"));
}

static void own_process_group(void)
{
    setpgid(0, 0);
}

/* Ctrl-C at a terminal signals the whole foreground process group while
 * server.command is starting: the server, in its own session, does not
 * get it; qbench does, stops in order and keeps what it has (exit 130). */
static void test_ctrl_c_while_the_server_starts(void **state)
{
    char script[300], cfg_text[1200], out[300];
    const char *cfg;
    json_t *doc;
    pid_t pid;
    int status;

    (void)state;
    harness_require_netns();
    snprintf(script, sizeof(script), "%s",
             harness_file("slow_start.py",
                          "import socket, sys, time\n"
                          "time.sleep(1.5)\n"
                          "s = socket.socket()\n"
                          "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                          "s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)\n"
                          "while True:\n"
                          "    c, _ = s.accept(); c.send(b'h'); c.close()\n"));
    snprintf(cfg_text, sizeof(cfg_text),
             "{\"name\": \"ctrlc\", \"server\": {\"command\": [\"python3\", \"%s\", \"{host}\","
             " \"{port}\"]}, \"client\": {\"rate\": 100, \"connections\": 1000,"
             " \"expect_greeting\": true}}",
             script);
    cfg = harness_file("ctrlc.json", cfg_text);
    snprintf(out, sizeof(out), "%s/ctrlc-out.json", harness_dir());
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* a stand-in for the shell: its own group, qbench in it; the
         * stand-in itself ignores the Ctrl-C (qbench installs its own) */
        own_process_group();
        signal(SIGINT, SIG_IGN);
        exit(harness_qbench((const char *[]){"--config", cfg, "--output", out, "-q", NULL}));
    }
    usleep(700 * 1000);
    kill(-pid, SIGINT);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 130);
    doc = harness_load(out);
    assert_true(json_is_true(json_object_get(doc, "interrupted")));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_the_same_output_under_another_spelling_is_refused,
                                  harness_teardown),
        cmocka_unit_test_teardown(test_one_sigterm_ends_a_start_at_wait, harness_teardown),
        cmocka_unit_test_teardown(test_far_future_starts_are_refused, harness_teardown),
        cmocka_unit_test_teardown(test_job_index_without_shard_count_is_refused, harness_teardown),
        cmocka_unit_test_teardown(test_a_sysctl_the_server_rewrites_is_recorded, harness_teardown),
        cmocka_unit_test_teardown(test_a_second_server_that_fails_keeps_the_first_point,
                                  harness_teardown),
        cmocka_unit_test_teardown(test_a_full_connections_disk_keeps_the_results, harness_teardown),
        cmocka_unit_test_teardown(test_a_failing_repeat_keeps_the_finished_ones, harness_teardown),
        cmocka_unit_test_teardown(test_sigkill_leaves_the_finished_points, harness_teardown),
        cmocka_unit_test_teardown(test_one_file_merged_twice_and_a_file_without_started_at,
                                  harness_teardown),
        cmocka_unit_test_teardown(test_a_formula_looking_sweep_value_is_defused_in_export,
                                  harness_teardown),
        cmocka_unit_test_teardown(test_ctrl_c_while_the_server_starts, harness_teardown),
        cmocka_unit_test_teardown(test_a_full_results_disk_says_where_the_results_went,
                                  harness_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
