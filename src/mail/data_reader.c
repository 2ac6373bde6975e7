/*
 * data_reader - message content of DATA and BDAT, checked strictly and
 * converted to LF line ends; see data_reader.h.
 *
 * It does not parse headers, add Received:, or decide what to reply: it
 * reports what was wrong with the content in r->errors and the caller
 * answers after the end of data.
 *
 * How it works: input is cut into lines with memchr() for LF. A line that
 * lies whole inside one feed call (the common case) is checked and copied
 * to out straight from the input, with no copy into r->line. Only a line
 * cut by the end of a feed call is assembled in r->line, and that buffer
 * holds at most max_line + 2 octets (2 after an error: enough to see the
 * end marker), so memory stays bounded whatever the client sends.
 *
 * Every content octet is checked when it arrives (data_reader_scan), so
 * the errors never depend on how the input was split into calls. A CR is
 * held in r->pending_cr until the next octet says what it was: the CR of
 * a CRLF, or a bare CR.
 *
 * The end of data is CRLF "." CRLF (RFC 5321 4.1.1.4) and nothing else:
 * a "." line only ends the data when it ends in CRLF, holds nothing but
 * the dot, and the line before it (if any) also ended in CRLF. This is
 * what makes "\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r\n", ".\r\r\n" and
 * ".\0\r\n" mere errors instead of an end (CVE-2023-51764 and kin).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "mail/data_reader.h"
#include "util/buf.h"

static void data_reader_scan(struct data_reader *r, const char *p, size_t n);
static void data_reader_stash(struct data_reader *r, const char *p, size_t n);
static bool data_reader_eol(struct data_reader *r, const char *line, struct buf *out);
static void data_reader_emit(const char *line, size_t content, bool dot,
                             struct buf *out);
static void data_reader_next_line(struct data_reader *r);

/* data_reader_init - an empty reader; see data_reader.h. max_line 0
 * means no line limit, max_size 0 no size limit. */
void
data_reader_init(struct data_reader *r, enum data_mode mode,
                 size_t max_line, size_t max_size)
{
    r->mode = mode;
    r->max_line = max_line;
    r->max_size = max_size;
    r->size = 0;
    r->errors = 0;
    r->done = false;
    buf_init(&r->line);
    r->line_octets = 0;
    r->pending_cr = false;
    r->after_bare_lf = false;   /* the DATA command line ended in CRLF */
}

/* data_reader_free - release the line buffer; the reader may be
 * initialised again afterwards. */
void
data_reader_free(struct data_reader *r)
{
    buf_free(&r->line);
}

/*
 * data_reader_scan - check n octets p[0..n) of the current line (no LF
 * among them) and count them. A CR is content (a bare CR) unless it is
 * the very last octet seen before the LF; the last CR of p is therefore
 * left pending. NUL is never content.
 */
static void
data_reader_scan(struct data_reader *r, const char *p, size_t n)
{
    size_t body = n;

    if (n == 0)
        return;
    if (r->pending_cr)
        r->errors |= DATA_ERR_BARE_CR;      /* CR followed by a non-LF */
    r->pending_cr = p[n - 1] == '\r';
    if (r->pending_cr)
        body--;
    if (memchr(p, '\r', body) != NULL)
        r->errors |= DATA_ERR_BARE_CR;
    if (memchr(p, '\0', body) != NULL)
        r->errors |= DATA_ERR_NUL;
    r->line_octets += n;

    /* Too long already? The content so far is line_octets less a pending
     * CR; at most one stuffed dot will come off (4.5.3.1.6 does not count
     * it), and the CRLF adds 2. The exact check is at the end of line. */
    if (r->max_line != 0) {
        size_t content = r->line_octets - (r->pending_cr ? 1 : 0);
        size_t dot = r->mode == DATA_MODE_DOT ? 1 : 0;

        if (content > dot && content - dot + 2 > r->max_line)
            r->errors |= DATA_ERR_LONG_LINE;
    }
}

/* data_reader_stash - keep what is needed of a line cut by the end of a
 * feed call: the whole line while it may still be good, else the first
 * two octets, which are all the end-marker test needs. */
