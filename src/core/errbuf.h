/* errbuf: failures travel as a return code plus a message the caller owns.
 * Every fallible function takes (char *err, size_t errlen) and fills it with
 * one line naming the cause; the top level prints it. */
#ifndef QB_ERRBUF_H
#define QB_ERRBUF_H

#include <stddef.h>

#define ERRBUF_LEN 1024

/* Formats the message into err and returns -1, so "return errbuf_set(...)"
 * is the usual way to fail. */
int errbuf_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Makes s safe for a terminal in place: control characters (an escape
 * sequence from a hostile file, say) become '?': C0 and DEL, the C1 controls
 * U+0080..U+009F as UTF-8, and any byte that is not part of valid UTF-8
 * (a lone 0x9b is CSI to an 8-bit terminal). Line breaks stay, since a
 * message may list several errors a line each. errbuf_set applies it to
 * every message, since they quote names and values from files. */
void errbuf_printable(char *s);

/* How many bytes of a control character s starts with (as
 * errbuf_printable sees them; '\n' counts), 0 for a printable character. */
size_t errbuf_control_len(const char *s);

#endif
