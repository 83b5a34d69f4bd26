/* endpoint: the addresses of a config: a server address or target
 * ("host:port", "[v6]:port", numeric or localhost) into a sockaddr_storage,
 * and a range of client source addresses ("127.0.0.1-127.0.0.8").
 * Both are address-family neutral (sockaddr_storage). Pure, apart from
 * getaddrinfo on numeric hosts and "localhost". */
#ifndef QB_ENDPOINT_H
#define QB_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct endpoint {
    char text[128]; /* as written in the config */
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

/* Parses "host:port" / "[v6]:port"; need_port: port 0 is refused. */
int endpoint_parse(const char *text, bool need_port, struct endpoint *ep, char *err, size_t errlen);

/* Whether ep is a loopback address (127.0.0.0/8 or ::1). */
bool endpoint_is_loopback(const struct endpoint *ep);

/* A range of source addresses, "127.0.0.1-127.0.0.8", "::1", "fd00::1-fd00::8",
 * of the destination's family, varying in the last 32 bits of the address
 * (so a long run does not exhaust one address's ephemeral ports):
 * *base gets the family and the bits before them, *first (host order)
 * and *count the range. loopback_only: a private namespace has only lo.
 * -1 and the reason otherwise. */
int endpoint_parse_sources(const char *text, int family, bool loopback_only,
                           struct sockaddr_storage *base, uint32_t *first, uint32_t *count,
                           char *err, size_t errlen);

#endif
