/* Real servers no one here wrote, run by qbench in its own namespace
 * (server.command), and a listener qbench did not start, observed through
 * sock_diag. nginx comes from Debian (scripts/setup.sh installs it). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "harness.h"
#include "netns.h"

static int teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

static void need_nginx(void)
{
    if (access("/usr/sbin/nginx", X_OK) == 0)
        return;
    if (getenv("QBENCH_REQUIRE_NETNS"))
        fail_msg("nginx is not installed (scripts/setup.sh installs nginx-light)");
    skip();
}

/* nginx whose single worker blocks on a full access-log FIFO after some
 * 600 requests (a worker stuck on slow disk I/O): its listen backlog then
 * fills and stays full. */
static const char *nginx_config(const char *name, int backlog, int connections)
{
    static char text[2048];

    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1, \"net.ipv4.tcp_syn_retries\": 1},"
             " \"server\": {\"command\": [\"sh\", \"-c\", \"mkfifo {dir}/access.fifo && "
             "(exec 3<>{dir}/access.fifo; exec sleep 3600) & exec nginx -p {dir} -c "
             "{dir}/nginx.conf -e {dir}/error.log -g 'daemon off;'\"],"
             "  \"files\": {\"nginx.conf\": \"%s/configs/servers/nginx.conf.in\"},"
             "  \"backlog\": %d},"
             " \"client\": {\"rate\": 400, \"connections\": %d, \"greeting_timeout_ms\": 1500,"
             "  \"connect_timeout_ms\": 3500, \"request\": \"GET / HTTP/1.0\\r\\n\\r\\n\"}}",
             QBENCH_SOURCE_DIR, backlog, connections);
    return harness_file(name, text);
}

/* Closing gracefully against a real server moves none of the reset
 * counters: asked something (a request, no greeting awaited), the client
 * reads the answer to the server's close before closing; asked nothing, it
 * half-closes first and spreads its sources, so its TIME_WAITs do not
 * collide. Closing right after the handshake, as qbench once did, drew an
 * RST from the client's kernel for nine connections in ten. The rate is one
 * a single nginx worker keeps up with beside two busy loops: at 2,000/s it
 * fell behind there and reset 291 of 3,000 itself (nginx's doing, which
 * the counters cannot tell from qbench's). */
static void test_graceful_close_against_nginx_sends_no_resets(void **state)
{
    static const char *const request[] = {", \"request\": \"GET / HTTP/1.0\\r\\n\\r\\n\"", ""};

    (void)state;
    harness_require_netns();
    need_nginx();
    for (size_t i = 0; i < 2; i++) {
        char text[1024], out[256];
        const char *cfg;
        json_t *doc;
        const json_t *run;
        const char *sources;

        snprintf(text, sizeof(text),
                 "{\"server\": {\"command\": [\"nginx\", \"-p\", \"{dir}\", \"-c\", "
                 "\"{dir}/nginx.conf\", \"-e\", \"{dir}/error.log\", \"-g\", \"daemon off;\"],"
                 "  \"files\": {\"nginx.conf\": \"%s/configs/servers/nginx-fast.conf.in\"},"
                 "  \"backlog\": 1024},"
                 " \"client\": {\"rate\": 1000, \"connections\": 2000, \"expect_greeting\": false,"
                 "  \"close\": \"graceful\"%s}}",
                 QBENCH_SOURCE_DIR, request[i]);
        cfg = harness_file("nginx-close.json", text);
        snprintf(out, sizeof(out), "%s/nginx-close-%zu.json", harness_dir(), i);
        if (harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}) !=
            0)
            fail_msg("run failed: %s", harness_stderr());
        doc = harness_load(out);
        run = harness_run(doc, 0);
        assert_int_equal(harness_int(run, "outcomes.established"), 2000);
        harness_assert_no_resets_of_qbench(run, i == 0 ? "with a request" : "asked nothing");
        /* the sources the client spread over when it closes first */
        sources = json_string_value(json_object_get(
            json_object_get(json_object_get(doc, "config"), "client"), "source_addresses"));
        if (i == 0)
            assert_true(!sources || !sources[0]);
        else
            assert_string_equal(sources ? sources : "(none)", "127.0.0.1-127.0.0.64");
        json_decref(doc);
    }
}

