/*
 * dns - asynchronous DNS on the event loop, through libunbound; see dns.h.
 *
 * One libunbound context per struct dns, in libunbound's threaded mode:
 * libunbound resolves in a thread of its own and writes each finished
 * query to a pipe, ub_fd(), which a persistent read event on the loop
 * watches; ub_process() then runs the callbacks on the loop thread.
 * XXX ub_ctx_async(ctx, 0) is not an in-process mode: it makes libunbound
 * fork() a child process to resolve in (measured; unbound.h says so too),
 * which a server with worker threads must not do, and the child would hold
 * copies of every descriptor and key. The only mode with neither thread
 * nor child is ub_ctx_create_event() + ub_resolve_event(), which hands
 * back raw packets that we would have to parse ourselves.
 *
 * Every query has a deadline of its own (dns_set_timeout): libunbound has
 * none, and against a server that stays silent its retries grow from
 * seconds to minutes. Lowering libunbound's own timers is no cure: with
 * infra-cache-max-rtt low, one silent name makes it declare the server
 * down and fail every other name at once for infra-host-ttl (15 minutes).
 *
 * The records are decoded by rdata.c; this file maps libunbound's results
 * to the four statuses of dns.h and owns the queries' lifecycles. It does
 * not choose among MX hosts (relay/mx.c) and does not validate DNSSEC.
 */
#include <ctype.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libraries */
#include <event2/event.h>
#include <unbound.h>

/* this module */
#include "dns/dns.h"
#include "dns/rdata.h"

/* utilities */
#include "util/log.h"
#include "util/xmalloc.h"

#define DNS_TYPE_A          1
#define DNS_TYPE_CNAME      5
#define DNS_TYPE_PTR        12
#define DNS_TYPE_MX         15
#define DNS_TYPE_TXT        16
#define DNS_TYPE_AAAA       28
#define DNS_CLASS_IN        1
#define DNS_RCODE_FORMERR   1
#define DNS_RCODE_SERVFAIL  2
#define DNS_RCODE_NXDOMAIN  3
#define DNS_RCODE_NOTIMP    4
#define DNS_RCODE_REFUSED   5

#define DNS_WHY_MAX         96
#define DNS_NAME_TEXT_MAX   253     /* RFC 1035 3.1: 255 octets on the wire */
#define DNS_LABEL_MAX       63
#define DNS_SERVER_TEXT_MAX (INET6_ADDRSTRLEN + 8)   /* "[v6]:port" */

enum dns_kind { DNS_KIND_MX, DNS_KIND_ADDR, DNS_KIND_TXT };   /* PTR, CNAME answer as TXT */

/*
 * One libunbound query: a dns_query has one (MX, TXT) or two (AAAA, then
 * A). While pending, libunbound holds a pointer to it as its callback
 * argument; it is cancelled (ub_cancel) before it is freed, and libunbound
 * runs no callback for a cancelled query.
 */
struct dns_sub {
    struct dns_query *q;
    int               rrtype;
    int               id;           /* libunbound's async id, while pending */
    bool              pending;      /* asked, neither answered nor cancelled */
    enum dns_status   st;           /* the outcome, once !pending */
    char              why[DNS_WHY_MAX];
    size_t            n;            /* records in v, at most DNS_MAX_RECORDS */
    union {
        struct mx_record        *mx;
        struct sockaddr_storage *addr;
        char                   **txt;
    } v;
};

struct dns_query {
    struct dns       *d;
    struct dns_query *prev, *next;  /* d->queries */
    enum dns_kind     kind;
    union {
        dns_mx_cb   mx;
        dns_addr_cb addr;
        dns_txt_cb  txt;
    } cb;
    void             *arg;
    struct event     *timer;        /* the deadline, or 0 s to report an early failure */
    size_t            nsub;
    struct dns_sub    sub[2];
};

struct dns {
    struct event_base *base;
    struct ub_ctx     *ctx;
    struct event      *ev;          /* ub_fd() readable; persistent */
    struct dns_query  *queries;     /* every query whose callback is still due */
    unsigned           timeout_ms;
    bool               started;     /* libunbound's thread exists */
    bool               broken;      /* ub_process() failed: no more answers will come */
    bool               in_process;  /* inside ub_process(): dns_free() waits */
    bool               dying;       /* dns_free() was called inside ub_process() */
};

