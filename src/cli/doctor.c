/*
 * doctor - "postino doctor [DOMAIN...] [--json]": is this server set up
 * so that its mail arrives, and arrives in the inbox?
 *
 * This file gathers the facts and prints; the checks themselves are the
 * pure functions of doctor/doctor.h. It gathers:
 *
 *   - DNS answers, through the configured resolver (dns_servers) with
 *     dns/dns.h on an event base of its own: the checks are restartable,
 *     so every round runs each unfinished check over the answers known so
 *     far, then looks up everything they asked for at once and runs the
 *     loop until those answers are in;
 *   - this server's public address: public_ip, else the first global
 *     address of the interfaces;
 *   - the DKIM key files of each domain (<data_dir>/dkim/, never printed:
 *     only their public keys and records are);
 *   - whether each listener accepts a connection; the certificate; the
 *     queue, from the running server's control socket, else from the
 *     queue files.
 *
 * It writes nothing and needs no privileges beyond reading <data_dir>
 * (run it as root or as the server's user). With --connect it hands over
 * to doctor_connect() (cli/connect.c): trying a server as a mail program
 * would. Exit status: 0 when no problem was found (warnings are fine), 1
 * when there is one, 2 for a usage or configuration error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* libraries */
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/* the layers below */
#include "cli/cli.h"
#include "conf/config.h"
#include "daemon/control.h"
#include "dkim/dkim.h"
#include "dmarc/dmarc.h"
#include "dns/dns.h"
#include "doctor/doctor.h"
#include "mail/address.h"
#include "queue/envelope.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/xmalloc.h"

#define DOCTOR_USAGE \
    "Usage: postino doctor [DOMAIN...] [--json] [-c FILE] [-o key=value]...\n" \
    "       postino doctor --connect HOST[:PORT] [--user U [--password-file F]]"

#define ROUNDS_MAX        40            /* lookup rounds before unanswered names count as failed */
#define CONNECT_TIMEOUT   3000          /* ms, to a listener */
#define CONTROL_TIMEOUT   20            /* s, for the queue list */
#define CONTROL_ANSWER_MAX (64u * 1024 * 1024)
#define QUEUE_HEAD_MAX    (1u << 20)    /* octets of a queue file read for its envelope */

/* ---- the DNS answers: a cache filled round by round ------------------- */

struct answer {
    struct answer    *next;
    struct resolver  *r;
    enum doctor_qtype type;
    char             *name;
    bool              asked;        /* a query was started */
    bool              known;        /* its answer is in */
    struct dns_query *q;            /* while asked && !known */
    enum doctor_dns   st;
    char              why[64];
    char            **text;         /* TXT, PTR, CNAME, MX hosts */
    unsigned         *pref;         /* MX */
    size_t            n;
    unsigned char    *a4, *a6;      /* ADDR */
    size_t            n4, n6;
};

struct resolver {
    struct event_base *base;
    struct dns        *dns;
    struct answer     *answers;
    size_t             pending;     /* queries started and not answered */
    bool               give_up;     /* unknown answers now count as failed */
};

static enum doctor_dns
status_of(enum dns_status st)
{
    switch (st) {
    case DNS_OK:       return DOCTOR_DNS_OK;
    case DNS_NODATA:   return DOCTOR_DNS_NODATA;
    case DNS_NXDOMAIN: return DOCTOR_DNS_NXDOMAIN;
    default:           return DOCTOR_DNS_TEMPFAIL;
    }
}

/* answer_done - the answer of a is in */
static void
answer_done(struct answer *a, enum dns_status st, const char *why)
{
    a->known = true;
    a->q = NULL;
    a->st = status_of(st);
    snprintf(a->why, sizeof(a->why), "%s", why ? why : "");
    a->r->pending--;
}

static void
on_text(void *arg, enum dns_status st, char **v, size_t n, const char *why)
{
    struct answer *a = arg;

    a->text = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; st == DNS_OK && i < n; i++)
        a->text[a->n++] = xstrdup(v[i]);
    answer_done(a, st, why);
}

