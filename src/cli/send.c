/*
 * send - "postino send": submit one message the way a mail program does,
 * to test a setup (the server, its port and TLS mode, a user's login).
 *
 *   EHLO; STARTTLS and EHLO again (or TLS from the first byte: --tls
 *   implicit, the default on port 465); AUTH PLAIN or LOGIN with --user,
 *   inside TLS only; MAIL, one RCPT per --to, DATA with CRLF line ends
 *   and dot-stuffing (RFC 5321 4.5.2); QUIT.
 *
 * The message is built from --body (with Date, Message-ID, From, To and
 * Subject, unless a --header gives them) or read whole from standard
 * input and sent as it is (only its line ends made CRLF). -v prints the
 * dialogue, with "***" for what carries the password. Any refusal ends
 * the command with status 1 and the server's reply:
 *
 *   postino send: RCPT TO:<x@example.org>: 550 5.1.1 <x@example.org>: no such user
 *
 * The SMTP client is smtpc.c, shared with "postino doctor --connect".
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>

#include "cli/cli.h"
#include "cli/smtpc.h"
#include "relay/reply.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define SEND_MESSAGE_MAX (64u * 1024 * 1024)   /* what standard input may hold */

#define SEND_USAGE \
    "Usage: postino send --server HOST[:PORT] [--tls starttls|implicit|none]\n" \
    "                    [--user USER [--password-file FILE]] --from ADDRESS --to ADDRESS...\n" \
    "                    [--subject TEXT] [--header 'Name: value']... [--body TEXT | < message]\n" \
    "                    [--cafile FILE] [--insecure] [--timeout SECONDS] [-v]\n"

enum { OPT_SERVER = 256, OPT_TLS, OPT_USER, OPT_PASSWORD_FILE, OPT_FROM, OPT_TO, OPT_SUBJECT,
       OPT_HEADER, OPT_BODY, OPT_CAFILE, OPT_INSECURE, OPT_TIMEOUT };

enum tls_mode { TLS_DEFAULT, TLS_STARTTLS, TLS_IMPLICIT, TLS_NONE };

struct send_args {
    char                 host[256];
    char                 port[8];
    enum tls_mode        tls;
    const char          *user;
    const char          *password_file;
    const char          *from;
    const char         **to;            /* nto of them */
    size_t               nto;
    const char          *subject;
    const char         **headers;       /* nheaders of them, "Name: value" */
    size_t               nheaders;
    const char          *body;          /* NULL: the message is on standard input */
    struct smtpc_options o;
};

static bool address_ok(const char *a, bool empty_ok);
static bool header_ok(const char *h);
static bool has_header(const struct send_args *a, const char *name);
static bool is_8bit(const char *p, size_t n);
static void put_subject(struct buf *m, const char *subject);
static void build_message(const struct send_args *a, struct buf *m);
static bool read_stdin(struct buf *m);
static bool checked(struct smtpc *c, const struct smtp_reply *r, enum smtpc_status st,
                    const char *what, int want);
static bool command(struct smtpc *c, struct smtp_reply *r, const char *what, int want);
static void tls_failed(struct smtpc *c, enum smtpc_status st);
static int parse_args(int argc, char **argv, struct send_args *a);
static bool submit(const struct send_args *a, const char *password, const struct buf *msg);

/* address_ok - a path we can put between < and > (the server judges the rest) */
static bool
address_ok(const char *a, bool empty_ok)
{
    if (!*a)
        return empty_ok;
    for (const unsigned char *p = (const unsigned char *)a; *p; p++)
        if (*p <= ' ' || *p == '<' || *p == '>' || *p == 0x7f)
            return false;
    return strlen(a) <= 254;
}

/* header_ok - "Name: value": a field name of printable ASCII (RFC 5322 2.2), one line */
static bool
header_ok(const char *h)
{
    const char *colon = strchr(h, ':');

    if (!colon || colon == h || strpbrk(h, "\r\n"))
        return false;
    for (const char *p = h; p < colon; p++)
        if (*p < 33 || *p > 126)
            return false;
    return true;
}

