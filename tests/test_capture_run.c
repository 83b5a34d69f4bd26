/* capture.pcap against the real kernel: the file qbench writes beside the
 * results is read here by tcpdump (pcapref), independently of qbench,
 * and must hold what the per-connection records say happened: every
 * attempt's SYNs (1 + syn_retransmits from its port), an RST for every
 * reset, and as many packets as runs[].capture.packets says. Plus the
 * rules of an output: one file per repeat, a link refused, no capture
 * with the results on standard output. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"
#include "pcapref.h"
#include "topology.h"

#define PORTS 65536

/* tcpdump reads the file (scripts/setup.sh installs it). */
static void require_tcpdump(void)
{
    if (access("/usr/bin/tcpdump", X_OK) == 0)
        return;
    if (getenv("QBENCH_REQUIRE_NETNS"))
        fail_msg("tcpdump is not installed (scripts/setup.sh installs it)");
    skip();
}

/* The per-connection records that had a socket: port, outcome, SYN
 * retransmits. Returns how many. */
struct rec {
    unsigned port, syn_retransmits;
    double start_ms; /* connect() called, from the point's origin */
    char outcome[32];
};

static size_t read_records(const char *path, struct rec **out)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    size_t n = 0, cap = 0;
    struct rec *v = NULL;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);

        assert_non_null(j);
        if (json_integer_value(json_object_get(j, "port")) > 0) {
            if (n == cap) {
                cap = cap ? cap * 2 : 256;
                v = realloc(v, cap * sizeof(*v));
                assert_non_null(v);
            }
            v[n].port = (unsigned)json_integer_value(json_object_get(j, "port"));
            v[n].syn_retransmits =
                (unsigned)json_integer_value(json_object_get(j, "syn_retransmits"));
            v[n].start_ms = json_number_value(json_object_get(j, "start_ms"));
            snprintf(v[n].outcome, sizeof(v[n].outcome), "%s",
                     json_string_value(json_object_get(j, "outcome")));
            n++;
        }
        json_decref(j);
    }
    fclose(f);
    *out = v;
    return n;
}

/* An overloaded listener (backlog 8, an accept every 20 ms, 200/s) with
 * tcp_abort_on_overflow: SYNs dropped and retransmitted, handshakes reset,
 * timeouts. The capture must hold every connection from its first SYN. */
