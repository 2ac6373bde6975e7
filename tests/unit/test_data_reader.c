/*
 * test_data_reader - unit tests for src/mail/data_reader.c: DATA and BDAT
 * content, dot-unstuffing, and the SMTP smuggling rules.
 *
 * Table-driven. Every case is run several ways: the input in one feed
 * call, byte by byte, cut in two at every position, in chunks of 2, 3
 * and 7, and in pseudo-random pieces. Each piece is fed from its own
 * exact-size allocation, so ASan sees any read past a piece. All ways
 * must give the same consumed count, output, errors, done flag and size;
 * a mismatch is reported as "got ..., want ..." with the way it was fed.
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

#include "mail/data_reader.h"
#include "util/buf.h"

/* CR and LF by name; long DATA streams cut at 200 octets, with their size */
#define SHOW_STYLE { .esc = "\r\n", .head = 200, .more = "...", .more_len = true }
#include "check.h"

#define ALL     ((size_t)-1)    /* consumed: the whole input */
#define DOT     DATA_MODE_DOT
#define RAW     DATA_MODE_RAW
#define FIN     true            /* call data_reader_finish() at the end */
#define NOFIN   false
#define DONE    true
#define MORE    false

#define E_LF    DATA_ERR_BARE_LF
#define E_CR    DATA_ERR_BARE_CR
#define E_NUL   DATA_ERR_NUL
#define E_LONG  DATA_ERR_LONG_LINE
#define E_BIG   DATA_ERR_TOO_BIG

struct dr_case {
    const char    *name;
    enum data_mode mode;
    size_t         max_line;
    size_t         max_size;
    const char    *in;
    size_t         inlen;
    bool           finish;
    size_t         consumed;    /* ALL: inlen */
    const char    *out;
    size_t         outlen;
    unsigned       errors;
    bool           done;
    size_t         size;
};

