/*
 * maildrop - a Maildir folder as a POP3 drop; see maildrop.h.
 *
 * Maildir names (https://cr.yp.to/proto/maildir.html): new/ holds
 * "<unique>", cur/ holds "<unique>:2,<flags>". The unique part starts
 * with the delivery time in seconds, which gives the POP3 order, and
 * never changes when a client edits the flags, which makes it the UID.
 * Sizes are counted by reading each file at open; nothing is cached on
 * disk (a ",W=" field written by another MDA is not trusted).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

/* util: no mail knowledge */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"
/* pop3 */
#include "pop3/maildrop.h"

/* The largest message maildrop_retr loads into memory. */
#define MAILDROP_FILE_MAX ((size_t)1 << 31)

/* maildrop_size_init - see maildrop.h */
void
maildrop_size_init(struct maildrop_size *s)
{
    s->octets = 0;
    s->cr = false;
    s->open = false;
}

/* maildrop_size_feed - see maildrop.h */
void
maildrop_size_feed(struct maildrop_size *s, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            s->octets += s->cr ? 1 : 2;     /* a bare LF is sent as CRLF */
            s->open = false;
        } else {
            s->octets++;
            s->open = true;
        }
        s->cr = p[i] == '\r';
    }
}

/* maildrop_size_end - see maildrop.h */
uint64_t
maildrop_size_end(const struct maildrop_size *s)
{
    return s->octets + (s->open ? 2 : 0);   /* CRLF closes the last line */
}

/* maildrop_size - see maildrop.h */
uint64_t
maildrop_size(const char *p, size_t n)
{
    struct maildrop_size s;

    maildrop_size_init(&s);
    maildrop_size_feed(&s, p, n);
    return maildrop_size_end(&s);
}

/* maildrop_format - see maildrop.h */
void
maildrop_format(const char *p, size_t n, long top_lines, struct buf *out)
{
    bool header = true;     /* before the first empty line */
    long body = 0;          /* body lines sent so far */
    size_t i = 0;

    while (i < n) {
        const char *lf = memchr(p + i, '\n', n - i);
        size_t end = lf != NULL ? (size_t)(lf - p) : n;
        size_t cend = end;

        if (!header && top_lines >= 0 && body >= top_lines)
            break;
        if (lf != NULL && cend > i && p[cend - 1] == '\r')
            cend--;
        if (p[i] == '.')            /* RFC 1939 3: byte-stuff the dot */
            buf_putc(out, '.');
        buf_append(out, p + i, cend - i);
        buf_append(out, "\r\n", 2);
        if (!header)
            body++;
        else if (cend == i)
            header = false;
        i = lf != NULL ? end + 1 : n;
    }
    buf_append(out, ".\r\n", 3);
}

/* set_err - format a reason into err, when there is room */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* is_regular - whether dir/name is a regular file (not following links) */
static bool
is_regular(const char *dir, const char *name)
{
    struct stat st;
    char *path = xasprintf("%s/%s", dir, name);
    bool ok = lstat(path, &st) == 0 && S_ISREG(st.st_mode);

    free(path);
    return ok;
}

/* move_new - move new/<name> to cur/<name>:2, without replacing
 * anything. A name that already carries an info part keeps it. */
static void
move_new(const char *newdir, const char *curdir, const char *name)
{
    char *from = xasprintf("%s/%s", newdir, name);
    char *to = strchr(name, ':') != NULL ? xasprintf("%s/%s", curdir, name)
                                         : xasprintf("%s/%s:2,", curdir, name);

    /* RENAME_NOREPLACE: a cur/ file with the same name (another reader
     * moved it meanwhile, or a broken MDA) must not be overwritten.
     * Failures leave the message in new/ for a later session. */
    if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) < 0
        && (errno == EINVAL || errno == ENOSYS)) {
        /* XXX: file systems without RENAME_NOREPLACE; link() fails on
         * an existing target, which keeps the no-overwrite promise. */
        if (link(from, to) == 0)
            unlink(from);
    }
    free(from);
    free(to);
}

