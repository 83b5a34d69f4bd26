/* story: joining the client's and the server's view of each connection. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "story.h"

static struct story_tuple tuple(const char *ip, uint16_t port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct story_tuple t;

    inet_pton(AF_INET, ip, &in.sin_addr);
    story_tuple_of((struct sockaddr *)&in, &t);
    return t;
}

static void add(struct story_log *log, struct story_tuple t, uint64_t ms, bool late)
{
    struct story_accept a = {.peer = t, .ns = ms * NS_PER_MS, .late = late, .synack_retrans = 1};

    assert_int_equal(story_log_add(log, &a), 0);
}

static struct story_gave_up gave_up(struct story_tuple t, uint64_t start_ms, uint64_t giveup_ms)
{
    struct story_gave_up g = {
        .src = t, .start_ns = start_ms * NS_PER_MS, .giveup_ns = giveup_ms * NS_PER_MS};

    return g;
}

static void test_late_and_never_accepted_are_told_apart(void **state)
{
    struct story_log log = {0};
    struct story_gave_up g[3];
    struct histogram late_by;
    uint64_t late = 0, never = 0;

    (void)state;
    histogram_init(&late_by);
    add(&log, tuple("127.0.0.1", 40000), 1500, true); /* 500 ms after its give-up */
    add(&log, tuple("127.0.0.1", 40002), 50, false);  /* someone else's, on time */
    add(&log, tuple("127.0.0.2", 40001), 3000, true); /* same port, other address */
    story_log_sort(&log);
    g[0] = gave_up(tuple("127.0.0.1", 40000), 0, 1000);
    g[1] = gave_up(tuple("127.0.0.1", 40001), 0, 1000); /* the server never saw it */
    g[2] = gave_up(tuple("127.0.0.2", 40001), 100, 1100);
    assert_int_equal(story_classify(&log, g, 3, &late, &never, &late_by), 0);
    assert_int_equal(late, 2);
    assert_int_equal(never, 1);
    assert_true(g[0].accepted && g[0].accept_ns == 1500 * NS_PER_MS);
    assert_false(g[1].accepted);
    assert_true(g[2].accepted);
    assert_int_equal(late_by.count, 2);
    assert_int_equal(late_by.min, 500000);                     /* 500 ms, in us */
    assert_true(histogram_quantile(&late_by, 1.0) >= 1890000); /* 1.9 s, within a bucket */
    story_log_free(&log);
}

/* A tuple used twice: the first connection was forgotten (half-open), the
 * second accepted late. Whatever the order of the array, the accept goes
 * to the connection it belongs to. */
static void test_a_reused_tuple_gets_the_right_accept(void **state)
{
    struct story_tuple t = tuple("127.0.0.1", 50000);

    (void)state;
    for (int order = 0; order < 2; order++) {
        struct story_log log = {0};
        struct story_gave_up g[2];
        struct histogram late_by;
        uint64_t late = 0, never = 0;
        size_t first = order ? 1 : 0, second = order ? 0 : 1;

        histogram_init(&late_by);
        add(&log, t, 40, true);
        story_log_sort(&log);
        g[first] = gave_up(t, 0, 10);
        g[second] = gave_up(t, 20, 30);
        assert_int_equal(story_classify(&log, g, 2, &late, &never, &late_by), 0);
        assert_int_equal(late, 1);
        assert_int_equal(never, 1);
        assert_false(g[first].accepted);
        assert_true(g[second].accepted);
        story_log_free(&log);
    }
}

/* An accept the server made while the client still waited belongs to a
 * connection that got its greeting, never to one that gave up. */
static void test_on_time_accepts_are_not_late_ones(void **state)
{
    struct story_tuple t = tuple("127.0.0.1", 50001);
    struct story_log log = {0};
    struct story_gave_up g = gave_up(t, 0, 10);
    struct histogram late_by;
    uint64_t late = 0, never = 0;

    (void)state;
    histogram_init(&late_by);
    add(&log, t, 50, false);
    story_log_sort(&log);
    assert_int_equal(story_classify(&log, &g, 1, &late, &never, &late_by), 0);
    assert_int_equal(never, 1);
    /* an established connection finds its accept inside [start, greeting] */
    assert_null(story_find(&log, &t, 51 * NS_PER_MS, 60 * NS_PER_MS, false));
    assert_non_null(story_find(&log, &t, 45 * NS_PER_MS, 60 * NS_PER_MS, false));
    assert_null(story_find(&log, &t, 45 * NS_PER_MS, 60 * NS_PER_MS, false)); /* used */
    story_log_free(&log);
}

static void test_logs_merge_and_ipv6_tuples(void **state)
{
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(7)};
    struct story_log a = {0}, b = {0};
    struct story_tuple t6;

    (void)state;
    inet_pton(AF_INET6, "::1", &in6.sin6_addr);
    story_tuple_of((struct sockaddr *)&in6, &t6);
    assert_int_equal(t6.port, 7);
    assert_int_equal(t6.addr[15], 1);
    for (int i = 0; i < 1000; i++)
        add(&a, t6, (uint64_t)i, i % 2);
    add(&b, tuple("127.0.0.1", 7), 5, true);
    assert_int_equal(story_log_take(&a, &b), 0);
    assert_int_equal(a.n, 1001);
    assert_int_equal(b.n, 0);
    story_log_sort(&a);
    assert_int_equal(a.v[0].peer.family, AF_INET); /* grouped by tuple */
    for (size_t i = 2; i < a.n; i++)
        assert_true(a.v[i].ns > a.v[i - 1].ns);
    story_log_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_and_never_accepted_are_told_apart),
        cmocka_unit_test(test_a_reused_tuple_gets_the_right_accept),
        cmocka_unit_test(test_on_time_accepts_are_not_late_ones),
        cmocka_unit_test(test_logs_merge_and_ipv6_tuples),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
