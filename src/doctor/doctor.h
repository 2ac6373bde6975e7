/*
 * doctor - the checks of "postino doctor": is this server set up so that
 * its mail arrives, and arrives in the inbox rather than in spam?
 *
 * Pure functions: no I/O, no clock, no globals. The command (cli/doctor.c)
 * gathers the facts (DNS answers, key files, listeners, the certificate,
 * the queue) and these functions turn them into findings: one line each,
 * ok, warning or problem, and for every warning and problem one sentence
 * of why it matters and the exact fix (the record to publish, the setting
 * to change).
 *
 * THE DNS CHECKS ARE RESTARTABLE, like spf_eval() and dmarc_discover():
 * each check asks the answer provider for what it needs; the provider
 * says what it knows, and notes what it does not know yet so that the
 * caller can look it up. A check that met an unknown answer returns false
 * (its findings are incomplete: the caller throws them away, fetches the
 * missing answers, all at once, and runs the check again from the start).
 * A check that returns true has its findings in out. Checks ask every
 * name they can on a run, not only the first unknown one, so that the
 * caller fetches them together. Evaluation is deterministic given the
 * answers, so every rerun gets further.
 *
 * Text in findings may hold what came from the DNS (TXT records, names):
 * the formatters make it printable (doctor_format_text escapes control
 * and non-ASCII octets; the JSON writer escapes what JSON needs).
 */
#ifndef POSTINO_DOCTOR_DOCTOR_H
#define POSTINO_DOCTOR_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"

struct dkim_key;
struct dmarc_psl;

/* ---- findings ---------------------------------------------------------- */

enum doctor_status {
    DOCTOR_OK,
    DOCTOR_WARNING,     /* works, but could be better, or could not be checked */
    DOCTOR_PROBLEM,     /* mail is refused, lost or junked because of it */
};

/* One line of the report. Every string belongs to the finding. */
struct doctor_finding {
    enum doctor_status status;
    char *subject;      /* the domain, or this server's hostname */
    char *check;        /* "MX", "SPF", "DKIM", ... (at most 6 characters) */
    char *detail;       /* what was found, no final period */
    char *why;          /* NULL, or one sentence: why it matters */
    char *fix;          /* NULL, or the fix: "Publish: ...", "Set ...", ... */
};

struct doctor_report {
    struct doctor_finding *v;
    size_t                 n;
};

#define DOCTOR_REPORT_INIT { NULL, 0 }

/*
 * doctor_add - append a finding with detail printf(fmt, ...); returns it,
 * so that doctor_why() and doctor_fix() can add the rest.
 */