static void test_nginx_fills_its_backlog_plus_one(void **state)
{
    const char *cfg;
    char out[256];
    int before = harness_count_descendants("nginx");
    json_t *doc;
    const json_t *run, *aq;

    (void)state;
    harness_require_netns();
    need_nginx();
    cfg = nginx_config("nginx.json", 8, 1000);
    snprintf(out, sizeof(out), "%s/nginx-out.json", harness_dir());
    if (harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    harness_assert_outcomes_add_up(run);
    /* nginx answered the requests it could: "established" means served */
    /* and failed the rest. Not necessarily by timeouts: under ASan beside
     * two busy loops one run in 20 had none (its mix was not recorded; the
     * message below now says it). What this test is about is the queue. */
    if (harness_int(run, "outcomes.established") <= 100 ||
        harness_int(run, "outcomes.established") >= harness_int(run, "outcomes.attempted"))
        fail_msg("established %lld timeout %lld greeting_timeout %lld never_accepted %lld "
                 "accepted_late %lld reset %lld; accept queue max %lld",
                 harness_int(run, "outcomes.established"), harness_int(run, "outcomes.timeout"),
                 harness_int(run, "outcomes.greeting_timeout"),
                 harness_int(run, "outcomes.never_accepted"),
                 harness_int(run, "outcomes.accepted_late"), harness_int(run, "outcomes.reset"),
                 harness_int(run, "accept_queue.max"));
    /* the accept queue, from the kernel: the backlog nginx's config asked
     * for, and backlog + 1 admitted once the worker stopped accepting */
    aq = json_object_get(run, "accept_queue");
    assert_non_null(aq);
    assert_string_equal(json_string_value(json_object_get(aq, "source")), "sock_diag");
    assert_int_equal(harness_int(run, "accept_queue.limit"), 8);
    if (harness_int(run, "accept_queue.max") < 9 || harness_int(run, "accept_queue.max") > 10)
        fail_msg("accept queue max %lld, expected backlog + 1 (9)",
                 harness_int(run, "accept_queue.max"));
    assert_true(json_array_size(json_object_get(aq, "samples")) > 10);
    assert_true(json_is_array(json_object_get(json_object_get(run, "syn_queue"), "samples")));
    assert_string_equal(json_string_value(json_object_get(run, "kernel_scope")), "namespace");
    /* its log is named, and no nginx outlives the run */
    assert_non_null(strstr(
        json_string_value(json_object_get(json_object_get(run, "server"), "log")), "server.log"));
    assert_int_equal(harness_count_descendants("nginx"), before);
    json_decref(doc);
}

static void test_a_server_that_fails_to_start_is_exit_3_with_its_stderr(void **state)
{
    const char *cfg =
        harness_file("fail.json", "{\"server\": {\"command\": [\"sh\", \"-c\", \"echo "
                                  "boom-marker >&2; exit 7\"]},"
                                  " \"client\": {\"rate\": 10, \"connections\": 1}}");
    const char *never =
        harness_file("never.json", "{\"server\": {\"command\": [\"sh\", \"-c\", \"echo "
                                   "waiting-marker; exec sleep 3600\"], "
                                   "\"ready_timeout_ms\": 500},"
                                   " \"client\": {\"rate\": 10, \"connections\": 1}}");
    char out[256];
    double t0;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/fail-out.json", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"--config", cfg, "--output", out, NULL}), 3);
    assert_non_null(strstr(harness_stderr(), "exited 7 before listening"));
    assert_non_null(strstr(harness_stderr(), "boom-marker"));
    assert_int_equal(access(out, F_OK), -1);
    /* one that never listens: given up after ready_timeout_ms, and killed */
    t0 = harness_now();
    assert_int_equal(harness_qbench((const char *[]){"--config", never, "--output", out, NULL}), 3);
    /* what matters: it gave up instead of waiting for the hour-long sleep,
     * and the sleep is gone. The bound leaves a loaded machine (sanitizers,
     * other jobs) 60 times the ready timeout. */
    assert_true(harness_now() - t0 < 30.0);
    assert_int_equal(harness_count_descendants("sleep"), 0);
    assert_non_null(strstr(harness_stderr(), "did not listen"));
    assert_non_null(strstr(harness_stderr(), "waiting-marker"));
}

/* qbench killed with SIGKILL mid-run: its server's PID namespace dies with
 * it, workers and all. */
static void test_no_server_outlives_a_killed_qbench(void **state)
{
    const char *cfg;
    char out[256];
    int before = harness_count_descendants("nginx");
    pid_t pid;
    int status;

    (void)state;
    harness_require_netns();
    need_nginx();
    cfg = nginx_config("kill.json", 8, 100000);
    snprintf(out, sizeof(out), "%s/kill-out.json", harness_dir());
    pid = harness_qbench_start((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL});
    /* up to 30 s for nginx to start on a loaded machine */
    for (int i = 0; i < 600 && harness_count_descendants("nginx") < before + 2; i++)
        usleep(50000);
    assert_true(harness_count_descendants("nginx") >= before + 2); /* master and worker */
    usleep(300000);
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    for (int i = 0; i < 400 && harness_count_descendants("nginx") > before; i++)
        usleep(50000);
    assert_int_equal(harness_count_descendants("nginx"), before);
}

/* A listener qbench did not start, in a namespace the test made: qbench
 * runs there with isolate: false and samples both of its queues. */

static void test_a_foreign_listener_is_observed_through_sock_diag(void **state)
{
    const char *cfg =
        harness_file("foreign.json", "{\"isolate\": false, \"target\": \"127.0.0.1:18081\","
                                     " \"client\": {\"rate\": 200, \"connections\": 40,"
                                     " \"expect_greeting\": true, \"greeting_timeout_ms\": 500,"
                                     " \"connect_timeout_ms\": 1500}}");
    char out[256];
    json_t *doc;
    const json_t *run;

    (void)state;
    harness_require_netns();
    harness_foreign_listener(18081, 4);
    snprintf(out, sizeof(out), "%s/foreign-out.json", harness_dir());
    if (harness_qbench_with((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL},
                            harness_enter_foreign_listener) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    assert_int_equal(harness_int(run, "accept_queue.limit"), 4);
    assert_int_equal(harness_int(run, "accept_queue.max"), 5);
    assert_true(json_is_array(json_object_get(json_object_get(run, "syn_queue"), "samples")));
    assert_int_equal(harness_int(run, "outcomes.greeting_timeout"), 5);
    /* the counters are the namespace qbench ran in, not its own: said so */
    assert_string_equal(json_string_value(json_object_get(run, "kernel_scope")), "host");
    json_decref(doc);
}

/* Your own server's side of each connection: the client, having given up,
 * half-closes and watches; a late answer is accepted_late. A Python server
 * at 20 ms a request behind a backlog of 32, at twice its pace, answers
 * many connections after their clients stopped waiting. */
static void test_a_slow_servers_late_accepts_are_seen(void **state)
{
    char text[1024], out[256];
    const char *cfg;
    json_t *doc;
    const json_t *run;

    (void)state;
    harness_require_netns();
    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1},"
             " \"server\": {\"command\": [\"python3\", \"{dir}/slow_http.py\", \"{host}\","
             " \"{port}\", \"{backlog}\"],"
             "  \"files\": {\"slow_http.py\": \"%s/configs/servers/slow_http.py\"},"
             "  \"backlog\": 32},"
             " \"client\": {\"rate\": 100, \"connections\": 150, \"greeting_timeout_ms\": 400,"
             "  \"connect_timeout_ms\": 3000, \"request\": \"GET / HTTP/1.0\\r\\n\\r\\n\"}}",
             QBENCH_SOURCE_DIR);
    cfg = harness_file("py.json", text);
    snprintf(out, sizeof(out), "%s", harness_path("py-out.json"));
    if (harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    harness_assert_outcomes_add_up(run);
    assert_true(json_is_true(json_object_get(json_object_get(run, "story"), "joined")));
    /* every connection's story told, up to two: beside two busy loops one
     * of 150 stayed unexplained, and qbench rightly called it unknown
     * (greeting_timeout) rather than guess */
    assert_in_range(harness_int(run, "outcomes.greeting_timeout"), 0, 2);
    assert_true(harness_int(run, "outcomes.accepted_late") > 0);
    assert_int_equal(harness_int(run, "latency_us.accepted_late_by.count"),
                     harness_int(run, "outcomes.accepted_late"));
    /* qbench read every late answer to the end: no reset of its making.
     * (A watch that timed out used to close without a last read, and an
     * answer that came in that loop iteration drew an RST: TCPAbortOnClose
     * 1 of 150 in 4 of 9 ASan runs beside busy loops; 0 in 16 since.) */
    assert_int_equal(harness_kernel(run, "TCPAbortOnClose"), 0);
    assert_int_equal(harness_kernel(run, "TCPAbortOnData"), 0);
    json_decref(doc);
}

int main(void)
{
    harness_adopt_orphans(); /* an nginx that outlived qbench is still counted */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_graceful_close_against_nginx_sends_no_resets),
        cmocka_unit_test_teardown(test_nginx_fills_its_backlog_plus_one, teardown),
        cmocka_unit_test_teardown(test_a_server_that_fails_to_start_is_exit_3_with_its_stderr,
                                  teardown),
        cmocka_unit_test_teardown(test_no_server_outlives_a_killed_qbench, teardown),
        cmocka_unit_test_teardown(test_a_foreign_listener_is_observed_through_sock_diag, teardown),
        cmocka_unit_test_teardown(test_a_slow_servers_late_accepts_are_seen, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
