/* nginx's truth, with the packets as the referee: Debian's nginx, made
 * genuinely backlog-bound (tests/servers/nginx-paced.conf.in: one worker at
 * 20 requests a second that stops calling accept() while it holds ten), at
 * 2.5x its pace behind backlog 8, tcp_abort_on_overflow 0 and 1, with a
 * tcpdump started in each point's namespace by hooks.before. Every
 * connection's class and SYN retransmits from --connections are held
 * against what the capture shows on its 4-tuple. nginx and tcpdump come
 * from Debian (scripts/setup.sh installs nginx-light and tcpdump). */
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

static void need(const char *path)
{
    if (access(path, X_OK) == 0)
        return;
    if (getenv("QBENCH_REQUIRE_NETNS"))
        fail_msg("%s is not installed (scripts/setup.sh installs it)", path);
    skip();
}

static bool is(const json_t *rec, const char *outcome)
{
    return !strcmp(json_string_value(json_object_get(rec, "outcome")), outcome);
}

/* The per-connection records of a JSON-lines file, as an array. */
static json_t *read_records(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[2048];
    json_t *all = json_array();

    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_error_t e;
        json_t *rec = json_loads(line, 0, &e);

        if (!rec)
            fail_msg("%s: %s", path, e.text);
        json_array_append_new(all, rec);
    }
    fclose(f);
    return all;
}

/* What one point's records and capture showed. */
struct tally {
    size_t judged, agree, not_judged, syn_ok, records, timed, early, took_answered, never_quiet;
    size_t resets, resets_on_wire, reused;
    unsigned client_rsts;
};

/* A port's packets in a capture, on stderr: what a disagreement was about. */
static void show_packets(const char *pcap, long port)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "tcpdump -nn -tt -r '%s' 'tcp port %ld' 1>&2 2>/dev/null", pcap,
             port);
    (void)!system(cmd);
}

/* The connection in the capture of each record of point pt (NULL where
 * none): by port and rank among that port's records (by start_ms). Returns
 * how many records the point has (at most max). */
static size_t match(const json_t *records, int pt, const struct pcapref *ref, const json_t **recs,
                    const struct pcapref_conn **conns, size_t max)
{
    size_t i, n = 0;
    const json_t *rec;

    json_array_foreach(records, i, rec) {
        if (json_integer_value(json_object_get(rec, "point")) == pt && n < max)
            recs[n++] = rec;
    }
    for (size_t k = 0; k < n; k++) {
        long p = (long)json_integer_value(json_object_get(recs[k], "port"));
        double start = json_number_value(json_object_get(recs[k], "start_ms"));
        size_t nth = 0;

        for (size_t j = 0; j < n; j++)
            nth += j != k && json_integer_value(json_object_get(recs[j], "port")) == p &&
                   json_number_value(json_object_get(recs[j], "start_ms")) < start;
        conns[k] = pcapref_conn(ref, p, nth);
    }
    return n;
}

/* Holds point pt's records against its capture (see the test below);
 * returns false when tcpdump did not vouch for the capture, after checking
 * what holds without it. */
