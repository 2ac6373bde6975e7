/*
 * spool - the durable queue on disk; see spool.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "queue/spool.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xmalloc.h"

struct spool {
    char *data_dir;
    char *qdir;         /* <data_dir>/queue */
    int   datafd;       /* for syncfs(2) */
};

const char *
spool_data_dir(const struct spool *sp)
{
    return sp->data_dir;
}

/* clear_dir - remove every plain entry of path */
static void
clear_dir(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char p[PATH_MAX];

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        pathf(p, sizeof(p), "%s/%s", path, de->d_name);
        unlink(p);
    }
    closedir(d);
}

struct spool *
spool_open(const char *data_dir, char *err, size_t errlen)
{
    static const char *const sub[] = { "msg", "state", "corrupt" };
    struct spool *sp = xcalloc(1, sizeof(*sp));
    char p[PATH_MAX];

    sp->data_dir = xstrdup(data_dir);
    sp->qdir = xasprintf("%s/queue", data_dir);
    sp->datafd = -1;
    for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
        pathf(p, sizeof(p), "%s/%s", sp->qdir, sub[i]);
        if (mkdir_p(p, 0700) < 0) {
            snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
            spool_close(sp);
            return NULL;
        }
    }
    pathf(p, sizeof(p), "%s/tmp", sp->qdir);
    clear_dir(p);               /* debris of versions that wrote there first */
    rmdir(p);
    sp->datafd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sp->datafd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", data_dir, strerror(errno));
        spool_close(sp);
        return NULL;
    }
    return sp;
}

void
spool_close(struct spool *sp)
{
    if (!sp)
        return;
    if (sp->datafd >= 0)
        close(sp->datafd);
    free(sp->data_dir);
    free(sp->qdir);
    free(sp);
}

void
spool_new_id(char id[QUEUE_ID_LEN + 1])
{
    static unsigned long long last;
    static unsigned counter;
    struct timeval tv;

    /* 13 hex digits of microseconds, then 3 of a counter within the same
     * microsecond: sortable by arrival and unique across restarts as long
     * as the clock does not run backwards. */
    gettimeofday(&tv, NULL);
    unsigned long long us = (unsigned long long)tv.tv_sec * 1000000ULL + (unsigned long long)tv.tv_usec;
    if (us <= last) {
        if (++counter > 0xfff) {
            last++;
            counter = 0;
        }
        us = last;
    } else {
        last = us;
        counter = 0;
    }
    snprintf(id, QUEUE_ID_LEN + 1, "%013llX%03X", us & 0xFFFFFFFFFFFFFULL, counter);
}

void
spool_msg_path(const struct spool *sp, const char *id, char *out, size_t outlen)
{
    pathf(out, outlen, "%s/msg/%s", sp->qdir, id);
}

void
spool_state_path(const struct spool *sp, const char *id, char *out, size_t outlen)
{
    pathf(out, outlen, "%s/state/%s", sp->qdir, id);
}

int
spool_sync(const struct spool *sp)
{
    return syncfs(sp->datafd);
}

/* write_msg - write one message, head and content, to path; 0 or an
 * errno value (and nothing left behind) */
static int
write_msg(struct spool_commit *c, const char *path)
{
    struct buf head = BUF_INIT;
    int fd, e = 0;

    c->env->length = c->content.len;
    c->env->have_length = true;
    envelope_format(c->env, &head);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        buf_free(&head);
        return errno;
    }
    struct iovec iov[2] = {
        { head.data, head.len },
        { c->content.data ? c->content.data : (char *)"", c->content.len },
    };
    if (write_iov(fd, iov, 2) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    buf_free(&head);
    if (e)
        unlink(path);
    return e;
}

/*
 * spool_commit_write - each message straight to msg/<id>, no rename: the
 * syncfs(2) that follows (spool_commit_synced) makes data, inode and name
 * durable at once. Until it returns nothing is acknowledged; a file that
 * a crash cut short is shorter than the length its head announces, and
 * spool_scan sets it aside (the way Postfix trusts a queue file only with
 * its end record). Writing to tmp/ and renaming cost a second sync per
 * batch (the rename's, before the name was durable).
 */
size_t
spool_commit_write(struct workq_item **items, size_t n, const struct spool *sp)
{
    char path[PATH_MAX];
    size_t ok = 0;

    for (size_t i = 0; i < n; i++) {
        struct spool_commit *c = (struct spool_commit *)items[i];
        spool_msg_path(sp, c->env->id, path, sizeof(path));
        c->error = write_msg(c, path);
        ok += c->error == 0;
    }
    return ok;
}

