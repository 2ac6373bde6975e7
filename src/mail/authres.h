/*
 * authres - the Authentication-Results header field (RFC 8601): writing
 * ours, and removing forged ones from a message. Pure functions over
 * bytes, in the queue's LF form.
 *
 * Also the quarantine mark. A message that DMARC says to quarantine is
 * still delivered; it carries one more field, AUTHRES_QUARANTINE_FIELD
 * ("X-Postino-Quarantine: dmarc"), that the local delivery (or the user's
 * Sieve script) uses to file it as junk. A field of our own name rather
 * than X-Spam-Flag: it means "we decided this", and it is trusted only
 * because authres_strip() removes every copy of it that arrives from
 * outside, like our Authentication-Results.
 *
 * This module does not decide anything: the results come from SPF, DKIM
 * and DMARC, as their RFC 8601 keywords ("pass", "fail", "temperror"...).
 */
#ifndef POSTINO_MAIL_AUTHRES_H
#define POSTINO_MAIL_AUTHRES_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define AUTHRES_FIELD            "Authentication-Results"
#define AUTHRES_QUARANTINE_FIELD "X-Postino-Quarantine"
#define AUTHRES_WIDTH            78     /* fold lines longer than this (RFC 5322 2.1.1) */
#define AUTHRES_B_PREFIX         8      /* characters of b= in header.b (RFC 6008 3) */

/*
 * One method's result. result is a result keyword (RFC 8601 2.7: lower-
 * case letters); anything else is written as "permerror". Property values
 * are written as they are when they are RFC 2045 tokens or addresses
 * ([local-part] "@" domain), else as quoted strings (RFC 8601 2.2);
 * control characters become '?'. NULL or "" values are left out.
 */
struct authres_spf {
    const char *result;     /* RFC 7208 2.6: pass, fail, softfail, neutral, none, ... */
    const char *domain;     /* the identity checked: the MAIL FROM domain, or the HELO name */
    bool        helo;       /* domain is a HELO name: smtp.helo= rather than smtp.mailfrom= */
};

struct authres_dkim {
    const char *result;     /* RFC 6376 / 8601 2.7.1: pass, fail, neutral, policy, ... */
    const char *d;          /* header.d */
    const char *s;          /* header.s */
    const char *b;          /* the signature's b= (white space skipped); header.b is
                             * its first AUTHRES_B_PREFIX characters */
};

struct authres_dmarc {
    const char *result;         /* RFC 7489 11.2: pass, fail, none, temperror, permerror */
    const char *policy;         /* for the comment "(p=... dis=...)"; NULL: no comment */
    const char *disposition;    /* "none" (accepted), "quarantine", "reject" */
    const char *from_domain;    /* header.from */
};

struct authres {
    const char                 *authserv_id;   /* our host name */
    const struct authres_spf   *spf;           /* NULL: no spf= */
    bool                        dkim_checked;  /* false: no dkim= */
    const struct authres_dkim  *dkim;          /* one dkim= each; none: "dkim=none" */
    size_t                      ndkim;
    const struct authres_dmarc *dmarc;         /* NULL: no dmarc= */
};

/*
 * authres_format - append the whole field to out, ending in LF:
 *
 *   Authentication-Results: mx.example.org;
 *   <TAB>spf=pass smtp.mailfrom=example.com;
 *   <TAB>dkim=pass header.d=example.com header.s=sel header.b=AbCdEfGh;
 *   <TAB>dmarc=pass (p=reject dis=none) header.from=example.com
 *
 * Each method starts a continuation line (LF TAB); one that would pass
 * AUTHRES_WIDTH columns is folded between its words. With no method at
 * all the field says "none" (RFC 8601 2.2).
 */
void authres_format(const struct authres *ar, struct buf *out);

/*
 * authres_strip - copy msg[0..n) to out (appended) without the
 * Authentication-Results fields that claim to be ours (RFC 8601 5) and
 * without any AUTHRES_QUARANTINE_FIELD; each removed with its
 * continuation lines. A field is ours when its authserv-id (the first
 * value after CFWS: a token or a quoted string) equals authserv_id, in
 * any case, a trailing dot on either side ignored; what follows the id
 * (a version, garbage) does not matter. Other Authentication-Results
 * fields are kept; fields after the header section are body. Returns the
 * number of Authentication-Results fields removed; *nquarantine (when
 * not NULL) gets the number of quarantine fields removed.
 */
size_t authres_strip(const char *msg, size_t n, const char *authserv_id, struct buf *out,
                     size_t *nquarantine);

/*
 * authres_quarantine - append "X-Postino-Quarantine: <reason>" to out,
 * then " (<comment>)" when comment is not NULL or "", and LF. reason is
 * a keyword ("dmarc"); the comment is for people ("p=reject dis=quarantine
 * header.from=example.com"): printable ASCII but parentheses and
 * backslash is kept, every other octet becomes '?', at most 200 of them.
 */
void authres_quarantine(const char *reason, const char *comment, struct buf *out);

#endif
