#include "runner.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "clock.h"
#include "acceptobs.h"
#include "capture.h"
#include "diag.h"
#include "endpoint.h"
#include "extserver.h"
#include "hook.h"
#include "fate.h"
#include "errbuf.h"
#include "kstats.h"
#include "netns.h"
#include "records.h"
#include "report.h"
#include "results.h"
#include "server.h"
#include "shard.h"
#include "stopflag.h"

/* Read back into every run, whether the config set them or not: they are
 * what decides the outcome of a full backlog. */
static const char *const reported_sysctls[] = {
    "net.core.somaxconn",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries",
    "net.ipv4.tcp_syn_linear_timeouts",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.ip_local_port_range",
};

#define START_DELAY_NS (20 * NS_PER_MS)
#define FD_RESERVE 128

static json_t *sysctl_value_json(const char *text)
{
    char *end;
    long long n = strtoll(text, &end, 10);

    return *text && *end == '\0' ? json_integer(n) : json_string(text);
}

/* What is read inside the target's namespace (target_netns), on a thread
 * that joined it: the process itself stays in its own. */
static int read_kstats_in_ns(void *arg, char *err, size_t errlen)
{
    return kstats_read(arg, "/proc/thread-self/net", err, errlen);
}

static json_t *sysctl_value_json(const char *text);

static int read_sysctls_in_ns(void *arg, char *err, size_t errlen)
{
    json_t *out = arg;
    struct netns ns;
    char value[128];

    (void)err;
    (void)errlen;
    netns_init(&ns);
    for (size_t i = 0; i < sizeof(reported_sysctls) / sizeof(reported_sysctls[0]); i++)
        if (netns_sysctl_read(&ns, reported_sysctls[i], value, sizeof(value), err, errlen) == 0)
            json_object_set_new(out, reported_sysctls[i], sysctl_value_json(value));
    return 0;
}

/* The sysctls of the namespace as they are now: those the config sets and
 * the ones every result reports. */
static json_t *read_sysctls(const struct config *cfg, const struct netns *ns)
{
    json_t *out = json_object();
    char value[128], ignored[ERRBUF_LEN];

    for (size_t i = 0; i < cfg->nsysctl; i++)
        if (netns_sysctl_read(ns, cfg->sysctl[i].name, value, sizeof(value), ignored,
                              sizeof(ignored)) == 0)
            json_object_set_new(out, cfg->sysctl[i].name, sysctl_value_json(value));
    for (size_t i = 0; i < sizeof(reported_sysctls) / sizeof(reported_sysctls[0]); i++)
        if (netns_sysctl_read(ns, reported_sysctls[i], value, sizeof(value), ignored,
                              sizeof(ignored)) == 0)
            json_object_set_new(out, reported_sysctls[i], sysctl_value_json(value));
    return out;
}

static int apply_sysctls(const struct config *cfg, struct netns *ns, json_t **readback, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < cfg->nsysctl; i++)
        if (netns_sysctl_write(ns, cfg->sysctl[i].name, cfg->sysctl[i].value, err, errlen) < 0)
            return -1;
    *readback = read_sysctls(cfg, ns);
    return 0;
}

/* Compares the sysctls in force now with those read back after writing
 * (written): every one that moved is noted in *changed as
 * {"written": w, when: now}, and said once on stderr. A server may rewrite
 * them inside the namespace; the results then describe what was in force. */
static void check_sysctls(const struct config *cfg, const struct netns *ns, json_t *written,
                          json_t **changed, const char *when, bool quiet, unsigned point)
{
    json_t *now = read_sysctls(cfg, ns);
    const char *key;
    json_t *val;

    json_object_foreach(written, key, val) {
        json_t *v = json_object_get(now, key), *entry;
        bool said;

        if (!v || json_equal(v, val))
            continue;
        if (!*changed)
            *changed = json_object();
        entry = json_object_get(*changed, key);
        if (!entry) {
            entry = json_pack("{s:O}", "written", val);
            json_object_set_new(*changed, key, entry);
        }
        if (json_object_get(entry, when))
            continue;
        /* said once per change: at the end only what moved since the start */
        said = json_object_get(entry, "after_server_start") &&
               json_equal(json_object_get(entry, "after_server_start"), v);
        json_object_set(entry, when, v);
        if (!quiet && !said) {
            char *a = json_dumps(val, JSON_ENCODE_ANY), *b = json_dumps(v, JSON_ENCODE_ANY),
                 msg[ERRBUF_LEN];

            errbuf_set(msg, sizeof(msg),
                       "qbench: warning: point %u: %s was %s when qbench "
                       "wrote it, %s %s: the server changed it (see "
                       "runs[].sysctl_changed)",
                       point, key, a ? a : "?", b ? b : "?",
                       strcmp(when, "at_end") == 0 ? "at the end of the point"
                                                   : "once the server started");
            fprintf(stderr, "%s\n", msg);
            free(a);
            free(b);
        }
    }
    json_decref(now);
}

/* Connections one client thread may hold at once: what the rate and the
 * timeouts need, within the open-file limit (a quarter kept for the
 * built-in server). Says so when the limit will bite, and what to change. */
int runner_check_shard(const struct config *cfg, const struct shard *shard, char *err,
                       size_t errlen)
{
    uint32_t first, count;
    struct timespec rt;

    if (!shard || shard->count <= 1) {
        if (shard && shard->has_start) {
            clock_gettime(CLOCK_REALTIME, &rt);
            if (shard->start_epoch < (double)rt.tv_sec - 1.0)
                return errbuf_set(err, errlen, "--start-at is %.1f s in the past",
                                  (double)rt.tv_sec - shard->start_epoch);
        }
        return 0;
    }
    if (cfg->client.source_count && shard_sources(shard, cfg->client.source_first,
                                                  cfg->client.source_count, &first, &count) < 0)
        return errbuf_set(err, errlen,
                          "client.source_addresses has %u addresses, fewer than "
                          "the %u shards it must be split between",
                          cfg->client.source_count, shard->count);
    clock_gettime(CLOCK_REALTIME, &rt);
    if (shard->has_start && shard->start_epoch < (double)rt.tv_sec - 1.0)
        return errbuf_set(err, errlen,
                          "--start-at is %.1f s in the past: the shards would not "
                          "start together",
                          (double)rt.tv_sec - shard->start_epoch);
    return 0;
}

