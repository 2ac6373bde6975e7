/*
 * test_dmarc - unit tests for src/mail/from.c (the RFC5322.From domain)
 * and src/dmarc/ (record, organizational domain, policy discovery,
 * evaluation).
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and
 * each test fails at its end. Field bodies and messages are passed as
 * heap copies of exactly their length, so AddressSanitizer sees a read
 * past the end. DNS is a table behind the lookup function; the restart
 * protocol is driven as the server will: on DMARC_NEED_TXT the name is
 * "fetched" (made known) and dmarc_discover() is called again. The group
 * setup loads the Public Suffix List once (the system's file if there,
 * as the server does).
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
#include <unistd.h>

#include "dmarc/dmarc.h"
#include "mail/from.h"

#define SHOW_STYLE { .esc = "\n\t" }
#include "check.h"

static struct dmarc_psl *psl;

static const char *const from_names[] = {
    "FROM_OK", "FROM_NONE", "FROM_SEVERAL_FIELDS", "FROM_NO_ADDRESS",
    "FROM_SEVERAL_ADDRESSES", "FROM_SYNTAX", "FROM_NO_DOMAIN", "FROM_TOO_LONG",
};

static const char *
from_name(enum from_status s)
{
    return (unsigned)s < NELEM(from_names) ? from_names[s] : "?";
}

/* ---- from_parse: one field body --------------------------------------- */

