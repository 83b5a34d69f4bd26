#include "client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <ev.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "clock.h"
#include "deadline.h"
#include "errbuf.h"
#include "kstats.h"
#include "outcome.h"
#include "safefile.h"
#include "schedule.h"

/* Connects started in one wake-up before the loop gets to run I/O again:
 * catching up after a stall must not starve the connections in flight. */
#define SCHEDULE_BATCH 256
/* After the greeting, how long to wait for the server's FIN before closing
 * anyway (the server closes right after greeting; this is a safety net). */
#define DRAIN_TIMEOUT_S 1.0
/* CONN_LATE: how many more watches a connection gets while the server
 * has not acknowledged its bytes (see conn_timeout) */
#define LATE_EXTENSIONS 4
#define GRACE_S 1.0

/* CONN_LATE: the greeting did not come in time and the client has given up
 * (half-closed: the server sees its FIN), but still listens, to learn
 * whether the server takes the connection late (server.command). */
enum conn_state { CONN_FREE, CONN_CONNECTING, CONN_GREETING, CONN_DRAIN, CONN_LATE, CONN_STATES };

struct conn {
    ev_io io;
    struct deadline_node wait; /* in the list of its state's phase */
    struct client *c;
    uint64_t due_ns;
    uint64_t start_ns;      /* connect() called */
    uint64_t connect_ns;    /* handshake complete, 0 before */
    uint64_t first_byte_ns; /* greeting read, 0 before */
    unsigned syn_retrans;
    unsigned late_extensions; /* CONN_LATE: watches added (LATE_EXTENSIONS) */
    uint32_t gave_up_idx;     /* its entry in gave_up, UINT32_MAX if none */
    int fd;
    enum conn_state state;
    unsigned gen; /* counts releases: a slot reused since is another conn */
    struct conn *next_free;
};

/* A connection's every wait in one state is equally long: one FIFO list
 * and one timer per state, instead of a timer per connection (deadline.h). */
struct phase {
    ev_timer timer;
    struct deadline_list waits;
    struct client *c;
};

struct client {
    /* what the thread needs of the config */
    struct sockaddr_storage dst;
    socklen_t dstlen;
    double connect_timeout_s;
    double greeting_timeout_s;
    unsigned request_bytes;
    bool expect_greeting;
    bool await_close; /* the built-in server closes first: wait for its FIN */
    bool watch_late;  /* server.command: after giving up, watch for a late accept */
    double late_watch_s;
    bool close_reset;
    bool half_close;        /* graceful: FIN first, the server would wait forever */
    uint64_t max_in_flight; /* 0: open loop */
    uint32_t source_first;  /* the last 32 bits of source_base, host order */
    uint32_t source_count;
    struct sockaddr_storage source_base;
    uint32_t source_next;
    bool pumping;

    struct ev_loop *loop;
    pthread_t thread;
    bool running;
    int tfd; /* timerfd: the next due connect */
    ev_io tick;
    ev_async wake; /* interrupt requested */
    ev_timer grace;
    atomic_bool interrupt;
    struct schedule sched;

    struct phase phase[CONN_STATES];
    struct conn *pool;
    uint64_t pool_size;
    struct conn *free_list;
    uint64_t inflight;
    char *request; /* request_bytes of payload */

    struct tally tally;
    /* every connection's story: what gave up waiting for the greeting
     * (joined with the server's accepts after the run), and with records a
     * line per attempt, buffered and streamed to a temporary file */
    bool track_gave_up;
    struct story_gave_up *gave_up;
    size_t ngave_up, gave_up_cap;
    bool gave_up_failed;
    int records_fd;
    struct client_record *rbuf;
    size_t nrbuf;
    int records_errno;
    atomic_uint_fast64_t p_started, p_established, p_failed;
    atomic_bool done;
};

/* The longest a connection can live: its handshake timeout, the greeting
 * timeout when one is awaited, and the drain after the schedule ends. The
 * pool size and the timeline's first estimate both follow from it. */
static double lifetime_s(const struct config *cfg)
{
    double greeting = cfg->client.expect_greeting ? cfg->client.greeting_timeout_ms / 1000.0 : 0;
    /* server.command: the watch for a late accept after giving up */
    double watch = cfg->ncommand && cfg->client.expect_greeting
                       ? (greeting < 30.0 ? greeting : 30.0) * (1 + LATE_EXTENSIONS)
                       : 0;

    return cfg->client.connect_timeout_ms / 1000.0 + greeting + watch + DRAIN_TIMEOUT_S;
}

