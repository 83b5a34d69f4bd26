#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "endpoint.h"
#include "errbuf.h"
#include "hint.h"
#include "metric.h"
#include "placeholder.h"
#include "sysctls.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

json_t *config_read_file(const char *path, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root;
    FILE *f = fopen(path, "r");

    if (!f) {
        errbuf_set(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!root) {
        errbuf_set(err, errlen, "%s:%d:%d: invalid JSON: %s", path, jerr.line, jerr.column,
                   jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        errbuf_set(err, errlen, "%s: the config must be a JSON object", path);
        return NULL;
    }
    return root;
}

/* obj[key] as an object, created if missing; NULL if it is something else. */
static json_t *child_object(json_t *obj, const char *key)
{
    json_t *next = json_object_get(obj, key);

    if (!next) {
        next = json_object();
        json_object_set_new(obj, key, next);
    }
    return json_is_object(next) ? next : NULL;
}

int config_set_path(json_t *root, const char *path, json_t *value, char *err, size_t errlen)
{
    char buf[256];
    char *seg = buf, *dot;
    json_t *obj = root;

    if (!value)
        return errbuf_set(err, errlen, "%s: no value", path);
    if (strlen(path) >= sizeof(buf)) {
        json_decref(value);
        return errbuf_set(err, errlen, "'%.32s...': key path too long", path);
    }
    strcpy(buf, path);
    if (strncmp(buf, "sysctl.", 7) == 0) {
        /* A sysctl's own name has dots: everything after "sysctl." is one key. */
        obj = child_object(root, "sysctl");
        seg = buf + 7;
    } else {
        while (obj && (dot = strchr(seg, '.'))) {
            *dot = '\0';
            obj = seg[0] ? child_object(obj, seg) : NULL;
            seg = dot + 1;
        }
    }
    if (!obj || seg[0] == '\0') {
        json_decref(value);
        return errbuf_set(err, errlen, "'%s': not a key path into the config's objects", path);
    }
    json_object_set_new(obj, seg, value);
    return 0;
}

int config_apply_set(json_t *root, const char *assignment, char *err, size_t errlen)
{
    const char *eq = strchr(assignment, '=');
    char path[256];
    json_t *value;
    json_error_t jerr;
    char sub[ERRBUF_LEN];

    if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(path))
        return errbuf_set(err, errlen, "--set %s: expected KEY=VALUE", assignment);
    memcpy(path, assignment, (size_t)(eq - assignment));
    path[eq - assignment] = '\0';
    value = json_loads(eq + 1, JSON_DECODE_ANY, &jerr);
    if (!value) {
        /* A value that starts like JSON structure was meant as JSON: taking
         * it as a string would turn a typo into "got a string". */
        const char *t = eq + 1;

        while (*t == ' ' || *t == '\t')
            t++;
        if (*t == '[' || *t == '{' || *t == '"')
            return errbuf_set(err, errlen,
                              "--set %s: the value is not valid JSON (column %d: "
                              "%s)",
                              assignment, jerr.column, jerr.text);
        value = json_string(eq + 1);
    }
    /* named against --set, not against the file it overrides */
    if (config_check_path(path, false, sub, sizeof(sub)) < 0) {
        json_decref(value);
        return errbuf_set(err, errlen, "--set %s: %s", assignment, sub);
    }
    if (config_set_path(root, path, value, sub, sizeof(sub)) < 0)
        return errbuf_set(err, errlen, "--set %s: %s", assignment, sub);
    return 0;
}

/* ---- validation helpers: each names "<source>: <path>: <reason>" ---- */

/* Validation reports every error it finds (as many as fit in err, one a
 * line), not just the first: a user fixes a config in one pass. */
struct vctx {
    const char *source;
    char *err;
    size_t errlen;
    unsigned count;
};

__attribute__((format(printf, 3, 4))) static int bad(struct vctx *v, const char *path,
                                                     const char *fmt, ...)
{
    char reason[ERRBUF_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    if (v->count++ == 0)
        return errbuf_set(v->err, v->errlen, "%s: %s: %s", v->source, path, reason);
    {
        size_t used = strlen(v->err);

        if (used + 4 < v->errlen)
            snprintf(v->err + used, v->errlen - used, "\n%s: %s: %s", v->source, path, reason);
    }
    return -1;
}

bool config_client_closes_first(const struct config *cfg)
{
    return (cfg->use_target || cfg->ncommand) && !cfg->client.close_reset && !cfg->request[0] &&
           cfg->client.request_bytes == 0;
}

/* ---- the config schema: one row per key ---- */

enum key_type {
    KT_BOOL,
    KT_INT,
    KT_UINT,
    KT_U64,
    KT_DOUBLE,
    KT_STRING,
    KT_ARGV,  /* array of strings: command and ncommand */
    KT_FILES, /* object name -> template path: files and nfiles */
};

enum key_flags {
    KF_SWEEP = 1,     /* may vary across the points of a sweep */
    KF_OMIT_ZERO = 2, /* absent from the effective config when 0 / empty */
    KF_SERVER = 4,    /* belongs to the built-in server: not with "target" */
    KF_ABOVE_MIN = 8, /* strictly greater than min */
    KF_COMPUTED = 16, /* default computed by a rule below, not def */
    KF_BYTES = 32,    /* a string that may hold any character (a request) */
    KF_BUILTIN = 64,  /* only the built-in server's: not with server.command */
    KF_COMMAND = 128, /* only with server.command */
    KF_HOOK = 256,    /* only with hooks.before */
    KF_CAPTURE = 512, /* only with capture.pcap */
};

struct key {
    const char *path; /* "server.backlog" */
    enum key_type type;
    size_t offset, size; /* where in struct config, and (strings) its size */
    double min, max;     /* numbers */
    const char *def;     /* default, as JSON text; NULL: 0, false or "" */
    unsigned flags;
    const char *const *choices; /* strings: the allowed values, NULL-terminated */
    const char *help;           /* the reference line (README, --help) */
};

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const char *const close_choices[] = {"graceful", "reset", NULL};

static const struct key keys[] = {
    {"name", KT_STRING, F(name), 0, 0, NULL, KF_COMPUTED, NULL,
     "experiment name, used in output and plots (default: the config file's name)"},
    {"isolate", KT_BOOL, F(isolate), 0, 0, "true", 0, NULL,
     "run in a private network namespace made for each run point"},
    {"target", KT_STRING, F(target), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "HOST:PORT of an external server instead of the built-in one"},
    {"target_netns", KT_STRING, F(target_netns), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "the target's network namespace (/proc/PID/ns/net, /run/netns/NAME): its queues and "
     "counters are observed from there (needs CAP_SYS_ADMIN for setns)"},
    {"output", KT_STRING, F(output), 0, 0, NULL, KF_COMPUTED, NULL,
     "results path (default results/<name>.json)"},
    {"repeat", KT_UINT, F(repeat), 1, 100, "1", 0, NULL,
     "run every point this many times, each in a fresh namespace (statistics in compare)"},
    {"gate", KT_STRING, F(gate), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "metrics `qbench compare` judges, comma-separated (default: every outcome ratio, "
     "connect and accept p50/p99)"},
    {"connections_file", KT_STRING, F(connections_file), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "a line per connection attempt, CSV (.csv) or JSON Lines (.jsonl)"},
    {"server.address", KT_STRING, F(address), 0, 0, "\"127.0.0.1:0\"", KF_SWEEP | KF_SERVER, NULL,
     "listen address on loopback; port 0 picks one"},
    {"server.backlog", KT_INT, F(server.backlog), -1, 2147483647.0, "128", KF_SWEEP | KF_SERVER,
     NULL, "passed to listen() unchanged (-1: somaxconn)"},
    {"server.accept_delay_ms", KT_INT, F(server.accept_delay_ms), -1, 3600000, "0",
     KF_SWEEP | KF_SERVER | KF_BUILTIN, NULL, "pause between accept() calls; 0 at once, -1 never"},
    {"server.greeting", KT_BOOL, F(server.greeting), 0, 0, "true",
     KF_SWEEP | KF_SERVER | KF_BUILTIN, NULL, "write one byte to each accepted connection"},
    {"server.threads", KT_UINT, F(server.threads), 1, CONFIG_MAX_THREADS, "1",
     KF_SWEEP | KF_SERVER | KF_BUILTIN, NULL,
     "accepting threads, each its own SO_REUSEPORT listener"},
    {"server.command", KT_ARGV, F(command), 0, 0, NULL, KF_SERVER | KF_OMIT_ZERO, NULL,
     "your server's argv, run in the point's namespace instead of the built-in one; "
     "placeholders {address} {host} {port} {backlog} {dir}"},
    {"server.files", KT_FILES, F(files), 0, 0, NULL, KF_SERVER | KF_OMIT_ZERO, NULL,
     "name -> template path (relative to the config): written into {dir} with placeholders"},
    {"server.ready_timeout_ms", KT_UINT, F(server.ready_timeout_ms), 1, 600000, "10000",
     KF_SERVER | KF_COMMAND, NULL, "server.command: wait this long for it to listen"},
    {"server.log_max_bytes", KT_U64, F(server.log_max_bytes), 4096, 1ULL << 40, "1048576",
     KF_SERVER | KF_COMMAND, NULL,
     "server.command: {dir}/server.log never grows past this; the tail is kept"},
    {"server.keep_dir", KT_BOOL, F(server.keep_dir), 0, 0, "false", KF_SERVER | KF_COMMAND, NULL,
     "server.command: keep {dir} (its log, files) after the point instead of removing "
     "it; its path is in the results either way"},
    {"hooks.before", KT_STRING, F(hooks.before), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "a shell command run inside the point's network namespace before the first connect, "
     "stopped after the drain; placeholders {out} {point} {port} {netns}"},
    {"hooks.ready_line", KT_STRING, F(hooks.ready_line), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "hooks.before is ready when its output has a line with this text"},
    {"hooks.ready_file", KT_STRING, F(hooks.ready_file), 0, 0, NULL, KF_OMIT_ZERO, NULL,
     "... or when this file exists (with neither: at once)"},
    {"hooks.ready_timeout_ms", KT_UINT, F(hooks.ready_timeout_ms), 1, 600000, "5000", KF_HOOK, NULL,
     "hooks.before: wait this long for it to be ready"},
    {"capture.pcap", KT_BOOL, F(capture.pcap), 0, 0, "false", KF_OMIT_ZERO, NULL,
     "write a packet capture (libpcap) of each point's port, from before the first connect to "
     "after the server's drain, beside the results: <output without .json>-p<point>.pcap"},
    {"capture.snaplen", KT_UINT, F(capture.snaplen), 68, 262144, "128", KF_CAPTURE, NULL,
     "capture.pcap: bytes kept of each packet (128: the headers)"},
    {"capture.buffer_kib", KT_UINT, F(capture.buffer_kib), 256, 1048576, "8192", KF_CAPTURE, NULL,
     "capture.pcap: the kernel's buffer for the capture, KiB; what overflows it is dropped and "
     "counted"},
    {"client.rate", KT_DOUBLE, F(client.rate), 0, 10e6, NULL, KF_SWEEP | KF_ABOVE_MIN, NULL,
     "new connections per second, open loop (required)"},
    {"client.connections", KT_U64, F(client.connections), 1, 1e9, NULL, KF_SWEEP | KF_OMIT_ZERO,
     NULL, "stop after this many attempts"},
    {"client.duration_ms", KT_U64, F(client.duration_ms), 1, 86400000, NULL,
     KF_SWEEP | KF_OMIT_ZERO, NULL, "stop scheduling after this long"},
    {"client.connect_timeout_ms", KT_UINT, F(client.connect_timeout_ms), 1, 3600000, "10000",
     KF_SWEEP, NULL, "give up on a handshake after this long"},
    {"client.greeting_timeout_ms", KT_UINT, F(client.greeting_timeout_ms), 1, 3600000, "10000",
     KF_SWEEP, NULL, "after the handshake, wait this long for the greeting"},
    {"client.request_bytes", KT_UINT, F(client.request_bytes), 0, 65536, "0", KF_SWEEP, NULL,
     "bytes sent right after the handshake"},
    {"client.request", KT_STRING, F(request), 0, 0, NULL, KF_SWEEP | KF_OMIT_ZERO | KF_BYTES, NULL,
     "a request sent right after the handshake, e.g. \"GET / HTTP/1.0\\r\\n\\r\\n\""},
    {"client.expect_greeting", KT_BOOL, F(client.expect_greeting), 0, 0, NULL,
     KF_SWEEP | KF_COMPUTED, NULL, "wait for the server's first byte (default: server.greeting)"},
    {"client.threads", KT_UINT, F(client.threads), 1, CONFIG_MAX_THREADS, NULL,
     KF_SWEEP | KF_COMPUTED, NULL, "client event loops (default: one per online CPU)"},
    {"client.max_in_flight", KT_UINT, F(client.max_in_flight), 0, 1000000, "0", KF_SWEEP, NULL,
     "connections open at once before the schedule waits; 0: pure open loop"},
    {"client.close", KT_STRING, F(close), 0, 0, "\"graceful\"", KF_SWEEP, close_choices,
     "how the client closes: graceful (FIN) or reset (RST)"},
    {"client.source_addresses", KT_STRING, F(source_addresses), 0, 0, NULL, KF_SWEEP | KF_OMIT_ZERO,
     NULL, "IPv4 loopback range the client binds from, A-B"},
    {"sample.accept_queue_ms", KT_UINT, F(sample.accept_queue_ms), 1, 60000, "10", KF_SWEEP, NULL,
     "accept queue sampling interval"},
    {"sample.timeline_ms", KT_UINT, F(sample.timeline_ms), 1, 60000, "100", KF_SWEEP, NULL,
     "timeline row width"},
};

/* Objects of the config that are maps of their own, not rows. */
static const char *const map_sections[] = {"sysctl", "expect", "sweep"};

static const struct key *find_key(const char *path)
{
    for (size_t i = 0; i < COUNT(keys); i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

/* Whether section (e.g. "server") is the prefix of some row. */
static bool is_section(const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < COUNT(keys); i++)
        if (strncmp(keys[i].path, name, n) == 0 && keys[i].path[n] == '.')
            return true;
    return false;
}

static bool is_map_section(const char *name)
{
    for (size_t i = 0; i < COUNT(map_sections); i++)
        if (strcmp(map_sections[i], name) == 0)
            return true;
    return false;
}

/* The keys allowed directly under prefix ("" for the top level), as
 * names relative to it, for messages and suggestions. */
static size_t keys_under(const char *prefix, const char **names, size_t max)
{
    size_t n = 0, plen = strlen(prefix);

    for (size_t i = 0; i < COUNT(keys) && n < max; i++) {
        const char *p = keys[i].path, *rest;
        bool seen = false;

        if (plen && (strncmp(p, prefix, plen) != 0 || p[plen] != '.'))
            continue;
        rest = plen ? p + plen + 1 : p;
        if (!plen && strchr(rest, '.')) {
            /* a section: named once */
            size_t slen = (size_t)(strchr(rest, '.') - rest);

            for (size_t k = 0; k < n; k++)
                if (strncmp(names[k], rest, slen) == 0 &&
                    (names[k][slen] == '\0' || names[k][slen] == '.'))
                    seen = true;
            if (seen)
                continue;
            names[n++] = rest; /* shown up to the dot by the caller */
            continue;
        }
        names[n++] = rest;
    }
    if (!plen)
        for (size_t i = 0; i < COUNT(map_sections) && n < max; i++)
            names[n++] = map_sections[i];
    return n;
}

/* "unknown key (allowed here: a, b, c) (did you mean 'b'?)" */
static void unknown_key(const char *prefix, const char *key, char *out, size_t len)
{
    const char *names[64];
    char list[512] = "", hint[128], base[64][24];
    size_t n = keys_under(prefix, names, 64);

    for (size_t i = 0; i < n; i++) {
        const char *dot = strchr(names[i], '.');

        snprintf(base[i], sizeof(base[i]), "%.*s",
                 (int)(dot ? (size_t)(dot - names[i]) : strlen(names[i])), names[i]);
        names[i] = base[i];
        if (strlen(list) + strlen(base[i]) + 3 < sizeof(list)) {
            strcat(list, i ? ", " : "");
            strcat(list, base[i]);
        }
    }
    hint_closest(key, names, n, hint, sizeof(hint));
    snprintf(out, len, "unknown key (allowed here: %s)%s", list, hint);
}

int config_check_path(const char *path, bool for_sweep, char *err, size_t errlen)
{
    const struct key *k;
    char why[ERRBUF_LEN];

    if (strncmp(path, "sysctl.", 7) == 0) {
        if (path[7] == '\0')
            return errbuf_set(err, errlen, "%s: a sysctl is addressed as sysctl.<name>", path);
        if (sysctls_check_name(path + 7, why, sizeof(why)) < 0)
            return errbuf_set(err, errlen, "%s: %s", path, why);
        return 0;
    }
    k = find_key(path);
    if (k && for_sweep && !(k->flags & KF_SWEEP))
        return errbuf_set(err, errlen,
                          "%s: only server.*, client.*, sample.* and "
                          "sysctl.<name> keys can be swept (%s is the run's "
                          "identity)",
                          path, path);
    if (k)
        return 0;
    if (!for_sweep && (strncmp(path, "expect.", 7) == 0 || strncmp(path, "sweep", 5) == 0 ||
                       is_section(path) || is_map_section(path)))
        return 0;
    {
        const char *dot = strrchr(path, '.');
        char prefix[64] = "";

        if (dot && (size_t)(dot - path) < sizeof(prefix))
            snprintf(prefix, sizeof(prefix), "%.*s", (int)(dot - path), path);
        if (dot && !is_section(prefix))
            return errbuf_set(err, errlen,
                              "%s: only server.*, client.*, sample.* and "
                              "sysctl.<name> keys exist",
                              path);
        unknown_key(prefix, dot ? dot + 1 : path, why, sizeof(why));
        return errbuf_set(err, errlen, "%s: %s", path, why);
    }
}

static int store_argv(struct vctx *v, const struct key *k, const json_t *j, struct config *cfg)
{
    char path[64], why[ERRBUF_LEN];

    if (!json_is_array(j) || json_array_size(j) == 0)
        return bad(v, k->path, "must be a non-empty array of strings (argv), got %s",
                   hint_json_type(j));
    if (json_array_size(j) > CONFIG_MAX_ARGS)
        return bad(v, k->path, "at most %d arguments", CONFIG_MAX_ARGS);
    for (size_t i = 0; i < json_array_size(j); i++) {
        const json_t *a = json_array_get(j, i);

        snprintf(path, sizeof(path), "%s[%zu]", k->path, i);
        if (!json_is_string(a) || (i == 0 && json_string_length(a) == 0))
            return bad(v, path, "must be a%s string", i == 0 ? " non-empty" : "");
        if (json_string_length(a) >= CONFIG_ARG_LEN)
            return bad(v, path, "longer than %d characters", CONFIG_ARG_LEN - 1);
        if (strlen(json_string_value(a)) != json_string_length(a))
            return bad(v, path, "must not contain NUL");
        if (placeholder_check(json_string_value(a), why, sizeof(why)) < 0)
            return bad(v, path, "%s", why);
        snprintf(cfg->command[i], CONFIG_ARG_LEN, "%s", json_string_value(a));
    }
    cfg->ncommand = json_array_size(j);
    return 0;
}

static int store_files(struct vctx *v, const struct key *k, const json_t *j, struct config *cfg)
{
    const char *name;
    json_t *val;
    char path[128], dir[PATH_MAX], why[ERRBUF_LEN];
    const char *slash = strrchr(v->source, '/');

    if (!json_is_object(j))
        return bad(v, k->path, "must be an object of file name -> template path, got %s",
                   hint_json_type(j));
    if (json_object_size(j) > CONFIG_MAX_FILES)
        return bad(v, k->path, "at most %d files", CONFIG_MAX_FILES);
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - v->source) : 1,
             slash ? v->source : ".");
    cfg->nfiles = 0;
    json_object_foreach((json_t *)j, name, val) {
        struct config_file *f = &cfg->files[cfg->nfiles];
        const char *tp;

        snprintf(path, sizeof(path), "%s.%s", k->path, name);
        if (!*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            strlen(name) >= sizeof(f->name) || strcmp(name, "server.log") == 0)
            return bad(v, path, "a plain file name (no '/', not server.log) is needed");
        if (!json_is_string(val) || json_string_length(val) == 0)
            return bad(v, path, "must be the path of a template file");
        tp = json_string_value(val);
        if (tp[0] == '/')
            snprintf(f->path, sizeof(f->path), "%s", tp);
        else if ((size_t)snprintf(f->path, sizeof(f->path), "%s/%s", dir, tp) >= sizeof(f->path))
            return bad(v, path, "path too long");
        snprintf(f->name, sizeof(f->name), "%s", name);
        /* read now: a missing template or an unknown placeholder is the
         * config's fault, found before anything runs */
        if (placeholder_check_file(f->path, why, sizeof(why)) < 0)
            return bad(v, path, "%s", why);
        cfg->nfiles++;
    }
    return 0;
}

/* Stores j into the row's field, or says why not. */
static int store(struct vctx *v, const struct key *k, const json_t *j, struct config *cfg)
{
    char *field = (char *)cfg + k->offset;
    double d;

    switch (k->type) {
    case KT_BOOL:
        if (!json_is_boolean(j))
            return bad(v, k->path, "must be true or false, got %s", hint_json_type(j));
        *(bool *)field = json_is_true(j);
        return 0;
    case KT_ARGV:
        return store_argv(v, k, j, cfg);
    case KT_FILES:
        return store_files(v, k, j, cfg);
    case KT_STRING:
        if (!json_is_string(j))
            return bad(v, k->path, "must be a string, got %s", hint_json_type(j));
        if (json_string_length(j) == 0)
            return bad(v, k->path, "must not be empty");
        if (json_string_length(j) >= k->size)
            return bad(v, k->path, "longer than %zu characters", k->size - 1);
        for (const char *c = json_string_value(j); *c && !(k->flags & KF_BYTES); c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return bad(v, k->path, "must not contain control characters");
        if (k->choices) {
            bool ok = false;
            char list[128] = "";

            for (const char *const *c = k->choices; *c; c++) {
                ok = ok || strcmp(*c, json_string_value(j)) == 0;
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"",
                         c == k->choices ? ""
                         : c[1]          ? ", "
                                         : " or ",
                         *c);
            }
            if (!ok)
                return bad(v, k->path, "must be %s, got \"%s\"", list, json_string_value(j));
        }
        memcpy(field, json_string_value(j), json_string_length(j) + 1);
        return 0;
    case KT_DOUBLE:
        if (!json_is_number(j))
            return bad(v, k->path, "must be a number, got %s", hint_json_type(j));
        d = json_number_value(j);
        break;
    default:
        if (!json_is_integer(j)) {
            if (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)))
                return bad(v, k->path, "must be an integer, got %g", json_real_value(j));
            return bad(v, k->path, "must be an integer, got %s", hint_json_type(j));
        }
        d = (double)json_integer_value(j);
        break;
    }
    if ((k->flags & KF_ABOVE_MIN) ? !(d > k->min) : !(d >= k->min))
        return bad(v, k->path, "must be %s %.15g, got %.15g",
                   (k->flags & KF_ABOVE_MIN) ? ">" : ">=", k->min, d);
    if (d > k->max)
        return bad(v, k->path, "must be <= %.15g, got %.15g", k->max, d);
    switch (k->type) {
    case KT_INT:
        *(int *)field = (int)d;
        break;
    case KT_UINT:
        *(unsigned *)field = (unsigned)d;
        break;
    case KT_U64:
        *(uint64_t *)field = (uint64_t)d;
        break;
    default:
        *(double *)field = d;
        break;
    }
    return 0;
}

