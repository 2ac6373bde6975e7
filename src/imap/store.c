/*
 * store - the messages of an IMAP folder over Maildir++; see store.h.
 *
 * Opening a folder reads new/ then cur/ (in that order, so that a message
 * moved from new/ to cur/ meanwhile is seen at least once) and the
 * uidlist. When every file is known to the uidlist and every entry of the
 * uidlist was seen, that is all: no message file is opened or stat()ed.
 * Otherwise, under the uidlist lock, the list is read again and the
 * folder scanned again, entries whose file is gone are dropped, and the
 * new files are measured and given UIDs in delivery order.
 *
 * readdir() may miss a file renamed while the directory is read (POSIX
 * leaves it unspecified), which would make a message look expunged and
 * later come back. So a uidlist entry missing from a scan is believed
 * gone only when a second scan misses it too.
 *
 * store_sync does all that again only when new/ or cur/ changed since
 * the last look (their st_mtim), and then merges the result into the
 * snapshot. The other operations are in store_msg.c and store_xfer.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

/* util: no mail knowledge */
#include "util/buf.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/store.h"
#include "imap/store_priv.h"
#include "imap/uidlist.h"

void (*store_test_hook)(const char *path);

/* One file a scan found. The unique part is name + 4, ulen octets. */
struct ent {
    char     *name;     /* "cur/<unique>:2,<letters>" or "new/<unique>" */
    size_t    ulen;
    uint32_t  uid;      /* 0 until matched with the uidlist */
    uint64_t  size;
    int64_t   mtime;
};

struct scan {
    struct ent *v;      /* sorted by unique, each unique once */
    size_t      n, cap;
};

/* What one load of a folder found. */
struct view {
    uint32_t          validity, next;
    struct store_msg *msgs;     /* ascending uid */
    size_t            n;
    bool              stamp_ok;
    struct timespec   stamp_new, stamp_cur;
};

/* The flag letters of the Maildir info, in ASCII order (maildir(5)). */
static const struct {
    char     letter;
    unsigned flag;
} letters[] = {
    { 'D', STORE_FLAG_DRAFT },
    { 'F', STORE_FLAG_FLAGGED },
    { 'R', STORE_FLAG_ANSWERED },
    { 'S', STORE_FLAG_SEEN },
    { 'T', STORE_FLAG_DELETED },
};

/* store_crlf_size - see store.h */
uint64_t
store_crlf_size(const char *p, size_t n)
{
    uint64_t size = n;

    for (size_t i = 0; i < n; i++)
        if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
            size++;
    return size;
}

/* ---- names ------------------------------------------------------------ */

/* store_name_flags - see store_priv.h */
unsigned
store_name_flags(const char *name, size_t ulen)
{
    const char *info = name + 4 + ulen;
    unsigned flags = 0;

    if (strncmp(info, ":2,", 3) != 0)
        return 0;
    for (const char *p = info + 3; *p != '\0'; p++)
        for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
            if (*p == letters[i].letter)
                flags |= letters[i].flag;
    return flags;
}

/* store_make_name - see store_priv.h. Kept letters: printable ASCII is
 * sorted in with ours (maildir(5): ASCII order), anything else follows
 * in its order; "/" is never written. */
char *
store_make_name(const char *name, size_t ulen, unsigned flags, bool keep)
{
    const char *info = name + 4 + ulen;
    struct buf b = BUF_INIT;
    bool has[128] = { false };

    if (keep && strncmp(info, ":2,", 3) == 0)
        for (const char *p = info + 3; *p != '\0'; p++)
            if (*p > ' ' && *p < 127)
                has[(unsigned char)*p] = true;
    for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
        has[(unsigned char)letters[i].letter] = (flags & letters[i].flag) != 0;
    buf_puts(&b, "cur/");
    buf_append(&b, name + 4, ulen);
    buf_puts(&b, ":2,");
    for (int c = '!'; c < 127; c++)
        if (has[c] && c != '/')
            buf_putc(&b, (char)c);
    if (keep && strncmp(info, ":2,", 3) == 0)
        for (const char *p = info + 3; *p != '\0'; p++)
            if (!(*p > ' ' && *p < 127) && *p != '/')
                buf_putc(&b, *p);
    return buf_steal(&b);
}

/* ---- scanning ----------------------------------------------------------- */

