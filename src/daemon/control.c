/*
 * control - the queue control socket; see control.h.
 *
 * Each connection is a bufferevent that reads one request line, writes
 * one answer and is freed once the answer is out. Nothing here blocks
 * but SHOW, which reads the start of one queue file (see read_headers).
 *
 * XXX LIST builds its whole answer in memory on the loop thread, about
 * 350 octets a message: fine for queues of thousands, a pause of a few
 * hundred milliseconds for a million. Paging can come when that matters.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libevent */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

/* postino, lower layers first */
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/json.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "mail/header.h"
#include "queue/envelope.h"
#include "queue/scheduler.h"
#include "daemon/control.h"

#define CONTROL_READ_TIMEOUT   10      /* seconds to send the request */
#define CONTROL_WRITE_TIMEOUT  30      /* seconds for the answer to leave */
/* How much of a queue file SHOW reads at most: a large envelope head (many
 * recipients) plus the headers. */
#define CONTROL_FILE_READ_MAX  (4 * 1024 * 1024 + CONTROL_HEADERS_MAX)

struct control_client;

struct control {
    struct event_base     *base;
    struct scheduler      *sched;
    struct evconnlistener *l;
    char                  *data_dir;
    char                   path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    dev_t                  dev;         /* the socket file we made: removed on */
    ino_t                  ino;         /* close only if it is still this one */
    struct control_client *clients;     /* doubly linked; nclients of them */
    unsigned               nclients;
};

struct control_client {
    struct control        *ctl;
    struct bufferevent    *bev;
    struct control_client *prev, *next;
    bool                   answered;    /* reading is over; freed once written */
};

/* Pure parts: ids, requests, the JSON of a message, the header section. */

bool
control_id_valid(const char *s, size_t n)
{
    if (n != QUEUE_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

int
control_parse_request(const char *line, size_t n, struct control_request *req,
                      char *err, size_t errlen)
{
    static const struct {
        const char      *verb;
        enum control_cmd cmd;
        bool             takes_id;
    } cmds[] = {
        { "LIST", CONTROL_LIST, false },
        { "SHOW", CONTROL_SHOW, true },
        { "FLUSH", CONTROL_FLUSH, false },
        { "RETRY", CONTROL_RETRY, true },
        { "DELETE", CONTROL_DELETE, true },
    };
    const char *sp = memchr(line, ' ', n);
    size_t vlen = sp ? (size_t)(sp - line) : n;

    memset(req, 0, sizeof(*req));
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        if (strlen(cmds[i].verb) != vlen || memcmp(cmds[i].verb, line, vlen) != 0)
            continue;
        req->cmd = cmds[i].cmd;
        if (!cmds[i].takes_id) {
            if (sp) {
                snprintf(err, errlen, "%s takes no argument", cmds[i].verb);
                return -1;
            }
            return 0;
        }
        if (!sp) {
            snprintf(err, errlen, "%s needs a queue id", cmds[i].verb);
            return -1;
        }
        const char *id = sp + 1;
        size_t idlen = n - vlen - 1;
        if (!control_id_valid(id, idlen)) {
            snprintf(err, errlen, "not a queue id (%d upper-case hex digits)", QUEUE_ID_LEN);
            return -1;
        }
        memcpy(req->id, id, QUEUE_ID_LEN);
        req->id[QUEUE_ID_LEN] = '\0';
        return 0;
    }
    snprintf(err, errlen, "unknown request; say LIST, SHOW ID, FLUSH, RETRY ID or DELETE ID");
    return -1;
}

int
control_sockaddr(const char *data_dir, struct sockaddr_un *sun, socklen_t *len,
                 char *err, size_t errlen)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    int k = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", data_dir,
                     CONTROL_SOCKET_NAME);
    if (k < 0 || (size_t)k >= sizeof(sun->sun_path)) {
        snprintf(err, errlen, "the control socket path %s/%s is too long (at most %zu "
                 "octets); choose a shorter data_dir", data_dir, CONTROL_SOCKET_NAME,
                 sizeof(sun->sun_path) - 1);
        return -1;
    }
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)k + 1);
    return 0;
}

