/*
 * session - one IMAP session on the event loop (RFC 9051; IMAP4rev1
 * clients per RFC 3501); see imap.h.
 *
 * States (RFC 9051 3): not authenticated (CAPABILITY, NOOP, LOGOUT, ID,
 * STARTTLS, LOGIN, AUTHENTICATE PLAIN) → authenticated → selected (the
 * mailbox commands, run by exec.c on a worker) → logout. While a worker
 * has the session's job, nothing is read. Logins are allowed only inside
 * TLS (or from loopback when auth_plaintext_loopback allows it), delayed
 * and counted per IP on failure like SMTP AUTH and POP3.
 *
 * Framing: imap_scan() finds where a command ends, literals included; a
 * synchronising literal gets its "+" continuation, a too large one is
 * refused before it is sent (or skipped, when it is {N+}). IDLE (RFC
 * 2177) watches the selected folder's new/ and cur/ with inotify, and
 * every IDLE_POLL seconds in case a change went unnoticed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

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
#include "imap/exec.h"
#include "imap/imap.h"
#include "imap/imap_parse.h"
#include "imap/store.h"

#define IMAP_MAX_ERRORS     20
#define IMAP_OTHER_LITERAL  (64 * 1024)     /* literals of commands but APPEND */
#define IDLE_POLL           30              /* seconds between IDLE's own looks */
#define AUTH_LINE_MAX       (4 * SASL_FIELD_MAX)
#define OUT_LOW             (1u << 20)      /* write_cb below this much output */

#define CAPS_COMMON "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ID ENABLE IDLE"
#define CAPS_AUTHED CAPS_COMMON " NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN LIST-EXTENDED" \
                    " LIST-STATUS SPECIAL-USE ESEARCH STATUS=SIZE BINARY"

enum imap_state { I_NOTAUTH, I_AUTH, I_SELECTED, I_LOGOUT };

struct imap_job;

struct imap_session {
    struct imap_ctx     *ctx;
    struct bufferevent  *bev;
    struct imap_session *prev, *next;
    enum imap_state      state;
    char                 ip[64];
    bool                 tls;
    bool                 busy;          /* a job or the failure delay: read nothing */
    bool                 released;
    unsigned             errors;
    struct imap_scan     scan;
    size_t               need;          /* input octets before scanning again */
    uint64_t             skip;          /* octets of a refused {N+} literal to drop */
    bool                 auth_wait;     /* AUTHENTICATE: the next line is the response */
    bool                 discard;       /* dropping the rest of a too long line */
    char                 auth_tag[IMAP_TAG_MAX + 1];
    bool                 idle;          /* in IDLE, waiting for DONE */
    char                 idle_tag[IMAP_TAG_MAX + 1];
    bool                 idle_dirty;    /* a change seen while a job ran */
    int                  ino_fd;        /* IDLE: inotify on new/ and cur/, or -1 */
    struct event        *ino_ev;
    struct event        *idle_timer;
    struct imap_user    *user;          /* NULL before login */
    struct imap_job     *job;
    bool                 parked;        /* job: the next part of a FETCH answer,
                                           pushed once the output drains */
    struct event        *free_ev;       /* deferred free; also the closing deadline */
    struct event        *fail_timer;
    char                 fail_tag[IMAP_TAG_MAX + 1];
    struct evbuffer_cb_entry *under_cb;
};

enum job_kind { J_LOGIN, J_EXEC, J_UPDATES };

struct imap_job {
    struct workq_item    item;
    struct imap_session *s;             /* NULL once the session is gone */
    enum job_kind        kind;
    char                 tag[IMAP_TAG_MAX + 1];
    char                 user[SASL_FIELD_MAX + 1];  /* J_LOGIN */
    char                 pass[SASL_FIELD_MAX + 1];
    char                *hash;
    bool                 ok;
    struct imap_cmd      cmd;           /* J_EXEC */
    struct imap_user    *u;             /* J_EXEC, J_UPDATES */
    bool                 own_user;      /* the session is gone: free u when done */
    enum imap_exec_end   end;
    struct buf           out;
};

