/*
 * workq - worker threads for blocking work, with completion on the loop.
 *
 * Nothing on the event-loop thread may block, so fsync, file writes and
 * password hashing run here. Items are pushed from the loop thread; a
 * worker takes up to max_batch of them at once and hands the whole batch
 * to run(), which is how group commit shares one sync among many
 * messages. When run() returns, each item's done() is called back on the
 * loop thread, in push order within the batch.
 */
#ifndef POSTINO_UTIL_WORKQ_H
#define POSTINO_UTIL_WORKQ_H

#include <stddef.h>

struct event_base;

struct workq_item {
    struct workq_item *next;                    /* private */
    void (*done)(struct workq_item *item);      /* on the loop thread */
};

typedef void (*workq_run_fn)(struct workq_item **items, size_t n, void *arg);

struct workq;

/* workq_new - start nthreads workers; aborts when threads cannot start */
struct workq *workq_new(struct event_base *base, const char *name, int nthreads,
                        size_t max_batch, workq_run_fn run, void *arg);
/*
 * workq_set_after - after(arg) runs on the worker after each batch, once
 * its items are on their way back to the loop: work that must follow a
 * batch but need not delay its done() callbacks. Set it before the first
 * push.
 */
void workq_set_after(struct workq *q, void (*after)(void *arg));
/* workq_push - queue an item (loop thread only) */
void workq_push(struct workq *q, struct workq_item *item);
/* workq_busy - items pushed whose done() has not run yet */
size_t workq_busy(const struct workq *q);
/*
 * workq_free - finish the queued work, join the workers and run the
 * remaining done() callbacks; workq_free(NULL) is harmless.
 */
void workq_free(struct workq *q);

#endif
