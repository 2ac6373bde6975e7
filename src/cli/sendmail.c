/*
 * sendmail - "postino sendmail", and postino run as "sendmail": the
 * command line that cron, scripts and web applications call.
 *
 * The message comes on standard input; it goes to the running server
 * over <data_dir>/public/submit (SMTP on a local socket, where the server
 * knows the caller by its uid), and is queued and delivered like any
 * other. Options, as sendmail and Postfix take them:
 *
 *   -t            recipients from To, Cc and Bcc (added to the arguments)
 *   -i, -oi       a line holding only "." does not end the message
 *   -f ADDR, -r ADDR   the envelope sender (default: LOGIN@first domain)
 *   -F NAME       the full name, for a From field made when there is none
 *   -C FILE, -c FILE   the configuration; -o key=value overrides a key
 *   -bm           deliver mail (the default); -v, -U, -G, other -o..., -B, -N,
 *                 -R, -V, -X, -L are accepted and ignored
 *   --            the end of the options
 *
 * Bcc fields are removed. Exit status: 0, or one of sysexits.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "daemon/privs.h"
#include "mail/address.h"
#include "mail/from.h"
#include "mail/header.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define REPLY_MAX 4096

struct rcpts {
    char  **v;
    size_t  n;
    bool    bad;            /* an address that is not one */
};

