#include "help.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "sysctls.h"
#include "wrap.h"
#include "metric.h"
#include "roff.h"

/* One option of a command: how it is written, and what it does. */
struct help_opt {
    const char *flags;
    const char *text;
};

/* One command: how it is called, what it does, its options, what else a
 * user should know, and its exit codes. */
struct help_cmd {
    const char *name;
    const char *synopsis; /* after "qbench " */
    const char *summary;  /* one line, for the usage */
    const char *about;    /* a paragraph, for --help and the manual */
    const struct help_opt *opts;
    size_t nopts;
    const char *exits;
    void (*details)(FILE *out); /* the command's own --help, if it has one */
};

static const struct help_opt run_opts[] = {
    {"-c, --config FILE", "the experiment (JSON; see configs/ and qbench help config)"},
    {"-s, --set KEY=VALUE",
     "override a key by dotted path, VALUE as JSON or else a string: --set server.backlog=4, "
     "--set sysctl.net.ipv4.tcp_synack_retries=2, --set 'sweep={\"server.backlog\": [4, 16, "
     "64]}' (repeatable). A --set on a swept key replaces that sweep (with a note)"},
    {"--no-sweep", "drop the config's sweep: one run point (the same as --set 'sweep={}')"},
    {"-o, --output PATH", "results file (default: the config's output, else "
                          "results/<name>.json; - for standard output)"},
    {"--connections FILE", "also a line per connection attempt (.csv or .jsonl)"},
    {"--repeat N", "run every point N times, each in a fresh namespace (default: the config's "
                   "repeat, 1)"},
    {"--shard I/N", "run shard I (0-based) of N: the I-th interleaved share of the schedule "
                    "(also QBENCH_SHARD, or JOB_COMPLETION_INDEX with QBENCH_SHARDS)"},
    {"--start-at TIME", "start the schedule at a wall-clock instant (RFC 3339 or epoch "
                        "seconds; also QBENCH_START_AT)"},
    {"-q, --quiet", "no progress, no summary"},
    {"-h, --help", "this help"},
};

#define OPTS(a) a, sizeof(a) / sizeof(a[0])

/* The commands, in the order the usage and the manual list them. A
 * command with its own --help (details) is described by it in the manual
 * too; run, validate and help by the text here. */
static const struct help_cmd commands[] = {
    {"run", "[run] --config FILE [options]", "run the experiment, write results",
     "Runs every sweep point (each repeat in a fresh private network namespace), writes the "
     "results file and prints a summary line per point (with repeats, each metric's mean, sd "
     "and min..max across them). A run that did not finish (interrupted) passes no expect "
     "bound and is marked in the summary, the results and the plot. A point where more than "
     "10% of attempts failed on this machine (EMFILE, EADDRNOTAVAIL: outcome error) measured "
     "the client, not the server: qbench says so and exits 3, unless the config bounds "
     "error_ratio itself (--set expect.error_ratio_max=1 accepts any).",
     OPTS(run_opts),
     "0 ok, 1 an expect bound failed, 2 bad usage or config, 3 the environment refused or "
     "most attempts failed on this machine, 130 interrupted",
     NULL},
    {"validate", "validate --config FILE [options]", "check the config (the whole sweep)",
     "Checks the config and every sweep point as run would, and says how long the run takes "
     "at least and at most (the upper bound counts a server's start, stop and drain); runs "
     "nothing. Takes run's options.",
     NULL, 0, "0 ok, 2 bad usage or config", NULL},
    {"compare", "compare BASELINE.json CURRENT.json [options]", "the regression gate", NULL, NULL,
     0, NULL, cli_compare_help},
    {"ab", "ab --config A.json [--config-b B.json] [--set-a K=V] [--set-b K=V] [options]",
     "baseline and candidate interleaved, judged", NULL, NULL, 0, NULL, cli_ab_help},
    {"plot", "plot RESULTS.json... -o OUT.png|OUT.svg [--x KEY]",
     "outcomes and latency across runs, or one run over time", NULL, NULL, 0, NULL, cli_plot_help},
    {"export", "export RESULTS.json [--format csv] [-o OUT.csv]", "a flat table for notebooks",
     NULL, NULL, 0, NULL, cli_export_help},
    {"merge", "merge RESULTS.json... [OBSERVER.json...] -o OUT.json",
     "shards (and the server's observers) into one", NULL, NULL, 0, NULL, cli_merge_help},
    {"observe", "observe --port PORT --duration-ms MS [--start-at TIME] -o FILE|-",
     "the server's side of a distributed run", NULL, NULL, 0, NULL, cli_observe_help},
    {"help", "help config|man|COMMAND", "config keys and metrics; the manual",
     "help config: every config key with its range, default and whether it can be swept, "
     "every sysctl, sweep, expect and repeat, every metric. help man: this manual page as "
     "roff (man -l <(qbench help man)). help COMMAND: that command's --help.",
     NULL, 0, "0 ok, 2 an unknown topic", NULL},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct help_cmd *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_opts(FILE *out, const struct help_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int w = fprintf(out, "  %-24s ", opts[i].flags);

        if (w > 27) {
            fprintf(out, "\n%27s", "");
            w = 27;
        }
        wrap_print(out, opts[i].text, (size_t)w, 27, 96);
    }
}

