/*
 * json - a strict, bounded JSON writer and reader; see json.h.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/xmalloc.h"

size_t
json_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
    unsigned char c;
    size_t k;
    unsigned char lo = 0x80, hi = 0xBF;     /* allowed range of the second octet */

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    /* RFC 3629 section 4: the table of well-formed sequences. */
    if (c >= 0xC2 && c <= 0xDF) {
        k = 2;
        *cp = c & 0x1Fu;
    } else if (c >= 0xE0 && c <= 0xEF) {
        k = 3;
        *cp = c & 0x0Fu;
        if (c == 0xE0)
            lo = 0xA0;                      /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F;                      /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        k = 4;
        *cp = c & 0x07u;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;                      /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3Fu);
    }
    return k;
}

void
json_put_string(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;      /* p[run..i) is waiting to be copied as is */
    unsigned long cp;

    buf_putc(b, '"');
    while (i < n) {
        unsigned char c = p[i];
        size_t k = 1;
        const char *esc = NULL;
        char u[8];

        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20 || c == 0x7F) {
            snprintf(u, sizeof(u), "\\u%04x", c);
            esc = u;
        } else if (c >= 0x80) {
            k = json_utf8_seq(p + i, n - i, &cp);
            if (k == 0) {               /* not UTF-8: the octet as Latin-1 */
                snprintf(u, sizeof(u), "\\u%04x", c);
                esc = u;
                k = 1;
            } else if (cp <= 0x9F) {    /* a C1 control */
                snprintf(u, sizeof(u), "\\u%04lx", cp);
                esc = u;
            }
        }
        if (esc) {
            buf_append(b, p + run, i - run);
            buf_puts(b, esc);
            run = i + k;
        }
        i += k;
    }
    buf_append(b, p + run, n - run);
    buf_putc(b, '"');
}

void
json_put_cstr(struct buf *b, const char *s)
{
    if (s)
        json_put_string(b, s, strlen(s));
    else
        buf_puts(b, "null");
}

/* The reader's state. The first error wins; after it everything unwinds. */
struct parser {
    const unsigned char *start, *p, *end;
    unsigned    depth;
    bool        failed;
    char       *err;
    size_t      errlen;
};

