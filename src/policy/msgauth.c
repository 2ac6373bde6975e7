/*
 * msgauth - SPF, DKIM and DMARC for the SMTP server; see msgauth.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <event2/event.h>

#include "dns/dns.h"
#include "dkim/dkim.h"
#include "dmarc/dmarc.h"
#include "mail/authres.h"
#include "mail/from.h"
#include "policy/msgauth.h"
#include "spf/spf.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"

enum qtype { Q_TXT, Q_A, Q_AAAA, Q_MX, Q_PTR };

/* One DNS answer of a check, or a question asked and not answered yet. */
struct answer {
    struct answer      *next;
    enum qtype          type;
    bool                known;
    enum spf_dns_status st;     /* the SPF module's statuses serve everyone */
    char              **text;   /* TXT, MX, PTR */
    unsigned char      *addr;   /* A: 4 octets each, AAAA: 16 */
    size_t              n;
    char                name[];
};

/* One DNS query in flight. Q_A asks for A and AAAA at once (dns_addr). */
struct ask {
    struct ask         *next;
    struct msgauth_job *j;
    struct dns_query   *q;
    enum qtype          type;
    char                name[];
};

struct msgauth_job {
    struct workq_item   item;
    struct msgauth_ctx *ctx;
    msgauth_cb          cb;
    void               *arg;
    bool                signing;
    bool                in_worker;
    bool                cancelled;
    struct buf          msg;
    size_t              skip;
    time_t              now;
    /* check */
    struct msgauth_check_in in;     /* its strings are copies, owned here */
    struct answer      *answers;
    struct ask         *asks;
    struct event       *deadline;
    bool                expired;
    bool                spf_done, dmarc_done, dkim_done;
    struct spf_outcome  spf;
    char                spf_sender[FROM_ADDRESS_MAX];
    char                spf_domain[SPF_NAME_MAX + 1];
    bool                spf_null;   /* MAIL FROM:<>: the HELO name was checked */
    enum from_status    from_st;
    struct from_addr    from;
    struct dmarc_discovery disc;
    struct dkim_verify *dv;
    /* sign */
    char               *data_dir;
    char              **domains;
    struct buf          sigs;
    char                sign_note[1024];
};

static void advance(struct msgauth_job *j);

/* ---- the job's life ------------------------------------------------ */

static void
job_free(struct msgauth_job *j)
{
    for (struct ask *a = j->asks, *next; a; a = next) {
        next = a->next;
        dns_cancel(a->q);
        free(a);
    }
    for (struct answer *a = j->answers, *next; a; a = next) {
        next = a->next;
        for (size_t i = 0; a->text && i < a->n; i++)
            free(a->text[i]);
        free(a->text);
        free(a->addr);
        free(a);
    }
    if (j->deadline)
        event_free(j->deadline);
    dkim_verify_free(j->dv);
    buf_free(&j->msg);
    buf_free(&j->sigs);
    free((char *)j->in.ip);
    free((char *)j->in.helo);
    free((char *)j->in.mail_from);
    free((char *)j->in.hostname);
    free(j->data_dir);
    for (char **d = j->domains; d && *d; d++)
        free(*d);
    free(j->domains);
    free(j);
}

void
msgauth_cancel(struct msgauth_job *j)
{
    if (!j)
        return;
    j->cancelled = true;
    if (!j->in_worker)
        job_free(j);        /* else work_done frees it */
}

/* deliver - hand the result over, then end the job */
static void
deliver(struct msgauth_job *j, struct msgauth_result *r)
{
    j->cb(j->arg, r);
    buf_free(&r->msg);
    job_free(j);
}

/* ---- answers ------------------------------------------------------- */