static void
on_mx(void *arg, enum dns_status st, struct mx_record *v, size_t n, const char *why)
{
    struct answer *a = arg;

    a->text = xcalloc(n ? n : 1, sizeof(char *));
    a->pref = xcalloc(n ? n : 1, sizeof(unsigned));
    for (size_t i = 0; st == DNS_OK && i < n; i++) {
        a->pref[a->n] = v[i].pref;
        a->text[a->n++] = xstrdup(v[i].host);
    }
    answer_done(a, st, why);
}

static void
on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *v, size_t n,
        const char *why)
{
    struct answer *a = arg;

    a->a4 = xcalloc(n ? n : 1, 4);
    a->a6 = xcalloc(n ? n : 1, 16);
    for (size_t i = 0; st == DNS_OK && i < n; i++) {
        if (v[i].ss_family == AF_INET)
            memcpy(a->a4 + 4 * a->n4++, &((const struct sockaddr_in *)&v[i])->sin_addr, 4);
        else if (v[i].ss_family == AF_INET6)
            memcpy(a->a6 + 16 * a->n6++, &((const struct sockaddr_in6 *)&v[i])->sin6_addr, 16);
    }
    answer_done(a, st, why);
}

/* fill - *ans from a known answer */
static void
fill(const struct answer *a, struct doctor_answer *ans)
{
    memset(ans, 0, sizeof(*ans));
    ans->status = a->st;
    ans->why = a->why[0] ? a->why : NULL;
    ans->n = a->n;
    ans->text = a->text;
    ans->pref = a->pref;
    ans->n4 = a->n4;
    ans->n6 = a->n6;
    ans->a4 = a->a4;
    ans->a6 = a->a6;
}

/* lookup - the doctor's answer provider (doctor_lookup_fn) over the cache */
static bool
lookup(void *arg, enum doctor_qtype type, const char *name, struct doctor_answer *ans)
{
    struct resolver *r = arg;
    struct answer *a;
    char norm[300];
    size_t len = strlen(name);

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len >= sizeof(norm))
        len = sizeof(norm) - 1;
    for (size_t i = 0; i < len; i++)
        norm[i] = (char)tolower((unsigned char)name[i]);
    norm[len] = '\0';
    for (a = r->answers; a; a = a->next)
        if (a->type == type && strcmp(a->name, norm) == 0)
            break;
    if (a == NULL) {
        a = xcalloc(1, sizeof(*a));
        a->r = r;
        a->type = type;
        a->name = xstrdup(norm);
        a->next = r->answers;
        r->answers = a;
        if (!dns_name_ok(norm)) {
            a->asked = a->known = true;
            a->st = DOCTOR_DNS_NXDOMAIN;
            snprintf(a->why, sizeof(a->why), "invalid name");
        }
    }
    if (a->known) {
        fill(a, ans);
        return true;
    }
    if (r->give_up) {
        memset(ans, 0, sizeof(*ans));
        ans->status = DOCTOR_DNS_TEMPFAIL;
        ans->why = "no answer in time";
        return true;
    }
    return false;
}

/* fetch - look up every answer asked for and not known; wait for them all */
static void
fetch(struct resolver *r)
{
    for (struct answer *a = r->answers; a; a = a->next) {
        if (a->asked)
            continue;
        a->asked = true;
        r->pending++;
        switch (a->type) {
        case DOCTOR_Q_ADDR:  a->q = dns_addr(r->dns, a->name, on_addr, a); break;
        case DOCTOR_Q_MX:    a->q = dns_mx(r->dns, a->name, on_mx, a); break;
        case DOCTOR_Q_TXT:   a->q = dns_txt(r->dns, a->name, on_text, a); break;
        case DOCTOR_Q_PTR:   a->q = dns_ptr(r->dns, a->name, on_text, a); break;
        case DOCTOR_Q_CNAME: a->q = dns_cname(r->dns, a->name, on_text, a); break;
        }
    }
    while (r->pending > 0)
        if (event_base_loop(r->base, EVLOOP_ONCE) != 0)     /* error, or nothing to wait for */
            break;
}

static void
resolver_free(struct resolver *r)
{
    struct answer *a, *next;

    for (a = r->answers; a; a = next) {
        next = a->next;
        if (a->q)
            dns_cancel(a->q);
        for (size_t i = 0; i < a->n; i++)
            free(a->text[i]);
        free(a->text);
        free(a->pref);
        free(a->a4);
        free(a->a6);
        free(a->name);
        free(a);
    }
    r->answers = NULL;
    dns_free(r->dns);
    r->dns = NULL;
}

