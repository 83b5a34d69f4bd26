#include "obsstory.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "fate.h"
#include "histjson.h"
#include "histogram.h"
#include "outcome.h"
#include "rundoc.h"

/* Every time on one clock: ns from an instant well before the run, so a
 * time slightly before the run's origin stays positive and 0 can mean
 * "never", as in acceptobs and fate. */
#define BASE_NS 1000000000000000ULL

/* How far the server's clock may be behind the clients' (NTP keeps it to
 * milliseconds): a server socket first seen up to this long before the
 * client's connect() is still that connection's. A tuple is busy while a
 * client holds it, so only a reuse of the same source port within this
 * long before could be mistaken for it. */
#define SKEW_ALLOWED_NS (100ULL * 1000000ULL)

/* How far from a give-up's connect() the offset estimate looks for its
 * child: clocks further apart than this are not measured. */
#define OFFSET_SEARCH_NS (10ULL * 1000000000ULL)

struct conn {
    struct fate_conn c;
    uint64_t due_ns, giveup_ns;
    uint64_t raw_start_ns; /* start_ns before the skew allowance */
    size_t shard;
    int64_t corr_ns; /* added to its times: the shard's clock to the observer's */
    struct fate_result r;
};

static uint64_t at_ns(double shift_s, const json_t *us)
{
    if (!json_is_integer(us))
        return 0;
    return (uint64_t)((int64_t)BASE_NS + llround(shift_s * 1e9) +
                      (int64_t)json_integer_value(us) * 1000);
}

static bool tuple_of(const char *addr, long long port, struct story_tuple *t)
{
    memset(t, 0, sizeof(*t));
    if (!addr || port < 0 || port > 65535)
        return false;
    t->port = (uint16_t)port;
    if (inet_pton(AF_INET, addr, t->addr) == 1)
        t->family = AF_INET;
    else if (inet_pton(AF_INET6, addr, t->addr) == 1)
        t->family = AF_INET6;
    else
        return false;
    return true;
}

static double origin_of(const json_t *o)
{
    return rundoc_origin_s(o);
}

static void not_joined(json_t *run, const char *why)
{
    json_object_set_new(run, "story",
                        json_pack("{s:b, s:s, s:s}", "joined", 0, "method",
                                  "observer, joined in merge", "why", why));
}

/* The shards' give-ups, on the run's clock. false: some shard could not
 * keep all of them, or a row is malformed. */
static bool load_conns(json_t *const *shard_runs, size_t nshards, double origin, struct conn **out,
                       size_t *n)
{
    size_t total = 0, k = 0;

    *out = NULL;
    *n = 0;
    for (size_t s = 0; s < nshards; s++) {
        const json_t *g = json_object_get(shard_runs[s], "gave_up");
        long long gt = json_integer_value(
            json_object_get(json_object_get(shard_runs[s], "outcomes"), "greeting_timeout"));

        if (!json_is_object(g)) {
            if (gt == 0)
                continue; /* nothing to tell */
            return false;
        }
        if (!json_is_true(json_object_get(g, "complete")))
            return false;
        total += json_array_size(json_object_get(g, "rows"));
    }
    *out = calloc(total ? total : 1, sizeof(**out));
    if (!*out)
        return false;
    for (size_t s = 0; s < nshards; s++) {
        const json_t *rows = json_object_get(json_object_get(shard_runs[s], "gave_up"), "rows");
        double shift = origin_of(shard_runs[s]) - origin;

        for (size_t i = 0; i < json_array_size(rows); i++) {
            const json_t *r = json_array_get(rows, i);
            struct conn *c = &(*out)[k];

            if (json_array_size(r) != GAVE_UP_NFIELDS ||
                !tuple_of(json_string_value(json_array_get(r, 0)),
                          json_integer_value(json_array_get(r, 1)), &c->c.src))
                return false;
            c->shard = s;
            c->due_ns = at_ns(shift, json_array_get(r, 2));
            c->raw_start_ns = at_ns(shift, json_array_get(r, 3));
            /* a server socket of this connection may carry a time up to
             * the allowed skew before the client's start */
            c->c.start_ns = at_ns(shift, json_array_get(r, 3)) - SKEW_ALLOWED_NS;
            c->c.connect_ns = at_ns(shift, json_array_get(r, 4));
            c->giveup_ns = at_ns(shift, json_array_get(r, 5));
            c->c.release_ns = at_ns(shift, json_array_get(r, 6));
            c->c.answer_ns = at_ns(shift, json_array_get(r, 7));
            c->c.client_reset = json_is_true(json_array_get(r, 8));
            c->c.saw_reset = json_is_true(json_array_get(r, 9));
            if (!c->c.start_ns || !c->giveup_ns)
                return false;
            k++;
        }
    }
    *n = k;
    return true;
}

