#include "merge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "histjson.h"
#include "metric.h"
#include "resultcheck.h"
#include "rundoc.h"
#include "stats.h"

/* a + b, unless the sum leaves what a results file may hold (counts up
 * to RESULTS_COUNT_MAX, kernel deltas down to its negative): merging
 * 2^63-1 twice gave -2 before this. */
static int checked_add(json_int_t a, json_int_t b, json_int_t *sum)
{
    return __builtin_add_overflow(a, b, sum) || *sum > RESULTS_COUNT_MAX ||
                   *sum < -RESULTS_COUNT_MAX
               ? -1
               : 0;
}

/* dst[key] += src[key] for every integer member (objects of counts); -1
 * when a sum would overflow. */
static int sum_counts(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)src, key, val) {
        json_t *d = json_object_get(dst, key);

        if (json_is_integer(val)) {
            json_int_t sum;

            if (checked_add(json_integer_value(d), json_integer_value(val), &sum) < 0)
                return -1;
            json_object_set_new(dst, key, json_integer(sum));
        } else if (json_is_object(val)) {
            if (!json_is_object(d)) {
                d = json_object();
                json_object_set_new(dst, key, d);
            }
            if (sum_counts(d, val) < 0)
                return -1;
        }
    }
    return 0;
}

/* The histogram merged from every input that has one (ins[i] may be NULL). */
static json_t *merge_histogram(json_t *const *ins, size_t n, const char *path, char *err,
                               size_t errlen)
{
    struct histogram *sum = malloc(sizeof(*sum)), *one = malloc(sizeof(*one));
    json_t *out = NULL;
    int rc = 0;

    if (!sum || !one) {
        free(sum);
        free(one);
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    histogram_init(sum);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!ins[i])
            continue;
        if (histogram_from_json(ins[i], one) < 0)
            rc = errbuf_set(err, errlen,
                            "%s: no histogram buckets (a file from before "
                            "qbench-result/2 cannot be merged exactly)",
                            path);
        else
            histogram_merge(sum, one);
    }
    if (rc == 0)
        out = histogram_to_json(sum);
    free(sum);
    free(one);
    return out;
}

/* Rows [t_ms, a, b, c...] summed by row index (each run on its own clock);
 * NULL when a sum would overflow. */
static json_t *sum_timelines(json_t *const *ins, size_t n)
{
    json_t *out = json_array();

    for (size_t i = 0; i < n; i++) {
        const json_t *tl = ins[i];

        for (size_t r = 0; r < json_array_size(tl); r++) {
            const json_t *row = json_array_get(tl, r);
            json_t *dst = json_array_get(out, r);

            if (!dst) {
                json_array_append_new(out, json_deep_copy(row));
                continue;
            }
            for (size_t k = 1; k < json_array_size(row) && k < json_array_size(dst); k++) {
                json_int_t sum;

                if (checked_add(json_integer_value(json_array_get(dst, k)),
                                json_integer_value(json_array_get(row, k)), &sum) < 0) {
                    json_decref(out);
                    return NULL;
                }
                json_array_set_new(dst, k, json_integer(sum));
            }
        }
    }
    return out;
}

/* Every key any of the n objects has, in first-seen order. */
static json_t *union_keys(json_t *const *objs, size_t n)
{
    json_t *keys = json_object();

    for (size_t i = 0; i < n; i++) {
        const char *key;
        json_t *val;

        json_object_foreach(objs[i], key, val)
            json_object_set_new(keys, key, json_null());
    }
    return keys;
}

static json_t *merge_object(json_t *const *ins, size_t n, const struct rundoc_field *rows,
                            const char *path, char *err, size_t errlen);

/* One member (row f) of n inputs (ins[i] NULL where absent); NULL and err
 * when it cannot be merged. */
