/*
 * test_rdata - unit tests for src/dns/rdata.c: decoding MX, TXT, A and
 * AAAA record data, which comes from the network and is hostile.
 *
 * Table-driven: each row is the raw record data (with its length, as it
 * may hold NUL octets) and the expected result; every mismatch is reported
 * as "got ..., want ..." and the test fails at the end.
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

#include "dns/rdata.h"

#include "check.h"

/* B - a byte string literal and its length, NULs included */
#define B(s) (const unsigned char *)(s), sizeof(s) - 1

struct mx_case {
    const char          *what;
    const unsigned char *data;
    size_t               len;
    bool                 ok;
    unsigned             pref;
    const char          *host;
};

static void
test_rdata_mx(void **state)
{
    static const struct mx_case cases[] = {
        { "plain", B("\x00\x0a\x03mx1\x07""example\x04test\x00"), true, 10, "mx1.example.test" },
        { "upper case", B("\x00\x14\x03MX2\x04Test\x00"), true, 20, "mx2.test" },
        { "null MX", B("\x00\x00\x00"), true, 0, "" },
        { "pref 65535", B("\xff\xff\x01""a\x00"), true, 65535, "a" },
        { "dot among allowed octets", B("\x00\x01\x07_a-1.b2\x00"), false, 0, NULL },
        { "underscore", B("\x00\x01\x05_a-12\x02""b2\x00"), true, 1, "_a-12.b2" },
        { "empty", B(""), false, 0, NULL },
        { "pref only", B("\x00\x0a"), false, 0, NULL },
        { "half pref", B("\x00"), false, 0, NULL },
        { "no root label", B("\x00\x0a\x01""a"), false, 0, NULL },
        { "label past end", B("\x00\x0a\x05""ab"), false, 0, NULL },
        { "label to end, no root", B("\x00\x0a\x02""ab"), false, 0, NULL },
        { "data after name", B("\x00\x0a\x01""a\x00\x00"), false, 0, NULL },
        { "compression pointer", B("\x00\x0a\xc0\x0c"), false, 0, NULL },
        { "pointer after label", B("\x00\x0a\x01""a\xc0\x0c"), false, 0, NULL },
        { "label type 01", B("\x00\x0a\x41""a\x00"), false, 0, NULL },
        { "label type 10", B("\x00\x0a\x81""a\x00"), false, 0, NULL },
        { "dot in label", B("\x00\x0a\x03""a.b\x00"), false, 0, NULL },
        { "space in label", B("\x00\x0a\x03""a b\x00"), false, 0, NULL },
        { "NUL in label", B("\x00\x0a\x03""a\x00""b\x00"), false, 0, NULL },
        { "backslash in label", B("\x00\x0a\x03""a\\b\x00"), false, 0, NULL },
        { "8-bit octet", B("\x00\x0a\x03""a\xff""b\x00"), false, 0, NULL },
        { "control octet", B("\x00\x0a\x03""a\x01""b\x00"), false, 0, NULL },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        const struct mx_case *c = &cases[i];
        struct mx_record r;
        bool ok;

        memset(&r, 'X', sizeof(r));
        ok = dns_rdata_mx(c->data, c->len, &r);
        if (ok != c->ok)
            report("%s: dns_rdata_mx: got %s, want %s", c->what, ok ? "true" : "false",
                   c->ok ? "true" : "false");
        else if (ok && (r.pref != c->pref || strcmp(r.host, c->host) != 0))
            report("%s: got %u \"%s\", want %u \"%s\"", c->what, r.pref, r.host, c->pref,
                   c->host);
    }
    assert_int_equal(failures, 0);
}

/* put_name - a name of labels of the given lengths ('a'...), then the root */
static size_t
put_name(unsigned char *p, const size_t *labs, size_t nlabs)
{
    size_t off = 0;

    for (size_t i = 0; i < nlabs; i++) {
        p[off++] = (unsigned char)labs[i];
        memset(p + off, 'a' + (int)i, labs[i]);
        off += labs[i];
    }
    p[off++] = 0;
    return off;
}

