#include "plot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "outcome.h"
#include "results.h"
#include "safefile.h"
#include "rundoc.h"

extern char **environ;

struct point {
    const json_t *run;
    const json_t *doc;
    char label[96];
    double x; /* numeric x, for sorting */
    bool numeric;
};

int plot_format_of(const char *path)
{
    size_t n = strlen(path);

    if (n > 4 && strcasecmp(path + n - 4, ".png") == 0)
        return PLOT_PNG;
    if (n > 4 && strcasecmp(path + n - 4, ".svg") == 0)
        return PLOT_SVG;
    return -1;
}

/* A gnuplot single-quoted string holding s literally. Inside single quotes
 * gnuplot substitutes nothing (no backquote commands, no @macros, no
 * backslash escapes); the only special character is the quote itself,
 * doubled. Control characters (a newline would end the command) are shown
 * as '?'. tic: the string is a tic label, which gnuplot also runs through
 * its number formatter, so '%' is doubled as well. Every string of a
 * results file reaches the script through here and nowhere else. */
static void gp_string(FILE *f, const char *s, bool tic)
{
    fputc('\'', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '\'')
            fputs("''", f);
        else if (tic && c == '%')
            fputs("%%", f);
        else if (c < 0x20 || c == 0x7f)
            fputc('?', f);
        else
            fputc(c, f);
    }
    fputc('\'', f);
}

/* Bounded text for titles and captions: appends never write past buf,
 * and a text that does not fit is cut (no size arithmetic can wrap). */
struct text {
    char buf[1024];
    size_t len;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (t->len >= sizeof(t->buf) - 1)
        return;
    va_start(ap, fmt);
    n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        t->buf[t->len] = '\0';
    else
        t->len = (size_t)n < sizeof(t->buf) - t->len ? t->len + (size_t)n : sizeof(t->buf) - 1;
}

static void value_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "%g", json_real_value(v));
    else if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else
        snprintf(buf, len, "?");
}

/* "sysctl.net.ipv4.tcp_synack_retries" -> "tcp_synack_retries" */
static const char *short_key(const char *key)
{
    const char *dot = strrchr(key, '.');

    return dot ? dot + 1 : key;
}

/* The settings a run ran with: its own (results since each runs[] entry
 * carries them), else its file's effective config (older files). */
static const json_t *point_config(const struct point *p)
{
    const json_t *own = json_object_get(p->run, RD_CONFIG);

    return json_is_object(own) ? own : json_object_get(p->doc, RD_CONFIG);
}

/* The value of a dotted key for one run: its sweep params first, then the
 * sysctls read back in its namespace, then the settings it ran with.
 * Files made one by one with --set have no params, only configs that differ. */
static const json_t *point_value(const struct point *p, const char *key)
{
    const json_t *v = rundoc_get(p->run, RD_PARAMS, key);
    const char *s = key;

    if (v)
        return v;
    if (strncmp(key, "sysctl.", 7) == 0)
        return json_object_get(json_object_get(p->run, RD_SYSCTL), key + 7);
    v = point_config(p);
    while (v && *s) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        char part[64];

        if (len >= sizeof(part))
            return NULL;
        memcpy(part, s, len);
        part[len] = '\0';
        v = json_object_get(v, part);
        s += len + (dot ? 1 : 0);
    }
    return v;
}

static bool key_varies(const struct point *pts, size_t n, const char *key)
{
    const json_t *first = point_value(&pts[0], key);

    for (size_t i = 1; i < n; i++)
        if (!json_equal((json_t *)first, (json_t *)point_value(&pts[i], key)))
            return true;
    return false;
}

/* The settings that differ between runs, in this order: swept params, the
 * sysctls read back, scalar server/client/sample settings. The first X_KEYS
 * of them label the x axis. One is the usual case (a sweep, or files that
 * differ in one setting); files of unrelated experiments differ in several,
 * and a label needs them to tell the runs apart. */
#define VARYING_MAX 16
#define X_KEYS 3
#define X_KEY_LEN 160

static size_t add_if_varies(const struct point *pts, size_t n, const char *key,
                            char keys[][X_KEY_LEN], size_t nkeys)
{
    if (nkeys == VARYING_MAX || strlen(key) >= X_KEY_LEN || !key_varies(pts, n, key))
        return nkeys;
    for (size_t k = 0; k < nkeys; k++)
        if (strcmp(keys[k], key) == 0)
            return nkeys;
    strcpy(keys[nkeys], key);
    return nkeys + 1;
}

static size_t varying_keys(const struct point *pts, size_t n, char keys[][X_KEY_LEN])
{
    static const char *const sections[] = {"server", "client", "sample"};
    const json_t *cfg = point_config(&pts[0]);
    const char *key;
    json_t *val;
    char buf[X_KEY_LEN];
    size_t nkeys = 0;

    if (n < 2)
        return 0;
    json_object_foreach((json_t *)rundoc_params(pts[0].run), key, val)
        nkeys = add_if_varies(pts, n, key, keys, nkeys);
    json_object_foreach((json_t *)json_object_get(pts[0].run, RD_SYSCTL), key, val) {
        snprintf(buf, sizeof(buf), "sysctl.%s", key);
        nkeys = add_if_varies(pts, n, buf, keys, nkeys);
    }
    for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++) {
        json_object_foreach((json_t *)json_object_get(cfg, sections[s]), key, val) {
            if (json_is_object(val) || json_is_array(val))
                continue;
            snprintf(buf, sizeof(buf), "%s.%s", sections[s], key);
            nkeys = add_if_varies(pts, n, buf, keys, nkeys);
        }
    }
    return nkeys;
}

