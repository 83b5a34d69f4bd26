/* rundoc: the layout of a results document, owned in one place.
 *
 * Names every member of the document and of its runs[] entries, and says
 * for every member of a run entry how the entries of one run point merge
 * (repeats, shards, machines): the field table. The writer (report), the
 * merge, export, plot, compare, expect and the summary spell field names
 * through this header; merge walks the table and refuses any member it
 * has no row for, so a field added to the writer without a row here makes
 * every merge of it fail loudly instead of being taken from one input.
 *
 * Adding a field to a run entry: a name below, a row in rundoc.c's table
 * (its merge kind), then the writer. test_rundoc checks that every field
 * the writer emits has a row. Pure: names and a table, no I/O. */
#ifndef QB_RUNDOC_H
#define QB_RUNDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* The document's own members. */
#define RD_SCHEMA "schema"
#define RD_NAME "name"
#define RD_STARTED_AT "started_at"
#define RD_FINISHED_AT "finished_at"
#define RD_QBENCH_VERSION "qbench_version"
#define RD_KERNEL_RELEASE "kernel" /* the document's: uname -r */
#define RD_HOST "host"
#define RD_INTERRUPTED "interrupted" /* also a run entry's */
#define RD_INCOMPLETE "incomplete"   /* a document or run cut short by a failure */
#define RD_COMPLETE "complete"       /* false: the same */
#define RD_CONFIG "config"           /* also a run entry's: that point's settings */
#define RD_RUNS "runs"
#define RD_EXPECT "expect"
#define RD_SHARD "shard"
#define RD_MERGED_FROM "merged_from"

/* A run entry's members (runs[i]). */
#define RD_PARAMS "params"
#define RD_ELAPSED_MS "elapsed_ms"
#define RD_SYSCTL "sysctl"
#define RD_SYSCTL_CHANGED "sysctl_changed"       /* what the server rewrote: written, then */
#define RD_SYSCTL_IN_FORCE "sysctl_in_force"     /* ... and what the run really had */
#define RD_CONNECTIONS_ERROR "connections_error" /* the per-connection file failed */
#define RD_OUTCOMES "outcomes"
#define RD_ATTEMPTED "attempted" /* outcomes.attempted */
#define RD_ERRORS "errors"       /* outcomes.errors, server.accept_errors' kind */
#define RD_LATENCY "latency_us"
#define RD_LAT_CONNECT "connect"
#define RD_LAT_ACCEPT "accept"
#define RD_LAT_TIMEOUT "timeout"
#define RD_LAT_ACCEPTED_LATE_BY "accepted_late_by"
/* latency_us.<class>: due -> the moment the client knew, per outcome class
 * (outcome_name; RD_LAT_TIMEOUT is the timeout class's) */
