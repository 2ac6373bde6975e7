/*
 * dsn - delivery status notifications; see dsn.h.
 *
 * The report is a multipart/report (RFC 6522) of three parts:
 *   1. text/plain, for the sender: what happened to each recipient, in
 *      sentences, with the remote server's reply when there was one;
 *   2. message/delivery-status (RFC 3464): the same for programs;
 *   3. the original's header section (text/rfc822-headers) or, with
 *      RET=FULL, the whole original (message/rfc822).
 *
 * The output depends on the arguments alone (no clock, no randomness), so
 * that it can be compared with golden text. Lines end in LF, the queue's
 * form, and none is longer than 998 octets (RFC 5322 2.1.1): fields are
 * folded at spaces, a run without spaces too long for a line is split,
 * and diagnostic text is cut at DSN_DIAG_MAX. The boundary is the
 * caller's, made safe, and lengthened if a line of the content would
 * start with it (RFC 2046 5.1.1).
 *
 * This module does not decide when a report is due (NOTIFY, the null
 * sender), does not queue it, and does not make RFC 6533 utf-8 reports:
 * an address with non-ASCII octets stays in an rfc822 field, and the
 * parts that hold such octets are labelled 8bit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mail/header.h"
#include "queue/dsn.h"

#define DSN_LINE_MAX     998    /* RFC 5322 2.1.1, without the CRLF */
#define DSN_FOLD         78     /* where folding starts (RFC 5322 2.1.1 SHOULD) */
#define DSN_WRAP         72     /* width of the human-readable text */
#define DSN_DIAG_MAX     2000   /* diagnostic text beyond this is cut */
#define DSN_BOUNDARY_MAX 60     /* RFC 2046 allows 70; room for a suffix */
#define DSN_INDENT       "    "

static const char *const dsn_wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const dsn_mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const dsn_month[] = { "January", "February", "March", "April", "May",
                                         "June", "July", "August", "September", "October",
                                         "November", "December" };

static void dsn_tm(time_t t, struct tm *tm);
static void dsn_date(char *out, size_t outlen, time_t t);
static void dsn_human_date(char *out, size_t outlen, time_t t);
static bool dsn_is_space(char c);
static void dsn_put(struct buf *b, const char *s, size_t n);
static void dsn_fill(struct buf *b, size_t col, const char *cont, const char *s, size_t n,
                     size_t soft);
static void dsn_field(struct buf *b, const char *name, const char *value, size_t soft);
static void dsn_para(struct buf *b, const char *indent, const char *text);
static void dsn_xtext_decode(struct buf *out, const char *s);
static bool dsn_status_valid(const char *s);
static void dsn_cut(struct buf *out, const char *s, size_t max);
static bool dsn_has_8bit(const struct buf *b);
static bool dsn_long_lines(const char *s, size_t n);
static void dsn_copy_lines(struct buf *b, const char *s, size_t n);
static bool dsn_collides(const struct buf *b, const char *bnd, size_t blen);
static void dsn_boundary(struct buf *out, const char *base, const struct buf *const *parts,
                         size_t nparts);
static void dsn_human(struct buf *b, const struct dsn_info *info, const struct dsn_rcpt *rcpts,
                      size_t n, bool full);
static void dsn_status(struct buf *b, const struct dsn_info *info, const struct dsn_rcpt *rcpts,
                       size_t n);

/* dsn_tm - t as UTC broken down; the epoch when it does not fit */
static void
dsn_tm(time_t t, struct tm *tm)
{
    time_t zero = 0;

    if (!gmtime_r(&t, tm))
        gmtime_r(&zero, tm);
}

