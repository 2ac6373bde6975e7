/*
 * client - the outbound SMTP client; see relay.h.
 *
 * A delivery (struct rjob) walks: route (MX lookup, or the smarthost) →
 * for each host, its addresses → for each address, a connection (struct
 * rconn) that speaks SMTP until the transaction ends. A connection-level
 * failure (refused, timeout, 4xx/5xx greeting, TLS failure) moves on to
 * the next address and host; a reply to MAIL, RCPT or DATA decides the
 * recipients' fate. Idle connections wait a few seconds in a cache keyed
 * by destination, to carry the next message there.
 *
 * Does not: decide retries or bounces (the scheduler does), verify peer
 * certificates (TLS here is opportunistic, as Postfix's "may"; DANE later).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* libevent, OpenSSL */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* lower layers */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "auth/sasl.h"
#include "mail/smtp_cmd.h"
#include "dns/dns.h"
#include "queue/envelope.h"
#include "queue/spool.h"
#include "relay/mx.h"
#include "relay/relay.h"
#include "relay/reply.h"
#include "tls/tls.h"

#define IDLE_SECONDS     5      /* an idle connection waits this long for more */
#define MAX_PER_CONN     100    /* messages over one connection */
#define MAX_HOSTS        16
#define MAX_ADDRS        8

enum rconn_state {
    RC_CONNECTING, RC_GREETING, RC_EHLO, RC_HELO, RC_STARTTLS, RC_TLS_HANDSHAKE,
    RC_AUTH, RC_AUTH_LOGIN_USER, RC_AUTH_LOGIN_PASS,
    RC_TRANSACTION,     /* MAIL, RCPT..., DATA replies expected in order */
    RC_BODY,            /* waiting for the reply to the final dot */
    RC_DATA_DISCARD,    /* nobody accepted: the pipelined DATA's refusal, then RSET */
    RC_RSET,            /* the transaction is over; RSET's reply ends the job */
    RC_IDLE,
};

struct rjob;

struct rconn {
    struct relay       *relay;
    struct bufferevent *bev;
    enum rconn_state    state;
    char               *route;          /* destination key: domain or smarthost */
    char                host[MX_HOST_MAX + 1];
    char                addr[128];      /* "host[ip]:port" for logs */
    struct smtp_reply   reply;
    struct ehlo_caps    caps;
    bool                tls, esmtp;
    char                tls_info[160];
    unsigned            messages;
    struct rjob        *job;            /* the delivery using it, or NULL (idle) */
    struct event       *idle_timer;
    struct event       *free_ev;        /* deferred free, so callers may look at dead */
    bool                dead;
    bool                reused;         /* taken from the idle cache for this job */
    struct rconn       *next;           /* idle list */
    /* transaction: replies expected, in order */
    size_t              expect_rcpt;    /* RCPT replies still to come */
    size_t              rcpt_sent;      /* RCPTs written so far */
    size_t              rcpt_reply;     /* RCPT replies read so far */
    bool                data_sent;
    bool                mail_ok;
    size_t              accepted;       /* recipients the peer took */
};

struct rjob {
    struct relay         *relay;
    const struct envelope *env;
    size_t               *rcpt;         /* indices into env->rcpts */
    size_t                n;
    struct relay_result  *res;
    bool                 *decided;      /* res[i] final for this attempt */
    relay_done_fn         done;
    void                 *arg;
    char                 *route;        /* lower-case domain, or the smarthost */
    bool                  smarthost;
    unsigned              port;
    struct mx_record      hosts[MAX_HOSTS];
    size_t                nhosts, host_i;
    struct sockaddr_storage addrs[MAX_ADDRS];
    size_t                naddrs, addr_i;
    struct dns_query     *q;
    struct rconn         *conn;
    char                 *body;         /* the queue file, read when needed */
    size_t                body_off, body_len;
    char                  last_error[512];  /* why the last host failed */
    int                   last_class;
    struct rjob          *next;         /* waiting list */
    struct rjob          *all_prev, *all_next;  /* every job, for relay_free */
    bool                  started;      /* holds a slot */
    bool                  implicit_mx;  /* no MX: the domain itself is the host */
};

struct relay {
    struct event_base   *base;
    struct dns          *dns;
    struct spool        *spool;
    const struct config *cfg;
    SSL_CTX             *tls;
    struct rconn        *idle;          /* idle connections */
    struct rjob         *wait_head, *wait_tail;     /* waiting for a slot */
    struct rjob         *all;           /* every job not finished */
    size_t               jobs;          /* deliveries not finished */
    size_t               running;       /* deliveries started (holding a slot) */
    struct route_count  *routes;        /* deliveries started, per destination */
};

/* Deliveries under way to one destination, for its concurrency limit. */
struct route_count {
    struct route_count *next;
    unsigned            n;
    char                route[];
};

static void job_next_addr(struct rjob *j);
static void job_route(struct rjob *j);
static void conn_free(struct rconn *c);
static void job_finish(struct rjob *j);
static void conn_send_transaction(struct rconn *c);

/* ---- results ----------------------------------------------------------- */

