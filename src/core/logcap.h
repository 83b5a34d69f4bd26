/* logcap: a server's output written to a log file that never grows past a
 * cap, keeping the tail. A chatty server must not fill the disk it shares
 * with the results (and then die, and be measured dead): its stdout and
 * stderr go to a pipe that a thread of qbench drains into the file; when
 * the file would pass max bytes, its first part is dropped so that the
 * last max/2 bytes remain (counted in dropped). The file is created 0600,
 * never through a symbolic link. logcap_append is the pure core. */
#ifndef QB_LOGCAP_H
#define QB_LOGCAP_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LOGCAP_MIN 4096

struct logcap {
    int fd;       /* the log file */
    int read_fd;  /* the pipe, qbench's end */
    int write_fd; /* the pipe, the server's end (closed in qbench once it started) */
    uint64_t max, size;
    _Atomic uint64_t dropped;
    pthread_t thread;
    bool thread_running;
    atomic_bool stop;
};

void logcap_init(struct logcap *c);

/* Creates the log at path (0600, O_EXCL|O_NOFOLLOW), the pipe and the
 * thread draining it. max below LOGCAP_MIN is raised to it. */
int logcap_open(struct logcap *c, const char *path, uint64_t max, char *err, size_t errlen);

/* The writer (the server) has its copy of write_fd: close qbench's. */
void logcap_started(struct logcap *c);

/* Drains what the writer left (up to a second after it is gone), ends the
 * thread, closes everything. Safe on an initialised or half-opened logcap. */
void logcap_close(struct logcap *c);

uint64_t logcap_dropped(const struct logcap *c);

/* Appends buf[0..n) to the file fd of *size bytes, keeping it at most max
 * bytes (the tail: the last max/2 once the cap is hit); adds what it
 * dropped to *dropped. -1 with errno on a write error. */
int logcap_append(int fd, uint64_t max, uint64_t *size, uint64_t *dropped, const char *buf,
                  size_t n);

#endif
