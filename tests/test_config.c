#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "errbuf.h"
#include "sysctls.h"

#define MINIMAL "\"client\": {\"rate\": 100, \"connections\": 10}"

static int parse(const char *text, struct config *cfg, char *err)
{
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    int rc;

    if (!root)
        fail_msg("test JSON does not parse: %s: %s", text, jerr.text);
    rc = config_from_json(root, "t.json", "t", cfg, err, ERRBUF_LEN);
    json_decref(root);
    return rc;
}

static void test_minimal_config_gets_spec_defaults(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(parse("{" MINIMAL "}", &cfg, err), 0);
    assert_string_equal(cfg.name, "t");
    assert_true(cfg.isolate);
    assert_false(cfg.use_target);
    assert_string_equal(cfg.endpoint.text, "127.0.0.1:0");
    assert_int_equal(cfg.server.backlog, 128);
    assert_int_equal(cfg.server.accept_delay_ms, 0);
    assert_true(cfg.server.greeting);
    assert_true(cfg.client.expect_greeting);
    assert_int_equal(cfg.client.connect_timeout_ms, 10000);
    assert_int_equal(cfg.client.greeting_timeout_ms, 10000);
    assert_int_equal(cfg.client.request_bytes, 0);
    assert_string_equal(cfg.output, "results/t.json");
}

static void test_spec_example_is_valid(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(
        parse("{\"name\": \"slow-accept\", \"isolate\": true,"
              "\"sysctl\": {\"net.ipv4.tcp_synack_retries\": 1, \"net.ipv4.tcp_syn_retries\": 2,"
              "  \"net.ipv4.tcp_abort_on_overflow\": 0, \"net.core.somaxconn\": 4096},"
              "\"server\": {\"address\": \"127.0.0.1:0\", \"backlog\": 8, \"accept_delay_ms\": 100,"
              "  \"greeting\": true},"
              "\"client\": {\"rate\": 200, \"connections\": 1000, \"connect_timeout_ms\": 10000,"
              "  \"greeting_timeout_ms\": 10000},"
              "\"sweep\": {\"sysctl.net.ipv4.tcp_synack_retries\": [0, 1, 2, 3]},"
              "\"expect\": {\"established_ratio_min\": 0.5},"
              "\"output\": \"results/slow-accept.json\"}",
              &cfg, err),
        0);
    assert_int_equal(cfg.nsysctl, 4);
    assert_string_equal(cfg.sysctl[0].name, "net.ipv4.tcp_synack_retries");
    assert_string_equal(cfg.sysctl[0].value, "1");
    assert_int_equal(cfg.server.backlog, 8);
    assert_int_equal(cfg.nexpect, 1);
    assert_true(cfg.expect[0].bound == 0.5);
}

static void test_backlog_minus_one_and_never_accept_are_allowed(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(
        parse("{\"server\": {\"backlog\": -1, \"accept_delay_ms\": -1}, " MINIMAL "}", &cfg, err),
        0);
    assert_int_equal(cfg.server.backlog, -1);
    assert_int_equal(cfg.server.accept_delay_ms, -1);
}

static void test_ipv6_loopback_and_string_sysctl(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(parse("{\"server\": {\"address\": \"[::1]:0\"}, \"sysctl\": "
                           "{\"net.ipv4.ip_local_port_range\": \"20000 60999\"}, " MINIMAL "}",
                           &cfg, err),
                     0);
    assert_int_equal(cfg.endpoint.addr.ss_family, AF_INET6);
    assert_string_equal(cfg.sysctl[0].value, "20000 60999");
}

static void test_target_replaces_the_server(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(
        parse("{\"isolate\": false, \"target\": \"127.0.0.1:8080\", " MINIMAL "}", &cfg, err), 0);
    assert_true(cfg.use_target);
    assert_false(cfg.client.expect_greeting);
}

/* A client that closes first (its own server, asked nothing, graceful)
 * spreads its sources by itself; asked something, or against the built-in
 * server, or told where to come from, it does not. */
