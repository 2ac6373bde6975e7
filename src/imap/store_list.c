/*
 * store_list - the folders of a Maildir++ root and its subscriptions;
 * see store.h.
 *
 * Root-level changes (create, delete, rename, subscriptions) take the
 * flock() of root/postino.lock, so two sessions of one user never
 * interleave them. Folder operations never hold it while they take a
 * folder's uidlist lock (the uidlist takes the root lock inside its own
 * for a new UIDVALIDITY), so there is one lock order and no deadlock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

/* util: no mail knowledge */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/store.h"
#include "imap/store_priv.h"
#include "imap/uidlist.h"

#define SUBS_FILE "subscriptions"
#define SUBS_MAX  ((size_t)1 << 20)
#define NAME_MAX_LEN 200

/* The special-use folders of RFC 6154, created at first login. */
static const struct {
    const char *name, *attr;
} specials[] = {
    { "Sent", "\\Sent" },
    { "Drafts", "\\Drafts" },
    { "Trash", "\\Trash" },
    { "Junk", "\\Junk" },
    { "Archive", "\\Archive" },
};

/* store_err - see store_priv.h */
void
store_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    int e = errno;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    errno = e;
}

/* store_is_inbox - see store.h */
bool
store_is_inbox(const char *name)
{
    return strcasecmp(name, "INBOX") == 0;
}

/* store_name_ok - see store.h */
bool
store_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (store_is_inbox(name))
        return true;
    if (n == 0 || n > NAME_MAX_LEN || name[0] == '.' || name[n - 1] == '.'
        || strstr(name, "..") != NULL || strncasecmp(name, "INBOX.", 6) == 0)
        return false;
    for (const char *p = name; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '/')
            return false;
    return true;
}

/* store_special_use - see store.h */
const char *
store_special_use(const char *name)
{
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
        if (strcmp(name, specials[i].name) == 0)
            return specials[i].attr;
    return NULL;
}

/* store_path - see store_priv.h */
char *
store_path(const char *root, const char *name, char *err, size_t errlen)
{
    if (!store_name_ok(name)) {
        errno = EINVAL;
        store_err(err, errlen, "invalid folder name");
        return NULL;
    }
    if (store_is_inbox(name))
        return xstrdup(root);
    return xasprintf("%s/.%s", root, name);
}

/* mkdir_in - mkdir path/sub, an existing one being fine; 0 or -1 */
static int
mkdir_in(const char *path, const char *sub)
{
    char *dir = xasprintf("%s/%s", path, sub);
    int rc = mkdir(dir, 0700) < 0 && errno != EEXIST ? -1 : 0;
    int e = errno;

    free(dir);
    errno = e;
    return rc;
}

/* is_dir - whether path/sub is a directory (following no last link) */
static bool
is_dir(const char *path, const char *sub)
{
    char *dir = xasprintf("%s/%s", path, sub);
    struct stat st;
    bool ok = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode);

    free(dir);
    return ok;
}

