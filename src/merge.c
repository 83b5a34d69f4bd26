#include "merge.h"

#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "histjson.h"
#include "metric.h"

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
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
        qsort(v, have, sizeof(*v), cmp_double);
        json_object_set_new(out, all[k].name,
                            json_pack("{s:f, s:f, s:f, s:o}", "median",
                                      have % 2 ? v[have / 2]
                                               : (v[have / 2 - 1] + v[have / 2]) / 2.0,
                                      "min", v[0], "max", v[have - 1], "values", values));
    }
    free(v);
    return out;
}
