/* A sweep end to end: one run per value with the value read back, plots
 * that are real images, and compare telling a doctored regression from an
 * unchanged file by its exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

static char result[256];

static int setup(void **state)
{
    char cfg[512];

    (void)state;
    /* a group setup cannot skip: without a namespace each test skips (or,
     * under QBENCH_REQUIRE_NETNS, fails) through need_sweep() */
    if (!harness_have_netns())
        return 0;
    snprintf(cfg, sizeof(cfg), "%s/configs/synack-sweep-short.json", QBENCH_SOURCE_DIR);
    snprintf(result, sizeof(result), "%s/sweep.json", harness_dir());
    if (harness_qbench((const char *[]){"--config", cfg, "--output", result, "--quiet", "--set",
                                        "client.greeting_timeout_ms=4000", NULL}) != 0)
        fail_msg("sweep run failed:\n%s", harness_stderr());
    return 0;
}

static void need_sweep(void)
{
    if (!result[0])
        harness_require_netns();
}

static int teardown(void **state)
{
    (void)state;
    harness_cleanup();
    return 0;
}

static void test_one_run_per_value_with_sysctl_read_back(void **state)
{
    json_t *doc = (need_sweep(), harness_load(result));

    (void)state;
    assert_int_equal(json_array_size(json_object_get(doc, "runs")), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *run = harness_run(doc, i);
        long long want = i == 0 ? 0 : 2;

        assert_int_equal(harness_param(run, "sysctl.net.ipv4.tcp_synack_retries"), want);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(run, "sysctl"),
                                                            "net.ipv4.tcp_synack_retries")),
                         want);
        harness_assert_outcomes_add_up(run);
        assert_int_equal(harness_int(run, "outcomes.attempted"), 50);
    }
    json_decref(doc);
}

/* Handshakes the client completed that the server never accepted. */
static long long half_open(const json_t *run)
{
    return harness_int(run, "outcomes.attempted") - harness_int(run, "outcomes.timeout") -
           harness_int(run, "server.accepted");
}

/* A dropped final ACK is final with tcp_synack_retries 0; each SYN-ACK
 * retransmit is another chance (the client answers it with a challenge
 * ACK), so at 2 fewer connections end half-open. */
static void test_synack_retries_rescue_dropped_final_acks(void **state)
{
    json_t *doc = (need_sweep(), harness_load(result));
    const json_t *none = harness_run(doc, 0), *two = harness_run(doc, 1);

    (void)state;
    if (half_open(none) < 2 || half_open(two) >= half_open(none))
        fail_msg("half-open: %lld with synack_retries 0, %lld with 2", half_open(none),
                 half_open(two));
    assert_true(harness_kernel(none, "ListenOverflows") > 0);
    assert_int_equal(harness_kernel(none, "TCPSYNChallenge"), 0);
    assert_true(harness_kernel(two, "TCPSYNChallenge") > 0);
    json_decref(doc);
}

static void assert_image(const char *path, const char *magic, size_t magic_len, size_t min_size)
{
    FILE *f = fopen(path, "rb");
    char head[256] = {0};
    long size;

    if (!f)
        fail_msg("no image at %s", path);
    assert_true(fread(head, 1, sizeof(head) - 1, f) > magic_len);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fclose(f);
    if (!memmem(head, sizeof(head), magic, magic_len))
        fail_msg("%s does not start like the image it should be", path);
    assert_true((size_t)size >= min_size);
}

static void test_plots_are_real_images(void **state)
{
    char png[256], svg[256], single[256];

    (void)state;
    need_sweep();
    snprintf(png, sizeof(png), "%s/sweep.png", harness_dir());
    snprintf(svg, sizeof(svg), "%s/sweep.svg", harness_dir());
    snprintf(single, sizeof(single), "%s/single.png", harness_dir());
    assert_int_equal(harness_qbench((const char *[]){"plot", result, "-o", png, NULL}), 0);
    assert_image(png, "\x89PNG\r\n\x1a\n", 8, 10000);
    assert_int_equal(harness_qbench((const char *[]){"plot", result, "-o", svg, "--x",
                                                     "sysctl.net.ipv4.tcp_synack_retries", NULL}),
                     0);
    assert_image(svg, "<svg", 4, 5000);
    {
        /* one run of the sweep alone: the timeline and accept queue view */
        json_t *doc = harness_load(result);
        json_t *runs = json_object_get(doc, "runs");
        char one[256];

        json_array_remove(runs, 1);
        snprintf(one, sizeof(one), "%s/one.json", harness_dir());
        json_dump_file(doc, one, 0);
        json_decref(doc);
        assert_int_equal(harness_qbench((const char *[]){"plot", one, "-o", single, NULL}), 0);
        assert_image(single, "\x89PNG\r\n\x1a\n", 8, 10000);
    }
    /* a missing gnuplot is said clearly, and nothing is written */
    setenv("QBENCH_GNUPLOT", "/nonexistent/gnuplot", 1);
    assert_int_equal(harness_qbench((const char *[]){"plot", result, "-o", png, NULL}), 3);
    unsetenv("QBENCH_GNUPLOT");
    assert_non_null(strstr(harness_stderr(), "apt-get install gnuplot-nox"));
}

static void test_compare_tells_a_doctored_regression_from_an_unchanged_file(void **state)
{
    json_t *doc = (need_sweep(), harness_load(result));
    json_t *o = json_object_get(json_array_get(json_object_get(doc, "runs"), 1), "outcomes");
    long long est = json_integer_value(json_object_get(o, "established"));
    char worse[256];

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"compare", result, result, NULL}), 0);
    assert_non_null(strstr(harness_stdout(), "no regression"));
    /* move a fifth of the attempts from established to timeout */
    json_object_set_new(o, "established", json_integer(est - 10));
    json_object_set_new(o, "timeout",
                        json_integer(json_integer_value(json_object_get(o, "timeout")) + 10));
    snprintf(worse, sizeof(worse), "%s/worse.json", harness_dir());
    json_dump_file(doc, worse, 0);
    json_decref(doc);
    assert_int_equal(harness_qbench((const char *[]){"compare", result, worse, NULL}), 1);
    assert_non_null(strstr(harness_stdout(), "REGRESSION"));
    assert_non_null(strstr(harness_stdout(), "established_ratio"));
    /* a looser threshold lets the same change through */
    assert_int_equal(
        harness_qbench((const char *[]){"compare", result, worse, "--ratio-threshold", "30", NULL}),
        0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_run_per_value_with_sysctl_read_back),
        cmocka_unit_test(test_synack_retries_rescue_dropped_final_acks),
        cmocka_unit_test(test_plots_are_real_images),
        cmocka_unit_test(test_compare_tells_a_doctored_regression_from_an_unchanged_file),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