/* ---- this server's address -------------------------------------------- */

/*
 * find_public_ip - the first global address of the interfaces (IPv4
 * before IPv6) into ip, its interface's name into how; the first private
 * IPv4 address (not loopback) into priv, for the NAT case.
 */
static void
find_public_ip(char *ip, size_t iplen, char *how, size_t howlen, char *priv, size_t privlen)
{
    struct ifaddrs *ifs, *i;
    char t[INET6_ADDRSTRLEN];

    ip[0] = how[0] = priv[0] = '\0';
    if (getifaddrs(&ifs) < 0)
        return;
    for (int pass = 0; pass < 2 && !ip[0]; pass++) {
        int family = pass == 0 ? AF_INET : AF_INET6;

        for (i = ifs; i && !ip[0]; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != family || !(i->ifa_flags & IFF_UP))
                continue;
            const void *src = family == AF_INET
                ? (const void *)&((const struct sockaddr_in *)i->ifa_addr)->sin_addr
                : (const void *)&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
            if (!inet_ntop(family, src, t, sizeof(t)))
                continue;
            if (doctor_ip_global(t)) {
                snprintf(ip, iplen, "%s", t);
                snprintf(how, howlen, "%s", i->ifa_name);
            } else if (family == AF_INET && !priv[0] && !(i->ifa_flags & IFF_LOOPBACK)) {
                snprintf(priv, privlen, "%s", t);
            }
        }
    }
    freeifaddrs(ifs);
}

/* ---- listeners --------------------------------------------------------- */

/* try_connect - connect to la (a wildcard as loopback); 0 or an errno value */
static int
try_connect(const struct listen_addr *la)
{
    struct sockaddr_storage ss = la->ss;
    int fd, e = 0;
    socklen_t elen = sizeof(e);

    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
            sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        if (IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr))
            sin6->sin6_addr = in6addr_loopback;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (struct sockaddr *)&ss, la->sslen) < 0) {
        if (errno != EINPROGRESS) {
            e = errno;
        } else {
            struct pollfd p = { fd, POLLOUT, 0 };
            int r = poll(&p, 1, CONNECT_TIMEOUT);
            if (r == 0)
                e = ETIMEDOUT;
            else if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
                e = errno;
        }
    }
    close(fd);
    return e;
}

static void
check_listeners(const struct config *cfg, const struct doctor_env *env, struct doctor_report *out)
{
    const struct { const char *key; const struct listen_list *l; } lists[] = {
        { "listen_smtp", &cfg->listen_smtp },
        { "listen_submission", &cfg->listen_submission },
        { "listen_submissions", &cfg->listen_submissions },
        { "listen_pop3", &cfg->listen_pop3 },
        { "listen_pop3s", &cfg->listen_pop3s },
        { "listen_imap", &cfg->listen_imap },
        { "listen_imaps", &cfg->listen_imaps },
    };
    struct doctor_listener *v = NULL;
    size_t n = 0;

    for (size_t k = 0; k < sizeof(lists) / sizeof(lists[0]); k++) {
        for (size_t i = 0; i < lists[k].l->n; i++) {
            const struct listen_addr *la = &lists[k].l->v[i];

            v = xreallocarray(v, n + 1, sizeof(*v));
            v[n].key = lists[k].key;
            v[n].addr = la->text;
            v[n].port = ntohs(la->ss.ss_family == AF_INET
                              ? ((const struct sockaddr_in *)&la->ss)->sin_port
                              : ((const struct sockaddr_in6 *)&la->ss)->sin6_port);
            v[n].error = try_connect(la);
            n++;
        }
    }
    doctor_check_listeners(env, v, n, cfg->trial, out);
    free(v);
}

/* ---- the certificate --------------------------------------------------- */

/* ssl_error - OpenSSL's last error as a sentence, or fallback */
static void
ssl_error(char *out, size_t len, const char *fallback)
{
    unsigned long e = ERR_get_error();

    if (e)
        ERR_error_string_n(e, out, len);
    else
        snprintf(out, len, "%s", fallback);
    ERR_clear_error();
}