/*
 * The zones libunbound 1.17 answers itself (services/localzone.c,
 * util/as112.c: RFC 6303, 6761, 7686, 8375). With dns_servers they are made
 * transparent, so the servers are asked: tests use .test names and 127.x
 * addresses, and a site's own resolver may serve its private reverse zones.
 * 16-31.172.in-addr.arpa. and 64-127.100.in-addr.arpa. are added in a loop.
 * XXX a later libunbound may add zones; "unblock-lan-zones" covers its
 * AS112 list, the others would need adding here.
 */
static const char *const dns_local_zones[] = {
    "localhost.", "127.in-addr.arpa.",
    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
    "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
    "onion.", "test.", "invalid.", "home.arpa.",
    "10.in-addr.arpa.", "168.192.in-addr.arpa.", "0.in-addr.arpa.", "254.169.in-addr.arpa.",
    "2.0.192.in-addr.arpa.", "100.51.198.in-addr.arpa.", "113.0.203.in-addr.arpa.",
    "255.255.255.255.in-addr.arpa.",
    "d.f.ip6.arpa.", "8.e.f.ip6.arpa.", "9.e.f.ip6.arpa.", "a.e.f.ip6.arpa.", "b.e.f.ip6.arpa.",
    "8.b.d.0.1.0.0.2.ip6.arpa.",
};

static void dns_destroy(struct dns *d);

/* set_err - format a sentence into err[0..errlen) */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* sub_fail - record an outcome without records */
static void
sub_fail(struct dns_sub *s, enum dns_status st, const char *why)
{
    s->st = st;
    snprintf(s->why, sizeof(s->why), "%s", why);
}

/* sub_clear - free the records of one sub-query */
static void
sub_clear(struct dns_sub *s)
{
    if ((s->rrtype == DNS_TYPE_TXT || s->rrtype == DNS_TYPE_PTR || s->rrtype == DNS_TYPE_CNAME)
        && s->v.txt)
        for (size_t i = 0; i < s->n; i++)
            free(s->v.txt[i]);
    free(s->v.mx);      /* the union's pointers share their storage */
    s->v.mx = NULL;
    s->n = 0;
}

/* rcode_name - a short reason for a failing rcode */
static const char *
rcode_name(int rcode, char *buf, size_t len)
{
    switch (rcode) {
    case DNS_RCODE_FORMERR:  return "FORMERR";
    case DNS_RCODE_SERVFAIL: return "SERVFAIL";
    case DNS_RCODE_NOTIMP:   return "NOTIMP";
    case DNS_RCODE_REFUSED:  return "REFUSED";
    default:
        snprintf(buf, len, "rcode %d", rcode);
        return buf;
    }
}

/*
 * sub_decode - keep the usable records of res->data (at most
 * DNS_MAX_RECORDS). Malformed records are skipped; an answer of nothing
 * but malformed records is a temporary failure, as Postfix treats a
 * malformed reply.
 */
