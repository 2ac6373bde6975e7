/*
 * reply - SMTP replies as the client reads them; see reply.h.
 *
 * The client feeds the lines of a reply one by one (RFC 5321 4.2) and
 * gets back the code, the enhanced status code of the first line (RFC
 * 2034, RFC 3463) and the text. From a complete reply it can also make a
 * one-line summary for logs and Diagnostic-Code fields, and read the
 * extensions an EHLO reply announces.
 *
 * This module does no I/O and keeps no state outside struct smtp_reply:
 * splitting the stream into lines, time limits and line length caps
 * belong to the connection that reads them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "relay/reply.h"

static bool reply_is_digit(unsigned char c);
static size_t reply_enhanced_len(const char *s, size_t n, char cls);
static void reply_line(const struct smtp_reply *r, size_t *pos, const char **line, size_t *len);
static size_t reply_put(char *out, size_t outlen, size_t k, const char *s, size_t n);
static bool reply_keyword_is(const char *s, size_t n, const char *kw);
static void reply_ehlo_auth(struct ehlo_caps *caps, const char *s, size_t n);
static void reply_ehlo_size(struct ehlo_caps *caps, const char *s, size_t n);
static void reply_ehlo_line(struct ehlo_caps *caps, const char *s, size_t n);

/* reply_is_digit - DIGIT (RFC 5234), ASCII only */
static bool
reply_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/*
 * reply_enhanced_len - length of the enhanced status code at the start of
 * s[0..n) (RFC 3463 2: class "." 1*3digit "." 1*3digit, then SP or the
 * end of the text), or 0 when there is none or its class is not cls.
 */
static size_t
reply_enhanced_len(const char *s, size_t n, char cls)
{
    size_t i = 0;

    if (n < 5 || s[0] != cls || s[1] != '.')
        return 0;
    i = 2;
    for (int part = 0; part < 2; part++) {
        size_t start = i;
        while (i < n && i - start < 3 && reply_is_digit((unsigned char)s[i]))
            i++;
        if (i == start)
            return 0;
        if (part == 0) {
            if (i >= n || s[i] != '.')
                return 0;
            i++;
        }
    }
    if (i < n && s[i] != ' ')
        return 0;       /* "5.1.1x", or a fourth digit */
    return i;
}

void
reply_init(struct smtp_reply *r)
{
    r->code = 0;
    r->enhanced[0] = '\0';
    buf_init(&r->text);
    r->nlines = 0;
    r->done = false;
}

void
reply_free(struct smtp_reply *r)
{
    buf_free(&r->text);
    reply_init(r);
}

void
reply_reset(struct smtp_reply *r)
{
    r->code = 0;
    r->enhanced[0] = '\0';
    buf_reset(&r->text);
    r->nlines = 0;
    r->done = false;
}

/*
 * reply_feed_line - see reply.h. A line fed after the reply is complete
 * starts the next reply (as after reply_reset), so that a client reading
 * pipelined replies needs no reset of its own. One trailing CR is
 * ignored, in case the caller split on LF alone.
 */
int
reply_feed_line(struct smtp_reply *r, const char *line, size_t len)
{
    int code;

    if (r->done)
        reply_reset(r);
    if (len > 0 && line[len - 1] == '\r')
        len--;
    /* Reply-code = %x32-35 %x30-35 %x30-39 (4.2); we take any second digit,
     * as reply.h promises 200..599 and real servers are not all tidy. */
    if (len < 3 || line[0] < '2' || line[0] > '5' || !reply_is_digit((unsigned char)line[1])
        || !reply_is_digit((unsigned char)line[2]))
        return -1;
    if (len > 3 && line[3] != '-' && line[3] != ' ')
        return -1;
    if (memchr(line, '\n', len))
        return -1;      /* not one line: the text would lose its line count */
    code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    if (r->nlines > 0 && code != r->code)
        return -1;      /* 4.2.1: every line of a reply has the same code */
    if (r->nlines >= REPLY_MAX_LINES)
        return -1;

    const char *text = len > 4 ? line + 4 : "";
    size_t tlen = len > 4 ? len - 4 : 0;

    if (r->nlines == 0) {
        size_t e = reply_enhanced_len(text, tlen, line[0]);
        r->code = code;
        memcpy(r->enhanced, text, e);
        r->enhanced[e] = '\0';
    } else
        buf_putc(&r->text, '\n');
    buf_append(&r->text, text, tlen);
    r->nlines++;
    /* "NNN" alone ends the reply too: 4.2 allows the text to be absent. */
    if (len == 3 || line[3] == ' ') {
        r->done = true;
        return 1;
    }
    return 0;
}

int
reply_class(const struct smtp_reply *r)
{
    return r->code / 100;
}

/* reply_line - the text line at *pos of r->text; moves *pos past it */
static void
reply_line(const struct smtp_reply *r, size_t *pos, const char **line, size_t *len)
{
    const char *s = r->text.data ? r->text.data : "";
    const char *nl = memchr(s + *pos, '\n', r->text.len - *pos);
    size_t end = nl ? (size_t)(nl - s) : r->text.len;

    *line = s + *pos;
    *len = end - *pos;
    *pos = nl ? end + 1 : r->text.len;
}

/*
 * reply_put - copy s[0..n) to out at k, printable ASCII only (a tab
 * becomes a space, any other control or non-ASCII octet a "?"), stopping
 * at outlen-1; returns the new k.
 */
static size_t
reply_put(char *out, size_t outlen, size_t k, const char *s, size_t n)
{
    for (size_t i = 0; i < n && k + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t')
            c = ' ';
        else if (c < 0x20 || c >= 0x7f)
            c = '?';
        out[k++] = (char)c;
    }
    return k;
}

