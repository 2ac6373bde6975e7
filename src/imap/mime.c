/*
 * mime - the MIME structure of one message; see mime.h.
 *
 * The tree is built top-down: a multipart's body is split at its own
 * boundary lines first, then each part is parsed inside its range, so
 * an inner part that never closes still ends where the outer boundary
 * says. Boundary lines must match exactly ("--" boundary, then only
 * white space, or "--" for the close delimiter), so that a boundary
 * that is a prefix of another does not cut the other's parts.
 * Recursion follows the nesting, which mime_parse bounds by
 * MIME_DEPTH_MAX.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <iconv.h>

/* util: no mail knowledge */
#include "util/base64.h"
#include "util/buf.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/mime.h"

/* Parameters kept per field and language tags per Content-Language. */
#define MIME_PARAMS_MAX 64
#define MIME_LANG_MAX   16

/* ---- lines and header fields ---- */

/* is_wsp - RFC 5322 WSP */
static bool
is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* line_next - the start of the line after the one at i in p[0..n) */
static size_t
line_next(const char *p, size_t n, size_t i)
{
    const char *lf = memchr(p + i, '\n', n - i);

    return lf ? (size_t)(lf - p) + 1 : n;
}

/* is_blank - is the line at i in p[0..n) empty ("\r\n" or "\n")? */
static bool
is_blank(const char *p, size_t n, size_t i)
{
    return (i < n && p[i] == '\n') || (i + 1 < n && p[i] == '\r' && p[i + 1] == '\n');
}

/* header_len - the length of the header at the start of p[0..n), its
 * empty line included; n when there is no empty line */
static size_t
header_len(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i = line_next(p, n, i))
        if (is_blank(p, n, i))
            return line_next(p, n, i);
    return n;
}

/* count_lf - LF octets in p[0..n) */
static size_t
count_lf(const char *p, size_t n)
{
    size_t lines = 0;
    const char *lf;

    while (n > 0 && (lf = memchr(p, '\n', n)) != NULL) {
        lines++;
        n -= (size_t)(lf - p) + 1;
        p = lf + 1;
    }
    return lines;
}

/* mime_field_next - see mime.h */
bool
mime_field_next(const char *hdr, size_t len, size_t *pos, struct mime_field *f)
{
    while (*pos < len && !is_blank(hdr, len, *pos)) {
        size_t i = *pos, e = line_next(hdr, len, i), colon, name_end, v_end;
        const char *c = memchr(hdr + i, ':', e - i);
        bool ok;

        *pos = e;
        if (c == NULL || is_wsp(hdr[i]))
            continue;           /* not a field, or an orphan continuation */
        colon = (size_t)(c - hdr);
        name_end = colon;
        while (name_end > i && is_wsp(hdr[name_end - 1]))
            name_end--;         /* RFC 5322 4.5: obsolete "Name :" */
        ok = name_end > i;
        for (size_t k = i; ok && k < name_end; k++)
            ok = hdr[k] > 0x20 && hdr[k] < 0x7f;
        if (!ok)
            continue;
        while (e < len && is_wsp(hdr[e]))
            e = line_next(hdr, len, e);         /* continuation lines */
        *pos = e;
        v_end = e;
        if (v_end > colon + 1 && hdr[v_end - 1] == '\n')
            v_end--;
        if (v_end > colon + 1 && hdr[v_end - 1] == '\r')
            v_end--;
        f->name = hdr + i;
        f->namelen = name_end - i;
        f->value = hdr + colon + 1;
        f->valuelen = v_end - colon - 1;
        f->line = hdr + i;
        f->linelen = e - i;
        return true;
    }
    return false;
}

/* mime_field_find - see mime.h */
bool
mime_field_find(const char *hdr, size_t len, const char *name, struct mime_field *f)
{
    size_t pos = 0, nl = strlen(name);

    while (mime_field_next(hdr, len, &pos, f))
        if (f->namelen == nl && strncasecmp(f->name, name, nl) == 0)
            return true;
    return false;
}

/* mime_unfold - see mime.h */
void
mime_unfold(struct buf *out, const char *v, size_t n)
{
    size_t start = out->len;

    for (size_t i = 0; i < n; i++) {
        char c = v[i];

        if (c == '\n' || (c == '\r' && i + 1 < n && v[i + 1] == '\n'))
            continue;
        if (out->len == start && is_wsp(c))
            continue;
        buf_putc(out, c == '\0' ? (char)0x80 : c);
    }
}