/* cert_names - the DNS names of x (SAN, else the CN) as "a, b" */
static void
cert_names(X509 *x, struct buf *out)
{
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type != GEN_DNS)
            continue;
        const unsigned char *s = ASN1_STRING_get0_data(g->d.dNSName);
        buf_printf(out, "%s%.*s", out->len ? ", " : "", ASN1_STRING_length(g->d.dNSName),
                   (const char *)s);
    }
    GENERAL_NAMES_free(sans);
    if (out->len == 0) {
        char cn[256];
        if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn,
                                      sizeof(cn)) > 0)
            buf_puts(out, cn);
    }
}

static void
check_cert(const struct config *cfg, const struct doctor_env *env, struct doctor_report *out)
{
    struct doctor_cert c = { .path = cfg->tls_cert, .selfsigned_setup = cfg->tls_selfsigned };
    char err[256], verr[256];
    struct buf names = BUF_INIT;
    STACK_OF(X509) *chain = sk_X509_new_null();
    X509 *x = NULL, *more;
    BIO *bio = BIO_new_file(cfg->tls_cert, "r");

    if (bio == NULL) {
        snprintf(err, sizeof(err), "%s", strerror(errno));
        ERR_clear_error();
        c.error = err;
        goto report;
    }
    if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
        ssl_error(err, sizeof(err), "no certificate in the file");
        c.error = err;
        goto report;
    }
    while ((more = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
        sk_X509_push(chain, more);
    ERR_clear_error();      /* the end of the file */

    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
        c.not_after = timegm(&tm);
    c.covers = X509_check_host(x, cfg->hostname, 0, 0, NULL) == 1;
    cert_names(x, &names);
    c.names = buf_cstr(&names);
    /* issuer == subject and signed by its own key (X509_check_issued would
     * also want a CA's key usage, which a server's own certificate lacks) */
    c.selfsigned = X509_self_signed(x, 1) == 1;
    if (!c.selfsigned) {
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();

        if (store && ctx && X509_STORE_set_default_paths(store) == 1 &&
            X509_STORE_CTX_init(ctx, store, x, chain) == 1) {
            /* expiry is reported on its own */
            X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_NO_CHECK_TIME);
            X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
            if (X509_verify_cert(ctx) != 1) {
                snprintf(verr, sizeof(verr), "%s",
                         X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
                c.chain_error = verr;
            }
        }
        X509_STORE_CTX_free(ctx);
        X509_STORE_free(store);
    }
    ERR_clear_error();
report:
    doctor_check_cert(env, &c, out);
    buf_free(&names);
    X509_free(x);
    sk_X509_pop_free(chain, X509_free);
    BIO_free(bio);
}

/* ---- the queue --------------------------------------------------------- */

/* queue_from_json - the facts of a LIST answer; false when it is not one */
static bool
queue_from_json(const struct json *j, struct doctor_queue *q, char ***reasons, size_t *nreasons)
{
    const struct json *msgs = json_get(j, "messages");

    if (!msgs || msgs->type != JSON_ARRAY)
        return false;
    for (size_t i = 0; i < msgs->len; i++) {
        const struct json *m = &msgs->items[i];
        const struct json *rcpts = json_get(m, "recipients");
        const struct json *age = json_get(m, "age"), *att = json_get(m, "attempts");
        bool pending = false;

        for (size_t k = 0; rcpts && rcpts->type == JSON_ARRAY && k < rcpts->len; k++) {
            const struct json *r = &rcpts->items[k];
            const struct json *st = json_get(r, "state"), *le = json_get(r, "last_error");

            if (!st || st->type != JSON_STRING || strcmp(st->str, "pending") != 0)
                continue;
            pending = true;
            if (le && le->type == JSON_STRING && le->len) {
                *reasons = xreallocarray(*reasons, *nreasons + 1, sizeof(char *));
                (*reasons)[(*nreasons)++] = xstrdup(le->str);
            }
        }
        if (!pending)
            continue;
        q->messages++;
        if (att && att->type == JSON_INT && att->integer > 0)
            q->deferred++;
        if (age && age->type == JSON_INT && age->integer > q->oldest_age)
            q->oldest_age = age->integer;
    }
    return true;
}

/*
 * queue_ask - LIST through the control socket: 1 with the facts in q,
 * 0 when no server runs, -1 with a sentence in err.
 */
static int
queue_ask(const char *data_dir, struct doctor_queue *q, char ***reasons, size_t *nreasons,
          char *err, size_t errlen)
{
    struct sockaddr_un sun;
    socklen_t sunlen;
    struct timeval tv = { CONTROL_TIMEOUT, 0 };
    struct buf ans = BUF_INIT;
    char chunk[16384];
    int fd, rc = -1;

    if (control_sockaddr(data_dir, &sun, &sunlen, err, errlen) < 0)
        return -1;
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
        snprintf(err, errlen, "cannot make a socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sun, sunlen) < 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return 0;
        snprintf(err, errlen, "cannot connect to %s: %s", sun.sun_path, strerror(e));
        return -1;
    }
    if (send(fd, "LIST\n", 5, MSG_NOSIGNAL) != 5) {
        snprintf(err, errlen, "cannot ask the server: %s", strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "the server did not answer: %s", strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        if (ans.len + (size_t)r > CONTROL_ANSWER_MAX) {
            snprintf(err, errlen, "the server's answer is too large");
            goto out;
        }
        buf_append(&ans, chunk, (size_t)r);
    }
    size_t n = ans.len;
    while (n > 0 && (ans.data[n - 1] == '\n' || ans.data[n - 1] == '\r'))
        n--;
    char jerr[128];
    struct json *j = n ? json_parse(ans.data, n, jerr, sizeof(jerr)) : NULL;
    if (!j || !queue_from_json(j, q, reasons, nreasons)) {
        const struct json *e = j ? json_get(j, "error") : NULL;
        snprintf(err, errlen, "the server answered %s", e && e->type == JSON_STRING
                 ? e->str : "something else than a queue list");
    } else {
        q->running = true;
        rc = 1;
    }
    json_free(j);
out:
    buf_free(&ans);
    close(fd);
    return rc;
}

/* read_head - the first octets of a queue file, up to its envelope's end */
static int
read_head(const char *path, struct buf *out)
{
    char chunk[8192];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return -1;
    while (out->len < QUEUE_HEAD_MAX && !(out->len && strstr(out->data, "\n\n"))) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        buf_append(out, chunk, (size_t)r);
    }
    close(fd);
    return 0;
}

/* queue_files - the facts from <data_dir>/queue/msg/ when no server runs */
static void
queue_files(const char *data_dir, time_t now, struct doctor_queue *q, char *err, size_t errlen)
{
    char dir[PATH_MAX], path[PATH_MAX];
    struct dirent *de;
    DIR *d;

    pathf(dir, sizeof(dir), "%s/queue/msg", data_dir);
    if ((d = opendir(dir)) == NULL) {
        if (errno != ENOENT) {
            snprintf(err, errlen, "%.400s: %s", dir, strerror(errno));
            q->error = err;
        }
        return;
    }
    while ((de = readdir(d)) != NULL) {
        struct buf head = BUF_INIT;
        struct envelope *env;
        char perr[128];
        size_t off;

        if (de->d_name[0] == '.')
            continue;
        pathf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (read_head(path, &head) < 0 || head.len == 0 ||
            (env = envelope_parse(head.data, head.len, &off, perr, sizeof(perr))) == NULL) {
            buf_free(&head);
            continue;
        }
        buf_free(&head);
        /* the delivery records: "done N" and "fail N" settle recipient N */
        char *text;
        size_t len;
        pathf(path, sizeof(path), "%s/queue/state/%s", data_dir, de->d_name);
        if (file_read(path, 1 << 24, &text, &len) == 0) {
            for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *end;
                if (strncmp(line, "done ", 5) != 0 && strncmp(line, "fail ", 5) != 0)
                    continue;
                unsigned long i = strtoul(line + 5, &end, 10);
                if (*end == '\0' && i < env->nrcpts)
                    env->rcpts[i].state = RCPT_DELIVERED;
            }
            free(text);
        }
        if (envelope_pending(env) > 0) {
            q->messages++;
            if ((long long)(now - env->arrival) > q->oldest_age)
                q->oldest_age = (long long)(now - env->arrival);
        }
        envelope_free(env);
    }
    closedir(d);
}

