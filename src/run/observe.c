#include "observe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "acceptobs.h"
#include "clock.h"
#include "diag.h"
#include "errbuf.h"
#include "kstats.h"
#include "netns.h"
#include "obsdoc.h"
#include "rundoc.h"
#include "qseries.h"
#include "stopflag.h"

/* What the server's namespace decides a full backlog with. */
static const char *const server_sysctls[] = {
    "net.core.somaxconn",          "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_syncookies",     "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_linear_timeouts",
};

/* A dump of the port's sockets (acceptobs) is taken no more often than
 * every COST_SHARE times its own CPU cost, as the run side does: under 1%
 * of a CPU whatever the established hash it walks. */
#define COST_SHARE 100

struct sampler {
    struct diag *diag;     /* the listeners alone: cheap, every tick */
    struct acceptobs *obs; /* every socket of the port: accepts, the SYN queue */
    uint16_t port;
    uint64_t origin_ns, tick_ns, next_dump_ns;
    struct queue_series accept, syn;
    unsigned limit, listeners;
    uint64_t ticks, ticks_unseen; /* ticks, and those with no listener on the port */
    uint64_t dumps, dump_cpu_ns;
    uint64_t first_poll_ns, last_poll_ns; /* start of the first good dump, end of the last */
};

static uint32_t since_origin_ms(const struct sampler *s, uint64_t now)
{
    return now > s->origin_ns ? (uint32_t)((now - s->origin_ns) / NS_PER_MS) : 0;
}

/* One tick: a full dump of the port when its cost allows (the accept and
 * SYN queues and every child's state at once), else the listeners alone
 * for the accept queue. */
static void sample(struct sampler *s)
{
    uint64_t now = clock_now_ns();
    char ignored[ERRBUF_LEN];

    s->ticks++;
    if (now >= s->next_dump_ns) {
        struct acceptobs_queues q;
        struct acceptobs_stats st;

        if (acceptobs_poll(s->obs, &q, ignored, sizeof(ignored)) == 0) {
            if (!s->first_poll_ns)
                s->first_poll_ns = now;
            s->last_poll_ns = clock_now_ns();
            acceptobs_stats(s->obs, &st);
            s->dumps++;
            s->dump_cpu_ns += st.last_cpu_ns;
            s->next_dump_ns = clock_now_ns() + (st.last_cpu_ns * COST_SHARE > s->tick_ns
                                                    ? st.last_cpu_ns * COST_SHARE - s->tick_ns / 2
                                                    : 0);
            if (q.listeners == 0) {
                s->ticks_unseen++;
                return;
            }
            s->limit = q.accept_limit;
            s->listeners = q.listeners;
            queue_series_add(&s->accept, since_origin_ms(s, now), q.accept_len);
            queue_series_add(&s->syn, since_origin_ms(s, now), q.syn_recv);
            return;
        }
    }
    {
        struct diag_queues q;

        if (diag_queues(s->diag, s->port, false, &q, ignored, sizeof(ignored)) < 0 ||
            q.listeners == 0) {
            s->ticks_unseen++;
            return;
        }
        s->limit = q.accept_limit;
        s->listeners = q.listeners;
        queue_series_add(&s->accept, since_origin_ms(s, now), q.accept_len);
    }
}

/* Sleeps until a CLOCK_MONOTONIC instant in slices, so a stop request is
 * seen within 100 ms. */
