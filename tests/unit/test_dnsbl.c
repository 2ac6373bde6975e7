/*
 * test_dnsbl - unit tests for src/policy/dnsbl.c: the query names (a
 * table, no DNS), and the asynchronous checks against a real DNS server.
 *
 * As in test_dns.c (dns_fixture.h), the group setup starts
 * tests/integration/dnsserver.py (Debian's python3-dnslib) on a free
 * loopback port with the zone below, and every test makes its own
 * event_base and dns_new(base, "127.0.0.1:PORT"), so that libunbound's
 * caches start empty. The server runs with -v and its query log goes to
 * a temporary file, so that a test can see which names were asked (the
 * TXT record only of a listing blocklist). Mismatches are reported as
 * "got ..., want ..." and each test fails at its end.
 *
 * $POSTINO_DNSSERVER overrides the path of dnsserver.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns/dns.h"
#include "policy/dnsbl.h"

#include "check.h"
#include "dns_fixture.h"

static const char *const result_names[] = { "DNSBL_CLEAN", "DNSBL_LISTED", "DNSBL_ALLOWED" };

/* result_name - the enum constant's name */
static const char *
result_name(enum dnsbl_result r)
{
    return (unsigned)r < NELEM(result_names) ? result_names[r] : "?";
}

/* ---- dnsbl_query_name: a table, no DNS --------------------------------- */

#define V6_DB8_1 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"

static void
test_query_name(void **state)
{
    static const struct {
        const char *ip;
        const char *zone;
        const char *want;       /* NULL: false */
    } cases[] = {
        /* IPv4: the octets reversed (RFC 5782 2.1) */
        { "192.0.2.99", "bl.example", "99.2.0.192.bl.example" },
        { "127.0.0.2", "zen.example.org", "2.0.0.127.zen.example.org" },
        { "0.0.0.0", "bl.example", "0.0.0.0.bl.example" },
        { "255.255.255.255", "bl.example", "255.255.255.255.bl.example" },
        { "10.20.30.40", "bl.example.", "40.30.20.10.bl.example." },
        /* IPv6: 32 nibbles, least significant first (RFC 5782 2.4) */
        { "2001:db8::1", "bl.example", V6_DB8_1 ".bl.example" },
        { "2001:DB8::1", "bl.example", V6_DB8_1 ".bl.example" },
        { "2001:0db8:0000:0000:0000:0000:0000:0001", "bl.example", V6_DB8_1 ".bl.example" },
        { "::1", "bl.example",
          "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example" },
        { "::", "bl.example",
          "0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example" },
        { "2001:db8:abcd:ef01:2345:6789:abcd:ef0f", "wl.example",
          "f.0.f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.8.b.d.0.1.0.0.2.wl.example" },
        /* IPv4-mapped IPv6: checked as the IPv4 address */
        { "::ffff:192.0.2.99", "bl.example", "99.2.0.192.bl.example" },
        { "::FFFF:127.0.0.2", "bl.example", "2.0.0.127.bl.example" },
        { "::ffff:c000:263", "bl.example", "99.2.0.192.bl.example" },
        /* IPv4-compatible (deprecated) is plain IPv6 */
        { "::192.0.2.99", "bl.example",
          "3.6.2.0.0.0.0.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl.example" },
        /* not addresses */
        { "", "bl.example", NULL },
        { "192.0.2", "bl.example", NULL },
        { "192.0.2.256", "bl.example", NULL },
        { "192.0.2.1.5", "bl.example", NULL },
        { "192.000.002.001", "bl.example", NULL },
        { " 192.0.2.1", "bl.example", NULL },
        { "192.0.2.1 ", "bl.example", NULL },
        { "192.0.2.1\n", "bl.example", NULL },
        { "[::1]", "bl.example", NULL },
        { "2001:db8::1::2", "bl.example", NULL },
        { "2001:db8::g", "bl.example", NULL },
        { "fe80::1%lo", "bl.example", NULL },
        { "mail.example.org", "bl.example", NULL },
        { "192.0.2.0/24", "bl.example", NULL },
        { NULL, "bl.example", NULL },
        /* no zone */
        { "192.0.2.1", "", NULL },
        { "192.0.2.1", ".bl.example", NULL },
        { "192.0.2.1", NULL, NULL },
    };
    char out[512];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        bool ok;

        memset(out, 'X', sizeof(out));
        ok = dnsbl_query_name(cases[i].ip, cases[i].zone, out, sizeof(out));
        if (ok != (cases[i].want != NULL))
            report("dnsbl_query_name(\"%s\", \"%s\"): got %s \"%.*s\", want %s",
                   cases[i].ip ? cases[i].ip : "(null)", cases[i].zone ? cases[i].zone : "(null)",
                   ok ? "true" : "false", ok ? 300 : 0, out, cases[i].want ? "true" : "false");
        else if (ok && strcmp(out, cases[i].want) != 0)
            report("dnsbl_query_name(\"%s\", \"%s\"): got \"%s\", want \"%s\"", cases[i].ip,
                   cases[i].zone, out, cases[i].want);
        else if (!ok && out[0] != '\0')
            report("dnsbl_query_name(\"%s\", ...): false, and out not \"\"",
                   cases[i].ip ? cases[i].ip : "(null)");
    }
    assert_int_equal(failures, 0);
}

