#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"

void netns_init(struct netns *ns)
{
    memset(ns, 0, sizeof(*ns));
    ns->procsys = "/proc/sys";
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;
    int saved;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    saved = errno;
    close(fd);
    errno = saved;
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int loopback_up(char *err, size_t errlen)
{
    struct ifreq ifr;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return errbuf_set(err, errlen, "socket() in the new namespace: %s", strerror(errno));
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, "lo");
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0 ||
        (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr)) < 0) {
        int saved = errno;

        close(fd);
        return errbuf_set(err, errlen, "bringing up lo in the new namespace: %s", strerror(saved));
    }
    close(fd);
    return 0;
}

/* Unprivileged: a user namespace maps us to root inside, which makes the
 * network namespace and its sysctls ours to write. */
static int enter_via_userns(struct netns *ns, char *err, size_t errlen)
{
    char map[64];
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        return -1;
    ns->user_ns = true;
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
        return errbuf_set(err, errlen, "user namespace: writing setgroups: %s", strerror(errno));
    if (write_file("/proc/self/uid_map", map) < 0)
        return errbuf_set(err, errlen, "user namespace: writing uid_map: %s", strerror(errno));
    snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map) < 0)
        return errbuf_set(err, errlen, "user namespace: writing gid_map: %s", strerror(errno));
    return 0;
}

/* Process-wide: the namespace every point's namespace is made from. */
static int outer_fd = -1;
static bool outer_user_ns;

static int enter_outer(struct netns *ns, char *err, size_t errlen)
{
    int first;

    if (outer_fd >= 0) {
        if (setns(outer_fd, CLONE_NEWNET) < 0)
            return errbuf_set(err, errlen,
                              "returning to qbench's outer network namespace: "
                              "setns: %s",
                              strerror(errno));
        ns->user_ns = outer_user_ns;
        return 0;
    }
    err[0] = '\0';
    if (unshare(CLONE_NEWNET) < 0) {
        first = errno;
        if (ns->user_ns || enter_via_userns(ns, err, errlen) < 0) {
            if (err[0])
                return -1;
            return errbuf_set(err, errlen,
                              "cannot create a private network namespace: unshare(CLONE_NEWNET): "
                              "%s, and through a user namespace: %s. Run as root, or allow "
                              "unprivileged user namespaces (sysctl user.max_user_namespaces, "
                              "kernel.unprivileged_userns_clone), or set \"isolate\": false "
                              "with no \"sysctl\"",
                              strerror(first), strerror(errno));
        }
    }
    outer_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (outer_fd < 0)
        return errbuf_set(err, errlen, "opening the outer network namespace: %s", strerror(errno));
    outer_user_ns = ns->user_ns;
    return 0;
}

int netns_enter_private(struct netns *ns, char *err, size_t errlen)
{
    char value[32], ignored[ERRBUF_LEN];

    ns->ehash_entries = 0;
    if (enter_outer(ns, err, errlen) < 0)
        return -1;
    /* the outer namespace is ours: the child hash size is written there,
     * and a kernel without the sysctl (before 6.1) just shares the hash */
    snprintf(value, sizeof(value), "%u", ns->ehash_buckets);
    if (ns->ehash_buckets) {
        char path[128];

        snprintf(path, sizeof(path), "%s/net/ipv4/tcp_child_ehash_entries", ns->procsys);
        (void)write_file(path, value);
    }
    if (unshare(CLONE_NEWNET) < 0)
        return errbuf_set(err, errlen,
                          "cannot create a private network namespace inside "
                          "qbench's outer one: unshare(CLONE_NEWNET): %s",
                          strerror(errno));
    ns->private_ns = true;
    if (netns_sysctl_read(ns, "net.ipv4.tcp_ehash_entries", value, sizeof(value), ignored,
                          sizeof(ignored)) == 0)
        ns->ehash_entries = atoi(value);
    return loopback_up(err, errlen);
}

