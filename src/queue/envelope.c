/*
 * envelope - the queue file's head; see envelope.h.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/envelope.h"
#include "util/xmalloc.h"

#define ENVELOPE_MAGIC "POSTINO-QUEUE 1\n"

struct envelope *
envelope_new(void)
{
    struct envelope *env = xcalloc(1, sizeof(*env));
    env->sender = xstrdup("");
    return env;
}

void
envelope_free(struct envelope *env)
{
    if (!env)
        return;
    for (size_t i = 0; i < env->nrcpts; i++) {
        free(env->rcpts[i].mailbox);
        free(env->rcpts[i].orig);
        free(env->rcpts[i].orcpt);
        free(env->rcpts[i].last_error);
        free(env->rcpts[i].last_status);
        free(env->rcpts[i].last_mta);
        free(env->rcpts[i].last_explanation);
    }
    free(env->rcpts);
    free(env->sender);
    free(env->client_ip);
    free(env->helo);
    free(env->envid);
    free(env);
}

struct env_rcpt *
envelope_add_rcpt(struct envelope *env, const char *mailbox, const char *orig,
                  unsigned notify, const char *orcpt)
{
    env->rcpts = xreallocarray(env->rcpts, env->nrcpts + 1, sizeof(*env->rcpts));
    struct env_rcpt *r = &env->rcpts[env->nrcpts++];
    memset(r, 0, sizeof(*r));
    r->mailbox = xstrdup(mailbox);
    r->orig = xstrdup(orig);
    r->notify = notify;
    r->orcpt = orcpt && *orcpt ? xstrdup(orcpt) : NULL;
    return r;
}

size_t
envelope_pending(const struct envelope *env)
{
    size_t n = 0;
    for (size_t i = 0; i < env->nrcpts; i++)
        n += env->rcpts[i].state == RCPT_PENDING;
    return n;
}

/* put_enc - append s %-encoded */
static void
put_enc(struct buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '%') {
            char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
            buf_append(out, e, 3);
        } else {
            buf_putc(out, (char)*p);
        }
    }
}

bool
envelope_head_partial(const char *text, size_t n)
{
    size_t ml = strlen(ENVELOPE_MAGIC);

    if (n <= ml)
        return memcmp(text, ENVELOPE_MAGIC, n) == 0;
    return memcmp(text, ENVELOPE_MAGIC, ml) == 0 && !memmem(text + ml - 1, n - ml + 1, "\n\n", 2);
}

void
envelope_format(const struct envelope *env, struct buf *out)
{
    buf_puts(out, ENVELOPE_MAGIC);
    buf_printf(out, "id %s\narrival %lld\nsender", env->id, (long long)env->arrival);
    if (env->sender[0]) {
        buf_putc(out, ' ');
        put_enc(out, env->sender);
    }
    buf_puts(out, "\nclient ");
    put_enc(out, env->client_ip ? env->client_ip : "-");
    buf_putc(out, ' ');
    put_enc(out, env->helo && *env->helo ? env->helo : "-");
    buf_printf(out, "\nsize %zu\n", env->size);
    if (env->have_length)
        buf_printf(out, "length %zu\n", env->length);
    if (env->flags) {
        buf_puts(out, "flags");
        if (env->flags & ENV_F_8BITMIME)
            buf_puts(out, " 8bitmime");
        if (env->flags & ENV_F_SMTPUTF8)
            buf_puts(out, " smtputf8");
        buf_putc(out, '\n');
    }
    if (env->ret)
        buf_printf(out, "ret %s\n", env->ret == 1 ? "full" : "hdrs");
    if (env->envid) {
        buf_puts(out, "envid ");
        put_enc(out, env->envid);
        buf_putc(out, '\n');
    }
    for (size_t i = 0; i < env->nrcpts; i++) {
        const struct env_rcpt *r = &env->rcpts[i];
        buf_puts(out, "rcpt ");
        put_enc(out, r->mailbox);
        buf_putc(out, ' ');
        put_enc(out, r->orig);
        buf_printf(out, " %u ", r->notify);
        put_enc(out, r->orcpt ? r->orcpt : "-");
        if (r->remote)
            buf_puts(out, " remote");
        buf_putc(out, '\n');
    }
    buf_putc(out, '\n');
}

/* dec - %-decode s[0..n) into a new string; NULL on a bad escape or NUL */
static char *
dec(const char *s, size_t n)
{
    char *o = xmalloc(n + 1), *q = o;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1])
                || !isxdigit((unsigned char)s[i + 2]))
                goto bad;
            char hx[3] = { s[i + 1], s[i + 2], 0 };
            int v = (int)strtol(hx, NULL, 16);
            if (v == 0)
                goto bad;
            *q++ = (char)v;
            i += 2;
        } else if (s[i] == '\0') {
            goto bad;
        } else {
            *q++ = s[i];
        }
    }
    *q = '\0';
    return o;
bad:
    free(o);
    return NULL;
}

/* split - up to max space-separated fields of line[0..n) */
static size_t
split(const char *line, size_t n, const char **f, size_t *fl, size_t max)
{
    size_t k = 0, i = 0;
    while (i < n && k < max) {
        while (i < n && line[i] == ' ')
            i++;
        if (i >= n)
            break;
        size_t s = i;
        while (i < n && line[i] != ' ')
            i++;
        f[k] = line + s;
        fl[k] = i - s;
        k++;
    }
    while (i < n && line[i] == ' ')
        i++;
    return i < n ? max + 1 : k;        /* more fields than max: reject */
}

