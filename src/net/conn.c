/*
 * conn - shared bufferevent helpers of the sessions; see conn.h.
 */
#include <event2/bufferevent_ssl.h>

#include "net/conn.h"
#include "util/log.h"

bool
conn_starttls(struct event_base *base, struct bufferevent **bevp, SSL *ssl,
              const char *prefix, const char *command, const char *ip)
{
    struct evbuffer *in = bufferevent_get_input(*bevp);
    size_t junk = evbuffer_get_length(in);

    if (junk) {
        log_warn("%sunknown[%s]: %zu octets pipelined after %s thrown away",
                 prefix, ip, junk, command);
        evbuffer_drain(in, junk);
    }
    struct bufferevent *tb = bufferevent_openssl_filter_new(base, *bevp, ssl,
                                BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
    if (!tb) {
        SSL_free(ssl);
        return false;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
    *bevp = tb;
    return true;
}

bool
conn_drained(struct bufferevent *bev, struct evbuffer_cb_entry **watch,
             evbuffer_cb_func cb, void *arg)
{
    if (evbuffer_get_length(bufferevent_get_output(bev)) > 0)
        return false;
    struct bufferevent *u = bufferevent_get_underlying(bev);
    if (u && evbuffer_get_length(bufferevent_get_output(u)) > 0) {
        if (!*watch)
            *watch = evbuffer_add_cb(bufferevent_get_output(u), cb, arg);
        return false;
    }
    return true;
}

void
conn_unwatch(struct bufferevent *bev, struct evbuffer_cb_entry **watch)
{
    if (*watch)
        evbuffer_remove_cb_entry(bufferevent_get_output(bufferevent_get_underlying(bev)), *watch);
    *watch = NULL;
}
