/*
 * scheduler - when each queued message is delivered; see scheduler.h.
 *
 * Each message (struct entry) goes through rounds. A round hands the
 * local recipients to the Maildir workers and the remote ones, grouped by
 * domain, to the relay. When every part of the round has answered, the
 * round settles: notices go out (bounces for recipients that failed for
 * good, success notices for NOTIFY=SUCCESS, one delay warning), what was
 * decided is recorded durably in the queue's state file, and the message
 * is either removed (nothing left) or given a retry time from
 * retry_intervals. A message older than max_queue_lifetime fails its
 * remaining recipients with 4.4.7 and bounces.
 *
 * Bounces are new messages from "<>" queued through the same commit path
 * as received mail, before the original's failure is recorded: a crash
 * can send a bounce twice, never lose one.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>

#include <event2/event.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"
#include "conf/config.h"
#include "mail/smtp_cmd.h"
#include "deliver/maildir.h"
#include "queue/dsn.h"
#include "queue/scheduler.h"
#include "relay/relay.h"

#define DELIVERY_BATCH 64

struct entry {
    struct scheduler  *sched;
    struct envelope   *env;
    struct entry      *prev, *next;
    struct event      *timer;       /* retry */
    time_t             next_try;
    unsigned           attempts;
    bool               busy_local;  /* a Maildir job is under way */
    unsigned           busy_remote; /* relay deliveries under way */
    unsigned           busy_notice; /* notices being queued */
    bool               recording;   /* the record job is under way */
    bool               deleted;     /* remove when the round ends */
    bool               again;       /* retry asked while busy */
    unsigned char     *fresh;       /* per recipient, this round: 0, FRESH_DONE, FRESH_FAILED */
    bool               warn_now;    /* a delay notice went out this round */
    bool               noticed;     /* this round's notices are queued */
    struct maildir_job job;
};

#define FRESH_DONE    1     /* delivered here, or relayed: notice if NOTIFY=SUCCESS */
#define FRESH_FAILED  2
#define FRESH_RELAYED 3     /* taken by a server without DSN: "relayed" notice */
#define FRESH_PASSED  4     /* taken by a server with DSN: it reports, we do not */

struct scheduler {
    struct event_base *base;
    struct spool      *spool;
    const struct config *cfg;
    struct relay      *relay;
    struct workq      *commitq;
    sched_route_fn     route;
    void              *route_arg;
    struct maildir_ctx mctx;
    char              *hostname;
    struct workq      *wq;
    struct entry      *head, *tail;     /* oldest first */
    size_t             count;
    bool               stopping;        /* scheduler_free: start nothing new */
};

static void entry_run(struct entry *e);
static void entry_settle(struct entry *e);

static void
entry_free(struct entry *e)
{
    struct scheduler *s = e->sched;

    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    s->count--;
    if (e->timer)
        event_free(e->timer);
    free(e->job.result);
    free(e->fresh);
    envelope_free(e->env);
    free(e);
}

static bool
entry_busy(const struct entry *e)
{
    return e->busy_local || e->busy_remote || e->busy_notice || e->recording;
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    entry_run(arg);
}

/* entry_later - run again in secs seconds */
static void
entry_later(struct entry *e, unsigned secs)
{
    if (!e->timer)
        e->timer = evtimer_new(e->sched->base, retry_cb, e);
    struct timeval tv = { secs, 0 };
    e->next_try = time(NULL) + secs;
    evtimer_add(e->timer, &tv);
}

/* remove_files - forget a message that will not be delivered (delete) */
static void
remove_files(struct entry *e)
{
    char path[PATH_MAX];

    spool_msg_path(e->sched->spool, e->env->id, path, sizeof(path));
    unlink(path);
    spool_state_path(e->sched->spool, e->env->id, path, sizeof(path));
    unlink(path);
}

/* ---- notices (DSN) ----------------------------------------------------- */

struct notice {
    struct spool_commit sc;
    struct entry       *e;
};

