/* export: a results document as a flat table for notebooks and
 * spreadsheets (CSV). One row per run point, and with repeats one more per
 * repeat (column repeat: 0 is the merged totals, 1..N each repeat).
 * Columns are stable and named without dots' ambiguity: point, repeat,
 * param:<key> for every swept key, every metric of the metric table, the
 * latency percentiles p1 ... p99.99 of connect and accept (from the
 * lossless buckets), and kernel:<counter> for every counter any run moved,
 * zero where a run did not. Pure but for the stream it writes. */
#ifndef QB_EXPORT_H
#define QB_EXPORT_H

#include <stdio.h>

#include <jansson.h>

int export_csv(const json_t *doc, FILE *out, char *err, size_t errlen);

#endif
