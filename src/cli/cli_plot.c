/* qbench plot RESULTS... -o OUT.png|OUT.svg [--x KEY]. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "errbuf.h"
#include "plot.h"
#include "results.h"
#include "safefile.h"

/* qbench plot --help (also a section of the manual page). */
void cli_plot_help(FILE *out)
{
    fprintf(out, "usage: qbench plot RESULTS.json... -o OUT.png|OUT.svg [--x KEY]\n"
                 "  -o, --output PATH   the picture; .png or .svg (required)\n"
                 "  --x KEY             the setting on the x axis, by any name the plot shows\n"
                 "                      (tcp_synack_retries, sysctl.net.ipv4.tcp_synack_retries,\n"
                 "                      backlog, server.backlog); default: what varies between\n"
                 "                      the runs. Not for one run, which is drawn over time.\n"
                 "One run: its timeline and queues. Several runs (a sweep, or several files):\n"
                 "outcomes and latency against what differs between them. A run that did\n"
                 "not finish (interrupted, incomplete) is marked in the title and on its bar.\n"
                 "Exit: 0 ok, 2 bad input, 3 gnuplot missing or failed, output not writable.\n");
}

int cli_plot(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"x", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *x = NULL;
    char err[ERRBUF_LEN];
    struct safefile sf;
    json_t **docs;
    size_t ndocs = 0;
    char *script = NULL;
    int c, fmt, env, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:x:h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_plot_help(stdout);
            return EXIT_OK;
        }
        if (c == 'o')
            out = optarg;
        else if (c == 'x')
            x = optarg;
        else {
            cli_hint("plot");
            return EXIT_USAGE;
        }
    }
    if (!out || optind >= argc) {
        fprintf(stderr, "qbench plot: expected RESULTS.json... -o OUT.png|OUT.svg\n");
        cli_hint("plot");
        return EXIT_USAGE;
    }
    fmt = plot_format_of(out);
    if (fmt < 0) {
        fprintf(stderr, "qbench plot: -o %s: the name must end in .png or .svg\n", out);
        return EXIT_USAGE;
    }
    docs = calloc((size_t)(argc - optind), sizeof(*docs));
    if (!docs)
        return EXIT_ENV;
    for (int i = optind; i < argc; i++) {
        docs[ndocs] = results_load(argv[i], err, sizeof(err));
        if (!docs[ndocs]) {
            fprintf(stderr, "qbench plot: %s\n", err);
            rc = EXIT_USAGE;
            goto out;
        }
        ndocs++;
    }
    if (plot_script(docs, ndocs, x, (enum plot_format)fmt, &script, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench plot: %s\n", err);
        rc = EXIT_USAGE;
        goto out;
    }
    if (safefile_check(out, (const char *const *)argv + optind, (size_t)(argc - optind), &env, err,
                       sizeof(err)) < 0) {
        fprintf(stderr, "qbench plot: -o: %s\n", err);
        rc = env ? EXIT_ENV : EXIT_USAGE;
        goto out;
    }
    if (safefile_open(&sf, out, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench plot: %s\n", err);
        rc = EXIT_ENV;
        goto out;
    }
    if (plot_render(script, sf.fd, err, sizeof(err)) < 0) {
        safefile_abort(&sf);
        fprintf(stderr, "qbench plot: %s; nothing written to %s\n", err, out);
        rc = EXIT_ENV;
        goto out;
    }
    if (safefile_commit(&sf, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench plot: %s\n", err);
        rc = EXIT_ENV;
        goto out;
    }
    printf("wrote %s\n", out);
out:
    for (size_t i = 0; i < ndocs; i++)
        json_decref(docs[i]);
    free(docs);
    free(script);
    return rc;
}
