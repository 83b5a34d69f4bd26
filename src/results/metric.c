#include "metric.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rundoc.h"

#define LAT(h, s, cmp, what)                                                                       \
    {                                                                                              \
        h "_" s "_us", METRIC_LATENCY, RD_LATENCY "." h, s, true, cmp, what                        \
    }

static const struct metric metrics[] = {
    {"established_ratio", METRIC_RATIO, RD_OUTCOMES, "established", false, true,
     "fraction of attempts that completed the handshake (and got the greeting)"},
    {"timeout_ratio", METRIC_RATIO, RD_OUTCOMES, "timeout", true, true,
     "fraction of attempts with no handshake in time (SYNs dropped)"},
    {"reset_ratio", METRIC_RATIO, RD_OUTCOMES, "reset", true, true,
     "fraction of attempts reset (abort_on_overflow, or a half-open connection)"},
    {"refused_ratio", METRIC_RATIO, RD_OUTCOMES, "refused", true, true,
     "fraction of attempts refused (nothing listening)"},
    {"greeting_timeout_ratio", METRIC_RATIO, RD_OUTCOMES, "greeting_timeout", true, true,
     "fraction of handshakes that never got the greeting (server side unknown: target)"},
    {"accepted_late_ratio", METRIC_RATIO, RD_OUTCOMES, "accepted_late", true, true,
     "fraction the server accepted after the client had given up (a slow server)"},
    {"never_accepted_ratio", METRIC_RATIO, RD_OUTCOMES, "never_accepted", true, true,
     "fraction the server never accepted (half-open, forgotten, or still queued)"},
    {"error_ratio", METRIC_RATIO, RD_OUTCOMES, "error", true, true,
     "fraction of attempts that failed locally (EMFILE, EADDRNOTAVAIL ...)"},
    {"established", METRIC_COUNT, RD_OUTCOMES, "established", false, false, "count"},
    {"timeout", METRIC_COUNT, RD_OUTCOMES, "timeout", true, false, "count"},
    {"reset", METRIC_COUNT, RD_OUTCOMES, "reset", true, false, "count"},
    {"refused", METRIC_COUNT, RD_OUTCOMES, "refused", true, false, "count"},
    {"greeting_timeout", METRIC_COUNT, RD_OUTCOMES, "greeting_timeout", true, false, "count"},
    {"accepted_late", METRIC_COUNT, RD_OUTCOMES, "accepted_late", true, false, "count"},
    {"never_accepted", METRIC_COUNT, RD_OUTCOMES, "never_accepted", true, false, "count"},
    {"error", METRIC_COUNT, RD_OUTCOMES, "error", true, false, "count"},
    LAT("connect", "p50", true, "handshake latency from the scheduled time, median"),
    LAT("connect", "p90", false, "handshake latency, 90th percentile"),
    LAT("connect", "p99", true, "handshake latency, 99th percentile"),
    LAT("connect", "p999", false, "handshake latency, 99.9th percentile"),
    LAT("connect", "max", false, "handshake latency, maximum"),
    LAT("accept", "p50", true, "latency to the server's greeting, median"),
    LAT("accept", "p90", false, "latency to the greeting, 90th percentile"),
    LAT("accept", "p99", true, "latency to the greeting, 99th percentile"),
    LAT("accept", "p999", false, "latency to the greeting, 99.9th percentile"),
    LAT("accept", "max", false, "latency to the greeting, maximum"),
    /* latency_us.<class>: from the scheduled connect to the moment the
     * client knew its outcome; the count is outcomes.<class> */
    LAT("established", "p50", false, "time to a served connection (= accept), median"),
    LAT("established", "p99", false, "time to a served connection, 99th percentile"),
    LAT("timeout", "p50", false, "time until a handshake was given up, median"),
    LAT("timeout", "p99", false, "time until a handshake was given up, 99th percentile"),
    LAT("reset", "p50", false, "time until the client saw the reset, median"),
    LAT("reset", "p99", false, "time until the client saw the reset, 99th percentile"),
    LAT("refused", "p50", false, "time until the client saw the refusal, median"),
    LAT("refused", "p99", false, "time until the client saw the refusal, 99th percentile"),
    LAT("greeting_timeout", "p50", false,
        "time until the client gave up on the greeting "
        "(server side unknown), median"),
    LAT("greeting_timeout", "p99", false, "the same, 99th percentile"),
    LAT("accepted_late", "p50", false,
        "time until the client gave up on a connection the "
        "server accepted late, median"),
    LAT("accepted_late", "p99", false, "the same, 99th percentile"),
    LAT("never_accepted", "p50", false,
        "time until the client gave up on a connection the "
        "server never accepted, median"),
    LAT("never_accepted", "p99", false, "the same, 99th percentile"),
    LAT("error", "p50", false, "time until a local error ended the attempt, median"),
    LAT("error", "p99", false, "the same, 99th percentile"),
    LAT("accepted_late_by", "p50", false,
        "how long after the client gave up the server "
        "accepted, median"),
    {"schedule_lag_p99_us", METRIC_GAUGE, "schedule_lag_us", "p99", true, false,
     "how late connects left against the open-loop schedule, 99th percentile"},
    {"accept_queue_max", METRIC_GAUGE, RD_ACCEPT_QUEUE, "max", true, false,
     "deepest accept queue sampled"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const struct metric *metric_table(size_t *n)
{
    *n = COUNT(metrics);
    return metrics;
}

const struct metric *metric_find(const char *name)
{
    for (size_t i = 0; i < COUNT(metrics); i++)
        if (strcmp(metrics[i].name, name) == 0)
            return &metrics[i];
    return NULL;
}

const struct metric *metric_parse_bound(const char *bound, bool *is_max)
{
    size_t n = strlen(bound);
    char name[64];

    if (n <= 4 || n - 4 >= sizeof(name))
        return NULL;
    if (strcmp(bound + n - 4, "_min") == 0)
        *is_max = false;
    else if (strcmp(bound + n - 4, "_max") == 0)
        *is_max = true;
    else
        return NULL;
    memcpy(name, bound, n - 4);
    name[n - 4] = '\0';
    return metric_find(name);
}

/* run.<where>, where "where" may have one dot: RD_LATENCY ".connect". */
static const json_t *object_at(const json_t *run, const char *where)
{
    const char *dot = strchr(where, '.');
    char first[32];

    if (!dot)
        return json_object_get(run, where);
    if ((size_t)(dot - where) >= sizeof(first))
        return NULL;
    memcpy(first, where, (size_t)(dot - where));
    first[dot - where] = '\0';
    return json_object_get(json_object_get(run, first), dot + 1);
}

static int number(const json_t *obj, const char *key, double *out)
{
    const json_t *j = json_object_get(obj, key);

    if (!json_is_number(j))
        return -1;
    *out = json_number_value(j);
    return 0;
}

int metric_value(const json_t *run, const struct metric *m, double *value)
{
    const json_t *obj = object_at(run, m->where);
    double count, attempted;

    switch (m->kind) {
    case METRIC_RATIO:
        if (number(obj, m->field, &count) < 0 || number(obj, RD_ATTEMPTED, &attempted) < 0)
            return -1;
        *value = attempted > 0 ? count / attempted : 0;
        return 0;
    case METRIC_LATENCY:
        /* an empty histogram's percentiles are 0, which is not a latency */
        if (number(obj, "count", &count) < 0 || count <= 0)
            return -1;
        return number(obj, m->field, value);
    case METRIC_COUNT:
    case METRIC_GAUGE:
        return number(obj, m->field, value);
    }
    return -1;
}

double metric_samples(const json_t *run, const struct metric *m)
{
    double n = 0;

    if (m->kind == METRIC_LATENCY)
        number(object_at(run, m->where), "count", &n);
    else if (m->kind == METRIC_RATIO || m->kind == METRIC_COUNT)
        number(object_at(run, m->where), RD_ATTEMPTED, &n);
    return n;
}

static bool can_gate(const struct metric *m)
{
    return m->kind == METRIC_RATIO || m->kind == METRIC_LATENCY;
}

/* The next comma-separated name of *list into name; false at the end. */
static bool next_name(const char **list, char *name, size_t len)
{
    const char *s = *list, *end;
    size_t n;

    while (*s == ',' || *s == ' ')
        s++;
    if (!*s)
        return false;
    end = s + strcspn(s, ", ");
    n = (size_t)(end - s) < len - 1 ? (size_t)(end - s) : len - 1;
    memcpy(name, s, n);
    name[n] = '\0';
    *list = end;
    return true;
}

bool metric_gates(const char *list, const struct metric *m)
{
    char name[64];
    bool any = false;

    if (list)
        for (const char *s = list; next_name(&s, name, sizeof(name));) {
            any = true;
            if (strcmp(name, m->name) == 0)
                return can_gate(m);
        }
    return any ? false : m->compared;
}

int metric_check_gate(const char *list, char *err, size_t errlen)
{
    char name[64];

    for (const char *s = list; next_name(&s, name, sizeof(name));) {
        const struct metric *m = metric_find(name);

        if (m && can_gate(m))
            continue;
        if (m) {
            snprintf(err, errlen,
                     "'%s' cannot gate: only ratios (established_ratio ...) and "
                     "latency percentiles (connect_p99_us ...) are tested across "
                     "repeats",
                     name);
        } else {
            size_t used = (size_t)snprintf(err, errlen, "unknown metric '%.60s' (gateable:", name);

            for (size_t i = 0; i < COUNT(metrics) && used < errlen; i++)
                if (can_gate(&metrics[i]))
                    used += (size_t)snprintf(err + used, errlen - used, " %s", metrics[i].name);
            if (used < errlen)
                snprintf(err + used, errlen - used, ")");
        }
        return -1;
    }
    return 0;
}

void metric_format_us(double us, char *buf, size_t len)
{
    double a = fabs(us);

    if (a < 1000.0)
        snprintf(buf, len, "%.0f us", us);
    else if (a < 1e6)
        snprintf(buf, len, "%.*f ms", a < 1e4 ? 2 : a < 1e5 ? 1 : 0, us / 1e3);
    else
        snprintf(buf, len, "%.*f s", a < 1e7 ? 2 : a < 1e8 ? 1 : 0, us / 1e6);
}

void metric_format(const struct metric *m, bool have, double value, char *buf, size_t len)
{
    if (!have)
        snprintf(buf, len, "-");
    else if (m->kind == METRIC_RATIO)
        snprintf(buf, len, "%.2f%%", value * 100.0);
    else if (m->kind == METRIC_LATENCY || strstr(m->name, "_us"))
        metric_format_us(value, buf, len);
    else
        snprintf(buf, len, "%.0f", value);
}
