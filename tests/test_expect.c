#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "expect.h"
#include "testdocs.h"

static void load_cfg(struct config *cfg, const char *expect)
{
    char text[512], err[ERRBUF_LEN];
    json_t *root;

    snprintf(text, sizeof(text), "{\"client\": {\"rate\": 1, \"connections\": 1}, \"expect\": %s}",
             expect);
    root = json_loads(text, 0, NULL);
    assert_int_equal(config_from_json(root, "t.json", "t", cfg, err, sizeof(err)), 0);
    json_decref(root);
}

static void test_bounds_pass_and_fail_per_run(void **state)
{
    struct fake_run runs[] = {
        {"{\"server.backlog\": 1}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"server.backlog\": 2}", 40, 60, 0, 0, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2), *res;
    struct config cfg;
    bool pass;

    (void)state;
    load_cfg(&cfg, "{\"established_ratio_min\": 0.5, \"connect_p99_us_max\": 5000}");
    res = expect_evaluate(cfg.expect, cfg.nexpect, json_object_get(doc, "runs"), &pass);
    assert_false(pass);
    {
        const json_t *e = json_object_get(res, "established_ratio_min");

        assert_false(json_is_true(json_object_get(e, "pass")));
        assert_true(json_real_value(json_object_get(e, "value")) == 0.4); /* the worst run */
        assert_true(
            json_is_true(json_object_get(json_array_get(json_object_get(e, "runs"), 0), "pass")));
        assert_false(
            json_is_true(json_object_get(json_array_get(json_object_get(e, "runs"), 1), "pass")));
    }
    assert_true(json_is_true(json_object_get(json_object_get(res, "connect_p99_us_max"), "pass")));
    {
        /* the summary names the failed bound with its worst value and limit */
        char *text = NULL;
        size_t len;
        FILE *f = open_memstream(&text, &len);

        assert_int_equal(expect_print_failures(res, f), 1);
        fclose(f);
        assert_non_null(strstr(text, "expect established_ratio_min failed: established_ratio "
                                     "40.00% < 50.00%"));
        /* and names the point that failed, not the one that passed */
        assert_non_null(strstr(text, "; point 2 (server.backlog=2): 40.00%\n"));
        assert_null(strstr(text, "point 1"));
        assert_null(strstr(text, "connect_p99"));
        free(text);
    }
    json_decref(res);
    json_decref(doc);
}

static void test_all_pass(void **state)
{
    struct fake_run runs[] = {{"{}", 100, 0, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1), *res;
    struct config cfg;
    bool pass;

    (void)state;
    load_cfg(&cfg, "{\"timeout_max\": 0, \"accept_p99_us_max\": 3000}");
    res = expect_evaluate(cfg.expect, cfg.nexpect, json_object_get(doc, "runs"), &pass);
    assert_true(pass);
    json_decref(res);
    json_decref(doc);
}

static void test_missing_metric_fails_the_bound(void **state)
{
    struct fake_run runs[] = {{"{}", 100, 0, 0, 0, 100, 1000, 0, 0}}; /* no greeting */
    json_t *doc = fake_doc(runs, 1), *res;
    struct config cfg;
    bool pass;

    (void)state;
    load_cfg(&cfg, "{\"accept_p99_us_max\": 3000}");
    res = expect_evaluate(cfg.expect, cfg.nexpect, json_object_get(doc, "runs"), &pass);
    assert_false(pass);
    assert_true(json_is_null(json_object_get(json_object_get(res, "accept_p99_us_max"), "value")));
    json_decref(res);
    json_decref(doc);
}

static char *print(size_t (*fn)(const json_t *, FILE *), const json_t *arg, size_t *count)
{
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);

    *count = fn(arg, f);
    fclose(f);
    return text;
}

/* An interrupted run's counts are partial: it passes no bound, and the
 * summary says it was not judged rather than "all passed". */
static void test_interrupted_runs_do_not_pass(void **state)
{
    struct fake_run runs[] = {
        {"{\"server.backlog\": 1}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"server.backlog\": 2}", 90, 10, 0, 0, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2), *res;
    struct config cfg;
    bool pass;
    size_t n;
    char *text;

    (void)state;
    json_object_set_new(json_array_get(json_object_get(doc, "runs"), 1), "interrupted",
                        json_true());
    load_cfg(&cfg, "{\"established_ratio_min\": 0.5}");
    res = expect_evaluate(cfg.expect, cfg.nexpect, json_object_get(doc, "runs"), &pass);
    assert_false(pass);
    text = print(expect_print_failures, res, &n);
    assert_int_equal(n, 1);
    assert_string_equal(text, "qbench: expect established_ratio_min not judged: point 2 "
                              "(server.backlog=2) was interrupted (its counts are partial)\n");
    free(text);
    json_decref(res);
    /* the incomplete marker of a failed later step counts the same */
    json_object_del(json_array_get(json_object_get(doc, "runs"), 1), "interrupted");
    json_object_set_new(json_array_get(json_object_get(doc, "runs"), 0), "incomplete",
                        json_pack("{s:s}", "cause", "server died"));
    res = expect_evaluate(cfg.expect, cfg.nexpect, json_object_get(doc, "runs"), &pass);
    assert_false(pass);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(res, "established_ratio_min"), "runs"),
                           0),
            "unfinished")),
        "incomplete");
    json_decref(res);
    json_decref(doc);
}

