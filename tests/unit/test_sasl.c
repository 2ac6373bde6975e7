/*
 * test_sasl - unit tests for src/auth/sasl.c: strict base64 (RFC 4648)
 * and the SASL PLAIN message (RFC 4616).
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end, so one run shows all broken rows. Output buffers
 * are heap allocations of exactly the size promised to the function, so
 * AddressSanitizer catches a write one past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

/* SASL messages can be long: cut with "..." */
#define SHOW_STYLE { .width = 504, .more = "..." }
#include "check.h"

/* ---- base64_decode ----------------------------------------------------- */

struct dec_case {
    const char *in;
    size_t      inlen;
    const char *want;       /* NULL: -1 */
    size_t      wantlen;
};

#define REJECT NULL, 0

static const struct dec_case dec_cases[] = {
    /* RFC 4648 10 test vectors */
    { S(""),         S("") },
    { S("Zg=="),     S("f") },
    { S("Zm8="),     S("fo") },
    { S("Zm9v"),     S("foo") },
    { S("Zm9vYg=="), S("foob") },
    { S("Zm9vYmE="), S("fooba") },
    { S("Zm9vYmFy"), S("foobar") },
    /* the whole alphabet, and binary output with NULs and high bytes */
    { S("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
      S("\x00\x10\x83\x10\x51\x87\x20\x92\x8b\x30\xd3\x8f\x41\x14\x93\x51"
        "\x55\x97\x61\x96\x9b\x71\xd7\x9f\x82\x18\xa3\x92\x59\xa7\xa2\x9a"
        "\xab\xb2\xdb\xaf\xc3\x1c\xb3\xd3\x5d\xb7\xe3\x9e\xbb\xf3\xdf\xbf") },
    { S("AAAA"),     S("\x00\x00\x00") },
    { S("////"),     S("\xff\xff\xff") },
    { S("AA=="),     S("\x00") },
    { S("AAA="),     S("\x00\x00") },
    /* RFC 4954 4: the PLAIN example response */
    { S("AHRpbQB0YW5zdGFhZnRhbnN0YWFm"), S("\0tim\0tanstaaftanstaaf") },

    /* length not a multiple of 4 (padding is required, RFC 4648 3.2) */
    { S("Z"),        REJECT },
    { S("Zg"),       REJECT },
    { S("Zg="),      REJECT },
    { S("Zm9"),      REJECT },
    { S("Zm9vY"),    REJECT },
    { S("Zm9vYg="),  REJECT },
    { S("Zm9vYg==="), REJECT },
    /* padding rules */
    { S("===="),     REJECT },
    { S("Z==="),     REJECT },              /* at most two pad characters */
    { S("=Zg="),     REJECT },
    { S("Z=g="),     REJECT },              /* data after padding */
    { S("Zm=v"),     REJECT },
    { S("Zg==Zm9v"), REJECT },              /* padding before the end */
    { S("Zm8=Zm9v"), REJECT },
    { S("Zg==Zg=="), REJECT },
    /* non-canonical: unused bits of the last quantum must be zero (3.5) */
    { S("Zh=="),     REJECT },              /* 'h' = 100001: low 4 bits set */
    { S("Zn=="),     REJECT },
    { S("Zv=="),     REJECT },
    { S("Zm9="),     REJECT },              /* '9' = 111101: low 2 bits set */
    { S("Zm/="),     REJECT },
    { S("Zm+="),     REJECT },
    { S("Zm9vYh=="), REJECT },
    { S("//=="),     REJECT },
    { S("/w=="),     S("\xff") },           /* the canonical neighbours pass */
    { S("//8="),     S("\xff\xff") },
    /* characters outside the alphabet, anywhere in a quantum */
    { S("Zm9v "),    REJECT },
    { S(" Zm9v"),    REJECT },
    { S("Zm 9"),     REJECT },
    { S("Zm9v\r\n"), REJECT },
    { S("Zm9v\nYmFy"), REJECT },
    { S("Zm\t9"),    REJECT },
    { S("Zm-_"),     REJECT },              /* base64url (RFC 4648 5) is not base64 */
    { S("Zm9."),     REJECT },
    { S("Zm9*"),     REJECT },
    { S("Zg\0="),    REJECT },
    { S("\0\0\0\0"), REJECT },
    { S("Zm9\x80"),  REJECT },
    { S("Zm9\xff"),  REJECT },
    { S("Zm9v\xc3\xa9=="), REJECT },
    { S("Zm9vYmFy===="), REJECT },
};

static void
test_base64_decode(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(dec_cases); i++) {
        const struct dec_case *c = &dec_cases[i];
        size_t cap = c->inlen / 4 * 3 + 1;
        unsigned char *out = malloc(cap);
        assert_non_null(out);
        long got = base64_decode(c->in, c->inlen, out, cap);

        if (c->want == NULL) {
            if (got != -1)
                report("base64_decode(\"%s\"): got %ld \"%s\", want -1", show(c->in, c->inlen),
                       got, got > 0 ? show(out, (size_t)got) : "");
        } else if (got != (long)c->wantlen || memcmp(out, c->want, c->wantlen) != 0) {
            report("base64_decode(\"%s\"): got %ld \"%s\", want %zu \"%s\"",
                   show(c->in, c->inlen), got, got > 0 ? show(out, (size_t)got) : "",
                   c->wantlen, show(c->want, c->wantlen));
        }
        free(out);
    }
    assert_int_equal(failures, 0);
}

