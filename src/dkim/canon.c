/*
 * canon - the header fields of a message and their canonical forms
 * (RFC 6376 3.4), the body's canonical form, and the header hash (3.7);
 * see dkim_priv.h.
 *
 * Everything works on the queue's LF form and writes CRLF where the RFC
 * has one. The body is canonicalised in one pass into a sink (a digest),
 * never copied whole: a message may be tens of megabytes.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

/* this module */
#include "dkim/dkim_priv.h"

/* utilities */
#include "util/buf.h"
#include "util/xmalloc.h"

/* wsp - SP or HTAB (RFC 5234 WSP) */
static bool
wsp(char c)
{
    return c == ' ' || c == '\t';
}

size_t
dkim_fields(const char *msg, size_t n, struct dkim_field **out, size_t *count)
{
    struct dkim_field *v = NULL;
    size_t nv = 0, cap = 0, i = 0;

    while (i < n) {
        const char *nl = memchr(msg + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - msg) : n;       /* end of this line */

        if (end == i) {                     /* the empty line: the body follows */
            i++;
            break;
        }
        if (wsp(msg[i])) {
            if (nv > 0)                     /* a continuation of the field before */
                v[nv - 1].len = end - v[nv - 1].off;
        } else {
            const char *colon = memchr(msg + i, ':', end - i);
            size_t nlen = colon ? (size_t)(colon - (msg + i)) : 0;

            /* RFC 5322 4.5.3: obsolete white space before the colon */
            while (nlen > 0 && wsp(msg[i + nlen - 1]))
                nlen--;
            if (nv == cap) {
                cap = cap ? cap * 2 : 32;
                v = xreallocarray(v, cap, sizeof(*v));
            }
            v[nv].off = i;
            v[nv].len = end - i;
            v[nv].nlen = nlen;
            nv++;
        }
        i = nl ? end + 1 : n;
    }
    *out = v;
    *count = nv;
    return i;
}

void
dkim_header_canon(const char *f, size_t n, enum dkim_canon c, struct buf *out)
{
    const char *colon;
    size_t i, k;
    bool space = false;

    if (c == DKIM_SIMPLE) {
        /* 3.4.1: no change at all, but LF is CRLF on the wire */
        for (i = 0; i < n; i = k + 1) {
            const char *nl = memchr(f + i, '\n', n - i);
            k = nl ? (size_t)(nl - f) : n;
            buf_append(out, f + i, k - i);
            if (nl)
                buf_append(out, "\r\n", 2);
        }
        return;
    }
    /* 3.4.2 relaxed: the name in lower case, white space before the colon
     * deleted (the name has none inside: ftext excludes it) */
    colon = memchr(f, ':', n);
    k = colon ? (size_t)(colon - f) : n;
    for (i = 0; i < k; i++) {
        char ch = f[i];
        if (wsp(ch) || ch == '\n')
            continue;
        buf_putc(out, ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch);
    }
    if (!colon)
        return;
    buf_putc(out, ':');
    /* the value: unfolded (LF dropped), runs of WSP as one SP, none at
     * either end (so none after the colon) */
    bool any = false;
    for (i = k + 1; i < n; i++) {
        char ch = f[i];
        if (ch == '\n')
            continue;
        if (wsp(ch)) {
            space = true;
            continue;
        }
        if (space && any)
            buf_putc(out, ' ');
        space = false;
        any = true;
        buf_putc(out, ch);
    }
}

/* ---- the body ----------------------------------------------------------- */

void
dkim_sink_init(struct dkim_sink *s, EVP_MD_CTX *md, struct buf *out, unsigned long long limit)
{
    s->md = md;
    s->out = out;
    s->limit = limit;
    s->total = 0;
    s->nstage = 0;
}

void
dkim_sink_flush(struct dkim_sink *s)
{
    if (s->nstage == 0)
        return;
    if (s->md)
        EVP_DigestUpdate(s->md, s->stage, s->nstage);
    if (s->out)
        buf_append(s->out, s->stage, s->nstage);
    s->nstage = 0;
}

