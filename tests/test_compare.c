#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include "compare.h"
#include "histjson.h"
#include "histogram.h"
#include "errbuf.h"
#include "testdocs.h"

#define MAXREP 8

static const struct fake_run base_runs[] = {
    {"{\"sysctl.net.ipv4.tcp_synack_retries\": 0}", 700, 100, 0, 200, 900, 3000000, 1200, 5000000},
    {"{\"sysctl.net.ipv4.tcp_synack_retries\": 1}", 800, 100, 0, 100, 900, 3000000, 1200, 5000000},
};

/* Compares base_runs with a copy changed by mutate, returns the verdict
 * and leaves the printed table in out. */
static enum compare_verdict run_compare(void (*mutate)(struct fake_run *), char **out)
{
    struct fake_run cur[2];
    struct compare_opts o;
    json_t *b, *c;
    char err[ERRBUF_LEN];
    size_t len;
    FILE *f = open_memstream(out, &len);
    enum compare_verdict v;

    memcpy(cur, base_runs, sizeof(cur));
    if (mutate)
        mutate(cur);
    b = fake_doc(base_runs, 2);
    c = fake_doc(cur, 2);
    compare_default_opts(&o);
    v = compare_results(b, c, &o, f, NULL, err, sizeof(err));
    fclose(f);
    json_decref(b);
    json_decref(c);
    return v;
}

static void expect_verdict(void (*mutate)(struct fake_run *), enum compare_verdict want,
                           const char *line_must_have)
{
    char *out = NULL;
    enum compare_verdict v = run_compare(mutate, &out);

    if (v != want)
        fail_msg("verdict %d, wanted %d; table:\n%s", v, want, out);
    if (line_must_have && !strstr(out, line_must_have))
        fail_msg("table lacks '%s':\n%s", line_must_have, out);
    free(out);
}

static void m_established_drops(struct fake_run *r)
{
    r[1].established -= 200;
    r[1].timeout += 200;
}
static void m_established_improves(struct fake_run *r)
{
    r[0].established += 150;
    r[0].timeout -= 100;
    r[0].greeting_timeout -= 50;
}
static void m_timeout_grows(struct fake_run *r)
{
    r[0].timeout += 150;
    r[0].established -= 150;
}
static void m_reset_appears(struct fake_run *r)
{
    r[0].reset += 150;
    r[0].greeting_timeout -= 150;
}
static void m_connect_p99_doubles(struct fake_run *r)
{
    r[0].connect_p99 *= 2;
}
static void m_connect_p50_noise(struct fake_run *r)
{
    r[0].connect_p50 += 300;
} /* +33%, < floor */
static void m_accept_p50_regress(struct fake_run *r)
{
    r[1].accept_p50 = 900000;
}
static void m_small_ratio_noise(struct fake_run *r)
{
    r[0].established -= 10;
    r[0].timeout += 10;
}
static void m_run_missing(struct fake_run *r)
{
    r[1].params = "{\"sysctl.net.ipv4.tcp_synack_retries\": 9}";
}
static void m_nothing_matches(struct fake_run *r)
{
    r[0].params = "{\"x\": 1}";
    r[1].params = "{\"x\": 2}";
}
/* a sweep with a duplicate value: the second run would never be judged */
static void m_duplicate_params(struct fake_run *r)
{
    r[1].params = r[0].params;
    r[1].established = 0;
    r[1].timeout = 1000;
}

static void test_no_change_is_no_regression(void **state)
{
    (void)state;
    expect_verdict(NULL, COMPARE_OK, "established_ratio");
}
static void test_improvement_is_no_regression(void **state)
{
    (void)state;
    expect_verdict(m_established_improves, COMPARE_OK, "better");
}
static void test_established_ratio_drop(void **state)
{
    (void)state;
    expect_verdict(m_established_drops, COMPARE_REGRESSION, "-20.00 pp");
}
static void test_timeout_ratio_growth(void **state)
{
    (void)state;
    expect_verdict(m_timeout_grows, COMPARE_REGRESSION, "timeout_ratio");
}
static void test_reset_ratio_growth(void **state)
{
    (void)state;
    expect_verdict(m_reset_appears, COMPARE_REGRESSION, "reset_ratio");
}
static void test_connect_p99_growth(void **state)
{
    (void)state;
    expect_verdict(m_connect_p99_doubles, COMPARE_REGRESSION, "+100.0%");
}
static void test_latency_noise_below_floor(void **state)
{
    (void)state;
    expect_verdict(m_connect_p50_noise, COMPARE_OK, NULL);
}
static void test_accept_p50_growth(void **state)
{
    (void)state;
    expect_verdict(m_accept_p50_regress, COMPARE_REGRESSION, "accept_p50_us");
}
static void test_ratio_noise_within_threshold(void **state)
{
    (void)state;
    expect_verdict(m_small_ratio_noise, COMPARE_OK, NULL);
}
static void test_missing_run_is_a_regression(void **state)
{
    (void)state;
    expect_verdict(m_run_missing, COMPARE_REGRESSION, "missing");
}
static void test_duplicate_params_are_bad_input(void **state)
{
    (void)state;
    expect_verdict(m_duplicate_params, COMPARE_BAD_INPUT, NULL);
}

