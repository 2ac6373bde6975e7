/*
 * workq - worker threads with completion on the loop; see workq.h.
 *
 * Workers report back through an eventfd watched by the loop: one wake-up
 * delivers every finished item.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <event2/event.h>

#include "util/log.h"
#include "util/workq.h"
#include "util/xmalloc.h"

struct workq {
    pthread_mutex_t    lock;
    pthread_cond_t     cond;
    struct workq_item *head, *tail;     /* waiting for a worker */
    struct workq_item *fin_head, *fin_tail; /* finished, waiting for the loop */
    bool               stopping;
    size_t             busy;            /* loop thread only */
    size_t             max_batch;
    workq_run_fn       run;
    void             (*after)(void *arg);
    void              *arg;
    int                efd;
    struct event      *ev;
    pthread_t         *threads;
    int                nthreads;
};

/* workq_thread - take batches and run them until told to stop */
static void *
workq_thread(void *p)
{
    struct workq *q = p;
    struct workq_item **batch = xcalloc(q->max_batch, sizeof(*batch));

    pthread_mutex_lock(&q->lock);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->cond, &q->lock);
        if (!q->head)
            break;                      /* stopping, and nothing left */
        size_t n = 0;
        while (q->head && n < q->max_batch) {
            batch[n++] = q->head;
            q->head = q->head->next;
        }
        if (!q->head)
            q->tail = NULL;
        pthread_mutex_unlock(&q->lock);

        q->run(batch, n, q->arg);

        pthread_mutex_lock(&q->lock);
        for (size_t i = 0; i < n; i++) {
            batch[i]->next = NULL;
            if (q->fin_tail)
                q->fin_tail->next = batch[i];
            else
                q->fin_head = batch[i];
            q->fin_tail = batch[i];
        }
        uint64_t one = 1;
        ssize_t w = write(q->efd, &one, sizeof(one));
        (void)w;
        if (q->after) {
            pthread_mutex_unlock(&q->lock);
            q->after(q->arg);
            pthread_mutex_lock(&q->lock);
        }
    }
    pthread_mutex_unlock(&q->lock);
    free(batch);
    return NULL;
}

/* workq_complete - run done() for every finished item (loop thread) */
static void
workq_complete(struct workq *q)
{
    struct workq_item *it;

    pthread_mutex_lock(&q->lock);
    it = q->fin_head;
    q->fin_head = q->fin_tail = NULL;
    pthread_mutex_unlock(&q->lock);
    while (it) {
        struct workq_item *next = it->next;
        q->busy--;
        it->done(it);
        it = next;
    }
}

static void
workq_event(evutil_socket_t fd, short what, void *arg)
{
    uint64_t v;
    (void)what;
    ssize_t r = read(fd, &v, sizeof(v));
    (void)r;
    workq_complete(arg);
}

struct workq *
workq_new(struct event_base *base, const char *name, int nthreads,
          size_t max_batch, workq_run_fn run, void *arg)
{
    struct workq *q = xcalloc(1, sizeof(*q));

    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->cond, NULL);
    q->max_batch = max_batch ? max_batch : 1;
    q->run = run;
    q->arg = arg;
    q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->efd < 0)
        log_fatal("%s: eventfd: %s", name, strerror(errno));
    q->ev = event_new(base, q->efd, EV_READ | EV_PERSIST, workq_event, q);
    event_add(q->ev, NULL);
    q->nthreads = nthreads;
    q->threads = xcalloc((size_t)nthreads, sizeof(pthread_t));
    for (int i = 0; i < nthreads; i++) {
        int rc = pthread_create(&q->threads[i], NULL, workq_thread, q);
        if (rc)
            log_fatal("%s: cannot start a worker thread: %s", name, strerror(rc));
    }
    return q;
}

void
workq_set_after(struct workq *q, void (*after)(void *arg))
{
    q->after = after;
}

void
workq_push(struct workq *q, struct workq_item *item)
{
    item->next = NULL;
    q->busy++;
    pthread_mutex_lock(&q->lock);
    if (q->tail)
        q->tail->next = item;
    else
        q->head = item;
    q->tail = item;
    pthread_cond_signal(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

size_t
workq_busy(const struct workq *q)
{
    return q->busy;
}

void
workq_free(struct workq *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    q->stopping = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    for (int i = 0; i < q->nthreads; i++)
        pthread_join(q->threads[i], NULL);
    workq_complete(q);
    event_free(q->ev);
    close(q->efd);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    free(q->threads);
    free(q);
}
