/*
 * ratelimit - token buckets per key; see ratelimit.h.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/ratelimit.h"
#include "util/xmalloc.h"

#define BUCKETS 4096

struct rentry {
    struct rentry *next;
    double         tokens;      /* left at time last */
    double         last;
    double         full_at;     /* when the bucket is full again */
    char           key[];
};

struct ratelimit {
    struct rentry *b[BUCKETS];
    size_t         n;
};

struct ratelimit *
ratelimit_new(void)
{
    return xcalloc(1, sizeof(struct ratelimit));
}

void
ratelimit_free(struct ratelimit *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < BUCKETS; i++)
        while (r->b[i]) {
            struct rentry *e = r->b[i];
            r->b[i] = e->next;
            free(e);
        }
    free(r);
}

double
ratelimit_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
hash(const char *key)
{
    unsigned h = 2166136261u;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % BUCKETS;
}

/* sweep - forget every key whose bucket is full again */
static void
sweep(struct ratelimit *r, double now)
{
    for (size_t i = 0; i < BUCKETS; i++) {
        struct rentry **pp = &r->b[i];
        while (*pp) {
            struct rentry *e = *pp;
            if (e->full_at <= now) {
                *pp = e->next;
                free(e);
                r->n--;
            } else {
                pp = &e->next;
            }
        }
    }
}

bool
ratelimit_take(struct ratelimit *r, const char *key, unsigned limit, unsigned n, double now)
{
    if (limit == 0)
        return true;
    double rate = limit / 60.0;         /* tokens a second */
    struct rentry **pp = &r->b[hash(key)], *e = NULL;

    /* Find the key, dropping the full buckets met on the way. */
    while (*pp) {
        struct rentry *x = *pp;
        if (strcmp(x->key, key) == 0) {
            e = x;
            break;
        }
        if (x->full_at <= now) {
            *pp = x->next;
            free(x);
            r->n--;
            continue;
        }
        pp = &x->next;
    }
    if (!e) {
        if (r->n >= RATELIMIT_MAX) {
            sweep(r, now);
            if (r->n >= RATELIMIT_MAX)
                return true;            /* see ratelimit.h */
        }
        size_t len = strlen(key) + 1;
        e = xmalloc(sizeof(*e) + len);
        memcpy(e->key, key, len);
        e->tokens = limit;
        e->last = now;
        unsigned h = hash(key);
        e->next = r->b[h];
        r->b[h] = e;
        r->n++;
    }
    double t = e->tokens + (now - e->last) * rate;
    if (t > limit)
        t = limit;
    e->last = now;
    if (t < n) {
        e->tokens = t;
        e->full_at = now + (limit - t) / rate;
        return false;
    }
    e->tokens = t - n;
    e->full_at = now + (limit - e->tokens) / rate;
    return true;
}
