/*
 * serve - "postino serve"; see serve.h.
 *
 * Startup order: configuration, log, data folder, queue (spool), users
 * and aliases, event loop, commit workers, scheduler (which re-queues
 * what a previous run left), listeners, signals. SIGTERM/SIGINT stop
 * accepting, end idle sessions with 421, let commits and deliveries
 * under way finish, and exit 0. SIGHUP reloads the configuration (all
 * but the listening addresses and data_dir), the users and the aliases.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* libevent */
#include <event2/event.h>
#include <event2/listener.h>

/* postino, lower layers first */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "auth/guard.h"
#include "auth/users.h"
#include "deliver/aliases.h"
#include "deliver/maildir.h"
#include "mail/address.h"
#include "deliver/resolve.h"
#include "dns/dns.h"
#include "relay/relay.h"
#include "queue/scheduler.h"
#include "queue/spool.h"
#include "tls/tls.h"
#include "smtp/smtp.h"
#include "pop3/pop3.h"
#include "imap/imap.h"
#include "policy/ratelimit.h"
#include "policy/msgauth.h"
#include "dmarc/dmarc.h"
#include "util/cidr.h"
#include "daemon/control.h"
#include "daemon/privs.h"
#include "daemon/serve.h"

#define COMMIT_BATCH 256
#define IPTAB_SIZE   4096

/* Connections per client address: a small chained hash table. */
struct ipcount {
    struct ipcount *next;
    unsigned        n;
    char            ip[64];
};

/* What a listener serves. */
enum proto { PROTO_SMTP, PROTO_POP3, PROTO_POP3S, PROTO_IMAP, PROTO_IMAPS };

/* What a listener passes to accept_cb. */
struct listener {
    struct server          *sv;
    struct evconnlistener  *l;
    enum smtp_kind          kind;
    enum proto              proto;
};

struct server {
    struct event_base     *base;
    struct config         *cfg;
    const char            *cfg_path;
    char                 **overrides;
    size_t                 noverrides;
    struct smtp_ctx        smtp;
    struct pop3_ctx        pop3;
    struct imap_ctx        imap;
    struct listener       *listeners;
    size_t                 nlisteners;
    struct event          *sig_term, *sig_int, *sig_hup, *stop_check;
    struct event          *log_timer;       /* flushes the log buffer ... */
    struct event          *log_now;         /* ... and at the end of a loop turn */
    struct dns            *dns;
    struct relay          *relay;
    struct ipcount        *iptab[IPTAB_SIZE];
    struct ratelimit      *conn_rate;       /* new connections per client IP */
    unsigned               nconn;
    bool                   stopping;
};

static unsigned
ip_hash(const char *ip)
{
    unsigned h = 5381;
    for (; *ip; ip++)
        h = h * 33 + (unsigned char)*ip;
    return h % IPTAB_SIZE;
}

static struct ipcount *
ip_get(struct server *sv, const char *ip, bool create)
{
    unsigned h = ip_hash(ip);
    for (struct ipcount *c = sv->iptab[h]; c; c = c->next)
        if (strcmp(c->ip, ip) == 0)
            return c;
    if (!create)
        return NULL;
    struct ipcount *c = xcalloc(1, sizeof(*c));
    snprintf(c->ip, sizeof(c->ip), "%s", ip);
    c->next = sv->iptab[h];
    sv->iptab[h] = c;
    return c;
}

/*
 * stress_check - with three quarters of max_connections in use, idle
 * sessions get smtp_stress_timeout instead of smtp_timeout; back to
 * normal below one half. Idle connections then cannot hold every slot.
 */
static void
stress_check(struct server *sv)
{
    unsigned max = sv->cfg->max_connections;
    if (!sv->smtp.stress && sv->nconn >= max - max / 4 && max >= 4) {
        log_warn("stress: %u of %u connections in use; idle timeout now %us "
                 "(smtp_stress_timeout)", sv->nconn, max, sv->cfg->smtp_stress_timeout);
        smtp_set_stress(&sv->smtp, true);
    } else if (sv->smtp.stress && sv->nconn < max / 2) {
        log_info("stress over: %u of %u connections in use", sv->nconn, max);
        smtp_set_stress(&sv->smtp, false);
    }
}