/* root[path] for a dotted row path; NULL if absent. */
static const json_t *value_at(const json_t *root, const char *path)
{
    const char *dot = strchr(path, '.');
    char section[32];

    if (!dot)
        return json_object_get(root, path);
    snprintf(section, sizeof(section), "%.*s", (int)(dot - path), path);
    return json_object_get(json_object_get(root, section), dot + 1);
}

/* Every key of root and of its sections must be a row (or a map section). */
static int check_keys(struct vctx *v, const json_t *root)
{
    const char *key, *sub;
    json_t *val, *sval;
    char path[256], why[ERRBUF_LEN];

    json_object_foreach((json_t *)root, key, val) {
        if (is_map_section(key)) {
            if (!json_is_object(val))
                bad(v, key, "must be an object, got %s", hint_json_type(val));
            continue;
        }
        if (is_section(key)) {
            if (!json_is_object(val)) {
                bad(v, key, "must be an object, got %s", hint_json_type(val));
                continue;
            }
            json_object_foreach(val, sub, sval) {
                snprintf(path, sizeof(path), "%s.%s", key, sub);
                if (!find_key(path)) {
                    unknown_key(key, sub, why, sizeof(why));
                    bad(v, path, "%s", why);
                }
            }
            continue;
        }
        if (!find_key(key)) {
            unknown_key("", key, why, sizeof(why));
            bad(v, key, "%s", why);
        }
    }
    return v->count ? -1 : 0;
}