/* ---- RFC 2045 tokens, quoted strings and comments ---- */

/* A cursor over an unfolded field value. */
struct lex {
    const char *p;
    size_t      n, i;
};

/* lex_cfws - skip white space and (nested) comments, RFC 5322 3.2.2 */
static void
lex_cfws(struct lex *l)
{
    size_t depth = 0;       /* a counter, not recursion: no bound needed */

    while (l->i < l->n) {
        char c = l->p[l->i];

        if (depth > 0 && c == '\\' && l->i + 1 < l->n)
            l->i += 2;
        else if (c == '(')
            depth++, l->i++;
        else if (depth > 0 && c == ')')
            depth--, l->i++;
        else if (depth > 0 || is_wsp(c) || c == '\r' || c == '\n')
            l->i++;
        else
            break;
    }
}

/* token_char - RFC 2045 5.1: not SPACE, CTL or tspecial (8-bit allowed) */
static bool
token_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* lex_token - a token into out (reset first); false when there is none */
static bool
lex_token(struct lex *l, struct buf *out)
{
    buf_reset(out);
    lex_cfws(l);
    while (l->i < l->n && token_char((unsigned char)l->p[l->i]))
        buf_putc(out, l->p[l->i++]);
    return out->len > 0;
}

/* lex_quoted - the quoted string at l->i (on its '"') into out, without
 * the quotes and quoted-pairs; an unterminated one ends at the end */
static void
lex_quoted(struct lex *l, struct buf *out)
{
    for (l->i++; l->i < l->n && l->p[l->i] != '"'; l->i++) {
        if (l->p[l->i] == '\\' && l->i + 1 < l->n)
            l->i++;
        buf_putc(out, l->p[l->i]);
    }
    if (l->i < l->n)
        l->i++;
}

/* lex_value - a parameter value, token or quoted string, into out */
static bool
lex_value(struct lex *l, struct buf *out)
{
    lex_cfws(l);
    if (l->i < l->n && l->p[l->i] == '"') {
        buf_reset(out);
        lex_quoted(l, out);
        return true;            /* "" is a value */
    }
    return lex_token(l, out);
}

/* lex_char - the special c, after CFWS */
static bool
lex_char(struct lex *l, char c)
{
    lex_cfws(l);
    if (l->i < l->n && l->p[l->i] == c) {
        l->i++;
        return true;
    }
    return false;
}

/* lex_skip_to - move to the next c outside quoted strings, or the end */
static void
lex_skip_to(struct lex *l, char c)
{
    struct buf junk = BUF_INIT;

    while (l->i < l->n && l->p[l->i] != c) {
        if (l->p[l->i] == '"')
            lex_quoted(l, &junk);
        else
            l->i++;
    }
    buf_free(&junk);
}

/* parse_params - the ";" attribute "=" value list that follows a type;
 * malformed parameters are skipped up to the next ";" */
static void
parse_params(struct lex *l, struct mime_param **params, size_t *nparams)
{
    struct buf name = BUF_INIT, value = BUF_INIT;

    for (;;) {
        lex_cfws(l);
        if (l->i >= l->n)
            break;
        if (l->p[l->i] != ';') {
            l->i++;
            lex_skip_to(l, ';');
            continue;
        }
        l->i++;
        if (!lex_token(l, &name) || !lex_char(l, '=') || !lex_value(l, &value)
            || *nparams >= MIME_PARAMS_MAX)
            continue;
        *params = xreallocarray(*params, *nparams + 1, sizeof(**params));
        (*params)[*nparams].name = xstrdup(buf_cstr(&name));
        (*params)[*nparams].value = xstrdup(buf_cstr(&value));
        (*nparams)++;
    }
    buf_free(&name);
    buf_free(&value);
}

/* ---- the Content-* fields of one part ---- */

/* free_params - release a parameter list */
static void
free_params(struct mime_param *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(params[i].name);
        free(params[i].value);
    }
    free(params);
}

/* set_type - the media type of p; params are dropped */
static void
set_type(struct mime_part *p, const char *type, const char *subtype)
{
    free(p->type);
    free(p->subtype);
    free_params(p->params, p->nparams);
    p->type = xstrdup(type);
    p->subtype = xstrdup(subtype);
    p->params = NULL;
    p->nparams = 0;
}