static void process(struct imap_session *s);
static void job_free(struct imap_job *j);
static void session_close(struct imap_session *s);
static void session_release(struct imap_session *s);
static void idle_stop(struct imap_session *s);

static void say(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* say - one response line (the CRLF added) */
static void
say(struct imap_session *s, const char *fmt, ...)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
    va_list ap;

    va_start(ap, fmt);
    evbuffer_add_vprintf(out, fmt, ap);
    va_end(ap);
    evbuffer_add(out, "\r\n", 2);
}

/* bad - "tag BAD text", counted: too many and the session ends */
static void
bad(struct imap_session *s, const char *tag, const char *text)
{
    say(s, "%s BAD %s", tag && tag[0] ? tag : "*", text);
    s->errors++;
}

/* ---- life --------------------------------------------------------------- */

static void
free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct imap_session *s = arg;
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

/* session_release - end the session; the memory goes on the next turn */
static void
session_release(struct imap_session *s)
{
    struct imap_ctx *ctx = s->ctx;

    if (s->released)
        return;
    s->released = true;
    s->state = I_LOGOUT;
    log_info("imap: disconnect from unknown[%s]%s%s", s->ip, s->user ? " user=" : "",
             s->user ? s->user->name : "");
    idle_stop(s);
    if (s->job && s->parked) {
        job_free(s->job);           /* not with a worker: ours to free */
        s->job = NULL;
    } else if (s->job) {
        s->job->s = NULL;
        if (s->job->u) {
            s->job->own_user = true;    /* the worker may still use it */
            s->user = NULL;
        }
    }
    if (s->fail_timer)
        event_free(s->fail_timer);
    if (s->user) {
        imap_user_free(s->user);
        free(s->user);
    }
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

/* close_when_flushed - release once the last response has left */
static void
close_when_flushed(struct imap_session *s)
{
    if (!s->released && conn_drained(s->bev, &s->under_cb, under_out_cb, s))
        session_release(s);
}

static void
session_close(struct imap_session *s)
{
    s->state = I_LOGOUT;
    idle_stop(s);
    bufferevent_disable(s->bev, EV_READ);
    struct timeval deadline = { 10, 0 };
    evtimer_add(s->free_ev, &deadline);
    bufferevent_enable(s->bev, EV_WRITE);
    close_when_flushed(s);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
    struct imap_session *s = arg;
    (void)bev;
    if (s->state == I_LOGOUT) {
        close_when_flushed(s);
    } else if (s->parked) {
        /* The output went below OUT_LOW: the next part of the answer. */
        s->parked = false;
        workq_push(s->ctx->wq, &s->job->item);
    }
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct imap_session *s = arg;
    (void)bev;

    if (what & BEV_EVENT_CONNECTED)
        return;                     /* a TLS handshake completed */
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && s->state != I_LOGOUT) {
        /* (reading is off while busy, so this is the client's silence)
         * RFC 9051 5.4: the autologout timer */
        log_info("imap: autologout of unknown[%s]", s->ip);
        say(s, "* BYE Autologout; idle for too long");
        session_close(s);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
        session_release(s);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    process(arg);
}

static void
set_timeouts(struct imap_session *s)
{
    struct timeval rt = { s->ctx->cfg->imap_timeout, 0 };
    struct timeval wt = { s->ctx->cfg->smtp_timeout, 0 };
    bufferevent_set_timeouts(s->bev, &rt, &wt);
}

/* capabilities - what this session may use now (RFC 9051 7.2.2) */
static void
capabilities(struct imap_session *s, struct buf *b)
{
    if (s->state != I_NOTAUTH) {
        buf_puts(b, CAPS_AUTHED);
        return;
    }
    buf_puts(b, CAPS_COMMON);
    if (!s->tls && s->ctx->tls)
        buf_puts(b, " STARTTLS");
    bool allowed = s->tls || (s->ctx->cfg->auth_plaintext_loopback
                              && (strncmp(s->ip, "127.", 4) == 0 || strcmp(s->ip, "::1") == 0));
    /* RFC 9051 6.2.3: LOGINDISABLED while LOGIN is not allowed */
    buf_puts(b, allowed ? " AUTH=PLAIN" : " LOGINDISABLED");
}

void
imap_session_start(struct imap_ctx *ctx, evutil_socket_t fd, const char *ip, bool implicit_tls)
{
    struct imap_session *s = xcalloc(1, sizeof(*s));

    s->ctx = ctx;
    s->ino_fd = -1;
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
    bufferevent_setwatermark(s->bev, EV_WRITE, OUT_LOW, 0);
    s->next = ctx->sessions;
    if (ctx->sessions)
        ctx->sessions->prev = s;
    ctx->sessions = s;
    ctx->nsessions++;
    s->state = I_NOTAUTH;
    imap_scan_init(&s->scan);
    set_timeouts(s);
    log_info("imap: connect from unknown[%s]%s", ip, implicit_tls ? " (implicit TLS)" : "");
    struct buf caps = BUF_INIT;
    capabilities(s, &caps);
    say(s, "* OK [CAPABILITY %s] postino IMAP server ready", caps.data);
    buf_free(&caps);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void
imap_stop_all(struct imap_ctx *ctx)
{
    struct imap_session *s = ctx->sessions, *next;
    for (; s; s = next) {
        next = s->next;
        if (s->state == I_LOGOUT)
            continue;
        say(s, "* BYE Server shutting down");
        session_close(s);
    }
}

/* ---- the workers ---------------------------------------------------------- */

void
imap_work_run(struct workq_item **items, size_t n, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        struct imap_job *j = (struct imap_job *)items[i];
        switch (j->kind) {
        case J_LOGIN:
            if (j->hash) {
                j->ok = users_password_check(j->pass, j->hash);
            } else {
                free(users_password_hash(j->pass));     /* same time, no answer */
                j->ok = false;
            }
            explicit_bzero(j->pass, sizeof(j->pass));
            break;
        case J_EXEC:
            j->end = imap_exec(j->u, &j->cmd, &j->out);
            break;
        case J_UPDATES:
            j->end = imap_exec_updates(j->u, &j->out);
            break;
        }
    }
}

static void job_done(struct workq_item *item);

static void
free_out(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)data);
}