/* The observer's sockets, on the run's clock. */
static bool load_view(const json_t *obs, double origin, struct acceptobs_sock **socks,
                      struct fate_view *v)
{
    const json_t *a = json_object_get(obs, "accepts"), *rows = json_object_get(a, "sockets");
    double shift = origin_of(obs) - origin;
    size_t n = json_array_size(rows);

    memset(v, 0, sizeof(*v));
    *socks = calloc(n ? n : 1, sizeof(**socks));
    if (!*socks)
        return false;
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(rows, i);
        struct acceptobs_sock *s = &(*socks)[i];

        if (!tuple_of(json_string_value(json_array_get(r, 0)),
                      json_integer_value(json_array_get(r, 1)), &s->peer))
            return false;
        s->kind = (uint8_t)json_integer_value(json_array_get(r, 2));
        s->end = (uint8_t)json_integer_value(json_array_get(r, 3));
        s->last_state = (uint8_t)json_integer_value(json_array_get(r, 4));
        s->closed_by_owner = (uint8_t)json_integer_value(json_array_get(r, 5));
        s->synack_retrans = (uint8_t)json_integer_value(json_array_get(r, 6));
        s->before_ns = at_ns(shift, json_array_get(r, 7));
        s->first_ns = at_ns(shift, json_array_get(r, 8));
        s->queued_ns = at_ns(shift, json_array_get(r, 9));
        s->accepted_ns = at_ns(shift, json_array_get(r, 10));
        s->gone_ns = at_ns(shift, json_array_get(r, 11));
        s->born_request = json_is_true(json_array_get(r, 12));
    }
    v->socks = *socks;
    v->n = n;
    v->first_poll_ns = at_ns(shift, json_object_get(a, "first_poll_us"));
    v->last_poll_ns = at_ns(shift, json_object_get(a, "last_poll_us"));
    v->gap_ns_max = (uint64_t)json_integer_value(json_object_get(a, "gap_us_max")) * 1000;
    v->complete = json_is_true(json_object_get(a, "complete"));
    return v->first_poll_ns != 0;
}

/* Whether the clients' sources and the server's peers share an address:
 * with NAT between them the server sees other tuples, and every give-up
 * would look unseen (never accepted). */
static bool addresses_meet(const struct conn *c, size_t n, const struct fate_view *v)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < v->n; j++)
            if (c[i].c.src.family == v->socks[j].peer.family &&
                memcmp(c[i].c.src.addr, v->socks[j].peer.addr, 16) == 0)
                return true;
    return n == 0;
}

/* What one pair says of the offset: at most hi, at least lo (lo_known).
 * A socket seen first as a request (SYN_RECV) was there before the client
 * saw its handshake complete, and after its connect() sent the SYN: lo =
 * before - connect, hi = first - start. A socket first seen as a child
 * came after the completion (the ACK, or a later one that re-presented
 * it): hi = first - connect + lag (lag: how late the client's loop may
 * have noticed the completion). */
static int64_t hi_of(const struct obsstory_pair *p, int64_t lag_ns)
{
    return p->born_request ? p->first_ns - p->start_ns : p->first_ns - p->connect_ns + lag_ns;
}

static int by_hi(const void *pa, const void *pb, void *lag)
{
    int64_t x = hi_of(pa, *(int64_t *)lag), y = hi_of(pb, *(int64_t *)lag);

    return x < y ? -1 : x > y;
}

static int64_t lo_of(const struct obsstory_pair *p)
{
    return p->before_ns - p->connect_ns;
}

static int by_lo_desc(const void *pa, const void *pb)
{
    const struct obsstory_pair *a = pa, *b = pb;
    int a_ok = a->born_request, b_ok = b->born_request;

    if (a_ok != b_ok)
        return b_ok - a_ok; /* those with a lower bound first */
    if (!a_ok)
        return 0;
    return lo_of(a) > lo_of(b) ? -1 : lo_of(a) < lo_of(b);
}