static void
check_queue(const struct config *cfg, const struct doctor_env *env, struct doctor_report *out)
{
    struct doctor_queue q = { .lifetime = cfg->max_queue_lifetime };
    char err[512] = "";
    char **reasons = NULL;
    size_t nreasons = 0;
    int r = queue_ask(cfg->data_dir, &q, &reasons, &nreasons, err, sizeof(err));

    if (r < 0)
        q.error = err;
    else if (r == 0)
        queue_files(cfg->data_dir, env->now, &q, err, sizeof(err));
    q.top_reason = doctor_most_common(reasons, nreasons, &q.top_count);
    doctor_check_queue(env, &q, out);
    for (size_t i = 0; i < nreasons; i++)
        free(reasons[i]);
    free(reasons);
}

/* ---- DKIM keys ---------------------------------------------------------- */

struct keyset {
    struct dkim_entry      *entries;
    size_t                  n;
    struct doctor_dkim_key *keys;
    char                  (*errs)[256];
    char                    err[256];   /* the folder could not be read */
};

static void
keyset_load(struct keyset *ks, const char *data_dir, const char *domain)
{
    memset(ks, 0, sizeof(*ks));
    if (dkim_store_list(data_dir, domain, &ks->entries, &ks->n, ks->err, sizeof(ks->err)) < 0) {
        ks->entries = NULL;
        ks->n = 0;
        return;
    }
    ks->keys = xcalloc(ks->n ? ks->n : 1, sizeof(*ks->keys));
    ks->errs = xcalloc(ks->n ? ks->n : 1, sizeof(*ks->errs));
    for (size_t i = 0; i < ks->n; i++) {
        ks->keys[i].selector = ks->entries[i].selector;
        ks->keys[i].path = ks->entries[i].path;
        ks->keys[i].newest = ks->entries[i].newest;
        ks->keys[i].key = dkim_key_load(ks->entries[i].path, ks->errs[i], sizeof(ks->errs[i]));
        if (ks->keys[i].key == NULL)
            ks->keys[i].error = ks->errs[i];
    }
}