/* dsn_date - t in RFC 5322 3.3 form, in UTC: "Tue, 02 Jan 2024 03:04:05 +0000" */
static void
dsn_date(char *out, size_t outlen, time_t t)
{
    struct tm tm;

    dsn_tm(t, &tm);
    snprintf(out, outlen, "%s, %02d %s %04d %02d:%02d:%02d +0000", dsn_wday[tm.tm_wday % 7],
             tm.tm_mday, dsn_mon[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* dsn_human_date - t for people: "2 January 2024 at 03:04 UTC" */
static void
dsn_human_date(char *out, size_t outlen, time_t t)
{
    struct tm tm;

    dsn_tm(t, &tm);
    snprintf(out, outlen, "%d %s %04d at %02d:%02d UTC", tm.tm_mday, dsn_month[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min);
}

/* dsn_is_space - white space between words (line ends count as spaces) */
static bool
dsn_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* dsn_put - append s[0..n), other control characters as "?" */
static void
dsn_put(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        buf_putc(b, c < 0x20 || c == 0x7f ? '?' : (char)c);
    }
}

/*
 * dsn_fill - append the words of s[0..n) to a line already col octets
 * long, one space apart. Past soft columns the line breaks: "\n" then
 * cont (" " folds a header field, RFC 5322 2.2.3; an indent wraps text).
 * A word that does not fit in DSN_LINE_MAX is split, between UTF-8
 * characters when it can be. Writes no line end at the end.
 */
static void
dsn_fill(struct buf *b, size_t col, const char *cont, const char *s, size_t n, size_t soft)
{
    size_t i = 0, clen = strlen(cont);
    bool first = true;

    while (i < n) {
        while (i < n && dsn_is_space(s[i]))
            i++;
        if (i == n)
            break;
        size_t start = i;
        while (i < n && !dsn_is_space(s[i]))
            i++;
        const char *w = s + start;
        size_t wl = i - start;

        if (!first) {
            if (col + 1 + wl > soft && col > clen) {
                buf_putc(b, '\n');
                buf_puts(b, cont);
                col = clen;
            } else {
                buf_putc(b, ' ');
                col++;
            }
        }
        first = false;
        /* Invariant: col < DSN_LINE_MAX here, so room > 0. */
        while (col + wl > DSN_LINE_MAX) {
            size_t room = DSN_LINE_MAX - col, r = room;
            while (r > 0 && ((unsigned char)w[r] & 0xC0) == 0x80)
                r--;
            if (r == 0)
                r = room;
            dsn_put(b, w, r);
            buf_putc(b, '\n');
            buf_puts(b, cont);
            col = clen;
            w += r;
            wl -= r;
        }
        dsn_put(b, w, wl);
        col += wl;
    }
}

/* dsn_field - "Name: value\n", folded past soft columns */
static void
dsn_field(struct buf *b, const char *name, const char *value, size_t soft)
{
    buf_printf(b, "%s:", name);
    if (*value) {
        buf_putc(b, ' ');
        dsn_fill(b, strlen(name) + 2, " ", value, strlen(value), soft);
    }
    buf_putc(b, '\n');
}

/* dsn_para - text wrapped at DSN_WRAP, every line indented; nothing when blank */
static void
dsn_para(struct buf *b, const char *indent, const char *text)
{
    size_t n = strlen(text), i = 0;

    while (i < n && dsn_is_space(text[i]))
        i++;
    if (i == n)
        return;
    buf_puts(b, indent);
    dsn_fill(b, strlen(indent), indent, text, n, DSN_WRAP);
    buf_putc(b, '\n');
}

/*
 * dsn_xtext_decode - append s with "+XX" undone (RFC 3461 4). ENVID and
 * ORCPT arrive and are queued as xtext; RFC 3461 4.2 and 4.4 require the
 * decoded value to be printable US-ASCII because it is what goes into
 * the report. A "+" not followed by two hex digits is kept as it is.
 */
static void
dsn_xtext_decode(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF0123456789abcdef";

    for (size_t i = 0; s[i]; i++) {
        const char *h1, *h2;
        if (s[i] == '+' && s[i + 1] && s[i + 2] && (h1 = strchr(hex, s[i + 1]))
            && (h2 = strchr(hex, s[i + 2]))) {
            buf_putc(out, (char)(((h1 - hex) % 16) * 16 + (h2 - hex) % 16));
            i += 2;
        } else
            buf_putc(out, s[i]);
    }
}

/* dsn_status_valid - s is class "." 1*3digit "." 1*3digit (RFC 3463 2) */
static bool
dsn_status_valid(const char *s)
{
    if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
        return false;
    s += 2;
    for (int part = 0; part < 2; part++) {
        int d = 0;
        while (d < 3 && *s >= '0' && *s <= '9')
            s++, d++;
        if (d == 0 || *s != (part == 0 ? '.' : '\0'))
            return false;
        s++;
    }
    return true;
}

/* dsn_cut - append s, cut at max octets (between UTF-8 characters) plus "..." */
static void
dsn_cut(struct buf *out, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max) {
        buf_append(out, s, n);
        return;
    }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    buf_append(out, s, max);
    buf_puts(out, "...");
}

/* dsn_has_8bit - does b hold an octet above 127? */
static bool
dsn_has_8bit(const struct buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->data[i] >= 0x80)
            return true;
    return false;
}

/* dsn_long_lines - has s[0..n) a line over DSN_LINE_MAX octets? */
static bool
dsn_long_lines(const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n;
        if (end - i > DSN_LINE_MAX)
            return true;
        i = end + 1;
    }
    return false;
}

