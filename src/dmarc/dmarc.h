/*
 * dmarc - DMARC (RFC 7489): the record, the organizational domain,
 * policy discovery and the evaluation of one message. Pure: no network,
 * no event loop, no clock, no randomness, no globals.
 *
 * The server's part, for one message:
 *
 *   1. from_extract() (mail/from.h) gives the RFC5322.From domain; when
 *      it fails the server decides (RFC 7489 6.6.1: typically reject).
 *   2. dmarc_discover() until it says DMARC_DONE: each DMARC_NEED_TXT
 *      names a TXT lookup; the server does it asynchronously (dns_txt),
 *      keeps the answer and calls dmarc_discover() again, which starts
 *      over and finds that answer through the lookup function. At most
 *      two names are ever asked.
 *   3. dmarc_evaluate() with the SPF and DKIM results and a random number,
 *      which says what to do: accept, quarantine or reject.
 *
 * IDNA: domains are compared as given (ASCII case aside), so a From
 * domain in U-labels (UTF-8, as from_extract() gives it) does not align
 * with the same domain in A-labels (DKIM's d= is always A-labels, RFC
 * 6376 3.5). The server should convert the From domain to A-labels
 * (libidn2) before dmarc_discover(); then the name in DMARC_NEED_TXT is
 * ASCII too. Left as it is, that name is UTF-8 and must be converted
 * before asking DNS.
 *
 * The organizational domain (RFC 7489 3.2) comes from the Public Suffix
 * List through libpsl, both its ICANN and its private sections (as
 * psl_registrable_domain() does): the system's copy (DMARC_PSL_FILE, of
 * Debian's publicsuffix package, updated with the system) when it can be
 * read, else the copy built into libpsl, which may be older. A domain that
 * is itself a public suffix ("com", "co.uk"), or a single label, is its
 * own organizational domain.
 *
 * Not here: aggregate and failure reports (rua=, ruf= are only checked
 * for validity, step 6 of 6.6.3 needs that), the DMARCbis tags np=, psd=,
 * t= (ignored as unknown tags).
 */
#ifndef POSTINO_DMARC_DMARC_H
#define POSTINO_DMARC_DMARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMARC_DOMAIN_MAX 256                    /* octets of a domain, with its NUL */
#define DMARC_NAME_MAX   (7 + DMARC_DOMAIN_MAX) /* "_dmarc." and a domain */
#define DMARC_PSL_FILE   "/usr/share/publicsuffix/public_suffix_list.dafsa"

/* ---- the record (RFC 7489 6.3) ----------------------------------------- */

enum dmarc_policy {
    DMARC_POLICY_NONE,
    DMARC_POLICY_QUARANTINE,
    DMARC_POLICY_REJECT,
};

enum dmarc_align {
    DMARC_ALIGN_RELAXED,    /* same organizational domain (the default) */
    DMARC_ALIGN_STRICT,     /* the same domain */
};

/* fo= (failure reporting options), as bits */
#define DMARC_FO_0 0x1u     /* all mechanisms failed (the default) */
#define DMARC_FO_1 0x2u     /* any mechanism failed */
#define DMARC_FO_D 0x4u     /* DKIM failed */
#define DMARC_FO_S 0x8u     /* SPF failed */

/*
 * A parsed record. Tags that are absent or invalid (outside of p= and
 * sp=) keep their defaults. A known tag given twice counts once, the
 * first time; for p= and sp= a second one makes the tag invalid.
 */
struct dmarc_record {
    enum dmarc_policy p;        /* p=; none when the record has no valid p= */
    enum dmarc_policy sp;       /* sp=, else p */
    bool              has_sp;   /* sp= was given (and valid) */
    enum dmarc_align  adkim;    /* adkim=r|s, default r */
    enum dmarc_align  aspf;     /* aspf=r|s, default r */
    unsigned          pct;      /* pct=0..100, default 100 */
    uint32_t          ri;       /* ri= seconds, default 86400 */
    unsigned          fo;       /* fo= DMARC_FO_* bits, default DMARC_FO_0 */
    bool              rua_valid;/* rua= holds at least one valid URI */
    bool              ruf_valid;/* ruf= holds at least one valid URI */
};

