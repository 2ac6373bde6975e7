/*
 * fuzz_dmarc - DMARC (RFC 7489): dmarc_record_parse() of TXT records,
 * dmarc_org_domain() over the system's Public Suffix List (opened once),
 * policy discovery with dmarc_discover() under its restart protocol with
 * answers from the input, and dmarc_evaluate() of SPF and DKIM results
 * from the input.
 *
 * Input: two octets, then parts separated by 0x1e; the fields of a part
 * are separated by 0x1f.
 *   octet 0  bits 0-2: the SPF result (mod 5, enum dmarc_auth); bits 3-4:
 *            the SPF identity (mod 3)
 *   octet 1  the sample for pct=
 *   part 0   the From domain
 *   part 1   the answer to the first name discovery asks, part 2 to the
 *            second (missing: NXDOMAIN): an optional first octet 0x01
 *            NXDOMAIN, 0x02 NODATA, 0x03 TEMPFAIL (else OK), then the TXT
 *            records (NUL as 0x7f, as dns_rdata_txt makes it)
 *   part 3   the SPF domain (empty: NULL)
 *   part 4.. DKIM results: the first octet the result (mod 5), the rest d=
 *            (empty: NULL)
 *
 * Checks, besides the sanitizers:
 *  - dmarc_record_parse (on the record's octets, NULs included, in an
 *    allocation of their size): valid enums, pct <= 100, fo bits within
 *    DMARC_FO_*; NOT_DMARC gives the defaults, NO_POLICY p = sp = none,
 *    OK without sp= has sp = p; a ";" appended changes nothing;
 *  - dmarc_org_domain: on success a label-wise suffix of the domain
 *    (ASCII lower case, a trailing dot dropped) that fits outlen; "" on
 *    failure; into exactly strlen + 1 octets it still fits, into one
 *    fewer it fails, into 0 it writes nothing. (Not checked: "without a
 *    trailing dot" does not hold for a name ending in "..", which keeps
 *    one; such a name is no domain, and from_extract() gives none.)
 *  - dmarc_discover: at most two names asked, "_dmarc." + the From domain
 *    then "_dmarc." + its organizational domain; never one it has the
 *    answer to; done, need is ""; the domain is the From domain
 *    normalised, the organizational domain a suffix of it; nrecords 1
 *    for RECORD and INVALID, 0 for TEMPFAIL; none_by_rua only as a
 *    p=none RECORD with rua; a rerun with the same answers is the same;
 *  - dmarc_evaluate: valid enums; reject or quarantine only for a fail
 *    under a record, as pct and p=/sp= say; pass exactly when an aligned
 *    identifier passed (with a record); alignments only for passing
 *    identities (SPF not for HELO), strict ones for the same domain; the
 *    From domain itself, in capitals with a trailing dot, aligns; the
 *    sample changes only sampled and the disposition.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dmarc/dmarc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define PART_SEP  0x1e
#define FIELD_SEP 0x1f

static struct dmarc_psl *psl;   /* opened once, never freed: reachable */

struct part {
    const uint8_t *p;
    size_t         n;
};

/* cstr - p[0..n) as a new C string, NUL as 0x7f */
static char *
cstr(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    for (size_t i = 0; i < n; i++)
        s[i] = p[i] == 0 ? 0x7f : (char)p[i];
    s[n] = '\0';
    return s;
}

/* norm - the domain as discovery compares it: ASCII lower case, a final dot dropped */
static bool
norm(const char *d, char *out, size_t outlen)
{
    size_t n = strlen(d);

    if (n > 0 && d[n - 1] == '.')
        n--;
    if (n == 0 || n >= outlen)
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = d[i] >= 'A' && d[i] <= 'Z' ? (char)(d[i] - 'A' + 'a') : d[i];
    out[n] = '\0';
    return true;
}

/* is_suffix - is s the domain d or a parent of it, label-wise? */
static bool
is_suffix(const char *s, const char *d)
{
    size_t sn = strlen(s), dn = strlen(d);

    if (sn == dn)
        return strcmp(s, d) == 0;
    return sn < dn && d[dn - sn - 1] == '.' && strcmp(d + dn - sn, s) == 0;
}

/* ---- the record ------------------------------------------------------- */

