#include "obsdoc.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "results.h"
#include "rundoc.h"

bool obsdoc_is_observer(const json_t *doc)
{
    const json_t *schema = json_object_get(doc, "schema");

    return json_is_string(schema) && strcmp(json_string_value(schema), OBSDOC_SCHEMA) == 0;
}

static int check_queue(const json_t *q, const char *source, const char *key, char *err,
                       size_t errlen)
{
    const json_t *samples = json_object_get(q, "samples");

    if (!json_is_object(q) || !json_is_integer(json_object_get(q, "max")) ||
        !json_is_array(samples))
        return errbuf_set(err, errlen, "%s: %s: needs max and samples", source, key);
    for (size_t i = 0; i < json_array_size(samples); i++) {
        const json_t *s = json_array_get(samples, i);

        if (json_array_size(s) != 2 || !json_is_integer(json_array_get(s, 0)) ||
            !json_is_integer(json_array_get(s, 1)) ||
            json_integer_value(json_array_get(s, 0)) < 0 ||
            json_integer_value(json_array_get(s, 1)) < 0)
            return errbuf_set(err, errlen,
                              "%s: %s.samples[%zu]: expected [t_ms, length] "
                              "(non-negative integers)",
                              source, key, i);
    }
    return 0;
}

/* accepts: the sockets of the server's side, one row each (observe.c). */
static int check_accepts(const json_t *a, const char *source, char *err, size_t errlen)
{
    const json_t *rows = json_object_get(a, "sockets");

    if (!json_is_object(a) || !json_is_array(rows) ||
        !json_is_boolean(json_object_get(a, "complete")))
        return errbuf_set(err, errlen, "%s: accepts: needs complete and sockets", source);
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const json_t *r = json_array_get(rows, i);
        unsigned char addr[16];
        const char *peer = json_string_value(json_array_get(r, 0));
        /* born_request (13th) is newer: optional */
        bool ok = (json_array_size(r) == 12 ||
                   (json_array_size(r) == 13 && json_is_boolean(json_array_get(r, 12)))) &&
                  peer &&
                  (inet_pton(AF_INET, peer, addr) == 1 || inet_pton(AF_INET6, peer, addr) == 1);

        for (size_t k = 1; ok && k < 7; k++)
            ok = json_is_integer(json_array_get(r, k)) &&
                 json_integer_value(json_array_get(r, k)) >= 0 &&
                 json_integer_value(json_array_get(r, k)) <= 65535;
        for (size_t k = 7; ok && k < 12; k++)
            ok = json_is_null(json_array_get(r, k)) || json_is_integer(json_array_get(r, k));
        if (!ok)
            return errbuf_set(err, errlen,
                              "%s: accepts.sockets[%zu]: expected [peer, port, kind, "
                              "end, last_state, closed_by_owner, synack_retrans, "
                              "five times in us or null, and born_request]",
                              source, i);
    }
    return 0;
}

int obsdoc_check(const json_t *doc, const char *source, char *err, size_t errlen)
{
    const json_t *origin = json_object_get(doc, "origin_epoch_s"), *kernel;
    const json_t *port = json_object_get(doc, "port");
    const char *key;
    json_t *val;

    if (!json_is_object(doc) || !obsdoc_is_observer(doc))
        return errbuf_set(err, errlen,
                          "%s: not a qbench observer document (expected "
                          "\"schema\": \"%s\")",
                          source, OBSDOC_SCHEMA);
    if (!json_is_number(origin) || !isfinite(json_number_value(origin)) ||
        json_number_value(origin) <= 0)
        return errbuf_set(err, errlen, "%s: origin_epoch_s: expected seconds since the epoch",
                          source);
    if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)
        return errbuf_set(err, errlen, "%s: port: expected 1..65535", source);
    if (!json_is_integer(json_object_get(doc, "duration_ms")) ||
        json_integer_value(json_object_get(doc, "duration_ms")) < 0)
        return errbuf_set(err, errlen, "%s: duration_ms: expected a non-negative integer", source);
    if (!json_is_string(json_object_get(doc, "host")))
        return errbuf_set(err, errlen, "%s: host: expected a string", source);
    if (check_queue(json_object_get(doc, "accept_queue"), source, "accept_queue", err, errlen) <
            0 ||
        check_queue(json_object_get(doc, "syn_queue"), source, "syn_queue", err, errlen) < 0)
        return -1;
    if (check_accepts(json_object_get(doc, "accepts"), source, err, errlen) < 0)
        return -1;
    kernel = json_object_get(doc, "kernel");
    if (!json_is_object(kernel))
        return errbuf_set(err, errlen, "%s: kernel: expected an object of counters", source);
    json_object_foreach((json_t *)kernel, key, val)
        if (!json_is_integer(val))
            return errbuf_set(err, errlen, "%s: kernel.%s: expected an integer", source, key);
    return 0;
}

