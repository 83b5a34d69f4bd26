/* qbench ab: a baseline and a candidate in one job, repeats interleaved,
 * judged like compare (ab.h runs them, compare.h judges). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ab.h"
#include "cli.h"
#include "compare.h"
#include "errbuf.h"
#include "experiment.h"
#include "metric.h"
#include "plan.h"
#include "safefile.h"
#include "stopflag.h"

#define MAX_SETS 64
#define DEFAULT_REPEAT 5

struct ab_args {
    const char *config, *config_b, *output[2], *verdict;
    const char *sets[2][MAX_SETS]; /* common --set first, then --set-a / --set-b */
    size_t nsets[2];
    unsigned repeat;
    bool quiet;
    struct compare_opts co;
};

/* qbench ab --help (also a section of the manual page). */
void cli_ab_help(FILE *out)
{
    fputs("usage: qbench ab --config A.json [--config-b B.json] [--set-a K=V]... [--set-b K=V]...\n"
          "                 [--set K=V]... [--repeat N] [--output-a PATH] [--output-b PATH]\n"
          "                 [--verdict PATH] [--format text|json|markdown|junit] [--gate LIST]\n"
          "                 [--alpha P] [--min-effect-pp PP] [--min-effect-pct PCT] [--quiet]\n"
          "Runs a baseline (A) and a candidate (B) in one job, their repeats interleaved\n"
          "(A B A B ..., every point of every repeat in a fresh namespace), writes both\n"
          "results files and judges B against A as qbench compare does: no stored baseline,\n"
          "and machine drift touches both sides alike.\n"
          "  --config A.json          the baseline; also B's unless --config-b\n"
          "  --config-b B.json        the candidate's config\n"
          "  --set K=V                override a key on both sides (repeatable)\n"
          "  --set-a K=V, --set-b K=V override a key on one side, e.g. two server.command\n"
          "  --repeat N               rounds: repeats a side (default: the config's repeat if\n"
          "                           above 1, else 5)\n"
          "  --output-a, --output-b   results files (default: A's and B's output with -a/-b)\n"
          "  --verdict PATH           also write the verdict (in --format) to PATH\n"
          "  --gate, --alpha, --min-effect-pp, --min-effect-pct, --format: as for compare\n"
          "Exit: 0 no regression, 1 regression, 2 bad usage or cannot judge, 3 the\n"
          "environment refused, 130 interrupted (both files written, no verdict).\n",
          out);
}

static int add_set(struct ab_args *a, int side, const char *set)
{
    for (int s = 0; s < 2; s++) {
        if (side >= 0 && s != side)
            continue;
        if (a->nsets[s] >= MAX_SETS) {
            fprintf(stderr, "qbench ab: at most %d --set options a side\n", MAX_SETS);
            return -1;
        }
        a->sets[s][a->nsets[s]++] = set;
    }
    return 0;
}

