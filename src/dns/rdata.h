/*
 * rdata - decode the data of one resource record (RFC 1035 3.3, 3.4;
 * RFC 3596 2.2) as the resolver hands it over: MX, TXT, A, AAAA.
 *
 * Pure functions over bytes that came from the network, hence hostile:
 * every length is checked against the buffer and the data must fill the
 * record exactly. Names in the data are uncompressed (libunbound expands
 * them), so a compression pointer is an error here. No I/O, no globals;
 * dns.c calls these, the unit tests and fuzzers call them directly.
 */
#ifndef POSTINO_DNS_RDATA_H
#define POSTINO_DNS_RDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "relay/mx.h"

/*
 * dns_rdata_name - the wire-format name at p[0..len) (RFC 1035 3.1) as
 * text in out (size outlen, at least MX_HOST_MAX + 1): lower case, labels
 * joined by '.', no trailing dot, "" for the root. Labels may hold only
 * letters, digits, '-' and '_' (a host name, RFC 952/1123, plus the
 * underscore some operators use), so the text is unambiguous and safe to
 * log. *used is set to the octets the name took. false when the name is
 * malformed (truncated, label over 63 octets, name over 255 octets,
 * compression pointer or other label type) or has other octets.
 */
bool dns_rdata_name(const unsigned char *p, size_t len, size_t *used, char *out, size_t outlen);

/*
 * dns_rdata_mx - an MX record's data (RFC 1035 3.3.9): 16-bit preference,
 * then the exchange name, nothing after. The null MX "0 ." (RFC 7505)
 * gives host "". false when malformed (see dns_rdata_name).
 */
bool dns_rdata_mx(const unsigned char *p, size_t len, struct mx_record *out);

/*
 * dns_rdata_txt - a TXT record's data (RFC 1035 3.3.14): one or more
 * <length><octets> strings, joined with nothing in between (RFC 7208 3.3,
 * RFC 6376 3.6.2.2). Returns a new NUL-terminated string (caller frees);
 * NUL octets inside are replaced by 0x7f (DEL), which no SPF, DKIM or
 * DMARC grammar accepts, so a record cannot be shortened into a valid one.
 * NULL when malformed (no string, or a length running past the end).
 */
char *dns_rdata_txt(const unsigned char *p, size_t len);

/*
 * dns_rdata_addr - an A (family AF_INET, 4 octets) or AAAA (AF_INET6, 16
 * octets) record's data into *out, port 0. false on a wrong length.
 */
bool dns_rdata_addr(int family, const unsigned char *p, size_t len,
                    struct sockaddr_storage *out);

#endif
