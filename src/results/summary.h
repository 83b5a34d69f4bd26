/* summary: the line a person reads after each run point: counts with their
 * share of the attempts, the main latencies in ms or s. Reads a runs[]
 * entry only (rundoc's names, metric's table). */
#ifndef QB_SUMMARY_H
#define QB_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* "[2/3] server.backlog=16: attempted 100: established 90 (90.0%) ... |
 * connect_p50 1.2 ms ..." (the [point/npoints] prefix only when npoints > 1). */
void summary_print(FILE *out, const json_t *run, size_t point, size_t npoints);

#endif