static void
sub_decode(struct dns_sub *s, const struct ub_result *res)
{
    size_t count = 0, n = 0;

    while (res->data[count] != NULL && res->len != NULL)
        count++;
    if (count > DNS_MAX_RECORDS)
        count = DNS_MAX_RECORDS;
    switch (s->rrtype) {
    case DNS_TYPE_MX:   s->v.mx = xcalloc(count, sizeof(*s->v.mx)); break;
    case DNS_TYPE_TXT:
    case DNS_TYPE_PTR:
    case DNS_TYPE_CNAME: s->v.txt = xcalloc(count, sizeof(*s->v.txt)); break;
    default:            s->v.addr = xcalloc(count, sizeof(*s->v.addr)); break;
    }
    for (size_t i = 0; res->data[i] != NULL && n < count; i++) {
        const unsigned char *p = (const unsigned char *)res->data[i];
        size_t len;

        if (res->len[i] < 0)
            continue;
        len = (size_t)res->len[i];
        switch (s->rrtype) {
        case DNS_TYPE_MX:
            if (dns_rdata_mx(p, len, &s->v.mx[n]))
                n++;
            break;
        case DNS_TYPE_TXT:
            if ((s->v.txt[n] = dns_rdata_txt(p, len)) != NULL)
                n++;
            break;
        case DNS_TYPE_PTR:
        case DNS_TYPE_CNAME: {
            char name[MX_HOST_MAX + 1];
            size_t used;
            if (dns_rdata_name(p, len, &used, name, sizeof(name)) && used == len)
                s->v.txt[n++] = xstrdup(name);
            break;
        }
        case DNS_TYPE_A:
            if (dns_rdata_addr(AF_INET, p, len, &s->v.addr[n]))
                n++;
            break;
        case DNS_TYPE_AAAA:
            if (dns_rdata_addr(AF_INET6, p, len, &s->v.addr[n]))
                n++;
            break;
        }
    }
    s->n = n;
    if (n == 0) {
        sub_clear(s);
        sub_fail(s, DNS_TEMPFAIL, "malformed reply");
        return;
    }
    sub_fail(s, DNS_OK, "");
}

/* sub_result - the outcome of one libunbound query */
static void
sub_result(struct dns_sub *s, int err, const struct ub_result *res)
{
    char buf[32];

    if (err != 0) {
        sub_fail(s, DNS_TEMPFAIL, ub_strerror(err));
    } else if (res == NULL) {
        sub_fail(s, DNS_TEMPFAIL, "no result");
    } else if (res->bogus) {
        sub_fail(s, DNS_TEMPFAIL, "DNSSEC bogus");
    } else if (res->rcode == DNS_RCODE_NXDOMAIN) {
        sub_fail(s, DNS_NXDOMAIN, "NXDOMAIN");
    } else if (res->rcode != 0) {
        /* libunbound answers SERVFAIL for its own timeouts as well. */
        sub_fail(s, DNS_TEMPFAIL, rcode_name(res->rcode, buf, sizeof(buf)));
    } else if (!res->havedata || res->data == NULL || res->data[0] == NULL) {
        sub_fail(s, DNS_NODATA, "NODATA");
    } else {
        sub_decode(s, res);
    }
}

/* query_release - cancel what is pending, unlink and free; no callback */
static void
query_release(struct dns_query *q)
{
    struct dns *d = q->d;

    for (size_t i = 0; i < q->nsub; i++) {
        struct dns_sub *s = &q->sub[i];

        /* XXX an error here (only "no such id") would mean the answer was
         * already delivered, which cannot be: it would have cleared pending. */
        if (s->pending)
            (void)ub_cancel(d->ctx, s->id);
        s->pending = false;
        sub_clear(s);
    }
    if (q->prev)
        q->prev->next = q->next;
    else
        d->queries = q->next;
    if (q->next)
        q->next->prev = q->prev;
    event_free(q->timer);
    free(q);
}

/* addr_status - the combined outcome of AAAA (s6) and A (s4), see dns.h */
static enum dns_status
addr_status(const struct dns_sub *s6, const struct dns_sub *s4, char *why, size_t len)
{
    why[0] = '\0';
    if (s6->st == DNS_OK || s4->st == DNS_OK)
        return DNS_OK;          /* one temporary failure: use what came */
    if (s6->st == DNS_NXDOMAIN || s4->st == DNS_NXDOMAIN) {
        snprintf(why, len, "%s", s6->st == DNS_NXDOMAIN ? s6->why : s4->why);
        return DNS_NXDOMAIN;
    }
    if (s6->st == DNS_TEMPFAIL && s4->st == DNS_TEMPFAIL) {
        if (strcmp(s6->why, s4->why) == 0)
            snprintf(why, len, "%s", s4->why);
        else
            snprintf(why, len, "AAAA %.40s, A %.40s", s6->why, s4->why);
        return DNS_TEMPFAIL;
    }
    if (s6->st == DNS_TEMPFAIL || s4->st == DNS_TEMPFAIL) {
        /* No address of one type, unknown for the other: ask again later. */
        snprintf(why, len, "%s %.60s", s6->st == DNS_TEMPFAIL ? "AAAA" : "A",
                 s6->st == DNS_TEMPFAIL ? s6->why : s4->why);
        return DNS_TEMPFAIL;
    }
    snprintf(why, len, "NODATA");
    return DNS_NODATA;
}

