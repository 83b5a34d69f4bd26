#include "plan.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "records.h"
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

/* The key a "KEY=VALUE" set names, into key. */
static void set_key(const char *set, char *key, size_t len)
{
    size_t n = strcspn(set, "=");

    snprintf(key, len, "%.*s", (int)n, set);
}

/* Validation names "<path>: <key>: <reason>", one a line. A line whose key
 * a set gave (the key itself, or inside an object a set replaced) is the
 * set's fault: "--set <key>: <reason>". */
static void blame_sets(char *err, size_t errlen, const char *path, const char *const *sets,
                       size_t nsets)
{
    char out[ERRBUF_LEN], key[256];
    size_t used = 0, plen = strlen(path);

    out[0] = '\0';
    for (const char *line = err; *line && used < sizeof(out);) {
        size_t len = strcspn(line, "\n");
        const char *k = line + plen + 2;
        bool from_set = false;

        if (len > plen + 2 && strncmp(line, path, plen) == 0 && line[plen] == ':') {
            size_t klen = strcspn(k, ":\n");

            for (size_t i = 0; i < nsets && !from_set; i++) {
                size_t slen;

                set_key(sets[i], key, sizeof(key));
                slen = strlen(key);
                from_set =
                    slen <= klen && strncmp(k, key, slen) == 0 && (slen == klen || k[slen] == '.');
            }
        }
        used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%s%.*s", used ? "\n" : "",
                                 from_set ? "--set " : "", (int)(from_set ? len - (plen + 2) : len),
                                 from_set ? k : line);
        line += len + (line[len] == '\n');
    }
    snprintf(err, errlen, "%s", out);
}

/* A set on a key the sweep varies replaces that sweep; "sweep={}" drops
 * the sweep. What changed goes to notes. */
static void sets_over_sweep(json_t *root, const char *const *sets, size_t nsets, char *notes,
                            size_t len)
{
    json_t *sweep = json_object_get(root, "sweep");
    size_t used = 0;
    char key[256];

    for (size_t i = 0; i < nsets && json_is_object(sweep); i++) {
        json_t *values;

        set_key(sets[i], key, sizeof(key));
        values = json_object_get(sweep, key);
        if (!values)
            continue;
        if (used < len)
            used += (size_t)snprintf(notes + used, len - used,
                                     "%s--set %s replaces the sweep over %s (%zu values)",
                                     used ? "; " : "", sets[i], key, json_array_size(values));
        json_object_del(sweep, key);
    }
    /* emptied by sets, or set to {}: no sweep, one point */
    if (json_is_object(sweep) && json_object_size(sweep) == 0 && nsets > 0)
        json_object_del(root, "sweep");
}

int plan_load(struct plan *p, const char *path, const char *const *sets, size_t nsets,
              const char *output, const char *connections, char *err, size_t errlen)
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
    sets_over_sweep(root, sets, nsets, p->notes, sizeof(p->notes));
    if (output && config_set_path(root, "output", json_string(output), err, errlen) < 0)
        goto fail_root;
    if (connections &&
        config_set_path(root, "connections_file", json_string(connections), err, errlen) < 0)
        goto fail_root;
    if (sweep_parse(json_object_get(root, "sweep"), path, &sw, err, errlen) < 0)
        goto fail_root;

    default_name(path, name, sizeof(name));
    p->points = calloc(sw.npoints, sizeof(*p->points));
    if (!p->points) {
        errbuf_set(err, errlen, "%s: out of memory for %zu sweep points", path, sw.npoints);
        goto fail_sweep;
    }
    for (size_t i = 0; i < sw.npoints; i++) {
        json_t *copy = json_deep_copy(root);
        char sub[ERRBUF_LEN];
        int rc;

        p->points[i].params = sweep_params(&sw, i);
        p->npoints = i + 1;
        json_object_del(copy, "sweep");
        if (sweep_apply(copy, p->points[i].params, sub, sizeof(sub)) < 0) {
            json_decref(copy);
            errbuf_set(err, errlen, "%s: sweep: %s", path, sub);
            goto fail_sweep;
        }
        rc = config_from_json(copy, path, name, &p->points[i].cfg, sub, sizeof(sub));
        json_decref(copy);
        if (rc < 0) {
            blame_sets(sub, sizeof(sub), path, sets, nsets);
            if (sw.nkeys) {
                char *ps = json_dumps(p->points[i].params, JSON_COMPACT);

                errbuf_set(err, errlen, "%s (sweep point %zu of %zu: %s)", sub, i + 1, sw.npoints,
                           ps ? ps : "?");
                free(ps);
            } else {
                errbuf_set(err, errlen, "%s", sub);
            }
            goto fail_sweep;
        }
    }
    /* the connections file's format is records' to know, from its name */
    if (p->points[0].cfg.connections_file[0] &&
        records_format_of(p->points[0].cfg.connections_file) < 0) {
        errbuf_set(err, errlen,
                   "%s: connections_file: the name must end in .csv or .jsonl, got "
                   "\"%s\"",
                   path, p->points[0].cfg.connections_file);
        goto fail_sweep;
    }
    /* name, output, isolate and expect cannot be swept: point 0 speaks for all */
    snprintf(p->id.name, sizeof(p->id.name), "%s", p->points[0].cfg.name);
    snprintf(p->id.output, sizeof(p->id.output), "%s", p->points[0].cfg.output);
    snprintf(p->id.connections_file, sizeof(p->id.connections_file), "%s",
             p->points[0].cfg.connections_file);
    p->id.isolate = p->points[0].cfg.isolate;
    p->id.repeat = p->points[0].cfg.repeat;
    p->id.nexpect = p->points[0].cfg.nexpect;
    memcpy(p->id.expect, p->points[0].cfg.expect, sizeof(p->id.expect));
    p->effective = config_to_json(&p->points[0].cfg);
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
        json_decref(p->points[i].params);
    free(p->points);
    json_decref(p->effective);
    memset(p, 0, sizeof(*p));
}

void plan_duration(const struct plan *p, double *at_least_s, double *at_most_s)
{
    unsigned repeat = p->id.repeat ? p->id.repeat : 1;

    *at_least_s = *at_most_s = 0;
    for (size_t i = 0; i < p->npoints; i++) {
        const struct config *c = &p->points[i].cfg;
        double sched = c->client.duration_ms ? c->client.duration_ms / 1000.0 : 0;
        double tail = (c->client.connect_timeout_ms +
                       (c->client.expect_greeting ? c->client.greeting_timeout_ms : 0)) /
                      1000.0;

        if (c->client.connections) {
            double by_count = (double)c->client.connections / c->client.rate;

            sched = sched > 0 && sched < by_count ? sched : by_count;
        }
        *at_least_s += sched * repeat;
        *at_most_s += (sched + tail) * repeat;
    }
}
