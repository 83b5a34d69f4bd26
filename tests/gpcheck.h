/* gpcheck: an oracle for gnuplot scripts qbench generates, shared by the
 * plot unit test and the plot fuzz target. It returns NULL when the script
 * can run nothing and substitute nothing that came from a file, or a
 * message naming the first offending line:
 * - datablocks hold numbers only (no string can end a block early);
 * - a backquote, '@' or control character appears only inside a
 *   single-quoted string, where gnuplot substitutes nothing;
 * - double-quoted strings (qbench's own constants) hold no backquote, '@',
 *   '$' or backslash;
 * - '$' outside strings only names one of qbench's datablocks. */
#ifndef QB_TESTS_GPCHECK_H
#define QB_TESTS_GPCHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static inline bool gpcheck_is_block_name(const char *p)
{
    static const char *const names[] = {"$outcomes", "$latency", "$timeline",
                                        "$queue",    "$synq",    "$spread"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(p, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

static inline const char *gpcheck(const char *script)
{
    static char msg[256];
    bool in_block = false;
    unsigned line = 0;

    for (const char *p = script; *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char q = 0;

        line++;
        if (in_block) {
            if (len == 3 && strncmp(p, "EOD", 3) == 0) {
                in_block = false;
            } else {
                for (size_t i = 0; i < len; i++)
                    if (!strchr("0123456789.-+eNa ", p[i])) {
                        snprintf(msg, sizeof(msg), "line %u: datablock holds '%c'", line, p[i]);
                        return msg;
                    }
            }
        } else {
            for (size_t i = 0; i < len; i++) {
                char c = p[i];

                if ((unsigned char)c < 0x20 || c == 0x7f) {
                    snprintf(msg, sizeof(msg), "line %u: control character 0x%02x", line,
                             (unsigned char)c);
                    return msg;
                }
                if (q == '\'') {
                    if (c == '\'' && i + 1 < len && p[i + 1] == '\'')
                        i++;
                    else if (c == '\'')
                        q = 0;
                    continue;
                }
                if (q == '"') {
                    if (c == '"')
                        q = 0;
                    else if (strchr("`@$\\", c)) {
                        snprintf(msg, sizeof(msg), "line %u: '%c' in a double-quoted string", line,
                                 c);
                        return msg;
                    }
                    continue;
                }
                if (c == '\'' || c == '"') {
                    q = c;
                } else if (c == '`' || c == '@') {
                    snprintf(msg, sizeof(msg), "line %u: '%c' outside a string", line, c);
                    return msg;
                } else if (c == '$' && !gpcheck_is_block_name(p + i)) {
                    snprintf(msg, sizeof(msg), "line %u: '$' outside a string", line);
                    return msg;
                }
            }
            if (q) {
                snprintf(msg, sizeof(msg), "line %u: unterminated string", line);
                return msg;
            }
            /* gnuplot starts a datablock only on a line that is a block
             * name and "<< EOD"; the same characters inside a quoted
             * string (a title, say) are text. */
            if (p[0] == '$' && len > 7 && strncmp(p + len - 7, " << EOD", 7) == 0 &&
                !memchr(p, '\'', len) && !memchr(p, '"', len))
                in_block = true;
        }
        p = end ? end + 1 : p + len;
    }
    return in_block ? "datablock not closed" : NULL;
}

#endif
