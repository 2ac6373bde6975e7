/*
 * orgdomain - the organizational domain (RFC 7489 3.2) through libpsl;
 * see dmarc.h.
 *
 * RFC 7489 3.2 takes the public suffix that matches the most labels of
 * the domain and adds one more label; that is libpsl's "registrable
 * domain". When there is no label to add (the domain is a public suffix,
 * or a single label that the "*" rule makes one) the domain is its own
 * organizational domain, as OpenDMARC does: the alternative, no
 * organizational domain, would make relaxed alignment impossible for
 * mail from such a domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

/* this module */
#include "dmarc/dmarc.h"

/* utilities */
#include "util/xmalloc.h"

struct dmarc_psl {
    psl_ctx_t       *loaded;    /* from a file, freed with the handle; or NULL */
    const psl_ctx_t *ctx;       /* the list in use: loaded, or libpsl's built-in */
    char            *source;    /* the file's path, or "builtin" */
};

struct dmarc_psl *
dmarc_psl_open(const char *path, char *err, size_t errlen)
{
    const char *file = path ? path : DMARC_PSL_FILE;
    psl_ctx_t *loaded = psl_load_file(file);
    struct dmarc_psl *psl;

    if (loaded == NULL && path != NULL) {
        snprintf(err, errlen, "cannot load the public suffix list %s", path);
        return NULL;
    }
    psl = xcalloc(1, sizeof(*psl));
    if (loaded) {
        psl->loaded = loaded;
        psl->ctx = loaded;
        psl->source = xstrdup(file);
        return psl;
    }
    /* libpsl's built-in list is as old as the library: only a fallback */
    psl->ctx = psl_builtin();
    if (psl->ctx == NULL) {
        free(psl);
        snprintf(err, errlen, "no public suffix list: %s cannot be read and libpsl has "
                 "none built in", DMARC_PSL_FILE);
        return NULL;
    }
    psl->source = xstrdup("builtin");
    return psl;
}

void
dmarc_psl_free(struct dmarc_psl *psl)
{
    if (psl == NULL)
        return;
    psl_free(psl->loaded);
    free(psl->source);
    free(psl);
}

const char *
dmarc_psl_source(const struct dmarc_psl *psl)
{
    return psl->source;
}

bool
dmarc_org_domain(const struct dmarc_psl *psl, const char *domain, char *out, size_t outlen)
{
    char d[DMARC_DOMAIN_MAX];
    size_t n = strlen(domain);
    const char *org;

    if (outlen > 0)
        out[0] = '\0';
    if (n > 0 && domain[n - 1] == '.')
        n--;
    if (n == 0 || n >= sizeof(d) || domain[n - 1] == '.')
        return false;               /* "x.." is no domain */
    for (size_t i = 0; i < n; i++) {
        char c = domain[i];
        d[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    d[n] = '\0';
    /* libpsl wants lower case (and UTF-8 U-labels, or A-labels) */
    org = psl_registrable_domain(psl->ctx, d);
    if (org == NULL)
        org = d;
    if (strlen(org) >= outlen)
        return false;
    memcpy(out, org, strlen(org) + 1);
    return true;
}
