#include "schedule.h"

#include "clock.h"

void schedule_init(struct schedule *s, double rate, unsigned stream, unsigned nstreams,
                   uint64_t total, uint64_t duration_ns, uint64_t start_ns)
{
    s->start_ns = start_ns;
    s->rate = rate;
    s->stream = stream;
    s->nstreams = nstreams ? nstreams : 1;
    s->next = 0;
    s->stopped = false;
    if (total == SCHEDULE_UNLIMITED)
        s->limit = SCHEDULE_UNLIMITED;
    else if (total <= stream)
        s->limit = 0;
    else
        s->limit = (total - stream + s->nstreams - 1) / s->nstreams;
    s->end_ns = duration_ns ? start_ns + duration_ns : SCHEDULE_UNLIMITED;
}

uint64_t schedule_due_ns(const struct schedule *s, uint64_t k)
{
    double g = (double)k * s->nstreams + s->stream;

    return s->start_ns + (uint64_t)(g * (double)NS_PER_S / s->rate);
}

bool schedule_finished(const struct schedule *s)
{
    return s->stopped || (s->limit != SCHEDULE_UNLIMITED && s->next >= s->limit) ||
           (s->end_ns != SCHEDULE_UNLIMITED && schedule_due_ns(s, s->next) >= s->end_ns);
}

bool schedule_take(struct schedule *s, uint64_t now_ns, uint64_t *due_ns)
{
    uint64_t due;

    if (schedule_finished(s))
        return false;
    due = schedule_due_ns(s, s->next);
    if (due > now_ns)
        return false;
    *due_ns = due;
    s->next++;
    return true;
}

uint64_t schedule_wait_ns(const struct schedule *s, uint64_t now_ns)
{
    uint64_t due = schedule_due_ns(s, s->next);

    return due > now_ns ? due - now_ns : 0;
}

void schedule_stop(struct schedule *s)
{
    s->stopped = true;
}

void schedule_expire(struct schedule *s, uint64_t now_ns)
{
    if (s->end_ns != SCHEDULE_UNLIMITED && now_ns >= s->end_ns + SCHEDULE_EXPIRE_SLACK_NS)
        s->stopped = true;
}

uint64_t schedule_unstarted(const struct schedule *s)
{
    uint64_t due_total;

    if (s->end_ns == SCHEDULE_UNLIMITED) {
        due_total = s->limit;
    } else {
        /* the number of k with due(k) < end, capped by the count limit */
        double span = (double)(s->end_ns - s->start_ns) * s->rate / (double)NS_PER_S;
        double g = span - s->stream;

        due_total = g <= 0 ? 0 : (uint64_t)((g + s->nstreams - 1) / s->nstreams);
        while (due_total > 0 && schedule_due_ns(s, due_total - 1) >= s->end_ns)
            due_total--;
        while (schedule_due_ns(s, due_total) < s->end_ns &&
               (s->limit == SCHEDULE_UNLIMITED || due_total < s->limit))
            due_total++;
        if (s->limit != SCHEDULE_UNLIMITED && due_total > s->limit)
            due_total = s->limit;
    }
    return due_total > s->next ? due_total - s->next : 0;
}
