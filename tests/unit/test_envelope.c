/*
 * test_envelope - unit tests for src/queue/envelope.c: the queue file's
 * head, envelope_format() and envelope_parse().
 *
 * Table-driven: each row is one envelope or one hostile head, and every
 * mismatch is reported as "got ..., want ..."; the test fails at the end,
 * so one run shows all broken rows. Inputs handed to envelope_parse() are
 * copied into allocations of their exact size, so that AddressSanitizer
 * catches a read past the end; the sanitizer's leak check covers the
 * error paths.
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

#include "mail/smtp_cmd.h"
#include "queue/envelope.h"
#include "util/buf.h"

#include "check.h"

/* same - equal strings, NULL only equal to NULL */
static bool
same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* parse_copy - envelope_parse() over an exact-size heap copy of text */
static struct envelope *
parse_copy(const char *text, size_t n, size_t *body_off, char *err, size_t errlen)
{
    char *copy = malloc(n ? n : 1);
    struct envelope *env;

    assert_non_null(copy);
    memcpy(copy, text, n);
    env = envelope_parse(copy, n, body_off, err, errlen);
    free(copy);
    return env;
}

/* ---- round trip -------------------------------------------------------- */

struct rcpt_row {
    const char *mailbox;        /* NULL ends the list */
    const char *orig;
    unsigned    notify;
    const char *orcpt;
};

struct rt_case {
    const char *name;
    const char *id;
    long long   arrival;
    const char *sender;
    const char *client_ip;      /* as set before formatting */
    const char *helo;
    const char *want_ip;        /* as parsed back */
    const char *want_helo;
    size_t      size;
    long long   length;         /* -1: no length line */
    unsigned    flags;
    int         ret;
    const char *envid;
    struct rcpt_row rcpts[4];
};

static const struct rt_case rt_cases[] = {
    { "null sender",
      "0193A1B2C3D4E5F6", 1764380000, "", "127.0.0.1", "mx.example.net",
      "127.0.0.1", "mx.example.net", 4096, 3990, 0, RET_NONE, NULL,
      { { "bob@example.org", "bob@example.org", 0, NULL } } },
    { "plain sender, every flag, ret full, envid",
      "FFFFFFFFFFFFFFFF", 0, "alice@example.org", "192.0.2.1", "client.example",
      "192.0.2.1", "client.example", 0, 0, ENV_F_8BITMIME | ENV_F_SMTPUTF8, RET_FULL, "QQ314159",
      { { "bob@example.org", "Bob@Example.ORG", NOTIFY_SUCCESS | NOTIFY_FAILURE,
          "rfc822;Bob@Example.ORG" } } },
    { "quoted local parts with spaces and %",
      "0123456789abcdef", 4102444800LL, "\"a b%c\"@example.org", "2001:db8::1", "[192.0.2.1]",
      "2001:db8::1", "[192.0.2.1]", 10240000, 10000000, ENV_F_8BITMIME, RET_HDRS, "a b%c",
      { { "\"john doe\"@example.org", "\"John Doe\"@example.org", NOTIFY_NEVER,
          "rfc822;\"John Doe\"@example.org" },
        { "\"100%\"@example.org", "\"100%\"@example.org", 0, NULL } } },
    { "several recipients, each notify combination and orcpt",
      "00000000000000AB", 1, "bounce+x=y@lists.example", "127.0.0.1", "helo",
      "127.0.0.1", "helo", 123, -1, ENV_F_SMTPUTF8, RET_NONE, NULL,
      { { "bob@example.org", "bob+x@example.org",
          NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY, "rfc822;bob+x@example.org" },
        { "carol@example.org", "Carol@example.org", NOTIFY_NEVER, NULL },
        { "dave@example.org", "dave@example.org", 15, "utf-8;d\\x{E9}ve@example.org" },
        { "erin@example.org", "erin@example.org", 0, "x;a%2Bb c" } } },
    { "control octets, DEL and UTF-8 in values",
      "1234567890ABCDEF", 1764380000, "t\ta\x7f\r\n@example.org", "::1", "h\x01lo",
      "::1", "h\x01lo", 1, -1, 0, RET_NONE, "id\x7f%00",
      { { "jos\xc3\xa9@example.org", "jos\xc3\xa9@example.org", NOTIFY_DELAY, NULL } } },
    { "no client IP or HELO: written as \"-\"",
      "0193A1B2C3D4E5F6", 1764380000, "", NULL, NULL,
      "-", "-", 10, 8, 0, RET_NONE, NULL,
      { { "bob@example.org", "bob@example.org", 0, NULL } } },
    { "empty HELO: written as \"-\"",
      "0193A1B2C3D4E5F6", 1764380000, "", "127.0.0.1", "",
      "127.0.0.1", "-", 10, -1, 0, RET_NONE, NULL,
      { { "bob@example.org", "bob@example.org", 0, NULL } } },
};

