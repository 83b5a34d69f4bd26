/* summary: the lines a person reads after each run point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "summary.h"
#include "testdocs.h"

static char *summary_of(const json_t *run, size_t point, size_t npoints)
{
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);

    summary_print(f, run, point, npoints);
    fclose(f);
    return text;
}

/* An interrupted point says so first, and its in-flight connections are
 * unfinished, not local errors. */
static void test_interrupted_point_is_marked(void **state)
{
    struct fake_run runs[] = {{"{\"server.backlog\": 4}", 60, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1), *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *o = json_object_get(run, "outcomes");
    char *text;

    (void)state;
    json_object_set_new(run, "interrupted", json_true());
    json_object_set_new(o, "attempted", json_integer(100));
    json_object_set_new(o, "error", json_integer(30));
    json_object_set_new(json_object_get(o, "errors"), "INTERRUPTED", json_integer(30));
    text = summary_of(run, 2, 3);
    assert_non_null(strstr(text, "[2/3] server.backlog=4: INTERRUPTED (partial counts): "
                                 "attempted 100: established 60 (60.0%) timeout 10 (10.0%) "
                                 "unfinished 30 (30.0%) |"));
    assert_null(strstr(text, "error "));
    free(text);
    json_decref(doc);
}

/* With repeats: each metric's mean ± sd and min .. max across them, as
 * hyperfine prints a benchmark's. */
static void test_repeats_show_their_spread(void **state)
{
    struct fake_run runs[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1), *run = json_array_get(json_object_get(doc, "runs"), 0);
    char *text;

    (void)state;
    json_object_set_new(run, "spread",
                        json_pack("{s:{s:f, s:f, s:f, s:[f,f,f]}, s:{s:f, s:f, s:f, s:[f,f,f]},"
                                  " s:{s:f, s:f, s:f, s:[f,f,f]}}",
                                  "established_ratio", "median", 0.9, "min", 0.88, "max", 0.92,
                                  "values", 0.88, 0.9, 0.92, "timeout_ratio", "median", 0.1, "min",
                                  0.08, "max", 0.12, "values", 0.12, 0.1, 0.08, "connect_p50_us",
                                  "median", 1000.0, "min", 900.0, "max", 1100.0, "values", 900.0,
                                  1000.0, 1100.0));
    text = summary_of(run, 1, 1);
    assert_non_null(strstr(text, "across 3 repeats"));
    assert_non_null(strstr(text, "mean ± sd"));
    assert_non_null(strstr(text, "established_ratio"));
    assert_non_null(strstr(text, "90.00% ± 2.00 pp"));
    assert_non_null(strstr(text, "88.00% .. 92.00%"));
    assert_non_null(strstr(text, "connect_p50_us"));
    assert_non_null(strstr(text, "1.00 ms ± 100 us"));
    /* a class that never happened in any repeat is left out */
    assert_null(strstr(text, "reset_ratio"));
    free(text);
    json_decref(doc);
}

/* A point's capture: its packets, and a capture that lacks some says so,
 * with the number when the kernel gave one and "unknown" when not. */
static void test_an_incomplete_capture_says_so(void **state)
{
    struct fake_run runs[] = {{"{}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1), *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *cap = json_pack("{s:I, s:b, s:b, s:I, s:I, s:I}", "packets", (json_int_t)1200,
                            "written", 1, "complete", 1, "received", (json_int_t)1200, "dropped",
                            (json_int_t)0, "if_dropped", (json_int_t)0);
    char *text;

    (void)state;
    json_object_set_new(run, "capture", cap);
    text = summary_of(run, 1, 1);
    assert_non_null(strstr(text, "| capture 1200 packets\n"));
    free(text);
    json_object_set_new(cap, "complete", json_false());
    json_object_set_new(cap, "dropped", json_integer(37));
    text = summary_of(run, 1, 1);
    assert_non_null(strstr(text, "| capture 1200 packets INCOMPLETE: 37 dropped by the kernel\n"));
    free(text);
    json_object_set_new(cap, "dropped", json_null());
    text = summary_of(run, 1, 1);
    assert_non_null(strstr(text, "INCOMPLETE (kernel drops unknown)"));
    free(text);
    json_object_set_new(cap, "written", json_false());
    json_object_set_new(cap, "error", json_string("writing the capture: No space left on device"));
    text = summary_of(run, 1, 1);
    assert_non_null(
        strstr(text, "| capture NOT written: writing the capture: No space left on device\n"));
    free(text);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupted_point_is_marked),
        cmocka_unit_test(test_repeats_show_their_spread),
        cmocka_unit_test(test_an_incomplete_capture_says_so),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
