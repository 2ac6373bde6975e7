/*
 * data_reader - message content from DATA (dot-terminated) or BDAT
 * (counted chunks), checked strictly and converted to the queue's
 * LF-terminated line format.
 *
 * Pure: bytes in, bytes out, no I/O. Rules:
 *  - Every line must end in CRLF. A bare LF or a bare CR anywhere is an
 *    error (DATA_ERR_BARE_LF / DATA_ERR_BARE_CR); so is a NUL octet.
 *    This closes the SMTP smuggling class (CVE-2023-51764): the only end
 *    of data is CRLF "." CRLF (RFC 5321 4.1.1.4), and after an error the
 *    reader still consumes input up to that real end, so nothing the
 *    client sends can be read as a second message or as commands.
 *  - DATA mode undoes dot-stuffing (RFC 5321 4.5.2).
 *  - A text line longer than max_line octets including CRLF (RFC 5321
 *    4.5.3.1.6: 1000) is DATA_ERR_LONG_LINE.
 *  - size counts the message as it would travel (CRLF line ends, after
 *    unstuffing); over max_size is DATA_ERR_TOO_BIG.
 *  - Output: each good line is appended to out followed by "\n" (no CR).
 *    Once any error is set, nothing more is appended (memory stays
 *    bounded); the caller discards the message.
 */
#ifndef POSTINO_MAIL_DATA_READER_H
#define POSTINO_MAIL_DATA_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

enum data_mode { DATA_MODE_DOT, DATA_MODE_RAW };

#define DATA_ERR_BARE_LF    0x01
#define DATA_ERR_BARE_CR    0x02
#define DATA_ERR_NUL        0x04
#define DATA_ERR_LONG_LINE  0x08
#define DATA_ERR_TOO_BIG    0x10

struct data_reader {
    enum data_mode mode;
    size_t   max_line;      /* longest line, CRLF included */
    size_t   max_size;      /* largest message, 0 = no limit */
    size_t   size;          /* message octets so far (CRLF form, unstuffed) */
    unsigned errors;        /* DATA_ERR_* bits */
    bool     done;          /* DOT mode: the final CRLF.CRLF was consumed */
    /* private: the line being assembled */
    struct buf line;
    size_t   line_octets;   /* octets of the current line seen so far */
    bool     pending_cr;    /* last octet seen was CR */
    bool     after_bare_lf; /* the previous line ended in a bare LF, so a
                               "." line now is not CRLF "." CRLF */
};

void data_reader_init(struct data_reader *r, enum data_mode mode,
                      size_t max_line, size_t max_size);
/* data_reader_free - release the line buffer */
void data_reader_free(struct data_reader *r);

/*
 * data_reader_feed - take bytes in[0..n). In DOT mode it stops right
 * after the terminating CRLF.CRLF (r->done = true) and returns the
 * number of bytes consumed, which may be less than n (the rest belongs
 * to the next command). In RAW mode it consumes everything.
 */
size_t data_reader_feed(struct data_reader *r, const char *in, size_t n,
                        struct buf *out);

/*
 * data_reader_finish - RAW mode, at BDAT LAST: a last line without CRLF
 * is checked and ended with "\n". A lone CR left at the end is a bare CR.
 */
void data_reader_finish(struct data_reader *r, struct buf *out);

#endif
