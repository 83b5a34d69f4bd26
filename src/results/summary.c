#include "summary.h"

#include <string.h>

#include "metric.h"
#include "outcome.h"
#include "results.h"
#include "rundoc.h"

void summary_print(FILE *out, const json_t *run, size_t point, size_t npoints)
{
    const json_t *o = json_object_get(run, RD_OUTCOMES);
    double attempted = json_number_value(json_object_get(o, RD_ATTEMPTED));
    static const char *const latencies[] = {"connect_p50_us", "connect_p99_us", "accept_p50_us",
                                            "accept_p99_us"};
    char params[256];

    results_params_text(rundoc_params(run), params, sizeof(params));
    if (npoints > 1)
        fprintf(out, "[%zu/%zu] %s: ", point, npoints, params);
    fprintf(out, "attempted %.0f:", attempted);
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        double n = json_number_value(json_object_get(o, outcome_name((enum outcome)k)));

        if (n > 0 || k == OUTCOME_ESTABLISHED)
            fprintf(out, " %s %.0f (%.1f%%)", outcome_name((enum outcome)k), n,
                    attempted > 0 ? n / attempted * 100.0 : 0.0);
    }
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
    fprintf(out, "\n");
}
