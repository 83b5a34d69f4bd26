#include "shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errbuf.h"

static double realtime_now(void)
{
    struct timespec rt;

    clock_gettime(CLOCK_REALTIME, &rt);
    return (double)rt.tv_sec + (double)rt.tv_nsec / 1e9;
}

int shard_parse(const char *text, struct shard *s, char *err, size_t errlen)
{
    char *end;
    unsigned long i, n;

    errno = 0;
    i = strtoul(text, &end, 10);
    if (end == text || *end != '/' || errno)
        return errbuf_set(err, errlen, "--shard %s: expected I/N, e.g. 0/4", text);
    n = strtoul(end + 1, &end, 10);
    if (*end != '\0' || errno || n < 1 || n > 1000 || i >= n)
        return errbuf_set(err, errlen, "--shard %s: expected I/N with 0 <= I < N <= 1000", text);
    s->index = (unsigned)i;
    s->count = (unsigned)n;
    return 0;
}

int shard_parse_time(const char *text, double *epoch, char *err, size_t errlen)
{
    struct tm tm;
    char *end;
    double frac = 0;
    long off = 0;
    const char *p;

    errno = 0;
    *epoch = strtod(text, &end);
    if (end != text && *end == '\0' && !errno && *epoch > 0)
        return shard_check_start(text, *epoch, realtime_now(), err, errlen);
    if (end != text && *end == '\0')
        return errbuf_set(err, errlen,
                          "--start-at %s: not a time qbench can wait for (epoch "
                          "seconds must be a finite number > 0)",
                          text);
    memset(&tm, 0, sizeof(tm));
    p = strptime(text, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!p)
        return errbuf_set(err, errlen,
                          "--start-at %s: expected RFC 3339 "
                          "(2026-11-26T02:00:00Z) or epoch seconds",
                          text);
    if (*p == '.') {
        frac = strtod(p, &end);
        p = end;
    }
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        off = (strtol(p + 1, NULL, 10) * 60 + strtol(p + 4, NULL, 10)) * 60;
        off = *p == '-' ? -off : off;
        p += 6;
    } else {
        return errbuf_set(err, errlen, "--start-at %s: needs a zone (Z or +HH:MM)", text);
    }
    if (*p)
        return errbuf_set(err, errlen, "--start-at %s: trailing text", text);
    *epoch = (double)timegm(&tm) - (double)off + frac;
    return shard_check_start(text, *epoch, realtime_now(), err, errlen);
}

int shard_check_start(const char *text, double epoch, double now, char *err, size_t errlen)
{
    /* NaN fails every comparison: test for the good range, not the bad */
    if (!(epoch > 0 && epoch < 9.0e15))
        return errbuf_set(err, errlen, "--start-at %s: outside the clock's range", text);
    if (!(epoch <= now + SHARD_START_HORIZON_S))
        return errbuf_set(err, errlen,
                          "--start-at %s: %.0f s from now, more than the %d days "
                          "qbench will wait (a typo in the date?)",
                          text, epoch - now, SHARD_START_HORIZON_S / 86400);
    return 0;
}

int shard_from_env(struct shard *s, char *err, size_t errlen)
{
    const char *sh = getenv("QBENCH_SHARD"), *idx = getenv("JOB_COMPLETION_INDEX"),
               *n = getenv("QBENCH_SHARDS"), *at = getenv("QBENCH_START_AT");
    char text[64];

    if (s->count <= 1 && sh && !*sh)
        return errbuf_set(err, errlen, "QBENCH_SHARD is set but empty: expected I/N, e.g. 0/4");
    if (s->count <= 1 && sh && *sh && shard_parse(sh, s, err, errlen) < 0)
        return -1;
    /* An Indexed Job whose pods do not know how many they are would run
     * the whole load on every pod: half a setting is refused, not guessed. */
    if (s->count <= 1 && idx && (!n || !*n))
        return errbuf_set(err, errlen,
                          "JOB_COMPLETION_INDEX=%.8s is set but QBENCH_SHARDS is "
                          "not: every pod would run the whole load; set "
                          "QBENCH_SHARDS to the Job's completions (or unset "
                          "JOB_COMPLETION_INDEX)",
                          idx);
    if (s->count <= 1 && n && (!idx || !*idx) && !(sh && *sh))
        return errbuf_set(err, errlen,
                          "QBENCH_SHARDS=%.8s is set but JOB_COMPLETION_INDEX is "
                          "%s: this pod does not know its shard; give --shard I/N",
                          n, idx ? "empty" : "not set");
    if (s->count <= 1 && idx && *idx && n && *n) {
        snprintf(text, sizeof(text), "%s/%s", idx, n);
        if (shard_parse(text, s, err, errlen) < 0)
            return errbuf_set(err, errlen,
                              "JOB_COMPLETION_INDEX=%.8s with QBENCH_SHARDS=%.8s: "
                              "expected 0 <= index < shards <= 1000",
                              idx, n);
    }
    if (!s->has_start && at && *at) {
        if (shard_parse_time(at, &s->start_epoch, err, errlen) < 0)
            return -1;
        s->has_start = true;
    }
    return 0;
}

unsigned shard_stream(const struct shard *s, unsigned t, unsigned nthreads)
{
    (void)nthreads;
    return t * (s->count ? s->count : 1) + s->index;
}

unsigned shard_streams(const struct shard *s, unsigned nthreads)
{
    return nthreads * (s->count ? s->count : 1);
}

int shard_sources(const struct shard *s, uint32_t first, uint32_t count, uint32_t *sfirst,
                  uint32_t *scount)
{
    uint64_t lo, hi, n = s->count ? s->count : 1;

    if (count == 0) {
        *sfirst = first;
        *scount = 0;
        return 0;
    }
    if (count < n)
        return -1;
    lo = (uint64_t)count * s->index / n;
    hi = (uint64_t)count * (s->index + 1) / n;
    *sfirst = first + (uint32_t)lo;
    *scount = (uint32_t)(hi - lo);
    return 0;
}

uint64_t shard_start_mono_ns(const struct shard *s, uint64_t mono_now_ns, double real_now)
{
    double ahead = s->start_epoch - real_now;

    if (!s->has_start || ahead <= 0)
        return mono_now_ns;
    return mono_now_ns + (uint64_t)(ahead * 1e9);
}
