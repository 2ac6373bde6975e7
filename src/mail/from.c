/*
 * from - the RFC5322.From domain of a message; see from.h.
 *
 * Two passes over the field body. The lexer turns it into tokens,
 * dropping white space, folding and comments (CFWS, RFC 5322 3.2.2):
 * atoms, quoted strings, encoded words, domain literals and the specials
 * that the address grammar needs ("<>@,;:."). The parser then walks the
 * tokens as RFC 5322 3.4 address-list, with the obsolete forms of 4.4;
 * because CFWS is gone, "a . b @ c . d" and "a.b@c.d" read the same, as
 * obs-local-part and obs-domain allow. Every mailbox is counted; only the
 * first one is kept.
 *
 * Hostile input is refused rather than guessed at: stray specials, NUL
 * or CR anywhere, an unterminated quoted string, comment or literal, an
 * address followed by anything but a comma (so "a@evil.example
 * <b@good.example>", which two programs would read two ways, is a syntax
 * error), dots at the ends of a domain.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* this module */
#include "mail/from.h"
#include "mail/header.h"

/* utilities */
#include "util/xmalloc.h"

#define FROM_LABEL_MAX 63       /* octets of a DNS label (RFC 1035 2.3.4) */

enum tok_kind {
    T_END,          /* the end of the field body */
    T_ATOM,         /* 1*atext (RFC 5322 3.2.3, with UTF-8: RFC 6532 3.2) */
    T_QUOTED,       /* a quoted string, quotes included */
    T_EW,           /* an encoded word (RFC 2047 2) */
    T_LITERAL,      /* a domain literal, brackets included */
    T_SPECIAL,      /* one of < > @ , ; : . in c */
};

struct tok {
    enum tok_kind kind;
    char          c;        /* T_SPECIAL: which */
    size_t        off;      /* where in the field body */
    size_t        len;
};

/* The token list; the last one is always T_END once lexing succeeded. */
struct toks {
    struct tok *v;
    size_t      n;
    size_t      cap;
};

/*
 * The parser's state. Invariant: pos < toks.n and the token at toks.n - 1
 * is T_END, so peeking at pos never runs off the list.
 */
struct parser {
    const char       *v;        /* the field body */
    struct toks       t;
    size_t            pos;
    size_t            count;    /* mailboxes seen so far */
    enum from_status  first;    /* the first mailbox: OK, NO_DOMAIN, TOO_LONG */
    struct from_addr *out;      /* the first mailbox */
    from_each_fn      each;     /* from_list: called for every mailbox */
    void             *each_arg;
};

/* ---- lexer ----------------------------------------------------------- */

/* is_atext - RFC 5322 3.2.3 atext, and any non-ASCII octet (RFC 6532) */
static bool
is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80)
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* is_ew_token - RFC 2047 2 token: CHAR but SPACE, CTLs and especials */
static bool
is_ew_token(unsigned char c)
{
    return c > ' ' && c < 0x7f && strchr("()<>@,;:\"/[]?.=", c) == NULL;
}

/*
 * ew_len - the length of the encoded word "=?charset?B|Q?text?=" at v[i],
 * or 0 when there is none. RFC 2047 5: an encoded word stands apart from
 * the words around it, so one followed by more atext is just an atom.
 */
static size_t
ew_len(const char *v, size_t i, size_t n)
{
    size_t j = i, s;

    if (n - i < 2 || v[j] != '=' || v[j + 1] != '?')
        return 0;
    j += 2;
    for (s = j; j < n && is_ew_token((unsigned char)v[j]); j++)
        ;
    if (j == s || j >= n || v[j] != '?')
        return 0;
    j++;
    if (n - j < 2 || (v[j] != 'B' && v[j] != 'b' && v[j] != 'Q' && v[j] != 'q') || v[j + 1] != '?')
        return 0;
    j += 2;
    /* encoded-text: printable ASCII but '?' and space, at least one */
    for (s = j; j < n && (unsigned char)v[j] > ' ' && (unsigned char)v[j] < 0x7f
                && v[j] != '?'; j++)
        ;
    if (j == s || n - j < 2 || v[j] != '?' || v[j + 1] != '=')
        return 0;
    j += 2;
    if (j < n && is_atext((unsigned char)v[j]))
        return 0;
    return j - i;
}