static void
data_reader_stash(struct data_reader *r, const char *p, size_t n)
{
    size_t limit = (size_t)-1;

    if (r->errors != 0)
        limit = 2;
    else if (r->max_line != 0)
        limit = r->max_line + 2;
    if (r->line.len >= limit)
        return;
    if (n > limit - r->line.len)
        n = limit - r->line.len;
    buf_append(&r->line, p, n);
}

/* data_reader_next_line - forget the line just ended, keep the storage */
static void
data_reader_next_line(struct data_reader *r)
{
    r->line_octets = 0;
    r->pending_cr = false;
    buf_reset(&r->line);
}

/* data_reader_emit - append content octets of line (less a stuffed dot)
 * and "\n" to out, in one growth of the buffer. */
static void
data_reader_emit(const char *line, size_t content, bool dot, struct buf *out)
{
    size_t len = content - (dot ? 1 : 0);

    buf_reserve(out, len + 1);
    memcpy(out->data + out->len, line + (dot ? 1 : 0), len);
    out->len += len;
    out->data[out->len++] = '\n';
    out->data[out->len] = '\0';
}

/*
 * data_reader_eol - an LF ended the current line, whose first octets are
 * at line (the input, or r->line for a line cut between calls). Returns
 * true when it was the end-of-data line.
 */
static bool
data_reader_eol(struct data_reader *r, const char *line, struct buf *out)
{
    bool crlf = r->pending_cr;
    size_t content = r->line_octets - (crlf ? 1 : 0);
    bool dot;

    if (!crlf)
        r->errors |= DATA_ERR_BARE_LF;
    if (r->mode == DATA_MODE_DOT && crlf && content == 1 && line[0] == '.' &&
        !r->after_bare_lf) {
        data_reader_next_line(r);
        return true;
    }
    /* RFC 5321 4.5.2: the first dot of a line is removed. */
    dot = r->mode == DATA_MODE_DOT && content > 0 && line[0] == '.';
    if (r->max_line != 0 && content - (dot ? 1 : 0) + 2 > r->max_line)
        r->errors |= DATA_ERR_LONG_LINE;
    r->size += content - (dot ? 1 : 0) + 2;
    if (r->max_size != 0 && r->size > r->max_size)
        r->errors |= DATA_ERR_TOO_BIG;
    /* With no error, the whole line is at line: the stash only drops
     * octets once an error is set or the line is too long. */
    if (r->errors == 0)
        data_reader_emit(line, content, dot, out);
    r->after_bare_lf = !crlf;
    data_reader_next_line(r);
    return false;
}

/* data_reader_feed - take in[0..n); see data_reader.h. */
size_t
data_reader_feed(struct data_reader *r, const char *in, size_t n,
                 struct buf *out)
{
    const char *p = in, *end = in + n;

    if (r->done)
        return 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *line = p;

        data_reader_scan(r, p, len);
        if (nl == NULL || r->line_octets > len) {
            /* the line began in an earlier call, or goes on in a later one */
            data_reader_stash(r, p, len);
            line = r->line.data;
        }
        if (nl == NULL)
            return n;
        p = nl + 1;
        if (data_reader_eol(r, line, out)) {
            r->done = true;
            break;
        }
    }
    return (size_t)(p - in);
}

/* data_reader_finish - end of RAW input; see data_reader.h. */
void
data_reader_finish(struct data_reader *r, struct buf *out)
{
    size_t content = r->line_octets;

    /* DOT mode ends only at CRLF "." CRLF; nothing to do here. */
    if (r->mode != DATA_MODE_RAW || content == 0)
        return;
    if (r->pending_cr)
        r->errors |= DATA_ERR_BARE_CR;      /* a lone CR, not a CRLF */
    if (r->max_line != 0 && content + 2 > r->max_line)
        r->errors |= DATA_ERR_LONG_LINE;
    r->size += content + 2;
    if (r->max_size != 0 && r->size > r->max_size)
        r->errors |= DATA_ERR_TOO_BIG;
    if (r->errors == 0)
        data_reader_emit(r->line.data, content, false, out);
    data_reader_next_line(r);
}