/* build - the envelope a row describes */
static struct envelope *
build(const struct rt_case *c)
{
    struct envelope *env = envelope_new();

    snprintf(env->id, sizeof(env->id), "%s", c->id);
    env->arrival = (time_t)c->arrival;
    free(env->sender);
    env->sender = strdup(c->sender);
    env->client_ip = c->client_ip ? strdup(c->client_ip) : NULL;
    env->helo = c->helo ? strdup(c->helo) : NULL;
    env->size = c->size;
    env->have_length = c->length >= 0;
    env->length = c->length >= 0 ? (size_t)c->length : 0;
    env->flags = c->flags;
    env->ret = c->ret;
    env->envid = c->envid ? strdup(c->envid) : NULL;
    for (size_t i = 0; i < NELEM(c->rcpts) && c->rcpts[i].mailbox; i++)
        envelope_add_rcpt(env, c->rcpts[i].mailbox, c->rcpts[i].orig, c->rcpts[i].notify,
                          c->rcpts[i].orcpt);
    return env;
}

/* compare - report every field of got that differs from the row (the
 * client and HELO only after parsing: formatting writes "-" for none) */
static void
compare(const char *what, const struct rt_case *c, const struct envelope *got)
{
    size_t nr = 0;

    while (nr < NELEM(c->rcpts) && c->rcpts[nr].mailbox)
        nr++;
    if (strcmp(got->id, c->id) != 0)
        report("%s [%s]: got id \"%s\", want \"%s\"", what, c->name, got->id, c->id);
    if ((long long)got->arrival != c->arrival)
        report("%s [%s]: got arrival %lld, want %lld", what, c->name,
               (long long)got->arrival, c->arrival);
    if (!same(got->sender, c->sender))
        report("%s [%s]: got sender \"%s\", want \"%s\"", what, c->name,
               showz(got->sender), showz(c->sender));
    if (strcmp(what, "envelope_parse") == 0
        && (!same(got->client_ip, c->want_ip) || !same(got->helo, c->want_helo)))
        report("%s [%s]: got client \"%s\" \"%s\", want \"%s\" \"%s\"", what, c->name,
               showz(got->client_ip), showz(got->helo), showz(c->want_ip), showz(c->want_helo));
    if (got->size != c->size)
        report("%s [%s]: got size %zu, want %zu", what, c->name, got->size, c->size);
    if (got->have_length != (c->length >= 0)
        || (c->length >= 0 && got->length != (size_t)c->length))
        report("%s [%s]: got length %d/%zu, want %lld", what, c->name, got->have_length,
               got->length, c->length);
    if (got->flags != c->flags)
        report("%s [%s]: got flags 0x%x, want 0x%x", what, c->name, got->flags, c->flags);
    if (got->ret != c->ret)
        report("%s [%s]: got ret %d, want %d", what, c->name, got->ret, c->ret);
    if (!same(got->envid, c->envid))
        report("%s [%s]: got envid \"%s\", want \"%s\"", what, c->name, showz(got->envid),
               showz(c->envid));
    if (got->nrcpts != nr) {
        report("%s [%s]: got %zu recipients, want %zu", what, c->name, got->nrcpts, nr);
        return;
    }
    for (size_t i = 0; i < nr; i++) {
        const struct env_rcpt *r = &got->rcpts[i];
        const struct rcpt_row *w = &c->rcpts[i];
        if (!same(r->mailbox, w->mailbox) || !same(r->orig, w->orig) || r->notify != w->notify
            || !same(r->orcpt, w->orcpt) || r->state != RCPT_PENDING || r->last_error)
            report("%s [%s]: got rcpt %zu \"%s\" \"%s\" %u \"%s\" state %d, "
                   "want \"%s\" \"%s\" %u \"%s\" pending", what, c->name, i,
                   showz(r->mailbox), showz(r->orig), r->notify, showz(r->orcpt),
                   (int)r->state, showz(w->mailbox), showz(w->orig), w->notify,
                   showz(w->orcpt));
    }
    if (envelope_pending(got) != nr)
        report("%s [%s]: got %zu pending, want %zu", what, c->name, envelope_pending(got), nr);
}