static void
set_result(struct rjob *j, size_t i, int class, const char *status, const char *mta,
           const char *reply, const char *explanation)
{
    struct relay_result *r = &j->res[i];

    r->class = class;
    snprintf(r->relay, sizeof(r->relay), "%s", mta && j->conn ? j->conn->addr : "");
    snprintf(r->status, sizeof(r->status), "%s", status);
    snprintf(r->remote_mta, sizeof(r->remote_mta), "%s", mta ? mta : "");
    free(r->reply);
    free(r->explanation);
    r->reply = reply ? xstrdup(reply) : NULL;
    r->explanation = explanation ? xstrdup(explanation) : NULL;
    j->decided[i] = true;
}

/* fail_undecided - every recipient not yet decided gets this result */
static void
fail_undecided(struct rjob *j, int class, const char *status, const char *mta,
               const char *reply, const char *explanation)
{
    for (size_t i = 0; i < j->n; i++)
        if (!j->decided[i])
            set_result(j, i, class, status, mta, reply, explanation);
}

/* reply_status - the enhanced code of a reply, or one made from its class */
static void
reply_status(const struct smtp_reply *r, char *out, size_t outlen)
{
    if (r->enhanced[0])
        snprintf(out, outlen, "%s", r->enhanced);
    else
        snprintf(out, outlen, "%d.0.0", reply_class(r));
}

/* ---- the job ----------------------------------------------------------- */

static void
job_free(struct rjob *j)
{
    struct relay *r = j->relay;

    if (j->all_prev)
        j->all_prev->all_next = j->all_next;
    else
        r->all = j->all_next;
    if (j->all_next)
        j->all_next->all_prev = j->all_prev;
    for (size_t i = 0; i < j->n; i++) {
        free(j->res[i].reply);
        free(j->res[i].explanation);
    }
    free(j->res);
    free(j->decided);
    free(j->rcpt);
    free(j->route);
    free(j->body);
    free(j);
}

static struct route_count *
route_get(struct relay *r, const char *route, bool create)
{
    for (struct route_count *rc = r->routes; rc; rc = rc->next)
        if (strcmp(rc->route, route) == 0)
            return rc;
    if (!create)
        return NULL;
    size_t n = strlen(route);
    struct route_count *rc = xcalloc(1, sizeof(*rc) + n + 1);
    memcpy(rc->route, route, n + 1);
    rc->next = r->routes;
    r->routes = rc;
    return rc;
}

static void
route_put(struct relay *r, const char *route)
{
    for (struct route_count **pp = &r->routes; *pp; pp = &(*pp)->next) {
        if (strcmp((*pp)->route, route) != 0)
            continue;
        if (--(*pp)->n == 0) {
            struct route_count *rc = *pp;
            *pp = rc->next;
            free(rc);
        }
        return;
    }
}

static void start_waiting(struct relay *r);

/* job_finish - report and forget the job; let a waiting one start */
static void
job_finish(struct rjob *j)
{
    struct relay *r = j->relay;

    if (j->q)
        dns_cancel(j->q);
    j->q = NULL;
    fail_undecided(j, j->last_class ? j->last_class : 4, j->last_class == 5 ? "5.4.4" : "4.4.1",
                   NULL, j->last_error[0] ? j->last_error : "no server could be reached",
                   NULL);
    r->jobs--;
    if (j->started) {
        r->running--;
        route_put(r, j->route);
    }
    j->done(j->arg, j->res, j->n);
    job_free(j);
    start_waiting(r);
}

/* host_failed - this host did not work out: note why, try the next */
static void
host_failed(struct rjob *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
host_failed(struct rjob *j, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->last_error, sizeof(j->last_error), fmt, ap);
    va_end(ap);
    j->last_class = 4;
    log_info("%s: %s", j->env->id, j->last_error);
}

static void
addr_cb(void *arg, enum dns_status st, const struct sockaddr_storage *v, size_t n,
        const char *why)
{
    struct rjob *j = arg;

    j->q = NULL;
    if (j->implicit_mx && (st == DNS_NXDOMAIN || st == DNS_NODATA)) {
        /* No MX and no address: nowhere to deliver, and that is final. */
        snprintf(j->last_error, sizeof(j->last_error),
                 "the domain %s has no mail server (no MX and no address record)", j->route);
        fail_undecided(j, 5, "5.1.2", NULL, j->last_error,
                       "The domain of this address has no mail server. Check the address for "
                       "a typing mistake.");
        job_finish(j);
        return;
    }
    if (st != DNS_OK || n == 0) {
        host_failed(j, "cannot find the address of %s: %s", j->hosts[j->host_i].host,
                    st == DNS_TEMPFAIL ? why : "no such host");
        j->host_i++;
        job_next_addr(j);
        return;
    }
    j->naddrs = n < MAX_ADDRS ? n : MAX_ADDRS;
    memcpy(j->addrs, v, j->naddrs * sizeof(*v));
    j->addr_i = 0;
    job_next_addr(j);
}

/* ---- connections ------------------------------------------------------- */

static void conn_read_cb(struct bufferevent *bev, void *arg);
static void conn_event_cb(struct bufferevent *bev, short what, void *arg);

static void
conn_printf(struct rconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
conn_printf(struct rconn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    evbuffer_add_vprintf(bufferevent_get_output(c->bev), fmt, ap);
    va_end(ap);
}

static void
conn_timeouts(struct rconn *c, unsigned secs)
{
    struct timeval tv = { secs, 0 };
    bufferevent_set_timeouts(c->bev, &tv, &tv);
}

/* conn_free_cb - the deferred end of conn_free() */
static void
conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rconn *c = arg;
    (void)fd;
    (void)what;

    if (c->bev) {
        if (c->tls) {
            SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
            if (ssl)
                SSL_shutdown(ssl);
        }
        bufferevent_free(c->bev);
    }
    event_free(c->free_ev);
    reply_free(&c->reply);
    free(c->route);
    free(c);
}



