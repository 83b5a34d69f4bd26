#include "fate.h"

#include <stdlib.h>
#include <string.h>

struct fate_index {
    struct fate_view v;
    uint32_t *order; /* indices into v.socks, by tuple then first_ns */
    size_t n;
    bool *used;
};

static int cmp_sock(const void *pa, const void *pb, void *arg)
{
    const struct acceptobs_sock *s = arg;
    const struct acceptobs_sock *a = &s[*(const uint32_t *)pa], *b = &s[*(const uint32_t *)pb];
    int c = story_tuple_cmp(&a->peer, &b->peer);

    if (c)
        return c;
    return a->first_ns < b->first_ns ? -1 : a->first_ns > b->first_ns;
}

struct fate_index *fate_index_new(const struct fate_view *v)
{
    struct fate_index *x = calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->v = *v;
    x->n = v->n;
    x->order = malloc((v->n ? v->n : 1) * sizeof(*x->order));
    x->used = calloc(v->n ? v->n : 1, sizeof(*x->used));
    if (!x->order || !x->used) {
        fate_index_free(x);
        return NULL;
    }
    for (size_t i = 0; i < v->n; i++)
        x->order[i] = (uint32_t)i;
    qsort_r(x->order, v->n, sizeof(*x->order), cmp_sock, (void *)v->socks);
    return x;
}

void fate_index_free(struct fate_index *x)
{
    if (!x)
        return;
    free(x->order);
    free(x->used);
    free(x);
}

