/* qbench run / validate: the command line of an experiment (options,
 * the output files checked before anything runs, exit codes); the
 * experiment module runs it. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "capture.h"
#include "cli.h"
#include "compare.h"
#include "errbuf.h"
#include "experiment.h"
#include "expect.h"
#include "plan.h"
#include "records.h"
#include "results.h"
#include "runner.h"
#include "rundoc.h"
#include "safefile.h"
#include "shard.h"
#include "stopflag.h"

#define MAX_SETS 64

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
        {"config", required_argument, NULL, 'c'},
        {"set", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"connections", required_argument, NULL, 'C'},
        {"repeat", required_argument, NULL, 'R'},
        {"shard", required_argument, NULL, 'S'},
        {"start-at", required_argument, NULL, 'T'},
        {"no-sweep", no_argument, NULL, 'N'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
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
        case 'N':
            /* the same as --set sweep={}: one point, the config's values */
            if (a->nsets >= MAX_SETS) {
                fprintf(stderr, "qbench: too many --set/--no-sweep options\n");
                return -1;
            }
            a->sets[a->nsets++] = "sweep={}";
            break;
        case 'q':
            a->quiet = true;
            break;
        case 'h':
            cli_usage(stdout);
            exit(EXIT_OK);
        default:
            /* getopt said what was wrong, in one line */
            cli_hint("run");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "qbench: unexpected argument '%s'%s\n", argv[optind],
                !a->config && strstr(argv[optind], ".json") ? "; did you mean --config "
                                                              "with it?"
                                                            : "");
        cli_hint("run");
        return -1;
    }
    if (!a->config) {
        fprintf(stderr, "qbench: --config FILE is required\n");
        cli_hint("run");
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

/* capture.pcap: every point's (and repeat's) capture file, checked like
 * the results before anything runs; none may be another output. */
static int check_captures(const struct run_args *a, const struct plan *plan, int *e, char *err,
                          size_t errlen)
{
    const char *inputs[] = {a->config};
    const char *outs[] = {plan->id.output, NULL, NULL}, *what[] = {"output", "capture", NULL};
    unsigned reps = plan->id.repeat ? plan->id.repeat : 1;
    size_t n = 2;
    char path[PATH_MAX], why[ERRBUF_LEN];

    if (!plan->npoints || !plan->points[0].cfg.capture.pcap)
        return 0;
    outs[1] = path;
    if (plan->id.connections_file[0]) {
        outs[n] = plan->id.connections_file;
        what[n++] = "connections_file";
    }
    for (size_t i = 0; i < plan->npoints; i++)
        for (unsigned r = 1; r <= reps; r++) {
            if (capture_file_name(plan->id.output, (unsigned)i + 1, r, reps, path, sizeof(path)) <
                0)
                return errbuf_set(err, errlen, "capture.pcap: no file name beside %s",
                                  plan->id.output);
            if (safefile_check(path, inputs, 1, e, why, sizeof(why)) < 0 ||
                safefile_distinct(outs, what, n, why, sizeof(why)) < 0)
                return errbuf_set(err, errlen, "capture.pcap: %s", why);
        }
    return 0;
}

/* The files the run writes, checked (and the connections file opened)
 * before anything runs: -1 with *env when the environment refused. */
static int open_outputs(const struct run_args *a, const struct plan *plan, struct records **records,
                        bool *env)
{
    const char *inputs[] = {a->config};
    char err[ERRBUF_LEN];
    int e = 0;

    *env = false;
    if (strcmp(plan->id.output, "-") != 0 &&
        safefile_check(plan->id.output, inputs, 1, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench: output: %s\n", err);
        *env = e != 0;
        return -1;
    }
    const char *outs[] = {plan->id.output, plan->id.connections_file},
               *what[] = {"output", "connections_file"};

    if (plan->id.connections_file[0] && strcmp(plan->id.output, "-") != 0 &&
        safefile_distinct(outs, what, 2, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench: %s\n", err);
        return -1;
    }
    if (check_captures(a, plan, &e, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench: %s\n", err);
        *env = e != 0;
        return -1;
    }
    if (plan->id.connections_file[0] &&
        (safefile_check(plan->id.connections_file, inputs, 1, &e, err, sizeof(err)) < 0 ||
         (e = 1, !(*records = records_open(plan->id.connections_file, err, sizeof(err)))))) {
        fprintf(stderr, "qbench: connections_file: %s\n", err);
        *env = e != 0;
        return -1;
    }
    return 0;
}

/* The point_done hook: every finished point (and repeat) goes to the
 * output before the next starts, marked unfinished, so that nothing
 * measured is lost whatever happens next, SIGKILL included. A checkpoint
 * that cannot be written is said once; the run goes on (its end tries
 * again, and rescues the document elsewhere if it must). */
struct checkpoint {
    const char *output;
    bool warned;
};

static int write_checkpoint(const struct experiment *x, size_t point, void *ctx, char *err,
                            size_t errlen)
{
    struct checkpoint *c = ctx;
    json_t *doc;
    bool pass;
    char why[ERRBUF_LEN];

    (void)point;
    (void)err;
    (void)errlen;
    if (strcmp(c->output, "-") == 0)
        return 0;
    doc = experiment_document(x, &pass);
    if (results_write(doc, c->output, why, sizeof(why)) < 0 && !c->warned) {
        fprintf(stderr, "qbench: warning: the results so far could not be saved: %s\n", why);
        c->warned = true;
    }
    json_decref(doc);
    return 0;
}

/* The capture files the run kept (capture.pcap), a repeated point's
 * from each repeat. */
static void say_captures(const json_t *doc, FILE *say)
{
    const json_t *runs = rundoc_runs(doc);

    for (size_t i = 0; i < json_array_size(runs); i++) {
        const json_t *run = json_array_get(runs, i), *reps = json_object_get(run, RD_REPEATS);
        size_t n = json_is_array(reps) ? json_array_size(reps) : 1;

        for (size_t r = 0; r < n; r++) {
            const json_t *cap =
                json_object_get(json_is_array(reps) ? json_array_get(reps, r) : run, RD_CAPTURE);

            if (json_is_true(json_object_get(cap, RD_CAP_WRITTEN)))
                fprintf(say, "wrote %s\n", json_string_value(json_object_get(cap, RD_CAP_FILE)));
        }
    }
}

/* After the run: the results, then the connections file, then what a
 * person reads. -1 when a file could not be written (the results then went
 * elsewhere if anywhere: said). */
static int finish(const struct run_args *a, const struct plan *plan, const json_t *doc,
                  struct records **records, bool pass, bool local_errors, FILE *say)
{
    char err[ERRBUF_LEN], where[PATH_MAX];
    int rc;

    if (strcmp(plan->id.output, "-") == 0)
        rc = cli_write_doc(doc, plan->id.output, err, sizeof(err));
    else
        rc = results_write_or_rescue(doc, plan->id.output, where, sizeof(where), err, sizeof(err));
    if (rc < 0) {
        records_abort(*records);
        *records = NULL;
        if (strcmp(plan->id.output, "-") != 0 && where[0])
            fprintf(stderr, "qbench: %s; the results were kept in %s\n", err, where);
        else
            fprintf(stderr, "qbench: %s; the results could not be kept anywhere\n", err);
        return -1;
    }
    if (*records)
        rc = records_commit(*records, err, sizeof(err));
    *records = NULL;
    if (rc < 0) {
        fprintf(stderr, "qbench: %s (the results were written)\n", err);
        return -1;
    }
    if (!a->quiet && plan->id.connections_file[0])
        fprintf(say, "wrote %s\n", plan->id.connections_file);
    if (!a->quiet)
        say_captures(doc, say);
    if (!a->quiet && strcmp(plan->id.output, "-") != 0)
        printf("wrote %s\n", plan->id.output);
    if (!pass)
        expect_print_failures(json_object_get(doc, RD_EXPECT), stderr);
    else if (local_errors && plan->id.nexpect)
        fprintf(stderr, "qbench: expect not judged: the run measured this machine's limits\n");
    else if (!a->quiet && plan->id.nexpect)
        fprintf(say, "expect: all %zu bound%s passed\n", plan->id.nexpect,
                plan->id.nexpect == 1 ? "" : "s");
    return 0;
}

/* After the summary lines, before the verdict: whether a point was
 * dominated by errors on this machine, which makes the run no measurement
 * of the server (said on stderr). */
static bool local_errors(const struct plan *plan, const struct experiment *x, const json_t *doc,
                         FILE *say)
{
    fflush(say);
    return !x->interrupted &&
           expect_local_errors(plan->id.expect, plan->id.nexpect, rundoc_runs(doc), stderr) > 0;
}

/* Connections attempted over all run points. */
static json_int_t measured(const json_t *doc)
{
    const json_t *runs = rundoc_runs(doc);
    json_int_t n = 0;

    for (size_t i = 0; i < json_array_size(runs); i++)
        n += json_integer_value(rundoc_get(json_array_get(runs, i), RD_OUTCOMES, RD_ATTEMPTED));
    return n;
}

int cli_run(int argc, char **argv, bool validate_only)
{
    struct run_args a;
    struct plan plan;
    struct records *records = NULL;
    struct experiment x;
    FILE *say = stdout;
    double at_least, at_most;
    char err[ERRBUF_LEN];
    json_t *doc = NULL;
    bool pass = true, env, ran = false, failed, local = false;
    struct checkpoint cp = {NULL, false};
    int rc = EXIT_OK;

    memset(&plan, 0, sizeof(plan));
    memset(&x, 0, sizeof(x));
    if (parse_run_args(argc, argv, &a) < 0) {
        rc = EXIT_USAGE;
        goto out;
    }
    if (plan_load(&plan, a.config, a.sets, a.nsets, a.output, a.connections, err, sizeof(err)) <
        0) {
        fprintf(stderr, "qbench: %s\n", err);
        rc = EXIT_USAGE;
        goto out;
    }
    /* with --output - the results are standard output: people read stderr */
    if (strcmp(plan.id.output, "-") == 0)
        say = stderr;
    if (plan.notes[0])
        fprintf(stderr, "qbench: note: %s\n", plan.notes);
    {
        char note[400];
        struct compare_opts co;

        compare_default_opts(&co);
        compare_repeat_warning(plan.id.repeat, plan.points[0].cfg.gate, co.alpha, note,
                               sizeof(note));
        if (note[0])
            fprintf(stderr, "qbench: warning: %s\n", note);
    }
    plan_duration(&plan, &at_least, &at_most);
    /* and what the runner may add: a user's server's start and stop, the
     * drain of a queue it still empties */
    for (size_t i = 0; i < plan.npoints; i++)
        at_most +=
            runner_overhead_max_s(&plan.points[i].cfg) * (plan.id.repeat ? plan.id.repeat : 1);
    if (validate_only) {
        printf("%s: ok (%zu run point%s x %u repeat%s, %.0f-%.0f s, results to %s)\n", a.config,
               plan.npoints, plan.npoints == 1 ? "" : "s", plan.id.repeat,
               plan.id.repeat == 1 ? "" : "s", at_least, at_most, plan.id.output);
        goto out;
    }
    cp.output = plan.id.output;
    if (open_outputs(&a, &plan, &records, &env) < 0) {
        rc = env ? EXIT_ENV : EXIT_USAGE;
        goto out;
    }
    raise_nofile();
    if (experiment_check(&plan, &a.shard, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench: %s\n", err);
        rc = EXIT_ENV;
        goto out;
    }
    stopflag_install();
    if (!a.quiet)
        fprintf(stderr,
                "qbench: %zu run point%s x %u repeat%s: %.0f s of schedule, up to %.0f s "
                "with the last connections' timeouts and the server's drain\n",
                plan.npoints, plan.npoints == 1 ? "" : "s", plan.id.repeat,
                plan.id.repeat == 1 ? "" : "s", at_least, at_most);
    experiment_init(&x, &plan,
                    &(struct experiment_opts){.quiet = a.quiet,
                                              .say = say,
                                              .shard = &a.shard,
                                              .records = records,
                                              .point_done = write_checkpoint,
                                              .ctx = &cp});
    ran = true;
    failed = experiment_run(&x, err, sizeof(err)) < 0;
    if (x.records_failure[0]) {
        /* the file is gone, the measurement is not */
        records_abort(records);
        records = NULL;
    }
    doc = experiment_document(&x, &pass);
    local = !failed && local_errors(&plan, &x, doc, say);
    if (failed) {
        /* whatever was measured before the failure is kept and says why */
        fprintf(stderr, "qbench: %s\n", err);
        if (json_array_size(rundoc_runs(doc)) == 0) {
            /* nothing measured: no file, as before any point ran */
            rc = EXIT_ENV;
            goto out;
        }
        if (finish(&a, &plan, doc, &records, true, false, say) == 0)
            fprintf(stderr,
                    "qbench: the %zu point%s measured before that %s in %s, marked "
                    "incomplete\n",
                    json_array_size(rundoc_runs(doc)),
                    json_array_size(rundoc_runs(doc)) == 1 ? "" : "s",
                    json_array_size(rundoc_runs(doc)) == 1 ? "is" : "are",
                    strcmp(plan.id.output, "-") == 0 ? "the results" : plan.id.output);
        rc = EXIT_ENV;
    } else if (finish(&a, &plan, doc, &records, pass, local, say) < 0)
        rc = EXIT_ENV;
    else if (x.records_failure[0]) {
        fprintf(stderr,
                "qbench: %s: the results are whole, the connections file is not "
                "(marked incomplete)\n",
                x.records_failure);
        rc = EXIT_ENV;
    } else if (x.interrupted) {
        if (measured(doc) == 0)
            fprintf(stderr, "qbench: interrupted before the first connection: nothing was "
                            "measured (the results file says so)\n");
        else
            fprintf(stderr, "qbench: interrupted; partial results written\n");
        rc = EXIT_INTERRUPTED;
    } else if (local) {
        rc = EXIT_ENV;
    } else if (!pass)
        rc = EXIT_EXPECT;
out:
    json_decref(doc);
    records_abort(records);
    if (ran)
        experiment_destroy(&x);
    plan_destroy(&plan);
    return rc;
}
