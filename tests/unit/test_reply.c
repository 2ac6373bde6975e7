/*
 * test_reply - unit tests for src/relay/reply.c: reading SMTP reply lines
 * (RFC 5321 4.2), the enhanced status code (RFC 2034, RFC 3463), the
 * one-line summary and the EHLO capabilities.
 *
 * Table-driven: each row is a reply, given as its lines, and the expected
 * outcome; every mismatch is reported as "got ..., want ..." and the test
 * fails at the end, so one run shows all broken rows. Each line is fed
 * from a heap copy of exactly its length (no NUL after it), so
 * AddressSanitizer catches a read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/reply.h"

/* SMTP replies: LF by name */
#define SHOW_STYLE { .esc = "\n" }
#include "check.h"

#define MAXL 6

/* feed - give r the lines (NULL-terminated, at most MAXL) one by one, each
 * from an exact-size copy; stop at the first -1. Returns the last result. */
static int
feed(struct smtp_reply *r, const char *const *lines)
{
    int rc = 0;

    for (size_t i = 0; i < MAXL && lines[i]; i++) {
        size_t n = strlen(lines[i]);
        char *copy = malloc(n ? n : 1);
        assert_non_null(copy);
        memcpy(copy, lines[i], n);
        rc = reply_feed_line(r, copy, n);
        free(copy);
        if (rc < 0)
            break;
    }
    return rc;
}

/* One reply_feed_line() sequence and the reply it should leave. */
struct feed_case {
    const char *lines[MAXL + 1];
    int         rc;             /* result of the last line fed */
    int         code;           /* checked when rc >= 0 */
    const char *enhanced;
    const char *text;
    size_t      nlines;
};

#define MORE(c, e, x, nl)     0, c, e, x, nl
#define DONE(c, e, x, nl)     1, c, e, x, nl
#define BAD                   -1, 0, NULL, NULL, 0

