/*
 * pop3 - the POP3 server (RFC 1939, CAPA RFC 2449, STLS RFC 2595, SASL
 * PLAIN RFC 5034) over the Maildirs that local delivery fills.
 *
 * Sessions run on the event loop like SMTP sessions; password checks and
 * every Maildir access (taking the drop, RETR, the deletions at QUIT) run
 * on the pop3 workers.
 */
#ifndef POSTINO_POP3_POP3_H
#define POSTINO_POP3_POP3_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>

struct event_base;
struct config;
struct users;
struct guard;
struct workq;
struct pop3_session;
typedef struct ssl_ctx_st SSL_CTX;

struct pop3_ctx {
    struct event_base   *base;
    struct config       *cfg;       /* replaced on reload */
    struct users        *users;
    SSL_CTX             *tls;
    struct guard        *guard;     /* shared with SMTP AUTH */
    struct workq        *wq;        /* runs pop3_work_run */
    struct pop3_session *sessions;
    size_t               nsessions;
    struct pop3_lock    *locks;     /* mailboxes in a session ([IN-USE]) */
    void               (*on_close)(void *arg, const char *ip);
    void                *on_close_arg;
};

/* pop3_session_start - serve an accepted socket (implicit TLS on pop3s) */
void pop3_session_start(struct pop3_ctx *ctx, evutil_socket_t fd, const char *ip,
                        bool implicit_tls);
/* pop3_stop_all - for shutdown: end every session without deleting anything */
void pop3_stop_all(struct pop3_ctx *ctx);

struct workq_item;
/* pop3_work_run - workq run function for ctx->wq */
void pop3_work_run(struct workq_item **items, size_t n, void *arg);

#endif
