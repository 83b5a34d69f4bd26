/* extserver: the user's own server (server.command), run inside the run
 * point's private namespace after its sysctls are written and read back.
 *
 * The command is an argv array with placeholders (placeholder.h);
 * server.files are templates (with the same placeholders) written into {dir}, a scratch directory
 * made for the point. The server starts as the first process of a PID namespace of its own, with
 * PR_SET_PDEATHSIG: when it exits, or qbench dies in any way (even SIGKILL), the kernel kills
 * everything it started; no process outlives qbench. It runs in a session of its own, so a
 * terminal's Ctrl-C reaches qbench only, and qbench stops it in order. Its stdout and stderr go
 * through a pipe to {dir}/server.log (0600), capped at server.log_max_bytes with the tail kept (see
 * logcap). Ready is when sock_diag shows a listener on the port; at the end it gets SIGTERM, a
 * grace period, then SIGKILL. The namespace's pid 1 is a minimal init (pidinit.h) that forwards
 * signals to the server and reaps, so a server without a SIGTERM handler stops on SIGTERM too; the
 * exit status reported is the server's own. */
#ifndef QB_EXTSERVER_H
#define QB_EXTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "placeholder.h"

struct extserver;

/* Writes the files, starts the command, waits until it listens on port
 * (cfg's server.ready_timeout_ms). -1 (environment: exit 3) with the cause
 * and the tail of the server's log when it exits early or never listens. */
struct extserver *extserver_start(const struct config *cfg, const struct placeholders *p, char *err,
                                  size_t errlen);

/* Stops the whole process tree (SIGTERM, grace_ms, SIGKILL) and reaps it.
 * The exit status is kept for extserver_status. */
void extserver_stop(struct extserver *s, unsigned grace_ms);

/* After stop: "exited 0", "killed by SIGKILL" ...; and the log's path. */
const char *extserver_status(const struct extserver *s);
const char *extserver_log(const struct extserver *s);
int extserver_pid(const struct extserver *s);
/* Bytes of the server's output dropped from the front of its log by the cap. */
uint64_t extserver_log_dropped(const struct extserver *s);
/* The log's last few hundred bytes on one line, safe for a terminal. */
void extserver_log_tail(const struct extserver *s, char *out, size_t len);

void extserver_free(struct extserver *s);

#endif
