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
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libevent */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

/* lower layers */
#include "util/buf.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "mail/address.h"
#include "mail/data_reader.h"
#include "mail/smtp_cmd.h"
#include "auth/users.h"
#include "deliver/aliases.h"
#include "deliver/resolve.h"
#include "queue/envelope.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "smtp/smtp.h"

/*
 * Command lines: RFC 5321 4.5.3.1.4 sets 512 octets, and allows
 * extensions to add to it (SIZE, the DSN parameters of RFC 3461 with an
 * ORCPT of up to 500 characters, AUTH=). 2048 covers them all.
 */
#define SMTP_LINE_MAX   2048
/* Text lines: 1000 octets with the CRLF (RFC 5321 4.5.3.1.6). */
#define SMTP_TEXT_MAX   1000
/* Errors before the session is closed (chasquid closes after 3 per
 * transaction; Postfix's smtpd_hard_error_limit is 20). */
#define SMTP_MAX_ERRORS 20
/* Stop reading while this much output is waiting: a client that
 * pipelines without reading replies cannot make us buffer without end. */
#define SMTP_OUT_HIGH   (256 * 1024)

enum smtp_state {
    SMTP_STATE_INIT,        /* greeted, no HELO/EHLO yet */
    SMTP_STATE_READY,       /* HELO/EHLO done, no transaction */
    SMTP_STATE_MAIL,        /* MAIL accepted, no recipient yet */
    SMTP_STATE_RCPT,        /* at least one recipient */
    SMTP_STATE_DATA,        /* reading DATA content */
    SMTP_STATE_BDAT,        /* reading the octets of a BDAT chunk */
    SMTP_STATE_COMMIT,      /* waiting for the queue: read nothing */
    SMTP_STATE_CLOSING,     /* flushing the last reply */
};

static const char *const state_names[] = {
    "INIT", "READY", "MAIL", "RCPT", "DATA", "BDAT", "COMMIT", "CLOSING",
};

/* The transaction: apart from the session (OpenSMTPD's smtp_tx). */
struct smtp_tx {
    struct envelope   *env;
    struct mail_params mp;
    struct data_reader dr;
    bool               reader_on;   /* dr initialised */
    bool               bdat;        /* BDAT used: DATA is out of sequence */
    size_t             bdat_octets; /* octets of all chunks so far */
    unsigned           nrcpt;       /* RCPT commands accepted */
    size_t             header_len;  /* of our Received: header (LF form) */
    struct buf         content;     /* Received: header, then the message */
};

struct smtp_session {
    struct smtp_ctx     *ctx;
    struct bufferevent  *bev;
    struct smtp_session *prev, *next;
    enum smtp_state      state;
    char                 ip[64];
    char                 helo[256];
    bool                 esmtp;
    bool                 discarding;    /* throwing away an over-long line */
    bool                 bdat_discard;  /* chunk read after a BDAT refused */
    bool                 bdat_last;     /* the chunk being read ends the message */
    size_t               bdat_left;     /* octets of the chunk still to read */
    enum smtp_state      bdat_prev;     /* state to return to after a refused chunk */
    unsigned             errors;
    unsigned             commands;
    unsigned             messages;
    struct smtp_tx      *tx;
    struct smtp_commit  *commit;        /* under way, or NULL */
    char                 line[SMTP_LINE_MAX + 1];
};

/* A commit under way; outlives its session if the client goes away. */
struct smtp_commit {
    struct spool_commit  sc;
    struct smtp_ctx     *ctx;
    struct smtp_session *sess;          /* NULL once the session is gone */
};

typedef void (*smtp_handler)(struct smtp_session *s, const struct smtp_cmd *cmd);

static void session_process(struct smtp_session *s);
static void session_close(struct smtp_session *s);

/* enter_state - change state (one place, so transitions can be traced) */
static void
enter_state(struct smtp_session *s, enum smtp_state st)
{
    s->state = st;
}

