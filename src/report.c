#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "clock.h"
#include "outcome.h"
#include "histjson.h"
#include "results.h"

/* "0", "1" ... and "15+" for the last slot. */
static const char *retrans_key(int slot, char *buf, size_t len)
{
    snprintf(buf, len, slot == OUTCOME_RETRANS_SLOTS - 1 ? "%d+" : "%d", slot);
    return buf;
}

static json_t *retrans_json(const uint64_t *slots)
{
    json_t *o = json_object();
    char key[16];

    for (int i = 0; i < OUTCOME_RETRANS_SLOTS; i++)
        if (slots[i])
            json_object_set_new(o, retrans_key(i, key, sizeof(key)),
                                json_integer((json_int_t)slots[i]));
    return o;
}

static json_t *by_retrans_json(const struct histogram *h)
{
    json_t *o = json_object();
    char key[16];

    for (int i = 0; i < OUTCOME_RETRANS_SLOTS; i++)
        if (h[i].count)
            json_object_set_new(o, retrans_key(i, key, sizeof(key)), histogram_to_json(&h[i]));
    return o;
}

static json_t *errors_json(const uint64_t *slots)
{
    json_t *o = json_object();

    for (unsigned i = 0; i < OUTCOME_ERR_SLOTS; i++) {
        char buf[16];

        if (slots[i])
            json_object_set_new(o, outcome_error_name(outcome_slot_err(i), buf, sizeof(buf)),
                                json_integer((json_int_t)slots[i]));
    }
    return o;
}

static json_t *outcomes_json(const struct tally *t)
{
    json_t *o = json_object();

    json_object_set_new(o, "attempted", json_integer((json_int_t)tally_attempted(t)));
    for (int i = 0; i < OUTCOME_COUNT; i++)
        json_object_set_new(o, outcome_name((enum outcome)i), json_integer((json_int_t)t->outcomes[i]));
    json_object_set_new(o, "errors", errors_json(t->errors));
    return o;
}

static json_t *samples_json(const struct queue_series *q)
{
    json_t *samples = json_array();

    for (size_t i = 0; i < q->n; i++)
        json_array_append_new(samples, json_pack("[I, I]", (json_int_t)q->t_ms[i],
                                                 (json_int_t)q->length[i]));
    return samples;
}

static json_t *queue_json(const struct run_data *rd)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:s, s:o}", "limit", (json_int_t)rd->queue_limit,
                     "max", (json_int_t)rd->queue.max, "listeners", (json_int_t)rd->listeners,
                     "interval_ms",
                     (json_int_t)rd->cfg->sample.accept_queue_ms * rd->queue.stride, "source",
                     rd->has_server ? "tcp_info" : "sock_diag", "samples",
                     samples_json(&rd->queue));
}

static json_t *syn_queue_json(const struct run_data *rd)
{
    const struct queue_series *q = &rd->syn_queue;
    /* the mean spacing of the samples actually taken (adaptive, see runner) */
    double span = q->n > 1 ? (double)(q->t_ms[q->n - 1] - q->t_ms[0]) : 0;

    double sampled_ms = rd->sample_span_ns ? (double)rd->sample_span_ns / 1e6 : span;

    /* interval_ms: how often the kernel was asked (dumps over the time
     * sampled); the stored samples may be sparser (stored_interval_ms) */
    return json_pack("{s:I, s:f, s:f, s:f, s:I, s:f, s:s, s:o}", "max", (json_int_t)q->max,
                     "interval_ms", rd->syn_dumps ? sampled_ms / (double)rd->syn_dumps : 0.0,
                     "stored_interval_ms", q->n > 1 ? span / (double)(q->n - 1) : 0.0, "dump_us",
                     rd->syn_dumps ? (double)rd->syn_cost_ns / (double)rd->syn_dumps / 1000.0 : 0.0,
                     "dumps", (json_int_t)rd->syn_dumps, "cpu_percent",
                     sampled_ms > 0 ? (double)rd->syn_cost_ns / 1e6 / sampled_ms * 100.0 : 0.0,
                     "source", "sock_diag", "samples", samples_json(q));
}

