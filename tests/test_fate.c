/* fate and acceptobs: a connection's fate from the kernel's sockets. The
 * sightings are built as a dump would report them; the live part of
 * acceptobs (a real listener, a real accept) is tested at the end. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "acceptobs.h"
#include "clock.h"
#include "fate.h"
#include "netns.h"

#define MS NS_PER_MS

static struct story_tuple tuple(uint16_t port)
{
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
    struct story_tuple t;

    inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
    story_tuple_of((struct sockaddr *)&in, &t);
    return t;
}

static struct diag_sock dsock(uint8_t state, uint32_t inode)
{
    struct diag_sock d;

    memset(&d, 0, sizeof(d));
    d.family = AF_INET;
    d.state = state;
    d.inode = inode;
    return d;
}

/* A child first seen at first_ms (the dump before at first_ms - 10). */
static struct acceptobs_sock child(uint16_t port, uint64_t first_ms)
{
    struct acceptobs_sock s;

    memset(&s, 0, sizeof(s));
    s.peer = tuple(port);
    s.kind = ACCEPTOBS_CHILD;
    s.before_ns = (first_ms - 10) * MS;
    s.first_ns = first_ms * MS;
    return s;
}

static struct fate_conn conn(uint16_t port, uint64_t start_ms, uint64_t release_ms)
{
    struct fate_conn c;

    memset(&c, 0, sizeof(c));
    c.src = tuple(port);
    c.start_ns = start_ms * MS;
    c.connect_ns = start_ms * MS + 1;
    c.release_ns = release_ms * MS;
    return c;
}

/* The fate of one connection against a view of its own. */
static struct fate_result fate_once(const struct fate_view *v, const struct fate_conn *c)
{
    struct fate_index *x = fate_index_new(v);
    struct fate_result r;

    assert_non_null(x);
    fate_of(x, c, &r);
    fate_index_free(x);
    return r;
}

static void test_inode_or_an_owner_state_means_accepted(void **state)
{
    (void)state;
    assert_false(acceptobs_state_accepted(TCP_ESTABLISHED, 0));
    assert_false(acceptobs_state_accepted(TCP_CLOSE_WAIT, 0)); /* client's FIN, still queued */
    assert_true(acceptobs_state_accepted(TCP_ESTABLISHED, 7749457));
    assert_true(acceptobs_state_accepted(TCP_LAST_ACK, 0)); /* its owner closed it */
    assert_true(acceptobs_state_accepted(TCP_FIN_WAIT2, 0));
    assert_true(acceptobs_state_accepted(TCP_TIME_WAIT, 0));
}

static void test_sightings_bracket_the_accept(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct diag_sock queued = dsock(TCP_ESTABLISHED, 0), taken = dsock(TCP_ESTABLISHED, 99);

    (void)state;
    acceptobs_sighting(&s, &queued, 100 * MS, 101 * MS);
    acceptobs_sighting(&s, &queued, 110 * MS, 111 * MS);
    acceptobs_sighting(&s, &taken, 120 * MS, 121 * MS);
    acceptobs_sighting(&s, &queued, 130 * MS, 131 * MS); /* later sightings change nothing */
    assert_int_equal(s.queued_ns, 110 * MS);
    assert_int_equal(s.accepted_ns, 121 * MS);
    acceptobs_vanished(&s, 1, 200 * MS);
    assert_int_equal(s.end, ACCEPTOBS_GONE_ACCEPTED);
}

static void test_a_queued_child_gone_with_its_listener_was_never_accepted(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct diag_sock queued = dsock(TCP_CLOSE_WAIT, 0);
    struct fate_view v = {&s, 1, 0, 5000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    acceptobs_sighting(&s, &queued, 100 * MS, 101 * MS);
    acceptobs_vanished(&s, 0, 4000 * MS);
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_LISTENER_CLOSED);
}

/* The listener's close resets what is still queued: a FIN or an answer the
 * client read came from an application that took the child after the last
 * dump saw it queued (nginx, under load: accepted, read the client's FIN and
 * closed, all within 1 ms, then stopped before the next dump). */
static void test_a_close_the_client_read_is_an_accept_even_as_the_listener_closes(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct diag_sock queued = dsock(TCP_CLOSE_WAIT, 0);
    struct fate_view v = {&s, 1, 0, 5000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    acceptobs_sighting(&s, &queued, 2900 * MS, 2901 * MS);
    acceptobs_vanished(&s, 0, 4000 * MS);
    c.late_ns = 2950 * MS;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_CLIENT_READ);
    assert_true(r.accept_ns >= 2900 * MS && r.accept_ns <= 2950 * MS);
    /* a reset is what the listener's close sends: no accept in that */
    c.saw_reset = true;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_LISTENER_CLOSED);
}

