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

/* What every session shares; owned by the daemon. */
struct smtp_ctx {
    struct event_base   *base;
    struct config       *cfg;        /* replaced on reload */
    struct users        *users;
    struct aliases      *aliases;
    struct spool        *spool;
    struct workq        *commitq;    /* runs spool_commit_run */
    struct scheduler    *sched;
    bool                 stopping;   /* shutting down: finish, then close */
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
void smtp_session_start(struct smtp_ctx *ctx, evutil_socket_t fd, const char *ip);

/* smtp_reject_connection - greet with 421 4.7.0 reason and close */
void smtp_reject_connection(struct smtp_ctx *ctx, evutil_socket_t fd, const char *reason);

/*
 * smtp_stop_all - for shutdown: every session not waiting for a commit
 * gets "421 4.3.2" and is closed; those waiting are closed after their
 * reply.
 */
void smtp_stop_all(struct smtp_ctx *ctx);

#endif
