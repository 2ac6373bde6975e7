/*
 * macro - SPF macro-strings (RFC 7208 7): their syntax, and their
 * expansion from values the caller computed; see spf_priv.h.
 *
 *   macro-string = *( macro-expand / macro-literal )
 *   macro-expand = ( "%{" macro-letter transformers *delimiter "}" )
 *                  / "%%" / "%_" / "%-"
 *   macro-literal = %x21-24 / %x26-7E
 *   transformers = *DIGIT [ "r" ]
 *   delimiter = "." / "-" / "+" / "," / "/" / "_" / "="
 *
 * This file does no DNS: the value of %{p} (the validated name of the
 * client, which takes PTR and address lookups) is computed by spf.c
 * before expanding, when spf_macro_uses_p() says it is needed.
 * Expansion is linear in the length of the values: the transformers are
 * applied by scanning, not by building arrays of parts.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "spf/spf_priv.h"

#define DELIMITERS  ".-+,/_="
#define DIGITS_MAX  1000u       /* more parts than any value has: "all of them" */
/*
 * The window a domain is expanded in. A longer expansion keeps its last
 * octets only: 7.3 truncates on the left, so only the last SPF_NAME_MAX
 * octets and the label boundary before them matter.
 */
#define WINDOW      1024

/* One macro-expand, as parsed. */
struct macro {
    char     letter;            /* lower case */
    bool     upper;             /* written in upper case: URL-escape (7.3) */
    unsigned digits;            /* 0: none given */
    bool     reverse;
    char     delims[sizeof(DELIMITERS)];    /* "" : "." */
};

/* letter_ok - may letter (lower case) appear in mode? (7.2) */
static bool
letter_ok(char letter, enum spf_macro_mode mode)
{
    if (strchr("slodiphv", letter) != NULL)
        return true;
    /* "c", "r" and "t" only in exp text (7.2); an unknown modifier's value
     * is checked for syntax but never expanded, so any letter will do */
    if (strchr("crt", letter) != NULL)
        return mode != SPF_MACRO_DOMAIN;
    return false;
}

/*
 * parse_macro - the macro-expand at s[*i] (s[*i] == '%'), into *m
 * (m->letter 0 for "%%", "%_", "%-", which are then in m->delims[0]).
 * Advances *i past it. false on a syntax error: a '%' not followed by
 * '{', '%', '_' or '-' (7.1), an unknown or misplaced letter, a zero
 * DIGIT (7.3: "MUST be nonzero"), no closing '}'.
 */
static bool
parse_macro(const char *s, size_t n, size_t *i, enum spf_macro_mode mode, struct macro *m)
{
    size_t k = *i + 1, nd = 0;
    unsigned long digits = 0;
    bool any_digit = false;

    memset(m, 0, sizeof(*m));
    if (k >= n)
        return false;
    if (s[k] == '%' || s[k] == '_' || s[k] == '-') {
        m->delims[0] = s[k];
        *i = k + 1;
        return true;
    }
    if (s[k] != '{' || ++k >= n)
        return false;
    m->letter = (char)tolower((unsigned char)s[k]);
    m->upper = isupper((unsigned char)s[k]) != 0;
    if (!isalpha((unsigned char)s[k]) || !letter_ok(m->letter, mode))
        return false;
    k++;
    while (k < n && isdigit((unsigned char)s[k])) {
        any_digit = true;
        if (digits < DIGITS_MAX)
            digits = digits * 10 + (unsigned long)(s[k] - '0');
        k++;
    }
    if (any_digit && digits == 0)
        return false;
    m->digits = digits > DIGITS_MAX ? DIGITS_MAX : (unsigned)digits;
    if (k < n && (s[k] == 'r' || s[k] == 'R')) {
        m->reverse = true;
        k++;
    }
    while (k < n && s[k] != '}') {
        if (strchr(DELIMITERS, s[k]) == NULL || s[k] == '\0')
            return false;
        if (strchr(m->delims, s[k]) == NULL && nd < sizeof(m->delims) - 1)
            m->delims[nd++] = s[k];
        k++;
    }
    if (k >= n)
        return false;
    *i = k + 1;
    return true;
}

bool
spf_macro_valid(const char *s, size_t n, enum spf_macro_mode mode)
{
    struct macro m;

    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            if (!parse_macro(s, n, &i, mode, &m))
                return false;
        } else if ((c >= 0x21 && c <= 0x7e) || (c == ' ' && mode == SPF_MACRO_EXPLAIN)) {
            i++;    /* macro-literal; explain-string = *( macro-string / SP ) */
        } else {
            return false;   /* controls, non-ASCII (3.1: records are 7-bit) */
        }
    }
    return true;
}

bool
spf_domain_spec_valid(const char *s, size_t n)
{
    size_t lit = 0;     /* where the literal run at the end starts */
    struct macro m;

    if (n == 0 || !spf_macro_valid(s, n, SPF_MACRO_DOMAIN))
        return false;
    /* domain-end = ( "." toplabel [ "." ] ) / macro-expand (7.1) */
    for (size_t i = 0; i < n;) {
        if (s[i] == '%') {
            if (!parse_macro(s, n, &i, SPF_MACRO_DOMAIN, &m))
                return false;
            lit = i;
        } else {
            i++;
        }
    }
    if (lit == n)
        return true;    /* ends in a macro-expand */
    if (s[n - 1] == '.')
        n--;
    for (size_t dot = n; dot > lit; dot--)
        if (s[dot - 1] == '.')
            return spf_toplabel_ok(s + dot, n - dot);
    return false;       /* "a:museum", "a:museum.": no dot before the toplabel */
}