enum dmarc_parse {
    DMARC_PARSE_OK,         /* a policy record: v=DMARC1, valid p=, sp= valid if any */
    DMARC_PARSE_NOT_DMARC,  /* does not start with v=DMARC1: not a DMARC record */
    DMARC_PARSE_NO_POLICY,  /* v=DMARC1 but p= missing or invalid, or sp= invalid;
                             * rec is filled (see rua_valid, 6.6.3 step 6) */
};

/*
 * dmarc_record_parse - parse the TXT record txt[0..len) (its strings
 * joined). "v=DMARC1" must come first (tag name in any case, DMARC1
 * exactly, RFC 7489 6.4); other tag names and keywords are matched in any
 * case (ABNF literals), unknown tags and malformed tag-specs are ignored.
 * *rec is always filled (defaults for NOT_DMARC).
 */
enum dmarc_parse dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec);

/* ---- the organizational domain (RFC 7489 3.2) -------------------------- */

struct dmarc_psl;

/*
 * dmarc_psl_open - load the Public Suffix List: from path (a DAFSA or a
 * text list) when not NULL, failing if it cannot be read; with NULL, from
 * DMARC_PSL_FILE, else libpsl's built-in list. NULL with a sentence in err
 * on failure. Load it once at startup (it is read-only afterwards and may
 * be shared by threads); dmarc_psl_free() releases it, NULL is fine.
 */
struct dmarc_psl *dmarc_psl_open(const char *path, char *err, size_t errlen);
void dmarc_psl_free(struct dmarc_psl *psl);
/* dmarc_psl_source - where the list came from, for the log: a path or "builtin" */
const char *dmarc_psl_source(const struct dmarc_psl *psl);

/*
 * dmarc_org_domain - the organizational domain of domain, in lower case
 * without a trailing dot, into out. False (out "") when domain is empty,
 * or it or the result does not fit in outlen.
 */
bool dmarc_org_domain(const struct dmarc_psl *psl, const char *domain, char *out,
                      size_t outlen);

/* ---- policy discovery (RFC 7489 6.6.3) --------------------------------- */

enum dmarc_dns {
    DMARC_DNS_OK,           /* TXT records: txt[0..n) */
    DMARC_DNS_NXDOMAIN,
    DMARC_DNS_NODATA,
    DMARC_DNS_TEMPFAIL,     /* SERVFAIL, timeout */
};

struct dmarc_answer {
    enum dmarc_dns status;
    char *const   *txt;     /* each a whole record, its strings joined, NUL-terminated */
    size_t         n;
};

/*
 * The answer provider: true ("known") with *ans filled for name, or
 * false ("unknown": not looked up yet). The strings stay the caller's and
 * need only live until dmarc_discover() returns.
 */
typedef bool (*dmarc_lookup_fn)(void *arg, const char *name, struct dmarc_answer *ans);

enum dmarc_found {
    DMARC_FOUND_NONE,       /* no record, or several (6.6.3 step 5): no DMARC */
    DMARC_FOUND_RECORD,     /* rec is the policy */
    DMARC_FOUND_INVALID,    /* one record, no valid p= (or bad sp=) and no valid
                             * rua= (6.6.3 step 6.2): no DMARC, permerror */
    DMARC_FOUND_TEMPFAIL,   /* a lookup failed for now: temperror */
};

struct dmarc_discovery {
    enum dmarc_found    found;
    /*
     * FOUND_RECORD: the policy. A record without a valid p= (or with a
     * bad sp=) but with a valid rua= is taken as p=none (6.6.3 step 6.1):
     * then p and sp are none and none_by_rua is set.
     */
    struct dmarc_record rec;
    bool                none_by_rua;
    bool                at_org;     /* the records came from the organizational domain */
    size_t              nrecords;   /* DMARC records at that name (for the log) */
    char                domain[DMARC_DOMAIN_MAX];       /* From domain: lower case */
    char                org_domain[DMARC_DOMAIN_MAX];   /* its organizational domain */
    char                need[DMARC_NAME_MAX];           /* DMARC_NEED_TXT: the name */
};

enum dmarc_step {
    DMARC_DONE,             /* out->found says what was found */
    DMARC_NEED_TXT,         /* look up TXT out->need, then call again */
};