static void test_a_client_that_closes_first_spreads_its_sources(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(
        parse("{\"isolate\": false, \"target\": \"127.0.0.1:8080\", " MINIMAL "}", &cfg, err), 0);
    assert_true(config_client_closes_first(&cfg));
    assert_string_equal(cfg.source_addresses, CONFIG_DEFAULT_SOURCES);
    assert_int_equal(cfg.client.source_first, (127u << 24) | 1);
    assert_int_equal(cfg.client.source_count, 64);
    assert_int_equal(parse("{\"isolate\": false, \"target\": \"127.0.0.1:8080\", \"client\": "
                           "{\"rate\": 10, \"connections\": 10, \"request\": \"GET /\"}}",
                           &cfg, err),
                     0);
    assert_false(config_client_closes_first(&cfg));
    assert_int_equal(cfg.client.source_count, 0);
    assert_int_equal(parse("{\"isolate\": false, \"target\": \"127.0.0.1:8080\", \"client\": "
                           "{\"rate\": 10, \"connections\": 10, \"close\": \"reset\"}}",
                           &cfg, err),
                     0);
    assert_int_equal(cfg.client.source_count, 0);
    assert_int_equal(parse("{\"isolate\": false, \"target\": \"127.0.0.1:8080\", \"client\": "
                           "{\"rate\": 10, \"connections\": 10, \"source_addresses\": "
                           "\"127.0.0.9\"}}",
                           &cfg, err),
                     0);
    assert_int_equal(cfg.client.source_count, 1);
    assert_int_equal(
        parse("{\"isolate\": false, \"target\": \"[::1]:8080\", " MINIMAL "}", &cfg, err), 0);
    assert_int_equal(cfg.client.source_count, 0);
    /* over a real link the 127/8 defaults could not leave lo */
    assert_int_equal(
        parse("{\"isolate\": false, \"target\": \"198.18.0.1:8080\", " MINIMAL "}", &cfg, err), 0);
    assert_int_equal(cfg.client.source_count, 0);
    assert_int_equal(parse("{" MINIMAL "}", &cfg, err), 0);
    assert_false(config_client_closes_first(&cfg));
    assert_int_equal(cfg.client.source_count, 0);
}

/* Source ranges in the destination's family: IPv6 over its last 32 bits,
 * loopback in a private namespace, this machine's addresses otherwise. */
static void test_source_ranges_follow_the_destination_family(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];
    const struct sockaddr_in6 *b6;

    (void)state;
    assert_int_equal(parse("{\"server\": {\"address\": \"[::1]:0\"}, \"client\": {\"rate\": 10, "
                           "\"connections\": 10, \"source_addresses\": \"::1\"}}",
                           &cfg, err),
                     0);
    assert_int_equal(cfg.client.source_base.ss_family, AF_INET6);
    assert_int_equal(cfg.client.source_first, 1);
    assert_int_equal(cfg.client.source_count, 1);
    assert_int_equal(parse("{\"isolate\": false, \"target\": \"[fd00::1]:80\", \"client\": "
                           "{\"rate\": 10, \"connections\": 10, \"source_addresses\": "
                           "\"fd00::1:0:10-fd00::1:1:f\"}}",
                           &cfg, err),
                     0);
    b6 = (const struct sockaddr_in6 *)&cfg.client.source_base;
    assert_int_equal(b6->sin6_addr.s6_addr[0], 0xfd);
    assert_int_equal(b6->sin6_addr.s6_addr[11], 1);
    assert_int_equal(cfg.client.source_first, 0x10);
    assert_int_equal(cfg.client.source_count, 0x10000 + 0xf - 0x10 + 1);
    assert_int_equal(parse("{\"isolate\": false, \"target\": \"198.18.0.1:80\", \"client\": "
                           "{\"rate\": 10, \"connections\": 10, \"source_addresses\": "
                           "\"198.18.0.2-198.18.0.9\"}}",
                           &cfg, err),
                     0);
    assert_int_equal(cfg.client.source_base.ss_family, AF_INET);
    assert_int_equal(cfg.client.source_first, (198u << 24) | (18u << 16) | 2);
    assert_int_equal(cfg.client.source_count, 8);
}