/* Unrelated files: refused before a single verdict is printed. */
static void test_unrelated_files_are_bad_input(void **state)
{
    char *out = NULL;

    (void)state;
    assert_int_equal(run_compare(m_nothing_matches, &out), COMPARE_BAD_INPUT);
    assert_null(strstr(out, "REGRESSION"));
    free(out);
}

/* The p99 of three handshakes is their maximum: one slow handshake must not
 * fail CI, unless the user asks to judge so few samples. */
static void test_few_samples_are_not_judged(void **state)
{
    const struct fake_run base[] = {{"{\"server.backlog\": 2}", 0, 997, 0, 3, 47, 154, 0, 0}};
    struct fake_run cur[] = {{"{\"server.backlog\": 2}", 0, 997, 0, 3, 47, 2019, 0, 0}};
    json_t *b = fake_doc(base, 1), *c = fake_doc(cur, 1);
    struct compare_opts o;
    char err[ERRBUF_LEN], *out = NULL;
    size_t len;
    FILE *f = open_memstream(&out, &len);

    (void)state;
    compare_default_opts(&o);
    assert_int_equal(compare_results(b, c, &o, f, NULL, err, sizeof(err)), COMPARE_OK);
    fclose(f);
    assert_non_null(strstr(out, "few samples"));
    assert_non_null(strstr(out, "3/3 samples"));
    free(out);
    f = open_memstream(&out, &len);
    o.min_samples = 1;
    assert_int_equal(compare_results(b, c, &o, f, NULL, err, sizeof(err)), COMPARE_REGRESSION);
    fclose(f);
    free(out);
    json_decref(b);
    json_decref(c);
}

/* A run with repeats: the spread compare reads, per metric. */
static void set_spread(json_t *doc, const char *metric, const double *v, size_t n)
{
    json_t *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *spread = json_object_get(run, "spread"), *values = json_array();

    if (!spread) {
        spread = json_object();
        json_object_set_new(run, "spread", spread);
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(values, json_real(v[i]));
    json_object_set_new(spread, metric, json_pack("{s:o}", "values", values));
}

static enum compare_verdict compare_docs(json_t *b, json_t *c, const struct compare_opts *o,
                                         char **out)
{
    char err[ERRBUF_LEN];
    size_t len;
    FILE *f = open_memstream(out, &len);
    enum compare_verdict v = compare_results(b, c, o, f, NULL, err, sizeof(err));

    fclose(f);
    if (v == COMPARE_BAD_INPUT) {
        free(*out);
        *out = strdup(err);
    }
    return v;
}

/* Seven repeats a side: a 20% slower acceptor moved the established ratio
 * from 17.5-17.6% to 15.7-16.0% in every repeat, while the timeout ratio
 * swung 9-22% in both. The first is a regression, the second noise. */
static void test_repeats_are_judged_by_their_counts(void **state)
{
    const struct fake_run one[] = {{"{}", 175, 100, 0, 725, 900, 3000000, 1200, 5000000}};
    const double est_base[] = {0.175, 0.176, 0.175, 0.176, 0.175, 0.176, 0.175};
    const double est_slow[] = {0.157, 0.160, 0.158, 0.159, 0.157, 0.160, 0.158};
    const double to_base[] = {0.094, 0.216, 0.12, 0.15, 0.2, 0.11, 0.17};
    const double to_slow[] = {0.10, 0.21, 0.13, 0.16, 0.19, 0.12, 0.18};
    json_t *b = fake_doc(one, 1), *c = fake_doc(one, 1), *same = fake_doc(one, 1);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    set_spread(b, "established_ratio", est_base, 7);
    set_spread(c, "established_ratio", est_slow, 7);
    set_spread(b, "timeout_ratio", to_base, 7);
    set_spread(c, "timeout_ratio", to_slow, 7);
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_REGRESSION);
    if (!strstr(out, "17.50% [17.50%-17.60%] n=7"))
        fail_msg("%s", out);
    assert_non_null(strstr(out, "REGRESSION: 7 repeats a side; 2 gated metrics tested"));
    /* a point with repeats is not labelled a single run, and the table
     * fits an 80-100 column terminal */
    assert_non_null(strstr(out, "(no sweep): 7 repeats a side\n"));
    assert_null(strstr(out, "single run"));
    for (const char *line = out; *line;) {
        size_t len = strcspn(line, "\n");

        if (len > 100)
            fail_msg("a line of %zu columns:\n%.*s", len, (int)len, line);
        line += len + (line[len] == '\n');
    }
    {
        const char *line = strstr(out, "established_ratio");
        const char *to = strstr(out, "timeout_ratio");

        assert_non_null(line);
        assert_non_null(strstr(line, "REGRESSION"));
        assert_true(strstr(line, "REGRESSION") < to); /* on its own line */
        assert_null(strstr(to, "REGRESSION\n"));
    }
    free(out);
    /* identical repeats: nothing, however many metrics */
    set_spread(same, "established_ratio", est_base, 7);
    set_spread(same, "timeout_ratio", to_base, 7);
    assert_int_equal(compare_docs(b, same, &o, &out), COMPARE_OK);
    free(out);
    json_decref(b);
    json_decref(c);
    json_decref(same);
}

