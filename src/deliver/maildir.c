/*
 * maildir - local delivery into Maildirs; see maildir.h.
 */
#include <ctype.h>
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

/*
 * How a copy is named: "SEC.MUSECP<pid>Q<n>.host,S=<size>,W=<crlfsize>" for
 * the queue's, "SEC.MUSECP<pid>D<n>_<k>_<m>.host,..." for copy k of the m
 * copies of one message delivered at commit time (SEC, USEC and n shared
 * by the m copies), so that maildir_recover_tmp can tell a message whose
 * copies were all synced from one a stop cut in the middle.
 */
struct copy_tag {
    struct timeval tv;
    char           mark;        /* MARK_QUEUED or MARK_DIRECT */
    unsigned long  n;
    size_t         k, m;        /* MARK_DIRECT */
};

static unsigned long copy_counter;

/* copy_tag_new - a fresh tag for a message (of m copies, when direct) */
static struct copy_tag
copy_tag_new(char mark, size_t m)
{
    struct copy_tag t = { .mark = mark, .m = m };
    gettimeofday(&t.tv, NULL);
    t.n = __atomic_fetch_add(&copy_counter, 1, __ATOMIC_RELAXED);
    return t;
}

/* copy_write - write one copy of env's message for recipient c->rcpt
 * into the mailbox's tmp/, named after t; 0 or errno */
