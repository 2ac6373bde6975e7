/*
 * test_spf - unit tests for src/spf/: the whole openspf.org RFC 7208 test
 * suite, and our own cases for the restart protocol and for what the
 * suite does not cover.
 *
 * The suite comes as tests/unit/data/spf/rfc7208-tests.txt, made from
 * its YAML by tests/unit/spf-suite (which documents the format and the
 * suite driver's conventions it applies). Paths are relative to the repo
 * root, where `make unit` runs the tests. Each scenario's zone becomes a
 * fake answer provider; every test runs the way the server drives
 * spf_eval(): from an empty cache, answering what each call says it
 * needs, until it is done. That run must stay within SPF_QUERIES_MAX + 1
 * calls and agree (result, explanation, mechanism, counters) with a run
 * whose provider knows every answer from the start, and with a run that
 * answers only need[0] each time. The result must be one the test allows;
 * the explanation, where the test gives one, must be the expected one.
 *
 * Our own cases are written in the same line format. Mismatches are
 * reported as "got ..., want ..." and each test fails at its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spf/spf.h"
#include "util/xmalloc.h"

#include "check.h"

#define SUITE_7208  "tests/unit/data/spf/rfc7208-tests.txt"
#define RECEIVER    "mx.postino.test"
#define NOW         1234567890

/* ---- zones: the fake DNS ----------------------------------------------- */

/* The answer for one (name, type): status, and records when OK. */
struct rrset {
    char               *name;
    enum spf_rrtype     type;
    enum spf_dns_status status;
    size_t              n;
    char              **text;           /* TXT, MX, PTR */
    unsigned char      *addr;           /* A: 4 * n, AAAA: 16 * n */
};

struct zone {
    struct rrset *sets;
    size_t        nsets;
    char        **names;                /* the names that exist */
    size_t        nnames;
};

struct test {
    char           *id;
    char           *spec;
    char           *host, *helo, *mailfrom;
    enum spf_result results[8];         /* acceptable; the preferred first */
    size_t          nresults;
    char           *explanation;        /* NULL: not checked */
    bool            exp_nocase;
    int             line;
};

struct scenario {
    char        *desc;
    struct zone  zone;
    struct test *tests;
    size_t       ntests;
};

struct suite {
    struct scenario *v;
    size_t           n;
};

/* zone_set - the rrset of (name, type), made when missing */
static struct rrset *
zone_set(struct zone *z, const char *name, enum spf_rrtype type)
{
    for (size_t i = 0; i < z->nsets; i++)
        if (z->sets[i].type == type && strcmp(z->sets[i].name, name) == 0)
            return &z->sets[i];
    z->sets = xreallocarray(z->sets, z->nsets + 1, sizeof(*z->sets));
    z->sets[z->nsets] = (struct rrset){ .name = xstrdup(name), .type = type,
                                        .status = SPF_DNS_OK };
    return &z->sets[z->nsets++];
}

/* zone_exists - is name one of the zone's names? */
static bool
zone_exists(const struct zone *z, const char *name)
{
    for (size_t i = 0; i < z->nnames; i++)
        if (strcmp(z->names[i], name) == 0)
            return true;
    return false;
}

static void
zone_free(struct zone *z)
{
    for (size_t i = 0; i < z->nsets; i++) {
        for (size_t k = 0; k < z->sets[i].n && z->sets[i].text; k++)
            free(z->sets[i].text[k]);
        free(z->sets[i].text);
        free(z->sets[i].addr);
        free(z->sets[i].name);
    }
    for (size_t i = 0; i < z->nnames; i++)
        free(z->names[i]);
    free(z->sets);
    free(z->names);
    memset(z, 0, sizeof(*z));
}

/* ---- the line format (see tests/unit/spf-suite) ------------------------ */

struct token {
    char *s;            /* decoded, NUL-terminated; NULL: end of line */
    bool  quoted;
};

/*
 * next_token - the token at *p, decoded: a bare word, or a quoted string
 * with \\, \" and \xNN. A NUL octet in a record becomes 0x7f, as the
 * server's DNS layer (dns_rdata_txt) hands it over. *bad on a broken
 * quote or escape.
 */
static struct token
next_token(const char **p, bool *bad)
{
    const char *s = *p;
    struct token t = { NULL, false };
    size_t n = 0;
    char *o;

    while (*s == ' ' || *s == '\t')
        s++;
    if (*s == '\0') {
        *p = s;
        return t;
    }
    o = xmalloc(strlen(s) + 1);
    if (*s != '"') {
        while (*s != '\0' && *s != ' ' && *s != '\t')
            o[n++] = *s++;
    } else {
        t.quoted = true;
        for (s++; *s != '"'; s++) {
            if (*s == '\0') {
                *bad = true;
                break;
            }
            if (*s != '\\') {
                o[n++] = *s;
            } else if (s[1] == '\\' || s[1] == '"') {
                o[n++] = *++s;
            } else if (s[1] == 'x' && isxdigit((unsigned char)s[2]) &&
                       isxdigit((unsigned char)s[3])) {
                char hex[3] = { s[2], s[3], '\0' };
                char c = (char)strtoul(hex, NULL, 16);

                o[n++] = c == '\0' ? '\x7f' : c;
                s += 3;
            } else {
                *bad = true;
                break;
            }
        }
        if (*s == '"')
            s++;
    }
    o[n] = '\0';
    *p = s;
    t.s = o;
    return t;
}

