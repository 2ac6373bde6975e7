/*
 * message - FETCH and SEARCH over one message's bytes; see message.h.
 *
 * The MIME tree comes from mime.c; this file turns it into IMAP data
 * (ENVELOPE, BODYSTRUCTURE), finds sections, decodes BINARY, searches
 * and reads the Date: field. Addresses are parsed leniently from a
 * token list (RFC 5322 3.4 with the obsolete forms of 4.4 in mind):
 * whatever does not parse degrades into a strange address, never into
 * output that breaks the response's syntax.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* util: no mail knowledge */
#include "util/date.h"
#include "util/buf.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/imap_fmt.h"
#include "imap/message.h"
#include "imap/mime.h"

/* ---- CRLF form and parsing ---- */

/* imap_msg_crlf_size - see message.h */
size_t
imap_msg_crlf_size(const char *p, size_t n)
{
    size_t size = n;

    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            size++;             /* at most 2n: no overflow for any n we hold */
    return size;
}

/* imap_msg_crlf - see message.h */
char *
imap_msg_crlf(const char *p, size_t n, size_t *outlen)
{
    size_t size = imap_msg_crlf_size(p, n), k = 0;
    char *out = xmalloc(size + 1);

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            out[k++] = '\r';
        out[k++] = p[i];
    }
    out[k] = '\0';
    *outlen = size;
    return out;
}

/* imap_msg_parse - see message.h */
struct imap_msg *
imap_msg_parse(const char *data, size_t len)
{
    struct imap_msg *m = xcalloc(1, sizeof(*m));

    m->data = data;
    m->len = len;
    m->nparts = mime_parse(data, len, &m->root);
    return m;
}

/* imap_msg_free - see message.h */
void
imap_msg_free(struct imap_msg *m)
{
    if (m == NULL)
        return;
    mime_part_free(&m->root);
    free(m);
}

/* ---- ENVELOPE ---- */

enum tok_kind { TOK_ATOM, TOK_QSTR, TOK_COMMENT, TOK_DLIT, TOK_SPECIAL };

/* One token of an address field; its text is text->data[off..off+len)
 * with quotes, parentheses and quoted-pairs removed. */
struct tok {
    enum tok_kind kind;
    char          special;      /* TOK_SPECIAL: one of "<>@,;:." */
    bool          space;        /* white space or a comment before it */
    size_t        off, len;
};

struct toks {
    struct tok *v;
    size_t      n, cap;
    struct buf  text;
};

/* tok_push - add a token whose text is what text got since off */
static void
tok_push(struct toks *t, enum tok_kind kind, char special, bool space, size_t off)
{
    if (t->n == t->cap) {           /* doubling: a field may have 10^6 tokens */
        t->cap = t->cap ? 2 * t->cap : 16;
        t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
    }
    t->v[t->n++] = (struct tok){ kind, special, space, off, t->text.len - off };
}

/* tokenize - split the unfolded value v[0..n) into tokens */
static void
tokenize(struct toks *t, const char *v, size_t n)
{
    bool space = false;
    size_t i = 0;

    while (i < n) {
        char c = v[i];
        size_t off = t->text.len;

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            space = true;
            i++;
            continue;
        }
        if (c == '(') {             /* nested comment: a depth counter */
            size_t depth = 1;

            for (i++; i < n && depth > 0; i++) {
                if (v[i] == '\\' && i + 1 < n)
                    i++;
                else if (v[i] == '(')
                    depth++;
                else if (v[i] == ')' && --depth == 0)
                    continue;
                buf_putc(&t->text, v[i]);
            }
            tok_push(t, TOK_COMMENT, 0, space, off);
            space = true;
            continue;
        }
        if (c == '"') {
            for (i++; i < n && v[i] != '"'; i++) {
                if (v[i] == '\\' && i + 1 < n)
                    i++;
                buf_putc(&t->text, v[i]);
            }
            i += i < n;
            tok_push(t, TOK_QSTR, 0, space, off);
        } else if (c == '[') {
            while (i < n && v[i] != ']')
                buf_putc(&t->text, v[i++]);
            if (i < n)
                buf_putc(&t->text, v[i++]);
            tok_push(t, TOK_DLIT, 0, space, off);
        } else if (c != '\0' && strchr("<>@,;:.", c) != NULL) {
            buf_putc(&t->text, c);
            i++;
            tok_push(t, TOK_SPECIAL, c, space, off);
        } else {
            while (i < n && strchr(" \t\r\n(<>@,;:.\"[", v[i]) == NULL)
                buf_putc(&t->text, v[i++]);
            tok_push(t, TOK_ATOM, 0, space, off);
        }
        space = false;
    }
}

