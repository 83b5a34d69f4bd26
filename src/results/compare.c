#include "compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "histjson.h"
#include "histogram.h"
#include "metric.h"
#include "results.h"
#include "stats.h"
#include "wrap.h"
#include "rundoc.h"

#define MAX_VALUES 100
/* Latency percentiles across repeats: a spread below 1% (in log units) is
 * the histogram's resolution, not a measurement. */
#define LOG_SD_FLOOR 0.01
/* A latency that could only be flagged past ten times its value is not
 * being watched. */
#define LOG_HEADROOM 2.302585092994046
#define MAX_WARNINGS 8

void compare_default_opts(struct compare_opts *o)
{
    o->latency_pct = 50.0;
    o->latency_floor_us = 500.0;
    o->ratio_pp = 10.0;
    o->min_samples = 100.0;
    o->alpha = 0.05;
    o->min_effect_pp = 1.0;
    o->min_effect_pct = 5.0;
    o->allow_different = false;
    o->format = COMPARE_TEXT;
    o->gate = NULL;
}

int compare_format_of(const char *name)
{
    static const char *const names[] = {"text", "json", "markdown", "junit"};

    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

/* One metric of one matched run. */
struct row {
    char run[160];
    const struct metric *m;
    size_t nb, nc; /* values on each side (repeats, or 1) */
    double b[MAX_VALUES], c[MAX_VALUES];
    double bmed, bmin, bmax, cmed, cmin, cmax;
    const char *method;   /* "quasi-binomial", "log-t", "threshold", "" */
    bool tested;          /* takes part in Holm */
    struct stats_test st; /* the test across repeats */
    double nbar;          /* counts: attempts (or samples) per repeat */
    bool slower_share;    /* a latency judged by the share of samples slower than the
                             baseline's percentile (counts), not by its values */
    double pbar;          /* that share, both sides pooled */
    double bmerged;       /* both sides' pooled percentile: "slower" means above it */
    double p, padj;
    bool worse, effect_ok; /* direction and size of the change */
    double mde;            /* smallest worsening it could flag: ratio or log ratio */
    bool blind;            /* no worsening possible could reach alpha */
    unsigned need;         /* repeats a side that would judge it (0: over 100) */
    const char *verdict;
    char note[48];
};

struct report {
    struct row *rows;
    size_t n, cap;
    char warnings[MAX_WARNINGS][300];
    size_t nwarn;
    size_t ntested, nthreshold, nconstant, nblind;
    size_t maxb, maxc; /* repeats a side */
    bool regression;
};

static const json_t *find_run(const json_t *doc, const json_t *params)
{
    const json_t *runs = rundoc_runs(doc);

    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i);

        if (json_equal(rundoc_params(run), (json_t *)params))
            return run;
    }
    return NULL;
}

/* Two runs of one file with equal params would both match the same run of
 * the other file, and one of them would never be judged. */
static int check_unique_params(const json_t *doc, const char *which, char *err, size_t errlen)
{
    const json_t *runs = rundoc_runs(doc);

    for (size_t i = 0; i < json_array_size(runs); i++) {
        for (size_t j = 0; j < i; j++) {
            const json_t *pi = rundoc_params(json_array_get(runs, i));

            if (json_equal((json_t *)pi, rundoc_params(json_array_get(runs, j)))) {
                char *ps = json_dumps(pi, JSON_COMPACT);

                errbuf_set(err, errlen,
                           "%s: runs %zu and %zu have the same params %.200s: "
                           "which to compare is ambiguous",
                           which, j + 1, i + 1, ps ? ps : "?");
                free(ps);
                return -1;
            }
        }
    }
    return 0;
}

static void warn(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct report *r, const char *fmt, ...)
{
    va_list ap;

    if (r->nwarn == MAX_WARNINGS)
        return;
    va_start(ap, fmt);
    vsnprintf(r->warnings[r->nwarn], sizeof(r->warnings[0]), fmt, ap);
    va_end(ap);
    errbuf_printable(r->warnings[r->nwarn++]);
}

/* Settings that may differ between the files without making them other
 * experiments: where the results go, how often a point was repeated, the
 * bounds it is judged by, and what was swept (the params match runs). */
static bool ignorable(const char *key)
{
    static const char *const keys[] = {
        "output", "connections_file", "repeat", "expect", "sweep", "name", "gate"};

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* Dotted keys whose values differ between two configs, into list. */
static void config_diff(const json_t *a, const json_t *b, const char *prefix, char *list,
                        size_t len, size_t *n)
{
    const char *key;
    json_t *va;

    json_object_foreach((json_t *)a, key, va) {
        const json_t *vb = json_object_get(b, key);
        char path[128];

        if (!*prefix && ignorable(key))
            continue;
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_is_object(va) && json_is_object(vb) && strcmp(key, "sysctl") != 0) {
            config_diff(va, vb, path, list, len, n);
        } else if (!json_equal(va, (json_t *)vb)) {
            if (*n < 6)
                snprintf(list + strlen(list), len - strlen(list), "%s%s", *n ? ", " : "", path);
            (*n)++;
        }
    }
    json_object_foreach((json_t *)b, key, va) {
        char path[128];

        if ((!*prefix && ignorable(key)) || json_object_get(a, key))
            continue;
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
        if (*n < 6)
            snprintf(list + strlen(list), len - strlen(list), "%s%s", *n ? ", " : "", path);
        (*n)++;
    }
}