/* send_out - the worker's answer b to the client; its memory is handed
 * to the output buffer, not copied (a FETCH part is megabytes) */
static void
send_out(struct imap_session *s, struct buf *b)
{
    size_t len = b->len;
    if (len == 0)
        return;
    char *data = buf_steal(b);
    if (evbuffer_add_reference(bufferevent_get_output(s->bev), data, len, free_out, NULL) < 0)
        free(data);
}

static struct imap_job *
job_new(struct imap_session *s, enum job_kind kind, const char *tag)
{
    struct imap_job *j = xcalloc(1, sizeof(*j));
    j->s = s;
    j->kind = kind;
    snprintf(j->tag, sizeof(j->tag), "%s", tag);
    j->item.done = job_done;
    return j;
}

/* job_push - hand j to a worker; the session reads nothing meanwhile */
static void
job_push(struct imap_session *s, struct imap_job *j)
{
    s->job = j;
    s->busy = true;
    bufferevent_disable(s->bev, EV_READ);
    workq_push(s->ctx->wq, &j->item);
}

/* resume - the job or the delay is over: read again */
static void
resume(struct imap_session *s)
{
    s->busy = false;
    if (s->state == I_LOGOUT)
        return;
    bufferevent_enable(s->bev, EV_READ);
    process(s);
}