static const struct feed_case feed_cases[] = {
    /* one-line replies */
    { { "250 OK" }, DONE(250, "", "OK", 1) },
    { { "220 mx.example.test ESMTP ready" }, DONE(220, "", "mx.example.test ESMTP ready", 1) },
    { { "354 go ahead" }, DONE(354, "", "go ahead", 1) },
    { { "599 odd but in range" }, DONE(599, "", "odd but in range", 1) },
    { { "200 x" }, DONE(200, "", "x", 1) },
    { { "250" }, DONE(250, "", "", 1) },                /* 4.2: the text is optional */
    { { "250 " }, DONE(250, "", "", 1) },
    { { "250 OK\r" }, DONE(250, "", "OK", 1) },         /* a CR left by the caller */
    { { "250 two  spaces " }, DONE(250, "", "two  spaces ", 1) },
    /* multi-line */
    { { "250-a", "250 b" }, DONE(250, "", "a\nb", 2) },
    { { "250-a", "250-b", "250 c" }, DONE(250, "", "a\nb\nc", 3) },
    { { "250-", "250 " }, DONE(250, "", "\n", 2) },
    { { "250-a" }, MORE(250, "", "a", 1) },
    { { "250-a", "250-b" }, MORE(250, "", "a\nb", 2) },
    { { "250-a", "250" }, DONE(250, "", "a\n", 2) },
    /* not reply lines */
    { { "" }, BAD },
    { { "2" }, BAD },
    { { "25" }, BAD },
    { { "150 x" }, BAD },
    { { "600 x" }, BAD },
    { { "099 x" }, BAD },
    { { "2a0 x" }, BAD },
    { { "25a x" }, BAD },
    { { "-250 x" }, BAD },
    { { " 250 x" }, BAD },
    { { "250x" }, BAD },
    { { "250_x" }, BAD },
    { { "250\tx" }, BAD },
    { { "2500 x" }, BAD },
    { { "EHLO x" }, BAD },
    { { "HTTP/1.1 400 Bad Request" }, BAD },
    { { "250 a\nb" }, BAD },                            /* two lines in one */
    /* the code changes between lines (4.2.1) */
    { { "250-a", "251 b" }, BAD },
    { { "250-a", "550 b" }, BAD },
    { { "250-a", "250-b", "350 c" }, BAD },
    { { "250-a", "junk" }, BAD },
    /* enhanced status codes: first line, class = first digit */
    { { "550 5.1.1 User unknown" }, DONE(550, "5.1.1", "5.1.1 User unknown", 1) },
    { { "450 4.2.0 busy" }, DONE(450, "4.2.0", "4.2.0 busy", 1) },
    { { "250 2.0.0" }, DONE(250, "2.0.0", "2.0.0", 1) },
    { { "250 2.0.0 " }, DONE(250, "2.0.0", "2.0.0 ", 1) },
    { { "550 5.123.123 x" }, DONE(550, "5.123.123", "5.123.123 x", 1) },
    { { "550 5.0.0 x" }, DONE(550, "5.0.0", "5.0.0 x", 1) },
    { { "550 4.1.1 x" }, DONE(550, "", "4.1.1 x", 1) },         /* class differs */
    { { "450 5.1.1 x" }, DONE(450, "", "5.1.1 x", 1) },
    { { "250 5.1.1 x" }, DONE(250, "", "5.1.1 x", 1) },
    { { "354 3.0.0 x" }, DONE(354, "3.0.0", "3.0.0 x", 1) },     /* any matching digit */
    { { "550 5.1.1x" }, DONE(550, "", "5.1.1x", 1) },
    { { "550 5.1.1.1 x" }, DONE(550, "", "5.1.1.1 x", 1) },
    { { "550 5.1234.1 x" }, DONE(550, "", "5.1234.1 x", 1) },
    { { "550 5.1.1234 x" }, DONE(550, "", "5.1.1234 x", 1) },
    { { "550 5..1 x" }, DONE(550, "", "5..1 x", 1) },
    { { "550 5.1. x" }, DONE(550, "", "5.1. x", 1) },
    { { "550 5.1" }, DONE(550, "", "5.1", 1) },
    { { "550 .5.1.1 x" }, DONE(550, "", ".5.1.1 x", 1) },
    { { "550 5.1.1\tx" }, DONE(550, "", "5.1.1\tx", 1) },
    { { "550 5.a.1 x" }, DONE(550, "", "5.a.1 x", 1) },
    { { "550  5.1.1 x" }, DONE(550, "", " 5.1.1 x", 1) },
    { { "550-5.1.1 a", "550 5.1.1 b" }, DONE(550, "5.1.1", "5.1.1 a\n5.1.1 b", 2) },
    { { "550-Mailbox unknown", "550 5.1.1 really" }, DONE(550, "", "Mailbox unknown\n5.1.1 really", 2) },
    /* control characters are kept as they came; reply_oneline cleans them */
    { { "554 a\x01" "b" }, DONE(554, "", "a\x01" "b", 1) },
};

/* test_reply_feed - the feed_cases table */
static void
test_reply_feed(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(feed_cases); i++) {
        const struct feed_case *c = &feed_cases[i];
        struct smtp_reply r;

        reply_init(&r);
        int rc = feed(&r, c->lines);
        if (rc != c->rc)
            report("feed #%zu \"%s\"...: rc got %d, want %d", i, show(c->lines[0], strlen(c->lines[0])),
                   rc, c->rc);
        else if (rc >= 0) {
            if (r.code != c->code)
                report("feed #%zu: code got %d, want %d", i, r.code, c->code);
            if (strcmp(r.enhanced, c->enhanced) != 0)
                report("feed #%zu: enhanced got \"%s\", want \"%s\"", i, r.enhanced, c->enhanced);
            if (r.text.len != strlen(c->text) || memcmp(buf_cstr(&r.text), c->text, r.text.len) != 0)
                report("feed #%zu: text got \"%s\", want \"%s\"", i, show(buf_cstr(&r.text), r.text.len),
                       show(c->text, strlen(c->text)));
            if (r.nlines != c->nlines)
                report("feed #%zu: nlines got %zu, want %zu", i, r.nlines, c->nlines);
            if (r.done != (rc == 1))
                report("feed #%zu: done got %d, want %d", i, r.done, rc == 1);
            if (reply_class(&r) != c->code / 100)
                report("feed #%zu: class got %d, want %d", i, reply_class(&r), c->code / 100);
        }
        reply_free(&r);
    }
    assert_int_equal(failures, 0);
}

