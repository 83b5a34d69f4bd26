#include "compare.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "metric.h"

void compare_default_opts(struct compare_opts *o)
{
    o->latency_pct = 50.0;
    o->latency_floor_us = 500.0;
    o->ratio_pp = 10.0;
    o->min_samples = 100.0;
}

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

/* "REGRESSION", "better" or "ok" for one metric. */
static const char *judge(const struct metric *m, double base, double cur,
                         const struct compare_opts *o)
{
    double worse_by = m->higher_is_worse ? cur - base : base - cur;

    if (m->kind == METRIC_RATIO) {
        if (worse_by * 100.0 > o->ratio_pp)
            return "REGRESSION";
        if (-worse_by * 100.0 > o->ratio_pp)
            return "better";
        return "ok";
    }
    if (fabs(cur - base) < o->latency_floor_us)
        return "ok";
    if (base > 0 && worse_by / base * 100.0 > o->latency_pct)
        return "REGRESSION";
    if (base > 0 && -worse_by / base * 100.0 > o->latency_pct)
        return "better";
    return "ok";
}

static void format_change(const struct metric *m, bool hb, double b, bool hc, double c,
                          char *buf, size_t len)
{
    if (!hb || !hc)
        snprintf(buf, len, "-");
    else if (m->kind == METRIC_RATIO)
        snprintf(buf, len, "%+.2f pp", (c - b) * 100.0);
    else if (b > 0)
        snprintf(buf, len, "%+.1f%%", (c - b) / b * 100.0);
    else
        metric_format_us(c - b, buf, len);
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

enum compare_verdict compare_results(const json_t *baseline, const json_t *current,
                                     const struct compare_opts *o, FILE *out, char *err,
                                     size_t errlen)
{
    const json_t *bruns = json_object_get(baseline, "runs");
    size_t matched = 0, nmetrics;
    const struct metric *metrics = metric_table(&nmetrics);
    bool regression = false;

    if (check_unique_params(baseline, "baseline", err, errlen) < 0 ||
        check_unique_params(current, "current", err, errlen) < 0)
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

    fprintf(out, "%-40s %-24s %14s %14s %12s  %s\n", "run", "metric", "baseline", "current",
            "change", "verdict");
    for (size_t i = 0; i < json_array_size(bruns); i++) {
        const json_t *brun = json_array_get(bruns, i);
        const json_t *params = json_object_get(brun, "params");
        const json_t *crun = find_run(current, params);
        char *ps = json_dumps(params, JSON_COMPACT);
        const char *label = ps && strcmp(ps, "{}") != 0 ? ps : "(single run)";

        if (!crun) {
            fprintf(out, "%-40s %-24s %14s %14s %12s  %s\n", label, "-", "present", "missing",
                    "-", "REGRESSION");
            regression = true;
            free(ps);
            continue;
        }
        for (size_t k = 0; k < nmetrics; k++) {
            const struct metric *m = &metrics[k];
            double b = 0, c = 0;
            bool hb, hc;
            char bs[32], cs[32], ch[32], few[48];
            const char *verdict;
            double nb, nc; /* samples behind a latency percentile */

            if (!m->compared)
                continue;
            hb = metric_value(brun, m, &b) == 0;
            hc = metric_value(crun, m, &c) == 0;
            if (!hb && !hc)
                continue; /* e.g. accept latency when neither run had a greeting */
            nb = metric_samples(brun, m);
            nc = metric_samples(crun, m);
            if (hb && hc && m->kind == METRIC_LATENCY && fmin(nb, nc) < o->min_samples) {
                snprintf(few, sizeof(few), "few samples (%.0f/%.0f)", nb, nc);
                verdict = few;
            } else if (hb && hc)
                verdict = judge(m, b, c, o);
            else
                verdict = hb ? "REGRESSION" : "new";
            if (strcmp(verdict, "REGRESSION") == 0)
                regression = true;
            metric_format(m, hb, b, bs, sizeof(bs));
            metric_format(m, hc, c, cs, sizeof(cs));
            format_change(m, hb, b, hc, c, ch, sizeof(ch));
            fprintf(out, "%-40s %-24s %14s %14s %12s  %s\n", label, m->name, bs, cs, ch, verdict);
        }
        free(ps);
    }
    return regression ? COMPARE_REGRESSION : COMPARE_OK;
}
