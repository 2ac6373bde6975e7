/*
 * record - the DMARC record (RFC 7489 6.3, 6.4); see dmarc.h.
 *
 * A record is a tag list in DKIM's form (RFC 6376 3.2): "name=value"
 * separated by semicolons, white space around both. The first tag must be
 * v=DMARC1; every later tag-spec is taken on its own, so that one broken
 * or unknown tag does not hide the others (6.3: unknown tags MUST be
 * ignored). This parser never allocates and reads only txt[0..len).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* this module */
#include "dmarc/dmarc.h"

/* tags seen, to spot duplicates */
enum {
    SEEN_P     = 1u << 0,
    SEEN_SP    = 1u << 1,
    SEEN_ADKIM = 1u << 2,
    SEEN_ASPF  = 1u << 3,
    SEEN_PCT   = 1u << 4,
    SEEN_RI    = 1u << 5,
    SEEN_FO    = 1u << 6,
    SEEN_RUA   = 1u << 7,
    SEEN_RUF   = 1u << 8,
};

/* is_wsp - white space in a tag list: WSP, and the CR LF of FWS */
static bool
is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* trim - shrink [*s, *e) past white space at both ends */
static void
trim(const char *t, size_t *s, size_t *e)
{
    while (*s < *e && is_wsp(t[*s]))
        (*s)++;
    while (*e > *s && is_wsp(t[*e - 1]))
        (*e)--;
}

/* word_is - is v[0..n) the keyword w, in any case */
static bool
word_is(const char *v, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(v, w, n) == 0;
}

/* parse_policy - "none" / "quarantine" / "reject" (6.4 dmarc-request) */
static bool
parse_policy(const char *v, size_t n, enum dmarc_policy *p)
{
    if (word_is(v, n, "none"))
        *p = DMARC_POLICY_NONE;
    else if (word_is(v, n, "quarantine"))
        *p = DMARC_POLICY_QUARANTINE;
    else if (word_is(v, n, "reject"))
        *p = DMARC_POLICY_REJECT;
    else
        return false;
    return true;
}

/* parse_uint - v[0..n) as a decimal number of at most max; no sign, no space */
static bool
parse_uint(const char *v, size_t n, uint32_t max, uint32_t *out)
{
    uint64_t x = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(v[i]))
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
        if (x > max)
            return false;
    }
    *out = (uint32_t)x;
    return true;
}

static bool
is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* is_uri_char - RFC 3986 2: unreserved, reserved and '%' */
static bool
is_uri_char(char c)
{
    return is_alpha(c) || is_digit(c) || (c != '\0' && strchr("-._~:/?#[]@!$&'()*+,;=%", c));
}

/*
 * uri_ok - v[0..n) as a DMARC URI (6.4 dmarc-uri): an absolute URI
 * (scheme ":" and something), optionally "!" size [kmgt]
 */
static bool
uri_ok(const char *v, size_t n)
{
    const char *bang = NULL;
    size_t i;

    /* a size suffix: the last '!' followed by digits and an optional unit */
    for (i = n; i > 0; i--) {
        if (v[i - 1] == '!') {
            bang = v + i - 1;
            break;
        }
    }
    if (bang) {
        size_t k = (size_t)(bang - v) + 1, d = k;

        while (d < n && is_digit(v[d]))
            d++;
        if (d > k && (d == n || (d + 1 == n && v[d] != '\0' && strchr("kmgtKMGT", v[d]))))
            n = (size_t)(bang - v);
    }
    if (n == 0 || !is_alpha(v[0]))
        return false;
    for (i = 1; i < n && (is_alpha(v[i]) || is_digit(v[i]) || v[i] == '+' || v[i] == '-'
                          || v[i] == '.'); i++)
        ;
    if (i >= n || v[i] != ':' || i + 1 >= n)
        return false;
    for (i++; i < n; i++) {
        if (!is_uri_char(v[i]))
            return false;
        if (v[i] == '%' && (n - i < 3 || !is_hex(v[i + 1]) || !is_hex(v[i + 2])))
            return false;
    }
    return true;
}

/* urilist_ok - does the comma-separated list v[0..n) hold a valid URI? */
static bool
urilist_ok(const char *v, size_t n)
{
    size_t s = 0;

    while (s <= n) {
        const char *c = memchr(v + s, ',', n - s);
        size_t e = c ? (size_t)(c - v) : n, a = s, b = e;

        trim(v, &a, &b);
        if (uri_ok(v + a, b - a))
            return true;
        s = e + 1;
    }
    return false;
}

/* parse_fo - "0:1:d:s" into bits; unknown options ignored, none valid: 0 */
static unsigned
parse_fo(const char *v, size_t n)
{
    unsigned fo = 0;
    size_t s = 0;

    while (s <= n) {
        const char *c = memchr(v + s, ':', n - s);
        size_t e = c ? (size_t)(c - v) : n, a = s, b = e;

        trim(v, &a, &b);
        if (b - a == 1) {
            switch (v[a]) {
            case '0': fo |= DMARC_FO_0; break;
            case '1': fo |= DMARC_FO_1; break;
            case 'd': case 'D': fo |= DMARC_FO_D; break;
            case 's': case 'S': fo |= DMARC_FO_S; break;
            default: break;
            }
        }
        s = e + 1;
    }
    return fo ? fo : DMARC_FO_0;
}