/* sink_put - canonical body octets p[0..n); those past limit only counted */
static void
sink_put(struct dkim_sink *s, const char *p, size_t n)
{
    unsigned long long room = s->total < s->limit ? s->limit - s->total : 0;
    size_t take = room < n ? (size_t)room : n;

    s->total += n;
    while (take > 0) {
        size_t k = sizeof(s->stage) - s->nstage;
        if (k > take)
            k = take;
        memcpy(s->stage + s->nstage, p, k);
        s->nstage += k;
        p += k;
        take -= k;
        if (s->nstage == sizeof(s->stage))
            dkim_sink_flush(s);
    }
}

/* sink_crlfs - n line ends */
static void
sink_crlfs(struct dkim_sink *s, size_t n)
{
    for (; n > 0; n--)
        sink_put(s, "\r\n", 2);
}

/*
 * Invariant of both loops below: empties counts the empty lines seen
 * since the last non-empty one; they are written only when a non-empty
 * line follows, which is how "all empty lines at the end" disappear.
 */
void
dkim_body_canon(const char *body, size_t n, enum dkim_canon c, struct dkim_sink *s)
{
    size_t i = 0, empties = 0;
    bool wrote = false;

    while (i < n) {
        const char *nl = memchr(body + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - body) : n;
        const char *line = body + i;
        size_t len = end - i;

        if (c == DKIM_SIMPLE) {
            if (len == 0) {
                empties++;
            } else {
                sink_crlfs(s, empties);
                empties = 0;
                sink_put(s, line, len);
                sink_put(s, "\r\n", 2);
                wrote = true;
            }
        } else {
            /* 3.4.4: WSP runs as one SP, none at the end of the line */
            size_t k = 0;
            bool started = false;

            while (k < len) {
                size_t w = k;
                while (w < len && wsp(line[w]))
                    w++;
                if (w == len)
                    break;              /* white space at the end: dropped */
                size_t e = w;
                while (e < len && !wsp(line[e]))
                    e++;
                if (!started) {
                    sink_crlfs(s, empties);
                    empties = 0;
                    started = true;
                }
                if (w > k)
                    sink_put(s, " ", 1);
                sink_put(s, line + w, e - w);
                k = e;
            }
            if (started) {
                sink_put(s, "\r\n", 2);
                wrote = true;
            } else {
                empties++;
            }
        }
        i = nl ? end + 1 : n;
    }
    /* 3.4.3: an empty body is one CRLF in simple; 3.4.4: empty in relaxed */
    if (c == DKIM_SIMPLE && !wrote)
        sink_put(s, "\r\n", 2);
}

/* ---- the header hash ---------------------------------------------------- */

/* name_is - does field f of msg have the name h (any case)? */
static bool
name_is(const char *msg, const struct dkim_field *f, const struct dkim_name *h)
{
    return f->nlen == h->n && h->n > 0 && strncasecmp(msg + f->off, h->p, h->n) == 0;
}

int
dkim_header_hash(const char *msg, const struct dkim_field *f, size_t nf, size_t skip,
                 const struct dkim_name *h, size_t nh, enum dkim_canon c,
                 const char *sigfield, size_t siglen, unsigned char digest[DKIM_HASH_LEN])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct buf b = BUF_INIT;
    bool *used = xcalloc(nf ? nf : 1, sizeof(*used));
    unsigned dlen = 0;
    int rc = -1;

    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
        goto out;
    for (size_t i = 0; i < nh; i++) {
        /* 5.4.2: the last instance not used yet, walking upwards */
        for (size_t j = nf; j-- > 0;) {
            if (j == skip || used[j] || !name_is(msg, &f[j], &h[i]))
                continue;
            used[j] = true;
            buf_reset(&b);
            dkim_header_canon(msg + f[j].off, f[j].len, c, &b);
            buf_append(&b, "\r\n", 2);
            if (EVP_DigestUpdate(md, b.data, b.len) != 1)
                goto out;
            break;
        }
    }
    buf_reset(&b);
    dkim_header_canon(sigfield, siglen, c, &b);
    if (b.len && EVP_DigestUpdate(md, b.data, b.len) != 1)
        goto out;
    if (EVP_DigestFinal_ex(md, digest, &dlen) != 1 || dlen != DKIM_HASH_LEN)
        goto out;
    rc = 0;
out:
    EVP_MD_CTX_free(md);
    buf_free(&b);
    free(used);
    return rc;
}
