#include "stopflag.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop_count;
#define TMPFILES 4
static const char *volatile stop_tmpfiles[TMPFILES];

static void on_signal(int sig)
{
    (void)sig;
    if (++stop_count >= 2) {
        static const char msg[] = "qbench: second signal, exiting now\n";

        for (int i = 0; i < TMPFILES; i++) {
            const char *tmp = stop_tmpfiles[i];

            if (tmp)
                unlink(tmp);
        }
        (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(130);
    }
}

void stopflag_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

bool stopflag_requested(void)
{
    return stop_count > 0;
}

void stopflag_add_tmpfile(const char *path)
{
    for (int i = 0; i < TMPFILES; i++) {
        if (!stop_tmpfiles[i]) {
            stop_tmpfiles[i] = path;
            return;
        }
    }
}

void stopflag_remove_tmpfile(const char *path)
{
    for (int i = 0; i < TMPFILES; i++)
        if (stop_tmpfiles[i] == path)
            stop_tmpfiles[i] = NULL;
}
