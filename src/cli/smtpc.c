/*
 * smtpc - a small blocking SMTP client for the command line; see smtpc.h.
 *
 * Every wait is a poll(2) on a non-blocking socket with a deadline, so
 * each step ends within its time: connect and the greeting within
 * connect_ms (short: a firewall that drops packets shows as a timeout,
 * not a hang), other replies within reply_ms. Replies are read line by
 * line into relay/reply.c's parser. TLS is checked after the handshake
 * and before anything is sent over it: the verification runs in any
 * case (SSL_VERIFY_NONE only keeps OpenSSL from aborting the handshake),
 * so that the caller can say *why* a certificate is bad and, with
 * --insecure, go on.
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* OpenSSL */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* postino */
#include "cli/smtpc.h"
#include "tls/tls.h"
#include "util/base64.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xmalloc.h"

struct smtpc {
    char                 host[256];     /* as given: the name the certificate must carry */
    char                 port[8];
    struct smtpc_options o;
    struct addrinfo     *ai;            /* looked up once, kept across smtpc_close() */
    int                  fd;            /* -1 when not connected */
    char                 peer[NI_MAXHOST];   /* the address connected to */
    SSL_CTX             *ctx;           /* made at the first handshake */
    SSL                 *ssl;           /* non-NULL once TLS is up */
    char                 cert_problem[SMTPC_ERR_MAX];
    struct buf           in;            /* received, not yet read: in.data[off..len) */
    size_t               off;
    char                 err[SMTPC_ERR_MAX];
};