static json_t *merge_member(const struct rundoc_field *f, json_t *const *ins, size_t n,
                            const char *path, char *err, size_t errlen)
{
    json_t *out = NULL;

    switch (f->merge) {
    case RD_MERGE_FIRST:
        for (size_t i = 0; i < n && !out; i++)
            if (ins[i])
                out = json_deep_copy(ins[i]);
        return out;
    case RD_MERGE_SUM: {
        json_int_t total = 0;
        bool scalar = false;

        for (size_t i = 0; i < n; i++)
            if (json_is_integer(ins[i])) {
                if (checked_add(total, json_integer_value(ins[i]), &total) < 0)
                    goto overflow;
                scalar = true;
            }
        if (scalar)
            return json_integer(total);
        out = json_object();
        for (size_t i = 0; i < n; i++)
            if (json_is_object(ins[i]) && sum_counts(out, ins[i]) < 0) {
                json_decref(out);
                goto overflow;
            }
        return out;
    }
    case RD_MERGE_MAX: {
        const json_t *best = NULL;

        for (size_t i = 0; i < n; i++)
            if (json_is_number(ins[i]) &&
                (!best || json_number_value(ins[i]) > json_number_value(best)))
                best = ins[i];
        return best ? json_deep_copy(best) : json_null();
    }
    case RD_MERGE_ANY_TRUE: {
        bool any = false;

        for (size_t i = 0; i < n; i++)
            any = any || json_is_true(ins[i]);
        return json_boolean(any);
    }
    case RD_MERGE_ALL_TRUE: {
        bool all = true;

        for (size_t i = 0; i < n; i++)
            all = all && json_is_true(ins[i]);
        return json_boolean(all);
    }
    case RD_MERGE_HISTOGRAM:
        return merge_histogram(ins, n, path, err, errlen);
    case RD_MERGE_HISTOGRAMS: {
        static const struct rundoc_field one = {"", RD_MERGE_HISTOGRAM, NULL};

        return merge_object(ins, n, &one, path, err, errlen);
    }
    case RD_MERGE_TIMELINE:
        out = sum_timelines(ins, n);
        if (!out)
            goto overflow;
        return out;
    case RD_MERGE_SECTION:
        return merge_object(ins, n, f->members, path, err, errlen);
    case RD_MERGE_DROP:
        break;
    }
    return NULL;

overflow:
    errbuf_set(err, errlen, "%s: the merged count would overflow (more than %lld): refused", path,
               (long long)RESULTS_COUNT_MAX);
    return NULL;
}

/* The merge of n objects (NULL where absent) member by member, each by its
 * row; rows with an empty name is the one row of every member. A member
 * without a row is an error: nothing is taken from one input unasked. */
static json_t *merge_object(json_t *const *ins, size_t n, const struct rundoc_field *rows,
                            const char *path, char *err, size_t errlen)
{
    json_t *keys = union_keys(ins, n), *out = json_object(), **sub = calloc(n, sizeof(*sub));
    const char *key;
    json_t *val;

    if (!sub) {
        errbuf_set(err, errlen, "out of memory");
        goto fail;
    }
    json_object_foreach(keys, key, val) {
        const struct rundoc_field *f =
            rows->name && rows->name[0] == '\0' ? rows : rundoc_field_find(rows, key);
        char where[160];
        json_t *m;

        snprintf(where, sizeof(where), "%s%s%s", path, path[0] ? "." : "", key);
        if (!f) {
            errbuf_set(err, errlen,
                       "%s: no merge rule for this field (add a row to "
                       "rundoc.c's table)",
                       where);
            goto fail;
        }
        if (f->merge == RD_MERGE_DROP)
            continue;
        for (size_t i = 0; i < n; i++)
            sub[i] = json_object_get(ins[i], key);
        m = merge_member(f, sub, n, where, err, errlen);
        if (!m)
            goto fail;
        json_object_set_new(out, key, m);
    }
    free(sub);
    json_decref(keys);
    return out;

fail:
    free(sub);
    json_decref(keys);
    json_decref(out);
    return NULL;
}

json_t *merge_runs(json_t *const *runs, size_t n, char *err, size_t errlen)
{
    if (n == 0) {
        errbuf_set(err, errlen, "nothing to merge");
        return NULL;
    }
    return merge_object(runs, n, rundoc_run_fields(), "", err, errlen);
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
                                json_pack("{s:f, s:f, s:f, s:o}", "median", stats_median(v, have),
                                          "min", lo, "max", hi, "values", values));
        }
    }
    free(v);
    return out;
}

/* The config without what may differ between inputs of one experiment. */
static json_t *comparable_config(const json_t *doc)
{
    json_t *c = json_deep_copy(json_object_get(doc, RD_CONFIG));

    if (json_is_object(c)) {
        json_object_del(c, "output");
        json_object_del(c, "connections_file");
    }
    return c;
}