static const char *
state_name(enum rcpt_state s)
{
    switch (s) {
    case RCPT_PENDING:
        return "pending";
    case RCPT_DELIVERED:
        return "delivered";
    case RCPT_FAILED:
        return "failed";
    }
    return "pending";
}

void
control_format_message(struct buf *out, const struct sched_view *v, time_t now,
                       const char *headers, size_t hlen, bool truncated)
{
    const struct envelope *env = v->env;
    long long age = now > env->arrival ? (long long)(now - env->arrival) : 0;

    buf_puts(out, "{\"id\":");
    json_put_cstr(out, env->id);
    buf_printf(out, ",\"arrival\":%lld,\"age\":%lld,\"size\":%zu,\"sender\":",
               (long long)env->arrival, age, env->size);
    json_put_cstr(out, env->sender ? env->sender : "");
    buf_printf(out, ",\"attempts\":%u,\"next_try\":%lld,\"busy\":%s,\"recipients\":[",
               v->attempts, (long long)v->next_try, v->busy ? "true" : "false");
    for (size_t i = 0; i < env->nrcpts; i++) {
        const struct env_rcpt *r = &env->rcpts[i];
        buf_puts(out, i ? ",{\"address\":" : "{\"address\":");
        json_put_cstr(out, r->orig ? r->orig : "");
        buf_puts(out, ",\"mailbox\":");
        json_put_cstr(out, r->mailbox ? r->mailbox : "");
        buf_printf(out, ",\"state\":\"%s\",\"remote\":%s,\"last_error\":", state_name(r->state),
                   r->remote ? "true" : "false");
        json_put_cstr(out, r->last_error);
        buf_putc(out, '}');
    }
    buf_putc(out, ']');
    if (headers) {
        buf_puts(out, ",\"headers\":");
        json_put_string(out, headers, hlen);
        if (truncated)
            buf_puts(out, ",\"headers_truncated\":true");
    }
    buf_putc(out, '}');
}

int
control_headers(const char *text, size_t n, bool complete, size_t *off, size_t *len,
                bool *truncated)
{
    size_t head = header_end(text, n);      /* the envelope head's empty line */

    if (head == n)
        return complete ? -1 : 0;
    size_t body = head + 1, avail = n - body;
    size_t end = header_end(text + body, avail);

    *off = body;
    *truncated = false;
    if (end > CONTROL_HEADERS_MAX) {
        /* Too long (or not ended yet, but already too long): cut at the
         * last line end that fits, so that no line is shown in part. */
        const char *nl = memrchr(text + body, '\n', CONTROL_HEADERS_MAX);
        *len = nl ? (size_t)(nl - (text + body)) + 1 : CONTROL_HEADERS_MAX;
        *truncated = true;
        return 1;
    }
    if (end == avail && !complete)
        return 0;                           /* the empty line may still come */
    *len = end;
    return 1;
}

/* The server. */

/* client_free - close one connection; safe inside its callbacks */
static void
client_free(struct control_client *cl)
{
    struct control *c = cl->ctl;

    if (cl->prev)
        cl->prev->next = cl->next;
    else
        c->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    c->nclients--;
    bufferevent_free(cl->bev);
    free(cl);
}

static void event_cb(struct bufferevent *bev, short what, void *arg);

/* write_done_cb - the whole answer is out: close */
static void
write_done_cb(struct bufferevent *bev, void *arg)
{
    (void)bev;
    client_free(arg);
}

/* answer - send the JSON in out (and a line end), then close */
static void
answer(struct control_client *cl, struct buf *out)
{
    buf_putc(out, '\n');
    cl->answered = true;
    bufferevent_disable(cl->bev, EV_READ);
    bufferevent_setcb(cl->bev, NULL, write_done_cb, event_cb, cl);
    bufferevent_write(cl->bev, out->data, out->len);
    bufferevent_enable(cl->bev, EV_WRITE);
}