/* Settings filled in from the machine that ran the file when the config
 * left them out: a CI runner with another core count makes another value,
 * not another experiment. A difference is a warning. */
static const char *const host_filled[] = {"client.threads"};

/* The value at a dotted path of two levels ("client.threads"), or NULL. */
static json_t *config_at(const json_t *config, const char *path)
{
    char first[32];
    const char *dot = strchr(path, '.');

    if (!dot || (size_t)(dot - path) >= sizeof(first))
        return json_object_get(config, path);
    memcpy(first, path, (size_t)(dot - path));
    first[dot - path] = '\0';
    return json_object_get(json_object_get(config, first), dot + 1);
}

/* Copies of the configs without the host-filled keys, each difference
 * among those warned about. */
static void split_host_filled(const json_t *bconf, const json_t *cconf, json_t **b, json_t **c,
                              struct report *r)
{
    *b = json_deep_copy(bconf);
    *c = json_deep_copy(cconf);
    for (size_t i = 0; i < sizeof(host_filled) / sizeof(host_filled[0]); i++) {
        json_t *vb = config_at(*b, host_filled[i]), *vc = config_at(*c, host_filled[i]);
        const char *dot = strchr(host_filled[i], '.');

        if (vb && vc && !json_equal(vb, vc)) {
            char *tb = json_dumps(vb, JSON_ENCODE_ANY), *tc = json_dumps(vc, JSON_ENCODE_ANY);

            warn(r,
                 "%s differs: %.20s (baseline) against %.20s: filled in from each "
                 "machine's CPU count unless the config sets it; judged anyway",
                 host_filled[i], tb ? tb : "?", tc ? tc : "?");
            free(tb);
            free(tc);
        }
        if (dot) {
            char first[32];

            snprintf(first, sizeof(first), "%.*s", (int)(dot - host_filled[i]), host_filled[i]);
            json_object_del(json_object_get(*b, first), dot + 1);
            json_object_del(json_object_get(*c, first), dot + 1);
        }
    }
}

/* Whether these two files may be compared at all; warnings for what may
 * differ but deserves a word. */
static int same_experiment(const json_t *base, const json_t *cur, const struct compare_opts *o,
                           struct report *r, char *err, size_t errlen)
{
    const char *bn = json_string_value(json_object_get(base, "name"));
    const char *cn = json_string_value(json_object_get(cur, "name"));
    static const char *const context[] = {RD_KERNEL_RELEASE, RD_HOST, RD_QBENCH_VERSION, RD_SCHEMA};
    char list[256] = "";
    size_t ndiff = 0;

    if (json_is_true(json_object_get(base, "interrupted")) ||
        json_is_true(json_object_get(cur, "interrupted")))
        return errbuf_set(err, errlen,
                          "the %s run was interrupted: its counts are partial, and "
                          "comparing them would flag or hide anything",
                          json_is_true(json_object_get(base, "interrupted")) ? "baseline"
                                                                             : "current");
    for (int side = 0; side < 2; side++) {
        const json_t *doc = side ? cur : base;
        const json_t *inc = json_object_get(doc, RD_INCOMPLETE);

        /* points missing or cut short (a lost connections file alone,
         * with no point named, leaves the counts whole) */
        if (json_is_false(json_object_get(doc, RD_COMPLETE)) && json_object_get(inc, "point"))
            return errbuf_set(err, errlen,
                              "the %s run did not finish (%.200s): its points are "
                              "partial, and comparing them would flag or hide "
                              "anything",
                              side ? "current" : "baseline",
                              json_string_value(json_object_get(inc, "cause"))
                                  ? json_string_value(json_object_get(inc, "cause"))
                                  : "incomplete");
    }
    if (bn && cn && strcmp(bn, cn) != 0) {
        if (!o->allow_different)
            return errbuf_set(err, errlen,
                              "different experiments: \"%.60s\" against \"%.60s\" "
                              "(--allow-different to compare anyway)",
                              bn, cn);
        warn(r, "different experiments: \"%.60s\" against \"%.60s\"", bn, cn);
    }
    {
        json_t *bconf, *cconf;

        split_host_filled(json_object_get(base, "config"), json_object_get(cur, "config"), &bconf,
                          &cconf, r);
        config_diff(bconf, cconf, "", list, sizeof(list), &ndiff);
        json_decref(bconf);
        json_decref(cconf);
    }
    if (ndiff) {
        if (!o->allow_different)
            return errbuf_set(err, errlen,
                              "the settings differ in %zu key%s (%s%s): not the "
                              "same experiment (--allow-different to compare "
                              "anyway)",
                              ndiff, ndiff == 1 ? "" : "s", list, ndiff > 6 ? ", ..." : "");
        warn(r, "the settings differ in %zu key%s: %s%s", ndiff, ndiff == 1 ? "" : "s", list,
             ndiff > 6 ? ", ..." : "");
    }
    for (size_t i = 0; i < sizeof(context) / sizeof(context[0]); i++) {
        const char *b = json_string_value(json_object_get(base, context[i]));
        const char *c = json_string_value(json_object_get(cur, context[i]));

        if (b && c && strcmp(b, c) != 0)
            warn(r, "%s differs: %.80s (baseline) against %.80s", context[i], b, c);
    }
    return 0;
}

/* The metrics that gate: the option, else the current file's config, else
 * the baseline's; NULL for the default. */