static void test_the_capture_holds_every_connection_of_the_records(void **state)
{
    char text[PATH_MAX + 1024], out[PATH_MAX], jsonl[PATH_MAX], pcap[PATH_MAX];
    const char *cfg, *filter;
    json_t *doc;
    const json_t *run, *cap;
    struct pcapref *w = NULL;
    unsigned *want = calloc(PORTS, sizeof(*want)), server_port;
    struct rec *recs;
    size_t n, resets = 0, stray = 0;
    long long retrans = 0;
    double max_off = -1;
    char *is_reset = calloc(PORTS, 1);

    (void)state;
    harness_require_netns();
    require_tcpdump();
    assert_non_null(want);
    assert_non_null(is_reset);
    snprintf(out, sizeof(out), "%s/cap.json", harness_dir());
    snprintf(jsonl, sizeof(jsonl), "%s/cap.jsonl", harness_dir());
    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.ipv4.tcp_abort_on_overflow\": 1, \"net.ipv4.tcp_syn_retries\": "
             "2},"
             " \"server\": {\"backlog\": 8, \"accept_delay_ms\": 20},"
             " \"client\": {\"rate\": 200, \"connections\": 300, \"connect_timeout_ms\": 8000,"
             " \"greeting_timeout_ms\": 3000},"
             " \"capture\": {\"pcap\": true}, \"output\": \"%s\"}",
             out);
    cfg = harness_file("cap-cfg.json", text);
    if (harness_qbench((const char *[]){"--config", cfg, "--connections", jsonl, NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    cap = json_object_get(run, "capture");
    assert_non_null(cap);
    snprintf(pcap, sizeof(pcap), "%s/cap-p1.pcap", harness_dir());
    assert_string_equal(json_string_value(json_object_get(cap, "file")), pcap);
    assert_true(json_is_true(json_object_get(cap, "written")));
    assert_true(json_is_true(json_object_get(cap, "stopped")));
    assert_int_equal(harness_int(cap, "snaplen"), 128);
    filter = json_string_value(json_object_get(cap, "filter"));
    assert_non_null(filter);
    assert_non_null(strstr(filter, "tcp port "));
    server_port = (unsigned)atoi(strstr(filter, "tcp port ") + 9);
    assert_true(server_port > 0 && server_port < PORTS);
    /* the summary line counts the capture, and its file is named */
    assert_non_null(strstr(harness_stdout(), "| capture "));
    {
        char said[PATH_MAX + 16];

        snprintf(said, sizeof(said), "wrote %s\n", pcap);
        assert_non_null(strstr(harness_stdout(), said));
    }
    w = pcapref_read(pcap, server_port);
    assert_non_null(w);
    assert_int_equal(w->unparsed, 0); /* the filter let in the run's port only */
    assert_true(harness_int(run, "outcomes.reset") > 0);
    if (harness_int(cap, "dropped") > 0 || harness_int(cap, "if_dropped") > 0) {
        /* a machine too busy to keep up: the capture cannot referee, and
         * must say it is incomplete, on the summary line too */
        assert_false(json_is_true(json_object_get(cap, "complete")));
        assert_non_null(strstr(harness_stdout(), "INCOMPLETE"));
        fprintf(stderr, "the kernel dropped %lld packets of the capture: not compared\n",
                harness_int(cap, "dropped"));
        goto out;
    }
    /* nothing dropped: the file holds every packet the kernel let in */
    assert_true(json_is_true(json_object_get(cap, "complete")));
    assert_int_equal(harness_int(cap, "packets"), (long long)w->packets);
    assert_int_equal(harness_int(cap, "received"), (long long)w->packets);
    n = read_records(jsonl, &recs);
    assert_int_equal(n, harness_int(run, "outcomes.attempted"));
    for (size_t i = 0; i < n; i++) {
        want[recs[i].port] += 1 + recs[i].syn_retransmits;
        retrans += recs[i].syn_retransmits;
        if (!strcmp(recs[i].outcome, "reset")) {
            is_reset[recs[i].port] = 1;
            resets++;
        }
    }
    for (unsigned port = 1; port < PORTS; port++) {
        if (want[port] != w->port[port].syns)
            fail_msg("port %u: the records say %u SYNs, the capture has %u", port, want[port],
                     w->port[port].syns);
        if (is_reset[port] && !w->port[port].server_rst)
            fail_msg("port %u: reset in the records, no RST to it in the capture", port);
        if (!is_reset[port] && w->port[port].server_rst)
            stray++;
    }
    assert_int_equal(resets, harness_int(run, "outcomes.reset"));
    /* keyed in time too: a record's first SYN is on the wire when its
     * start_ms says, on the capture's wall clock (origin_epoch_us) */
    for (size_t i = 0; i < n; i++) {
        double at = (double)harness_int(run, "origin_epoch_us") / 1e6 + recs[i].start_ms / 1000.0,
               off = w->port[recs[i].port].first_syn - at;

        if (off < -0.005 || off > 0.25)
            fail_msg("port %u: first SYN %.6f, the record says %.6f (%+.1f ms)", recs[i].port,
                     w->port[recs[i].port].first_syn, at, off * 1000.0);
        if (off > max_off)
            max_off = off;
    }
    fprintf(stderr,
            "capture: %zu packets; SYNs of %zu records (%lld retransmitted) and %zu resets "
            "matched; %zu stray RSTs; first SYNs at most %.2f ms after start_ms\n",
            w->packets, n, retrans, resets, stray, max_off * 1000.0);
    /* the kernel's rare RST from loopback reordering may add one or two
     * (see test_server_truth); none is a connection qbench called served */
    if (stray > 2)
        fail_msg("%zu client ports got an RST the records do not call a reset", stray);
    free(recs);
out:
    pcapref_free(w);
    free(want);
    free(is_reset);
    json_decref(doc);
}

/* A repeated point writes one capture per repeat, each named in its own
 * repeat's entry. */
static void test_every_repeat_has_its_own_capture(void **state)
{
    char text[PATH_MAX + 512], out[PATH_MAX], want[PATH_MAX];
    const char *cfg;
    json_t *doc;
    const json_t *reps;

    (void)state;
    harness_require_netns();
    require_tcpdump();
    snprintf(out, sizeof(out), "%s/rep.json", harness_dir());
    snprintf(text, sizeof(text),
             "{\"client\": {\"rate\": 100, \"connections\": 5}, \"repeat\": 2,"
             " \"capture\": {\"pcap\": true, \"snaplen\": 96}, \"output\": \"%s\"}",
             out);
    cfg = harness_file("rep-cfg.json", text);
    if (harness_qbench((const char *[]){"--config", cfg, "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    reps = json_object_get(harness_run(doc, 0), "repeats");
    assert_int_equal(json_array_size(reps), 2);
    for (size_t r = 0; r < 2; r++) {
        const json_t *cap = json_object_get(json_array_get(reps, r), "capture");
        const char *filter = json_string_value(json_object_get(cap, "filter"));
        struct pcapref *w;

        snprintf(want, sizeof(want), "%s/rep-p1-r%zu.pcap", harness_dir(), r + 1);
        assert_string_equal(json_string_value(json_object_get(cap, "file")), want);
        assert_int_equal(harness_int(cap, "snaplen"), 96);
        assert_non_null(filter);
        assert_non_null(strstr(filter, "tcp port "));
        w = pcapref_read(want, atol(strstr(filter, "tcp port ") + 9));
        assert_non_null(w);
        assert_int_equal(w->unparsed, 0);
        /* 5 connections: at least a handshake and a close each */
        assert_true(w->packets >= 5 * 6);
        assert_int_equal(harness_int(cap, "packets"), (long long)w->packets);
        pcapref_free(w);
    }
    json_decref(doc);
}

/* The capture is an output: a link where it would go is refused before
 * anything runs, and so is a capture with the results on stdout. */
static void test_a_capture_path_is_checked_before_the_run(void **state)
{
    char text[PATH_MAX + 512], out[PATH_MAX], link[PATH_MAX];
    const char *cfg;
    int rc;

    (void)state;
    snprintf(out, sizeof(out), "%s/ln.json", harness_dir());
    snprintf(link, sizeof(link), "%s/ln-p1.pcap", harness_dir());
    assert_int_equal(symlink("/etc/passwd", link), 0);
    snprintf(text, sizeof(text),
             "{\"client\": {\"rate\": 100, \"connections\": 5},"
             " \"capture\": {\"pcap\": true}, \"output\": \"%s\"}",
             out);
    cfg = harness_file("ln-cfg.json", text);
    rc = harness_qbench((const char *[]){"--config", cfg, "--quiet", NULL});
    assert_int_equal(rc, 2);
    assert_non_null(strstr(harness_stderr(), "capture.pcap: "));
    assert_non_null(strstr(harness_stderr(), "symbolic link"));
    assert_int_equal(access(out, F_OK), -1);
    rc = harness_qbench((const char *[]){"--config", cfg, "--output", "-", "--quiet", NULL});
    assert_int_equal(rc, 2);
    assert_non_null(strstr(harness_stderr(), "capture.pcap: the capture is written beside"));
}

/* A target in another namespace (target_netns): the capture is opened
 * there, on "any" (its address is not loopback), and holds every SYN the
 * records say the clients sent it, over a veth pair the test made. */
static bool have_ns;

static void test_a_targets_namespace_is_captured_where_the_server_is(void **state)
{
    struct topology t;
    char text[PATH_MAX + 1024], ns[64], out[PATH_MAX], jsonl[PATH_MAX];
    json_t *doc;
    const json_t *run, *cap;
    struct pcapref *w;
    struct rec *recs;
    size_t n, bad = 0;

    (void)state;
    if (!have_ns) {
        harness_require_netns();
        skip();
    }
    require_tcpdump();
    topology_make(&t, NULL);
    topology_sysctl(t.server_ns, "net.ipv4.tcp_synack_retries", "1");
    t.server = topology_listener(t.server_ns, TOPO_SERVER_ADDR, 19111, 8, 50, 30);
    snprintf(ns, sizeof(ns), "/proc/%d/ns/net", (int)t.holder);
    snprintf(out, sizeof(out), "%s/tns.json", harness_dir());
    snprintf(jsonl, sizeof(jsonl), "%s/tns.jsonl", harness_dir());
    snprintf(text, sizeof(text),
             "{\"isolate\": false, \"target\": \"%s:19111\", \"target_netns\": \"%s\","
             " \"output\": \"%s\", \"capture\": {\"pcap\": true},"
             " \"client\": {\"rate\": 200, \"connections\": 200, \"threads\": 1,"
             " \"expect_greeting\": true, \"connect_timeout_ms\": 5000,"
             " \"greeting_timeout_ms\": 2000}}",
             TOPO_SERVER_ADDR, ns, out);
    if (harness_qbench((const char *[]){"--config", harness_file("tns-cfg.json", text),
                                        "--connections", jsonl, "--quiet", NULL}) != 0)
        fail_msg("qbench: %s", harness_stderr());
    doc = harness_load(out);
    run = harness_run(doc, 0);
    cap = json_object_get(run, "capture");
    assert_non_null(cap);
    assert_string_equal(json_string_value(json_object_get(cap, "device")), "any");
    assert_string_equal(json_string_value(json_object_get(cap, "filter")), "tcp port 19111");
    assert_true(json_is_true(json_object_get(cap, "written")));
    w = pcapref_read(json_string_value(json_object_get(cap, "file")), 19111);
    assert_non_null(w);
    if (harness_int(cap, "dropped") > 0) {
        assert_false(json_is_true(json_object_get(cap, "complete")));
    } else {
        assert_true(json_is_true(json_object_get(cap, "complete")));
        assert_int_equal(harness_int(cap, "packets"), (long long)w->packets);
        n = read_records(jsonl, &recs);
        assert_true(n > 0);
        /* each port once here (200 connections); its SYNs as the records say */
        for (size_t i = 0; i < n; i++)
            if (w->port[recs[i].port].syns != 1 + recs[i].syn_retransmits) {
                char *c = json_dumps(cap, JSON_COMPACT);

                fprintf(stderr,
                        "port %u (start_ms %.3f, %s): the records say %u SYNs, the "
                        "capture in the target's namespace has %u; %s; %zu packets read\n",
                        recs[i].port, recs[i].start_ms, recs[i].outcome,
                        1 + recs[i].syn_retransmits, w->port[recs[i].port].syns, c, w->packets);
                free(c);
                bad++;
            }
        if (bad)
            fail_msg("%zu of %zu records disagree with the capture", bad, n);
        free(recs);
    }
    pcapref_free(w);
    json_decref(doc);
    topology_destroy(&t);
}

static int setup(void **state)
{
    (void)state;
    /* the test is a client machine of its own: a veth pair to a server
     * namespace, and a bounded SYN give-up */
    have_ns = harness_have_netns() && topology_enter_client();
    if (have_ns)
        topology_sysctl(-1, "net.ipv4.tcp_syn_retries", "1");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_the_capture_holds_every_connection_of_the_records,
                                  harness_teardown),
        cmocka_unit_test_teardown(test_every_repeat_has_its_own_capture, harness_teardown),
        cmocka_unit_test_teardown(test_a_capture_path_is_checked_before_the_run, harness_teardown),
        cmocka_unit_test_teardown(test_a_targets_namespace_is_captured_where_the_server_is,
                                  harness_teardown),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
