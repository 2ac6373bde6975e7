/*
 * verify - check the DKIM-Signature fields of a message (RFC 6376 6);
 * see dkim.h.
 *
 * In two steps around the DNS. dkim_verify_new() parses each signature
 * (6.1.1), and for those that can be checked hashes the body (6.1.3,
 * once per distinct c= body and l=) and the signed header fields (3.7),
 * keeping only the digests: the message is not needed afterwards.
 * dkim_verify_answer() then takes the key record (6.1.2) and settles the
 * result in the RFC's order: key record problems, body hash, signature.
 *
 * Reasons are short fixed phrases plus, at most, numbers: nothing from
 * the message is copied into them. d=, s= and a= are copied into the
 * result only once they are known to be harmless (names, printable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

/* this module */
#include "dkim/dkim_priv.h"

/* utilities */
#include "util/buf.h"
#include "util/xmalloc.h"

#define CLOCK_LEEWAY 300ULL     /* seconds past x= still accepted (3.5: clock skew) */

/*
 * One signature. Invariant: when settled is false, query is the key
 * record's name and alg, b, digest, body_ok and l_past are set.
 */
struct sig {
    struct dkim_result res;
    bool               settled;
    char               query[DKIM_NAME_MAX + 1];
    enum dkim_alg      alg;
    char               idomain[DKIM_NAME_MAX + 1];  /* of i=, lower case */
    unsigned char      b[DKIM_SIG_MAX];
    size_t             blen;
    unsigned char      digest[DKIM_HASH_LEN];       /* of the signed header fields */
    bool               body_ok;                     /* bh= matches */
    bool               l_past;                      /* l= beyond the end of the body */
};

struct dkim_verify {
    size_t     n;
    size_t     skipped;
    struct sig s[DKIM_VERIFY_MAX];
};

/* One body hash, shared by the signatures with the same c= body and l=. */
struct body_hash {
    enum dkim_canon    c;
    bool               has_l;
    unsigned long long l;
    unsigned long long total;
    unsigned char      d[DKIM_HASH_LEN];
};

/* The whole message, while dkim_verify_new runs. */
struct msgview {
    const char              *msg;
    size_t                   n;
    const struct dkim_field *f;
    size_t                   nf;
    size_t                   body;      /* offset of the body */
    struct body_hash         bh[DKIM_VERIFY_MAX];
    size_t                   nbh;
};

const char *
dkim_status_name(enum dkim_status st)
{
    switch (st) {
    case DKIM_PASS:
        return "pass";
    case DKIM_FAIL:
        return "fail";
    case DKIM_NEUTRAL:
        return "neutral";
    case DKIM_TEMPERROR:
        return "temperror";
    case DKIM_PERMERROR:
        break;
    }
    return "permerror";
}

/* settle - give signature s its final status and reason */
static void
settle(struct sig *s, enum dkim_status st, const char *reason)
{
    s->settled = true;
    s->res.status = st;
    snprintf(s->res.reason, sizeof(s->res.reason), "%s", reason);
}

/* number - 1 to maxdigits decimal digits into *out (saturated); false if not */
static bool
number(const struct dkim_tag *t, size_t maxdigits, unsigned long long *out)
{
    unsigned long long v = 0;

    if (t->vlen == 0 || t->vlen > maxdigits)
        return false;
    for (size_t i = 0; i < t->vlen; i++) {
        unsigned d = (unsigned)(t->val[i] - '0');
        if (d > 9)
            return false;
        v = v > (~0ULL - d) / 10 ? ~0ULL : v * 10 + d;
    }
    *out = v;
    return true;
}

/* printable - copy s[0..n) into out (size outlen): printable ASCII, others '?' */
static void
printable(const char *s, size_t n, char *out, size_t outlen)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < outlen; i++)
        out[k++] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
    out[k] = '\0';
}

