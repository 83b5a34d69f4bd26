#include "hint.h"

#include <stdio.h>
#include <string.h>

/* Edit distance, for "did you mean": a typo is one or two edits away. */
static size_t edits(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];

    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

void hint_closest(const char *got, const char *const *names, size_t n, char *out, size_t len)
{
    size_t best = 99, limit = strlen(got) > 9 ? 3 : 2;
    const char *pick = NULL;

    for (size_t i = 0; i < n; i++) {
        size_t d = edits(got, names[i]);

        if (d < best) {
            best = d;
            pick = names[i];
        }
    }
    if (pick && best <= limit)
        snprintf(out, len, " (did you mean '%s'?)", pick);
    else
        out[0] = '\0';
}

const char *hint_json_type(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}
