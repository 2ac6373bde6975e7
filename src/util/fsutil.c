/*
 * fsutil - small blocking file-system helpers; see fsutil.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "util/fsutil.h"
#include "util/xmalloc.h"

int
mkdir_p(const char *path, mode_t mode)
{
    char tmp[PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int
write_iov(int fd, struct iovec *iov, int n)
{
    while (n > 0 && iov[0].iov_len == 0) {
        iov++;
        n--;
    }
    while (n > 0) {
        ssize_t w = writev(fd, iov, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {               /* no progress, no error: do not spin */
            errno = EIO;
            return -1;
        }
        size_t adv = (size_t)w;
        while (n > 0 && adv >= iov[0].iov_len) {
            adv -= iov[0].iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov[0].iov_base = (char *)iov[0].iov_base + adv;
            iov[0].iov_len -= adv;
        }
    }
    return 0;
}

int
write_all(int fd, const void *p, size_t n)
{
    struct iovec one = { (void *)p, n };
    return write_iov(fd, &one, 1);
}

int
fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int
file_replace(const char *path, const void *data, size_t n, mode_t mode)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    int fd, saved;

    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    if (write_all(fd, data, n) < 0 || fsync(fd) < 0) {
        saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        return -1;
    }
    if (close(fd) < 0 || rename(tmp, path) < 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s", path);
    return fsync_path(dirname(dir));
}

int
file_read(const char *path, size_t max, char **out, size_t *outlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *p;
    size_t len = 0, cap;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    cap = (size_t)st.st_size + 1;
    if (cap > max + 1)
        cap = max + 1;
    p = xmalloc(cap + 1);
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                free(p);
                close(fd);
                errno = EFBIG;
                return -1;
            }
            cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            p = xrealloc(p, cap + 1);
        }
        ssize_t r = read(fd, p + len, cap - len);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            free(p);
            close(fd);
            errno = saved;
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    if (len > max) {
        free(p);
        errno = EFBIG;
        return -1;
    }
    p[len] = '\0';
    *out = p;
    *outlen = len;
    return 0;
}

int
pathf(char *out, size_t outlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

enum file_change
file_reread(const char *path, size_t max, struct file_stamp *fs, char **text, size_t *len)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return FILE_ERROR;
        fs->loaded = true;
        fs->ino = 0;
        return FILE_GONE;
    }
    if (fs->loaded && st.st_ino == fs->ino && st.st_dev == fs->dev && st.st_size == fs->size
        && st.st_mtim.tv_sec == fs->mtime.tv_sec && st.st_mtim.tv_nsec == fs->mtime.tv_nsec)
        return FILE_SAME;
    if (file_read(path, max, text, len) < 0)
        return FILE_ERROR;
    fs->loaded = true;
    fs->dev = st.st_dev;
    fs->ino = st.st_ino;
    fs->size = st.st_size;
    fs->mtime = st.st_mtim;
    return FILE_CHANGED;
}