/*
 * query_finish - every sub-query has its outcome: free the query, then run
 * its callback with the records (which are freed after the callback
 * returns). Nothing of q or d is touched after the callback, which may
 * start queries, cancel others or call dns_free().
 */
static void
query_finish(struct dns_query *q)
{
    char why[DNS_WHY_MAX];
    enum dns_kind kind = q->kind;
    void *arg = q->arg;

    if (kind == DNS_KIND_ADDR) {
        struct dns_sub *s6 = &q->sub[0], *s4 = &q->sub[1];
        size_t n6 = s6->st == DNS_OK ? s6->n : 0, n4 = s4->st == DNS_OK ? s4->n : 0;
        size_t k6, k4, n = 0;
        struct sockaddr_storage *v;
        dns_addr_cb cb = q->cb.addr;
        enum dns_status st = addr_status(s6, s4, why, sizeof(why));

        /* At most DNS_MAX_RECORDS in all; when both have more than half,
         * half each, so that neither family crowds the other out. */
        k4 = n4 < DNS_MAX_RECORDS / 2 ? n4 : DNS_MAX_RECORDS / 2;
        k6 = n6 < DNS_MAX_RECORDS - k4 ? n6 : DNS_MAX_RECORDS - k4;
        k4 = n4 < DNS_MAX_RECORDS - k6 ? n4 : DNS_MAX_RECORDS - k6;
        v = xcalloc(k6 + k4 + 1, sizeof(*v));
        for (size_t i = 0; i < k6; i++)
            v[n++] = s6->v.addr[i];
        for (size_t i = 0; i < k4; i++)
            v[n++] = s4->v.addr[i];
        query_release(q);
        cb(arg, st, st == DNS_OK ? v : NULL, st == DNS_OK ? n : 0, why);
        free(v);
        return;
    }

    struct dns_sub *s = &q->sub[0];
    enum dns_status st = s->st;
    size_t n = s->n;

    snprintf(why, sizeof(why), "%s", s->why);
    if (kind == DNS_KIND_MX) {
        struct mx_record *v = s->v.mx;
        dns_mx_cb cb = q->cb.mx;

        s->v.mx = NULL;
        s->n = 0;
        query_release(q);
        cb(arg, st, v, n, why);
        free(v);
    } else {
        char **v = s->v.txt;
        dns_txt_cb cb = q->cb.txt;

        s->v.txt = NULL;
        s->n = 0;
        query_release(q);
        cb(arg, st, v, n, why);
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
    }
}

/* query_pending - is some sub-query still waiting for libunbound */
static bool
query_pending(const struct dns_query *q)
{
    for (size_t i = 0; i < q->nsub; i++)
        if (q->sub[i].pending)
            return true;
    return false;
}

/* on_ub_result - libunbound's callback, from ub_process() on the loop thread */
static void
on_ub_result(void *mydata, int err, struct ub_result *res)
{
    struct dns_sub *s = mydata;
    struct dns_query *q = s->q;

    s->pending = false;
    sub_result(s, err, res);
    ub_resolve_free(res);
    if (!query_pending(q))
        query_finish(q);
}

/* on_timer - the deadline passed (or an early failure is due) */
static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct dns_query *q = arg;

    (void)fd;
    (void)what;
    for (size_t i = 0; i < q->nsub; i++) {
        struct dns_sub *s = &q->sub[i];

        if (s->pending) {
            (void)ub_cancel(q->d->ctx, s->id);
            s->pending = false;
            sub_fail(s, DNS_TEMPFAIL, "timeout");
        }
    }
    query_finish(q);
}

/* on_readable - answers are waiting in libunbound's pipe */
static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct dns *d = arg;
    int r;

    (void)fd;
    (void)what;
    d->in_process = true;
    r = ub_process(d->ctx);
    d->in_process = false;
    if (d->dying) {
        dns_destroy(d);
        return;
    }
    if (r != 0) {
        /* The pipe or libunbound's thread broke: nothing more will come.
         * Stop watching (the fd may stay readable for ever); the queries
         * still pending end at their deadlines, new ones fail at once. */
        log_error("dns: libunbound stopped answering: %s", ub_strerror(r));
        event_del(d->ev);
        d->broken = true;
    }
}