/* test_base64_decode_capacity - exactly enough room works; one short is -1 */
static void
test_base64_decode_capacity(void **state)
{
    static const struct {
        const char *in;
        size_t      need;
    } cases[] = {
        { "",         0 },
        { "Zg==",     1 },
        { "Zm8=",     2 },
        { "Zm9v",     3 },
        { "Zm9vYg==", 4 },
        { "Zm9vYmE=", 5 },
        { "Zm9vYmFy", 6 },
        { "AHRpbQB0YW5zdGFhZnRhbnN0YWFm", 21 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        const char *in = cases[i].in;
        size_t need = cases[i].need;
        /* malloc(0) may return NULL; keep one byte so the pointer is real */
        unsigned char *out = malloc(need ? need : 1);
        assert_non_null(out);

        long got = base64_decode(in, strlen(in), out, need);
        if (got != (long)need)
            report("base64_decode(\"%s\", outcap %zu): got %ld, want %zu", in, need, got, need);
        if (need > 0) {
            got = base64_decode(in, strlen(in), out, need - 1);
            if (got != -1)
                report("base64_decode(\"%s\", outcap %zu): got %ld, want -1", in, need - 1, got);
        }
        /* more room than needed changes nothing */
        unsigned char big[64];
        got = base64_decode(in, strlen(in), big, sizeof(big));
        if (got != (long)need)
            report("base64_decode(\"%s\", outcap %zu): got %ld, want %zu", in, sizeof(big), got,
                   need);
        free(out);
    }
    assert_int_equal(failures, 0);
}

/* ---- base64_encode ----------------------------------------------------- */

static void
test_base64_encode(void **state)
{
    static const struct {
        const char *in;
        size_t      inlen;
        const char *want;
    } cases[] = {
        /* RFC 4648 10 */
        { S(""),        "" },
        { S("f"),       "Zg==" },
        { S("fo"),      "Zm8=" },
        { S("foo"),     "Zm9v" },
        { S("foob"),    "Zm9vYg==" },
        { S("fooba"),   "Zm9vYmE=" },
        { S("foobar"),  "Zm9vYmFy" },
        { S("\0tim\0tanstaaftanstaaf"), "AHRpbQB0YW5zdGFhZnRhbnN0YWFm" },
        { S("\xff\xfe\xfd"), "//79" },
        { S("\xfb\xff"), "+/8=" },
        { S("Password:"), "UGFzc3dvcmQ6" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t cap = 4 * ((cases[i].inlen + 2) / 3) + 1;
        char *out = malloc(cap);
        assert_non_null(out);
        memset(out, 'X', cap);
        base64_encode((const unsigned char *)cases[i].in, cases[i].inlen, out);
        if (strcmp(out, cases[i].want) != 0)
            report("base64_encode(\"%s\"): got \"%s\", want \"%s\"",
                   show(cases[i].in, cases[i].inlen), show(out, strnlen(out, cap)),
                   cases[i].want);
        free(out);
    }
    assert_int_equal(failures, 0);
}

/* test_base64_round_trip - decode(encode(x)) == x for every length 0..300 */
static void
test_base64_round_trip(void **state)
{
    unsigned char in[300];
    unsigned seed = 12345;

    (void)state;
    failures = 0;
    for (size_t n = 0; n <= sizeof(in); n++) {
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            /* early lengths cover the extremes, later ones random bytes */
            in[i] = n < 4 ? (unsigned char)(n & 1 ? 0xff : 0x00) : (unsigned char)(seed >> 16);
        }
        size_t enclen = 4 * ((n + 2) / 3);
        char *enc = malloc(enclen + 1);
        assert_non_null(enc);
        base64_encode(in, n, enc);
        if (strlen(enc) != enclen) {
            report("base64_encode(%zu octets): got length %zu, want %zu", n, strlen(enc),
                   enclen);
            free(enc);
            continue;
        }
        unsigned char *dec = malloc(n ? n : 1);
        assert_non_null(dec);
        long got = base64_decode(enc, enclen, dec, n);
        if (got != (long)n || memcmp(dec, in, n) != 0)
            report("base64_decode(base64_encode(%zu octets) = \"%s\"): got %ld octets \"%s\", "
                   "want %zu \"%s\"", n, enc, got, got > 0 ? show(dec, (size_t)got) : "",
                   n, show(in, n));
        free(dec);
        free(enc);
    }
    /* every byte value in every position of a quantum */
    for (unsigned v = 0; v < 256; v++) {
        for (size_t pos = 0; pos < 3; pos++) {
            unsigned char q[3] = { 0x5a, 0xa5, 0x3c }, back[3];
            char enc[5];
            q[pos] = (unsigned char)v;
            for (size_t n = pos + 1; n <= 3; n++) {
                base64_encode(q, n, enc);
                long got = base64_decode(enc, 4, back, n);
                if (got != (long)n || memcmp(back, q, n) != 0)
                    report("round trip of \"%s\": got %ld \"%s\" via \"%s\"", show(q, n), got,
                           got > 0 ? show(back, (size_t)got) : "", enc);
            }
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- sasl_plain_parse -------------------------------------------------- */

struct plain_case {
    const char *msg;
    size_t      len;
    int         rc;
    const char *authzid;    /* on 0 */
    const char *authcid;
    const char *passwd;
};

static const struct plain_case plain_cases[] = {
    /* RFC 4616 4 examples */
    { S("\0tim\0tanstaaftanstaaf"), 0, "", "tim", "tanstaaftanstaaf" },
    { S("Ursel\0Kurt\0xipj3plmq"),  0, "Ursel", "Kurt", "xipj3plmq" },
    /* one-octet fields, UTF-8 and spaces are kept as they are */
    { S("\0a\0b"),                  0, "", "a", "b" },
    { S("z\0a\0b"),                 0, "z", "a", "b" },
    { S("\0j\xc3\xb6rg\0p \xe2\x82\xac ss"), 0, "", "j\xc3\xb6rg", "p \xe2\x82\xac ss" },
    { S("\0bob@example.org\0 pass with spaces "), 0, "", "bob@example.org",
      " pass with spaces " },
    /* missing NULs */
    { S(""),                        -1, NULL, NULL, NULL },
    { S("tim"),                     -1, NULL, NULL, NULL },
    { S("tim\0pass"),               -1, NULL, NULL, NULL },
    { S("\0timpass"),               -1, NULL, NULL, NULL },
    { S("\0"),                      -1, NULL, NULL, NULL },
    { S("Ursel\0"),                 -1, NULL, NULL, NULL },
    /* an extra NUL: inside or after the password */
    { S("\0tim\0pass\0"),           -1, NULL, NULL, NULL },
    { S("\0tim\0pa\0ss"),           -1, NULL, NULL, NULL },
    { S("a\0b\0c\0d"),              -1, NULL, NULL, NULL },
    { S("\0tim\0\0pass"),           -1, NULL, NULL, NULL },
    { S("\0\0\0"),                  -1, NULL, NULL, NULL },
    /* empty authcid or password */
    { S("\0\0pass"),                -1, NULL, NULL, NULL },
    { S("Ursel\0\0pass"),           -1, NULL, NULL, NULL },
    { S("\0tim\0"),                 -1, NULL, NULL, NULL },
    { S("Ursel\0Kurt\0"),           -1, NULL, NULL, NULL },
    { S("\0\0"),                    -1, NULL, NULL, NULL },
};

/* plain_check - run one case; out buffers are exactly SASL_FIELD_MAX + 1 */
static void
plain_check(const char *what, const unsigned char *msg, size_t len, int rc, const char *authzid,
            const char *authcid, const char *passwd)
{
    char *z = malloc(SASL_FIELD_MAX + 1), *c = malloc(SASL_FIELD_MAX + 1);
    char *p = malloc(SASL_FIELD_MAX + 1);
    assert_true(z && c && p);
    strcpy(z, "(untouched)");
    strcpy(c, "(untouched)");
    strcpy(p, "(untouched)");

    int got = sasl_plain_parse(msg, len, z, c, p);
    if (got != rc)
        report("sasl_plain_parse(%s): got %d, want %d", what, got, rc);
    else if (rc == 0 && (strcmp(z, authzid) != 0 || strcmp(c, authcid) != 0
                         || strcmp(p, passwd) != 0))
        report("sasl_plain_parse(%s): got authzid \"%s\" authcid \"%s\" passwd \"%s\", "
               "want \"%s\" \"%s\" \"%s\"", what, show(z, strlen(z)), show(c, strlen(c)),
               show(p, strlen(p)), show(authzid, strlen(authzid)),
               show(authcid, strlen(authcid)), show(passwd, strlen(passwd)));
    free(z);
    free(c);
    free(p);
}

static void
test_plain_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(plain_cases); i++) {
        const struct plain_case *pc = &plain_cases[i];
        /* a private heap copy of exactly len octets: no reading past the end */
        unsigned char *msg = malloc(pc->len ? pc->len : 1);
        assert_non_null(msg);
        memcpy(msg, pc->msg, pc->len);
        char what[600];
        snprintf(what, sizeof(what), "\"%s\"", show(pc->msg, pc->len));
        plain_check(what, msg, pc->len, pc->rc, pc->authzid, pc->authcid, pc->passwd);
        free(msg);
    }
    assert_int_equal(failures, 0);
}

/* test_plain_parse_lengths - each field at SASL_FIELD_MAX octets, and one over */
static void
test_plain_parse_lengths(void **state)
{
    static const char *const names[] = { "authzid", "authcid", "passwd" };
    static const size_t lens[] = { SASL_FIELD_MAX - 1, SASL_FIELD_MAX, SASL_FIELD_MAX + 1 };
    char *big = malloc(SASL_FIELD_MAX + 2);
    unsigned char *msg = malloc(3 * (SASL_FIELD_MAX + 2));

    (void)state;
    assert_true(big && msg);
    failures = 0;
    for (size_t f = 0; f < 3; f++) {
        for (size_t l = 0; l < NELEM(lens); l++) {
            const char *field[3] = { "", "tim", "secret" };
            memset(big, 'a' + (int)f, lens[l]);
            big[lens[l]] = '\0';
            field[f] = big;
            size_t n = 0;
            for (size_t k = 0; k < 3; k++) {
                size_t fl = strlen(field[k]);
                memcpy(msg + n, field[k], fl);
                n += fl;
                if (k < 2)
                    msg[n++] = '\0';
            }
            char what[80];
            snprintf(what, sizeof(what), "%s of %zu octets", names[f], lens[l]);
            int rc = lens[l] <= SASL_FIELD_MAX ? 0 : -1;
            plain_check(what, msg, n, rc, field[0], field[1], field[2]);
        }
    }
    /* all three at the maximum at once */
    memset(msg, 'x', 3 * SASL_FIELD_MAX + 2);
    msg[SASL_FIELD_MAX] = '\0';
    msg[2 * SASL_FIELD_MAX + 1] = '\0';
    memset(big, 'x', SASL_FIELD_MAX);
    big[SASL_FIELD_MAX] = '\0';
    plain_check("three fields of SASL_FIELD_MAX octets", msg, 3 * SASL_FIELD_MAX + 2, 0, big,
                big, big);
    free(big);
    free(msg);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_decode),
        cmocka_unit_test(test_base64_decode_capacity),
        cmocka_unit_test(test_base64_encode),
        cmocka_unit_test(test_base64_round_trip),
        cmocka_unit_test(test_plain_parse),
        cmocka_unit_test(test_plain_parse_lengths),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
