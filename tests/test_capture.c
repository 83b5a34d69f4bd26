/* capture: the capture file's name beside the results (what hooks.before
 * calls {out}, plus ".pcap"), and the runs[].capture entry a capture's
 * counts make: complete only when the file holds every packet the kernel
 * let in. The capture itself runs in test_capture_run (a namespace). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"

static void test_the_file_is_named_beside_the_results(void **state)
{
    char out[PATH_MAX];

    (void)state;
    assert_int_equal(capture_file_name("results/slow.json", 1, 1, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "results/slow-p1.pcap");
    /* a repeated point: one file per repeat */
    assert_int_equal(capture_file_name("results/slow.json", 3, 2, 5, out, sizeof(out)), 0);
    assert_string_equal(out, "results/slow-p3-r2.pcap");
    /* an output not ending in .json keeps its whole name */
    assert_int_equal(capture_file_name("/tmp/r.out", 2, 1, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "/tmp/r.out-p2.pcap");
    assert_int_equal(capture_out_base("a/b.json", 1, 1, 1, out, sizeof(out)), 0);
    assert_string_equal(out, "a/b-p1");
    /* ".json" alone is a name, not a suffix to strip */
    assert_int_equal(capture_file_name(".json", 1, 1, 1, out, sizeof(out)), 0);
    assert_string_equal(out, ".json-p1.pcap");
}

static void test_no_name_without_a_beside_or_room(void **state)
{
    char out[PATH_MAX], small[12];

    (void)state;
    assert_int_equal(capture_file_name("-", 1, 1, 1, out, sizeof(out)), -1);
    assert_int_equal(capture_file_name("", 1, 1, 1, out, sizeof(out)), -1);
    /* "r/x-p1.pcap" needs 12 bytes with its NUL; "r/xy-p1.pcap" 13 */
    assert_int_equal(capture_file_name("r/x.json", 1, 1, 1, small, sizeof(small)), 0);
    assert_string_equal(small, "r/x-p1.pcap");
    assert_int_equal(capture_file_name("r/xy.json", 1, 1, 1, small, sizeof(small)), -1);
    assert_int_equal(capture_out_base("r/xyzxyzxyz.json", 1, 1, 1, small, sizeof(small)), -1);
}

static struct capture_result whole(void)
{
    return (struct capture_result){"r-p1.pcap", "inbound and tcp port 80",
                                   "lo",        128,
                                   8192,        100,
                                   7000,        true,
                                   true,        100,
                                   0,           0,
                                   true,        2000.0,
                                   0.3,         ""};
}

static void test_complete_only_when_the_file_holds_every_packet(void **state)
{
    struct capture_result r = whole();
    json_t *j;

    (void)state;
    j = capture_result_json(&r);
    assert_true(json_is_true(json_object_get(j, "complete")));
    assert_int_equal(json_integer_value(json_object_get(j, "packets")), 100);
    assert_true(json_real_value(json_object_get(j, "packets_per_s")) == 50.0);
    assert_null(json_object_get(j, "error"));
    json_decref(j);
    /* the kernel dropped some: incomplete, and how many */
    r.dropped = 3;
    r.received = 103;
    j = capture_result_json(&r);
    assert_false(json_is_true(json_object_get(j, "complete")));
    assert_int_equal(json_integer_value(json_object_get(j, "dropped")), 3);
    json_decref(j);
    /* the kernel's counts unknown: null, and not complete */
    r = whole();
    r.have_stats = false;
    j = capture_result_json(&r);
    assert_false(json_is_true(json_object_get(j, "complete")));
    assert_true(json_is_null(json_object_get(j, "dropped")));
    assert_true(json_is_null(json_object_get(j, "received")));
    json_decref(j);
    /* more let in than written (a thread that ended early) */
    r = whole();
    r.received = 101;
    r.stopped = false;
    j = capture_result_json(&r);
    assert_false(json_is_true(json_object_get(j, "complete")));
    json_decref(j);
    /* the file could not be kept: said, and not complete */
    r = whole();
    r.written = false;
    strcpy(r.error, "writing the capture: No space left on device; the file was removed");
    j = capture_result_json(&r);
    assert_false(json_is_true(json_object_get(j, "complete")));
    assert_string_equal(json_string_value(json_object_get(j, "error")), r.error);
    json_decref(j);
}

/* A run that sent SYNs and a capture that holds none: it looked in the
 * wrong place, and cannot be called complete. */
static void test_an_empty_capture_of_a_busy_run_is_not_complete(void **state)
{
    struct capture_result r = whole();
    json_t *j;

    (void)state;
    r.packets = r.received = r.bytes = 0;
    j = capture_result_json(&r);
    capture_judge(j, 0); /* nothing was sent: empty is right */
    assert_true(json_is_true(json_object_get(j, "complete")));
    capture_judge(j, 300);
    assert_false(json_is_true(json_object_get(j, "complete")));
    assert_non_null(strstr(json_string_value(json_object_get(j, "error")), "none of the run's"));
    json_decref(j);
    r = whole();
    j = capture_result_json(&r);
    capture_judge(j, 300); /* packets there: untouched */
    assert_true(json_is_true(json_object_get(j, "complete")));
    assert_null(json_object_get(j, "error"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_file_is_named_beside_the_results),
        cmocka_unit_test(test_no_name_without_a_beside_or_room),
        cmocka_unit_test(test_complete_only_when_the_file_holds_every_packet),
        cmocka_unit_test(test_an_empty_capture_of_a_busy_run_is_not_complete),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
