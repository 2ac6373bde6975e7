/*
 * ratelimit - "at most N events a minute" per key (a client IP, a user),
 * as token buckets: each key may use up to N at once, and earns them back
 * at N per minute. Used for connections, messages and recipients.
 *
 * Memory is bounded: a key whose bucket is full again is forgotten, and
 * at most RATELIMIT_MAX keys are kept; when that many are busy, new keys
 * are let through uncounted (a flood of distinct addresses is the job of
 * max_connections, not of this table).
 */
#ifndef POSTINO_POLICY_RATELIMIT_H
#define POSTINO_POLICY_RATELIMIT_H

#include <stdbool.h>

#define RATELIMIT_MAX 65536

struct ratelimit;

struct ratelimit *ratelimit_new(void);
void ratelimit_free(struct ratelimit *r);

/*
 * ratelimit_take - count n events of key at time now (seconds, a
 * monotonic clock) against limit events a minute. true: allowed and
 * counted; false: over the limit, nothing counted. limit 0 means no limit.
 */
bool ratelimit_take(struct ratelimit *r, const char *key, unsigned limit, unsigned n,
                    double now);

/* ratelimit_now - the monotonic clock ratelimit_take expects */
double ratelimit_now(void);

#endif
