/*
 * test_tls - unit tests for src/tls/tls.c: the self-signed certificate
 * of a setup without one, and the server context built from a pair.
 *
 * Everything happens in a fresh temporary folder. Handshakes run in
 * memory (a BIO pair, no sockets), so the protocol policy is checked
 * against a real OpenSSL client, not only read back from the context.
 * Every mismatch is reported as "got ..., want ..." and the test fails at
 * the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls/tls.h"

#include "check.h"

#define HOST "mail.example.org"

/* ---- a temporary folder with two certificate pairs ---------------------- */

struct tmp {
    char dir[64];
    char a[96], acert[128], akey[128];      /* pair A: HOST */
    char b[96], bcert[128], bkey[128];      /* pair B: another host, for mismatches */
};

static struct tmp T;

static int
setup(void **state)
{
    (void)state;
    snprintf(T.dir, sizeof(T.dir), "/tmp/postino-test-tls.XXXXXX");
    if (!mkdtemp(T.dir))
        return -1;
    /* a/ and b/ do not exist yet: tls_selfsigned_ensure makes them */
    snprintf(T.a, sizeof(T.a), "%s/a", T.dir);
    snprintf(T.acert, sizeof(T.acert), "%s/cert.pem", T.a);
    snprintf(T.akey, sizeof(T.akey), "%s/key.pem", T.a);
    snprintf(T.b, sizeof(T.b), "%s/b", T.dir);
    snprintf(T.bcert, sizeof(T.bcert), "%s/cert.pem", T.b);
    snprintf(T.bkey, sizeof(T.bkey), "%s/key.pem", T.b);
    return 0;
}

static int
teardown(void **state)
{
    const char *files[] = { T.acert, T.akey, T.bcert, T.bkey };

    (void)state;
    for (size_t i = 0; i < NELEM(files); i++)
        unlink(files[i]);
    rmdir(T.a);
    rmdir(T.b);
    return rmdir(T.dir);        /* nothing else was left behind */
}

/* read_cert, read_key - a PEM file, or NULL */
static X509 *
read_cert(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;

    if (f)
        fclose(f);
    return x;
}

static EVP_PKEY *
read_key(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

    if (f)
        fclose(f);
    return k;
}