/* is_special - token k of t is the special c */
static bool
is_special(const struct toks *t, size_t k, char c)
{
    return k < t->n && t->v[k].kind == TOK_SPECIAL && t->v[k].special == c;
}

/* tok_text - the text of token k (never NULL) */
static const char *
tok_text(const struct toks *t, size_t k)
{
    return t->text.data ? t->text.data + t->v[k].off : "";
}

/* join - append the text of tokens a..b (comments left out) to out; with
 * spaced, one space where the field had white space (a phrase) */
static void
join(struct buf *out, const struct toks *t, size_t a, size_t b, bool spaced)
{
    for (size_t k = a; k < b; k++) {
        if (t->v[k].kind == TOK_COMMENT)
            continue;
        if (spaced && t->v[k].space && out->len > 0)
            buf_putc(out, ' ');
        buf_append(out, tok_text(t, k), t->v[k].len);
    }
}

/* An address list being written: items go to out, counted. */
struct alist {
    struct buf out;
    size_t     count;
};

/* emit - one address: name, adl NIL when NULL; local and domain get
 * Dovecot's placeholders when empty (a NIL host would be a group) */
static void
emit(struct alist *al, const struct buf *name, const struct buf *adl,
     const struct buf *local, const struct buf *domain)
{
    buf_putc(&al->out, '(');
    imap_fmt_nstring(&al->out, name->len ? name->data : NULL, name->len);
    buf_putc(&al->out, ' ');
    imap_fmt_nstring(&al->out, adl->len ? adl->data : NULL, adl->len);
    buf_putc(&al->out, ' ');
    if (local->len)
        imap_fmt_string(&al->out, local->data, local->len);
    else
        buf_puts(&al->out, "\"MISSING_MAILBOX\"");
    buf_putc(&al->out, ' ');
    if (domain->len)
        imap_fmt_string(&al->out, domain->data, domain->len);
    else
        buf_puts(&al->out, "\"MISSING_DOMAIN\"");
    buf_putc(&al->out, ')');
    al->count++;
}

/* addr_spec - split tokens a..b at the first "@" into local and domain */
static void
addr_spec(const struct toks *t, size_t a, size_t b, struct buf *local, struct buf *domain)
{
    size_t at = a;

    while (at < b && !is_special(t, at, '@'))
        at++;
    join(local, t, a, at, false);
    if (at < b)
        join(domain, t, at + 1, b, false);
}

