/*
 * mime - the MIME structure of one message (RFC 2045, RFC 2046), for
 * IMAP FETCH BODYSTRUCTURE, sections and BINARY.
 *
 * Pure functions over the bytes of a message in CRLF form: no I/O, no
 * globals. mime_parse builds a tree of parts that records, for each
 * part, where its header and body lie in the message and what its
 * Content-* fields say. The tree points into nothing: offsets only, and
 * its own copies of the field values, so the message may move.
 *
 * Lines end at LF (a CR before it belongs to the line end), so that a
 * message that is not in CRLF form still parses sensibly; RFC 2047
 * encoded words and RFC 2231 parameter continuations are not decoded
 * (a parameter "name*0" stays as it is). Bounds: MIME_DEPTH_MAX levels
 * of nesting and MIME_PARTS_MAX parts; past them the rest of a part is
 * one opaque application/octet-stream body.
 */
#ifndef POSTINO_IMAP_MIME_H
#define POSTINO_IMAP_MIME_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* Nesting of multiparts and message/rfc822 parts below the top. */
#define MIME_DEPTH_MAX 32
/* Parts in one tree, the top-level message and enclosed messages
 * included. */
#define MIME_PARTS_MAX 5000

/* One header field: the name before the colon, the raw value after it
 * (folded, without the final line end), and the whole field with its
 * continuation lines and final line end, all pointing into the header. */
struct mime_field {
    const char *name;
    size_t      namelen;
    const char *value;
    size_t      valuelen;
    const char *line;
    size_t      linelen;
};

/* A parameter of Content-Type or Content-Disposition (RFC 2045 5.1):
 * NUL-terminated copies, quotes and quoted-pairs removed. */
struct mime_param {
    char *name;
    char *value;
};

enum mime_kind {
    MIME_LEAF = 0,          /* a body with no parts we look into */
    MIME_MULTIPART,         /* multipart/ *: parts[] */
    MIME_MESSAGE,           /* message/rfc822, message/global: msg */
};

/*
 * One part. Offsets are into the message given to mime_parse. The header
 * is hdr_off..hdr_off+hdr_len, its ending empty line included when there
 * is one; the body follows it directly (body_off = hdr_off + hdr_len).
 * A part with no empty line is all header and an empty body. Strings are
 * NUL-free and NUL-terminated, NULL when the field is absent.
 */
struct mime_part {
    size_t             hdr_off, hdr_len;
    size_t             body_off, body_len;
    size_t             lines;           /* LF octets in the body */
    enum mime_kind     kind;
    char              *type, *subtype;  /* as written (case kept); never NULL:
                                           text/plain by default (RFC 2045 5.2) */
    struct mime_param *params;
    size_t             nparams;
    char              *id;              /* Content-ID, unfolded */
    char              *description;     /* Content-Description, unfolded */
    char              *encoding;        /* Content-Transfer-Encoding token */
    char              *disposition;     /* Content-Disposition type */
    struct mime_param *dparams;
    size_t             ndparams;
    char             **language;        /* Content-Language tags */
    size_t             nlanguage;
    char              *location;        /* Content-Location, unfolded */
    struct mime_part  *parts;           /* MIME_MULTIPART: nparts >= 1 */
    size_t             nparts;
    struct mime_part  *msg;             /* MIME_MESSAGE: the enclosed message,
                                           whose header starts the body */
};

/*
 * mime_parse - parse the message msg[0..len) into *top (which the caller
 * provides; it is overwritten). Never fails: a broken structure gives a
 * degraded tree (RFC 2046 5.1.1: no final boundary ends the last part at
 * the end of the body; a multipart with no boundary or no parts gets one
 * empty text/plain part, as Dovecot does). Returns the number of parts
 * in the tree (1..MIME_PARTS_MAX). Free with mime_part_free().
 */
size_t mime_parse(const char *msg, size_t len, struct mime_part *top);

/* mime_part_free - release what mime_parse allocated below *p (not p) */
void mime_part_free(struct mime_part *p);

/*
 * mime_field_next - the next header field of hdr[0..len) from *pos on:
 * fills *f, advances *pos past it and returns true; false at the empty
 * line or the end. Lines that are neither a field ("name:", the name
 * free of spaces and controls, RFC 5322 2.2) nor a continuation of one
 * are skipped.
 */
bool mime_field_next(const char *hdr, size_t len, size_t *pos, struct mime_field *f);

/*
 * mime_field_find - the first field called name (any case) in
 * hdr[0..len): fills *f and returns true, or returns false.
 */
bool mime_field_find(const char *hdr, size_t len, const char *name, struct mime_field *f);

/*
 * mime_unfold - append to out the value v[0..n) unfolded (RFC 5322
 * 2.2.3: every line end removed, so CRLF WSP becomes WSP) with leading
 * white space dropped and NUL octets replaced by 0x80. Other octets
 * (bare CR, 8-bit, trailing spaces) are kept.
 */
void mime_unfold(struct buf *out, const char *v, size_t n);

/* The content transfer encodings that mime_decode knows. */
enum mime_cte {
    MIME_CTE_IDENTITY = 0,  /* absent, 7bit, 8bit, binary */
    MIME_CTE_BASE64,
    MIME_CTE_QP,            /* quoted-printable */
    MIME_CTE_UNKNOWN,
};

/* mime_cte - the encoding of a part, from its Content-Transfer-Encoding */
enum mime_cte mime_cte(const struct mime_part *p);

/*
 * mime_decode - append to out the body p[0..n) decoded from cte.
 * base64 (RFC 2045 6.8): octets outside the alphabet are ignored, "="
 * ends the data, a partial last quantum gives what it holds.
 * quoted-printable (RFC 2045 6.7): "=XX" (either case) is an octet,
 * "=" at the end of a line is a soft line break, white space at the end
 * of a line is dropped, any other "=" stays as it is. The identity
 * encoding copies. Returns false, appending nothing, for MIME_CTE_UNKNOWN.
 */
bool mime_decode(struct buf *out, enum mime_cte cte, const char *p, size_t n);

/*
 * mime_decode_words - append to out the header text p[0..n) (unfolded)
 * with its RFC 2047 encoded words "=?charset?Q|B?text?=" decoded into
 * UTF-8, for SEARCH (RFC 9051 6.4.4 asks for them decoded): white space
 * between two encoded words goes (RFC 2047 6.2), Q's "_" is a space, an
 * RFC 2231 "*language" is ignored, UTF-8 and US-ASCII are taken as they
 * are, other charsets go through iconv(3). A word that is malformed or in
 * a charset iconv does not know stays as it was written.
 */
void mime_decode_words(struct buf *out, const char *p, size_t n);

#endif
