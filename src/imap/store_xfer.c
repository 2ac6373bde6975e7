/*
 * store_xfer - messages into a folder: copy, move (RFC 6851), append;
 * see store.h.
 *
 * A new message is written (or linked) into tmp/ and renamed into cur/
 * under a fresh unique name, with the destination's uidlist lock held
 * from that rename to the uidlist write, so that no other session numbers
 * it first and COPYUID/APPENDUID (RFC 4315) report what the uidlist says.
 * cur/ is fsync()ed before the caller may answer OK, as delivery does.
 * On failure every message placed so far is taken back: nothing is
 * half-copied (RFC 9051 6.4.7).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>

/* util: no mail knowledge */
#include "util/fsutil.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/store.h"
#include "imap/store_priv.h"
#include "imap/uidlist.h"

/* host_part - the host name for unique names, with "/" and ":" written
 * \057 and \072 as maildir(5) asks */
static void
host_part(char *out, size_t outlen)
{
    char host[256];
    size_t k = 0;

    if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0')
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    for (const char *p = host; *p != '\0' && k + 5 < outlen; p++) {
        if (*p == '/' || *p == ':')
            k += (size_t)snprintf(out + k, outlen - k, "\\%03o", (unsigned char)*p);
        else if ((unsigned char)*p > ' ' && *p != 127)
            out[k++] = *p;
    }
    out[k] = '\0';
}

/* new_unique - a fresh unique name "SEC.MUSECPpidIn.host". "I", not
 * local delivery's "Q", so that the two counters never make one name. */
static char *
new_unique(const char *host)
{
    static unsigned long counter;
    unsigned long q = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return xasprintf("%lld.M%06ldP%ldI%lu.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
                     (long)getpid(), q, host);
}

/* copy_bytes - copy the file from into a new file to with mtime, durably;
 * 0 or -1 (errno), to removed on failure */
static int
copy_bytes(const char *from, const char *to, time_t mtime)
{
    char chunk[65536];
    struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), out, e = 0;
    ssize_t r;

    if (in < 0)
        return -1;
    if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0) {
        e = errno;
        close(in);
        errno = e;
        return -1;
    }
    while ((r = read(in, chunk, sizeof(chunk))) != 0) {
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || write_all(out, chunk, (size_t)r) < 0) {
            e = errno;
            break;
        }
    }
    if (!e && (futimens(out, ts) < 0 || fsync(out) < 0))
        e = errno;
    if (close(out) < 0 && !e)
        e = errno;
    close(in);
    if (e) {
        unlink(to);
        errno = e;
        return -1;
    }
    return 0;
}

/* One message of a copy or move. */
struct xfer {
    const struct store_msg *m;
    char *src;          /* the source file, full path, as last found */
    char *uniq;         /* its unique name in the destination */
    char *dst;          /* its file in the destination, full path */
    bool  renamed;      /* moved by rename(): roll back by renaming back */
    bool  placed;       /* in the destination's cur/ */
};

/* xfer_src_again - find the source file of x again after ENOENT; false
 * when it is gone */
static bool
xfer_src_again(const struct store_folder *src, struct xfer *x)
{
    char *cur = store_find_unique(src->path, x->m->name + 4, x->m->ulen);

    if (cur == NULL)
        return false;
    free(x->src);
    x->src = xasprintf("%s/%s", src->path, cur);
    free(cur);
    return true;
}

/*
 * xfer_one - place x in the destination folder dpath: move (rename, or
 * copy across file systems) or copy (link into tmp/, or copy bytes), then
 * into cur/. 0, or -1 with errno (ESTALE: the source is gone).
 */