static void answer_error(struct control_client *cl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* answer_error - {"error":"sentence"} */
static void
answer_error(struct control_client *cl, const char *fmt, ...)
{
    struct buf out = BUF_INIT;
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_puts(&out, "{\"error\":");
    json_put_cstr(&out, msg);
    buf_putc(&out, '}');
    answer(cl, &out);
    buf_free(&out);
}

/* What LIST and SHOW pass to scheduler_foreach. */
struct walk {
    struct control *c;
    struct buf     *out;
    time_t          now;
    size_t          n;              /* LIST: messages so far */
    const char     *id;             /* SHOW: the one wanted */
    bool            found;
    char            err[256];       /* SHOW: why the headers could not be read */
};

static void
list_one(const struct sched_view *v, void *arg)
{
    struct walk *w = arg;

    if (w->n++)
        buf_putc(w->out, ',');
    control_format_message(w->out, v, w->now, NULL, 0, false);
}

/*
 * read_headers - the header section of message id, from its queue file.
 * 0 with hdr filled, or -1 with a sentence in err.
 *
 * XXX this reads a local file on the loop thread. It reads only what it
 * needs (the envelope head, then at most CONTROL_HEADERS_MAX octets of
 * headers) and only when an administrator asks, so it is not worth a
 * worker round trip.
 */
static int
read_headers(const struct control *c, const char *id, struct buf *hdr, bool *truncated,
             char *err, size_t errlen)
{
    char path[PATH_MAX], chunk[16384];
    struct buf text = BUF_INIT;
    size_t off = 0, len = 0;
    int found = 0;

    if (pathf(path, sizeof(path), "%s/queue/msg/%s", c->data_dir, id) < 0) {
        snprintf(err, errlen, "the queue file path of %s is too long", id);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "cannot read the queue file of %s: %s", id, strerror(errno));
        return -1;
    }
    while (found == 0) {
        ssize_t r = read(fd, chunk, sizeof(chunk));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read the queue file of %s: %s", id, strerror(errno));
            close(fd);
            buf_free(&text);
            return -1;
        }
        buf_append(&text, chunk, (size_t)r);
        found = control_headers(buf_cstr(&text), text.len,
                                r == 0 || text.len >= CONTROL_FILE_READ_MAX, &off, &len,
                                truncated);
    }
    close(fd);
    if (found < 0) {
        snprintf(err, errlen, "the queue file of %s has no complete envelope head", id);
        buf_free(&text);
        return -1;
    }
    buf_append(hdr, text.data + off, len);
    buf_free(&text);
    return 0;
}

static void
show_one(const struct sched_view *v, void *arg)
{
    struct walk *w = arg;
    struct buf hdr = BUF_INIT;
    bool truncated = false;

    if (w->found || strcmp(v->env->id, w->id) != 0)
        return;
    w->found = true;
    if (read_headers(w->c, w->id, &hdr, &truncated, w->err, sizeof(w->err)) == 0)
        control_format_message(w->out, v, w->now, buf_cstr(&hdr), hdr.len, truncated);
    buf_free(&hdr);
}

/* handle - carry out one request line and answer it */
static void
handle(struct control_client *cl, const char *line, size_t n)
{
    struct control *c = cl->ctl;
    struct control_request req;
    struct buf out = BUF_INIT;
    struct walk w = { .c = c, .out = &out, .now = time(NULL) };
    char err[256];

    if (n && line[n - 1] == '\r')
        n--;
    if (control_parse_request(line, n, &req, err, sizeof(err)) < 0) {
        answer_error(cl, "%s", err);
        return;
    }
    switch (req.cmd) {
    case CONTROL_LIST:
        buf_puts(&out, "{\"messages\":[");
        scheduler_foreach(c->sched, list_one, &w);
        buf_puts(&out, "]}");
        break;
    case CONTROL_SHOW:
        w.id = req.id;
        scheduler_foreach(c->sched, show_one, &w);
        if (!w.found) {
            answer_error(cl, "no such message: %s", req.id);
            goto out;
        }
        if (w.err[0]) {
            answer_error(cl, "%s", w.err);
            goto out;
        }
        break;
    case CONTROL_FLUSH: {
        size_t k = scheduler_flush(c->sched);
        log_info("control: flush: %zu message(s) to try now", k);
        buf_printf(&out, "{\"flushed\":%zu}", k);
        break;
    }
    case CONTROL_RETRY:
    case CONTROL_DELETE: {
        bool del = req.cmd == CONTROL_DELETE;
        int rc = del ? scheduler_delete(c->sched, req.id) : scheduler_retry(c->sched, req.id);
        if (rc < 0) {
            answer_error(cl, "no such message: %s", req.id);
            goto out;
        }
        log_info("%s: control: %s", req.id, del ? "deleted from the queue" : "retry now");
        buf_puts(&out, "{\"ok\":true}");
        break;
    }
    }
    answer(cl, &out);
out:
    buf_free(&out);
}

