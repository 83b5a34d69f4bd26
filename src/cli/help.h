/* help: what qbench says about itself, from one set of tables: the usage,
 * each command's --help, `help config` (every config key with its range,
 * default and whether it can be swept; every sysctl; sweep, expect and
 * repeat; every metric) and the manual page (`help man`, roff), so the
 * three never disagree. */
#ifndef QB_HELP_H
#define QB_HELP_H

#include <stdio.h>

/* The usage: one line per command, run's options, the exit codes. */
void help_usage(FILE *out);

/* A command's --help; -1 if there is no such command. */
int help_command(const char *name, FILE *out);

/* The config reference (`qbench help config`). */
int help_config(FILE *out);

/* The manual page, as roff (`qbench help man`); -1 on a write error. */
int help_man(FILE *out);

/* `qbench help TOPIC`: config, man, or a command; -1 for an unknown topic. */
int help_topic(const char *topic, FILE *out);

#endif