/* parse_h - the names of h= into h (DKIM_HNAMES_MAX); their count, or -1 */
static long
parse_h(const struct dkim_tag *t, struct dkim_name *h)
{
    size_t nh = 0, i = 0;

    while (i <= t->vlen) {
        const char *colon = memchr(t->val + i, ':', t->vlen - i);
        size_t end = colon ? (size_t)(colon - t->val) : t->vlen;
        size_t a = i, b = end;

        while (a < b && dkim_is_fws(t->val[a]))
            a++;
        while (b > a && dkim_is_fws(t->val[b - 1]))
            b--;
        if (a == b || nh == DKIM_HNAMES_MAX)
            return -1;
        for (size_t k = a; k < b; k++)      /* RFC 5322 ftext */
            if (t->val[k] < 33 || t->val[k] > 126)
                return -1;
        h[nh].p = t->val + a;
        h[nh++].n = b - a;
        if (!colon)
            break;
        i = end + 1;
    }
    return (long)nh;
}

/* parse_c - c= into header and body canonicalisation; false if unknown */
static bool
parse_c(const struct dkim_tag *t, enum dkim_canon *hc, enum dkim_canon *bc)
{
    const char *slash;
    size_t hl;

    *hc = *bc = DKIM_SIMPLE;            /* 3.5: the default, and body when absent */
    if (!t)
        return true;
    slash = memchr(t->val, '/', t->vlen);
    hl = slash ? (size_t)(slash - t->val) : t->vlen;
    if (hl == 7 && strncasecmp(t->val, "relaxed", 7) == 0)
        *hc = DKIM_RELAXED;
    else if (!(hl == 6 && strncasecmp(t->val, "simple", 6) == 0))
        return false;
    if (!slash)
        return true;
    size_t bl = t->vlen - hl - 1;
    if (bl == 7 && strncasecmp(slash + 1, "relaxed", 7) == 0)
        *bc = DKIM_RELAXED;
    else if (!(bl == 6 && strncasecmp(slash + 1, "simple", 6) == 0))
        return false;
    return true;
}

/* body_digest - the body hash for c and l (l == ~0ULL: none), computed once */
static const struct body_hash *
body_digest(struct msgview *m, enum dkim_canon c, bool has_l, unsigned long long l)
{
    struct body_hash *bh;
    unsigned dlen = 0;

    for (size_t i = 0; i < m->nbh; i++)
        if (m->bh[i].c == c && m->bh[i].has_l == has_l && (!has_l || m->bh[i].l == l))
            return &m->bh[i];
    /* at most one per signature, and there are at most DKIM_VERIFY_MAX */
    bh = &m->bh[m->nbh];
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    struct dkim_sink *s = xmalloc(sizeof(*s));
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        free(s);
        return NULL;
    }
    dkim_sink_init(s, md, NULL, has_l ? l : ~0ULL);
    dkim_body_canon(m->msg + m->body, m->n - m->body, c, s);
    dkim_sink_flush(s);
    bh->c = c;
    bh->has_l = has_l;
    bh->l = l;
    bh->total = s->total;
    free(s);
    if (EVP_DigestFinal_ex(md, bh->d, &dlen) != 1 || dlen != DKIM_HASH_LEN) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    EVP_MD_CTX_free(md);
    m->nbh++;
    return bh;
}

/*
 * parse_sig - signature s from field number j of the message: tags
 * (6.1.1), then the hashes. Leaves s settled with a permerror when it
 * cannot be checked.
 */
