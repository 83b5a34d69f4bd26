#include "report.h"

#include <arpa/inet.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "clock.h"
#include "outcome.h"
#include "histjson.h"
#include "results.h"
#include "obsstory.h"
#include "rundoc.h"

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

    json_object_set_new(o, RD_ATTEMPTED, json_integer((json_int_t)tally_attempted(t)));
    for (int i = 0; i < OUTCOME_COUNT; i++)
        json_object_set_new(o, outcome_name((enum outcome)i),
                            json_integer((json_int_t)t->outcomes[i]));
    json_object_set_new(o, RD_ERRORS, errors_json(t->errors));
    return o;
}

static json_t *samples_json(const struct queue_series *q)
{
    json_t *samples = json_array();

    for (size_t i = 0; i < q->n; i++)
        json_array_append_new(
            samples, json_pack("[I, I]", (json_int_t)q->t_ms[i], (json_int_t)q->length[i]));
    return samples;
}

static json_t *queue_json(const struct run_data *rd)
{
    /* interval_ms: the samples' spacing as stored; sampled_interval_ms:
     * how often the sampler really asked (the time sampled over the
     * samples taken), the figure to hold beside syn_queue.interval_ms */
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:s, s:o}", RD_Q_LIMIT,
                     (json_int_t)rd->queue_limit, RD_Q_MAX, (json_int_t)rd->queue.max,
                     RD_Q_LISTENERS, (json_int_t)rd->listeners, RD_Q_INTERVAL_MS,
                     (json_int_t)rd->cfg->sample.accept_queue_ms * rd->queue.stride, RD_Q_DUMPS,
                     (json_int_t)rd->queue_dumps, RD_Q_SAMPLED_INTERVAL_MS,
                     rd->queue_dumps && rd->sample_span_ns
                         ? (double)rd->sample_span_ns / 1e6 / (double)rd->queue_dumps
                         : 0.0,
                     RD_Q_SOURCE, rd->has_server ? "tcp_info" : "sock_diag", RD_Q_SAMPLES,
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
    return json_pack(
        "{s:I, s:f, s:f, s:f, s:I, s:f, s:f, s:s, s:o}", RD_Q_MAX, (json_int_t)q->max,
        RD_Q_INTERVAL_MS, rd->syn_dumps ? sampled_ms / (double)rd->syn_dumps : 0.0,
        RD_Q_STORED_INTERVAL_MS, q->n > 1 ? span / (double)(q->n - 1) : 0.0, RD_Q_DUMP_US,
        rd->syn_dumps ? (double)rd->syn_cost_ns / (double)rd->syn_dumps / 1000.0 : 0.0, RD_Q_DUMPS,
        (json_int_t)rd->syn_dumps, RD_Q_CPU_PERCENT,
        sampled_ms > 0 ? (double)rd->syn_cost_ns / 1e6 / sampled_ms * 100.0 : 0.0,
        RD_Q_SAMPLING_CPU_PERCENT,
        sampled_ms > 0 ? (double)(rd->syn_cost_ns + rd->listen_cost_ns) / 1e6 / sampled_ms * 100.0
                       : 0.0,
        RD_Q_SOURCE, "sock_diag", RD_Q_SAMPLES, samples_json(q));
}

static json_t *timeline_json(const struct timeline *tl)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < tl->len; i++) {
        json_t *row =
            json_pack("[I, I, I, I]", (json_int_t)(i * tl->interval_ns / NS_PER_MS),
                      (json_int_t)tl->rows[i].attempted, (json_int_t)tl->rows[i].established,
                      (json_int_t)tl->rows[i].failed);

        /* then one column per outcome class, in the order of RD_OUTCOMES */
        for (int k = 0; k < OUTCOME_COUNT; k++)
            json_array_append_new(row, json_integer(tl->rows[i].by_class[k]));
        json_array_append_new(rows, row);
    }
    return rows;
}

/* us from the run's origin, null for "did not happen" (0) */
static json_t *rel_us(const struct run_data *rd, uint64_t ns)
{
    return ns ? json_integer((json_int_t)(((int64_t)ns - (int64_t)rd->origin_ns) / 1000))
              : json_null();
}

/* Every connection that gave up on the greeting, as the server would see
 * it (obsstory.h GAVE_UP_FIELDS). The client releases the socket when it
 * gives up; what it read afterwards is not watched in target mode. */
static json_t *gave_up_json(const struct run_data *rd)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < rd->ngave_up; i++) {
        const struct story_gave_up *g = &rd->gave_up[i];
        char addr[INET6_ADDRSTRLEN] = "";

        inet_ntop(g->src.family, g->src.addr, addr, sizeof(addr));
        json_array_append_new(rows, json_pack("[s, I, o, o, o, o, o, n, b, b]", addr,
                                              (json_int_t)g->src.port, rel_us(rd, g->due_ns),
                                              rel_us(rd, g->start_ns), rel_us(rd, g->connect_ns),
                                              rel_us(rd, g->giveup_ns), rel_us(rd, g->giveup_ns),
                                              rd->cfg->client.close_reset, 0));
    }
    return json_pack("{s:b, s:[s,s,s,s,s,s,s,s,s,s], s:o}", "complete", rd->gave_up_complete,
                     "fields", GAVE_UP_FIELDS, "rows", rows);
}