static void
notice_committed(struct workq_item *item)
{
    struct notice *n = (struct notice *)item;
    struct entry *e = n->e;

    buf_free(&n->sc.content);
    if (n->sc.error == 0) {
        log_info("%s: from=<>, size=%zu, nrcpt=%zu (queue active; notice for %s)",
                 n->sc.env->id, n->sc.env->size, n->sc.env->nrcpts, e->env->id);
        scheduler_add(e->sched, n->sc.env);
    } else {
        /* XXX the notice is lost; the original's failure is still recorded. */
        log_error("%s: cannot queue the delivery notice: %s", e->env->id,
                  strerror(n->sc.error));
        envelope_free(n->sc.env);
    }
    free(n);
    e->busy_notice--;
    entry_settle(e);
}

/* notify_allows - does the recipient want a notice of this kind? (RFC 3461 4.1:
 * without NOTIFY, failures are reported, delays may be) */
static bool
notify_allows(const struct env_rcpt *r, enum dsn_kind kind)
{
    if (r->notify & NOTIFY_NEVER)
        return false;
    switch (kind) {
    case DSN_FAILED:
        return r->notify == 0 || (r->notify & NOTIFY_FAILURE);
    case DSN_DELAYED:
        return r->notify == 0 || (r->notify & NOTIFY_DELAY);
    case DSN_DELIVERED:
        return r->notify & NOTIFY_SUCCESS;
    }
    return false;
}

/* explain - a sentence for people, from what we know of a failure */
static const char *
explain(const struct env_rcpt *r, enum dsn_kind kind)
{
    if (kind == DSN_DELIVERED)
        return "Your message was delivered to this recipient.";
    if (kind == DSN_DELAYED)
        return "Your message could not be delivered yet; the server keeps trying. "
               "You do not need to send it again.";
    if (r->last_explanation)
        return r->last_explanation;
    if (r->last_status && r->last_status[0] == '5' && strncmp(r->last_status, "5.1.1", 5) == 0)
        return "The recipient's server says this mailbox does not exist. Check the address "
               "for a typing mistake.";
    if (r->last_status && strcmp(r->last_status, "4.4.7") == 0)
        return "Your message could not be delivered for several days and the server gave "
               "up. The reason of the last attempt is given below.";
    return "The recipient's server refused the message. Its answer is given below.";
}

/* queue_notice - compose a notice of kind for the recipients marked in
 * pick[] and queue it to the sender */
static void
queue_notice(struct entry *e, enum dsn_kind kind, const bool *pick)
{
    struct scheduler *s = e->sched;
    struct envelope *env = e->env;
    struct dsn_rcpt *dr = xcalloc(env->nrcpts, sizeof(*dr));
    size_t n = 0;
    char *orig = NULL, msgid[128];
    size_t off = 0, len = 0;

    for (size_t i = 0; i < env->nrcpts; i++) {
        if (!pick[i])
            continue;
        struct env_rcpt *r = &env->rcpts[i];
        dr[n].address = r->orig;
        dr[n].orcpt = r->orcpt;
        dr[n].status = kind == DSN_DELIVERED ? "2.0.0"
                     : r->last_status ? r->last_status : kind == DSN_DELAYED ? "4.0.0" : "5.0.0";
        dr[n].remote_mta = r->last_mta && r->last_mta[0] ? r->last_mta : NULL;
        dr[n].diagnostic = kind == DSN_DELIVERED ? NULL : r->last_error;
        dr[n].explanation = explain(r, kind);
        if (kind == DSN_DELIVERED && e->fresh[i] == FRESH_RELAYED) {
            dr[n].action = "relayed";
            dr[n].explanation = "Your message was handed to the recipient's mail server, "
                                "which does not report deliveries; it has accepted it.";
        }
        n++;
    }
    /* XXX read on the loop thread, as the relay does. */
    if (spool_read_body(s->spool, env->id, &orig, &off, &len) < 0) {
        orig = NULL;
        off = len = 0;
    }
    struct envelope *ne = envelope_new();
    spool_new_id(ne->id);
    ne->arrival = time(NULL);
    ne->client_ip = xstrdup("127.0.0.1");
    ne->helo = xstrdup(s->hostname);
    snprintf(msgid, sizeof(msgid), "<%s.notice@%s>", ne->id, s->hostname);
    struct dsn_info info = {
        .kind = kind, .reporting_mta = s->hostname, .sender = env->sender,
        .envid = env->envid, .ret_full = env->ret == RET_FULL, .arrival = env->arrival,
        .now = time(NULL), .retry_until = env->arrival + (time_t)s->cfg->max_queue_lifetime,
        .message_id = msgid, .boundary = ne->id,
    };
    struct notice *no = xcalloc(1, sizeof(*no));
    dsn_compose(&no->sc.content, &info, dr, n, orig ? orig + off : "", orig ? len - off : 0);
    free(orig);
    free(dr);

    /* Where the notice goes: the original sender, a local mailbox or not. */
    struct mailbox_set set = { NULL, 0 };
    int where = s->route(s->route_arg, env->sender, &set);
    if (where < 0) {
        log_warn("%s: no notice: the sender <%s> is not a valid address here", env->id,
                 env->sender);
        buf_free(&no->sc.content);
        envelope_free(ne);
        free(no);
        return;
    }
    if (where == 0)
        for (size_t i = 0; i < set.n; i++)
            envelope_add_rcpt(ne, set.v[i], env->sender, NOTIFY_NEVER, NULL);
    else
        envelope_add_rcpt(ne, env->sender, env->sender, NOTIFY_NEVER, NULL)->remote = true;
    mailbox_set_free(&set);
    size_t lines = 0;
    for (size_t i = 0; i < no->sc.content.len; i++)
        lines += no->sc.content.data[i] == '\n';
    ne->size = no->sc.content.len + lines;
    if (kind == DSN_FAILED)
        ne->flags |= ENV_F_8BITMIME;
    no->sc.spool = s->spool;
    no->sc.env = ne;
    no->sc.item.done = notice_committed;
    no->e = e;
    e->busy_notice++;
    workq_push(s->commitq, &no->sc.item);
}