static void
parse_sig(struct msgview *m, size_t j, time_t now, struct sig *s)
{
    const struct dkim_field *fld = &m->f[j];
    const char *field = m->msg + fld->off;
    const char *colon = memchr(field + fld->nlen, ':', fld->len - fld->nlen);
    size_t voff = (size_t)(colon - field) + 1;     /* dkim_fields found a colon */
    struct dkim_tag t[DKIM_TAGS_MAX];
    struct dkim_name h[DKIM_HNAMES_MAX];
    const struct dkim_tag *v, *a, *b, *bh, *d, *hh, *sel, *c, *i, *l, *q, *ts, *x;
    enum dkim_canon hc, bc;
    unsigned char want_bh[DKIM_HASH_LEN];
    unsigned long long tv = 0, xv = 0;
    char why[64], reason[DKIM_REASON_MAX + 1];
    size_t nt;
    long nh, len;

    s->res.status = DKIM_TEMPERROR;
    snprintf(s->res.reason, sizeof(s->res.reason), "key not looked up");
    if (dkim_tags_parse(field + voff, fld->len - voff, t, &nt, why, sizeof(why)) < 0) {
        snprintf(reason, sizeof(reason), "signature syntax: %s", why);
        settle(s, DKIM_PERMERROR, reason);
        return;
    }
    b = dkim_tag_find(t, nt, "b");
    if (b) {
        /* RFC 6008 2: header.b is the start of b=, white space removed */
        size_t k = 0;
        for (size_t n = 0; n < b->vlen && k < 8; n++)
            if (!dkim_is_fws(b->val[n]))
                s->res.b8[k++] = b->val[n] > 0x20 && b->val[n] < 0x7f ? b->val[n] : '?';
        s->res.b8[k] = '\0';
    }
    a = dkim_tag_find(t, nt, "a");
    if (a)
        printable(a->val, a->vlen, s->res.algorithm, sizeof(s->res.algorithm));
    d = dkim_tag_find(t, nt, "d");
    if (d && dkim_name_ok(d->val, d->vlen))
        dkim_lower(d->val, d->vlen, s->res.domain);
    sel = dkim_tag_find(t, nt, "s");
    if (sel && dkim_name_ok(sel->val, sel->vlen))
        snprintf(s->res.selector, sizeof(s->res.selector), "%.*s", (int)sel->vlen, sel->val);

    /* 6.1.1: the required tags, then each tag's value */
    v = dkim_tag_find(t, nt, "v");
    bh = dkim_tag_find(t, nt, "bh");
    hh = dkim_tag_find(t, nt, "h");
    static const char *const required[] = { "v", "a", "b", "bh", "d", "h", "s" };
    for (size_t k = 0; k < sizeof(required) / sizeof(required[0]); k++) {
        if (!dkim_tag_find(t, nt, required[k])) {
            snprintf(reason, sizeof(reason), "signature without %s=", required[k]);
            settle(s, DKIM_PERMERROR, reason);
            return;
        }
    }
    if (!dkim_tag_is(v, "1")) {
        settle(s, DKIM_PERMERROR, "unsupported signature version v=");
        return;
    }
    if (dkim_tag_is(a, "rsa-sha256")) {
        s->alg = DKIM_RSA_SHA256;
    } else if (dkim_tag_is(a, "ed25519-sha256")) {
        s->alg = DKIM_ED25519_SHA256;
    } else if (dkim_tag_is(a, "rsa-sha1")) {
        settle(s, DKIM_PERMERROR, "rsa-sha1 is not accepted (RFC 8301)");
        return;
    } else {
        settle(s, DKIM_PERMERROR, "unknown algorithm a=");
        return;
    }
    if (s->res.domain[0] == '\0') {
        settle(s, DKIM_PERMERROR, "d= is not a domain");
        return;
    }
    if (s->res.selector[0] == '\0') {
        settle(s, DKIM_PERMERROR, "s= is not a selector");
        return;
    }
    if (snprintf(s->query, sizeof(s->query), "%s._domainkey.%s", s->res.selector,
                 s->res.domain) >= (int)sizeof(s->query)) {
        settle(s, DKIM_PERMERROR, "key record name too long");
        return;
    }
    c = dkim_tag_find(t, nt, "c");
    if (!parse_c(c, &hc, &bc)) {
        settle(s, DKIM_PERMERROR, "unknown canonicalisation c=");
        return;
    }
    q = dkim_tag_find(t, nt, "q");
    if (q && !dkim_list_has(q->val, q->vlen, "dns/txt")) {
        settle(s, DKIM_PERMERROR, "unknown query method q=");
        return;
    }
    nh = parse_h(hh, h);
    if (nh < 0) {
        settle(s, DKIM_PERMERROR, "bad h=");
        return;
    }
    bool from = false;
    for (long k = 0; k < nh; k++)
        if (h[k].n == 4 && strncasecmp(h[k].p, "from", 4) == 0)
            from = true;
    if (!from) {
        settle(s, DKIM_PERMERROR, "From not signed (h=)");  /* 5.4 */
        return;
    }
    i = dkim_tag_find(t, nt, "i");
    if (i) {
        /* 3.5: i= is [local-part] "@" domain, the domain d= or below it */
        const char *at = NULL;
        for (size_t k = 0; k < i->vlen; k++)
            if (i->val[k] == '@')
                at = i->val + k;
        size_t dl = at ? i->vlen - (size_t)(at + 1 - i->val) : 0;
        size_t ddl = strlen(s->res.domain);
        if (!at || i->vlen > DKIM_AUID_MAX || !dkim_name_ok(at + 1, dl)) {
            settle(s, DKIM_PERMERROR, "bad i=");
            return;
        }
        dkim_lower(at + 1, dl, s->idomain);
        if (!(dl == ddl || (dl > ddl && s->idomain[dl - ddl - 1] == '.'))
            || strcmp(s->idomain + dl - ddl, s->res.domain) != 0) {
            settle(s, DKIM_PERMERROR, "i= not within d=");
            return;
        }
        for (size_t k = 0; k < i->vlen; k++) {
            if (dkim_is_fws(i->val[k])) {
                settle(s, DKIM_PERMERROR, "bad i=");
                return;
            }
        }
        memcpy(s->res.auid, i->val, i->vlen);
        s->res.auid[i->vlen] = '\0';
    } else {
        snprintf(s->idomain, sizeof(s->idomain), "%s", s->res.domain);
        snprintf(s->res.auid, sizeof(s->res.auid), "@%s", s->res.domain);
    }
    l = dkim_tag_find(t, nt, "l");
    if (l) {
        if (!number(l, 76, &s->res.l)) {
            settle(s, DKIM_PERMERROR, "bad l=");
            return;
        }
        s->res.has_l = true;
    }
    ts = dkim_tag_find(t, nt, "t");
    x = dkim_tag_find(t, nt, "x");
    if ((ts && !number(ts, 12, &tv)) || (x && !number(x, 12, &xv))) {
        settle(s, DKIM_PERMERROR, "bad t= or x=");
        return;
    }
    if (ts && x && xv <= tv) {
        settle(s, DKIM_PERMERROR, "x= not after t=");   /* 3.5 */
        return;
    }
    if (x && xv + CLOCK_LEEWAY < (unsigned long long)(now > 0 ? now : 0)) {
        settle(s, DKIM_PERMERROR, "signature expired (x=)");
        return;
    }
    len = dkim_b64_decode(bh->val, bh->vlen, want_bh, sizeof(want_bh));
    if (len != DKIM_HASH_LEN) {
        settle(s, DKIM_PERMERROR, "bad bh=");
        return;
    }
    len = dkim_b64_decode(b->val, b->vlen, s->b, sizeof(s->b));
    if (len <= 0) {
        settle(s, DKIM_PERMERROR, "bad b=");
        return;
    }
    s->blen = (size_t)len;

    /* the hashes */
    const struct body_hash *body = body_digest(m, bc, s->res.has_l, s->res.l);
    if (!body) {
        settle(s, DKIM_TEMPERROR, "cannot hash (OpenSSL)");
        return;
    }
    s->res.body_len = body->total;
    s->l_past = s->res.has_l && s->res.l > body->total;
    s->body_ok = memcmp(body->d, want_bh, DKIM_HASH_LEN) == 0;
    /* 3.7: this field itself, last, with the value of b= deleted */
    struct buf sf = BUF_INIT;
    buf_append(&sf, field, voff + b->raw_start);
    buf_append(&sf, field + voff + b->raw_end, fld->len - voff - b->raw_end);
    int rc = dkim_header_hash(m->msg, m->f, m->nf, j, h, (size_t)nh, hc, sf.data, sf.len,
                              s->digest);
    buf_free(&sf);
    if (rc < 0)
        settle(s, DKIM_TEMPERROR, "cannot hash (OpenSSL)");
}