static long long now_ms(void);
static void smtpc_fail(struct smtpc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void smtpc_trace(struct smtpc *c, const char *prefix, const char *p, size_t n);
static enum smtpc_status smtpc_wait(struct smtpc *c, short events, long long deadline);
static enum smtpc_status smtpc_fill(struct smtpc *c, long long deadline);
static enum smtpc_status smtpc_send(struct smtpc *c, const char *p, size_t n, long long deadline);
static enum smtpc_status smtpc_connect_one(struct smtpc *c, const struct addrinfo *ai,
                                           struct buf *why);
static bool smtpc_is_address(const char *host);
static void cert_names(X509 *cert, char *out, size_t outlen);
static void cert_date(const ASN1_TIME *t, char *out, size_t outlen);
static void smtpc_describe_cert(struct smtpc *c, long vr, X509 *cert);
static enum smtpc_status smtpc_tls_error(struct smtpc *c, int ret, int sslerr);
static const char *reason_string(unsigned long e);
static bool password_line(FILE *f, char *out, size_t outlen);
static void fmt_into(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* fmt_into - snprintf for sentences, where cutting a long one is fine */
static void
fmt_into(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
}

/* reason_string - OpenSSL's words for error e, never NULL */
static const char *
reason_string(unsigned long e)
{
    const char *s = e ? ERR_reason_error_string(e) : NULL;

    return s ? s : "no reason given";
}

/* now_ms - the monotonic clock in milliseconds */
static long long
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* smtpc_fail - set the sentence of the last failure */
static void
smtpc_fail(struct smtpc *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
}

/* smtpc_trace - one line of the dialogue, control octets escaped */
static void
smtpc_trace(struct smtpc *c, const char *prefix, const char *p, size_t n)
{
    char safe[SMTPC_LINE_MAX + 64];

    if (!c->o.trace)
        return;
    fprintf(c->o.trace, "%s%s\n", prefix, log_sanitize(p, n, safe, sizeof(safe)));
    fflush(c->o.trace);
}

struct smtpc *
smtpc_new(const char *host, const char *port, const struct smtpc_options *o)
{
    struct smtpc *c = xcalloc(1, sizeof(*c));

    /* A server that hangs up while we write must give EPIPE, not kill
     * the command (OpenSSL writes with write(2), not send(MSG_NOSIGNAL)). */
    signal(SIGPIPE, SIG_IGN);
    snprintf(c->host, sizeof(c->host), "%s", host);
    snprintf(c->port, sizeof(c->port), "%s", port);
    c->o = *o;
    if (c->o.connect_ms <= 0)
        c->o.connect_ms = 10000;
    if (c->o.reply_ms <= 0)
        c->o.reply_ms = 60000;
    c->fd = -1;
    buf_init(&c->in);
    return c;
}

void
smtpc_close(struct smtpc *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->peer[0] = '\0';
    c->cert_problem[0] = '\0';
    buf_reset(&c->in);
    c->off = 0;
}

void
smtpc_free(struct smtpc *c)
{
    if (!c)
        return;
    smtpc_close(c);
    if (c->ai)
        freeaddrinfo(c->ai);
    SSL_CTX_free(c->ctx);
    buf_free(&c->in);
    free(c);
}

const char *
smtpc_error(const struct smtpc *c)
{
    return c->err;
}

const char *
smtpc_peer(const struct smtpc *c)
{
    return c->peer;
}

bool
smtpc_is_tls(const struct smtpc *c)
{
    return c->ssl != NULL;
}

const char *
smtpc_cert_problem(const struct smtpc *c)
{
    return c->cert_problem;
}

/* smtpc_is_address - is host an IPv4 or IPv6 address literal? */
static bool
smtpc_is_address(const char *host)
{
    unsigned char a[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* ---- names and connections ---- */

enum smtpc_status
smtpc_resolve(struct smtpc *c, char *out, size_t outlen)
{
    struct addrinfo hints = { 0 };
    int rc;

    c->err[0] = '\0';
    if (c->ai) {
        freeaddrinfo(c->ai);
        c->ai = NULL;
    }
    /* No AI_ADDRCONFIG: it ignores loopback, and hosts with only
     * loopback (test namespaces, containers) would find nothing. */
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    rc = getaddrinfo(c->host, c->port, &hints, &c->ai);
    if (rc != 0) {
        c->ai = NULL;
        switch (rc) {
        case EAI_NONAME:
            smtpc_fail(c, "the name %s does not exist in the DNS (is it spelt right?)", c->host);
            return SMTPC_NONAME;
#ifdef EAI_NODATA
        case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
        case EAI_ADDRFAMILY:
#endif
            smtpc_fail(c, "the name %s has no address (no A or AAAA record) in the DNS", c->host);
            return SMTPC_NONAME;
        case EAI_AGAIN:
            smtpc_fail(c, "the name %s could not be looked up now: the DNS did not answer, "
                          "or failed (is the network up? see /etc/resolv.conf)", c->host);
            return SMTPC_DNS_TEMP;
        case EAI_FAIL:
            smtpc_fail(c, "the name %s could not be looked up: the DNS failed (SERVFAIL)",
                       c->host);
            return SMTPC_DNS_TEMP;
        case EAI_SYSTEM:
            smtpc_fail(c, "the name %s could not be looked up: %s", c->host, strerror(errno));
            return SMTPC_DNS_TEMP;
        default:
            smtpc_fail(c, "the name %s could not be looked up: %s", c->host, gai_strerror(rc));
            return SMTPC_DNS_TEMP;
        }
    }
    if (out && outlen) {
        struct buf list = BUF_INIT;
        for (const struct addrinfo *a = c->ai; a; a = a->ai_next) {
            char h[NI_MAXHOST];
            if (getnameinfo(a->ai_addr, a->ai_addrlen, h, sizeof(h), NULL, 0, NI_NUMERICHOST))
                continue;
            /* getaddrinfo may list an address twice (once per protocol) */
            bool seen = false;
            for (const struct addrinfo *b = c->ai; b != a; b = b->ai_next)
                if (b->ai_addrlen == a->ai_addrlen && !memcmp(b->ai_addr, a->ai_addr, a->ai_addrlen))
                    seen = true;
            if (!seen)
                buf_printf(&list, "%s%s", list.len ? ", " : "", h);
        }
        snprintf(out, outlen, "%s", buf_cstr(&list));
        buf_free(&list);
    }
    return SMTPC_OK;
}

/*
 * smtpc_connect_one - connect to one address within connect_ms. On
 * failure appends "ADDR: why" to why and returns the kind.
 */
static enum smtpc_status
smtpc_connect_one(struct smtpc *c, const struct addrinfo *ai, struct buf *why)
{
    char addr[NI_MAXHOST] = "?";
    int fd, err = 0;
    enum smtpc_status st;
    bool p25 = strcmp(c->port, "25") == 0;

    getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
        buf_printf(why, "%s%s: %s", why->len ? "; " : "", addr, strerror(errno));
        return SMTPC_CONNECT_ERROR;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            err = errno;
        } else {
            c->fd = fd;
            st = smtpc_wait(c, POLLOUT, now_ms() + c->o.connect_ms);
            c->fd = -1;
            socklen_t len = sizeof(err);
            if (st == SMTPC_TIMEOUT)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    if (err == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        snprintf(c->peer, sizeof(c->peer), "%s", addr);
        return SMTPC_OK;
    }
    close(fd);
    if (why->len)
        buf_puts(why, "; ");
    switch (err) {
    case ECONNREFUSED:
        buf_printf(why, "the connection to %s port %s was refused: nothing listens there "
                        "(a wrong port, or the server is not running)", addr, c->port);
        return SMTPC_REFUSED;
    case ETIMEDOUT:
        buf_printf(why, "no answer from %s port %s within %d s: a firewall drops the "
                        "connection%s, or the host is down", addr, c->port,
                   (c->o.connect_ms + 999) / 1000,
                   p25 ? " (many Internet providers block port 25)" : "");
        return SMTPC_CONNECT_TIMEOUT;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
        buf_printf(why, "%s port %s cannot be reached from here: %s", addr, c->port,
                   strerror(err));
        return SMTPC_UNREACHABLE;
    default:
        buf_printf(why, "cannot connect to %s port %s: %s", addr, c->port, strerror(err));
        return SMTPC_CONNECT_ERROR;
    }
}

enum smtpc_status
smtpc_connect(struct smtpc *c)
{
    enum smtpc_status first = SMTPC_OK, st;
    struct buf why = BUF_INIT;

    smtpc_close(c);
    if (!c->ai && (st = smtpc_resolve(c, NULL, 0)) != SMTPC_OK)
        return st;
    c->err[0] = '\0';
    for (const struct addrinfo *a = c->ai; a; a = a->ai_next) {
        st = smtpc_connect_one(c, a, &why);
        if (st == SMTPC_OK) {
            buf_free(&why);
            return SMTPC_OK;
        }
        if (first == SMTPC_OK)
            first = st;
    }
    smtpc_fail(c, "%s", buf_cstr(&why));
    buf_free(&why);
    return first;
}

/* ---- bytes in and out ---- */

/* smtpc_wait - poll for events until deadline: SMTPC_OK, SMTPC_TIMEOUT, SMTPC_IO_ERROR */
static enum smtpc_status
smtpc_wait(struct smtpc *c, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd p = { .fd = c->fd, .events = events };
        int n;

        if (left <= 0)
            return SMTPC_TIMEOUT;
        n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (n > 0)
            return SMTPC_OK;    /* POLLERR, POLLHUP too: the read or write says what */
        if (n == 0)
            return SMTPC_TIMEOUT;
        if (errno != EINTR) {
            smtpc_fail(c, "poll: %s", strerror(errno));
            return SMTPC_IO_ERROR;
        }
    }
}

/* smtpc_fill - read what the server sent (at least one octet) into c->in */
static enum smtpc_status
smtpc_fill(struct smtpc *c, long long deadline)
{
    char tmp[4096];

    for (;;) {
        short ev = POLLIN;
        enum smtpc_status st;

        if (c->ssl) {
            ERR_clear_error();
            int n = SSL_read(c->ssl, tmp, sizeof(tmp));
            if (n > 0) {
                buf_append(&c->in, tmp, (size_t)n);
                return SMTPC_OK;
            }
            int e = SSL_get_error(c->ssl, n);
            if (e == SSL_ERROR_WANT_WRITE)
                ev = POLLOUT;
            else if (e != SSL_ERROR_WANT_READ) {
                if (e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL
                    || ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                    smtpc_fail(c, "the server closed the connection");
                    return SMTPC_CLOSED;
                }
                smtpc_fail(c, "TLS error while reading: %s",
                           reason_string(ERR_peek_error()));
                return SMTPC_IO_ERROR;
            }
        } else {
            ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
            if (n > 0) {
                buf_append(&c->in, tmp, (size_t)n);
                return SMTPC_OK;
            }
            if (n == 0 || errno == ECONNRESET) {
                smtpc_fail(c, "the server closed the connection");
                return SMTPC_CLOSED;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                smtpc_fail(c, "cannot read from the server: %s", strerror(errno));
                return SMTPC_IO_ERROR;
            }
        }
        if ((st = smtpc_wait(c, ev, deadline)) != SMTPC_OK)
            return st;
    }
}

/* smtpc_send - write all of p[0..n) before deadline */
static enum smtpc_status
smtpc_send(struct smtpc *c, const char *p, size_t n, long long deadline)
{
    size_t done = 0;

    while (done < n) {
        short ev = POLLOUT;
        enum smtpc_status st;
        size_t chunk = n - done > INT_MAX ? INT_MAX : n - done;

        if (c->ssl) {
            ERR_clear_error();
            int k = SSL_write(c->ssl, p + done, (int)chunk);
            if (k > 0) {
                done += (size_t)k;
                continue;
            }
            int e = SSL_get_error(c->ssl, k);
            if (e == SSL_ERROR_WANT_READ)
                ev = POLLIN;
            else if (e != SSL_ERROR_WANT_WRITE) {
                smtpc_fail(c, "the connection broke while sending");
                return SMTPC_CLOSED;
            }
        } else {
            ssize_t k = send(c->fd, p + done, chunk, MSG_NOSIGNAL);
            if (k > 0) {
                done += (size_t)k;
                continue;
            }
            if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                if (errno == EPIPE || errno == ECONNRESET) {
                    smtpc_fail(c, "the server closed the connection");
                    return SMTPC_CLOSED;
                }
                smtpc_fail(c, "cannot write to the server: %s", strerror(errno));
                return SMTPC_IO_ERROR;
            }
        }
        if ((st = smtpc_wait(c, ev, deadline)) == SMTPC_TIMEOUT) {
            smtpc_fail(c, "the server took nothing more for %d s", c->o.reply_ms / 1000);
            return st;
        } else if (st != SMTPC_OK)
            return st;
    }
    return SMTPC_OK;
}

enum smtpc_status
smtpc_write(struct smtpc *c, const char *p, size_t n)
{
    if (c->o.trace) {
        /* the trace shows the lines (a data line may be long: cut at the buffer) */
        for (size_t i = 0; i < n;) {
            const char *lf = memchr(p + i, '\n', n - i);
            size_t end = lf ? (size_t)(lf - p) : n;
            size_t len = end - i;
            if (len && p[i + len - 1] == '\r')
                len--;
            smtpc_trace(c, "-> ", p + i, len);
            i = end + 1;
        }
    }
    return smtpc_send(c, p, n, now_ms() + c->o.reply_ms);
}

enum smtpc_status
smtpc_reply(struct smtpc *c, struct smtp_reply *r, int ms)
{
    long long deadline = now_ms() + (ms > 0 ? ms : c->o.reply_ms);
    enum smtpc_status st;

    c->err[0] = '\0';
    reply_reset(r);
    if (c->fd < 0) {
        smtpc_fail(c, "not connected");
        return SMTPC_CLOSED;
    }
    for (;;) {
        char *start = c->in.data ? c->in.data + c->off : NULL;
        char *lf = start ? memchr(start, '\n', c->in.len - c->off) : NULL;

        if (!lf) {
            if (c->in.len - c->off > SMTPC_LINE_MAX) {
                char safe[128];
                smtpc_fail(c, "the server's answer is not SMTP: \"%s\"",
                           log_sanitize(start, 60, safe, sizeof(safe)));
                return SMTPC_NOT_SMTP;
            }
            if ((st = smtpc_fill(c, deadline)) != SMTPC_OK) {
                if (st == SMTPC_TIMEOUT)
                    smtpc_fail(c, "the server did not answer within %d s",
                               (int)((ms > 0 ? ms : c->o.reply_ms) + 999) / 1000);
                else if (st == SMTPC_CLOSED && c->in.len > c->off) {
                    char safe[128];
                    smtpc_fail(c, "the server closed the connection after \"%s\"",
                               log_sanitize(c->in.data + c->off, c->in.len - c->off, safe,
                                            sizeof(safe)));
                }
                return st;
            }
            continue;
        }
        size_t len = (size_t)(lf - start);
        c->off += len + 1;
        if (len && start[len - 1] == '\r')
            len--;
        smtpc_trace(c, "<- ", start, len);
        int rc = reply_feed_line(r, start, len);
        if (rc < 0) {
            char safe[128];
            smtpc_fail(c, "the server's answer is not SMTP: \"%s\"",
                       log_sanitize(start, len, safe, sizeof(safe)));
            return SMTPC_NOT_SMTP;
        }
        if (c->off == c->in.len) {
            buf_reset(&c->in);
            c->off = 0;
        }
        if (rc == 1)
            return SMTPC_OK;
    }
}

enum smtpc_status
smtpc_cmd(struct smtpc *c, struct smtp_reply *r, const char *shown, const char *fmt, ...)
{
    struct buf line = BUF_INIT;
    enum smtpc_status st;
    va_list ap;

    va_start(ap, fmt);
    buf_vprintf(&line, fmt, ap);
    va_end(ap);
    if (shown)
        smtpc_trace(c, "-> ", shown, strlen(shown));
    else
        smtpc_trace(c, "-> ", line.data, line.len);
    buf_append(&line, "\r\n", 2);
    st = smtpc_send(c, line.data, line.len, now_ms() + c->o.reply_ms);
    explicit_bzero(line.data, line.len);
    buf_free(&line);
    if (st != SMTPC_OK)
        return st;
    return smtpc_reply(c, r, 0);
}

enum smtpc_status
smtpc_ehlo(struct smtpc *c, struct smtp_reply *r, struct ehlo_caps *caps)
{
    struct sockaddr_storage ss = { 0 };
    socklen_t len = sizeof(ss);
    char addr[NI_MAXHOST] = "127.0.0.1", name[NI_MAXHOST + 8];
    enum smtpc_status st;

    memset(caps, 0, sizeof(*caps));
    if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
        getnameinfo((struct sockaddr *)&ss, len, addr, sizeof(addr), NULL, 0, NI_NUMERICHOST);
    /* RFC 5321 4.1.3: IPv6 literals carry their tag */
    snprintf(name, sizeof(name), ss.ss_family == AF_INET6 ? "[IPv6:%s]" : "[%s]", addr);
    st = smtpc_cmd(c, r, NULL, "EHLO %s", name);
    if (st != SMTPC_OK)
        return st;
    if (r->code == 250) {
        ehlo_parse(r, caps);
        return SMTPC_OK;
    }
    if (r->code == 500 || r->code == 502)       /* an old server: RFC 5321 4.1.4 */
        return smtpc_cmd(c, r, NULL, "HELO %s", name);
    return SMTPC_OK;
}

void
smtpc_quit(struct smtpc *c)
{
    struct smtp_reply r;

    if (c->fd < 0)
        return;
    reply_init(&r);
    int saved = c->o.reply_ms;
    c->o.reply_ms = 2000;
    (void)smtpc_cmd(c, &r, NULL, "QUIT");
    c->o.reply_ms = saved;
    reply_free(&r);
}

/* ---- TLS ---- */

/* cert_names - the DNS names of the certificate (else its CN), comma separated */
static void
cert_names(X509 *cert, char *out, size_t outlen)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    struct buf b = BUF_INIT;
    int shown = 0, total = 0;

    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        total++;
        if (shown < 4) {
            const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
            char safe[256];
            log_sanitize((const char *)s, (size_t)ASN1_STRING_length(g->d.dNSName), safe,
                         sizeof(safe));
            buf_printf(&b, "%s%s", shown ? ", " : "", safe);
            shown++;
        }
    }
    if (total > shown)
        buf_printf(&b, " and %d more", total - shown);
    GENERAL_NAMES_free(sans);
    if (!b.len) {
        char cn[256];
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                      sizeof(cn)) > 0)
            buf_puts(&b, cn);
        else
            buf_puts(&b, "no name at all");
    }
    snprintf(out, outlen, "%s", buf_cstr(&b));
    buf_free(&b);
}

