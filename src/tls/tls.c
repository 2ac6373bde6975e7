/*
 * tls - the server's TLS context; see tls.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"
#include "util/fsutil.h"

/* Mozilla's "intermediate" configuration (version 5.7) for TLS 1.2; TLS
 * 1.3 suites are OpenSSL's defaults, which are the same list. */
#define TLS12_CIPHERS \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"

/* ssl_error - the newest OpenSSL error as text, after a prefix */
static void
ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];

    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
        snprintf(err, errlen, "%s: %s", what, buf);
    } else {
        snprintf(err, errlen, "%s", what);
    }
    ERR_clear_error();
}

SSL_CTX *
tls_server_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    char what[2 * PATH_MAX + 64];

    if (!ctx) {
        ssl_error(err, errlen, "cannot make a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_dh_auto(ctx, 1);
    if (SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
        ssl_error(err, errlen, "cannot set the cipher list");
        goto bad;
    }
    snprintf(what, sizeof(what), "tls_cert %s", cert);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_error(err, errlen, what);
        goto bad;
    }
    snprintf(what, sizeof(what), "tls_key %s", key);
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        /* OpenSSL compares a key with the certificate of its type itself,
         * and says only "key values mismatch": say which files. */
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            snprintf(what, sizeof(what), "tls_key %s does not match tls_cert %s", key, cert);
        ssl_error(err, errlen, what);
        goto bad;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        /* a key of another type (RSA for an ECDSA certificate) */
        snprintf(what, sizeof(what), "tls_key %s does not match tls_cert %s", key, cert);
        ssl_error(err, errlen, what);
        goto bad;
    }
    /* Sessions may resume within this process only. */
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"postino", 7);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

/* add_ext - add an X.509v3 extension to a self-signed certificate */
static int
add_ext(X509 *x, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (!ex)
        return -1;
    int rc = X509_add_ext(x, ex, -1) ? 0 : -1;
    X509_EXTENSION_free(ex);
    return rc;
}

/* expiring - does the certificate at path end within 30 days (or not parse)? */
static bool
expiring(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    bool soon = true;

    if (f)
        fclose(f);
    if (x) {
        time_t limit = time(NULL) + 30L * 86400;
        soon = X509_cmp_time(X509_get0_notAfter(x), &limit) <= 0;
        X509_free(x);
    }
    ERR_clear_error();
    return soon;
}

int
tls_selfsigned_ensure(const char *dir, const char *hostname, char *err, size_t errlen)
{
    char cpath[PATH_MAX], kpath[PATH_MAX], san[300];
    EVP_PKEY *pkey = NULL;
    X509 *x = NULL;
    BIO *kbio = NULL, *cbio = NULL;
    char *data;
    long len;
    int rc = -1;

    if (pathf(cpath, sizeof(cpath), "%s/cert.pem", dir) < 0
        || pathf(kpath, sizeof(kpath), "%s/key.pem", dir) < 0) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    if (access(cpath, R_OK) == 0 && access(kpath, R_OK) == 0 && !expiring(cpath))
        return 0;
    if (mkdir_p(dir, 0700) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    pkey = EVP_EC_gen("P-256");
    x = X509_new();
    if (!pkey || !x) {
        ssl_error(err, errlen, "cannot make a key");
        goto out;
    }
    X509_set_version(x, 2);
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof(serial)) != 1) {
        ssl_error(err, errlen, "no randomness");
        goto out;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)TLS_SELFSIGNED_DAYS * 86400);
    X509_set_pubkey(x, pkey);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)hostname, -1, -1, 0);
    X509_set_issuer_name(x, name);
    snprintf(san, sizeof(san), "DNS:%s", hostname);
    if (add_ext(x, NID_subject_alt_name, san) < 0
        || add_ext(x, NID_basic_constraints, "critical,CA:FALSE") < 0
        || add_ext(x, NID_key_usage, "critical,digitalSignature") < 0
        || add_ext(x, NID_ext_key_usage, "serverAuth") < 0
        || !X509_sign(x, pkey, EVP_sha256())) {
        ssl_error(err, errlen, "cannot sign the certificate");
        goto out;
    }
    /*
     * Each file is replaced by a new one (file_replace: temp file, fsync,
     * rename), so key.pem gets mode 0600 even when a key.pem that others
     * could read was left behind without its certificate.
     */
    kbio = BIO_new(BIO_s_mem());
    cbio = BIO_new(BIO_s_mem());
    if (!kbio || !cbio || !PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL)
        || !PEM_write_bio_X509(cbio, x)) {
        ssl_error(err, errlen, "cannot encode the key and certificate");
        goto out;
    }
    len = BIO_get_mem_data(kbio, &data);
    if (len <= 0 || file_replace(kpath, data, (size_t)len, 0600) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", kpath, strerror(errno));
        goto out;
    }
    len = BIO_get_mem_data(cbio, &data);
    if (len <= 0 || file_replace(cpath, data, (size_t)len, 0644) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", cpath, strerror(errno));
        goto out;
    }
    rc = 1;
out:
    BIO_free(kbio);         /* BUF_MEM_free wipes the PEM key */
    BIO_free(cbio);
    X509_free(x);
    EVP_PKEY_free(pkey);
    return rc;
}

void
tls_describe(SSL *ssl, char *out, size_t outlen)
{
    int alg = 0;
    int bits = SSL_get_cipher_bits(ssl, &alg);
    snprintf(out, outlen, "%s with cipher %s (%d/%d bits)", SSL_get_version(ssl),
             SSL_get_cipher_name(ssl), bits, alg);
}