/*
 * conn_free - close and forget a connection. It stops at once (no more
 * callbacks); the memory goes on the next turn of the loop, so code still
 * on the stack may test c->dead.
 */
static void
conn_free(struct rconn *c)
{
    struct relay *r = c->relay;

    if (c->dead)
        return;
    c->dead = true;
    if (c->idle_timer)
        event_free(c->idle_timer);
    c->idle_timer = NULL;
    for (struct rconn **pp = &r->idle; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->bev) {
        bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
        /* Let a last QUIT go out if the kernel takes it now. */
        bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);
        bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    }
    event_active(c->free_ev, EV_TIMEOUT, 0);
}

/* conn_drop - close a connection we are done with */
static void
conn_drop(struct rconn *c)
{
    conn_free(c);
}

static void
idle_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
    struct rconn *c = arg;
    (void)fd;
    (void)what;
    /* Say goodbye politely; do not wait for the answer. */
    conn_printf(c, "QUIT\r\n");
    conn_drop(c);
}

/* conn_release - the job is done with c: keep it idle for the next
 * message to the same destination, or close it */
static void
conn_release(struct rconn *c, bool reusable)
{
    struct relay *r = c->relay;

    c->job = NULL;
    if (!reusable || c->messages >= MAX_PER_CONN) {
        if (c->state != RC_CONNECTING)
            conn_printf(c, "QUIT\r\n");
        conn_drop(c);
        return;
    }
    c->state = RC_IDLE;
    c->next = r->idle;
    r->idle = c;
    if (!c->idle_timer)
        c->idle_timer = evtimer_new(r->base, idle_timeout_cb, c);
    struct timeval tv = { IDLE_SECONDS, 0 };
    evtimer_add(c->idle_timer, &tv);
}

/* conn_fail - the connection broke before the transaction was decided */
static void
conn_fail(struct rconn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
conn_fail(struct rconn *c, const char *fmt, ...)
{
    struct rjob *j = c->job;
    char why[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (!j) {
        conn_drop(c);
        return;
    }
    j->conn = NULL;
    c->job = NULL;
    bool in_transaction = c->state == RC_TRANSACTION || c->state == RC_BODY;
    if (c->reused && c->state == RC_TRANSACTION && !c->mail_ok) {
        /* The server closed the idle connection as we took it: nothing
         * was accepted, so start over with a new connection. */
        conn_drop(c);
        job_route(j);
        return;
    }
    host_failed(j, "%s: %s", c->addr, why);
    conn_drop(c);
    if (in_transaction) {
        /* Recipients may already be accepted: do not send the message
         * twice over another route in the same attempt. */
        fail_undecided(j, 4, "4.4.2", j->hosts[j->host_i < j->nhosts ? j->host_i : 0].host,
                       j->last_error, NULL);
        job_finish(j);
        return;
    }
    j->addr_i++;
    job_next_addr(j);
}

static void
conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct rconn *c = arg;

    if (what & BEV_EVENT_CONNECTED) {
        if (c->state == RC_CONNECTING) {
            if (c->tls) {           /* implicit TLS: connected means handshake done */
                SSL *ssl = bufferevent_openssl_get_ssl(bev);
                if (ssl)
                    tls_describe(ssl, c->tls_info, sizeof(c->tls_info));
            }
            c->state = RC_GREETING;
            conn_timeouts(c, c->relay->cfg->smtp_client_timeout);
        } else if (c->state == RC_TLS_HANDSHAKE) {
            SSL *ssl = bufferevent_openssl_get_ssl(bev);
            if (ssl)
                tls_describe(ssl, c->tls_info, sizeof(c->tls_info));
            c->state = RC_EHLO;
            conn_printf(c, "EHLO %s\r\n", c->relay->cfg->hostname);
        }
        return;
    }
    if (c->state == RC_IDLE) {          /* the peer closed an idle connection */
        conn_drop(c);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT)
        conn_fail(c, "%s", c->state == RC_CONNECTING ? "connection timed out"
                                                     : "timeout waiting for the server");
    else if (c->state == RC_CONNECTING)
        conn_fail(c, "connection refused or unreachable (%s)",
                  evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
    else if (c->state == RC_TLS_HANDSHAKE)
        conn_fail(c, "TLS handshake failed");
    else
        conn_fail(c, "connection lost");
}

/* conn_open - connect to the job's current address */
static void
conn_open(struct rjob *j)
{
    struct relay *r = j->relay;
    struct rconn *c = xcalloc(1, sizeof(*c));
    struct sockaddr_storage ss = j->addrs[j->addr_i];
    char ip[INET6_ADDRSTRLEN] = "?";
    socklen_t len;

    c->relay = r;
    c->free_ev = evtimer_new(r->base, conn_free_cb, c);
    c->route = xstrdup(j->route);
    snprintf(c->host, sizeof(c->host), "%s", j->hosts[j->host_i].host);
    reply_init(&c->reply);
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_port = htons((uint16_t)j->port);
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_port = htons((uint16_t)j->port);
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        len = sizeof(*s4);
    }
    snprintf(c->addr, sizeof(c->addr), "%.40s[%s]:%u", c->host, ip, j->port);
    c->job = j;
    j->conn = c;
    bool implicit = j->smarthost && strcmp(r->cfg->relay_tls, "implicit") == 0;
    if (implicit) {
        SSL *ssl = SSL_new(r->tls);
        SSL_set_tlsext_host_name(ssl, c->host);
        c->bev = bufferevent_openssl_socket_new(r->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                BEV_OPT_CLOSE_ON_FREE);
        bufferevent_openssl_set_allow_dirty_shutdown(c->bev, 1);
        c->tls = true;
    } else {
        c->bev = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
    c->state = RC_CONNECTING;
    conn_timeouts(c, r->cfg->smtp_connect_timeout);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, (int)len) < 0)
        conn_fail(c, "cannot connect: %s", strerror(errno));
}

