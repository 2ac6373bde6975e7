/*
 * uidlist - the per-folder UID file of the IMAP store; see uidlist.h.
 *
 * The file is small text, replaced whole and atomically (write, fsync,
 * rename: file_replace), so a reader without the lock sees either the old
 * or the new version, never half of one. Writers hold the flock() of
 * postino-uidlist.lock from their read to their write. Anything that does
 * not parse is treated as a lost list: the folder gets a new UIDVALIDITY,
 * which clients handle by fetching it again (RFC 9051 2.3.1.1).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>

/* util: no mail knowledge */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/uidlist.h"

#define UIDLIST_MAGIC "postino-uidlist 1 V"
#define VALIDITY_FILE "postino-uidvalidity"
#define ROOT_LOCK     "postino.lock"

/* uidlist_init - see uidlist.h */
void
uidlist_init(struct uidlist *ul)
{
    memset(ul, 0, sizeof(*ul));
}

/* uidlist_free - see uidlist.h */
void
uidlist_free(struct uidlist *ul)
{
    for (size_t i = 0; i < ul->n; i++)
        free(ul->v[i].unique);
    free(ul->v);
    free(ul->byname);
    uidlist_init(ul);
}

/* uidlist_unique_cmp - see uidlist.h */
int
uidlist_unique_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* byname_cmp - qsort_r order of two entry indexes by unique */
static int
byname_cmp(const void *a, const void *b, void *arg)
{
    const struct uidlist_ent *v = arg;
    const char *x = v[*(const size_t *)a].unique, *y = v[*(const size_t *)b].unique;

    return strcmp(x, y);    /* uniques hold no NUL: same order as unique_cmp */
}

/* build_index - sort the entry indexes by unique; false when a unique
 * appears twice */
static bool
build_index(struct uidlist *ul)
{
    free(ul->byname);
    ul->byname = xreallocarray(NULL, ul->n ? ul->n : 1, sizeof(*ul->byname));
    for (size_t i = 0; i < ul->n; i++)
        ul->byname[i] = i;
    qsort_r(ul->byname, ul->n, sizeof(*ul->byname), byname_cmp, ul->v);
    for (size_t i = 1; i < ul->n; i++)
        if (strcmp(ul->v[ul->byname[i - 1]].unique, ul->v[ul->byname[i]].unique) == 0)
            return false;
    return true;
}