/* Defaults first (the def column), then every row present in root. */
static int apply_rows(struct vctx *v, const json_t *root, struct config *cfg, bool *present)
{
    for (size_t i = 0; i < COUNT(keys); i++) {
        const json_t *j = value_at(root, keys[i].path);

        present[i] = j != NULL;
        if (keys[i].def) {
            json_t *d = json_loads(keys[i].def, JSON_DECODE_ANY, NULL);
            int rc = store(v, &keys[i], d, cfg);

            json_decref(d);
            if (rc < 0)
                return -1; /* a default that does not validate: a bug, stop */
        }
        if (j)
            store(v, &keys[i], j, cfg);
    }
    return v->count ? -1 : 0;
}

static bool row_present(const bool *present, const char *path)
{
    return present[find_key(path) - keys];
}

/* The effective value of a row, as JSON; NULL when it is omitted. */
static json_t *row_json(const struct key *k, const struct config *cfg)
{
    const char *field = (const char *)cfg + k->offset;

    switch (k->type) {
    case KT_BOOL:
        return (k->flags & KF_OMIT_ZERO) && !*(const bool *)field
                   ? NULL
                   : json_boolean(*(const bool *)field);
    case KT_STRING:
        return (k->flags & KF_OMIT_ZERO) && !field[0] ? NULL : json_string(field);
    case KT_INT:
        return json_integer(*(const int *)field);
    case KT_UINT:
        return json_integer(*(const unsigned *)field);
    case KT_U64:
        return (k->flags & KF_OMIT_ZERO) && !*(const uint64_t *)field
                   ? NULL
                   : json_integer((json_int_t) * (const uint64_t *)field);
    case KT_DOUBLE:
        return json_real(*(const double *)field);
    case KT_ARGV: {
        json_t *a;

        if (!cfg->ncommand)
            return NULL;
        a = json_array();
        for (size_t i = 0; i < cfg->ncommand; i++)
            json_array_append_new(a, json_string(cfg->command[i]));
        return a;
    }
    case KT_FILES: {
        json_t *o;

        if (!cfg->nfiles)
            return NULL;
        o = json_object();
        for (size_t i = 0; i < cfg->nfiles; i++)
            json_object_set_new(o, cfg->files[i].name, json_string(cfg->files[i].path));
        return o;
    }
    }
    return NULL;
}
/* What the run will allocate follows from its length: a schedule that
 * cannot end within a day, or a timeline too long to keep, is refused here
 * rather than by an allocation failure once the run has started. */