/*
 * dsn_copy_lines - append s[0..n), each line cut to DSN_LINE_MAX octets.
 * XXX: a cut header field is damaged, but it is only there to show the
 * sender which message this was.
 */
static void
dsn_copy_lines(struct buf *b, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - s) : n, len = end - i;
        if (len > DSN_LINE_MAX) {
            len = DSN_LINE_MAX;
            while (len > 0 && ((unsigned char)s[i + len] & 0xC0) == 0x80)
                len--;
        }
        buf_append(b, s + i, len);
        if (nl)
            buf_putc(b, '\n');
        i = end + 1;
    }
}

/* dsn_collides - does a line of b start with "--" and the boundary? */
static bool
dsn_collides(const struct buf *b, const char *bnd, size_t blen)
{
    size_t i = 0;

    while (i < b->len) {
        if (b->len - i >= blen + 2 && b->data[i] == '-' && b->data[i + 1] == '-'
            && memcmp(b->data + i + 2, bnd, blen) == 0)
            return true;
        const char *nl = memchr(b->data + i, '\n', b->len - i);
        if (!nl)
            break;
        i = (size_t)(nl - b->data) + 1;
    }
    return false;
}

/*
 * dsn_boundary - the boundary to use: base with the characters RFC 2046
 * 5.1.1 does not allow (and space) made "_", at most DSN_BOUNDARY_MAX
 * long, "=_postino_dsn" when empty; then ".1", ".2", ... added until no
 * line of the parts starts with it.
 */
static void
dsn_boundary(struct buf *out, const char *base, const struct buf *const *parts, size_t nparts)
{
    static const char bchars[] = "0123456789abcdefghijklmnopqrstuvwxyz"
                                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?";
    size_t blen;

    buf_reset(out);
    for (size_t i = 0; base && base[i] && i < DSN_BOUNDARY_MAX; i++)
        buf_putc(out, strchr(bchars, base[i]) ? base[i] : '_');
    if (out->len == 0)
        buf_puts(out, "=_postino_dsn");
    blen = out->len;
    for (unsigned try = 1;; try++) {
        size_t k;
        for (k = 0; k < nparts; k++)
            if (dsn_collides(parts[k], out->data, out->len))
                break;
        if (k == nparts)
            return;
        out->len = blen;
        buf_printf(out, ".%u", try);
    }
}