static const char *gate_of(const json_t *base, const json_t *cur, const struct compare_opts *o)
{
    const char *c = json_string_value(json_object_get(json_object_get(cur, "config"), "gate"));

    if (o->gate && o->gate[0])
        return o->gate;
    return c ? c : json_string_value(json_object_get(json_object_get(base, "config"), "gate"));
}

/* A run's values of one metric: one per repeat, or its single value. */
static size_t values_of(const json_t *run, const struct metric *m, double *v)
{
    const json_t *vals =
        json_object_get(json_object_get(json_object_get(run, RD_SPREAD), m->name), "values");
    size_t n = 0;

    if (json_array_size(vals) >= 2) {
        for (size_t i = 0; i < json_array_size(vals) && n < MAX_VALUES; i++)
            if (json_is_number(json_array_get(vals, i)))
                v[n++] = json_number_value(json_array_get(vals, i));
        return n;
    }
    return metric_value(run, m, &v[0]) == 0 ? 1 : 0;
}

static void summarize(const double *v, size_t n, double *med, double *lo, double *hi)
{
    *med = n ? stats_median(v, n) : 0;
    *lo = *hi = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++) {
        *lo = v[i] < *lo ? v[i] : *lo;
        *hi = v[i] > *hi ? v[i] : *hi;
    }
}

/* The smallest change of this metric that counts (repeats), in the
 * test's units: a proportion, or a log ratio. */
static double min_effect(const struct row *w, const struct compare_opts *o)
{
    if (w->m->kind == METRIC_RATIO)
        return o->min_effect_pp / 100.0;
    return log1p(fmax(o->min_effect_pct / 100.0, w->bmed > 0 ? o->latency_floor_us / w->bmed : 0));
}

/* A ratio's outcome counts per repeat: from the repeats when the run kept
 * them, else from the spread's ratios and the attempts divided evenly, else
 * the single run's counts. */
static size_t counts_of(const json_t *run, const struct row *w, bool base, double *x, double *n)
{
    const json_t *reps = json_object_get(run, RD_REPEATS);
    const double *v = base ? w->b : w->c;
    size_t nv = base ? w->nb : w->nc, k = 0;
    double attempted = metric_samples(run, w->m);

    if (json_array_size(reps) == nv && nv >= 2) {
        for (size_t i = 0; i < nv; i++) {
            const json_t *rep = json_array_get(reps, i);
            double value;

            if (metric_value(rep, w->m, &value) < 0 || !(metric_samples(rep, w->m) > 0))
                break;
            n[k] = metric_samples(rep, w->m);
            x[k] = round(value * n[k]);
            k++;
        }
        if (k == nv)
            return k;
    }
    for (k = 0; k < nv; k++) {
        n[k] = attempted / (double)nv;
        x[k] = round(v[k] * n[k]);
    }
    return attempted > 0 ? nv : 0;
}

/* The quantile a latency metric names: p50 -> 0.5 ...; 0 for max. */
static double quantile_of(const struct metric *m)
{
    static const struct {
        const char *field;
        double q;
    } qs[] = {{"p50", 0.5}, {"p90", 0.9}, {"p99", 0.99}, {"p999", 0.999}};

    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        if (strcmp(m->field, qs[i].field) == 0)
            return qs[i].q;
    return 0;
}

/* Samples of a latency histogram above t (in buckets wholly above it), and
 * all of them, from its lossless buckets ([[index, count], ...],
 * histjson.h); -1 without buckets. */
static int above(const json_t *hist, double t, double *x, double *n)
{
    const json_t *buckets = json_object_get(hist, "buckets");

    *x = *n = 0;
    if (!json_is_array(buckets))
        return -1;
    for (size_t i = 0; i < json_array_size(buckets); i++) {
        const json_t *b = json_array_get(buckets, i);
        json_int_t index = json_integer_value(json_array_get(b, 0));
        double c = json_number_value(json_array_get(b, 1));

        if (index < 0 || index >= HISTOGRAM_BUCKETS)
            return -1;
        *n += c;
        if ((double)histogram_bucket_low((unsigned)index) > t)
            *x += c;
    }
    return *n > 0 ? 0 : -1;
}

/* Per repeat of a run (or the run alone): samples slower than t. */
static size_t slower_counts(const json_t *run, const struct metric *m, double t, double *x,
                            double *n)
{
    const json_t *reps = json_object_get(run, "repeats");
    size_t k = 0, nrep = json_array_size(reps);
    char hist[32];
    const char *dot = strchr(m->where, '.');

    snprintf(hist, sizeof(hist), "%s", dot ? dot + 1 : m->where);
    if (nrep == 0)
        return above(json_object_get(json_object_get(run, "latency_us"), hist), t, &x[0], &n[0]) ==
                       0
                   ? 1
                   : 0;
    for (size_t i = 0; i < nrep && k < MAX_VALUES; i++) {
        const json_t *h =
            json_object_get(json_object_get(json_array_get(reps, i), "latency_us"), hist);

        if (above(h, t, &x[k], &n[k]) < 0)
            return 0; /* a repeat without samples: judged by values */
        k++;
    }
    return k;
}

/* The quantile q of both sides' samples together (as Mood's median test
 * splits at the pooled median, so that neither side defines "slower"). */
