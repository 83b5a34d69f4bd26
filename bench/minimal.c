/* minimal: the kernel's best for loopback connects on this machine, the
 * independent way: T threads, each with its own listener, its own clients
 * and one epoll loop; non-blocking connect, accept, RST close on both ends
 * (SO_LINGER 0, so no TIME_WAIT anywhere), client sources spread over
 * 127.0.0.0/8. Nothing shared between threads, nothing measured but the
 * count. The second yardstick of connect-rate: what qbench's fastest mode
 * (no greeting, client.close "reset") is held against.
 *
 *   minimal --seconds S [--threads T] [--inflight N]   (N per thread)
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
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

struct worker {
    pthread_t th;
    unsigned index;
    double seconds;
    int inflight;
    uint64_t done, failed;
};

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void rst_close(int fd)
{
    struct linger lg = {1, 0};

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd);
}

/* A connect from the next of this thread's 64 source addresses. */
static int start_one(struct worker *w, int ep, const struct sockaddr_in *dst, unsigned *next)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    struct sockaddr_in src = {.sin_family = AF_INET};
    struct epoll_event ev = {.events = EPOLLOUT};

    if (fd < 0)
        return -1;
    src.sin_addr.s_addr = htonl((127u << 24) | ((w->index + 1) << 16) | (1 + (*next)++ % 64));
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0 ||
        (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0 && errno != EINPROGRESS)) {
        close(fd);
        w->failed++;
        return 0;
    }
    ev.data.fd = fd;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    return 1;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    struct sockaddr_in dst = {.sin_family = AF_INET};
    socklen_t alen = sizeof(dst);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
    int ep = epoll_create1(EPOLL_CLOEXEC), live = 0;
    struct epoll_event ev = {.events = EPOLLIN}, events[256];
    unsigned next = 0;
    uint64_t end;

    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(lfd, (struct sockaddr *)&dst, sizeof(dst)) < 0 || listen(lfd, 4096) < 0 ||
        getsockname(lfd, (struct sockaddr *)&dst, &alen) < 0)
        return NULL;
    ev.data.fd = lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    end = now_ns() + (uint64_t)(w->seconds * 1e9);
    while (live < w->inflight && start_one(w, ep, &dst, &next) >= 0)
        live++;
    while (now_ns() < end) {
        int n = epoll_wait(ep, events, 256, 100);

        for (int i = 0; i < n; i++) {
            int fd = events[i].data.fd;

            if (fd == lfd) {
                int c;

                while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                    rst_close(c);
                continue;
            }
            {
                int err = 0;
                socklen_t len = sizeof(err);

                getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                /* the server accepts and resets at once: its RST may be
                 * here before this loop sees the connect complete */
                if (err && err != ECONNRESET)
                    w->failed++;
                else
                    w->done++;
            }
            rst_close(fd);
            if (start_one(w, ep, &dst, &next) < 0)
                live--;
        }
    }
    close(lfd);
    close(ep);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 5;
    long threads = sysconf(_SC_NPROCESSORS_ONLN), inflight = 32;
    struct worker *w;
    uint64_t done = 0, failed = 0, start;
    struct rusage ru;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--inflight") == 0)
            inflight = atol(argv[i + 1]);
        else {
            fprintf(stderr, "usage: minimal --seconds S [--threads T] [--inflight N]\n");
            return 2;
        }
    }
    if (seconds <= 0 || seconds > 600 || threads < 1 || threads > 64 || inflight < 1 ||
        inflight > 10000) {
        fprintf(stderr, "minimal: bad arguments\n");
        return 2;
    }
    w = calloc((size_t)threads, sizeof(*w));
    if (!w)
        return 1;
    start = now_ns();
    for (long i = 0; i < threads; i++) {
        w[i].index = (unsigned)i;
        w[i].seconds = seconds;
        w[i].inflight = (int)inflight;
        pthread_create(&w[i].th, NULL, run, &w[i]);
    }
    for (long i = 0; i < threads; i++) {
        pthread_join(w[i].th, NULL);
        done += w[i].done;
        failed += w[i].failed;
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("threads=%ld\nconnections=%llu\nfailed=%llu\nrate=%.0f\n", threads,
           (unsigned long long)done, (unsigned long long)failed,
           (double)done / ((double)(now_ns() - start) / 1e9));
    printf("cpu_us=%.0f\n", (double)ru.ru_utime.tv_sec * 1e6 + (double)ru.ru_utime.tv_usec +
                                (double)ru.ru_stime.tv_sec * 1e6 + (double)ru.ru_stime.tv_usec);
    printf("maxrss_kb=%ld\n", ru.ru_maxrss);
    free(w);
    return 0;
}
