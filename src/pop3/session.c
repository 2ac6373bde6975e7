/*
 * session - one POP3 session (RFC 1939); see pop3.h.
 *
 * States: AUTHORIZATION (USER/PASS, AUTH PLAIN, STLS, CAPA, QUIT) →
 * TRANSACTION (STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT) →
 * UPDATE (at QUIT: the deletions). BUSY while a worker has the session's
 * job (password check, taking the drop, RETR, the deletions): nothing is
 * read meanwhile. Logins are allowed only inside TLS (or from loopback
 * when auth_plaintext_loopback allows it), delayed and counted per IP on
 * failure like SMTP AUTH.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libevent, OpenSSL */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

/* lower layers */
#include "util/buf.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "mail/address.h"
#include "auth/guard.h"
#include "auth/sasl.h"
#include "auth/users.h"
#include "net/conn.h"
#include "pop3/maildrop.h"
#include "pop3/pop3.h"
#include "pop3/pop3_cmd.h"

#define POP3_LINE_MAX   2048        /* SASL responses are longer than commands */
#define POP3_MAX_ERRORS 20

enum pop3_state { P_AUTH, P_TRANS, P_BUSY, P_CLOSING };

struct pop3_lock {
    struct pop3_lock *next;
    char              path[];
};

struct pop3_job;

struct pop3_session {
    struct pop3_ctx     *ctx;
    struct bufferevent  *bev;
    struct pop3_session *prev, *next;
    enum pop3_state      state;
    enum pop3_state      after;         /* state to return to after BUSY */
    char                 ip[64];
    bool                 tls;
    bool                 released;
    bool                 sasl_wait;     /* AUTH PLAIN: the next line is the response */
    unsigned             errors;
    char                 user[ADDR_MAX + 1];
    char                *path;          /* the Maildir, once logged in */
    bool                 locked;
    struct maildrop     *drop;
    bool                *deleted;
    struct pop3_job     *job;
    struct event        *free_ev;       /* deferred free; also the closing deadline */
    struct event        *fail_timer;
    struct evbuffer_cb_entry *under_cb;
    char                 line[POP3_LINE_MAX + 1];
};

enum job_kind { J_CHECK, J_OPEN, J_RETR, J_COMMIT };

struct pop3_job {
    struct workq_item    item;
    struct pop3_session *s;             /* NULL once the session is gone */
    enum job_kind        kind;
    char                 user[SASL_FIELD_MAX + 1];
    char                 pass[SASL_FIELD_MAX + 1];
    char                *hash;
    bool                 ok;
    char                *path;
    struct maildrop     *drop;          /* J_OPEN result; J_RETR/J_COMMIT input */
    size_t               idx;
    long                 top;
    bool                *deleted;
    bool                 own_drop;      /* the session is gone: free drop when done */
    struct buf           out;
    int                  err;
    char                 errtext[160];
};

static void process(struct pop3_session *s);
static void session_close(struct pop3_session *s);
static void session_release(struct pop3_session *s);

static void
say(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
say(struct pop3_session *s, const char *fmt, ...)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    va_list ap;

    va_start(ap, fmt);
    evbuffer_add_vprintf(out, fmt, ap);
    va_end(ap);
    evbuffer_add(out, "\r\n", 2);
    if (fmt[0] == '-')
        s->errors++;
}

/* ---- mailbox locks ([IN-USE], RFC 2449 8.1.2) --------------------------- */

static bool
lock_take(struct pop3_ctx *ctx, const char *path)
{
    for (struct pop3_lock *l = ctx->locks; l; l = l->next)
        if (strcmp(l->path, path) == 0)
            return false;
    size_t n = strlen(path);
    struct pop3_lock *l = xcalloc(1, sizeof(*l) + n + 1);
    memcpy(l->path, path, n + 1);
    l->next = ctx->locks;
    ctx->locks = l;
    return true;
}

static void
lock_drop(struct pop3_ctx *ctx, const char *path)
{
    for (struct pop3_lock **pp = &ctx->locks; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->path, path) == 0) {
            struct pop3_lock *l = *pp;
            *pp = l->next;
            free(l);
            return;
        }
}

/* ---- life ------------------------------------------------------------- */

