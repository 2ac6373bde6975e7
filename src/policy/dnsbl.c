/*
 * dnsbl - DNS blocklist and allowlist checks of a client address; see
 * dnsbl.h.
 *
 * One check asks every zone at once (dns_addr: A, and AAAA which is
 * ignored) and keeps, per zone, whether it lists the client. The TXT
 * record (the reason) is asked only of a blocklist zone that lists the
 * client and that can still be the one named in the result, i.e. when no
 * zone before it in the configured order lists the client already. The
 * verdict is taken after every answer (check_settle).
 *
 * This module does not decide what to do with a listed client (the SMTP
 * session does), does not know dnsbl_allow (the caller skips those
 * networks) and keeps no cache (libunbound has one).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* lower layers */
#include "dns/dns.h"

/* this module */
#include "policy/dnsbl.h"

/* utilities */
#include "util/log.h"
#include "util/xmalloc.h"

#define DNSBL_REASON_MAX    200     /* characters of a sanitised reason */
#define DNSBL_ZONE_TEXT_MAX 256     /* a zone as passed to the callback (RFC 1035: 253) */
#define DNSBL_PREFIX_MAX    64      /* "x.x. ... x." of IPv6: 32 nibbles and dots */

enum zone_state {
    ZONE_ASKING,        /* the A/AAAA answer has not come */
    ZONE_NOT_LISTED,    /* no usable A record, or a failure */
    ZONE_LISTED,        /* an A record in 127/8, outside 127.255.255/24 */
};

/*
 * One zone of a check. Invariants: qa != NULL exactly while state is
 * ZONE_ASKING; qt != NULL only for a listed blocklist zone whose TXT is
 * awaited, and then txt_done is false.
 */
struct dnsbl_zone {
    struct dnsbl_check *c;
    char               *name;       /* the zone, as configured (a copy) */
    char               *qname;      /* the name asked: reversed address + zone */
    bool                allow;      /* an allowlist zone */
    enum zone_state     state;
    struct dns_query   *qa;         /* A/AAAA, while asking */
    struct dns_query   *qt;         /* TXT, while asking */
    bool                txt_done;   /* the TXT answer came (or failed) */
    char                reason[DNSBL_REASON_MAX + 1];   /* sanitised; "" if none */
};

struct dnsbl_check {
    struct dns       *d;
    dnsbl_cb          cb;
    void             *arg;
    size_t            nzones;
    struct dnsbl_zone z[];          /* blocklists first, in order, then allowlists */
};

/* ip_octets - text address to octets; IPv4-mapped IPv6 counts as IPv4 */
static bool
ip_octets(const char *ip, int *family, unsigned char b[16])
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (ip == NULL)
        return false;
    if (inet_pton(AF_INET, ip, b) == 1) {
        *family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, ip, b) == 1) {
        if (memcmp(b, mapped, sizeof(mapped)) == 0) {
            memmove(b, b + 12, 4);
            *family = AF_INET;
        } else {
            *family = AF_INET6;
        }
        return true;
    }
    return false;
}

bool
dnsbl_query_name(const char *ip, const char *zone, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char prefix[DNSBL_PREFIX_MAX + 1];
    size_t o = 0;
    int family, n;

    if (outlen > 0)
        out[0] = '\0';
    if (zone == NULL || zone[0] == '\0' || zone[0] == '.' || !ip_octets(ip, &family, b))
        return false;
    if (family == AF_INET) {
        snprintf(prefix, sizeof(prefix), "%u.%u.%u.%u.", b[3], b[2], b[1], b[0]);
    } else {
        /* RFC 5782 2.4: the nibbles, least significant first, as in ip6.arpa */
        for (int i = 15; i >= 0; i--) {
            prefix[o++] = hex[b[i] & 0xf];
            prefix[o++] = '.';
            prefix[o++] = hex[b[i] >> 4];
            prefix[o++] = '.';
        }
        prefix[o] = '\0';
    }
    n = snprintf(out, outlen, "%s%s", prefix, zone);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen > 0)
            out[0] = '\0';
        return false;
    }
    return true;
}