/* The index of the first pair (in their order) that the next confirms:
 * its own bound within this one's poll bracket and the lag. A lone pair
 * far beyond the rest is another connection's socket on the same tuple. */
static size_t confirmed(const struct obsstory_pair *p, size_t n, int64_t lag_ns, bool upper)
{
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t d = upper ? hi_of(&p[i + 1], lag_ns) - hi_of(&p[i], lag_ns)
                          : lo_of(&p[i]) - lo_of(&p[i + 1]);

        if (!upper && !p[i + 1].born_request)
            break;
        if (d <= p[i].first_ns - p[i].before_ns + lag_ns)
            return i;
    }
    return 0;
}

void obsstory_offset(struct obsstory_pair *p, size_t n, int64_t lag_ns, struct obsstory_offset *out)
{
    size_t nreq = 0, k;

    memset(out, 0, sizeof(*out));
    if (n == 0)
        return;
    if (lag_ns < 0)
        lag_ns = 0;
    qsort(p, n, sizeof(*p), by_lo_desc);
    while (nreq < n && p[nreq].born_request)
        nreq++;
    out->pairs = n;
    out->lower_pairs = nreq;
    if (nreq) {
        out->min_ns = lo_of(&p[confirmed(p, nreq, lag_ns, false)]);
        out->lower_known = true;
    }
    qsort_r(p, n, sizeof(*p), by_hi, &lag_ns);
    /* with a lower bound, an upper one below it is another connection's
     * socket; without, the lowest that another pair confirms */
    for (k = 0; out->lower_known && k < n && hi_of(&p[k], lag_ns) < out->min_ns; k++)
        ;
    if (!out->lower_known || k == n) {
        out->lower_known = false;
        k = confirmed(p, n, lag_ns, true);
    }
    out->max_ns = hi_of(&p[k], lag_ns);
    if (!out->lower_known)
        out->min_ns = 0;
    out->offset_ns = out->lower_known ? out->min_ns + (out->max_ns - out->min_ns) / 2 : out->max_ns;
}

/* The sockets of the view by tuple, then first sighting. */
static int by_tuple_first(const void *pa, const void *pb, void *arg)
{
    const struct acceptobs_sock *v = arg;
    const struct acceptobs_sock *a = &v[*(const size_t *)pa], *b = &v[*(const size_t *)pb];
    int c = story_tuple_cmp(&a->peer, &b->peer);

    if (c)
        return c;
    return a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns;
}

/* The offset of each shard's clock: each give-up paired with the first
 * socket of its tuple seen within OFFSET_SEARCH_NS of its connect() (either
 * way). -1: out of memory. */
static int measure_offsets(const struct conn *c, size_t n, const struct fate_view *v,
                           json_t *const *shard_runs, size_t nshards, struct obsstory_offset *off)
{
    size_t *socks = malloc((v->n ? v->n : 1) * sizeof(*socks));
    struct obsstory_pair *p = malloc((n ? n : 1) * sizeof(*p));

    if (!socks || !p) {
        free(socks);
        free(p);
        return -1;
    }
    for (size_t j = 0; j < v->n; j++)
        socks[j] = j;
    qsort_r(socks, v->n, sizeof(*socks), by_tuple_first, (void *)v->socks);
    for (size_t s = 0; s < nshards; s++) {
        size_t np = 0;

        for (size_t i = 0; i < n; i++) {
            size_t lo = 0, hi = v->n;
            uint64_t from;

            if (c[i].shard != s || !c[i].c.connect_ns)
                continue;
            from = c[i].c.connect_ns > OFFSET_SEARCH_NS ? c[i].c.connect_ns - OFFSET_SEARCH_NS : 0;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const struct acceptobs_sock *k = &v->socks[socks[mid]];
                int cmp = story_tuple_cmp(&k->peer, &c[i].c.src);

                if (cmp < 0 || (cmp == 0 && k->first_ns < from))
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo < v->n) {
                const struct acceptobs_sock *k = &v->socks[socks[lo]];

                if (story_tuple_cmp(&k->peer, &c[i].c.src) == 0 &&
                    k->first_ns <= c[i].c.connect_ns + OFFSET_SEARCH_NS)
                    p[np++] = (struct obsstory_pair){
                        (int64_t)c[i].raw_start_ns, (int64_t)c[i].c.connect_ns,
                        (int64_t)(k->before_ns ? k->before_ns : k->first_ns), (int64_t)k->first_ns,
                        k->born_request != 0};
            }
        }
        /* how late the shard's loop noticed things: its schedule's worst lag */
        obsstory_offset(p, np,
                        (int64_t)json_integer_value(json_object_get(
                            json_object_get(shard_runs[s], "schedule_lag_us"), "max")) *
                            1000,
                        &off[s]);
    }
    free(socks);
    free(p);
    return 0;
}

