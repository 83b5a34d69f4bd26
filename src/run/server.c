#include "server.h"

#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <pthread.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errbuf.h"
#include "clock.h"
#include "kstats.h"

#define SLAB_CONNS 1024
#define ACCEPT_BATCH 64
#define EMFILE_BACKOFF_S 0.01

/* An accepted connection the server still holds: waiting for the client's
 * request (request_bytes) or, without a greeting, for the client to close. */
struct sconn {
    ev_io io;
    struct sthread *t;
    int fd;
    unsigned need;
    struct sconn *next_free;
};

struct slab {
    struct slab *next;
    struct sconn conns[SLAB_CONNS];
};

struct sthread {
    struct server *s;
    struct ev_loop *loop;
    pthread_t thread;
    bool running;
    int lfd;
    ev_io accept_io;
    ev_timer pause; /* accept_delay_ms between two accept() calls */
    ev_async stop;
    struct slab *slabs;
    struct sconn *free_list;
    struct server_stats stats;
    struct story_log log; /* late accepts (all, with log_all) */
    bool log_failed;
};

struct server {
    atomic_bool draining;
    bool log_all;
    int accept_delay_ms;
    bool greeting;
    bool hold_until_eof; /* no greeting: keep the connection until the client closes */
    unsigned request_bytes;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    unsigned nthreads;
    struct sthread threads[];
};

static struct sconn *sconn_get(struct sthread *t)
{
    struct sconn *c = t->free_list;

    if (!c) {
        struct slab *slab = calloc(1, sizeof(*slab));

        if (!slab)
            return NULL;
        slab->next = t->slabs;
        t->slabs = slab;
        for (int i = SLAB_CONNS - 1; i >= 0; i--) {
            slab->conns[i].fd = -1;
            slab->conns[i].next_free = t->free_list;
            t->free_list = &slab->conns[i];
        }
        c = t->free_list;
    }
    t->free_list = c->next_free;
    c->t = t;
    return c;
}

static void sconn_close(struct sconn *c)
{
    ev_io_stop(c->t->loop, &c->io);
    close(c->fd);
    c->fd = -1;
    c->next_free = c->t->free_list;
    c->t->free_list = c;
}

static void on_conn_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sconn *c = (struct sconn *)w;
    char buf[4096];
    ssize_t n;

    (void)loop;
    (void)revents;
    for (;;) {
        n = recv(c->fd, buf, sizeof(buf), 0);
        if (n > 0) {
            c->need = (size_t)n >= c->need ? 0 : c->need - (unsigned)n;
            if (c->need == 0 && !c->t->s->hold_until_eof)
                break; /* the whole request is in: close first */
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        break; /* EOF or error: the client is gone */
    }
    sconn_close(c);
}