static struct answer *
answer_find(struct msgauth_job *j, enum qtype type, const char *name)
{
    for (struct answer *a = j->answers; a; a = a->next)
        if (a->type == type && strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static struct answer *
answer_add(struct msgauth_job *j, enum qtype type, const char *name)
{
    size_t len = strlen(name) + 1;
    struct answer *a = xcalloc(1, sizeof(*a) + len);
    a->type = type;
    memcpy(a->name, name, len);
    a->next = j->answers;
    j->answers = a;
    return a;
}

/* status_of - the DNS module's status as the SPF module writes it */
static enum spf_dns_status
status_of(enum dns_status st)
{
    switch (st) {
    case DNS_OK:       return SPF_DNS_OK;
    case DNS_NODATA:   return SPF_DNS_NODATA;
    case DNS_NXDOMAIN: return SPF_DNS_NXDOMAIN;
    default:           return SPF_DNS_TEMPFAIL;
    }
}

static struct ask *
ask_take(struct msgauth_job *j, struct ask *a)
{
    for (struct ask **pp = &j->asks; *pp; pp = &(*pp)->next)
        if (*pp == a) {
            *pp = a->next;
            break;
        }
    return a;
}

/* text_answer - a TXT, PTR or MX answer came for the query a */
static void
text_answer(struct ask *a, enum qtype type, enum dns_status st, char *const *v, size_t n)
{
    struct msgauth_job *j = a->j;
    struct answer *ans = answer_find(j, type, a->name);

    ask_take(j, a);
    if (ans && !ans->known) {
        ans->known = true;
        ans->st = status_of(st);
        if (st == DNS_OK && n > 0) {
            ans->text = xcalloc(n, sizeof(char *));
            for (size_t i = 0; i < n; i++)
                ans->text[i] = xstrdup(v[i]);
            ans->n = n;
        } else if (st == DNS_OK) {
            ans->st = SPF_DNS_NODATA;
        }
    }
    free(a);
    advance(j);
}

static void
on_text(void *arg, enum dns_status st, char **v, size_t n, const char *why)
{
    struct ask *a = arg;
    (void)why;
    text_answer(a, a->type, st, v, n);
}

static void
on_mx(void *arg, enum dns_status st, struct mx_record *v, size_t n, const char *why)
{
    char *hosts[DNS_MAX_RECORDS];
    (void)why;
    if (n > DNS_MAX_RECORDS)
        n = DNS_MAX_RECORDS;
    for (size_t i = 0; i < n; i++)
        hosts[i] = v[i].host;
    text_answer(arg, Q_MX, st, hosts, n);
}

/* fill_family - the A or AAAA part of an address answer */
static void
fill_family(struct answer *ans, enum dns_status st, const struct sockaddr_storage *v, size_t n,
            int family)
{
    size_t width = family == AF_INET ? 4 : 16, k = 0;

    if (!ans || ans->known)
        return;
    ans->known = true;
    ans->addr = xcalloc(n ? n : 1, width);
    for (size_t i = 0; st == DNS_OK && i < n; i++) {
        if (v[i].ss_family != family)
            continue;
        if (family == AF_INET)
            memcpy(ans->addr + 4 * k, &((const struct sockaddr_in *)&v[i])->sin_addr, 4);
        else
            memcpy(ans->addr + 16 * k, &((const struct sockaddr_in6 *)&v[i])->sin6_addr, 16);
        k++;
    }
    ans->n = k;
    /* dns_addr answers for both families at once: one without records
     * of its own has none (NODATA), unless the whole name failed. */
    ans->st = st == DNS_OK ? (k ? SPF_DNS_OK : SPF_DNS_NODATA) : status_of(st);
}

static void
on_addr(void *arg, enum dns_status st, const struct sockaddr_storage *v, size_t n,
        const char *why)
{
    struct ask *a = arg;
    struct msgauth_job *j = a->j;
    (void)why;

    ask_take(j, a);
    fill_family(answer_find(j, Q_A, a->name), st, v, n, AF_INET);
    fill_family(answer_find(j, Q_AAAA, a->name), st, v, n, AF_INET6);
    free(a);
    advance(j);
}

/*
 * ask - look (type, name) up unless it is known or asked already. A name
 * the resolver cannot take is answered NXDOMAIN at once: true then, as
 * an answer became known without waiting.
 */
static bool
ask(struct msgauth_job *j, enum qtype type, const char *name)
{
    if (answer_find(j, type, name))
        return false;
    struct answer *ans = answer_add(j, type, name);
    if (type == Q_A || type == Q_AAAA) {
        /* one query for both families */
        enum qtype other = type == Q_A ? Q_AAAA : Q_A;
        if (!answer_find(j, other, name))
            answer_add(j, other, name);
    }
    if (j->expired || !dns_name_ok(name)) {
        for (struct answer *a = j->answers; a; a = a->next)
            if (!a->known && strcmp(a->name, name) == 0) {
                a->known = true;
                a->st = j->expired ? SPF_DNS_TEMPFAIL : SPF_DNS_NXDOMAIN;
            }
        (void)ans;
        return true;
    }
    size_t len = strlen(name) + 1;
    struct ask *a = xcalloc(1, sizeof(*a) + len);
    a->j = j;
    a->type = type == Q_AAAA ? Q_A : type;
    memcpy(a->name, name, len);
    a->next = j->asks;
    j->asks = a;
    switch (a->type) {
    case Q_TXT: a->q = dns_txt(j->ctx->dns, name, on_text, a); break;
    case Q_PTR: a->q = dns_ptr(j->ctx->dns, name, on_text, a); break;
    case Q_MX:  a->q = dns_mx(j->ctx->dns, name, on_mx, a); break;
    default:    a->q = dns_addr(j->ctx->dns, name, on_addr, a); break;
    }
    return false;
}

/* ---- SPF and DMARC through the answers ------------------------------- */

static bool
spf_lookup(void *arg, enum spf_rrtype type, const char *name, struct spf_answer *out)
{
    static const enum qtype map[] = {
        [SPF_RR_TXT] = Q_TXT, [SPF_RR_A] = Q_A, [SPF_RR_AAAA] = Q_AAAA,
        [SPF_RR_MX] = Q_MX, [SPF_RR_PTR] = Q_PTR,
    };
    struct msgauth_job *j = arg;
    struct answer *a = answer_find(j, map[type], name);

    if (!a || !a->known) {
        if (!j->expired)
            return false;
        memset(out, 0, sizeof(*out));
        out->status = SPF_DNS_TEMPFAIL;         /* the deadline passed */
        return true;
    }
    out->status = a->st;
    out->n = a->n;
    out->text = (const char *const *)a->text;
    out->addr = a->addr;
    return true;
}

static bool
dmarc_lookup(void *arg, const char *name, struct dmarc_answer *out)
{
    struct msgauth_job *j = arg;
    struct answer *a = answer_find(j, Q_TXT, name);

    memset(out, 0, sizeof(*out));
    if (!a || !a->known) {
        if (!j->expired)
            return false;
        out->status = DMARC_DNS_TEMPFAIL;
        return true;
    }
    switch (a->st) {
    case SPF_DNS_OK:       out->status = DMARC_DNS_OK; break;
    case SPF_DNS_NODATA:   out->status = DMARC_DNS_NODATA; break;
    case SPF_DNS_NXDOMAIN: out->status = DMARC_DNS_NXDOMAIN; break;
    default:               out->status = DMARC_DNS_TEMPFAIL; break;
    }
    out->txt = a->text;
    out->n = a->n;
    return true;
}

static enum qtype
qtype_of(enum spf_rrtype t)
{
    switch (t) {
    case SPF_RR_TXT:  return Q_TXT;
    case SPF_RR_A:    return Q_A;
    case SPF_RR_AAAA: return Q_AAAA;
    case SPF_RR_MX:   return Q_MX;
    default:          return Q_PTR;
    }
}

/* ---- the end of a check -------------------------------------------- */

static enum dmarc_auth
dmarc_of_spf(enum spf_result r)
{
    switch (r) {
    case SPF_PASS:      return DMARC_AUTH_PASS;
    case SPF_NONE:      return DMARC_AUTH_NONE;
    case SPF_TEMPERROR: return DMARC_AUTH_TEMPERROR;
    case SPF_PERMERROR: return DMARC_AUTH_PERMERROR;
    default:            return DMARC_AUTH_FAIL;
    }
}

static enum dmarc_auth
dmarc_of_dkim(enum dkim_status st)
{
    switch (st) {
    case DKIM_PASS:      return DMARC_AUTH_PASS;
    case DKIM_TEMPERROR: return DMARC_AUTH_TEMPERROR;
    case DKIM_PERMERROR: return DMARC_AUTH_PERMERROR;
    default:             return DMARC_AUTH_FAIL;
    }
}

static void
finish_check(struct msgauth_job *j)
{
    struct msgauth_result r;
    size_t nsig = j->dv ? dkim_verify_count(j->dv) : 0;
    struct authres_dkim ad[DKIM_VERIFY_MAX];
    struct dmarc_dkim dd[DKIM_VERIFY_MAX];
    struct dmarc_outcome dout;
    struct authres_dmarc admarc;
    char comment[300];

    memset(&r, 0, sizeof(r));
    if (j->deadline)
        evtimer_del(j->deadline);
    for (size_t i = 0; i < nsig; i++) {
        const struct dkim_result *k = dkim_verify_result(j->dv, i);
        ad[i] = (struct authres_dkim){ dkim_status_name(k->status), k->domain, k->selector,
                                       k->b8 };
        dd[i] = (struct dmarc_dkim){ dmarc_of_dkim(k->status), k->domain };
    }
    struct authres_spf aspf = { spf_result_name(j->spf.result), j->spf_domain, j->spf_null };
    struct authres ar = { j->in.hostname, &aspf, true, ad, nsig, NULL };

    bool dmarc = j->from_st == FROM_OK;
    if (dmarc) {
        struct dmarc_input din = {
            dmarc_of_spf(j->spf.result), j->spf_domain,
            j->spf_null ? DMARC_SPF_NULL_PATH : DMARC_SPF_MAILFROM, dd, nsig,
        };
        dmarc_evaluate(j->ctx->psl, &j->disc, &din, arc4random(), &dout);
        bool found = j->disc.found == DMARC_FOUND_RECORD;
        admarc = (struct authres_dmarc){
            dmarc_result_name(dout.result), found ? dmarc_policy_name(dout.policy) : NULL,
            dmarc_disposition_name(dout.disposition), j->from.domain,
        };
        ar.dmarc = &admarc;
    }

    /* The new message: our Received:, our verdict, the client's message
     * without any field claiming to be our verdict (RFC 8601 5). */
    buf_append(&r.msg, j->msg.data, j->skip);
    authres_format(&ar, &r.msg);
    bool reject = dmarc && dout.disposition == DMARC_REJECT;
    if (dmarc && (dout.disposition == DMARC_QUARANTINE || (reject && !j->in.dmarc_enforce))) {
        snprintf(comment, sizeof(comment), "p=%s dis=%s header.from=%s",
                 dmarc_policy_name(dout.policy), dmarc_disposition_name(dout.disposition),
                 j->from.domain);
        authres_quarantine("dmarc", comment, &r.msg);
    }
    size_t nquar = 0;
    size_t forged = authres_strip(j->msg.data + j->skip, j->msg.len - j->skip,
                                  j->in.hostname, &r.msg, &nquar);
    if (reject && j->in.dmarc_enforce) {
        r.reject = true;
        snprintf(r.reply, sizeof(r.reply), "5.7.1 Message rejected: the DMARC policy of %.150s "
                 "(p=reject) and neither SPF nor DKIM aligned", j->from.domain);
    }

    /* The log's summary: one line says it all. */
    struct buf s = BUF_INIT;
    buf_printf(&s, "spf=%s (%s) smtp.%s=%s", spf_result_name(j->spf.result), j->spf.mechanism,
               j->spf_null ? "helo" : "mailfrom", j->spf_domain);
    if (nsig == 0)
        buf_puts(&s, " dkim=none");
    for (size_t i = 0; i < nsig; i++) {
        const struct dkim_result *k = dkim_verify_result(j->dv, i);
        buf_printf(&s, " dkim=%s d=%s s=%s%s%s%s", dkim_status_name(k->status), k->domain,
                   k->selector, k->reason[0] ? " (" : "", k->reason, k->reason[0] ? ")" : "");
    }
    if (dmarc)
        buf_printf(&s, " dmarc=%s (p=%s dis=%s) header.from=%s", dmarc_result_name(dout.result),
                   dmarc_policy_name(dout.policy), dmarc_disposition_name(dout.disposition),
                   j->from.domain);
    else
        buf_printf(&s, " dmarc=none (From: %s)", from_status_text(j->from_st));
    if (forged || nquar)
        buf_printf(&s, " removed=%zu forged", forged + nquar);
    log_sanitize(s.data, s.len, r.summary, sizeof(r.summary));
    buf_free(&s);
    deliver(j, &r);
}

/* advance - take every step the answers so far allow */
static void
advance(struct msgauth_job *j)
{
    bool again = true;

    if (j->cancelled)
        return;
    while (again) {
        again = false;
        if (!j->spf_done) {
            struct spf_request rq = {
                .ip = j->in.ip, .sender = j->spf_sender, .helo = j->in.helo,
                .domain = j->spf_domain, .receiver = j->in.hostname, .now = (int64_t)j->now,
            };
            if (spf_eval(&rq, spf_lookup, j, &j->spf))
                j->spf_done = true;
            else
                for (size_t i = 0; i < j->spf.nneed; i++)
                    again |= ask(j, qtype_of(j->spf.need[i].type), j->spf.need[i].name);
        }
        if (!j->dmarc_done) {
            if (j->from_st != FROM_OK)
                j->dmarc_done = true;
            else if (dmarc_discover(j->ctx->psl, j->from.domain, dmarc_lookup, j, &j->disc)
                     == DMARC_DONE)
                j->dmarc_done = true;
            else
                again |= ask(j, Q_TXT, j->disc.need);
        }
        if (!j->dkim_done && j->dv && !j->in_worker) {
            bool all = true;
            for (size_t i = 0; i < dkim_verify_count(j->dv); i++) {
                const char *q = dkim_verify_query(j->dv, i);
                if (!q)
                    continue;
                struct answer *a = answer_find(j, Q_TXT, q);
                if (a && a->known) {
                    enum dkim_dns st = a->st == SPF_DNS_OK ? DKIM_DNS_OK
                                     : a->st == SPF_DNS_TEMPFAIL ? DKIM_DNS_TEMPFAIL
                                     : DKIM_DNS_NOKEY;
                    dkim_verify_answer(j->dv, i, st, a->text, a->n);
                } else if (j->expired) {
                    dkim_verify_answer(j->dv, i, DKIM_DNS_TEMPFAIL, NULL, 0);
                } else {
                    all = false;
                    again |= ask(j, Q_TXT, q);
                }
            }
            j->dkim_done = all;
        }
    }
    if (j->spf_done && j->dmarc_done && j->dkim_done)
        finish_check(j);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct msgauth_job *j = arg;
    (void)fd;
    (void)what;
    j->expired = true;
    for (struct ask *a = j->asks, *next; a; a = next) {
        next = a->next;
        dns_cancel(a->q);
        free(a);
    }
    j->asks = NULL;
    advance(j);
}

/* ---- workers ------------------------------------------------------- */

/* sign_work - on a worker: the signatures of j's message, into j->sigs */
static void
sign_work(struct msgauth_job *j)
{
    const char *msg = j->msg.data + j->skip;
    size_t n = j->msg.len - j->skip;
    struct from_addr from;
    struct dkim_signer signers[DKIM_SIGNERS_MAX];
    char err[256];
    bool local = false;

    if (from_extract(msg, n, &from) != FROM_OK)
        return;
    for (char **d = j->domains; d && *d && !local; d++)
        local = strcmp(*d, from.domain) == 0;
    if (!local)
        return;
    size_t ns = dkim_keys_for(j->data_dir, from.domain, signers, err, sizeof(err));
    if (err[0])
        snprintf(j->sign_note, sizeof(j->sign_note), "dkim key: %s; ", err);
    for (size_t i = 0; i < ns; i++) {
        char *sig = dkim_sign(msg, n, signers[i].key, signers[i].domain, signers[i].selector,
                              j->now, err, sizeof(err));
        size_t used = strlen(j->sign_note);
        if (sig) {
            buf_puts(&j->sigs, sig);
            snprintf(j->sign_note + used, sizeof(j->sign_note) - used, "dkim signed d=%s s=%s "
                     "a=%s; ", signers[i].domain, signers[i].selector,
                     dkim_alg_name(dkim_key_alg(signers[i].key)));
            free(sig);
        } else {
            snprintf(j->sign_note + used, sizeof(j->sign_note) - used, "dkim signing with "
                     "s=%s failed: %s; ", signers[i].selector, err);
        }
    }
    dkim_signers_free(signers, ns);
}

void
msgauth_work_run(struct workq_item **items, size_t n, void *arg)
{
    (void)arg;
    for (size_t i = 0; i < n; i++) {
        struct msgauth_job *j = (struct msgauth_job *)items[i];
        if (j->cancelled)
            continue;
        if (j->signing)
            sign_work(j);
        else
            j->dv = dkim_verify_new(j->msg.data + j->skip, j->msg.len - j->skip, j->now);
    }
}

static void
work_done(struct workq_item *item)
{
    struct msgauth_job *j = (struct msgauth_job *)item;

    j->in_worker = false;
    if (j->cancelled) {
        job_free(j);
        return;
    }
    if (!j->signing) {
        advance(j);
        return;
    }
    struct msgauth_result r;
    memset(&r, 0, sizeof(r));
    if (j->sigs.len) {
        buf_reserve(&r.msg, j->msg.len + j->sigs.len);
        buf_append(&r.msg, j->msg.data, j->skip);
        buf_append(&r.msg, j->sigs.data, j->sigs.len);
        buf_append(&r.msg, j->msg.data + j->skip, j->msg.len - j->skip);
    } else {
        r.msg = j->msg;
        buf_init(&j->msg);
    }
    size_t len = strlen(j->sign_note);
    if (len >= 2)
        j->sign_note[len - 2] = '\0';           /* the last "; " */
    log_sanitize(j->sign_note, strlen(j->sign_note), r.summary, sizeof(r.summary));
    deliver(j, &r);
}

/* ---- starting ------------------------------------------------------ */

static struct msgauth_job *
job_new(struct msgauth_ctx *ctx, struct buf *msg, size_t skip, msgauth_cb cb, void *arg)
{
    struct msgauth_job *j = xcalloc(1, sizeof(*j));
    j->ctx = ctx;
    j->cb = cb;
    j->arg = arg;
    j->msg = *msg;
    buf_init(msg);
    j->skip = skip <= j->msg.len ? skip : j->msg.len;
    j->now = time(NULL);
    j->item.done = work_done;
    return j;
}

struct msgauth_job *
msgauth_check(struct msgauth_ctx *ctx, const struct msgauth_check_in *in, struct buf *msg,
              size_t skip, msgauth_cb cb, void *arg)
{
    struct msgauth_job *j = job_new(ctx, msg, skip, cb, arg);

    j->in.ip = xstrdup(in->ip);
    j->in.helo = xstrdup(in->helo);
    j->in.mail_from = xstrdup(in->mail_from);
    j->in.hostname = xstrdup(in->hostname);
    j->in.dmarc_enforce = in->dmarc_enforce;

    /* RFC 7208 2.4: for <> the identity is postmaster@HELO */
    const char *at = strrchr(in->mail_from, '@');
    j->spf_null = !in->mail_from[0] || !at;
    if (j->spf_null)
        snprintf(j->spf_sender, sizeof(j->spf_sender), "postmaster@%s", in->helo);
    else
        snprintf(j->spf_sender, sizeof(j->spf_sender), "%s", in->mail_from);
    snprintf(j->spf_domain, sizeof(j->spf_domain), "%.*s", SPF_NAME_MAX,
             j->spf_null ? in->helo : at + 1);
    for (char *p = j->spf_domain; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    j->from_st = from_extract(j->msg.data + j->skip, j->msg.len - j->skip, &j->from);
    j->deadline = evtimer_new(ctx->base, on_deadline, j);
    struct timeval tv = { MSGAUTH_DEADLINE, 0 };
    evtimer_add(j->deadline, &tv);
    j->in_worker = true;                    /* the DKIM hashes first */
    workq_push(ctx->wq, &j->item);
    advance(j);                             /* SPF and DMARC meanwhile */
    return j;
}

struct msgauth_job *
msgauth_sign(struct msgauth_ctx *ctx, const char *data_dir, char *const *domains,
             struct buf *msg, size_t skip, msgauth_cb cb, void *arg)
{
    struct msgauth_job *j = job_new(ctx, msg, skip, cb, arg);
    size_t n = 0;

    j->signing = true;
    j->data_dir = xstrdup(data_dir);
    while (domains && domains[n])
        n++;
    j->domains = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        j->domains[i] = xstrdup(domains[i]);
    j->in_worker = true;
    workq_push(ctx->wq, &j->item);
    return j;
}