/* keys[from..to) as ", "-separated short names into buf. */
static void join_short_keys(char *buf, size_t len, char keys[][X_KEY_LEN], size_t from, size_t to)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t k = from; k < to && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", k > from ? ", " : "",
                                 short_key(keys[k]));
}

static int cmp_points(const void *a, const void *b)
{
    const struct point *p = a, *q = b;

    if (p->numeric && q->numeric)
        return p->x < q->x ? -1 : p->x > q->x;
    return 0;
}

static double num(const json_t *obj, const char *a, const char *b)
{
    const json_t *j = json_object_get(obj, a);

    if (b)
        j = json_object_get(j, b);
    return json_is_number(j) ? json_number_value(j) : 0;
}

/* Whether name is one of the ", "-separated short keys on the x axis. */
static bool is_x(const char *x_names, const char *name)
{
    size_t len = strlen(name);

    for (const char *p = x_names; p && *p;) {
        const char *end = strstr(p, ", ");
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n == len && strncmp(p, name, len) == 0)
            return true;
        p = end ? end + 2 : p + n;
    }
    return false;
}

/* The settings that decide the outcome, for a caption, as the first run has
 * them; skips the ones that differ between runs (x_key: their short names)
 * and names those the x axis does not show (also). Strings from the file
 * are cut to a readable length; the whole caption is bounded. */
/* One layout for every picture, in screen fractions: both panels share
 * their left and right edges, so one x value is one vertical line through
 * both (margins that gnuplot fits to each panel's legend would not); the
 * legends live right of PANEL_R, the caption below the lower panel. */
#define PANEL_L 0.075
#define PANEL_R 0.64
#define CAPTION_COLS 180 /* characters of the 9-point caption font per line */

static void panel(FILE *f, double top, double bottom)
{
    fprintf(f,
            "set lmargin at screen %.3f\nset rmargin at screen %.3f\n"
            "set tmargin at screen %.3f\nset bmargin at screen %.3f\n",
            PANEL_L, PANEL_R, top, bottom);
}

/* A line of screen text; s goes through gp_string. */
static void screen_label(FILE *f, const char *s, double x, double y, const char *how)
{
    fprintf(f, "set label ");
    gp_string(f, s, false);
    fprintf(f, " at screen %.3f, screen %.3f %s\n", x, y, how);
}

/* The caption wrapped at its " | " separators into lines that fit the
 * picture (a word longer than a line is cut across lines), from y down to
 * the bottom edge, where the rest is cut. */
static void caption_wrap(FILE *f, const char *text, double y)
{
    char line[CAPTION_COLS + 8];
    size_t used = 0, lines = 0;
    const char *p = text;

    while (*p && y - 0.018 * (double)lines > 0.005) {
        const char *sep = strstr(p + (*p == ' ' ? 1 : 0), " | ");
        size_t piece = sep ? (size_t)(sep - p) : strlen(p);

        if (used > 0 && used + piece > CAPTION_COLS) {
            line[used] = '\0';
            screen_label(f, line, 0.01, y - 0.018 * (double)lines++, "font ',9'");
            used = 0;
            if (p[0] == ' ' && p[1] == '|' && p[2] == ' ')
                p += 3; /* a new line starts without its separator */
            continue;
        }
        if (piece > CAPTION_COLS - used)
            piece = CAPTION_COLS - used;
        memcpy(line + used, p, piece);
        used += piece;
        p += piece;
        if (used == CAPTION_COLS || !*p) {
            line[used] = '\0';
            screen_label(f, line, 0.01, y - 0.018 * (double)lines++, "font ',9'");
            used = 0;
        }
    }
}

/* The settings that decide the outcome, for a caption, as the first run has
 * them; skips the ones that differ between runs (x_key: their short names)
 * and names those the x axis does not show (also). Strings from the file
 * are cut to a readable length; the whole caption is bounded and wrapped. */
static void caption(FILE *f, const struct point *p, const char *x_key, const char *also, double y)
{
    const json_t *cfg = point_config(p);
    const json_t *server = json_object_get(cfg, "server");
    const json_t *client = json_object_get(cfg, "client");
    const json_t *sys = json_object_get(p->run, RD_SYSCTL);
    const json_t *kernel = json_object_get(p->doc, RD_KERNEL_RELEASE);
    const char *key;
    json_t *val;
    struct text t = {.len = 0};
    char v[64];

    t.buf[0] = '\0';
    text_add(&t, "kernel %.64s", json_is_string(kernel) ? json_string_value(kernel) : "?");
    /* what is on the x axis varies, so the first run's value would mislead */
    if (server && !is_x(x_key, "backlog"))
        text_add(&t, " | backlog %lld", (long long)num(server, "backlog", NULL));
    if (json_is_array(json_object_get(server, "command"))) {
        const json_t *argv0 = json_array_get(json_object_get(server, "command"), 0);

        /* the user's server: its pace is its own */
        text_add(&t, " | server %.40s", json_is_string(argv0) ? json_string_value(argv0) : "?");
    } else if (server && !is_x(x_key, "accept_delay_ms")) {
        long long delay = (long long)num(server, "accept_delay_ms", NULL);

        if (delay < 0)
            text_add(&t, " | never accepts");
        else if (delay == 0)
            text_add(&t, " | accepts at once");
        else
            text_add(&t, " | accept every %lld ms", delay);
    }
    if (client && !is_x(x_key, "rate"))
        text_add(&t, " | rate %g/s", num(client, "rate", NULL));
    if (client && !is_x(x_key, "connections") && num(client, "connections", NULL) > 0)
        text_add(&t, " | %g connections", num(client, "connections", NULL));
    if (client && !is_x(x_key, "connect_timeout_ms"))
        text_add(&t, " | timeouts: connect %gs", num(client, "connect_timeout_ms", NULL) / 1000);
    if (client && !is_x(x_key, "greeting_timeout_ms") &&
        json_is_true(json_object_get(client, "expect_greeting")))
        text_add(&t, ", greeting %gs", num(client, "greeting_timeout_ms", NULL) / 1000);
    json_object_foreach((json_t *)sys, key, val) {
        if (is_x(x_key, short_key(key)))
            continue;
        if (strstr(key, "port_range") || strstr(key, "tw_reuse") || strstr(key, "max_syn"))
            continue;
        value_text(val, v, sizeof(v));
        text_add(&t, " | %.48s %s", short_key(key), v);
    }
    if (also && *also)
        text_add(&t, " | also differ between runs: %s", also);
    caption_wrap(f, t.buf, y);
}

