/*
 * test_imap_message - unit tests for src/imap/message.c, mime.c and
 * imap_fmt.c: CRLF form, ENVELOPE, BODY/BODYSTRUCTURE, sections,
 * partial, BINARY, SEARCH helpers, Date: parsing, output helpers, limits.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end, so one run shows all broken rows.
 *
 * Most expected ENVELOPE and BODYSTRUCTURE strings are what Dovecot
 * 2.3.19 prints for the same message (doveadm fetch imap.envelope
 * imap.bodystructure imap.body). Where we differ on purpose, the row
 * says why. In those strings ' stands for " (they would be unreadable
 * escaped); no expected string has a real '.
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
#include <time.h>

#include "util/buf.h"
#include "imap/imap_fmt.h"
#include "imap/message.h"
#include "imap/mime.h"

#define SHOW_STYLE { .esc = "\r\n\t" }
#include "check.h"

/* unquote - s with every ' made " (see the top comment), in a buffer */
static const char *
unquote(struct buf *b, const char *s)
{
    buf_reset(b);
    buf_puts(b, s);
    for (size_t i = 0; i < b->len; i++)
        if (b->data[i] == '\'')
            b->data[i] = '"';
    return b->data;
}

/* parse - imap_msg_parse of an exact-size copy of s[0..n); *copyp gets
 * the copy to free after imap_msg_free */
static struct imap_msg *
parse(const char *s, size_t n, char **copyp)
{
    *copyp = copy(s, n);
    return imap_msg_parse(*copyp, n);
}

/* ---- messages (Dovecot-checked ones first) ---- */

#define M_RFC \
    "Date: Mon, 7 Feb 1994 21:52:25 -0800 (PST)\r\n" \
    "From: Fred Foobar <foobar@Blurdybloop.example>\r\n" \
    "Subject: afternoon meeting\r\n" \
    "To: mooch@owatagu.siam.edu.example\r\n" \
    "Message-Id: <B27397-0100000@Blurdybloop.example>\r\n" \
    "MIME-Version: 1.0\r\n" \
    "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n" \
    "\r\n" \
    "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n"

#define M_MIXED \
    "Content-Type: multipart/mixed; boundary=\"xx\"\r\n" \
    "\r\n" \
    "pre\r\n" \
    "--xx\r\n" \
    "\r\n" \
    "part one\r\n" \
    "--xx\r\n" \
    "Content-Type: application/octet-stream; name=a.bin\r\n" \
    "Content-Transfer-Encoding: BASE64\r\n" \
    "Content-Disposition: attachment; filename=\"a.bin\"; size=3\r\n" \
    "Content-ID: <cid@x>\r\n" \
    "Content-Description: the file\r\n" \
    "Content-Language: en, fr\r\n" \
    "Content-Location: http://x/y\r\n" \
    "\r\n" \
    "AAEC\r\n" \
    "--xx--\r\n" \
    "epilogue\r\n"

#define M_ALT \
    "Content-Type: multipart/alternative; boundary=b1\r\n" \
    "\r\n" \
    "--b1\r\n" \
    "Content-Type: text/plain; charset=utf-8\r\n" \
    "Content-Transfer-Encoding: quoted-printable\r\n" \
    "\r\n" \
    "caf=C3=A9 =\r\n" \
    "soft\r\n" \
    "--b1\r\n" \
    "Content-Type: text/html\r\n" \
    "\r\n" \
    "<p>x</p>\r\n" \
    "--b1--"

#define M_NESTED \
    "Subject: outer\r\n" \
    "Content-Type: multipart/mixed; boundary=o\r\n" \
    "\r\n" \
    "--o\r\n" \
    "Content-Type: text/plain\r\n" \
    "\r\n" \
    "hello\r\n" \
    "--o\r\n" \
    "Content-Type: message/rfc822\r\n" \
    "\r\n" \
    "Subject: inner\r\n" \
    "From: i@x\r\n" \
    "Content-Type: multipart/mixed; boundary=i\r\n" \
    "\r\n" \
    "--i\r\n" \
    "\r\n" \
    "inner1\r\n" \
    "--i\r\n" \
    "Content-Type: image/png\r\n" \
    "\r\n" \
    "PNG\r\n" \
    "--i--\r\n" \
    "\r\n" \
    "--o\r\n" \
    "Content-Type: message/rfc822\r\n" \
    "\r\n" \
    "Subject: inner2\r\n" \
    "\r\n" \
    "simple\r\n" \
    "body\r\n" \
    "--o--\r\n"

#define M_NOEND \
    "Content-Type: multipart/mixed; boundary=zz\r\n" \
    "\r\n" \
    "--zz\r\n" \
    "\r\n" \
    "no end\r\n"

#define M_NOBPARAM \
    "Content-Type: multipart/mixed\r\n" \
    "\r\n" \
    "--zz\r\n" \
    "\r\n" \
    "no boundary param\r\n"

#define M_NOPARTS \
    "Content-Type: multipart/mixed; boundary=zz\r\n" \
    "\r\n" \
    "no parts at all\r\n"

#define M_ROOTMSG \
    "Content-Type: message/rfc822\r\n" \
    "\r\n" \
    "Subject: root is msg\r\n" \
    "\r\n" \
    "inner body\r\n"

#define M_PREFIX \
    "Content-Type: multipart/mixed; boundary=o\r\n" \
    "\r\n" \
    "--o\r\n" \
    "Content-Type: multipart/alternative; boundary=o2\r\n" \
    "\r\n" \
    "--o2\r\n" \
    "\r\n" \
    "A\r\n" \
    "--o\r\n" \
    "\r\n" \
    "B\r\n" \
    "--o--\r\n"

#define M_DIGEST \
    "Content-Type: multipart/digest; boundary=d\r\n" \
    "\r\n" \
    "--d\r\n" \
    "\r\n" \
    "Subject: dig\r\n" \
    "\r\n" \
    "x\r\n" \
    "--d--\r\n"

#define M_B64MSG \
    "Content-Type: message/rfc822\r\n" \
    "Content-Transfer-Encoding: base64\r\n" \
    "\r\n" \
    "U3ViamVjdDogeA0KDQpib2R5DQo=\r\n"

#define M_PAD \
    "Content-Type: multipart/mixed; boundary=a\r\n" \
    "\r\n" \
    "--a  \r\n" \
    "\r\n" \
    "x\r\n" \
    "--a--junk\r\n" \
    "after\r\n" \
    "--a\r\n" \
    "\r\n" \
    "late\r\n"

#define M_SPB \
    "Content-Type: multipart/mixed; boundary=\" sp \"\r\n" \
    "\r\n" \
    "-- sp \r\n" \
    "\r\n" \
    "x\r\n" \
    "-- sp --\r\n"

#define M_IMG \
    "Content-Type: image/gif;\r\n" \
    "Content-Disposition: attachment; filename=x.gif\r\n" \
    "Content-Language: en\r\n" \
    "\r\n" \
    "GIF\r\n"

#define M_NOCH \
    "Content-Type: text/plain; format=flowed\r\n" \
    "\r\n" \
    "x\r\n"

#define M_COMM \
    "Content-Type: (comment) Text/Plain (c2) ; (c) charset = \"utf-8\" (x)\r\n" \
    "\r\n" \
    "x\r\n"

#define M_QP \
    "Subject: x\r\n" \
    "Content-Type: text/plain\r\n" \
    "Content-Transfer-Encoding: quoted-printable\r\n" \
    "\r\n" \
    "=41=42 trail   \r\n" \
    "soft=\r\n" \
    "break=3d=\r\n"

#define M_B64 \
    "Subject: x\r\n" \
    "Content-Type: text/plain\r\n" \
    "Content-Transfer-Encoding: base64\r\n" \
    "\r\n" \
    "aGVs\r\n" \
    "bG8g\r\n" \
    "d29y bGQ=\r\n" \
    "=garbage"

#define M_NOHDR \
    "no header at all\r\n"

#define M_ONLYHDR \
    "Subject: only header\r\n"

