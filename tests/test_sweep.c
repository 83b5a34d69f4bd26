#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "plan.h"
#include "sweep.h"

static char *write_temp(const char *text)
{
    static char path[64];
    int fd;

    strcpy(path, "/tmp/qbench-sweep-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_cartesian_product_last_key_fastest(void **state)
{
    json_t *spec =
        json_loads("{\"server.backlog\": [1, 2, 3], \"client.rate\": [10, 20]}", 0, NULL);
    struct sweep sw;
    char err[ERRBUF_LEN];
    json_t *p;

    (void)state;
    assert_int_equal(sweep_parse(spec, "t.json", &sw, err, sizeof(err)), 0);
    assert_int_equal(sw.npoints, 6);
    p = sweep_params(&sw, 0);
    assert_int_equal(json_integer_value(json_object_get(p, "server.backlog")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "client.rate")), 10);
    json_decref(p);
    p = sweep_params(&sw, 1);
    assert_int_equal(json_integer_value(json_object_get(p, "server.backlog")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "client.rate")), 20);
    json_decref(p);
    p = sweep_params(&sw, 5);
    assert_int_equal(json_integer_value(json_object_get(p, "server.backlog")), 3);
    assert_int_equal(json_integer_value(json_object_get(p, "client.rate")), 20);
    json_decref(p);
    sweep_destroy(&sw);
    json_decref(spec);
}

static void test_no_sweep_is_one_point_with_empty_params(void **state)
{
    struct sweep sw;
    char err[ERRBUF_LEN];
    json_t *p;

    (void)state;
    assert_int_equal(sweep_parse(NULL, "t.json", &sw, err, sizeof(err)), 0);
    assert_int_equal(sw.npoints, 1);
    p = sweep_params(&sw, 0);
    assert_int_equal(json_object_size(p), 0);
    json_decref(p);
}

static void test_plan_applies_sysctl_points(void **state)
{
    const char *path =
        write_temp("{\"sysctl\": {\"net.ipv4.tcp_syn_retries\": 1},"
                   " \"client\": {\"rate\": 10, \"connections\": 5},"
                   " \"sweep\": {\"sysctl.net.ipv4.tcp_synack_retries\": [0, 1, 2]}}");
    struct plan p;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plan_load(&p, path, NULL, 0, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(p.npoints, 3);
    for (size_t i = 0; i < 3; i++) {
        char want[8];
        int found = 0;

        snprintf(want, sizeof(want), "%zu", i);
        for (size_t k = 0; k < p.points[i].cfg.nsysctl; k++)
            if (strcmp(p.points[i].cfg.sysctl[k].name, "net.ipv4.tcp_synack_retries") == 0) {
                assert_string_equal(p.points[i].cfg.sysctl[k].value, want);
                found = 1;
            }
        assert_true(found);
        assert_int_equal(json_integer_value(json_object_get(p.points[i].params,
                                                            "sysctl.net.ipv4.tcp_synack_retries")),
                         (json_int_t)i);
    }
    assert_non_null(json_object_get(p.effective, "sweep"));
    plan_destroy(&p);
    unlink(path);
}

static void test_set_and_output_override_every_point(void **state)
{
    const char *path = write_temp("{\"client\": {\"rate\": 10, \"connections\": 5},"
                                  " \"sweep\": {\"server.backlog\": [1, 2]}}");
    const char *sets[] = {"client.rate=77"};
    struct plan p;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plan_load(&p, path, sets, 1, "/tmp/out.json", NULL, err, sizeof(err)), 0);
    assert_true(p.points[0].cfg.client.rate == 77 && p.points[1].cfg.client.rate == 77);
    assert_int_equal(p.points[1].cfg.server.backlog, 2);
    assert_string_equal(p.id.output, "/tmp/out.json");
    plan_destroy(&p);
    unlink(path);
}

static void test_a_bad_value_anywhere_fails_before_running(void **state)
{
    const char *path = write_temp("{\"client\": {\"rate\": 10, \"connections\": 5},"
                                  " \"sweep\": {\"server.backlog\": [1, 2, -9]}}");
    struct plan p;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plan_load(&p, path, NULL, 0, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "server.backlog: must be >= -1, got -9"));
    assert_non_null(strstr(err, "sweep point 3 of 3"));
    unlink(path);
}

/* A bad value from --set is blamed on --set, not on the file; one from
 * the file still names the file. */