static int
copy_write(const struct maildir_ctx *ctx, const struct envelope *env, struct copy *c,
           const char *body, size_t bodylen, const struct copy_tag *t)
{
    const char *mailbox = env->rcpts[c->rcpt].mailbox;
    const char *at = strrchr(mailbox, '@');
    char dir[PATH_MAX], head[1024], uniq[96];
    int fd;

    if (!at)
        return EINVAL;
    if (pathf(dir, sizeof(dir), "%s/mail/%s/%.*s", spool_data_dir(ctx->spool), at + 1,
              (int)(at - mailbox), mailbox) < 0)
        return errno;
    static _Thread_local long pid;     /* a system call per copy saved */
    if (!pid)
        pid = (long)getpid();
    if (t->mark == MARK_DIRECT)
        snprintf(uniq, sizeof(uniq), "P%ld%c%lu_%zu_%zu", pid, t->mark, t->n, t->k, t->m);
    else
        snprintf(uniq, sizeof(uniq), "P%ld%c%lu", pid, t->mark, t->n);
    char name[256];
    int hl = snprintf(head, sizeof(head), "Return-Path: <%s>\nDelivered-To: %s\n",
                      env->sender, mailbox);
    /* ",W=": the size with CRLF line ends (RFC822.SIZE), which IMAP
     * readers (ours, Dovecot) then take from the name, not the file */
    snprintf(name, sizeof(name), "%lld.M%06ld%s.%s,S=%zu,W=%zu", (long long)t->tv.tv_sec,
             (long)t->tv.tv_usec, uniq, ctx->hostname, (size_t)hl + bodylen,
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
    struct iovec iov[2] = { { head, (size_t)hl }, { (char *)body, bodylen } };
    if (write_iov(fd, iov, 2) < 0)
        e = errno;
    if (close(fd) < 0 && !e)
        e = errno;
    if (e)
        unlink(c->tmp);
    return e;
}

/* A name of ours (copy_tag), taken apart by parse_ours. */
struct our_name {
    char   mark;
    size_t keylen;      /* direct: the name up to "_<k>_<m>", the message */
    size_t k, m;
};

/* digits - skip a run of digits at *p, its value in *v; false if none */
static bool
digits(const char **p, size_t *v)
{
    if (!isdigit((unsigned char)**p))
        return false;
    size_t r = 0;
    for (; isdigit((unsigned char)**p); (*p)++) {
        size_t d = (size_t)(**p - '0');
        r = r > (SIZE_MAX - d) / 10 ? SIZE_MAX : r * 10 + d;    /* saturates */
    }
    *v = r;
    return true;
}

/* parse_ours - is name one of copy_write's? */
static bool
parse_ours(const char *name, struct our_name *o)
{
    const char *p = name;
    size_t v;

    if (!digits(&p, &v) || strncmp(p, ".M", 2) != 0)
        return false;
    p += 2;
    if (!digits(&p, &v) || *p++ != 'P' || !digits(&p, &v))
        return false;
    o->mark = *p++;
    if ((o->mark != MARK_QUEUED && o->mark != MARK_DIRECT) || !digits(&p, &v))
        return false;
    o->keylen = (size_t)(p - name);
    o->k = 0;
    o->m = 1;
    if (o->mark == MARK_DIRECT
        && (*p++ != '_' || !digits(&p, &o->k) || *p++ != '_' || !digits(&p, &o->m)
            || o->k >= o->m))
        return false;
    return *p == '.' && p[1] != '\0';
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

/* A direct copy found in tmp/ at start. */
struct found {
    char  *path;        /* in tmp/ */
    char  *dst;         /* in new/ */
    char  *key;         /* the message (our_name.keylen) */
    size_t k, m;
    bool   whole;       /* as long as its S= says */
};

struct recovery {
    struct maildir_recovery *r;
    struct found            *v;
    size_t                   n;
};

/* scan_tmp - one Maildir's tmp/: the queue's copies go (the queue still
 * holds their messages), the direct ones are gathered */
static void
scan_tmp(const char *maildir, void *arg)
{
    struct recovery *rc = arg;
    char tmp[PATH_MAX];
    struct stat st;
    struct our_name o;
    DIR *d;
    struct dirent *de;

    if (pathf(tmp, sizeof(tmp), "%s/tmp", maildir) < 0 || !(d = opendir(tmp)))
        return;
    while ((de = readdir(d)) != NULL) {
        if (!parse_ours(de->d_name, &o))
            continue;
        if (o.mark == MARK_QUEUED) {
            if (unlinkat(dirfd(d), de->d_name, 0) == 0)
                rc->r->removed++;
            continue;
        }
        rc->v = xreallocarray(rc->v, rc->n + 1, sizeof(*rc->v));
        struct found *f = &rc->v[rc->n++];
        f->path = xasprintf("%s/%s", tmp, de->d_name);
        f->dst = xasprintf("%s/new/%s", maildir, de->d_name);
        f->key = xstrndup(de->d_name, o.keylen);
        f->k = o.k;
        f->m = o.m;
        f->whole = fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0
                   && S_ISREG(st.st_mode) && st.st_size == name_size(de->d_name);
    }
    closedir(d);
}

static void
scan_domain(const char *domain, void *arg)
{
    for_each_dir(domain, scan_tmp, arg);
}

static int
found_cmp(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->k > y->k) - (x->k < y->k);
}

/*
 * settle - the copies v[0..n) of one message. The commit writes copies
 * 0..m-1 in that order (and takes them back last first), syncs, and only
 * then renames them into new/ in the same order. So copy 0 still in tmp/
 * without all the others whole means a stop before the sync: never
 * acknowledged, all go. All m whole, or some renamed already (no copy 0
 * here): synced, maybe acknowledged, into new/.
 */
static void
settle(struct found *v, size_t n, struct maildir_recovery *r)
{
    bool all = n == v[0].m, synced = v[0].k != 0;
    for (size_t i = 0; i < n && all; i++)
        all = v[i].whole;
    for (size_t i = 0; i < n; i++) {
        if ((all || synced) && v[i].whole) {
            if (rename(v[i].path, v[i].dst) == 0)
                r->moved++;
            else
                log_error("maildir: cannot move %s into new/: %s", v[i].path, strerror(errno));
        } else if (unlink(v[i].path) == 0) {
            r->removed++;
        }
    }
}

void
maildir_recover_tmp(const char *data_dir, struct maildir_recovery *r)
{
    struct recovery rc = { r, NULL, 0 };
    char mail[PATH_MAX];

    r->moved = r->removed = 0;
    if (pathf(mail, sizeof(mail), "%s/mail", data_dir) == 0)
        for_each_dir(mail, scan_domain, &rc);
    if (rc.n)
        qsort(rc.v, rc.n, sizeof(*rc.v), found_cmp);
    for (size_t i = 0, j; i < rc.n; i = j) {
        for (j = i + 1; j < rc.n && strcmp(rc.v[j].key, rc.v[i].key) == 0; j++)
            ;
        settle(rc.v + i, j - i, r);
    }
    for (size_t i = 0; i < rc.n; i++) {
        free(rc.v[i].path);
        free(rc.v[i].dst);
        free(rc.v[i].key);
    }
    free(rc.v);
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
            struct copy_tag tag = copy_tag_new(MARK_QUEUED, 1);
            int we = copy_write(ctx, job->env, c, data + off, len - off, &tag);
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

/* unlink_copies - take back every copy of one message (before its 250),
 * the last first: a stop in between leaves copies 0..j, which
 * maildir_recover_tmp knows for a message never synced */
static void
unlink_copies(struct copy *v, size_t n)
{
    while (n > 0)
        unlink(v[--n].tmp);
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
        struct copy_tag tag = copy_tag_new(MARK_DIRECT, env->nrcpts);
        size_t k = 0;
        for (; k < env->nrcpts; k++) {
            copies[j][k].rcpt = k;
            tag.k = k;
            if (copy_write(ctx, env, &copies[j][k], c->content.data, c->content.len, &tag) != 0)
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
     *    replies are on their way: one sync per batch, not two. */
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
        /* in copy order, made durable by the next sync, whoever calls it;
         * until then a crash leaves copies k..m-1 in tmp/, and so does a
         * failed rename, for maildir_recover_tmp to move */
        for (size_t k = 0; k < pend[i].n; k++) {
            const struct copy *c = &pend[i].v[k];
            if (rename(c->tmp, c->dst) < 0) {
                log_error("maildir: cannot move %s into new/ (%s): it stays in tmp/ until "
                          "the next start", c->tmp, strerror(errno));
                break;
            }
        }
        free(pend[i].v);
    }
    free(pend);
    pend = NULL;
    npend = 0;
}
