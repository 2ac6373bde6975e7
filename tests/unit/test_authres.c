/*
 * test_authres - unit tests for src/mail/authres.c: writing our
 * Authentication-Results field (layout, folding, quoting), removing the
 * forged ones (RFC 8601 5) and the quarantine field.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and
 * each test fails at its end. Messages are passed as heap copies of
 * exactly their length, so AddressSanitizer sees a read past the end.
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

#include "mail/authres.h"
#include "util/buf.h"

#define SHOW_STYLE { .esc = "\n\t" }
#include "check.h"

#define ID "mx.example.org"

/*
 * field_ok - is f a well-formed field of ours: one line and continuation
 * lines (LF TAB), each at most AUTHRES_WIDTH octets unless it is a single
 * word, ending in LF, no CR, no NUL, nothing after the last LF
 */
static bool
field_ok(const char *f, size_t n)
{
    size_t i = 0;

    if (n == 0 || f[n - 1] != '\n' || memchr(f, '\r', n) || memchr(f, '\0', n))
        return false;
    while (i < n) {
        const char *nl = memchr(f + i, '\n', n - i);
        size_t len = (size_t)(nl - (f + i));

        if (i > 0 && f[i] != '\t')
            return false;
        if (len > AUTHRES_WIDTH && i > 0 && memchr(f + i + 1, ' ', len - 1))
            return false;
        i += len + 1;
    }
    return true;
}

/* ---- authres_format ---------------------------------------------------- */

static const struct authres_spf spf_pass = { "pass", "example.com", false };
static const struct authres_spf spf_helo = { "none", "mail.example.com", true };
static const struct authres_spf spf_addr = { "softfail", "postmaster@example.com", false };
static const struct authres_spf spf_odd = { "fail", "we\"ird dom\\ain", false };
static const struct authres_spf spf_ctl = { "fail", "a\nb\rc\x7f" "d", false };
static const struct authres_spf spf_empty = { "none", "", false };
static const struct authres_spf spf_badres = { "PASS", "example.com", false };
static const struct authres_spf spf_nullres = { NULL, "example.com", false };
static const struct authres_spf spf_injres = { "pass\nX-Evil: 1", "example.com", false };
static const struct authres_dkim dkim1[] = {
    { "pass", "example.com", "sel", "AbCdEfGhIjKlMnOp" },
};
static const struct authres_dkim dkim2[] = {
    { "pass", "example.com", "s1", "AbCdEfGhIjKl" },
    { "fail", "mailer.example", "s2", "Zz+/Yy==" },
};
static const struct authres_dkim dkim_ws[] = {
    { "pass", "example.com", "sel", " Ab Cd\n\tEf\r\nGhIj" },
};
static const struct authres_dkim dkim_short[] = {
    { "neutral", "example.com", NULL, "Ab" },
};
static const struct authres_dkim dkim_long[] = {
    { "pass", "a-rather-long-subdomain-name.of-an-even-longer-domain-name.example",
      "selector-of-a-certain-length", "AbCdEfGh" },
};
static const struct authres_dkim dkim_huge[] = {
    { "pass", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
      "s", "AbCdEfGh" },
};
static const struct authres_dmarc dmarc_pass = { "pass", "reject", "none", "example.com" };
static const struct authres_dmarc dmarc_fail = { "fail", "quarantine", "quarantine", "example.com" };
static const struct authres_dmarc dmarc_nocomment = { "none", NULL, NULL, "example.com" };
static const struct authres_dmarc dmarc_utf8 = { "pass", "none", "none", "b\xc3\xbc" "cher.example" };
static const struct authres_dmarc dmarc_badcomment = { "fail", "reject)", "x y", "example.com" };