/* parse_ctype - Content-Type (RFC 2045 5.1); a syntactically invalid
 * one leaves the default (RFC 2045 5.2) */
static void
parse_ctype(struct mime_part *p, const char *v, size_t n)
{
    struct lex l = { v, n, 0 };
    struct buf type = BUF_INIT, subtype = BUF_INIT;

    if (lex_token(&l, &type) && lex_char(&l, '/') && lex_token(&l, &subtype)) {
        set_type(p, buf_cstr(&type), buf_cstr(&subtype));
        parse_params(&l, &p->params, &p->nparams);
    }
    buf_free(&type);
    buf_free(&subtype);
}

/* parse_disposition - Content-Disposition (RFC 2183 2) */
static void
parse_disposition(struct mime_part *p, const char *v, size_t n)
{
    struct lex l = { v, n, 0 };
    struct buf type = BUF_INIT;

    if (lex_token(&l, &type)) {
        p->disposition = xstrdup(buf_cstr(&type));
        parse_params(&l, &p->dparams, &p->ndparams);
    }
    buf_free(&type);
}

/* parse_language - Content-Language (RFC 3282 2): tags and commas */
static void
parse_language(struct mime_part *p, const char *v, size_t n)
{
    struct lex l = { v, n, 0 };
    struct buf tag = BUF_INIT;

    while (l.i < l.n) {
        if (lex_token(&l, &tag) && p->nlanguage < MIME_LANG_MAX) {
            p->language = xreallocarray(p->language, p->nlanguage + 1, sizeof(char *));
            p->language[p->nlanguage++] = xstrdup(buf_cstr(&tag));
        } else if (l.i < l.n) {
            l.i++;              /* a comma, or junk */
        }
    }
    buf_free(&tag);
}

/* first_token - the first token of v[0..n), or NULL */
static char *
first_token(const char *v, size_t n)
{
    struct lex l = { v, n, 0 };
    struct buf tok = BUF_INIT;
    char *s = lex_token(&l, &tok) ? xstrdup(buf_cstr(&tok)) : NULL;

    buf_free(&tok);
    return s;
}

/* read_fields - the Content-* fields of p's header; the first of each
 * name counts. dtype/dsubtype is the default type. */
static void
read_fields(const char *msg, struct mime_part *p, const char *dtype, const char *dsubtype)
{
    const char *hdr = msg + p->hdr_off;
    struct mime_field f;
    struct buf v = BUF_INIT;
    bool seen_ctype = false, seen_dispo = false, seen_lang = false;
    size_t pos = 0;

    set_type(p, dtype, dsubtype);
    while (mime_field_next(hdr, p->hdr_len, &pos, &f)) {
        if (f.namelen < 9 || strncasecmp(f.name, "Content-", 8) != 0)
            continue;
        buf_reset(&v);
        mime_unfold(&v, f.value, f.valuelen);
#define IS(s) (f.namelen == sizeof(s) - 1 && strncasecmp(f.name, s, f.namelen) == 0)
        if (IS("Content-Type") && !seen_ctype) {
            seen_ctype = true;
            parse_ctype(p, v.data, v.len);
        } else if (IS("Content-Transfer-Encoding") && p->encoding == NULL) {
            p->encoding = first_token(v.data, v.len);
        } else if (IS("Content-ID") && p->id == NULL) {
            p->id = xstrdup(buf_cstr(&v));
        } else if (IS("Content-Description") && p->description == NULL) {
            p->description = xstrdup(buf_cstr(&v));
        } else if (IS("Content-Disposition") && !seen_dispo) {
            seen_dispo = true;
            parse_disposition(p, v.data, v.len);
        } else if (IS("Content-Language") && !seen_lang) {
            seen_lang = true;
            parse_language(p, v.data, v.len);
        } else if (IS("Content-Location") && p->location == NULL) {
            p->location = xstrdup(buf_cstr(&v));
        }
#undef IS
    }
    buf_free(&v);
}

/* ---- the tree ---- */

struct parse_ctx {
    const char *msg;
    size_t      nparts;     /* parts made so far, <= MIME_PARTS_MAX */
};

static void parse_part(struct parse_ctx *c, struct mime_part *p, size_t off, size_t end,
                       unsigned depth, bool digest);

/* boundary_of - the boundary parameter of p, or NULL */
static const char *
boundary_of(const struct mime_part *p)
{
    for (size_t i = 0; i < p->nparams; i++)
        if (strcasecmp(p->params[i].name, "boundary") == 0 && p->params[i].value[0] != '\0')
            return p->params[i].value;
    return NULL;
}