static size_t local_errors_of(const json_t *runs, FILE *out)
{
    return expect_local_errors(NULL, 0, runs, out);
}

/* Most attempts failing on qbench's own machine (EMFILE) is not a
 * measurement of the server; a bound on error_ratio is the override. */
static void test_local_errors_are_not_a_measurement(void **state)
{
    struct fake_run runs[] = {
        {"{}", 12, 0, 0, 0, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 1), *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *o = json_object_get(run, "outcomes");
    struct config cfg;
    size_t n;
    char *text;

    (void)state;
    text = print(local_errors_of, json_object_get(doc, "runs"), &n);
    assert_int_equal(n, 0);
    free(text);
    /* 88 of 100 EMFILE */
    json_object_set_new(o, "error", json_integer(88));
    json_object_set_new(o, "attempted", json_integer(100));
    json_object_set_new(json_object_get(o, "errors"), "EMFILE", json_integer(88));
    text = print(local_errors_of, json_object_get(doc, "runs"), &n);
    assert_int_equal(n, 1);
    assert_non_null(strstr(text, "point 1: 88 of 100 attempts (88.0%) failed on this machine"));
    assert_non_null(strstr(text, "(EMFILE 88)"));
    assert_non_null(strstr(text, "ulimit -n"));
    assert_non_null(strstr(text, "--set expect.error_ratio_max=1"));
    free(text);
    /* the user's own bound replaces the check */
    load_cfg(&cfg, "{\"error_ratio_max\": 1}");
    assert_int_equal(
        expect_local_errors(cfg.expect, cfg.nexpect, json_object_get(doc, "runs"), stderr), 0);
    /* connections an interrupt caught are not local errors */
    json_object_set_new(json_object_get(o, "errors"), "EMFILE", json_integer(8));
    json_object_set_new(json_object_get(o, "errors"), "INTERRUPTED", json_integer(80));
    text = print(local_errors_of, json_object_get(doc, "runs"), &n);
    assert_int_equal(n, 0);
    free(text);
    /* 11% is past the 10% line */
    json_object_set_new(o, "error", json_integer(91));
    json_object_set_new(json_object_get(o, "errors"), "EMFILE", json_integer(11));
    text = print(local_errors_of, json_object_get(doc, "runs"), &n);
    assert_int_equal(n, 1);
    free(text);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_pass_and_fail_per_run),
        cmocka_unit_test(test_all_pass),
        cmocka_unit_test(test_missing_metric_fails_the_bound),
        cmocka_unit_test(test_interrupted_runs_do_not_pass),
        cmocka_unit_test(test_local_errors_are_not_a_measurement),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
