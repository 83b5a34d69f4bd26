/* qbench ab: a baseline and a candidate in one job, repeats interleaved,
 * judged like compare. Identical sides pass; a clearly slower acceptor is
 * a regression; both results files are written as repeat: N would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

/* A short slow acceptor: about 4 s a run. */
#define AB_CONFIG                                                                                  \
    "{\"name\": \"ab-test\","                                                                      \
    " \"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1, \"net.ipv4.tcp_syn_retries\": 1},"          \
    " \"server\": {\"backlog\": 8, \"accept_delay_ms\": 20},"                                      \
    " \"client\": {\"rate\": 200, \"connections\": 200, \"connect_timeout_ms\": 4000,"             \
    "              \"greeting_timeout_ms\": 1000}}"

/* The same config on both sides: no regression, files written,
 * interleaved. Gated on the established ratio, which a paced acceptor
 * keeps steady (3 repeats can judge it), at alpha 0.001, so this test's
 * own false-alarm chance is 0.1%. */
static void test_identical_sides_pass(void **state)
{
    const char *cfg = harness_file("ab.json", AB_CONFIG);
    char a[256], b[256];
    json_t *doc;
    const json_t *run;
    int rc;

    (void)state;
    harness_require_netns();
    snprintf(a, sizeof(a), "%s/a.json", harness_dir());
    snprintf(b, sizeof(b), "%s/b.json", harness_dir());
    rc = harness_qbench((const char *[]){"ab", "--config", cfg, "--repeat", "3", "--alpha", "0.001",
                                         "--gate", "established_ratio", "--output-a", a,
                                         "--output-b", b, NULL});
    if (rc != 0)
        fail_msg("exit %d:\n%s\n%s", rc, harness_stdout(), harness_stderr());
    assert_non_null(strstr(harness_stdout(), "3 repeats a side"));
    /* A B A B A B */
    {
        const char *s = harness_stderr(),
                   *want[] = {"round 1 of 3: A", "round 1 of 3: B", "round 2 of 3: A",
                              "round 2 of 3: B", "round 3 of 3: A", "round 3 of 3: B"};

        for (size_t i = 0; i < 6; i++) {
            s = strstr(s, want[i]);
            if (!s)
                fail_msg("'%s' missing or out of order in:\n%s", want[i], harness_stderr());
        }
    }
    for (int side = 0; side < 2; side++) {
        doc = harness_load(side ? b : a);
        run = harness_run(doc, 0);
        assert_int_equal(json_array_size(json_object_get(run, "repeats")), 3);
        assert_int_equal(harness_int(run, "outcomes.attempted"), 3 * 200);
        harness_assert_outcomes_add_up(run);
        json_decref(doc);
    }
    /* and compare of the two files agrees */
    assert_int_equal(harness_qbench((const char *[]){"compare", "--alpha", "0.001", "--gate",
                                                     "established_ratio", a, b, NULL}),
                     0);
}

/* B's acceptor four times slower, by a one-side override: a regression,
 * and the setting that differs is named. */
static void test_a_slower_candidate_is_a_regression(void **state)
{
    const char *cfg = harness_file("ab.json", AB_CONFIG);
    char a[256], b[256], v[256];
    int rc;

    (void)state;
    harness_require_netns();
    snprintf(a, sizeof(a), "%s/a.json", harness_dir());
    snprintf(b, sizeof(b), "%s/b.json", harness_dir());
    snprintf(v, sizeof(v), "%s/verdict.md", harness_dir());
    rc = harness_qbench((const char *[]){
        "ab", "--config", cfg, "--repeat", "3", "--set-b", "server.accept_delay_ms=80",
        "--output-a", a, "--output-b", b, "--verdict", v, "--format", "markdown", "--quiet", NULL});
    if (rc != 1)
        fail_msg("exit %d:\n%s\n%s", rc, harness_stdout(), harness_stderr());
    assert_non_null(strstr(harness_stdout(), "**REGRESSION**"));
    assert_non_null(strstr(harness_stdout(), "server.accept\\_delay\\_ms"));
    {
        FILE *f = fopen(v, "r");
        char text[256] = "";

        assert_non_null(f);
        assert_non_null(fgets(text, sizeof(text), f));
        fclose(f);
        assert_non_null(strstr(text, "qbench compare: REGRESSION"));
    }
}

/* Usage errors are exit 2 before anything runs. */
static void test_bad_usage(void **state)
{
    const char *cfg = harness_file("ab.json", AB_CONFIG);

    (void)state;
    assert_int_equal(harness_qbench((const char *[]){"ab", "--repeat", "3", NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "--config A.json is required"));
    assert_int_equal(harness_qbench((const char *[]){"ab", "--config", cfg, "--repeat", "0", NULL}),
                     2);
    assert_int_equal(harness_qbench((const char *[]){"ab", "--config", cfg, "--set-b",
                                                     "server.backlogg=4", NULL}),
                     2);
    assert_non_null(strstr(harness_stderr(), "server.backlogg"));
    assert_int_equal(
        harness_qbench((const char *[]){"ab", "--config", cfg, "--gate", "nope", NULL}), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bad_usage, harness_teardown),
        cmocka_unit_test_teardown(test_identical_sides_pass, harness_teardown),
        cmocka_unit_test_teardown(test_a_slower_candidate_is_a_regression, harness_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