/* test_round_trip - format, parse back, compare; the body starts at body_off */
static void
test_round_trip(void **state)
{
    static const char body[] = "Subject: hi\r\n\r\n\r\nline\n\nPOSTINO-QUEUE 1\n\r\n";

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(rt_cases); i++) {
        const struct rt_case *c = &rt_cases[i];
        struct envelope *env = build(c), *back;
        struct buf head = BUF_INIT, file = BUF_INIT, again = BUF_INIT;
        char err[128] = "";
        size_t off = 0;

        compare("envelope_add_rcpt", c, env);
        envelope_format(env, &head);
        if (head.len < 2 || memcmp(head.data + head.len - 2, "\n\n", 2) != 0)
            report("envelope_format [%s]: got \"%s\", want a head ending in an empty line",
                   c->name, show(head.data, head.len));
        /* the head is text: one "key value" a line, no NUL, no CR */
        if (memchr(head.data, '\0', head.len) || memchr(head.data, '\r', head.len))
            report("envelope_format [%s]: got raw NUL or CR in \"%s\"", c->name,
                   show(head.data, head.len));

        /* head alone: body_off is its end */
        back = parse_copy(head.data, head.len, &off, err, sizeof(err));
        if (!back) {
            report("envelope_parse [%s]: got NULL (%s), want the envelope from \"%s\"",
                   c->name, err, show(head.data, head.len));
        } else {
            compare("envelope_parse", c, back);
            if (off != head.len)
                report("envelope_parse [%s]: got body_off %zu, want %zu", c->name, off,
                       head.len);
            /* formatting what was parsed gives the same bytes */
            envelope_format(back, &again);
            if (again.len != head.len || memcmp(again.data, head.data, head.len) != 0)
                report("envelope_format(parse) [%s]:\n  got  \"%s\"\n  want \"%s\"", c->name,
                       show(again.data, again.len), show(head.data, head.len));
            envelope_free(back);
        }

        /* head and body: body_off points at the body's first octet */
        buf_append(&file, head.data, head.len);
        buf_append(&file, body, sizeof(body) - 1);
        off = 0;
        back = parse_copy(file.data, file.len, &off, err, sizeof(err));
        if (!back)
            report("envelope_parse [%s] with body: got NULL (%s)", c->name, err);
        else if (off != head.len || memcmp(file.data + off, body, sizeof(body) - 1) != 0)
            report("envelope_parse [%s] with body: got body_off %zu, want %zu", c->name,
                   off, head.len);
        envelope_free(back);

        envelope_free(env);
        buf_free(&head);
        buf_free(&file);
        buf_free(&again);
    }
    assert_int_equal(failures, 0);
}

/* test_format_golden - the documented on-disk form, byte for byte */
static void
test_format_golden(void **state)
{
    static const char want[] =
        "POSTINO-QUEUE 1\n"
        "id 0193A1B2C3D4E5F6\n"
        "arrival 1764380000\n"
        "sender \"a%20b%25c\"@example.org\n"
        "client 127.0.0.1 mx.example.net\n"
        "size 4096\n"
        "flags 8bitmime smtputf8\n"
        "ret full\n"
        "envid QQ314159\n"
        "rcpt bob@example.org bob+x@example.org 6 rfc822;bob+x@example.org\n"
        "rcpt carol@example.org Carol@example.org 1 -\n"
        "\n";
    struct envelope *env = envelope_new();
    struct buf out = BUF_INIT;

    (void)state;
    snprintf(env->id, sizeof(env->id), "0193A1B2C3D4E5F6");
    env->arrival = 1764380000;
    free(env->sender);
    env->sender = strdup("\"a b%c\"@example.org");
    env->client_ip = strdup("127.0.0.1");
    env->helo = strdup("mx.example.net");
    env->size = 4096;
    env->flags = ENV_F_8BITMIME | ENV_F_SMTPUTF8;
    env->ret = RET_FULL;
    env->envid = strdup("QQ314159");
    envelope_add_rcpt(env, "bob@example.org", "bob+x@example.org",
                      NOTIFY_SUCCESS | NOTIFY_FAILURE, "rfc822;bob+x@example.org");
    envelope_add_rcpt(env, "carol@example.org", "Carol@example.org", NOTIFY_NEVER, "");
    envelope_format(env, &out);
    assert_string_equal(buf_cstr(&out), want);

    /* the null sender is "sender" alone */
    free(env->sender);
    env->sender = strdup("");
    env->flags = 0;
    env->ret = RET_HDRS;
    buf_reset(&out);
    envelope_format(env, &out);
    assert_non_null(strstr(buf_cstr(&out), "\nsender\nclient "));
    assert_null(strstr(buf_cstr(&out), "flags"));
    assert_non_null(strstr(buf_cstr(&out), "\nret hdrs\n"));
    envelope_free(env);
    envelope_free(NULL);        /* harmless */
    buf_free(&out);
}

