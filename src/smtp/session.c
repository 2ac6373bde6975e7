/*
 * session - one inbound SMTP session (RFC 5321); see smtp.h.
 *
 * Does: greeting, the command table, MAIL/RCPT policy (local recipients
 * only until authentication exists), DATA and BDAT through the
 * data_reader, the Received: header, the hand-off to the queue.
 * Does not: touch the disk (the commit workers do), resolve names.
 *
 * Replies carry enhanced status codes (RFC 3463, RFC 2034).
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libevent */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* lower layers */
#include "util/buf.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "mail/address.h"
#include "mail/data_reader.h"
#include "mail/header.h"
#include "mail/smtp_cmd.h"
#include "auth/users.h"
#include "deliver/aliases.h"
#include "deliver/resolve.h"
#include "queue/envelope.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "tls/tls.h"
#include "net/conn.h"
#include "policy/dnsbl.h"
#include "policy/msgauth.h"
#include "policy/ratelimit.h"
#include "util/cidr.h"
#include "smtp/smtp.h"
#include "smtp/session_priv.h"

static const char *const state_names[] = {
    "INIT", "READY", "MAIL", "RCPT", "DATA", "BDAT", "COMMIT", "CLOSING",
    "AUTH", "AUTH", "CONNECT", "REFUSED", "CHECK",
};

typedef void (*smtp_handler)(struct smtp_session *s, const struct smtp_cmd *cmd);


/* smtp_enter_state - change state (one place, so transitions can be traced) */
void
smtp_enter_state(struct smtp_session *s, enum smtp_state st)
{
    s->state = st;
}

static void output_drained(struct smtp_session *s);

/*
 * smtp_out - the buffer replies go to; they leave at the end of this
 * loop turn (smtp_flush), or earlier when smtp_flush is called.
 */
struct evbuffer *
smtp_out(struct smtp_session *s)
{
    if (!s->flush_pending && !s->released) {
        s->flush_pending = true;
        event_active(s->flush_ev, EV_TIMEOUT, 0);
    }
    return s->out;
}

/*
 * smtp_flush - send the replies waiting in s->out. On plain TCP with
 * nothing queued in the bufferevent they are written to the socket here;
 * whatever the socket does not take (and everything under TLS) goes to
 * the bufferevent, which sends it when the socket is writable.
 */
void
smtp_flush(struct smtp_session *s)
{
    struct evbuffer *bout = bufferevent_get_output(s->bev);

    s->flush_pending = false;
    if (evbuffer_get_length(s->out) == 0)
        return;
    if (!s->tls && evbuffer_get_length(bout) == 0) {
        while (evbuffer_get_length(s->out) > 0
               && evbuffer_write(s->out, bufferevent_getfd(s->bev)) > 0)
            ;
    }
    /* EAGAIN, an error (the bufferevent's own write reports it), or TLS;
     * on plain TCP the write event is armed only now that it has work */
    if (evbuffer_get_length(s->out) > 0) {
        evbuffer_add_buffer(bout, s->out);
        if (!s->tls)
            bufferevent_enable(s->bev, EV_WRITE);
    }
    if (s->out_blocked && evbuffer_get_length(bout) <= SMTP_OUT_HIGH / 2)
        output_drained(s);
}

/* flush_cb - the end of the loop turn in which replies were queued */
static void
flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smtp_session *s = arg;
    (void)fd;
    (void)what;

    if (!s->released)
        smtp_flush(s);
}

/* smtp_reply - send one reply line; code >= 400 counts as an error */
void
smtp_reply(struct smtp_session *s, int code, const char *fmt, ...)
{
    struct evbuffer *out = smtp_out(s);
    va_list ap;

    evbuffer_add_printf(out, "%d ", code);
    va_start(ap, fmt);
    evbuffer_add_vprintf(out, fmt, ap);
    va_end(ap);
    evbuffer_add(out, "\r\n", 2);
    if (code >= 400 && code != 421)
        s->errors++;
}

/* log_reject - one line per refusal, in Postfix's NOQUEUE form */
static void
log_reject(struct smtp_session *s, const char *what, const char *text)
{
    char helo[128];
    log_sanitize(s->helo, strlen(s->helo), helo, sizeof(helo));
    log_info("NOQUEUE: reject: %s from unknown[%s]: %s; proto=%s helo=<%s>",
             what, s->ip, text, s->esmtp ? "ESMTP" : "SMTP", helo);
}

static void
tx_free(struct smtp_tx *tx)
{
    if (!tx)
        return;
    envelope_free(tx->env);
    if (tx->reader_on)
        data_reader_free(&tx->dr);
    buf_free(&tx->content);
    free(tx);
}

/* smtp_tx_reset - end the transaction (RSET, HELO, after DATA) */
void
smtp_tx_reset(struct smtp_session *s)
{
    tx_free(s->tx);
    s->tx = NULL;
    if (s->state != SMTP_STATE_INIT && s->state != SMTP_STATE_CLOSING
        && s->state != SMTP_STATE_GREET && s->state != SMTP_STATE_REFUSED)
        smtp_enter_state(s, SMTP_STATE_READY);
}

/* ---- connection life ---------------------------------------------- */

static void session_release(struct smtp_session *s);

/* free_cb - the deferred end of session_release() */
static void
free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smtp_session *s = arg;
    (void)fd;
    (void)what;

    if (!s->released) {             /* the closing deadline passed */
        session_release(s);
        return;
    }
    if (s->tls) {
        /* A clean TLS close keeps the TLS session resumable. */
        SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
        if (ssl)
            SSL_shutdown(ssl);
    }
    bufferevent_free(s->bev);
    event_free(s->free_ev);
    event_free(s->flush_ev);
    evbuffer_free(s->out);
    free(s);
}

/*
 * session_release - end the session. Everything that refers to it is
 * detached now; the memory is freed from the next turn of the loop, so
 * that callers still on the stack (the command loop, a callback) may look
 * at s->state, which is CLOSING, and return.
 */
static void
session_release(struct smtp_session *s)
{
    struct smtp_ctx *ctx = s->ctx;

    if (s->released)
        return;
    s->released = true;
    smtp_enter_state(s, SMTP_STATE_CLOSING);
    log_info("disconnect from unknown[%s] commands=%u messages=%u errors=%u",
             s->ip, s->commands, s->messages, s->errors);
    if (s->commit)
        s->commit->sess = NULL;     /* the commit finishes without us */
    s->commit = NULL;
    smtp_auth_cleanup(s);
    dnsbl_check_cancel(s->dnsbl);
    s->dnsbl = NULL;
    msgauth_cancel(s->msgauth);         /* the message was not acknowledged */
    s->msgauth = NULL;
    if (s->greet_timer)
        event_free(s->greet_timer);
    s->greet_timer = NULL;
    tx_free(s->tx);
    s->tx = NULL;
    bufferevent_disable(s->bev, EV_READ | EV_WRITE);
    bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
    conn_unwatch(s->bev, &s->under_cb);
    if (s->prev)
        s->prev->next = s->next;
    else
        ctx->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    ctx->nsessions--;
    if (ctx->on_close)
        ctx->on_close(ctx->on_close_arg, s->ip);
    event_del(s->flush_ev);
    s->flush_pending = false;
    evtimer_del(s->free_ev);
    event_active(s->free_ev, EV_TIMEOUT, 0);
}

/*
 * close_when_flushed - release the session once every octet of its last
 * replies has left: with STARTTLS, encrypted octets wait in the
 * underlying socket bufferevent after the filter's own output is empty.
 */
