/*
 * authres - Authentication-Results (RFC 8601); see authres.h.
 *
 * Writing: the field is put together as a list of "words" (a method
 * result, a property, a comment), then laid out: the authserv-id on the
 * first line, each method (resinfo) from a new continuation line, a
 * method's words folded onto more lines past AUTHRES_WIDTH. A word never
 * holds a line end, whatever its input: values are quoted or cleaned
 * first, so no input can end the field early or add one.
 *
 * Removing: the header section (up to the empty line) is walked field by
 * field; a field is its first line and its continuation lines.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* this module */
#include "mail/authres.h"
#include "mail/header.h"

/* utilities */
#include "util/buf.h"
#include "util/xmalloc.h"

#define AUTHRES_ID_MAX      256     /* octets of an authserv-id we compare */
#define AUTHRES_COMMENT_MAX 200     /* characters of a quarantine comment */

/* is_tspecial - RFC 2045 5.1 tspecials */
static bool
is_tspecial(unsigned char c)
{
    return c != '\0' && strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* is_token_char - RFC 2045 5.1: US-ASCII CHAR but SPACE, CTLs, tspecials */
static bool
is_token_char(unsigned char c)
{
    return c > ' ' && c < 0x7f && !is_tspecial(c);
}

static bool
is_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!is_token_char((unsigned char)*s))
            return false;
    return true;
}

/* is_atext - RFC 5322 3.2.3 atext, ASCII only */
static bool
is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ldh - a letter, digit, hyphen (or underscore, seen in the wild) */
static bool
is_ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
        || c == '-' || c == '_';
}

/*
 * is_address - RFC 8601 2.2 pvalue's second form, [ [local-part] "@" ]
 * domain-name, in ASCII: a dot-atom local part, LDH labels. Such a value
 * may stand unquoted although '@' is a tspecial.
 */
static bool
is_address(const char *s)
{
    const char *at = strrchr(s, '@'), *d = at ? at + 1 : s;
    size_t label = 0;

    if (at) {
        bool dot = true;            /* at the start, or after a dot */

        for (const char *p = s; p < at; p++) {
            if (*p == '.') {
                if (dot)
                    return false;
                dot = true;
            } else if (is_atext((unsigned char)*p)) {
                dot = false;
            } else {
                return false;
            }
        }
        if (at > s && dot)
            return false;           /* a local part ending in a dot */
    }
    if (*d == '\0')
        return false;
    for (; *d; d++) {
        if (*d == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (is_ldh((unsigned char)*d)) {
            label++;
        } else {
            return false;
        }
    }
    return label > 0;
}

/* is_keyword - a result keyword: lower-case letters (RFC 8601 2.7) */
static bool
is_keyword(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (; *s; s++)
        if (*s < 'a' || *s > 'z')
            return false;
    return true;
}

/*
 * put_value - a property value or authserv-id into b: as it is when it is
 * a token or an address, else a quoted string (RFC 5322 3.2.4) with '"'
 * and '\' escaped and control characters made '?'
 */
static void
put_value(struct buf *b, const char *v)
{
    if (is_token(v) || is_address(v)) {
        buf_puts(b, v);
        return;
    }
    buf_putc(b, '"');
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;

        if (c == '"' || c == '\\')
            buf_putc(b, '\\');
        buf_putc(b, c < ' ' || c == 0x7f ? '?' : (char)c);
    }
    buf_putc(b, '"');
}

/*
 * The words of the field, each a NUL-terminated string in one buffer,
 * and where each method starts. At most a few dozen: one per property.
 */
struct words {
    struct buf text;        /* the words, each followed by a NUL */
    size_t    *start;       /* offset of each word in text */
    bool      *first;       /* the word starts a method */
    size_t     n, cap;
};

/* word_begin - start a new word (first: of a new method) */
static void
word_begin(struct words *w, bool first)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->start = xreallocarray(w->start, w->cap, sizeof(*w->start));
        w->first = xreallocarray(w->first, w->cap, sizeof(*w->first));
    }
    w->start[w->n] = w->text.len;
    w->first[w->n] = first;
    w->n++;
}