/* reply - send one reply line; code >= 400 counts as an error */
static void reply(struct smtp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
reply(struct smtp_session *s, int code, const char *fmt, ...)
{
    struct evbuffer *out = bufferevent_get_output(s->bev);
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

/* tx_reset - end the transaction (RSET, HELO, after DATA) */
static void
tx_reset(struct smtp_session *s)
{
    tx_free(s->tx);
    s->tx = NULL;
    if (s->state != SMTP_STATE_INIT && s->state != SMTP_STATE_CLOSING)
        enter_state(s, SMTP_STATE_READY);
}

/* ---- connection life ---------------------------------------------- */

static void
session_free(struct smtp_session *s)
{
    struct smtp_ctx *ctx = s->ctx;

    log_info("disconnect from unknown[%s] commands=%u messages=%u errors=%u",
             s->ip, s->commands, s->messages, s->errors);
    if (s->commit)
        s->commit->sess = NULL;     /* the commit finishes without us */
    tx_free(s->tx);
    bufferevent_free(s->bev);
    if (s->prev)
        s->prev->next = s->next;
    else
        ctx->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    ctx->nsessions--;
    if (ctx->on_close)
        ctx->on_close(ctx->on_close_arg, s->ip);
    free(s);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
    struct smtp_session *s = arg;

    if (s->state == SMTP_STATE_CLOSING) {
        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            session_free(s);
        return;
    }
    /* Output drained below the mark: read again. */
    if (s->state != SMTP_STATE_COMMIT)
        bufferevent_enable(bev, EV_READ);
}

/* session_close - flush what is pending, then free the session */
static void
session_close(struct smtp_session *s)
{
    enter_state(s, SMTP_STATE_CLOSING);
    bufferevent_disable(s->bev, EV_READ);
    bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
    if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0) {
        session_free(s);
        return;
    }
    bufferevent_enable(s->bev, EV_WRITE);
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct smtp_session *s = arg;
    (void)bev;

    if ((what & BEV_EVENT_TIMEOUT) && s->state != SMTP_STATE_CLOSING) {
        log_info("timeout after %s from unknown[%s]", state_names[s->state], s->ip);
        if (s->state == SMTP_STATE_COMMIT)
            return;                 /* our own slowness: keep waiting */
        reply(s, 421, "4.4.2 %s Error: timeout exceeded", s->ctx->cfg->hostname);
        tx_reset(s);
        /* One write attempt with a short deadline, then give up. */
        struct timeval tv = { 5, 0 };
        bufferevent_set_timeouts(s->bev, NULL, &tv);
        session_close(s);
        return;
    }
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
        if (s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
            log_info("lost connection after %s from unknown[%s]", state_names[s->state], s->ip);
        if (s->state == SMTP_STATE_COMMIT) {
            /* The commit will finish; there is no one left to tell. */
            bufferevent_disable(s->bev, EV_READ | EV_WRITE);
        }
        session_free(s);
    }
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    session_process(arg);
}

/* set_timeouts - the read deadline depends on what we wait for */
static void
set_timeouts(struct smtp_session *s)
{
    const struct config *cfg = s->ctx->cfg;
    unsigned r = (s->state == SMTP_STATE_DATA || s->state == SMTP_STATE_BDAT)
                 ? cfg->smtp_data_timeout : cfg->smtp_timeout;
    struct timeval rt = { r, 0 }, wt = { cfg->smtp_timeout, 0 };
    bufferevent_set_timeouts(s->bev, &rt, &wt);
}

void
smtp_session_start(struct smtp_ctx *ctx, evutil_socket_t fd, const char *ip)
{
    struct smtp_session *s = xcalloc(1, sizeof(*s));

    s->ctx = ctx;
    snprintf(s->ip, sizeof(s->ip), "%s", ip);
    s->bev = bufferevent_socket_new(ctx->base, fd, BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(s->bev, read_cb, write_cb, event_cb, s);
    bufferevent_setwatermark(s->bev, EV_WRITE, SMTP_OUT_HIGH / 2, 0);
    s->next = ctx->sessions;
    if (ctx->sessions)
        ctx->sessions->prev = s;
    ctx->sessions = s;
    ctx->nsessions++;
    enter_state(s, SMTP_STATE_INIT);
    set_timeouts(s);
    log_info("connect from unknown[%s]", ip);
    reply(s, 220, "%s ESMTP postino", ctx->cfg->hostname);
    bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void
smtp_reject_connection(struct smtp_ctx *ctx, evutil_socket_t fd, const char *reason)
{
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "421 4.7.0 %s %s\r\n", ctx->cfg->hostname, reason);
    /* Best effort, non-blocking: the socket is new, its buffer empty. */
    ssize_t w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)w;
    evutil_closesocket(fd);
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
        reply(s, 421, "4.3.2 %s Service shutting down", ctx->cfg->hostname);
        tx_reset(s);
        session_close(s);
    }
}

