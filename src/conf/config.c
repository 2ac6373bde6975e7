/*
 * config - the "key = value" configuration; see config.h.
 *
 * Every key is a row of keys[]: its name, its kind, where it lives in
 * struct config and its default. Adding a key is adding a row (and a line
 * in postino.conf.example).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "conf/config.h"
#include "mail/address.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"

enum key_kind { K_STRING, K_HOSTNAME, K_DOMAINS, K_LISTEN, K_SIZE, K_UINT,
                K_DURATION, K_LOG, K_BOOL, K_DURATIONS, K_PORT, K_ZONES, K_NETWORKS,
                K_ADDRESS };

struct key {
    const char   *name;
    enum key_kind kind;
    size_t        off;
    const char   *def;      /* default as text; NULL: computed */
};

#define OFF(f) offsetof(struct config, f)
static const struct key keys[] = {
    { "hostname",               K_HOSTNAME, OFF(hostname),               NULL },
    { "public_ip",              K_ADDRESS,  OFF(public_ip),              "" },
    { "data_dir",               K_STRING,   OFF(data_dir),               "./postino-data" },
    { "domains",                K_DOMAINS,  OFF(domains),                "localhost" },
    { "listen_smtp",            K_LISTEN,   OFF(listen_smtp),            "127.0.0.1:2525" },
    { "listen_submission",      K_LISTEN,   OFF(listen_submission),      "127.0.0.1:2587" },
    { "listen_submissions",     K_LISTEN,   OFF(listen_submissions),     "127.0.0.1:2465" },
    { "listen_pop3",            K_LISTEN,   OFF(listen_pop3),            "127.0.0.1:2110" },
    { "listen_pop3s",           K_LISTEN,   OFF(listen_pop3s),           "127.0.0.1:2995" },
    { "pop3_timeout",           K_DURATION, OFF(pop3_timeout),           "10m" },
    { "listen_imap",            K_LISTEN,   OFF(listen_imap),            "127.0.0.1:2143" },
    { "listen_imaps",           K_LISTEN,   OFF(listen_imaps),           "127.0.0.1:2993" },
    { "imap_timeout",           K_DURATION, OFF(imap_timeout),           "30m" },
    { "tls_cert",               K_STRING,   OFF(tls_cert),               "" },
    { "tls_key",                K_STRING,   OFF(tls_key),                "" },
    { "tls_handshake_timeout",  K_DURATION, OFF(tls_handshake_timeout),  "30s" },
    { "auth_plaintext_loopback", K_BOOL,    OFF(auth_plaintext_loopback), "no" },
    { "auth_failure_delay",     K_DURATION, OFF(auth_failure_delay),     "1s" },
    { "auth_max_failures",      K_UINT,     OFF(auth_max_failures),      "5" },
    { "auth_block_time",        K_DURATION, OFF(auth_block_time),        "15m" },
    { "message_size_limit",     K_SIZE,     OFF(message_size_limit),     "10240000" },
    { "max_recipients",         K_UINT,     OFF(max_recipients),         "100" },
    { "smtp_timeout",           K_DURATION, OFF(smtp_timeout),           "5m" },
    { "smtp_data_timeout",      K_DURATION, OFF(smtp_data_timeout),      "5m" },
    { "max_connections",        K_UINT,     OFF(max_connections),        "1000" },
    { "max_connections_per_ip", K_UINT,     OFF(max_connections_per_ip), "20" },
    { "log",                    K_LOG,      OFF(log),                    "stderr" },
    { "aliases_file",           K_STRING,   OFF(aliases_file),           "" },
    { "dns_servers",            K_STRING,   OFF(dns_servers),            "" },
    { "smtp_port",              K_PORT,     OFF(smtp_port),              "25" },
    { "retry_intervals",        K_DURATIONS, OFF(retry_intervals),       "5m 10m 20m 40m 1h" },
    { "max_queue_lifetime",     K_DURATION, OFF(max_queue_lifetime),     "5d" },
    { "delay_warning_time",     K_DURATION, OFF(delay_warning_time),     "4h" },
    { "smtp_connect_timeout",   K_DURATION, OFF(smtp_connect_timeout),   "30s" },
    { "smtp_client_timeout",    K_DURATION, OFF(smtp_client_timeout),    "5m" },
    { "max_deliveries",         K_UINT,     OFF(max_deliveries),         "100" },
    { "max_deliveries_per_destination", K_UINT, OFF(max_deliveries_per_destination), "10" },
    { "relay_host",             K_STRING,   OFF(relay_host),             "" },
    { "relay_auth_user",        K_STRING,   OFF(relay_auth_user),        "" },
    { "relay_auth_password_file", K_STRING, OFF(relay_auth_password_file), "" },
    { "relay_tls",              K_STRING,   OFF(relay_tls),              "starttls" },
    { "greet_pause",            K_DURATION, OFF(greet_pause),            "2s" },
    { "smtp_max_errors",        K_UINT,     OFF(smtp_max_errors),        "20" },
    { "smtp_stress_timeout",    K_DURATION, OFF(smtp_stress_timeout),    "10s" },
    { "header_size_limit",      K_SIZE,     OFF(header_size_limit),      "100k" },
    { "header_count_limit",     K_UINT,     OFF(header_count_limit),     "1000" },
    { "max_connection_rate",    K_UINT,     OFF(max_connection_rate),    "60" },
    { "max_message_rate",       K_UINT,     OFF(max_message_rate),       "120" },
    { "max_recipient_rate",     K_UINT,     OFF(max_recipient_rate),     "600" },
    { "auth_max_message_rate",  K_UINT,     OFF(auth_max_message_rate),  "120" },
    { "auth_max_recipient_rate", K_UINT,    OFF(auth_max_recipient_rate), "1000" },
    { "rate_limit_exempt",      K_NETWORKS, OFF(rate_limit_exempt),      "127.0.0.0/8 ::1" },
    { "dnsbl",                  K_ZONES,    OFF(dnsbl),                  "" },
    { "dnswl",                  K_ZONES,    OFF(dnswl),                  "" },
    { "dnsbl_allow",            K_NETWORKS, OFF(dnsbl_allow),            "127.0.0.0/8 ::1" },
    { "run_as",                 K_STRING,   OFF(run_as),                 "postino" },
    { "verify_inbound",         K_BOOL,     OFF(verify_inbound),         "yes" },
    { "dmarc_enforce",          K_BOOL,     OFF(dmarc_enforce),          "yes" },
    { "dkim_sign",              K_BOOL,     OFF(dkim_sign),              "yes" },
};

