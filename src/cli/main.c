/*
 * main - the postino command: one binary, several verbs.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "daemon/serve.h"
#include "util/xmalloc.h"

/* long options without a short form */
enum { OPT_SELECTOR = 256, OPT_ALGORITHM };

struct verb {
    const char *name;
    const char *usage;
    const char *help;
    int       (*own_options)(int argc, char **argv);    /* parses its own argv */
};

static const struct verb verbs[] = {
    { "serve", "postino serve [-c FILE] [-o key=value]...",
      "Run the mail server in the foreground: every listener, the queue and\n"
      "delivery. Without a configuration file it runs the trial setup: domain\n"
      "localhost (any address), SMTP on 127.0.0.1:2525, data in ./postino-data.\n"
      "SIGTERM or SIGINT stops it cleanly; SIGHUP reloads the configuration.", NULL },
    { "user", "postino user add|passwd|del ADDRESS | list  [-c FILE] [-o key=value]...",
      "Manage the users of the local domains (<data_dir>/users). add and passwd\n"
      "read the password from standard input when it is not a terminal, else\n"
      "ask for it twice. A running server sees the change at once.", NULL },
    { "check-config", "postino check-config [-c FILE] [-o key=value]...",
      "Read the configuration and report every problem, one \"FILE:LINE: message\"\n"
      "a line; the exit status is 1 when there is any.", NULL },
    { "queue", "postino queue list [--json] | show ID | flush | retry ID | delete ID  "
      "[-c FILE] [-o key=value]...",
      "Look at and act on the queue of the running server, through its control\n"
      "socket <data_dir>/control. list shows each message (id, age, size, sender)\n"
      "and under it each recipient with its state and last error; --json prints\n"
      "the server's answer as is. show adds the message's headers. flush tries\n"
      "every message now, retry ID one message; delete ID drops a message without\n"
      "delivering or bouncing it.", NULL },
    { "dkim", "postino dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519] | list [DOMAIN]  "
      "[-c FILE] [-o key=value]...",
      "DKIM signing keys (RFC 6376). keygen makes a key for DOMAIN (RSA of 2048\n"
      "bits by default, or Ed25519) in <data_dir>/dkim/DOMAIN/SELECTOR.ALG.pem and\n"
      "prints the TXT record to publish in the DNS as a zone-file line. The\n"
      "selector defaults to the month: sYYYYMM for RSA, eYYYYMM for Ed25519. The\n"
      "newest key of each algorithm signs. list shows every key and its record.", NULL },
    { "doctor", "postino doctor [DOMAIN...] [--json] | --connect HOST[:PORT] [--user U "
      "[--password-file F]]  [-c FILE] [-o key=value]...",
      "Check this server's setup (DNS, identity, SPF, DKIM, DMARC, blocklists, TLS,\n"
      "queue) and say what to fix; or, with --connect, try a mail server the way a\n"
      "mail program would and explain why it cannot connect.", cli_doctor },
    { "send", "postino send --server HOST[:PORT] [--tls starttls|implicit|none] [--user U "
      "--password-file F] --from A --to B... [--subject S] [--header 'H: v']... "
      "[--body TEXT | < message] [--cafile F] [--insecure] [--timeout S] [-v]",
      "Submit one message the way a mail program does, to test a setup.", cli_send },
    { "sendmail", "postino sendmail [-t] [-i] [-f SENDER] [-F NAME] [--] [RECIPIENT...] < message",
      "The sendmail command for cron, scripts and web applications: the message on\n"
      "standard input goes to the local server's queue. Also run as \"sendmail\".",
      cli_sendmail },
    { "help", "postino help [VERB]", "Say what each verb does.", NULL },
};

static void
usage_all(FILE *f)
{
    fprintf(f, "postino - a mail server\n\nUsage:\n");
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        fprintf(f, "  %s\n", verbs[i].usage);
    fprintf(f, "\nEvery verb takes -c FILE (default /etc/postino/postino.conf when it\n"
               "exists) and -o key=value to override a key. \"postino VERB --help\" says more.\n");
}

static const struct verb *
find_verb(const char *name)
{
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (strcmp(verbs[i].name, name) == 0)
            return &verbs[i];
    return NULL;
}

static void
verb_help(const struct verb *v)
{
    printf("Usage: %s\n\n%s\n", v->usage, v->help);
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "json", no_argument, NULL, 'j' },
        { "selector", required_argument, NULL, OPT_SELECTOR },
        { "algorithm", required_argument, NULL, OPT_ALGORITHM },
        { NULL, 0, NULL, 0 },
    };
    struct cli_args a = { 0 };
    const struct verb *v;
    int c;

    /* Installed or linked as "sendmail": the traditional command line. */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    if (strcmp(base, "sendmail") == 0) {
        argv[0] = (char *)"sendmail";
        return cli_sendmail(argc, argv);
    }
    if (argc < 2) {
        usage_all(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_all(stdout);
        return 0;
    }
    if (!(v = find_verb(argv[1]))) {
        fprintf(stderr, "postino: unknown verb \"%s\"\n\n", argv[1]);
        usage_all(stderr);
        return 2;
    }
    if (v->own_options)
        return v->own_options(argc - 1, argv + 1);
    /* GNU style: options anywhere after the verb. */
    a.overrides = xcalloc((size_t)argc, sizeof(char *));
    a.words = xcalloc((size_t)argc, sizeof(char *));
    optind = 2;
    while ((c = getopt_long(argc, argv, "c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a.config = optarg;
            break;
        case 'o':
            a.overrides[a.noverrides++] = optarg;
            break;
        case 'j':
            if (strcmp(v->name, "queue") != 0) {
                fprintf(stderr, "postino %s: --json goes only with \"queue\"\nUsage: %s\n",
                        v->name, v->usage);
                free(a.overrides);
                free(a.words);
                return 2;
            }
            a.json = true;
            break;
        case OPT_SELECTOR:
        case OPT_ALGORITHM:
            if (strcmp(v->name, "dkim") != 0) {
                fprintf(stderr, "postino %s: --%s goes only with \"dkim\"\nUsage: %s\n",
                        v->name, c == OPT_SELECTOR ? "selector" : "algorithm", v->usage);
                free(a.overrides);
                free(a.words);
                return 2;
            }
            if (c == OPT_SELECTOR)
                a.selector = optarg;
            else
                a.algorithm = optarg;
            break;
        case 'h':
            verb_help(v);
            free(a.overrides);
            free(a.words);
            return 0;
        default:
            fprintf(stderr, "Usage: %s\n", v->usage);
            free(a.overrides);
            free(a.words);
            return 2;
        }
    }
    for (int i = optind; i < argc; i++)
        a.words[a.nwords++] = argv[i];

    int rc;
    if (strcmp(v->name, "help") == 0) {
        const struct verb *w = a.nwords ? find_verb(a.words[0]) : NULL;
        if (w)
            verb_help(w);
        else
            usage_all(stdout);
        rc = 0;
    } else if (strcmp(v->name, "serve") == 0) {
        if (a.nwords) {
            fprintf(stderr, "postino serve: unexpected argument \"%s\"\n", a.words[0]);
            rc = 2;
        } else {
            rc = serve_main(a.config, a.overrides, a.noverrides);
        }
    } else if (strcmp(v->name, "user") == 0) {
        rc = cli_user(&a);
    } else if (strcmp(v->name, "queue") == 0) {
        rc = cli_queue(&a);
    } else if (strcmp(v->name, "dkim") == 0) {
        rc = cli_dkim(&a);
    } else {
        rc = cli_check_config(&a);
    }
    free(a.overrides);
    free(a.words);
    return rc;
}