/* ---- commands --------------------------------------------------------- */

static void
cmd_helo(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    const struct config *cfg = s->ctx->cfg;
    bool ehlo = cmd->verb == SMTP_CMD_EHLO;

    if (cmd->arglen == 0) {
        reply(s, 501, "5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
        return;
    }
    if (cmd->arglen >= sizeof(s->helo)) {
        reply(s, 501, "5.5.4 Host name too long");
        return;
    }
    tx_reset(s);
    memcpy(s->helo, cmd->arg, cmd->arglen);
    s->helo[cmd->arglen] = '\0';
    s->esmtp = ehlo;
    enter_state(s, SMTP_STATE_READY);
    if (!ehlo) {
        reply(s, 250, "%s", cfg->hostname);
        return;
    }
    struct evbuffer *out = bufferevent_get_output(s->bev);
    evbuffer_add_printf(out,
        "250-%s\r\n"
        "250-PIPELINING\r\n"
        "250-SIZE %zu\r\n"
        "250-8BITMIME\r\n"
        "250-ENHANCEDSTATUSCODES\r\n"
        "250-SMTPUTF8\r\n"
        "250-CHUNKING\r\n"
        "250 DSN\r\n", cfg->hostname, cfg->message_size_limit);
}

/* path_error - reply for a path that did not parse */
static void
path_error(struct smtp_session *s, enum addr_status st, bool sender)
{
    switch (st) {
    case ADDR_LOCAL_TOO_LONG:
        reply(s, 501, "5.1.%d Local part too long (RFC 5321 4.5.3.1.1: 64 octets)", sender ? 7 : 3);
        break;
    case ADDR_DOMAIN_TOO_LONG:
        reply(s, 501, "5.1.%d Domain too long (RFC 5321 4.5.3.1.2: 255 octets)", sender ? 7 : 3);
        break;
    case ADDR_NEED_UTF8:
        reply(s, 553, "5.6.7 Non-ASCII address needs SMTPUTF8");
        break;
    default:
        reply(s, 501, "5.1.%d Bad %s address syntax", sender ? 7 : 3,
              sender ? "sender" : "recipient");
        break;
    }
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
        reply(s, 501, "5.5.4 Syntax: MAIL FROM:<address>");
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
        reply(s, 555, "5.5.4 MAIL parameters need EHLO");
        return;
    }
    switch (mail_params_parse(ps, pn, &mp, err, sizeof(err))) {
    case PARAM_OK:
        break;
    case PARAM_UNKNOWN:
        reply(s, 555, "5.5.4 Unsupported option: %s", err);
        return;
    default:
        reply(s, 501, "5.5.4 Bad parameter: %s", err);
        return;
    }
    if (mb.utf8 && !mp.smtputf8) {
        reply(s, 553, "5.6.7 Non-ASCII address needs SMTPUTF8 (RFC 6531)");
        return;
    }
    /* RFC 1870 6.1: refuse at MAIL what cannot fit. */
    if (mp.size >= 0 && (unsigned long long)mp.size > cfg->message_size_limit) {
        reply(s, 552, "5.3.4 Message size exceeds fixed limit of %zu octets",
              cfg->message_size_limit);
        return;
    }
    mailbox_format(&mb, addr, sizeof(addr));

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
    enter_state(s, SMTP_STATE_MAIL);
    reply(s, 250, "2.1.0 Ok");
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
        reply(s, 503, "5.5.1 Error: RCPT after BDAT");
        return;
    }
    if (!cmd->arg) {
        reply(s, 501, "5.5.4 Syntax: RCPT TO:<address>");
        return;
    }
    enum addr_status st = path_parse(cmd->arg, cmd->arglen,
                                     PATH_ALLOW_POSTMASTER | PATH_UTF8, &mb, &used);
    if (st != ADDR_OK) {
        path_error(s, st, false);
        return;
    }
    if (used < cmd->arglen && !s->esmtp) {
        reply(s, 555, "5.5.4 RCPT parameters need EHLO");
        return;
    }
    switch (rcpt_params_parse(cmd->arg + used, cmd->arglen - used, &rp, err, sizeof(err))) {
    case PARAM_OK:
        break;
    case PARAM_UNKNOWN:
        reply(s, 555, "5.5.4 Unsupported option: %s", err);
        return;
    default:
        reply(s, 501, "5.5.4 Bad parameter: %s", err);
        return;
    }
    if (mb.utf8 && !s->tx->mp.smtputf8) {
        reply(s, 553, "5.6.7 Non-ASCII address needs SMTPUTF8 (RFC 6531)");
        return;
    }
    if (s->tx->nrcpt >= ctx->cfg->max_recipients) {
        reply(s, 452, "4.5.3 Too many recipients");
        return;
    }
    mailbox_format(&mb, addr, sizeof(addr));
    log_sanitize(addr, strlen(addr), sa, sizeof(sa));

    /* The users and aliases files may have changed since the last look. */
    struct buf aerr = BUF_INIT;
    users_refresh(ctx->users);
    aliases_refresh(ctx->aliases, &aerr);
    if (aerr.len)
        log_warn("%.*s", (int)aerr.len - 1, aerr.data);
    buf_free(&aerr);

    struct resolve_ctx rc = { ctx->cfg, ctx->users, ctx->aliases };
    struct mailbox_set set = { NULL, 0 };
    int code = 0;
    switch (resolve_recipient(&rc, &mb, &set)) {
    case RESOLVE_OK:
        break;
    case RESOLVE_NOT_LOCAL:
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
        reply(s, code, "%s", text);
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
    enter_state(s, SMTP_STATE_RCPT);
    reply(s, 250, "2.1.5 Ok");
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
    const char *proto = tx->mp.smtputf8 ? "UTF8SMTP" : s->esmtp ? "ESMTP" : "SMTP";
    buf_printf(&tx->content, "Received: from %s (unknown [%s])\n\tby %s (postino) with %s id %s",
               helo, s->ip, cfg->hostname, proto, tx->env->id);
    if (tx->env->nrcpts == 1)
        buf_printf(&tx->content, "\n\tfor <%s>", tx->env->rcpts[0].orig);
    buf_printf(&tx->content, "; %s\n", date);
    tx->header_len = tx->content.len;
}