#define M_TB \
    "Message-ID: <5f3c@example.org>\r\n" \
    "Date: Tue, 3 Oct 2023 10:15:00 +0200\r\n" \
    "MIME-Version: 1.0\r\n" \
    "User-Agent: Mozilla Thunderbird\r\n" \
    "Content-Language: en-US\r\n" \
    "To: Bob <bob@example.com>\r\n" \
    "From: Alice Example <alice@example.org>\r\n" \
    "Subject: Report\r\n" \
    "Content-Type: multipart/mixed;\r\n" \
    " boundary=\"------------0aBc\"\r\n" \
    "\r\n" \
    "This is a multi-part message in MIME format.\r\n" \
    "--------------0aBc\r\n" \
    "Content-Type: multipart/alternative;\r\n" \
    " boundary=\"------------1dEf\"\r\n" \
    "\r\n" \
    "--------------1dEf\r\n" \
    "Content-Type: text/plain; charset=UTF-8; format=flowed\r\n" \
    "Content-Transfer-Encoding: 7bit\r\n" \
    "\r\n" \
    "Hi Bob,\r\n" \
    "see attached.\r\n" \
    "\r\n" \
    "--------------1dEf\r\n" \
    "Content-Type: text/html; charset=UTF-8\r\n" \
    "Content-Transfer-Encoding: 7bit\r\n" \
    "\r\n" \
    "<html><body>Hi Bob</body></html>\r\n" \
    "\r\n" \
    "--------------1dEf--\r\n" \
    "--------------0aBc\r\n" \
    "Content-Type: application/pdf; name=\"r.pdf\"\r\n" \
    "Content-Disposition: attachment; filename=\"r.pdf\"\r\n" \
    "Content-Transfer-Encoding: base64\r\n" \
    "\r\n" \
    "JVBERi0xLjQK\r\n" \
    "\r\n" \
    "--------------0aBc--\r\n"

#define M_GLOB \
    "From: x@y\r\n" \
    "Content-Type: multipart/mixed; boundary=g\r\n" \
    "\r\n" \
    "--g\r\n" \
    "Content-Type: message/global\r\n" \
    "Content-Description: bounced\r\n" \
    "\r\n" \
    "From: =?utf-8?q?x?= <u@d>\r\n" \
    "Subject: caf\xc3\xa9\r\n" \
    "\r\n" \
    "d\xc3\xa9j\xc3\xa0\r\n" \
    "--g--\r\n"

#define M_BADCT \
    "Content-Type: garbage\r\n" \
    "\r\n" \
    "x"

#define M_PARAMS \
    "Content-Type: text/plain; charset=\"a\\\"b\"; format=flowed; x*0=a; x*1=b\r\n" \
    "Content-Disposition: inline\r\n" \
    "\r\n" \
    "line1\r\n" \
    "line2"

#define M_SAMEB \
    "Content-Type: multipart/mixed; boundary=a\r\n" \
    "\r\n" \
    "--a\r\n" \
    "Content-Type: multipart/mixed; boundary=a\r\n" \
    "\r\n" \
    "--a\r\n" \
    "\r\n" \
    "x\r\n" \
    "--a--\r\n"

#define M_NOSUB \
    "Content-Type: text\r\n" \
    "\r\n" \
    "x\r\n"

#define M_ADDR \
    "From:   \"Doe, John\"  <j@x.org>, Mary   Q.  Smith <m@y>,  bare@z (Bare Name), " \
    "<@r1,@r2:route@dom>\r\n" \
    "To: undisclosed-recipients:;\r\n" \
    "Cc: Friends: a@b, \"c d\" <c@d>;, e@f\r\n" \
    "Bcc: nodomain, \"quoted local\"@q.org, @@@, <>\r\n" \
    "Subject:   lots  of\r\n" \
    "   space   \r\n" \
    "Reply-To:\r\n" \
    "Sender: s@s\r\n" \
    "In-Reply-To:  <x@y>  <z@w>\r\n" \
    "Message-ID:   <id@host> \r\n" \
    "\r\n" \
    "b\r\n"

#define M_ENC \
    "Subject: =?UTF-8?B?w6k=?= \"q\" \\ x\r\n" \
    "From: =?utf-8?q?J=C3=B6rg?= <j@x>\r\n" \
    "To: caf\xc3\xa9 <c@x>\r\n" \
    "\r\n"

#define M_ENV \
    "From: a@b\r\n" \
    "From: c@d\r\n" \
    "Subject: one\r\n" \
    "Subject: two\r\n" \
    "To: \"A (not comment)\" <a@b>, (only comment) x@y, Name <a@b> (trailing comment)" \
    "\r\n" \
    "Cc: a@b.c.,  Bad Name a@b\r\n" \
    "Bcc: g1: ; g2: x@y, y@z; \r\n" \
    "In-Reply-To:\r\n" \
    "\r\n"

/* Not from Dovecot: encodings for BINARY and SEARCH. */
#define M_QPX \
    "Content-Type: text/plain; charset=utf-8\r\n" \
    "Content-Transfer-Encoding: Quoted-Printable\r\n" \
    "\r\n" \
    "=c3=a9t=C3=A9 =ZZ =4\r\n" \
    "tab\t \r\n" \
    "end="

#define M_UUE \
    "Content-Type: multipart/mixed; boundary=u\r\n" \
    "\r\n" \
    "--u\r\n" \
    "Content-Transfer-Encoding: x-uuencode\r\n" \
    "\r\n" \
    "begin 644 x\r\n" \
    "--u\r\n" \
    "Content-Transfer-Encoding: base64\r\n" \
    "\r\n" \
    "Zm9v!YmFy\r\n" \
    "YQ\r\n" \
    "--u--\r\n"

/* ---- output helpers ---- */

/* test_fmt_string - imap_fmt_string / nstring / astring */
static void
test_fmt_string(void **state)
{
    static const struct {
        char        fn;             /* s: string, n: nstring, a: astring */
        const char *in;             /* NULL: NIL for nstring */
        size_t      len;
        const char *want;
    } cases[] = {
        { 's', S("abc"), "\"abc\"" },
        { 's', S(""), "\"\"" },
        { 's', S("a b (c) %*{}]"), "\"a b (c) %*{}]\"" },
        { 's', S("a\"b"), "{3}\r\na\"b" },
        { 's', S("a\\b"), "{3}\r\na\\b" },
        { 's', S("caf\xc3\xa9"), "{5}\r\ncaf\xc3\xa9" },
        { 's', S("a\r\nb"), "{4}\r\na\r\nb" },
        { 's', S("a\rb"), "{3}\r\na\rb" },
        { 's', S("a\0b"), "{3}\r\na\x80" "b" },            /* NUL: 0x80 */
        { 's', S("\x7f"), "\"\x7f\"" },
        { 'n', NULL, 0, "NIL" },
        { 'n', S("NIL"), "\"NIL\"" },
        { 'a', S("INBOX"), "INBOX" },
        { 'a', S("x]y"), "x]y" },
        { 'a', S("Sent Items"), "\"Sent Items\"" },
        { 'a', S(""), "\"\"" },
        { 'a', S("a%"), "\"a%\"" },
        { 'a', S("a*"), "\"a*\"" },
        { 'a', S("{1}"), "\"{1}\"" },
        { 'a', S("(x)"), "\"(x)\"" },
        { 'a', S("a\"b"), "{3}\r\na\"b" },
        { 'a', S("\xc3\xa9"), "{2}\r\n\xc3\xa9" },
        { 'a', S("a\x7f"), "\"a\x7f\"" },
    };
    struct buf b = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        buf_reset(&b);
        if (cases[i].fn == 's')
            imap_fmt_string(&b, cases[i].in, cases[i].len);
        else if (cases[i].fn == 'n')
            imap_fmt_nstring(&b, cases[i].in, cases[i].len);
        else
            imap_fmt_astring(&b, cases[i].in, cases[i].len);
        if (b.len != strlen(cases[i].want) || memcmp(b.data, cases[i].want, b.len) != 0)
            report("imap_fmt_%c(\"%s\"): got \"%s\", want \"%s\"", cases[i].fn,
                   show(cases[i].in, cases[i].len), show(b.data, b.len), showz(cases[i].want));
    }
    buf_reset(&b);
    imap_fmt_nstringz(&b, NULL);
    imap_fmt_nstringz(&b, "x");
    if (strcmp(buf_cstr(&b), "NIL\"x\"") != 0)
        report("imap_fmt_nstringz: got \"%s\", want \"NIL\\\"x\\\"\"", showz(buf_cstr(&b)));
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* test_fmt_date_flags - INTERNALDATE and flag lists */
static void
test_fmt_date_flags(void **state)
{
    static const struct {
        time_t      t;
        const char *want;
    } dates[] = {
        { 0, "\" 1-Jan-1970 00:00:00 +0000\"" },
        { 1700000000, "\"14-Nov-2023 22:13:20 +0000\"" },
        { 760686745, "\" 8-Feb-1994 05:52:25 +0000\"" },
        { 951782400, "\"29-Feb-2000 00:00:00 +0000\"" },
        { 253402300799, "\"31-Dec-9999 23:59:59 +0000\"" },
        { 253402300800, "\" 1-Jan-1970 00:00:00 +0000\"" },     /* year 10000 */
    };
    static const struct {
        unsigned    mask;
        const char *want;
    } flags[] = {
        { 0, "()" },
        { IMAP_FLAG_SEEN, "(\\Seen)" },
        { IMAP_FLAG_ANSWERED | IMAP_FLAG_FLAGGED, "(\\Answered \\Flagged)" },
        { 31, "(\\Seen \\Answered \\Flagged \\Deleted \\Draft)" },
        { IMAP_FLAG_DRAFT | 0x100, "(\\Draft)" },
        { 0x300, "()" },
    };
    struct buf b = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(dates); i++) {
        buf_reset(&b);
        imap_fmt_date_time(&b, dates[i].t);
        if (strcmp(buf_cstr(&b), dates[i].want) != 0)
            report("imap_fmt_date_time(%lld): got %s, want %s", (long long)dates[i].t,
                   buf_cstr(&b), dates[i].want);
    }
    for (size_t i = 0; i < NELEM(flags); i++) {
        buf_reset(&b);
        imap_fmt_flags(&b, flags[i].mask);
        if (strcmp(buf_cstr(&b), flags[i].want) != 0)
            report("imap_fmt_flags(%#x): got %s, want %s", flags[i].mask, buf_cstr(&b),
                   flags[i].want);
    }
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* ---- CRLF ---- */