json_t *obsdoc_load(const char *path, char *err, size_t errlen)
{
    return results_load_json(path, obsdoc_check, err, errlen);
}

/* A queue object with its samples moved by offset_ms (samples that would
 * fall before the run's origin are dropped: the run's timeline starts
 * there). */
static json_t *shifted_queue(const json_t *q, long long offset_ms)
{
    json_t *out = json_deep_copy(q), *samples = json_array(), *max = NULL;
    long long best = -1;

    for (size_t i = 0; i < json_array_size(json_object_get(q, "samples")); i++) {
        const json_t *s = json_array_get(json_object_get(q, "samples"), i);
        long long t = json_integer_value(json_array_get(s, 0)) + offset_ms;
        long long len = json_integer_value(json_array_get(s, 1));

        if (t < 0)
            continue;
        if (len > best)
            best = len;
        json_array_append_new(samples, json_pack("[I, I]", (json_int_t)t, (json_int_t)len));
    }
    json_object_set_new(out, "samples", samples);
    /* the maximum over the samples kept (the document's max when none was dropped) */
    max = json_object_get(q, "max");
    if (best >= 0 && best < json_integer_value(max))
        json_object_set_new(out, "max", json_integer(best));
    return out;
}

/* n queues (each already on the run's timeline) as one: per interval the
 * sum over servers of each server's largest sample in it. */
static json_t *summed_queue(json_t *const *qs, size_t n, long long interval_ms)
{
    long long last = 0;
    json_t *out = json_object(), *samples = json_array();
    long long *sum, best = 0, limit = 0, listeners = 0;
    size_t rows;

    for (size_t k = 0; k < n; k++) {
        const json_t *s = json_object_get(qs[k], "samples");
        size_t m = json_array_size(s);

        if (m && json_integer_value(json_array_get(json_array_get(s, m - 1), 0)) > last)
            last = json_integer_value(json_array_get(json_array_get(s, m - 1), 0));
        limit += json_integer_value(json_object_get(qs[k], "limit"));
        listeners += json_integer_value(json_object_get(qs[k], "listeners"));
    }
    rows = (size_t)(last / interval_ms) + 1;
    sum = calloc(rows, sizeof(*sum));
    if (!sum) {
        json_decref(samples);
        json_decref(out);
        return NULL;
    }
    for (size_t k = 0; k < n; k++) {
        long long *mine = calloc(rows, sizeof(*mine));
        const json_t *s = json_object_get(qs[k], "samples");

        if (!mine)
            continue;
        for (size_t i = 0; i < json_array_size(s); i++) {
            long long t = json_integer_value(json_array_get(json_array_get(s, i), 0));
            long long len = json_integer_value(json_array_get(json_array_get(s, i), 1));

            if (len > mine[t / interval_ms])
                mine[t / interval_ms] = len;
        }
        for (size_t r = 0; r < rows; r++)
            sum[r] += mine[r];
        free(mine);
    }
    for (size_t r = 0; r < rows; r++) {
        if (sum[r] > best)
            best = sum[r];
        json_array_append_new(samples, json_pack("[I, I]", (json_int_t)(r * (size_t)interval_ms),
                                                 (json_int_t)sum[r]));
    }
    free(sum);
    json_object_set_new(out, "max", json_integer(best));
    if (limit)
        json_object_set_new(out, "limit", json_integer(limit));
    if (listeners)
        json_object_set_new(out, "listeners", json_integer(listeners));
    json_object_set_new(out, "interval_ms", json_integer(interval_ms));
    json_object_set_new(out, "source", json_string("sock_diag, summed over the servers"));
    json_object_set_new(out, "samples", samples);
    return out;
}

static void sum_counters(json_t *dst, const json_t *src)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)src, key, val)
        json_object_set_new(
            dst, key,
            json_integer(json_integer_value(json_object_get(dst, key)) + json_integer_value(val)));
}

/* The run's origin on the wall clock: recorded by every run since
 * origin_epoch_s; for older shards the --start-at second. */
