#include "extserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "diag.h"
#include "errbuf.h"
#include "logcap.h"
#include "pidinit.h"
#include "safefile.h"

#define STACK_SIZE (256 * 1024)
#define LOG_TAIL 600

struct extserver {
    pid_t pid;
    bool running;
    int status;
    int status_pipe[2]; /* the init reports the server's own wait status on it */
    char status_text[64];
    char log[PATH_MAX];
    char *argv[CONFIG_MAX_ARGS + 1];
    char args[CONFIG_MAX_ARGS][4 * CONFIG_ARG_LEN]; /* expanded: {dir} is long */
    int log_fd;
    int alive[2]; /* qbench holds [1]: the child sees [0] hang up if qbench died */
    char *stack;
    struct logcap cap; /* the server's output, through a pipe, capped */
};

static int write_files(const struct config *cfg, const struct placeholders *p, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < cfg->nfiles; i++) {
        char *tmpl = placeholder_read_file(cfg->files[i].path, err, errlen), *out, path[PATH_MAX];
        size_t cap;
        int rc;

        if (!tmpl) {
            char cause[ERRBUF_LEN];

            snprintf(cause, sizeof(cause), "%s", err);
            return errbuf_set(err, errlen, "server.files: %s", cause);
        }
        cap = strlen(tmpl) * 2 + 4096;
        out = malloc(cap);
        rc = out ? placeholder_expand(tmpl, p, out, cap, err, errlen)
                 : errbuf_set(err, errlen, "no memory");
        free(tmpl);
        snprintf(path, sizeof(path), "%s/%s", p->dir, cfg->files[i].name);
        if (rc == 0)
            rc = safefile_put(path, out, strlen(out), err, errlen);
        /* in a private directory already; private by itself too */
        if (rc == 0)
            chmod(path, 0600);
        free(out);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The first process of the server's PID namespace. */
static int child_main(void *arg)
{
    struct extserver *s = arg;
    sigset_t none;
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

    struct pollfd pf = {.fd = s->alive[0], .events = POLLIN};

    /* dies with qbench, however qbench ends; and its namespace with it. In
     * its own PID namespace getppid() is 0, so whether qbench died before
     * this line is asked of a pipe only qbench holds open. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* a session of its own: a terminal's Ctrl-C reaches qbench, which then
     * stops the server in order, instead of killing both at once */
    setsid();
    close(s->alive[1]); /* only qbench's copy of the write end may keep it open */
    if (poll(&pf, 1, 0) != 0)
        _exit(127);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(s->log_fd, STDOUT_FILENO) < 0 ||
        dup2(s->log_fd, STDERR_FILENO) < 0)
        _exit(127);
    /* pid 1 of the namespace is a minimal init, the server its child: a
     * server without a SIGTERM handler still stops on SIGTERM */
    pidinit_run(s->argv, s->status_pipe[1]);
}

static void describe(struct extserver *s)
{
    s->status = pidinit_status(s->status_pipe[0], s->status);
    if (WIFEXITED(s->status))
        snprintf(s->status_text, sizeof(s->status_text), "exited %d", WEXITSTATUS(s->status));
    else if (WIFSIGNALED(s->status))
        snprintf(s->status_text, sizeof(s->status_text), "killed by SIG%s",
                 sigabbrev_np(WTERMSIG(s->status)) ? sigabbrev_np(WTERMSIG(s->status)) : "?");
}

/* The last lines of the server's log, on one line, for an error message. */
static void log_tail(const struct extserver *s, char *out, size_t len)
{
    char buf[LOG_TAIL + 1];
    int fd = open(s->log, O_RDONLY | O_CLOEXEC);
    off_t end = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
    ssize_t n;

    out[0] = '\0';
    if (end < 0) {
        if (fd >= 0)
            close(fd);
        return;
    }
    lseek(fd, end > LOG_TAIL ? end - LOG_TAIL : 0, SEEK_SET);
    n = read(fd, buf, LOG_TAIL);
    close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            buf[i] = buf[i] == '\n' ? '|' : ' ';
    /* the end is what matters: cut from the front */
    snprintf(out, len, "%s", (size_t)n >= len ? buf + (size_t)n - (len - 1) : buf);
}

static void stop_process(struct extserver *s, unsigned grace_ms);

