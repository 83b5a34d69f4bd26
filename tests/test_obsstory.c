/* obsstory: give-ups of shards re-told from an observer's sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "acceptobs.h"
#include "errbuf.h"
#include "obsdoc.h"
#include "obsstory.h"

#define CLIENT "198.18.0.2"

/* A shard run with give-ups on ports 1000.. (started 100 ms apart, all
 * given up 2 s after the first; times in us from its origin). */
static json_t *shard_run(double origin, int ngave, bool complete)
{
    json_t *rows = json_array(), *tl = json_array();

    for (int i = 0; i < ngave; i++)
        json_array_append_new(
            rows,
            json_pack("[s, i, I, I, I, I, I, n, b, b]", CLIENT, 1000 + i, (json_int_t)(i * 100000),
                      (json_int_t)(i * 100000 + 10), (json_int_t)(i * 100000 + 1000),
                      (json_int_t)(i * 1000 + 2001000), (json_int_t)(i * 1000 + 2001000), 0, 0));
    for (int r = 0; r < 40; r++)
        json_array_append_new(tl, json_pack("[i, i, i, i, i, i, i, i, i, i, i, i]", r * 100, 0, 0,
                                            0, 0, 0, 0, 0, r == 20 ? ngave : 0, 0, 0, 0));
    return json_pack("{s:f, s:{s:i, s:i, s:i, s:i}, s:{s:b, s:o}, s:i, s:o}", "origin_epoch_s",
                     origin, "outcomes", "attempted", ngave, "greeting_timeout", ngave,
                     "accepted_late", 0, "never_accepted", 0, "gave_up", "complete", complete,
                     "rows", rows, "timeline_interval_ms", 100, "timeline", tl);
}

/* The server saw: port 1000 accepted at 3 s (after the give-up at 2 s),
 * port 1001 a request that expired, port 1002 a child still queued at the
 * end, port 1003 nothing at all. Times in ms on the observer's clock. */
static json_t *observer(double origin, long long skew_ms)
{
    json_t *s = json_array();
    long long k = skew_ms * 1000;

    json_array_append_new(s, json_pack("[s, i, i, i, i, i, i, I, I, I, I, n, b]", CLIENT, 1000,
                                       ACCEPTOBS_CHILD, ACCEPTOBS_GONE_ACCEPTED, 1, 0, 0,
                                       (json_int_t)(1000 + k), (json_int_t)(5000 + k),
                                       (json_int_t)(2990000 + k), (json_int_t)(3000000 + k), 0));
    json_array_append_new(s, json_pack("[s, i, i, i, i, i, i, I, I, n, n, I, b]", CLIENT, 1001,
                                       ACCEPTOBS_REQUEST, ACCEPTOBS_GONE_QUEUED, 3, 0, 1,
                                       (json_int_t)(100000 + k), (json_int_t)(105000 + k),
                                       (json_int_t)(1200000 + k), 1));
    json_array_append_new(s, json_pack("[s, i, i, i, i, i, i, I, I, I, n, n, b]", CLIENT, 1002,
                                       ACCEPTOBS_CHILD, ACCEPTOBS_ALIVE, 1, 0, 0,
                                       (json_int_t)(201000 + k), (json_int_t)(205000 + k),
                                       (json_int_t)(3990000 + k), 0));
    return json_pack("{s:s, s:f, s:{s:b, s:I, s:I, s:I, s:[s,s,s,s,s,s,s,s,s,s,s,s,s], s:o}}",
                     "schema", OBSDOC_SCHEMA, "origin_epoch_s", origin, "accepts", "complete", 1,
                     "first_poll_us", (json_int_t)(k), "last_poll_us", (json_int_t)(4000000 + k),
                     "gap_us_max", (json_int_t)10000, "fields", "peer", "port", "kind", "end",
                     "last_state", "closed_by_owner", "synack_retrans", "before_us", "first_us",
                     "queued_us", "accepted_us", "gone_us", "born_request", "sockets", s);
}

