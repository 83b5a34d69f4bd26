/* libFuzzer target: plot script generation from any results document that
 * passes the schema check. Beyond not crashing, every script must pass the
 * gpcheck oracle: no string from the file reaches gnuplot where it could
 * run a command or expand a macro. One document, the same document twice
 * (a comparison plot), and every swept key as --x, for PNG and SVG. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../gpcheck.h"
#include "errbuf.h"
#include "plot.h"
#include "results.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(json_t *const *docs, size_t n, const char *x, enum plot_format fmt)
{
    char err[ERRBUF_LEN], *script = NULL;
    const char *bad;

    if (plot_script(docs, n, x, fmt, &script, err, sizeof(err)) < 0)
        return;
    bad = gpcheck(script);
    if (bad) {
        fprintf(stderr, "unsafe gnuplot script: %s\n%s\n", bad, script);
        abort();
    }
    free(script);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    char err[ERRBUF_LEN];
    json_t *docs[2];
    const json_t *params;
    const char *key;
    json_t *val;

    if (!doc)
        return 0;
    if (results_check(doc, "fuzz", err, sizeof(err)) < 0) {
        json_decref(doc);
        return 0;
    }
    docs[0] = docs[1] = doc;
    for (int fmt = PLOT_PNG; fmt <= PLOT_SVG; fmt++) {
        check(docs, 1, NULL, (enum plot_format)fmt);
        check(docs, 2, NULL, (enum plot_format)fmt);
    }
    params = json_object_get(json_array_get(json_object_get(doc, "runs"), 0), "params");
    json_object_foreach((json_t *)params, key, val)
        check(docs, 1, key, PLOT_SVG);
    json_decref(doc);
    return 0;
}
