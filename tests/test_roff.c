/* roff: text reaches the manual page literally, whatever it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "roff.h"

static char *capture(void (*fn)(FILE *, const char *), const char *arg)
{
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);

    fn(f, arg);
    fclose(f);
    return text;
}

static void para(FILE *f, const char *s)
{
    roff_para(f, s);
}
static void verbatim(FILE *f, const char *s)
{
    roff_verbatim(f, s);
}
static void item(FILE *f, const char *s)
{
    roff_item(f, "--set KEY=VALUE", s);
}

static void test_requests_and_escapes_are_defused(void **state)
{
    char *out;

    (void)state;
    /* a leading '.' or '\'' would be a request; a backslash an escape */
    out = capture(verbatim, ".TH evil\n'br\nC:\\path -x\n");
    assert_string_equal(out, ".PP\n.RS 4\n.nf\n\\&.TH evil\n\\&'br\nC:\\epath \\-x\n.fi\n.RE\n");
    free(out);
    /* running text: one line, control characters shown as '?' */
    out = capture(para, "one\ntwo\x1b[2J");
    assert_string_equal(out, ".PP\none two?[2J\n");
    free(out);
    out = capture(item, "overrides a key");
    assert_string_equal(out, ".TP\n.B \\-\\-set KEY=VALUE\noverrides a key\n");
    free(out);
}

static void test_header_names_the_page(void **state)
{
    char *text = NULL;
    size_t len;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    roff_header(f, "qbench", 1, "2026-12-02", "qbench 0.1.0", "User Commands");
    roff_section(f, "NAME");
    fclose(f);
    assert_non_null(strstr(text, ".TH \"QBENCH\" \"1\" \"2026\\-12\\-02\" \"qbench 0.1.0\" "
                                 "\"User Commands\"\n"));
    assert_non_null(strstr(text, ".SH \"NAME\"\n"));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_and_escapes_are_defused),
        cmocka_unit_test(test_header_names_the_page),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
