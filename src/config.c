#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"

/* Sysctls that live in each network namespace, so writing them inside a
 * private one leaves the host alone. Anything else (vm.*, kernel.*, global
 * net.ipv4 ones such as tcp_mem) would change the whole machine. */
static const char *const per_netns_sysctls[] = {
    "net.core.somaxconn",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_abort_on_overflow",
    "net.ipv4.tcp_ecn",
    "net.ipv4.tcp_fastopen",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.tcp_migrate_req",
    "net.ipv4.tcp_no_metrics_save",
    "net.ipv4.tcp_orphan_retries",
    "net.ipv4.tcp_retries1",
    "net.ipv4.tcp_retries2",
    "net.ipv4.tcp_rfc1337",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_sack",
    "net.ipv4.tcp_syn_linear_timeouts",
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_wmem",
};

/* Metrics an expect bound may name, as <metric>_min or <metric>_max. */
static const char *const expect_metrics[] = {
    "established_ratio", "timeout_ratio", "reset_ratio", "refused_ratio",
    "greeting_timeout_ratio", "error_ratio",
    "established", "timeout", "reset", "refused", "greeting_timeout", "error",
    "connect_p50_us", "connect_p90_us", "connect_p99_us", "connect_p999_us", "connect_max_us",
    "accept_p50_us", "accept_p90_us", "accept_p99_us", "accept_p999_us", "accept_max_us",
    "schedule_lag_p99_us", "accept_queue_max",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

bool config_sysctl_is_per_netns(const char *name)
{
    for (size_t i = 0; i < COUNT(per_netns_sysctls); i++)
        if (strcmp(name, per_netns_sysctls[i]) == 0)
            return true;
    return false;
}

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
            return errbuf_set(err, errlen, "--set %s: the value is not valid JSON (column %d: "
                                           "%s)", assignment, jerr.column, jerr.text);
        value = json_string(eq + 1);
    }
    if (config_set_path(root, path, value, sub, sizeof(sub)) < 0)
        return errbuf_set(err, errlen, "--set %s: %s", assignment, sub);
    return 0;
}

/* ---- validation helpers: each names "<source>: <path>: <reason>" ---- */

struct vctx {
    const char *source;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int bad(struct vctx *v, const char *path, const char *fmt, ...)
{
    char reason[ERRBUF_LEN];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return errbuf_set(v->err, v->errlen, "%s: %s: %s", v->source, path, reason);
}

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void join(char *out, size_t len, const char *prefix, const char *key)
{
    if (prefix[0])
        snprintf(out, len, "%s.%s", prefix, key);
    else
        snprintf(out, len, "%s", key);
}

/* Rejects keys of obj not in allowed (NULL-terminated). */
static int only_keys(struct vctx *v, const json_t *obj, const char *prefix,
                     const char *const *allowed)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        bool ok = false;
        char path[256], list[256] = "";

        for (const char *const *a = allowed; *a; a++)
            if (strcmp(key, *a) == 0)
                ok = true;
        if (ok)
            continue;
        for (const char *const *a = allowed; *a; a++) {
            strncat(list, *a, sizeof(list) - strlen(list) - 1);
            if (a[1])
                strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        }
        join(path, sizeof(path), prefix, key);
        return bad(v, path, "unknown key (allowed here: %s)", list);
    }
    return 0;
}

static int get_int(struct vctx *v, const json_t *obj, const char *prefix, const char *key,
                   long long min, long long max, long long *out)
{
    const json_t *j = json_object_get(obj, key);
    char path[256];

    if (!j)
        return 0;
    join(path, sizeof(path), prefix, key);
    if (!json_is_integer(j)) {
        if (json_is_real(j) && json_real_value(j) == floor(json_real_value(j)))
            return bad(v, path, "must be an integer, got %g", json_real_value(j));
        return bad(v, path, "must be an integer, got %s", type_name(j));
    }
    if (json_integer_value(j) < min)
        return bad(v, path, "must be >= %lld, got %lld", min, (long long)json_integer_value(j));
    if (json_integer_value(j) > max)
        return bad(v, path, "must be <= %lld, got %lld", max, (long long)json_integer_value(j));
    *out = json_integer_value(j);
    return 0;
}

