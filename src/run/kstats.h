/* kstats: what the kernel itself says. TCP counters from /proc/net/netstat
 * and /proc/net/snmp (TcpExt and Tcp sections, names without the prefix),
 * the listener's accept queue, and a socket's retransmit count. */
#ifndef QB_KSTATS_H
#define QB_KSTATS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define KSTATS_MAX 400

struct kstats {
    size_t n;
    char names[KSTATS_MAX][48];
    int64_t values[KSTATS_MAX];
};

/* Reads <netdir>/netstat and <netdir>/snmp (netdir is normally
 * "/proc/self/net"; tests pass a fixture directory). */
int kstats_read(struct kstats *ks, const char *netdir, char *err, size_t errlen);

/* Value of a counter, or 0 if absent. */
int64_t kstats_get(const struct kstats *ks, const char *name);

/* {"Name": after - before} for every counter that moved. Gauges such as
 * CurrEstab are left out: a difference of a gauge is not a count. */
json_t *kstats_delta_json(const struct kstats *before, const struct kstats *after);

/* The accept queue of a listening socket: current length and limit
 * (TCP_INFO's tcpi_unacked and tcpi_sacked on a listener). */
int kstats_listen_queue(int fd, unsigned *length, unsigned *limit);

/* tcpi_total_retrans of a socket: SYN retransmits on a client right after
 * the handshake, SYN-ACK retransmits on a freshly accepted socket. */
int kstats_socket_retrans(int fd, unsigned *retrans);

/* The same and the socket's TCP state (TCP_ESTABLISHED, TCP_CLOSE_WAIT ...)
 * in one call: on a freshly accepted socket, CLOSE_WAIT or CLOSE means the
 * client had closed or reset it while it waited in the queue. */
int kstats_socket_state(int fd, unsigned *retrans, unsigned *state);

/* tcpi_unacked of a connected socket: segments sent (data, FIN) that the
 * peer has not acknowledged. */
int kstats_socket_unacked(int fd, unsigned *unacked);

#endif
