/*
 * aliases - the aliases file; see aliases.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deliver/aliases.h"
#include "mail/address.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"

struct alias {
    char    *key;       /* "local@domain" or "@domain", lower case */
    char   **targets;   /* NULL-terminated, "local@domain", lower case */
    unsigned line;      /* where it was defined: duplicates are reported by line */
};

struct aliases {
    char         *path;
    struct alias *v;    /* sorted by key, each key once */
    size_t        n;
    struct file_stamp stamp;    /* of the file last read */
};

struct aliases *
aliases_new(const char *path)
{
    struct aliases *a = xcalloc(1, sizeof(*a));
    a->path = xstrdup(path);
    return a;
}

/* alias_free_one - release what one entry holds */
static void
alias_free_one(struct alias *e)
{
    free(e->key);
    for (char **t = e->targets; *t; t++)
        free(*t);
    free(e->targets);
}

static void
aliases_clear(struct aliases *a)
{
    for (size_t i = 0; i < a->n; i++)
        alias_free_one(&a->v[i]);
    free(a->v);
    a->v = NULL;
    a->n = 0;
}

void
aliases_free(struct aliases *a)
{
    if (!a)
        return;
    aliases_clear(a);
    free(a->path);
    free(a);
}

static int
alias_cmp(const void *x, const void *y)
{
    return strcmp(((const struct alias *)x)->key, ((const struct alias *)y)->key);
}

/* alias_line_cmp - by key, then by line, so a key's first definition
 * sorts first (qsort is not stable) */
static int
alias_line_cmp(const void *x, const void *y)
{
    const struct alias *a = x, *b = y;
    int c = strcmp(a->key, b->key);

    if (c != 0)
        return c;
    return (a->line > b->line) - (a->line < b->line);
}

static void
lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* check_address - is "local@domain" (or "@domain" for keys) well formed? */
static bool
check_address(const char *s, bool key)
{
    const char *at = strrchr(s, '@');
    if (!at)
        return false;
    if (at == s && !key)
        return false;
    if ((size_t)(at - s) > ADDR_LOCAL_MAX)
        return false;
    for (const char *p = s; p < at; p++)
        if ((unsigned char)*p <= ' ' || *p == '/' || *p == ':' || *p == ',')
            return false;
    return domain_valid(at + 1, strlen(at + 1), true);
}

int
aliases_parse_text(struct aliases *a, const char *text, size_t n,
                   const char *name, struct buf *errs)
{
    int nerr = 0;
    unsigned lineno = 0;
    size_t cap = 0;
    const char *p = text, *end = text + n;

    aliases_clear(a);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        char *line = xstrndup(p, (size_t)(le - p));
        lineno++;
        p = nl ? nl + 1 : end;

        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        if (!*s) {
            free(line);
            continue;
        }
        char *colon = strchr(s, ':');
        if (!colon) {
            buf_printf(errs, "%s:%u: expected \"alias@domain: target, ...\"\n", name, lineno);
            nerr++;
            free(line);
            continue;
        }
        char *ke = colon;
        while (ke > s && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = '\0';
        lower(s);
        if (!check_address(s, true)) {
            buf_printf(errs, "%s:%u: \"%s\" is not an address or @domain\n", name, lineno, s);
            nerr++;
            free(line);
            continue;
        }
        const char *kdomain = strrchr(s, '@') + 1;
        char **targets = xcalloc(1, sizeof(char *));
        size_t nt = 0;
        bool bad = false;
        for (char *t = strtok(colon + 1, ", \t\r"); t; t = strtok(NULL, ", \t\r")) {
            char *full = strchr(t, '@') ? xstrdup(t) : xasprintf("%s@%s", t, kdomain);
            lower(full);
            if (!check_address(full, false)) {
                buf_printf(errs, "%s:%u: target \"%s\" is not an address\n", name, lineno, t);
                nerr++;
                bad = true;
                free(full);
                break;
            }
            targets = xreallocarray(targets, nt + 2, sizeof(char *));
            targets[nt++] = full;
            targets[nt] = NULL;
        }
        if (!bad && nt == 0) {
            buf_printf(errs, "%s:%u: alias \"%s\" has no target\n", name, lineno, s);
            nerr++;
            bad = true;
        }
        if (bad) {
            for (char **t = targets; *t; t++)
                free(*t);
            free(targets);
            free(line);
            continue;
        }
        if (a->n == cap) {
            cap = cap ? cap * 2 : 16;
            a->v = xreallocarray(a->v, cap, sizeof(*a->v));
        }
        a->v[a->n].key = xstrdup(s);
        a->v[a->n].targets = targets;
        a->v[a->n].line = lineno;
        a->n++;
        free(line);
    }
    if (a->n)
        qsort(a->v, a->n, sizeof(*a->v), alias_line_cmp);
    /* A key given twice: keep the first line's targets, report and drop
     * the rest, so that bsearch() cannot land on a later definition. */
    size_t kept = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (kept > 0 && strcmp(a->v[i].key, a->v[kept - 1].key) == 0) {
            buf_printf(errs, "%s:%u: alias \"%s\" is defined more than once (first on line %u)\n",
                       name, a->v[i].line, a->v[i].key, a->v[kept - 1].line);
            nerr++;
            alias_free_one(&a->v[i]);
            continue;
        }
        a->v[kept++] = a->v[i];
    }
    a->n = kept;
    return nerr;
}

int
aliases_refresh(struct aliases *a, struct buf *errs)
{
    char *text;
    size_t len;

    switch (file_reread(a->path, 64u << 20, &a->stamp, &text, &len)) {
    case FILE_SAME:
        return 0;
    case FILE_GONE:
        aliases_clear(a);
        return 0;
    case FILE_ERROR:
        return -1;
    case FILE_CHANGED:
        break;
    }
    aliases_parse_text(a, text, len, a->path, errs);
    free(text);
    return 0;
}

char *const *
aliases_lookup(const struct aliases *a, const char *key)
{
    char k[ADDR_MAX + 2];
    size_t n = strlen(key);

    if (n >= sizeof(k) || a->n == 0)
        return NULL;
    for (size_t i = 0; i <= n; i++)
        k[i] = (char)tolower((unsigned char)key[i]);
    struct alias probe = { k, NULL, 0 };
    const struct alias *e = bsearch(&probe, a->v, a->n, sizeof(*a->v), alias_cmp);
    return e ? e->targets : NULL;
}