/* dsn_human - part 1: the explanation for the sender */
static void
dsn_human(struct buf *b, const struct dsn_info *info, const struct dsn_rcpt *rcpts, size_t n,
          bool full)
{
    struct buf t = BUF_INIT;
    char when[64];

    buf_printf(&t, "This is the mail system at %s.", info->reporting_mta);
    dsn_para(b, "", buf_cstr(&t));
    buf_putc(b, '\n');
    switch (info->kind) {
    case DSN_FAILED:
        dsn_para(b, "", "Your message could not be delivered to the recipients listed below. "
                        "The mail system has stopped trying: they have not received it.");
        break;
    case DSN_DELAYED:
        dsn_para(b, "", "Your message has not yet been delivered to the recipients listed "
                        "below. This is only a warning: the mail system is still trying, "
                        "and you do not need to send the message again.");
        break;
    case DSN_DELIVERED:
        dsn_para(b, "", "Your message was delivered to the recipients listed below.");
        break;
    }

    for (size_t i = 0; i < n; i++) {
        const struct dsn_rcpt *r = &rcpts[i];
        const char *expl = r->explanation;

        if (!expl || !*expl)
            expl = info->kind == DSN_FAILED    ? "This address did not accept the message."
                   : info->kind == DSN_DELAYED ? "Delivery to this address has not worked yet."
                                               : "The message was delivered to this address.";
        buf_putc(b, '\n');
        dsn_para(b, "  ", r->address);
        dsn_para(b, DSN_INDENT, expl);
        if (r->diagnostic && *r->diagnostic) {
            buf_reset(&t);
            if (r->remote_mta && *r->remote_mta)
                buf_printf(&t, "The mail server %s replied: ", r->remote_mta);
            else
                buf_puts(&t, "The receiving mail server replied: ");
            dsn_cut(&t, r->diagnostic, DSN_DIAG_MAX);
            dsn_para(b, DSN_INDENT, buf_cstr(&t));
        }
    }

    buf_putc(b, '\n');
    switch (info->kind) {
    case DSN_FAILED:
        dsn_para(b, "", "Please check the addresses and try again, or ask the recipients "
                        "another way. If you need help, forward this report to your mail "
                        "administrator.");
        break;
    case DSN_DELAYED:
        if (info->retry_until) {
            dsn_human_date(when, sizeof(when), info->retry_until);
            buf_reset(&t);
            buf_printf(&t, "The mail system will keep trying until %s. If the message "
                           "cannot be delivered by then, it will come back to you.", when);
            dsn_para(b, "", buf_cstr(&t));
        } else
            dsn_para(b, "", "If the message cannot be delivered in the end, it will come "
                            "back to you.");
        break;
    case DSN_DELIVERED:
        dsn_para(b, "", "Nothing more needs to be done.");
        break;
    }
    buf_putc(b, '\n');
    if (full)
        dsn_para(b, "", "Your message is attached below.");
    else
        dsn_para(b, "", "The header of your message is attached below, so that you can "
                        "tell which message this is.");
    buf_free(&t);
}

/* dsn_status - part 2: the message/delivery-status fields (RFC 3464 2) */
static void
dsn_status(struct buf *b, const struct dsn_info *info, const struct dsn_rcpt *rcpts, size_t n)
{
    static const char *const action[] = { "failed", "delayed", "delivered" };
    static const char *const fallback[] = { "5.0.0", "4.0.0", "2.0.0" };
    struct buf v = BUF_INIT;
    char date[64];

    /* RFC 3464 2.2: the per-message fields, in the order of its grammar */
    if (info->envid && *info->envid) {
        dsn_xtext_decode(&v, info->envid);
        dsn_field(b, "Original-Envelope-Id", buf_cstr(&v), DSN_LINE_MAX);
    }
    buf_reset(&v);
    buf_printf(&v, "dns; %s", info->reporting_mta);
    dsn_field(b, "Reporting-MTA", buf_cstr(&v), DSN_LINE_MAX);
    if (info->arrival) {
        dsn_date(date, sizeof(date), info->arrival);
        dsn_field(b, "Arrival-Date", date, DSN_LINE_MAX);
    }

    /* RFC 3464 2.3: one group per recipient, each after an empty line */
    for (size_t i = 0; i < n; i++) {
        const struct dsn_rcpt *r = &rcpts[i];

        buf_putc(b, '\n');
        if (r->orcpt && *r->orcpt) {
            buf_reset(&v);
            dsn_xtext_decode(&v, r->orcpt);
            dsn_field(b, "Original-Recipient", buf_cstr(&v), DSN_LINE_MAX);
        }
        buf_reset(&v);
        buf_printf(&v, "rfc822; %s", r->address);
        dsn_field(b, "Final-Recipient", buf_cstr(&v), DSN_LINE_MAX);
        dsn_field(b, "Action", r->action ? r->action : action[info->kind], DSN_LINE_MAX);
        dsn_field(b, "Status",
                  r->status && dsn_status_valid(r->status) ? r->status : fallback[info->kind],
                  DSN_LINE_MAX);
        if (r->remote_mta && *r->remote_mta) {
            buf_reset(&v);
            buf_printf(&v, "dns; %s", r->remote_mta);
            dsn_field(b, "Remote-MTA", buf_cstr(&v), DSN_LINE_MAX);
        }
        if (r->diagnostic && *r->diagnostic) {
            buf_reset(&v);
            buf_puts(&v, "smtp; ");
            dsn_cut(&v, r->diagnostic, DSN_DIAG_MAX);
            dsn_field(b, "Diagnostic-Code", buf_cstr(&v), DSN_FOLD);
        }
        dsn_date(date, sizeof(date), info->now);
        dsn_field(b, "Last-Attempt-Date", date, DSN_LINE_MAX);
        if (info->kind == DSN_DELAYED && info->retry_until) {
            dsn_date(date, sizeof(date), info->retry_until);
            dsn_field(b, "Will-Retry-Until", date, DSN_LINE_MAX);
        }
    }
    buf_free(&v);
}