/* delimiter - 0 when the line s[0..n) (no line end) is not a boundary
 * line of b, 1 for a delimiter, 2 for the close delimiter (RFC 2046
 * 5.1.1: "--" boundary, then transport padding, or "--") */
static int
delimiter(const char *s, size_t n, const char *b, size_t bl)
{
    if (n < 2 + bl || s[0] != '-' || s[1] != '-' || memcmp(s + 2, b, bl) != 0)
        return 0;
    s += 2 + bl;
    n -= 2 + bl;
    if (n >= 2 && s[0] == '-' && s[1] == '-')
        return 2;
    for (size_t i = 0; i < n; i++)
        if (!is_wsp(s[i]))
            return 0;
    return 1;
}

/* A part's range while a multipart is split. */
struct range {
    size_t start, end;
};

/* split_multipart - the parts of multipart p: ranges first (each takes
 * a part from the budget), then each is parsed */
static void
split_multipart(struct parse_ctx *c, struct mime_part *p, unsigned depth)
{
    const char *b = boundary_of(p), *m = c->msg;
    size_t bl = b ? strlen(b) : 0, end = p->body_off + p->body_len;
    size_t open = SIZE_MAX;     /* start of the part being read, if any */
    struct range *r = NULL;
    size_t nr = 0;
    bool digest = strcasecmp(p->subtype, "digest") == 0;

    for (size_t i = p->body_off; b != NULL && i < end; ) {
        size_t next = line_next(m, end, i), le = next;
        int d;

        if (le > i && m[le - 1] == '\n')
            le--;
        if (le > i && m[le - 1] == '\r')
            le--;
        d = delimiter(m + i, le - i, b, bl);
        if (d != 0 && open != SIZE_MAX) {
            /* RFC 2046 5.1.1: the CRLF before a boundary is part of it */
            size_t pe = i;

            if (pe > open && m[pe - 1] == '\n')
                pe--;
            if (pe > open && m[pe - 1] == '\r')
                pe--;
            r[nr - 1].end = pe;
            open = SIZE_MAX;
        }
        if (d == 2)
            break;
        if (d == 1) {
            if ((nr & (nr - 1)) == 0)   /* nr is 0 or a power of 2: double */
                r = xreallocarray(r, nr ? 2 * nr : 1, sizeof(*r));
            r[nr].start = r[nr].end = open = next;
            nr++;
            if (++c->nparts == MIME_PARTS_MAX)
                break;      /* the budget is spent: this part takes the rest */
        }
        i = next;
    }
    if (open != SIZE_MAX)
        r[nr - 1].end = end;    /* no close delimiter: up to the end */
    if (nr == 0) {
        /* RFC 9051 9 wants 1*body: one empty part, as Dovecot does */
        r = xmalloc(sizeof(*r));
        r[0].start = r[0].end = p->body_off;
        nr = 1;
        c->nparts++;
    }
    p->parts = xcalloc(nr, sizeof(*p->parts));
    p->nparts = nr;
    for (size_t k = 0; k < nr; k++)
        parse_part(c, &p->parts[k], r[k].start, r[k].end, depth + 1, digest);
    free(r);
}

/* parse_part - parse the part msg[off..end) into *p. digest: the part is
 * in a multipart/digest, where the default type is message/rfc822
 * (RFC 2046 5.1.5). */
static void
parse_part(struct parse_ctx *c, struct mime_part *p, size_t off, size_t end,
           unsigned depth, bool digest)
{
    memset(p, 0, sizeof(*p));
    p->hdr_off = off;
    p->hdr_len = header_len(c->msg + off, end - off);
    p->body_off = off + p->hdr_len;
    p->body_len = end - p->body_off;
    p->lines = count_lf(c->msg + p->body_off, p->body_len);
    read_fields(c->msg, p, digest ? "message" : "text", digest ? "rfc822" : "plain");

    if (strcasecmp(p->type, "multipart") == 0)
        p->kind = MIME_MULTIPART;
    else if (strcasecmp(p->type, "message") == 0
             && (strcasecmp(p->subtype, "rfc822") == 0 || strcasecmp(p->subtype, "global") == 0))
        p->kind = MIME_MESSAGE;
    if (p->kind != MIME_LEAF && (depth >= MIME_DEPTH_MAX || c->nparts >= MIME_PARTS_MAX)) {
        /* XXX: past the bounds the part is opaque; its real type would
         * make clients expect parts or an envelope that we do not give */
        set_type(p, "application", "octet-stream");
        p->kind = MIME_LEAF;
    }
    if (p->kind == MIME_MULTIPART) {
        split_multipart(c, p, depth);
    } else if (p->kind == MIME_MESSAGE) {
        /* Parsed as it is, whatever its encoding claims (as Dovecot). */
        c->nparts++;
        p->msg = xmalloc(sizeof(*p->msg));
        parse_part(c, p->msg, p->body_off, end, depth + 1, false);
    }
}