/* Each bad config must fail, and the message must name the key's path. */
static void test_bad_configs_name_the_key(void **state)
{
    static const struct {
        const char *json;
        const char *must_say;
    } cases[] = {
        {"{\"client\": {\"rate\": -5, \"connections\": 10}}",
         "t.json: client.rate: must be > 0, got -5"},
        {"{\"client\": {\"rate\": \"fast\", \"connections\": 10}}",
         "client.rate: must be a number"},
        {"{\"client\": {\"connections\": 10}}", "client.rate: required"},
        {"{\"client\": {\"rate\": 10}}", "client: needs connections or duration_ms"},
        {"{\"client\": {\"rate\": 10, \"connections\": 0}}", "client.connections: must be >= 1"},
        {"{\"client\": {\"rate\": 10, \"connections\": 1.5}}",
         "client.connections: must be an integer"},
        {"{\"client\": {\"rate\": 10, \"connections\": 10, \"bogus\": 1}}",
         "client.bogus: unknown key"},
        {"{\"bogus\": 1, " MINIMAL "}", "bogus: unknown key"},
        {"{\"server\": {\"backlog\": -2}, " MINIMAL "}", "server.backlog: must be >= -1, got -2"},
        {"{\"server\": {\"backlog\": \"8\"}, " MINIMAL "}",
         "server.backlog: must be an integer, got a string"},
        {"{\"server\": {\"accept_delay_ms\": -7}, " MINIMAL "}",
         "server.accept_delay_ms: must be >= -1"},
        {"{\"server\": {\"greeting\": 1}, " MINIMAL "}", "server.greeting: must be true or false"},
        {"{\"server\": {\"address\": \"127.0.0.1\"}, " MINIMAL "}",
         "server.address: expected HOST:PORT"},
        {"{\"server\": {\"address\": \"127.0.0.1:70000\"}, " MINIMAL "}",
         "server.address: port must be 0..65535"},
        {"{\"server\": {\"address\": \"example.com:80\"}, " MINIMAL "}",
         "server.address: \"example.com\" is not a numeric IP"},
        {"{\"server\": 5, " MINIMAL "}", "server: must be an object"},
        {"{\"sysctl\": {\"vm.swappiness\": 10}, " MINIMAL "}",
         "sysctl.vm.swappiness: not a per-network-namespace sysctl"},
        {"{\"sysctl\": {\"net.ipv4.tcp_mem\": \"1 2 3\"}, " MINIMAL "}",
         "sysctl.net.ipv4.tcp_mem: not a per-network-namespace"},
        {"{\"sysctl\": {\"net.ipv4.tcp_syn_retries\": [1]}, " MINIMAL "}",
         "sysctl.net.ipv4.tcp_syn_retries: must be an integer (as an integer or a string), got an "
         "array"},
        /* sysctl values against their documented ranges, not the kernel's uneven checks */
        {"{\"sysctl\": {\"net.ipv4.tcp_synack_retries\": \"five\"}, " MINIMAL "}",
         "sysctl.net.ipv4.tcp_synack_retries: must be an integer in 0..255, got \"five\""},
        {"{\"sysctl\": {\"net.ipv4.tcp_syncookies\": 5}, " MINIMAL "}",
         "sysctl.net.ipv4.tcp_syncookies: must be an integer in 0..2, got \"5\""},
        {"{\"sysctl\": {\"net.ipv4.tcp_abort_on_overflow\": 7}, " MINIMAL "}",
         "must be an integer in 0..1"},
        {"{\"sysctl\": {\"net.ipv4.tcp_syn_retries\": 0}, " MINIMAL "}",
         "must be an integer in 1..127"},
        {"{\"sysctl\": {\"net.ipv4.ip_local_port_range\": \"5000 1000\"}, " MINIMAL "}",
         "values must not decrease"},
        {"{\"sysctl\": {\"net.ipv4.ip_local_port_range\": \"5000\"}, " MINIMAL "}", "two integers"},
        {"{\"sysctl\": {\"net.ipv4.tcp_rmem\": \"4096 131072 x\"}, " MINIMAL "}", "three integers"},
        {"{\"sysctl\": {\"net.ipv4.tcp_synack_retires\": 1}, " MINIMAL "}",
         "did you mean 'net.ipv4.tcp_synack_retries'?"},
        {"{\"server\": {\"log_max_bytes\": 100, \"command\": [\"x\"]}, " MINIMAL "}",
         "server.log_max_bytes"},
        {"{\"server\": {\"keep_dir\": true}, " MINIMAL "}",
         "server.keep_dir: only with server.command"},
        {"{\"server\": {\"backlgo\": 4}, " MINIMAL "}",
         "server.backlgo: unknown key (allowed here: address, backlog, accept_delay_ms, greeting, "
         "threads, command, files, ready_timeout_ms, log_max_bytes, keep_dir) (did you mean "
         "'backlog'?)"},
        {"{\"clinet\": {}, " MINIMAL "}",
         "clinet: unknown key (allowed here: name, isolate, target, target_netns, output, repeat, "
         "gate, connections_file, server, hooks, capture, client, sample, sysctl, expect, sweep) "
         "(did you mean 'client'?)"},
        {"{\"capture\": {\"pcap\": true, \"snaplen\": 20}, " MINIMAL "}",
         "capture.snaplen: must be >= 68, got 20"},
        {"{\"capture\": {\"pcap\": true, \"buffer_kib\": 2000000}, " MINIMAL "}",
         "capture.buffer_kib: must be <= 1048576, got 2000000"},
        {"{\"capture\": {\"snaplen\": 256}, " MINIMAL "}",
         "capture.snaplen: only with capture.pcap: true"},
        {"{\"capture\": {\"pcap\": \"yes\"}, " MINIMAL "}", "capture.pcap: must be"},
        {"{\"capture\": {\"pcap\": true}, \"output\": \"-\", " MINIMAL "}",
         "capture.pcap: the capture is written beside the results file"},
        {"{\"gate\": \"established_ratio,timeout\", " MINIMAL "}",
         "gate: 'timeout' cannot gate: only ratios"},
        {"{\"gate\": \"establshed_ratio\", " MINIMAL "}",
         "gate: unknown metric 'establshed_ratio' (gateable: established_ratio"},
        {"{\"gate\": 3, " MINIMAL "}", "gate: "},
        {"{\"expect\": {\"establised_ratio_min\": 0.5}, " MINIMAL "}",
         "did you mean 'established_ratio'?"},
        {"{\"server\": {\"address\": \"10.1.2.3:0\"}, " MINIMAL "}",
         "server.address: must be a loopback address"},
        {"{\"client\": {\"rate\": 10, \"connections\": 10, \"close\": \"rst\"}}",
         "client.close: must be \"graceful\" or \"reset\", got \"rst\""},
        {"{\"isolate\": false, \"sysctl\": {\"net.ipv4.tcp_syn_retries\": 1}, " MINIMAL "}",
         "sysctl: needs isolate: true"},
        {"{\"isolate\": \"yes\", " MINIMAL "}", "isolate: must be true or false"},
        {"{\"target\": \"127.0.0.1:80\", " MINIMAL "}",
         "target: an external server cannot be reached"},
        {"{\"isolate\": false, \"target\": \"127.0.0.1:0\", " MINIMAL "}",
         "target: port must not be 0"},
        {"{\"isolate\": false, \"target\": \"127.0.0.1:80\", \"server\": {}, " MINIMAL "}",
         "target: give either target"},
        {"{\"isolate\": false, \"target\": \"127.0.0.1:80\", \"target_netns\": "
         "\"run/netns/x\", " MINIMAL "}",
         "target_netns: must be an absolute path"},
        {"{\"target_netns\": \"/run/netns/x\", " MINIMAL "}", "target_netns: only with target"},
        {"{\"server\": {\"address\": \"[::1]:0\"}, \"client\": {\"rate\": 10, \"connections\": 10, "
         "\"source_addresses\": \"127.0.0.1\"}}",
         "client.source_addresses: expected IPv6 addresses (as the server's)"},
        {"{\"client\": {\"rate\": 10, \"connections\": 10, \"source_addresses\": \"::1\"}}",
         "client.source_addresses: expected IPv4 addresses (as the server's)"},
        {"{\"server\": {\"address\": \"[::1]:0\"}, \"client\": {\"rate\": 10, \"connections\": 10, "
         "\"source_addresses\": \"fd00::1\"}}",
         "client.source_addresses: must be loopback"},
        {"{\"client\": {\"rate\": 10, \"connections\": 10, \"source_addresses\": \"198.18.0.2\"}}",
         "client.source_addresses: must be loopback"},
        {"{\"isolate\": false, \"target\": \"[fd00::1]:80\", \"client\": {\"rate\": 10, "
         "\"connections\": 10, \"source_addresses\": \"fd00::1-fd01::1\"}}",
         "client.source_addresses: an IPv6 range may vary only in its last 32 bits"},
        {"{\"expect\": {\"established_ratio\": 1}, " MINIMAL "}",
         "expect.established_ratio: a bound is <metric>_min or <metric>_max"},
        {"{\"expect\": {\"speed_max\": 1}, " MINIMAL "}",
         "expect.speed_max: unknown metric 'speed'"},
        {"{\"expect\": {\"established_ratio_min\": 1.5}, " MINIMAL "}",
         "expect.established_ratio_min: a ratio must be <= 1"},
        {"{\"output\": \"\", " MINIMAL "}", "output: must not be empty"},
        {"{\"name\": \"a/b\", " MINIMAL "}", "name: must not contain '/'"},
        {"{\"server\": {\"greeting\": false}, \"client\": {\"rate\": 1, \"connections\": 1, "
         "\"expect_greeting\": true}}",
         "client.expect_greeting: true, but server.greeting is false"},
        {"{\"sample\": {\"accept_queue_ms\": 0}, " MINIMAL "}",
         "sample.accept_queue_ms: must be >= 1"},
        {"[1, 2]", "t.json: the config must be a JSON object"},
        /* what the run could not allocate is refused before it starts */
        {"{\"client\": {\"rate\": 1, \"connections\": 1000000000}}",
         "client.connections: 1000000000 connections at client.rate 1/s would take 1000000000 s"},
        {"{\"client\": {\"rate\": 1, \"duration_ms\": 86400000}, \"sample\": {\"timeline_ms\": 1}}",
         "sample.timeline_ms: 1 ms rows"},
    };
    char err[ERRBUF_LEN];
    struct config cfg;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *root = json_loads(cases[i].json, 0, NULL);

        assert_non_null(root);
        err[0] = '\0';
        if (config_from_json(root, "t.json", "t", &cfg, err, sizeof(err)) != -1)
            fail_msg("accepted a bad config: %s", cases[i].json);
        if (!strstr(err, cases[i].must_say))
            fail_msg("config %s\n  said:     %s\n  expected: %s", cases[i].json, err,
                     cases[i].must_say);
        json_decref(root);
    }
}

