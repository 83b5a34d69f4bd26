#include "merge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "histjson.h"
#include "metric.h"
#include "stats.h"

/* dst[key] += src[key] for every integer member (objects of counts). */
static void sum_counts(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)src, key, val) {
        json_t *d = json_object_get(dst, key);

        if (json_is_integer(val))
            json_object_set_new(dst, key,
                                json_integer(json_integer_value(d) + json_integer_value(val)));
        else if (json_is_object(val)) {
            if (!json_is_object(d)) {
                d = json_object();
                json_object_set_new(dst, key, d);
            }
            sum_counts(d, val);
        }
    }
}

/* Merges the histograms at obj[key] of every run into out[key]. */
static int merge_hist(json_t *out, json_t *const *runs, size_t n, const char *section,
                      const char *key, char *err, size_t errlen)
{
    struct histogram *sum = malloc(sizeof(*sum)), *one = malloc(sizeof(*one));
    json_t *dst = section ? json_object_get(out, section) : out;
    bool any = false;
    int rc = 0;

    if (!sum || !one) {
        free(sum);
        free(one);
        return errbuf_set(err, errlen, "out of memory");
    }
    histogram_init(sum);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const json_t *src = section ? json_object_get(runs[i], section) : runs[i];
        const json_t *h = json_object_get(src, key);

        if (!h)
            continue;
        if (histogram_from_json(h, one) < 0)
            rc = errbuf_set(err, errlen, "%s%s%s: no histogram buckets (a file from before "
                                         "qbench-result/2 cannot be merged exactly)",
                            section ? section : "", section ? "." : "", key);
        else
            histogram_merge(sum, one);
        any = true;
    }
    if (rc == 0 && any && json_is_object(dst))
        json_object_set_new(dst, key, histogram_to_json(sum));
    free(sum);
    free(one);
    return rc;
}

static void max_of(json_t *out, json_t *const *runs, size_t n, const char *section,
                   const char *key)
{
    json_t *dst = section ? json_object_get(out, section) : out;
    json_int_t best = 0;
    bool any = false;

    for (size_t i = 0; i < n; i++) {
        const json_t *src = section ? json_object_get(runs[i], section) : runs[i];
        const json_t *v = json_object_get(src, key);

        if (json_is_integer(v) && (!any || json_integer_value(v) > best)) {
            best = json_integer_value(v);
            any = true;
        }
    }
    if (any && json_is_object(dst))
        json_object_set_new(dst, key, json_integer(best));
}

/* Rows [t_ms, a, b, c] summed by row index (each run on its own clock). */
static json_t *sum_timelines(json_t *const *runs, size_t n)
{
    json_t *out = json_array();

    for (size_t i = 0; i < n; i++) {
        const json_t *tl = json_object_get(runs[i], "timeline");

        for (size_t r = 0; r < json_array_size(tl); r++) {
            const json_t *row = json_array_get(tl, r);
            json_t *dst = json_array_get(out, r);

            if (!dst) {
                json_array_append_new(out, json_deep_copy(row));
                continue;
            }
            for (size_t k = 1; k < json_array_size(row) && k < json_array_size(dst); k++)
                json_array_set_new(dst, k,
                                   json_integer(json_integer_value(json_array_get(dst, k)) +
                                                json_integer_value(json_array_get(row, k))));
        }
    }
    return out;
}

