#include "placeholder.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

static const char *const known[] = {"address", "host", "port", "backlog", "dir"};

static int expand(const char *tmpl, const struct placeholders *p, char *out, size_t len, char *err,
                  size_t errlen)
{
    size_t used = 0;

    for (const char *s = tmpl; *s;) {
        char value[PATH_MAX + 64];
        const char *v = NULL;

        if ((s[0] == '{' && s[1] == '{') || (s[0] == '}' && s[1] == '}')) {
            value[0] = s[0];
            value[1] = '\0';
            v = value;
            s += 2;
        } else if (s[0] == '{') {
            const char *close = strchr(s, '}');
            size_t n = close ? (size_t)(close - s - 1) : 0;
            bool found = false;

            for (size_t k = 0; close && k < sizeof(known) / sizeof(known[0]); k++)
                if (strlen(known[k]) == n && strncmp(s + 1, known[k], n) == 0)
                    found = true;
            if (!found)
                return errbuf_set(err, errlen,
                                  "unknown placeholder '%.*s' (known: {address}, "
                                  "{host}, {port}, {backlog}, {dir}; {{ and }} for "
                                  "braces)",
                                  close ? (int)(n + 2) : 8, s);
            if (p) {
                if (strncmp(s + 1, "address", n) == 0)
                    v = p->address;
                else if (strncmp(s + 1, "host", n) == 0)
                    v = p->host;
                else if (strncmp(s + 1, "dir", n) == 0)
                    v = p->dir;
                else {
                    snprintf(value, sizeof(value), "%d",
                             strncmp(s + 1, "port", n) == 0 ? (int)p->port : p->backlog);
                    v = value;
                }
            }
            s = close + 1;
        } else {
            value[0] = *s++;
            value[1] = '\0';
            v = value;
        }
        if (!v)
            continue;
        if (out) {
            size_t vl = strlen(v);

            if (used + vl >= len)
                return errbuf_set(err, errlen, "longer than %zu characters once expanded", len - 1);
            memcpy(out + used, v, vl);
            used += vl;
        }
    }
    if (out)
        out[used] = '\0';
    return 0;
}

int placeholder_expand(const char *tmpl, const struct placeholders *p, char *out, size_t len,
                       char *err, size_t errlen)
{
    return expand(tmpl, p, out, len, err, errlen);
}

int placeholder_check(const char *tmpl, char *err, size_t errlen)
{
    return expand(tmpl, NULL, NULL, 0, err, errlen);
}

char *placeholder_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf;
    long n;

    if (!f) {
        errbuf_set(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || n > 1 << 20 ||
        fseek(f, 0, SEEK_SET) < 0 || !(buf = malloc((size_t)n + 1))) {
        fclose(f);
        errbuf_set(err, errlen, "%s: unreadable, or over 1 MB", path);
        return NULL;
    }
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        errbuf_set(err, errlen, "%s: short read", path);
        return NULL;
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

int placeholder_check_file(const char *path, char *err, size_t errlen)
{
    char *text = placeholder_read_file(path, err, errlen), why[ERRBUF_LEN];
    int rc;

    if (!text)
        return -1;
    rc = placeholder_check(text, why, sizeof(why));
    free(text);
    return rc < 0 ? errbuf_set(err, errlen, "%s: %s", path, why) : 0;
}
