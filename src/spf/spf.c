/*
 * spf - check_host() of RFC 7208, restartable over known DNS answers;
 * see spf.h for the design.
 *
 * One run walks the record of the domain, and recursively those of
 * include: and redirect= targets, asking the provider for every answer.
 * An unknown answer, a temperror and a permerror all end the whole run
 * (an include's temperror or permerror is the top's, 5.2), so they are
 * not results passed up the recursion but a "stop" recorded in the run's
 * context: every step returns GO or STOP, and on STOP its callers return
 * STOP at once. Only none, neutral, pass, fail and softfail travel as
 * results.
 *
 * A record is read twice, in place: first every term is parsed, so that
 * a syntax error anywhere is a permerror before anything is evaluated
 * (4.6), then the directives are evaluated in order (4.6.2).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "spf/spf.h"
#include "spf/spf_priv.h"

#define EXPAND_MAX      (SPF_NAME_MAX + 1)  /* an expanded domain-spec (7.3 truncates) */
#define REVERSE_MAX     73                  /* 32 nibbles and dots, "ip6.arpa" */
#define IP_DOTS_MAX     64                  /* %{i} of IPv6: 32 nibbles and dots */

enum flow {
    GO,         /* carry on */
    STOP,       /* the run ends: see ctx.need / ctx.error */
};

/* One run of spf_eval(). */
struct ctx {
    const struct spf_request *rq;
    spf_lookup_fn          lookup;
    void                  *arg;
    struct spf_outcome    *out;

    int                    family;          /* AF_INET (also for mapped IPv6) or AF_INET6 */
    unsigned char          ip[16];          /* 4 octets for AF_INET */
    char                   reverse[REVERSE_MAX + 1];    /* the PTR name of ip */
    char                   ip_dots[IP_DOTS_MAX + 1];    /* %{i} */
    char                   ip_text[INET6_ADDRSTRLEN];   /* %{c} */
    char                   now[24];                     /* %{t} */
    char                   sender[11 + 2 * SPF_NAME_MAX + 1];   /* %{s} when rewritten */
    struct spf_macro_vars  vars;            /* all letters but d and p */

    unsigned               depth;           /* check_host() calls open */
    bool                   need;            /* STOP: answers missing (out->need) */
    bool                   error;           /* STOP: error_result */
    enum spf_result        error_result;

    /* the exp= of the record that decided at the top (6.2); NULL: none */
    const char            *exp_spec;
    size_t                 exp_len;
    char                   exp_domain[SPF_NAME_MAX + 1];
};

static const char *const result_names[] = {
    [SPF_NONE] = "none", [SPF_NEUTRAL] = "neutral", [SPF_PASS] = "pass", [SPF_FAIL] = "fail",
    [SPF_SOFTFAIL] = "softfail", [SPF_TEMPERROR] = "temperror", [SPF_PERMERROR] = "permerror",
};

static const char *const rrtype_names[] = {
    [SPF_RR_TXT] = "TXT", [SPF_RR_A] = "A", [SPF_RR_AAAA] = "AAAA", [SPF_RR_MX] = "MX",
    [SPF_RR_PTR] = "PTR",
};

const char *
spf_result_name(enum spf_result r)
{
    return (unsigned)r < sizeof(result_names) / sizeof(result_names[0]) ? result_names[r] : "?";
}

const char *
spf_rrtype_name(enum spf_rrtype t)
{
    return (unsigned)t < sizeof(rrtype_names) / sizeof(rrtype_names[0]) ? rrtype_names[t] : "?";
}

/* ---- small helpers ---------------------------------------------------- */

/* printable - make s[0..) printable ASCII in place (others as '?') */
static void
printable(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            *s = '?';
}

/* set_mech - out->mechanism = t[0..n), printable, cut */
static void
set_mech(struct ctx *c, const char *t, size_t n)
{
    if (n > SPF_MECH_MAX)
        n = SPF_MECH_MAX;
    memcpy(c->out->mechanism, t, n);
    c->out->mechanism[n] = '\0';
    printable(c->out->mechanism);
}

