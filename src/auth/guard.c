/*
 * guard - failed logins per client IP; see guard.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/guard.h"
#include "util/xmalloc.h"

#define GUARD_BUCKETS 4096

struct gentry {
    struct gentry *next;
    time_t         first;       /* first failure of the current window */
    time_t         blocked_until;
    unsigned       failures;
    char           ip[64];
};

struct guard {
    struct gentry *b[GUARD_BUCKETS];
    size_t         n;
    unsigned       max_failures;
    unsigned       window;
};

struct guard *
guard_new(void)
{
    struct guard *g = xcalloc(1, sizeof(*g));
    g->max_failures = 5;
    g->window = 900;
    return g;
}

void
guard_free(struct guard *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < GUARD_BUCKETS; i++)
        while (g->b[i]) {
            struct gentry *e = g->b[i];
            g->b[i] = e->next;
            free(e);
        }
    free(g);
}

void
guard_set_limits(struct guard *g, unsigned max_failures, unsigned window)
{
    g->max_failures = max_failures;
    g->window = window;
}

static unsigned
bucket(const char *ip)
{
    unsigned h = 2166136261u;
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 16777619u;
    return h % GUARD_BUCKETS;
}

/* expired - nothing left to remember about e */
static bool
expired(const struct guard *g, const struct gentry *e, time_t now)
{
    return e->blocked_until <= now && now - e->first >= (time_t)g->window;
}

/* find - the entry of ip, pruning expired entries of its bucket */
static struct gentry *
find(struct guard *g, const char *ip, time_t now)
{
    struct gentry **pp = &g->b[bucket(ip)], *found = NULL;

    while (*pp) {
        struct gentry *e = *pp;
        if (expired(g, e, now)) {
            *pp = e->next;
            free(e);
            g->n--;
            continue;
        }
        if (strcmp(e->ip, ip) == 0)
            found = e;
        pp = &e->next;
    }
    return found;
}

unsigned
guard_blocked(struct guard *g, const char *ip, time_t now)
{
    struct gentry *e = find(g, ip, now);
    return e && e->blocked_until > now ? (unsigned)(e->blocked_until - now) : 0;
}

bool
guard_fail(struct guard *g, const char *ip, time_t now)
{
    struct gentry *e = find(g, ip, now);

    if (!e) {
        if (g->n >= GUARD_MAX)
            return false;       /* XXX full of attackers: stop counting new ones */
        e = xcalloc(1, sizeof(*e));
        snprintf(e->ip, sizeof(e->ip), "%s", ip);
        e->first = now;
        unsigned h = bucket(ip);
        e->next = g->b[h];
        g->b[h] = e;
        g->n++;
    }
    if (now - e->first >= (time_t)g->window) {
        e->first = now;
        e->failures = 0;
    }
    e->failures++;
    if (g->max_failures && e->failures >= g->max_failures && e->blocked_until <= now) {
        e->blocked_until = now + g->window;
        return true;
    }
    return false;
}

void
guard_success(struct guard *g, const char *ip, time_t now)
{
    struct gentry *e = find(g, ip, now);
    if (e && e->blocked_until <= now)
        e->failures = 0;
}