int runner_check_fds(const struct config *cfg, char *err, size_t errlen)
{
    struct rlimit rl;
    unsigned n = cfg->client.threads ? cfg->client.threads : 1;
    /* the reserve (namespace, loops, timers, /proc files), and at least
     * one connection per client thread after the built-in server's share */
    uint64_t need = FD_RESERVE + (cfg->use_target ? n : (4 * n + 2) / 3);

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return 0;
    return errbuf_set(err, errlen,
                      "the open-file limit (RLIMIT_NOFILE) is %llu, hard limit "
                      "%llu; qbench needs at least %llu to run %u client thread%s "
                      "(raise it: ulimit -n %llu)",
                      (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max,
                      (unsigned long long)need, n, n == 1 ? "" : "s", (unsigned long long)need);
}

static uint64_t pool_per_thread(const struct config *cfg, unsigned nthreads, bool quiet)
{
    struct rlimit rl;
    uint64_t need = client_pool_needed(cfg, nthreads), budget;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
        return need;
    budget = rl.rlim_cur > FD_RESERVE ? rl.rlim_cur - FD_RESERVE : 1;
    if (!cfg->use_target)
        budget = budget * 3 / 4;
    budget /= nthreads;
    if (budget == 0)
        budget = 1;
    if (need <= budget)
        return need;
    if (!quiet)
        fprintf(stderr,
                "qbench: warning: %g connects/s held up to connect_timeout_ms + "
                "greeting_timeout_ms can need %llu sockets per client thread, but the open-file "
                "limit (RLIMIT_NOFILE %llu) allows %llu: connects beyond that count as error "
                "EMFILE. Raise the limit (ulimit -n) or shorten the timeouts.\n",
                cfg->client.rate, (unsigned long long)need, (unsigned long long)rl.rlim_cur,
                (unsigned long long)budget);
    return budget;
}

/* Grows the process's file table once, before the run, to the size the run
 * may reach. Grown later, while threads share it, the kernel waits for an
 * RCU grace period inside socket(): measured here, 6-14 ms stalls at 256,
 * 512 and 1024 open files, which showed up as schedule lag and connect
 * latency whenever connections piled up (a listener that never accepts). */
static void presize_fd_table(uint64_t fds)
{
    struct rlimit rl;
    int base, fd;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && fds > rl.rlim_cur)
        fds = rl.rlim_cur;
    if (fds <= 256 || fds > INT_MAX)
        return; /* the first table holds 256 without a stall worth the bother */
    base = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (base < 0)
        return;
    fd = fcntl(base, F_DUPFD_CLOEXEC, (int)(fds - 1));
    if (fd >= 0)
        close(fd);
    close(base);
}

/* Everything one run point owns, from setup to teardown. */
struct point {
    const struct config *cfg;
    const struct runner_opts *opts;
    struct netns ns;
    struct run_data *rd;
    struct server *srv;
    struct client **clients;
    FILE **records;           /* per client thread, with --connections */
    struct diag *diag;        /* the listener's queues, asked of the kernel */
    struct acceptobs *obs;    /* what a server not ours accepted (server.command, target) */
    int target_ns;            /* target_netns: an fd of the target's namespace, else -1 */
    struct fate_index *fates; /* ... joined with the client's give-ups */
    struct hook *hook;        /* hooks.before */
    struct capture *capture;  /* capture.pcap */
    struct extserver *ext;    /* server.command */
    char dir[PATH_MAX];       /* its {dir} */
    uint16_t port;            /* the listener's port */
    unsigned n, created;
    uint64_t start_ns;
    uint64_t tick_ns;     /* the sampling interval */
    uint64_t next_syn_ns; /* when the SYN queue may be sampled again */
    uint64_t next_obs_ns; /* when the accept observer may dump again */
    int listen_family;    /* the built-in server's (-1 not yet known, 0 both) */
};

static uint32_t since_start_ms(const struct point *pt, uint64_t now)
{
    return now > pt->start_ns ? (uint32_t)((now - pt->start_ns) / NS_PER_MS) : 0;
}

/* One sampling tick: the accept queue from TCP_INFO on the built-in
 * server's listeners (cheapest, and exact for them); for any other
 * listener in the namespace, one sock_diag dump of its port gives the
 * accept queue, the SYN queue and every child socket (acceptobs: what the
 * server accepted, and when). The SYN queue of the built-in server is a
 * sock_diag walk of request sockets alone. Both walk the namespace's
 * established hash, at about 0.2 us a socket (diag.h): every tick while
 * that costs up to about 1% of the tick, else spaced by its cost
 * (diag_walk_spacing_ns); the ticks between ask the listener alone. A
 * target with no local listener leaves every series empty. */
/* Counts one SYN queue sample that cost cost_ns of CPU and spaces the
 * next one by that cost. */
static void syn_sampled(struct point *pt, uint64_t t_ms, unsigned syn_recv, uint64_t cost_ns,
                        uint64_t *next_ns)
{
    pt->rd->has_syn_queue = true;
    pt->rd->syn_dumps++;
    pt->rd->syn_cost_ns += cost_ns;
    queue_series_add(&pt->rd->syn_queue, t_ms, syn_recv);
    *next_ns = clock_now_ns() + diag_walk_spacing_ns(cost_ns, pt->tick_ns);
}

/* The family of the built-in server's listeners (request sockets have
 * their listener's), 0 for both. */
static int builtin_family(const struct point *pt)
{
    int family = -1;

    for (unsigned i = 0; i < server_listeners(pt->srv); i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (getsockname(server_listen_fd(pt->srv, i), (struct sockaddr *)&ss, &len) < 0)
            return 0;
        if (family >= 0 && family != ss.ss_family)
            return 0;
        family = ss.ss_family;
    }
    return family > 0 ? family : 0;
}

static void sample_queues(struct point *pt)
{
    struct run_data *rd = pt->rd;
    uint64_t now = clock_now_ns(), cpu0;
    uint32_t t_ms = since_start_ms(pt, now);
    struct diag_queues q;
    char ignored[ERRBUF_LEN];
    bool syn_due = now >= pt->next_syn_ns;

    if (now > pt->start_ns)
        rd->sample_span_ns = now - pt->start_ns;
    if (pt->srv) {
        unsigned total = 0, limit_sum = 0;

        for (unsigned i = 0; i < server_listeners(pt->srv); i++) {
            unsigned len, limit;

            if (kstats_listen_queue(server_listen_fd(pt->srv, i), &len, &limit) == 0) {
                total += len;
                limit_sum += limit;
            }
        }
        rd->queue_limit = limit_sum;
        queue_series_add(&rd->queue, t_ms, total);
        rd->queue_dumps++;
        if (pt->diag && syn_due) {
            unsigned syn_recv;

            if (pt->listen_family < 0)
                pt->listen_family = builtin_family(pt);
            cpu0 = clock_thread_cpu_ns();
            if (diag_syn_queue(pt->diag, pt->listen_family, pt->port, &syn_recv, ignored,
                               sizeof(ignored)) == 0)
                syn_sampled(pt, t_ms, syn_recv, clock_thread_cpu_ns() - cpu0, &pt->next_syn_ns);
        }
        return;
    }
    if (pt->obs && now >= pt->next_obs_ns) {
        struct acceptobs_queues oq;

        if (acceptobs_poll(pt->obs, &oq, ignored, sizeof(ignored)) == 0 && oq.listeners > 0) {
            struct acceptobs_stats st;

            acceptobs_stats(pt->obs, &st);
            rd->has_queue = true;
            rd->obs_seen_listener = true;
            rd->queue_limit = oq.accept_limit;
            rd->listeners = oq.listeners;
            queue_series_add(&rd->queue, t_ms, oq.accept_len);
            rd->queue_dumps++;
            syn_sampled(pt, t_ms, oq.syn_recv, st.last_cpu_ns, &pt->next_obs_ns);
            return;
        }
    }
    /* no observer dump this tick: the listeners alone (the SYN queue only
     * when nothing observes, and when due: it costs the walk) */
    syn_due = syn_due && !pt->obs;
    cpu0 = clock_thread_cpu_ns();
    if (pt->diag && diag_queues(pt->diag, pt->port, syn_due, &q, ignored, sizeof(ignored)) == 0 &&
        q.listeners > 0) {
        rd->has_queue = true;
        rd->queue_limit = q.accept_limit;
        rd->listeners = q.listeners;
        queue_series_add(&rd->queue, t_ms, q.accept_len);
        rd->queue_dumps++;
        if (syn_due)
            syn_sampled(pt, t_ms, q.syn_recv, clock_thread_cpu_ns() - cpu0, &pt->next_syn_ns);
        else
            rd->listen_cost_ns += clock_thread_cpu_ns() - cpu0;
    }
}