/* cert_date - "2025-08-31" */
static void
cert_date(const ASN1_TIME *t, char *out, size_t outlen)
{
    struct tm tm;

    if (!t || !ASN1_TIME_to_tm(t, &tm)) {
        snprintf(out, outlen, "?");
        return;
    }
    strftime(out, outlen, "%Y-%m-%d", &tm);
}

/* smtpc_describe_cert - c->cert_problem for verify result vr, in words */
static void
smtpc_describe_cert(struct smtpc *c, long vr, X509 *cert)
{
    char names[512], date[32], issuer[256] = "an unknown issuer";

    cert_names(cert, names, sizeof(names));
    X509_NAME_get_text_by_NID(X509_get_issuer_name(cert), NID_commonName, issuer, sizeof(issuer));
    switch (vr) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate is for %s, not %s: mail programs will refuse it "
                 "(use the name on the certificate as the server name, or get a certificate "
                 "for %s)", names, c->host, c->host);
        break;
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate is for %s, not the address %s: use the server's name, "
                 "not its address", names, c->host);
        break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        cert_date(X509_get0_notAfter(cert), date, sizeof(date));
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate (for %s) expired on %s: it must be renewed", names, date);
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        cert_date(X509_get0_notBefore(cert), date, sizeof(date));
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate (for %s) is not valid before %s (is a clock wrong?)",
                 names, date);
        break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate (for %s) is self-signed: mail programs will warn or "
                 "refuse it; use one from a certificate authority (Let's Encrypt), or "
                 "give --cafile with it to trust it for this check", names);
        break;
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate (for %s) comes from an authority this system does not "
                 "trust (%s, self-signed)", names, issuer);
        break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate (for %s) is signed by %s, an authority this system does "
                 "not know: the server may be missing the intermediate certificate of its "
                 "chain", names, issuer);
        break;
    default:
        fmt_into(c->cert_problem, sizeof(c->cert_problem),
                 "the certificate (for %s) does not verify: %s", names,
                 X509_verify_cert_error_string(vr));
        break;
    }
}

