/* libFuzzer target: everything that reads a results document (the checks,
 * metrics, expect bounds, compare and plot script generation) must cope
 * with any JSON that passes the schema check, without crashing. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compare.h"
#include "errbuf.h"
#include "metric.h"
#include "plot.h"
#include "results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    char err[ERRBUF_LEN], *script = NULL;
    struct compare_opts o;
    const json_t *runs;
    double v;

    if (!sink)
        sink = fopen("/dev/null", "w");
    if (!doc)
        return 0;
    if (results_check(doc, "fuzz", err, sizeof(err)) < 0) {
        json_decref(doc);
        return 0;
    }
    runs = json_object_get(doc, "runs");
    for (size_t i = 0; i < json_array_size(runs); i++) {
        size_t n;
        const struct metric *all = metric_table(&n);

        for (size_t m = 0; m < n; m++) {
            metric_value(json_array_get(runs, i), &all[m], &v);
            metric_samples(json_array_get(runs, i), &all[m]);
        }
    }
    compare_default_opts(&o);
    compare_results(doc, doc, &o, sink, NULL, err, sizeof(err));
    if (plot_script(&doc, 1, NULL, PLOT_PNG, &script, err, sizeof(err)) == 0)
        free(script);
    json_decref(doc);
    return 0;
}