static bool check_point(const json_t *run, const json_t *records, int pt, struct tally *t)
{
    char name[64], pcap[256];
    struct pcapref *ref;
    const json_t *rec, *obs = json_object_get(run, "accept_observed");
    const json_t *recs[200];
    const struct pcapref_conn *conns[200];
    double precision = json_number_value(json_object_get(obs, "precision_ms"));
    size_t k, syned = 0, matched = 0, ports_known = 0, ports = 0;
    double origin = 0;

    memset(t, 0, sizeof(*t));
    assert_true(json_is_true(json_object_get(obs, "complete")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(run, "hooks"), "exit")),
                        "exited 0");
    snprintf(pcap, sizeof(pcap), "%s", harness_path(""));
    snprintf(pcap + strlen(pcap), sizeof(pcap) - strlen(pcap), "nginx-p%d.pcap", pt);
    ref = pcapref_read(pcap, pcapref_server_port(run));
    assert_non_null(ref);
    t->records = match(records, pt, ref, recs, conns, 200);
    assert_int_equal(t->records, 200);
    /* what holds even if packets were lost: every client port in the
     * capture is one of the point's records' */
    for (long p = 1; p < 65536; p++) {
        bool known = false;

        if (!ref->first[p])
            continue;
        ports++;
        t->reused += pcapref_conns_on(ref, p) > 1;
        for (k = 0; k < t->records && !known; k++)
            known = json_integer_value(json_object_get(recs[k], "port")) == p;
        ports_known += known;
    }
    for (k = 0; k < ref->nconns; k++)
        syned += ref->conns[k].syns > 0;
    for (k = 0; k < t->records; k++)
        matched += conns[k] && conns[k]->syns > 0;
    if (ports == 0 || ports != ports_known)
        fail_msg("point %d: %zu client ports in the capture (%zu packets, %zu lines not a packet "
                 "of port %ld), %zu of them the records'",
                 pt, ports, ref->packets, ref->unparsed, ref->server_port, ports_known);
    snprintf(name, sizeof(name), "nginx-p%d-hook.log", pt);
    if (pcapref_capture_lost(harness_path(name))) {
        fprintf(stderr,
                "nginx point %d: tcpdump did not vouch for its capture (kernel drops, see "
                "%s): the per-packet comparison is skipped\n",
                pt, harness_path(name));
        pcapref_free(ref);
        return false;
    }
    assert_string_equal(ref->source, "127.0.0.1");
    /* one connection in the capture per record, each with its SYN */
    if (syned != t->records || matched != t->records)
        fail_msg("point %d: %zu records, %zu connections with a SYN in the capture, %zu matched",
                 pt, t->records, syned, matched);
    /* the capture's clock against the schedule's: a SYN leaves some time
     * after its start_ms (stamped before socket(); under load, tens of
     * ms), never before, so the smallest difference is the offset */
    for (k = 0; k < t->records; k++) {
        double d =
            conns[k]->first_syn * 1000.0 - json_number_value(json_object_get(recs[k], "start_ms"));

        if (k == 0 || d < origin)
            origin = d;
    }
    for (k = 0; k < t->records; k++) {
        long p;
        const char *outcome;
        const json_t *accept_ms;
        const struct pcapref_conn *c = conns[k];
        bool served, took;

        rec = recs[k];
        p = (long)json_integer_value(json_object_get(rec, "port"));
        outcome = json_string_value(json_object_get(rec, "outcome"));
        accept_ms = json_object_get(rec, "accept_ms");

        assert_false(c->other_source);
        served = is(rec, "established") || is(rec, "accepted_late");
        took = pcapref_server_took(c);
        t->client_rsts += c->client_rsts;
        if (c->syns == 1 + json_integer_value(json_object_get(rec, "syn_retransmits")))
            t->syn_ok++;
        else
            fprintf(stderr, "port %ld (%s): %u SYNs in the capture, syn_retransmits %lld\n", p,
                    outcome, c->syns, json_integer_value(json_object_get(rec, "syn_retransmits")));
        /* a reset is the server's RST, with no answer before it */
        if (is(rec, "reset")) {
            t->resets++;
            t->resets_on_wire += c->server_rst && !took;
        }
        /* the server cannot answer before it accepted: the first answer or
         * close in the capture (on the schedule's clock) is not before
         * accept_ms, within its precision (the accept lies between the
         * start of the last dump that saw it queued and the end of the
         * first that saw it accepted) */
        if (json_is_number(accept_ms) && took) {
            double answered = c->server_first * 1000.0 - origin;

            t->timed++;
            if (answered < json_number_value(accept_ms) - precision - 5.0) {
                char *line = json_dumps(rec, JSON_COMPACT);

                t->early++;
                fprintf(stderr,
                        "port %ld: answered at %.1f ms, accept_ms %.1f (precision %.1f ms, "
                        "capture clock - schedule clock %.3f ms)\n  %s\n",
                        p, answered, json_number_value(accept_ms), precision, origin,
                        line ? line : "");
                free(line);
                show_packets(pcap, p);
            }
        }
        if (json_is_null(json_object_get(rec, "connect_ms")))
            continue;
        if (!served && !is(rec, "never_accepted") && !is(rec, "greeting_timeout")) {
            t->not_judged++; /* reset, error: not a claim about accept() */
            continue;
        }
        t->judged++;
        if ((served && took) || (is(rec, "never_accepted") && !took))
            t->agree++;
        else {
            char *line = json_dumps(rec, JSON_COMPACT);

            fprintf(stderr, "disagree: port %ld qbench %s, capture: server %s\n  %s\n", p, outcome,
                    took ? "answered or closed" : "silent", line ? line : "");
            free(line);
            show_packets(pcap, p);
        }
        t->took_answered += served && took;
        t->never_quiet += is(rec, "never_accepted") && !took;
    }
    pcapref_free(ref);
    if (t->agree < t->judged || t->early) {
        char *causes = json_dumps(obs, JSON_COMPACT);

        fprintf(stderr, "nginx point %d: accept_observed %s\n", pt, causes ? causes : "");
        free(causes);
    }
    fprintf(stderr,
            "nginx point %d: qbench agrees with the capture on %zu of %zu completed handshakes "
            "(%zu served or late with the server's answer or close, %zu never_accepted silent; "
            "%zu not judged: reset or error); SYNs = 1 + syn_retransmits on %zu of %zu; "
            "%zu of %zu resets the server's RST; %u client RSTs; %zu of %zu answers after "
            "accept_ms; %zu client ports carried two connections or more\n",
            pt, t->agree, t->judged, t->took_answered, t->never_quiet, t->not_judged, t->syn_ok,
            t->records, t->resets_on_wire, t->resets, t->client_rsts, t->timed - t->early, t->timed,
            t->reused);
    return true;
}