/* smtpc_tls_error - why SSL_connect failed, as a status and a sentence */
static enum smtpc_status
smtpc_tls_error(struct smtpc *c, int ret, int sslerr)
{
    unsigned long e = ERR_peek_error();
    int reason = ERR_GET_REASON(e);

    if (sslerr == SSL_ERROR_SYSCALL || sslerr == SSL_ERROR_ZERO_RETURN
        || reason == SSL_R_UNEXPECTED_EOF_WHILE_READING || (e == 0 && ret == 0)) {
        smtpc_fail(c, "the server closed the connection during the TLS handshake");
        return SMTPC_CLOSED;
    }
    switch (reason) {
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_RECORD_LENGTH_MISMATCH:
        smtpc_fail(c, "the server answered in plain text, not TLS: this port does not "
                      "speak TLS from the first byte (it may expect STARTTLS)");
        return SMTPC_TLS_NOT_TLS;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
    case SSL_R_VERSION_TOO_LOW:
        smtpc_fail(c, "no TLS version in common: the server offers only old versions "
                      "(SSLv3, TLS 1.0 or 1.1?) and this client needs TLS 1.2 or newer");
        return SMTPC_TLS_FAILED;
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
        smtpc_fail(c, "the TLS handshake failed: no cipher in common with the server "
                      "(its TLS setup is too old or too strict)");
        return SMTPC_TLS_FAILED;
    default:
        smtpc_fail(c, "the TLS handshake failed: %s",
                   reason_string(e));
        return SMTPC_TLS_FAILED;
    }
}