static void
under_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)info;
    if (evbuffer_get_length(buf) == 0)
        session_release(arg);
}

static void
close_when_flushed(struct smtp_session *s)
{
    if (!s->released && conn_drained(s->bev, &s->under_cb, under_out_cb, s))
        session_release(s);
}

/*
 * output_drained - the output went below the low-water mark: if reading
 * had stopped for it, read again, starting with the commands that are
 * already buffered (no read event will come for those).
 */
static void
output_drained(struct smtp_session *s)
{
    if (!s->out_blocked)
        return;
    s->out_blocked = false;
    if (s->state == SMTP_STATE_COMMIT || s->state == SMTP_STATE_AUTH_CHECK
        || s->state == SMTP_STATE_CHECK || s->state == SMTP_STATE_CLOSING)
        return;                     /* their completion reads again */
    bufferevent_enable(s->bev, EV_READ);
    smtp_session_process(s);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
    struct smtp_session *s = arg;
    (void)bev;

    if (s->state == SMTP_STATE_CLOSING) {
        close_when_flushed(s);
        return;
    }
    output_drained(s);
}

/* smtp_session_close - flush what is pending, then free the session */
void
smtp_session_close(struct smtp_session *s)
{
    smtp_enter_state(s, SMTP_STATE_CLOSING);
    dnsbl_check_cancel(s->dnsbl);       /* no greeting will follow */
    s->dnsbl = NULL;
    smtp_flush(s);
    if (conn_drained(s->bev, &s->under_cb, under_out_cb, s)) {
        session_release(s);         /* all sent already: the common case */
        return;
    }
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
    /* A client that never reads its last reply does not keep us. */
    struct timeval deadline = { 10, 0 };
    evtimer_add(s->free_ev, &deadline);
    bufferevent_enable(s->bev, EV_WRITE);
    close_when_flushed(s);
}

/* tls_error_text - why a TLS connection failed, for the log */
static void
tls_error_text(struct bufferevent *bev, char *out, size_t outlen)
{
    unsigned long e, first = 0;

    /* The first error queued is the cause; later ones are consequences. */
    while ((e = bufferevent_get_openssl_error(bev)) != 0)
        if (!first)
            first = e;
    if (first && ERR_GET_LIB(first) != 0)
        ERR_error_string_n(first, out, outlen);
    else
        snprintf(out, outlen, "connection closed or not TLS");
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct smtp_session *s = arg;

    if (what & BEV_EVENT_CONNECTED) {
        /* The TLS handshake is done. */
        SSL *ssl = bufferevent_openssl_get_ssl(bev);
        if (ssl) {
            tls_describe(ssl, s->tls_info, sizeof(s->tls_info));
            log_info("TLS connection established from unknown[%s]: %s", s->ip, s->tls_info);
        }
        smtp_set_timeouts(s);
        return;
    }
    if (s->state == SMTP_STATE_CLOSING) {
        if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
            session_release(s);     /* the last reply will not get out */
        return;
    }
    if ((what & BEV_EVENT_ERROR) && s->tls && !s->tls_info[0]) {
        char why[256];
        tls_error_text(bev, why, sizeof(why));
        log_info("TLS handshake failed from unknown[%s]: %s", s->ip, why);
        /* Let the alert OpenSSL queued (protocol_version, ...) go out. */
        smtp_session_close(s);
        return;
    }

    if ((what & BEV_EVENT_TIMEOUT) && s->tls && !s->tls_info[0]) {
        log_info("TLS handshake timeout from unknown[%s]", s->ip);
        session_release(s);
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && s->state != SMTP_STATE_CLOSING) {
        log_info("timeout after %s from unknown[%s]", state_names[s->state], s->ip);
        if (s->state == SMTP_STATE_COMMIT || s->state == SMTP_STATE_AUTH_CHECK
            || s->state == SMTP_STATE_CHECK)
            return;                 /* our own slowness: keep waiting */
        smtp_reply(s, 421, "4.4.2 %s Error: timeout exceeded", s->ctx->cfg->hostname);
        smtp_tx_reset(s);
        /* One write attempt with a short deadline, then give up. */
        struct timeval tv = { 5, 0 };
        bufferevent_set_timeouts(s->bev, NULL, &tv);
        smtp_session_close(s);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
            log_info("lost connection after %s from unknown[%s]", state_names[s->state], s->ip);
        if (s->state == SMTP_STATE_COMMIT) {
            /* The commit will finish; there is no one left to tell. */
            bufferevent_disable(s->bev, EV_READ | EV_WRITE);
        }
        session_release(s);
    }
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    smtp_session_process(arg);
}

/* smtp_set_timeouts - the read deadline depends on what we wait for */
void
smtp_set_timeouts(struct smtp_session *s)
{
    const struct config *cfg = s->ctx->cfg;
    unsigned r = (s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
                 ? cfg->smtp_data_timeout : cfg->smtp_timeout;
    if (s->tls && !s->tls_info[0])
        r = cfg->tls_handshake_timeout;         /* the handshake is not done yet */
    if (s->ctx->stress && r > cfg->smtp_stress_timeout)
        r = cfg->smtp_stress_timeout;
    struct timeval rt = { r, 0 }, wt = { cfg->smtp_timeout, 0 };
    bufferevent_set_timeouts(s->bev, &rt, &wt);
}

/* tls_new - an SSL object for a new server-side connection, or NULL */
static SSL *
tls_new(struct smtp_session *s)
{
    SSL *ssl = s->ctx->tls ? SSL_new(s->ctx->tls) : NULL;
    if (!ssl)
        log_error("unknown[%s]: cannot start TLS: no TLS context", s->ip);
    return ssl;
}

/* ---- the greeting ---------------------------------------------------- */

/* greet_maybe - greet once the pause is over and the lookups answered */
static void
greet_maybe(struct smtp_session *s)
{
    if (s->state != SMTP_STATE_GREET || s->dnsbl
        || (s->greet_timer && evtimer_pending(s->greet_timer, NULL)))
        return;
    smtp_enter_state(s, SMTP_STATE_INIT);
    smtp_reply(s, 220, "%s ESMTP postino", s->ctx->cfg->hostname);
}

static void
greet_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    greet_maybe(arg);
}

/* dnsbl_done - the blocklists answered (dnsbl_cb) */
static void
dnsbl_done(void *arg, enum dnsbl_result r, const char *zone, const char *reason)
{
    struct smtp_session *s = arg;
    char text[400];

    s->dnsbl = NULL;
    if (s->state != SMTP_STATE_GREET)
        return;                     /* closing already (smtp_stop_all) */
    if (r == DNSBL_ALLOWED)
        log_info("unknown[%s]: listed by allowlist %s; blocklists not applied", s->ip, zone);
    if (r != DNSBL_LISTED) {
        greet_maybe(s);
        return;
    }
    /* RFC 5321 3.1: a 554 instead of the greeting, then only QUIT. */
    snprintf(text, sizeof(text), "5.7.1 Service unavailable; client [%s] blocked using %s; %s",
             s->ip, zone, reason[0] ? reason : "listed");
    log_info("NOQUEUE: reject: CONNECT from unknown[%s]: 554 %s", s->ip, text);
    if (s->greet_timer)
        evtimer_del(s->greet_timer);
    smtp_enter_state(s, SMTP_STATE_REFUSED);
    smtp_reply(s, 554, "%s", text);
}

/*
 * greet_start - the 220, at once or after the checks that come before
 * it on port 25: greet_pause (a client that talks before the greeting
 * is a bot that does not wait for replies) and the DNS blocklists.
 */