static void
fail_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct imap_session *s = arg;
    (void)fd;
    (void)what;

    event_free(s->fail_timer);
    s->fail_timer = NULL;
    if (guard_blocked(s->ctx->guard, s->ip, time(NULL))) {
        say(s, "%s NO [UNAVAILABLE] Too many failed logins; try again later", s->fail_tag);
        say(s, "* BYE Too many failed logins");
        session_close(s);
        return;
    }
    say(s, "%s NO [AUTHENTICATIONFAILED] Authentication failed", s->fail_tag);
    resume(s);
}

/* login_failed - log, count, answer after the delay */
static void
login_failed(struct imap_session *s, const char *tag, const char *user)
{
    char u[160];

    log_sanitize(user, strlen(user), u, sizeof(u));
    log_warn("unknown[%s]: IMAP authentication failed: user=<%s>", s->ip, u);
    if (guard_fail(s->ctx->guard, s->ip, time(NULL)))
        log_warn("unknown[%s]: blocked for %us after %u failed authentications", s->ip,
                 s->ctx->cfg->auth_block_time, s->ctx->cfg->auth_max_failures);
    snprintf(s->fail_tag, sizeof(s->fail_tag), "%s", tag);
    s->busy = true;
    bufferevent_disable(s->bev, EV_READ);
    s->fail_timer = evtimer_new(s->ctx->base, fail_timer_cb, s);
    struct timeval tv = { s->ctx->cfg->auth_failure_delay, 0 };
    evtimer_add(s->fail_timer, &tv);
}

