/*
 * smtpc - a small blocking SMTP client for the command line: what
 * "postino send" submits with and what "postino doctor --connect" probes
 * with. It does what a mail program does, one step at a time, and says
 * what went wrong in a sentence a user understands.
 *
 * Blocking in the sense that each call returns when its step is done;
 * underneath, the socket is non-blocking and every wait is a poll(2)
 * with a deadline, so that a silent server or a firewall that drops
 * packets costs the caller a known time, never a hang. TLS is OpenSSL 3:
 * STARTTLS (RFC 3207) or TLS from the first byte (RFC 8314), the name
 * checked with SSL_set1_host against the system's CA store or a --cafile.
 *
 * It does not do: pipelining, retries, MX lookups (it talks to the host
 * it is given), anything on the server's event loop. The server's
 * outbound client is relay/client.c.
 */
#ifndef POSTINO_CLI_SMTPC_H
#define POSTINO_CLI_SMTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "relay/reply.h"
#include "util/buf.h"

#define SMTPC_LINE_MAX  4096    /* a longer reply line is not SMTP (RFC 5321 4.5.3.1.5: 512) */
#define SMTPC_ERR_MAX   512

/* What a step came to. The sentence is in smtpc_error(). */
enum smtpc_status {
    SMTPC_OK = 0,
    SMTPC_NONAME,           /* the name does not exist, or has no address */
    SMTPC_DNS_TEMP,         /* the name could not be looked up now */
    SMTPC_REFUSED,          /* connection refused: nothing listens there */
    SMTPC_CONNECT_TIMEOUT,  /* no answer to the connection: dropped by a firewall */
    SMTPC_UNREACHABLE,      /* no route to the host or network */
    SMTPC_CONNECT_ERROR,    /* any other connect(2) error */
    SMTPC_TIMEOUT,          /* connected, but the server said nothing in time */
    SMTPC_CLOSED,           /* the server closed the connection */
    SMTPC_NOT_SMTP,         /* what came is not an SMTP reply */
    SMTPC_TLS_NOT_TLS,      /* the TLS handshake met plain text: no TLS on this port */
    SMTPC_TLS_FAILED,       /* the TLS handshake failed (protocol, ciphers, alert) */
    SMTPC_CERT_INVALID,     /* TLS is up, but the certificate does not verify */
    SMTPC_IO_ERROR,         /* a read or write failed */
};

struct smtpc_options {
    int         connect_ms;     /* connect and greeting, and the TLS handshake */
    int         reply_ms;       /* every other reply */
    const char *cafile;         /* trust only this PEM file; NULL: the system store */
    bool        insecure;       /* accept a certificate that does not verify */
    FILE       *trace;          /* the dialogue ("-> ", "<- ", "** "), or NULL */
};

struct smtpc;                   /* opaque: one connection */

/*
 * smtpc_new - a client that is not connected yet, for host (a name or an
 * address literal, without brackets; it is also the name the certificate
 * must carry) and port. The options are copied (not the strings: cafile
 * and trace must outlive the client). Free with smtpc_free().
 */
struct smtpc *smtpc_new(const char *host, const char *port, const struct smtpc_options *o);
/* smtpc_free - close the connection (without QUIT) and free; NULL is harmless */
void smtpc_free(struct smtpc *c);

/* smtpc_error - the sentence that explains the last failure ("" after success) */
const char *smtpc_error(const struct smtpc *c);

/*
 * smtpc_resolve - look the host up (getaddrinfo). Fills out with the
 * addresses found ("127.0.0.1, ::1") for the caller to show. SMTPC_OK,
 * SMTPC_NONAME or SMTPC_DNS_TEMP.
 */
enum smtpc_status smtpc_resolve(struct smtpc *c, char *out, size_t outlen);

/*
 * smtpc_connect - connect to the first address that answers (resolving
 * first if smtpc_resolve was not called), within connect_ms for each.
 * When every address fails, the status is that of the first one and the
 * sentence names each. smtpc_peer() is then the address connected to.
 */
enum smtpc_status smtpc_connect(struct smtpc *c);
const char *smtpc_peer(const struct smtpc *c);

/*
 * smtpc_close - drop the connection (to connect again with another mode);
 * the looked-up addresses are kept.
 */
void smtpc_close(struct smtpc *c);

/*
 * smtpc_tls - the TLS handshake on the connection (after STARTTLS's 220,
 * or at once for implicit TLS), within connect_ms. SMTPC_OK when TLS is
 * up and the certificate verifies (or insecure is set: then a bad
 * certificate is still described in smtpc_cert_problem()).
 * SMTPC_CERT_INVALID when TLS is up but the certificate does not verify:
 * nothing may be sent but QUIT. Else SMTPC_TLS_NOT_TLS, SMTPC_TLS_FAILED,
 * SMTPC_TIMEOUT, SMTPC_CLOSED.
 */