/* The output buffer: exactly big enough, one short, nothing. */
static void
test_query_name_small(void **state)
{
    static const struct {
        const char *ip;
        const char *want;
    } cases[] = {
        { "192.0.2.99", "99.2.0.192.bl.example" },
        { "2001:db8::1", V6_DB8_1 ".bl.example" },
        { "::ffff:192.0.2.99", "99.2.0.192.bl.example" },
    };
    char out[256];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t len = strlen(cases[i].want);

        memset(out, 'X', sizeof(out));
        if (!dnsbl_query_name(cases[i].ip, "bl.example", out, len + 1) ||
            strcmp(out, cases[i].want) != 0)
            report("%s with %zu octets: got \"%.*s\", want \"%s\"", cases[i].ip, len + 1,
                   (int)len, out, cases[i].want);
        memset(out, 'X', sizeof(out));
        if (dnsbl_query_name(cases[i].ip, "bl.example", out, len))
            report("%s with %zu octets: got true, want false", cases[i].ip, len);
        else if (out[0] != '\0')
            report("%s with %zu octets: out not \"\" after false", cases[i].ip, len);
        if (out[len] != 'X')
            report("%s with %zu octets: wrote past the end", cases[i].ip, len);
        memset(out, 'X', sizeof(out));
        if (dnsbl_query_name(cases[i].ip, "bl.example", out, 1) || out[0] != '\0')
            report("%s with 1 octet: got true or out not \"\"", cases[i].ip);
        if (dnsbl_query_name(cases[i].ip, "bl.example", out, 0) || out[0] != '\0')
            report("%s with 0 octets: got true or wrote", cases[i].ip);
    }
    assert_int_equal(failures, 0);
}

/* ---- the DNS server ------------------------------------------------------ */

static char query_log[64];          /* the server's stderr: one line per query */

#define LONG_A "%0150d"
#define LONG_B "%0150d"