static bool
parse_ull(const char *s, size_t n, unsigned long long *v)
{
    if (n == 0 || n > 19)
        return false;
    unsigned long long r = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        r = r * 10 + (unsigned)(s[i] - '0');
    }
    *v = r;
    return true;
}

struct envelope *
envelope_parse(const char *text, size_t n, size_t *body_off, char *err, size_t errlen)
{
    struct envelope *env = envelope_new();
    const char *p = text, *end = text + n;
    bool have_id = false, have_arrival = false, have_size = false;
    size_t ml = strlen(ENVELOPE_MAGIC);

    if (n < ml || memcmp(text, ENVELOPE_MAGIC, ml) != 0) {
        snprintf(err, errlen, "not a postino queue file (version 1)");
        goto bad;
    }
    p += ml;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            snprintf(err, errlen, "envelope is incomplete");
            goto bad;
        }
        size_t len = (size_t)(nl - p);
        if (len == 0) {
            p = nl + 1;
            break;
        }
        const char *f[7];
        size_t fl[7];
        size_t k = split(p, len, f, fl, 6);
        unsigned long long v;
        if (k == 0 || k > 6)
            goto syntax;
#define IS(word) (fl[0] == sizeof(word) - 1 && memcmp(f[0], word, fl[0]) == 0)
        if (k == 6 && !IS("rcpt"))
            goto syntax;            /* only a recipient has a sixth field */
        if (IS("id") && k == 2 && fl[1] == QUEUE_ID_LEN) {
            for (size_t i = 0; i < fl[1]; i++)
                if (!isxdigit((unsigned char)f[1][i]))
                    goto syntax;
            memcpy(env->id, f[1], QUEUE_ID_LEN);
            env->id[QUEUE_ID_LEN] = '\0';
            have_id = true;
        } else if (IS("arrival") && k == 2 && parse_ull(f[1], fl[1], &v) && v <= LLONG_MAX) {
            /* not beyond LLONG_MAX: time_t would turn negative, a time that
             * envelope_format never writes and whose head would not parse */
            env->arrival = (time_t)v;
            have_arrival = true;
        } else if (IS("sender") && k <= 2) {
            char *s = k == 2 ? dec(f[1], fl[1]) : xstrdup("");
            if (!s)
                goto syntax;
            free(env->sender);
            env->sender = s;
        } else if (IS("client") && k == 3) {
            free(env->client_ip);
            free(env->helo);
            env->client_ip = dec(f[1], fl[1]);
            env->helo = dec(f[2], fl[2]);
            if (!env->client_ip || !env->helo)
                goto syntax;
        } else if (IS("size") && k == 2 && parse_ull(f[1], fl[1], &v)) {
            env->size = (size_t)v;
            have_size = true;
        } else if (IS("length") && k == 2 && parse_ull(f[1], fl[1], &v)) {
            env->length = (size_t)v;
            env->have_length = true;
        } else if (IS("flags")) {
            for (size_t i = 1; i < k; i++) {
                if (fl[i] == 8 && memcmp(f[i], "8bitmime", 8) == 0)
                    env->flags |= ENV_F_8BITMIME;
                else if (fl[i] == 8 && memcmp(f[i], "smtputf8", 8) == 0)
                    env->flags |= ENV_F_SMTPUTF8;
                else
                    goto syntax;
            }
        } else if (IS("ret") && k == 2) {
            if (fl[1] == 4 && memcmp(f[1], "full", 4) == 0)
                env->ret = 1;
            else if (fl[1] == 4 && memcmp(f[1], "hdrs", 4) == 0)
                env->ret = 2;
            else
                goto syntax;
        } else if (IS("envid") && k == 2) {
            free(env->envid);
            if (!(env->envid = dec(f[1], fl[1])))
                goto syntax;
        } else if (IS("rcpt") && (k == 5 || (k == 6 && fl[5] == 6 && memcmp(f[5], "remote", 6) == 0))
                   && parse_ull(f[3], fl[3], &v) && v < 16) {
            char *mbx = dec(f[1], fl[1]), *orig = dec(f[2], fl[2]);
            char *orcpt = (fl[4] == 1 && f[4][0] == '-') ? NULL : dec(f[4], fl[4]);
            bool ok = mbx && orig && strchr(mbx, '@') && (orcpt || (fl[4] == 1 && f[4][0] == '-'));
            if (ok)
                envelope_add_rcpt(env, mbx, orig, (unsigned)v, orcpt)->remote = k == 6;
            free(mbx);
            free(orig);
            free(orcpt);
            if (!ok)
                goto syntax;
        } else {
            goto syntax;
        }
#undef IS
        p = nl + 1;
    }
    if (!have_id || !have_arrival || !have_size || env->nrcpts == 0) {
        snprintf(err, errlen, "envelope lacks id, arrival, size or recipients");
        goto bad;
    }
    *body_off = (size_t)(p - text);
    return env;
syntax: {
        size_t line = 1;
        for (const char *q = text; q < p; q++)
            line += *q == '\n';
        snprintf(err, errlen, "envelope line %zu is malformed", line);
    }
bad:
    envelope_free(env);
    return NULL;
}