static void
keyset_free(struct keyset *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        dkim_key_free((struct dkim_key *)ks->keys[i].key);
    free(ks->keys);
    free(ks->errs);
    dkim_entries_free(ks->entries, ks->n);
    memset(ks, 0, sizeof(*ks));
}

/* ---- the checks, round by round ---------------------------------------- */

enum job_kind { JOB_MX, JOB_SPF, JOB_DKIM, JOB_DMARC, JOB_HOST, JOB_PTR, JOB_DNSBL };

struct job {
    enum job_kind         kind;
    const char           *name;     /* the domain, or the blocklist's zone */
    struct keyset        *keys;     /* JOB_DKIM */
    bool                  done;
    struct doctor_report  rep;
};

/* job_run - one run of a check; true when it is complete */
static bool
job_run(const struct doctor_env *env, const struct config *cfg, struct job *j,
        struct doctor_report *out)
{
    switch (j->kind) {
    case JOB_MX:    return doctor_check_mx(env, j->name, out);
    case JOB_SPF:   return doctor_check_spf(env, j->name, out);
    case JOB_DMARC: return doctor_check_dmarc(env, j->name, out);
    case JOB_HOST:  return doctor_check_host(env, out);
    case JOB_PTR:   return doctor_check_ptr(env, out);
    case JOB_DNSBL: return doctor_check_dnsbl(env, j->name, out);
    case JOB_DKIM:
        if (j->keys->err[0]) {
            struct doctor_finding *f = doctor_add(out, DOCTOR_WARNING, j->name, "DKIM",
                                                  "cannot read the key files: %s", j->keys->err);
            doctor_why(f, "The published keys could not be compared with the key files.");
            doctor_fix(f, "Run postino doctor as root or as the server's user.");
            return true;
        }
        return doctor_check_dkim(env, j->name, j->keys->keys, j->keys->n, cfg->dkim_sign, out);
    }
    return true;
}

