/* safefile: output files that are either whole or absent, and that never
 * replace anything but a regular file.
 *
 * qbench often runs as root and writes where a config from a pull request
 * or a command line points it. So an output is checked before any work
 * (safefile_check): not a directory, FIFO, device or symbolic link; not one
 * of the run's own inputs; in a directory where the final rename will be
 * allowed. The data then goes to a temporary file created with
 * O_CREAT|O_EXCL|O_NOFOLLOW under an unpredictable name in the target's
 * directory, is fsync'ed and renamed over the target (safefile_commit).
 * Temporary names are ".<base>.<pid>.qbtmp.<random>"; one left behind by a
 * qbench that was killed (its pid gone, owned by us, a regular file) is
 * removed the next time the same output is checked. While a temporary file
 * exists its path is registered with stopflag, whose second-signal exit
 * removes it. */
#ifndef QB_SAFEFILE_H
#define QB_SAFEFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

struct safefile {
    int fd; /* the open temporary file, -1 when none */
    char tmp[PATH_MAX];
    char path[PATH_MAX];
};

/* Everything that can be known about writing path before the work starts:
 * creates missing parent directories, refuses what is not a regular file
 * (or missing), refuses the same file as any of inputs (n paths), refuses a
 * sticky directory that would forbid replacing another user's file, and
 * creates and removes a temporary file there. Returns 0, or -1 and err.
 * *env_refused tells (when -1) whether the cause is the environment
 * (permissions, read-only or full file system) rather than the request. */
int safefile_check(const char *path, const char *const *inputs, size_t ninputs, int *env_refused,
                   char *err, size_t errlen);

/* True when a and b name the same file, whatever the spelling: compared
 * by device and inode (so through symbolic links in the parents, "./",
 * "..", and hard links); a file that does not exist yet by its directory's
 * device and inode and its name. */
bool safefile_same(const char *a, const char *b);

/* Refuses (-1 and err) when two of the n outputs are the same file; what[]
 * names each ("output", "connections_file") for the message. */
int safefile_distinct(const char *const *paths, const char *const *what, size_t n, char *err,
                      size_t errlen);

/* Who must know the temporary files being written: added is called with a
 * temporary file's path when it is created, removed when it is renamed or
 * deleted (the path stays valid in between). main passes stopflag's
 * functions, so that a forced exit removes them; NULL: nobody. */
void safefile_watch_tmpfiles(void (*added)(const char *tmp), void (*removed)(const char *tmp));

/* Creates the temporary file for path (checks the target again). */
int safefile_open(struct safefile *sf, const char *path, char *err, size_t errlen);

/* Writes all of buf to the temporary file (EINTR and short writes retried). */
int safefile_write(struct safefile *sf, const void *buf, size_t len, char *err, size_t errlen);

/* fsync, close, rename over the target. On failure the temporary file is
 * removed and the target is untouched. */
int safefile_commit(struct safefile *sf, char *err, size_t errlen);

/* Closes and removes the temporary file; the target is untouched. */
void safefile_abort(struct safefile *sf);

/* The whole file at once: open, write all of buf, commit (abort on any
 * failure, so path is untouched). */
int safefile_put(const char *path, const void *buf, size_t len, char *err, size_t errlen);

/* write(2) until all of buf is written; -1 with errno on failure. */
int safefile_write_all(int fd, const void *buf, size_t len);

#endif