static const char *const result_words[] = {
    [SPF_NONE] = "none", [SPF_NEUTRAL] = "neutral", [SPF_PASS] = "pass",
    [SPF_FAIL] = "fail", [SPF_SOFTFAIL] = "softfail", [SPF_TEMPERROR] = "temperror",
    [SPF_PERMERROR] = "permerror",
};

/* result_of - the result named w; false if none is */
static bool
result_of(const char *w, enum spf_result *r)
{
    for (size_t i = 0; i < NELEM(result_words); i++) {
        if (strcmp(w, result_words[i]) == 0) {
            *r = (enum spf_result)i;
            return true;
        }
    }
    return false;
}

/* rrtype_of - the record type named w (TXT, A, AAAA, MX, PTR) */
static bool
rrtype_of(const char *w, enum spf_rrtype *t)
{
    static const char *const names[] = {
        [SPF_RR_TXT] = "TXT", [SPF_RR_A] = "A", [SPF_RR_AAAA] = "AAAA",
        [SPF_RR_MX] = "MX", [SPF_RR_PTR] = "PTR",
    };

    for (size_t i = 0; i < NELEM(names); i++) {
        if (strcmp(w, names[i]) == 0) {
            *t = (enum spf_rrtype)i;
            return true;
        }
    }
    return false;
}

/* add_record - one answer line of the current zone name; false if bad */
static bool
add_record(struct zone *z, const char *name, enum spf_rrtype type, struct token *v, size_t nv)
{
    struct rrset *set = zone_set(z, name, type);
    const char *value = nv > 0 ? v[nv - 1].s : NULL;

    if (nv == 1 && !v[0].quoted && strcmp(v[0].s, "TIMEOUT") == 0) {
        set->status = SPF_DNS_TEMPFAIL;
        return true;
    }
    if (nv == 1 && !v[0].quoted && strcmp(v[0].s, "NXDOMAIN") == 0) {
        set->status = SPF_DNS_NXDOMAIN;
        return true;
    }
    if (nv != (type == SPF_RR_MX ? 2u : 1u))
        return false;
    if (type == SPF_RR_A || type == SPF_RR_AAAA) {
        size_t len = type == SPF_RR_A ? 4 : 16;

        set->addr = xrealloc(set->addr, (set->n + 1) * len);
        if (inet_pton(type == SPF_RR_A ? AF_INET : AF_INET6, value, set->addr + set->n * len) != 1)
            return false;
    } else {
        set->text = xreallocarray(set->text, set->n + 1, sizeof(*set->text));
        set->text[set->n] = xstrdup(value);
    }
    set->n++;
    return true;
}

/*
 * suite_parse - the line format in text into *s; false (with a reason in
 * err) on the first line it cannot read.
 */
static bool
suite_parse(const char *text, struct suite *s, char *err, size_t errlen)
{
    struct scenario *sc = NULL;
    struct test *t = NULL;
    char *zname = NULL;
    int line = 0;
    bool ok = true;

    memset(s, 0, sizeof(*s));
    while (ok && *text != '\0') {
        size_t len = strcspn(text, "\n");
        char *l = xstrndup(text, len);
        const char *p = l;
        struct token tok[8];
        size_t ntok = 0;
        bool bad = false;
        enum spf_rrtype type;

        text += len + (text[len] == '\n');
        line++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\0') {
            free(l);
            continue;
        }
        while (ntok < NELEM(tok) && (tok[ntok] = next_token(&p, &bad)).s != NULL)
            ntok++;
        if (bad || *p != '\0')
            ok = false;
        else if (strcmp(tok[0].s, "scenario") == 0 && ntok == 2) {
            s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
            sc = &s->v[s->n++];
            *sc = (struct scenario){ .desc = xstrdup(tok[1].s) };
            t = NULL;
            zname = NULL;
        } else if (sc == NULL) {
            ok = false;
        } else if (strcmp(tok[0].s, "zone") == 0 && ntok == 2) {
            struct zone *z = &sc->zone;

            z->names = xreallocarray(z->names, z->nnames + 1, sizeof(*z->names));
            zname = z->names[z->nnames++] = xstrdup(tok[1].s);
        } else if (rrtype_of(tok[0].s, &type)) {
            ok = zname != NULL && add_record(&sc->zone, zname, type, tok + 1, ntok - 1);
        } else if (strcmp(tok[0].s, "SPF") == 0 || strcmp(tok[0].s, "CNAME") == 0) {
            ok = zname != NULL;     /* for reading only: never asked */
        } else if (strcmp(tok[0].s, "test") == 0 && ntok == 3) {
            sc->tests = xreallocarray(sc->tests, sc->ntests + 1, sizeof(*sc->tests));
            t = &sc->tests[sc->ntests++];
            *t = (struct test){ .id = xstrdup(tok[1].s), .spec = xstrdup(tok[2].s), .line = line };
        } else if (t == NULL) {
            ok = false;
        } else if (strcmp(tok[0].s, "host") == 0 && ntok == 2) {
            t->host = xstrdup(tok[1].s);
        } else if (strcmp(tok[0].s, "helo") == 0 && ntok == 2) {
            t->helo = xstrdup(tok[1].s);
        } else if (strcmp(tok[0].s, "mailfrom") == 0 && ntok == 2) {
            t->mailfrom = xstrdup(tok[1].s);
        } else if (strcmp(tok[0].s, "result") == 0 && ntok >= 2) {
            for (size_t i = 1; ok && i < ntok; i++)
                ok = t->nresults < NELEM(t->results) &&
                     result_of(tok[i].s, &t->results[t->nresults++]);
        } else if ((strcmp(tok[0].s, "explanation") == 0 ||
                    strcmp(tok[0].s, "explanation-nocase") == 0) && ntok == 2) {
            t->explanation = xstrdup(tok[1].s);
            t->exp_nocase = strcmp(tok[0].s, "explanation-nocase") == 0;
        } else {
            ok = false;
        }
        if (!ok)
            snprintf(err, errlen, "line %d: cannot read \"%s\"", line, l);
        for (size_t i = 0; i < ntok; i++)
            free(tok[i].s);
        free(l);
    }
    for (size_t i = 0; ok && i < s->n; i++)
        for (size_t k = 0; ok && k < s->v[i].ntests; k++) {
            t = &s->v[i].tests[k];
            if (t->host == NULL || t->helo == NULL || t->mailfrom == NULL || t->nresults == 0) {
                snprintf(err, errlen, "line %d: test %s lacks a field", t->line, t->id);
                ok = false;
            }
        }
    return ok;
}