json_t *merge_runs(json_t *const *runs, size_t n, char *err, size_t errlen)
{
    static const char *const counted[] = {"outcomes", "syn_retransmits",
                                          "syn_retransmits_failed", "synack_retransmits",
                                          "kernel", "kernel_drain"};
    static const char *const latencies[] = {"connect", "accept", "timeout", "accepted_late_by"};
    json_t *out;

    if (n == 0) {
        errbuf_set(err, errlen, "nothing to merge");
        return NULL;
    }
    out = json_deep_copy(runs[0]);
    json_object_del(out, "repeats");
    json_object_del(out, "spread");
    for (size_t k = 0; k < sizeof(counted) / sizeof(counted[0]); k++) {
        json_t *dst = json_object();

        for (size_t i = 0; i < n; i++)
            if (json_is_object(json_object_get(runs[i], counted[k])))
                sum_counts(dst, json_object_get(runs[i], counted[k]));
        if (json_object_get(runs[0], counted[k]))
            json_object_set_new(out, counted[k], dst);
        else
            json_decref(dst);
    }
    /* the server's tallies: counts summed, its log and exit are the first's */
    if (json_is_object(json_object_get(out, "server"))) {
        const char *key;
        json_t *val;

        json_object_foreach(json_object_get(runs[0], "server"), key, val) {
            if (json_is_integer(val) && strcmp(key, "drain_ms") != 0) {
                json_int_t total = 0;

                for (size_t i = 0; i < n; i++)
                    total += json_integer_value(json_object_get(json_object_get(runs[i],
                                                                                "server"), key));
                json_object_set_new(json_object_get(out, "server"), key, json_integer(total));
            } else if (json_is_object(val)) {
                json_t *dst = json_object();

                for (size_t i = 0; i < n; i++)
                    sum_counts(dst, json_object_get(json_object_get(runs[i], "server"), key));
                json_object_set_new(json_object_get(out, "server"), key, dst);
            }
        }
    }
    for (size_t k = 0; k < sizeof(latencies) / sizeof(latencies[0]); k++)
        if (merge_hist(out, runs, n, "latency_us", latencies[k], err, errlen) < 0)
            goto fail;
    if (json_is_object(json_object_get(out, "latency_us"))) {
        /* one histogram per SYN retransmit count any run has */
        json_t *keys = json_object(), *by = json_object();
        const char *key;
        json_t *val;

        for (size_t i = 0; i < n; i++)
            json_object_foreach(json_object_get(json_object_get(runs[i], "latency_us"),
                                                "connect_by_syn_retransmits"), key, val)
                json_object_set_new(keys, key, json_null());
        if (json_object_get(json_object_get(runs[0], "latency_us"), "connect_by_syn_retransmits"))
            json_object_set_new(json_object_get(out, "latency_us"), "connect_by_syn_retransmits",
                                by);
        else {
            json_decref(by);
            by = NULL;
        }
        json_object_foreach(keys, key, val) {
            json_t **subs;

            if (!by)
                break;
            subs = calloc(n, sizeof(*subs));
            json_t *tmp = json_object();

            if (!subs) {
                json_decref(keys);
                json_decref(tmp);
                errbuf_set(err, errlen, "out of memory");
                goto fail;
            }
            for (size_t i = 0; i < n; i++) {
                subs[i] = json_object_get(json_object_get(runs[i], "latency_us"),
                                          "connect_by_syn_retransmits");
                if (!subs[i])
                    subs[i] = tmp;
            }
            if (merge_hist(by, subs, n, NULL, key, err, errlen) < 0) {
                free(subs);
                json_decref(tmp);
                json_decref(keys);
                goto fail;
            }
            free(subs);
            json_decref(tmp);
        }
        json_decref(keys);
    }
    if (merge_hist(out, runs, n, NULL, "schedule_lag_us", err, errlen) < 0)
        goto fail;
    max_of(out, runs, n, NULL, "elapsed_ms");
    max_of(out, runs, n, "accept_queue", "max");
    max_of(out, runs, n, "syn_queue", "max");
    max_of(out, runs, n, NULL, "qbench_peak_rss_kb");
    {
        json_int_t unstarted = 0;

        for (size_t i = 0; i < n; i++)
            unstarted += json_integer_value(json_object_get(runs[i], "unstarted"));
        json_object_set_new(out, "unstarted", json_integer(unstarted));
    }
    json_object_set_new(out, "timeline", sum_timelines(runs, n));
    for (size_t i = 0; i < n; i++)
        if (json_is_true(json_object_get(runs[i], "interrupted")))
            json_object_set_new(out, "interrupted", json_true());
    return out;

fail:
    json_decref(out);
    return NULL;
}

json_t *merge_spread(json_t *const *runs, size_t n)
{
    size_t nm;
    const struct metric *all = metric_table(&nm);
    json_t *out = json_object();
    double *v = malloc((n ? n : 1) * sizeof(*v));

    if (!v)
        return out;
    for (size_t k = 0; k < nm; k++) {
        size_t have = 0;
        json_t *values = json_array();

        for (size_t i = 0; i < n; i++) {
            double x;

            if (metric_value(runs[i], &all[k], &x) == 0) {
                v[have++] = x;
                json_array_append_new(values, json_real(x));
            }
        }
        if (!have) {
            json_decref(values);
            continue;
        }
        {
            double lo = v[0], hi = v[0];

            for (size_t i = 1; i < have; i++) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
            json_object_set_new(out, all[k].name,
                                json_pack("{s:f, s:f, s:f, s:o}", "median",
                                          stats_median(v, have), "min", lo, "max", hi,
                                          "values", values));
        }
    }
    free(v);
    return out;
}

/* The config without what may differ between inputs of one experiment. */
static json_t *comparable_config(const json_t *doc)
{
    json_t *c = json_deep_copy(json_object_get(doc, "config"));

    if (json_is_object(c)) {
        json_object_del(c, "output");
        json_object_del(c, "connections_file");
    }
    return c;
}