/* test_reply_max_lines - REPLY_MAX_LINES lines are a reply, one more is not */
static void
test_reply_max_lines(void **state)
{
    struct smtp_reply r;
    int rc = 0;

    (void)state;
    failures = 0;
    reply_init(&r);
    for (size_t i = 0; i + 1 < REPLY_MAX_LINES; i++)
        if ((rc = reply_feed_line(&r, "250-x", 5)) != 0)
            report("line %zu of %d: rc got %d, want 0", i + 1, REPLY_MAX_LINES, rc);
    if ((rc = reply_feed_line(&r, "250 x", 5)) != 1)
        report("line %d \"250 x\": rc got %d, want 1", REPLY_MAX_LINES, rc);
    if (r.nlines != REPLY_MAX_LINES)
        report("nlines got %zu, want %d", r.nlines, REPLY_MAX_LINES);

    reply_reset(&r);
    for (size_t i = 0; i < REPLY_MAX_LINES; i++)
        if ((rc = reply_feed_line(&r, "250-x", 5)) != 0)
            report("again, line %zu: rc got %d, want 0", i + 1, rc);
    if ((rc = reply_feed_line(&r, "250 x", 5)) != -1)
        report("line %d: rc got %d, want -1", REPLY_MAX_LINES + 1, rc);
    reply_free(&r);
    assert_int_equal(failures, 0);
}

/* test_reply_next - reset, and a line after a complete reply starts the next one */
static void
test_reply_next(void **state)
{
    struct smtp_reply r;
    int rc;

    (void)state;
    failures = 0;
    reply_init(&r);
    if (r.code != 0 || r.nlines != 0 || r.done || r.enhanced[0] || r.text.len)
        report("after reply_init: got code %d nlines %zu done %d, want an empty reply", r.code,
               r.nlines, r.done);
    rc = reply_feed_line(&r, "550 5.1.1 no", 12);
    rc = reply_feed_line(&r, "354 go", 6);
    if (rc != 1 || r.code != 354 || r.nlines != 1 || strcmp(buf_cstr(&r.text), "go") != 0
        || r.enhanced[0])
        report("pipelined second reply: got rc %d code %d nlines %zu text \"%s\" enhanced \"%s\", "
               "want 1 354 1 \"go\" \"\"", rc, r.code, r.nlines, buf_cstr(&r.text), r.enhanced);
    reply_reset(&r);
    if (r.code != 0 || r.nlines != 0 || r.done || r.text.len || reply_class(&r) != 0)
        report("after reply_reset: got code %d nlines %zu done %d len %zu, want an empty reply",
               r.code, r.nlines, r.done, r.text.len);
    rc = reply_feed_line(&r, "221 bye", 7);
    if (rc != 1 || r.code != 221)
        report("after reset: got rc %d code %d, want 1 221", rc, r.code);
    reply_free(&r);
    reply_free(&r);             /* twice is harmless */
    assert_int_equal(failures, 0);
}

/* One reply_oneline() case. */
struct oneline_case {
    const char *lines[MAXL + 1];
    size_t      outlen;
    const char *want;
};

