/* obsstory: each connection's story told again across machines. A shard
 * against a server it cannot see ends a connection whose greeting never
 * came as greeting_timeout; the observer beside the server saw what the
 * server did with it. Joined here, by the client's 4-tuple and time
 * (fate.h, the same verdicts as for a server in qbench's own namespace),
 * each such connection becomes accepted_late (the server took it after the
 * client gave up), never_accepted (the kernel showed it end unaccepted),
 * or stays greeting_timeout (unknown: never guessed).
 *
 * Input: the shards' runs[0].gave_up (GAVE_UP_FIELDS, times in us from
 * each run's origin_epoch_s) and one observer's accepts (obsdoc.h, times
 * from its origin_epoch_s). Both are put on the merged run's timeline by
 * wall clock. The machines' clocks differ by their skew, and fate looks
 * for a server socket first seen after the client's connect(): a server
 * clock behind by more than the handshake's round trip would hide
 * sockets, and their connections would look never accepted. Skew up to
 * SKEW_ALLOWED_NS (100 ms) is absorbed by starting each search that much
 * earlier (story.clock_skew_allowed_ms); keep the machines within it (NTP
 * does, to milliseconds). Queue samples are placed by wall clock alone.
 *
 * Not joined (the run says why, its counts unchanged): no observer, more
 * than one (which server a connection reached is not recorded), a shard
 * that could not keep every give-up, an observer view with holes, or
 * clients and server that share no address (NAT between them: the server
 * saw other tuples). Pure. */
#ifndef QB_OBSSTORY_H
#define QB_OBSSTORY_H

#include <stddef.h>

#include <jansson.h>

/* The columns of a shard's runs[].gave_up.rows. */
#define GAVE_UP_FIELDS                                                                             \
    "src", "port", "due_us", "start_us", "connect_us", "giveup_us", "release_us", "answer_us",     \
        "client_reset", "saw_reset"
#define GAVE_UP_NFIELDS 10

/* Re-tells the merged run from the shards' runs (their give-ups and
 * origins) and the observers; sets run.story. -1 only when memory ran
 * out. */
int obsstory_join(json_t *run, json_t *const *shard_runs, size_t nshards, json_t *const *observers,
                  size_t nobs, char *err, size_t errlen);

#endif
