/*
 * auth - SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN
 * mechanisms, against the users of "postino user".
 *
 * Offered and accepted only inside TLS, or from loopback when
 * auth_plaintext_loopback allows it. The password is checked on the auth
 * workers (crypt(3) is slow on purpose). A failure is answered after
 * auth_failure_delay; each is logged on one line in the form fail2ban
 * knows from Postfix; after auth_max_failures from one IP within
 * auth_block_time the client gets 421 and the IP is blocked for that time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* libevent */
#include <event2/bufferevent.h>
#include <event2/event.h>

/* lower layers */
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "auth/guard.h"
#include "auth/sasl.h"
#include "auth/users.h"
#include "smtp/session_priv.h"

/* One password check; outlives its session if the client goes away. */
struct smtp_auth_job {
    struct workq_item    item;
    struct smtp_session *sess;      /* NULL once the session is gone */
    char                 mech[8];
    char                 user[SASL_FIELD_MAX + 1];
    char                 pass[SASL_FIELD_MAX + 1];
    char                *hash;      /* copy of the stored hash, or NULL */
    bool                 ok;
};

static bool
is_loopback(const char *ip)
{
    return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

/* smtp_auth_offered - may this session authenticate now? */
bool
smtp_auth_offered(const struct smtp_session *s)
{
    if (s->kind == SMTP_KIND_LOCAL)
        return false;                   /* known by the socket already */
    return s->tls || (s->ctx->cfg->auth_plaintext_loopback && is_loopback(s->ip));
}

void
smtp_auth_cleanup(struct smtp_session *s)
{
    if (s->auth_job)
        s->auth_job->sess = NULL;
    s->auth_job = NULL;
    if (s->auth_timer)
        event_free(s->auth_timer);
    s->auth_timer = NULL;
    if (s->auth_login) {
        explicit_bzero(s->auth_login, strlen(s->auth_login));
        free(s->auth_login);
    }
    s->auth_login = NULL;
    s->auth_mech = SMTP_AUTH_NONE;
}

/* auth_resume - back to commands after the exchange */
static void
auth_resume(struct smtp_session *s)
{
    smtp_enter_state(s, SMTP_STATE_READY);
    smtp_set_timeouts(s);
    bufferevent_enable(s->bev, EV_READ);
    smtp_session_process(s);
}

/* fail_answer - the delayed 535, or 421 and a block */
static void
fail_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct smtp_session *s = arg;
    (void)fd;
    (void)what;

    event_free(s->auth_timer);
    s->auth_timer = NULL;
    if (guard_blocked(s->ctx->guard, s->ip, time(NULL))) {
        smtp_reply(s, 421, "4.7.0 %s Error: too many failed authentications; try again later",
                   s->ctx->cfg->hostname);
        smtp_session_close(s);
        return;
    }
    smtp_reply(s, 535, "5.7.8 Error: authentication failed");
    auth_resume(s);
}

/* auth_failed - count, log and answer (after the delay) a failure */
static void
auth_failed(struct smtp_session *s, const char *mech, const char *user)
{
    const struct config *cfg = s->ctx->cfg;
    char u[160];

    log_sanitize(user, strlen(user), u, sizeof(u));
    log_warn("unknown[%s]: SASL %s authentication failed: user=<%s>", s->ip, mech, u);
    if (guard_fail(s->ctx->guard, s->ip, time(NULL)))
        log_warn("unknown[%s]: blocked for %us after %u failed authentications",
                 s->ip, cfg->auth_block_time, cfg->auth_max_failures);
    smtp_enter_state(s, SMTP_STATE_AUTH_CHECK);
    bufferevent_disable(s->bev, EV_READ);
    s->auth_timer = evtimer_new(s->ctx->base, fail_timer_cb, s);
    struct timeval tv = { cfg->auth_failure_delay, 0 };
    evtimer_add(s->auth_timer, &tv);
}

