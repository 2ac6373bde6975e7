/*
 * dmarc - policy discovery and evaluation (RFC 7489 6.6); see dmarc.h.
 *
 * Discovery is restartable by being stateless: dmarc_discover() walks
 * 6.6.3 from the top each time, and the lookup function answers from
 * what the server has fetched so far. The walk is short (two names at
 * most), so doing it again costs nothing next to a DNS round trip, and
 * the server keeps no DMARC state but its answers.
 */
#include <stdio.h>
#include <string.h>

/* this module */
#include "dmarc/dmarc.h"

enum ask {
    ASK_UNKNOWN,    /* the lookup function does not know the name yet */
    ASK_TEMPFAIL,
    ASK_DONE,       /* *count DMARC records; the first in *rec, *st */
};

/*
 * domain_norm - domain in lower case (ASCII letters) without a trailing
 * dot, into out; false when that is empty or does not fit
 */
static bool
domain_norm(const char *domain, char *out, size_t outlen)
{
    size_t n = domain ? strlen(domain) : 0;

    out[0] = '\0';
    if (n > 0 && domain[n - 1] == '.')
        n--;
    if (n == 0 || n >= outlen)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = domain[i];
        out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return true;
}

/*
 * ask - the DMARC records at _dmarc.<domain> (6.6.3 steps 1-2 and 3-4):
 * records that do not start with v=DMARC1 are discarded; the first of
 * the others is parsed into *rec
 */
static enum ask
ask(dmarc_lookup_fn lookup, void *arg, const char *domain, struct dmarc_discovery *out,
    size_t *count, struct dmarc_record *rec, enum dmarc_parse *st)
{
    char name[DMARC_NAME_MAX];
    struct dmarc_answer ans = { .status = DMARC_DNS_NODATA };

    snprintf(name, sizeof(name), "_dmarc.%s", domain);
    *count = 0;
    if (!lookup(arg, name, &ans)) {
        memcpy(out->need, name, strlen(name) + 1);
        return ASK_UNKNOWN;
    }
    if (ans.status == DMARC_DNS_TEMPFAIL)
        return ASK_TEMPFAIL;
    if (ans.status != DMARC_DNS_OK)
        return ASK_DONE;            /* NXDOMAIN, NODATA: no records */
    for (size_t i = 0; i < ans.n; i++) {
        struct dmarc_record r;
        enum dmarc_parse ps;

        if (ans.txt == NULL || ans.txt[i] == NULL)
            continue;
        ps = dmarc_record_parse(ans.txt[i], strlen(ans.txt[i]), &r);
        if (ps == DMARC_PARSE_NOT_DMARC)
            continue;
        if (++*count == 1) {
            *rec = r;
            *st = ps;
        }
    }
    return ASK_DONE;
}

enum dmarc_step
dmarc_discover(const struct dmarc_psl *psl, const char *from_domain, dmarc_lookup_fn lookup,
               void *arg, struct dmarc_discovery *out)
{
    struct dmarc_record rec;
    enum dmarc_parse st = DMARC_PARSE_NOT_DMARC;
    size_t count = 0;
    enum ask a;

    memset(out, 0, sizeof(*out));
    out->found = DMARC_FOUND_NONE;
    dmarc_record_parse("", 0, &out->rec);   /* the defaults */
    if (!domain_norm(from_domain, out->domain, sizeof(out->domain)))
        return DMARC_DONE;
    if (!dmarc_org_domain(psl, out->domain, out->org_domain, sizeof(out->org_domain)))
        memcpy(out->org_domain, out->domain, sizeof(out->org_domain));

    /* steps 1-2: the From domain */
    a = ask(lookup, arg, out->domain, out, &count, &rec, &st);
    if (a == ASK_UNKNOWN)
        return DMARC_NEED_TXT;
    if (a == ASK_TEMPFAIL) {
        out->found = DMARC_FOUND_TEMPFAIL;
        return DMARC_DONE;
    }
    /* steps 3-4: none there, so the organizational domain, if another */
    if (count == 0 && strcmp(out->org_domain, out->domain) != 0) {
        out->at_org = true;
        a = ask(lookup, arg, out->org_domain, out, &count, &rec, &st);
        if (a == ASK_UNKNOWN)
            return DMARC_NEED_TXT;
        if (a == ASK_TEMPFAIL) {
            out->found = DMARC_FOUND_TEMPFAIL;
            return DMARC_DONE;
        }
    }
    /* step 5: exactly one record, or no DMARC */
    out->nrecords = count;
    if (count != 1)
        return DMARC_DONE;
    out->rec = rec;
    /* step 6: no valid p= (or a bad sp=): p=none if rua= is valid, else no DMARC */
    if (st == DMARC_PARSE_OK) {
        out->found = DMARC_FOUND_RECORD;
    } else if (rec.rua_valid) {
        out->found = DMARC_FOUND_RECORD;
        out->none_by_rua = true;
    } else {
        out->found = DMARC_FOUND_INVALID;
    }
    return DMARC_DONE;
}

