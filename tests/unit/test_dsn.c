/*
 * test_dsn - unit tests for src/queue/dsn.c: bounce, delay and success
 * reports (RFC 3464 in a multipart/report, RFC 6522).
 *
 * Each report is taken apart again here: the header fields (unfolded),
 * the boundary, the three parts and their content types, the
 * delivery-status fields compared line by line with the expected text,
 * the returned original, and the words of the explanation for people.
 * Every report must also have LF line ends only, no line over 998
 * octets, and must satisfy Python's email parser (policy default, no
 * defects), run through system() on a temporary file. One golden report
 * pins the exact output.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and
 * the test fails at the end, so one run shows all broken rows. Originals
 * are passed as heap copies of exactly their length, so AddressSanitizer
 * catches a read past the end.
 */
/* Table rows list the fields of struct dsn_rcpt they need; later fields
 * (action) are NULL, which is what those rows mean. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue/dsn.h"
#include "util/buf.h"

/* DSN text: LF by name, cut with "..." after 1200 characters */
#define SHOW_STYLE { .esc = "\n", .width = 1200, .more = "..." }
#include "check.h"

#define ARR   ((time_t)1704164645)      /* Tue, 02 Jan 2024 03:04:05 +0000 */
#define NOW   ((time_t)1704251045)      /* Wed, 03 Jan 2024 03:04:05 +0000 */
#define UNTIL ((time_t)1704596645)      /* Sun, 07 Jan 2024 03:04:05 +0000 */
#define MAXR  3

/* compose - dsn_compose() over an exact-size copy of the original */
static void
compose(struct buf *out, const struct dsn_info *info, const struct dsn_rcpt *r, size_t n,
        const char *orig, size_t olen)
{
    char *copy = malloc(olen ? olen : 1);

    assert_non_null(copy);
    memcpy(copy, orig, olen);
    buf_init(out);
    dsn_compose(out, info, r, n, copy, olen);
    free(copy);
}

/* A piece of the report: s[0..n) */
struct span {
    const char *s;
    size_t      n;
};

/* unfold - append s[0..n) to b without the line breaks that fold it
 * (RFC 5322 2.2.3: a LF followed by white space) */
static void
unfold(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '\n' && i + 1 < n && (s[i + 1] == ' ' || s[i + 1] == '\t')))
            buf_putc(b, s[i]);
}

/* split_head - the header section of s[0..n) (up to the empty line, its
 * last LF included) and the body after the empty line */
static void
split_head(struct span in, struct span *head, struct span *body)
{
    const char *e = NULL;

    if (in.n > 0 && in.s[0] == '\n') {
        *head = (struct span){ in.s, 0 };
        *body = (struct span){ in.s + 1, in.n - 1 };
        return;
    }
    for (size_t i = 0; i + 1 < in.n; i++)
        if (in.s[i] == '\n' && in.s[i + 1] == '\n') {
            e = in.s + i;
            break;
        }
    if (!e) {
        *head = in;
        *body = (struct span){ in.s + in.n, 0 };
        return;
    }
    *head = (struct span){ in.s, (size_t)(e - in.s) + 1 };
    *body = (struct span){ e + 2, in.n - (size_t)(e - in.s) - 2 };
}

/* field - the unfolded value of the first field called name in head, in
 * v; false when there is none. Counts the fields of that name in *count. */
static bool
field(struct span head, const char *name, struct buf *v, int *count)
{
    size_t nl = strlen(name), i = 0;
    bool found = false;

    buf_reset(v);
    *count = 0;
    while (i < head.n) {
        const char *line = head.s + i;
        const char *e = memchr(line, '\n', head.n - i);
        size_t len = e ? (size_t)(e - line) : head.n - i;
        size_t next = i + len + 1;

        if (len > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            size_t end = next;
            while (end < head.n && (head.s[end] == ' ' || head.s[end] == '\t')) {
                const char *e2 = memchr(head.s + end, '\n', head.n - end);
                end = e2 ? (size_t)(e2 - head.s) + 1 : head.n;
            }
            if (!found) {
                const char *val = line + nl + 1;
                size_t vlen = (end > head.n ? head.n : end) - i - nl - 1;
                while (vlen > 0 && *val == ' ')
                    val++, vlen--;
                while (vlen > 0 && val[vlen - 1] == '\n')
                    vlen--;
                unfold(v, val, vlen);
            }
            found = true;
            (*count)++;
            next = end;
        }
        i = next;
    }
    return found;
}

/* check_lines - LF only, a LF at the end, no line over 998 octets */
static void
check_lines(const char *name, const struct buf *m)
{
    size_t i = 0, line = 1;

    if (memchr(m->data, '\r', m->len))
        report("%s: got a CR, want LF line ends only", name);
    while (i < m->len) {
        const char *e = memchr(m->data + i, '\n', m->len - i);
        size_t len = e ? (size_t)(e - m->data) - i : m->len - i;
        if (len > 998)
            report("%s: line %zu is %zu octets, want at most 998", name, line, len);
        if (!e)
            report("%s: got no LF at the end, want one", name);
        i += len + 1;
        line++;
    }
}

