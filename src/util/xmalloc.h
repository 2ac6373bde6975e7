/*
 * xmalloc - allocation that never returns NULL.
 *
 * Running out of memory is not something a mail server can answer
 * sensibly in the middle of a transaction, so allocation failure aborts
 * (as OpenSMTPD does). Limits on what clients may make us allocate are
 * enforced by the callers, with a protocol reply.
 */
#ifndef POSTINO_UTIL_XMALLOC_H
#define POSTINO_UTIL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray - resize to nmemb * size, aborting on overflow */
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xasprintf - formatted string in a new allocation */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