/* ---- rounds ------------------------------------------------------------ */

static void
record_done(struct workq_item *item)
{
    struct entry *e = (struct entry *)((char *)item - offsetof(struct entry, job));

    e->recording = false;
    if (e->job.complete) {
        log_info("%s: removed", e->env->id);
        entry_free(e);
        return;
    }
    entry_settle(e);
}

/* entry_settle - the round's parts have all answered: notices, records,
 * removal or the next try */
static void
entry_settle(struct entry *e)
{
    struct scheduler *s = e->sched;
    struct envelope *env = e->env;
    time_t now = time(NULL);

    if (entry_busy(e) || s->stopping)
        return;
    if (e->deleted) {
        remove_files(e);
        log_info("%s: removed (deleted by the administrator)", env->id);
        entry_free(e);
        return;
    }
    /* Notices, once per round; a bounce never bounces (sender "<>"). */
    bool *pick = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof(bool));
    bool any_failed = false, any_done = false, any_fresh = false;
    if (e->noticed)
        goto noticed;
    e->noticed = true;
    for (size_t i = 0; i < env->nrcpts; i++) {
        any_fresh |= e->fresh[i] != 0;
        if (e->fresh[i] == FRESH_FAILED && notify_allows(&env->rcpts[i], DSN_FAILED))
            pick[i] = any_failed = true;
    }
    if (any_fresh && env->sender[0]) {
        if (any_failed)
            queue_notice(e, DSN_FAILED, pick);
        memset(pick, 0, env->nrcpts * sizeof(bool));
        for (size_t i = 0; i < env->nrcpts; i++)
            if ((e->fresh[i] == FRESH_DONE || e->fresh[i] == FRESH_RELAYED)
                && notify_allows(&env->rcpts[i], DSN_DELIVERED))
                pick[i] = any_done = true;
        if (any_done)
            queue_notice(e, DSN_DELIVERED, pick);
    }
    if (!env->warned && env->sender[0] && s->cfg->delay_warning_time
        && now - env->arrival >= (time_t)s->cfg->delay_warning_time) {
        bool any = false;
        memset(pick, 0, env->nrcpts * sizeof(bool));
        for (size_t i = 0; i < env->nrcpts; i++)
            if (env->rcpts[i].state == RCPT_PENDING && env->rcpts[i].last_error
                && notify_allows(&env->rcpts[i], DSN_DELAYED))
                pick[i] = any = true;
        if (any) {
            queue_notice(e, DSN_DELAYED, pick);
            e->warn_now = true;
        }
        env->warned = true;
    }
