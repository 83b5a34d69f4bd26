#include "resultcheck.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"
#include "hint.h"
#include "histogram.h"
#include "outcome.h"
#include "rundoc.h"

#define PATH_LEN 256

/* A field's path, cut (never overrun) when it would not fit. */
__attribute__((format(printf, 2, 3))) static void path_of(char *out, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
    if (n < 0)
        out[0] = '\0';
}

static int bad(char *err, size_t errlen, const char *path, const char *key, const char *what,
               const json_t *v)
{
    if (v && json_is_integer(v))
        return errbuf_set(err, errlen, "%s%s%s: %s, got %lld", path, *path && *key ? "." : "", key,
                          what, (long long)json_integer_value(v));
    return errbuf_set(err, errlen, "%s%s%s: %s, got %s", path, *path && *key ? "." : "", key, what,
                      v ? hint_json_type(v) : "nothing");
}

static bool is_count(const json_t *v)
{
    return json_is_integer(v) && json_integer_value(v) >= 0 &&
           json_integer_value(v) <= RESULTS_COUNT_MAX;
}

#define COUNT_MSG "must be an integer in 0..1000000000000000"

/* obj[key] is a count (required or, when absent, fine). */
static int count_at(const json_t *obj, const char *path, const char *key, bool required, char *err,
                    size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    if (!v && !required)
        return 0;
    if (!is_count(v))
        return bad(err, errlen, path, key, COUNT_MSG, v);
    return 0;
}

static int object_at(const json_t *obj, const char *path, const char *key, bool required,
                     const json_t **out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    *out = v;
    if (!v && !required)
        return 0;
    if (!json_is_object(v))
        return bad(err, errlen, path, key, "must be an object", v);
    return 0;
}

/* Every member of an object of counts (errors by name, retransmit
 * histograms, the server's tallies) is a count, or an object of counts. */
static int counts_object(const json_t *obj, const char *path, int depth, char *err, size_t errlen)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v) {
        if (json_is_object(v) && depth > 0) {
            char sub[PATH_LEN];

            path_of(sub, "%s.%.60s", path, key);
            if (counts_object(v, sub, depth - 1, err, errlen) < 0)
                return -1;
        } else if (!is_count(v)) {
            char k[PATH_LEN];

            snprintf(k, sizeof(k), "%.60s", key);
            return bad(err, errlen, path, k, COUNT_MSG, v);
        }
    }
    return 0;
}

/* Kernel counter deltas: integers, a gauge's may be negative. */
static int kernel_object(const json_t *obj, const char *path, char *err, size_t errlen)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)obj, key, v) {
        if (!json_is_integer(v) || json_integer_value(v) > RESULTS_COUNT_MAX ||
            json_integer_value(v) < -RESULTS_COUNT_MAX) {
            char k[PATH_LEN];

            snprintf(k, sizeof(k), "%.60s", key);
            return bad(err, errlen, path, k,
                       "must be an integer in -1000000000000000..1000000000000000", v);
        }
    }
    return 0;
}

/* A histogram: count, min, max, sum counts; buckets [[index, n], ...]
 * with index in the layout and n adding up to count. */
static int histogram_check(const json_t *h, const char *path, char *err, size_t errlen)
{
    static const char *const ints[] = {"count", "min", "max"};
    const json_t *buckets = json_object_get(h, "buckets");
    uint64_t total = 0;

    if (!json_is_object(h))
        return bad(err, errlen, path, "", "must be a histogram object", h);
    /* an older file has percentiles only; with buckets everything is due */
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (count_at(h, path, ints[i], buckets != NULL, err, errlen) < 0)
            return -1;
    {
        const char *key;
        json_t *v;

        json_object_foreach((json_t *)h, key, v)
            if ((key[0] == 'p' || strcmp(key, "mean") == 0) &&
                (!json_is_number(v) || json_number_value(v) < 0)) {
                char k[PATH_LEN];

                path_of(k, "%.60s", key);
                return bad(err, errlen, path, k, "must be a non-negative number", v);
            }
    }
    if ((buckets || json_object_get(h, "sum")) &&
        (!json_is_integer(json_object_get(h, "sum")) ||
         json_integer_value(json_object_get(h, "sum")) < 0))
        return bad(err, errlen, path, "sum", "must be a non-negative integer",
                   json_object_get(h, "sum"));
    if (json_integer_value(json_object_get(h, "min")) >
            json_integer_value(json_object_get(h, "max")) &&
        json_integer_value(json_object_get(h, "count")) > 0)
        return errbuf_set(err, errlen, "%s: min %lld is above max %lld", path,
                          (long long)json_integer_value(json_object_get(h, "min")),
                          (long long)json_integer_value(json_object_get(h, "max")));
    if (!buckets)
        return 0; /* a file from before the buckets: read, never merged */
    if (!json_is_array(buckets))
        return bad(err, errlen, path, "buckets", "must be an array", buckets);
    for (size_t i = 0; i < json_array_size(buckets); i++) {
        const json_t *b = json_array_get(buckets, i);
        const json_t *idx = json_array_get(b, 0), *n = json_array_get(b, 1);

        if (!json_is_array(b) || json_array_size(b) != 2 || !json_is_integer(idx) ||
            json_integer_value(idx) < 0 || json_integer_value(idx) >= HISTOGRAM_BUCKETS ||
            !is_count(n))
            return errbuf_set(err, errlen,
                              "%s.buckets[%zu]: must be [index 0..%d, count "
                              "0..%lld]",
                              path, i, HISTOGRAM_BUCKETS - 1, RESULTS_COUNT_MAX);
        /* bounded counts, bounded buckets: the sum cannot wrap, but say so */
        if (total > UINT64_MAX - (uint64_t)json_integer_value(n))
            return errbuf_set(err, errlen, "%s.buckets: the counts overflow", path);
        total += (uint64_t)json_integer_value(n);
    }
    if (total != (uint64_t)json_integer_value(json_object_get(h, "count")))
        return errbuf_set(err, errlen, "%s: buckets add up to %llu, count says %lld", path,
                          (unsigned long long)total,
                          (long long)json_integer_value(json_object_get(h, "count")));
    return 0;
}

