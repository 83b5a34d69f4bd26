/* placeholder: the templates of server.command and server.files.
 *
 * A template is text with placeholders ({address}, {host}, {port},
 * {backlog}, {dir}); "{{" and "}}" are literal braces. Part of the config
 * language: config checks templates when it loads them, extserver expands
 * them with the run point's values. Pure, apart from reading a template
 * file. */
#ifndef QB_PLACEHOLDER_H
#define QB_PLACEHOLDER_H

#include <stddef.h>

struct placeholders {
    const char *address; /* "127.0.0.1:8080", "[::1]:8080" */
    const char *host;    /* "127.0.0.1", "::1" */
    unsigned port;
    int backlog;
    const char *dir;
};

/* tmpl with every {name} replaced. -1 with the cause (unknown placeholder,
 * too long) in err. */
int placeholder_expand(const char *tmpl, const struct placeholders *p, char *out, size_t len,
                       char *err, size_t errlen);

/* Whether tmpl uses only known placeholders (validation). */
int placeholder_check(const char *tmpl, char *err, size_t errlen);

/* A whole template file (at most 1 MB), NUL-terminated, to free; NULL and
 * the cause naming path. */
char *placeholder_read_file(const char *path, char *err, size_t errlen);

/* placeholder_check for the template file at path. */
int placeholder_check_file(const char *path, char *err, size_t errlen);

#endif