enum smtpc_status
smtpc_tls(struct smtpc *c)
{
    long long deadline = now_ms() + c->o.connect_ms;
    SSL *ssl;

    c->err[0] = '\0';
    c->cert_problem[0] = '\0';
    if (c->fd < 0 || c->ssl) {
        smtpc_fail(c, c->ssl ? "TLS is already up" : "not connected");
        return SMTPC_IO_ERROR;
    }
    if (!c->ctx) {
        c->ctx = SSL_CTX_new(TLS_client_method());
        if (!c->ctx) {
            smtpc_fail(c, "cannot make a TLS context");
            return SMTPC_TLS_FAILED;
        }
        SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
        /* Verified after the handshake; see the file header. */
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
        if (c->o.cafile ? !SSL_CTX_load_verify_locations(c->ctx, c->o.cafile, NULL)
                        : !SSL_CTX_set_default_verify_paths(c->ctx)) {
            smtpc_fail(c, "cannot read the certificates to trust (%s): %s",
                       c->o.cafile ? c->o.cafile : "the system's store",
                       reason_string(ERR_peek_last_error()));
            ERR_clear_error();
            SSL_CTX_free(c->ctx);
            c->ctx = NULL;
            return SMTPC_TLS_FAILED;
        }
    }
    /* Whatever came in the clear after STARTTLS's 220 was not protected
     * and is not read as if it had been (RFC 3207 6, CVE-2011-0411). */
    buf_reset(&c->in);
    c->off = 0;
    ssl = SSL_new(c->ctx);
    SSL_set_fd(ssl, c->fd);
    if (smtpc_is_address(c->host)) {
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->host);
    } else {
        SSL_set_tlsext_host_name(ssl, c->host);
        SSL_set1_host(ssl, c->host);
    }
    smtpc_trace(c, "** ", "TLS handshake", 13);
    for (;;) {
        ERR_clear_error();
        int ret = SSL_connect(ssl);
        if (ret == 1)
            break;
        int e = SSL_get_error(ssl, ret);
        enum smtpc_status st;
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            st = smtpc_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (st == SMTPC_OK)
                continue;
            if (st == SMTPC_TIMEOUT)
                smtpc_fail(c, "the server did not answer the TLS handshake within %d s",
                           (c->o.connect_ms + 999) / 1000);
        } else {
            st = smtpc_tls_error(c, ret, e);
        }
        ERR_clear_error();
        SSL_free(ssl);
        return st;
    }
    c->ssl = ssl;

    X509 *cert = SSL_get0_peer_certificate(ssl);
    long vr = SSL_get_verify_result(ssl);
    if (!cert)
        fmt_into(c->cert_problem, sizeof(c->cert_problem), "the server sent no certificate");
    else if (vr != X509_V_OK)
        smtpc_describe_cert(c, vr, cert);
    if (c->o.trace) {
        char info[512];
        smtpc_tls_info(c, info, sizeof(info));
        smtpc_trace(c, "** ", info, strlen(info));
    }
    if (c->cert_problem[0] && !c->o.insecure) {
        smtpc_fail(c, "%s", c->cert_problem);
        return SMTPC_CERT_INVALID;
    }
    return SMTPC_OK;
}