static int pooled_quantile(const json_t *brun, const json_t *crun, const struct metric *m, double q,
                           double *t)
{
    const char *dot = strchr(m->where, '.');
    const char *hist = dot ? dot + 1 : m->where;
    struct histogram *hb = malloc(sizeof(*hb)), *hc = malloc(sizeof(*hc));
    int rc = -1;

    if (hb && hc &&
        histogram_from_json(json_object_get(json_object_get(brun, "latency_us"), hist), hb) == 0 &&
        histogram_from_json(json_object_get(json_object_get(crun, "latency_us"), hist), hc) == 0) {
        histogram_merge(hb, hc);
        *t = (double)histogram_quantile(hb, q);
        rc = hb->count ? 0 : -1;
    }
    free(hb);
    free(hc);
    return rc;
}

/* A latency percentile by counts: per repeat, how many samples were slower
 * than the percentile of both sides pooled. Its values flip between the
 * modes of a bimodal latency (a SYN retransmit or not), the share of slow
 * samples does not. 0 when judged so, -1 when the histograms lack what it
 * needs (then the values are judged). */
static int judge_slower_share(struct row *w, const json_t *brun, const json_t *crun)
{
    double q = quantile_of(w->m), t, xb[MAX_VALUES], nb[MAX_VALUES], xc[MAX_VALUES], nc[MAX_VALUES];
    size_t kb, kc;

    if (q <= 0 || pooled_quantile(brun, crun, w->m, q, &t) < 0)
        return -1;
    w->bmerged = t;
    kb = slower_counts(brun, w->m, t, xb, nb);
    kc = slower_counts(crun, w->m, t, xc, nc);
    if (!kb || !kc || kb + kc < 3 || stats_proportions(xb, nb, kb, xc, nc, kc, &w->st) < 0)
        return -1;
    w->slower_share = true;
    w->nbar = 0;
    w->pbar = 0;
    {
        double sx = 0, sn = 0;

        for (size_t i = 0; i < kb; i++)
            sx += xb[i], sn += nb[i];
        for (size_t i = 0; i < kc; i++)
            sx += xc[i], sn += nc[i];
        w->pbar = sx / sn;
        w->nbar = sn / (double)(kb + kc);
    }
    return 0;
}

static bool all_equal(const struct row *w)
{
    for (size_t i = 0; i < w->nb; i++)
        if (w->b[i] != w->b[0])
            return false;
    for (size_t i = 0; i < w->nc; i++)
        if (w->c[i] != w->b[0])
            return false;
    return true;
}

static void judge(struct row *w, const json_t *brun, const json_t *crun,
                  const struct compare_opts *o, struct report *r)
{
    double sign = w->m->higher_is_worse ? 1.0 : -1.0;
    double ns_b = metric_samples(brun, w->m), ns_c = metric_samples(crun, w->m);

    w->method = "";
    if (w->nb && !w->nc) {
        w->verdict = "REGRESSION";
        snprintf(w->note, sizeof(w->note), "missing");
        return;
    }
    if (!w->nb) {
        w->verdict = "new";
        return;
    }
    if (w->m->kind == METRIC_LATENCY && fmin(ns_b, ns_c) < o->min_samples) {
        w->verdict = "few samples";
        snprintf(w->note, sizeof(w->note), "%.0f/%.0f samples", ns_b, ns_c);
        return;
    }
    if (all_equal(w)) {
        /* constant on both sides: no evidence either way, and not a test
         * that could spend the family's alpha */
        w->verdict = "constant";
        r->nconstant++;
        return;
    }
    if (w->nb + w->nc >= 3) {
        int rc;

        if (w->m->kind == METRIC_RATIO) {
            double xb[MAX_VALUES], nb[MAX_VALUES], xc[MAX_VALUES], nc[MAX_VALUES];
            size_t kb = counts_of(brun, w, true, xb, nb), kc = counts_of(crun, w, false, xc, nc);

            w->method = "quasi-binomial";
            rc = kb && kc ? stats_proportions(xb, nb, kb, xc, nc, kc, &w->st) : -1;
            w->nbar = 0;
            for (size_t i = 0; i < kb; i++)
                w->nbar += nb[i] / (double)(kb + kc);
            for (size_t i = 0; i < kc; i++)
                w->nbar += nc[i] / (double)(kb + kc);
        } else if (judge_slower_share(w, brun, crun) == 0) {
            w->method = "slower-share";
            rc = 0;
        } else {
            w->method = "log-t";
            rc = stats_log_t(w->b, w->nb, w->c, w->nc, LOG_SD_FLOOR, &w->st);
        }
        if (rc == 0) {
            double vb, vc;

            w->tested = true;
            w->p = w->st.p;
            r->ntested++;
            w->worse = w->st.diff * sign > 0;
            /* the size of a latency change is the percentile's own (merged)
             * move, whichever way it was tested */
            if (w->slower_share && metric_value(brun, w->m, &vb) == 0 &&
                metric_value(crun, w->m, &vc) == 0 && vb > 0 && vc > 0)
                w->effect_ok = fabs(log(vc / vb)) >= min_effect(w, o);
            else
                w->effect_ok = fabs(w->st.diff) >= min_effect(w, o);
            w->verdict = "ok"; /* decided after Holm */
        } else {
            w->verdict = "constant"; /* no attempt succeeded, or all did */
            r->nconstant++;
        }
        return;
    }
    /* single runs: fixed thresholds */
    w->method = "threshold";
    r->nthreshold++;
    {
        double worse_by = (w->cmed - w->bmed) * sign;

        if (w->m->kind == METRIC_RATIO)
            w->verdict = worse_by * 100.0 > o->ratio_pp    ? "REGRESSION"
                         : -worse_by * 100.0 > o->ratio_pp ? "better"
                                                           : "ok";
        else if (fabs(w->cmed - w->bmed) < o->latency_floor_us)
            w->verdict = "ok";
        else if (w->bmed > 0 && worse_by / w->bmed * 100.0 > o->latency_pct)
            w->verdict = "REGRESSION";
        else if (w->bmed > 0 && -worse_by / w->bmed * 100.0 > o->latency_pct)
            w->verdict = "better";
        else
            w->verdict = "ok";
    }
}

