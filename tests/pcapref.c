#include "pcapref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long pcapref_server_port(const json_t *run)
{
    const char *before =
        json_string_value(json_object_get(json_object_get(run, "hooks"), "before"));
    const char *q = before ? strstr(before, "tcp port '") : NULL;

    return q ? atol(q + 10) : 0;
}

/* "127.0.0.1.40000" or "::1.40000": the address and the port. */
static long split_endpoint(const char *s, size_t len, char *addr, size_t addrlen)
{
    const char *dot = NULL;

    for (size_t i = 0; i < len; i++)
        if (s[i] == '.')
            dot = s + i;
    if (!dot || (size_t)(dot - s) >= addrlen)
        return -1;
    memcpy(addr, s, (size_t)(dot - s));
    addr[dot - s] = '\0';
    return atol(dot + 1);
}

/* One line of `tcpdump -nn -tt`:
 * "1764678380.595430 IP 127.0.0.1.47424 > 127.0.0.1.52459: Flags [S.], seq 1, ..., length 0" */
static bool parse(const char *line, char *src, long *sport, char *dst, long *dport, char *flags,
                  size_t flagslen, long *length)
{
    const char *ip = strstr(line, " IP ");
    const char *ip6 = strstr(line, " IP6 ");
    const char *a, *gt, *b, *colon, *f, *fe, *len;

    if (ip)
        a = ip + 4;
    else if (ip6)
        a = ip6 + 5;
    else
        return false;
    gt = strstr(a, " > ");
    if (!gt)
        return false;
    b = gt + 3;
    colon = strstr(b, ": ");
    f = strstr(b, "Flags [");
    if (!colon || !f)
        return false;
    fe = strchr(f, ']');
    len = strstr(f, ", length ");
    if (!fe || !len || (size_t)(fe - f - 7) >= flagslen)
        return false;
    *sport = split_endpoint(a, (size_t)(gt - a), src, 64);
    *dport = split_endpoint(b, (size_t)(colon - b), dst, 64);
    memcpy(flags, f + 7, (size_t)(fe - f - 7));
    flags[fe - f - 7] = '\0';
    *length = atol(len + 9);
    return *sport >= 0 && *sport < 65536 && *dport >= 0 && *dport < 65536;
}

struct pcapref *pcapref_read(const char *path, long server_port)
{
    char cmd[1024], line[2048];
    struct pcapref *ref;
    FILE *p;

    if (strchr(path, '\'')) {
        fprintf(stderr, "pcapref: a quote in %s\n", path);
        return NULL;
    }
    ref = calloc(1, sizeof(*ref));
    if (!ref)
        return NULL;
    ref->server_port = server_port;
    snprintf(cmd, sizeof(cmd), "tcpdump -nn -tt -r '%s' 2>/dev/null", path);
    p = popen(cmd, "r");
    if (!p) {
        free(ref);
        return NULL;
    }
    while (fgets(line, sizeof(line), p)) {
        char src[64], dst[64], flags[16];
        long sport, dport, length;
        double t;
        bool from_client;
        struct pcapref_conn *c;

        if (!parse(line, src, &sport, dst, &dport, flags, sizeof(flags), &length) ||
            (sport != server_port && dport != server_port)) {
            ref->unparsed++;
            continue;
        }
        ref->packets++;
        t = atof(line);
        from_client = dport == server_port;
        c = &ref->port[from_client ? sport : dport];
        if (!ref->source[0])
            snprintf(ref->source, sizeof(ref->source), "%s", from_client ? src : dst);
        else if (strcmp(ref->source, from_client ? src : dst) != 0)
            c->other_source = true;
        if (from_client) {
            if (!strcmp(flags, "S") && c->syns++ == 0)
                c->first_syn = t;
            c->client_fin |= strchr(flags, 'F') != NULL;
            c->client_rsts += strchr(flags, 'R') != NULL;
            c->client_data |= length > 0;
        } else {
            c->synacks += !strcmp(flags, "S.");
            c->server_fin |= strchr(flags, 'F') != NULL;
            c->server_rst |= strchr(flags, 'R') != NULL;
            c->server_data += length > 0;
            if ((length > 0 || strchr(flags, 'F')) && c->server_first == 0)
                c->server_first = t;
        }
    }
    if (pclose(p) != 0 && ref->packets == 0) {
        fprintf(stderr, "pcapref: tcpdump could not read %s\n", path);
        free(ref);
        return NULL;
    }
    return ref;
}

bool pcapref_server_took(const struct pcapref_conn *c)
{
    return c->server_data > 0 || c->server_fin;
}

bool pcapref_capture_lost(const char *log_path)
{
    char text[4096] = "";
    FILE *f = fopen(log_path, "r");

    if (f) {
        size_t got = fread(text, 1, sizeof(text) - 1, f);

        text[got] = '\0';
        fclose(f);
    }
    return !strstr(text, "\n0 packets dropped by kernel");
}