/*
 * aligned - is domain aligned with the From domain of d (3.1.1, 3.1.2):
 * the same domain, or in relaxed mode the same organizational domain
 */
static bool
aligned(const struct dmarc_psl *psl, const struct dmarc_discovery *d, const char *domain,
        enum dmarc_align mode)
{
    char nd[DMARC_DOMAIN_MAX], org[DMARC_DOMAIN_MAX];

    if (d->domain[0] == '\0' || !domain_norm(domain, nd, sizeof(nd)))
        return false;
    if (strcmp(nd, d->domain) == 0)
        return true;
    if (mode == DMARC_ALIGN_STRICT)
        return false;
    return dmarc_org_domain(psl, nd, org, sizeof(org)) && strcmp(org, d->org_domain) == 0;
}

/* lower - the policy next below p, for a message pct= did not choose (6.6.4) */
static enum dmarc_policy
lower(enum dmarc_policy p)
{
    return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

void
dmarc_evaluate(const struct dmarc_psl *psl, const struct dmarc_discovery *d,
               const struct dmarc_input *in, unsigned sample, struct dmarc_outcome *out)
{
    struct dmarc_record defaults;
    const struct dmarc_record *rec = &d->rec;
    bool temp = false, spf_counts = in->spf_identity != DMARC_SPF_HELO;
    enum dmarc_policy applied;

    *out = (struct dmarc_outcome){
        .result = DMARC_RESULT_NONE,
        .policy = DMARC_POLICY_NONE,
        .disposition = DMARC_ACCEPT,
    };
    if (d->found != DMARC_FOUND_RECORD) {
        dmarc_record_parse("", 0, &defaults);   /* relaxed, for the log */
        rec = &defaults;
    }

    /* SPF: only the MAIL FROM identity counts (4.1) */
    if (spf_counts && in->spf_domain && aligned(psl, d, in->spf_domain, rec->aspf)) {
        out->spf_aligned = in->spf == DMARC_AUTH_PASS;
        temp = in->spf == DMARC_AUTH_TEMPERROR;
    }
    /* DKIM: any passing signature with an aligned d= */
    for (size_t i = 0; i < in->ndkim; i++) {
        const struct dmarc_dkim *k = &in->dkim[i];

        if (k->domain == NULL || !aligned(psl, d, k->domain, rec->adkim))
            continue;
        if (k->result == DMARC_AUTH_PASS && !out->dkim_aligned) {
            out->dkim_aligned = true;
            out->dkim_index = i;
        }
        if (k->result == DMARC_AUTH_TEMPERROR)
            temp = true;
    }

    switch (d->found) {
    case DMARC_FOUND_NONE:
        return;
    case DMARC_FOUND_TEMPFAIL:
        out->result = DMARC_RESULT_TEMPERROR;
        return;
    case DMARC_FOUND_INVALID:
        out->result = DMARC_RESULT_PERMERROR;
        return;
    case DMARC_FOUND_RECORD:
        break;
    }

    /* sp= is for subdomains, found through the organizational domain (6.3) */
    out->policy = d->at_org ? rec->sp : rec->p;
    out->sampled = sample % 100 < rec->pct;
    if (out->spf_aligned || out->dkim_aligned) {
        out->result = DMARC_RESULT_PASS;
        return;
    }
    if (temp) {
        /* RFC 7489 has no word on this: a DKIM key or SPF record that
         * could not be fetched might have passed, so no verdict yet */
        out->result = DMARC_RESULT_TEMPERROR;
        return;
    }
    out->result = DMARC_RESULT_FAIL;
    applied = out->sampled ? out->policy : lower(out->policy);
    out->disposition = applied == DMARC_POLICY_REJECT ? DMARC_REJECT
                     : applied == DMARC_POLICY_QUARANTINE ? DMARC_QUARANTINE
                     : DMARC_ACCEPT;
}

const char *
dmarc_result_name(enum dmarc_result r)
{
    switch (r) {
    case DMARC_RESULT_NONE:      return "none";
    case DMARC_RESULT_PASS:      return "pass";
    case DMARC_RESULT_FAIL:      return "fail";
    case DMARC_RESULT_TEMPERROR: return "temperror";
    case DMARC_RESULT_PERMERROR: return "permerror";
    }
    return "permerror";
}

const char *
dmarc_policy_name(enum dmarc_policy p)
{
    switch (p) {
    case DMARC_POLICY_NONE:       return "none";
    case DMARC_POLICY_QUARANTINE: return "quarantine";
    case DMARC_POLICY_REJECT:     return "reject";
    }
    return "none";
}

const char *
dmarc_disposition_name(enum dmarc_disposition d)
{
    switch (d) {
    case DMARC_ACCEPT:     return "none";
    case DMARC_QUARANTINE: return "quarantine";
    case DMARC_REJECT:     return "reject";
    }
    return "none";
}