/* collapse - s[0..n) with every run of white space made one space */
static void
collapse(struct buf *b, const char *s, size_t n)
{
    bool sp = false;

    buf_reset(b);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\n' || s[i] == '\t') {
            sp = true;
            continue;
        }
        if (sp && b->len)
            buf_putc(b, ' ');
        sp = false;
        buf_putc(b, s[i]);
    }
}

/* A report taken apart. */
struct parsed {
    struct span head;
    char        boundary[128];
    struct span part_head[3], part_body[3];
    size_t      nparts;
};

/*
 * parse_report - split m into its header, boundary and parts (RFC 2046
 * 5.1.1: a delimiter line is "--" boundary, and the LF before it belongs
 * to it). Reports what is broken; false when it cannot go on.
 */
static bool
parse_report(const char *name, const struct buf *m, struct parsed *p)
{
    struct span body, all = { m->data, m->len };
    struct buf v = BUF_INIT;
    int count;
    const char *b, *q;
    size_t blen, i;
    const char *part_start = NULL;
    bool closed = false;

    memset(p, 0, sizeof(*p));
    split_head(all, &p->head, &body);
    if (!field(p->head, "Content-Type", &v, &count) || !(b = strstr(buf_cstr(&v), "boundary=\""))
        || !(q = strchr(b + 10, '"'))) {
        report("%s: got Content-Type \"%s\", want one with a quoted boundary", name, buf_cstr(&v));
        buf_free(&v);
        return false;
    }
    blen = (size_t)(q - (b + 10));
    if (blen == 0 || blen > 70)
        report("%s: boundary length got %zu, want 1..70", name, blen);
    snprintf(p->boundary, sizeof(p->boundary), "%.*s", (int)blen, b + 10);
    buf_free(&v);

    i = 0;
    while (i < body.n) {
        const char *line = body.s + i;
        const char *e = memchr(line, '\n', body.n - i);
        size_t len = e ? (size_t)(e - line) : body.n - i;

        if (len >= blen + 2 && line[0] == '-' && line[1] == '-'
            && memcmp(line + 2, p->boundary, blen) == 0) {
            bool close = len == blen + 4 && line[blen + 2] == '-' && line[blen + 3] == '-';
            if (len != blen + 2 && !close)
                report("%s: got a line \"%s\" that starts with the boundary, want none", name,
                       show(line, len));
            if (closed)
                report("%s: got a delimiter after the close delimiter, want none", name);
            if (part_start) {
                const char *end = line > part_start ? line - 1 : part_start; /* its LF */
                struct span whole = { part_start, (size_t)(end - part_start) };
                if (p->nparts < 3)
                    split_head(whole, &p->part_head[p->nparts], &p->part_body[p->nparts]);
                p->nparts++;
            }
            part_start = e ? e + 1 : body.s + body.n;
            if (close) {
                closed = true;
                part_start = NULL;
                if (i + len + 1 != body.n)
                    report("%s: got %zu octets after the close delimiter, want none", name,
                           body.n - i - len - 1);
            }
        }
        i += len + 1;
    }
    if (!closed)
        report("%s: got no close delimiter, want \"--%s--\"", name, p->boundary);
    if (p->nparts != 3)
        report("%s: parts got %zu, want 3", name, p->nparts);
    return p->nparts == 3;
}

/* python_check - Python's email parser agrees: a multipart/report of
 * text/plain, message/delivery-status (1 + nrcpt blocks, each recipient's
 * Action as given) and part3, and no defects anywhere */
static void
python_check(const char *name, const struct buf *m, const char *part3, size_t nrcpt,
             const char *action)
{
    static const char script[] =
        "import sys, email, email.policy\n"
        "m = email.message_from_binary_file(open(sys.argv[1], \"rb\"), policy=email.policy.default)\n"
        "assert m.get_content_type() == \"multipart/report\", m.get_content_type()\n"
        "assert m.get_param(\"report-type\") == \"delivery-status\"\n"
        "p = list(m.iter_parts())\n"
        "t = [x.get_content_type() for x in p]\n"
        "assert t == [\"text/plain\", \"message/delivery-status\", sys.argv[2]], t\n"
        "b = p[1].get_payload()\n"
        "assert len(b) == 1 + int(sys.argv[3]), len(b)\n"
        "assert all(x[\"Action\"] == sys.argv[4] for x in b[1:]), [x[\"Action\"] for x in b]\n"
        "assert b[0][\"Reporting-MTA\"].startswith(\"dns; \"), b[0][\"Reporting-MTA\"]\n"
        "d = [(x.get_content_type(), x.defects) for x in m.walk() if x.defects]\n"
        "assert not d, d\n";
    char path[] = "/tmp/test_dsn.XXXXXX", cmd[4096];
    int fd = mkstemp(path), st;

    assert_true(fd >= 0);
    assert_true(write(fd, m->data, m->len) == (ssize_t)m->len);
    close(fd);
    snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -c '%s' %s '%s' %zu %s", script, path, part3,
             nrcpt, action);
    st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        report("%s: python email parser: got exit status %d, want 0 (see the traceback above)",
               name, st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    unlink(path);
}

