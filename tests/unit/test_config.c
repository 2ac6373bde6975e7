/*
 * test_config - unit tests for src/conf/config.c: the "key = value"
 * configuration, its value parsers, its defaults and config_load().
 *
 * Table-driven: each row is one input and the expected outcome; every
 * mismatch is reported as "got ..., want ..." and the test fails at the
 * end, so one run shows all broken rows. Errors are compared whole, so
 * the "FILE:LINE: message" format that check-config prints is pinned.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf/config.h"
#include "util/buf.h"

#include "check.h"

/*
 * describe - the value of key in cfg as text, into out: numbers in
 * decimal, lists joined by ",", the log target by name.
 */
static const char *
describe(const struct config *cfg, const char *key, char *out, size_t outlen)
{
    struct buf b = BUF_INIT;

    if (strcmp(key, "hostname") == 0)
        buf_puts(&b, cfg->hostname);
    else if (strcmp(key, "data_dir") == 0)
        buf_puts(&b, cfg->data_dir);
    else if (strcmp(key, "aliases_file") == 0)
        buf_puts(&b, cfg->aliases_file ? cfg->aliases_file : "(null)");
    else if (strcmp(key, "users_file") == 0)
        buf_puts(&b, cfg->users_file ? cfg->users_file : "(null)");
    else if (strcmp(key, "domains") == 0) {
        for (size_t i = 0; i < cfg->ndomains; i++)
            buf_printf(&b, "%s%s", i ? "," : "", cfg->domains[i]);
        if (cfg->domains[cfg->ndomains] != NULL)
            buf_puts(&b, "(not NULL-terminated)");
    } else if (strcmp(key, "listen_smtp") == 0) {
        for (size_t i = 0; i < cfg->listen_smtp.n; i++)
            buf_printf(&b, "%s%s", i ? "," : "", cfg->listen_smtp.v[i].text);
    } else if (strcmp(key, "message_size_limit") == 0)
        buf_printf(&b, "%zu", cfg->message_size_limit);
    else if (strcmp(key, "max_recipients") == 0)
        buf_printf(&b, "%u", cfg->max_recipients);
    else if (strcmp(key, "smtp_timeout") == 0)
        buf_printf(&b, "%u", cfg->smtp_timeout);
    else if (strcmp(key, "smtp_data_timeout") == 0)
        buf_printf(&b, "%u", cfg->smtp_data_timeout);
    else if (strcmp(key, "max_connections") == 0)
        buf_printf(&b, "%u", cfg->max_connections);
    else if (strcmp(key, "max_connections_per_ip") == 0)
        buf_printf(&b, "%u", cfg->max_connections_per_ip);
    else if (strcmp(key, "log") == 0)
        buf_puts(&b, cfg->log == LOG_TO_STDERR ? "stderr"
                     : cfg->log == LOG_TO_SYSLOG ? "syslog" : "?");
    else
        buf_printf(&b, "(no such key %s)", key);
    snprintf(out, outlen, "%s", buf_cstr(&b));
    buf_free(&b);
    return out;
}

/* ---- parse_duration ---------------------------------------------------- */

