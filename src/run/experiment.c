#include "experiment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errbuf.h"
#include "expect.h"
#include "merge.h"
#include "report.h"
#include "rundoc.h"
#include "runner.h"
#include "stopflag.h"
#include "summary.h"

int experiment_check(const struct plan *plan, const struct shard *shard, char *err, size_t errlen)
{
    for (size_t i = 0; i < plan->npoints; i++)
        if (runner_check_fds(&plan->points[i].cfg, err, errlen) < 0 ||
            runner_check_shard(&plan->points[i].cfg, shard, err, errlen) < 0)
            return -1;
    return 0;
}

void experiment_init(struct experiment *x, const struct plan *plan,
                     const struct experiment_opts *opts)
{
    memset(x, 0, sizeof(*x));
    x->plan = plan;
    x->opts = *opts;
    if (!x->opts.say)
        x->opts.say = stdout;
    x->runs = json_array();
}

/* One entry from the repeats of a point: the merged totals, the spread of
 * every metric and every repeat whole. */
json_t *experiment_combine_repeats(json_t *const *reps, unsigned done, char *err, size_t errlen)
{
    json_t *out = merge_runs(reps, done, err, errlen), *repeats;

    if (!out)
        return NULL;
    json_object_set_new(out, RD_SPREAD, merge_spread(reps, done));
    repeats = json_array();
    for (unsigned r = 0; r < done; r++)
        json_array_append(repeats, reps[r]);
    json_object_set_new(out, RD_REPEATS, repeats);
    return out;
}

/* A run whose per-connection file failed: the file is dropped from here
 * on (the caller aborts it), the measurement goes on. */
static void note_records_failure(struct experiment *x, const json_t *run)
{
    const char *why = json_string_value(json_object_get(run, RD_CONNECTIONS_ERROR));

    if (!why || x->records_failure[0])
        return;
    snprintf(x->records_failure, sizeof(x->records_failure), "connections file %.100s: %.120s",
             x->plan->id.connections_file, why);
    x->opts.records = NULL;
    fprintf(stderr, "qbench: %s; the run goes on without it\n", x->records_failure);
}

/* Point i, repeat times, each in a fresh namespace: its runs[] entry.
 * When a repeat fails after others finished, *out is still the entry of
 * those, marked incomplete, and -1 is returned. */
static int run_point(struct experiment *x, size_t i, json_t **out, char *err, size_t errlen)
{
    const struct plan *plan = x->plan;
    const struct shard *shard = x->opts.shard;
    unsigned n = plan->id.repeat ? plan->id.repeat : 1, done = 0;
    json_t **reps = calloc(n, sizeof(*reps));
    int rc = 0;

    *out = NULL;
    if (!reps)
        return errbuf_set(err, errlen, "out of memory");
    for (unsigned r = 0; r < n && !x->interrupted; r++) {
        struct runner_opts ro = {x->opts.quiet,
                                 (unsigned)i + 1,
                                 (unsigned)plan->npoints,
                                 x->opts.records,
                                 r + 1,
                                 n,
                                 shard,
                                 i == 0 && r == 0 && shard && shard->has_start};

        if (r > 0 && stopflag_requested()) {
            x->interrupted = true;
            break;
        }
        if (runner_run_point(&plan->points[i].cfg, plan->points[i].params, &ro, &reps[r],
                             &x->interrupted, err, errlen) < 0) {
            x->failed_repeat = r + 1;
            rc = -1;
            break;
        }
        note_records_failure(x, reps[r]);
        done++;
        if (n > 1 && r + 1 < n) {
            /* the repeats so far, on disk before the next one starts */
            char ignored[ERRBUF_LEN];

            json_object_set_new(reps[r], RD_REPEAT, json_integer(r + 1));
            json_decref(x->partial);
            x->partial = experiment_combine_repeats(reps, done, ignored, sizeof(ignored));
            if (x->partial && x->opts.point_done &&
                x->opts.point_done(x, i + 1, x->opts.ctx, err, errlen) < 0) {
                rc = -1;
                break;
            }
        }
    }
    json_decref(x->partial);
    x->partial = NULL;
    if (n == 1 && done == 1) {
        *out = reps[0];
        reps[0] = NULL;
    } else if (done > 0) {
        char why[ERRBUF_LEN];

        for (unsigned r = 0; r < done; r++)
            json_object_set_new(reps[r], RD_REPEAT, json_integer(r + 1));
        *out = experiment_combine_repeats(reps, done, why, sizeof(why));
        if (!*out && rc == 0) {
            snprintf(err, errlen, "%s", why);
            rc = -1;
        }
        if (*out && rc < 0)
            json_object_set_new(*out, RD_INCOMPLETE,
                                json_pack("{s:s, s:i, s:i}", "cause", err, "repeats_done",
                                          (int)done, "repeats", (int)n));
    }
    for (unsigned r = 0; r < n; r++)
        json_decref(reps[r]);
    free(reps);
    return rc;
}

