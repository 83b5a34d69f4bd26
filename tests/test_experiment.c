/* experiment: the document of the points finished so far, at any time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "errbuf.h"
#include "experiment.h"
#include "rundoc.h"

static char config_path[64];

static void load_plan(struct plan *plan)
{
    static const char text[] =
        "{\"name\": \"exp\", \"target\": \"127.0.0.1:9\", \"isolate\": false,"
        " \"client\": {\"rate\": 100, \"connections\": 10},"
        " \"sweep\": {\"client.rate\": [100, 200]},"
        " \"expect\": {\"established_ratio_min\": 0.5}}";
    char err[ERRBUF_LEN];
    FILE *f;
    int fd;

    snprintf(config_path, sizeof(config_path), "/tmp/qbench-exp-XXXXXX");
    fd = mkstemp(config_path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    if (plan_load(plan, config_path, NULL, 0, NULL, NULL, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    unlink(config_path);
}

/* A finished point as the runner would leave it, in outline. */
static json_t *point(const json_t *params, long long established, long long attempted)
{
    return json_pack("{s:O, s:{s:I, s:I}}", RD_PARAMS, params, RD_OUTCOMES, RD_ATTEMPTED,
                     (json_int_t)attempted, "established", (json_int_t)established);
}

static int calls;

static int count_points(const struct experiment *x, size_t point, void *ctx, char *err,
                        size_t errlen)
{
    (void)x;
    (void)point;
    (void)err;
    (void)errlen;
    (*(int *)ctx)++;
    return 0;
}

static void test_the_document_holds_the_points_finished_so_far(void **state)
{
    struct plan plan;
    struct experiment x;
    struct shard shard = {.index = 1, .count = 3};
    json_t *doc;
    bool pass;

    (void)state;
    load_plan(&plan);
    assert_int_equal(plan.npoints, 2);
    experiment_init(&x, &plan,
                    &(struct experiment_opts){
                        .quiet = true, .shard = &shard, .point_done = count_points, .ctx = &calls});
    /* before any point: an empty document, every bound unjudged */
    doc = experiment_document(&x, &pass);
    assert_int_equal(json_array_size(rundoc_runs(doc)), 0);
    assert_string_equal(json_string_value(json_object_get(doc, RD_NAME)), "exp");
    json_decref(doc);
    /* one point finished, well within the bound */
    json_array_append_new(x.runs, point(plan.points[0].params, 9, 10));
    doc = experiment_document(&x, &pass);
    assert_int_equal(json_array_size(rundoc_runs(doc)), 1);
    assert_true(pass);
    assert_int_equal(json_integer_value(rundoc_get(doc, RD_SHARD, "index")), 1);
    assert_int_equal(json_integer_value(rundoc_get(doc, RD_SHARD, "count")), 3);
    json_decref(doc);
    /* the second fails the bound: the document says so */
    json_array_append_new(x.runs, point(plan.points[1].params, 2, 10));
    doc = experiment_document(&x, &pass);
    assert_int_equal(json_array_size(rundoc_runs(doc)), 2);
    assert_false(pass);
    assert_true(json_is_false(
        rundoc_get(json_object_get(doc, RD_EXPECT), "established_ratio_min", "pass")));
    json_decref(doc);
    experiment_destroy(&x);
    plan_destroy(&plan);
}

static void test_an_unsharded_document_has_no_shard(void **state)
{
    struct plan plan;
    struct experiment x;
    struct shard one = {.index = 0, .count = 1};
    json_t *doc;
    bool pass;

    (void)state;
    load_plan(&plan);
    experiment_init(&x, &plan, &(struct experiment_opts){.quiet = true, .shard = &one});
    doc = experiment_document(&x, &pass);
    assert_null(json_object_get(doc, RD_SHARD));
    json_decref(doc);
    experiment_destroy(&x);
    plan_destroy(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_document_holds_the_points_finished_so_far),
        cmocka_unit_test(test_an_unsharded_document_has_no_shard),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
