#include "sysctls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hint.h"

/* The sysctls qbench may set: each lives in every network namespace, so
 * writing it inside a private one leaves the host alone (anything else,
 * vm.*, kernel.*, global ones such as tcp_mem, would change the whole
 * machine). Each has its documented form and range (Documentation/
 * networking/ip-sysctl.rst), checked before the run: the kernel's own
 * checks are uneven (it accepts tcp_syncookies 5 and tcp_abort_on_overflow
 * 7, which mean nothing). */
enum sysctl_form {
    SYS_INT,    /* one integer in [min, max] */
    SYS_PAIR,   /* "LO HI", each in [min, max], LO <= HI */
    SYS_TRIPLE, /* "MIN DEFAULT MAX", each in [min, max], non-decreasing */
    SYS_LIST,   /* port list: digits, ',' and '-' */
};

struct sysctl_row {
    const char *name;
    enum sysctl_form form;
    long long min, max;
};

#define I32 2147483647LL

static const struct sysctl_row sysctl_rows[] = {
    {"net.core.somaxconn", SYS_INT, 0, I32},
    {"net.ipv4.ip_local_port_range", SYS_PAIR, 1, 65535},
    {"net.ipv4.ip_local_reserved_ports", SYS_LIST, 0, 65535},
    {"net.ipv4.ip_unprivileged_port_start", SYS_INT, 0, 65535},
    {"net.ipv4.tcp_abort_on_overflow", SYS_INT, 0, 1},
    {"net.ipv4.tcp_ecn", SYS_INT, 0, 2},
    {"net.ipv4.tcp_fastopen", SYS_INT, 0, 0xfff},
    {"net.ipv4.tcp_fin_timeout", SYS_INT, 1, 120},
    {"net.ipv4.tcp_keepalive_intvl", SYS_INT, 1, 32767},
    {"net.ipv4.tcp_keepalive_probes", SYS_INT, 1, 127},
    {"net.ipv4.tcp_keepalive_time", SYS_INT, 1, 32767},
    {"net.ipv4.tcp_max_syn_backlog", SYS_INT, 0, I32},
    {"net.ipv4.tcp_max_tw_buckets", SYS_INT, 0, I32},
    {"net.ipv4.tcp_migrate_req", SYS_INT, 0, 1},
    {"net.ipv4.tcp_no_metrics_save", SYS_INT, 0, 1},
    {"net.ipv4.tcp_orphan_retries", SYS_INT, 0, 255},
    {"net.ipv4.tcp_retries1", SYS_INT, 0, 255},
    {"net.ipv4.tcp_retries2", SYS_INT, 0, 255},
    {"net.ipv4.tcp_rfc1337", SYS_INT, 0, 1},
    {"net.ipv4.tcp_rmem", SYS_TRIPLE, 1, I32},
    {"net.ipv4.tcp_sack", SYS_INT, 0, 1},
    {"net.ipv4.tcp_syn_linear_timeouts", SYS_INT, 0, 127},
    {"net.ipv4.tcp_syn_retries", SYS_INT, 1, 127},
    {"net.ipv4.tcp_synack_retries", SYS_INT, 0, 255},
    {"net.ipv4.tcp_syncookies", SYS_INT, 0, 2},
    {"net.ipv4.tcp_timestamps", SYS_INT, 0, 2},
    {"net.ipv4.tcp_tw_reuse", SYS_INT, 0, 2},
    {"net.ipv4.tcp_window_scaling", SYS_INT, 0, 1},
    {"net.ipv4.tcp_wmem", SYS_TRIPLE, 1, I32},
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct sysctl_row *sysctl_row(const char *name)
{
    for (size_t i = 0; i < COUNT(sysctl_rows); i++)
        if (strcmp(sysctl_rows[i].name, name) == 0)
            return &sysctl_rows[i];
    return NULL;
}

bool sysctls_is_per_netns(const char *name)
{
    return sysctl_row(name) != NULL;
}

/* "not a per-network-namespace sysctl ... (did you mean ...)" */
static void unknown(const char *name, char *out, size_t len)
{
    const char *names[COUNT(sysctl_rows)];
    char hint[128];

    for (size_t i = 0; i < COUNT(sysctl_rows); i++)
        names[i] = sysctl_rows[i].name;
    hint_closest(name, names, COUNT(sysctl_rows), hint, sizeof(hint));
    snprintf(out, len,
             "not a per-network-namespace sysctl qbench may set (writing it would "
             "change the whole machine)%s",
             hint);
}

/* Parses up to want integers separated by blanks; all of text must be used. */
static int parse_ints(const char *text, long long *v, int want)
{
    const char *p = text;
    int n = 0;

    while (*p) {
        char *end;

        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        if (n == want)
            return -1;
        errno = 0;
        v[n++] = strtoll(p, &end, 10);
        if (end == p || errno)
            return -1;
        p = end;
    }
    return n == want ? 0 : -1;
}

/* Checks value (a JSON integer or string) against row; stores its text. */
static int check_value(const struct sysctl_row *row, const json_t *val, char *out, size_t len,
                       char *why, size_t whylen)
{
    static const char *const forms[] = {"an integer", "two integers \"LO HI\"",
                                        "three integers \"MIN DEFAULT MAX\"",
                                        "a port list such as \"8080,9000-9010\""};
    int want = row->form == SYS_PAIR ? 2 : row->form == SYS_TRIPLE ? 3 : 1;
    long long v[3];

    if (json_is_integer(val))
        snprintf(out, len, "%lld", (long long)json_integer_value(val));
    else if (json_is_string(val) && json_string_length(val) > 0 && json_string_length(val) < len)
        snprintf(out, len, "%s", json_string_value(val));
    else if (json_is_string(val))
        return snprintf(why, whylen, "value must be 1..%zu characters", len - 1), -1;
    else
        return snprintf(why, whylen, "must be %s (as an integer or a string), got %s",
                        forms[row->form], hint_json_type(val)),
               -1;
    if (row->form == SYS_LIST) {
        for (const char *c = out; *c; c++)
            if (!strchr("0123456789,-", *c))
                return snprintf(why, whylen, "must be %s, got \"%s\"", forms[row->form], out), -1;
        return 0;
    }
    for (int i = 0; i < want; i++)
        if (parse_ints(out, v, want) < 0 || v[i] < row->min || v[i] > row->max)
            return snprintf(why, whylen, "must be %s in %lld..%lld, got \"%s\"", forms[row->form],
                            row->min, row->max, out),
                   -1;
    for (int i = 1; i < want; i++)
        if (v[i] < v[i - 1])
            return snprintf(why, whylen, "values must not decrease, got \"%s\"", out), -1;
    if (want == 1)
        snprintf(out, len, "%lld", v[0]); /* "5 " and 5 are the same setting */
    return 0;
}

int sysctls_check_name(const char *name, char *why, size_t whylen)
{
    if (sysctl_row(name))
        return 0;
    unknown(name, why, whylen);
    return -1;
}

int sysctls_check_value(const char *name, const json_t *val, char *out, size_t len, char *why,
                        size_t whylen)
{
    const struct sysctl_row *row = sysctl_row(name);

    if (!row) {
        unknown(name, why, whylen);
        return -1;
    }
    return check_value(row, val, out, len, why, whylen);
}

void sysctls_print_reference(FILE *out)
{
    for (size_t i = 0; i < COUNT(sysctl_rows); i++)
        fprintf(out, "    %-40s %lld..%lld%s\n", sysctl_rows[i].name, sysctl_rows[i].min,
                sysctl_rows[i].max,
                sysctl_rows[i].form == SYS_PAIR     ? " (two values)"
                : sysctl_rows[i].form == SYS_TRIPLE ? " (three values)"
                : sysctl_rows[i].form == SYS_LIST   ? " (port list)"
                                                    : "");
}
