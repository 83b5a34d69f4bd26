/* observe: the server's side of a distributed run, seen from beside the
 * server. Runs in the server's network namespace (on its machine, or as a
 * sidecar sharing its pod's namespace) for the same wall-clock window as
 * the shards, and samples what only that namespace can see: the listener's
 * accept queue and SYN queue (sock_diag) and the namespace's TCP counters
 * (/proc/net/netstat, /proc/net/snmp). The result is an observer document
 * (obsdoc.h), which `qbench merge` joins with the shards' results.
 *
 * Needs nothing beyond what any process has in its own network namespace:
 * a NETLINK_SOCK_DIAG socket (no capability: inet_diag dumps every TCP
 * socket of the namespace to anyone) and read access to /proc/self/net.
 * It never opens a socket towards the server and writes no sysctl, so it
 * adds nothing to what it measures. */
#ifndef QB_OBSERVE_H
#define QB_OBSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct observe_opts {
    uint16_t port;        /* the listener's local port */
    bool has_start;       /* start_epoch given: the window's origin */
    double start_epoch;   /* seconds since the epoch (realtime) */
    uint64_t duration_ms; /* the window's length from its origin */
    unsigned interval_ms; /* accept queue sampling interval */
    bool quiet;
};

/* Waits for the origin, samples until origin + duration_ms or a stop
 * request (stopflag), and returns the observer document (*interrupted set
 * when the window was cut short). NULL and err when sock_diag or the
 * counters cannot be read at all. */
json_t *observe_run(const struct observe_opts *o, bool *interrupted, char *err, size_t errlen);

#endif
