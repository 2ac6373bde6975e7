/*
 * test_imap_parse - unit tests for src/imap/imap_parse.c and
 * src/imap/imap_search.c: framing (every split point), the value tree,
 * sequence sets, FETCH, STORE, APPEND, dates, SEARCH, LIST, STATUS,
 * mailbox names and modified UTF-7. Rows marked RFC come from the
 * examples of RFC 9051, 3501, 5258, 5819, 6154 and 7888.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end, so one run shows all broken rows. Each result
 * is written out as text (see the dump_* functions) and compared with
 * the row's want; errors are written "BAD reason".
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "imap/imap_fmt.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"

#include "check.h"

/* ---- helpers -------------------------------------------------------------- */

/* put_bytes - p[0..n) with octets outside 0x20..0x7e as \xNN */
static void
put_bytes(struct buf *b, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c < 0x20 || c > 0x7e)
            buf_printf(b, "\\x%02x", c);
        else
            buf_putc(b, (char)c);
    }
}

/* check_text - compare got (a buf, freed) with want */
static void
check_text(const char *what, const char *in, size_t inlen, struct buf *got, const char *want)
{
    if (strcmp(buf_cstr(got), want) != 0)
        report("%s(\"%s\"):\n  got  %s\n  want %s", what, show(in, inlen), buf_cstr(got), want);
    buf_free(got);
}

/* parse_or_report - imap_parse() of a row that must parse */
static bool
parse_ok(const char *in, size_t len, struct imap_cmd *cmd)
{
    const char *why;

    if (imap_parse(in, len, cmd, &why))
        return true;
    report("imap_parse(\"%s\"): got BAD %s, want a command", show(in, len), why);
    imap_cmd_free(cmd);
    return false;
}

/* ---- framing ---------------------------------------------------------------- */

struct scan_case {
    const char *in;
    size_t      len;
    uint64_t    other, nonsync;     /* the APPEND limit is 100 */
    const char *want;   /* tag:EVENT... C/S len, L/B size (~ literal8, + {N+},
                           ! again), T too long; "..." when input is left over */
};

#define LOGIN_LIT "A001 LOGIN {11}\r\nFRED FOOBAR {7}\r\nfat man\r\n"
#define MSG18 "Subject: x\r\n\r\nhi\r\n"

static const struct scan_case scan_cases[] = {
    { S("a NOOP\r\n"), 64, 0, "a:C8" },
    { S("a NOOP\r\nb2 CAPABILITY\r\n"), 64, 0, "a:C8 b2:C15" },
    { S("a NOOP"), 64, 0, "..." },
    { S("a NOOP\r"), 64, 0, "..." },
    { S(""), 64, 0, "" },
    /* RFC 9051 4.3 / RFC 3501 4.3: a synchronising literal */
    { S(LOGIN_LIT), 64, 0, "A001:L11 A001:L7 A001:C43" },
    { S(LOGIN_LIT "b NOOP\r\n"), 64, 0, "A001:L11 A001:L7 A001:C43 b:C8" },
    { S("A001 LOGIN {11}\r\nFRED FOO"), 64, 0, "A001:L11 ..." },
    /* RFC 7888 LITERAL+ */
    { S("a LOGIN {4+}\r\nuser {4+}\r\npass\r\n"), 64, 0, "a:C31" },
    { S("a LOGIN {4+}\r\nuser {4}\r\npass\r\n"), 64, 0, "a:L4 a:C30" },
    /* literal8 (RFC 3516), and {N} in the literal's octets is not a header */
    { S("a APPEND x ~{3}\r\na\0b\r\n"), 64, 0, "a:L~3 a:C22" },
    { S("a APPEND x ~{5+}\r\n{3}\r\n\r\n"), 64, 0, "a:C25" },
    { S("a APPEND x {18}\r\n" MSG18 "\r\n"), 64, 0, "a:L18 a:C37" },
    { S("a append x {18+}\r\n" MSG18 "\r\n"), 64, 0, "a:C38" },
    /* limits: APPEND 100, others as the row says */
    { S("a APPEND x {101}\r\nb NOOP\r\n"), 64, 0, "a:B101 b:C8" },
    { S("a APPEND x {100}\r\n"), 64, 0, "a:L100 ..." },
    { S("a LOGIN {11}\r\nb NOOP\r\n"), 10, 0, "a:B11 b:C8" },
    { S("a LOGIN {10}\r\nFRED FOOBA\r\n"), 10, 0, "a:L10 a:C26" },
    { S("a LOGIN {99999999999999999999999}\r\nb NOOP\r\n"), 10, 0,
      "a:B18446744073709551615 b:C8" },
    /* a too big {N+} is sent anyway: skipped, then the rest of its command */
    { S("a LOGIN {11+}\r\nFRED FOOBAR x\r\nb NOOP\r\n"), 10, 0, "a:B11+ a:S4 b:C8" },
    { S("a LOGIN {11+}\r\nFRED FOOBAR {3+}\r\nabc\r\nb NOOP\r\n"), 10, 0,
      "a:B11+ a:S12 b:C8" },
    { S("a LOGIN {11+}\r\nFRED FOOBAR {30+}\r\n"), 10, 0, "a:B11+ a:B30+! ..." },
    { S("a LOGIN {11+}\r\nFRED FOOBAR {30+}\r\n" "012345678901234567890123456789\r\nb NOOP\r\n"),
      10, 0, "a:B11+ a:B30+! a:S2 b:C8" },
    /* ... and a synchronising literal after it ends the skipped command */
    { S("a LOGIN {11+}\r\nFRED FOOBAR {3}\r\nb NOOP\r\n"), 10, 0, "a:B11+ a:S6 b:C8" },
    /* LITERAL- (RFC 7888 5): {N+} over 4096 (here 5) is too big */
    { S("a LOGIN {6+}\r\nsecret\r\n"), 64, 5, "a:B6+ a:S2" },
    { S("a LOGIN {6}\r\nsecret\r\n"), 64, 5, "a:L6 a:C21" },
    /* quoted strings: "{3}" in one does not announce a literal */
    { S("a LOGIN \"x {3}\"\r\nb NOOP\r\n"), 64, 0, "a:C17 b:C8" },
    { S("a LOGIN \"x\\\" {3}\r\nb NOOP\r\n"), 64, 0, "a:C18 b:C8" },
    { S("a LOGIN \"x\\\\\" {3}\r\nabc\r\n"), 64, 0, "a:L3 a:C24" },
    /* line ends: a bare LF ends a line but never announces a literal */
    { S("a NOOP\nb NOOP\r\n"), 64, 0, "a:C7 b:C8" },
    { S("a X {3}\nb NOOP\r\n"), 64, 0, "a:C8 b:C8" },
    { S("a X\rY\r\n"), 64, 0, "a:C7" },
    /* tags: "" (shown as *) when not valid */
    { S("+ NOOP\r\n"), 64, 0, "*:C8" },
    { S("\r\n"), 64, 0, "*:C2" },
    { S("a\r\n"), 64, 0, "a:C3" },
    { S("a]b LIST \"\" {1}\r\n%\r\n"), 64, 0, "a]b:L1 a]b:C20" },
    /* the literal header must end the line, with digits */
    { S("a X {3}x\r\n"), 64, 0, "a:C10" },
    { S("a X {}\r\n"), 64, 0, "a:C8" },
    { S("a X {+}\r\n"), 64, 0, "a:C9" },
};

/* scan_events - run imap_scan() as a session would over in[0..n), given
 * the first `first` octets, then `step` at a time (0: the rest at once);
 * the events go to ev */
static void
scan_events(const char *in, size_t n, size_t first, size_t step,
            const struct imap_scan_limits *lim, struct buf *ev)
{
    struct imap_scan st;
    struct imap_scan_out out;
    size_t base = 0, avail = first < n ? first : n;

    imap_scan_init(&st);
    for (;;) {
        enum imap_scan_status s = imap_scan(&st, in + base, avail - base, lim, &out);
        const char *tag = out.tag[0] ? out.tag : "*";

        if (s != IMAP_SCAN_MORE && ev->len)
            buf_putc(ev, ' ');
        switch (s) {
        case IMAP_SCAN_MORE:
            if (avail == n) {
                if (base < n)
                    buf_puts(ev, ev->len ? " ..." : "...");
                return;
            }
            avail = step && n - avail > step ? avail + step : n;
            continue;
        case IMAP_SCAN_COMMAND:
            buf_printf(ev, "%s:C%zu", tag, out.len);
            base += out.len;
            imap_scan_init(&st);
            break;
        case IMAP_SCAN_LITERAL:
            buf_printf(ev, "%s:L%s%llu", tag, out.binary ? "~" : "",
                       (unsigned long long)out.literal);
            break;
        case IMAP_SCAN_TOOBIG:
            buf_printf(ev, "%s:B%s%llu%s%s", tag, out.binary ? "~" : "",
                       (unsigned long long)out.literal, out.nonsync ? "+" : "",
                       out.again ? "!" : "");
            base += out.len;
            if (!out.nonsync) {
                imap_scan_init(&st);
                break;
            }
            if (out.literal > n - base) {
                buf_puts(ev, " ...");
                return;
            }
            base += (size_t)out.literal;
            imap_scan_resume(&st);
            break;
        case IMAP_SCAN_SKIPPED:
            buf_printf(ev, "%s:S%zu", tag, out.len);
            base += out.len;
            imap_scan_init(&st);
            break;
        case IMAP_SCAN_TOOLONG:
            buf_printf(ev, "%s:T", tag);
            return;
        }
        if (avail < base)
            avail = base;
    }
}