/*
 * take_line - handle the request line once it is complete: up to its LF,
 * or everything sent when the client half-closed (eof). false when there
 * is nothing to do yet.
 */
static bool
take_line(struct control_client *cl, bool eof)
{
    struct evbuffer *in = bufferevent_get_input(cl->bev);
    char line[CONTROL_REQUEST_MAX + 2];
    size_t eol_len, n;

    struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
    if (eol.pos >= 0)
        n = (size_t)eol.pos;
    else if (eof || evbuffer_get_length(in) > CONTROL_REQUEST_MAX + 1)
        n = evbuffer_get_length(in);
    else
        return false;
    if (n == 0 && eol.pos < 0)
        return false;
    if (n > CONTROL_REQUEST_MAX + 1) {      /* the longest request, and a CR */
        answer_error(cl, "request too long");
        return true;
    }
    evbuffer_remove(in, line, n);
    handle(cl, line, n);
    return true;
}

/* read_cb - wait for the request line; the high watermark bounds it */
static void
read_cb(struct bufferevent *bev, void *arg)
{
    struct control_client *cl = arg;

    (void)bev;
    if (!cl->answered)
        take_line(cl, false);
}

/* event_cb - end of input, errors and timeouts */
static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct control_client *cl = arg;

    (void)bev;
    /* A client that half-closed still gets its answer; one that sent no
     * whole line in time hears why it is dropped. */
    if ((what & BEV_EVENT_EOF) && (what & BEV_EVENT_READING) && !cl->answered
        && take_line(cl, true))
        return;
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !cl->answered) {
        answer_error(cl, "no request line within %d seconds", CONTROL_READ_TIMEOUT);
        return;
    }
    client_free(cl);
}

/* refuse - over the limit: a short error written directly, then close */
static void
refuse(evutil_socket_t fd, const char *why)
{
    struct buf out = BUF_INIT;

    buf_puts(&out, "{\"error\":");
    json_put_cstr(&out, why);
    buf_puts(&out, "}\n");
    /* A fresh socket's buffer takes this at once; a short write only
     * shortens the message to a client that misbehaves anyway. */
    if (write(fd, out.data, out.len) < 0)
        log_warn("control: %s: %s", why, strerror(errno));
    buf_free(&out);
    evutil_closesocket(fd);
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
          void *arg)
{
    struct control *c = arg;
    struct ucred uc = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
    socklen_t uclen = sizeof(uc);
    (void)l;
    (void)sa;
    (void)salen;

    /* The 0600 mode already keeps others out; this also holds if the mode
     * or the folder's were loosened by hand. */
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &uclen) < 0
        || (uc.uid != 0 && uc.uid != geteuid())) {
        log_warn("control: connection refused: peer uid %ld is neither root nor ours",
                 (long)(int)uc.uid);
        evutil_closesocket(fd);
        return;
    }
    if (c->nclients >= CONTROL_CLIENTS_MAX) {
        refuse(fd, "too many control connections at once; try again");
        return;
    }
    struct control_client *cl = xcalloc(1, sizeof(*cl));
    cl->ctl = c;
    cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!cl->bev) {
        log_error("control: cannot set up a connection");
        evutil_closesocket(fd);
        free(cl);
        return;
    }
    cl->next = c->clients;
    if (c->clients)
        c->clients->prev = cl;
    c->clients = cl;
    c->nclients++;
    struct timeval rt = { CONTROL_READ_TIMEOUT, 0 }, wt = { CONTROL_WRITE_TIMEOUT, 0 };
    bufferevent_set_timeouts(cl->bev, &rt, &wt);
    /* Stop reading once a request is surely too long: room for the
     * longest one, a CR and the LF. */
    bufferevent_setwatermark(cl->bev, EV_READ, 0, CONTROL_REQUEST_MAX + 2);
    bufferevent_setcb(cl->bev, read_cb, NULL, event_cb, cl);
    bufferevent_enable(cl->bev, EV_READ);
}