#define RD_LAT_ESTABLISHED "established"
#define RD_LAT_RESET "reset"
#define RD_LAT_REFUSED "refused"
#define RD_LAT_GREETING_TIMEOUT "greeting_timeout"
#define RD_LAT_ACCEPTED_LATE "accepted_late"
#define RD_LAT_NEVER_ACCEPTED "never_accepted"
#define RD_LAT_ERROR "error"
#define RD_LAT_CONNECT_BY_RETRANS "connect_by_syn_retransmits"
#define RD_SYN_RETRANS "syn_retransmits"
#define RD_SYN_RETRANS_FAILED "syn_retransmits_failed"
#define RD_SYNACK_RETRANS "synack_retransmits"
#define RD_SERVER "server"
#define RD_SRV_ACCEPTED "accepted"
#define RD_SRV_ACCEPTED_IN_DRAIN "accepted_in_drain"
#define RD_SRV_CLIENT_GONE "client_gone"
#define RD_SRV_GREETING_FAILED "greeting_failed"
#define RD_SRV_ACCEPT_ERRORS "accept_errors"
#define RD_SRV_COMMAND "command"
#define RD_SRV_LOG "log"
#define RD_SRV_EXIT "exit"
#define RD_SRV_DIR "dir"
#define RD_SRV_DIR_KEPT "dir_kept"
#define RD_SRV_LOG_DROPPED "log_dropped_bytes"
#define RD_SRV_LOG_TAIL "log_tail"
#define RD_DRAIN_MS "drain_ms" /* server.drain_ms, story.drain_ms */
#define RD_STORY "story"
#define RD_STORY_JOINED "joined"
#define RD_STORY_LATE_UNMATCHED "late_accepts_unmatched"
#define RD_STORY_METHOD "method"
#define RD_KERNEL_DRAIN "kernel_drain"
#define RD_ACCEPT_QUEUE "accept_queue"
#define RD_SYN_QUEUE "syn_queue"
#define RD_Q_LIMIT "limit"
#define RD_Q_MAX "max"
#define RD_Q_LISTENERS "listeners"
#define RD_Q_INTERVAL_MS "interval_ms"
#define RD_Q_DUMP_US "dump_us"
#define RD_Q_STORED_INTERVAL_MS "stored_interval_ms"
#define RD_Q_DUMPS "dumps"
#define RD_Q_SAMPLED_INTERVAL_MS "sampled_interval_ms" /* accept queue: really asked */
#define RD_Q_CPU_PERCENT "cpu_percent"
#define RD_Q_SAMPLING_CPU_PERCENT "sampling_cpu_percent" /* all sock_diag sampling */
#define RD_Q_SOURCE "source"
#define RD_Q_SAMPLES "samples"
#define RD_KERNEL_SCOPE "kernel_scope"
#define RD_KERNEL "kernel" /* a run entry's: counter deltas */
#define RD_NETNS "netns"   /* the point's private namespace */
#define RD_HOOKS "hooks"   /* hooks.before: before, log, ready_ms, exit */
/* capture: the point's packet capture (capture.pcap) */
#define RD_CAPTURE "capture"
#define RD_CAP_FILE "file"
#define RD_CAP_FILTER "filter"
#define RD_CAP_DEVICE "device"
#define RD_CAP_SNAPLEN "snaplen"
#define RD_CAP_BUFFER_KIB "buffer_kib"
#define RD_CAP_PACKETS "packets" /* written to the file */
#define RD_CAP_BYTES "bytes"
#define RD_CAP_WRITTEN "written" /* the file is whole on disk */
#define RD_CAP_RECEIVED "received"
#define RD_CAP_DROPPED "dropped"
#define RD_CAP_IF_DROPPED "if_dropped"
#define RD_CAP_STOPPED "stopped"
#define RD_CAP_COMPLETE "complete"
#define RD_CAP_DURATION_MS "duration_ms"
#define RD_CAP_CPU_PERCENT "cpu_percent"
#define RD_CAP_PACKETS_PER_S "packets_per_s"
#define RD_CAP_ERROR "error"
/* accept_observed: what the kernel showed a server not ours accept */
#define RD_ACCEPT_OBSERVED "accept_observed"
#define RD_AO_METHOD "method"
#define RD_AO_COMPLETE "complete"
#define RD_AO_INTERVAL_MS "interval_ms"
#define RD_AO_PRECISION_MS "precision_ms"
#define RD_AO_PRECISION_P50_MS "precision_p50_ms"
#define RD_AO_GAP_MAX_MS "gap_max_ms"
#define RD_AO_POLLS "polls"
#define RD_AO_ERRORS "errors"
#define RD_AO_DUMP_US "dump_us"
#define RD_AO_DUMP_CPU_US "dump_cpu_us"
#define RD_AO_CPU_PERCENT "cpu_percent"
#define RD_AO_SOCKETS_MAX "sockets_max"
#define RD_AO_SOCKETS_SEEN "sockets_seen"
#define RD_AO_TRUNCATED "truncated"
#define RD_AO_ACCEPTED "accepted"
#define RD_AO_BEFORE_GIVEUP "accepted_before_giveup"
#define RD_AO_UNKNOWN "unknown"
#define RD_AO_DISAGREES "client_disagrees"
#define RD_AO_BY_CAUSE "by_cause"
#define RD_AO_CLIENT_WATCH "client_watch"
#define RD_NETNS_PATH "path"
#define RD_NETNS_INODE "inode"
#define RD_NETNS_USER_NS "user_ns"
#define RD_NETNS_EHASH "ehash_entries"
#define RD_NETNS_PRIVATE_EHASH "private_ehash"
#define RD_SERVER_KERNEL "server_kernel" /* the target's namespace's counter deltas */
#define RD_SERVER_KERNEL_SCOPE "server_kernel_scope"
#define RD_SERVER_NETNS "server_netns"
#define RD_SERVER_SYSCTL "server_sysctl"
#define RD_ORIGIN_EPOCH "origin_epoch_s"
/* the same instant in whole µs: results are written with 10 significant
 * digits, which leave origin_epoch_s whole seconds */
