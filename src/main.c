/* qbench: what a full listen backlog does to TCP connections.
 * The command line: run / validate / compare / plot. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "compare.h"
#include "errbuf.h"
#include "expect.h"
#include "export.h"
#include "merge.h"
#include "metric.h"
#include "obsdoc.h"
#include "observe.h"
#include "outcome.h"
#include "plan.h"
#include "plot.h"
#include "records.h"
#include "report.h"
#include "results.h"
#include "resultcheck.h"
#include "runner.h"
#include "safefile.h"
#include "shard.h"
#include "stopflag.h"

enum exit_code {
    EXIT_OK = 0,
    EXIT_EXPECT = 1,      /* an expect bound failed / compare found a regression */
    EXIT_USAGE = 2,       /* bad usage, bad config, bad input file */
    EXIT_ENV = 3,         /* the environment refused (namespace, sysctl, bind, disk) */
    EXIT_INTERRUPTED = 130,
};

#define MAX_SETS 64

static void usage(FILE *out)
{
    fputs("usage: qbench [run] --config FILE [options]     run the experiment, write results\n"
          "       qbench validate --config FILE [options] check the config (the whole sweep)\n"
          "       qbench compare BASELINE.json CURRENT.json [--format text|json|markdown|junit]\n"
          "                      [--alpha P] [--allow-different] [...]   (compare --help)\n"
          "       qbench plot RESULTS.json... -o OUT.{png,svg} [--x KEY]   (plot --help)\n"
          "       qbench export RESULTS.json [--format csv] [-o OUT.csv]   (export --help)\n"
          "       qbench merge RESULTS.json... [OBSERVER.json...] -o OUT.json\n"
          "                      shards (and the server's observers) into one (merge --help)\n"
          "       qbench observe --port PORT --duration-ms MS [--start-at T] -o FILE|-\n"
          "                      the server's side, run beside it (observe --help)\n"
          "       qbench help config      every config key, sysctl and metric, with ranges\n"
          "       qbench --version\n"
          "\n"
          "run/validate options:\n"
          "  -c, --config FILE          the experiment (JSON; see configs/ and README.md)\n"
          "  -s, --set KEY=VALUE        override a key by dotted path, VALUE as JSON or a string:\n"
          "                             --set server.backlog=4, --set sysctl.net.ipv4.tcp_synack_retries=2,\n"
          "                             --set 'sweep={\"server.backlog\": [4, 16, 64]}' (repeatable)\n"
          "  -o, --output PATH          results file (default: the config's output, else\n"
          "                             results/<name>.json)\n"
          "      --connections FILE     also a line per connection (.csv or .jsonl)\n"
          "      --repeat N             run every point N times (default: the config's repeat, 1)\n"
          "      --shard I/N            run shard I (0-based) of N: the I-th interleaved share\n"
          "                             of the schedule (also QBENCH_SHARD, or\n"
          "                             JOB_COMPLETION_INDEX with QBENCH_SHARDS)\n"
          "      --start-at TIME        start the schedule at a wall-clock instant (RFC 3339 or\n"
          "                             epoch seconds; also QBENCH_START_AT)\n"
          "  -q, --quiet                no progress, no summary\n"
          "\n"
          "Exit: 0 ok, 1 an expect bound failed (compare: a regression), 2 bad usage or input,\n"
          "3 the environment refused, 130 interrupted. See README.md.\n",
          out);
}

struct run_args {
    const char *config;
    const char *output;
    const char *connections;
    struct shard shard;
    const char *sets[MAX_SETS];
    size_t nsets;
    char repeat_set[64];
    bool quiet;
};