/* ip_literal - is host an IPv4 or IPv6 address? Fill ss when it is. */
static bool
ip_literal(const char *host, struct sockaddr_storage *ss)
{
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        return true;
    }
    return false;
}

/* job_next_addr - try the next address, the next host, or give up */
static void
job_next_addr(struct rjob *j)
{
    for (;;) {
        if (j->host_i >= j->nhosts) {
            job_finish(j);
            return;
        }
        if (j->naddrs == 0 || j->addr_i >= j->naddrs) {
            if (j->naddrs) {            /* every address of this host failed */
                j->host_i++;
                j->naddrs = 0;
                continue;
            }
            /* An IP address needs no lookup (smarthost "[192.0.2.1]",
             * address literals); a name is looked up. */
            if (ip_literal(j->hosts[j->host_i].host, &j->addrs[0])) {
                j->naddrs = 1;
                j->addr_i = 0;
                continue;
            }
            j->q = dns_addr(j->relay->dns, j->hosts[j->host_i].host, addr_cb, j);
            return;
        }
        conn_open(j);
        return;
    }
}

/* ---- the SMTP dialogue ------------------------------------------------- */

/* job_load_body - read the queued message (once per job) */
static bool
job_load_body(struct rjob *j)
{
    if (j->body)
        return true;
    /* XXX read on the loop thread: queue files are fresh in the page cache;
     * large messages should be read by a worker. */
    if (spool_read_body(j->relay->spool, j->env->id, &j->body, &j->body_off, &j->body_len) < 0) {
        snprintf(j->last_error, sizeof(j->last_error), "cannot read the queued message: %s",
                 strerror(errno));
        j->last_class = 4;
        return false;
    }
    return true;
}

/* conn_send_body - the message in SMTP form: CRLF line ends, dot-stuffed */
static void
conn_send_body(struct rconn *c)
{
    struct rjob *j = c->job;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const char *p = j->body + j->body_off, *end = j->body + j->body_len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (*p == '.')
            evbuffer_add(out, ".", 1);      /* RFC 5321 4.5.2 */
        evbuffer_add(out, p, (size_t)(le - p));
        evbuffer_add(out, "\r\n", 2);
        p = nl ? nl + 1 : end;
    }
    evbuffer_add(out, ".\r\n", 3);
    c->state = RC_BODY;
    /* RFC 5321 4.5.3.2.6: the reply to the final dot may take longer (10
     * minutes against the 5 of the other replies): twice the usual wait. */
    conn_timeouts(c, 2 * c->relay->cfg->smtp_client_timeout);
}

/* xtext - RFC 3461 4: encode s for ORCPT/ENVID values */
static void
put_xtext(struct evbuffer *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
            evbuffer_add_printf(out, "+%02X", *p);
        else
            evbuffer_add(out, p, 1);
    }
}

/* conn_mail - MAIL FROM with the parameters the peer understands */
static void
conn_mail(struct rconn *c)
{
    struct rjob *j = c->job;
    const struct envelope *env = j->env;
    struct evbuffer *out = bufferevent_get_output(c->bev);

    evbuffer_add_printf(out, "MAIL FROM:<%s>", env->sender);
    if (c->caps.size)
        evbuffer_add_printf(out, " SIZE=%zu", env->size);
    if ((env->flags & ENV_F_8BITMIME) && c->caps.eightbitmime)
        evbuffer_add_printf(out, " BODY=8BITMIME");
    if (env->flags & ENV_F_SMTPUTF8)
        evbuffer_add_printf(out, " SMTPUTF8");
    if (c->caps.dsn) {
        if (env->ret)
            evbuffer_add_printf(out, " RET=%s", env->ret == RET_FULL ? "FULL" : "HDRS");
        if (env->envid) {
            evbuffer_add_printf(out, " ENVID=");
            evbuffer_add(out, env->envid, strlen(env->envid));     /* kept as xtext */
        }
    }
    evbuffer_add(out, "\r\n", 2);
}

static void
conn_rcpt(struct rconn *c, size_t k)
{
    struct rjob *j = c->job;
    const struct env_rcpt *rc = &j->env->rcpts[j->rcpt[k]];
    struct evbuffer *out = bufferevent_get_output(c->bev);

    evbuffer_add_printf(out, "RCPT TO:<%s>", rc->mailbox);
    if (c->caps.dsn) {
        if (rc->notify) {
            static const char *const names[] = { "NEVER", "SUCCESS", "FAILURE", "DELAY" };
            const char *sep = " NOTIFY=";
            for (int b = 0; b < 4; b++)
                if (rc->notify & (1u << b)) {
                    evbuffer_add_printf(out, "%s%s", sep, names[b]);
                    sep = ",";
                }
        }
        if (rc->orcpt)
            evbuffer_add_printf(out, " ORCPT=%s", rc->orcpt);   /* kept as received */
        else {
            evbuffer_add_printf(out, " ORCPT=rfc822;");
            put_xtext(out, rc->orig);
        }
    }
    evbuffer_add(out, "\r\n", 2);
}

