#include "compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "metric.h"
#include "results.h"
#include "stats.h"

#define MIN_REPEATS 3
#define MAX_VALUES 100
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
    size_t nb, nc;            /* values on each side (repeats, or 1) */
    double b[MAX_VALUES], c[MAX_VALUES];
    double bmed, bmin, bmax, cmed, cmin, cmax;
    const char *method;       /* "mann-whitney", "spread", "threshold", "" */
    bool tested;              /* takes part in Holm */
    double p, padj;
    bool worse, effect_ok;    /* direction and size of the change */
    const char *verdict;
    char note[48];
};

struct report {
    struct row *rows;
    size_t n, cap;
    char warnings[MAX_WARNINGS][300];
    size_t nwarn;
    size_t ntested, nspread, nthreshold;
    bool regression;
};

static const json_t *find_run(const json_t *doc, const json_t *params)
{
    const json_t *runs = json_object_get(doc, "runs");

    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i);

        if (json_equal(json_object_get(run, "params"), (json_t *)params))
            return run;
    }
    return NULL;
}

/* Two runs of one file with equal params would both match the same run of
 * the other file, and one of them would never be judged. */
static int check_unique_params(const json_t *doc, const char *which, char *err, size_t errlen)
{
    const json_t *runs = json_object_get(doc, "runs");

    for (size_t i = 0; i < json_array_size(runs); i++) {
        for (size_t j = 0; j < i; j++) {
            const json_t *pi = json_object_get(json_array_get(runs, i), "params");

            if (json_equal((json_t *)pi,
                           json_object_get(json_array_get(runs, j), "params"))) {
                char *ps = json_dumps(pi, JSON_COMPACT);

                errbuf_set(err, errlen, "%s: runs %zu and %zu have the same params %.200s: "
                                        "which to compare is ambiguous", which, j + 1, i + 1,
                           ps ? ps : "?");
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
    static const char *const keys[] = {"output", "connections_file", "repeat", "expect",
                                       "sweep", "name"};

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

/* Whether these two files may be compared at all; warnings for what may
 * differ but deserves a word. */
static int same_experiment(const json_t *base, const json_t *cur, const struct compare_opts *o,
                           struct report *r, char *err, size_t errlen)
{
    const char *bn = json_string_value(json_object_get(base, "name"));
    const char *cn = json_string_value(json_object_get(cur, "name"));
    static const char *const context[] = {"kernel", "host", "qbench_version", "schema"};
    char list[256] = "";
    size_t ndiff = 0;

    if (json_is_true(json_object_get(base, "interrupted")) ||
        json_is_true(json_object_get(cur, "interrupted")))
        return errbuf_set(err, errlen, "the %s run was interrupted: its counts are partial, and "
                                       "comparing them would flag or hide anything",
                          json_is_true(json_object_get(base, "interrupted")) ? "baseline"
                                                                              : "current");
    if (bn && cn && strcmp(bn, cn) != 0) {
        if (!o->allow_different)
            return errbuf_set(err, errlen, "different experiments: \"%.60s\" against \"%.60s\" "
                                           "(--allow-different to compare anyway)", bn, cn);
        warn(r, "different experiments: \"%.60s\" against \"%.60s\"", bn, cn);
    }
    config_diff(json_object_get(base, "config"), json_object_get(cur, "config"), "", list,
                sizeof(list), &ndiff);
    if (ndiff) {
        if (!o->allow_different)
            return errbuf_set(err, errlen, "the settings differ in %zu key%s (%s%s): not the "
                                           "same experiment (--allow-different to compare "
                                           "anyway)", ndiff, ndiff == 1 ? "" : "s", list,
                              ndiff > 6 ? ", ..." : "");
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

/* A run's values of one metric: one per repeat, or its single value. */
static size_t values_of(const json_t *run, const struct metric *m, double *v)
{
    const json_t *vals = json_object_get(json_object_get(json_object_get(run, "spread"),
                                                         m->name), "values");
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

/* The smallest change of this metric that counts (repeats). */
static double min_effect(const struct row *w, const struct compare_opts *o)
{
    if (w->m->kind == METRIC_RATIO)
        return o->min_effect_pp / 100.0;
    return fmax(o->min_effect_pct / 100.0 * fabs(w->bmed), o->latency_floor_us);
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
    if (w->nb >= MIN_REPEATS && w->nc >= MIN_REPEATS) {
        struct mwu u;
        double effect = w->cmed - w->bmed;

        w->method = "mann-whitney";
        if (stats_mann_whitney(w->b, w->nb, w->c, w->nc, &u) == 0) {
            w->tested = true;
            w->p = u.p;
            r->ntested++;
        }
        w->worse = effect * sign > 0;
        w->effect_ok = fabs(effect) >= min_effect(w, o);
        w->verdict = "ok"; /* decided after Holm */
        return;
    }
    if (w->nb >= MIN_REPEATS || w->nc >= MIN_REPEATS) {
        /* the single run against the other side's recorded spread */
        bool base_repeated = w->nb >= MIN_REPEATS;
        double lo = base_repeated ? w->bmin : w->cmin, hi = base_repeated ? w->bmax : w->cmax;
        double single = base_repeated ? w->cmed : w->bmed;
        double margin = fmax((hi - lo) / 2.0, min_effect(w, o));
        /* "worse" is always current against baseline */
        double worst = w->m->higher_is_worse ? hi + margin : lo - margin;
        double best = w->m->higher_is_worse ? lo - margin : hi + margin;
        bool beyond_worst = w->m->higher_is_worse ? single > worst : single < worst;
        bool beyond_best = w->m->higher_is_worse ? single < best : single > best;

        w->method = "spread";
        r->nspread++;
        if (!base_repeated) {
            /* the baseline is the single one: current's spread judges it */
            bool t = beyond_worst;

            beyond_worst = beyond_best;
            beyond_best = t;
        }
        w->verdict = beyond_worst ? "REGRESSION" : beyond_best ? "better" : "ok";
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
        snprintf(out, len, "(single run)");
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
    char base[128], cur[128], change[32], p[48];
};

static void row_cells(const struct row *w, struct cells *c)
{
    side_text(w, true, c->base, sizeof(c->base));
    side_text(w, false, c->cur, sizeof(c->cur));
    change_text(w, c->change, sizeof(c->change));
    p_text(w, c->p, sizeof(c->p));
}

static void summary_text(const struct report *r, const struct compare_opts *o, char *buf,
                         size_t len)
{
    snprintf(buf, len, "%s: %zu metric%s tested by Mann-Whitney U across repeats (Holm, "
                       "alpha %g, min effect %g pp / %g%%), %zu against a recorded spread, %zu "
                       "by fixed thresholds (latency +%g%% and %g us, ratios %g pp); "
                       "percentiles of fewer than %g samples not judged",
             r->regression ? "REGRESSION" : "no regression", r->ntested,
             r->ntested == 1 ? "" : "s", o->alpha, o->min_effect_pp, o->min_effect_pct,
             r->nspread, r->nthreshold, o->latency_pct, o->latency_floor_us, o->ratio_pp,
             o->min_samples);
}

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
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

static void print_report(const struct report *r, const struct compare_opts *o, FILE *out)
{
    char summary[400];

    summary_text(r, o, summary, sizeof(summary));
    if (o->format == COMPARE_JSON) {
        json_t *doc = json_object(), *rows = json_array(), *warns = json_array();
        char *text;

        for (size_t i = 0; i < r->nwarn; i++)
            json_array_append_new(warns, json_string(r->warnings[i]));
        for (size_t i = 0; i < r->n; i++) {
            const struct row *w = &r->rows[i];
            json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "run", w->run, "metric",
                                    w->m->name, "verdict", w->verdict, "method", w->method);

            if (w->nb)
                json_object_set_new(row, "baseline", json_pack("{s:f, s:f, s:f, s:I}", "median",
                                                               w->bmed, "min", w->bmin, "max",
                                                               w->bmax, "n", (json_int_t)w->nb));
            if (w->nc)
                json_object_set_new(row, "current", json_pack("{s:f, s:f, s:f, s:I}", "median",
                                                              w->cmed, "min", w->cmin, "max",
                                                              w->cmax, "n", (json_int_t)w->nc));
            if (w->tested) {
                json_object_set_new(row, "p", json_real(w->p));
                json_object_set_new(row, "p_holm", json_real(w->padj));
            }
            if (w->note[0])
                json_object_set_new(row, "note", json_string(w->note));
            json_array_append_new(rows, row);
        }
        json_object_set_new(doc, "verdict",
                            json_string(r->regression ? "regression" : "no regression"));
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
        fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
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
        fputs("| run | metric | baseline | current | change | p (Holm) | verdict |\n"
              "| --- | --- | --- | --- | --- | --- | --- |\n", out);
    } else {
        for (size_t i = 0; i < r->nwarn; i++)
            fprintf(out, "warning: %s\n", r->warnings[i]);
        fprintf(out, "%-32s %-24s %-30s %-30s %10s %12s  %s\n", "run", "metric", "baseline",
                "current", "change", "p (Holm)", "verdict");
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct row *w = &r->rows[i];
        struct cells c;

        row_cells(w, &c);
        if (o->format == COMPARE_MARKDOWN) {
            fputs("| ", out);
            md_text(out, w->run);
            fprintf(out, " | %s | %s | %s | %s | %s | %s%s%s |\n", w->m->name, c.base, c.cur,
                    c.change, c.p,
                    strcmp(w->verdict, "REGRESSION") == 0 ? "**" : "", w->verdict,
                    strcmp(w->verdict, "REGRESSION") == 0 ? "**" : "");
        } else {
            fprintf(out, "%-32.32s %-24s %-30s %-30s %10s %12s  %s\n", w->run, w->m->name,
                    c.base, c.cur, c.change, c.p, w->verdict);
        }
    }
    fprintf(out, "%s%s\n", o->format == COMPARE_MARKDOWN ? "\n" : "", summary);
}

enum compare_verdict compare_results(const json_t *baseline, const json_t *current,
                                     const struct compare_opts *o, FILE *out, FILE *warnout,
                                     char *err, size_t errlen)
{
    const json_t *bruns = json_object_get(baseline, "runs");
    size_t matched = 0, nmetrics;
    const struct metric *metrics = metric_table(&nmetrics);
    struct report r;
    double *p = NULL, *adj = NULL;

    memset(&r, 0, sizeof(r));
    if (check_unique_params(baseline, "baseline", err, errlen) < 0 ||
        check_unique_params(current, "current", err, errlen) < 0 ||
        same_experiment(baseline, current, o, &r, err, errlen) < 0)
        return COMPARE_BAD_INPUT;
    /* Decided before any verdict is printed: unrelated files get no table. */
    for (size_t i = 0; i < json_array_size(bruns); i++)
        if (find_run(current, json_object_get(json_array_get(bruns, i), "params")))
            matched++;
    if (matched == 0) {
        errbuf_set(err, errlen, "no run of the current file has the params of a baseline run: "
                                "these files are not the same experiment");
        return COMPARE_BAD_INPUT;
    }
    for (size_t i = 0; i < json_array_size(bruns); i++) {
        const json_t *brun = json_array_get(bruns, i);
        const json_t *crun = find_run(current, json_object_get(brun, "params"));
        char label[160];

        params_label(json_object_get(brun, "params"), label, sizeof(label));
        for (size_t k = 0; k < nmetrics; k++) {
            struct row *w;

            if (!metrics[k].compared)
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
        m = 0;
        for (size_t i = 0; i < r.n; i++) {
            struct row *w = &r.rows[i];

            if (!w->tested)
                continue;
            w->padj = adj[m++];
            if (w->padj <= o->alpha && w->effect_ok)
                w->verdict = w->worse ? "REGRESSION" : "better";
        }
    }
    for (size_t i = 0; i < r.n; i++)
        if (strcmp(r.rows[i].verdict, "REGRESSION") == 0)
            r.regression = true;
    if (warnout && o->format != COMPARE_TEXT)
        for (size_t i = 0; i < r.nwarn; i++)
            fprintf(warnout, "qbench compare: warning: %s\n", r.warnings[i]);
    print_report(&r, o, out);
    free(p);
    free(adj);
    free(r.rows);
    return r.regression ? COMPARE_REGRESSION : COMPARE_OK;
}