/*
 * dmarc_discover - policy discovery for from_domain: the TXT records of
 * _dmarc.<from_domain>; when none starts with v=DMARC1, those of
 * _dmarc.<organizational domain> (if it differs). A TEMPFAIL answer ends
 * discovery with FOUND_TEMPFAIL; NXDOMAIN and NODATA are "no records".
 * Stateless: every call starts over, asking lookup for each name on the
 * way, and stops at the first name lookup does not know.
 */
enum dmarc_step dmarc_discover(const struct dmarc_psl *psl, const char *from_domain,
                               dmarc_lookup_fn lookup, void *arg,
                               struct dmarc_discovery *out);

/* ---- evaluation (RFC 7489 3.1, 6.6.2, 6.6.4) --------------------------- */

/* An SPF or DKIM result as DMARC sees it. */
enum dmarc_auth {
    DMARC_AUTH_NONE,        /* not checked, or nothing to check */
    DMARC_AUTH_PASS,
    DMARC_AUTH_FAIL,        /* fail, softfail, neutral, policy: anything but pass */
    DMARC_AUTH_TEMPERROR,
    DMARC_AUTH_PERMERROR,
};

/* Which identity the SPF result is about (RFC 7489 4.1, RFC 7208 2.3, 2.4). */
enum dmarc_spf_identity {
    DMARC_SPF_MAILFROM,     /* the MAIL FROM domain: counts */
    DMARC_SPF_NULL_PATH,    /* MAIL FROM:<>, so the HELO name is the MAIL FROM
                             * identity (postmaster@helo, RFC 7208 2.4): counts */
    DMARC_SPF_HELO,         /* a HELO check of a non-null MAIL FROM: does not count */
};

struct dmarc_dkim {
    enum dmarc_auth result;
    const char     *domain; /* d= of the signature */
};

struct dmarc_input {
    enum dmarc_auth          spf;
    const char              *spf_domain;    /* NULL or "" for none */
    enum dmarc_spf_identity  spf_identity;
    const struct dmarc_dkim *dkim;          /* every signature checked */
    size_t                   ndkim;
};

enum dmarc_result {
    DMARC_RESULT_NONE,      /* no policy published (or several records) */
    DMARC_RESULT_PASS,      /* an aligned identifier passed */
    DMARC_RESULT_FAIL,
    DMARC_RESULT_TEMPERROR, /* discovery failed for now, or no aligned pass but an
                             * aligned SPF or DKIM temperror (it might pass later) */
    DMARC_RESULT_PERMERROR, /* the published record is unusable */
};

enum dmarc_disposition {
    DMARC_ACCEPT,
    DMARC_QUARANTINE,
    DMARC_REJECT,
};

struct dmarc_outcome {
    enum dmarc_result      result;
    enum dmarc_policy      policy;      /* asked for: p=, or sp= for a subdomain when the
                                         * record is the organizational domain's; none
                                         * without a record */
    enum dmarc_disposition disposition; /* what to do */
    bool                   sampled;     /* a record, and sample % 100 < pct: a failing
                                         * message gets the policy in full */
    bool                   spf_aligned; /* SPF passed for an aligned domain */
    bool                   dkim_aligned;/* a DKIM signature passed for an aligned d= */
    size_t                 dkim_index;  /* dkim_aligned: the first such signature */
};

/*
 * dmarc_evaluate - the DMARC result of a message from d->domain, given
 * discovery d (DMARC_DONE) and the SPF and DKIM results in. sample is a
 * random number from the caller (any range; sample % 100 is used): the
 * policy is applied in full when sample % 100 < pct, else the next lower
 * one (reject -> quarantine, quarantine -> none: 6.6.4). Alignment
 * (3.1): strict is the same domain, relaxed the same organizational
 * domain, both without regard to case or a trailing dot.
 *
 * Disposition: reject or quarantine only for a failing message under such
 * a policy; accept otherwise, including none, temperror and permerror (a
 * server may defer a temperror itself).
 */
void dmarc_evaluate(const struct dmarc_psl *psl, const struct dmarc_discovery *d,
                    const struct dmarc_input *in, unsigned sample,
                    struct dmarc_outcome *out);

/* names, as RFC 7489 and RFC 8601 write them: "pass", "quarantine", ... */
const char *dmarc_result_name(enum dmarc_result r);
const char *dmarc_policy_name(enum dmarc_policy p);
/* the disposition as aggregate reports and "dis=" say it: accept is "none" */
const char *dmarc_disposition_name(enum dmarc_disposition d);

#endif
