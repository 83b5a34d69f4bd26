#include "results.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "resultcheck.h"
#include "safefile.h"
#include "rundoc.h"

int results_write(const json_t *doc, const char *path, char *err, size_t errlen)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    size_t len;
    int rc;

    if (!text)
        return errbuf_set(err, errlen, "cannot write results: out of memory");
    /* the document and its final newline, in one piece */
    len = strlen(text);
    text[len] = '\n';
    rc = safefile_put(path, text, len + 1, err, errlen);
    free(text);
    if (rc < 0) {
        char cause[ERRBUF_LEN];

        snprintf(cause, sizeof(cause), "%s", err);
        errbuf_set(err, errlen, "cannot write results: %s", cause);
    }
    return rc;
}

int results_write_or_rescue(const json_t *doc, const char *path, char *where, size_t wlen,
                            char *err, size_t errlen)
{
    const char *tmp = getenv("TMPDIR"), *base = strrchr(path, '/');
    char rescue[PATH_MAX], why[ERRBUF_LEN];
    char *text;

    where[0] = '\0';
    if (results_write(doc, path, err, errlen) == 0)
        return 0;
    /* the measurement must not die with the disk: beside the system's
     * temporary files first, then standard output */
    base = base ? base + 1 : path;
    snprintf(rescue, sizeof(rescue), "%s/qbench-rescued-%d-%.100s",
             tmp && tmp[0] == '/' ? tmp : "/tmp", (int)getpid(), base);
    if (results_write(doc, rescue, why, sizeof(why)) == 0) {
        snprintf(where, wlen, "%s", rescue);
        return -1;
    }
    text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (text && fputs(text, stdout) != EOF && fputc('\n', stdout) != EOF && fflush(stdout) != EOF)
        snprintf(where, wlen, "standard output");
    free(text);
    return -1;
}

int results_check(const json_t *doc, const char *source, char *err, size_t errlen)
{
    const json_t *schema = json_object_get(doc, RD_SCHEMA), *runs;
    char why[ERRBUF_LEN];

    if (!json_is_object(doc) || !json_is_string(schema) ||
        (strcmp(json_string_value(schema), RESULTS_SCHEMA) != 0 &&
         strcmp(json_string_value(schema), RESULTS_SCHEMA_1) != 0))
        return errbuf_set(err, errlen,
                          "%s: not a qbench results file (expected \"schema\": "
                          "\"%s\")",
                          source, RESULTS_SCHEMA);
    runs = rundoc_runs(doc);
    if (!json_is_array(runs))
        return errbuf_set(err, errlen, "%s: runs: missing or not an array", source);
    if (resultcheck_document(doc, why, sizeof(why)) < 0)
        return errbuf_set(err, errlen, "%s: %s", source, why);
    return 0;
}

json_t *results_load_json(const char *path, results_check_fn check, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);

    if (!doc) {
        if (jerr.line <= 0)
            errbuf_set(err, errlen, "%s: %s", path, jerr.text);
        else
            errbuf_set(err, errlen, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
                       jerr.text);
        return NULL;
    }
    if (check(doc, path, err, errlen) < 0) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

json_t *results_load(const char *path, char *err, size_t errlen)
{
    return results_load_json(path, results_check, err, errlen);
}

void results_params_text(const json_t *params, char *buf, size_t len)
{
    const char *key;
    json_t *val;
    size_t used = 0;

    buf[0] = '\0';
    json_object_foreach((json_t *)params, key, val) {
        char *v = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);

        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", key,
                                     v ? v : "?");
        free(v);
    }
    /* keys come from the file as they are: nothing of them reaches a terminal raw */
    errbuf_printable(buf);
}
