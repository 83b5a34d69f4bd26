/* qbench export RESULTS [--format csv] [-o OUT]. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "errbuf.h"
#include "export.h"
#include "results.h"
#include "safefile.h"

/* qbench export --help (also a section of the manual page). */
void cli_export_help(FILE *out)
{
    fprintf(out, "usage: qbench export RESULTS.json [--format csv] [-o OUT.csv]\n"
                 "One row per run point (repeat 0) and per repeat: params, every metric,\n"
                 "latency percentiles p1..p99.99, every kernel counter (zeros included).\n"
                 "Writes to standard output unless -o is given.\n");
}

int cli_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'F'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    char err[ERRBUF_LEN];
    json_t *doc;
    int c, rc = EXIT_OK;

    optind = 1;
    while ((c = getopt_long(argc, argv, "F:o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_export_help(stdout);
            return EXIT_OK;
        }
        if (c == 'F' && strcmp(optarg, "csv") != 0) {
            fprintf(stderr, "qbench export: --format: only csv, got '%s'\n", optarg);
            return EXIT_USAGE;
        }
        if (c == 'o')
            out = optarg;
        if (c == '?')
            return EXIT_USAGE;
    }
    if (argc - optind != 1) {
        fprintf(stderr, "qbench export: expected one RESULTS.json\n");
        return EXIT_USAGE;
    }
    doc = results_load(argv[optind], err, sizeof(err));
    if (!doc) {
        fprintf(stderr, "qbench export: %s\n", err);
        return EXIT_USAGE;
    }
    if (!out) {
        if (export_csv(doc, stdout, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench export: %s\n", err);
            rc = EXIT_ENV;
        }
    } else {
        const char *inputs[] = {argv[optind]};
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        int env;

        if (!mem || export_csv(doc, mem, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench export: %s\n", mem ? err : "out of memory");
            rc = EXIT_ENV;
        }
        if (mem)
            fclose(mem);
        if (rc == EXIT_OK && safefile_check(out, inputs, 1, &env, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench export: -o: %s\n", err);
            rc = env ? EXIT_ENV : EXIT_USAGE;
        } else if (rc == EXIT_OK && safefile_put(out, text, len, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench export: %s\n", err);
            rc = EXIT_ENV;
        }
        free(text);
    }
    json_decref(doc);
    return rc;
}