static int outcomes_check(const json_t *o, const char *path, char *err, size_t errlen)
{
    char p[PATH_LEN];
    const json_t *errors;
    uint64_t sum = 0;

    path_of(p, "%s.outcomes", path);
    if (count_at(o, p, "attempted", true, err, errlen) < 0)
        return -1;
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        const char *name = outcome_name((enum outcome)k);

        if (count_at(o, p, name, false, err, errlen) < 0)
            return -1;
        sum += (uint64_t)json_integer_value(json_object_get(o, name));
    }
    if (sum != (uint64_t)json_integer_value(json_object_get(o, "attempted")))
        return errbuf_set(err, errlen, "%s: the classes add up to %llu, attempted says %lld", p,
                          (unsigned long long)sum,
                          (long long)json_integer_value(json_object_get(o, "attempted")));
    if (object_at(o, p, "errors", false, &errors, err, errlen) < 0)
        return -1;
    if (errors) {
        char pe[PATH_LEN];
        const char *key;
        json_t *v;
        uint64_t n = 0;

        path_of(pe, "%s.errors", p);
        if (counts_object(errors, pe, 0, err, errlen) < 0)
            return -1;
        json_object_foreach((json_t *)errors, key, v)
            n += (uint64_t)json_integer_value(v);
        if (n > (uint64_t)json_integer_value(json_object_get(o, "attempted")))
            return errbuf_set(err, errlen,
                              "%s: %llu errors by name, more than the %lld "
                              "attempted",
                              pe, (unsigned long long)n,
                              (long long)json_integer_value(json_object_get(o, "attempted")));
    }
    return 0;
}

/* [[t, n, ...], ...]: rows of counts. */
static int rows_check(const json_t *rows, const char *path, char *err, size_t errlen)
{
    if (!json_is_array(rows))
        return bad(err, errlen, path, "", "must be an array of rows", rows);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *row = json_array_get(rows, i);

        if (!json_is_array(row) || json_array_size(row) < 2)
            return errbuf_set(err, errlen, "%s[%zu]: must be a row [t_ms, n, ...]", path, i);
        for (size_t k = 0; k < json_array_size(row); k++)
            if (!is_count(json_array_get(row, k)))
                return errbuf_set(err, errlen, "%s[%zu][%zu]: " COUNT_MSG, path, i, k);
    }
    return 0;
}

static int queue_check(const json_t *run, const char *path, const char *key, char *err,
                       size_t errlen)
{
    const json_t *q;
    char p[PATH_LEN];

    if (object_at(run, path, key, false, &q, err, errlen) < 0)
        return -1;
    if (!q)
        return 0;
    path_of(p, "%s.%s", path, key);
    if (count_at(q, p, "max", false, err, errlen) < 0 ||
        count_at(q, p, "limit", false, err, errlen) < 0)
        return -1;
    if (json_object_get(q, "samples")) {
        char ps[PATH_LEN];

        path_of(ps, "%s.samples", p);
        return rows_check(json_object_get(q, "samples"), ps, err, errlen);
    }
    return 0;
}