/* conn_begin - the session is ready: check the message fits, then send */
static void
conn_begin(struct rconn *c)
{
    struct rjob *j = c->job;
    const struct envelope *env = j->env;

    if (!job_load_body(j)) {
        conn_release(c, true);
        j->conn = NULL;
        job_finish(j);
        return;
    }
    /* RFC 6531 3.4: a message that needs SMTPUTF8 cannot go to a server
     * without it; that will not change, so it is permanent. */
    if ((env->flags & ENV_F_SMTPUTF8) && !c->caps.smtputf8) {
        fail_undecided(j, 5, "5.6.7", c->host, "the server does not support SMTPUTF8",
                       "The recipient's mail server does not accept internationalized "
                       "addresses or headers (SMTPUTF8), which this message needs.");
        j->conn = NULL;
        conn_release(c, true);
        job_finish(j);
        return;
    }
    /* RFC 1870 6: it will not take a message larger than it says. */
    if (c->caps.size && c->caps.size_max && env->size > c->caps.size_max) {
        char why[160];
        snprintf(why, sizeof(why), "the message is %zu octets; the server takes at most %llu",
                 env->size, c->caps.size_max);
        fail_undecided(j, 5, "5.3.4", c->host, why,
                       "The message is larger than the recipient's mail server accepts.");
        j->conn = NULL;
        conn_release(c, true);
        job_finish(j);
        return;
    }
    c->state = RC_TRANSACTION;
    c->rcpt_sent = c->rcpt_reply = 0;
    c->accepted = 0;
    c->data_sent = false;
    c->mail_ok = false;
    conn_send_transaction(c);
}

/*
 * conn_send_transaction - write what may be written now: with PIPELINING
 * (RFC 2920) MAIL, every RCPT and DATA at once; without it, one command
 * per reply.
 */
static void
conn_send_transaction(struct rconn *c)
{
    struct rjob *j = c->job;

    if (c->rcpt_sent == 0 && !c->data_sent && c->rcpt_reply == 0 && !c->mail_ok) {
        conn_mail(c);
        if (!c->caps.pipelining)
            return;
    }
    while (c->rcpt_sent < j->n) {
        if (!c->caps.pipelining && c->rcpt_sent > c->rcpt_reply)
            return;
        if (!c->caps.pipelining && !c->mail_ok)
            return;
        conn_rcpt(c, c->rcpt_sent++);
        if (!c->caps.pipelining)
            return;
    }
    if (!c->data_sent && (c->caps.pipelining || c->rcpt_reply == j->n)) {
        conn_printf(c, "DATA\r\n");
        c->data_sent = true;
    }
}

static void
conn_auth(struct rconn *c)
{
    struct relay *r = c->relay;
    char *pw = NULL, user[SASL_FIELD_MAX + 1];
    size_t pwlen = 0;

    if (file_read(r->cfg->relay_auth_password_file, SASL_FIELD_MAX, &pw, &pwlen) < 0) {
        conn_fail(c, "cannot read relay_auth_password_file %s: %s",
                  r->cfg->relay_auth_password_file, strerror(errno));
        return;
    }
    while (pwlen && (pw[pwlen - 1] == '\n' || pw[pwlen - 1] == '\r'))
        pw[--pwlen] = '\0';
    snprintf(user, sizeof(user), "%s", r->cfg->relay_auth_user);
    if (c->caps.auth_plain) {
        size_t ul = strlen(user);
        unsigned char msg[2 * SASL_FIELD_MAX + 3];
        char b64[sizeof(msg) * 4 / 3 + 8];
        msg[0] = '\0';
        memcpy(msg + 1, user, ul);
        msg[1 + ul] = '\0';
        memcpy(msg + 2 + ul, pw, pwlen);
        base64_encode(msg, 2 + ul + pwlen, b64);
        conn_printf(c, "AUTH PLAIN %s\r\n", b64);
        explicit_bzero(msg, sizeof(msg));
        explicit_bzero(b64, sizeof(b64));
        c->state = RC_AUTH;
    } else if (c->caps.auth_login) {
        conn_printf(c, "AUTH LOGIN\r\n");
        c->state = RC_AUTH_LOGIN_USER;
    } else {
        explicit_bzero(pw, pwlen);
        free(pw);
        conn_fail(c, "the smarthost offers neither AUTH PLAIN nor LOGIN");
        return;
    }
    explicit_bzero(pw, pwlen);
    free(pw);
}