static void
greet_start(struct smtp_session *s)
{
    const struct config *cfg = s->ctx->cfg;

    smtp_enter_state(s, SMTP_STATE_GREET);
    if (s->kind == SMTP_KIND_MX) {
        if (cfg->greet_pause) {
            struct timeval tv = { cfg->greet_pause, 0 };
            s->greet_timer = evtimer_new(s->ctx->base, greet_timer_cb, s);
            evtimer_add(s->greet_timer, &tv);
        }
        if (s->ctx->dns && !cidr_match(&cfg->dnsbl_allow, s->ip))
            s->dnsbl = dnsbl_check_start(s->ctx->dns, s->ip, cfg->dnsbl, cfg->dnswl,
                                         dnsbl_done, s);
    }
    greet_maybe(s);
}

/* pregreet - the client sent something before our greeting: drop it */
static void
pregreet(struct smtp_session *s, struct evbuffer *in)
{
    char first[64];
    size_t n = evbuffer_get_length(in);
    unsigned char *p = evbuffer_pullup(in, n < 40 ? (ev_ssize_t)n : 40);

    log_sanitize((const char *)p, n < 40 ? n : 40, first, sizeof(first));
    log_info("NOQUEUE: reject: CONNECT from unknown[%s]: 554 5.5.1 talked before the "
             "greeting: %s", s->ip, first);
    evbuffer_drain(in, n);
    smtp_reply(s, 554, "5.5.1 %s Error: you talked before the greeting; goodbye",
               s->ctx->cfg->hostname);
    smtp_session_close(s);
}

/* local_peer - who is on the other end of the sendmail socket */
static void
local_peer(struct smtp_session *s, evutil_socket_t fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);
    struct passwd pw, *found = NULL;
    char pwbuf[1024];

    s->local_uid = -1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        s->local_uid = (long)cred.uid;
        if (getpwuid_r(cred.uid, &pw, pwbuf, sizeof(pwbuf), &found) != 0)
            found = NULL;
    }
    if (found)
        snprintf(s->local_user, sizeof(s->local_user), "%s", found->pw_name);
    else
        snprintf(s->local_user, sizeof(s->local_user), "uid%ld", s->local_uid);
}

void
smtp_session_start(struct smtp_ctx *ctx, evutil_socket_t fd, const char *ip,
                   enum smtp_kind kind)
{
    struct smtp_session *s = xcalloc(1, sizeof(*s));
    SSL *ssl = NULL;