/* err - append one error line */
static bool
err(struct buf *errs, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool
err(struct buf *errs, const char *where, const char *fmt, ...)
{
    va_list ap;

    buf_printf(errs, "%s: ", where);
    va_start(ap, fmt);
    buf_vprintf(errs, fmt, ap);
    va_end(ap);
    buf_putc(errs, '\n');
    return false;
}

bool
parse_duration(const char *s, unsigned *secs)
{
    char *end;
    unsigned long mult = 1;

    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno)
        return false;
    if (*end) {
        switch (*end) {
        case 's': mult = 1; break;
        case 'm': mult = 60; break;
        case 'h': mult = 3600; break;
        case 'd': mult = 86400; break;
        default: return false;
        }
        if (end[1])
            return false;
    }
    if (v > 100UL * 365 * 86400 / mult)
        return false;
    *secs = (unsigned)(v * mult);
    return true;
}

bool
parse_size(const char *s, size_t *bytes)
{
    char *end;
    unsigned long long mult = 1;

    if (!isdigit((unsigned char)*s))
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    if (*end) {
        switch (tolower((unsigned char)*end)) {
        case 'k': mult = 1024; break;
        case 'm': mult = 1024 * 1024; break;
        case 'g': mult = 1024 * 1024 * 1024; break;
        default: return false;
        }
        if (end[1])
            return false;
    }
    if (v > (1ULL << 40) / mult)        /* 1 TiB is beyond any sane limit */
        return false;
    *bytes = (size_t)(v * mult);
    return true;
}