/* test_crlf - imap_msg_crlf and imap_msg_crlf_size */
static void
test_crlf(void **state)
{
    static const struct {
        const char *in;
        size_t      len;
        const char *want;
        size_t      wlen;
    } cases[] = {
        { S(""), S("") },
        { S("a\nb\n"), S("a\r\nb\r\n") },
        { S("a\r\nb"), S("a\r\nb") },
        { S("\n"), S("\r\n") },
        { S("\n\n"), S("\r\n\r\n") },
        { S("a\rb"), S("a\rb") },                   /* bare CR stays */
        { S("\r"), S("\r") },
        { S("\r\r\n"), S("\r\r\n") },
        { S("x\n\r\n\n"), S("x\r\n\r\n\r\n") },
        { S("a\0\nb"), S("a\0\r\nb") },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *in = copy(cases[i].in, cases[i].len), *out;
        size_t n = 99;

        out = imap_msg_crlf(in, cases[i].len, &n);
        if (n != cases[i].wlen || memcmp(out, cases[i].want, n) != 0 || out[n] != '\0')
            report("imap_msg_crlf(\"%s\"): got \"%s\", want \"%s\"", show(in, cases[i].len),
                   show(out, n), show(cases[i].want, cases[i].wlen));
        if (imap_msg_crlf_size(in, cases[i].len) != cases[i].wlen)
            report("imap_msg_crlf_size(\"%s\"): got %zu, want %zu", show(in, cases[i].len),
                   imap_msg_crlf_size(in, cases[i].len), cases[i].wlen);
        free(out);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* ---- BODY and BODYSTRUCTURE ---- */

static const struct {
    const char *msg;
    const char *bodystructure, *body;
} struct_cases[] = {
    /* Dovecot prints BODY in lower case; we keep the case, as in BODYSTRUCTURE */
    { M_RFC,
      "('TEXT' 'PLAIN' ('CHARSET' 'US-ASCII') NIL NIL '7bit' 55 1 NIL NIL NIL NIL)",
      "('TEXT' 'PLAIN' ('CHARSET' 'US-ASCII') NIL NIL '7bit' 55 1)" },
    { M_MIXED,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 8 0 NIL NIL NIL NIL)('application' "
      "'octet-stream' ('name' 'a.bin') '<cid@x>' 'the file' 'BASE64' 4 NIL ('attachment' "
      "('filename' 'a.bin' 'size' '3')) ('en' 'fr') 'http://x/y') 'mixed' ('boundary' "
      "'xx') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 8 0)('application' 'octet-stream' "
      "('name' 'a.bin') '<cid@x>' 'the file' 'BASE64' 4) 'mixed')" },
    { M_ALT,
      "(('text' 'plain' ('charset' 'utf-8') NIL NIL 'quoted-printable' 17 1 NIL NIL NIL "
      "NIL)('text' 'html' ('charset' 'us-ascii') NIL NIL '7bit' 8 0 NIL NIL NIL NIL) "
      "'alternative' ('boundary' 'b1') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'utf-8') NIL NIL 'quoted-printable' 17 1)('text' 'html' "
      "('charset' 'us-ascii') NIL NIL '7bit' 8 0) 'alternative')" },
    { M_NESTED,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 5 0 NIL NIL NIL NIL)('message' "
      "'rfc822' NIL NIL NIL '7bit' 131 (NIL 'inner' ((NIL NIL 'i' 'x')) ((NIL NIL 'i' "
      "'x')) ((NIL NIL 'i' 'x')) NIL NIL NIL NIL NIL) (('text' 'plain' ('charset' 'us-ascii')"
      " NIL NIL '7bit' 6 0 NIL NIL NIL NIL)('image' 'png' NIL NIL NIL '7bit' 3 NIL NIL "
      "NIL NIL) 'mixed' ('boundary' 'i') NIL NIL NIL) 12 NIL NIL NIL NIL)('message' 'rfc822' "
      "NIL NIL NIL '7bit' 31 (NIL 'inner2' NIL NIL NIL NIL NIL NIL NIL NIL) ('text' 'plain' "
      "('charset' 'us-ascii') NIL NIL '7bit' 12 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)"
      " 'mixed' ('boundary' 'o') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 5 0)('message' 'rfc822' "
      "NIL NIL NIL '7bit' 131 (NIL 'inner' ((NIL NIL 'i' 'x')) ((NIL NIL 'i' 'x')) ((NIL "
      "NIL 'i' 'x')) NIL NIL NIL NIL NIL) (('text' 'plain' ('charset' 'us-ascii') NIL "
      "NIL '7bit' 6 0)('image' 'png' NIL NIL NIL '7bit' 3) 'mixed') 12)('message' 'rfc822' "
      "NIL NIL NIL '7bit' 31 (NIL 'inner2' NIL NIL NIL NIL NIL NIL NIL NIL) ('text' 'plain' "
      "('charset' 'us-ascii') NIL NIL '7bit' 12 1) 3) 'mixed')" },
    { M_NOEND,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 8 1 NIL NIL NIL NIL) 'mixed' "
      "('boundary' 'zz') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 8 1) 'mixed')" },
    { M_NOBPARAM,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0 NIL NIL NIL NIL) 'mixed' "
      "NIL NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0) 'mixed')" },
    { M_NOPARTS,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0 NIL NIL NIL NIL) 'mixed' "
      "('boundary' 'zz') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0) 'mixed')" },
    { M_ROOTMSG,
      "('message' 'rfc822' NIL NIL NIL '7bit' 36 (NIL 'root is msg' NIL NIL NIL NIL NIL "
      "NIL NIL NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 12 1 NIL NIL "
      "NIL NIL) 3 NIL NIL NIL NIL)",
      "('message' 'rfc822' NIL NIL NIL '7bit' 36 (NIL 'root is msg' NIL NIL NIL NIL NIL "
      "NIL NIL NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 12 1) 3)" },
    { M_PREFIX,
      "((('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0 NIL NIL NIL NIL) 'alternative' "
      "('boundary' 'o2') NIL NIL NIL)('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' "
      "1 0 NIL NIL NIL NIL) 'mixed' ('boundary' 'o') NIL NIL NIL)",
      "((('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0) 'alternative')('text' "
      "'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0) 'mixed')" },
    { M_DIGEST,
      "(('message' 'rfc822' NIL NIL NIL '7bit' 17 (NIL 'dig' NIL NIL NIL NIL NIL NIL "
      "NIL NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0 NIL NIL NIL "
      "NIL) 2 NIL NIL NIL NIL) 'digest' ('boundary' 'd') NIL NIL NIL)",
      "(('message' 'rfc822' NIL NIL NIL '7bit' 17 (NIL 'dig' NIL NIL NIL NIL NIL NIL "
      "NIL NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0) 2) 'digest')" },
    { M_B64MSG,
      "('message' 'rfc822' NIL NIL NIL 'base64' 30 (NIL NIL NIL NIL NIL NIL NIL NIL NIL "
      "NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0 NIL NIL NIL NIL)"
      " 1 NIL NIL NIL NIL)",
      "('message' 'rfc822' NIL NIL NIL 'base64' 30 (NIL NIL NIL NIL NIL NIL NIL NIL NIL "
      "NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0) 1)" },
    { M_PAD,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0 NIL NIL NIL NIL) 'mixed' "
      "('boundary' 'a') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0) 'mixed')" },
    { M_SPB,
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0 NIL NIL NIL NIL) 'mixed' "
      "('boundary' ' sp ') NIL NIL NIL)",
      "(('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0) 'mixed')" },
    { M_IMG,
      "('image' 'gif' NIL NIL NIL '7bit' 5 NIL ('attachment' ('filename' 'x.gif')) ('en')"
      " NIL)",
      "('image' 'gif' NIL NIL NIL '7bit' 5)" },
    { M_NOCH,
      "('text' 'plain' ('format' 'flowed' 'charset' 'us-ascii') NIL NIL '7bit' 3 1 NIL "
      "NIL NIL NIL)",
      "('text' 'plain' ('format' 'flowed' 'charset' 'us-ascii') NIL NIL '7bit' 3 1)" },
    { M_COMM,
      "('Text' 'Plain' ('charset' 'utf-8') NIL NIL '7bit' 3 1 NIL NIL NIL NIL)",
      "('Text' 'Plain' ('charset' 'utf-8') NIL NIL '7bit' 3 1)" },
    { M_QP,
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL 'quoted-printable' 35 3 NIL NIL "
      "NIL NIL)",
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL 'quoted-printable' 35 3)" },
    { M_B64,
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL 'base64' 31 3 NIL NIL NIL NIL)",
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL 'base64' 31 3)" },
    { M_NOHDR,
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0 NIL NIL NIL NIL)",
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0)" },
    { M_ONLYHDR,
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0 NIL NIL NIL NIL)",
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0)" },
    { M_TB,
      "((('text' 'plain' ('charset' 'UTF-8' 'format' 'flowed') NIL NIL '7bit' 24 2 NIL "
      "NIL NIL NIL)('text' 'html' ('charset' 'UTF-8') NIL NIL '7bit' 34 1 NIL NIL NIL "
      "NIL) 'alternative' ('boundary' '------------1dEf') NIL NIL NIL)('application' "
      "'pdf' ('name' 'r.pdf') NIL NIL 'base64' 14 NIL ('attachment' ('filename' 'r.pdf')"
      ") NIL NIL) 'mixed' ('boundary' '------------0aBc') NIL ('en-US') NIL)",
      "((('text' 'plain' ('charset' 'UTF-8' 'format' 'flowed') NIL NIL '7bit' 24 2)('text' "
      "'html' ('charset' 'UTF-8') NIL NIL '7bit' 34 1) 'alternative')('application' 'pdf' "
      "('name' 'r.pdf') NIL NIL 'base64' 14) 'mixed')" },
    /* RFC 9051 9: message/global has an envelope; Dovecot 2.3 makes it a basic body */
    { M_GLOB,
      "(('message' 'global' NIL NIL 'bounced' '7bit' 51 (NIL {5}\r\ncaf\xc3\xa9 (('=?utf-8?q?x?=' "
      "NIL 'u' 'd')) (('=?utf-8?q?x?=' NIL 'u' 'd')) (('=?utf-8?q?x?=' NIL 'u' 'd')) "
      "NIL NIL NIL NIL NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 6 0 "
      "NIL NIL NIL NIL) 3 NIL NIL NIL NIL) 'mixed' ('boundary' 'g') NIL NIL NIL)",
      "(('message' 'global' NIL NIL 'bounced' '7bit' 51 (NIL {5}\r\ncaf\xc3\xa9 (('=?utf-8?q?x?=' "
      "NIL 'u' 'd')) (('=?utf-8?q?x?=' NIL 'u' 'd')) (('=?utf-8?q?x?=' NIL 'u' 'd')) "
      "NIL NIL NIL NIL NIL) ('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 6 0)"
      " 3) 'mixed')" },
    /* RFC 2045 5.2: invalid Content-Type is text/plain (Dovecot: "garbage" "") */
    { M_BADCT,
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0 NIL NIL NIL NIL)",
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 1 0)" },
    /* a value with " goes out as a literal; RFC 2231 x*0 x*1 left raw (Dovecot: "x" "ab") */
    { M_PARAMS,
      "('text' 'plain' ('charset' {3}\r\na'b 'format' 'flowed' 'x*0' 'a' 'x*1' 'b') NIL "
      "NIL '7bit' 12 1 NIL ('inline' NIL) NIL NIL)",
      "('text' 'plain' ('charset' {3}\r\na'b 'format' 'flowed' 'x*0' 'a' 'x*1' 'b') NIL "
      "NIL '7bit' 12 1)" },
    /* the inner multipart reuses the outer boundary: we split at the outer one first (Dovecot: inner first) */
    { M_SAMEB,
      "((('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0 NIL NIL NIL NIL) 'mixed' "
      "('boundary' 'a') NIL NIL NIL)('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' "
      "1 0 NIL NIL NIL NIL) 'mixed' ('boundary' 'a') NIL NIL NIL)",
      "((('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 0 0) 'mixed')('text' 'plain' "
      "('charset' 'us-ascii') NIL NIL '7bit' 1 0) 'mixed')" },
    /* as above (Dovecot: "text" "") */
    { M_NOSUB,
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 3 1 NIL NIL NIL NIL)",
      "('text' 'plain' ('charset' 'us-ascii') NIL NIL '7bit' 3 1)" },
};

