/* Scale-out, simulated on one machine: N qbench processes as the shards of
 * one experiment against one target in one private namespace (what a
 * Kubernetes Indexed Job does across machines), merged into one result. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "harness.h"
#include "netns.h"

#define PORT 19001
#define RATE 2000
#define TOTAL 4000

static pid_t server = -1;

/* The test process moves into a namespace of its own (every qbench it
 * starts inherits it) with an accept-and-close server on PORT. */
static int setup(void **state)
{
    struct netns ns;
    char err[ERRBUF_LEN];
    int fd, one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};

    (void)state;
    if (!harness_have_netns())
        return 0;
    netns_init(&ns);
    if (netns_enter_private(&ns, err, sizeof(err)) < 0)
        return 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0)
        return -1;
    server = fork();
    if (server == 0) {
        for (;;) {
            int c = accept(fd, NULL, NULL);

            if (c >= 0)
                close(c);
        }
    }
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    harness_cleanup();
    return 0;
}

static const char *config(const char *name, int rate)
{
    char text[512];

    snprintf(text, sizeof(text),
             "{\"name\": \"shards\", \"isolate\": false, \"target\": \"127.0.0.1:%d\","
             " \"client\": {\"rate\": %d, \"connections\": %d, \"threads\": 1}}",
             PORT, rate, TOTAL);
    return harness_file(name, text);
}

/* Collects due_ms of every line of a --connections JSON Lines file into
 * due[*n ...]; the schedule origin of every shard is the --start-at instant. */