/* test_scan - the events of each row, whole and split at every point */
static void
test_scan(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(scan_cases); i++) {
        const struct scan_case *c = &scan_cases[i];
        struct imap_scan_limits lim = { .append = 100, .other = c->other, .nonsync = c->nonsync };
        char *in = copy(c->in, c->len);
        struct buf whole = BUF_INIT;

        scan_events(in, c->len, c->len, 0, &lim, &whole);
        if (strcmp(buf_cstr(&whole), c->want) != 0)
            report("imap_scan(\"%s\"): got %s, want %s", show(c->in, c->len),
                   buf_cstr(&whole), c->want);
        for (size_t k = 0; k <= c->len + 2; k++) {
            struct buf split = BUF_INIT;

            /* k: split once at k; then byte by byte, and 3 at a time */
            if (k <= c->len)
                scan_events(in, c->len, k, 0, &lim, &split);
            else
                scan_events(in, c->len, 0, k == c->len + 1 ? 1 : 3, &lim, &split);
            if (strcmp(buf_cstr(&split), buf_cstr(&whole)) != 0)
                report("imap_scan(\"%s\") split %zu: got %s, want %s", show(c->in, c->len),
                       k, buf_cstr(&split), buf_cstr(&whole));
            buf_free(&split);
        }
        buf_free(&whole);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* test_scan_limits - line, text and literal-count limits; out->name */
static void
test_scan_limits(void **state)
{
    struct imap_scan_limits lim = { .append = 1000, .other = 1000, .nonsync = 0 };
    struct imap_scan st;
    struct imap_scan_out out;
    struct buf b = BUF_INIT;
    enum imap_scan_status s;

    (void)state;
    failures = 0;
    /* a line of IMAP_LINE_MAX octets is fine, one more is not */
    for (size_t extra = 0; extra < 2; extra++) {
        buf_reset(&b);
        buf_puts(&b, "t1 x ");
        while (b.len < IMAP_LINE_MAX + extra)
            buf_putc(&b, 'y');
        buf_puts(&b, "\r\n");
        imap_scan_init(&st);
        s = imap_scan(&st, b.data, b.len, &lim, &out);
        if (s != (extra ? IMAP_SCAN_TOOLONG : IMAP_SCAN_COMMAND) || strcmp(out.tag, "t1") != 0)
            report("imap_scan(line of %zu): got %d tag %s", b.len - 2, s, out.tag);
        /* found before the line ends, and it stays */
        imap_scan_init(&st);
        s = imap_scan(&st, b.data, b.len - 2, &lim, &out);
        if (extra && (s != IMAP_SCAN_TOOLONG || imap_scan(&st, b.data, b.len, &lim, &out)
                                                != IMAP_SCAN_TOOLONG))
            report("imap_scan(line of %zu, no CRLF): got %d", b.len - 2, s);
    }
    /* IMAP_LITERALS_MAX literals, then one more */
    for (size_t extra = 0; extra < 2; extra++) {
        buf_reset(&b);
        buf_puts(&b, "t2 X");
        for (size_t i = 0; i < IMAP_LITERALS_MAX + extra; i++)
            buf_puts(&b, " {0+}\r\n");
        buf_puts(&b, "\r\n");
        imap_scan_init(&st);
        s = imap_scan(&st, b.data, b.len, &lim, &out);
        if (s != (extra ? IMAP_SCAN_TOOLONG : IMAP_SCAN_COMMAND))
            report("imap_scan(%zu literals): got %d", (size_t)IMAP_LITERALS_MAX + extra, s);
    }
    /* IMAP_TEXT_MAX octets of text, in lines joined by literals */
    buf_reset(&b);
    buf_puts(&b, "t3 X");
    while (b.len <= IMAP_TEXT_MAX)
        buf_puts(&b, " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {1+}\r\nb");
    buf_puts(&b, "\r\n");
    imap_scan_init(&st);
    s = imap_scan(&st, b.data, b.len, &lim, &out);
    if (s != IMAP_SCAN_TOOLONG || strcmp(out.tag, "t3") != 0)
        report("imap_scan(%zu octets of text): got %d tag %s", b.len, s, out.tag);
    /* the name, upper-cased */
    imap_scan_init(&st);
    s = imap_scan(&st, S("x1 uid fetch 1 FLAGS\r\n"), &lim, &out);
    if (s != IMAP_SCAN_COMMAND || strcmp(out.name, "UID") != 0 || strcmp(out.tag, "x1") != 0)
        report("imap_scan(uid fetch): got %d tag %s name %s", s, out.tag, out.name);
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* ---- the value tree ---------------------------------------------------------- */

/* dump_val - v as text: atoms as sent, "quoted", {n}literal, ~{n}literal8 */
static void
dump_val(struct buf *b, const struct imap_val *v)
{
    switch (v->type) {
    case IMAP_VAL_ATOM:
        buf_append(b, v->s, v->len);
        break;
    case IMAP_VAL_NIL:
        buf_puts(b, "NIL");
        break;
    case IMAP_VAL_QUOTED:
        buf_putc(b, '"');
        put_bytes(b, v->s, v->len);
        buf_putc(b, '"');
        break;
    case IMAP_VAL_LITERAL:
        buf_printf(b, "%s{%zu}", v->literal8 ? "~" : "", v->len);
        put_bytes(b, v->s, v->len);
        break;
    case IMAP_VAL_LIST:
        buf_putc(b, '(');
        for (const struct imap_val *e = v->first; e; e = e->next) {
            dump_val(b, e);
            if (e->next)
                buf_putc(b, ' ');
        }
        buf_putc(b, ')');
        break;
    }
}

/* dump_cmd - the command as "tag [UID ]NAME args" */
static void
dump_cmd(struct buf *b, const struct imap_cmd *cmd)
{
    buf_printf(b, "%s %s%s", cmd->tag, cmd->uid ? "UID " : "", cmd->name);
    for (const struct imap_val *v = cmd->args; v; v = v->next) {
        buf_putc(b, ' ');
        dump_val(b, v);
    }
}

struct parse_case {
    const char *in;
    size_t      len;
    const char *want;       /* dump_cmd(), or "tag BAD why" (tag * if none) */
};

#define D16(x) "((((((((((((((((" x "))))))))))))))))"

static const struct parse_case parse_cases[] = {
    { S("a1 NOOP\r\n"), "a1 NOOP" },
    { S("a1 noop\r\n"), "a1 NOOP" },
    /* RFC 9051 6.2.3 */
    { S("a001 LOGIN SMITH SESAME\r\n"), "a001 LOGIN SMITH SESAME" },
    { S(LOGIN_LIT), "A001 LOGIN {11}FRED FOOBAR {7}fat man" },
    { S("a LOGIN {4+}\r\nuser {4+}\r\npass\r\n"), "a LOGIN {4}user {4}pass" },
    { S("a LOGIN \"us er\" \"pa\\\"s\\\\s\"\r\n"), "a LOGIN \"us er\" \"pa\"s\\s\"" },
    { S("a LOGIN \"\" \"\"\r\n"), "a LOGIN \"\" \"\"" },
    /* UID */
    { S("A999 UID FETCH 4827313:4828442 FLAGS\r\n"), "A999 UID FETCH 4827313:4828442 FLAGS" },
    { S("a uid store 1 +flags (\\Seen)\r\n"), "a UID STORE 1 +flags (\\Seen)" },
    { S("a UID EXPUNGE 3:5\r\n"), "a UID EXPUNGE 3:5" },
    { S("a UID NOOP\r\n"), "a BAD unknown UID command" },
    { S("a UID\r\n"), "a BAD missing command name" },
    /* FETCH sections are one atom, spaces and all */
    { S("a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> UID)\r\n"),
      "a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.10> UID)" },
    { S("a FETCH 1 body[header.fields (a\"]\" b)]\r\n"), "a FETCH 1 body[header.fields (a\"]\" b)]" },
    { S("a FETCH 1 BINARY.SIZE[1] BODY[]\r\n"), "a FETCH 1 BINARY.SIZE[1] BODY[]" },
    { S("a X BODY[1\r\n"), "a BAD bad character in a section" },
    { S("a X BODY[HEADER.FIELDS {4}\r\nFrom]\r\n"), "a BAD literals in a section are not supported" },
    { S("a X BODY[[]]\r\n"), "a BAD bad character in a section" },
    { S("a X BODY[HEADER.FIELDS (\"\x11\")]\r\n"), "a BAD bad character in a section" },
    { S("a X BODY[HEADER.FIELDS (\"\xc3\xa9\")]\r\n"), "a BAD bad character in a section" },
    { S("a X BODY[HEADER.FIELDS (\"\\a\")]\r\n"), "a BAD bad escape in a section" },
    { S("a X BODY[HEADER.FIELDS (\"a\r\n"), "a BAD bad character in a section" },
    /* other brackets are plain atom octets */
    { S("a LIST \"\" [Gmail]/%\r\n"), "a LIST \"\" [Gmail]/%" },
    { S("a X [a b]\r\n"), "a X [a b]" },
    /* NIL, lists, nesting */
    { S("a SELECT nil\r\n"), "a SELECT NIL" },
    { S("a X () (()) \"\" (a (b c) NIL)\r\n"), "a X () (()) \"\" (a (b c) NIL)" },
    { S("a X " D16("x") "\r\n"), "a X " D16("x") },
    { S("a X (" D16("x") ")\r\n"), "a BAD lists nested too deeply" },
    /* literals */
    { S("a X {3}\r\nabc {0}\r\n\r\n"), "a X {3}abc {0}" },
    { S("a X ({3}\r\nabc)\r\n"), "a X ({3}abc)" },
    { S("a APPEND x ~{3}\r\na\0b\r\n"), "a APPEND x ~{3}a\\x00b" },
    { S("a APPEND x ~{3+}\r\na\0b\r\n"), "a APPEND x ~{3}a\\x00b" },
    { S("a X {2}\r\na\0\r\n"), "a BAD NUL in a literal" },
    { S("a X {5}\r\nab\r\n"), "a BAD literal longer than the command" },
    { S("a X {3}\r\nab\r\n"), "a BAD lines must end with CRLF" },
    { S("a X {}\r\n"), "a BAD bad literal size" },
    { S("a X {99999999999999999999}\r\n"), "a BAD bad literal size" },
    { S("a X {2}ab\r\n"), "a BAD bad literal" },
    { S("a X {2}\nab\r\n"), "a BAD bad literal" },
    { S("a X a{3}\r\nabc\r\n"), "a BAD unexpected character" },
    { S("a X ~abc ~\r\n"), "a X ~abc ~" },
    /* quoted strings: 7-bit, or UTF-8 (IMAP4rev2) */
    { S("a X \"\xc3\xa9t\xc3\xa9\"\r\n"), "a X \"\\xc3\\xa9t\\xc3\\xa9\"" },
    { S("a X \"\x01\x7f\"\r\n"), "a X \"\\x01\\x7f\"" },
    { S("a X \"\xc3\"\r\n"), "a BAD invalid UTF-8 in a quoted string" },
    { S("a X \"\xed\xa0\x80\"\r\n"), "a BAD invalid UTF-8 in a quoted string" },
    { S("a X \"\xc0\xaf\"\r\n"), "a BAD invalid UTF-8 in a quoted string" },
    { S("a X \"\xf4\x90\x80\x80\"\r\n"), "a BAD invalid UTF-8 in a quoted string" },
    { S("a X \"a\\b\"\r\n"), "a BAD bad escape in a quoted string" },
    { S("a X \"a\r\n"), "a BAD bad character in a quoted string" },
    { S("a X \"a\0\"\r\n"), "a BAD bad character in a quoted string" },
    { S("a X \"a"), "a BAD unterminated quoted string" },
    /* atoms: 7-bit only */
    { S("a X \xc3\xa9\r\n"), "a BAD unexpected character" },
    { S("a X \\Seen $Label1 a]b 1:*,5 %x*\r\n"), "a X \\Seen $Label1 a]b 1:*,5 %x*" },
    /* tags and names */
    { S("a]b.1 NOOP\r\n"), "a]b.1 NOOP" },
    { S("+ NOOP\r\n"), "* BAD invalid tag" },
    { S("a+ NOOP\r\n"), "* BAD invalid tag" },
    { S("* NOOP\r\n"), "* BAD invalid tag" },
    { S("a\"b NOOP\r\n"), "* BAD invalid tag" },
    { S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa NOOP\r\n"),
      "* BAD invalid tag" },
    { S("\r\n"), "* BAD missing tag" },
    { S(" a NOOP\r\n"), "* BAD missing tag" },
    { S("a\r\n"), "a BAD missing command name" },
    { S("a  NOOP\r\n"), "a BAD invalid command name" },
    { S("a NO(OP\r\n"), "a BAD invalid command name" },
    { S("a XAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"), "a BAD invalid command name" },
    /* spacing and line ends */
    { S("a NOOP \r\n"), "a BAD trailing space" },
    { S("a X a  b\r\n"), "a BAD extra space" },
    { S("a X ( a)\r\n"), "a BAD extra space" },
    { S("a X (a )\r\n"), "a BAD unexpected character" },
    { S("a X (a b\r\n"), "a BAD expected a space or ')'" },
    { S("a X a)\r\n"), "a BAD unexpected character" },
    { S("a NOOP\n"), "a BAD lines must end with CRLF" },
    { S("a NOOP"), "a BAD lines must end with CRLF" },
    { S("a NOOP\r"), "a BAD lines must end with CRLF" },
    { S("a NOOP\rx\r\n"), "a BAD lines must end with CRLF" },
    { S("a NOOP\r\nb NOOP\r\n"), "a BAD more after the command's end" },
};

/* test_parse - the tree of each row */
static void
test_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(parse_cases); i++) {
        const struct parse_case *c = &parse_cases[i];
        char *in = copy(c->in, c->len);
        struct imap_cmd cmd;
        struct buf got = BUF_INIT;
        const char *why = "?";

        if (imap_parse(in, c->len, &cmd, &why))
            dump_cmd(&got, &cmd);
        else
            buf_printf(&got, "%s BAD %s", cmd.tag[0] ? cmd.tag : "*", why);
        imap_cmd_free(&cmd);
        free(in);       /* cmd held copies: nothing may point into in */
        check_text("imap_parse", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

/* test_parse_limits - values per list and per command */
static void
test_parse_limits(void **state)
{
    struct buf b = BUF_INIT;
    struct imap_cmd cmd;
    const char *why;

    (void)state;
    failures = 0;
    for (size_t extra = 0; extra < 2; extra++) {
        buf_reset(&b);
        buf_puts(&b, "a X (");
        for (size_t i = 0; i < IMAP_LIST_MAX + extra; i++)
            buf_puts(&b, i ? " x" : "x");
        buf_puts(&b, ")\r\n");
        if (imap_parse(b.data, b.len, &cmd, &why) != !extra)
            report("imap_parse(list of %zu): got %s", (size_t)IMAP_LIST_MAX + extra,
                   extra ? "ok" : why);
        imap_cmd_free(&cmd);
    }
    for (size_t extra = 0; extra < 2; extra++) {
        bool ok;

        buf_reset(&b);
        buf_puts(&b, "a X");
        for (size_t i = 0; i < IMAP_VALS_MAX + extra; i++)
            buf_puts(&b, " x");
        buf_puts(&b, "\r\n");
        ok = imap_parse(b.data, b.len, &cmd, &why);
        if (ok != !extra || (!ok && strcmp(why, "too many values") != 0))
            report("imap_parse(%zu values): got %s", IMAP_VALS_MAX + extra, ok ? "ok" : why);
        imap_cmd_free(&cmd);
    }
    imap_cmd_free(&cmd);        /* twice: harmless */
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* ---- sequence sets ----------------------------------------------------------- */

/* dump_seq - "1:5,7,9:*" with single numbers alone; 0 as "*" unless
 * the set was resolved */
static void
dump_seq_as(struct buf *b, const struct imap_seq *set, bool resolved)
{
    for (size_t i = 0; i < set->n; i++) {
        char lo[16], hi[16];

        snprintf(lo, sizeof(lo), "%u", (unsigned)set->r[i].lo);
        snprintf(hi, sizeof(hi), "%u", (unsigned)set->r[i].hi);
        buf_printf(b, "%s%s", i ? "," : "", set->r[i].lo == IMAP_SEQ_STAR && !resolved ? "*" : lo);
        if (set->r[i].hi != set->r[i].lo)
            buf_printf(b, ":%s", set->r[i].hi == IMAP_SEQ_STAR && !resolved ? "*" : hi);
    }
}

/* dump_seq - dump_seq_as() of a set as parsed */
static void
dump_seq(struct buf *b, const struct imap_seq *set)
{
    dump_seq_as(b, set, false);
}

static const struct {
    const char *set;
    const char *want;       /* dump_seq() or "BAD why" */
} seq_cases[] = {
    { "1", "1" },
    { "1:5,7,9:*", "1:5,7,9:*" },
    { "*", "*" },
    { "*:*", "*" },
    { "5:1", "5:1" },
    { "*:3", "*:3" },
    { "4294967295", "4294967295" },
    { "1,1,1", "1,1,1" },
    { "4827313:4828442", "4827313:4828442" },
    { "4294967296", "BAD invalid sequence set" },
    { "0", "BAD invalid sequence set" },
    { "1:0", "BAD invalid sequence set" },
    { "01", "BAD invalid sequence set" },
    { "1,", "BAD invalid sequence set" },
    { ",1", "BAD invalid sequence set" },
    { "1,,2", "BAD invalid sequence set" },
    { "1:", "BAD invalid sequence set" },
    { ":1", "BAD invalid sequence set" },
    { "1:2:3", "BAD invalid sequence set" },
    { "1-3", "BAD invalid sequence set" },
    { "**", "BAD invalid sequence set" },
    { "+1", "BAD invalid sequence set" },
    { "$", "BAD $ (SEARCHRES) is not supported" },
    { "$,1", "BAD invalid sequence set" },
};

static const struct {
    const char *set;
    uint32_t    star, num;
    bool        want;
} contains_cases[] = {
    { "1:5,7,9:*", 20, 1, true },
    { "1:5,7,9:*", 20, 5, true },
    { "1:5,7,9:*", 20, 6, false },
    { "1:5,7,9:*", 20, 7, true },
    { "1:5,7,9:*", 20, 8, false },
    { "1:5,7,9:*", 20, 20, true },
    { "1:5,7,9:*", 20, 21, false },
    { "5:1", 20, 3, true },
    { "*", 20, 20, true },
    { "*", 20, 19, false },
    /* RFC 9051 6.4.8: "*:n" with n above the largest UID holds it */
    { "30:*", 20, 20, true },
    { "30:*", 20, 25, true },
    { "30:*", 20, 31, false },
    { "4294967295", 1, 4294967295u, true },
    { "1:*", 0, 1, true },
};

static const struct {
    const char *set;
    uint32_t    star;
    const char *want;
} resolve_cases[] = {
    { "1:5,7,9:*", 20, "1:5,7,9:20" },
    { "9:*,7,1:5", 20, "1:5,7,9:20" },
    { "5:1,2:8,10", 20, "1:8,10" },
    { "1:3,4:6", 20, "1:6" },
    { "1,2,3,5", 20, "1:3,5" },
    { "*,1", 0, "0:1" },
    { "4294967295,4294967294,1:*", 4294967295u, "1:4294967295" },
    { "30:*", 20, "20:30" },
};

/* test_seq - parse, membership and resolution */
static void
test_seq(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(seq_cases); i++) {
        struct imap_val v = { .type = IMAP_VAL_ATOM, .s = seq_cases[i].set,
                              .len = strlen(seq_cases[i].set) };
        struct imap_seq set;
        struct buf got = BUF_INIT;
        const char *why;

        if (imap_seq_parse(&v, &set, &why))
            dump_seq(&got, &set);
        else
            buf_printf(&got, "BAD %s", why);
        imap_seq_free(&set);
        check_text("imap_seq_parse", v.s, v.len, &got, seq_cases[i].want);
    }
    for (size_t i = 0; i < NELEM(contains_cases); i++) {
        struct imap_val v = { .type = IMAP_VAL_ATOM, .s = contains_cases[i].set,
                              .len = strlen(contains_cases[i].set) };
        struct imap_seq set, res;
        const char *why;
        bool got, got2 = false;

        assert_true(imap_seq_parse(&v, &set, &why));
        got = imap_seq_contains(&set, contains_cases[i].num, contains_cases[i].star);
        imap_seq_resolve(&set, contains_cases[i].star, &res);
        for (size_t k = 0; k < res.n; k++)
            got2 |= res.r[k].lo <= contains_cases[i].num && contains_cases[i].num <= res.r[k].hi;
        if (got != contains_cases[i].want || got2 != got)
            report("imap_seq_contains(%s, %u, star %u): got %d (resolved %d), want %d",
                   v.s, (unsigned)contains_cases[i].num, (unsigned)contains_cases[i].star, got,
                   got2, contains_cases[i].want);
        imap_seq_free(&set);
        imap_seq_free(&res);
    }
    for (size_t i = 0; i < NELEM(resolve_cases); i++) {
        struct imap_val v = { .type = IMAP_VAL_ATOM, .s = resolve_cases[i].set,
                              .len = strlen(resolve_cases[i].set) };
        struct imap_seq set, res;
        struct buf got = BUF_INIT;
        const char *why;

        assert_true(imap_seq_parse(&v, &set, &why));
        imap_seq_resolve(&set, resolve_cases[i].star, &res);
        dump_seq_as(&got, &res, true);
        check_text("imap_seq_resolve", v.s, v.len, &got, resolve_cases[i].want);
        imap_seq_free(&set);
        imap_seq_free(&res);
    }
    assert_int_equal(failures, 0);
}

/* ---- FETCH -------------------------------------------------------------------- */

/* dump_fetch - each attribute's response name, "!" when it sets \Seen,
 * "#offset.length" for a partial; then " @" and the sequence set */
static void
dump_fetch(struct buf *b, const struct imap_fetch *f)
{
    for (unsigned i = 0; i < f->n; i++) {
        buf_printf(b, "%s%s%s", i ? " " : "", f->att[i].resp, f->att[i].sets_seen ? "!" : "");
        if (f->att[i].partial)
            buf_printf(b, "#%llu.%llu", (unsigned long long)f->att[i].offset,
                       (unsigned long long)f->att[i].length);
    }
    buf_puts(b, " @");
    dump_seq(b, &f->seq);
}

#define TB_HEADERS "From To Cc Bcc Subject Date Message-ID Priority X-Priority References " \
                   "Newsgroups In-Reply-To Content-Type Reply-To"
#define MUTT_HEADERS "DATE FROM SENDER SUBJECT TO CC MESSAGE-ID REFERENCES CONTENT-TYPE " \
                     "CONTENT-DESCRIPTION IN-REPLY-TO REPLY-TO LINES LIST-POST X-LABEL"
#define P32 "1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32"

static const struct parse_case fetch_cases[] = {
    /* RFC 9051 6.4.5 */
    { S("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n"),
      "FLAGS BODY[HEADER.FIELDS (DATE FROM)]! @2:4" },
    { S("a FETCH 1 ALL\r\n"), "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE @1" },
    { S("a FETCH 1 fast\r\n"), "FLAGS INTERNALDATE RFC822.SIZE @1" },
    { S("a FETCH 1:* FULL\r\n"), "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY @1:*" },
    { S("a FETCH 1 (BODY BODYSTRUCTURE ENVELOPE RFC822 RFC822.HEADER RFC822.TEXT "
        "RFC822.SIZE UID INTERNALDATE FLAGS)\r\n"),
      "BODY BODYSTRUCTURE ENVELOPE RFC822! RFC822.HEADER RFC822.TEXT! RFC822.SIZE UID "
      "INTERNALDATE FLAGS @1" },
    { S("a FETCH 1 uid\r\n"), "UID @1" },
    { S("a FETCH 1 BODY[]\r\n"), "BODY[]! @1" },
    { S("a FETCH 1 BODY.PEEK[]\r\n"), "BODY[] @1" },
    { S("a FETCH 1 body.peek[header.fields (From To)]<0.100>\r\n"),
      "BODY[HEADER.FIELDS (FROM TO)]<0>#0.100 @1" },
    { S("a FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (X-A \"x-b\")]\r\n"),
      "BODY[HEADER.FIELDS.NOT (X-A X-B)] @1" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (\"a\\\"b\" \"(\")]\r\n"),
      "BODY[HEADER.FIELDS (\"A\\\"B\" \"(\")]! @1" },
    { S("a FETCH 1 BODY[1.2.MIME]\r\n"), "BODY[1.2.MIME]! @1" },
    { S("a FETCH 1 BODY[4.2.2.text]<10.20>\r\n"), "BODY[4.2.2.TEXT]<10>!#10.20 @1" },
    { S("a FETCH 1 BODY[3.HEADER]\r\n"), "BODY[3.HEADER]! @1" },
    { S("a FETCH 1 BODY[1]\r\n"), "BODY[1]! @1" },
    { S("a FETCH 1 BODY[TEXT]<0.1>\r\n"), "BODY[TEXT]<0>!#0.1 @1" },
    { S("a FETCH 1 BODY[" P32 "]\r\n"), "BODY[" P32 "]! @1" },
    { S("a FETCH 1 BODY[]<9223372036854775807.9223372036854775807>\r\n"),
      "BODY[]<9223372036854775807>!#9223372036854775807.9223372036854775807 @1" },
    /* RFC 3516 BINARY */
    { S("a FETCH 1 BINARY.PEEK[1]<0.1024>\r\n"), "BINARY[1]<0>#0.1024 @1" },
    { S("a FETCH 1 BINARY[]\r\n"), "BINARY[]! @1" },
    { S("a FETCH 1 binary.size[2.1]\r\n"), "BINARY.SIZE[2.1] @1" },
    /* clients */
    { S("6 UID fetch 1:5 (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (" TB_HEADERS ")])\r\n"),
      "UID RFC822.SIZE FLAGS BODY[HEADER.FIELDS (FROM TO CC BCC SUBJECT DATE MESSAGE-ID "
      "PRIORITY X-PRIORITY REFERENCES NEWSGROUPS IN-REPLY-TO CONTENT-TYPE REPLY-TO)] @1:5" },
    { S("a0006 FETCH 1:3 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[HEADER.FIELDS ("
        MUTT_HEADERS ")])\r\n"),
      "UID FLAGS INTERNALDATE RFC822.SIZE BODY[HEADER.FIELDS (" MUTT_HEADERS ")] @1:3" },
    { S("7 UID fetch 3 (UID RFC822.SIZE BODY.PEEK[])\r\n"), "UID RFC822.SIZE BODY[] @3" },
    /* errors */
    { S("a FETCH 1 BODY[MIME]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[0]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[01]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[1000001]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[1.]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[1..2]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[.1]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[HEADER.]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[TEXT.MIME]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[HEADER ]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[" P32 ".33]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[HEADER.FIELDS]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BODY[HEADER.FIELDS ()]\r\n"), "BAD header list expected" },
    { S("a FETCH 1 BODY[HEADER.FIELDS From]\r\n"), "BAD header list expected" },
    { S("a FETCH 1 BODY[HEADER.FIELDS  (From)]\r\n"), "BAD header list expected" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (A  B)]\r\n"), "BAD bad header list" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (A )]\r\n"), "BAD bad header list" },
    { S("a FETCH 1 BODY[HEADER.FIELDS ( A)]\r\n"), "BAD bad header field name" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (A) ]\r\n"), "BAD header list expected" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (Fr:om)]\r\n"), "BAD bad header field name" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (\"\")]\r\n"), "BAD bad header field name" },
    { S("a FETCH 1 BODY[HEADER.FIELDS (\"a b\")]\r\n"), "BAD bad header field name" },
    { S("a FETCH 1 BODY[HEADER.FIELDS ((A))]\r\n"), "BAD bad header field name" },
    { S("a FETCH 1 BODY[]<5>\r\n"), "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BODY[]<0.0>\r\n"), "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BODY[]<0.01>\r\n"), "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BODY[]<.5>\r\n"), "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BODY[]<1.2>x\r\n"), "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BODY[]<9223372036854775808.1>\r\n"),
      "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BINARY[TEXT]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BINARY[1.MIME]\r\n"), "BAD invalid section" },
    { S("a FETCH 1 BINARY.SIZE[1]<0.5>\r\n"), "BAD invalid partial (<offset.length> expected)" },
    { S("a FETCH 1 BINARY.PEEK.SIZE[1]\r\n"), "BAD unknown fetch attribute" },
    { S("a FETCH 1 BODY.PEEK\r\n"), "BAD unknown fetch attribute" },
    { S("a FETCH 1 BINARY\r\n"), "BAD unknown fetch attribute" },
    { S("a FETCH 1 RFC822.PEEK\r\n"), "BAD unknown fetch attribute" },
    { S("a FETCH 1 FOO[1]\r\n"), "BAD unknown fetch attribute" },
    { S("a FETCH 1 (ALL)\r\n"), "BAD unknown fetch attribute" },
    { S("a FETCH 1 (FLAGS \"UID\")\r\n"), "BAD fetch attribute expected" },
    { S("a FETCH 1 ()\r\n"), "BAD empty fetch attribute list" },
    { S("a FETCH 1 (FLAGS (UID))\r\n"), "BAD fetch modifiers (CONDSTORE) are not supported" },
    { S("11 UID fetch 1:* (FLAGS) (CHANGEDSINCE 5)\r\n"),
      "BAD fetch modifiers (CONDSTORE) are not supported" },
    { S("a FETCH 1\r\n"), "BAD FETCH needs a sequence set and attributes" },
    { S("a FETCH x FLAGS\r\n"), "BAD invalid sequence set" },
    { S("a FETCH \"1\" FLAGS\r\n"), "BAD sequence set expected" },
    { S("a FETCH $ FLAGS\r\n"), "BAD $ (SEARCHRES) is not supported" },
};