static int parse_ab_args(int argc, char **argv, struct ab_args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"config-b", required_argument, NULL, 'B'},
        {"set", required_argument, NULL, 's'},
        {"set-a", required_argument, NULL, '1'},
        {"set-b", required_argument, NULL, '2'},
        {"repeat", required_argument, NULL, 'R'},
        {"output-a", required_argument, NULL, 'o'},
        {"output-b", required_argument, NULL, 'O'},
        {"verdict", required_argument, NULL, 'V'},
        {"format", required_argument, NULL, 'F'},
        {"gate", required_argument, NULL, 'G'},
        {"alpha", required_argument, NULL, 'a'},
        {"min-effect-pp", required_argument, NULL, 'p'},
        {"min-effect-pct", required_argument, NULL, 'e'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[ERRBUF_LEN];
    int c;

    memset(a, 0, sizeof(*a));
    compare_default_opts(&a->co);
    a->co.allow_different = true; /* A and B differ by design: the keys are named */
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:s:qh", opts, NULL)) != -1) {
        char *end;
        unsigned long n;

        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'B':
            a->config_b = optarg;
            break;
        case 'o':
            a->output[0] = optarg;
            break;
        case 'O':
            a->output[1] = optarg;
            break;
        case 'V':
            a->verdict = optarg;
            break;
        case 'q':
            a->quiet = true;
            break;
        case 's':
        case '1':
        case '2':
            if (add_set(a, c == 's' ? -1 : c - '1', optarg) < 0)
                return -1;
            break;
        case 'R':
            n = strtoul(optarg, &end, 10);
            if (!*optarg || *end || n < 1 || n > 100) {
                fprintf(stderr, "qbench ab: --repeat: expected 1..100, got '%s'\n", optarg);
                return -1;
            }
            a->repeat = (unsigned)n;
            break;
        case 'F':
            if (compare_format_of(optarg) < 0) {
                fprintf(stderr,
                        "qbench ab: --format: expected text, json, markdown or junit, "
                        "got '%s'\n",
                        optarg);
                return -1;
            }
            a->co.format = (enum compare_format)compare_format_of(optarg);
            break;
        case 'G':
            if (metric_check_gate(optarg, err, sizeof(err)) < 0) {
                fprintf(stderr, "qbench ab: --gate: %s\n", err);
                return -1;
            }
            a->co.gate = optarg;
            break;
        case 'a':
            if (cli_number("ab", "--alpha", optarg, &a->co.alpha) < 0)
                return -1;
            break;
        case 'p':
            if (cli_number("ab", "--min-effect-pp", optarg, &a->co.min_effect_pp) < 0)
                return -1;
            break;
        case 'e':
            if (cli_number("ab", "--min-effect-pct", optarg, &a->co.min_effect_pct) < 0)
                return -1;
            break;
        case 'h':
            cli_ab_help(stdout);
            exit(EXIT_OK);
        default:
            cli_hint("ab");
            return -1;
        }
    }
    if (optind < argc || !a->config) {
        fprintf(stderr,
                optind < argc ? "qbench ab: unexpected argument '%s'\n"
                              : "qbench ab: --config A.json is required%s\n",
                optind < argc ? argv[optind] : "");
        cli_hint("ab");
        return -1;
    }
    return 0;
}

/* "results/x.json" -> "results/x-a.json" */
static void side_output(const char *output, char suffix, char *buf, size_t len)
{
    size_t n = strlen(output);

    if (n > 5 && strcmp(output + n - 5, ".json") == 0)
        snprintf(buf, len, "%.*s-%c.json", (int)(n - 5), output, suffix);
    else
        snprintf(buf, len, "%s-%c", output, suffix);
}