/* stop_error - end the run with r (temperror or permerror); why for logs */
static enum flow stop_error(struct ctx *c, enum spf_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum flow
stop_error(struct ctx *c, enum spf_result r, const char *fmt, ...)
{
    va_list ap;

    if (!c->error && !c->need) {
        c->error = true;
        c->error_result = r;
        va_start(ap, fmt);
        vsnprintf(c->out->mechanism, sizeof(c->out->mechanism), fmt, ap);
        va_end(ap);
        printable(c->out->mechanism);
    }
    return STOP;
}

/*
 * name_canon - in as a name to ask: without its trailing dot, ASCII
 * letters in lower case, into out. false when it is not a usable name:
 * empty, over SPF_NAME_MAX octets, an empty label or one over 63 octets,
 * control octets. RFC 7208 leaves open what such a target is (4.8, the
 * suite's invalid-domain-*); here it does not exist, as 4.3 has it for
 * the domain itself, and is never asked.
 */
static bool
name_canon(const char *in, char out[SPF_NAME_MAX + 1])
{
    size_t n = strlen(in), label = 0;

    if (n > 0 && in[n - 1] == '.')
        n--;
    if (n == 0 || n > SPF_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];

        if (ch == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (ch < 0x20 || ch == 0x7f || ++label > 63) {
            return false;
        }
        out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + ('a' - 'A') : ch);
    }
    if (label == 0)
        return false;               /* "x.." : a last label that is empty */
    out[n] = '\0';
    return true;
}

/*
 * domain_ok - may check_host() look name up (4.3)? A usable name of at
 * least two labels whose last is a toplabel (7.1): "A2345678",
 * "[192.0.2.1]" and "192.0.2.1" are not domains (result none).
 */
static bool
domain_ok(const char *in, char out[SPF_NAME_MAX + 1])
{
    const char *dot;

    if (!name_canon(in, out) || (dot = strrchr(out, '.')) == NULL)
        return false;
    return spf_toplabel_ok(dot + 1, strlen(dot + 1));
}

/* name_under - is name target or a name under it? (5.5; both canonical) */
static bool
name_under(const char *name, const char *target)
{
    size_t n = strlen(name), t = strlen(target);

    if (n == t)
        return strcmp(name, target) == 0;
    return n > t && name[n - t - 1] == '.' && strcmp(name + n - t, target) == 0;
}

/* ---- answers ---------------------------------------------------------- */

enum got {
    GOT_RECORDS,    /* a.n >= 1 */
    GOT_VOID,       /* NXDOMAIN or NODATA: a "void lookup" when a term asked (4.6.4) */
    GOT_FAIL,       /* SERVFAIL, timeout */
    GOT_UNKNOWN,    /* not known yet: recorded in out->need */
};

/* add_need - note (type, name) as to be asked, once */
static void
add_need(struct ctx *c, enum spf_rrtype type, const char *name)
{
    struct spf_outcome *o = c->out;

    c->need = true;
    for (size_t i = 0; i < o->nneed; i++)
        if (o->need[i].type == type && strcmp(o->need[i].name, name) == 0)
            return;
    if (o->nneed == SPF_NEED_MAX)
        return;
    o->need[o->nneed].type = type;
    snprintf(o->need[o->nneed].name, sizeof(o->need[0].name), "%s", name);
    o->nneed++;
}

/* ask - the provider's answer for (type, name); name is canonical */
static enum got
ask(struct ctx *c, enum spf_rrtype type, const char *name, struct spf_answer *a)
{
    memset(a, 0, sizeof(*a));
    c->out->queries++;
    if (!c->lookup(c->arg, type, name, a)) {
        add_need(c, type, name);
        return GOT_UNKNOWN;
    }
    switch (a->status) {
    case SPF_DNS_OK:
        if (a->n == 0)
            return GOT_VOID;
        /* an answer without its data is a broken resolver: a failure */
        if ((type == SPF_RR_A || type == SPF_RR_AAAA) ? a->addr == NULL : a->text == NULL)
            return GOT_FAIL;
        return GOT_RECORDS;
    case SPF_DNS_NODATA:
    case SPF_DNS_NXDOMAIN:
        return GOT_VOID;
    case SPF_DNS_TEMPFAIL:
    default:
        return GOT_FAIL;
    }
}

/* addr_type - A for an IPv4 client, AAAA for IPv6 (5.3, 5.4) */
static enum spf_rrtype
addr_type(const struct ctx *c)
{
    return c->family == AF_INET ? SPF_RR_A : SPF_RR_AAAA;
}