static int parse_run_args(int argc, char **argv, struct run_args *a)
{
    char err[ERRBUF_LEN];
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'}, {"quiet", no_argument, NULL, 'q'},
        {"connections", required_argument, NULL, 'C'},
        {"repeat", required_argument, NULL, 'R'},
        {"shard", required_argument, NULL, 'S'},
        {"start-at", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;

    memset(a, 0, sizeof(*a));
    a->shard.count = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:s:o:qhC:R:S:T:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 's':
            if (a->nsets >= MAX_SETS) {
                fprintf(stderr, "qbench: at most %d --set options\n", MAX_SETS);
                return -1;
            }
            a->sets[a->nsets++] = optarg;
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'C':
            a->connections = optarg;
            break;
        case 'S':
            if (shard_parse(optarg, &a->shard, err, sizeof(err)) < 0) {
                fprintf(stderr, "qbench: %s\n", err);
                return -1;
            }
            break;
        case 'T':
            if (shard_parse_time(optarg, &a->shard.start_epoch, err, sizeof(err)) < 0) {
                fprintf(stderr, "qbench: %s\n", err);
                return -1;
            }
            a->shard.has_start = true;
            break;
        case 'R':
            /* the same as --set repeat=N, named as itself in errors */
            if (a->nsets >= MAX_SETS) {
                fprintf(stderr, "qbench: too many --set/--repeat options\n");
                return -1;
            }
            snprintf(a->repeat_set, sizeof(a->repeat_set), "repeat=%s", optarg);
            a->sets[a->nsets++] = a->repeat_set;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            usage(stdout);
            exit(EXIT_OK);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "qbench: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if (!a->config) {
        fprintf(stderr, "qbench: --config FILE is required\n");
        usage(stderr);
        return -1;
    }
    if (shard_from_env(&a->shard, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench: %s\n", err);
        return -1;
    }
    return 0;
}

static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* One line a person can read: counts with their share of the attempts,
 * latencies in ms or s. */
static void print_summary(FILE *say, const json_t *run, size_t point, size_t npoints)
{
    const json_t *o = json_object_get(run, "outcomes");
    double attempted = json_number_value(json_object_get(o, "attempted"));
    static const char *const latencies[] = {"connect_p50_us", "connect_p99_us", "accept_p50_us",
                                            "accept_p99_us"};
    char params[256];

    results_params_text(json_object_get(run, "params"), params, sizeof(params));
    if (npoints > 1)
        fprintf(say, "[%zu/%zu] %s: ", point, npoints, params);
    fprintf(say, "attempted %.0f:", attempted);
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        double n = json_number_value(json_object_get(o, outcome_name((enum outcome)k)));

        if (n > 0 || k == OUTCOME_ESTABLISHED)
            fprintf(say, " %s %.0f (%.1f%%)", outcome_name((enum outcome)k), n,
                   attempted > 0 ? n / attempted * 100.0 : 0.0);
    }
    fprintf(say, " |");
    for (size_t i = 0; i < sizeof(latencies) / sizeof(latencies[0]); i++) {
        const struct metric *m = metric_find(latencies[i]);
        double v;
        char text[32];

        if (metric_value(run, m, &v) < 0)
            continue;
        metric_format(m, true, v, text, sizeof(text));
        fprintf(say, " %.*s %s", (int)(strlen(m->name) - 3), m->name, text);
    }
    fprintf(say, "\n");
}

/* One run point, repeat times, each in a fresh namespace. With repeats the
 * entry holds the merged totals (counts summed, histograms merged), the
 * spread of every metric across the repeats, and every repeat whole. */
