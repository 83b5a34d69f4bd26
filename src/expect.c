#include "expect.h"

#include <stdio.h>
#include <string.h>

#include "metric.h"

json_t *expect_evaluate(const struct config_expect *bounds, size_t n, const json_t *runs,
                        bool *all_pass)
{
    json_t *out = json_object();

    *all_pass = true;
    for (size_t i = 0; i < n; i++) {
        const struct config_expect *e = &bounds[i];
        bool is_max = false, pass_all = true, have_worst = false;
        /* validated with the config: the bound names a known metric */
        const struct metric *m = metric_parse_bound(e->name, &is_max);
        bool is_min = !is_max;
        double worst = 0;
        json_t *per_run = json_array();

        for (size_t r = 0; r < json_array_size(runs); r++) {
            const json_t *run = json_array_get(runs, r);
            double v;
            bool pass;
            json_t *value;

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
            pass_all = pass_all && pass;
            json_array_append_new(per_run, json_pack("{s:O, s:o, s:b}", "params",
                                                     json_object_get(run, "params"), "value",
                                                     value, "pass", pass));
        }
        *all_pass = *all_pass && pass_all;
        json_object_set_new(out, e->name,
                            json_pack("{s:f, s:o, s:b, s:o}", "bound", e->bound, "value",
                                      have_worst ? json_real(worst) : json_null(), "pass",
                                      pass_all, "runs", per_run));
    }
    return out;
}

size_t expect_print_failures(const json_t *expect, FILE *out)
{
    const char *bound;
    json_t *e;
    size_t failed = 0;

    json_object_foreach((json_t *)expect, bound, e) {
        bool is_max = false;
        const struct metric *m = metric_parse_bound(bound, &is_max);
        const json_t *value = json_object_get(e, "value");
        char v[32], lim[32];

        if (json_is_true(json_object_get(e, "pass")) || !m)
            continue;
        failed++;
        metric_format(m, json_is_number(value), json_number_value(value), v, sizeof(v));
        metric_format(m, true, json_number_value(json_object_get(e, "bound")), lim, sizeof(lim));
        if (!json_is_number(value))
            fprintf(out, "qbench: expect %s failed: a run has no %s (limit %s)\n", bound,
                    m->name, lim);
        else
            fprintf(out, "qbench: expect %s failed: %s %s %s %s\n", bound, m->name, v,
                    is_max ? ">" : "<", lim);
    }
    return failed;
}