static int get_bool(struct vctx *v, const json_t *obj, const char *prefix, const char *key,
                    bool *out)
{
    const json_t *j = json_object_get(obj, key);
    char path[256];

    if (!j)
        return 0;
    join(path, sizeof(path), prefix, key);
    if (!json_is_boolean(j))
        return bad(v, path, "must be true or false, got %s", type_name(j));
    *out = json_is_true(j);
    return 0;
}

static int get_string(struct vctx *v, const json_t *obj, const char *prefix, const char *key,
                      char *out, size_t len)
{
    const json_t *j = json_object_get(obj, key);
    char path[256];

    if (!j)
        return 0;
    join(path, sizeof(path), prefix, key);
    if (!json_is_string(j))
        return bad(v, path, "must be a string, got %s", type_name(j));
    if (json_string_length(j) == 0)
        return bad(v, path, "must not be empty");
    if (json_string_length(j) >= len)
        return bad(v, path, "longer than %zu characters", len - 1);
    strcpy(out, json_string_value(j));
    return 0;
}

static int get_object(struct vctx *v, const json_t *root, const char *key, const json_t **out)
{
    const json_t *j = json_object_get(root, key);

    *out = NULL;
    if (!j)
        return 0;
    if (!json_is_object(j))
        return bad(v, key, "must be an object, got %s", type_name(j));
    *out = j;
    return 0;
}

int config_parse_endpoint(const char *text, bool need_port, struct config_endpoint *ep,
                          char *err, size_t errlen)
{
    char host[128];
    const char *colon;
    char *end;
    long port;
    struct addrinfo hints, *ai = NULL;
    int rc;

    if (strlen(text) >= sizeof(ep->text))
        return errbuf_set(err, errlen, "address too long");
    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (!close || close[1] != ':')
            return errbuf_set(err, errlen, "expected [IPv6]:PORT, got \"%s\"", text);
        snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text)
            return errbuf_set(err, errlen, "expected HOST:PORT, got \"%s\"", text);
        if (memchr(text, ':', (size_t)(colon - text)))
            return errbuf_set(err, errlen, "IPv6 addresses need brackets: [::1]:PORT, got \"%s\"",
                              text);
        snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
        return errbuf_set(err, errlen, "port must be 0..65535, got \"%s\"", colon + 1);
    if (need_port && port == 0)
        return errbuf_set(err, errlen, "port must not be 0 here, got \"%s\"", text);

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = strcmp(host, "localhost") == 0 ? 0 : AI_NUMERICHOST;
    rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc != 0 || !ai)
        return errbuf_set(err, errlen, "\"%s\" is not a numeric IP address (or localhost): %s",
                          host, gai_strerror(rc));
    memcpy(&ep->addr, ai->ai_addr, ai->ai_addrlen);
    ep->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (ep->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&ep->addr)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&ep->addr)->sin6_port = htons((uint16_t)port);
    strcpy(ep->text, text);
    return 0;
}

static int parse_sysctls(struct vctx *v, const json_t *obj, struct config *cfg)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        char path[256];
        struct config_sysctl *s;

        snprintf(path, sizeof(path), "sysctl.%s", key);
        if (!config_sysctl_is_per_netns(key))
            return bad(v, path, "not a per-network-namespace sysctl qbench may set (writing it "
                               "would change the whole machine)");
        if (cfg->nsysctl >= CONFIG_MAX_SYSCTL)
            return bad(v, path, "more than %d sysctls", CONFIG_MAX_SYSCTL);
        s = &cfg->sysctl[cfg->nsysctl++];
        snprintf(s->name, sizeof(s->name), "%s", key);
        if (json_is_integer(val)) {
            snprintf(s->value, sizeof(s->value), "%lld", (long long)json_integer_value(val));
        } else if (json_is_string(val)) {
            const char *str = json_string_value(val);

            if (json_string_length(val) == 0 || json_string_length(val) >= sizeof(s->value))
                return bad(v, path, "value must be 1..%zu characters", sizeof(s->value) - 1);
            for (const char *c = str; *c; c++)
                if ((unsigned char)*c < 0x20 && *c != '\t')
                    return bad(v, path, "value has a control character");
            strcpy(s->value, str);
        } else {
            return bad(v, path, "must be an integer or a string, got %s", type_name(val));
        }
    }
    return 0;
}