/* How far this metric can still worsen, in the test's units. */
static double headroom(const struct row *w)
{
    if (w->slower_share)
        return 1.0 - w->pbar;
    if (w->m->kind == METRIC_RATIO)
        return w->m->higher_is_worse ? 1.0 - w->bmed : w->bmed;
    return LOG_HEADROOM;
}

/* The standard error with k repeats a side, from this comparison's spread. */
static double se_with(const struct row *w, unsigned k)
{
    if (w->m->kind == METRIC_RATIO || w->slower_share) {
        double p = w->slower_share ? w->pbar : (w->bmed + w->cmed) / 2.0;

        return sqrt(w->st.spread * p * (1 - p) * 2.0 / ((double)k * w->nbar));
    }
    return w->st.spread * sqrt(2.0 / (double)k);
}

/* The least change the detectable column reports: the minimum effect, in
 * the test's units; none for a share of slow samples, whose minimum effect
 * is on the percentile itself. */
static double mde_floor(const struct row *w, const struct compare_opts *o)
{
    return w->slower_share ? 0 : min_effect(w, o);
}

/* The smallest worsening each tested metric could have flagged: the first
 * step of Holm (alpha / m) at its degrees of freedom, and never less than
 * the minimum effect. Blind where even that is more than the metric can
 * worsen; then the repeats a side that would have judged it. */
static void detectable(struct report *r, const struct compare_opts *o, size_t m)
{
    for (size_t i = 0; i < r->n; i++) {
        struct row *w = &r->rows[i];

        if (!w->tested)
            continue;
        w->mde = fmax(stats_t_critical(o->alpha / (double)m, w->st.df) * w->st.se, mde_floor(w, o));
        w->blind = w->mde > headroom(w);
        if (!w->blind)
            continue;
        w->need = 0;
        for (unsigned k = 2; k <= 100; k++) {
            if (fmax(stats_t_critical(o->alpha / (double)m, 2.0 * k - 2) * se_with(w, k),
                     mde_floor(w, o)) <= headroom(w)) {
                w->need = k;
                break;
            }
        }
    }
}

static struct row *add_row(struct report *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        struct row *v = realloc(r->rows, cap * sizeof(*v));

        if (!v)
            return NULL;
        r->rows = v;
        r->cap = cap;
    }
    memset(&r->rows[r->n], 0, sizeof(r->rows[0]));
    return &r->rows[r->n++];
}

static void params_label(const json_t *params, char *out, size_t len)
{
    results_params_text(params, out, len);
    if (!out[0])
        snprintf(out, len, "(no sweep)"); /* one point, however many repeats */
}

static void change_text(const struct row *w, char *buf, size_t len)
{
    if (!w->nb || !w->nc)
        snprintf(buf, len, "-");
    else if (w->m->kind == METRIC_RATIO)
        snprintf(buf, len, "%+.2f pp", (w->cmed - w->bmed) * 100.0);
    else if (w->bmed > 0)
        snprintf(buf, len, "%+.1f%%", (w->cmed - w->bmed) / w->bmed * 100.0);
    else
        metric_format_us(w->cmed - w->bmed, buf, len);
}

/* "17.52% [17.50%-17.60%] n=7", or "17.52%" for one value. */
static void side_text(const struct row *w, bool base, char *buf, size_t len)
{
    size_t n = base ? w->nb : w->nc;
    double med = base ? w->bmed : w->cmed, lo = base ? w->bmin : w->cmin,
           hi = base ? w->bmax : w->cmax;
    char a[24], b[24], c[24];

    metric_format(w->m, n > 0, med, a, sizeof(a));
    if (n < 2) {
        snprintf(buf, len, "%s", a);
        return;
    }
    metric_format(w->m, true, lo, b, sizeof(b));
    metric_format(w->m, true, hi, c, sizeof(c));
    snprintf(buf, len, "%s [%s-%s] n=%zu", a, b, c, n);
}

/* The smallest worsening this comparison could have flagged: "-1.3 pp",
 * "+12%"; "need 7" where none could be. */
static void mde_text(const struct row *w, char *buf, size_t len)
{
    double sign = w->m->higher_is_worse ? 1.0 : -1.0;

    if (!w->tested)
        snprintf(buf, len, "-");
    else if (w->blind && w->need)
        snprintf(buf, len, "need %u", w->need);
    else if (w->blind)
        snprintf(buf, len, "need >100");
    else if (w->m->kind == METRIC_RATIO)
        snprintf(buf, len, "%+.2f pp", sign * w->mde * 100.0);
    else if (w->slower_share) {
        char t[16];

        metric_format_us(w->bmerged, t, sizeof(t));
        snprintf(buf, len, "%+.1f pp > %.12s", w->mde * 100.0, t);
    } else
        snprintf(buf, len, "%+.0f%%", expm1(w->mde) * 100.0);
}

