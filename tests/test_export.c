/* export: results as CSV with stable columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "export.h"
#include "testdocs.h"

static char *csv_of(json_t *doc)
{
    char *text = NULL, err[ERRBUF_LEN];
    size_t len;
    FILE *f = open_memstream(&text, &len);

    assert_int_equal(export_csv(doc, f, err, sizeof(err)), 0);
    fclose(f);
    return text;
}

static void test_one_row_per_point_with_stable_columns(void **state)
{
    struct fake_run runs[] = {
        {"{\"server.backlog\": 4}", 90, 10, 0, 0, 100, 1000, 200, 3000},
        {"{\"server.backlog\": 8}", 50, 10, 0, 40, 100, 1000, 200, 3000},
    };
    json_t *doc = fake_doc(runs, 2);
    json_t *run1 = json_array_get(json_object_get(doc, "runs"), 1);
    char *csv;

    (void)state;
    json_object_set_new(run1, "kernel", json_pack("{s:i}", "ListenOverflows", 12));
    csv = csv_of(doc);
    assert_true(strncmp(csv, "point,repeat,param:server.backlog,established_ratio,", 52) == 0);
    assert_non_null(strstr(csv, ",connect_p99.99_us,"));
    assert_non_null(strstr(csv, ",kernel:ListenOverflows\n"));
    /* the first run did not move the counter: a zero, not an empty cell */
    assert_non_null(strstr(csv, "\n1,0,4,0.9,"));
    assert_non_null(strstr(csv, ",0\n2,0,8,0.5,"));
    assert_true(csv[strlen(csv) - 3] == '1' && csv[strlen(csv) - 2] == '2');
    free(csv);
    json_decref(doc);
}

/* Every column name once (pandas renames a second connect_p50_us to
 * connect_p50_us.1), and every row as wide as the header. */
static void test_columns_are_unique(void **state)
{
    struct fake_run runs[] = {{"{\"server.backlog\": 4}", 90, 10, 0, 0, 100, 1000, 200, 3000}};
    json_t *doc = fake_doc(runs, 1);
    char *csv = csv_of(doc), *nl = strchr(csv, '\n'), *names[256];
    size_t n = 0, commas = 0;

    (void)state;
    assert_non_null(nl);
    *nl = '\0';
    for (char *save = NULL, *tok = strtok_r(csv, ",", &save); tok && n < 256;
         tok = strtok_r(NULL, ",", &save))
        names[n++] = tok;
    assert_true(n > 40);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[i], names[j]) == 0)
                fail_msg("column %s twice", names[i]);
    /* the same quantity under two names is a duplicate too */
    for (size_t i = 0; i < n; i++)
        assert_string_not_equal(names[i], "connect_p99.9_us");
    for (char *p = nl + 1; *p && *p != '\n'; p++)
        commas += *p == ',';
    assert_int_equal(commas, n - 1);
    free(csv);
    json_decref(doc);
}

/* Swept strings are quoted, and what a spreadsheet would run is defused. */
static void test_hostile_cells_are_quoted_and_defused(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.close\": \"=cmd|' /C calc'!A0\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.close\": \"a,\\\"b\\\"\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.close\": \"x\\u001b[2Jy\"}", 1, 0, 0, 0, 1, 1, 1, 1}};
    json_t *doc = fake_doc(runs, 3);
    char *csv;

    (void)state;
    csv = csv_of(doc);
    assert_non_null(strstr(csv, "\n1,0,\"'=cmd|' /C calc'!A0\","));
    assert_non_null(strstr(csv, "\n3,0,x?[2Jy,"));
    assert_non_null(strstr(csv, "\n2,0,\"a,\"\"b\"\"\","));
    free(csv);
    json_decref(doc);
}

/* OWASP's rule: whatever follows a leading = + - @ tab or CR, the cell is
 * defused; C1 controls (as UTF-8) never reach the terminal. A swept
 * number stays a number, a negative one too. */
static void test_every_formula_start_is_defused(void **state)
{
    struct fake_run runs[] = {
        {"{\"client.request\": \"-2+3+cmd|' /C calc'!A0\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.request\": \"\\r=1+1\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.request\": \"\\t=1\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.request\": \"+1\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.request\": \"@SUM(A1)\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.request\": \"a\\u009b2Jb\\u009d\"}", 1, 0, 0, 0, 1, 1, 1, 1},
        {"{\"client.request\": -1}", 1, 0, 0, 0, 1, 1, 1, 1},
    };
    json_t *doc = fake_doc(runs, 7);
    char *csv;

    (void)state;
    csv = csv_of(doc);
    assert_non_null(strstr(csv, "\n1,0,\"'-2+3+cmd|' /C calc'!A0\","));
    assert_non_null(strstr(csv, "\n2,0,\"'?=1+1\","));
    assert_non_null(strstr(csv, "\n3,0,\"'?=1\","));
    assert_non_null(strstr(csv, "\n4,0,\"'+1\","));
    assert_non_null(strstr(csv, "\n5,0,\"'@SUM(A1)\","));
    assert_non_null(strstr(csv, "\n6,0,a?2Jb?,"));
    assert_non_null(strstr(csv, "\n7,0,-1,"));
    assert_null(strstr(csv, "\xc2\x9b"));
    free(csv);
    json_decref(doc);
}

/* What reaches a terminal (every error message) loses C0, DEL, C1 as raw
 * bytes and as UTF-8, keeps line breaks and real UTF-8 text. */
static void test_terminal_text_loses_c0_and_c1(void **state)
{
    char s[] = "a\x1b[2J b\x9b"
               "1m c\xc2\x9d"
               "0;x\x07 d\n\xc3\xa9\xe2\x82\xac \xc0\x80 \x7f";
    char err[ERRBUF_LEN];

    (void)state;
    errbuf_printable(s);
    assert_string_equal(s, "a?[2J b?1m c?0;x? d\n\xc3\xa9\xe2\x82\xac ?? ?");
    errbuf_set(err, sizeof(err), "server said %s", "\x9b\x9d\xc2\x9b");
    assert_string_equal(err, "server said ???");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_row_per_point_with_stable_columns),
        cmocka_unit_test(test_hostile_cells_are_quoted_and_defused),
        cmocka_unit_test(test_columns_are_unique),
        cmocka_unit_test(test_every_formula_start_is_defused),
        cmocka_unit_test(test_terminal_text_loses_c0_and_c1),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