/* conn_login_step - the LOGIN exchange: user name, then password */
static void
conn_login_step(struct rconn *c)
{
    struct relay *r = c->relay;
    char b64[SASL_FIELD_MAX * 2];

    if (c->state == RC_AUTH_LOGIN_USER) {
        base64_encode((const unsigned char *)r->cfg->relay_auth_user,
                      strnlen(r->cfg->relay_auth_user, SASL_FIELD_MAX), b64);
        conn_printf(c, "%s\r\n", b64);
        c->state = RC_AUTH_LOGIN_PASS;
        return;
    }
    char *pw = NULL;
    size_t pwlen = 0;
    if (file_read(r->cfg->relay_auth_password_file, SASL_FIELD_MAX, &pw, &pwlen) < 0) {
        conn_fail(c, "cannot read relay_auth_password_file: %s", strerror(errno));
        return;
    }
    while (pwlen && (pw[pwlen - 1] == '\n' || pw[pwlen - 1] == '\r'))
        pw[--pwlen] = '\0';
    base64_encode((const unsigned char *)pw, pwlen, b64);
    conn_printf(c, "%s\r\n", b64);
    explicit_bzero(pw, pwlen);
    explicit_bzero(b64, sizeof(b64));
    free(pw);
    c->state = RC_AUTH;
}

/* conn_ready - EHLO/HELO done (and TLS, AUTH): start the transaction */
static void
conn_ready(struct rconn *c)
{
    struct relay *r = c->relay;
    struct rjob *j = c->job;
    bool want_auth = j->smarthost && r->cfg->relay_auth_user[0];

    if (!c->tls && c->caps.starttls && r->tls) {
        conn_printf(c, "STARTTLS\r\n");
        c->state = RC_STARTTLS;
        return;
    }
    if (want_auth && !c->tls) {
        /* Credentials only ever travel encrypted. */
        conn_fail(c, "the smarthost does not offer STARTTLS; refusing to send the password "
                     "in the clear");
        return;
    }
    if (want_auth) {
        conn_auth(c);
        return;
    }
    conn_begin(c);
}

/* end_transaction - RSET, whose reply ends the job */
static void
end_transaction(struct rconn *c)
{
    conn_printf(c, "RSET\r\n");
    c->state = RC_RSET;
}

/* on_transaction_reply - a reply to MAIL, RCPT or DATA, in order */
static void
on_transaction_reply(struct rconn *c)
{
    struct rjob *j = c->job;
    struct smtp_reply *rp = &c->reply;
    char line[600], st[16];
    int cls = reply_class(rp);

    reply_oneline(rp, line, sizeof(line));
    reply_status(rp, st, sizeof(st));
    if (!c->mail_ok) {
        /* The reply to MAIL. */
        if (cls != 2) {
            fail_undecided(j, cls == 5 ? 5 : 4, st, c->host, line, NULL);
            /* Pipelined RCPT and DATA replies would follow; closing is
             * simpler than reading and discarding them. */
            j->conn = NULL;
            c->job = NULL;
            conn_printf(c, "QUIT\r\n");
            conn_drop(c);
            job_finish(j);
            return;
        }
        c->mail_ok = true;
        conn_send_transaction(c);
        return;
    }
    if (c->rcpt_reply < j->n) {
        size_t k = c->rcpt_reply++;
        if (cls == 2)
            c->accepted++;
        else
            set_result(j, k, cls == 5 ? 5 : 4, st, c->host, line, NULL);
        if (c->rcpt_reply == j->n && c->accepted == 0) {
            /* Nobody accepted: a pipelined DATA will be refused too. */
            if (c->data_sent)
                c->state = RC_DATA_DISCARD;
            else
                end_transaction(c);
            return;
        }
        conn_send_transaction(c);
        return;
    }
    /* The reply to DATA. */
    if (cls == 3) {
        if (c->accepted == 0) {         /* a 354 with no recipient: end it empty */
            conn_printf(c, ".\r\n");
            c->state = RC_BODY;
            return;
        }
        conn_send_body(c);
        return;
    }
    fail_undecided(j, cls == 5 ? 5 : 4, st, c->host, line, NULL);
    end_transaction(c);
}