static void
say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
say(const char *fmt, ...)
{
    va_list ap;
    fputs("postino sendmail: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* qualify - "root" becomes "root@DOMAIN"; a valid path's text, else NULL */
static char *
qualify(const char *addr, const char *domain)
{
    char path[ADDR_MAX + 8];
    struct mailbox mb;
    size_t used;

    if (strchr(addr, '@'))
        snprintf(path, sizeof(path), "<%s>", addr);
    else
        snprintf(path, sizeof(path), "<%s@%s>", addr, domain);
    if (strlen(path) < 3 || path_parse(path, strlen(path), PATH_UTF8, &mb, &used) != ADDR_OK
        || used != strlen(path))
        return NULL;
    return xstrndup(path + 1, strlen(path) - 2);
}

static void
rcpt_add(struct rcpts *r, const char *addr, const char *domain)
{
    char *q = qualify(addr, domain);
    if (!q) {
        say("\"%s\" is not a valid address", addr);
        r->bad = true;
        return;
    }
    r->v = xreallocarray(r->v, r->n + 1, sizeof(char *));
    r->v[r->n++] = q;
}

struct each_ctx {
    struct rcpts *r;
    const char   *domain;
};

static void
header_rcpt(void *arg, enum from_status st, const struct from_addr *a)
{
    struct each_ctx *c = arg;
    if (st == FROM_TOO_LONG) {
        say("a recipient in the header is too long");
        c->r->bad = true;
        return;
    }
    rcpt_add(c->r, a->address, c->domain);
}

/* is_field - does line[0..len) start the field name (any case)? */
static bool
is_field(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    return len > n && strncasecmp(line, name, n) == 0 && line[n] == ':';
}

/*
 * read_message - standard input into LF-form lines; without ignore_dots a
 * line holding only "." ends it. CR LF and LF both end lines.
 */
static int
read_message(struct buf *msg, bool ignore_dots, size_t limit)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    while ((n = getline(&line, &cap, stdin)) > 0) {
        size_t len = (size_t)n;
        if (line[len - 1] == '\n')
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        if (!ignore_dots && len == 1 && line[0] == '.')
            break;
        buf_append(msg, line, len);
        buf_putc(msg, '\n');
        if (msg->len > limit) {
            free(line);
            say("the message is larger than message_size_limit (%zu octets)", limit);
            return EX_DATAERR;
        }
    }
    free(line);
    if (ferror(stdin)) {
        say("cannot read the message: %s", strerror(errno));
        return EX_IOERR;
    }
    return 0;
}

/*
 * headers - walk the header section of msg: collect the recipients of
 * To, Cc and Bcc (with -t), note From, and drop Bcc fields (into out)
 */
static void
headers(const struct buf *msg, bool take_rcpts, struct rcpts *r, const char *domain,
        bool *has_from, struct buf *out)
{
    size_t end = header_end(msg->data ? msg->data : "", msg->len), i = 0;
    struct each_ctx ec = { r, domain };

    *has_from = false;
    while (i < end) {
        /* one field with its continuation lines */
        size_t s = i;
        do {
            const char *nl = memchr(msg->data + i, '\n', msg->len - i);
            i = nl ? (size_t)(nl - msg->data) + 1 : msg->len;
        } while (i < end && (msg->data[i] == ' ' || msg->data[i] == '\t'));
        const char *f = msg->data + s;
        size_t flen = i - s;
        bool bcc = is_field(f, flen, "Bcc");
        if (is_field(f, flen, "From"))
            *has_from = true;
        if (take_rcpts && (bcc || is_field(f, flen, "To") || is_field(f, flen, "Cc"))) {
            const char *v = (const char *)memchr(f, ':', flen) + 1;
            size_t vlen = flen - (size_t)(v - f);
            if (from_list(v, vlen, header_rcpt, &ec) != FROM_OK) {
                say("cannot read the recipients of: %.*s", (int)(flen > 60 ? 60 : flen - 1), f);
                r->bad = true;
            }
        }
        if (!bcc)
            buf_append(out, f, flen);
    }
    buf_append(out, msg->data + end, msg->len - end);
}

/* ---- SMTP on the local socket ---------------------------------------- */

struct conn {
    int  fd;
    char in[REPLY_MAX];
    size_t have;
};

/* reply - one reply (multi-line joined); its code, or -1 */
static int
reply(struct conn *c, char *text, size_t textlen)
{
    size_t tl = 0;
    text[0] = '\0';
    for (;;) {
        char *nl = memchr(c->in, '\n', c->have);
        if (!nl) {
            struct pollfd p = { c->fd, POLLIN, 0 };
            if (c->have == sizeof(c->in) || poll(&p, 1, 300000) <= 0)
                return -1;
            ssize_t n = read(c->fd, c->in + c->have, sizeof(c->in) - c->have);
            if (n <= 0)
                return -1;
            c->have += (size_t)n;
            continue;
        }
        size_t len = (size_t)(nl - c->in);
        size_t ll = len && c->in[len - 1] == '\r' ? len - 1 : len;
        bool last = ll < 4 || c->in[3] != '-';
        int code = ll >= 3 ? atoi(c->in) : -1;
        int k = snprintf(text + tl, textlen - tl, "%s%.*s", tl ? " / " : "", (int)ll, c->in);
        if (k > 0)
            tl = tl + (size_t)k < textlen ? tl + (size_t)k : textlen - 1;
        memmove(c->in, nl + 1, c->have - len - 1);
        c->have -= len + 1;
        if (last)
            return code;
    }
}

static bool
send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* command - send line (CRLF added), read the reply; true when its code is want */
static bool
command(struct conn *c, int want, char *text, size_t textlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static bool
command(struct conn *c, int want, char *text, size_t textlen, const char *fmt, ...)
{
    char line[ADDR_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line) - 2)
        return false;
    memcpy(line + n, "\r\n", 2);
    if (!send_all(c->fd, line, (size_t)n + 2)) {
        snprintf(text, textlen, "connection lost");
        return false;
    }
    return reply(c, text, textlen) == want;
}

/* send_data - msg (LF form) as CRLF lines, dot-stuffed, then the end */
static bool
send_data(int fd, const struct buf *msg)
{
    struct buf out = BUF_INIT;
    size_t i = 0;
    bool ok;

    while (i < msg->len) {
        const char *nl = memchr(msg->data + i, '\n', msg->len - i);
        size_t len = nl ? (size_t)(nl - msg->data) - i : msg->len - i;
        if (len && msg->data[i] == '.')
            buf_putc(&out, '.');            /* RFC 5321 4.5.2 */
        buf_append(&out, msg->data + i, len);
        buf_append(&out, "\r\n", 2);
        i += len + 1;
    }
    buf_append(&out, ".\r\n", 3);
    ok = send_all(fd, out.data, out.len);
    buf_free(&out);
    return ok;
}

static int
submit(const struct config *cfg, const char *sender, const struct rcpts *r,
       const struct buf *msg)
{
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    struct conn c = { .fd = -1 };
    char text[REPLY_MAX];
    int rc = EX_TEMPFAIL;

    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%s/submit", cfg->data_dir, PRIVS_PUBLIC);
    c.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || connect(c.fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        say("cannot reach the mail server at %s: %s (is \"postino serve\" running?)",
            sun.sun_path, strerror(errno));
        if (c.fd >= 0)
            close(c.fd);
        return EX_TEMPFAIL;
    }
    if (reply(&c, text, sizeof(text)) != 220) {
        say("the server did not greet: %s", text[0] ? text : "no answer");
        goto out;
    }
    if (!command(&c, 250, text, sizeof(text), "EHLO localhost")) {
        say("EHLO: %s", text);
        goto out;
    }
    if (!command(&c, 250, text, sizeof(text), "MAIL FROM:<%s>", sender)) {
        say("sender <%s>: %s", sender, text);
        rc = text[0] == '5' ? EX_DATAERR : EX_TEMPFAIL;
        goto out;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!command(&c, 250, text, sizeof(text), "RCPT TO:<%s>", r->v[i])) {
            say("recipient <%s>: %s", r->v[i], text);
            rc = text[0] == '5' ? EX_NOUSER : EX_TEMPFAIL;
            goto out;
        }
    }
    if (!command(&c, 354, text, sizeof(text), "DATA")) {
        say("DATA: %s", text);
        goto out;
    }
    if (!send_data(c.fd, msg) || reply(&c, text, sizeof(text)) != 250) {
        say("the message was not accepted: %s", text[0] ? text : "connection lost");
        rc = text[0] == '5' ? EX_DATAERR : EX_TEMPFAIL;
        goto out;
    }
    rc = 0;
    (void)command(&c, 221, text, sizeof(text), "QUIT");
out:
    close(c.fd);
    return rc;
}

