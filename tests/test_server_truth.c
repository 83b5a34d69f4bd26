/* Your own server's truth: what a server qbench did not write accepted, as
 * the kernel showed it, checked against that server's own log; the time to
 * every outcome; the retransmits of failed handshakes per connection; a
 * server without a SIGTERM handler stopping on SIGTERM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "pcapref.h"

/* One line of the per-connection CSV, the columns these tests read. */
struct row {
    char src[64];
    unsigned port;
    double due, end;
    bool completed; /* the handshake completed (connect_ms present) */
    char outcome[32];
    unsigned syn_retransmits;
};

/* Splits a CSV line on commas (no quoting in these columns). */
static int split(char *line, char **cols, int max)
{
    int n = 0;

    cols[n++] = line;
    for (char *c = line; *c && n < max; c++)
        if (*c == ',') {
            *c = '\0';
            cols[n++] = c + 1;
        }
    return n;
}

static size_t read_rows(const char *path, struct row **out)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    size_t n = 0, cap = 0;
    struct row *v = NULL;

    assert_non_null(f);
    assert_non_null(fgets(line, sizeof(line), f)); /* the header */
    /* point,src,port,due_ms,start_ms,connect_ms,first_byte_ms,end_ms,outcome,errno,
     * syn_retransmits,... */
    assert_non_null(strstr(line, "point,src,port,due_ms,start_ms,connect_ms,first_byte_ms,end_ms,"
                                 "outcome,errno,syn_retransmits"));
    while (fgets(line, sizeof(line), f)) {
        char *cols[20];

        if (split(line, cols, 20) < 11)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            v = realloc(v, cap * sizeof(*v));
            assert_non_null(v);
        }
        memset(&v[n], 0, sizeof(v[n]));
        snprintf(v[n].src, sizeof(v[n].src), "%s", cols[1]);
        v[n].port = (unsigned)atoi(cols[2]);
        v[n].due = atof(cols[3]);
        v[n].completed = cols[5][0] != '\0';
        v[n].end = atof(cols[7]);
        snprintf(v[n].outcome, sizeof(v[n].outcome), "%s", cols[8]);
        v[n].syn_retransmits = (unsigned)atoi(cols[10]);
        n++;
    }
    fclose(f);
    *out = v;
    return n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* A server not in the repository that logs each accept() with its peer:
 * one connection at a time, 40 ms before each accept, a deep backlog (128)
 * at 2.5x its pace. Every completed handshake's class must agree with the
 * server's own log (accepted: established or accepted_late; not accepted:
 * never_accepted); an unknown fate (greeting_timeout) is a disagreement. */