static bool observer_says_births(const json_t *obs)
{
    const char *f = json_string_value(
        json_array_get(json_object_get(json_object_get(obs, "accepts"), "fields"), 12));

    return f && strcmp(f, "born_request") == 0;
}

static uint64_t moved(uint64_t t, int64_t by)
{
    return t ? (uint64_t)((int64_t)t + by) : 0;
}

static double ms_of(int64_t ns)
{
    return (double)llround((double)ns / 1e3) / 1e3;
}

/* Decides, per shard, whether its times move onto the observer's clock
 * (corr_ns), and says so in offsets (story.clock_offset_ms). false, with
 * why, when a shard's skew exceeds the allowance and is not known well
 * enough to correct. */
static bool align_clocks(struct conn *c, size_t n, const struct obsstory_offset *off,
                         size_t nshards, json_t *offsets, char *why, size_t whylen)
{
    const int64_t allowed = (int64_t)SKEW_ALLOWED_NS;
    bool ok = true;

    for (size_t s = 0; s < nshards; s++) {
        const struct obsstory_offset *o = &off[s];
        /* proven beyond the allowance, one way or the other */
        bool beyond = o->pairs && (o->max_ns < -allowed || (o->lower_known && o->min_ns > allowed));
        bool precise = o->lower_known && o->max_ns - o->min_ns <= 2 * allowed;
        bool correct = beyond && precise;
        json_t *row;

        if (!o->pairs) {
            json_array_append_new(offsets,
                                  json_pack("{s:I, s:I, s:n, s:b}", "shard", (json_int_t)s, "pairs",
                                            (json_int_t)0, "offset_ms", "corrected", 0));
            continue;
        }
        row = json_pack("{s:I, s:I, s:I, s:f, s:b}", "shard", (json_int_t)s, "pairs",
                        (json_int_t)o->pairs, "lower_pairs", (json_int_t)o->lower_pairs, "max_ms",
                        ms_of(o->max_ns), "corrected", correct);
        /* without a request seen before its handshake completed, only the
         * upper bound is known; a value only where the bounds pin it */
        json_object_set_new(row, "min_ms",
                            o->lower_known ? json_real(ms_of(o->min_ns)) : json_null());
        json_object_set_new(row, "offset_ms",
                            precise ? json_real(ms_of(o->offset_ns)) : json_null());
        json_array_append_new(offsets, row);
        if (beyond && !precise && ok) {
            if (o->lower_known)
                snprintf(why, whylen,
                         "shard %zu's clock is %.0f to %.0f ms off the observer's: beyond the "
                         "%.0f ms the join tolerates, and not known well enough to correct; "
                         "synchronize the clocks (NTP)",
                         s, ms_of(o->min_ns), ms_of(o->max_ns), (double)allowed / 1e6);
            else
                snprintf(why, whylen,
                         "the observer's clock is at least %.0f ms behind shard %zu's: beyond the "
                         "%.0f ms the join tolerates, and how far is not known (no request "
                         "socket seen to bound it); synchronize the clocks (NTP)",
                         -ms_of(o->max_ns), s, (double)allowed / 1e6);
            ok = false;
        }
        if (!correct)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (c[i].shard != s)
                continue;
            c[i].corr_ns = o->offset_ns;
            c[i].c.start_ns = moved(c[i].c.start_ns, o->offset_ns);
            c[i].raw_start_ns = moved(c[i].raw_start_ns, o->offset_ns);
            c[i].c.connect_ns = moved(c[i].c.connect_ns, o->offset_ns);
            c[i].c.release_ns = moved(c[i].c.release_ns, o->offset_ns);
            c[i].c.answer_ns = moved(c[i].c.answer_ns, o->offset_ns);
            c[i].due_ns = moved(c[i].due_ns, o->offset_ns);
            c[i].giveup_ns = moved(c[i].giveup_ns, o->offset_ns);
        }
    }
    return ok;
}

