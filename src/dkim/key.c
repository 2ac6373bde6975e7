/*
 * key - DKIM keys: private keys (load, generate, save), the key record
 * that publishes the public half (RFC 6376 3.6.1, RFC 8463 4.2), and the
 * parsing of a key record found in the DNS; see dkim.h and dkim_priv.h.
 *
 * Private keys are PEM files: PKCS#8 ("BEGIN PRIVATE KEY") as written
 * here and by "openssl genpkey", or PKCS#1 ("BEGIN RSA PRIVATE KEY") as
 * opendkim-genkey writes. Encrypted keys are refused (never prompted
 * for). This module does no DNS and knows nothing of the key folders
 * (store.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* this module */
#include "dkim/dkim_priv.h"

/* utilities */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"

#define KEY_PEM_MAX     (64 * 1024)     /* a key file larger than this is not a key */
#define KEY_RSA_MAX_BITS 8192           /* larger keys: too slow to verify, refused */
#define KEY_P_MAX       2048            /* octets of a decoded p= (8192-bit SPKI: 1062) */
#define ZONE_STRING_MAX 255             /* RFC 1035 3.3: one character-string */

/* Invariant: pkey is a private key of type alg; an RSA key has >= DKIM_RSA_MIN_BITS. */
struct dkim_key {
    EVP_PKEY      *pkey;
    enum dkim_alg  alg;
};

/* no_password - the PEM password callback: never prompt, fail */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* key_wrap - a dkim_key around pkey (taken), or NULL with err if unusable */
static struct dkim_key *
key_wrap(EVP_PKEY *pkey, char *err, size_t errlen)
{
    struct dkim_key *k;
    enum dkim_alg alg;

    switch (EVP_PKEY_get_base_id(pkey)) {
    case EVP_PKEY_RSA:
        alg = DKIM_RSA_SHA256;
        if (EVP_PKEY_get_bits(pkey) < DKIM_RSA_MIN_BITS
            || EVP_PKEY_get_bits(pkey) > KEY_RSA_MAX_BITS) {
            snprintf(err, errlen, "an RSA key of %d bits (DKIM needs %d to %d, RFC 8301)",
                     EVP_PKEY_get_bits(pkey), DKIM_RSA_MIN_BITS, KEY_RSA_MAX_BITS);
            EVP_PKEY_free(pkey);
            return NULL;
        }
        break;
    case EVP_PKEY_ED25519:
        alg = DKIM_ED25519_SHA256;
        break;
    default:
        snprintf(err, errlen, "not an RSA or Ed25519 key");
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k = xcalloc(1, sizeof(*k));
    k->pkey = pkey;
    k->alg = alg;
    return k;
}

struct dkim_key *
dkim_key_from_pem(const char *pem, size_t n, char *err, size_t errlen)
{
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (n > KEY_PEM_MAX) {
        snprintf(err, errlen, "not a PEM private key (too large)");
        return NULL;
    }
    bio = BIO_new_mem_buf(pem, (int)n);
    if (bio)
        pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    if (!pkey) {
        snprintf(err, errlen, "not a PEM private key (or an encrypted one)");
        return NULL;
    }
    return key_wrap(pkey, err, errlen);
}

struct dkim_key *
dkim_key_load(const char *path, char *err, size_t errlen)
{
    struct dkim_key *k;
    char *text, why[160];
    size_t len;

    if (file_read(path, KEY_PEM_MAX, &text, &len) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    k = dkim_key_from_pem(text, len, why, sizeof(why));
    OPENSSL_cleanse(text, len);
    free(text);
    if (!k)
        snprintf(err, errlen, "%s: %s", path, why);
    return k;
}

struct dkim_key *
dkim_key_generate(enum dkim_alg alg, unsigned bits, char *err, size_t errlen)
{
    EVP_PKEY *pkey;

    if (alg == DKIM_RSA_SHA256) {
        if (bits == 0)
            bits = DKIM_RSA_BITS;
        if (bits < DKIM_RSA_MIN_BITS || bits > KEY_RSA_MAX_BITS) {
            snprintf(err, errlen, "RSA keys have %d to %d bits", DKIM_RSA_MIN_BITS,
                     KEY_RSA_MAX_BITS);
            return NULL;
        }
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    } else {
        pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    }
    if (!pkey) {
        snprintf(err, errlen, "key generation failed (OpenSSL)");
        return NULL;
    }
    return key_wrap(pkey, err, errlen);
}

int
dkim_key_save(const struct dkim_key *k, const char *path, char *err, size_t errlen)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL, dir[4096];
    long n = 0;
    int fd = -1, rc = -1;

    if (!bio || !PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)
        || (n = BIO_get_mem_data(bio, &pem)) <= 0) {
        snprintf(err, errlen, "cannot encode the key (OpenSSL)");
        goto out;
    }
    /* O_EXCL with O_CREAT also refuses a symbolic link, dangling or not */
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) < 0 || write_all(fd, pem, (size_t)n) < 0 || fsync(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    if (close(fd) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(path);
        goto out;
    }
    /* the folder too, so that the new name survives a crash. XXX a failure
     * here is not reported: the key is written, and a key lost to a crash
     * is made again with keygen (its record was not published yet). */
    const char *slash = strrchr(path, '/');
    if (slash && (size_t)(slash - path) < sizeof(dir)) {
        snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
        (void)fsync_path(dir);
    }
    rc = 0;
out:
    if (pem && n > 0)
        OPENSSL_cleanse(pem, (size_t)n);
    BIO_free(bio);
    return rc;
}

