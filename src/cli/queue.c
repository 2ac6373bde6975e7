/*
 * queue - "postino queue list [--json] | show ID | flush | retry ID |
 * delete ID": the client of the server's control socket (see
 * daemon/control.h for the protocol).
 *
 * It sends one request line, reads the JSON answer to the end (bounded
 * in size and time), parses it with util/json and prints it for people:
 * a table in the manner of Postfix's mailq. With --json it prints the
 * server's answer as is. Text that came from the network (addresses,
 * remote replies, headers) is printed with control characters escaped,
 * so that it cannot drive the terminal. Exit status: 0, 1 for an error
 * (a plain sentence on stderr), 2 for a usage error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/json.h"
#include "conf/config.h"
#include "daemon/control.h"
#include "cli/cli.h"

/* XXX the whole answer is held, then parsed: 64 MiB is a LIST of about
 * 180,000 messages. Larger queues need paging in the protocol. */
#define QUEUE_ANSWER_MAX  (64u * 1024 * 1024)
#define QUEUE_TIMEOUT     60                    /* seconds for the whole answer */

#define QUEUE_USAGE "Usage: postino queue list [--json] | show ID | flush | retry ID | delete ID"

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fail - "postino queue: sentence" on stderr; returns the exit status 1 */
static int
fail(const char *fmt, ...)
{
    va_list ap;

    fputs("postino queue: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 1;
}

/*
 * talk - send request to the control socket of data_dir and read the
 * whole answer into ans. 0, or 1 after saying why on stderr.
 */
static int
talk(const char *data_dir, const char *request, struct buf *ans)
{
    struct sockaddr_un sun;
    socklen_t sunlen;
    char err[512], chunk[65536];
    struct timeval tv = { QUEUE_TIMEOUT, 0 };

    if (control_sockaddr(data_dir, &sun, &sunlen, err, sizeof(err)) < 0)
        return fail("%s", err);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fail("cannot make a socket: %s", strerror(errno));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sun, sunlen) < 0) {
        int e = errno;
        close(fd);
        if (e == ENOENT)
            return fail("the server is not running: no control socket at %s", sun.sun_path);
        if (e == ECONNREFUSED)
            return fail("the server is not running: nothing answers on %s", sun.sun_path);
        if (e == EACCES || e == EPERM)
            return fail("cannot connect to %s: %s (only root and the server's user may)",
                        sun.sun_path, strerror(e));
        return fail("cannot connect to %s: %s", sun.sun_path, strerror(e));
    }
    size_t n = strlen(request);
    char line[CONTROL_REQUEST_MAX + 2];
    snprintf(line, sizeof(line), "%s\n", request);
    /* MSG_NOSIGNAL: a server that closes early is an error, not SIGPIPE. */
    if (send(fd, line, n + 1, MSG_NOSIGNAL) != (ssize_t)(n + 1)) {
        int e = errno;
        close(fd);
        return fail("cannot send the request to %s: %s", sun.sun_path, strerror(e));
    }
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            if (e == EAGAIN || e == EWOULDBLOCK)
                return fail("the server did not answer within %d seconds", QUEUE_TIMEOUT);
            return fail("cannot read the answer from %s: %s", sun.sun_path, strerror(e));
        }
        if (r == 0)
            break;
        if (ans->len + (size_t)r > QUEUE_ANSWER_MAX) {
            close(fd);
            return fail("the server's answer is larger than %u MiB", QUEUE_ANSWER_MAX >> 20);
        }
        buf_append(ans, chunk, (size_t)r);
    }
    close(fd);
    if (ans->len == 0)
        return fail("the server closed the connection without an answer");
    return 0;
}

/*
 * The printer. It reads fields leniently but notes the first one that is
 * missing or of the wrong type in bad; the caller then refuses the whole
 * answer, so nothing half-printed reaches the user.
 */
struct printer {
    struct buf  out;
    const char *bad;
};

static const struct json empty_string = { .type = JSON_STRING, .str = "", .len = 0 };

/* field - member k of o, of type t (NULL allowed when nullable) */
static const struct json *
field(struct printer *p, const struct json *o, const char *k, enum json_type t, bool nullable)
{
    const struct json *v = json_get(o, k);

    if (v && v->type == t)
        return v;
    if (nullable && v && v->type == JSON_NULL)
        return NULL;
    if (!p->bad)
        p->bad = k;
    return t == JSON_STRING ? &empty_string : NULL;
}

static long long
field_int(struct printer *p, const struct json *o, const char *k)
{
    const struct json *v = field(p, o, k, JSON_INT, false);
    return v ? v->integer : 0;
}

static bool
field_bool(struct printer *p, const struct json *o, const char *k)
{
    const struct json *v = field(p, o, k, JSON_BOOL, false);
    return v && v->boolean;
}

