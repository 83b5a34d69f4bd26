#include "rundoc.h"

#include <stdio.h>
#include <string.h>

#include "errbuf.h"

/* latency_us: one histogram per kind of wait */
static const struct rundoc_field latency_fields[] = {
    {RD_LAT_CONNECT, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_ACCEPT, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_TIMEOUT, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_ACCEPTED_LATE_BY, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_CONNECT_BY_RETRANS, RD_MERGE_HISTOGRAMS, NULL},
    {RD_LAT_ESTABLISHED, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_RESET, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_REFUSED, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_GREETING_TIMEOUT, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_ACCEPTED_LATE, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_NEVER_ACCEPTED, RD_MERGE_HISTOGRAM, NULL},
    {RD_LAT_ERROR, RD_MERGE_HISTOGRAM, NULL},
    {NULL, RD_MERGE_DROP, NULL},
};

/* accept_observed: counts add up, the worst precision and cost are kept */
static const struct rundoc_field observed_fields[] = {
    {RD_AO_METHOD, RD_MERGE_FIRST, NULL},
    {RD_AO_COMPLETE, RD_MERGE_ALL_TRUE, NULL},
    {RD_AO_INTERVAL_MS, RD_MERGE_MAX, NULL},
    {RD_AO_PRECISION_MS, RD_MERGE_MAX, NULL},
    {RD_AO_PRECISION_P50_MS, RD_MERGE_MAX, NULL},
    {RD_AO_GAP_MAX_MS, RD_MERGE_MAX, NULL},
    {RD_AO_POLLS, RD_MERGE_SUM, NULL},
    {RD_AO_ERRORS, RD_MERGE_SUM, NULL},
    {RD_AO_DUMP_US, RD_MERGE_MAX, NULL},
    {RD_AO_DUMP_CPU_US, RD_MERGE_MAX, NULL},
    {RD_AO_CPU_PERCENT, RD_MERGE_MAX, NULL},
    {RD_AO_SOCKETS_MAX, RD_MERGE_MAX, NULL},
    {RD_AO_SOCKETS_SEEN, RD_MERGE_SUM, NULL},
    {RD_AO_TRUNCATED, RD_MERGE_ANY_TRUE, NULL},
    {RD_AO_ACCEPTED, RD_MERGE_SUM, NULL},
    {RD_AO_BEFORE_GIVEUP, RD_MERGE_SUM, NULL},
    {RD_AO_UNKNOWN, RD_MERGE_SUM, NULL},
    {RD_AO_DISAGREES, RD_MERGE_SUM, NULL},
    {RD_AO_BY_CAUSE, RD_MERGE_SUM, NULL},
    {RD_AO_CLIENT_WATCH, RD_MERGE_SUM, NULL},
    {NULL, RD_MERGE_DROP, NULL},
};

/* server: the built-in server's tallies, or the server.command's run */
static const struct rundoc_field server_fields[] = {
    {RD_SRV_ACCEPTED, RD_MERGE_SUM, NULL},      {RD_SRV_ACCEPTED_IN_DRAIN, RD_MERGE_SUM, NULL},
    {RD_SRV_CLIENT_GONE, RD_MERGE_SUM, NULL},   {RD_SRV_GREETING_FAILED, RD_MERGE_SUM, NULL},
    {RD_SRV_ACCEPT_ERRORS, RD_MERGE_SUM, NULL}, {RD_DRAIN_MS, RD_MERGE_MAX, NULL},
    {RD_SRV_COMMAND, RD_MERGE_FIRST, NULL}, /* the same settings */
    {RD_SRV_LOG, RD_MERGE_FIRST, NULL},     /* one input's log, as an example */
    {RD_SRV_EXIT, RD_MERGE_FIRST, NULL},        {RD_SRV_DIR, RD_MERGE_FIRST, NULL},
    {RD_SRV_DIR_KEPT, RD_MERGE_ANY_TRUE, NULL}, {RD_SRV_LOG_DROPPED, RD_MERGE_SUM, NULL},
    {RD_SRV_LOG_TAIL, RD_MERGE_FIRST, NULL},    {NULL, RD_MERGE_DROP, NULL},
};

/* story: whether greeting_timeout could be split, and what stayed unmatched */
static const struct rundoc_field story_fields[] = {
    {RD_STORY_JOINED, RD_MERGE_ALL_TRUE, NULL},
    {RD_STORY_LATE_UNMATCHED, RD_MERGE_SUM, NULL},
    {RD_STORY_METHOD, RD_MERGE_FIRST, NULL},
    {RD_DRAIN_MS, RD_MERGE_MAX, NULL},
    {RD_STORY_WHY, RD_MERGE_FIRST, NULL},
    {RD_STORY_UNKNOWN, RD_MERGE_SUM, NULL},
    {RD_STORY_CAUSES, RD_MERGE_SUM, NULL},
    {RD_STORY_VIEW_COMPLETE, RD_MERGE_ALL_TRUE, NULL},
    {RD_STORY_CLOCK_SKEW, RD_MERGE_FIRST, NULL},
    {RD_STORY_LATE, RD_MERGE_SUM, NULL},
    {RD_STORY_NEVER, RD_MERGE_SUM, NULL},
    {RD_STORY_CLOCK_OFFSET, RD_MERGE_FIRST, NULL},
    {NULL, RD_MERGE_DROP, NULL},
};