/* run_jobs - every check to its end, with the lookups of each round at once */
static void
run_jobs(const struct doctor_env *env, const struct config *cfg, struct resolver *r,
         struct job *jobs, size_t njobs)
{
    for (unsigned round = 0;; round++) {
        bool all = true;

        for (size_t i = 0; i < njobs; i++) {
            struct doctor_report tmp = DOCTOR_REPORT_INIT;

            if (jobs[i].done)
                continue;
            if (job_run(env, cfg, &jobs[i], &tmp)) {
                jobs[i].done = true;
                doctor_report_take(&jobs[i].rep, &tmp);
            } else {
                all = false;
                doctor_report_free(&tmp);
            }
        }
        if (all)
            return;
        if (round >= ROUNDS_MAX)
            r->give_up = true;          /* the next round ends every check */
        else
            fetch(r);
    }
}

/* ---- the verb ----------------------------------------------------------- */

/* has_connect - --connect is among the arguments */
static bool
has_connect(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--connect") == 0 || strncmp(argv[i], "--connect=", 10) == 0)
            return true;
    }
    return false;
}

/* add_job - append a job */
static void
add_job(struct job **jobs, size_t *n, enum job_kind kind, const char *name, struct keyset *ks)
{
    *jobs = xreallocarray(*jobs, *n + 1, sizeof(**jobs));
    (*jobs)[*n] = (struct job){ .kind = kind, .name = name, .keys = ks };
    (*n)++;
}

/* doctor - run every check of cfg for domains; the exit status */
static int
doctor(const struct config *cfg, char **domains, size_t ndomains, bool json)
{
    struct event_base *base = event_base_new();
    struct resolver r = { .base = base };
    struct doctor_report rep = DOCTOR_REPORT_INIT;
    char err[512], ip[INET6_ADDRSTRLEN] = "", how[IF_NAMESIZE + 16] = "", priv[INET6_ADDRSTRLEN];
    struct dmarc_psl *psl;
    struct keyset *keys;
    struct job *jobs = NULL;
    size_t njobs = 0;
    int rc;

    if (base == NULL) {
        fprintf(stderr, "postino doctor: cannot make an event loop\n");
        return 1;
    }
    if ((r.dns = dns_new(base, cfg->dns_servers, err, sizeof(err))) == NULL) {
        fprintf(stderr, "postino doctor: %s\n", err);
        event_base_free(base);
        return 1;
    }
    if ((psl = dmarc_psl_open(NULL, err, sizeof(err))) == NULL) {
        fprintf(stderr, "postino doctor: %s\n", err);
        resolver_free(&r);
        event_base_free(base);
        return 1;
    }
    priv[0] = '\0';
    if (cfg->public_ip && cfg->public_ip[0]) {
        snprintf(ip, sizeof(ip), "%s", cfg->public_ip);
        snprintf(how, sizeof(how), "public_ip");
    } else {
        find_public_ip(ip, sizeof(ip), how, sizeof(how), priv, sizeof(priv));
    }
    struct doctor_env env = {
        .hostname = cfg->hostname, .public_ip = ip, .lookup = lookup, .arg = &r, .psl = psl,
        .now = time(NULL),
    };

    keys = xcalloc(ndomains ? ndomains : 1, sizeof(*keys));
    for (size_t i = 0; i < ndomains; i++) {
        keyset_load(&keys[i], cfg->data_dir, domains[i]);
        add_job(&jobs, &njobs, JOB_MX, domains[i], NULL);
        add_job(&jobs, &njobs, JOB_SPF, domains[i], NULL);
        add_job(&jobs, &njobs, JOB_DKIM, domains[i], &keys[i]);
        add_job(&jobs, &njobs, JOB_DMARC, domains[i], NULL);
    }
    size_t server_jobs = njobs;
    add_job(&jobs, &njobs, JOB_HOST, NULL, NULL);
    add_job(&jobs, &njobs, JOB_PTR, NULL, NULL);
    const char *const *zones = cfg->dnsbl && cfg->dnsbl[0]
                             ? (const char *const *)cfg->dnsbl : doctor_dnsbl_default;
    for (size_t i = 0; zones[i]; i++)
        add_job(&jobs, &njobs, JOB_DNSBL, zones[i], NULL);
    run_jobs(&env, cfg, &r, jobs, njobs);

    for (size_t i = 0; i < server_jobs; i++)
        doctor_report_take(&rep, &jobs[i].rep);
    doctor_check_public_ip(&env, how, priv, &rep);
    for (size_t i = server_jobs; i < njobs; i++)
        doctor_report_take(&rep, &jobs[i].rep);
    check_listeners(cfg, &env, &rep);
    check_cert(cfg, &env, &rep);
    check_queue(cfg, &env, &rep);

    struct buf out = BUF_INIT;
    size_t problems = doctor_count(&rep, DOCTOR_PROBLEM);
    size_t warnings = doctor_count(&rep, DOCTOR_WARNING);
    if (json) {
        doctor_format_json(&rep, cfg->hostname, ip, &out);
    } else {
        doctor_format_text(&rep, &out);
        if (problems)
            buf_printf(&out, "\n%zu problem%s, %zu warning%s: fix the problems first, each "
                       "one costs mail.\n", problems, problems == 1 ? "" : "s", warnings,
                       warnings == 1 ? "" : "s");
        else
            buf_printf(&out, "\nNo problem found (%zu warning%s).\n", warnings,
                       warnings == 1 ? "" : "s");
    }
    fwrite(out.data, 1, out.len, stdout);
    fflush(stdout);
    rc = problems ? 1 : 0;

    buf_free(&out);
    doctor_report_free(&rep);
    for (size_t i = 0; i < njobs; i++)
        doctor_report_free(&jobs[i].rep);
    free(jobs);
    for (size_t i = 0; i < ndomains; i++)
        keyset_free(&keys[i]);
    free(keys);
    resolver_free(&r);
    dmarc_psl_free(psl);
    event_base_free(base);
    return rc;
}

