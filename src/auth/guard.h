/*
 * guard - counts failed logins per client IP and blocks an IP for a
 * while after too many, for SMTP AUTH now and POP3/IMAP later.
 *
 * Memory is bounded: entries expire after the block time, and the table
 * holds at most GUARD_MAX entries (the oldest are dropped first when full).
 */
#ifndef POSTINO_AUTH_GUARD_H
#define POSTINO_AUTH_GUARD_H

#include <stdbool.h>
#include <time.h>

#define GUARD_MAX 65536

struct guard;

struct guard *guard_new(void);
void guard_free(struct guard *g);
/* guard_set_limits - failures allowed within window, then blocked for window */
void guard_set_limits(struct guard *g, unsigned max_failures, unsigned window);
/* guard_blocked - seconds the IP is still blocked for, 0 when it is not */
unsigned guard_blocked(struct guard *g, const char *ip, time_t now);
/* guard_fail - count a failure; true when this one starts a block */
bool guard_fail(struct guard *g, const char *ip, time_t now);
/*
 * guard_success - a successful login clears the IP's count (not a block
 * in force). now is the same clock as for guard_fail and guard_blocked.
 */
void guard_success(struct guard *g, const char *ip, time_t now);

#endif