json_t *merge_documents(json_t *const *docs, const char *const *names, size_t n, char *err,
                        size_t errlen)
{
    const json_t *runs0 = json_object_get(docs[0], "runs");
    json_t *base = comparable_config(docs[0]), *out, *runs, *from, *by_host_total;
    const char *name0 = json_string_value(json_object_get(docs[0], "name"));

    for (size_t d = 1; d < n; d++) {
        json_t *c = comparable_config(docs[d]);
        const char *nm = json_string_value(json_object_get(docs[d], "name"));
        bool same = json_equal(base, c);

        json_decref(c);
        if (!nm || !name0 || strcmp(nm, name0) != 0 || !same) {
            json_decref(base);
            errbuf_set(err, errlen, "%s and %s are not the same experiment (%s): only shards "
                                    "or runs of one config merge", names[0], names[d],
                       !nm || !name0 || strcmp(nm, name0) != 0 ? "another name"
                                                               : "other settings");
            return NULL;
        }
        if (json_array_size(json_object_get(docs[d], "runs")) != json_array_size(runs0)) {
            json_decref(base);
            errbuf_set(err, errlen, "%s has %zu run points, %s has %zu", names[0],
                       json_array_size(runs0), names[d],
                       json_array_size(json_object_get(docs[d], "runs")));
            return NULL;
        }
    }
    json_decref(base);
    out = json_deep_copy(docs[0]);
    runs = json_array();
    for (size_t i = 0; i < json_array_size(runs0); i++) {
        const json_t *params = json_object_get(json_array_get(runs0, i), "params");
        json_t **group = calloc(n, sizeof(*group)), *merged, *by_host = json_object();

        if (!group) {
            json_decref(by_host);
            goto oom;
        }
        for (size_t d = 0; d < n; d++) {
            const json_t *drs = json_object_get(docs[d], "runs");
            const char *host = json_string_value(json_object_get(docs[d], "host"));
            json_t *hk;

            for (size_t j = 0; j < json_array_size(drs) && !group[d]; j++)
                if (json_equal(json_object_get(json_array_get(drs, j), "params"),
                               (json_t *)params))
                    group[d] = json_array_get(drs, j);
            if (!group[d]) {
                char *ps = json_dumps(params, JSON_COMPACT);

                errbuf_set(err, errlen, "%s has no run with params %.120s", names[d],
                           ps ? ps : "?");
                free(ps);
                free(group);
                json_decref(by_host);
                json_decref(runs);
                json_decref(out);
                return NULL;
            }
            /* each host's counters are its own kernel's */
            hk = json_object_get(by_host, host ? host : "?");
            if (!hk) {
                hk = json_object();
                json_object_set_new(by_host, host ? host : "?", hk);
            }
            sum_counts(hk, json_object_get(group[d], "kernel"));
        }
        merged = merge_runs(group, n, err, errlen);
        free(group);
        if (!merged) {
            json_decref(by_host);
            json_decref(runs);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(merged, "kernel_by_host", by_host);
        json_array_append_new(runs, merged);
    }
    json_object_set_new(out, "runs", runs);
    from = json_array();
    by_host_total = json_object();
    for (size_t d = 0; d < n; d++) {
        const char *s = json_string_value(json_object_get(docs[d], "started_at"));
        const char *f = json_string_value(json_object_get(docs[d], "finished_at"));

        json_array_append_new(from, json_pack("{s:s, s:O?, s:O?}", "file", names[d], "host",
                                              json_object_get(docs[d], "host"), "shard",
                                              json_object_get(docs[d], "shard")));
        json_object_set_new(by_host_total, json_string_value(json_object_get(docs[d], "host"))
                                               ? json_string_value(json_object_get(docs[d],
                                                                                   "host"))
                                               : "?",
                            json_true());
        /* ISO 8601 UTC strings order as times */
        if (s && strcmp(s, json_string_value(json_object_get(out, "started_at"))) < 0)
            json_object_set_new(out, "started_at", json_string(s));
        if (f && strcmp(f, json_string_value(json_object_get(out, "finished_at"))) > 0)
            json_object_set_new(out, "finished_at", json_string(f));
        if (json_is_true(json_object_get(docs[d], "interrupted")))
            json_object_set_new(out, "interrupted", json_true());
    }
    if (json_object_size(by_host_total) > 1)
        json_object_set_new(out, "host", json_string("(several: see merged_from)"));
    json_decref(by_host_total);
    json_object_set_new(out, "merged_from", from);
    json_object_del(out, "shard");
    return out;

oom:
    json_decref(runs);
    json_decref(out);
    errbuf_set(err, errlen, "out of memory");
    return NULL;
}