int
cli_doctor(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    struct buf errs = BUF_INIT;
    char **overrides = xcalloc((size_t)argc + 1, sizeof(char *));
    char **domains = xcalloc((size_t)argc + 1, sizeof(char *));
    size_t noverrides = 0, ndomains = 0;
    const char *config = NULL;
    bool json = false;
    int c, nerr, rc = 2;
    struct config *cfg = NULL;

    if (has_connect(argc, argv)) {
        free(overrides);
        free(domains);
        return doctor_connect(argc, argv);
    }
    optind = 1;
    opterr = 0;         /* said below, in our words */
    while ((c = getopt_long(argc, argv, ":c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'o':
            overrides[noverrides++] = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            printf("%s\n\nCheck this server's setup and say what to fix: for each domain (by "
                   "default every\nlocal domain) its MX, SPF, DKIM and DMARC records; this "
                   "server's name, address,\nreverse DNS and blocklist listings; its listeners, "
                   "certificate and queue.\nEach line says ok, warning or problem; each problem "
                   "says why it matters and the\nexact fix. --json prints the same for scripts. "
                   "Exit status: 0 without problems\n(warnings are fine), 1 with problems, 2 for "
                   "a usage error.\n", DOCTOR_USAGE);
            rc = 0;
            goto out;
        case ':':
            fprintf(stderr, "postino doctor: %s needs a value\n%s\n", argv[optind - 1],
                    DOCTOR_USAGE);
            goto out;
        default:
            fprintf(stderr, "postino doctor: unknown option \"%s\"\n%s\n", argv[optind - 1],
                    DOCTOR_USAGE);
            goto out;
        }
    }
    for (int i = optind; i < argc; i++) {
        size_t len = strlen(argv[i]);

        if (len > 1 && argv[i][len - 1] == '.')
            len--;
        if (!domain_valid(argv[i], len, false)) {
            fprintf(stderr, "postino doctor: \"%s\" is not a domain name\n%s\n", argv[i],
                    DOCTOR_USAGE);
            goto out;
        }
        char *d = xstrndup(argv[i], len);
        for (char *p = d; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        domains[ndomains++] = d;
    }
    cfg = config_load(config, overrides, noverrides, &errs, &nerr);
    if (nerr) {
        fprintf(stderr, "%s", buf_cstr(&errs));
        goto out;
    }
    if (ndomains == 0) {
        domains = xreallocarray(domains, cfg->ndomains + 1, sizeof(char *));
        for (size_t i = 0; i < cfg->ndomains; i++)
            domains[ndomains++] = xstrdup(cfg->domains[i]);
    }
    rc = doctor(cfg, domains, ndomains, json);
out:
    config_free(cfg);
    buf_free(&errs);
    for (size_t i = 0; i < ndomains; i++)
        free(domains[i]);
    free(domains);
    free(overrides);
    return rc;
}
