/*
 * check.h - the scaffolding the table-driven unit tests share.
 *
 * A test walks its table, calls report() for every mismatch ("got ...,
 * want ...") and ends with assert_int_equal(failures, 0), so that one run
 * shows every broken row, not just the first. The test (or its fixture)
 * sets failures to 0 first.
 *
 *   failures       mismatches reported so far
 *   report()       print one mismatch to stderr and count it; after 50 in
 *                  one test it only counts
 *   show(p, n)     the bytes p[0..n) printable, "(null)" for NULL; the
 *                  result lives in one of 8 static buffers, used in turn,
 *                  so up to 8 show() results may be alive at once (the
 *                  arguments of one report(), say)
 *   showz(s)       show() for a C string
 *   copy(s, n)     s[0..n) on the heap in exactly n octets (1 when n is 0),
 *                  so that ASan sees a read past the end; free() it
 *   NELEM(a)       the number of elements of array a
 *   S(lit)         a string literal and its length, NULs included: two
 *                  arguments
 *
 * show() prints printable ASCII as is and every other octet (and "\") as
 * \xNN; it stops at about SHOW_WIDTH characters. A file that wants it
 * otherwise defines SHOW_STYLE (a struct show_style initialiser) before
 * including this header, e.g.
 *     #define SHOW_STYLE { .esc = "\n" }
 * Included from a test as "check.h": the tests are built with -Isrc only.
 */
#ifndef POSTINO_TESTS_UNIT_CHECK_H
#define POSTINO_TESTS_UNIT_CHECK_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1

#define REPORT_MAX 50           /* mismatches printed per test */
#define SHOW_WIDTH 2400         /* show_style.width: the default and the most */

static int failures;

/* report - print one mismatch and count it; quiet after REPORT_MAX */
static inline void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void
report(const char *fmt, ...)
{
    va_list ap;

    if (failures++ >= REPORT_MAX)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* How show() renders; the zero value is the default. */
struct show_style {
    const char *esc;            /* of "\n\r\t": shown as \n, \r, \t, not \xNN */
    size_t      width;          /* stop at this many characters (0: SHOW_WIDTH) */
    size_t      head;           /* show only the first head octets (0: all) */
    const char *more;           /* appended when not all was shown */
    bool        more_len;       /* and then "(N octets)" */
};

#ifndef SHOW_STYLE
#define SHOW_STYLE { .width = 0 }
#endif

/* show_as - the bytes p[0..n) printable as st says, in a static buffer */
static inline const char *
show_as(const struct show_style *st, const void *p, size_t n)
{
    static char out[8][SHOW_WIDTH + 64];
    static unsigned slot;
    const unsigned char *s = p;
    char *o = out[slot++ % 8];
    size_t width = st->width && st->width < SHOW_WIDTH ? st->width : SHOW_WIDTH;
    size_t max = st->head ? st->head : n;
    size_t i, k = 0;
    bool cut;

    if (s == NULL)
        return "(null)";
    for (i = 0; i < n && i < max && k < width; i++) {
        unsigned char c = s[i];

        if (c != '\0' && st->esc && strchr(st->esc, c)) {
            o[k++] = '\\';
            o[k++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
        } else if (c >= 32 && c < 127 && c != '\\') {
            o[k++] = (char)c;
        } else {
            k += (size_t)snprintf(o + k, 5, "\\x%02x", c);
        }
    }
    cut = i < n || k >= width;
    o[k] = '\0';
    if (cut && st->more)
        snprintf(o + k, sizeof(out[0]) - k, "%s", st->more);
    if (cut && st->more_len) {
        k = strlen(o);
        snprintf(o + k, sizeof(out[0]) - k, "(%zu octets)", n);
    }
    return o;
}

/* show - show_as() in this file's SHOW_STYLE */
static inline const char *
show(const void *p, size_t n)
{
    static const struct show_style style = SHOW_STYLE;

    return show_as(&style, p, n);
}

/* showz - show() for a C string, "(null)" for NULL */
static inline const char *
showz(const char *s)
{
    return s ? show(s, strlen(s)) : "(null)";
}

/* copy - s[0..n) in an allocation of exactly n octets (one when n is 0) */
static inline char *
copy(const char *s, size_t n)
{
    char *p = malloc(n ? n : 1);

    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

#endif
