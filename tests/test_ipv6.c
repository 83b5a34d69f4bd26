/* IPv6 wherever IPv4 works: the built-in server on [::1], sources bound
 * from ::1, the accept and SYN queues from AF_INET6 sock_diag dumps, the
 * story joined by IPv6 4-tuples, the records' src column. The same slow
 * acceptor over 127.0.0.1 and over ::1 must tell the same story. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define TOTAL 300

static const char *config(const char *name, const char *address, const char *extra)
{
    char text[1024];

    snprintf(text, sizeof(text),
             "{\"name\": \"v6\", \"server\": {\"address\": \"%s\", \"backlog\": 8,"
             " \"accept_delay_ms\": 50},"
             " \"sysctl\": {\"net.ipv4.tcp_syn_retries\": 1, \"net.ipv4.tcp_synack_retries\": 1},"
             " \"client\": {\"rate\": 200, \"connections\": %d, \"threads\": 1,"
             " \"connect_timeout_ms\": 5000, \"greeting_timeout_ms\": 1500%s}}",
             address, TOTAL, extra);
    return harness_file(name, text);
}

static long long outcome(const json_t *run, const char *cls)
{
    return json_integer_value(json_object_get(json_object_get(run, "outcomes"), cls));
}

static void assert_slow_acceptor(const json_t *run)
{
    long long aq = harness_int(run, "accept_queue.max");

    harness_assert_outcomes_add_up(run);
    assert_int_equal(harness_int(run, "outcomes.attempted"), TOTAL);
    assert_true(aq == 9 || aq == 10);
    assert_true(harness_int(run, "syn_queue.max") > 0);
    assert_true(harness_kernel(run, "ListenOverflows") > 0);
    assert_true(json_is_true(json_object_get(json_object_get(run, "story"), "joined")));
    /* the server's side was seen: give-ups split into late and never */
    assert_int_equal(outcome(run, "greeting_timeout"), 0);
    assert_true(outcome(run, "accepted_late") + outcome(run, "never_accepted") > 0);
    assert_int_equal(harness_int(run, "server.accepted"),
                     outcome(run, "established") + outcome(run, "accepted_late"));
}

static void test_ipv6_loopback_tells_the_same_story_as_ipv4(void **state)
{
    const char *out4 = "v4.json", *out6 = "v6.json";
    char p4[256], p6[256], csv[256], line[256];
    json_t *d4, *d6;
    const json_t *r4, *r6;
    long long e4, e6, rows = 0, v6rows = 0;
    FILE *f;

    (void)state;
    harness_require_netns();
    snprintf(p4, sizeof(p4), "%s", harness_path(out4));
    snprintf(p6, sizeof(p6), "%s", harness_path(out6));
    snprintf(csv, sizeof(csv), "%s", harness_path("v6.csv"));
    assert_int_equal(
        harness_qbench((const char *[]){"--config", config("v4c.json", "127.0.0.1:0", ""),
                                        "--output", p4, "--quiet", NULL}),
        0);
    assert_int_equal(
        harness_qbench((const char *[]){
            "--config", config("v6c.json", "[::1]:0", ", \"source_addresses\": \"::1\""),
            "--output", p6, "--connections", csv, "--quiet", NULL}),
        0);
    d4 = harness_load(p4);
    d6 = harness_load(p6);
    r4 = harness_run(d4, 0);
    r6 = harness_run(d6, 0);
    assert_slow_acceptor(r4);
    assert_slow_acceptor(r6);
    /* the server's pace decides established: 20/s over the same window */
    e4 = outcome(r4, "established");
    e6 = outcome(r6, "established");
    if (llabs(e4 - e6) > 15 + e4 / 4)
        fail_msg("established: %lld over IPv4, %lld over IPv6", e4, e6);
    /* every attempt with a socket came from ::1 */
    f = fopen(csv, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        char *src = strchr(line, ',');

        if (rows++ == 0 || !src)
            continue;
        if (strncmp(src + 1, "::1,", 4) == 0)
            v6rows++;
    }
    fclose(f);
    assert_int_equal(v6rows, TOTAL);
    print_message("IPv4: established %lld accepted_late %lld never_accepted %lld timeout %lld | "
                  "IPv6: established %lld accepted_late %lld never_accepted %lld timeout %lld\n",
                  e4, outcome(r4, "accepted_late"), outcome(r4, "never_accepted"),
                  outcome(r4, "timeout"), e6, outcome(r6, "accepted_late"),
                  outcome(r6, "never_accepted"), outcome(r6, "timeout"));
    json_decref(d4);
    json_decref(d6);
}

static int teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv6_loopback_tells_the_same_story_as_ipv4),
    };

    return cmocka_run_group_tests(tests, NULL, teardown);
}