static int
xfer_one(const struct store_folder *src, struct xfer *x, const char *dpath, const char *host,
         bool move)
{
    for (int tries = 0; tries < 5; tries++) {
        char *tmp, *rel, *name;
        int rc, e;

        free(x->uniq);
        free(x->dst);
        x->uniq = new_unique(host);
        rel = xasprintf("new/%s", x->uniq);     /* make_name reads name + 4 */
        name = store_make_name(rel, strlen(x->uniq), x->m->flags, false);
        x->dst = xasprintf("%s/%s", dpath, name);
        free(name);
        free(rel);
        tmp = xasprintf("%s/tmp/%s", dpath, x->uniq);
        if (move) {
            rc = store_rename_noreplace(x->src, x->dst);
            if (rc < 0 && errno == ENOENT) {
                if (!xfer_src_again(src, x)) {
                    free(tmp);
                    errno = ESTALE;
                    return -1;
                }
                rc = store_rename_noreplace(x->src, x->dst);
            }
            if (rc == 0) {
                free(tmp);
                x->renamed = x->placed = true;
                return 0;
            }
            if (errno == EXDEV)     /* another file system: copy, unlink later */
                rc = copy_bytes(x->src, tmp, x->m->internaldate);
        } else {
            rc = link(x->src, tmp);
            if (rc < 0 && errno == ENOENT) {
                if (!xfer_src_again(src, x)) {
                    free(tmp);
                    errno = ESTALE;
                    return -1;
                }
                rc = link(x->src, tmp);
            }
            if (rc < 0 && errno != EEXIST && errno != ENOENT)   /* EXDEV, EPERM, EMLINK */
                rc = copy_bytes(x->src, tmp, x->m->internaldate);
        }
        if (rc == 0 && (rc = store_rename_noreplace(tmp, x->dst)) < 0) {
            e = errno;
            unlink(tmp);
            errno = e;
        }
        e = errno;
        free(tmp);
        if (rc == 0) {
            x->placed = true;
            return 0;
        }
        if (e != EEXIST) {      /* EEXIST: that name is taken, try another */
            errno = e == ENOENT ? ESTALE : e;
            return -1;
        }
    }
    errno = EEXIST;
    return -1;
}

/* xfer_undo - take back the placed messages of v[0..n) */
static void
xfer_undo(struct xfer *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!v[i].placed)
            continue;
        /* XXX: a move that cannot be renamed back leaves the message in
         * the destination, where it gets a UID at the next open: kept,
         * never lost. */
        if (v[i].renamed)
            (void)store_rename_noreplace(v[i].dst, v[i].src);
        else
            unlink(v[i].dst);
        v[i].placed = false;
    }
}

/* xfer_free - release v[0..n) */
static void
xfer_free(struct xfer *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].src);
        free(v[i].uniq);
        free(v[i].dst);
    }
    free(v);
}

/* fsync_sub - fsync path/sub (a folder's cur/); 0 or -1 */
static int
fsync_sub(const char *path, const char *sub)
{
    char *dir = xasprintf("%s/%s", path, sub);
    int rc = fsync_path(dir);

    free(dir);
    return rc;
}

/*
 * number - under the destination's lock, give the placed files of
 * v[0..n) UIDs in order and write the uidlist; uids[k] for v[k]. 0, or
 * -1 with errno and err.
 */
static int
number(const char *droot, const char *dpath, struct xfer *v, size_t n, const uint64_t *sizes,
       const int64_t *mtimes, uint32_t *validity, uint32_t *uids, char *err, size_t errlen)
{
    struct uidlist ul;
    int rc = -1;

    uidlist_init(&ul);
    if (uidlist_load(&ul, dpath) < 0)
        goto io;
    if (ul.validity == 0) {
        ul.validity = uidlist_new_validity(droot);
        ul.next = 1;
    }
    for (size_t k = 0; k < n; k++) {
        if ((uids[k] = uidlist_add(&ul, v[k].uniq, strlen(v[k].uniq), sizes[k], mtimes[k])) == 0) {
            store_err(err, errlen, "UIDs used up in the destination");
            goto out;
        }
    }
    if (uidlist_save(&ul, dpath) < 0)
        goto io;
    *validity = ul.validity;
    rc = 0;
    goto out;
io:
    store_err(err, errlen, "%s/%s: %s", dpath, UIDLIST_FILE, strerror(errno));
out:
    {
        int e = errno;

        uidlist_free(&ul);
        errno = e;
    }
    return rc;
}

