#include "export.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "histjson.h"
#include "metric.h"
#include "rundoc.h"

static const double quantiles[] = {0.01, 0.05, 0.10, 0.25,  0.50,  0.75,
                                   0.90, 0.95, 0.99, 0.999, 0.9999};
static const char *const qnames[] = {"p1",  "p5",  "p10", "p25",   "p50",   "p75",
                                     "p90", "p95", "p99", "p99.9", "p99.99"};
static const char *const hists[] = {RD_LAT_CONNECT, RD_LAT_ACCEPT};

#define NQ (sizeof(quantiles) / sizeof(quantiles[0]))

/* Whether the quantile column hists[k] qnames[q] is also a metric
 * (connect_p50_us; p99.9 is the metric p999): a quantity has one column,
 * or pandas renames the second one. */
static bool quantile_is_metric(size_t k, size_t q)
{
    char name[64], digits[16];
    size_t d = 0;

    for (const char *c = qnames[q]; *c && d < sizeof(digits) - 1; c++)
        if (*c != '.')
            digits[d++] = *c;
    digits[d] = '\0';
    snprintf(name, sizeof(name), "%s_%s_us", hists[k], digits);
    return metric_find(name) != NULL;
}

/* A CSV text field. OWASP's rule for CSV injection: a cell starting with
 * = + - @ tab or CR is one a spreadsheet may evaluate, whatever follows
 * ("-2+3+cmd|..." included), so it gets a leading ' and is quoted. Numbers
 * qbench formats itself never come here (see value): they stay numbers.
 * CSV often goes to a terminal: control characters, C1 included, become
 * '?'; a line break stays (quoted). */
static void field(FILE *out, const char *s)
{
    bool formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    bool quote = formula || strpbrk(s, ",\"\r\n") != NULL;

    if (quote)
        fputc('"', out);
    if (formula)
        fputc('\'', out);
    while (*s) {
        size_t c = *s == '\n' ? 0 : errbuf_control_len(s);

        if (c) {
            fputc('?', out);
            s += c;
            continue;
        }
        if (*s == '"')
            fputc('"', out);
        fputc(*s++, out);
    }
    if (quote)
        fputc('"', out);
}

/* A params value: a JSON number is written as the number it is (a
 * negative backlog stays -1, a number a spreadsheet reads as one), any
 * other value as guarded text. */
static void value(FILE *out, const json_t *v)
{
    char *text;

    if (!v || json_is_null(v))
        return;
    if (json_is_string(v)) {
        field(out, json_string_value(v));
        return;
    }
    if (json_is_integer(v)) {
        fprintf(out, "%lld", (long long)json_integer_value(v));
        return;
    }
    if (json_is_real(v)) {
        fprintf(out, "%.10g", json_real_value(v));
        return;
    }
    text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (text)
        field(out, text);
    free(text);
}

/* Every key any run's object at name has, in first-seen order. */
static json_t *union_keys(const json_t *runs, const char *name)
{
    json_t *keys = json_object();

    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i);
        const json_t *reps = json_object_get(run, RD_REPEATS);
        const char *key;
        json_t *val;

        json_object_foreach(json_object_get(run, name), key, val)
            json_object_set_new(keys, key, json_true());
        for (size_t r = 0; r < json_array_size(reps); r++)
            json_object_foreach(json_object_get(json_array_get(reps, r), name), key, val)
                json_object_set_new(keys, key, json_true());
    }
    return keys;
}

static void row(FILE *out, size_t point, size_t repeat, const json_t *run, const json_t *params,
                const json_t *pkeys, const json_t *kkeys)
{
    size_t nm;
    const struct metric *all = metric_table(&nm);
    const char *key;
    json_t *val;
    struct histogram h;

    fprintf(out, "%zu,%zu", point, repeat);
    json_object_foreach((json_t *)pkeys, key, val) {
        fputc(',', out);
        value(out, json_object_get(params, key));
    }
    for (size_t k = 0; k < nm; k++) {
        double v;

        fputc(',', out);
        if (metric_value(run, &all[k], &v) == 0)
            fprintf(out, "%.10g", v);
    }
    for (size_t k = 0; k < sizeof(hists) / sizeof(hists[0]); k++) {
        const json_t *hj = rundoc_get(run, RD_LATENCY, hists[k]);
        bool have = hj && histogram_from_json(hj, &h) == 0 && h.count > 0;

        for (size_t q = 0; q < NQ; q++) {
            if (quantile_is_metric(k, q))
                continue;
            fputc(',', out);
            if (have)
                fprintf(out, "%llu", (unsigned long long)histogram_quantile(&h, quantiles[q]));
        }
    }
    json_object_foreach((json_t *)kkeys, key, val) {
        const json_t *c = rundoc_get(run, RD_KERNEL, key);

        fprintf(out, ",%lld", json_is_integer(c) ? (long long)json_integer_value(c) : 0LL);
    }
    fputc('\n', out);
}

int export_csv(const json_t *doc, FILE *out, char *err, size_t errlen)
{
    const json_t *runs = rundoc_runs(doc);
    json_t *pkeys = union_keys(runs, RD_PARAMS), *kkeys = union_keys(runs, RD_KERNEL);
    size_t nm;
    const struct metric *all = metric_table(&nm);
    const char *key;
    json_t *val;

    if (!json_is_array(runs)) {
        json_decref(pkeys);
        json_decref(kkeys);
        return errbuf_set(err, errlen, "no runs[]");
    }
    fputs("point,repeat", out);
    json_object_foreach(pkeys, key, val) {
        char name[300];

        snprintf(name, sizeof(name), "param:%s", key);
        fputc(',', out);
        field(out, name);
    }
    for (size_t k = 0; k < nm; k++)
        fprintf(out, ",%s", all[k].name);
    for (size_t k = 0; k < sizeof(hists) / sizeof(hists[0]); k++)
        for (size_t q = 0; q < NQ; q++)
            if (!quantile_is_metric(k, q))
                fprintf(out, ",%s_%s_us", hists[k], qnames[q]);
    json_object_foreach(kkeys, key, val) {
        char name[300];

        snprintf(name, sizeof(name), "kernel:%s", key);
        fputc(',', out);
        field(out, name);
    }
    fputc('\n', out);
    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i);
        const json_t *reps = json_object_get(run, RD_REPEATS);
        const json_t *params = rundoc_params(run);

        row(out, i + 1, 0, run, params, pkeys, kkeys);
        for (size_t r = 0; r < json_array_size(reps); r++)
            row(out, i + 1, r + 1, json_array_get(reps, r), params, pkeys, kkeys);
    }
    json_decref(pkeys);
    json_decref(kkeys);
    return ferror(out) ? errbuf_set(err, errlen, "write error") : 0;
}