/*
 * name_ok - is name worth asking: not empty, labels of 1..63 octets, at
 * most 253 octets without the final dot, and no octet that libunbound's
 * name parser would take as an escape ('\\') or that has no place in a
 * name a mail server looks up (controls, space, DEL, non-ASCII).
 */
static bool
name_ok(const char *name)
{
    size_t len = strlen(name), lab = 0;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > DNS_NAME_TEXT_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == '.') {
            if (lab == 0)
                return false;
            lab = 0;
            continue;
        }
        if (c <= ' ' || c >= 0x7f || c == '\\')
            return false;
        if (++lab > DNS_LABEL_MAX)
            return false;
    }
    return lab > 0;
}

/*
 * query_new - start the libunbound queries of types[0..ntypes) for name.
 * Failures to start are reported through the timer, never from here.
 */
static struct dns_query *
query_new(struct dns *d, enum dns_kind kind, const char *name, const int *types,
          size_t ntypes, void *arg)
{
    struct dns_query *q = xcalloc(1, sizeof(*q));
    bool valid = name_ok(name), any = false;
    struct timeval tv = { 0, 0 };

    q->d = d;
    q->kind = kind;
    q->arg = arg;
    q->nsub = ntypes;
    q->timer = evtimer_new(d->base, on_timer, q);
    if (q->timer == NULL)
        abort();        /* allocation failure: see util/xmalloc.h */
    q->next = d->queries;
    if (d->queries)
        d->queries->prev = q;
    d->queries = q;

    for (size_t i = 0; i < ntypes; i++) {
        struct dns_sub *s = &q->sub[i];
        sigset_t all, old;
        int r;

        s->q = q;
        s->rrtype = types[i];
        if (!valid) {
            sub_fail(s, DNS_NXDOMAIN, "invalid name");
            continue;
        }
        if (d->broken) {
            sub_fail(s, DNS_TEMPFAIL, "resolver stopped");
            continue;
        }
        /* The first query starts libunbound's thread: it inherits a full
         * signal mask, so that signals go to the threads that handle them. */
        if (!d->started) {
            sigfillset(&all);
            pthread_sigmask(SIG_SETMASK, &all, &old);
        }
        r = ub_resolve_async(d->ctx, name, types[i], DNS_CLASS_IN, s, on_ub_result, &s->id);
        if (!d->started) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            d->started = r == 0;
        }
        if (r == 0) {
            s->pending = true;
            any = true;
        } else {
            sub_fail(s, r == UB_SYNTAX ? DNS_NXDOMAIN : DNS_TEMPFAIL,
                     r == UB_SYNTAX ? "invalid name" : ub_strerror(r));
        }
    }
    if (any) {
        tv.tv_sec = d->timeout_ms / 1000;
        tv.tv_usec = (suseconds_t)(d->timeout_ms % 1000) * 1000;
    }
    evtimer_add(q->timer, &tv);
    return q;
}

struct dns_query *
dns_mx(struct dns *d, const char *name, dns_mx_cb cb, void *arg)
{
    static const int types[] = { DNS_TYPE_MX };
    struct dns_query *q = query_new(d, DNS_KIND_MX, name, types, 1, arg);

    q->cb.mx = cb;
    return q;
}

struct dns_query *
dns_addr(struct dns *d, const char *name, dns_addr_cb cb, void *arg)
{
    static const int types[] = { DNS_TYPE_AAAA, DNS_TYPE_A };   /* IPv6 first */
    struct dns_query *q = query_new(d, DNS_KIND_ADDR, name, types, 2, arg);

    q->cb.addr = cb;
    return q;
}

struct dns_query *
dns_txt(struct dns *d, const char *name, dns_txt_cb cb, void *arg)
{
    static const int types[] = { DNS_TYPE_TXT };
    struct dns_query *q = query_new(d, DNS_KIND_TXT, name, types, 1, arg);

    q->cb.txt = cb;
    return q;
}

