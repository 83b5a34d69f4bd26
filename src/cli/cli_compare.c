/* qbench compare BASELINE CURRENT: options to compare_opts, exit codes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "compare.h"
#include "errbuf.h"
#include "metric.h"
#include "results.h"

/* qbench compare --help (also a section of the manual page). */
void cli_compare_help(FILE *out)
{
    struct compare_opts co;

    compare_default_opts(&co);
    fprintf(out,
            "usage: qbench compare BASELINE.json CURRENT.json [options]\n"
            "The metrics in the config's \"gate\" (default: outcome ratios, connect and\n"
            "accept p50/p99) are judged. With repeats (3 or more values in all), outcome\n"
            "ratios by a quasi-binomial test on the per-repeat counts, latency\n"
            "percentiles by the same test on the share of samples slower than the pooled\n"
            "percentile (a t-test on their logarithms for files without histogram\n"
            "buckets), with Holm's adjustment over the metrics tested\n"
            "and a minimum effect; metrics constant on both sides are left out. Each\n"
            "tested metric shows the smallest worsening it could have flagged\n"
            "(detectable); where none could, \"cannot judge\" and the repeats a side\n"
            "that would. Single runs on both sides: fixed thresholds.\n"
            "  --gate LIST              metrics that gate, comma-separated (default: "
            "the files' gate)\n"
            "  --alpha P                family-wise false-alarm level (default %g)\n"
            "  --min-effect-pp PP       repeats: smallest ratio change that counts "
            "(default %g)\n"
            "  --min-effect-pct PCT     repeats: smallest latency change that counts "
            "(default %g)\n"
            "  --threshold PCT          single runs: a latency may grow this much "
            "(default %g)\n"
            "  --latency-floor-us US    latency changes below this never count "
            "(default %g)\n"
            "  --ratio-threshold PP     single runs: a ratio may worsen this much "
            "(default %g)\n"
            "  --min-samples N          percentiles of fewer samples are shown, not "
            "judged (default %g)\n"
            "  --format FMT             text, json, markdown or junit (default text;\n"
            "                           markdown for one wide table)\n"
            "  --allow-different        compare other experiments or settings anyway\n"
            "Exit: 0 no regression, 1 regression, 2 bad input, not the same "
            "experiment, or cannot judge.\n",
            co.alpha, co.min_effect_pp, co.min_effect_pct, co.latency_pct, co.latency_floor_us,
            co.ratio_pp, co.min_samples);
}

int cli_compare(int argc, char **argv)
{
    static const struct option opts[] = {
        {"threshold", required_argument, NULL, 't'},
        {"ratio-threshold", required_argument, NULL, 'r'},
        {"latency-floor-us", required_argument, NULL, 'f'},
        {"min-samples", required_argument, NULL, 'n'},
        {"alpha", required_argument, NULL, 'a'},
        {"min-effect-pp", required_argument, NULL, 'p'},
        {"min-effect-pct", required_argument, NULL, 'e'},
        {"format", required_argument, NULL, 'F'},
        {"allow-different", no_argument, NULL, 'A'},
        {"gate", required_argument, NULL, 'G'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct compare_opts co;
    char err[ERRBUF_LEN], opt[32] = "";
    json_t *base, *cur;
    enum compare_verdict v;
    int c;

    compare_default_opts(&co);
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:hF:", opts, NULL)) != -1) {
        double *target = c == 't'   ? &co.latency_pct
                         : c == 'r' ? &co.ratio_pp
                         : c == 'f' ? &co.latency_floor_us
                         : c == 'n' ? &co.min_samples
                         : c == 'a' ? &co.alpha
                         : c == 'p' ? &co.min_effect_pp
                         : c == 'e' ? &co.min_effect_pct
                                    : NULL;

        if (c == 'h') {
            cli_compare_help(stdout);
            return EXIT_OK;
        }
        if (c == 'F') {
            if (compare_format_of(optarg) < 0) {
                fprintf(stderr,
                        "qbench compare: --format: expected text, json, markdown or "
                        "junit, got '%s'\n",
                        optarg);
                return EXIT_USAGE;
            }
            co.format = (enum compare_format)compare_format_of(optarg);
            continue;
        }
        if (c == 'A') {
            co.allow_different = true;
            continue;
        }
        if (c == 'G') {
            if (metric_check_gate(optarg, err, sizeof(err)) < 0) {
                fprintf(stderr, "qbench compare: --gate: %s\n", err);
                return EXIT_USAGE;
            }
            co.gate = optarg;
            continue;
        }
        if (!target) {
            cli_hint("compare");
            return EXIT_USAGE;
        }
        for (const struct option *op = opts; op->name; op++)
            if (op->val == c)
                snprintf(opt, sizeof(opt), "--%s", op->name);
        if (cli_number("compare", opt, optarg, target) < 0)
            return EXIT_USAGE;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "qbench compare: expected BASELINE.json CURRENT.json\n");
        cli_hint("compare");
        return EXIT_USAGE;
    }
    base = results_load(argv[optind], err, sizeof(err));
    if (!base) {
        fprintf(stderr, "qbench compare: %s\n", err);
        return EXIT_USAGE;
    }
    cur = results_load(argv[optind + 1], err, sizeof(err));
    if (!cur) {
        fprintf(stderr, "qbench compare: %s\n", err);
        json_decref(base);
        return EXIT_USAGE;
    }
    v = compare_results(base, cur, &co, stdout, stderr, err, sizeof(err));
    json_decref(base);
    json_decref(cur);
    if (v == COMPARE_BAD_INPUT || v == COMPARE_CANNOT_JUDGE) {
        fprintf(stderr, "qbench compare: %s\n", err);
        return EXIT_USAGE;
    }
    return v == COMPARE_REGRESSION ? EXIT_EXPECT : EXIT_OK;
}