/* test_bodystructure - BODYSTRUCTURE and BODY of each message */
static void
test_bodystructure(void **state)
{
    struct buf out = BUF_INIT, want = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(struct_cases); i++) {
        char *c;
        struct imap_msg *m = parse(struct_cases[i].msg, strlen(struct_cases[i].msg), &c);

        for (int ext = 1; ext >= 0; ext--) {
            buf_reset(&out);
            imap_msg_bodystructure(&out, m, ext);
            unquote(&want, ext ? struct_cases[i].bodystructure : struct_cases[i].body);
            if (out.len != want.len || memcmp(out.data, want.data, out.len) != 0)
                report("row %zu %s:\n got  %s\n want %s", i, ext ? "BODYSTRUCTURE" : "BODY",
                       show(out.data, out.len), show(want.data, want.len));
        }
        imap_msg_free(m);
        free(c);
    }
    buf_free(&out);
    buf_free(&want);
    assert_int_equal(failures, 0);
}

/* ---- ENVELOPE ---- */

static const struct {
    const char *msg;
    size_t      len;
    const char *envelope;
} env_cases[] = {
    { S(M_RFC),
      "('Mon, 7 Feb 1994 21:52:25 -0800 (PST)' 'afternoon meeting' (('Fred Foobar' NIL "
      "'foobar' 'Blurdybloop.example')) (('Fred Foobar' NIL 'foobar' 'Blurdybloop.example')"
      ") (('Fred Foobar' NIL 'foobar' 'Blurdybloop.example')) ((NIL NIL 'mooch' 'owatagu.siam.edu.example')"
      ") NIL NIL NIL '<B27397-0100000@Blurdybloop.example>')" },
    { S(M_NESTED),
      "(NIL 'outer' NIL NIL NIL NIL NIL NIL NIL NIL)" },
    { S(M_TB),
      "('Tue, 3 Oct 2023 10:15:00 +0200' 'Report' (('Alice Example' NIL 'alice' 'example.org')"
      ") (('Alice Example' NIL 'alice' 'example.org')) (('Alice Example' NIL 'alice' "
      "'example.org')) (('Bob' NIL 'bob' 'example.com')) NIL NIL NIL '<5f3c@example.org>')" },
    { S(M_GLOB),
      "(NIL NIL ((NIL NIL 'x' 'y')) ((NIL NIL 'x' 'y')) ((NIL NIL 'x' 'y')) NIL NIL NIL "
      "NIL NIL)" },
    /* we keep the subject's white space and "@@@" as host (Dovecot collapses it, MISSING_DOMAIN) */
    { S(M_ADDR),
      "(NIL 'lots  of   space   ' (('Doe, John' NIL 'j' 'x.org')('Mary Q. Smith' NIL "
      "'m' 'y')('Bare Name' NIL 'bare' 'z')(NIL '@r1,@r2' 'route' 'dom')) ((NIL NIL 's' "
      "'s')) (('Doe, John' NIL 'j' 'x.org')('Mary Q. Smith' NIL 'm' 'y')('Bare Name' "
      "NIL 'bare' 'z')(NIL '@r1,@r2' 'route' 'dom')) ((NIL NIL 'undisclosed-recipients' "
      "NIL)(NIL NIL NIL NIL)) ((NIL NIL 'Friends' NIL)(NIL NIL 'a' 'b')('c d' NIL 'c' "
      "'d')(NIL NIL NIL NIL)(NIL NIL 'e' 'f')) ((NIL NIL 'nodomain' 'MISSING_DOMAIN')"
      "(NIL NIL 'quoted local' 'q.org')(NIL NIL 'MISSING_MAILBOX' '@@')) '<x@y>  <z@w>' "
      "'<id@host> ')" },
    { S(M_ENC),
      "(NIL {24}\r\n=?UTF-8?B?w6k=?= 'q' \\ x (('=?utf-8?q?J=C3=B6rg?=' NIL 'j' 'x'))"
      " (('=?utf-8?q?J=C3=B6rg?=' NIL 'j' 'x')) (('=?utf-8?q?J=C3=B6rg?=' NIL 'j' 'x')"
      ") (({5}\r\ncaf\xc3\xa9 NIL 'c' 'x')) NIL NIL NIL NIL)" },
    /* the first Subject/From counts (Dovecot: last Subject, all From); group g2 kept; "Bad Name a@b" degrades differently */
    { S(M_ENV),
      "(NIL 'one' ((NIL NIL 'a' 'b')) ((NIL NIL 'a' 'b')) ((NIL NIL 'a' 'b')) (('A (not "
      "comment)' NIL 'a' 'b')(NIL NIL 'x' 'y')('Name' NIL 'a' 'b')) ((NIL NIL 'a' 'b.c.')"
      "(NIL NIL 'BadNamea' 'b')) ((NIL NIL 'g1' NIL)(NIL NIL NIL NIL)(NIL NIL 'g2' NIL)"
      "(NIL NIL 'x' 'y')(NIL NIL 'y' 'z')(NIL NIL NIL NIL)) '' NIL)" },
    /* not from Dovecot: the corners of the address parser */
    { S(""), "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)" },
    { S("Subject:\r\nIn-Reply-To: <a@b>\r\n\t<c@d>\r\n"),
      "(NIL '' NIL NIL NIL NIL NIL NIL '<a@b>\t<c@d>' NIL)" },
    { S("From: <a@b>\r\nSender: <>\r\nReply-To: ,\r\n"),
      "(NIL NIL ((NIL NIL 'a' 'b')) ((NIL NIL 'a' 'b')) ((NIL NIL 'a' 'b')) NIL NIL NIL NIL NIL)" },
    { S("To: a@b,,c@d , \r\n"),
      "(NIL NIL NIL NIL NIL ((NIL NIL 'a' 'b')(NIL NIL 'c' 'd')) NIL NIL NIL NIL)" },
    { S("To: (x) <a@b> (y), \"a\\\"b\" <q@x>\r\n"),
      "(NIL NIL NIL NIL NIL ((NIL NIL 'a' 'b')({3}\r\na'b NIL 'q' 'x')) NIL NIL NIL NIL)" },
    { S("To: <a@b\r\nCc: g: a@b\r\nBcc: x (Name (nested) \\) c) @ y . z\r\n"),
      "(NIL NIL NIL NIL NIL ((NIL NIL 'a' 'b')) ((NIL NIL 'g' NIL)(NIL NIL 'a' 'b')(NIL NIL "
      "NIL NIL)) (('Name (nested) ) c' NIL 'x' 'y.z')) NIL NIL)" },
    { S("To: <@a,@b:u@[1.2.3.4]>, \"q u\"@x, J. R. R. Tolkien <t@x>\r\n"),
      "(NIL NIL NIL NIL NIL ((NIL '@a,@b' 'u' '[1.2.3.4]')(NIL NIL 'q u' 'x')('J. R. R. "
      "Tolkien' NIL 't' 'x')) NIL NIL NIL NIL)" },
    { S("To: a: b: c@d;; e@f\r\nCc: ;;: ,<>\r\n"),
      "(NIL NIL NIL NIL NIL ((NIL NIL 'a' NIL)(NIL NIL 'c' 'd')(NIL NIL NIL NIL)(NIL NIL "
      "'e' 'f')) ((NIL NIL '' NIL)(NIL NIL NIL NIL)) NIL NIL NIL)" },
    { S("To: x\0y@z\r\nSubject: a\0b\r\n"),
      "(NIL {3}\r\na\x80" "b NIL NIL NIL ((NIL NIL {3}\r\nx\x80y 'z')) NIL NIL NIL NIL)" },
    { S("Subject: folded\r\n  twice\r\n\tand tab\r\n"),
      "(NIL 'folded  twice\tand tab' NIL NIL NIL NIL NIL NIL NIL NIL)" },
};