/* The first position of tuple t with first_ns >= from. */
static size_t lower_bound(const struct fate_index *x, const struct story_tuple *t, uint64_t from)
{
    size_t lo = 0, hi = x->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct acceptobs_sock *s = &x->v.socks[x->order[mid]];
        int c = story_tuple_cmp(&s->peer, t);

        if (c < 0 || (c == 0 && s->first_ns < from))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void accepted(struct fate_result *r, enum fate_cause cause, uint64_t lo, uint64_t hi,
                     const struct fate_conn *c)
{
    /* a child exists only once the handshake completed; an answer read
     * means the server had accepted before it */
    if (c->connect_ns && lo < c->connect_ns)
        lo = c->connect_ns;
    if (c->answer_ns && hi > c->answer_ns)
        hi = c->answer_ns;
    if (hi < lo)
        hi = lo;
    r->verdict = FATE_ACCEPTED;
    r->cause = (uint8_t)cause;
    r->accept_ns = lo + (hi - lo) / 2;
    r->precision_ns = (hi - lo + 1) / 2;
}

void fate_of(struct fate_index *x, const struct fate_conn *c, struct fate_result *r)
{
    /* the client holds the tuple until its release, and after a graceful
     * close its kernel still does (the orphan retransmits its FIN, whose
     * ACK can complete a dropped or cookie handshake: the child then
     * appears 0.2, 0.6, 1.4, 3 s ... after the release); a child may show
     * up in the dump after that (a poll later) */
    uint64_t held = c->release_ns && !c->client_reset ? FATE_ORPHAN_HOLD_NS : 0;
    uint64_t until = (c->release_ns ? c->release_ns + held : x->v.last_poll_ns) + x->v.gap_ns_max +
                     x->v.gap_ns_max;
    const struct acceptobs_sock *request = NULL;

    memset(r, 0, sizeof(*r));
    for (size_t i = lower_bound(x, &c->src, c->start_ns); i < x->n; i++) {
        const struct acceptobs_sock *s = &x->v.socks[x->order[i]];

        if (story_tuple_cmp(&s->peer, &c->src) != 0 || s->first_ns > until)
            break;
        if (x->used[x->order[i]])
            continue;
        if (s->kind == ACCEPTOBS_REQUEST) {
            if (!request)
                request = s;
            /* the server forgot it: a FIN after that is answered with an
             * RST, which frees the tuple for another connection */
            if (s->gone_ns && c->release_ns) {
                uint64_t end = (s->gone_ns > c->release_ns ? s->gone_ns : c->release_ns) +
                               x->v.gap_ns_max + x->v.gap_ns_max;

                if (end < until)
                    until = end;
            }
            continue;
        }
        x->used[x->order[i]] = true;
        if (s->accepted_ns) {
            accepted(r, s->closed_by_owner ? FATE_CAUSE_CLOSED_BY_OWNER : FATE_CAUSE_FILE,
                     s->queued_ns ? s->queued_ns : s->before_ns, s->accepted_ns, c);
            return;
        }
        /* a child still queued when its listener closes is reset, never
         * closed in order: an answer or a FIN the client read came from an
         * application that took it after the last dump that saw it queued */
        if (s->end == ACCEPTOBS_GONE_NO_LISTENER && c->late_ns && !c->saw_reset) {
            accepted(r, FATE_CAUSE_CLIENT_READ, s->queued_ns ? s->queued_ns : s->before_ns,
                     s->gone_ns && s->gone_ns < c->late_ns ? s->gone_ns : c->late_ns, c);
            return;
        }
        if (s->end == ACCEPTOBS_GONE_NO_LISTENER) {
            r->verdict = FATE_NEVER_ACCEPTED;
            r->cause = FATE_CAUSE_LISTENER_CLOSED;
            return;
        }
        /* a queued child left with the listener open: accepted and closed
         * between two dumps, unless a reset took it (then it cannot be
         * told from an accept that closed with unread data) */
        if (s->end == ACCEPTOBS_GONE_QUEUED && !c->saw_reset &&
            !(c->client_reset && c->release_ns && s->gone_ns >= c->release_ns)) {
            accepted(r, FATE_CAUSE_LEFT_QUEUE, s->queued_ns ? s->queued_ns : s->before_ns,
                     s->gone_ns, c);
            return;
        }
        return; /* still queued when the polls ended, or reset: unknown */
    }
    if (!c->connect_ns)
        return;
    /* no dump saw a child, yet the client read an answer or a close: a
     * child accepted and closed between two dumps (the server had none
     * while the client's bytes went unacknowledged) */
    if (c->late_ns) {
        accepted(r, FATE_CAUSE_CLIENT_READ, c->unacked_ns, c->late_ns, c);
        return;
    }
    if (!x->v.complete)
        return;
    if (request && request->gone_ns) {
        r->verdict = FATE_NEVER_ACCEPTED;
        r->cause = FATE_CAUSE_REQUEST_EXPIRED;
        return;
    }
    /* no server socket in any dump while the client held the connection
     * established: the polls must have covered that time, with at least
     * one dump inside it (it lasted longer than the longest gap) */
    if (!request && c->release_ns && !c->released_unacked && x->v.first_poll_ns <= c->connect_ns &&
        x->v.last_poll_ns >= c->release_ns && c->release_ns - c->connect_ns > x->v.gap_ns_max) {
        r->verdict = FATE_NEVER_ACCEPTED;
        r->cause = FATE_CAUSE_NO_SERVER_SOCKET;
    }
}

const char *fate_cause_name(enum fate_cause c)
{
    static const char *const names[FATE_CAUSE_COUNT] = {
        [FATE_CAUSE_NONE] = "none",
        [FATE_CAUSE_FILE] = "file",
        [FATE_CAUSE_CLOSED_BY_OWNER] = "closed_by_owner",
        [FATE_CAUSE_LEFT_QUEUE] = "left_queue",
        [FATE_CAUSE_LISTENER_CLOSED] = "listener_closed",
        [FATE_CAUSE_REQUEST_EXPIRED] = "request_expired",
        [FATE_CAUSE_NO_SERVER_SOCKET] = "no_server_socket",
        [FATE_CAUSE_CLIENT_READ] = "client_read",
    };

    return (unsigned)c < FATE_CAUSE_COUNT ? names[c] : "unknown";
}