static void test_syntax_error_has_line_and_column(void **state)
{
    char path[] = "/tmp/qbench-test-XXXXXX";
    char err[ERRBUF_LEN];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\n  \"client\": {\n    \"rate\": 5,\n  }\n}\n", 36), 36);
    close(fd);
    assert_null(config_read_file(path, err, sizeof(err)));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, ":4:"));
    unlink(path);
    assert_null(config_read_file("/nonexistent/x.json", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/x.json: cannot open"));
}

static void test_set_overrides_by_dotted_path(void **state)
{
    json_t *root = json_loads("{" MINIMAL "}", 0, NULL);
    char err[ERRBUF_LEN];
    struct config cfg;

    (void)state;
    assert_int_equal(config_apply_set(root, "server.backlog=4", err, sizeof(err)), 0);
    assert_int_equal(config_apply_set(root, "client.rate=2.5", err, sizeof(err)), 0);
    assert_int_equal(
        config_apply_set(root, "sysctl.net.ipv4.tcp_synack_retries=3", err, sizeof(err)), 0);
    assert_int_equal(config_apply_set(root, "name=hello", err, sizeof(err)), 0);
    assert_int_equal(config_from_json(root, "t.json", "t", &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.server.backlog, 4);
    assert_true(cfg.client.rate == 2.5);
    assert_string_equal(cfg.sysctl[0].name, "net.ipv4.tcp_synack_retries");
    assert_string_equal(cfg.sysctl[0].value, "3");
    assert_string_equal(cfg.name, "hello");

    assert_int_equal(config_apply_set(root, "server.backlog", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "expected KEY=VALUE"));
    assert_int_equal(config_apply_set(root, "name.x=1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--set name.x=1"));
    /* a value that is valid JSON but the wrong type is caught by validation */
    assert_int_equal(config_apply_set(root, "server.backlog=\"many\"", err, sizeof(err)), 0);
    assert_int_equal(config_from_json(root, "t.json", "t", &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "server.backlog: must be an integer"));
    /* JSON that does not parse is reported as such, not taken as a string */
    assert_int_equal(config_apply_set(root, "server.backlog=[1", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "--set server.backlog=[1: the value is not valid JSON"));
    assert_int_equal(config_apply_set(root, "sweep={\"server.backlog\": [1,", err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "not valid JSON"));
    json_decref(root);
}

static void test_effective_config_round_trips(void **state)
{
    struct config a, b;
    char err[ERRBUF_LEN];
    json_t *j;

    (void)state;
    assert_int_equal(
        parse("{\"sysctl\": {\"net.core.somaxconn\": 16}, \"server\": {\"backlog\": 3},"
              "\"client\": {\"rate\": 50, \"duration_ms\": 2000},"
              "\"expect\": {\"timeout_max\": 3}}",
              &a, err),
        0);
    j = config_to_json(&a);
    assert_int_equal(config_from_json(j, "eff", "x", &b, err, sizeof(err)), 0);
    assert_string_equal(a.name, b.name);
    assert_int_equal(a.server.backlog, b.server.backlog);
    assert_int_equal(a.client.duration_ms, b.client.duration_ms);
    assert_true(a.client.rate == b.client.rate);
    assert_string_equal(a.sysctl[0].value, b.sysctl[0].value);
    assert_string_equal(a.expect[0].name, b.expect[0].name);
    assert_string_equal(a.output, b.output);
    json_decref(j);
}

/* A hook's settings belong to the experiment only when there is a hook:
 * a config without one has no "hooks" in its effective config, so results
 * recorded before hooks existed (the CI baselines) are the same experiment. */
static void test_hook_settings_only_with_a_hook(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];
    json_t *j;

    (void)state;
    assert_int_equal(parse("{" MINIMAL "}", &cfg, err), 0);
    j = config_to_json(&cfg);
    assert_null(json_object_get(j, "hooks"));
    json_decref(j);
    assert_int_equal(parse("{" MINIMAL ", \"hooks\": {\"before\": \"true\"}}", &cfg, err), 0);
    j = config_to_json(&cfg);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "hooks"), "ready_timeout_ms")), 5000);
    json_decref(j);
}

