/* qbench: what a full listen backlog does to TCP connections.
 * The command line: which command, then its own options (cli_<command>.c)
 * and its exit code. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hint.h"
#include "safefile.h"
#include "stopflag.h"

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
    if (strcmp(cmd, "help") == 0)
        return cli_help(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        cli_usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "run") == 0)
        return cli_run(argc - 1, argv + 1, false);
    if (strcmp(cmd, "validate") == 0)
        return cli_run(argc - 1, argv + 1, true);
    if (strcmp(cmd, "compare") == 0)
        return cli_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cli_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return cli_export(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cli_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "observe") == 0)
        return cli_observe(argc - 1, argv + 1);
    if (strcmp(cmd, "ab") == 0)
        return cli_ab(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return cli_run(argc, argv, false);
    /* one line of what went wrong, one of what to do: not the whole usage */
    if (cmd[0] == '\0') {
        fprintf(stderr, "qbench: no command; to run an experiment: qbench --config FILE\n");
    } else if (access(cmd, F_OK) == 0 || strstr(cmd, ".json")) {
        /* a config given as a command */
        fprintf(stderr, "qbench: '%s' is not a command; did you mean qbench --config %s ?\n", cmd,
                cmd);
    } else {
        static const char *const commands[] = {"run",   "validate", "compare", "plot", "export",
                                               "merge", "observe",  "ab",      "help"};
        char hint[128];

        hint_closest(cmd, commands, sizeof(commands) / sizeof(commands[0]), hint, sizeof(hint));
        fprintf(stderr, "qbench: unknown command '%s'%s\n", cmd, hint);
    }
    fprintf(stderr, "qbench: see 'qbench --help'\n");
    return EXIT_USAGE;
}