/* parse_addresses - the address list v[0..n) into al (RFC 5322 3.4) */
static void
parse_addresses(struct alist *al, const char *v, size_t n)
{
    struct toks t = { NULL, 0, 0, BUF_INIT };
    struct buf name = BUF_INIT, adl = BUF_INIT, local = BUF_INIT, domain = BUF_INIT;
    bool in_group = false;
    size_t i = 0;

    tokenize(&t, v, n);
    while (i < t.n) {
        size_t j = i;

        buf_reset(&name);
        buf_reset(&adl);
        buf_reset(&local);
        buf_reset(&domain);
        while (j < t.n && !is_special(&t, j, ',') && !is_special(&t, j, ';')
               && !is_special(&t, j, ':') && !is_special(&t, j, '<'))
            j++;
        if (is_special(&t, j, ':')) {
            /* group: display-name ":" [group-list] ";" (3.4); a colon
             * inside a group is junk and so is what came before it */
            if (!in_group) {
                join(&name, &t, i, j, true);
                buf_puts(&al->out, "(NIL NIL ");
                imap_fmt_string(&al->out, buf_cstr(&name), name.len);
                buf_puts(&al->out, " NIL)");
                al->count++;
                in_group = true;
            }
            i = j + 1;
            continue;
        }
        if (is_special(&t, j, '<')) {
            /* name-addr: [display-name] "<" [route ":"] addr-spec ">" */
            size_t k = j + 1, e, a;

            join(&name, &t, i, j, true);
            e = k;
            while (e < t.n && !is_special(&t, e, '>'))
                e++;
            a = k;
            if (is_special(&t, k, '@')) {           /* obs-route, 4.4 */
                while (a < e && !is_special(&t, a, ':'))
                    a++;
                if (a < e) {
                    join(&adl, &t, k, a, false);
                    a++;
                } else {
                    a = k;
                }
            }
            addr_spec(&t, a, e, &local, &domain);
            if (name.len || adl.len || local.len || domain.len)
                emit(al, &name, &adl, &local, &domain);
            for (i = e + (e < t.n); i < t.n && !is_special(&t, i, ',')
                 && !is_special(&t, i, ';'); i++)
                ;                                   /* junk after ">" */
        } else {
            /* addr-spec; a comment after it is the name, as Dovecot does */
            bool word = false;

            for (size_t k = i; k < j; k++) {
                if (t.v[k].kind != TOK_COMMENT) {
                    word = true;
                } else if (word) {
                    buf_reset(&name);
                    buf_append(&name, tok_text(&t, k), t.v[k].len);
                }
            }
            addr_spec(&t, i, j, &local, &domain);
            if (local.len || domain.len)
                emit(al, &name, &adl, &local, &domain);
            i = j;
        }
        if (is_special(&t, i, ';') && in_group) {
            buf_puts(&al->out, "(NIL NIL NIL NIL)");
            al->count++;
            in_group = false;
        }
        i += i < t.n;       /* the "," or ";" */
    }
    if (in_group) {
        buf_puts(&al->out, "(NIL NIL NIL NIL)");
        al->count++;
    }
    free(t.v);
    buf_free(&t.text);
    buf_free(&name);
    buf_free(&adl);
    buf_free(&local);
    buf_free(&domain);
}

/* env_string - the unfolded value of field name as an nstring */
static void
env_string(struct buf *out, const char *hdr, size_t len, const char *name)
{
    struct mime_field f;
    struct buf v = BUF_INIT;

    if (!mime_field_find(hdr, len, name, &f)) {
        buf_puts(out, "NIL");
        return;
    }
    mime_unfold(&v, f.value, f.valuelen);
    imap_fmt_string(out, buf_cstr(&v), v.len);
    buf_free(&v);
}

/* env_addresses - the address list of field name into al */
static void
env_addresses(struct alist *al, const char *hdr, size_t len, const char *name)
{
    struct mime_field f;
    struct buf v = BUF_INIT;

    buf_init(&al->out);
    al->count = 0;
    if (!mime_field_find(hdr, len, name, &f))
        return;
    mime_unfold(&v, f.value, f.valuelen);
    parse_addresses(al, v.data ? v.data : "", v.len);
    buf_free(&v);
}

/* put_alist - an address list, or NIL when it has none */
static void
put_alist(struct buf *out, const struct alist *al)
{
    if (al->count == 0) {
        buf_puts(out, "NIL");
        return;
    }
    buf_putc(out, '(');
    buf_append(out, al->out.data, al->out.len);
    buf_putc(out, ')');
}

