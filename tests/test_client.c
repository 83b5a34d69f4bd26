/* client: the connection slots and their cleanup, driven directly. The
 * module is included whole so the test reaches its static functions, and
 * calloc goes through a seam that can fail the n-th call. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static int calloc_calls, calloc_fail_at;

/* calloc, failing the calloc_fail_at-th call (0: none) */
static void *seam_calloc(size_t n, size_t size)
{
    if (++calloc_calls == calloc_fail_at)
        return NULL;
    return calloc(n, size);
}

#define calloc seam_calloc
#include "client.c"
#undef calloc

#include "errbuf.h"
#include "netns.h"

static void load_config(struct config *cfg, const char *text)
{
    json_t *root = json_loads(text, 0, NULL);
    char err[ERRBUF_LEN];

    assert_non_null(root);
    if (config_from_json(root, "t.json", "client", cfg, err, sizeof(err)) < 0)
        fail_msg("%s", err);
    json_decref(root);
}

/* client_new's allocations in order: the client, its pool, its request. */
static void test_a_failed_request_allocation_closes_no_descriptor(void **state)
{
    static struct config cfg;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(9)};
    struct sockaddr_storage dst;
    struct client_setup cs = {
        .dst = &dst, .dstlen = sizeof(a), .nstreams = 1, .pool = 8, .records_fd = -1};
    char err[ERRBUF_LEN] = "";
    int fds[2];

    (void)state;
    memset(&dst, 0, sizeof(dst));
    memcpy(&dst, &a, sizeof(a));
    load_config(&cfg, "{\"target\": \"127.0.0.1:9\", \"isolate\": false, \"client\": "
                      "{\"rate\": 100, \"connections\": 10}}");
    /* descriptor 0 is something this process holds */
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(dup2(fds[0], 0), 0);
    calloc_calls = 0;
    calloc_fail_at = 3;
    assert_null(client_new(&cfg, &cs, err, sizeof(err)));
    calloc_fail_at = 0;
    assert_int_equal(calloc_calls, 3);
    assert_non_null(strstr(err, "cannot allocate a pool"));
    if (fcntl(0, F_GETFD) < 0)
        fail_msg("client_free closed descriptor 0: %s", strerror(errno));
    close(fds[0]);
    close(fds[1]);
}

/* A connection's greeting wait times out in the very loop iteration its
 * greeting arrived: the read records it established and, with close reset
 * and max_in_flight 1, releases the slot, and the release pumps the next
 * due connect into that same slot (LIFO), whose loopback handshake
 * completes inside connect(). That new connection has not waited at all:
 * it must not be recorded as greeting_timeout. */
static void test_a_slot_reused_during_the_timeout_read_is_not_timed_out(void **state)
{
    static struct config cfg;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof(a);
    struct sockaddr_storage dst;
    struct client_setup cs = {
        .dst = &dst, .dstlen = sizeof(a), .nstreams = 1, .pool = 4, .records_fd = -1};
    struct netns ns;
    struct client *c;
    struct conn *k;
    char err[ERRBUF_LEN] = "", text[512];
    int lfd, sfd;

    (void)state;
    netns_init(&ns);
    if (netns_enter_private(&ns, err, sizeof(err)) < 0) {
        if (getenv("QBENCH_REQUIRE_NETNS"))
            fail_msg("no private network namespace: %s", err);
        skip();
    }
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 16), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
    memset(&dst, 0, sizeof(dst));
    memcpy(&dst, &a, sizeof(a));
    snprintf(text, sizeof(text),
             "{\"target\": \"127.0.0.1:%u\", \"isolate\": false, \"client\": {\"rate\": 1000, "
             "\"connections\": 2, \"max_in_flight\": 1, \"close\": \"reset\", "
             "\"expect_greeting\": true, \"threads\": 1}}",
             ntohs(a.sin_port));
    load_config(&cfg, text);
    cs.start_ns = clock_now_ns();
    c = client_new(&cfg, &cs, err, sizeof(err));
    if (!c)
        fail_msg("%s", err);
    /* the first connect, waiting for its greeting in the only slot */
    pump(c);
    assert_int_equal(c->inflight, 1);
    k = &c->pool[0];
    while (k->state != CONN_GREETING && k < c->pool + c->pool_size - 1)
        k++;
    assert_int_equal(k->state, CONN_GREETING);
    /* the server answers; the second connect falls due meanwhile */
    sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);
    assert_int_equal(send(sfd, "g", 1, 0), 1);
    usleep(5000);
    conn_timeout(k);
    assert_int_equal(c->tally.outcomes[OUTCOME_ESTABLISHED], 1);
    assert_int_equal(c->tally.outcomes[OUTCOME_GREETING_TIMEOUT], 0);
    assert_int_equal(c->inflight, 1); /* the second connection, still waiting */
    close(sfd);
    client_free(c);
    close(lfd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_failed_request_allocation_closes_no_descriptor),
        cmocka_unit_test(test_a_slot_reused_during_the_timeout_read_is_not_timed_out),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
