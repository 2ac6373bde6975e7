/*
 * imap_fmt - write IMAP data items (RFC 9051 4, 9 formal syntax) into a
 * struct buf: strings, nstrings, astrings, INTERNALDATE, flag lists.
 *
 * Pure functions: no I/O, no globals. They only append to the buffer;
 * they do not know about tags, responses or the session. Strings are
 * written for a server response, so a literal is the synchronising form
 * "{n}\r\n" followed by the octets.
 */
#ifndef POSTINO_IMAP_IMAP_FMT_H
#define POSTINO_IMAP_IMAP_FMT_H

#include <stddef.h>
#include <time.h>

struct buf;

/* System flags of a message (RFC 9051 2.3.2), as a bit mask; shared with
 * the session, which keeps them in the Maildir info (S, R, F, T, D). */
enum {
    IMAP_FLAG_SEEN     = 1,
    IMAP_FLAG_ANSWERED = 2,
    IMAP_FLAG_FLAGGED  = 4,
    IMAP_FLAG_DELETED  = 8,
    IMAP_FLAG_DRAFT    = 16,
};

/*
 * imap_fmt_string - append p[0..n) as an IMAP string: a quoted string
 * when every octet is 7-bit and none is NUL, CR, LF, '"' or '\', else a
 * literal "{n}\r\n" + octets (a literal is always valid, 8-bit included,
 * and spares us escaping). IMAP strings cannot hold NUL (RFC 9051 4.3):
 * a NUL octet is written as 0x80, so the length is unchanged.
 */
void imap_fmt_string(struct buf *b, const char *p, size_t n);

/* imap_fmt_nstring - imap_fmt_string(), or NIL when p is NULL */
void imap_fmt_nstring(struct buf *b, const char *p, size_t n);

/* imap_fmt_nstringz - imap_fmt_nstring() of a C string (NULL: NIL) */
void imap_fmt_nstringz(struct buf *b, const char *s);

/*
 * imap_fmt_astring - append p[0..n) as an atom when it is non-empty and
 * made of ASTRING-CHARs only (RFC 9051 9: no "(){ %*\"\\", no CTL, no
 * 8-bit; "]" is allowed), else as imap_fmt_string() does.
 */
void imap_fmt_astring(struct buf *b, const char *p, size_t n);

/*
 * imap_fmt_date_time - append t as an INTERNALDATE date-time in UTC,
 * quotes included: "dd-Mon-yyyy hh:mm:ss +0000", the day padded with a
 * space (date-day-fixed). Times that gmtime_r() cannot convert, or whose
 * year is not 4 digits, are written as " 1-Jan-1970 00:00:00 +0000".
 */
void imap_fmt_date_time(struct buf *b, time_t t);

/*
 * imap_fmt_flags - append the flag list of mask, parentheses included:
 * "(\Seen \Answered \Flagged \Deleted \Draft)" in that order, "()" when
 * none is set. Bits that are not IMAP_FLAG_* are ignored.
 */
void imap_fmt_flags(struct buf *b, unsigned mask);

#endif
