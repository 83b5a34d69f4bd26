#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "outcome.h"

static void test_handshake_failures(void **state)
{
    (void)state;
    assert_int_equal(outcome_classify(PHASE_CONNECT, ETIMEDOUT), OUTCOME_TIMEOUT);
    assert_int_equal(outcome_classify(PHASE_CONNECT, OUTCOME_ERR_TIMER), OUTCOME_TIMEOUT);
    assert_int_equal(outcome_classify(PHASE_CONNECT, ECONNREFUSED), OUTCOME_REFUSED);
    assert_int_equal(outcome_classify(PHASE_CONNECT, ECONNRESET), OUTCOME_RESET);
    assert_int_equal(outcome_classify(PHASE_CONNECT, EADDRNOTAVAIL), OUTCOME_ERROR);
    assert_int_equal(outcome_classify(PHASE_CONNECT, EMFILE), OUTCOME_ERROR);
    assert_int_equal(outcome_classify(PHASE_CONNECT, ENETUNREACH), OUTCOME_ERROR);
}

static void test_after_the_handshake(void **state)
{
    (void)state;
    assert_int_equal(outcome_classify(PHASE_GREETING, 0), OUTCOME_ESTABLISHED);
    /* the client believed it was connected; the server never took it */
    assert_int_equal(outcome_classify(PHASE_GREETING, OUTCOME_ERR_TIMER), OUTCOME_GREETING_TIMEOUT);
    assert_int_equal(outcome_classify(PHASE_GREETING, ETIMEDOUT), OUTCOME_GREETING_TIMEOUT);
    /* abort_on_overflow=1, or a half-open connection answered with RST */
    assert_int_equal(outcome_classify(PHASE_GREETING, ECONNRESET), OUTCOME_RESET);
    assert_int_equal(outcome_classify(PHASE_GREETING, EPIPE), OUTCOME_RESET);
    assert_int_equal(outcome_classify(PHASE_GREETING, OUTCOME_ERR_EOF), OUTCOME_ERROR);
    assert_int_equal(outcome_classify(PHASE_GREETING, OUTCOME_ERR_INTERRUPTED), OUTCOME_ERROR);
}

static void test_error_names(void **state)
{
    char buf[16];

    (void)state;
    assert_string_equal(outcome_error_name(EADDRNOTAVAIL, buf, sizeof(buf)), "EADDRNOTAVAIL");
    assert_string_equal(outcome_error_name(EMFILE, buf, sizeof(buf)), "EMFILE");
    assert_string_equal(outcome_error_name(OUTCOME_ERR_EOF, buf, sizeof(buf)), "EOF");
    assert_string_equal(outcome_error_name(OUTCOME_ERR_INTERRUPTED, buf, sizeof(buf)),
                        "INTERRUPTED");
    assert_string_equal(outcome_error_name(4000, buf, sizeof(buf)), "E4000");
}

static void test_class_names_match_the_spec(void **state)
{
    (void)state;
    assert_string_equal(outcome_name(OUTCOME_ESTABLISHED), "established");
    assert_string_equal(outcome_name(OUTCOME_TIMEOUT), "timeout");
    assert_string_equal(outcome_name(OUTCOME_RESET), "reset");
    assert_string_equal(outcome_name(OUTCOME_REFUSED), "refused");
    assert_string_equal(outcome_name(OUTCOME_GREETING_TIMEOUT), "greeting_timeout");
    assert_string_equal(outcome_name(OUTCOME_ERROR), "error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_failures),
        cmocka_unit_test(test_after_the_handshake),
        cmocka_unit_test(test_error_names),
        cmocka_unit_test(test_class_names_match_the_spec),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