static int parse_server(struct vctx *v, const json_t *obj, struct config *cfg)
{
    static const char *const keys[] = {"address", "backlog", "accept_delay_ms", "greeting",
                                       "threads", NULL};
    char addr[128] = "127.0.0.1:0", sub[ERRBUF_LEN];
    long long backlog = 128, delay = 0, threads = 1;

    if (obj) {
        if (only_keys(v, obj, "server", keys) || get_string(v, obj, "server", "address", addr, sizeof(addr)) ||
            get_int(v, obj, "server", "backlog", -1, INT32_MAX, &backlog) ||
            get_int(v, obj, "server", "accept_delay_ms", -1, 3600000, &delay) ||
            get_bool(v, obj, "server", "greeting", &cfg->server.greeting) ||
            get_int(v, obj, "server", "threads", 1, CONFIG_MAX_THREADS, &threads))
            return -1;
    }
    if (!cfg->use_target && config_parse_endpoint(addr, false, &cfg->endpoint, sub, sizeof(sub)) < 0)
        return bad(v, "server.address", "%s", sub);
    cfg->server.backlog = (int)backlog;
    cfg->server.accept_delay_ms = (int)delay;
    cfg->server.threads = (unsigned)threads;
    return 0;
}

/* "127.0.0.1-127.0.0.8": source addresses spread over loopback, so a long
 * run does not exhaust one address's ephemeral ports. */
static int parse_sources(struct vctx *v, const char *text, struct config *cfg)
{
    char first[32], last[32];
    const char *dash = strchr(text, '-');
    struct in_addr a, b;
    uint32_t lo, hi;

    if (cfg->endpoint.addr.ss_family != AF_INET)
        return bad(v, "client.source_addresses", "only for an IPv4 server address or target");
    if (dash) {
        snprintf(first, sizeof(first), "%.*s", (int)(dash - text), text);
        snprintf(last, sizeof(last), "%s", dash + 1);
    } else {
        snprintf(first, sizeof(first), "%s", text);
        snprintf(last, sizeof(last), "%s", text);
    }
    if (inet_pton(AF_INET, first, &a) != 1 || inet_pton(AF_INET, last, &b) != 1)
        return bad(v, "client.source_addresses", "expected A.B.C.D or A.B.C.D-A.B.C.D, got \"%s\"",
                   text);
    lo = ntohl(a.s_addr);
    hi = ntohl(b.s_addr);
    if ((lo >> 24) != 127 || (hi >> 24) != 127)
        return bad(v, "client.source_addresses", "must lie in 127.0.0.0/8 (loopback), got \"%s\"",
                   text);
    if (hi < lo)
        return bad(v, "client.source_addresses", "range ends before it starts: \"%s\"", text);
    if (hi - lo >= 65536)
        return bad(v, "client.source_addresses", "at most 65536 addresses, got %u", hi - lo + 1);
    cfg->client.source_first = lo;
    cfg->client.source_count = hi - lo + 1;
    return 0;
}