/*
 * put_text - append s for a terminal: control characters, DEL and the
 * C1 controls as \xHH; in multiline text LF and TAB stay.
 */
static void
put_text(struct buf *out, const struct json *s, bool multiline)
{
    const unsigned char *p = (const unsigned char *)s->str;

    for (size_t i = 0; i < s->len; i++) {
        unsigned c = p[i];
        /* The reader made sure str is UTF-8: U+0080..U+009F is C2 80..C2 9F. */
        if (c == 0xC2 && i + 1 < s->len && p[i + 1] <= 0x9F) {
            buf_printf(out, "\\x%02X", p[++i]);
            continue;
        }
        if ((c < 0x20 && !(multiline && (c == '\n' || c == '\t'))) || c == 0x7F)
            buf_printf(out, "\\x%02X", c);
        else
            buf_putc(out, (char)c);
    }
}

/* put_duration - 45s, 5m, 2h, 3d */
static void
put_duration(struct buf *out, long long s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        buf_printf(out, "%llds", s);
    else if (s < 3600)
        buf_printf(out, "%lldm", s / 60);
    else if (s < 86400)
        buf_printf(out, "%lldh", s / 3600);
    else
        buf_printf(out, "%lldd", s / 86400);
}

static void
put_table_head(struct printer *p)
{
    buf_printf(&p->out, "%-16s %5s %10s  %s\n", "ID", "AGE", "SIZE", "SENDER / RECIPIENTS");
}

/*
 * put_message - one message: a line with id, age, size, sender and what
 * the scheduler is doing, then a line per recipient with its state, and
 * its last error under it. Returns the size.
 */
static long long
put_message(struct printer *p, const struct json *m)
{
    const struct json *id = field(p, m, "id", JSON_STRING, false);
    const struct json *sender = field(p, m, "sender", JSON_STRING, false);
    const struct json *rcpts = field(p, m, "recipients", JSON_ARRAY, false);
    long long arrival = field_int(p, m, "arrival"), age = field_int(p, m, "age");
    long long size = field_int(p, m, "size"), attempts = field_int(p, m, "attempts");
    long long next = field_int(p, m, "next_try");
    bool busy = field_bool(p, m, "busy");
    struct buf agebuf = BUF_INIT;

    put_duration(&agebuf, age);
    put_text(&p->out, id, false);
    buf_printf(&p->out, " %5s %10lld  ", buf_cstr(&agebuf), size);
    buf_free(&agebuf);
    if (sender->len)
        put_text(&p->out, sender, false);
    else
        buf_puts(&p->out, "<>");
    if (busy) {
        buf_puts(&p->out, "  (delivery under way)");
    } else if (next > 0) {
        /* The server's clock: arrival + age is its "now". */
        buf_printf(&p->out, "  (%lld attempt%s, next try ", attempts, attempts == 1 ? "" : "s");
        if (next > arrival + age) {
            buf_puts(&p->out, "in ");
            put_duration(&p->out, next - (arrival + age));
        } else {
            buf_puts(&p->out, "now");
        }
        buf_putc(&p->out, ')');
    } else if (attempts > 0) {
        buf_printf(&p->out, "  (%lld attempt%s)", attempts, attempts == 1 ? "" : "s");
    }
    buf_putc(&p->out, '\n');
    for (size_t i = 0; rcpts && i < rcpts->len; i++) {
        const struct json *r = &rcpts->items[i];
        const struct json *addr = field(p, r, "address", JSON_STRING, false);
        const struct json *mbox = field(p, r, "mailbox", JSON_STRING, false);
        const struct json *state = field(p, r, "state", JSON_STRING, false);
        const struct json *lerr = field(p, r, "last_error", JSON_STRING, true);
        bool remote = field_bool(p, r, "remote");

        buf_puts(&p->out, "    ");
        put_text(&p->out, state, false);
        for (size_t k = state->len; k < 9; k++)
            buf_putc(&p->out, ' ');
        buf_puts(&p->out, "  ");
        put_text(&p->out, addr, false);
        if (mbox->len && strcasecmp(mbox->str, addr->str) != 0) {
            buf_puts(&p->out, " -> ");
            put_text(&p->out, mbox, false);
        }
        if (remote)
            buf_puts(&p->out, " (remote)");
        buf_putc(&p->out, '\n');
        if (lerr && lerr->len && strcmp(state->str, "delivered") != 0) {
            buf_printf(&p->out, "%*s(", 4 + 9 + 2, "");
            put_text(&p->out, lerr, false);
            buf_puts(&p->out, ")\n");
        }
    }
    return size;
}

