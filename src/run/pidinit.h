/* pidinit: a minimal init for the first process of a PID namespace.
 *
 * The kernel drops a signal sent to a namespace's pid 1 for which it has
 * no handler, so a server run as pid 1 that installs none (python3 -m
 * http.server, many scripts) ignores SIGTERM and can only be killed: its
 * shutdown, and what it still accepts while it drains, is never seen.
 * pidinit is pid 1 instead: it starts the server as its child, forwards
 * every terminating signal it gets to it (SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2), reaps every process that ends in the
 * namespace, and when the server ends, reports the server's own wait
 * status and exits (the kernel then ends whatever is left). */
#ifndef QB_PIDINIT_H
#define QB_PIDINIT_H

/* Runs argv under the init; never returns. status_fd (or -1) receives the
 * server's wait status as an int when it ends; the init's exit code is the
 * server's exit code, or 128 + the signal that killed it. Called in the new
 * namespace's first process, with stdio already where the server's goes. */
_Noreturn void pidinit_run(char *const argv[], int status_fd);

/* The wait status the init reported on the read end of status_fd's pipe,
 * or fallback (the init's own) when it reported none. */
int pidinit_status(int status_read_fd, int fallback);

#endif