/* accept_queue and syn_queue: the maximum of all, one input's samples */
static const struct rundoc_field queue_fields[] = {
    {RD_Q_LIMIT, RD_MERGE_FIRST, NULL},
    {RD_Q_MAX, RD_MERGE_MAX, NULL},
    {RD_Q_LISTENERS, RD_MERGE_FIRST, NULL},
    {RD_Q_INTERVAL_MS, RD_MERGE_FIRST, NULL},
    {RD_Q_DUMP_US, RD_MERGE_FIRST, NULL},
    {RD_Q_STORED_INTERVAL_MS, RD_MERGE_FIRST, NULL},
    {RD_Q_DUMPS, RD_MERGE_SUM, NULL},
    {RD_Q_SAMPLED_INTERVAL_MS, RD_MERGE_FIRST, NULL},
    {RD_Q_CPU_PERCENT, RD_MERGE_MAX, NULL},
    {RD_Q_SAMPLING_CPU_PERCENT, RD_MERGE_MAX, NULL},
    {RD_Q_SOURCE, RD_MERGE_FIRST, NULL},
    {RD_Q_SAMPLES, RD_MERGE_FIRST, NULL},
    {NULL, RD_MERGE_DROP, NULL},
};

/* capture: the counts add up, a capture is complete only if every one was;
 * the file is one input's (each repeat's entry names its own) */
static const struct rundoc_field capture_fields[] = {
    {RD_CAP_FILE, RD_MERGE_FIRST, NULL},        {RD_CAP_FILTER, RD_MERGE_FIRST, NULL},
    {RD_CAP_DEVICE, RD_MERGE_FIRST, NULL},      {RD_CAP_SNAPLEN, RD_MERGE_FIRST, NULL},
    {RD_CAP_BUFFER_KIB, RD_MERGE_FIRST, NULL},  {RD_CAP_PACKETS, RD_MERGE_SUM, NULL},
    {RD_CAP_BYTES, RD_MERGE_SUM, NULL},         {RD_CAP_WRITTEN, RD_MERGE_ALL_TRUE, NULL},
    {RD_CAP_RECEIVED, RD_MERGE_SUM, NULL},      {RD_CAP_DROPPED, RD_MERGE_SUM, NULL},
    {RD_CAP_IF_DROPPED, RD_MERGE_SUM, NULL},    {RD_CAP_STOPPED, RD_MERGE_ALL_TRUE, NULL},
    {RD_CAP_COMPLETE, RD_MERGE_ALL_TRUE, NULL}, {RD_CAP_DURATION_MS, RD_MERGE_MAX, NULL},
    {RD_CAP_CPU_PERCENT, RD_MERGE_MAX, NULL},   {RD_CAP_PACKETS_PER_S, RD_MERGE_MAX, NULL},
    {RD_CAP_ERROR, RD_MERGE_FIRST, NULL},       {NULL, RD_MERGE_DROP, NULL},
};