static const struct dr_case dr_cases[] = {
    /* name, mode, max_line, max_size, input, finish, consumed, output, errors, done, size */

    /* plain messages and dot-unstuffing (RFC 5321 4.5.2) */
    { "simple", DOT, 1000, 0, S("Subject: hi\r\n\r\nbody\r\n.\r\n"), NOFIN, ALL,
      S("Subject: hi\n\nbody\n"), 0, DONE, 21 },
    { "empty message", DOT, 1000, 0, S(".\r\n"), NOFIN, ALL, S(""), 0, DONE, 0 },
    { "empty lines", DOT, 1000, 0, S("\r\n\r\n.\r\n"), NOFIN, ALL, S("\n\n"), 0, DONE, 4 },
    { "double dot", DOT, 1000, 0, S("..\r\n.\r\n"), NOFIN, ALL, S(".\n"), 0, DONE, 3 },
    { "dot-stuffed text", DOT, 1000, 0, S("..foo\r\n.\r\n"), NOFIN, ALL, S(".foo\n"), 0, DONE, 6 },
    { "single leading dot", DOT, 1000, 0, S(".foo\r\n.\r\n"), NOFIN, ALL, S("foo\n"), 0, DONE, 5 },
    { "three dots", DOT, 1000, 0, S("...\r\n.\r\n"), NOFIN, ALL, S("..\n"), 0, DONE, 4 },
    { "dot space", DOT, 1000, 0, S(". \r\n.\r\n"), NOFIN, ALL, S(" \n"), 0, DONE, 3 },
    { "inner dots", DOT, 1000, 0, S("a.b\r\n a.\r\n.\r\n"), NOFIN, ALL, S("a.b\n a.\n"), 0, DONE, 10 },
    { "leading dots on many lines", DOT, 1000, 0, S("x\r\n..\r\n...\r\ny\r\n.\r\n"), NOFIN, ALL,
      S("x\n.\n..\ny\n"), 0, DONE, 13 },
    { "8-bit and HT pass", DOT, 1000, 0, S("\tcaf\xc3\xa9\x7f\r\n.\r\n"), NOFIN, ALL,
      S("\tcaf\xc3\xa9\x7f\n"), 0, DONE, 9 },
    /* the end, and what comes after it */
    { "data after end not consumed", DOT, 1000, 0, S("a\r\n.\r\nMAIL FROM:<x@y.test>\r\n"),
      NOFIN, 6, S("a\n"), 0, DONE, 3 },
    { "pipelined QUIT", DOT, 1000, 0, S(".\r\nQUIT\r\n"), NOFIN, 3, S(""), 0, DONE, 0 },
    { "second end not consumed", DOT, 1000, 0, S("a\r\n.\r\n.\r\n"), NOFIN, 6, S("a\n"), 0, DONE, 3 },
    { "no end yet", DOT, 1000, 0, S("a\r\nb\r\n"), NOFIN, ALL, S("a\nb\n"), 0, MORE, 6 },
    { "partial line held", DOT, 1000, 0, S("a\r\nb"), NOFIN, ALL, S("a\n"), 0, MORE, 3 },
    { "partial end held", DOT, 1000, 0, S("a\r\n.\r"), NOFIN, ALL, S("a\n"), 0, MORE, 3 },
    { "finish is a no-op in DOT", DOT, 1000, 0, S("a\r\nb"), FIN, ALL, S("a\n"), 0, MORE, 3 },
    { "nothing", DOT, 1000, 0, S(""), NOFIN, ALL, S(""), 0, MORE, 0 },

    /* SMTP smuggling: only CRLF "." CRLF ends the data; the rest is an
     * error and the reader goes on to the real end (CVE-2023-51764) */
    { "\\n.\\n", DOT, 1000, 0, S("a\n.\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S(""), E_LF, DONE, 30 },
    { "\\r\\n.\\n", DOT, 1000, 0, S("a\r\n.\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S("a\n"), E_LF, DONE, 30 },
    { "\\n.\\r\\n", DOT, 1000, 0, S("a\n.\r\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S(""), E_LF, DONE, 30 },
    { "\\r.\\r", DOT, 1000, 0, S("a\r.\rMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S(""), E_CR, DONE, 29 },
    { "\\r.\\r\\n", DOT, 1000, 0, S("a\r.\r\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S(""), E_CR, DONE, 30 },
    { "\\r\\n.\\r\\r\\n", DOT, 1000, 0, S("a\r\n.\r\r\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN,
      ALL, S("a\n"), E_CR, DONE, 31 },
    { ".\\0\\r\\n", DOT, 1000, 0, S("a\r\n.\0\r\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S("a\n"), E_NUL, DONE, 31 },
    { "\\0.\\r\\n", DOT, 1000, 0, S("a\r\n\0.\r\nMAIL FROM:<evil@x.test>\r\n.\r\n"), NOFIN, ALL,
      S("a\n"), E_NUL, DONE, 32 },
    { "\\n.\\n alone is no end", DOT, 1000, 0, S("a\n.\n"), NOFIN, ALL, S(""), E_LF, MORE, 5 },
    { "\\n.\\r\\n alone is no end", DOT, 1000, 0, S("x\n.\r\n"), NOFIN, ALL, S(""), E_LF, MORE, 5 },
    { "\\r\\n.\\n alone is no end", DOT, 1000, 0, S("a\r\n.\n"), NOFIN, ALL, S("a\n"), E_LF, MORE, 5 },
    { ".\\n first", DOT, 1000, 0, S(".\n.\r\n.\r\n"), NOFIN, ALL, S(""), E_LF, DONE, 4 },
    { ".\\r\\r\\n first", DOT, 1000, 0, S(".\r\r\n.\r\n"), NOFIN, ALL, S(""), E_CR, DONE, 3 },
    { "\\r\\r\\n then real end", DOT, 1000, 0, S("a\r\r\n.\r\nQUIT\r\n"), NOFIN, 7, S(""), E_CR,
      DONE, 4 },
    { "\\r\\r\\n alone", DOT, 1000, 0, S("\r\r\n.\r\n"), NOFIN, ALL, S(""), E_CR, DONE, 3 },
    { "\\n\\n", DOT, 1000, 0, S("\n\n.\r\n"), NOFIN, ALL, S(""), E_LF, MORE, 6 },
    { "bare LF then CRLF line then end", DOT, 1000, 0, S("a\n\r\n.\r\n"), NOFIN, ALL, S(""), E_LF,
      DONE, 5 },
    { "bare CR inside", DOT, 1000, 0, S("a\rb\r\n.\r\n"), NOFIN, ALL, S(""), E_CR, DONE, 5 },
    { "bare CR first", DOT, 1000, 0, S("\r.\r\n.\r\n"), NOFIN, ALL, S(""), E_CR, DONE, 4 },
    { "CR CR", DOT, 1000, 0, S("ab\r\r"), NOFIN, ALL, S(""), E_CR, MORE, 0 },
    { "NUL inside", DOT, 1000, 0, S("a\0b\r\n.\r\n"), NOFIN, ALL, S(""), E_NUL, DONE, 5 },
    { "NUL alone", DOT, 1000, 0, S("\0\r\n.\r\n"), NOFIN, ALL, S(""), E_NUL, DONE, 3 },
    { "NUL before bare LF", DOT, 1000, 0, S("a\0\n.\r\n.\r\n"), NOFIN, ALL, S(""), E_NUL | E_LF,
      DONE, 6 },
    { "good lines kept before an error", DOT, 1000, 0, S("a\r\nb\r\nc\nd\r\n.\r\n"), NOFIN,
      ALL, S("a\nb\n"), E_LF, DONE, 12 },
    { "nothing appended after an error", DOT, 1000, 0, S("a\nb\r\nc\r\n.\r\n"), NOFIN, ALL,
      S(""), E_LF, DONE, 9 },
    { "all at once", DOT, 1000, 0, S("a\rb\0c\n.\r\n.\r\n"), NOFIN, ALL, S(""),
      E_CR | E_NUL | E_LF, DONE, 9 },

    /* size: CRLF form after unstuffing, counted even after an error */
    { "size under", DOT, 1000, 10, S("1234567\r\n.\r\n"), NOFIN, ALL, S("1234567\n"), 0, DONE, 9 },
    { "size at", DOT, 1000, 10, S("12345678\r\n.\r\n"), NOFIN, ALL, S("12345678\n"), 0, DONE, 10 },
    { "size over", DOT, 1000, 10, S("123456789\r\n.\r\n"), NOFIN, ALL, S(""), E_BIG, DONE, 11 },
    { "size at, stuffed", DOT, 1000, 10, S("..2345678\r\n.\r\n"), NOFIN, ALL, S(".2345678\n"), 0,
      DONE, 10 },
    { "size over on line 2", DOT, 1000, 10, S("1234\r\n5678\r\n.\r\n"), NOFIN, ALL, S("1234\n"),
      E_BIG, DONE, 12 },
    { "size counted after error", DOT, 1000, 5, S("a\nbbbbbbbb\r\n.\r\n"), NOFIN, ALL, S(""),
      E_LF | E_BIG, DONE, 13 },
    { "size: bare LF counts as CRLF", DOT, 1000, 0, S("abc\n.\r\n.\r\n"), NOFIN, ALL, S(""), E_LF,
      DONE, 7 },
    { "size: empty message at limit 1", DOT, 1000, 1, S(".\r\n"), NOFIN, ALL, S(""), 0, DONE, 0 },

    /* line length, CRLF included, the stuffed dot not (4.5.3.1.6) */
    { "line at max", DOT, 10, 0, S("12345678\r\n.\r\n"), NOFIN, ALL, S("12345678\n"), 0, DONE, 10 },
    { "line over max", DOT, 10, 0, S("123456789\r\n.\r\n"), NOFIN, ALL, S(""), E_LONG, DONE, 11 },
    { "stuffed line at max", DOT, 10, 0, S("..2345678\r\n.\r\n"), NOFIN, ALL, S(".2345678\n"), 0,
      DONE, 10 },
    { "stuffed line over max", DOT, 10, 0, S("..23456789\r\n.\r\n"), NOFIN, ALL, S(""), E_LONG,
      DONE, 11 },
    { "bare-LF line at max", DOT, 10, 0, S("12345678\n.\r\n.\r\n"), NOFIN, ALL, S(""), E_LF, DONE, 12 },
    { "bare-LF line over max", DOT, 10, 0, S("123456789\n.\r\n.\r\n"), NOFIN, ALL, S(""),
      E_LF | E_LONG, DONE, 13 },
    { "long line then good line", DOT, 10, 0, S("1234567890123\r\nab\r\n.\r\n"), NOFIN, ALL,
      S(""), E_LONG, DONE, 19 },
    { "long line with bare CR", DOT, 10, 0, S("1234567890123\r4\r\n.\r\n"), NOFIN, ALL, S(""),
      E_LONG | E_CR, DONE, 17 },
    { "long line with bare LF end", DOT, 10, 0, S("1234567890123\n.\r\nMAIL\r\n.\r\n"), NOFIN, ALL,
      S(""), E_LONG | E_LF, DONE, 23 },
    { "line with CR at max+1", DOT, 10, 0, S("123456789\r\r\n.\r\n"), NOFIN, ALL, S(""),
      E_LONG | E_CR, DONE, 12 },

    /* RAW mode (BDAT): no dots, no end marker, finish() ends the last line */
    { "raw lines", RAW, 1000, 0, S("a\r\nb\r\n"), NOFIN, ALL, S("a\nb\n"), 0, MORE, 6 },
    { "raw lines, finish", RAW, 1000, 0, S("a\r\nb\r\n"), FIN, ALL, S("a\nb\n"), 0, MORE, 6 },
    { "raw last line without CRLF", RAW, 1000, 0, S("a\r\nb"), FIN, ALL, S("a\nb\n"), 0, MORE, 6 },
    { "raw last line not yet finished", RAW, 1000, 0, S("a\r\nb"), NOFIN, ALL, S("a\n"), 0, MORE, 3 },
    { "raw trailing lone CR", RAW, 1000, 0, S("a\r\nb\r"), FIN, ALL, S("a\n"), E_CR, MORE, 7 },
    { "raw only CR", RAW, 1000, 0, S("\r"), FIN, ALL, S(""), E_CR, MORE, 3 },
    { "raw CR not finished", RAW, 1000, 0, S("a\r"), NOFIN, ALL, S(""), 0, MORE, 0 },
    { "raw no dot handling", RAW, 1000, 0, S("a\r\n.\r\nb\r\n"), NOFIN, ALL, S("a\n.\nb\n"), 0,
      MORE, 9 },
    { "raw dots kept", RAW, 1000, 0, S("..x\r\n"), FIN, ALL, S("..x\n"), 0, MORE, 5 },
    { "raw bare LF", RAW, 1000, 0, S("a\nb\r\n"), FIN, ALL, S(""), E_LF, MORE, 6 },
    { "raw bare CR", RAW, 1000, 0, S("a\rb\r\n"), FIN, ALL, S(""), E_CR, MORE, 5 },
    { "raw NUL", RAW, 1000, 0, S("a\0\r\n"), FIN, ALL, S(""), E_NUL, MORE, 4 },
    { "raw NUL in last line", RAW, 1000, 0, S("a\r\nb\0"), FIN, ALL, S("a\n"), E_NUL, MORE, 7 },
    { "raw empty", RAW, 1000, 0, S(""), FIN, ALL, S(""), 0, MORE, 0 },
    { "raw last line at max", RAW, 10, 0, S("12345678"), FIN, ALL, S("12345678\n"), 0, MORE, 10 },
    { "raw last line over max", RAW, 10, 0, S("123456789"), FIN, ALL, S(""), E_LONG, MORE, 11 },
    { "raw size at", RAW, 1000, 5, S("abc"), FIN, ALL, S("abc\n"), 0, MORE, 5 },
    { "raw size over", RAW, 1000, 5, S("abcd"), FIN, ALL, S(""), E_BIG, MORE, 6 },
};

/* What one run produced. */
struct dr_result {
    size_t   consumed;
    struct buf out;
    unsigned errors;
    bool     done;
    size_t   size;
    size_t   line_cap;      /* r.line.cap at the end: the bounded memory */
};

/*
 * dr_run - feed c->in in pieces: first (0: none), then pieces of chunk
 * octets, or of pseudo-random sizes 1..chunk when seed is not 0.
 */
static void
dr_run(const struct dr_case *c, size_t first, size_t chunk, unsigned seed,
       struct dr_result *res)
{
    struct data_reader r;
    size_t off = 0, piece = first ? first : chunk;

    data_reader_init(&r, c->mode, c->max_line, c->max_size);
    buf_init(&res->out);
    res->line_cap = 0;
    while (off < c->inlen) {
        size_t k, used;
        char *copy;

        if (seed != 0 && !(first && off == 0)) {
            seed = seed * 1103515245u + 12345u;
            piece = 1 + (seed >> 16) % chunk;
        }
        k = piece < c->inlen - off ? piece : c->inlen - off;
        copy = malloc(k);
        assert_non_null(copy);
        memcpy(copy, c->in + off, k);
        used = data_reader_feed(&r, copy, k, &res->out);
        free(copy);
        if (r.line.cap > res->line_cap)
            res->line_cap = r.line.cap;
        assert_true(used <= k);
        off += used;
        if (used < k) {
            if (!r.done)
                report("%s: feed returned %zu of %zu without done", c->name, used, k);
            break;
        }
        piece = chunk;
    }
    if (r.done && data_reader_feed(&r, "x", 1, &res->out) != 0)
        report("%s: feed after done consumed input", c->name);
    if (data_reader_feed(&r, NULL, 0, &res->out) != 0)
        report("%s: feed of nothing consumed input", c->name);
    if (c->finish)
        data_reader_finish(&r, &res->out);
    res->consumed = off;
    res->errors = r.errors;
    res->done = r.done;
    res->size = r.size;
    data_reader_free(&r);
    data_reader_free(&r);       /* harmless twice */
}

/* dr_check - compare one run with the case; way names how it was fed */
static void
dr_check(const struct dr_case *c, const char *way, struct dr_result *res)
{
    size_t want_consumed = c->consumed == ALL ? c->inlen : c->consumed;

    if (res->consumed != want_consumed)
        report("%s (%s): got consumed %zu, want %zu", c->name, way, res->consumed,
               want_consumed);
    if (res->errors != c->errors)
        report("%s (%s): got errors 0x%x, want 0x%x", c->name, way, res->errors, c->errors);
    if (res->done != c->done)
        report("%s (%s): got done %d, want %d", c->name, way, res->done, c->done);
    if (res->size != c->size)
        report("%s (%s): got size %zu, want %zu", c->name, way, res->size, c->size);
    if (res->out.len != c->outlen || memcmp(buf_cstr(&res->out), c->out, c->outlen) != 0)
        report("%s (%s): got out \"%s\", want \"%s\"", c->name, way,
               show(buf_cstr(&res->out), res->out.len), show(c->out, c->outlen));
    if (c->max_line != 0 && res->line_cap > 2 * (c->max_line + 3) && res->line_cap > 64)
        report("%s (%s): got line buffer of %zu octets, want at most %zu", c->name, way,
               res->line_cap, 2 * (c->max_line + 3));
    buf_free(&res->out);
}

/* dr_all_ways - run one case every way */
static void
dr_all_ways(const struct dr_case *c)
{
    struct dr_result res;
    char way[64];

    dr_run(c, 0, c->inlen ? c->inlen : 1, 0, &res);
    dr_check(c, "one call", &res);
    dr_run(c, 0, 1, 0, &res);
    dr_check(c, "byte by byte", &res);
    for (size_t k = 2; k <= 7; k += k == 3 ? 4 : 1) {
        snprintf(way, sizeof(way), "chunks of %zu", k);
        dr_run(c, 0, k, 0, &res);
        dr_check(c, way, &res);
    }
    /* cut in two everywhere; on long inputs, near the interesting ends */
    for (size_t p = 1; p < c->inlen; p++) {
        if (c->inlen > 300 && p > 20 && p < c->inlen - 40 && p % 97 != 0)
            continue;
        snprintf(way, sizeof(way), "cut at %zu", p);
        dr_run(c, p, c->inlen, 0, &res);
        dr_check(c, way, &res);
    }
    for (unsigned seed = 1; seed <= 20; seed++) {
        snprintf(way, sizeof(way), "random pieces, seed %u", seed);
        dr_run(c, 0, 1 + seed % 9, seed, &res);
        dr_check(c, way, &res);
    }
}

/* test_table - every case of dr_cases, every way */
static void
test_table(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(dr_cases) / sizeof(dr_cases[0]); i++)
        dr_all_ways(&dr_cases[i]);
    assert_int_equal(failures, 0);
}

/* One generated case around the RFC 5321 limit of 1000 octets. */
struct long_case {
    const char *name;
    enum data_mode mode;
    const char *head;       /* before the run of "x" */
    size_t      xs;         /* octets of "x" */
    const char *tail;       /* after the run: the line end and more */
    size_t      taillen;
    bool        finish;
    size_t      consumed_less;  /* octets at the end not consumed */
    bool        out_line;   /* out is head (unstuffed) + xs "x" + "\n" */
    unsigned    errors;
    bool        done;
    size_t      size;
};

static const struct long_case long_cases[] = {
    { "998 + CRLF = 1000", DOT, "", 998, S("\r\n.\r\n"), NOFIN, 0, true, 0, DONE, 1000 },
    { "999 + CRLF = 1001", DOT, "", 999, S("\r\n.\r\n"), NOFIN, 0, false, E_LONG, DONE, 1001 },
    { "stuffed 1001 on the wire", DOT, ".", 998, S("\r\n.\r\n"), NOFIN, 0, true, 0, DONE, 1000 },
    { "stuffed 1002 on the wire", DOT, ".", 999, S("\r\n.\r\n"), NOFIN, 0, false, E_LONG, DONE,
      1001 },
    { "double-stuffed at max", DOT, "..", 997, S("\r\n.\r\n"), NOFIN, 0, true, 0, DONE, 1000 },
    { "5000 octets", DOT, "", 5000, S("\r\n.\r\n"), NOFIN, 0, false, E_LONG, DONE, 5002 },
    { "5000 then data after end", DOT, "", 5000, S("\r\n.\r\nQUIT\r\n"), NOFIN, 6, false, E_LONG,
      DONE, 5002 },
    { "bare CR after 5000", DOT, "", 5000, S("\ry\r\n.\r\n"), NOFIN, 0, false, E_LONG | E_CR, DONE,
      5004 },
    { "NUL after 5000", DOT, "", 5000, S("\0\r\n.\r\n"), NOFIN, 0, false, E_LONG | E_NUL, DONE,
      5003 },
    { "bare LF after 3000, fake end", DOT, "", 3000, S("\n.\r\nMAIL FROM:<e@x.test>\r\n.\r\n"),
      NOFIN, 0, false, E_LONG | E_LF, DONE, 3026 },
    { "CR CR LF after 3000", DOT, "", 3000, S("\r\r\n.\r\n"), NOFIN, 0, false, E_LONG | E_CR, DONE,
      3003 },
    { "good line after a long one", DOT, "", 1500, S("\r\nok\r\n.\r\n"), NOFIN, 0, false, E_LONG,
      DONE, 1506 },
    { "no end after 5000", DOT, "", 5000, S(""), NOFIN, 0, false, E_LONG, MORE, 0 },
    { "raw 998 + finish", RAW, "", 998, S(""), FIN, 0, true, 0, MORE, 1000 },
    { "raw 999 + finish", RAW, "", 999, S(""), FIN, 0, false, E_LONG, MORE, 1001 },
    { "raw 998 + CRLF", RAW, "", 998, S("\r\n"), NOFIN, 0, true, 0, MORE, 1000 },
    { "raw 5000 + CRLF", RAW, "", 5000, S("\r\n"), FIN, 0, false, E_LONG, MORE, 5002 },
};

/* test_long_lines - 1000 octets ok, 1001 not; memory stays bounded */
static void
test_long_lines(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(long_cases) / sizeof(long_cases[0]); i++) {
        const struct long_case *l = &long_cases[i];
        size_t hl = strlen(l->head);
        size_t inlen = hl + l->xs + l->taillen;
        char *in = malloc(inlen), *out = malloc(hl + l->xs + 1);
        size_t outlen = 0;
        struct dr_case c;

        assert_non_null(in);
        assert_non_null(out);
        memcpy(in, l->head, hl);
        memset(in + hl, 'x', l->xs);
        memcpy(in + hl + l->xs, l->tail, l->taillen);
        if (l->out_line) {
            /* the head is all dots: one comes off */
            outlen = (hl ? hl - 1 : 0) + l->xs;
            memset(out, '.', outlen);
            memset(out + outlen - l->xs, 'x', l->xs);
            out[outlen++] = '\n';
        }
        c = (struct dr_case){ l->name, l->mode, 1000, 0, in, inlen, l->finish,
                              inlen - l->consumed_less, out, outlen, l->errors, l->done, l->size };
        if (l->mode == RAW && hl != 0)
            fail_msg("head is for DOT cases");
        dr_all_ways(&c);
        free(in);
        free(out);
    }
    assert_int_equal(failures, 0);
}

/* test_no_limits - max_size 0 is no limit, and so is max_line 0 */
static void
test_no_limits(void **state)
{
    size_t n = 100000;
    char *in = malloc(n + 5);
    struct data_reader r;
    struct buf out = BUF_INIT;

    (void)state;
    assert_non_null(in);
    memset(in, 'y', n);
    memcpy(in + n, "\r\n.\r\n", 5);
    data_reader_init(&r, DATA_MODE_DOT, 0, 0);
    assert_int_equal(data_reader_feed(&r, in, n / 2, &out), n / 2);
    assert_int_equal(data_reader_feed(&r, in + n / 2, n / 2 + 5, &out), n / 2 + 5);
    assert_true(r.done);
    assert_int_equal(r.errors, 0);
    assert_int_equal(r.size, n + 2);
    assert_int_equal(out.len, n + 1);
    data_reader_free(&r);
    buf_free(&out);
    free(in);
}

/* test_reuse - the output buffer is appended to, not reset; a reader
 * can be freed and initialised again */
static void
test_reuse(void **state)
{
    struct data_reader r;
    struct buf out = BUF_INIT;

    (void)state;
    buf_puts(&out, "Received: x\n");
    data_reader_init(&r, DATA_MODE_DOT, 1000, 0);
    assert_int_equal(data_reader_feed(&r, "a\r\nb", 4, &out), 4);
    data_reader_free(&r);
    data_reader_init(&r, DATA_MODE_DOT, 1000, 0);
    assert_int_equal(data_reader_feed(&r, "c\r\n.\r\n", 6, &out), 6);
    assert_true(r.done);
    assert_string_equal(buf_cstr(&out), "Received: x\na\nc\n");
    data_reader_free(&r);
    buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_no_limits),
        cmocka_unit_test(test_reuse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
