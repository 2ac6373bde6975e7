/*
 * conn - what the protocol sessions (SMTP, POP3) share about their
 * bufferevents: the STARTTLS/STLS upgrade in place, and knowing when the
 * last reply has really left before the connection is closed.
 */
#ifndef POSTINO_NET_CONN_H
#define POSTINO_NET_CONN_H

#include <stdbool.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <openssl/ssl.h>

/*
 * conn_starttls - put a TLS filter (server side) over *bevp after the
 * "ready to start TLS" reply was queued on it. Whatever the client sent
 * after the command was sent in the clear and may have been injected:
 * it is thrown away, never read inside TLS (CVE-2011-0411, RFC 3207 5,
 * RFC 2595 4), and logged as "<prefix>unknown[ip]: N octets pipelined
 * after <command> thrown away". On success *bevp is the new
 * bufferevent (it owns the old one and ssl) and true is returned; on
 * failure ssl is freed and *bevp is unchanged.
 */
bool conn_starttls(struct event_base *base, struct bufferevent **bevp, SSL *ssl,
                   const char *prefix, const char *command, const char *ip);

/*
 * conn_drained - has every octet written to bev left? With a TLS filter
 * the encrypted octets wait in the bufferevent under it after the
 * filter's own output is empty: then cb(arg) is armed (once, in *watch)
 * to run when that output drains, and false is returned.
 */
bool conn_drained(struct bufferevent *bev, struct evbuffer_cb_entry **watch,
                  evbuffer_cb_func cb, void *arg);
/* conn_unwatch - disarm what conn_drained armed; harmless when nothing is */
void conn_unwatch(struct bufferevent *bev, struct evbuffer_cb_entry **watch);

#endif
