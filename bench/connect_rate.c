/* connect-rate: how close qbench comes to what this machine's kernel can do.
 *
 * In one private network namespace, it measures
 *   1. the maximum sustained connects/s of bench/yardstick (plain epoll), with
 *      one client thread and with as many as qbench uses (one per CPU), and
 *      of qbench at an unreachable target rate, all with the same number of
 *      connections in flight; qbench's ratio to the better yardstick, CPU per
 *      connection and peak RSS;
 *   2. connect latency p50/p99 of both at a low fixed rate;
 *   3. qbench's schedule lag at half its maximum rate.
 *
 *   connect-rate [--seconds S] [--inflight N] [--low-rate R]
 * then every qbench mode (greeting on/off, close graceful/reset) with the
 * counters each moved, and bench/minimal, the independent two-thread shape
 * (each thread its own listener, RST both ends), against qbench's fastest.
 * Paths of the programs come from the build (QBENCH_BIN, YARDSTICK_BIN,
 * MINIMAL_BIN). */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "netns.h"
#include "results.h"

extern char **environ;

struct measure {
    double rate;   /* connections per second */
    double cpu_us; /* user + system */
    double connections;
    long maxrss_kb;
    double p50_us, p99_us;
    double lag_p99_us;
    double failed;
    double out_rsts, estab_resets, abort_on_data, tw_recycled; /* kernel counters */
};

static char tmpdir[] = "/tmp/qbench-bench-XXXXXX";

/* Runs argv with stdout to a file; returns its rusage and the output. */
static int run(char *const argv[], struct rusage *ru, char *out, size_t len)
{
    char path[128];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/stdout", tmpdir);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "connect-rate: cannot run %s\n", argv[0]);
        return -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    if (wait4(pid, &status, 0, ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "connect-rate: %s failed (status %d)\n", argv[0], status);
        return -1;
    }
    f = fopen(path, "r");
    n = f ? fread(out, 1, len - 1, f) : 0;
    out[n] = '\0';
    if (f)
        fclose(f);
    return 0;
}

static double kv(const char *text, const char *key)
{
    char pat[64];
    const char *p;

    snprintf(pat, sizeof(pat), "%s=", key);
    p = strstr(text, pat);
    return p ? atof(p + strlen(pat)) : -1;
}

/* A measurement from the key=value lines yardstick and minimal print. */
static void from_kv(const char *out, struct measure *m)
{
    m->rate = kv(out, "rate");
    m->connections = kv(out, "connections");
    m->failed = kv(out, "failed");
    m->cpu_us = kv(out, "cpu_us");
    m->maxrss_kb = (long)kv(out, "maxrss_kb");
    m->p50_us = kv(out, "connect_p50_us");
    m->p99_us = kv(out, "connect_p99_us");
    m->lag_p99_us = -1;
}

static int yardstick(const char *mode, const char *value, long clients, double seconds,
                     struct measure *m)
{
    char secs[32], nclients[32], out[4096];
    char *argv[] = {(char *)YARDSTICK_BIN, "--seconds", secs,     (char *)mode,
                    (char *)value,         "--clients", nclients, NULL};
    struct rusage ru;

    snprintf(secs, sizeof(secs), "%g", seconds);
    snprintf(nclients, sizeof(nclients), "%ld", clients);
    if (run(argv, &ru, out, sizeof(out)) < 0)
        return -1;
    from_kv(out, m);
    return 0;
}

static int minimal(long threads, double seconds, long inflight, struct measure *m)
{
    char secs[32], nthreads[32], nin[32], out[4096];
    char *argv[] = {(char *)MINIMAL_BIN, "--seconds", secs, "--threads", nthreads,
                    "--inflight",        nin,         NULL};
    struct rusage ru;

    snprintf(secs, sizeof(secs), "%g", seconds);
    snprintf(nthreads, sizeof(nthreads), "%ld", threads);
    snprintf(nin, sizeof(nin), "%ld", inflight < 1 ? 1 : inflight);
    if (run(argv, &ru, out, sizeof(out)) < 0)
        return -1;
    from_kv(out, m);
    return 0;
}

static double num(const json_t *j, const char *a, const char *b, const char *c)
{
    j = json_object_get(j, a);
    if (b)
        j = json_object_get(j, b);
    if (c)
        j = json_object_get(j, c);
    return json_is_number(j) ? json_number_value(j) : -1;
}

/* qbench in this namespace (isolate: false), its built-in server as target,
 * with the server's greeting on or off and the client closing gracefully or
 * with RST. */
