/*
 * test_dns - unit tests for src/dns/dns.c against a real DNS server.
 *
 * The group setup starts tests/integration/dnsserver.py (Debian's
 * python3-dnslib) on a free loopback port with the zone below, and every
 * test makes its own event_base and dns_new(base, "127.0.0.1:PORT"), so
 * that libunbound's caches start empty. The server answers SERVFAIL,
 * REFUSED or nothing at all for chosen names; names under test., invalid.,
 * localhost. and the private reverse zones show that libunbound's built-in
 * local zones were made transparent. Mismatches are reported as
 * "got ..., want ..." and each test fails at its end.
 *
 * The server and the per-test resolver are in dns_fixture.h, shared with
 * test_dnsbl.c. $POSTINO_DNSSERVER overrides the path of dnsserver.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "dns/dns.h"

#include "check.h"
#include "dns_fixture.h"

static const char *const status_names[] = { "DNS_OK", "DNS_NODATA", "DNS_NXDOMAIN", "DNS_TEMPFAIL" };

/* status_name - the enum constant's name */
static const char *
status_name(enum dns_status st)
{
    return (unsigned)st < NELEM(status_names) ? status_names[st] : "?";
}

/* ---- the DNS server ------------------------------------------------------ */

/* The reverse names of local-zone addresses, with a TXT record each. */
static const char *const local_zone_addrs[] = {
    "127.0.0.2", "10.0.0.1", "172.20.0.1", "192.168.0.1", "100.64.0.1", "169.254.0.1",
    "0.0.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1",
    "::1", "fd00::1", "fe80::1", "2001:db8::1",
};

/* The forward names under local zones, with a TXT record each. */
static const char *const local_zone_names[] = {
    "x.test", "host.invalid", "localhost", "x.onion", "x.home.arpa",
};