/* store_folder_dir - see store_priv.h */
int
store_folder_dir(const char *path, const char *name, bool inbox, char *err, size_t errlen)
{
    if (inbox) {
        if (mkdir_p(path, 0700) < 0 || mkdir_in(path, "cur") < 0 || mkdir_in(path, "new") < 0
            || mkdir_in(path, "tmp") < 0) {
            store_err(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!is_dir(path, "cur")) {
        errno = ENOENT;
        store_err(err, errlen, "no such folder: %s", name);
        return -1;
    }
    (void)mkdir_in(path, "new");    /* a folder some other program made */
    (void)mkdir_in(path, "tmp");
    return 0;
}

/* rm_one - nftw callback of remove_tree */
static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if ((type == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT)
        return -1;
    return 0;
}

/* remove_tree - remove path and all below it, following no link */
static int
remove_tree(const char *path)
{
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* root_lock - create root if needed and take its lock; fd or -1 */
static int
root_lock(const char *root, char *err, size_t errlen)
{
    int fd;

    if (mkdir_p(root, 0700) < 0 || (fd = uidlist_lock(root, STORE_ROOT_LOCK)) < 0) {
        store_err(err, errlen, "%s: %s", root, strerror(errno));
        return -1;
    }
    return fd;
}

/* unlock_keep - release the root lock keeping errno; returns rc */
static int
unlock_keep(int fd, int rc)
{
    int e = errno;

    uidlist_unlock(fd);
    errno = e;
    return rc;
}

/* ---- create, delete, rename --------------------------------------------- */

/* create_locked - store_create with the root lock held */
static int
create_locked(const char *root, const char *name, char *err, size_t errlen)
{
    char *path = xasprintf("%s/.%s", root, name), *file;
    bool made = false;
    int fd, e;

    if (mkdir(path, 0700) == 0) {
        made = true;
    } else if (errno != EEXIST) {
        goto fail;
    } else if (is_dir(path, "cur")) {
        errno = EEXIST;
        store_err(err, errlen, "folder already exists: %s", name);
        free(path);
        return -1;
    }
    /* cur/ last: a folder is listed once it has cur/, so never half made */
    file = xasprintf("%s/maildirfolder", path);
    fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    free(file);
    if (fd < 0 || mkdir_in(path, "tmp") < 0 || mkdir_in(path, "new") < 0
        || mkdir_in(path, "cur") < 0 || fsync_path(path) < 0 || fsync_path(root) < 0) {
        e = errno;
        if (fd >= 0)
            close(fd);
        errno = e;
        goto fail;
    }
    close(fd);
    free(path);
    return 0;

fail:
    e = errno;
    store_err(err, errlen, "%s: %s", path, strerror(e));
    if (made)
        (void)remove_tree(path);
    free(path);
    errno = e;
    return -1;
}

/* store_create - see store.h */
int
store_create(const char *root, const char *name, char *err, size_t errlen)
{
    int fd;

    if (!store_name_ok(name)) {
        errno = EINVAL;
        store_err(err, errlen, "invalid folder name");
        return -1;
    }
    if (store_is_inbox(name)) {
        errno = EEXIST;
        store_err(err, errlen, "INBOX already exists");
        return -1;
    }
    if ((fd = root_lock(root, err, errlen)) < 0)
        return -1;
    return unlock_keep(fd, create_locked(root, name, err, errlen));
}

/* store_delete - see store.h */
int
store_delete(const char *root, const char *name, char *err, size_t errlen)
{
    static unsigned long counter;
    char *path, *trash;
    int fd, e;

    if (!store_name_ok(name)) {
        errno = EINVAL;
        store_err(err, errlen, "invalid folder name");
        return -1;
    }
    if (store_is_inbox(name)) {     /* RFC 9051 6.3.5 */
        errno = EPERM;
        store_err(err, errlen, "INBOX cannot be deleted");
        return -1;
    }
    if ((fd = root_lock(root, err, errlen)) < 0)
        return -1;
    path = xasprintf("%s/.%s", root, name);
    if (!is_dir(path, "cur")) {
        free(path);
        errno = ENOENT;
        store_err(err, errlen, "no such folder: %s", name);
        return unlock_keep(fd, -1);
    }
    /* Out of sight first (no leading "." so it is no folder), then away:
     * a delivery or session inside it fails cleanly instead of writing
     * into a half-removed tree. */
    trash = xasprintf("%s/postino-deleted.%ld.%lu.%lld", root, (long)getpid(),
                      __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED), (long long)time(NULL));
    if (store_rename_noreplace(path, trash) < 0) {
        e = errno;
        store_err(err, errlen, "%s: %s", path, strerror(e));
        free(path);
        free(trash);
        errno = e;
        return unlock_keep(fd, -1);
    }
    (void)fsync_path(root);
    uidlist_unlock(fd);
    /* XXX: what cannot be removed stays in root/postino-deleted.*, out of
     * every listing; the folder is deleted all the same. */
    (void)remove_tree(trash);
    free(path);
    free(trash);
    return 0;
}

/* One directory rename of store_rename. */
struct move {
    char *from, *to;
};

/* rename_inbox - RFC 9051 6.3.6: create to and move all of INBOX there */
static int
rename_inbox(const char *root, const char *to, char *err, size_t errlen)
{
    struct store_folder *f;
    uint32_t validity, *uids = NULL, *gone = NULL;
    size_t *idx, ngone = 0;
    int rc, e;

    if (store_create(root, to, err, errlen) < 0)
        return -1;
    if ((f = store_open(root, "INBOX", false, err, errlen)) == NULL) {
        e = errno;
        (void)store_delete(root, to, NULL, 0);
        errno = e;
        return -1;
    }
    idx = xreallocarray(NULL, f->count ? f->count : 1, sizeof(*idx));
    for (size_t i = 0; i < f->count; i++)
        idx[i] = i;
    rc = store_move(f, idx, f->count, root, to, &validity, &uids, &gone, &ngone, err, errlen);
    e = errno;
    if (rc < 0)
        (void)store_delete(root, to, NULL, 0);
    free(idx);
    free(uids);
    free(gone);
    store_close(f);
    errno = e;
    return rc;
}

/* rename_locked - store_rename of a folder other than INBOX, with the
 * root lock held: the folder and its inferiors, all or none */
static int
rename_locked(const char *root, const char *from, const char *to, char *err, size_t errlen)
{
    size_t flen = strlen(from), n = 0, cap = 8, done = 0;
    struct move *v = xcalloc(cap, sizeof(*v));
    char *path = xasprintf("%s/.%s", root, from);
    struct dirent *de;
    struct stat st;
    DIR *d;
    int rc = -1, e = 0;

    if (!is_dir(path, "cur")) {
        errno = ENOENT;
        store_err(err, errlen, "no such folder: %s", from);
        goto out;
    }
    v[n].from = path;
    v[n++].to = xasprintf("%s/.%s", root, to);
    path = NULL;
    if ((d = opendir(root)) == NULL) {
        store_err(err, errlen, "%s: %s", root, strerror(errno));
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;

        /* inferiors: ".<from>.<rest>" becomes ".<to>.<rest>" */
        if (nm[0] != '.' || strncmp(nm + 1, from, flen) != 0 || nm[1 + flen] != '.')
            continue;
        if (strlen(to) + strlen(nm + 1 + flen) > NAME_MAX_LEN) {
            closedir(d);
            errno = ENAMETOOLONG;
            store_err(err, errlen, "new name too long for an inferior folder");
            goto out;
        }
        if (n == cap) {
            cap *= 2;
            v = xreallocarray(v, cap, sizeof(*v));
        }
        v[n].from = xasprintf("%s/%s", root, nm);
        v[n++].to = xasprintf("%s/.%s%s", root, to, nm + 1 + flen);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        if (lstat(v[i].to, &st) == 0) {
            errno = EEXIST;
            store_err(err, errlen, "folder already exists: %s", strrchr(v[i].to, '/') + 2);
            goto out;
        }
    }
    for (; done < n; done++) {
        if (store_rename_noreplace(v[done].from, v[done].to) < 0) {
            e = errno;
            store_err(err, errlen, "%s: %s", v[done].from, strerror(e));
            while (done-- > 0)
                (void)rename(v[done].to, v[done].from);
            errno = e;
            goto out;
        }
    }
    (void)fsync_path(root);
    rc = 0;
out:
    e = errno;
    for (size_t i = 0; i < n; i++) {
        free(v[i].from);
        free(v[i].to);
    }
    free(v);
    free(path);
    errno = e;
    return rc;
}

/* store_rename - see store.h */
int
store_rename(const char *root, const char *from, const char *to, char *err, size_t errlen)
{
    size_t flen = strlen(from);
    int fd;

    if (!store_name_ok(from) || !store_name_ok(to)) {
        errno = EINVAL;
        store_err(err, errlen, "invalid folder name");
        return -1;
    }
    if (store_is_inbox(to) || strcmp(from, to) == 0) {
        errno = EEXIST;
        store_err(err, errlen, "folder already exists: %s", to);
        return -1;
    }
    if (store_is_inbox(from))
        return rename_inbox(root, to, err, errlen);
    if (strncmp(to, from, flen) == 0 && to[flen] == '.') {
        errno = EINVAL;
        store_err(err, errlen, "cannot rename a folder under itself");
        return -1;
    }
    if ((fd = root_lock(root, err, errlen)) < 0)
        return -1;
    return unlock_keep(fd, rename_locked(root, from, to, err, errlen));
}

/* ---- listing ------------------------------------------------------------ */

/* push_entry - add name to l (copied) unless done already */
static void
push_entry(struct store_list *l, size_t *cap, const char *name, size_t len, bool nonexistent)
{
    struct store_list_entry *e;

    if (l->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        l->v = xreallocarray(l->v, *cap, sizeof(*l->v));
    }
    e = &l->v[l->n++];
    e->name = xstrndup(name, len);
    e->has_children = false;
    e->nonexistent = nonexistent;
    e->special = NULL;
}

/* entry_cmp - INBOX first, then strcmp; a real folder before an
 * implied one of the same name */
static int
entry_cmp(const void *a, const void *b)
{
    const struct store_list_entry *x = a, *y = b;
    bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;
    int c;

    if (xi != yi)
        return xi ? -1 : 1;
    if ((c = strcmp(x->name, y->name)) != 0)
        return c;
    return (int)x->nonexistent - (int)y->nonexistent;
}

/* store_folders - see store.h */
int
store_folders(const char *root, struct store_list *out, char *err, size_t errlen)
{
    struct store_list l = { NULL, 0 };
    size_t cap = 0, k = 0, real;
    struct dirent *de;
    DIR *d;

    memset(out, 0, sizeof(*out));
    push_entry(&l, &cap, "INBOX", 5, false);
    if ((d = opendir(root)) == NULL && errno != ENOENT) {
        store_err(err, errlen, "%s: %s", root, strerror(errno));
        store_list_free(&l);
        return -1;
    }
    while (d != NULL && (de = readdir(d)) != NULL) {
        const char *name = de->d_name + 1;

        if (de->d_name[0] != '.' || !store_name_ok(name) || store_is_inbox(name)
            || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
            continue;
        {
            char *path = xasprintf("%s/%s", root, de->d_name);
            bool ok = is_dir(path, "cur");

            free(path);
            if (ok)
                push_entry(&l, &cap, name, strlen(name), false);
        }
    }
    if (d != NULL)
        closedir(d);
    /* Every level above a folder is a name too ("A" of "A.B"). */
    real = l.n;
    for (size_t i = 1; i < real; i++)
        for (const char *p = strchr(l.v[i].name, '.'); p != NULL; p = strchr(p + 1, '.'))
            push_entry(&l, &cap, l.v[i].name, (size_t)(p - l.v[i].name), true);
    qsort(l.v, l.n, sizeof(*l.v), entry_cmp);
    for (size_t i = 0; i < l.n; i++) {
        if (k > 0 && strcmp(l.v[k - 1].name, l.v[i].name) == 0) {
            free(l.v[i].name);      /* the same name again: implied */
            continue;
        }
        l.v[k++] = l.v[i];
    }
    l.n = k;
    /* Children of v[i] sort right after "v[i]." in strcmp order: find the
     * first name not below "v[i]." and see whether it starts with it. */
    for (size_t i = 1; i < l.n; i++) {
        size_t len = strlen(l.v[i].name), lo = i + 1, hi = l.n;

        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strncmp(l.v[mid].name, l.v[i].name, len);

            if (c < 0 || (c == 0 && (unsigned char)l.v[mid].name[len] < '.'))
                lo = mid + 1;
            else
                hi = mid;
        }
        l.v[i].has_children = lo < l.n && strncmp(l.v[lo].name, l.v[i].name, len) == 0
                              && l.v[lo].name[len] == '.';
        l.v[i].special = store_special_use(l.v[i].name);
    }
    *out = l;
    return 0;
}

/* store_list_free - see store.h */
void
store_list_free(struct store_list *l)
{
    if (l == NULL)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].name);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* ---- subscriptions ------------------------------------------------------ */

/* store_names_free - see store.h */
void
store_names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* store_subscriptions - see store.h */
int
store_subscriptions(const char *root, char ***names, size_t *n)
{
    char *path = xasprintf("%s/" SUBS_FILE, root), *text = NULL, *p, *nl;
    size_t len = 0, cap = 8;
    bool v2 = false;
    int rc = file_read(path, SUBS_MAX, &text, &len);

    free(path);
    *names = xcalloc(cap, sizeof(**names));
    *n = 0;
    if (rc < 0) {
        if (errno == ENOENT)
            return 0;
        free(*names);
        *names = NULL;
        return -1;
    }
    /* Dovecot's version 2 file starts "V\t2" and separates levels with
     * tabs; ours is plain names, one a line. */
    if (strncmp(text, "V\t2\n", 4) == 0) {
        v2 = true;
        p = text + 4;
    } else {
        p = text;
    }
    for (; p < text + len; p = nl + 1) {
        if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
            nl = text + len;
        if (nl > p && nl[-1] == '\r')
            nl[-1] = '\0';
        *nl = '\0';
        if (v2)
            for (char *t = p; *t != '\0'; t++)
                if (*t == '\t')
                    *t = '.';
        if (*p == '\0' || !store_name_ok(p))
            continue;
        {
            bool dup = false;

            for (size_t i = 0; i < *n && !dup; i++)
                dup = strcmp((*names)[i], p) == 0;
            if (dup)
                continue;
        }
        if (*n == cap) {
            cap *= 2;
            *names = xreallocarray(*names, cap, sizeof(**names));
        }
        (*names)[(*n)++] = xstrdup(p);
    }
    free(text);
    return 0;
}

/* store_subscribe - see store.h */
int
store_subscribe(const char *root, const char *name, bool on, char *err, size_t errlen)
{
    char **names = NULL, *path;
    size_t n = 0, at = SIZE_MAX;
    int fd, rc = 0;

    if (!store_name_ok(name)) {
        errno = EINVAL;
        store_err(err, errlen, "invalid folder name");
        return -1;
    }
    if ((fd = root_lock(root, err, errlen)) < 0)
        return -1;
    if (store_subscriptions(root, &names, &n) < 0) {
        store_err(err, errlen, "%s/" SUBS_FILE ": %s", root, strerror(errno));
        return unlock_keep(fd, -1);
    }
    for (size_t i = 0; i < n && at == SIZE_MAX; i++)
        if (strcmp(names[i], name) == 0)
            at = i;
    if (on != (at == SIZE_MAX)) {       /* already as asked */
        store_names_free(names, n);
        uidlist_unlock(fd);
        return 0;
    }
    {
        struct buf b = BUF_INIT;

        for (size_t i = 0; i < n; i++)
            if (i != at)
                buf_printf(&b, "%s\n", names[i]);
        if (on)
            buf_printf(&b, "%s\n", name);
        path = xasprintf("%s/" SUBS_FILE, root);
        if (file_replace(path, b.data != NULL ? b.data : "", b.len, 0600) < 0) {
            store_err(err, errlen, "%s: %s", path, strerror(errno));
            rc = -1;
        }
        free(path);
        buf_free(&b);
    }
    store_names_free(names, n);
    return unlock_keep(fd, rc);
}

/* store_ensure_special - see store.h */
int
store_ensure_special(const char *root, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
        if (store_create(root, specials[i].name, err, errlen) == 0) {
            if (store_subscribe(root, specials[i].name, true, err, errlen) < 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
    }
    return 0;
}