static void
check_rec(const struct dmarc_record *r)
{
    CHECK((unsigned)r->p <= DMARC_POLICY_REJECT && (unsigned)r->sp <= DMARC_POLICY_REJECT);
    CHECK((unsigned)r->adkim <= DMARC_ALIGN_STRICT && (unsigned)r->aspf <= DMARC_ALIGN_STRICT);
    CHECK(r->pct <= 100);
    CHECK(r->fo != 0 && (r->fo & ~(DMARC_FO_0 | DMARC_FO_1 | DMARC_FO_D | DMARC_FO_S)) == 0);
}

static bool
same_rec(const struct dmarc_record *a, const struct dmarc_record *b)
{
    return a->p == b->p && a->sp == b->sp && a->has_sp == b->has_sp && a->adkim == b->adkim
        && a->aspf == b->aspf && a->pct == b->pct && a->ri == b->ri && a->fo == b->fo
        && a->rua_valid == b->rua_valid && a->ruf_valid == b->ruf_valid;
}

static void
check_record(const uint8_t *p, size_t n)
{
    char *t = malloc(n ? n : 1), *t2 = malloc(n + 1);
    struct dmarc_record r, r2, dflt;
    enum dmarc_parse st, st2;

    memcpy(t, p, n);
    st = dmarc_record_parse(t, n, &r);
    CHECK((unsigned)st <= DMARC_PARSE_NO_POLICY);
    check_rec(&r);
    dmarc_record_parse("", 0, &dflt);
    if (st == DMARC_PARSE_NOT_DMARC)
        CHECK(same_rec(&r, &dflt));
    if (st == DMARC_PARSE_NO_POLICY)
        CHECK(r.p == DMARC_POLICY_NONE && r.sp == DMARC_POLICY_NONE && !r.has_sp);
    if (st == DMARC_PARSE_OK && !r.has_sp)
        CHECK(r.sp == r.p);
    /* a final ";" is an empty tag-spec */
    memcpy(t2, p, n);
    t2[n] = ';';
    st2 = dmarc_record_parse(t2, n + 1, &r2);
    CHECK(st2 == st && same_rec(&r, &r2));
    free(t);
    free(t2);
}

/* ---- the organizational domain ------------------------------------------ */

static void
check_org(const char *domain)
{
    char out[DMARC_DOMAIN_MAX], nd[DMARC_DOMAIN_MAX];
    bool ok = dmarc_org_domain(psl, domain, out, sizeof(out));

    if (!ok) {
        CHECK(out[0] == '\0');
        return;
    }
    size_t len = strnlen(out, sizeof(out));
    CHECK(len > 0 && len < sizeof(out));
    CHECK(norm(domain, nd, sizeof(nd)) && is_suffix(out, nd));
    /* exactly as large as needed, then one octet short, then nothing */
    char *exact = malloc(len + 1);
    CHECK(dmarc_org_domain(psl, domain, exact, len + 1) && strcmp(exact, out) == 0);
    free(exact);
    char *shrt = malloc(len);
    CHECK(!dmarc_org_domain(psl, domain, shrt, len) && shrt[0] == '\0');
    free(shrt);
    char none = 'x';
    CHECK(!dmarc_org_domain(psl, domain, &none, 0) && none == 'x');
}

/* ---- discovery ------------------------------------------------------------ */

struct dns {
    const struct part *answers;         /* parts 1 and 2 */
    char               name[2][DMARC_NAME_MAX];
    size_t             nknown;
    char             **txt[2];          /* the records of each answer */
    size_t             ntxt[2];
    enum dmarc_dns     st[2];
    unsigned           calls;
};

