/* libFuzzer target: everything that reads a results document (the
 * validating loader, metrics, compare, plot script generation, export and
 * merge) must cope with any JSON: what the validator lets through must
 * never crash a reader, and merge of an accepted document with itself must
 * give a document the validator accepts again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "errbuf.h"
#include "export.h"
#include "merge.h"
#include "metric.h"
#include "plot.h"
#include "results.h"
#include "resultcheck.h"

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
    export_csv(doc, sink, err, sizeof(err));
    if (resultcheck_mergeable(doc, err, sizeof(err)) == 0) {
        json_t *two[] = {doc, doc};
        const char *names[] = {"a", "b"};
        json_t *merged = merge_documents(two, names, 2, err, sizeof(err));

        /* what merge writes, qbench must read back */
        if (merged && results_check(merged, "merged", err, sizeof(err)) < 0 &&
            !strstr(err, "overflow") && !strstr(err, "0..1000000000000000"))
            __builtin_trap();
        json_decref(merged);
    }
    json_decref(doc);
    return 0;
}