noticed:
    free(pick);
    if (e->busy_notice)
        return;             /* notice_committed() settles again */

    /* Record what this round decided elsewhere than in a Maildir job. */
    bool records = e->warn_now;
    for (size_t i = 0; i < env->nrcpts; i++)
        records |= e->fresh[i] != 0;
    if (records || envelope_pending(env) == 0) {
        memset(e->job.result, 0, env->nrcpts * sizeof(int));
        for (size_t i = 0; i < env->nrcpts; i++)
            if (e->fresh[i])
                e->job.result[i] = e->fresh[i] == FRESH_FAILED ? MAILDIR_FAILED : MAILDIR_DONE;
        /* Already-delivered recipients count as done for "complete". */
        e->job.record_only = true;
        e->job.warned = e->warn_now;
        e->job.complete = false;
        e->job.item.done = record_done;
        memset(e->fresh, 0, env->nrcpts);
        e->warn_now = false;
        e->noticed = false;
        e->recording = true;
        workq_push(s->wq, &e->job.item);
        return;
    }
    /* Something is still pending: the next try. */
    e->noticed = false;
    if (e->again) {
        e->again = false;
        entry_later(e, 0);
        return;
    }
    unsigned n = (unsigned)s->cfg->nretry_intervals;
    unsigned wait = s->cfg->retry_intervals[e->attempts < n ? e->attempts : n - 1];
    e->attempts++;
    time_t expires = env->arrival + (time_t)s->cfg->max_queue_lifetime;
    if (now + (time_t)wait > expires)
        wait = expires > now ? (unsigned)(expires - now) : 0;
    entry_later(e, wait);
}

/* local_done - the Maildir job of a round answered */
static void
local_done(struct workq_item *item)
{
    struct entry *e = (struct entry *)((char *)item - offsetof(struct entry, job));
    struct envelope *env = e->env;
    double delay = difftime(time(NULL), env->arrival);

    e->busy_local = false;
    for (size_t i = 0; i < env->nrcpts; i++) {
        struct env_rcpt *r = &env->rcpts[i];
        int res = e->job.result[i];
        if (r->state != RCPT_PENDING || r->remote || res == 0)
            continue;
        if (res == MAILDIR_DONE) {
            r->state = RCPT_DELIVERED;
            if (r->notify & NOTIFY_SUCCESS)
                e->fresh[i] = FRESH_DONE;       /* recorded already; notice only */
            log_info("%s: to=<%s>, orig_to=<%s>, relay=local, delay=%.0f, dsn=2.0.0, "
                     "status=sent (delivered to maildir)", env->id, r->mailbox, r->orig, delay);
        } else {
            free(r->last_error);
            r->last_error = xasprintf("maildir delivery failed: %s", strerror(res));
            free(r->last_status);
            r->last_status = xstrdup("4.3.0");
            log_warn("%s: to=<%s>, orig_to=<%s>, relay=local, delay=%.0f, dsn=4.3.0, "
                     "status=deferred (%s)", env->id, r->mailbox, r->orig, delay, r->last_error);
        }
    }
    if (e->job.complete) {
        /* Every recipient done and the files gone: only a success
         * notice may be left to send. */
        bool notice = false;
        for (size_t i = 0; i < env->nrcpts; i++)
            notice |= e->fresh[i] == FRESH_DONE;
        if (!notice || !env->sender[0]) {
            log_info("%s: removed", env->id);
            entry_free(e);
            return;
        }
    }
    entry_settle(e);
}

/* The recipients of one relay delivery. */
struct remote_part {
    struct entry *e;
    size_t       *idx;
    size_t        n;
};