static int by_start_latest_first(const void *pa, const void *pb)
{
    const struct conn *a = pa, *b = pb;

    return a->c.start_ns > b->c.start_ns ? -1 : a->c.start_ns < b->c.start_ns;
}

static void add_count(json_t *obj, const char *key, long long d)
{
    json_object_set_new(obj, key, json_integer(json_integer_value(json_object_get(obj, key)) + d));
}

/* Moves one give-up from greeting_timeout to cls in the timeline row where
 * it ended. */
static void reclass_row(json_t *run, uint64_t giveup_ns, enum outcome cls)
{
    json_t *tl = json_object_get(run, "timeline");
    long long width = json_integer_value(json_object_get(run, "timeline_interval_ms"));
    long long t_ms = ((long long)giveup_ns - (long long)BASE_NS) / 1000000;
    /* giveup_ns is on the observer's clock when corrected: the caller
     * passes it back on the shard's, whose rows these are */
    size_t row;
    json_t *r;

    if (!json_is_array(tl) || width <= 0 || json_array_size(tl) == 0)
        return;
    row = t_ms < 0 ? 0 : (size_t)(t_ms / width);
    if (row >= json_array_size(tl))
        row = json_array_size(tl) - 1;
    r = json_array_get(tl, row);
    if (json_array_size(r) < 4 + OUTCOME_COUNT)
        return;
    json_array_set_new(
        r, 4 + OUTCOME_GREETING_TIMEOUT,
        json_integer(json_integer_value(json_array_get(r, 4 + OUTCOME_GREETING_TIMEOUT)) - 1));
    json_array_set_new(r, 4 + cls,
                       json_integer(json_integer_value(json_array_get(r, 4 + cls)) + 1));
}

/* The per-class latencies (due -> the client knew) follow their
 * connections: greeting_timeout is rebuilt from the give-ups still
 * unknown (it holds exactly the give-ups when every shard kept them all),
 * the two others get theirs added. */
static int move_latencies(json_t *run, const struct conn *c, size_t n)
{
    json_t *lat = json_object_get(run, "latency_us");
    const char *names[3] = {outcome_name(OUTCOME_GREETING_TIMEOUT),
                            outcome_name(OUTCOME_ACCEPTED_LATE),
                            outcome_name(OUTCOME_NEVER_ACCEPTED)};
    struct histogram *h = malloc(4 * sizeof(*h));

    if (!h)
        return -1;
    for (int k = 0; k < 3; k++)
        if (k == 0 || histogram_from_json(json_object_get(lat, names[k]), &h[k]) < 0)
            histogram_init(&h[k]);
    if (histogram_from_json(json_object_get(lat, "accepted_late_by"), &h[3]) < 0)
        histogram_init(&h[3]);
    for (size_t i = 0; i < n; i++) {
        uint64_t us = c[i].giveup_ns > c[i].due_ns ? (c[i].giveup_ns - c[i].due_ns) / 1000 : 0;
        int k = c[i].r.verdict == FATE_ACCEPTED ? 1 : c[i].r.verdict == FATE_NEVER_ACCEPTED ? 2 : 0;

        histogram_record(&h[k], us);
        if (k == 1)
            histogram_record(&h[3], c[i].r.accept_ns > c[i].giveup_ns
                                        ? (c[i].r.accept_ns - c[i].giveup_ns) / 1000
                                        : 0);
    }
    if (json_is_object(lat)) {
        /* only where the shards kept per-class latencies */
        for (int k = 0; k < 3; k++)
            if (json_object_get(lat, names[k]))
                json_object_set_new(lat, names[k], histogram_to_json(&h[k]));
        json_object_set_new(lat, "accepted_late_by", histogram_to_json(&h[3]));
    }
    free(h);
    return 0;
}