enum smtpc_status smtpc_tls(struct smtpc *c);
/* smtpc_tls_info - "TLSv1.3 with cipher ... ; certificate for NAME, valid until DATE" */
void smtpc_tls_info(const struct smtpc *c, char *out, size_t outlen);
/* smtpc_cert_problem - why the certificate does not verify, or "" */
const char *smtpc_cert_problem(const struct smtpc *c);
bool smtpc_is_tls(const struct smtpc *c);

/*
 * smtpc_reply - read one reply into r (reply_init'ed by the caller), within
 * ms milliseconds (0: reply_ms). SMTPC_OK, or SMTPC_TIMEOUT, SMTPC_CLOSED,
 * SMTPC_NOT_SMTP, SMTPC_IO_ERROR.
 */
enum smtpc_status smtpc_reply(struct smtpc *c, struct smtp_reply *r, int ms);

/*
 * smtpc_cmd - send one command line (CRLF added) and read its reply. The
 * trace shows shown instead of the line when shown is not NULL (for
 * secrets: "AUTH PLAIN ***").
 */
enum smtpc_status smtpc_cmd(struct smtpc *c, struct smtp_reply *r, const char *shown,
                            const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * smtpc_ehlo - EHLO (HELO when the server does not know EHLO) with the
 * address literal of our end ("[192.0.2.5]"), as mail programs on a
 * machine without a name of its own do. caps is what the reply offers
 * (all false after HELO). The caller reads r->code.
 */
enum smtpc_status smtpc_ehlo(struct smtpc *c, struct smtp_reply *r, struct ehlo_caps *caps);

/* smtpc_quit - QUIT, waiting a moment for the reply; the connection stays open */
void smtpc_quit(struct smtpc *c);

/* smtpc_write - send bytes as they are (the trace shows them line by line) */
enum smtpc_status smtpc_write(struct smtpc *c, const char *p, size_t n);

/*
 * smtpc_auth - AUTH PLAIN (else LOGIN) with user and password, as the
 * EHLO reply caps allows; r holds the last reply (235 on success). The
 * trace shows "***" for what carries the secrets. SMTPC_OK means the
 * dialogue ran; the caller reads r->code.
 */
enum smtpc_status smtpc_auth(struct smtpc *c, const struct ehlo_caps *caps, const char *user,
                             const char *password, struct smtp_reply *r);

/* Pure helpers (no I/O), for the verbs and the unit tests. */

/*
 * smtpc_split_hostport - "host", "host:port", "[v6]:port", "[v6]" or a
 * bare IPv6 address into host (without brackets) and port ("" when none
 * given). 0, or -1 when malformed or too long for the buffers.
 */
int smtpc_split_hostport(const char *arg, char *host, size_t hostlen, char *port, size_t portlen);

/*
 * smtpc_data_encode - append to out the message in[0..n) as DATA sends it
 * (RFC 5321 4.5.2): every line end (LF, CRLF or a lone CR) made CRLF, a
 * dot at the start of a line doubled, a last line without an end closed,
 * then ".\r\n".
 */
void smtpc_data_encode(struct buf *out, const char *in, size_t n);

/*
 * smtpc_auth_plain - the base64 of "\0user\0password" (RFC 4616) into a
 * new allocation (free it after explicit_bzero). NULL when a field is
 * empty or holds a NUL.
 */
char *smtpc_auth_plain(const char *user, const char *password);

/*
 * smtpc_auth_mechs - the SASL mechanisms a complete EHLO reply offers, in
 * its order, space separated and upper case, duplicates dropped ("PLAIN
 * LOGIN"); "" when none.
 */
void smtpc_auth_mechs(const struct smtp_reply *ehlo, char *out, size_t outlen);

/*
 * smtpc_password - the password for user into out: the first line of
 * file when file is given; else asked on the terminal with echo off
 * (when standard input is one, or when stdin_ok is false and there is a
 * controlling terminal); else, when stdin_ok, the first line of standard
 * input. 0, or -1 with a sentence in err. The caller wipes out.
 */
int smtpc_password(const char *file, const char *user, bool stdin_ok, char *out, size_t outlen,
                   char *err, size_t errlen);

/* smtpc_status_name - "refused", "timeout", ... for logs and tests */
const char *smtpc_status_name(enum smtpc_status st);

#endif