/* mime_parse - see mime.h */
size_t
mime_parse(const char *msg, size_t len, struct mime_part *top)
{
    struct parse_ctx c = { msg, 1 };

    parse_part(&c, top, 0, len, 0, false);
    return c.nparts;
}

/* mime_part_free - see mime.h */
void
mime_part_free(struct mime_part *p)
{
    if (p == NULL)
        return;
    free(p->type);
    free(p->subtype);
    free_params(p->params, p->nparams);
    free(p->id);
    free(p->description);
    free(p->encoding);
    free(p->disposition);
    free_params(p->dparams, p->ndparams);
    for (size_t i = 0; i < p->nlanguage; i++)
        free(p->language[i]);
    free(p->language);
    free(p->location);
    for (size_t i = 0; i < p->nparts; i++)
        mime_part_free(&p->parts[i]);
    free(p->parts);
    mime_part_free(p->msg);
    free(p->msg);
    memset(p, 0, sizeof(*p));
}

/* ---- transfer encodings ---- */

/* mime_cte - see mime.h */
enum mime_cte
mime_cte(const struct mime_part *p)
{
    const char *e = p->encoding;

    if (e == NULL || strcasecmp(e, "7bit") == 0 || strcasecmp(e, "8bit") == 0
        || strcasecmp(e, "binary") == 0)
        return MIME_CTE_IDENTITY;
    if (strcasecmp(e, "base64") == 0)
        return MIME_CTE_BASE64;
    if (strcasecmp(e, "quoted-printable") == 0)
        return MIME_CTE_QP;
    return MIME_CTE_UNKNOWN;
}

/* decode_base64 - RFC 2045 6.8, lenient as mime.h says */
static void
decode_base64(struct buf *out, const char *p, size_t n)
{
    unsigned long acc = 0;
    unsigned bits = 0;

    for (size_t i = 0; i < n && p[i] != '='; i++) {
        int v = base64_value((unsigned char)p[i]);

        if (v < 0)
            continue;
        acc = (acc << 6 | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf_putc(out, (char)(acc >> bits & 0xff));
        }
    }
}

/* hex_value - the value of a hex digit, -1 otherwise */
static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* decode_qp - RFC 2045 6.7, line by line */
static void
decode_qp(struct buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; ) {
        size_t next = line_next(p, n, i), le = next, ce;
        bool soft;

        if (le > i && p[le - 1] == '\n')
            le--;
        if (le > i && p[le - 1] == '\r')
            le--;
        ce = le;                /* rule 3: trailing white space goes */
        while (ce > i && is_wsp(p[ce - 1]))
            ce--;
        soft = ce > i && p[ce - 1] == '=';
        if (soft)
            ce--;
        for (size_t k = i; k < ce; k++) {
            int hi, lo;

            if (p[k] == '=' && k + 2 < ce && (hi = hex_value(p[k + 1])) >= 0
                && (lo = hex_value(p[k + 2])) >= 0) {
                buf_putc(out, (char)(hi << 4 | lo));
                k += 2;
            } else {
                buf_putc(out, p[k]);
            }
        }
        if (!soft)
            buf_append(out, p + le, next - le);         /* the line end */
        i = next;
    }
}

/* mime_decode - see mime.h */
bool
mime_decode(struct buf *out, enum mime_cte cte, const char *p, size_t n)
{
    switch (cte) {
    case MIME_CTE_IDENTITY:
        buf_append(out, p, n);
        return true;
    case MIME_CTE_BASE64:
        decode_base64(out, p, n);
        return true;
    case MIME_CTE_QP:
        decode_qp(out, p, n);
        return true;
    case MIME_CTE_UNKNOWN:
        break;
    }
    return false;
}