void
spool_commit_synced(struct workq_item **items, size_t n, const struct spool *sp, int e)
{
    char path[PATH_MAX];

    for (size_t i = 0; i < n && e; i++) {
        struct spool_commit *c = (struct spool_commit *)items[i];
        if (c->error)
            continue;
        c->error = e;
        spool_msg_path(sp, c->env->id, path, sizeof(path));
        unlink(path);
    }
}

int
spool_read_body(const struct spool *sp, const char *id, char **data,
                size_t *body_off, size_t *len)
{
    char path[PATH_MAX];
    char err[128];

    spool_msg_path(sp, id, path, sizeof(path));
    if (file_read(path, (size_t)1 << 34, data, len) < 0)
        return -1;
    struct envelope *env = envelope_parse(*data, *len, body_off, err, sizeof(err));
    if (!env) {
        free(*data);
        errno = EINVAL;
        return -1;
    }
    envelope_free(env);
    return 0;
}

/* apply_state - mark recipients recorded as delivered in the state file */
static void
apply_state(struct spool *sp, struct envelope *env)
{
    char path[PATH_MAX];
    char *text;
    size_t len;

    spool_state_path(sp, env->id, path, sizeof(path));
    if (file_read(path, 1 << 24, &text, &len) < 0)
        return;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *end;
        bool done = strncmp(line, "done ", 5) == 0, fail = strncmp(line, "fail ", 5) == 0;
        if (strcmp(line, "warned") == 0)
            env->warned = true;
        if (!done && !fail)
            continue;
        unsigned long i = strtoul(line + 5, &end, 10);
        if (*end == '\0' && i < env->nrcpts)
            env->rcpts[i].state = done ? RCPT_DELIVERED : RCPT_FAILED;
    }
    free(text);
}

static int
name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long
spool_scan(struct spool *sp, void (*found)(struct envelope *env, void *arg), void *arg)
{
    char path[PATH_MAX], dst[PATH_MAX], err[128];
    struct dirent *de;
    char **names = NULL;
    size_t nnames = 0;
    long count = 0;
    DIR *d;

    pathf(path, sizeof(path), "%s/msg", sp->qdir);
    if (!(d = opendir(path)))
        return -1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        names = xreallocarray(names, nnames + 1, sizeof(char *));
        names[nnames++] = xstrdup(de->d_name);
    }
    closedir(d);
    /* Queue ids sort by arrival: the oldest message goes first. */
    if (nnames)
        qsort(names, nnames, sizeof(char *), name_cmp);
    for (size_t k = 0; k < nnames; k++) {
        const char *name = names[k];
        char *text;
        size_t len, off;
        spool_msg_path(sp, name, path, sizeof(path));
        /* Only the head is needed here; cap the read at 1 MiB. */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
            continue;
        if (fstat(fd, &st) < 0) {
            close(fd);
            continue;
        }
        text = xmalloc(1 << 20);
        ssize_t r = read(fd, text, 1 << 20);
        close(fd);
        len = r > 0 ? (size_t)r : 0;
        struct envelope *env = envelope_parse(text, len, &off, err, sizeof(err));
        bool cut = env ? env->have_length && (uintmax_t)st.st_size != off + env->length
                       : len < (1 << 20) && envelope_head_partial(text, len);
        free(text);
        if (cut) {
            /* commit writes msg/<id> and syncs before the 250: a file cut
             * short is one a crash interrupted, never acknowledged */
            log_info("%s: removed a queue file cut short by a stop before it "
                     "was acknowledged", name);
            unlink(path);
            envelope_free(env);
            continue;
        }
        if (!env || strcmp(env->id, name) != 0) {
            log_error("%s: queue file is damaged (%s): moved to queue/corrupt",
                      name, env ? "id does not match" : err);
            pathf(dst, sizeof(dst), "%s/corrupt/%s", sp->qdir, name);
            rename(path, dst);
            envelope_free(env);
            continue;
        }
        apply_state(sp, env);
        found(env, arg);
        count++;
    }
    /* A state file whose message is gone: the delivery removed msg/ first
     * (as it must: the other way, a crash would deliver everything again)
     * and the process died before it removed state/. */
    pathf(path, sizeof(path), "%s/state", sp->qdir);
    if ((d = opendir(path)) != NULL) {
        while ((de = readdir(d)) != NULL) {
            const char *key = de->d_name;
            if (key[0] == '.' || (nnames && bsearch(&key, names, nnames, sizeof(char *),
                                                    name_cmp)))
                continue;
            pathf(dst, sizeof(dst), "%s/state/%s", sp->qdir, de->d_name);
            if (unlink(dst) == 0)
                log_info("%s: removed the state file of a message already delivered",
                         de->d_name);
        }
        closedir(d);
    }
    for (size_t k = 0; k < nnames; k++)
        free(names[k]);
    free(names);
    return count;
}