/* logged_in - the password was right: the user's Maildir is the root */
static void
logged_in(struct imap_session *s, const char *tag, const char *user)
{
    struct imap_user *u = xcalloc(1, sizeof(*u));

    snprintf(u->name, sizeof(u->name), "%s", user);
    for (char *p = u->name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    const char *at = strrchr(u->name, '@');
    if (!at) {
        free(u);
        login_failed(s, tag, user);
        return;
    }
    guard_success(s->ctx->guard, s->ip, time(NULL));
    u->root = xasprintf("%s/mail/%s/%.*s", s->ctx->cfg->data_dir, at + 1,
                        (int)(at - u->name), u->name);
    u->append_max = s->ctx->cfg->message_size_limit;
    s->user = u;
    s->state = I_AUTH;
    log_info("imap: unknown[%s]: login user=%s", s->ip, u->name);
    struct buf caps = BUF_INIT;
    capabilities(s, &caps);
    say(s, "%s OK [CAPABILITY %s] Logged in", tag, caps.data);
    buf_free(&caps);
}

static void
job_done(struct workq_item *item)
{
    struct imap_job *j = (struct imap_job *)item;
    struct imap_session *s = j->s;

    if (s && s->state == I_LOGOUT) {
        /* "* BYE" went out meanwhile (shutdown): nothing may follow it
         * (RFC 9051 7.1.5); the session closes once that has left */
        s->job = NULL;
        s->busy = false;
        s->parked = false;
    } else if (s) {
        s->job = NULL;
        switch (j->kind) {
        case J_LOGIN:
            s->busy = false;
            if (j->ok)
                logged_in(s, j->tag, j->user);
            else
                login_failed(s, j->tag, j->user);
            break;
        case J_EXEC:
        case J_UPDATES:
            send_out(s, &j->out);
            s->state = s->user->sel ? I_SELECTED : I_AUTH;
            if (j->end == IMAP_EXEC_MORE) {
                /* a long FETCH answer: the next part once this one left */
                buf_reset(&j->out);
                s->job = j;
                s->parked = true;
                if (evbuffer_get_length(bufferevent_get_output(s->bev)) <= OUT_LOW)
                    write_cb(s->bev, s);
                return;
            }
            if (j->end == IMAP_EXEC_BYE) {
                session_close(s);
                break;
            }
            if (j->kind == J_UPDATES && s->idle && s->idle_dirty) {
                s->idle_dirty = false;
                s->job = NULL;
                struct imap_job *again = job_new(s, J_UPDATES, "*");
                again->u = s->user;
                job_push(s, again);
                break;
            }
            break;
        }
        if (!s->job && !s->fail_timer)
            resume(s);
    } else if (j->own_user) {
        imap_user_free(j->u);
        free(j->u);
    }
    job_free(j);
}

/* job_free - release j (not the user it worked for) */
static void
job_free(struct imap_job *j)
{
    explicit_bzero(j->pass, sizeof(j->pass));
    free(j->hash);
    imap_cmd_free(&j->cmd);
    buf_free(&j->out);
    free(j);
}

/* ---- IDLE (RFC 2177) -------------------------------------------------------- */

/* idle_look - the folder may have changed: look on a worker */
static void
idle_look(struct imap_session *s)
{
    if (!s->idle || s->state == I_LOGOUT)
        return;
    if (s->busy) {
        s->idle_dirty = true;
        return;
    }
    struct imap_job *j = job_new(s, J_UPDATES, "*");
    j->u = s->user;
    job_push(s, j);
}

static void
ino_cb(evutil_socket_t fd, short what, void *arg)
{
    char ev[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    (void)what;

    while (read(fd, ev, sizeof(ev)) > 0)
        ;                           /* which file does not matter */
    idle_look(arg);
}

static void
idle_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    idle_look(arg);
}

static void
idle_start(struct imap_session *s, const char *tag)
{
    snprintf(s->idle_tag, sizeof(s->idle_tag), "%s", tag);
    s->idle = true;
    say(s, "+ idling");
    if (s->user->sel) {
        s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (s->ino_fd >= 0) {
            char dir[4096];
            uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO;
            snprintf(dir, sizeof(dir), "%s/new", s->user->sel->path);
            inotify_add_watch(s->ino_fd, dir, mask);
            snprintf(dir, sizeof(dir), "%s/cur", s->user->sel->path);
            inotify_add_watch(s->ino_fd, dir, mask);
            s->ino_ev = event_new(s->ctx->base, s->ino_fd, EV_READ | EV_PERSIST, ino_cb, s);
            event_add(s->ino_ev, NULL);
        } else {
            log_warn("imap: inotify: %s; IDLE looks every %d s", strerror(errno), IDLE_POLL);
        }
    }
    s->idle_timer = event_new(s->ctx->base, -1, EV_PERSIST, idle_timer_cb, s);
    struct timeval tv = { IDLE_POLL, 0 };
    evtimer_add(s->idle_timer, &tv);
    idle_look(s);                   /* what changed since the last command */
}

static void
idle_stop(struct imap_session *s)
{
    s->idle = false;
    s->idle_dirty = false;
    if (s->ino_ev)
        event_free(s->ino_ev);
    s->ino_ev = NULL;
    if (s->ino_fd >= 0)
        close(s->ino_fd);
    s->ino_fd = -1;
    if (s->idle_timer)
        event_free(s->idle_timer);
    s->idle_timer = NULL;
}

/* ---- commands on the loop ----------------------------------------------------- */

static bool
login_allowed(const struct imap_session *s)
{
    return s->tls || (s->ctx->cfg->auth_plaintext_loopback
                      && (strncmp(s->ip, "127.", 4) == 0 || strcmp(s->ip, "::1") == 0));
}

/* check_login - a user and a password: the hash is checked on a worker */
static void
check_login(struct imap_session *s, const char *tag, const char *user, const char *pass)
{
    struct imap_job *j = job_new(s, J_LOGIN, tag);

    snprintf(j->user, sizeof(j->user), "%s", user);
    snprintf(j->pass, sizeof(j->pass), "%s", pass);
    users_refresh(s->ctx->users);
    const char *h = users_hash(s->ctx->users, user);
    j->hash = h ? xstrdup(h) : NULL;
    job_push(s, j);
}

/* sasl_plain - the AUTHENTICATE PLAIN response b64[0..n) (RFC 4616) */
static void
sasl_plain(struct imap_session *s, const char *tag, const char *b64, size_t n)
{
    unsigned char msg[3 * SASL_FIELD_MAX + 8];
    char authzid[SASL_FIELD_MAX + 1], authcid[SASL_FIELD_MAX + 1], pass[SASL_FIELD_MAX + 1];
    long len = base64_decode(b64, n, msg, sizeof(msg));

    if (len < 0 || sasl_plain_parse(msg, (size_t)len, authzid, authcid, pass) < 0) {
        explicit_bzero(msg, sizeof(msg));
        bad(s, tag, "Malformed PLAIN response");
        return;
    }
    explicit_bzero(msg, sizeof(msg));
    if (authzid[0] && strcasecmp(authzid, authcid) != 0) {
        explicit_bzero(pass, sizeof(pass));
        login_failed(s, tag, authcid);
        return;
    }
    check_login(s, tag, authcid, pass);
    explicit_bzero(pass, sizeof(pass));
}

/* login_gate - may this session try a login now? Answers when not. */
static bool
login_gate(struct imap_session *s, const char *tag)
{
    if (!login_allowed(s)) {
        say(s, "%s NO [PRIVACYREQUIRED] Log in inside TLS: use STARTTLS first (or port 993)",
            tag);
        return false;
    }
    unsigned left = guard_blocked(s->ctx->guard, s->ip, time(NULL));
    if (left) {
        say(s, "%s NO [UNAVAILABLE] Too many failed logins; try again in %u s", tag, left);
        say(s, "* BYE Too many failed logins");
        session_close(s);
        return false;
    }
    return true;
}

static void
cmd_login(struct imap_session *s, const struct imap_cmd *c)
{
    const struct imap_val *u = imap_cmd_arg(c, 0), *p = imap_cmd_arg(c, 1);

    if (c->nargs != 2 || !imap_val_astring(u) || !imap_val_astring(p)) {
        bad(s, c->tag, "LOGIN needs a user name and a password");
        return;
    }
    if (!login_gate(s, c->tag))
        return;
    if (u->len > SASL_FIELD_MAX || p->len > SASL_FIELD_MAX) {
        login_failed(s, c->tag, u->len > SASL_FIELD_MAX ? "(too long)" : u->s);
        return;
    }
    check_login(s, c->tag, u->s, p->s);
}

static void
cmd_authenticate(struct imap_session *s, const struct imap_cmd *c)
{
    const struct imap_val *m = imap_cmd_arg(c, 0), *ir = imap_cmd_arg(c, 1);

    if (c->nargs < 1 || c->nargs > 2 || m->type != IMAP_VAL_ATOM) {
        bad(s, c->tag, "AUTHENTICATE needs a mechanism");
        return;
    }
    if (!imap_val_is(m, "PLAIN")) {
        say(s, "%s NO [CANNOT] Unsupported mechanism; use PLAIN", c->tag);
        return;
    }
    if (!login_gate(s, c->tag))
        return;
    if (ir) {
        /* RFC 4959 SASL-IR: "=" is an empty initial response */
        if (ir->len == 1 && ir->s[0] == '=')
            sasl_plain(s, c->tag, "", 0);
        else
            sasl_plain(s, c->tag, ir->s, ir->len);
        return;
    }
    snprintf(s->auth_tag, sizeof(s->auth_tag), "%s", c->tag);
    s->auth_wait = true;
    say(s, "+ ");
}

static void
cmd_starttls(struct imap_session *s, const struct imap_cmd *c)
{
    struct imap_ctx *ctx = s->ctx;
    SSL *ssl;

    if (s->tls || !ctx->tls || !(ssl = SSL_new(ctx->tls))) {
        bad(s, c->tag, "STARTTLS not available now");
        return;
    }
    say(s, "%s OK Begin TLS negotiation now", c->tag);
    /* RFC 9051 6.2.1: bytes pipelined after STARTTLS are thrown away */
    if (!conn_starttls(ctx->base, &s->bev, ssl, "imap: ", "STARTTLS", s->ip)) {
        session_close(s);
        return;
    }
    struct bufferevent *tb = s->bev;
    s->tls = true;
    imap_scan_init(&s->scan);
    s->need = 0;
    bufferevent_setcb(tb, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(tb, EV_WRITE, OUT_LOW, 0);
    set_timeouts(s);
    bufferevent_enable(tb, EV_READ | EV_WRITE);
}

/* command - act on one parsed command */
static void
command(struct imap_session *s, struct imap_cmd *c)
{
    const char *n = c->name;

    if (strcmp(n, "CAPABILITY") == 0) {
        struct buf caps = BUF_INIT;
        capabilities(s, &caps);
        say(s, "* CAPABILITY %s", caps.data);
        say(s, "%s OK CAPABILITY completed", c->tag);
        buf_free(&caps);
        return;
    }
    if (strcmp(n, "LOGOUT") == 0) {
        say(s, "* BYE Logging out");
        say(s, "%s OK LOGOUT completed", c->tag);
        session_close(s);
        return;
    }
    if (strcmp(n, "ID") == 0) {
        /* RFC 2971: the client's list is not kept */
        say(s, "* ID (\"name\" \"postino\")");
        say(s, "%s OK ID completed", c->tag);
        return;
    }
    if (s->state == I_NOTAUTH) {
        if (strcmp(n, "NOOP") == 0)
            say(s, "%s OK NOOP completed", c->tag);
        else if (strcmp(n, "STARTTLS") == 0)
            cmd_starttls(s, c);
        else if (strcmp(n, "LOGIN") == 0)
            cmd_login(s, c);
        else if (strcmp(n, "AUTHENTICATE") == 0)
            cmd_authenticate(s, c);
        else
            bad(s, c->tag, "Log in first");
        return;
    }
    if (strcmp(n, "STARTTLS") == 0 || strcmp(n, "LOGIN") == 0
        || strcmp(n, "AUTHENTICATE") == 0) {
        bad(s, c->tag, "Already logged in");
        return;
    }
    if (strcmp(n, "IDLE") == 0) {
        idle_start(s, c->tag);
        return;
    }
    struct imap_job *j = job_new(s, J_EXEC, c->tag);
    j->cmd = *c;                    /* moved: the job frees it */
    memset(c, 0, sizeof(*c));
    j->u = s->user;
    job_push(s, j);
}

/* take_line - the next line of the input without its CRLF into line
 * (at most max octets): 1, 0 when none is complete, -1 when too long */
static int
take_line(struct imap_session *s, char *line, size_t max, size_t *len)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);
    struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);

    if (eol.pos < 0) {
        size_t have = evbuffer_get_length(in);
        if (have <= max)
            return 0;
        evbuffer_drain(in, have);   /* too long: the rest of it goes too */
        s->discard = true;
        return -1;
    }
    size_t n = (size_t)eol.pos + 1;
    if (n > max + 2) {
        evbuffer_drain(in, n);
        return -1;
    }
    evbuffer_remove(in, line, n);
    n--;
    if (n && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    *len = n;
    return 1;
}