/* The picture goes to gnuplot's standard output, which the caller points
 * at the file it made: no path appears in the script. */
static void terminal(FILE *f, enum plot_format fmt)
{
    if (fmt == PLOT_PNG)
        fprintf(f, "set terminal pngcairo size 1280,960 noenhanced font 'DejaVu Sans,11'\n");
    else
        fprintf(f, "set terminal svg size 1280,960 dynamic noenhanced font 'DejaVu Sans,11'\n");
    fprintf(f, "set grid ytics lc rgb '#dddddd'\nset key outside right top\n");
}

/* The x tics of a sweep plot: one label per point at 0, 1, ... */
static void xtics(FILE *f, const struct point *pts, size_t n)
{
    fprintf(f, "set xtics (");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        gp_string(f, pts[i].label, true);
        fprintf(f, " %zu", i);
    }
    fprintf(f, ")\n");
}

static const char *const outcome_colors[OUTCOME_COUNT] = {
    "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#ff7f0e", "#e6b800", "#17becf", "#7f7f7f",
};

/* Why a run did not finish, as a reader should be told: "interrupted"
 * (SIGINT/SIGTERM: the run says so), "incomplete" (a later step failed,
 * the run or its document marked incomplete), or NULL: it finished. */
static const char *run_unfinished(const struct point *p)
{
    if (json_is_true(json_object_get(p->run, RD_INTERRUPTED)))
        return "interrupted";
    if (json_object_get(p->run, RD_INCOMPLETE) ||
        json_is_false(json_object_get(p->run, RD_COMPLETE)))
        return "incomplete";
    return NULL;
}

/* The same for a whole document; cause gets the recorded cause, if any. */
static const char *doc_unfinished(const json_t *doc, char *cause, size_t len)
{
    const json_t *inc = json_object_get(doc, RD_INCOMPLETE);
    const json_t *c = json_is_object(inc) ? json_object_get(inc, "cause") : inc;

    cause[0] = '\0';
    if (json_is_string(c))
        snprintf(cause, len, "%s", json_string_value(c));
    if (json_is_true(json_object_get(doc, RD_INTERRUPTED)))
        return "interrupted";
    if (inc || json_is_false(json_object_get(doc, RD_COMPLETE)))
        return "incomplete";
    return NULL;
}

/* Connections the interrupt caught in flight: counted as error INTERRUPTED
 * in the file, drawn as "unfinished" (they are not local errors). */
static double interrupted_count(const json_t *run)
{
    return num(rundoc_get(run, RD_OUTCOMES, RD_ERRORS), "INTERRUPTED", NULL);
}

/* Title of a picture: the experiment, what it shows, and whether any of it
 * did not finish; with a red line under it saying what that means. */
static void title(FILE *f, const struct point *pts, size_t n, const char *name, const char *what,
                  bool sweep)
{
    struct text t = {.len = 0}, banner = {.len = 0};
    const char *why = NULL;
    char cause[128] = "";
    size_t marked = 0;

    for (size_t i = 0; i < n; i++) {
        char c[sizeof(cause)];
        const char *run_why = run_unfinished(&pts[i]);
        const char *doc_why = doc_unfinished(pts[i].doc, c, sizeof(c));

        if (!cause[0])
            memcpy(cause, c, sizeof(cause));

        marked += run_why != NULL;
        why = why ? why : run_why ? run_why : doc_why;
    }
    t.buf[0] = banner.buf[0] = '\0';
    text_add(&t, "qbench %.100s%s: %s", name ? name : "?",
             !why                              ? ""
             : strcmp(why, "interrupted") == 0 ? " (INTERRUPTED)"
                                               : " (INCOMPLETE)",
             what);
    fprintf(f, "set multiplot title ");
    gp_string(f, t.buf, false);
    fprintf(f, " font ',13'\n");
    if (!why)
        return;
    text_add(&banner, "%s", strcmp(why, "interrupted") == 0 ? "Interrupted" : "Incomplete");
    if (cause[0] && !strstr(cause, "interrupted"))
        text_add(&banner, " (%.100s)", cause);
    if (sweep)
        text_add(&banner,
                 ": %zu marked point%s did not finish, and any points after "
                 "it never ran; do not read them as measurements",
                 marked, marked == 1 ? "" : "s");
    else
        text_add(&banner, ": the run did not finish (connections in flight at the stop are "
                          "'unfinished'); do not read it as a measurement");
    screen_label(f, banner.buf, 0.5, 0.952, "center tc rgb '#d62728' font ',11'");
}