void help_usage(FILE *out)
{
    for (size_t i = 0; i < NCOMMANDS; i++) {
        int w = fprintf(out, "%s qbench %s", i ? "      " : "usage:", commands[i].synopsis);

        /* the summary beside a short synopsis, under a long one */
        if (w <= 46)
            fprintf(out, "%*s%s\n", 48 - w, "", commands[i].summary);
        else
            fprintf(out, "\n%*s%s\n", 22, "", commands[i].summary);
    }
    fputs("       qbench --version\n\nrun/validate options:\n", out);
    print_opts(out, run_opts, sizeof(run_opts) / sizeof(run_opts[0]));
    fputs("\nqbench COMMAND --help for a command's options; qbench help man for the manual.\n"
          "Exit: 0 ok, 1 an expect bound failed (compare: a regression), 2 bad usage or input,\n"
          "3 the environment refused, 130 interrupted.\n",
          out);
}

int help_command(const char *name, FILE *out)
{
    const struct help_cmd *c = find(name);

    if (!c)
        return -1;
    if (c->details) {
        c->details(out);
        return 0;
    }
    fprintf(out, "usage: qbench %s\n", c->synopsis);
    wrap_print(out, c->about, 0, 0, 80);
    print_opts(out, c->opts, c->nopts);
    fputs("Exit: ", out);
    wrap_print(out, c->exits, 6, 6, 80);
    return 0;
}

/* What sweep, expect and repeat are, for help config and the manual: the
 * keys that are objects rather than one value. */
static const struct help_opt structure[] = {
    {"sweep", "{\"KEY\": [v1, v2, ...], ...}: the run repeats for every combination of the "
              "values, one run point each; KEY is a key marked [sweepable] above or "
              "sysctl.<name>. A --set on a swept key replaces that sweep (with a note); "
              "--no-sweep or --set 'sweep={}' drops the sweep"},
    {"expect", "{\"<metric>_min\": X, \"<metric>_max\": Y, ...}: bounds checked after the run "
               "on every point (metrics below); a failed bound exits 1 naming the points that "
               "failed; a run that did not finish passes none. Without a bound on "
               "error_ratio, a point where more than 10% of attempts failed on this machine "
               "(outcome error) exits 3: expect.error_ratio_max is how to accept such runs"},
    {"repeat", "N: every point N times, each in a fresh namespace; the summary shows each "
               "metric's mean, sd and min..max across the repeats, and compare judges by them"},
};

static void reference_text(FILE *out)
{
    struct config_ref row;
    size_t nm;
    const struct metric *all = metric_table(&nm);

    fputs("Config keys (dotted paths, as in --set and sweep):\n", out);
    for (size_t i = 0; config_reference_row(i, &row); i++) {
        char text[512];

        snprintf(text, sizeof(text), "%s%s%s%s%s%s%s", row.help, row.range[0] ? " " : "", row.range,
                 row.def ? " (default " : "", row.def ? row.def : "", row.def ? ")" : "",
                 row.sweepable ? " sweepable" : "");
        fprintf(out, "  %-28s ", row.path);
        wrap_print(out, text, 31, 31, 100);
    }
    fputs("  sysctl.<name>                a per-namespace sysctl (sweepable), one of:\n", out);
    sysctls_print_reference(out);
    fputs("Sweep, expect, repeat:\n", out);
    for (size_t i = 0; i < sizeof(structure) / sizeof(structure[0]); i++) {
        fprintf(out, "  %-28s ", structure[i].flags);
        wrap_print(out, structure[i].text, 31, 31, 100);
    }
    fputs("Metrics (expect bounds are <metric>_min / <metric>_max):\n", out);
    for (size_t i = 0; i < nm; i++)
        fprintf(out, "  %-28s %s\n", all[i].name, all[i].meaning);
}

int help_config(FILE *out)
{
    reference_text(out);
    return 0;
}

static void man_opts(FILE *out, const struct help_opt *opts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        roff_item(out, opts[i].flags, opts[i].text);
}

/* A command's --help as man markup, reflowed to the reader's width: its
 * running text as paragraphs, each "  --option ARG   what it does" line
 * (and the deeper-indented lines that continue it) as a tagged paragraph. */