/* count_file - the POP3 size of path: 0, or -1 with errno */
static int
count_file(const char *path, uint64_t *size)
{
    struct maildrop_size s;
    char chunk[16384];
    ssize_t r;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return -1;
    maildrop_size_init(&s);
    while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
        if (r < 0) {
            int e = errno;

            if (e == EINTR)
                continue;
            close(fd);
            errno = e;
            return -1;
        }
        maildrop_size_feed(&s, chunk, (size_t)r);
    }
    close(fd);
    *size = maildrop_size_end(&s);
    return 0;
}

/* leading_secs - the delivery time at the start of a unique name */
static unsigned long long
leading_secs(const char *uid)
{
    unsigned long long v = 0;

    for (; *uid >= '0' && *uid <= '9'; uid++) {
        if (v > (ULLONG_MAX - 9) / 10)
            return ULLONG_MAX;
        v = v * 10 + (unsigned long long)(*uid - '0');
    }
    return v;
}

/* msg_cmp - qsort order: delivery seconds, then uid, then name */
static int
msg_cmp(const void *a, const void *b)
{
    const struct maildrop_msg *x = a, *y = b;
    unsigned long long sx = leading_secs(x->uid), sy = leading_secs(y->uid);
    int c;

    if (sx != sy)
        return sx < sy ? -1 : 1;
    if ((c = strcmp(x->uid, y->uid)) != 0)
        return c;
    return strcmp(x->name, y->name);
}

/* maildrop_open - see maildrop.h */
struct maildrop *
maildrop_open(const char *path, char *err, size_t errlen)
{
    struct maildrop *d = xcalloc(1, sizeof(*d));
    char *newdir = xasprintf("%s/new", path);
    char *curdir = xasprintf("%s/cur", path);
    size_t cap = 0;
    struct dirent *de;
    DIR *dir;

    d->path = xstrdup(path);

    /* 1. new/ -> cur/. A folder that does not exist yet is an empty drop:
     * nothing was ever delivered there. */
    if ((dir = opendir(newdir)) == NULL && errno != ENOENT) {
        set_err(err, errlen, "%s: %s", newdir, strerror(errno));
        goto fail;
    }
    if (dir != NULL) {
        while ((de = readdir(dir)) != NULL)
            if (de->d_name[0] != '.' && is_regular(newdir, de->d_name))
                move_new(newdir, curdir, de->d_name);
        closedir(dir);
    }

    /* 2. list cur/ */
    if ((dir = opendir(curdir)) == NULL) {
        if (errno == ENOENT)
            goto done;
        set_err(err, errlen, "%s: %s", curdir, strerror(errno));
        goto fail;
    }
    while ((de = readdir(dir)) != NULL) {
        struct maildrop_msg m;
        const char *colon;
        char *file;
        int rc;

        if (de->d_name[0] == '.')
            continue;
        file = xasprintf("%s/%s", curdir, de->d_name);
        rc = count_file(file, &m.size);
        if (rc < 0 && errno != ENOENT && errno != ELOOP) {
            set_err(err, errlen, "%s: %s", file, strerror(errno));
            free(file);
            closedir(dir);
            goto fail;
        }
        free(file);
        if (rc < 0)                 /* vanished meanwhile, or a symlink */
            continue;
        colon = strchr(de->d_name, ':');
        m.name = xstrdup(de->d_name);
        m.uid = colon != NULL ? xstrndup(de->d_name, (size_t)(colon - de->d_name))
                              : xstrdup(de->d_name);
        if (d->count == cap) {
            cap = cap != 0 ? cap * 2 : 16;
            d->msgs = xreallocarray(d->msgs, cap, sizeof(*d->msgs));
        }
        d->msgs[d->count++] = m;
    }
    closedir(dir);
    if (d->count > 0)
        qsort(d->msgs, d->count, sizeof(*d->msgs), msg_cmp);

    /* 3. UIDs must be unique (RFC 1939 7). Two cur/ names with the same
     * unique part break the Maildir rules; XXX: the later one is left out
     * of this session rather than given a made-up UID. */
    {
        size_t k = 0;

        for (size_t i = 0; i < d->count; i++) {
            if (k > 0 && strcmp(d->msgs[k - 1].uid, d->msgs[i].uid) == 0) {
                free(d->msgs[i].name);
                free(d->msgs[i].uid);
                continue;
            }
            d->msgs[k++] = d->msgs[i];
        }
        d->count = k;
    }
    for (size_t i = 0; i < d->count; i++)
        d->total += d->msgs[i].size;
done:
    free(newdir);
    free(curdir);
    return d;

fail:
    free(newdir);
    free(curdir);
    maildrop_free(d);
    return NULL;
}

