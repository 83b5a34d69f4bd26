#include "records.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errbuf.h"
#include "outcome.h"
#include "safefile.h"

#define OUT_BUFFER 65536

struct records {
    struct safefile sf;
    int format;
    bool header_done;
    char buf[OUT_BUFFER];
    size_t len;
    int err;
};

int records_format_of(const char *path)
{
    size_t n = strlen(path);

    if (n > 4 && strcmp(path + n - 4, ".csv") == 0)
        return 0;
    if ((n > 6 && strcmp(path + n - 6, ".jsonl") == 0) ||
        (n > 7 && strcmp(path + n - 7, ".ndjson") == 0))
        return 1;
    return -1;
}

struct records *records_open(const char *path, char *err, size_t errlen)
{
    struct records *r = calloc(1, sizeof(*r));

    if (!r) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    r->format = records_format_of(path);
    if (r->format < 0) {
        free(r);
        errbuf_set(err, errlen, "%s: the name must end in .csv or .jsonl", path);
        return NULL;
    }
    if (safefile_open(&r->sf, path, err, errlen) < 0) {
        free(r);
        return NULL;
    }
    return r;
}

static void flush(struct records *r)
{
    if (r->len && !r->err && safefile_write_all(r->sf.fd, r->buf, r->len) < 0)
        r->err = errno;
    r->len = 0;
}

static void out(struct records *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(struct records *r, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (r->len > OUT_BUFFER - 512)
        flush(r);
    va_start(ap, fmt);
    n = vsnprintf(r->buf + r->len, OUT_BUFFER - r->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        r->len += (size_t)n < OUT_BUFFER - r->len ? (size_t)n : OUT_BUFFER - r->len - 1;
}

/* A time relative to the origin in ms, or empty (CSV) / null (JSON). */
static void out_time(struct records *r, const char *key, uint64_t ns, uint64_t origin)
{
    bool json = r->format == 1;

    if (json)
        out(r, ", \"%s\": ", key);
    else
        out(r, ",");
    if (!ns)
        out(r, "%s", json ? "null" : "");
    else
        out(r, "%.3f", ns >= origin ? (double)(ns - origin) / 1e6 : -(double)(origin - ns) / 1e6);
}

static void line(struct records *r, const struct records_point *p, const struct client_record *c,
                 enum outcome o, int synack, uint64_t accept_ns)
{
    uint64_t origin = p->origin_ns;
    char addr[INET6_ADDRSTRLEN] = "", errname[32] = "";
    bool json = r->format == 1;

    if (c->src.family)
        inet_ntop(c->src.family, c->src.addr, addr, sizeof(addr));
    if (c->err)
        outcome_error_name(c->err, errname, sizeof(errname));
    if (json)
        out(r, "{\"point\": %zu, ", p->point);
    else
        out(r, "%zu,", p->point);
    /* with repeats a point's lines come once per repeat: say which */
    if (p->nrepeats > 1)
        out(r, json ? "\"repeat\": %u, " : "%u,", p->repeat);
    if (json)
        out(r, "\"src\": \"%s\", \"port\": %u", addr, c->src.port);
    else
        out(r, "%s,%u", addr, c->src.port);
    out_time(r, "due_ms", c->due_ns, origin);
    out_time(r, "start_ms", c->start_ns, origin);
    out_time(r, "connect_ms", c->connect_ns, origin);
    out_time(r, "first_byte_ms", c->first_byte_ns, origin);
    out_time(r, "end_ms", c->end_ns, origin);
    if (json) {
        out(r, ", \"outcome\": \"%s\", \"errno\": ", outcome_name(o));
        out(r, errname[0] ? "\"%s\"" : "%snull", errname);
        out(r, ", \"syn_retransmits\": %u, \"synack_retransmits\": ", c->syn_retrans);
        out(r, synack >= 0 ? "%d" : "null", synack);
    } else {
        out(r, ",%s,%s,%u,", outcome_name(o), errname, c->syn_retrans);
        if (synack >= 0)
            out(r, "%d", synack);
    }
    out_time(r, "accept_ms", accept_ns, origin);
    out(r, "%s\n", json ? "}" : "");
}

int records_add_point(struct records *r, const struct records_point *p, uint64_t *counts, char *err,
                      size_t errlen)
{
    if (!r->header_done && r->format == 0)
        out(r,
            "point,%ssrc,port,due_ms,start_ms,connect_ms,first_byte_ms,end_ms,outcome,errno,"
            "syn_retransmits,synack_retransmits,accept_ms\n",
            p->nrepeats > 1 ? "repeat," : "");
    r->header_done = true;
    for (size_t t = 0; t < p->nthreads; t++) {
        struct client_record c;

        rewind(p->threads[t]);
        while (fread(&c, sizeof(c), 1, p->threads[t]) == 1) {
            enum outcome o = (enum outcome)c.outcome;
            int synack = -1;
            uint64_t accept_ns = 0;

            if (o == OUTCOME_GREETING_TIMEOUT && p->gave_up && c.gave_up_idx != UINT32_MAX) {
                const struct story_gave_up *g = &p->gave_up[p->gave_up_offset[t] + c.gave_up_idx];

                o = (enum outcome)g->outcome;
                if (g->accepted) {
                    accept_ns = g->accept_ns;
                    synack = p->log ? g->synack_retrans : -1;
                }
            } else if (o == OUTCOME_ESTABLISHED && p->accept_of && c.src.family) {
                /* a server not ours: its accept as the kernel showed it */
                accept_ns = p->accept_of(p->accept_arg, &c);
            } else if (o == OUTCOME_ESTABLISHED && p->log && c.src.family) {
                /* its accept lies between its start and its greeting */
                struct story_accept *a =
                    story_find(p->log, &c.src, c.start_ns,
                               c.first_byte_ns ? c.first_byte_ns : c.end_ns, false);

                if (a) {
                    accept_ns = a->ns;
                    synack = a->synack_retrans;
                }
            }
            if ((unsigned)o < OUTCOME_COUNT)
                counts[o]++;
            line(r, p, &c, o, synack, accept_ns);
        }
        if (ferror(p->threads[t]))
            return errbuf_set(err, errlen, "reading the connection records back: %s",
                              strerror(errno));
    }
    flush(r);
    if (r->err)
        return errbuf_set(err, errlen, "cannot write %s: %s", r->sf.path, strerror(r->err));
    return 0;
}

int records_commit(struct records *r, char *err, size_t errlen)
{
    int rc;

    flush(r);
    if (r->err) {
        errbuf_set(err, errlen, "cannot write %s: %s", r->sf.path, strerror(r->err));
        safefile_abort(&r->sf);
        free(r);
        return -1;
    }
    rc = safefile_commit(&r->sf, err, errlen);
    free(r);
    return rc;
}

void records_abort(struct records *r)
{
    if (!r)
        return;
    safefile_abort(&r->sf);
    free(r);
}