/* has_header - does a --header give the field name? */
static bool
has_header(const struct send_args *a, const char *name)
{
    size_t n = strlen(name);

    for (size_t i = 0; i < a->nheaders; i++)
        if (strncasecmp(a->headers[i], name, n) == 0 && a->headers[i][n] == ':')
            return true;
    return false;
}

static bool
is_8bit(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

/*
 * put_subject - the Subject field; text that is not ASCII goes in RFC 2047
 * encoded words of at most 39 octets (52 in base64: with "Subject: " and
 * the word's 12 octets of frame a line stays under 78, RFC 5322 2.1.1),
 * cut between UTF-8 characters.
 */
static void
put_subject(struct buf *m, const char *subject)
{
    size_t n = strlen(subject);

    if (!is_8bit(subject, n)) {
        buf_printf(m, "Subject: %s\r\n", subject);
        return;
    }
    buf_puts(m, "Subject:");
    for (size_t i = 0; i < n;) {
        size_t k = n - i > 39 ? 39 : n - i;
        while (i + k < n && k > 1 && ((unsigned char)subject[i + k] & 0xc0) == 0x80)
            k--;    /* do not cut a character in two */
        char b64[64];
        base64_encode((const unsigned char *)subject + i, k, b64);
        buf_printf(m, "%s=?UTF-8?B?%s?=", i ? "\r\n " : " ", b64);
        i += k;
    }
    buf_puts(m, "\r\n");
}

/* build_message - the message of --body, with the fields a mail program adds */
static void
build_message(const struct send_args *a, struct buf *m)
{
    char date[64], host[256] = "localhost";
    unsigned char rnd[12];
    time_t now = time(NULL);
    struct tm tm;
    const char *at = strrchr(a->from, '@');

    localtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);     /* RFC 5322 3.3 */
    if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
        for (size_t i = 0; i < sizeof(rnd); i++)
            rnd[i] = (unsigned char)(rand() ^ (int)now);
    if (at && at[1])
        snprintf(host, sizeof(host), "%s", at + 1);
    else
        gethostname(host, sizeof(host) - 1);

    if (!has_header(a, "Date"))
        buf_printf(m, "Date: %s\r\n", date);
    if (!has_header(a, "Message-ID")) {
        buf_puts(m, "Message-ID: <");
        for (size_t i = 0; i < sizeof(rnd); i++)
            buf_printf(m, "%02x", rnd[i]);
        buf_printf(m, ".postino-send@%s>\r\n", host);
    }
    if (!has_header(a, "From"))
        buf_printf(m, "From: <%s>\r\n", a->from);
    if (!has_header(a, "To")) {
        buf_puts(m, "To: ");
        for (size_t i = 0; i < a->nto; i++)
            buf_printf(m, "%s<%s>", i ? ",\r\n    " : "", a->to[i]);
        buf_puts(m, "\r\n");
    }
    if (!has_header(a, "Subject"))
        put_subject(m, a->subject ? a->subject : "Test message from postino send");
    if (is_8bit(a->body, strlen(a->body)) && !has_header(a, "Content-Type"))
        buf_puts(m, "MIME-Version: 1.0\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n");
    for (size_t i = 0; i < a->nheaders; i++)
        buf_printf(m, "%s\r\n", a->headers[i]);
    buf_puts(m, "\r\n");
    buf_puts(m, a->body);
}

/* read_stdin - the whole message from standard input */
static bool
read_stdin(struct buf *m)
{
    char chunk[65536];
    ssize_t n;

    while ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "postino send: cannot read the message: %s\n", strerror(errno));
            return false;
        }
        if (m->len + (size_t)n > SEND_MESSAGE_MAX) {
            fprintf(stderr, "postino send: the message is larger than %u MiB\n",
                    SEND_MESSAGE_MAX >> 20);
            return false;
        }
        buf_append(m, chunk, (size_t)n);
    }
    return true;
}