struct dns_query *
dns_ptr(struct dns *d, const char *name, dns_txt_cb cb, void *arg)
{
    static const int types[] = { DNS_TYPE_PTR };
    struct dns_query *q = query_new(d, DNS_KIND_TXT, name, types, 1, arg);

    q->cb.txt = cb;
    return q;
}

struct dns_query *
dns_cname(struct dns *d, const char *name, dns_txt_cb cb, void *arg)
{
    static const int types[] = { DNS_TYPE_CNAME };
    struct dns_query *q = query_new(d, DNS_KIND_TXT, name, types, 1, arg);

    q->cb.txt = cb;
    return q;
}

bool
dns_name_ok(const char *name)
{
    size_t label = 0, n = 0;

    for (const char *p = name; *p; p++, n++) {
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (isalnum((unsigned char)*p) || *p == '-' || *p == '_') {
            if (++label > 63)
                return false;
        } else {
            return false;
        }
    }
    return n > 0 && n <= 253 && label > 0;
}

void
dns_cancel(struct dns_query *q)
{
    if (q != NULL)
        query_release(q);
}

void
dns_set_timeout(struct dns *d, unsigned msec)
{
    d->timeout_ms = msec;
}

/*
 * parse_server - one "host[:port]" of dns_servers (IPv4, or IPv6 in
 * brackets when a port follows) into libunbound's "addr@port" form.
 */
