/* resultcheck: a results file that lies or could crash a reader is
 * refused, naming the field's path. Each case mutates a real baseline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errbuf.h"
#include "resultcheck.h"

static json_t *baseline(void)
{
    json_error_t jerr;
    json_t *doc = json_load_file(QBENCH_SOURCE_DIR "/results/baseline/gate.json", 0, &jerr);

    assert_non_null(doc);
    return doc;
}

/* json_t at a dotted path with [i] indices, e.g. "runs[0].outcomes". */
static json_t *at(json_t *doc, const char *path)
{
    char buf[256], *tok, *save = NULL;
    json_t *v = doc;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save)) {
        char *br = strchr(tok, '[');

        if (br)
            *br = '\0';
        if (*tok)
            v = json_object_get(v, tok);
        while (br && v) {
            v = json_array_get(v, strtoul(br + 1, NULL, 10));
            br = strchr(br + 1, '[');
        }
    }
    assert_non_null(v);
    return v;
}

struct mutation {
    const char *object; /* path of the object or array to change */
    const char *key;    /* member (NULL: array index idx) */
    size_t idx;
    json_t *(*value)(json_t *old);
    const char *expect; /* in the message */
};

static json_t *minus_five(json_t *old)
{
    (void)old;
    return json_integer(-5);
}
static json_t *text(json_t *old)
{
    (void)old;
    return json_string("x");
}
static json_t *plus_one(json_t *old)
{
    return json_integer(json_integer_value(old) + 1);
}
static json_t *huge(json_t *old)
{
    (void)old;
    return json_integer(INT64_MAX);
}
static json_t *nothing(json_t *old)
{
    (void)old;
    return NULL;
}
static json_t *bucket_out_of_range(json_t *old)
{
    (void)old;
    return json_pack("[i, i]", 99999, 1);
}

static void test_lies_are_refused_with_the_path(void **state)
{
    const struct mutation cases[] = {
        {"runs[0].outcomes", "established", 0, minus_five,
         "runs[0].outcomes.established: must be an integer in 0..1000000000000000, got -5"},
        {"runs[0].outcomes", "established", 0, text,
         "runs[0].outcomes.established: must be an integer"},
        {"runs[0].outcomes", "established", 0, huge, "got 9223372036854775807"},
        {"runs[0].outcomes", "timeout", 0, plus_one, "runs[0].outcomes: the classes add up"},
        {"runs[0].outcomes", "attempted", 0, nothing, "runs[0].outcomes.attempted"},
        {"runs[0].latency_us.connect", "count", 0, plus_one,
         "runs[0].latency_us.connect: buckets add up to"},
        {"runs[0].latency_us.connect.buckets", NULL, 0, bucket_out_of_range,
         "runs[0].latency_us.connect.buckets[0]: must be [index"},
        {"runs[0].latency_us.connect.buckets[0]", NULL, 1, huge,
         "runs[0].latency_us.connect.buckets[0]"},
        {"runs[0].timeline[0]", NULL, 1, minus_five, "runs[0].timeline[0][1]"},
        {"runs[0].repeats[2].outcomes", "established", 0, minus_five,
         "runs[0].repeats[2].outcomes.established"},
        {"runs[0].kernel", "ListenOverflows", 0, text, "runs[0].kernel.ListenOverflows"},
        {"runs[0].syn_retransmits", "1", 0, minus_five, "runs[0].syn_retransmits.1"},
        {"runs[0].accept_queue.samples[3]", NULL, 1, text, "runs[0].accept_queue.samples[3][1]"},
        {"runs[0].latency_us.connect_by_syn_retransmits.2", "count", 0, plus_one,
         "runs[0].latency_us.connect_by_syn_retransmits.2: buckets add up"},
        {"", "started_at", 0, minus_five, "started_at: must be a non-empty string"},
        {"", "interrupted", 0, text, "interrupted: must be true or false"},
    };
    char err[ERRBUF_LEN];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = baseline(), *obj = *cases[i].object ? at(doc, cases[i].object) : doc;

        assert_int_equal(resultcheck_document(doc, err, sizeof(err)), 0);
        if (cases[i].key) {
            json_t *v = cases[i].value(json_object_get(obj, cases[i].key));

            if (v)
                json_object_set_new(obj, cases[i].key, v);
            else
                json_object_del(obj, cases[i].key);
        } else {
            json_array_set_new(obj, cases[i].idx,
                               cases[i].value(json_array_get(obj, cases[i].idx)));
        }
        if (resultcheck_document(doc, err, sizeof(err)) == 0)
            fail_msg("case %zu (%s) was accepted", i, cases[i].expect);
        if (!strstr(err, cases[i].expect))
            fail_msg("case %zu: expected '%s' in '%s'", i, cases[i].expect, err);
        json_decref(doc);
    }
}

/* merge orders and lists inputs by these: absent, it is refused. */
static void test_merge_needs_the_identity(void **state)
{
    json_t *doc = baseline();
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(resultcheck_mergeable(doc, err, sizeof(err)), 0);
    json_object_del(doc, "finished_at");
    assert_int_equal(resultcheck_document(doc, err, sizeof(err)), 0);
    assert_int_equal(resultcheck_mergeable(doc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "finished_at"));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lies_are_refused_with_the_path),
        cmocka_unit_test(test_merge_needs_the_identity),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