static void
accept_error_cb(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    log_error("control: accept: %s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/*
 * clear_stale - make way for the socket at sun: nothing there, or a
 * socket nobody answers on (removed). -1 with a sentence otherwise.
 */
static int
clear_stale(const struct sockaddr_un *sun, socklen_t sunlen, char *err, size_t errlen)
{
    struct stat st;

    if (lstat(sun->sun_path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot look at %s: %s", sun->sun_path, strerror(errno));
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen, "%s exists and is not a socket; move it away", sun->sun_path);
        return -1;
    }
    /* Non-blocking, so that a live server with a full backlog (EAGAIN)
     * does not stall us; it counts as live. */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot make a socket: %s", strerror(errno));
        return -1;
    }
    int rc = connect(fd, (const struct sockaddr *)sun, sunlen);
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
        snprintf(err, errlen, "another server is running: its control socket %s answers",
                 sun->sun_path);
        return -1;
    }
    if (e != ECONNREFUSED) {
        snprintf(err, errlen, "cannot test the control socket %s: %s", sun->sun_path,
                 strerror(e));
        return -1;
    }
    if (unlink(sun->sun_path) < 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove the stale control socket %s: %s",
                 sun->sun_path, strerror(errno));
        return -1;
    }
    log_info("control: removed the stale socket %s", sun->sun_path);
    return 0;
}

struct control *
control_open(struct event_base *base, const char *data_dir, struct scheduler *sched,
             char *err, size_t errlen)
{
    struct sockaddr_un sun;
    socklen_t sunlen;
    struct stat st;

    if (control_sockaddr(data_dir, &sun, &sunlen, err, errlen) < 0
        || clear_stale(&sun, sunlen, err, errlen) < 0)
        return NULL;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot make a socket: %s", strerror(errno));
        return NULL;
    }
    if (bind(fd, (const struct sockaddr *)&sun, sunlen) < 0) {
        snprintf(err, errlen, "cannot bind the control socket %s: %s", sun.sun_path,
                 strerror(errno));
        close(fd);
        return NULL;
    }
    /* Before listen(), so that nobody connects under a laxer mode. */
    if (chmod(sun.sun_path, 0600) < 0 || lstat(sun.sun_path, &st) < 0
        || listen(fd, 16) < 0) {
        snprintf(err, errlen, "cannot set up the control socket %s: %s", sun.sun_path,
                 strerror(errno));
        unlink(sun.sun_path);
        close(fd);
        return NULL;
    }
    struct control *c = xcalloc(1, sizeof(*c));
    c->base = base;
    c->sched = sched;
    c->data_dir = xstrdup(data_dir);
    memcpy(c->path, sun.sun_path, sizeof(c->path));
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    c->l = evconnlistener_new(base, accept_cb, c, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                              -1, fd);
    if (!c->l) {
        snprintf(err, errlen, "cannot listen on the control socket %s", sun.sun_path);
        unlink(sun.sun_path);
        close(fd);
        free(c->data_dir);
        free(c);
        return NULL;
    }
    evconnlistener_set_error_cb(c->l, accept_error_cb);
    log_info("control socket on %s", c->path);
    return c;
}

void
control_close(struct control *c)
{
    struct stat st;

    if (!c)
        return;
    while (c->clients)
        client_free(c->clients);
    evconnlistener_free(c->l);
    /* Remove the file only if it is still ours. */
    if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
        unlink(c->path);
    free(c->data_dir);
    free(c);
}
