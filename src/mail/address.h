/*
 * address - RFC 5321 paths and mailboxes, parsed strictly.
 *
 * Pure functions over bytes: no I/O, no globals, no allocation. The
 * caller passes the text after "MAIL FROM:" / "RCPT TO:" and gets the
 * mailbox and the offset where the ESMTP parameters begin.
 *
 * Grammar (RFC 5321 4.1.2, with RFC 6531 3.3 for SMTPUTF8):
 *   Path          = "<" [ A-d-l ":" ] Mailbox ">"    (source route ignored, 4.1.1.3/C)
 *   Mailbox       = Local-part "@" ( Domain / address-literal )
 *   Local-part    = Dot-string / Quoted-string
 * Limits (4.5.3.1.1, 4.5.3.1.2): local part 64 octets, domain 255 octets.
 */
#ifndef POSTINO_MAIL_ADDRESS_H
#define POSTINO_MAIL_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>

#define ADDR_LOCAL_MAX   64
#define ADDR_DOMAIN_MAX  255
#define ADDR_MAX         (ADDR_LOCAL_MAX + 1 + ADDR_DOMAIN_MAX)

struct mailbox {
    char local[ADDR_LOCAL_MAX + 1];   /* as written; a quoted local part keeps its quotes */
    char domain[ADDR_DOMAIN_MAX + 1]; /* as written; "[...]" for an address literal;
                                         "" for the null path and for <Postmaster> */
    bool null;      /* the null reverse-path "<>" */
    bool quoted;    /* local part is a Quoted-string */
    bool literal;   /* domain is an address literal */
    bool utf8;      /* has octets >= 0x80 (needs SMTPUTF8) */
};

/* Flags for path_parse(). */
#define PATH_ALLOW_NULL        0x01   /* "<>" is accepted (reverse-path) */
#define PATH_ALLOW_POSTMASTER  0x02   /* "<Postmaster>", any case (RCPT, 4.1.1.3) */
#define PATH_UTF8              0x04   /* UTF-8 local parts and domains (RFC 6531) */

enum addr_status {
    ADDR_OK = 0,
    ADDR_SYNTAX,            /* not a path: 501 5.1.3 (5.1.7 for MAIL) */
    ADDR_LOCAL_TOO_LONG,    /* 501 5.1.3 */
    ADDR_DOMAIN_TOO_LONG,   /* 501 5.1.3 */
    ADDR_NEED_UTF8,         /* octets >= 0x80 without PATH_UTF8: 553 5.6.7 */
};

/*
 * path_parse - parse a path at s[0..n).
 *
 * Leading spaces are skipped (clients write "MAIL FROM: <a@b>"). The path
 * must be in angle brackets. On ADDR_OK, *mb is filled and *consumed is
 * the number of bytes up to and including the ">" (parameters follow).
 * A source route "<@a,@b:user@c>" is accepted and dropped. A domain with
 * a trailing dot is a syntax error. Returns an enum addr_status.
 */
enum addr_status path_parse(const char *s, size_t n, unsigned flags,
                            struct mailbox *mb, size_t *consumed);

/*
 * mailbox_format - write "local@domain" (or "" for the null path, or
 * "Postmaster" when domain is empty) into out (size outlen >= ADDR_MAX+1).
 */
void mailbox_format(const struct mailbox *mb, char *out, size_t outlen);

/*
 * domain_valid - true when s is a syntactically valid domain name
 * (RFC 5321 Domain: LDH labels of 1-63 octets, total <= 255, no
 * trailing dot); with utf8, octets >= 0x80 are allowed in labels.
 */
bool domain_valid(const char *s, size_t n, bool utf8);

/*
 * local_unquote - the semantic local part: a quoted local part with its
 * quotes and backslash escapes removed, otherwise a copy. out must hold
 * ADDR_LOCAL_MAX + 1 bytes. Returns the length.
 */
size_t local_unquote(const char *local, char *out, size_t outlen);

#endif