/* word_end - end the current word */
static void
word_end(struct words *w)
{
    buf_append(&w->text, "", 1);    /* the NUL between words */
}

/* word_result - "method=result", starting a method */
static void
word_result(struct words *w, const char *method, const char *result)
{
    word_begin(w, true);
    buf_printf(&w->text, "%s=%s", method, is_keyword(result) ? result : "permerror");
    word_end(w);
}

/* word_prop - "ptype.property=value", when value is not NULL or "" */
static void
word_prop(struct words *w, const char *prop, const char *value)
{
    if (value == NULL || value[0] == '\0')
        return;
    word_begin(w, false);
    buf_printf(&w->text, "%s=", prop);
    put_value(&w->text, value);
    word_end(w);
}

/* b_prefix - the first AUTHRES_B_PREFIX characters of b, white space skipped */
static void
b_prefix(const char *b, char out[AUTHRES_B_PREFIX + 1])
{
    size_t k = 0;

    for (; b && *b && k < AUTHRES_B_PREFIX; b++)
        if (*b != ' ' && *b != '\t' && *b != '\r' && *b != '\n')
            out[k++] = *b;
    out[k] = '\0';
}

void
authres_format(const struct authres *ar, struct buf *out)
{
    struct words w = { .text = BUF_INIT };
    size_t col;

    if (ar->spf) {
        word_result(&w, "spf", ar->spf->result);
        word_prop(&w, ar->spf->helo ? "smtp.helo" : "smtp.mailfrom", ar->spf->domain);
    }
    if (ar->dkim_checked && ar->ndkim == 0)
        word_result(&w, "dkim", "none");
    for (size_t i = 0; ar->dkim_checked && i < ar->ndkim; i++) {
        const struct authres_dkim *k = &ar->dkim[i];
        char b[AUTHRES_B_PREFIX + 1];

        word_result(&w, "dkim", k->result);
        word_prop(&w, "header.d", k->d);
        word_prop(&w, "header.s", k->s);
        b_prefix(k->b, b);
        word_prop(&w, "header.b", b);
    }
    if (ar->dmarc) {
        word_result(&w, "dmarc", ar->dmarc->result);
        if (is_keyword(ar->dmarc->policy) && is_keyword(ar->dmarc->disposition)) {
            word_begin(&w, false);
            buf_printf(&w.text, "(p=%s dis=%s)", ar->dmarc->policy, ar->dmarc->disposition);
            word_end(&w);
        }
        word_prop(&w, "header.from", ar->dmarc->from_domain);
    }

    /* the layout */
    size_t before = out->len;
    buf_puts(out, AUTHRES_FIELD ": ");
    put_value(out, ar->authserv_id ? ar->authserv_id : "");
    if (w.n == 0)
        buf_puts(out, "; none");
    col = out->len - before;
    for (size_t i = 0; i < w.n; i++) {
        const char *word = w.text.data + w.start[i];
        size_t len = strlen(word);

        if (w.first[i]) {
            buf_puts(out, ";\n\t");
            col = 1;
        } else if (col + 1 + len > AUTHRES_WIDTH) {
            buf_puts(out, "\n\t");
            col = 1;
        } else {
            buf_putc(out, ' ');
            col++;
        }
        buf_puts(out, word);
        col += len;
    }
    buf_putc(out, '\n');
    buf_free(&w.text);
    free(w.start);
    free(w.first);
}

/* ---- removal ---------------------------------------------------------- */

/*
 * field_body - if line[0..len) starts a field called name (any case, WSP
 * before the colon allowed: RFC 5322 4.5.3), the offset after the colon;
 * else 0
 */
static size_t
field_body(const char *line, size_t len, const char *name)
{
    size_t nl = strlen(name), k = nl;

    if (len <= nl || strncasecmp(line, name, nl) != 0)
        return 0;
    while (k < len && (line[k] == ' ' || line[k] == '\t'))
        k++;
    return k < len && line[k] == ':' ? k + 1 : 0;
}

