/*
 * imap - the IMAP server (RFC 9051 IMAP4rev2, and IMAP4rev1 clients per
 * RFC 3501) over the Maildirs that local delivery fills, with Maildir++
 * folders (store.h).
 *
 * Sessions run on the event loop like the SMTP and POP3 ones; password
 * checks and every command that touches the mailbox run on the imap
 * workers (exec.h), one command of a session at a time.
 */
#ifndef POSTINO_IMAP_IMAP_H
#define POSTINO_IMAP_IMAP_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/util.h>

struct event_base;
struct config;
struct users;
struct guard;
struct workq;
struct imap_session;
typedef struct ssl_ctx_st SSL_CTX;

struct imap_ctx {
    struct event_base   *base;
    struct config       *cfg;       /* replaced on reload */
    struct users        *users;
    SSL_CTX             *tls;
    struct guard        *guard;     /* shared with SMTP AUTH and POP3 */
    struct workq        *wq;        /* runs imap_work_run */
    struct imap_session *sessions;
    size_t               nsessions;
    void               (*on_close)(void *arg, const char *ip);
    void                *on_close_arg;
};

/* imap_session_start - serve an accepted socket (implicit TLS on imaps) */
void imap_session_start(struct imap_ctx *ctx, evutil_socket_t fd, const char *ip,
                        bool implicit_tls);
/* imap_stop_all - for shutdown: "* BYE" to every session, then close */
void imap_stop_all(struct imap_ctx *ctx);

struct workq_item;
/* imap_work_run - workq run function for ctx->wq */
void imap_work_run(struct workq_item **items, size_t n, void *arg);

#endif