static int parse_client(struct vctx *v, const json_t *obj, struct config *cfg)
{
    static const char *const keys[] = {"rate", "connections", "duration_ms", "connect_timeout_ms",
                                       "greeting_timeout_ms", "request_bytes", "expect_greeting",
                                       "threads", "max_in_flight", "close", "source_addresses",
                                       NULL};
    const json_t *rate;
    long long conns = 0, dur = 0, ct = 10000, gt = 10000, req = 0, maxfl = 0;
    long long threads = sysconf(_SC_NPROCESSORS_ONLN);
    char close_mode[16] = "graceful", sources[64] = "";

    if (!obj)
        return bad(v, "client", "required (at least client.rate and client.connections or "
                                "client.duration_ms)");
    if (only_keys(v, obj, "client", keys))
        return -1;
    rate = json_object_get(obj, "rate");
    if (!rate)
        return bad(v, "client.rate", "required: new connections per second");
    if (!json_is_number(rate))
        return bad(v, "client.rate", "must be a number, got %s", type_name(rate));
    cfg->client.rate = json_number_value(rate);
    if (!(cfg->client.rate > 0))
        return bad(v, "client.rate", "must be > 0, got %g", cfg->client.rate);
    if (cfg->client.rate > 10e6)
        return bad(v, "client.rate", "must be <= 10000000, got %g", cfg->client.rate);
    if (get_int(v, obj, "client", "connections", 1, 1000000000LL, &conns) ||
        get_int(v, obj, "client", "duration_ms", 1, 86400000LL, &dur) ||
        get_int(v, obj, "client", "connect_timeout_ms", 1, 3600000, &ct) ||
        get_int(v, obj, "client", "greeting_timeout_ms", 1, 3600000, &gt) ||
        get_int(v, obj, "client", "request_bytes", 0, 65536, &req) ||
        get_int(v, obj, "client", "max_in_flight", 0, 1000000, &maxfl) ||
        get_string(v, obj, "client", "close", close_mode, sizeof(close_mode)) ||
        get_string(v, obj, "client", "source_addresses", sources, sizeof(sources)))
        return -1;
    if (threads < 1)
        threads = 1;
    if (threads > CONFIG_MAX_THREADS)
        threads = CONFIG_MAX_THREADS;
    if (get_int(v, obj, "client", "threads", 1, CONFIG_MAX_THREADS, &threads))
        return -1;
    if (strcmp(close_mode, "graceful") != 0 && strcmp(close_mode, "reset") != 0)
        return bad(v, "client.close", "must be \"graceful\" or \"reset\", got \"%s\"", close_mode);
    cfg->client.close_reset = strcmp(close_mode, "reset") == 0;
    if (sources[0] && parse_sources(v, sources, cfg) < 0)
        return -1;
    if (!conns && !dur)
        return bad(v, "client", "needs connections or duration_ms, so the run is bounded");
    cfg->client.expect_greeting = cfg->use_target ? false : cfg->server.greeting;
    if (get_bool(v, obj, "client", "expect_greeting", &cfg->client.expect_greeting))
        return -1;
    if (!cfg->use_target && cfg->client.expect_greeting && !cfg->server.greeting)
        return bad(v, "client.expect_greeting", "true, but server.greeting is false: every "
                                                "connection would end in greeting_timeout");
    cfg->client.connections = (uint64_t)conns;
    cfg->client.duration_ms = (uint64_t)dur;
    cfg->client.connect_timeout_ms = (unsigned)ct;
    cfg->client.greeting_timeout_ms = (unsigned)gt;
    cfg->client.request_bytes = (unsigned)req;
    cfg->client.threads = (unsigned)threads;
    cfg->client.max_in_flight = (unsigned)maxfl;
    return 0;
}