/* The same for a capture: off, it is no part of the experiment; on, its
 * settings are, with their defaults (headers only, 8 MiB). */
static void test_capture_settings_only_with_a_capture(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];
    json_t *j;

    (void)state;
    assert_int_equal(parse("{" MINIMAL ", \"capture\": {\"pcap\": false}}", &cfg, err), 0);
    j = config_to_json(&cfg);
    assert_null(json_object_get(j, "capture"));
    json_decref(j);
    assert_int_equal(parse("{" MINIMAL ", \"capture\": {\"pcap\": true}}", &cfg, err), 0);
    assert_true(cfg.capture.pcap);
    j = config_to_json(&cfg);
    assert_true(json_is_true(json_object_get(json_object_get(j, "capture"), "pcap")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "capture"), "snaplen")),
                     128);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "capture"), "buffer_kib")), 8192);
    json_decref(j);
}

static void test_only_per_netns_sysctls(void **state)
{
    (void)state;
    assert_true(sysctls_is_per_netns("net.ipv4.tcp_synack_retries"));
    assert_true(sysctls_is_per_netns("net.core.somaxconn"));
    assert_false(sysctls_is_per_netns("net.core.rmem_max"));
    assert_false(sysctls_is_per_netns("kernel.pid_max"));
    assert_false(sysctls_is_per_netns("net.ipv4.tcp_synack_retries/../../x"));
}

