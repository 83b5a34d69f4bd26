/* plan: what one config file (plus --set and --output) expands to: the
 * experiment's identity, which every point shares, and one validated
 * config per sweep point with the swept values that made it. The whole
 * sweep is validated before the first point runs, so a typo in the last
 * value fails in a second, not after an hour. */
#ifndef QB_PLAN_H
#define QB_PLAN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config.h"

/* What no sweep can vary (the schema marks these keys unsweepable): the
 * results file's name and path, and the bounds it is judged by. */
struct plan_identity {
    char name[128];
    char output[PATH_MAX];
    char connections_file[PATH_MAX]; /* "" for none */
    bool isolate;
    unsigned repeat;
    size_t nexpect;
    struct expect_bound expect[CONFIG_MAX_EXPECT];
};

struct plan_point {
    struct config cfg; /* the effective settings of this point */
    json_t *params;    /* the swept values that made it ({} without a sweep) */
};

struct plan {
    struct plan_identity id;
    size_t npoints;
    struct plan_point *points;
    json_t *effective; /* the file's effective config (point 0's, plus "sweep") */
    char notes[512];   /* what --set changed that a user should hear of ("" none) */
};

/* sets: n "KEY=VALUE" overrides; output, connections: override "output"
 * and "connections_file" if not NULL. A set on a swept key replaces that
 * sweep (said in notes); "sweep={}" drops the sweep. An error in a value a
 * set gave is blamed on it ("--set client.rate: must be > 0, got -5"), one
 * in the file on the file, one of a sweep point names the point. */
int plan_load(struct plan *p, const char *path, const char *const *sets, size_t nsets,
              const char *output, const char *connections, char *err, size_t errlen);
void plan_destroy(struct plan *p);

/* How long the whole plan takes: at least every point's schedule (times
 * its repeats), at most that plus every point's last connections waiting
 * out their timeouts. Seconds. */
void plan_duration(const struct plan *p, double *at_least_s, double *at_most_s);

#endif