/* to_utf8 - append in[0..n) in charset cs as UTF-8; false when iconv
 * does not know cs or the text is not valid in it */
static bool
to_utf8(struct buf *out, const char *cs, const char *in, size_t n)
{
    if (strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "us-ascii") == 0) {
        buf_append(out, in, n);
        return true;
    }
    iconv_t cd = iconv_open("UTF-8", cs);
    if (cd == (iconv_t)-1)
        return false;
    size_t mark = out->len;
    char *ip = (char *)in;
    size_t left = n;
    bool ok = true;
    while (left > 0 && ok) {
        buf_reserve(out, 4 * left + 16);
        char *op = out->data + out->len;
        size_t room = out->cap - out->len - 1;
        if (iconv(cd, &ip, &left, &op, &room) == (size_t)-1 && errno != E2BIG)
            ok = false;
        out->len = (size_t)(op - out->data);
    }
    iconv_close(cd);
    if (!ok)
        out->len = mark;
    if (out->data)              /* NULL when n == 0 and out was empty */
        out->data[out->len] = '\0';
    return ok;
}

/* encoded_word - is p[0..n) at i an encoded word? Its end in *end, and
 * its decoded text appended to out */
static bool
encoded_word(const char *p, size_t n, size_t i, size_t *end, struct buf *out)
{
    /* "=?" charset "?" encoding "?" encoded-text "?=", at most 75 octets
     * in the RFC, more tolerated, but no white space inside */
    if (i + 8 > n || p[i] != '=' || p[i + 1] != '?')
        return false;
    size_t cs = i + 2, q1, q2, e;
    for (q1 = cs; q1 < n && p[q1] != '?' && !is_wsp(p[q1]); q1++)
        ;
    if (q1 >= n || p[q1] != '?' || q1 == cs || q1 + 2 >= n || p[q1 + 2] != '?')
        return false;
    char enc = p[q1 + 1];
    if (enc != 'Q' && enc != 'q' && enc != 'B' && enc != 'b')
        return false;
    q2 = q1 + 2;
    for (e = q2 + 1; e + 1 < n && !(p[e] == '?' && p[e + 1] == '=') && !is_wsp(p[e]); e++)
        ;
    if (e + 1 >= n || p[e] != '?' || p[e + 1] != '=')
        return false;
    char charset[64];
    size_t cl = q1 - cs;
    const char *star = memchr(p + cs, '*', cl);     /* RFC 2231 5: charset*lang */
    if (star)
        cl = (size_t)(star - (p + cs));
    if (cl == 0 || cl >= sizeof(charset))
        return false;
    memcpy(charset, p + cs, cl);
    charset[cl] = '\0';
    struct buf raw = BUF_INIT;
    const char *t = p + q2 + 1;
    size_t tl = e - (q2 + 1);
    if (enc == 'B' || enc == 'b') {
        decode_base64(&raw, t, tl);
    } else {
        for (size_t k = 0; k < tl; k++) {
            int hi, lo;
            if (t[k] == '_')
                buf_putc(&raw, ' ');
            else if (t[k] == '=' && k + 2 < tl && (hi = hex_value(t[k + 1])) >= 0
                     && (lo = hex_value(t[k + 2])) >= 0) {
                buf_putc(&raw, (char)(hi << 4 | lo));
                k += 2;
            } else {
                buf_putc(&raw, t[k]);
            }
        }
    }
    bool ok = to_utf8(out, charset, raw.data ? raw.data : "", raw.len);
    buf_free(&raw);
    if (ok)
        *end = e + 2;
    return ok;
}

/* mime_decode_words - see mime.h */
void
mime_decode_words(struct buf *out, const char *p, size_t n)
{
    size_t i = 0;
    bool after_word = false;        /* the last thing out was an encoded word */

    while (i < n) {
        size_t end;
        if (encoded_word(p, n, i, &end, out)) {
            i = end;
            after_word = true;
            continue;
        }
        if (after_word && is_wsp(p[i])) {
            /* white space between two encoded words goes (RFC 2047 6.2) */
            size_t j = i;
            while (j < n && is_wsp(p[j]))
                j++;
            struct buf probe = BUF_INIT;
            bool next_word = encoded_word(p, n, j, &end, &probe);
            buf_free(&probe);
            if (next_word) {
                i = j;
                continue;
            }
        }
        after_word = false;
        buf_putc(out, p[i++]);
    }
}