/* test_envelope - ENVELOPE of each message's header */
static void
test_envelope(void **state)
{
    struct buf out = BUF_INIT, want = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(env_cases); i++) {
        char *c;
        struct imap_msg *m = parse(env_cases[i].msg, env_cases[i].len, &c);

        buf_reset(&out);
        imap_msg_envelope(&out, c + m->root.hdr_off, m->root.hdr_len);
        unquote(&want, env_cases[i].envelope);
        if (out.len != want.len || memcmp(out.data, want.data, out.len) != 0)
            report("row %zu ENVELOPE:\n got  %s\n want %s", i, show(out.data, out.len),
                   show(want.data, want.len));
        imap_msg_free(m);
        free(c);
    }
    buf_free(&out);
    buf_free(&want);
    assert_int_equal(failures, 0);
}

/* test_rfc3501_example - the FETCH example of RFC 3501 7.4.2: this
 * header and a 92-line, 3028-octet body give its ENVELOPE and BODY */
static void
test_rfc3501_example(void **state)
{
    static const char hdr[] =
        "Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\r\n"
        "From: Terry Gray <gray@cac.washington.edu>\r\n"
        "Subject: IMAP4rev1 WG mtg summary and minutes\r\n"
        "To: imap@cac.washington.edu\r\n"
        "cc: minutes@CNRI.Reston.VA.US, John Klensin <KLENSIN@MIT.EDU>\r\n"
        "Message-Id: <B27397-0100000@cac.washington.edu>\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
        "Content-Transfer-Encoding: 7BIT\r\n"
        "\r\n";
    static const char env[] =
        "(\"Wed, 17 Jul 1996 02:23:25 -0700 (PDT)\" \"IMAP4rev1 WG mtg summary and minutes\" "
        "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
        "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
        "((\"Terry Gray\" NIL \"gray\" \"cac.washington.edu\")) "
        "((NIL NIL \"imap\" \"cac.washington.edu\")) "
        "((NIL NIL \"minutes\" \"CNRI.Reston.VA.US\")(\"John Klensin\" NIL \"KLENSIN\" \"MIT.EDU\")) "
        "NIL NIL \"<B27397-0100000@cac.washington.edu>\")";
    static const char body[] =
        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 3028 92)";
    struct buf msg = BUF_INIT, out = BUF_INIT;
    struct imap_msg *m;

    (void)state;
    failures = 0;
    buf_puts(&msg, hdr);
    for (int i = 0; i < 92; i++)        /* 84 * 33 + 8 * 32 = 3028 */
        buf_printf(&msg, "%.*s\r\n", i < 84 ? 31 : 30, "Minutes of the IMAP4rev1 WG mtg.");
    m = imap_msg_parse(msg.data, msg.len);
    imap_msg_envelope(&out, msg.data, m->root.hdr_len);
    if (strcmp(buf_cstr(&out), env) != 0)
        report("ENVELOPE:\n got  %s\n want %s", buf_cstr(&out), env);
    buf_reset(&out);
    imap_msg_bodystructure(&out, m, false);
    if (strcmp(buf_cstr(&out), body) != 0)
        report("BODY:\n got  %s\n want %s", buf_cstr(&out), body);
    imap_msg_free(m);
    buf_free(&msg);
    buf_free(&out);
    assert_int_equal(failures, 0);
}

/* ---- sections ---- */

#define P(...) { __VA_ARGS__ }, sizeof((uint32_t[]){ __VA_ARGS__ }) / sizeof(uint32_t)
#define NOP { 0 }, 0