/* ---- heads written by hand: accepted ----------------------------------- */

#define MAGIC   "POSTINO-QUEUE 1\n"
#define ID      "id 0193A1B2C3D4E5F6\n"
#define ARR     "arrival 1764380000\n"
#define SIZE    "size 10\n"
#define RCPT    "rcpt b@c.org b@c.org 0 -\n"
#define HEAD    MAGIC ID ARR "sender a@b.org\nclient 127.0.0.1 mx\n" SIZE RCPT

struct ok_case {
    const char *text;
    size_t      len;
    size_t      body_off;
    const char *sender;
    const char *envid;
    size_t      nrcpts;
};

static const struct ok_case ok_cases[] = {
    /* the minimum: no sender line means <>, no client line */
    { S(MAGIC ID ARR SIZE RCPT "\n"), sizeof(MAGIC ID ARR SIZE RCPT "\n") - 1, "", NULL, 1 },
    { S(HEAD "\nbody"), sizeof(HEAD "\n") - 1, "a@b.org", NULL, 1 },
    /* fields in any order; "sender" alone is <> */
    { S(MAGIC RCPT SIZE "sender\n" ARR ID "\n"), sizeof(MAGIC RCPT SIZE "sender\n" ARR ID "\n") - 1,
      "", NULL, 1 },
    /* a later line replaces an earlier one (and the earlier value is freed) */
    { S(HEAD "sender x@y.org\nclient ::1 other\nenvid A\nenvid B\n\n"),
      sizeof(HEAD "sender x@y.org\nclient ::1 other\nenvid A\nenvid B\n\n") - 1,
      "x@y.org", "B", 1 },
    /* extra spaces between fields; "flags" with no flag */
    { S(MAGIC ID ARR SIZE "flags\nrcpt  b@c.org   b@c.org 0 -  \n\n"),
      sizeof(MAGIC ID ARR SIZE "flags\nrcpt  b@c.org   b@c.org 0 -  \n\n") - 1, "", NULL, 1 },
    /* the body may hold NULs and anything else */
    { S(HEAD "\n\0\n\n" MAGIC), sizeof(HEAD "\n") - 1, "a@b.org", NULL, 1 },
    /* escapes decode, in either case of hex */
    { S(MAGIC ID ARR "sender %22a%20b%22@b.org\nenvid x%2fy%2Fz\n" SIZE RCPT RCPT "\n"),
      sizeof(MAGIC ID ARR "sender %22a%20b%22@b.org\nenvid x%2fy%2Fz\n" SIZE RCPT RCPT "\n") - 1,
      "\"a b\"@b.org", "x/y/z", 2 },
};

static void
test_parse_accepts(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(ok_cases); i++) {
        const struct ok_case *c = &ok_cases[i];
        char err[128] = "";
        size_t off = 0;
        struct envelope *env = parse_copy(c->text, c->len, &off, err, sizeof(err));

        if (!env) {
            report("envelope_parse(\"%s\"): got NULL (%s), want an envelope",
                   show(c->text, c->len), err);
            continue;
        }
        if (off != c->body_off)
            report("envelope_parse(\"%s\"): got body_off %zu, want %zu",
                   show(c->text, c->len), off, c->body_off);
        if (!same(env->sender, c->sender) || !same(env->envid, c->envid)
            || env->nrcpts != c->nrcpts)
            report("envelope_parse(\"%s\"): got sender \"%s\" envid \"%s\" %zu rcpts, "
                   "want \"%s\" \"%s\" %zu", show(c->text, c->len), showz(env->sender),
                   showz(env->envid), env->nrcpts, showz(c->sender), showz(c->envid),
                   c->nrcpts);
        if (strcmp(env->id, "0193A1B2C3D4E5F6") != 0 || env->arrival != 1764380000
            || env->size != 10)
            report("envelope_parse(\"%s\"): got id %s arrival %lld size %zu",
                   show(c->text, c->len), env->id, (long long)env->arrival, env->size);
        envelope_free(env);
    }
    assert_int_equal(failures, 0);
}

