#include "kstats.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "errbuf.h"

/* Parses the "Prefix: name name ..." / "Prefix: value value ..." line
 * pairs of one file, keeping the sections qbench reports. */
static int read_pairs(struct kstats *ks, const char *path, char *err, size_t errlen)
{
    char head[8192], vals[8192];
    FILE *f = fopen(path, "r");

    if (!f)
        return errbuf_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
    while (fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)) {
        char *hs, *vs, *h, *v;
        char *colon = strchr(head, ':');

        if (!colon || strncmp(head, vals, (size_t)(colon - head + 1)) != 0) {
            fclose(f);
            return errbuf_set(err, errlen, "%s: header and value lines do not pair up", path);
        }
        *colon = '\0';
        if (strcmp(head, "TcpExt") != 0 && strcmp(head, "Tcp") != 0)
            continue;
        h = strtok_r(colon + 1, " \n", &hs);
        v = strtok_r(vals + (colon - head) + 1, " \n", &vs);
        for (; h && v; h = strtok_r(NULL, " \n", &hs), v = strtok_r(NULL, " \n", &vs)) {
            if (ks->n >= KSTATS_MAX)
                break;
            snprintf(ks->names[ks->n], sizeof(ks->names[0]), "%s", h);
            ks->values[ks->n++] = strtoll(v, NULL, 10);
        }
    }
    fclose(f);
    return 0;
}

int kstats_read(struct kstats *ks, const char *netdir, char *err, size_t errlen)
{
    char path[512];

    ks->n = 0;
    snprintf(path, sizeof(path), "%s/netstat", netdir);
    if (read_pairs(ks, path, err, errlen) < 0)
        return -1;
    snprintf(path, sizeof(path), "%s/snmp", netdir);
    return read_pairs(ks, path, err, errlen);
}

int64_t kstats_get(const struct kstats *ks, const char *name)
{
    for (size_t i = 0; i < ks->n; i++)
        if (strcmp(ks->names[i], name) == 0)
            return ks->values[i];
    return 0;
}

static int is_gauge(const char *name)
{
    return strcmp(name, "CurrEstab") == 0 || strcmp(name, "MaxConn") == 0 ||
           strncmp(name, "Rto", 3) == 0;
}

json_t *kstats_delta_json(const struct kstats *before, const struct kstats *after)
{
    json_t *out = json_object();

    for (size_t i = 0; i < after->n; i++) {
        int64_t d = after->values[i] - kstats_get(before, after->names[i]);

        if (d != 0 && !is_gauge(after->names[i]))
            json_object_set_new(out, after->names[i], json_integer(d));
    }
    return out;
}

static int tcp_info_of(int fd, struct tcp_info *ti)
{
    socklen_t len = sizeof(*ti);

    return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len);
}

int kstats_listen_queue(int fd, unsigned *length, unsigned *limit)
{
    struct tcp_info ti;

    if (tcp_info_of(fd, &ti) < 0)
        return -1;
    *length = ti.tcpi_unacked;
    *limit = ti.tcpi_sacked;
    return 0;
}

int kstats_socket_unacked(int fd, unsigned *unacked)
{
    struct tcp_info ti;

    if (tcp_info_of(fd, &ti) < 0)
        return -1;
    *unacked = ti.tcpi_unacked;
    return 0;
}

int kstats_socket_state(int fd, unsigned *retrans, unsigned *state)
{
    struct tcp_info ti;

    if (tcp_info_of(fd, &ti) < 0)
        return -1;
    *retrans = ti.tcpi_total_retrans;
    *state = ti.tcpi_state;
    return 0;
}

int kstats_socket_retrans(int fd, unsigned *retrans)
{
    struct tcp_info ti;

    if (tcp_info_of(fd, &ti) < 0)
        return -1;
    *retrans = ti.tcpi_total_retrans;
    return 0;
}