bool
parse_listen(const char *s, struct listen_addr *la)
{
    char host[64];
    const char *colon, *h = s;
    size_t hlen;

    memset(la, 0, sizeof(*la));
    if (strlen(s) >= sizeof(la->text))
        return false;
    snprintf(la->text, sizeof(la->text), "%s", s);
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb || rb[1] != ':')
            return false;
        h = s + 1;
        hlen = (size_t)(rb - h);
        colon = rb + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        hlen = (size_t)(colon - s);
    }
    if (hlen >= sizeof(host))
        return false;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    char *end;
    if (!isdigit((unsigned char)colon[1]))
        return false;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (errno || *end || port == 0 || port > 65535)
        return false;

    struct sockaddr_in *sin = (struct sockaddr_in *)&la->ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&la->ss;
    /* "[]:25" is not a wildcard: brackets must hold an IPv6 address. */
    if (*s != '[' && (hlen == 0 || strcmp(host, "*") == 0)) {
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        sin->sin_port = htons((uint16_t)port);
        la->sslen = sizeof(*sin);
    } else if (inet_pton(AF_INET, host, &sin->sin_addr) == 1 && *s != '[') {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        la->sslen = sizeof(*sin);
    } else if (*s == '[' && inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        la->sslen = sizeof(*sin6);
    } else {
        return false;
    }
    return true;
}

/* split_words - split s at spaces, commas and tabs into a NULL-terminated array */
static char **
split_words(const char *s, size_t *count)
{
    char **v = xcalloc(1, sizeof(char *));
    size_t n = 0;

    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        if (!*s)
            break;
        const char *e = s;
        while (*e && *e != ' ' && *e != '\t' && *e != ',')
            e++;
        v = xreallocarray(v, n + 2, sizeof(char *));
        v[n++] = xstrndup(s, (size_t)(e - s));
        v[n] = NULL;
        s = e;
    }
    *count = n;
    return v;
}

