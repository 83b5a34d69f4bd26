/* cli: the command line's shared parts: exit codes, the usage text, one
 * function per command (cli_<command>.c) and writing a document to a path
 * or standard output. main dispatches to the commands. */
#ifndef QB_CLI_H
#define QB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

enum exit_code {
    EXIT_OK = 0,
    EXIT_EXPECT = 1, /* an expect bound failed / compare found a regression */
    EXIT_USAGE = 2,  /* bad usage, bad config, bad input file */
    EXIT_ENV = 3,    /* the environment refused (namespace, sysctl, bind, disk) */
    EXIT_INTERRUPTED = 130,
};

/* The usage of every command, to out. */
void cli_usage(FILE *out);

/* After a usage error (already said in one line): where the help is,
 * in one more line on stderr. command: "run", "plot" ... */
void cli_hint(const char *command);

/* Writes doc to path through safefile, or to standard output for "-". */
int cli_write_doc(const json_t *doc, const char *path, char *err, size_t errlen);

/* A number >= 0 for an option of a command; -1 after saying
 * "qbench CMD: OPT: expected a number >= 0, got 'TEXT'". */
int cli_number(const char *cmd, const char *opt, const char *text, double *out);

/* The commands: argv[0] is the command's name; each returns the exit code. */
int cli_run(int argc, char **argv, bool validate_only);
int cli_compare(int argc, char **argv);
int cli_plot(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_merge(int argc, char **argv);
int cli_observe(int argc, char **argv);
int cli_ab(int argc, char **argv);
int cli_help_config(void);

/* `qbench help [TOPIC]`: the usage, config, man or a command's --help;
 * an unknown topic is a usage error. */
int cli_help(int argc, char **argv);

/* Each command's --help, also printed into the manual page. */
void cli_compare_help(FILE *out);
void cli_plot_help(FILE *out);
void cli_export_help(FILE *out);
void cli_merge_help(FILE *out);
void cli_observe_help(FILE *out);
void cli_ab_help(FILE *out);

#endif