/* file_mode - permission bits of path, or -1 */
static int
file_mode(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* ---- tls_selfsigned_ensure --------------------------------------------- */

/* check_pair - cert and key at these paths are what ensure promises for host */
static void
check_pair(const char *cert, const char *key, const char *host)
{
    X509 *x = read_cert(cert);
    EVP_PKEY *k = read_key(key);
    char buf[300];

    if (!x || !k) {
        report("%s: got cert %p, key %p; want both readable PEM", host, (void *)x, (void *)k);
        goto out;
    }
    /* key.pem holds the private key: owner only, whatever the umask */
    if (file_mode(key) != 0600)
        report("%s: got mode %o, want 600", key, (unsigned)file_mode(key));

    /* subject CN = hostname, and it is self-issued */
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf));
    if (n < 0 || strcmp(buf, host) != 0)
        report("%s: got subject CN \"%s\", want \"%s\"", cert, n < 0 ? "(none)" : buf, host);
    if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0)
        report("%s: got issuer != subject, want a self-signed certificate", cert);

    /* subjectAltName: exactly one DNS name, the hostname */
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int nsan = sans ? sk_GENERAL_NAME_num(sans) : 0;
    if (nsan != 1) {
        report("%s: got %d subjectAltName entries, want 1", cert, nsan);
    } else {
        GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, 0);
        if (gn->type != GEN_DNS)
            report("%s: got subjectAltName type %d, want GEN_DNS", cert, gn->type);
        else if ((size_t)ASN1_STRING_length(gn->d.dNSName) != strlen(host)
                 || memcmp(ASN1_STRING_get0_data(gn->d.dNSName), host, strlen(host)) != 0)
            report("%s: got subjectAltName DNS \"%.*s\", want \"%s\"", cert,
                   ASN1_STRING_length(gn->d.dNSName),
                   (const char *)ASN1_STRING_get0_data(gn->d.dNSName), host);
    }
    GENERAL_NAMES_free(sans);
    /* what a client checks: the name matches */
    if (X509_check_host(x, host, 0, 0, NULL) != 1)
        report("%s: X509_check_host(\"%s\"): got no match, want a match", cert, host);
    if (X509_check_host(x, "other.example.org", 0, 0, NULL) == 1)
        report("%s: X509_check_host(\"other.example.org\"): got a match, want none", cert);

    /* the key: EC on P-256 */
    char group[64] = "";
    if (EVP_PKEY_get_base_id(k) != EVP_PKEY_EC)
        report("%s: got key type %d, want EVP_PKEY_EC (%d)", key, EVP_PKEY_get_base_id(k),
               EVP_PKEY_EC);
    else if (!EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
                                             NULL) || strcmp(group, "prime256v1") != 0)
        report("%s: got curve \"%s\", want \"prime256v1\" (P-256)", key, group);
    if (EVP_PKEY_get_bits(k) != 256)
        report("%s: got %d bits, want 256", key, EVP_PKEY_get_bits(k));

    /* the certificate holds the key's public half and is signed by it */
    if (X509_check_private_key(x, k) != 1)
        report("%s: got a certificate for another key, want the key in %s", cert, key);
    if (X509_verify(x, k) != 1)
        report("%s: X509_verify with its own key: got failure, want success", cert);
    if (X509_get_signature_nid(x) != NID_ecdsa_with_SHA256)
        report("%s: got signature %s, want ecdsa-with-SHA256", cert,
               OBJ_nid2sn(X509_get_signature_nid(x)));
    if (X509_get_version(x) != 2)
        report("%s: got version %ld, want 2 (v3)", cert, X509_get_version(x));

    /* valid now, for TLS_SELFSIGNED_DAYS */
    if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
        report("%s: got notBefore in the future, want in the past", cert);
    int days = 0, secs = 0;
    if (!ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x), X509_get0_notAfter(x))
        || days != TLS_SELFSIGNED_DAYS)
        report("%s: got validity of %d days, want %d", cert, days, TLS_SELFSIGNED_DAYS);

    /* a server certificate, not a CA */
    if (X509_check_ca(x) != 0)
        report("%s: got X509_check_ca %d, want 0 (not a CA)", cert, X509_check_ca(x));
    if (!(X509_get_extended_key_usage(x) & XKU_SSL_SERVER))
        report("%s: got no serverAuth extended key usage, want it", cert);
    /* self-signed: the chain of one verifies against itself as the trust anchor */
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    X509_STORE_add_cert(store, x);
    X509_STORE_CTX_init(vctx, store, x, NULL);
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(vctx), host, 0);
    X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
    if (X509_verify_cert(vctx) != 1)
        report("%s: verified against itself for %s: got \"%s\", want ok", cert, host,
               X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx)));
    X509_STORE_CTX_free(vctx);
    X509_STORE_free(store);
out:
    X509_free(x);
    EVP_PKEY_free(k);
}

/* test_selfsigned - made once (1), then found (0); the pair is sound */
static void
test_selfsigned(void **state)
{
    char err[512] = "";

    (void)state;
    failures = 0;
    /* a lax umask must not loosen the key's mode */
    mode_t old = umask(022);

    int rc = tls_selfsigned_ensure(T.a, HOST, err, sizeof(err));
    if (rc != 1)
        report("tls_selfsigned_ensure(new folder): got %d (%s), want 1", rc, err);
    if (file_mode(T.a) != 0700)
        report("%s: got folder mode %o, want 700", T.a, (unsigned)file_mode(T.a));
    check_pair(T.acert, T.akey, HOST);

    /* a second call keeps the pair */
    X509 *before = read_cert(T.acert);
    rc = tls_selfsigned_ensure(T.a, HOST, err, sizeof(err));
    if (rc != 0)
        report("tls_selfsigned_ensure(existing pair): got %d (%s), want 0", rc, err);
    X509 *after = read_cert(T.acert);
    if (!before || !after || X509_cmp(before, after) != 0)
        report("tls_selfsigned_ensure(existing pair): got a new certificate, want the old one");
    X509_free(before);
    X509_free(after);

    /* pair B, for another name: a different key and serial number */
    rc = tls_selfsigned_ensure(T.b, "b.example.net", err, sizeof(err));
    if (rc != 1)
        report("tls_selfsigned_ensure(b): got %d (%s), want 1", rc, err);
    check_pair(T.bcert, T.bkey, "b.example.net");
    X509 *xa = read_cert(T.acert), *xb = read_cert(T.bcert);
    assert_true(xa && xb);
    if (ASN1_INTEGER_cmp(X509_get0_serialNumber(xa), X509_get0_serialNumber(xb)) == 0)
        report("pairs A and B: got the same serial number, want random ones");
    if (EVP_PKEY_eq(X509_get0_pubkey(xa), X509_get0_pubkey(xb)) == 1)
        report("pairs A and B: got the same key, want a new one each time");
    X509_free(xa);
    X509_free(xb);
    umask(old);
    assert_int_equal(failures, 0);
}