/* on_reply - a complete reply, by state */
static void
on_reply(struct rconn *c)
{
    struct smtp_reply *rp = &c->reply;
    struct rjob *j = c->job;
    int cls = reply_class(rp);
    char line[600], st[16];

    reply_oneline(rp, line, sizeof(line));
    switch (c->state) {
    case RC_GREETING:
        if (cls != 2) {
            conn_printf(c, "QUIT\r\n");
            conn_fail(c, "refused to talk to us: %s", line);
            return;
        }
        conn_printf(c, "EHLO %s\r\n", c->relay->cfg->hostname);
        c->state = RC_EHLO;
        return;
    case RC_EHLO:
        if (cls == 2) {
            c->esmtp = true;
            ehlo_parse(rp, &c->caps);
            conn_ready(c);
            return;
        }
        if (cls == 5 && !c->tls) {          /* an old server: HELO (RFC 5321 3.2) */
            conn_printf(c, "HELO %s\r\n", c->relay->cfg->hostname);
            c->state = RC_HELO;
            return;
        }
        conn_fail(c, "refused EHLO: %s", line);
        return;
    case RC_HELO:
        if (cls != 2) {
            conn_fail(c, "refused HELO: %s", line);
            return;
        }
        memset(&c->caps, 0, sizeof(c->caps));
        conn_ready(c);
        return;
    case RC_STARTTLS: {
        if (cls != 2) {
            /* Offered but refused: carry on in the clear (opportunistic). */
            c->caps.starttls = false;
            conn_ready(c);
            return;
        }
        SSL *ssl = SSL_new(c->relay->tls);
        SSL_set_tlsext_host_name(ssl, c->host);
        struct bufferevent *tb = bufferevent_openssl_filter_new(c->relay->base, c->bev, ssl,
                                    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
        if (!tb) {
            SSL_free(ssl);
            conn_fail(c, "cannot start TLS");
            return;
        }
        bufferevent_openssl_set_allow_dirty_shutdown(tb, 1);
        c->bev = tb;
        c->tls = true;
        memset(&c->caps, 0, sizeof(c->caps));
        bufferevent_setcb(tb, conn_read_cb, NULL, conn_event_cb, c);
        conn_timeouts(c, c->relay->cfg->smtp_client_timeout);
        bufferevent_enable(tb, EV_READ | EV_WRITE);
        c->state = RC_TLS_HANDSHAKE;
        return;
    }
    case RC_AUTH_LOGIN_USER:
    case RC_AUTH_LOGIN_PASS:
        if (cls != 3) {
            conn_fail(c, "the smarthost refused our login: %s", line);
            return;
        }
        conn_login_step(c);
        return;
    case RC_AUTH:
        if (cls != 2) {
            /* Wrong credentials will not get better by themselves, but the
             * administrator can fix them: temporary, with a clear reason. */
            conn_fail(c, "the smarthost refused our credentials: %s", line);
            return;
        }
        conn_begin(c);
        return;
    case RC_TRANSACTION:
        on_transaction_reply(c);
        return;
    case RC_BODY:
        reply_status(rp, st, sizeof(st));
        c->messages++;
        for (size_t i = 0; i < j->n; i++)
            if (!j->decided[i]) {
                set_result(j, i, cls == 2 ? 2 : cls == 5 ? 5 : 4, st, c->host, line, NULL);
                j->res[i].peer_dsn = c->caps.dsn;
            }
        log_info("%s: relay=%s, tls=%s, %s", j->env->id, c->addr,
                 c->tls_info[0] ? c->tls_info : "none", line);
        j->conn = NULL;
        conn_release(c, true);
        job_finish(j);
        return;
    case RC_DATA_DISCARD:
        end_transaction(c);
        return;
    case RC_RSET:
        j->conn = NULL;
        conn_release(c, cls == 2);
        job_finish(j);
        return;
    default:
        return;
    }
}

static void
conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct rconn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    for (;;) {
        size_t len;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
        if (!line) {
            if (evbuffer_get_length(in) > 4096) {
                conn_fail(c, "the server sent a line too long");
            }
            return;
        }
        int rc = reply_feed_line(&c->reply, line, len);
        free(line);
        if (rc < 0) {
            conn_fail(c, "the server does not speak SMTP");
            return;
        }
        if (rc == 0)
            continue;
        if (c->state == RC_IDLE) {          /* unasked reply: 421 shutting down */
            conn_drop(c);
            return;
        }
        struct bufferevent *b = c->bev;
        on_reply(c);
        if (c->dead)
            return;
        reply_reset(&c->reply);
        if (c->bev != b)
            return;                         /* STARTTLS replaced the stream */
    }
}

/* ---- routes and the engine --------------------------------------------- */

static unsigned
rnd(void *arg)
{
    (void)arg;
    return (unsigned)random();
}

static void
mx_cb(void *arg, enum dns_status st, struct mx_record *v, size_t n, const char *why)
{
    struct rjob *j = arg;
    struct relay *r = j->relay;

    j->q = NULL;
    if (st == DNS_TEMPFAIL) {
        snprintf(j->last_error, sizeof(j->last_error),
                 "cannot look up the mail servers of %s: %s", j->route, why);
        fail_undecided(j, 4, "4.4.3", NULL, j->last_error, NULL);
        job_finish(j);
        return;
    }
    if (st == DNS_NXDOMAIN) {
        snprintf(j->last_error, sizeof(j->last_error), "the domain %s does not exist", j->route);
        fail_undecided(j, 5, "5.1.2", NULL, j->last_error,
                       "The domain of this address does not exist; check it for a typing "
                       "mistake.");
        job_finish(j);
        return;
    }
    if (st == DNS_NODATA || n == 0) {
        /* RFC 5321 5.1: no MX, the domain itself is the implicit MX. */
        j->implicit_mx = true;
        j->nhosts = 1;
        j->hosts[0].pref = 0;
        snprintf(j->hosts[0].host, sizeof(j->hosts[0].host), "%s", j->route);
        job_next_addr(j);
        return;
    }
    size_t m = n < MAX_HOSTS ? n : MAX_HOSTS;
    memcpy(j->hosts, v, m * sizeof(*v));
    switch (mx_order(j->hosts, &m, r->cfg->hostname, rnd, NULL)) {
    case MX_OK:
        j->nhosts = m;
        job_next_addr(j);
        return;
    case MX_NULL:
        snprintf(j->last_error, sizeof(j->last_error),
                 "the domain %s does not accept mail (null MX)", j->route);
        fail_undecided(j, 5, "5.1.10", NULL, j->last_error,
                       "The domain of this address has declared that it accepts no email "
                       "at all (a \"null MX\" record).");
        break;
    case MX_LOOP:
        snprintf(j->last_error, sizeof(j->last_error),
                 "mail for %s loops back to myself (%s is its best MX)", j->route,
                 r->cfg->hostname);
        fail_undecided(j, 5, "5.4.6", NULL, j->last_error,
                       "The domain's mail servers point back to this server, which does not "
                       "handle that domain: a configuration error at the recipient's side.");
        break;
    case MX_UNUSABLE:
        snprintf(j->last_error, sizeof(j->last_error),
                 "the MX records of %s name no usable host", j->route);
        fail_undecided(j, 5, "5.4.4", NULL, j->last_error,
                       "The domain's mail server records are broken, so mail cannot be "
                       "delivered to it.");
        break;
    }
    job_finish(j);
}

