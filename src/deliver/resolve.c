/*
 * resolve - from a recipient address to local mailboxes; see resolve.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver/resolve.h"
#include "util/xmalloc.h"

#define RESOLVE_MAX_DEPTH 10

void
mailbox_set_free(struct mailbox_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static void
set_add(struct mailbox_set *s, const char *addr)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], addr) == 0)
            return;
    s->v = xreallocarray(s->v, s->n + 1, sizeof(char *));
    s->v[s->n++] = xstrdup(addr);
}

bool
mailbox_name_safe(const char *local)
{
    if (!*local || *local == '.')
        return false;
    for (const unsigned char *p = (const unsigned char *)local; *p; p++)
        if (*p < 0x21 || *p == 0x7f || *p == '/' || *p == '\\')
            return false;
    return true;
}

struct walk {
    const struct resolve_ctx *ctx;
    struct mailbox_set       *out;
    const char               *seen[RESOLVE_MAX_DEPTH + 1];
    int                       depth;
};

static enum resolve_status expand(struct walk *w, const char *addr);

/* expand_targets - expand every target of an alias; first error wins */
static enum resolve_status
expand_targets(struct walk *w, char *const *targets)
{
    for (char *const *t = targets; *t; t++) {
        enum resolve_status st = expand(w, *t);
        if (st != RESOLVE_OK)
            return st;
    }
    return RESOLVE_OK;
}

/*
 * expand - resolve one lower-case "local@domain". An address seen
 * already on the way here is a loop, except that an alias naming itself
 * delivers to the user of that name (the "keep a copy" idiom).
 */
static enum resolve_status
expand(struct walk *w, const char *addr)
{
    const struct resolve_ctx *ctx = w->ctx;
    const char *at = strrchr(addr, '@');
    const char *domain = at + 1;
    char base[ADDR_MAX + 1];
    char *const *targets;
    enum resolve_status st;

    if (!config_is_local_domain(ctx->cfg, domain))
        return RESOLVE_REMOTE_TARGET;
    for (int i = 0; i < w->depth; i++) {
        if (strcmp(w->seen[i], addr) == 0) {
            if (users_exists(ctx->users, addr)) {
                set_add(w->out, addr);
                return RESOLVE_OK;
            }
            return RESOLVE_LOOP;
        }
    }
    if (w->depth >= RESOLVE_MAX_DEPTH)
        return RESOLVE_LOOP;
    w->seen[w->depth++] = addr;

    if ((targets = aliases_lookup(ctx->aliases, addr)) != NULL) {
        st = expand_targets(w, targets);
        goto done;
    }
    if (users_exists(ctx->users, addr)) {
        set_add(w->out, addr);
        st = RESOLVE_OK;
        goto done;
    }
    /* Plus-addressing: user+tag@domain is user@domain. */
    const char *plus = memchr(addr, '+', (size_t)(at - addr));
    if (plus && plus > addr) {
        snprintf(base, sizeof(base), "%.*s%s", (int)(plus - addr), addr, at);
        if ((targets = aliases_lookup(ctx->aliases, base)) != NULL) {
            st = expand_targets(w, targets);
            goto done;
        }
        if (users_exists(ctx->users, base)) {
            set_add(w->out, base);
            st = RESOLVE_OK;
            goto done;
        }
    } else {
        snprintf(base, sizeof(base), "%s", addr);
    }
    if ((targets = aliases_lookup(ctx->aliases, at)) != NULL) {
        st = expand_targets(w, targets);
        goto done;
    }
    /* The trial setup: any address of localhost has a mailbox. */
    if ((ctx->cfg->trial && strcmp(domain, "localhost") == 0)
        || strncmp(base, "postmaster@", 11) == 0) {
        char local[ADDR_LOCAL_MAX + 1];
        snprintf(local, sizeof(local), "%.*s", (int)(strrchr(base, '@') - base), base);
        if (mailbox_name_safe(local)) {
            set_add(w->out, base);
            st = RESOLVE_OK;
            goto done;
        }
    }
    st = RESOLVE_UNKNOWN;
done:
    w->depth--;
    return st;
}

enum resolve_status
resolve_recipient(const struct resolve_ctx *ctx, const struct mailbox *mb,
                  struct mailbox_set *out)
{
    char local[ADDR_LOCAL_MAX + 1];
    char addr[ADDR_MAX + 1];
    const char *domain = mb->domain;

    if (domain[0] == '\0')                      /* <Postmaster> */
        domain = ctx->cfg->domains[0];
    if (mb->literal || !config_is_local_domain(ctx->cfg, domain))
        return RESOLVE_NOT_LOCAL;
    local_unquote(mb->local, local, sizeof(local));
    /* Sender-specified routing through us is relaying in disguise
     * (RFC 5321 3.6.1; Postfix's allow_untrusted_routing = no). */
    if (strpbrk(local, "%!@"))
        return RESOLVE_ROUTING;
    snprintf(addr, sizeof(addr), "%s@%s", local, domain);
    for (char *p = addr; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    struct walk w = { .ctx = ctx, .out = out, .depth = 0 };
    enum resolve_status st = expand(&w, addr);
    if (st != RESOLVE_OK)
        mailbox_set_free(out);
    return st;
}