static void
free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pop3_session *s = arg;
    (void)fd;
    (void)what;

    if (!s->released) {             /* the closing deadline passed */
        session_release(s);
        return;
    }
    if (s->tls) {
        SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
        if (ssl)
            SSL_shutdown(ssl);
    }
    bufferevent_free(s->bev);
    event_free(s->free_ev);
    free(s);
}

/* session_release - end the session: nothing is deleted unless the
 * UPDATE state ran; the memory goes on the next turn of the loop */
static void
session_release(struct pop3_session *s)
{
    struct pop3_ctx *ctx = s->ctx;

    if (s->released)
        return;
    s->released = true;
    s->state = P_CLOSING;
    log_info("pop3: disconnect from unknown[%s]%s%s", s->ip, s->user[0] ? " user=" : "",
             s->user);
    if (s->job) {
        s->job->s = NULL;
        if (s->job->kind == J_RETR || s->job->kind == J_COMMIT) {
            s->job->own_drop = true;        /* the worker still reads it */
            s->drop = NULL;
        }
    }
    if (s->fail_timer)
        event_free(s->fail_timer);
    if (s->locked)
        lock_drop(ctx, s->path);
    maildrop_free(s->drop);
    free(s->deleted);
    free(s->path);
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
    evtimer_del(s->free_ev);
    event_active(s->free_ev, EV_TIMEOUT, 0);
}

static void
under_out_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
    (void)info;
    if (evbuffer_get_length(buf) == 0)
        session_release(arg);
}

/* close_when_flushed - release once the last reply has left (with STLS,
 * the encrypted octets wait in the socket's bufferevent) */
static void
close_when_flushed(struct pop3_session *s)
{
    if (!s->released && conn_drained(s->bev, &s->under_cb, under_out_cb, s))
        session_release(s);
}