/* arpa_name - the reverse-lookup name of an address text */
static void
arpa_name(const char *addr, char *out, size_t outlen)
{
    unsigned char b[16];
    size_t o = 0;

    if (inet_pton(AF_INET, addr, b) == 1) {
        snprintf(out, outlen, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
        return;
    }
    assert_int_equal(inet_pton(AF_INET6, addr, b), 1);
    for (int i = 15; i >= 0; i--)
        o += (size_t)snprintf(out + o, outlen - o, "%x.%x.", b[i] & 0xf, b[i] >> 4);
    snprintf(out + o, outlen - o, "ip6.arpa");
}

/* zone_text - the test zone, in dnsserver.py's text format */
static char *
zone_text(void)
{
    static const char fixed[] =
        "example.test.      MX   10 mx1.example.test.\n"
        "example.test.      MX   20 MX2.Example.Test.\n"
        "mx1.example.test.  A    127.0.0.2\n"
        "mx1.example.test.  A    127.0.0.5\n"
        "mx1.example.test.  AAAA ::1\n"
        "v4only.test.       A    127.0.0.6\n"
        "v6only.test.       AAAA 2001:db8::6\n"
        "half.test.         A    127.0.0.3\n"
        "half.test.         SERVFAIL AAAA\n"
        "h2.test.           A    127.0.0.4\n"
        "h2.test.           SILENT AAAA\n"
        "halfnodata.test.   MX   10 example.test.\n"
        "halfnodata.test.   SERVFAIL AAAA\n"
        "nullmx.test.       MX   0 .\n"
        "5.0.0.127.in-addr.arpa. PTR Mx1.Example.Test.\n"
        "5.0.0.127.in-addr.arpa. PTR other.test.\n"
        "spf.example.test.  TXT  \"v=spf1 ip4:127.0.0.0/8 \" \"-all\"\n"
        "spf.example.test.  TXT  \"other\"\n"
        "broken.test.       SERVFAIL\n"
        "refused.test.      REFUSED\n"
        "slow.test.         SILENT\n"
        "localhost.         MX   10 mx.localhost.\n";
    size_t cap = 64 * 1024, o = 0;
    char *s = malloc(cap), name[128];

    assert_non_null(s);
    o += (size_t)snprintf(s + o, cap - o, "%s", fixed);
    /* Long strings, longer together than a DNS answer without EDNS. */
    o += (size_t)snprintf(s + o, cap - o, "big.test. TXT \"%0200d\" \"%0220d\" \"%0180d\"\n", 1, 2, 3);
    /* More records than DNS_MAX_RECORDS; the answers (over 2 KB) are
     * larger than libunbound's EDNS buffer, so they come over TCP. */
    for (int i = 0; i < 70; i++)
        o += (size_t)snprintf(s + o, cap - o,
                              "many.test. MX %d mx%d.many.test.\n"
                              "many.test. A 127.1.0.%d\n"
                              "many.test. AAAA 2001:db8::%x\n", i, i, i, i);
    for (size_t i = 0; i < NELEM(local_zone_names); i++)
        o += (size_t)snprintf(s + o, cap - o, "%s. TXT \"seen %s\"\n", local_zone_names[i],
                              local_zone_names[i]);
    for (size_t i = 0; i < NELEM(local_zone_addrs); i++) {
        arpa_name(local_zone_addrs[i], name, sizeof(name));
        o += (size_t)snprintf(s + o, cap - o, "%s. TXT \"seen %s\"\n", name, local_zone_addrs[i]);
    }
    assert_true(o < cap - 1);
    return s;
}

/* server_start - run dnsserver.py with the zone above */
static int
server_start(void **state)
{
    char *zone = zone_text();
    int rc = dnsserver_start(zone, -1);

    (void)state;
    free(zone);
    return rc;
}

/* server_stop - stop it */
static int
server_stop(void **state)
{
    (void)state;
    dnsserver_stop();
    return 0;
}

/* ---- callbacks ----------------------------------------------------------- */

/* A callback's record of what it was given. */
struct got {
    const char       *what;
    int               calls;
    enum dns_status   st;
    char              why[128];
    size_t            n;
    struct mx_record  mx[DNS_MAX_RECORDS];
    char              addr[DNS_MAX_RECORDS][INET6_ADDRSTRLEN];
    char             *txt[DNS_MAX_RECORDS];
    double            at;               /* seconds after the test began */
};

/* got_common - count a call; end the loop when none is expected any more */
static void
got_common(struct got *g, enum dns_status st, size_t n, const void *v, const char *why)
{
    g->calls++;
    if (g->calls > 1)
        report("%s: callback ran %d times, want once", g->what, g->calls);
    g->st = st;
    g->n = n;
    g->at = now() - cur->t0;
    snprintf(g->why, sizeof(g->why), "%s", why ? why : "(null)");
    if (why == NULL)
        report("%s: why is NULL, want a string", g->what);
    if (n > DNS_MAX_RECORDS)
        report("%s: got %zu records, want at most %d", g->what, n, DNS_MAX_RECORDS);
    if (n > 0 && v == NULL)
        report("%s: %zu records and a NULL array", g->what, n);
    if (st != DNS_OK && n != 0)
        report("%s: %s with %zu records, want none", g->what, status_name(st), n);
    if (st == DNS_OK && n == 0)
        report("%s: DNS_OK with no records", g->what);
    if (--cur->outstanding == 0)
        event_base_loopexit(cur->base, NULL);
}

static void
got_mx(void *arg, enum dns_status st, struct mx_record *v, size_t n, const char *why)
{
    struct got *g = arg;

    for (size_t i = 0; i < n && i < DNS_MAX_RECORDS; i++)
        g->mx[i] = v[i];
    got_common(g, st, n, v, why);
}

static void
got_addr(void *arg, enum dns_status st, const struct sockaddr_storage *v, size_t n,
         const char *why)
{
    struct got *g = arg;

    for (size_t i = 0; i < n && i < DNS_MAX_RECORDS; i++) {
        if (v[i].ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&v[i];

            inet_ntop(AF_INET, &sin->sin_addr, g->addr[i], sizeof(g->addr[i]));
            if (sin->sin_port != 0)
                report("%s: port %u, want 0", g->what, ntohs(sin->sin_port));
        } else if (v[i].ss_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&v[i];

            inet_ntop(AF_INET6, &sin6->sin6_addr, g->addr[i], sizeof(g->addr[i]));
            if (sin6->sin6_port != 0)
                report("%s: port %u, want 0", g->what, ntohs(sin6->sin6_port));
        } else {
            snprintf(g->addr[i], sizeof(g->addr[i]), "family %d", v[i].ss_family);
        }
    }
    got_common(g, st, n, v, why);
}

static void
got_txt(void *arg, enum dns_status st, char **v, size_t n, const char *why)
{
    struct got *g = arg;

    for (size_t i = 0; i < n && i < DNS_MAX_RECORDS; i++) {
        g->txt[i] = strdup(v[i]);
        assert_non_null(g->txt[i]);
    }
    got_common(g, st, n, v, why);
}

/* got_free - the copies got_txt made */
static void
got_free(struct got *g)
{
    for (size_t i = 0; i < DNS_MAX_RECORDS; i++) {
        free(g->txt[i]);
        g->txt[i] = NULL;
    }
}

/* expect - the calls, status and why (NULL: any) a query should have had */
static bool
expect(const struct got *g, enum dns_status st, const char *why)
{
    if (g->calls != 1) {
        report("%s: callback ran %d times, want once", g->what, g->calls);
        return false;
    }
    if (g->st != st || (why && strcmp(g->why, why) != 0)) {
        report("%s: got %s \"%s\", want %s \"%s\"", g->what, status_name(g->st), g->why,
               status_name(st), why ? why : "...");
        return false;
    }
    return true;
}

static int
cmp_mx(const void *a, const void *b)
{
    const struct mx_record *x = a, *y = b;

    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->host, y->host);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* mx_text - "10 a, 20 b" after sorting by preference */
static void
mx_text(struct got *g, char *out, size_t outlen)
{
    size_t o = 0;

    out[0] = '\0';
    qsort(g->mx, g->n, sizeof(g->mx[0]), cmp_mx);
    for (size_t i = 0; i < g->n && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%u %s", i ? ", " : "", g->mx[i].pref,
                              g->mx[i].host);
}

/* addr_text - "v6 v6 | v4 v4": each family sorted, AAAA must come first */
static void
addr_text(struct got *g, char *out, size_t outlen)
{
    char *v6[DNS_MAX_RECORDS], *v4[DNS_MAX_RECORDS];
    size_t n6 = 0, n4 = 0, o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < g->n; i++) {
        if (strchr(g->addr[i], ':')) {
            if (n4 > 0)
                report("%s: IPv6 %s after IPv4, want IPv6 first", g->what, g->addr[i]);
            v6[n6++] = g->addr[i];
        } else {
            v4[n4++] = g->addr[i];
        }
    }
    qsort(v6, n6, sizeof(v6[0]), cmp_str);
    qsort(v4, n4, sizeof(v4[0]), cmp_str);
    for (size_t i = 0; i < n6 && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i ? " " : "", v6[i]);
    if (o < outlen)
        o += (size_t)snprintf(out + o, outlen - o, " |");
    for (size_t i = 0; i < n4 && o < outlen; i++)
        o += (size_t)snprintf(out + o, outlen - o, " %s", v4[i]);
}

