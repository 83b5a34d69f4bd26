#include "expect.h"

#include <stdio.h>
#include <string.h>

#include "results.h"

json_t *expect_evaluate(const struct config *cfg, const json_t *runs, bool *all_pass)
{
    json_t *out = json_object();

    *all_pass = true;
    for (size_t i = 0; i < cfg->nexpect; i++) {
        const struct config_expect *e = &cfg->expect[i];
        size_t n = strlen(e->name);
        bool is_min = strcmp(e->name + n - 4, "_min") == 0, pass_all = true, have_worst = false;
        char metric[64];
        double worst = 0;
        json_t *per_run = json_array();

        snprintf(metric, sizeof(metric), "%.*s", (int)(n - 4), e->name);
        for (size_t r = 0; r < json_array_size(runs); r++) {
            const json_t *run = json_array_get(runs, r);
            double v;
            bool pass;
            json_t *value;

            if (results_metric(run, metric, &v) < 0) {
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