/*
 * reply_oneline - see reply.h. Later lines that repeat the first line's
 * enhanced code (as "550-5.1.1 ..." replies do) lose the repetition, and
 * empty lines are skipped. Text cut short ends in "...".
 */
void
reply_oneline(const struct smtp_reply *r, char *out, size_t outlen)
{
    char code[4];
    size_t k, pos = 0, elen = strlen(r->enhanced);
    bool cut = false, any = false;

    if (outlen == 0)
        return;
    out[0] = '\0';
    if (r->code == 0)
        return;
    snprintf(code, sizeof(code), "%03d", r->code);
    k = reply_put(out, outlen, 0, code, 3);
    for (size_t ln = 0; ln < r->nlines && !cut; ln++) {
        const char *s, *sep;
        size_t n, before = k;

        reply_line(r, &pos, &s, &n);
        if (ln > 0 && elen > 0 && n >= elen && memcmp(s, r->enhanced, elen) == 0
            && (n == elen || s[elen] == ' ')) {
            s += elen;
            n -= elen;
            while (n > 0 && *s == ' ')
                s++, n--;
        }
        if (n == 0)
            continue;
        sep = any ? "; " : " ";
        any = true;
        k = reply_put(out, outlen, k, sep, strlen(sep));
        k = reply_put(out, outlen, k, s, n);
        cut = k - before < strlen(sep) + n;
    }
    if (cut && outlen > 4) {
        k = outlen - 1;
        memcpy(out + k - 3, "...", 3);
    }
    out[k] = '\0';
}

/* reply_keyword_is - does the ehlo-keyword s[0..n) name kw (any case)? */
static bool
reply_keyword_is(const char *s, size_t n, const char *kw)
{
    return strlen(kw) == n && strncasecmp(s, kw, n) == 0;
}

/* reply_ehlo_auth - the SASL mechanisms in s[0..n), separated by spaces */
static void
reply_ehlo_auth(struct ehlo_caps *caps, const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        while (i < n && s[i] == ' ')
            i++;
        size_t start = i;
        while (i < n && s[i] != ' ')
            i++;
        if (reply_keyword_is(s + start, i - start, "PLAIN"))
            caps->auth_plain = true;
        else if (reply_keyword_is(s + start, i - start, "LOGIN"))
            caps->auth_login = true;
    }
}

/*
 * reply_ehlo_size - "SIZE" with its parameter s[0..n) (RFC 1870 4:
 * 1*DIGIT, optional; 0 means no fixed limit). A parameter that is not a
 * number, or too large for us, counts as no limit given: the server still
 * takes the SIZE parameter of MAIL.
 */
static void
reply_ehlo_size(struct ehlo_caps *caps, const char *s, size_t n)
{
    unsigned long long v = 0;
    size_t i = 0;

    caps->size = true;
    while (i < n && s[i] == ' ')
        i++;
    if (i == n)
        return;
    for (; i < n && s[i] != ' '; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (!reply_is_digit((unsigned char)s[i]) || v > (~0ULL - d) / 10)
            return;
        v = v * 10 + d;
    }
    caps->size_max = v;
}

/* reply_ehlo_line - one ehlo-line (keyword and parameters) s[0..n) */
static void
reply_ehlo_line(struct ehlo_caps *caps, const char *s, size_t n)
{
    size_t kw = 0;

    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    /* ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"); the old
     * "AUTH=PLAIN LOGIN" form ends the keyword with "=". */
    while (kw < n && s[kw] != ' ' && s[kw] != '=')
        kw++;
    const char *param = kw < n ? s + kw + 1 : s + n;
    size_t plen = kw < n ? n - kw - 1 : 0;

    if (reply_keyword_is(s, kw, "AUTH")) {
        reply_ehlo_auth(caps, param, plen);
        return;
    }
    if (kw < n && s[kw] == '=')
        return;                 /* only AUTH had the "=" form */
    if (reply_keyword_is(s, kw, "SIZE"))
        reply_ehlo_size(caps, param, plen);
    else if (reply_keyword_is(s, kw, "PIPELINING"))
        caps->pipelining = true;
    else if (reply_keyword_is(s, kw, "STARTTLS"))
        caps->starttls = true;
    else if (reply_keyword_is(s, kw, "8BITMIME"))
        caps->eightbitmime = true;
    else if (reply_keyword_is(s, kw, "SMTPUTF8"))
        caps->smtputf8 = true;
    else if (reply_keyword_is(s, kw, "DSN"))
        caps->dsn = true;
    else if (reply_keyword_is(s, kw, "CHUNKING"))
        caps->chunking = true;
    else if (reply_keyword_is(s, kw, "ENHANCEDSTATUSCODES"))
        caps->enhancedstatuscodes = true;
}

/*
 * ehlo_parse - see reply.h. caps is cleared first; a reply that is not a
 * complete 250 offers nothing. The first line is the server's name and
 * greeting (RFC 5321 4.1.1.1), never a keyword.
 */
void
ehlo_parse(const struct smtp_reply *r, struct ehlo_caps *caps)
{
    size_t pos = 0;
    const char *s;
    size_t n;

    memset(caps, 0, sizeof(*caps));
    if (r->code != 250 || !r->done)
        return;
    reply_line(r, &pos, &s, &n);        /* the greeting */
    while (pos < r->text.len) {
        reply_line(r, &pos, &s, &n);
        reply_ehlo_line(caps, s, n);
    }
}
