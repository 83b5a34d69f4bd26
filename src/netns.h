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
    bool private_ns;   /* we are in a namespace this process made */
    bool user_ns;      /* made through a user namespace (not root) */
    const char *procsys; /* "/proc/sys"; tests point it elsewhere */
};

void netns_init(struct netns *ns);

/* Moves the calling thread (and threads it creates later) into a fresh
 * network namespace with loopback up. Must be called with no other threads
 * running. Returns -1 with the reason and what to do in err. */
int netns_enter_private(struct netns *ns, char *err, size_t errlen);

/* Writes a sysctl ("net.ipv4.tcp_syn_retries") and reads it back. */
int netns_sysctl_write(const struct netns *ns, const char *name, const char *value, char *err,
                       size_t errlen);

/* Reads a sysctl, whitespace folded to single spaces. */
int netns_sysctl_read(const struct netns *ns, const char *name, char *out, size_t len,
                      char *err, size_t errlen);

#endif