struct dkim_verify *
dkim_verify_new(const char *msg, size_t n, time_t now)
{
    struct dkim_verify *v = xcalloc(1, sizeof(*v));
    struct dkim_field *f;
    struct msgview *m = xcalloc(1, sizeof(*m));

    m->msg = msg;
    m->n = n;
    m->body = dkim_fields(msg, n, &f, &m->nf);
    m->f = f;
    for (size_t j = 0; j < m->nf; j++) {
        if (f[j].nlen != 14 || strncasecmp(msg + f[j].off, "DKIM-Signature", 14) != 0)
            continue;
        if (v->n == DKIM_VERIFY_MAX) {
            v->skipped++;
            continue;
        }
        parse_sig(m, j, now, &v->s[v->n++]);
    }
    free(f);
    free(m);
    ERR_clear_error();          /* nothing left in this thread's error queue */
    return v;
}

size_t
dkim_verify_count(const struct dkim_verify *v)
{
    return v->n;
}

size_t
dkim_verify_skipped(const struct dkim_verify *v)
{
    return v->skipped;
}

const char *
dkim_verify_query(const struct dkim_verify *v, size_t i)
{
    return i < v->n && !v->s[i].settled ? v->s[i].query : NULL;
}

const struct dkim_result *
dkim_verify_result(const struct dkim_verify *v, size_t i)
{
    return i < v->n ? &v->s[i].res : NULL;
}

