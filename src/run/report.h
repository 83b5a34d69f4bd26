/* report: the run side of a results document. Turns what one run point
 * produced (tallies, server counters, kernel counters, queue samples) into
 * its runs[] entry, and wraps the entries into the whole document with its
 * context (versions, kernel, host, times, effective config). The format is
 * the results file's (results.h); this module is the only writer of it. */
#ifndef QB_REPORT_H
#define QB_REPORT_H

#include <stdbool.h>
#include <limits.h>
#include <stdint.h>

#include <jansson.h>

#include "config.h"
#include "histogram.h"
#include "kstats.h"
#include "qseries.h"
#include "server.h"
#include "story.h"
#include "tally.h"

/* What one run point produced; the runner fills it. */
struct run_data {
    const struct config *cfg;
    const json_t *params;
    json_t *sysctl;          /* read back from the namespace (owned) */
    char records_error[256]; /* the per-connection file failed (this point on) */
    json_t *sysctl_changed;  /* what moved after qbench wrote it (owned, NULL: none) */
    struct tally tally;      /* merged over client threads */
    bool has_server;
    struct server_stats server;
    struct kstats before, after; /* the clients' window: first connect to last outcome */
    struct kstats drain_after;   /* ... and after the server side settled */
    bool has_server_kernel;      /* target_netns: the target namespace's counters */
    struct kstats server_before, server_after;
    json_t *server_sysctl;   /* read back in the target's namespace (owned) */
    uint64_t drain_ms;       /* how long the server kept accepting after the clients */
    bool story_joined;       /* greeting_timeout split by the server's side */
    uint64_t late_unmatched; /* late accepts no give-up claimed */
    bool has_ext;            /* server.command ran */
    char ext_status[64];     /* "exited 0", "killed by SIGKILL" */
    char ext_log[PATH_MAX];
    char ext_dir[PATH_MAX]; /* its {dir}, removed after the point unless kept */
    bool ext_dir_kept;
    uint64_t ext_log_dropped; /* bytes the log cap dropped from the front */
    char ext_log_tail[512];   /* the log's last lines, kept when the dir is not */
    uint64_t ext_accepted_in_drain;
    struct queue_series queue; /* the accept queue */
    bool has_queue;            /* sampled (always with the built-in server) */
    uint64_t queue_dumps;      /* accept queue samples taken (ticks the sampler ran) */
    struct queue_series syn_queue;
    bool has_syn_queue;              /* sock_diag saw the listener */
    uint64_t syn_dumps, syn_cost_ns; /* SYN queue samples and what they cost */
    uint64_t listen_cost_ns;         /* CPU of the listener-only dumps between them */
    uint64_t sample_span_ns;         /* from the first connect to the last sample */
    bool has_hook;                   /* hooks.before ran */
    char hook_cmd[2048], hook_log[PATH_MAX], hook_status[64];
    double hook_ready_ms;
    json_t *capture;         /* capture.pcap: runs[].capture (owned, NULL: none) */
    uint64_t drain_begin_ns; /* when the drain began (0: none) */
    uint64_t obs_gap_ns;     /* the observer's longest gap between polls while it ran */
    json_t *accept_observed; /* what the kernel showed of a server not ours (owned) */
    bool obs_seen_listener;  /* the accept observer saw the server's listener */
    int ehash_entries;       /* the namespace's tcp_ehash_entries (< 0: shared) */
    char netns_path[96];     /* where the point's namespace could be entered */
    unsigned long netns_inode;
    bool netns_user;      /* made through a user namespace */
    unsigned queue_limit; /* sum over listeners */
    unsigned listeners;
    unsigned client_threads;
    uint64_t unstarted;                  /* due connects never started (generator behind) */
    long peak_rss_kb;                    /* qbench's own peak RSS so far */
    double origin_epoch;                 /* the timeline's t = 0 on the wall clock (s) */
    uint64_t origin_ns;                  /* ... on CLOCK_MONOTONIC */
    const struct story_gave_up *gave_up; /* a target: every give-up, for merge (or NULL) */
    size_t ngave_up;
    bool gave_up_complete; /* none was lost for want of memory */
    bool interrupted;
};

/* One entry of runs[]. */
json_t *report_run_json(const struct run_data *rd);

/* The whole document around runs (stolen) and expect (stolen, may be NULL). */
json_t *report_document(const json_t *effective_config, json_t *runs, json_t *expect,
                        const char *started_at, bool interrupted);

#endif