static void read_due(const char *path, double *due, size_t *n, size_t cap)
{
    FILE *f = fopen(path, "r");
    char line[2048];

    if (!f)
        fail_msg("%s: cannot open", path);
    while (fgets(line, sizeof(line), f)) {
        json_t *rec = json_loads(line, 0, NULL);
        const json_t *d = json_object_get(rec, "due_ms");

        if (!json_is_number(d) || *n >= cap)
            fail_msg("%s: a line without due_ms, or too many lines", path);
        due[(*n)++] = json_number_value(d);
        json_decref(rec);
    }
    fclose(f);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The schedule the shards made together is one even open-loop stream:
 * connection g due at g / rate, every g once. This is what sharding must
 * get right, and it does not depend on how busy the machine is (the
 * timeline, which counts connects when they left, does: one 5 ms stall on
 * a loaded CI machine moved 9 of 200 connects into the next row). */
static void assert_even_schedule(const char (*files)[256], unsigned nfiles)
{
    static double due[TOTAL + 1];
    size_t n = 0;

    for (unsigned i = 0; i < nfiles; i++)
        read_due(files[i], due, &n, TOTAL + 1);
    assert_int_equal(n, TOTAL);
    qsort(due, n, sizeof(due[0]), by_value);
    for (size_t g = 0; g < n; g++)
        if (due[g] < (double)g * 1e3 / RATE - 0.002 || due[g] > (double)g * 1e3 / RATE + 0.002)
            fail_msg("connection %zu due at %.3f ms, expected %.3f", g, due[g],
                     (double)g * 1e3 / RATE);
}

/* What the machine made of that schedule: every row of the timeline within
 * what the run's own worst schedule lag allows (a row can lose or gain
 * rate * lag connects). Shards that started apart would leave a row far
 * from the rate whatever the lag, as long as the lag is under a row. */
static void assert_rows_within_lag(const json_t *run, int per_row)
{
    const json_t *tl = json_object_get(run, "timeline");
    size_t rows = json_array_size(tl);
    double max_s = (double)harness_int(run, "schedule_lag_us.max") / 1e6;
    int slack = 4 + (int)(2.0 * RATE * max_s + 1.0);

    assert_true(rows >= 18);
    for (size_t i = 1; i + 2 < rows && i < 19; i++) {
        long long n = json_integer_value(json_array_get(json_array_get(tl, i), 1));

        if (n < per_row - slack || n > per_row + slack)
            fail_msg("timeline row %zu: %lld attempts, expected %d +- %d (lag max %.1f ms)", i, n,
                     per_row, slack, max_s * 1e3);
    }
}

static void run_shards(unsigned n, const char *merged, char (*conns)[256])
{
    const char *cfg = config("shards.json", RATE);
    char outs[8][256], shard[16], at[32], cfgcopy[256];
    const char *margs[16];
    pid_t pids[8];
    struct timespec rt;
    size_t k = 0;

    snprintf(cfgcopy, sizeof(cfgcopy), "%s", cfg);
    clock_gettime(CLOCK_REALTIME, &rt);
    snprintf(at, sizeof(at), "%.3f", (double)rt.tv_sec + (double)rt.tv_nsec / 1e9 + 0.8);
    for (unsigned i = 0; i < n; i++) {
        snprintf(outs[i], sizeof(outs[i]), "%s/shard-%u-of-%u.json", harness_dir(), i, n);
        snprintf(conns[i], 256, "%s/shard-%u-of-%u.jsonl", harness_dir(), i, n);
        snprintf(shard, sizeof(shard), "%u/%u", i, n);
        pids[i] = harness_qbench_start(
            (const char *[]){"--config", cfgcopy, "--shard", shard, "--start-at", at, "--output",
                             outs[i], "--connections", conns[i], "--quiet", NULL});
    }
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(harness_qbench_wait(pids[i]), 0);
    margs[k++] = "merge";
    for (unsigned i = 0; i < n; i++)
        margs[k++] = outs[i];
    margs[k++] = "-o";
    margs[k++] = merged;
    margs[k] = NULL;
    if (harness_qbench(margs) != 0)
        fail_msg("merge failed: %s", harness_stderr());
}

static void test_sharded_runs_merge_into_one_even_stream(void **state)
{
    char single[256], merged[256], conns[8][256];
    json_t *doc;
    const json_t *run;

    (void)state;
    if (server <= 0)
        harness_require_netns();
    snprintf(single, sizeof(single), "%s/single.json", harness_dir());
    snprintf(conns[0], sizeof(conns[0]), "%s/single.jsonl", harness_dir());
    assert_int_equal(
        harness_qbench((const char *[]){"--config", config("one.json", RATE), "--output", single,
                                        "--connections", conns[0], "--quiet", NULL}),
        0);
    assert_even_schedule((const char(*)[256])conns, 1);
    doc = harness_load(single);
    assert_rows_within_lag(harness_run(doc, 0), RATE / 10);
    json_decref(doc);
    for (unsigned n = 2; n <= 4; n += 2) {
        snprintf(merged, sizeof(merged), "%s/merged-%u.json", harness_dir(), n);
        run_shards(n, merged, conns);
        doc = harness_load(merged);
        run = harness_run(doc, 0);
        /* connections/N each, summed back to the whole */
        assert_int_equal(harness_int(run, "outcomes.attempted"), TOTAL);
        harness_assert_outcomes_add_up(run);
        assert_int_equal(harness_int(run, "latency_us.connect.count"),
                         harness_int(run, "outcomes.established"));
        /* the union of the shards is as even as one client at the full rate */
        assert_even_schedule((const char(*)[256])conns, n);
        assert_rows_within_lag(run, RATE / 10);
        assert_int_equal(json_array_size(json_object_get(doc, "merged_from")), n);
        json_decref(doc);
    }
}

/* Inputs of another experiment are refused: exit 2, nothing written. */
static void test_mismatched_inputs_are_refused(void **state)
{
    char a[256], b[256], out[256];

    (void)state;
    if (server <= 0)
        harness_require_netns();
    snprintf(a, sizeof(a), "%s/a.json", harness_dir());
    snprintf(b, sizeof(b), "%s/b.json", harness_dir());
    snprintf(out, sizeof(out), "%s/ab.json", harness_dir());
    assert_int_equal(
        harness_qbench((const char *[]){"--config", config("a.cfg.json", 1000), "--output", a,
                                        "--quiet", "--set", "client.connections=100", NULL}),
        0);
    assert_int_equal(
        harness_qbench((const char *[]){"--config", config("b.cfg.json", 500), "--output", b,
                                        "--quiet", "--set", "client.connections=100", NULL}),
        0);
    assert_int_equal(harness_qbench((const char *[]){"merge", a, b, "-o", out, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "not the same experiment"));
    assert_int_equal(access(out, F_OK), -1);
    /* and a shard index out of range is bad usage */
    assert_int_equal(harness_qbench((const char *[]){"--config", config("c.json", 1000), "--shard",
                                                     "4/4", NULL}),
                     2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sharded_runs_merge_into_one_even_stream),
        cmocka_unit_test(test_mismatched_inputs_are_refused),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
