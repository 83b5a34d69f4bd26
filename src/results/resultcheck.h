/* resultcheck: what a results document must be before any reader (merge,
 * compare, plot, export, expect) trusts it. Files come from other machines,
 * other versions and other people: every count is an integer in
 * 0..RESULTS_COUNT_MAX, the outcome classes add up to attempted, every
 * histogram's buckets add up to its count (summed with overflow checks),
 * timelines and queue samples are rows of integers, times are strings.
 * Keys it does not know are left alone (newer writers add some). A failure
 * names the field's path: "runs[0].outcomes.established: must be an
 * integer in 0..1000000000000000, got -5". Pure. */
#ifndef QB_RESULTCHECK_H
#define QB_RESULTCHECK_H

#include <stddef.h>

#include <jansson.h>

/* Larger than any count one machine could measure in years (10^15), small
 * enough that sums of many such counts never overflow 64 bits. */
#define RESULTS_COUNT_MAX 1000000000000000LL

/* 0, or -1 with err naming the first bad field (doc is a parsed document
 * whose schema has been checked). */
int resultcheck_document(const json_t *doc, char *err, size_t errlen);

/* What merge needs on top: name, started_at, finished_at, host (strings)
 * and config (an object) present, since it orders, compares and lists
 * them. */
int resultcheck_mergeable(const json_t *doc, char *err, size_t errlen);

/* The checks of one runs[] entry (path names it, e.g. "runs[2]"). */
int resultcheck_run(const json_t *run, const char *path, char *err, size_t errlen);

#endif
