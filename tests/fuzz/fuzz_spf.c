/*
 * fuzz_spf - spf_eval() (RFC 7208 check_host()) driven by the restart
 * protocol of spf.h, over DNS answers taken from the input.
 *
 * Input: a flags octet, then parts separated by 0x1e; a part's fields
 * are separated by 0x1f (so TAB, CR and LF can be in records).
 *   flags bits 0-1  the client: 192.0.2.1, 2001:db8::cb01,
 *                   ::ffff:192.0.2.1, or the request's ip field
 *         bit 2     the first run answers need[0] only (else every need)
 *         bit 3     the first part is the request: ip, sender, helo,
 *                   domain, receiver, default_exp (an empty field is NULL;
 *                   a missing one its default: user@example.com,
 *                   mail.example.com, the sender's domain, mx.postino.test,
 *                   NULL)
 *         bits 4-5  now: 1234567890, 0, INT64_MIN, INT64_MAX
 * Every other part is an answer: an optional first octet 0x01 NODATA,
 * 0x02 NXDOMAIN, 0x03 TEMPFAIL (else OK), or 0x05..0x08 the same four
 * (OK first) for a keyed answer, whose first field is "TYPE name" (TYPE
 * as spf_rrtype_name() writes it); then the records, one a field: text
 * for TXT, MX and PTR (NUL as 0x7f, as dns_rdata_txt does), addresses for
 * A and AAAA (text, else 4 or 16 raw octets; others are left out).
 * When spf_eval() needs (type, name), the first keyed answer for it is
 * used, else the next unkeyed one in input order (so the first unkeyed
 * part is the domain's SPF record), else NXDOMAIN; an answer once given
 * stays the answer for that (type, name).
 *
 * Checks, besides the sanitizers (each run is the three ways test_spf.c
 * drives it):
 *  - the first run (answers chosen as above, learnt as the flags say)
 *    ends within SPF_QUERIES_MAX + 1 calls; every call that is not done
 *    needs 1..SPF_NEED_MAX answers, none of them already given;
 *  - every name asked (and needed) is as spf.h promises: lower case, no
 *    trailing dot, 1..253 octets, labels of 1..63;
 *  - a second run over the same answers, learnt the other way (need[0]
 *    only, or every need), and a third with every answer known from the
 *    start (one call, at most SPF_QUERIES_MAX distinct questions) give
 *    the same result, mechanism, explanation and counters;
 *  - the result is a valid enum; mechanism and explanation are
 *    NUL-terminated within their arrays, printable ASCII, at most
 *    SPF_MECH_MAX / SPF_EXPLAIN_MAX octets, the explanation "" unless
 *    fail; more than 10 DNS terms or 2 void lookups only with permerror.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spf/spf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define PART_SEP    0x1e
#define FIELD_SEP   0x1f
#define RUNS_MAX    (SPF_QUERIES_MAX + 1)

/* One answer part of the input. */
struct part {
    bool                 keyed;
    enum spf_rrtype      ktype;
    char                *kname;
    enum spf_dns_status  status;
    char               **text;         /* the records, NUL-terminated */
    size_t              *len;          /* their lengths */
    const uint8_t      **raw;          /* where they are in the input */
    size_t               n;
    bool                 used;         /* an unkeyed part given out already */
};

/* One answer given: a (type, name) and what it is. */
struct known {
    enum spf_rrtype     type;
    char                name[SPF_NAME_MAX + 1];
    struct spf_answer   ans;
    unsigned char      *addr;           /* owned, for A and AAAA */
};

struct provider {
    struct known *k;
    size_t        nk, cap;
    /* the distinct questions of one spf_eval() call, for the last run */
    struct spf_need *asked;
    size_t        nasked, capasked;
};

/* dup_field - s[0..n) NUL-terminated, with NUL octets as 0x7f */
static char *
dup_field(const uint8_t *s, size_t n)
{
    char *p = malloc(n + 1);

    for (size_t i = 0; i < n; i++)
        p[i] = s[i] == 0 ? 0x7f : (char)s[i];
    p[n] = '\0';
    return p;
}

/* fields - split s[0..n) at FIELD_SEP into new strings; none for n == 0 */
static size_t
fields(const uint8_t *s, size_t n, char ***out, size_t **lens, const uint8_t ***raw)
{
    size_t count = 0, start = 0;

    *out = NULL;
    *lens = NULL;
    *raw = NULL;
    if (n == 0)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != FIELD_SEP)
            continue;
        *out = realloc(*out, (count + 1) * sizeof(**out));
        *lens = realloc(*lens, (count + 1) * sizeof(**lens));
        *raw = realloc(*raw, (count + 1) * sizeof(**raw));
        (*out)[count] = dup_field(s + start, i - start);
        (*lens)[count] = i - start;
        (*raw)[count] = s + start;
        count++;
        start = i + 1;
    }
    return count;
}