/* One side a single run: judged against the repeats of the other, whose
 * spread is the only estimate of the noise (4 degrees of freedom). */
static void test_a_single_run_is_judged_against_the_repeats(void **state)
{
    const struct fake_run inside[] = {{"{}", 175, 100, 0, 725, 900, 3000000, 1200, 5000000}};
    const struct fake_run below[] = {{"{}", 150, 100, 0, 750, 900, 3000000, 1200, 5000000}};
    const double est[] = {0.170, 0.18, 0.175, 0.176, 0.172};
    json_t *b = fake_doc(inside, 1), *ok = fake_doc(inside, 1), *bad = fake_doc(below, 1);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    set_spread(b, "established_ratio", est, 5);
    assert_int_equal(compare_docs(b, ok, &o, &out), COMPARE_OK);
    assert_non_null(strstr(out, "n=5"));
    free(out);
    /* 15.0%: 2.5 points below repeats that spread over 1 */
    assert_int_equal(compare_docs(b, bad, &o, &out), COMPARE_REGRESSION);
    free(out);
    json_decref(b);
    json_decref(ok);
    json_decref(bad);
}

/* Repeats of one run, as a run with repeat: N records them: spread values
 * for every gated metric, and the per-repeat outcome counts. */
static json_t *repeated(const double *est, const double *to, const double *acc, size_t n,
                        long long per)
{
    const struct fake_run one[] = {{"{}", 1000, 0, 0, 0, 900, 3000000, (long long)acc[0], 5000000}};
    json_t *doc = fake_doc(one, 1), *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *reps = json_array();
    double gt[MAXREP], acc99[MAXREP], c50[MAXREP], c99[MAXREP];
    long long tot[4] = {0, 0, 0, 0};

    for (size_t i = 0; i < n; i++) {
        struct fake_run f = {"{}",
                             llround(est[i] * (double)per),
                             llround(to[i] * (double)per),
                             0,
                             0,
                             900,
                             3000000,
                             (long long)acc[i],
                             5000000};

        f.greeting_timeout = per - f.established - f.timeout;
        gt[i] = (double)f.greeting_timeout / (double)per;
        acc99[i] = 5000000;
        c50[i] = 900;
        c99[i] = 3000000;
        tot[0] += f.established;
        tot[1] += f.timeout;
        tot[3] += f.greeting_timeout;
        json_array_append_new(reps, fake_run_json(&f));
    }
    json_object_set_new(run, "outcomes",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{}}", "attempted",
                                  (json_int_t)(per * (long long)n), "established",
                                  (json_int_t)tot[0], "timeout", (json_int_t)tot[1], "reset",
                                  (json_int_t)0, "refused", (json_int_t)0, "greeting_timeout",
                                  (json_int_t)tot[3], "error", (json_int_t)0, "errors"));
    json_object_set_new(run, "repeats", reps);
    set_spread(doc, "established_ratio", est, n);
    set_spread(doc, "timeout_ratio", to, n);
    set_spread(doc, "greeting_timeout_ratio", gt, n);
    set_spread(doc, "accept_p50_us", acc, n);
    set_spread(doc, "accept_p99_us", acc99, n);
    set_spread(doc, "connect_p50_us", c50, n);
    set_spread(doc, "connect_p99_us", c99, n);
    return doc;
}

