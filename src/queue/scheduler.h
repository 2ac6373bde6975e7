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

#include "queue/envelope.h"
#include "queue/spool.h"

struct event_base;
struct scheduler;

struct scheduler *scheduler_new(struct event_base *base, struct spool *spool,
                                const char *hostname);
/* scheduler_add - take ownership of a committed message and deliver it */
void scheduler_add(struct scheduler *s, struct envelope *env);
/* scheduler_set_hostname - after a reload */
void scheduler_set_hostname(struct scheduler *s, const char *hostname);
/* scheduler_count - messages in the queue */
size_t scheduler_count(const struct scheduler *s);
/*
 * scheduler_free - wait for deliveries under way, then release every
 * envelope (the messages stay queued on disk); harmless on NULL.
 */
void scheduler_free(struct scheduler *s);

#endif