static long long out_of(const json_t *run, const char *cls)
{
    return json_integer_value(json_object_get(json_object_get(run, "outcomes"), cls));
}

static void check_verdicts(json_t *run, long long skew_ms)
{
    const json_t *row = json_array_get(json_object_get(run, "timeline"), 20);

    assert_int_equal(out_of(run, "accepted_late"), 1);
    assert_int_equal(out_of(run, "never_accepted"), 2);
    assert_int_equal(out_of(run, "greeting_timeout"), 1);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(run, "story"), "unknown")),
                     1);
    /* the timeline row where they gave up moved with them */
    assert_int_equal(json_integer_value(json_array_get(row, 4 + 4)), 1);
    assert_int_equal(json_integer_value(json_array_get(row, 4 + 5)), 1);
    assert_int_equal(json_integer_value(json_array_get(row, 4 + 6)), 2);
    /* accepted 1 s after the client gave up (the middle of the bracket),
     * as the server's clock says: a skew moves it by as much */
    assert_in_range(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(run, "latency_us"), "accepted_late_by"), "p50")),
        980000 + skew_ms * 1000, 1010000 + skew_ms * 1000);
}

static void test_give_ups_are_told_from_the_servers_sockets(void **state)
{
    char err[ERRBUF_LEN];
    json_t *run = shard_run(1000.0, 4, true), *obs = observer(1000.0, 0);

    (void)state;
    json_object_set_new(run, "latency_us", json_object());
    assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
    check_verdicts(run, 0);
    assert_true(json_is_true(json_object_get(json_object_get(run, "story"), "joined")));
    json_decref(run);
    json_decref(obs);
}

/* The server's clock 80 ms behind the clients' (within the allowance):
 * the same verdicts. */
static void test_clock_skew_within_the_allowance_is_absorbed(void **state)
{
    char err[ERRBUF_LEN];
    json_t *run = shard_run(1000.0, 4, true), *obs = observer(1000.0, -80);

    (void)state;
    json_object_set_new(run, "latency_us", json_object());
    assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
    check_verdicts(run, -80);
    assert_true(json_real_value(json_object_get(json_object_get(run, "story"),
                                                "clock_skew_allowed_ms")) == 100.0);
    json_decref(run);
    json_decref(obs);
}

/* The estimator alone: a shard whose clock is 250 ms behind the
 * observer's. 40 give-ups, polled every 10 ms at a phase of each's own:
 * 6 whose request the observer saw (born 40 us after the client's SYN,
 * the handshake completing 80 us or, after a SYN-ACK retransmit, 1 s
 * later), and children born of the handshake's ACK (60 us after the
 * client saw it complete) or of a later re-presentation (+1 s, a FIN 2.2 ..
 * 5 s later); plus one child of another connection on the tuple, seconds
 * early. */
static void fill_pairs(struct obsstory_pair *p, int64_t theta, bool with_requests)
{
    const int64_t ms = 1000000LL;

    for (int i = 0; i < 40; i++) {
        int64_t start = i * 37 * ms, connect = start + (i % 4 == 1 ? 1000 * ms : 80000);
        bool request = with_requests && i % 7 == 0;
        int64_t wait = i % 5 == 0 ? 0 : i % 2 ? 1000 * ms : (2200 + 70 * i) * ms;
        int64_t birth = request ? start + 40000 + theta : connect + 60000 + theta + wait;
        int64_t phase = (i * 3 * ms + 1234567) % (10 * ms);
        int64_t first = birth + (10 * ms - phase);

        p[i] = (struct obsstory_pair){start, connect, first - 10 * ms, first, request};
    }
    p[40] = (struct obsstory_pair){0, 80000, -4000 * ms, -3990 * ms, false};
}