struct doctor_finding *doctor_add(struct doctor_report *r, enum doctor_status st,
                                  const char *subject, const char *check, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void doctor_why(struct doctor_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void doctor_fix(struct doctor_finding *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* doctor_report_take - move every finding of src to the end of dst; src is left empty */
void doctor_report_take(struct doctor_report *dst, struct doctor_report *src);
/* doctor_report_free - release every finding; the report may be used again */
void doctor_report_free(struct doctor_report *r);
/* doctor_count - the findings of status st */
size_t doctor_count(const struct doctor_report *r, enum doctor_status st);
/* doctor_status_name - "ok", "warning", "problem" */
const char *doctor_status_name(enum doctor_status st);

/*
 * doctor_format_text - one line per finding, in columns:
 *   example.org  MX     ok       mx.example.org (10)
 *   example.org  SPF    problem  no SPF record. Receivers ... Publish: ...
 * detail, then ". " and why, then fix. Control and non-ASCII octets are
 * written as \xHH, so that nothing from the DNS can drive the terminal.
 */
void doctor_format_text(const struct doctor_report *r, struct buf *out);
/*
 * doctor_format_json - {"hostname":..,"public_ip":..,"problems":N,
 * "warnings":N,"checks":[{"subject":..,"check":..,"status":..,
 * "detail":..,"why":..|null,"fix":..|null}, ...]} and a newline.
 */
void doctor_format_json(const struct doctor_report *r, const char *hostname,
                        const char *public_ip, struct buf *out);

/* ---- the DNS, as the checks see it ------------------------------------ */

enum doctor_qtype {
    DOCTOR_Q_ADDR,      /* A and AAAA at once */
    DOCTOR_Q_MX,
    DOCTOR_Q_TXT,       /* each record's strings joined */
    DOCTOR_Q_PTR,
    DOCTOR_Q_CNAME,     /* the name's own CNAME, not followed */
};

enum doctor_dns {
    DOCTOR_DNS_OK,          /* records: n (text) or n4 + n6 (ADDR) of them, maybe 0 */
    DOCTOR_DNS_NODATA,      /* the name exists, no record of that type */
    DOCTOR_DNS_NXDOMAIN,    /* the name does not exist */
    DOCTOR_DNS_TEMPFAIL,    /* SERVFAIL, timeout: unknown for now */
};

/*
 * One answer. TXT, PTR, CNAME and MX set text[0..n): records, host names
 * (lower case, no final dot), the CNAME's target, the MX hosts ("" for
 * the null MX) with their preferences in pref[0..n). ADDR sets a4 (4 * n4
 * octets) and a6 (16 * n6 octets), network order. why: NULL or a short
 * reason for a failure ("SERVFAIL", "timeout").
 */
struct doctor_answer {
    enum doctor_dns      status;
    const char          *why;
    size_t               n;
    char *const         *text;
    const unsigned      *pref;
    size_t               n4, n6;
    const unsigned char *a4, *a6;
};

/*
 * doctor_lookup_fn - the answer provider: true with *ans filled when the
 * answer for (type, name) is known; false when it is not, and then the
 * provider remembers to fetch it. What it puts in *ans stays valid for
 * the rest of the check's run. name: lower case, no final dot.
 */
typedef bool (*doctor_lookup_fn)(void *arg, enum doctor_qtype type, const char *name,
                                 struct doctor_answer *ans);

/* What every check knows about this server. */
struct doctor_env {
    const char             *hostname;   /* the configuration's hostname */
    const char             *public_ip;  /* this server's address as others see it; "" unknown */
    doctor_lookup_fn        lookup;
    void                   *arg;
    const struct dmarc_psl *psl;        /* for DMARC's organizational domain */
    time_t                  now;
};

/* ---- the DNS checks (restartable: see the top of this file) ----------- */

/*
 * doctor_check_mx - the MX records of domain: present, not the null MX;
 * each host a name (not an IP address), not an alias (CNAME), with an
 * address; and one of them this server (hostname, or a host at public_ip).
 */
bool doctor_check_mx(const struct doctor_env *env, const char *domain, struct doctor_report *out);
/* doctor_check_host - hostname resolves to public_ip */
bool doctor_check_host(const struct doctor_env *env, struct doctor_report *out);
/*
 * doctor_check_ptr - the reverse DNS of public_ip exists and names a host
 * that resolves back to it (forward-confirmed reverse DNS), ideally hostname.
 */
bool doctor_check_ptr(const struct doctor_env *env, struct doctor_report *out);
/*
 * doctor_check_spf - one "v=spf1" record at domain, valid, within the 10
 * DNS lookups (RFC 7208 4.6.4), passing public_ip, and not passing every
 * address (+all). Evaluated with spf_eval() for public_ip and for an
 * address nobody uses (DOCTOR_SPF_STRANGER), which walks the whole record.
 */
bool doctor_check_spf(const struct doctor_env *env, const char *domain, struct doctor_report *out);
#define DOCTOR_SPF_STRANGER "192.0.2.1"     /* RFC 5737 TEST-NET-1 */
/*
 * doctor_check_dmarc - a DMARC record for domain (at _dmarc.DOMAIN, or at
 * its organizational domain's), that parses, and its policy: p=none is a
 * warning, none at all a problem.
 */
bool doctor_check_dmarc(const struct doctor_env *env, const char *domain,
                        struct doctor_report *out);

/* One DKIM key file of a domain, as the caller loaded it. */
struct doctor_dkim_key {
    const char            *selector;
    const char            *path;
    bool                   newest;      /* the key of its algorithm that signs */
    const struct dkim_key *key;         /* NULL when it could not be loaded ... */
    const char            *error;       /* ... and why */
};

/*
 * doctor_check_dkim - for each key of domain, the record at
 * SELECTOR._domainkey.DOMAIN holds its public key. No key at all is a
 * problem (the mail of domain is not signed) unless signing is off.
 */
bool doctor_check_dkim(const struct doctor_env *env, const char *domain,
                       const struct doctor_dkim_key *keys, size_t nkeys, bool signing,
                       struct doctor_report *out);
/* doctor_check_dnsbl - public_ip is not listed in zone (RFC 5782) */
bool doctor_check_dnsbl(const struct doctor_env *env, const char *zone,
                        struct doctor_report *out);

/* The blocklists asked when the configuration names none; NULL-terminated. */
extern const char *const doctor_dnsbl_default[];

/* ---- local facts ------------------------------------------------------- */

/* One configured listener and what connecting to it gave. */
struct doctor_listener {
    const char *key;        /* "listen_smtp", ... */
    const char *addr;       /* as configured, "0.0.0.0:25" */
    unsigned    port;
    int         error;      /* 0: it accepted the connection; else errno */
};

/*
 * doctor_check_listeners - a closed listener is a problem naming its key;
 * when every one refuses, one problem says the server is not running.
 * listen_smtp on another port than 25 is a warning (not in the trial setup).
 */
void doctor_check_listeners(const struct doctor_env *env, const struct doctor_listener *v,
                            size_t n, bool trial, struct doctor_report *out);

/* The certificate, as the caller read it. */
struct doctor_cert {
    const char *path;
    bool        selfsigned_setup;   /* tls_cert unset: the self-signed one of <data_dir>/tls */
    const char *error;              /* NULL, or why it could not be read */
    bool        selfsigned;         /* issuer == subject, signed by its own key */
    bool        covers;             /* its names (SAN, else CN) cover hostname */
    const char *names;              /* its DNS names, for the report: "a, b" */
    time_t      not_after;
    const char *chain_error;        /* NULL, or why the chain does not verify (CA-signed) */
};

#define DOCTOR_CERT_MIN_DAYS 14

/* doctor_check_cert - names, expiry, self-signed, chain */
void doctor_check_cert(const struct doctor_env *env, const struct doctor_cert *c,
                       struct doctor_report *out);

/* The queue, as the caller read it (control socket, or the files). */
struct doctor_queue {
    const char *error;          /* NULL, or why it could not be read */
    bool        running;        /* the answer came from the running server */
    size_t      messages;       /* with recipients still to deliver */
    size_t      deferred;       /* of those, tried at least once */
    long long   oldest_age;     /* seconds, of the oldest one */
    const char *top_reason;     /* NULL, or the most common last error ... */
    size_t      top_count;      /* ... and how many recipients have it */
    unsigned    lifetime;       /* max_queue_lifetime, seconds */
};

#define DOCTOR_QUEUE_WARN_AGE     3600      /* an hour: mail is late */
#define DOCTOR_QUEUE_PROBLEM_AGE  86400     /* a day: mail is lost soon */

void doctor_check_queue(const struct doctor_env *env, const struct doctor_queue *q,
                        struct doctor_report *out);

/*
 * doctor_check_public_ip - the address the checks use: found (how) or not.
 * how: "public_ip" when configured, else the interface's name.
 */
void doctor_check_public_ip(const struct doctor_env *env, const char *how,
                            const char *private_ip, struct doctor_report *out);

/* ---- helpers, exported for the command and the unit tests ------------- */

/* doctor_ip_global - ip (text) is a global unicast address */
bool doctor_ip_global(const char *ip);
/* doctor_ip_equal - a and b are the same address (text, any form) */
bool doctor_ip_equal(const char *a, const char *b);
/*
 * doctor_reverse_name - "5.113.0.203.in-addr.arpa" or the ip6.arpa
 * nibbles for ip; false when ip is no address or out is too small.
 */
bool doctor_reverse_name(const char *ip, char *out, size_t outlen);
/* doctor_is_spf - txt is an SPF record: "v=spf1" then a space or the end */
bool doctor_is_spf(const char *txt);
/*
 * doctor_spf_suggest - the record to publish: "v=spf1 ip4:IP -all"
 * (ip6: for IPv6), "v=spf1 mx -all" when ip is NULL or "". New string.
 */
char *doctor_spf_suggest(const char *ip);
/* doctor_spf_with_ip - record with "ip4:IP" (or ip6:) put first. New string. */
char *doctor_spf_with_ip(const char *record, const char *ip);
/*
 * doctor_spf_merge - one record out of several: their terms in order,
 * without repeats (case aside), each redirect=X as include:X, every
 * "all" left out; then the strictest "all" of them (-all, ~all, ?all;
 * never +all), else "-all". New string.
 */
char *doctor_spf_merge(char *const *records, size_t n);
/* doctor_spf_without_pass_all - record with "+all" / "all" made "-all". New string. */
char *doctor_spf_without_pass_all(const char *record);
/*
 * doctor_txt_quoted - value as zone-file TXT strings: "..." pieces of at
 * most 255 octets, '"' and '\' escaped. New string.
 */
char *doctor_txt_quoted(const char *value);
/* doctor_dmarc_suggest - "v=DMARC1; p=quarantine; rua=mailto:postmaster@DOMAIN". New string. */
char *doctor_dmarc_suggest(const char *domain);

enum doctor_bl {
    DOCTOR_BL_CLEAN,        /* no address: not listed */
    DOCTOR_BL_LISTED,       /* an address in 127.0.0.0/8 (RFC 5782 2.3) */
    DOCTOR_BL_REFUSED,      /* 127.255.255.0/24 only: the list refuses the resolver */
    DOCTOR_BL_ODD,          /* only addresses outside 127/8: a resolver rewriting answers */
};

/* doctor_dnsbl_verdict - what the A records a4[0..4*n4) of a list's answer say */
enum doctor_bl doctor_dnsbl_verdict(const unsigned char *a4, size_t n4);
/* doctor_dnsbl_advice - how to get off zone's list: a sentence; NULL for a list not known */
const char *doctor_dnsbl_advice(const char *zone);
/*
 * doctor_most_common - the string that occurs most often in v[0..n)
 * (NULL entries skipped; ties: the first), with its count; NULL when none.
 */
const char *doctor_most_common(char *const *v, size_t n, size_t *count);

#endif
