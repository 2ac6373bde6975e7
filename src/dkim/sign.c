/*
 * sign - make the DKIM-Signature field of a message (RFC 6376 5); see
 * dkim.h.
 *
 * The field is built up to "b=" with its final folding, that text is
 * hashed as the signature's own field (3.7: b= empty), and the
 * signature is appended after it, folded too: deleting the b= value,
 * with its folding white space, as a verifier does, gives back exactly
 * the hashed text, in simple and in relaxed canonicalisation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

/* this module */
#include "dkim/dkim_priv.h"

/* utilities */
#include "util/buf.h"
#include "util/xmalloc.h"

#define FOLD_AT     78      /* columns (RFC 5322 2.1.1), a tab counting 8 */
#define TAB_COLS    8

/*
 * The fields that are signed when present (RFC 6376 5.4.1, plus the MIME
 * fields that decide how the body reads), and every "List-*" (RFC 2369,
 * RFC 8058 3 asks that List-Unsubscribe-Post be signed).
 */
static const char *const signed_fields[] = {
    "from", "sender", "reply-to", "subject", "date", "message-id", "to", "cc",
    "mime-version", "content-type", "content-transfer-encoding", "content-id",
    "content-description", "content-disposition", "content-language",
    "in-reply-to", "references",
    "resent-date", "resent-from", "resent-sender", "resent-to", "resent-cc",
    "resent-message-id",
};

/* should_sign - is a field of this name in the signed set? */
static bool
should_sign(const char *name, size_t n)
{
    if (n > 5 && strncasecmp(name, "list-", 5) == 0) {
        /* Only a name h= can carry and a verifier can select: letters,
         * digits, "-" and "_" (no ";" smuggling tags into our field). */
        for (size_t i = 5; i < n; i++)
            if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
                return false;
        return true;
    }
    for (size_t i = 0; i < sizeof(signed_fields) / sizeof(signed_fields[0]); i++)
        if (strlen(signed_fields[i]) == n && strncasecmp(name, signed_fields[i], n) == 0)
            return true;
    return false;
}

/*
 * put - append token tok[0..n) to the field in b, whose last line is
 * *col columns wide: after a space, or with no separator when space is
 * false (inside h=), or on a new line ("\n\t") when it would pass
 * FOLD_AT.
 */
static void
put(struct buf *b, size_t *col, const char *tok, size_t n, bool space)
{
    if (*col + n + (space ? 1 : 0) > FOLD_AT && *col > TAB_COLS) {
        buf_puts(b, "\n\t");
        *col = TAB_COLS;
    } else if (space) {
        buf_putc(b, ' ');
        (*col)++;
    }
    buf_append(b, tok, n);
    *col += n;
}

/* putz - put() of a C string */
static void
putz(struct buf *b, size_t *col, const char *tok, bool space)
{
    put(b, col, tok, strlen(tok), space);
}

/* sign_digest - sign the header hash with k into a new *sig (*siglen); 0 or -1 */
static int
sign_digest(const struct dkim_key *k, const unsigned char digest[DKIM_HASH_LEN],
            unsigned char **sig, size_t *siglen)
{
    EVP_PKEY *pkey = dkim_key_pkey(k);
    size_t len = 0;
    int ok = 0;

    *sig = NULL;
    if (dkim_key_alg(k) == DKIM_RSA_SHA256) {
        /* RFC 6376 3.3.1: RSASSA-PKCS1-v1_5 over the SHA-256 hash */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
        ok = ctx && EVP_PKEY_sign_init(ctx) == 1
             && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1
             && EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) == 1
             && EVP_PKEY_sign(ctx, NULL, &len, digest, DKIM_HASH_LEN) == 1;
        if (ok) {
            *sig = xmalloc(len);
            ok = EVP_PKEY_sign(ctx, *sig, &len, digest, DKIM_HASH_LEN) == 1;
        }
        EVP_PKEY_CTX_free(ctx);
    } else {
        /* RFC 8463 3: PureEdDSA (Ed25519) over the SHA-256 hash */
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        ok = md && EVP_DigestSignInit(md, NULL, NULL, NULL, pkey) == 1
             && EVP_DigestSign(md, NULL, &len, digest, DKIM_HASH_LEN) == 1;
        if (ok) {
            *sig = xmalloc(len);
            ok = EVP_DigestSign(md, *sig, &len, digest, DKIM_HASH_LEN) == 1;
        }
        EVP_MD_CTX_free(md);
    }
    if (!ok) {
        free(*sig);
        *sig = NULL;
        return -1;
    }
    *siglen = len;
    return 0;
}

