#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "errbuf.h"
#include "metric.h"
#include "results.h"

void cli_usage(FILE *out)
{
    fputs("usage: qbench [run] --config FILE [options]     run the experiment, write results\n"
          "       qbench validate --config FILE [options] check the config (the whole sweep)\n"
          "       qbench compare BASELINE.json CURRENT.json [--format text|json|markdown|junit]\n"
          "                      [--alpha P] [--allow-different] [...]   (compare --help)\n"
          "       qbench ab --config A.json [--config-b B.json] [--set-a K=V] [--set-b K=V]\n"
          "                 [--repeat N] ...   baseline and candidate interleaved (ab --help)\n"
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

int cli_write_doc(const json_t *doc, const char *path, char *err, size_t errlen)
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

int cli_help_config(void)
{
    size_t n;
    const struct metric *all = metric_table(&n);

    printf("Config keys (dotted paths, as in --set and sweep):\n");
    config_print_reference(stdout);
    printf("Metrics (expect bounds are <metric>_min / <metric>_max):\n");
    for (size_t i = 0; i < n; i++)
        printf("  %-28s %s\n", all[i].name, all[i].meaning);
    return EXIT_OK;
}
