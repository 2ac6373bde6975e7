/*
 * relay - delivery to other mail servers: the outbound SMTP client.
 *
 * The scheduler hands over one message and the recipients of one domain;
 * the relay finds the domain's servers (MX, RFC 5321 5.1; or the
 * smarthost of relay_host), connects, speaks SMTP (EHLO, STARTTLS when
 * offered, AUTH to a smarthost, PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
 * DSN), and answers with one result per recipient. Everything runs on the
 * event loop: many deliveries at once, no thread per delivery.
 * Connections are limited in total and per destination, and an idle one
 * is kept for a few seconds to carry the next message to the same place.
 */
#ifndef POSTINO_RELAY_RELAY_H
#define POSTINO_RELAY_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "queue/envelope.h"

struct event_base;
struct config;
struct dns;
struct spool;
struct relay;

/* The fate of one recipient. */
struct relay_result {
    int   class;            /* 2 delivered, 4 try again later, 5 failed for good */
    char  status[16];       /* enhanced status, "2.0.0", "5.1.1", "4.4.1" */
    char  remote_mta[256];  /* the server that answered, "" if none did */
    char  relay[128];       /* "host[ip]:port" of that server, for the log */
    char *reply;            /* that server's reply in one line, or our reason; owned */
    char *explanation;      /* a plain sentence for the bounce; owned */
    bool  peer_dsn;         /* delivered to a server that offered DSN (RFC 3461):
                               it reports success itself */
};

typedef void (*relay_done_fn)(void *arg, struct relay_result *results, size_t n);

struct relay *relay_new(struct event_base *base, struct dns *dns, struct spool *spool,
                        const struct config *cfg);
/* relay_set_config - after a reload; deliveries under way keep their settings */
void relay_set_config(struct relay *r, const struct config *cfg);
/* relay_free - drop every delivery under way (no callbacks) and close
 * every connection; NULL is fine */
void relay_free(struct relay *r);

/*
 * relay_deliver - deliver env to its recipients rcpt[0..n), all of the
 * same domain. done(arg, results, n) runs later on the loop, once; the
 * results are freed after it returns. env must stay alive until then.
 */
void relay_deliver(struct relay *r, const struct envelope *env, const size_t *rcpt, size_t n,
                   relay_done_fn done, void *arg);

/* relay_busy - deliveries under way or waiting for a connection */
size_t relay_busy(const struct relay *r);

#endif
