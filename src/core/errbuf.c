#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int errbuf_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
        errbuf_printable(err);
    }
    return -1;
}

/* Length of the UTF-8 sequence s starts, 0 when it is not a valid one
 * (overlong lead bytes, surrogates and code points above U+10FFFF are not). */
static size_t utf8_len(const unsigned char *s)
{
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4;
    else
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0) ||
        (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))
        return 0;
    return n;
}

size_t errbuf_control_len(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n;

    if (u[0] < 0x20 || u[0] == 0x7f)
        return 1;
    n = utf8_len(u);
    if (n == 0)
        return 1; /* a stray byte: 0x9b alone is CSI to an 8-bit terminal */
    if (n == 2 && u[0] == 0xc2 && u[1] < 0xa0)
        return 2; /* U+0080..U+009F: the C1 controls, UTF-8 encoded */
    return 0;
}

void errbuf_printable(char *s)
{
    char *out = s;

    while (*s) {
        size_t c = *s == '\n' ? 0 : errbuf_control_len(s);

        if (c) {
            *out++ = '?';
            s += c;
        } else {
            size_t n = utf8_len((const unsigned char *)s);

            for (size_t i = 0; i < n; i++)
                *out++ = *s++;
        }
    }
    *out = '\0';
}