static void p_text(const struct row *w, char *buf, size_t len)
{
    if (w->tested)
        snprintf(buf, len, "%.4f", w->padj);
    else if (w->note[0])
        snprintf(buf, len, "%s", w->note);
    else
        snprintf(buf, len, "%s", w->method[0] ? w->method : "-");
}

/* The printed cells of a row, the same in every format. */
struct cells {
    char base[128], cur[128], change[32], p[48], mde[32];
};

static void row_cells(const struct row *w, struct cells *c)
{
    side_text(w, true, c->base, sizeof(c->base));
    side_text(w, false, c->cur, sizeof(c->cur));
    change_text(w, c->change, sizeof(c->change));
    p_text(w, c->p, sizeof(c->p));
    mde_text(w, c->mde, sizeof(c->mde));
}

/* "3 repeats a side", or "3 and 1 repeats". */
static void sides_text(const struct report *r, char *buf, size_t len)
{
    if (r->maxb == r->maxc)
        snprintf(buf, len, "%zu repeat%s a side", r->maxb, r->maxb == 1 ? "" : "s");
    else
        snprintf(buf, len, "%zu (baseline) and %zu (current) repeats", r->maxb, r->maxc);
}

static void blind_text(const struct report *r, char *buf, size_t len)
{
    char sides[64];
    unsigned need = 0;
    bool beyond = false;

    sides_text(r, sides, sizeof(sides));
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->rows[i].verdict, "cannot judge") != 0)
            continue;
        if (!r->rows[i].need)
            beyond = true;
        else if (r->rows[i].need > need)
            need = r->rows[i].need;
    }
    if (beyond)
        snprintf(buf, len,
                 "cannot judge: %s; %zu gated metric%s could not be flagged by any "
                 "change, and over 100 repeats a side would be needed",
                 sides, r->nblind, r->nblind == 1 ? "" : "s");
    else
        snprintf(buf, len,
                 "cannot judge: %s; need %u a side (%zu gated metric%s could not be "
                 "flagged by any change)",
                 sides, need, r->nblind, r->nblind == 1 ? "" : "s");
}

static void summary_text(const struct report *r, const struct compare_opts *o, char *buf,
                         size_t len)
{
    char sides[64];

    sides_text(r, sides, sizeof(sides));
    snprintf(buf, len,
             "%s: %s; %zu gated metric%s tested across repeats (quasi-binomial "
             "counts: outcomes, and samples slower than the pooled percentile; Holm, alpha %g, min "
             "effect %g pp / %g%%), "
             "%zu constant, %zu by fixed thresholds (latency +%g%% and %g us, ratios "
             "%g pp); percentiles of fewer than %g samples not judged",
             r->regression ? "REGRESSION"
             : r->nblind   ? "CANNOT JUDGE"
                           : "no regression",
             sides, r->ntested, r->ntested == 1 ? "" : "s", o->alpha, o->min_effect_pp,
             o->min_effect_pct, r->nconstant, r->nthreshold, o->latency_pct, o->latency_floor_us,
             o->ratio_pp, o->min_samples);
}

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&apos;", out);
            break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
                fputc(*s, out);
        }
    }
}

static void md_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '\\' || *s == '`' || *s == '*' || *s == '_' || *s == '<')
            fputc('\\', out);
        fputc((unsigned char)*s < 0x20 ? ' ' : *s, out);
    }
}

/* lead then text, broken at spaces into lines of at most TEXT_COLS, the
 * later ones indented: the text table fits an 80-100 column terminal. */
#define TEXT_COLS 96

static void wrap_text(FILE *out, const char *lead, const char *text)
{
    const char *nl = strrchr(lead, '\n');

    fputs(lead, out);
    wrap_print(out, text, strlen(nl ? nl + 1 : lead), 2, TEXT_COLS);
}

/* The heading of one point's rows in the text table: its params (or that
 * there is no sweep) and how many repeats each side has, then the column
 * names. */
static void text_heading(const struct report *r, size_t first, FILE *out)
{
    size_t nb = 0, nc = 0;

    for (size_t i = first; i < r->n && strcmp(r->rows[i].run, r->rows[first].run) == 0; i++) {
        nb = r->rows[i].nb > nb ? r->rows[i].nb : nb;
        nc = r->rows[i].nc > nc ? r->rows[i].nc : nc;
    }
    fprintf(out, "%s%s: ", first ? "\n" : "", r->rows[first].run);
    if (nb == nc && nb > 1)
        fprintf(out, "%zu repeats a side\n", nb);
    else if (nb == nc)
        fprintf(out, "a single run a side\n");
    else
        fprintf(out, "%zu run%s (baseline) and %zu (current)\n", nb, nb == 1 ? "" : "s", nc);
    fprintf(out, "  %-22s  %-26s  %-26s  %s\n", "metric", "baseline", "current", "verdict");
}

