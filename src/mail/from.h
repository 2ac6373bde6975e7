/*
 * from - the author's domain of a message: the RFC5322.From domain that
 * DMARC evaluates (RFC 7489 3.1, 6.6.1). Pure functions over bytes.
 *
 * A message qualifies only when its header section has exactly one From
 * field holding exactly one mailbox with a domain; anything else is an
 * error the caller reports (RFC 7489 6.6.1 leaves rejecting such mail to
 * the receiver). The field is parsed as RFC 5322 3.4 says, obsolete forms
 * (4.4) included: display names (atoms, quoted strings, unquoted dots),
 * comments anywhere (nested), folding, routes ("<@a,@b:user@c>"),
 * white space and comments around the dots of an address, empty list
 * elements, and group syntax (RFC 6854: the mailboxes of a group count,
 * an empty group is no address). Encoded words (RFC 2047) in a display
 * name are taken as one word each, so that "=?utf-8?q?Smith,_John?=" is a
 * name, not a list; an encoded word in an address is a syntax error
 * (RFC 2047 5). UTF-8 is accepted where RFC 6532 allows it.
 *
 * The domain is returned with its ASCII letters in lower case. IDNA: a
 * U-label stays in UTF-8 as written (only ASCII is lower-cased, no NFC);
 * the caller converts to A-labels (libidn2) before any DNS lookup. An
 * A-label ("xn--...") is returned as written, lower-cased.
 *
 * A domain must be a host name: letters, digits, '-', '_' and UTF-8 in
 * non-empty labels of at most 63 octets (ASCII labels), no trailing dot.
 * The local part is checked only loosely (DMARC does not look at it):
 * dot-separated words, consecutive dots tolerated.
 */
#ifndef POSTINO_MAIL_FROM_H
#define POSTINO_MAIL_FROM_H

#include <stddef.h>

#define FROM_DOMAIN_MAX  256    /* octets of a domain, with its NUL */
#define FROM_ADDRESS_MAX 1024   /* octets of local@domain, with its NUL */
#define FROM_FIELD_MAX   16384  /* octets of a field body (folded); real ones
                                 * are under 1000, and the parser's memory
                                 * grows with the body */

enum from_status {
    FROM_OK,
    FROM_NONE,              /* no From field */
    FROM_SEVERAL_FIELDS,    /* more than one From field */
    FROM_NO_ADDRESS,        /* a From field with no mailbox (empty, empty group) */
    FROM_SEVERAL_ADDRESSES, /* more than one mailbox */
    FROM_SYNTAX,            /* the field cannot be parsed */
    FROM_NO_DOMAIN,         /* the mailbox has no domain, or an address literal */
    FROM_TOO_LONG,          /* field body, domain or address over the limits above */
};

struct from_addr {
    char domain[FROM_DOMAIN_MAX];   /* lower-case ASCII, U-labels in UTF-8 */
    /*
     * local@domain for logs: the local part as written (quoted strings
     * with their quotes, folding removed), the domain as above. Not
     * escaped: it may hold any octet but NUL, CR and LF.
     */
    char address[FROM_ADDRESS_MAX];
};

/*
 * from_extract - the From domain of msg[0..n) (queue form: LF line ends,
 * header section, empty line, body). Returns FROM_OK and fills *out, or
 * an error; on error *out holds empty strings, except FROM_NO_DOMAIN
 * which leaves the address (the local part) for the log.
 */
enum from_status from_extract(const char *msg, size_t n, struct from_addr *out);

/*
 * from_parse - the same for one field body v[0..n): what follows the
 * colon up to, not including, the LF that ends the field (continuation
 * lines included, their LFs kept). Never FROM_NONE or FROM_SEVERAL_FIELDS.
 */
enum from_status from_parse(const char *v, size_t n, struct from_addr *out);

/*
 * from_list - every mailbox of an address-list field body v[0..n) (To,
 * Cc, Bcc: sendmail -t), in order, groups opened: each(arg, st, addr)
 * with st FROM_OK, FROM_NO_DOMAIN (a local part alone) or FROM_TOO_LONG.
 * Returns FROM_OK, or FROM_SYNTAX / FROM_TOO_LONG for the whole field
 * (each may have been called for the mailboxes before the error).
 */
typedef void (*from_each_fn)(void *arg, enum from_status st, const struct from_addr *addr);
enum from_status from_list(const char *v, size_t n, from_each_fn each, void *arg);

/* from_status_text - a short English phrase for logs and replies */
const char *from_status_text(enum from_status st);

#endif