/* learn - the answer to name: the next part */
static void
learn(struct dns *d, const char *name)
{
    size_t k = d->nknown++;
    const struct part *a = &d->answers[k];
    const uint8_t *p = a->p;
    size_t n = a->n;

    memcpy(d->name[k], name, strlen(name) + 1);
    d->st[k] = p ? DMARC_DNS_OK : DMARC_DNS_NXDOMAIN;
    if (p == NULL)
        return;
    if (n > 0 && p[0] >= 0x01 && p[0] <= 0x03) {
        static const enum dmarc_dns st[] = {
            DMARC_DNS_OK, DMARC_DNS_NXDOMAIN, DMARC_DNS_NODATA, DMARC_DNS_TEMPFAIL,
        };
        d->st[k] = st[p[0]];
        p++;
        n--;
    }
    for (size_t i = 0, s = 0; n > 0 && i <= n; i++) {
        if (i < n && p[i] != FIELD_SEP)
            continue;
        d->txt[k] = realloc(d->txt[k], (d->ntxt[k] + 1) * sizeof(*d->txt[k]));
        d->txt[k][d->ntxt[k]++] = cstr(p + s, i - s);
        s = i + 1;
    }
}

static bool
lookup(void *arg, const char *name, struct dmarc_answer *ans)
{
    struct dns *d = arg;

    d->calls++;
    CHECK(strnlen(name, DMARC_NAME_MAX) < DMARC_NAME_MAX && strncmp(name, "_dmarc.", 7) == 0);
    for (size_t k = 0; k < d->nknown; k++) {
        if (strcmp(d->name[k], name) == 0) {
            ans->status = d->st[k];
            ans->txt = d->txt[k];
            ans->n = d->ntxt[k];
            return true;
        }
    }
    return false;
}

static bool
same_discovery(const struct dmarc_discovery *a, const struct dmarc_discovery *b)
{
    return a->found == b->found && same_rec(&a->rec, &b->rec) && a->none_by_rua == b->none_by_rua
        && a->at_org == b->at_org && a->nrecords == b->nrecords
        && strcmp(a->domain, b->domain) == 0 && strcmp(a->org_domain, b->org_domain) == 0
        && strcmp(a->need, b->need) == 0;
}

static void
discover(const char *from, struct dns *dns, struct dmarc_discovery *d)
{
    char nd[DMARC_DOMAIN_MAX], want[DMARC_NAME_MAX + 8];
    bool has_domain = norm(from, nd, sizeof(nd));

    for (;;) {
        unsigned before = dns->calls;
        enum dmarc_step step = dmarc_discover(psl, from, lookup, dns, d);

        CHECK(dns->calls - before <= 2);
        CHECK(step == DMARC_DONE || step == DMARC_NEED_TXT);
        CHECK(strnlen(d->domain, sizeof(d->domain)) < sizeof(d->domain));
        CHECK(strnlen(d->org_domain, sizeof(d->org_domain)) < sizeof(d->org_domain));
        CHECK(strnlen(d->need, sizeof(d->need)) < sizeof(d->need));
        CHECK(strcmp(d->domain, has_domain ? nd : "") == 0);
        if (!has_domain) {
            CHECK(dns->calls == 0 && step == DMARC_DONE);
        } else {
            /* the organizational domain of d->domain, which norm()s it once more */
            char nd2[DMARC_DOMAIN_MAX];
            if (!norm(d->domain, nd2, sizeof(nd2)))
                memcpy(nd2, d->domain, strlen(d->domain) + 1);     /* "." */
            CHECK(is_suffix(d->org_domain, d->domain) || is_suffix(d->org_domain, nd2));
        }
        if (step == DMARC_DONE)
            break;
        /* at most two names, in that order, none known already */
        CHECK(dns->nknown < 2);
        snprintf(want, sizeof(want), "_dmarc.%s", dns->nknown == 0 ? d->domain : d->org_domain);
        CHECK(strcmp(d->need, want) == 0);
        for (size_t k = 0; k < dns->nknown; k++)
            CHECK(strcmp(dns->name[k], d->need) != 0);
        if (dns->nknown == 1)
            CHECK(d->at_org && strcmp(d->org_domain, d->domain) != 0);
        learn(dns, d->need);
    }
    CHECK(d->need[0] == '\0');
    CHECK((unsigned)d->found <= DMARC_FOUND_TEMPFAIL);
    check_rec(&d->rec);
    if (d->at_org)
        CHECK(strcmp(d->org_domain, d->domain) != 0);
    if (d->found == DMARC_FOUND_RECORD || d->found == DMARC_FOUND_INVALID)
        CHECK(d->nrecords == 1);
    if (d->found == DMARC_FOUND_TEMPFAIL)
        CHECK(d->nrecords == 0);
    if (d->found == DMARC_FOUND_NONE)
        CHECK(d->nrecords != 1);
    if (d->none_by_rua)
        CHECK(d->found == DMARC_FOUND_RECORD && d->rec.p == DMARC_POLICY_NONE
              && d->rec.sp == DMARC_POLICY_NONE && d->rec.rua_valid);

    /* again, with every answer known: the same, with no name needed */
    struct dmarc_discovery again;
    unsigned before = dns->calls;
    CHECK(dmarc_discover(psl, from, lookup, dns, &again) == DMARC_DONE);
    CHECK(same_discovery(d, &again) && dns->calls - before <= 2);
}

