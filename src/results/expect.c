#include "expect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric.h"
#include "rundoc.h"

/* Why a run cannot be judged: it did not finish ("interrupted" by a
 * signal, or marked "incomplete" when a later step failed); NULL if it
 * did. Its counts are partial, so no bound passes on them. */
static const char *unfinished(const json_t *run)
{
    if (json_is_true(json_object_get(run, RD_INTERRUPTED)))
        return "interrupted";
    if (json_object_get(run, RD_INCOMPLETE) || json_is_false(json_object_get(run, RD_COMPLETE)))
        return "incomplete";
    return NULL;
}

json_t *expect_evaluate(const struct expect_bound *bounds, size_t n, const json_t *runs,
                        bool *all_pass)
{
    json_t *out = json_object();

    *all_pass = true;
    for (size_t i = 0; i < n; i++) {
        const struct expect_bound *e = &bounds[i];
        bool is_max = false, pass_all = true, have_worst = false;
        /* validated with the config: the bound names a known metric */
        const struct metric *m = metric_parse_bound(e->name, &is_max);
        bool is_min = !is_max;
        double worst = 0;
        json_t *per_run = json_array();

        for (size_t r = 0; r < json_array_size(runs); r++) {
            const json_t *run = json_array_get(runs, r);
            const char *why = unfinished(run);
            double v;
            bool pass;
            json_t *value, *entry;

            if (!m || metric_value(run, m, &v) < 0) {
                pass = false;
                value = json_null();
            } else {
                pass = is_min ? v >= e->bound : v <= e->bound;
                value = json_real(v);
                if (!have_worst || (is_min ? v < worst : v > worst))
                    worst = v;
                have_worst = true;
            }
            pass = pass && !why;
            pass_all = pass_all && pass;
            entry = json_pack("{s:O, s:o, s:b}", RD_PARAMS, rundoc_params(run), "value", value,
                              "pass", pass);
            if (why)
                json_object_set_new(entry, "unfinished", json_string(why));
            json_array_append_new(per_run, entry);
        }
        *all_pass = *all_pass && pass_all;
        json_object_set_new(out, e->name,
                            json_pack("{s:f, s:o, s:b, s:o}", "bound", e->bound, "value",
                                      have_worst ? json_real(worst) : json_null(), "pass", pass_all,
                                      "runs", per_run));
    }
    return out;
}

/* A point as a reader finds it in the summary: "point 2 (server.backlog=4)". */
static void point_name(const json_t *params, size_t index, char *buf, size_t len)
{
    const char *key;
    json_t *val;
    size_t used = (size_t)snprintf(buf, len, "point %zu", index);
    bool first = true;

    json_object_foreach((json_t *)params, key, val) {
        char *text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);

        if (used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s=%s", first ? " (" : ", ", key,
                                     text ? text : "?");
        first = false;
        free(text);
    }
    if (!first && used < len)
        snprintf(buf + used, len - used, ")");
}

size_t expect_print_failures(const json_t *expect, FILE *out)
{
    const char *bound;
    json_t *e;
    size_t failed = 0;

    json_object_foreach((json_t *)expect, bound, e) {
        bool is_max = false, measured_fail = false;
        const struct metric *m = metric_parse_bound(bound, &is_max);
        const json_t *value = json_object_get(e, "value"), *runs = json_object_get(e, "runs");
        char v[32], lim[32], name[256];

        if (json_is_true(json_object_get(e, "pass")) || !m)
            continue;
        failed++;
        metric_format(m, true, json_number_value(json_object_get(e, "bound")), lim, sizeof(lim));
        for (size_t r = 0; r < json_array_size(runs); r++) {
            const json_t *run = json_array_get(runs, r);

            if (!json_is_true(json_object_get(run, "pass")) && !json_object_get(run, "unfinished"))
                measured_fail = true;
        }
        if (!measured_fail)
            fprintf(out, "qbench: expect %s not judged: ", bound);
        else if (!json_is_number(value))
            fprintf(out, "qbench: expect %s failed: a run has no %s (limit %s); ", bound, m->name,
                    lim);
        else {
            metric_format(m, true, json_number_value(value), v, sizeof(v));
            fprintf(out, "qbench: expect %s failed: %s %s %s %s; ", bound, m->name, v,
                    is_max ? ">" : "<", lim);
        }
        /* which points: a sweep's summary lists several, the reader needs
         * the one to look at */
        for (size_t r = 0, shown = 0; r < json_array_size(runs); r++) {
            const json_t *run = json_array_get(runs, r);
            const json_t *rv = json_object_get(run, "value");
            const char *why = json_string_value(json_object_get(run, "unfinished"));

            if (json_is_true(json_object_get(run, "pass")))
                continue;
            if (shown == 3) {
                fprintf(out, ", ...");
                break;
            }
            point_name(rundoc_params(run), r + 1, name, sizeof(name));
            metric_format(m, json_is_number(rv), json_number_value(rv), v, sizeof(v));
            if (why)
                fprintf(out, "%s%s was %s (its counts are partial)", shown ? ", " : "", name, why);
            else
                fprintf(out, "%s%s: %s", shown ? ", " : "", name, v);
            shown++;
        }
        fprintf(out, "\n");
    }
    return failed;
}

size_t expect_local_errors(const struct expect_bound *bounds, size_t n, const json_t *runs,
                           FILE *out)
{
    size_t bad = 0;

    /* the user's own bound on error_ratio judges instead (and overrides) */
    for (size_t i = 0; i < n; i++)
        if (strcmp(bounds[i].name, "error_ratio_max") == 0)
            return 0;
    for (size_t r = 0; r < json_array_size(runs); r++) {
        const json_t *run = json_array_get(runs, r);
        const json_t *o = json_object_get(run, RD_OUTCOMES), *errs = json_object_get(o, RD_ERRORS);
        double att = json_number_value(json_object_get(o, "attempted"));
        double local = json_number_value(json_object_get(o, "error")) -
                       json_number_value(json_object_get(errs, "INTERRUPTED"));
        const char *key, *hint = "";
        json_t *val;
        char name[256];
        bool first = true;

        if (att <= 0 || local / att <= EXPECT_LOCAL_ERROR_MAX)
            continue;
        bad++;
        point_name(rundoc_params(run), r + 1, name, sizeof(name));
        fprintf(out,
                "qbench: %s: %.0f of %.0f attempts (%.1f%%) failed on this machine before "
                "reaching the server (",
                name, local, att, 100.0 * local / att);
        json_object_foreach((json_t *)errs, key, val) {
            if (strcmp(key, "INTERRUPTED") == 0)
                continue;
            fprintf(out, "%s%s %lld", first ? "" : ", ", key, (long long)json_integer_value(val));
            first = false;
            if (strcmp(key, "EMFILE") == 0 || strcmp(key, "ENFILE") == 0)
                hint = " Raise the open-file limit (ulimit -n).";
            else if (strcmp(key, "EADDRNOTAVAIL") == 0 || strcmp(key, "EADDRINUSE") == 0)
                hint = " Give the client more source ports or addresses "
                       "(sysctl.net.ipv4.ip_local_port_range, client.source_addresses).";
        }
        fprintf(out,
                "): more than %.0f%%, so this run measured the client's limits, not the "
                "server.%s To judge it anyway, bound it yourself: --set "
                "expect.error_ratio_max=1\n",
                100.0 * EXPECT_LOCAL_ERROR_MAX, hint);
    }
    return bad;
}