/* want: status, domain, address; "" where the field is empty */
static const struct {
    const char      *v;
    size_t           len;
    enum from_status st;
    const char      *domain;
    const char      *address;
} parse_cases[] = {
    /* plain addr-spec and name-addr */
    { S(" user@example.com"),                      FROM_OK, "example.com", "user@example.com" },
    { S("user@example.com"),                       FROM_OK, "example.com", "user@example.com" },
    { S(" <user@example.com>"),                    FROM_OK, "example.com", "user@example.com" },
    { S(" User <user@example.com>"),               FROM_OK, "example.com", "user@example.com" },
    { S(" Joe Q. Public <john.q.public@example.com>"), FROM_OK, "example.com",
      "john.q.public@example.com" },
    /* the domain in lower case, the local part as written */
    { S(" User <User@Example.COM>"),               FROM_OK, "example.com", "User@example.com" },
    { S(" USER@MAIL.EXAMPLE.ORG"),                 FROM_OK, "mail.example.org",
      "USER@mail.example.org" },
    /* quoted display names, with specials in them */
    { S(" \"Doe, John\" <john@example.com>"),      FROM_OK, "example.com", "john@example.com" },
    { S(" \"a@evil.example\" <b@good.example>"),   FROM_OK, "good.example", "b@good.example" },
    { S(" \"<a@evil.example>\" <b@good.example>"), FROM_OK, "good.example", "b@good.example" },
    { S(" \"x\\\"y\" <b@example.com>"),            FROM_OK, "example.com", "b@example.com" },
    { S(" \"Jo\x01hn\" <j@example.com>"),          FROM_OK, "example.com", "j@example.com" },
    /* obs-phrase: unquoted dots in a display name */
    { S(" J. Smith <j@example.com>"),              FROM_OK, "example.com", "j@example.com" },
    /* comments, anywhere, nested, with quoted pairs */
    { S(" (comment) user@example.com"),            FROM_OK, "example.com", "user@example.com" },
    { S(" user@example.com (Joe)"),                FROM_OK, "example.com", "user@example.com" },
    { S(" user(c)@(c)example.com"),                FROM_OK, "example.com", "user@example.com" },
    { S(" ((nested) comment) u@example.com (a (b) c)"), FROM_OK, "example.com", "u@example.com" },
    { S(" (a \\) b) user@example.com"),            FROM_OK, "example.com", "user@example.com" },
    { S(" b@good.example (<a@evil.example>)"),     FROM_OK, "good.example", "b@good.example" },
    { S(" Joe <j@example.com> (work, a@evil.example)"), FROM_OK, "example.com", "j@example.com" },
    /* obs-local-part and obs-domain: CFWS around the dots */
    { S(" john . doe @ example . com"),            FROM_OK, "example.com", "john.doe@example.com" },
    { S(" john.(x)doe@example.(y)com"),            FROM_OK, "example.com", "john.doe@example.com" },
    /* quoted local parts, kept with their quotes */
    { S(" \"john doe\"@example.com"),              FROM_OK, "example.com", "\"john doe\"@example.com" },
    { S(" \"a@evil.example\"@good.example"),       FROM_OK, "good.example",
      "\"a@evil.example\"@good.example" },
    { S(" \"\"@example.com"),                      FROM_OK, "example.com", "\"\"@example.com" },
    /* consecutive dots in a local part: tolerated */
    { S(" user..name@example.com"),                FROM_OK, "example.com", "user..name@example.com" },
    /* obs-route */
    { S(" <@route.example:john@example.com>"),     FROM_OK, "example.com", "john@example.com" },
    { S(" Joe <@a.example,@b.example:j@example.com>"), FROM_OK, "example.com", "j@example.com" },
    { S(" <,@a.example,,@[192.0.2.1]:j@example.com>"), FROM_OK, "example.com", "j@example.com" },
    /* encoded words in the display name: one word each */
    { S(" =?utf-8?q?J=C3=B6rg?= <j@example.com>"), FROM_OK, "example.com", "j@example.com" },
    { S(" =?UTF-8?B?SsO2cmc=?= <j@example.com>"),  FROM_OK, "example.com", "j@example.com" },
    { S(" =?utf-8?q?Smith,_John?= <j@example.com>"), FROM_OK, "example.com", "j@example.com" },
    { S(" =?utf-8?q?a@evil.example?= <j@example.com>"), FROM_OK, "example.com", "j@example.com" },
    { S(" =?utf-8?q?<a@evil.example>?= <j@example.com>"), FROM_OK, "example.com", "j@example.com" },
    { S(" =?iso-8859-1*de?q?x?= =?utf-8?q?y?= <j@example.com>"), FROM_OK, "example.com",
      "j@example.com" },
    /* not an encoded word when glued to more atext: just an atom */
    { S(" =?utf-8?q?a?=b <x@example.com>"),       FROM_OK, "example.com", "x@example.com" },
    /* group syntax (RFC 6854) */
    { S(" Group: john@example.com;"),              FROM_OK, "example.com", "john@example.com" },
    { S(" Group: Joe <j@example.com>;"),           FROM_OK, "example.com", "j@example.com" },
    { S(" G: , j@example.com, ;"),                 FROM_OK, "example.com", "j@example.com" },
    { S(" G:;, a@example.com"),                    FROM_OK, "example.com", "a@example.com" },
    { S(" Undisclosed recipients:;"),              FROM_NO_ADDRESS, "", "" },
    { S(" A:;, B:;"),                              FROM_NO_ADDRESS, "", "" },
    /* empty list elements (obs-addr-list) */
    { S(" a@example.com,"),                        FROM_OK, "example.com", "a@example.com" },
    { S(" ,a@example.com"),                        FROM_OK, "example.com", "a@example.com" },
    { S(" , ,Name <a@example.com>, ,"),            FROM_OK, "example.com", "a@example.com" },
    /* folding: LF + WSP is white space, in quoted strings too */
    { S(" John\n Doe\n\t<john@\n example.com>"),   FROM_OK, "example.com", "john@example.com" },
    { S("\n user@example.com"),                    FROM_OK, "example.com", "user@example.com" },
    { S(" \"john\n doe\"@example.com"),            FROM_OK, "example.com", "\"john doe\"@example.com" },
    /* host names: underscore, A-labels, U-labels (lower-cased ASCII only) */
    { S(" user@ex_ample.com"),                     FROM_OK, "ex_ample.com", "user@ex_ample.com" },
    { S(" user@XN--BCHER-KVA.example"),            FROM_OK, "xn--bcher-kva.example",
      "user@xn--bcher-kva.example" },
    { S(" user@b\xc3\xbc" "cher.example"),         FROM_OK, "b\xc3\xbc" "cher.example",
      "user@b\xc3\xbc" "cher.example" },
    { S(" user@B\xc3\x9c" "CHER.example"),         FROM_OK, "b\xc3\x9c" "cher.example",
      "user@b\xc3\x9c" "cher.example" },
    { S(" \xc3\xa9l\xc3\xa8ve@\xe4\xbe\x8b\xe3\x81\x88.jp"), FROM_OK, "\xe4\xbe\x8b\xe3\x81\x88.jp",
      "\xc3\xa9l\xc3\xa8ve@\xe4\xbe\x8b\xe3\x81\x88.jp" },
    { S(" user@localhost"),                        FROM_OK, "localhost", "user@localhost" },
    { S(" user@1.2.3.4"),                          FROM_OK, "1.2.3.4", "user@1.2.3.4" },
    /* a 63-octet label is fine */
    { S(" u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"), FROM_OK,
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example",
      "u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example" },

    /* no address */
    { S(""),                                       FROM_NO_ADDRESS, "", "" },
    { S("   "),                                    FROM_NO_ADDRESS, "", "" },
    { S(" (only a comment)"),                      FROM_NO_ADDRESS, "", "" },
    { S(" ,,,"),                                   FROM_NO_ADDRESS, "", "" },
    /* several addresses: same domain or not, in groups or not */
    { S(" a@example.com, b@example.com"),          FROM_SEVERAL_ADDRESSES, "", "" },
    { S(" a@good.example, b@evil.example"),        FROM_SEVERAL_ADDRESSES, "", "" },
    { S(" G: a@example.com, b@example.com;"),      FROM_SEVERAL_ADDRESSES, "", "" },
    { S(" G: a@example.com;, b@example.org"),      FROM_SEVERAL_ADDRESSES, "", "" },
    { S(" G: a@example.com;, H: b@example.org;"),  FROM_SEVERAL_ADDRESSES, "", "" },
    { S(" Smith, John <j@example.com>"),           FROM_SEVERAL_ADDRESSES, "", "" },
    { S(" a@example.com, root"),                   FROM_SEVERAL_ADDRESSES, "", "" },
    /* no domain */
    { S(" root"),                                  FROM_NO_DOMAIN, "", "root" },
    { S(" <root>"),                                FROM_NO_DOMAIN, "", "root" },
    { S(" Root <root>"),                           FROM_NO_DOMAIN, "", "root" },
    { S(" user@[192.0.2.1]"),                      FROM_NO_DOMAIN, "", "user" },
    { S(" <user@[IPv6:2001:db8::1]>"),             FROM_NO_DOMAIN, "", "user" },
    /* syntax errors: addresses that two programs would read two ways */
    { S(" a@evil.example <b@good.example>"),       FROM_SYNTAX, "", "" },
    { S(" <a@good.example> <b@evil.example>"),     FROM_SYNTAX, "", "" },
    { S(" a@good.example b@evil.example"),         FROM_SYNTAX, "", "" },
    { S(" a@b@example.com"),                       FROM_SYNTAX, "", "" },
    { S(" a@good.example@evil.example"),           FROM_SYNTAX, "", "" },
    { S(" John Smith"),                            FROM_SYNTAX, "", "" },
    { S(" john doe@example.com"),                  FROM_SYNTAX, "", "" },
    { S(" \"<a@evil.example>\" b@good.example"),   FROM_SYNTAX, "", "" },
    { S(" us\"er\"@example.com"),                  FROM_SYNTAX, "", "" },
    /* broken domains */
    { S(" user@"),                                 FROM_SYNTAX, "", "" },
    { S(" @example.com"),                          FROM_SYNTAX, "", "" },
    { S(" <@example.com>"),                        FROM_SYNTAX, "", "" },
    { S(" user@example..com"),                     FROM_SYNTAX, "", "" },
    { S(" user@.example.com"),                     FROM_SYNTAX, "", "" },
    { S(" user@example.com."),                     FROM_SYNTAX, "", "" },
    { S(" user@exa mple.com"),                     FROM_SYNTAX, "", "" },
    { S(" user@exa!mple.com"),                     FROM_SYNTAX, "", "" },
    { S(" user@exa/mple.com"),                     FROM_SYNTAX, "", "" },
    { S(" user@\"example.com\""),                  FROM_SYNTAX, "", "" },
    { S(" user@example.com\"x\""),                 FROM_SYNTAX, "", "" },
    { S(" u@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example"),
      FROM_SYNTAX, "", "" },
    /* malformed UTF-8 in a domain: truncated, overlong, surrogate, too big */
    { S(" user@b\xc3" "cher.example"),             FROM_SYNTAX, "", "" },
    { S(" user@\xc0\xae.example"),                 FROM_SYNTAX, "", "" },
    { S(" user@\xed\xa0\x80.example"),             FROM_SYNTAX, "", "" },
    { S(" user@\xf4\x90\x80\x80.example"),         FROM_SYNTAX, "", "" },
    { S(" user@example.\xc3"),                     FROM_SYNTAX, "", "" },
    /* encoded words inside an address (RFC 2047 5) */
    { S(" =?utf-8?q?x?=@example.com"),             FROM_SYNTAX, "", "" },
    { S(" user@=?utf-8?q?x?="),                    FROM_SYNTAX, "", "" },
    { S(" <=?utf-8?q?x?=@example.com>"),           FROM_SYNTAX, "", "" },
    /* unterminated or stray delimiters */
    { S(" \"unterminated@example.com"),            FROM_SYNTAX, "", "" },
    { S(" (unterminated user@example.com"),        FROM_SYNTAX, "", "" },
    { S(" ((a) user@example.com"),                 FROM_SYNTAX, "", "" },
    { S(" user@example.com)"),                     FROM_SYNTAX, "", "" },
    { S(" <user@example.com"),                     FROM_SYNTAX, "", "" },
    { S(" user@example.com>"),                     FROM_SYNTAX, "", "" },
    { S(" <<user@example.com>>"),                  FROM_SYNTAX, "", "" },
    { S(" <>"),                                    FROM_SYNTAX, "", "" },
    { S(" user@[192.0.2.1"),                       FROM_SYNTAX, "", "" },
    { S(" user@192.0.2.1]"),                       FROM_SYNTAX, "", "" },
    { S(" user@[1[2]"),                            FROM_SYNTAX, "", "" },
    { S(" \\user@example.com"),                    FROM_SYNTAX, "", "" },
    { S(" \"a\\"),                                 FROM_SYNTAX, "", "" },
    { S(" (a\\"),                                  FROM_SYNTAX, "", "" },
    { S(" .user@example.com"),                     FROM_SYNTAX, "", "" },
    { S(" user.@example.com"),                     FROM_SYNTAX, "", "" },
    { S(" . <user@example.com>"),                  FROM_SYNTAX, "", "" },
    /* semicolons and colons outside a group, groups in groups */
    { S(" user@example.com;"),                     FROM_SYNTAX, "", "" },
    { S(" <user@example.com>; x"),                 FROM_SYNTAX, "", "" },
    { S(" G: H: a@example.com;;"),                 FROM_SYNTAX, "", "" },
    { S(" G: a@example.com"),                      FROM_SYNTAX, "", "" },
    { S(" : a@example.com;"),                      FROM_SYNTAX, "", "" },
    { S(" <user@example.com:x>"),                  FROM_SYNTAX, "", "" },
    /* NUL, CR and controls outside quoted strings and comments */
    { S(" user@example.com\0"),                    FROM_SYNTAX, "", "" },
    { S(" user@exam\0ple.com"),                    FROM_SYNTAX, "", "" },
    { S(" user@exam\rple.com"),                    FROM_SYNTAX, "", "" },
    { S(" user@example.com\r"),                    FROM_SYNTAX, "", "" },
    { S(" \"a\0b\"@example.com"),                  FROM_SYNTAX, "", "" },
    { S(" (a\rb) user@example.com"),               FROM_SYNTAX, "", "" },
    { S(" Jo\x01hn <j@example.com>"),              FROM_SYNTAX, "", "" },
    { S(" user@example.com\x7f"),                  FROM_SYNTAX, "", "" },
};