/* test_selfsigned_half - only one of the two files: a new pair */
static void
test_selfsigned_half(void **state)
{
    char d[128], cert[160], key[160], err[512] = "";

    (void)state;
    failures = 0;
    snprintf(d, sizeof(d), "%s/half", T.dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", d);
    snprintf(key, sizeof(key), "%s/key.pem", d);
    assert_int_equal(tls_selfsigned_ensure(d, HOST, err, sizeof(err)), 1);

    /* the key is gone: both are made again, and match */
    assert_int_equal(unlink(key), 0);
    int rc = tls_selfsigned_ensure(d, HOST, err, sizeof(err));
    if (rc != 1)
        report("tls_selfsigned_ensure(cert without key): got %d (%s), want 1", rc, err);
    check_pair(cert, key, HOST);

    /*
     * The certificate is gone and a key.pem that others may read is left:
     * the new key must not inherit that mode.
     */
    assert_int_equal(unlink(cert), 0);
    assert_int_equal(chmod(key, 0644), 0);
    rc = tls_selfsigned_ensure(d, HOST, err, sizeof(err));
    if (rc != 1)
        report("tls_selfsigned_ensure(key without cert): got %d (%s), want 1", rc, err);
    check_pair(cert, key, HOST);

    unlink(cert);
    unlink(key);
    assert_int_equal(rmdir(d), 0);
    assert_int_equal(failures, 0);
}

/* write_short_cert - replace cert with one of the same key that ends in days */
static void
write_short_cert(const char *cert, const char *key, long days)
{
    FILE *f = fopen(key, "r");
    assert_non_null(f);
    EVP_PKEY *pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(pkey);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), -86400);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400);
    X509_set_pubkey(x, pkey);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)HOST, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
    f = fopen(cert, "w");
    assert_non_null(f);
    assert_true(PEM_write_X509(f, x));
    fclose(f);
    X509_free(x);
    EVP_PKEY_free(pkey);
}

/* test_selfsigned_renew - a certificate near its end is made anew; one
 * with time left is kept */
static void
test_selfsigned_renew(void **state)
{
    char d[128], cert[160], key[160], err[512] = "";

    (void)state;
    failures = 0;
    snprintf(d, sizeof(d), "%s/renew", T.dir);
    snprintf(cert, sizeof(cert), "%s/cert.pem", d);
    snprintf(key, sizeof(key), "%s/key.pem", d);
    assert_int_equal(tls_selfsigned_ensure(d, HOST, err, sizeof(err)), 1);

    write_short_cert(cert, key, 60);       /* two months left: kept */
    int rc = tls_selfsigned_ensure(d, HOST, err, sizeof(err));
    if (rc != 0)
        report("tls_selfsigned_ensure(60 days left): got %d, want 0 (kept)", rc);

    write_short_cert(cert, key, 10);       /* ten days left: renewed */
    rc = tls_selfsigned_ensure(d, HOST, err, sizeof(err));
    if (rc != 1)
        report("tls_selfsigned_ensure(10 days left): got %d (%s), want 1 (renewed)", rc, err);
    check_pair(cert, key, HOST);

    unlink(cert);
    unlink(key);
    assert_int_equal(rmdir(d), 0);
    assert_int_equal(failures, 0);
}