/* ---- dns_new ------------------------------------------------------------- */

static void
test_dns_new_servers(void **state)
{
    static const struct {
        const char *servers;
        bool        ok;
    } cases[] = {
        { NULL, true },                 /* /etc/resolv.conf */
        { "", true },
        { "127.0.0.1", true },
        { "127.0.0.1:5353", true },
        { "::1", true },
        { "[::1]:53", true },
        { "[::1]", true },
        { "127.0.0.1 ::1, [::1]:5300", true },
        { "300.1.1.1", false },
        { "1.2.3.4:0", false },
        { "1.2.3.4:65536", false },
        { "1.2.3.4:", false },
        { "1.2.3.4:53x", false },
        { "1.2.3.4:-1", false },
        { "[::1", false },
        { "[::1]x", false },
        { "[::1]:", false },
        { "[1.2.3.4]:53", true },
        { "mail.example.test", false },
        { "127.0.0.1 nope", false },
        { "1.2.3.4:99999999999999999999", false },
        { "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb", false },
    };
    struct event_base *base = event_base_new();

    (void)state;
    failures = 0;
    assert_non_null(base);
    for (size_t i = 0; i < NELEM(cases); i++) {
        char err[256] = "untouched";
        struct dns *d = dns_new(base, cases[i].servers, err, sizeof(err));

        if ((d != NULL) != cases[i].ok)
            report("dns_new(\"%s\"): got %s (%s), want %s",
                   cases[i].servers ? cases[i].servers : "(null)", d ? "a resolver" : "NULL",
                   err, cases[i].ok ? "a resolver" : "NULL");
        else if (d == NULL && err[0] == '\0')
            report("dns_new(\"%s\"): NULL with no error message", cases[i].servers);
        dns_free(d);
    }
    dns_free(NULL);
    dns_cancel(NULL);
    event_base_free(base);
    assert_int_equal(failures, 0);
}