/* zone_text - the test zone, in dnsserver.py's text format */
static char *
zone_text(void)
{
    static const char fixed[] =
        /* bl.test: the blocklist; 192.0.2.1 without a reason */
        "1.2.0.192.bl.test.  A    127.0.0.2\n"
        "2.2.0.192.bl.test.  A    127.0.0.4\n"
        "2.2.0.192.bl.test.  TXT  \"Listed by bl.test, see https://bl.test/q?ip=192.0.2.2\"\n"
        "2.0.0.127.bl.test.  A    127.0.0.2\n"
        "2.0.0.127.bl.test.  TXT  \"RFC 5782 test address\"\n"
        V6_DB8_1 ".bl.test. A 127.0.0.2\n"
        V6_DB8_1 ".bl.test. TXT \"v6 listed\"\n"
        /* answers that do not list */
        "3.2.0.192.bl.test.  A    127.255.255.254\n"
        "3.2.0.192.bl.test.  TXT  \"refused: must not be asked\"\n"
        "12.2.0.192.bl.test. A    127.255.255.0\n"
        "4.2.0.192.bl.test.  A    10.0.0.2\n"
        "4.2.0.192.bl.test.  TXT  \"not 127: must not be asked\"\n"
        "5.2.0.192.bl.test.  AAAA ::1\n"
        "5.2.0.192.bl.test.  AAAA ::ffff:7f00:2\n"
        /* a listing among codes that do not list */
        "6.2.0.192.bl.test.  A    127.255.255.252\n"
        "6.2.0.192.bl.test.  A    192.0.2.6\n"
        "6.2.0.192.bl.test.  A    127.0.0.10\n"
        "6.2.0.192.bl.test.  AAAA ::1\n"
        /* reasons: controls, non-ASCII and NUL; several records; too long */
        "7.2.0.192.bl.test.  A    127.0.0.2\n"
        "7.2.0.192.bl.test.  TXT  \"a\\011b\\015\\012c\\303\\251d\\000e\" \"f\\\"g\\177h\"\n"
        "10.2.0.192.bl.test. A    127.0.0.2\n"
        "10.2.0.192.bl.test. TXT  \"one\"\n"
        "10.2.0.192.bl.test. TXT  \"two\"\n"
        "8.2.0.192.bl.test.  A    127.0.0.2\n"
        "8.2.0.192.bl.test.  SERVFAIL TXT\n"
        "9.2.0.192.bl.test.  A    127.0.0.2\n"
        "9.2.0.192.bl.test.  SILENT TXT\n"
        /* bl2.test: a second blocklist with reasons of its own */
        "1.2.0.192.bl2.test. A    127.0.0.3\n"
        "1.2.0.192.bl2.test. TXT  \"bl2 says 192.0.2.1\"\n"
        "2.2.0.192.bl2.test. A    127.0.0.3\n"
        "2.2.0.192.bl2.test. TXT  \"bl2 says 192.0.2.2\"\n"
        /* wl.test: the allowlist */
        "1.2.0.192.wl.test.  A    127.0.0.2\n"
        "1.2.0.192.wl.test.  TXT  \"allowlist: must not be asked\"\n"
        "2.0.0.127.wl.test.  A    127.0.0.2\n"
        "3.2.0.192.wl.test.  A    127.255.255.255\n"
        /* zones that fail */
        "*.broken.test.      SERVFAIL\n"
        "*.slow.test.        SILENT\n"
        "*.all.test.         A    127.0.0.2\n";
    size_t cap = 16 * 1024, o = 0;
    char *s = malloc(cap);

    assert_non_null(s);
    o += (size_t)snprintf(s + o, cap - o, "%s", fixed);
    /* 300 characters in one record, more than a reason may have */
    o += (size_t)snprintf(s + o, cap - o,
                          "11.2.0.192.bl.test. A 127.0.0.2\n"
                          "11.2.0.192.bl.test. TXT \"" LONG_A "\" \"" LONG_B "\"\n", 1, 2);
    assert_true(o < cap - 1);
    return s;
}

/* server_start - run dnsserver.py -v with the zone above, its log to a file */
static int
server_start(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char *zone;
    int logfd, rc;

    (void)state;
    snprintf(query_log, sizeof(query_log), "%s/test_dnsbl.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if ((logfd = mkstemp(query_log)) < 0)
        return -1;
    zone = zone_text();
    rc = dnsserver_start(zone, logfd);
    free(zone);
    close(logfd);
    return rc;
}

/* server_stop - stop it; remove the log */
static int
server_stop(void **state)
{
    (void)state;
    dnsserver_stop();
    if (query_log[0])
        unlink(query_log);
    return 0;
}

/* asked - did the server get a query "name TYPE" (name with its final dot) */
static bool
asked(const char *name, const char *type)
{
    char want[300], line[512];
    FILE *f = fopen(query_log, "r");
    bool found = false;

    assert_non_null(f);
    snprintf(want, sizeof(want), " %s %s\n", name, type);
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, want) != NULL;
    fclose(f);
    return found;
}

/* ---- callbacks ----------------------------------------------------------- */

