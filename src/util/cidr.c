/*
 * cidr - network lists; see cidr.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/cidr.h"

/* ip_parse - text to family and octets; IPv4-mapped IPv6 becomes IPv4 */
static bool
ip_parse(const char *s, int *family, unsigned char addr[16])
{
    if (inet_pton(AF_INET, s, addr) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, addr) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        if (memcmp(addr, mapped, 12) == 0) {
            memmove(addr, addr + 12, 4);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

/* prefix_equal - do a and b agree on their first bits bits? */
static bool
prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool
cidr_parse(const char *s, struct cidr *out)
{
    char text[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);

    if (n == 0 || n >= sizeof(text))
        return false;
    memcpy(text, s, n);
    text[n] = '\0';
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, text, out->addr) == 1)
        out->family = AF_INET;
    else if (inet_pton(AF_INET6, text, out->addr) == 1)
        out->family = AF_INET6;
    else
        return false;
    unsigned max = out->family == AF_INET ? 32 : 128;
    out->bits = max;
    if (slash) {
        char *end;
        if (!isdigit((unsigned char)slash[1]))
            return false;
        errno = 0;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (*end || errno || b > max)
            return false;
        out->bits = (unsigned)b;
    }
    /* "::ffff:192.0.2.0/120" is the IPv4 network 192.0.2.0/24: client
     * addresses in that form are matched as IPv4 (ip_parse). */
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (out->family == AF_INET6 && out->bits >= 96 && memcmp(out->addr, mapped, 12) == 0) {
        memmove(out->addr, out->addr + 12, 4);
        memset(out->addr + 4, 0, 12);
        out->family = AF_INET;
        out->bits -= 96;
        max = 32;
    }
    /* "10.1.2.3/8" is most likely a typing error: refuse it. */
    unsigned char host[16];
    memcpy(host, out->addr, sizeof(host));
    for (unsigned i = out->bits; i < max; i++)
        host[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
    return memcmp(host, out->addr, max / 8) == 0;
}

bool
cidr_match(const struct cidr_list *l, const char *ip)
{
    unsigned char addr[16];
    int family;

    if (!l || !ip_parse(ip, &family, addr))
        return false;
    for (size_t i = 0; i < l->n; i++)
        if (l->v[i].family == family && prefix_equal(l->v[i].addr, addr, l->v[i].bits))
            return true;
    return false;
}
