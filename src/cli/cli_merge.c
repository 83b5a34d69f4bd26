/* qbench merge RESULTS... -o OUT: shards or machines into one document,
 * the config's expect bounds judged again on the merged runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "errbuf.h"
#include "expect.h"
#include "merge.h"
#include "obsdoc.h"
#include "obsstory.h"
#include "resultcheck.h"
#include "results.h"
#include "rundoc.h"
#include "safefile.h"

/* Each connection a shard gave up on, told again from the observer's
 * view of the server (one run point: obsdoc_join has checked). */
static int join_story(json_t *merged, json_t *const *docs, size_t n, json_t *const *obs,
                      size_t nobs, char *err, size_t errlen)
{
    json_t **shard_runs;
    int rc;

    if (nobs == 0)
        return 0;
    shard_runs = calloc(n ? n : 1, sizeof(*shard_runs));
    if (!shard_runs)
        return errbuf_set(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++)
        shard_runs[i] = json_array_get(json_object_get(docs[i], RD_RUNS), 0);
    rc = obsstory_join(json_array_get(json_object_get(merged, RD_RUNS), 0), shard_runs, n, obs,
                       nobs, err, errlen);
    free(shard_runs);
    return rc;
}

/* qbench merge --help (also a section of the manual page). */
void cli_merge_help(FILE *out)
{
    fprintf(out, "usage: qbench merge RESULTS.json... [OBSERVER.json...] -o OUT.json (or -o -)\n"
                 "Combines shards (--shard I/N) or runs of one config on several machines:\n"
                 "outcome counts and counters summed (counters also per host), latency\n"
                 "histograms merged exactly from their buckets and percentiles recomputed.\n"
                 "Inputs of another name, other settings or other run points are refused.\n"
                 "Observer documents (qbench observe, told apart by their schema) put the\n"
                 "server's side into the merged run: accept_queue, syn_queue, server_kernel\n"
                 "(its namespace's counters) and server_sysctl, aligned by wall clock on the\n"
                 "run's timeline (clock skew between machines shifts them by that much).\n"
                 "Exit: 0 ok, 2 bad or mismatched inputs, 3 output not writable.\n");
}

int cli_merge(int argc, char **argv)
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
            cli_merge_help(stdout);
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
                fprintf(stderr,
                        "qbench merge: warning: %s and %s are the same file: its "
                        "measurements are counted twice\n",
                        argv[j], argv[i]);
    }
    if (n == 0) {
        fprintf(stderr, "qbench merge: no results file among the inputs (observers alone have "
                        "no connections to merge)\n");
        rc = EXIT_USAGE;
        goto out;
    }
    if (strcmp(out, "-") != 0 &&
        safefile_check(out, (const char *const *)argv + optind, (size_t)(argc - optind), &env, err,
                       sizeof(err)) < 0) {
        fprintf(stderr, "qbench merge: -o: %s\n", err);
        rc = env ? EXIT_ENV : EXIT_USAGE;
        goto out;
    }
    merged = merge_documents(docs, names, n, err, sizeof(err));
    if (!merged || obsdoc_join(merged, obs, obs_names, nobs, err, sizeof(err)) < 0 ||
        join_story(merged, docs, n, obs, nobs, err, sizeof(err)) < 0) {
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

        json_object_foreach(json_object_get(json_object_get(merged, RD_CONFIG), RD_EXPECT), key,
                            val) {
            if (nb < CONFIG_MAX_EXPECT && json_is_number(val)) {
                snprintf(bounds[nb].name, sizeof(bounds[nb].name), "%s", key);
                bounds[nb++].bound = json_number_value(val);
            }
        }
        json_object_set_new(merged, RD_EXPECT,
                            expect_evaluate(bounds, nb, rundoc_runs(merged), &pass));
    }
    if (cli_write_doc(merged, out, err, sizeof(err)) < 0) {
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
