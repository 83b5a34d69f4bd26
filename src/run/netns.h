/* netns: the private network namespace a run point happens in, and the
 * sysctls written there. The host's namespace and sysctls are never
 * written: writes are refused unless this process made the namespace it
 * is in, and every write is read back, since /proc/sys can refuse one
 * silently. */
#ifndef QB_NETNS_H
#define QB_NETNS_H

#include <stdbool.h>
#include <stddef.h>

struct netns {
    bool private_ns;        /* we are in a namespace this process made */
    bool user_ns;           /* made through a user namespace (not root) */
    const char *procsys;    /* "/proc/sys"; tests point it elsewhere */
    unsigned ehash_buckets; /* in: a private established hash of this size (0: shared) */
    int ehash_entries;      /* out: tcp_ehash_entries read back (negative: shared) */
};

void netns_init(struct netns *ns);

/* Moves the calling thread (and threads it creates later) into a fresh
 * network namespace with loopback up. Must be called with no other threads
 * running. Returns -1 with the reason and what to do in err.
 *
 * Every such namespace is made from one outer namespace the process makes
 * on first use (process-wide: its file descriptor is kept, and each call
 * returns to it first). With ns->ehash_buckets, the outer namespace's
 * net.ipv4.tcp_child_ehash_entries is set first, so the new namespace gets
 * an established hash of its own: a sock_diag walk of it then costs the
 * run's own sockets, not the machine's (the host's hash is never
 * written). ns->ehash_entries says what the new namespace got. */
int netns_enter_private(struct netns *ns, char *err, size_t errlen);

/* A path through which other programs can enter the calling thread's
 * network namespace while it lives ("/proc/1234/task/1234/ns/net"), and
 * its inode (what `lsns` and `ip netns identify` show). */
void netns_path(char *out, size_t len, unsigned long *inode);

/* Writes a sysctl ("net.ipv4.tcp_syn_retries") and reads it back. */
int netns_sysctl_write(const struct netns *ns, const char *name, const char *value, char *err,
                       size_t errlen);

/* Reads a sysctl, whitespace folded to single spaces. */
int netns_sysctl_read(const struct netns *ns, const char *name, char *out, size_t len, char *err,
                      size_t errlen);

/* Another network namespace, entered without moving this process: a
 * target's (target_netns, /proc/PID/ns/net or /run/netns/NAME). Opens it,
 * checks it is a network namespace and that this process may enter it
 * (setns needs CAP_SYS_ADMIN over the namespace's owner; root has it).
 * Returns the fd, or -1 with the reason. */
int netns_open(const char *path, char *err, size_t errlen);

/* Runs fn(arg) on a short-lived thread that has joined namespace nsfd, so
 * what fn opens lives there (a netlink socket keeps asking that
 * namespace; /proc/thread-self/net and /proc/sys/net are its own) while
 * the rest of the process stays where it is. Returns fn's result, or -1
 * when the thread could not join. */
int netns_run_in(int nsfd, int (*fn)(void *arg, char *err, size_t errlen), void *arg, char *err,
                 size_t errlen);

#endif
