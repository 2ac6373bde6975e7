/*
 * store - the key files under <data_dir>/dkim/ (layout in dkim.h):
 * listing them, choosing the keys that sign for a domain, making a new
 * one. Blocking file-system work: call it from a worker thread or a
 * command, never on the event loop.
 *
 * Only regular files named SELECTOR.rsa.pem or SELECTOR.ed25519.pem, in
 * folders named as lower-case domains, count; everything else (symbolic
 * links, other names, "*.pem.old") is ignored.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

/* this module */
#include "dkim/dkim_priv.h"

/* utilities */
#include "util/fsutil.h"
#include "util/xmalloc.h"

/* An entry with the precise time, for sorting. */
struct found {
    struct dkim_entry e;
    long              nsec;
};

/* key_file_name - split "SELECTOR.ALG.pem" (name); false if it is not one */
static bool
key_file_name(const char *name, char sel[DKIM_NAME_MAX + 1], enum dkim_alg *alg)
{
    static const struct {
        const char   *suffix;
        enum dkim_alg alg;
    } kinds[] = {
        { ".rsa.pem", DKIM_RSA_SHA256 },
        { ".ed25519.pem", DKIM_ED25519_SHA256 },
    };
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        size_t sl = strlen(kinds[i].suffix);
        if (n <= sl || strcmp(name + n - sl, kinds[i].suffix) != 0)
            continue;
        size_t k = n - sl;
        if (k > DKIM_NAME_MAX || !dkim_name_ok(name, k))
            return false;
        dkim_lower(name, k, sel);
        if (strncmp(sel, name, k) != 0)
            return false;           /* upper case: not a name keygen writes */
        *alg = kinds[i].alg;
        return true;
    }
    return false;
}

/* scan_domain - add the key files of <dkim>/<domain>/ to *v; 0, or -1 (err) */
static int
scan_domain(const char *dkim, const char *domain, struct found **v, size_t *n, size_t *cap,
            char *err, size_t errlen)
{
    char dir[PATH_MAX];
    DIR *d;
    struct dirent *de;

    if (pathf(dir, sizeof(dir), "%s/%s", dkim, domain) < 0) {
        snprintf(err, errlen, "%s/%s: name too long", dkim, domain);
        return -1;
    }
    if (!(d = opendir(dir))) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        struct dkim_entry e = { .path = NULL };
        struct stat st;

        if (!key_file_name(de->d_name, e.selector, &e.alg))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 8;
            *v = xreallocarray(*v, *cap, sizeof(**v));
        }
        snprintf(e.domain, sizeof(e.domain), "%s", domain);
        e.mtime = st.st_mtim.tv_sec;
        e.path = xasprintf("%s/%s", dir, de->d_name);
        (*v)[*n].e = e;
        (*v)[*n].nsec = st.st_mtim.tv_nsec;
        (*n)++;
    }
    closedir(d);
    return 0;
}

/* by_domain_newest - domain ascending, then newest first, then greater selector */
static int
by_domain_newest(const void *pa, const void *pb)
{
    const struct found *a = pa, *b = pb;
    int c = strcmp(a->e.domain, b->e.domain);

    if (c != 0)
        return c;
    if (a->e.mtime != b->e.mtime)
        return a->e.mtime > b->e.mtime ? -1 : 1;
    if (a->nsec != b->nsec)
        return a->nsec > b->nsec ? -1 : 1;
    return -strcmp(a->e.selector, b->e.selector);
}

int
dkim_store_list(const char *data_dir, const char *domain, struct dkim_entry **out, size_t *nout,
                char *err, size_t errlen)
{
    struct found *v = NULL;
    size_t n = 0, cap = 0;
    char dkim[PATH_MAX];
    int rc = 0;

    *out = NULL;
    *nout = 0;
    if (pathf(dkim, sizeof(dkim), "%s/dkim", data_dir) < 0) {
        snprintf(err, errlen, "%s/dkim: name too long", data_dir);
        return -1;
    }
    if (domain) {
        char dom[DKIM_NAME_MAX + 1];
        if (!dkim_domain_ok(domain))
            return 0;
        dkim_lower(domain, strlen(domain), dom);
        rc = scan_domain(dkim, dom, &v, &n, &cap, err, errlen);
    } else {
        DIR *d = opendir(dkim);
        struct dirent *de;

        if (!d) {
            if (errno == ENOENT)
                return 0;
            snprintf(err, errlen, "cannot read %s: %s", dkim, strerror(errno));
            return -1;
        }
        while (rc == 0 && (de = readdir(d)) != NULL) {
            char dom[DKIM_NAME_MAX + 1];
            size_t len = strlen(de->d_name);
            if (len > DKIM_NAME_MAX || !dkim_name_ok(de->d_name, len))
                continue;
            dkim_lower(de->d_name, len, dom);
            if (strcmp(dom, de->d_name) != 0)
                continue;           /* folders are lower case */
            rc = scan_domain(dkim, dom, &v, &n, &cap, err, errlen);
        }
        closedir(d);
    }
    if (rc < 0) {
        for (size_t i = 0; i < n; i++)
            free(v[i].e.path);
        free(v);
        return -1;
    }
    if (n == 0) {
        free(v);
        return 0;
    }
    qsort(v, n, sizeof(*v), by_domain_newest);
    struct dkim_entry *e = xcalloc(n, sizeof(*e));
    for (size_t i = 0; i < n; i++) {
        e[i] = v[i].e;
        /* the first of its domain and algorithm in this order signs */
        e[i].newest = true;
        for (size_t k = 0; k < i; k++)
            if (e[k].alg == e[i].alg && strcmp(e[k].domain, e[i].domain) == 0)
                e[i].newest = false;
    }
    free(v);
    *out = e;
    *nout = n;
    return 0;
}