static void
remote_done(void *arg, struct relay_result *res, size_t n)
{
    struct remote_part *p = arg;
    struct entry *e = p->e;
    struct envelope *env = e->env;
    double delay = difftime(time(NULL), env->arrival);

    for (size_t k = 0; k < n; k++) {
        struct env_rcpt *r = &env->rcpts[p->idx[k]];
        struct relay_result *x = &res[k];
        const char *what = x->class == 2 ? "sent" : x->class == 5 ? "bounced" : "deferred";
        log_info("%s: to=<%s>, relay=%s, delay=%.0f, dsn=%s, status=%s (%s)", env->id,
                 r->mailbox, x->relay[0] ? x->relay : x->remote_mta[0] ? x->remote_mta : "none",
                 delay, x->status, what,
                 x->reply ? x->reply : "");
        free(r->last_error);
        free(r->last_status);
        free(r->last_mta);
        free(r->last_explanation);
        r->last_error = x->reply ? xstrdup(x->reply) : NULL;
        r->last_status = xstrdup(x->status);
        r->last_mta = xstrdup(x->remote_mta);
        r->last_explanation = x->explanation ? xstrdup(x->explanation) : NULL;
        if (x->class == 2) {
            r->state = RCPT_DELIVERED;
            /* RFC 3461 5.2: a server with DSN got our NOTIFY and reports
             * itself; for one without, we say "relayed". */
            e->fresh[p->idx[k]] = x->peer_dsn ? FRESH_PASSED : FRESH_RELAYED;
        } else if (x->class == 5) {
            r->state = RCPT_FAILED;
            e->fresh[p->idx[k]] = FRESH_FAILED;
        }
    }
    free(p->idx);
    free(p);
    e->busy_remote--;
    entry_settle(e);
}

/* expire - past max_queue_lifetime: every pending recipient fails */
static void
expire(struct entry *e)
{
    struct envelope *env = e->env;

    for (size_t i = 0; i < env->nrcpts; i++) {
        struct env_rcpt *r = &env->rcpts[i];
        if (r->state != RCPT_PENDING)
            continue;
        unsigned life = e->sched->cfg->max_queue_lifetime;
        char span[32];
        if (life >= 86400 && life % 86400 == 0)
            snprintf(span, sizeof(span), "%u day%s", life / 86400, life == 86400 ? "" : "s");
        else if (life >= 3600 && life % 3600 == 0)
            snprintf(span, sizeof(span), "%u hour%s", life / 3600, life == 3600 ? "" : "s");
        else
            snprintf(span, sizeof(span), "%u seconds", life);
        char *why = xasprintf("delivery time expired after %s%s%s", span,
                              r->last_error ? "; last error: " : "",
                              r->last_error ? r->last_error : "");
        free(r->last_error);
        r->last_error = why;
        free(r->last_status);
        r->last_status = xstrdup("4.4.7");
        r->state = RCPT_FAILED;
        e->fresh[i] = FRESH_FAILED;
        log_info("%s: to=<%s>, relay=none, dsn=4.4.7, status=expired, returned to sender (%s)",
                 env->id, r->mailbox, why);
    }
}

/* entry_run - a round: deliver what is pending */
static void
entry_run(struct entry *e)
{
    struct scheduler *s = e->sched;
    struct envelope *env = e->env;

    if (s->stopping)
        return;
    if (entry_busy(e)) {
        e->again = true;
        return;
    }
    if (e->timer)
        evtimer_del(e->timer);
    e->next_try = 0;
    if (time(NULL) - env->arrival >= (time_t)s->cfg->max_queue_lifetime) {
        expire(e);
        entry_settle(e);
        return;
    }
    bool local = false;
    for (size_t i = 0; i < env->nrcpts; i++)
        local |= env->rcpts[i].state == RCPT_PENDING && !env->rcpts[i].remote;
    if (local) {
        memset(e->job.result, 0, env->nrcpts * sizeof(int));
        e->job.record_only = false;
        e->job.warned = false;
        e->job.complete = false;
        e->job.item.done = local_done;
        e->busy_local = true;
        workq_push(s->wq, &e->job.item);
    }
    /* Remote recipients, one delivery per domain (or all to the smarthost). */
    bool *taken = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof(bool));
    bool smarthost = s->cfg->relay_host[0] != '\0';
    for (size_t i = 0; i < env->nrcpts; i++) {
        struct env_rcpt *r = &env->rcpts[i];
        if (taken[i] || r->state != RCPT_PENDING || !r->remote)
            continue;
        const char *dom = strrchr(r->mailbox, '@');
        struct remote_part *p = xcalloc(1, sizeof(*p));
        p->e = e;
        p->idx = xcalloc(env->nrcpts, sizeof(size_t));
        for (size_t k = i; k < env->nrcpts; k++) {
            struct env_rcpt *q = &env->rcpts[k];
            const char *qd = strrchr(q->mailbox, '@');
            if (taken[k] || q->state != RCPT_PENDING || !q->remote)
                continue;
            if (!smarthost && (!dom || !qd || strcasecmp(dom, qd) != 0))
                continue;
            taken[k] = true;
            p->idx[p->n++] = k;
        }
        e->busy_remote++;
        relay_deliver(s->relay, env, p->idx, p->n, remote_done, p);
    }
    free(taken);
    if (!entry_busy(e))
        entry_settle(e);
}