static int qbench_mode(double rate, double seconds, long inflight, bool greeting, const char *close,
                       const char *sources, struct measure *m)
{
    char cfg[256], res[256], out[4096], err[ERRBUF_LEN];
    char *argv[] = {(char *)QBENCH_BIN, "--config", cfg, "--output", res, "--quiet", NULL};
    struct rusage ru;
    json_t *doc;
    const json_t *r;
    FILE *f;

    snprintf(cfg, sizeof(cfg), "%s/qbench.json", tmpdir);
    snprintf(res, sizeof(res), "%s/result.json", tmpdir);
    f = fopen(cfg, "w");
    if (!f)
        return -1;
    fprintf(f,
            "{\"name\": \"connect-rate\", \"isolate\": false,"
            " \"server\": {\"backlog\": 4096, \"accept_delay_ms\": 0, \"greeting\": %s},"
            " \"client\": {\"rate\": %.0f, \"duration_ms\": %.0f, \"max_in_flight\": %ld,"
            "             \"connect_timeout_ms\": 10000, \"greeting_timeout_ms\": 10000,"
            "             \"close\": \"%s\"%s%s%s}}\n",
            greeting ? "true" : "false", rate, seconds * 1000, inflight, close,
            sources ? ", \"source_addresses\": \"" : "", sources ? sources : "",
            sources ? "\"" : "");
    fclose(f);
    if (run(argv, &ru, out, sizeof(out)) < 0)
        return -1;
    doc = results_load(res, err, sizeof(err));
    if (!doc) {
        fprintf(stderr, "connect-rate: %s\n", err);
        return -1;
    }
    r = json_array_get(json_object_get(doc, "runs"), 0);
    m->connections = num(r, "outcomes", "established", NULL);
    m->failed = num(r, "outcomes", "attempted", NULL) - m->connections;
    m->rate = m->connections / (num(r, "elapsed_ms", NULL, NULL) / 1000.0);
    m->cpu_us = (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
                (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec;
    m->maxrss_kb = ru.ru_maxrss;
    m->p50_us = num(r, "latency_us", "connect", "p50");
    m->p99_us = num(r, "latency_us", "connect", "p99");
    m->lag_p99_us = num(r, "schedule_lag_us", "p99", NULL);
    m->out_rsts = num(r, "kernel", "OutRsts", NULL);
    m->estab_resets = num(r, "kernel", "EstabResets", NULL);
    m->abort_on_data = num(r, "kernel", "TCPAbortOnData", NULL);
    m->tw_recycled = num(r, "kernel", "TWRecycled", NULL);
    json_decref(doc);
    return 0;
}

static int qbench(double rate, double seconds, long inflight, struct measure *m)
{
    return qbench_mode(rate, seconds, inflight, true, "graceful", NULL, m);
}

static double zero(double v)
{
    return v < 0 ? 0 : v;
}

static void row(const char *name, const struct measure *m)
{
    printf("  %-12s %12.0f %10.0f %14.2f %12.1f\n", name, m->rate, m->failed,
           m->cpu_us / m->connections, (double)m->maxrss_kb / 1024.0);
}

int main(int argc, char **argv)
{
    double seconds = 5, low_rate = 1000;
    long inflight = 64;
    struct measure y1, yn, qm, yl, ql, qh, modes[4], mn, qfast;
    static const struct {
        const char *name;
        bool greeting;
        const char *close;
    } mode[4] = {{"greeting, graceful", true, "graceful"},
                 {"greeting, reset", true, "reset"},
                 {"no greeting, graceful", false, "graceful"},
                 {"no greeting, reset", false, "reset"}};
    const struct measure *ym;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    struct netns ns;
    char err[ERRBUF_LEN], cmd[128];
    char inflight_s[32], rate_s[32], label[32];

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--inflight") == 0)
            inflight = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--low-rate") == 0)
            low_rate = atof(argv[i + 1]);
        else {
            fprintf(stderr, "usage: connect-rate [--seconds S] [--inflight N] [--low-rate R]\n");
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 120 || inflight < 1 || low_rate <= 0) {
        fprintf(stderr, "connect-rate: bad arguments\n");
        return 2;
    }
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    netns_init(&ns);
    if (netns_enter_private(&ns, err, sizeof(err)) < 0) {
        fprintf(stderr, "connect-rate: %s\n", err);
        return 3;
    }
    snprintf(inflight_s, sizeof(inflight_s), "%ld", inflight);
    snprintf(rate_s, sizeof(rate_s), "%g", low_rate);
    printf("connect-rate: %g s per measurement, %ld connections in flight, one private namespace\n",
           seconds, inflight);
    if (ncpu < 1)
        ncpu = 1;
    if (yardstick("--inflight", inflight_s, 1, seconds, &y1) < 0 ||
        yardstick("--inflight", inflight_s, ncpu, seconds, &yn) < 0 ||
        qbench(1e7, seconds, inflight, &qm) < 0 ||
        yardstick("--rate", rate_s, 1, seconds, &yl) < 0 || qbench(low_rate, seconds, 0, &ql) < 0 ||
        qbench(qm.rate / 2, seconds, 0, &qh) < 0)
        return 1;
    for (int i = 0; i < 4; i++)
        if (qbench_mode(1e7, seconds, inflight, mode[i].greeting, mode[i].close, NULL, &modes[i]) <
            0)
            return 1;
    /* the independent shape, and qbench's fastest mode with sources spread as it does */
    if (minimal(ncpu, seconds, inflight / ncpu, &mn) < 0 ||
        qbench_mode(1e7, seconds, inflight, false, "reset", "127.0.0.1-127.0.0.64", &qfast) < 0)
        return 1;
    /* the yardstick is whichever thread layout this machine runs faster */
    ym = yn.rate > y1.rate ? &yn : &y1;

    printf("\nmaximum sustained rate (connect, accept, greeting, close)\n");
    printf("  %-12s %12s %10s %14s %12s %8s\n", "program", "connects/s", "failed", "cpu us/conn",
           "peak RSS MB", "");
    row("yardstick-1", &y1);
    snprintf(label, sizeof(label), "yardstick-%ld", ncpu);
    row(label, &yn);
    snprintf(label, sizeof(label), "qbench-%ld", ncpu);
    row(label, &qm);
    printf("  (-T: T client threads, one acceptor thread)\n");
    printf("  ratio qbench/yardstick: %.3f (against the faster yardstick, %s)\n",
           qm.rate / ym->rate, ym == &yn ? "multi-threaded" : "single-threaded");
    printf(
        "\nevery mode of qbench (built-in server), and what it did to the counters it reports\n");
    printf("  %-24s %11s %9s %9s %11s %13s %11s\n", "mode", "connects/s", "vs best", "OutRsts",
           "EstabResets", "TCPAbortOnData", "TWRecycled");
    {
        double best = 0;

        for (int i = 0; i < 4; i++)
            best = modes[i].rate > best ? modes[i].rate : best;
        for (int i = 0; i < 4; i++)
            printf("  %-24s %11.0f %9.2f %9.0f %11.0f %13.0f %11.0f\n", mode[i].name, modes[i].rate,
                   modes[i].rate / best, zero(modes[i].out_rsts), zero(modes[i].estab_resets),
                   zero(modes[i].abort_on_data), zero(modes[i].tw_recycled));
        double graceful = modes[0].rate > modes[2].rate ? modes[0].rate : modes[2].rate;
        double slowest = best;

        for (int i = 0; i < 4; i++)
            slowest = modes[i].rate < slowest ? modes[i].rate : slowest;
        printf("  no-greeting graceful / greeting graceful: %.2f; fastest / yardstick: %.2f\n",
               modes[2].rate / modes[0].rate, best / ym->rate);
        printf("  slowest mode / fastest graceful mode: %.2f (a cliff is below 0.80)\n",
               slowest / graceful);
    }
    printf("\nthe kernel's best, the independent way (bench/minimal: %ld threads, each its own "
           "listener\nand clients, RST both ends, sources over 127.0.0.0/8)\n",
           ncpu);
    printf("  minimal-%ld                %11.0f  cpu us/conn %.1f\n", ncpu, mn.rate,
           mn.cpu_us / mn.connections);
    printf("  qbench no greeting, reset, 64 sources %11.0f  cpu us/conn %.1f\n", qfast.rate,
           qfast.cpu_us / qfast.connections);
    printf("  ratio qbench fastest / minimal: %.3f with 64 sources (the same shape), %.3f with "
           "one\n",
           qfast.rate / mn.rate, modes[3].rate / mn.rate);
    printf("\nconnect latency at %g connects/s (from each connect's due time)\n", low_rate);
    printf("  %-10s %10s %10s\n", "program", "p50 us", "p99 us");
    printf("  %-10s %10.0f %10.0f\n", "yardstick", yl.p50_us, yl.p99_us);
    printf("  %-10s %10.0f %10.0f\n", "qbench", ql.p50_us, ql.p99_us);
    printf("\nqbench schedule lag at half its maximum (%.0f connects/s): p99 %.0f us, "
           "established %.0f, failed %.0f\n",
           qm.rate / 2, qh.lag_p99_us, qh.connections, qh.failed);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : 1;
}
