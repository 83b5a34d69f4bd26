#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "help.h"
#include "hint.h"
#include "errbuf.h"
#include "metric.h"
#include "results.h"

void cli_usage(FILE *out)
{
    help_usage(out);
}

void cli_hint(const char *command)
{
    fprintf(stderr, "qbench: see 'qbench %s --help'\n", command);
}

int cli_number(const char *cmd, const char *opt, const char *text, double *out)
{
    char *end;

    *out = strtod(text, &end);
    if (*text == '\0' || *end != '\0' || !(*out >= 0)) {
        fprintf(stderr, "qbench %s: %s: expected a number >= 0, got '%s'\n", cmd, opt, text);
        return -1;
    }
    return 0;
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
        return errbuf_set(err, errlen, "writing results to standard output: %s", strerror(errno));
    }
    free(text);
    return 0;
}

int cli_help_config(void)
{
    return help_config(stdout) < 0 ? EXIT_ENV : EXIT_OK;
}

int cli_help(int argc, char **argv)
{
    static const char *const topics[] = {"config",  "man",  "run",    "validate",
                                         "compare", "plot", "export", "merge",
                                         "observe", "ab",   "help"};
    char hint[128];

    if (argc < 2) {
        cli_usage(stdout);
        return EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "qbench help: one topic at a time, got '%s' and '%s'\n", argv[1], argv[2]);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "man") == 0)
        return help_man(stdout) < 0 || fflush(stdout) != 0 ? EXIT_ENV : EXIT_OK;
    if (help_topic(argv[1], stdout) == 0)
        return EXIT_OK;
    hint_closest(argv[1], topics, sizeof(topics) / sizeof(topics[0]), hint, sizeof(hint));
    fprintf(stderr, "qbench help: no topic '%s'%s; topics: config, man, or a command\n", argv[1],
            hint);
    return EXIT_USAGE;
}
