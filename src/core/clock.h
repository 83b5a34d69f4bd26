/* clock: the monotonic time base every timestamp in a run is taken from. */
#ifndef QB_CLOCK_H
#define QB_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define NS_PER_US 1000ULL
#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t clock_now_ns(void);

/* CPU time the calling thread has used, user and system, in ns: what a
 * syscall really cost, without the time it waited for a CPU. */
uint64_t clock_thread_cpu_ns(void);

/* Current wall-clock time as ISO 8601 UTC ("2026-11-24T10:00:00Z"). */
void clock_iso8601(char *buf, size_t len);

#endif
