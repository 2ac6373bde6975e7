/*
 * scheduler - when each queued message is delivered; see scheduler.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "deliver/maildir.h"
#include "queue/scheduler.h"
#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"

#define RETRY_FIRST 60
#define RETRY_MAX   3600
#define DELIVERY_BATCH 64

struct entry {
    struct scheduler  *sched;
    struct envelope   *env;
    struct entry      *prev, *next;
    struct event      *timer;       /* retry */
    unsigned           attempts;
    bool               busy;        /* a delivery job is under way */
    struct maildir_job job;
};

struct scheduler {
    struct event_base *base;
    struct spool      *spool;
    struct maildir_ctx mctx;
    char              *hostname;
    struct workq      *wq;
    struct entry      *head;
    size_t             count;
};

static void entry_dispatch(struct entry *e);

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
    s->count--;
    if (e->timer)
        event_free(e->timer);
    free(e->job.result);
    envelope_free(e->env);
    free(e);
}

static void
retry_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    entry_dispatch(arg);
}

/* delivery_done - apply a job's results (loop thread) */
static void
delivery_done(struct workq_item *item)
{
    struct entry *e = (struct entry *)((char *)item - offsetof(struct entry, job));
    struct envelope *env = e->env;
    double delay = difftime(time(NULL), env->arrival);
    bool deferred = false;

    e->busy = false;
    for (size_t i = 0; i < env->nrcpts; i++) {
        struct env_rcpt *r = &env->rcpts[i];
        int res = e->job.result[i];
        if (r->state != RCPT_PENDING || res == 0)
            continue;
        if (res == 1) {
            r->state = RCPT_DELIVERED;
            log_info("%s: to=<%s>, orig_to=<%s>, relay=local, delay=%.0f, dsn=2.0.0, "
                     "status=sent (delivered to maildir)", env->id, r->mailbox, r->orig, delay);
        } else {
            free(r->last_error);
            r->last_error = xstrdup(strerror(res));
            deferred = true;
            log_warn("%s: to=<%s>, orig_to=<%s>, relay=local, delay=%.0f, dsn=4.3.0, "
                     "status=deferred (maildir delivery failed: %s)",
                     env->id, r->mailbox, r->orig, delay, r->last_error);
        }
    }
    if (e->job.complete) {
        log_info("%s: removed", env->id);
        entry_free(e);
        return;
    }
    /* Something is left: retry later (or at once if only the clean-up
     * of the queue files is pending). */
    size_t local = 0;
    for (size_t i = 0; i < env->nrcpts; i++)
        local += env->rcpts[i].state == RCPT_PENDING && !env->rcpts[i].remote;
    if (!deferred && local == 0 && envelope_pending(env))
        return;     /* only recipients of other domains left: they wait */
    unsigned wait = 0;
    if (deferred || local) {
        wait = RETRY_FIRST;
        for (unsigned i = 0; i < e->attempts && wait < RETRY_MAX; i++)
            wait *= 2;
        if (wait > RETRY_MAX)
            wait = RETRY_MAX;
        e->attempts++;
    }
    if (!e->timer)
        e->timer = evtimer_new(e->sched->base, retry_cb, e);
    struct timeval tv = { wait, 0 };
    evtimer_add(e->timer, &tv);
}

/* entry_dispatch - hand the message to a delivery worker */
static void
entry_dispatch(struct entry *e)
{
    if (e->busy)
        return;
    e->busy = true;
    memset(e->job.result, 0, e->env->nrcpts * sizeof(int));
    e->job.complete = false;
    e->job.item.done = delivery_done;
    workq_push(e->sched->wq, &e->job.item);
}

struct scheduler *
scheduler_new(struct event_base *base, struct spool *spool, const char *hostname)
{
    struct scheduler *s = xcalloc(1, sizeof(*s));

    s->base = base;
    s->spool = spool;
    s->hostname = xstrdup(hostname);
    s->mctx.spool = spool;
    s->mctx.hostname = s->hostname;
    s->wq = workq_new(base, "delivery", 1, DELIVERY_BATCH, maildir_run, &s->mctx);
    return s;
}

void
scheduler_set_hostname(struct scheduler *s, const char *hostname)
{
    /* XXX the worker reads mctx.hostname without a lock; it is only
     * swapped when no delivery is under way. */
    if (workq_busy(s->wq) == 0) {
        free(s->hostname);
        s->hostname = xstrdup(hostname);
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
    e->job.result = xcalloc(env->nrcpts, sizeof(int));
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    s->head = e;
    s->count++;
    for (size_t i = 0; i < env->nrcpts; i++)
        if (env->rcpts[i].remote && env->rcpts[i].state == RCPT_PENDING)
            log_info("%s: to=<%s>, relay=none, delay=0, dsn=4.4.0, status=deferred "
                     "(delivery to other domains is not available yet; the message waits "
                     "in the queue)", env->id, env->rcpts[i].mailbox);
    entry_dispatch(e);
}

size_t
scheduler_count(const struct scheduler *s)
{
    return s->count;
}

void
scheduler_free(struct scheduler *s)
{
    if (!s)
        return;
    /* Let the deliveries under way finish (their done() runs here and
     * may re-arm timers, which are freed below with their entries). */
    workq_free(s->wq);
    while (s->head)
        entry_free(s->head);
    free(s->hostname);
    free(s);
}

