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
 * earlier (story.clock_skew_allowed_ms). Beyond it the skew is measured
 * per shard from the connections both sides saw (obsstory_offset below,
 * story.clock_offset_ms): where it is known to exceed the allowance and
 * known to within it, the shard's times are corrected by it; where it
 * exceeds the allowance but is not known that well, the run is not
 * joined. Queue samples are placed by wall clock alone.
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

/* One connection both sides saw: the client's connect() call and the
 * moment it saw the handshake complete (its loop may notice that late),
 * and the bracket of the observer's first sighting of its child socket
 * (the dump before, which did not see it, and the first that did). ns, the
 * client's on its clock, the observer's on its own. */
struct obsstory_pair {
    int64_t start_ns, connect_ns;
    int64_t before_ns, first_ns;
};

/* The observer's clock minus the shard's, from such pairs. Causality
 * bounds it from above for every pair: a child exists only after the
 * handshake completed at the client, so offset <= first - connect + lag
 * (max_ns: the smallest of these that another pair confirms, within its
 * poll bracket: a lone child far below the rest is another connection's
 * on the same tuple; lag_ns is how late the client's loop may have
 * noticed the completion, its schedule's worst lag). A child born of the
 * handshake's ACK itself (not of a later re-presentation: a SYN-ACK
 * retransmit, a retransmitted FIN) also bounds it from below,
 * offset >= before - connect - (connect - start) (the one-way delay is
 * less than the round trip): min_ns is the highest such bound at or
 * below max_ns. So [min_ns, max_ns] holds the offset if the earliest
 * child was born of its handshake's ACK (the server queued it at once),
 * which a slow server's give-ups always include; offset_ns is its middle.
 * pairs 0: nothing known. */
struct obsstory_offset {
    size_t pairs;
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