/* maildrop_free - see maildrop.h */
void
maildrop_free(struct maildrop *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->msgs[i].name);
        free(d->msgs[i].uid);
    }
    free(d->msgs);
    free(d->path);
    free(d);
}

/* find_by_uid - the current cur/ name of uid, in a new allocation, or
 * NULL. Another client (Dovecot, mutt) may have changed the flags, and
 * so the name, since the drop was taken. */
static char *
find_by_uid(const char *curdir, const char *uid)
{
    size_t n = strlen(uid);
    struct dirent *de;
    char *found = NULL;
    DIR *dir = opendir(curdir);

    if (dir == NULL)
        return NULL;
    while (found == NULL && (de = readdir(dir)) != NULL)
        if (strncmp(de->d_name, uid, n) == 0
            && (de->d_name[n] == ':' || de->d_name[n] == '\0'))
            found = xstrdup(de->d_name);
    closedir(dir);
    return found;
}

/* msg_path - cur/ path of message m; with retry, look it up by uid */
static char *
msg_path(const struct maildrop *d, const struct maildrop_msg *m, bool retry)
{
    char *name, *path;

    if (!retry)
        return xasprintf("%s/cur/%s", d->path, m->name);
    {
        char *curdir = xasprintf("%s/cur", d->path);

        name = find_by_uid(curdir, m->uid);
        free(curdir);
    }
    if (name == NULL)
        return NULL;
    path = xasprintf("%s/cur/%s", d->path, name);
    free(name);
    return path;
}

/* maildrop_retr - see maildrop.h */
int
maildrop_retr(const struct maildrop *d, size_t i, long top_lines, struct buf *out)
{
    char *text = NULL, *path;
    size_t len = 0;
    int rc;

    if (i >= d->count) {
        errno = ERANGE;
        return -1;
    }
    path = msg_path(d, &d->msgs[i], false);
    rc = file_read(path, MAILDROP_FILE_MAX, &text, &len);
    free(path);
    if (rc < 0 && errno == ENOENT) {
        if ((path = msg_path(d, &d->msgs[i], true)) == NULL) {
            errno = ENOENT;
            return -1;
        }
        rc = file_read(path, MAILDROP_FILE_MAX, &text, &len);
        free(path);
    }
    if (rc < 0)
        return -1;
    maildrop_format(text, len, top_lines, out);
    free(text);
    return 0;
}

/* maildrop_commit - see maildrop.h */
size_t
maildrop_commit(const struct maildrop *d, const bool *deleted, char *err, size_t errlen)
{
    size_t failed = 0;

    for (size_t i = 0; i < d->count; i++) {
        char *path;
        int rc;

        if (!deleted[i])
            continue;
        path = msg_path(d, &d->msgs[i], false);
        rc = unlink(path);
        if (rc < 0 && errno == ENOENT) {
            free(path);
            path = msg_path(d, &d->msgs[i], true);
            if (path == NULL)       /* already gone: that is deleted too */
                continue;
            rc = unlink(path);
            if (rc < 0 && errno == ENOENT)
                rc = 0;
        }
        if (rc < 0 && failed++ == 0)
            set_err(err, errlen, "%s: %s", path, strerror(errno));
        free(path);
    }
    return failed;
}