static void fail(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* fail - record the first error with its offset */
static void
fail(struct parser *ps, const char *fmt, ...)
{
    va_list ap;
    char why[128];

    if (ps->failed)
        return;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (ps->errlen)
        snprintf(ps->err, ps->errlen, "offset %zu: %s", (size_t)(ps->p - ps->start), why);
}

/* skip_ws - RFC 8259 section 2: space, tab, LF, CR */
static void
skip_ws(struct parser *ps)
{
    while (ps->p < ps->end
           && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* put_utf8 - append code point cp (a scalar value) as UTF-8 */
static void
put_utf8(struct buf *b, unsigned long cp)
{
    char o[4];
    size_t k;

    if (cp < 0x80) {
        o[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        o[0] = (char)(0xF0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    buf_append(b, o, k);
}

/* hex4 - the four hex digits after "\u"; -1 when they are not */
static long
hex4(struct parser *ps)
{
    long v = 0;

    if (ps->end - ps->p < 4) {
        fail(ps, "\\u needs four hex digits");
        return -1;
    }
    for (int i = 0; i < 4; i++) {
        unsigned char c = *ps->p;
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) {
            fail(ps, "\\u needs four hex digits");
            return -1;
        }
        v = v * 16 + d;
        ps->p++;
    }
    return v;
}

/* parse_string - the string at ps->p (its opening quote) into out */
static bool
parse_string(struct parser *ps, struct buf *out)
{
    unsigned long cp;

    ps->p++;                            /* the quote */
    for (;;) {
        if (ps->p >= ps->end) {
            fail(ps, "unterminated string");
            return false;
        }
        unsigned char c = *ps->p;
        if (c == '"') {
            ps->p++;
            return true;
        }
        if (c < 0x20) {
            fail(ps, "control character 0x%02x in a string", c);
            return false;
        }
        if (c >= 0x80) {
            size_t k = json_utf8_seq(ps->p, (size_t)(ps->end - ps->p), &cp);
            if (k == 0) {
                fail(ps, "invalid UTF-8 in a string");
                return false;
            }
            buf_append(out, ps->p, k);
            ps->p += k;
            continue;
        }
        ps->p++;
        if (c != '\\') {
            buf_putc(out, (char)c);
            continue;
        }
        if (ps->p >= ps->end) {
            fail(ps, "unterminated string");
            return false;
        }
        c = *ps->p++;
        switch (c) {
        case '"': case '\\': case '/':
            buf_putc(out, (char)c);
            break;
        case 'b': buf_putc(out, '\b'); break;
        case 'f': buf_putc(out, '\f'); break;
        case 'n': buf_putc(out, '\n'); break;
        case 'r': buf_putc(out, '\r'); break;
        case 't': buf_putc(out, '\t'); break;
        case 'u': {
            long v = hex4(ps);
            if (v < 0)
                return false;
            if (v >= 0xDC00 && v <= 0xDFFF) {
                fail(ps, "lone low surrogate \\u%04lx", v);
                return false;
            }
            if (v >= 0xD800 && v <= 0xDBFF) {
                /* RFC 8259 section 7: a pair of escapes for one code point */
                if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u') {
                    fail(ps, "lone high surrogate \\u%04lx", v);
                    return false;
                }
                ps->p += 2;
                long lo = hex4(ps);
                if (lo < 0)
                    return false;
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    fail(ps, "high surrogate \\u%04lx without a low one", v);
                    return false;
                }
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            }
            put_utf8(out, (unsigned long)v);
            break;
        }
        default:
            fail(ps, "unknown escape \\%c", c >= 0x20 && c < 0x7F ? c : '?');
            return false;
        }
    }
}

/* parse_int - an integer; fractions and exponents are refused */
static bool
parse_int(struct parser *ps, long long *out)
{
    bool neg = false;
    unsigned long long v = 0;
    unsigned long long max = (unsigned long long)LLONG_MAX;

    if (*ps->p == '-') {
        neg = true;
        max++;                          /* LLONG_MIN's magnitude */
        ps->p++;
    }
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
        fail(ps, "a number needs digits");
        return false;
    }
    if (*ps->p == '0' && ps->end - ps->p > 1 && ps->p[1] >= '0' && ps->p[1] <= '9') {
        fail(ps, "a number may not start with 0");
        return false;
    }
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        unsigned d = (unsigned)(*ps->p - '0');
        if (v > (max - d) / 10) {
            fail(ps, "number out of range");
            return false;
        }
        v = v * 10 + d;
        ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')) {
        fail(ps, "only integers are expected");
        return false;
    }
    /* -LLONG_MIN does not fit: negate in unsigned arithmetic. */
    *out = neg ? (long long)(0 - v) : (long long)v;
    return true;
}

static bool parse_value(struct parser *ps, struct json *out);

/* free_contents - what j points to, not j itself */
static void
free_contents(struct json *j)
{
    free(j->str);
    for (size_t i = 0; i < j->len && j->items; i++)
        free_contents(&j->items[i]);
    if (j->keys)
        for (size_t i = 0; i < j->len; i++)
            free(j->keys[i]);
    free(j->items);
    free(j->keys);
}

/* parse_members - an array or an object, from its opening bracket */
static bool
parse_members(struct parser *ps, struct json *out, bool object)
{
    char close = object ? '}' : ']';
    size_t cap = 0;

    out->type = object ? JSON_OBJECT : JSON_ARRAY;
    if (++ps->depth > JSON_DEPTH_MAX) {
        fail(ps, "nested deeper than %d", JSON_DEPTH_MAX);
        return false;
    }
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        ps->depth--;
        return true;
    }
    for (;;) {
        struct buf key = BUF_INIT;

        skip_ws(ps);
        if (object) {
            if (ps->p >= ps->end || *ps->p != '"') {
                fail(ps, "expected a key");
                return false;
            }
            const unsigned char *at = ps->p;
            if (!parse_string(ps, &key)) {
                buf_free(&key);
                return false;
            }
            bool bad = memchr(buf_cstr(&key), '\0', key.len) != NULL;
            for (size_t i = 0; i < out->len && !bad; i++)
                bad = strcmp(out->keys[i], buf_cstr(&key)) == 0;
            if (bad || out->len == JSON_OBJECT_MAX) {
                ps->p = at;
                if (out->len == JSON_OBJECT_MAX)
                    fail(ps, "more than %d members in an object", JSON_OBJECT_MAX);
                else
                    fail(ps, "a key repeated or holding a NUL");
                buf_free(&key);
                return false;
            }
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') {
                fail(ps, "expected ':'");
                buf_free(&key);
                return false;
            }
            ps->p++;
        }
        if (out->len == cap) {
            cap = cap ? cap * 2 : 4;
            out->items = xreallocarray(out->items, cap, sizeof(*out->items));
            if (object)
                out->keys = xreallocarray(out->keys, cap, sizeof(*out->keys));
        }
        /* Count the member before parsing it, so that a failure frees it. */
        struct json *v = &out->items[out->len];
        memset(v, 0, sizeof(*v));
        if (object)
            out->keys[out->len] = key.data ? buf_steal(&key) : xstrdup("");
        out->len++;
        if (!parse_value(ps, v))
            return false;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            ps->depth--;
            return true;
        }
        fail(ps, "expected ',' or '%c'", close);
        return false;
    }
}