static void test_the_offset_is_bounded_by_causality(void **state)
{
    struct obsstory_pair p[41];
    struct obsstory_offset o;
    const int64_t theta = 250 * 1000000LL, ms = 1000000LL;

    (void)state;
    fill_pairs(p, theta, true);
    obsstory_offset(p, 41, 2 * ms, &o);
    assert_int_equal(o.pairs, 41);
    assert_int_equal(o.lower_pairs, 6);
    assert_true(o.lower_known);
    assert_true(o.min_ns <= theta && theta <= o.max_ns);
    /* as tight as the polls and the client's lag allow */
    assert_true(o.max_ns - o.min_ns <= 13 * ms);
    assert_in_range(o.offset_ns, theta - 7 * ms, theta + 7 * ms);
    /* one child alone was queued at once, the others came a second or more
     * later: with a lower bound it still makes the upper one */
    fill_pairs(p, theta, true);
    for (int i = 1; i < 40; i++)
        if (!p[i].born_request && i != 5) {
            p[i].before_ns += 1000 * ms;
            p[i].first_ns += 1000 * ms;
        }
    obsstory_offset(p, 41, 2 * ms, &o);
    assert_true(o.lower_known);
    assert_true(o.min_ns <= theta && theta <= o.max_ns && o.max_ns <= theta + 13 * ms);
    /* no request seen (all syncookie connections): only the upper bound */
    fill_pairs(p, -theta, false);
    obsstory_offset(p, 41, 2 * ms, &o);
    assert_false(o.lower_known);
    assert_true(-theta <= o.max_ns && o.max_ns <= -theta + 13 * ms);
    /* nor does anything below it come from the children: births of a
     * later re-presentation only (no child queued at once) put the upper
     * bound a second or more above, and nothing claims a lower one */
    for (int i = 0; i < 41; i++) {
        p[i].before_ns += 1000 * ms;
        p[i].first_ns += 1000 * ms;
    }
    obsstory_offset(p, 41, 2 * ms, &o);
    assert_false(o.lower_known);
    assert_true(o.max_ns >= -theta);
    /* nothing seen by both: nothing known */
    obsstory_offset(p, 0, 0, &o);
    assert_int_equal(o.pairs, 0);
}

/* A shard clock 250 ms ahead of the server's (beyond the 100 ms
 * allowance; uncorrected, the server's sockets would all look older than
 * their connections and every verdict would be never_accepted): measured,
 * corrected, and the join is the same as with one clock. The other way
 * too. */
static void test_a_skew_beyond_the_allowance_is_measured_and_corrected(void **state)
{
    char err[ERRBUF_LEN];
    long long skews[2] = {-250, 250};

    (void)state;
    for (int k = 0; k < 2; k++) {
        json_t *run = shard_run(1000.0, 4, true), *obs = observer(1000.0, skews[k]);
        const json_t *off;

        json_object_set_new(run, "latency_us", json_object());
        assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
        check_verdicts(run, 0);
        off = json_array_get(json_object_get(json_object_get(run, "story"), "clock_offset_ms"), 0);
        assert_true(json_is_true(json_object_get(off, "corrected")));
        /* the children of 1000 and 1002, and 1001's request */
        assert_int_equal(json_integer_value(json_object_get(off, "pairs")), 3);
        assert_int_equal(json_integer_value(json_object_get(off, "lower_pairs")), 1);
        assert_true(json_number_value(json_object_get(off, "min_ms")) <= (double)skews[k]);
        assert_true(json_number_value(json_object_get(off, "max_ms")) >= (double)skews[k]);
        assert_true(fabs(json_number_value(json_object_get(off, "offset_ms")) - (double)skews[k]) <
                    5.0);
        json_decref(run);
        json_decref(obs);
    }
}

/* A skew beyond the allowance that the polls cannot pin down (each child
 * bracketed by a second-long gap): not joined, and the run says why. */