static const struct {
    const char        *msg;
    uint32_t           part[6];
    size_t             nparts;
    enum imap_msg_sect kind;
    char              *fields[3];
    bool               found;
    const char        *want;
} sect_cases[] = {
    /* no part number: the message */
    { M_NESTED, NOP, IMAP_MSG_SECT_ALL, { NULL }, true, M_NESTED },
    { M_NESTED, NOP, IMAP_MSG_SECT_HEADER, { NULL }, true,
      "Subject: outer\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n" },
    { M_RFC, NOP, IMAP_MSG_SECT_TEXT, { NULL }, true,
      "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n" },
    { M_NESTED, NOP, IMAP_MSG_SECT_MIME, { NULL }, false, "" },
    { M_NESTED, NOP, IMAP_MSG_SECT_FIELDS, { "SUBJECT", "x-none" }, true,
      "Subject: outer\r\n\r\n" },
    { M_NESTED, NOP, IMAP_MSG_SECT_FIELDS, { "x-none" }, true, "\r\n" },
    { M_NESTED, NOP, IMAP_MSG_SECT_FIELDS_NOT, { "subject" }, true,
      "Content-Type: multipart/mixed; boundary=o\r\n\r\n" },
    { M_TB, NOP, IMAP_MSG_SECT_FIELDS, { "Content-Type", "to" }, true,
      "To: Bob <bob@example.com>\r\nContent-Type: multipart/mixed;\r\n"
      " boundary=\"------------0aBc\"\r\n\r\n" },
    /* no empty line: HEADER has none (RFC 9051 6.4.5), FIELDS adds one */
    { M_ONLYHDR, NOP, IMAP_MSG_SECT_HEADER, { NULL }, true, "Subject: only header\r\n" },
    { M_ONLYHDR, NOP, IMAP_MSG_SECT_TEXT, { NULL }, true, "" },
    { M_ONLYHDR, NOP, IMAP_MSG_SECT_FIELDS, { "subject" }, true,
      "Subject: only header\r\n\r\n" },
    /* multipart parts (Dovecot agrees on each) */
    { M_NESTED, P(1), IMAP_MSG_SECT_ALL, { NULL }, true, "hello" },
    { M_NESTED, P(1), IMAP_MSG_SECT_MIME, { NULL }, true, "Content-Type: text/plain\r\n\r\n" },
    { M_NESTED, P(1), IMAP_MSG_SECT_HEADER, { NULL }, false, "" },
    { M_NESTED, P(1), IMAP_MSG_SECT_TEXT, { NULL }, false, "" },
    { M_NESTED, P(1), IMAP_MSG_SECT_FIELDS, { "content-type" }, false, "" },
    { M_NESTED, P(2), IMAP_MSG_SECT_ALL, { NULL }, true,
      "Subject: inner\r\nFrom: i@x\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n"
      "--i\r\n\r\ninner1\r\n--i\r\nContent-Type: image/png\r\n\r\nPNG\r\n--i--\r\n" },
    { M_NESTED, P(2), IMAP_MSG_SECT_MIME, { NULL }, true, "Content-Type: message/rfc822\r\n\r\n" },
    { M_NESTED, P(2), IMAP_MSG_SECT_HEADER, { NULL }, true,
      "Subject: inner\r\nFrom: i@x\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n" },
    { M_NESTED, P(2), IMAP_MSG_SECT_TEXT, { NULL }, true,
      "--i\r\n\r\ninner1\r\n--i\r\nContent-Type: image/png\r\n\r\nPNG\r\n--i--\r\n" },
    { M_NESTED, P(2), IMAP_MSG_SECT_FIELDS, { "from", "subject" }, true,
      "Subject: inner\r\nFrom: i@x\r\n\r\n" },
    { M_NESTED, P(2), IMAP_MSG_SECT_FIELDS_NOT, { "content-type" }, true,
      "Subject: inner\r\nFrom: i@x\r\n\r\n" },
    { M_NESTED, P(2, 1), IMAP_MSG_SECT_ALL, { NULL }, true, "inner1" },
    { M_NESTED, P(2, 1), IMAP_MSG_SECT_MIME, { NULL }, true, "\r\n" },
    { M_NESTED, P(2, 2), IMAP_MSG_SECT_ALL, { NULL }, true, "PNG" },
    { M_NESTED, P(2, 3), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    /* a leaf has no part 1 below it (Dovecot returns the leaf here) */
    { M_NESTED, P(2, 2, 1), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_NESTED, P(3, 1), IMAP_MSG_SECT_ALL, { NULL }, true, "simple\r\nbody" },
    { M_NESTED, P(3, 1), IMAP_MSG_SECT_MIME, { NULL }, true, "Subject: inner2\r\n\r\n" },
    { M_NESTED, P(3), IMAP_MSG_SECT_HEADER, { NULL }, true, "Subject: inner2\r\n\r\n" },
    { M_NESTED, P(3, 2), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_NESTED, P(4), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_NESTED, P(0), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_NESTED, P(4294967295u), IMAP_MSG_SECT_MIME, { NULL }, false, "" },
    { M_TB, P(1, 2), IMAP_MSG_SECT_ALL, { NULL }, true, "<html><body>Hi Bob</body></html>\r\n" },
    { M_TB, P(2), IMAP_MSG_SECT_MIME, { NULL }, true,
      "Content-Type: application/pdf; name=\"r.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"r.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" },
    { M_TB, P(1), IMAP_MSG_SECT_MIME, { NULL }, true,
      "Content-Type: multipart/alternative;\r\n boundary=\"------------1dEf\"\r\n\r\n" },
    /* part 1 of a non-multipart message is its body; 1.MIME its header */
    { M_RFC, P(1), IMAP_MSG_SECT_ALL, { NULL }, true,
      "Hello Joe, do you think we can meet at 3:30 tomorrow?\r\n" },
    { M_RFC, P(1, 1), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_RFC, P(2), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_ONLYHDR, P(1), IMAP_MSG_SECT_MIME, { NULL }, true, "Subject: only header\r\n" },
    /* a top-level message/rfc822 */
    { M_ROOTMSG, P(1), IMAP_MSG_SECT_ALL, { NULL }, true,
      "Subject: root is msg\r\n\r\ninner body\r\n" },
    { M_ROOTMSG, P(1, 1), IMAP_MSG_SECT_ALL, { NULL }, true, "inner body\r\n" },
    { M_ROOTMSG, P(1), IMAP_MSG_SECT_HEADER, { NULL }, true, "Subject: root is msg\r\n\r\n" },
    { M_ROOTMSG, P(1), IMAP_MSG_SECT_MIME, { NULL }, true, "Content-Type: message/rfc822\r\n\r\n" },
    { M_ROOTMSG, P(1, 2), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    /* the empty part of a multipart with none */
    { M_NOPARTS, P(1), IMAP_MSG_SECT_ALL, { NULL }, true, "" },
    { M_NOPARTS, P(2), IMAP_MSG_SECT_ALL, { NULL }, false, "" },
    { M_MIXED, P(1), IMAP_MSG_SECT_ALL, { NULL }, true, "part one" },
    { M_NOEND, P(1), IMAP_MSG_SECT_ALL, { NULL }, true, "no end\r\n" },
};

/* test_section - imap_msg_section */
static void
test_section(void **state)
{
    struct buf scratch = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(sect_cases); i++) {
        size_t nf = 0, n = 99;
        const char *p = NULL;
        char *c;
        struct imap_msg *m = parse(sect_cases[i].msg, strlen(sect_cases[i].msg), &c);
        bool got;

        while (nf < 3 && sect_cases[i].fields[nf] != NULL)
            nf++;
        got = imap_msg_section(m, sect_cases[i].part, sect_cases[i].nparts, sect_cases[i].kind,
                               sect_cases[i].fields, nf, &scratch, &p, &n);
        if (got != sect_cases[i].found || p == NULL || n != strlen(sect_cases[i].want)
            || memcmp(p, sect_cases[i].want, n) != 0)
            report("row %zu: got %d \"%s\", want %d \"%s\"", i, got, show(p, p ? n : 0),
                   sect_cases[i].found, showz(sect_cases[i].want));
        imap_msg_free(m);
        free(c);
    }
    buf_free(&scratch);
    assert_int_equal(failures, 0);
}

/* test_partial - <offset.length> */
static void
test_partial(void **state)
{
    static const struct {
        uint64_t    off, len;
        const char *want;
    } cases[] = {
        { 0, 3, "abc" }, { 2, 100, "cdef" }, { 5, UINT64_MAX, "f" }, { 6, 1, "" },
        { 10, 1, "" }, { 0, 0, "" }, { UINT64_MAX, UINT64_MAX, "" }, { 0, 6, "abcdef" },
    };
    const char *s = "abcdef";

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        const char *p = NULL;
        size_t n = 99;

        imap_msg_partial(s, 6, cases[i].off, cases[i].len, &p, &n);
        if (p == NULL || p < s || p > s + 6 || n != strlen(cases[i].want)
            || memcmp(p, cases[i].want, n) != 0)
            report("<%llu.%llu>: got \"%s\", want \"%s\"", (unsigned long long)cases[i].off,
                   (unsigned long long)cases[i].len, show(p, p ? n : 0), cases[i].want);
    }
    assert_int_equal(failures, 0);
}

/* ---- BINARY ---- */

/* test_binary - imap_msg_binary and imap_msg_binary_size (RFC 3516) */
static void
test_binary(void **state)
{
    static const struct {
        const char        *msg;
        uint32_t           part[4];
        size_t             nparts;
        enum imap_bin_err  err;
        const char        *want;
        size_t             wlen;
    } cases[] = {
        { M_TB, P(2), IMAP_BIN_OK, S("%PDF-1.4\n") },                  /* as Dovecot */
        { M_QP, P(1), IMAP_BIN_OK, S("AB trail\r\nsoftbreak=") },       /* as Dovecot */
        { M_B64, P(1), IMAP_BIN_OK, S("hello world") },
        { M_ALT, P(1), IMAP_BIN_OK, S("caf\xc3\xa9 soft") },
        { M_MIXED, P(2), IMAP_BIN_OK, S("\0\1\2") },
        { M_MIXED, P(1), IMAP_BIN_OK, S("part one") },
        { M_QPX, P(1), IMAP_BIN_OK, S("\xc3\xa9t\xc3\xa9 =ZZ =4\r\ntab\r\nend") },
        { M_UUE, P(1), IMAP_BIN_UNKNOWN_CTE, S("") },
        { M_UUE, P(2), IMAP_BIN_OK, S("foobara") },
        { M_UUE, P(3), IMAP_BIN_NOPART, S("") },
        { M_NESTED, P(2, 2), IMAP_BIN_OK, S("PNG") },
        { M_NESTED, P(3), IMAP_BIN_OK, S("Subject: inner2\r\n\r\nsimple\r\nbody") },
        { M_B64MSG, P(1), IMAP_BIN_OK, S("U3ViamVjdDogeA0KDQpib2R5DQo=\r\n") },  /* not a leaf */
        { M_RFC, NOP, IMAP_BIN_OK, S(M_RFC) },
        { M_RFC, P(0), IMAP_BIN_NOPART, S("") },
    };
    struct buf scratch = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *c;
        struct imap_msg *m = parse(cases[i].msg, strlen(cases[i].msg), &c);
        const char *p = NULL;
        size_t n = 99, size = 99;
        enum imap_bin_err e = imap_msg_binary(m, cases[i].part, cases[i].nparts, &scratch, &p, &n);
        enum imap_bin_err es = imap_msg_binary_size(m, cases[i].part, cases[i].nparts, &size);

        if (e != cases[i].err || p == NULL || n != cases[i].wlen || memcmp(p, cases[i].want, n) != 0)
            report("row %zu: got %d \"%s\", want %d \"%s\"", i, e, show(p, p ? n : 0),
                   cases[i].err, show(cases[i].want, cases[i].wlen));
        if (es != cases[i].err || size != cases[i].wlen)
            report("row %zu: BINARY.SIZE got %d %zu, want %d %zu", i, es, size, cases[i].err,
                   cases[i].wlen);
        imap_msg_free(m);
        free(c);
    }
    buf_free(&scratch);
    assert_int_equal(failures, 0);
}

