/*
 * tls - the server's TLS context (OpenSSL 3): protocol versions, ciphers,
 * certificate, and the self-signed certificate of a setup without one.
 *
 * Policy: TLS 1.2 and 1.3 only, Mozilla's "intermediate" cipher list
 * (forward secrecy and AEAD only), no renegotiation, no compression, no
 * session tickets across restarts that would outlive key rotation.
 * Sessions use the context through libevent's OpenSSL bufferevents.
 */
#ifndef POSTINO_TLS_TLS_H
#define POSTINO_TLS_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

#define TLS_SELFSIGNED_DAYS 397

/*
 * tls_server_ctx_new - a server context with cert (PEM, may hold the
 * chain) and key. NULL with a sentence in err on failure.
 */
SSL_CTX *tls_server_ctx_new(const char *cert, const char *key, char *err, size_t errlen);

/*
 * tls_selfsigned_ensure - make <dir>/cert.pem and <dir>/key.pem (ECDSA
 * P-256, subject and SAN = hostname) unless both exist and the
 * certificate is good for 30 more days. It is valid TLS_SELFSIGNED_DAYS,
 * the CA/Browser Forum's limit since 2020 (longer is refused by Apple's
 * clients and flagged by scanners); it is renewed at start and on SIGHUP
 * when it nears its end.
 * Returns 1 when it made them, 0 when they existed, -1 with err.
 */
int tls_selfsigned_ensure(const char *dir, const char *hostname, char *err, size_t errlen);

/*
 * tls_describe - "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"
 * for the Received: header and the log.
 */
void tls_describe(SSL *ssl, char *out, size_t outlen);

#endif