/* body_hash - base64 of the SHA-256 of the relaxed body; NULL on failure */
static char *
body_hash(const char *body, size_t n)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned char d[DKIM_HASH_LEN];
    unsigned dlen = 0;
    struct dkim_sink *s = xmalloc(sizeof(*s));
    char *b64 = NULL;

    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
        dkim_sink_init(s, md, NULL, ~0ULL);
        dkim_body_canon(body, n, DKIM_RELAXED, s);
        dkim_sink_flush(s);
        if (EVP_DigestFinal_ex(md, d, &dlen) == 1 && dlen == DKIM_HASH_LEN)
            b64 = dkim_b64_encode(d, sizeof(d));
    }
    EVP_MD_CTX_free(md);
    free(s);
    return b64;
}

char *
dkim_sign(const char *msg, size_t n, const struct dkim_key *key, const char *domain,
          const char *selector, time_t now, char *err, size_t errlen)
{
    struct dkim_field *f = NULL;
    struct dkim_name *h = NULL;
    struct buf b = BUF_INIT, hval = BUF_INIT;
    unsigned char digest[DKIM_HASH_LEN], *sig = NULL;
    char dom[DKIM_NAME_MAX + 1], tag[64], *bh = NULL, *b64 = NULL, *res = NULL;
    size_t nf, nh = 0, col, siglen;
    size_t body = dkim_fields(msg, n, &f, &nf);
    bool from = false;

    if (!dkim_domain_ok(domain) || !dkim_selector_ok(selector)
        || strlen(selector) + strlen("._domainkey.") + strlen(domain) > DKIM_NAME_MAX) {
        snprintf(err, errlen, "not a domain and selector to sign with: %s, %s", domain, selector);
        goto out;
    }
    dkim_lower(domain, strlen(domain), dom);
    /* h=: each signed field as often as present, top down, then one more
     * "from" (5.4.2) so that a From added later breaks the signature */
    h = xreallocarray(NULL, nf + 1, sizeof(*h));
    for (size_t i = 0; i < nf; i++) {
        const char *name = msg + f[i].off;
        if (f[i].nlen == 0 || !should_sign(name, f[i].nlen))
            continue;
        if (f[i].nlen == 4 && strncasecmp(name, "from", 4) == 0)
            from = true;
        h[nh].p = name;
        h[nh++].n = f[i].nlen;
    }
    if (!from) {
        /* 5.4: From is always signed, so a message without one cannot be */
        snprintf(err, errlen, "the message has no From header field");
        goto out;
    }
    h[nh].p = "from";
    h[nh++].n = 4;
    if (!(bh = body_hash(msg + body, n - body))) {
        snprintf(err, errlen, "cannot hash the body (OpenSSL)");
        goto out;
    }

    buf_puts(&b, "DKIM-Signature:");
    col = strlen("DKIM-Signature:");
    putz(&b, &col, "v=1;", true);
    snprintf(tag, sizeof(tag), "a=%s;", dkim_alg_name(dkim_key_alg(key)));
    putz(&b, &col, tag, true);
    putz(&b, &col, "c=relaxed/relaxed;", true);
    buf_printf(&hval, "d=%s;", dom);
    putz(&b, &col, hval.data, true);
    buf_reset(&hval);
    buf_printf(&hval, "s=%s;", selector);
    putz(&b, &col, hval.data, true);
    snprintf(tag, sizeof(tag), "t=%lld;", (long long)now);
    putz(&b, &col, tag, true);
    for (size_t i = 0; i < nh; i++) {
        buf_reset(&hval);
        if (i == 0)
            buf_puts(&hval, "h=");
        size_t at = hval.len;
        buf_append(&hval, h[i].p, h[i].n);
        dkim_lower(hval.data + at, h[i].n, hval.data + at);
        buf_putc(&hval, i + 1 < nh ? ':' : ';');
        put(&b, &col, hval.data, hval.len, i == 0);
    }
    buf_reset(&hval);
    buf_printf(&hval, "bh=%s;", bh);
    putz(&b, &col, hval.data, true);
    putz(&b, &col, "b=", true);

    if (dkim_header_hash(msg, f, nf, (size_t)-1, h, nh, DKIM_RELAXED, b.data, b.len, digest) < 0
        || sign_digest(key, digest, &sig, &siglen) < 0) {
        snprintf(err, errlen, "cannot sign (OpenSSL)");
        goto out;
    }
    b64 = dkim_b64_encode(sig, siglen);
    /* the value: what fits on this line, then lines of FOLD_AT columns */
    for (size_t i = 0, len = strlen(b64); i < len;) {
        size_t room = col < FOLD_AT ? FOLD_AT - col : 0;
        if (room == 0) {
            buf_puts(&b, "\n\t");
            col = TAB_COLS;
            continue;
        }
        size_t k = len - i < room ? len - i : room;
        buf_append(&b, b64 + i, k);
        col += k;
        i += k;
    }
    buf_putc(&b, '\n');
    res = buf_steal(&b);
out:
    free(f);
    free(h);
    free(bh);
    free(b64);
    free(sig);
    buf_free(&b);
    buf_free(&hval);
    return res;
}