static void
cmd_data(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (s->tx && s->tx->bdat) {
        reply(s, 503, "5.5.1 DATA after BDAT in one transaction");
        return;
    }
    if (s->state != SMTP_STATE_RCPT) {
        reply(s, 503, "5.5.1 Error: need RCPT command");
        return;
    }
    if (cmd->arglen) {
        reply(s, 501, "5.5.4 Syntax: DATA");
        return;
    }
    tx_begin_content(s, DATA_MODE_DOT);
    enter_state(s, SMTP_STATE_DATA);
    set_timeouts(s);
    reply(s, 354, "End data with <CR><LF>.<CR><LF>");
}

static void
commit_done(struct workq_item *item)
{
    struct smtp_commit *c = (struct smtp_commit *)item;
    struct smtp_session *s = c->sess;
    struct envelope *env = c->sc.env;

    if (c->sc.error == 0) {
        log_info("%s: client=unknown[%s], helo=<%s>", env->id, env->client_ip, env->helo);
        log_info("%s: from=<%s>, size=%zu, nrcpt=%zu (queue active)",
                 env->id, env->sender, env->size, env->nrcpts);
        scheduler_add(c->ctx->sched, env);
    } else {
        log_error("%s: cannot queue the message: %s", env->id, strerror(c->sc.error));
        envelope_free(env);
    }
    buf_free(&c->sc.content);
    if (s) {
        s->commit = NULL;
        if (c->sc.error == 0) {
            s->messages++;
            reply(s, 250, "2.0.0 Ok: queued as %s", env->id);
        } else if (c->sc.error == ENOSPC || c->sc.error == EDQUOT) {
            reply(s, 452, "4.3.1 Insufficient system storage");
        } else {
            reply(s, 451, "4.3.0 Local error in processing; try again later");
        }
        enter_state(s, SMTP_STATE_READY);
        set_timeouts(s);
        if (s->ctx->stopping) {
            reply(s, 421, "4.3.2 %s Service shutting down", s->ctx->cfg->hostname);
            session_close(s);
        } else {
            bufferevent_enable(s->bev, EV_READ);
            session_process(s);         /* commands pipelined behind the data */
        }
    }
    free(c);
}