/* Which outcome classes any point has: the legend names only those. */
static void classes_present(const struct point *pts, size_t n, bool present[OUTCOME_COUNT],
                            bool *unfinished)
{
    bool any = false;

    *unfinished = false;
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        present[k] = false;
        for (size_t i = 0; i < n; i++) {
            const json_t *o = json_object_get(pts[i].run, RD_OUTCOMES);
            double c = num(o, outcome_name((enum outcome)k), NULL);

            if (k == OUTCOME_ERROR)
                c -= interrupted_count(pts[i].run);
            present[k] = present[k] || c > 0;
        }
        any = any || present[k];
    }
    for (size_t i = 0; i < n; i++)
        *unfinished = *unfinished || interrupted_count(pts[i].run) > 0;
    if (!any && !*unfinished)
        present[OUTCOME_ESTABLISHED] = true; /* nothing happened: still a picture */
}

/* $outcomes: per point, the fraction of attempts in each class (error
 * without the interrupted ones), then the interrupted ones. */
static void outcome_data(FILE *f, const struct point *pts, size_t n)
{
    fprintf(f, "$outcomes << EOD\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_object_get(pts[i].run, RD_OUTCOMES);
        double att = num(o, "attempted", NULL), intr = interrupted_count(pts[i].run);

        fprintf(f, "%zu", i);
        for (int k = 0; k < OUTCOME_COUNT; k++) {
            double c = num(o, outcome_name((enum outcome)k), NULL);

            if (k == OUTCOME_ERROR)
                c = c > intr ? c - intr : 0;
            fprintf(f, " %.6f", att > 0 ? c / att : 0);
        }
        fprintf(f, " %.6f\n", att > 0 ? intr / att : 0);
    }
    fprintf(f, "EOD\n");
}

/* $latency: per point connect p50 p99, accept p50 p99, then for every
 * failure class the p50 of the time until the client knew (results that
 * carry latency_us.<class>). NaN leaves a gap: a missing percentile is
 * not a zero on a log axis. Widens [*lo, *hi]; has[k]: class k drawn. */
static void latency_data(FILE *f, const struct point *pts, size_t n, double *lo, double *hi,
                         bool has[OUTCOME_COUNT])
{
    for (int k = 0; k < OUTCOME_COUNT; k++)
        has[k] = false;
    fprintf(f, "$latency << EOD\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *lat = json_object_get(pts[i].run, RD_LATENCY);
        const char *which[2] = {"connect", "accept"};

        fprintf(f, "%zu", i);
        for (int w = 0; w < 2 + OUTCOME_COUNT; w++) {
            const char *name = w < 2 ? which[w] : outcome_name((enum outcome)(w - 2));
            const json_t *h = json_object_get(lat, name);
            double p50 = num(h, "p50", NULL) / 1000.0, p99 = num(h, "p99", NULL) / 1000.0;
            bool any = num(h, "count", NULL) > 0 && w != 2 + OUTCOME_ESTABLISHED;

            if (any && w >= 2)
                has[w - 2] = true;
            if (!any) {
                fprintf(f, w < 2 ? " NaN NaN" : " NaN");
                continue;
            }
            fprintf(f, w < 2 ? " %.4f %.4f" : " %.4f", p50, p99);
            *lo = p50 > 0 && p50 < *lo ? p50 : *lo;
            *hi = (w < 2 ? p99 : p50) > *hi ? (w < 2 ? p99 : p50) : *hi;
        }
        fprintf(f, "\n");
    }
    fprintf(f, "EOD\n");
}

/* $spread, with repeats: each point's min-max, as whiskers, so a reader
 * can see whether two points really differ. Returns whether any. */
static bool spread_data(FILE *f, const struct point *pts, size_t n)
{
    static const char *const cols[] = {"established_ratio", "connect_p50_us", "accept_p50_us"};
    bool spread = false;

    for (size_t i = 0; i < n; i++)
        if (json_object_get(pts[i].run, RD_SPREAD))
            spread = true;
    if (!spread)
        return false;
    fprintf(f, "$spread << EOD\n");
    for (size_t i = 0; i < n; i++) {
        const json_t *sp = json_object_get(pts[i].run, RD_SPREAD);

        fprintf(f, "%zu", i);
        for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
            const json_t *m = json_object_get(sp, cols[c]);
            double scale = c ? 1000.0 : 1.0;

            if (m)
                fprintf(f, " %.6f %.6f %.6f", num(m, "median", NULL) / scale,
                        num(m, "min", NULL) / scale, num(m, "max", NULL) / scale);
            else
                fprintf(f, " NaN NaN NaN");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "EOD\n");
    return true;
}

/* Under each point of the latency panel, what its percentiles stand on:
 * the clients served of those attempted (the accept percentiles are over
 * the served only: a backlog serving 47% is not faster than one serving
 * 35% because its accept p50 is lower), and the handshakes behind the
 * connect percentiles (a p99 of 3 is their maximum). */
static void count_labels(FILE *f, const struct point *pts, size_t n)
{
    bool narrow = n > 8;

    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_object_get(pts[i].run, RD_OUTCOMES);
        const json_t *c = rundoc_get(pts[i].run, RD_LATENCY, RD_LAT_CONNECT);
        double att = num(o, "attempted", NULL), est = num(o, "established", NULL);
        const char *why = run_unfinished(&pts[i]);
        const char *color = why ? "tc rgb '#d62728' " : "";

        fprintf(f,
                "set label '%s%.0f/%.0f%s' at first %zu, graph 0 center offset 0,-2.1 %s"
                "font ',9'\n",
                narrow ? "" : "served ", est, att, narrow ? "" : (att > 0 ? "" : " (none)"), i,
                color);
        fprintf(f, "set label '%s%.0f%s' at first %zu, graph 0 center offset 0,-3.1 %sfont ',9'\n",
                narrow ? "hs " : "", num(c, "count", NULL), narrow ? "" : " handshakes", i, color);
        if (why)
            fprintf(f, "set label '%s' at first %zu, graph 0 center offset 0,-4.1 %sfont ',9'\n",
                    why, i, color);
    }
}

