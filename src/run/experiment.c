#include "experiment.h"

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
#include "summary.h"

int experiment_check(const struct plan *plan, const struct shard *shard, char *err,
                     size_t errlen)
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
static json_t *combine_repeats(json_t *const *reps, unsigned done, char *err, size_t errlen)
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

/* Point i, repeat times, each in a fresh namespace: its runs[] entry. */
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
        struct runner_opts ro = {x->opts.quiet, (unsigned)i + 1, (unsigned)plan->npoints,
                                 x->opts.records, r + 1, n, shard,
                                 i == 0 && r == 0 && shard && shard->has_start};

        if (runner_run_point(&plan->points[i].cfg, plan->points[i].params, &ro, &reps[r],
                             &x->interrupted, err, errlen) < 0) {
            rc = -1;
            break;
        }
        done++;
    }
    if (rc == 0 && n == 1) {
        *out = reps[0];
        reps[0] = NULL;
    } else if (rc == 0) {
        for (unsigned r = 0; r < done; r++)
            json_object_set_new(reps[r], RD_REPEAT, json_integer(r + 1));
        *out = combine_repeats(reps, done, err, errlen);
        rc = *out ? 0 : -1;
    }
    for (unsigned r = 0; r < n; r++)
        json_decref(reps[r]);
    free(reps);
    return rc;
}

int experiment_run(struct experiment *x, char *err, size_t errlen)
{
    clock_iso8601(x->started_at, sizeof(x->started_at));
    for (size_t i = 0; i < x->plan->npoints && !x->interrupted; i++) {
        json_t *run = NULL;

        if (run_point(x, i, &run, err, errlen) < 0)
            return -1;
        if (!x->opts.quiet)
            summary_print(x->opts.say, run, i + 1, x->plan->npoints);
        json_array_append_new(x->runs, run);
        if (x->opts.point_done && x->opts.point_done(x, i + 1, x->opts.ctx, err, errlen) < 0)
            return -1;
    }
    return 0;
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
    json_t *expect = expect_evaluate(plan->id.expect, plan->id.nexpect, x->runs, pass);
    json_t *doc = report_document(plan->effective, json_incref(x->runs), expect, x->started_at,
                                  x->interrupted);
    json_t *shard = shard_json(x->opts.shard);

    if (shard)
        json_object_set_new(doc, RD_SHARD, shard);
    return doc;
}

void experiment_destroy(struct experiment *x)
{
    json_decref(x->runs);
    memset(x, 0, sizeof(*x));
}