bool
spf_macro_uses_p(const char *s, size_t n)
{
    struct macro m;

    for (size_t i = 0; i < n;) {
        if (s[i] != '%') {
            i++;
            continue;
        }
        if (!parse_macro(s, n, &i, SPF_MACRO_ANY, &m))
            return false;
        if (m.letter == 'p')
            return true;
    }
    return false;
}

/* ---- expansion -------------------------------------------------------- */

/*
 * The output. Explain text stops at cap - 1 octets (cut); a domain keeps
 * sliding: when the window is full its first half is dropped (slid).
 */
struct out {
    char  *b;
    size_t n, cap;
    bool   domain;
    bool   slid;
};

/* put - append one octet */
static void
put(struct out *o, char c)
{
    if (o->n + 1 >= o->cap) {
        if (!o->domain)
            return;
        memmove(o->b, o->b + o->cap / 2, o->n - o->cap / 2);
        o->n -= o->cap / 2;
        o->slid = true;
    }
    o->b[o->n++] = c;
}

/* put_escaped - c, URL-escaped when esc: all but unreserved octets (7.3) */
static void
put_escaped(struct out *o, char c, bool esc)
{
    static const char hex[] = "0123456789ABCDEF";
    unsigned char u = (unsigned char)c;

    if (!esc || (u < 0x80 && (isalnum(u) || strchr("-._~", u) != NULL))) {
        put(o, c);
        return;
    }
    put(o, '%');
    put(o, hex[u >> 4]);
    put(o, hex[u & 0xf]);
}

/* is_delim - is c one of the macro's delimiters ("." when none given)? */
static bool
is_delim(const struct macro *m, char c)
{
    return c != '\0' && strchr(m->delims[0] ? m->delims : ".", c) != NULL;
}

/*
 * put_value - the value v[0..n) transformed as m says (7.3): split into
 * parts on the delimiters, reversed with "r", only the rightmost DIGITS
 * parts kept, joined with ".". With "r" the rightmost N parts of the
 * reversed list are the first N parts, last one first.
 */
static void
put_value(struct out *o, const struct macro *m, const char *v, size_t n)
{
    size_t parts = 1, keep, start, end, i;

    for (i = 0; i < n; i++)
        parts += is_delim(m, v[i]);
    keep = m->digits && m->digits < parts ? m->digits : parts;
    if (!m->reverse) {
        /* skip the first parts - keep parts, then copy, delimiters as '.' */
        size_t skip = parts - keep;

        for (i = 0; skip > 0; i++)
            skip -= is_delim(m, v[i]);
        for (; i < n; i++)
            put_escaped(o, is_delim(m, v[i]) ? '.' : v[i], m->upper);
        return;
    }
    /* the end of part keep - 1, then the parts backwards from there */
    for (end = 0, i = keep; end < n; end++)
        if (is_delim(m, v[end]) && --i == 0)
            break;
    while (true) {
        start = end;
        while (start > 0 && !is_delim(m, v[start - 1]))
            start--;
        for (i = start; i < end; i++)
            put_escaped(o, v[i], m->upper);
        if (start == 0)
            break;
        put_escaped(o, '.', m->upper);
        end = start - 1;
    }
}

/*
 * finish_domain - 7.3: a trailing dot is ignored for domains (pySPF and
 * the suite's trailing-dot-domain), and "if the expanded domain name
 * exceeds 253 characters ... the left side is truncated to fit, by
 * removing successive domain labels (and their following dots)".
 */
static void
finish_domain(struct out *o, char *out, size_t outsize)
{
    size_t from = 0;

    if (o->n > 0 && o->b[o->n - 1] == '.')
        o->n--;
    if (o->slid || o->n > SPF_NAME_MAX) {
        from = o->n;    /* nothing fits unless a dot is found */
        for (size_t i = 0; i < o->n; i++) {
            if (o->b[i] == '.' && o->n - (i + 1) <= SPF_NAME_MAX) {
                from = i + 1;
                break;
            }
        }
    }
    if (o->n - from >= outsize)
        from = o->n;
    memcpy(out, o->b + from, o->n - from);
    out[o->n - from] = '\0';
}

bool
spf_macro_expand(const char *s, size_t n, const struct spf_macro_vars *vars, bool domain,
                 char *out, size_t outsize)
{
    char window[WINDOW];
    struct out o = { .b = domain ? window : out, .cap = domain ? sizeof(window) : outsize,
                     .domain = domain };
    struct macro m;

    if (outsize == 0)
        return false;
    for (size_t i = 0; i < n;) {
        const struct spf_macro_value *val;

        if (s[i] != '%') {
            put(&o, s[i++]);
            continue;
        }
        if (!parse_macro(s, n, &i, domain ? SPF_MACRO_DOMAIN : SPF_MACRO_EXPLAIN, &m))
            return false;
        if (m.letter == 0) {
            /* "%%" is "%", "%_" a space, "%-" a URL-encoded space (7.3) */
            if (m.delims[0] == '-') {
                put(&o, '%');
                put(&o, '2');
                put(&o, '0');
            } else {
                put(&o, m.delims[0] == '%' ? '%' : ' ');
            }
            continue;
        }
        val = &vars->v[m.letter - 'a'];
        if (val->text == NULL)
            return false;
        put_value(&o, &m, val->text, val->len);
    }
    if (domain) {
        finish_domain(&o, out, outsize);
        return true;
    }
    o.b[o.n < o.cap ? o.n : o.cap - 1] = '\0';
    for (size_t i = 0; i < o.n; i++)
        if ((unsigned char)o.b[i] < 0x20 || (unsigned char)o.b[i] > 0x7e)
            o.b[i] = '?';
    return true;
}