/* id_equal - a[0..an) and the C string b, in any case, a trailing dot ignored */
static bool
id_equal(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);

    if (an > 0 && a[an - 1] == '.')
        an--;
    if (bn > 0 && b[bn - 1] == '.')
        bn--;
    return an > 0 && an == bn && strncasecmp(a, b, an) == 0;
}

/*
 * is_ours - does the field body v[0..n) start with the authserv-id id
 * (RFC 8601 2.2: [CFWS] authserv-id)? Comments are skipped, nested, and
 * a quoted id is unescaped. An unparseable start is not ours.
 */
static bool
is_ours(const char *v, size_t n, const char *id)
{
    char q[AUTHRES_ID_MAX];
    size_t i = 0, k = 0;

    for (;;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n'))
            i++;
        if (i >= n || v[i] != '(')
            break;
        size_t depth = 0;
        do {
            if (i >= n)
                return false;       /* an unterminated comment */
            if (v[i] == '\\')
                i++;
            else if (v[i] == '(')
                depth++;
            else if (v[i] == ')')
                depth--;
            i++;
        } while (depth > 0);
    }
    if (i >= n)
        return false;
    if (v[i] == '"') {
        for (i++; i < n && v[i] != '"'; i++) {
            if (v[i] == '\n')
                continue;           /* folding */
            if (v[i] == '\\' && ++i >= n)
                return false;
            if (k + 1 >= sizeof(q))
                return false;
            q[k++] = v[i];
        }
        if (i >= n)
            return false;           /* an unterminated quoted string */
        return id_equal(q, k, id);
    }
    /* a token; octets above 127 taken along, for a UTF-8 host name */
    size_t s = i;
    while (i < n && (is_token_char((unsigned char)v[i]) || (unsigned char)v[i] >= 0x80))
        i++;
    return id_equal(v + s, i - s, id);
}

size_t
authres_strip(const char *msg, size_t n, const char *authserv_id, struct buf *out,
              size_t *nquarantine)
{
    size_t end = header_end(msg, n), i = 0, removed = 0, quarantined = 0;
    bool dropping = false;

    while (i < end) {
        const char *line = msg + i;
        const char *nl = memchr(line, '\n', end - i);
        size_t len = nl ? (size_t)(nl - line) : end - i;
        size_t next = nl ? i + len + 1 : end, body;

        if (line[0] != ' ' && line[0] != '\t') {
            /* a new field (or a line that is none): is it to go? */
            dropping = false;
            if ((body = field_body(line, len, AUTHRES_FIELD)) > 0) {
                /* the id may be on a continuation line: take the whole field */
                size_t fe = next;
                while (fe < end && (msg[fe] == ' ' || msg[fe] == '\t')) {
                    const char *e = memchr(msg + fe, '\n', end - fe);
                    fe = e ? (size_t)(e - msg) + 1 : end;
                }
                if (is_ours(line + body, fe - i - body, authserv_id)) {
                    dropping = true;
                    removed++;
                }
            } else if (field_body(line, len, AUTHRES_QUARANTINE_FIELD) > 0) {
                dropping = true;
                quarantined++;
            }
        }
        if (!dropping)
            buf_append(out, line, next - i);
        i = next;
    }
    buf_append(out, msg + end, n - end);
    if (nquarantine)
        *nquarantine = quarantined;
    return removed;
}

void
authres_quarantine(const char *reason, const char *comment, struct buf *out)
{
    buf_puts(out, AUTHRES_QUARANTINE_FIELD ": ");
    buf_puts(out, is_keyword(reason) ? reason : "yes");
    if (comment && comment[0] != '\0') {
        buf_puts(out, " (");
        for (size_t k = 0; comment[k] != '\0' && k < AUTHRES_COMMENT_MAX; k++) {
            unsigned char c = (unsigned char)comment[k];
            bool ok = c >= ' ' && c < 0x7f && c != '(' && c != ')' && c != '\\';

            buf_putc(out, ok ? (char)c : '?');
        }
        buf_putc(out, ')');
    }
    buf_putc(out, '\n');
}
