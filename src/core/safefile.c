#include "safefile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"

#define TMP_TAG ".qbtmp."
/* The part of the base name a temporary name carries, so that
 * ".<base>.<pid>.qbtmp.<16 hex>" stays within NAME_MAX. */
#define TMP_BASE_MAX 200

/* path split into its directory ("." when none) and base name. */
static int split(const char *path, char *dir, size_t dirlen, const char **base)
{
    const char *slash = strrchr(path, '/');

    if (!slash) {
        snprintf(dir, dirlen, ".");
        *base = path;
        return 0;
    }
    if ((size_t)(slash - path) >= dirlen)
        return -1;
    if (slash == path)
        snprintf(dir, dirlen, "/");
    else
        snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
    *base = slash + 1;
    return 0;
}

/* A file's identity: its own device and inode when it exists, else its
 * directory's and its name. */
struct file_id {
    bool exists;
    dev_t dev;
    ino_t ino;
    char name[NAME_MAX + 1];
};

static int file_id(const char *path, struct file_id *id)
{
    char dir[PATH_MAX];
    const char *base;
    struct stat st;

    memset(id, 0, sizeof(*id));
    if (stat(path, &st) == 0) {
        id->exists = true;
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        return 0;
    }
    if (split(path, dir, sizeof(dir), &base) < 0 || stat(dir, &st) < 0 || strlen(base) > NAME_MAX)
        return -1;
    id->dev = st.st_dev;
    id->ino = st.st_ino;
    snprintf(id->name, sizeof(id->name), "%s", base);
    return 0;
}

bool safefile_same(const char *a, const char *b)
{
    struct file_id ia, ib;

    if (strcmp(a, b) == 0)
        return true;
    if (file_id(a, &ia) < 0 || file_id(b, &ib) < 0)
        return false;
    return ia.exists == ib.exists && ia.dev == ib.dev && ia.ino == ib.ino &&
           strcmp(ia.name, ib.name) == 0;
}

int safefile_distinct(const char *const *paths, const char *const *what, size_t n, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (paths[i] && paths[j] && safefile_same(paths[i], paths[j]))
                return errbuf_set(err, errlen,
                                  "%s %s and %s %s are the same file: one would "
                                  "replace the other",
                                  what[i], paths[i], what[j], paths[j]);
    return 0;
}