/* validate reports every error it finds, one a line, not only the first */
static void test_every_error_is_reported(void **state)
{
    struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(parse("{\"server\": {\"backlgo\": 4, \"accept_delay_ms\": -7},"
                           " \"client\": {\"rate\": -5, \"connections\": 10},"
                           " \"sysctl\": {\"net.ipv4.tcp_syncookies\": 5}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "server.backlgo: unknown key"));
    assert_non_null(strstr(err, "\nt.json: server.accept_delay_ms: must be >= -1"));
    assert_non_null(strstr(err, "\nt.json: client.rate: must be > 0"));
    assert_non_null(strstr(err, "\nt.json: sysctl.net.ipv4.tcp_syncookies: must be an integer"));
}

/* The reference help config and the manual page print: every key with a
 * range only where it has one (no "[0..0]" for lists), and which keys a
 * sweep may vary. */
static void test_reference_rows(void **state)
{
    struct config_ref row;
    bool saw_backlog = false, saw_command = false;
    size_t n = 0;

    (void)state;
    for (size_t i = 0; config_reference_row(i, &row); i++, n++) {
        assert_null(strstr(row.range, "0..0]"));
        assert_non_null(row.help);
        if (strcmp(row.path, "server.backlog") == 0) {
            saw_backlog = true;
            assert_true(row.sweepable);
            assert_string_equal(row.range, "[-1..2147483647]");
        }
        if (strcmp(row.path, "server.command") == 0) {
            saw_command = true;
            assert_string_equal(row.range, "");
            assert_false(row.sweepable);
        }
        if (strcmp(row.path, "output") == 0 || strcmp(row.path, "repeat") == 0)
            assert_false(row.sweepable);
    }
    assert_true(saw_backlog && saw_command && n > 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_rows),
        cmocka_unit_test(test_minimal_config_gets_spec_defaults),
        cmocka_unit_test(test_spec_example_is_valid),
        cmocka_unit_test(test_backlog_minus_one_and_never_accept_are_allowed),
        cmocka_unit_test(test_ipv6_loopback_and_string_sysctl),
        cmocka_unit_test(test_target_replaces_the_server),
        cmocka_unit_test(test_bad_configs_name_the_key),
        cmocka_unit_test(test_syntax_error_has_line_and_column),
        cmocka_unit_test(test_set_overrides_by_dotted_path),
        cmocka_unit_test(test_effective_config_round_trips),
        cmocka_unit_test(test_hook_settings_only_with_a_hook),
        cmocka_unit_test(test_capture_settings_only_with_a_capture),
        cmocka_unit_test(test_only_per_netns_sysctls),
        cmocka_unit_test(test_every_error_is_reported),
        cmocka_unit_test(test_a_client_that_closes_first_spreads_its_sources),
        cmocka_unit_test(test_source_ranges_follow_the_destination_family),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
