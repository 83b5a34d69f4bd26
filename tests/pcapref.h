/* pcapref: a packet capture as the referee of the integration tests. A
 * tcpdump started by hooks.before in the point's namespace (PCAPREF_HOOK)
 * writes {out}.pcap; pcapref_read reads it back (tcpdump -r) into what each
 * connection sent and got, so a test can hold qbench's per-connection
 * records against the packets. A client port can carry several connections
 * in one run (the kernel hands a port out again once its last connection
 * left no state behind, as when the server closes first): a client SYN with
 * a new sequence number starts the port's next connection, and a record is
 * matched by its port and its rank among the records of that port (by
 * start_ms); port[] adds up every connection of a port. One client address is assumed (qbench's
 * default, 127.0.0.1): a port seen from two addresses is flagged. */
#ifndef QB_PCAPREF_H
#define QB_PCAPREF_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

/* hooks.before and ready_line as a config's JSON fragment ("hooks": {...}).
 * --immediate-mode: without it tcpdump reads the kernel's ring a block at a
 * time and, stopped by SIGTERM, drops the block it had not read yet, the
 * last second of the run (measured: every packet after the last 0.8 s
 * missing, "0 packets dropped by kernel" all the same). */
#define PCAPREF_HOOK                                                                               \
    "\"hooks\": {\"before\": \"exec tcpdump -i lo -n -U --immediate-mode -B 16384 -w "             \
    "{out}.pcap tcp port {port}\", \"ready_line\": \"listening on\"}"

/* What one connection looked like on the wire. */
struct pcapref_conn {
    long port;            /* the client's port */
    unsigned long isn;    /* the client's initial sequence number */
    size_t next;          /* 1 + index of the next connection on the port (0: none) */
    unsigned syns;        /* client SYNs (without ACK): 1 + its retransmits */
    double first_syn;     /* when the first SYN was seen (s since the epoch) */
    double server_first;  /* when the server first sent payload or FIN (0: never) */
    unsigned synacks;     /* the server's SYN-ACKs */
    unsigned server_data; /* server segments with payload */
    bool server_fin;      /* the server closed (an orderly close: its application) */
    bool server_rst;      /* the server side sent an RST */
    bool client_fin;      /* the client closed or half-closed */
    bool client_data;     /* the client sent payload */
    unsigned client_rsts; /* RSTs the client side sent */
    bool other_source;    /* the port was seen from a second client address */
};

struct pcapref {
    long server_port;
    size_t packets;
    size_t unparsed;                 /* lines of tcpdump's output that were not a TCP packet */
    char source[64];                 /* the first client address seen */
    struct pcapref_conn port[65536]; /* all connections of a port together */
    size_t nconns;
    struct pcapref_conn *conns; /* in the order of their first packet */
    size_t first[65536];        /* 1 + index of a port's first connection (0: none) */
    size_t last[65536];         /* 1 + index of its latest */
};

/* The server's port of a run, from the hook command as run (runs[].hooks.before
 * holds "... tcp port 'NNNN'"); 0 when absent. */
long pcapref_server_port(const json_t *run);

/* Reads the capture at path; packets to or from server_port are counted under
 * the connection of the other end's port. Returns NULL (and says why on
 * stderr) when tcpdump cannot read it. */
struct pcapref *pcapref_read(const char *path, long server_port);
void pcapref_free(struct pcapref *ref);

/* The nth (0-based) connection on a client port in the capture, NULL when
 * there is none; how many there are. */
const struct pcapref_conn *pcapref_conn(const struct pcapref *ref, long port, size_t nth);
size_t pcapref_conns_on(const struct pcapref *ref, long port);

/* The server accepted this connection, as far as packets can tell: its
 * application answered or closed it (a queued connection gets neither). */
bool pcapref_server_took(const struct pcapref_conn *c);

/* Whether the capture may have lost packets: tcpdump's log (the hook's, at
 * log_path) does not end with "0 packets dropped by kernel" (it reported
 * drops, or it did not end normally and said nothing). Such a capture
 * cannot referee a single packet. */
bool pcapref_capture_lost(const char *log_path);

#endif