/* ---- answers ------------------------------------------------------------- */

static void
test_mx(void **state)
{
    struct fx *fx = *state;
    struct got g = { .what = "MX example.test" }, gn = { .what = "MX nullmx.test" },
               gl = { .what = "MX localhost" };
    char text[1024];

    fx->outstanding = 3;
    assert_non_null(dns_mx(fx->d, "example.test", got_mx, &g));
    assert_non_null(dns_mx(fx->d, "NullMX.test.", got_mx, &gn));
    assert_non_null(dns_mx(fx->d, "localhost", got_mx, &gl));
    run(fx, 5000);
    if (expect(&g, DNS_OK, "")) {
        mx_text(&g, text, sizeof(text));
        if (strcmp(text, "10 mx1.example.test, 20 mx2.example.test") != 0)
            report("%s: got \"%s\", want \"10 mx1.example.test, 20 mx2.example.test\"",
                   g.what, text);
    }
    /* RFC 7505: "0 ." gives the host "" */
    if (expect(&gn, DNS_OK, "") && (gn.n != 1 || gn.mx[0].pref != 0 || gn.mx[0].host[0]))
        report("%s: got %zu records, first %u \"%s\"; want 1, 0 \"\"", gn.what, gn.n,
               gn.mx[0].pref, gn.mx[0].host);
    /* libunbound's own localhost. zone has no MX: the server's answer came. */
    if (expect(&gl, DNS_OK, "")) {
        mx_text(&gl, text, sizeof(text));
        if (strcmp(text, "10 mx.localhost") != 0)
            report("%s: got \"%s\", want \"10 mx.localhost\"", gl.what, text);
    }
    assert_int_equal(failures, 0);
}

static void
test_negative(void **state)
{
    struct fx *fx = *state;
    struct got g[] = {
        { .what = "MX nope.test" }, { .what = "A/AAAA nope.test" }, { .what = "TXT nope.test" },
        { .what = "MX mx1.example.test" }, { .what = "TXT example.test" },
        { .what = "A/AAAA example.test" }, { .what = "MX sub.x.test (below a name)" },
    };

    fx->outstanding = (int)NELEM(g);
    dns_mx(fx->d, "nope.test", got_mx, &g[0]);
    dns_addr(fx->d, "nope.test", got_addr, &g[1]);
    dns_txt(fx->d, "nope.test", got_txt, &g[2]);
    dns_mx(fx->d, "mx1.example.test", got_mx, &g[3]);
    dns_txt(fx->d, "example.test", got_txt, &g[4]);
    dns_addr(fx->d, "example.test", got_addr, &g[5]);
    dns_mx(fx->d, "sub.x.test", got_mx, &g[6]);
    run(fx, 5000);
    expect(&g[0], DNS_NXDOMAIN, NULL);
    expect(&g[1], DNS_NXDOMAIN, NULL);
    expect(&g[2], DNS_NXDOMAIN, NULL);
    expect(&g[3], DNS_NODATA, NULL);
    expect(&g[4], DNS_NODATA, NULL);
    expect(&g[5], DNS_NODATA, NULL);
    expect(&g[6], DNS_NXDOMAIN, NULL);
    for (size_t i = 0; i < NELEM(g); i++)
        got_free(&g[i]);
    assert_int_equal(failures, 0);
}