static void print_progress(const struct runner_opts *opts, const json_t *params,
                           struct client **clients, unsigned n, uint64_t elapsed_ns, bool final)
{
    struct client_progress sum = {0, 0, 0}, p;
    char *ps = json_dumps(params, JSON_COMPACT);
    bool tty = isatty(STDERR_FILENO);

    for (unsigned i = 0; i < n; i++) {
        client_progress(clients[i], &p);
        sum.started += p.started;
        sum.established += p.established;
        sum.failed += p.failed;
    }
    char rep[32] = "";

    if (opts->nrepeats > 1)
        snprintf(rep, sizeof(rep), " repeat %u/%u", opts->repeat, opts->nrepeats);
    fprintf(stderr,
            "%sqbench: [%u/%u]%s%s%s %5.1fs attempted %llu established %llu failed %llu "
            "in flight %llu%s",
            tty ? "\r\033[K" : "", opts->point, opts->npoints, rep,
            json_object_size(params) ? " " : "", json_object_size(params) ? ps : "",
            (double)elapsed_ns / 1e9, (unsigned long long)sum.started,
            (unsigned long long)sum.established, (unsigned long long)sum.failed,
            (unsigned long long)(sum.started - sum.established - sum.failed),
            tty && !final ? "" : "\n");
    free(ps);
}

static bool all_done(struct client **clients, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (!client_done(clients[i]))
            return false;
    return true;
}

#define WAIT_SLICE_NS (200 * NS_PER_MS)

/* Watches the run from the main thread until every client thread is done:
 * samples the accept queue, prints progress, passes on an interrupt. */
static void monitor(struct point *pt, const json_t *params)
{
    const struct config *cfg = pt->cfg;
    const struct runner_opts *opts = pt->opts;
    struct client **clients = pt->clients;
    unsigned n = pt->n;
    uint64_t start_ns = pt->start_ns;
    struct run_data *rd = pt->rd;
    uint64_t tick = cfg->sample.accept_queue_ms * NS_PER_MS;
    uint64_t next = start_ns, next_progress = start_ns + NS_PER_S;

    for (;;) {
        /* the first tick may be a --start-at instant days away: sleep in
         * slices, so a signal that lands between the check and the sleep
         * is still seen within one */
        uint64_t wake = next, slice = clock_now_ns() + WAIT_SLICE_NS, now;
        struct timespec ts;

        if (wake > slice)
            wake = slice;
        ts.tv_sec = (time_t)(wake / NS_PER_S);
        ts.tv_nsec = (long)(wake % NS_PER_S);
        if (!stopflag_requested() || rd->interrupted)
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        now = clock_now_ns();
        if (now < next && !stopflag_requested())
            continue;
        sample_queues(pt);
        if (stopflag_requested() && !rd->interrupted) {
            rd->interrupted = true;
            for (unsigned i = 0; i < n; i++)
                client_interrupt(clients[i]);
        }
        if (all_done(clients, n))
            break;
        if (!opts->quiet && now >= next_progress) {
            print_progress(opts, params, clients, n, now > start_ns ? now - start_ns : 0, false);
            next_progress += NS_PER_S;
        }
        next += tick;
        /* a stalled sampler skips ticks, it does not burst; once interrupted
         * the schedule's origin (a --start-at instant, maybe minutes away)
         * is no longer worth waiting for */
        if (next < now || rd->interrupted)
            next = now + tick;
    }
    if (!opts->quiet) {
        uint64_t end = clock_now_ns();

        print_progress(opts, params, clients, n, end > start_ns ? end - start_ns : 0, true);
    }
}