static void man_details(FILE *out, char *text)
{
    char para[4096] = "", flags[128] = "", item[2048] = "";
    size_t plen = 0, ilen = 0;

    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        size_t lead = strspn(line, " ");
        char *gap;

        if (strncmp(line, "usage: ", 7) == 0)
            continue; /* the synopsis says it */
        if (lead >= 1 && lead <= 4 && line[lead] == '-' && (gap = strstr(line + lead, "  "))) {
            if (plen)
                roff_para(out, para);
            if (flags[0])
                roff_item(out, flags, item);
            plen = 0;
            para[0] = '\0';
            snprintf(flags, sizeof(flags), "%.*s", (int)(gap - line - lead), line + lead);
            ilen = (size_t)snprintf(item, sizeof(item), "%s", gap + strspn(gap, " "));
            continue;
        }
        if (lead > 4 && flags[0]) {
            if (ilen < sizeof(item))
                ilen += (size_t)snprintf(item + ilen, sizeof(item) - ilen, " %s", line + lead);
            continue;
        }
        if (flags[0]) {
            roff_item(out, flags, item);
            flags[0] = '\0';
        }
        if (plen < sizeof(para))
            plen += (size_t)snprintf(para + plen, sizeof(para) - plen, "%s%s", plen ? " " : "",
                                     line + lead);
    }
    if (flags[0])
        roff_item(out, flags, item);
    if (plen)
        roff_para(out, para);
}

int help_man(FILE *out)
{
    struct config_ref row;
    size_t nm;
    const struct metric *all = metric_table(&nm);
    char *sys = NULL;
    size_t syslen = 0;
    FILE *mem;

    roff_header(out, "qbench", 1, QBENCH_DATE, "qbench " QBENCH_VERSION, "User Commands");
    roff_section(out, "NAME");
    roff_text(out, "qbench - what a full listen backlog really does to TCP connections", 0);
    fputc('\n', out);
    roff_section(out, "SYNOPSIS");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        fputs(".B qbench\n", out);
        roff_text(out, commands[i].synopsis, 0);
        fputs("\n.br\n", out);
    }
    roff_section(out, "DESCRIPTION");
    roff_para(out, "qbench opens TCP connections at a fixed, open-loop rate against a listener "
                   "whose listen() backlog and accept pace you choose, in a private network "
                   "namespace with the TCP sysctls you choose, and records what every "
                   "connection went through: how long the handshake took as the client saw "
                   "it, when the server really took it off the accept queue, and how it failed "
                   "otherwise. It writes one JSON results file you can plot, gate CI on, "
                   "export, and compare against a baseline.");
    roff_section(out, "COMMANDS");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        const struct help_cmd *c = &commands[i];

        roff_subsection(out, c->name);
        if (c->details) {
            /* the command's own --help, as it prints it */
            char *text = NULL;
            size_t len = 0;
            FILE *cmd_out = open_memstream(&text, &len);

            if (!cmd_out)
                return -1;
            c->details(cmd_out);
            fclose(cmd_out);
            man_details(out, text);
            free(text);
            continue;
        }
        roff_para(out, c->about);
        man_opts(out, c->opts, c->nopts);
        roff_para(out, "Exit status:");
        roff_text(out, c->exits, 0);
        fputc('\n', out);
    }
    roff_section(out, "CONFIG KEYS");
    roff_para(out, "A config is a JSON object. Keys are written as dotted paths, as in --set "
                   "and sweep. Unknown keys, wrong types and out-of-range values are errors "
                   "that name where the value came from (the file, --set, the sweep point), "
                   "exit 2, and nothing runs.");
    for (size_t i = 0; config_reference_row(i, &row); i++) {
        char text[512];

        snprintf(text, sizeof(text), "%s%s%s%s%s%s%s", row.help, row.range[0] ? " " : "", row.range,
                 row.def ? " (default " : "", row.def ? row.def : "", row.def ? ")" : "",
                 row.sweepable ? "; can be swept" : "");
        roff_item(out, row.path, text);
    }
    roff_item(out, "sysctl.<name>",
              "a sysctl set inside the run's private namespace (never "
              "the host's); can be swept. One of:");
    mem = open_memstream(&sys, &syslen);
    if (mem) {
        sysctls_print_reference(mem);
        fclose(mem);
        roff_verbatim(out, sys);
        free(sys);
    }
    roff_section(out, "SWEEP, EXPECT, REPEAT");
    man_opts(out, structure, sizeof(structure) / sizeof(structure[0]));
    roff_section(out, "METRICS");
    roff_para(out, "Every metric can bound a run in expect, as <metric>_min or <metric>_max.");
    for (size_t i = 0; i < nm; i++)
        roff_item(out, all[i].name, all[i].meaning);
    roff_section(out, "EXIT STATUS");
    roff_para(out, "0 ok; 1 an expect bound failed (compare: a regression); 2 bad usage, config "
                   "or input; 3 the environment refused (namespace, sysctl, bind, disk, "
                   "gnuplot), or most attempts failed on this machine; 130 interrupted (the "
                   "results written are marked interrupted).");
    roff_section(out, "FILES");
    roff_item(out, "results/<name>.json", "the results file (config key output, --output)");
    roff_item(out, "share/doc/qbench/README.md", "the full reference, with measured examples");
    roff_item(out, "share/qbench/examples/", "example configs");
    roff_section(out, "SEE ALSO");
    roff_text(out, "gnuplot(1), ip-netns(8), ss(8), tcp(7)", 0);
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}

int help_topic(const char *topic, FILE *out)
{
    if (strcmp(topic, "config") == 0)
        return help_config(out);
    if (strcmp(topic, "man") == 0)
        return help_man(out);
    if (find(topic))
        return help_command(topic, out);
    return -1;
}
