#include "ab.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errbuf.h"
#include "experiment.h"
#include "rundoc.h"

/* One round of one side: every point once. Its entries go to
 * reps[point * repeat + round]. */
static int run_once(const struct plan *plan, const struct ab_opts *o, unsigned round, json_t **reps,
                    char *started, bool *interrupted, char *err, size_t errlen)
{
    struct plan once = *plan; /* the same points, one repeat each; owns nothing */
    struct experiment x;
    int rc = 0;

    once.id.repeat = 1;
    experiment_init(&x, &once, &(struct experiment_opts){.quiet = o->quiet, .say = o->say});
    if (experiment_run(&x, err, errlen) < 0)
        rc = -1;
    else if (x.interrupted)
        *interrupted = true;
    else {
        if (!started[0])
            memcpy(started, x.started_at, sizeof(x.started_at));
        for (size_t p = 0; p < plan->npoints; p++) {
            json_t *run = json_array_get(x.runs, p);

            json_object_set_new(run, RD_REPEAT, json_integer(round + 1));
            reps[p * o->repeat + round] = json_incref(run);
        }
    }
    experiment_destroy(&x);
    return rc;
}

/* The document of one side from its first `rounds` rounds. */
static json_t *side_document(const struct plan *plan, const struct ab_opts *o, json_t **reps,
                             unsigned rounds, const char *started, bool interrupted, char *err,
                             size_t errlen)
{
    struct experiment x;
    json_t *doc;
    bool pass;

    experiment_init(&x, plan, &(struct experiment_opts){.quiet = true, .say = o->say});
    memcpy(x.started_at, started, sizeof(x.started_at));
    x.interrupted = interrupted;
    x.finished = true; /* every round kept ran to its end */
    for (size_t p = 0; p < plan->npoints && rounds; p++) {
        json_t **mine = &reps[p * o->repeat];
        json_t *entry;

        if (rounds == 1) {
            entry = json_deep_copy(mine[0]);
            json_object_del(entry, RD_REPEAT);
        } else {
            entry = experiment_combine_repeats(mine, rounds, err, errlen);
        }
        if (!entry) {
            experiment_destroy(&x);
            return NULL;
        }
        json_array_append_new(x.runs, entry);
    }
    doc = experiment_document(&x, &pass);
    experiment_destroy(&x);
    return doc;
}

int ab_run(const struct plan *a, const struct plan *b, const struct ab_opts *o, json_t **doc_a,
           json_t **doc_b, bool *interrupted, char *err, size_t errlen)
{
    const struct plan *side[2] = {a, b};
    json_t **reps[2];
    char started[2][32] = {"", ""};
    unsigned rounds = 0;
    int rc = 0;

    *doc_a = *doc_b = NULL;
    *interrupted = false;
    reps[0] = calloc(a->npoints * o->repeat, sizeof(json_t *));
    reps[1] = calloc(b->npoints * o->repeat, sizeof(json_t *));
    if (!reps[0] || !reps[1]) {
        free(reps[0]);
        free(reps[1]);
        return errbuf_set(err, errlen, "out of memory");
    }
    for (unsigned r = 0; r < o->repeat && rc == 0 && !*interrupted; r++) {
        for (int s = 0; s < 2 && rc == 0 && !*interrupted; s++) {
            if (!o->quiet)
                fprintf(stderr, "qbench ab: round %u of %u: %s\n", r + 1, o->repeat,
                        s ? "B (candidate)" : "A (baseline)");
            rc = run_once(side[s], o, r, reps[s], started[s], interrupted, err, errlen);
        }
        if (rc == 0 && !*interrupted)
            rounds++;
    }
    for (int s = 0; s < 2; s++)
        if (!started[s][0])
            clock_iso8601(started[s], sizeof(started[s]));
    if (rc == 0) {
        *doc_a = side_document(a, o, reps[0], rounds, started[0], *interrupted, err, errlen);
        *doc_b = *doc_a
                     ? side_document(b, o, reps[1], rounds, started[1], *interrupted, err, errlen)
                     : NULL;
        if (!*doc_b) {
            json_decref(*doc_a);
            *doc_a = NULL;
            rc = -1;
        }
    }
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < side[s]->npoints * o->repeat; i++)
            json_decref(reps[s][i]);
        free(reps[s]);
    }
    return rc;
}