/* imap_msg_envelope - see message.h */
void
imap_msg_envelope(struct buf *out, const char *hdr, size_t len)
{
    static const char *const lists[] = { "From", "Sender", "Reply-To", "To", "Cc", "Bcc" };
    struct alist al[6];

    for (size_t k = 0; k < 6; k++)
        env_addresses(&al[k], hdr, len, lists[k]);
    buf_putc(out, '(');
    env_string(out, hdr, len, "Date");
    buf_putc(out, ' ');
    env_string(out, hdr, len, "Subject");
    for (size_t k = 0; k < 6; k++) {
        /* RFC 3501 7.4.2: absent or empty Sender/Reply-To are From */
        buf_putc(out, ' ');
        put_alist(out, (k == 1 || k == 2) && al[k].count == 0 ? &al[0] : &al[k]);
    }
    buf_putc(out, ' ');
    env_string(out, hdr, len, "In-Reply-To");
    buf_putc(out, ' ');
    env_string(out, hdr, len, "Message-ID");
    buf_putc(out, ')');
    for (size_t k = 0; k < 6; k++)
        buf_free(&al[k].out);
}

/* ---- BODY and BODYSTRUCTURE ---- */

/* put_params - a body-fld-param list, NIL when empty; charset adds
 * ("charset" "us-ascii") when there is no charset (RFC 2045 5.2) */
static void
put_params(struct buf *out, const struct mime_param *params, size_t n, bool charset)
{
    const char *sep = "(";

    for (size_t i = 0; i < n; i++) {
        buf_puts(out, sep);
        imap_fmt_nstringz(out, params[i].name);
        buf_putc(out, ' ');
        imap_fmt_nstringz(out, params[i].value);
        sep = " ";
        if (strcasecmp(params[i].name, "charset") == 0)
            charset = false;
    }
    if (charset) {
        buf_puts(out, sep);
        buf_puts(out, "\"charset\" \"us-ascii\"");
        sep = " ";
    }
    buf_puts(out, sep[0] == '(' ? "NIL" : ")");
}

/* put_ext - body-fld-dsp body-fld-lang body-fld-loc, each after a space */
static void
put_ext(struct buf *out, const struct mime_part *p)
{
    buf_putc(out, ' ');
    if (p->disposition) {
        buf_putc(out, '(');
        imap_fmt_nstringz(out, p->disposition);
        buf_putc(out, ' ');
        put_params(out, p->dparams, p->ndparams, false);
        buf_putc(out, ')');
    } else {
        buf_puts(out, "NIL");
    }
    buf_putc(out, ' ');
    if (p->nlanguage > 0) {
        for (size_t i = 0; i < p->nlanguage; i++) {
            buf_putc(out, i ? ' ' : '(');
            imap_fmt_nstringz(out, p->language[i]);
        }
        buf_putc(out, ')');
    } else {
        buf_puts(out, "NIL");
    }
    buf_putc(out, ' ');
    imap_fmt_nstringz(out, p->location);
}

/* put_body - one body (RFC 9051 9 "body"); recursion as deep as the
 * tree, which mime_parse bounds */
static void
put_body(struct buf *out, const struct imap_msg *m, const struct mime_part *p, bool ext)
{
    buf_putc(out, '(');
    if (p->kind == MIME_MULTIPART) {
        for (size_t i = 0; i < p->nparts; i++)
            put_body(out, m, &p->parts[i], ext);
        buf_putc(out, ' ');
        imap_fmt_nstringz(out, p->subtype);
        if (ext) {
            buf_putc(out, ' ');
            put_params(out, p->params, p->nparams, false);
            put_ext(out, p);
        }
        buf_putc(out, ')');
        return;
    }
    bool text = strcasecmp(p->type, "text") == 0;

    imap_fmt_nstringz(out, p->type);
    buf_putc(out, ' ');
    imap_fmt_nstringz(out, p->subtype);
    buf_putc(out, ' ');
    put_params(out, p->params, p->nparams, text);
    buf_putc(out, ' ');
    imap_fmt_nstringz(out, p->id);
    buf_putc(out, ' ');
    imap_fmt_nstringz(out, p->description);
    buf_putc(out, ' ');
    imap_fmt_nstringz(out, p->encoding ? p->encoding : "7bit");
    buf_printf(out, " %zu", p->body_len);
    if (p->kind == MIME_MESSAGE) {
        buf_putc(out, ' ');
        imap_msg_envelope(out, m->data + p->msg->hdr_off, p->msg->hdr_len);
        buf_putc(out, ' ');
        put_body(out, m, p->msg, ext);
        buf_printf(out, " %zu", p->lines);
    } else if (text) {
        buf_printf(out, " %zu", p->lines);
    }
    if (ext) {
        buf_puts(out, " NIL");          /* body-fld-md5 */
        put_ext(out, p);
    }
    buf_putc(out, ')');
}