static void sleep_until(uint64_t when)
{
    for (;;) {
        uint64_t now = clock_now_ns(), until = when;
        struct timespec ts;

        if (now >= when || stopflag_requested())
            return;
        if (until - now > 100 * NS_PER_MS)
            until = now + 100 * NS_PER_MS;
        ts.tv_sec = (time_t)(until / NS_PER_S);
        ts.tv_nsec = (long)(until % NS_PER_S);
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
}

static json_t *samples_json(const struct queue_series *q)
{
    json_t *a = json_array();

    for (size_t i = 0; i < q->n; i++)
        json_array_append_new(
            a, json_pack("[I, I]", (json_int_t)q->t_ms[i], (json_int_t)q->length[i]));
    return a;
}

static json_t *sysctls_json(void)
{
    struct netns ns;
    json_t *out = json_object();
    char value[128], ignored[ERRBUF_LEN];

    netns_init(&ns);
    for (size_t i = 0; i < sizeof(server_sysctls) / sizeof(server_sysctls[0]); i++) {
        char *end;
        long long n;

        if (netns_sysctl_read(&ns, server_sysctls[i], value, sizeof(value), ignored,
                              sizeof(ignored)) < 0)
            continue;
        n = strtoll(value, &end, 10);
        json_object_set_new(out, server_sysctls[i],
                            *value && *end == '\0' ? json_integer(n) : json_string(value));
    }
    return out;
}

/* µs from the origin, null for "never" (0 in acceptobs). */
static json_t *rel_us(const struct sampler *s, uint64_t ns)
{
    if (!ns)
        return json_null();
    return json_integer((json_int_t)((int64_t)(ns - s->origin_ns) / 1000));
}

/* Every socket of the server's side that the dumps followed, with what
 * became of it (acceptobs.h): what merge joins with the shards' give-ups
 * (fate.h) to tell accepted_late from never_accepted across machines. */
static json_t *accepts_json(const struct sampler *s)
{
    struct acceptobs_stats st;
    size_t n;
    const struct acceptobs_sock *v = acceptobs_socks(s->obs, &n);
    json_t *rows = json_array();

    acceptobs_stats(s->obs, &st);
    for (size_t i = 0; i < n; i++) {
        char addr[INET6_ADDRSTRLEN] = "";

        inet_ntop(v[i].peer.family, v[i].peer.addr, addr, sizeof(addr));
        json_array_append_new(
            rows,
            json_pack("[s, I, I, I, I, I, I, o, o, o, o, o, b]", addr, (json_int_t)v[i].peer.port,
                      (json_int_t)v[i].kind, (json_int_t)v[i].end, (json_int_t)v[i].last_state,
                      (json_int_t)v[i].closed_by_owner, (json_int_t)v[i].synack_retrans,
                      rel_us(s, v[i].before_ns), rel_us(s, v[i].first_ns),
                      rel_us(s, v[i].queued_ns), rel_us(s, v[i].accepted_ns),
                      rel_us(s, v[i].gone_ns), v[i].born_request));
    }
    return json_pack("{s:I, s:I, s:o, s:o, s:I, s:b, s:[s,s,s,s,s,s,s,s,s,s,s,s,s], s:o}", "polls",
                     (json_int_t)st.polls, "errors", (json_int_t)st.errors, "first_poll_us",
                     rel_us(s, s->first_poll_ns), "last_poll_us", rel_us(s, s->last_poll_ns),
                     "gap_us_max", (json_int_t)(st.gap_ns_max / 1000), "complete",
                     st.errors == 0 && !st.truncated, "fields", "peer", "port", "kind", "end",
                     "last_state", "closed_by_owner", "synack_retrans", "before_us", "first_us",
                     "queued_us", "accepted_us", "gone_us", "born_request", "sockets", rows);
}

static json_t *document(const struct observe_opts *o, const struct sampler *s, double origin_epoch,
                        uint64_t elapsed_ms, const char *started, const struct kstats *before,
                        const struct kstats *after, bool interrupted)
{
    struct utsname u;
    char finished[32];
    double span = s->syn.n > 1 ? (double)(s->syn.t_ms[s->syn.n - 1] - s->syn.t_ms[0]) : 0;
    json_t *doc = json_object();

    uname(&u);
    clock_iso8601(finished, sizeof(finished));
    json_object_set_new(doc, "schema", json_string(OBSDOC_SCHEMA));
    json_object_set_new(doc, "qbench_version", json_string(QBENCH_VERSION));
    json_object_set_new(doc, "kernel", json_string(u.release));
    json_object_set_new(doc, "host", json_string(u.nodename));
    json_object_set_new(doc, "started_at", json_string(started));
    json_object_set_new(doc, "finished_at", json_string(finished));
    json_object_set_new(doc, "interrupted", json_boolean(interrupted));
    json_object_set_new(doc, "port", json_integer(o->port));
    json_object_set_new(doc, RD_ORIGIN_EPOCH, json_real(origin_epoch));
    json_object_set_new(doc, RD_ORIGIN_EPOCH_US, json_integer(llround(origin_epoch * 1e6)));
    json_object_set_new(doc, "start_at_given", json_boolean(o->has_start));
    json_object_set_new(doc, "duration_ms", json_integer((json_int_t)o->duration_ms));
    json_object_set_new(doc, "elapsed_ms", json_integer((json_int_t)elapsed_ms));
    json_object_set_new(doc, "ticks", json_integer((json_int_t)s->ticks));
    json_object_set_new(doc, "ticks_without_listener", json_integer((json_int_t)s->ticks_unseen));
    json_object_set_new(doc, "sysctl", sysctls_json());
    json_object_set_new(doc, "accept_queue",
                        json_pack("{s:I, s:I, s:I, s:I, s:s, s:o}", "limit", (json_int_t)s->limit,
                                  "max", (json_int_t)s->accept.max, "listeners",
                                  (json_int_t)s->listeners, "interval_ms",
                                  (json_int_t)(s->tick_ns / NS_PER_MS) * s->accept.stride, "source",
                                  "sock_diag", "samples", samples_json(&s->accept)));
    json_object_set_new(
        doc, "syn_queue",
        json_pack("{s:I, s:f, s:f, s:s, s:o}", "max", (json_int_t)s->syn.max, "interval_ms",
                  s->syn.n > 1 ? span / (double)(s->syn.n - 1) : 0.0, "dump_us",
                  s->dumps ? (double)s->dump_cpu_ns / (double)s->dumps / 1000.0 : 0.0, "source",
                  "sock_diag", "samples", samples_json(&s->syn)));
    json_object_set_new(doc, "accepts", accepts_json(s));
    json_object_set_new(doc, "kernel_scope", json_string("namespace"));
    json_object_set_new(doc, "kernel", kstats_delta_json(before, after));
    return doc;
}

json_t *observe_run(const struct observe_opts *o, bool *interrupted, char *err, size_t errlen)
{
    struct sampler *s = calloc(1, sizeof(*s));
    struct kstats *before = malloc(sizeof(*before)), *after = malloc(sizeof(*after));
    struct timespec rt;
    double real_now, origin_epoch;
    uint64_t mono_now, end, next;
    char started[32];
    json_t *doc = NULL;

    *interrupted = false;
    if (!s || !before || !after) {
        errbuf_set(err, errlen, "out of memory");
        goto out;
    }
    s->diag = diag_open(err, errlen);
    if (!s->diag)
        goto out;
    s->obs = acceptobs_new(o->port, err, errlen);
    if (!s->obs)
        goto out;
    s->port = o->port;
    s->tick_ns = (uint64_t)(o->interval_ms ? o->interval_ms : 10) * NS_PER_MS;
    queue_series_init(&s->accept);
    queue_series_init(&s->syn);
    /* the origin on both clocks: wall clock to align with the shards,
     * monotonic to sample by */
    clock_gettime(CLOCK_REALTIME, &rt);
    mono_now = clock_now_ns();
    real_now = (double)rt.tv_sec + (double)rt.tv_nsec / 1e9;
    /* a start instant already past still names the origin (the shards'),
     * so the samples stay on their timeline; the counters then start late */
    origin_epoch = o->has_start ? o->start_epoch : real_now;
    if (origin_epoch + (double)o->duration_ms / 1000.0 <= real_now) {
        errbuf_set(err, errlen,
                   "--start-at plus --duration-ms is already past: nothing left "
                   "to observe");
        goto out;
    }
    if (origin_epoch >= real_now)
        s->origin_ns = mono_now + (uint64_t)((origin_epoch - real_now) * 1e9);
    else
        s->origin_ns = mono_now - (uint64_t)((real_now - origin_epoch) * 1e9);
    if (!o->quiet && origin_epoch > real_now + 0.5)
        fprintf(stderr, "qbench observe: waiting %.1f s for the start instant\n",
                origin_epoch - real_now);
    sleep_until(s->origin_ns);
    clock_iso8601(started, sizeof(started));
    if (kstats_read(before, "/proc/self/net", err, errlen) < 0)
        goto out;
    end = s->origin_ns + o->duration_ms * NS_PER_MS;
    for (next = clock_now_ns(); !stopflag_requested();) {
        uint64_t now;

        sample(s);
        now = clock_now_ns();
        if (now >= end)
            break;
        next += s->tick_ns;
        if (next < now)
            next = now + s->tick_ns; /* a stalled sampler skips ticks */
        sleep_until(next < end ? next : end);
    }
    *interrupted = stopflag_requested() && clock_now_ns() < end;
    /* a last dump, so what left the queue since is known */
    if (!*interrupted) {
        struct acceptobs_queues q;
        char ignored[ERRBUF_LEN];

        if (acceptobs_poll(s->obs, &q, ignored, sizeof(ignored)) == 0)
            s->last_poll_ns = clock_now_ns();
    }
    if (kstats_read(after, "/proc/self/net", err, errlen) < 0)
        goto out;
    queue_series_flush(&s->accept);
    queue_series_flush(&s->syn);
    doc = document(o, s, origin_epoch, (clock_now_ns() - s->origin_ns) / NS_PER_MS, started, before,
                   after, *interrupted);
out:
    if (s) {
        diag_close(s->diag);
        acceptobs_free(s->obs);
    }
    free(s);
    free(before);
    free(after);
    return doc;
}
