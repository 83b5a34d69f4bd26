#include "hook.h"

#include <errno.h>
#include <fcntl.h>
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
#include "errbuf.h"

#define LOG_SCAN (1 << 20) /* how much of its output is searched for the ready line */

struct hook {
    pid_t pid;
    bool running;
    int status;
    char status_text[64];
    double ready_ms;
};

/* Appends s to out, in single quotes for the shell when quote. */
static int put(char *out, size_t len, size_t *used, const char *s, bool quote)
{
    for (const char *c = quote ? "'" : ""; *c; c++) {
        if (*used + 1 >= len)
            return -1;
        out[(*used)++] = *c;
    }
    for (; *s; s++) {
        const char *piece = quote && *s == '\'' ? "'\\''" : NULL;
        char one[2] = {*s, '\0'};

        for (const char *c = piece ? piece : one; *c; c++) {
            if (*used + 1 >= len)
                return -1;
            out[(*used)++] = *c;
        }
    }
    if (quote) {
        if (*used + 1 >= len)
            return -1;
        out[(*used)++] = '\'';
    }
    out[*used] = '\0';
    return 0;
}

int hook_expand(const char *cmd, const struct hook_vars *v, bool quote, char *out, size_t len,
                char *err, size_t errlen)
{
    size_t used = 0;

    out[0] = '\0';
    for (const char *s = cmd; *s;) {
        char num[24], lit[2] = {*s, '\0'};
        const char *value = NULL;
        size_t n = 0;

        if (*s == '{' && s[1] == '{') {
            lit[0] = '{';
            s += 2;
        } else if (*s == '}' && s[1] == '}') {
            lit[0] = '}';
            s += 2;
        } else if (*s == '{') {
            const char *close = strchr(s, '}');

            n = close ? (size_t)(close - s - 1) : 0;
            if (n == 3 && !strncmp(s + 1, "out", 3))
                value = v->out;
            else if (n == 5 && !strncmp(s + 1, "netns", 5))
                value = v->netns;
            else if (n == 5 && !strncmp(s + 1, "point", 5))
                snprintf(num, sizeof(num), "%u", v->point), value = num;
            else if (n == 4 && !strncmp(s + 1, "port", 4))
                snprintf(num, sizeof(num), "%u", v->port), value = num;
            else
                return errbuf_set(err, errlen,
                                  "unknown placeholder '%.*s' (known: {out}, "
                                  "{point}, {port}, {netns}; {{ and }} for braces)",
                                  close ? (int)(n + 2) : 8, s);
            s = close + 1;
        } else {
            s++;
        }
        if (put(out, len, &used, value ? value : lit, value && quote) < 0)
            return errbuf_set(err, errlen, "longer than %zu characters once expanded", len - 1);
    }
    return 0;
}

static void describe(struct hook *h)
{
    if (WIFEXITED(h->status))
        snprintf(h->status_text, sizeof(h->status_text), "exited %d", WEXITSTATUS(h->status));
    else if (WIFSIGNALED(h->status))
        snprintf(h->status_text, sizeof(h->status_text), "killed by SIG%s",
                 sigabbrev_np(WTERMSIG(h->status)) ? sigabbrev_np(WTERMSIG(h->status)) : "?");
}

/* Whether the log holds the ready line; the end of it in tail either way. */
static bool log_has(const char *path, const char *line, char *tail, size_t taillen)
{
    char *buf = malloc(LOG_SCAN + 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 && buf ? read(fd, buf, LOG_SCAN) : -1;
    bool found = false;

    if (fd >= 0)
        close(fd);
    if (n > 0) {
        buf[n] = '\0';
        found = line && line[0] && strstr(buf, line);
        if (tail) {
            const char *t = n > 300 ? buf + n - 300 : buf;

            snprintf(tail, taillen, "%s", t);
            for (char *c = tail; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f)
                    *c = *c == '\n' ? '|' : ' ';
        }
    } else if (tail) {
        snprintf(tail, taillen, "(empty)");
    }
    free(buf);
    return found;
}

struct hook *hook_start(const char *cmd, const char *ready_line, const char *ready_file,
                        unsigned timeout_ms, const char *log_path, char *err, size_t errlen)
{
    struct hook *h = calloc(1, sizeof(*h));
    uint64_t start = clock_now_ns(), deadline = start + (uint64_t)timeout_ms * NS_PER_MS;
    int log = -1;

    if (!h) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    log = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (log < 0) {
        errbuf_set(err, errlen, "hooks.before: its log %s: %s", log_path, strerror(errno));
        free(h);
        return NULL;
    }
    h->pid = fork();
    if (h->pid < 0) {
        errbuf_set(err, errlen, "hooks.before: fork: %s", strerror(errno));
        close(log);
        free(h);
        return NULL;
    }
    if (h->pid == 0) {
        sigset_t none;
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        setpgid(0, 0);
        /* it ends with qbench, however qbench ends */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
            dup2(log, STDERR_FILENO) < 0)
            _exit(127);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(log);
    setpgid(h->pid, h->pid);
    h->running = true;
    for (;;) {
        char tail[320];
        struct timespec ts = {0, 10 * 1000 * 1000};
        struct stat st;

        if (ready_line && ready_line[0]
                ? log_has(log_path, ready_line, NULL, 0)
                : !(ready_file && ready_file[0]) || stat(ready_file, &st) == 0)
            break;
        if (waitpid(h->pid, &h->status, WNOHANG) == h->pid) {
            h->running = false;
            describe(h);
            log_has(log_path, NULL, tail, sizeof(tail));
            errbuf_set(err, errlen,
                       "hooks.before %s before it was ready; its output (%s) ends: "
                       "%s",
                       h->status_text, log_path, tail);
            hook_free(h);
            return NULL;
        }
        if (clock_now_ns() > deadline) {
            log_has(log_path, NULL, tail, sizeof(tail));
            errbuf_set(err, errlen,
                       "hooks.before was not ready within hooks.ready_timeout_ms "
                       "%u (waiting for %s%s%s); its output (%s) ends: %s",
                       timeout_ms, ready_line && ready_line[0] ? "the line " : "the file ",
                       ready_line && ready_line[0] ? ready_line : ready_file, "", log_path, tail);
            hook_free(h);
            return NULL;
        }
        nanosleep(&ts, NULL);
    }
    h->ready_ms = (double)(clock_now_ns() - start) / 1e6;
    return h;
}

double hook_ready_ms(const struct hook *h)
{
    return h->ready_ms;
}

void hook_stop(struct hook *h, unsigned grace_ms)
{
    uint64_t deadline;

    if (!h || !h->running)
        return;
    kill(-h->pid, SIGTERM);
    deadline = clock_now_ns() + (uint64_t)grace_ms * NS_PER_MS;
    while (clock_now_ns() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};

        if (waitpid(h->pid, &h->status, WNOHANG) == h->pid) {
            h->running = false;
            kill(-h->pid, SIGKILL); /* whatever it left in its group */
            describe(h);
            return;
        }
        nanosleep(&ts, NULL);
    }
    kill(-h->pid, SIGKILL);
    while (waitpid(h->pid, &h->status, 0) < 0 && errno == EINTR)
        ;
    h->running = false;
    describe(h);
}

const char *hook_status(const struct hook *h)
{
    return h->status_text[0] ? h->status_text : "running";
}

void hook_free(struct hook *h)
{
    if (!h)
        return;
    hook_stop(h, 0);
    free(h);
}