static void
test_format(void **state)
{
    static const struct {
        struct authres ar;
        const char    *want;
    } cases[] = {
        /* everything */
        { { ID, &spf_pass, true, dkim1, 1, &dmarc_pass },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=pass smtp.mailfrom=example.com;\n"
          "\tdkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh;\n"
          "\tdmarc=pass (p=reject dis=none) header.from=example.com\n" },
        /* nothing checked */
        { { ID, NULL, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org; none\n" },
        /* DKIM checked, no signature */
        { { ID, &spf_pass, true, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=pass smtp.mailfrom=example.com;\n"
          "\tdkim=none\n" },
        /* DKIM not checked: no dkim= at all */
        { { ID, &spf_pass, false, dkim1, 1, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=pass smtp.mailfrom=example.com\n" },
        /* one dkim= per signature; '/' and '=' are tspecials: quoted */
        { { ID, NULL, true, dkim2, 2, &dmarc_fail },
          "Authentication-Results: mx.example.org;\n"
          "\tdkim=pass header.d=example.com header.s=s1 header.b=AbCdEfGh;\n"
          "\tdkim=fail header.d=mailer.example header.s=s2 header.b=\"Zz+/Yy==\";\n"
          "\tdmarc=fail (p=quarantine dis=quarantine) header.from=example.com\n" },
        /* the HELO identity */
        { { ID, &spf_helo, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=none smtp.helo=mail.example.com\n" },
        /* an address stands unquoted (RFC 8601 2.2 pvalue) */
        { { ID, &spf_addr, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=softfail smtp.mailfrom=postmaster@example.com\n" },
        /* anything else is quoted, with '"' and '\' escaped */
        { { ID, &spf_odd, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=fail smtp.mailfrom=\"we\\\"ird dom\\\\ain\"\n" },
        /* control characters cannot end the field */
        { { ID, &spf_ctl, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=fail smtp.mailfrom=\"a?b?c?d\"\n" },
        /* an empty value is left out */
        { { ID, &spf_empty, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=none\n" },
        /* a result that is no keyword becomes permerror */
        { { ID, &spf_badres, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=permerror smtp.mailfrom=example.com\n" },
        { { ID, &spf_nullres, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=permerror smtp.mailfrom=example.com\n" },
        { { ID, &spf_injres, false, NULL, 0, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tspf=permerror smtp.mailfrom=example.com\n" },
        /* header.b: white space in b= skipped; fewer than 8 characters: all */
        { { ID, NULL, true, dkim_ws, 1, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tdkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh\n" },
        { { ID, NULL, true, dkim_short, 1, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tdkim=neutral header.d=example.com header.b=Ab\n" },
        /* no policy: no comment */
        { { ID, NULL, false, NULL, 0, &dmarc_nocomment },
          "Authentication-Results: mx.example.org;\n"
          "\tdmarc=none header.from=example.com\n" },
        /* a comment word that is no keyword: no comment */
        { { ID, NULL, false, NULL, 0, &dmarc_badcomment },
          "Authentication-Results: mx.example.org;\n"
          "\tdmarc=fail header.from=example.com\n" },
        /* UTF-8 is no token: quoted (RFC 6532 allows it there) */
        { { ID, NULL, false, NULL, 0, &dmarc_utf8 },
          "Authentication-Results: mx.example.org;\n"
          "\tdmarc=pass (p=none dis=none) header.from=\"b\xc3\xbc" "cher.example\"\n" },
        /* folding between the words of a long method */
        { { ID, NULL, true, dkim_long, 1, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tdkim=pass\n"
          "\theader.d=a-rather-long-subdomain-name.of-an-even-longer-domain-name.example\n"
          "\theader.s=selector-of-a-certain-length header.b=AbCdEfGh\n" },
        /* a word longer than a line stays whole, on its own line */
        { { ID, NULL, true, dkim_huge, 1, NULL },
          "Authentication-Results: mx.example.org;\n"
          "\tdkim=pass\n"
          "\theader.d=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\n"
          "\theader.s=s header.b=AbCdEfGh\n" },
        /* an authserv-id that is no token is quoted */
        { { "mx example", NULL, false, NULL, 0, NULL },
          "Authentication-Results: \"mx example\"; none\n" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct buf b = BUF_INIT;

        buf_puts(&b, "X: y\n");         /* appended, not overwritten */
        authres_format(&cases[i].ar, &b);
        const char *got = b.data + 5;
        size_t n = b.len - 5;
        if (strncmp(b.data, "X: y\n", 5) != 0 || strcmp(got, cases[i].want) != 0)
            report("authres_format case %zu: got\n%s\nwant\n%s", i, show(got, n),
                   showz(cases[i].want));
        else if (!field_ok(got, n))
            report("authres_format case %zu: malformed field \"%s\"", i, show(got, n));
        buf_free(&b);
    }
    assert_int_equal(failures, 0);
}

/* test_format_many - many signatures: every line within the width */
static void
test_format_many(void **state)
{
    struct authres_dkim sigs[40];
    char d[40][64];
    struct authres ar = { ID, &spf_pass, true, sigs, NELEM(sigs), &dmarc_pass };
    struct buf b = BUF_INIT;
    size_t count = 0;

    (void)state;
    for (size_t i = 0; i < NELEM(sigs); i++) {
        snprintf(d[i], sizeof(d[i]), "signer-%zu.subdomain-%zu.example.com", i, i * 7919);
        sigs[i] = (struct authres_dkim){ i % 3 ? "pass" : "fail", d[i], "selector2024", "Q2xhdWRl" };
    }
    authres_format(&ar, &b);
    assert_true(field_ok(b.data, b.len));
    for (const char *p = b.data; (p = strstr(p, "\tdkim=")) != NULL; p++)
        count++;
    assert_int_equal(count, NELEM(sigs));
    buf_free(&b);
}

/* ---- authres_strip ------------------------------------------------------ */

static const struct {
    const char *msg;
    size_t      len;
    const char *want;
    size_t      wantlen;
    size_t      removed;
    size_t      quarantined;
} strip_cases[] = {
    /* ours removed, others kept */
    { S("Authentication-Results: mx.example.org; spf=pass smtp.mailfrom=example.com\n"
        "Authentication-Results: other.example; spf=fail\n"
        "Subject: hi\n\nbody\n"),
      S("Authentication-Results: other.example; spf=fail\n"
        "Subject: hi\n\nbody\n"), 1, 0 },
    /* ours in several spellings */
    { S("authentication-results: MX.EXAMPLE.ORG; none\nSubject: hi\n\nbody\n"),
      S("Subject: hi\n\nbody\n"), 1, 0 },
    { S("AUTHENTICATION-RESULTS: Mx.Example.Org; none\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results:mx.example.org;spf=pass\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results : mx.example.org; none\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results\t:\tmx.example.org; none\n\n"), S("\n"), 1, 0 },
    /* CFWS before the id, a version after it */
    { S("Authentication-Results: (forged) mx.example.org; spf=pass\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results: ((a) b \\) c) mx.example.org; none\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results: mx.example.org 1; spf=pass\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results: mx.example.org (c) 1 (d); none\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results:     mx.example.org    ;none\n\n"), S("\n"), 1, 0 },
    /* quoted, escaped */
    { S("Authentication-Results: \"mx.example.org\"; none\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results: \"MX.exa\\mple.org\"; none\n\n"), S("\n"), 1, 0 },
    /* a trailing dot */
    { S("Authentication-Results: mx.example.org.; none\n\n"), S("\n"), 1, 0 },
    /* whatever follows the id */
    { S("Authentication-Results: mx.example.org/x; none\n\n"), S("\n"), 1, 0 },
    { S("Authentication-Results: mx.example.org\n\n"), S("\n"), 1, 0 },
    /* the id on a continuation line; continuation lines go with the field */
    { S("Authentication-Results:\n mx.example.org;\n\tspf=pass\nSubject: hi\n\nbody\n"),
      S("Subject: hi\n\nbody\n"), 1, 0 },
    { S("Authentication-Results: (a\n b) mx.example.org;\n\tspf=pass\n\n"), S("\n"), 1, 0 },
    { S("Received: x\nAuthentication-Results: mx.example.org;\n\tspf=pass smtp.mailfrom=x;\n"
        "\tdkim=pass\n \nSubject: hi\n\nbody\n"),
      S("Received: x\nSubject: hi\n\nbody\n"), 1, 0 },
    /* several, interleaved with others */
    { S("Authentication-Results: mx.example.org; a\n\tb\n"
        "Authentication-Results: other.example; spf=pass\n\tdkim=pass\n"
        "Subject: x\n"
        "Authentication-Results: MX.EXAMPLE.ORG; c\n"
        "To: y\n\nbody\n"),
      S("Authentication-Results: other.example; spf=pass\n\tdkim=pass\n"
        "Subject: x\nTo: y\n\nbody\n"), 2, 0 },
    /* not ours */
    { S("Authentication-Results: mx.example.org.evil.example; none\n\n"),
      S("Authentication-Results: mx.example.org.evil.example; none\n\n"), 0, 0 },
    { S("Authentication-Results: mx.example.or; none\n\n"),
      S("Authentication-Results: mx.example.or; none\n\n"), 0, 0 },
    { S("Authentication-Results: xmx.example.org; none\n\n"),
      S("Authentication-Results: xmx.example.org; none\n\n"), 0, 0 },
    { S("Authentication-Results: mx.example.orgx; none\n\n"),
      S("Authentication-Results: mx.example.orgx; none\n\n"), 0, 0 },
    { S("Authentication-Results: mx-example.org; none\n\n"),
      S("Authentication-Results: mx-example.org; none\n\n"), 0, 0 },
    /* our id only in a comment, or later in the field */
    { S("Authentication-Results: (mx.example.org) other.example; none\n\n"),
      S("Authentication-Results: (mx.example.org) other.example; none\n\n"), 0, 0 },
    { S("Authentication-Results: other.example; x=mx.example.org\n mx.example.org\n\n"),
      S("Authentication-Results: other.example; x=mx.example.org\n mx.example.org\n\n"), 0, 0 },
    /* unparseable starts are not ours */
    { S("Authentication-Results: (mx.example.org; none\n\n"),
      S("Authentication-Results: (mx.example.org; none\n\n"), 0, 0 },
    { S("Authentication-Results: \"mx.example.org; none\n\n"),
      S("Authentication-Results: \"mx.example.org; none\n\n"), 0, 0 },
    { S("Authentication-Results:\n\n"), S("Authentication-Results:\n\n"), 0, 0 },
    /* other fields with our id */
    { S("ARC-Authentication-Results: i=1; mx.example.org; spf=pass\n"
        "X-Authentication-Results: mx.example.org; none\n"
        "Authentication-Results-Original: mx.example.org; none\n\n"),
      S("ARC-Authentication-Results: i=1; mx.example.org; spf=pass\n"
        "X-Authentication-Results: mx.example.org; none\n"
        "Authentication-Results-Original: mx.example.org; none\n\n"), 0, 0 },
    /* a continuation line is no field */
    { S("Subject: x\n Authentication-Results: mx.example.org; none\n\n"),
      S("Subject: x\n Authentication-Results: mx.example.org; none\n\n"), 0, 0 },
    /* the body is not touched */
    { S("Subject: x\n\nAuthentication-Results: mx.example.org; none\n"),
      S("Subject: x\n\nAuthentication-Results: mx.example.org; none\n"), 0, 0 },
    /* a message with no header, an empty one, one with no body */
    { S("\nAuthentication-Results: mx.example.org; none\n"),
      S("\nAuthentication-Results: mx.example.org; none\n"), 0, 0 },
    { S(""), S(""), 0, 0 },
    { S("Authentication-Results: mx.example.org; none"), S(""), 1, 0 },
    { S("Authentication-Results: mx.example.org; none\n"), S(""), 1, 0 },
    { S("Subject: x\nAuthentication-Results: mx.example.org;\n none"), S("Subject: x\n"), 1, 0 },
    /* quarantine fields from outside, in any case */
    { S("X-Postino-Quarantine: dmarc\nSubject: x\n\nbody\n"), S("Subject: x\n\nbody\n"), 0, 1 },
    { S("x-postino-quarantine : no\n (really)\nSubject: x\nX-POSTINO-QUARANTINE:\n\n"),
      S("Subject: x\n\n"), 0, 2 },
    { S("X-Postino-Quarantined: no\n\n"), S("X-Postino-Quarantined: no\n\n"), 0, 0 },
    /* NULs and CRs are carried as they are */
    { S("A: \0\r\nAuthentication-Results: mx.example.org; \0\n\nb\0dy"), S("A: \0\r\n\nb\0dy"), 1, 0 },
    { S("Authentication-Results: mx.example.org\r; none\n\n"), S("\n"), 1, 0 },
};

static void
test_strip(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(strip_cases); i++) {
        char *m = copy(strip_cases[i].msg, strip_cases[i].len);
        struct buf out = BUF_INIT;
        size_t q = 99;
        size_t removed = authres_strip(m, strip_cases[i].len, ID, &out, &q);

        if (removed != strip_cases[i].removed || q != strip_cases[i].quarantined
            || out.len != strip_cases[i].wantlen
            || (out.len > 0 && memcmp(out.data, strip_cases[i].want, out.len) != 0))
            report("authres_strip(\"%s\"): got %zu/%zu \"%s\", want %zu/%zu \"%s\"",
                   show(m, strip_cases[i].len), removed, q, show(out.data, out.len),
                   strip_cases[i].removed, strip_cases[i].quarantined,
                   show(strip_cases[i].want, strip_cases[i].wantlen));
        buf_free(&out);
        free(m);
    }
    assert_int_equal(failures, 0);
}

/* test_strip_ids - our id written with a trailing dot or in capitals */
static void
test_strip_ids(void **state)
{
    static const char msg[] = "Authentication-Results: mx.example.org; none\nSubject: x\n\n";
    static const struct {
        const char *id;
        size_t      removed;
    } cases[] = {
        { "mx.example.org", 1 },
        { "MX.EXAMPLE.ORG", 1 },
        { "mx.example.org.", 1 },
        { "example.org", 0 },
        { "", 0 },
        { ".", 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct buf out = BUF_INIT;
        size_t removed = authres_strip(msg, sizeof(msg) - 1, cases[i].id, &out, NULL);

        if (removed != cases[i].removed)
            report("authres_strip(id \"%s\"): got %zu, want %zu", cases[i].id, removed,
                   cases[i].removed);
        buf_free(&out);
    }
    assert_int_equal(failures, 0);
}

/* test_roundtrip - our own field, put in front of a message, is removed */
static void
test_roundtrip(void **state)
{
    static const char body[] = "Subject: hi\nAuthentication-Results: other.example; none\n\nbody\n";
    struct authres ar = { ID, &spf_pass, true, dkim2, 2, &dmarc_pass };
    struct buf msg = BUF_INIT, out = BUF_INIT;

    (void)state;
    authres_format(&ar, &msg);
    authres_quarantine("dmarc", "p=quarantine", &msg);
    buf_puts(&msg, body);
    assert_int_equal(authres_strip(msg.data, msg.len, ID, &out, NULL), 1);
    assert_string_equal(out.data, body);
    buf_free(&msg);
    buf_free(&out);
}

/* ---- authres_quarantine -------------------------------------------------- */

static void
test_quarantine(void **state)
{
    static char long_comment[400];
    static char long_want[300];
    static const struct {
        const char *reason;
        const char *comment;
        const char *want;
    } cases[] = {
        { "dmarc", NULL, "X-Postino-Quarantine: dmarc\n" },
        { "dmarc", "", "X-Postino-Quarantine: dmarc\n" },
        { "dmarc", "p=quarantine dis=quarantine header.from=example.com",
          "X-Postino-Quarantine: dmarc (p=quarantine dis=quarantine header.from=example.com)\n" },
        /* nothing in the comment can end it or the field */
        { "dmarc", "a(b)c\\d\ne\rf\x7fg\xc3\xa9",
          "X-Postino-Quarantine: dmarc (a?b?c?d?e?f?g?" "?)\n" },
        /* a reason that is no keyword */
        { "DMARC", NULL, "X-Postino-Quarantine: yes\n" },
        { NULL, NULL, "X-Postino-Quarantine: yes\n" },
        { "dm arc\nX-Evil: 1", NULL, "X-Postino-Quarantine: yes\n" },
        /* at most 200 characters of comment */
        { "dmarc", long_comment, long_want },
    };

    (void)state;
    memset(long_comment, 'c', sizeof(long_comment) - 1);
    snprintf(long_want, sizeof(long_want), "X-Postino-Quarantine: dmarc (%.*s)\n", 200, long_comment);
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct buf b = BUF_INIT;

        authres_quarantine(cases[i].reason, cases[i].comment, &b);
        if (strcmp(b.data, cases[i].want) != 0)
            report("authres_quarantine(%s, %s): got \"%s\", want \"%s\"", showz(cases[i].reason),
                   showz(cases[i].comment), showz(b.data), showz(cases[i].want));
        buf_free(&b);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_many),
        cmocka_unit_test(test_strip),
        cmocka_unit_test(test_strip_ids),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_quarantine),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