/* transfer - store_copy (move false) and store_move */
static int
transfer(struct store_folder *src, const size_t *idx, size_t n, const char *droot,
         const char *dname, bool move, uint32_t *validity, uint32_t **uids, uint32_t **expunged,
         size_t *nexpunged, char *err, size_t errlen)
{
    char host[1024], *dpath;
    struct xfer *v;
    uint64_t *sizes;
    int64_t *mtimes;
    bool *drop;
    int fd, e;

    *uids = NULL;
    *validity = 0;
    if (expunged != NULL) {
        *expunged = NULL;
        *nexpunged = 0;
    }
    if (move && src->readonly) {
        errno = EROFS;
        store_err(err, errlen, "folder is read-only");
        return -1;
    }
    drop = xcalloc(src->count ? src->count : 1, sizeof(*drop));
    for (size_t k = 0; k < n; k++) {
        if (idx[k] >= src->count || (move && drop[idx[k]])) {
            free(drop);
            errno = idx[k] >= src->count ? ERANGE : EINVAL;
            store_err(err, errlen, "bad message index");
            return -1;
        }
        drop[idx[k]] = true;
    }
    if ((dpath = store_path(droot, dname, err, errlen)) == NULL
        || store_folder_dir(dpath, dname, store_is_inbox(dname), err, errlen) < 0) {
        e = errno;
        free(dpath);
        free(drop);
        errno = e;
        return -1;
    }
    if (n == 0) {
        free(dpath);
        free(drop);
        return 0;
    }
    host_part(host, sizeof(host));
    v = xcalloc(n, sizeof(*v));
    sizes = xreallocarray(NULL, n, sizeof(*sizes));
    mtimes = xreallocarray(NULL, n, sizeof(*mtimes));
    *uids = xreallocarray(NULL, n, sizeof(**uids));
    for (size_t k = 0; k < n; k++) {
        v[k].m = &src->msgs[idx[k]];
        v[k].src = xasprintf("%s/%s", src->path, v[k].m->name);
        sizes[k] = v[k].m->size;
        mtimes[k] = (int64_t)v[k].m->internaldate;
    }

    /* Hold the destination's lock from the first rename into cur/ to the
     * uidlist write, so no other session numbers these files first. */
    if ((fd = uidlist_lock(dpath, UIDLIST_LOCK)) < 0) {
        e = errno;
        store_err(err, errlen, "%s/%s: %s", dpath, UIDLIST_LOCK, strerror(e));
        goto fail;
    }
    for (size_t k = 0; k < n; k++) {
        if (xfer_one(src, &v[k], dpath, host, move) < 0) {
            e = errno;
            store_err(err, errlen, e == ESTALE ? "message expunged by another session" : "%s: %s",
                      v[k].src, strerror(e));
            xfer_undo(v, k);
            uidlist_unlock(fd);
            goto fail;
        }
    }
    /* Durable before the tagged OK, as delivery does. */
    if (fsync_sub(dpath, "cur") < 0) {
        e = errno;
        store_err(err, errlen, "%s/cur: %s", dpath, strerror(e));
        xfer_undo(v, n);
        uidlist_unlock(fd);
        goto fail;
    }
    if (number(droot, dpath, v, n, sizes, mtimes, validity, *uids, err, errlen) < 0) {
        e = errno;
        xfer_undo(v, n);
        uidlist_unlock(fd);
        goto fail;
    }
    uidlist_unlock(fd);
    if (move) {
        /* The sources that were copied, not renamed, go now; then the
         * snapshot and uidlist of src forget them all (RFC 6851 3.3). */
        for (size_t k = 0; k < n; k++)
            if (!v[k].renamed)
                unlink(v[k].src);
        (void)fsync_sub(src->path, "cur");
        store_forget(src, drop, expunged, nexpunged);
    }
    xfer_free(v, n);
    free(sizes);
    free(mtimes);
    free(drop);
    free(dpath);
    return 0;

fail:
    xfer_free(v, n);
    free(sizes);
    free(mtimes);
    free(drop);
    free(dpath);
    free(*uids);
    *uids = NULL;
    errno = e;
    return -1;
}

/* store_copy - see store.h */
int
store_copy(struct store_folder *src, const size_t *idx, size_t n, const char *dst_root,
           const char *dst_name, uint32_t *uidvalidity, uint32_t **uids, char *err,
           size_t errlen)
{
    return transfer(src, idx, n, dst_root, dst_name, false, uidvalidity, uids, NULL, NULL, err,
                    errlen);
}