/*
 * skip_cfws - move *i past white space, folding (an LF inside the body is
 * always followed by WSP) and comments, nested, with quoted pairs. False
 * on an unterminated comment or a NUL or CR in one.
 */
static bool
skip_cfws(const char *v, size_t n, size_t *i)
{
    size_t j = *i;

    while (j < n) {
        char c = v[j];

        if (c == ' ' || c == '\t' || c == '\n') {
            j++;
            continue;
        }
        if (c != '(')
            break;
        size_t depth = 1;
        j++;
        while (depth > 0) {
            if (j >= n)
                return false;
            c = v[j];
            if (c == '\\') {
                if (j + 1 >= n || v[j + 1] == '\0' || v[j + 1] == '\r' || v[j + 1] == '\n')
                    return false;
                j += 2;
                continue;
            }
            if (c == '\0' || c == '\r')
                return false;
            if (c == '(')
                depth++;
            else if (c == ')')
                depth--;
            j++;
        }
    }
    *i = j;
    return true;
}

/*
 * delimited_end - one past the close of the quoted string (close '"') or
 * domain literal (close ']') that starts at v[i]; 0 when unterminated or
 * when it holds a NUL, a CR, an escaped LF or (literal) another '['.
 */
static size_t
delimited_end(const char *v, size_t i, size_t n, char close)
{
    for (size_t j = i + 1; j < n; j++) {
        char c = v[j];

        if (c == close)
            return j + 1;
        if (c == '\\') {
            if (j + 1 >= n || v[j + 1] == '\0' || v[j + 1] == '\r' || v[j + 1] == '\n')
                return 0;
            j++;
            continue;
        }
        if (c == '\0' || c == '\r' || (close == ']' && c == '['))
            return 0;
    }
    return 0;
}

/* toks_push - append one token */
static void
toks_push(struct toks *t, enum tok_kind kind, char c, size_t off, size_t len)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 32;
        t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
    }
    t->v[t->n++] = (struct tok){ .kind = kind, .c = c, .off = off, .len = len };
}

/* lex - the tokens of v[0..n), ending with T_END; false on bad input */
static bool
lex(const char *v, size_t n, struct toks *t)
{
    size_t i = 0, j;

    for (;;) {
        if (!skip_cfws(v, n, &i))
            return false;
        if (i >= n) {
            toks_push(t, T_END, 0, n, 0);
            return true;
        }
        unsigned char c = (unsigned char)v[i];
        switch (c) {
        case '"':
        case '[':
            j = delimited_end(v, i, n, c == '"' ? '"' : ']');
            if (j == 0)
                return false;
            toks_push(t, c == '"' ? T_QUOTED : T_LITERAL, 0, i, j - i);
            i = j;
            continue;
        case '<': case '>': case '@': case ',': case ';': case ':': case '.':
            toks_push(t, T_SPECIAL, (char)c, i, 1);
            i++;
            continue;
        default:
            break;
        }
        if (c == '=' && (j = ew_len(v, i, n)) > 0) {
            toks_push(t, T_EW, 0, i, j);
            i += j;
            continue;
        }
        if (!is_atext(c))
            return false;           /* ) ] \ controls, CR, NUL, DEL */
        for (j = i; j < n && is_atext((unsigned char)v[j]); j++)
            ;
        toks_push(t, T_ATOM, 0, i, j - i);
        i = j;
    }
}

/* ---- parser ---------------------------------------------------------- */

static const struct tok *
peek(const struct parser *p)
{
    return &p->t.v[p->pos];
}

static bool
is_special(const struct tok *t, char c)
{
    return t->kind == T_SPECIAL && t->c == c;
}