/* A callback's record of what it was given. */
struct got {
    const char         *what;
    int                 calls;
    enum dnsbl_result   r;
    char                zone[300];
    char                reason[300];
    double              at;             /* seconds after the test began */
};

/* got_cb - the dnsbl_cb of the tests: record, check the arguments */
static void
got_cb(void *arg, enum dnsbl_result r, const char *zone, const char *reason)
{
    struct got *g = arg;

    g->calls++;
    if (g->calls > 1)
        report("%s: callback ran %d times, want once", g->what, g->calls);
    g->r = r;
    g->at = now() - cur->t0;
    if (zone == NULL || reason == NULL) {
        report("%s: zone %s, reason %s; want strings", g->what, zone ? "set" : "NULL",
               reason ? "set" : "NULL");
    } else {
        snprintf(g->zone, sizeof(g->zone), "%s", zone);
        snprintf(g->reason, sizeof(g->reason), "%s", reason);
        if (strlen(reason) > 200)
            report("%s: reason of %zu characters, want at most 200", g->what, strlen(reason));
        for (const char *p = reason; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
                report("%s: reason has octet 0x%02x, want printable ASCII", g->what,
                       (unsigned char)*p);
                break;
            }
    }
    if (--cur->outstanding == 0)
        event_base_loopexit(cur->base, NULL);
}

/* expect - one call with result r, zone and reason (NULL: any) */
static bool
expect(const struct got *g, enum dnsbl_result r, const char *zone, const char *reason)
{
    if (g->calls != 1) {
        report("%s: callback ran %d times, want once", g->what, g->calls);
        return false;
    }
    if (g->r != r || (zone && strcmp(g->zone, zone) != 0) ||
        (reason && strcmp(g->reason, reason) != 0)) {
        report("%s: got %s \"%s\" \"%s\", want %s \"%s\" \"%s\"", g->what, result_name(g->r),
               g->zone, g->reason, result_name(r), zone ? zone : "...", reason ? reason : "...");
        return false;
    }
    return true;
}

/* ---- results ------------------------------------------------------------- */

#define ZONES(...) ((char *const[]){ __VA_ARGS__, NULL })
#define NONE ((char *const[]){ NULL })

static void
test_start_nothing(void **state)
{
    struct fx *fx = *state;
    struct got g = { .what = "nothing to ask" };
    struct dnsbl_check *c;

    /* no zones, or no address: NULL, and no callback ever */
    if ((c = dnsbl_check_start(fx->d, "192.0.2.1", NONE, NONE, got_cb, &g)) != NULL)
        report("no zones: got a check, want NULL");
    dnsbl_check_cancel(c);
    if ((c = dnsbl_check_start(fx->d, "192.0.2.1", NULL, NULL, got_cb, &g)) != NULL)
        report("NULL lists: got a check, want NULL");
    dnsbl_check_cancel(c);
    if ((c = dnsbl_check_start(fx->d, "192.0.2.1", ZONES(""), ZONES(""), got_cb, &g)) != NULL)
        report("empty zone names: got a check, want NULL");
    dnsbl_check_cancel(c);
    static const char *const bad[] = { "", "bogus", "192.0.2", "[192.0.2.1]", "::1::", NULL };
    for (size_t i = 0; i < NELEM(bad); i++) {
        c = dnsbl_check_start(fx->d, bad[i], ZONES("bl.test"), ZONES("wl.test"), got_cb, &g);
        if (c != NULL)
            report("ip \"%s\": got a check, want NULL", bad[i] ? bad[i] : "(null)");
        dnsbl_check_cancel(c);
    }
    dnsbl_check_cancel(NULL);
    run_for(fx, 300);
    if (g.calls != 0)
        report("%s: callback ran %d times, want never", g.what, g.calls);
    assert_int_equal(failures, 0);
}