/* check_done - back on the loop with the worker's verdict */
static void
check_done(struct workq_item *item)
{
    struct smtp_auth_job *job = (struct smtp_auth_job *)item;
    struct smtp_session *s = job->sess;

    if (s) {
        s->auth_job = NULL;
        if (job->ok) {
            size_t ul = strnlen(job->user, sizeof(s->auth_user) - 1);
            memcpy(s->auth_user, job->user, ul);        /* users are addresses: it fits */
            s->auth_user[ul] = '\0';
            for (char *p = s->auth_user; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                    *p = (char)(*p - 'A' + 'a');
            guard_success(s->ctx->guard, s->ip, time(NULL));
            log_info("unknown[%s]: sasl_method=%s, sasl_username=%s", s->ip, job->mech,
                     s->auth_user);
            smtp_reply(s, 235, "2.7.0 Authentication successful");
            auth_resume(s);
        } else {
            auth_failed(s, job->mech, job->user);
        }
    }
    explicit_bzero(job->pass, sizeof(job->pass));
    free(job->hash);
    free(job);
}

/* smtp_auth_run - worker: crypt(3) one password after another */
void
smtp_auth_run(struct workq_item **items, size_t n, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        struct smtp_auth_job *job = (struct smtp_auth_job *)items[i];
        if (job->hash) {
            job->ok = users_password_check(job->pass, job->hash);
        } else {
            /* No such user: hash anyway, so that the answer takes as long
             * as for a real one and tells nothing. */
            free(users_password_hash(job->pass));
            job->ok = false;
        }
    }
}

/* auth_check - hand user and password to the workers */
static void
auth_check(struct smtp_session *s, const char *mech, const char *user, const char *pass)
{
    struct smtp_auth_job *job = xcalloc(1, sizeof(*job));

    snprintf(job->mech, sizeof(job->mech), "%s", mech);
    snprintf(job->user, sizeof(job->user), "%s", user);
    snprintf(job->pass, sizeof(job->pass), "%s", pass);
    users_refresh(s->ctx->users);
    const char *h = users_hash(s->ctx->users, user);
    job->hash = h ? xstrdup(h) : NULL;
    job->sess = s;
    job->item.done = check_done;
    s->auth_job = job;
    s->auth_mech = SMTP_AUTH_NONE;
    smtp_enter_state(s, SMTP_STATE_AUTH_CHECK);
    bufferevent_disable(s->bev, EV_READ);
    workq_push(s->ctx->authq, &job->item);
}

/* plain_step - a PLAIN response (initial or after "334 ") */
static void
plain_step(struct smtp_session *s, const char *b64, size_t n)
{
    unsigned char msg[3 * SASL_FIELD_MAX + 8];
    char authzid[SASL_FIELD_MAX + 1], authcid[SASL_FIELD_MAX + 1], pass[SASL_FIELD_MAX + 1];
    long len = base64_decode(b64, n, msg, sizeof(msg));

    if (len < 0) {
        smtp_reply(s, 501, "5.5.2 Cannot decode the response");
        smtp_enter_state(s, SMTP_STATE_READY);
        return;
    }
    if (sasl_plain_parse(msg, (size_t)len, authzid, authcid, pass) < 0) {
        explicit_bzero(msg, sizeof(msg));
        smtp_reply(s, 501, "5.5.2 Malformed PLAIN response");
        smtp_enter_state(s, SMTP_STATE_READY);
        return;
    }
    explicit_bzero(msg, sizeof(msg));
    /* Acting for another identity (authzid) is not supported. */
    if (authzid[0] && strcasecmp(authzid, authcid) != 0) {
        explicit_bzero(pass, sizeof(pass));
        auth_failed(s, "PLAIN", authcid);
        return;
    }
    auth_check(s, "PLAIN", authcid, pass);
    explicit_bzero(pass, sizeof(pass));
}