static void
free_words(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

/* set_value - parse value by kind into cfg; false with an error appended */
static bool
set_value(struct config *cfg, const struct key *k, const char *value,
          const char *where, struct buf *errs)
{
    char *base = (char *)cfg + k->off;

    switch (k->kind) {
    case K_STRING:
        free(*(char **)base);
        *(char **)base = xstrdup(value);
        return true;
    case K_HOSTNAME:
        if (!domain_valid(value, strlen(value), false))
            return err(errs, where, "%s: \"%s\" is not a valid host name", k->name, value);
        free(*(char **)base);
        *(char **)base = xstrdup(value);
        return true;
    case K_DOMAINS: {
        size_t n;
        char **v = split_words(value, &n);
        for (size_t i = 0; i < n; i++) {
            if (!domain_valid(v[i], strlen(v[i]), false)) {
                err(errs, where, "%s: \"%s\" is not a valid domain", k->name, v[i]);
                free_words(v);
                return false;
            }
            for (char *p = v[i]; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
        free_words(cfg->domains);
        cfg->domains = v;
        cfg->ndomains = n;
        return true;
    }
    case K_LISTEN: {
        size_t n;
        char **v = split_words(value, &n);
        struct listen_addr *la = xcalloc(n ? n : 1, sizeof(*la));
        for (size_t i = 0; i < n; i++) {
            if (!parse_listen(v[i], &la[i])) {
                err(errs, where, "%s: \"%s\" is not a listening address "
                    "(want ip:port, [ipv6]:port or :port)", k->name, v[i]);
                free(la);
                free_words(v);
                return false;
            }
        }
        free_words(v);
        struct listen_list *ll = (struct listen_list *)base;
        free(ll->v);
        ll->v = la;
        ll->n = n;
        return true;
    }
    case K_SIZE:
        if (!parse_size(value, (size_t *)base))
            return err(errs, where, "%s: \"%s\" is not a size (bytes, or with k, m, g)",
                       k->name, value);
        return true;
    case K_UINT: {
        char *end;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (!isdigit((unsigned char)*value) || *end || errno || v > 1000000000UL)
            return err(errs, where, "%s: \"%s\" is not a whole number", k->name, value);
        *(unsigned *)base = (unsigned)v;
        return true;
    }
    case K_DURATION:
        if (!parse_duration(value, (unsigned *)base))
            return err(errs, where, "%s: \"%s\" is not a duration (like 30s, 5m, 2h, 1d)",
                       k->name, value);
        return true;
    case K_BOOL:
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
            *(bool *)base = true;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
            *(bool *)base = false;
        else
            return err(errs, where, "%s: \"%s\" is neither yes nor no", k->name, value);
        return true;
    case K_PORT: {
        char *end;
        errno = 0;
        unsigned long v = strtoul(value, &end, 10);
        if (!isdigit((unsigned char)*value) || *end || errno || v == 0 || v > 65535)
            return err(errs, where, "%s: \"%s\" is not a port (1-65535)", k->name, value);
        *(unsigned *)base = (unsigned)v;
        return true;
    }
    case K_DURATIONS: {
        size_t n;
        char **v = split_words(value, &n);
        unsigned *d = xcalloc(n ? n : 1, sizeof(unsigned));
        for (size_t i = 0; i < n; i++) {
            if (!parse_duration(v[i], &d[i]) || d[i] == 0) {
                err(errs, where, "%s: \"%s\" is not a duration (like 30s, 5m, 2h, 1d)",
                    k->name, v[i]);
                free(d);
                free_words(v);
                return false;
            }
        }
        free_words(v);
        if (n == 0) {
            free(d);
            return err(errs, where, "%s: at least one interval is needed", k->name);
        }
        free(cfg->retry_intervals);
        cfg->retry_intervals = d;
        cfg->nretry_intervals = n;
        return true;
    }
    case K_ZONES: {
        size_t n;
        char **v = split_words(value, &n);
        for (size_t i = 0; i < n; i++) {
            if (!domain_valid(v[i], strlen(v[i]), false)) {
                err(errs, where, "%s: \"%s\" is not a valid DNS zone", k->name, v[i]);
                free_words(v);
                return false;
            }
            for (char *p = v[i]; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        }
        free_words(*(char ***)base);
        *(char ***)base = v;
        return true;
    }
    case K_NETWORKS: {
        size_t n;
        char **v = split_words(value, &n);
        struct cidr *c = xcalloc(n ? n : 1, sizeof(*c));
        for (size_t i = 0; i < n; i++) {
            if (!cidr_parse(v[i], &c[i])) {
                err(errs, where, "%s: \"%s\" is not a network (like 192.0.2.0/24, "
                    "2001:db8::/32 or one address)", k->name, v[i]);
                free(c);
                free_words(v);
                return false;
            }
        }
        free_words(v);
        struct cidr_list *cl = (struct cidr_list *)base;
        free(cl->v);
        cl->v = c;
        cl->n = n;
        return true;
    }
    case K_ADDRESS: {
        unsigned char bin[sizeof(struct in6_addr)];
        if (value[0] && inet_pton(AF_INET, value, bin) != 1 && inet_pton(AF_INET6, value, bin) != 1)
            return err(errs, where, "%s: \"%s\" is not an IP address (like 203.0.113.5 or "
                       "2001:db8::5)", k->name, value);
        free(*(char **)base);
        *(char **)base = xstrdup(value);
        return true;
    }
    case K_LOG:
        if (strcmp(value, "stderr") == 0)
            cfg->log = LOG_TO_STDERR;
        else if (strcmp(value, "syslog") == 0)
            cfg->log = LOG_TO_SYSLOG;
        else
            return err(errs, where, "%s: \"%s\" is neither stderr nor syslog", k->name, value);
        return true;
    }
    return false;
}

bool
config_set(struct config *cfg, const char *key, const char *value,
           const char *where, struct buf *errs)
{
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(keys[i].name, key) == 0)
            return set_value(cfg, &keys[i], value, where, errs);
    return err(errs, where, "unknown key \"%s\"", key);
}

struct config *
config_new(void)
{
    struct config *cfg = xcalloc(1, sizeof(*cfg));
    struct buf errs = BUF_INIT;
    char host[256];

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (keys[i].def)
            set_value(cfg, &keys[i], keys[i].def, "default", &errs);
    if (gethostname(host, sizeof(host)) < 0 || !domain_valid(host, strnlen(host, sizeof(host)), false))
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    cfg->hostname = xstrdup(host);
    buf_free(&errs);
    return cfg;
}

void
config_free(struct config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->hostname);
    free(cfg->public_ip);
    free(cfg->data_dir);
    free_words(cfg->domains);
    free(cfg->listen_smtp.v);
    free(cfg->listen_submission.v);
    free(cfg->listen_submissions.v);
    free(cfg->listen_pop3.v);
    free(cfg->listen_pop3s.v);
    free(cfg->listen_imap.v);
    free(cfg->listen_imaps.v);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->dns_servers);
    free(cfg->retry_intervals);
    free(cfg->relay_host);
    free(cfg->relay_auth_user);
    free(cfg->relay_auth_password_file);
    free(cfg->relay_tls);
    free(cfg->aliases_file);
    free(cfg->users_file);
    free(cfg->rate_limit_exempt.v);
    free_words(cfg->dnsbl);
    free_words(cfg->dnswl);
    free(cfg->dnsbl_allow.v);
    free(cfg->run_as);
    free(cfg);
}

int
config_parse_text(struct config *cfg, const char *text, size_t n,
                  const char *name, struct buf *errs)
{
    int nerr = 0;
    unsigned lineno = 0;
    const char *p = text, *end = text + n;
    char where[512];

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        snprintf(where, sizeof(where), "%s:%u", name, lineno);

        /* Strip comment and surrounding space. */
        const char *hash = memchr(p, '#', (size_t)(le - p));
        const char *e = hash ? hash : le;
        while (p < e && isspace((unsigned char)*p))
            p++;
        while (e > p && isspace((unsigned char)e[-1]))
            e--;
        if (p < e) {
            const char *eq = memchr(p, '=', (size_t)(e - p));
            if (memchr(p, '\0', (size_t)(e - p))) {
                err(errs, where, "NUL byte in line");
                nerr++;
            } else if (!eq) {
                err(errs, where, "expected \"key = value\"");
                nerr++;
            } else {
                const char *ke = eq, *vs = eq + 1;
                while (ke > p && isspace((unsigned char)ke[-1]))
                    ke--;
                while (vs < e && isspace((unsigned char)*vs))
                    vs++;
                char *key = xstrndup(p, (size_t)(ke - p));
                char *val = xstrndup(vs, (size_t)(e - vs));
                if (!config_set(cfg, key, val, where, errs))
                    nerr++;
                free(key);
                free(val);
            }
        }
        p = nl ? nl + 1 : end;
    }
    return nerr;
}