json_t *report_run_json(const struct run_data *rd)
{
    const struct tally *t = &rd->tally;
    json_t *run = json_object();
    uint64_t elapsed = t->last_ns > t->first_ns && t->first_ns != UINT64_MAX
                           ? (t->last_ns - t->first_ns) / NS_PER_MS
                           : 0;

    json_object_set_new(run, RD_PARAMS, json_deep_copy(rd->params));
    /* the point's own settings: a sweep's points differ from the file's config */
    json_object_set_new(run, RD_CONFIG, config_to_json(rd->cfg));
    json_object_set_new(run, RD_ELAPSED_MS, json_integer((json_int_t)elapsed));
    if (rd->interrupted)
        json_object_set_new(run, RD_INTERRUPTED, json_true());
    json_object_set_new(run, RD_SYSCTL, rd->sysctl ? json_incref(rd->sysctl) : json_object());
    if (rd->records_error[0])
        json_object_set_new(run, RD_CONNECTIONS_ERROR, json_string(rd->records_error));
    if (rd->sysctl_changed) {
        /* RD_SYSCTL is what qbench wrote and read back; the run had these */
        const char *key;
        json_t *v, *in_force = json_deep_copy(json_object_get(run, RD_SYSCTL));

        json_object_foreach(rd->sysctl_changed, key, v)
            json_object_set(in_force, key,
                            json_object_get(v, "after_server_start")
                                ? json_object_get(v, "after_server_start")
                                : json_object_get(v, "at_end"));
        json_object_set_new(run, RD_SYSCTL_CHANGED, json_incref(rd->sysctl_changed));
        json_object_set_new(run, RD_SYSCTL_IN_FORCE, in_force);
    }
    json_object_set_new(run, RD_OUTCOMES, outcomes_json(t));
    {
        json_t *lat =
            json_pack("{s:o, s:o, s:o, s:o}", RD_LAT_CONNECT, histogram_to_json(&t->connect_us),
                      RD_LAT_ACCEPT, histogram_to_json(&t->accept_us), RD_LAT_ACCEPTED_LATE_BY,
                      histogram_to_json(&t->late_by_us), RD_LAT_CONNECT_BY_RETRANS,
                      by_retrans_json(t->connect_by_retrans));

        /* latency_us.<class>: from the scheduled connect to the moment the
         * client knew the outcome, one per class, count = outcomes.<class>
         * (latency_us.timeout is the timeout class's) */
        for (int i = 0; i < OUTCOME_COUNT; i++)
            json_object_set_new(lat, outcome_name((enum outcome)i),
                                histogram_to_json(&t->class_us[i]));
        json_object_set_new(run, RD_LATENCY, lat);
    }
    json_object_set_new(run, RD_SYN_RETRANS, retrans_json(t->retrans));
    json_object_set_new(run, RD_SYN_RETRANS_FAILED, retrans_json(t->retrans_failed));
    if (rd->has_server) {
        json_object_set_new(run, RD_SYNACK_RETRANS, retrans_json(rd->server.synack_retrans));
        json_object_set_new(run, RD_SERVER,
                            json_pack("{s:I, s:I, s:I, s:I, s:o}", RD_SRV_ACCEPTED,
                                      (json_int_t)rd->server.accepted, RD_SRV_ACCEPTED_IN_DRAIN,
                                      (json_int_t)rd->server.accepted_in_drain, RD_SRV_CLIENT_GONE,
                                      (json_int_t)rd->server.client_gone, RD_SRV_GREETING_FAILED,
                                      (json_int_t)rd->server.greeting_failed, RD_SRV_ACCEPT_ERRORS,
                                      errors_json(rd->server.accept_errors)));
        json_object_set_new(run, RD_STORY,
                            json_pack("{s:b, s:I, s:I}", RD_STORY_JOINED, rd->story_joined,
                                      RD_STORY_LATE_UNMATCHED, (json_int_t)rd->late_unmatched,
                                      RD_DRAIN_MS, (json_int_t)rd->drain_ms));
        json_object_set_new(run, RD_KERNEL_DRAIN, kstats_delta_json(&rd->after, &rd->drain_after));
    }
    if (rd->has_ext) {
        json_t *argv = json_array();

        for (size_t i = 0; i < rd->cfg->ncommand; i++)
            json_array_append_new(argv, json_string(rd->cfg->command[i]));
        json_object_set_new(
            run, RD_SERVER,
            json_pack("{s:o, s:s, s:s, s:I, s:I, s:s, s:b, s:I, s:s}", RD_SRV_COMMAND, argv,
                      RD_SRV_LOG, rd->ext_log, RD_SRV_EXIT, rd->ext_status,
                      RD_SRV_ACCEPTED_IN_DRAIN, (json_int_t)rd->ext_accepted_in_drain, RD_DRAIN_MS,
                      (json_int_t)rd->drain_ms, RD_SRV_DIR, rd->ext_dir, RD_SRV_DIR_KEPT,
                      rd->ext_dir_kept, RD_SRV_LOG_DROPPED, (json_int_t)rd->ext_log_dropped,
                      RD_SRV_LOG_TAIL, rd->ext_log_tail));
        json_object_set_new(run, RD_KERNEL_DRAIN, kstats_delta_json(&rd->after, &rd->drain_after));
        /* the kernel showed what the server accepted (accept_observed) */
        json_object_set_new(run, RD_STORY,
                            json_pack("{s:b, s:s, s:I}", RD_STORY_JOINED, rd->story_joined,
                                      RD_STORY_METHOD, "kernel: sock_diag accept observation",
                                      RD_DRAIN_MS, (json_int_t)rd->drain_ms));
    }
    if (rd->has_hook)
        json_object_set_new(run, RD_HOOKS,
                            json_pack("{s:s, s:s, s:f, s:s}", "before", rd->hook_cmd, "log",
                                      rd->hook_log, "ready_ms", rd->hook_ready_ms, "exit",
                                      rd->hook_status));
    if (rd->capture)
        json_object_set(run, RD_CAPTURE, rd->capture);
    if (rd->accept_observed)
        json_object_set_new(run, RD_ACCEPT_OBSERVED, json_incref(rd->accept_observed));
    if (rd->has_server || rd->has_queue)
        json_object_set_new(run, RD_ACCEPT_QUEUE, queue_json(rd));
    if (rd->has_syn_queue)
        json_object_set_new(run, RD_SYN_QUEUE, syn_queue_json(rd));
    if (rd->netns_path[0] && rd->cfg->isolate)
        json_object_set_new(run, RD_NETNS,
                            json_pack("{s:s, s:I, s:b, s:I, s:b}", RD_NETNS_PATH, rd->netns_path,
                                      RD_NETNS_INODE, (json_int_t)rd->netns_inode, RD_NETNS_USER_NS,
                                      rd->netns_user, RD_NETNS_EHASH, (json_int_t)rd->ehash_entries,
                                      RD_NETNS_PRIVATE_EHASH, rd->ehash_entries > 0));
    /* whose counters these are: a private namespace's are the run's own */
    json_object_set_new(run, RD_KERNEL_SCOPE, json_string(rd->cfg->isolate ? "namespace" : "host"));
    json_object_set_new(run, RD_KERNEL, kstats_delta_json(&rd->before, &rd->after));
    if (rd->has_server_kernel) {
        /* the target's own namespace, entered for its counters and queues */
        json_object_set_new(run, RD_SERVER_KERNEL,
                            kstats_delta_json(&rd->server_before, &rd->server_after));
        json_object_set_new(run, RD_SERVER_KERNEL_SCOPE, json_string("namespace"));
        json_object_set_new(run, RD_SERVER_NETNS, json_string(rd->cfg->target_netns));
        if (rd->server_sysctl)
            json_object_set_new(run, RD_SERVER_SYSCTL, json_incref(rd->server_sysctl));
    }
    /* where t = 0 of timeline and queue samples lies on the wall clock: what
     * lines a run up with an observer on another machine */
    json_object_set_new(run, RD_ORIGIN_EPOCH, json_real(rd->origin_epoch));
    json_object_set_new(run, RD_ORIGIN_EPOCH_US, json_integer(llround(rd->origin_epoch * 1e6)));
    if (rd->gave_up)
        json_object_set_new(run, RD_GAVE_UP, gave_up_json(rd));
    json_object_set_new(run, RD_TIMELINE_INTERVAL_MS,
                        json_integer((json_int_t)(t->timeline.interval_ns / NS_PER_MS)));
    json_object_set_new(run, RD_TIMELINE, timeline_json(&t->timeline));
    json_object_set_new(run, RD_SCHEDULE_LAG, histogram_to_json(&t->lag_us));
    json_object_set_new(run, RD_CLIENT_THREADS, json_integer(rd->client_threads));
    json_object_set_new(run, RD_UNSTARTED, json_integer((json_int_t)rd->unstarted));
    json_object_set_new(run, RD_PEAK_RSS_KB, json_integer(rd->peak_rss_kb));
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
    json_object_set_new(doc, RD_SCHEMA, json_string(RESULTS_SCHEMA));
    json_object_set(doc, RD_NAME, json_object_get(effective_config, RD_NAME));
    json_object_set_new(doc, RD_STARTED_AT, json_string(started_at));
    json_object_set_new(doc, RD_FINISHED_AT, json_string(finished));
    json_object_set_new(doc, RD_QBENCH_VERSION, json_string(QBENCH_VERSION));
    json_object_set_new(doc, RD_KERNEL_RELEASE, json_string(u.release));
    json_object_set_new(doc, RD_HOST, json_string(u.nodename));
    json_object_set_new(doc, RD_INTERRUPTED, json_boolean(interrupted));
    json_object_set_new(doc, RD_CONFIG, json_deep_copy(effective_config));
    json_object_set_new(doc, RD_RUNS, runs);
    json_object_set_new(doc, RD_EXPECT, expect ? expect : json_object());
    return doc;
}