/* Both plans loaded, their outputs settled and checked. */
static int load_plans(struct ab_args *a, struct plan plan[2], char out[2][PATH_MAX], bool *env)
{
    const char *config[2] = {a->config, a->config_b ? a->config_b : a->config};
    char err[ERRBUF_LEN];

    *env = false;
    for (int s = 0; s < 2; s++) {
        int e = 0;
        const char *inputs[] = {config[0], config[1]};

        if (plan_load(&plan[s], config[s], a->sets[s], a->nsets[s], NULL, NULL, err, sizeof(err)) <
            0) {
            fprintf(stderr, "qbench ab: %s: %s\n", s ? "B" : "A", err);
            return -1;
        }
        if (plan[s].id.connections_file[0]) {
            fprintf(stderr,
                    "qbench ab: %s: connections_file is not written by ab (run the "
                    "config alone for it)\n",
                    s ? "B" : "A");
            return -1;
        }
        if (a->output[s])
            snprintf(out[s], PATH_MAX, "%s", a->output[s]);
        else
            side_output(plan[s].id.output, s ? 'b' : 'a', out[s], PATH_MAX);
        if (strcmp(out[s], "-") == 0) {
            fprintf(stderr, "qbench ab: --output-%c: ab writes files, not standard output\n",
                    s ? 'b' : 'a');
            return -1;
        }
        if (safefile_check(out[s], inputs, 2, &e, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench ab: output %s: %s\n", s ? "B" : "A", err);
            *env = e != 0;
            return -1;
        }
    }
    if (strcmp(out[0], out[1]) == 0) {
        fprintf(stderr, "qbench ab: both sides would write %s: give --output-a/--output-b\n",
                out[0]);
        return -1;
    }
    if (!a->repeat)
        a->repeat = plan[0].id.repeat > 1 ? plan[0].id.repeat : DEFAULT_REPEAT;
    return 0;
}

/* The verdict to standard output, and to --verdict PATH when given. */
static enum compare_verdict judge(const struct ab_args *a, const json_t *da, const json_t *db,
                                  char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    enum compare_verdict v;

    if (!mem) {
        errbuf_set(err, errlen, "out of memory");
        return COMPARE_BAD_INPUT;
    }
    v = compare_results(da, db, &a->co, mem, stderr, err, errlen);
    fclose(mem);
    fputs(text ? text : "", stdout);
    if (a->verdict && v != COMPARE_BAD_INPUT) {
        char werr[ERRBUF_LEN];

        if (safefile_put(a->verdict, text ? text : "", len, werr, sizeof(werr)) < 0) {
            fprintf(stderr, "qbench ab: --verdict: %s\n", werr);
            if (v == COMPARE_OK)
                v = COMPARE_BAD_INPUT, errbuf_set(err, errlen, "verdict not written");
        }
    }
    free(text);
    return v;
}

int cli_ab(int argc, char **argv)
{
    struct ab_args a;
    struct plan plan[2];
    char out[2][PATH_MAX], err[ERRBUF_LEN];
    json_t *doc[2] = {NULL, NULL};
    bool env, interrupted;
    int rc = EXIT_OK;
    enum compare_verdict v;

    memset(plan, 0, sizeof(plan));
    if (parse_ab_args(argc, argv, &a) < 0)
        return EXIT_USAGE;
    if (load_plans(&a, plan, out, &env) < 0) {
        rc = env ? EXIT_ENV : EXIT_USAGE;
        goto done;
    }
    {
        char note[400];

        compare_repeat_warning(a.repeat, plan[0].points[0].cfg.gate, a.co.alpha, note,
                               sizeof(note));
        if (note[0])
            fprintf(stderr, "qbench ab: warning: %s\n", note);
    }
    for (int s = 0; s < 2; s++) {
        if (experiment_check(&plan[s], NULL, err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench ab: %s\n", err);
            rc = EXIT_ENV;
            goto done;
        }
    }
    stopflag_install();
    if (ab_run(&plan[0], &plan[1],
               &(struct ab_opts){.repeat = a.repeat, .quiet = a.quiet, .say = stderr}, &doc[0],
               &doc[1], &interrupted, err, sizeof(err)) < 0) {
        fprintf(stderr, "qbench ab: %s\n", err);
        rc = EXIT_ENV;
        goto done;
    }
    for (int s = 0; s < 2; s++) {
        if (cli_write_doc(doc[s], out[s], err, sizeof(err)) < 0) {
            fprintf(stderr, "qbench ab: %s\n", err);
            rc = EXIT_ENV;
            goto done;
        }
        if (!a.quiet)
            fprintf(stderr, "wrote %s (%s)\n", out[s], s ? "B, candidate" : "A, baseline");
    }
    if (interrupted) {
        fprintf(stderr, "qbench ab: interrupted; both files written with the rounds both sides "
                        "finished, no verdict\n");
        rc = EXIT_INTERRUPTED;
        goto done;
    }
    v = judge(&a, doc[0], doc[1], err, sizeof(err));
    if (v == COMPARE_BAD_INPUT || v == COMPARE_CANNOT_JUDGE)
        fprintf(stderr, "qbench ab: %s\n", err);
    rc = v == COMPARE_REGRESSION ? EXIT_EXPECT : v == COMPARE_OK ? EXIT_OK : EXIT_USAGE;
done:
    json_decref(doc[0]);
    json_decref(doc[1]);
    plan_destroy(&plan[0]);
    plan_destroy(&plan[1]);
    return rc;
}