    s->ctx = ctx;
    s->kind = kind;
    s->free_ev = evtimer_new(ctx->base, free_cb, s);
    s->flush_ev = event_new(ctx->base, -1, 0, flush_cb, s);
    s->out = evbuffer_new();
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    if (kind == SMTP_KIND_LOCAL)
        local_peer(s, fd);
    if (kind == SMTP_KIND_SUBMISSIONS) {
        /* RFC 8314: TLS from the first byte; the greeting waits for it. */
        if (!(ssl = tls_new(s))) {
            evutil_closesocket(fd);
            event_free(s->free_ev);
            event_free(s->flush_ev);
            evbuffer_free(s->out);
            free(s);
            ctx->on_close(ctx->on_close_arg, ip);
            return;
        }
        s->tls = true;
        s->bev = bufferevent_openssl_socket_new(ctx->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
    } else {
        s->bev = bufferevent_socket_new(ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(s->bev, EV_WRITE, SMTP_OUT_HIGH / 2, 0);
    bufferevent_setwatermark(s->bev, EV_READ, 0, SMTP_IN_HIGH);
    s->next = ctx->sessions;
    if (ctx->sessions)
        ctx->sessions->prev = s;
    ctx->sessions = s;
    ctx->nsessions++;
    smtp_set_timeouts(s);
    if (kind == SMTP_KIND_LOCAL)
        log_info("connect from local user %s (uid %ld)", s->local_user, s->local_uid);
    else
        log_info("connect from unknown[%s]%s", ip, kind == SMTP_KIND_SUBMISSIONS ? " (implicit TLS)"
                 : kind == SMTP_KIND_SUBMISSION ? " (submission)" : "");
    greet_start(s);
    /* plain TCP: replies go straight to the socket (smtp_flush), and the
     * write event is armed only when the socket does not take them all */
    bufferevent_enable(s->bev, s->tls ? EV_READ | EV_WRITE : EV_READ);
}

void
smtp_reject_connection(struct smtp_ctx *ctx, evutil_socket_t fd, enum smtp_kind kind,
                       const char *reason)
{
    if (kind == SMTP_KIND_SUBMISSIONS) {
        /* The client speaks TLS from its first byte: a reply in the clear
         * would only be garbage to it. */
        evutil_closesocket(fd);
        return;
    }
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "421 4.7.0 %s %s\r\n", ctx->cfg->hostname, reason);
    /* Best effort, non-blocking: the socket is new, its buffer empty. */
    ssize_t w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    evutil_closesocket(fd);
}

void
smtp_set_stress(struct smtp_ctx *ctx, bool on)
{
    ctx->stress = on;
    for (struct smtp_session *s = ctx->sessions; s; s = s->next)
        if (s->state != SMTP_STATE_CLOSING && s->state != SMTP_STATE_COMMIT
            && s->state != SMTP_STATE_AUTH_CHECK && s->state != SMTP_STATE_CHECK)
            smtp_set_timeouts(s);
}

void
smtp_stop_all(struct smtp_ctx *ctx)
{
    struct smtp_session *s = ctx->sessions, *next;

    ctx->stopping = true;
    for (; s; s = next) {
        next = s->next;
        if (s->state == SMTP_STATE_COMMIT || s->state == SMTP_STATE_CLOSING)
            continue;
        smtp_reply(s, 421, "4.3.2 %s Service shutting down", ctx->cfg->hostname);
        smtp_tx_reset(s);
        smtp_session_close(s);
    }
}

/* ---- commands --------------------------------------------------------- */

static void
cmd_helo(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    const struct config *cfg = s->ctx->cfg;
    bool ehlo = cmd->verb == SMTP_CMD_EHLO;

    if (cmd->arglen == 0) {
        smtp_reply(s, 501, "5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
        return;
    }
    if (cmd->arglen >= sizeof(s->helo)) {
        smtp_reply(s, 501, "5.5.4 Host name too long");
        return;
    }
    smtp_tx_reset(s);
    memcpy(s->helo, cmd->arg, cmd->arglen);
    s->helo[cmd->arglen] = '\0';
    s->esmtp = ehlo;
    smtp_enter_state(s, SMTP_STATE_READY);
    if (!ehlo) {
        smtp_reply(s, 250, "%s", cfg->hostname);
        return;
    }
    struct evbuffer *out = smtp_out(s);
    evbuffer_add_printf(out,
        "250-%s\r\n"
        "250-PIPELINING\r\n"
        "250-SIZE %zu\r\n", cfg->hostname, cfg->message_size_limit);
    if (!s->tls && s->ctx->tls && s->kind != SMTP_KIND_LOCAL)
        evbuffer_add_printf(out, "250-STARTTLS\r\n");
    /* RFC 4954 4 and 14: no AUTH in the clear (except loopback if allowed). */
    if (smtp_auth_offered(s) && !s->auth_user[0])
        evbuffer_add_printf(out, "250-AUTH PLAIN LOGIN\r\n");
    evbuffer_add_printf(out,
        "250-8BITMIME\r\n"
        "250-ENHANCEDSTATUSCODES\r\n"
        "250-SMTPUTF8\r\n"
        "250-CHUNKING\r\n"
        "250 DSN\r\n");
}

/* path_error - reply for a path that did not parse */
static void
path_error(struct smtp_session *s, enum addr_status st, bool sender)
{
    switch (st) {
    case ADDR_LOCAL_TOO_LONG:
        smtp_reply(s, 501, "5.1.%d Local part too long (RFC 5321 4.5.3.1.1: 64 octets)", sender ? 7 : 3);
        break;
    case ADDR_DOMAIN_TOO_LONG:
        smtp_reply(s, 501, "5.1.%d Domain too long (RFC 5321 4.5.3.1.2: 255 octets)", sender ? 7 : 3);
        break;
    case ADDR_NEED_UTF8:
        smtp_reply(s, 553, "5.6.7 Non-ASCII address needs SMTPUTF8");
        break;
    default:
        smtp_reply(s, 501, "5.1.%d Bad %s address syntax", sender ? 7 : 3,
              sender ? "sender" : "recipient");
        break;
    }
}

/* resolve_ctx_of - the recipient resolver over this server's tables */
static struct resolve_ctx
resolve_ctx_of(struct smtp_ctx *ctx)
{
    struct buf aerr = BUF_INIT;
    struct timeval turn;

    /* The users and aliases files may have changed since the last look:
     * looked at once a loop turn (the time libevent cached for the
     * turn), not for every recipient: two stat() calls a message saved. */
    event_base_gettimeofday_cached(ctx->base, &turn);
    if (timercmp(&turn, &ctx->files_seen, !=)) {
        ctx->files_seen = turn;
        users_refresh(ctx->users);
        aliases_refresh(ctx->aliases, &aerr);
        if (aerr.len)
            log_warn("%.*s", (int)aerr.len - 1, aerr.data);
        buf_free(&aerr);
    }
    return (struct resolve_ctx){ ctx->cfg, ctx->users, ctx->aliases };
}

/* sender_allowed - may the authenticated user send as mb? Its own
 * address, or any address that is delivered to it (an alias). */
static bool
sender_allowed(struct smtp_session *s, const struct mailbox *mb)
{
    char addr[ADDR_MAX + 1];
    struct mailbox_set set = { NULL, 0 };
    bool ok = false;

    if (mb->null)
        return false;
    mailbox_format(mb, addr, sizeof(addr));
    if (strcasecmp(addr, s->auth_user) == 0)
        return true;
    struct resolve_ctx rc = resolve_ctx_of(s->ctx);
    if (resolve_recipient(&rc, mb, &set) == RESOLVE_OK)
        for (size_t i = 0; i < set.n && !ok; i++)
            ok = strcmp(set.v[i], s->auth_user) == 0;
    mailbox_set_free(&set);
    return ok;
}

/*
 * rate_ok - may this client send n more events (messages or recipients)?
 * Authenticated users are counted by name with their own limit; other
 * clients by address, except the networks of rate_limit_exempt.
 */
static bool
rate_ok(struct smtp_session *s, struct ratelimit *r, unsigned n, unsigned ip_limit,
        unsigned user_limit)
{
    const struct config *cfg = s->ctx->cfg;
    char key[ADDR_MAX + 8];

    if (!r)
        return true;
    if (s->auth_user[0] || s->kind == SMTP_KIND_LOCAL) {
        snprintf(key, sizeof(key), "user %s", s->auth_user[0] ? s->auth_user : s->local_user);
        return ratelimit_take(r, key, user_limit, n, ratelimit_now());
    }
    if (cidr_match(&cfg->rate_limit_exempt, s->ip))
        return true;
    snprintf(key, sizeof(key), "ip %s", s->ip);
    return ratelimit_take(r, key, ip_limit, n, ratelimit_now());
}

/* rate_refuse - the 450 4.7.1 of a rate limit, and its log line */
static void
rate_refuse(struct smtp_session *s, const char *cmd, const char *what)
{
    char text[ADDR_MAX + 128];
    if (smtp_trusted(s))
        snprintf(text, sizeof(text), "4.7.1 Error: too many %s from user %s; try again later",
                 what, s->auth_user[0] ? s->auth_user : s->local_user);
    else
        snprintf(text, sizeof(text), "4.7.1 Error: too many %s from [%s]; try again later",
                 what, s->ip);
    smtp_reply(s, 450, "%s", text);
    char logged[sizeof(text) + 8];
    snprintf(logged, sizeof(logged), "450 %s", text);
    log_reject(s, cmd, logged);
}

static void
cmd_mail(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    const struct config *cfg = s->ctx->cfg;
    struct mailbox mb;
    struct mail_params mp;
    size_t used;
    char err[128], addr[ADDR_MAX + 1];

    if (!cmd->arg) {
        smtp_reply(s, 501, "5.5.4 Syntax: MAIL FROM:<address>");
        return;
    }
    enum addr_status st = path_parse(cmd->arg, cmd->arglen, PATH_ALLOW_NULL | PATH_UTF8, &mb, &used);
    if (st != ADDR_OK) {
        path_error(s, st, true);
        return;
    }
    const char *ps = cmd->arg + used;
    size_t pn = cmd->arglen - used;
    if (pn && !s->esmtp) {
        smtp_reply(s, 555, "5.5.4 MAIL parameters need EHLO");
        return;
    }
    switch (mail_params_parse(ps, pn, &mp, err, sizeof(err))) {
    case PARAM_OK:
        break;
    case PARAM_UNKNOWN:
        smtp_reply(s, 555, "5.5.4 Unsupported option: %s", err);
        return;
    default:
        smtp_reply(s, 501, "5.5.4 Bad parameter: %s", err);
        return;
    }
    if (mb.utf8 && !mp.smtputf8) {
        smtp_reply(s, 553, "5.6.7 Non-ASCII address needs SMTPUTF8 (RFC 6531)");
        return;
    }
    /* RFC 1870 6.1: refuse at MAIL what cannot fit. */
    if (mp.size >= 0 && (unsigned long long)mp.size > cfg->message_size_limit) {
        smtp_reply(s, 552, "5.3.4 Message size exceeds fixed limit of %zu octets",
              cfg->message_size_limit);
        return;
    }
    mailbox_format(&mb, addr, sizeof(addr));
    /* Submission (RFC 6409 4.3): authenticate first, then send only as
     * yourself or as one of your aliases. */
    if (s->kind != SMTP_KIND_MX && !smtp_trusted(s)) {
        smtp_reply(s, 530, "5.7.0 Authentication required");
        return;
    }
    if (s->auth_user[0] && !sender_allowed(s, &mb)) {
        char sa[ADDR_MAX * 4 + 8];
        log_sanitize(addr, strlen(addr), sa, sizeof(sa));
        smtp_reply(s, 553, "5.7.1 <%s>: Sender address rejected: not owned by user %s",
                   sa, s->auth_user);
        log_info("NOQUEUE: reject: MAIL from unknown[%s]: 553 5.7.1 <%s>: Sender address "
                 "rejected: not owned by user %s", s->ip, sa, s->auth_user);
        return;
    }
    if (!rate_ok(s, s->ctx->msg_rate, 1, cfg->max_message_rate, cfg->auth_max_message_rate)) {
        rate_refuse(s, "MAIL", "messages");
        return;
    }

    struct smtp_tx *tx = xcalloc(1, sizeof(*tx));
    tx->mp = mp;
    tx->env = envelope_new();
    spool_new_id(tx->env->id);
    free(tx->env->sender);
    tx->env->sender = xstrdup(addr);
    tx->env->client_ip = xstrdup(s->ip);
    tx->env->helo = xstrdup(s->helo);
    if (mp.body == BODY_8BITMIME)
        tx->env->flags |= ENV_F_8BITMIME;
    if (mp.smtputf8)
        tx->env->flags |= ENV_F_SMTPUTF8;
    tx->env->ret = mp.ret;
    if (mp.envid[0])
        tx->env->envid = xstrdup(mp.envid);
    s->tx = tx;
    smtp_enter_state(s, SMTP_STATE_MAIL);
    smtp_reply(s, 250, "2.1.0 Ok");
}

static void
cmd_rcpt(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    struct smtp_ctx *ctx = s->ctx;
    struct mailbox mb;
    struct rcpt_params rp;
    size_t used;
    char err[128], addr[ADDR_MAX + 1], sa[ADDR_MAX * 4 + 8], text[sizeof(sa) + 128];

    if (s->tx->bdat) {
        smtp_reply(s, 503, "5.5.1 Error: RCPT after BDAT");
        return;
    }
    if (!cmd->arg) {
        smtp_reply(s, 501, "5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    enum addr_status st = path_parse(cmd->arg, cmd->arglen,
                                     PATH_ALLOW_POSTMASTER | PATH_UTF8, &mb, &used);
    if (st != ADDR_OK) {
        path_error(s, st, false);
        return;
    }
    if (used < cmd->arglen && !s->esmtp) {
        smtp_reply(s, 555, "5.5.4 RCPT parameters need EHLO");
        return;
    }
    switch (rcpt_params_parse(cmd->arg + used, cmd->arglen - used, &rp, err, sizeof(err))) {
    case PARAM_OK:
        break;
    case PARAM_UNKNOWN:
        smtp_reply(s, 555, "5.5.4 Unsupported option: %s", err);
        return;
    default:
        smtp_reply(s, 501, "5.5.4 Bad parameter: %s", err);
        return;
    }
    if (mb.utf8 && !s->tx->mp.smtputf8) {
        smtp_reply(s, 553, "5.6.7 Non-ASCII address needs SMTPUTF8 (RFC 6531)");
        return;
    }
    if (s->tx->nrcpt >= ctx->cfg->max_recipients) {
        smtp_reply(s, 452, "4.5.3 Too many recipients");
        return;
    }
    /* Every RCPT counts, accepted or not: guessing addresses costs too. */
    if (!rate_ok(s, ctx->rcpt_rate, 1, ctx->cfg->max_recipient_rate,
                 ctx->cfg->auth_max_recipient_rate)) {
        rate_refuse(s, "RCPT", "recipients");
        return;
    }
    mailbox_format(&mb, addr, sizeof(addr));
    log_sanitize(addr, strlen(addr), sa, sizeof(sa));

    struct resolve_ctx rc = resolve_ctx_of(ctx);
    struct mailbox_set set = { NULL, 0 };
    int code = 0;
    switch (resolve_recipient(&rc, &mb, &set)) {
    case RESOLVE_OK:
        break;
    case RESOLVE_NOT_LOCAL:
        if (smtp_trusted(s)) {
            /* An authenticated user may send anywhere: the message waits
             * in the queue for delivery to the other domain. */
            char remote[ADDR_MAX + 1];
            snprintf(remote, sizeof(remote), "%s", addr);
            for (char *p = strrchr(remote, '@'); p && *p; p++)
                *p = (char)tolower((unsigned char)*p);
            envelope_add_rcpt(s->tx->env, remote, addr, rp.notify, rp.orcpt)->remote = true;
            s->tx->nrcpt++;
            smtp_enter_state(s, SMTP_STATE_RCPT);
            smtp_reply(s, 250, "2.1.5 Ok");
            return;
        }
        /* fall through */
    case RESOLVE_ROUTING:
        code = 554;
        snprintf(text, sizeof(text), "5.7.1 <%s>: Relay access denied", sa);
        break;
    case RESOLVE_UNKNOWN:
        code = 550;
        snprintf(text, sizeof(text), "5.1.1 <%s>: Recipient address rejected: User unknown", sa);
        break;
    case RESOLVE_LOOP:
        code = 550;
        snprintf(text, sizeof(text), "5.4.6 <%s>: Alias loop", sa);
        break;
    case RESOLVE_REMOTE_TARGET:
        code = 451;
        snprintf(text, sizeof(text), "4.3.0 <%s>: Alias target is not local; "
                 "forwarding is not available yet", sa);
        break;
    }
    if (code) {
        char logged[sizeof(text) + 8];
        smtp_reply(s, code, "%s", text);
        snprintf(logged, sizeof(logged), "%d %s", code, text);
        log_reject(s, "RCPT", logged);
        return;
    }
    /* One copy per mailbox, however many addresses lead to it. */
    for (size_t i = 0; i < set.n; i++) {
        bool dup = false;
        for (size_t j = 0; j < s->tx->env->nrcpts && !dup; j++)
            dup = strcmp(s->tx->env->rcpts[j].mailbox, set.v[i]) == 0;
        if (!dup)
            envelope_add_rcpt(s->tx->env, set.v[i], addr, rp.notify, rp.orcpt);
    }
    mailbox_set_free(&set);
    s->tx->nrcpt++;
    smtp_enter_state(s, SMTP_STATE_RCPT);
    smtp_reply(s, 250, "2.1.5 Ok");
}

/* tx_begin_content - start the message: our Received: header first */
static void
tx_begin_content(struct smtp_session *s, enum data_mode mode)
{
    struct smtp_tx *tx = s->tx;
    const struct config *cfg = s->ctx->cfg;
    char date[64], helo[128];
    time_t now = time(NULL);
    struct tm tm;

    data_reader_init(&tx->dr, mode, SMTP_TEXT_MAX, cfg->message_size_limit);
    tx->reader_on = true;
    tx->env->arrival = now;
    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
    log_sanitize(s->helo, strlen(s->helo), helo, sizeof(helo));
    /* RFC 5321 4.4 and RFC 3848 / RFC 6531 3.7.3 for the protocol word. */
    char proto[16];
    snprintf(proto, sizeof(proto), "%s%s%s",
             tx->mp.smtputf8 ? "UTF8SMTP" : (s->esmtp || s->tls) ? "ESMTP" : "SMTP",
             s->tls ? "S" : "", s->auth_user[0] ? "A" : "");
    if (s->kind == SMTP_KIND_LOCAL)
        buf_printf(&tx->content, "Received: by %s (postino, from userid %ld %s)\n",
                   cfg->hostname, s->local_uid, s->local_user);
    else
        buf_printf(&tx->content, "Received: from %s (unknown [%s])\n", helo, s->ip);
    if (s->tls_info[0])
        buf_printf(&tx->content, "\t(using %s)\n", s->tls_info);
    if (s->kind == SMTP_KIND_LOCAL)
        buf_printf(&tx->content, "\twith local id %s", tx->env->id);
    else
        buf_printf(&tx->content, "\tby %s (postino) with %s id %s", cfg->hostname, proto,
                   tx->env->id);
    if (tx->env->nrcpts == 1)
        buf_printf(&tx->content, "\n\tfor <%s>", tx->env->rcpts[0].orig);
    buf_printf(&tx->content, "; %s\n", date);
    tx->header_len = tx->content.len;
}

static void
cmd_data(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (s->tx && s->tx->bdat) {
        smtp_reply(s, 503, "5.5.1 DATA after BDAT in one transaction");
        return;
    }
    if (s->state != SMTP_STATE_RCPT) {
        smtp_reply(s, 503, "5.5.1 Error: need RCPT command");
        return;
    }
    if (cmd->arglen) {
        smtp_reply(s, 501, "5.5.4 Syntax: DATA");
        return;
    }
    tx_begin_content(s, DATA_MODE_DOT);
    smtp_enter_state(s, SMTP_STATE_DATA);
    smtp_set_timeouts(s);
    smtp_reply(s, 354, "End data with <CR><LF>.<CR><LF>");
}

static void
commit_done(struct workq_item *item)
{
    struct smtp_commit *c = (struct smtp_commit *)item;
    struct smtp_session *s = c->sess;
    struct envelope *env = c->sc.env;
    char id[sizeof(env->id)];

    memcpy(id, env->id, sizeof(id));
    if (c->sc.error == 0 && c->sc.delivered) {
        /* Delivered with the commit: no queue, no scheduler. */
        log_info("%s: client=unknown[%s], helo=<%s>", env->id, env->client_ip, env->helo);
        log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (delivered at once)",
                 env->id, env->sender, env->size, env->nrcpts);
        for (size_t i = 0; i < env->nrcpts; i++)
            log_info("%s: to=<%s>, orig_to=<%s>, relay=local, delay=0, dsn=2.0.0, "
                     "status=sent (delivered to maildir)", env->id, env->rcpts[i].mailbox,
                     env->rcpts[i].orig);
        log_info("%s: removed", env->id);
        envelope_free(env);
    } else if (c->sc.error == 0) {
        log_info("%s: client=unknown[%s], helo=<%s>", env->id, env->client_ip, env->helo);
        log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queue active)",
                 env->id, env->sender, env->size, env->nrcpts);
        scheduler_add(c->ctx->sched, env);     /* the scheduler's now */
    } else {
        log_error("%s: cannot queue the message: %s", env->id, strerror(c->sc.error));
        envelope_free(env);
    }
    buf_free(&c->sc.content);
    if (s) {
        s->commit = NULL;
        if (c->sc.error == 0) {
            s->messages++;
            smtp_reply(s, 250, "2.0.0 Ok: queued as %s", id);
        } else if (c->sc.error == ENOSPC || c->sc.error == EDQUOT) {
            smtp_reply(s, 452, "4.3.1 Insufficient system storage");
        } else {
            smtp_reply(s, 451, "4.3.0 Local error in processing; try again later");
        }
        smtp_enter_state(s, SMTP_STATE_READY);
        smtp_set_timeouts(s);
        if (s->ctx->stopping) {
            smtp_reply(s, 421, "4.3.2 %s Service shutting down", s->ctx->cfg->hostname);
            smtp_session_close(s);
        } else {
            bufferevent_enable(s->bev, EV_READ);
            smtp_session_process(s);         /* commands pipelined behind the data */
        }
    }
    free(c);
}

/*
 * add_missing_headers - RFC 6409 8.3: a submission server may add the
 * Date: and Message-ID: fields a client left out; without them many
 * receivers score the message as spam.
 */
static void
add_missing_headers(struct smtp_session *s)
{
    struct smtp_tx *tx = s->tx;
    const char *msg = tx->content.data + tx->header_len;
    size_t n = tx->content.len - tx->header_len;
    bool date = header_present(msg, n, "Date"), msgid = header_present(msg, n, "Message-ID");

    if (date && msgid)
        return;
    struct buf out = BUF_INIT;
    buf_append(&out, tx->content.data, tx->header_len);
    if (!date) {
        char d[64];
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(d, sizeof(d), "%a, %d %b %Y %H:%M:%S %z", &tm);
        buf_printf(&out, "Date: %s\n", d);
    }
    if (!msgid)
        buf_printf(&out, "Message-ID: <%s@%s>\n", tx->env->id, s->ctx->cfg->hostname);
    /* A message with no header section at all still needs its empty line. */
    if (n == 0 || header_end(msg, n) == n)
        buf_putc(&out, '\n');
    buf_append(&out, msg, n);
    buf_free(&tx->content);
    tx->content = out;
}

static void msgauth_done(void *arg, struct msgauth_result *r);
static void tx_commit(struct smtp_session *s);

/* tx_finish - the content is complete: refuse it, or check and queue it */
static void
tx_finish(struct smtp_session *s)
{
    struct smtp_tx *tx = s->tx;
    unsigned e = tx->dr.errors;
    const char *text = NULL;
    int code = 0;

    if (e & DATA_ERR_TOO_BIG) {
        code = 552;
        text = "5.3.4 Message size exceeds fixed limit";
    } else if (e & (DATA_ERR_BARE_LF | DATA_ERR_BARE_CR)) {
        /* RFC 5321 2.3.8: lines end with CRLF only; anything else may be
         * an attempt to smuggle a second message (CVE-2023-51764). */
        code = 550;
        text = "5.6.0 Message contains a bare CR or LF; lines must end with CRLF";
    } else if (e & DATA_ERR_NUL) {
        code = 550;
        text = "5.6.0 Message contains a NUL octet";
    } else if (e & DATA_ERR_LONG_LINE) {
        code = 500;
        text = "5.5.2 Message line too long (RFC 5321 4.5.3.1.6: 1000 octets)";
    } else {
        /* The client's header section, after our Received: field. */
        size_t fields, octets;
        header_stats(tx->content.data + tx->header_len, tx->content.len - tx->header_len,
                     &fields, &octets);
        if (octets > s->ctx->cfg->header_size_limit) {
            code = 552;
            text = "5.3.4 Message header too large";
        } else if (fields > s->ctx->cfg->header_count_limit) {
            code = 552;
            text = "5.3.4 Too many header fields";
        }
    }
    if (code) {
        char t[160];
        snprintf(t, sizeof(t), "%d %s", code, text);
        log_reject(s, tx->bdat ? "BDAT" : "DATA", t);
        smtp_reply(s, code, "%s", text);
        smtp_tx_reset(s);
        smtp_set_timeouts(s);
        return;
    }
    if (smtp_trusted(s))
        add_missing_headers(s);
    struct smtp_ctx *ctx = s->ctx;
    const struct config *cfg = ctx->cfg;
    if (ctx->msgauth && smtp_trusted(s) && cfg->dkim_sign) {
        s->msgauth = msgauth_sign(ctx->msgauth, cfg->data_dir, cfg->domains, &tx->content,
                                  tx->header_len, msgauth_done, s);
    } else if (ctx->msgauth && s->kind == SMTP_KIND_MX && cfg->verify_inbound) {
        struct msgauth_check_in in = { s->ip, s->helo, tx->env->sender, cfg->hostname,
                                       cfg->dmarc_enforce };
        s->msgauth = msgauth_check(ctx->msgauth, &in, &tx->content, tx->header_len,
                                   msgauth_done, s);
    } else {
        tx_commit(s);
        return;
    }
    smtp_enter_state(s, SMTP_STATE_CHECK);
    bufferevent_disable(s->bev, EV_READ);
}

/*
 * msgauth_done - the checks (or the signing) are done: the message comes
 * back with its new header fields, and is refused or queued.
 */
static void
msgauth_done(void *arg, struct msgauth_result *r)
{
    struct smtp_session *s = arg;
    struct smtp_tx *tx = s->tx;

    s->msgauth = NULL;
    if (r->summary[0])
        log_info("%s: %s", tx->env->id, r->summary);
    if (r->reject) {
        char t[sizeof(r->reply) + 8];
        snprintf(t, sizeof(t), "550 %s", r->reply);
        log_reject(s, tx->bdat ? "BDAT" : "DATA", t);
        smtp_reply(s, 550, "%s", r->reply);
        smtp_tx_reset(s);
        smtp_enter_state(s, SMTP_STATE_READY);
        smtp_set_timeouts(s);
        bufferevent_enable(s->bev, EV_READ);
        smtp_session_process(s);
        return;
    }
    buf_free(&tx->content);
    tx->content = r->msg;
    buf_init(&r->msg);
    tx_commit(s);
}

/* tx_commit - hand the message to the queue's commit workers */
static void
tx_commit(struct smtp_session *s)
{
    struct smtp_tx *tx = s->tx;

    /* Size as SMTP carries it: every LF stands for CRLF. */
    size_t lines = 0;
    for (const char *p = tx->content.data, *end = p + tx->content.len;
         p && (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
        lines++;
    tx->env->size = tx->content.len + lines;

    struct smtp_commit *c = xcalloc(1, sizeof(*c));
    c->sess = s;
    c->ctx = s->ctx;
    c->sc.spool = s->ctx->spool;
    c->sc.env = tx->env;
    c->sc.content = tx->content;            /* moved, not copied */
    c->sc.direct = true;                    /* delivered at once when all is local */
    c->sc.item.done = commit_done;
    tx->env = NULL;
    buf_init(&tx->content);
    smtp_tx_reset(s);
    s->commit = c;
    /* Reading goes on (bounded by SMTP_IN_HIGH): turning it off and on
     * again would cost two epoll_ctl calls a message. */
    smtp_enter_state(s, SMTP_STATE_COMMIT);
    workq_push(s->ctx->commitq, &c->sc.item);
}

static void
cmd_bdat(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    /* RFC 3030 2: "BDAT" SP chunk-size [ SP end-marker ] */
    const char *a = cmd->arg;
    size_t n = cmd->arglen, i = 0;
    unsigned long long size = 0;
    bool last = false;

    while (i < n && a[i] >= '0' && a[i] <= '9' && i < 18)
        size = size * 10 + (unsigned)(a[i++] - '0');
    while (i < n && a[i] == ' ')
        i++;
    if (i < n && n - i == 4 && strncasecmp(a + i, "LAST", 4) == 0) {
        last = true;
        i = n;
    }
    if (!a || !(a[0] >= '0' && a[0] <= '9') || i < n) {
        /* Without a valid size we cannot know how many octets follow:
         * the stream is lost, so say so and close. */
        smtp_reply(s, 501, "5.5.4 Syntax: BDAT chunk-size [LAST]; closing");
        smtp_tx_reset(s);
        smtp_session_close(s);
        return;
    }
    /* Out of sequence, the chunk's octets still follow: they are read and
     * dropped before the answer, never taken as commands (RFC 3030 2). */
    s->bdat_discard = !(s->state == SMTP_STATE_RCPT && s->esmtp);
    s->bdat_prev = s->state;
    s->bdat_left = (size_t)size;
    s->bdat_last = last;
    if (!s->bdat_discard && !s->tx->bdat) {
        s->tx->bdat = true;
        tx_begin_content(s, DATA_MODE_RAW);
    }
    smtp_enter_state(s, SMTP_STATE_BDAT);
    smtp_set_timeouts(s);
}

/* bdat_chunk_end - all octets of a chunk are in */
static void
bdat_chunk_end(struct smtp_session *s)
{
    struct smtp_tx *tx = s->tx;

    if (s->bdat_discard) {
        s->bdat_discard = false;
        smtp_enter_state(s, s->bdat_prev);
        smtp_set_timeouts(s);
        smtp_reply(s, 503, "5.5.1 Error: %s",
              s->state == SMTP_STATE_INIT ? "send EHLO first"
              : !s->esmtp ? "BDAT needs EHLO"
              : "need RCPT command");
        return;
    }
    if (!s->bdat_last) {
        smtp_enter_state(s, SMTP_STATE_RCPT);
        smtp_set_timeouts(s);
        smtp_reply(s, 250, "2.0.0 %zu octets received", tx->bdat_octets);
        return;
    }
    data_reader_finish(&tx->dr, &tx->content);
    tx_finish(s);
}

static void
cmd_rset(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (cmd->arglen) {
        smtp_reply(s, 501, "5.5.4 Syntax: RSET");
        return;
    }
    smtp_tx_reset(s);
    smtp_reply(s, 250, "2.0.0 Ok");
}

static void
cmd_noop(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply(s, 250, "2.0.0 Ok");
}

static void
cmd_quit(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply(s, 221, "2.0.0 Bye");
    smtp_tx_reset(s);
    smtp_session_close(s);
}

static void
cmd_help(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply(s, 214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY");
}

static void
cmd_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (cmd->arglen == 0) {
        smtp_reply(s, 501, "5.5.4 Syntax: VRFY address");
        return;
    }
    /* RFC 5321 3.5.3: 252 reveals nothing to address harvesters. */
    smtp_reply(s, 252, "2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

/* cmd_starttls - RFC 3207 */
static void
cmd_starttls(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    struct smtp_ctx *ctx = s->ctx;

    if (s->tls) {
        smtp_reply(s, 503, "5.5.1 Error: TLS already active");
        return;
    }
    if (!ctx->tls || s->kind == SMTP_KIND_LOCAL) {
        smtp_reply(s, 454, "4.7.0 TLS not available");
        return;
    }
    if (cmd->arglen) {
        smtp_reply(s, 501, "5.5.4 Syntax: STARTTLS");
        return;
    }
    if (s->state != SMTP_STATE_INIT && s->state != SMTP_STATE_READY) {
        smtp_reply(s, 503, "5.5.1 Error: STARTTLS not allowed during a mail transaction");
        return;
    }
    SSL *ssl = tls_new(s);
    if (!ssl) {
        smtp_reply(s, 454, "4.7.0 TLS not available");
        return;
    }
    smtp_reply(s, 220, "2.0.0 Ready to start TLS");
    smtp_flush(s);                      /* in the clear, before the filter */
    /* The bytes pipelined after STARTTLS are thrown away (CVE-2011-0411). */
    if (!conn_starttls(ctx->base, &s->bev, ssl, "", "STARTTLS", s->ip)) {
        log_error("unknown[%s]: cannot start TLS", s->ip);
        smtp_session_close(s);
        return;
    }
    struct bufferevent *tb = s->bev;
    bufferevent_setcb(tb, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(tb, EV_WRITE, SMTP_OUT_HIGH / 2, 0);
    bufferevent_setwatermark(tb, EV_READ, 0, SMTP_IN_HIGH);
    /* RFC 3207 4.2: forget everything learnt before; EHLO again. */
    s->tls = true;
    s->helo[0] = '\0';
    s->esmtp = false;
    s->auth_user[0] = '\0';
    smtp_tx_reset(s);
    smtp_enter_state(s, SMTP_STATE_INIT);
    smtp_set_timeouts(s);
    bufferevent_enable(tb, EV_READ | EV_WRITE);
}

static void
cmd_not_implemented(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    smtp_reply(s, 502, "5.5.1 Command not implemented");
}

static void
cmd_http(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    log_info("HTTP command from unknown[%s]: closing", s->ip);
    smtp_reply(s, 554, "5.7.0 This is an SMTP server, not a web server");
    smtp_session_close(s);
}

/* States as bits, for the command table. */
#define S_INIT   (1u << SMTP_STATE_INIT)
#define S_READY  (1u << SMTP_STATE_READY)
#define S_MAIL   (1u << SMTP_STATE_MAIL)
#define S_RCPT   (1u << SMTP_STATE_RCPT)
#define S_ANY    (S_INIT | S_READY | S_MAIL | S_RCPT)

/* The command table: which verb, in which states, by whom. */
static const struct {
    enum smtp_verb verb;
    unsigned       states;
    smtp_handler   fn;
    const char    *refusal;     /* 503 text outside those states */
} commands[] = {
    { SMTP_CMD_HELO,     S_ANY,          cmd_helo, NULL },
    { SMTP_CMD_EHLO,     S_ANY,          cmd_helo, NULL },
    { SMTP_CMD_MAIL,     S_READY,        cmd_mail, NULL },
    { SMTP_CMD_RCPT,     S_MAIL | S_RCPT, cmd_rcpt, "need MAIL command" },
    { SMTP_CMD_DATA,     S_ANY,          cmd_data, NULL },
    { SMTP_CMD_BDAT,     S_ANY,          cmd_bdat, NULL },
    { SMTP_CMD_RSET,     S_ANY,          cmd_rset, NULL },
    { SMTP_CMD_NOOP,     S_ANY,          cmd_noop, NULL },
    { SMTP_CMD_QUIT,     S_ANY,          cmd_quit, NULL },
    { SMTP_CMD_HELP,     S_ANY,          cmd_help, NULL },
    { SMTP_CMD_VRFY,     S_ANY,          cmd_vrfy, NULL },
    { SMTP_CMD_EXPN,     S_ANY,          cmd_not_implemented, NULL },
    { SMTP_CMD_STARTTLS, S_ANY,          cmd_starttls, NULL },
    { SMTP_CMD_AUTH,     S_ANY,          smtp_auth_command, NULL },
    { SMTP_CMD_HTTP,     S_ANY,          cmd_http, NULL },
};

/* dispatch - one command line (CRLF removed) */
static void
dispatch(struct smtp_session *s, const char *line, size_t len)
{
    struct smtp_cmd cmd;

    s->commands++;
    if (s->state == SMTP_STATE_REFUSED) {
        /* RFC 5321 3.1: after a 554 greeting, QUIT and nothing else */
        if (smtp_cmd_parse(line, len, &cmd) && cmd.verb == SMTP_CMD_QUIT
            && !memchr(line, '\0', len))
            cmd_quit(s, &cmd);
        else
            smtp_reply(s, 503, "5.7.1 Error: access denied for [%s]; send QUIT", s->ip);
        return;
    }
    if (memchr(line, '\0', len)) {
        smtp_reply(s, 500, "5.5.2 Error: NUL octet in command");
        return;
    }
    if (!smtp_cmd_parse(line, len, &cmd)) {
        char t[64];
        log_sanitize(line, len < 40 ? len : 40, t, sizeof(t));
        log_info("unknown command from unknown[%s]: %s", s->ip, t);
        smtp_reply(s, 500, "5.5.2 Error: command not recognized");
        return;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].verb != cmd.verb)
            continue;
        if (!(commands[i].states & (1u << s->state))) {
            if (cmd.verb == SMTP_CMD_MAIL && s->state == SMTP_STATE_INIT)
                smtp_reply(s, 503, "5.5.1 Error: send HELO/EHLO first");
            else if (cmd.verb == SMTP_CMD_MAIL)
                smtp_reply(s, 503, "5.5.1 Error: nested MAIL command");
            else
                smtp_reply(s, 503, "5.5.1 Error: %s", commands[i].refusal ? commands[i].refusal
                                                                     : "bad sequence of commands");
            return;
        }
        commands[i].fn(s, &cmd);
        return;
    }
    smtp_reply(s, 502, "5.5.1 Command not implemented");
}

/* feed_reader - pass buffered input to the data reader; returns the
 * octets consumed. limit caps how much may be taken (BDAT chunks). */
static size_t
feed_reader(struct smtp_session *s, struct evbuffer *in, size_t limit, bool store)
{
    struct evbuffer_iovec v[16];
    size_t total = 0;

    while (total < limit) {
        int nv = evbuffer_peek(in, (ev_ssize_t)(limit - total), NULL, v, 16);
        size_t round = 0;
        bool stop = false;
        if (nv <= 0)
            break;
        for (int i = 0; i < nv && i < 16 && total + round < limit; i++) {
            size_t n = v[i].iov_len;
            if (n > limit - total - round)
                n = limit - total - round;
            size_t used = n;
            if (store)
                used = data_reader_feed(&s->tx->dr, v[i].iov_base, n, &s->tx->content);
            round += used;
            if (used < n || (store && s->tx->dr.done)) {
                stop = true;
                break;
            }
        }
        evbuffer_drain(in, round);
        total += round;
        if (stop || round == 0)
            break;
    }
    return total;
}

/* smtp_session_process - act on everything buffered, as far as the state allows */
void
smtp_session_process(struct smtp_session *s)
{
    for (;;) {
        /* Fetched anew each time: STARTTLS replaces the bufferevent. */
        struct evbuffer *in = bufferevent_get_input(s->bev);
        if (s->state == SMTP_STATE_COMMIT || s->state == SMTP_STATE_CLOSING
            || s->state == SMTP_STATE_AUTH_CHECK || s->state == SMTP_STATE_CHECK)
            return;
        if (s->errors >= s->ctx->cfg->smtp_max_errors) {
            smtp_reply(s, 421, "4.7.0 %s Error: too many errors", s->ctx->cfg->hostname);
            log_info("too many errors from unknown[%s]", s->ip);
            smtp_tx_reset(s);
            smtp_session_close(s);
            return;
        }
        if (evbuffer_get_length(bufferevent_get_output(s->bev))
            + evbuffer_get_length(s->out) > SMTP_OUT_HIGH) {
            bufferevent_disable(s->bev, EV_READ);   /* output_drained resumes */
            s->out_blocked = true;
            return;
        }
        size_t avail = evbuffer_get_length(in);
        if (s->state == SMTP_STATE_BDAT) {
            size_t take = avail < s->bdat_left ? avail : s->bdat_left;
            if (take)
                feed_reader(s, in, take, !s->bdat_discard);
            s->bdat_left -= take;
            if (!s->bdat_discard)
                s->tx->bdat_octets += take;
            if (s->bdat_left > 0)
                return;
            bdat_chunk_end(s);
            continue;
        }
        if (avail == 0)
            return;
        if (s->state == SMTP_STATE_GREET) {
            pregreet(s, in);
            return;
        }

        if (s->state == SMTP_STATE_DATA) {
            feed_reader(s, in, avail, true);
            if (!s->tx->dr.done)
                return;
            tx_finish(s);
            continue;
        }
        /* A command line. */
        struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);
        if (eol.pos < 0) {
            if (avail > SMTP_LINE_MAX) {
                if (!s->discarding)
                    smtp_reply(s, 500, "5.5.2 Error: line too long");
                s->discarding = true;
                evbuffer_drain(in, avail);
            }
            return;
        }
        size_t len = (size_t)eol.pos + 1;
        if (s->discarding || len > SMTP_LINE_MAX) {
            if (!s->discarding)
                smtp_reply(s, 500, "5.5.2 Error: line too long");
            s->discarding = false;
            evbuffer_drain(in, len);
            continue;
        }
        evbuffer_remove(in, s->line, len);
        len--;                                  /* the LF */
        if (len && s->line[len - 1] == '\r')
            len--;
        s->line[len] = '\0';
        if (s->state == SMTP_STATE_AUTH_INPUT)
            smtp_auth_response(s, s->line, len);
        else
            dispatch(s, s->line, len);
        explicit_bzero(s->line, len);       /* it may have held a password */
        if (s->state != SMTP_STATE_CLOSING)
            smtp_set_timeouts(s);
    }
}