static void
test_tempfail(void **state)
{
    struct fx *fx = *state;
    struct got g[] = {
        { .what = "MX broken.test" }, { .what = "A/AAAA broken.test" },
        { .what = "TXT broken.test" }, { .what = "MX refused.test" },
        { .what = "A/AAAA halfnodata.test (AAAA SERVFAIL, A NODATA)" },
    };

    fx->outstanding = (int)NELEM(g);
    dns_mx(fx->d, "broken.test", got_mx, &g[0]);
    dns_addr(fx->d, "broken.test", got_addr, &g[1]);
    dns_txt(fx->d, "broken.test", got_txt, &g[2]);
    dns_mx(fx->d, "refused.test", got_mx, &g[3]);
    dns_addr(fx->d, "halfnodata.test", got_addr, &g[4]);
    run(fx, 8000);
    expect(&g[0], DNS_TEMPFAIL, "SERVFAIL");
    expect(&g[1], DNS_TEMPFAIL, "SERVFAIL");
    expect(&g[2], DNS_TEMPFAIL, "SERVFAIL");
    /* libunbound turns a forwarder's REFUSED into SERVFAIL; either is fine. */
    if (expect(&g[3], DNS_TEMPFAIL, NULL) && strcmp(g[3].why, "SERVFAIL") != 0 &&
        strcmp(g[3].why, "REFUSED") != 0)
        report("%s: why got \"%s\", want SERVFAIL or REFUSED", g[3].what, g[3].why);
    expect(&g[4], DNS_TEMPFAIL, NULL);
    if (strstr(g[4].why, "AAAA") == NULL)
        report("%s: why got \"%s\", want it to name AAAA", g[4].what, g[4].why);
    for (size_t i = 0; i < NELEM(g); i++)
        got_free(&g[i]);
    assert_int_equal(failures, 0);
}

static void
test_addr(void **state)
{
    static const struct {
        const char *name;
        const char *want;       /* see addr_text */
    } cases[] = {
        { "mx1.example.test", "::1 | 127.0.0.2 127.0.0.5" },
        { "v4only.test", " | 127.0.0.6" },
        { "v6only.test", "2001:db8::6 |" },
        { "half.test", " | 127.0.0.3" },        /* AAAA SERVFAIL: the A records serve */
        { "MX1.Example.Test.", "::1 | 127.0.0.2 127.0.0.5" },
    };
    struct fx *fx = *state;
    struct got g[NELEM(cases)];
    char text[1024];

    memset(g, 0, sizeof(g));
    fx->outstanding = (int)NELEM(cases);
    for (size_t i = 0; i < NELEM(cases); i++) {
        g[i].what = cases[i].name;
        dns_addr(fx->d, cases[i].name, got_addr, &g[i]);
    }
    run(fx, 5000);
    for (size_t i = 0; i < NELEM(cases); i++) {
        if (!expect(&g[i], DNS_OK, ""))
            continue;
        addr_text(&g[i], text, sizeof(text));
        if (strcmp(text, cases[i].want) != 0)
            report("A/AAAA %s: got \"%s\", want \"%s\"", cases[i].name, text, cases[i].want);
    }
    assert_int_equal(failures, 0);
}

static void
test_txt(void **state)
{
    struct fx *fx = *state;
    struct got g = { .what = "TXT spf.example.test" }, gb = { .what = "TXT big.test" };
    char want[700];

    fx->outstanding = 2;
    dns_txt(fx->d, "spf.example.test", got_txt, &g);
    dns_txt(fx->d, "big.test", got_txt, &gb);
    run(fx, 5000);
    if (expect(&g, DNS_OK, "")) {
        qsort(g.txt, g.n, sizeof(g.txt[0]), cmp_str);
        /* RFC 7208 3.3: the strings of one record joined with nothing between */
        if (g.n != 2 || strcmp(g.txt[0], "other") != 0 ||
            strcmp(g.txt[1], "v=spf1 ip4:127.0.0.0/8 -all") != 0)
            report("%s: got %zu: \"%s\" \"%s\", want 2: \"other\" \"v=spf1 ip4:127.0.0.0/8 -all\"",
                   g.what, g.n, g.n > 0 ? g.txt[0] : "", g.n > 1 ? g.txt[1] : "");
    }
    /* 600 octets in three strings of one record */
    snprintf(want, sizeof(want), "%0200d%0220d%0180d", 1, 2, 3);
    if (expect(&gb, DNS_OK, "") && (gb.n != 1 || strcmp(gb.txt[0], want) != 0))
        report("%s: got %zu records, first %zu octets; want 1 of %zu", gb.what, gb.n,
               gb.n ? strlen(gb.txt[0]) : 0, strlen(want));
    got_free(&g);
    got_free(&gb);
    assert_int_equal(failures, 0);
}

