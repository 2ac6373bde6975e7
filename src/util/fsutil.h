/*
 * fsutil - small blocking file-system helpers: folders, whole writes,
 * durable replacement of a file. They report errors through errno and a
 * return value; callers decide what to log. Never call them on the
 * event-loop thread for anything but startup and tiny files.
 */
#ifndef POSTINO_UTIL_FSUTIL_H
#define POSTINO_UTIL_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <sys/types.h>
#include <sys/uio.h>

/* mkdir_p - create path and its parents with mode; 0 or -1 (errno) */
int mkdir_p(const char *path, mode_t mode);
/* write_all - write n bytes, retrying short writes and EINTR; 0 or -1 */
int write_all(int fd, const void *p, size_t n);
/* write_iov - write every byte of iov[0..n-1] in order with writev(2),
 * retrying short writes and EINTR; 0 or -1 (errno). After a short write
 * the entry it stopped in is advanced past what was written, so iov is
 * changed. One system call for a message's head and body, where
 * write_all would take two. */
int write_iov(int fd, struct iovec *iov, int n);
/* fsync_path - open path (a file or a folder) and fsync it; 0 or -1 */
int fsync_path(const char *path);
/*
 * file_replace - durably replace path with data: write path.tmp.PID,
 * fsync, rename over path, fsync the folder. 0 or -1 (errno); on error
 * the old file is untouched.
 */
int file_replace(const char *path, const void *data, size_t n, mode_t mode);
/*
 * file_read - read a whole file (at most max bytes) into a new NUL-
 * terminated allocation (*out, *outlen). 0, or -1 with errno (EFBIG when
 * larger than max).
 */
int file_read(const char *path, size_t max, char **out, size_t *outlen);

/* What a reloaded file looked like when it was last read. */
struct file_stamp {
    bool            loaded;
    dev_t           dev;
    ino_t           ino;
    off_t           size;
    struct timespec mtime;
};

enum file_change { FILE_SAME, FILE_CHANGED, FILE_GONE, FILE_ERROR };

/*
 * file_reread - has path changed since *fs (inode, size, mtime)? When it
 * has (or on the first call), read it whole (at most max bytes) into a new
 * allocation (*text, *len) and return FILE_CHANGED; FILE_SAME when not;
 * FILE_GONE when it does not exist; FILE_ERROR (errno) when it cannot be
 * read, leaving *fs as it was so that the next call tries again.
 */
enum file_change file_reread(const char *path, size_t max, struct file_stamp *fs,
                             char **text, size_t *len);

/*
 * pathf - format a path into out (size outlen); -1 with errno
 * ENAMETOOLONG when it does not fit, else 0.
 */
int pathf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