/* imap_msg_bodystructure - see message.h */
void
imap_msg_bodystructure(struct buf *out, const struct imap_msg *m, bool ext)
{
    put_body(out, m, &m->root, ext);
}

/* ---- sections ---- */

/* message_child - part x of a message: its parts when it is multipart,
 * else part 1 is the message itself */
static const struct mime_part *
message_child(const struct mime_part *msg, uint32_t x)
{
    if (msg->kind == MIME_MULTIPART)
        return x >= 1 && x <= msg->nparts ? &msg->parts[x - 1] : NULL;
    return x == 1 ? msg : NULL;
}

/* imap_msg_part - see message.h */
const struct mime_part *
imap_msg_part(const struct imap_msg *m, const uint32_t *part, size_t n)
{
    const struct mime_part *p = &m->root;

    if (n == 0)
        return p;
    p = message_child(p, part[0]);
    for (size_t k = 1; p != NULL && k < n; k++) {
        if (p->kind == MIME_MULTIPART)
            p = part[k] >= 1 && part[k] <= p->nparts ? &p->parts[part[k] - 1] : NULL;
        else if (p->kind == MIME_MESSAGE)
            p = message_child(p->msg, part[k]);
        else
            p = NULL;
    }
    return p;
}

/* field_listed - is f's name one of names (any case)? */
static bool
field_listed(const struct mime_field *f, char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == f->namelen && strncasecmp(names[i], f->name, f->namelen) == 0)
            return true;
    return false;
}

/* imap_msg_section - see message.h */
bool
imap_msg_section(const struct imap_msg *m, const uint32_t *part, size_t nparts,
                 enum imap_msg_sect kind, char *const *fields, size_t nfields,
                 struct buf *scratch, const char **p, size_t *n)
{
    const struct mime_part *pt = imap_msg_part(m, part, nparts), *msg;
    const char *d = m->data;
    struct mime_field f;
    size_t pos = 0;

    *p = "";
    *n = 0;
    if (pt == NULL)
        return false;
    if (kind == IMAP_MSG_SECT_ALL) {
        *p = nparts ? d + pt->body_off : d;
        *n = nparts ? pt->body_len : m->len;
        return true;
    }
    if (kind == IMAP_MSG_SECT_MIME) {
        if (nparts == 0)
            return false;
        *p = d + pt->hdr_off;
        *n = pt->hdr_len;
        return true;
    }
    msg = nparts ? pt->msg : pt;                    /* NULL unless a message */
    if (msg == NULL)
        return false;
    if (kind == IMAP_MSG_SECT_HEADER) {
        *p = d + msg->hdr_off;
        *n = msg->hdr_len;
        return true;
    }
    if (kind == IMAP_MSG_SECT_TEXT) {
        *p = d + msg->body_off;
        *n = msg->body_len;
        return true;
    }
    buf_reset(scratch);
    while (mime_field_next(d + msg->hdr_off, msg->hdr_len, &pos, &f))
        if (field_listed(&f, fields, nfields) == (kind == IMAP_MSG_SECT_FIELDS))
            buf_append(scratch, f.line, f.linelen);
    buf_puts(scratch, "\r\n");
    *p = scratch->data;
    *n = scratch->len;
    return true;
}