static void
suite_free(struct suite *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct scenario *sc = &s->v[i];

        zone_free(&sc->zone);
        for (size_t k = 0; k < sc->ntests; k++) {
            struct test *t = &sc->tests[k];

            free(t->id);
            free(t->spec);
            free(t->host);
            free(t->helo);
            free(t->mailfrom);
            free(t->explanation);
        }
        free(sc->tests);
        free(sc->desc);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* read_file - the whole file at path, NUL-terminated; NULL if unreadable */
static char *
read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0, got;

    if (f == NULL)
        return NULL;
    do {
        if (cap - n < 4096)
            buf = xrealloc(buf, cap = cap * 2 + 4096);
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* ---- the fake provider ---------------------------------------------------- */

/*
 * A provider over a zone. In restart mode it knows only the (type, name)
 * pairs in known[], which the driver adds from out->need as the server
 * would after its asynchronous lookups; otherwise it knows everything.
 * It also checks spf.h's promise about names (canonical, valid).
 */
struct fake {
    const struct zone *z;
    bool               restart;
    struct spf_need   *known;
    size_t             nknown;
    char               bad[SPF_NAME_MAX + 64];     /* the first broken name asked */
};

/* name_promised - is name as spf.h promises: lower case, no trailing dot, sizes? */
static bool
name_promised(const char *name)
{
    size_t n = strlen(name), label = 0;

    if (n == 0 || n > SPF_NAME_MAX || name[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (isupper((unsigned char)name[i]))
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

static bool
fake_known(const struct fake *f, enum spf_rrtype type, const char *name)
{
    for (size_t i = 0; i < f->nknown; i++)
        if (f->known[i].type == type && strcmp(f->known[i].name, name) == 0)
            return true;
    return false;
}

static void
fake_learn(struct fake *f, const struct spf_need *nd)
{
    f->known = xreallocarray(f->known, f->nknown + 1, sizeof(*f->known));
    f->known[f->nknown++] = *nd;
}

static bool
fake_lookup(void *arg, enum spf_rrtype type, const char *name, struct spf_answer *ans)
{
    struct fake *f = arg;
    const struct zone *z = f->z;

    if (!name_promised(name) && f->bad[0] == '\0')
        snprintf(f->bad, sizeof(f->bad), "%s %s", spf_rrtype_name(type), name);
    if (f->restart && !fake_known(f, type, name))
        return false;
    for (size_t i = 0; i < z->nsets; i++) {
        const struct rrset *s = &z->sets[i];

        if (s->type != type || strcmp(s->name, name) != 0)
            continue;
        ans->status = s->status;
        ans->n = s->status == SPF_DNS_OK ? s->n : 0;
        ans->text = (const char *const *)s->text;
        ans->addr = s->addr;
        return true;
    }
    if (zone_exists(z, name))
        ans->status = SPF_DNS_NODATA;
    else if (strncmp(name, "error.", 6) == 0)
        ans->status = SPF_DNS_TEMPFAIL;     /* the suite driver's rule */
    else
        ans->status = SPF_DNS_NXDOMAIN;
    return true;
}

/* ---- driving spf_eval() ----------------------------------------------------- */

enum drive {
    DRIVE_ALL_KNOWN,        /* every answer known at once: one call */
    DRIVE_ALL_NEEDS,        /* the server's way: answer every need, call again */
    DRIVE_FIRST_NEED,       /* answer need[0] only, call again */
};

struct run {
    struct spf_outcome out;
    unsigned           calls;       /* of spf_eval() */
    size_t             first_batch; /* nneed of the call with the most needs */
    struct spf_need    first_need;  /* need[0] of the first call, if any */
    char               problem[300];    /* a broken promise of the protocol, or "" */
};

/* drive - run req over zone z as mode says, into *r */
static void
drive(const struct zone *z, const struct spf_request *req, enum drive mode, struct run *r)
{
    struct fake f = { .z = z, .restart = mode != DRIVE_ALL_KNOWN };

    memset(r, 0, sizeof(*r));
    while (true) {
        bool done = spf_eval(req, fake_lookup, &f, &r->out);

        r->calls++;
        if (done)
            break;
        if (mode == DRIVE_ALL_KNOWN) {
            snprintf(r->problem, sizeof(r->problem), "needs answers from a provider that knows all");
            break;
        }
        if (r->out.nneed == 0 || r->out.nneed > SPF_NEED_MAX) {
            snprintf(r->problem, sizeof(r->problem), "not done, but %zu needs", r->out.nneed);
            break;
        }
        if (r->calls == 1)
            r->first_need = r->out.need[0];
        if (r->out.nneed > r->first_batch)
            r->first_batch = r->out.nneed;
        for (size_t i = 0; i < r->out.nneed; i++) {
            if (fake_known(&f, r->out.need[i].type, r->out.need[i].name)) {
                snprintf(r->problem, sizeof(r->problem), "needs %s %s, which it was given",
                         spf_rrtype_name(r->out.need[i].type), r->out.need[i].name);
                break;
            }
            if (i == 0 || mode == DRIVE_ALL_NEEDS)
                fake_learn(&f, &r->out.need[i]);
        }
        if (r->problem[0] != '\0')
            break;
        if (r->calls > SPF_QUERIES_MAX + 1) {
            snprintf(r->problem, sizeof(r->problem), "not done after %u calls", r->calls);
            break;
        }
    }
    if (r->problem[0] == '\0' && f.bad[0] != '\0')
        snprintf(r->problem, sizeof(r->problem), "asked a name spf.h does not promise: %.250s",
                 f.bad);
    free(f.known);
}

/* same_outcome - do two finished runs agree? "" if so, else what differs */
static const char *
same_outcome(const struct run *a, const struct run *b)
{
    if (a->out.result != b->out.result)
        return "result";
    if (strcmp(a->out.explanation, b->out.explanation) != 0)
        return "explanation";
    if (strcmp(a->out.mechanism, b->out.mechanism) != 0)
        return "mechanism";
    if (a->out.terms != b->out.terms || a->out.voids != b->out.voids)
        return "term or void counts";
    return "";
}

/*
 * drive_all - the three ways; check the protocol and that they agree.
 * Returns the server-way run in *r; false (reported) on a problem.
 */
static bool
drive_all(const char *what, const struct zone *z, const struct spf_request *req, struct run *r)
{
    struct run known, first;
    const char *diff;

    drive(z, req, DRIVE_ALL_NEEDS, r);
    drive(z, req, DRIVE_ALL_KNOWN, &known);
    drive(z, req, DRIVE_FIRST_NEED, &first);
    if (r->problem[0] || known.problem[0] || first.problem[0]) {
        report("%s: %s", what, r->problem[0] ? r->problem : known.problem[0] ? known.problem
                                                                              : first.problem);
        return false;
    }
    if (*(diff = same_outcome(r, &known)) || *(diff = same_outcome(r, &first))) {
        report("%s: the %s differs between ways of answering: %s/%s/%s, \"%s\"/\"%s\"/\"%s\"",
               what, diff, spf_result_name(r->out.result), spf_result_name(known.out.result),
               spf_result_name(first.out.result), r->out.mechanism, known.out.mechanism,
               first.out.mechanism);
        return false;
    }
    if (known.calls != 1) {
        report("%s: %u calls with every answer known", what, known.calls);
        return false;
    }
    return true;
}

/* ---- the suite ------------------------------------------------------------- */

/* run_suite_test - one test of the suite; counts into *passed, *warned */
static void
run_suite_test(const struct scenario *sc, const struct test *t, unsigned *passed,
               unsigned *warned, unsigned long *calls)
{
    char sender[600], what[300];
    const char *at = strrchr(t->mailfrom, '@');
    struct spf_request req = {
        .ip = t->host, .helo = t->helo, .receiver = NULL, .now = NOW, .default_exp = "DEFAULT",
    };
    struct run r;
    bool ok = false;

    snprintf(what, sizeof(what), "%s (%s, spec %s)", t->id, sc->desc, t->spec);
    if (t->mailfrom[0] == '\0') {
        /* the null sender: the HELO identity, as "postmaster@<helo>" (RFC 7208 2.4) */
        snprintf(sender, sizeof(sender), "postmaster@%s", t->helo);
        req.domain = t->helo;
    } else {
        snprintf(sender, sizeof(sender), "%s", t->mailfrom);
        req.domain = at ? at + 1 : t->mailfrom;
    }
    req.sender = sender;
    if (!drive_all(what, &sc->zone, &req, &r))
        return;
    *calls += r.calls;
    for (size_t i = 0; i < t->nresults; i++)
        ok = ok || r.out.result == t->results[i];
    if (!ok) {
        char want[100] = "";

        for (size_t i = 0; i < t->nresults; i++)
            snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? " or " : "",
                     spf_result_name(t->results[i]));
        report("%s: got %s (%s), want %s", what, spf_result_name(r.out.result),
               showz(r.out.mechanism), want);
        return;
    }
    if (t->explanation != NULL &&
        (t->exp_nocase ? strcasecmp(r.out.explanation, t->explanation)
                       : strcmp(r.out.explanation, t->explanation)) != 0) {
        report("%s: got explanation \"%s\", want \"%s\"%s", what, showz(r.out.explanation),
               showz(t->explanation), t->exp_nocase ? " (any case)" : "");
        return;
    }
    if (r.out.result != t->results[0]) {
        fprintf(stderr, "note: %s: %s, the suite prefers %s\n", what,
                spf_result_name(r.out.result), spf_result_name(t->results[0]));
        (*warned)++;
    }
    (*passed)++;
}

static void
test_rfc7208_suite(void **state)
{
    char err[300] = "";
    char *text = read_file(SUITE_7208);
    struct suite s;
    unsigned tests = 0, passed = 0, warned = 0;
    unsigned long calls = 0;

    (void)state;
    failures = 0;
    if (text == NULL)
        fail_msg("cannot read %s (run from the repository root)", SUITE_7208);
    if (!suite_parse(text, &s, err, sizeof(err)))
        fail_msg("%s: %s", SUITE_7208, err);
    for (size_t i = 0; i < s.n; i++)
        for (size_t k = 0; k < s.v[i].ntests; k++, tests++)
            run_suite_test(&s.v[i], &s.v[i].tests[k], &passed, &warned, &calls);
    printf("spf: %s: %zu scenarios, %u tests, %u passed (%u not the preferred result), "
           "%lu calls of spf_eval\n", SUITE_7208, s.n, tests, passed, warned, calls);
    if (tests != 203)
        report("%s: %u tests, want the suite's 203", SUITE_7208, tests);
    suite_free(&s);
    free(text);
    assert_int_equal(failures, 0);
}

/* ---- our own cases ----------------------------------------------------------- */

/*
 * One case: a zone in the suite's line format (zone and record lines), a
 * request and what must come out. calls: of spf_eval() when every need
 * is answered at once, the server's way (0: not checked); batch: the
 * most needs one call reported (0: not checked); first: need[0] of the
 * first call ("TYPE name"; NULL: not checked).
 */
struct own_case {
    const char     *what;
    const char     *zone;
    const char     *ip, *sender, *domain, *default_exp;
    enum spf_result want;
    const char     *mech;           /* NULL: not checked */
    const char     *exp;            /* NULL: not checked */
    unsigned        calls;
    size_t          batch;
    const char     *first;
};

#define IP4     "192.0.2.1"
#define OTHER   "198.51.100.1"

static const struct own_case own_cases[] = {
    /* the protocol: nothing is known at first; the domain's TXT comes first */
    { "-all, default explanation", "zone example.org\nTXT \"v=spf1 -all\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_FAIL, "-all",
      "example.org does not allow 192.0.2.1 to send its mail (SPF, RFC 7208)", 2, 1,
      "TXT example.org" },
    { "no record: none after one answer", "zone example.org\nTXT \"hello\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_NONE, "no SPF record", "", 2, 1, NULL },
    { "NXDOMAIN: none", "", IP4, "a@example.org", "example.org", NULL, SPF_NONE, NULL, "", 2,
      1, NULL },
    /* no lookup at all */
    { "not an address: none at once", "", "192.0.2", "a@example.org", "example.org", NULL,
      SPF_NONE, "not an IP address", "", 1, 0, NULL },
    { "not a domain: none at once", "", IP4, "a@localhost", "localhost", NULL, SPF_NONE,
      "not a domain name", "", 1, 0, NULL },
    /* an MX host "x.." is no name (fuzz_spf): never asked as "x." */
    { "mx: a host with an empty last label is skipped",
      "zone example.org\nTXT \"v=spf1 mx -all\"\nMX 10 x..\n",
      IP4, "a@example.org", "example.org", NULL, SPF_FAIL, "-all", NULL, 3, 1, NULL },
    /* mx: the MX names' address lookups come in one batch */
    { "mx: three hosts asked at once",
      "zone example.org\nTXT \"v=spf1 mx -all\"\nMX 10 a.example.org\nMX 20 B.example.org.\n"
      "MX 30 c.example.org\nzone a.example.org\nA " OTHER "\nzone b.example.org\n"
      "zone c.example.org\nA " IP4 "\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PASS, "mx", NULL, 4, 3, NULL },
    { "mx: 11 names is a permerror before any address lookup",
      "zone example.org\nTXT \"v=spf1 mx -all\"\nMX 1 h1.example.org\nMX 2 h2.example.org\n"
      "MX 3 h3.example.org\nMX 4 h4.example.org\nMX 5 h5.example.org\nMX 6 h6.example.org\n"
      "MX 7 h7.example.org\nMX 8 h8.example.org\nMX 9 h9.example.org\nMX 10 h10.example.org\n"
      "MX 11 h11.example.org\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PERMERROR,
      "more than 10 MX names at example.org", "", 3, 1, NULL },
    { "mx: a failing host after a matching one does not matter",
      "zone example.org\nTXT \"v=spf1 mx -all\"\nMX 10 a.example.org\nMX 20 b.example.org\n"
      "zone a.example.org\nA " IP4 "\nzone b.example.org\nA TIMEOUT\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PASS, "mx", NULL, 4, 2, NULL },
    { "mx: a failing host before the matching one is a temperror",
      "zone example.org\nTXT \"v=spf1 mx -all\"\nMX 10 a.example.org\nMX 20 b.example.org\n"
      "zone a.example.org\nA TIMEOUT\nzone b.example.org\nA " IP4 "\n",
      IP4, "a@example.org", "example.org", NULL, SPF_TEMPERROR, "DNS failure: A a.example.org",
      "", 4, 2, NULL },
    /* b's address is known from the first mx (no match at /32) when the
     * second mx needs a's: the match of b must wait for a, which fails */
    { "mx: a cached match waits for an earlier unknown host",
      "zone example.org\nTXT \"v=spf1 mx:m1.example.org mx:m2.example.org/24 -all\"\n"
      "zone m1.example.org\nMX 10 b.example.org\n"
      "zone m2.example.org\nMX 10 a.example.org\nMX 20 b.example.org\n"
      "zone a.example.org\nA TIMEOUT\nzone b.example.org\nA 192.0.2.200\n",
      IP4, "a@example.org", "example.org", NULL, SPF_TEMPERROR, "DNS failure: A a.example.org",
      "", 6, 1, NULL },
    /* ptr: only names under the target are validated, at once */
    { "ptr: validation lookups at once",
      "zone example.org\nTXT \"v=spf1 ptr -all\"\nzone 1.2.0.192.in-addr.arpa\n"
      "PTR other.example.net\nPTR a.example.org.\nPTR B.Example.Org\n"
      "zone a.example.org\nA " OTHER "\nzone b.example.org\nA " IP4 "\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PASS, "ptr", NULL, 4, 2, NULL },
    /* include and redirect: one level per call; the top's term is the mechanism */
    { "include chain",
      "zone example.org\nTXT \"v=spf1 include:a.example.org -all\"\n"
      "zone a.example.org\nTXT \"v=spf1 include:b.example.org ?all\"\n"
      "zone b.example.org\nTXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PASS, "include:a.example.org", "", 4, 1,
      NULL },
    { "redirect: the target's exp=, with c, r, t, d and i",
      "zone example.org\nTXT \"v=spf1 redirect=r.example.org exp=no.example.org\"\n"
      "zone r.example.org\nTXT \"v=spf1 -all exp=why.%{d}\"\n"
      "zone why.r.example.org\nTXT \"%{d} refuses %{c} (%{ir}) at %{t}, says %{r}\"\n"
      "zone no.example.org\nTXT \"not this one\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_FAIL, "-all",
      "r.example.org refuses 192.0.2.1 (1.2.0.192) at 1234567890, says " RECEIVER, 4, 1,
      NULL },
    { "include: none is a permerror",
      "zone example.org\nTXT \"v=spf1 include:nothing.example.org -all\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PERMERROR,
      "include:nothing.example.org: no SPF record there", "", 3, 1, NULL },
    { "include: a temperror is the top's",
      "zone example.org\nTXT \"v=spf1 include:slow.example.org -all\"\n"
      "zone slow.example.org\nTXT TIMEOUT\n",
      IP4, "a@example.org", "example.org", NULL, SPF_TEMPERROR,
      "DNS failure: TXT slow.example.org", "", 3, 1, NULL },
    /* limits, counted the same on every rerun */
    { "the 11th DNS term is a permerror, before it asks",
      "zone example.org\nTXT \"v=spf1 a:h1.example.org a:h2.example.org a:h3.example.org "
      "a:h4.example.org a:h5.example.org a:h6.example.org a:h7.example.org a:h8.example.org "
      "a:h9.example.org a:h10.example.org a:h11.example.org ip4:" IP4 "\"\n"
      "zone h1.example.org\nA " OTHER "\nzone h2.example.org\nA " OTHER "\n"
      "zone h3.example.org\nA " OTHER "\nzone h4.example.org\nA " OTHER "\n"
      "zone h5.example.org\nA " OTHER "\nzone h6.example.org\nA " OTHER "\n"
      "zone h7.example.org\nA " OTHER "\nzone h8.example.org\nA " OTHER "\n"
      "zone h9.example.org\nA " OTHER "\nzone h10.example.org\nA " OTHER "\n"
      "zone h11.example.org\nA " IP4 "\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PERMERROR, "more than 10 DNS lookups", "",
      12, 1, NULL },
    { "the third void lookup is a permerror",
      "zone example.org\nTXT \"v=spf1 a:n1.example.org mx:n2.example.org "
      "exists:n3.example.org ip4:" IP4 "\"\nzone n2.example.org\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PERMERROR, "more than 2 void lookups", "",
      5, 1, NULL },
    { "an exp= that does not exist is no void lookup",
      "zone example.org\nTXT \"v=spf1 a:n1.example.org a:n2.example.org -all "
      "exp=n3.example.org\"\n",
      IP4, "a@example.org", "example.org", "no: %{l}", SPF_FAIL, "-all", "no: a", 5, 1, NULL },
    { "redirect loop: 10 redirects, then a permerror",
      "zone example.org\nTXT \"v=spf1 redirect=example.org\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PERMERROR, "more than 10 DNS lookups", "",
      2, 1, NULL },
    /* macros */
    { "%{p}: the validated name, then an A lookup",
      "zone example.org\nTXT \"v=spf1 exists:%{p}.ok.example.org -all\"\n"
      "zone 1.2.0.192.in-addr.arpa\nPTR host.example.net\nPTR mail.example.org\n"
      "zone host.example.net\nA " IP4 "\nzone mail.example.org\nA " IP4 "\n"
      "zone mail.example.org.ok.example.org\nA 127.0.0.2\n",
      IP4, "a@example.org", "example.org", NULL, SPF_PASS, "exists:%{p}.ok.example.org", NULL,
      5, 2, NULL },
    { "%{i} and %{v} of IPv6 (RFC 7208 7.4's example)",
      "zone email.example.com\nTXT \"v=spf1 exists:%{ir}.%{v}._spf.%{d2} -all\"\n"
      "zone 1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com\n"
      "A 127.0.0.2\n",
      "2001:db8::cb01", "strong-bad@email.example.com", "email.example.com", NULL, SPF_PASS,
      NULL, NULL, 3, 1, NULL },
    { "%{l} with delimiters, reversed, and URL-escaped %{L}",
      "zone example.org\nTXT \"v=spf1 exists:%{l1r+=}.%{lr+}.x.example.org -all exp=e.example.org\"\n"
      "zone e.example.org\nTXT \"%{L} %{S} %{o2} %{l2r+=}\"\n",
      IP4, "a+b=c@example.org", "example.org", NULL, SPF_FAIL, "-all",
      "a%2Bb%3Dc a%2Bb%3Dc%40example.org example.org b.a", 4, 1, NULL },
    { "%{p} without PTR: \"unknown\"; %{h}, %{o} in the default",
      "zone example.org\nTXT \"v=spf1 -all\"\n",
      IP4, "a@example.org", "example.org", "%{p} %{h} %{o} %%%_%-", SPF_FAIL, "-all",
      "unknown helo.example.net example.org % %20", 3, 1, NULL },
    { "a broken default explanation: the built-in one",
      "zone example.org\nTXT \"v=spf1 -all\"\n",
      IP4, "a@example.org", "example.org", "bad %{x}", SPF_FAIL, "-all",
      "example.org does not allow 192.0.2.1 to send its mail (SPF, RFC 7208)", 2, 1, NULL },
    { "control octets of the sender are '?' in the explanation",
      "zone example.org\nTXT \"v=spf1 -all\"\n",
      IP4, "a\tb@example.org", "example.org", "no %{l}", SPF_FAIL, "-all", "no a?b", 2, 1,
      NULL },
    { "empty local part: postmaster (4.3)",
      "zone example.org\nTXT \"v=spf1 -all\"\n",
      IP4, "@example.org", "example.org", "%{l} %{s}", SPF_FAIL, "-all",
      "postmaster postmaster@example.org", 2, 1, NULL },
    { "IPv4-mapped client: ip4 matches, %{c} and %{v} are IPv4",
      "zone example.org\nTXT \"v=spf1 ip6:::ffff:192.0.2.1 ip4:" IP4 "/32 -all\"\n",
      "::ffff:192.0.2.1", "a@example.org", "example.org", NULL, SPF_PASS, "ip4:" IP4 "/32", "",
      2, 1, NULL },
    { "exp with two records: default",
      "zone example.org\nTXT \"v=spf1 -all exp=e.example.org\"\n"
      "zone e.example.org\nTXT \"one\"\nTXT \"two\"\n",
      IP4, "a@example.org", "example.org", "dflt", SPF_FAIL, "-all", "dflt", 3, 1, NULL },
    { "neutral by default, and ?all",
      "zone example.org\nTXT \"v=spf1 ip4:" OTHER " ?all\"\n",
      IP4, "a@example.org", "example.org", NULL, SPF_NEUTRAL, "?all", "", 2, 1, NULL },
};

/* zone_of - a zone from lines of the suite format */
static void
zone_of(const char *lines, struct zone *z)
{
    char *text = xasprintf("scenario own\n%s", lines), err[300] = "";
    struct suite s;

    if (!suite_parse(text, &s, err, sizeof(err)))
        fail_msg("own zone: %s", err);
    *z = s.v[0].zone;
    memset(&s.v[0].zone, 0, sizeof(s.v[0].zone));
    suite_free(&s);
    free(text);
}

static void
test_own_cases(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(own_cases); i++) {
        const struct own_case *c = &own_cases[i];
        struct spf_request req = {
            .ip = c->ip, .sender = c->sender, .domain = c->domain, .helo = "helo.example.net",
            .receiver = RECEIVER, .now = NOW, .default_exp = c->default_exp,
        };
        struct zone z;
        struct run r;
        char first[SPF_NAME_MAX + 8];

        zone_of(c->zone, &z);
        if (drive_all(c->what, &z, &req, &r)) {
            snprintf(first, sizeof(first), "%s %s", spf_rrtype_name(r.first_need.type),
                     r.first_need.name);
            if (r.out.result != c->want)
                report("%s: got %s (%s), want %s", c->what, spf_result_name(r.out.result),
                       r.out.mechanism, spf_result_name(c->want));
            if (c->mech && strcmp(r.out.mechanism, c->mech) != 0)
                report("%s: got mechanism \"%s\", want \"%s\"", c->what, r.out.mechanism, c->mech);
            if (c->exp && strcmp(r.out.explanation, c->exp) != 0)
                report("%s: got explanation \"%s\", want \"%s\"", c->what,
                       showz(r.out.explanation), c->exp);
            if (c->calls && r.calls != c->calls)
                report("%s: got %u calls, want %u", c->what, r.calls, c->calls);
            if (c->batch && r.first_batch != c->batch)
                report("%s: got at most %zu needs a call, want %zu", c->what, r.first_batch,
                       c->batch);
            if (c->first && strcmp(first, c->first) != 0)
                report("%s: got first need %s, want %s", c->what, first, c->first);
        }
        zone_free(&z);
    }
    assert_int_equal(failures, 0);
}

/*
 * test_rerun_same - the same answers give the same outcome: run every
 * own case twice from scratch, and once more over a provider that
 * already knows every answer the first run needed (a warm cache).
 */
static void
test_rerun_same(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(own_cases); i++) {
        const struct own_case *c = &own_cases[i];
        struct spf_request req = {
            .ip = c->ip, .sender = c->sender, .domain = c->domain, .helo = "helo.example.net",
            .receiver = RECEIVER, .now = NOW, .default_exp = c->default_exp,
        };
        struct zone z;
        struct run a, b;

        zone_of(c->zone, &z);
        drive(&z, &req, DRIVE_ALL_NEEDS, &a);
        drive(&z, &req, DRIVE_ALL_NEEDS, &b);
        if (*same_outcome(&a, &b) || a.calls != b.calls || a.out.queries != b.out.queries)
            report("%s: two runs differ (%u/%u calls, %u/%u queries)", c->what, a.calls,
                   b.calls, a.out.queries, b.out.queries);
        zone_free(&z);
    }
    assert_int_equal(failures, 0);
}

/*
 * test_truncation - an expansion far longer than a name (and than the
 * expansion window) loses labels on the left until it fits (RFC 7208
 * 7.3); the name asked is computed here independently.
 */
static void
test_truncation(void **state)
{
    static const char rep[] = "abcdefghij.example.org.";
    char full[4096] = "", want[SPF_NAME_MAX + 1], *p, zone[2048], rec[600];
    struct spf_request req = {
        .ip = IP4, .sender = "a@abcdefghij.example.org", .domain = "abcdefghij.example.org",
        .helo = "h.example.net", .now = NOW,
    };
    struct zone z;
    struct run r;

    (void)state;
    failures = 0;
    /* the record: exists: with %{o}. 60 times (1380 octets) then "end.example.org" */
    p = rec + snprintf(rec, sizeof(rec), "v=spf1 exists:");
    for (int i = 0; i < 60; i++) {
        p += snprintf(p, sizeof(rec) - (size_t)(p - rec), "%%{o}.");
        strcat(full, rep);
    }
    snprintf(p, sizeof(rec) - (size_t)(p - rec), "end.example.org -all");
    strcat(full, "end.example.org");
    for (p = full; strlen(p) > SPF_NAME_MAX; p = strchr(p, '.') + 1)
        ;
    snprintf(want, sizeof(want), "%.*s", SPF_NAME_MAX, p);
    snprintf(zone, sizeof(zone), "zone abcdefghij.example.org\nTXT \"%s\"\nzone %s\nA 127.0.0.2\n",
             rec, want);
    zone_of(zone, &z);
    if (drive_all("truncation", &z, &req, &r) && r.out.result != SPF_PASS)
        report("truncation: got %s (%s), want pass (asking %s)", spf_result_name(r.out.result),
               r.out.mechanism, want);
    zone_free(&z);
    assert_int_equal(failures, 0);
}

/* test_explanation_cut - a long exp text is cut at SPF_EXPLAIN_MAX */
static void
test_explanation_cut(void **state)
{
    char zone[2048], text[1100];
    struct spf_request req = {
        .ip = IP4, .sender = "a@example.org", .domain = "example.org", .helo = "h.example.net",
    };
    struct zone z;
    struct run r;

    (void)state;
    failures = 0;
    memset(text, 'x', 1000);
    text[1000] = '\0';
    snprintf(zone, sizeof(zone),
             "zone example.org\nTXT \"v=spf1 -all exp=e.example.org\"\nzone e.example.org\n"
             "TXT \"%s\"\n", text);
    zone_of(zone, &z);
    if (drive_all("long explanation", &z, &req, &r) &&
        (r.out.result != SPF_FAIL || strlen(r.out.explanation) != SPF_EXPLAIN_MAX ||
         strspn(r.out.explanation, "x") != SPF_EXPLAIN_MAX))
        report("long explanation: got %s, %zu octets, want fail, %d octets of x",
               spf_result_name(r.out.result), strlen(r.out.explanation), SPF_EXPLAIN_MAX);
    zone_free(&z);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7208_suite),
        cmocka_unit_test(test_own_cases),
        cmocka_unit_test(test_rerun_same),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_explanation_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
