#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "expect.h"
#include "testdocs.h"

static void load_cfg(struct config *cfg, const char *expect)
{
    char text[512], err[ERRBUF_LEN];
    json_t *root;

    snprintf(text, sizeof(text),
             "{\"client\": {\"rate\": 1, \"connections\": 1}, \"expect\": %s}", expect);
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
        assert_true(json_is_true(json_object_get(json_array_get(json_object_get(e, "runs"), 0),
                                                 "pass")));
        assert_false(json_is_true(json_object_get(json_array_get(json_object_get(e, "runs"), 1),
                                                  "pass")));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds_pass_and_fail_per_run),
        cmocka_unit_test(test_all_pass),
        cmocka_unit_test(test_missing_metric_fails_the_bound),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
