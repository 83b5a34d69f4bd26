/* config: the experiment description. Loads JSON, applies overrides by
 * dotted path, fills defaults and validates strictly: every error names the
 * source, the key's path and the reason, and nothing runs on a bad config.
 * No json_t outlives loading: the struct keeps its own copies. */
#ifndef QB_CONFIG_H
#define QB_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include <jansson.h>

#include "endpoint.h"
#include "expect.h"

#define CONFIG_MAX_SYSCTL 32
#define CONFIG_MAX_EXPECT 32
#define CONFIG_MAX_THREADS 64
#define CONFIG_MAX_ARGS 32
#define CONFIG_ARG_LEN 256
#define CONFIG_MAX_FILES 8
#define CONFIG_REQUEST_MAX 4096

struct config_file {
    char name[64];       /* written into {dir} under this name */
    char path[PATH_MAX]; /* the template, resolved against the config's directory */
};

struct config_sysctl {
    char name[80];  /* "net.ipv4.tcp_synack_retries" */
    char value[80]; /* as written to /proc/sys */
};

/* Filled from the schema table in config.c: one row per key names the
 * field it fills, so a new key is a field here and a row there. The text
 * fields keep what the config said; the fields after them are derived. */
struct config {
    char name[128];
    bool isolate;
    char target[128];          /* "target": HOST:PORT, "" for the built-in server */
    char target_netns[256];    /* "target_netns": the target's namespace, "" for ours */
    char address[128];         /* "server.address" */
    char close[16];            /* "client.close": "graceful" or "reset" */
    char source_addresses[64]; /* "client.source_addresses", "" for none */
    size_t ncommand;           /* "server.command": the user's server, 0 for built-in */
    char command[CONFIG_MAX_ARGS][CONFIG_ARG_LEN];
    size_t nfiles; /* "server.files": templates written into {dir} */
    struct config_file files[CONFIG_MAX_FILES];
    char request[CONFIG_REQUEST_MAX + 1]; /* "client.request": sent after the handshake */
    size_t nsysctl;
    struct config_sysctl sysctl[CONFIG_MAX_SYSCTL];

    bool use_target;          /* true: "target", no built-in server */
    struct endpoint endpoint; /* server.address or target */

    struct {
        int backlog;
        int accept_delay_ms; /* 0 as fast as possible, -1 never */
        bool greeting;
        unsigned threads;
        unsigned ready_timeout_ms; /* server.command: wait this long for its listener */
        uint64_t log_max_bytes;    /* server.command: server.log kept to this, the tail */
        bool keep_dir;             /* server.command: keep {dir} after the point */
    } server;

    struct {
        double rate;
        uint64_t connections; /* 0: bounded by duration only */
        uint64_t duration_ms; /* 0: bounded by connections only */
        unsigned connect_timeout_ms;
        unsigned greeting_timeout_ms;
        unsigned request_bytes;
        bool expect_greeting;
        unsigned threads;                    /* event loops; default one per online CPU */
        unsigned max_in_flight;              /* 0: pure open loop */
        bool close_reset;                    /* close with RST (SO_LINGER 0) instead of FIN */
        uint32_t source_first;               /* source range: the last 32 bits (host order) of */
        uint32_t source_count;               /* source_base's address, count 0: none */
        struct sockaddr_storage source_base; /* family and the bits before them */
    } client;

    struct {
        char before[1024];    /* "hooks.before": a shell command in the point's namespace */
        char ready_line[128]; /* ready when its output has this, */
        char ready_file[512]; /* ... or when this file appears */
        unsigned ready_timeout_ms;
    } hooks;

    struct {
        bool pcap;           /* "capture.pcap": a packet capture per point, beside the results */
        unsigned snaplen;    /* bytes kept of each packet */
        unsigned buffer_kib; /* the kernel's ring for it */
    } capture;

    struct {
        unsigned accept_queue_ms; /* accept queue sampling interval */
        unsigned timeline_ms;     /* timeline row width */
    } sample;

    size_t nexpect;
    struct expect_bound expect[CONFIG_MAX_EXPECT];

    char output[PATH_MAX];
    char connections_file[PATH_MAX]; /* per-connection records, "" for none */
    unsigned repeat;                 /* runs of every point, each in a fresh namespace */
    char gate[512];                  /* "gate": metrics compare judges, "" for the default */
};

/* Parses a JSON file; syntax errors carry line and column. */
json_t *config_read_file(const char *path, char *err, size_t errlen);

/* Sets root[path] = value (value is stolen). The path is dotted
 * ("server.backlog"); "sysctl.<name>" addresses one sysctl whose name
 * itself has dots. Missing intermediate objects are created. */
int config_set_path(json_t *root, const char *path, json_t *value, char *err, size_t errlen);

/* Applies "KEY=VALUE" (VALUE parsed as JSON, else taken as a string). */
int config_apply_set(json_t *root, const char *assignment, char *err, size_t errlen);

/* Validates root (ignoring its "sweep", which the sweep module owns) into
 * cfg. source names the file in messages; default_name is used when the
 * config has no "name". */
int config_from_json(const json_t *root, const char *source, const char *default_name,
                     struct config *cfg, char *err, size_t errlen);

/* The effective config, defaults filled in. */
json_t *config_to_json(const struct config *cfg);

/* Whether path ("server.backlog", "sysctl.net.ipv4.tcp_synack_retries",
 * "expect.x") names something the config can hold; for_sweep: something a
 * sweep may vary. -1 with "path: reason (did you mean ...)" in err. */
int config_check_path(const char *path, bool for_sweep, char *err, size_t errlen);

/* One row of the config reference, for `help config` and the manual. */
struct config_ref {
    const char *path; /* "server.backlog" */
    const char *help; /* what it does */
    const char *def;  /* its default as JSON text, or NULL (none, or computed) */
    char range[96];   /* "[-1..2147483647]", "one of graceful, reset", or "" */
    bool sweepable;   /* a sweep may vary it */
};

/* The i-th key of the reference into row; false past the last. */
bool config_reference_row(size_t i, struct config_ref *row);

/* Every key with its meaning, range, default and whether it can be swept,
 * and every sysctl with its range, for --help. */
void config_print_reference(FILE *out);

/* Whether the client sends the first FIN of a graceful close: the built-in
 * server always closes first, and a server that was asked something
 * (client.request) is waited for; one that was asked nothing is told the
 * client is done. */
bool config_client_closes_first(const struct config *cfg);

/* The sources a client that closes first spreads over when
 * client.source_addresses is not given (IPv4 only). */
#define CONFIG_DEFAULT_SOURCES "127.0.0.1-127.0.0.64"

#endif