static bool
parse_server(const char *tok, size_t toklen, char *out, size_t outlen, char *err, size_t errlen)
{
    char buf[DNS_SERVER_TEXT_MAX], *host = buf, *port = NULL, *colon;
    unsigned char bin[sizeof(struct in6_addr)];
    unsigned long pnum = 53;

    if (toklen >= sizeof(buf)) {
        set_err(err, errlen, "dns_servers: \"%.40s...\" is too long for an address", tok);
        return false;
    }
    memcpy(buf, tok, toklen);
    buf[toklen] = '\0';
    if (buf[0] == '[') {
        char *end = strchr(buf, ']');

        if (end == NULL || (end[1] != '\0' && end[1] != ':'))
            goto bad;
        *end = '\0';
        host = buf + 1;
        if (end[1] == ':')
            port = end + 2;
    } else if ((colon = strchr(buf, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
        *colon = '\0';          /* one colon: IPv4 and port */
        port = colon + 1;
    }
    if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
        goto bad;
    if (port != NULL) {
        size_t plen = strlen(port);

        if (plen == 0 || plen > 5 || strspn(port, "0123456789") != plen)
            goto bad;
        pnum = strtoul(port, NULL, 10);
        if (pnum == 0 || pnum > 65535)
            goto bad;
    }
    snprintf(out, outlen, "%s@%lu", host, pnum);
    return true;
bad:
    set_err(err, errlen, "dns_servers: \"%s\" is not an IP address with an optional port "
            "(1.2.3.4, 1.2.3.4:53, ::1, [::1]:53)", buf);
    return false;
}

/* set_transparent - let queries for zone through to the servers */
static int
set_transparent(struct ub_ctx *ctx, const char *zone)
{
    char opt[128];

    snprintf(opt, sizeof(opt), "%s transparent", zone);
    return ub_ctx_set_option(ctx, "local-zone:", opt);
}

/* set_forwarders - forward everything to servers; make the local zones transparent */
static bool
set_forwarders(struct ub_ctx *ctx, const char *servers, char *err, size_t errlen)
{
    const char *p = servers;
    char addr[DNS_SERVER_TEXT_MAX + 8], zone[32];
    size_t nfwd = 0;
    int r;

    for (;;) {
        size_t len;

        p += strspn(p, " \t,");
        if (*p == '\0')
            break;
        len = strcspn(p, " \t,");
        if (!parse_server(p, len, addr, sizeof(addr), err, errlen))
            return false;
        if ((r = ub_ctx_set_fwd(ctx, addr)) != 0) {
            set_err(err, errlen, "dns_servers: %s: %s", addr, ub_strerror(r));
            return false;
        }
        nfwd++;
        p += len;
    }
    if (nfwd == 0) {
        set_err(err, errlen, "dns_servers: no server given");
        return false;
    }
    /* "local-zone: <zone> nodefault" through ub_ctx_set_option does not
     * work (DESIGN.md, known traps); a transparent zone of the same name
     * keeps the default out (local_zone_enter_defaults skips existing
     * zones) and lets the query through. */
    r = ub_ctx_set_option(ctx, "unblock-lan-zones:", "yes");
    for (size_t i = 0; r == 0 && i < sizeof(dns_local_zones) / sizeof(dns_local_zones[0]); i++)
        r = set_transparent(ctx, dns_local_zones[i]);
    for (unsigned o = 16; r == 0 && o <= 31; o++) {         /* 172.16.0.0/12 */
        snprintf(zone, sizeof(zone), "%u.172.in-addr.arpa.", o);
        r = set_transparent(ctx, zone);
    }
    for (unsigned o = 64; r == 0 && o <= 127; o++) {        /* 100.64.0.0/10 */
        snprintf(zone, sizeof(zone), "%u.100.in-addr.arpa.", o);
        r = set_transparent(ctx, zone);
    }
    if (r != 0) {
        set_err(err, errlen, "dns: libunbound refused a local-zone option: %s", ub_strerror(r));
        return false;
    }
    return true;
}

struct dns *
dns_new(struct event_base *base, const char *servers, char *err, size_t errlen)
{
    struct dns *d = xcalloc(1, sizeof(*d));
    int r, fd;

    set_err(err, errlen, "%s", "");
    d->base = base;
    d->timeout_ms = DNS_TIMEOUT_MS;
    if ((d->ctx = ub_ctx_create()) == NULL) {
        set_err(err, errlen, "dns: cannot create a libunbound context");
        free(d);
        return NULL;
    }
    /* Threaded, not forked: see the top of this file. No trust anchor is
     * set, so no DNSSEC validation: the iterator alone does the work.
     * XXX DANE will need the validator module and a trust anchor.
     * infra-keep-probing: after timeouts libunbound would otherwise mark
     * a forwarder down and fail every name at once for 15 minutes. */
    if ((r = ub_ctx_async(d->ctx, 1)) != 0 ||
        (r = ub_ctx_set_option(d->ctx, "module-config:", "iterator")) != 0 ||
        (r = ub_ctx_set_option(d->ctx, "infra-keep-probing:", "yes")) != 0) {
        set_err(err, errlen, "dns: setting up libunbound: %s", ub_strerror(r));
        goto fail;
    }
    if (servers == NULL || servers[strspn(servers, " \t,")] == '\0') {
        if ((r = ub_ctx_resolvconf(d->ctx, "/etc/resolv.conf")) != 0) {
            set_err(err, errlen, "dns: reading /etc/resolv.conf: %s", ub_strerror(r));
            goto fail;
        }
    } else if (!set_forwarders(d->ctx, servers, err, errlen)) {
        goto fail;
    }
    if ((fd = ub_fd(d->ctx)) < 0) {
        set_err(err, errlen, "dns: libunbound has no descriptor to watch");
        goto fail;
    }
    d->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_readable, d);
    if (d->ev == NULL || event_add(d->ev, NULL) != 0) {
        set_err(err, errlen, "dns: cannot watch libunbound's descriptor");
        goto fail;
    }
    return d;
fail:
    if (d->ev)
        event_free(d->ev);
    ub_ctx_delete(d->ctx);
    free(d);
    return NULL;
}

/* dns_destroy - free everything; libunbound's pending queries die unanswered */
static void
dns_destroy(struct dns *d)
{
    while (d->queries)
        query_release(d->queries);
    event_free(d->ev);
    ub_ctx_delete(d->ctx);      /* stops and joins libunbound's thread */
    free(d);
}

void
dns_free(struct dns *d)
{
    if (d == NULL || d->dying)
        return;
    if (d->in_process) {
        /* Called from a callback run by ub_process(), which still uses the
         * context: drop the queries now (no more callbacks), free later. */
        d->dying = true;
        while (d->queries)
            query_release(d->queries);
        return;
    }
    dns_destroy(d);
}