static const struct rundoc_field run_fields[] = {
    {RD_PARAMS, RD_MERGE_FIRST, NULL},
    {RD_CONFIG, RD_MERGE_FIRST, NULL},
    {RD_ELAPSED_MS, RD_MERGE_MAX, NULL},
    {RD_INTERRUPTED, RD_MERGE_ANY_TRUE, NULL},
    {RD_SYSCTL, RD_MERGE_FIRST, NULL},
    {RD_SYSCTL_CHANGED, RD_MERGE_FIRST, NULL}, /* one input's account, as an example */
    {RD_SYSCTL_IN_FORCE, RD_MERGE_FIRST, NULL},
    {RD_CONNECTIONS_ERROR, RD_MERGE_FIRST, NULL},
    {RD_INCOMPLETE, RD_MERGE_FIRST, NULL}, /* a point cut short by a failure */
    {RD_OUTCOMES, RD_MERGE_SUM, NULL},
    {RD_LATENCY, RD_MERGE_SECTION, latency_fields},
    {RD_SYN_RETRANS, RD_MERGE_SUM, NULL},
    {RD_SYN_RETRANS_FAILED, RD_MERGE_SUM, NULL},
    {RD_SYNACK_RETRANS, RD_MERGE_SUM, NULL},
    {RD_SERVER, RD_MERGE_SECTION, server_fields},
    {RD_STORY, RD_MERGE_SECTION, story_fields},
    {RD_KERNEL_DRAIN, RD_MERGE_SUM, NULL},
    {RD_ACCEPT_QUEUE, RD_MERGE_SECTION, queue_fields},
    {RD_SYN_QUEUE, RD_MERGE_SECTION, queue_fields},
    {RD_KERNEL_SCOPE, RD_MERGE_FIRST, NULL},
    {RD_KERNEL, RD_MERGE_SUM, NULL},
    {RD_NETNS, RD_MERGE_FIRST, NULL}, /* one input's namespace, as an example */
    {RD_HOOKS, RD_MERGE_FIRST, NULL}, /* one input's hook, as an example */
    {RD_CAPTURE, RD_MERGE_SECTION, capture_fields},
    {RD_ACCEPT_OBSERVED, RD_MERGE_SECTION, observed_fields},
    {RD_SERVER_KERNEL, RD_MERGE_SUM, NULL},
    {RD_SERVER_KERNEL_SCOPE, RD_MERGE_FIRST, NULL},
    {RD_SERVER_NETNS, RD_MERGE_FIRST, NULL},
    {RD_SERVER_SYSCTL, RD_MERGE_FIRST, NULL},
    {RD_ORIGIN_EPOCH, RD_MERGE_FIRST, NULL}, /* the first input's clock */
    {RD_ORIGIN_EPOCH_US, RD_MERGE_FIRST, NULL},
    {RD_SERVER_BY_HOST, RD_MERGE_FIRST, NULL}, /* a merged file's, merged again */
    {RD_OBSERVED_BY, RD_MERGE_FIRST, NULL},
    /* joined with an observer by the merge that has one (obsstory), so a
     * merged file carries none */
    {RD_GAVE_UP, RD_MERGE_DROP, NULL},
    {RD_TIMELINE_INTERVAL_MS, RD_MERGE_FIRST, NULL},
    {RD_TIMELINE, RD_MERGE_TIMELINE, NULL},
    {RD_SCHEDULE_LAG, RD_MERGE_HISTOGRAM, NULL},
    {RD_CLIENT_THREADS, RD_MERGE_FIRST, NULL},
    {RD_UNSTARTED, RD_MERGE_SUM, NULL},
    {RD_PEAK_RSS_KB, RD_MERGE_MAX, NULL},
    {RD_REPEAT, RD_MERGE_DROP, NULL},
    {RD_REPEATS, RD_MERGE_DROP, NULL},
    {RD_SPREAD, RD_MERGE_DROP, NULL},
    {RD_KERNEL_BY_HOST, RD_MERGE_DROP, NULL},
    {NULL, RD_MERGE_DROP, NULL},
};

const struct rundoc_field *rundoc_run_fields(void)
{
    return run_fields;
}

const struct rundoc_field *rundoc_field_find(const struct rundoc_field *rows, const char *name)
{
    for (; rows && rows->name; rows++)
        if (strcmp(rows->name, name) == 0)
            return rows;
    return NULL;
}

const char *rundoc_merge_name(enum rundoc_merge kind)
{
    switch (kind) {
    case RD_MERGE_FIRST:
        return "first";
    case RD_MERGE_SUM:
        return "sum";
    case RD_MERGE_MAX:
        return "max";
    case RD_MERGE_ANY_TRUE:
        return "any-true";
    case RD_MERGE_ALL_TRUE:
        return "all-true";
    case RD_MERGE_HISTOGRAM:
        return "histogram";
    case RD_MERGE_HISTOGRAMS:
        return "histograms";
    case RD_MERGE_TIMELINE:
        return "timeline";
    case RD_MERGE_SECTION:
        return "section";
    case RD_MERGE_DROP:
        return "drop";
    }
    return "?";
}

static int check_members(const json_t *obj, const struct rundoc_field *rows, const char *path,
                         char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)obj, key, val) {
        const struct rundoc_field *f = rundoc_field_find(rows, key);

        if (!f)
            return errbuf_set(err, errlen,
                              "%s.%s: no merge rule for this field (add a row "
                              "to rundoc.c's table)",
                              path, key);
        if (f->merge == RD_MERGE_SECTION && json_is_object(val)) {
            char sub[128];

            snprintf(sub, sizeof(sub), "%s.%s", path, key);
            if (check_members(val, f->members, sub, err, errlen) < 0)
                return -1;
        }
    }
    return 0;
}

int rundoc_check_run(const json_t *run, char *err, size_t errlen)
{
    if (!json_is_object(run))
        return errbuf_set(err, errlen, "runs[]: not an object");
    return check_members(run, run_fields, "runs[]", err, errlen);
}

const json_t *rundoc_runs(const json_t *doc)
{
    return json_object_get(doc, RD_RUNS);
}

const json_t *rundoc_params(const json_t *run)
{
    return json_object_get(run, RD_PARAMS);
}

const json_t *rundoc_get(const json_t *run, const char *section, const char *member)
{
    return json_object_get(json_object_get(run, section), member);
}

double rundoc_origin_s(const json_t *entry)
{
    const json_t *us = json_object_get(entry, RD_ORIGIN_EPOCH_US);

    if (json_is_integer(us) && json_integer_value(us) > 0)
        return (double)json_integer_value(us) / 1e6;
    return json_number_value(json_object_get(entry, RD_ORIGIN_EPOCH));
}
