#include "tally.h"

#include <stdlib.h>
#include <string.h>

int tally_init(struct tally *t, uint64_t start_ns, uint64_t interval_ns, uint64_t expected_ns)
{
    memset(t, 0, sizeof(*t));
    histogram_init(&t->connect_us);
    histogram_init(&t->late_by_us);
    histogram_init(&t->accept_us);
    histogram_init(&t->lag_us);
    for (int i = 0; i < OUTCOME_COUNT; i++)
        histogram_init(&t->class_us[i]);
    for (int i = 0; i < OUTCOME_RETRANS_SLOTS; i++)
        histogram_init(&t->connect_by_retrans[i]);
    t->first_ns = UINT64_MAX;
    t->timeline.start_ns = start_ns;
    t->timeline.interval_ns = interval_ns ? interval_ns : 1;
    t->timeline.cap = (size_t)(expected_ns / t->timeline.interval_ns) + 16;
    t->timeline.rows = calloc(t->timeline.cap, sizeof(*t->timeline.rows));
    return t->timeline.rows ? 0 : -1;
}

void tally_destroy(struct tally *t)
{
    free(t->timeline.rows);
    t->timeline.rows = NULL;
}

/* The row for time now, growing the timeline when the run outlasts its
 * estimate (amortised: once per doubling, not per connection). */
static struct timeline_row *timeline_row(struct timeline *tl, uint64_t now_ns)
{
    size_t idx = now_ns > tl->start_ns ? (size_t)((now_ns - tl->start_ns) / tl->interval_ns) : 0;

    if (idx >= tl->cap) {
        size_t cap = tl->cap * 2 > idx + 1 ? tl->cap * 2 : idx + 16;
        struct timeline_row *rows = realloc(tl->rows, cap * sizeof(*rows));

        if (!rows)
            return NULL;
        memset(rows + tl->cap, 0, (cap - tl->cap) * sizeof(*rows));
        tl->rows = rows;
        tl->cap = cap;
    }
    if (idx + 1 > tl->len)
        tl->len = idx + 1;
    return &tl->rows[idx];
}

void tally_attempt(struct tally *t, uint64_t now_ns)
{
    struct timeline_row *row = timeline_row(&t->timeline, now_ns);

    if (row)
        row->attempted++;
    if (now_ns < t->first_ns)
        t->first_ns = now_ns;
}

void tally_outcome(struct tally *t, enum outcome o, int err, uint64_t now_ns)
{
    struct timeline_row *row = timeline_row(&t->timeline, now_ns);

    t->outcomes[o]++;
    if (o == OUTCOME_ERROR)
        t->errors[outcome_err_slot(err)]++;
    if (row) {
        if (o == OUTCOME_ESTABLISHED)
            row->established++;
        else
            row->failed++;
        row->by_class[o]++;
    }
    if (now_ns > t->last_ns)
        t->last_ns = now_ns;
}

void tally_retrans(struct tally *t, unsigned retransmits, bool failed)
{
    (failed ? t->retrans_failed : t->retrans)[outcome_retrans_slot(retransmits)]++;
}

void tally_handshake(struct tally *t, uint64_t latency_us, unsigned retransmits)
{
    histogram_record(&t->connect_us, latency_us);
    histogram_record(&t->connect_by_retrans[outcome_retrans_slot(retransmits)], latency_us);
    tally_retrans(t, retransmits, false);
}

uint64_t tally_attempted(const struct tally *t)
{
    uint64_t n = 0;

    for (int i = 0; i < OUTCOME_COUNT; i++)
        n += t->outcomes[i];
    return n;
}

int tally_merge(struct tally *dst, const struct tally *src)
{
    for (int i = 0; i < OUTCOME_COUNT; i++)
        dst->outcomes[i] += src->outcomes[i];
    for (int i = 0; i < OUTCOME_ERR_SLOTS; i++)
        dst->errors[i] += src->errors[i];
    for (int i = 0; i < OUTCOME_RETRANS_SLOTS; i++) {
        dst->retrans[i] += src->retrans[i];
        dst->retrans_failed[i] += src->retrans_failed[i];
    }
    histogram_merge(&dst->connect_us, &src->connect_us);
    histogram_merge(&dst->late_by_us, &src->late_by_us);
    histogram_merge(&dst->accept_us, &src->accept_us);
    histogram_merge(&dst->lag_us, &src->lag_us);
    for (int i = 0; i < OUTCOME_COUNT; i++)
        histogram_merge(&dst->class_us[i], &src->class_us[i]);
    for (int i = 0; i < OUTCOME_RETRANS_SLOTS; i++)
        histogram_merge(&dst->connect_by_retrans[i], &src->connect_by_retrans[i]);
    if (src->first_ns < dst->first_ns)
        dst->first_ns = src->first_ns;
    if (src->last_ns > dst->last_ns)
        dst->last_ns = src->last_ns;
    if (src->timeline.len > 0) {
        uint64_t at = dst->timeline.start_ns + (src->timeline.len - 1) * dst->timeline.interval_ns;

        if (!timeline_row(&dst->timeline, at))
            return -1;
    }
    for (size_t i = 0; i < src->timeline.len; i++) {
        dst->timeline.rows[i].attempted += src->timeline.rows[i].attempted;
        dst->timeline.rows[i].established += src->timeline.rows[i].established;
        dst->timeline.rows[i].failed += src->timeline.rows[i].failed;
        for (int k = 0; k < OUTCOME_COUNT; k++)
            dst->timeline.rows[i].by_class[k] += src->timeline.rows[i].by_class[k];
    }
    return 0;
}

void tally_reclass(struct tally *t, uint64_t at_ns, enum outcome from, enum outcome to)
{
    struct timeline_row *row = timeline_row(&t->timeline, at_ns);

    if (t->outcomes[from] == 0)
        return;
    t->outcomes[from]--;
    t->outcomes[to]++;
    if (row && row->by_class[from]) {
        row->by_class[from]--;
        row->by_class[to]++;
    }
}