/* test_name_ok - which names go to the resolver as they are */
static void
test_name_ok(void **state)
{
    static const struct { const char *name; bool ok; } cases[] = {
        { "example.test", true }, { "_dmarc.example.test", true }, { "a-b.c_d.e", true },
        { "x", true }, { "", false }, { ".", false }, { "x..y", false }, { ".x", false },
        { "x.", false }, { "a b.test", false }, { "%{i}.test", false },
        { "b\xc3\xbc" "cher.de", false },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", true },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", false },
    };
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++)
        if (dns_name_ok(cases[i].name) != cases[i].ok)
            report("dns_name_ok(\"%s\"): got %d, want %d", cases[i].name, !cases[i].ok,
                   cases[i].ok);
    assert_int_equal(failures, 0);
}

/* test_ptr - reverse names, answered as host names (for SPF's ptr) */
static void
test_ptr(void **state)
{
    struct fx *fx = *state;
    struct got g = { .what = "PTR 127.0.0.5" }, gn = { .what = "PTR 127.0.0.9" };

    fx->outstanding = 2;
    dns_ptr(fx->d, "5.0.0.127.in-addr.arpa", got_txt, &g);
    dns_ptr(fx->d, "9.0.0.127.in-addr.arpa", got_txt, &gn);
    run(fx, 5000);
    if (expect(&g, DNS_OK, "")) {
        qsort(g.txt, g.n, sizeof(g.txt[0]), cmp_str);
        if (g.n != 2 || strcmp(g.txt[0], "mx1.example.test") != 0
            || strcmp(g.txt[1], "other.test") != 0)
            report("%s: got %zu: \"%s\" \"%s\", want mx1.example.test other.test", g.what,
                   g.n, g.n > 0 ? g.txt[0] : "", g.n > 1 ? g.txt[1] : "");
    }
    expect(&gn, DNS_NXDOMAIN, "NXDOMAIN");
    got_free(&g);
    got_free(&gn);
    assert_int_equal(failures, 0);
}

static void
test_many_records(void **state)
{
    struct fx *fx = *state;
    struct got gm = { .what = "MX many.test" }, ga = { .what = "A/AAAA many.test" };
    size_t n6 = 0;

    fx->outstanding = 2;
    dns_mx(fx->d, "many.test", got_mx, &gm);
    dns_addr(fx->d, "many.test", got_addr, &ga);
    run(fx, 8000);
    if (expect(&gm, DNS_OK, "") && gm.n != DNS_MAX_RECORDS)
        report("%s: got %zu records, want %d", gm.what, gm.n, DNS_MAX_RECORDS);
    if (expect(&ga, DNS_OK, "")) {
        for (size_t i = 0; i < ga.n; i++)
            n6 += strchr(ga.addr[i], ':') != NULL;
        /* 70 of each: half the room for each family */
        if (ga.n != DNS_MAX_RECORDS || n6 != DNS_MAX_RECORDS / 2)
            report("%s: got %zu (%zu IPv6), want %d (%d IPv6)", ga.what, ga.n, n6,
                   DNS_MAX_RECORDS, DNS_MAX_RECORDS / 2);
    }
    assert_int_equal(failures, 0);
}

/* Names that libunbound would answer from its built-in zones are asked. */
static void
test_local_zones(void **state)
{
    struct fx *fx = *state;
    size_t nn = NELEM(local_zone_names), n = nn + NELEM(local_zone_addrs);
    struct got *g = calloc(n, sizeof(*g));
    char (*names)[128] = calloc(n, sizeof(*names));
    char want[160];

    assert_non_null(g);
    assert_non_null(names);
    fx->outstanding = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (i < nn)
            snprintf(names[i], sizeof(names[i]), "%s", local_zone_names[i]);
        else
            arpa_name(local_zone_addrs[i - nn], names[i], sizeof(names[i]));
        g[i].what = names[i];
        dns_txt(fx->d, names[i], got_txt, &g[i]);
    }
    run(fx, 8000);
    for (size_t i = 0; i < n; i++) {
        snprintf(want, sizeof(want), "seen %s", i < nn ? local_zone_names[i] : local_zone_addrs[i - nn]);
        if (g[i].calls != 1 || g[i].st != DNS_OK || g[i].n != 1 || strcmp(g[i].txt[0], want) != 0)
            report("TXT %s: got %d calls, %s \"%s\", %zu records \"%s\"; want %s \"%s\"",
                   names[i], g[i].calls, status_name(g[i].st), g[i].why, g[i].n,
                   g[i].n ? g[i].txt[0] : "", "DNS_OK", want);
        got_free(&g[i]);
    }
    free(g);
    free(names);
    assert_int_equal(failures, 0);
}