json_t *merge_documents(json_t *const *docs, const char *const *names, size_t n, char *err,
                        size_t errlen)
{
    const json_t *runs0 = json_object_get(docs[0], RD_RUNS);
    json_t *base = comparable_config(docs[0]), *out, *runs, *from, *by_host_total;
    const char *name0 = json_string_value(json_object_get(docs[0], RD_NAME));

    for (size_t d = 1; d < n; d++) {
        json_t *c = comparable_config(docs[d]);
        const char *nm = json_string_value(json_object_get(docs[d], RD_NAME));
        bool same = json_equal(base, c);

        json_decref(c);
        if (!nm || !name0 || strcmp(nm, name0) != 0 || !same) {
            json_decref(base);
            errbuf_set(err, errlen,
                       "%s and %s are not the same experiment (%s): only shards "
                       "or runs of one config merge",
                       names[0], names[d],
                       !nm || !name0 || strcmp(nm, name0) != 0 ? "another name" : "other settings");
            return NULL;
        }
        if (json_array_size(json_object_get(docs[d], RD_RUNS)) != json_array_size(runs0)) {
            json_decref(base);
            errbuf_set(err, errlen, "%s has %zu run points, %s has %zu", names[0],
                       json_array_size(runs0), names[d],
                       json_array_size(json_object_get(docs[d], RD_RUNS)));
            return NULL;
        }
    }
    json_decref(base);
    out = json_deep_copy(docs[0]);
    runs = json_array();
    for (size_t i = 0; i < json_array_size(runs0); i++) {
        const json_t *params = json_object_get(json_array_get(runs0, i), RD_PARAMS);
        json_t **group = calloc(n, sizeof(*group)), *merged, *by_host = json_object();

        if (!group) {
            json_decref(by_host);
            goto oom;
        }
        for (size_t d = 0; d < n; d++) {
            const json_t *drs = json_object_get(docs[d], RD_RUNS);
            const char *host = json_string_value(json_object_get(docs[d], RD_HOST));
            json_t *hk;

            for (size_t j = 0; j < json_array_size(drs) && !group[d]; j++)
                if (json_equal(json_object_get(json_array_get(drs, j), RD_PARAMS),
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
            if (sum_counts(hk, json_object_get(group[d], RD_KERNEL)) < 0) {
                errbuf_set(err, errlen,
                           "runs[%zu].kernel_by_host: a merged counter would "
                           "overflow: refused",
                           i);
                free(group);
                json_decref(by_host);
                json_decref(runs);
                json_decref(out);
                return NULL;
            }
        }
        merged = merge_runs(group, n, err, errlen);
        free(group);
        if (!merged) {
            json_decref(by_host);
            json_decref(runs);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(merged, RD_KERNEL_BY_HOST, by_host);
        json_array_append_new(runs, merged);
    }
    json_object_set_new(out, RD_RUNS, runs);
    from = json_array();
    by_host_total = json_object();
    for (size_t d = 0; d < n; d++) {
        const char *s = json_string_value(json_object_get(docs[d], RD_STARTED_AT));
        const char *f = json_string_value(json_object_get(docs[d], RD_FINISHED_AT));

        json_array_append_new(from, json_pack("{s:s, s:O?, s:O?}", "file", names[d], "host",
                                              json_object_get(docs[d], RD_HOST), "shard",
                                              json_object_get(docs[d], RD_SHARD)));
        json_object_set_new(by_host_total,
                            json_string_value(json_object_get(docs[d], RD_HOST))
                                ? json_string_value(json_object_get(docs[d], "host"))
                                : "?",
                            json_true());
        /* ISO 8601 UTC strings order as times */
        /* the loader requires both (resultcheck_mergeable); a caller that
         * did not check still gets no crash from an absent one */
        const char *s0 = json_string_value(json_object_get(out, RD_STARTED_AT));
        const char *f0 = json_string_value(json_object_get(out, RD_FINISHED_AT));

        if (s && (!s0 || strcmp(s, s0) < 0))
            json_object_set_new(out, RD_STARTED_AT, json_string(s));
        if (f && (!f0 || strcmp(f, f0) > 0))
            json_object_set_new(out, RD_FINISHED_AT, json_string(f));
        if (json_is_true(json_object_get(docs[d], RD_INTERRUPTED)))
            json_object_set_new(out, RD_INTERRUPTED, json_true());
        /* one unfinished input makes an unfinished whole, and says which */
        if (json_is_false(json_object_get(docs[d], RD_COMPLETE)) &&
            !json_is_false(json_object_get(out, RD_COMPLETE))) {
            json_t *inc = json_deep_copy(json_object_get(docs[d], RD_INCOMPLETE));

            json_object_set_new(out, RD_COMPLETE, json_false());
            if (!json_is_object(inc)) {
                json_decref(inc);
                inc = json_object();
            }
            json_object_set_new(inc, "file", json_string(names[d]));
            json_object_set_new(out, RD_INCOMPLETE, inc);
        }
    }
    if (json_object_size(by_host_total) > 1)
        json_object_set_new(out, RD_HOST, json_string("(several: see merged_from)"));
    json_decref(by_host_total);
    json_object_set_new(out, RD_MERGED_FROM, from);
    json_object_del(out, RD_SHARD);
    return out;

oom:
    json_decref(runs);
    json_decref(out);
    errbuf_set(err, errlen, "out of memory");
    return NULL;
}
