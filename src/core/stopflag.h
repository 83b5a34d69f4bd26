/* stopflag: qbench's process-wide state, all of it signal-related: the
 * request to stop, and the paths of the temporary files being written
 * (main has safefile report them here).
 *
 * SIGINT/SIGTERM must reach code running in several threads and event loops,
 * and a signal handler can only touch a sig_atomic_t, so the request to stop
 * lives here, documented as global. The first signal asks the run to wind
 * down (stop scheduling, give in-flight connections a second, write results);
 * the second exits at once with status 130, after removing the temporary
 * results file if one is being written, so no half-written file is left. */
#ifndef QB_STOPFLAG_H
#define QB_STOPFLAG_H

#include <stdbool.h>

/* Installs the SIGINT/SIGTERM handlers. */
void stopflag_install(void);

/* True once SIGINT or SIGTERM arrived. */
bool stopflag_requested(void);

/* Tells the handler a temporary file to remove if a second signal forces
 * an immediate exit (up to four at once: the results and the records);
 * the string must stay valid until it is removed again. */
void stopflag_add_tmpfile(const char *path);
void stopflag_remove_tmpfile(const char *path);

#endif