/* tx_finish - the content is complete: refuse it or queue it */
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
    }
    if (code) {
        char t[160];
        snprintf(t, sizeof(t), "%d %s", code, text);
        log_reject(s, tx->bdat ? "BDAT" : "DATA", t);
        reply(s, code, "%s", text);
        tx_reset(s);
        set_timeouts(s);
        return;
    }
    /* Size as SMTP carries it: our header, in CRLF form, plus the rest. */
    size_t hlines = 0;
    for (size_t i = 0; i < tx->header_len; i++)
        hlines += tx->content.data[i] == '\n';
    tx->env->size = tx->dr.size + tx->header_len + hlines;

    struct smtp_commit *c = xcalloc(1, sizeof(*c));
    c->sess = s;
    c->ctx = s->ctx;
    c->sc.spool = s->ctx->spool;
    c->sc.env = tx->env;
    c->sc.content = tx->content;            /* moved, not copied */
    c->sc.item.done = commit_done;
    tx->env = NULL;
    buf_init(&tx->content);
    tx_reset(s);
    s->commit = c;
    enter_state(s, SMTP_STATE_COMMIT);
    bufferevent_disable(s->bev, EV_READ);
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
        reply(s, 501, "5.5.4 Syntax: BDAT chunk-size [LAST]; closing");
        tx_reset(s);
        session_close(s);
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
    enter_state(s, SMTP_STATE_BDAT);
    set_timeouts(s);
}

/* bdat_chunk_end - all octets of a chunk are in */
static void
bdat_chunk_end(struct smtp_session *s)
{
    struct smtp_tx *tx = s->tx;

    if (s->bdat_discard) {
        s->bdat_discard = false;
        enter_state(s, s->bdat_prev);
        set_timeouts(s);
        reply(s, 503, "5.5.1 Error: %s",
              s->state == SMTP_STATE_INIT ? "send EHLO first"
              : !s->esmtp ? "BDAT needs EHLO"
              : "need RCPT command");
        return;
    }
    if (!s->bdat_last) {
        enter_state(s, SMTP_STATE_RCPT);
        set_timeouts(s);
        reply(s, 250, "2.0.0 %zu octets received", tx->bdat_octets);
        return;
    }
    data_reader_finish(&tx->dr, &tx->content);
    tx_finish(s);
}

static void
cmd_rset(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (cmd->arglen) {
        reply(s, 501, "5.5.4 Syntax: RSET");
        return;
    }
    tx_reset(s);
    reply(s, 250, "2.0.0 Ok");
}

static void
cmd_noop(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    reply(s, 250, "2.0.0 Ok");
}