static int run_point(const struct plan *plan, size_t i, const struct run_args *a,
                     struct records *records, json_t **out, bool *interrupted, char *err,
                     size_t errlen)
{
    unsigned n = plan->id.repeat ? plan->id.repeat : 1, done = 0;
    json_t **reps = calloc(n, sizeof(*reps));
    int rc = 0;

    *out = NULL;
    if (!reps)
        return errbuf_set(err, errlen, "out of memory");
    for (unsigned r = 0; r < n && !*interrupted; r++) {
        struct runner_opts ro = {a->quiet, (unsigned)i + 1, (unsigned)plan->npoints, records, r + 1,
                                 n, &a->shard, i == 0 && r == 0 && a->shard.has_start};

        if (runner_run_point(&plan->points[i].cfg, plan->points[i].params, &ro, &reps[r],
                             interrupted, err, errlen) < 0) {
            rc = -1;
            break;
        }
        json_object_set_new(reps[r], "repeat", json_integer(r + 1));
        done++;
    }
    if (rc == 0 && n == 1) {
        json_object_del(reps[0], "repeat");
        *out = reps[0];
        reps[0] = NULL;
    } else if (rc == 0) {
        json_t *repeats = json_array();

        *out = merge_runs(reps, done, err, errlen);
        if (!*out)
            rc = -1;
        else {
            json_object_del(*out, "repeat");
            json_object_set_new(*out, "spread", merge_spread(reps, done));
            for (unsigned r = 0; r < done; r++)
                json_array_append(repeats, reps[r]);
            json_object_set_new(*out, "repeats", repeats);
            repeats = NULL;
        }
        json_decref(repeats);
    }
    for (unsigned r = 0; r < n; r++)
        json_decref(reps[r]);
    free(reps);
    return rc;
}

static int write_doc(const json_t *doc, const char *path, char *err, size_t errlen);

