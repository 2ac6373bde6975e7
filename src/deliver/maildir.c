/*
 * maildir - local delivery into Maildirs; see maildir.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>

#include "deliver/maildir.h"
#include "mail/smtp_cmd.h"
#include "util/fsutil.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* The letter before the counter in our file names: a copy the queue
 * delivers (the queue still holds the message until the copy is in new/)
 * or one delivered at commit time (once synced, the only record of an
 * acknowledged message). */
#define MARK_QUEUED 'Q'
#define MARK_DIRECT 'D'

/* A copy written to tmp/ and waiting for its rename into new/. */
struct copy {
    struct maildir_job *job;
    size_t              rcpt;
    char                tmp[PATH_MAX];
    char                dst[PATH_MAX];
};

/* crlf_extra - the LFs of p[0..n) without a CR before them: what CRLF
 * line ends add to the size */
static size_t
crlf_extra(const char *p, size_t n)
{
    size_t extra = 0;
    for (const char *lf = p, *end = p + n; (lf = memchr(lf, '\n', (size_t)(end - lf))) != NULL;
         lf++)
        extra += lf == p || lf[-1] != '\r';
    return extra;
}

/* copy_write - write one copy of env's message for recipient c->rcpt
 * into the mailbox's tmp/, named with mark (MARK_QUEUED or MARK_DIRECT)
 * before its counter; 0 or errno */