/* ---- the scheduler ----------------------------------------------------- */

struct scheduler *
scheduler_new(struct event_base *base, struct spool *spool, const struct config *cfg,
              struct relay *relay, struct workq *commitq, sched_route_fn route, void *route_arg)
{
    struct scheduler *s = xcalloc(1, sizeof(*s));

    s->base = base;
    s->spool = spool;
    s->cfg = cfg;
    s->relay = relay;
    s->commitq = commitq;
    s->route = route;
    s->route_arg = route_arg;
    s->hostname = xstrdup(cfg->hostname);
    s->mctx.spool = spool;
    s->mctx.hostname = s->hostname;
    s->wq = workq_new(base, "delivery", 1, DELIVERY_BATCH, maildir_run, &s->mctx);
    return s;
}

void
scheduler_set_config(struct scheduler *s, const struct config *cfg)
{
    s->cfg = cfg;
    /* XXX the worker reads mctx.hostname without a lock; it is only
     * swapped when no delivery is under way. */
    if (workq_busy(s->wq) == 0) {
        free(s->hostname);
        s->hostname = xstrdup(cfg->hostname);
        s->mctx.hostname = s->hostname;
    }
}

void
scheduler_add(struct scheduler *s, struct envelope *env)
{
    struct entry *e = xcalloc(1, sizeof(*e));

    e->sched = s;
    e->env = env;
    e->job.env = env;
    e->job.result = xcalloc(env->nrcpts ? env->nrcpts : 1, sizeof(int));
    e->fresh = xcalloc(env->nrcpts ? env->nrcpts : 1, 1);
    e->prev = s->tail;
    if (s->tail)
        s->tail->next = e;
    else
        s->head = e;
    s->tail = e;
    s->count++;
    entry_run(e);
}

size_t
scheduler_count(const struct scheduler *s)
{
    return s->count;
}

static struct entry *
find(struct scheduler *s, const char *id)
{
    for (struct entry *e = s->head; e; e = e->next)
        if (strcmp(e->env->id, id) == 0)
            return e;
    return NULL;
}

void
scheduler_foreach(struct scheduler *s, void (*fn)(const struct sched_view *v, void *arg),
                  void *arg)
{
    for (struct entry *e = s->head; e; e = e->next) {
        struct sched_view v = { e->env, entry_busy(e) ? 0 : e->next_try, e->attempts,
                                entry_busy(e) };
        fn(&v, arg);
    }
}

int
scheduler_retry(struct scheduler *s, const char *id)
{
    struct entry *e = find(s, id);
    if (!e)
        return -1;
    entry_run(e);
    return 0;
}

size_t
scheduler_flush(struct scheduler *s)
{
    size_t n = 0;
    struct entry *e = s->head, *next;

    for (; e; e = next) {
        next = e->next;         /* a round may end (and free) e at once */
        n++;
        entry_run(e);
    }
    return n;
}

int
scheduler_delete(struct scheduler *s, const char *id)
{
    struct entry *e = find(s, id);
    if (!e)
        return -1;
    e->deleted = true;
    entry_settle(e);
    return 0;
}

void
scheduler_free(struct scheduler *s)
{
    if (!s)
        return;
    /* Let the Maildir jobs under way finish (their done() runs here and
     * may start records, which finish too); the relay is freed by the
     * daemon before this, so no remote answer is awaited. */
    s->stopping = true;
    workq_free(s->wq);
    while (s->head)
        entry_free(s->head);
    free(s->hostname);
    free(s);
}
