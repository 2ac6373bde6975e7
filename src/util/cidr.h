/*
 * cidr - networks written as "192.0.2.0/24", "2001:db8::/32" or a single
 * address, and the test "is this client address in one of them?". Used
 * by the keys that exempt networks (rate_limit_exempt, dnsbl_allow).
 */
#ifndef POSTINO_UTIL_CIDR_H
#define POSTINO_UTIL_CIDR_H

#include <stdbool.h>
#include <stddef.h>

struct cidr {
    int           family;       /* AF_INET or AF_INET6 */
    unsigned char addr[16];     /* network order; 4 octets for AF_INET */
    unsigned      bits;         /* prefix length */
};

struct cidr_list {
    struct cidr *v;
    size_t       n;
};

/* cidr_parse - "addr" or "addr/bits"; host bits must be zero. false if bad */
bool cidr_parse(const char *s, struct cidr *out);
/*
 * cidr_match - is ip (text: IPv4, IPv6, or IPv4-mapped IPv6, which counts
 * as its IPv4 address) inside one of the networks of l? false when ip is
 * not an address.
 */
bool cidr_match(const struct cidr_list *l, const char *ip);

#endif
