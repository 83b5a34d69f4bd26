/* hook: the user's own eyes inside a run point. hooks.before is a shell
 * command run inside the point's network namespace before the first
 * connect (tcpdump, ss in a loop, a BPF tracer), waited on until it says
 * it is ready, and stopped after the server's drain: what it sees covers
 * every connection of the point.
 *
 * Ready is: a line of its output containing hooks.ready_line (tcpdump
 * prints "listening on"), or the file hooks.ready_file appearing, or, with
 * neither, at once. Not ready within hooks.ready_timeout_ms, or exited
 * before, is an environment error (exit 3) with the end of its output.
 * Its output goes to a log file; it runs in a process group of its own,
 * stopped with SIGTERM, then SIGKILL after a grace period.
 *
 * Placeholders in the command and the ready file, each replaced by a
 * shell-quoted value: {out} (the results path without ".json", then
 * "-p<point>": "results/run-p1", for files kept beside the results),
 * {point}, {port} (the server's), {netns} (a path to the namespace). */
#ifndef QB_HOOK_H
#define QB_HOOK_H

#include <stdbool.h>
#include <stddef.h>

struct hook_vars {
    const char *out; /* "results/run-p1" */
    unsigned point;
    unsigned port;
    const char *netns;
};

/* cmd with every placeholder replaced (quote: shell-quoted, for the
 * command; raw for a file name). -1 on an unknown placeholder or overflow.
 * Pure. */
int hook_expand(const char *cmd, const struct hook_vars *v, bool quote, char *out, size_t len,
                char *err, size_t errlen);

struct hook;

/* Starts cmd (sh -c) with its output in log_path and waits until it is
 * ready; NULL with the cause on failure. */
struct hook *hook_start(const char *cmd, const char *ready_line, const char *ready_file,
                        unsigned timeout_ms, const char *log_path, char *err, size_t errlen);

/* How long it took to be ready, in ms. */
double hook_ready_ms(const struct hook *h);

/* Stops its process group (SIGTERM, grace_ms, SIGKILL) and reaps it;
 * "exited 0", "killed by SIGTERM" ... afterwards. */
void hook_stop(struct hook *h, unsigned grace_ms);
const char *hook_status(const struct hook *h);
void hook_free(struct hook *h);

#endif