/* imap_msg_partial - see message.h */
void
imap_msg_partial(const char *p, size_t n, uint64_t off, uint64_t len,
                 const char **rp, size_t *rn)
{
    if (off >= n) {
        *rp = p + n;
        *rn = 0;
        return;
    }
    *rp = p + off;
    *rn = len < n - off ? (size_t)len : n - (size_t)off;
}

/* imap_msg_binary - see message.h */
enum imap_bin_err
imap_msg_binary(const struct imap_msg *m, const uint32_t *part, size_t nparts,
                struct buf *scratch, const char **p, size_t *n)
{
    const struct mime_part *pt = imap_msg_part(m, part, nparts);
    enum mime_cte cte;

    *p = "";
    *n = 0;
    buf_reset(scratch);
    if (pt == NULL)
        return IMAP_BIN_NOPART;
    if (nparts == 0) {
        *p = m->data;
        *n = m->len;
        return IMAP_BIN_OK;
    }
    cte = pt->kind == MIME_LEAF ? mime_cte(pt) : MIME_CTE_IDENTITY;
    if (cte == MIME_CTE_UNKNOWN)
        return IMAP_BIN_UNKNOWN_CTE;
    if (cte == MIME_CTE_IDENTITY) {
        *p = m->data + pt->body_off;
        *n = pt->body_len;
        return IMAP_BIN_OK;
    }
    mime_decode(scratch, cte, m->data + pt->body_off, pt->body_len);
    *p = scratch->data ? scratch->data : "";
    *n = scratch->len;
    return IMAP_BIN_OK;
}

/* imap_msg_binary_size - see message.h */
enum imap_bin_err
imap_msg_binary_size(const struct imap_msg *m, const uint32_t *part, size_t nparts,
                     size_t *size)
{
    struct buf scratch = BUF_INIT;
    const char *p;
    enum imap_bin_err e = imap_msg_binary(m, part, nparts, &scratch, &p, size);

    buf_free(&scratch);
    return e;
}

/* ---- SEARCH ---- */

/* A needle folded to lower case, and a buffer for each haystack. */
struct finder {
    struct buf needle, hay;
};

/* fold - append p[0..n) to out with ASCII letters in lower case */
static void
fold(struct buf *out, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = p[i];

        buf_putc(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c);
    }
}

/* finder_init - fold the needle once */
static void
finder_init(struct finder *f, const char *needle, size_t nlen)
{
    buf_init(&f->needle);
    buf_init(&f->hay);
    fold(&f->needle, needle, nlen);
}

/* finder_free - release both buffers */
static void
finder_free(struct finder *f)
{
    buf_free(&f->needle);
    buf_free(&f->hay);
}

/* finder_in - is the needle in p[0..n)? memmem is linear (two-way), so a
 * long needle costs no more than a short one */
static bool
finder_in(struct finder *f, const char *p, size_t n)
{
    if (f->needle.len == 0)
        return true;
    buf_reset(&f->hay);
    fold(&f->hay, p, n);
    return f->hay.len >= f->needle.len
        && memmem(f->hay.data, f->hay.len, f->needle.data, f->needle.len) != NULL;
}

/* imap_msg_header_search - see message.h */
bool
imap_msg_header_search(const struct imap_msg *m, const char *name,
                       const char *needle, size_t nlen)
{
    const struct mime_part *r = &m->root;
    struct finder fd;
    struct mime_field f;
    struct buf v = BUF_INIT, d = BUF_INIT;
    size_t pos = 0, nl = strlen(name);
    bool found = false;

    finder_init(&fd, needle, nlen);
    while (!found && mime_field_next(m->data + r->hdr_off, r->hdr_len, &pos, &f)) {
        if (f.namelen != nl || strncasecmp(f.name, name, nl) != 0)
            continue;
        buf_reset(&v);
        buf_reset(&d);
        mime_unfold(&v, f.value, f.valuelen);
        /* RFC 9051 6.4.4: encoded words are compared decoded */
        mime_decode_words(&d, v.data ? v.data : "", v.len);
        found = finder_in(&fd, d.data ? d.data : "", d.len);
    }
    buf_free(&v);
    buf_free(&d);
    finder_free(&fd);
    return found;
}