/* on_session_close - a session ended: count it out */
static void
on_session_close(void *arg, const char *ip)
{
    struct server *sv = arg;
    struct ipcount *c = ip_get(sv, ip, false);

    sv->nconn--;
    stress_check(sv);
    if (c && --c->n == 0) {
        unsigned h = ip_hash(ip);
        struct ipcount **pp = &sv->iptab[h];
        while (*pp != c)
            pp = &(*pp)->next;
        *pp = c->next;
        free(c);
    }
}

static void
sockaddr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
            inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], out, (socklen_t)outlen);
        else
            inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)outlen);
    } else if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)outlen);
    } else {
        snprintf(out, outlen, "local");
    }
}

/*
 * reject - tell a refused client why, in its protocol, and close: SMTP's
 * 421; "* BYE [UNAVAILABLE]" for IMAP (RFC 5530); "-ERR [SYS/TEMP]" for
 * POP3 (RFC 3206). Listeners in implicit TLS just close: a word in the
 * clear would be garbage to a client that speaks TLS from its first byte.
 */
static void
reject(struct server *sv, const struct listener *li, evutil_socket_t fd, const char *reason)
{
    const char *word;

    switch (li->proto) {
    case PROTO_SMTP:
        smtp_reject_connection(&sv->smtp, fd, li->kind, reason);
        return;
    case PROTO_IMAP:
        word = "* BYE [UNAVAILABLE]";
        break;
    case PROTO_POP3:
        word = "-ERR [SYS/TEMP]";
        break;
    default:
        evutil_closesocket(fd);
        return;
    }
    char msg[256];
    int n = snprintf(msg, sizeof(msg), "%s %s\r\n", word, reason);
    /* Best effort, non-blocking: the socket is new, its buffer empty. */
    if (n > 0 && (size_t)n < sizeof(msg)) {
        ssize_t w = send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)w;
    }
    evutil_closesocket(fd);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int salen, void *arg)
{
    struct listener *li = arg;
    struct server *sv = li->sv;
    char ip[64];
    (void)l;
    (void)salen;

    sockaddr_text(sa, ip, sizeof(ip));
    if (sv->stopping) {
        evutil_closesocket(fd);
        return;
    }
    if (li->kind == SMTP_KIND_LOCAL) {
        /* A user of this machine: max_connections only. */
        if (sv->nconn >= sv->cfg->max_connections) {
            log_warn("local submission refused: too many connections (%u)", sv->nconn);
            smtp_reject_connection(&sv->smtp, fd, li->kind,
                                   "Error: too many connections; try again later");
            return;
        }
        ip_get(sv, ip, true)->n++;
        sv->nconn++;
        stress_check(sv);
        smtp_session_start(&sv->smtp, fd, ip, li->kind);
        return;
    }
    if (sv->nconn >= sv->cfg->max_connections) {
        log_warn("connection from unknown[%s] refused: too many connections (%u)",
                 ip, sv->nconn);
        reject(sv, li, fd, "Error: too many connections; try again later");
        return;
    }
    struct ipcount *c = ip_get(sv, ip, false);
    if ((c ? c->n : 0) >= sv->cfg->max_connections_per_ip) {
        log_warn("connection from unknown[%s] refused: too many connections from "
                 "this address (%u)", ip, c ? c->n : 0);
        reject(sv, li, fd, "Error: too many connections from your address");
        return;
    }
    if (!cidr_match(&sv->cfg->rate_limit_exempt, ip)
        && !ratelimit_take(sv->conn_rate, ip, sv->cfg->max_connection_rate, 1, ratelimit_now())) {
        log_warn("connection from unknown[%s] refused: more than %u connections a minute "
                 "(max_connection_rate)", ip, sv->cfg->max_connection_rate);
        reject(sv, li, fd, "Error: too many connections from your address; "
                           "try again later");
        return;
    }
    unsigned blocked = guard_blocked(sv->smtp.guard, ip, time(NULL));
    if (blocked) {
        log_info("connection from unknown[%s] refused: blocked for %u more seconds after "
                 "failed authentications", ip, blocked);
        reject(sv, li, fd, "Error: too many failed authentications; "
                           "try again later");
        return;
    }
    c = ip_get(sv, ip, true);
    c->n++;
    sv->nconn++;
    stress_check(sv);
    /* non-blocking already: evconnlistener accepts with SOCK_NONBLOCK */
    switch (li->proto) {
    case PROTO_SMTP:
        smtp_session_start(&sv->smtp, fd, ip, li->kind);
        break;
    case PROTO_POP3:
    case PROTO_POP3S:
        pop3_session_start(&sv->pop3, fd, ip, li->proto == PROTO_POP3S);
        break;
    case PROTO_IMAP:
    case PROTO_IMAPS:
        imap_session_start(&sv->imap, fd, ip, li->proto == PROTO_IMAPS);
        break;
    }
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
    int e = EVUTIL_SOCKET_ERROR();
    (void)arg;
    (void)l;
    /* EMFILE and the like: logged; libevent keeps the listener going. */
    log_error("accept: %s", evutil_socket_error_to_string(e));
}

