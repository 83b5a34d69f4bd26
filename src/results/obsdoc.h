/* obsdoc: the observer document (what `qbench observe` writes beside the
 * server) and how it joins a merged results document.
 *
 * An observer document carries its own schema string, OBSDOC_SCHEMA, and
 * is checked on read like a results file. Its times are milliseconds from
 * its origin, origin_epoch_s (wall clock, seconds since the epoch): the
 * --start-at instant the shards share, or the moment it started.
 *
 * Joining puts the server's side into the merged run: accept_queue and
 * syn_queue (the observer's samples, moved onto the run's timeline by the
 * difference of the two origins), server_kernel (the server namespace's
 * counter deltas, beside the clients' kernel and kernel_by_host),
 * server_sysctl, and observed_by (which observer, its offset, whether its
 * window covered the run). The alignment is by wall clock only: the skew
 * between the server's clock and the clients' shifts every sample by that
 * much (NTP keeps it to milliseconds; the queues are sampled every 10 ms).
 * Pure. */
#ifndef QB_OBSDOC_H
#define QB_OBSDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define OBSDOC_SCHEMA "qbench-observe/1"

/* Whether doc says it is an observer document (by its schema string). */
bool obsdoc_is_observer(const json_t *doc);

/* The checks made on every observer document read: schema, and the keys
 * the join reads with their types. source names it in err. */
int obsdoc_check(const json_t *doc, const char *source, char *err, size_t errlen);

/* Loads and checks an observer document. */
json_t *obsdoc_load(const char *path, char *err, size_t errlen);

/* Joins n observers (names: their files) into the merged document's runs
 * (which must hold exactly one run point: an observer's window is one
 * point's). Each observer must watch a distinct server (host and port). */
int obsdoc_join(json_t *merged, json_t *const *obs, const char *const *names, size_t n, char *err,
                size_t errlen);

#endif
