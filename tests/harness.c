#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "errbuf.h"
#include "netns.h"
#include "results.h"

extern char **environ;

static char dir[64];
static char out_text[65536], err_text[65536];

bool harness_have_netns(void)
{
    int fds[2];
    char ok = 0;
    pid_t pid;

    /* The child answers through a pipe, not its exit status, which a tool
     * such as valgrind may replace with its own. */
    if (pipe(fds) < 0)
        fail_msg("pipe: %s", strerror(errno));
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
            (void)!write(fds[1], "y", 1);
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], &ok, 1) != 1)
        ok = 0;
    close(fds[0]);
    waitpid(pid, NULL, 0);
    return ok == 'y';
}

void harness_require_netns(void)
{
    if (harness_have_netns())
        return;
    if (getenv("QBENCH_REQUIRE_NETNS"))
        fail_msg("cannot create a network namespace here, and QBENCH_REQUIRE_NETNS is set");
    skip();
}

const char *harness_dir(void)
{
    if (!dir[0]) {
        strcpy(dir, "/tmp/qbench-it-XXXXXX");
        if (!mkdtemp(dir))
            fail_msg("mkdtemp: %s", strerror(errno));
    }
    return dir;
}

void harness_cleanup(void)
{
    char cmd[128];

    if (!dir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: could not remove %s\n", dir);
    dir[0] = '\0';
}

const char *harness_path(const char *name)
{
    static char paths[4][256];
    static int slot;
    char *p = paths[slot++ % 4];

    snprintf(p, 256, "%s/%s", harness_dir(), name);
    return p;
}

static int foreign_port, foreign_backlog;

void harness_foreign_listener(int port, int backlog)
{
    foreign_port = port;
    foreign_backlog = backlog;
}

void harness_enter_foreign_listener(void)
{
    struct netns ns;
    char err[ERRBUF_LEN];
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)foreign_port)};
    int fd;

    netns_init(&ns);
    if (netns_enter_private(&ns, err, sizeof(err)) < 0)
        _exit(125);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, foreign_backlog) < 0)
        _exit(124);
}

const char *harness_file(const char *name, const char *text)
{
    static char paths[4][256];
    static int slot;
    char *path = paths[slot++ % 4];
    FILE *f;

    snprintf(path, 256, "%s/%s", harness_dir(), name);
    f = fopen(path, "w");
    if (!f)
        fail_msg("cannot write %s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
    return path;
}

static void slurp(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, len - 1, f) : 0;

    buf[n] = '\0';
    if (f)
        fclose(f);
}

static pid_t spawn(const char *const *args, void (*child_setup)(void))
{
    char *argv[64];
    char out_path[256], err_path[256];
    pid_t pid;
    int n = 0;

    argv[n++] = (char *)QBENCH_BIN;
    for (; *args && n < 63; args++)
        argv[n++] = (char *)*args;
    argv[n] = NULL;
    snprintf(out_path, sizeof(out_path), "%s/.stdout", harness_dir());
    snprintf(err_path, sizeof(err_path), "%s/.stderr", harness_dir());
    pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

        if (out < 0 || err < 0 || dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
            _exit(127);
        if (child_setup)
            child_setup();
        execve(QBENCH_BIN, argv, environ);
        _exit(127);
    }
    return pid;
}

int harness_qbench_wait(pid_t pid)
{
    char path[256];
    int status;

    if (waitpid(pid, &status, 0) < 0)
        fail_msg("waitpid: %s", strerror(errno));
    snprintf(path, sizeof(path), "%s/.stdout", harness_dir());
    slurp(path, out_text, sizeof(out_text));
    snprintf(path, sizeof(path), "%s/.stderr", harness_dir());
    slurp(path, err_text, sizeof(err_text));
    if (WIFSIGNALED(status))
        fail_msg("qbench died of signal %d; stderr:\n%s", WTERMSIG(status), err_text);
    return WEXITSTATUS(status);
}

pid_t harness_qbench_start(const char *const *args)
{
    return spawn(args, NULL);
}

pid_t harness_qbench_start_with(const char *const *args, void (*child_setup)(void))
{
    return spawn(args, child_setup);
}

int harness_qbench_with(const char *const *args, void (*child_setup)(void))
{
    return harness_qbench_wait(spawn(args, child_setup));
}

int harness_qbench(const char *const *args)
{
    return harness_qbench_with(args, NULL);
}

const char *harness_stdout(void)
{
    return out_text;
}

const char *harness_stderr(void)
{
    return err_text;
}

json_t *harness_load(const char *path)
{
    char err[ERRBUF_LEN];
    json_t *doc = results_load(path, err, sizeof(err));

    if (!doc)
        fail_msg("%s\nqbench stderr:\n%s", err, err_text);
    return doc;
}