uint64_t client_pool_needed(const struct config *cfg, unsigned nthreads)
{
    double hold_s = lifetime_s(cfg);
    double need = cfg->client.rate / nthreads * hold_s + 64;
    uint64_t per_thread =
        cfg->client.connections ? (cfg->client.connections + nthreads - 1) / nthreads : UINT64_MAX;

    return need < (double)per_thread ? (uint64_t)need : per_thread;
}

static void progress_add(atomic_uint_fast64_t *v)
{
    /* single writer: a relaxed load+store is enough for a progress line */
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void check_done(struct client *c)
{
    if (c->inflight == 0 && schedule_finished(&c->sched)) {
        atomic_store(&c->done, true);
        ev_break(c->loop, EVBREAK_ALL);
    }
}

static void pump(struct client *c);
static void late_seen(struct conn *k, uint8_t what);

/* What arrived since the last read, read before a graceful close: a
 * close with unread data would make the client's kernel send an RST (and
 * count TCPAbortOnClose), a reset qbench, not the server, caused. An answer
 * that came to a client that had given up is still the server's. */
static void conn_read_rest(struct conn *k)
{
    char buf[256];
    ssize_t n;

    if (k->fd < 0 || k->c->close_reset || k->state == CONN_CONNECTING)
        return;
    while ((n = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
        if (k->state == CONN_LATE) /* a drain's give-up saw its answer already */
            late_seen(k, STORY_LATE_DATA);
}

static void conn_release(struct conn *k)
{
    struct client *c = k->c;

    conn_read_rest(k);
    ev_io_stop(c->loop, &k->io);
    deadline_leave(&k->wait);
    if (k->gave_up_idx != UINT32_MAX) {
        struct story_gave_up *g = &c->gave_up[k->gave_up_idx];
        unsigned unacked;

        g->release_ns = clock_now_ns();
        if (k->fd >= 0 && k->state == CONN_LATE && kstats_socket_unacked(k->fd, &unacked) == 0 &&
            unacked > 0) {
            g->unacked_ns = g->release_ns;
            g->released_unacked = true;
        }
        g->client_reset = c->close_reset && k->fd >= 0;
        k->gave_up_idx = UINT32_MAX;
    }
    if (k->fd >= 0) {
        if (c->close_reset && k->state != CONN_CONNECTING) {
            struct linger lg = {1, 0};

            setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(k->fd);
    }
    k->fd = -1;
    k->state = CONN_FREE;
    k->gen++;
    k->next_free = c->free_list;
    c->free_list = k;
    c->inflight--;
    check_done(c);
    /* With max_in_flight, a freed slot lets the next overdue connect go. */
    if (c->max_in_flight && c->inflight + 1 == c->max_in_flight)
        pump(c);
}

static void records_flush(struct client *c)
{
    if (c->nrbuf && !c->records_errno &&
        safefile_write_all(c->records_fd, c->rbuf, c->nrbuf * sizeof(*c->rbuf)) < 0)
        c->records_errno = errno;
    c->nrbuf = 0;
}

/* The line of one attempt (k NULL: it never had a socket). */
static void records_add(struct client *c, const struct conn *k, enum outcome o, int err,
                        uint64_t due, uint64_t now, uint32_t gave_up_idx)
{
    struct client_record *r = &c->rbuf[c->nrbuf];

    memset(r, 0, sizeof(*r));
    r->end_ns = now;
    r->outcome = (uint8_t)o;
    r->err = err;
    r->gave_up_idx = gave_up_idx;
    if (k) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        r->due_ns = k->due_ns;
        r->start_ns = k->start_ns;
        r->connect_ns = k->connect_ns;
        r->first_byte_ns = k->first_byte_ns;
        r->syn_retrans = (uint16_t)(k->syn_retrans > 65535 ? 65535 : k->syn_retrans);
        if (k->fd >= 0 && getsockname(k->fd, (struct sockaddr *)&ss, &len) == 0)
            story_tuple_of((struct sockaddr *)&ss, &r->src);
    } else {
        r->due_ns = due;
        r->start_ns = now;
    }
    if (++c->nrbuf == CLIENT_RECORDS_BUFFER)
        records_flush(c);
}

static void record_conn(struct client *c, const struct conn *k, enum outcome o, int err,
                        uint64_t now, uint32_t gave_up_idx)
{
    /* a give-up's final class is known only after the run (story, fate):
     * its time is added then */
    if (gave_up_idx == UINT32_MAX)
        histogram_record(&c->tally.class_us[o],
                         k && now > k->due_ns ? (now - k->due_ns) / NS_PER_US : 0);
    tally_outcome(&c->tally, o, err, now);
    progress_add(o == OUTCOME_ESTABLISHED ? &c->p_established : &c->p_failed);
    if (c->records_fd >= 0)
        records_add(c, k, o, err, now, now, gave_up_idx);
}

/* An attempt that never had a socket: it failed when it was due (or as
 * late as the generator started it). */
static void record(struct client *c, enum outcome o, int err, uint64_t due, uint64_t now)
{
    histogram_record(&c->tally.class_us[o], now > due ? (now - due) / NS_PER_US : 0);
    tally_outcome(&c->tally, o, err, now);
    progress_add(&c->p_failed);
    if (c->records_fd >= 0)
        records_add(c, NULL, o, err, due, now, UINT32_MAX);
}

/* A connection ended with cause err in its current phase. */
static void conn_fail(struct conn *k, int err)
{
    enum outcome_phase phase = k->state == CONN_CONNECTING ? PHASE_CONNECT : PHASE_GREETING;
    enum outcome o = outcome_classify(phase, err);
    uint64_t now = clock_now_ns();
    unsigned retrans;

    /* A failed handshake's SYN retransmits, so that client and server
     * retransmits together account for the kernel's TCPSynRetrans; the
     * per-connection line carries the same count. */
    if (phase == PHASE_CONNECT && k->fd >= 0 && kstats_socket_retrans(k->fd, &retrans) == 0) {
        tally_retrans(&k->c->tally, retrans, true);
        k->syn_retrans = retrans;
    }
    record_conn(k->c, k, o, err, now, UINT32_MAX);
    conn_release(k);
}

static void conn_read(struct conn *k);
static void wait_in(struct conn *k, enum conn_state state, int events);

/* The greeting never came: remember the connection (its source address
 * and port, as the server will see them) for story or fate to join with
 * the server's side; the server may yet accept it, late. Against a server
 * not ours the client then gives up as a client does (half-closes: the
 * server sees the FIN) but keeps reading, so a late answer is read to its
 * end (no RST of qbench's) and what it saw backs the kernel's verdict. */
static void conn_gave_up(struct conn *k)
{
    struct client *c = k->c;
    uint64_t now = clock_now_ns();
    uint32_t idx = UINT32_MAX;

    if (c->track_gave_up) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (c->ngave_up == c->gave_up_cap) {
            size_t cap = c->gave_up_cap ? c->gave_up_cap * 2 : 256;
            struct story_gave_up *v = realloc(c->gave_up, cap * sizeof(*v));

            if (v) {
                c->gave_up = v;
                c->gave_up_cap = cap;
            }
        }
        if (c->ngave_up < c->gave_up_cap && getsockname(k->fd, (struct sockaddr *)&ss, &len) == 0) {
            struct story_gave_up *g = &c->gave_up[c->ngave_up];

            memset(g, 0, sizeof(*g));
            story_tuple_of((struct sockaddr *)&ss, &g->src);
            g->due_ns = k->due_ns;
            g->start_ns = k->start_ns;
            g->connect_ns = k->connect_ns;
            g->giveup_ns = now;
            g->outcome = OUTCOME_GREETING_TIMEOUT;
            idx = (uint32_t)c->ngave_up++;
        } else {
            c->gave_up_failed = true;
        }
    }
    record_conn(c, k, OUTCOME_GREETING_TIMEOUT, OUTCOME_ERR_TIMER, now, idx);
    k->gave_up_idx = idx;
    if (!c->watch_late) {
        conn_release(k);
        return;
    }
    shutdown(k->fd, SHUT_WR);
    wait_in(k, CONN_LATE, EV_READ);
    conn_read(k);
}

/* What the client read on a connection it had given up on. */
static void late_seen(struct conn *k, uint8_t what)
{
    if (k->gave_up_idx != UINT32_MAX && !k->c->gave_up[k->gave_up_idx].late_seen) {
        k->c->gave_up[k->gave_up_idx].late_seen = what;
        k->c->gave_up[k->gave_up_idx].late_ns = clock_now_ns();
    }
}

/* Arms a phase's timer for its earliest deadline, or stops it. */
static void phase_arm(struct phase *p, uint64_t now)
{
    uint64_t at;

    ev_timer_stop(p->c->loop, &p->timer);
    if (!deadline_next(&p->waits, &at))
        return;
    ev_timer_set(&p->timer, at > now ? (double)(at - now) / 1e9 : 0., 0.);
    ev_timer_start(p->c->loop, &p->timer);
}

/* k waits in state for events, until the state's timeout. The poll set is
 * touched only when the events change. */
static void wait_in(struct conn *k, enum conn_state state, int events)
{
    struct client *c = k->c;
    struct phase *p = &c->phase[state];

    k->state = state;
    if (!ev_is_active(&k->io) || (k->io.events & (EV_READ | EV_WRITE)) != events) {
        ev_io_stop(c->loop, &k->io);
        ev_io_set(&k->io, k->fd, events);
        ev_io_start(c->loop, &k->io);
    }
    /* A timer already running fires no later than this deadline: it is an
     * earlier wait's, and it re-arms itself for the head when it fires. */
    if (deadline_enter(&p->waits, &k->wait, clock_now_ns()) && !ev_is_active(&p->timer))
        phase_arm(p, k->wait.at_ns - p->waits.timeout_ns);
}

/* The client is done with k and closes gracefully: whatever the server
 * still sends is read until it closes (closing with an answer on the way
 * would draw an RST from the client's kernel, EstabResets and
 * TCPAbortOnData that qbench, not the server, caused), then the client
 * closes, a passive close that leaves no TIME_WAIT on its ports. A server
 * other than the built-in one that was asked nothing (no request) has no
 * reason to close: it is told the client is done (half_close). */
static void conn_drain(struct conn *k)
{
    if (k->c->half_close)
        shutdown(k->fd, SHUT_WR);
    wait_in(k, CONN_DRAIN, EV_READ);
}

/* Reads what the server sent; returns to the loop or releases k. */
static void conn_read(struct conn *k)
{
    struct client *c = k->c;
    char buf[64];

    for (;;) {
        ssize_t n = recv(k->fd, buf, sizeof(buf), 0);

        if (n > 0 && k->state == CONN_LATE) {
            /* the server took it after all: its answer to a client that
             * left, read to its end */
            late_seen(k, STORY_LATE_DATA);
            wait_in(k, CONN_DRAIN, EV_READ);
            continue;
        }
        if (n > 0) {
            if (k->state == CONN_GREETING) {
                uint64_t now = clock_now_ns();

                histogram_record(&c->tally.accept_us, (now - k->due_ns) / NS_PER_US);
                k->first_byte_ns = now;
                record_conn(c, k, OUTCOME_ESTABLISHED, 0, now, UINT32_MAX);
                if (c->close_reset) {
                    conn_release(k);
                    return;
                }
                conn_drain(k);
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        /* EOF or error. After the greeting this is the server's close we wait
         * for: closing now is a passive close, so no TIME_WAIT here. */
        if (k->state == CONN_DRAIN)
            conn_release(k);
        else if (k->state == CONN_LATE) {
            late_seen(k, n == 0 ? STORY_LATE_EOF : STORY_LATE_RESET);
            conn_release(k);
        } else
            conn_fail(k, n == 0 ? OUTCOME_ERR_EOF : errno);
        return;
    }
}

/* retrans: the SYNs the handshake took beyond the first. */
static void conn_handshake_done(struct conn *k, unsigned retrans)
{
    struct client *c = k->c;
    uint64_t now = clock_now_ns();

    tally_handshake(&c->tally, (now - k->due_ns) / NS_PER_US, retrans);
    k->connect_ns = now;
    k->syn_retrans = retrans;
    k->state = CONN_GREETING;
    if (c->request_bytes > 0 &&
        send(k->fd, c->request, c->request_bytes, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
        errno != EAGAIN) {
        conn_fail(k, errno);
        return;
    }
    if (!c->expect_greeting) {
        record_conn(c, k, OUTCOME_ESTABLISHED, 0, now, UINT32_MAX);
        if (c->close_reset) {
            conn_release(k);
            return;
        }
        conn_drain(k);
        return;
    }
    /* No read yet: the server has still to accept, which takes a trip
     * through its own loop; a read now is an EAGAIN per connection, and
     * the level-triggered poll reports what is already there anyway. */
    wait_in(k, CONN_GREETING, EV_READ);
}

/* Whether a connecting socket's handshake has ended, and how. One TCP_INFO
 * read tells whether it is established and how many SYNs it took; only a
 * failed one needs SO_ERROR for its cause. polled: the poll said the socket
 * is writable (the handshake has ended, as connect(2) documents); not
 * polled: asked right after connect(), where only an established socket is
 * taken, and anything else waits for the poll. */
static void conn_connected(struct conn *k, bool polled)
{
    unsigned retrans = 0, state = TCP_SYN_SENT;
    bool known = kstats_socket_state(k->fd, &retrans, &state) == 0;
    int soerr = 0;
    socklen_t len = sizeof(soerr);

    if (known && (state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT)) {
        conn_handshake_done(k, retrans);
        return;
    }
    if (!polled)
        return;
    if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
        soerr = errno;
    if (soerr)
        conn_fail(k, soerr);
    else if (!known || state != TCP_SYN_SENT)
        conn_handshake_done(k, retrans);
    /* else still connecting (a spurious wake-up): keep waiting */
}

static void on_conn_event(struct ev_loop *loop, ev_io *w, int revents)
{
    struct conn *k = (struct conn *)w;

    (void)loop;
    (void)revents;
    if (k->state != CONN_CONNECTING)
        conn_read(k);
    else
        conn_connected(k, true);
}

/* k's wait in its state has timed out. */
/* The watch of a connection given up on ends, but the server has not
 * acknowledged its request or its FIN: it has no socket for it (a cookie
 * connection whose final ACK the full queue dropped), yet the client's
 * kernel keeps presenting those bytes, and one of them can still make the
 * connection, which the server may then accept and close between two
 * dumps. So the watch goes on, a few times, to see what the server does;
 * the last moment the bytes were unacknowledged bounds the accept. */
static bool late_unacked(struct conn *k)
{
    unsigned unacked;

    if (k->late_extensions >= LATE_EXTENSIONS || k->gave_up_idx == UINT32_MAX ||
        kstats_socket_unacked(k->fd, &unacked) < 0 || unacked == 0)
        return false;
    k->late_extensions++;
    k->c->gave_up[k->gave_up_idx].unacked_ns = clock_now_ns();
    return true;
}

static void conn_timeout(struct conn *k)
{
    unsigned gen = k->gen;
    enum conn_state was = k->state;

    if (k->state == CONN_CONNECTING) {
        conn_fail(k, OUTCOME_ERR_TIMER);
        return;
    }
    /* what came in this very loop iteration is read first: a greeting in
     * time, a late answer, the server's close. The read may release k, and
     * a pump on release reuse the slot for a new connection that has not
     * waited at all */
    conn_read(k);
    if (k->gen != gen)
        return;
    if (k->state == CONN_GREETING)
        conn_gave_up(k);
    else if (k->state == CONN_LATE && late_unacked(k))
        wait_in(k, CONN_LATE, EV_READ); /* watch again */
    else if (k->state == was)           /* a late answer began a drain of its own */
        conn_release(k);
}

static void on_phase_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct phase *p = (struct phase *)w;
    uint64_t now = clock_now_ns();
    struct deadline_node *n;

    (void)loop;
    (void)revents;
    /* a connection re-entering a list does so at now + its timeout, so
     * this ends */
    while ((n = deadline_expired(&p->waits, now)) != NULL)
        conn_timeout((struct conn *)((char *)n - offsetof(struct conn, wait)));
    phase_arm(p, now);
}

/* Spreads connections over a loopback source range. IP_BIND_ADDRESS_NO_PORT
 * defers the port choice to connect(), which then picks per destination
 * instead of reserving a port per source address. */
static int bind_source(struct client *c, int fd)
{
    struct sockaddr_storage src = c->source_base;
    uint32_t low = htonl(c->source_first + c->source_next);
    socklen_t len;
    int one = 1;

    if (src.ss_family == AF_INET6) {
        memcpy(&((struct sockaddr_in6 *)&src)->sin6_addr.s6_addr[12], &low, sizeof(low));
        len = sizeof(struct sockaddr_in6);
    } else {
        ((struct sockaddr_in *)&src)->sin_addr.s_addr = low;
        len = sizeof(struct sockaddr_in);
    }
    if (++c->source_next == c->source_count)
        c->source_next = 0;
    /* SOL_IP options apply to IPv6 sockets too */
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    return bind(fd, (struct sockaddr *)&src, len);
}

static void conn_start(struct client *c, uint64_t due, uint64_t now)
{
    struct conn *k = c->free_list;
    int fd, rc;

    histogram_record(&c->tally.lag_us, (now - due) / NS_PER_US);
    tally_attempt(&c->tally, now);
    progress_add(&c->p_started);
    if (!k) {
        /* The pool is sized to the open-file limit: this is EMFILE. */
        record(c, OUTCOME_ERROR, EMFILE, due, now);
        return;
    }
    fd = socket(c->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        record(c, OUTCOME_ERROR, errno, due, now);
        return;
    }
    if (c->source_count && bind_source(c, fd) < 0) {
        int err = errno;

        close(fd);
        record(c, OUTCOME_ERROR, err, due, now);
        return;
    }
    c->free_list = k->next_free;
    c->inflight++;
    k->fd = fd;
    k->due_ns = due;
    k->start_ns = now;
    k->connect_ns = 0;
    k->first_byte_ns = 0;
    k->syn_retrans = 0;
    k->late_extensions = 0;
    k->gave_up_idx = UINT32_MAX;
    k->state = CONN_CONNECTING;
    rc = connect(fd, (struct sockaddr *)&c->dst, c->dstlen);
    if (rc == 0) {
        conn_connected(k, true); /* connected: the same reading as after a poll */
    } else if (errno == EINPROGRESS) {
        /* On loopback the whole handshake usually completes inside
         * connect() (the SYN-ACK is processed before it returns), though
         * it still says EINPROGRESS: asking saves the poll set a socket
         * and the loop a round. */
        conn_connected(k, false);
        if (k->state == CONN_CONNECTING)
            wait_in(k, CONN_CONNECTING, EV_WRITE);
    } else {
        conn_fail(k, errno);
    }
}

static bool at_capacity(const struct client *c)
{
    return c->max_in_flight && c->inflight >= c->max_in_flight;
}

static void arm_tick(struct client *c)
{
    struct itimerspec its;
    uint64_t due;

    if (schedule_finished(&c->sched)) {
        ev_io_stop(c->loop, &c->tick);
        check_done(c);
        return;
    }
    if (at_capacity(c))
        return; /* the next release pumps; an armed overdue timer would spin */
    due = schedule_due_ns(&c->sched, c->sched.next);
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = (time_t)(due / NS_PER_S);
    its.it_value.tv_nsec = (long)(due % NS_PER_S);
    if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1; /* zero would disarm */
    timerfd_settime(c->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Starts every connect that is due, a batch at a time, then arms the timer
 * for the next one. Connects that fail at once release their slot inside
 * this loop; the flag keeps that from re-entering. */
static void pump(struct client *c)
{
    uint64_t due, now;
    int n = 0;

    if (c->pumping)
        return;
    c->pumping = true;
    now = clock_now_ns();
    schedule_expire(&c->sched, now);
    while (n < SCHEDULE_BATCH && !at_capacity(c) && schedule_take(&c->sched, now, &due)) {
        conn_start(c, due, now);
        if (++n % 16 == 0)
            now = clock_now_ns();
    }
    c->pumping = false;
    arm_tick(c);
}

static void on_tick(struct ev_loop *loop, ev_io *w, int revents)
{
    struct client *c = (struct client *)((char *)w - offsetof(struct client, tick));
    uint64_t expirations;

    (void)loop;
    (void)revents;
    (void)!read(c->tfd, &expirations, sizeof(expirations));
    pump(c);
}

static void on_grace_over(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct client *c = (struct client *)((char *)w - offsetof(struct client, grace));

    (void)loop;
    (void)revents;
    for (uint64_t i = 0; i < c->pool_size; i++) {
        struct conn *k = &c->pool[i];

        if (k->state == CONN_DRAIN || k->state == CONN_LATE)
            conn_release(k); /* its outcome is counted already */
        else if (k->state != CONN_FREE)
            conn_fail(k, OUTCOME_ERR_INTERRUPTED);
    }
}

static void on_wake(struct ev_loop *loop, ev_async *w, int revents)
{
    struct client *c = (struct client *)((char *)w - offsetof(struct client, wake));

    (void)revents;
    if (!atomic_load(&c->interrupt) || ev_is_active(&c->grace))
        return;
    schedule_stop(&c->sched);
    ev_io_stop(loop, &c->tick);
    ev_timer_start(loop, &c->grace);
    check_done(c);
}

static void *client_thread(void *arg)
{
    struct client *c = arg;

    ev_io_start(c->loop, &c->tick);
    arm_tick(c);
    if (!atomic_load(&c->done))
        ev_run(c->loop, 0);
    if (c->records_fd >= 0)
        records_flush(c);
    atomic_store(&c->done, true);
    return NULL;
}

struct client *client_new(const struct config *cfg, const struct client_setup *cs, char *err,
                          size_t errlen)
{
    struct client *c = calloc(1, sizeof(*c));
    const struct sockaddr_storage *dst = cs->dst;
    socklen_t dstlen = cs->dstlen;
    unsigned stream = cs->stream, nstreams = cs->nstreams;
    uint64_t start_ns = cs->start_ns, pool = cs->pool;
    uint64_t total = cfg->client.connections ? cfg->client.connections : SCHEDULE_UNLIMITED;
    uint64_t run_ns = cfg->client.duration_ms
                          ? cfg->client.duration_ms * NS_PER_MS
                          : (uint64_t)((double)cfg->client.connections / cfg->client.rate * 1e9);

    if (!c) {
        errbuf_set(err, errlen, "client: out of memory");
        return NULL;
    }
    c->tfd = -1;
    c->records_fd = cs->records_fd;
    c->track_gave_up = cs->track_gave_up;
    if (c->records_fd >= 0) {
        c->rbuf = malloc(CLIENT_RECORDS_BUFFER * sizeof(*c->rbuf));
        if (!c->rbuf) {
            errbuf_set(err, errlen, "client: out of memory for the records buffer");
            goto fail;
        }
    }
    memcpy(&c->dst, dst, dstlen);
    c->dstlen = dstlen;
    c->connect_timeout_s = cfg->client.connect_timeout_ms / 1000.0;
    c->greeting_timeout_s = cfg->client.greeting_timeout_ms / 1000.0;
    c->request_bytes = cfg->request[0] ? (unsigned)strlen(cfg->request) : cfg->client.request_bytes;
    c->expect_greeting = cfg->client.expect_greeting;
    c->await_close = !cfg->use_target && !cfg->ncommand;
    /* the user's server: the client watches what it does with a connection
     * the client gave up on, as long again as the greeting timeout (at most
     * 30 s) */
    c->watch_late = cfg->ncommand > 0 && cfg->client.expect_greeting;
    c->late_watch_s = cfg->client.greeting_timeout_ms / 1000.0;
    if (c->late_watch_s > 30.0)
        c->late_watch_s = 30.0;
    c->close_reset = cfg->client.close_reset;
    c->half_close = config_client_closes_first(cfg);
    /* max_in_flight is for the whole run: each thread holds its share */
    c->max_in_flight = (cfg->client.max_in_flight + nstreams - 1) / nstreams;
    c->source_first = cs->source_first;
    c->source_count = cs->source_count;
    if (cs->source_base)
        c->source_base = *cs->source_base;
    else
        c->source_base.ss_family = AF_INET;
    schedule_init(&c->sched, cfg->client.rate, stream, nstreams, total,
                  cfg->client.duration_ms * NS_PER_MS, start_ns);
    c->pool_size = pool ? pool : 1;
    c->pool = calloc(c->pool_size, sizeof(*c->pool));
    /* every fd -1 before anything can fail: client_free closes what is open
     * (a pool just calloc'ed says fd 0) */
    for (uint64_t i = c->pool ? c->pool_size : 0; i-- > 0;) {
        struct conn *k = &c->pool[i];

        k->c = c;
        k->fd = -1;
        k->gave_up_idx = UINT32_MAX;
        ev_io_init(&k->io, on_conn_event, -1, EV_WRITE);
        k->next_free = c->free_list;
        c->free_list = k;
    }
    c->request = calloc(1, c->request_bytes + 1);
    if (!c->pool || !c->request) {
        errbuf_set(err, errlen, "client: cannot allocate a pool of %llu connections (%zu MB)",
                   (unsigned long long)c->pool_size, c->pool_size * sizeof(*c->pool) >> 20);
        goto fail;
    }
    c->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (!c->loop) {
        errbuf_set(err, errlen, "client: cannot create an event loop (libev): %s", strerror(errno));
        goto fail;
    }
    c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (c->tfd < 0) {
        errbuf_set(err, errlen, "client: timerfd_create: %s", strerror(errno));
        goto fail;
    }
    if (tally_init(&c->tally, start_ns, cfg->sample.timeline_ms * NS_PER_MS,
                   run_ns + (uint64_t)(lifetime_s(cfg) * 1e9)) < 0) {
        errbuf_set(err, errlen, "client: cannot allocate the timeline (%llu ms rows)",
                   (unsigned long long)cfg->sample.timeline_ms);
        goto fail;
    }
    if (cfg->request[0])
        memcpy(c->request, cfg->request, c->request_bytes);
    else
        memset(c->request, 'q', c->request_bytes);
    ev_io_init(&c->tick, on_tick, c->tfd, EV_READ);
    ev_async_init(&c->wake, on_wake);
    ev_async_start(c->loop, &c->wake);
    ev_timer_init(&c->grace, on_grace_over, GRACE_S, 0.);
    {
        const double timeout_s[CONN_STATES] = {[CONN_CONNECTING] = c->connect_timeout_s,
                                               [CONN_GREETING] = c->greeting_timeout_s,
                                               [CONN_DRAIN] = DRAIN_TIMEOUT_S,
                                               [CONN_LATE] = c->late_watch_s};

        for (int i = 0; i < CONN_STATES; i++) {
            c->phase[i].c = c;
            deadline_list_init(&c->phase[i].waits, (uint64_t)(timeout_s[i] * 1e9));
            ev_timer_init(&c->phase[i].timer, on_phase_timer, 0., 0.);
        }
    }
    return c;

fail:
    client_free(c);
    return NULL;
}

int client_start(struct client *c, char *err, size_t errlen)
{
    int rc = pthread_create(&c->thread, NULL, client_thread, c);

    if (rc != 0)
        return errbuf_set(err, errlen, "client: pthread_create: %s", strerror(rc));
    c->running = true;
    return 0;
}

void client_interrupt(struct client *c)
{
    atomic_store(&c->interrupt, true);
    ev_async_send(c->loop, &c->wake);
}

bool client_done(const struct client *c)
{
    return atomic_load(&c->done);
}

void client_progress(const struct client *c, struct client_progress *p)
{
    p->started = atomic_load_explicit(&c->p_started, memory_order_relaxed);
    p->established = atomic_load_explicit(&c->p_established, memory_order_relaxed);
    p->failed = atomic_load_explicit(&c->p_failed, memory_order_relaxed);
}

void client_join(struct client *c)
{
    if (c->running) {
        pthread_join(c->thread, NULL);
        c->running = false;
    }
}

const struct tally *client_tally(const struct client *c)
{
    return &c->tally;
}

uint64_t client_unstarted(const struct client *c)
{
    return schedule_unstarted(&c->sched);
}

void client_free(struct client *c)
{
    if (!c)
        return;
    client_join(c);
    for (uint64_t i = 0; c->pool && i < c->pool_size; i++)
        if (c->pool[i].fd >= 0) {
            conn_read_rest(&c->pool[i]);
            close(c->pool[i].fd);
        }
    if (c->tfd >= 0)
        close(c->tfd);
    if (c->loop)
        ev_loop_destroy(c->loop);
    tally_destroy(&c->tally);
    free(c->gave_up);
    free(c->rbuf);
    free(c->pool);
    free(c->request);
    free(c);
}

struct story_gave_up *client_gave_up(struct client *c, size_t *n, bool *complete)
{
    *n = c->ngave_up;
    *complete = !c->gave_up_failed;
    return c->gave_up;
}

int client_records_error(const struct client *c)
{
    return c->records_errno;
}
