/*
 * dns - asynchronous DNS on the event loop, through libunbound.
 *
 * One resolver context for the process; its file descriptor is watched by
 * the loop, and answers come back as callbacks on the loop thread. By
 * default it uses /etc/resolv.conf; with dns_servers it forwards every
 * query to those servers (sites with a local resolver, and the tests).
 * libunbound answers some names from built-in local zones (test., invalid.,
 * localhost., onion., home.arpa., 127.in-addr.arpa. and the private
 * reverse zones); those zones are made transparent so that the servers
 * asked are really asked.
 *
 * Every answer says whether a failure is permanent (the name does not
 * exist) or temporary (SERVFAIL, timeout): mail delivery depends on it.
 */
#ifndef POSTINO_DNS_DNS_H
#define POSTINO_DNS_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "relay/mx.h"

struct event_base;
struct dns;
struct dns_query;

enum dns_status {
    DNS_OK,         /* records found */
    DNS_NODATA,     /* the name exists but has no record of that type */
    DNS_NXDOMAIN,   /* the name does not exist: permanent */
    DNS_TEMPFAIL,   /* SERVFAIL, timeout, no server answered: try again later */
};

#define DNS_MAX_RECORDS 64

typedef void (*dns_mx_cb)(void *arg, enum dns_status st, struct mx_record *v, size_t n,
                          const char *why);
typedef void (*dns_addr_cb)(void *arg, enum dns_status st, const struct sockaddr_storage *v,
                            size_t n, const char *why);
typedef void (*dns_txt_cb)(void *arg, enum dns_status st, char **v, size_t n,
                           const char *why);

/*
 * dns_new - a resolver on base. servers: NULL or "" for /etc/resolv.conf,
 * else "host[:port] ..." (IPv4 or [IPv6]) to forward to. NULL with a
 * sentence in err on failure.
 */
struct dns *dns_new(struct event_base *base, const char *servers, char *err, size_t errlen);
/* dns_free - cancel every query (no callbacks run) and release; NULL is fine */
void dns_free(struct dns *d);

#define DNS_TIMEOUT_MS 10000

/*
 * dns_set_timeout - the deadline of the queries started from now on, in
 * milliseconds (default DNS_TIMEOUT_MS): a query still unanswered then
 * ends DNS_TEMPFAIL "timeout". libunbound has no per-query deadline of its
 * own, and its retries against a server that stays silent grow to minutes.
 */
void dns_set_timeout(struct dns *d, unsigned msec);

/*
 * dns_mx / dns_addr / dns_txt - start a lookup; cb runs later on the loop
 * thread, exactly once, unless the query is cancelled first. dns_addr asks
 * for A and AAAA and answers once with both (IPv6 first when both exist;
 * ports are 0). Arrays passed to callbacks are valid only during the
 * call. The returned handle is valid until cb runs or dns_cancel().
 * "why" is a short reason on failure ("SERVFAIL", "timeout", ...) or "".
 */
struct dns_query *dns_mx(struct dns *d, const char *name, dns_mx_cb cb, void *arg);
struct dns_query *dns_addr(struct dns *d, const char *name, dns_addr_cb cb, void *arg);
struct dns_query *dns_txt(struct dns *d, const char *name, dns_txt_cb cb, void *arg);
/*
 * dns_ptr - the PTR records of name (a reverse name: "4.3.2.1.in-addr.arpa"
 * or the ip6.arpa nibbles), answered as host names (lower case, no
 * trailing dot) through a dns_txt_cb.
 */
struct dns_query *dns_ptr(struct dns *d, const char *name, dns_txt_cb cb, void *arg);
/*
 * dns_cname - the CNAME record of name itself (asked as type CNAME, so
 * nothing is followed): the alias's target as a host name (lower case,
 * no trailing dot) through a dns_txt_cb; DNS_NODATA when name is no
 * alias. The other lookups follow CNAMEs silently; this one tells, e.g.
 * an MX host that is an alias (RFC 2181 10.3), for postino doctor.
 */
struct dns_query *dns_cname(struct dns *d, const char *name, dns_txt_cb cb, void *arg);
/*
 * dns_name_ok - can name go to the resolver as it is: letters, digits,
 * '-' and '_' in labels of 1..63 octets, at most 253 in all, no empty
 * label. SPF macros can make names of any octet; callers answer those
 * "no such name" without asking.
 */
bool dns_name_ok(const char *name);

/* dns_cancel - drop a query: its callback will not run */
void dns_cancel(struct dns_query *q);

#endif
