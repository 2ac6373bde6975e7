/*
 * config - the "key = value" configuration, its defaults and its checks.
 *
 * config_load() reads an optional file, then applies "-o key=value"
 * overrides; every problem found is appended to an error list (one
 * "FILE:LINE: message" line each) so that check-config can report them
 * all at once. Parsing is separate from I/O: config_parse_text() works on
 * bytes only and is what the unit tests and the fuzzer drive.
 */
#ifndef POSTINO_CONF_CONFIG_H
#define POSTINO_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "util/buf.h"
#include "util/cidr.h"
#include "util/log.h"

#define CONFIG_DEFAULT_FILE "/etc/postino/postino.conf"

struct listen_addr {
    char                    text[80];   /* as configured, e.g. "127.0.0.1:25" */
    struct sockaddr_storage ss;
    socklen_t               sslen;
};

/* The addresses of one kind of listener. */
struct listen_list {
    struct listen_addr *v;
    size_t              n;
};

struct config {
    char   *path;               /* the file read, NULL for none */
    bool    trial;              /* no file: the trial setup */
    char   *hostname;
    char   *public_ip;          /* the address others see; "": found by postino doctor */
    char   *data_dir;
    char  **domains;            /* lower case, NULL-terminated */
    size_t  ndomains;
    struct listen_list listen_smtp;         /* port 25: the MX */
    struct listen_list listen_submission;   /* port 587: STARTTLS, AUTH required */
    struct listen_list listen_submissions;  /* port 465: implicit TLS (RFC 8314) */
    struct listen_list listen_pop3;         /* port 110: POP3 with STLS */
    struct listen_list listen_pop3s;        /* port 995: POP3 in implicit TLS */
    unsigned pop3_timeout;      /* seconds of silence before autologout (RFC 1939 3: >= 10m) */
    struct listen_list listen_imap;         /* port 143: IMAP with STARTTLS */
    struct listen_list listen_imaps;        /* port 993: IMAP in implicit TLS */
    unsigned imap_timeout;      /* seconds of silence before autologout (RFC 9051 5.4: >= 30m) */
    char   *tls_cert;           /* PEM; NULL or "": the self-signed one */
    char   *tls_key;
    bool    tls_selfsigned;     /* no tls_cert: <data_dir>/tls/{cert,key}.pem, made if missing */
    unsigned tls_handshake_timeout;     /* seconds */
    bool    auth_plaintext_loopback;    /* AUTH without TLS from 127/8, ::1 */
    unsigned auth_failure_delay;        /* seconds before a 535 */
    unsigned auth_max_failures;         /* per IP, then a block */
    unsigned auth_block_time;           /* seconds */
    size_t  message_size_limit;
    unsigned max_recipients;
    unsigned smtp_timeout;      /* seconds */
    unsigned smtp_data_timeout; /* seconds */
    unsigned max_connections;
    unsigned max_connections_per_ip;
    enum log_target log;
    /* delivery to other domains */
    char   *dns_servers;        /* "" = /etc/resolv.conf, else "host[:port] ..." */
    unsigned smtp_port;         /* port of remote servers (25; for tests) */
    unsigned *retry_intervals;  /* seconds, the last repeats */
    size_t  nretry_intervals;
    unsigned max_queue_lifetime;    /* seconds, then bounce */
    unsigned delay_warning_time;    /* seconds, 0 = never */
    unsigned smtp_connect_timeout;  /* seconds */
    unsigned smtp_client_timeout;   /* seconds per reply (RFC 5321 4.5.3.2) */
    unsigned max_deliveries;        /* outbound connections in total */
    unsigned max_deliveries_per_destination;
    char   *relay_host;         /* "[host]:port" or "host:port" or ""; smarthost */
    char   *relay_auth_user;
    char   *relay_auth_password_file;
    char   *relay_tls;          /* "starttls" or "implicit" */
    char   *aliases_file;       /* resolved: defaults to <data_dir>/aliases */
    char   *users_file;         /* <data_dir>/users */
    /* abuse limits */
    unsigned greet_pause;       /* seconds before the port-25 greeting; 0 = none */
    unsigned smtp_max_errors;   /* errors, then 421 and close */
    unsigned smtp_stress_timeout;   /* idle limit when connections run short */
    size_t  header_size_limit;  /* octets of the header section */
    unsigned header_count_limit;    /* header fields in a message */
    unsigned max_connection_rate;   /* per client IP and minute; 0 = no limit */
    unsigned max_message_rate;      /* messages per client IP and minute */
    unsigned max_recipient_rate;    /* recipients per client IP and minute */
    unsigned auth_max_message_rate; /* messages per authenticated user and minute */
    unsigned auth_max_recipient_rate;
    struct cidr_list rate_limit_exempt; /* networks the per-IP rates do not apply to */
    /* DNS blocklists (RFC 5782) */
    char  **dnsbl;              /* zones, NULL-terminated (maybe empty) */
    char  **dnswl;              /* allowlist zones */
    struct cidr_list dnsbl_allow;   /* networks never looked up */
    /* message authentication */
    bool    verify_inbound;     /* SPF, DKIM, DMARC of mail on port 25 */
    bool    dmarc_enforce;      /* DMARC p=reject refuses the message (550 5.7.1) */
    bool    dkim_sign;          /* sign submitted mail with <data_dir>/dkim/ keys */
    /* privileges */
    char   *run_as;             /* the user to become when started as root */
};

/* config_new - a configuration holding every default */
struct config *config_new(void);
void config_free(struct config *cfg);

/*
 * config_set - set key to value; "where" names the origin for errors
 * ("FILE:LINE" or "-o"). Returns true on success, else appends one error
 * line to errs.
 */
bool config_set(struct config *cfg, const char *key, const char *value,
                const char *where, struct buf *errs);

/*
 * config_parse_text - apply the lines of text[0..n) read from file name.
 * Returns the number of errors appended to errs.
 */
int config_parse_text(struct config *cfg, const char *text, size_t n,
                      const char *name, struct buf *errs);

/*
 * config_load - defaults, then the file (path, or CONFIG_DEFAULT_FILE when
 * path is NULL and that file exists, else the trial setup), then each
 * override "key=value". Derived values (aliases_file, users_file) are
 * filled in last. Returns a configuration and the number of errors in
 * *nerrs (errs holds their lines); a configuration with errors must not
 * be used to serve.
 */
struct config *config_load(const char *path, char **overrides, size_t noverrides,
                           struct buf *errs, int *nerrs);

/*
 * config_relay_host - split relay_host ("[host]:port", "host:port" or
 * "host"; port 25 by default) into host and port; 0, or -1 when malformed.
 */
int config_relay_host(const struct config *cfg, char *host, size_t hostlen, unsigned *port);

/* config_is_local_domain - is the (any-case) domain one of ours? */
bool config_is_local_domain(const struct config *cfg, const char *domain);

/* parse_duration - "30", "30s", "5m", "2h", "1d" to seconds; false if bad */
bool parse_duration(const char *s, unsigned *secs);
/* parse_size - "1000", "10k", "10m", "1g" to bytes; false if bad */
bool parse_size(const char *s, size_t *bytes);
/* parse_listen - "ip:port", "[ipv6]:port", ":port"; false if bad */
bool parse_listen(const char *s, struct listen_addr *la);

#endif