static void
test_from_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(parse_cases); i++) {
        char *v = copy(parse_cases[i].v, parse_cases[i].len);
        struct from_addr a;
        enum from_status st = from_parse(v, parse_cases[i].len, &a);

        if (st != parse_cases[i].st || strcmp(a.domain, parse_cases[i].domain) != 0
            || strcmp(a.address, parse_cases[i].address) != 0)
            report("from_parse(\"%s\"): got %s \"%s\" \"%s\", want %s \"%s\" \"%s\"",
                   show(v, parse_cases[i].len), from_name(st), showz(a.domain),
                   showz(a.address), from_name(parse_cases[i].st),
                   showz(parse_cases[i].domain), showz(parse_cases[i].address));
        free(v);
    }
    assert_int_equal(failures, 0);
}

/* test_from_limits - the sizes: a domain of 255 octets, an address of 1023 */
static void
test_from_limits(void **state)
{
    static const struct {
        size_t           local;     /* octets of local part */
        size_t           labels;    /* labels of 63 'a' before ".example" (8 octets) */
        size_t           extra;     /* one more label of this many 'b' first (0: none) */
        enum from_status st;
    } cases[] = {
        { 4, 3, 0, FROM_OK },               /* 3*64 + 7 = 199 */
        { 4, 3, 55, FROM_OK },              /* 56 + 199 = 255 */
        { 4, 3, 56, FROM_TOO_LONG },        /* 256 */
        { 4, 8, 0, FROM_TOO_LONG },
        { 1023 - 1 - 12, 0, 4, FROM_OK },   /* bbbb.example: 12; address 1023 */
        { 1023 - 12, 0, 4, FROM_TOO_LONG },
        { 5000, 0, 4, FROM_TOO_LONG },
        /* the field body: up to FROM_FIELD_MAX octets */
        { FROM_FIELD_MAX + 1 - 1 - 12, 0, 4, FROM_TOO_LONG },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *v = malloc(cases[i].local + 1 + 64 * cases[i].labels + cases[i].extra + 16);
        size_t n = 0;
        struct from_addr a;

        assert_non_null(v);
        memset(v, 'u', cases[i].local);
        n = cases[i].local;
        v[n++] = '@';
        if (cases[i].extra) {
            memset(v + n, 'b', cases[i].extra);
            n += cases[i].extra;
            v[n++] = '.';
        }
        for (size_t k = 0; k < cases[i].labels; k++) {
            memset(v + n, 'a', 63);
            n += 63;
            v[n++] = '.';
        }
        memcpy(v + n, "example", 7);
        n += 7;
        enum from_status st = from_parse(v, n, &a);
        if (st != cases[i].st)
            report("from_parse(%zu octets, local %zu): got %s, want %s", n, cases[i].local,
                   from_name(st), from_name(cases[i].st));
        else if (st == FROM_OK && strlen(a.address) != n)
            report("from_parse(%zu octets): address of %zu octets", n, strlen(a.address));
        free(v);
    }
    /* a long body of comments is fine up to the limit, one octet more is not */
    for (size_t extra = 0; extra < 2; extra++) {
        size_t n = FROM_FIELD_MAX + extra;
        char *v = malloc(n);
        struct from_addr a;
        enum from_status want = extra ? FROM_TOO_LONG : FROM_OK;

        assert_non_null(v);
        memset(v, ' ', n);
        memcpy(v, "a@example.com (", 15);
        v[n - 1] = ')';
        enum from_status st = from_parse(v, n, &a);
        if (st != want)
            report("from_parse(%zu octets of comment): got %s, want %s", n, from_name(st),
                   from_name(want));
        free(v);
    }
    assert_int_equal(failures, 0);
}

/* ---- from_extract: whole messages ------------------------------------- */

static const struct {
    const char      *msg;
    size_t           len;
    enum from_status st;
    const char      *domain;
} extract_cases[] = {
    { S("From: a@example.com\nTo: b@example.org\n\nbody\n"),    FROM_OK, "example.com" },
    { S("To: b@example.org\nFrom: Joe <a@Example.com>\n\n"),     FROM_OK, "example.com" },
    { S("FROM: a@example.com\n\n"),                               FROM_OK, "example.com" },
    { S("from:a@example.com\n\n"),                                FROM_OK, "example.com" },
    /* obs-from: white space before the colon */
    { S("From : a@example.com\n\n"),                              FROM_OK, "example.com" },
    { S("From\t: a@example.com\n\n"),                             FROM_OK, "example.com" },
    /* folded over continuation lines */
    { S("From: John Doe\n <john@example.com>\nTo: x@example.org\n\n"), FROM_OK, "example.com" },
    { S("From:\n\tjohn@\n\texample.com\n\n"),                     FROM_OK, "example.com" },
    /* a "From:" inside a continuation line is not a field */
    { S("Subject: hi\n From: a@evil.example\nFrom: b@good.example\n\n"), FROM_OK, "good.example" },
    /* no empty line, no LF at the end */
    { S("From: a@example.com"),                                   FROM_OK, "example.com" },
    { S("From: a@example.com\n"),                                 FROM_OK, "example.com" },
    /* a line that is no field does not hide the From after it */
    { S("garbage\nFrom: a@example.com\n\n"),                      FROM_OK, "example.com" },
    /* no From field */
    { S(""),                                                      FROM_NONE, "" },
    { S("\n"),                                                    FROM_NONE, "" },
    { S("To: b@example.org\n\nbody\n"),                           FROM_NONE, "" },
    { S("Resent-From: a@example.com\n\n"),                        FROM_NONE, "" },
    { S("X-From: a@example.com\nFromage: b@example.com\n\n"),     FROM_NONE, "" },
    { S("From a@example.com Mon Jan 1 00:00:00 2024\n\n"),        FROM_NONE, "" },
    { S("Subject: x\n\nFrom: a@example.com\n"),                   FROM_NONE, "" },
    { S("\nFrom: a@example.com\n"),                               FROM_NONE, "" },
    { S(" From: a@example.com\n\n"),                              FROM_NONE, "" },
    /* several From fields, whatever they hold */
    { S("From: a@example.com\nFrom: b@example.com\n\n"),          FROM_SEVERAL_FIELDS, "" },
    { S("From: a@example.com\nFrom: a@example.com\n\n"),          FROM_SEVERAL_FIELDS, "" },
    { S("From: a@example.com\nTo: x@y.example\nfrom: \n\n"),     FROM_SEVERAL_FIELDS, "" },
    { S("From: a@example.com\nFrom : b@evil.example\n\n"),        FROM_SEVERAL_FIELDS, "" },
    /* the field's own errors */
    { S("From:\n\n"),                                             FROM_NO_ADDRESS, "" },
    { S("From: a@example.com, b@example.com\n\n"),                FROM_SEVERAL_ADDRESSES, "" },
    { S("From: a@example.com\n b@example.com\n\n"),               FROM_SYNTAX, "" },
    { S("From: root\n\n"),                                        FROM_NO_DOMAIN, "" },
    /* the empty line ends the field: what follows is body */
    { S("From: John\n\n <john@example.com>\n"),                  FROM_NO_DOMAIN, "" },
};

static void
test_from_extract(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(extract_cases); i++) {
        char *m = copy(extract_cases[i].msg, extract_cases[i].len);
        struct from_addr a;
        enum from_status st = from_extract(m, extract_cases[i].len, &a);

        if (st != extract_cases[i].st || strcmp(a.domain, extract_cases[i].domain) != 0)
            report("from_extract(\"%s\"): got %s \"%s\", want %s \"%s\"",
                   show(m, extract_cases[i].len), from_name(st), showz(a.domain),
                   from_name(extract_cases[i].st), showz(extract_cases[i].domain));
        free(m);
    }
    assert_int_equal(failures, 0);
}

static void
test_from_status_text(void **state)
{
    (void)state;
    failures = 0;
    for (unsigned s = FROM_OK; s <= FROM_TOO_LONG; s++) {
        const char *t = from_status_text((enum from_status)s);
        if (t == NULL || t[0] == '\0' || strcmp(t, "?") == 0)
            report("from_status_text(%s): got \"%s\"", from_name((enum from_status)s), showz(t));
    }
    assert_string_equal(from_status_text(FROM_SEVERAL_FIELDS), "more than one From field");
    assert_int_equal(failures, 0);
}

/* ---- dmarc_record_parse ------------------------------------------------ */

#define R DMARC_ALIGN_RELAXED
#define ST DMARC_ALIGN_STRICT
#define PN DMARC_POLICY_NONE
#define PQ DMARC_POLICY_QUARANTINE
#define PR DMARC_POLICY_REJECT

