/*
 * message - what IMAP FETCH and SEARCH need from one message's bytes
 * (RFC 9051, IMAP4rev1 clients per RFC 3501): RFC822.SIZE, ENVELOPE,
 * BODY and BODYSTRUCTURE, BODY[section]<partial>, BINARY[part] and
 * BINARY.SIZE (RFC 3516), header/body/text searches and the Date: of
 * SENTBEFORE/SENTON/SENTSINCE.
 *
 * Pure functions over bytes: no I/O, no globals. The session reads the
 * Maildir file, makes it CRLF with imap_msg_crlf, and hands that copy to
 * imap_msg_parse. This module knows nothing of flags, UIDs, mailboxes or
 * the FETCH grammar. ENVELOPE keeps RFC 2047 encoded words as they are
 * (clients decode them); SEARCH decodes them into UTF-8 (mime.h,
 * mime_decode_words) and compares octets, ASCII letters in any case.
 */
#ifndef POSTINO_IMAP_MESSAGE_H
#define POSTINO_IMAP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/mime.h"

struct buf;

/* A parsed message. data/len are the caller's bytes (CRLF form), which
 * must outlive the struct; root is the MIME tree (see mime.h). */
struct imap_msg {
    const char       *data;
    size_t            len;
    struct mime_part  root;
    size_t            nparts;
};

/*
 * imap_msg_crlf - a copy of p[0..n) with every LF that has no CR before
 * it made CRLF. A bare CR stays as it is (it is no line end for us, and
 * changing it would change the content). A last line without LF is left
 * without one. Returns the copy (NUL-terminated, free() it) and its size
 * in *outlen, which is RFC822.SIZE.
 */
char *imap_msg_crlf(const char *p, size_t n, size_t *outlen);

/* imap_msg_crlf_size - the size imap_msg_crlf would give, without the copy */
size_t imap_msg_crlf_size(const char *p, size_t n);

/*
 * imap_msg_parse - parse the message data[0..len) (CRLF form; other
 * bytes are parsed safely but line counts and sizes are then of what
 * was given). Never fails. Free with imap_msg_free().
 */
struct imap_msg *imap_msg_parse(const char *data, size_t len);

/* imap_msg_free - release m; NULL is harmless. m->data is not freed. */
void imap_msg_free(struct imap_msg *m);

/*
 * imap_msg_envelope - append the ENVELOPE of the header hdr[0..len)
 * (RFC 9051 7.5.2), parentheses included: date subject from sender
 * reply-to to cc bcc in-reply-to message-id. The first field of each
 * name counts. Strings are the unfolded values (leading white space
 * dropped), NIL when the field is absent. Sender and Reply-To default
 * to From when absent or with no address. Address lists (RFC 5322 3.4,
 * lenient): ("name" adl "mailbox" "host"), groups as (NIL NIL "group"
 * NIL) ... (NIL NIL NIL NIL), NIL for an empty list; a missing local
 * part or domain is "MISSING_MAILBOX" / "MISSING_DOMAIN" as in Dovecot.
 */
void imap_msg_envelope(struct buf *out, const char *hdr, size_t len);

/*
 * imap_msg_bodystructure - append BODYSTRUCTURE (ext = true) or BODY
 * (ext = false) of m, parentheses included (RFC 9051 7.5.2). Text parts
 * without a charset get ("charset" "us-ascii"); the encoding defaults to
 * "7bit"; body-fld-md5 is NIL.
 */
void imap_msg_bodystructure(struct buf *out, const struct imap_msg *m, bool ext);

/*
 * imap_msg_part - the part numbered part[0..n) (RFC 9051 6.4.5), or the
 * whole message's root when n is 0; NULL when there is no such part.
 * Part 1 of a non-multipart message is the message itself (its body);
 * below a message/rfc822 part the numbers go on in the enclosed message
 * the same way; a leaf has no subparts.
 */
const struct mime_part *imap_msg_part(const struct imap_msg *m, const uint32_t *part, size_t n);

/* The section-spec of BODY[...] after the part numbers (RFC 9051 6.4.5).
 * The values are those of enum imap_section_text of imap/imap_parse.h,
 * so the session may convert one into the other. */
enum imap_msg_sect {
    IMAP_MSG_SECT_ALL = 0,      /* BODY[] / BODY[1.2]: the whole part */
    IMAP_MSG_SECT_HEADER,
    IMAP_MSG_SECT_FIELDS,       /* HEADER.FIELDS (names) */
    IMAP_MSG_SECT_FIELDS_NOT,   /* HEADER.FIELDS.NOT (names) */
    IMAP_MSG_SECT_TEXT,
    IMAP_MSG_SECT_MIME,         /* needs at least one part number */
};

