/*
 * imap_fmt - IMAP data items into a buffer; see imap_fmt.h.
 *
 * We never escape inside quoted strings: anything that would need it
 * goes out as a literal, which every client must accept (RFC 9051 4.3).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

/* util: no mail knowledge */
#include "util/buf.h"
/* imap */
#include "imap/imap_fmt.h"

/* quoted_ok - may p[0..n) go out as a quoted string as it is? */
static bool
quoted_ok(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];

        if (c == 0 || c >= 0x80 || c == '\r' || c == '\n' || c == '"' || c == '\\')
            return false;
    }
    return true;
}

/* imap_fmt_string - see imap_fmt.h */
void
imap_fmt_string(struct buf *b, const char *p, size_t n)
{
    if (quoted_ok(p, n)) {
        buf_putc(b, '"');
        buf_append(b, p, n);
        buf_putc(b, '"');
        return;
    }
    buf_printf(b, "{%zu}\r\n", n);
    buf_reserve(b, n);
    for (size_t i = 0; i < n; i++)
        buf_putc(b, p[i] == '\0' ? (char)0x80 : p[i]);
}

/* imap_fmt_nstring - see imap_fmt.h */
void
imap_fmt_nstring(struct buf *b, const char *p, size_t n)
{
    if (p == NULL)
        buf_puts(b, "NIL");
    else
        imap_fmt_string(b, p, n);
}

/* imap_fmt_nstringz - see imap_fmt.h */
void
imap_fmt_nstringz(struct buf *b, const char *s)
{
    imap_fmt_nstring(b, s, s ? strlen(s) : 0);
}

/* astring_char - RFC 9051 9: ASTRING-CHAR = ATOM-CHAR / resp-specials */
static bool
astring_char(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;                   /* CTL, SP, 8-bit */
    return strchr("(){%*\"\\", c) == NULL;
}

/* imap_fmt_astring - see imap_fmt.h */
void
imap_fmt_astring(struct buf *b, const char *p, size_t n)
{
    bool atom = n > 0;

    for (size_t i = 0; atom && i < n; i++)
        atom = astring_char((unsigned char)p[i]);
    if (atom)
        buf_append(b, p, n);
    else
        imap_fmt_string(b, p, n);
}

/* imap_fmt_date_time - see imap_fmt.h */
void
imap_fmt_date_time(struct buf *b, time_t t)
{
    static const char months[12][4] = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun",
        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    };
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999) {
        buf_puts(b, "\" 1-Jan-1970 00:00:00 +0000\"");
        return;
    }
    buf_printf(b, "\"%2d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, months[tm.tm_mon],
               tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* imap_fmt_flags - see imap_fmt.h */
void
imap_fmt_flags(struct buf *b, unsigned mask)
{
    static const struct {
        unsigned    bit;
        const char *name;
    } flags[] = {
        { IMAP_FLAG_SEEN, "\\Seen" },
        { IMAP_FLAG_ANSWERED, "\\Answered" },
        { IMAP_FLAG_FLAGGED, "\\Flagged" },
        { IMAP_FLAG_DELETED, "\\Deleted" },
        { IMAP_FLAG_DRAFT, "\\Draft" },
    };
    const char *sep = "";

    buf_putc(b, '(');
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        if (mask & flags[i].bit) {
            buf_puts(b, sep);
            buf_puts(b, flags[i].name);
            sep = " ";
        }
    buf_putc(b, ')');
}