/*
 * checked - did the step work? Prints "postino send: WHAT: reply" when
 * not. want is the code wanted; 250 stands for any 2xx.
 */
static bool
checked(struct smtpc *c, const struct smtp_reply *r, enum smtpc_status st, const char *what,
        int want)
{
    char line[512];

    if (st != SMTPC_OK) {
        fprintf(stderr, "postino send: %s: %s\n", what, smtpc_error(c));
        return false;
    }
    if (r->code == want || (want == 250 && r->code / 100 == 2))
        return true;
    reply_oneline(r, line, sizeof(line));
    fprintf(stderr, "postino send: %s: %s\n", what, line);
    return false;
}

/* command - send the command what, read its reply, check it */
static bool
command(struct smtpc *c, struct smtp_reply *r, const char *what, int want)
{
    return checked(c, r, smtpc_cmd(c, r, NULL, "%s", what), what, want);
}

/* tls_failed - say why TLS did not come up, and what the options can do about it */
static void
tls_failed(struct smtpc *c, enum smtpc_status st)
{
    const char *hint = "";

    if (st == SMTPC_CERT_INVALID)
        hint = strstr(smtpc_error(c), "--cafile") ? " (--insecure skips the check)"
             : " (--cafile FILE trusts a certificate, --insecure skips the check)";
    fprintf(stderr, "postino send: TLS: %s%s\n", smtpc_error(c), hint);
}

/* submit - the whole dialogue; false when anything failed (and said so) */
static bool
submit(const struct send_args *a, const char *password, const struct buf *msg)
{
    struct smtpc *c = smtpc_new(a->host, a->port, &a->o);
    struct smtp_reply r;
    struct ehlo_caps caps;
    struct buf data = BUF_INIT;
    enum smtpc_status st;
    char line[512], *cmd = NULL;
    bool ok = false, connected = false;

    reply_init(&r);
    if ((st = smtpc_connect(c)) != SMTPC_OK) {
        fprintf(stderr, "postino send: %s\n", smtpc_error(c));
        goto out;
    }
    connected = true;
    if (a->tls == TLS_IMPLICIT && (st = smtpc_tls(c)) != SMTPC_OK) {
        tls_failed(c, st);
        goto out;
    }
    st = smtpc_reply(c, &r, a->o.connect_ms);
    if (st == SMTPC_TIMEOUT && a->tls != TLS_IMPLICIT) {
        fprintf(stderr, "postino send: no greeting within %d s (does port %s expect TLS from "
                "the first byte? try --tls implicit)\n", (a->o.connect_ms + 999) / 1000, a->port);
        goto out;
    }
    if (!checked(c, &r, st, "greeting", 220))
        goto out;
    if (!checked(c, &r, smtpc_ehlo(c, &r, &caps), "EHLO", 250))
        goto out;
    if (a->tls == TLS_STARTTLS) {
        if (!caps.starttls) {
            fprintf(stderr, "postino send: the server does not offer STARTTLS on port %s "
                    "(--tls none sends without encryption)\n", a->port);
            goto out;
        }
        if (!command(c, &r, "STARTTLS", 220))
            goto out;
        if ((st = smtpc_tls(c)) != SMTPC_OK) {
            tls_failed(c, st);
            goto out;
        }
        /* RFC 3207 4.2: what was offered in the clear no longer counts */
        if (!checked(c, &r, smtpc_ehlo(c, &r, &caps), "EHLO", 250))
            goto out;
    }
    if (a->user) {
        if (!caps.auth_plain && !caps.auth_login) {
            fprintf(stderr, "postino send: the server offers no AUTH PLAIN or LOGIN on port %s\n",
                    a->port);
            goto out;
        }
        if (!checked(c, &r, smtpc_auth(c, &caps, a->user, password, &r), "AUTH", 235))
            goto out;
    }

    smtpc_data_encode(&data, msg->data ? msg->data : "", msg->len);
    bool eight = is_8bit(msg->data ? msg->data : "", msg->len);
    bool utf8 = is_8bit(a->from, strlen(a->from));
    for (size_t i = 0; i < a->nto; i++)
        utf8 = utf8 || is_8bit(a->to[i], strlen(a->to[i]));
    struct buf mail = BUF_INIT;
    buf_printf(&mail, "MAIL FROM:<%s>", a->from);
    if (caps.size)
        buf_printf(&mail, " SIZE=%zu", data.len - 3);      /* RFC 1870: without the end mark */
    if (eight && caps.eightbitmime)
        buf_puts(&mail, " BODY=8BITMIME");
    if (utf8 && caps.smtputf8)
        buf_puts(&mail, " SMTPUTF8");
    bool mail_ok = command(c, &r, buf_cstr(&mail), 250);
    buf_free(&mail);
    if (!mail_ok)
        goto out;
    for (size_t i = 0; i < a->nto; i++) {
        cmd = xasprintf("RCPT TO:<%s>", a->to[i]);
        if (!command(c, &r, cmd, 250))
            goto out;
        free(cmd);
        cmd = NULL;
    }
    if (!command(c, &r, "DATA", 354))
        goto out;
    if ((st = smtpc_write(c, data.data, data.len)) != SMTPC_OK) {
        fprintf(stderr, "postino send: sending the message: %s\n", smtpc_error(c));
        goto out;
    }
    if (!checked(c, &r, smtpc_reply(c, &r, 0), "end of data", 250))
        goto out;
    reply_oneline(&r, line, sizeof(line));
    ok = true;
out:
    if (connected)
        smtpc_quit(c);
    if (ok)
        printf("postino send: accepted: %s\n", line);
    free(cmd);
    buf_free(&data);
    reply_free(&r);
    smtpc_free(c);
    return ok;
}

