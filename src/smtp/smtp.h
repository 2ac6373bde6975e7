/*
 * smtp - the inbound SMTP server (RFC 5321) of one listener kind.
 *
 * A session is an explicit state machine driven by libevent: bytes come
 * in through a bufferevent, complete command lines are dispatched from a
 * table of {verb, states it is allowed in, handler}, and message content
 * goes through the data_reader. Nothing here blocks: the commit of a
 * message to the queue runs on the commit workers and the session waits
 * (reading nothing more) until it can answer.
 */
#ifndef POSTINO_SMTP_SMTP_H
#define POSTINO_SMTP_SMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/util.h>

struct event_base;
struct config;
struct users;
struct aliases;
struct spool;
struct workq;
struct scheduler;
struct smtp_session;
struct guard;
struct dns;
struct ratelimit;
struct msgauth_ctx;
typedef struct ssl_ctx_st SSL_CTX;

/* The kind of listener a session came in on. */
enum smtp_kind {
    SMTP_KIND_MX,           /* listen_smtp: port 25, STARTTLS offered, no relaying */
    SMTP_KIND_SUBMISSION,   /* listen_submission: port 587, STARTTLS, AUTH required */
    SMTP_KIND_SUBMISSIONS,  /* listen_submissions: port 465, implicit TLS, AUTH required */
    SMTP_KIND_LOCAL,        /* <data_dir>/public/submit: postino sendmail, a local user
                             * known by the socket (SO_PEERCRED); no TLS, no AUTH */
};

/* What every session shares; owned by the daemon. */
struct smtp_ctx {
    struct event_base   *base;
    struct config       *cfg;        /* replaced on reload */
    struct users        *users;
    struct aliases      *aliases;
    struct spool        *spool;
    struct workq        *commitq;    /* runs maildir_commit_run */
    struct scheduler    *sched;
    SSL_CTX             *tls;        /* replaced on reload (sessions keep a reference) */
    struct workq        *authq;      /* password checks */
    struct guard        *guard;      /* failed logins per IP */
    struct dns          *dns;        /* DNSBL lookups */
    struct ratelimit    *msg_rate;   /* messages per client IP or user */
    struct ratelimit    *rcpt_rate;  /* recipients per client IP or user */
    struct msgauth_ctx  *msgauth;    /* SPF, DKIM, DMARC; DKIM signing (NULL: none) */
    bool                 stopping;   /* shutting down: finish, then close */
    bool                 stress;     /* connections run short: smtp_stress_timeout */
    struct timeval       files_seen; /* loop turn of the last users/aliases check */
    struct smtp_session *sessions;   /* every live session */
    size_t               nsessions;
    /* called when a session ends, to keep the connection counts */
    void               (*on_close)(void *arg, const char *ip);
    void                *on_close_arg;
};

/*
 * smtp_session_start - take over an accepted socket: greet, then serve.
 * ip is the client's address as text.
 */
void smtp_session_start(struct smtp_ctx *ctx, evutil_socket_t fd, const char *ip,
                        enum smtp_kind kind);

/* smtp_auth_run - workq run function for the password checks of ctx->authq */
struct workq_item;
void smtp_auth_run(struct workq_item **items, size_t n, void *arg);

/* smtp_reject_connection - greet with 421 4.7.0 reason and close (on an
 * implicit-TLS port, just close) */
void smtp_reject_connection(struct smtp_ctx *ctx, evutil_socket_t fd, enum smtp_kind kind,
                            const char *reason);

/*
 * smtp_set_stress - connections are running short (on) or plentiful again
 * (off): every session's read deadline becomes smtp_stress_timeout at
 * most, from now, so that idle clients make room (Postfix's stress mode).
 */
void smtp_set_stress(struct smtp_ctx *ctx, bool on);

/*
 * smtp_stop_all - for shutdown: every session not waiting for a commit
 * gets "421 4.3.2" and is closed; those waiting are closed after their
 * reply.
 */
void smtp_stop_all(struct smtp_ctx *ctx);

#endif