/* test_selfsigned_error - a folder that cannot be made is an error with its name */
static void
test_selfsigned_error(void **state)
{
    char d[128], err[512] = "";

    (void)state;
    snprintf(d, sizeof(d), "%s/a/cert.pem/sub", T.dir);     /* a file in the way */
    assert_int_equal(tls_selfsigned_ensure(d, HOST, err, sizeof(err)), -1);
    if (!strstr(err, d)) {
        fprintf(stderr, "tls_selfsigned_ensure(%s): got error \"%s\", want it to name the folder\n",
                d, err);
        fail();
    }
}

/* ---- tls_server_ctx_new ------------------------------------------------ */

/* handshake - an in-memory handshake of a client with ctx; 1 ok, 0 refused */
static int
handshake(SSL_CTX *sctx, int client_min, int client_max, const char *ciphers,
          char *version, size_t vlen)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    BIO *cb, *sb;

    assert_non_null(cctx);
    /* level 0: the client may offer what a careless peer offers */
    SSL_CTX_set_security_level(cctx, 0);
    assert_int_equal(SSL_CTX_set_min_proto_version(cctx, client_min), 1);
    assert_int_equal(SSL_CTX_set_max_proto_version(cctx, client_max), 1);
    if (ciphers)
        assert_int_equal(SSL_CTX_set_cipher_list(cctx, ciphers), 1);
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    assert_true(c && s);
    assert_int_equal(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
    SSL_set_bio(c, cb, cb);
    SSL_set_bio(s, sb, sb);
    SSL_set_connect_state(c);
    SSL_set_accept_state(s);

    int ok = 0;
    for (int round = 0; round < 20; round++) {
        int rc = SSL_do_handshake(c), rs = SSL_do_handshake(s);
        if (rc == 1 && rs == 1) {
            ok = 1;
            break;
        }
        int ec = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c, rc);
        int es = rs == 1 ? SSL_ERROR_NONE : SSL_get_error(s, rs);
        if ((ec != SSL_ERROR_NONE && ec != SSL_ERROR_WANT_READ && ec != SSL_ERROR_WANT_WRITE)
            || (es != SSL_ERROR_NONE && es != SSL_ERROR_WANT_READ && es != SSL_ERROR_WANT_WRITE))
            break;
    }
    snprintf(version, vlen, "%s", ok ? SSL_get_version(s) : "(refused)");
    ERR_clear_error();
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    return ok;
}