/* parse_args - fill a from argv; 0, or the exit status of a usage error */
static int
parse_args(int argc, char **argv, struct send_args *a)
{
    static const struct option opts[] = {
        { "server", required_argument, NULL, OPT_SERVER },
        { "tls", required_argument, NULL, OPT_TLS },
        { "user", required_argument, NULL, OPT_USER },
        { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "subject", required_argument, NULL, OPT_SUBJECT },
        { "header", required_argument, NULL, OPT_HEADER },
        { "body", required_argument, NULL, OPT_BODY },
        { "cafile", required_argument, NULL, OPT_CAFILE },
        { "insecure", no_argument, NULL, OPT_INSECURE },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "verbose", no_argument, NULL, 'v' },
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *server = NULL;
    int ch;

    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:o:vh", opts, NULL)) != -1) {
        switch (ch) {
        case OPT_SERVER:
            server = optarg;
            break;
        case OPT_TLS:
            if (strcmp(optarg, "starttls") == 0)
                a->tls = TLS_STARTTLS;
            else if (strcmp(optarg, "implicit") == 0 || strcmp(optarg, "ssl") == 0)
                a->tls = TLS_IMPLICIT;
            else if (strcmp(optarg, "none") == 0)
                a->tls = TLS_NONE;
            else {
                fprintf(stderr, "postino send: --tls takes starttls, implicit or none, not "
                        "\"%s\"\n", optarg);
                return 2;
            }
            break;
        case OPT_USER:
            a->user = optarg;
            break;
        case OPT_PASSWORD_FILE:
            a->password_file = optarg;
            break;
        case OPT_FROM:
            a->from = optarg;
            break;
        case OPT_TO:
            a->to[a->nto++] = optarg;
            break;
        case OPT_SUBJECT:
            a->subject = optarg;
            break;
        case OPT_HEADER:
            a->headers[a->nheaders++] = optarg;
            break;
        case OPT_BODY:
            a->body = optarg;
            break;
        case OPT_CAFILE:
            a->o.cafile = optarg;
            break;
        case OPT_INSECURE:
            a->o.insecure = true;
            break;
        case OPT_TIMEOUT: {
            char *end;
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(s >= 0.1 && s <= 3600)) {
                fprintf(stderr, "postino send: --timeout takes seconds (0.1 to 3600), not "
                        "\"%s\"\n", optarg);
                return 2;
            }
            a->o.connect_ms = (int)(s * 1000);
            break;
        }
        case 'v':
            a->o.trace = stdout;
            break;
        case 'c':
        case 'o':
            break;      /* the configuration is not read: send talks to any server */
        case 'h':
            printf(SEND_USAGE);
            return -1;
        case ':':
            fprintf(stderr, "postino send: %s needs a value\n" SEND_USAGE, argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "postino send: unknown option %s\n" SEND_USAGE, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "postino send: unexpected \"%s\" (recipients go with --to)\n",
                argv[optind]);
        return 2;
    }
    if (!server || !a->from || a->nto == 0) {
        fprintf(stderr, "postino send: --server, --from and --to are needed\n" SEND_USAGE);
        return 2;
    }
    if (smtpc_split_hostport(server, a->host, sizeof(a->host), a->port, sizeof(a->port)) < 0) {
        fprintf(stderr, "postino send: --server wants HOST or HOST:PORT, not \"%s\"\n", server);
        return 2;
    }
    if (!address_ok(a->from, true)) {
        fprintf(stderr, "postino send: --from \"%s\" is not an address\n", a->from);
        return 2;
    }
    for (size_t i = 0; i < a->nto; i++)
        if (!address_ok(a->to[i], false)) {
            fprintf(stderr, "postino send: --to \"%s\" is not an address\n", a->to[i]);
            return 2;
        }
    for (size_t i = 0; i < a->nheaders; i++)
        if (!header_ok(a->headers[i])) {
            fprintf(stderr, "postino send: --header \"%s\" is not \"Name: value\"\n",
                    a->headers[i]);
            return 2;
        }
    if (!a->body && (a->subject || a->nheaders)) {
        fprintf(stderr, "postino send: --subject and --header go with --body (a message on "
                "standard input is sent as it is)\n");
        return 2;
    }
    if (a->password_file && !a->user) {
        fprintf(stderr, "postino send: --password-file goes with --user\n");
        return 2;
    }
    /* The port decides the default TLS mode, and the mode the default port. */
    if (a->tls == TLS_DEFAULT)
        a->tls = strcmp(a->port, "465") == 0 ? TLS_IMPLICIT : TLS_STARTTLS;
    if (!a->port[0])
        snprintf(a->port, sizeof(a->port), "%s", a->tls == TLS_IMPLICIT ? "465" : "587");
    if (a->user && a->tls == TLS_NONE) {
        fprintf(stderr, "postino send: --user needs TLS: the password is never sent in the "
                "clear\n");
        return 2;
    }
    return 0;
}

int
cli_send(int argc, char **argv)
{
    struct send_args a = { .o = { .connect_ms = 10000, .reply_ms = 120000 } };
    struct buf msg = BUF_INIT;
    char password[1025] = "", err[512];
    int rc;

    a.to = xcalloc((size_t)argc + 1, sizeof(*a.to));
    a.headers = xcalloc((size_t)argc + 1, sizeof(*a.headers));
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    rc = 2;
    if (a.user && smtpc_password(a.password_file, a.user, false, password, sizeof(password),
                                 err, sizeof(err)) < 0) {
        fprintf(stderr, "postino send: %s\n", err);
        goto out;
    }
    if (a.body)
        build_message(&a, &msg);
    else if (!read_stdin(&msg))
        goto out;
    rc = submit(&a, password, &msg) ? 0 : 1;
out:
    explicit_bzero(password, sizeof(password));
    buf_free(&msg);
    free(a.to);
    free(a.headers);
    return rc;
}