#define RUN_MAX_MS 86400000.0
#define TIMELINE_MAX_ROWS 1000000.0

static int check_run_length(struct vctx *v, const struct config *cfg)
{
    double ms = cfg->client.duration_ms ? (double)cfg->client.duration_ms : RUN_MAX_MS;

    if (cfg->client.connections) {
        double sched_ms = (double)cfg->client.connections / cfg->client.rate * 1000.0;

        if (sched_ms > ms && !cfg->client.duration_ms)
            return bad(v, "client.connections",
                       "%llu connections at client.rate %g/s would "
                       "take %.0f s, over the %.0f s a run may last; lower connections, raise "
                       "rate, or bound the run with duration_ms",
                       (unsigned long long)cfg->client.connections, cfg->client.rate,
                       sched_ms / 1000.0, RUN_MAX_MS / 1000.0);
        if (sched_ms < ms)
            ms = sched_ms;
    }
    ms += (double)cfg->client.connect_timeout_ms + (double)cfg->client.greeting_timeout_ms;
    if (ms / cfg->sample.timeline_ms > TIMELINE_MAX_ROWS)
        return bad(v, "sample.timeline_ms",
                   "%u ms rows over a run of up to %.0f s make %.0f "
                   "timeline rows, more than %.0f; use at least %.0f",
                   cfg->sample.timeline_ms, ms / 1000.0, ms / cfg->sample.timeline_ms,
                   TIMELINE_MAX_ROWS, ms / TIMELINE_MAX_ROWS + 1);
    return 0;
}

