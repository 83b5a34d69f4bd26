/* Hostile inputs, as an attacker would write them: configs from a pull
 * request and results files from CI must not run commands, crash qbench or
 * redirect its writes, and outputs that cannot be written are refused
 * before the run. Each test reproduces one case of the security review. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness.h"

static int teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

static void enter_dir(void)
{
    if (chdir(harness_dir()) < 0)
        _exit(126);
}

static bool exists(const char *path)
{
    struct stat st;

    return lstat(path, &st) == 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

#define SMALL_RUN "\"server\": {\"backlog\": 8}, \"client\": {\"rate\": 500, \"connections\": 20}"

/* Case 1: a config named demo`id>PWNED` ran `id` when its results were
 * plotted; the name must show literally and nothing may run. */
static void test_hostile_name_is_plotted_literally_and_runs_nothing(void **state)
{
    const char *cfg, *out = harness_path("r.json");
    char *svg;

    (void)state;
    harness_require_netns();
    cfg = harness_file("evil.json", "{\"name\": \"demo`id>PWNED` it's @x $y\", " SMALL_RUN "}");
    assert_int_equal(
        harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}), 0);
    for (int i = 0; i < 2; i++) {
        const char *pic = harness_path(i ? "p.png" : "p.svg");

        if (harness_qbench_with((const char *[]){"plot", out, "-o", pic, NULL}, enter_dir) != 0)
            fail_msg("plot exited non-zero: %s", harness_stderr());
        assert_true(exists(pic));
    }
    assert_false(exists(harness_path("PWNED")));
    assert_false(exists("PWNED"));
    svg = slurp(harness_path("p.svg"));
    if (!strstr(svg, "demo`id>PWNED` it's @x $y") && !strstr(svg, "demo`id&gt;PWNED` it's @x $y"))
        fail_msg("the name is not in the SVG literally");
    free(svg);
}

/* Case 1, through a crafted results file: every string field that reaches
 * a plot carries a command, for a sweep plot and a timeline, PNG and SVG. */
static void test_crafted_results_run_nothing(void **state)
{
    static const char *const evil = "x`id>PWNED`y";
    char in[256];
    json_t *doc, *run, *run2;
    char *svg;

    (void)state;
    snprintf(in, sizeof(in), "%s", harness_path("crafted.json"));
    doc = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:{s:s}, s:{s:i}}, s:[], s:{}}", "schema",
                    "qbench-result/1", "name", evil, "kernel", evil, "host", evil, "config", "name",
                    evil, "server", "backlog", evil, "client", "rate", 1, "runs", "expect");
    run = json_pack("{s:{s:s}, s:{s:i, s:i}, s:{s:s, s:s}, s:[[i,i,i,i]], s:i, "
                    "s:{s:i, s:i, s:i, s:i, s:[[i,i]]}}",
                    "params", "server.backlog", evil, "outcomes", "attempted", 1, "established", 1,
                    "sysctl", "net.ipv4.tcp_synack_retries", evil, evil, evil, "timeline", 0, 1, 1,
                    0, "timeline_interval_ms", 100, "accept_queue", "limit", 8, "max", 1,
                    "listeners", 1, "interval_ms", 10, "samples", 0, 1);
    run2 = json_deep_copy(run);
    json_object_set_new(json_object_get(run2, "params"), "server.backlog", json_string("2nd"));
    json_array_append_new(json_object_get(doc, "runs"), run);
    assert_int_equal(json_dump_file(doc, in, 0), 0);
    for (int i = 0; i < 2; i++) {
        const char *pic = harness_path(i ? "one.png" : "one.svg");

        if (harness_qbench_with((const char *[]){"plot", in, "-o", pic, NULL}, enter_dir) != 0)
            fail_msg("plot of one run exited non-zero: %s", harness_stderr());
    }
    json_array_append_new(json_object_get(doc, "runs"), run2);
    assert_int_equal(json_dump_file(doc, in, 0), 0);
    for (int i = 0; i < 2; i++) {
        const char *pic = harness_path(i ? "two.png" : "two.svg");

        if (harness_qbench_with((const char *[]){"plot", in, "-o", pic, NULL}, enter_dir) != 0)
            fail_msg("sweep plot exited non-zero: %s", harness_stderr());
    }
    assert_false(exists(harness_path("PWNED")));
    svg = slurp(harness_path("two.svg"));
    assert_true(strstr(svg, "x`id>PWNED`y") || strstr(svg, "x`id&gt;PWNED`y"));
    free(svg);
    json_decref(doc);
}