static void test_accept_time_and_precision_come_from_the_dumps(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct fate_view v = {&s, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;
    struct fate_index *x;

    (void)state;
    s.queued_ns = 2000 * MS;
    s.accepted_ns = 2010 * MS;
    x = fate_index_new(&v);
    fate_of(x, &c, &r);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_FILE);
    assert_int_equal(r.accept_ns, 2005 * MS);
    assert_true(r.precision_ns >= 5 * MS && r.precision_ns <= 5 * MS + 1);
    /* claimed once: the same tuple's next look finds nothing of its own */
    fate_of(x, &c, &r);
    assert_int_not_equal(r.verdict, FATE_ACCEPTED);
    fate_index_free(x);
}

static void test_the_answer_bounds_the_accept(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct fate_view v = {&s, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    s.accepted_ns = 100 * MS; /* seen accepted at once: accept in [90, 100] ms */
    c.connect_ns = 96 * MS;
    c.answer_ns = 98 * MS;
    r = fate_once(&v, &c);
    assert_int_equal(r.accept_ns, 97 * MS);
    assert_int_equal(r.precision_ns, 1 * MS);
}

static void test_left_the_queue_is_an_accept_unless_reset(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct fate_view v = {&s, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    s.queued_ns = 1000 * MS;
    acceptobs_vanished(&s, 1, 1010 * MS);
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_LEFT_QUEUE);
    c.saw_reset = true; /* accepted and closed unread, or reset: cannot tell */
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_UNKNOWN);
}

static void test_no_server_socket_is_never_accepted_only_with_full_view(void **state)
{
    struct acceptobs_sock other = child(40001, 100);
    struct fate_view v = {&other, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;
    struct fate_index *x = fate_index_new(&v);

    (void)state;
    fate_of(x, &c, &r);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_NO_SERVER_SOCKET);
    fate_index_free(x);
    v.complete = false; /* a failed dump: a hole where it may have been */
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_UNKNOWN);
    v.complete = true;
    v.gap_ns_max = 4000 * MS; /* no dump need have fallen while it was held */
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_UNKNOWN);
    v.gap_ns_max = 10 * MS;
    v.first_poll_ns = 200 * MS; /* the polls began after its handshake */
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_UNKNOWN);
}

static void test_a_request_gone_without_child_expired(void **state)
{
    struct acceptobs_sock s = child(40000, 100);
    struct fate_view v = {&s, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    s.kind = ACCEPTOBS_REQUEST;
    acceptobs_vanished(&s, 1, 2100 * MS);
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_REQUEST_EXPIRED);
}

static void test_each_connection_finds_its_own_child(void **state)
{
    /* one tuple used twice: the earlier connection must not take the
     * later one's child */
    struct acceptobs_sock s[2] = {child(40000, 100), child(40000, 5000)};
    struct fate_view v = {s, 2, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn early = conn(40000, 95, 3000), late = conn(40000, 4990, 8000);
    struct fate_result r;
    struct fate_index *x;

    (void)state;
    s[0].queued_ns = 100 * MS;
    acceptobs_vanished(&s[0], 0, 8500 * MS); /* never taken */
    s[1].accepted_ns = 5000 * MS;
    x = fate_index_new(&v);
    fate_of(x, &late, &r);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
    fate_of(x, &early, &r);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    fate_index_free(x);
}

/* A cookie connection whose ACK overflowed has no server socket at all;
 * after the client's graceful close its kernel retransmits the FIN (0.2,
 * 0.6, 1.4, 3 s ...), whose ACK completes the handshake once the queue has
 * room: a child born seconds after the release is still this connection's
 * (measured over veth: 70-83 of 88-100 late accepts came this way). */
static void test_a_child_born_of_a_retransmitted_fin_is_accepted(void **state)
{
    struct acceptobs_sock s = child(40000, 4400);
    struct fate_view v = {&s, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    s.queued_ns = 4400 * MS;
    s.accepted_ns = 4600 * MS;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_FILE);
    /* a reset frees the tuple at once: a later child is not its own */
    c.client_reset = true;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_NO_SERVER_SOCKET);
    /* beyond what the client's kernel retransmits for, not its own either */
    c.client_reset = false;
    s.before_ns = 3000 * MS + FATE_ORPHAN_HOLD_NS + 90 * MS;
    s.first_ns = s.before_ns + 10 * MS;
    v.last_poll_ns = s.first_ns + 9000 * MS;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
}

/* A request the server forgot (SYN-ACK retries ran out) ends the
 * connection for the server: the FIN that follows is answered with an RST,
 * the tuple is free, and a later child on it belongs to someone else. */
static void test_an_expired_request_ends_the_wait_for_a_child(void **state)
{
    struct acceptobs_sock s[2] = {child(40000, 100), child(40000, 6000)};
    struct fate_view v = {s, 2, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;

    (void)state;
    s[0].kind = ACCEPTOBS_REQUEST;
    acceptobs_vanished(&s[0], 1, 3100 * MS);
    s[1].accepted_ns = 6010 * MS;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_NEVER_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_REQUEST_EXPIRED);
}