/* The measurements (600 connections a repeat): a 4x slower
 * acceptor at 3 repeats a side, a 20% slower one at 5, are regressions; the
 * rank test they replace could not flag either (its smallest p, 0.10 at 3
 * and 0.0079 at 5 a side, never reaches alpha over a family of 12). */
static void test_few_repeats_still_see_a_slower_acceptor(void **state)
{
    const double e3[] = {0.177, 0.175, 0.178}, t3[] = {0.47, 0.45, 0.49};
    const double e3s[] = {0.052, 0.050, 0.054}, t3s[] = {0.87, 0.86, 0.88};
    const double a3[] = {453000, 450000, 460000}, a3s[] = {1200000, 1150000, 1260000};
    const double e5[] = {0.173, 0.162, 0.177, 0.175, 0.170}, t5[] = {0.4, 0.42, 0.38, 0.41, 0.4};
    const double e5s[] = {0.147, 0.137, 0.150, 0.148, 0.145}, t5s[] = {0.41, 0.4, 0.42, 0.4, 0.43};
    const double a5[] = {453000, 455000, 450000, 460000, 449000};
    const double a5s[] = {545000, 540000, 550000, 548000, 539000};
    json_t *b = repeated(e3, t3, a3, 3, 600), *c = repeated(e3s, t3s, a3s, 3, 600);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_REGRESSION);
    assert_non_null(strstr(out, "3 repeats a side"));
    free(out);
    json_decref(b);
    json_decref(c);
    b = repeated(e5, t5, a5, 5, 600);
    c = repeated(e5s, t5s, a5s, 5, 600);
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_REGRESSION);
    free(out);
    /* and the same repeats against themselves: nothing */
    assert_int_equal(compare_docs(b, b, &o, &out), COMPARE_OK);
    assert_non_null(strstr(out, "detectable"));
    free(out);
    json_decref(b);
    json_decref(c);
}

/* Two repeats against one: a single degree of freedom. Noisy metrics then
 * could not be flagged by any change, and compare says so instead of
 * "no regression", with the repeats that would judge them. */
static void test_no_power_is_cannot_judge(void **state)
{
    const double e[] = {0.17, 0.18}, t[] = {0.20, 0.45}, a[] = {450000, 520000};
    const double e1[] = {0.175}, t1[] = {0.30}, a1[] = {480000};
    json_t *b = repeated(e, t, a, 2, 300), *c = repeated(e1, t1, a1, 1, 300);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_CANNOT_JUDGE);
    free(out);
    {
        char err[ERRBUF_LEN];
        size_t len;
        FILE *f = open_memstream(&out, &len);

        compare_results(b, c, &o, f, NULL, err, sizeof(err));
        fclose(f);
        assert_non_null(strstr(out, "cannot judge"));
        assert_non_null(strstr(out, "need "));
        assert_non_null(strstr(err, "cannot judge: 2 (baseline) and 1 (current) repeats; "));
        free(out);
    }
    /* a gate of the steady metric alone can judge */
    o.gate = "established_ratio";
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_OK);
    assert_null(strstr(out, "timeout_ratio"));
    free(out);
    json_decref(b);
    json_decref(c);
}

/* client.threads is filled in from the CPU count: a baseline recorded on
 * 2 CPUs gates a 4-CPU runner, with a warning naming it. */
static void test_host_filled_values_warn(void **state)
{
    const struct fake_run one[] = {{"{}", 175, 100, 0, 725, 900, 3000000, 1200, 5000000}};
    json_t *b = fake_doc(one, 1), *c = fake_doc(one, 1);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    json_object_set_new(json_object_get(b, "config"), "client",
                        json_pack("{s:f, s:i}", "rate", 200.0, "threads", 2));
    json_object_set_new(json_object_get(c, "config"), "client",
                        json_pack("{s:f, s:i}", "rate", 200.0, "threads", 4));
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_OK);
    assert_non_null(strstr(out, "warning: client.threads differs: 2 (baseline) against 4"));
    free(out);
    json_decref(b);
    json_decref(c);
}