static void
session_close(struct pop3_session *s)
{
    s->state = P_CLOSING;
    bufferevent_disable(s->bev, EV_READ);
    struct timeval deadline = { 10, 0 };
    evtimer_add(s->free_ev, &deadline);
    bufferevent_enable(s->bev, EV_WRITE);
    close_when_flushed(s);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
    struct pop3_session *s = arg;
    (void)bev;
    if (s->state == P_CLOSING)
        close_when_flushed(s);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct pop3_session *s = arg;
    (void)bev;

    if (what & BEV_EVENT_CONNECTED)
        return;                     /* a TLS handshake completed */
    if (what & BEV_EVENT_TIMEOUT && s->state != P_CLOSING && s->state != P_BUSY) {
        /* RFC 1939 3: the autologout timer; nothing is deleted. */
        log_info("pop3: autologout of unknown[%s]", s->ip);
        session_release(s);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        session_release(s);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    process(arg);
}

static void
set_timeouts(struct pop3_session *s)
{
    struct timeval tv = { s->ctx->cfg->pop3_timeout, 0 };
    bufferevent_set_timeouts(s->bev, &tv, &tv);
}

void
pop3_session_start(struct pop3_ctx *ctx, evutil_socket_t fd, const char *ip, bool implicit_tls)
{
    struct pop3_session *s = xcalloc(1, sizeof(*s));

    s->ctx = ctx;
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    s->free_ev = evtimer_new(ctx->base, free_cb, s);
    if (implicit_tls) {
        SSL *ssl = ctx->tls ? SSL_new(ctx->tls) : NULL;
        if (!ssl) {
            evutil_closesocket(fd);
            event_free(s->free_ev);
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
    s->next = ctx->sessions;
    if (ctx->sessions)
        ctx->sessions->prev = s;
    ctx->sessions = s;
    ctx->nsessions++;
    s->state = P_AUTH;
    set_timeouts(s);
    log_info("pop3: connect from unknown[%s]%s", ip, implicit_tls ? " (implicit TLS)" : "");
    say(s, "+OK postino POP3 server ready");
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void
pop3_stop_all(struct pop3_ctx *ctx)
{
    struct pop3_session *s = ctx->sessions, *next;
    for (; s; s = next) {
        next = s->next;
        say(s, "-ERR [SYS/TEMP] server shutting down");
        session_close(s);
    }
}

/* ---- the workers ------------------------------------------------------ */

void
pop3_work_run(struct workq_item **items, size_t n, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        struct pop3_job *j = (struct pop3_job *)items[i];
        switch (j->kind) {
        case J_CHECK:
            if (j->hash) {
                j->ok = users_password_check(j->pass, j->hash);
            } else {
                free(users_password_hash(j->pass));     /* same time, no answer */
                j->ok = false;
            }
            explicit_bzero(j->pass, sizeof(j->pass));
            break;
        case J_OPEN:
            j->drop = maildrop_open(j->path, j->errtext, sizeof(j->errtext));
            break;
        case J_RETR:
            if (maildrop_retr(j->drop, j->idx, j->top, &j->out) < 0)
                j->err = errno;
            break;
        case J_COMMIT:
            if (maildrop_commit(j->drop, j->deleted, j->errtext, sizeof(j->errtext)) > 0)
                j->err = EIO;
            break;
        }
    }
}

static void job_done(struct workq_item *item);

static struct pop3_job *
job_new(struct pop3_session *s, enum job_kind kind)
{
    struct pop3_job *j = xcalloc(1, sizeof(*j));
    j->s = s;
    j->kind = kind;
    j->item.done = job_done;
    return j;
}

/* job_push - hand j to a worker; the session reads nothing meanwhile */
static void
job_push(struct pop3_session *s, struct pop3_job *j, enum pop3_state after)
{
    s->job = j;
    s->after = after;
    s->state = P_BUSY;
    bufferevent_disable(s->bev, EV_READ);
    workq_push(s->ctx->wq, &j->item);
}

static bool
login_allowed(const struct pop3_session *s)
{
    return s->tls || (s->ctx->cfg->auth_plaintext_loopback
                      && (strncmp(s->ip, "127.", 4) == 0 || strcmp(s->ip, "::1") == 0));
}

static void
fail_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct pop3_session *s = arg;
    (void)fd;
    (void)what;

    event_free(s->fail_timer);
    s->fail_timer = NULL;
    s->state = P_AUTH;
    if (guard_blocked(s->ctx->guard, s->ip, time(NULL))) {
        say(s, "-ERR [AUTH] too many failed logins; try again later");
        session_close(s);
        return;
    }
    say(s, "-ERR [AUTH] Authentication failed");
    bufferevent_enable(s->bev, EV_READ);
    process(s);
}

/* login_failed - log, count, answer after the delay */
static void
login_failed(struct pop3_session *s, const char *user)
{
    char u[160];

    log_sanitize(user, strlen(user), u, sizeof(u));
    log_warn("unknown[%s]: POP3 authentication failed: user=<%s>", s->ip, u);
    if (guard_fail(s->ctx->guard, s->ip, time(NULL)))
        log_warn("unknown[%s]: blocked for %us after %u failed authentications", s->ip,
                 s->ctx->cfg->auth_block_time, s->ctx->cfg->auth_max_failures);
    s->user[0] = '\0';
    s->state = P_BUSY;
    bufferevent_disable(s->bev, EV_READ);
    s->fail_timer = evtimer_new(s->ctx->base, fail_timer_cb, s);
    struct timeval tv = { s->ctx->cfg->auth_failure_delay, 0 };
    evtimer_add(s->fail_timer, &tv);
}

/* logged_in - the password was right: lock the Maildir and take the drop */
static void
logged_in(struct pop3_session *s, const char *user)
{
    const char *at = strrchr(user, '@');
    char path[4096];

    snprintf(s->user, sizeof(s->user), "%s", user);
    for (char *p = s->user; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    at = strrchr(s->user, '@');
    if (!at) {
        login_failed(s, user);
        return;
    }
    guard_success(s->ctx->guard, s->ip, time(NULL));
    snprintf(path, sizeof(path), "%s/mail/%s/%.*s", s->ctx->cfg->data_dir, at + 1,
             (int)(at - s->user), s->user);
    if (!lock_take(s->ctx, path)) {
        say(s, "-ERR [IN-USE] the mailbox is in use by another session");
        s->user[0] = '\0';
        s->state = P_AUTH;
        return;
    }
    s->locked = true;
    s->path = xstrdup(path);
    log_info("pop3: unknown[%s]: login user=%s", s->ip, s->user);
    struct pop3_job *j = job_new(s, J_OPEN);
    j->path = xstrdup(path);
    job_push(s, j, P_TRANS);
}

static void
job_done(struct workq_item *item)
{
    struct pop3_job *j = (struct pop3_job *)item;
    struct pop3_session *s = j->s;

    if (s) {
        s->job = NULL;
        s->state = s->after;
        switch (j->kind) {
        case J_CHECK:
            s->state = P_AUTH;
            if (j->ok)
                logged_in(s, j->user);
            else
                login_failed(s, j->user);
            break;
        case J_OPEN:
            if (!j->drop) {
                say(s, "-ERR [SYS/TEMP] cannot open the mailbox: %s", j->errtext);
                lock_drop(s->ctx, s->path);
                s->locked = false;
                s->state = P_AUTH;
                break;
            }
            s->drop = j->drop;
            j->drop = NULL;
            s->deleted = xcalloc(s->drop->count ? s->drop->count : 1, sizeof(bool));
            say(s, "+OK maildrop has %zu messages (%llu octets)", s->drop->count,
                (unsigned long long)s->drop->total);
            break;
        case J_RETR:
            if (j->err) {
                say(s, "-ERR [SYS/TEMP] the message cannot be read: %s", strerror(j->err));
            } else {
                say(s, "+OK %s", j->top < 0 ? "message follows" : "top of message follows");
                bufferevent_write(s->bev, j->out.data, j->out.len);
            }
            break;
        case J_COMMIT:
            if (j->err)
                say(s, "-ERR [SYS/TEMP] some deleted messages were not removed: %s", j->errtext);
            else
                say(s, "+OK postino POP3 server signing off");
            session_close(s);
            break;
        }
        if (s->state != P_CLOSING && s->state != P_BUSY) {
            bufferevent_enable(s->bev, EV_READ);
            process(s);
        }
    } else if (j->kind == J_OPEN || j->own_drop) {
        maildrop_free(j->drop);
    }
    explicit_bzero(j->pass, sizeof(j->pass));
    free(j->hash);
    free(j->path);
    free(j->deleted);
    buf_free(&j->out);
    free(j);
}

/* ---- commands --------------------------------------------------------- */

/* check_login - a user and a password: hash check on a worker */
static void
check_login(struct pop3_session *s, const char *user, const char *pass)
{
    struct pop3_job *j = job_new(s, J_CHECK);

    snprintf(j->user, sizeof(j->user), "%s", user);
    snprintf(j->pass, sizeof(j->pass), "%s", pass);
    users_refresh(s->ctx->users);
    const char *h = users_hash(s->ctx->users, user);
    j->hash = h ? xstrdup(h) : NULL;
    job_push(s, j, P_AUTH);
}

static void
sasl_plain(struct pop3_session *s, const char *b64, size_t n)
{
    unsigned char msg[3 * SASL_FIELD_MAX + 8];
    char authzid[SASL_FIELD_MAX + 1], authcid[SASL_FIELD_MAX + 1], pass[SASL_FIELD_MAX + 1];
    long len = base64_decode(b64, n, msg, sizeof(msg));

    if (len < 0 || sasl_plain_parse(msg, (size_t)len, authzid, authcid, pass) < 0) {
        explicit_bzero(msg, sizeof(msg));
        say(s, "-ERR [AUTH] malformed PLAIN response");
        return;
    }
    explicit_bzero(msg, sizeof(msg));
    if (authzid[0] && strcasecmp(authzid, authcid) != 0) {
        explicit_bzero(pass, sizeof(pass));
        login_failed(s, authcid);
        return;
    }
    check_login(s, authcid, pass);
    explicit_bzero(pass, sizeof(pass));
}

/* msg_index - a message number to an index, "-ERR" when it is not one */
static bool
msg_index(struct pop3_session *s, uint32_t num, size_t *i)
{
    if (num == 0 || num > s->drop->count || s->deleted[num - 1]) {
        say(s, "-ERR no such message");
        return false;
    }
    *i = num - 1;
    return true;
}

static void
cmd_capa(struct pop3_session *s)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    evbuffer_add_printf(out, "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
                             "AUTH-RESP-CODE\r\nPIPELINING\r\n");
    if (s->state == P_AUTH && login_allowed(s))
        evbuffer_add_printf(out, "USER\r\nSASL PLAIN\r\n");
    if (!s->tls && s->ctx->tls && s->state == P_AUTH)
        evbuffer_add_printf(out, "STLS\r\n");
    evbuffer_add_printf(out, "IMPLEMENTATION postino\r\n.\r\n");
}

static void
cmd_stls(struct pop3_session *s)
{
    struct pop3_ctx *ctx = s->ctx;
    SSL *ssl;

    if (s->tls || !ctx->tls || s->state != P_AUTH || !(ssl = SSL_new(ctx->tls))) {
        say(s, "-ERR STLS not available now");
        return;
    }
    say(s, "+OK Begin TLS negotiation");
    /* RFC 2595 4: the bytes pipelined after STLS are thrown away. */
    if (!conn_starttls(ctx->base, &s->bev, ssl, "pop3: ", "STLS", s->ip)) {
        session_close(s);
        return;
    }
    struct bufferevent *tb = s->bev;
    s->tls = true;
    s->user[0] = '\0';
    bufferevent_setcb(tb, read_cb, write_cb, event_cb, s);
    set_timeouts(s);
    bufferevent_enable(tb, EV_READ | EV_WRITE);
}

static void
cmd_auth_state(struct pop3_session *s, const struct pop3_cmd *c)
{
    switch (c->verb) {
    case POP3_CMD_CAPA:
        cmd_capa(s);
        return;
    case POP3_CMD_STLS:
        cmd_stls(s);
        return;
    case POP3_CMD_QUIT:
        say(s, "+OK postino POP3 server signing off");
        session_close(s);
        return;
    case POP3_CMD_USER:
    case POP3_CMD_PASS:
    case POP3_CMD_AUTH:
        break;
    default:
        say(s, "-ERR command not valid before login");
        return;
    }
    if (!login_allowed(s)) {
        say(s, "-ERR [AUTH] cleartext login refused: use STLS first (or port 995)");
        return;
    }
    unsigned left = guard_blocked(s->ctx->guard, s->ip, time(NULL));
    if (left) {
        say(s, "-ERR [AUTH] too many failed logins; try again in %u s", left);
        session_close(s);
        return;
    }
    if (c->verb == POP3_CMD_USER) {
        if (c->arglen[0] > ADDR_MAX) {
            say(s, "-ERR [AUTH] no such user name");
            return;
        }
        memcpy(s->user, c->arg[0], c->arglen[0]);
        s->user[c->arglen[0]] = '\0';
        say(s, "+OK send PASS");
        return;
    }
    if (c->verb == POP3_CMD_PASS) {
        char pass[SASL_FIELD_MAX + 1];
        if (!s->user[0]) {
            say(s, "-ERR send USER first");
            return;
        }
        if (c->arglen[0] > SASL_FIELD_MAX) {
            login_failed(s, s->user);
            return;
        }
        memcpy(pass, c->arg[0], c->arglen[0]);
        pass[c->arglen[0]] = '\0';
        char user[ADDR_MAX + 1];
        snprintf(user, sizeof(user), "%s", s->user);
        s->user[0] = '\0';
        check_login(s, user, pass);
        explicit_bzero(pass, sizeof(pass));
        return;
    }
    /* AUTH PLAIN [initial-response] (RFC 5034) */
    if (c->argc < 1 || c->arglen[0] != 5 || strncasecmp(c->arg[0], "PLAIN", 5) != 0) {
        say(s, "-ERR [AUTH] unsupported mechanism");
        return;
    }
    if (c->argc == 2) {
        if (c->arglen[1] == 1 && c->arg[1][0] == '=')
            sasl_plain(s, "", 0);
        else
            sasl_plain(s, c->arg[1], c->arglen[1]);
        return;
    }
    s->sasl_wait = true;
    bufferevent_write(s->bev, "+ \r\n", 4);
}

static void
cmd_trans_state(struct pop3_session *s, const struct pop3_cmd *c)
{
    struct maildrop *d = s->drop;
    size_t i;

    switch (c->verb) {
    case POP3_CMD_CAPA:
        cmd_capa(s);
        return;
    case POP3_CMD_STAT: {
        size_t n = 0;
        unsigned long long octets = 0;
        for (size_t k = 0; k < d->count; k++)
            if (!s->deleted[k]) {
                n++;
                octets += d->msgs[k].size;
            }
        say(s, "+OK %zu %llu", n, octets);
        return;
    }
    case POP3_CMD_LIST:
    case POP3_CMD_UIDL: {
        bool uidl = c->verb == POP3_CMD_UIDL;
        if (c->argc == 1) {
            if (msg_index(s, c->num[0], &i)) {
                if (uidl)
                    say(s, "+OK %zu %s", i + 1, d->msgs[i].uid);
                else
                    say(s, "+OK %zu %llu", i + 1, (unsigned long long)d->msgs[i].size);
            }
            return;
        }
        struct evbuffer *out = bufferevent_get_output(s->bev);
        evbuffer_add_printf(out, "+OK\r\n");
        for (size_t k = 0; k < d->count; k++) {
            if (s->deleted[k])
                continue;
            if (uidl)
                evbuffer_add_printf(out, "%zu %s\r\n", k + 1, d->msgs[k].uid);
            else
                evbuffer_add_printf(out, "%zu %llu\r\n", k + 1,
                                    (unsigned long long)d->msgs[k].size);
        }
        evbuffer_add_printf(out, ".\r\n");
        return;
    }
    case POP3_CMD_RETR:
    case POP3_CMD_TOP: {
        if (!msg_index(s, c->num[0], &i))
            return;
        struct pop3_job *j = job_new(s, J_RETR);
        j->drop = d;
        j->idx = i;
        j->top = c->verb == POP3_CMD_TOP ? (long)c->num[1] : -1;
        job_push(s, j, P_TRANS);
        return;
    }
    case POP3_CMD_DELE:
        if (msg_index(s, c->num[0], &i)) {
            s->deleted[i] = true;
            say(s, "+OK message %zu deleted", i + 1);
        }
        return;
    case POP3_CMD_RSET:
        memset(s->deleted, 0, d->count * sizeof(bool));
        say(s, "+OK maildrop has %zu messages", d->count);
        return;
    case POP3_CMD_NOOP:
        say(s, "+OK");
        return;
    case POP3_CMD_QUIT: {
        /* RFC 1939 6: the UPDATE state. */
        size_t ndel = 0;
        for (size_t k = 0; k < d->count; k++)
            ndel += s->deleted[k];
        if (ndel == 0) {
            say(s, "+OK postino POP3 server signing off");
            session_close(s);
            return;
        }
        struct pop3_job *j = job_new(s, J_COMMIT);
        j->drop = d;
        j->deleted = xcalloc(d->count, sizeof(bool));
        memcpy(j->deleted, s->deleted, d->count * sizeof(bool));
        log_info("pop3: unknown[%s]: user=%s deletes %zu message(s)", s->ip, s->user, ndel);
        job_push(s, j, P_TRANS);
        return;
    }
    default:
        say(s, "-ERR command not valid after login");
        return;
    }
}

/* process - act on every complete line buffered, as far as the state allows */
static void
process(struct pop3_session *s)
{
    for (;;) {
        struct evbuffer *in = bufferevent_get_input(s->bev);
        if (s->state == P_BUSY || s->state == P_CLOSING)
            return;
        if (s->errors >= POP3_MAX_ERRORS) {
            say(s, "-ERR too many errors");
            session_close(s);
            return;
        }
        struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);
        size_t avail = evbuffer_get_length(in);
        if (eol.pos < 0) {
            if (avail > POP3_LINE_MAX) {
                say(s, "-ERR line too long");
                session_close(s);
            }
            return;
        }
        size_t len = (size_t)eol.pos + 1;
        if (len > POP3_LINE_MAX) {
            evbuffer_drain(in, len);
            say(s, "-ERR line too long");
            continue;
        }
        evbuffer_remove(in, s->line, len);
        len--;
        if (len && s->line[len - 1] == '\r')
            len--;
        s->line[len] = '\0';
        if (s->sasl_wait) {
            s->sasl_wait = false;
            if (len == 1 && s->line[0] == '*')
                say(s, "-ERR authentication cancelled");
            else
                sasl_plain(s, s->line, len);
            explicit_bzero(s->line, len);
            continue;
        }
        struct pop3_cmd c;
        enum pop3_cmd_err e = pop3_cmd_parse(s->line, len, &c);
        if (e != POP3_CMD_OK) {
            say(s, "-ERR %s", pop3_cmd_strerror(e));
        } else if (s->state == P_AUTH) {
            cmd_auth_state(s, &c);
        } else {
            cmd_trans_state(s, &c);
        }
        explicit_bzero(s->line, len);       /* it may have held a password */
    }
}