struct extserver *extserver_start(const struct config *cfg, const struct placeholders *p, char *err,
                                  size_t errlen)
{
    struct extserver *s = calloc(1, sizeof(*s));
    struct diag *d = NULL;
    uint64_t deadline;
    char sub[ERRBUF_LEN];

    if (!s) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    s->log_fd = -1;
    s->alive[0] = s->alive[1] = -1;
    logcap_init(&s->cap);
    s->status_pipe[0] = s->status_pipe[1] = -1;
    for (size_t i = 0; i < cfg->ncommand; i++) {
        if (placeholder_expand(cfg->command[i], p, s->args[i], sizeof(s->args[i]), sub,
                               sizeof(sub)) < 0) {
            errbuf_set(err, errlen, "server.command[%zu]: %s", i, sub);
            goto fail;
        }
        s->argv[i] = s->args[i];
    }
    if (write_files(cfg, p, err, errlen) < 0)
        goto fail;
    snprintf(s->log, sizeof(s->log), "%s/server.log", p->dir);
    if (logcap_open(&s->cap, s->log, cfg->server.log_max_bytes, err, errlen) < 0)
        goto fail;
    s->log_fd = s->cap.write_fd;
    d = diag_open(err, errlen);
    if (!d)
        goto fail;
    s->stack = malloc(STACK_SIZE);
    if (!s->stack) {
        errbuf_set(err, errlen, "out of memory");
        goto fail;
    }
    if (pipe2(s->status_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
        errbuf_set(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    if (pipe2(s->alive, O_CLOEXEC) < 0) {
        errbuf_set(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    /* its own PID namespace: when its first process ends, the kernel ends
     * every process in it, workers and all */
    s->pid = clone(child_main, s->stack + STACK_SIZE, CLONE_NEWPID | SIGCHLD, s);
    if (s->pid < 0) {
        errbuf_set(err, errlen, "server.command: cannot start %s: clone: %s", s->argv[0],
                   strerror(errno));
        goto fail;
    }
    s->running = true;
    /* only the server holds the pipe's write end now: its end is the log's end */
    logcap_started(&s->cap);
    s->log_fd = -1;
    close(s->status_pipe[1]); /* the init's copy is the one that reports */
    s->status_pipe[1] = -1;
    deadline = clock_now_ns() + (uint64_t)cfg->server.ready_timeout_ms * NS_PER_MS;
    for (;;) {
        struct diag_queues q;
        struct timespec ts = {0, 10 * 1000 * 1000};
        char tail[LOG_TAIL + 1];

        if (waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
            s->running = false;
            describe(s);
            log_tail(s, tail, sizeof(tail));
            errbuf_set(err, errlen,
                       "server.command %s %s before listening on port %u; its "
                       "log%s%s%s ends: %s",
                       s->argv[0], s->status_text, p->port, cfg->server.keep_dir ? " (" : "",
                       cfg->server.keep_dir ? s->log : "", cfg->server.keep_dir ? ")" : "",
                       tail[0] ? tail : "(empty)");
            goto fail;
        }
        if (diag_queues(d, (uint16_t)p->port, false, &q, sub, sizeof(sub)) == 0 && q.listeners > 0)
            break;
        if (clock_now_ns() > deadline) {
            log_tail(s, tail, sizeof(tail));
            errbuf_set(err, errlen,
                       "server.command %s did not listen on port %u within "
                       "server.ready_timeout_ms %u; its log%s%s%s ends: %s",
                       s->argv[0], p->port, cfg->server.ready_timeout_ms,
                       cfg->server.keep_dir ? " (" : "", cfg->server.keep_dir ? s->log : "",
                       cfg->server.keep_dir ? ")" : "", tail[0] ? tail : "(empty)");
            extserver_stop(s, 0);
            goto fail;
        }
        nanosleep(&ts, NULL);
    }
    diag_close(d);
    return s;

fail:
    diag_close(d);
    extserver_free(s);
    return NULL;
}

void extserver_stop(struct extserver *s, unsigned grace_ms)
{
    if (!s)
        return;
    stop_process(s, grace_ms);
    logcap_close(&s->cap);
}

static void stop_process(struct extserver *s, unsigned grace_ms)
{
    uint64_t deadline;

    if (!s->running)
        return;
    kill(s->pid, SIGTERM);
    deadline = clock_now_ns() + (uint64_t)grace_ms * NS_PER_MS;
    while (clock_now_ns() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};

        if (waitpid(s->pid, &s->status, WNOHANG) == s->pid) {
            s->running = false;
            describe(s);
            return;
        }
        nanosleep(&ts, NULL);
    }
    /* pid 1 of its namespace ignores SIGTERM unless it handles it; SIGKILL
     * from here always lands, and takes the namespace with it */
    kill(s->pid, SIGKILL);
    while (waitpid(s->pid, &s->status, 0) < 0 && errno == EINTR)
        ;
    s->running = false;
    describe(s);
}

const char *extserver_status(const struct extserver *s)
{
    return s->status_text[0] ? s->status_text : "running";
}

void extserver_log_tail(const struct extserver *s, char *out, size_t len)
{
    log_tail(s, out, len);
    errbuf_printable(out);
}

uint64_t extserver_log_dropped(const struct extserver *s)
{
    return logcap_dropped(&s->cap);
}

const char *extserver_log(const struct extserver *s)
{
    return s->log;
}

int extserver_pid(const struct extserver *s)
{
    return s->pid;
}

void extserver_free(struct extserver *s)
{
    if (!s)
        return;
    extserver_stop(s, 0);
    for (int i = 0; i < 2; i++) {
        if (s->alive[i] >= 0)
            close(s->alive[i]);
        if (s->status_pipe[i] >= 0)
            close(s->status_pipe[i]);
    }
    free(s->stack);
    free(s);
}