static int parse_sysctls(struct vctx *v, const json_t *obj, struct config *cfg)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        char path[256], why[ERRBUF_LEN];
        struct config_sysctl *s;

        snprintf(path, sizeof(path), "sysctl.%s", key);
        if (sysctls_check_name(key, why, sizeof(why)) < 0) {
            bad(v, path, "%s", why);
            continue;
        }
        if (cfg->nsysctl >= CONFIG_MAX_SYSCTL)
            return bad(v, path, "more than %d sysctls", CONFIG_MAX_SYSCTL);
        s = &cfg->sysctl[cfg->nsysctl++];
        snprintf(s->name, sizeof(s->name), "%s", key);
        if (sysctls_check_value(key, val, s->value, sizeof(s->value), why, sizeof(why)) < 0)
            bad(v, path, "%s", why);
    }
    return v->count ? -1 : 0;
}

static int parse_expect(struct vctx *v, const json_t *obj, struct config *cfg)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        char path[256], name[64];
        size_t n = strlen(key);
        bool is_max;
        const struct metric *m;

        snprintf(path, sizeof(path), "expect.%s", key);
        if (n < 5 || (strcmp(key + n - 4, "_min") != 0 && strcmp(key + n - 4, "_max") != 0))
            return bad(v, path, "a bound is <metric>_min or <metric>_max");
        m = metric_parse_bound(key, &is_max);
        if (!m) {
            size_t nm;
            const struct metric *all = metric_table(&nm);
            const char *names[64];
            char hint[128];

            for (size_t i = 0; i < nm && i < 64; i++)
                names[i] = all[i].name;
            snprintf(name, sizeof(name), "%.*s", (int)(n - 4), key);
            hint_closest(name, names, nm < 64 ? nm : 64, hint, sizeof(hint));
            return bad(v, path,
                       "unknown metric '%s'%s (e.g. established_ratio, timeout, "
                       "connect_p99_us; see README)",
                       name, hint);
        }
        if (!json_is_number(val))
            return bad(v, path, "must be a number, got %s", hint_json_type(val));
        if (json_number_value(val) < 0)
            return bad(v, path, "must be >= 0, got %g", json_number_value(val));
        if (m->kind == METRIC_RATIO && json_number_value(val) > 1)
            return bad(v, path, "a ratio must be <= 1, got %g", json_number_value(val));
        if (cfg->nexpect >= CONFIG_MAX_EXPECT)
            return bad(v, path, "more than %d bounds", CONFIG_MAX_EXPECT);
        snprintf(cfg->expect[cfg->nexpect].name, sizeof(cfg->expect[0].name), "%s", key);
        cfg->expect[cfg->nexpect++].bound = json_number_value(val);
    }
    return 0;
}

