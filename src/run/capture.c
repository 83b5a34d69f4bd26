#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/filter.h>
#include <pcap/pcap.h>

#include "clock.h"
#include "errbuf.h"
#include "rundoc.h"
#include "safefile.h"

int capture_out_base(const char *output, unsigned point, unsigned repeat, unsigned nrepeats,
                     char *out, size_t len)
{
    size_t n = strlen(output);
    int w;

    if (!output[0] || strcmp(output, "-") == 0)
        return -1;
    if (n > 5 && strcmp(output + n - 5, ".json") == 0)
        n -= 5;
    w = nrepeats > 1 ? snprintf(out, len, "%.*s-p%u-r%u", (int)n, output, point, repeat)
                     : snprintf(out, len, "%.*s-p%u", (int)n, output, point);
    return w < 0 || (size_t)w >= len ? -1 : 0;
}

int capture_file_name(const char *output, unsigned point, unsigned repeat, unsigned nrepeats,
                      char *out, size_t len)
{
    size_t n;

    if (capture_out_base(output, point, repeat, nrepeats, out, len) < 0)
        return -1;
    n = strlen(out);
    if (n + sizeof(".pcap") > len)
        return -1;
    memcpy(out + n, ".pcap", sizeof(".pcap"));
    return 0;
}

/* The kernel hands packets over a block at a time, a block once full or
 * this old (TPACKET_V3's retire timer); the thread looks this often when
 * nothing came. */
#define BLOCK_TIMEOUT_MS 50
#define POLL_MS 100
/* After the stop: the thread takes what arrives until a look finds
 * nothing, at least three block timeouts on (so a last, partly filled
 * block is retired and taken), at most this long. */
#define DRAIN_MIN_NS (3 * BLOCK_TIMEOUT_MS * NS_PER_MS)
#define DRAIN_MAX_NS (2 * NS_PER_S)

struct capture {
    pcap_t *p;
    pcap_dumper_t *dumper;
    FILE *file; /* the dumper's stream on a dup of sf.fd */
    struct safefile sf;
    bool committed;
    char filter[64];
    char device[16];
    unsigned snaplen, buffer_kib;
    pthread_t thread;
    bool started, joined;
    atomic_bool stop;
    uint64_t stop_ns;
    /* the thread's, read after it is joined */
    uint64_t packets, bytes;
    uint64_t begin_ns, end_ns, cpu_ns;
    bool write_failed;
    bool door_closed;      /* nothing more enters the kernel's queue */
    bool inbound;          /* on lo: the packets coming in only */
    struct pcap_stat base; /* the kernel's counts before the run's packets */
    int write_errno;
    char error[512]; /* pcap_dispatch failed: the thread ended early */
};

static void on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct capture *c = (struct capture *)user;

    if (c->write_failed)
        return;
    pcap_dump((u_char *)c->dumper, h, bytes);
    if (ferror(c->file)) {
        c->write_failed = true;
        c->write_errno = errno ? errno : EIO;
        return;
    }
    c->packets++;
    c->bytes += h->caplen;
}

/* Closes the capture's door in the kernel: a filter that takes nothing,
 * set on the socket directly (libpcap's own pcap_setfilter would throw
 * away what is still queued). From here the kernel neither queues nor
 * counts another packet, so once the queue is read the file holds every
 * packet the kernel counted but the dropped ones. */