/* special_line - IDLE's DONE, or an AUTHENTICATE response: true when
 * the caller should go on */
static bool
special_line(struct imap_session *s)
{
    char line[AUTH_LINE_MAX + 3];
    size_t len = 0;
    int r = take_line(s, line, AUTH_LINE_MAX, &len);

    if (r == 0)
        return false;
    if (s->idle) {
        bool done = r > 0 && len == 4 && strncasecmp(line, "DONE", 4) == 0;
        idle_stop(s);
        if (done)
            say(s, "%s OK IDLE terminated", s->idle_tag);
        else
            bad(s, s->idle_tag, "Expected DONE");
        return true;
    }
    s->auth_wait = false;
    if (r < 0)
        bad(s, s->auth_tag, "Response too long");
    else if (len == 1 && line[0] == '*')
        bad(s, s->auth_tag, "Authentication cancelled");     /* RFC 9051 6.2.2 */
    else
        sasl_plain(s, s->auth_tag, line, len);
    explicit_bzero(line, sizeof(line));
    return true;
}

/* process - act on every complete command buffered, as far as the state allows */
static void
process(struct imap_session *s)
{
    for (;;) {
        if (s->busy || s->state == I_LOGOUT)
            return;
        if (s->errors >= IMAP_MAX_ERRORS) {
            say(s, "* BYE Too many errors");
            session_close(s);
            return;
        }
        struct evbuffer *in = bufferevent_get_input(s->bev);
        size_t avail = evbuffer_get_length(in);
        if (s->skip) {
            size_t d = avail < s->skip ? avail : (size_t)s->skip;
            evbuffer_drain(in, d);
            s->skip -= d;
            if (s->skip)
                return;
            imap_scan_resume(&s->scan);
            s->need = 0;
            continue;
        }
        if (s->discard) {
            struct evbuffer_ptr eol = evbuffer_search(in, "\n", 1, NULL);
            if (eol.pos < 0) {
                evbuffer_drain(in, avail);
                return;
            }
            evbuffer_drain(in, (size_t)eol.pos + 1);
            s->discard = false;
            continue;
        }
        if (s->idle || s->auth_wait) {
            if (!special_line(s))
                return;
            continue;
        }
        if (avail == 0 || avail < s->need)
            return;
        const char *p = (const char *)evbuffer_pullup(in, -1);
        struct imap_scan_limits lim = { s->ctx->cfg->message_size_limit, IMAP_OTHER_LITERAL, 0 };
        struct imap_scan_out so;
        switch (imap_scan(&s->scan, p, avail, &lim, &so)) {
        case IMAP_SCAN_MORE:
            /* a literal's octets need not be looked at until all are here */
            s->need = s->scan.in_lit ? s->scan.lit_end : avail + 1;
            return;
        case IMAP_SCAN_LITERAL:
            if (s->state == I_NOTAUTH && strcmp(so.name, "LOGIN") != 0
                && strcmp(so.name, "AUTHENTICATE") != 0) {
                /* no literals for strangers but their credentials */
                bad(s, so.tag, "Log in first");
                evbuffer_drain(in, so.len);
                imap_scan_init(&s->scan);
                s->need = 0;
                continue;
            }
            say(s, "+ Ready for literal data");
            s->need = so.len + so.literal;
            continue;
        case IMAP_SCAN_TOOBIG:
            if (so.again)
                ;                   /* that command was answered already */
            else if (strcmp(so.name, "APPEND") == 0)
                say(s, "%s NO [TOOBIG] Message too large", so.tag[0] ? so.tag : "*");
            else
                bad(s, so.tag, "Literal too large");
            evbuffer_drain(in, so.len);
            if (so.nonsync) {
                s->skip = so.literal;
            } else {
                imap_scan_init(&s->scan);
            }
            s->need = 0;
            continue;
        case IMAP_SCAN_SKIPPED:
            evbuffer_drain(in, so.len);
            imap_scan_init(&s->scan);
            s->need = 0;
            continue;
        case IMAP_SCAN_TOOLONG:
            say(s, "* BYE Command line too long");
            session_close(s);
            return;
        case IMAP_SCAN_COMMAND:
            break;
        }
        struct imap_cmd c;
        const char *why = "Syntax error";
        memset(&c, 0, sizeof(c));
        bool ok = imap_parse(p, so.len, &c, &why);
        evbuffer_drain(in, so.len);
        imap_scan_init(&s->scan);
        s->need = 0;
        if (!ok)
            bad(s, c.tag, why);
        else
            command(s, &c);
        if (c.arena && strcmp(c.name, "LOGIN") == 0)
            explicit_bzero(c.arena, c.arena_len);   /* it held a password */
        imap_cmd_free(&c);
    }
}