static int
copy_write(const struct maildir_ctx *ctx, const struct envelope *env, struct copy *c,
           const char *body, size_t bodylen, char mark)
{
    static unsigned long counter;
    const char *mailbox = env->rcpts[c->rcpt].mailbox;
    const char *at = strrchr(mailbox, '@');
    char dir[PATH_MAX], head[1024];
    struct timeval tv;
    int fd;

    if (!at)
        return EINVAL;
    if (pathf(dir, sizeof(dir), "%s/mail/%s/%.*s", spool_data_dir(ctx->spool), at + 1,
              (int)(at - mailbox), mailbox) < 0)
        return errno;
    gettimeofday(&tv, NULL);
    unsigned long q = __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    static _Thread_local long pid;     /* a system call per copy saved */
    if (!pid)
        pid = (long)getpid();
    char name[256];
    int hl = snprintf(head, sizeof(head), "Return-Path: <%s>\nDelivered-To: %s\n",
                      env->sender, mailbox);
    /* ",W=": the size with CRLF line ends (RFC822.SIZE), which IMAP
     * readers (ours, Dovecot) then take from the name, not the file */
    snprintf(name, sizeof(name), "%lld.M%06ldP%ld%c%lu.%s,S=%zu,W=%zu", (long long)tv.tv_sec,
             (long)tv.tv_usec, pid, mark, q, ctx->hostname, (size_t)hl + bodylen,
             (size_t)hl + crlf_extra(head, (size_t)hl) + bodylen + crlf_extra(body, bodylen));
    if (pathf(c->tmp, sizeof(c->tmp), "%s/tmp/%s", dir, name) < 0
        || pathf(c->dst, sizeof(c->dst), "%s/new/%s", dir, name) < 0)
        return errno;

    fd = open(c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == ENOENT) {
        char sub[PATH_MAX];
        static const char *const subs[] = { "tmp", "new", "cur" };
        for (int i = 0; i < 3; i++) {
            if (pathf(sub, sizeof(sub), "%s/%s", dir, subs[i]) < 0 || mkdir_p(sub, 0700) < 0)
                return errno;
        }
        fd = open(c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0)
        return errno;
    int e = 0;
    if (write_all(fd, head, (size_t)hl) < 0 || write_all(fd, body, bodylen) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (e)
        unlink(c->tmp);
    return e;
}

/* ours - is name one of copy_write's, "SEC.MUSECPpid<mark>n.host,S=size..."?
 * Its mark, or 0 */
static char
ours(const char *name)
{
    static const char *const seps[] = { ".M", "P", "", "." };
    const char *p = name;
    char mark = 0;
    for (int i = 0; i < 4; i++) {
        if (!isdigit((unsigned char)*p))
            return 0;
        while (isdigit((unsigned char)*p))
            p++;
        if (i == 2) {
            if (*p != MARK_QUEUED && *p != MARK_DIRECT)
                return 0;
            mark = *p++;
            continue;
        }
        size_t n = strlen(seps[i]);
        if (strncmp(p, seps[i], n) != 0)
            return 0;
        p += n;
    }
    return *p != '\0' ? mark : 0;
}

/* name_size - the S= size in a Maildir file name, or -1 */
static long long
name_size(const char *name)
{
    const char *s = strstr(name, ",S=");
    if (!s || !isdigit((unsigned char)s[3]))
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s + 3, &end, 10);
    return errno || (*end && *end != ',' && *end != ':') ? -1 : v;
}

/* for_each_dir - call fn(path, arg) for every sub-folder of dir */
static void
for_each_dir(const char *dir, void (*fn)(const char *path, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char path[PATH_MAX];

    if (!d)
        return;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
            continue;
        if (pathf(path, sizeof(path), "%s/%s", dir, de->d_name) == 0)
            fn(path, arg);
    }
    closedir(d);
}

/* recover_one - one Maildir's tmp/: see maildir_recover_tmp */
static void
recover_one(const char *maildir, void *arg)
{
    struct maildir_recovery *r = arg;
    char tmp[PATH_MAX], dst[PATH_MAX];
    struct stat st;
    DIR *d;
    struct dirent *de;

    if (pathf(tmp, sizeof(tmp), "%s/tmp", maildir) < 0 || !(d = opendir(tmp)))
        return;
    while ((de = readdir(d)) != NULL) {
        char mark = ours(de->d_name);
        if (!mark)
            continue;
        if (mark == MARK_DIRECT && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
            && S_ISREG(st.st_mode) && st.st_size == name_size(de->d_name)) {
            /* whole: it may have had its 250, so it goes where the
             * rename after that 250 would have put it */
            if (pathf(dst, sizeof(dst), "%s/new/%s", maildir, de->d_name) == 0
                && renameat(dirfd(d), de->d_name, AT_FDCWD, dst) == 0)
                r->moved++;
            else
                log_error("maildir: cannot move %s/%s into new/: %s", tmp, de->d_name,
                          strerror(errno));
            continue;
        }
        if (unlinkat(dirfd(d), de->d_name, 0) == 0)
            r->removed++;
    }
    closedir(d);
}

static void
recover_domain(const char *domain, void *arg)
{
    for_each_dir(domain, recover_one, arg);
}

void
maildir_recover_tmp(const char *data_dir, struct maildir_recovery *r)
{
    char mail[PATH_MAX];

    r->moved = r->removed = 0;
    if (pathf(mail, sizeof(mail), "%s/mail", data_dir) == 0)
        for_each_dir(mail, recover_domain, r);
}

/* record_done - append delivery records of a partly delivered message */
static int
record_done(const struct maildir_ctx *ctx, struct maildir_job *job)
{
    char path[PATH_MAX], line[64];
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < job->env->nrcpts; i++)
        if (job->result[i] == MAILDIR_DONE || job->result[i] == MAILDIR_FAILED) {
            snprintf(line, sizeof(line), "%s %zu\n",
                     job->result[i] == MAILDIR_DONE ? "done" : "fail", i);
            buf_puts(&b, line);
        }
    if (job->warned)
        buf_puts(&b, "warned\n");
    if (b.len == 0)
        return 0;
    spool_state_path(ctx->spool, job->env->id, path, sizeof(path));
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int e = 0;
    if (fd < 0 || write_all(fd, b.data, b.len) < 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    buf_free(&b);
    return e;
}

void
maildir_run(struct workq_item **items, size_t n, void *arg)
{
    const struct maildir_ctx *ctx = arg;
    struct copy *copies = NULL;
    size_t ncopies = 0, cap = 0;
    char path[PATH_MAX];

    /* 1. Write every copy into tmp/. */
    for (size_t j = 0; j < n; j++) {
        struct maildir_job *job = (struct maildir_job *)items[j];
        char *data = NULL;
        size_t off = 0, len = 0;
        bool local = false;
        for (size_t i = 0; i < job->env->nrcpts && !job->record_only; i++)
            local |= job->env->rcpts[i].state == RCPT_PENDING && !job->env->rcpts[i].remote
                     && job->result[i] == 0;
        if (!local)
            continue;
        int e = spool_read_body(ctx->spool, job->env->id, &data, &off, &len) < 0 ? errno : 0;
        for (size_t i = 0; i < job->env->nrcpts; i++) {
            if (job->env->rcpts[i].state != RCPT_PENDING || job->env->rcpts[i].remote
                || job->result[i] != 0)
                continue;
            if (e) {
                job->result[i] = e;
                continue;
            }
            if (ncopies == cap) {
                cap = cap ? cap * 2 : 16;
                copies = xreallocarray(copies, cap, sizeof(*copies));
            }
            struct copy *c = &copies[ncopies];
            c->job = job;
            c->rcpt = i;
            int we = copy_write(ctx, job->env, c, data + off, len - off, MARK_QUEUED);
            if (we)
                job->result[i] = we;
            else
                ncopies++;
        }
        if (!e)
            free(data);
    }

    /* 2. Make them durable, then visible in new/ (Maildir's tmp -> new). */
    int se = ncopies && spool_sync(ctx->spool) < 0 ? errno : 0;
    for (size_t k = 0; k < ncopies; k++) {
        struct copy *c = &copies[k];
        if (se || rename(c->tmp, c->dst) < 0) {
            c->job->result[c->rcpt] = se ? se : errno;
            unlink(c->tmp);
        } else {
            c->job->result[c->rcpt] = MAILDIR_DONE;
        }
    }

    /* 3. Record what was delivered, durably, before the queue forgets it. */
    bool any = false;
    for (size_t j = 0; j < n; j++) {
        struct maildir_job *job = (struct maildir_job *)items[j];
        size_t left = 0;
        bool records = job->warned;
        for (size_t i = 0; i < job->env->nrcpts; i++) {
            left += job->env->rcpts[i].state == RCPT_PENDING && job->result[i] != MAILDIR_DONE
                    && job->result[i] != MAILDIR_FAILED;
            records |= job->result[i] == MAILDIR_DONE || job->result[i] == MAILDIR_FAILED;
        }
        job->complete = left == 0;
        if (!job->complete && records) {
            record_done(ctx, job);
            any = true;
        }
    }
    if ((any || ncopies) && spool_sync(ctx->spool) < 0) {
        /* The renames may not be durable yet: keep every queue file, so
         * that a crash can at worst deliver again. A later run with
         * nothing pending removes them. */
        for (size_t j = 0; j < n; j++)
            ((struct maildir_job *)items[j])->complete = false;
    }

    /* 4. Forget completed messages. */
    for (size_t j = 0; j < n; j++) {
        struct maildir_job *job = (struct maildir_job *)items[j];
        if (!job->complete)
            continue;
        spool_msg_path(ctx->spool, job->env->id, path, sizeof(path));
        unlink(path);
        spool_state_path(ctx->spool, job->env->id, path, sizeof(path));
        unlink(path);
    }
    free(copies);
}

/* ---- direct delivery at commit time ------------------------------- */

/* direct_ok - may c be delivered at once instead of queued? */
static bool
direct_ok(const struct spool_commit *c)
{
    const struct envelope *env = c->env;
    if (!c->direct || env->nrcpts == 0)
        return false;
    for (size_t i = 0; i < env->nrcpts; i++)
        if (env->rcpts[i].remote || (env->rcpts[i].notify & NOTIFY_SUCCESS)
            || strchr(env->rcpts[i].mailbox, '@') == NULL)
            return false;           /* the queue's work: relay, or a success notice */
    return true;
}

/* unlink_copies - take back every copy of one message (before its 250) */
static void
unlink_copies(struct copy *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        unlink(v[k].tmp);
}

/* Direct copies synced and waiting for their rename into new/, which
 * maildir_commit_after makes once the batch's 250s are on their way. Per
 * worker thread: the one that ran the batch renames them. */
struct pending {
    struct copy *v;
    size_t       n;
};
static _Thread_local struct pending *pend;
static _Thread_local size_t npend;

void
maildir_commit_run(struct workq_item **items, size_t n, void *arg)
{
    const struct maildir_ctx *ctx = arg;
    struct workq_item **queued = xcalloc(n ? n : 1, sizeof(*queued));
    struct copy **copies = xcalloc(n ? n : 1, sizeof(*copies));
    size_t nq = 0, ndirect = 0, written = 0;

    /* 1. The copies of every direct message into tmp/; a message whose
     *    copies cannot all be written goes to the queue instead. */
    for (size_t j = 0; j < n; j++) {
        struct spool_commit *c = (struct spool_commit *)items[j];
        const struct envelope *env = c->env;
        c->delivered = false;
        if (!direct_ok(c)) {
            queued[nq++] = items[j];
            continue;
        }
        copies[j] = xcalloc(env->nrcpts, sizeof(struct copy));
        size_t k = 0;
        for (; k < env->nrcpts; k++) {
            copies[j][k].rcpt = k;
            if (copy_write(ctx, env, &copies[j][k], c->content.data, c->content.len,
                           MARK_DIRECT) != 0)
                break;
        }
        if (k < env->nrcpts) {
            unlink_copies(copies[j], k);
            free(copies[j]);
            copies[j] = NULL;
            queued[nq++] = items[j];
            continue;
        }
        c->delivered = true;
        ndirect++;
    }
    /* 2. The others to the queue. */
    if (nq)
        written = spool_commit_write(queued, nq, ctx->spool);

    /* 3. One sync for the copies and the queue files together: then the
     *    250s. A direct copy synced in tmp/ is durable (maildir_recover_tmp
     *    moves it into new/ after a crash), so its rename waits until the
     *    replies are on their way: one journal commit per batch, not two. */
    int se = (ndirect || written) && spool_sync(ctx->spool) < 0 ? errno : 0;
    spool_commit_synced(queued, nq, ctx->spool, se);
    free(queued);
    if (ndirect && !se)
        pend = xreallocarray(pend, npend + ndirect, sizeof(*pend));
    for (size_t j = 0; j < n; j++) {
        struct spool_commit *c = (struct spool_commit *)items[j];
        if (!c->delivered)
            continue;
        if (se) {
            unlink_copies(copies[j], c->env->nrcpts);
            free(copies[j]);
            c->delivered = false;
            c->error = se;
        } else {
            pend[npend++] = (struct pending){ copies[j], c->env->nrcpts };
        }
    }
    free(copies);
}

void
maildir_commit_after(void *arg)
{
    (void)arg;
    for (size_t i = 0; i < npend; i++) {
        for (size_t k = 0; k < pend[i].n; k++) {
            const struct copy *c = &pend[i].v[k];
            /* made durable by the next sync, whoever calls it; until then
             * a crash leaves the copy in tmp/ for maildir_recover_tmp */
            if (rename(c->tmp, c->dst) < 0)
                log_error("maildir: cannot move %s into new/ (%s): it stays in tmp/ until "
                          "the next start", c->tmp, strerror(errno));
        }
        free(pend[i].v);
    }
    free(pend);
    pend = NULL;
    npend = 0;
}