static void
cmd_quit(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    reply(s, 221, "2.0.0 Bye");
    tx_reset(s);
    session_close(s);
}

static void
cmd_help(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    reply(s, 214, "2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY");
}

static void
cmd_vrfy(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    if (cmd->arglen == 0) {
        reply(s, 501, "5.5.4 Syntax: VRFY address");
        return;
    }
    /* RFC 5321 3.5.3: 252 reveals nothing to address harvesters. */
    reply(s, 252, "2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
}

static void
cmd_not_implemented(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    reply(s, 502, "5.5.1 Command not implemented");
}

static void
cmd_http(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    (void)cmd;
    log_info("HTTP command from unknown[%s]: closing", s->ip);
    reply(s, 554, "5.7.0 This is an SMTP server, not a web server");
    session_close(s);
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
    { SMTP_CMD_STARTTLS, S_ANY,          cmd_not_implemented, NULL },
    { SMTP_CMD_AUTH,     S_ANY,          cmd_not_implemented, NULL },
    { SMTP_CMD_HTTP,     S_ANY,          cmd_http, NULL },
};

/* dispatch - one command line (CRLF removed) */
static void
dispatch(struct smtp_session *s, const char *line, size_t len)
{
    struct smtp_cmd cmd;

    s->commands++;
    if (memchr(line, '\0', len)) {
        reply(s, 500, "5.5.2 Error: NUL octet in command");
        return;
    }
    if (!smtp_cmd_parse(line, len, &cmd)) {
        char t[64];
        log_sanitize(line, len < 40 ? len : 40, t, sizeof(t));
        log_info("unknown command from unknown[%s]: %s", s->ip, t);
        reply(s, 500, "5.5.2 Error: command not recognized");
        return;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (commands[i].verb != cmd.verb)
            continue;
        if (!(commands[i].states & (1u << s->state))) {
            if (cmd.verb == SMTP_CMD_MAIL && s->state == SMTP_STATE_INIT)
                reply(s, 503, "5.5.1 Error: send HELO/EHLO first");
            else if (cmd.verb == SMTP_CMD_MAIL)
                reply(s, 503, "5.5.1 Error: nested MAIL command");
            else
                reply(s, 503, "5.5.1 Error: %s", commands[i].refusal ? commands[i].refusal
                                                                     : "bad sequence of commands");
            return;
        }
        commands[i].fn(s, &cmd);
        return;
    }
    reply(s, 502, "5.5.1 Command not implemented");
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

/* session_process - act on everything buffered, as far as the state allows */
static void
session_process(struct smtp_session *s)
{
    struct evbuffer *in = bufferevent_get_input(s->bev);

    for (;;) {
        if (s->state == SMTP_STATE_COMMIT || s->state == SMTP_STATE_CLOSING)
            return;
        if (s->errors >= SMTP_MAX_ERRORS) {
            reply(s, 421, "4.7.0 %s Error: too many errors", s->ctx->cfg->hostname);
            log_info("too many errors from unknown[%s]", s->ip);
            tx_reset(s);
            session_close(s);
            return;
        }
        if (evbuffer_get_length(bufferevent_get_output(s->bev)) > SMTP_OUT_HIGH) {
            bufferevent_disable(s->bev, EV_READ);   /* write_cb resumes */
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
                    reply(s, 500, "5.5.2 Error: line too long");
                s->discarding = true;
                evbuffer_drain(in, avail);
            }
            return;
        }
        size_t len = (size_t)eol.pos + 1;
        if (s->discarding || len > SMTP_LINE_MAX) {
            if (!s->discarding)
                reply(s, 500, "5.5.2 Error: line too long");
            s->discarding = false;
            evbuffer_drain(in, len);
            continue;
        }
        evbuffer_remove(in, s->line, len);
        len--;                                  /* the LF */
        if (len && s->line[len - 1] == '\r')
            len--;
        s->line[len] = '\0';
        dispatch(s, s->line, len);
        if (s->state != SMTP_STATE_CLOSING)
            set_timeouts(s);
    }
}