static void sweep_plot(FILE *f, struct point *pts, size_t n, const char *x_key, const char *differ,
                       const char *also, const char *name)
{
    double lat_lo = 1e12, lat_hi = 0;
    bool present[OUTCOME_COUNT], has_class[OUTCOME_COUNT], unfinished, spread, first = true;
    struct text what = {.len = 0};

    outcome_data(f, pts, n);
    latency_data(f, pts, n, &lat_lo, &lat_hi, has_class);
    spread = spread_data(f, pts, n);
    classes_present(pts, n, present, &unfinished);
    what.buf[0] = '\0';
    text_add(&what, "what clients saw, by %s", x_key);
    title(f, pts, n, name, what.buf, true);

    /* top panel: the outcome of every attempt */
    panel(f, 0.895, 0.60);
    fprintf(f, "set xrange [-0.5:%zu.5]\n", n - 1);
    xtics(f, pts, n);
    fprintf(f, "set title \"Outcome of every connection attempt (fraction, stacked)\"\n");
    fprintf(f, "set style data histograms\nset style histogram rowstacked\n"
               "set style fill solid 0.85 border -1\nset boxwidth 0.7\n"
               "set yrange [0:1.12]\nset ytics 0, 0.2, 1\nset ylabel \"fraction of attempts\"\n"
               "set xlabel ");
    gp_string(f, x_key, false);
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++)
        if (run_unfinished(&pts[i]))
            fprintf(f,
                    "set label '%s' at first %zu, first 1.06 center tc rgb '#d62728' "
                    "font ',10'\n",
                    run_unfinished(&pts[i]), i);
    fprintf(f, "plot ");
    for (int k = 0; k < OUTCOME_COUNT; k++) {
        if (!present[k])
            continue;
        fprintf(f, "%s using %d title \"%s: %s\" lc rgb \"%s\"", first ? "$outcomes" : ", ''",
                k + 2, outcome_name((enum outcome)k), outcome_meaning((enum outcome)k),
                outcome_colors[k]);
        first = false;
    }
    if (unfinished)
        fprintf(f,
                "%s using %d title \"unfinished: in flight when the run was stopped\" "
                "lc rgb \"#bbbbbb\" fs pattern 4 border -1",
                first ? "$outcomes" : ", ''", OUTCOME_COUNT + 2);
    if (spread)
        fprintf(f, ", $spread using 1:2:3:4 with yerrorbars lc rgb \"black\" pt 0 lw 1.5 "
                   "title \"established: min-max of the repeats\"");
    fprintf(f, "\nunset label\nunset style\nset style data linespoints\n");

    /* bottom panel: latency, same left and right edges */
    panel(f, 0.49, 0.20);
    fprintf(f, "set title \"Latency from the scheduled connect: handshake (connect), greeting "
               "received (accept), failures\"\n");
    /* 1-2-5 labels: a log axis labelled only at powers of ten hides the
     * 1 s retransmit steps this panel is read for */
    if (lat_hi > 0 && lat_lo <= lat_hi)
        fprintf(f, "set yrange [%g:%g]\n", lat_lo / 1.6, lat_hi * 1.6);
    else
        fprintf(f, "set yrange [0.1:10000]\n"); /* nothing to show, but still a picture */
    fprintf(f, "set logscale y\nset format y \"%%g\"\n"
               "set ytics (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500,"
               " 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000)\n"
               "set ylabel \"milliseconds (log scale)\"\nset xlabel offset 0,-2.4\n");
    count_labels(f, pts, n);
    caption(f, &pts[0], differ, also, 0.07);
    fprintf(f, "plot $latency using 1:2 title \"connect p50 (of the handshakes)\" lw 2 pt 7 "
               "lc rgb \"#1f77b4\", '' using 1:3 title \"connect p99\" lw 2 pt 5 dt 2 lc rgb "
               "\"#1f77b4\", '' using 1:4 title \"accept p50 (of the served only)\" lw 2 pt 7 "
               "lc rgb \"#ff7f0e\", '' using 1:5 title \"accept p99\" lw 2 pt 5 dt 2 lc rgb "
               "\"#ff7f0e\"");
    for (int k = 0; k < OUTCOME_COUNT; k++)
        if (has_class[k])
            fprintf(f,
                    ", '' using 1:%d title \"%s p50: until the client knew\" lw 1.5 pt 9 "
                    "dt 3 lc rgb \"%s\"",
                    6 + k, outcome_name((enum outcome)k), outcome_colors[k]);
    if (spread)
        fprintf(f, ", $spread using 1:5:6:7 with yerrorbars lc rgb \"#1f77b4\" pt 0 "
                   "title \"connect p50: min-max of the repeats\", $spread using 1:8:9:10 with "
                   "yerrorbars lc rgb \"#ff7f0e\" pt 0 title \"accept p50: min-max of the "
                   "repeats\"");
    fprintf(f, "\n");
    fprintf(f, "unset multiplot\n");
}