void netns_path(char *out, size_t len, unsigned long *inode)
{
    struct stat st;

    snprintf(out, len, "/proc/%d/task/%d/ns/net", (int)getpid(), (int)gettid());
    *inode = stat(out, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static void sysctl_path(const struct netns *ns, const char *name, char *out, size_t len)
{
    size_t n = (size_t)snprintf(out, len, "%s/", ns->procsys);

    for (const char *c = name; *c && n + 1 < len; c++)
        out[n++] = *c == '.' ? '/' : *c;
    out[n] = '\0';
}

/* Folds runs of blanks ("32768\t60999\n") into single spaces. */
static void fold_space(char *s)
{
    char *w = s;
    bool blank = false;

    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\n') {
            blank = true;
            continue;
        }
        if (blank)
            *w++ = ' ';
        blank = false;
        *w++ = *s;
    }
    *w = '\0';
}

int netns_sysctl_read(const struct netns *ns, const char *name, char *out, size_t len, char *err,
                      size_t errlen)
{
    char path[256];
    ssize_t n;
    int fd;

    sysctl_path(ns, name, path, sizeof(path));
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errbuf_set(err, errlen, "sysctl %s: cannot read %s: %s", name, path,
                          strerror(errno));
    n = read(fd, out, len - 1);
    close(fd);
    if (n < 0)
        return errbuf_set(err, errlen, "sysctl %s: reading %s: %s", name, path, strerror(errno));
    out[n] = '\0';
    fold_space(out);
    return 0;
}

int netns_sysctl_write(const struct netns *ns, const char *name, const char *value, char *err,
                       size_t errlen)
{
    char path[256], want[128], got[128];

    if (!ns->private_ns)
        return errbuf_set(err, errlen,
                          "sysctl %s: refusing to write outside a private network "
                          "namespace made by qbench",
                          name);
    sysctl_path(ns, name, path, sizeof(path));
    if (write_file(path, value) < 0)
        return errbuf_set(err, errlen, "sysctl %s = %s: writing %s: %s", name, value, path,
                          strerror(errno));
    snprintf(want, sizeof(want), "%s", value);
    fold_space(want);
    if (netns_sysctl_read(ns, name, got, sizeof(got), err, errlen) < 0)
        return -1;
    if (strcmp(want, got) != 0)
        return errbuf_set(err, errlen,
                          "sysctl %s: wrote \"%s\" but it reads back \"%s\" (the "
                          "kernel refused or adjusted it)",
                          name, want, got);
    return 0;
}

struct in_ns {
    int nsfd;
    int (*fn)(void *arg, char *err, size_t errlen);
    void *arg;
    char *err;
    size_t errlen;
    int rc;
};

static void *in_ns_thread(void *p)
{
    struct in_ns *c = p;

    /* a thread of a multithreaded process may change its own network
     * namespace; the others keep theirs */
    if (setns(c->nsfd, CLONE_NEWNET) < 0)
        c->rc = errbuf_set(c->err, c->errlen, "setns(CLONE_NEWNET): %s%s", strerror(errno),
                           errno == EPERM ? " (entering another network namespace needs "
                                            "CAP_SYS_ADMIN over it: run as root)"
                                          : "");
    else
        c->rc = c->fn ? c->fn(c->arg, c->err, c->errlen) : 0;
    return NULL;
}

int netns_run_in(int nsfd, int (*fn)(void *arg, char *err, size_t errlen), void *arg, char *err,
                 size_t errlen)
{
    struct in_ns c = {nsfd, fn, arg, err, errlen, -1};
    pthread_t t;
    int rc = pthread_create(&t, NULL, in_ns_thread, &c);

    if (rc != 0)
        return errbuf_set(err, errlen, "a thread for another namespace: %s", strerror(rc));
    pthread_join(t, NULL);
    return c.rc;
}

int netns_open(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    char why[ERRBUF_LEN];

    if (fd < 0)
        return errbuf_set(err, errlen, "target_netns %s: %s%s", path, strerror(errno),
                          errno == EACCES ? " (a process's namespace is readable by its owner "
                                            "or root)"
                                          : "");
    if (netns_run_in(fd, NULL, NULL, why, sizeof(why)) < 0) {
        close(fd);
        if (strstr(why, strerror(EINVAL)))
            return errbuf_set(err, errlen, "target_netns %s: not a network namespace", path);
        return errbuf_set(err, errlen, "target_netns %s: %s", path, why);
    }
    return fd;
}