/* Case 2: a 1,030-character kernel string overflowed the caption. */
static void test_long_kernel_string_does_not_crash_plot(void **state)
{
    const char *in = harness_path("long.json"), *pic = harness_path("long.png");
    char kernel[1031];
    json_t *doc;

    (void)state;
    memset(kernel, 'k', 1030);
    kernel[1030] = '\0';
    doc = json_pack("{s:s, s:s, s:s, s:{s:{s:i}}, s:[{s:{}, s:{s:i, s:i}, s:{s:s}}]}", "schema",
                    "qbench-result/1", "name", "long", "kernel", kernel, "config", "server",
                    "backlog", 8, "runs", "params", "outcomes", "attempted", 1, "established", 1,
                    "sysctl", "net.ipv4.tcp_synack_retries", kernel);
    assert_int_equal(json_dump_file(doc, in, 0), 0);
    json_decref(doc);
    if (harness_qbench((const char *[]){"plot", in, "-o", pic, NULL}) != 0)
        fail_msg("plot exited non-zero: %s", harness_stderr());
    assert_true(exists(pic));
}

/* Case 3: a link planted under the old guessable temporary name
 * (OUT.tmp.<pid>) made root overwrite the link's target. */
static char planted_out[256], planted_victim[256];

static void plant_link_for_own_pid(void)
{
    char link[300];

    snprintf(link, sizeof(link), "%s.tmp.%d", planted_out, (int)getpid());
    if (symlink(planted_victim, link) < 0)
        _exit(126);
}

static void test_planted_symlink_is_not_followed(void **state)
{
    const char *cfg;
    int fd;
    char buf[64] = "";

    (void)state;
    harness_require_netns();
    snprintf(planted_out, sizeof(planted_out), "%s", harness_path("out.json"));
    snprintf(planted_victim, sizeof(planted_victim), "%s", harness_path("victim"));
    fd = open(planted_victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "root only\n", 10), 10);
    close(fd);
    cfg = harness_file("small.json", "{" SMALL_RUN "}");
    assert_int_equal(harness_qbench_with((const char *[]){"--config", cfg, "--output", planted_out,
                                                          "--quiet", NULL},
                                         plant_link_for_own_pid),
                     0);
    fd = open(planted_victim, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 10);
    close(fd);
    assert_string_equal(buf, "root only\n");
    json_decref(harness_load(planted_out));

    /* the same for plot -o */
    snprintf(planted_out, sizeof(planted_out), "%s", harness_path("plot.png"));
    assert_int_equal(harness_qbench_with((const char *[]){"plot", harness_path("out.json"), "-o",
                                                          planted_out, NULL},
                                         plant_link_for_own_pid),
                     0);
    fd = open(planted_victim, O_RDONLY);
    assert_int_equal(read(fd, buf, sizeof(buf) - 1), 10);
    close(fd);
}

/* Case 4: outputs that cannot be written are refused before the run, in
 * well under the time the run would take, and nothing is replaced. */
static void expect_refused_before_run(const char *cfg, const char *out, int want, const char *say)
{
    if (harness_qbench((const char *[]){"--config", cfg, "--output", out, NULL}) != want)
        fail_msg("--output %s: wanted exit %d: %s", out, want, harness_stderr());
    if (!strstr(harness_stderr(), say))
        fail_msg("--output %s: said '%s', expected '%s'", out, harness_stderr(), say);
    /* refused before the run: no progress, no summary */
    assert_null(strstr(harness_stdout(), "attempted"));
}