static void test_errors_name_where_the_value_came_from(void **state)
{
    const char *path = write_temp("{\"client\": {\"rate\": 10, \"connections\": 5},"
                                  " \"server\": {\"backlog\": -7}}");
    const char *sets[] = {"client.rate=-5", "server.accept_delay_ms=2"};
    const char *whole[] = {"client={\"rate\": -5, \"connections\": 5}"};
    struct plan p;
    char err[ERRBUF_LEN], want[256];

    (void)state;
    assert_int_equal(plan_load(&p, path, sets, 2, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--set client.rate: must be > 0, got -5"));
    snprintf(want, sizeof(want), "%s: server.backlog: must be >= -1, got -7", path);
    assert_non_null(strstr(err, want));
    snprintf(want, sizeof(want), "%s: client.rate", path);
    assert_null(strstr(err, want));
    /* a set that replaced the whole object gave every key in it */
    assert_int_equal(plan_load(&p, path, whole, 1, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--set client.rate: must be > 0, got -5"));
    unlink(path);
}

/* --set on a swept key replaces that sweep, with a note; sweep={} drops
 * the sweep. */
static void test_set_replaces_a_sweep(void **state)
{
    const char *path = write_temp("{\"client\": {\"rate\": 10, \"connections\": 5},"
                                  " \"sweep\": {\"server.backlog\": [1, 2, 3],"
                                  " \"client.rate\": [5, 10]}}");
    const char *one[] = {"server.backlog=8"};
    const char *none[] = {"sweep={}"};
    struct plan p;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plan_load(&p, path, one, 1, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(p.npoints, 2); /* only client.rate still varies */
    assert_int_equal(p.points[0].cfg.server.backlog, 8);
    assert_int_equal(p.points[1].cfg.server.backlog, 8);
    assert_string_equal(p.notes, "--set server.backlog=8 replaces the sweep over "
                                 "server.backlog (3 values)");
    plan_destroy(&p);
    assert_int_equal(plan_load(&p, path, none, 1, NULL, NULL, err, sizeof(err)), 0);
    assert_int_equal(p.npoints, 1);
    assert_int_equal(json_object_size(p.points[0].params), 0);
    assert_null(json_object_get(p.effective, "sweep"));
    plan_destroy(&p);
    unlink(path);
    /* without sets, an empty sweep in a file is still an error */
    path = write_temp("{\"client\": {\"rate\": 10, \"connections\": 5}, \"sweep\": {}}");
    assert_int_equal(plan_load(&p, path, NULL, 0, NULL, NULL, err, sizeof(err)), -1);
    unlink(path);
}

static void test_sweep_errors(void **state)
{
    static const struct {
        const char *sweep;
        const char *must_say;
    } cases[] = {
        {"{}", "sweep: empty"},
        {"[1]", "sweep: must be an object"},
        {"{\"server.backlog\": []}", "sweep.server.backlog: must be a non-empty list"},
        {"{\"server.backlog\": 4}", "sweep.server.backlog: must be a non-empty list"},
        {"{\"name\": [\"a\", \"b\"]}", "sweep.name: only server.*"},
        {"{\"isolate\": [true, false]}", "sweep.isolate: only server.*"},
        {"{\"sysctl.\": [1]}", "sweep.sysctl.: a sysctl is addressed as sysctl.<name>"},
        {"{\"server.bogus\": [1]}", "sweep.server.bogus: unknown key"},
        {"{\"output\": [\"a\", \"b\"]}", "sweep.output: only server.*"},
        {"{\"server.backlog\": [8, 4, 8]}",
         "sweep.server.backlog: the value 8 appears twice (items 1 and 3)"},
        {"{\"client.close\": [\"reset\", \"reset\"]}",
         "sweep.client.close: the value \"reset\" appears twice"},
    };
    char err[ERRBUF_LEN];
    struct sweep sw;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *spec = json_loads(cases[i].sweep, JSON_DECODE_ANY, NULL);

        assert_non_null(spec);
        if (sweep_parse(spec, "t.json", &sw, err, sizeof(err)) != -1)
            fail_msg("accepted sweep %s", cases[i].sweep);
        if (!strstr(err, cases[i].must_say))
            fail_msg("sweep %s said '%s', expected '%s'", cases[i].sweep, err, cases[i].must_say);
        json_decref(spec);
    }
}

static void test_swept_sysctl_must_be_per_netns(void **state)
{
    const char *path = write_temp("{\"client\": {\"rate\": 10, \"connections\": 5},"
                                  " \"sweep\": {\"sysctl.vm.swappiness\": [1]}}");
    struct plan p;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(plan_load(&p, path, NULL, 0, NULL, NULL, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "sysctl.vm.swappiness: not a per-network-namespace"));
    unlink(path);
}

/* Every config the project ships validates, sweep and all. */
static void test_every_shipped_config_validates(void **state)
{
    DIR *d = opendir(QBENCH_SOURCE_DIR "/configs");
    struct dirent *e;
    size_t n = 0;

    (void)state;
    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[512], err[ERRBUF_LEN];
        size_t len = strlen(e->d_name);
        struct plan p;

        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/configs/%s", QBENCH_SOURCE_DIR, e->d_name);
        if (plan_load(&p, path, NULL, 0, NULL, NULL, err, sizeof(err)) != 0)
            fail_msg("%s does not validate: %s", path, err);
        assert_true(p.npoints >= 1);
        plan_destroy(&p);
        n++;
    }
    closedir(d);
    assert_true(n >= 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cartesian_product_last_key_fastest),
        cmocka_unit_test(test_no_sweep_is_one_point_with_empty_params),
        cmocka_unit_test(test_plan_applies_sysctl_points),
        cmocka_unit_test(test_every_shipped_config_validates),
        cmocka_unit_test(test_set_and_output_override_every_point),
        cmocka_unit_test(test_a_bad_value_anywhere_fails_before_running),
        cmocka_unit_test(test_sweep_errors),
        cmocka_unit_test(test_errors_name_where_the_value_came_from),
        cmocka_unit_test(test_set_replaces_a_sweep),
        cmocka_unit_test(test_swept_sysctl_must_be_per_netns),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
