/* The CI gate on real runs: repeated runs that differ only in the accept
 * delay are told apart by the tests across repeats, and identical ones are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

/* A short slow acceptor: about 4 s a repeat. */
#define GATE(delay)                                                                                \
    "{\"name\": \"gate-test\", \"repeat\": 6,"                                                     \
    " \"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1, \"net.ipv4.tcp_syn_retries\": 1},"          \
    " \"server\": {\"backlog\": 8, \"accept_delay_ms\": " #delay "},"                              \
    " \"client\": {\"rate\": 200, \"connections\": 200, \"connect_timeout_ms\": 4000,"             \
    "              \"greeting_timeout_ms\": 1000}}"

static void run(const char *cfg, const char *out)
{
    if (harness_qbench((const char *[]){"--config", cfg, "--output", out, "--quiet", NULL}) != 0)
        fail_msg("run failed: %s", harness_stderr());
}

static void test_repeats_tell_a_slower_acceptor_from_noise(void **state)
{
    char base[256], same[256], slow[256];
    const char *cfg;
    json_t *doc;
    const json_t *r;

    (void)state;
    harness_require_netns();
    snprintf(base, sizeof(base), "%s/base.json", harness_dir());
    snprintf(same, sizeof(same), "%s/same.json", harness_dir());
    snprintf(slow, sizeof(slow), "%s/slow.json", harness_dir());
    cfg = harness_file("gate-cfg.json", GATE(40));
    run(cfg, base);
    run(cfg, same);
    cfg = harness_file("slow-cfg.json", GATE(80));
    run(cfg, slow);

    /* the results keep every repeat, the merged totals and the spread */
    doc = harness_load(base);
    r = harness_run(doc, 0);
    assert_int_equal(json_array_size(json_object_get(r, "repeats")), 6);
    assert_int_equal(harness_int(r, "outcomes.attempted"), 6 * 200);
    harness_assert_outcomes_add_up(r);
    assert_int_equal(
        json_array_size(json_object_get(
            json_object_get(json_object_get(r, "spread"), "established_ratio"), "values")),
        6);
    json_decref(doc);

    /* identical configs: no regression */
    if (harness_qbench((const char *[]){"compare", base, same, NULL}) != 0)
        fail_msg("identical runs flagged:\n%s", harness_stdout());
    assert_non_null(strstr(harness_stdout(), "gated metrics tested across repeats"));
    /* twice the accept delay: a regression, found by the test on the counts */
    assert_int_equal(
        harness_qbench((const char *[]){"compare", "--allow-different", base, slow, NULL}), 1);
    assert_non_null(strstr(harness_stdout(), "established_ratio"));
    assert_non_null(strstr(harness_stdout(), "n=6"));
    /* and without --allow-different the settings differ: refused */
    assert_int_equal(harness_qbench((const char *[]){"compare", base, slow, NULL}), 2);
    assert_non_null(strstr(harness_stderr(), "server.accept_delay_ms"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_repeats_tell_a_slower_acceptor_from_noise, harness_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
