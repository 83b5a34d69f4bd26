#include "logcap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "errbuf.h"

#define CHUNK 65536
#define DRAIN_AFTER_STOP_NS (1000 * NS_PER_MS)

static int pwrite_all(int fd, const char *buf, size_t n, off_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, buf, n, at);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

int logcap_append(int fd, uint64_t max, uint64_t *size, uint64_t *dropped, const char *buf,
                  size_t n)
{
    uint64_t keep = max / 2, from_file;
    char *old;
    ssize_t got;

    if (*size + n <= max) {
        if (pwrite_all(fd, buf, n, (off_t)*size) < 0)
            return -1;
        *size += n;
        return 0;
    }
    if (n >= keep) {
        /* the new bytes alone fill the tail */
        *dropped += *size + (n - keep);
        if (ftruncate(fd, 0) < 0 || pwrite_all(fd, buf + n - keep, keep, 0) < 0)
            return -1;
        *size = keep;
        return 0;
    }
    from_file = keep - n;
    if (from_file > *size)
        from_file = *size;
    old = malloc(from_file ? from_file : 1);
    if (!old)
        return -1;
    got = pread(fd, old, from_file, (off_t)(*size - from_file));
    if (got != (ssize_t)from_file || pwrite_all(fd, old, from_file, 0) < 0 ||
        pwrite_all(fd, buf, n, (off_t)from_file) < 0 || ftruncate(fd, (off_t)(from_file + n)) < 0) {
        free(old);
        return -1;
    }
    free(old);
    *dropped += *size - from_file;
    *size = from_file + n;
    return 0;
}

static void *drain(void *arg)
{
    struct logcap *c = arg;
    char *buf = malloc(CHUNK);
    uint64_t stop_at = 0;

    if (!buf)
        return NULL;
    for (;;) {
        struct pollfd pf = {.fd = c->read_fd, .events = POLLIN};
        int r = poll(&pf, 1, 100);

        if (r > 0) {
            ssize_t n = read(c->read_fd, buf, CHUNK);
            uint64_t dropped = 0;

            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
                break;
            if (n > 0) {
                /* a log that cannot be written loses lines, not the run */
                logcap_append(c->fd, c->max, &c->size, &dropped, buf, (size_t)n);
                atomic_fetch_add(&c->dropped, dropped);
            }
        }
        if (atomic_load(&c->stop)) {
            uint64_t now = clock_now_ns();

            if (!stop_at)
                stop_at = now + DRAIN_AFTER_STOP_NS;
            if (r == 0 || now > stop_at)
                break;
        }
    }
    free(buf);
    return NULL;
}

void logcap_init(struct logcap *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = c->read_fd = c->write_fd = -1;
}

int logcap_open(struct logcap *c, const char *path, uint64_t max, char *err, size_t errlen)
{
    int fds[2], rc;
    sigset_t block, old;

    logcap_init(c);
    c->max = max < LOGCAP_MIN ? LOGCAP_MIN : max;
    c->fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (c->fd < 0)
        return errbuf_set(err, errlen, "server log %s: %s", path, strerror(errno));
    if (pipe2(fds, O_CLOEXEC) < 0) {
        rc = errno;
        logcap_close(c);
        return errbuf_set(err, errlen, "server log: pipe: %s", strerror(rc));
    }
    c->read_fd = fds[0];
    c->write_fd = fds[1];
    /* SIGINT/SIGTERM are the main thread's */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = pthread_create(&c->thread, NULL, drain, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        logcap_close(c);
        return errbuf_set(err, errlen, "server log: pthread_create: %s", strerror(rc));
    }
    c->thread_running = true;
    return 0;
}

void logcap_started(struct logcap *c)
{
    if (c->write_fd >= 0)
        close(c->write_fd);
    c->write_fd = -1;
}

void logcap_close(struct logcap *c)
{
    logcap_started(c);
    if (c->thread_running) {
        atomic_store(&c->stop, true);
        pthread_join(c->thread, NULL);
        c->thread_running = false;
    }
    if (c->read_fd >= 0)
        close(c->read_fd);
    if (c->fd >= 0)
        close(c->fd);
    c->read_fd = c->fd = -1;
}

uint64_t logcap_dropped(const struct logcap *c)
{
    return atomic_load(&((struct logcap *)c)->dropped);
}