static void
test_parse_duration(void **state)
{
    static const struct {
        const char *in;
        bool        ok;
        unsigned    want;
    } cases[] = {
        { "30",          true,  30 },
        { "0",           true,  0 },
        { "30s",         true,  30 },
        { "5m",          true,  300 },
        { "2h",          true,  7200 },
        { "1d",          true,  86400 },
        { "007m",        true,  420 },
        { "36500d",      true,  3153600000u },  /* 100 years: the cap */
        { "3153600000",  true,  3153600000u },
        { "36501d",      false, 0 },
        { "3153600001",  false, 0 },
        { "99999999999999999999999", false, 0 },   /* ERANGE */
        { "",            false, 0 },
        { "s",           false, 0 },
        { "m5",          false, 0 },
        { "-5",          false, 0 },
        { "+5",          false, 0 },
        { " 5",          false, 0 },
        { "5 ",          false, 0 },
        { "5 m",         false, 0 },
        { "5x",          false, 0 },
        { "5w",          false, 0 },
        { "5M",          false, 0 },    /* minutes are "m" only */
        { "5mm",         false, 0 },
        { "5ms",         false, 0 },
        { "1.5h",        false, 0 },
        { "0x10",        false, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        unsigned got = 12345;
        bool ok = parse_duration(cases[i].in, &got);

        if (ok != cases[i].ok)
            report("parse_duration(\"%s\"): got %s, want %s", cases[i].in,
                   ok ? "true" : "false", cases[i].ok ? "true" : "false");
        else if (ok && got != cases[i].want)
            report("parse_duration(\"%s\"): got %u, want %u", cases[i].in, got, cases[i].want);
        else if (!ok && got != 12345)
            report("parse_duration(\"%s\"): failed but wrote %u", cases[i].in, got);
    }
    assert_int_equal(failures, 0);
}

/* ---- parse_size -------------------------------------------------------- */

static void
test_parse_size(void **state)
{
    static const struct {
        const char *in;
        bool        ok;
        size_t      want;
    } cases[] = {
        { "1000",       true,  1000 },
        { "0",          true,  0 },
        { "10k",        true,  10240 },
        { "10K",        true,  10240 },
        { "10m",        true,  10485760 },
        { "10M",        true,  10485760 },
        { "1g",         true,  1073741824 },
        { "1G",         true,  1073741824 },
        { "1024g",      true,  (size_t)1 << 40 },   /* 1 TiB: the cap */
        { "1099511627776", true, (size_t)1 << 40 },
        { "1025g",      false, 0 },
        { "1099511627777", false, 0 },
        { "18446744073709551616", false, 0 },       /* ERANGE */
        { "",           false, 0 },
        { "k",          false, 0 },
        { "-1",         false, 0 },
        { "+1",         false, 0 },
        { " 10",        false, 0 },
        { "10 ",        false, 0 },
        { "10 k",       false, 0 },
        { "10kb",       false, 0 },
        { "10t",        false, 0 },
        { "1.5m",       false, 0 },
        { "0x10",       false, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t got = 12345;
        bool ok = parse_size(cases[i].in, &got);

        if (ok != cases[i].ok)
            report("parse_size(\"%s\"): got %s, want %s", cases[i].in,
                   ok ? "true" : "false", cases[i].ok ? "true" : "false");
        else if (ok && got != cases[i].want)
            report("parse_size(\"%s\"): got %zu, want %zu", cases[i].in, got, cases[i].want);
        else if (!ok && got != 12345)
            report("parse_size(\"%s\"): failed but wrote %zu", cases[i].in, got);
    }
    assert_int_equal(failures, 0);
}

/* ---- parse_listen ------------------------------------------------------ */

static void
test_parse_listen(void **state)
{
    static const struct {
        const char *in;
        int         family;     /* 0: must be rejected */
        const char *ip;         /* as inet_ntop writes it */
        unsigned    port;
    } cases[] = {
        { "127.0.0.1:25",           AF_INET,  "127.0.0.1",   25 },
        { "192.0.2.10:2525",        AF_INET,  "192.0.2.10",  2525 },
        { "0.0.0.0:65535",          AF_INET,  "0.0.0.0",     65535 },
        { "10.0.0.1:1",             AF_INET,  "10.0.0.1",    1 },
        { ":587",                   AF_INET,  "0.0.0.0",     587 },
        { "*:25",                   AF_INET,  "0.0.0.0",     25 },
        { "[::1]:25",               AF_INET6, "::1",         25 },
        { "[::]:2525",              AF_INET6, "::",          2525 },
        { "[2001:db8::1]:587",      AF_INET6, "2001:db8::1", 587 },
        { "[::ffff:192.0.2.1]:25",  AF_INET6, "::ffff:192.0.2.1", 25 },
        { "127.0.0.1:025",          AF_INET,  "127.0.0.1",   25 },
        /* bad ports */
        { "127.0.0.1:0",            0, NULL, 0 },
        { "127.0.0.1:65536",        0, NULL, 0 },
        { "127.0.0.1:99999999999999999999999", 0, NULL, 0 },
        { "127.0.0.1:-1",           0, NULL, 0 },
        { "127.0.0.1:+25",          0, NULL, 0 },
        { "127.0.0.1: 25",          0, NULL, 0 },
        { "127.0.0.1:25x",          0, NULL, 0 },
        { "127.0.0.1:25 ",          0, NULL, 0 },
        { "[::1]:0",                0, NULL, 0 },
        { "[::1]:65536",            0, NULL, 0 },
        /* missing port */
        { "127.0.0.1",              0, NULL, 0 },
        { "127.0.0.1:",             0, NULL, 0 },
        { ":",                      0, NULL, 0 },
        { "[::1]",                  0, NULL, 0 },
        { "[::1]:",                 0, NULL, 0 },
        { "[::1]25",                0, NULL, 0 },
        { "",                       0, NULL, 0 },
        /* bad hosts */
        { "::1:25",                 0, NULL, 0 },   /* IPv6 needs brackets */
        { "[::1:25",                0, NULL, 0 },
        { "[127.0.0.1]:25",         0, NULL, 0 },   /* brackets are for IPv6 */
        /* regression: "[]:25" was taken for the IPv4 wildcard 0.0.0.0 */
        { "[]:25",                  0, NULL, 0 },
        { "[*]:25",                 0, NULL, 0 },
        { "localhost:25",           0, NULL, 0 },   /* no names: no DNS at startup */
        { "1.2.3.256:25",           0, NULL, 0 },
        { "1.2.3:25",               0, NULL, 0 },
        { " 127.0.0.1:25",          0, NULL, 0 },
        { "[fe80::1%lo]:25",        0, NULL, 0 },
        { "[1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd]:25", 0, NULL, 0 },
        /* longer than struct listen_addr's text */
        { "[0000:0000:0000:0000:0000:0000:0000:0001]:25                                      ",
          0, NULL, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct listen_addr la;
        char ip[INET6_ADDRSTRLEN] = "";
        unsigned port = 0;
        int family;

        memset(&la, 0x5a, sizeof(la));
        bool ok = parse_listen(cases[i].in, &la);
        if (ok != (cases[i].family != 0)) {
            report("parse_listen(\"%s\"): got %s, want %s", cases[i].in,
                   ok ? "true" : "false", ok ? "false" : "true");
            continue;
        }
        if (!ok)
            continue;
        family = la.ss.ss_family;
        if (family == AF_INET) {
            const struct sockaddr_in *sin = (const struct sockaddr_in *)&la.ss;
            inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
            port = ntohs(sin->sin_port);
            if (la.sslen != sizeof(*sin))
                report("parse_listen(\"%s\"): got sslen %u, want %zu", cases[i].in,
                       (unsigned)la.sslen, sizeof(*sin));
        } else if (family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&la.ss;
            inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
            port = ntohs(sin6->sin6_port);
            if (la.sslen != sizeof(*sin6))
                report("parse_listen(\"%s\"): got sslen %u, want %zu", cases[i].in,
                       (unsigned)la.sslen, sizeof(*sin6));
        }
        if (family != cases[i].family || strcmp(ip, cases[i].ip) != 0 || port != cases[i].port)
            report("parse_listen(\"%s\"): got family %d %s port %u, want family %d %s port %u",
                   cases[i].in, family, ip, port, cases[i].family, cases[i].ip, cases[i].port);
        if (strcmp(la.text, cases[i].in) != 0)
            report("parse_listen(\"%s\"): got text \"%s\", want the input", cases[i].in, la.text);
    }
    assert_int_equal(failures, 0);
}

/* ---- config_parse_text: accepted input --------------------------------- */

struct text_case {
    const char *text;
    size_t      len;
    const char *key;        /* the field to look at */
    const char *want;       /* describe()'s rendering of it */
};

static const struct text_case good_cases[] = {
    /* spacing around "=" and at the ends of the line */
    { S("hostname = mx.example.org\n"),             "hostname", "mx.example.org" },
    { S("hostname=mx.example.org"),                 "hostname", "mx.example.org" },
    { S("hostname   =mx.example.org"),              "hostname", "mx.example.org" },
    { S("hostname=   mx.example.org"),              "hostname", "mx.example.org" },
    { S("  \thostname\t=\tmx.example.org \t \n"),   "hostname", "mx.example.org" },
    { S("hostname = mx.example.org\r\n"),           "hostname", "mx.example.org" },
    /* comments and blank lines */
    { S("# the server's name\nhostname = mx.example.org\n"), "hostname", "mx.example.org" },
    { S("\n\n   \n\t\nhostname = mx.example.org\n\n"),       "hostname", "mx.example.org" },
    { S("hostname = mx.example.org # trailing comment\n"),   "hostname", "mx.example.org" },
    { S("hostname = mx.example.org#no space\n"),             "hostname", "mx.example.org" },
    { S("   # indented comment = with equals\nmax_recipients = 7\n"), "max_recipients", "7" },
    { S("#hostname = commented.example\n"),         "hostname", "(default)" },
    { S(""),                                        "max_recipients", "100" },
    { S("\n"),                                      "max_recipients", "100" },
    { S("# only a comment"),                        "max_recipients", "100" },
    /* the last setting wins */
    { S("hostname = a.example\nhostname = b.example\n"), "hostname", "b.example" },
    /* the value is split at the first "=" only */
    { S("data_dir = /srv/a=b\n"),                   "data_dir", "/srv/a=b" },
    { S("data_dir = /srv/post ino\n"),              "data_dir", "/srv/post ino" },
    { S("aliases_file = /etc/postino/aliases\n"),   "aliases_file", "/etc/postino/aliases" },
    /* each kind of value */
    { S("domains = example.org\n"),                 "domains", "example.org" },
    { S("domains = Example.ORG, example.net\texample.com,,\n"), "domains",
      "example.org,example.net,example.com" },
    { S("domains = \n"),                            "domains", "" },
    { S("listen_smtp = 127.0.0.1:25 [::1]:25, :587\n"), "listen_smtp",
      "127.0.0.1:25,[::1]:25,:587" },
    { S("message_size_limit = 20m\n"),              "message_size_limit", "20971520" },
    { S("message_size_limit = 1000\n"),             "message_size_limit", "1000" },
    { S("max_recipients = 5\n"),                    "max_recipients", "5" },
    { S("max_recipients = 1000000000\n"),           "max_recipients", "1000000000" },
    { S("max_connections = 0\n"),                   "max_connections", "0" },
    { S("max_connections_per_ip = 3\n"),            "max_connections_per_ip", "3" },
    { S("smtp_timeout = 2h\n"),                     "smtp_timeout", "7200" },
    { S("smtp_data_timeout = 90\n"),                "smtp_data_timeout", "90" },
    { S("smtp_data_timeout = 10m\n"),               "smtp_data_timeout", "600" },
    { S("log = syslog\n"),                          "log", "syslog" },
    { S("log = syslog\nlog = stderr\n"),            "log", "stderr" },
};

/* test_parse_text_good - accepted lines set the right field */
static void
test_parse_text_good(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(good_cases); i++) {
        const struct text_case *c = &good_cases[i];
        struct config *cfg = config_new();
        struct buf errs = BUF_INIT;
        char got[512], want[512];
        char *text = malloc(c->len ? c->len : 1);   /* exact size: ASan sees overreads */

        memcpy(text, c->text, c->len);
        snprintf(want, sizeof(want), "%s", c->want);
        if (strcmp(c->want, "(default)") == 0)
            describe(cfg, c->key, want, sizeof(want));
        int n = config_parse_text(cfg, text, c->len, "t.conf", &errs);
        if (n != 0 || errs.len != 0)
            report("config_parse_text(\"%s\"): got %d errors \"%s\", want none",
                   show(c->text, c->len), n, showz(buf_cstr(&errs)));
        describe(cfg, c->key, got, sizeof(got));
        if (strcmp(got, want) != 0)
            report("config_parse_text(\"%s\"): got %s = \"%s\", want \"%s\"",
                   show(c->text, c->len), c->key, got, want);
        free(text);
        buf_free(&errs);
        config_free(cfg);
    }
    assert_int_equal(failures, 0);
}

/* ---- config_parse_text: errors ----------------------------------------- */

struct bad_case {
    const char *text;
    size_t      len;
    int         nerr;
    const char *errs;       /* the whole error text */
};

static const struct bad_case bad_cases[] = {
    /* syntax */
    { S("colour = blue\n"), 1, "t.conf:1: unknown key \"colour\"\n" },
    { S("Hostname = a.example\n"), 1, "t.conf:1: unknown key \"Hostname\"\n" },
    { S("host name = a.example\n"), 1, "t.conf:1: unknown key \"host name\"\n" },
    { S("= a.example\n"), 1, "t.conf:1: unknown key \"\"\n" },
    { S("\n# comment\nhostname\n"), 1, "t.conf:3: expected \"key = value\"\n" },
    { S("hostname # = a.example\n"), 1, "t.conf:1: expected \"key = value\"\n" },
    { S("hostname = a\0b\n"), 1, "t.conf:1: NUL byte in line\n" },
    /* size */
    { S("message_size_limit = 10q\n"), 1,
      "t.conf:1: message_size_limit: \"10q\" is not a size (bytes, or with k, m, g)\n" },
    { S("message_size_limit = -1\n"), 1,
      "t.conf:1: message_size_limit: \"-1\" is not a size (bytes, or with k, m, g)\n" },
    { S("message_size_limit =\n"), 1,
      "t.conf:1: message_size_limit: \"\" is not a size (bytes, or with k, m, g)\n" },
    { S("message_size_limit = 2048g\n"), 1,
      "t.conf:1: message_size_limit: \"2048g\" is not a size (bytes, or with k, m, g)\n" },
    /* duration */
    { S("smtp_timeout = 5w\n"), 1,
      "t.conf:1: smtp_timeout: \"5w\" is not a duration (like 30s, 5m, 2h, 1d)\n" },
    { S("smtp_data_timeout = soon\n"), 1,
      "t.conf:1: smtp_data_timeout: \"soon\" is not a duration (like 30s, 5m, 2h, 1d)\n" },
    { S("smtp_timeout = 1 m\n"), 1,
      "t.conf:1: smtp_timeout: \"1 m\" is not a duration (like 30s, 5m, 2h, 1d)\n" },
    /* unsigned */
    { S("max_recipients = -1\n"), 1, "t.conf:1: max_recipients: \"-1\" is not a whole number\n" },
    { S("max_recipients = 12abc\n"), 1,
      "t.conf:1: max_recipients: \"12abc\" is not a whole number\n" },
    { S("max_recipients = 1000000001\n"), 1,
      "t.conf:1: max_recipients: \"1000000001\" is not a whole number\n" },
    { S("max_recipients = 99999999999999999999999\n"), 1,
      "t.conf:1: max_recipients: \"99999999999999999999999\" is not a whole number\n" },
    { S("max_connections = +5\n"), 1, "t.conf:1: max_connections: \"+5\" is not a whole number\n" },
    { S("max_connections_per_ip =\n"), 1,
      "t.conf:1: max_connections_per_ip: \"\" is not a whole number\n" },
    { S("max_connections = 1.5\n"), 1,
      "t.conf:1: max_connections: \"1.5\" is not a whole number\n" },
    /* listening address */
    { S("listen_smtp = 127.0.0.1:0\n"), 1,
      "t.conf:1: listen_smtp: \"127.0.0.1:0\" is not a listening address "
      "(want ip:port, [ipv6]:port or :port)\n" },
    { S("listen_smtp = 127.0.0.1:25 localhost:25\n"), 1,
      "t.conf:1: listen_smtp: \"localhost:25\" is not a listening address "
      "(want ip:port, [ipv6]:port or :port)\n" },
    { S("listen_smtp = 127.0.0.1\n"), 1,
      "t.conf:1: listen_smtp: \"127.0.0.1\" is not a listening address "
      "(want ip:port, [ipv6]:port or :port)\n" },
    { S("listen_smtp = [::1]:65536\n"), 1,
      "t.conf:1: listen_smtp: \"[::1]:65536\" is not a listening address "
      "(want ip:port, [ipv6]:port or :port)\n" },
    /* domains */
    { S("domains = example.org bad_domain!\n"), 1,
      "t.conf:1: domains: \"bad_domain!\" is not a valid domain\n" },
    { S("domains = exa..mple.org\n"), 1, "t.conf:1: domains: \"exa..mple.org\" is not a valid domain\n" },
    { S("domains = example.org.\n"), 1, "t.conf:1: domains: \"example.org.\" is not a valid domain\n" },
    { S("domains = -example.org\n"), 1, "t.conf:1: domains: \"-example.org\" is not a valid domain\n" },
    { S("domains = [127.0.0.1]\n"), 1, "t.conf:1: domains: \"[127.0.0.1]\" is not a valid domain\n" },
    /* host name */
    { S("hostname =\n"), 1, "t.conf:1: hostname: \"\" is not a valid host name\n" },
    { S("hostname = mx example.org\n"), 1,
      "t.conf:1: hostname: \"mx example.org\" is not a valid host name\n" },
    { S("hostname = mx_1.example.org\n"), 1,
      "t.conf:1: hostname: \"mx_1.example.org\" is not a valid host name\n" },
    { S("hostname = mx.example.org.\n"), 1,
      "t.conf:1: hostname: \"mx.example.org.\" is not a valid host name\n" },
    { S("hostname = \xc3\xa9.example\n"), 1,
      "t.conf:1: hostname: \"\xc3\xa9.example\" is not a valid host name\n" },
    /* log */
    { S("log = file\n"), 1, "t.conf:1: log: \"file\" is neither stderr nor syslog\n" },
    { S("log =\n"), 1, "t.conf:1: log: \"\" is neither stderr nor syslog\n" },
    /* several errors at once, each with its line number; good lines still count */
    { S("colour = blue\n"
        "# fine\n"
        "max_recipients = x\n"
        "hostname = good.example\n"
        "\n"
        "log = file\n"
        "no equals sign\n"
        "smtp_timeout = 1y"), 5,
      "t.conf:1: unknown key \"colour\"\n"
      "t.conf:3: max_recipients: \"x\" is not a whole number\n"
      "t.conf:6: log: \"file\" is neither stderr nor syslog\n"
      "t.conf:7: expected \"key = value\"\n"
      "t.conf:8: smtp_timeout: \"1y\" is not a duration (like 30s, 5m, 2h, 1d)\n" },
    { S("\r\n\r\nlog = fil\r\n"), 1, "t.conf:3: log: \"fil\" is neither stderr nor syslog\n" },
};

/* count_lines - the number of '\n' in s */
static int
count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* test_parse_text_bad - every bad line is reported as FILE:LINE */
static void
test_parse_text_bad(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(bad_cases); i++) {
        const struct bad_case *c = &bad_cases[i];
        struct config *cfg = config_new();
        struct buf errs = BUF_INIT;
        char *text = malloc(c->len);

        memcpy(text, c->text, c->len);
        int n = config_parse_text(cfg, text, c->len, "t.conf", &errs);
        if (n != c->nerr)
            report("config_parse_text(\"%s\"): got %d errors, want %d", show(c->text, c->len),
                   n, c->nerr);
        if (strcmp(buf_cstr(&errs), c->errs) != 0)
            report("config_parse_text(\"%s\"):\n  got  \"%s\"\n  want \"%s\"",
                   show(c->text, c->len), showz(buf_cstr(&errs)), showz(c->errs));
        if (count_lines(buf_cstr(&errs)) != n)
            report("config_parse_text(\"%s\"): returned %d but wrote %d error lines",
                   show(c->text, c->len), n, count_lines(buf_cstr(&errs)));
        free(text);
        buf_free(&errs);
        config_free(cfg);
    }
    assert_int_equal(failures, 0);
}

/* test_parse_text_keeps_old - a rejected value leaves the setting alone */
static void
test_parse_text_keeps_old(void **state)
{
    static const struct {
        const char *text;
        const char *key;
        const char *want;
    } cases[] = {
        { "hostname = a.example\nhostname = bad name\n",        "hostname", "a.example" },
        { "domains = example.org\ndomains = example.net bad!\n", "domains", "example.org" },
        { "listen_smtp = :25\nlisten_smtp = :26 :0\n",           "listen_smtp", ":25" },
        { "message_size_limit = 1k\nmessage_size_limit = 1x\n", "message_size_limit", "1024" },
        { "max_recipients = 7\nmax_recipients = x\n",           "max_recipients", "7" },
        { "smtp_timeout = 1m\nsmtp_timeout = 1w\n",             "smtp_timeout", "60" },
        { "log = syslog\nlog = file\n",                         "log", "syslog" },
        { "listen_smtp = 127.0.0.1:1\n",                        "max_recipients", "100" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct config *cfg = config_new();
        struct buf errs = BUF_INIT;
        char got[512];

        config_parse_text(cfg, cases[i].text, strlen(cases[i].text), "t.conf", &errs);
        describe(cfg, cases[i].key, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            report("config_parse_text(\"%s\"): got %s = \"%s\", want \"%s\"",
                   showz(cases[i].text), cases[i].key, got, cases[i].want);
        buf_free(&errs);
        config_free(cfg);
    }
    assert_int_equal(failures, 0);
}

/* ---- defaults ---------------------------------------------------------- */

static void
test_defaults(void **state)
{
    static const struct {
        const char *key;
        const char *want;
    } cases[] = {
        { "data_dir",               "./postino-data" },
        { "domains",                "localhost" },
        { "listen_smtp",            "127.0.0.1:2525" },
        { "message_size_limit",     "10240000" },
        { "max_recipients",         "100" },
        { "smtp_timeout",           "300" },
        { "smtp_data_timeout",      "300" },
        { "max_connections",        "1000" },
        { "max_connections_per_ip", "20" },
        { "log",                    "stderr" },
        { "aliases_file",           "" },
        { "users_file",             "(null)" },
    };
    struct config *cfg = config_new();
    char got[512];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        describe(cfg, cases[i].key, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            report("config_new(): got %s = \"%s\", want \"%s\"", cases[i].key, got,
                   cases[i].want);
    }
    if (cfg->hostname == NULL || cfg->hostname[0] == '\0')
        report("config_new(): got no hostname, want the machine's name or localhost");
    else {
        /* whatever the machine is called, the default must pass its own check */
        struct buf errs = BUF_INIT;
        char *h = strdup(cfg->hostname);
        if (!config_set(cfg, "hostname", h, "test", &errs))
            report("config_new(): got hostname \"%s\" that config_set rejects: %s", h,
                   buf_cstr(&errs));
        free(h);
        buf_free(&errs);
    }
    if (cfg->path != NULL || cfg->trial)
        report("config_new(): got path %s trial %d, want NULL and false", showz(cfg->path),
               cfg->trial);
    if (cfg->listen_smtp.v && cfg->listen_smtp.n == 1) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&cfg->listen_smtp.v[0].ss;
        if (sin->sin_family != AF_INET || ntohs(sin->sin_port) != 2525
            || ntohl(sin->sin_addr.s_addr) != INADDR_LOOPBACK)
            report("config_new(): got listen_smtp not parsed, want 127.0.0.1 port 2525");
    }
    config_free(cfg);
    config_free(NULL);      /* harmless */
    assert_int_equal(failures, 0);
}

/* ---- config_load ------------------------------------------------------- */

/* write_temp - a new temporary file holding text; its name in path */
static void
write_temp(char path[64], const char *text)
{
    snprintf(path, 64, "/tmp/postino-test-config.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t n = strlen(text);
    assert_int_equal(write(fd, text, n), (ssize_t)n);
    close(fd);
}

struct load_case {
    const char *file;           /* NULL: a path that does not exist */
    const char *ov[3];          /* overrides, NULL-terminated */
    int         nerr;
    const char *errs;           /* whole error text; "%F" stands for the file's path */
    const char *key[3];         /* fields to check afterwards */
    const char *want[3];
};

static const struct load_case load_cases[] = {
    /* the file alone */
    { "max_recipients = 5\nhostname = file.example\n", { NULL }, 0, "",
      { "max_recipients", "hostname", NULL }, { "5", "file.example", NULL } },
    /* an override wins over the file, whatever the order of lines */
    { "max_recipients = 5\nhostname = file.example\n", { "max_recipients=9", NULL }, 0, "",
      { "max_recipients", "hostname", NULL }, { "9", "file.example", NULL } },
    { "log = syslog\n", { "log=stderr", "smtp_timeout=1h", NULL }, 0, "",
      { "log", "smtp_timeout", NULL }, { "stderr", "3600", NULL } },
    /* the last override wins */
    { "", { "max_recipients=1", "max_recipients=2", NULL }, 0, "",
      { "max_recipients", NULL }, { "2", NULL } },
    /* the value may contain "=" */
    { "", { "data_dir=/srv/a=b", NULL }, 0, "",
      { "data_dir", "users_file", NULL }, { "/srv/a=b", "/srv/a=b/users", NULL } },
    /* derived file names */
    { "data_dir = /srv/postino\n", { NULL }, 0, "",
      { "aliases_file", "users_file", NULL }, { "/srv/postino/aliases", "/srv/postino/users", NULL } },
    { "data_dir = /srv/postino\naliases_file = /etc/aliases\n", { NULL }, 0, "",
      { "aliases_file", "users_file", NULL }, { "/etc/aliases", "/srv/postino/users", NULL } },
    { "", { "data_dir=/d", NULL }, 0, "",
      { "aliases_file", "users_file", NULL }, { "/d/aliases", "/d/users", NULL } },
    /* override errors */
    { "", { "nokey", NULL }, 1, "-o: \"nokey\" is not key=value\n", { NULL }, { NULL } },
    { "", { "colour=blue", NULL }, 1, "-o: unknown key \"colour\"\n", { NULL }, { NULL } },
    { "", { "max_recipients = 9", NULL }, 1, "-o: unknown key \"max_recipients \"\n",
      { "max_recipients", NULL }, { "100", NULL } },
    { "max_recipients = 5\n", { "max_recipients=x", NULL }, 1,
      "-o: max_recipients: \"x\" is not a whole number\n",
      { "max_recipients", NULL }, { "5", NULL } },
    { "", { "nokey", "log=file", "hostname=ok.example" }, 2,
      "-o: \"nokey\" is not key=value\n-o: log: \"file\" is neither stderr nor syslog\n",
      { "hostname", NULL }, { "ok.example", NULL } },
    /* file and override errors add up */
    { "colour = blue\nsmtp_timeout = x\n", { "=x", NULL }, 3,
      "%F:1: unknown key \"colour\"\n"
      "%F:2: smtp_timeout: \"x\" is not a duration (like 30s, 5m, 2h, 1d)\n"
      "-o: unknown key \"\"\n", { NULL }, { NULL } },
    /* whole-configuration checks */
    { "domains =\n", { NULL }, 1, "%F: domains: at least one local domain is needed\n",
      { NULL }, { NULL } },
    { "", { "domains=", NULL }, 1, "%F: domains: at least one local domain is needed\n",
      { NULL }, { NULL } },
    { "", { "data_dir=", NULL }, 1, "%F: data_dir: must not be empty\n", { NULL }, { NULL } },
    /* a file that cannot be read */
    { NULL, { NULL }, 1, "%F: cannot read: No such file or directory\n", { NULL }, { NULL } },
};

/* expand_path - tmpl with each "%F" replaced by path */
static void
expand_path(const char *tmpl, const char *path, struct buf *out)
{
    for (const char *p = tmpl; *p; p++) {
        if (p[0] == '%' && p[1] == 'F') {
            buf_puts(out, path);
            p++;
        } else {
            buf_putc(out, *p);
        }
    }
}

static void
test_config_load(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(load_cases); i++) {
        const struct load_case *c = &load_cases[i];
        char path[64];
        char *ov[3];
        size_t nov = 0;
        struct buf errs = BUF_INIT, want = BUF_INIT;
        int nerr = -1;

        if (c->file)
            write_temp(path, c->file);
        else
            snprintf(path, sizeof(path), "/tmp/postino-test-config.does-not-exist");
        for (; nov < 3 && c->ov[nov]; nov++)
            ov[nov] = (char *)c->ov[nov];

        struct config *cfg = config_load(path, ov, nov, &errs, &nerr);
        expand_path(c->errs, path, &want);
        if (nerr != c->nerr)
            report("config_load case %zu: got %d errors, want %d (%s)", i, nerr, c->nerr,
                   showz(buf_cstr(&errs)));
        if (strcmp(buf_cstr(&errs), buf_cstr(&want)) != 0)
            report("config_load case %zu:\n  got  \"%s\"\n  want \"%s\"", i,
                   showz(buf_cstr(&errs)), showz(buf_cstr(&want)));
        if (cfg->path == NULL || strcmp(cfg->path, path) != 0 || cfg->trial)
            report("config_load case %zu: got path %s trial %d, want %s and false", i,
                   showz(cfg->path), cfg->trial, path);
        for (size_t k = 0; k < 3 && c->key[k]; k++) {
            char got[512];
            describe(cfg, c->key[k], got, sizeof(got));
            if (strcmp(got, c->want[k]) != 0)
                report("config_load case %zu: got %s = \"%s\", want \"%s\"", i, c->key[k], got,
                       c->want[k]);
        }
        if (cfg->aliases_file == NULL || cfg->users_file == NULL)
            report("config_load case %zu: got aliases_file %s users_file %s, want both set",
                   i, showz(cfg->aliases_file), showz(cfg->users_file));
        config_free(cfg);
        buf_free(&errs);
        buf_free(&want);
        if (c->file)
            unlink(path);
    }
    assert_int_equal(failures, 0);
}

/* test_config_load_long_data_dir - data_dir over 1024 characters */
static void
test_config_load_long_data_dir(void **state)
{
    char ov[1100 + 16];
    char *ovs[1] = { ov };
    char path[64];
    struct buf errs = BUF_INIT, want = BUF_INIT;
    int nerr = -1;

    (void)state;
    snprintf(ov, sizeof(ov), "data_dir=/");
    memset(ov + 10, 'd', 1025);
    ov[10 + 1025] = '\0';
    write_temp(path, "# empty\n");
    struct config *cfg = config_load(path, ovs, 1, &errs, &nerr);
    buf_printf(&want, "%s: data_dir: longer than 1024 characters\n", path);
    assert_int_equal(nerr, 1);
    assert_string_equal(buf_cstr(&errs), buf_cstr(&want));
    config_free(cfg);
    buf_free(&errs);
    buf_free(&want);

    /* exactly 1024 ("/" and 1023 more) is fine */
    ov[10 + 1023] = '\0';
    cfg = config_load(path, ovs, 1, &errs, &nerr);
    assert_int_equal(nerr, 0);
    assert_int_equal(strlen(cfg->data_dir), 1024);
    config_free(cfg);
    buf_free(&errs);
    unlink(path);
}

/* test_config_load_trial - no file at all: the trial setup */
static void
test_config_load_trial(void **state)
{
    struct buf errs = BUF_INIT;
    char *ov[] = { "max_recipients=3" };
    int nerr = -1;

    (void)state;
    if (access(CONFIG_DEFAULT_FILE, F_OK) == 0)
        skip();     /* this machine has a real configuration */
    struct config *cfg = config_load(NULL, ov, 1, &errs, &nerr);
    assert_int_equal(nerr, 0);
    assert_string_equal(buf_cstr(&errs), "");
    assert_true(cfg->trial);
    assert_null(cfg->path);
    assert_int_equal(cfg->max_recipients, 3);
    assert_string_equal(cfg->aliases_file, "./postino-data/aliases");
    assert_string_equal(cfg->users_file, "./postino-data/users");
    config_free(cfg);

    /* with no file, whole-configuration errors are blamed on "-o" */
    char *ov2[] = { "domains=" };
    cfg = config_load(NULL, ov2, 1, &errs, &nerr);
    assert_int_equal(nerr, 1);
    assert_string_equal(buf_cstr(&errs), "-o: domains: at least one local domain is needed\n");
    config_free(cfg);
    buf_free(&errs);
}

/* ---- config_is_local_domain -------------------------------------------- */

static void
test_is_local_domain(void **state)
{
    static const struct {
        const char *domain;
        bool        want;
    } cases[] = {
        { "example.org",        true },
        { "EXAMPLE.ORG",        true },
        { "Example.Org",        true },
        { "example.net",        true },
        { "eXaMpLe.NeT",        true },
        { "mail.example.org",   false },
        { "example.org.",       false },
        { "example",            false },
        { "org",                false },
        { "example.com",        false },
        { "",                   false },
        { "localhost",          false },    /* no longer local once domains is set */
    };
    struct config *cfg = config_new();
    struct buf errs = BUF_INIT;

    (void)state;
    failures = 0;
    assert_true(config_set(cfg, "domains", "Example.ORG EXAMPLE.net", "test", &errs));
    for (size_t i = 0; i < NELEM(cases); i++) {
        bool got = config_is_local_domain(cfg, cases[i].domain);
        if (got != cases[i].want)
            report("config_is_local_domain(\"%s\"): got %d, want %d", cases[i].domain, got,
                   cases[i].want);
    }
    config_free(cfg);

    /* the default: localhost, in any case */
    cfg = config_new();
    if (!config_is_local_domain(cfg, "LocalHost"))
        report("config_is_local_domain(\"LocalHost\") by default: got false, want true");
    config_free(cfg);
    buf_free(&errs);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_duration),
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_listen),
        cmocka_unit_test(test_parse_text_good),
        cmocka_unit_test(test_parse_text_bad),
        cmocka_unit_test(test_parse_text_keeps_old),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_config_load),
        cmocka_unit_test(test_config_load_long_data_dir),
        cmocka_unit_test(test_config_load_trial),
        cmocka_unit_test(test_is_local_domain),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
