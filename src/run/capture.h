/* capture: the packet capture of one run point (capture.pcap), so a
 * postmortem opens what the wire did in Wireshark beside the results.
 *
 * Opened (capture_open) in the calling thread's network namespace, the
 * point's own, before the first connect: a PF_PACKET socket through
 * libpcap on one device with a kernel BPF filter for the run's port
 * ("tcp port N"), activated at once, so the kernel queues every packet
 * from then on. capture_start hands the socket to a thread of its own
 * (pcap_dispatch, each packet written as it comes); capture_stop, called
 * after the server's drain and its stop, lets the thread take what the
 * kernel still holds and ends it; capture_finish reads the kernel's
 * counts (pcap_stats: received, dropped when the buffer was full) and
 * makes the file whole, or removes it. The file goes through safefile:
 * written to a temporary file beside its path (O_EXCL|O_NOFOLLOW) and
 * renamed only when every packet the thread took was written, so it is
 * whole or absent, never half. A capture whose kernel dropped packets is
 * still written, and said to be incomplete.
 *
 * Also the pure part: the capture file's name beside the results. */
#ifndef QB_CAPTURE_H
#define QB_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The base of the files a point writes beside the results: the results
 * path without ".json", then "-p<point>", and "-r<repeat>" when the point
 * runs more than once (nrepeats > 1). What hooks.before calls {out}.
 * -1 when output is "-" (no beside) or the name does not fit. */
int capture_out_base(const char *output, unsigned point, unsigned repeat, unsigned nrepeats,
                     char *out, size_t len);

/* capture_out_base + ".pcap": the capture file of a point. */
int capture_file_name(const char *output, unsigned point, unsigned repeat, unsigned nrepeats,
                      char *out, size_t len);

struct capture_opts {
    const char *device; /* "lo", or "any" */
    uint16_t port;      /* the server's: the kernel filter is "tcp port <port>" */
    unsigned snaplen;
    unsigned buffer_kib;
};

struct capture;

/* Opens and activates the capture in the calling thread's network
 * namespace and creates the temporary file for path. NULL and err
 * (naming libpcap's cause: no permission, no such device) on failure:
 * nothing is left behind. */
struct capture *capture_open(const char *path, const struct capture_opts *o, char *err,
                             size_t errlen);

/* Starts the thread that writes the packets. */
int capture_start(struct capture *c, char *err, size_t errlen);

/* Ends the thread after it has taken what the kernel still holds (up to
 * a few buffer timeouts). Safe to call twice, or without a start. */
void capture_stop(struct capture *c);

/* Stops if needed, reads the counts, and commits the file (or removes
 * it when a write failed). Returns runs[].capture: file, filter, device,
 * snaplen, buffer_kib, packets (written), bytes, received, dropped,
 * if_dropped, complete, duration_ms, cpu_percent, packets_per_s, and
 * error when the file could not be kept. Never NULL for a capture that
 * was opened. */
json_t *capture_finish(struct capture *c);

/* A capture of a run that sent SYNs (sent: attempts that reached the
 * kernel) but holds no packet looked in the wrong place: not complete,
 * and said so in its error. */
void capture_judge(json_t *cap, uint64_t sent);

/* What capture_finish found, and its runs[].capture. Pure. */
struct capture_result {
    const char *file, *filter, *device;
    unsigned snaplen, buffer_kib;
    uint64_t packets, bytes; /* written to the file */
    bool written;            /* the file is whole where file says */
    bool have_stats;         /* the kernel's counts could be read */
    uint64_t received;       /* ... packets it let through the filter */
    uint64_t dropped;        /* ... of those, dropped for a full buffer */
    uint64_t if_dropped;     /* ... dropped by the interface */
    bool stopped;            /* ended by capture_stop, not by an error */
    double duration_ms, cpu_percent;
    char error[1024]; /* "" when none */
};
json_t *capture_result_json(const struct capture_result *r);

/* Closes everything; removes the temporary file if not committed. */
void capture_free(struct capture *c);

#endif
