#include "endpoint.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"

int endpoint_parse(const char *text, bool need_port, struct endpoint *ep, char *err, size_t errlen)
{
    char host[128];
    const char *colon;
    char *end;
    long port;
    struct addrinfo hints, *ai = NULL;
    int rc;

    if (strlen(text) >= sizeof(ep->text))
        return errbuf_set(err, errlen, "address too long");
    if (text[0] == '[') {
        const char *close = strchr(text, ']');

        if (!close || close[1] != ':')
            return errbuf_set(err, errlen, "expected [IPv6]:PORT, got \"%s\"", text);
        snprintf(host, sizeof(host), "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || colon == text)
            return errbuf_set(err, errlen, "expected HOST:PORT, got \"%s\"", text);
        if (memchr(text, ':', (size_t)(colon - text)))
            return errbuf_set(err, errlen, "IPv6 addresses need brackets: [::1]:PORT, got \"%s\"",
                              text);
        snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
    }
    errno = 0;
    port = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || errno || port < 0 || port > 65535)
        return errbuf_set(err, errlen, "port must be 0..65535, got \"%s\"", colon + 1);
    if (need_port && port == 0)
        return errbuf_set(err, errlen, "port must not be 0 here, got \"%s\"", text);

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = strcmp(host, "localhost") == 0 ? 0 : AI_NUMERICHOST;
    rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc != 0 || !ai)
        return errbuf_set(err, errlen, "\"%s\" is not a numeric IP address (or localhost): %s",
                          host, gai_strerror(rc));
    memcpy(&ep->addr, ai->ai_addr, ai->ai_addrlen);
    ep->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (ep->addr.ss_family == AF_INET)
        ((struct sockaddr_in *)&ep->addr)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)&ep->addr)->sin6_port = htons((uint16_t)port);
    strcpy(ep->text, text);
    return 0;
}

bool endpoint_is_loopback(const struct endpoint *ep)
{
    if (ep->addr.ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)&ep->addr)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)&ep->addr)->sin6_addr);
}

/* The range runs over the last 32 bits of the address; the family is the
 * destination's. */
int endpoint_parse_sources(const char *text, int family, bool loopback_only,
                           struct sockaddr_storage *base, uint32_t *first_out, uint32_t *count,
                           char *err, size_t errlen)
{
    char first[64], last[64];
    const char *dash = strchr(text, '-');
    unsigned char a[16], b[16];
    uint32_t lo, hi;
    size_t alen = family == AF_INET6 ? 16 : 4;
    bool loop;

    if (dash) {
        snprintf(first, sizeof(first), "%.*s", (int)(dash - text), text);
        snprintf(last, sizeof(last), "%s", dash + 1);
    } else {
        snprintf(first, sizeof(first), "%s", text);
        snprintf(last, sizeof(last), "%s", text);
    }
    if (inet_pton(family, first, a) != 1 || inet_pton(family, last, b) != 1)
        return errbuf_set(err, errlen,
                          family == AF_INET6 ? "expected IPv6 addresses (as the server's): X::Y "
                                               "or X::Y-X::Z, got \"%s\""
                                             : "expected IPv4 addresses (as the server's): "
                                               "A.B.C.D or A.B.C.D-A.B.C.D, got \"%s\"",
                          text);
    if (family == AF_INET6 && memcmp(a, b, 12) != 0)
        return errbuf_set(err, errlen,
                          "an IPv6 range may vary only in its last 32 bits, got "
                          "\"%s\"",
                          text);
    memcpy(&lo, a + alen - 4, 4);
    memcpy(&hi, b + alen - 4, 4);
    lo = ntohl(lo);
    hi = ntohl(hi);
    loop = family == AF_INET6 ? IN6_IS_ADDR_LOOPBACK((struct in6_addr *)a) &&
                                    IN6_IS_ADDR_LOOPBACK((struct in6_addr *)b)
                              : (lo >> 24) == 127 && (hi >> 24) == 127;
    if (loopback_only && !loop)
        return errbuf_set(err, errlen,
                          "must be loopback (127.0.0.0/8, or ::1 for IPv6): the "
                          "private namespace has only lo, got \"%s\"",
                          text);
    if (hi < lo)
        return errbuf_set(err, errlen, "range ends before it starts: \"%s\"", text);
    if (hi - lo >= 65536)
        return errbuf_set(err, errlen, "at most 65536 addresses, got %u", hi - lo + 1);
    memset(base, 0, sizeof(*base));
    base->ss_family = (sa_family_t)family;
    if (family == AF_INET6)
        memcpy(&((struct sockaddr_in6 *)base)->sin6_addr, a, 12);
    *first_out = lo;
    *count = hi - lo + 1;
    return 0;
}