static bool
rrtype_of(const char *w, size_t n, enum spf_rrtype *t)
{
    for (int i = SPF_RR_TXT; i <= SPF_RR_PTR; i++) {
        const char *name = spf_rrtype_name((enum spf_rrtype)i);
        if (strlen(name) == n && memcmp(w, name, n) == 0) {
            *t = (enum spf_rrtype)i;
            return true;
        }
    }
    return false;
}

/* part_parse - one answer part s[0..n) into *p */
static void
part_parse(const uint8_t *s, size_t n, struct part *p)
{
    memset(p, 0, sizeof(*p));
    p->status = SPF_DNS_OK;
    if (n > 0 && s[0] >= 0x01 && s[0] <= 0x08 && s[0] != 0x04) {
        static const enum spf_dns_status st[] = {
            SPF_DNS_OK, SPF_DNS_NODATA, SPF_DNS_NXDOMAIN, SPF_DNS_TEMPFAIL,
        };
        p->keyed = s[0] >= 0x05;
        p->status = st[s[0] >= 0x05 ? s[0] - 0x05 : s[0]];
        s++;
        n--;
    }
    if (p->keyed) {
        const uint8_t *sep = memchr(s, FIELD_SEP, n);
        size_t klen = sep ? (size_t)(sep - s) : n;
        const uint8_t *sp = memchr(s, ' ', klen);

        if (sp == NULL || !rrtype_of((const char *)s, (size_t)(sp - s), &p->ktype)) {
            p->keyed = false;       /* a bad key: an answer that matches nothing */
            p->kname = NULL;
            p->n = 0;
            p->status = SPF_DNS_NXDOMAIN;
            p->used = true;
            return;
        }
        p->kname = dup_field(sp + 1, klen - (size_t)(sp + 1 - s));
        s += klen;
        n -= klen;
        if (n > 0) {        /* the separator */
            s++;
            n--;
        }
    }
    p->n = fields(s, n, &p->text, &p->len, &p->raw);
}

static void
part_free(struct part *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->text[i]);
    free(p->text);
    free(p->len);
    free(p->raw);
    free(p->kname);
}