/* test_fetch - attributes, response names, \Seen */
static void
test_fetch(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(fetch_cases); i++) {
        const struct parse_case *c = &fetch_cases[i];
        struct imap_cmd cmd;
        struct imap_fetch f;
        struct buf got = BUF_INIT;
        const char *why;

        if (!parse_ok(c->in, c->len, &cmd))
            continue;
        if (imap_fetch_args(&cmd, &f, &why))
            dump_fetch(&got, &f);
        else
            buf_printf(&got, "BAD %s", why);
        imap_fetch_free(&f);
        imap_cmd_free(&cmd);
        check_text("imap_fetch_args", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

/* test_fetch_section - the section struct itself */
static void
test_fetch_section(void **state)
{
    static const char line[] =
        "a FETCH 1 (BODY.PEEK[2.3.HEADER.FIELDS.NOT (X-A \"x-b\")]<5.6> BINARY.SIZE[7])\r\n";
    struct imap_cmd cmd;
    struct imap_fetch f;
    const struct imap_section *s;
    const char *why;

    (void)state;
    assert_true(imap_parse(line, sizeof(line) - 1, &cmd, &why));
    assert_true(imap_fetch_args(&cmd, &f, &why));
    assert_int_equal(f.n, 2);
    s = &f.att[0].section;
    assert_int_equal(f.att[0].kind, IMAP_FETCH_SECTION);
    assert_true(f.att[0].peek);
    assert_false(f.att[0].sets_seen);
    assert_int_equal(s->nparts, 2);
    assert_int_equal(s->part[0], 2);
    assert_int_equal(s->part[1], 3);
    assert_int_equal(s->text, IMAP_SECT_FIELDS_NOT);
    assert_int_equal(s->nfields, 2);
    assert_string_equal(s->fields[0], "X-A");
    assert_string_equal(s->fields[1], "x-b");
    assert_true(f.att[0].partial);
    assert_int_equal(f.att[0].offset, 5);
    assert_int_equal(f.att[0].length, 6);
    assert_string_equal(f.att[0].resp, "BODY[2.3.HEADER.FIELDS.NOT (X-A X-B)]<5>");
    assert_int_equal(f.att[1].kind, IMAP_FETCH_BINARY_SIZE);
    assert_int_equal(f.att[1].section.nparts, 1);
    assert_int_equal(f.att[1].section.part[0], 7);
    assert_int_equal(f.att[1].section.text, IMAP_SECT_ALL);
    imap_fetch_free(&f);
    imap_fetch_free(&f);        /* twice: harmless */
    imap_cmd_free(&cmd);
}

/* ---- flags, STORE ------------------------------------------------------------ */

/* dump_flags - "(\Seen \Answered ... kw ...)" */
static void
dump_flags(struct buf *b, const struct imap_flags *f)
{
    static const char *const names[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted",
                                         "\\Draft" };
    const char *sep = "";

    buf_putc(b, '(');
    for (unsigned i = 0; i < 5; i++)
        if (f->system & (1u << i)) {
            buf_printf(b, "%s%s", sep, names[i]);
            sep = " ";
        }
    for (unsigned i = 0; i < f->nkeywords; i++) {
        buf_printf(b, "%s%s", sep, f->keyword[i]);
        sep = " ";
    }
    buf_putc(b, ')');
}

static const struct parse_case store_cases[] = {
    /* RFC 9051 6.4.6 */
    { S("A003 STORE 2:4 +FLAGS (\\Deleted)\r\n"), "+FLAGS (\\Deleted) 2:4" },
    { S("a STORE 1 FLAGS.SILENT (\\Seen \\Answered $Forwarded)\r\n"),
      "FLAGS.SILENT (\\Seen \\Answered $Forwarded) 1" },
    { S("a STORE 1:* -flags.silent \\seen \\DRAFT\r\n"), "-FLAGS.SILENT (\\Seen \\Draft) 1:*" },
    { S("a UID STORE 5 FLAGS ()\r\n"), "FLAGS () 5" },
    { S("a STORE 1 +FLAGS \\Flagged\r\n"), "+FLAGS (\\Flagged) 1" },
    { S("a STORE 1 +FLAGS (kw KW kw \\Seen \\seen)\r\n"), "+FLAGS (\\Seen kw) 1" },
    { S("a STORE 1 +FLAGS (NIL)\r\n"), "+FLAGS (NIL) 1" },
    { S("8 UID store 3 +Flags (\\Seen)\r\n"), "+FLAGS (\\Seen) 3" },
    { S("a0007 UID STORE 1 +FLAGS.SILENT (\\Seen)\r\n"), "+FLAGS.SILENT (\\Seen) 1" },
    { S("a STORE 1 +FLAGS (\\Recent)\r\n"), "BAD \\Recent cannot be changed" },
    { S("a STORE 1 +FLAGS (\\Foo)\r\n"), "BAD unknown system flag" },
    { S("a STORE 1 +FLAGS (\\*)\r\n"), "BAD unknown system flag" },
    { S("a STORE 1 +FLAGS (a]b)\r\n"), "BAD invalid flag" },
    { S("a STORE 1 +FLAGS (a%)\r\n"), "BAD invalid flag" },
    { S("a STORE 1 +FLAGS (\"kw\")\r\n"), "BAD flag expected" },
    { S("a STORE 1 +FLAGS ((\\Seen))\r\n"), "BAD flag expected" },
    { S("a STORE 1 +FLAGS (\\Seen) (\\Draft)\r\n"), "BAD one flag list expected" },
    { S("a STORE 1 +FLAGS \\Seen (\\Draft)\r\n"), "BAD flag expected" },
    { S("a STORE 1 FLAGZ (\\Seen)\r\n"), "BAD FLAGS, +FLAGS or -FLAGS expected" },
    { S("a STORE 1 +-FLAGS (\\Seen)\r\n"), "BAD FLAGS, +FLAGS or -FLAGS expected" },
    { S("a STORE 1 \"FLAGS\" (\\Seen)\r\n"), "BAD FLAGS, +FLAGS or -FLAGS expected" },
    { S("a STORE 1 (UNCHANGEDSINCE 5) +FLAGS (\\Seen)\r\n"),
      "BAD store modifiers (CONDSTORE) are not supported" },
    { S("a STORE 1 +FLAGS\r\n"), "BAD STORE needs a sequence set, FLAGS and flags" },
    { S("a STORE 0 +FLAGS (\\Seen)\r\n"), "BAD invalid sequence set" },
};

/* test_store - operation, .SILENT, flags */
static void
test_store(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(store_cases); i++) {
        const struct parse_case *c = &store_cases[i];
        struct imap_cmd cmd;
        struct imap_store s;
        struct buf got = BUF_INIT;
        const char *why;

        if (!parse_ok(c->in, c->len, &cmd))
            continue;
        if (imap_store_args(&cmd, &s, &why)) {
            buf_printf(&got, "%sFLAGS%s ", s.op == IMAP_STORE_ADD ? "+"
                                           : s.op == IMAP_STORE_REMOVE ? "-" : "",
                       s.silent ? ".SILENT" : "");
            dump_flags(&got, &s.flags);
            buf_putc(&got, ' ');
            dump_seq(&got, &s.seq);
        } else
            buf_printf(&got, "BAD %s", why);
        imap_store_free(&s);
        imap_cmd_free(&cmd);
        check_text("imap_store_args", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

/* test_flag_limit - IMAP_KEYWORDS_MAX distinct keywords, then one more */
static void
test_flag_limit(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    failures = 0;
    for (unsigned extra = 0; extra < 2; extra++) {
        struct imap_cmd cmd;
        struct imap_flags f;
        const char *why;
        bool ok;

        buf_reset(&b);
        buf_puts(&b, "a STORE 1 FLAGS (");
        for (unsigned i = 0; i < IMAP_KEYWORDS_MAX + extra; i++)
            buf_printf(&b, "%skw%u", i ? " " : "", i);
        buf_puts(&b, ")\r\n");
        assert_true(imap_parse(b.data, b.len, &cmd, &why));
        ok = imap_flag_list(imap_cmd_arg(&cmd, 2), &f, &why);
        if (ok != !extra || (ok && f.nkeywords != IMAP_KEYWORDS_MAX))
            report("imap_flag_list(%u keywords): got %d", IMAP_KEYWORDS_MAX + extra, ok);
        imap_cmd_free(&cmd);
    }
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* ---- APPEND, dates ------------------------------------------------------------- */

static const struct parse_case append_cases[] = {
    /* RFC 9051 6.3.12 (shortened) */
    { S("A003 APPEND saved-messages (\\Seen) {18}\r\n" MSG18 "\r\n"),
      "saved-messages (\\Seen) {18}Subject: x\\x0d\\x0a\\x0d\\x0ahi\\x0d\\x0a" },
    { S("a APPEND INBOX (\\Seen \\Draft $Label1) \"17-Jul-1996 02:44:25 -0700\" {2}\r\nhi\r\n"),
      "INBOX (\\Seen \\Draft $Label1) @837596665 {2}hi" },
    { S("a APPEND Drafts \" 7-Jul-1996 02:44:25 -0700\" {2}\r\nhi\r\n"),
      "Drafts () @836732665 {2}hi" },
    { S("a APPEND \"Sent Items\" () \"1-Jan-1970 00:00:00 +0000\" {2+}\r\nhi\r\n"),
      "Sent Items () @0 {2}hi" },
    { S("a APPEND INBOX ~{3}\r\na\0b\r\n"), "INBOX () ~{3}a\\x00b" },
    { S("a APPEND {5}\r\nINBOX {0}\r\n\r\n"), "INBOX () {0}" },
    { S("a APPEND INBOX \"32-Jul-1996 02:44:25 -0700\" {2}\r\nhi\r\n"), "BAD invalid date-time" },
    { S("a APPEND INBOX \"hi\"\r\n"), "BAD invalid date-time" },
    { S("a APPEND INBOX hi\r\n"), "BAD message literal expected" },
    { S("a APPEND INBOX (\\Seen)\r\n"), "BAD message literal expected" },
    { S("a APPEND INBOX {2}\r\nhi (\\Seen)\r\n"), "BAD MULTIAPPEND is not supported" },
    { S("a APPEND INBOX {2}\r\nhi {2}\r\nho\r\n"), "BAD MULTIAPPEND is not supported" },
    { S("a APPEND INBOX (\\Recent) {2}\r\nhi\r\n"), "BAD \\Recent cannot be changed" },
    { S("a APPEND INBOX \\Seen {2}\r\nhi\r\n"), "BAD message literal expected" },
    { S("a APPEND (x) {2}\r\nhi\r\n"), "BAD mailbox name expected" },
    { S("a APPEND {2}\r\nhi\r\n"), "BAD message literal expected" },
    { S("a APPEND\r\n"), "BAD mailbox name expected" },
    { S("a APPEND a%b {2}\r\nhi\r\n"), "BAD mailbox name expected" },
};

/* test_append - mailbox, flags, date, message */
static void
test_append(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(append_cases); i++) {
        const struct parse_case *c = &append_cases[i];
        struct imap_cmd cmd;
        struct imap_append a;
        struct buf got = BUF_INIT;
        const char *why;

        if (!parse_ok(c->in, c->len, &cmd))
            continue;
        if (imap_append_args(&cmd, &a, &why)) {
            buf_append(&got, a.mailbox, a.mailbox_len);
            buf_putc(&got, ' ');
            dump_flags(&got, &a.flags);
            if (a.has_date)
                buf_printf(&got, " @%lld", (long long)a.date);
            buf_printf(&got, " %s{%zu}", a.binary ? "~" : "", a.msg_len);
            put_bytes(&got, a.msg, a.msg_len);
        } else
            buf_printf(&got, "BAD %s", why);
        imap_cmd_free(&cmd);
        check_text("imap_append_args", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

static const struct {
    const char *s;
    bool        datetime;       /* imap_date_time_parse, else imap_date_parse */
    bool        ok;
    long long   want;
} date_cases[] = {
    { "17-Jul-1996 02:44:25 -0700", true, true, 837596665 },
    { " 7-Jul-1996 02:44:25 -0700", true, true, 836732665 },
    { "7-jul-1996 02:44:25 -0700", true, true, 836732665 },
    { "07-JUL-1996 02:44:25 -0700", true, true, 836732665 },
    { "01-Jan-1970 00:00:00 +0000", true, true, 0 },
    { "01-Jan-1970 00:00:00 +0100", true, true, -3600 },
    { "1-Jan-1970 00:00:00 -0130", true, true, 5400 },
    { "31-Dec-2023 23:59:60 +0000", true, true, 1704067200 },
    { "29-Feb-2024 12:00:00 +0000", true, true, 1709208000 },
    { "31-Dec-9999 23:59:59 +0000", true, true, 253402300799 },
    { "29-Feb-2023 12:00:00 +0000", true, false, 0 },
    { "1-Jan-1970 00:00:00", true, false, 0 },
    { "1-Jan-1970 00:00:00 0000", true, false, 0 },
    { "1-Jan-1970 00:00:00 +00000", true, false, 0 },
    { "1-Jan-1970 00:00:00  +0000", true, false, 0 },
    { "1-Jan-1970 0:00:00 +0000", true, false, 0 },
    { "1-Jan-1970 24:00:00 +0000", true, false, 0 },
    { "1-Jan-1970 00:60:00 +0000", true, false, 0 },
    { "1-Jan-1970 00:00:61 +0000", true, false, 0 },
    { "1-Jan-1970 00:00:00 +2400", true, false, 0 },
    { "1-Jan-1970 00:00:00 +0060", true, false, 0 },
    { "1-Jan-70 00:00:00 +0000", true, false, 0 },
    { " 01-Jan-1970 00:00:00 +0000", true, false, 0 },
    { "001-Jan-1970 00:00:00 +0000", true, false, 0 },
    { "1-Foo-1970 00:00:00 +0000", true, false, 0 },
    { "1-Jan-1970", true, false, 0 },
    { "", true, false, 0 },
    /* SEARCH dates: RFC 9051 6.4.4 example "1-Feb-1994" */
    { "1-Feb-1994", false, true, 760060800 },
    { "01-feb-1994", false, true, 760060800 },
    { "29-Feb-2024", false, true, 1709164800 },
    { "29-Feb-2000", false, true, 951782400 },
    { "31-Dec-1969", false, true, -86400 },
    { "1-Jan-1600", false, true, -11676096000 },
    { "29-Feb-1900", false, false, 0 },
    { "31-Apr-2024", false, false, 0 },
    { "0-Feb-1994", false, false, 0 },
    { "123-Feb-1994", false, false, 0 },
    { "1-Feb-94", false, false, 0 },
    { "1-Feb-1994 ", false, false, 0 },
    { " 1-Feb-1994", false, false, 0 },
    { "1-February-1994", false, false, 0 },
    { "1 Feb 1994", false, false, 0 },
    { "", false, false, 0 },
};

/* test_dates - date-time and date */
static void
test_dates(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(date_cases); i++) {
        char *s = copy(date_cases[i].s, strlen(date_cases[i].s));
        time_t t = 12345;
        bool ok = date_cases[i].datetime ? imap_date_time_parse(s, strlen(date_cases[i].s), &t)
                                         : imap_date_parse(s, strlen(date_cases[i].s), &t);

        if (ok != date_cases[i].ok || (ok && (long long)t != date_cases[i].want))
            report("imap_date%s_parse(\"%s\"): got %d %lld, want %d %lld",
                   date_cases[i].datetime ? "_time" : "", date_cases[i].s, ok, (long long)t,
                   date_cases[i].ok, date_cases[i].want);
        free(s);
    }
    assert_int_equal(failures, 0);
}

/* ---- SEARCH --------------------------------------------------------------------- */

/* op_name - the key's name for dump_key() */
static const char *
op_name(enum imap_skey_op op)
{
    static const char *const names[] = {
        [IMAP_SK_AND] = "AND", [IMAP_SK_OR] = "OR", [IMAP_SK_NOT] = "NOT",
        [IMAP_SK_ALL] = "ALL", [IMAP_SK_ANSWERED] = "ANSWERED", [IMAP_SK_DELETED] = "DELETED",
        [IMAP_SK_DRAFT] = "DRAFT", [IMAP_SK_FLAGGED] = "FLAGGED", [IMAP_SK_SEEN] = "SEEN",
        [IMAP_SK_UNANSWERED] = "UNANSWERED", [IMAP_SK_UNDELETED] = "UNDELETED",
        [IMAP_SK_UNDRAFT] = "UNDRAFT", [IMAP_SK_UNFLAGGED] = "UNFLAGGED",
        [IMAP_SK_UNSEEN] = "UNSEEN", [IMAP_SK_NEW] = "NEW", [IMAP_SK_OLD] = "OLD",
        [IMAP_SK_RECENT] = "RECENT", [IMAP_SK_KEYWORD] = "KEYWORD",
        [IMAP_SK_UNKEYWORD] = "UNKEYWORD", [IMAP_SK_BCC] = "BCC", [IMAP_SK_CC] = "CC",
        [IMAP_SK_FROM] = "FROM", [IMAP_SK_TO] = "TO", [IMAP_SK_SUBJECT] = "SUBJECT",
        [IMAP_SK_BODY] = "BODY", [IMAP_SK_TEXT] = "TEXT", [IMAP_SK_HEADER] = "HEADER",
        [IMAP_SK_BEFORE] = "BEFORE", [IMAP_SK_ON] = "ON", [IMAP_SK_SINCE] = "SINCE",
        [IMAP_SK_SENTBEFORE] = "SENTBEFORE", [IMAP_SK_SENTON] = "SENTON",
        [IMAP_SK_SENTSINCE] = "SENTSINCE", [IMAP_SK_LARGER] = "LARGER",
        [IMAP_SK_SMALLER] = "SMALLER", [IMAP_SK_UID] = "UID", [IMAP_SK_SEQ] = "SEQ",
    };

    return op < NELEM(names) && names[op] ? names[op] : "?";
}

/* dump_key - k as "(AND ...)", "FROM \"x\"", "SINCE 1994-02-01", ... */
static void
dump_key(struct buf *b, const struct imap_skey *k)
{
    char day[32];
    struct tm tm;

    switch (k->op) {
    case IMAP_SK_AND: case IMAP_SK_OR: case IMAP_SK_NOT:
        buf_printf(b, "(%s", op_name(k->op));
        for (const struct imap_skey *c = k->child; c; c = c->next) {
            buf_putc(b, ' ');
            dump_key(b, c);
        }
        buf_putc(b, ')');
        return;
    case IMAP_SK_KEYWORD: case IMAP_SK_UNKEYWORD: case IMAP_SK_BCC: case IMAP_SK_CC:
    case IMAP_SK_FROM: case IMAP_SK_TO: case IMAP_SK_SUBJECT: case IMAP_SK_BODY:
    case IMAP_SK_TEXT: case IMAP_SK_HEADER:
        buf_printf(b, "%s \"", op_name(k->op));
        put_bytes(b, k->str, k->len);
        buf_putc(b, '"');
        if (k->op == IMAP_SK_HEADER) {
            buf_puts(b, " \"");
            put_bytes(b, k->str2, k->len2);
            buf_putc(b, '"');
        }
        return;
    case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE: case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE:
        gmtime_r(&k->date, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
        buf_printf(b, "%s %s", op_name(k->op), day);
        return;
    case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
        buf_printf(b, "%s %llu", op_name(k->op), (unsigned long long)k->num);
        return;
    case IMAP_SK_UID: case IMAP_SK_SEQ:
        buf_printf(b, "%s ", op_name(k->op));
        dump_seq(b, &k->seq);
        return;
    default:
        buf_puts(b, op_name(k->op));
    }
}

struct search_case {
    const char              *in;
    size_t                   len;
    enum imap_search_status  status;
    const char              *want;      /* [RETURN] (AND ...), or the reason */
};

#define NOT8 "NOT NOT NOT NOT NOT NOT NOT NOT "
#define OTPUSK "\xd0\xbe\xd1\x82\xd0\xbf\xd1\x83\xd1\x81\xd0\xba"

static const struct search_case search_cases[] = {
    /* RFC 9051 6.4.4 */
    { S("A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"),
      IMAP_SEARCH_OK, "[1|8] (AND FLAGGED SINCE 1994-02-01 00:00:00 (NOT FROM \"Smith\"))" },
    { S("A283 SEARCH RETURN () FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"),
      IMAP_SEARCH_OK, "[4] (AND FLAGGED SINCE 1994-02-01 00:00:00 (NOT FROM \"Smith\"))" },
    { S("A284 SEARCH TEXT \"string not in mailbox\"\r\n"),
      IMAP_SEARCH_OK, "(AND TEXT \"string not in mailbox\")" },
    { S("A285 SEARCH CHARSET UTF-8 TEXT {12}\r\n" OTPUSK "\r\n"), IMAP_SEARCH_OK,
      "(AND TEXT \"\\xd0\\xbe\\xd1\\x82\\xd0\\xbf\\xd1\\x83\\xd1\\x81\\xd0\\xba\")" },
    { S("A286 SEARCH CHARSET KOI8-R (OR $ 1,3000:3021) TEXT {4}\r\n\xf0\xd2\xc9\xd7\r\n"),
      IMAP_SEARCH_BADCHARSET, "unsupported charset" },
    { S("A301 SEARCH $ SMALLER 4096\r\n"), IMAP_SEARCH_BAD, "$ (SEARCHRES) is not supported" },
    /* RFC 3501 6.4.4 */
    { S("A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM \"Smith\"\r\n"),
      IMAP_SEARCH_OK, "(AND FLAGGED SINCE 1994-02-01 00:00:00 (NOT FROM \"Smith\"))" },
    /* keys */
    { S("a SEARCH all answered deleted draft flagged seen unanswered undeleted undraft "
        "unflagged unseen new old recent\r\n"), IMAP_SEARCH_OK,
      "(AND ALL ANSWERED DELETED DRAFT FLAGGED SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED "
      "UNSEEN NEW OLD RECENT)" },
    { S("a SEARCH OR OR FROM a TO b CC c\r\n"), IMAP_SEARCH_OK,
      "(AND (OR (OR FROM \"a\" TO \"b\") CC \"c\"))" },
    { S("a SEARCH BCC {3}\r\nx y SUBJECT \"\" BODY NIL\r\n"), IMAP_SEARCH_OK,
      "(AND BCC \"x y\" SUBJECT \"\" BODY \"NIL\")" },
    { S("a UID SEARCH 1:* NOT DELETED\r\n"), IMAP_SEARCH_OK, "(AND SEQ 1:* (NOT DELETED))" },
    { S("a UID SEARCH UID 1:5,7 *\r\n"), IMAP_SEARCH_OK, "(AND UID 1:5,7 SEQ *)" },
    { S("a SEARCH HEADER Message-ID \"<x@y>\"\r\n"), IMAP_SEARCH_OK,
      "(AND HEADER \"Message-ID\" \"<x@y>\")" },
    { S("a SEARCH HEADER X-Spam \"\"\r\n"), IMAP_SEARCH_OK, "(AND HEADER \"X-Spam\" \"\")" },
    { S("a SEARCH LARGER 1000 SMALLER 9223372036854775807\r\n"), IMAP_SEARCH_OK,
      "(AND LARGER 1000 SMALLER 9223372036854775807)" },
    { S("a SEARCH KEYWORD $Forwarded UNKEYWORD Junk\r\n"), IMAP_SEARCH_OK,
      "(AND KEYWORD \"$Forwarded\" UNKEYWORD \"Junk\")" },
    { S("a SEARCH (SEEN FLAGGED) (OR NEW (OLD))\r\n"), IMAP_SEARCH_OK,
      "(AND (AND SEEN FLAGGED) (AND (OR NEW (AND OLD))))" },
    { S("a SEARCH SENTSINCE \"01-Jan-2024\" SENTBEFORE 5-Jan-1999 SENTON 29-feb-2024 "
        "BEFORE 1-Jan-1970 ON 31-Dec-1969\r\n"), IMAP_SEARCH_OK,
      "(AND SENTSINCE 2024-01-01 00:00:00 SENTBEFORE 1999-01-05 00:00:00 "
      "SENTON 2024-02-29 00:00:00 BEFORE 1970-01-01 00:00:00 ON 1969-12-31 00:00:00)" },
    { S("a SEARCH CHARSET \"utf-8\" ALL\r\n"), IMAP_SEARCH_OK, "(AND ALL)" },
    { S("a SEARCH CHARSET us-ascii ALL\r\n"), IMAP_SEARCH_OK, "(AND ALL)" },
    { S("a SEARCH RETURN (ALL MAX) CHARSET UTF-8 ALL\r\n"), IMAP_SEARCH_OK, "[2|4] (AND ALL)" },
    { S("JIHF3 UID SEARCH ALL\r\n"), IMAP_SEARCH_OK, "(AND ALL)" },
    { S("a SEARCH " NOT8 NOT8 NOT8 NOT8 "ALL\r\n"), IMAP_SEARCH_OK,
      "(AND (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT (NOT ALL)))))))))))))))))))))))))))))))))" },
    /* errors */
    { S("a SEARCH NOT " NOT8 NOT8 NOT8 NOT8 "ALL\r\n"), IMAP_SEARCH_BAD,
      "search keys nested too deeply" },
    { S("a SEARCH\r\n"), IMAP_SEARCH_BAD, "search key expected" },
    { S("a SEARCH CHARSET UTF-8\r\n"), IMAP_SEARCH_BAD, "search key expected" },
    { S("a SEARCH CHARSET\r\n"), IMAP_SEARCH_BAD, "charset expected" },
    { S("a SEARCH CHARSET (UTF-8) ALL\r\n"), IMAP_SEARCH_BAD, "charset expected" },
    { S("a SEARCH CHARSET ISO-8859-1 ALL\r\n"), IMAP_SEARCH_BADCHARSET, "unsupported charset" },
    { S("a SEARCH FOO\r\n"), IMAP_SEARCH_BAD, "unknown search key" },
    { S("a SEARCH \"ALL\"\r\n"), IMAP_SEARCH_BAD, "unknown search key" },
    { S("a SEARCH FROM\r\n"), IMAP_SEARCH_BAD, "search key argument missing" },
    { S("a SEARCH FROM (a)\r\n"), IMAP_SEARCH_BAD, "string expected" },
    { S("a SEARCH FROM a%\r\n"), IMAP_SEARCH_BAD, "string expected" },
    { S("a SEARCH HEADER From\r\n"), IMAP_SEARCH_BAD, "HEADER needs a field name and a string" },
    { S("a SEARCH NOT\r\n"), IMAP_SEARCH_BAD, "search key expected" },
    { S("a SEARCH OR SEEN\r\n"), IMAP_SEARCH_BAD, "search key expected" },
    { S("a SEARCH ()\r\n"), IMAP_SEARCH_BAD, "empty search key list" },
    { S("a SEARCH SINCE 32-Jan-2024\r\n"), IMAP_SEARCH_BAD, "invalid date (d-Mon-yyyy expected)" },
    { S("a SEARCH SINCE 29-Feb-2023\r\n"), IMAP_SEARCH_BAD, "invalid date (d-Mon-yyyy expected)" },
    { S("a SEARCH SINCE {10}\r\n1-Feb-1994\r\n"), IMAP_SEARCH_BAD,
      "invalid date (d-Mon-yyyy expected)" },
    { S("a SEARCH LARGER x\r\n"), IMAP_SEARCH_BAD, "number expected" },
    { S("a SEARCH LARGER 9223372036854775808\r\n"), IMAP_SEARCH_BAD, "number expected" },
    { S("a SEARCH LARGER \"1\"\r\n"), IMAP_SEARCH_BAD, "number expected" },
    { S("a SEARCH UID x\r\n"), IMAP_SEARCH_BAD, "invalid sequence set" },
    { S("a SEARCH 1:x\r\n"), IMAP_SEARCH_BAD, "invalid sequence set" },
    { S("a SEARCH KEYWORD \\Seen\r\n"), IMAP_SEARCH_BAD, "keyword expected" },
    { S("a SEARCH KEYWORD \"kw\"\r\n"), IMAP_SEARCH_BAD, "keyword expected" },
    { S("a SEARCH RETURN (SAVE) ALL\r\n"), IMAP_SEARCH_BAD,
      "RETURN (SAVE) (SEARCHRES) is not supported" },
    { S("a SEARCH RETURN (FOO) ALL\r\n"), IMAP_SEARCH_BAD, "unknown RETURN option" },
    { S("a SEARCH RETURN ALL\r\n"), IMAP_SEARCH_BAD, "RETURN (options) expected" },
    { S("a SEARCH RETURN\r\n"), IMAP_SEARCH_BAD, "RETURN (options) expected" },
    { S("a SEARCH RETURN (MIN)\r\n"), IMAP_SEARCH_BAD, "search key expected" },
};

/* test_search - the key trees */
static void
test_search(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(search_cases); i++) {
        const struct search_case *c = &search_cases[i];
        struct imap_cmd cmd;
        struct imap_search s;
        struct buf got = BUF_INIT;
        const char *why;
        enum imap_search_status st;

        if (!parse_ok(c->in, c->len, &cmd))
            continue;
        st = imap_search_args(&cmd, &s, &why);
        if (st != c->status)
            report("imap_search_args(\"%s\"): got status %d (%s), want %d", show(c->in, c->len),
                   st, st ? why : "", c->status);
        if (st == IMAP_SEARCH_OK) {
            if (s.ret_given)
                buf_printf(&got, "[%s%s%s%s] ", s.ret & 1 ? "1|" : "", s.ret & 2 ? "2|" : "",
                           s.ret & 4 ? "4|" : "", s.ret & 8 ? "8|" : "");
            dump_key(&got, s.root);
            /* "[1|8|] " -> "[1|8] " */
            for (char *p = strstr(got.data, "|]"); p; p = NULL)
                memmove(p, p + 1, strlen(p + 1) + 1), got.len--;
        } else
            buf_puts(&got, why);
        imap_search_free(&s);
        imap_cmd_free(&cmd);
        check_text("imap_search_args", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

/* test_search_limits - IMAP_SEARCH_KEYS_MAX keys */
static void
test_search_limits(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    failures = 0;
    for (unsigned extra = 0; extra < 2; extra++) {
        struct imap_cmd cmd;
        struct imap_search s;
        const char *why = "";
        enum imap_search_status st;

        buf_reset(&b);
        buf_puts(&b, "a SEARCH");
        for (unsigned i = 0; i < IMAP_SEARCH_KEYS_MAX - 1 + extra; i++)   /* and the root */
            buf_puts(&b, " ALL");
        buf_puts(&b, "\r\n");
        assert_true(imap_parse(b.data, b.len, &cmd, &why));
        st = imap_search_args(&cmd, &s, &why);
        if (st != (extra ? IMAP_SEARCH_BAD : IMAP_SEARCH_OK))
            report("imap_search_args(%u keys): got %d %s", IMAP_SEARCH_KEYS_MAX + extra, st, why);
        imap_search_free(&s);
        imap_cmd_free(&cmd);
    }
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* ---- LIST, STATUS ----------------------------------------------------------------- */

/* dump_list - "[X] (sel) ref (pat ...) RETURN (ret STATUS (items))" */
static void
dump_list(struct buf *b, const struct imap_list *l)
{
    static const char *const sel[] = { "SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE" };
    static const char *const ret[] = { "SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS" };

    buf_puts(b, l->extended ? "X (" : "(");
    for (unsigned i = 0; i < 4; i++)
        if (l->select & (1u << i))
            buf_printf(b, "%s ", sel[i]);
    buf_puts(b, ") \"");
    put_bytes(b, l->ref, l->ref_len);
    buf_puts(b, "\" (");
    for (unsigned i = 0; i < l->npat; i++) {
        buf_putc(b, '"');
        put_bytes(b, l->pat[i], l->pat_len[i]);
        buf_puts(b, "\" ");
    }
    buf_puts(b, ") (");
    for (unsigned i = 0; i < 4; i++)
        if (l->ret & (1u << i))
            buf_printf(b, "%s ", ret[i]);
    buf_printf(b, ") %u", l->status);
}

static const struct parse_case list_cases[] = {
    /* RFC 9051 6.3.9 */
    { S("A101 LIST \"\" \"\"\r\n"), "() \"\" (\"\" ) () 0" },
    { S("A102 LIST #news.comp.mail.misc \"\"\r\n"), "() \"#news.comp.mail.misc\" (\"\" ) () 0" },
    { S("A103 LIST /usr/staff/jones \"\"\r\n"), "() \"/usr/staff/jones\" (\"\" ) () 0" },
    { S("A202 LIST ~/Mail/ %\r\n"), "() \"~/Mail/\" (\"%\" ) () 0" },
    { S("a LIST \"\" *\r\n"), "() \"\" (\"*\" ) () 0" },
    { S("a LIST \"\" [Gmail]/%\r\n"), "() \"\" (\"[Gmail]/%\" ) () 0" },
    { S("a LIST \"\" {3}\r\nfoo\r\n"), "() \"\" (\"foo\" ) () 0" },
    { S("a LIST NIL NIL\r\n"), "() \"NIL\" (\"NIL\" ) () 0" },
    /* RFC 5258 */
    { S("A04 LIST (SUBSCRIBED) \"\" \"*\"\r\n"), "X (SUBSCRIBED ) \"\" (\"*\" ) () 0" },
    { S("A06 LIST (SUBSCRIBED RECURSIVEMATCH) \"\" \"%\" RETURN (CHILDREN)\r\n"),
      "X (SUBSCRIBED RECURSIVEMATCH ) \"\" (\"%\" ) (CHILDREN ) 0" },
    { S("A02 LIST (subscribed) \"\" \"*\"\r\n"), "X (SUBSCRIBED ) \"\" (\"*\" ) () 0" },
    { S("A03 LIST () \"\" \"%\" RETURN (CHILDREN)\r\n"), "X () \"\" (\"%\" ) (CHILDREN ) 0" },
    { S("A05 LIST (REMOTE) \"\" \"%\" RETURN (CHILDREN)\r\n"),
      "X (REMOTE ) \"\" (\"%\" ) (CHILDREN ) 0" },
    { S("a LIST (REMOTE) \"\" (\"INBOX\" \"Sent*\" %)\r\n"),
      "X (REMOTE ) \"\" (\"INBOX\" \"Sent*\" \"%\" ) () 0" },
    { S("a LIST \"\" (%)\r\n"), "X () \"\" (\"%\" ) () 0" },
    /* RFC 5819, RFC 6154 */
    { S("A01 LIST \"\" % RETURN (STATUS (MESSAGES UNSEEN))\r\n"),
      "X () \"\" (\"%\" ) (STATUS ) 9" },
    { S("A02 LIST \"\" % RETURN (CHILDREN STATUS (SIZE) SUBSCRIBED)\r\n"),
      "X () \"\" (\"%\" ) (SUBSCRIBED CHILDREN STATUS ) 32" },
    { S("t1 LIST \"\" \"%\" RETURN (SPECIAL-USE)\r\n"), "X () \"\" (\"%\" ) (SPECIAL-USE ) 0" },
    { S("t3 LIST (SPECIAL-USE) \"\" \"*\"\r\n"), "X (SPECIAL-USE ) \"\" (\"*\" ) () 0" },
    { S("a LIST (SPECIAL-USE RECURSIVEMATCH) \"\" \"*\"\r\n"),
      "X (RECURSIVEMATCH SPECIAL-USE ) \"\" (\"*\" ) () 0" },
    /* LSUB (rev1): the basic form */
    { S("A002 LSUB \"#news.\" \"comp.mail.*\"\r\n"), "() \"#news.\" (\"comp.mail.*\" ) () 0" },
    { S("a LSUB (SUBSCRIBED) \"\" *\r\n"), "BAD reference and mailbox pattern expected" },
    { S("a LSUB \"\" (*)\r\n"), "BAD invalid mailbox pattern" },
    { S("a LSUB \"\" * RETURN (CHILDREN)\r\n"), "BAD unexpected LIST argument" },
    /* errors */
    { S("a LIST (FOO) \"\" *\r\n"), "BAD unknown LIST selection option" },
    { S("a LIST (RECURSIVEMATCH) \"\" *\r\n"), "BAD RECURSIVEMATCH needs another selection option" },
    { S("a LIST (REMOTE RECURSIVEMATCH) \"\" *\r\n"),
      "BAD RECURSIVEMATCH needs another selection option" },
    { S("a LIST \"\" * RETURN (FOO)\r\n"), "BAD unknown LIST return option" },
    { S("a LIST \"\" * RETURN (STATUS)\r\n"), "BAD status item list expected" },
    { S("a LIST \"\" * RETURN (STATUS (FOO))\r\n"), "BAD unknown status item" },
    { S("a LIST \"\" * RETURN (STATUS ())\r\n"), "BAD status item list expected" },
    { S("a LIST \"\" * RETURN CHILDREN\r\n"), "BAD RETURN (options) expected" },
    { S("a LIST \"\" * RETURN (CHILDREN) x\r\n"), "BAD RETURN (options) expected" },
    { S("a LIST \"\" * RETURN\r\n"), "BAD RETURN (options) expected" },
    { S("a LIST \"\" * x\r\n"), "BAD unexpected LIST argument" },
    { S("a LIST \"\"\r\n"), "BAD reference and mailbox pattern expected" },
    { S("a LIST\r\n"), "BAD reference and mailbox pattern expected" },
    { S("a LIST % *\r\n"), "BAD reference and mailbox pattern expected" },
    { S("a LIST \"\" ()\r\n"), "BAD empty pattern list" },
    { S("a LIST \"\" (a (b))\r\n"), "BAD invalid mailbox pattern" },
    { S("a LIST \"\" a\\b\r\n"), "BAD invalid mailbox pattern" },
    { S("a LIST \"\" (a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a)\r\n"),
      "BAD too many patterns" },
};

/* test_list - LIST arguments */
static void
test_list(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(list_cases); i++) {
        const struct parse_case *c = &list_cases[i];
        struct imap_cmd cmd;
        struct imap_list l;
        struct buf got = BUF_INIT;
        const char *why;

        if (!parse_ok(c->in, c->len, &cmd))
            continue;
        if (imap_list_args(&cmd, &l, &why))
            dump_list(&got, &l);
        else
            buf_printf(&got, "BAD %s", why);
        imap_cmd_free(&cmd);
        check_text("imap_list_args", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

static const struct {
    const char *pat, *name;
    bool        want;
} match_cases[] = {
    { "*", "anything.at.all", true },
    { "*", "", true },
    { "%", "", true },
    { "%", "a", true },
    { "%", "a.b", false },
    { "a.%", "a.b", true },
    { "a.%", "a.b.c", false },
    { "a.*", "a.b.c", true },
    { "a.*", "a", false },
    { "*b", "a.b", true },
    { "%b", "a.b", false },
    { "%.%", "a.b", true },
    { "%.%", "a", false },
    { "*.*", "a.b.c", true },
    { "", "", true },
    { "", "a", false },
    { "a", "", false },
    { "a", "A", false },
    { "a%b%c", "axxbyyc", true },
    { "a%b%c", "ax.bc", false },
    { "a*b*c", "a.x.b.y.c", true },
    { "a*b*c", "a.x.b.y.cd", false },
    { "**%%*", "abc", true },
    { "%*", "a.b", true },
    { "*%", "a.b", true },
    { "%%", "a.b", false },
    { "***a", "ba", true },
    { "Sent*", "Sent Items", true },
    { "Sent*", "sent", false },
    { "comp.mail.*", "comp.mail.misc", true },
    /* INBOX in any case */
    { "inbox", "INBOX", true },
    { "in%", "INBOX", true },
    { "Inbox.%", "INBOX.x", true },
    { "inbox.X", "INBOX.x", false },
    { "inbox", "INBOXES", false },
    { "INBOX", "inbox", false },
    { "%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
      false },
    { "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      true },
};

/* test_list_match - wildcards */
static void
test_list_match(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(match_cases); i++) {
        bool got = imap_list_match(match_cases[i].pat, strlen(match_cases[i].pat),
                                   match_cases[i].name, strlen(match_cases[i].name), '.');

        if (got != match_cases[i].want)
            report("imap_list_match(\"%s\", \"%s\"): got %d, want %d", match_cases[i].pat,
                   match_cases[i].name, got, match_cases[i].want);
    }
    assert_int_equal(failures, 0);
}

static const struct parse_case status_cases[] = {
    /* RFC 9051 6.3.11 */
    { S("A042 STATUS blurdybloop (UIDNEXT MESSAGES)\r\n"), "blurdybloop 3" },
    { S("a STATUS \"INBOX\" (messages uidnext uidvalidity unseen deleted size recent)\r\n"),
      "INBOX 127" },
    { S("a STATUS {5}\r\nINBOX (SIZE)\r\n"), "INBOX 32" },
    { S("a STATUS INBOX ()\r\n"), "BAD status item list expected" },
    { S("a STATUS INBOX (FOO)\r\n"), "BAD unknown status item" },
    { S("a STATUS INBOX (MESSAGES (UNSEEN))\r\n"), "BAD unknown status item" },
    { S("a STATUS INBOX MESSAGES\r\n"), "BAD status item list expected" },
    { S("a STATUS INBOX\r\n"), "BAD STATUS needs a mailbox and a list of items" },
    { S("a STATUS (INBOX) (MESSAGES)\r\n"), "BAD STATUS needs a mailbox and a list of items" },
    { S("a STATUS INBOX (MESSAGES) x\r\n"), "BAD STATUS needs a mailbox and a list of items" },
};

/* test_status - STATUS arguments */
static void
test_status(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(status_cases); i++) {
        const struct parse_case *c = &status_cases[i];
        struct imap_cmd cmd;
        struct imap_status st;
        struct buf got = BUF_INIT;
        const char *why;

        if (!parse_ok(c->in, c->len, &cmd))
            continue;
        if (imap_status_args(&cmd, &st, &why)) {
            buf_append(&got, st.mailbox, st.mailbox_len);
            buf_printf(&got, " %u", st.items);
        } else
            buf_printf(&got, "BAD %s", why);
        imap_cmd_free(&cmd);
        check_text("imap_status_args", c->in, c->len, &got, c->want);
    }
    assert_int_equal(failures, 0);
}

/* ---- mailbox names, modified UTF-7 ---------------------------------------------------- */

#define C255 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
    const char *in;
    size_t      len;
    const char *want;       /* the name, or "BAD why" */
} mailbox_cases[] = {
    { S("INBOX"), "INBOX" },
    { S("inbox"), "INBOX" },
    { S("InBoX"), "INBOX" },
    { S("Inbox.sub"), "Inbox.sub" },
    { S("Archive.2024"), "Archive.2024" },
    { S("Sent Items"), "Sent Items" },
    { S("[Gmail]"), "[Gmail]" },
    { S("Entw\xc3\xbcrfe"), "Entw\xc3\xbcrfe" },
    { S("~peter.mail.\xe5\x8f\xb0\xe5\x8c\x97"), "~peter.mail.\xe5\x8f\xb0\xe5\x8c\x97" },
    { S(C255), C255 },
    { S(C255 "a"), "BAD mailbox name too long" },
    { S(""), "BAD empty mailbox name" },
    { S(".x"), "BAD empty level in mailbox name" },
    { S("x."), "BAD empty level in mailbox name" },
    { S("a..b"), "BAD empty level in mailbox name" },
    { S("."), "BAD empty level in mailbox name" },
    { S("a/b"), "BAD '/' in mailbox name" },
    { S("a*"), "BAD wildcard in mailbox name" },
    { S("a%"), "BAD wildcard in mailbox name" },
    { S("a\tb"), "BAD control character in mailbox name" },
    { S("a\0b"), "BAD control character in mailbox name" },
    { S("a\x7f"), "BAD control character in mailbox name" },
    { S("a\xc3"), "BAD invalid UTF-8 in mailbox name" },
    { S("\xed\xa0\x80"), "BAD invalid UTF-8 in mailbox name" },
    { S("\xff"), "BAD invalid UTF-8 in mailbox name" },
};

/* test_mailbox_name - normalisation and checks */
static void
test_mailbox_name(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(mailbox_cases); i++) {
        char *in = copy(mailbox_cases[i].in, mailbox_cases[i].len);
        char out[IMAP_MAILBOX_MAX + 1];
        struct buf got = BUF_INIT;
        const char *why;

        if (imap_mailbox_name(in, mailbox_cases[i].len, out, &why))
            buf_puts(&got, out);
        else
            buf_printf(&got, "BAD %s", why);
        free(in);
        check_text("imap_mailbox_name", mailbox_cases[i].in, mailbox_cases[i].len, &got,
                   mailbox_cases[i].want);
    }
    assert_int_equal(failures, 0);
}

/* Pairs that convert both ways (RFC 3501 5.1.3 and its example). */
static const struct {
    const char *mutf7, *utf8;
} mutf7_cases[] = {
    { "INBOX", "INBOX" },
    { "", "" },
    { "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
      "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" },
    { "&Jjo-!", "\xe2\x98\xba!" },
    { "Entw&APw-rfe", "Entw\xc3\xbcrfe" },
    { "&-", "&" },
    { "a&-b&-", "a&b&" },
    { "&AOk-&-", "\xc3\xa9&" },
    { "&2D3eAA-", "\xf0\x9f\x98\x80" },
    { "&AAkACg-", "\t\n" },
    { "&AH8-", "\x7f" },
    { "&AOkA6QDp-", "\xc3\xa9\xc3\xa9\xc3\xa9" },
    { "&AOkA6Q-", "\xc3\xa9\xc3\xa9" },
};

/* Not valid modified UTF-7 (decode fails). */
static const char *const mutf7_bad[] = {
    "&U,BTFw",          /* no "-" */
    "&",
    "a&",
    "&AGE-",            /* "a" in base64 */
    "&ACY-",            /* "&" in base64 */
    "&AOk-&AOk-",       /* two runs in a row */
    "&AOl-",            /* padding bits not zero */
    "&AOkA-",           /* a sixth of a unit more */
    "&2D0-",            /* a lone high surrogate */
    "&3gA-",            /* a lone low surrogate */
    "&2D3YPQ-",         /* high, high */
    "&*-",              /* not base64 */
    "&U/BTFw-",         /* "/" is "," here */
    "&U,BTFw=-",
    "a\x01" "b",
    "\xc3\xa9",
    "a\x7f",
};

/* Not valid UTF-8 (encode fails). */
static const char *const utf8_bad[] = {
    "\xc3", "a\xc3(", "\xed\xa0\x80", "\xc0\xaf", "\xf8\x88\x80\x80\x80", "\xff",
};

/* test_mutf7 - both ways, strictly */
static void
test_mutf7(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(mutf7_cases); i++) {
        const char *m = mutf7_cases[i].mutf7, *u = mutf7_cases[i].utf8;
        struct buf dec = BUF_INIT, enc = BUF_INIT;
        const char *why;

        if (!imap_mutf7_decode(m, strlen(m), &dec, &why) || strcmp(buf_cstr(&dec), u) != 0)
            report("imap_mutf7_decode(\"%s\"): got \"%s\", want \"%s\"", m,
                   showz(buf_cstr(&dec)), showz(u));
        if (!imap_mutf7_encode(u, strlen(u), &enc, &why) || strcmp(buf_cstr(&enc), m) != 0)
            report("imap_mutf7_encode(\"%s\"): got \"%s\", want \"%s\"", showz(u),
                   buf_cstr(&enc), m);
        buf_free(&dec);
        buf_free(&enc);
    }
    for (size_t i = 0; i < NELEM(mutf7_bad); i++) {
        struct buf dec = BUF_INIT;
        const char *why = NULL;

        if (imap_mutf7_decode(mutf7_bad[i], strlen(mutf7_bad[i]), &dec, &why) || why == NULL)
            report("imap_mutf7_decode(\"%s\"): got \"%s\", want failure", showz(mutf7_bad[i]),
                   showz(buf_cstr(&dec)));
        buf_free(&dec);
    }
    for (size_t i = 0; i < NELEM(utf8_bad); i++) {
        struct buf enc = BUF_INIT;
        const char *why = NULL;

        if (imap_mutf7_encode(utf8_bad[i], strlen(utf8_bad[i]), &enc, &why) || why == NULL)
            report("imap_mutf7_encode(\"%s\"): got \"%s\", want failure", showz(utf8_bad[i]),
                   buf_cstr(&enc));
        buf_free(&enc);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scan),
        cmocka_unit_test(test_scan_limits),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_seq),
        cmocka_unit_test(test_fetch),
        cmocka_unit_test(test_fetch_section),
        cmocka_unit_test(test_store),
        cmocka_unit_test(test_flag_limit),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_search),
        cmocka_unit_test(test_search_limits),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_list_match),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_mailbox_name),
        cmocka_unit_test(test_mutf7),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