void
smtpc_tls_info(const struct smtpc *c, char *out, size_t outlen)
{
    char proto[160], names[512], until[32];
    X509 *cert;

    if (!c->ssl) {
        snprintf(out, outlen, "no TLS");
        return;
    }
    tls_describe(c->ssl, proto, sizeof(proto));
    cert = SSL_get0_peer_certificate(c->ssl);
    if (!cert) {
        snprintf(out, outlen, "%s; no certificate", proto);
        return;
    }
    cert_names(cert, names, sizeof(names));
    cert_date(X509_get0_notAfter(cert), until, sizeof(until));
    snprintf(out, outlen, "%s; certificate for %s, valid until %s%s", proto, names, until,
             c->cert_problem[0] ? "" : ", verified");
}

/* ---- AUTH ---- */

char *
smtpc_auth_plain(const char *user, const char *password)
{
    size_t ul = strlen(user), pl = strlen(password);
    unsigned char *msg;
    char *b64;

    if (!ul || !pl || ul > 4096 || pl > 4096)
        return NULL;
    msg = xmalloc(ul + pl + 2);
    msg[0] = '\0';
    memcpy(msg + 1, user, ul);
    msg[1 + ul] = '\0';
    memcpy(msg + 2 + ul, password, pl);
    b64 = xmalloc(4 * ((ul + pl + 2 + 2) / 3) + 1);
    base64_encode(msg, ul + pl + 2, b64);
    explicit_bzero(msg, ul + pl + 2);
    free(msg);
    return b64;
}