/* ---- SEARCH ---- */

/* test_search - header, body and text searches */
static void
test_search(void **state)
{
    static const struct {
        const char *msg;
        char        what;           /* h: header (field), b: body, t: text */
        const char *field;
        const char *needle;
        bool        want;
    } cases[] = {
        { M_RFC, 'h', "subject", "MEETING", true },
        { M_RFC, 'h', "SUBJECT", "", true },
        { M_RFC, 'h', "cc", "", false },
        { M_RFC, 'h', "from", "foobar@blurdybloop", true },
        { M_RFC, 'h', "from", "Subject", false },
        { M_RFC, 'h', "to", "joe", false },
        { M_RFC, 'h', "Date", "(pst)", true },
        { M_TB, 'h', "content-type", "MIXED; BOUNDARY", true },     /* unfolded */
        { M_TB, 'h', "content-type", "\r\n", false },
        { M_ADDR, 'h', "subject", "lots  of   space", true },
        { M_ENV, 'h', "subject", "two", true },                     /* any field of the name */
        { M_ENC, 'h', "to", "CAF\xc3\xa9", true },                  /* 8-bit: exact */
        { M_ENC, 'h', "to", "CAF\xc3\x89", false },
        { M_ALT, 'b', NULL, "caf\xc3\xa9 soft", true },             /* decoded QP */
        { M_ALT, 'b', NULL, "caf=C3", false },
        { M_ALT, 'b', NULL, "<P>X</P>", true },
        { M_TB, 'b', NULL, "SEE ATTACHED", true },
        { M_TB, 'b', NULL, "JVBERi0x", true },                      /* not text: raw */
        { M_TB, 'b', NULL, "%PDF", false },
        { M_TB, 'b', NULL, "Report", false },                       /* header only */
        { M_B64, 'b', NULL, "hello world", true },
        { M_NESTED, 'b', NULL, "inner1", true },
        { M_NESTED, 'b', NULL, "outer", false },
        { M_RFC, 'b', NULL, "", true },
        { M_UUE, 'b', NULL, "begin 644", true },
        { M_NESTED, 't', NULL, "outer", true },
        { M_NESTED, 't', NULL, "simple", true },
        { M_NESTED, 't', NULL, "nothing", false },
        { M_RFC, 't', NULL, "subject: AFTERNOON", true },
        { M_RFC, 't', NULL, "meeting\r\nTo", false },
        { M_TB, 't', NULL, "multipart/mixed; boundary", true },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *c;
        struct imap_msg *m = parse(cases[i].msg, strlen(cases[i].msg), &c);
        size_t nl = strlen(cases[i].needle);
        bool got = cases[i].what == 'h' ? imap_msg_header_search(m, cases[i].field, cases[i].needle, nl)
                 : cases[i].what == 'b' ? imap_msg_body_search(m, cases[i].needle, nl)
                 : imap_msg_text_search(m, cases[i].needle, nl);

        if (got != cases[i].want)
            report("row %zu %c %s \"%s\": got %d, want %d", i, cases[i].what,
                   cases[i].field ? cases[i].field : "", showz(cases[i].needle), got,
                   cases[i].want);
        imap_msg_free(m);
        free(c);
    }
    assert_int_equal(failures, 0);
}

/* ---- Date: ---- */