/* ---- evaluation ------------------------------------------------------------ */

static enum dmarc_policy
lower_policy(enum dmarc_policy p)
{
    return p == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
}

static void
check_eval(const struct dmarc_discovery *d, const struct dmarc_input *in, unsigned sample,
           const struct dmarc_outcome *o)
{
    bool rec = d->found == DMARC_FOUND_RECORD;
    char nd[DMARC_DOMAIN_MAX];

    CHECK((unsigned)o->result <= DMARC_RESULT_PERMERROR);
    CHECK((unsigned)o->policy <= DMARC_POLICY_REJECT);
    CHECK((unsigned)o->disposition <= DMARC_REJECT);
    if (o->spf_aligned)
        CHECK(in->spf == DMARC_AUTH_PASS && in->spf_identity != DMARC_SPF_HELO
              && in->spf_domain != NULL);
    if (o->dkim_aligned) {
        CHECK(o->dkim_index < in->ndkim && in->dkim[o->dkim_index].result == DMARC_AUTH_PASS
              && in->dkim[o->dkim_index].domain != NULL);
        if (rec && d->rec.adkim == DMARC_ALIGN_STRICT)
            CHECK(norm(in->dkim[o->dkim_index].domain, nd, sizeof(nd))
                  && strcmp(nd, d->domain) == 0);
    }
    if (o->spf_aligned && rec && d->rec.aspf == DMARC_ALIGN_STRICT)
        CHECK(norm(in->spf_domain, nd, sizeof(nd)) && strcmp(nd, d->domain) == 0);
    if (!rec) {
        static const enum dmarc_result want[] = {
            [DMARC_FOUND_NONE] = DMARC_RESULT_NONE,
            [DMARC_FOUND_INVALID] = DMARC_RESULT_PERMERROR,
            [DMARC_FOUND_TEMPFAIL] = DMARC_RESULT_TEMPERROR,
        };
        CHECK(o->result == want[d->found]);
        CHECK(o->policy == DMARC_POLICY_NONE && !o->sampled && o->disposition == DMARC_ACCEPT);
        return;
    }
    CHECK(o->policy == (d->at_org ? d->rec.sp : d->rec.p));
    CHECK(o->sampled == (sample % 100 < d->rec.pct));
    CHECK((o->result == DMARC_RESULT_PASS) == (o->spf_aligned || o->dkim_aligned));
    CHECK(o->result == DMARC_RESULT_PASS || o->result == DMARC_RESULT_FAIL
          || o->result == DMARC_RESULT_TEMPERROR);
    if (o->result != DMARC_RESULT_FAIL) {
        CHECK(o->disposition == DMARC_ACCEPT);
    } else {
        enum dmarc_policy applied = o->sampled ? o->policy : lower_policy(o->policy);
        CHECK(o->disposition == (applied == DMARC_POLICY_REJECT ? DMARC_REJECT
                                 : applied == DMARC_POLICY_QUARANTINE ? DMARC_QUARANTINE
                                 : DMARC_ACCEPT));
    }
}