/* compare_text - got and want line by line; reports the first difference */
static void
compare_text(const char *name, const char *what, const char *got, size_t glen, const char *want)
{
    size_t wlen = strlen(want), i = 0, line = 1;

    if (glen == wlen && memcmp(got, want, glen) == 0)
        return;
    while (i < glen && i < wlen && got[i] == want[i]) {
        if (got[i] == '\n')
            line++;
        i++;
    }
    size_t gs = i, ws;
    while (gs > 0 && got[gs - 1] != '\n')
        gs--;
    ws = gs;
    const char *ge = memchr(got + gs, '\n', glen - gs), *we = memchr(want + ws, '\n', wlen - ws);
    report("%s: %s line %zu: got \"%s\", want \"%s\" (%zu octets in all, want %zu)", name,
           what, line, show(got + gs, ge ? (size_t)(ge - got) - gs : glen - gs),
           show(want + ws, we ? (size_t)(we - want) - ws : wlen - ws), glen, wlen);
}

static const char *const subjects[] = {
    "Undelivered Mail Returned to Sender",
    "Delayed Mail (still being retried)",
    "Successful Mail Delivery Report",
};
static const char *const actions[] = { "failed", "delayed", "delivered" };

#define ORIG_HEAD "Received: from client.example.com\nFrom: Alice <alice@example.com>\n" \
                  "To: bob@example.net\nSubject: Lunch?\n"
#define ORIG_BODY "Are you free on Friday?\n-- \nAlice\n"
#define ORIG      ORIG_HEAD "\n" ORIG_BODY

#define DS_MSG    "Reporting-MTA: dns; mta.example.com\nArrival-Date: Tue, 02 Jan 2024 03:04:05 +0000\n"
#define LAST      "Last-Attempt-Date: Wed, 03 Jan 2024 03:04:05 +0000\n"

#define BOB_UNKNOWN { "bob@example.net", NULL, "5.1.1", "mx.example.net", \
                      "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown", \
                      "The mail server for this address says the address does not exist." }

/* One report: its inputs, and what should come out. */
struct dsn_case {
    const char     *name;
    struct dsn_info info;
    struct dsn_rcpt r[MAXR];
    size_t          n;
    const char     *orig;
    size_t          olen;
    const char     *boundary;       /* the one used */
    bool            eight;          /* 8bit parts expected */
    const char     *part3_type;
    const char     *part3;          /* the third part's content */
    const char     *status;         /* the delivery-status part, unfolded */
    const char     *human[4];       /* in the text part, white space collapsed */
};

#define INFO(kind, env, full) \
    { kind, "mta.example.com", "alice@example.com", env, full, ARR, NOW, UNTIL, \
      "<dsn.Q1@mta.example.com>", "Q1.dsn" }

