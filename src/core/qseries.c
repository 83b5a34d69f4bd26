#include "qseries.h"

#include <string.h>

void queue_series_init(struct queue_series *q)
{
    memset(q, 0, sizeof(*q));
    q->stride = 1;
}

static void queue_series_store(struct queue_series *q)
{
    if (q->n == QUEUE_SERIES_CAP) {
        for (size_t i = 0; i < QUEUE_SERIES_CAP / 2; i++) {
            uint32_t a = q->length[2 * i], b = q->length[2 * i + 1];

            q->t_ms[i] = q->t_ms[2 * i];
            q->length[i] = a > b ? a : b;
        }
        q->n = QUEUE_SERIES_CAP / 2;
        q->stride *= 2;
    }
    q->t_ms[q->n] = q->pending_t_ms;
    q->length[q->n++] = q->pending_max;
    q->pending_ticks = 0;
    q->pending_max = 0;
}

void queue_series_add(struct queue_series *q, uint32_t t_ms, uint32_t length)
{
    if (q->pending_ticks == 0)
        q->pending_t_ms = t_ms;
    if (length > q->pending_max)
        q->pending_max = length;
    if (length > q->max)
        q->max = length;
    if (++q->pending_ticks >= q->stride)
        queue_series_store(q);
}

void queue_series_flush(struct queue_series *q)
{
    if (q->pending_ticks)
        queue_series_store(q);
}
