/* diag: the listener asked by its id says what a full dump says, and
 * stops being asked that way when it is not alone or not the same socket;
 * and the sampler's pacing rule (diag_walk_spacing_ns): a walk every tick
 * while it is cheap, its CPU share bounded when it is dear. The kernel
 * part runs in a network namespace of its own. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "harness.h"

#define PORT 4711
#define TICK_NS 10000000ull

/* Runs the sampler's rule over ticks ticks, a walk costing cost_ns each
 * (it ends cost_ns after its tick began); returns the walks made. */
static uint64_t walks_over(uint64_t cost_ns, uint64_t ticks)
{
    uint64_t next = 0, walks = 0;

    for (uint64_t k = 0; k < ticks; k++) {
        uint64_t now = k * TICK_NS;

        if (now < next)
            continue;
        walks++;
        next = now + cost_ns + diag_walk_spacing_ns(cost_ns, TICK_NS);
    }
    return walks;
}

static void test_a_walk_under_one_percent_of_a_tick_runs_every_tick(void **state)
{
    (void)state;
    assert_int_equal(walks_over(0, 1000), 1000);
    assert_int_equal(walks_over(20000, 1000), 1000);  /* 20 us: a quiet namespace */
    assert_int_equal(walks_over(70000, 1000), 1000);  /* 70 us */
    assert_int_equal(walks_over(100000, 1000), 1000); /* 100 us: 1% of 10 ms */
}

static void test_a_dear_walk_keeps_its_share_of_a_cpu(void **state)
{
    /* from 2 ticks' worth up to the shared hash's 3.6 ms: the walks'
     * share of the time stays within 1/DIAG_COST_SHARE (+ one tick's
     * rounding) and the sampler still walks */
    static const uint64_t costs[] = {200000, 500000, 1000000, 3600000};

    (void)state;
    for (size_t i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
        uint64_t ticks = 10000, w = walks_over(costs[i], ticks);
        double share = (double)(w * costs[i]) / (double)(ticks * TICK_NS);

        assert_true(w > 0);
        assert_true(w < ticks);
        assert_true(share <= 1.0 / DIAG_COST_SHARE * 1.5);
        assert_true(share >= 1.0 / DIAG_COST_SHARE / 2);
    }
}

static void test_a_lone_listener_is_asked_by_id_between_full_dumps(void **state)
{
    (void)state;
    assert_false(diag_ask_by_id(false, 0));
    assert_true(diag_ask_by_id(true, 0));
    assert_true(diag_ask_by_id(true, DIAG_FULL_EVERY - 2));
    assert_false(diag_ask_by_id(true, DIAG_FULL_EVERY - 1));
}

static void enter_netns(void)
{
    struct ifreq r;
    int s;

    harness_require_netns();
    if (unshare(CLONE_NEWNET) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
        fail_msg("unshare: %s", strerror(errno));
    s = socket(AF_INET, SOCK_DGRAM, 0);
    memset(&r, 0, sizeof(r));
    strcpy(r.ifr_name, "lo");
    assert_int_equal(ioctl(s, SIOCGIFFLAGS, &r), 0);
    r.ifr_flags |= IFF_UP;
    assert_int_equal(ioctl(s, SIOCSIFFLAGS, &r), 0);
    close(s);
}

static int listener(int backlog, bool reuseport)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    if (reuseport)
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, backlog), 0);
    return fd;
}

static int client(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void ask(struct diag *d, unsigned listeners, unsigned len, unsigned limit)
{
    struct diag_queues q;
    char err[256];

    assert_int_equal(diag_queues(d, PORT, false, &q, err, sizeof(err)), 0);
    assert_int_equal(q.listeners, listeners);
    assert_int_equal(q.accept_len, len);
    assert_int_equal(q.accept_limit, limit);
}

static void test_asks_by_id_follow_the_listener(void **state)
{
    char err[256];
    struct diag *d;
    int l, l2, c[3];
    uint64_t before;

    (void)state;
    enter_netns();
    d = diag_open(err, sizeof(err));
    assert_non_null(d);
    l = listener(5, false);
    for (int i = 0; i < 3; i++)
        c[i] = client();
    /* the first ask is a full dump; then by id, with a full dump among
     * every DIAG_FULL_EVERY, all telling the same */
    for (int i = 0; i < 3 * DIAG_FULL_EVERY; i++)
        ask(d, 1, 3, 5);
    assert_true(diag_asks_by_id(d) >= 2 * DIAG_FULL_EVERY);
    close(accept(l, NULL, NULL));
    ask(d, 1, 2, 5);

    /* another socket on the port: the id's cookie does not match it */
    close(l);
    ask(d, 0, 0, 0);
    l = listener(7, false);
    ask(d, 1, 0, 7);
    ask(d, 1, 0, 7);

    /* a second listener joins a reuseport group the asks knew alone: a
     * full dump within DIAG_FULL_EVERY asks sums both, and from then on
     * every ask is a full dump */
    close(l);
    l = listener(4, true);
    ask(d, 1, 0, 4);
    ask(d, 1, 0, 4);
    l2 = listener(6, true);
    for (int i = 0; i < DIAG_FULL_EVERY; i++) {
        struct diag_queues q;

        assert_int_equal(diag_queues(d, PORT, false, &q, err, sizeof(err)), 0);
        assert_true(q.listeners == 1 || q.listeners == 2);
    }
    before = diag_asks_by_id(d);
    for (int i = 0; i < 2 * DIAG_FULL_EVERY; i++)
        ask(d, 2, 0, 10);
    assert_true(diag_asks_by_id(d) == before);
    close(l2);
    ask(d, 1, 0, 4);
    ask(d, 1, 0, 4);
    assert_true(diag_asks_by_id(d) > before);

    for (int i = 0; i < 3; i++)
        close(c[i]);
    close(l);
    diag_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_walk_under_one_percent_of_a_tick_runs_every_tick),
        cmocka_unit_test(test_a_dear_walk_keeps_its_share_of_a_cpu),
        cmocka_unit_test(test_a_lone_listener_is_asked_by_id_between_full_dumps),
        cmocka_unit_test(test_asks_by_id_follow_the_listener),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