/* log_timer_cb - the buffered log lines out, every LOG_FLUSH_MS */
static void
log_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    log_flush();
}

/* log_wake - the first buffered line of a turn: flush when it ends */
static void
log_wake(void *arg)
{
    event_active(arg, EV_TIMEOUT, 0);
}

/* stop_check_cb - exit the loop once the last session and commit are done */
static void
stop_check_cb(evutil_socket_t fd, short what, void *arg)
{
    struct server *sv = arg;
    (void)fd;
    (void)what;
    if (sv->smtp.nsessions == 0 && sv->pop3.nsessions == 0 && sv->imap.nsessions == 0
        && workq_busy(sv->smtp.commitq) == 0)
        event_base_loopexit(sv->base, NULL);
}

static void
begin_stop(struct server *sv, const char *why)
{
    if (sv->stopping)
        return;
    sv->stopping = true;
    log_info("%s: stopping", why);
    for (size_t i = 0; i < sv->nlisteners; i++)
        evconnlistener_free(sv->listeners[i].l);
    sv->nlisteners = 0;
    smtp_stop_all(&sv->smtp);
    pop3_stop_all(&sv->pop3);
    imap_stop_all(&sv->imap);
    struct timeval tv = { 0, 50000 };
    sv->stop_check = event_new(sv->base, -1, EV_PERSIST, stop_check_cb, sv);
    event_add(sv->stop_check, &tv);
}