/* print_list - the LIST answer as a table */
static void
print_list(struct printer *p, const struct json *top)
{
    const struct json *msgs = field(p, top, "messages", JSON_ARRAY, false);
    long long total = 0;

    if (!msgs)
        return;
    if (msgs->len == 0) {
        buf_puts(&p->out, "Mail queue is empty\n");
        return;
    }
    put_table_head(p);
    for (size_t i = 0; i < msgs->len; i++) {
        if (msgs->items[i].type != JSON_OBJECT) {
            p->bad = "messages";
            return;
        }
        total += put_message(p, &msgs->items[i]);
    }
    buf_printf(&p->out, "-- %zu message%s, %lld octets in total\n", msgs->len,
               msgs->len == 1 ? "" : "s", total);
}

/* print_show - the SHOW answer: the message as in the table, then its headers */
static void
print_show(struct printer *p, const struct json *top)
{
    const struct json *hdr = field(p, top, "headers", JSON_STRING, false);
    const struct json *cut = json_get(top, "headers_truncated");

    put_table_head(p);
    put_message(p, top);
    buf_putc(&p->out, '\n');
    put_text(&p->out, hdr, true);
    if (hdr->len && hdr->str[hdr->len - 1] != '\n')
        buf_putc(&p->out, '\n');
    if (cut && cut->type == JSON_BOOL && cut->boolean)
        buf_printf(&p->out, "(the header section is longer; cut at %d KiB)\n",
                   CONTROL_HEADERS_MAX / 1024);
}

int
cli_queue(const struct cli_args *a)
{
    static const struct {
        const char *name;       /* the word on the command line */
        const char *verb;       /* the request */
        bool        id;
    } subs[] = {
        { "list", "LIST", false }, { "show", "SHOW", true }, { "flush", "FLUSH", false },
        { "retry", "RETRY", true }, { "delete", "DELETE", true },
    };
    const char *sub = a->nwords ? a->words[0] : "";
    size_t which = sizeof(subs) / sizeof(subs[0]);
    struct buf errs = BUF_INIT, ans = BUF_INIT;
    struct printer p = { BUF_INIT, NULL };
    struct json *top = NULL;
    char request[CONTROL_REQUEST_MAX + 1], err[256];
    int nerr, rc = 1;

    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(sub, subs[i].name) == 0)
            which = i;
    if (which == sizeof(subs) / sizeof(subs[0])) {
        fprintf(stderr, "%s\n", QUEUE_USAGE);
        return 2;
    }
    if (a->nwords != (subs[which].id ? 2u : 1u)) {
        fprintf(stderr, "Usage: postino queue %s%s\n", sub, subs[which].id ? " ID" : "");
        return 2;
    }
    if (subs[which].id) {
        const char *id = a->words[1];
        if (!control_id_valid(id, strlen(id))) {
            fprintf(stderr, "postino queue: \"%.40s\" is not a queue id (%d upper-case hex "
                    "digits, as \"postino queue list\" shows them)\n", id, QUEUE_ID_LEN);
            return 2;
        }
        snprintf(request, sizeof(request), "%s %s", subs[which].verb, id);
    } else {
        snprintf(request, sizeof(request), "%s", subs[which].verb);
    }

    struct config *cfg = config_load(a->config, a->overrides, a->noverrides, &errs, &nerr);
    if (nerr) {
        fprintf(stderr, "%s", buf_cstr(&errs));
        goto out;
    }
    if (talk(cfg->data_dir, request, &ans) != 0)
        goto out;
    top = json_parse(ans.data, ans.len, err, sizeof(err));
    if (!top || top->type != JSON_OBJECT) {
        fail("the server's answer is not a JSON object%s%s", top ? "" : ": ", top ? "" : err);
        goto out;
    }
    const struct json *e = json_get(top, "error");
    if (a->json) {
        fwrite(ans.data, 1, ans.len, stdout);
        rc = e ? 1 : 0;
        goto out;
    }
    if (e) {
        if (e->type != JSON_STRING) {
            fail("the server's answer has an error that is not a sentence");
            goto out;
        }
        put_text(&p.out, e, false);
        fail("%s", buf_cstr(&p.out));
        goto out;
    }
    switch (which) {
    case 0:
        print_list(&p, top);
        break;
    case 1:
        print_show(&p, top);
        break;
    case 2:
        buf_printf(&p.out, "%lld message(s) will be tried now\n",
                   field_int(&p, top, "flushed"));
        break;
    default:
        if (!field_bool(&p, top, "ok") && !p.bad)
            p.bad = "ok";
        buf_printf(&p.out, "%s: %s\n", a->words[1],
                   which == 3 ? "will be tried now" : "deleted from the queue");
        break;
    }
    if (p.bad) {
        fail("the server's answer lacks a proper \"%s\"", p.bad);
        goto out;
    }
    fwrite(p.out.data, 1, p.out.len, stdout);
    rc = 0;
out:
    if (fflush(stdout) != 0 && rc == 0)
        rc = fail("cannot write the output: %s", strerror(errno));
    json_free(top);
    buf_free(&p.out);
    buf_free(&ans);
    buf_free(&errs);
    config_free(cfg);
    return rc;
}
