#include "summary.h"

#include <math.h>
#include <string.h>

#include "metric.h"
#include "outcome.h"
#include "results.h"
#include "rundoc.h"

static const char *const latencies[] = {"connect_p50_us", "connect_p99_us", "accept_p50_us",
                                        "accept_p99_us"};

/* Connections an interrupt caught in flight: error INTERRUPTED in the
 * file, "unfinished" to a reader (they are not local errors). */
static double unfinished_count(const json_t *o)
{
    return json_number_value(json_object_get(json_object_get(o, "errors"), "INTERRUPTED"));
}

/* mean ± sd (min .. max) of one metric across the repeats, hyperfine's
 * way: the spread a reader needs to tell two points apart. */
static void spread_line(FILE *out, const struct metric *m, const json_t *values)
{
    size_t n = json_array_size(values);
    double sum = 0, sq = 0, lo = INFINITY, hi = -INFINITY, mean, sd;
    char a[32], b[32], c[32], d[32];

    for (size_t i = 0; i < n; i++) {
        double x = json_number_value(json_array_get(values, i));

        sum += x;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    mean = sum / (double)n;
    for (size_t i = 0; i < n; i++) {
        double x = json_number_value(json_array_get(values, i));

        sq += (x - mean) * (x - mean);
    }
    sd = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
    metric_format(m, true, mean, a, sizeof(a));
    if (m->kind == METRIC_RATIO)
        snprintf(b, sizeof(b), "%.2f pp", sd * 100.0);
    else
        metric_format(m, true, sd, b, sizeof(b));
    metric_format(m, true, lo, c, sizeof(c));
    metric_format(m, true, hi, d, sizeof(d));
    fprintf(out, "    %-24s %10s ± %-10s %10s .. %s\n", m->name, a, b, c, d);
}

/* The point's capture: how many packets, and whether the file lacks some
 * (a number that could not be read is said to be unknown). */
static void capture_text(FILE *out, const json_t *cap)
{
    const json_t *dropped = json_object_get(cap, RD_CAP_DROPPED);
    const char *error = json_string_value(json_object_get(cap, RD_CAP_ERROR));
    json_int_t packets = json_integer_value(json_object_get(cap, RD_CAP_PACKETS));

    if (!json_is_object(cap))
        return;
    if (!json_is_true(json_object_get(cap, RD_CAP_WRITTEN))) {
        fprintf(out, " | capture NOT written: %s", error ? error : "unknown cause");
        return;
    }
    fprintf(out, " | capture %" JSON_INTEGER_FORMAT " packets", packets);
    if (json_is_true(json_object_get(cap, RD_CAP_COMPLETE)))
        return;
    if (!json_is_integer(dropped))
        fprintf(out, " INCOMPLETE (kernel drops unknown)");
    else if (json_integer_value(dropped) > 0 ||
             json_integer_value(json_object_get(cap, RD_CAP_IF_DROPPED)) > 0)
        fprintf(out, " INCOMPLETE: %" JSON_INTEGER_FORMAT " dropped by the kernel",
                json_integer_value(dropped) +
                    json_integer_value(json_object_get(cap, RD_CAP_IF_DROPPED)));
    else
        fprintf(out, " INCOMPLETE: the kernel let in %" JSON_INTEGER_FORMAT "%s%s",
                json_integer_value(json_object_get(cap, RD_CAP_RECEIVED)), error ? "; " : "",
                error ? error : "");
}

void summary_print(FILE *out, const json_t *run, size_t point, size_t npoints)
{
    const json_t *o = json_object_get(run, RD_OUTCOMES);
    const json_t *spread = json_object_get(run, "spread");
    double attempted = json_number_value(json_object_get(o, RD_ATTEMPTED));
    double unfinished = unfinished_count(o);
    bool interrupted = json_is_true(json_object_get(run, "interrupted"));
    char params[256];

    results_params_text(rundoc_params(run), params, sizeof(params));
    if (npoints > 1)
        fprintf(out, "[%zu/%zu] %s: ", point, npoints, params);
    /* a reader must not take a partial count for a measurement */
    if (interrupted)
        fprintf(out, "INTERRUPTED (partial counts): ");
    fprintf(out, "attempted %.0f:", attempted);
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        double n = json_number_value(json_object_get(o, outcome_name((enum outcome)k))), p50;
        char name[64], text[32] = "";
        const struct metric *m;

        if (k == OUTCOME_ERROR)
            n -= unfinished;
        /* how long the clients of a failure class waited to know it */
        snprintf(name, sizeof(name), "%s_p50_us", outcome_name((enum outcome)k));
        m = metric_find(name);
        if (n > 0 && k != OUTCOME_ESTABLISHED && m && metric_value(run, m, &p50) == 0) {
            snprintf(text, sizeof(text), ", p50 ");
            metric_format(m, true, p50, text + 6, sizeof(text) - 6);
        }
        if (n > 0 || k == OUTCOME_ESTABLISHED)
            fprintf(out, " %s %.0f (%.1f%%%s)", outcome_name((enum outcome)k), n,
                    attempted > 0 ? n / attempted * 100.0 : 0.0, text);
    }
    if (unfinished > 0)
        fprintf(out, " unfinished %.0f (%.1f%%)", unfinished,
                attempted > 0 ? unfinished / attempted * 100.0 : 0.0);
    fprintf(out, " |");
    for (size_t i = 0; i < sizeof(latencies) / sizeof(latencies[0]); i++) {
        const struct metric *m = metric_find(latencies[i]);
        double v;
        char text[32];

        if (metric_value(run, m, &v) < 0)
            continue;
        metric_format(m, true, v, text, sizeof(text));
        fprintf(out, " %.*s %s", (int)(strlen(m->name) - 3), m->name, text);
    }
    capture_text(out, json_object_get(run, RD_CAPTURE));
    fprintf(out, "\n");
    if (!json_is_object(spread))
        return;
    /* with repeats the line above is their merged totals: say how much the
     * repeats differed, for the ratios that happened and the latencies */
    {
        const json_t *est = json_object_get(json_object_get(spread, "established_ratio"), "values");

        char across[32];

        snprintf(across, sizeof(across), "across %zu repeats", json_array_size(est));
        fprintf(out, "    %-24s %10s ± %-10s %10s .. %s\n", across, "mean", "sd", "min", "max");
    }
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        char name[64];
        const struct metric *m;
        const json_t *s;

        snprintf(name, sizeof(name), "%s_ratio", outcome_name((enum outcome)k));
        m = metric_find(name);
        s = json_object_get(spread, name);
        if (!m || !s ||
            (k != OUTCOME_ESTABLISHED && json_number_value(json_object_get(s, "max")) <= 0))
            continue;
        spread_line(out, m, json_object_get(s, "values"));
    }
    for (size_t i = 0; i < sizeof(latencies) / sizeof(latencies[0]); i++) {
        const json_t *s = json_object_get(spread, latencies[i]);

        if (s && json_array_size(json_object_get(s, "values")) > 0)
            spread_line(out, metric_find(latencies[i]), json_object_get(s, "values"));
    }
}
