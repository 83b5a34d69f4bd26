/* merge: runs[] entries combined exactly, from the results format alone.
 * Used for the repeats of one run point (the merged totals at the top of
 * runs[i]) and for shards of one experiment (qbench merge).
 *
 * How each member merges is rundoc's field table (rundoc.h), walked here:
 * counts (outcomes, errors, retransmit histograms, server tallies, kernel
 * counters) are summed; latency histograms are merged bucket by bucket and
 * their percentiles recomputed (never averaged); the timeline is summed
 * row by row on each run's own clock; queue maxima are the maximum;
 * story.joined holds only if it held in every input. A member the table
 * has no row for is an error, never taken from one input. A run without
 * histogram buckets (an older file) cannot be merged exactly, and merging
 * it is an error. Pure. */
#ifndef QB_MERGE_H
#define QB_MERGE_H

#include <stddef.h>

#include <jansson.h>

/* One runs[] entry from n (>= 1) entries of the same point; NULL and err
 * when they cannot be merged exactly. */
json_t *merge_runs(json_t *const *runs, size_t n, char *err, size_t errlen);

/* The merge of whole results documents (shards of one experiment, or runs
 * of one config on several machines): every input must have the same
 * name, the same settings (output aside) and the same run points; runs
 * with the same params merge. Kernel counters are kept per source host
 * too (kernel_by_host), since each host's counters are its own. NULL and
 * err when they cannot be merged. */
json_t *merge_documents(json_t *const *docs, const char *const *names, size_t n, char *err,
                        size_t errlen);

/* Per metric of the metric table: {"median", "min", "max", "values": [...]}
 * over the n runs (metrics no run has are left out). */
json_t *merge_spread(json_t *const *runs, size_t n);

#endif
