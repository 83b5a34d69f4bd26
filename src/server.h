/* server: the built-in listener under test. A chosen listen() backlog,
 * passed to the kernel unchanged; a chosen accept pace; a one-byte greeting
 * right after accept() so the client can tell "handshake done" from "the
 * server really took it". Each thread runs its own libev loop; with more
 * than one thread every thread has its own SO_REUSEPORT listener, i.e. its
 * own accept queue of backlog+1.
 *
 * Teardown is designed not to move the counters qbench reports: the server
 * closes first (after the greeting, and after reading the client's request
 * if one is configured), so its TIME_WAIT is recycled by the next SYN and
 * no RST is ever sent by qbench itself. */
#ifndef QB_SERVER_H
#define QB_SERVER_H

#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "outcome.h"

struct server;

struct server_stats {
    uint64_t accepted;
    uint64_t synack_retrans[OUTCOME_RETRANS_SLOTS]; /* per accepted connection */
    uint64_t greeting_failed;    /* greeting write failed: client already gone */
    uint64_t accept_errors[OUTCOME_ERR_SLOTS];       /* by errno, e.g. EMFILE */
};

/* Creates the listener(s): bound, listening, not yet accepting. */
struct server *server_new(const struct config *cfg, char *err, size_t errlen);

/* The address the listener really has (port 0 resolved). */
void server_address(const struct server *s, struct sockaddr_storage *addr, socklen_t *len);

unsigned server_listeners(const struct server *s);
int server_listen_fd(const struct server *s, unsigned i);

/* Starts the accepting thread(s). */
int server_start(struct server *s, char *err, size_t errlen);

/* Stops the threads, closes every connection and the listeners. */
void server_stop(struct server *s);

/* After server_stop: the merged counts of all threads. */
void server_stats(const struct server *s, struct server_stats *out);

void server_free(struct server *s);

#endif