/* A server that stays silent: TEMPFAIL "timeout" at the deadline. */
static void
test_silent(void **state)
{
    struct fx *fx = *state;
    struct got g[] = {
        { .what = "MX slow.test" }, { .what = "A/AAAA slow.test" }, { .what = "TXT slow.test" },
        { .what = "A/AAAA h2.test (AAAA silent)" },
    };
    struct got after = { .what = "MX example.test, after the timeouts" };
    char text[256];

    dns_set_timeout(fx->d, 1500);
    fx->outstanding = (int)NELEM(g);
    dns_mx(fx->d, "slow.test", got_mx, &g[0]);
    dns_addr(fx->d, "slow.test", got_addr, &g[1]);
    dns_txt(fx->d, "slow.test", got_txt, &g[2]);
    dns_addr(fx->d, "h2.test", got_addr, &g[3]);
    run(fx, 8000);
    for (size_t i = 0; i < 3; i++)
        expect(&g[i], DNS_TEMPFAIL, "timeout");
    /* The A record came; AAAA timed out: what came is used. */
    if (expect(&g[3], DNS_OK, "")) {
        addr_text(&g[3], text, sizeof(text));
        if (strcmp(text, " | 127.0.0.4") != 0)
            report("%s: got \"%s\", want \" | 127.0.0.4\"", g[3].what, text);
    }
    for (size_t i = 0; i < NELEM(g); i++)
        if (g[i].calls == 1 && (g[i].at < 1.4 || g[i].at > 4.0))
            report("%s: answered after %.2f s, want about 1.5 s", g[i].what, g[i].at);
    /* The silence must not make libunbound give up on the server. */
    fx->outstanding = 1;
    dns_mx(fx->d, "example.test", got_mx, &after);
    run(fx, 5000);
    expect(&after, DNS_OK, "");
    for (size_t i = 0; i < NELEM(g); i++)
        got_free(&g[i]);
    assert_int_equal(failures, 0);
}

static void
test_invalid_names(void **state)
{
    static const char *const names[] = {
        "", ".", "a..b", ".a", "a b.test", "a\\.b.test", "tab\t.test", "caf\xc3\xa9.test",
        "a\x7f.test",
        /* label of 64 */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test",
    };
    struct fx *fx = *state;
    struct got g[NELEM(names) + 1];
    char longname[300];

    memset(g, 0, sizeof(g));
    /* 254 octets of text: one more than a name may have */
    for (size_t i = 0; i < 254; i += 2)
        memcpy(longname + i, "a.", 2);
    longname[253] = 'a';
    longname[254] = '\0';
    fx->outstanding = (int)NELEM(g);
    for (size_t i = 0; i < NELEM(names); i++) {
        g[i].what = names[i];
        dns_mx(fx->d, names[i], got_mx, &g[i]);
    }
    g[NELEM(names)].what = "254-octet name";
    dns_addr(fx->d, longname, got_addr, &g[NELEM(names)]);
    /* Never from inside the call that starts the query. */
    for (size_t i = 0; i < NELEM(g); i++)
        if (g[i].calls != 0)
            report("\"%s\": callback ran before the loop did", g[i].what);
    run(fx, 3000);
    for (size_t i = 0; i < NELEM(g); i++)
        expect(&g[i], DNS_NXDOMAIN, "invalid name");
    assert_int_equal(failures, 0);
}

/* ---- lifecycles ---------------------------------------------------------- */

