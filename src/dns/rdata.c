/*
 * rdata - decode the data of one resource record; see rdata.h.
 */
#include <netinet/in.h>
#include <string.h>

#include "dns/rdata.h"
#include "util/xmalloc.h"

#define RDATA_LABEL_MAX 63      /* RFC 1035 2.3.4 */
#define RDATA_NAME_MAX  255     /* octets on the wire, length bytes and root included */

/* name_octet_ok - may c appear in a host name label (see dns_rdata_name) */
static bool
name_octet_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

bool
dns_rdata_name(const unsigned char *p, size_t len, size_t *used, char *out, size_t outlen)
{
    size_t off = 0, o = 0;

    if (outlen == 0)
        return false;
    out[0] = '\0';
    for (;;) {
        size_t lab;

        if (off >= len)
            return false;               /* no root label: truncated */
        lab = p[off];
        if (lab == 0)
            break;
        if (lab > RDATA_LABEL_MAX)
            return false;               /* 0xc0 pointer, or 0x40/0x80 label types */
        /* The whole name, this label and the root octet, within 255 (3.1). */
        if (off + 1 + lab + 1 > RDATA_NAME_MAX || off + 1 + lab >= len)
            return false;
        /* Text: a dot before every label but the first, and the NUL. */
        if (o + (o > 0) + lab + 1 > outlen)
            return false;
        if (o > 0)
            out[o++] = '.';
        for (size_t i = 0; i < lab; i++) {
            unsigned char c = p[off + 1 + i];

            if (!name_octet_ok(c))
                return false;
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        off += 1 + lab;
    }
    out[o] = '\0';
    *used = off + 1;
    return true;
}

bool
dns_rdata_mx(const unsigned char *p, size_t len, struct mx_record *out)
{
    size_t used;

    if (len < 3)                        /* preference and at least the root */
        return false;
    if (!dns_rdata_name(p + 2, len - 2, &used, out->host, sizeof(out->host)))
        return false;
    if (2 + used != len)
        return false;                   /* data after the name */
    out->pref = (unsigned)p[0] << 8 | p[1];
    return true;
}

char *
dns_rdata_txt(const unsigned char *p, size_t len)
{
    size_t off = 0, total = 0;
    char *s, *w;

    if (len == 0)
        return NULL;                    /* a TXT record holds at least one string */
    /* First pass: check the framing and count. */
    while (off < len) {
        size_t n = p[off];

        if (n > len - off - 1)
            return NULL;
        total += n;
        off += 1 + n;
    }
    s = w = xmalloc(total + 1);
    for (off = 0; off < len; off += 1 + p[off]) {
        for (size_t i = 0; i < p[off]; i++) {
            unsigned char c = p[off + 1 + i];

            *w++ = (char)(c == 0 ? 0x7f : c);
        }
    }
    *w = '\0';
    return s;
}

bool
dns_rdata_addr(int family, const unsigned char *p, size_t len, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (family == AF_INET && len == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;

        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, p, 4);
        return true;
    }
    if (family == AF_INET6 && len == 16) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;

        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, p, 16);
        return true;
    }
    return false;
}