/* job_start - a connection may be opened for j: reuse an idle one or route */
static void
job_start(struct rjob *j)
{
    struct relay *r = j->relay;

    for (struct rconn **pp = &r->idle; *pp; pp = &(*pp)->next) {
        struct rconn *c = *pp;
        if (strcmp(c->route, j->route) != 0)
            continue;
        *pp = c->next;
        evtimer_del(c->idle_timer);
        c->job = j;
        c->reused = true;
        j->conn = c;
        conn_timeouts(c, r->cfg->smtp_client_timeout);
        conn_begin(c);
        return;
    }
    job_route(j);
}

/* job_route - find the hosts to try: the smarthost, or the MX records */
static void
job_route(struct rjob *j)
{
    struct relay *r = j->relay;

    j->q = NULL;
    j->implicit_mx = false;
    j->nhosts = j->host_i = j->naddrs = j->addr_i = 0;
    if (j->smarthost) {
        char host[256];
        unsigned port;
        config_relay_host(r->cfg, host, sizeof(host), &port);
        j->port = port;
        j->nhosts = 1;
        snprintf(j->hosts[0].host, sizeof(j->hosts[0].host), "%s", host);
        job_next_addr(j);
    } else if (j->route[0] == '[') {
        /* An address literal (RFC 5321 4.1.3): that very address. */
        const char *lit = j->route + 1;
        if (strncasecmp(lit, "ipv6:", 5) == 0)
            lit += 5;
        j->nhosts = 1;
        snprintf(j->hosts[0].host, sizeof(j->hosts[0].host), "%.*s",
                 (int)strcspn(lit, "]"), lit);
        job_next_addr(j);
    } else {
        j->q = dns_mx(r->dns, j->route, mx_cb, j);
    }
}

/* start_waiting - start the jobs that the limits now allow, in order,
 * skipping those whose destination is at its own limit */
static void
start_waiting(struct relay *r)
{
    struct rjob **pp = &r->wait_head, *prev = NULL;

    while (*pp && r->running < r->cfg->max_deliveries) {
        struct rjob *j = *pp;
        struct route_count *rc = route_get(r, j->route, true);
        if (rc->n >= r->cfg->max_deliveries_per_destination) {
            prev = j;
            pp = &j->next;
            continue;
        }
        *pp = j->next;
        if (r->wait_tail == j)
            r->wait_tail = prev;
        rc->n++;
        r->running++;
        j->started = true;
        job_start(j);
    }
}

struct relay *
relay_new(struct event_base *base, struct dns *dns, struct spool *spool,
          const struct config *cfg)
{
    struct relay *r = xcalloc(1, sizeof(*r));

    r->base = base;
    r->dns = dns;
    r->spool = spool;
    r->cfg = cfg;
    r->tls = SSL_CTX_new(TLS_client_method());
    if (r->tls) {
        SSL_CTX_set_min_proto_version(r->tls, TLS1_2_VERSION);
        /* Opportunistic: any certificate (RFC 7435); the log says which TLS. */
        SSL_CTX_set_verify(r->tls, SSL_VERIFY_NONE, NULL);
    }
    return r;
}

void
relay_set_config(struct relay *r, const struct config *cfg)
{
    r->cfg = cfg;
}

size_t
relay_busy(const struct relay *r)
{
    return r->jobs;
}

void
relay_deliver(struct relay *r, const struct envelope *env, const size_t *rcpt, size_t n,
              relay_done_fn done, void *arg)
{
    struct rjob *j = xcalloc(1, sizeof(*j));

    j->relay = r;
    j->env = env;
    j->rcpt = xcalloc(n, sizeof(size_t));
    memcpy(j->rcpt, rcpt, n * sizeof(size_t));
    j->n = n;
    j->res = xcalloc(n, sizeof(*j->res));
    j->decided = xcalloc(n, sizeof(bool));
    j->done = done;
    j->arg = arg;
    j->port = r->cfg->smtp_port;
    j->smarthost = r->cfg->relay_host[0] != '\0';
    if (j->smarthost) {
        j->route = xasprintf("[%s]", r->cfg->relay_host);
    } else {
        const char *at = strrchr(env->rcpts[rcpt[0]].mailbox, '@');
        j->route = xstrdup(at ? at + 1 : "");
        for (char *p = j->route; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    r->jobs++;
    j->all_next = r->all;
    if (r->all)
        r->all->all_prev = j;
    r->all = j;
    if (r->wait_tail)
        r->wait_tail->next = j;
    else
        r->wait_head = j;
    r->wait_tail = j;
    start_waiting(r);
}

void
relay_free(struct relay *r)
{
    if (!r)
        return;
    /* Every job, waiting or running: dropped without callbacks; the
     * messages stay queued. Connections end now; their memory goes with
     * the loop's next turn, which the daemon runs once more. */
    while (r->all) {
        struct rjob *j = r->all;
        if (j->q)
            dns_cancel(j->q);
        if (j->conn)
            conn_free(j->conn);
        job_free(j);
    }
    while (r->idle)
        conn_free(r->idle);
    while (r->routes) {
        struct route_count *rc = r->routes;
        r->routes = rc->next;
        free(rc);
    }
    SSL_CTX_free(r->tls);
    free(r);
}
