/* records: the per-connection file (--connections FILE, or the config's
 * connections_file): one line per attempt, CSV or JSON Lines by the file's
 * extension, for joining with server logs and packet captures.
 *
 * Columns: point (1-based sweep point), repeat (1-based; only when the
 * point runs more than once), src, port (the client's address and
 * port, as the server and a capture see them), due_ms, start_ms,
 * connect_ms, first_byte_ms, end_ms (from the point's schedule origin; empty
 * when it did not happen), outcome, errno, syn_retransmits,
 * synack_retransmits and accept_ms (from the server's side, when known).
 *
 * The client threads stream binary records to temporary files while they
 * run (memory stays flat); this module reads them back after the point,
 * joins each with the server's accept log, and writes the lines through
 * safefile, so the file is whole or absent. */
#ifndef QB_RECORDS_H
#define QB_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "story.h"

struct records;

/* One attempt, as the client saw it: the binary record each client thread
 * streams to its records file descriptor while it runs, which
 * records_add_point turns into the lines of the --connections file. */
struct client_record {
    struct story_tuple src; /* source address and port (family 0: no socket) */
    uint64_t due_ns, start_ns, connect_ns, first_byte_ns, end_ns; /* 0: did not happen */
    int32_t err;          /* errno or OUTCOME_ERR_*, 0 for success */
    uint32_t gave_up_idx; /* index into client_gave_up(), UINT32_MAX if none */
    uint16_t syn_retrans;
    uint8_t outcome; /* enum outcome as the client saw it */
};

/* 0 CSV (.csv), 1 JSON Lines (.jsonl or .ndjson), -1 neither. */
int records_format_of(const char *path);

/* Opens the output (through safefile: check the path first). */
struct records *records_open(const char *path, char *err, size_t errlen);

/* What one point contributes. */
struct records_point {
    size_t point;         /* 1-based */
    uint64_t origin_ns;   /* times are written relative to this */
    FILE *const *threads; /* each client thread's binary records */
    size_t nthreads;
    const struct story_gave_up *gave_up; /* all threads', classified */
    const size_t *gave_up_offset;        /* where each thread's start in gave_up */
    bool joined;                         /* gave_up and log hold the server's side */
    struct story_log *log;               /* the server's accepts, sorted (NULL: target) */
    unsigned repeat, nrepeats;           /* 1-based, of how many (0 or 1: no repeat column) */
    /* a server not ours: when the kernel showed an established connection
     * accepted (0: not seen), or NULL */
    uint64_t (*accept_of)(void *arg, const struct client_record *c);
    void *accept_arg;
};

/* Appends the lines of one point; counts[] (by enum outcome) gets the
 * outcome of every line written. */
int records_add_point(struct records *r, const struct records_point *p, uint64_t *counts, char *err,
                      size_t errlen);

int records_commit(struct records *r, char *err, size_t errlen);
void records_abort(struct records *r);

#endif
