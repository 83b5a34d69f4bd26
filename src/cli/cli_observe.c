/* qbench observe: the server's side of a distributed run, sampled beside
 * the server and written as an observer document for qbench merge. */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errbuf.h"
#include "obsdoc.h"
#include "observe.h"
#include "rundoc.h"
#include "safefile.h"
#include "shard.h"
#include "stopflag.h"

/* qbench observe --help (also a section of the manual page). */
void cli_observe_help(FILE *out)
{
    fprintf(out,
            "usage: qbench observe --port PORT --duration-ms MS [--start-at TIME]\n"
            "                      [--interval-ms MS] -o FILE|- [--quiet]\n"
            "The server's side of a distributed run. Run it beside the server, in the\n"
            "server's network namespace (on its machine, or as a sidecar container of its\n"
            "pod), with the shards' --start-at: from that instant for --duration-ms it\n"
            "samples the accept queue (every --interval-ms, default 10) and the SYN queue\n"
            "of the TCP listeners on PORT and the namespace's TCP counters, and writes an\n"
            "observer document (schema %s) that qbench merge joins with the shards.\n"
            "Privileges: none beyond one's own network namespace: a NETLINK_SOCK_DIAG\n"
            "socket (inet_diag answers any process about the sockets of its namespace) and\n"
            "reading /proc/self/net/netstat, /proc/self/net/snmp and /proc/sys/net. No\n"
            "capability, no root, no socket towards the server, no sysctl written.\n"
            "SIGINT/SIGTERM end the window early: what was seen is written, marked\n"
            "interrupted, exit 130.\n"
            "Exit: 0 ok, 2 bad usage, 3 sock_diag or /proc unreadable, output not\n"
            "writable, 130 interrupted.\n",
            OBSDOC_SCHEMA);
}

int cli_observe(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"start-at", required_argument, NULL, 'T'},
        {"duration-ms", required_argument, NULL, 'd'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct observe_opts o = {.interval_ms = 10};
    const char *out = NULL;
    char err[ERRBUF_LEN], *end;
    json_t *doc;
    bool interrupted, have_duration = false;
    int c, env;
    long long v;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:T:d:i:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_observe_help(stdout);
            return EXIT_OK;
        case 'p':
        case 'd':
        case 'i':
            errno = 0;
            v = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || v < (c == 'd' ? 0 : 1) ||
                v > (c == 'p'   ? 65535
                     : c == 'i' ? 10000
                                : 86400000LL)) {
                fprintf(stderr, "qbench observe: --%s: expected %s, got \"%s\"\n",
                        c == 'p'   ? "port"
                        : c == 'd' ? "duration-ms"
                                   : "interval-ms",
                        c == 'p'   ? "1..65535"
                        : c == 'd' ? "0..86400000"
                                   : "1..10000",
                        optarg);
                return EXIT_USAGE;
            }
            if (c == 'p')
                o.port = (uint16_t)v;
            else if (c == 'd') {
                o.duration_ms = (uint64_t)v;
                have_duration = true;
            } else
                o.interval_ms = (unsigned)v;
            break;
        case 'T':
            if (shard_parse_time(optarg, &o.start_epoch, err, sizeof(err)) < 0) {
                fprintf(stderr, "qbench observe: --start-at: %s\n", err);
                return EXIT_USAGE;
            }
            o.has_start = true;
            break;
        case 'o':
            out = optarg;
            break;
        case 'q':
            o.quiet = true;
            break;
        default:
            return EXIT_USAGE;
        }
    }
    if (!o.port || !out || !have_duration || optind < argc) {
        fprintf(stderr, "qbench observe: expected --port PORT --duration-ms MS -o FILE|- "
                        "(observe --help)\n");
        return EXIT_USAGE;
    }
    if (strcmp(out, "-") != 0 && safefile_check(out, NULL, 0, &env, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench observe: -o: %s\n", err);
        return env ? EXIT_ENV : EXIT_USAGE;
    }
    stopflag_install();
    doc = observe_run(&o, &interrupted, err, sizeof(err));
    if (!doc) {
        fprintf(stderr, "qbench observe: %s\n", err);
        return EXIT_ENV;
    }
    if (cli_write_doc(doc, out, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench observe: %s\n", err);
        json_decref(doc);
        return EXIT_ENV;
    }
    if (!o.quiet)
        fprintf(stderr,
                "qbench observe: port %u: accept queue max %lld, SYN queue max %lld, "
                "ListenOverflows %lld%s\n",
                o.port, json_integer_value(rundoc_get(doc, RD_ACCEPT_QUEUE, RD_Q_MAX)),
                json_integer_value(rundoc_get(doc, RD_SYN_QUEUE, RD_Q_MAX)),
                json_integer_value(rundoc_get(doc, RD_KERNEL, "ListenOverflows")),
                interrupted ? " (interrupted)" : "");
    json_decref(doc);
    return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}
