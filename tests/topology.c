#include "topology.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "netns.h"

static int target_fd = -1;

bool topology_enter_client(void)
{
    struct netns ns;
    char err[ERRBUF_LEN];

    netns_init(&ns);
    return netns_enter_private(&ns, err, sizeof(err)) == 0;
}

static void enter(int nsfd)
{
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
        _exit(121);
}

/* Runs argv (PATH lookup) in namespace nsfd; fails the test unless it
 * exits 0. */
static void run_in(int nsfd, const char *const *argv)
{
    pid_t pid = fork();
    int status;

    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        enter(nsfd);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char line[512] = "";

        for (const char *const *a = argv; *a; a++)
            snprintf(line + strlen(line), sizeof(line) - strlen(line), "%s ", *a);
        fail_msg("%s: exit %d (needs iproute2: ip, tc)", line,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
}

/* ip link del NAME in this namespace, quietly: absent is the usual case. */
static void remove_stale_link(const char *name)
{
    pid_t pid = fork();

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);

        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        execlp("ip", "ip", "link", "del", name, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

void topology_make(struct topology *t, const char *qdisc)
{
    int ready[2];
    char c, pidtext[32], path[64];

    memset(t, 0, sizeof(*t));
    t->server_ns = -1;
    /* the server's namespace gets an established hash of its own (made
     * from ours), so the observer's dumps walk only its sockets and can
     * come every tick, as for a run point (KERNEL.md); best effort */
    {
        int fd = open("/proc/sys/net/ipv4/tcp_child_ehash_entries", O_WRONLY);

        if (fd >= 0) {
            if (write(fd, "1024", 4) != 4)
                (void)0;
            close(fd);
        }
    }
    if (pipe(ready) < 0)
        fail_msg("pipe: %s", strerror(errno));
    t->holder = fork();
    if (t->holder == 0) {
        /* a namespace of its own, kept while this process waits (at most
         * ten minutes, should the test die without killing it) */
        close(ready[0]);
        /* ends with the test, even one that failed half-way */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (unshare(CLONE_NEWNET) < 0)
            _exit(120);
        if (write(ready[1], "x", 1) != 1)
            _exit(119);
        alarm(600);
        for (;;)
            pause();
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1)
        fail_msg("the server namespace could not be made");
    close(ready[0]);
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)t->holder);
    t->server_ns = open(path, O_RDONLY | O_CLOEXEC);
    if (t->server_ns < 0)
        fail_msg("%s: %s", path, strerror(errno));
    snprintf(pidtext, sizeof(pidtext), "%d", (int)t->holder);
    /* a test that failed half-way (cmocka leaves by longjmp, past its
     * topology_destroy) leaves its pair behind in this namespace: the next
     * test must not fail on "File exists" for what an earlier one did */
    remove_stale_link("vc0");
    run_in(-1, (const char *[]){"ip", "link", "add", "vc0", "type", "veth", "peer", "name", "vs0",
                                "netns", pidtext, NULL});
    run_in(-1, (const char *[]){"ip", "addr", "add", TOPO_CLIENT_ADDR "/24", "dev", "vc0", NULL});
    run_in(-1, (const char *[]){"ip", "link", "set", "vc0", "up", NULL});
    run_in(t->server_ns,
           (const char *[]){"ip", "addr", "add", TOPO_SERVER_ADDR "/24", "dev", "vs0", NULL});
    run_in(t->server_ns, (const char *[]){"ip", "link", "set", "vs0", "up", NULL});
    run_in(t->server_ns, (const char *[]){"ip", "link", "set", "lo", "up", NULL});
    if (qdisc) {
        const char *argv[32] = {"tc", "qdisc", "add", "dev", "vc0", "root"};
        char copy[256], *save = NULL;
        size_t n = 6;

        snprintf(copy, sizeof(copy), "%s", qdisc);
        for (char *w = strtok_r(copy, " ", &save); w && n < 31; w = strtok_r(NULL, " ", &save))
            argv[n++] = w;
        argv[n] = NULL;
        run_in(-1, argv);
    }
}

void topology_destroy(struct topology *t)
{
    if (t->server > 0) {
        kill(t->server, SIGKILL);
        waitpid(t->server, NULL, 0);
        t->server = 0;
    }
    if (t->holder > 0) {
        kill(t->holder, SIGKILL);
        waitpid(t->holder, NULL, 0);
        t->holder = 0;
    }
    if (t->server_ns >= 0)
        close(t->server_ns);
    t->server_ns = -1;
    /* the veth pair goes with the server's namespace; wait until the
     * kernel has removed the client's end before another is made */
    for (int i = 0; i < 200 && access("/proc/self/net/dev", R_OK) == 0; i++) {
        FILE *f = fopen("/proc/self/net/dev", "r");
        char line[256];
        bool found = false;

        while (f && fgets(line, sizeof(line), f))
            if (strstr(line, "vc0:"))
                found = true;
        if (f)
            fclose(f);
        if (!found)
            break;
        usleep(10000);
    }
}

