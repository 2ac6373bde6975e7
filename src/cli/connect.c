/*
 * connect - "postino doctor --connect HOST[:PORT]": try a mail server the
 * way a mail program would, and say what is wrong in words its user
 * understands.
 *
 * "Cannot connect to the SMTP server" has a handful of causes, and each
 * shows at one step: the name does not resolve; nothing listens on the
 * port (refused); a firewall drops the connection (a timeout: many
 * providers block port 25); the port speaks TLS from the first byte and
 * the program was set to STARTTLS (no greeting), or the other way round;
 * no STARTTLS; a TLS handshake or a certificate that fails; no AUTH; a
 * wrong user name or password. Each step prints one line, "ok", "problem"
 * or "note", and the last line says what to set in the mail program, or
 * the problem. The exit status is 0 only when the server can take mail
 * from a mail program (with the credentials, when they are given).
 *
 * Without a port, 587 (STARTTLS) and 465 (implicit TLS, RFC 8314) are
 * both tried. cli_doctor (doctor.c) calls doctor_connect() with its argv
 * when --connect is given. The SMTP dialogue itself is smtpc.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "cli/cli.h"
#include "cli/smtpc.h"
#include "relay/reply.h"

#define DOCTOR_USAGE \
    "Usage: postino doctor --connect HOST[:PORT] [--timeout SECONDS] [--cafile FILE]\n" \
    "                      [--user USER [--password-file FILE]] [-v]\n"

/* the standard settings, for who tries port 25 (RFC 6409, RFC 8314) */
#define PORT25_ADVICE \
    " (but mail programs should use port 587 with STARTTLS or 465 with SSL/TLS, with " \
    "authentication: try postino doctor --connect HOST without a port)"

enum { OPT_CONNECT = 256, OPT_TIMEOUT, OPT_CAFILE, OPT_USER, OPT_PASSWORD_FILE, OPT_JSON };

enum mark { MARK_OK, MARK_PROBLEM, MARK_NOTE };

struct doctor {
    char                 host[256];
    struct smtpc_options o;
    const char          *user;          /* --user, or NULL */
    char                 password[1025];
};

/* What one port came to. */
struct port_check {
    const char *port;
    bool        implicit;       /* TLS from the first byte: as tried first, then as found */
    bool        cert_bad;       /* TLS is up but the certificate does not verify */
    bool        usable;         /* takes mail from a mail program (with the credentials) */
    char        problem[1024];  /* the first problem met, for the last line */
};

