/* experiment: a plan run to a results document. Runs every point of the
 * plan in turn, each repeat times in a fresh namespace (runner); with
 * repeats a point's entry holds the merged totals (merge), the spread of
 * every metric across the repeats and every repeat whole. Stamps a sharded
 * run's identity on the document and evaluates the plan's expect bounds.
 *
 * The document can be had at any time, not only at the end:
 * experiment_document gives the one of the points finished so far, and the
 * point_done hook runs after every finished point, so a caller can put
 * every finished point on disk before the next starts. */
#ifndef QB_EXPERIMENT_H
#define QB_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "plan.h"
#include "shard.h"

struct records;
struct experiment;

struct experiment_opts {
    bool quiet;                /* no progress, no summary lines */
    FILE *say;                 /* where the summary lines go (stdout, or stderr when the
                                  results go to stdout) */
    const struct shard *shard; /* this process's share of a sharded run */
    struct records *records;   /* the per-connection file, or NULL */
    /* After every finished point (1-based), its entry already in
     * experiment_document's runs, and after every finished repeat of a
     * point (its repeats so far are then in the document too, marked
     * incomplete); -1 (with err) stops the experiment. NULL: nothing to do. */
    int (*point_done)(const struct experiment *x, size_t point, void *ctx, char *err,
                      size_t errlen);
    void *ctx;
};

struct experiment {
    const struct plan *plan; /* borrowed */
    struct experiment_opts opts;
    char started_at[32]; /* ISO 8601 UTC, set when the first point starts */
    json_t *runs;        /* the finished points' runs[] entries */
    json_t *partial;     /* the repeats finished so far of the point running */
    bool interrupted;    /* a signal cut the experiment short */
    bool finished;       /* experiment_run returned: every point ran or it stopped */
    /* Why the experiment stopped before its end (a server that would not
     * start, a sysctl refused ...), at which point (1-based) and repeat;
     * "" when it did not. A measurement made before is kept in runs. */
    char failure[1024];
    size_t failed_point;
    unsigned failed_repeat;
    /* The per-connection file failed (a full disk): dropped from then on,
     * the run goes on; "" when it did not. */
    char records_failure[256];
};

/* Before anything runs: -1 and the cause when the environment cannot run
 * the plan (too few open files, a shard that cannot be split or started). */
int experiment_check(const struct plan *plan, const struct shard *shard, char *err, size_t errlen);

void experiment_init(struct experiment *x, const struct plan *plan,
                     const struct experiment_opts *opts);

/* Runs the points in order until all are done or a signal arrives
 * (x->interrupted). -1 with the cause when the environment refused
 * (namespace, sysctl, bind ...) or point_done failed; the points finished
 * before stay in x->runs, a point whose later repeat failed keeps its
 * finished repeats (its entry marked incomplete), and x->failure says
 * why. */
int experiment_run(struct experiment *x, char *err, size_t errlen);

/* The results document of the points finished so far (a new reference; its
 * runs[] is x->runs, shared, plus the partial point), with the expect
 * bounds evaluated on them (*pass: all held) and the shard identity of a
 * sharded run. "complete" is true only for a run that finished every
 * point with every output; otherwise "incomplete" says why and where:
 * {"cause", "point", "repeat"} (while it still runs: the point it is at,
 * so a document left by a killed qbench says it is unfinished). */
json_t *experiment_document(const struct experiment *x, bool *pass);

void experiment_destroy(struct experiment *x);

/* One runs[] entry from the n repeats of a point (each a runs[] entry with
 * its "repeat" number): the merged totals, the spread of every metric and
 * every repeat whole, as a run with repeat: n writes it. NULL and err when
 * they cannot be merged. */
json_t *experiment_combine_repeats(json_t *const *reps, unsigned n, char *err, size_t errlen);

#endif
