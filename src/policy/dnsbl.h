/*
 * dnsbl - DNS blocklist and allowlist checks of a client address
 * (RFC 5782), asynchronous on the event loop through dns.h.
 *
 * For client 192.0.2.99 and zone bl.example the name asked is
 * "99.2.0.192.bl.example" (type A); for an IPv6 client it is the 32
 * reversed nibbles of the address. An IPv4-mapped IPv6 client
 * (::ffff:192.0.2.99) is checked as its IPv4 address. A zone lists the
 * address when it answers an A record in 127.0.0.0/8 (RFC 5782 2.3);
 * answers outside 127/8 and the "query refused" codes 127.255.255.0/24
 * (Spamhaus's convention for blocked resolvers) do not count as listed.
 * Then the TXT record of the same name, if any, is the reason.
 *
 * Every blocklist and allowlist zone is asked at once. The result is
 * DNSBL_ALLOWED as soon as an allowlist zone lists the client, else
 * DNSBL_LISTED (naming the first blocklist zone in the configured order
 * that lists it) once every zone has answered, else DNSBL_CLEAN. A
 * temporary DNS failure of a zone (SERVFAIL, timeout) counts as "not
 * listed": a mail server must not turn mail away because a list is down.
 * This module logs such a failure itself (one warning naming the zone),
 * since the callback's CLEAN cannot tell it from a clean answer.
 *
 * Checks must be cancelled before the struct dns they use is freed.
 */
#ifndef POSTINO_POLICY_DNSBL_H
#define POSTINO_POLICY_DNSBL_H

#include <stdbool.h>
#include <stddef.h>

struct dns;
struct dnsbl_check;

enum dnsbl_result {
    DNSBL_CLEAN,    /* no blocklist lists the client (or no zones) */
    DNSBL_LISTED,   /* zone: the first blocklist listing it; reason: its TXT or "" */
    DNSBL_ALLOWED,  /* zone: the allowlist listing it; reason "" */
};

/*
 * Called exactly once on the loop thread (unless cancelled first). zone
 * and reason are valid during the call only; reason is sanitised
 * (printable ASCII, at most 200 characters) and may be "".
 */
typedef void (*dnsbl_cb)(void *arg, enum dnsbl_result r, const char *zone, const char *reason);

/*
 * dnsbl_query_name - the name to look up for client ip (text, IPv4 or
 * IPv6) in zone, into out; false (and out "" when outlen > 0) if ip is
 * not an address, zone is empty or starts with a dot, or out is too small.
 */
bool dnsbl_query_name(const char *ip, const char *zone, char *out, size_t outlen);

/*
 * dnsbl_check_start - look ip up in every zone of bl and wl (NULL-
 * terminated lists, either may be empty). When there is nothing to ask
 * (no zones, or ip not an address) cb is NOT called and NULL is returned:
 * the caller treats that as DNSBL_CLEAN at once. Otherwise the returned
 * handle is valid until cb runs or dnsbl_check_cancel().
 */
struct dnsbl_check *dnsbl_check_start(struct dns *d, const char *ip, char *const *bl,
                                      char *const *wl, dnsbl_cb cb, void *arg);
/* dnsbl_check_cancel - stop a check: cb will not run; NULL is fine */
void dnsbl_check_cancel(struct dnsbl_check *c);

#endif