static int cmd_run(int argc, char **argv, bool validate_only)
{
    struct run_args a;
    struct plan plan;
    struct records *records = NULL;
    FILE *say = stdout;
    double at_least, at_most;
    char err[ERRBUF_LEN], started[32];
    json_t *runs, *expect, *doc;
    bool interrupted = false, pass;
    json_int_t measured = 0;
    int rc;

    if (parse_run_args(argc, argv, &a) < 0)
        return EXIT_USAGE;
    if (plan_load(&plan, a.config, a.sets, a.nsets, a.output, a.connections, err,
                  sizeof(err)) < 0) {
        fprintf(stderr, "qbench: %s\n", err);
        return EXIT_USAGE;
    }
    /* with --output - the results are standard output: people read stderr */
    if (strcmp(plan.id.output, "-") == 0)
        say = stderr;
    {
        char note[400];
        struct compare_opts co;

        compare_default_opts(&co);
        compare_repeat_warning(plan.id.repeat, plan.points[0].cfg.gate, co.alpha, note, sizeof(note));
        if (note[0])
            fprintf(stderr, "qbench: warning: %s\n", note);
    }
    plan_duration(&plan, &at_least, &at_most);
    if (validate_only) {
        printf("%s: ok (%zu run point%s x %u repeat%s, %.0f-%.0f s, results to %s)\n", a.config,
               plan.npoints, plan.npoints == 1 ? "" : "s", plan.id.repeat,
               plan.id.repeat == 1 ? "" : "s", at_least, at_most, plan.id.output);
        plan_destroy(&plan);
        return EXIT_OK;
    }
    {
        const char *inputs[] = {a.config};
        int env;

        if (strcmp(plan.id.output, "-") != 0 &&
            safefile_check(plan.id.output, inputs, 1, &env, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench: output: %s\n", err);
            plan_destroy(&plan);
            return env ? EXIT_ENV : EXIT_USAGE;
        }
        const char *outs[] = {plan.id.output, plan.id.connections_file},
                   *what[] = {"output", "connections_file"};

        if (plan.id.connections_file[0] && strcmp(plan.id.output, "-") != 0 &&
            safefile_distinct(outs, what, 2, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench: %s\n", err);
            plan_destroy(&plan);
            return EXIT_USAGE;
        }
        if (plan.id.connections_file[0] &&
            (safefile_check(plan.id.connections_file, inputs, 1, &env, err, sizeof(err)) < 0 ||
             (env = 1, !(records = records_open(plan.id.connections_file, err, sizeof(err)))))) {
            fprintf(stderr, "qbench: connections_file: %s\n", err);
            plan_destroy(&plan);
            return env ? EXIT_ENV : EXIT_USAGE;
        }
    }
    raise_nofile();
    for (size_t i = 0; i < plan.npoints; i++) {
        if (runner_check_fds(&plan.points[i].cfg, err, sizeof(err)) < 0 ||
            runner_check_shard(&plan.points[i].cfg, &a.shard, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench: %s\n", err);
            records_abort(records);
            plan_destroy(&plan);
            return EXIT_ENV;
        }
    }
    stopflag_install();
    if (!a.quiet)
        fprintf(stderr, "qbench: %zu run point%s x %u repeat%s: %.0f s of schedule, up to %.0f s "
                        "with the last connections' timeouts\n", plan.npoints,
                plan.npoints == 1 ? "" : "s", plan.id.repeat, plan.id.repeat == 1 ? "" : "s",
                at_least, at_most);
    clock_iso8601(started, sizeof(started));
    runs = json_array();
    for (size_t i = 0; i < plan.npoints && !interrupted; i++) {
        json_t *run = NULL;

        if (run_point(&plan, i, &a, records, &run, &interrupted, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench: %s\n", err);
            json_decref(runs);
            records_abort(records);
            plan_destroy(&plan);
            return EXIT_ENV;
        }
        if (!a.quiet)
            print_summary(say, run, i + 1, plan.npoints);
        json_array_append_new(runs, run);
    }
    expect = expect_evaluate(plan.id.expect, plan.id.nexpect, runs, &pass);
    doc = report_document(plan.effective, runs, expect, started, interrupted);
    if (a.shard.count > 1 || a.shard.has_start) {
        char at[64] = "";

        if (a.shard.has_start) {
            time_t sec = (time_t)a.shard.start_epoch;
            struct tm tm;

            gmtime_r(&sec, &tm);
            strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        json_object_set_new(doc, "shard",
                            json_pack("{s:i, s:i, s:s?}", "index", a.shard.index, "count",
                                      a.shard.count, "start_at", at[0] ? at : NULL));
    }
    rc = write_doc(doc, plan.id.output, err, sizeof(err));
    if (rc < 0)
        records_abort(records);
    else if (records)
        rc = records_commit(records, err, sizeof(err));
    records = NULL;
    if (rc < 0) {
        fprintf(stderr, "qbench: %s\n", err);
        json_decref(doc);
        plan_destroy(&plan);
        return EXIT_ENV;
    }
    if (!a.quiet && plan.id.connections_file[0])
        fprintf(say, "wrote %s\n", plan.id.connections_file);
    if (!a.quiet && strcmp(plan.id.output, "-") != 0)
        printf("wrote %s\n", plan.id.output);
    if (!pass)
        expect_print_failures(json_object_get(doc, "expect"), stderr);
    else if (!a.quiet && plan.id.nexpect)
        fprintf(say, "expect: all %zu bound%s passed\n", plan.id.nexpect,
                plan.id.nexpect == 1 ? "" : "s");
    for (size_t i = 0; i < json_array_size(json_object_get(doc, "runs")); i++)
        measured += json_integer_value(json_object_get(
            json_object_get(json_array_get(json_object_get(doc, "runs"), i), "outcomes"),
            "attempted"));
    json_decref(doc);
    plan_destroy(&plan);
    if (interrupted) {
        if (measured == 0)
            fprintf(stderr, "qbench: interrupted before the first connection: nothing was "
                            "measured (the results file says so)\n");
        else
            fprintf(stderr, "qbench: interrupted; partial results written\n");
        return EXIT_INTERRUPTED;
    }
    if (!pass)
        return EXIT_EXPECT;
    return EXIT_OK;
}

static int parse_number(const char *opt, const char *text, double *out)
{
    char *end;

    *out = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(*out >= 0)) {
        fprintf(stderr, "qbench compare: %s: expected a number >= 0, got '%s'\n", opt, text);
        return -1;
    }
    return 0;
}

static int cmd_compare(int argc, char **argv)
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
        double *target = c == 't' ? &co.latency_pct : c == 'r' ? &co.ratio_pp
                       : c == 'f' ? &co.latency_floor_us : c == 'n' ? &co.min_samples
                       : c == 'a' ? &co.alpha : c == 'p' ? &co.min_effect_pp
                       : c == 'e' ? &co.min_effect_pct : NULL;

        if (c == 'h') {
            printf("usage: qbench compare BASELINE.json CURRENT.json [options]\n"
                   "The metrics in the config's \"gate\" (default: outcome ratios, connect and\n"
                   "accept p50/p99) are judged. With repeats (3 or more values in all), outcome\n"
                   "ratios by a quasi-binomial test on the per-repeat counts, latencies by a\n"
                   "t-test on their logarithms, with Holm's adjustment over the metrics tested\n"
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
                   "  --format FMT             text, json, markdown or junit (default text)\n"
                   "  --allow-different        compare other experiments or settings anyway\n"
                   "Exit: 0 no regression, 1 regression, 2 bad input, not the same "
                   "experiment, or cannot judge.\n",
                   co.alpha, co.min_effect_pp, co.min_effect_pct, co.latency_pct,
                   co.latency_floor_us, co.ratio_pp, co.min_samples);
            return EXIT_OK;
        }
        if (c == 'F') {
            if (compare_format_of(optarg) < 0) {
                fprintf(stderr, "qbench compare: --format: expected text, json, markdown or "
                                "junit, got '%s'\n", optarg);
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
            usage(stderr);
            return EXIT_USAGE;
        }
        for (const struct option *op = opts; op->name; op++)
            if (op->val == c)
                snprintf(opt, sizeof(opt), "--%s", op->name);
        if (parse_number(opt, optarg, target) < 0)
            return EXIT_USAGE;
    }
    if (argc - optind != 2) {
        fprintf(stderr, "qbench compare: expected BASELINE.json CURRENT.json\n");
        usage(stderr);
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

static int cmd_export(int argc, char **argv)
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
            printf("usage: qbench export RESULTS.json [--format csv] [-o OUT.csv]\n"
                   "One row per run point (repeat 0) and per repeat: params, every metric,\n"
                   "latency percentiles p1..p99.99, every kernel counter (zeros included).\n"
                   "Writes to standard output unless -o is given.\n");
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

/* Writes doc to path through safefile, or to standard output for "-". */
static int write_doc(const json_t *doc, const char *path, char *err, size_t errlen)
{
    char *text;

    if (strcmp(path, "-") != 0)
        return results_write(doc, path, err, errlen);
    text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    if (!text)
        return errbuf_set(err, errlen, "out of memory");
    if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF) {
        free(text);
        return errbuf_set(err, errlen, "writing results to standard output: %s",
                          strerror(errno));
    }
    free(text);
    return 0;
}

static int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    char err[ERRBUF_LEN];
    json_t **docs, *merged = NULL, **obs = NULL;
    const char **names = NULL, **obs_names = NULL;
    size_t n = 0, nobs = 0;
    int c, rc = EXIT_OK, env;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'h') {
            printf("usage: qbench merge RESULTS.json... [OBSERVER.json...] -o OUT.json (or -o -)\n"
                   "Combines shards (--shard I/N) or runs of one config on several machines:\n"
                   "outcome counts and counters summed (counters also per host), latency\n"
                   "histograms merged exactly from their buckets and percentiles recomputed.\n"
                   "Inputs of another name, other settings or other run points are refused.\n"
                   "Observer documents (qbench observe, told apart by their schema) put the\n"
                   "server's side into the merged run: accept_queue, syn_queue, server_kernel\n"
                   "(its namespace's counters) and server_sysctl, aligned by wall clock on the\n"
                   "run's timeline (clock skew between machines shifts them by that much).\n"
                   "Exit: 0 ok, 2 bad or mismatched inputs, 3 output not writable.\n");
            return EXIT_OK;
        }
        if (c == 'o')
            out = optarg;
        else
            return EXIT_USAGE;
    }
    if (!out || optind >= argc) {
        fprintf(stderr, "qbench merge: expected RESULTS.json... -o OUT.json\n");
        return EXIT_USAGE;
    }
    docs = calloc((size_t)(argc - optind), sizeof(*docs));
    if (!docs)
        return EXIT_ENV;
    obs = calloc((size_t)(argc - optind), sizeof(*obs));
    obs_names = calloc((size_t)(argc - optind), sizeof(*obs_names));
    names = calloc((size_t)(argc - optind), sizeof(*names));
    if (!obs || !obs_names || !names) {
        rc = EXIT_ENV;
        goto out;
    }
    /* results and observer documents in any order, told apart by schema */
    for (int i = optind; i < argc; i++) {
        json_t *doc = json_load_file(argv[i], 0, NULL);
        bool observer = doc && obsdoc_is_observer(doc);

        json_decref(doc);
        if (observer) {
            obs[nobs] = obsdoc_load(argv[i], err, sizeof(err));
            obs_names[nobs] = argv[i];
            if (!obs[nobs]) {
                fprintf(stderr, "qbench merge: %s\n", err);
                rc = EXIT_USAGE;
                goto out;
            }
            nobs++;
            continue;
        }
        docs[n] = results_load(argv[i], err, sizeof(err));
        if (!docs[n] || resultcheck_mergeable(docs[n], err + 512, sizeof(err) - 512) < 0) {
            if (docs[n])
                fprintf(stderr, "qbench merge: %s: %s\n", argv[i], err + 512);
            else
                fprintf(stderr, "qbench merge: %s\n", err);
            n += docs[n] != NULL;
            rc = EXIT_USAGE;
            goto out;
        }
        names[n++] = argv[i];
        /* one shard given twice doubles its counts: say so, loudly */
        for (int j = optind; j < i; j++)
            if (safefile_same(argv[j], argv[i]))
                fprintf(stderr, "qbench merge: warning: %s and %s are the same file: its "
                                "measurements are counted twice\n", argv[j], argv[i]);
    }
    if (n == 0) {
        fprintf(stderr, "qbench merge: no results file among the inputs (observers alone have "
                        "no connections to merge)\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if (strcmp(out, "-") != 0 &&
        safefile_check(out, (const char *const *)argv + optind, (size_t)(argc - optind), &env,
                       err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench merge: -o: %s\n", err);
        rc = env ? EXIT_ENV : EXIT_USAGE;
        goto out;
    }
    merged = merge_documents(docs, names, n, err, sizeof(err));
    if (!merged || obsdoc_join(merged, obs, obs_names, nobs, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench merge: %s\n", err);
        rc = EXIT_USAGE;
        goto out;
    }
    {
        /* the bounds of the config, judged again on the merged runs */
        struct expect_bound bounds[CONFIG_MAX_EXPECT];
        size_t nb = 0;
        const char *key;
        json_t *val;
        bool pass;

        json_object_foreach(json_object_get(json_object_get(merged, "config"), "expect"), key,
                            val) {
            if (nb < CONFIG_MAX_EXPECT && json_is_number(val)) {
                snprintf(bounds[nb].name, sizeof(bounds[nb].name), "%s", key);
                bounds[nb++].bound = json_number_value(val);
            }
        }
        json_object_set_new(merged, "expect",
                            expect_evaluate(bounds, nb, json_object_get(merged, "runs"), &pass));
    }
    if (write_doc(merged, out, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench merge: %s\n", err);
        rc = EXIT_ENV;
        goto out;
    }
    if (strcmp(out, "-") != 0)
        printf("wrote %s (%zu inputs)\n", out, n + nobs);
out:
    for (size_t i = 0; i < n; i++)
        json_decref(docs[i]);
    for (size_t i = 0; i < nobs; i++)
        json_decref(obs[i]);
    free(docs);
    free(obs);
    free(obs_names);
    free(names);
    json_decref(merged);
    return rc;
}

static int cmd_observe(int argc, char **argv)
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
            printf("usage: qbench observe --port PORT --duration-ms MS [--start-at TIME]\n"
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
            return EXIT_OK;
        case 'p':
        case 'd':
        case 'i':
            errno = 0;
            v = strtoll(optarg, &end, 10);
            if (errno || *end || end == optarg || v < (c == 'd' ? 0 : 1) ||
                v > (c == 'p' ? 65535 : c == 'i' ? 10000 : 86400000LL)) {
                fprintf(stderr, "qbench observe: --%s: expected %s, got \"%s\"\n",
                        c == 'p' ? "port" : c == 'd' ? "duration-ms" : "interval-ms",
                        c == 'p' ? "1..65535" : c == 'd' ? "0..86400000" : "1..10000", optarg);
                return EXIT_USAGE;
            }
            if (c == 'p')
                o.port = (uint16_t)v;
            else if (c == 'd') {
                o.duration_ms = (uint64_t)v;
                have_duration = true;
            }
            else
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
    if (write_doc(doc, out, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench observe: %s\n", err);
        json_decref(doc);
        return EXIT_ENV;
    }
    if (!o.quiet)
        fprintf(stderr, "qbench observe: port %u: accept queue max %lld, SYN queue max %lld, "
                        "ListenOverflows %lld%s\n", o.port,
                json_integer_value(json_object_get(json_object_get(doc, "accept_queue"), "max")),
                json_integer_value(json_object_get(json_object_get(doc, "syn_queue"), "max")),
                json_integer_value(json_object_get(json_object_get(doc, "kernel"),
                                                   "ListenOverflows")),
                interrupted ? " (interrupted)" : "");
    json_decref(doc);
    return interrupted ? EXIT_INTERRUPTED : EXIT_OK;
}

static int cmd_plot(int argc, char **argv)
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
            printf("usage: qbench plot RESULTS.json... -o OUT.png|OUT.svg [--x KEY]\n"
                   "  -o, --output PATH   the picture; .png or .svg (required)\n"
                   "  --x KEY             the setting on the x axis (default: what varies "
                   "between the runs)\n"
                   "One run: its timeline and queues. Several runs (a sweep, or several files):\n"
                   "outcomes and latency against what differs between them.\n"
                   "Exit: 0 ok, 2 bad input, 3 gnuplot missing or failed, output not writable.\n");
            return EXIT_OK;
        }
        if (c == 'o')
            out = optarg;
        else if (c == 'x')
            x = optarg;
        else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (!out || optind >= argc) {
        fprintf(stderr, "qbench plot: expected RESULTS.json... -o OUT.png|OUT.svg\n");
        usage(stderr);
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
    if (safefile_check(out, (const char *const *)argv + optind, (size_t)(argc - optind), &env,
                       err, sizeof(err)) < 0) {
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

/* Descriptors 0-2 open before anything else: started with one closed, the
 * first socket would take its number and progress lines would be written
 * into the listener. */
static void open_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) < 0)
            _exit(EXIT_ENV);
    }
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    open_std_fds();
    /* A peer or gnuplot going away is an error to report, not a signal
     * that kills qbench without results. */
    signal(SIGPIPE, SIG_IGN);
    /* a second signal removes the temporary files being written */
    safefile_watch_tmpfiles(stopflag_add_tmpfile, stopflag_remove_tmpfile);

    if (strcmp(cmd, "--version") == 0) {
        printf("qbench %s\n", QBENCH_VERSION);
        return EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0 && argc > 2 && strcmp(argv[2], "config") == 0) {
        size_t n;
        const struct metric *all = metric_table(&n);

        printf("Config keys (dotted paths, as in --set and sweep):\n");
        config_print_reference(stdout);
        printf("Metrics (expect bounds are <metric>_min / <metric>_max):\n");
        for (size_t i = 0; i < n; i++)
            printf("  %-28s %s\n", all[i].name, all[i].meaning);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1, false);
    if (strcmp(cmd, "validate") == 0)
        return cmd_run(argc - 1, argv + 1, true);
    if (strcmp(cmd, "compare") == 0)
        return cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "observe") == 0)
        return cmd_observe(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return cmd_run(argc, argv, false);
    if (cmd[0] == '\0')
        fprintf(stderr, "qbench: no command\n");
    else
        fprintf(stderr, "qbench: unknown command '%s'\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