int resultcheck_run(const json_t *run, const char *path, char *err, size_t errlen)
{
    static const char *const counted[] = {"syn_retransmits", "syn_retransmits_failed",
                                          "synack_retransmits"};
    static const char *const scalars[] = {"elapsed_ms", "unstarted", "client_threads",
                                          "qbench_peak_rss_kb"};
    const json_t *o, *lat, *v;
    char p[PATH_LEN];

    if (!json_is_object(run))
        return bad(err, errlen, path, "", "must be an object", run);
    if (object_at(run, path, RD_PARAMS, true, &o, err, errlen) < 0 ||
        object_at(run, path, RD_OUTCOMES, true, &o, err, errlen) < 0 ||
        outcomes_check(o, path, err, errlen) < 0)
        return -1;
    for (size_t k = 0; k < sizeof(scalars) / sizeof(scalars[0]); k++)
        if (count_at(run, path, scalars[k], false, err, errlen) < 0)
            return -1;
    for (size_t k = 0; k < sizeof(counted) / sizeof(counted[0]); k++) {
        if (object_at(run, path, counted[k], false, &o, err, errlen) < 0)
            return -1;
        path_of(p, "%s.%s", path, counted[k]);
        if (o && counts_object(o, p, 0, err, errlen) < 0)
            return -1;
    }
    if (object_at(run, path, "server", false, &o, err, errlen) < 0)
        return -1;
    path_of(p, "%s.server", path);
    if (o) {
        const char *key;
        json_t *sv;

        json_object_foreach((json_t *)o, key, sv) {
            char ps[PATH_LEN];

            path_of(ps, "%s.%.60s", p, key);
            /* counts and objects of counts; the rest (its log, exit) is text */
            if (json_is_number(sv) && !is_count(sv))
                return bad(err, errlen, p, key, COUNT_MSG, sv);
            if (json_is_object(sv) && counts_object(sv, ps, 0, err, errlen) < 0)
                return -1;
        }
    }
    if (object_at(run, path, RD_KERNEL, false, &o, err, errlen) < 0)
        return -1;
    path_of(p, "%s.kernel", path);
    if (o && kernel_object(o, p, err, errlen) < 0)
        return -1;
    if (object_at(run, path, "kernel_drain", false, &o, err, errlen) < 0)
        return -1;
    path_of(p, "%s.kernel_drain", path);
    if (o && kernel_object(o, p, err, errlen) < 0)
        return -1;
    if (object_at(run, path, RD_LATENCY, false, &lat, err, errlen) < 0)
        return -1;
    if (lat) {
        const char *key;
        json_t *h;

        json_object_foreach((json_t *)lat, key, h) {
            path_of(p, "%s.latency_us.%.60s", path, key);
            if (strcmp(key, "connect_by_syn_retransmits") == 0) {
                const char *k2;
                json_t *h2;

                if (!json_is_object(h))
                    return bad(err, errlen, p, "", "must be an object", h);
                json_object_foreach(h, k2, h2) {
                    char p2[PATH_LEN];

                    path_of(p2, "%s.%.20s", p, k2);
                    if (histogram_check(h2, p2, err, errlen) < 0)
                        return -1;
                }
            } else if (histogram_check(h, p, err, errlen) < 0) {
                return -1;
            }
        }
    }
    v = json_object_get(run, "schedule_lag_us");
    path_of(p, "%s.schedule_lag_us", path);
    if (v && histogram_check(v, p, err, errlen) < 0)
        return -1;
    v = json_object_get(run, RD_TIMELINE);
    path_of(p, "%s.timeline", path);
    if (v && rows_check(v, p, err, errlen) < 0)
        return -1;
    if (queue_check(run, path, "accept_queue", err, errlen) < 0 ||
        queue_check(run, path, "syn_queue", err, errlen) < 0)
        return -1;
    v = json_object_get(run, "interrupted");
    if (v && !json_is_boolean(v))
        return bad(err, errlen, path, "interrupted", "must be true or false", v);
    v = json_object_get(run, RD_REPEATS);
    if (v) {
        if (!json_is_array(v))
            return bad(err, errlen, path, "repeats", "must be an array", v);
        for (size_t r = 0; r < json_array_size(v); r++) {
            path_of(p, "%s.repeats[%zu]", path, r);
            if (resultcheck_run(json_array_get(v, r), p, err, errlen) < 0)
                return -1;
        }
    }
    return 0;
}

static const char *const identity[] = {"name", "started_at", "finished_at", "host"};

/* The document's identity: strings where present (required when asked). */
static int identity_check(const json_t *doc, bool required, char *err, size_t errlen)
{
    const json_t *v;

    for (size_t i = 0; i < sizeof(identity) / sizeof(identity[0]); i++) {
        v = json_object_get(doc, identity[i]);
        if ((v || required) && (!json_is_string(v) || json_string_length(v) == 0))
            return bad(err, errlen, "", identity[i], "must be a non-empty string", v);
    }
    v = json_object_get(doc, "config");
    if ((v || required) && !json_is_object(v))
        return bad(err, errlen, "", "config", "must be an object", v);
    return 0;
}

int resultcheck_mergeable(const json_t *doc, char *err, size_t errlen)
{
    return identity_check(doc, true, err, errlen);
}

int resultcheck_document(const json_t *doc, char *err, size_t errlen)
{
    const json_t *runs = rundoc_runs(doc), *v;

    if (identity_check(doc, false, err, errlen) < 0)
        return -1;
    v = json_object_get(doc, "interrupted");
    if (v && !json_is_boolean(v))
        return bad(err, errlen, "", "interrupted", "must be true or false", v);
    if (!json_is_array(runs))
        return bad(err, errlen, "", "runs", "must be an array", runs);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        char p[PATH_LEN];

        path_of(p, "runs[%zu]", i);
        if (resultcheck_run(json_array_get(runs, i), p, err, errlen) < 0)
            return -1;
    }
    return 0;
}
