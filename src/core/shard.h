/* shard: one machine's part of an experiment spread over several (a
 * Kubernetes Indexed Job, say). Shard I of N runs the same config with
 * every client thread t owning schedule stream t*N + I of N*T, so the union
 * of all shards is the very open-loop sequence one client at the full rate
 * would make (connection g due at start + g/rate, owned by stream g mod
 * N*T): rate/N and connections/N each, interleaved, not in bursts. Its
 * client.source_addresses are the I-th of N disjoint slices. --start-at
 * puts the schedule's origin at a wall-clock instant, so shards on
 * different machines start together. Pure but for reading the clocks. */
#ifndef QB_SHARD_H
#define QB_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct shard {
    unsigned index; /* 0-based, as JOB_COMPLETION_INDEX */
    unsigned count; /* 1: not sharded */
    bool has_start;
    double start_epoch; /* seconds since the epoch (realtime) */
};

/* "I/N" (0 <= I < N <= 1000). */
int shard_parse(const char *text, struct shard *s, char *err, size_t errlen);

/* From the environment when no --shard was given: QBENCH_SHARD="I/N", or
 * JOB_COMPLETION_INDEX with QBENCH_SHARDS=N; and QBENCH_START_AT. */
int shard_from_env(struct shard *s, char *err, size_t errlen);

/* RFC 3339 ("2026-11-26T02:00:00Z", "...T02:00:00.5+01:00") or epoch
 * seconds ("1795658400.25"); refused beyond shard_check_start's range. */
int shard_parse_time(const char *text, double *epoch, char *err, size_t errlen);

/* How far ahead a start instant may be: further is a typo, not a plan. */
#define SHARD_START_HORIZON_S (7 * 86400)

/* 0 when epoch is a start instant qbench can wait for given the realtime
 * clock now: finite, within time_t, at most SHARD_START_HORIZON_S ahead
 * (text names it in err). Pure. */
int shard_check_start(const char *text, double epoch, double now, char *err, size_t errlen);

/* The schedule stream of client thread t of nthreads, and their number. */
unsigned shard_stream(const struct shard *s, unsigned t, unsigned nthreads);
unsigned shard_streams(const struct shard *s, unsigned nthreads);

/* This shard's slice of a source range [first, first + count): -1 when
 * there are fewer addresses than shards. */
int shard_sources(const struct shard *s, uint32_t first, uint32_t count, uint32_t *sfirst,
                  uint32_t *scount);

/* The CLOCK_MONOTONIC time of the start instant, given both clocks now. */
uint64_t shard_start_mono_ns(const struct shard *s, uint64_t mono_now_ns, double real_now);

#endif