static bool
is_word(const struct tok *t)
{
    return t->kind == T_ATOM || t->kind == T_QUOTED || t->kind == T_EW;
}

/* skip_run - move past words and dots: a phrase or a local part */
static void
skip_run(struct parser *p)
{
    while (is_word(peek(p)) || is_special(peek(p), '.'))
        p->pos++;
}

/*
 * phrase_ok - tokens [s, e) as a display name (obs-phrase: a word, then
 * words and dots); may_be_empty for the optional one of name-addr
 */
static bool
phrase_ok(const struct parser *p, size_t s, size_t e, bool may_be_empty)
{
    if (s == e)
        return may_be_empty;
    return is_word(&p->t.v[s]);
}

/*
 * local_ok - tokens [s, e) as a local part: words separated by dots
 * (obs-local-part), no encoded word (RFC 2047 5). Consecutive dots are
 * tolerated: some senders use them and DMARC ignores the local part.
 */
static bool
local_ok(const struct parser *p, size_t s, size_t e)
{
    if (s == e || !is_word(&p->t.v[s]) || !is_word(&p->t.v[e - 1]))
        return false;
    for (size_t k = s; k < e; k++) {
        if (p->t.v[k].kind == T_EW)
            return false;
        if (k > s && is_word(&p->t.v[k]) && is_word(&p->t.v[k - 1]))
            return false;
    }
    return true;
}

/* utf8_ok - is s[0..n) well-formed UTF-8 (RFC 3629: no overlongs, no surrogates) */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned long cp;

        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            k = 1, cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            k = 2, cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3, cp = c & 0x07;
        } else {
            return false;
        }
        if (n - i <= k)
            return false;
        for (size_t m = 1; m <= k; m++) {
            if ((s[i + m] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + m] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff))
            || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

/* label_ok - an atom as a host name label: LDH, '_', UTF-8 (U-labels) */
static bool
label_ok(const char *s, size_t n)
{
    bool ascii = true;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x80)
            ascii = false;
        else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                   || c == '-' || c == '_'))
            return false;
    }
    /* XXX the 63-octet limit is on the A-label, which a U-label's UTF-8
     * length does not give; U-labels are left to the lookup to refuse */
    if (ascii)
        return n <= FROM_LABEL_MAX;
    return utf8_ok((const unsigned char *)s, n);
}

/*
 * parse_domain - a domain at pos: atoms joined by dots (CFWS around the
 * dots is obs-domain), or a domain literal (*literal set, [*s, *e)
 * empty). The tokens of the domain are [*s, *e), atoms and dots.
 */
static bool
parse_domain(struct parser *p, size_t *s, size_t *e, bool *literal)
{
    *literal = false;
    *s = *e = p->pos;
    if (peek(p)->kind == T_LITERAL) {
        *literal = true;
        p->pos++;
        *s = *e = p->pos;
        return true;
    }
    for (;;) {
        const struct tok *t = peek(p);

        if (t->kind != T_ATOM || !label_ok(p->v + t->off, t->len))
            return false;
        p->pos++;
        if (!is_special(peek(p), '.'))
            break;
        p->pos++;                   /* and an atom must follow */
    }
    *e = p->pos;
    return true;
}

/*
 * fill - the mailbox of local part [ls, le) and domain [ds, de) (empty:
 * none) into *o: FROM_OK, FROM_NO_DOMAIN or FROM_TOO_LONG
 */