static const struct dsn_case dsn_cases[] = {
    { "failed, headers only", INFO(DSN_FAILED, NULL, 0), { BOB_UNKNOWN }, 1, S(ORIG), "Q1.dsn",
      false, "text/rfc822-headers", ORIG_HEAD,
      DS_MSG "\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
             "Remote-MTA: dns; mx.example.net\n"
             "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: "
             "User unknown\n" LAST,
      { "This is the mail system at mta.example.com.", "bob@example.net The mail server for this "
        "address says the address does not exist. The mail server mx.example.net replied: 550 "
        "5.1.1 <bob@example.net>: Recipient address rejected: User unknown",
        "could not be delivered", "The header of your message is attached" } },
    { "failed, RET=FULL", INFO(DSN_FAILED, NULL, 1), { BOB_UNKNOWN }, 1, S(ORIG), "Q1.dsn", false,
      "message/rfc822", ORIG,
      DS_MSG "\nFinal-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
             "Remote-MTA: dns; mx.example.net\n"
             "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address rejected: "
             "User unknown\n" LAST,
      { "Your message is attached below." } },
    { "delayed, ENVID and ORCPT in xtext", INFO(DSN_DELAYED, "QQ+2B314+3D", 0),
      { { "bob@example.net", "rfc822;bob+2Bfriends@example.net", "4.4.1", NULL, NULL,
          "The mail server for this address did not answer." },
        { "carol@example.org", "rfc822;carol@example.org", "4.2.2", "mx.example.org",
          "452 4.2.2 Mailbox full", NULL } },
      2, S(ORIG), "Q1.dsn", false, "text/rfc822-headers", ORIG_HEAD,
      "Original-Envelope-Id: QQ+314=\n" DS_MSG
      "\nOriginal-Recipient: rfc822;bob+friends@example.net\n"
      "Final-Recipient: rfc822; bob@example.net\nAction: delayed\nStatus: 4.4.1\n" LAST
      "Will-Retry-Until: Sun, 07 Jan 2024 03:04:05 +0000\n"
      "\nOriginal-Recipient: rfc822;carol@example.org\n"
      "Final-Recipient: rfc822; carol@example.org\nAction: delayed\nStatus: 4.2.2\n"
      "Remote-MTA: dns; mx.example.org\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full\n" LAST
      "Will-Retry-Until: Sun, 07 Jan 2024 03:04:05 +0000\n",
      { "bob@example.net The mail server for this address did not answer.",
        "carol@example.org Delivery to this address has not worked yet. The mail server "
        "mx.example.org replied: 452 4.2.2 Mailbox full",
        "keep trying until 7 January 2024 at 03:04 UTC", "you do not need to send the message again" } },
    { "delayed, no retry limit", { DSN_DELAYED, "mta.example.com", "alice@example.com", NULL, 0, ARR,
                                   NOW, 0, "<dsn.Q1@mta.example.com>", "Q1.dsn" },
      { { "bob@example.net", NULL, "4.4.1", NULL, NULL, NULL } }, 1, S(ORIG), "Q1.dsn", false,
      "text/rfc822-headers", ORIG_HEAD,
      DS_MSG "\nFinal-Recipient: rfc822; bob@example.net\nAction: delayed\nStatus: 4.4.1\n" LAST,
      { "it will come back to you" } },
    { "delivered", INFO(DSN_DELIVERED, NULL, 0),
      { { "bob@example.net", NULL, "2.0.0", "mx.example.net", "250 2.0.0 Ok: queued as 4XyZ",
          "The message was put in this person's mailbox." } },
      1, S(ORIG), "Q1.dsn", false, "text/rfc822-headers", ORIG_HEAD,
      DS_MSG "\nFinal-Recipient: rfc822; bob@example.net\nAction: delivered\nStatus: 2.0.0\n"
             "Remote-MTA: dns; mx.example.net\nDiagnostic-Code: smtp; 250 2.0.0 Ok: queued as 4XyZ\n"
             LAST,
      { "Your message was delivered", "bob@example.net The message was put in this person's mailbox." } },
    { "delivered locally, no server", INFO(DSN_DELIVERED, NULL, 0),
      { { "bob@example.com", NULL, "2.0.0", NULL, NULL, NULL } }, 1, S(ORIG), "Q1.dsn", false,
      "text/rfc822-headers", ORIG_HEAD,
      DS_MSG "\nFinal-Recipient: rfc822; bob@example.com\nAction: delivered\nStatus: 2.0.0\n" LAST,
      { "bob@example.com The message was delivered to this address." } },
    { "three recipients, no status", INFO(DSN_FAILED, NULL, 0),
      { { "a@x.test", NULL, NULL, NULL, NULL, NULL }, { "b@x.test", NULL, "5.1", NULL, NULL, NULL },
        { "c@x.test", NULL, "5.1.1 x", NULL, NULL, NULL } },
      3, S(ORIG), "Q1.dsn", false, "text/rfc822-headers", ORIG_HEAD,
      DS_MSG "\nFinal-Recipient: rfc822; a@x.test\nAction: failed\nStatus: 5.0.0\n" LAST
             "\nFinal-Recipient: rfc822; b@x.test\nAction: failed\nStatus: 5.0.0\n" LAST
             "\nFinal-Recipient: rfc822; c@x.test\nAction: failed\nStatus: 5.0.0\n" LAST,
      { "a@x.test This address did not accept the message.", "c@x.test" } },
    /* originals without a body */
    { "no empty line", INFO(DSN_FAILED, NULL, 0), { BOB_UNKNOWN }, 1, S(ORIG_HEAD), "Q1.dsn", false,
      "text/rfc822-headers", ORIG_HEAD, NULL, { NULL } },
    { "no empty line, RET=FULL", INFO(DSN_FAILED, NULL, 1), { BOB_UNKNOWN }, 1, S(ORIG_HEAD),
      "Q1.dsn", false, "message/rfc822", ORIG_HEAD, NULL, { NULL } },
    { "empty body", INFO(DSN_FAILED, NULL, 1), { BOB_UNKNOWN }, 1, S(ORIG_HEAD "\n"), "Q1.dsn",
      false, "message/rfc822", ORIG_HEAD "\n", NULL, { NULL } },
    { "no final LF", INFO(DSN_FAILED, NULL, 0), { BOB_UNKNOWN }, 1, S("Subject: x"), "Q1.dsn",
      false, "text/rfc822-headers", "Subject: x", NULL, { NULL } },
    { "empty original", INFO(DSN_FAILED, NULL, 0), { BOB_UNKNOWN }, 1, S(""), "Q1.dsn", false,
      "text/rfc822-headers", "", NULL, { NULL } },
    { "body only", INFO(DSN_FAILED, NULL, 0), { BOB_UNKNOWN }, 1, S("\nhello\n"), "Q1.dsn", false,
      "text/rfc822-headers", "", NULL, { NULL } },
    /* the boundary */
    { "boundary in the body", INFO(DSN_FAILED, NULL, 1), { BOB_UNKNOWN }, 1,
      S(ORIG_HEAD "\n--Q1.dsn\n--Q1.dsn.1--\nx\n"), "Q1.dsn.2", false, "message/rfc822",
      ORIG_HEAD "\n--Q1.dsn\n--Q1.dsn.1--\nx\n", NULL, { NULL } },
    { "boundary in a header", INFO(DSN_FAILED, NULL, 0), { BOB_UNKNOWN }, 1,
      S("X: a\n--Q1.dsn\n\nbody\n"), "Q1.dsn.1", false, "text/rfc822-headers", "X: a\n--Q1.dsn\n",
      NULL, { NULL } },
    { "boundary mid-line is fine", INFO(DSN_FAILED, NULL, 1), { BOB_UNKNOWN }, 1,
      S("X: --Q1.dsn\n\n --Q1.dsn\n"), "Q1.dsn", false, "message/rfc822", "X: --Q1.dsn\n\n --Q1.dsn\n",
      NULL, { NULL } },
    { "boundary made safe", { DSN_FAILED, "mta.example.com", "alice@example.com", NULL, 0, ARR, NOW,
                              0, NULL, "a b\"c\x01" },
      { BOB_UNKNOWN }, 1, S(ORIG), "a_b_c_", false, "text/rfc822-headers", ORIG_HEAD, NULL, { NULL } },
    { "no boundary given", { DSN_FAILED, "mta.example.com", "alice@example.com", NULL, 0, ARR, NOW, 0,
                             NULL, NULL },
      { BOB_UNKNOWN }, 1, S(ORIG), "=_postino_dsn", false, "text/rfc822-headers", ORIG_HEAD, NULL,
      { NULL } },
    /* non-ASCII: labelled 8bit, kept in rfc822 fields */
    { "UTF-8 address", INFO(DSN_FAILED, NULL, 0),
      { { "jörg@bücher.example", NULL, "5.1.1", NULL, "550 5.1.1 no such user", NULL } }, 1,
      S(ORIG), "Q1.dsn", true, "text/rfc822-headers", ORIG_HEAD,
      DS_MSG "\nFinal-Recipient: rfc822; jörg@bücher.example\nAction: failed\nStatus: 5.1.1\n"
             "Diagnostic-Code: smtp; 550 5.1.1 no such user\n" LAST,
      { "jörg@bücher.example This address did not accept the message. The receiving mail server "
        "replied: 550 5.1.1 no such user" } },
    { "UTF-8 original, RET=FULL", INFO(DSN_FAILED, NULL, 1), { BOB_UNKNOWN }, 1,
      S("Subject: café\n\nCafé?\n"), "Q1.dsn", true, "message/rfc822", "Subject: café\n\nCafé?\n",
      NULL, { NULL } },
    /* what the sender cannot inject */
    { "control characters", INFO(DSN_FAILED, "a\nb+0Ac", 0),
      { { "bob@example.net", "rfc822;x+0D+0AX-Evil:+201@y", "5.1.1", "mx\n.example.net",
          "550 a\x01" "b\rc\nFake-Field: 1", "Line one.\nLine two." } },
      1, S(ORIG), "Q1.dsn", false, "text/rfc822-headers", ORIG_HEAD,
      "Original-Envelope-Id: a b c\n" DS_MSG "\nOriginal-Recipient: rfc822;x X-Evil: 1@y\n"
      "Final-Recipient: rfc822; bob@example.net\nAction: failed\nStatus: 5.1.1\n"
      "Remote-MTA: dns; mx .example.net\nDiagnostic-Code: smtp; 550 a?b c Fake-Field: 1\n" LAST,
      { "Line one. Line two." } },
};