/* ---- the rules that tie keys together; the rows checked each key alone ---- */

/* Each rule: 0, or -1 after bad(). Some also derive fields from others. */
typedef int cross_rule(struct vctx *v, const json_t *root, const bool *present, struct config *cfg);

static int parse_sources(struct vctx *v, struct config *cfg)
{
    char sub[ERRBUF_LEN];

    if (endpoint_parse_sources(cfg->source_addresses, cfg->endpoint.addr.ss_family, cfg->isolate,
                               &cfg->client.source_base, &cfg->client.source_first,
                               &cfg->client.source_count, sub, sizeof(sub)) < 0)
        return bad(v, "client.source_addresses", "%s", sub);
    return 0;
}

static int name_is_a_file_name(struct vctx *v, const json_t *root, const bool *present,
                               struct config *cfg)
{
    (void)root;
    (void)present;
    for (const char *c = cfg->name; *c; c++)
        if (*c == '/')
            return bad(v, "name", "must not contain '/' or control characters");
    return 0;
}

static int gate_names_metrics(struct vctx *v, const json_t *root, const bool *present,
                              struct config *cfg)
{
    char sub[ERRBUF_LEN];

    (void)root;
    (void)present;
    if (metric_check_gate(cfg->gate, sub, sizeof(sub)) < 0)
        return bad(v, "gate", "%s", sub);
    return 0;
}

/* target: an external server, reachable only from the host's namespace */
static int target_alone(struct vctx *v, const json_t *root, struct config *cfg)
{
    char sub[ERRBUF_LEN];

    if (json_object_get(root, "server"))
        return bad(v, "target",
                   "give either target (an external server) or server (the "
                   "built-in one), not both");
    cfg->use_target = true;
    if (endpoint_parse(cfg->target, true, &cfg->endpoint, sub, sizeof(sub)) < 0)
        return bad(v, "target", "%s", sub);
    if (cfg->target_netns[0] && cfg->target_netns[0] != '/')
        return bad(v, "target_netns",
                   "must be an absolute path (/proc/PID/ns/net or "
                   "/run/netns/NAME), got \"%s\"",
                   cfg->target_netns);
    if (cfg->isolate)
        return bad(v, "target",
                   "an external server cannot be reached from the private "
                   "namespace isolate: true makes; set isolate: false");
    return 0;
}

/* server.command: the user's server decides what the built-in one's keys
 * would, and runs only where qbench can set its sysctls */
