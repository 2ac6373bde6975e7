/*
 * dsn - delivery status notifications (RFC 3464 in a multipart/report,
 * RFC 6522): the bounce, the delay warning and the success notice that
 * go back to a message's sender. Pure: builds the message text; the
 * caller queues it from "<>" (a bounce never bounces).
 *
 * The first part explains in plain sentences what happened and what the
 * sender can do; the second is the machine-readable message/delivery-status;
 * the third is the original's header (text/rfc822-headers, RET=HDRS or
 * unset) or the whole original (message/rfc822, RET=FULL).
 */
#ifndef POSTINO_QUEUE_DSN_H
#define POSTINO_QUEUE_DSN_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

enum dsn_kind { DSN_FAILED, DSN_DELAYED, DSN_DELIVERED };

struct dsn_rcpt {
    const char *address;        /* the address as the sender gave it (Final-Recipient) */
    const char *orcpt;          /* ORCPT "rfc822;..." as received (xtext, decoded here) or NULL */
    const char *status;         /* "5.1.1", "4.4.1", "2.0.0"; NULL or malformed: X.0.0 */
    const char *remote_mta;     /* host name of the server that answered, or NULL */
    const char *diagnostic;     /* that server's reply in one line, or NULL */
    const char *explanation;    /* one or two plain sentences for people; NULL: a default */
    const char *action;         /* NULL: from the report's kind; "relayed" when a
                                   server without DSN took it (RFC 3461 5.2.2) */
};

struct dsn_info {
    enum dsn_kind kind;
    const char *reporting_mta;  /* our hostname */
    const char *sender;         /* who gets the report (the original sender) */
    const char *envid;          /* ENVID as received (xtext, decoded here) or NULL */
    int         ret_full;       /* RET=FULL: include the whole message */
    time_t      arrival;        /* when we accepted the original */
    time_t      now;            /* Date:, and Last-Attempt-Date */
    time_t      retry_until;    /* DSN_DELAYED: Will-Retry-Until */
    const char *message_id;     /* Message-ID for the report, "<...>"; NULL: none */
    const char *boundary;       /* MIME boundary: unique, e.g. the queue id */
};

/*
 * dsn_compose - append the whole report message (header and body, LF line
 * ends, the queue's form) to out. orig[0..orig_len) is the original in the
 * queue's LF form. Lines are kept within 998 octets; the original's
 * header section alone is used unless ret_full (and also then when a line
 * of the original is longer than 998 octets). The boundary is lengthened
 * (".1", ".2", ...) when a line of the content starts with it.
 */
void dsn_compose(struct buf *out, const struct dsn_info *info,
                 const struct dsn_rcpt *rcpts, size_t n,
                 const char *orig, size_t orig_len);

#endif
