/* topology: the shape of a real deployment, made inside namespaces a test
 * owns: a client "machine" (the test process's own private namespace) and
 * a server "machine" (a second namespace) joined by a veth pair,
 * vc0 198.18.0.2/24 on the client side and vs0 198.18.0.1/24 on the
 * server side (198.18.0.0/15 is the benchmarking range: nothing leaves the
 * namespaces). Optionally a tc qdisc on vc0 (htb or tbf; this kernel has no
 * netem) so the path is not loopback-fast. Needs ip(8) and tc(8) from
 * iproute2. */
#ifndef QB_TOPOLOGY_H
#define QB_TOPOLOGY_H

#include <stdbool.h>
#include <sys/types.h>

#define TOPO_SERVER_ADDR "198.18.0.1"
#define TOPO_CLIENT_ADDR "198.18.0.2"

struct topology {
    pid_t holder;  /* a process that keeps the server namespace alive */
    int server_ns; /* an fd of the server's namespace */
    pid_t server;  /* the test's listener, if started */
};

/* Moves the test process into a private network namespace of its own (the
 * client's; call once, before any thread). false: not possible here. */
bool topology_enter_client(void);

/* Makes the server namespace and the veth pair; qdisc is NULL or a tc
 * qdisc spec for vc0 ("tbf rate 1mbit burst 4kb latency 200ms").
 * Fails the test on error. */
void topology_make(struct topology *t, const char *qdisc);
/* Kills the listener and the holder: the server namespace and the veth
 * pair go with them. */
void topology_destroy(struct topology *t);

/* Writes a sysctl in the namespace nsfd (-1: the test's own). */
void topology_sysctl(int nsfd, const char *name, const char *value);

/* A listener that is not qbench's: in namespace nsfd (-1: own), on
 * addr:port with listen(backlog), accepting one connection every
 * accept_ms, writing one byte to it and closing it; it ends by itself
 * after lifetime_s. */
pid_t topology_listener(int nsfd, const char *addr, int port, int backlog, int accept_ms,
                        int lifetime_s);
/* The same, writing a line per accept to log: "<wall-clock µs since the
 * epoch> <peer address> <peer port>", the referee for what qbench says
 * it accepted. */
pid_t topology_listener_logged(int nsfd, const char *addr, int port, int backlog, int accept_ms,
                               int lifetime_s, const char *log);

/* One accept from such a log. */
struct topology_accept {
    long long epoch_us;
    char addr[64];
    int port;
};

/* Reads the log: how many accepts (at most max) went into v. */
size_t topology_accepts(const char *log, struct topology_accept *v, size_t max);

/* For harness_qbench_start_with: the child enters the namespace set by
 * topology_target_ns first. */
void topology_target_ns(int nsfd);
void topology_enter_target(void);

/* The output of a command run in the test's namespace (static buffer). */
const char *topology_capture(const char *const *argv);

#endif