static void print_report(const struct report *r, const struct compare_opts *o, FILE *out)
{
    char summary[600];

    summary_text(r, o, summary, sizeof(summary));
    if (o->format == COMPARE_JSON) {
        json_t *doc = json_object(), *rows = json_array(), *warns = json_array();
        char *text;

        for (size_t i = 0; i < r->nwarn; i++)
            json_array_append_new(warns, json_string(r->warnings[i]));
        for (size_t i = 0; i < r->n; i++) {
            const struct row *w = &r->rows[i];
            json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "run", w->run, "metric", w->m->name,
                                    "verdict", w->verdict, "method", w->method);

            if (w->nb)
                json_object_set_new(row, "baseline",
                                    json_pack("{s:f, s:f, s:f, s:I}", "median", w->bmed, "min",
                                              w->bmin, "max", w->bmax, "n", (json_int_t)w->nb));
            if (w->nc)
                json_object_set_new(row, "current",
                                    json_pack("{s:f, s:f, s:f, s:I}", "median", w->cmed, "min",
                                              w->cmin, "max", w->cmax, "n", (json_int_t)w->nc));
            if (w->tested) {
                json_object_set_new(row, "p", json_real(w->p));
                json_object_set_new(row, "p_holm", json_real(w->padj));
                json_object_set_new(row, "df", json_real(w->st.df));
                /* the smallest worsening it could have flagged: points of a
                 * ratio, or percent of a latency */
                if (!w->blind)
                    json_object_set_new(row, "detectable",
                                        json_real(w->m->kind == METRIC_RATIO || w->slower_share
                                                      ? w->mde * 100.0
                                                      : expm1(w->mde) * 100.0));
                if (w->slower_share)
                    json_object_set_new(row, "slower_than_us", json_real(w->bmerged));
                else
                    json_object_set_new(row, "need_repeats",
                                        w->need ? json_integer(w->need) : json_null());
            }
            if (w->note[0])
                json_object_set_new(row, "note", json_string(w->note));
            json_array_append_new(rows, row);
        }
        json_object_set_new(doc, "verdict",
                            json_string(r->regression ? "regression"
                                        : r->nblind   ? "cannot judge"
                                                      : "no regression"));
        json_object_set_new(doc, "summary", json_string(summary));
        json_object_set_new(doc, "warnings", warns);
        json_object_set_new(doc, "rows", rows);
        text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        if (text)
            fprintf(out, "%s\n", text);
        free(text);
        json_decref(doc);
        return;
    }
    if (o->format == COMPARE_JUNIT) {
        size_t failures = 0;

        for (size_t i = 0; i < r->n; i++)
            failures += strcmp(r->rows[i].verdict, "REGRESSION") == 0;
        fprintf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<testsuite name=\"qbench compare\" tests=\"%zu\" failures=\"%zu\">\n",
                r->n, failures);
        for (size_t i = 0; i < r->n; i++) {
            const struct row *w = &r->rows[i];
            struct cells c;

            row_cells(w, &c);
            fputs("  <testcase classname=\"", out);
            xml_text(out, w->run);
            fprintf(out, "\" name=\"%s\">", w->m->name);
            if (strcmp(w->verdict, "REGRESSION") == 0) {
                fputs("<failure message=\"", out);
                xml_text(out, c.base);
                fputs(" -> ", out);
                xml_text(out, c.cur);
                fprintf(out, " (%s, %s)\"/>", c.change, c.p);
            } else if (strcmp(w->verdict, "cannot judge") == 0) {
                fprintf(out, "<error message=\"cannot judge: %s repeats a side\"/>", c.mde);
            } else if (strcmp(w->verdict, "few samples") == 0) {
                fputs("<skipped message=\"few samples\"/>", out);
            }
            fputs("</testcase>\n", out);
        }
        fputs("  <system-out>", out);
        xml_text(out, summary);
        for (size_t i = 0; i < r->nwarn; i++) {
            fputs("\nwarning: ", out);
            xml_text(out, r->warnings[i]);
        }
        fputs("</system-out>\n</testsuite>\n", out);
        return;
    }
    if (o->format == COMPARE_MARKDOWN) {
        fprintf(out, "### qbench compare: %s\n\n", r->regression ? "REGRESSION" : "no regression");
        for (size_t i = 0; i < r->nwarn; i++) {
            fputs("> **warning:** ", out);
            md_text(out, r->warnings[i]);
            fputs("\n", out);
        }
        if (r->nwarn)
            fputs("\n", out);
        fputs("| run | metric | baseline | current | change | p (Holm) | detectable | verdict |\n"
              "| --- | --- | --- | --- | --- | --- | --- | --- |\n",
              out);
    } else {
        for (size_t i = 0; i < r->nwarn; i++)
            wrap_text(out, "warning: ", r->warnings[i]);
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct row *w = &r->rows[i];
        struct cells c;

        row_cells(w, &c);
        if (o->format == COMPARE_MARKDOWN) {
            fputs("| ", out);
            md_text(out, w->run);
            fprintf(out, " | %s | %s | %s | %s | %s | %s | %s%s%s |\n", w->m->name, c.base, c.cur,
                    c.change, c.p, c.mde, strcmp(w->verdict, "REGRESSION") == 0 ? "**" : "",
                    w->verdict, strcmp(w->verdict, "REGRESSION") == 0 ? "**" : "");
            continue;
        }
        /* text, for an 80-100 column terminal: the point once as a heading
         * (with its repeats), then per metric a line with both sides and
         * the verdict, and a second with what the test saw */
        if (i == 0 || strcmp(w->run, r->rows[i - 1].run) != 0)
            text_heading(r, i, out);
        fprintf(out, "  %-22s  %-26s  %-26s  %s\n", w->m->name, c.base, c.cur, w->verdict);
        if (strcmp(w->verdict, "constant") != 0)
            fprintf(out, "  %-22s  change %s, p (Holm) %s, detectable %s\n", "", c.change, c.p,
                    c.mde);
    }
    if (o->format == COMPARE_MARKDOWN)
        fprintf(out, "\n%s\n", summary);
    else
        wrap_text(out, "\n", summary);
}