enum smtpc_status
smtpc_auth(struct smtpc *c, const struct ehlo_caps *caps, const char *user,
           const char *password, struct smtp_reply *r)
{
    enum smtpc_status st;
    char *b64;

    if (caps->auth_plain) {
        if (!(b64 = smtpc_auth_plain(user, password))) {
            smtpc_fail(c, "the user name or the password is empty or too long");
            return SMTPC_IO_ERROR;
        }
        st = smtpc_cmd(c, r, "AUTH PLAIN ***", "AUTH PLAIN %s", b64);
        explicit_bzero(b64, strlen(b64));
        free(b64);
        return st;
    }
    if (!caps->auth_login) {
        smtpc_fail(c, "the server offers neither AUTH PLAIN nor AUTH LOGIN");
        return SMTPC_IO_ERROR;
    }
    /* LOGIN (draft-murchison-sasl-login): the user name, then the password */
    st = smtpc_cmd(c, r, NULL, "AUTH LOGIN");
    for (int step = 0; step < 2 && st == SMTPC_OK && r->code == 334; step++) {
        const char *s = step == 0 ? user : password;
        size_t n = strnlen(s, 4096);
        b64 = xmalloc(4 * ((n + 2) / 3) + 1);
        base64_encode((const unsigned char *)s, n, b64);
        st = smtpc_cmd(c, r, "***", "%s", b64);
        explicit_bzero(b64, strlen(b64));
        free(b64);
    }
    return st;
}

/* ---- pure helpers ---- */

int
smtpc_split_hostport(const char *arg, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *h = arg, *p = NULL;
    size_t hl;

    if (!arg || !*arg || hostlen == 0 || portlen == 0)
        return -1;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close == arg + 1)
            return -1;
        h = arg + 1;
        hl = (size_t)(close - h);
        if (close[1] == ':')
            p = close + 2;
        else if (close[1] != '\0')
            return -1;
    } else {
        const char *colon = strchr(arg, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL;       /* a bare IPv6 address: no port */
        hl = colon ? (size_t)(colon - arg) : strlen(arg);
        if (colon)
            p = colon + 1;
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    for (size_t i = 0; i < hl; i++)
        if ((unsigned char)h[i] <= ' ' || h[i] == '/' || h[i] == '[' || h[i] == ']')
            return -1;
    if (p) {
        size_t pl = strlen(p);
        unsigned long v = 0;
        if (pl == 0 || pl > 5 || pl >= portlen)
            return -1;
        for (size_t i = 0; i < pl; i++) {
            if (p[i] < '0' || p[i] > '9')
                return -1;
            v = v * 10 + (unsigned long)(p[i] - '0');
        }
        if (v == 0 || v > 65535)
            return -1;
        snprintf(port, portlen, "%lu", v);
    } else {
        port[0] = '\0';
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    return 0;
}

void
smtpc_data_encode(struct buf *out, const char *in, size_t n)
{
    bool bol = true;        /* at the beginning of a line */

    buf_reserve(out, n + n / 32 + 8);
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == '\r' || ch == '\n') {
            if (ch == '\r' && i + 1 < n && in[i + 1] == '\n')
                i++;
            buf_append(out, "\r\n", 2);
            bol = true;
            continue;
        }
        if (bol && ch == '.')
            buf_putc(out, '.');     /* RFC 5321 4.5.2 */
        buf_putc(out, ch);
        bol = false;
    }
    if (!bol)
        buf_append(out, "\r\n", 2);
    buf_append(out, ".\r\n", 3);
}