/*
 * dsn_compose - see dsn.h. RET=FULL falls back to the header section when
 * a line of the original is longer than 998 octets: it could not be sent
 * on unchanged (RFC 5322 2.1.1), and the report must still go out.
 */
void
dsn_compose(struct buf *out, const struct dsn_info *info, const struct dsn_rcpt *rcpts, size_t n,
            const char *orig, size_t orig_len)
{
    static const char *const subject[] = {
        "Undelivered Mail Returned to Sender",
        "Delayed Mail (still being retried)",
        "Successful Mail Delivery Report",
    };
    struct buf human = BUF_INIT, status = BUF_INIT, original = BUF_INIT, bnd = BUF_INIT;
    struct buf v = BUF_INIT;
    const struct buf *parts[3] = { &human, &status, &original };
    const char *ctype[3] = { "text/plain; charset=utf-8", "message/delivery-status", NULL };
    bool full = info->ret_full && !dsn_long_lines(orig, orig_len);
    bool eight = false;
    char date[64];

    dsn_human(&human, info, rcpts, n, full);
    dsn_status(&status, info, rcpts, n);
    if (full) {
        buf_append(&original, orig, orig_len);
        ctype[2] = "message/rfc822";
    } else {
        dsn_copy_lines(&original, orig, header_end(orig, orig_len));
        ctype[2] = "text/rfc822-headers";
    }
    dsn_boundary(&bnd, info->boundary, parts, 3);
    for (size_t i = 0; i < 3; i++)
        eight = eight || dsn_has_8bit(parts[i]);

    buf_printf(&v, "Mail Delivery System <MAILER-DAEMON@%s>", info->reporting_mta);
    dsn_field(out, "From", buf_cstr(&v), DSN_LINE_MAX);
    buf_reset(&v);
    buf_printf(&v, "<%s>", info->sender);
    dsn_field(out, "To", buf_cstr(&v), DSN_LINE_MAX);
    dsn_field(out, "Subject", subject[info->kind], DSN_FOLD);
    dsn_date(date, sizeof(date), info->now);
    dsn_field(out, "Date", date, DSN_LINE_MAX);
    if (info->message_id && *info->message_id)
        dsn_field(out, "Message-ID", info->message_id, DSN_LINE_MAX);
    dsn_field(out, "Auto-Submitted", "auto-replied", DSN_LINE_MAX);     /* RFC 3834 5 */
    buf_puts(out, "MIME-Version: 1.0\n");
    buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\n"
                    " boundary=\"%s\"\n", buf_cstr(&bnd));
    /* RFC 2046 5.1: a multipart holding 8bit parts is itself 8bit */
    if (eight)
        buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
    buf_puts(out, "\nThis is a MIME-encapsulated message.\n");

    for (size_t i = 0; i < 3; i++) {
        buf_printf(out, "\n--%s\n", buf_cstr(&bnd));
        buf_printf(out, "Content-Type: %s\n", ctype[i]);
        if (dsn_has_8bit(parts[i]))
            buf_puts(out, "Content-Transfer-Encoding: 8bit\n");
        buf_putc(out, '\n');
        buf_append(out, parts[i]->data ? parts[i]->data : "", parts[i]->len);
    }
    buf_printf(out, "\n--%s--\n", buf_cstr(&bnd));

    buf_free(&human);
    buf_free(&status);
    buf_free(&original);
    buf_free(&bnd);
    buf_free(&v);
}