/* ---- heads written by hand: rejected ----------------------------------- */

struct bad_case {
    const char *text;
    size_t      len;
    const char *err;        /* the reason given */
};

#define INCOMPLETE "envelope is incomplete"
#define LACKS      "envelope lacks id, arrival, size or recipients"
#define MAGICERR   "not a postino queue file (version 1)"
#define LINE(n)    "envelope line " #n " is malformed"

static const struct bad_case bad_cases[] = {
    /* magic */
    { S(""),                                    MAGICERR },
    { S("POSTINO-QUEUE"),                       MAGICERR },
    { S("POSTINO-QUEUE 1"),                     MAGICERR },
    { S("POSTINO-QUEUE 2\n" ID ARR SIZE RCPT "\n"), MAGICERR },
    { S("POSTINO-QUEUE 10\n" ID ARR SIZE RCPT "\n"), MAGICERR },
    { S("postino-queue 1\n" ID ARR SIZE RCPT "\n"), MAGICERR },
    { S("POSTINO-QUEUE 1\r\n" ID ARR SIZE RCPT "\n"), MAGICERR },
    { S(" POSTINO-QUEUE 1\n" ID ARR SIZE RCPT "\n"), MAGICERR },
    { S("\n" MAGIC ID ARR SIZE RCPT "\n"),      MAGICERR },
    { S("POSTINO-QUEUE\0001\n" ID ARR SIZE RCPT "\n"), MAGICERR },
    /* missing fields */
    { S(MAGIC "\n"),                            LACKS },
    { S(MAGIC ARR SIZE RCPT "\n"),              LACKS },
    { S(MAGIC ID SIZE RCPT "\n"),               LACKS },
    { S(MAGIC ID ARR RCPT "\n"),                LACKS },
    { S(MAGIC ID ARR SIZE "\n"),                LACKS },
    { S(MAGIC ID ARR SIZE "sender a@b.org\n\n" "rcpt b@c.org b@c.org 0 -\n"), LACKS },
    /* truncated: no empty line */
    { S(MAGIC),                                 INCOMPLETE },
    { S(MAGIC ID ARR SIZE RCPT),                INCOMPLETE },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 0 -"), INCOMPLETE },
    { S(MAGIC ID ARR SIZE "rcpt b@c.or"),       INCOMPLETE },
    { S(MAGIC ID ARR SIZE RCPT "\r\n"),         LINE(6) },      /* CRLF is not an empty line */
    /* id */
    { S(MAGIC "id 0193A1B2C3D4E5FG\n" ARR SIZE RCPT "\n"),  LINE(2) },
    { S(MAGIC "id 0193A1B2C3D4E5F\n" ARR SIZE RCPT "\n"),   LINE(2) },
    { S(MAGIC "id 0193A1B2C3D4E5F60\n" ARR SIZE RCPT "\n"), LINE(2) },
    { S(MAGIC "id 0193A1B2-3D4E5F6\n" ARR SIZE RCPT "\n"),  LINE(2) },
    { S(MAGIC "id 0193A1B2 3D4E5F6\n" ARR SIZE RCPT "\n"),  LINE(2) },
    { S(MAGIC "id ../../etc/passw\n" ARR SIZE RCPT "\n"),   LINE(2) },
    { S(MAGIC "id 0193A1B2C3D4E5F\0\n" ARR SIZE RCPT "\n"), LINE(2) },
    { S(MAGIC "id\n" ARR SIZE RCPT "\n"),                   LINE(2) },
    /* numbers */
    { S(MAGIC ID "arrival 17643x\n" SIZE RCPT "\n"),        LINE(3) },
    { S(MAGIC ID "arrival -1\n" SIZE RCPT "\n"),            LINE(3) },
    { S(MAGIC ID "arrival 12345678901234567890\n" SIZE RCPT "\n"), LINE(3) },
    /* fuzz_envelope: over LLONG_MAX, arrival came back negative and the
     * envelope written back from it did not parse */
    { S(MAGIC ID "arrival 9223372036854775808\n" SIZE RCPT "\n"), LINE(3) },
    { S(MAGIC ID "arrival 9999999999999999999\n" SIZE RCPT "\n"), LINE(3) },
    { S(MAGIC ID "arrival\n" SIZE RCPT "\n"),               LINE(3) },
    { S(MAGIC ID ARR "size ten\n" RCPT "\n"),               LINE(4) },
    { S(MAGIC ID ARR "size 0x10\n" RCPT "\n"),              LINE(4) },
    { S(MAGIC ID ARR "size +1\n" RCPT "\n"),                LINE(4) },
    { S(MAGIC ID ARR SIZE "length -1\n" RCPT "\n"),         LINE(5) },
    { S(MAGIC ID ARR SIZE "length\n" RCPT "\n"),            LINE(5) },
    { S(MAGIC ID ARR SIZE "length 1 2\n" RCPT "\n"),        LINE(5) },
    /* bad %-escapes */
    { S(MAGIC ID ARR SIZE "sender a%2@b.org\n" RCPT "\n"),  LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a%@b.org\n" RCPT "\n"),   LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a%zz@b.org\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a@b.org%\n" RCPT "\n"),   LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a@b.org%4\n" RCPT "\n"),  LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a%+1@b.org\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "envid %G1\n" RCPT "\n"),         LINE(5) },
    { S(MAGIC ID ARR SIZE "client 127.0.0.1 m%x\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "client 127.0.0.%1 mx\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b%@c.org b@c.org 0 -\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b%4@c.org 0 -\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 0 %Z9\n\n"), LINE(5) },
    /* %00 and raw NUL: a C string cannot hold them */
    { S(MAGIC ID ARR SIZE "sender a%00b@c.org\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a\0b@c.org\n" RCPT "\n"),  LINE(5) },
    { S(MAGIC ID ARR SIZE "envid %00\n" RCPT "\n"),          LINE(5) },
    { S(MAGIC ID ARR SIZE "client 1%00 mx\n" RCPT "\n"),     LINE(5) },
    { S(MAGIC ID ARR SIZE "client 127.0.0.1 m\0x\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b%00@c.org b@c.org 0 -\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 0 x%00\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b\0@c.org 0 -\n\n"), LINE(5) },
    /* too many fields */
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 0 - extra\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 0 - extra more and more\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "sender a@b.org c@d.org\n" RCPT "\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "client 127.0.0.1 mx extra\n" RCPT "\n"), LINE(5) },
    { S(MAGIC "id 0193A1B2C3D4E5F6 0193A1B2C3D4E5F6\n" ARR SIZE RCPT "\n"), LINE(2) },
    { S(MAGIC ID "arrival 1 2\n" SIZE RCPT "\n"),           LINE(3) },
    { S(MAGIC ID ARR "size 1 2\n" RCPT "\n"),               LINE(4) },
    { S(MAGIC ID ARR SIZE "ret full hdrs\n" RCPT "\n"),     LINE(5) },
    { S(MAGIC ID ARR SIZE "envid a b\n" RCPT "\n"),         LINE(5) },
    { S(MAGIC ID ARR SIZE "flags 8bitmime smtputf8 8bitmime smtputf8 8bitmime\n" RCPT "\n"),
      LINE(5) },
    /* too few fields */
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 0\n\n"),    LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org\n\n"),              LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt\n\n"),                      LINE(5) },
    { S(MAGIC ID ARR SIZE "client 127.0.0.1\n" RCPT "\n"),  LINE(5) },
    { S(MAGIC ID ARR SIZE "envid\n" RCPT "\n"),             LINE(5) },
    { S(MAGIC ID ARR SIZE "ret\n" RCPT "\n"),               LINE(5) },
    /* bad values */
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 16 -\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org x -\n\n"),  LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org -1 -\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt b@c.org b@c.org 99999999999999999999 -\n\n"), LINE(5) },
    { S(MAGIC ID ARR SIZE "rcpt bob b@c.org 0 -\n\n"),      LINE(5) },  /* no "@" */
    { S(MAGIC ID ARR SIZE "flags 7bit\n" RCPT "\n"),        LINE(5) },
    { S(MAGIC ID ARR SIZE "flags 8BITMIME\n" RCPT "\n"),    LINE(5) },
    { S(MAGIC ID ARR SIZE "ret none\n" RCPT "\n"),          LINE(5) },
    { S(MAGIC ID ARR SIZE "ret FULL\n" RCPT "\n"),          LINE(5) },
    /* unknown or broken lines */
    { S(MAGIC ID ARR SIZE "colour red\n" RCPT "\n"),        LINE(5) },
    { S(MAGIC ID ARR SIZE "Sender a@b.org\n" RCPT "\n"),    LINE(5) },
    { S(MAGIC ID ARR SIZE "   \n" RCPT "\n"),               LINE(5) },
    { S(MAGIC ID ARR SIZE "sender\ta@b.org\n" RCPT "\n"),   LINE(5) },
    { S(MAGIC ID ARR SIZE RCPT "\0\n\n"),                   LINE(6) },
    /* a later malformed line is still found after good ones */
    { S(MAGIC ID ARR SIZE RCPT RCPT RCPT "rcpt x\n\n"),     LINE(8) },
};