static void test_a_skew_not_known_well_enough_is_not_joined(void **state)
{
    char err[ERRBUF_LEN];
    json_t *run = shard_run(1000.0, 4, true), *obs = observer(1000.0, -500);
    json_t *socks = json_object_get(json_object_get(obs, "accepts"), "sockets");
    const char *why;

    (void)state;
    for (size_t i = 0; i < json_array_size(socks); i++) {
        json_t *r = json_array_get(socks, i);

        json_array_set_new(r, 7, json_integer(json_integer_value(json_array_get(r, 8)) - 1000000));
    }
    assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
    assert_false(json_is_true(json_object_get(json_object_get(run, "story"), "joined")));
    why = json_string_value(json_object_get(json_object_get(run, "story"), "why"));
    assert_non_null(why);
    assert_non_null(strstr(why, "clock"));
    assert_int_equal(out_of(run, "greeting_timeout"), 4);
    assert_int_equal(out_of(run, "never_accepted"), 0);
    json_decref(run);
    json_decref(obs);
}

/* An observer older than born_request cannot say which children were
 * requests first: no offset is measured, and the join is the one within
 * the allowance. */
static void test_an_older_observer_is_not_measured(void **state)
{
    char err[ERRBUF_LEN];
    json_t *run = shard_run(1000.0, 4, true), *obs = observer(1000.0, 0);
    json_t *socks = json_object_get(json_object_get(obs, "accepts"), "sockets");
    const json_t *off;

    (void)state;
    json_array_remove(json_object_get(json_object_get(obs, "accepts"), "fields"), 12);
    for (size_t i = 0; i < json_array_size(socks); i++)
        json_array_remove(json_array_get(socks, i), 12);
    json_object_set_new(run, "latency_us", json_object());
    assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
    check_verdicts(run, 0);
    off = json_array_get(json_object_get(json_object_get(run, "story"), "clock_offset_ms"), 0);
    assert_int_equal(json_integer_value(json_object_get(off, "pairs")), 0);
    assert_true(json_is_null(json_object_get(off, "offset_ms")));
    json_decref(run);
    json_decref(obs);
}

/* Where the join cannot be trusted, nothing moves and the run says why. */
static void test_what_cannot_be_joined_stays_unknown(void **state)
{
    char err[ERRBUF_LEN];
    json_t *run = shard_run(1000.0, 4, false), *obs = observer(1000.0, 0), *two[2];
    const char *why;

    (void)state;
    assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
    assert_int_equal(out_of(run, "greeting_timeout"), 4);
    assert_false(json_is_true(json_object_get(json_object_get(run, "story"), "joined")));
    json_decref(run);
    /* NAT: the server saw other addresses */
    run = shard_run(1000.0, 4, true);
    json_array_set_new(json_array_get(json_object_get(json_object_get(run, "gave_up"), "rows"), 0),
                       0, json_string("198.18.0.9"));
    for (size_t i = 1; i < 4; i++)
        json_array_set_new(
            json_array_get(json_object_get(json_object_get(run, "gave_up"), "rows"), i), 0,
            json_string("198.18.0.9"));
    assert_int_equal(obsstory_join(run, &run, 1, &obs, 1, err, sizeof(err)), 0);
    why = json_string_value(json_object_get(json_object_get(run, "story"), "why"));
    assert_non_null(why);
    assert_non_null(strstr(why, "NAT"));
    assert_int_equal(out_of(run, "never_accepted"), 0);
    json_decref(run);
    /* two servers: which one a connection reached is unknown */
    run = shard_run(1000.0, 4, true);
    two[0] = two[1] = obs;
    assert_int_equal(obsstory_join(run, &run, 1, two, 2, err, sizeof(err)), 0);
    assert_int_equal(out_of(run, "greeting_timeout"), 4);
    json_decref(run);
    json_decref(obs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_give_ups_are_told_from_the_servers_sockets),
        cmocka_unit_test(test_clock_skew_within_the_allowance_is_absorbed),
        cmocka_unit_test(test_what_cannot_be_joined_stays_unknown),
        cmocka_unit_test(test_the_offset_is_bounded_by_causality),
        cmocka_unit_test(test_a_skew_beyond_the_allowance_is_measured_and_corrected),
        cmocka_unit_test(test_a_skew_not_known_well_enough_is_not_joined),
        cmocka_unit_test(test_an_older_observer_is_not_measured),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