static void
sig_stop_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    begin_stop(arg, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static SSL_CTX *tls_setup(const struct config *cfg);

/* reload - SIGHUP: configuration, users, aliases, TLS certificate */
static void
sig_hup_cb(evutil_socket_t sig, short what, void *arg)
{
    struct server *sv = arg;
    struct buf errs = BUF_INIT;
    int nerr;
    (void)sig;
    (void)what;

    struct config *cfg = config_load(sv->cfg_path, sv->overrides, sv->noverrides, &errs, &nerr);
    if (nerr) {
        log_error("reload refused; the configuration has %d error(s):\n%s", nerr, buf_cstr(&errs));
        config_free(cfg);
        buf_free(&errs);
        return;
    }
    buf_free(&errs);
    if (strcmp(cfg->data_dir, sv->cfg->data_dir) != 0)
        log_warn("reload: data_dir changes need a restart; keeping %s", sv->cfg->data_dir);
    free(cfg->data_dir);
    cfg->data_dir = xstrdup(sv->cfg->data_dir);
    config_free(sv->cfg);
    sv->cfg = cfg;
    sv->smtp.cfg = cfg;
    log_open(cfg->log);
    users_free(sv->smtp.users);
    sv->smtp.users = users_new(cfg->users_file);
    users_refresh(sv->smtp.users);
    aliases_free(sv->smtp.aliases);
    sv->smtp.aliases = aliases_new(cfg->aliases_file);
    aliases_refresh(sv->smtp.aliases, &errs);
    if (errs.len)
        log_warn("aliases: %s", buf_cstr(&errs));
    buf_free(&errs);
    sv->pop3.cfg = cfg;
    sv->pop3.users = sv->smtp.users;
    sv->imap.cfg = cfg;
    sv->imap.users = sv->smtp.users;
    scheduler_set_config(sv->smtp.sched, cfg);
    relay_set_config(sv->relay, cfg);
    guard_set_limits(sv->smtp.guard, cfg->auth_max_failures, cfg->auth_block_time);
    SSL_CTX *tls = tls_setup(cfg);
    if (tls) {
        SSL_CTX_free(sv->smtp.tls);     /* sessions hold their own reference */
        sv->smtp.tls = tls;
        sv->pop3.tls = tls;
        sv->imap.tls = tls;
    } else {
        log_error("reload: keeping the TLS certificate in use");
    }
    log_info("reloaded configuration (listening addresses change only on restart)");
}

/* tls_setup - the TLS context of cfg, making the self-signed certificate
 * on first start when none is configured; NULL (logged) on failure */
static SSL_CTX *
tls_setup(const struct config *cfg)
{
    char err[512], dir[PATH_MAX];

    if (cfg->tls_selfsigned) {
        snprintf(dir, sizeof(dir), "%s/tls", cfg->data_dir);
        int made = tls_selfsigned_ensure(dir, cfg->hostname, err, sizeof(err));
        if (made < 0) {
            log_error("TLS: %s", err);
            return NULL;
        }
        log_info("TLS: %s self-signed certificate for %s: %s", made ? "made a" : "using the",
                 cfg->hostname, cfg->tls_cert);
    }
    SSL_CTX *ctx = tls_server_ctx_new(cfg->tls_cert, cfg->tls_key, err, sizeof(err));
    if (!ctx)
        log_error("TLS: %s", err);
    return ctx;
}

/* listen_all - open every listener of one kind */
static void
listen_all(struct server *sv, const struct listen_list *ll, enum smtp_kind kind, enum proto proto,
           const char *what)
{
    for (size_t i = 0; i < ll->n; i++) {
        struct listen_addr *la = &ll->v[i];
        struct listener *li = &sv->listeners[sv->nlisteners];
        li->sv = sv;
        li->kind = kind;
        li->proto = proto;
        li->l = evconnlistener_new_bind(sv->base, accept_cb, li,
            LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
            1024, (struct sockaddr *)&la->ss, (int)la->sslen);
        if (!li->l)
            log_fatal("cannot listen on %s (%s): %s", la->text, what, strerror(errno));
        evconnlistener_set_error_cb(li->l, accept_error_cb);
        sv->nlisteners++;
        log_info("listening for %s on %s", what, la->text);
    }
}

/*
 * listen_local - the socket of postino sendmail, <data_dir>/public/submit:
 * the one thing in data_dir other users reach (data_dir and public are
 * 0711, the socket 0666); who connects is known by SO_PEERCRED. Made
 * after root is given up, so it belongs to run_as.
 */
static void
listen_local(struct server *sv)
{
    char pub[PATH_MAX];
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    snprintf(pub, sizeof(pub), "%s/%s", sv->cfg->data_dir, PRIVS_PUBLIC);
    if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/submit", pub)
        >= (int)sizeof(sun.sun_path)) {
        log_warn("sendmail: %s/submit is too long a path for a socket; postino sendmail "
                 "will not work (use a shorter data_dir)", pub);
        return;
    }
    if ((mkdir(pub, 0711) < 0 && errno != EEXIST) || chmod(pub, 0711) < 0
        || chmod(sv->cfg->data_dir, 0711) < 0) {
        log_warn("sendmail: cannot make %s: %s", pub, strerror(errno));
        return;
    }
    unlink(sun.sun_path);               /* ours: we hold data_dir's lock */
    struct listener *li = &sv->listeners[sv->nlisteners];
    li->sv = sv;
    li->kind = SMTP_KIND_LOCAL;
    li->proto = PROTO_SMTP;
    li->l = evconnlistener_new_bind(sv->base, accept_cb, li,
                                    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 128,
                                    (struct sockaddr *)&sun, (int)sizeof(sun));
    if (!li->l || chmod(sun.sun_path, 0666) < 0) {
        log_warn("sendmail: cannot listen on %s: %s", sun.sun_path, strerror(errno));
        if (li->l)
            evconnlistener_free(li->l);
        return;
    }
    evconnlistener_set_error_cb(li->l, accept_error_cb);
    sv->nlisteners++;
    log_info("listening for local submission (postino sendmail) on %s", sun.sun_path);
}

/* notice_route - where a delivery notice to address goes (sched_route_fn) */
static int
notice_route(void *arg, const char *address, struct mailbox_set *set)
{
    struct server *sv = arg;
    struct mailbox mb;
    size_t used;
    char path[ADDR_MAX + 3];

    snprintf(path, sizeof(path), "<%s>", address);
    if (path_parse(path, strlen(path), PATH_UTF8, &mb, &used) != ADDR_OK)
        return -1;
    users_refresh(sv->smtp.users);
    struct resolve_ctx rc = { sv->cfg, sv->smtp.users, sv->smtp.aliases };
    switch (resolve_recipient(&rc, &mb, set)) {
    case RESOLVE_OK:
        return 0;
    case RESOLVE_NOT_LOCAL:
        return 1;
    default:
        return -1;
    }
}