/* smtp_auth_response - a line in state AUTH_INPUT */
void
smtp_auth_response(struct smtp_session *s, const char *line, size_t len)
{
    char field[SASL_FIELD_MAX + 1];

    /* RFC 4954 4: "*" cancels the exchange. */
    if (len == 1 && line[0] == '*') {
        smtp_auth_cleanup(s);
        smtp_enter_state(s, SMTP_STATE_READY);
        smtp_reply(s, 501, "5.0.0 Authentication cancelled");
        return;
    }
    if (s->auth_mech == SMTP_AUTH_PLAIN) {
        s->auth_mech = SMTP_AUTH_NONE;
        plain_step(s, line, len);
        return;
    }
    /* LOGIN: first the user name, then the password, each in base64. */
    long n = base64_decode(line, len, (unsigned char *)field, SASL_FIELD_MAX);
    if (n < 0 || memchr(field, '\0', (size_t)n)) {
        smtp_auth_cleanup(s);
        smtp_enter_state(s, SMTP_STATE_READY);
        smtp_reply(s, 501, "5.5.2 Cannot decode the response");
        return;
    }
    field[n] = '\0';
    if (!s->auth_login) {
        s->auth_login = xstrdup(field);
        smtp_reply(s, 334, "UGFzc3dvcmQ6");         /* "Password:" */
        return;
    }
    char *user = s->auth_login;
    s->auth_login = NULL;
    auth_check(s, "LOGIN", user, field);
    explicit_bzero(field, sizeof(field));
    free(user);
}

/* smtp_auth_command - AUTH mechanism [initial-response] */
void
smtp_auth_command(struct smtp_session *s, const struct smtp_cmd *cmd)
{
    const char *a = cmd->arg ? cmd->arg : "";
    size_t n = cmd->arglen;
    size_t ml = 0;

    if (s->state == SMTP_STATE_INIT || !s->esmtp) {
        smtp_reply(s, 503, "5.5.1 Error: send EHLO first");
        return;
    }
    if (s->auth_user[0] || s->kind == SMTP_KIND_LOCAL) {
        smtp_reply(s, 503, "5.5.1 Error: already authenticated");
        return;
    }
    if (s->state != SMTP_STATE_READY) {
        smtp_reply(s, 503, "5.5.1 Error: AUTH not allowed during a mail transaction");
        return;
    }
    if (!smtp_auth_offered(s)) {
        /* RFC 4954 6: 538 when encryption is required. */
        smtp_reply(s, 538, "5.7.11 Encryption required for requested authentication mechanism");
        return;
    }
    unsigned left = guard_blocked(s->ctx->guard, s->ip, time(NULL));
    if (left) {
        smtp_reply(s, 421, "4.7.0 %s Error: too many failed authentications; try again in %u s",
                   s->ctx->cfg->hostname, left);
        smtp_session_close(s);
        return;
    }
    while (ml < n && a[ml] != ' ')
        ml++;
    const char *resp = a + ml;
    size_t rl = n - ml;
    while (rl && *resp == ' ')
        resp++, rl--;

    if (ml == 5 && strncasecmp(a, "PLAIN", 5) == 0) {
        if (rl == 0) {
            s->auth_mech = SMTP_AUTH_PLAIN;
            smtp_enter_state(s, SMTP_STATE_AUTH_INPUT);
            smtp_reply(s, 334, "%s", "");
            return;
        }
        if (rl == 1 && resp[0] == '=') {            /* RFC 4954 4: empty response */
            smtp_reply(s, 501, "5.5.2 Malformed PLAIN response");
            return;
        }
        plain_step(s, resp, rl);
        return;
    }
    if (ml == 5 && strncasecmp(a, "LOGIN", 5) == 0) {
        s->auth_mech = SMTP_AUTH_LOGIN;
        smtp_enter_state(s, SMTP_STATE_AUTH_INPUT);
        if (rl == 0) {
            smtp_reply(s, 334, "VXNlcm5hbWU6");     /* "Username:" */
            return;
        }
        smtp_auth_response(s, resp, rl);            /* initial response: the user name */
        return;
    }
    smtp_reply(s, 504, "5.5.4 Unrecognized authentication type");
}