static void single_plot(FILE *f, const struct point *p, const char *name)
{
    const json_t *tl = json_object_get(p->run, RD_TIMELINE);
    const json_t *aq = json_object_get(p->run, RD_ACCEPT_QUEUE);
    const json_t *samples = json_object_get(aq, RD_Q_SAMPLES);
    const json_t *sq = json_object_get(p->run, RD_SYN_QUEUE);
    const json_t *syn = json_object_get(sq, RD_Q_SAMPLES);
    double interval = num(p->run, "timeline_interval_ms", NULL);
    double cap = num(aq, "limit", NULL) + num(aq, "listeners", NULL);
    double t_hi = 0, y_hi = 0, tl_end = 0;

    /* Both panels share one x range (the run's, to the last queue sample:
     * the end of the drain), so a queue spike lines up with the failures
     * it caused; a file with no data still draws. */
    for (size_t i = 0; i < json_array_size(tl); i++) {
        const json_t *row = json_array_get(tl, i);
        double end = (json_number_value(json_array_get(row, 0)) + interval) / 1000.0;

        t_hi = end > t_hi ? end : t_hi;
        tl_end = end > tl_end ? end : tl_end;
        for (size_t k = 1; k <= 3; k++) {
            double y = json_number_value(json_array_get(row, k));

            y_hi = y > y_hi ? y : y_hi;
        }
    }
    for (size_t i = 0; i < json_array_size(samples); i++) {
        double end = json_number_value(json_array_get(json_array_get(samples, i), 0)) / 1000.0;

        t_hi = end > t_hi ? end : t_hi;
    }
    fprintf(f, "$timeline << EOD\n");
    for (size_t i = 0; i < json_array_size(tl); i++) {
        const json_t *row = json_array_get(tl, i);

        fprintf(f, "%.3f", json_number_value(json_array_get(row, 0)) / 1000.0);
        /* attempted, established, failed, then one column per class (older
         * files have none: 0) */
        for (size_t k = 1; k < 4 + OUTCOME_COUNT; k++)
            fprintf(f, " %lld", (long long)json_integer_value(json_array_get(row, k)));
        fprintf(f, "\n");
    }
    /* steps draw an interval from its start to the next row's: a closing
     * row of zeros draws the last one, and the zeros on to the end of the
     * drain say nothing more ended there */
    if (json_array_size(tl) > 0) {
        for (double t = tl_end;; t = t_hi) {
            fprintf(f, "%.3f", t);
            for (size_t k = 1; k < 4 + OUTCOME_COUNT; k++)
                fprintf(f, " 0");
            fprintf(f, "\n");
            if (t >= t_hi)
                break;
        }
    }
    fprintf(f, "EOD\n$queue << EOD\n");
    for (size_t i = 0; i < json_array_size(samples); i++) {
        const json_t *s = json_array_get(samples, i);

        fprintf(f, "%.3f %lld\n", json_number_value(json_array_get(s, 0)) / 1000.0,
                (long long)json_integer_value(json_array_get(s, 1)));
    }
    fprintf(f, "EOD\n$synq << EOD\n");
    for (size_t i = 0; i < json_array_size(syn); i++) {
        const json_t *q = json_array_get(syn, i);

        fprintf(f, "%.3f %lld\n", json_number_value(json_array_get(q, 0)) / 1000.0,
                (long long)json_integer_value(json_array_get(q, 1)));
    }
    fprintf(f, "EOD\n");
    title(f, p, 1, name, "one run over time", false);
    panel(f, 0.895, 0.58);
    fprintf(f, "set xlabel \"seconds since the first scheduled connect\"\n");
    fprintf(f, "set xrange [0:%g]\n", t_hi > 0 ? t_hi : 1.0);
    fprintf(f,
            "set title \"Connections per %.0f ms: started, and how they ended (plotted when "
            "they ended)\"\n",
            interval);
    fprintf(f, "set ylabel \"connections per interval\"\nset yrange [0:%g]\n",
            y_hi > 0 ? y_hi * 1.1 : 1.0);
    fprintf(f, "plot $timeline using 1:2 with steps lw 2 lc rgb \"#1f77b4\" title \"attempted\", "
               "'' using 1:3 with steps lw 2 lc rgb \"#2ca02c\" title \"established\"");
    {
        /* every failure class that happened, on its own line: 590 resets do
         * not look like 46 greeting timeouts */
        const json_t *o = json_object_get(p->run, RD_OUTCOMES);
        const json_t *row0 = json_array_get(tl, 0);
        bool per_class = json_array_size(row0) >= 4 + OUTCOME_COUNT;

        for (int k = 0; k < OUTCOME_COUNT; k++) {
            if (k == OUTCOME_ESTABLISHED || num(o, outcome_name((enum outcome)k), NULL) <= 0)
                continue;
            if (per_class && k == OUTCOME_ERROR && interrupted_count(p->run) > 0)
                /* the file counts them as error INTERRUPTED: not local errors */
                fprintf(f, ", '' using 1:%d with steps lw 2 dt 2 lc rgb \"%s\" title \"%s\"", 5 + k,
                        outcome_colors[k],
                        interrupted_count(p->run) < num(o, "error", NULL)
                            ? "error: local errors, and those in flight at the stop"
                            : "unfinished: in flight when the run was stopped");
            else if (per_class)
                fprintf(f, ", '' using 1:%d with steps lw 2 lc rgb \"%s\" title \"%s: %s\"", 5 + k,
                        outcome_colors[k], outcome_name((enum outcome)k),
                        outcome_meaning((enum outcome)k));
        }
        if (!per_class)
            fprintf(f, ", '' using 1:4 with steps lw 2 lc rgb \"#d62728\" title \"failed\"");
    }
    fprintf(f, "\nunset label\n");
    panel(f, 0.48, 0.16);
    caption(f, p, NULL, NULL, 0.085);
    if (aq || sq) {
        double syn_max = num(sq, "max", NULL), top = cap > syn_max ? cap : syn_max;

        fprintf(f,
                "set title \"Accept queue against its capacity (backlog+1 per listener), every "
                "%.0f ms; SYN queue, every %.0f ms\"\n",
                num(aq ? aq : sq, "interval_ms", NULL), num(sq, "interval_ms", NULL));
        fprintf(f, "set ylabel \"connections in the queue\"\nset yrange [0:%g]\n", top * 1.25 + 1);
        fprintf(f, "plot ");
        if (aq)
            fprintf(f,
                    "$queue using 1:2 with steps lw 2 lc rgb \"#9467bd\" title \"accept "
                    "queue\", %g with lines dt 2 lw 2 lc rgb \"#d62728\" title \"capacity "
                    "%g\"%s",
                    cap, cap, sq ? ", " : "");
        if (sq)
            fprintf(f,
                    "$synq using 1:2 with steps lw 2 lc rgb \"#17becf\" title \"SYN queue "
                    "(max %g)\"",
                    syn_max);
        fprintf(f, "\n");
    }
    fprintf(f, "unset multiplot\n");
}

