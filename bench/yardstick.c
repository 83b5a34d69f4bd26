/* yardstick: the least a program can do to open loopback connections, as
 * a measure of what this machine's kernel allows. Plain epoll, no libraries,
 * no bookkeeping beyond a latency array. It does the same exchange as qbench
 * (connect; the server accepts, writes one byte and closes first; the client
 * reads the byte and the FIN and closes), with one acceptor thread and one
 * thread per client loop, so the two can be compared in the same namespace.
 *
 *   yardstick --seconds S [--inflight N | --rate R] [--clients T]
 *
 * --inflight N: as fast as possible with N connections in flight (closed
 * loop). --rate R: open loop at R/s, latency from each connect's due time.
 * --clients T: T client threads, each with its own epoll loop and a 1/T
 * share of N or R (default 1), as qbench splits its rate over client.threads.
 * Prints key=value lines. Run it inside a private network namespace. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* also when built alone, outside CMake */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define MAX_SAMPLES 2000000
#define MAX_FDS 65536

static int listen_fd;
static volatile int stop_acceptor;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *acceptor(void *arg)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN}, events[8];

    (void)arg;
    epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev);
    while (!stop_acceptor) {
        int n = epoll_wait(ep, events, 8, 100);

        for (int i = 0; i < n; i++) {
            int fd;

            while ((fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                /* as qbench does: the byte and the FIN in one segment */
                (void)!send(fd, "Q", 1, MSG_NOSIGNAL | MSG_MORE);
                close(fd);
            }
        }
    }
    close(ep);
    return NULL;
}

/* Per-connection state, indexed by fd: an fd belongs to one client thread
 * at a time, so the threads can share the array. */
struct slot {
    uint64_t due;
    int connected;
};

static struct slot *slots;
static struct sockaddr_in server_addr;

/* One client event loop: closed loop up to inflight_max, or open loop at
 * rate with this thread's phase (thread i of n takes due times i, i+n, …). */
struct client {
    pthread_t th;
    double rate, seconds;
    long inflight_max;
    unsigned index, count;
    uint64_t *lat, nlat, lat_cap, done, failed;
    uint64_t start, end;
};

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static uint64_t due_time(const struct client *c, uint64_t k)
{
    return c->start + (uint64_t)((double)(k * c->count + c->index) * 1e9 / c->rate);
}