static int command_keys(struct vctx *v, const bool *present, const struct config *cfg)
{
    static const char *const builtin_only[] = {"server.accept_delay_ms", "server.greeting",
                                               "server.threads"};

    if (cfg->ncommand) {
        for (size_t i = 0; i < COUNT(builtin_only); i++)
            if (row_present(present, builtin_only[i]))
                return bad(v, builtin_only[i],
                           "belongs to the built-in server; with "
                           "server.command your server decides it");
        if (!cfg->isolate)
            return bad(v, "server.command",
                       "runs only in a private namespace (isolate: "
                       "true), where qbench can set its sysctls");
    } else if (cfg->nfiles || row_present(present, "server.ready_timeout_ms") ||
               row_present(present, "server.log_max_bytes") ||
               row_present(present, "server.keep_dir")) {
        return bad(v,
                   cfg->nfiles                                       ? "server.files"
                   : row_present(present, "server.ready_timeout_ms") ? "server.ready_timeout_ms"
                   : row_present(present, "server.log_max_bytes")    ? "server.log_max_bytes"
                                                                     : "server.keep_dir",
                   "only with server.command");
    }
    return 0;
}

/* In a private namespace only lo exists: any other address cannot be
 * bound there, and qbench's traffic stays on loopback by rule. */
static int server_address(struct vctx *v, struct config *cfg)
{
    char sub[ERRBUF_LEN];

    if (endpoint_parse(cfg->address, false, &cfg->endpoint, sub, sizeof(sub)) < 0)
        return bad(v, "server.address", "%s", sub);
    if (cfg->isolate && !endpoint_is_loopback(&cfg->endpoint))
        return bad(v, "server.address",
                   "must be a loopback address (127.0.0.0/8 or ::1): "
                   "the private namespace has only lo, got \"%s\"",
                   cfg->address);
    return 0;
}

static int the_server(struct vctx *v, const json_t *root, const bool *present, struct config *cfg)
{
    if (cfg->target[0])
        return target_alone(v, root, cfg);
    if (cfg->target_netns[0])
        return bad(v, "target_netns",
                   "only with target (the built-in server and "
                   "server.command run in qbench's own namespace)");
    if (command_keys(v, present, cfg) < 0)
        return -1;
    return server_address(v, cfg);
}

static int sysctls_need_isolation(struct vctx *v, const json_t *root, const bool *present,
                                  struct config *cfg)
{
    (void)root;
    (void)present;
    if (cfg->nsysctl && !cfg->isolate)
        return bad(v, "sysctl", "needs isolate: true (qbench never writes the host's sysctls)");
    return 0;
}

static int client_is_bounded(struct vctx *v, const json_t *root, const bool *present,
                             struct config *cfg)
{
    if (!json_object_get(root, "client"))
        return bad(v, "client",
                   "required (at least client.rate and client.connections or "
                   "client.duration_ms)");
    if (!row_present(present, "client.rate"))
        return bad(v, "client.rate", "required: new connections per second");
    if (!cfg->client.connections && !cfg->client.duration_ms)
        return bad(v, "client", "needs connections or duration_ms, so the run is bounded");
    return 0;
}

static int client_derived(struct vctx *v, const json_t *root, const bool *present,
                          struct config *cfg)
{
    long threads = sysconf(_SC_NPROCESSORS_ONLN);

    (void)root;
    cfg->client.close_reset = strcmp(cfg->close, "reset") == 0;
    if (cfg->source_addresses[0] && parse_sources(v, cfg) < 0)
        return -1;
    if (!row_present(present, "client.threads"))
        cfg->client.threads = (unsigned)(threads < 1                    ? 1
                                         : threads > CONFIG_MAX_THREADS ? CONFIG_MAX_THREADS
                                                                        : threads);
    return 0;
}

static int request_and_greeting(struct vctx *v, const json_t *root, const bool *present,
                                struct config *cfg)
{
    (void)root;
    if (cfg->request[0] && cfg->client.request_bytes)
        return bad(v, "client.request", "give either request or request_bytes, not both");
    /* a server that does not speak first answers a request: its first byte
     * is the greeting then */
    if (!row_present(present, "client.expect_greeting"))
        cfg->client.expect_greeting =
            cfg->use_target || cfg->ncommand ? cfg->request[0] != '\0' : cfg->server.greeting;
    if (!cfg->use_target && !cfg->ncommand && cfg->client.expect_greeting && !cfg->server.greeting)
        return bad(v, "client.expect_greeting",
                   "true, but server.greeting is false: every "
                   "connection would end in greeting_timeout");
    return 0;
}

/* A client that closes first leaves its TIME_WAITs on its own ports, and
 * at a few thousand connects/s the kernel recycles them (the no-greeting
 * cliff): spread over loopback sources unless told how. */
static int default_sources(struct vctx *v, const json_t *root, const bool *present,
                           struct config *cfg)
{
    (void)root;
    (void)present;
    if (!cfg->source_addresses[0] && config_client_closes_first(cfg) &&
        cfg->endpoint.addr.ss_family == AF_INET && endpoint_is_loopback(&cfg->endpoint)) {
        snprintf(cfg->source_addresses, sizeof(cfg->source_addresses), "%s",
                 CONFIG_DEFAULT_SOURCES);
        return parse_sources(v, cfg);
    }
    return 0;
}

static int output_files(struct vctx *v, const json_t *root, const bool *present, struct config *cfg)
{
    (void)root;
    if (!row_present(present, "output"))
        snprintf(cfg->output, sizeof(cfg->output), "results/%s.json", cfg->name);
    if (cfg->connections_file[0] && strcmp(cfg->connections_file, cfg->output) == 0)
        return bad(v, "connections_file", "is the results file too (%s)", cfg->output);
    return 0;
}