/* Not the same experiment: refused before any verdict, unless asked. */
static void test_other_experiments_are_refused(void **state)
{
    const struct fake_run one[] = {{"{}", 175, 100, 0, 725, 900, 3000000, 1200, 5000000}};
    json_t *b = fake_doc(one, 1), *c = fake_doc(one, 1);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    json_object_set_new(json_object_get(json_object_get(c, "config"), "server"), "backlog",
                        json_integer(4));
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_BAD_INPUT);
    assert_non_null(strstr(out, "settings differ in 1 key (server.backlog)"));
    free(out);
    o.allow_different = true;
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_OK);
    assert_non_null(strstr(out, "warning: the settings differ"));
    free(out);
    o.allow_different = false;
    json_object_set_new(json_object_get(json_object_get(c, "config"), "server"), "backlog",
                        json_integer(8));
    json_object_set_new(c, "kernel", json_string("7.0"));
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_OK);
    assert_non_null(strstr(out, "warning: kernel differs"));
    free(out);
    json_object_set_new(c, "interrupted", json_true());
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_BAD_INPUT);
    assert_non_null(strstr(out, "interrupted"));
    free(out);
    /* names from files reach the terminal without their escape sequences */
    json_object_set_new(c, "interrupted", json_false());
    json_object_set_new(c, "name", json_string("evil\x1b[2Jname"));
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_BAD_INPUT);
    assert_null(strchr(out, '\x1b'));
    assert_non_null(strstr(out, "evil?[2Jname"));
    free(out);
    json_decref(b);
    json_decref(c);
}

/* A run of n repeats whose accept latencies are bimodal: per repeat, slow[r]
 * of 300 samples at about 1.43 s (a retransmit), the rest at about 450 ms
 * (plus shift_us). */
static json_t *bimodal(const int *slow, size_t n, uint64_t shift_us)
{
    const struct fake_run one[] = {{"{}", 300, 0, 0, 0, 900, 3000000, 450000, 1430000}};
    json_t *doc = fake_doc(one, 1), *run = json_array_get(json_object_get(doc, "runs"), 0);
    json_t *reps = json_array();
    struct histogram *all = malloc(sizeof(*all)), *h = malloc(sizeof(*h));
    double p50[MAXREP], est[MAXREP];

    histogram_init(all);
    for (size_t r = 0; r < n; r++) {
        json_t *rep = fake_run_json(&one[0]);

        histogram_init(h);
        for (int i = 0; i < 300; i++)
            histogram_record(
                h,
                (i < slow[r] ? 1430000 + (uint64_t)i * 100 : 450000 + (uint64_t)i * 50) + shift_us);
        histogram_merge(all, h);
        p50[r] = (double)histogram_quantile(h, 0.5);
        est[r] = 1.0;
        json_object_set_new(json_object_get(rep, "latency_us"), "accept", histogram_to_json(h));
        json_array_append_new(reps, rep);
    }
    json_object_set_new(json_object_get(run, "latency_us"), "accept", histogram_to_json(all));
    json_object_set_new(run, "repeats", reps);
    set_spread(doc, "accept_p50_us", p50, n);
    set_spread(doc, "established_ratio", est, n);
    free(all);
    free(h);
    return doc;
}

/* The median of a bimodal latency flips between its modes from repeat to
 * repeat (slow shares 140-160 of 300 around the middle); the share of slow
 * samples does not. Judged by that share, identical runs are judged (not
 * "cannot judge"), and a fifth more slow samples is a regression. */
static void test_bimodal_latency_is_judged_by_its_slow_share(void **state)
{
    const int a[] = {140, 160, 145, 158, 150}, b[] = {155, 142, 159, 147, 151};
    json_t *base = bimodal(a, 5, 0), *same = bimodal(b, 5, 0), *slower = bimodal(b, 5, 0);
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    compare_default_opts(&o);
    o.gate = "accept_p50_us";
    assert_int_equal(compare_docs(base, same, &o, &out), COMPARE_OK);
    assert_non_null(strstr(out, "pp > "));
    free(out);
    json_decref(base);
    json_decref(slower);
    {
        /* 40% slow against 60% slow: the median moves to the slow mode */
        const int forty[] = {115, 125, 120, 118, 122}, sixty[] = {180, 175, 185, 178, 182};

        base = bimodal(forty, 5, 0);
        slower = bimodal(sixty, 5, 0);
    }
    assert_int_equal(compare_docs(base, slower, &o, &out), COMPARE_REGRESSION);
    free(out);
    json_decref(base);
    json_decref(same);
    json_decref(slower);
}

