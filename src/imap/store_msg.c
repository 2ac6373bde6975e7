/*
 * store_msg - one message of an open folder: flags, read, expunge; and
 * STATUS. See store.h.
 *
 * A snapshot's file name may be stale: another session, mutt or Dovecot
 * renames a file when its flags change. Each operation tries the name it
 * has, and on ENOENT looks the unique part up again in cur/ and new/
 * before calling the message gone.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* util: no mail knowledge */
#include "util/fsutil.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/store.h"
#include "imap/store_priv.h"
#include "imap/uidlist.h"

/* store_find_unique - see store_priv.h */
char *
store_find_unique(const char *path, const char *u, size_t ulen)
{
    static const char *const subs[] = { "cur", "new" };
    char *found = NULL;

    for (size_t i = 0; i < 2 && found == NULL; i++) {
        char *dir = xasprintf("%s/%s", path, subs[i]);
        DIR *d = opendir(dir);
        struct dirent *de;

        free(dir);
        if (d == NULL)
            continue;
        while (found == NULL && (de = readdir(d)) != NULL)
            if (strncmp(de->d_name, u, ulen) == 0
                && (de->d_name[ulen] == ':' || de->d_name[ulen] == '\0'))
                found = xasprintf("%s/%s", subs[i], de->d_name);
        closedir(d);
    }
    if (found == NULL)
        errno = ENOENT;
    return found;
}

/*
 * change_flags - the flags of message index become (old | add) & ~remove,
 * old being the letters of its file as it is on disk now: when another
 * session or program renamed it since the snapshot, its current letters
 * count, so no change made there is lost (RFC 9051 6.4.6).
 */
static int
change_flags(struct store_folder *f, size_t index, unsigned add, unsigned remove, char *err,
             size_t errlen)
{
    struct store_msg *m;
    char *to, *from, *cur = NULL;
    unsigned flags;
    int rc;

    if (f->readonly || index >= f->count) {
        errno = f->readonly ? EROFS : ERANGE;
        store_err(err, errlen, f->readonly ? "folder is read-only" : "no such message");
        return -1;
    }
    m = &f->msgs[index];
    add &= STORE_FLAGS_ALL;
    remove &= STORE_FLAGS_ALL;
    flags = (m->flags | add) & ~remove;
    to = store_make_name(m->name, m->ulen, flags, true);
    if (strcmp(to, m->name) == 0) {
        free(to);
        m->flags = flags;
        store_recount(f);
        return 0;
    }
    from = xasprintf("%s/%s", f->path, m->name);
    {
        char *dst = xasprintf("%s/%s", f->path, to);

        rc = rename(from, dst);
        free(dst);
    }
    if (rc < 0 && errno == ENOENT
        && (cur = store_find_unique(f->path, m->name + 4, m->ulen)) != NULL) {
        /* renamed by another session: its letters now, other ones kept */
        free(to);
        free(from);
        flags = (store_name_flags(cur, m->ulen) | add) & ~remove;
        to = store_make_name(cur, m->ulen, flags, true);
        from = xasprintf("%s/%s", f->path, cur);
        if (strcmp(cur, to) == 0) {
            rc = 0;
        } else {
            char *dst = xasprintf("%s/%s", f->path, to);

            rc = rename(from, dst);
            free(dst);
        }
        free(cur);
    }
    if (rc < 0) {
        int e = errno;

        store_err(err, errlen, e == ENOENT ? "message expunged by another session" : "%s: %s",
                  from, strerror(e));
        free(from);
        free(to);
        errno = e;
        return -1;
    }
    free(from);
    free(m->name);
    m->name = to;
    m->flags = flags;
    store_recount(f);
    return 0;
}

int
store_set_flags(struct store_folder *f, size_t index, unsigned flags, char *err, size_t errlen)
{
    return change_flags(f, index, flags, ~flags, err, errlen);
}

int
store_change_flags(struct store_folder *f, size_t index, unsigned add, unsigned remove,
                   char *err, size_t errlen)
{
    return change_flags(f, index, add, remove, err, errlen);
}

/* store_read - see store.h */
int
store_read(struct store_folder *f, size_t index, char **data, size_t *len)
{
    struct store_msg *m;
    char *path, *cur;
    int rc;

    if (index >= f->count) {
        errno = ERANGE;
        return -1;
    }
    m = &f->msgs[index];
    path = xasprintf("%s/%s", f->path, m->name);
    rc = file_read(path, STORE_READ_MAX, data, len);
    free(path);
    if (rc == 0 || errno != ENOENT)
        return rc;
    if ((cur = store_find_unique(f->path, m->name + 4, m->ulen)) == NULL) {
        errno = ENOENT;
        return -1;
    }
    /* Only the name: the flags change reaches the session by store_sync. */
    free(m->name);
    m->name = cur;
    path = xasprintf("%s/%s", f->path, m->name);
    rc = file_read(path, STORE_READ_MAX, data, len);
    free(path);
    return rc;
}