/* Every name a run answers to, for --x: its swept params, its sysctls
 * read back (as sysctl.<name>), its scalar server/client/sample settings. */
struct names {
    char (*key)[X_KEY_LEN];
    size_t n, cap;
};

static void names_add(struct names *nm, const char *key)
{
    if (nm->n == nm->cap || strlen(key) >= X_KEY_LEN)
        return;
    for (size_t i = 0; i < nm->n; i++)
        if (strcmp(nm->key[i], key) == 0)
            return;
    strcpy(nm->key[nm->n++], key);
}

static void names_of(const struct point *pts, size_t n, struct names *nm)
{
    static const char *const sections[] = {"server", "client", "sample"};
    char buf[X_KEY_LEN];
    const char *key;
    json_t *val;

    for (size_t i = 0; i < n; i++) {
        json_object_foreach((json_t *)rundoc_params(pts[i].run), key, val)
            names_add(nm, key);
        json_object_foreach((json_t *)json_object_get(pts[i].run, "sysctl"), key, val) {
            snprintf(buf, sizeof(buf), "sysctl.%s", key);
            names_add(nm, buf);
        }
        for (size_t s = 0; s < sizeof(sections) / sizeof(sections[0]); s++)
            json_object_foreach((json_t *)json_object_get(point_config(&pts[i]), sections[s]), key,
                                val) {
                if (json_is_object(val) || json_is_array(val))
                    continue;
                snprintf(buf, sizeof(buf), "%s.%s", sections[s], key);
                names_add(nm, buf);
            }
    }
}

/* How well a name the user typed fits a key: 3 the key itself, 2 a sysctl
 * without its "sysctl." (net.ipv4.tcp_synack_retries), 1 the short name
 * the plots show (tcp_synack_retries, backlog), 0 not at all. */
static int name_fit(const char *key, const char *want)
{
    if (strcmp(key, want) == 0)
        return 3;
    if (strncmp(key, "sysctl.", 7) == 0 && strcmp(key + 7, want) == 0)
        return 2;
    return strcmp(short_key(key), want) == 0 ? 1 : 0;
}

/* The key --x want names, into out; else an error that lists the names
 * that would work (what varies between the runs). */
static int resolve_x(const struct point *pts, size_t n, const char *want, char *out, char *err,
                     size_t errlen)
{
    struct names nm = {.n = 0, .cap = 256};
    char varying[VARYING_MAX][X_KEY_LEN];
    struct text list = {.len = 0};
    int best = 0, ties = 0;
    size_t nv;

    if (n == 1)
        return errbuf_set(err, errlen,
                          "--x %s: one run is drawn as a timeline, over time; --x "
                          "picks the axis of a plot of several runs (a sweep, or "
                          "several files)",
                          want);
    nm.key = calloc(nm.cap, sizeof(*nm.key));
    if (!nm.key)
        return errbuf_set(err, errlen, "out of memory");
    names_of(pts, n, &nm);
    list.buf[0] = '\0';
    for (size_t i = 0; i < nm.n; i++) {
        int fit = name_fit(nm.key[i], want);

        if (fit > best) {
            best = fit;
            ties = 0;
            list.len = 0;
            list.buf[0] = '\0';
            strcpy(out, nm.key[i]);
        }
        if (fit == best && fit > 0)
            text_add(&list, "%s%s", ties++ ? ", " : "", nm.key[i]);
    }
    free(nm.key);
    if (best > 0 && ties == 1)
        return 0;
    if (best > 0)
        return errbuf_set(err, errlen, "--x %s: ambiguous, it names %s; give the full name", want,
                          list.buf);
    nv = varying_keys(pts, n, varying);
    list.len = 0;
    list.buf[0] = '\0';
    for (size_t k = 0; k < nv; k++)
        text_add(&list, "%s%s (%s)", k ? ", " : "", short_key(varying[k]), varying[k]);
    return errbuf_set(err, errlen,
                      "--x %s: no swept param, sysctl or server/client setting of "
                      "these runs has that name; what varies between them: %s",
                      want, nv ? list.buf : "nothing");
}