static int mkdir_parents(const char *path, char *err, size_t errlen)
{
    char buf[PATH_MAX];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return errbuf_set(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* The prefix every temporary file for base starts with: ".<base>." */
static void tmp_prefix(const char *base, char *out, size_t len)
{
    snprintf(out, len, ".%.*s.", TMP_BASE_MAX, base);
}

/* Removes temporary files of ours for base in dir whose writer is gone:
 * only regular files owned by this user, named exactly as qbench names
 * them, whose pid no longer exists. Anything else is left alone. */
static void remove_stale(const char *dir, const char *base)
{
    char prefix[TMP_BASE_MAX + 4];
    size_t plen;
    DIR *d;
    struct dirent *e;

    tmp_prefix(base, prefix, sizeof(prefix));
    plen = strlen(prefix);
    d = opendir(dir);
    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        const char *rest = e->d_name + plen, *tag;
        char *end;
        long pid;
        struct stat st;

        if (strncmp(e->d_name, prefix, plen) != 0)
            continue;
        pid = strtol(rest, &end, 10);
        tag = end;
        if (end == rest || pid <= 0 || strncmp(tag, TMP_TAG, strlen(TMP_TAG)) != 0 ||
            strlen(tag + strlen(TMP_TAG)) != 16)
            continue;
        if (pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != geteuid())
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
}

static int create_tmp(const char *dir, const char *base, char *tmp, size_t tmplen)
{
    char prefix[TMP_BASE_MAX + 4];

    tmp_prefix(base, prefix, sizeof(prefix));
    for (int attempt = 0; attempt < 64; attempt++) {
        unsigned long long r;
        int fd;

        if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
            return -1;
        if ((size_t)snprintf(tmp, tmplen, "%s/%s%ld%s%016llx", dir, prefix, (long)getpid(), TMP_TAG,
                             r) >= tmplen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

static bool is_env_errno(int e)
{
    return e == EACCES || e == EPERM || e == EROFS || e == ENOSPC || e == EDQUOT || e == EIO;
}

/* What is at path now: refuses anything that is not a regular file. */
static int check_target(const char *path, const char *dir, const char *base, const struct stat *dst,
                        int *env, char *err, size_t errlen)
{
    struct stat st;

    *env = 0;
    if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
        return errbuf_set(err, errlen, "%s: names a directory, not a file", path);
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        *env = is_env_errno(errno);
        return errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode))
        return errbuf_set(err, errlen, "%s: is a directory; name a file in it", path);
    if (S_ISLNK(st.st_mode))
        return errbuf_set(err, errlen,
                          "%s: is a symbolic link; qbench replaces only regular "
                          "files, so give the path it points to",
                          path);
    if (!S_ISREG(st.st_mode))
        return errbuf_set(err, errlen,
                          "%s: is a %s, not a regular file; qbench writes only "
                          "regular files",
                          path,
                          S_ISFIFO(st.st_mode)   ? "FIFO"
                          : S_ISSOCK(st.st_mode) ? "socket"
                          : S_ISCHR(st.st_mode)  ? "character device"
                                                 : "block device");
    /* In a sticky directory only the file's owner, the directory's owner
     * or CAP_FOWNER may replace the file: rename would fail at the end. */
    if (dst && (dst->st_mode & S_ISVTX) && geteuid() != 0 && st.st_uid != geteuid() &&
        dst->st_uid != geteuid()) {
        *env = 1;
        return errbuf_set(err, errlen,
                          "%s: belongs to uid %u in a sticky directory (%s): it "
                          "cannot be replaced by uid %u; choose another output",
                          path, (unsigned)st.st_uid, dir, (unsigned)geteuid());
    }
    return 0;
}

int safefile_check(const char *path, const char *const *inputs, size_t ninputs, int *env_refused,
                   char *err, size_t errlen)
{
    char dir[PATH_MAX], tmp[PATH_MAX];
    const char *base;
    struct stat dst;
    int fd, env = 0;

    *env_refused = 0;
    if (*path == '\0')
        return errbuf_set(err, errlen, "the output path is empty");
    if (split(path, dir, sizeof(dir), &base) < 0)
        return errbuf_set(err, errlen, "%s: path too long", path);
    if (*base && mkdir_parents(path, err, errlen) < 0) {
        *env_refused = 1;
        return -1;
    }
    if (stat(dir, &dst) < 0) {
        *env_refused = is_env_errno(errno);
        return errbuf_set(err, errlen, "%s: directory %s: %s", path, dir, strerror(errno));
    }
    if (check_target(path, dir, base, &dst, &env, err, errlen) < 0) {
        *env_refused = env;
        return -1;
    }
    for (size_t i = 0; i < ninputs; i++)
        if (inputs[i] && safefile_same(path, inputs[i]))
            return errbuf_set(err, errlen,
                              "%s: is the input %s itself; writing it would "
                              "destroy the input",
                              path, inputs[i]);
    remove_stale(dir, base);
    fd = create_tmp(dir, base, tmp, sizeof(tmp));
    if (fd < 0) {
        *env_refused = 1;
        return errbuf_set(err, errlen, "cannot write next to %s: %s", path, strerror(errno));
    }
    close(fd);
    unlink(tmp);
    return 0;
}

/* Process-wide, like the signal handler they serve: set once at start. */
static void (*tmp_added)(const char *tmp);
static void (*tmp_removed)(const char *tmp);

void safefile_watch_tmpfiles(void (*added)(const char *tmp), void (*removed)(const char *tmp))
{
    tmp_added = added;
    tmp_removed = removed;
}

int safefile_open(struct safefile *sf, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *base;
    struct stat dst;
    int env;

    sf->fd = -1;
    sf->tmp[0] = '\0';
    if (snprintf(sf->path, sizeof(sf->path), "%s", path) >= (int)sizeof(sf->path) ||
        split(path, dir, sizeof(dir), &base) < 0)
        return errbuf_set(err, errlen, "%s: path too long", path);
    if (mkdir_parents(path, err, errlen) < 0)
        return -1;
    if (check_target(path, dir, base, stat(dir, &dst) == 0 ? &dst : NULL, &env, err, errlen) < 0)
        return -1;
    remove_stale(dir, base);
    sf->fd = create_tmp(dir, base, sf->tmp, sizeof(sf->tmp));
    if (sf->fd < 0) {
        sf->tmp[0] = '\0';
        return errbuf_set(err, errlen, "cannot write next to %s: %s", path, strerror(errno));
    }
    if (tmp_added)
        tmp_added(sf->tmp);
    return 0;
}

int safefile_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int safefile_write(struct safefile *sf, const void *buf, size_t len, char *err, size_t errlen)
{
    if (safefile_write_all(sf->fd, buf, len) < 0)
        return errbuf_set(err, errlen, "cannot write %s: %s", sf->path, strerror(errno));
    return 0;
}

void safefile_abort(struct safefile *sf)
{
    if (sf->fd >= 0)
        close(sf->fd);
    if (sf->tmp[0])
        unlink(sf->tmp);
    if (tmp_removed)
        tmp_removed(sf->tmp);
    sf->fd = -1;
    sf->tmp[0] = '\0';
}

int safefile_commit(struct safefile *sf, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *base;
    struct stat dst;
    int rc = 0, env;

    if (fsync(sf->fd) < 0)
        rc = errbuf_set(err, errlen, "cannot write %s: fsync: %s", sf->path, strerror(errno));
    if (close(sf->fd) < 0 && rc == 0)
        rc = errbuf_set(err, errlen, "cannot write %s: close: %s", sf->path, strerror(errno));
    sf->fd = -1;
    /* What was checked before a long run may have changed since. */
    if (rc == 0 && split(sf->path, dir, sizeof(dir), &base) == 0)
        rc = check_target(sf->path, dir, base, stat(dir, &dst) == 0 ? &dst : NULL, &env, err,
                          errlen);
    if (rc == 0 && rename(sf->tmp, sf->path) < 0)
        rc = errbuf_set(err, errlen, "cannot write %s: rename: %s", sf->path, strerror(errno));
    if (rc < 0)
        unlink(sf->tmp);
    if (tmp_removed)
        tmp_removed(sf->tmp);
    sf->tmp[0] = '\0';
    return rc;
}

int safefile_put(const char *path, const void *buf, size_t len, char *err, size_t errlen)
{
    struct safefile sf;

    if (safefile_open(&sf, path, err, errlen) < 0)
        return -1;
    if (safefile_write(&sf, buf, len, err, errlen) < 0) {
        safefile_abort(&sf);
        return -1;
    }
    return safefile_commit(&sf, err, errlen);
}