static void test_unwritable_outputs_are_refused_before_the_run(void **state)
{
    /* 10 s of schedule: a refusal after the run would take that long */
    const char *cfg = harness_file("long.json", "{\"server\": {\"backlog\": 8}, \"client\": "
                                                "{\"rate\": 10, \"connections\": 100}}");
    const char *d = harness_path("outdir");
    char with_slash[300], with_dot[300], cfg_copy[4096];
    struct stat st;
    FILE *f;
    size_t n;

    (void)state;
    assert_int_equal(mkdir(d, 0755), 0);
    snprintf(with_slash, sizeof(with_slash), "%s/", d);
    snprintf(with_dot, sizeof(with_dot), "%s/.", d);
    expect_refused_before_run(cfg, d, 2, "is a directory");
    expect_refused_before_run(cfg, with_slash, 2, "names a directory");
    expect_refused_before_run(cfg, with_dot, 2, "names a directory");
    assert_int_equal(mkfifo(harness_path("fifo"), 0644), 0);
    expect_refused_before_run(cfg, harness_path("fifo"), 2, "is a FIFO");
    assert_int_equal(lstat(harness_path("fifo"), &st), 0);
    assert_true(S_ISFIFO(st.st_mode));
    expect_refused_before_run(cfg, "/dev/null", 2, "character device");
    assert_int_equal(stat("/dev/null", &st), 0);
    assert_true(S_ISCHR(st.st_mode));
    /* the output is the config itself */
    f = fopen(cfg, "r");
    n = fread(cfg_copy, 1, sizeof(cfg_copy) - 1, f);
    cfg_copy[n] = '\0';
    fclose(f);
    expect_refused_before_run(cfg, cfg, 2, "is the input");
    {
        char *now = slurp(cfg);

        assert_string_equal(now, cfg_copy);
        free(now);
    }
    /* plot -o: a directory, and an input that would be overwritten */
    assert_int_equal(harness_qbench((const char *[]){"plot", cfg, "-o", cfg, NULL}), 2);
    {
        const char *fake = harness_file("looks.png", "{\"schema\": \"qbench-result/1\", "
                                                     "\"runs\": [{\"params\": {}, "
                                                     "\"outcomes\": {\"attempted\": 0}}]}");

        assert_int_equal(harness_qbench((const char *[]){"plot", fake, "-o", fake, NULL}), 2);
        assert_non_null(strstr(harness_stderr(), "is the input"));
    }
}

/* Case 4: a root-owned file in a sticky directory, for another user. */
static char sticky_out[256];

static void become_nobody(void)
{
    if (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0)
        _exit(126);
}

static void test_sticky_directory_refusal_comes_before_the_run(void **state)
{
    const char *cfg = harness_file("long.json", "{\"server\": {\"backlog\": 8}, \"client\": "
                                                "{\"rate\": 10, \"connections\": 100}}");
    const char *sticky = harness_path("sticky");
    int rc;

    (void)state;
    if (geteuid() != 0)
        skip();
    assert_int_equal(chmod(harness_dir(), 0755), 0);
    assert_int_equal(chmod(cfg, 0644), 0);
    assert_int_equal(mkdir(sticky, 01777), 0);
    assert_int_equal(chmod(sticky, 01777), 0);
    snprintf(sticky_out, sizeof(sticky_out), "%s/r.json", sticky);
    harness_file("sticky/r.json", "root's\n");
    assert_int_equal(chmod(sticky_out, 0666), 0);
    rc = harness_qbench_with((const char *[]){"--config", cfg, "--output", sticky_out, NULL},
                             become_nobody);
    if (rc != 3)
        fail_msg("exit %d: %s", rc, harness_stderr());
    assert_non_null(strstr(harness_stderr(), "sticky directory"));
    assert_null(strstr(harness_stdout(), "attempted"));
}

/* Case 5: with stderr closed the listener took fd 2, progress went into
 * it, SIGPIPE killed qbench. */
static void close_stderr(void)
{
    close(STDERR_FILENO);
}

static void test_closed_stderr_still_writes_results(void **state)
{
    const char *cfg = harness_file("small.json", "{" SMALL_RUN "}");
    const char *out = harness_path("closed.json");
    json_t *doc;

    (void)state;
    harness_require_netns();
    assert_int_equal(
        harness_qbench_with((const char *[]){"--config", cfg, "--output", out, NULL}, close_stderr),
        0);
    doc = harness_load(out);
    harness_assert_outcomes_add_up(harness_run(doc, 0));
    assert_int_equal(harness_int(harness_run(doc, 0), "outcomes.attempted"), 20);
    json_decref(doc);
}