/* body_search - search the leaves of p; recursion bounded by the tree */
static bool
body_search(const struct imap_msg *m, const struct mime_part *p, struct finder *fd,
            struct buf *dec)
{
    if (p->kind == MIME_MULTIPART) {
        for (size_t i = 0; i < p->nparts; i++)
            if (body_search(m, &p->parts[i], fd, dec))
                return true;
        return false;
    }
    if (p->kind == MIME_MESSAGE)
        return body_search(m, p->msg, fd, dec);
    if (strcasecmp(p->type, "text") == 0 && mime_cte(p) != MIME_CTE_IDENTITY) {
        buf_reset(dec);
        if (mime_decode(dec, mime_cte(p), m->data + p->body_off, p->body_len))
            return finder_in(fd, dec->data ? dec->data : "", dec->len);
    }
    return finder_in(fd, m->data + p->body_off, p->body_len);
}

/* imap_msg_body_search - see message.h */
bool
imap_msg_body_search(const struct imap_msg *m, const char *needle, size_t nlen)
{
    struct finder fd;
    struct buf dec = BUF_INIT;
    bool found;

    if (nlen == 0)
        return true;
    finder_init(&fd, needle, nlen);
    found = body_search(m, &m->root, &fd, &dec);
    buf_free(&dec);
    finder_free(&fd);
    return found;
}

/* imap_msg_text_search - see message.h */
bool
imap_msg_text_search(const struct imap_msg *m, const char *needle, size_t nlen)
{
    const struct mime_part *r = &m->root;
    struct finder fd;
    struct mime_field f;
    struct buf v = BUF_INIT, d = BUF_INIT;
    size_t pos = 0;
    bool found = nlen == 0;

    finder_init(&fd, needle, nlen);
    while (!found && mime_field_next(m->data + r->hdr_off, r->hdr_len, &pos, &f)) {
        buf_reset(&v);
        buf_reset(&d);
        mime_unfold(&v, f.line, f.linelen);     /* "Name: value", one line */
        mime_decode_words(&d, v.data ? v.data : "", v.len);
        found = finder_in(&fd, d.data ? d.data : "", d.len);
    }
    buf_free(&v);
    buf_free(&d);
    finder_free(&fd);
    return found || imap_msg_body_search(m, needle, nlen);
}

/* ---- Date: ---- */

/* A cursor over a date-time. */
struct dcur {
    const char *s;
    size_t      n, i;
};

/* d_cfws - skip white space and comments */
static void
d_cfws(struct dcur *d)
{
    size_t depth = 0;

    while (d->i < d->n) {
        char c = d->s[d->i];

        if (depth > 0 && c == '\\' && d->i + 1 < d->n)
            d->i++;
        else if (c == '(')
            depth++;
        else if (depth > 0 && c == ')')
            depth--;
        else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
        d->i++;
    }
}

/* d_num - 1..max digits after CFWS into *v; *ndig is how many */
static bool
d_num(struct dcur *d, size_t max, int *v, size_t *ndig)
{
    size_t k = 0;

    d_cfws(d);
    *v = 0;
    while (d->i < d->n && d->s[d->i] >= '0' && d->s[d->i] <= '9') {
        if (++k > max)
            return false;
        *v = *v * 10 + (d->s[d->i++] - '0');
    }
    if (ndig)
        *ndig = k;
    return k > 0;
}

