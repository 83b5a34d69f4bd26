#include "outcome.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const names[OUTCOME_COUNT] = {
    [OUTCOME_ESTABLISHED] = "established",
    [OUTCOME_TIMEOUT] = "timeout",
    [OUTCOME_RESET] = "reset",
    [OUTCOME_REFUSED] = "refused",
    [OUTCOME_GREETING_TIMEOUT] = "greeting_timeout",
    [OUTCOME_ACCEPTED_LATE] = "accepted_late",
    [OUTCOME_NEVER_ACCEPTED] = "never_accepted",
    [OUTCOME_ERROR] = "error",
};

enum outcome outcome_classify(enum outcome_phase phase, int err)
{
    switch (err) {
    case 0:
        return phase == PHASE_GREETING ? OUTCOME_ESTABLISHED : OUTCOME_ERROR;
    case OUTCOME_ERR_TIMER:
    case ETIMEDOUT:
        /* Past the handshake, a timeout means the greeting never came: the
         * server took the connection too late, or never (story tells which). */
        return phase == PHASE_CONNECT ? OUTCOME_TIMEOUT : OUTCOME_GREETING_TIMEOUT;
    case ECONNRESET:
    case EPIPE:
        return OUTCOME_RESET;
    case ECONNREFUSED:
        return phase == PHASE_CONNECT ? OUTCOME_REFUSED : OUTCOME_RESET;
    default:
        return OUTCOME_ERROR;
    }
}

const char *outcome_name(enum outcome o)
{
    return (unsigned)o < OUTCOME_COUNT ? names[o] : "unknown";
}

const char *outcome_error_name(int err, char *buf, unsigned len)
{
    const char *name;

    switch (err) {
    case OUTCOME_ERR_TIMER:
        return "TIMER";
    case OUTCOME_ERR_EOF:
        return "EOF";
    case OUTCOME_ERR_INTERRUPTED:
        return "INTERRUPTED";
    default:
        break;
    }
    name = err > 0 ? strerrorname_np(err) : NULL;
    if (name)
        return name;
    snprintf(buf, len, "E%d", err);
    return buf;
}

unsigned outcome_err_slot(int err)
{
    if (err > 0 && err < OUTCOME_ERRNO_MAX)
        return (unsigned)err;
    if (err < 0 && err >= -OUTCOME_PSEUDO)
        return (unsigned)(OUTCOME_ERRNO_MAX - 1 - err);
    return 0; /* unknown cause */
}

int outcome_slot_err(unsigned slot)
{
    return slot < OUTCOME_ERRNO_MAX ? (int)slot : (int)(OUTCOME_ERRNO_MAX - 1) - (int)slot;
}

unsigned outcome_retrans_slot(unsigned retransmits)
{
    return retransmits < OUTCOME_RETRANS_SLOTS ? retransmits : OUTCOME_RETRANS_SLOTS - 1;
}

const char *outcome_meaning(enum outcome o)
{
    static const char *const meanings[OUTCOME_COUNT] = {
        [OUTCOME_ESTABLISHED] = "accepted, greeted",
        [OUTCOME_TIMEOUT] = "SYNs dropped, no handshake",
        [OUTCOME_RESET] = "RST from the server (abort_on_overflow, or closed)",
        [OUTCOME_REFUSED] = "RST to the SYN: nothing listening",
        [OUTCOME_GREETING_TIMEOUT] = "no greeting, server side unknown",
        [OUTCOME_ACCEPTED_LATE] = "accepted after the client gave up",
        [OUTCOME_NEVER_ACCEPTED] = "handshake done, never accepted",
        [OUTCOME_ERROR] = "local error (EMFILE, ports)",
    };

    return (unsigned)o < OUTCOME_COUNT ? meanings[o] : "unknown";
}