int experiment_run(struct experiment *x, char *err, size_t errlen)
{
    int rc = 0;

    clock_iso8601(x->started_at, sizeof(x->started_at));
    for (size_t i = 0; i < x->plan->npoints && !x->interrupted; i++) {
        json_t *run = NULL;

        /* a signal between two points ends the experiment there */
        if (i > 0 && stopflag_requested()) {
            x->interrupted = true;
            break;
        }
        rc = run_point(x, i, &run, err, errlen);
        if (rc < 0) {
            x->failed_point = i + 1;
            snprintf(x->failure, sizeof(x->failure), "%s", err);
        }
        if (!run)
            break;
        if (!x->opts.quiet)
            summary_print(x->opts.say, run, i + 1, x->plan->npoints);
        json_array_append_new(x->runs, run);
        if (rc < 0)
            break;
        if (x->opts.point_done && x->opts.point_done(x, i + 1, x->opts.ctx, err, errlen) < 0) {
            x->failed_point = i + 1;
            snprintf(x->failure, sizeof(x->failure), "%s", err);
            rc = -1;
            break;
        }
    }
    x->finished = true;
    return rc;
}

/* {"cause", "point", "repeat"} when the document is not the whole run. */
static json_t *incomplete_json(const struct experiment *x, size_t nruns)
{
    unsigned repeats = x->plan->id.repeat ? x->plan->id.repeat : 1;

    if (x->failure[0])
        return json_pack("{s:s, s:I, s:i}", "cause", x->failure, "point",
                         (json_int_t)x->failed_point, "repeat",
                         (int)(x->failed_repeat ? x->failed_repeat : 1));
    if (!x->finished)
        return json_pack(
            "{s:s, s:I, s:I}", "cause",
            "unfinished: written after each point; the run had not ended (still "
            "running, or qbench was killed)",
            "point", (json_int_t)nruns + 1, "repeat",
            (json_int_t)(x->partial ? json_array_size(json_object_get(x->partial, RD_REPEATS)) + 1
                                    : 1) *
                (repeats > 1));
    if (x->interrupted)
        return json_pack("{s:s, s:I}", "cause", "interrupted by a signal", "point",
                         (json_int_t)(nruns ? nruns : 1));
    if (x->records_failure[0])
        return json_pack("{s:s}", "cause", x->records_failure);
    return NULL;
}

/* {"index", "count", "start_at"} of a sharded or scheduled run, else NULL. */
static json_t *shard_json(const struct shard *s)
{
    char at[64] = "";

    if (!s || (s->count <= 1 && !s->has_start))
        return NULL;
    if (s->has_start) {
        time_t sec = (time_t)s->start_epoch;
        struct tm tm;

        gmtime_r(&sec, &tm);
        strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    return json_pack("{s:i, s:i, s:s?}", "index", s->index, "count", s->count, "start_at",
                     at[0] ? at : NULL);
}

json_t *experiment_document(const struct experiment *x, bool *pass)
{
    const struct plan *plan = x->plan;
    json_t *runs = json_incref(x->runs), *expect, *doc, *shard, *inc;

    if (x->partial) {
        /* the point still running: its finished repeats, said to be partial */
        json_t *p = json_deep_copy(x->partial);

        runs = json_copy(x->runs);
        json_decref(x->runs);
        json_object_set_new(p, RD_INCOMPLETE,
                            json_pack("{s:s, s:I}", "cause", "repeats still running",
                                      "repeats_done",
                                      (json_int_t)json_array_size(json_object_get(p, RD_REPEATS))));
        json_array_append_new(runs, p);
    }
    expect = expect_evaluate(plan->id.expect, plan->id.nexpect, runs, pass);
    doc = report_document(plan->effective, runs, expect, x->started_at, x->interrupted);
    shard = shard_json(x->opts.shard);
    if (shard)
        json_object_set_new(doc, RD_SHARD, shard);
    inc = incomplete_json(x, json_array_size(x->runs));
    json_object_set_new(doc, RD_COMPLETE, json_boolean(inc == NULL));
    if (inc)
        json_object_set_new(doc, RD_INCOMPLETE, inc);
    return doc;
}

void experiment_destroy(struct experiment *x)
{
    json_decref(x->runs);
    json_decref(x->partial);
    memset(x, 0, sizeof(*x));
}