/* check_case - compose one report and take it apart */
static void
check_case(const struct dsn_case *c)
{
    struct buf m, v = BUF_INIT, col = BUF_INIT;
    struct parsed p;
    int count;

    compose(&m, &c->info, c->r, c->n, c->orig, c->olen);
    check_lines(c->name, &m);

    /* the report's header */
    struct {
        const char *name, *value;
    } fields[9];
    size_t nf = 0;
    char from[128], to[128], ctype[256];

    snprintf(from, sizeof(from), "Mail Delivery System <MAILER-DAEMON@%s>", c->info.reporting_mta);
    snprintf(to, sizeof(to), "<%s>", c->info.sender);
    snprintf(ctype, sizeof(ctype), "multipart/report; report-type=delivery-status; boundary=\"%s\"",
             c->boundary);
    fields[nf].name = "From", fields[nf++].value = from;
    fields[nf].name = "To", fields[nf++].value = to;
    fields[nf].name = "Subject", fields[nf++].value = subjects[c->info.kind];
    fields[nf].name = "Date", fields[nf++].value = "Wed, 03 Jan 2024 03:04:05 +0000";
    fields[nf].name = "Message-ID", fields[nf++].value = c->info.message_id;
    fields[nf].name = "Auto-Submitted", fields[nf++].value = "auto-replied";
    fields[nf].name = "MIME-Version", fields[nf++].value = "1.0";
    fields[nf].name = "Content-Type", fields[nf++].value = ctype;
    fields[nf].name = "Content-Transfer-Encoding", fields[nf++].value = c->eight ? "8bit" : NULL;

    split_head((struct span){ m.data, m.len }, &p.head, &p.part_body[0]);
    for (size_t i = 0; i < nf; i++) {
        bool got = field(p.head, fields[i].name, &v, &count);
        if (!fields[i].value) {
            if (got)
                report("%s: %s got \"%s\", want no such field", c->name, fields[i].name, buf_cstr(&v));
            continue;
        }
        if (!got || strcmp(buf_cstr(&v), fields[i].value) != 0)
            report("%s: %s got \"%s\", want \"%s\"", c->name, fields[i].name,
                   got ? show(v.data, v.len) : "(none)", fields[i].value);
        if (count > 1)
            report("%s: %s fields got %d, want 1", c->name, fields[i].name, count);
    }

    /* the parts */
    if (parse_report(c->name, &m, &p)) {
        const char *types[3] = { "text/plain; charset=utf-8", "message/delivery-status",
                                 c->part3_type };
        if (strcmp(p.boundary, c->boundary) != 0)
            report("%s: boundary got \"%s\", want \"%s\"", c->name, p.boundary, c->boundary);
        for (size_t i = 0; i < 3; i++) {
            bool got = field(p.part_head[i], "Content-Type", &v, &count);
            if (!got || strcmp(buf_cstr(&v), types[i]) != 0)
                report("%s: part %zu Content-Type got \"%s\", want \"%s\"", c->name, i + 1,
                       buf_cstr(&v), types[i]);
            bool eight = false;
            for (size_t k = 0; k < p.part_body[i].n; k++)
                eight = eight || (unsigned char)p.part_body[i].s[k] >= 0x80;
            got = field(p.part_head[i], "Content-Transfer-Encoding", &v, &count);
            if (got != eight || (got && strcmp(buf_cstr(&v), "8bit") != 0))
                report("%s: part %zu Content-Transfer-Encoding got \"%s\", want %s", c->name, i + 1,
                       got ? buf_cstr(&v) : "(none)", eight ? "\"8bit\"" : "none");
        }
        if (c->status) {
            buf_reset(&v);
            unfold(&v, p.part_body[1].s, p.part_body[1].n);
            compare_text(c->name, "delivery-status", v.data, v.len, c->status);
        }
        compare_text(c->name, "part 3", p.part_body[2].s, p.part_body[2].n, c->part3);
        collapse(&col, p.part_body[0].s, p.part_body[0].n);
        for (size_t i = 0; i < 4 && c->human[i]; i++)
            if (!strstr(buf_cstr(&col), c->human[i]))
                report("%s: text part got \"%s\", want it to contain \"%s\"", c->name,
                       show(col.data, col.len), c->human[i]);
        for (size_t i = 0; i < c->n; i++)
            if (!strstr(buf_cstr(&col), c->r[i].address))
                report("%s: text part got no \"%s\", want it", c->name, c->r[i].address);
    }
    python_check(c->name, &m, c->part3_type, c->n, actions[c->info.kind]);

    /* the same inputs give the same report */
    struct buf again;
    compose(&again, &c->info, c->r, c->n, c->orig, c->olen);
    if (again.len != m.len || memcmp(again.data, m.data, m.len) != 0)
        report("%s: a second report got different bytes, want the same", c->name);
    buf_free(&again);

    buf_free(&m);
    buf_free(&v);
    buf_free(&col);
}