static void
test_rdata_name_limits(void **state)
{
    static const struct {
        const char *what;
        size_t      labs[5];
        size_t      nlabs;
        bool        ok;
        size_t      textlen;
    } cases[] = {
        { "label of 63", { 63 }, 1, true, 63 },
        { "label of 64", { 64 }, 1, false, 0 },
        /* 3 * (1 + 63) + (1 + 61) + 1 = 255 octets: the longest name */
        { "255 octets", { 63, 63, 63, 61 }, 4, true, 63 * 3 + 61 + 3 },
        { "256 octets", { 63, 63, 63, 62 }, 4, false, 0 },
        { "257 octets", { 63, 63, 63, 63 }, 4, false, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        unsigned char buf[400];
        char out[MX_HOST_MAX + 1];
        size_t len = put_name(buf, cases[i].labs, cases[i].nlabs), used = 0;
        bool ok = dns_rdata_name(buf, len, &used, out, sizeof(out));

        if (ok != cases[i].ok)
            report("%s: dns_rdata_name: got %d, want %d", cases[i].what, ok, cases[i].ok);
        else if (ok && (strlen(out) != cases[i].textlen || used != len))
            report("%s: got text length %zu, used %zu; want %zu, %zu", cases[i].what,
                   strlen(out), used, cases[i].textlen, len);
    }

    /* A text buffer too small is a failure, never an overflow. */
    {
        static const size_t labs[] = { 10, 10 };
        unsigned char buf[64];
        char out[22];       /* "aaaaaaaaaa.bbbbbbbbbb" and its NUL */
        size_t len = put_name(buf, labs, 2), used;

        if (dns_rdata_name(buf, len, &used, out, sizeof(out) - 1))
            report("small buffer: got true, want false");
        if (!dns_rdata_name(buf, len, &used, out, sizeof(out)) || strcmp(out, "aaaaaaaaaa.bbbbbbbbbb") != 0)
            report("exact buffer: got \"%s\", want \"aaaaaaaaaa.bbbbbbbbbb\"", out);
        if (dns_rdata_name(buf, len, &used, out, 0))
            report("no buffer: got true, want false");
    }
    assert_int_equal(failures, 0);
}

struct txt_case {
    const char          *what;
    const unsigned char *data;
    size_t               len;
    const char          *want;     /* NULL: malformed */
};

static void
test_rdata_txt(void **state)
{
    static const struct txt_case cases[] = {
        { "one string", B("\x05hello"), "hello" },
        { "SPF in two", B("\x07v=spf1 \x04-all"), "v=spf1 -all" },
        { "three", B("\x01""a\x00\x02""bc"), "abc" },
        { "empty string", B("\x00"), "" },
        { "NUL inside", B("\x03""a\x00""b"), "a\x7f""b" },
        { "no string", B(""), NULL },
        { "length past end", B("\x05hel"), NULL },
        { "second past end", B("\x02""ab\x05""c"), NULL },
        { "length alone", B("\x02""ab\x01"), NULL },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        const struct txt_case *c = &cases[i];
        char *got = dns_rdata_txt(c->data, c->len);

        if ((got == NULL) != (c->want == NULL) || (got && strcmp(got, c->want) != 0))
            report("%s: got \"%s\", want \"%s\"", c->what, got ? got : "(malformed)",
                   c->want ? c->want : "(malformed)");
        free(got);
    }

    /* The longest string there can be, several times over. */
    {
        unsigned char buf[3 * 256];
        char *got;

        for (size_t k = 0; k < 3; k++) {
            buf[k * 256] = 255;
            memset(buf + k * 256 + 1, 'x' + (int)k, 255);
        }
        got = dns_rdata_txt(buf, sizeof(buf));
        if (got == NULL || strlen(got) != 765 || got[0] != 'x' || got[255] != 'y' ||
            got[764] != 'z')
            report("3 x 255: got %zu octets, want 765", got ? strlen(got) : 0);
        free(got);
    }
    assert_int_equal(failures, 0);
}

static void
test_rdata_addr(void **state)
{
    static const struct {
        const char          *what;
        int                  family;
        const unsigned char *data;
        size_t               len;
        const char          *want;     /* NULL: refused */
    } cases[] = {
        { "A", AF_INET, B("\x7f\x00\x00\x02"), "127.0.0.2" },
        { "A short", AF_INET, B("\x7f\x00\x00"), NULL },
        { "A long", AF_INET, B("\x7f\x00\x00\x02\x00"), NULL },
        { "A empty", AF_INET, B(""), NULL },
        { "AAAA", AF_INET6, B("\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"), "2001:db8::1" },
        { "AAAA as A", AF_INET6, B("\x7f\x00\x00\x02"), NULL },
        { "AAAA long", AF_INET6, B("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01\x00"), NULL },
        { "A of 16", AF_INET, B("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"), NULL },
        { "other family", AF_UNIX, B("\x7f\x00\x00\x02"), NULL },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct sockaddr_storage ss;
        char text[INET6_ADDRSTRLEN] = "(refused)";
        bool ok = dns_rdata_addr(cases[i].family, cases[i].data, cases[i].len, &ss);

        if (ok && ss.ss_family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;

            inet_ntop(AF_INET, &sin->sin_addr, text, sizeof(text));
            if (sin->sin_port != 0)
                report("%s: port got %u, want 0", cases[i].what, ntohs(sin->sin_port));
        } else if (ok && ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;

            inet_ntop(AF_INET6, &sin6->sin6_addr, text, sizeof(text));
            if (sin6->sin6_port != 0)
                report("%s: port got %u, want 0", cases[i].what, ntohs(sin6->sin6_port));
        } else if (ok) {
            snprintf(text, sizeof(text), "family %d", ss.ss_family);
        }
        if (ok != (cases[i].want != NULL) || (ok && strcmp(text, cases[i].want) != 0))
            report("%s: got %s, want %s", cases[i].what, text,
                   cases[i].want ? cases[i].want : "(refused)");
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rdata_mx),
        cmocka_unit_test(test_rdata_name_limits),
        cmocka_unit_test(test_rdata_txt),
        cmocka_unit_test(test_rdata_addr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