/* test_ctx - a good pair gives a context with the documented policy */
static void
test_ctx(void **state)
{
    char err[512] = "", ver[64];

    (void)state;
    failures = 0;
    SSL_CTX *ctx = tls_server_ctx_new(T.acert, T.akey, err, sizeof(err));
    if (!ctx) {
        report("tls_server_ctx_new(%s, %s): got NULL (%s), want a context", T.acert, T.akey, err);
        assert_int_equal(failures, 0);
    }
    if (SSL_CTX_get_min_proto_version(ctx) != TLS1_2_VERSION)
        report("SSL_CTX_get_min_proto_version: got %#lx, want TLS1_2_VERSION (%#x)",
               (long)SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    uint64_t want = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION;
    if ((SSL_CTX_get_options(ctx) & want) != want)
        report("SSL_CTX_get_options: got %#llx, want the bits %#llx (no compression, no "
               "renegotiation)", (unsigned long long)SSL_CTX_get_options(ctx),
               (unsigned long long)want);

    /* what a client can get: TLS 1.2 and 1.3, nothing older, AEAD only */
    static const struct {
        int         min, max;
        const char *ciphers;
        const char *want;       /* the version, or "(refused)" */
    } cases[] = {
        { TLS1_VERSION,   TLS1_3_VERSION, NULL, "TLSv1.3" },
        { TLS1_3_VERSION, TLS1_3_VERSION, NULL, "TLSv1.3" },
        { TLS1_2_VERSION, TLS1_2_VERSION, NULL, "TLSv1.2" },
        { TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLSv1.2" },
        { TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLSv1.2" },
        { TLS1_1_VERSION, TLS1_1_VERSION, "ALL:@SECLEVEL=0", "(refused)" },
        { TLS1_VERSION,   TLS1_VERSION,   "ALL:@SECLEVEL=0", "(refused)" },
        { TLS1_VERSION,   TLS1_1_VERSION, "ALL:@SECLEVEL=0", "(refused)" },
        /* CBC and SHA-1 MAC suites are not in the list */
        { TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-SHA", "(refused)" },
        { TLS1_2_VERSION, TLS1_2_VERSION, "ECDHE-ECDSA-AES256-SHA384", "(refused)" },
        { TLS1_2_VERSION, TLS1_2_VERSION, "AES128-GCM-SHA256", "(refused)" },    /* no FS */
        { TLS1_2_VERSION, TLS1_2_VERSION, "aNULL:@SECLEVEL=0", "(refused)" },
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        handshake(ctx, cases[i].min, cases[i].max, cases[i].ciphers, ver, sizeof(ver));
        if (strcmp(ver, cases[i].want) != 0)
            report("handshake with a client for %#x..%#x ciphers %s: got %s, want %s",
                   cases[i].min, cases[i].max, cases[i].ciphers ? cases[i].ciphers : "(default)",
                   ver, cases[i].want);
    }
    SSL_CTX_free(ctx);
    assert_int_equal(failures, 0);
}

/* test_ctx_errors - each failure says what is wrong, naming the file */
static void
test_ctx_errors(void **state)
{
    char missing[160], notpem[160], rsakey[160], err[512];

    (void)state;
    failures = 0;
    snprintf(missing, sizeof(missing), "%s/missing.pem", T.dir);
    snprintf(notpem, sizeof(notpem), "%s/notpem.pem", T.dir);
    snprintf(rsakey, sizeof(rsakey), "%s/rsakey.pem", T.dir);
    FILE *f = fopen(notpem, "w");
    assert_non_null(f);
    fputs("this is not PEM\n", f);
    assert_int_equal(fclose(f), 0);
    /* an RSA key: another type than the ECDSA certificate */
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    assert_non_null(rsa);
    f = fopen(rsakey, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, rsa, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
    EVP_PKEY_free(rsa);

    const struct {
        const char *what;
        const char *cert, *key;
        const char *want[2];    /* both must be in the error */
    } cases[] = {
        { "mismatched key",    T.acert, T.bkey,  { "does not match", T.bkey } },
        { "other mismatch",    T.bcert, T.akey,  { "does not match", T.akey } },
        { "RSA key, EC cert",  T.acert, rsakey,  { "does not match", rsakey } },
        { "missing cert",      missing, T.akey,  { "tls_cert", missing } },
        { "missing key",       T.acert, missing, { "tls_key", missing } },
        { "cert not PEM",      notpem,  T.akey,  { "tls_cert", notpem } },
        { "key not PEM",       T.acert, notpem,  { "tls_key", notpem } },
        { "key as cert",       T.akey,  T.akey,  { "tls_cert", T.akey } },
        { "cert as key",       T.acert, T.acert, { "tls_key", T.acert } },
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(err, sizeof(err), "(untouched)");
        SSL_CTX *ctx = tls_server_ctx_new(cases[i].cert, cases[i].key, err, sizeof(err));
        if (ctx) {
            report("tls_server_ctx_new(%s): got a context, want NULL", cases[i].what);
            SSL_CTX_free(ctx);
            continue;
        }
        for (size_t k = 0; k < 2; k++)
            if (!strstr(err, cases[i].want[k]))
                report("tls_server_ctx_new(%s): got error \"%s\", want it to contain \"%s\"",
                       cases[i].what, err, cases[i].want[k]);
    }
    /* no stale OpenSSL error is left behind for the next caller */
    if (ERR_peek_error() != 0)
        report("after the failures: got OpenSSL error queue not empty, want empty");
    unlink(notpem);
    unlink(rsakey);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selfsigned),
        cmocka_unit_test(test_selfsigned_half),
        cmocka_unit_test(test_selfsigned_renew),
        cmocka_unit_test(test_selfsigned_error),
        cmocka_unit_test(test_ctx),
        cmocka_unit_test(test_ctx_errors),
    };

    /* the tests share the pairs made by the first one, in this order */
    return cmocka_run_group_tests(tests, setup, teardown);
}