int obsstory_join(json_t *run, json_t *const *shard_runs, size_t nshards, json_t *const *observers,
                  size_t nobs, char *err, size_t errlen)
{
    struct conn *c = NULL;
    struct acceptobs_sock *socks = NULL;
    struct fate_view v;
    struct fate_index *x = NULL;
    size_t n = 0;
    double origin = origin_of(run);
    long long late = 0, never = 0, unknown = 0, causes[FATE_CAUSE_COUNT] = {0};
    json_t *outcomes = json_object_get(run, "outcomes"), *by_cause, *offsets = NULL;
    struct obsstory_offset *offs = NULL;
    char why[256];
    int rc = 0;

    if (nobs == 0)
        return 0;
    if (json_integer_value(json_object_get(outcomes, "greeting_timeout")) == 0)
        return 0; /* every connection's story is already known */
    if (nobs > 1) {
        not_joined(run, "more than one observer: which server each connection reached is "
                        "not recorded");
        return 0;
    }
    if (!load_conns(shard_runs, nshards, origin, &c, &n)) {
        not_joined(run, "a shard did not keep every connection it gave up on (runs[].gave_up "
                        "missing or incomplete)");
        goto out;
    }
    if (!load_view(observers[0], origin, &socks, &v)) {
        not_joined(run, "the observer's sockets could not be read");
        goto out;
    }
    if (!addresses_meet(c, n, &v)) {
        not_joined(run, "the server saw none of the clients' addresses (NAT between them?): "
                        "their tuples cannot be joined");
        goto out;
    }
    offs = calloc(nshards ? nshards : 1, sizeof(*offs));
    offsets = json_array();
    /* an observer older than born_request does not say which children were
     * requests first, whose first sighting bounds nothing from above: no
     * measurement then (pairs 0 for every shard) */
    if (!offs || !offsets ||
        (observer_says_births(observers[0]) &&
         measure_offsets(c, n, &v, shard_runs, nshards, offs) < 0)) {
        rc = errbuf_set(err, errlen, "out of memory joining the observer's accepts");
        goto out;
    }
    if (!align_clocks(c, n, offs, nshards, offsets, why, sizeof(why))) {
        not_joined(run, why);
        json_object_set(json_object_get(run, "story"), RD_STORY_CLOCK_OFFSET, offsets);
        goto out;
    }
    x = fate_index_new(&v);
    if (!x) {
        rc = errbuf_set(err, errlen, "out of memory joining the observer's accepts");
        goto out;
    }
    /* a child is claimed once: connections sharing a tuple, latest first */
    qsort(c, n, sizeof(*c), by_start_latest_first);
    for (size_t i = 0; i < n; i++) {
        fate_of(x, &c[i].c, &c[i].r);
        causes[c[i].r.cause]++;
        if (c[i].r.verdict == FATE_ACCEPTED) {
            late++;
            reclass_row(run, moved(c[i].giveup_ns, -c[i].corr_ns), OUTCOME_ACCEPTED_LATE);
        } else if (c[i].r.verdict == FATE_NEVER_ACCEPTED) {
            never++;
            reclass_row(run, moved(c[i].giveup_ns, -c[i].corr_ns), OUTCOME_NEVER_ACCEPTED);
        } else {
            unknown++;
        }
    }
    if (move_latencies(run, c, n) < 0) {
        rc = errbuf_set(err, errlen, "out of memory");
        goto out;
    }
    add_count(outcomes, outcome_name(OUTCOME_GREETING_TIMEOUT), -(late + never));
    add_count(outcomes, outcome_name(OUTCOME_ACCEPTED_LATE), late);
    add_count(outcomes, outcome_name(OUTCOME_NEVER_ACCEPTED), never);
    by_cause = json_object();
    for (int k = 1; k < FATE_CAUSE_COUNT; k++)
        if (causes[k])
            json_object_set_new(by_cause, fate_cause_name((enum fate_cause)k),
                                json_integer(causes[k]));
    json_object_set_new(run, "story",
                        json_pack("{s:b, s:s, s:I, s:I, s:I, s:o, s:b, s:f}", "joined", 1, "method",
                                  "observer, joined in merge", "accepted_late", (json_int_t)late,
                                  "never_accepted", (json_int_t)never, "unknown",
                                  (json_int_t)unknown, "causes", by_cause, "view_complete",
                                  v.complete, "clock_skew_allowed_ms",
                                  (double)SKEW_ALLOWED_NS / 1e6));
    json_object_set(json_object_get(run, "story"), RD_STORY_CLOCK_OFFSET, offsets);
out:
    json_decref(offsets);
    free(offs);
    fate_index_free(x);
    free(c);
    free(socks);
    return rc;
}