static void
found_message(struct envelope *env, void *arg)
{
    scheduler_add(arg, env);
}

/* raise_nofile - as many descriptors as we are allowed: one a connection */
static void
raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int
serve_main(const char *path, char **overrides, size_t noverrides)
{
    struct server sv;
    struct buf errs = BUF_INIT;
    char err[512];
    int nerr;

    memset(&sv, 0, sizeof(sv));
    sv.cfg_path = path;
    sv.overrides = overrides;
    sv.noverrides = noverrides;
    sv.cfg = config_load(path, overrides, noverrides, &errs, &nerr);
    if (nerr) {
        fprintf(stderr, "%s", buf_cstr(&errs));
        fprintf(stderr, "postino: %d configuration error(s); not starting\n", nerr);
        buf_free(&errs);
        config_free(sv.cfg);
        return 1;
    }
    buf_free(&errs);
    log_open(sv.cfg->log);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    umask(077);

    if (sv.cfg->trial)
        log_info("no configuration file: trial setup (domain localhost accepts any "
                 "address; data in %s)", sv.cfg->data_dir);
    struct privs privs;
    if (privs_prepare(&privs, sv.cfg->run_as, sv.cfg->data_dir, err, sizeof(err)) < 0)
        log_fatal("%s", err);
    /* One server per data folder: a second one would take queue files being
     * written for debris and deliver the same messages. The lock goes with
     * the process. */
    char lockpath[PATH_MAX];
    snprintf(lockpath, sizeof(lockpath), "%s/lock", sv.cfg->data_dir);
    int lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0)
        log_fatal("another postino serve is using %s (%s)", sv.cfg->data_dir,
                  lockfd < 0 ? strerror(errno) : "its lock is held");
    if (privs.root && fchown(lockfd, privs.uid, privs.gid) < 0)
        log_fatal("%s: %s", lockpath, strerror(errno));

    /* As root: the TLS key (a configured one is often readable by root
     * alone; a self-signed one is made now and given to run_as) and the
     * listeners (ports under 1024). Then root is given up for good. */
    sv.smtp.tls = tls_setup(sv.cfg);
    if (sv.cfg->tls_selfsigned) {
        char tlsdir[PATH_MAX];
        snprintf(tlsdir, sizeof(tlsdir), "%s/tls", sv.cfg->data_dir);
        if (access(tlsdir, F_OK) == 0 && privs_give(&privs, tlsdir, err, sizeof(err)) < 0)
            log_fatal("%s", err);
    }
    sv.base = event_base_new();
    if (!sv.base)
        log_fatal("cannot start the event loop");
    /* Caught from now on, acted upon once the loop runs: the listeners
     * below accept (into their backlog) before the rest is ready. */
    sv.sig_term = evsignal_new(sv.base, SIGTERM, sig_stop_cb, &sv);
    sv.sig_int = evsignal_new(sv.base, SIGINT, sig_stop_cb, &sv);
    sv.sig_hup = evsignal_new(sv.base, SIGHUP, sig_hup_cb, &sv);
    event_add(sv.sig_term, NULL);
    event_add(sv.sig_int, NULL);
    event_add(sv.sig_hup, NULL);
    size_t nl = sv.cfg->listen_smtp.n + sv.cfg->listen_submission.n + sv.cfg->listen_submissions.n
                + sv.cfg->listen_pop3.n + sv.cfg->listen_pop3s.n
                + sv.cfg->listen_imap.n + sv.cfg->listen_imaps.n + 1;     /* + sendmail's */
    sv.listeners = xcalloc(nl ? nl : 1, sizeof(*sv.listeners));
    listen_all(&sv, &sv.cfg->listen_smtp, SMTP_KIND_MX, PROTO_SMTP, "SMTP");
    listen_all(&sv, &sv.cfg->listen_submission, SMTP_KIND_SUBMISSION, PROTO_SMTP,
               "submission (STARTTLS)");
    listen_all(&sv, &sv.cfg->listen_submissions, SMTP_KIND_SUBMISSIONS, PROTO_SMTP,
               "submissions (implicit TLS)");
    listen_all(&sv, &sv.cfg->listen_pop3, SMTP_KIND_MX, PROTO_POP3, "POP3 (STLS)");
    listen_all(&sv, &sv.cfg->listen_pop3s, SMTP_KIND_MX, PROTO_POP3S, "POP3 (implicit TLS)");
    listen_all(&sv, &sv.cfg->listen_imap, SMTP_KIND_MX, PROTO_IMAP, "IMAP (STARTTLS)");
    listen_all(&sv, &sv.cfg->listen_imaps, SMTP_KIND_MX, PROTO_IMAPS, "IMAP (implicit TLS)");
    if (privs_drop(&privs, err, sizeof(err)) < 0)
        log_fatal("%s", err);
    if (privs.root)
        log_info("running as user %s (uid %u, gid %u)", privs.user, (unsigned)privs.uid,
                 (unsigned)privs.gid);
    struct spool *spool = spool_open(sv.cfg->data_dir, err, sizeof(err));
    if (!spool)
        log_fatal("queue: %s", err);
    listen_local(&sv);
    sv.smtp.base = sv.base;
    sv.smtp.cfg = sv.cfg;
    sv.smtp.spool = spool;
    sv.smtp.users = users_new(sv.cfg->users_file);
    if (users_refresh(sv.smtp.users) < 0)
        log_fatal("cannot read %s: %s", sv.cfg->users_file, strerror(errno));
    sv.smtp.aliases = aliases_new(sv.cfg->aliases_file);
    if (aliases_refresh(sv.smtp.aliases, &errs) < 0)
        log_fatal("cannot read %s: %s", sv.cfg->aliases_file, strerror(errno));
    if (errs.len)
        log_warn("aliases: %s", buf_cstr(&errs));
    buf_free(&errs);
    sv.smtp.on_close = on_session_close;
    sv.smtp.on_close_arg = &sv;
    /* The commit workers queue messages, or deliver them at once when
     * every recipient is a local mailbox (maildir_commit_run). The host
     * name is fixed here for the Maildir file names. */
    struct maildir_ctx commit_mctx = { spool, xstrdup(sv.cfg->hostname) };
    sv.smtp.commitq = workq_new(sv.base, "commit", 1, COMMIT_BATCH, maildir_commit_run,
                                &commit_mctx);
    workq_set_after(sv.smtp.commitq, maildir_commit_after);
    sv.dns = dns_new(sv.base, sv.cfg->dns_servers, err, sizeof(err));
    if (!sv.dns)
        log_fatal("DNS: %s", err);
    sv.relay = relay_new(sv.base, sv.dns, spool, sv.cfg);
    sv.smtp.sched = scheduler_new(sv.base, spool, sv.cfg, sv.relay, sv.smtp.commitq,
                                  notice_route, &sv);

    struct maildir_recovery rec;
    maildir_recover_tmp(sv.cfg->data_dir, &rec);
    if (rec.removed > 0)
        log_info("maildir: removed %ld half-written copies from tmp/", rec.removed);
    if (rec.moved > 0)
        log_info("maildir: moved %ld copies synced before a stop from tmp/ into new/",
                 rec.moved);
    long found = spool_scan(spool, found_message, sv.smtp.sched);
    if (found > 0)
        log_info("queue: %ld message(s) found from an earlier run; delivering", found);
    /* Queue control (issue 4): <data_dir>/control, closed before the scheduler. */
    struct control *control = control_open(sv.base, sv.cfg->data_dir, sv.smtp.sched,
                                           err, sizeof(err));
    if (!control)
        log_fatal("queue control: %s", err);

    if (!sv.smtp.tls && (sv.cfg->listen_submissions.n || sv.cfg->listen_submission.n))
        log_fatal("TLS is needed for the submission ports; fix tls_cert and tls_key");
    sv.smtp.guard = guard_new();
    guard_set_limits(sv.smtp.guard, sv.cfg->auth_max_failures, sv.cfg->auth_block_time);
    sv.smtp.authq = workq_new(sv.base, "auth", 2, 1, smtp_auth_run, NULL);
    sv.smtp.dns = sv.dns;
    /* SPF, DKIM, DMARC and DKIM signing: hashing and signing on workers */
    struct msgauth_ctx msgauth = { sv.base, sv.dns, NULL, NULL };
    msgauth.psl = dmarc_psl_open(NULL, err, sizeof(err));
    if (!msgauth.psl)
        log_fatal("DMARC: %s", err);
    log_info("DMARC: public suffix list from %s", dmarc_psl_source(msgauth.psl));
    msgauth.wq = workq_new(sv.base, "dkim", 2, 1, msgauth_work_run, NULL);
    sv.smtp.msgauth = &msgauth;
    sv.smtp.msg_rate = ratelimit_new();
    sv.smtp.rcpt_rate = ratelimit_new();
    sv.conn_rate = ratelimit_new();

    sv.pop3.base = sv.base;
    sv.pop3.cfg = sv.cfg;
    sv.pop3.users = sv.smtp.users;
    sv.pop3.tls = sv.smtp.tls;
    sv.pop3.guard = sv.smtp.guard;
    sv.pop3.on_close = on_session_close;
    sv.pop3.on_close_arg = &sv;
    sv.pop3.wq = workq_new(sv.base, "pop3", 2, 1, pop3_work_run, NULL);

    sv.imap.base = sv.base;
    sv.imap.cfg = sv.cfg;
    sv.imap.users = sv.smtp.users;
    sv.imap.tls = sv.smtp.tls;
    sv.imap.guard = sv.smtp.guard;
    sv.imap.on_close = on_session_close;
    sv.imap.on_close_arg = &sv;
    sv.imap.wq = workq_new(sv.base, "imap", 2, 1, imap_work_run, NULL);

    log_info("postino ready: hostname=%s, domains=%s%s, data_dir=%s", sv.cfg->hostname,
             sv.cfg->domains[0], sv.cfg->ndomains > 1 ? " ..." : "", sv.cfg->data_dir);

    /* From now on info lines are written in batches (see log.c). */
    struct timeval flush_every = { 0, 50000 };
    sv.log_timer = event_new(sv.base, -1, EV_PERSIST, log_timer_cb, NULL);
    event_add(sv.log_timer, &flush_every);
    sv.log_now = event_new(sv.base, -1, 0, log_timer_cb, NULL);
    log_set_buffered(true, log_wake, sv.log_now);

    event_base_dispatch(sv.base);
    log_set_buffered(false, NULL, NULL);
    if (sv.stop_check)
        event_del(sv.stop_check);   /* it looks at the queues freed below */

    /* Deliveries under way finish; the rest stays queued for next time. */
    workq_free(sv.smtp.commitq);
    workq_free(sv.smtp.authq);
    workq_free(msgauth.wq);         /* every job was cancelled with its session */
    sv.smtp.msgauth = NULL;
    workq_free(sv.pop3.wq);
    workq_free(sv.imap.wq);
    relay_free(sv.relay);           /* remote deliveries under way stay queued */
    control_close(control);
    scheduler_free(sv.smtp.sched);
    sv.smtp.dns = NULL;
    dns_free(sv.dns);
    event_base_loop(sv.base, EVLOOP_NONBLOCK);     /* deferred frees of the last sessions */
    for (size_t i = 0; i < sv.nlisteners; i++)
        evconnlistener_free(sv.listeners[i].l);
    free(sv.listeners);
    /* Freeing its signal events gives SIGTERM back its default action:
     * ignore it and SIGINT from here on, so that one sent again while we
     * finish (an init system's or an admin's reminder) cannot kill the
     * server in its last steps. Blocked first, for the moment between. */
    sigset_t stopsigs;
    sigemptyset(&stopsigs);
    sigaddset(&stopsigs, SIGTERM);
    sigaddset(&stopsigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopsigs, NULL);
    event_free(sv.sig_term);
    event_free(sv.sig_int);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    event_free(sv.sig_hup);
    event_free(sv.log_timer);
    event_free(sv.log_now);
    if (sv.stop_check)
        event_free(sv.stop_check);
    for (size_t i = 0; i < IPTAB_SIZE; i++)
        while (sv.iptab[i]) {
            struct ipcount *c = sv.iptab[i];
            sv.iptab[i] = c->next;
            free(c);
        }
    users_free(sv.smtp.users);
    aliases_free(sv.smtp.aliases);
    guard_free(sv.smtp.guard);
    ratelimit_free(sv.smtp.msg_rate);
    ratelimit_free(sv.smtp.rcpt_rate);
    ratelimit_free(sv.conn_rate);
    dmarc_psl_free(msgauth.psl);
    SSL_CTX_free(sv.smtp.tls);
    spool_close(spool);
    free((char *)commit_mctx.hostname);
    event_base_free(sv.base);
    log_info("stopped");
    close(lockfd);
    config_free(sv.cfg);
    return 0;
}
