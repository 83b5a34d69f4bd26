#include "story.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

void story_tuple_of(const struct sockaddr *sa, struct story_tuple *t)
{
    memset(t, 0, sizeof(*t));
    t->family = (uint8_t)sa->sa_family;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

        memcpy(t->addr, &in->sin_addr, 4);
        t->port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

        memcpy(t->addr, &in6->sin6_addr, 16);
        t->port = ntohs(in6->sin6_port);
    }
}

int story_log_add(struct story_log *log, const struct story_accept *a)
{
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 256;
        struct story_accept *v = realloc(log->v, cap * sizeof(*v));

        if (!v)
            return -1;
        log->v = v;
        log->cap = cap;
    }
    log->v[log->n++] = *a;
    return 0;
}

int story_log_take(struct story_log *dst, struct story_log *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (story_log_add(dst, &src->v[i]) < 0)
            return -1;
    story_log_free(src);
    return 0;
}

void story_log_free(struct story_log *log)
{
    free(log->v);
    memset(log, 0, sizeof(*log));
}

int story_tuple_cmp(const struct story_tuple *a, const struct story_tuple *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    if (a->port != b->port)
        return a->port < b->port ? -1 : 1;
    return memcmp(a->addr, b->addr, sizeof(a->addr));
}

static int cmp_accept(const void *pa, const void *pb)
{
    const struct story_accept *a = pa, *b = pb;
    int c = story_tuple_cmp(&a->peer, &b->peer);

    if (c)
        return c;
    return a->ns < b->ns ? -1 : a->ns > b->ns;
}

void story_log_sort(struct story_log *log)
{
    if (log->n > 1)
        qsort(log->v, log->n, sizeof(log->v[0]), cmp_accept);
}

struct story_accept *story_find(struct story_log *log, const struct story_tuple *t,
                                uint64_t from_ns, uint64_t to_ns, bool late_only)
{
    size_t lo = 0, hi = log->n;

    /* the first accept of tuple t at or after from_ns */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = story_tuple_cmp(&log->v[mid].peer, t);

        if (c < 0 || (c == 0 && log->v[mid].ns < from_ns))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < log->n && story_tuple_cmp(&log->v[i].peer, t) == 0; i++) {
        struct story_accept *a = &log->v[i];

        if (a->ns > to_ns)
            break;
        if (a->used || (late_only && !a->late))
            continue;
        a->used = true;
        return a;
    }
    return NULL;
}

static int cmp_latest_first(const void *pa, const void *pb, void *base)
{
    const struct story_gave_up *g = base;
    uint64_t a = g[*(const size_t *)pa].start_ns, b = g[*(const size_t *)pb].start_ns;

    return a > b ? -1 : a < b;
}

int story_classify(struct story_log *log, struct story_gave_up *g, size_t n, uint64_t *late,
                   uint64_t *never, struct histogram *late_by)
{
    size_t *order = malloc((n ? n : 1) * sizeof(*order));

    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof(*order), cmp_latest_first, g);
    for (size_t k = 0; k < n; k++) {
        struct story_gave_up *c = &g[order[k]];
        struct story_accept *a = story_find(log, &c->src, c->start_ns, UINT64_MAX, true);

        c->accepted = a != NULL;
        if (!a) {
            (*never)++;
            continue;
        }
        (*late)++;
        c->accept_ns = a->ns;
        c->synack_retrans = a->synack_retrans;
        histogram_record(late_by, a->ns > c->giveup_ns ? (a->ns - c->giveup_ns) / NS_PER_US : 0);
    }
    free(order);
    return 0;
}