const json_t *harness_run(const json_t *doc, size_t i)
{
    const json_t *run = json_array_get(json_object_get(doc, "runs"), i);

    if (!run)
        fail_msg("results have no runs[%zu]", i);
    return run;
}

long long harness_int(const json_t *obj, const char *dotted_path)
{
    char buf[256];
    char *save, *seg;
    const json_t *j = obj;

    snprintf(buf, sizeof(buf), "%s", dotted_path);
    for (seg = strtok_r(buf, ".", &save); seg; seg = strtok_r(NULL, ".", &save))
        j = json_object_get(j, seg);
    if (!json_is_number(j))
        fail_msg("results have no number at %s", dotted_path);
    return (long long)json_number_value(j);
}

long long harness_param(const json_t *run, const char *key)
{
    const json_t *j = json_object_get(json_object_get(run, "params"), key);

    if (!json_is_integer(j))
        fail_msg("run has no integer param %s", key);
    return (long long)json_integer_value(j);
}

long long harness_kernel(const json_t *run, const char *counter)
{
    const json_t *j = json_object_get(json_object_get(run, "kernel"), counter);

    return json_is_integer(j) ? (long long)json_integer_value(j) : 0;
}

void harness_assert_outcomes_add_up(const json_t *run)
{
    static const char *const classes[] = {
        "established",      "timeout",       "reset",          "refused",
        "greeting_timeout", "accepted_late", "never_accepted", "error"};
    long long sum = 0;

    for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
        char path[64];

        snprintf(path, sizeof(path), "outcomes.%s", classes[i]);
        sum += harness_int(run, path);
    }
    assert_int_equal(sum, harness_int(run, "outcomes.attempted"));
}

void harness_assert_no_resets_of_qbench(const json_t *run, const char *what)
{
    static const char *const zero[] = {"EstabResets", "TCPAbortOnData", "TCPAbortOnClose",
                                       "TCPAbortOnLinger", "TCPAbortOnMemory"};

    for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
        if (harness_kernel(run, zero[i]))
            fail_msg("%s: %s %lld (OutRsts %lld): qbench reset connections", what, zero[i],
                     harness_kernel(run, zero[i]), harness_kernel(run, "OutRsts"));
}

void harness_adopt_orphans(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        fail_msg("prctl(PR_SET_CHILD_SUBREAPER): %s", strerror(errno));
}

/* The parent of pid from /proc/PID/stat; -1 when it is gone or a zombie
 * (an adopted orphan that died: nothing runs). */
static long parent_of(long pid)
{
    char state = 0;
    char path[64], buf[512], *close_paren;
    FILE *f;
    size_t n;
    long ppid = -1;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the name may hold spaces and parentheses: the state follows the last ')' */
    close_paren = strrchr(buf, ')');
    if (!close_paren || sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2)
        return -1;
    return state == 'Z' ? -1 : ppid;
}

int harness_count_descendants(const char *comm)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    long self = (long)getpid();
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[300], name[64] = "";
        FILE *f;
        long pid;
        int depth = 0;

        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (!fgets(name, sizeof(name), f) || strncmp(name, comm, strlen(comm)) != 0 ||
            name[strlen(comm)] != '\n') {
            fclose(f);
            continue;
        }
        fclose(f);
        pid = parent_of(atol(e->d_name)); /* a zombie of that name runs nothing */
        for (; pid > 1 && pid != self && depth < 64; depth++)
            pid = parent_of(pid);
        if (pid == self)
            n++;
    }
    closedir(d);
    return n;
}

#define MOUNT_UNAVAILABLE 77
static const char *tiny_dir;
static const char *tiny_size;
static unsigned long tiny_flags;

static void mount_tiny_fs(void)
{
    char opts[32];

    snprintf(opts, sizeof(opts), "size=%s", tiny_size);
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("tmpfs", tiny_dir, "tmpfs", tiny_flags, opts) < 0)
        _exit(MOUNT_UNAVAILABLE);
    /* a rescued document lands where the test can see it (and clean it) */
    setenv("TMPDIR", harness_dir(), 1);
}

int harness_qbench_on_tiny_fs(const char *size, unsigned long flags, const char *const *args)
{
    static char tiny[300];
    int rc;

    snprintf(tiny, sizeof(tiny), "%s/tiny", harness_dir());
    mkdir(tiny, 0755);
    tiny_dir = tiny;
    tiny_size = size;
    tiny_flags = flags;
    rc = harness_qbench_with(args, mount_tiny_fs);
    if (rc == MOUNT_UNAVAILABLE) {
        if (getenv("QBENCH_REQUIRE_NETNS"))
            fail_msg("cannot mount a tmpfs in a private mount namespace");
        skip();
    }
    return rc;
}

int harness_teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

double harness_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