/* value - the argument of an option: attached ("-fme") or the next word */
static const char *
value(int argc, char **argv, int *i, size_t at)
{
    if (argv[*i][at])
        return argv[*i] + at;
    if (*i + 1 < argc)
        return argv[++*i];
    return NULL;
}

int
cli_sendmail(int argc, char **argv)
{
    const char *config = NULL, *sender = NULL, *fullname = NULL;
    char **overrides = xcalloc((size_t)argc + 1, sizeof(char *));
    size_t noverrides = 0;
    bool take = false, ignore_dots = false;
    int i, rc = EX_USAGE;
    struct rcpts r = { NULL, 0, false };
    struct buf raw = BUF_INIT, msg = BUF_INIT, errs = BUF_INIT;
    struct config *cfg = NULL;

    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        switch (a[1]) {
        case 't': case 'i': case 'v': case 'U': case 'G':
            /* single letters, possibly grouped: -ti */
            for (const char *p = a + 1; *p; p++) {
                if (*p == 't')
                    take = true;
                else if (*p == 'i')
                    ignore_dots = true;
                else if (!strchr("vUG", *p)) {
                    say("unknown option -%c", *p);
                    goto out;
                }
            }
            break;
        case 'f': case 'r': case 'F': case 'C': case 'c':
        case 'B': case 'N': case 'R': case 'V': case 'X': case 'L':
            if (!(v = value(argc, argv, &i, 2))) {
                say("option %s needs a value", a);
                goto out;
            }
            if (a[1] == 'f' || a[1] == 'r')
                sender = v;
            else if (a[1] == 'F')
                fullname = v;
            else if (a[1] == 'C' || a[1] == 'c')
                config = v;
            break;
        case 'o':
            /* -oi and friends; -o key=value is postino's own */
            if (!(v = value(argc, argv, &i, 2))) {
                say("option -o needs a value");
                goto out;
            }
            if (strchr(v, '='))
                overrides[noverrides++] = (char *)v;
            else if (v[0] == 'i')
                ignore_dots = true;
            break;
        case 'b':
            if (strcmp(a, "-bm") != 0) {
                say("mode %s is not supported; only -bm (the default)", a);
                goto out;
            }
            break;
        default:
            say("unknown option %s", a);
            goto out;
        }
    }

    int nerr;
    cfg = config_load(config, overrides, noverrides, &errs, &nerr);
    if (nerr) {
        fputs(buf_cstr(&errs), stderr);
        rc = EX_CONFIG;
        goto out;
    }
    const char *domain = cfg->domains[0];
    for (; i < argc; i++)
        rcpt_add(&r, argv[i], domain);

    struct passwd *pw = getpwuid(getuid());
    char login[256], fallback[ADDR_MAX + 1];
    snprintf(login, sizeof(login), "%s", pw ? pw->pw_name : "nobody");
    char *envfrom = NULL;
    if (sender && !*sender) {
        envfrom = xstrdup("");                  /* -f "" or -f "<>": the null sender */
    } else if (sender && strcmp(sender, "<>") == 0) {
        envfrom = xstrdup("");
    } else {
        snprintf(fallback, sizeof(fallback), "%s", sender ? sender : login);
        envfrom = qualify(fallback, domain);
        if (!envfrom) {
            say("sender \"%s\" is not a valid address", fallback);
            goto out;
        }
    }

    if ((rc = read_message(&raw, ignore_dots, cfg->message_size_limit)) != 0) {
        free(envfrom);
        goto out;
    }
    bool has_from;
    struct buf body = BUF_INIT;
    headers(&raw, take, &r, domain, &has_from, &body);
    if (r.bad || r.n == 0) {
        if (r.n == 0 && !r.bad)
            say("no recipients (give them as arguments, or use -t)");
        rc = r.bad ? EX_DATAERR : EX_USAGE;
        free(envfrom);
        buf_free(&body);
        goto out;
    }
    /* A message without From gets one: the full name (-F, else the
     * account's) and the sender. The server adds Date and Message-ID. */
    if (!has_from) {
        const char *name = fullname;
        char gecos[128] = "";
        if (!name && pw && pw->pw_gecos) {
            snprintf(gecos, sizeof(gecos), "%.*s", (int)strcspn(pw->pw_gecos, ","),
                     pw->pw_gecos);
            name = gecos;
        }
        const char *addr = envfrom[0] ? envfrom : fallback;
        bool quote = name && name[0] && strpbrk(name, "()<>[]:;@\\,.\"");
        if (name && name[0] && !strpbrk(name, "\r\n\""))
            buf_printf(&msg, "From: %s%s%s <%s>\n", quote ? "\"" : "", name, quote ? "\"" : "",
                       addr);
        else
            buf_printf(&msg, "From: %s\n", addr);
    }
    buf_append(&msg, body.data, body.len);
    buf_free(&body);
    rc = submit(cfg, envfrom, &r, &msg);
    free(envfrom);
out:
    for (size_t k = 0; k < r.n; k++)
        free(r.v[k]);
    free(r.v);
    free(overrides);
    buf_free(&raw);
    buf_free(&msg);
    buf_free(&errs);
    config_free(cfg);
    return rc;
}