/* nginx at 2.5x its pace, with tcp_abort_on_overflow 0 and then 1: several
 * classes, each checked on the wire.
 *  - a connection qbench calls served (established) or accepted_late has,
 *    on its 4-tuple, the server's answer or the server's close: only an
 *    nginx that accept()ed it sends those;
 *  - one it calls never_accepted has neither (an RST at most: the kernel's);
 *  - a reset got the server's RST and nothing before it;
 *  - every connection's SYNs in the capture are 1 + its syn_retransmits,
 *    failed handshakes included;
 *  - the client side sent no RST at all (qbench closes without one, and
 *    reads a late answer to its end);
 *  - nginx answered or closed no connection before qbench saw it accepted;
 *  - the classes agree with the capture on >= 99% of completed handshakes
 *    (a greeting_timeout, an unknown fate, counts against). */
static void test_nginx_classes_agree_with_the_capture(void **state)
{
    char text[2048], out[256], recs[256];
    const char *cfg;
    json_t *doc, *records;
    bool vouched = true;

    (void)state;
    harness_require_netns();
    need("/usr/sbin/nginx");
    need("/usr/bin/tcpdump");
    snprintf(out, sizeof(out), "%s/nginx.json", harness_dir());
    snprintf(recs, sizeof(recs), "%s/nginx.jsonl", harness_dir());
    snprintf(text, sizeof(text),
             "{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 0, \"net.ipv4.tcp_syn_retries\": 1},"
             " \"server\": {\"command\": [\"nginx\", \"-p\", \"{dir}\", \"-c\", "
             "\"{dir}/nginx.conf\", \"-e\", \"stderr\", \"-g\", \"daemon off;\"],"
             "  \"files\": {\"nginx.conf\": \"%s/tests/servers/nginx-paced.conf.in\"},"
             "  \"backlog\": 8},"
             " \"client\": {\"rate\": 50, \"connections\": 200, \"request\": \"GET / "
             "HTTP/1.0\\r\\n\\r\\n\", \"greeting_timeout_ms\": 500, \"connect_timeout_ms\": 4000},"
             " \"sweep\": {\"sysctl.net.ipv4.tcp_abort_on_overflow\": [0, 1]},"
             " " PCAPREF_HOOK ", \"output\": \"%s\"}",
             QBENCH_SOURCE_DIR, out);
    cfg = harness_file("nginx-cfg.json", text);
    if (harness_qbench((const char *[]){"--config", cfg, "--connections", recs, "--quiet", NULL}) !=
        0)
        fail_msg("run failed: %s", harness_stderr());
    doc = harness_load(out);
    records = read_records(recs);
    assert_int_equal(json_array_size(records), 400);
    for (int pt = 1; pt <= 2; pt++) {
        const json_t *run = harness_run(doc, (size_t)pt - 1);
        struct tally t;

        assert_int_equal(harness_param(run, "sysctl.net.ipv4.tcp_abort_on_overflow"), pt - 1);
        harness_assert_outcomes_add_up(run);
        assert_int_equal(harness_int(run, "outcomes.attempted"), 200);
        /* backlog-bound: the queue filled to the backlog, SYNs were dropped */
        assert_true(harness_int(run, "accept_queue.max") >= 8);
        assert_true(harness_kernel(run, "ListenOverflows") > 0);
        fprintf(stderr,
                "nginx point %d: established %lld, accepted_late %lld, never_accepted %lld, "
                "timeout %lld, reset %lld, greeting_timeout %lld\n",
                pt, harness_int(run, "outcomes.established"),
                harness_int(run, "outcomes.accepted_late"),
                harness_int(run, "outcomes.never_accepted"), harness_int(run, "outcomes.timeout"),
                harness_int(run, "outcomes.reset"), harness_int(run, "outcomes.greeting_timeout"));
        /* several classes: served first, then late (the queue's wait is
         * longer than the client's 500 ms), SYNs that never got in, and
         * with abort_on_overflow the RSTs of final ACKs that overflowed */
        assert_true(harness_int(run, "outcomes.established") >= 5);
        assert_true(harness_int(run, "outcomes.accepted_late") >= 20);
        assert_true(harness_int(run, "outcomes.timeout") >= 5);
        if (pt == 2)
            assert_true(harness_int(run, "outcomes.reset") >= 1);
        if (!check_point(run, records, pt, &t)) {
            vouched = false;
            continue;
        }
        assert_true(t.judged >= 100);
        if (t.agree * 100 < t.judged * 99)
            fail_msg("point %d: agreement %zu of %zu is below 99%%", pt, t.agree, t.judged);
        /* per connection, what the packets prove */
        assert_int_equal(t.took_answered + t.never_quiet,
                         t.judged - (size_t)harness_int(run, "outcomes.greeting_timeout"));
        assert_int_equal(t.syn_ok, t.records);
        assert_int_equal(t.resets_on_wire, t.resets);
        assert_int_equal(t.client_rsts, 0);
        assert_int_equal(t.early, 0);
        assert_true(t.timed >= 100);
    }
    json_decref(records);
    json_decref(doc);
    /* said above, per point: not a silent pass */
    if (!vouched)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_nginx_classes_agree_with_the_capture, harness_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