static void *client_loop(void *arg)
{
    struct client *c = arg;
    struct epoll_event events[MAX_EVENTS];
    uint64_t started = 0, next_due, end = c->start + (uint64_t)(c->seconds * 1e9);
    long inflight = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC), tfd = -1;

    if (c->rate > 0) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};

        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    }
    next_due = c->rate > 0 ? due_time(c, 0) : c->start;
    for (;;) {
        uint64_t now = now_ns();
        int n;

        /* start what may start: everything due (open loop) or up to the cap */
        while (now < end && inflight < c->inflight_max && (c->rate == 0 || next_due <= now)) {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            struct epoll_event ev = {.events = EPOLLOUT};

            if (fd < 0 || fd >= MAX_FDS) {
                c->failed++;
                if (fd >= 0)
                    close(fd);
                break;
            }
            slots[fd].due = c->rate > 0 ? next_due : now;
            slots[fd].connected = 0;
            started++;
            next_due = c->rate > 0 ? due_time(c, started) : now;
            if (connect(fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) < 0 &&
                errno != EINPROGRESS) {
                close(fd);
                c->failed++;
                continue;
            }
            ev.data.u64 = (uint64_t)fd;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            inflight++;
        }
        if (now >= end && inflight == 0)
            break;
        if (c->rate > 0 && now < end) {
            struct itimerspec its = {
                .it_value = {(time_t)(next_due / 1000000000ULL), (long)(next_due % 1000000000ULL)}};

            timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
        }
        n = epoll_wait(ep, events, MAX_EVENTS, 100);
        for (int i = 0; i < n; i++) {
            int fd;
            char buf[16];
            ssize_t r;

            if (events[i].data.u64 == UINT64_MAX) {
                uint64_t x;

                (void)!read(tfd, &x, sizeof(x));
                continue;
            }
            fd = (int)events[i].data.u64;
            if (!slots[fd].connected) {
                int err = 0;
                socklen_t len = sizeof(err);
                struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};

                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                if (err) {
                    close(fd);
                    inflight--;
                    c->failed++;
                    continue;
                }
                if (c->nlat < c->lat_cap)
                    c->lat[c->nlat++] = (now_ns() - slots[fd].due) / 1000;
                slots[fd].connected = 1;
                epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
                continue;
            }
            while ((r = recv(fd, buf, sizeof(buf), 0)) > 0)
                ;
            if (r < 0 && errno == EAGAIN)
                continue;
            close(fd); /* after the server's FIN: no TIME_WAIT on this side */
            inflight--;
            c->done++;
        }
    }
    c->end = now_ns();
    if (tfd >= 0)
        close(tfd);
    close(ep);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 5, rate = 0;
    long inflight_max = 64, nclients = 1;
    socklen_t alen = sizeof(server_addr);
    pthread_t th;
    int one = 1;
    struct client *clients;
    uint64_t *lat, nlat = 0, done = 0, failed = 0, start, end = 0;
    struct rusage ru;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--inflight") == 0)
            inflight_max = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--rate") == 0)
            rate = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--clients") == 0)
            nclients = atol(argv[i + 1]);
        else {
            fprintf(stderr,
                    "usage: yardstick --seconds S [--inflight N | --rate R] [--clients T]\n");
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 600 || inflight_max < 1 || rate < 0 || nclients < 1 ||
        nclients > 64 || inflight_max < nclients) {
        fprintf(stderr, "yardstick: bad arguments\n");
        return 2;
    }
    slots = calloc(MAX_FDS, sizeof(*slots));
    lat = malloc(MAX_SAMPLES * sizeof(*lat));
    clients = calloc((size_t)nclients, sizeof(*clients));
    server_addr.sin_family = AF_INET;
    server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (!slots || !lat || !clients ||
        bind(listen_fd, (struct sockaddr *)&server_addr, sizeof(server_addr)) < 0 ||
        listen(listen_fd, 4096) < 0 ||
        getsockname(listen_fd, (struct sockaddr *)&server_addr, &alen) < 0) {
        perror("yardstick: listener");
        return 1;
    }
    pthread_create(&th, NULL, acceptor, NULL);
    start = now_ns();
    for (long i = 0; i < nclients; i++) {
        struct client *c = &clients[i];

        c->rate = rate;
        c->seconds = seconds;
        /* open loop: the pool is not the limit; closed loop: split the cap */
        c->inflight_max = rate > 0 ? 60000 / nclients : inflight_max / nclients;
        c->index = (unsigned)i;
        c->count = (unsigned)nclients;
        c->lat_cap = MAX_SAMPLES / (uint64_t)nclients;
        c->lat = lat + (uint64_t)i * c->lat_cap;
        c->start = start;
        pthread_create(&c->th, NULL, client_loop, c);
    }
    for (long i = 0; i < nclients; i++) {
        struct client *c = &clients[i];

        pthread_join(c->th, NULL);
        /* gather the samples into one contiguous array for the percentiles */
        memmove(lat + nlat, c->lat, c->nlat * sizeof(*lat));
        nlat += c->nlat;
        done += c->done;
        failed += c->failed;
        if (c->end > end)
            end = c->end;
    }
    stop_acceptor = 1;
    pthread_join(th, NULL);
    getrusage(RUSAGE_SELF, &ru);
    qsort(lat, nlat, sizeof(*lat), cmp_u64);
    printf("clients=%ld\n", nclients);
    printf("connections=%llu\n", (unsigned long long)done);
    printf("failed=%llu\n", (unsigned long long)failed);
    printf("seconds=%.3f\n", (double)(end - start) / 1e9);
    printf("rate=%.0f\n", (double)done / ((double)(end - start) / 1e9));
    printf("cpu_us=%.0f\n", (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
                                (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec);
    printf("maxrss_kb=%ld\n", ru.ru_maxrss);
    printf("connect_p50_us=%llu\n", nlat ? (unsigned long long)lat[nlat / 2] : 0ULL);
    printf("connect_p99_us=%llu\n", nlat ? (unsigned long long)lat[nlat * 99 / 100] : 0ULL);
    close(listen_fd);
    free(clients);
    free(lat);
    free(slots);
    return 0;
}
