#include "results.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"
#include "outcome.h"
#include "safefile.h"

json_t *results_histogram_json(const struct histogram *h)
{
    return json_pack("{s:I, s:I, s:f, s:I, s:I, s:I, s:I, s:I}",
                     "count", (json_int_t)h->count,
                     "min", (json_int_t)(h->count ? h->min : 0),
                     "mean", histogram_mean(h),
                     "p50", (json_int_t)histogram_quantile(h, 0.50),
                     "p90", (json_int_t)histogram_quantile(h, 0.90),
                     "p99", (json_int_t)histogram_quantile(h, 0.99),
                     "p999", (json_int_t)histogram_quantile(h, 0.999),
                     "max", (json_int_t)h->max);
}

/* "0", "1" ... and "15+" for the last slot. */
static const char *retrans_key(int slot, char *buf, size_t len)
{
    snprintf(buf, len, slot == TALLY_RETRANS_SLOTS - 1 ? "%d+" : "%d", slot);
    return buf;
}

static json_t *retrans_json(const uint64_t *slots)
{
    json_t *o = json_object();
    char key[16];

    for (int i = 0; i < TALLY_RETRANS_SLOTS; i++)
        if (slots[i])
            json_object_set_new(o, retrans_key(i, key, sizeof(key)),
                                json_integer((json_int_t)slots[i]));
    return o;
}

static json_t *by_retrans_json(const struct histogram *h)
{
    json_t *o = json_object();
    char key[16];

    for (int i = 0; i < TALLY_RETRANS_SLOTS; i++)
        if (h[i].count)
            json_object_set_new(o, retrans_key(i, key, sizeof(key)), results_histogram_json(&h[i]));
    return o;
}

