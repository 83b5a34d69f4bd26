/* qseries: a queue's length over time, in bounded memory. Filled by the
 * runner from whatever samples the queue (TCP_INFO on the listener, or
 * sock_diag), turned into accept_queue.samples by report. Pure. */
#ifndef QB_QSERIES_H
#define QB_QSERIES_H

#include <stddef.h>
#include <stdint.h>

/* When the series
 * is full, neighbouring samples are merged (keeping the larger length) and
 * the sampling stride doubles, so a long run keeps its peaks. */
#define QUEUE_SERIES_CAP 4096

struct queue_series {
    size_t n;
    unsigned stride; /* ticks per stored sample */
    unsigned pending_ticks;
    uint32_t pending_max;
    uint32_t pending_t_ms;
    uint32_t max;
    uint32_t t_ms[QUEUE_SERIES_CAP];
    uint32_t length[QUEUE_SERIES_CAP];
};

void queue_series_init(struct queue_series *q);
/* One sampling tick at t_ms with the queue at length. */
void queue_series_add(struct queue_series *q, uint32_t t_ms, uint32_t length);
/* Stores a partly filled last stride. */
void queue_series_flush(struct queue_series *q);

#endif