static int run_origin(const json_t *merged, const json_t *run, double *origin, char *err,
                      size_t errlen)
{
    if (json_is_number(json_object_get(run, RD_ORIGIN_EPOCH))) {
        *origin = rundoc_origin_s(run);
        return 0;
    }
    (void)merged;
    return errbuf_set(err, errlen,
                      "the results have no origin_epoch_s (made by a qbench "
                      "older than observe): the server's samples cannot be "
                      "placed on their timeline");
}

int obsdoc_join(json_t *merged, json_t *const *obs, const char *const *names, size_t n, char *err,
                size_t errlen)
{
    json_t *runs = json_object_get(merged, "runs"), *run;
    json_t *kernel = json_object(), *by_host = json_object(), *observed = json_array();
    json_t **accepts = NULL, **syns = NULL;
    double origin = 0, run_end;
    int rc = -1;

    if (n == 0)
        rc = 0;
    if (n == 0)
        goto out;
    if (json_array_size(runs) != 1) {
        errbuf_set(err, errlen,
                   "an observer watches one window: merge observers with the "
                   "results of one run point (these have %zu)",
                   json_array_size(runs));
        goto out;
    }
    run = json_array_get(runs, 0);
    if (run_origin(merged, run, &origin, err, errlen) < 0)
        goto out;
    run_end = origin + (double)json_integer_value(json_object_get(run, "elapsed_ms")) / 1000.0;
    accepts = calloc(n, sizeof(*accepts));
    syns = calloc(n, sizeof(*syns));
    if (!accepts || !syns) {
        errbuf_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *o = obs[i];
        double o_origin = rundoc_origin_s(o);
        double o_end =
            o_origin + (double)json_integer_value(json_object_get(o, "elapsed_ms")) / 1000.0;
        long long offset_ms = llround((o_origin - origin) * 1000.0);
        char who[300];
        bool covered = o_origin <= origin + 0.001 && o_end >= run_end - 0.001;

        snprintf(who, sizeof(who), "%s:%lld", json_string_value(json_object_get(o, "host")),
                 json_integer_value(json_object_get(o, "port")));
        if (json_object_get(by_host, who)) {
            errbuf_set(err, errlen,
                       "%s and another observer both watched %s: give each "
                       "server once",
                       names[i], who);
            goto out;
        }
        accepts[i] = shifted_queue(json_object_get(o, "accept_queue"), offset_ms);
        syns[i] = shifted_queue(json_object_get(o, "syn_queue"), offset_ms);
        sum_counters(kernel, json_object_get(o, "kernel"));
        json_object_set_new(by_host, who,
                            json_pack("{s:O, s:O, s:O, s:O?}", "accept_queue", accepts[i],
                                      "syn_queue", syns[i], "kernel", json_object_get(o, "kernel"),
                                      "sysctl", json_object_get(o, "sysctl")));
        json_array_append_new(observed, json_pack("{s:s, s:s, s:I, s:b, s:b}", "file", names[i],
                                                  "server", who, "offset_ms", (json_int_t)offset_ms,
                                                  "covers_run", covered, "interrupted",
                                                  json_is_true(json_object_get(o, "interrupted"))));
    }
    if (n == 1) {
        json_object_set(run, RD_ACCEPT_QUEUE, accepts[0]);
        json_object_set(run, RD_SYN_QUEUE, syns[0]);
        json_object_set(run, RD_SERVER_SYSCTL, json_object_get(obs[0], "sysctl"));
    } else {
        json_t *a = summed_queue(accepts, n, 10), *s = summed_queue(syns, n, 10);

        if (!a || !s) {
            json_decref(a);
            json_decref(s);
            errbuf_set(err, errlen, "out of memory");
            goto out;
        }
        json_object_set_new(run, RD_ACCEPT_QUEUE, a);
        json_object_set_new(run, RD_SYN_QUEUE, s);
        json_object_set_new(run, RD_SERVER_BY_HOST, json_incref(by_host));
    }
    json_object_set(run, RD_SERVER_KERNEL, kernel);
    json_object_set_new(run, RD_SERVER_KERNEL_SCOPE, json_string("namespace"));
    json_object_set(run, RD_OBSERVED_BY, observed);
    rc = 0;
out:
    for (size_t i = 0; accepts && i < n; i++) {
        json_decref(accepts[i]);
        json_decref(syns[i]);
    }
    free(accepts);
    free(syns);
    json_decref(kernel);
    json_decref(by_host);
    json_decref(observed);
    return rc;
}