/* uid_cmp - qsort/bsearch order of uint32_t */
static int
uid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* store_forget - see store_priv.h */
void
store_forget(struct store_folder *f, const bool *drop, uint32_t **uids, size_t *n)
{
    size_t k = 0;
    int fd;

    *uids = xreallocarray(NULL, f->count + 1, sizeof(**uids));
    *n = 0;
    for (size_t i = 0; i < f->count; i++) {
        if (drop[i]) {
            (*uids)[(*n)++] = f->msgs[i].uid;
            free(f->msgs[i].name);
            continue;
        }
        f->msgs[k++] = f->msgs[i];
    }
    f->count = k;
    store_recount(f);
    if (*n == 0 || (fd = uidlist_lock(f->path, UIDLIST_LOCK)) < 0)
        return;
    {
        struct uidlist ul;

        uidlist_init(&ul);
        if (uidlist_load(&ul, f->path) == 0 && ul.validity == f->uidvalidity
            && uidlist_remove_uids(&ul, *uids, *n) > 0)
            (void)uidlist_save(&ul, f->path);
        uidlist_free(&ul);
    }
    uidlist_unlock(fd);
}

/* store_expunge - see store.h */
int
store_expunge(struct store_folder *f, const uint32_t *uids, size_t nuids, uint32_t **expunged,
              size_t *n, char *err, size_t errlen)
{
    uint32_t *want = NULL;
    bool *drop;
    int fail = 0;

    *expunged = NULL;
    *n = 0;
    if (f->readonly) {
        errno = EROFS;
        store_err(err, errlen, "folder is read-only");
        return -1;
    }
    if (uids != NULL) {
        want = xreallocarray(NULL, nuids ? nuids : 1, sizeof(*want));
        if (nuids > 0)
            memcpy(want, uids, nuids * sizeof(*want));
        qsort(want, nuids, sizeof(*want), uid_cmp);
    }
    drop = xcalloc(f->count ? f->count : 1, sizeof(*drop));
    for (size_t i = 0; i < f->count; i++) {
        struct store_msg *m = &f->msgs[i];
        char *path, *cur;

        if (!(m->flags & STORE_FLAG_DELETED)
            || (want != NULL && bsearch(&m->uid, want, nuids, sizeof(*want), uid_cmp) == NULL))
            continue;
        path = xasprintf("%s/%s", f->path, m->name);
        if (unlink(path) == 0) {
            drop[i] = true;
        } else if (errno != ENOENT) {
            if (!fail)
                store_err(err, errlen, "%s: %s", path, strerror(errno));
            fail = fail ? fail : errno;
        } else if ((cur = store_find_unique(f->path, m->name + 4, m->ulen)) == NULL) {
            drop[i] = true;     /* gone already */
        } else {
            /* renamed meanwhile: expunge it only if still \Deleted */
            if (store_name_flags(cur, m->ulen) & STORE_FLAG_DELETED) {
                free(path);
                path = xasprintf("%s/%s", f->path, cur);
                if (unlink(path) == 0 || errno == ENOENT) {
                    drop[i] = true;
                } else {
                    if (!fail)
                        store_err(err, errlen, "%s: %s", path, strerror(errno));
                    fail = fail ? fail : errno;
                }
            }
            free(cur);
        }
        free(path);
    }
    store_forget(f, drop, expunged, n);
    free(drop);
    free(want);
    if (fail) {
        errno = fail;
        return -1;
    }
    return 0;
}

/* store_status - see store.h */
int
store_status(const char *root, const char *name, struct store_status *st, char *err,
             size_t errlen)
{
    struct store_folder *f = store_open(root, name, true, err, errlen);

    memset(st, 0, sizeof(*st));
    if (f == NULL)
        return -1;
    st->messages = f->count > UINT32_MAX ? UINT32_MAX : (uint32_t)f->count;
    st->uidnext = f->uidnext;
    st->uidvalidity = f->uidvalidity;
    st->unseen = (uint32_t)f->unseen;
    st->deleted = (uint32_t)f->deleted;
    st->size = f->total;
    store_close(f);
    return 0;
}