static const struct oneline_case oneline_cases[] = {
    { { "550 5.1.1 User unknown" }, 200, "550 5.1.1 User unknown" },
    { { "250" }, 200, "250" },
    { { "250 " }, 200, "250" },
    { { "250-a", "250 b" }, 200, "250 a; b" },
    { { "250-a", "250-", "250 b" }, 200, "250 a; b" },
    { { "250-", "250 b" }, 200, "250 b" },
    /* the enhanced code repeated on later lines is said once */
    { { "550-5.1.1 The email account", "550-5.1.1 double-checking", "550 5.1.1 https://x.test/" },
      200, "550 5.1.1 The email account; double-checking; https://x.test/" },
    { { "550-5.1.1 a", "550 5.1.1" }, 200, "550 5.1.1 a" },
    { { "550-5.1.1 a", "550 5.7.1 b" }, 200, "550 5.1.1 a; 5.7.1 b" },
    { { "550-5.1.1 a", "550 5.1.10 b" }, 200, "550 5.1.1 a; 5.1.10 b" },
    { { "550-no code", "550 5.1.1 b" }, 200, "550 no code; 5.1.1 b" },
    /* control characters and non-ASCII */
    { { "554 bad\x01" "ctl\ttab\x80\x7f" }, 200, "554 bad?ctl tab??" },
    { { "554 \x1b[31mred" }, 200, "554 ?[31mred" },
    /* cut short: the end says so */
    { { "550 5.1.1 User unknown" }, 23, "550 5.1.1 User unknown" },     /* just fits */
    { { "550 5.1.1 User unknown" }, 22, "550 5.1.1 User unk..." },
    { { "550 5.1.1 User unknown" }, 12, "550 5.1...." },
    { { "250-a", "250 b" }, 6, "25..." },                   /* "250 a" fits, the rest not */
    { { "250-a", "250 b" }, 9, "250 a; b" },
    { { "250-a", "250 b" }, 8, "250 ..." },
    { { "550 x" }, 5, "5..." },
    { { "550 xy" }, 5, "5..." },
    { { "550 x" }, 4, "550" },
    { { "550 x" }, 2, "5" },
    { { "550 x" }, 1, "" },
};

/* test_reply_oneline - the oneline_cases table, and an empty reply */
static void
test_reply_oneline(void **state)
{
    char out[256];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(oneline_cases); i++) {
        const struct oneline_case *c = &oneline_cases[i];
        struct smtp_reply r;
        char *o = malloc(c->outlen);

        assert_non_null(o);
        reply_init(&r);
        if (feed(&r, c->lines) != 1)
            report("oneline #%zu: the reply does not parse", i);
        memset(o, 'Z', c->outlen);
        reply_oneline(&r, o, c->outlen);
        if (strcmp(o, c->want) != 0)
            report("oneline #%zu (outlen %zu): got \"%s\", want \"%s\"", i, c->outlen,
                   show(o, strlen(o)), c->want);
        free(o);
        reply_free(&r);
    }

    struct smtp_reply r;
    reply_init(&r);
    memset(out, 'Z', sizeof(out));
    reply_oneline(&r, out, sizeof(out));
    if (out[0] != '\0')
        report("oneline of an empty reply: got \"%s\", want \"\"", show(out, strlen(out)));
    reply_oneline(&r, out, 0);          /* writes nothing */
    reply_free(&r);
    assert_int_equal(failures, 0);
}

/* The capabilities as bits, for the table. */
#define C_PIPE  0x001
#define C_TLS   0x002
#define C_8BIT  0x004
#define C_UTF8  0x008
#define C_DSN   0x010
#define C_CHUNK 0x020
#define C_ENH   0x040
#define C_SIZE  0x080
#define C_PLAIN 0x100
#define C_LOGIN 0x200

/* caps_bits - struct ehlo_caps as C_* bits */
static unsigned
caps_bits(const struct ehlo_caps *c)
{
    return (c->pipelining ? C_PIPE : 0) | (c->starttls ? C_TLS : 0)
           | (c->eightbitmime ? C_8BIT : 0) | (c->smtputf8 ? C_UTF8 : 0) | (c->dsn ? C_DSN : 0)
           | (c->chunking ? C_CHUNK : 0) | (c->enhancedstatuscodes ? C_ENH : 0)
           | (c->size ? C_SIZE : 0) | (c->auth_plain ? C_PLAIN : 0)
           | (c->auth_login ? C_LOGIN : 0);
}

/* One ehlo_parse() case. */
struct ehlo_case {
    const char        *lines[MAXL + 1];
    unsigned           want;
    unsigned long long size_max;
};