static void mark(struct port_check *pc, enum mark m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static const char *mode_name(const struct port_check *pc);
static int timeout_s(const struct doctor *d);
static void report_tls(struct smtpc *c, struct port_check *pc, enum smtpc_status st);
static bool open_port(struct doctor *d, struct smtpc *c, struct port_check *pc,
                      struct smtp_reply *r);
static bool starttls(struct smtpc *c, struct port_check *pc, struct smtp_reply *r);
static void try_login(struct doctor *d, struct smtpc *c, struct port_check *pc,
                      const struct ehlo_caps *caps, const char *mechs);
static void check_port(struct doctor *d, struct port_check *pc);
static void final_line(const struct doctor *d, struct port_check *pcs, size_t n, bool given);

/* mark - print one step; a problem is kept (the first) for the last line */
static void
mark(struct port_check *pc, enum mark m, const char *fmt, ...)
{
    static const char *const words[] = { "ok", "problem", "note" };
    char text[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    printf("  %-8s %s\n", words[m], text);
    fflush(stdout);
    if (m == MARK_PROBLEM && pc && !pc->problem[0])
        snprintf(pc->problem, sizeof(pc->problem), "%s", text);
}

static const char *
mode_name(const struct port_check *pc)
{
    return pc->implicit ? "SSL/TLS" : "STARTTLS";
}

static int
timeout_s(const struct doctor *d)
{
    return (d->o.connect_ms + 999) / 1000;
}

/* report_tls - one line on the handshake smtpc_tls() just did */
static void
report_tls(struct smtpc *c, struct port_check *pc, enum smtpc_status st)
{
    char info[768];

    smtpc_tls_info(c, info, sizeof(info));
    if (st == SMTPC_OK) {
        mark(pc, MARK_OK, "TLS: %s", info);
        return;
    }
    pc->cert_bad = true;
    mark(pc, MARK_PROBLEM, "%s", smtpc_cert_problem(c));
    mark(NULL, MARK_NOTE, "TLS: %s", info);
}

/*
 * open_port - connect, find out which TLS mode the port speaks, and read a
 * 220 greeting. A port tried in the clear that stays silent is tried with
 * TLS from the first byte; a port tried with TLS that answers in plain
 * text is tried in the clear: both are the classic mix-up of STARTTLS and
 * SSL/TLS in a mail program's settings.
 */
static bool
open_port(struct doctor *d, struct smtpc *c, struct port_check *pc, struct smtp_reply *r)
{
    enum smtpc_status st;
    char line[512];

    if ((st = smtpc_connect(c)) != SMTPC_OK) {
        mark(pc, MARK_PROBLEM, "%s", smtpc_error(c));
        return false;
    }
    mark(pc, MARK_OK, "connected to %s port %s", smtpc_peer(c), pc->port);
    if (pc->implicit) {
        st = smtpc_tls(c);
        if (st == SMTPC_TLS_NOT_TLS) {
            mark(NULL, MARK_NOTE, "port %s does not speak TLS from the first byte (it answered "
                 "in plain text); trying plain SMTP with STARTTLS", pc->port);
            pc->implicit = false;
            if ((st = smtpc_connect(c)) != SMTPC_OK) {
                mark(pc, MARK_PROBLEM, "%s", smtpc_error(c));
                return false;
            }
        } else if (st == SMTPC_OK || st == SMTPC_CERT_INVALID) {
            report_tls(c, pc, st);
        } else if (st == SMTPC_TIMEOUT) {
            mark(pc, MARK_PROBLEM, "connected, but the server did not answer the TLS handshake "
                 "within %d s: a firewall or a proxy may hold the connection, or this is not "
                 "a mail server", timeout_s(d));
            return false;
        } else {
            mark(pc, MARK_PROBLEM, "TLS on port %s: %s", pc->port, smtpc_error(c));
            return false;
        }
    }
    st = smtpc_reply(c, r, d->o.connect_ms);
    if (st == SMTPC_TIMEOUT && !pc->implicit) {
        mark(NULL, MARK_NOTE, "connected, but no greeting within %d s; trying TLS from the first "
             "byte, in case port %s is an SSL/TLS port", timeout_s(d), pc->port);
        if ((st = smtpc_connect(c)) != SMTPC_OK) {
            mark(pc, MARK_PROBLEM, "%s", smtpc_error(c));
            return false;
        }
        st = smtpc_tls(c);
        if (st == SMTPC_TIMEOUT) {
            mark(pc, MARK_PROBLEM, "connected to port %s, but the server says nothing, neither "
                 "SMTP nor TLS, within %d s: a firewall or a proxy may hold the connection, "
                 "or this is not a mail server", pc->port, timeout_s(d));
            return false;
        }
        if (st != SMTPC_OK && st != SMTPC_CERT_INVALID) {
            mark(pc, MARK_PROBLEM, "connected to port %s, but no greeting within %d s, and TLS "
                 "does not work either: %s", pc->port, timeout_s(d), smtpc_error(c));
            return false;
        }
        pc->implicit = true;
        mark(NULL, MARK_NOTE, "port %s speaks TLS from the first byte (implicit TLS): in the "
             "mail program, use SSL/TLS on port %s, not STARTTLS", pc->port, pc->port);
        report_tls(c, pc, st);
        st = smtpc_reply(c, r, d->o.connect_ms);
    }
    switch (st) {
    case SMTPC_OK:
        break;
    case SMTPC_TIMEOUT:
        mark(pc, MARK_PROBLEM, "TLS is up, but the server sent no greeting within %d s",
             timeout_s(d));
        return false;
    case SMTPC_CLOSED:
        mark(pc, MARK_PROBLEM, "the server closed the connection without a greeting: it may "
             "refuse connections from this address, or be overloaded");
        return false;
    case SMTPC_NOT_SMTP:
        mark(pc, MARK_PROBLEM, "this is not an SMTP server: %s", smtpc_error(c));
        return false;
    default:
        mark(pc, MARK_PROBLEM, "no greeting: %s", smtpc_error(c));
        return false;
    }
    reply_oneline(r, line, sizeof(line));
    if (r->code != 220) {
        mark(pc, MARK_PROBLEM, "the server does not take mail now: its greeting is \"%s\"", line);
        return false;
    }
    mark(pc, MARK_OK, "greeting: %s", line);
    return true;
}

/* starttls - STARTTLS and the handshake; false when TLS did not come up */
static bool
starttls(struct smtpc *c, struct port_check *pc, struct smtp_reply *r)
{
    enum smtpc_status st;
    char line[512];

    st = smtpc_cmd(c, r, NULL, "STARTTLS");
    if (st != SMTPC_OK) {
        mark(pc, MARK_PROBLEM, "STARTTLS: %s", smtpc_error(c));
        return false;
    }
    if (r->code != 220) {
        reply_oneline(r, line, sizeof(line));
        mark(pc, MARK_PROBLEM, "the server offers STARTTLS but refuses it: %s", line);
        return false;
    }
    st = smtpc_tls(c);
    if (st != SMTPC_OK && st != SMTPC_CERT_INVALID) {
        mark(pc, MARK_PROBLEM, "TLS after STARTTLS: %s", smtpc_error(c));
        return false;
    }
    report_tls(c, pc, st);
    return true;
}

/* try_login - AUTH with --user and the password, inside TLS */
static void
try_login(struct doctor *d, struct smtpc *c, struct port_check *pc,
          const struct ehlo_caps *caps, const char *mechs)
{
    struct smtp_reply r;
    enum smtpc_status st;
    char line[512];

    if (pc->cert_bad) {
        mark(NULL, MARK_NOTE, "the password was not tried: the certificate does not verify, "
             "so this may not be the real server");
        return;
    }
    if (!caps->auth_plain && !caps->auth_login) {
        mark(pc, MARK_PROBLEM, "the server offers only AUTH %s, which this check cannot try "
             "(it knows PLAIN and LOGIN)", mechs);
        return;
    }
    reply_init(&r);
    st = smtpc_auth(c, caps, d->user, d->password, &r);
    reply_oneline(&r, line, sizeof(line));
    if (st != SMTPC_OK)
        mark(pc, MARK_PROBLEM, "AUTH: %s", smtpc_error(c));
    else if (r.code == 235)
        mark(pc, MARK_OK, "the server accepts the user name %s and its password (AUTH %s)",
             d->user, caps->auth_plain ? "PLAIN" : "LOGIN");
    else if (r.code == 535)
        mark(pc, MARK_PROBLEM, "the server refuses the user name %s or its password: %s "
             "(check both; the user name is usually the full address)", d->user, line);
    else if (r.code / 100 == 4)
        mark(pc, MARK_PROBLEM, "the server cannot check the password now: %s", line);
    else
        mark(pc, MARK_PROBLEM, "the login fails: %s", line);
    reply_free(&r);
}

/* check_port - every step on one port; pc->usable says whether it works */
static void
check_port(struct doctor *d, struct port_check *pc)
{
    struct smtpc *c = smtpc_new(d->host, pc->port, &d->o);
    struct smtp_reply r;
    struct ehlo_caps caps;
    enum smtpc_status st;
    char mechs[256], line[512];
    bool ok = false;

    printf("Port %s (%s):\n", pc->port, mode_name(pc));
    reply_init(&r);
    if (!open_port(d, c, pc, &r))
        goto done;
    if ((st = smtpc_ehlo(c, &r, &caps)) != SMTPC_OK) {
        mark(pc, MARK_PROBLEM, "EHLO: %s", smtpc_error(c));
        goto quit;
    }
    if (r.code != 250) {
        reply_oneline(&r, line, sizeof(line));
        mark(pc, MARK_PROBLEM, "the server refuses EHLO: %s", line);
        goto quit;
    }
    smtpc_auth_mechs(&r, mechs, sizeof(mechs));
    if (!smtpc_is_tls(c)) {
        if (!caps.starttls) {
            mark(pc, MARK_PROBLEM, "the server does not offer STARTTLS on port %s: a mail "
                 "program set to STARTTLS stops here, and without it the password would "
                 "travel unencrypted", pc->port);
            if (mechs[0])
                mark(NULL, MARK_NOTE, "it offers AUTH %s without encryption", mechs);
            goto quit;
        }
        mark(pc, MARK_OK, "STARTTLS offered");
        if (!starttls(c, pc, &r))
            goto quit;
        /* RFC 3207 4.2: forget what was said before TLS, ask again */
        if ((st = smtpc_ehlo(c, &r, &caps)) != SMTPC_OK || r.code != 250) {
            mark(pc, MARK_PROBLEM, "EHLO inside TLS: %s", st != SMTPC_OK ? smtpc_error(c)
                 : "refused");
            goto quit;
        }
        smtpc_auth_mechs(&r, mechs, sizeof(mechs));
    }
    if (!mechs[0]) {
        mark(pc, MARK_PROBLEM, "the server offers no AUTH (login) on port %s, even inside "
             "TLS: it takes no mail from mail programs here", pc->port);
        goto quit;
    }
    mark(pc, MARK_OK, "AUTH offered inside TLS: %s", mechs);
    if (d->user)
        try_login(d, c, pc, &caps, mechs);      /* a refusal is a problem */
    ok = !pc->cert_bad;
quit:
    smtpc_quit(c);
done:
    if (strcmp(pc->port, "25") == 0)
        mark(NULL, MARK_NOTE, "port 25 is for mail between servers: many Internet providers "
             "block it, and many servers take no logins on it. Mail programs use port 587 "
             "with STARTTLS or port 465 with SSL/TLS, with authentication");
    pc->usable = ok && !pc->problem[0];
    reply_free(&r);
    smtpc_free(c);
}

/* final_line - what to set in the mail program, or the problem */
static void
final_line(const struct doctor *d, struct port_check *pcs, size_t n, bool given)
{
    const struct port_check *use = NULL;
    struct port_check *pc;

    for (size_t i = 0; i < n && !use; i++)
        if (pcs[i].usable)
            use = &pcs[i];
    if (!given) {
        printf("Ports that work: ");
        bool any = false;
        for (size_t i = 0; i < n; i++)
            if (pcs[i].usable) {
                printf("%s%s (%s)", any ? ", " : "", pcs[i].port, mode_name(&pcs[i]));
                any = true;
            }
        printf("%s\n", any ? "" : "none");
    }
    if (use) {
        if (d->user)
            printf("Use: server %s, port %s, %s, user name %s", d->host, use->port,
                   mode_name(use), d->user);
        else
            printf("Use: server %s, port %s, %s, your full address as user name", d->host,
                   use->port, mode_name(use));
        printf("%s\n", strcmp(use->port, "25") == 0 ? PORT25_ADVICE : "");
        return;
    }
    if (n == 1) {
        printf("Problem: %s%s\n", pcs[0].problem,
               strcmp(pcs[0].port, "25") == 0 ? PORT25_ADVICE : "");
        return;
    }
    printf("Problem:");
    for (size_t i = 0; i < n; i++) {
        pc = &pcs[i];
        printf("%s port %s: %s", i ? ";" : "", pc->port, pc->problem);
    }
    printf("\n");
}

int
doctor_connect(int argc, char **argv)
{
    static const struct option opts[] = {
        { "connect", required_argument, NULL, OPT_CONNECT },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "cafile", required_argument, NULL, OPT_CAFILE },
        { "user", required_argument, NULL, OPT_USER },
        { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
        { "json", no_argument, NULL, OPT_JSON },
        { "verbose", no_argument, NULL, 'v' },
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct doctor d = { .o = { .connect_ms = 10000, .reply_ms = 30000 } };
    const char *target = NULL, *password_file = NULL;
    char port[8], err[512], addrs[512];
    struct port_check pcs[2];
    size_t npcs = 0;
    int ch, status = 1;

    optind = 0;         /* a fresh scan: cli_doctor may have read argv already */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, ":c:o:vh", opts, NULL)) != -1) {
        switch (ch) {
        case OPT_CONNECT:
            target = optarg;
            break;
        case OPT_TIMEOUT: {
            char *end;
            errno = 0;
            double s = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(s >= 0.1 && s <= 3600)) {
                fprintf(stderr, "postino doctor: --timeout takes seconds (0.1 to 3600), not "
                        "\"%s\"\n", optarg);
                return 2;
            }
            d.o.connect_ms = (int)(s * 1000);
            break;
        }
        case OPT_CAFILE:
            d.o.cafile = optarg;
            break;
        case OPT_USER:
            d.user = optarg;
            break;
        case OPT_PASSWORD_FILE:
            password_file = optarg;
            break;
        case 'v':
            d.o.trace = stdout;
            break;
        case 'c':
        case 'o':
            break;      /* the configuration is not read: this checks another server */
        case 'h':
            printf(DOCTOR_USAGE);
            return 0;
        case OPT_JSON:
            fprintf(stderr, "postino doctor: --json does not go with --connect\n");
            return 2;
        case ':':
            fprintf(stderr, "postino doctor: %s needs a value\n" DOCTOR_USAGE, argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "postino doctor: unknown option %s\n" DOCTOR_USAGE, argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "postino doctor: --connect checks one server; \"%s\" is one word too "
                "many\n", argv[optind]);
        return 2;
    }
    if (!target || smtpc_split_hostport(target, d.host, sizeof(d.host), port, sizeof(port)) < 0) {
        fprintf(stderr, "postino doctor: --connect wants HOST or HOST:PORT, not \"%s\"\n"
                DOCTOR_USAGE, target ? target : "");
        return 2;
    }
    if (password_file && !d.user) {
        fprintf(stderr, "postino doctor: --password-file goes with --user\n");
        return 2;
    }
    if (d.user && smtpc_password(password_file, d.user, true, d.password, sizeof(d.password),
                                 err, sizeof(err)) < 0) {
        fprintf(stderr, "postino doctor: %s\n", err);
        return 2;
    }

    printf("Checking %s as a mail program would:\n", d.host);
    struct smtpc *probe = smtpc_new(d.host, port[0] ? port : "587", &d.o);
    enum smtpc_status st = smtpc_resolve(probe, addrs, sizeof(addrs));
    unsigned char a6[16];
    bool literal = inet_pton(AF_INET, d.host, a6) == 1 || inet_pton(AF_INET6, d.host, a6) == 1;
    if (st != SMTPC_OK) {
        struct port_check none = { .port = "" };
        mark(&none, MARK_PROBLEM, "%s", smtpc_error(probe));
        printf("Problem: %s\n", none.problem);
        smtpc_free(probe);
        goto out;
    }
    if (!literal)
        mark(NULL, MARK_OK, "%s has the address%s %s", d.host, strchr(addrs, ',') ? "es" : "",
             addrs);
    smtpc_free(probe);

    memset(pcs, 0, sizeof(pcs));
    if (port[0]) {
        pcs[npcs].port = port;
        pcs[npcs++].implicit = strcmp(port, "465") == 0;
    } else {
        pcs[npcs++].port = "587";
        pcs[npcs].port = "465";
        pcs[npcs++].implicit = true;
    }
    for (size_t i = 0; i < npcs; i++)
        check_port(&d, &pcs[i]);
    final_line(&d, pcs, npcs, port[0] != '\0');
    for (size_t i = 0; i < npcs; i++)
        if (pcs[i].usable)
            status = 0;
out:
    explicit_bzero(d.password, sizeof(d.password));
    return status;
}