/* test_date - imap_msg_date_parse and imap_msg_sent_date */
static void
test_date(void **state)
{
    static const struct {
        const char *s;
        bool        ok;
        long long   t;
        int         off;
    } cases[] = {
        { "Mon, 7 Feb 1994 21:52:25 -0800 (PST)", true, 760686745, -28800 },
        { "7 Feb 1994 21:52:25 -0800", true, 760686745, -28800 },
        { " (c) Mon , 7 (x) Feb 1994 21 : 52 : 25 -0800", true, 760686745, -28800 },
        { "Mon, 07 Feb 94 21:52 EST", true, 760675920, -18000 },     /* obsolete */
        { "Mon, 7 Feb 49 10:00:00 +0000", true, 2496304800, 0 },
        { "7 Feb 101 10:00:00 +0000", true, 981540000, 0 },
        { "Thu, 1 Jan 1970 00:00:00 GMT", true, 0, 0 },
        { "Sat, 29 Feb 2020 12:00:00 +0100", true, 1582974000, 3600 },
        { "Fri, 31 Dec 1999 23:59:60 +0000", true, 946684800, 0 },
        { "1 jan 2020 10:00:00 z", true, 1577872800, 0 },
        { "1 Jan 2020 10:00", true, 1577872800, 0 },                   /* no zone */
        { "1 Jan 2020 10:00:00 +0000 trailing junk", true, 1577872800, 0 },
        { "1 Jan 2020 10:00:00 XYZ", true, 1577872800, 0 },            /* unknown: -0000 */
        { "1 Jan 2020 11:30:00 +0130", true, 1577872800, 5400 },
        { "29 Feb 2019 10:00:00 +0000", false, 0, 0 },
        { "29 Feb 1900 10:00:00 +0000", false, 0, 0 },
        { "31 Apr 2020 00:00 +0000", false, 0, 0 },
        { "0 Jan 2020 00:00 +0000", false, 0, 0 },
        { "32 Jan 2020 00:00 +0000", false, 0, 0 },
        { "1 Foo 2020 00:00 +0000", false, 0, 0 },
        { "1 January 2020 00:00 +0000", false, 0, 0 },
        { "1 Jan 2020", false, 0, 0 },
        { "1 Jan 2020 24:00 +0000", false, 0, 0 },
        { "1 Jan 2020 10:60 +0000", false, 0, 0 },
        { "1 Jan 2020 10:00:61 +0000", false, 0, 0 },
        { "1 Jan 2020 10:00:00 +0060", false, 0, 0 },
        { "1 Jan 2020 10:00:00 +12345", false, 0, 0 },
        { "1 Jan 2020 10:00:00 +123", false, 0, 0 },
        { "1 Jan 1899 10:00:00 +0000", false, 0, 0 },
        { "1 Jan 12345 10:00:00 +0000", false, 0, 0 },
        { "1 Jan 5 10:00:00 +0000", false, 0, 0 },
        { "100 Jan 2020 10:00:00 +0000", false, 0, 0 },
        { "garbage", false, 0, 0 },
        { "", false, 0, 0 },
        { "(unterminated comment", false, 0, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *s = copy(cases[i].s, strlen(cases[i].s));
        time_t t = 42;
        int off = 42;
        bool ok = imap_msg_date_parse(s, strlen(cases[i].s), &t, &off);

        if (ok != cases[i].ok || (ok && ((long long)t != cases[i].t || off != cases[i].off))
            || (!ok && (t != 42 || off != 42)))
            report("date \"%s\": got %d %lld %d, want %d %lld %d", cases[i].s, ok, (long long)t,
                   off, cases[i].ok, cases[i].t, cases[i].off);
        free(s);
    }

    /* the first Date: field of the message */
    char *c;
    struct imap_msg *m = parse(S(M_RFC), &c);
    time_t t = 0;
    int off = 0;

    if (!imap_msg_sent_date(m, &t, &off) || t != 760686745 || off != -28800)
        report("imap_msg_sent_date(M_RFC): got %lld %d", (long long)t, off);
    imap_msg_free(m);
    free(c);
    m = parse(S(M_NESTED), &c);
    if (imap_msg_sent_date(m, &t, &off))
        report("imap_msg_sent_date(no Date:): got true");
    imap_msg_free(m);
    free(c);
    assert_int_equal(failures, 0);
}

/* ---- limits ---- */

/* depth_of - the levels of the tree below p */
static unsigned
depth_of(const struct mime_part *p)
{
    unsigned d = 0;

    for (size_t i = 0; i < p->nparts; i++) {
        unsigned k = depth_of(&p->parts[i]) + 1;

        d = k > d ? k : d;
    }
    if (p->msg && depth_of(p->msg) + 1 > d)
        d = depth_of(p->msg) + 1;
    return d;
}

/* balanced - the parentheses of s outside strings balance; literals
 * are skipped by their length */
static bool
balanced(const char *s, size_t n)
{
    long depth = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') {
            while (++i < n && s[i] != '"')
                ;
        } else if (s[i] == '{') {
            size_t len = strtoul(s + i + 1, NULL, 10);

            i = (size_t)(strchr(s + i, '\n') - s) + len;
        } else if (s[i] == '(') {
            depth++;
        } else if (s[i] == ')' && --depth < 0) {
            return false;
        }
    }
    return depth == 0;
}

/* test_limits - nesting past MIME_DEPTH_MAX, parts past MIME_PARTS_MAX */
static void
test_limits(void **state)
{
    struct buf msg = BUF_INIT, out = BUF_INIT;
    struct imap_msg *m;
    const struct mime_part *p;

    (void)state;
    failures = 0;

    /* 40 nested multiparts: level 32 becomes an opaque body */
    for (int i = 0; i < 40; i++)
        buf_printf(&msg, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
    buf_puts(&msg, "\r\ndeep\r\n");
    m = imap_msg_parse(msg.data, msg.len);
    imap_msg_bodystructure(&out, m, true);
    if (depth_of(&m->root) != MIME_DEPTH_MAX || m->nparts != MIME_DEPTH_MAX + 1
        || !balanced(out.data, out.len) || strstr(out.data, "\"octet-stream\"") == NULL)
        report("40 multiparts: got depth %u, %zu parts, %s", depth_of(&m->root), m->nparts,
               show(out.data, out.len));
    imap_msg_free(m);

    /* 40 nested message/rfc822 */
    buf_reset(&msg);
    buf_reset(&out);
    for (int i = 0; i < 40; i++)
        buf_puts(&msg, "Subject: x\r\nContent-Type: message/rfc822\r\n\r\n");
    buf_puts(&msg, "\r\ndeep\r\n");
    m = imap_msg_parse(msg.data, msg.len);
    imap_msg_bodystructure(&out, m, false);
    if (depth_of(&m->root) != MIME_DEPTH_MAX || !balanced(out.data, out.len))
        report("40 messages: got depth %u, %s", depth_of(&m->root), show(out.data, out.len));
    {
        uint32_t path[MIME_DEPTH_MAX + 1];

        for (size_t i = 0; i < NELEM(path); i++)
            path[i] = 1;
        p = imap_msg_part(m, path, MIME_DEPTH_MAX + 1);
        if (p == NULL || p->kind != MIME_LEAF)
            report("40 messages: part 1.1...1 (%d) not the opaque leaf", MIME_DEPTH_MAX + 1);
    }
    imap_msg_free(m);

    /* 6000 parts: the last one of the budget takes the rest */
    buf_reset(&msg);
    buf_reset(&out);
    buf_puts(&msg, "Content-Type: multipart/mixed; boundary=b\r\n\r\n");
    for (int i = 0; i < 6000; i++)
        buf_printf(&msg, "--b\r\n\r\n%d\r\n", i);
    buf_puts(&msg, "--b--\r\n");
    m = imap_msg_parse(msg.data, msg.len);
    imap_msg_bodystructure(&out, m, true);
    p = &m->root.parts[m->root.nparts - 1];
    if (m->nparts != MIME_PARTS_MAX || m->root.nparts != MIME_PARTS_MAX - 1
        || p->body_off + p->body_len != msg.len || !balanced(out.data, out.len))
        report("6000 parts: got %zu parts, %zu children", m->nparts, m->root.nparts);
    imap_msg_free(m);

    buf_free(&msg);
    buf_free(&out);
    assert_int_equal(failures, 0);
}

/* mime_decode_words: RFC 2047 encoded words into UTF-8, for SEARCH */
struct words_case {
    const char *in, *want;
};

static const struct words_case words_cases[] = {
    { "plain text", "plain text" },
    { "=?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?=", "Caf\xc3\xa9 cr\xc3\xa8me" },
    { "=?utf-8?b?Q2Fmw6k=?=", "Caf\xc3\xa9" },
    /* white space between two encoded words goes; around others it stays */
    { "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab" },
    { "x =?UTF-8?Q?a?= y", "x a y" },
    /* another charset through iconv; RFC 2231 language dropped */
    { "=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9" },
    { "=?us-ascii*en?q?hi?=", "hi" },
    /* an empty word in a charset iconv converts, first in the output */
    { "=?ISO-8859-1?Q?" "?=", "" },
    /* malformed or unknown: left as written */
    { "=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=" },
    { "=?no-such-charset?Q?abc?=", "=?no-such-charset?Q?abc?=" },
    { "=?UTF-8?Q?no end", "=?UTF-8?Q?no end" },
    { "=??Q?x?=", "=??Q?x?=" },
};

static void
test_decode_words(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(words_cases); i++) {
        const struct words_case *c = &words_cases[i];
        struct buf b = BUF_INIT;
        mime_decode_words(&b, c->in, strlen(c->in));
        if (b.len != strlen(c->want) || memcmp(b.data ? b.data : "", c->want, b.len) != 0)
            report("decode_words(%s): got %s, want %s", showz(c->in), show(b.data, b.len),
                   showz(c->want));
        buf_free(&b);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fmt_string),
        cmocka_unit_test(test_fmt_date_flags),
        cmocka_unit_test(test_crlf),
        cmocka_unit_test(test_bodystructure),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_rfc3501_example),
        cmocka_unit_test(test_section),
        cmocka_unit_test(test_partial),
        cmocka_unit_test(test_binary),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_decode_words),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