/*
 * addr_lists - does one of the answers say "listed": an IPv4 address in
 * 127.0.0.0/8 (RFC 5782 2.3) but not in 127.255.255.0/24, the codes with
 * which lists such as Spamhaus say that they refused the query (an open
 * or public resolver, over quota) rather than that the client is listed.
 * AAAA answers are not a listing for an IPv4 name.
 */
static bool
addr_lists(const struct sockaddr_storage *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&v[i];
        uint32_t a;

        if (v[i].ss_family != AF_INET)
            continue;
        a = ntohl(sin->sin_addr.s_addr);
        if ((a >> 24) == 127 && (a >> 8) != 0x7fffff)
            return true;
    }
    return false;
}

/*
 * reason_append - append the text s to the sanitised reason r (length
 * *len): printable ASCII kept, every other octet (controls, DEL, non-
 * ASCII, so CR and LF that could end a reply line) becomes '?'; at most
 * DNSBL_REASON_MAX characters in all.
 */
static void
reason_append(char *r, size_t *len, const char *s)
{
    for (; *s != '\0' && *len < DNSBL_REASON_MAX; s++) {
        unsigned char ch = (unsigned char)*s;

        r[(*len)++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    r[*len] = '\0';
}

/* zone_stop - cancel what a zone still asks */
static void
zone_stop(struct dnsbl_zone *z)
{
    dns_cancel(z->qa);
    z->qa = NULL;
    dns_cancel(z->qt);
    z->qt = NULL;
}

/* check_free - cancel every query, free the check; no callback */
static void
check_free(struct dnsbl_check *c)
{
    for (size_t i = 0; i < c->nzones; i++) {
        zone_stop(&c->z[i]);
        free(c->z[i].name);
        free(c->z[i].qname);
    }
    free(c);
}

/*
 * check_finish - free the check, then run its callback with copies of
 * zone and reason: the callback may free whatever owns the check, so
 * nothing of it is touched once the callback has started.
 */
static void
check_finish(struct dnsbl_check *c, enum dnsbl_result r, const struct dnsbl_zone *z)
{
    char zone[DNSBL_ZONE_TEXT_MAX], reason[DNSBL_REASON_MAX + 1];
    dnsbl_cb cb = c->cb;
    void *arg = c->arg;

    snprintf(zone, sizeof(zone), "%s", z ? z->name : "");
    snprintf(reason, sizeof(reason), "%s", z && r == DNSBL_LISTED ? z->reason : "");
    check_free(c);
    cb(arg, r, zone, reason);
}

static void on_txt(void *arg, enum dns_status st, char **v, size_t n, const char *why);

/*
 * check_settle - decide if the check is over, and finish it if so; start
 * or cancel TXT queries as the first listing blocklist zone changes.
 * Called after every answer; the check may be gone when it returns.
 */
static void
check_settle(struct dnsbl_check *c)
{
    struct dnsbl_zone *first = NULL;
    bool asking = false;

    for (size_t i = 0; i < c->nzones; i++) {
        struct dnsbl_zone *z = &c->z[i];

        if (z->allow && z->state == ZONE_LISTED) {
            /* An allowlist wins at once, whatever the others would say. */
            check_finish(c, DNSBL_ALLOWED, z);
            return;
        }
        if (z->state == ZONE_ASKING)
            asking = true;
    }
    for (size_t i = 0; i < c->nzones; i++) {
        struct dnsbl_zone *z = &c->z[i];

        if (z->allow || z->state != ZONE_LISTED)
            continue;
        if (first == NULL) {
            first = z;
            if (!z->txt_done && z->qt == NULL)
                z->qt = dns_txt(c->d, z->qname, on_txt, z);
        } else if (z->qt != NULL) {
            /* A zone earlier in the order lists the client: this one's
             * reason will never be shown. */
            dns_cancel(z->qt);
            z->qt = NULL;
        }
    }
    if (asking)
        return;
    if (first == NULL)
        check_finish(c, DNSBL_CLEAN, NULL);
    else if (first->txt_done)
        check_finish(c, DNSBL_LISTED, first);
}

/* on_addr - a zone's A/AAAA answer */
static void
on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *v, size_t n,
        const char *why)
{
    struct dnsbl_zone *z = arg;

    z->qa = NULL;                       /* dns.c has freed it */
    if (st == DNS_OK && addr_lists(v, n)) {
        z->state = ZONE_LISTED;
    } else {
        z->state = ZONE_NOT_LISTED;
        /* RFC 5782 5: a list that cannot be asked must not block mail;
         * say so, as the operator will want to know the list is down. */
        if (st == DNS_TEMPFAIL || (st == DNS_NXDOMAIN && strcmp(why, "invalid name") == 0))
            log_warn("dnsbl: %s: looking up %s failed (%s); counted as not listed",
                     z->name, z->qname, why);
    }
    check_settle(z->c);
}

/* on_txt - the TXT answer of a listing blocklist zone: the reason */
static void
on_txt(void *arg, enum dns_status st, char **v, size_t n, const char *why)
{
    struct dnsbl_zone *z = arg;
    size_t len = 0;

    (void)why;
    z->qt = NULL;
    z->txt_done = true;
    z->reason[0] = '\0';
    /* Several records (several reasons) are joined with a space; the
     * strings of one record come joined already (dns_rdata_txt). */
    for (size_t i = 0; st == DNS_OK && i < n; i++) {
        if (i > 0 && len > 0)
            reason_append(z->reason, &len, " ");
        reason_append(z->reason, &len, v[i]);
    }
    check_settle(z->c);
}

/* zone_count - entries of a NULL-terminated list; NULL is empty */
static size_t
zone_count(char *const *l)
{
    size_t n = 0;

    while (l != NULL && l[n] != NULL)
        n++;
    return n;
}

struct dnsbl_check *
dnsbl_check_start(struct dns *d, const char *ip, char *const *bl, char *const *wl,
                  dnsbl_cb cb, void *arg)
{
    size_t nbl = zone_count(bl), nwl = zone_count(wl), k = 0;
    struct dnsbl_check *c;
    unsigned char b[16];
    int family;

    if (nbl + nwl == 0 || !ip_octets(ip, &family, b))
        return NULL;
    c = xcalloc(1, sizeof(*c) + (nbl + nwl) * sizeof(c->z[0]));
    c->d = d;
    c->cb = cb;
    c->arg = arg;
    for (size_t i = 0; i < nbl + nwl; i++) {
        const char *zone = i < nbl ? bl[i] : wl[i - nbl];
        struct dnsbl_zone *z = &c->z[k];
        size_t qlen = DNSBL_PREFIX_MAX + strlen(zone) + 1;

        z->qname = xmalloc(qlen);
        if (!dnsbl_query_name(ip, zone, z->qname, qlen)) {
            free(z->qname);             /* an empty zone: nothing to ask */
            z->qname = NULL;
            continue;
        }
        z->c = c;
        z->name = xstrdup(zone);
        z->allow = i >= nbl;
        z->state = ZONE_ASKING;
        k++;
    }
    c->nzones = k;
    if (k == 0) {
        free(c);
        return NULL;
    }
    /* Started only now that every zone is in place: the answers come
     * later, from the loop (dns.h), never from inside dns_addr(). */
    for (size_t i = 0; i < c->nzones; i++)
        c->z[i].qa = dns_addr(d, c->z[i].qname, on_addr, &c->z[i]);
    return c;
}

void
dnsbl_check_cancel(struct dnsbl_check *c)
{
    if (c != NULL)
        check_free(c);
}