/* prefix_match - do a and b agree on their first bits bits? */
static bool
prefix_match(const unsigned char *a, const unsigned char *b, unsigned bits)
{
    unsigned whole = bits / 8, rest = bits % 8;

    if (memcmp(a, b, whole) != 0)
        return false;
    return rest == 0 || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* addr_match - is the client in one of the addresses of a (of addr_type) / bits? */
static bool
addr_match(const struct ctx *c, const struct spf_answer *a, unsigned bits)
{
    size_t len = c->family == AF_INET ? 4 : 16;

    for (size_t i = 0; i < a->n; i++)
        if (prefix_match(a->addr + i * len, c->ip, bits))
            return true;
    return false;
}

/* count_term - one more term that causes DNS lookups (4.6.4: at most 10) */
static enum flow
count_term(struct ctx *c)
{
    if (++c->out->terms > SPF_MAX_TERMS)
        return stop_error(c, SPF_PERMERROR, "more than %d DNS lookups", SPF_MAX_TERMS);
    return GO;
}

/*
 * void_lookup - a term's lookup found nothing (NXDOMAIN or no records):
 * 4.6.4 "SHOULD limit void lookups to two". Counted for the lookup a, mx,
 * ptr and exists make for their target, never for exp= (the suite's
 * exp-void) nor for the address lookups of MX and PTR names.
 */
static enum flow
void_lookup(struct ctx *c)
{
    if (++c->out->voids > SPF_MAX_VOID)
        return stop_error(c, SPF_PERMERROR, "more than %d void lookups", SPF_MAX_VOID);
    return GO;
}

/* ---- %{p} and targets ------------------------------------------------- */

/* validates - does name (canonical) have the client's address? GOT_* */
static enum got
validates(struct ctx *c, const char *name, bool *yes)
{
    struct spf_answer a;
    enum got g = ask(c, addr_type(c), name, &a);

    *yes = g == GOT_RECORDS && addr_match(c, &a, c->family == AF_INET ? 32 : 128);
    return g;
}

/*
 * p_value - %{p}, the validated name of the client, for the record of
 * domain (7.3): the PTR names (the first 10, 4.6.4) whose addresses
 * include the client's; domain itself if it is one of them, else a name
 * under domain, else any. "unknown" when none validates or the PTR lookup
 * fails. Names are tried in that order of preference, each tier in the
 * PTR order, and the first validated one is taken; an address lookup
 * that fails skips the name, as in 5.5.
 */
static enum flow
p_value(struct ctx *c, const char *domain, char out[SPF_NAME_MAX + 1])
{
    struct spf_answer ptr;
    char names[SPF_MAX_NAMES][SPF_NAME_MAX + 1];
    size_t n = 0;
    bool pending = false, yes = false;

    snprintf(out, SPF_NAME_MAX + 1, "unknown");
    switch (ask(c, SPF_RR_PTR, c->reverse, &ptr)) {
    case GOT_UNKNOWN:
        return STOP;
    case GOT_RECORDS:
        break;
    default:
        return GO;
    }
    for (size_t i = 0; i < ptr.n && n < SPF_MAX_NAMES; i++)
        if (ptr.text[i] != NULL && name_canon(ptr.text[i], names[n]))
            n++;
    for (int tier = 0; tier < 3; tier++) {
        for (size_t i = 0; i < n; i++) {
            bool same = strcmp(names[i], domain) == 0;
            bool under = !same && name_under(names[i], domain);

            if ((tier == 0 && !same) || (tier == 1 && !under) || (tier == 2 && (same || under)))
                continue;
            if (validates(c, names[i], &yes) == GOT_UNKNOWN)
                pending = true;
            else if (yes && !pending) {
                snprintf(out, SPF_NAME_MAX + 1, "%.*s", SPF_NAME_MAX, names[i]);
                return GO;
            }
        }
    }
    return pending ? STOP : GO;
}

/*
 * expand - the macro-string spec[0..len) expanded for the record of
 * domain into out: as a domain (7.3 trailing dot, truncation) or as
 * explain text of outsize octets. %{p} is computed only when spec uses it.
 * *ok false when the text cannot be expanded (a letter without a value:
 * never for a record that parsed).
 */
static enum flow
expand(struct ctx *c, const char *spec, size_t len, const char *domain, bool as_domain,
       char *out, size_t outsize, bool *ok)
{
    struct spf_macro_vars vars = c->vars;
    char p[SPF_NAME_MAX + 1];

    vars.v['d' - 'a'] = (struct spf_macro_value){ domain, strlen(domain) };
    if (spf_macro_uses_p(spec, len)) {
        if (p_value(c, domain, p) == STOP)
            return STOP;
        vars.v['p' - 'a'] = (struct spf_macro_value){ p, strlen(p) };
    }
    *ok = spf_macro_expand(spec, len, &vars, as_domain, out, outsize);
    return GO;
}

/*
 * target - the name a term asks about: its domain-spec expanded, or the
 * current domain when it has none. *valid false when the expansion is not
 * a usable name (see name_canon).
 */
static enum flow
target(struct ctx *c, const struct spf_term *t, const char *domain,
       char name[SPF_NAME_MAX + 1], bool *valid)
{
    char raw[EXPAND_MAX];
    bool ok = false;

    if (t->spec == NULL) {
        snprintf(name, SPF_NAME_MAX + 1, "%s", domain);
        *valid = true;
        return GO;
    }
    if (expand(c, t->spec, t->speclen, domain, true, raw, sizeof(raw), &ok) == STOP)
        return STOP;
    if (!ok)
        return stop_error(c, SPF_PERMERROR, "cannot expand \"%.*s\"", (int)t->len, t->text);
    *valid = name_canon(raw, name);
    return GO;
}

/* ---- mechanisms (5) ---------------------------------------------------- */

static enum flow check_host(struct ctx *c, const char *name, bool top, enum spf_result *res);

/* mech_a - a[:domain][/cidr4][//cidr6] (5.3) */
static enum flow
mech_a(struct ctx *c, const struct spf_term *t, const char *domain, bool *match)
{
    char name[SPF_NAME_MAX + 1];
    struct spf_answer a;
    bool valid = false;

    if (count_term(c) == STOP || target(c, t, domain, name, &valid) == STOP)
        return STOP;
    if (!valid)
        return void_lookup(c);
    switch (ask(c, addr_type(c), name, &a)) {
    case GOT_UNKNOWN:
        return STOP;
    case GOT_FAIL:
        return stop_error(c, SPF_TEMPERROR, "DNS failure: %s %s", spf_rrtype_name(addr_type(c)),
                          name);
    case GOT_VOID:
        return void_lookup(c);
    case GOT_RECORDS:
        break;
    }
    *match = addr_match(c, &a, c->family == AF_INET ? t->cidr4 : t->cidr6);
    return GO;
}

/*
 * mech_mx - mx[:domain][/cidr4][//cidr6] (5.4). More than 10 MX names is
 * a permerror (4.6.4: "the evaluation of each MX record MUST NOT result
 * in querying more than 10 address records ... If this limit is
 * exceeded, the mx mechanism MUST produce a permerror"); checking the
 * count before any address lookup also makes the result independent of
 * the order the resolver gives. A failed address lookup is a temperror
 * (5, "except where noted"); the null MX (RFC 7505) has no addresses.
 * The address lookups of all names are reported at once when unknown.
 */
static enum flow
mech_mx(struct ctx *c, const struct spf_term *t, const char *domain, bool *match)
{
    char name[SPF_NAME_MAX + 1], host[SPF_NAME_MAX + 1];
    struct spf_answer mx, a;
    unsigned bits = c->family == AF_INET ? t->cidr4 : t->cidr6;
    bool valid = false, pending = false;

    if (count_term(c) == STOP || target(c, t, domain, name, &valid) == STOP)
        return STOP;
    if (!valid)
        return void_lookup(c);
    switch (ask(c, SPF_RR_MX, name, &mx)) {
    case GOT_UNKNOWN:
        return STOP;
    case GOT_FAIL:
        return stop_error(c, SPF_TEMPERROR, "DNS failure: MX %s", name);
    case GOT_VOID:
        return void_lookup(c);
    case GOT_RECORDS:
        break;
    }
    if (mx.n > SPF_MAX_NAMES)
        return stop_error(c, SPF_PERMERROR, "more than %d MX names at %s", SPF_MAX_NAMES, name);
    for (size_t i = 0; i < mx.n; i++) {
        if (mx.text[i] == NULL || !name_canon(mx.text[i], host))
            continue;   /* the null MX "." or "", or no usable name */
        switch (ask(c, addr_type(c), host, &a)) {
        case GOT_UNKNOWN:
            pending = true;
            break;
        case GOT_FAIL:
            if (!pending)
                return stop_error(c, SPF_TEMPERROR, "DNS failure: %s %s",
                                  spf_rrtype_name(addr_type(c)), host);
            break;
        case GOT_VOID:
            break;
        case GOT_RECORDS:
            if (!pending && addr_match(c, &a, bits)) {
                *match = true;
                return GO;
            }
            break;
        }
    }
    return pending ? STOP : GO;
}

/*
 * mech_ptr - ptr[:domain] (5.5): the client's PTR names (the first 10,
 * 4.6.4) that are the target or under it, and whose addresses include
 * the client's. A failed PTR lookup is no match; a failed address lookup
 * skips that name (5.5). Only names that could match are validated.
 */
static enum flow
mech_ptr(struct ctx *c, const struct spf_term *t, const char *domain, bool *match)
{
    char want[SPF_NAME_MAX + 1], name[SPF_NAME_MAX + 1];
    struct spf_answer ptr;
    bool valid = false, pending = false, yes = false;

    if (count_term(c) == STOP || target(c, t, domain, want, &valid) == STOP)
        return STOP;
    if (!valid)
        return GO;
    switch (ask(c, SPF_RR_PTR, c->reverse, &ptr)) {
    case GOT_UNKNOWN:
        return STOP;
    case GOT_FAIL:
        return GO;
    case GOT_VOID:
        return void_lookup(c);
    case GOT_RECORDS:
        break;
    }
    for (size_t i = 0; i < ptr.n && i < SPF_MAX_NAMES; i++) {
        if (ptr.text[i] == NULL || !name_canon(ptr.text[i], name) || !name_under(name, want))
            continue;
        if (validates(c, name, &yes) == GOT_UNKNOWN)
            pending = true;
        else if (yes && !pending) {
            *match = true;
            return GO;
        }
    }
    return pending ? STOP : GO;
}

/* mech_exists - exists:domain (5.7): any A record, whatever the client's family */
static enum flow
mech_exists(struct ctx *c, const struct spf_term *t, const char *domain, bool *match)
{
    char name[SPF_NAME_MAX + 1];
    struct spf_answer a;
    bool valid = false;

    if (count_term(c) == STOP || target(c, t, domain, name, &valid) == STOP)
        return STOP;
    if (!valid)
        return void_lookup(c);
    switch (ask(c, SPF_RR_A, name, &a)) {
    case GOT_UNKNOWN:
        return STOP;
    case GOT_FAIL:
        return stop_error(c, SPF_TEMPERROR, "DNS failure: A %s", name);
    case GOT_VOID:
        return void_lookup(c);
    case GOT_RECORDS:
        *match = true;
        break;
    }
    return GO;
}

/*
 * mech_include - include:domain (5.2): matches when check_host() of the
 * target passes; fail, softfail and neutral do not match; none is a
 * permerror (temperror and permerror have stopped the run already).
 */
static enum flow
mech_include(struct ctx *c, const struct spf_term *t, const char *domain, bool *match)
{
    char raw[EXPAND_MAX];
    enum spf_result r;
    bool ok = false;

    if (count_term(c) == STOP)
        return STOP;
    if (expand(c, t->spec, t->speclen, domain, true, raw, sizeof(raw), &ok) == STOP)
        return STOP;
    if (!ok)
        return stop_error(c, SPF_PERMERROR, "cannot expand \"%.*s\"", (int)t->len, t->text);
    if (check_host(c, raw, false, &r) == STOP)
        return STOP;
    if (r == SPF_NONE)
        return stop_error(c, SPF_PERMERROR, "%.*s: no SPF record there", (int)t->len, t->text);
    *match = r == SPF_PASS;
    return GO;
}

/* ---- records ---------------------------------------------------------- */

/*
 * The record of one check_host() call, after the syntax pass: where the
 * terms are, and its modifiers (6: redirect and exp at most once each).
 */
struct record {
    const char       *terms;        /* after "v=spf1" */
    bool              has_all;
    struct spf_term   redir;        /* redir.spec NULL: no redirect= */
    struct spf_term   exp;          /* exp.spec NULL: no exp= */
};

/* next_term - the term at *p (spaces skipped), its length in *n; NULL at the end */
static const char *
next_term(const char **p, size_t *n)
{
    const char *s = *p;

    while (*s == ' ')   /* 4.6.1: terms are separated by 1*SP, and only SP */
        s++;
    if (*s == '\0')
        return NULL;
    *n = strcspn(s, " ");
    *p = s + *n;
    return s;
}

/*
 * select_record - the SPF record among the TXT records of name (4.5):
 * exactly one "v=spf1" record, else none (zero) or permerror (more).
 * Other TXT records, whatever they hold, are not looked at.
 */
static enum flow
select_record(struct ctx *c, const char *name, const struct spf_answer *txt, const char **rec)
{
    size_t found = 0;

    *rec = NULL;
    for (size_t i = 0; i < txt->n; i++) {
        if (txt->text[i] == NULL || spf_record_terms(txt->text[i]) == NULL)
            continue;
        if (found++ > 0)
            return stop_error(c, SPF_PERMERROR, "more than one SPF record at %s", name);
        *rec = txt->text[i];
    }
    return GO;
}

/* parse_record - the syntax pass (4.6): every term, the modifiers */
static enum flow
parse_record(struct ctx *c, const char *name, const char *rec, struct record *r)
{
    const char *p, *t;
    struct spf_term term;
    size_t n;

    memset(r, 0, sizeof(*r));
    r->terms = spf_record_terms(rec);
    p = r->terms;
    while ((t = next_term(&p, &n)) != NULL) {
        if (!spf_term_parse(t, n, &term))
            return stop_error(c, SPF_PERMERROR, "syntax error at %s: \"%.*s\"", name,
                              (int)(n > 40 ? 40 : n), t);
        switch (term.kind) {
        case SPF_K_ALL:
            r->has_all = true;
            break;
        case SPF_K_REDIRECT:
            if (r->redir.spec != NULL)
                return stop_error(c, SPF_PERMERROR, "two redirect= at %s", name);
            r->redir = term;
            break;
        case SPF_K_EXP:
            if (r->exp.spec != NULL)
                return stop_error(c, SPF_PERMERROR, "two exp= at %s", name);
            r->exp = term;
            break;
        default:
            break;
        }
    }
    return GO;
}

/* eval_term - one directive; modifiers do nothing here */
static enum flow
eval_term(struct ctx *c, const struct spf_term *t, const char *domain, bool *match)
{
    *match = false;
    switch (t->kind) {
    case SPF_K_ALL:
        *match = true;
        return GO;
    case SPF_K_INCLUDE:
        return mech_include(c, t, domain, match);
    case SPF_K_A:
        return mech_a(c, t, domain, match);
    case SPF_K_MX:
        return mech_mx(c, t, domain, match);
    case SPF_K_PTR:
        return mech_ptr(c, t, domain, match);
    case SPF_K_IP4:
        /* an IPv4 client (mapped ones too) matches ip4 only (5.6, 5/9) */
        *match = c->family == AF_INET && prefix_match(t->net, c->ip, t->cidr4);
        return GO;
    case SPF_K_IP6:
        *match = c->family == AF_INET6 && prefix_match(t->net, c->ip, t->cidr6);
        return GO;
    case SPF_K_EXISTS:
        return mech_exists(c, t, domain, match);
    default:
        return GO;
    }
}

/* decided - the top record decided: note its term and its exp= */
static void
decided(struct ctx *c, bool top, const char *text, size_t len, const struct record *r,
        const char *domain)
{
    if (!top)
        return;
    set_mech(c, text, len);
    c->exp_spec = r->exp.spec;
    c->exp_len = r->exp.speclen;
    snprintf(c->exp_domain, sizeof(c->exp_domain), "%s", domain);
}

/*
 * check_host - RFC 7208 4 for the domain name (as expanded: checked and
 * made canonical here). top: this record's decision is the check's (the
 * first record, and redirect= targets from it), so it sets the mechanism
 * text and the exp= used. *res is none, neutral, pass, fail or softfail.
 * Depth: every include and redirect counts as a DNS term first, so at
 * most SPF_MAX_TERMS calls are ever open under the first.
 */
static enum flow
check_host(struct ctx *c, const char *name, bool top, enum spf_result *res)
{
    char domain[SPF_NAME_MAX + 1];
    struct spf_answer txt;
    struct spf_term term;
    struct record r;
    const char *rec, *p, *t;
    size_t n;
    bool match = false;
    enum flow f = GO;

    *res = SPF_NONE;
    if (!domain_ok(name, domain)) {
        /* 4.3: a malformed domain, or not a multi-label one: none */
        if (top)
            snprintf(c->out->mechanism, sizeof(c->out->mechanism), "not a domain name");
        return GO;
    }
    switch (ask(c, SPF_RR_TXT, domain, &txt)) {
    case GOT_UNKNOWN:
        return STOP;
    case GOT_FAIL:
        return stop_error(c, SPF_TEMPERROR, "DNS failure: TXT %s", domain);
    case GOT_VOID:
        txt.n = 0;
        break;
    case GOT_RECORDS:
        break;
    }
    if (select_record(c, domain, &txt, &rec) == STOP)
        return STOP;
    if (rec == NULL) {
        if (top)
            snprintf(c->out->mechanism, sizeof(c->out->mechanism), "no SPF record");
        return GO;
    }
    if (parse_record(c, domain, rec, &r) == STOP)
        return STOP;

    if (++c->depth > SPF_MAX_TERMS + 1)     /* cannot happen: count_term() first */
        return stop_error(c, SPF_PERMERROR, "includes too deep");
    p = r.terms;
    while (f == GO && (t = next_term(&p, &n)) != NULL) {
        if (!spf_term_parse(t, n, &term) || term.kind >= SPF_K_REDIRECT)
            continue;
        f = eval_term(c, &term, domain, &match);
        if (f == GO && match) {
            *res = term.qual;
            decided(c, top, t, n, &r, domain);
            c->depth--;
            return GO;
        }
    }
    if (f == GO && r.redir.spec != NULL && !r.has_all) {
        /* 6.1: after all mechanisms, and only without "all" */
        char raw[EXPAND_MAX];
        bool ok = false;

        if (count_term(c) == STOP ||
            expand(c, r.redir.spec, r.redir.speclen, domain, true, raw, sizeof(raw), &ok) == STOP)
            f = STOP;
        else if (!ok)
            f = stop_error(c, SPF_PERMERROR, "cannot expand \"%.*s\"", (int)r.redir.len,
                           r.redir.text);
        else if ((f = check_host(c, raw, top, res)) == GO && *res == SPF_NONE)
            /* 6.1: a target without a record is a permerror, not none */
            f = stop_error(c, SPF_PERMERROR, "%.*s: no SPF record there", (int)r.redir.len,
                           r.redir.text);
        c->depth--;
        return f;
    }
    if (f == GO) {
        *res = SPF_NEUTRAL;     /* 4.7: no match, no redirect */
        decided(c, top, "default", 7, &r, domain);
    }
    c->depth--;
    return f;
}

/* ---- explanation (6.2) -------------------------------------------------- */

/*
 * explain - out->explanation for a fail: the TXT record named by exp=
 * of the deciding record, expanded (macros c, r, t allowed); when there
 * is none, or it cannot be used (the name does not expand to a usable
 * one, a DNS failure or no record, several records, a syntax error or
 * non-ASCII in the text: 6.2 "proceed as if no exp modifier was given"),
 * the request's default. The exp= lookup is never a void lookup nor a
 * counted term (4.6.4).
 */
static enum flow
explain(struct ctx *c, const char *top_domain)
{
    struct spf_outcome *o = c->out;
    const char *dflt = c->rq->default_exp != NULL ? c->rq->default_exp : SPF_DEFAULT_EXP;
    char raw[EXPAND_MAX], name[SPF_NAME_MAX + 1];
    struct spf_answer txt;
    bool ok = false;

    if (c->exp_spec != NULL) {
        if (expand(c, c->exp_spec, c->exp_len, c->exp_domain, true, raw, sizeof(raw), &ok) == STOP)
            return STOP;
        if (ok && name_canon(raw, name)) {
            switch (ask(c, SPF_RR_TXT, name, &txt)) {
            case GOT_UNKNOWN:
                return STOP;
            case GOT_RECORDS:
                if (txt.n == 1 && txt.text[0] != NULL &&
                    spf_macro_valid(txt.text[0], strlen(txt.text[0]), SPF_MACRO_EXPLAIN)) {
                    if (expand(c, txt.text[0], strlen(txt.text[0]), c->exp_domain, false,
                               o->explanation, sizeof(o->explanation), &ok) == STOP)
                        return STOP;
                    if (ok)
                        return GO;
                }
                break;
            default:
                break;
            }
        }
    }
    if (!spf_macro_valid(dflt, strlen(dflt), SPF_MACRO_EXPLAIN))
        dflt = SPF_DEFAULT_EXP;
    if (expand(c, dflt, strlen(dflt), top_domain, false, o->explanation, sizeof(o->explanation),
               &ok) == STOP)
        return STOP;
    if (!ok)
        o->explanation[0] = '\0';
    return GO;
}

/* ---- the run ------------------------------------------------------------ */

/* set_var - the value of macro letter l */
static void
set_var(struct ctx *c, char l, const char *text, size_t len)
{
    c->vars.v[l - 'a'] = (struct spf_macro_value){ text, len };
}

/*
 * setup - the client address and the macro values that do not change
 * during a run. false when ip is not an address.
 */
static bool
setup(struct ctx *c, const struct spf_request *rq)
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    static const char hex[] = "0123456789abcdef";
    const char *sender = rq->sender != NULL ? rq->sender : "";
    const char *at = strrchr(sender, '@');
    const char *odom = at != NULL ? at + 1 : sender;
    size_t llen = at != NULL ? (size_t)(at - sender) : 0, k = 0;

    if (rq->ip == NULL)
        return false;
    if (inet_pton(AF_INET, rq->ip, c->ip) == 1) {
        c->family = AF_INET;
    } else if (inet_pton(AF_INET6, rq->ip, c->ip) == 1) {
        /* 5: an IPv4-mapped IPv6 address is the IPv4 address */
        c->family = memcmp(c->ip, mapped, sizeof(mapped)) == 0 ? AF_INET : AF_INET6;
        if (c->family == AF_INET)
            memmove(c->ip, c->ip + 12, 4);
    } else {
        return false;
    }
    if (c->family == AF_INET) {
        snprintf(c->ip_dots, sizeof(c->ip_dots), "%u.%u.%u.%u", c->ip[0], c->ip[1], c->ip[2],
                 c->ip[3]);
        snprintf(c->reverse, sizeof(c->reverse), "%u.%u.%u.%u.in-addr.arpa", c->ip[3], c->ip[2],
                 c->ip[1], c->ip[0]);
        inet_ntop(AF_INET, c->ip, c->ip_text, sizeof(c->ip_text));
        set_var(c, 'v', "in-addr", 7);
    } else {
        /* %{i}: the nibbles, most significant first, in lower case as in
         * 7.4's example; the PTR name: the same, reversed (RFC 3596 2.5) */
        for (int i = 0; i < 16; i++) {
            c->ip_dots[4 * i] = hex[c->ip[i] >> 4];
            c->ip_dots[4 * i + 1] = '.';
            c->ip_dots[4 * i + 2] = hex[c->ip[i] & 0xf];
            c->ip_dots[4 * i + 3] = '.';
            c->reverse[4 * i] = hex[c->ip[15 - i] & 0xf];
            c->reverse[4 * i + 1] = '.';
            c->reverse[4 * i + 2] = hex[c->ip[15 - i] >> 4];
            c->reverse[4 * i + 3] = '.';
        }
        c->ip_dots[63] = '\0';
        snprintf(c->reverse + 64, sizeof(c->reverse) - 64, "ip6.arpa");
        inet_ntop(AF_INET6, c->ip, c->ip_text, sizeof(c->ip_text));
        set_var(c, 'v', "ip6", 3);
    }
    set_var(c, 'i', c->ip_dots, strlen(c->ip_dots));
    set_var(c, 'c', c->ip_text, strlen(c->ip_text));

    /* 4.3: no local part (or no "@" at all) reads as "postmaster" */
    if (llen == 0 && strlen(odom) <= 2 * SPF_NAME_MAX) {
        k = (size_t)snprintf(c->sender, sizeof(c->sender), "postmaster@%s", odom);
        set_var(c, 's', c->sender, k);
        set_var(c, 'l', c->sender, 10);
    } else {
        set_var(c, 's', sender, strlen(sender));
        set_var(c, 'l', llen ? sender : "postmaster", llen ? llen : 10);
    }
    set_var(c, 'o', odom, strlen(odom));
    set_var(c, 'h', rq->helo ? rq->helo : "", rq->helo ? strlen(rq->helo) : 0);
    set_var(c, 'r', rq->receiver ? rq->receiver : "unknown",
            rq->receiver ? strlen(rq->receiver) : 7);
    k = (size_t)snprintf(c->now, sizeof(c->now), "%" PRId64, rq->now);
    set_var(c, 't', c->now, k);
    return true;
}

bool
spf_eval(const struct spf_request *rq, spf_lookup_fn lookup, void *arg, struct spf_outcome *out)
{
    struct ctx c;
    enum spf_result res;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    c.rq = rq;
    c.lookup = lookup;
    c.arg = arg;
    c.out = out;
    out->result = SPF_NONE;
    if (!setup(&c, rq)) {
        snprintf(out->mechanism, sizeof(out->mechanism), "not an IP address");
        return true;
    }
    if (check_host(&c, rq->domain != NULL ? rq->domain : "", true, &res) == STOP) {
        if (c.need)
            return false;
        out->result = c.error_result;
        return true;
    }
    out->result = res;
    if (res == SPF_FAIL && explain(&c, c.exp_domain) == STOP)
        return false;   /* only a missing answer stops explain() */
    return true;
}