int plot_script(json_t *const *docs, size_t ndocs, const char *x_param, enum plot_format fmt,
                char **script, char *err, size_t errlen)
{
    struct point *pts;
    size_t n = 0, total = 0, size = 0;
    char keys[VARYING_MAX][X_KEY_LEN], x_names[X_KEYS * X_KEY_LEN] = "";
    char differ[VARYING_MAX * 40] = "", also[VARYING_MAX * 40] = "";
    size_t nkeys = 0, nx;
    FILE *f;

    for (size_t d = 0; d < ndocs; d++)
        total += json_array_size(rundoc_runs(docs[d]));
    if (total == 0)
        return errbuf_set(err, errlen, "no runs to plot");
    pts = calloc(total, sizeof(*pts));
    if (!pts)
        return errbuf_set(err, errlen, "out of memory");
    for (size_t d = 0; d < ndocs; d++) {
        const json_t *runs = rundoc_runs(docs[d]);

        for (size_t i = 0; i < json_array_size(runs); i++) {
            pts[n].doc = docs[d];
            pts[n++].run = json_array_get(runs, i);
        }
    }
    if (x_param) {
        char varying[VARYING_MAX][X_KEY_LEN];
        size_t nv;

        if (strlen(x_param) >= X_KEY_LEN) {
            free(pts);
            return errbuf_set(err, errlen, "--x %.40s...: too long", x_param);
        }
        if (resolve_x(pts, n, x_param, keys[0], err, errlen) < 0) {
            free(pts);
            return -1;
        }
        /* the chosen key on the axis, what else varies in the caption */
        nkeys = 1;
        nv = varying_keys(pts, n, varying);
        for (size_t k = 0; k < nv && nkeys < VARYING_MAX; k++)
            if (strcmp(varying[k], keys[0]) != 0)
                strcpy(keys[nkeys++], varying[k]);
    } else {
        nkeys = varying_keys(pts, n, keys);
    }
    /* an x axis of one value would label every bar alike and hide what
     * really differs: refuse it, naming what does vary */
    if (x_param && point_value(&pts[0], keys[0]) && !key_varies(pts, n, keys[0])) {
        char varying[VARYING_MAX][X_KEY_LEN], text[64];
        size_t nv = varying_keys(pts, n, varying);
        struct text list = {.len = 0};

        list.buf[0] = '\0';
        for (size_t k = 0; k < nv; k++)
            text_add(&list, "%s%s", k ? ", " : "", varying[k]);
        value_text(point_value(&pts[0], keys[0]), text, sizeof(text));
        free(pts);
        return errbuf_set(err, errlen,
                          "--x %s: every run has the same value (%s), so it "
                          "cannot tell them apart; what varies: %s",
                          x_param, text, nv ? list.buf : "nothing");
    }
    nx = x_param ? 1 : (nkeys < X_KEYS ? nkeys : X_KEYS);
    join_short_keys(x_names, sizeof(x_names), keys, 0, nx);
    join_short_keys(differ, sizeof(differ), keys, 0, nkeys);
    join_short_keys(also, sizeof(also), keys, nx, nkeys);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;

        for (size_t k = 0; k < nx; k++) {
            const json_t *v = point_value(&pts[i], keys[k]);
            char text[64];

            if (!v && x_param) {
                free(pts);
                return errbuf_set(err, errlen,
                                  "--x %s: run %zu has no such swept param, sysctl or config key",
                                  x_param, i + 1);
            }
            value_text(v, text, sizeof(text));
            if (len < sizeof(pts[i].label))
                len += (size_t)snprintf(pts[i].label + len, sizeof(pts[i].label) - len, "%s%s",
                                        k ? ", " : "", text);
            /* sorted by value only when one number tells the runs apart */
            pts[i].numeric = nx == 1 && json_is_number(v);
            pts[i].x = pts[i].numeric ? json_number_value(v) : 0;
        }
        if (nkeys == 0)
            snprintf(pts[i].label, sizeof(pts[i].label), "run %zu", i + 1);
    }
    qsort(pts, n, sizeof(*pts), cmp_points);

    f = open_memstream(script, &size);
    if (!f) {
        free(pts);
        return errbuf_set(err, errlen, "out of memory");
    }
    terminal(f, fmt);
    if (n == 1)
        single_plot(f, &pts[0], json_string_value(json_object_get(docs[0], RD_NAME)));
    else
        sweep_plot(f, pts, n, nkeys ? x_names : "run", differ, also,
                   json_string_value(json_object_get(docs[0], RD_NAME)));
    fclose(f);
    free(pts);
    return 0;
}

int plot_render(const char *script, int out_fd, char *err, size_t errlen)
{
    int pipefd[2], status, rc;
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t dflt;
    const char *gp = getenv("QBENCH_GNUPLOT") ? getenv("QBENCH_GNUPLOT") : "gnuplot";
    char *argv[] = {(char *)gp, NULL};
    struct stat st;
    size_t len = strlen(script);
    bool short_write = false;

    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return errbuf_set(err, errlen, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pipefd[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    /* qbench ignores SIGPIPE; gnuplot gets the default back */
    posix_spawnattr_init(&attr);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &dflt);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawnp(&pid, gp, &fa, &attr, argv, environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[0]);
    if (rc != 0) {
        close(pipefd[1]);
        return errbuf_set(err, errlen,
                          "cannot run %s: %s (install it: apt-get install "
                          "gnuplot-nox, or set QBENCH_GNUPLOT)",
                          gp, strerror(rc));
    }
    /* gnuplot stopping early (a script error) shows as EPIPE here, not as
     * a signal that would kill qbench */
    if (safefile_write_all(pipefd[1], script, len) < 0)
        short_write = true;
    close(pipefd[1]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return errbuf_set(err, errlen, "waitpid %s: %s", gp, strerror(errno));
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return errbuf_set(err, errlen, "%s failed (%s %d)%s", gp,
                          WIFEXITED(status) ? "exit" : "signal",
                          WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                          short_write ? " before reading the whole script" : "");
    if (fstat(out_fd, &st) < 0 || st.st_size == 0)
        return errbuf_set(err, errlen, "%s exited 0 but drew nothing", gp);
    return 0;
}