/* Case 6: an open-file limit of 8-12 aborted inside libev (exit 134). */
static void ten_files(void)
{
    struct rlimit rl = {10, 10};

    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        _exit(126);
}

static void test_tiny_open_file_limit_is_a_clear_exit_3(void **state)
{
    const char *cfg = harness_file("small.json", "{" SMALL_RUN "}");
    const char *out = harness_path("nofile.json");

    (void)state;
    assert_int_equal(
        harness_qbench_with((const char *[]){"--config", cfg, "--output", out, NULL}, ten_files),
        3);
    assert_non_null(strstr(harness_stderr(), "open-file limit (RLIMIT_NOFILE) is 10"));
    assert_non_null(strstr(harness_stderr(), "ulimit -n"));
    assert_false(exists(out));
}

/* Case 6, the smaller items: duplicate sweep values, a schedule that cannot
 * be allocated, malformed JSON in --set, ambiguous compares. */
static void test_smaller_items_are_refused_with_their_cause(void **state)
{
    const char *cfg = harness_file("small.json", "{" SMALL_RUN "}");
    const char *a = harness_path("a.json");
    json_t *doc;

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "sweep={\"server.backlog\": [8, 8]}", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "appears twice"));
    assert_int_equal(
        harness_qbench((const char *[]){"validate", "--config", cfg, "--set", "client.rate=1",
                                        "--set", "client.connections=1000000000", NULL}),
        2);
    assert_non_null(strstr(harness_stderr(), "client.connections"));
    assert_int_equal(harness_qbench((const char *[]){"validate", "--config", cfg, "--set",
                                                     "server.backlog=[1", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "not valid JSON"));

    /* a baseline with two runs of the same params matched both to one */
    doc = json_pack("{s:s, s:[{s:{s:i}, s:{s:i, s:i}}, {s:{s:i}, s:{s:i, s:i}}]}", "schema",
                    "qbench-result/1", "runs", "params", "server.backlog", 8, "outcomes",
                    "attempted", 10, "established", 10, "params", "server.backlog", 8, "outcomes",
                    "attempted", 10, "timeout", 10);
    assert_int_equal(json_dump_file(doc, a, 0), 0);
    json_decref(doc);
    assert_int_equal(harness_qbench((const char *[]){"compare", a, a, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "ambiguous"));
}

/* Case 6: a SIGKILL during the write left OUT.tmp.<pid> behind forever; a
 * temporary file of ours whose writer is gone is removed by the next run. */
static void test_stale_temporary_file_is_removed_by_the_next_run(void **state)
{
    const char *cfg = harness_file("small.json", "{" SMALL_RUN "}");
    const char *out = harness_path("stale.json");
    char stale[300];
    pid_t dead = fork();

    (void)state;
    harness_require_netns();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    snprintf(stale, sizeof(stale), "%s/.stale.json.%d.qbtmp.00112233aabbccdd", harness_dir(),
             (int)dead);
    harness_file(strrchr(stale, '/') + 1, "{\"half\": ");
    assert_true(exists(stale));
    assert_int_equal(
        harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}), 0);
    assert_false(exists(stale));
    json_decref(harness_load(out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_hostile_name_is_plotted_literally_and_runs_nothing,
                                  teardown),
        cmocka_unit_test_teardown(test_crafted_results_run_nothing, teardown),
        cmocka_unit_test_teardown(test_long_kernel_string_does_not_crash_plot, teardown),
        cmocka_unit_test_teardown(test_planted_symlink_is_not_followed, teardown),
        cmocka_unit_test_teardown(test_unwritable_outputs_are_refused_before_the_run, teardown),
        cmocka_unit_test_teardown(test_sticky_directory_refusal_comes_before_the_run, teardown),
        cmocka_unit_test_teardown(test_closed_stderr_still_writes_results, teardown),
        cmocka_unit_test_teardown(test_tiny_open_file_limit_is_a_clear_exit_3, teardown),
        cmocka_unit_test_teardown(test_smaller_items_are_refused_with_their_cause, teardown),
        cmocka_unit_test_teardown(test_stale_temporary_file_is_removed_by_the_next_run, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
