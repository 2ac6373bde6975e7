/*
 * scheduler - decides when each queued message is delivered.
 *
 * Owns the envelopes of every message in the queue. A new message is
 * handed to local delivery at once; a recipient that fails temporarily is
 * retried with a growing delay (1 min, doubling, at most 1 h), across
 * restarts too, since the queue is scanned again at start. Runs on the
 * loop thread; the deliveries themselves run on workers.
 */
#ifndef POSTINO_QUEUE_SCHEDULER_H
#define POSTINO_QUEUE_SCHEDULER_H

#include <stddef.h>

#include <stdbool.h>
#include <time.h>

#include "deliver/resolve.h"
#include "queue/envelope.h"
#include "queue/spool.h"

struct event_base;
struct config;
struct relay;
struct workq;
struct scheduler;
struct mailbox_set;

/*
 * sched_route_fn - where a notice to address goes: 0 with the local
 * mailboxes in *set, 1 when the address is of another domain, -1 when it
 * is of a local domain but reaches no mailbox.
 */
typedef int (*sched_route_fn)(void *arg, const char *address, struct mailbox_set *set);

/*
 * scheduler_new - local delivery on its own worker; remote delivery
 * through relay; notices committed through commitq (the commit workq,
 * maildir_commit_run) and addressed with route.
 */
struct scheduler *scheduler_new(struct event_base *base, struct spool *spool,
                                const struct config *cfg, struct relay *relay,
                                struct workq *commitq, sched_route_fn route, void *route_arg);
/* scheduler_add - take ownership of a committed message and deliver it */
void scheduler_add(struct scheduler *s, struct envelope *env);
/* scheduler_set_config - after a reload */
void scheduler_set_config(struct scheduler *s, const struct config *cfg);
/* scheduler_count - messages in the queue */
size_t scheduler_count(const struct scheduler *s);

/* What the queue control reports of one message. */
struct sched_view {
    const struct envelope *env;     /* sender, recipients with state and last_error */
    time_t  next_try;               /* 0 when a delivery is under way or nothing waits */
    unsigned attempts;
    bool    busy;                   /* a delivery is under way */
};

/* scheduler_foreach - call fn for every queued message, oldest first */
void scheduler_foreach(struct scheduler *s,
                       void (*fn)(const struct sched_view *v, void *arg), void *arg);
/* scheduler_retry - try id (a queue id) now; -1 when there is no such message */
int scheduler_retry(struct scheduler *s, const char *id);
/* scheduler_flush - try every message now; returns how many */
size_t scheduler_flush(struct scheduler *s);
/*
 * scheduler_delete - remove id from the queue without delivering or
 * bouncing it (logged); a delivery under way finishes first. 0, or -1
 * when there is no such message.
 */
int scheduler_delete(struct scheduler *s, const char *id);
/*
 * scheduler_free - wait for deliveries under way, then release every
 * envelope (the messages stay queued on disk); harmless on NULL.
 */
void scheduler_free(struct scheduler *s);

#endif