/* The kernel's side, for real: a queued child has no file, an accepted one
 * has (needs a listener on loopback; skipped where there is none). */
static void test_a_real_accept_is_seen(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof(a);
    int l, c, s;
    char err[256];
    struct acceptobs *o;
    struct acceptobs_queues q;
    const struct acceptobs_sock *v;
    size_t n;

    struct netns ns;

    (void)state;
    /* loopback traffic only in a namespace of the test's own */
    netns_init(&ns);
    if (getenv("QBENCH_REQUIRE_NETNS") == NULL && netns_enter_private(&ns, err, sizeof(err)) < 0)
        skip();
    if (getenv("QBENCH_REQUIRE_NETNS"))
        assert_int_equal(netns_enter_private(&ns, err, sizeof(err)), 0);
    l = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(l, 8) < 0 ||
        getsockname(l, (struct sockaddr *)&a, &len) < 0)
        skip();
    c = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
    o = acceptobs_new(ntohs(a.sin_port), err, sizeof(err));
    assert_non_null(o);
    assert_int_equal(acceptobs_poll(o, &q, err, sizeof(err)), 0);
    assert_int_equal(q.listeners, 1);
    assert_int_equal(q.accept_len, 1);
    v = acceptobs_socks(o, &n);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].accepted_ns, 0);
    s = accept(l, NULL, NULL);
    assert_true(s >= 0);
    assert_int_equal(acceptobs_poll(o, &q, err, sizeof(err)), 0);
    v = acceptobs_socks(o, &n);
    assert_int_equal(n, 1);
    assert_true(v[0].accepted_ns > v[0].queued_ns);
    assert_false(v[0].closed_by_owner);
    close(s);
    assert_int_equal(acceptobs_poll(o, &q, err, sizeof(err)), 0);
    acceptobs_free(o);
    close(c);
    close(l);
}

/* A cookie connection whose final ACK the full queue dropped has no
 * server socket; its client gives up and lets go with its request and FIN
 * unacknowledged, and its kernel goes on presenting them: one of them can
 * still make the connection, which the server may accept and close between
 * two dumps (nginx at 2.5x its pace under load: 2 of 151). Never accepted
 * cannot be said then; and when the client, watching on, read the
 * server's close, the server accepted it, between the last moment the
 * bytes were unacknowledged and that read. */
static void test_unacknowledged_bytes_keep_the_connection_open(void **state)
{
    struct acceptobs_sock other = child(40001, 100);
    struct fate_view v = {&other, 1, 0, 9000 * MS, 10 * MS, true};
    struct fate_conn c = conn(40000, 95, 3000);
    struct fate_result r;
    struct fate_index *x = fate_index_new(&v);

    (void)state;
    c.released_unacked = true;
    c.unacked_ns = 3000 * MS;
    fate_of(x, &c, &r);
    assert_int_equal(r.verdict, FATE_UNKNOWN);
    c.released_unacked = false;
    c.unacked_ns = 2500 * MS;
    c.late_ns = 2700 * MS;
    fate_of(x, &c, &r);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
    assert_int_equal(r.cause, FATE_CAUSE_CLIENT_READ);
    assert_int_equal(r.accept_ns, 2600 * MS);
    assert_int_equal(r.precision_ns, 100 * MS);
    /* the same from the client alone, with a hole in the dumps */
    fate_index_free(x);
    v.complete = false;
    r = fate_once(&v, &c);
    assert_int_equal(r.verdict, FATE_ACCEPTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inode_or_an_owner_state_means_accepted),
        cmocka_unit_test(test_sightings_bracket_the_accept),
        cmocka_unit_test(test_a_queued_child_gone_with_its_listener_was_never_accepted),
        cmocka_unit_test(test_a_close_the_client_read_is_an_accept_even_as_the_listener_closes),
        cmocka_unit_test(test_accept_time_and_precision_come_from_the_dumps),
        cmocka_unit_test(test_the_answer_bounds_the_accept),
        cmocka_unit_test(test_left_the_queue_is_an_accept_unless_reset),
        cmocka_unit_test(test_no_server_socket_is_never_accepted_only_with_full_view),
        cmocka_unit_test(test_a_request_gone_without_child_expired),
        cmocka_unit_test(test_each_connection_finds_its_own_child),
        cmocka_unit_test(test_a_child_born_of_a_retransmitted_fin_is_accepted),
        cmocka_unit_test(test_an_expired_request_ends_the_wait_for_a_child),
        cmocka_unit_test(test_a_real_accept_is_seen),
        cmocka_unit_test(test_unacknowledged_bytes_keep_the_connection_open),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