/* capture.pcap: a file beside the results, so there must be a beside */
static int capture_keys(struct vctx *v, const json_t *root, const bool *present, struct config *cfg)
{
    (void)root;
    if (!cfg->capture.pcap) {
        if (row_present(present, "capture.snaplen") || row_present(present, "capture.buffer_kib"))
            return bad(v,
                       row_present(present, "capture.snaplen") ? "capture.snaplen"
                                                               : "capture.buffer_kib",
                       "only with capture.pcap: true");
        return 0;
    }
    if (strcmp(cfg->output, "-") == 0)
        return bad(v, "capture.pcap",
                   "the capture is written beside the results file, and the results go to "
                   "standard output (output \"-\"): give an output file, or turn capture off");
    return 0;
}

static int run_length(struct vctx *v, const json_t *root, const bool *present, struct config *cfg)
{
    (void)root;
    (void)present;
    return check_run_length(v, cfg);
}

/* In order: later rules read what earlier ones derived (the endpoint, the
 * close mode); the first that fails is reported. */
static cross_rule *const cross_rules[] = {
    name_is_a_file_name, gate_names_metrics, the_server,           sysctls_need_isolation,
    client_is_bounded,   client_derived,     request_and_greeting, default_sources,
    output_files,        capture_keys,       run_length,
};

static int cross_checks(struct vctx *v, const json_t *root, const bool *present, struct config *cfg)
{
    for (size_t i = 0; i < COUNT(cross_rules); i++)
        if (cross_rules[i](v, root, present, cfg) < 0)
            return -1;
    return 0;
}

int config_from_json(const json_t *root, const char *source, const char *default_name,
                     struct config *cfg, char *err, size_t errlen)
{
    struct vctx v = {source, err, errlen, 0};
    bool present[COUNT(keys)];
    const json_t *sysctl, *expect;

    memset(cfg, 0, sizeof(*cfg));
    if (!json_is_object(root))
        return errbuf_set(err, errlen, "%s: the config must be a JSON object", source);
    /* every key's own errors are collected before any is reported */
    check_keys(&v, root);
    snprintf(cfg->name, sizeof(cfg->name), "%s", default_name);
    apply_rows(&v, root, cfg, present);
    sysctl = json_object_get(root, "sysctl");
    expect = json_object_get(root, "expect");
    if (json_is_object(sysctl))
        parse_sysctls(&v, sysctl, cfg);
    if (json_is_object(expect))
        parse_expect(&v, expect, cfg);
    if (v.count)
        return -1;
    return cross_checks(&v, root, present, cfg);
}

json_t *config_to_json(const struct config *cfg)
{
    json_t *root = json_object(), *sys = json_object(), *expect = json_object();

    for (size_t i = 0; i < COUNT(keys); i++) {
        const struct key *k = &keys[i];
        const char *dot = strchr(k->path, '.');
        json_t *val;

        if (((k->flags & KF_SERVER) && cfg->use_target) ||
            ((k->flags & KF_BUILTIN) && cfg->ncommand) ||
            ((k->flags & KF_COMMAND) && !cfg->ncommand) ||
            /* a hook's settings describe the hook: without one they are
             * not part of the experiment (and a file from before hooks
             * existed is still the same experiment) */
            ((k->flags & KF_HOOK) && !cfg->hooks.before[0]) ||
            ((k->flags & KF_CAPTURE) && !cfg->capture.pcap))
            continue;
        val = row_json(k, cfg);
        if (!val)
            continue;
        if (dot) {
            char section[32];
            json_t *obj;

            snprintf(section, sizeof(section), "%.*s", (int)(dot - k->path), k->path);
            obj = json_object_get(root, section);
            if (!obj) {
                obj = json_object();
                json_object_set_new(root, section, obj);
            }
            json_object_set_new(obj, dot + 1, val);
        } else {
            json_object_set_new(root, k->path, val);
        }
    }
    for (size_t i = 0; i < cfg->nsysctl; i++) {
        char *end;
        long long n = strtoll(cfg->sysctl[i].value, &end, 10);

        json_object_set_new(sys, cfg->sysctl[i].name,
                            *end == '\0' ? json_integer(n) : json_string(cfg->sysctl[i].value));
    }
    json_object_set_new(root, "sysctl", sys);
    for (size_t i = 0; i < cfg->nexpect; i++)
        json_object_set_new(expect, cfg->expect[i].name, json_real(cfg->expect[i].bound));
    json_object_set_new(root, "expect", expect);
    return root;
}

bool config_reference_row(size_t i, struct config_ref *row)
{
    const struct key *k = i < COUNT(keys) ? &keys[i] : NULL;

    if (!k)
        return false;
    row->path = k->path;
    row->help = k->help;
    row->def = k->def;
    row->sweepable = (k->flags & KF_SWEEP) != 0;
    row->range[0] = '\0';
    /* numbers have a range; a string may have choices; lists and objects
     * (server.command, server.files) have neither */
    if (k->type == KT_INT || k->type == KT_UINT || k->type == KT_U64 || k->type == KT_DOUBLE)
        snprintf(row->range, sizeof(row->range), "[%s%.15g..%.15g]",
                 (k->flags & KF_ABOVE_MIN) ? "above " : "", k->min, k->max);
    else if (k->choices) {
        size_t used = (size_t)snprintf(row->range, sizeof(row->range), "one of");

        for (size_t c = 0; k->choices[c] && used < sizeof(row->range); c++)
            used += (size_t)snprintf(row->range + used, sizeof(row->range) - used, "%s %s",
                                     c ? "," : "", k->choices[c]);
    }
    return true;
}

void config_print_reference(FILE *out)
{
    struct config_ref row;

    for (size_t i = 0; config_reference_row(i, &row); i++)
        fprintf(out, "  %-28s %s%s%s%s%s%s%s\n", row.path, row.help, row.range[0] ? " " : "",
                row.range, row.def ? " (default " : "", row.def ? row.def : "", row.def ? ")" : "",
                row.sweepable ? " [sweepable]" : "");
    fprintf(out, "  %-28s %s\n", "sysctl.<name>", "a per-namespace sysctl, one of:");
    sysctls_print_reference(out);
}