/*
 * imap_msg_section - the bytes of the section part[0..nparts) + kind of
 * m, part numbers as for imap_msg_part. *p, *n point into m->data, or
 * into scratch for HEADER.FIELDS(.NOT): scratch is reset and filled with
 * the fields named in fields[0..nfields) (any case), or all the others,
 * whole and in message order, then an empty line. Without part numbers
 * HEADER and TEXT are the message's; with them, HEADER, FIELDS and TEXT
 * need a message/rfc822 (or global) part and are its enclosed message's,
 * and MIME is the part's own header. Returns false, with *p = "" and
 * *n = 0, when the part does not exist or the kind does not apply to it
 * (MIME without part number, HEADER of a text part); the session then
 * sends an empty string.
 */
bool imap_msg_section(const struct imap_msg *m, const uint32_t *part, size_t nparts,
                      enum imap_msg_sect kind, char *const *fields, size_t nfields,
                      struct buf *scratch, const char **p, size_t *n);

/*
 * imap_msg_partial - the <off.len> slice of p[0..n) (RFC 9051 6.4.5):
 * empty when off is past the end, cut at the end otherwise.
 */
void imap_msg_partial(const char *p, size_t n, uint64_t off, uint64_t len,
                      const char **rp, size_t *rn);

enum imap_bin_err {
    IMAP_BIN_OK = 0,
    IMAP_BIN_NOPART,        /* no such part */
    IMAP_BIN_UNKNOWN_CTE,   /* NO [UNKNOWN-CTE] (RFC 3516 4.3) */
};

/*
 * imap_msg_binary - BINARY[part] (RFC 3516 4.2): the body of the part
 * decoded from its Content-Transfer-Encoding (base64, quoted-printable;
 * 7bit, 8bit, binary and none as they are) into scratch (reset first);
 * *p, *n point into m->data or scratch. Without part numbers, and for
 * multipart and message parts, the bytes are sent as they are. Returns
 * IMAP_BIN_OK, or an error with *p = "", *n = 0.
 */
enum imap_bin_err imap_msg_binary(const struct imap_msg *m, const uint32_t *part, size_t nparts,
                                  struct buf *scratch, const char **p, size_t *n);

/* imap_msg_binary_size - BINARY.SIZE[part]: the length imap_msg_binary
 * gives, in *size; same errors */
enum imap_bin_err imap_msg_binary_size(const struct imap_msg *m, const uint32_t *part,
                                       size_t nparts, size_t *size);

/*
 * imap_msg_header_search - SEARCH HEADER/FROM/TO/CC/BCC/SUBJECT (RFC 9051
 * 6.4.4): is needle[0..nlen) in the unfolded value of some field called
 * name of the message's header? ASCII letters match in any case; other
 * octets exactly. An empty needle matches when the field exists.
 */
bool imap_msg_header_search(const struct imap_msg *m, const char *name,
                            const char *needle, size_t nlen);

/*
 * imap_msg_body_search - SEARCH BODY: is needle in the body? Each leaf
 * part is searched on its own: text/ * parts decoded from base64 or
 * quoted-printable, everything else as it is. Case as above; an empty
 * needle always matches.
 */
bool imap_msg_body_search(const struct imap_msg *m, const char *needle, size_t nlen);

/* imap_msg_text_search - SEARCH TEXT: the unfolded header or the body */
bool imap_msg_text_search(const struct imap_msg *m, const char *needle, size_t nlen);

/*
 * imap_msg_date_parse - an RFC 5322 3.3 date-time s[0..n), obsolete
 * forms too (4.3: 2- and 3-digit years, named zones, missing seconds,
 * comments): *t is the instant (UTC) and *tzoff the zone in seconds east
 * of UTC, so the date the sender saw is that of *t + *tzoff (SENTON
 * disregards time and zone). A missing zone counts as +0000. Returns
 * false for anything else, *t and *tzoff untouched.
 */
bool imap_msg_date_parse(const char *s, size_t n, time_t *t, int *tzoff);

/* imap_msg_sent_date - imap_msg_date_parse of the message's first Date:
 * field; false when there is none or it is not a date */
bool imap_msg_sent_date(const struct imap_msg *m, time_t *t, int *tzoff);

#endif