/* test_dsn_cases - the dsn_cases table */
static void
test_dsn_cases(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(dsn_cases); i++)
        check_case(&dsn_cases[i]);
    assert_int_equal(failures, 0);
}

/* test_dsn_long_diagnostic - a long reply is folded, a long word split,
 * and the whole cut at a sane length */
static void
test_dsn_long_diagnostic(void **state)
{
    struct dsn_info info = INFO(DSN_FAILED, NULL, 0);
    struct dsn_rcpt r = BOB_UNKNOWN;
    struct buf diag = BUF_INIT, m, v = BUF_INIT;
    struct parsed p;
    int count;

    (void)state;
    failures = 0;
    buf_puts(&diag, "550 5.7.1");
    for (int i = 0; i < 40; i++)
        buf_puts(&diag, " blocked-by-policy");
    buf_putc(&diag, ' ');
    for (int i = 0; i < 1500; i++)
        buf_putc(&diag, "0123456789abcdef"[i % 16]);
    for (int i = 0; i < 200; i++)
        buf_puts(&diag, " more");
    r.diagnostic = buf_cstr(&diag);
    compose(&m, &info, &r, 1, S(ORIG));
    check_lines("long diagnostic", &m);
    if (parse_report("long diagnostic", &m, &p)) {
        struct span ds = p.part_body[1];
        const char *dc = memmem(ds.s, ds.n, "\nDiagnostic-Code:", 17);
        size_t lines = 0;

        if (!dc)
            report("long diagnostic: got no Diagnostic-Code, want one");
        else {
            /* the folded field: every line but the first starts with a space
             * and is not blank; the first ones stay near 78 columns */
            const char *s = dc + 1;
            for (;;) {
                const char *e = memchr(s, '\n', (size_t)(ds.s + ds.n - s));
                size_t len = e ? (size_t)(e - s) : (size_t)(ds.s + ds.n - s);
                if (lines > 0 && (len < 2 || s[0] != ' ' || s[1] == ' '))
                    report("long diagnostic: continuation \"%s\", want a space then text",
                           show(s, len));
                if (lines == 0 && len > 78)
                    report("long diagnostic: first line %zu octets, want at most 78", len);
                lines++;
                if (!e || e + 1 >= ds.s + ds.n || (e[1] != ' ' && e[1] != '\t'))
                    break;
                s = e + 1;
            }
        }
        if (lines < 10)
            report("long diagnostic: Diagnostic-Code lines got %zu, want it folded (>= 10)", lines);
        field((struct span){ ds.s, ds.n }, "Diagnostic-Code", &v, &count);
        if (strncmp(buf_cstr(&v), "smtp; 550 5.7.1 blocked-by-policy", 33) != 0)
            report("long diagnostic: value starts \"%s\", want \"smtp; 550 5.7.1 blocked-by-policy\"",
                   show(v.data, v.len < 40 ? v.len : 40));
        if (v.len < 3 || strcmp(v.data + v.len - 3, "...") != 0)
            report("long diagnostic: value ends \"%s\", want \"...\" (cut)",
                   show(v.data + (v.len > 20 ? v.len - 20 : 0), v.len > 20 ? 20 : v.len));
        if (v.len > 2100)
            report("long diagnostic: value got %zu octets, want at most about 2000", v.len);
        if (!strstr(buf_cstr(&v), "0123456789abcdef"))
            report("long diagnostic: got no part of the long word, want it kept");
    }
    python_check("long diagnostic", &m, "text/rfc822-headers", 1, "failed");
    buf_free(&m);
    buf_free(&v);
    buf_free(&diag);
    assert_int_equal(failures, 0);
}

