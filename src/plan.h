/* plan: what one config file (plus --set and --output) expands to: one
 * validated config per sweep point. The whole sweep is validated before
 * the first point runs, so a typo in the last value fails in a second,
 * not after an hour. */
#ifndef QB_PLAN_H
#define QB_PLAN_H

#include <stddef.h>

#include <jansson.h>

#include "config.h"

struct plan {
    size_t npoints;
    struct config *points;  /* npoints configs */
    json_t **params;        /* npoints objects: the swept values of each point */
    json_t *effective;      /* the effective config: point 0's, plus "sweep" */
};

/* sets: n "KEY=VALUE" overrides; output: overrides "output" if not NULL. */
int plan_load(struct plan *p, const char *path, const char *const *sets, size_t nsets,
              const char *output, char *err, size_t errlen);
void plan_destroy(struct plan *p);

#endif