static void
test_results(void **state)
{
    static char long_reason[201];
    /* automatic: the zone lists are compound literals */
    const struct {
        const char        *ip;
        char *const       *bl;
        char *const       *wl;
        enum dnsbl_result  r;
        const char        *zone;
        const char        *reason;     /* NULL: long_reason */
    } cases[] = {
        /* listed, without and with a reason */
        { "192.0.2.1", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", "" },
        { "192.0.2.2", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test",
          "Listed by bl.test, see https://bl.test/q?ip=192.0.2.2" },
        { "127.0.0.2", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", "RFC 5782 test address" },
        { "::ffff:127.0.0.2", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test",
          "RFC 5782 test address" },
        { "2001:db8::1", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", "v6 listed" },
        { "192.0.2.1", ZONES("bl.test."), NONE, DNSBL_LISTED, "bl.test.", "" },
        { "192.0.2.1", ZONES("BL.Test"), NONE, DNSBL_LISTED, "BL.Test", "" },
        { "192.0.2.77", ZONES("all.test"), NONE, DNSBL_LISTED, "all.test", "" },
        /* clean: not there, or answers that do not list */
        { "192.0.2.99", ZONES("bl.test"), NONE, DNSBL_CLEAN, "", "" },
        { "2001:db8::99", ZONES("bl.test"), NONE, DNSBL_CLEAN, "", "" },
        { "192.0.2.3", ZONES("bl.test"), NONE, DNSBL_CLEAN, "", "" },     /* 127.255.255.254 */
        { "192.0.2.12", ZONES("bl.test"), NONE, DNSBL_CLEAN, "", "" },    /* 127.255.255.0 */
        { "192.0.2.4", ZONES("bl.test"), NONE, DNSBL_CLEAN, "", "" },     /* 10.0.0.2 */
        { "192.0.2.5", ZONES("bl.test"), NONE, DNSBL_CLEAN, "", "" },     /* AAAA only */
        { "192.0.2.6", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", "" }, /* 127.0.0.10 among others */
        /* a list that fails does not list */
        { "192.0.2.1", ZONES("broken.test"), NONE, DNSBL_CLEAN, "", "" },
        { "192.0.2.1", ZONES("broken.test", "bl.test"), NONE, DNSBL_LISTED, "bl.test", "" },
        { "192.0.2.1", ZONES("bl.test"), ZONES("broken.test"), DNSBL_LISTED, "bl.test", "" },
        /* the first listing zone in the configured order is named */
        { "192.0.2.1", ZONES("bl2.test", "bl.test"), NONE, DNSBL_LISTED, "bl2.test",
          "bl2 says 192.0.2.1" },
        { "192.0.2.1", ZONES("bl.test", "bl2.test"), NONE, DNSBL_LISTED, "bl.test", "" },
        { "192.0.2.2", ZONES("bl.test", "bl2.test"), NONE, DNSBL_LISTED, "bl.test",
          "Listed by bl.test, see https://bl.test/q?ip=192.0.2.2" },
        { "192.0.2.2", ZONES("bl2.test", "bl.test"), NONE, DNSBL_LISTED, "bl2.test",
          "bl2 says 192.0.2.2" },
        { "192.0.2.2", ZONES("wl.test", "bl2.test"), NONE, DNSBL_LISTED, "bl2.test",
          "bl2 says 192.0.2.2" },
        /* an allowlist wins */
        { "192.0.2.1", ZONES("bl.test"), ZONES("wl.test"), DNSBL_ALLOWED, "wl.test", "" },
        { "192.0.2.1", ZONES("bl2.test", "bl.test", "all.test"), ZONES("broken.test", "wl.test"),
          DNSBL_ALLOWED, "wl.test", "" },
        { "127.0.0.2", ZONES("bl.test"), ZONES("wl.test"), DNSBL_ALLOWED, "wl.test", "" },
        { "192.0.2.1", NONE, ZONES("wl.test"), DNSBL_ALLOWED, "wl.test", "" },
        { "192.0.2.2", NONE, ZONES("wl.test"), DNSBL_CLEAN, "", "" },
        { "192.0.2.2", ZONES("bl.test"), ZONES("wl.test"), DNSBL_LISTED, "bl.test",
          "Listed by bl.test, see https://bl.test/q?ip=192.0.2.2" },
        { "192.0.2.3", ZONES("bl2.test"), ZONES("wl.test"), DNSBL_CLEAN, "", "" }, /* 127.255.255.255 */
        /* reasons */
        { "192.0.2.7", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", "a?b??c????d?ef\"g?h" },
        { "192.0.2.8", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", "" },   /* TXT SERVFAIL */
        { "192.0.2.11", ZONES("bl.test"), NONE, DNSBL_LISTED, "bl.test", NULL }, /* 300 -> 200 */
    };
    struct fx *fx = *state;
    struct got g[NELEM(cases)], several = { .what = "192.0.2.10 in bl.test (two TXT records)" };
    char what[NELEM(cases)][128], full[400];

    snprintf(full, sizeof(full), LONG_A LONG_B, 1, 2);
    snprintf(long_reason, sizeof(long_reason), "%.200s", full);
    memset(g, 0, sizeof(g));
    fx->outstanding = (int)NELEM(cases) + 1;
    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(what[i], sizeof(what[i]), "case %zu: %s in bl %s%s, wl %s%s", i, cases[i].ip,
                 cases[i].bl[0] ? cases[i].bl[0] : "-", cases[i].bl[0] && cases[i].bl[1] ? "..." : "",
                 cases[i].wl[0] ? cases[i].wl[0] : "-", cases[i].wl[0] && cases[i].wl[1] ? "..." : "");
        g[i].what = what[i];
        if (dnsbl_check_start(fx->d, cases[i].ip, cases[i].bl, cases[i].wl, got_cb, &g[i]) == NULL)
            report("%s: got NULL, want a check", g[i].what);
    }
    assert_non_null(dnsbl_check_start(fx->d, "192.0.2.10", ZONES("bl.test"), NONE, got_cb,
                                      &several));
    /* Never from inside the call that starts the check. */
    for (size_t i = 0; i < NELEM(g); i++)
        if (g[i].calls != 0)
            report("%s: callback ran before the loop did", g[i].what);
    run(fx, 8000);
    for (size_t i = 0; i < NELEM(cases); i++)
        expect(&g[i], cases[i].r, cases[i].zone, cases[i].reason ? cases[i].reason : long_reason);
    /* The records of an RRset come in any order. */
    if (expect(&several, DNSBL_LISTED, "bl.test", NULL) && strcmp(several.reason, "one two") != 0 &&
        strcmp(several.reason, "two one") != 0)
        report("%s: got reason \"%s\", want \"one two\" or \"two one\"", several.what, several.reason);
    run_for(fx, 200);           /* no second callback */
    for (size_t i = 0; i < NELEM(cases); i++)
        if (g[i].calls > 1)
            report("%s: callback ran %d times, want once", g[i].what, g[i].calls);
    assert_int_equal(failures, 0);
}

/* The TXT record is asked only of a blocklist zone that lists the client. */
static void
test_txt_only_when_listed(void **state)
{
    struct fx *fx = *state;
    struct got g[4] = { { .what = "192.0.2.3 (127.255.255.254)" }, { .what = "192.0.2.4 (10.0.0.2)" },
                        { .what = "192.0.2.1 allowlisted" }, { .what = "192.0.2.2 listed" } };

    fx->outstanding = 4;
    dnsbl_check_start(fx->d, "192.0.2.3", ZONES("bl.test"), NONE, got_cb, &g[0]);
    dnsbl_check_start(fx->d, "192.0.2.4", ZONES("bl.test"), NONE, got_cb, &g[1]);
    dnsbl_check_start(fx->d, "192.0.2.1", NONE, ZONES("wl.test"), got_cb, &g[2]);
    dnsbl_check_start(fx->d, "192.0.2.2", ZONES("bl.test"), NONE, got_cb, &g[3]);
    run(fx, 5000);
    expect(&g[0], DNSBL_CLEAN, "", "");
    expect(&g[1], DNSBL_CLEAN, "", "");
    expect(&g[2], DNSBL_ALLOWED, "wl.test", "");
    expect(&g[3], DNSBL_LISTED, "bl.test", NULL);
    if (!asked("2.2.0.192.bl.test.", "A") || !asked("2.2.0.192.bl.test.", "TXT"))
        report("192.0.2.2 in bl.test: A and TXT not both asked, want both");
    static const char *const never[] = { "3.2.0.192.bl.test.", "4.2.0.192.bl.test.",
                                         "1.2.0.192.wl.test." };
    for (size_t i = 0; i < NELEM(never); i++)
        if (asked(never[i], "TXT"))
            report("TXT %s was asked, want not (the zone does not list, or allows)", never[i]);
    assert_int_equal(failures, 0);
}

/* A list that stays silent counts as not listed at the DNS deadline. */
static void
test_timeout(void **state)
{
    struct fx *fx = *state;
    struct got g[] = { { .what = "192.0.2.1 in slow.test" },
                       { .what = "192.0.2.1 in slow.test and bl.test" },
                       { .what = "192.0.2.9 (TXT silent)" } };

    dns_set_timeout(fx->d, 1000);
    fx->outstanding = (int)NELEM(g);
    dnsbl_check_start(fx->d, "192.0.2.1", ZONES("slow.test"), NONE, got_cb, &g[0]);
    dnsbl_check_start(fx->d, "192.0.2.1", ZONES("slow.test", "bl.test"), NONE, got_cb, &g[1]);
    dnsbl_check_start(fx->d, "192.0.2.9", ZONES("bl.test"), NONE, got_cb, &g[2]);
    run(fx, 6000);
    expect(&g[0], DNSBL_CLEAN, "", "");
    /* every zone answers (or fails) before a listing is reported */
    expect(&g[1], DNSBL_LISTED, "bl.test", "");
    /* the reason times out: listed without one */
    expect(&g[2], DNSBL_LISTED, "bl.test", "");
    for (size_t i = 0; i < NELEM(g); i++)
        if (g[i].calls == 1 && (g[i].at < 0.9 || g[i].at > 4.0))
            report("%s: answered after %.2f s, want about 1 s", g[i].what, g[i].at);
    assert_int_equal(failures, 0);
}

/* An allowlist answers at once, without waiting for a silent blocklist. */
static void
test_allowlist_at_once(void **state)
{
    struct fx *fx = *state;
    struct got g = { .what = "192.0.2.1 in slow.test, bl.test; wl.test" };

    dns_set_timeout(fx->d, 5000);
    fx->outstanding = 1;
    dnsbl_check_start(fx->d, "192.0.2.1", ZONES("slow.test", "bl.test"), ZONES("wl.test"),
                      got_cb, &g);
    run(fx, 8000);
    expect(&g, DNSBL_ALLOWED, "wl.test", "");
    if (g.calls == 1 && g.at > 2.5)
        report("%s: answered after %.2f s, want before the blocklist's deadline", g.what, g.at);
    run_for(fx, 200);
    assert_int_equal(failures, 0);
}

/* ---- lifecycles ---------------------------------------------------------- */

static void
test_cancel(void **state)
{
    struct fx *fx = *state;
    struct got c[4] = { { .what = "cancelled at once" }, { .what = "cancelled while silent" },
                        { .what = "cancelled with its TXT pending" },
                        { .what = "cancelled, allowlist" } };
    struct got ok = { .what = "192.0.2.2, not cancelled" };
    struct dnsbl_check *k[4];
    double deadline;

    dns_set_timeout(fx->d, 2000);
    k[0] = dnsbl_check_start(fx->d, "192.0.2.2", ZONES("bl.test", "bl2.test"), ZONES("wl.test"),
                             got_cb, &c[0]);
    k[1] = dnsbl_check_start(fx->d, "192.0.2.1", ZONES("slow.test"), NONE, got_cb, &c[1]);
    k[2] = dnsbl_check_start(fx->d, "192.0.2.9", ZONES("bl.test"), NONE, got_cb, &c[2]);
    k[3] = dnsbl_check_start(fx->d, "192.0.2.1", ZONES("slow.test"), ZONES("wl.test", "slow.test"),
                             got_cb, &c[3]);
    for (size_t i = 0; i < NELEM(k); i++)
        assert_non_null(k[i]);
    dnsbl_check_cancel(k[0]);
    dnsbl_check_cancel(k[3]);
    fx->outstanding = 1;
    dnsbl_check_start(fx->d, "192.0.2.2", ZONES("bl.test"), NONE, got_cb, &ok);
    run(fx, 5000);
    expect(&ok, DNSBL_LISTED, "bl.test", NULL);
    /* wait until the listing's TXT query is out (and stays unanswered) */
    deadline = now() + 5;
    while (!asked("9.2.0.192.bl.test.", "TXT") && now() < deadline)
        run_for(fx, 20);
    if (!asked("9.2.0.192.bl.test.", "TXT"))
        report("TXT 9.2.0.192.bl.test. never asked");
    /* (unless they ended already, which is reported below) */
    if (c[2].calls == 0)
        dnsbl_check_cancel(k[2]);
    if (c[1].calls == 0)
        dnsbl_check_cancel(k[1]);
    run_for(fx, 2500);      /* past the DNS deadline of what was cancelled */
    for (size_t i = 0; i < NELEM(c); i++)
        if (c[i].calls != 0)
            report("%s: callback ran %d times, want never", c[i].what, c[i].calls);
    assert_int_equal(failures, 0);
}

/*
 * The callback may free what owns the check, cancel other checks, start
 * new ones and free the resolver: the check is gone before it runs.
 */
struct owner {
    struct fx          *fx;
    struct dnsbl_check *check;
    struct owner       *other;      /* another owner, freed by this one's callback */
    struct got         *g;
    struct got         *next;       /* a check started from the callback */
    bool                free_dns;
};

static void
owner_cb(void *arg, enum dnsbl_result r, const char *zone, const char *reason)
{
    struct owner *o = arg;
    struct fx *fx = o->fx;

    got_cb(o->g, r, zone, reason);
    if (o->other) {
        dnsbl_check_cancel(o->other->check);
        free(o->other);
    }
    if (o->next) {
        struct owner *n = calloc(1, sizeof(*n));

        assert_non_null(n);
        n->fx = fx;
        n->g = o->next;
        n->free_dns = true;
        fx->outstanding++;
        n->check = dnsbl_check_start(fx->d, "192.0.2.2", ZONES("bl2.test", "bl.test"),
                                     ZONES("broken.test"), owner_cb, n);
        if (n->check == NULL)
            report("check started in a callback: got NULL");
    }
    if (o->free_dns) {
        /* the last check: nothing else uses the resolver */
        dns_free(fx->d);
        fx->d = NULL;
    }
    memset(o, 0xa5, sizeof(*o));
    free(o);
}

static void
test_callback_frees_owner(void **state)
{
    struct fx *fx = *state;
    struct got ga = { .what = "owner a" }, gb = { .what = "owner b, freed by a" },
               gc = { .what = "owner c, started by a" };
    struct owner *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

    assert_non_null(a);
    assert_non_null(b);
    *a = (struct owner){ .fx = fx, .other = b, .g = &ga, .next = &gc };
    *b = (struct owner){ .fx = fx, .g = &gb };
    a->check = dnsbl_check_start(fx->d, "192.0.2.2", ZONES("bl.test"), NONE, owner_cb, a);
    b->check = dnsbl_check_start(fx->d, "192.0.2.1", ZONES("slow.test"), NONE, owner_cb, b);
    assert_non_null(a->check);
    assert_non_null(b->check);
    fx->outstanding = 1;
    run(fx, 5000);
    run(fx, 5000);              /* c, started from a's callback */
    run_for(fx, 300);
    expect(&ga, DNSBL_LISTED, "bl.test", "Listed by bl.test, see https://bl.test/q?ip=192.0.2.2");
    expect(&gc, DNSBL_LISTED, "bl2.test", "bl2 says 192.0.2.2");
    if (gb.calls != 0)
        report("%s: callback ran after its check was cancelled", gb.what);
    if (fx->d != NULL)
        report("c's callback did not run, so the resolver was not freed");
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_name),
        cmocka_unit_test(test_query_name_small),
        cmocka_unit_test_setup_teardown(test_start_nothing, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_results, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_txt_only_when_listed, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_allowlist_at_once, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_cancel, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_callback_frees_owner, fx_setup, fx_teardown),
    };

    return cmocka_run_group_tests(tests, server_start, server_stop);
}