static json_t *timeline_json(const struct timeline *tl)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < tl->len; i++) {
        json_t *row = json_pack("[I, I, I, I]", (json_int_t)(i * tl->interval_ns / NS_PER_MS),
                                (json_int_t)tl->rows[i].attempted,
                                (json_int_t)tl->rows[i].established,
                                (json_int_t)tl->rows[i].failed);

        /* then one column per outcome class, in the order of "outcomes" */
        for (int k = 0; k < OUTCOME_COUNT; k++)
            json_array_append_new(row, json_integer(tl->rows[i].by_class[k]));
        json_array_append_new(rows, row);
    }
    return rows;
}

json_t *report_run_json(const struct run_data *rd)
{
    const struct tally *t = &rd->tally;
    json_t *run = json_object();
    uint64_t elapsed = t->last_ns > t->first_ns && t->first_ns != UINT64_MAX
                           ? (t->last_ns - t->first_ns) / NS_PER_MS
                           : 0;

    json_object_set_new(run, "params", json_deep_copy(rd->params));
    /* the point's own settings: a sweep's points differ from the file's config */
    json_object_set_new(run, "config", config_to_json(rd->cfg));
    json_object_set_new(run, "elapsed_ms", json_integer((json_int_t)elapsed));
    if (rd->interrupted)
        json_object_set_new(run, "interrupted", json_true());
    json_object_set_new(run, "sysctl", rd->sysctl ? json_incref(rd->sysctl) : json_object());
    json_object_set_new(run, "outcomes", outcomes_json(t));
    json_object_set_new(run, "latency_us",
                        json_pack("{s:o, s:o, s:o, s:o, s:o}", "connect",
                                  histogram_to_json(&t->connect_us), "accept",
                                  histogram_to_json(&t->accept_us), "timeout",
                                  histogram_to_json(&t->timeout_us),
                                  "accepted_late_by", histogram_to_json(&t->late_by_us),
                                  "connect_by_syn_retransmits",
                                  by_retrans_json(t->connect_by_retrans)));
    json_object_set_new(run, "syn_retransmits", retrans_json(t->retrans));
    json_object_set_new(run, "syn_retransmits_failed", retrans_json(t->retrans_failed));
    if (rd->has_server) {
        json_object_set_new(run, "synack_retransmits", retrans_json(rd->server.synack_retrans));
        json_object_set_new(run, "server",
                            json_pack("{s:I, s:I, s:I, s:I, s:o}", "accepted",
                                      (json_int_t)rd->server.accepted, "accepted_in_drain",
                                      (json_int_t)rd->server.accepted_in_drain, "client_gone",
                                      (json_int_t)rd->server.client_gone, "greeting_failed",
                                      (json_int_t)rd->server.greeting_failed, "accept_errors",
                                      errors_json(rd->server.accept_errors)));
        json_object_set_new(run, "story",
                            json_pack("{s:b, s:I, s:I}", "joined", rd->story_joined,
                                      "late_accepts_unmatched", (json_int_t)rd->late_unmatched,
                                      "drain_ms", (json_int_t)rd->drain_ms));
        json_object_set_new(run, "kernel_drain",
                            kstats_delta_json(&rd->after, &rd->drain_after));
    }
    if (rd->has_ext) {
        json_t *argv = json_array();

        for (size_t i = 0; i < rd->cfg->ncommand; i++)
            json_array_append_new(argv, json_string(rd->cfg->command[i]));
        json_object_set_new(run, "server",
                            json_pack("{s:o, s:s, s:s, s:I, s:I, s:s, s:b, s:I, s:s}", "command",
                                      argv, "log", rd->ext_log, "exit", rd->ext_status,
                                      "accepted_in_drain", (json_int_t)rd->ext_accepted_in_drain,
                                      "drain_ms", (json_int_t)rd->drain_ms, "dir", rd->ext_dir,
                                      "dir_kept", rd->ext_dir_kept, "log_dropped_bytes",
                                      (json_int_t)rd->ext_log_dropped, "log_tail",
                                      rd->ext_log_tail));
        json_object_set_new(run, "kernel_drain",
                            kstats_delta_json(&rd->after, &rd->drain_after));
        /* the client watched each connection it gave up on: late or never */
        json_object_set_new(run, "story",
                            json_pack("{s:b, s:s, s:I}", "joined",
                                      rd->cfg->client.expect_greeting, "method",
                                      "client watch after giving up", "drain_ms",
                                      (json_int_t)rd->drain_ms));
    }
    if (rd->has_server || rd->has_queue)
        json_object_set_new(run, "accept_queue", queue_json(rd));
    if (rd->has_syn_queue)
        json_object_set_new(run, "syn_queue", syn_queue_json(rd));
    if (rd->netns_path[0] && rd->cfg->isolate)
        json_object_set_new(run, "netns",
                            json_pack("{s:s, s:I, s:b, s:I, s:b}", "path", rd->netns_path,
                                      "inode", (json_int_t)rd->netns_inode, "user_ns",
                                      rd->netns_user, "ehash_entries",
                                      (json_int_t)rd->ehash_entries, "private_ehash",
                                      rd->ehash_entries > 0));
    /* whose counters these are: a private namespace's are the run's own */
    json_object_set_new(run, "kernel_scope", json_string(rd->cfg->isolate ? "namespace"
                                                                           : "host"));
    json_object_set_new(run, "kernel", kstats_delta_json(&rd->before, &rd->after));
    if (rd->has_server_kernel) {
        /* the target's own namespace, entered for its counters and queues */
        json_object_set_new(run, "server_kernel",
                            kstats_delta_json(&rd->server_before, &rd->server_after));
        json_object_set_new(run, "server_kernel_scope", json_string("namespace"));
        json_object_set_new(run, "server_netns", json_string(rd->cfg->target_netns));
        if (rd->server_sysctl)
            json_object_set_new(run, "server_sysctl", json_incref(rd->server_sysctl));
    }
    /* where t = 0 of timeline and queue samples lies on the wall clock: what
     * lines a run up with an observer on another machine */
    json_object_set_new(run, "origin_epoch_s", json_real(rd->origin_epoch));
    json_object_set_new(run, "timeline_interval_ms",
                        json_integer((json_int_t)(t->timeline.interval_ns / NS_PER_MS)));
    json_object_set_new(run, "timeline", timeline_json(&t->timeline));
    json_object_set_new(run, "schedule_lag_us", histogram_to_json(&t->lag_us));
    json_object_set_new(run, "client_threads", json_integer(rd->client_threads));
    json_object_set_new(run, "unstarted", json_integer((json_int_t)rd->unstarted));
    json_object_set_new(run, "qbench_peak_rss_kb", json_integer(rd->peak_rss_kb));
    return run;
}

json_t *report_document(const json_t *effective_config, json_t *runs, json_t *expect,
                         const char *started_at, bool interrupted)
{
    struct utsname u;
    char finished[32];
    json_t *doc = json_object();

    uname(&u);
    clock_iso8601(finished, sizeof(finished));
    json_object_set_new(doc, "schema", json_string(RESULTS_SCHEMA));
    json_object_set(doc, "name", json_object_get(effective_config, "name"));
    json_object_set_new(doc, "started_at", json_string(started_at));
    json_object_set_new(doc, "finished_at", json_string(finished));
    json_object_set_new(doc, "qbench_version", json_string(QBENCH_VERSION));
    json_object_set_new(doc, "kernel", json_string(u.release));
    json_object_set_new(doc, "host", json_string(u.nodename));
    json_object_set_new(doc, "interrupted", json_boolean(interrupted));
    json_object_set_new(doc, "config", json_deep_copy(effective_config));
    json_object_set_new(doc, "runs", runs);
    json_object_set_new(doc, "expect", expect ? expect : json_object());
    return doc;
}