static const char *const parse_names[] = {
    "DMARC_PARSE_OK", "DMARC_PARSE_NOT_DMARC", "DMARC_PARSE_NO_POLICY",
};

static void
test_record_parse(void **state)
{
    static const struct {
        const char       *txt;
        size_t            len;
        enum dmarc_parse  st;
        enum dmarc_policy p, sp;
        bool              has_sp;
        enum dmarc_align  adkim, aspf;
        unsigned          pct;
        bool              rua;
    } cases[] = {
        { S("v=DMARC1; p=none"),                         DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=quarantine"),                   DMARC_PARSE_OK, PQ, PQ, false, R, R, 100, false },
        { S("v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s; pct=50; "
            "rua=mailto:d@example.com"),                 DMARC_PARSE_OK, PR, PQ, true, ST, ST, 50, true },
        { S("v=DMARC1;p=reject;sp=none"),                DMARC_PARSE_OK, PR, PN, true, R, R, 100, false },
        { S("v = DMARC1 ; p = reject ;"),                DMARC_PARSE_OK, PR, PR, false, R, R, 100, false },
        { S(" v=DMARC1;\tp=quarantine\t;\t"),            DMARC_PARSE_OK, PQ, PQ, false, R, R, 100, false },
        { S("v=DMARC1;\r\n p=reject"),                   DMARC_PARSE_OK, PR, PR, false, R, R, 100, false },
        /* tag names and keywords in any case, DMARC1 exactly */
        { S("V=DMARC1; P=Reject; SP=NONE; ADKIM=S"),     DMARC_PARSE_OK, PR, PN, true, ST, R, 100, false },
        { S("v=dmarc1; p=reject"),                       DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        { S("v=DMARC10; p=reject"),                      DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        { S("v=DMARC; p=reject"),                        DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        /* v= must come first */
        { S("p=reject; v=DMARC1"),                       DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        { S("; v=DMARC1; p=reject"),                     DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        { S("v=spf1 -all"),                              DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        { S(""),                                         DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        { S("v="),                                       DMARC_PARSE_NOT_DMARC, PN, PN, false, R, R, 100, false },
        /* leniently, white space instead of the ';' after DMARC1 */
        { S("v=DMARC1 p=reject"),                        DMARC_PARSE_OK, PR, PR, false, R, R, 100, false },
        /* no valid p= (6.6.3 step 6): the caller looks at rua */
        { S("v=DMARC1"),                                 DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1;"),                                DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; rua=mailto:a@example.com"),       DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, true },
        { S("v=DMARC1; p=bogus; rua=mailto:a@example.com"), DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, true },
        { S("v=DMARC1; p=; rua=mailto:a@example.com"),   DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, true },
        { S("v=DMARC1; p=rejectx"),                      DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=reject; sp=bogus"),             DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        /* duplicate p= or sp=: neither */
        { S("v=DMARC1; p=reject; p=none"),               DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=reject; sp=none; sp=none"),     DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        /* other duplicates: the first counts */
        { S("v=DMARC1; p=none; pct=10; pct=20; adkim=s; adkim=r"), DMARC_PARSE_OK, PN, PN, false, ST, R, 10, false },
        /* pct bounds; invalid values keep the default */
        { S("v=DMARC1; p=none; pct=0"),                  DMARC_PARSE_OK, PN, PN, false, R, R, 0, false },
        { S("v=DMARC1; p=none; pct=100"),                DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; pct=050"),                DMARC_PARSE_OK, PN, PN, false, R, R, 50, false },
        { S("v=DMARC1; p=none; pct=101"),                DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; pct=-1"),                 DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; pct=5x"),                 DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; pct="),                   DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; pct=99999999999999999999"), DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        /* bad alignment values keep relaxed */
        { S("v=DMARC1; p=none; adkim=x; aspf=strict"),   DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        /* unknown and malformed tags are ignored */
        { S("v=DMARC1; p=reject; foo=bar; bogus; =x; 9a=b"), DMARC_PARSE_OK, PR, PR, false, R, R, 100, false },
        { S("v=DMARC1; np=none; t=y; psd=n; p=quarantine"), DMARC_PARSE_OK, PQ, PQ, false, R, R, 100, false },
        { S("v=DMARC1; p=reject;;;"),                    DMARC_PARSE_OK, PR, PR, false, R, R, 100, false },
        { S("v=DMARC1; v=DMARC2; p=reject"),             DMARC_PARSE_OK, PR, PR, false, R, R, 100, false },
        /* a NUL (or DEL, as dns_rdata_txt makes it) ends nothing */
        { S("v=DMARC1; p=reject\0; p=none"),             DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none\x7f"),                     DMARC_PARSE_NO_POLICY, PN, PN, false, R, R, 100, false },
        /* rua: at least one valid URI */
        { S("v=DMARC1; p=none; rua=bogus"),              DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; rua=mailto:"),            DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; rua=:x"),                 DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; rua=mailto:a b@example.com"), DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; rua=mailto:a@example.com%zz"), DMARC_PARSE_OK, PN, PN, false, R, R, 100, false },
        { S("v=DMARC1; p=none; rua=bogus, mailto:a@example.com!10m"), DMARC_PARSE_OK, PN, PN, false, R, R, 100, true },
        { S("v=DMARC1; p=none; rua=mailto:a%40b@example.com"), DMARC_PARSE_OK, PN, PN, false, R, R, 100, true },
        { S("v=DMARC1; p=none; rua=https://r.example/x"), DMARC_PARSE_OK, PN, PN, false, R, R, 100, true },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *t = copy(cases[i].txt, cases[i].len);
        struct dmarc_record r;
        enum dmarc_parse st = dmarc_record_parse(t, cases[i].len, &r);

        if (st != cases[i].st || r.p != cases[i].p || r.sp != cases[i].sp
            || r.has_sp != cases[i].has_sp || r.adkim != cases[i].adkim
            || r.aspf != cases[i].aspf || r.pct != cases[i].pct || r.rua_valid != cases[i].rua)
            report("dmarc_record_parse(\"%s\"): got %s p=%d sp=%d(%d) adkim=%d aspf=%d pct=%u rua=%d, "
                   "want %s p=%d sp=%d(%d) adkim=%d aspf=%d pct=%u rua=%d",
                   show(t, cases[i].len), parse_names[st], r.p, r.sp, r.has_sp, r.adkim, r.aspf,
                   r.pct, r.rua_valid, parse_names[cases[i].st], cases[i].p, cases[i].sp,
                   cases[i].has_sp, cases[i].adkim, cases[i].aspf, cases[i].pct, cases[i].rua);
        free(t);
    }
    assert_int_equal(failures, 0);
}

/* test_record_other_tags - ri=, fo=, ruf= */
static void
test_record_other_tags(void **state)
{
    static const struct {
        const char *txt;
        uint32_t    ri;
        unsigned    fo;
        bool        ruf;
    } cases[] = {
        { "v=DMARC1; p=none",                              86400, DMARC_FO_0, false },
        { "v=DMARC1; p=none; ri=3600",                     3600, DMARC_FO_0, false },
        { "v=DMARC1; p=none; ri=4294967295",               4294967295u, DMARC_FO_0, false },
        { "v=DMARC1; p=none; ri=4294967296",               86400, DMARC_FO_0, false },
        { "v=DMARC1; p=none; fo=1",                        86400, DMARC_FO_1, false },
        { "v=DMARC1; p=none; fo=0:1:d:s",                  86400,
          DMARC_FO_0 | DMARC_FO_1 | DMARC_FO_D | DMARC_FO_S, false },
        { "v=DMARC1; p=none; fo = d : S",                  86400, DMARC_FO_D | DMARC_FO_S, false },
        { "v=DMARC1; p=none; fo=x:y",                      86400, DMARC_FO_0, false },
        { "v=DMARC1; p=none; ruf=mailto:f@example.com",    86400, DMARC_FO_0, true },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct dmarc_record r;

        dmarc_record_parse(cases[i].txt, strlen(cases[i].txt), &r);
        if (r.ri != cases[i].ri || r.fo != cases[i].fo || r.ruf_valid != cases[i].ruf)
            report("dmarc_record_parse(\"%s\"): got ri=%u fo=%#x ruf=%d, want ri=%u fo=%#x ruf=%d",
                   cases[i].txt, r.ri, r.fo, r.ruf_valid, cases[i].ri, cases[i].fo, cases[i].ruf);
    }
    assert_int_equal(failures, 0);
}

/* ---- the organizational domain ---------------------------------------- */

static void
test_org_domain(void **state)
{
    static const struct {
        const char *domain;
        const char *want;       /* NULL: false */
    } cases[] = {
        { "example.com",                "example.com" },
        { "mail.example.com",           "example.com" },
        { "a.b.c.example.com",          "example.com" },
        { "a.b.example.co.uk",          "example.co.uk" },
        { "example.co.uk",              "example.co.uk" },
        { "A.B.Example.CO.UK",          "example.co.uk" },
        { "mail.example.com.",          "example.com" },
        /* a public suffix, or a single label, is its own */
        { "com",                        "com" },
        { "co.uk",                      "co.uk" },
        { "localhost",                  "localhost" },
        /* the private section counts too */
        { "foo.github.io",              "foo.github.io" },
        { "a.foo.github.io",            "foo.github.io" },
        /* wildcard rules: *.ck */
        { "a.b.ck",                     "a.b.ck" },
        /* U-labels in UTF-8 and A-labels */
        { "mail.b\xc3\xbc" "cher.de",   "b\xc3\xbc" "cher.de" },
        { "x.xn--bcher-kva.example",    "xn--bcher-kva.example" },
        { "",                           NULL },
        /* not a domain (fuzz_dmarc): no trailing dot comes back */
        { "example.com..",              NULL },
        { ".",                          NULL },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char out[DMARC_DOMAIN_MAX];
        bool ok = dmarc_org_domain(psl, cases[i].domain, out, sizeof(out));

        if (cases[i].want == NULL ? ok || out[0] != '\0'
                                  : !ok || strcmp(out, cases[i].want) != 0)
            report("dmarc_org_domain(\"%s\"): got %d \"%s\", want \"%s\"", showz(cases[i].domain),
                   ok, showz(out), showz(cases[i].want));
    }
    /* too small an output */
    char small[8];
    if (dmarc_org_domain(psl, "mail.example.com", small, sizeof(small)) || small[0] != '\0')
        report("dmarc_org_domain into 8 octets: got true or \"%s\"", small);
    assert_int_equal(failures, 0);
}

static void
test_psl_open(void **state)
{
    char err[200] = "";
    struct dmarc_psl *p;

    (void)state;
    p = dmarc_psl_open("/nonexistent/public_suffix_list.dafsa", err, sizeof(err));
    assert_null(p);
    assert_non_null(strstr(err, "/nonexistent/public_suffix_list.dafsa"));
    dmarc_psl_free(NULL);
    /* the default: the system's file when there is one */
    p = dmarc_psl_open(NULL, err, sizeof(err));
    assert_non_null(p);
    if (access(DMARC_PSL_FILE, R_OK) == 0)
        assert_string_equal(dmarc_psl_source(p), DMARC_PSL_FILE);
    else
        assert_string_equal(dmarc_psl_source(p), "builtin");
    dmarc_psl_free(p);
    /* a text list works too */
    if (access("/usr/share/publicsuffix/public_suffix_list.dat", R_OK) == 0) {
        char out[DMARC_DOMAIN_MAX];

        p = dmarc_psl_open("/usr/share/publicsuffix/public_suffix_list.dat", err, sizeof(err));
        assert_non_null(p);
        assert_true(dmarc_org_domain(p, "a.b.example.co.uk", out, sizeof(out)));
        assert_string_equal(out, "example.co.uk");
        dmarc_psl_free(p);
    }
}

/* ---- a DNS table behind the lookup function --------------------------- */

#define RR_MAX_TXT 3

struct rr {
    const char    *name;
    enum dmarc_dns status;
    const char    *txt[RR_MAX_TXT];
};

/*
 * The server's side: the answers fetched so far (names in fetched[]),
 * taken from the table; a name not in it is NXDOMAIN once fetched.
 */
struct fake_dns {
    const struct rr *rr;
    char             fetched[4][DMARC_NAME_MAX];
    size_t           nfetched;
    char            *txt[RR_MAX_TXT];   /* the answer handed out, as dns.c would */
    unsigned         calls;             /* lookup calls */
};

static bool
fake_lookup(void *arg, const char *name, struct dmarc_answer *ans)
{
    struct fake_dns *f = arg;
    bool known = false;

    f->calls++;
    for (size_t i = 0; i < f->nfetched; i++)
        if (strcmp(f->fetched[i], name) == 0)
            known = true;
    if (!known)
        return false;
    ans->status = DMARC_DNS_NXDOMAIN;
    ans->txt = NULL;
    ans->n = 0;
    for (const struct rr *r = f->rr; r && r->name; r++) {
        if (strcmp(r->name, name) != 0)
            continue;
        ans->status = r->status;
        for (size_t k = 0; k < RR_MAX_TXT && r->txt[k]; k++) {
            f->txt[k] = (char *)r->txt[k];
            ans->n = k + 1;
        }
        ans->txt = f->txt;
    }
    return true;
}

/*
 * discover - run the restart protocol to the end: *needs gets the names
 * asked for, joined by spaces. Returns false after too many rounds.
 */
static bool
discover(const char *from, const struct rr *rr, struct dmarc_discovery *d, char *needs,
         size_t needslen)
{
    struct fake_dns f = { .rr = rr };

    needs[0] = '\0';
    for (int round = 0; round < 4; round++) {
        if (dmarc_discover(psl, from, fake_lookup, &f, d) == DMARC_DONE)
            return d->need[0] == '\0';
        if (f.nfetched >= NELEM(f.fetched))
            return false;
        snprintf(f.fetched[f.nfetched++], DMARC_NAME_MAX, "%s", d->need);
        size_t k = strlen(needs);
        snprintf(needs + k, needslen - k, "%s%s", k ? " " : "", d->need);
    }
    return false;
}

static const char *const found_names[] = {
    "NONE", "RECORD", "INVALID", "TEMPFAIL",
};

/* the DNS of the discovery tests */
static const struct rr zone[] = {
    { "_dmarc.example.com",        DMARC_DNS_OK, { "v=DMARC1; p=reject; sp=quarantine" } },
    { "_dmarc.own.example.com",    DMARC_DNS_OK, { "v=DMARC1; p=none" } },
    { "_dmarc.spf.example.com",    DMARC_DNS_OK, { "v=spf1 -all" } },
    { "_dmarc.nodata.example.com", DMARC_DNS_NODATA, { NULL } },
    { "_dmarc.two.example.com",    DMARC_DNS_OK, { "v=DMARC1; p=none", "v=DMARC1; p=reject" } },
    { "_dmarc.mixed.example.com",  DMARC_DNS_OK, { "hello", "v=DMARC1; p=quarantine", "v=spf1" } },
    { "_dmarc.temp.example.com",   DMARC_DNS_TEMPFAIL, { NULL } },
    { "_dmarc.example.net",        DMARC_DNS_OK, { "v=DMARC1; p=reject", "v=DMARC1; p=none" } },
    { "_dmarc.example.org",        DMARC_DNS_TEMPFAIL, { NULL } },
    { "_dmarc.bad.example",        DMARC_DNS_OK, { "v=DMARC1; p=bogus" } },
    { "_dmarc.badrua.example",     DMARC_DNS_OK, { "v=DMARC1; p=bogus; rua=mailto:r@badrua.example" } },
    { "_dmarc.badsp.example",      DMARC_DNS_OK, { "v=DMARC1; p=reject; sp=x" } },
    { "_dmarc.example.co.uk",      DMARC_DNS_OK, { "v=DMARC1; p=quarantine" } },
    { "_dmarc.co.uk",              DMARC_DNS_OK, { "v=DMARC1; p=reject" } },
    { "_dmarc.empty.example",      DMARC_DNS_OK, { NULL } },
    { NULL, DMARC_DNS_OK, { NULL } },
};

static void
test_discover(void **state)
{
    static const struct {
        const char      *from;
        const char      *needs;     /* the names asked, in order */
        enum dmarc_found found;
        bool             at_org;
        enum dmarc_policy p, sp;
        size_t           nrecords;
        bool             none_by_rua;
    } cases[] = {
        /* a record at the From domain */
        { "example.com", "_dmarc.example.com", DMARC_FOUND_RECORD, false, PR, PQ, 1, false },
        { "own.example.com", "_dmarc.own.example.com", DMARC_FOUND_RECORD, false, PN, PN, 1, false },
        /* in any case, a trailing dot */
        { "OWN.Example.COM.", "_dmarc.own.example.com", DMARC_FOUND_RECORD, false, PN, PN, 1, false },
        /* none there (NXDOMAIN, NODATA, no DMARC TXT): the organizational domain's */
        { "mail.example.com", "_dmarc.mail.example.com _dmarc.example.com",
          DMARC_FOUND_RECORD, true, PR, PQ, 1, false },
        { "a.b.mail.example.com", "_dmarc.a.b.mail.example.com _dmarc.example.com",
          DMARC_FOUND_RECORD, true, PR, PQ, 1, false },
        { "nodata.example.com", "_dmarc.nodata.example.com _dmarc.example.com",
          DMARC_FOUND_RECORD, true, PR, PQ, 1, false },
        { "spf.example.com", "_dmarc.spf.example.com _dmarc.example.com",
          DMARC_FOUND_RECORD, true, PR, PQ, 1, false },
        { "a.b.example.co.uk", "_dmarc.a.b.example.co.uk _dmarc.example.co.uk",
          DMARC_FOUND_RECORD, true, PQ, PQ, 1, false },
        /* records that are not DMARC's are discarded */
        { "mixed.example.com", "_dmarc.mixed.example.com", DMARC_FOUND_RECORD, false, PQ, PQ, 1, false },
        /* several records: no DMARC, and no fallback */
        { "two.example.com", "_dmarc.two.example.com", DMARC_FOUND_NONE, false, PN, PN, 2, false },
        { "mail.example.net", "_dmarc.mail.example.net _dmarc.example.net",
          DMARC_FOUND_NONE, true, PN, PN, 2, false },
        /* nothing anywhere */
        { "mail.nothing.example", "_dmarc.mail.nothing.example _dmarc.nothing.example",
          DMARC_FOUND_NONE, true, PN, PN, 0, false },
        { "empty.example", "_dmarc.empty.example", DMARC_FOUND_NONE, false, PN, PN, 0, false },
        /* the From domain is the organizational domain: one lookup */
        { "nothing.example", "_dmarc.nothing.example", DMARC_FOUND_NONE, false, PN, PN, 0, false },
        /* a public suffix is its own organizational domain */
        { "co.uk", "_dmarc.co.uk", DMARC_FOUND_RECORD, false, PR, PR, 1, false },
        /* temporary failures */
        { "temp.example.com", "_dmarc.temp.example.com", DMARC_FOUND_TEMPFAIL, false, PN, PN, 0, false },
        { "mail.example.org", "_dmarc.mail.example.org _dmarc.example.org",
          DMARC_FOUND_TEMPFAIL, true, PN, PN, 0, false },
        /* no valid p=: permerror, or p=none when rua= is valid (6.6.3 step 6) */
        { "bad.example", "_dmarc.bad.example", DMARC_FOUND_INVALID, false, PN, PN, 1, false },
        { "badsp.example", "_dmarc.badsp.example", DMARC_FOUND_INVALID, false, PN, PN, 1, false },
        { "badrua.example", "_dmarc.badrua.example", DMARC_FOUND_RECORD, false, PN, PN, 1, true },
        { "sub.badrua.example", "_dmarc.sub.badrua.example _dmarc.badrua.example",
          DMARC_FOUND_RECORD, true, PN, PN, 1, true },
        /* no domain: nothing asked */
        { "", "", DMARC_FOUND_NONE, false, PN, PN, 0, false },
        { ".", "", DMARC_FOUND_NONE, false, PN, PN, 0, false },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct dmarc_discovery d;
        char needs[600];
        bool ok = discover(cases[i].from, zone, &d, needs, sizeof(needs));
        bool rec = d.found == DMARC_FOUND_RECORD;

        if (!ok || strcmp(needs, cases[i].needs) != 0 || d.found != cases[i].found
            || d.at_org != cases[i].at_org || d.nrecords != cases[i].nrecords
            || d.none_by_rua != cases[i].none_by_rua
            || (rec && (d.rec.p != cases[i].p || d.rec.sp != cases[i].sp)))
            report("discover(%s): got %d \"%s\" %s at_org=%d n=%zu rua=%d p=%d sp=%d, "
                   "want \"%s\" %s at_org=%d n=%zu rua=%d p=%d sp=%d", showz(cases[i].from), ok,
                   needs, found_names[d.found], d.at_org, d.nrecords, d.none_by_rua, d.rec.p,
                   d.rec.sp, cases[i].needs, found_names[cases[i].found], cases[i].at_org,
                   cases[i].nrecords, cases[i].none_by_rua, cases[i].p, cases[i].sp);
    }
    assert_int_equal(failures, 0);
}

/*
 * test_discover_restart - the protocol step by step: each call asks for
 * one name more, is stateless, and needs no more lookups once all known
 */
static void
test_discover_restart(void **state)
{
    struct fake_dns f = { .rr = zone };
    struct dmarc_discovery d;

    (void)state;
    assert_int_equal(dmarc_discover(psl, "Mail.Example.com", fake_lookup, &f, &d), DMARC_NEED_TXT);
    assert_string_equal(d.need, "_dmarc.mail.example.com");
    assert_string_equal(d.domain, "mail.example.com");
    assert_string_equal(d.org_domain, "example.com");
    /* asking again without fetching: the same answer */
    assert_int_equal(dmarc_discover(psl, "Mail.Example.com", fake_lookup, &f, &d), DMARC_NEED_TXT);
    assert_string_equal(d.need, "_dmarc.mail.example.com");
    strcpy(f.fetched[f.nfetched++], "_dmarc.mail.example.com");
    assert_int_equal(dmarc_discover(psl, "Mail.Example.com", fake_lookup, &f, &d), DMARC_NEED_TXT);
    assert_string_equal(d.need, "_dmarc.example.com");
    strcpy(f.fetched[f.nfetched++], "_dmarc.example.com");
    f.calls = 0;
    assert_int_equal(dmarc_discover(psl, "Mail.Example.com", fake_lookup, &f, &d), DMARC_DONE);
    assert_int_equal(f.calls, 2);
    assert_string_equal(d.need, "");
    assert_int_equal(d.found, DMARC_FOUND_RECORD);
    assert_true(d.at_org);
    assert_int_equal(d.rec.sp, DMARC_POLICY_QUARANTINE);
}

/* ---- evaluation --------------------------------------------------------- */

#define RES_NONE DMARC_RESULT_NONE
#define RES_PASS DMARC_RESULT_PASS
#define RES_FAIL DMARC_RESULT_FAIL
#define RES_TEMP DMARC_RESULT_TEMPERROR
#define RES_PERM DMARC_RESULT_PERMERROR
#define ACC DMARC_ACCEPT
#define QUA DMARC_QUARANTINE
#define REJ DMARC_REJECT
#define A_NONE DMARC_AUTH_NONE
#define A_PASS DMARC_AUTH_PASS
#define A_FAIL DMARC_AUTH_FAIL
#define A_TEMP DMARC_AUTH_TEMPERROR
#define A_PERM DMARC_AUTH_PERMERROR
#define MF DMARC_SPF_MAILFROM
#define NP DMARC_SPF_NULL_PATH
#define HE DMARC_SPF_HELO

/* the DNS of the evaluation tests: one record per domain */
static const struct rr eval_zone[] = {
    { "_dmarc.example.com",       DMARC_DNS_OK, { "v=DMARC1; p=reject" } },
    { "_dmarc.strict.example",    DMARC_DNS_OK, { "v=DMARC1; p=reject; adkim=s; aspf=s" } },
    { "_dmarc.q.example",         DMARC_DNS_OK, { "v=DMARC1; p=quarantine" } },
    { "_dmarc.n.example",         DMARC_DNS_OK, { "v=DMARC1; p=none" } },
    { "_dmarc.sp.example",        DMARC_DNS_OK, { "v=DMARC1; p=reject; sp=none" } },
    { "_dmarc.own.sp.example",    DMARC_DNS_OK, { "v=DMARC1; p=quarantine; sp=none" } },
    { "_dmarc.spq.example",       DMARC_DNS_OK, { "v=DMARC1; p=none; sp=quarantine" } },
    { "_dmarc.half.example",      DMARC_DNS_OK, { "v=DMARC1; p=reject; pct=50" } },
    { "_dmarc.halfq.example",     DMARC_DNS_OK, { "v=DMARC1; p=quarantine; pct=50" } },
    { "_dmarc.zero.example",      DMARC_DNS_OK, { "v=DMARC1; p=reject; pct=0" } },
    { "_dmarc.temp.example",      DMARC_DNS_TEMPFAIL, { NULL } },
    { "_dmarc.bad.example",       DMARC_DNS_OK, { "v=DMARC1; p=bogus" } },
    { "_dmarc.rua.example",       DMARC_DNS_OK, { "v=DMARC1; p=bogus; rua=mailto:r@rua.example" } },
    { "_dmarc.example.co.uk",     DMARC_DNS_OK, { "v=DMARC1; p=reject" } },
    { NULL, DMARC_DNS_OK, { NULL } },
};

static const char *const result_names[] = { "none", "pass", "fail", "temperror", "permerror" };
static const char *const disp_names[] = { "accept", "quarantine", "reject" };

static void
test_evaluate(void **state)
{
    static const struct {
        const char             *from;
        enum dmarc_auth         spf;
        const char             *spf_domain;
        enum dmarc_spf_identity id;
        enum dmarc_auth         r1;     /* DKIM signatures: result, d= (NULL d: none) */
        const char             *d1;
        enum dmarc_auth         r2;
        const char             *d2;
        unsigned                sample;
        enum dmarc_result       result;
        enum dmarc_policy       policy;
        enum dmarc_disposition  disp;
        bool                    spf_al, dkim_al;
        size_t                  dkim_index;
    } cases[] = {
        /* SPF alone: the same domain, or (relaxed) the same organizational domain */
        { "example.com", A_PASS, "example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "example.com", A_PASS, "bounce.example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "mail.example.com", A_PASS, "example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "example.com", A_PASS, "EXAMPLE.COM.", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        /* SPF passes for another domain: not aligned */
        { "example.com", A_PASS, "evil.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "example.com", A_PASS, "example.com.evil.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* relaxed, over the public suffix list: co.uk is no organization */
        { "a.example.co.uk", A_PASS, "b.example.co.uk", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "example.co.uk", A_PASS, "other.co.uk", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* SPF aligned but not passing */
        { "example.com", A_FAIL, "example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "example.com", A_NONE, "example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "example.com", A_PERM, "example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* the identity: a HELO check does not count, a null path's HELO does */
        { "example.com", A_PASS, "mx.example.com", HE, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "example.com", A_PASS, "mx.example.com", NP, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "example.com", A_PASS, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* strict SPF: the same domain only */
        { "strict.example", A_PASS, "strict.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "strict.example", A_PASS, "Strict.Example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, false, 0 },
        { "strict.example", A_PASS, "bounce.strict.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* DKIM alone, relaxed */
        { "example.com", A_NONE, NULL, MF, A_PASS, "example.com", A_NONE, NULL, 0,
          RES_PASS, PR, ACC, false, true, 0 },
        { "example.com", A_NONE, NULL, MF, A_PASS, "mail.example.com", A_NONE, NULL, 0,
          RES_PASS, PR, ACC, false, true, 0 },
        { "example.com", A_NONE, NULL, MF, A_PASS, "other.example", A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "example.com", A_NONE, NULL, MF, A_FAIL, "example.com", A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* the first aligned passing signature is the one */
        { "example.com", A_FAIL, "example.com", MF, A_FAIL, "example.com", A_PASS, "example.com", 0,
          RES_PASS, PR, ACC, false, true, 1 },
        { "example.com", A_NONE, NULL, MF, A_PASS, "other.example", A_PASS, "s.example.com", 0,
          RES_PASS, PR, ACC, false, true, 1 },
        /* DKIM, strict */
        { "strict.example", A_NONE, NULL, MF, A_PASS, "STRICT.example", A_NONE, NULL, 0,
          RES_PASS, PR, ACC, false, true, 0 },
        { "strict.example", A_NONE, NULL, MF, A_PASS, "mail.strict.example", A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* SPF and DKIM both aligned */
        { "example.com", A_PASS, "example.com", MF, A_PASS, "example.com", A_NONE, NULL, 0,
          RES_PASS, PR, ACC, true, true, 0 },
        /* policies */
        { "q.example", A_FAIL, "q.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PQ, QUA, false, false, 0 },
        { "n.example", A_FAIL, "n.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PN, ACC, false, false, 0 },
        /* sp= for a subdomain whose policy came from the organizational domain */
        { "mail.sp.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PN, ACC, false, false, 0 },
        { "sp.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "mail.spq.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PQ, QUA, false, false, 0 },
        { "spq.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PN, ACC, false, false, 0 },
        /* without sp=, p= covers the subdomains */
        { "mail.q.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PQ, QUA, false, false, 0 },
        /* a subdomain with its own record: its p=, not sp= */
        { "own.sp.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PQ, QUA, false, false, 0 },
        /* and a passing subdomain under sp= */
        { "mail.spq.example", A_NONE, NULL, MF, A_PASS, "spq.example", A_NONE, NULL, 0,
          RES_PASS, PQ, ACC, false, true, 0 },
        /* pct: sampled in full, or the next lower policy (6.6.4) */
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 49,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 50,
          RES_FAIL, PR, QUA, false, false, 0 },
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 99,
          RES_FAIL, PR, QUA, false, false, 0 },
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 149,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 4294967249u,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "half.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 4294967295u,
          RES_FAIL, PR, QUA, false, false, 0 },
        { "halfq.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 10,
          RES_FAIL, PQ, QUA, false, false, 0 },
        { "halfq.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 60,
          RES_FAIL, PQ, ACC, false, false, 0 },
        { "zero.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, QUA, false, false, 0 },
        { "example.com", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 99,
          RES_FAIL, PR, REJ, false, false, 0 },
        /* pct does not touch a pass */
        { "half.example", A_PASS, "half.example", MF, A_NONE, NULL, A_NONE, NULL, 99,
          RES_PASS, PR, ACC, true, false, 0 },
        /* no policy: none, whatever the results */
        { "nothing.example", A_FAIL, NULL, MF, A_FAIL, "nothing.example", A_NONE, NULL, 0,
          RES_NONE, PN, ACC, false, false, 0 },
        { "nothing.example", A_PASS, "nothing.example", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_NONE, PN, ACC, true, false, 0 },
        /* discovery failed for now; an unusable record */
        { "temp.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_TEMP, PN, ACC, false, false, 0 },
        { "bad.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_PERM, PN, ACC, false, false, 0 },
        /* no valid p= but a valid rua=: p=none */
        { "rua.example", A_FAIL, NULL, MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PN, ACC, false, false, 0 },
        /* an aligned temperror and no pass: temperror, not fail */
        { "example.com", A_TEMP, "example.com", MF, A_NONE, NULL, A_NONE, NULL, 0,
          RES_TEMP, PR, ACC, false, false, 0 },
        { "example.com", A_FAIL, "example.com", MF, A_TEMP, "example.com", A_NONE, NULL, 0,
          RES_TEMP, PR, ACC, false, false, 0 },
        { "example.com", A_TEMP, "example.com", MF, A_PASS, "example.com", A_NONE, NULL, 0,
          RES_PASS, PR, ACC, false, true, 0 },
        /* an unaligned (or HELO) temperror changes nothing */
        { "example.com", A_FAIL, "example.com", MF, A_TEMP, "other.example", A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
        { "example.com", A_TEMP, "example.com", HE, A_NONE, NULL, A_NONE, NULL, 0,
          RES_FAIL, PR, REJ, false, false, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct dmarc_discovery d;
        struct dmarc_outcome o;
        struct dmarc_dkim sigs[2] = {
            { cases[i].r1, cases[i].d1 }, { cases[i].r2, cases[i].d2 },
        };
        struct dmarc_input in = {
            .spf = cases[i].spf, .spf_domain = cases[i].spf_domain,
            .spf_identity = cases[i].id, .dkim = sigs,
            .ndkim = cases[i].d2 ? 2 : cases[i].d1 ? 1 : 0,
        };
        char needs[600];

        if (!discover(cases[i].from, eval_zone, &d, needs, sizeof(needs))) {
            report("evaluate case %zu (%s): discovery did not end", i, cases[i].from);
            continue;
        }
        memset(&o, 0x5a, sizeof(o));
        dmarc_evaluate(psl, &d, &in, cases[i].sample, &o);
        if (o.result != cases[i].result || o.policy != cases[i].policy
            || o.disposition != cases[i].disp || o.spf_aligned != cases[i].spf_al
            || o.dkim_aligned != cases[i].dkim_al
            || (o.dkim_aligned && o.dkim_index != cases[i].dkim_index))
            report("evaluate case %zu (from %s, sample %u): got %s p=%s %s spf_al=%d dkim_al=%d "
                   "[%zu], want %s p=%s %s spf_al=%d dkim_al=%d [%zu]", i, cases[i].from,
                   cases[i].sample, result_names[o.result], dmarc_policy_name(o.policy),
                   disp_names[o.disposition], o.spf_aligned, o.dkim_aligned, o.dkim_index,
                   result_names[cases[i].result], dmarc_policy_name(cases[i].policy),
                   disp_names[cases[i].disp], cases[i].spf_al, cases[i].dkim_al,
                   cases[i].dkim_index);
    }
    assert_int_equal(failures, 0);
}

/* test_pct_rate - over samples 0..9999, pct=50 applies reject to half */
static void
test_pct_rate(void **state)
{
    struct dmarc_discovery d;
    struct dmarc_input in = { .spf = DMARC_AUTH_FAIL, .spf_identity = DMARC_SPF_MAILFROM };
    char needs[600];
    unsigned rejected = 0, quarantined = 0;

    (void)state;
    assert_true(discover("half.example", eval_zone, &d, needs, sizeof(needs)));
    for (unsigned s = 0; s < 10000; s++) {
        struct dmarc_outcome o;

        dmarc_evaluate(psl, &d, &in, s, &o);
        rejected += o.disposition == DMARC_REJECT;
        quarantined += o.disposition == DMARC_QUARANTINE;
        assert_int_equal(o.sampled, o.disposition == DMARC_REJECT);
    }
    assert_int_equal(rejected, 5000);
    assert_int_equal(quarantined, 5000);
}

/* test_evaluate_no_domain - a discovery that never started aligns nothing */
static void
test_evaluate_no_domain(void **state)
{
    struct dmarc_discovery d;
    struct dmarc_outcome o;
    struct dmarc_dkim sig = { DMARC_AUTH_PASS, "" };
    struct dmarc_input in = { .spf = DMARC_AUTH_PASS, .spf_domain = "",
                              .dkim = &sig, .ndkim = 1 };
    char needs[600];

    (void)state;
    assert_true(discover("", eval_zone, &d, needs, sizeof(needs)));
    dmarc_evaluate(psl, &d, &in, 0, &o);
    assert_int_equal(o.result, DMARC_RESULT_NONE);
    assert_int_equal(o.disposition, DMARC_ACCEPT);
    assert_false(o.spf_aligned);
    assert_false(o.dkim_aligned);
}

static void
test_names(void **state)
{
    (void)state;
    assert_string_equal(dmarc_result_name(DMARC_RESULT_NONE), "none");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_PASS), "pass");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_FAIL), "fail");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_TEMPERROR), "temperror");
    assert_string_equal(dmarc_result_name(DMARC_RESULT_PERMERROR), "permerror");
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_NONE), "none");
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
    assert_string_equal(dmarc_policy_name(DMARC_POLICY_REJECT), "reject");
    assert_string_equal(dmarc_disposition_name(DMARC_ACCEPT), "none");
    assert_string_equal(dmarc_disposition_name(DMARC_QUARANTINE), "quarantine");
    assert_string_equal(dmarc_disposition_name(DMARC_REJECT), "reject");
}

/* ---- end to end: a message, its From, discovery, evaluation ------------ */

static void
test_message_end_to_end(void **state)
{
    static const char msg[] =
        "Received: from mx.evil.example\n"
        "From: \"PayPal\" <service@Mail.Example.COM>\n"
        "To: victim@example.org\n"
        "Subject: urgent\n"
        "\n"
        "From: body@good.example\n";
    char *m = copy(msg, sizeof(msg) - 1);
    struct from_addr a;
    struct dmarc_discovery d;
    struct dmarc_outcome o;
    struct dmarc_input in = { .spf = DMARC_AUTH_PASS, .spf_domain = "evil.example",
                              .spf_identity = DMARC_SPF_MAILFROM };
    char needs[600];

    (void)state;
    assert_int_equal(from_extract(m, sizeof(msg) - 1, &a), FROM_OK);
    assert_string_equal(a.domain, "mail.example.com");
    assert_string_equal(a.address, "service@mail.example.com");
    assert_true(discover(a.domain, eval_zone, &d, needs, sizeof(needs)));
    assert_string_equal(needs, "_dmarc.mail.example.com _dmarc.example.com");
    dmarc_evaluate(psl, &d, &in, 7, &o);
    assert_int_equal(o.result, DMARC_RESULT_FAIL);
    assert_int_equal(o.policy, DMARC_POLICY_REJECT);
    assert_int_equal(o.disposition, DMARC_REJECT);
    free(m);
}

static int
group_setup(void **state)
{
    char err[200];

    (void)state;
    psl = dmarc_psl_open(NULL, err, sizeof(err));
    if (psl == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    (void)state;
    dmarc_psl_free(psl);
    return 0;
}

/* ---- from_list: the recipients of sendmail -t ----------------------------- */

struct list_got {
    char text[512];
};

static void
list_each(void *arg, enum from_status st, const struct from_addr *a)
{
    struct list_got *g = arg;
    size_t n = strlen(g->text);
    snprintf(g->text + n, sizeof(g->text) - n, "%s%s%s", n ? " " : "", a->address,
             st == FROM_OK ? "" : st == FROM_NO_DOMAIN ? "(nodomain)" : "(long)");
}

static void
test_from_list(void **state)
{
    static const struct {
        const char *v;
        enum from_status want;
        const char *addrs;
    } cases[] = {
        { "a@b.example", FROM_OK, "a@b.example" },
        { "a@b.example, \"Q, R\" <c@D.Example>", FROM_OK, "a@b.example c@d.example" },
        { " Team: e@f.example, g@h.example;, (x) i@j.example (y)", FROM_OK,
          "e@f.example g@h.example i@j.example" },
        { "Undisclosed recipients:;", FROM_OK, "" },
        { "root", FROM_OK, "root(nodomain)" },
        { ",, a@b.example,,", FROM_OK, "a@b.example" },
        { "a@b.example <c@d.example>", FROM_SYNTAX, "" },
        { "a@b.example,\n\tc@d.example", FROM_OK, "a@b.example c@d.example" },
        { "", FROM_OK, "" },
    };
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct list_got g = { "" };
        enum from_status st = from_list(cases[i].v, strlen(cases[i].v), list_each, &g);
        if (st != cases[i].want || (st == FROM_OK && strcmp(g.text, cases[i].addrs) != 0))
            report("from_list(\"%s\"): got %s \"%s\", want %s \"%s\"", cases[i].v,
                   from_status_text(st), g.text, from_status_text(cases[i].want), cases[i].addrs);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_list),
        cmocka_unit_test(test_from_parse),
        cmocka_unit_test(test_from_limits),
        cmocka_unit_test(test_from_extract),
        cmocka_unit_test(test_from_status_text),
        cmocka_unit_test(test_record_parse),
        cmocka_unit_test(test_record_other_tags),
        cmocka_unit_test(test_org_domain),
        cmocka_unit_test(test_psl_open),
        cmocka_unit_test(test_discover),
        cmocka_unit_test(test_discover_restart),
        cmocka_unit_test(test_evaluate),
        cmocka_unit_test(test_pct_rate),
        cmocka_unit_test(test_evaluate_no_domain),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_message_end_to_end),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
