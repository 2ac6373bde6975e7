/*
 * spf - the SPF check_host() function (RFC 7208), as a pure, restartable
 * evaluation over the DNS answers the caller already has.
 *
 * THE RESTARTABLE DESIGN
 *
 * check_host() is a recursive walk (include, redirect) that needs DNS
 * answers in the middle of everything; the server's DNS is asynchronous
 * (libunbound on the event loop) and runs no threads for it. So this
 * module never waits for DNS. The caller hands spf_eval() an answer
 * provider, a function that returns the answer it already KNOWS for
 * (type, name), typically from a per-check cache, or says "unknown".
 * spf_eval() always starts check_host() from the beginning:
 *
 *   - when an answer it needs is unknown, it stops and returns false with
 *     the queries to make in out->need[0..nneed): need[0] is the first
 *     unknown answer in evaluation order; the others (address lookups of
 *     the other MX or PTR names of the same mechanism, at most
 *     SPF_NEED_MAX in all) will be needed next unless an earlier answer
 *     ends the check first. The caller asks them (all at once is fine),
 *     adds the answers to its cache and calls spf_eval() again, with the
 *     same request;
 *   - with every answer known it returns true and out->result.
 *
 * Evaluation is deterministic given the request and the answers, so each
 * rerun replays the same steps with the same answers and gets further:
 * the DNS-term count (10, RFC 7208 4.6.4), the void-lookup count (2,
 * 4.6.4), the 10-name limits of mx and ptr and every other decision come
 * out the same on every run, because they are recomputed from the same
 * data instead of being carried between runs. Nothing is kept between
 * calls; spf_eval() uses no globals, does no I/O and allocates nothing
 * (bounded stack: the include/redirect depth is bounded by the 10-term
 * limit). A check needs at most SPF_QUERIES_MAX distinct answers, so a
 * caller that keeps every answer it got for the whole check is done
 * within SPF_QUERIES_MAX + 1 calls (far fewer in practice); a caller that
 * may forget answers between calls should cap the calls itself.
 *
 * THE ANSWER PROVIDER
 *
 * Names asked are in lower case, without a trailing dot, 1..253 octets,
 * labels of 1..63 octets. They are raw text: any octet but '.' may be in
 * a label (RFC 7208 macros can put '%', ' ', '[' or '\' there, and the
 * suite asks such names), so a resolver taking names in presentation
 * format must escape them, or answer NXDOMAIN. Types asked: TXT (each
 * record's strings joined with nothing in between, RFC 7208 3.3; a NUL
 * octet inside must be replaced, dns_rdata_txt uses 0x7f), A and AAAA (4
 * and 16 octets per address, network order), MX (exchange host names, the
 * null MX as "" or "."), PTR (host names). Host names may come in any
 * case, with or without a trailing dot. The type SPF (99) is never asked
 * (RFC 7208 3.1, 14.1). What the provider sets in *ans must stay valid
 * until spf_eval() returns; CNAMEs are the resolver's business.
 *
 * WHAT IT DOES NOT DO
 *
 * It does not decide what to do with a result (the SMTP session does),
 * does not check the HELO identity by itself (the caller makes a second
 * check with domain = HELO name, RFC 7208 2.3), does not time the check
 * (RFC 7208 4.6.4 asks for a 20 s limit or more: the caller's timer,
 * which then takes "temperror"), and does not write headers.
 */
#ifndef POSTINO_SPF_SPF_H
#define POSTINO_SPF_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum spf_result {
    SPF_NONE,           /* no SPF record, or the domain is not a usable name */
    SPF_NEUTRAL,        /* "?" or no mechanism matched */
    SPF_PASS,
    SPF_FAIL,           /* explanation set */
    SPF_SOFTFAIL,
    SPF_TEMPERROR,      /* a DNS failure (SERVFAIL, timeout): try again later */
    SPF_PERMERROR,      /* a broken record, or a limit exceeded */
};

enum spf_rrtype {
    SPF_RR_TXT,
    SPF_RR_A,
    SPF_RR_AAAA,
    SPF_RR_MX,
    SPF_RR_PTR,
};

enum spf_dns_status {
    SPF_DNS_OK,         /* n records (n == 0 counts as NODATA) */
    SPF_DNS_NODATA,     /* the name exists, no record of the type */
    SPF_DNS_NXDOMAIN,   /* the name does not exist */
    SPF_DNS_TEMPFAIL,   /* SERVFAIL, timeout, no answer */
};

/*
 * One answer. For SPF_DNS_OK: TXT, MX and PTR set text[0..n) (non-NULL
 * strings), A sets addr to 4 * n octets, AAAA to 16 * n octets. Records
 * are used in the order given (which decides what the 10-name limits of
 * mx and ptr keep, RFC 7208 4.6.4).
 */