/* Everything the server does with a connection it just took off the queue. */
static void serve(struct sthread *t, int fd, const struct sockaddr *peer)
{
    struct server *s = t->s;
    unsigned retrans = 0, state = TCP_ESTABLISHED;
    bool gone;
    struct sconn *c;

    t->stats.accepted++;
    if (atomic_load_explicit(&s->draining, memory_order_relaxed))
        t->stats.accepted_in_drain++;
    /* one TCP_INFO call gives both the SYN-ACK retransmits and whether the
     * client is still there */
    if (kstats_socket_state(fd, &retrans, &state) == 0)
        t->stats.synack_retrans[outcome_retrans_slot(retrans)]++;
    gone = state != TCP_ESTABLISHED;
    if (gone || s->log_all) {
        struct story_accept a = {.ns = clock_now_ns(),
                                 .late = gone,
                                 .synack_retrans = (uint16_t)(retrans > 65535 ? 65535 : retrans)};

        story_tuple_of(peer, &a.peer);
        if (story_log_add(&t->log, &a) < 0)
            t->log_failed = true;
    }
    if (gone) {
        /* closing a CLOSE_WAIT socket sends a FIN the client's FIN_WAIT2
         * expects; a greeting would draw an RST (EstabResets) */
        t->stats.client_gone++;
        close(fd);
        return;
    }
    if (s->request_bytes == 0 && !s->hold_until_eof) {
        /* MSG_MORE holds the greeting back until close() adds the FIN to
         * it: one segment instead of two, and the client reads the greeting
         * and the end in one wake-up */
        if (s->greeting && send(fd, "Q", 1, MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE) != 1)
            t->stats.greeting_failed++;
        close(fd);
        return;
    }
    if (s->greeting && send(fd, "Q", 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
        t->stats.greeting_failed++;
    c = sconn_get(t);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->need = s->request_bytes;
    ev_io_init(&c->io, on_conn_readable, fd, EV_READ);
    ev_io_start(t->loop, &c->io);
}

static void on_listener_readable(struct ev_loop *loop, ev_io *w, int revents)
{
    struct sthread *t = (struct sthread *)((char *)w - offsetof(struct sthread, accept_io));
    int batch = t->s->accept_delay_ms > 0 ? 1 : ACCEPT_BATCH;

    (void)revents;
    for (int i = 0; i < batch; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = accept4(t->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                return;
            t->stats.accept_errors[outcome_err_slot(errno)]++;
            /* EMFILE & co. leave the listener readable: back off instead of spinning. */
            ev_io_stop(loop, &t->accept_io);
            ev_timer_set(&t->pause, EMFILE_BACKOFF_S, 0.);
            ev_timer_start(loop, &t->pause);
            return;
        }
        serve(t, fd, (struct sockaddr *)&peer);
    }
    if (t->s->accept_delay_ms > 0) {
        ev_io_stop(loop, &t->accept_io);
        ev_timer_set(&t->pause, t->s->accept_delay_ms / 1000.0, 0.);
        ev_timer_start(loop, &t->pause);
    }
}

static void on_pause_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct sthread *t = (struct sthread *)((char *)w - offsetof(struct sthread, pause));

    (void)revents;
    ev_io_start(loop, &t->accept_io);
}

static void on_stop(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)w;
    (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void *server_thread(void *arg)
{
    struct sthread *t = arg;

    ev_run(t->loop, 0);
    return NULL;
}

static int open_listener(struct server *s, const struct config *cfg, unsigned i, char *err,
                         size_t errlen)
{
    int one = 1;
    int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return errbuf_set(err, errlen, "server: socket(): %s", strerror(errno));
    s->threads[i].lfd = fd;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (s->nthreads > 1 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        return errbuf_set(err, errlen, "server: SO_REUSEPORT: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&s->addr, s->addrlen) < 0)
        return errbuf_set(err, errlen, "server: bind(%s): %s", cfg->endpoint.text, strerror(errno));
    if (listen(fd, cfg->server.backlog) < 0)
        return errbuf_set(err, errlen, "server: listen(%d): %s", cfg->server.backlog,
                          strerror(errno));
    /* Port 0: the first bind picks the port, the other threads share it. */
    return getsockname(fd, (struct sockaddr *)&s->addr, &s->addrlen) < 0
               ? errbuf_set(err, errlen, "server: getsockname: %s", strerror(errno))
               : 0;
}

struct server *server_new(const struct config *cfg, bool log_all, char *err, size_t errlen)
{
    unsigned n = cfg->server.threads ? cfg->server.threads : 1;
    struct server *s = calloc(1, sizeof(*s) + n * sizeof(s->threads[0]));

    if (!s) {
        errbuf_set(err, errlen, "server: out of memory");
        return NULL;
    }
    s->log_all = log_all;
    s->accept_delay_ms = cfg->server.accept_delay_ms;
    s->greeting = cfg->server.greeting;
    /* the server closes first in every mode: its TIME_WAIT is recycled by
     * the next SYN, while a client that closed first would pile TIME_WAIT
     * on its own ports (the no-greeting cliff) */
    s->hold_until_eof = false;
    s->request_bytes = cfg->request[0] ? (unsigned)strlen(cfg->request) : cfg->client.request_bytes;
    s->nthreads = n;
    memcpy(&s->addr, &cfg->endpoint.addr, cfg->endpoint.addrlen);
    s->addrlen = cfg->endpoint.addrlen;
    for (unsigned i = 0; i < n; i++)
        s->threads[i].lfd = -1;
    for (unsigned i = 0; i < n; i++) {
        struct sthread *t = &s->threads[i];

        t->s = s;
        if (open_listener(s, cfg, i, err, errlen) < 0) {
            server_free(s);
            return NULL;
        }
        t->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
        if (!t->loop) {
            errbuf_set(err, errlen, "server: ev_loop_new failed");
            server_free(s);
            return NULL;
        }
        ev_io_init(&t->accept_io, on_listener_readable, t->lfd, EV_READ);
        ev_timer_init(&t->pause, on_pause_over, 0., 0.);
        ev_async_init(&t->stop, on_stop);
        ev_async_start(t->loop, &t->stop);
        /* accept_delay_ms -1: the listener is never read, the queue only fills. */
        if (s->accept_delay_ms >= 0)
            ev_io_start(t->loop, &t->accept_io);
    }
    return s;
}

void server_address(const struct server *s, struct sockaddr_storage *addr, socklen_t *len)
{
    memcpy(addr, &s->addr, s->addrlen);
    *len = s->addrlen;
}

unsigned server_listeners(const struct server *s)
{
    return s->nthreads;
}

int server_listen_fd(const struct server *s, unsigned i)
{
    return i < s->nthreads ? s->threads[i].lfd : -1;
}

int server_start(struct server *s, char *err, size_t errlen)
{
    for (unsigned i = 0; i < s->nthreads; i++) {
        int rc = pthread_create(&s->threads[i].thread, NULL, server_thread, &s->threads[i]);

        if (rc != 0) {
            server_stop(s);
            return errbuf_set(err, errlen, "server: pthread_create: %s", strerror(rc));
        }
        s->threads[i].running = true;
    }
    return 0;
}

void server_stop(struct server *s)
{
    for (unsigned i = 0; i < s->nthreads; i++) {
        struct sthread *t = &s->threads[i];

        if (!t->running)
            continue;
        ev_async_send(t->loop, &t->stop);
        pthread_join(t->thread, NULL);
        t->running = false;
    }
    for (unsigned i = 0; i < s->nthreads; i++) {
        struct sthread *t = &s->threads[i];

        for (struct slab *sl = t->slabs; sl; sl = sl->next)
            for (int k = 0; k < SLAB_CONNS; k++)
                if (sl->conns[k].fd >= 0)
                    sconn_close(&sl->conns[k]);
        if (t->lfd >= 0) {
            close(t->lfd);
            t->lfd = -1;
        }
    }
}

void server_stats(const struct server *s, struct server_stats *out)
{
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < s->nthreads; i++) {
        const struct server_stats *st = &s->threads[i].stats;

        out->accepted += st->accepted;
        out->accepted_in_drain += st->accepted_in_drain;
        out->client_gone += st->client_gone;
        out->greeting_failed += st->greeting_failed;
        for (int k = 0; k < OUTCOME_RETRANS_SLOTS; k++)
            out->synack_retrans[k] += st->synack_retrans[k];
        for (int k = 0; k < OUTCOME_ERR_SLOTS; k++)
            out->accept_errors[k] += st->accept_errors[k];
    }
}

void server_drain_begin(struct server *s)
{
    atomic_store(&s->draining, true);
}

long server_queue_length(const struct server *s)
{
    long total = 0;

    for (unsigned i = 0; i < s->nthreads; i++) {
        unsigned len, limit;

        if (s->threads[i].lfd < 0 || kstats_listen_queue(s->threads[i].lfd, &len, &limit) < 0)
            return -1;
        total += len;
    }
    return total;
}

int server_take_log(struct server *s, struct story_log *out)
{
    int rc = 0;

    for (unsigned i = 0; i < s->nthreads; i++) {
        if (s->threads[i].log_failed || story_log_take(out, &s->threads[i].log) < 0)
            rc = -1;
    }
    return rc;
}

void server_free(struct server *s)
{
    if (!s)
        return;
    server_stop(s);
    for (unsigned i = 0; i < s->nthreads; i++) {
        struct sthread *t = &s->threads[i];

        story_log_free(&t->log);
        while (t->slabs) {
            struct slab *next = t->slabs->next;

            free(t->slabs);
            t->slabs = next;
        }
        if (t->loop)
            ev_loop_destroy(t->loop);
    }
    free(s);
}