/* test_dsn_long_lines - an original with a 1500-octet line: RET=FULL gives
 * the header section only, and a long header line is cut to 998 */
static void
test_dsn_long_lines(void **state)
{
    struct dsn_info info = INFO(DSN_FAILED, NULL, 1);
    struct dsn_rcpt r = BOB_UNKNOWN;
    struct buf orig = BUF_INIT, m, want = BUF_INIT;
    struct parsed p;

    (void)state;
    failures = 0;

    /* a long body line */
    buf_puts(&orig, ORIG_HEAD "\n");
    for (int i = 0; i < 1500; i++)
        buf_putc(&orig, 'x');
    buf_puts(&orig, "\n");
    compose(&m, &info, &r, 1, orig.data, orig.len);
    check_lines("RET=FULL, long body line", &m);
    if (parse_report("RET=FULL, long body line", &m, &p))
        compare_text("RET=FULL, long body line", "part 3", p.part_body[2].s, p.part_body[2].n,
                     ORIG_HEAD);
    python_check("RET=FULL, long body line", &m, "text/rfc822-headers", 1, "failed");
    buf_free(&m);

    /* a line of exactly 998 is fine */
    buf_reset(&orig);
    buf_puts(&orig, ORIG_HEAD "\n");
    for (int i = 0; i < 998; i++)
        buf_putc(&orig, 'y');
    buf_puts(&orig, "\n");
    compose(&m, &info, &r, 1, orig.data, orig.len);
    if (parse_report("RET=FULL, 998-octet line", &m, &p))
        compare_text("RET=FULL, 998-octet line", "part 3", p.part_body[2].s, p.part_body[2].n,
                     orig.data);
    python_check("RET=FULL, 998-octet line", &m, "message/rfc822", 1, "failed");
    buf_free(&m);

    /* a long header line, headers only: cut to 998 octets, between UTF-8
     * characters (a 2-octet "é" straddles octet 998) */
    buf_reset(&orig);
    buf_puts(&orig, "Subject: ");
    for (int i = 0; i < 988; i++)
        buf_putc(&orig, 'z');
    buf_puts(&orig, "\xc3\xa9zzz\nX: y\n\nbody\n");
    info.ret_full = 0;
    compose(&m, &info, &r, 1, orig.data, orig.len);
    check_lines("long header line", &m);
    buf_puts(&want, "Subject: ");
    for (int i = 0; i < 988; i++)
        buf_putc(&want, 'z');
    buf_puts(&want, "\nX: y\n");
    if (parse_report("long header line", &m, &p))
        compare_text("long header line", "part 3", p.part_body[2].s, p.part_body[2].n, want.data);
    buf_free(&m);

    buf_free(&orig);
    buf_free(&want);
    assert_int_equal(failures, 0);
}