static enum from_status
fill(const struct parser *p, struct from_addr *o, size_t ls, size_t le, size_t ds, size_t de)
{
    size_t an = 0, dn = 0;

    o->domain[0] = o->address[0] = '\0';
    for (size_t k = ds; k < de; k++) {
        const struct tok *t = &p->t.v[k];
        const char *src = t->kind == T_SPECIAL ? "." : p->v + t->off;

        if (dn + t->len >= sizeof(o->domain)) {
            o->domain[0] = '\0';
            return FROM_TOO_LONG;
        }
        for (size_t m = 0; m < t->len; m++) {
            char c = src[m];
            o->domain[dn++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
    }
    o->domain[dn] = '\0';
    for (size_t k = ls; k < le; k++) {
        const struct tok *t = &p->t.v[k];
        const char *src = t->kind == T_SPECIAL ? "." : p->v + t->off;

        for (size_t m = 0; m < t->len; m++) {
            if (src[m] == '\n')
                continue;           /* folding inside a quoted string */
            if (an + 1 >= sizeof(o->address)) {
                o->address[0] = '\0';
                return FROM_TOO_LONG;
            }
            o->address[an++] = src[m];
        }
    }
    if (dn > 0) {
        if (an + 1 + dn >= sizeof(o->address)) {
            o->address[0] = '\0';
            return FROM_TOO_LONG;
        }
        o->address[an++] = '@';
        memcpy(o->address + an, o->domain, dn);
        an += dn;
    }
    o->address[an] = '\0';
    return dn > 0 ? FROM_OK : FROM_NO_DOMAIN;
}

/*
 * keep_first - record the mailbox of local part [ls, le) and domain
 * [ds, de) as the first one, or just count a later one; from_list hears
 * of each
 */
static void
keep_first(struct parser *p, size_t ls, size_t le, size_t ds, size_t de)
{
    if (p->each) {
        struct from_addr a;
        enum from_status st = fill(p, &a, ls, le, ds, de);
        p->each(p->each_arg, st, &a);
    }
    if (p->count++ > 0)
        return;
    p->first = fill(p, p->out, ls, le, ds, de);
}

/*
 * parse_addr_spec - the rest of an address whose local part is [ls, le)
 * and which stopped at pos: "@" domain, or nothing (a local part alone,
 * counted as a mailbox without a domain)
 */
static bool
parse_addr_spec(struct parser *p, size_t ls, size_t le)
{
    size_t ds, de;
    bool literal;

    if (!local_ok(p, ls, le))
        return false;
    if (!is_special(peek(p), '@')) {
        keep_first(p, ls, le, 0, 0);
        return true;
    }
    p->pos++;
    if (!parse_domain(p, &ds, &de, &literal))
        return false;
    keep_first(p, ls, le, ds, literal ? ds : de);
    return true;
}

/*
 * parse_angle - angle-addr at '<': an optional obs-route ("@a,@b:"),
 * an addr-spec, '>'
 */
static bool
parse_angle(struct parser *p)
{
    size_t s, e, ds, de;
    bool literal;

    p->pos++;
    if (is_special(peek(p), '@') || is_special(peek(p), ',')) {
        /* obs-route = obs-domain-list ":" (RFC 5322 4.4); the route is ignored */
        for (;;) {
            if (is_special(peek(p), ',')) {
                p->pos++;
            } else if (is_special(peek(p), '@')) {
                p->pos++;
                if (!parse_domain(p, &ds, &de, &literal))
                    return false;
            } else {
                break;
            }
        }
        if (!is_special(peek(p), ':'))
            return false;
        p->pos++;
    }
    s = p->pos;
    skip_run(p);
    e = p->pos;
    if (!parse_addr_spec(p, s, e))
        return false;
    if (!is_special(peek(p), '>'))
        return false;
    p->pos++;
    return true;
}

/*
 * parse_address - one element of the list at pos: name-addr, addr-spec
 * or (outside a group) a group. Stops at what follows it.
 */
static bool
parse_address(struct parser *p, bool in_group)
{
    size_t s = p->pos, e;

    skip_run(p);
    e = p->pos;
    if (is_special(peek(p), '<'))
        return phrase_ok(p, s, e, true) && parse_angle(p);
    if (is_special(peek(p), ':')) {
        /* group = display-name ":" [group-list] ";" (RFC 5322 3.4, RFC 6854) */
        if (in_group || !phrase_ok(p, s, e, false))
            return false;
        p->pos++;
        for (;;) {
            while (is_special(peek(p), ','))
                p->pos++;
            if (is_special(peek(p), ';')) {
                p->pos++;
                return true;
            }
            if (!parse_address(p, true))
                return false;
            if (!is_special(peek(p), ',') && !is_special(peek(p), ';'))
                return false;
        }
    }
    return parse_addr_spec(p, s, e);
}

/* parse_list - address-list with obs-addr-list's empty elements */
static bool
parse_list(struct parser *p)
{
    for (;;) {
        while (is_special(peek(p), ','))
            p->pos++;
        if (peek(p)->kind == T_END)
            return true;
        if (!parse_address(p, false))
            return false;
        if (peek(p)->kind == T_END)
            return true;
        if (!is_special(peek(p), ','))
            return false;
    }
}

enum from_status
from_parse(const char *v, size_t n, struct from_addr *out)
{
    struct parser p = { .v = v, .first = FROM_OK, .out = out };
    enum from_status st;

    out->domain[0] = out->address[0] = '\0';
    if (n > FROM_FIELD_MAX)
        return FROM_TOO_LONG;
    if (!lex(v, n, &p.t) || !parse_list(&p))
        st = FROM_SYNTAX;
    else if (p.count == 0)
        st = FROM_NO_ADDRESS;
    else if (p.count > 1)
        st = FROM_SEVERAL_ADDRESSES;
    else
        st = p.first;
    free(p.t.v);
    if (st != FROM_OK) {
        out->domain[0] = '\0';
        if (st != FROM_NO_DOMAIN)
            out->address[0] = '\0';
    }
    return st;
}

enum from_status
from_list(const char *v, size_t n, from_each_fn each, void *arg)
{
    struct from_addr first;
    struct parser p = { .v = v, .first = FROM_OK, .out = &first, .each = each,
                        .each_arg = arg };
    enum from_status st = FROM_OK;

    if (n > FROM_FIELD_MAX)
        return FROM_TOO_LONG;
    if (!lex(v, n, &p.t) || !parse_list(&p))
        st = FROM_SYNTAX;
    free(p.t.v);
    return st;
}

/* from_field - is line[0..len) a From field? *body: where its body starts */
static bool
from_field(const char *line, size_t len, size_t *body)
{
    size_t k = 4;

    if (len < 5 || strncasecmp(line, "From", 4) != 0)
        return false;
    /* RFC 5322 4.5.3 obs-from: white space before the colon */
    while (k < len && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k >= len || line[k] != ':')
        return false;
    *body = k + 1;
    return true;
}

enum from_status
from_extract(const char *msg, size_t n, struct from_addr *out)
{
    size_t end = header_end(msg, n), i = 0, nfrom = 0, vs = 0, ve = 0, body;
    bool in_from = false;

    out->domain[0] = out->address[0] = '\0';
    while (i < end) {
        const char *line = msg + i;
        const char *nl = memchr(line, '\n', end - i);
        size_t len = nl ? (size_t)(nl - line) : end - i;

        if (line[0] == ' ' || line[0] == '\t') {
            if (in_from)
                ve = i + len;       /* a continuation line of the From field */
        } else if (from_field(line, len, &body)) {
            nfrom++;
            in_from = true;
            vs = i + body;
            ve = i + len;
        } else {
            in_from = false;
        }
        i += len + 1;
    }
    if (nfrom == 0)
        return FROM_NONE;
    if (nfrom > 1)
        return FROM_SEVERAL_FIELDS;
    return from_parse(msg + vs, ve - vs, out);
}

const char *
from_status_text(enum from_status st)
{
    switch (st) {
    case FROM_OK:                return "ok";
    case FROM_NONE:              return "no From field";
    case FROM_SEVERAL_FIELDS:    return "more than one From field";
    case FROM_NO_ADDRESS:        return "no address in From";
    case FROM_SEVERAL_ADDRESSES: return "more than one address in From";
    case FROM_SYNTAX:            return "malformed From";
    case FROM_NO_DOMAIN:         return "no domain in the From address";
    case FROM_TOO_LONG:          return "From address too long";
    }
    return "?";
}
