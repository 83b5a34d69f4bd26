/* sweep: expands "sweep" (dotted key -> list of values) into run points,
 * the cartesian product of the lists, the last key varying fastest. */
#ifndef QB_SWEEP_H
#define QB_SWEEP_H

#include <stddef.h>

#include <jansson.h>

#define SWEEP_MAX_KEYS 8
#define SWEEP_MAX_POINTS 10000

struct sweep {
    size_t nkeys;
    char keys[SWEEP_MAX_KEYS][128];
    json_t *values[SWEEP_MAX_KEYS]; /* arrays, owned */
    size_t npoints;                 /* 1 without a sweep */
};

/* spec is the config's "sweep" value, or NULL. */
int sweep_parse(const json_t *spec, const char *source, struct sweep *sw, char *err, size_t errlen);
void sweep_destroy(struct sweep *sw);

/* {"key": value, ...} of point i (a new reference; {} without a sweep). */
json_t *sweep_params(const struct sweep *sw, size_t i);

/* Writes the values of params into root by their dotted keys. */
int sweep_apply(json_t *root, const json_t *params, char *err, size_t errlen);

#endif