static const struct ehlo_case ehlo_cases[] = {
    { { "250-mx.example.test greets you", "250-PIPELINING", "250-SIZE 10240000", "250-STARTTLS",
        "250-8BITMIME", "250 SMTPUTF8" },
      C_PIPE | C_SIZE | C_TLS | C_8BIT | C_UTF8, 10240000 },
    { { "250-mx.example.test", "250-DSN", "250-CHUNKING", "250-ENHANCEDSTATUSCODES",
        "250 AUTH PLAIN LOGIN CRAM-MD5" },
      C_DSN | C_CHUNK | C_ENH | C_PLAIN | C_LOGIN, 0 },
    /* keywords in any case */
    { { "250-x", "250-pipelining", "250-StartTLS", "250-8bitmime", "250 auth login" },
      C_PIPE | C_TLS | C_8BIT | C_LOGIN, 0 },
    /* the first line is the greeting, never a keyword */
    { { "250 PIPELINING" }, 0, 0 },
    { { "250-STARTTLS", "250 DSN" }, C_DSN, 0 },
    { { "250-x", "250 SIZE" }, C_SIZE, 0 },
    { { "250-x", "250 SIZE 0" }, C_SIZE, 0 },
    { { "250-x", "250 SIZE 1" }, C_SIZE, 1 },
    { { "250-x", "250 SIZE  35882577" }, C_SIZE, 35882577 },
    { { "250-x", "250 SIZE abc" }, C_SIZE, 0 },
    { { "250-x", "250 SIZE 12x" }, C_SIZE, 0 },
    { { "250-x", "250 SIZE -1" }, C_SIZE, 0 },
    { { "250-x", "250 SIZE 18446744073709551615" }, C_SIZE, ULLONG_MAX },
    { { "250-x", "250 SIZE 18446744073709551616" }, C_SIZE, 0 },
    { { "250-x", "250 SIZE=1000" }, 0, 0 },
    { { "250-x", "250 SIZEX 1000" }, 0, 0 },
    /* AUTH, both forms */
    { { "250-x", "250 AUTH=PLAIN LOGIN" }, C_PLAIN | C_LOGIN, 0 },
    { { "250-x", "250 AUTH=LOGIN" }, C_LOGIN, 0 },
    { { "250-x", "250-AUTH CRAM-MD5", "250 AUTH=PLAIN" }, C_PLAIN, 0 },
    { { "250-x", "250 AUTH CRAM-MD5 DIGEST-MD5" }, 0, 0 },
    { { "250-x", "250 AUTH  plain   XOAUTH2" }, C_PLAIN, 0 },
    { { "250-x", "250 AUTH" }, 0, 0 },
    { { "250-x", "250 AUTHPLAIN" }, 0, 0 },
    { { "250-x", "250 AUTH PLAINX LOGINX" }, 0, 0 },
    /* near misses and others */
    { { "250-x", "250-PIPELININGX", "250-X-EXPS DSN", "250 STARTTLS=1" }, 0, 0 },
    { { "250-x", "250-VRFY", "250-ETRN", "250 HELP" }, 0, 0 },
    { { "250-x", "250- PIPELINING ", "250 DSN\t" }, C_PIPE | C_DSN, 0 },
    { { "250-x", "250-", "250 8BITMIME" }, C_8BIT, 0 },
    { { "250-x\r", "250 CHUNKING\r" }, C_CHUNK, 0 },
    /* only a complete 250 offers anything */
    { { "550 PIPELINING" }, 0, 0 },
    { { "500-x", "500 PIPELINING" }, 0, 0 },
    { { "251-x", "251 PIPELINING" }, 0, 0 },
    { { "250-x", "250-PIPELINING" }, 0, 0 },
};

/* test_ehlo_parse - the ehlo_cases table */
static void
test_ehlo_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(ehlo_cases); i++) {
        const struct ehlo_case *c = &ehlo_cases[i];
        struct smtp_reply r;
        struct ehlo_caps caps;

        reply_init(&r);
        if (feed(&r, c->lines) < 0)
            report("ehlo #%zu: the reply does not parse", i);
        memset(&caps, 0xa5, sizeof(caps));      /* ehlo_parse clears it */
        ehlo_parse(&r, &caps);
        if (caps_bits(&caps) != c->want)
            report("ehlo #%zu (\"%s\"...): caps got 0x%03x, want 0x%03x", i, c->lines[1] ? c->lines[1] : c->lines[0],
                   caps_bits(&caps), c->want);
        if (caps.size_max != c->size_max)
            report("ehlo #%zu: size_max got %llu, want %llu", i, caps.size_max, c->size_max);
        reply_free(&r);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reply_feed),
        cmocka_unit_test(test_reply_max_lines),
        cmocka_unit_test(test_reply_next),
        cmocka_unit_test(test_reply_oneline),
        cmocka_unit_test(test_ehlo_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
