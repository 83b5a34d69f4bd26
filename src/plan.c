#include "plan.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "sweep.h"

/* "configs/slow-accept.json" -> "slow-accept" */
static void default_name(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX];
    char *base, *dot;

    snprintf(buf, sizeof(buf), "%s", path);
    base = basename(buf);
    dot = strrchr(base, '.');
    if (dot && dot != base)
        *dot = '\0';
    snprintf(out, len, "%s", base);
}

int plan_load(struct plan *p, const char *path, const char *const *sets, size_t nsets,
              const char *output, char *err, size_t errlen)
{
    struct sweep sw;
    char name[128];
    json_t *root;

    memset(p, 0, sizeof(*p));
    root = config_read_file(path, err, errlen);
    if (!root)
        return -1;
    for (size_t i = 0; i < nsets; i++)
        if (config_apply_set(root, sets[i], err, errlen) < 0)
            goto fail_root;
    if (output && config_set_path(root, "output", json_string(output), err, errlen) < 0)
        goto fail_root;
    if (sweep_parse(json_object_get(root, "sweep"), path, &sw, err, errlen) < 0)
        goto fail_root;

    default_name(path, name, sizeof(name));
    p->points = calloc(sw.npoints, sizeof(*p->points));
    p->params = calloc(sw.npoints, sizeof(*p->params));
    if (!p->points || !p->params) {
        errbuf_set(err, errlen, "%s: out of memory for %zu sweep points", path, sw.npoints);
        goto fail_sweep;
    }
    for (size_t i = 0; i < sw.npoints; i++) {
        json_t *copy = json_deep_copy(root);
        char sub[ERRBUF_LEN];
        int rc;

        p->params[i] = sweep_params(&sw, i);
        p->npoints = i + 1;
        json_object_del(copy, "sweep");
        if (sweep_apply(copy, p->params[i], sub, sizeof(sub)) < 0) {
            json_decref(copy);
            errbuf_set(err, errlen, "%s: sweep: %s", path, sub);
            goto fail_sweep;
        }
        rc = config_from_json(copy, path, name, &p->points[i], sub, sizeof(sub));
        json_decref(copy);
        if (rc < 0) {
            if (sw.nkeys) {
                char *ps = json_dumps(p->params[i], JSON_COMPACT);

                errbuf_set(err, errlen, "%s (sweep point %zu of %zu: %s)", sub, i + 1,
                           sw.npoints, ps ? ps : "?");
                free(ps);
            } else {
                errbuf_set(err, errlen, "%s", sub);
            }
            goto fail_sweep;
        }
    }
    for (size_t i = 1; i < sw.npoints; i++) {
        if (strcmp(p->points[i].output, p->points[0].output) != 0 ||
            strcmp(p->points[i].name, p->points[0].name) != 0) {
            errbuf_set(err, errlen, "%s: sweep: name and output must be the same for every point",
                       path);
            goto fail_sweep;
        }
    }
    p->effective = config_to_json(&p->points[0]);
    if (json_object_get(root, "sweep"))
        json_object_set(p->effective, "sweep", json_object_get(root, "sweep"));
    sweep_destroy(&sw);
    json_decref(root);
    return 0;

fail_sweep:
    sweep_destroy(&sw);
    plan_destroy(p);
fail_root:
    json_decref(root);
    return -1;
}

void plan_destroy(struct plan *p)
{
    for (size_t i = 0; i < p->npoints; i++)
        json_decref(p->params[i]);
    free(p->params);
    free(p->points);
    json_decref(p->effective);
    memset(p, 0, sizeof(*p));
}