static void test_a_foreign_servers_accepts_agree_with_its_own_log(void **state)
{
    char text[2048], out[256], csv[256], logpath[600], line[256];
    const char *cfg;
    json_t *doc;
    const json_t *run;
    struct row *rows;
    size_t n, completed = 0, agree = 0, logged = 0;
    FILE *f;
    const char *serverlog;

    (void)state;
    harness_require_netns();
    snprintf(
        text, sizeof(text),
        "{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 2, \"net.ipv4.tcp_syn_retries\": 2},"
        " \"server\": {\"command\": [\"python3\", \"{dir}/accept_logger.py\", \"{host}\","
        "  \"{port}\", \"{backlog}\", \"40\", \"{dir}/accepts.log\"],"
        "  \"files\": {\"accept_logger.py\": \"%s/tests/servers/accept_logger.py\"},"
        "  \"backlog\": 128, \"keep_dir\": true},"
        " \"client\": {\"rate\": 60, \"connections\": 240, \"request\": \"GET / "
        "HTTP/1.0\\r\\n\\r\\n\", \"greeting_timeout_ms\": 1000, \"connect_timeout_ms\": 8000}}",
        QBENCH_SOURCE_DIR);
    cfg = harness_file("logger.json", text);
    snprintf(out, sizeof(out), "%s/logger-out.json", harness_dir());
    snprintf(csv, sizeof(csv), "%s/logger.csv", harness_dir());
    if (harness_qbench((const char *[]){"--config", cfg, "--output", out, "--connections", csv,
                                        "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    harness_assert_outcomes_add_up(run);
    /* the server is slow, not losing: most connections it took late */
    assert_true(harness_int(run, "outcomes.accepted_late") > 50);
    assert_true(harness_int(run, "accept_observed.polls") > 100);
    assert_true(json_is_true(json_object_get(json_object_get(run, "accept_observed"), "complete")));
    /* no handler for SIGTERM, yet it stopped on it: the init forwarded it */
    assert_string_equal(json_string_value(json_object_get(json_object_get(run, "server"), "exit")),
                        "killed by SIGTERM");
    serverlog = json_string_value(json_object_get(json_object_get(run, "server"), "log"));
    assert_non_null(serverlog);
    snprintf(logpath, sizeof(logpath), "%.*s/accepts.log",
             (int)(strrchr(serverlog, '/') - serverlog), serverlog);
    n = read_rows(csv, &rows);
    assert_int_equal(n, 240);
    f = fopen(logpath, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        logged++;
    for (size_t i = 0; i < n; i++) {
        bool took = false;
        char want[96];

        if (!rows[i].completed)
            continue;
        completed++;
        snprintf(want, sizeof(want), " %s %u\n", rows[i].src, rows[i].port);
        rewind(f);
        while (fgets(line, sizeof(line), f))
            if (strstr(line, want))
                took = true;
        if ((took && (!strcmp(rows[i].outcome, "established") ||
                      !strcmp(rows[i].outcome, "accepted_late"))) ||
            (!took && !strcmp(rows[i].outcome, "never_accepted")))
            agree++;
        else
            fprintf(stderr, "disagree: %s:%u qbench %s, server log %s\n", rows[i].src, rows[i].port,
                    rows[i].outcome, took ? "accepted" : "not accepted");
    }
    fclose(f);
    /* kept for this test only: remove it */
    {
        char rm[700];

        snprintf(rm, sizeof(rm), "rm -rf '%.*s'", (int)(strrchr(serverlog, '/') - serverlog),
                 serverlog);
        if (strncmp(serverlog, "/tmp/", 5) == 0 && strchr(serverlog, '\'') == NULL)
            (void)!system(rm);
    }
    fprintf(stderr,
            "qbench agrees with the server's log on %zu of %zu completed handshakes "
            "(%zu accepts logged)\n",
            agree, completed, logged);
    assert_true(completed > 100);
    if (agree * 100 < completed * 99)
        fail_msg("agreement %zu of %zu is below 99%%", agree, completed);
    free(rows);
    json_decref(doc);
}

/* tcp_abort_on_overflow=1 under sustained overload: the resets come late
 * (the RST answers the final ACK of a retransmitted SYN), and the time to
 * them is counted: latency_us.reset holds every reset, and its median is
 * the per-connection file's. Every failed handshake's SYN retransmits in
 * the file add up to runs[].syn_retransmits_failed. */
static void test_resets_are_timed_and_failed_handshakes_keep_their_retransmits(void **state)
{
    const char *cfg = harness_file(
        "abort.json",
        "{\"sysctl\": {\"net.ipv4.tcp_abort_on_overflow\": 1, \"net.ipv4.tcp_syn_retries\": 2},"
        " \"server\": {\"backlog\": 16, \"accept_delay_ms\": 10},"
        " \"client\": {\"rate\": 400, \"connections\": 1200, \"connect_timeout_ms\": 10000}}");
    char out[256], csv[256];
    json_t *doc;
    const json_t *run, *failed, *v;
    struct row *rows;
    size_t n, nreset = 0;
    double *waits, p50_file, p50_run;
    long long from_file[16] = {0}, from_run = 0, in_file = 0;
    const char *key;

    (void)state;
    harness_require_netns();
    snprintf(out, sizeof(out), "%s/abort-out.json", harness_dir());
    snprintf(csv, sizeof(csv), "%s/abort.csv", harness_dir());
    if (harness_qbench((const char *[]){"--config", cfg, "--output", out, "--connections", csv,
                                        "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    harness_assert_outcomes_add_up(run);
    assert_true(harness_int(run, "outcomes.reset") > 0);
    /* every class's time is counted, as many as the class */
    for (const char *const *c =
             (const char *const[]){"established", "timeout", "reset", "refused", "greeting_timeout",
                                   "accepted_late", "never_accepted", "error", NULL};
         *c; c++) {
        char a[64], b[64];

        snprintf(a, sizeof(a), "outcomes.%s", *c);
        snprintf(b, sizeof(b), "latency_us.%s.count", *c);
        assert_int_equal(harness_int(run, a), harness_int(run, b));
    }
    n = read_rows(csv, &rows);
    waits = calloc(n, sizeof(*waits));
    assert_non_null(waits);
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(rows[i].outcome, "reset"))
            waits[nreset++] = (rows[i].end - rows[i].due) * 1000.0;
        if (!rows[i].completed && rows[i].syn_retransmits < 16) {
            from_file[rows[i].syn_retransmits]++;
            in_file += rows[i].syn_retransmits;
        }
    }
    assert_int_equal(nreset, harness_int(run, "outcomes.reset"));
    qsort(waits, nreset, sizeof(*waits), cmp_double);
    p50_file = waits[(nreset - 1) / 2];
    p50_run = (double)harness_int(run, "latency_us.reset.p50");
    /* the histogram's buckets are within 0.8%; the file's times are in us */
    if (p50_run < p50_file * 0.98 - 1000 || p50_run > p50_file * 1.02 + 1000)
        fail_msg("reset p50 %.0f us in the results, %.0f us in the file", p50_run, p50_file);
    /* sustained overload: not at once */
    assert_true(p50_run > 500000);
    failed = json_object_get(run, "syn_retransmits_failed");
    json_object_foreach((json_t *)failed, key, v) {
        int k = atoi(key);

        from_run += k * json_integer_value(v);
        if (k < 16)
            assert_int_equal(from_file[k], json_integer_value(v));
    }
    assert_int_equal(in_file, from_run);
    assert_true(from_run > 0);
    free(waits);
    free(rows);
    json_decref(doc);
}

/* hooks.before runs inside the point's namespace and is ready before the
 * first connect: a tcpdump started there sees every connection's SYN, and
 * every reset the client counted (the pcap as the referee). */
static void test_a_hook_captures_every_connection(void **state)
{
    char text[1024], out[256];
    const char *cfg;
    json_t *doc;
    const json_t *run, *hooks;
    struct pcapref *ref;
    long long syns = 0, resets = 0;
    bool client_rst = false;

    (void)state;
    harness_require_netns();
    if (access("/usr/bin/tcpdump", X_OK) != 0) {
        if (getenv("QBENCH_REQUIRE_NETNS"))
            fail_msg("tcpdump is not installed (scripts/setup.sh installs it)");
        skip();
    }
    snprintf(out, sizeof(out), "%s/hook.json", harness_dir());
    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.ipv4.tcp_abort_on_overflow\": 1},"
             " \"server\": {\"backlog\": 8, \"accept_delay_ms\": 20},"
             " \"client\": {\"rate\": 200, \"connections\": 300},"
             " " PCAPREF_HOOK ", \"output\": \"%s\"}",
             out);
    cfg = harness_file("hook-cfg.json", text);
    if (harness_qbench((const char *[]){"--config", cfg, "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    hooks = json_object_get(run, "hooks");
    assert_non_null(hooks);
    assert_string_equal(json_string_value(json_object_get(hooks, "exit")), "exited 0");
    assert_non_null(json_string_value(json_object_get(json_object_get(run, "netns"), "path")));
    /* connections that sent a SYN; those that got an RST (all RSTs from the
     * client side count as one: they go to the server's port) */
    ref = pcapref_read(harness_path("hook-p1.pcap"), pcapref_server_port(run));
    assert_non_null(ref);
    for (size_t i = 0; i < ref->nconns; i++) {
        syns += ref->conns[i].syns > 0;
        resets += ref->conns[i].server_rst;
        client_rst |= ref->conns[i].client_rsts > 0;
    }
    resets += client_rst;
    pcapref_free(ref);
    assert_int_equal(syns, harness_int(run, "outcomes.attempted"));
    assert_true(harness_int(run, "outcomes.reset") > 0);
    /* a capture that lost packets (a busy machine) cannot referee */
    if (pcapref_capture_lost(harness_path("hook-p1-hook.log")))
        skip();
    /* every reset the client counted is in the capture; the kernel's rare
     * RST from loopback reordering (a few per 10,000, see README) may add one */
    if (resets < harness_int(run, "outcomes.reset") ||
        resets > harness_int(run, "outcomes.reset") + 2)
        fail_msg("the capture has RSTs to %lld client ports, the results %lld resets", resets,
                 harness_int(run, "outcomes.reset"));
    json_decref(doc);
}

/* gunicorn (one sync worker, 50 ms a request) at 2x its pace with a deep
 * backlog, the packets as the referee: every connection the server
 * answered or closed in the capture is one qbench calls accepted
 * (established or accepted_late), every established one was answered,
 * and none it calls never_accepted got anything from the server. */
static void test_gunicorn_classes_agree_with_the_capture(void **state)
{
    char text[2048], out[256], csv[256];
    const char *cfg;
    json_t *doc;
    const json_t *run;
    struct row *rows;
    size_t n, judged = 0, agree = 0, unjudged = 0;
    struct pcapref *ref;
    char *answered = calloc(65536, 1), *reset_only = calloc(65536, 1);

    (void)state;
    harness_require_netns();
    assert_non_null(answered);
    assert_non_null(reset_only);
    if (access("/usr/bin/tcpdump", X_OK) != 0 || access("/usr/bin/gunicorn", X_OK) != 0) {
        if (getenv("QBENCH_REQUIRE_NETNS"))
            fail_msg("tcpdump or gunicorn is not installed (scripts/setup.sh installs them)");
        skip();
    }
    snprintf(out, sizeof(out), "%s/gunicorn.json", harness_dir());
    snprintf(csv, sizeof(csv), "%s/gunicorn.csv", harness_dir());
    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1, \"net.ipv4.tcp_syn_retries\": 2},"
             " \"server\": {\"command\": [\"gunicorn\", \"--chdir\", \"{dir}\", \"--workers\", "
             "\"1\", \"--worker-class\", \"sync\", \"--backlog\", \"{backlog}\", \"--bind\", "
             "\"{address}\", \"--log-level\", \"warning\", \"slow_app:app\"],"
             "  \"files\": {\"slow_app.py\": \"%s/configs/servers/slow_app.py\"}, \"backlog\": 64},"
             " \"client\": {\"rate\": 40, \"connections\": 160, \"request\": \"GET / "
             "HTTP/1.0\\r\\n\\r\\n\", \"greeting_timeout_ms\": 2000, \"connect_timeout_ms\": 8000},"
             " " PCAPREF_HOOK ", \"output\": \"%s\"}",
             QBENCH_SOURCE_DIR, out);
    cfg = harness_file("gunicorn-cfg.json", text);
    if (harness_qbench((const char *[]){"--config", cfg, "--connections", csv, "--quiet", NULL}) !=
        0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    harness_assert_outcomes_add_up(run);
    assert_true(harness_int(run, "outcomes.accepted_late") > 10);
    /* client ports that got an answer or an orderly close from the server:
     * only the server's application sends those (an RST may be the
     * kernel's, at the listener's close, or the application's closing
     * unread data: not judged); and those the server reset without either */
    ref = pcapref_read(harness_path("gunicorn-p1.pcap"), pcapref_server_port(run));
    assert_non_null(ref);
    if (pcapref_capture_lost(harness_path("gunicorn-p1-hook.log"))) {
        fprintf(stderr, "gunicorn: tcpdump did not vouch for its capture: not compared\n");
        pcapref_free(ref);
        free(answered);
        free(reset_only);
        json_decref(doc);
        skip();
    }
    /* each row's connection in the capture: by port and rank among the
     * rows of that port (a port can carry two connections in a run) */
    n = read_rows(csv, &rows);
    for (size_t i = 0; i < n; i++) {
        size_t nth = 0;
        const struct pcapref_conn *c;

        for (size_t j = 0; j < n; j++)
            nth += rows[j].port == rows[i].port && rows[j].due < rows[i].due;
        c = pcapref_conn(ref, rows[i].port, nth);
        answered[i] = c && pcapref_server_took(c);
        reset_only[i] = c && c->server_rst && !answered[i];
    }
    pcapref_free(ref);
    for (size_t i = 0; i < n; i++) {
        bool served =
            !strcmp(rows[i].outcome, "established") || !strcmp(rows[i].outcome, "accepted_late");

        /* the capture cannot see accept(): a connection accepted late that
         * the server then never wrote to (nor closed before the end) is
         * silent in it, as is one never accepted; only the kernel tells */
        if (!rows[i].completed || (!served && reset_only[i]) ||
            (served && !answered[i] &&
             (reset_only[i] || !strcmp(rows[i].outcome, "accepted_late")))) {
            unjudged += rows[i].completed;
            continue;
        }
        judged++;
        if ((served && answered[i]) || (!strcmp(rows[i].outcome, "never_accepted") && !answered[i]))
            agree++;
        else
            fprintf(stderr, "disagree: port %u qbench %s, capture %s\n", rows[i].port,
                    rows[i].outcome, answered[i] ? "answered" : "no answer");
    }
    fprintf(stderr,
            "gunicorn: qbench agrees with the capture on %zu of %zu completed "
            "handshakes (%zu not judged: only reset, or accepted late and silent)\n",
            agree, judged, unjudged);
    assert_true(judged > 100);
    if (agree * 100 < judged * 99)
        fail_msg("agreement %zu of %zu is below 99%%", agree, judged);
    free(rows);
    free(answered);
    free(reset_only);
    json_decref(doc);
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
        cmocka_unit_test_teardown(test_a_foreign_servers_accepts_agree_with_its_own_log, teardown),
        cmocka_unit_test_teardown(
            test_resets_are_timed_and_failed_handshakes_keep_their_retransmits, teardown),
        cmocka_unit_test_teardown(test_a_hook_captures_every_connection, teardown),
        cmocka_unit_test_teardown(test_gunicorn_classes_agree_with_the_capture, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