static void
test_parse_rejects(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        char err[128] = "";
        size_t off = 777;
        struct envelope *env = parse_copy(c->text, c->len, &off, err, sizeof(err));

        if (env) {
            report("envelope_parse(\"%s\"): got an envelope, want NULL (%s)",
                   show(c->text, c->len), c->err);
            envelope_free(env);
            continue;
        }
        if (strcmp(err, c->err) != 0)
            report("envelope_parse(\"%s\"): got error \"%s\", want \"%s\"",
                   show(c->text, c->len), err, c->err);
        if (off != 777)
            report("envelope_parse(\"%s\"): failed but set body_off %zu",
                   show(c->text, c->len), off);
    }
    assert_int_equal(failures, 0);
}

/* test_parse_prefixes - every proper prefix of a good head is refused */
static void
test_parse_prefixes(void **state)
{
    const struct rt_case *c = &rt_cases[3];     /* the one with the most lines */
    struct envelope *env = build(c);
    struct buf head = BUF_INIT;

    (void)state;
    failures = 0;
    envelope_format(env, &head);
    for (size_t n = 0; n < head.len; n++) {
        char err[128] = "";
        size_t off = 0;
        struct envelope *got = parse_copy(head.data, n, &off, err, sizeof(err));

        if (got) {
            report("envelope_parse(first %zu of %zu octets): got an envelope, want NULL",
                   n, head.len);
            envelope_free(got);
        } else if (err[0] == '\0') {
            report("envelope_parse(first %zu of %zu octets): got NULL without a reason",
                   n, head.len);
        }
        /* and spool_scan takes it for a head a crash cut short */
        char *copy = malloc(n ? n : 1);
        memcpy(copy, head.data, n);
        if (!envelope_head_partial(copy, n))
            report("envelope_head_partial(first %zu of %zu octets): got false", n, head.len);
        free(copy);
    }
    envelope_free(env);
    buf_free(&head);
    assert_int_equal(failures, 0);
}