/* uidlist_find - see uidlist.h */
struct uidlist_ent *
uidlist_find(struct uidlist *ul, const char *unique, size_t ulen)
{
    size_t lo = 0, hi = ul->n;

    if (ul->byname == NULL)
        build_index(ul);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct uidlist_ent *e = &ul->v[ul->byname[mid]];
        int c = uidlist_unique_cmp(unique, ulen, e->unique, strlen(e->unique));

        if (c == 0)
            return e;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* push - append an entry (unique copied), invalidating the index */
static struct uidlist_ent *
push(struct uidlist *ul, uint32_t uid, const char *unique, size_t ulen, uint64_t size,
     int64_t mtime)
{
    struct uidlist_ent *e;

    if (ul->n == ul->cap) {
        ul->cap = ul->cap ? ul->cap * 2 : 64;
        ul->v = xreallocarray(ul->v, ul->cap, sizeof(*ul->v));
    }
    e = &ul->v[ul->n++];
    e->uid = uid;
    e->size = size;
    e->mtime = mtime;
    e->unique = xstrndup(unique, ulen);
    e->seen = false;
    free(ul->byname);
    ul->byname = NULL;
    return e;
}

/* num - parse decimal digits at *pp (before end) into *out, at most max;
 * false on no digit or overflow */
static bool
num(const char **pp, const char *end, uint64_t max, uint64_t *out)
{
    const char *p = *pp;
    uint64_t v = 0;

    if (p == end || *p < '0' || *p > '9')
        return false;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *pp = p;
    *out = v;
    return true;
}

/* lit - skip the literal s at *pp; false when it is not there */
static bool
lit(const char **pp, const char *end, const char *s)
{
    size_t n = strlen(s);

    if ((size_t)(end - *pp) < n || memcmp(*pp, s, n) != 0)
        return false;
    *pp += n;
    return true;
}

/* uidlist_parse - see uidlist.h */
int
uidlist_parse(struct uidlist *ul, const char *p, size_t n)
{
    const char *end = p + n, *nl;
    uint64_t validity, next, uid, size, mt;
    uint32_t last = 0;

    uidlist_free(ul);
    /* header: "postino-uidlist 1 V<validity> N<next>" */
    if ((nl = memchr(p, '\n', n)) == NULL || !lit(&p, nl, UIDLIST_MAGIC)
        || !num(&p, nl, UINT32_MAX, &validity) || validity == 0 || !lit(&p, nl, " N")
        || !num(&p, nl, UINT32_MAX, &next) || next == 0 || p != nl)
        goto bad;
    p = nl + 1;
    /* entries: "<uid> <size> <mtime> <unique>", uids ascending */
    while (p < end) {
        bool neg;
        const char *u;

        if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
            goto bad;
        if (!num(&p, nl, UINT32_MAX, &uid) || uid <= last || uid >= next || !lit(&p, nl, " ")
            || !num(&p, nl, UINT64_MAX, &size) || !lit(&p, nl, " "))
            goto bad;
        neg = lit(&p, nl, "-");
        if (!num(&p, nl, INT64_MAX, &mt) || !lit(&p, nl, " "))
            goto bad;
        for (u = p; u < nl; u++)
            if (*u == '\0' || *u == '/' || *u == ':')
                goto bad;
        if (p == nl || *p == '.')
            goto bad;
        push(ul, (uint32_t)uid, p, (size_t)(nl - p), size, neg ? -(int64_t)mt : (int64_t)mt);
        last = (uint32_t)uid;
        p = nl + 1;
    }
    if (!build_index(ul))
        goto bad;
    ul->validity = (uint32_t)validity;
    ul->next = (uint32_t)next;
    return 0;

bad:
    uidlist_free(ul);
    errno = EINVAL;
    return -1;
}

/* uidlist_format - see uidlist.h */
void
uidlist_format(const struct uidlist *ul, struct buf *out)
{
    buf_printf(out, UIDLIST_MAGIC "%" PRIu32 " N%" PRIu32 "\n", ul->validity, ul->next);
    for (size_t i = 0; i < ul->n; i++) {
        const struct uidlist_ent *e = &ul->v[i];

        buf_printf(out, "%" PRIu32 " %" PRIu64 " %" PRId64 " %s\n", e->uid, e->size, e->mtime,
                   e->unique);
    }
}

/* uidlist_load - see uidlist.h */
int
uidlist_load(struct uidlist *ul, const char *dir)
{
    char *path = xasprintf("%s/" UIDLIST_FILE, dir), *text = NULL;
    size_t len = 0;
    int rc = file_read(path, UIDLIST_MAX, &text, &len);

    free(path);
    uidlist_free(ul);
    if (rc < 0)
        return errno == ENOENT || errno == EFBIG ? 0 : -1;
    if (uidlist_parse(ul, text, len) < 0)
        uidlist_init(ul);       /* lost: the caller starts again */
    free(text);
    return 0;
}

/* uidlist_save - see uidlist.h */
int
uidlist_save(const struct uidlist *ul, const char *dir)
{
    struct buf b = BUF_INIT;
    char *path = xasprintf("%s/" UIDLIST_FILE, dir);
    int rc;

    uidlist_format(ul, &b);
    rc = file_replace(path, b.data, b.len, 0600);
    free(path);
    buf_free(&b);
    return rc;
}

/* uidlist_add - see uidlist.h */
uint32_t
uidlist_add(struct uidlist *ul, const char *unique, size_t ulen, uint64_t size, int64_t mtime)
{
    uint32_t uid;

    /* UIDNEXT must stay a 32-bit number too (RFC 9051 2.3.1.1) */
    if (ul->next == 0 || ul->next == UINT32_MAX) {
        errno = EOVERFLOW;
        return 0;
    }
    uid = ul->next++;
    push(ul, uid, unique, ulen, size, mtime)->seen = true;
    return uid;
}

/* compact - keep the entries for which drop[i] is false */
static size_t
compact(struct uidlist *ul, const bool *drop)
{
    size_t k = 0, gone;

    for (size_t i = 0; i < ul->n; i++) {
        if (drop[i]) {
            free(ul->v[i].unique);
            continue;
        }
        ul->v[k++] = ul->v[i];
    }
    gone = ul->n - k;
    ul->n = k;
    free(ul->byname);
    ul->byname = NULL;
    return gone;
}

/* uidlist_prune - see uidlist.h */
size_t
uidlist_prune(struct uidlist *ul)
{
    bool *drop = xcalloc(ul->n ? ul->n : 1, sizeof(*drop));
    size_t gone;

    for (size_t i = 0; i < ul->n; i++)
        drop[i] = !ul->v[i].seen;
    gone = compact(ul, drop);
    free(drop);
    return gone;
}

/* uid_cmp - qsort/bsearch order of uint32_t */
static int
uid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* uidlist_remove_uids - see uidlist.h */
size_t
uidlist_remove_uids(struct uidlist *ul, const uint32_t *uids, size_t n)
{
    uint32_t *sorted = xreallocarray(NULL, n ? n : 1, sizeof(*sorted));
    bool *drop = xcalloc(ul->n ? ul->n : 1, sizeof(*drop));
    size_t gone;

    if (n > 0)
        memcpy(sorted, uids, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), uid_cmp);
    for (size_t i = 0; i < ul->n; i++)
        drop[i] = bsearch(&ul->v[i].uid, sorted, n, sizeof(*sorted), uid_cmp) != NULL;
    gone = compact(ul, drop);
    free(drop);
    free(sorted);
    return gone;
}

/* uidlist_lock - see uidlist.h */
int
uidlist_lock(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    int e;

    free(path);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* uidlist_unlock - see uidlist.h; closing the descriptor drops the lock */
void
uidlist_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* uidlist_new_validity - see uidlist.h */
uint32_t
uidlist_new_validity(const char *root)
{
    time_t now = time(NULL);
    uint32_t v = now <= 0 ? 1 : (uint64_t)now >= UINT32_MAX ? UINT32_MAX : (uint32_t)now;
    char *path = xasprintf("%s/" VALIDITY_FILE, root), *text = NULL;
    char line[32];
    size_t len = 0;
    int fd = uidlist_lock(root, ROOT_LOCK);

    if (fd < 0) {
        free(path);
        return v;
    }
    if (file_read(path, 64, &text, &len) == 0) {
        const char *p = text;
        uint64_t last;

        if (num(&p, text + len, UINT32_MAX, &last) && last >= v && last < UINT32_MAX)
            v = (uint32_t)last + 1;
        free(text);
    }
    snprintf(line, sizeof(line), "%" PRIu32 "\n", v);
    (void)file_replace(path, line, strlen(line), 0600);   /* best effort */
    uidlist_unlock(fd);
    free(path);
    return v;
}
