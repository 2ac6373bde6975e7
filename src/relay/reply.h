/*
 * reply - SMTP replies as the client reads them (RFC 5321 4.2), and the
 * capabilities an EHLO reply announces. Pure functions over bytes.
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 */
#ifndef POSTINO_RELAY_REPLY_H
#define POSTINO_RELAY_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define REPLY_MAX_LINES 100     /* a longer reply is a protocol error */

struct smtp_reply {
    int        code;            /* 200..599; 0 until the first line */
    char       enhanced[16];    /* "5.1.1" when the first line has one (RFC 2034), else "" */
    struct buf text;            /* the lines' text (after "NNN-"/"NNN "), joined by "\n" */
    size_t     nlines;
    bool       done;            /* the last line ("NNN ") has been read */
};

void reply_init(struct smtp_reply *r);
void reply_free(struct smtp_reply *r);
/* reply_reset - forget the reply, keep the storage */
void reply_reset(struct smtp_reply *r);

/*
 * reply_feed_line - add one line (without its CRLF or LF). Returns 1 when
 * the reply is complete, 0 when more lines are needed, -1 when the line
 * is not a reply line (bad code, code changing between lines, missing
 * separator, too many lines): the peer is not speaking SMTP.
 */
int reply_feed_line(struct smtp_reply *r, const char *line, size_t len);

/* reply_class - 2, 3, 4 or 5 */
int reply_class(const struct smtp_reply *r);

/*
 * reply_oneline - "550 5.1.1 text of the first line; more" in one line
 * of at most outlen-1 octets, control characters replaced, for logs,
 * Diagnostic-Code fields and the queue.
 */
void reply_oneline(const struct smtp_reply *r, char *out, size_t outlen);

/* What an EHLO reply offers (RFC 5321 4.1.1.1, one keyword per line). */
struct ehlo_caps {
    bool     pipelining;        /* RFC 2920 */
    bool     starttls;          /* RFC 3207 */
    bool     eightbitmime;      /* RFC 6152 */
    bool     smtputf8;          /* RFC 6531 */
    bool     dsn;               /* RFC 3461 */
    bool     chunking;          /* RFC 3030 */
    bool     enhancedstatuscodes;
    bool     size;              /* RFC 1870 */
    unsigned long long size_max;    /* 0 = no limit given */
    bool     auth_plain, auth_login;    /* RFC 4954 "AUTH ..." (also "AUTH=...") */
};

/* ehlo_parse - read the capabilities from a complete 250 EHLO reply */
void ehlo_parse(const struct smtp_reply *r, struct ehlo_caps *caps);

#endif
