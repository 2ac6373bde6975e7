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
#include <sys/types.h>

/* mkdir_p - create path and its parents with mode; 0 or -1 (errno) */
int mkdir_p(const char *path, mode_t mode);
/* write_all - write n bytes, retrying short writes and EINTR; 0 or -1 */
int write_all(int fd, const void *p, size_t n);
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

/*
 * pathf - format a path into out (size outlen); -1 with errno
 * ENAMETOOLONG when it does not fit, else 0.
 */
int pathf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