void
dkim_verify_free(struct dkim_verify *v)
{
    free(v);
}

/* sig_ok - does s's signature verify with pkey? */
static bool
sig_ok(const struct sig *s, EVP_PKEY *pkey)
{
    bool ok;

    if (s->alg == DKIM_RSA_SHA256) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
        ok = ctx && EVP_PKEY_verify_init(ctx) == 1
             && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1
             && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1
             && EVP_PKEY_verify(ctx, s->b, s->blen, s->digest, DKIM_HASH_LEN) == 1;
        EVP_PKEY_CTX_free(ctx);
    } else {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, pkey) == 1
             && EVP_DigestVerify(md, s->b, s->blen, s->digest, DKIM_HASH_LEN) == 1;
        EVP_MD_CTX_free(md);
    }
    return ok;
}

/* check_record - the result of s with key record txt, into r */
static void
check_record(const struct sig *s, const char *txt, struct dkim_result *r)
{
    struct dkim_pubkey pub;

    if (dkim_record_parse(txt, s->alg, &pub, r->reason, sizeof(r->reason)) < 0) {
        r->status = DKIM_PERMERROR;
        return;
    }
    r->key_bits = pub.bits;
    r->testing = pub.testing;
    if (pub.strict && strcmp(s->idomain, s->res.domain) != 0) {
        r->status = DKIM_PERMERROR;         /* 3.6.1 t=s */
        snprintf(r->reason, sizeof(r->reason), "i= is below d= but the key has t=s");
    } else if (s->l_past) {
        r->status = DKIM_FAIL;
        snprintf(r->reason, sizeof(r->reason), "l= beyond the end of the body");
    } else if (!s->body_ok) {
        r->status = DKIM_FAIL;
        snprintf(r->reason, sizeof(r->reason), "body hash mismatch");
    } else if (!sig_ok(s, pub.pkey)) {
        r->status = DKIM_FAIL;
        snprintf(r->reason, sizeof(r->reason), "signature mismatch");
    } else if (s->res.has_l && s->res.l < s->res.body_len) {
        /* see dkim.h: only a signature of the whole body passes */
        r->status = DKIM_NEUTRAL;
        snprintf(r->reason, sizeof(r->reason), "body longer than l= (%llu of %llu octets signed)",
                 s->res.l, s->res.body_len);
    } else {
        r->status = DKIM_PASS;
        r->reason[0] = '\0';
    }
    EVP_PKEY_free(pub.pkey);
}

void
dkim_verify_answer(struct dkim_verify *v, size_t i, enum dkim_dns st, char *const *txt,
                   size_t ntxt)
{
    struct sig *s;

    if (i >= v->n || v->s[i].settled)
        return;
    s = &v->s[i];
    if (st == DKIM_DNS_TEMPFAIL) {
        settle(s, DKIM_TEMPERROR, "key lookup failed for now (DNS)");
        return;
    }
    if (st != DKIM_DNS_OK || ntxt == 0) {
        settle(s, DKIM_PERMERROR, "no key");    /* 6.1.2: NXDOMAIN, no TXT */
        return;
    }
    struct dkim_result first = s->res, r;
    for (size_t k = 0; k < ntxt; k++) {
        r = s->res;
        check_record(s, txt[k] ? txt[k] : "", &r);
        if (k == 0)
            first = r;
        if (r.status == DKIM_PASS)
            break;
    }
    s->res = r.status == DKIM_PASS ? r : first;
    s->settled = true;
    ERR_clear_error();
}