/*
 * version_end - if t[0..len) starts with "v" *WSP "=" *WSP "DMARC1" and
 * then white space, ';' or the end, the offset after DMARC1; else 0
 */
static size_t
version_end(const char *t, size_t len)
{
    size_t i = 0;

    while (i < len && is_wsp(t[i]))
        i++;
    if (i >= len || (t[i] != 'v' && t[i] != 'V'))
        return 0;
    i++;
    while (i < len && is_wsp(t[i]))
        i++;
    if (i >= len || t[i] != '=')
        return 0;
    i++;
    while (i < len && is_wsp(t[i]))
        i++;
    /* %x44.4d.41.52.43.31: exactly "DMARC1" */
    if (len - i < 6 || memcmp(t + i, "DMARC1", 6) != 0)
        return 0;
    i += 6;
    if (i < len && !is_wsp(t[i]) && t[i] != ';')
        return 0;
    return i;
}

enum dmarc_parse
dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec)
{
    unsigned seen = 0;
    bool p_ok = false, sp_bad = false;
    size_t s;

    *rec = (struct dmarc_record){
        .p = DMARC_POLICY_NONE, .sp = DMARC_POLICY_NONE,
        .adkim = DMARC_ALIGN_RELAXED, .aspf = DMARC_ALIGN_RELAXED,
        .pct = 100, .ri = 86400, .fo = DMARC_FO_0,
    };
    s = version_end(txt, len);
    if (s == 0)
        return DMARC_PARSE_NOT_DMARC;
    /* the tag list goes on after the ';' (or, leniently, the white space:
     * "v=DMARC1 p=reject" says what its author meant) */
    while (s < len) {
        const char *semi = memchr(txt + s, ';', len - s);
        size_t e = semi ? (size_t)(semi - txt) : len, ns = s, ne, vs, ve = e;

        s = e + 1;
        trim(txt, &ns, &ve);
        if (ns == ve)
            continue;               /* an empty tag-spec: "a=1;;b=2", a last ';' */
        /* tag-name = ALPHA *(ALPHA / DIGIT / "_") */
        if (!is_alpha(txt[ns]))
            continue;
        ne = ns + 1;
        while (ne < ve && (is_alpha(txt[ne]) || is_digit(txt[ne]) || txt[ne] == '_'))
            ne++;
        vs = ne;
        while (vs < ve && is_wsp(txt[vs]))
            vs++;
        if (vs >= ve || txt[vs] != '=')
            continue;               /* not "name=value": ignored */
        vs++;
        while (vs < ve && is_wsp(txt[vs]))
            vs++;

        const char *name = txt + ns, *v = txt + vs;
        size_t nn = ne - ns, vn = ve - vs;
        uint32_t num;

        if (word_is(name, nn, "p")) {
            if (seen & SEEN_P)
                p_ok = false;       /* two p= tags: which one? neither */
            else
                p_ok = parse_policy(v, vn, &rec->p);
            seen |= SEEN_P;
        } else if (word_is(name, nn, "sp")) {
            if (seen & SEEN_SP)
                sp_bad = true;
            else if (parse_policy(v, vn, &rec->sp))
                rec->has_sp = true;
            else
                sp_bad = true;
            seen |= SEEN_SP;
        } else if (word_is(name, nn, "adkim") || word_is(name, nn, "aspf")) {
            bool dkim = nn == 5;
            unsigned bit = dkim ? SEEN_ADKIM : SEEN_ASPF;
            enum dmarc_align *a = dkim ? &rec->adkim : &rec->aspf;

            if (!(seen & bit)) {
                if (word_is(v, vn, "s"))
                    *a = DMARC_ALIGN_STRICT;
                else if (word_is(v, vn, "r"))
                    *a = DMARC_ALIGN_RELAXED;
            }
            seen |= bit;
        } else if (word_is(name, nn, "pct")) {
            if (!(seen & SEEN_PCT) && parse_uint(v, vn, 100, &num))
                rec->pct = num;
            seen |= SEEN_PCT;
        } else if (word_is(name, nn, "ri")) {
            if (!(seen & SEEN_RI) && parse_uint(v, vn, UINT32_MAX, &num))
                rec->ri = num;
            seen |= SEEN_RI;
        } else if (word_is(name, nn, "fo")) {
            if (!(seen & SEEN_FO))
                rec->fo = parse_fo(v, vn);
            seen |= SEEN_FO;
        } else if (word_is(name, nn, "rua")) {
            if (!(seen & SEEN_RUA))
                rec->rua_valid = urilist_ok(v, vn);
            seen |= SEEN_RUA;
        } else if (word_is(name, nn, "ruf")) {
            if (!(seen & SEEN_RUF))
                rec->ruf_valid = urilist_ok(v, vn);
            seen |= SEEN_RUF;
        }
        /* rf= (only "afrf" exists), v= again, unknown tags: ignored */
    }
    if (!p_ok || sp_bad) {
        rec->p = rec->sp = DMARC_POLICY_NONE;
        rec->has_sp = false;
        return DMARC_PARSE_NO_POLICY;
    }
    if (!rec->has_sp)
        rec->sp = rec->p;
    return DMARC_PARSE_OK;
}