void
smtpc_auth_mechs(const struct smtp_reply *ehlo, char *out, size_t outlen)
{
    const char *t = buf_cstr(&ehlo->text);
    size_t o = 0;

    if (outlen == 0)
        return;
    out[0] = '\0';
    /* the first line is the server's name; keywords follow, one a line */
    for (const char *line = strchr(t, '\n'); line; line = strchr(line, '\n')) {
        line++;
        size_t len = strcspn(line, "\n");
        if (len < 5 || strncasecmp(line, "AUTH", 4) != 0 || (line[4] != ' ' && line[4] != '='))
            continue;
        for (size_t i = 5; i < len;) {
            while (i < len && line[i] == ' ')
                i++;
            size_t w = i;
            while (i < len && line[i] != ' ')
                i++;
            size_t wl = i - w;
            if (wl == 0 || wl > 40)
                continue;
            char mech[41];
            for (size_t k = 0; k < wl; k++) {
                char ch = line[w + k];
                mech[k] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A') : ch;
            }
            mech[wl] = '\0';
            /* drop duplicates: "AUTH PLAIN" and "AUTH=PLAIN" */
            bool dup = false;
            for (const char *s = out; (s = strstr(s, mech)) != NULL; s += wl)
                if ((s == out || s[-1] == ' ') && (s[wl] == ' ' || s[wl] == '\0'))
                    dup = true;
            if (dup || o + wl + 2 > outlen)
                continue;
            if (o)
                out[o++] = ' ';
            memcpy(out + o, mech, wl + 1);
            o += wl;
        }
    }
}

/* password_line - the first line of f (without CR LF) into out; false when none */
static bool
password_line(FILE *f, char *out, size_t outlen)
{
    if (!fgets(out, (int)outlen, f))
        return false;
    out[strcspn(out, "\r\n")] = '\0';
    return true;
}

int
smtpc_password(const char *file, const char *user, bool stdin_ok, char *out, size_t outlen,
               char *err, size_t errlen)
{
    out[0] = '\0';
    if (file) {
        char *text = NULL;
        size_t len = 0;
        if (file_read(file, 4096, &text, &len) < 0) {
            fmt_into(err, errlen, "cannot read the password file %s: %s", file,
                     errno == EFBIG ? "it is too large" : strerror(errno));
            return -1;
        }
        size_t n = strcspn(text, "\r\n");
        if (n >= outlen)
            n = outlen - 1;
        memcpy(out, text, n);
        out[n] = '\0';
        explicit_bzero(text, len);
        free(text);
        if (!out[0]) {
            fmt_into(err, errlen, "the password file %s is empty", file);
            return -1;
        }
        return 0;
    }
    if (stdin_ok && !isatty(STDIN_FILENO)) {
        if (!password_line(stdin, out, outlen) || !out[0]) {
            fmt_into(err, errlen, "no password on standard input (or give --password-file)");
            return -1;
        }
        return 0;
    }
    FILE *tty = fopen("/dev/tty", "r+");
    if (!tty) {
        fmt_into(err, errlen, "no terminal to ask for the password on: give --password-file");
        return -1;
    }
    struct termios old, quiet;
    bool have_old = tcgetattr(fileno(tty), &old) == 0;
    if (have_old) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
    }
    fprintf(tty, "Password for %s: ", user);
    fflush(tty);
    bool ok = password_line(tty, out, outlen);
    if (have_old)
        tcsetattr(fileno(tty), TCSAFLUSH, &old);
    fputc('\n', tty);
    fclose(tty);
    if (!ok || !out[0]) {
        fmt_into(err, errlen, "no password given");
        return -1;
    }
    return 0;
}

const char *
smtpc_status_name(enum smtpc_status st)
{
    static const char *const names[] = {
        [SMTPC_OK] = "ok", [SMTPC_NONAME] = "noname", [SMTPC_DNS_TEMP] = "dns-temporary",
        [SMTPC_REFUSED] = "refused", [SMTPC_CONNECT_TIMEOUT] = "connect-timeout",
        [SMTPC_UNREACHABLE] = "unreachable", [SMTPC_CONNECT_ERROR] = "connect-error",
        [SMTPC_TIMEOUT] = "timeout", [SMTPC_CLOSED] = "closed", [SMTPC_NOT_SMTP] = "not-smtp",
        [SMTPC_TLS_NOT_TLS] = "not-tls", [SMTPC_TLS_FAILED] = "tls-failed",
        [SMTPC_CERT_INVALID] = "certificate", [SMTPC_IO_ERROR] = "io-error",
    };

    if ((unsigned)st < sizeof(names) / sizeof(names[0]) && names[st])
        return names[st];
    return "?";
}