static int parse_expect(struct vctx *v, const json_t *obj, struct config *cfg)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        char path[256], metric[64];
        size_t n = strlen(key);
        bool known = false;

        snprintf(path, sizeof(path), "expect.%s", key);
        if (n < 5 || n >= sizeof(metric) ||
            (strcmp(key + n - 4, "_min") != 0 && strcmp(key + n - 4, "_max") != 0))
            return bad(v, path, "a bound is <metric>_min or <metric>_max");
        snprintf(metric, sizeof(metric), "%.*s", (int)(n - 4), key);
        for (size_t i = 0; i < COUNT(expect_metrics); i++)
            if (strcmp(metric, expect_metrics[i]) == 0)
                known = true;
        if (!known)
            return bad(v, path, "unknown metric '%s' (e.g. established_ratio, timeout, "
                                "connect_p99_us; see README)", metric);
        if (!json_is_number(val))
            return bad(v, path, "must be a number, got %s", type_name(val));
        if (json_number_value(val) < 0)
            return bad(v, path, "must be >= 0, got %g", json_number_value(val));
        if (strstr(metric, "_ratio") && json_number_value(val) > 1)
            return bad(v, path, "a ratio must be <= 1, got %g", json_number_value(val));
        if (cfg->nexpect >= CONFIG_MAX_EXPECT)
            return bad(v, path, "more than %d bounds", CONFIG_MAX_EXPECT);
        snprintf(cfg->expect[cfg->nexpect].name, sizeof(cfg->expect[0].name), "%s", key);
        cfg->expect[cfg->nexpect++].bound = json_number_value(val);
    }
    return 0;
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
            return bad(v, "client.connections", "%llu connections at client.rate %g/s would "
                       "take %.0f s, over the %.0f s a run may last; lower connections, raise "
                       "rate, or bound the run with duration_ms",
                       (unsigned long long)cfg->client.connections, cfg->client.rate,
                       sched_ms / 1000.0, RUN_MAX_MS / 1000.0);
        if (sched_ms < ms)
            ms = sched_ms;
    }
    ms += (double)cfg->client.connect_timeout_ms + (double)cfg->client.greeting_timeout_ms;
    if (ms / cfg->sample.timeline_ms > TIMELINE_MAX_ROWS)
        return bad(v, "sample.timeline_ms", "%u ms rows over a run of up to %.0f s make %.0f "
                   "timeline rows, more than %.0f; use at least %.0f",
                   cfg->sample.timeline_ms, ms / 1000.0, ms / cfg->sample.timeline_ms,
                   TIMELINE_MAX_ROWS, ms / TIMELINE_MAX_ROWS + 1);
    return 0;
}

int config_from_json(const json_t *root, const char *source, const char *default_name,
                     struct config *cfg, char *err, size_t errlen)
{
    static const char *const top_keys[] = {"name", "isolate", "sysctl", "server", "target",
                                           "client", "sweep", "expect", "output", "sample", NULL};
    static const char *const sample_keys[] = {"accept_queue_ms", "timeline_ms", NULL};
    struct vctx v = {source, err, errlen};
    const json_t *sysctl, *server, *client, *expect, *sample;
    char target[128] = "", sub[ERRBUF_LEN];
    long long aq = 10, tl = 100;

    memset(cfg, 0, sizeof(*cfg));
    cfg->isolate = true;
    cfg->server.greeting = true;
    snprintf(cfg->name, sizeof(cfg->name), "%s", default_name);

    if (!json_is_object(root))
        return errbuf_set(err, errlen, "%s: the config must be a JSON object", source);
    if (only_keys(&v, root, "", top_keys) ||
        get_string(&v, root, "", "name", cfg->name, sizeof(cfg->name)) ||
        get_bool(&v, root, "", "isolate", &cfg->isolate) ||
        get_object(&v, root, "sysctl", &sysctl) || get_object(&v, root, "server", &server) ||
        get_object(&v, root, "client", &client) || get_object(&v, root, "expect", &expect) ||
        get_object(&v, root, "sample", &sample) ||
        get_string(&v, root, "", "target", target, sizeof(target)))
        return -1;
    for (const char *c = cfg->name; *c; c++)
        if (*c == '/' || (unsigned char)*c < 0x20)
            return bad(&v, "name", "must not contain '/' or control characters");

    if (target[0]) {
        if (server)
            return bad(&v, "target", "give either target (an external server) or server (the "
                                     "built-in one), not both");
        cfg->use_target = true;
        if (config_parse_endpoint(target, true, &cfg->endpoint, sub, sizeof(sub)) < 0)
            return bad(&v, "target", "%s", sub);
        if (cfg->isolate)
            return bad(&v, "target", "an external server cannot be reached from the private "
                                     "namespace isolate: true makes; set isolate: false");
    }
    if (sysctl && parse_sysctls(&v, sysctl, cfg))
        return -1;
    if (cfg->nsysctl && !cfg->isolate)
        return bad(&v, "sysctl", "needs isolate: true (qbench never writes the host's sysctls)");
    if (parse_server(&v, server, cfg) || parse_client(&v, client, cfg))
        return -1;
    if (expect && parse_expect(&v, expect, cfg))
        return -1;
    if (sample && (only_keys(&v, sample, "sample", sample_keys) ||
                   get_int(&v, sample, "sample", "accept_queue_ms", 1, 60000, &aq) ||
                   get_int(&v, sample, "sample", "timeline_ms", 1, 60000, &tl)))
        return -1;
    cfg->sample.accept_queue_ms = (unsigned)aq;
    cfg->sample.timeline_ms = (unsigned)tl;
    if (check_run_length(&v, cfg))
        return -1;