void
dkim_entries_free(struct dkim_entry *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

size_t
dkim_keys_for(const char *data_dir, const char *domain, struct dkim_signer out[DKIM_SIGNERS_MAX],
              char *err, size_t errlen)
{
    static const enum dkim_alg order[DKIM_SIGNERS_MAX] = { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };
    struct dkim_entry *e;
    size_t ne, n = 0;

    if (errlen > 0)
        err[0] = '\0';
    if (dkim_store_list(data_dir, domain, &e, &ne, err, errlen) < 0)
        return 0;
    for (size_t a = 0; a < DKIM_SIGNERS_MAX; a++) {
        /* newest first; an older key of the algorithm when it cannot be read */
        for (size_t i = 0; i < ne; i++) {
            char why[PATH_MAX + 160];
            struct dkim_key *k;

            if (e[i].alg != order[a])
                continue;
            k = dkim_key_load(e[i].path, why, sizeof(why));
            if (k && dkim_key_alg(k) != e[i].alg) {
                snprintf(why, sizeof(why), "%s: not an %s key", e[i].path,
                         dkim_key_type(e[i].alg));
                dkim_key_free(k);
                k = NULL;
            }
            if (!k) {
                if (errlen > 0 && err[0] == '\0')
                    snprintf(err, errlen, "%s", why);
                continue;
            }
            snprintf(out[n].domain, sizeof(out[n].domain), "%s", e[i].domain);
            snprintf(out[n].selector, sizeof(out[n].selector), "%s", e[i].selector);
            out[n++].key = k;
            break;
        }
    }
    dkim_entries_free(e, ne);
    return n;
}

void
dkim_signers_free(struct dkim_signer *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        dkim_key_free(v[i].key);
        v[i].key = NULL;
    }
}

/* selector_taken - is sel the selector of a key file in e[0..n)? */
static bool
selector_taken(const struct dkim_entry *e, size_t n, const char *sel)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(e[i].selector, sel) == 0)
            return true;
    return false;
}

struct dkim_key *
dkim_store_keygen(const char *data_dir, const char *domain, const char *selector,
                  enum dkim_alg alg, time_t now, char sel_out[DKIM_NAME_MAX + 1],
                  char *err, size_t errlen)
{
    char dom[DKIM_NAME_MAX + 1], sel[DKIM_NAME_MAX + 1], dir[PATH_MAX], path[PATH_MAX];
    struct dkim_entry *e;
    struct dkim_key *k;
    size_t ne;

    if (!dkim_domain_ok(domain)) {
        snprintf(err, errlen, "\"%s\" is not a domain name (letters, digits, \"-\"; "
                 "an international name in its xn-- form)", domain);
        return NULL;
    }
    dkim_lower(domain, strlen(domain), dom);
    if (selector && !dkim_selector_ok(selector)) {
        snprintf(err, errlen, "\"%s\" is not a selector (letters, digits, \"-\", dots)",
                 selector);
        return NULL;
    }
    if (selector && strlen(selector) + strlen("._domainkey.") + strlen(dom) > DKIM_NAME_MAX) {
        snprintf(err, errlen, "the selector and the domain make a name over %d octets",
                 DKIM_NAME_MAX);
        return NULL;
    }
    if (dkim_store_list(data_dir, dom, &e, &ne, err, errlen) < 0)
        return NULL;
    if (selector) {
        dkim_lower(selector, strlen(selector), sel);
        if (selector_taken(e, ne, sel)) {
            snprintf(err, errlen, "the selector %s of %s has a key already; choose another "
                     "(a selector names one DNS record)", sel, dom);
            dkim_entries_free(e, ne);
            return NULL;
        }
    } else {
        /* sYYYYMM (RSA) or eYYYYMM (Ed25519), then ...b, ...c while taken */
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(sel, sizeof(sel), "%c%04d%02d", alg == DKIM_RSA_SHA256 ? 's' : 'e',
                 tm.tm_year + 1900, tm.tm_mon + 1);
        size_t base = strlen(sel);
        for (char c = 'b'; selector_taken(e, ne, sel); c++) {
            if (c > 'z') {
                snprintf(err, errlen, "every dated selector of this month is taken; "
                         "choose one with --selector");
                dkim_entries_free(e, ne);
                return NULL;
            }
            sel[base] = c;
            sel[base + 1] = '\0';
        }
    }
    dkim_entries_free(e, ne);
    if (pathf(dir, sizeof(dir), "%s/dkim/%s", data_dir, dom) < 0
        || pathf(path, sizeof(path), "%s/%s.%s.pem", dir, sel, dkim_key_type(alg)) < 0) {
        snprintf(err, errlen, "%s/dkim/%s: name too long", data_dir, dom);
        return NULL;
    }
    if (mkdir_p(dir, 0700) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return NULL;
    }
    if (!(k = dkim_key_generate(alg, 0, err, errlen)))
        return NULL;
    if (dkim_key_save(k, path, err, errlen) < 0) {
        dkim_key_free(k);
        return NULL;
    }
    snprintf(sel_out, DKIM_NAME_MAX + 1, "%s", sel);
    return k;
}
