/* Crafted results documents for the unit tests of expect, compare and plot. */
#ifndef QB_TESTDOCS_H
#define QB_TESTDOCS_H

#include <jansson.h>

#include "report.h"
#include "results.h"

struct fake_run {
    const char *params; /* JSON object text */
    long long established, timeout, reset, greeting_timeout;
    long long connect_p50, connect_p99, accept_p50, accept_p99; /* accept 0: no greeting */
};

static inline json_t *fake_hist(long long p50, long long p99, long long count)
{
    return json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)count, "min",
                     (json_int_t)(p50 / 2), "mean", (double)p50, "p50", (json_int_t)p50, "p90",
                     (json_int_t)p99, "p99", (json_int_t)p99, "p999", (json_int_t)p99, "max",
                     (json_int_t)p99);
}

static inline json_t *fake_run_json(const struct fake_run *r)
{
    long long att = r->established + r->timeout + r->reset + r->greeting_timeout;
    json_t *run = json_object();

    json_object_set_new(run, "params", json_loads(r->params, 0, NULL));
    json_object_set_new(
        run, "outcomes",
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{}}", "attempted", (json_int_t)att,
                  "established", (json_int_t)r->established, "timeout", (json_int_t)r->timeout,
                  "reset", (json_int_t)r->reset, "refused", (json_int_t)0, "greeting_timeout",
                  (json_int_t)r->greeting_timeout, "error", (json_int_t)0, "errors"));
    json_object_set_new(
        run, "latency_us",
        json_pack("{s:o, s:o}", "connect",
                  fake_hist(r->connect_p50, r->connect_p99, att - r->timeout), "accept",
                  fake_hist(r->accept_p50, r->accept_p99, r->accept_p50 ? r->established : 0)));
    json_object_set_new(run, "sysctl", json_pack("{s:i}", "net.ipv4.tcp_syn_retries", 2));
    json_object_set_new(run, "timeline",
                        json_pack("[[i,i,i,i],[i,i,i,i]]", 0, 10, 8, 0, 100, 10, 5, 3));
    json_object_set_new(run, "timeline_interval_ms", json_integer(100));
    json_object_set_new(run, "accept_queue",
                        json_pack("{s:i, s:i, s:i, s:i, s:[[i,i],[i,i]]}", "limit", 8, "max", 9,
                                  "listeners", 1, "interval_ms", 10, "samples", 0, 0, 10, 9));
    return run;
}

/* A document of n runs. */
static inline json_t *fake_doc(const struct fake_run *runs, size_t n)
{
    json_t *arr = json_array();
    json_t *cfg = json_pack("{s:s, s:{s:i, s:i}, s:{s:f}}", "name", "fake", "server", "backlog", 8,
                            "accept_delay_ms", 50, "client", "rate", 200.0);
    json_t *doc;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, fake_run_json(&runs[i]));
    doc = report_document(cfg, arr, NULL, "2026-01-01T00:00:00Z", false);
    json_decref(cfg);
    return doc;
}

#endif