/* test_head_partial_no - whole heads and what is not a head are not partial */
static void
test_head_partial_no(void **state)
{
    static const struct { const char *text; size_t len; } no[] = {
        { S(HEAD "\n") },
        { S(HEAD "\nbody cut anywhere") },
        { S(MAGIC "\n") },                 /* a whole (if empty) head */
        { S(MAGIC ID ARR SIZE "colour red\n\n") },
        { S("nope") },
        { S("POSTINO-QUEUE 2") },
        { S("POSTINO-QUEUE 1\r\n") },
        { S("\nPOSTINO-QUEUE 1\n") },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(no); i++) {
        char *copy = malloc(no[i].len);
        memcpy(copy, no[i].text, no[i].len);
        if (envelope_head_partial(copy, no[i].len))
            report("envelope_head_partial(\"%s\"): got true, want false",
                   show(no[i].text, no[i].len));
        free(copy);
    }
    assert_int_equal(failures, 0);
}

/* test_parse_small_err - a tiny error buffer is filled, not overrun */
static void
test_parse_small_err(void **state)
{
    char err[8];
    size_t off;

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_null(parse_copy(S(MAGIC ID ARR SIZE "colour red\n\n"), &off, err, sizeof(err)));
    assert_string_equal(err, "envelop");
    assert_null(parse_copy(S("nope"), &off, err, 1));
    assert_string_equal(err, "");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_format_golden),
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_prefixes),
        cmocka_unit_test(test_head_partial_no),
        cmocka_unit_test(test_parse_small_err),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