    snprintf(cfg->output, sizeof(cfg->output), "results/%s.json", cfg->name);
    if (get_string(&v, root, "", "output", cfg->output, sizeof(cfg->output)))
        return -1;
    return 0;
}

json_t *config_to_json(const struct config *cfg)
{
    json_t *root = json_object(), *sys = json_object(), *client = json_object(),
           *expect = json_object(), *sample = json_object();

    json_object_set_new(root, "name", json_string(cfg->name));
    json_object_set_new(root, "isolate", json_boolean(cfg->isolate));
    for (size_t i = 0; i < cfg->nsysctl; i++) {
        char *end;
        long long n = strtoll(cfg->sysctl[i].value, &end, 10);

        json_object_set_new(sys, cfg->sysctl[i].name,
                            *end == '\0' ? json_integer(n) : json_string(cfg->sysctl[i].value));
    }
    json_object_set_new(root, "sysctl", sys);
    if (cfg->use_target) {
        json_object_set_new(root, "target", json_string(cfg->endpoint.text));
    } else {
        json_t *server = json_object();

        json_object_set_new(server, "address", json_string(cfg->endpoint.text));
        json_object_set_new(server, "backlog", json_integer(cfg->server.backlog));
        json_object_set_new(server, "accept_delay_ms", json_integer(cfg->server.accept_delay_ms));
        json_object_set_new(server, "greeting", json_boolean(cfg->server.greeting));
        json_object_set_new(server, "threads", json_integer(cfg->server.threads));
        json_object_set_new(root, "server", server);
    }
    json_object_set_new(client, "rate", json_real(cfg->client.rate));
    if (cfg->client.connections)
        json_object_set_new(client, "connections", json_integer((json_int_t)cfg->client.connections));
    if (cfg->client.duration_ms)
        json_object_set_new(client, "duration_ms", json_integer((json_int_t)cfg->client.duration_ms));
    json_object_set_new(client, "connect_timeout_ms", json_integer(cfg->client.connect_timeout_ms));
    json_object_set_new(client, "greeting_timeout_ms", json_integer(cfg->client.greeting_timeout_ms));
    json_object_set_new(client, "request_bytes", json_integer(cfg->client.request_bytes));
    json_object_set_new(client, "expect_greeting", json_boolean(cfg->client.expect_greeting));
    json_object_set_new(client, "threads", json_integer(cfg->client.threads));
    json_object_set_new(client, "max_in_flight", json_integer(cfg->client.max_in_flight));
    json_object_set_new(client, "close", json_string(cfg->client.close_reset ? "reset" : "graceful"));
    if (cfg->client.source_count) {
        char text[64];
        struct in_addr a = {htonl(cfg->client.source_first)},
                       b = {htonl(cfg->client.source_first + cfg->client.source_count - 1)};
        char sa[INET_ADDRSTRLEN], sb[INET_ADDRSTRLEN];

        inet_ntop(AF_INET, &a, sa, sizeof(sa));
        inet_ntop(AF_INET, &b, sb, sizeof(sb));
        snprintf(text, sizeof(text), "%s-%s", sa, sb);
        json_object_set_new(client, "source_addresses", json_string(text));
    }
    json_object_set_new(root, "client", client);
    json_object_set_new(sample, "accept_queue_ms", json_integer(cfg->sample.accept_queue_ms));
    json_object_set_new(sample, "timeline_ms", json_integer(cfg->sample.timeline_ms));
    json_object_set_new(root, "sample", sample);
    for (size_t i = 0; i < cfg->nexpect; i++)
        json_object_set_new(expect, cfg->expect[i].name, json_real(cfg->expect[i].bound));
    json_object_set_new(root, "expect", expect);
    json_object_set_new(root, "output", json_string(cfg->output));
    return root;
}