static int start_threads(struct server *srv, struct client **clients, unsigned n, char *err,
                         size_t errlen)
{
    sigset_t block, old;
    int rc = 0;

    /* Threads inherit this mask: SIGINT/SIGTERM reach only the main thread. */
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    if (srv)
        rc = server_start(srv, err, errlen);
    for (unsigned i = 0; rc == 0 && i < n; i++)
        rc = client_start(clients[i], err, errlen);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* After the last client outcome a slow server may still be taking queued
 * connections off its accept queue (each one a client that gave up): the
 * server keeps running until the queue is empty, or for as long as its
 * pace needs to empty it (plus a second), at most DRAIN_MAX_MS. */
#define DRAIN_MAX_MS 30000
/* server.command: SIGTERM, then this long before SIGKILL */
#define EXT_GRACE_MS 3000

/* The drain's bound, for a queue of queued connections taken every
 * pace_ms: what drain() waits at most. */
static uint64_t drain_bound_ms(long queued, int pace_ms)
{
    uint64_t bound_ms;

    if (queued <= 0 || pace_ms < 0)
        return 0;
    bound_ms = 1000 + (uint64_t)queued * (uint64_t)pace_ms * 3 / 2;
    return bound_ms > DRAIN_MAX_MS ? DRAIN_MAX_MS : bound_ms;
}

double runner_overhead_max_s(const struct config *cfg)
{
    /* the fullest accept queue: backlog + 1 per listener (somaxconn caps
     * a larger backlog; -1 means somaxconn: assume the cap) */
    long queued = cfg->server.backlog >= 0 ? (long)cfg->server.backlog + 1 : DRAIN_MAX_MS;
    double s = 0;

    queued *= cfg->server.threads ? (long)cfg->server.threads : 1;
    if (cfg->ncommand) {
        double watch = cfg->client.greeting_timeout_ms / 1000.0;

        s += cfg->server.ready_timeout_ms / 1000.0 + EXT_GRACE_MS / 1000.0;
        if (cfg->client.expect_greeting)
            s += watch > 30.0 ? 30.0 : watch;
    }
    if (!cfg->use_target)
        s += (double)drain_bound_ms(queued, cfg->ncommand ? 100 : cfg->server.accept_delay_ms) /
             1000.0;
    return s;
}

static long queue_now(struct point *pt)
{
    struct diag_queues q;
    char ignored[ERRBUF_LEN];

    if (pt->srv)
        return server_queue_length(pt->srv);
    /* a server not ours: what waits in the SYN queue may still become a
     * connection it accepts (a client's data or FIN completes a handshake
     * whose ACK was dropped), so the drain, and the watch, last for it too */
    if (pt->diag &&
        diag_queues(pt->diag, pt->port, pt->obs != NULL, &q, ignored, sizeof(ignored)) == 0)
        return q.accept_len + (pt->obs ? q.syn_recv : 0);
    return -1;
}

static void drain(struct point *pt)
{
    long queued = queue_now(pt), last = queued;
    uint64_t begin = clock_now_ns(), bound_ms;
    /* the user's server's pace is unknown: give it a fixed bound */
    int pace_ms = pt->srv ? pt->cfg->server.accept_delay_ms : 100;

    pt->rd->drain_begin_ns = begin;
    if (pt->srv)
        server_drain_begin(pt->srv);
    if (queued <= 0 || pace_ms < 0) {
        pt->rd->drain_ms = 0;
        return;
    }
    bound_ms = drain_bound_ms(queued, pace_ms);
    while (!stopflag_requested()) {
        struct timespec ts = {0, (long)pt->cfg->sample.accept_queue_ms * 1000000L};
        long now_len;

        nanosleep(&ts, NULL);
        sample_queues(pt);
        now_len = queue_now(pt);
        /* nothing new arrives now: every connection that left the queue
         * was accepted */
        if (pt->ext && now_len >= 0 && now_len < last)
            pt->rd->ext_accepted_in_drain += (uint64_t)(last - now_len);
        if (now_len >= 0)
            last = now_len;
        if (now_len <= 0 || clock_now_ns() - begin >= bound_ms * NS_PER_MS)
            break;
    }
    pt->rd->drain_ms = (clock_now_ns() - begin) / NS_PER_MS;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Removes dir and everything in it: never following a symbolic link, never
 * crossing into another file system a server may have mounted there. */
static void remove_tree(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int start_command(struct point *pt, struct sockaddr_storage *dst, socklen_t *dstlen,
                         char *err, size_t errlen)
{
    const struct config *cfg = pt->cfg;
    char host[INET6_ADDRSTRLEN], address[INET6_ADDRSTRLEN + 16], name[64];
    struct placeholders ph;
    uint16_t port;
    int fd;

    memcpy(dst, &cfg->endpoint.addr, cfg->endpoint.addrlen);
    *dstlen = cfg->endpoint.addrlen;
    port = ntohs(dst->ss_family == AF_INET ? ((struct sockaddr_in *)dst)->sin_port
                                           : ((struct sockaddr_in6 *)dst)->sin6_port);
    if (port == 0) {
        /* the namespace is fresh: a port the kernel hands out now is free */
        fd = socket(dst->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)dst, *dstlen) < 0 ||
            getsockname(fd, (struct sockaddr *)dst, dstlen) < 0) {
            if (fd >= 0)
                close(fd);
            return errbuf_set(err, errlen, "server.command: choosing a free port: %s",
                              strerror(errno));
        }
        close(fd);
        port = ntohs(dst->ss_family == AF_INET ? ((struct sockaddr_in *)dst)->sin_port
                                               : ((struct sockaddr_in6 *)dst)->sin6_port);
    }
    inet_ntop(dst->ss_family,
              dst->ss_family == AF_INET ? (void *)&((struct sockaddr_in *)dst)->sin_addr
                                        : (void *)&((struct sockaddr_in6 *)dst)->sin6_addr,
              host, sizeof(host));
    snprintf(address, sizeof(address), dst->ss_family == AF_INET ? "%s:%u" : "[%s]:%u", host, port);
    /* the name may hold anything a config allows: only safe characters reach
     * the directory name */
    snprintf(name, sizeof(name), "%.40s", cfg->name);
    for (char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_'))
            *c = '_';
    snprintf(pt->dir, sizeof(pt->dir), "%s/qbench-%s-%u-XXXXXX",
             getenv("TMPDIR") && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp", name,
             pt->opts->point);
    if (!mkdtemp(pt->dir))
        return errbuf_set(err, errlen, "server.command: a scratch directory %s: %s", pt->dir,
                          strerror(errno));
    /* mkdtemp made it 0700: the server's files and log are nobody else's */
    ph = (struct placeholders){address, host, port, cfg->server.backlog, pt->dir};
    pt->ext = extserver_start(cfg, &ph, err, errlen);
    return pt->ext ? 0 : -1;
}

/* The private established hash of a point's namespace: room for every
 * socket the run can hold at once on both ends (a power of two, as the
 * kernel rounds it), never more than the host's usual size. */
static unsigned ehash_buckets(const struct config *cfg, unsigned nthreads)
{
    uint64_t want = client_pool_needed(cfg, nthreads) * nthreads * 2;
    unsigned b = 1024;

    while (b < want && b < (1u << 18))
        b <<= 1;
    return b;
}

static int open_diag_in_ns(void *arg, char *err, size_t errlen)
{
    struct point *pt = arg;

    pt->diag = diag_open(err, errlen);
    if (!pt->diag)
        return -1;
    /* the observer's socket is made here too, so it dumps that namespace */
    pt->obs = acceptobs_new(pt->port, err, errlen);
    return 0;
}

/* hooks.before: the user's own tool in the namespace, ready before the
 * schedule's origin is set, so it sees the first connect. Its files go
 * beside the results: {out} is the results path without ".json", then
 * "-p<point>" (and "-r<repeat>" when repeated). */
static int start_hook(struct point *pt, char *err, size_t errlen)
{
    const struct config *cfg = pt->cfg;
    struct run_data *rd = pt->rd;
    char out[PATH_MAX - 16], file[PATH_MAX], sub[ERRBUF_LEN]; /* room for "-hook.log" */
    char tmpbase[PATH_MAX];
    const char *o = cfg->output;
    struct hook_vars v;

    if (!o[0] || strcmp(o, "-") == 0) {
        snprintf(tmpbase, sizeof(tmpbase), "%s/qbench-%d",
                 getenv("TMPDIR") && getenv("TMPDIR")[0] == '/' ? getenv("TMPDIR") : "/tmp",
                 (int)getpid());
        o = tmpbase;
    }
    if (capture_out_base(o, pt->opts->point, pt->opts->repeat, pt->opts->nrepeats, out,
                         sizeof(out)) < 0)
        return errbuf_set(err, errlen, "hooks.before: {out}: the output path is too long");
    v = (struct hook_vars){out, pt->opts->point, pt->port, rd->netns_path};
    if (hook_expand(cfg->hooks.before, &v, true, rd->hook_cmd, sizeof(rd->hook_cmd), sub,
                    sizeof(sub)) < 0)
        return errbuf_set(err, errlen, "hooks.before: %s", sub);
    file[0] = '\0';
    if (cfg->hooks.ready_file[0] &&
        hook_expand(cfg->hooks.ready_file, &v, false, file, sizeof(file), sub, sizeof(sub)) < 0)
        return errbuf_set(err, errlen, "hooks.ready_file: %s", sub);
    snprintf(rd->hook_log, sizeof(rd->hook_log), "%s-hook.log", out);
    pt->hook = hook_start(rd->hook_cmd, cfg->hooks.ready_line, file, cfg->hooks.ready_timeout_ms,
                          rd->hook_log, err, errlen);
    if (!pt->hook)
        return -1;
    rd->has_hook = true;
    rd->hook_ready_ms = hook_ready_ms(pt->hook);
    return 0;
}

struct capture_in_ns {
    struct point *pt;
    const char *path;
    struct capture_opts o;
};

static int open_capture_here(void *arg, char *err, size_t errlen)
{
    struct capture_in_ns *c = arg;

    c->pt->capture = capture_open(c->path, &c->o, err, errlen);
    return c->pt->capture ? 0 : -1;
}

/* capture.pcap: opened where the server's packets are (the point's
 * namespace, or the target's), filtered to its port, and running before
 * the first connect; the file beside the results (capture_file_name). */
static int start_capture(struct point *pt, char *err, size_t errlen)
{
    const struct config *cfg = pt->cfg;
    char path[PATH_MAX];
    struct capture_in_ns c = {
        pt, path,
        (struct capture_opts){endpoint_is_loopback(&cfg->endpoint) ? "lo" : "any", pt->port,
                              cfg->capture.snaplen, cfg->capture.buffer_kib}};

    if (capture_file_name(cfg->output, pt->opts->point, pt->opts->repeat, pt->opts->nrepeats, path,
                          sizeof(path)) < 0)
        return errbuf_set(err, errlen, "capture.pcap: no file beside the output %s", cfg->output);
    if ((pt->target_ns >= 0 ? netns_run_in(pt->target_ns, open_capture_here, &c, err, errlen)
                            : open_capture_here(&c, err, errlen)) < 0)
        return -1;
    return capture_start(pt->capture, err, errlen);
}

/* The namespace and its sysctls, the server, and the client threads'
 * state, all made before the first connect is due. */
static int point_setup(struct point *pt, char *err, size_t errlen)
{
    const struct config *cfg = pt->cfg;
    struct sockaddr_storage dst;
    socklen_t dstlen;
    uint64_t pool;

    netns_init(&pt->ns);
    pt->ns.ehash_buckets = ehash_buckets(cfg, pt->n);
    if (cfg->isolate && netns_enter_private(&pt->ns, err, errlen) < 0)
        return -1;
    pt->rd->ehash_entries = pt->ns.ehash_entries;
    netns_path(pt->rd->netns_path, sizeof(pt->rd->netns_path), &pt->rd->netns_inode);
    pt->rd->netns_user = pt->ns.user_ns;
    if (cfg->isolate && !pt->opts->quiet)
        fprintf(stderr,
                "qbench: point %u runs in network namespace %s (enter it while it "
                "runs: nsenter -t %d -n%s)\n",
                pt->opts->point, pt->rd->netns_path, (int)getpid(),
                pt->ns.user_ns ? " -U --preserve-credentials" : "");
    if (apply_sysctls(cfg, &pt->ns, &pt->rd->sysctl, err, errlen) < 0)
        return -1;
    if (cfg->ncommand) {
        if (start_command(pt, &dst, &dstlen, err, errlen) < 0)
            return -1;
    } else if (!cfg->use_target) {
        pt->srv = server_new(cfg, pt->opts->records != NULL, err, errlen);
        if (!pt->srv)
            return -1;
        server_address(pt->srv, &dst, &dstlen);
        pt->rd->has_server = true;
        pt->rd->listeners = server_listeners(pt->srv);
    } else {
        memcpy(&dst, &cfg->endpoint.addr, cfg->endpoint.addrlen);
        dstlen = cfg->endpoint.addrlen;
    }
    pt->port = ntohs(dst.ss_family == AF_INET ? ((struct sockaddr_in *)&dst)->sin_port
                                              : ((struct sockaddr_in6 *)&dst)->sin6_port);
    /* sock_diag sees only this namespace: a target elsewhere has no queues
     * here, and an unavailable sock_diag just means no SYN queue series */
    if (cfg->target_netns[0]) {
        /* the target's queues, counters and sysctls are its namespace's */
        pt->target_ns = netns_open(cfg->target_netns, err, errlen);
        if (pt->target_ns < 0 || netns_run_in(pt->target_ns, open_diag_in_ns, pt, err, errlen) < 0)
            return -1;
        pt->rd->server_sysctl = json_object();
        netns_run_in(pt->target_ns, read_sysctls_in_ns, pt->rd->server_sysctl, err, errlen);
        pt->rd->has_server_kernel = true;
    } else {
        pt->diag = diag_open(err, errlen);
        /* a server not ours: what it accepts is seen through the kernel */
        if (!pt->srv && pt->diag)
            pt->obs = acceptobs_new(pt->port, err, errlen);
    }
    if (cfg->capture.pcap && start_capture(pt, err, errlen) < 0)
        return -1;
    if (cfg->hooks.before[0] && start_hook(pt, err, errlen) < 0)
        return -1;
    pt->tick_ns = (uint64_t)cfg->sample.accept_queue_ms * NS_PER_MS;
    pool = pool_per_thread(cfg, pt->n, pt->opts->quiet);
    /* the clients' sockets, as many accepted ones on the server, and the rest */
    presize_fd_table(2 * pt->n * pool + FD_RESERVE);
    pt->start_ns = clock_now_ns() + START_DELAY_NS;
    if (pt->opts->shard && pt->opts->start_at) {
        struct timespec rt;

        clock_gettime(CLOCK_REALTIME, &rt);
        pt->start_ns = shard_start_mono_ns(pt->opts->shard, clock_now_ns(),
                                           (double)rt.tv_sec + (double)rt.tv_nsec / 1e9);
        if (pt->start_ns < clock_now_ns() + START_DELAY_NS)
            pt->start_ns = clock_now_ns() + START_DELAY_NS;
    }
    {
        struct timespec rt;
        uint64_t mono = clock_now_ns();

        clock_gettime(CLOCK_REALTIME, &rt);
        pt->rd->origin_epoch = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 +
                               ((double)pt->start_ns - (double)mono) / 1e9;
    }
    pt->clients = calloc(pt->n, sizeof(*pt->clients));
    pt->records = calloc(pt->n, sizeof(*pt->records));
    if (!pt->clients || !pt->records)
        return errbuf_set(err, errlen, "out of memory");
    for (pt->created = 0; pt->created < pt->n; pt->created++) {
        struct client_setup cs = {&dst,
                                  dstlen,
                                  pt->created,
                                  pt->n,
                                  pt->start_ns,
                                  pool,
                                  true,
                                  -1,
                                  cfg->client.source_first,
                                  cfg->client.source_count,
                                  &cfg->client.source_base};

        if (pt->opts->shard) {
            /* this shard's streams of the whole run, and its source slice */
            cs.stream = shard_stream(pt->opts->shard, pt->created, pt->n);
            cs.nstreams = shard_streams(pt->opts->shard, pt->n);
            shard_sources(pt->opts->shard, cfg->client.source_first, cfg->client.source_count,
                          &cs.source_first, &cs.source_count);
        }

        if (pt->opts->records) {
            /* unlinked at once: nothing is left behind, whatever happens */
            pt->records[pt->created] = tmpfile();
            if (!pt->records[pt->created])
                return errbuf_set(err, errlen,
                                  "a temporary file for the connection records: "
                                  "%s",
                                  strerror(errno));
            cs.records_fd = fileno(pt->records[pt->created]);
        }
        pt->clients[pt->created] = client_new(cfg, &cs, err, errlen);
        if (!pt->clients[pt->created])
            return -1;
    }
    if (tally_init(&pt->rd->tally, pt->start_ns, cfg->sample.timeline_ms * NS_PER_MS, 0) < 0)
        return errbuf_set(err, errlen, "out of memory");
    return 0;
}

/* From the counters before the first connect to the counters after the
 * last outcome. */
static int point_run(struct point *pt, const json_t *params, char *err, size_t errlen)
{
    /* the server is ready: what it may have rewritten is what the run gets */
    check_sysctls(pt->cfg, &pt->ns, pt->rd->sysctl, &pt->rd->sysctl_changed, "after_server_start",
                  pt->opts->quiet, pt->opts->point);
    if (kstats_read(&pt->rd->before, "/proc/self/net", err, errlen) < 0)
        return -1;
    if (pt->target_ns >= 0 &&
        netns_run_in(pt->target_ns, read_kstats_in_ns, &pt->rd->server_before, err, errlen) < 0)
        return -1;
    if (start_threads(pt->srv, pt->clients, pt->n, err, errlen) < 0)
        return -1;
    monitor(pt, params);
    for (unsigned i = 0; i < pt->n; i++)
        client_join(pt->clients[i]);
    if (kstats_read(&pt->rd->after, "/proc/self/net", err, errlen) < 0)
        return -1;
    if (pt->target_ns >= 0 &&
        netns_run_in(pt->target_ns, read_kstats_in_ns, &pt->rd->server_after, err, errlen) < 0)
        return -1;
    /* The server side settles: what a slow server still accepts is part of
     * the experiment (counted in a second window); what closing the
     * listener then resets is qbench's doing, so the counters are read
     * before the server tears down. */
    pt->rd->drain_after = pt->rd->after;
    if ((pt->srv || pt->ext) && !pt->rd->interrupted) {
        drain(pt);
        if (kstats_read(&pt->rd->drain_after, "/proc/self/net", err, errlen) < 0)
            return -1;
    }
    check_sysctls(pt->cfg, &pt->ns, pt->rd->sysctl, &pt->rd->sysctl_changed, "at_end",
                  pt->opts->quiet, pt->opts->point);
    return 0;
}

/* Every client thread's give-ups in one array (offsets: where each
 * thread's begin); *complete false if some could not be kept. */
static int gather_gave_up(struct point *pt, struct story_gave_up **all, size_t *offsets,
                          size_t *total, bool *complete, char *err, size_t errlen)
{
    *total = 0;
    *complete = true;
    for (unsigned i = 0; i < pt->n; i++) {
        size_t n;
        bool ok;

        client_gave_up(pt->clients[i], &n, &ok);
        offsets[i] = *total;
        *total += n;
        *complete = *complete && ok;
    }
    *all = malloc((*total ? *total : 1) * sizeof(**all));
    if (!*all)
        return errbuf_set(err, errlen, "out of memory joining the connections' stories");
    for (unsigned i = 0; i < pt->n; i++) {
        size_t n;
        bool ok;
        struct story_gave_up *g = client_gave_up(pt->clients[i], &n, &ok);

        if (n)
            memcpy(*all + offsets[i], g, n * sizeof(*g));
    }
    return 0;
}

/* The fate of every give-up against a server not ours: the kernel's view
 * (acceptobs) joined with the client's by tuple and time. What it found
 * goes to accept_observed. Connections sharing a tuple are taken latest
 * first, so each claims its own child socket. */
static int cmp_start_desc(const void *pa, const void *pb, void *arg)
{
    const struct story_gave_up *g = arg;
    uint64_t a = g[*(const size_t *)pa].start_ns, b = g[*(const size_t *)pb].start_ns;

    return a > b ? -1 : a < b;
}

static int join_fates(struct point *pt, struct story_gave_up *all, size_t total, char *err,
                      size_t errlen)
{
    struct run_data *rd = pt->rd;
    struct acceptobs_stats st;
    struct fate_view v;
    size_t *order = malloc((total ? total : 1) * sizeof(*order));
    uint64_t causes[FATE_CAUSE_COUNT] = {0}, unknown = 0, before = 0, disagree = 0;
    uint64_t seen[4] = {0}, accepted_total = 0;
    struct histogram *precision = malloc(sizeof(*precision));
    json_t *by_cause = json_object(), *watch;

    if (!order || !precision) {
        free(order);
        free(precision);
        json_decref(by_cause);
        return errbuf_set(err, errlen, "out of memory joining the server's accepts");
    }
    histogram_init(precision);
    acceptobs_stats(pt->obs, &st);
    v.socks = acceptobs_socks(pt->obs, &v.n);
    v.first_poll_ns = st.first_ns;
    v.last_poll_ns = st.last_ns;
    /* the polls' own gaps, not the wait for the server to stop (a final
     * poll after it, server.command only) */
    v.gap_ns_max = rd->obs_gap_ns ? rd->obs_gap_ns : st.gap_ns_max;
    v.complete = st.errors == 0 && !st.truncated;
    pt->fates = fate_index_new(&v);
    if (!pt->fates) {
        free(order);
        free(precision);
        json_decref(by_cause);
        return errbuf_set(err, errlen, "out of memory joining the server's accepts");
    }
    for (size_t i = 0; i < total; i++)
        order[i] = i;
    qsort_r(order, total, sizeof(*order), cmp_start_desc, all);
    for (size_t k = 0; k < total; k++) {
        struct story_gave_up *g = &all[order[k]];
        struct fate_conn c = {
            g->src,
            g->start_ns,
            g->connect_ns,
            0,
            g->release_ns,
            g->client_reset,
            g->late_seen == STORY_LATE_RESET,
            g->late_seen == STORY_LATE_DATA || g->late_seen == STORY_LATE_EOF ? g->late_ns : 0,
            g->unacked_ns,
            g->released_unacked};
        struct fate_result r;

        fate_of(pt->fates, &c, &r);
        seen[g->late_seen < 4 ? g->late_seen : 0]++;
        causes[r.cause]++;
        if (r.verdict == FATE_ACCEPTED) {
            g->outcome = OUTCOME_ACCEPTED_LATE;
            g->accepted = true;
            g->accept_ns = r.accept_ns;
            g->precision_ns = r.precision_ns;
            histogram_record(precision, r.precision_ns / NS_PER_US);
            if (r.accept_ns < g->giveup_ns)
                before++;
            histogram_record(&rd->tally.late_by_us, r.accept_ns > g->giveup_ns
                                                        ? (r.accept_ns - g->giveup_ns) / NS_PER_US
                                                        : 0);
        } else if (r.verdict == FATE_NEVER_ACCEPTED) {
            g->outcome = OUTCOME_NEVER_ACCEPTED;
            /* the client read an answer or a close: only the server's
             * application sends those; say where the two views differ */
            if (g->late_seen == STORY_LATE_DATA || g->late_seen == STORY_LATE_EOF)
                disagree++;
        } else {
            unknown++;
        }
    }
    rd->ext_accepted_in_drain = 0;
    for (size_t i = 0; i < v.n; i++) {
        const struct acceptobs_sock *k = &v.socks[i];
        uint64_t at = k->accepted_ns                    ? k->accepted_ns
                      : k->end == ACCEPTOBS_GONE_QUEUED ? k->gone_ns
                                                        : 0;

        if (k->kind != ACCEPTOBS_CHILD || !at)
            continue;
        accepted_total++;
        if (rd->drain_begin_ns && at >= rd->drain_begin_ns)
            rd->ext_accepted_in_drain++;
    }
    for (int i = 1; i < FATE_CAUSE_COUNT; i++)
        json_object_set_new(by_cause, fate_cause_name((enum fate_cause)i),
                            json_integer((json_int_t)causes[i]));
    watch =
        json_pack("{s:I, s:I, s:I, s:I}", "nothing", (json_int_t)seen[STORY_LATE_NONE], "answer",
                  (json_int_t)seen[STORY_LATE_DATA], "close", (json_int_t)seen[STORY_LATE_EOF],
                  "reset", (json_int_t)seen[STORY_LATE_RESET]);
    rd->accept_observed = json_pack(
        "{s:s, s:b, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:I, s:b, s:I, s:I, s:I, s:I, "
        "s:o, s:o, s:I}",
        "method", "sock_diag: a child's inode (0 queued, else accepted) polled per dump",
        "complete", v.complete, "interval_ms",
        st.polls ? (double)(st.last_ns - st.first_ns) / 1e6 / (double)st.polls : 0.0,
        "precision_ms", precision->count ? (double)precision->max / 1000.0 : 0.0,
        "precision_p50_ms",
        precision->count ? (double)histogram_quantile(precision, 0.5) / 1000.0 : 0.0, "gap_max_ms",
        (double)st.gap_ns_max / 1e6, "polls", (json_int_t)st.polls, "errors", (json_int_t)st.errors,
        "dump_us", st.polls ? (double)st.dump_ns_sum / (double)st.polls / 1000.0 : 0.0,
        "dump_cpu_us", st.polls ? (double)st.cpu_ns_sum / (double)st.polls / 1000.0 : 0.0,
        "cpu_percent",
        st.last_ns > st.first_ns
            ? (double)st.cpu_ns_sum / (double)(st.last_ns - st.first_ns) * 100.0
            : 0.0,
        "sockets_max", (json_int_t)st.socks_max, "truncated", st.truncated, "accepted",
        (json_int_t)accepted_total, "accepted_before_giveup", (json_int_t)before, "unknown",
        (json_int_t)unknown, "client_disagrees", (json_int_t)disagree, "by_cause", by_cause,
        "client_watch", watch, "sockets_seen", (json_int_t)v.n);
    free(order);
    free(precision);
    return 0;
}

/* records: when the kernel showed an established connection accepted. */
static uint64_t accept_of_record(void *arg, const struct client_record *c)
{
    struct fate_conn fc = {
        c->src, c->start_ns, c->connect_ns, c->first_byte_ns, c->end_ns, false, false, 0, 0, false};
    struct fate_result fr;

    fate_of(arg, &fc, &fr);
    return fr.verdict == FATE_ACCEPTED ? fr.accept_ns : 0;
}

/* Gives every connection that gave up waiting for the greeting its final
 * class: with the built-in server by joining its accept log (story), with
 * a server not ours through the kernel (fate); greeting_timeout where
 * neither could see. Then each one's time to its outcome is counted in its
 * class. */
static int join_story(struct point *pt, struct story_log *log, struct story_gave_up **all,
                      size_t *offsets, size_t *total, char *err, size_t errlen)
{
    struct run_data *rd = pt->rd;
    bool complete, logged = !pt->srv || server_take_log(pt->srv, log) == 0;

    if (gather_gave_up(pt, all, offsets, total, &complete, err, errlen) < 0)
        return -1;
    rd->gave_up_complete = complete;
    complete = complete && logged;
    story_log_sort(log);
    /* a partial join would misclassify: greeting_timeout stays */
    rd->story_joined =
        complete && !rd->interrupted && (pt->srv || (pt->obs && rd->obs_seen_listener));
    if (rd->story_joined && pt->srv) {
        uint64_t late = 0, never = 0;

        if (story_classify(log, *all, *total, &late, &never, &rd->tally.late_by_us) < 0)
            return errbuf_set(err, errlen, "out of memory joining the connections' stories");
        for (size_t i = 0; i < *total; i++)
            (*all)[i].outcome = (*all)[i].accepted ? OUTCOME_ACCEPTED_LATE : OUTCOME_NEVER_ACCEPTED;
        for (size_t i = 0; i < log->n; i++)
            if (log->v[i].late && !log->v[i].used)
                rd->late_unmatched++;
    } else if (rd->story_joined && join_fates(pt, *all, *total, err, errlen) < 0) {
        return -1;
    }
    /* each give-up moves to its class, in the timeline row where it ended,
     * and its wait counts in that class's latency */
    for (size_t i = 0; i < *total; i++) {
        struct story_gave_up *g = &(*all)[i];

        if (g->outcome != OUTCOME_GREETING_TIMEOUT)
            tally_reclass(&rd->tally, g->giveup_ns, OUTCOME_GREETING_TIMEOUT,
                          (enum outcome)g->outcome);
        histogram_record(
            &rd->tally.class_us[g->outcome < OUTCOME_COUNT ? g->outcome : OUTCOME_GREETING_TIMEOUT],
            g->giveup_ns > g->due_ns ? (g->giveup_ns - g->due_ns) / NS_PER_US : 0);
    }
    return 0;
}

/* The server's last queue sample and counters, the client threads' tallies
 * merged, and the run_data turned into a runs[] entry. */
static json_t *point_collect(struct point *pt, char *err, size_t errlen)
{
    struct run_data *rd = pt->rd;
    struct rusage ru;

    struct story_log log = {0};
    struct story_gave_up *all = NULL;
    size_t *offsets = calloc(pt->n, sizeof(*offsets)), total = 0;
    json_t *run = NULL;

    if (!offsets) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    if (pt->srv) {
        sample_queues(pt);
        server_stop(pt->srv);
        server_stats(pt->srv, &rd->server);
    }
    if (pt->ext) {
        sample_queues(pt);
        extserver_stop(pt->ext, EXT_GRACE_MS);
        /* its listener is closed now: what was still queued is gone
         * unaccepted (acceptobs marks it so) */
        if (pt->obs) {
            char ignored[ERRBUF_LEN];
            struct acceptobs_stats st;

            acceptobs_stats(pt->obs, &st);
            rd->obs_gap_ns = st.gap_ns_max;
            acceptobs_poll(pt->obs, NULL, ignored, sizeof(ignored));
        }
        rd->has_ext = true;
        snprintf(rd->ext_status, sizeof(rd->ext_status), "%s", extserver_status(pt->ext));
        snprintf(rd->ext_log, sizeof(rd->ext_log), "%s", extserver_log(pt->ext));
        snprintf(rd->ext_dir, sizeof(rd->ext_dir), "%s", pt->dir);
        rd->ext_dir_kept = pt->cfg->server.keep_dir;
        rd->ext_log_dropped = extserver_log_dropped(pt->ext);
        extserver_log_tail(pt->ext, rd->ext_log_tail, sizeof(rd->ext_log_tail));
    }
    /* the user's tool saw the whole point, the server's end included */
    if (pt->hook) {
        hook_stop(pt->hook, EXT_GRACE_MS);
        snprintf(rd->hook_status, sizeof(rd->hook_status), "%s", hook_status(pt->hook));
    }
    /* ... and so did the capture: the drain's late accepts, FINs and RSTs */
    if (pt->capture)
        rd->capture = capture_finish(pt->capture);
    for (unsigned i = 0; i < pt->n; i++) {
        if (tally_merge(&rd->tally, client_tally(pt->clients[i])) < 0) {
            errbuf_set(err, errlen, "out of memory merging results");
            goto out;
        }
        rd->unstarted += client_unstarted(pt->clients[i]);
        /* a full disk for the per-connection file costs that file, never
         * the measurement: noted in the run, the caller drops the file */
        if (client_records_error(pt->clients[i]) && !rd->records_error[0])
            snprintf(rd->records_error, sizeof(rd->records_error),
                     "writing the connection records: %s",
                     strerror(client_records_error(pt->clients[i])));
    }
    capture_judge(rd->capture, tally_attempted(&rd->tally) - rd->tally.outcomes[OUTCOME_ERROR]);
    if (join_story(pt, &log, &all, offsets, &total, err, errlen) < 0)
        goto out;
    /* a target qbench cannot see (no listener in its namespace): its
     * give-ups go into the results, for a merge with an observer beside
     * the server to tell (obsstory) */
    if (pt->cfg->use_target && !rd->interrupted && !rd->story_joined) {
        rd->ngave_up = total;
        rd->gave_up = all;
        rd->origin_ns = pt->start_ns;
    }
    if (pt->opts->records && !rd->records_error[0]) {
        struct records_point rp = {pt->opts->point,
                                   pt->start_ns,
                                   pt->records,
                                   pt->n,
                                   all,
                                   offsets,
                                   rd->story_joined,
                                   pt->srv ? &log : NULL,
                                   pt->opts->repeat,
                                   pt->opts->nrepeats,
                                   pt->fates ? accept_of_record : NULL,
                                   pt->fates};
        uint64_t counts[OUTCOME_COUNT] = {0};

        if (records_add_point(pt->opts->records, &rp, counts, rd->records_error,
                              sizeof(rd->records_error)) < 0 &&
            !rd->records_error[0])
            snprintf(rd->records_error, sizeof(rd->records_error),
                     "writing the connection "
                     "records failed");
    }
    if (rd->unstarted && !rd->interrupted && !pt->opts->quiet)
        fprintf(stderr,
                "qbench: warning: the generator fell behind its schedule: %llu due "
                "connects were never started (see schedule_lag_us; lower client.rate or "
                "add client.threads)\n",
                (unsigned long long)rd->unstarted);
    queue_series_flush(&rd->queue);
    queue_series_flush(&rd->syn_queue);
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        rd->peak_rss_kb = ru.ru_maxrss;
    run = report_run_json(rd);
out:
    story_log_free(&log);
    free(all);
    free(offsets);
    return run;
}

int runner_run_point(const struct config *cfg, const json_t *params, const struct runner_opts *opts,
                     json_t **run, bool *interrupted, char *err, size_t errlen)
{
    struct point pt = {.cfg = cfg,
                       .opts = opts,
                       .n = cfg->client.threads ? cfg->client.threads : 1,
                       .target_ns = -1,
                       .listen_family = -1};
    int rc = -1;

    *run = NULL;
    pt.rd = calloc(1, sizeof(*pt.rd));
    if (!pt.rd)
        return errbuf_set(err, errlen, "out of memory");
    pt.rd->cfg = cfg;
    pt.rd->params = params;
    pt.rd->client_threads = pt.n;
    queue_series_init(&pt.rd->queue);
    queue_series_init(&pt.rd->syn_queue);
    if (point_setup(&pt, err, errlen) == 0 && point_run(&pt, params, err, errlen) == 0) {
        *run = point_collect(&pt, err, errlen);
        *interrupted = pt.rd->interrupted;
        rc = *run ? 0 : -1;
    }
    for (unsigned i = 0; i < pt.created && pt.clients; i++) {
        if (rc < 0)
            client_interrupt(pt.clients[i]);
        client_free(pt.clients[i]);
    }
    free(pt.clients);
    for (unsigned i = 0; pt.records && i < pt.n; i++)
        if (pt.records[i])
            fclose(pt.records[i]);
    free(pt.records);
    diag_close(pt.diag);
    fate_index_free(pt.fates);
    hook_free(pt.hook);
    capture_free(pt.capture);
    acceptobs_free(pt.obs);
    if (pt.target_ns >= 0)
        close(pt.target_ns);
    extserver_free(pt.ext);
    /* the server is gone: its scratch directory goes too, unless asked to
     * stay (a failure's message carries the end of its log) */
    if (pt.dir[0] && !cfg->server.keep_dir)
        remove_tree(pt.dir);
    server_free(pt.srv);
    tally_destroy(&pt.rd->tally);
    json_decref(pt.rd->sysctl);
    json_decref(pt.rd->server_sysctl);
    json_decref(pt.rd->sysctl_changed);
    json_decref(pt.rd->accept_observed);
    json_decref(pt.rd->capture);
    free(pt.rd);
    return rc;
}