enum compare_verdict compare_results(const json_t *baseline, const json_t *current,
                                     const struct compare_opts *o, FILE *out, FILE *warnout,
                                     char *err, size_t errlen)
{
    const json_t *bruns = rundoc_runs(baseline);
    size_t matched = 0, nmetrics;
    const struct metric *metrics = metric_table(&nmetrics);
    struct report r;
    double *p = NULL, *adj = NULL;
    const char *gate = gate_of(baseline, current, o);

    memset(&r, 0, sizeof(r));
    if (check_unique_params(baseline, "baseline", err, errlen) < 0 ||
        check_unique_params(current, "current", err, errlen) < 0 ||
        same_experiment(baseline, current, o, &r, err, errlen) < 0)
        return COMPARE_BAD_INPUT;
    /* Decided before any verdict is printed: unrelated files get no table. */
    for (size_t i = 0; i < json_array_size(bruns); i++)
        if (find_run(current, rundoc_params(json_array_get(bruns, i))))
            matched++;
    if (matched == 0) {
        errbuf_set(err, errlen,
                   "no run of the current file has the params of a baseline run: "
                   "these files are not the same experiment");
        return COMPARE_BAD_INPUT;
    }
    for (size_t i = 0; i < json_array_size(bruns); i++) {
        const json_t *brun = json_array_get(bruns, i);
        const json_t *crun = find_run(current, rundoc_params(brun));
        char label[160];

        params_label(rundoc_params(brun), label, sizeof(label));
        for (size_t k = 0; k < nmetrics; k++) {
            struct row *w;

            if (!metric_gates(gate, &metrics[k]))
                continue;
            w = add_row(&r);
            if (!w) {
                free(r.rows);
                errbuf_set(err, errlen, "out of memory");
                return COMPARE_BAD_INPUT;
            }
            snprintf(w->run, sizeof(w->run), "%s", label);
            w->m = &metrics[k];
            w->nb = values_of(brun, w->m, w->b);
            w->nc = crun ? values_of(crun, w->m, w->c) : 0;
            if (!w->nb && !w->nc) {
                r.n--; /* neither run has it (accept latency without a greeting) */
                continue;
            }
            r.maxb = w->nb > r.maxb ? w->nb : r.maxb;
            r.maxc = w->nc > r.maxc ? w->nc : r.maxc;
            summarize(w->b, w->nb, &w->bmed, &w->bmin, &w->bmax);
            summarize(w->c, w->nc, &w->cmed, &w->cmin, &w->cmax);
            judge(w, brun, crun ? crun : brun, o, &r);
            if (!crun)
                snprintf(w->note, sizeof(w->note), "run missing");
        }
    }
    /* Holm over every metric tested, so testing many does not multiply
     * the false alarms */
    p = malloc((r.n ? r.n : 1) * sizeof(*p));
    adj = malloc((r.n ? r.n : 1) * sizeof(*adj));
    if (!p || !adj) {
        free(p);
        free(adj);
        free(r.rows);
        errbuf_set(err, errlen, "out of memory");
        return COMPARE_BAD_INPUT;
    }
    {
        size_t m = 0;

        for (size_t i = 0; i < r.n; i++)
            if (r.rows[i].tested)
                p[m++] = r.rows[i].p;
        stats_holm(p, m, adj);
        detectable(&r, o, m);
        m = 0;
        for (size_t i = 0; i < r.n; i++) {
            struct row *w = &r.rows[i];

            if (!w->tested)
                continue;
            w->padj = adj[m++];
            if (w->padj <= o->alpha && w->effect_ok)
                w->verdict = w->worse ? "REGRESSION" : "better";
            else if (w->blind) {
                w->verdict = "cannot judge";
                r.nblind++;
            }
        }
    }
    for (size_t i = 0; i < r.n; i++)
        if (strcmp(r.rows[i].verdict, "REGRESSION") == 0)
            r.regression = true;
    if (warnout && o->format != COMPARE_TEXT)
        for (size_t i = 0; i < r.nwarn; i++)
            fprintf(warnout, "qbench compare: warning: %s\n", r.warnings[i]);
    print_report(&r, o, out);
    if (!r.regression && r.nblind)
        blind_text(&r, err, errlen);
    free(p);
    free(adj);
    free(r.rows);
    return r.regression ? COMPARE_REGRESSION : r.nblind ? COMPARE_CANNOT_JUDGE : COMPARE_OK;
}

void compare_repeat_warning(unsigned repeat, const char *gate, double alpha, char *buf, size_t len)
{
    size_t nmetrics, m = 0;
    const struct metric *metrics = metric_table(&nmetrics);

    buf[0] = '\0';
    for (size_t k = 0; k < nmetrics; k++)
        m += metric_gates(gate, &metrics[k]);
    if (repeat == 1 && gate && gate[0])
        snprintf(buf, len,
                 "repeat 1: compare can judge single runs only by fixed thresholds, "
                 "with no false-alarm control and no power check; the gate needs "
                 "repeat 3 or more a side (5 recommended)");
    else if (repeat == 2 && m)
        snprintf(buf, len,
                 "repeat 2: Student's t on 2 degrees of freedom flags a change only "
                 "beyond %.0f standard errors (alpha %g over %zu gated metrics): "
                 "compare will mostly say \"cannot judge\"; use repeat 5",
                 stats_t_critical(alpha / (double)m, 2), alpha, m);
}