static json_t *errors_json(const uint64_t *slots)
{
    json_t *o = json_object();

    for (unsigned i = 0; i < TALLY_ERR_SLOTS; i++) {
        char buf[16];

        if (slots[i])
            json_object_set_new(o, outcome_error_name(tally_slot_err(i), buf, sizeof(buf)),
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

static json_t *queue_json(const struct run_data *rd)
{
    json_t *samples = json_array();

    for (size_t i = 0; i < rd->queue.n; i++)
        json_array_append_new(samples, json_pack("[I, I]", (json_int_t)rd->queue.t_ms[i],
                                                 (json_int_t)rd->queue.length[i]));
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "limit", (json_int_t)rd->queue_limit,
                     "max", (json_int_t)rd->queue.max, "listeners", (json_int_t)rd->listeners,
                     "interval_ms",
                     (json_int_t)rd->cfg->sample.accept_queue_ms * rd->queue.stride,
                     "samples", samples);
}

static json_t *timeline_json(const struct timeline *tl)
{
    json_t *rows = json_array();

    for (size_t i = 0; i < tl->len; i++)
        json_array_append_new(rows, json_pack("[I, I, I, I]",
                                              (json_int_t)(i * tl->interval_ns / NS_PER_MS),
                                              (json_int_t)tl->rows[i].attempted,
                                              (json_int_t)tl->rows[i].established,
                                              (json_int_t)tl->rows[i].failed));
    return rows;
}

json_t *results_run_json(const struct run_data *rd)
{
    const struct tally *t = &rd->tally;
    json_t *run = json_object();
    uint64_t elapsed = t->last_ns > t->first_ns && t->first_ns != UINT64_MAX
                           ? (t->last_ns - t->first_ns) / NS_PER_MS
                           : 0;

    json_object_set_new(run, "params", json_deep_copy(rd->params));
    json_object_set_new(run, "elapsed_ms", json_integer((json_int_t)elapsed));
    if (rd->interrupted)
        json_object_set_new(run, "interrupted", json_true());
    json_object_set_new(run, "sysctl", rd->sysctl ? json_incref(rd->sysctl) : json_object());
    json_object_set_new(run, "outcomes", outcomes_json(t));
    json_object_set_new(run, "latency_us",
                        json_pack("{s:o, s:o, s:o, s:o}", "connect",
                                  results_histogram_json(&t->connect_us), "accept",
                                  results_histogram_json(&t->accept_us), "timeout",
                                  results_histogram_json(&t->timeout_us),
                                  "connect_by_syn_retransmits",
                                  by_retrans_json(t->connect_by_retrans)));
    json_object_set_new(run, "syn_retransmits", retrans_json(t->retrans));
    json_object_set_new(run, "syn_retransmits_failed", retrans_json(t->retrans_failed));
    if (rd->has_server) {
        json_object_set_new(run, "synack_retransmits", retrans_json(rd->server.synack_retrans));
        json_object_set_new(run, "server",
                            json_pack("{s:I, s:I, s:o}", "accepted",
                                      (json_int_t)rd->server.accepted, "greeting_failed",
                                      (json_int_t)rd->server.greeting_failed, "accept_errors",
                                      errors_json(rd->server.accept_errors)));
        json_object_set_new(run, "accept_queue", queue_json(rd));
    }
    json_object_set_new(run, "kernel", kstats_delta_json(&rd->before, &rd->after));
    json_object_set_new(run, "timeline_interval_ms",
                        json_integer((json_int_t)(t->timeline.interval_ns / NS_PER_MS)));
    json_object_set_new(run, "timeline", timeline_json(&t->timeline));
    json_object_set_new(run, "schedule_lag_us",
                        json_pack("{s:I, s:I, s:I}", "p50",
                                  (json_int_t)histogram_quantile(&t->lag_us, 0.5), "p99",
                                  (json_int_t)histogram_quantile(&t->lag_us, 0.99), "max",
                                  (json_int_t)t->lag_us.max));
    json_object_set_new(run, "client_threads", json_integer(rd->client_threads));
    json_object_set_new(run, "unstarted", json_integer((json_int_t)rd->unstarted));
    json_object_set_new(run, "qbench_peak_rss_kb", json_integer(rd->peak_rss_kb));
    return run;
}

json_t *results_document(const json_t *effective_config, json_t *runs, json_t *expect,
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

int results_write(const json_t *doc, const char *path, char *err, size_t errlen)
{
    struct safefile sf;
    char *text;
    int rc;

    text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (!text)
        return errbuf_set(err, errlen, "cannot write results: out of memory");
    rc = safefile_open(&sf, path, err, errlen);
    if (rc == 0 && (safefile_write(&sf, text, strlen(text), err, errlen) < 0 ||
                    safefile_write(&sf, "\n", 1, err, errlen) < 0)) {
        safefile_abort(&sf);
        rc = -1;
    } else if (rc == 0) {
        rc = safefile_commit(&sf, err, errlen);
    }
    free(text);
    if (rc < 0) {
        char cause[ERRBUF_LEN];

        snprintf(cause, sizeof(cause), "%s", err);
        errbuf_set(err, errlen, "cannot write results: %s", cause);
    }
    return rc;
}

int results_check(const json_t *doc, const char *source, char *err, size_t errlen)
{
    const json_t *schema = json_object_get(doc, "schema"), *runs;

    if (!json_is_object(doc) || !json_is_string(schema) ||
        strcmp(json_string_value(schema), RESULTS_SCHEMA) != 0)
        return errbuf_set(err, errlen, "%s: not a qbench results file (expected \"schema\": "
                                       "\"%s\")", source, RESULTS_SCHEMA);
    runs = json_object_get(doc, "runs");
    if (!json_is_array(runs))
        return errbuf_set(err, errlen, "%s: runs: missing or not an array", source);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i);

        if (!json_is_object(run) || !json_is_object(json_object_get(run, "params")) ||
            !json_is_object(json_object_get(run, "outcomes")))
            return errbuf_set(err, errlen, "%s: runs[%zu]: needs params and outcomes objects",
                              source, i);
    }
    return 0;
}

json_t *results_load(const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);

    if (!doc) {
        if (jerr.line <= 0)
            errbuf_set(err, errlen, "%s: %s", path, jerr.text);
        else
            errbuf_set(err, errlen, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
                       jerr.text);
        return NULL;
    }
    if (results_check(doc, path, err, errlen) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static int number_at(const json_t *obj, const char *a, const char *b, const char *c,
                     double *value)
{
    const json_t *j = json_object_get(obj, a);

    if (b)
        j = json_object_get(j, b);
    if (c)
        j = json_object_get(j, c);
    if (!json_is_number(j))
        return -1;
    *value = json_number_value(j);
    return 0;
}

int results_metric(const json_t *run, const char *metric, double *value)
{
    char buf[64];
    size_t n = strlen(metric);
    const char *under;

    if (n >= sizeof(buf))
        return -1;
    if (n > 6 && strcmp(metric + n - 6, "_ratio") == 0) {
        double count, attempted;

        snprintf(buf, sizeof(buf), "%.*s", (int)(n - 6), metric);
        if (number_at(run, "outcomes", buf, NULL, &count) < 0 ||
            number_at(run, "outcomes", "attempted", NULL, &attempted) < 0)
            return -1;
        *value = attempted > 0 ? count / attempted : 0;
        return 0;
    }
    if (strcmp(metric, "accept_queue_max") == 0)
        return number_at(run, "accept_queue", "max", NULL, value);
    if (strcmp(metric, "schedule_lag_p99_us") == 0)
        return number_at(run, "schedule_lag_us", "p99", NULL, value);
    /* connect_p99_us -> latency_us.connect.p99 */
    under = strchr(metric, '_');
    if (under && n > 3 && strcmp(metric + n - 3, "_us") == 0) {
        char stat[16];
        const json_t *hist;

        snprintf(buf, sizeof(buf), "%.*s", (int)(under - metric), metric);
        snprintf(stat, sizeof(stat), "%.*s", (int)(n - 3 - (size_t)(under - metric) - 1),
                 under + 1);
        hist = json_object_get(json_object_get(run, "latency_us"), buf);
        if (!hist || json_integer_value(json_object_get(hist, "count")) == 0)
            return -1;
        return number_at(hist, stat, NULL, NULL, value);
    }
    return number_at(run, "outcomes", metric, NULL, value);
}
