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

/* One packet into what a connection (or a port's all) looked like. */
static void add(struct pcapref_conn *c, bool from_client, const char *flags, long length, double t)
{
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

/* The SYN's "seq N". */
static long long seq_of(const char *line)
{
    const char *q = strstr(line, ", seq ");

    return q ? atoll(q + 6) : -1;
}

/* The connection a packet of this client port belongs to: its latest, or a
 * new one when a client SYN (isn >= 0) comes with a new sequence number or
 * the port has none yet. */
static struct pcapref_conn *conn_for(struct pcapref *ref, long port, long long isn)
{
    struct pcapref_conn *c = ref->last[port] ? &ref->conns[ref->last[port] - 1] : NULL;

    if (c && (isn < 0 || (c->syns > 0 && c->isn == (unsigned long)isn)))
        return c;
    if (ref->nconns % 256 == 0) {
        struct pcapref_conn *v = realloc(ref->conns, (ref->nconns + 256) * sizeof(*ref->conns));

        if (!v)
            return NULL;
        ref->conns = v;
    }
    c = &ref->conns[ref->nconns++];
    memset(c, 0, sizeof(*c));
    c->port = port;
    c->isn = isn >= 0 ? (unsigned long)isn : 0;
    if (ref->last[port])
        ref->conns[ref->last[port] - 1].next = ref->nconns;
    else
        ref->first[port] = ref->nconns;
    ref->last[port] = ref->nconns;
    return c;
}

const struct pcapref_conn *pcapref_conn(const struct pcapref *ref, long port, size_t nth)
{
    size_t i;

    if (port <= 0 || port >= 65536)
        return NULL;
    for (i = ref->first[port]; i && nth; nth--)
        i = ref->conns[i - 1].next;
    return i ? &ref->conns[i - 1] : NULL;
}

size_t pcapref_conns_on(const struct pcapref *ref, long port)
{
    size_t n = 0;

    if (port <= 0 || port >= 65536)
        return 0;
    for (size_t i = ref->first[port]; i; i = ref->conns[i - 1].next)
        n++;
    return n;
}

void pcapref_free(struct pcapref *ref)
{
    if (ref)
        free(ref->conns);
    free(ref);
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
        pcapref_free(ref);
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
        ref->port[from_client ? sport : dport].port = from_client ? sport : dport;
        c = conn_for(ref, from_client ? sport : dport,
                     from_client && !strcmp(flags, "S") ? seq_of(line) : -1);
        if (!c) {
            pcapref_free(ref);
            pclose(p);
            return NULL;
        }
        if (!ref->source[0])
            snprintf(ref->source, sizeof(ref->source), "%s", from_client ? src : dst);
        else if (strcmp(ref->source, from_client ? src : dst) != 0)
            c->other_source = ref->port[c->port].other_source = true;
        add(c, from_client, flags, length, t);
        add(&ref->port[c->port], from_client, flags, length, t);
    }
    if (pclose(p) != 0 && ref->packets == 0) {
        fprintf(stderr, "pcapref: tcpdump could not read %s\n", path);
        pcapref_free(ref);
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