struct config *
config_load(const char *path, char **overrides, size_t noverrides,
            struct buf *errs, int *nerrs)
{
    struct config *cfg = config_new();
    int nerr = 0;

    if (!path && access(CONFIG_DEFAULT_FILE, F_OK) == 0)
        path = CONFIG_DEFAULT_FILE;
    if (path) {
        char *text;
        size_t len;
        cfg->path = xstrdup(path);
        if (file_read(path, 1 << 20, &text, &len) < 0) {
            err(errs, path, "cannot read: %s", strerror(errno));
            nerr++;
        } else {
            nerr += config_parse_text(cfg, text, len, path, errs);
            free(text);
        }
    } else {
        cfg->trial = true;
    }
    for (size_t i = 0; i < noverrides; i++) {
        const char *eq = strchr(overrides[i], '=');
        if (!eq) {
            err(errs, "-o", "\"%s\" is not key=value", overrides[i]);
            nerr++;
            continue;
        }
        char *key = xstrndup(overrides[i], (size_t)(eq - overrides[i]));
        if (!config_set(cfg, key, eq + 1, "-o", errs))
            nerr++;
        free(key);
    }
    if (cfg->ndomains == 0) {
        err(errs, cfg->path ? cfg->path : "-o", "domains: at least one local domain is needed");
        nerr++;
    }
    if (strlen(cfg->data_dir) > 1024) {
        err(errs, cfg->path ? cfg->path : "-o", "data_dir: longer than 1024 characters");
        nerr++;
    } else if (cfg->data_dir[0] == '\0') {
        err(errs, cfg->path ? cfg->path : "-o", "data_dir: must not be empty");
        nerr++;
    }
    if (!cfg->aliases_file || !cfg->aliases_file[0]) {
        free(cfg->aliases_file);
        cfg->aliases_file = xasprintf("%s/aliases", cfg->data_dir);
    }
    cfg->users_file = xasprintf("%s/users", cfg->data_dir);
    if (strcmp(cfg->relay_tls, "starttls") != 0 && strcmp(cfg->relay_tls, "implicit") != 0) {
        err(errs, cfg->path ? cfg->path : "-o", "relay_tls: \"%s\" is neither starttls nor implicit",
            cfg->relay_tls);
        nerr++;
    }
    if (cfg->relay_host[0]) {
        char host[256];
        unsigned port;
        if (config_relay_host(cfg, host, sizeof(host), &port) < 0) {
            err(errs, cfg->path ? cfg->path : "-o", "relay_host: \"%s\" is not host:port or "
                "[host]:port", cfg->relay_host);
            nerr++;
        }
    }
    if (!cfg->relay_auth_user[0] != !cfg->relay_auth_password_file[0]) {
        err(errs, cfg->path ? cfg->path : "-o",
            "relay_auth_user and relay_auth_password_file go together");
        nerr++;
    }
    if (!cfg->tls_cert[0] != !cfg->tls_key[0]) {
        err(errs, cfg->path ? cfg->path : "-o", "tls_cert and tls_key go together: set both or neither");
        nerr++;
    } else if (!cfg->tls_cert[0]) {
        free(cfg->tls_cert);
        free(cfg->tls_key);
        cfg->tls_cert = xasprintf("%s/tls/cert.pem", cfg->data_dir);
        cfg->tls_key = xasprintf("%s/tls/key.pem", cfg->data_dir);
        cfg->tls_selfsigned = true;
    }
    *nerrs = nerr;
    return cfg;
}

int
config_relay_host(const struct config *cfg, char *host, size_t hostlen, unsigned *port)
{
    const char *s = cfg->relay_host, *colon;
    size_t hl;

    /* "[host]:port" (no MX lookup, as in Postfix) or "host:port" or "host" */
    *port = 25;
    if (*s == '[') {
        const char *rb = strchr(s, ']');
        if (!rb)
            return -1;
        hl = (size_t)(rb - s - 1);
        s++;
        colon = rb[1] == ':' ? rb + 1 : NULL;
        if (rb[1] && !colon)
            return -1;
    } else {
        colon = strrchr(s, ':');
        hl = colon ? (size_t)(colon - s) : strlen(s);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, s, hl);
    host[hl] = '\0';
    if (colon) {
        char *end;
        unsigned long p = strtoul(colon + 1, &end, 10);
        if (!isdigit((unsigned char)colon[1]) || *end || p == 0 || p > 65535)
            return -1;
        *port = (unsigned)p;
    }
    return 0;
}

bool
config_is_local_domain(const struct config *cfg, const char *domain)
{
    for (size_t i = 0; i < cfg->ndomains; i++)
        if (strcasecmp(cfg->domains[i], domain) == 0)
            return true;
    return false;
}