static void
test_cancel(void **state)
{
    struct fx *fx = *state;
    struct got c1 = { .what = "cancelled MX" }, c2 = { .what = "cancelled A/AAAA" },
               c3 = { .what = "cancelled invalid name" }, c4 = { .what = "cancelled silent" },
               ok = { .what = "MX example.test, not cancelled" };
    struct dns_query *q;

    fx->outstanding = 1;
    dns_cancel(dns_mx(fx->d, "example.test", got_mx, &c1));
    dns_cancel(dns_addr(fx->d, "mx1.example.test", got_addr, &c2));
    dns_cancel(dns_mx(fx->d, "a..b", got_mx, &c3));     /* its failure is already due */
    q = dns_mx(fx->d, "slow.test", got_mx, &c4);
    dns_mx(fx->d, "example.test", got_mx, &ok);
    run(fx, 5000);
    expect(&ok, DNS_OK, "");
    dns_cancel(q);      /* pending at libunbound for a while already */
    run_for(fx, 500);
    if (c1.calls || c2.calls || c3.calls || c4.calls)
        report("cancelled callbacks ran: %d %d %d %d, want none", c1.calls, c2.calls, c3.calls,
               c4.calls);
    assert_int_equal(failures, 0);
}

static void
test_free_pending(void **state)
{
    struct fx *fx = *state;
    struct got g[4] = { { .what = "MX example.test" }, { .what = "A/AAAA slow.test" },
                        { .what = "TXT spf.example.test" }, { .what = "invalid name" } };

    dns_mx(fx->d, "example.test", got_mx, &g[0]);
    dns_addr(fx->d, "slow.test", got_addr, &g[1]);
    dns_txt(fx->d, "spf.example.test", got_txt, &g[2]);
    dns_mx(fx->d, "", got_mx, &g[3]);
    int before[NELEM(g)];

    run_for(fx, 20);                    /* some may have come back, some not */
    for (size_t i = 0; i < NELEM(g); i++)
        before[i] = g[i].calls;
    if (g[1].calls)
        report("%s: answered, want it still pending", g[1].what);
    dns_free(fx->d);
    fx->d = NULL;
    run_for(fx, 300);                   /* nothing is left to run */
    for (size_t i = 0; i < NELEM(g); i++) {
        if (g[i].calls != before[i])
            report("%s: callback ran after dns_free", g[i].what);
        got_free(&g[i]);
    }
    assert_int_equal(failures, 0);
}

/* Callbacks may start queries, and free the resolver, with others pending. */
struct chain {
    struct fx *fx;
    struct got first, second, victims[3];
};

static void
chain_second(void *arg, enum dns_status st, struct mx_record *v, size_t n, const char *why)
{
    struct chain *c = arg;

    got_mx(&c->second, st, v, n, why);
    dns_mx(c->fx->d, "example.test", got_mx, &c->victims[1]);
    dns_txt(c->fx->d, "x.test", got_txt, &c->victims[2]);
    /* Inside libunbound's ub_process(): the free has to wait for it. */
    dns_free(c->fx->d);
    c->fx->d = NULL;
}

static void
chain_first(void *arg, enum dns_status st, struct mx_record *v, size_t n, const char *why)
{
    struct chain *c = arg;

    got_mx(&c->first, st, v, n, why);
    c->fx->outstanding++;
    dns_mx(c->fx->d, "nullmx.test", chain_second, c);
    dns_mx(c->fx->d, "slow.test", got_mx, &c->victims[0]);
}

static void
test_callbacks_reenter(void **state)
{
    struct fx *fx = *state;
    struct chain c = { .fx = fx, .first = { .what = "MX example.test" },
                       .second = { .what = "MX nullmx.test, started in a callback" },
                       .victims = { { .what = "MX slow.test, pending at the free" },
                                    { .what = "MX example.test, pending at the free" },
                                    { .what = "TXT x.test, pending at the free" } } };

    fx->outstanding = 1;
    dns_mx(fx->d, "example.test", chain_first, &c);
    run(fx, 5000);
    run_for(fx, 500);
    expect(&c.first, DNS_OK, "");
    expect(&c.second, DNS_OK, "");
    if (fx->d != NULL)
        report("the second callback did not run, so nothing was freed");
    for (size_t i = 0; i < NELEM(c.victims); i++) {
        if (c.victims[i].calls)
            report("%s: callback ran after dns_free", c.victims[i].what);
        got_free(&c.victims[i]);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_new_servers),
        cmocka_unit_test_setup_teardown(test_mx, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_negative, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_tempfail, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_addr, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_txt, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ptr, fx_setup, fx_teardown),
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test_setup_teardown(test_many_records, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_local_zones, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_silent, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_invalid_names, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cancel, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_free_pending, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_callbacks_reenter, fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, server_start, server_stop);
}