static void
evaluate(const struct dmarc_discovery *d, const struct dmarc_input *in, unsigned sample)
{
    struct dmarc_outcome o, o2;

    dmarc_evaluate(psl, d, in, sample, &o);
    check_eval(d, in, sample, &o);
    /* another sample: only sampled and the disposition may change */
    dmarc_evaluate(psl, d, in, sample + 1, &o2);
    check_eval(d, in, sample + 1, &o2);
    CHECK(o.result == o2.result && o.policy == o2.policy && o.spf_aligned == o2.spf_aligned
          && o.dkim_aligned == o2.dkim_aligned && o.dkim_index == o2.dkim_index);

    /* the From domain itself, in capitals with a trailing dot, aligns */
    if (d->domain[0] != '\0') {
        char same[DMARC_DOMAIN_MAX + 1];
        size_t n = strlen(d->domain);
        struct dmarc_dkim k = { DMARC_AUTH_PASS, same };
        struct dmarc_input in2 = { DMARC_AUTH_PASS, same, DMARC_SPF_MAILFROM, &k, 1 };

        for (size_t i = 0; i < n; i++)
            same[i] = d->domain[i] >= 'a' && d->domain[i] <= 'z' ? (char)(d->domain[i] - 32)
                                                                 : d->domain[i];
        same[n] = '.';
        same[n + 1] = '\0';
        dmarc_evaluate(psl, d, &in2, sample, &o);
        check_eval(d, &in2, sample, &o);
        CHECK(o.spf_aligned && o.dkim_aligned && o.dkim_index == 0);
        if (d->found == DMARC_FOUND_RECORD)
            CHECK(o.result == DMARC_RESULT_PASS);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct part parts[64];
    size_t np = 0;
    char *from, *spf_domain = NULL, *dkim_domains[32];
    struct dmarc_dkim dkim[32];
    size_t ndkim = 0;
    struct dns dns = { 0 };
    struct part answers[2] = { { NULL, 0 }, { NULL, 0 } };
    struct dmarc_discovery d;

    if (psl == NULL) {
        char err[256];
        psl = dmarc_psl_open(NULL, err, sizeof(err));
        CHECK(psl != NULL);
    }
    if (size < 2)
        return 0;
    for (size_t i = 2, s = 2; i <= size && np < 64; i++) {
        if (i < size && data[i] != PART_SEP)
            continue;
        parts[np].p = data + s;
        parts[np++].n = i - s;
        s = i + 1;
    }

    /* records: the parser on its own */
    for (size_t k = 1; k <= 2 && k < np; k++) {
        const uint8_t *p = parts[k].p;
        size_t n = parts[k].n;

        answers[k - 1] = parts[k];
        if (n > 0 && p[0] >= 0x01 && p[0] <= 0x03) {
            p++;
            n--;
        }
        for (size_t i = 0, s = 0; n > 0 && i <= n; i++) {
            if (i < n && p[i] != FIELD_SEP)
                continue;
            check_record(p + s, i - s);
            s = i + 1;
        }
    }

    from = np > 0 ? cstr(parts[0].p, parts[0].n) : cstr((const uint8_t *)"", 0);
    if (np > 3 && parts[3].n > 0)
        spf_domain = cstr(parts[3].p, parts[3].n);
    for (size_t k = 4; k < np && ndkim < 32; k++) {
        dkim[ndkim].result = parts[k].n > 0 ? (enum dmarc_auth)(parts[k].p[0] % 5)
                                            : DMARC_AUTH_NONE;
        dkim_domains[ndkim] = parts[k].n > 1 ? cstr(parts[k].p + 1, parts[k].n - 1) : NULL;
        dkim[ndkim].domain = dkim_domains[ndkim];
        ndkim++;
    }

    /* the organizational domain */
    check_org(from);
    if (spf_domain)
        check_org(spf_domain);
    for (size_t k = 0; k < ndkim; k++)
        if (dkim_domains[k])
            check_org(dkim_domains[k]);

    /* discovery, then evaluation */
    dns.answers = answers;
    discover(from, &dns, &d);
    struct dmarc_input in = {
        .spf = (enum dmarc_auth)((data[0] & 7) % 5),
        .spf_domain = spf_domain,
        .spf_identity = (enum dmarc_spf_identity)(((data[0] >> 3) & 3) % 3),
        .dkim = dkim,
        .ndkim = ndkim,
    };
    evaluate(&d, &in, data[1]);

    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < dns.ntxt[k]; i++)
            free(dns.txt[k][i]);
        free(dns.txt[k]);
    }
    for (size_t k = 0; k < ndkim; k++)
        free(dkim_domains[k]);
    free(spf_domain);
    free(from);
    return 0;
}
