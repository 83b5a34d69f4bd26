#include "sweep.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errbuf.h"

int sweep_parse(const json_t *spec, const char *source, struct sweep *sw, char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    memset(sw, 0, sizeof(*sw));
    sw->npoints = 1;
    if (!spec)
        return 0;
    if (!json_is_object(spec))
        return errbuf_set(err, errlen, "%s: sweep: must be an object of key -> list of values",
                          source);
    if (json_object_size(spec) == 0)
        return errbuf_set(err, errlen, "%s: sweep: empty (remove it, or give a key to vary)",
                          source);
    json_object_foreach((json_t *)spec, key, val) {
        char why[ERRBUF_LEN];

        if (config_check_path(key, true, why, sizeof(why)) < 0) {
            sweep_destroy(sw);
            return errbuf_set(err, errlen, "%s: sweep.%s", source, why);
        }
        if (!json_is_array(val) || json_array_size(val) == 0) {
            sweep_destroy(sw);
            return errbuf_set(err, errlen, "%s: sweep.%s: must be a non-empty list of values",
                              source, key);
        }
        /* Two equal values would make two points with the same params,
         * which nothing downstream (plot, compare) could tell apart. */
        for (size_t i = 0; i < json_array_size(val); i++) {
            for (size_t j = 0; j < i; j++) {
                if (json_equal(json_array_get(val, i), json_array_get(val, j))) {
                    char *text = json_dumps(json_array_get(val, i), JSON_ENCODE_ANY);

                    errbuf_set(err, errlen,
                               "%s: sweep.%s: the value %.64s appears twice (items "
                               "%zu and %zu); every point must differ",
                               source, key, text ? text : "?", j + 1, i + 1);
                    free(text);
                    sweep_destroy(sw);
                    return -1;
                }
            }
        }
        if (sw->nkeys >= SWEEP_MAX_KEYS || strlen(key) >= sizeof(sw->keys[0])) {
            sweep_destroy(sw);
            return errbuf_set(err, errlen, "%s: sweep.%s: at most %d keys of up to %zu characters",
                              source, key, SWEEP_MAX_KEYS, sizeof(sw->keys[0]) - 1);
        }
        if (sw->npoints * json_array_size(val) > SWEEP_MAX_POINTS) {
            sweep_destroy(sw);
            return errbuf_set(err, errlen, "%s: sweep: more than %d points", source,
                              SWEEP_MAX_POINTS);
        }
        strcpy(sw->keys[sw->nkeys], key);
        sw->values[sw->nkeys++] = json_incref(val);
        sw->npoints *= json_array_size(val);
    }
    return 0;
}

void sweep_destroy(struct sweep *sw)
{
    for (size_t k = 0; k < sw->nkeys; k++)
        json_decref(sw->values[k]);
    sw->nkeys = 0;
}

json_t *sweep_params(const struct sweep *sw, size_t i)
{
    json_t *params = json_object();
    size_t stride = sw->npoints;

    for (size_t k = 0; k < sw->nkeys; k++) {
        size_t n = json_array_size(sw->values[k]);

        stride /= n;
        json_object_set(params, sw->keys[k], json_array_get(sw->values[k], (i / stride) % n));
    }
    return params;
}

int sweep_apply(json_t *root, const json_t *params, char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)params, key, val) {
        if (config_set_path(root, key, json_deep_copy(val), err, errlen) < 0)
            return -1;
    }
    return 0;
}