void
dkim_key_free(struct dkim_key *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);     /* clears the private key */
    free(k);
}

enum dkim_alg
dkim_key_alg(const struct dkim_key *k)
{
    return k->alg;
}

unsigned
dkim_key_bits(const struct dkim_key *k)
{
    int bits = EVP_PKEY_get_bits(k->pkey);

    return bits > 0 ? (unsigned)bits : 0;
}

EVP_PKEY *
dkim_key_pkey(const struct dkim_key *k)
{
    return k->pkey;
}

const char *
dkim_alg_name(enum dkim_alg alg)
{
    return alg == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

const char *
dkim_key_type(enum dkim_alg alg)
{
    return alg == DKIM_ED25519_SHA256 ? "ed25519" : "rsa";
}

/* ---- the public record ---------------------------------------------------- */

char *
dkim_key_txt(const struct dkim_key *k)
{
    unsigned char raw[64], *der = NULL;
    char *b64, *txt;

    if (k->alg == DKIM_ED25519_SHA256) {
        /* RFC 8463 4.2: the raw public key, not a SubjectPublicKeyInfo */
        size_t len = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &len) != 1)
            return NULL;
        b64 = dkim_b64_encode(raw, len);
    } else {
        /* RFC 6376 3.6.1 as practised (errata 3017): DER SubjectPublicKeyInfo */
        int len = i2d_PUBKEY(k->pkey, &der);
        if (len <= 0)
            return NULL;
        b64 = dkim_b64_encode(der, (size_t)len);
        OPENSSL_free(der);
    }
    txt = xasprintf("v=DKIM1; k=%s; p=%s", dkim_key_type(k->alg), b64);
    free(b64);
    return txt;
}

char *
dkim_zone_line(const char *selector, const char *domain, const char *txt)
{
    struct buf b = BUF_INIT;
    size_t in_string = 0;

    if (strlen(selector) + strlen("._domainkey.") + strlen(domain) > DKIM_NAME_MAX)
        return NULL;
    buf_printf(&b, "%s._domainkey.%s. IN TXT ( \"", selector, domain);
    for (const char *p = txt; *p; p++) {
        if (in_string == ZONE_STRING_MAX) {
            buf_puts(&b, "\" \"");
            in_string = 0;
        }
        /* RFC 1035 5.1: quote and backslash are escaped in a zone file */
        if (*p == '"' || *p == '\\')
            buf_putc(&b, '\\');
        buf_putc(&b, *p);
        in_string++;
    }
    buf_puts(&b, "\" )");
    return buf_steal(&b);
}

/* ---- parsing a record found in the DNS -------------------------------------- */

/* rsa_from_der - an RSA public key from SubjectPublicKeyInfo or RSAPublicKey DER */
static EVP_PKEY *
rsa_from_der(const unsigned char *der, size_t len)
{
    const unsigned char *q = der;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &q, (long)len);

    if (pkey && (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA || q != der + len)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    if (!pkey) {
        /* the PKCS#1 RSAPublicKey that RFC 6376 3.6.1 literally describes */
        q = der;
        pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)len);
        if (pkey && q != der + len) {
            EVP_PKEY_free(pkey);
            pkey = NULL;
        }
    }
    return pkey;
}