#define RD_ORIGIN_EPOCH_US "origin_epoch_us"
#define RD_SERVER_BY_HOST "server_by_host" /* merge with observers: each one's queues */
#define RD_OBSERVED_BY "observed_by"       /* merge with observers: who they were */
#define RD_GAVE_UP "gave_up"               /* a shard blind to its server: its give-ups */
/* story members of a merge joined with an observer (obsstory.h) */
#define RD_STORY_WHY "why"
#define RD_STORY_UNKNOWN "unknown"
#define RD_STORY_CAUSES "causes"
#define RD_STORY_VIEW_COMPLETE "view_complete"
#define RD_STORY_CLOCK_SKEW "clock_skew_allowed_ms"
#define RD_STORY_CLOCK_OFFSET "clock_offset_ms" /* per shard: measured, corrected? */
#define RD_STORY_LATE "accepted_late"
#define RD_STORY_NEVER "never_accepted"
#define RD_TIMELINE_INTERVAL_MS "timeline_interval_ms"
#define RD_TIMELINE "timeline"
#define RD_SCHEDULE_LAG "schedule_lag_us"
#define RD_CLIENT_THREADS "client_threads"
#define RD_UNSTARTED "unstarted"
#define RD_PEAK_RSS_KB "qbench_peak_rss_kb"
/* added around the writer's entry: by the experiment (repeats) and merge */
#define RD_REPEAT "repeat"
#define RD_REPEATS "repeats"
#define RD_SPREAD "spread"
#define RD_KERNEL_BY_HOST "kernel_by_host"

/* How the entries of one run point combine into one. */
enum rundoc_merge {
    RD_MERGE_FIRST,      /* the first input's: equal in every input by construction
                            (params, settings), or one input's as an example (samples) */
    RD_MERGE_SUM,        /* integers summed; objects of counts summed member by member */
    RD_MERGE_MAX,        /* the largest number */
    RD_MERGE_ANY_TRUE,   /* true when any input is true (interrupted) */
    RD_MERGE_ALL_TRUE,   /* true only when every input is true (story.joined) */
    RD_MERGE_HISTOGRAM,  /* merged bucket by bucket, percentiles recomputed */
    RD_MERGE_HISTOGRAMS, /* an object of histograms: every key any input has, merged */
    RD_MERGE_TIMELINE,   /* rows [t_ms, counts...] summed by row index */
    RD_MERGE_SECTION,    /* an object whose members have rows of their own */
    RD_MERGE_DROP,       /* one input's own (its repeat number) or recomputed by the
                            caller (spread, repeats, kernel_by_host): left out */
};

/* One member of a run entry (or of one of its sections). */
struct rundoc_field {
    const char *name;
    enum rundoc_merge merge;
    const struct rundoc_field *members; /* RD_MERGE_SECTION: its rows, ended by name NULL */
};

/* The rows of a run entry's top level, ended by a row whose name is NULL. */
const struct rundoc_field *rundoc_run_fields(void);

/* The row called name among rows (a table or a section's members), or NULL. */
const struct rundoc_field *rundoc_field_find(const struct rundoc_field *rows, const char *name);

/* The name of a merge kind ("sum", "all-true", ...), for messages and docs. */
const char *rundoc_merge_name(enum rundoc_merge kind);

/* Checks that every member of run (and of its sections) has a row; -1 and
 * err naming the first one that has none ("runs[].story.foo"). */
int rundoc_check_run(const json_t *run, char *err, size_t errlen);

/* A run entry's (or an observer document's) t = 0 on the wall clock, in
 * seconds: origin_epoch_us where written, else origin_epoch_s (whole
 * seconds in files written before origin_epoch_us); 0 when neither. */
double rundoc_origin_s(const json_t *entry);

/* Accessors for the paths every reader walks (borrowed, NULL when absent). */
const json_t *rundoc_runs(const json_t *doc);
const json_t *rundoc_params(const json_t *run);
/* run.section.member: rundoc_get(run, RD_LATENCY, RD_LAT_CONNECT) */
const json_t *rundoc_get(const json_t *run, const char *section, const char *member);

#endif
