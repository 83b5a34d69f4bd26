/* What the kernel admits into a listener that never accepts: backlog N
 * holds N+1 handshakes; -1 means somaxconn; somaxconn caps the rest.
 * Everything else is dropped at SYN time and times out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static int teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

/* A listener that never accepts; syn_retries 1 makes the dropped ones give
 * up after about 3 s. */
static json_t *run_never_accepting(const char *name, const char *sweep, int somaxconn,
                                   int connections)
{
    char text[1024], out[256];
    const char *cfg;

    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.core.somaxconn\": %d, \"net.ipv4.tcp_syn_retries\": 1},"
             " \"server\": {\"accept_delay_ms\": -1},"
             " \"client\": {\"rate\": 500, \"connections\": %d, \"connect_timeout_ms\": 10000,"
             "             \"greeting_timeout_ms\": 1000},"
             " \"sweep\": %s}",
             somaxconn, connections, sweep);
    cfg = harness_file(name, text);
    snprintf(out, sizeof(out), "%s/%s.result", harness_dir(), name);
    assert_int_equal(
        harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}), 0);
    return harness_load(out);
}

/* The handshakes the kernel completed: every one of them is a connection
 * the server never accepted, so the greeting never came. */
static void assert_admitted(const json_t *run, long long want, int connections)
{
    harness_assert_outcomes_add_up(run);
    assert_int_equal(harness_int(run, "outcomes.never_accepted"), want);
    assert_int_equal(harness_int(run, "outcomes.greeting_timeout"), 0);
    assert_int_equal(harness_int(run, "outcomes.timeout"), connections - want);
    assert_int_equal(harness_int(run, "outcomes.established"), 0);
    assert_int_equal(harness_int(run, "accept_queue.max"), want);
    /* the dropped SYNs are the kernel's overflow counter */
    assert_true(harness_kernel(run, "ListenOverflows") >= connections - want);
    assert_int_equal(harness_kernel(run, "AttemptFails"), connections - want);
}

static void test_backlog_n_admits_n_plus_one(void **state)
{
    json_t *doc;

    (void)state;
    harness_require_netns();
    doc = run_never_accepting("backlog.json", "{\"server.backlog\": [0, 1, 2, 3, 4]}", 4096, 12);
    for (int backlog = 0; backlog <= 4; backlog++) {
        const json_t *run = harness_run(doc, (size_t)backlog);

        assert_int_equal(harness_param(run, "server.backlog"), backlog);
        assert_int_equal(harness_int(run, "accept_queue.limit"), backlog);
        assert_admitted(run, backlog + 1, 12);
    }
    json_decref(doc);
}

static void test_backlog_minus_one_means_somaxconn(void **state)
{
    json_t *doc;
    const json_t *run;

    (void)state;
    harness_require_netns();
    doc = run_never_accepting("minus1.json", "{\"server.backlog\": [-1]}", 16, 30);
    run = harness_run(doc, 0);
    assert_int_equal(harness_int(run, "accept_queue.limit"), 16);
    assert_admitted(run, 17, 30);
    json_decref(doc);
}

static void test_backlog_above_somaxconn_is_capped(void **state)
{
    json_t *doc;
    const json_t *run;

    (void)state;
    harness_require_netns();
    doc = run_never_accepting("capped.json", "{\"server.backlog\": [10]}", 8, 20);
    run = harness_run(doc, 0);
    assert_int_equal(harness_int(run, "accept_queue.limit"), 8);
    assert_admitted(run, 9, 20);
    json_decref(doc);
}

static void test_reuseport_threads_each_admit_backlog_plus_one(void **state)
{
    json_t *doc;
    const json_t *run;

    (void)state;
    harness_require_netns();
    /* two accepting threads: two SO_REUSEPORT listeners, two queues of 4+1 */
    doc = run_never_accepting("reuseport.json",
                              "{\"server.threads\": [2], \"server.backlog\": [4]}", 4096, 60);
    run = harness_run(doc, 0);
    assert_int_equal(harness_int(run, "accept_queue.listeners"), 2);
    assert_int_equal(harness_int(run, "accept_queue.limit"), 8);
    assert_admitted(run, 10, 60);
    json_decref(doc);
}

static void become_nobody(void)
{
    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
        _exit(126);
}

/* An unprivileged user gets the same private namespace, through a user
 * namespace, with the TCP sysctls writable inside. */
static void test_rootless_run_sets_sysctls_in_a_user_namespace(void **state)
{
    char out[256];
    const char *cfg;
    json_t *doc;
    const json_t *run;
    int rc;

    (void)state;
    harness_require_netns();
    if (geteuid() != 0)
        skip(); /* already unprivileged: every other test shows it */
    cfg = harness_file("rootless.json",
                       "{\"sysctl\": {\"net.core.somaxconn\": 16, \"net.ipv4.tcp_syn_retries\": 1},"
                       " \"server\": {\"backlog\": -1, \"accept_delay_ms\": -1},"
                       " \"client\": {\"rate\": 500, \"connections\": 30,"
                       "             \"greeting_timeout_ms\": 1000}}");
    chmod(harness_dir(), 0777);
    chmod(cfg, 0644);
    snprintf(out, sizeof(out), "%s/rootless-result.json", harness_dir());
    rc = harness_qbench_with((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL},
                             become_nobody);
    if (rc == 3 && strstr(harness_stderr(), "user namespace") && !getenv("QBENCH_REQUIRE_NETNS"))
        skip(); /* unprivileged user namespaces are off on this machine */
    if (rc != 0)
        fail_msg("rootless run exited %d: %s", rc, harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(run, "sysctl"), "net.core.somaxconn")),
        16);
    assert_admitted(run, 17, 30);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_backlog_n_admits_n_plus_one, teardown),
        cmocka_unit_test_teardown(test_backlog_minus_one_means_somaxconn, teardown),
        cmocka_unit_test_teardown(test_backlog_above_somaxconn_is_capped, teardown),
        cmocka_unit_test_teardown(test_reuseport_threads_each_admit_backlog_plus_one, teardown),
        cmocka_unit_test_teardown(test_rootless_run_sets_sysctls_in_a_user_namespace, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