int
dkim_record_parse(const char *txt, enum dkim_alg alg, struct dkim_pubkey *out,
                  char *reason, size_t rlen)
{
    struct dkim_tag t[DKIM_TAGS_MAX];
    const struct dkim_tag *v, *h, *k, *s, *fl, *p;
    unsigned char der[KEY_P_MAX];
    char why[64];
    size_t nt;
    long len;

    memset(out, 0, sizeof(*out));
    if (dkim_tags_parse(txt, strlen(txt), t, &nt, why, sizeof(why)) < 0) {
        snprintf(reason, rlen, "key record syntax: %s", why);
        return -1;
    }
    /* v=: optional, but if present first and "DKIM1" */
    v = dkim_tag_find(t, nt, "v");
    if (v && (v != &t[0] || v->vlen != 5 || memcmp(v->val, "DKIM1", 5) != 0)) {
        snprintf(reason, rlen, "key record: bad v=");
        return -1;
    }
    h = dkim_tag_find(t, nt, "h");
    if (h && !dkim_list_has(h->val, h->vlen, "sha256")) {
        snprintf(reason, rlen, "key h= excludes sha256");
        return -1;
    }
    k = dkim_tag_find(t, nt, "k");
    if (!k || dkim_tag_is(k, "rsa"))
        out->alg = DKIM_RSA_SHA256;
    else if (dkim_tag_is(k, "ed25519"))
        out->alg = DKIM_ED25519_SHA256;
    else {
        snprintf(reason, rlen, "key record: unknown k=");
        return -1;
    }
    if (out->alg != alg) {
        snprintf(reason, rlen, "key type k=%s does not match a=", dkim_key_type(out->alg));
        return -1;
    }
    s = dkim_tag_find(t, nt, "s");
    if (s && !dkim_list_has(s->val, s->vlen, "*") && !dkim_list_has(s->val, s->vlen, "email")) {
        snprintf(reason, rlen, "key not for email (s=)");
        return -1;
    }
    fl = dkim_tag_find(t, nt, "t");
    if (fl) {
        out->testing = dkim_list_has(fl->val, fl->vlen, "y");
        out->strict = dkim_list_has(fl->val, fl->vlen, "s");
    }
    p = dkim_tag_find(t, nt, "p");
    if (!p) {
        snprintf(reason, rlen, "key record without p=");
        return -1;
    }
    if (p->vlen == 0) {
        snprintf(reason, rlen, "key revoked");      /* 3.6.1: empty p= */
        return -1;
    }
    len = dkim_b64_decode(p->val, p->vlen, der, sizeof(der));
    if (len <= 0) {
        snprintf(reason, rlen, "key record: p= is not base64");
        return -1;
    }
    if (alg == DKIM_ED25519_SHA256) {
        /* RFC 8463 4.2: the raw 32-octet key; an SPKI (44 octets) is wrong */
        if (len != 32) {
            snprintf(reason, rlen, "Ed25519 key of %ld octets, not 32", len);
            return -1;
        }
        out->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32);
    } else {
        out->pkey = rsa_from_der(der, (size_t)len);
    }
    if (!out->pkey) {
        snprintf(reason, rlen, "key record: p= is not %s key",
                 alg == DKIM_RSA_SHA256 ? "an RSA" : "an Ed25519");
        return -1;
    }
    out->bits = (unsigned)EVP_PKEY_get_bits(out->pkey);
    if (alg == DKIM_RSA_SHA256
        && (out->bits < DKIM_RSA_MIN_BITS || out->bits > KEY_RSA_MAX_BITS)) {
        snprintf(reason, rlen, out->bits < DKIM_RSA_MIN_BITS
                 ? "RSA key of %u bits, under 1024 (RFC 8301)" : "RSA key of %u bits, too large",
                 out->bits);
        EVP_PKEY_free(out->pkey);
        out->pkey = NULL;
        return -1;
    }
    return 0;
}

bool
dkim_key_matches_record(const struct dkim_key *k, const char *txt)
{
    struct dkim_pubkey pub;
    char why[DKIM_REASON_MAX + 1];
    bool same;

    if (!txt || dkim_record_parse(txt, k->alg, &pub, why, sizeof(why)) < 0)
        return false;
    same = EVP_PKEY_eq(pub.pkey, k->pkey) == 1;
    EVP_PKEY_free(pub.pkey);
    return same;
}
