/* ab: a baseline (A) and a candidate (B) measured in one job, their repeats
 * interleaved: A B A B ..., every point of every repeat in a fresh
 * namespace. Whatever drifts over the job (other load on the machine, a
 * CI runner's neighbours, thermal state) then touches both sides alike,
 * and no stored baseline from another machine is needed.
 *
 * The result is two results documents, each as `repeat: N` of its plan
 * would have written it (merged totals, the spread of every metric and
 * every repeat whole), ready for compare. A signal stops the job after the
 * point that is running; only rounds both sides finished are kept, and the
 * documents say "interrupted". */
#ifndef QB_AB_H
#define QB_AB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "plan.h"

struct ab_opts {
    unsigned repeat; /* rounds: each side's repeats (>= 1) */
    bool quiet;      /* no progress, no summary lines */
    FILE *say;       /* where summary lines go */
};

/* Runs both plans (their own repeat is ignored: o->repeat rounds of one
 * each). *doc_a and *doc_b are new references, also when interrupted
 * (*interrupted set); -1 with the cause (and no documents) when the
 * environment refused. */
int ab_run(const struct plan *a, const struct plan *b, const struct ab_opts *o, json_t **doc_a,
           json_t **doc_b, bool *interrupted, char *err, size_t errlen);

#endif