/* name_promised - is name as spf.h promises: lower case, no trailing dot, sizes? */
static bool
name_promised(const char *name)
{
    size_t n = strnlen(name, SPF_NAME_MAX + 1), label = 0;

    if (n == 0 || n > SPF_NAME_MAX || name[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (name[i] >= 'A' && name[i] <= 'Z')
            return false;
        if (name[i] != '.')
            label++;
        else if (label == 0)
            return false;
        else
            label = 0;
        if (label > 63)
            return false;
    }
    return true;
}

static struct known *
known_find(struct provider *pv, enum spf_rrtype type, const char *name)
{
    for (size_t i = 0; i < pv->nk; i++)
        if (pv->k[i].type == type && strcmp(pv->k[i].name, name) == 0)
            return &pv->k[i];
    return NULL;
}

/* known_add - give the answer p (NULL: NXDOMAIN) for (type, name) */
static void
known_add(struct provider *pv, enum spf_rrtype type, const char *name, const struct part *p)
{
    struct known *k;

    if (pv->nk == pv->cap) {
        pv->cap = pv->cap ? 2 * pv->cap : 32;
        pv->k = realloc(pv->k, pv->cap * sizeof(*pv->k));
    }
    k = &pv->k[pv->nk++];
    memset(k, 0, sizeof(*k));
    k->type = type;
    memcpy(k->name, name, strlen(name) + 1);
    k->ans.status = p ? p->status : SPF_DNS_NXDOMAIN;
    if (p == NULL || p->status != SPF_DNS_OK)
        return;
    if (type == SPF_RR_A || type == SPF_RR_AAAA) {
        size_t alen = type == SPF_RR_A ? 4 : 16;

        k->addr = malloc(p->n * alen + 1);
        for (size_t i = 0; i < p->n; i++) {
            unsigned char *dst = k->addr + k->ans.n * alen;

            if (inet_pton(type == SPF_RR_A ? AF_INET : AF_INET6, p->text[i], dst) == 1) {
                k->ans.n++;
            } else if (p->len[i] == alen) {
                memcpy(dst, p->raw[i], alen);       /* raw octets */
                k->ans.n++;
            }
        }
        k->ans.addr = k->addr;
    } else {
        k->ans.n = p->n;
        k->ans.text = (const char *const *)p->text;
    }
}

/* choose - the part that answers (type, name): keyed, else the next unkeyed */
static const struct part *
choose(struct part *parts, size_t nparts, enum spf_rrtype type, const char *name)
{
    for (size_t i = 0; i < nparts; i++)
        if (parts[i].keyed && parts[i].ktype == type && strcmp(parts[i].kname, name) == 0)
            return &parts[i];
    for (size_t i = 0; i < nparts; i++) {
        if (!parts[i].keyed && !parts[i].used) {
            parts[i].used = true;
            return &parts[i];
        }
    }
    return NULL;
}

static bool
lookup(void *arg, enum spf_rrtype type, const char *name, struct spf_answer *ans)
{
    struct provider *pv = arg;
    struct known *k;

    CHECK((unsigned)type <= SPF_RR_PTR);
    CHECK(name_promised(name));
    for (size_t i = 0; i < pv->nasked; i++)
        if (pv->asked[i].type == type && strcmp(pv->asked[i].name, name) == 0)
            goto asked;
    if (pv->nasked == pv->capasked) {
        pv->capasked = pv->capasked ? 2 * pv->capasked : 32;
        pv->asked = realloc(pv->asked, pv->capasked * sizeof(*pv->asked));
    }
    pv->asked[pv->nasked].type = type;
    memcpy(pv->asked[pv->nasked].name, name, strlen(name) + 1);
    pv->nasked++;
asked:
    if ((k = known_find(pv, type, name)) == NULL)
        return false;
    *ans = k->ans;
    return true;
}

static void
provider_free(struct provider *pv)
{
    for (size_t i = 0; i < pv->nk; i++)
        free(pv->k[i].addr);
    free(pv->k);
    free(pv->asked);
}

/* check_text - s is NUL-terminated within size octets, at most max, printable ASCII */
static void
check_text(const char *s, size_t size, size_t max)
{
    size_t n = strnlen(s, size);

    CHECK(n < size && n <= max);
    for (size_t i = 0; i < n; i++)
        CHECK(s[i] >= 0x20 && s[i] <= 0x7e);
}

static void
check_outcome(const struct spf_outcome *o)
{
    CHECK((unsigned)o->result <= SPF_PERMERROR);
    CHECK(strcmp(spf_result_name(o->result), "?") != 0);
    check_text(o->mechanism, sizeof(o->mechanism), SPF_MECH_MAX);
    check_text(o->explanation, sizeof(o->explanation), SPF_EXPLAIN_MAX);
    if (o->result != SPF_FAIL)
        CHECK(o->explanation[0] == '\0');
    CHECK(o->terms <= SPF_MAX_TERMS + 1 && o->voids <= SPF_MAX_VOID + 1);
    if (o->terms > SPF_MAX_TERMS || o->voids > SPF_MAX_VOID)
        CHECK(o->result == SPF_PERMERROR);
}

static void
same_outcome(const struct spf_outcome *a, const struct spf_outcome *b)
{
    CHECK(a->result == b->result);
    CHECK(strcmp(a->mechanism, b->mechanism) == 0);
    CHECK(strcmp(a->explanation, b->explanation) == 0);
    CHECK(a->terms == b->terms && a->voids == b->voids);
}

/*
 * drive - calls of spf_eval() until done, learning need[0] only or every
 * need, each from parts (zone NULL) or from the answers of zone (the
 * first run's; NXDOMAIN where it has none). Returns the calls made.
 */
static unsigned
drive(const struct spf_request *req, bool first_only, struct part *parts, size_t nparts,
      struct provider *zone, struct provider *pv, struct spf_outcome *out)
{
    unsigned calls = 0;

    for (;;) {
        pv->nasked = 0;
        calls++;
        if (spf_eval(req, lookup, pv, out))
            return calls;
        CHECK(calls < RUNS_MAX);        /* done within SPF_QUERIES_MAX + 1 calls */
        CHECK(out->nneed >= 1 && out->nneed <= SPF_NEED_MAX);
        for (size_t i = 0; i < out->nneed; i++) {
            const struct spf_need *nd = &out->need[i];

            CHECK((unsigned)nd->type <= SPF_RR_PTR);
            CHECK(name_promised(nd->name));
            CHECK(known_find(pv, nd->type, nd->name) == NULL);
        }
        for (size_t i = 0; i < (first_only ? 1 : out->nneed); i++) {
            const struct spf_need *nd = &out->need[i];

            if (zone == NULL) {
                known_add(pv, nd->type, nd->name, choose(parts, nparts, nd->type, nd->name));
            } else {
                struct known *z = known_find(zone, nd->type, nd->name);
                struct known *k;

                known_add(pv, nd->type, nd->name, NULL);
                k = &pv->k[pv->nk - 1];
                if (z != NULL)
                    k->ans = z->ans;    /* shares zone's data, which outlives pv */
            }
        }
    }
}

/* field_or - field i of the request, or dflt when missing; "" fields are NULL */
static const char *
field_or(char **f, size_t nf, size_t i, const char *dflt)
{
    if (i >= nf)
        return dflt;
    return f[i][0] != '\0' ? f[i] : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ips[] = { "192.0.2.1", "2001:db8::cb01", "::ffff:192.0.2.1" };
    static const int64_t nows[] = { 1234567890, 0, INT64_MIN, INT64_MAX };
    struct spf_request req = { 0 };
    struct part *parts = NULL;
    size_t nparts = 0, nreq = 0, *reqlen = NULL;
    const uint8_t **reqraw = NULL;
    char **reqf = NULL, sender_dom[SPF_NAME_MAX * 4];
    struct provider first = { 0 }, second = { 0 }, third = { 0 };
    struct spf_outcome o1, o2, o3;
    uint8_t flags;
    bool request_line, first_only;

    if (size == 0)
        return 0;
    flags = data[0];
    request_line = flags & 0x08;
    first_only = flags & 0x04;

    /* the parts */
    for (size_t i = 1, start = 1; i <= size; i++) {
        if (i < size && data[i] != PART_SEP)
            continue;
        if (request_line && reqf == NULL && nreq == 0 && start == 1) {
            nreq = fields(data + start, i - start, &reqf, &reqlen, &reqraw);
            if (nreq == 0)
                reqf = malloc(1);       /* an empty request line: all defaults */
        } else {
            parts = realloc(parts, (nparts + 1) * sizeof(*parts));
            part_parse(data + start, i - start, &parts[nparts++]);
        }
        start = i + 1;
    }

    /* the request */
    req.ip = (flags & 3) < 3 ? ips[flags & 3] : field_or(reqf, nreq, 0, ips[0]);
    req.sender = field_or(reqf, nreq, 1, "user@example.com");
    req.helo = field_or(reqf, nreq, 2, "mail.example.com");
    if (nreq > 3) {
        req.domain = field_or(reqf, nreq, 3, NULL);
    } else {
        const char *at = req.sender ? strrchr(req.sender, '@') : NULL;
        snprintf(sender_dom, sizeof(sender_dom), "%s",
                 at ? at + 1 : req.helo ? req.helo : "");
        req.domain = sender_dom;
    }
    req.receiver = field_or(reqf, nreq, 4, "mx.postino.test");
    req.default_exp = field_or(reqf, nreq, 5, NULL);
    req.now = nows[(flags >> 4) & 3];

    /* 1: answers chosen from the input as they are needed */
    unsigned c1 = drive(&req, first_only, parts, nparts, NULL, &first, &o1);
    check_outcome(&o1);
    /* 2: the same answers, learnt the other way */
    unsigned c2 = drive(&req, !first_only, NULL, 0, &first, &second, &o2);
    check_outcome(&o2);
    same_outcome(&o1, &o2);
    CHECK(c2 <= RUNS_MAX && o2.queries == o1.queries);
    (void)c1;
    /* 3: every answer of the first run known at once: done in one call */
    for (size_t i = 0; i < first.nk; i++) {
        known_add(&third, first.k[i].type, first.k[i].name, NULL);
        third.k[third.nk - 1].ans = first.k[i].ans;
    }
    CHECK(drive(&req, false, NULL, 0, &first, &third, &o3) == 1);
    check_outcome(&o3);
    same_outcome(&o1, &o3);
    CHECK(o3.queries == o1.queries);
    CHECK(third.nasked <= SPF_QUERIES_MAX);

    provider_free(&first);
    provider_free(&second);
    provider_free(&third);
    for (size_t i = 0; i < nparts; i++)
        part_free(&parts[i]);
    free(parts);
    for (size_t i = 0; i < nreq; i++)
        free(reqf[i]);
    free(reqf);
    free(reqlen);
    free(reqraw);
    return 0;
}
