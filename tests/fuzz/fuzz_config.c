/* libFuzzer target: the config path from bytes to validated run points.
 * Properties: never crash or leak, and a config that validates produces an
 * effective config that validates again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errbuf.h"
#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    char err[ERRBUF_LEN];
    struct sweep sw;
    size_t points;

    if (!root)
        return 0;
    /* the bytes as a --set assignment too */
    if (size < 200) {
        char *set = strndup((const char *)data, size);

        if (set) {
            json_t *copy = json_object();

            config_apply_set(copy, set, err, sizeof(err));
            json_decref(copy);
            free(set);
        }
    }
    if (!json_is_object(root) ||
        sweep_parse(json_object_get(root, "sweep"), "fuzz", &sw, err, sizeof(err)) < 0) {
        json_decref(root);
        return 0;
    }
    points = sw.npoints < 8 ? sw.npoints : 8;
    for (size_t i = 0; i < points; i++) {
        json_t *copy = json_deep_copy(root), *params = sweep_params(&sw, i);
        struct config *cfg = malloc(sizeof(*cfg)), *again = malloc(sizeof(*again));

        json_object_del(copy, "sweep");
        if (cfg && again && sweep_apply(copy, params, err, sizeof(err)) == 0 &&
            config_from_json(copy, "fuzz", "fuzz", cfg, err, sizeof(err)) == 0) {
            json_t *eff = config_to_json(cfg);

            if (config_from_json(eff, "effective", "fuzz", again, err, sizeof(err)) != 0)
                abort(); /* the effective config must validate again */
            json_decref(eff);
        }
        free(cfg);
        free(again);
        json_decref(params);
        json_decref(copy);
    }
    sweep_destroy(&sw);
    json_decref(root);
    return 0;
}