/* scan_free - release a scan */
static void
scan_free(struct scan *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].name);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* scan_push - add a file (name taken over) to s */
static void
scan_push(struct scan *s, char *name)
{
    struct ent *e;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
    }
    e = &s->v[s->n++];
    memset(e, 0, sizeof(*e));
    e->name = name;
    e->ulen = strcspn(name + 4, ":");
}

/* ent_cmp - by unique, then cur/ before new/, then name */
static int
ent_cmp(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    int c = uidlist_unique_cmp(x->name + 4, x->ulen, y->name + 4, y->ulen);

    if (c != 0)
        return c;
    if (x->name[0] != y->name[0])
        return x->name[0] == 'c' ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* scan_sort - sort by unique and keep one file per unique, the one in
 * cur/. XXX: two cur/ names with one unique break the Maildir rules; the
 * first in name order is used, the other ignored. */
static void
scan_sort(struct scan *s)
{
    size_t k = 0;

    if (s->n > 1)
        qsort(s->v, s->n, sizeof(*s->v), ent_cmp);
    for (size_t i = 0; i < s->n; i++) {
        if (k > 0 && uidlist_unique_cmp(s->v[k - 1].name + 4, s->v[k - 1].ulen,
                                        s->v[i].name + 4, s->v[i].ulen) == 0) {
            free(s->v[i].name);
            continue;
        }
        s->v[k++] = s->v[i];
    }
    s->n = k;
}

/* store_rename_noreplace - see store_priv.h */
int
store_rename_noreplace(const char *from, const char *to)
{
    struct stat st;

    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS)
        return -1;
    /* XXX: a file system without RENAME_NOREPLACE: check, then rename.
     * The callers hold a lock against each other; other programs use
     * names of their own. */
    if (lstat(to, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename(from, to);
}

/*
 * scan_dir - add the messages of path/sub to s. Names starting with "."
 * and names with a newline (they cannot be written in the uidlist) are
 * skipped; so is anything readdir() says is not a regular file. With
 * move, each message of new/ is moved to cur/ (":2," added) first, never
 * replacing a file; one that cannot be moved is listed in new/.
 * A missing new/ is empty; a missing cur/ is an error (ENOENT).
 */
static int
scan_dir(const char *path, const char *sub, bool move, struct scan *s)
{
    char *dir = xasprintf("%s/%s", path, sub);
    DIR *d = opendir(dir);
    struct dirent *de;
    int e;

    if (d == NULL) {
        e = errno;
        free(dir);
        errno = e;
        return e == ENOENT && strcmp(sub, "new") == 0 ? 0 : -1;
    }
    for (;;) {
        const char *nm;
        char *name;

        errno = 0;
        if ((de = readdir(d)) == NULL)
            break;
        nm = de->d_name;
        if (nm[0] == '.' || strchr(nm, '\n') != NULL
            || (de->d_type != DT_REG && de->d_type != DT_UNKNOWN))
            continue;
        if (move) {
            char *from = xasprintf("%s/%s", dir, nm), *to;

            name = strchr(nm, ':') != NULL ? xasprintf("cur/%s", nm) : xasprintf("cur/%s:2,", nm);
            to = xasprintf("%s/%s", path, name);
            if (store_rename_noreplace(from, to) < 0) {
                free(name);
                name = xasprintf("new/%s", nm);
            }
            free(from);
            free(to);
        } else {
            name = xasprintf("%s/%s", sub, nm);
        }
        scan_push(s, name);
    }
    e = errno;
    closedir(d);
    free(dir);
    errno = e;
    return e != 0 ? -1 : 0;
}

/* scan_all - new/ then cur/ of path into s (emptied first), sorted */
static int
scan_all(const char *path, bool move, struct scan *s)
{
    scan_free(s);
    if (scan_dir(path, "new", move, s) < 0 || scan_dir(path, "cur", false, s) < 0) {
        int e = errno;

        scan_free(s);
        errno = e;
        return -1;
    }
    scan_sort(s);
    if (store_test_hook != NULL)
        store_test_hook(path);
    return 0;
}

/* scan_find - the entry of s with unique u[0..ulen), or NULL */
static struct ent *
scan_find(const struct scan *s, const char *u, size_t ulen)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = uidlist_unique_cmp(u, ulen, s->v[mid].name + 4, s->v[mid].ulen);

        if (c == 0)
            return &s->v[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* scan_union - add to s2 the files of s that s2 lacks; s is emptied.
 * A file seen by either of two scans is believed there. */
static void
scan_union(struct scan *s2, struct scan *s)
{
    for (size_t i = 0; i < s->n; i++) {
        if (scan_find(s2, s->v[i].name + 4, s->v[i].ulen) != NULL)
            continue;
        scan_push(s2, s->v[i].name);
        s->v[i].name = NULL;
    }
    scan_free(s);
    scan_sort(s2);
}

/* join - match the files of s with ul: set uid, size and mtime of the
 * known ones and seen on their entries. Returns the number of unknown
 * files; *missing gets the number of entries not seen. */
static size_t
join(struct scan *s, struct uidlist *ul, size_t *missing)
{
    size_t unknown = 0, matched = 0;

    for (size_t i = 0; i < ul->n; i++)
        ul->v[i].seen = false;
    for (size_t i = 0; i < s->n; i++) {
        struct ent *e = &s->v[i];
        struct uidlist_ent *u = uidlist_find(ul, e->name + 4, e->ulen);

        e->uid = 0;
        if (u == NULL) {
            unknown++;
            continue;
        }
        e->uid = u->uid;
        e->size = u->size;
        e->mtime = u->mtime;
        u->seen = true;
        matched++;
    }
    *missing = ul->n - matched;
    return unknown;
}

/* ---- measuring new messages --------------------------------------------- */

/*
 * name_vsize - the ",W=<digits>" of a Maildir unique name u[0..ulen): the
 * size with CRLF line ends, as Dovecot and our delivery write it; true
 * and *size when there is one.
 */
static bool
name_vsize(const char *u, size_t ulen, uint64_t *size)
{
    for (size_t i = 0; i + 3 < ulen; i++) {
        if (u[i] != ',' || u[i + 1] != 'W' || u[i + 2] != '=')
            continue;
        uint64_t v = 0;
        size_t k = i + 3;
        for (; k < ulen && u[k] >= '0' && u[k] <= '9' && v < (UINT64_MAX - 9) / 10; k++)
            v = v * 10 + (uint64_t)(u[k] - '0');
        if (k > i + 3 && (k == ulen || u[k] == ',')) {
            *size = v;
            return true;
        }
    }
    return false;
}

/*
 * measure - the RFC822.SIZE and mtime of the file path, whose unique name
 * is u[0..ulen): a stat() when the name says the size (",W="), else the
 * file is read and its bare LFs counted. 0; 1 when the file is gone or
 * not a regular file; -1 with errno.
 */
static int
measure(const char *path, const char *u, size_t ulen, uint64_t *size, int64_t *mtime)
{
    char chunk[65536];
    struct stat st;
    uint64_t n = 0;
    bool cr = false;
    ssize_t r;
    int fd, e;

    if (name_vsize(u, ulen, size)) {
        if (lstat(path, &st) < 0)
            return errno == ENOENT ? 1 : -1;
        if (!S_ISREG(st.st_mode))
            return 1;
        *mtime = (int64_t)st.st_mtim.tv_sec;
        return 0;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT || errno == ELOOP ? 1 : -1;
    if (fstat(fd, &st) < 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return 1;
    }
    while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        /* each LF without a CR before it goes out as CRLF */
        n += (uint64_t)r;
        const char *p = chunk, *end = chunk + r, *lf;
        while ((lf = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (!(lf > chunk ? lf[-1] == '\r' : cr))
                n++;
            p = lf + 1;
        }
        cr = chunk[r - 1] == '\r';
    }
    close(fd);
    *size = n;
    *mtime = (int64_t)st.st_mtim.tv_sec;
    return 0;
}

/* leading_secs - the delivery time at the start of a unique name */
static unsigned long long
leading_secs(const char *u, size_t ulen)
{
    unsigned long long v = 0;

    for (size_t i = 0; i < ulen && u[i] >= '0' && u[i] <= '9'; i++) {
        if (v > (ULLONG_MAX - 9) / 10)
            return ULLONG_MAX;
        v = v * 10 + (unsigned long long)(u[i] - '0');
    }
    return v;
}

/* arrival_cmp - qsort order of ent pointers: delivery time, then unique */
static int
arrival_cmp(const void *a, const void *b)
{
    const struct ent *x = *(const struct ent *const *)a, *y = *(const struct ent *const *)b;
    unsigned long long sx = leading_secs(x->name + 4, x->ulen);
    unsigned long long sy = leading_secs(y->name + 4, y->ulen);

    if (sx != sy)
        return sx < sy ? -1 : 1;
    return uidlist_unique_cmp(x->name + 4, x->ulen, y->name + 4, y->ulen);
}

/*
 * assign - give the unknown files of s UIDs in delivery order, measuring
 * each. A file gone meanwhile (deleted by POP3, or renamed: it is found
 * at the next sync) is left out. Returns the number assigned, or -1 with
 * errno and err.
 */
static long
assign(const char *path, struct scan *s, struct uidlist *ul, char *err, size_t errlen)
{
    struct ent **todo = xreallocarray(NULL, s->n ? s->n : 1, sizeof(*todo));
    size_t n = 0;
    long done = 0;

    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].uid == 0)
            todo[n++] = &s->v[i];
    qsort(todo, n, sizeof(*todo), arrival_cmp);
    for (size_t i = 0; i < n; i++) {
        struct ent *e = todo[i];
        char *file = xasprintf("%s/%s", path, e->name);
        int rc = measure(file, e->name + 4, e->ulen, &e->size, &e->mtime);

        if (rc < 0)
            store_err(err, errlen, "%s: %s", file, strerror(errno));
        free(file);
        if (rc < 0) {
            done = -1;
            break;
        }
        if (rc > 0)
            continue;
        if ((e->uid = uidlist_add(ul, e->name + 4, e->ulen, e->size, e->mtime)) == 0) {
            store_err(err, errlen, "UIDs used up; the folder needs a new UIDVALIDITY");
            done = -1;
            break;
        }
        done++;
    }
    free(todo);
    return done;
}

/* ---- loading a folder --------------------------------------------------- */

/* msg_uid_cmp - qsort order of store_msg by uid */
static int
msg_uid_cmp(const void *a, const void *b)
{
    const struct store_msg *x = a, *y = b;

    return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* view_free - release what a load made */
static void
view_free(struct view *v)
{
    for (size_t i = 0; i < v->n; i++)
        free(v->msgs[i].name);
    free(v->msgs);
    memset(v, 0, sizeof(*v));
}

/* stamp - the mtimes of path/new and path/cur; *ok unless one of them
 * is so recent that a change within the same clock tick could still
 * leave it as it is (timestamps come from a coarse clock) */
static int
stamp(const char *path, struct timespec *newm, struct timespec *curm, bool *ok)
{
    char *n = xasprintf("%s/new", path), *c = xasprintf("%s/cur", path);
    struct stat st;
    struct timespec now;
    int rc = 0;

    memset(newm, 0, sizeof(*newm));
    if (stat(n, &st) == 0)
        *newm = st.st_mtim;
    if (stat(c, &st) == 0)
        *curm = st.st_mtim;
    else
        rc = -1;
    free(n);
    free(c);
    clock_gettime(CLOCK_REALTIME, &now);
    *ok = rc == 0 && now.tv_sec - newm->tv_sec > 1 && now.tv_sec - curm->tv_sec > 1;
    return rc;
}

/* build - the snapshot messages of the matched files of s, by uid */
static void
build(struct scan *s, struct view *v)
{
    v->msgs = xreallocarray(NULL, s->n ? s->n : 1, sizeof(*v->msgs));
    v->n = 0;
    for (size_t i = 0; i < s->n; i++) {
        struct ent *e = &s->v[i];
        struct store_msg *m;

        if (e->uid == 0)
            continue;
        m = &v->msgs[v->n++];
        m->uid = e->uid;
        m->flags = store_name_flags(e->name, e->ulen);
        m->size = e->size;
        m->internaldate = (time_t)e->mtime;
        m->name = e->name;
        m->ulen = e->ulen;
        e->name = NULL;
    }
    qsort(v->msgs, v->n, sizeof(*v->msgs), msg_uid_cmp);
}

/* load_locked - the slow path of load: under the uidlist lock, read the
 * list and scan again, drop the entries of gone files, number the new */
static int
load_locked(const char *root, const char *path, bool move, struct scan *s, struct uidlist *ul,
            char *err, size_t errlen)
{
    size_t missing = 0;
    bool changed = false;
    int fd = uidlist_lock(path, UIDLIST_LOCK), rc = -1;

    if (fd < 0) {
        store_err(err, errlen, "%s/%s: %s", path, UIDLIST_LOCK, strerror(errno));
        return -1;
    }
    if (uidlist_load(ul, path) < 0) {
        store_err(err, errlen, "%s/%s: %s", path, UIDLIST_FILE, strerror(errno));
        goto out;
    }
    if (scan_all(path, move, s) < 0)
        goto scan_failed;
    join(s, ul, &missing);
    if (ul->validity != 0 && missing > 0) {
        struct scan s2 = { NULL, 0, 0 };

        if (scan_all(path, move, &s2) < 0)
            goto scan_failed;
        scan_union(&s2, s);
        *s = s2;
        join(s, ul, &missing);
    }
    if (ul->validity == 0) {
        ul->validity = uidlist_new_validity(root);
        ul->next = 1;
        changed = true;
    }
    changed |= uidlist_prune(ul) > 0;
    {
        long added = assign(path, s, ul, err, errlen);

        if (added < 0)
            goto out;
        changed |= added > 0;
    }
    if (changed && uidlist_save(ul, path) < 0) {
        store_err(err, errlen, "%s/%s: %s", path, UIDLIST_FILE, strerror(errno));
        goto out;
    }
    rc = 0;
    goto out;

scan_failed:
    store_err(err, errlen, errno == ENOENT ? "%s: no such folder" : "%s: %s", path,
              strerror(errno));
out:
    {
        int e = errno;

        uidlist_unlock(fd);
        errno = e;
    }
    return rc;
}

/*
 * load - what folder path of root holds now: its messages with their UIDs
 * (numbering new ones), UIDVALIDITY, UIDNEXT and the directory stamps
 * taken before reading. move: new/ goes to cur/. 0, or -1 with errno
 * (ENOENT: the folder is not there) and err.
 */
static int
load(const char *root, const char *path, bool move, struct view *v, char *err, size_t errlen)
{
    struct scan s = { NULL, 0, 0 };
    struct uidlist ul;
    size_t missing = 0;
    int rc = -1;

    memset(v, 0, sizeof(*v));
    uidlist_init(&ul);
    if (stamp(path, &v->stamp_new, &v->stamp_cur, &v->stamp_ok) < 0
        || scan_all(path, move, &s) < 0) {
        store_err(err, errlen, errno == ENOENT ? "%s: no such folder" : "%s: %s", path,
                  strerror(errno));
        goto out;
    }
    if (uidlist_load(&ul, path) < 0) {
        store_err(err, errlen, "%s/%s: %s", path, UIDLIST_FILE, strerror(errno));
        goto out;
    }
    if (ul.validity == 0 || join(&s, &ul, &missing) > 0 || missing > 0) {
        if (load_locked(root, path, move, &s, &ul, err, errlen) < 0)
            goto out;
    }
    build(&s, v);
    v->validity = ul.validity;
    v->next = ul.next;
    rc = 0;
out:
    {
        int e = errno;

        scan_free(&s);
        uidlist_free(&ul);
        errno = e;
    }
    return rc;
}

/* store_recount - see store_priv.h */
void
store_recount(struct store_folder *f)
{
    f->unseen = f->deleted = 0;
    f->total = 0;
    for (size_t i = 0; i < f->count; i++) {
        f->unseen += !(f->msgs[i].flags & STORE_FLAG_SEEN);
        f->deleted += (f->msgs[i].flags & STORE_FLAG_DELETED) != 0;
        f->total += f->msgs[i].size;
    }
}

/* store_open - see store.h */
struct store_folder *
store_open(const char *root, const char *name, bool readonly, char *err, size_t errlen)
{
    struct store_folder *f;
    struct view v;
    char *path = store_path(root, name, err, errlen);

    if (path == NULL)
        return NULL;
    if (store_folder_dir(path, name, store_is_inbox(name), err, errlen) < 0
        || load(root, path, !readonly, &v, err, errlen) < 0) {
        int e = errno;

        free(path);
        errno = e;
        return NULL;
    }
    f = xcalloc(1, sizeof(*f));
    f->root = xstrdup(root);
    f->name = xstrdup(name);
    f->path = path;
    f->readonly = readonly;
    f->uidvalidity = v.validity;
    f->uidnext = v.next;
    f->msgs = v.msgs;
    f->count = v.n;
    f->shown = f->count > 0 ? f->msgs[f->count - 1].uid : 0;
    f->stamp_ok = v.stamp_ok;
    f->stamp_new = v.stamp_new;
    f->stamp_cur = v.stamp_cur;
    store_recount(f);
    return f;
}

/* store_close - see store.h */
void
store_close(struct store_folder *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->count; i++)
        free(f->msgs[i].name);
    free(f->msgs);
    free(f->root);
    free(f->name);
    free(f->path);
    free(f);
}

/* store_changes_free - see store.h */
void
store_changes_free(struct store_changes *ch)
{
    if (ch == NULL)
        return;
    free(ch->expunged);
    free(ch->flagged);
    memset(ch, 0, sizeof(*ch));
}

/* ts_eq - two timestamps the same */
static bool
ts_eq(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* store_sync - see store.h */
int
store_sync(struct store_folder *f, struct store_changes *ch, char *err, size_t errlen)
{
    struct timespec tn, tc;
    struct store_msg *out;
    struct view v;
    size_t i = 0, j = 0, k = 0;
    bool ok;

    memset(ch, 0, sizeof(*ch));
    ch->first_new = f->count;
    if (f->stamp_ok && stamp(f->path, &tn, &tc, &ok) == 0 && ts_eq(&tn, &f->stamp_new)
        && ts_eq(&tc, &f->stamp_cur))
        return 0;       /* neither directory changed since the last look */
    if (load(f->root, f->path, !f->readonly, &v, err, errlen) < 0)
        return -1;
    if (v.validity != f->uidvalidity) {
        view_free(&v);
        store_err(err, errlen, "UIDVALIDITY changed: the uidlist of %s was lost", f->name);
        errno = ESTALE;
        return -1;
    }
    /* Merge the snapshot with what is there now, both by uid. */
    out = xreallocarray(NULL, f->count + v.n + 1, sizeof(*out));
    ch->expunged = xreallocarray(NULL, f->count + 1, sizeof(*ch->expunged));
    ch->flagged = xreallocarray(NULL, f->count + 1, sizeof(*ch->flagged));
    while (i < f->count || j < v.n) {
        if (j == v.n || (i < f->count && f->msgs[i].uid < v.msgs[j].uid)) {
            ch->expunged[ch->nexpunged++] = f->msgs[i].uid;     /* gone */
            free(f->msgs[i++].name);
        } else if (i == f->count || v.msgs[j].uid < f->msgs[i].uid) {
            /* New, with a uid above all the session has seen, so at the
             * end (RFC 9051 2.3.1.1: UIDs ascend with arrival). XXX: a
             * file the snapshot never had yet with a smaller uid cannot be
             * shown without breaking that; it waits for the next SELECT. */
            if (v.msgs[j].uid > f->shown) {
                if (ch->nnew++ == 0)
                    ch->first_new = k;
                out[k++] = v.msgs[j];
            } else {
                free(v.msgs[j].name);
            }
            j++;
        } else {
            struct store_msg *m = &f->msgs[i++], *now = &v.msgs[j++];

            if (m->flags != now->flags)
                ch->flagged[ch->nflagged++] = m->uid;
            m->flags = now->flags;
            free(m->name);
            m->name = now->name;    /* renamed by someone else, maybe */
            m->ulen = now->ulen;
            out[k++] = *m;
        }
    }
    free(f->msgs);
    free(v.msgs);
    f->msgs = out;
    f->count = k;
    if (ch->nnew > 0)
        f->shown = f->msgs[f->count - 1].uid;
    if (v.next > f->uidnext)
        f->uidnext = v.next;
    f->stamp_ok = v.stamp_ok;
    f->stamp_new = v.stamp_new;
    f->stamp_cur = v.stamp_cur;
    if (ch->nnew == 0)
        ch->first_new = f->count;
    store_recount(f);
    return 0;
}

/* store_find - see store.h */
bool
store_find(const struct store_folder *f, uint32_t uid, size_t *index)
{
    size_t lo = 0, hi = f->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (f->msgs[mid].uid == uid) {
            *index = mid;
            return true;
        }
        if (f->msgs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* store_unique - see store.h */
const char *
store_unique(const struct store_folder *f, size_t index, size_t *len)
{
    if (index >= f->count)
        return NULL;
    *len = f->msgs[index].ulen;
    return f->msgs[index].name + 4;
}