/* test_dsn_dates - the Date field for a few instants, always in UTC */
static void
test_dsn_dates(void **state)
{
    static const struct {
        time_t      t;
        const char *date;
        const char *human;          /* Will-Retry-Until in the text */
    } cases[] = {
        { 0, "Thu, 01 Jan 1970 00:00:00 +0000", "1 January 1970 at 00:00 UTC" },
        { 951782400, "Tue, 29 Feb 2000 00:00:00 +0000", "29 February 2000 at 00:00 UTC" },
        { 1709251199, "Thu, 29 Feb 2024 23:59:59 +0000", "29 February 2024 at 23:59 UTC" },
        { 1735689599, "Tue, 31 Dec 2024 23:59:59 +0000", "31 December 2024 at 23:59 UTC" },
        { 4102444800, "Fri, 01 Jan 2100 00:00:00 +0000", "1 January 2100 at 00:00 UTC" },
    };
    struct dsn_rcpt r = { "bob@example.net", NULL, "4.4.1", NULL, NULL, NULL };
    struct buf m, v = BUF_INIT, col = BUF_INIT;
    struct parsed p;
    int count;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct dsn_info info = INFO(DSN_DELAYED, NULL, 0);
        char want[64];

        info.now = cases[i].t;
        info.retry_until = cases[i].t ? cases[i].t : 1;
        compose(&m, &info, &r, 1, S(ORIG));
        split_head((struct span){ m.data, m.len }, &p.head, &p.part_body[0]);
        if (!field(p.head, "Date", &v, &count) || strcmp(buf_cstr(&v), cases[i].date) != 0)
            report("now %lld: Date got \"%s\", want \"%s\"", (long long)cases[i].t, buf_cstr(&v),
                   cases[i].date);
        if (parse_report("dates", &m, &p)) {
            field(p.part_body[1], "Last-Attempt-Date", &v, &count);
            if (strcmp(buf_cstr(&v), cases[i].date) != 0)
                report("now %lld: Last-Attempt-Date got \"%s\", want \"%s\"",
                       (long long)cases[i].t, buf_cstr(&v), cases[i].date);
            collapse(&col, p.part_body[0].s, p.part_body[0].n);
            snprintf(want, sizeof(want), "until %s.", cases[i].t ? cases[i].human
                                                                  : "1 January 1970 at 00:00 UTC");
            if (!strstr(buf_cstr(&col), want))
                report("now %lld: text got \"%s\", want \"%s\"", (long long)cases[i].t,
                       show(col.data, col.len), want);
        }
        buf_free(&m);
    }
    buf_free(&v);
    buf_free(&col);
    assert_int_equal(failures, 0);
}

/* The whole report for the first case, byte for byte. */
static const char golden[] =
    "From: Mail Delivery System <MAILER-DAEMON@mta.example.com>\n"
    "To: <alice@example.com>\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Date: Wed, 03 Jan 2024 03:04:05 +0000\n"
    "Message-ID: <dsn.Q1@mta.example.com>\n"
    "Auto-Submitted: auto-replied\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status;\n"
    " boundary=\"Q1.dsn\"\n"
    "\n"
    "This is a MIME-encapsulated message.\n"
    "\n"
    "--Q1.dsn\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "This is the mail system at mta.example.com.\n"
    "\n"
    "Your message could not be delivered to the recipients listed below. The\n"
    "mail system has stopped trying: they have not received it.\n"
    "\n"
    "  bob@example.net\n"
    "    The mail server for this address says the address does not exist.\n"
    "    The mail server mx.example.net replied: 550 5.1.1 <bob@example.net>:\n"
    "    Recipient address rejected: User unknown\n"
    "\n"
    "Please check the addresses and try again, or ask the recipients another\n"
    "way. If you need help, forward this report to your mail administrator.\n"
    "\n"
    "The header of your message is attached below, so that you can tell which\n"
    "message this is.\n"
    "\n"
    "--Q1.dsn\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mta.example.com\n"
    "Arrival-Date: Tue, 02 Jan 2024 03:04:05 +0000\n"
    "\n"
    "Final-Recipient: rfc822; bob@example.net\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Remote-MTA: dns; mx.example.net\n"
    "Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address\n"
    " rejected: User unknown\n"
    "Last-Attempt-Date: Wed, 03 Jan 2024 03:04:05 +0000\n"
    "\n"
    "--Q1.dsn\n"
    "Content-Type: text/rfc822-headers\n"
    "\n"
    "Received: from client.example.com\n"
    "From: Alice <alice@example.com>\n"
    "To: bob@example.net\n"
    "Subject: Lunch?\n"
    "\n"
    "--Q1.dsn--\n";

/* test_dsn_golden - the first case, byte for byte; and appending keeps
 * what out held before */
static void
test_dsn_golden(void **state)
{
    const struct dsn_case *c = &dsn_cases[0];
    struct buf m = BUF_INIT;

    (void)state;
    failures = 0;
    buf_puts(&m, "KEEP\n");
    dsn_compose(&m, &c->info, c->r, c->n, c->orig, c->olen);
    if (m.len < 5 || memcmp(m.data, "KEEP\n", 5) != 0)
        report("golden: got \"%s\" at the start, want what was there (\"KEEP\\n\")",
               show(m.data, 5));
    else
        compare_text("golden", "report", m.data + 5, m.len - 5, golden);
    buf_free(&m);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dsn_golden),
        cmocka_unit_test(test_dsn_cases),
        cmocka_unit_test(test_dsn_long_diagnostic),
        cmocka_unit_test(test_dsn_long_lines),
        cmocka_unit_test(test_dsn_dates),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
