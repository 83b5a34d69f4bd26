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
 * earlier (story.clock_skew_allowed_ms). The skew is also measured per
 * shard from the connections both sides saw (obsstory_offset below,
 * story.clock_offset_ms): where it is proven beyond the allowance and
 * known to within twice it, the shard's times are corrected by it; where
 * it is proven beyond but not known that well, the run is not joined. Queue samples are placed by
 * wall clock alone.
 *
 * Not joined (the run says why, its counts unchanged): no observer, more
 * than one (which server a connection reached is not recorded), a shard
 * that could not keep every give-up, an observer view with holes, or
 * clients and server that share no address (NAT between them: the server
 * saw other tuples). Pure. */
#ifndef QB_OBSSTORY_H
#define QB_OBSSTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The columns of a shard's runs[].gave_up.rows. */
#define GAVE_UP_FIELDS                                                                             \
    "src", "port", "due_us", "start_us", "connect_us", "giveup_us", "release_us", "answer_us",     \
        "client_reset", "saw_reset"
#define GAVE_UP_NFIELDS 10

/* One connection both sides saw: the client's connect() call and the
 * moment it saw the handshake complete (its loop may notice that late),
 * and the bracket of the observer's first sighting of the server's socket
 * of its tuple (the dump before, which did not see it, and the first that
 * did), and whether that sighting was a request (SYN_RECV) or already a
 * child. ns, the client's on its clock, the observer's on its own. */
struct obsstory_pair {
    int64_t start_ns, connect_ns;
    int64_t before_ns, first_ns;
    bool born_request;
};

/* The observer's clock minus the shard's, bounded by causality alone:
 *   a child (an established socket) exists only after the client saw its
 *   handshake complete: offset <= first - connect + lag (lag_ns: how late
 *   the client's loop may have noticed the completion, its schedule's
 *   worst lag);
 *   a request exists only after the client's SYN (offset <= first -
 *   start), and before the client saw the SYN-ACK it answers: offset >=
 *   before - connect.
 * min_ns is the largest lower bound that another pair confirms (within
 * its poll bracket: a lone pair far beyond the rest is another
 * connection's socket on the same tuple); max_ns the smallest upper bound
 * not below it, or without a lower bound the smallest that another pair
 * confirms.
 * Give-ups rarely have a request seen (under overload most are syncookie
 * connections): without one only max_ns is known (lower_known false), and
 * offset_ns is max_ns; else the middle. pairs 0: nothing known. */
struct obsstory_offset {
    size_t pairs, lower_pairs;
    bool lower_known;
    int64_t offset_ns, min_ns, max_ns;
};

/* Pure: p is sorted in place. */
void obsstory_offset(struct obsstory_pair *p, size_t n, int64_t lag_ns,
                     struct obsstory_offset *out);

/* Re-tells the merged run from the shards' runs (their give-ups and
 * origins) and the observers; sets run.story. -1 only when memory ran
 * out. */
int obsstory_join(json_t *run, json_t *const *shard_runs, size_t nshards, json_t *const *observers,
                  size_t nobs, char *err, size_t errlen);

#endif
