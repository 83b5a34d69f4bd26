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
 * no RST is ever sent by qbench itself. A connection the client closed or
 * reset while it waited in the queue gets no greeting (it would only draw
 * an RST from the client's kernel) and is logged as a late accept, with
 * the peer's address and port, for story to join with the client's view. */
#ifndef QB_SERVER_H
#define QB_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "outcome.h"
#include "story.h"

struct server;

struct server_stats {
    uint64_t accepted;
    uint64_t accepted_in_drain;                     /* of which after the last client outcome */
    uint64_t synack_retrans[OUTCOME_RETRANS_SLOTS]; /* per accepted connection */
    uint64_t client_gone;                      /* accepted after the client closed or reset it: no
                                                * greeting is sent (it would only draw an RST) */
    uint64_t greeting_failed;                  /* greeting write failed */
    uint64_t accept_errors[OUTCOME_ERR_SLOTS]; /* by errno, e.g. EMFILE */
};

/* Creates the listener(s): bound, listening, not yet accepting. log_all:
 * log every accept for the per-connection records, not only late ones. */
struct server *server_new(const struct config *cfg, bool log_all, char *err, size_t errlen);

/* The address the listener really has (port 0 resolved). */
void server_address(const struct server *s, struct sockaddr_storage *addr, socklen_t *len);

unsigned server_listeners(const struct server *s);
int server_listen_fd(const struct server *s, unsigned i);

/* Starts the accepting thread(s). */
int server_start(struct server *s, char *err, size_t errlen);

/* Stops the threads, closes every connection and the listeners. */
void server_stop(struct server *s);

/* From now on accepts count as accepted_in_drain (the clients are done). */
void server_drain_begin(struct server *s);

/* The accept queue's total length over all listeners now; -1 on error. */
long server_queue_length(const struct server *s);

/* After server_stop: the merged counts of all threads. */
void server_stats(const struct server *s, struct server_stats *out);

/* After server_stop: moves every thread's accept log (late accepts, or all
 * with log_all) into out; -1 if memory ran out (out has what fit). */
int server_take_log(struct server *s, struct story_log *out);

void server_free(struct server *s);

#endif
