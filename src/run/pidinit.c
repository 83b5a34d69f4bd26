#include "pidinit.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

_Noreturn void pidinit_run(char *const argv[], int status_fd)
{
    sigset_t set, none;
    pid_t server;
    int status = 0;

    /* signals wait in the mask until sigwaitinfo takes them: none is lost
     * between the fork and the loop */
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
        sigaddset(&set, forwarded[i]);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    server = fork();
    if (server < 0) {
        dprintf(STDERR_FILENO, "qbench: init: fork: %s\n", strerror(errno));
        _exit(127);
    }
    if (server == 0) {
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execvp(argv[0], argv);
        dprintf(STDERR_FILENO, "qbench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    for (;;) {
        siginfo_t si;
        pid_t pid;
        int st;

        if (sigwaitinfo(&set, &si) < 0)
            continue;
        if (si.si_signo != SIGCHLD) {
            kill(server, si.si_signo);
            continue;
        }
        /* orphans of the namespace are ours to reap too */
        while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
            if (pid != server)
                continue;
            status = st;
            if (status_fd >= 0)
                (void)!write(status_fd, &status, sizeof(status));
            _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        }
    }
}

int pidinit_status(int status_read_fd, int fallback)
{
    int status;

    if (status_read_fd >= 0 && read(status_read_fd, &status, sizeof(status)) == sizeof(status))
        return status;
    return fallback;
}