struct spf_answer {
    enum spf_dns_status   status;
    size_t                n;
    const char *const    *text;
    const unsigned char  *addr;
};

/*
 * spf_lookup_fn - the answer provider: true with *ans filled when the
 * answer for (type, name) is known, false when it is not (yet).
 */
typedef bool (*spf_lookup_fn)(void *arg, enum spf_rrtype type, const char *name,
                              struct spf_answer *ans);

/* What to check; the strings are read during spf_eval() only. */
struct spf_request {
    const char *ip;             /* client address: IPv4 or IPv6 text; IPv4-mapped
                                 * IPv6 (::ffff:a.b.c.d) counts as IPv4 (RFC 7208 5) */
    const char *sender;         /* MAIL FROM "local@domain"; for the null sender
                                 * "postmaster@<helo>" (RFC 7208 2.4); an empty local
                                 * part reads as "postmaster" (4.3) */
    const char *helo;           /* the HELO/EHLO name, for %{h} */
    const char *domain;         /* the domain to check: the sender's, or the HELO name */
    const char *receiver;       /* our host name, for %{r}; NULL: "unknown" */
    int64_t     now;            /* seconds since the epoch, for %{t} */
    const char *default_exp;    /* explanation for "fail" when the domain gives none
                                 * (macros allowed, as in exp= text); NULL: SPF_DEFAULT_EXP */
};

#define SPF_DEFAULT_EXP     "%{o} does not allow %{c} to send its mail (SPF, RFC 7208)"

#define SPF_NAME_MAX        253     /* a domain name, as text (RFC 7208 4.3, 7.3) */
#define SPF_MAX_TERMS       10      /* mechanisms/modifiers causing DNS lookups (4.6.4) */
#define SPF_MAX_VOID        2       /* void lookups (4.6.4) */
#define SPF_MAX_NAMES       10      /* MX or PTR names looked at per term (4.6.4) */
#define SPF_NEED_MAX        SPF_MAX_NAMES
#define SPF_EXPLAIN_MAX     400     /* explanation kept, octets: it goes into a reply line */
#define SPF_MECH_MAX        100     /* mechanism text kept, octets */
/*
 * Distinct answers one check can need: the record of the domain; per
 * counted term at most 1 + SPF_MAX_NAMES (mx, ptr); the PTR name and its
 * SPF_MAX_NAMES address lookups for %{p}; the exp= TXT.
 */
#define SPF_QUERIES_MAX     (1 + SPF_MAX_TERMS * (1 + SPF_MAX_NAMES) + (1 + SPF_MAX_NAMES) + 1)

struct spf_need {
    enum spf_rrtype type;
    char            name[SPF_NAME_MAX + 1];
};

struct spf_outcome {
    /* when spf_eval() returns false */
    size_t          nneed;                      /* >= 1 */
    struct spf_need need[SPF_NEED_MAX];
    /* when spf_eval() returns true */
    enum spf_result result;
    /*
     * For pass, fail, softfail and neutral: the term that decided, as
     * written in the top record, or the redirect= target's, e.g.
     * "ip4:192.0.2.0/24", "include:_spf.example.com", "-all"; "default"
     * when none matched. For none, temperror and permerror: the reason,
     * e.g. "no SPF record", "more than 10 DNS lookups". Printable ASCII,
     * at most SPF_MECH_MAX octets; for logs and Authentication-Results
     * comments.
     */
    char            mechanism[SPF_MECH_MAX + 1];
    /*
     * For fail: the expanded exp= text of the domain (RFC 7208 6.2), else
     * the expanded default_exp. Printable ASCII (other octets as '?'),
     * cut at SPF_EXPLAIN_MAX octets. "" for other results.
     */
    char            explanation[SPF_EXPLAIN_MAX + 1];
    /* counters of this run, for logs and tests */
    unsigned        terms;                      /* DNS-causing terms evaluated */
    unsigned        voids;                      /* void lookups */
    unsigned        queries;                    /* calls of the provider */
};

/*
 * spf_eval - run check_host(ip, domain, sender) (RFC 7208 4) from the
 * start over the answers lookup(arg, ...) knows. Returns true when done
 * (out->result, out->mechanism and, for fail, out->explanation are set);
 * false when answers are missing (out->need[0..out->nneed)). All of *out
 * is overwritten on every call. Never fails otherwise: bad input gives a
 * result (an invalid ip or domain: SPF_NONE).
 */
bool spf_eval(const struct spf_request *req, spf_lookup_fn lookup, void *arg,
              struct spf_outcome *out);

/* spf_result_name - "pass", "fail", ... as in Received-SPF (RFC 7208 9.1) */
const char *spf_result_name(enum spf_result r);
/* spf_rrtype_name - "TXT", "A", "AAAA", "MX", "PTR" */
const char *spf_rrtype_name(enum spf_rrtype t);

#endif