static int close_door(struct capture *c)
{
    struct sock_filter none = BPF_STMT(BPF_RET | BPF_K, 0);
    struct sock_fprog prog = {1, &none};

    return setsockopt(pcap_fileno(c->p), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static void *capture_thread(void *arg)
{
    struct capture *c = arg;
    struct pollfd pfd = {pcap_get_selectable_fd(c->p), POLLIN, 0};
    uint64_t cpu0 = clock_thread_cpu_ns();

    c->begin_ns = clock_now_ns();
    for (;;) {
        int n;

        poll(&pfd, 1, POLL_MS);
        n = pcap_dispatch(c->p, -1, on_packet, (u_char *)c);
        if (n < 0) {
            snprintf(c->error, sizeof(c->error), "pcap_dispatch: %s", pcap_geterr(c->p));
            break;
        }
        if (atomic_load(&c->stop)) {
            uint64_t since = clock_now_ns() - c->stop_ns;

            if (!c->door_closed) {
                c->door_closed = close_door(c) == 0;
                continue;
            }

            if ((n == 0 && since >= DRAIN_MIN_NS) || since >= DRAIN_MAX_NS)
                break;
        }
    }
    c->end_ns = clock_now_ns();
    c->cpu_ns = clock_thread_cpu_ns() - cpu0;
    return NULL;
}

static int fail_pcap(struct capture *c, const char *what, char *err, size_t errlen)
{
    return errbuf_set(err, errlen, "capture.pcap: %s on %s: %s", what, c->device,
                      pcap_geterr(c->p));
}

/* The filter goes to the kernel directly. pcap_setfilter would also
 * filter the ring's first block in user space, where "inbound" cannot be
 * told (libpcap's own interpreter has no packet type): that block's
 * packets were lost. A bpf_insn is a sock_filter, field for field. */
static int attach_filter(struct capture *c, const struct bpf_program *prog)
{
    struct sock_fprog fp = {(unsigned short)prog->bf_len, (struct sock_filter *)prog->bf_insns};

    return setsockopt(pcap_fileno(c->p), SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof(fp));
}

static void discard(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    (void)user;
    (void)h;
    (void)bytes;
}

/* libpcap's handle: created, sized, activated, filtered. */
static int open_pcap(struct capture *c, const struct capture_opts *o, char *err, size_t errlen)
{
    char pe[PCAP_ERRBUF_SIZE] = "";
    struct bpf_program prog;
    int rc;

    c->p = pcap_create(o->device, pe);
    if (!c->p)
        return errbuf_set(err, errlen, "capture.pcap: pcap_create(%s): %s", o->device, pe);
    if (pcap_set_snaplen(c->p, (int)o->snaplen) != 0 || pcap_set_promisc(c->p, 0) != 0 ||
        pcap_set_timeout(c->p, BLOCK_TIMEOUT_MS) != 0 ||
        pcap_set_buffer_size(c->p,
                             (int)(o->buffer_kib > 2097151 ? 2097151 : o->buffer_kib) * 1024) != 0)
        return fail_pcap(c, "setting up the capture", err, errlen);
    rc = pcap_activate(c->p);
    if (rc < 0)
        return errbuf_set(err, errlen, "capture.pcap: capturing on %s: %s%s%s", o->device,
                          pcap_statustostr(rc), pcap_geterr(c->p)[0] ? ": " : "",
                          pcap_geterr(c->p));
    if (pcap_compile(c->p, &prog, c->filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return fail_pcap(c, "compiling the filter", err, errlen);
    /* "inbound" goes to the kernel directly (see attach_filter); any
     * other device's filter through libpcap, which rewrites it for the
     * kernel where the link header is its own ("any": cooked) */
    rc = c->inbound ? attach_filter(c, &prog) : pcap_setfilter(c->p, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        return errbuf_set(err, errlen, "capture.pcap: setting the filter on %s: %s", o->device,
                          c->inbound ? strerror(errno) : pcap_geterr(c->p));
    if (pcap_setnonblock(c->p, 1, pe) != 0)
        return errbuf_set(err, errlen, "capture.pcap: non-blocking mode: %s", pe);
    if (pcap_get_selectable_fd(c->p) < 0)
        return errbuf_set(err, errlen, "capture.pcap: no descriptor to wait on for %s", o->device);
    /* what came in before the filter (a namespace that is not quiet: a
     * target's) is not the run's: once its block is handed over (a block
     * timeout), it is thrown away and its count becomes the baseline */
    if (pcap_stats(c->p, &c->base) == 0 && c->base.ps_recv > 0) {
        usleep(3 * BLOCK_TIMEOUT_MS * 1000);
        while (pcap_dispatch(c->p, -1, discard, NULL) > 0)
            ;
        pcap_stats(c->p, &c->base);
    }
    return 0;
}

struct capture *capture_open(const char *path, const struct capture_opts *o, char *err,
                             size_t errlen)
{
    struct capture *c = calloc(1, sizeof(*c));
    int fd;

    if (!c) {
        errbuf_set(err, errlen, "out of memory");
        return NULL;
    }
    c->sf.fd = -1;
    atomic_init(&c->stop, false);
    /* on lo the kernel hands every packet over twice, going out and coming
     * in (libpcap keeps one): take only the second, in the kernel, so what
     * the kernel counts is what the file holds */
    c->inbound = strcmp(o->device, "lo") == 0;
    snprintf(c->filter, sizeof(c->filter), "%stcp port %u", c->inbound ? "inbound and " : "",
             (unsigned)o->port);
    snprintf(c->device, sizeof(c->device), "%s", o->device);
    c->snaplen = o->snaplen;
    c->buffer_kib = o->buffer_kib;
    if (open_pcap(c, o, err, errlen) < 0 || safefile_open(&c->sf, path, err, errlen) < 0) {
        capture_free(c);
        return NULL;
    }
    /* the dumper's stream owns a copy of the descriptor: closing it leaves
     * safefile's own to fsync and rename */
    fd = dup(c->sf.fd);
    c->file = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!c->file) {
        errbuf_set(err, errlen, "capture.pcap: %s: %s", c->sf.tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        capture_free(c);
        return NULL;
    }
    c->dumper = pcap_dump_fopen(c->p, c->file);
    if (!c->dumper) {
        errbuf_set(err, errlen, "capture.pcap: %s: %s", path, pcap_geterr(c->p));
        fclose(c->file);
        c->file = NULL;
        capture_free(c);
        return NULL;
    }
    return c;
}

int capture_start(struct capture *c, char *err, size_t errlen)
{
    int rc = pthread_create(&c->thread, NULL, capture_thread, c);

    if (rc != 0)
        return errbuf_set(err, errlen, "capture.pcap: a thread: %s", strerror(rc));
    c->started = true;
    return 0;
}

void capture_stop(struct capture *c)
{
    if (!c || !c->started || c->joined)
        return;
    c->stop_ns = clock_now_ns();
    atomic_store(&c->stop, true);
    pthread_join(c->thread, NULL);
    c->joined = true;
}

json_t *capture_result_json(const struct capture_result *r)
{
    json_t *out = json_pack(
        "{s:s, s:s, s:s, s:i, s:i, s:I, s:I, s:b, s:f, s:f, s:f}", RD_CAP_FILE, r->file,
        RD_CAP_FILTER, r->filter, RD_CAP_DEVICE, r->device, RD_CAP_SNAPLEN, (int)r->snaplen,
        RD_CAP_BUFFER_KIB, (int)r->buffer_kib, RD_CAP_PACKETS, (json_int_t)r->packets, RD_CAP_BYTES,
        (json_int_t)r->bytes, RD_CAP_WRITTEN, r->written, RD_CAP_DURATION_MS, r->duration_ms,
        RD_CAP_CPU_PERCENT, r->cpu_percent, RD_CAP_PACKETS_PER_S,
        r->duration_ms > 0 ? (double)r->packets / r->duration_ms * 1000.0 : 0.0);

    /* what the kernel counted: a number that could not be read is null,
     * and the capture is then not known to be complete */
    json_object_set_new(out, RD_CAP_RECEIVED,
                        r->have_stats ? json_integer((json_int_t)r->received) : json_null());
    json_object_set_new(out, RD_CAP_DROPPED,
                        r->have_stats ? json_integer((json_int_t)r->dropped) : json_null());
    json_object_set_new(out, RD_CAP_IF_DROPPED,
                        r->have_stats ? json_integer((json_int_t)r->if_dropped) : json_null());
    json_object_set_new(out, RD_CAP_STOPPED, json_boolean(r->stopped));
    /* complete: every packet the kernel let in is in the file */
    json_object_set_new(out, RD_CAP_COMPLETE,
                        json_boolean(r->written && r->stopped && r->have_stats && r->dropped == 0 &&
                                     r->if_dropped == 0 && r->received == r->packets));
    if (r->error[0])
        json_object_set_new(out, RD_CAP_ERROR, json_string(r->error));
    return out;
}

void capture_judge(json_t *cap, uint64_t sent)
{
    if (!json_is_object(cap) || sent == 0 ||
        json_integer_value(json_object_get(cap, RD_CAP_PACKETS)) > 0)
        return;
    json_object_set_new(cap, RD_CAP_COMPLETE, json_false());
    if (!json_object_get(cap, RD_CAP_ERROR))
        json_object_set_new(cap, RD_CAP_ERROR,
                            json_string("the capture saw none of the run's packets (another "
                                        "device or namespace carries them)"));
}

json_t *capture_finish(struct capture *c)
{
    struct capture_result r;
    struct pcap_stat ps;
    double secs;

    capture_stop(c);
    memset(&r, 0, sizeof(r));
    memset(&ps, 0, sizeof(ps));
    r.have_stats = pcap_stats(c->p, &ps) == 0;
    r.received = ps.ps_recv - c->base.ps_recv;
    r.dropped = ps.ps_drop - c->base.ps_drop;
    r.if_dropped = ps.ps_ifdrop - c->base.ps_ifdrop;
    if (pcap_dump_flush(c->dumper) != 0 || ferror(c->file)) {
        c->write_failed = true;
        c->write_errno = c->write_errno ? c->write_errno : errno ? errno : EIO;
    }
    pcap_dump_close(c->dumper); /* fcloses c->file */
    c->dumper = NULL;
    c->file = NULL;
    if (c->write_failed) {
        snprintf(r.error, sizeof(r.error), "writing the capture: %s; the file was removed",
                 strerror(c->write_errno));
        safefile_abort(&c->sf);
    } else if (safefile_commit(&c->sf, r.error, sizeof(r.error)) == 0) {
        c->committed = true;
    }
    if (!r.error[0] && c->error[0])
        snprintf(r.error, sizeof(r.error), "%s", c->error);
    errbuf_printable(r.error); /* libpcap's words and a path reach the terminal */
    secs = c->end_ns > c->begin_ns ? (double)(c->end_ns - c->begin_ns) / 1e9 : 0.0;
    r.file = c->sf.path;
    r.filter = c->filter;
    r.device = c->device;
    r.snaplen = c->snaplen;
    r.buffer_kib = c->buffer_kib;
    r.packets = c->packets;
    r.bytes = c->bytes;
    r.written = c->committed;
    /* ended by the stop, with the door closed: nothing arrived after the count */
    r.stopped = c->started && !c->error[0] && c->door_closed;
    r.duration_ms = secs * 1000.0;
    r.cpu_percent = secs > 0 ? (double)c->cpu_ns / 1e9 / secs * 100.0 : 0.0;
    return capture_result_json(&r);
}

void capture_free(struct capture *c)
{
    if (!c)
        return;
    capture_stop(c);
    if (c->dumper)
        pcap_dump_close(c->dumper);
    if (!c->committed && c->sf.fd >= 0)
        safefile_abort(&c->sf);
    if (c->p)
        pcap_close(c->p);
    free(c);
}