/* validate and run say when repeat leaves the gate blind */
static void test_repeat_warnings(void **state)
{
    char buf[400];

    (void)state;
    compare_repeat_warning(5, NULL, 0.05, buf, sizeof(buf));
    assert_string_equal(buf, "");
    compare_repeat_warning(3, NULL, 0.05, buf, sizeof(buf));
    assert_string_equal(buf, "");
    compare_repeat_warning(1, NULL, 0.05, buf, sizeof(buf));
    assert_string_equal(buf, ""); /* no gate declared: single runs are a choice */
    compare_repeat_warning(1, "established_ratio", 0.05, buf, sizeof(buf));
    assert_non_null(strstr(buf, "repeat 1: compare can judge single runs only by fixed"));
    compare_repeat_warning(2, NULL, 0.05, buf, sizeof(buf));
    /* t(2) two-sided at 0.05 / 12 */
    assert_non_null(strstr(buf, "beyond 15 standard errors (alpha 0.05 over 12 gated metrics)"));
}

static void test_machine_readable_formats(void **state)
{
    struct fake_run cur[2];
    json_t *b, *c, *parsed;
    struct compare_opts o;
    char *out = NULL;

    (void)state;
    memcpy(cur, base_runs, sizeof(cur));
    m_established_drops(cur);
    b = fake_doc(base_runs, 2);
    c = fake_doc(cur, 2);
    compare_default_opts(&o);
    o.format = COMPARE_JSON;
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_REGRESSION);
    parsed = json_loads(out, 0, NULL);
    assert_non_null(parsed);
    assert_string_equal(json_string_value(json_object_get(parsed, "verdict")), "regression");
    assert_true(json_array_size(json_object_get(parsed, "rows")) >= 8);
    json_decref(parsed);
    free(out);
    o.format = COMPARE_JUNIT;
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_REGRESSION);
    assert_non_null(strstr(out, "<testsuite name=\"qbench compare\""));
    assert_non_null(strstr(out, "failures=\"2\""));
    assert_non_null(strstr(out, "<failure message="));
    /* params with quotes are escaped in attributes */
    assert_non_null(strstr(out, "classname=\"sysctl.net.ipv4.tcp_synack_retries=1\""));
    free(out);
    o.format = COMPARE_MARKDOWN;
    assert_int_equal(compare_docs(b, c, &o, &out), COMPARE_REGRESSION);
    assert_non_null(strstr(
        out, "| run | metric | baseline | current | change | p (Holm) | detectable | verdict |"));
    assert_non_null(strstr(out, "**REGRESSION**"));
    free(out);
    json_decref(b);
    json_decref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_few_samples_are_not_judged),
        cmocka_unit_test(test_no_change_is_no_regression),
        cmocka_unit_test(test_improvement_is_no_regression),
        cmocka_unit_test(test_established_ratio_drop),
        cmocka_unit_test(test_timeout_ratio_growth),
        cmocka_unit_test(test_reset_ratio_growth),
        cmocka_unit_test(test_connect_p99_growth),
        cmocka_unit_test(test_latency_noise_below_floor),
        cmocka_unit_test(test_accept_p50_growth),
        cmocka_unit_test(test_ratio_noise_within_threshold),
        cmocka_unit_test(test_missing_run_is_a_regression),
        cmocka_unit_test(test_unrelated_files_are_bad_input),
        cmocka_unit_test(test_duplicate_params_are_bad_input),
        cmocka_unit_test(test_repeats_are_judged_by_their_counts),
        cmocka_unit_test(test_a_single_run_is_judged_against_the_repeats),
        cmocka_unit_test(test_few_repeats_still_see_a_slower_acceptor),
        cmocka_unit_test(test_no_power_is_cannot_judge),
        cmocka_unit_test(test_host_filled_values_warn),
        cmocka_unit_test(test_repeat_warnings),
        cmocka_unit_test(test_bimodal_latency_is_judged_by_its_slow_share),
        cmocka_unit_test(test_other_experiments_are_refused),
        cmocka_unit_test(test_machine_readable_formats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