/* store_move - see store.h */
int
store_move(struct store_folder *src, const size_t *idx, size_t n, const char *dst_root,
           const char *dst_name, uint32_t *uidvalidity, uint32_t **uids, uint32_t **expunged,
           size_t *nexpunged, char *err, size_t errlen)
{
    return transfer(src, idx, n, dst_root, dst_name, true, uidvalidity, uids, expunged,
                    nexpunged, err, errlen);
}

/* write_tmp - write data into a new file path/tmp/<unique>, fsync()ed,
 * with mtime internaldate (0: now). Returns the unique name (new) and
 * *mtime, or NULL with errno and err. */
static char *
write_tmp(const char *path, const char *host, const char *data, size_t len,
          time_t internaldate, int64_t *mtime, char *err, size_t errlen)
{
    struct timespec ts[2] = { { internaldate, 0 }, { internaldate, 0 } };
    struct stat st;

    for (int tries = 0; tries < 5; tries++) {
        char *uniq = new_unique(host), *tmp = xasprintf("%s/tmp/%s", path, uniq);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600), e = 0;

        if (fd < 0 && errno == EEXIST) {
            free(uniq);
            free(tmp);
            continue;
        }
        if (fd < 0 || write_all(fd, data, len) < 0
            || (internaldate != 0 && futimens(fd, ts) < 0) || fsync(fd) < 0
            || fstat(fd, &st) < 0)
            e = errno;
        if (fd >= 0 && close(fd) < 0 && !e)
            e = errno;
        if (e) {
            store_err(err, errlen, "%s: %s", tmp, strerror(e));
            if (fd >= 0)
                unlink(tmp);
            free(uniq);
            free(tmp);
            errno = e;
            return NULL;
        }
        free(tmp);
        *mtime = (int64_t)st.st_mtim.tv_sec;
        return uniq;
    }
    store_err(err, errlen, "%s/tmp: no free unique name", path);
    errno = EEXIST;
    return NULL;
}

/* store_append - see store.h */
int
store_append(const char *root, const char *name, const char *data, size_t len, unsigned flags,
             time_t internaldate, uint32_t *uidvalidity, uint32_t *uid, char *err,
             size_t errlen)
{
    char host[1024], *path, *uniq, *rel, *tmp, *dst;
    struct xfer x;
    uint64_t size = store_crlf_size(data, len);
    int64_t mtime = 0;
    int fd, rc = -1, e;

    *uidvalidity = 0;
    *uid = 0;
    if ((path = store_path(root, name, err, errlen)) == NULL)
        return -1;
    if (store_folder_dir(path, name, store_is_inbox(name), err, errlen) < 0) {
        e = errno;
        free(path);
        errno = e;
        return -1;
    }
    host_part(host, sizeof(host));
    if ((uniq = write_tmp(path, host, data, len, internaldate, &mtime, err, errlen)) == NULL) {
        e = errno;
        free(path);
        errno = e;
        return -1;
    }
    tmp = xasprintf("%s/tmp/%s", path, uniq);
    rel = xasprintf("new/%s", uniq);
    {
        char *nm = store_make_name(rel, strlen(uniq), flags & STORE_FLAGS_ALL, false);

        dst = xasprintf("%s/%s", path, nm);
        free(nm);
    }
    memset(&x, 0, sizeof(x));
    x.uniq = uniq;
    e = 0;
    if ((fd = uidlist_lock(path, UIDLIST_LOCK)) < 0) {
        e = errno;
        store_err(err, errlen, "%s/%s: %s", path, UIDLIST_LOCK, strerror(e));
        unlink(tmp);
    } else {
        /* the lock held from the rename to the uidlist write: the uid
         * reported is the one the uidlist gives this file */
        if (store_rename_noreplace(tmp, dst) < 0) {
            e = errno;
            store_err(err, errlen, "%s: %s", dst, strerror(e));
            unlink(tmp);
        } else if (fsync_sub(path, "cur") < 0) {
            e = errno;
            store_err(err, errlen, "%s/cur: %s", path, strerror(e));
            unlink(dst);
        } else if (number(root, path, &x, 1, &size, &mtime, uidvalidity, uid, err, errlen) < 0) {
            e = errno;
            unlink(dst);
        } else {
            rc = 0;
        }
        uidlist_unlock(fd);
    }
    free(path);
    free(uniq);
    free(rel);
    free(tmp);
    free(dst);
    if (rc < 0)
        errno = e;
    return rc;
}
