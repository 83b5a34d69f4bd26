/* extserver's placeholders, and the config rules of server.command. */
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
#include "extserver.h"

static const struct placeholders ph = {"127.0.0.1:8080", "127.0.0.1", 8080, 16, "/tmp/d"};

static void test_placeholders_expand(void **state)
{
    char out[256], err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(placeholder_expand("--bind {address} --backlog {backlog}", &ph, out,
                                        sizeof(out), err, sizeof(err)),
                     0);
    assert_string_equal(out, "--bind 127.0.0.1:8080 --backlog 16");
    assert_int_equal(placeholder_expand("listen {host}:{port}; root {dir}; events {{ }}", &ph, out,
                                        sizeof(out), err, sizeof(err)),
                     0);
    assert_string_equal(out, "listen 127.0.0.1:8080; root /tmp/d; events { }");
    assert_int_equal(placeholder_expand("{bogus}", &ph, out, sizeof(out), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "unknown placeholder '{bogus}'"));
    assert_int_equal(placeholder_expand("{dir", &ph, out, sizeof(out), err, sizeof(err)), -1);
    assert_int_equal(placeholder_expand("{dir}{dir}{dir}", &ph, out, 10, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "longer than"));
    assert_int_equal(placeholder_check("a {port} b", err, sizeof(err)), 0);
    assert_int_equal(placeholder_check("a {prot} b", err, sizeof(err)), -1);
}

static int parse(const char *text, struct config *cfg, char *err)
{
    json_t *root = json_loads(text, 0, NULL);
    int rc;

    assert_non_null(root);
    rc = config_from_json(root, QBENCH_SOURCE_DIR "/configs/x.json", "x", cfg, err, ERRBUF_LEN);
    json_decref(root);
    return rc;
}

static void test_command_config_rules(void **state)
{
    static struct config cfg;
    char err[ERRBUF_LEN];

    (void)state;
    assert_int_equal(parse("{\"server\": {\"command\": [\"nginx\", \"-c\", \"{dir}/n.conf\"],"
                           " \"files\": {\"n.conf\": \"servers/nginx.conf.in\"}},"
                           " \"client\": {\"rate\": 1, \"connections\": 1,"
                           " \"request\": \"GET / HTTP/1.0\\r\\n\\r\\n\"}}",
                           &cfg, err),
                     0);
    assert_int_equal(cfg.ncommand, 3);
    assert_int_equal(cfg.nfiles, 1);
    assert_non_null(strstr(cfg.files[0].path, "/configs/servers/nginx.conf.in"));
    assert_true(cfg.client.expect_greeting); /* a request is answered */
    assert_string_equal(cfg.request, "GET / HTTP/1.0\r\n\r\n");
    {
        json_t *eff = config_to_json(&cfg);

        assert_true(json_is_array(json_object_get(json_object_get(eff, "server"), "command")));
        json_decref(eff);
    }
    assert_int_equal(parse("{\"server\": {\"command\": [\"x\", \"{nope}\"]},"
                           " \"client\": {\"rate\": 1, \"connections\": 1}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "server.command[1]: unknown placeholder"));
    assert_int_equal(parse("{\"server\": {\"command\": []},"
                           " \"client\": {\"rate\": 1, \"connections\": 1}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "server.command: must be a non-empty array"));
    assert_int_equal(parse("{\"server\": {\"command\": [\"x\"], \"accept_delay_ms\": 5},"
                           " \"client\": {\"rate\": 1, \"connections\": 1}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "server.accept_delay_ms: belongs to the built-in server"));
    assert_int_equal(parse("{\"server\": {\"command\": [\"x\"], \"files\": {\"a\": \"nope\"}},"
                           " \"client\": {\"rate\": 1, \"connections\": 1}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "server.files.a:"));
    assert_int_equal(parse("{\"server\": {\"command\": [\"x\"], \"files\": {\"../a\": \"x\"}},"
                           " \"client\": {\"rate\": 1, \"connections\": 1}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "a plain file name"));
    assert_int_equal(parse("{\"server\": {\"ready_timeout_ms\": 5},"
                           " \"client\": {\"rate\": 1, \"connections\": 1}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "only with server.command"));
    assert_int_equal(parse("{\"client\": {\"rate\": 1, \"connections\": 1, \"request\": \"x\","
                           " \"request_bytes\": 3}}",
                           &cfg, err),
                     -1);
    assert_non_null(strstr(err, "either request or request_bytes"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placeholders_expand),
        cmocka_unit_test(test_command_config_rules),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