void topology_sysctl(int nsfd, const char *name, const char *value)
{
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        char path[256];
        int fd;

        enter(nsfd);
        snprintf(path, sizeof(path), "/proc/sys/%s", name);
        for (char *p = path + 10; *p; p++)
            if (*p == '.')
                *p = '/';
        fd = open(path, O_WRONLY);
        if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
            _exit(1);
        _exit(0);
    }
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("sysctl %s=%s could not be written in the test's namespace", name, value);
}

pid_t topology_listener(int nsfd, const char *addr, int port, int backlog, int accept_ms,
                        int lifetime_s)
{
    return topology_listener_logged(nsfd, addr, port, backlog, accept_ms, lifetime_s, NULL);
}

pid_t topology_listener_logged(int nsfd, const char *addr, int port, int backlog, int accept_ms,
                               int lifetime_s, const char *log)
{
    int ready[2];
    char c;
    pid_t pid;

    if (pipe(ready) < 0)
        fail_msg("pipe: %s", strerror(errno));
    pid = fork();
    if (pid == 0) {
        struct sockaddr_storage ss = {0};
        socklen_t len;
        int fd, one = 1, logfd = -1;
        time_t end = time(NULL) + lifetime_s;

        close(ready[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        enter(nsfd);
        if (strchr(addr, ':')) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

            a6->sin6_family = AF_INET6;
            a6->sin6_port = htons((uint16_t)port);
            inet_pton(AF_INET6, addr, &a6->sin6_addr);
            len = sizeof(*a6);
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

            a4->sin_family = AF_INET;
            a4->sin_port = htons((uint16_t)port);
            inet_pton(AF_INET, addr, &a4->sin_addr);
            len = sizeof(*a4);
        }
        fd = socket(ss.ss_family, SOCK_STREAM, 0);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0)
            _exit(118);
        if (log && (logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644)) < 0)
            _exit(116);
        if (write(ready[1], "x", 1) != 1)
            _exit(117);
        while (time(NULL) < end) {
            struct timespec ts = {accept_ms / 1000, (long)(accept_ms % 1000) * 1000000L};
            struct sockaddr_storage peer;
            socklen_t plen = sizeof(peer);
            int cfd = accept(fd, (struct sockaddr *)&peer, &plen);

            if (cfd >= 0 && logfd >= 0) {
                struct timespec now;
                char line[128], host[INET6_ADDRSTRLEN] = "?";
                int n;
                unsigned pport = 0;

                clock_gettime(CLOCK_REALTIME, &now);
                if (peer.ss_family == AF_INET) {
                    inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, host,
                              sizeof(host));
                    pport = ntohs(((struct sockaddr_in *)&peer)->sin_port);
                } else if (peer.ss_family == AF_INET6) {
                    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, host,
                              sizeof(host));
                    pport = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
                }
                n = snprintf(line, sizeof(line), "%lld %s %u\n",
                             (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000, host, pport);
                if (write(logfd, line, (size_t)n) != n)
                    _exit(115);
            }
            if (cfd >= 0) {
                /* the greeting; a client already gone just resets it */
                (void)send(cfd, "g", 1, MSG_NOSIGNAL);
                close(cfd);
            }
            nanosleep(&ts, NULL);
        }
        _exit(0);
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 1)
        fail_msg("the listener on %s:%d did not start", addr, port);
    close(ready[0]);
    return pid;
}

size_t topology_accepts(const char *log, struct topology_accept *v, size_t max)
{
    FILE *f = fopen(log, "r");
    size_t n = 0;

    if (!f)
        fail_msg("%s: %s", log, strerror(errno));
    while (n < max && fscanf(f, "%lld %63s %d", &v[n].epoch_us, v[n].addr, &v[n].port) == 3)
        n++;
    fclose(f);
    return n;
}

void topology_target_ns(int nsfd)
{
    target_fd = nsfd;
}

void topology_enter_target(void)
{
    enter(target_fd);
}

const char *topology_capture(const char *const *argv)
{
    static char out[16384];
    int p[2];
    pid_t pid;
    size_t n = 0;
    ssize_t r;

    out[0] = '\0';
    if (pipe(p) < 0)
        return out;
    pid = fork();
    if (pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        close(p[0]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    while (n < sizeof(out) - 1 && (r = read(p[0], out + n, sizeof(out) - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(p[0]);
    waitpid(pid, NULL, 0);
    return out;
}