/* parse_value - any value, after optional white space */
static bool
parse_value(struct parser *ps, struct json *out)
{
    static const struct { const char *word; enum json_type type; bool b; } lits[] = {
        { "true", JSON_BOOL, true }, { "false", JSON_BOOL, false }, { "null", JSON_NULL, false },
    };

    skip_ws(ps);
    if (ps->p >= ps->end) {
        fail(ps, "unexpected end");
        return false;
    }
    unsigned char c = *ps->p;
    if (c == '{' || c == '[')
        return parse_members(ps, out, c == '{');
    if (c == '"') {
        struct buf s = BUF_INIT;
        out->type = JSON_STRING;
        if (!parse_string(ps, &s)) {
            buf_free(&s);
            return false;
        }
        out->len = s.len;
        out->str = s.data ? buf_steal(&s) : xstrdup("");
        return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        out->type = JSON_INT;
        return parse_int(ps, &out->integer);
    }
    for (size_t i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
        size_t n = strlen(lits[i].word);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lits[i].word, n) == 0) {
            out->type = lits[i].type;
            out->boolean = lits[i].b;
            ps->p += n;
            return true;
        }
    }
    if (c >= 0x20 && c < 0x7F)
        fail(ps, "unexpected '%c'", c);
    else
        fail(ps, "unexpected octet 0x%02x", c);
    return false;
}

struct json *
json_parse(const char *text, size_t n, char *err, size_t errlen)
{
    struct parser ps = {
        .start = (const unsigned char *)text, .p = (const unsigned char *)text,
        .end = (const unsigned char *)text + n, .err = err, .errlen = errlen,
    };
    struct json *j = xcalloc(1, sizeof(*j));

    if (errlen)
        err[0] = '\0';
    if (parse_value(&ps, j)) {
        skip_ws(&ps);
        if (ps.p != ps.end)
            fail(&ps, "data after the value");
    }
    if (ps.failed) {
        json_free(j);
        return NULL;
    }
    return j;
}

void
json_free(struct json *j)
{
    if (!j)
        return;
    free_contents(j);
    free(j);
}

const struct json *
json_get(const struct json *o, const char *key)
{
    if (!o || o->type != JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < o->len; i++)
        if (strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}