/* d_word - a run of 1..15 letters after CFWS into w (NUL-terminated) */
static bool
d_word(struct dcur *d, char w[16])
{
    size_t k = 0;

    d_cfws(d);
    while (d->i < d->n && ((d->s[d->i] >= 'A' && d->s[d->i] <= 'Z')
                           || (d->s[d->i] >= 'a' && d->s[d->i] <= 'z'))) {
        if (k == 15)
            return false;
        w[k++] = d->s[d->i++];
    }
    w[k] = '\0';
    return k > 0;
}

/* d_char - the character c after CFWS */
static bool
d_char(struct dcur *d, char c)
{
    d_cfws(d);
    if (d->i < d->n && d->s[d->i] == c) {
        d->i++;
        return true;
    }
    return false;
}

/* zone_name - RFC 5322 4.3 obs-zone: offset in hours of a named zone;
 * unknown names (military letters included) are -0000, i.e. 0 */
static int
zone_name(const char *w)
{
    static const struct {
        const char *name;
        int         hours;
    } zones[] = {
        { "EST", -5 }, { "EDT", -4 }, { "CST", -6 }, { "CDT", -5 },
        { "MST", -7 }, { "MDT", -6 }, { "PST", -8 }, { "PDT", -7 },
    };

    for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strcasecmp(w, zones[i].name) == 0)
            return zones[i].hours;
    return 0;
}

/* imap_msg_date_parse - see message.h */
bool
imap_msg_date_parse(const char *s, size_t n, time_t *t, int *tzoff)
{
    static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    struct dcur d = { s, n, 0 };
    char w[16];
    int day, mon = -1, year, hh, mm, ss = 0, off = 0;
    size_t ydig, save;

    save = d.i;
    if (d_word(&d, w))                  /* day-of-week [","] */
        (void)d_char(&d, ',');
    else
        d.i = save;
    if (!d_num(&d, 2, &day, NULL) || !d_word(&d, w) || strlen(w) != 3)
        return false;
    for (int k = 0; k < 12; k++)
        if (strncasecmp(w, months + 3 * k, 3) == 0)
            mon = k;
    if (mon < 0 || !d_num(&d, 4, &year, &ydig) || ydig < 2)
        return false;
    if (ydig == 2)
        year += year < 50 ? 2000 : 1900;        /* RFC 5322 4.3 */
    else if (ydig == 3)
        year += 1900;
    if (!d_num(&d, 2, &hh, NULL) || !d_char(&d, ':') || !d_num(&d, 2, &mm, NULL))
        return false;
    if (d_char(&d, ':') && !d_num(&d, 2, &ss, NULL))
        return false;
    if (year < 1900 || day < 1 || day > mdays[mon] || hh > 23 || mm > 59 || ss > 60)
        return false;
    if (mon == 1 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)))
        return false;
    d_cfws(&d);
    if (d.i < d.n && (d.s[d.i] == '+' || d.s[d.i] == '-')) {
        int z, sign = d.s[d.i++] == '-' ? -1 : 1;
        size_t zdig;

        if (!d_num(&d, 4, &z, &zdig) || zdig != 4 || z % 100 > 59)
            return false;
        off = sign * (z / 100 * 3600 + z % 100 * 60);
    } else if (d_word(&d, w)) {
        off = zone_name(w) * 3600;
    }
    /* Whatever follows the zone (a comment, "(PST)", junk) is ignored. */
    *t = (time_t)(date_days_from_civil(year, mon + 1, day) * 86400 + hh * 3600 + mm * 60 + ss
                  - off);
    *tzoff = off;
    return true;
}

/* imap_msg_sent_date - see message.h */
bool
imap_msg_sent_date(const struct imap_msg *m, time_t *t, int *tzoff)
{
    struct mime_field f;
    struct buf v = BUF_INIT;
    bool ok;

    if (!mime_field_find(m->data + m->root.hdr_off, m->root.hdr_len, "Date", &f))
        return false;
    mime_unfold(&v, f.value, f.valuelen);
    ok = imap_msg_date_parse(v.data ? v.data : "", v.len, t, tzoff);
    buf_free(&v);
    return ok;
}
