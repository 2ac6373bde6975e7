/*
 * test_doctor - unit tests for src/doctor/: the pure checks of postino
 * doctor over a fake DNS, the local checks over made-up facts, the
 * helpers that write the records to publish, and the two output forms.
 *
 * The fake DNS is a zone of "NAME TYPE DATA" lines (A, AAAA, MX "PREF
 * HOST", TXT, PTR, CNAME; DATA "SERVFAIL" makes that lookup fail for
 * now). It answers the way cli/doctor.c does: in rounds. A lookup not
 * answered yet is noted and refused; the driver then makes every noted
 * lookup known and runs the check again from the start, as the command
 * does after fetching. Every check must end within a few rounds, and the
 * result must be the same as a run whose provider knows every answer from
 * the start. Mismatches are reported as "got ..., want ..." and each
 * test fails at its end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim.h"
#include "dmarc/dmarc.h"
#include "doctor/doctor.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/xmalloc.h"

#include "check.h"

#define HOST   "mx.example.test"
#define IP     "127.0.0.5"
#define NOW    1800000000
#define ROUNDS 12

/* ---- the fake DNS ------------------------------------------------------ */

/* One answer the fake has made, kept until the test's end. */
struct made {
    struct made      *next;
    enum doctor_qtype type;
    char             *name;
    bool              known;        /* released by the driver */
    enum doctor_dns   st;
    char            **text;
    unsigned         *pref;
    size_t            n;
    unsigned char     a4[4 * 16], a6[16 * 16];
    size_t            n4, n6;
};

struct fake {
    const char *const *zone;        /* NULL-terminated lines */
    bool               all_known;   /* every answer known from the start */
    struct made       *made;
    unsigned           calls;
};


/* line_split - "name TYPE data" into its parts (in buf) */
static bool
line_split(const char *line, char *buf, size_t len, char **name, char **type, char **data)
{
    snprintf(buf, len, "%s", line);
    *name = buf;
    if (!(*type = strchr(buf, ' ')))
        return false;
    *(*type)++ = '\0';
    if (!(*data = strchr(*type, ' ')))
        return false;
    *(*data)++ = '\0';
    return true;
}

/* type_matches - the zone type t answers lookups of q */
static bool
type_matches(const char *t, enum doctor_qtype q)
{
    switch (q) {
    case DOCTOR_Q_ADDR:  return strcmp(t, "A") == 0 || strcmp(t, "AAAA") == 0;
    case DOCTOR_Q_MX:    return strcmp(t, "MX") == 0;
    case DOCTOR_Q_TXT:   return strcmp(t, "TXT") == 0;
    case DOCTOR_Q_PTR:   return strcmp(t, "PTR") == 0;
    case DOCTOR_Q_CNAME: return strcmp(t, "CNAME") == 0;
    }
    return false;
}

/* make - the answer of the zone for (q, name) */
static void
make(const struct fake *fk, struct made *m)
{
    char buf[1024], *name, *type, *data;
    bool exists = false, fail = false;
    size_t nl = strlen(m->name);

    for (const char *const *l = fk->zone; *l; l++) {
        if (!line_split(*l, buf, sizeof(buf), &name, &type, &data))
            fail_msg("bad zone line %s", *l);
        size_t len = strlen(name);
        if (strcasecmp(name, m->name) == 0 ||
            (len > nl && name[len - nl - 1] == '.' && strcasecmp(name + len - nl, m->name) == 0))
            exists = true;
        if (strcasecmp(name, m->name) != 0 || !type_matches(type, m->type))
            continue;
        if (strcmp(data, "SERVFAIL") == 0) {
            fail = true;
            continue;
        }
        if (strcmp(type, "A") == 0) {
            assert_int_equal(inet_pton(AF_INET, data, m->a4 + 4 * m->n4++), 1);
        } else if (strcmp(type, "AAAA") == 0) {
            assert_int_equal(inet_pton(AF_INET6, data, m->a6 + 16 * m->n6++), 1);
        } else {
            m->text = xreallocarray(m->text, m->n + 1, sizeof(char *));
            m->pref = xreallocarray(m->pref, m->n + 1, sizeof(unsigned));
            if (strcmp(type, "MX") == 0) {
                char *host = strchr(data, ' ');
                assert_non_null(host);
                m->pref[m->n] = (unsigned)atoi(data);
                m->text[m->n++] = xstrdup(strcmp(host + 1, ".") == 0 ? "" : host + 1);
            } else {
                m->pref[m->n] = 0;
                m->text[m->n++] = xstrdup(data);
            }
        }
    }
    if (fail)
        m->st = DOCTOR_DNS_TEMPFAIL;
    else if (m->n || m->n4 || m->n6)
        m->st = DOCTOR_DNS_OK;
    else
        m->st = exists ? DOCTOR_DNS_NODATA : DOCTOR_DNS_NXDOMAIN;
}

/* fake_lookup - the doctor_lookup_fn of the fake */
static bool
fake_lookup(void *arg, enum doctor_qtype type, const char *name, struct doctor_answer *ans)
{
    struct fake *fk = arg;
    struct made *m;

    fk->calls++;
    for (m = fk->made; m; m = m->next)
        if (m->type == type && strcmp(m->name, name) == 0)
            break;
    if (!m) {
        m = xcalloc(1, sizeof(*m));
        m->type = type;
        m->name = xstrdup(name);
        m->known = fk->all_known;
        make(fk, m);
        m->next = fk->made;
        fk->made = m;
    }
    if (!m->known)
        return false;
    memset(ans, 0, sizeof(*ans));
    ans->status = m->st;
    ans->why = m->st == DOCTOR_DNS_TEMPFAIL ? "SERVFAIL" : NULL;
    ans->n = m->n;
    ans->text = m->text;
    ans->pref = m->pref;
    ans->a4 = m->a4;
    ans->n4 = m->n4;
    ans->a6 = m->a6;
    ans->n6 = m->n6;
    return true;
}

/* fake_release - the driver's fetch: every noted lookup becomes known; how many */
static size_t
fake_release(struct fake *fk)
{
    size_t n = 0;

    for (struct made *m = fk->made; m; m = m->next)
        if (!m->known) {
            m->known = true;
            n++;
        }
    return n;
}

static void
fake_free(struct fake *fk)
{
    struct made *m, *next;

    for (m = fk->made; m; m = next) {
        next = m->next;
        for (size_t i = 0; i < m->n; i++)
            free(m->text[i]);
        free(m->text);
        free(m->pref);
        free(m->name);
        free(m);
    }
    fk->made = NULL;
}

/* ---- running a check ---------------------------------------------------- */

enum which { C_MX, C_HOST, C_PTR, C_SPF, C_DMARC, C_DNSBL, C_DKIM };

static struct dmarc_psl *psl;
static const struct doctor_dkim_key *dkim_keys;
static size_t ndkim_keys;
static bool dkim_signing = true;

static bool
call(enum which w, const struct doctor_env *env, const char *arg, struct doctor_report *out)
{
    switch (w) {
    case C_MX:    return doctor_check_mx(env, arg, out);
    case C_HOST:  return doctor_check_host(env, out);
    case C_PTR:   return doctor_check_ptr(env, out);
    case C_SPF:   return doctor_check_spf(env, arg, out);
    case C_DMARC: return doctor_check_dmarc(env, arg, out);
    case C_DNSBL: return doctor_check_dnsbl(env, arg, out);
    case C_DKIM:  return doctor_check_dkim(env, arg, dkim_keys, ndkim_keys, dkim_signing, out);
    }
    return true;
}

/* render - the findings as text, one per line, for comparing */
static char *
render(const struct doctor_report *r)
{
    struct buf b = BUF_INIT;

    doctor_format_text(r, &b);
    if (b.data == NULL)
        return xstrdup("");
    return buf_steal(&b);
}

/*
 * run - check w of arg over zone, in rounds as the command runs it;
 * fills out and returns the rounds taken. Also runs it once over a fake
 * that knows everything and reports a difference.
 */
static unsigned
run(const char *what, enum which w, const char *const *zone, const char *ip, const char *arg,
    struct doctor_report *out)
{
    struct fake fk = { .zone = zone };
    struct doctor_env env = { HOST, ip, fake_lookup, &fk, psl, NOW };
    unsigned rounds = 0;

    for (;;) {
        struct doctor_report tmp = DOCTOR_REPORT_INIT;
        if (call(w, &env, arg, &tmp)) {
            doctor_report_take(out, &tmp);
            break;
        }
        doctor_report_free(&tmp);
        if (++rounds > ROUNDS || fake_release(&fk) == 0) {
            report("%s: no progress after %u rounds", what, rounds);
            break;
        }
    }
    fake_free(&fk);

    /* the same with every answer known at once */
    struct fake all = { .zone = zone, .all_known = true };
    struct doctor_env env2 = { HOST, ip, fake_lookup, &all, psl, NOW };
    struct doctor_report once = DOCTOR_REPORT_INIT;
    if (!call(w, &env2, arg, &once))
        report("%s: incomplete with every answer known", what);
    char *a = render(out), *b = render(&once);
    if (strcmp(a, b) != 0)
        report("%s: rounds and all-known differ:\n%s---\n%s", what, a, b);
    free(a);
    free(b);
    doctor_report_free(&once);
    fake_free(&all);
    return rounds;
}

/* find - the first finding of status st whose detail holds detail */
static const struct doctor_finding *
find(const struct doctor_report *r, enum doctor_status st, const char *detail)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].status == st && strstr(r->v[i].detail, detail))
            return &r->v[i];
    return NULL;
}

/* One case of a table: a check, a zone, and the finding it must give. */
struct want {
    const char        *name;
    enum which         w;
    const char        *arg;         /* domain or zone */
    const char        *ip;          /* public_ip */
    const char *const *zone;
    enum doctor_status st;
    const char        *detail;      /* a part of the detail */
    const char        *fix;         /* a part of the fix, or NULL */
    size_t             problems;    /* problems in all */
};

static void
run_table(const struct want *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct want *c = &cases[i];
        struct doctor_report r = DOCTOR_REPORT_INIT;

        run(c->name, c->w, c->zone, c->ip, c->arg, &r);
        const struct doctor_finding *f = find(&r, c->st, c->detail);
        char *all = render(&r);
        if (!f)
            report("%s: got\n%swant a %s with \"%s\"", c->name, all,
                   doctor_status_name(c->st), c->detail);
        else if (c->fix && (!f->fix || !strstr(f->fix, c->fix)))
            report("%s: fix got \"%s\", want \"%s\" in it", c->name, showz(f->fix), c->fix);
        else if (c->st != DOCTOR_OK && !f->why)
            report("%s: a %s without why", c->name, doctor_status_name(c->st));
        if (doctor_count(&r, DOCTOR_PROBLEM) != c->problems)
            report("%s: got %zu problems, want %zu:\n%s", c->name,
                   doctor_count(&r, DOCTOR_PROBLEM), c->problems, all);
        for (size_t k = 0; k < r.n; k++)
            if (r.v[k].status == DOCTOR_PROBLEM && (!r.v[k].why || !r.v[k].fix))
                report("%s: problem \"%s\" without why or fix", c->name, r.v[k].detail);
        free(all);
        doctor_report_free(&r);
    }
}

static int
setup(void **state)
{
    char err[256];

    (void)state;
    psl = dmarc_psl_open(NULL, err, sizeof(err));
    assert_non_null(psl);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    dmarc_psl_free(psl);
    return 0;
}

/* ---- zones -------------------------------------------------------------- */

#define BASE \
    HOST " A " IP, \
    "5.0.0.127.in-addr.arpa PTR " HOST

static const char *const z_good[] = {
    BASE,
    "good.test MX 10 " HOST,
    "good.test TXT v=spf1 ip4:" IP " -all",
    "good.test TXT google-site-verification=abc",
    "_dmarc.good.test TXT v=DMARC1; p=quarantine; rua=mailto:postmaster@good.test",
    NULL,
};

static const char *const z_mx[] = {
    BASE,
    "nomx.test TXT v=spf1 -all",
    "null.test MX 0 .",
    "lit.test MX 10 127.0.0.5",
    "lit2.test MX 10 192.0.2.9",
    "cname.test MX 10 alias.cname.test",
    "alias.cname.test CNAME " HOST,
    HOST " CNAME SERVFAIL",     /* no alias: it fails, and that says nothing */
    "noaddr.test MX 10 " HOST,
    "noaddr.test MX 20 backup.noaddr.test",
    "backup.noaddr.test TXT x",
    "elsewhere.test MX 10 mx.provider.test",
    "mx.provider.test A 192.0.2.20",
    "other.test MX 10 mail.other.test",
    "mail.other.test A " IP,
    "fail.test MX SERVFAIL",
    "two.test MX 20 " HOST,
    "two.test MX 10 mx2.two.test",
    "mx2.two.test AAAA 2001:db8::2",
    NULL,
};

static void
test_mx(void **state)
{
    static const struct want cases[] = {
        { "good", C_MX, "good.test", IP, z_good, DOCTOR_OK, HOST " (10) at " IP ", this server",
          NULL, 0 },
        { "no MX", C_MX, "nomx.test", IP, z_mx, DOCTOR_PROBLEM, "no MX record",
          "Publish: nomx.test. MX 10 " HOST ".", 1 },
        { "no domain", C_MX, "nothing.test", IP, z_mx, DOCTOR_PROBLEM, "does not exist",
          "nothing.test. MX 10 " HOST ".", 1 },
        { "null MX", C_MX, "null.test", IP, z_mx, DOCTOR_PROBLEM, "null MX",
          "Replace it with: null.test. MX 10 " HOST ".", 1 },
        { "literal, ours", C_MX, "lit.test", IP, z_mx, DOCTOR_PROBLEM, "is an IP address",
          "lit.test. MX 10 " HOST ".", 2 },
        { "literal, other", C_MX, "lit2.test", IP, z_mx, DOCTOR_PROBLEM, "192.0.2.9 (10) is an IP",
          "mail.lit2.test. A 192.0.2.9 and lit2.test. MX 10 mail.lit2.test.", 2 },
        { "cname", C_MX, "cname.test", IP, z_mx, DOCTOR_PROBLEM,
          "alias.cname.test (10) is an alias (CNAME) of " HOST,
          "Point the MX at the real name: cname.test. MX 10 " HOST ".", 1 },
        { "no address", C_MX, "noaddr.test", IP, z_mx, DOCTOR_PROBLEM,
          "backup.noaddr.test (20) has no address", "backup.noaddr.test. A", 1 },
        { "no address, ok one", C_MX, "noaddr.test", IP, z_mx, DOCTOR_OK, HOST " (10)", NULL, 1 },
        { "not this server", C_MX, "elsewhere.test", IP, z_mx, DOCTOR_PROBLEM,
          "none of the MX hosts is this server", "Publish: elsewhere.test. MX 10 " HOST ".", 1 },
        { "this server, other name", C_MX, "other.test", IP, z_mx, DOCTOR_WARNING,
          "as mail.other.test", "Set hostname = mail.other.test", 0 },
        { "tempfail", C_MX, "fail.test", IP, z_mx, DOCTOR_WARNING, "could not look up", NULL, 0 },
        { "two, by preference", C_MX, "two.test", IP, z_mx, DOCTOR_OK,
          "mx2.two.test (10) at 2001:db8::2", NULL, 0 },
    };

    (void)state;
    failures = 0;
    run_table(cases, NELEM(cases));

    /* the lines come by preference */
    struct doctor_report r = DOCTOR_REPORT_INIT;
    run("order", C_MX, z_mx, IP, "two.test", &r);
    if (r.n != 2 || !strstr(r.v[0].detail, "mx2.two.test") || !strstr(r.v[1].detail, HOST))
        report("order: got %zu findings, want mx2 (10) then " HOST " (20)", r.n);
    doctor_report_free(&r);
    assert_int_equal(failures, 0);
}

static const char *const z_host[] = {
    HOST " A 192.0.2.7",
    "5.0.0.127.in-addr.arpa PTR mail.isp.test",
    "mail.isp.test A 10.0.0.1",
    "6.0.0.127.in-addr.arpa PTR other.example.test",
    "other.example.test A 127.0.0.6",
    "7.0.0.127.in-addr.arpa PTR nowhere.test",
    NULL,
};

static const char *const z_noaddr[] = { "x.test TXT x", NULL };

static void
test_identity(void **state)
{
    static const struct want cases[] = {
        { "host ok", C_HOST, NULL, IP, z_good, DOCTOR_OK, HOST " resolves to " IP, NULL, 0 },
        { "host other address", C_HOST, NULL, IP, z_host, DOCTOR_PROBLEM,
          "resolves to 192.0.2.7, not to this server's address " IP,
          "Publish: " HOST ". A " IP, 1 },
        { "host none", C_HOST, NULL, IP, z_noaddr, DOCTOR_PROBLEM, "has no address",
          "Publish: " HOST ". A " IP, 1 },
        { "host v6", C_HOST, NULL, "2001:db8::5", z_noaddr, DOCTOR_PROBLEM, "has no address",
          "Publish: " HOST ". AAAA 2001:db8::5", 1 },
        { "host, ip unknown", C_HOST, NULL, "", z_good, DOCTOR_WARNING, "not compared",
          "public_ip", 0 },
        { "ptr ok", C_PTR, NULL, IP, z_good, DOCTOR_OK,
          IP " -> " HOST " -> " IP " (forward-confirmed)", NULL, 0 },
        { "ptr missing", C_PTR, NULL, "127.0.0.9", z_good, DOCTOR_PROBLEM,
          "no reverse DNS (PTR) for 127.0.0.9", "9.0.0.127.in-addr.arpa. PTR " HOST ".", 1 },
        { "ptr not back", C_PTR, NULL, IP, z_host, DOCTOR_PROBLEM,
          "is mail.isp.test, which does not resolve back to it (it resolves to 10.0.0.1)",
          "5.0.0.127.in-addr.arpa. PTR " HOST ". and publish: " HOST ". A " IP, 1 },
        { "ptr no address", C_PTR, NULL, "127.0.0.7", z_host, DOCTOR_PROBLEM,
          "is nowhere.test, which does not resolve back to it (it has no address)", NULL, 1 },
        { "ptr other name", C_PTR, NULL, "127.0.0.6", z_host, DOCTOR_WARNING,
          "127.0.0.6 -> other.example.test -> 127.0.0.6", "Set hostname = other.example.test", 0 },
    };

    (void)state;
    failures = 0;
    run_table(cases, NELEM(cases));

    /* no public address: nothing to say here (the IP line says it) */
    struct doctor_report r = DOCTOR_REPORT_INIT;
    run("ptr without ip", C_PTR, z_good, "", NULL, &r);
    if (r.n != 0)
        report("ptr without ip: got %zu findings, want 0", r.n);
    doctor_report_free(&r);
    assert_int_equal(failures, 0);
}

static const char *const z_spf[] = {
    BASE,
    "nospf.test TXT something else",
    "two.test TXT v=spf1 ip4:" IP " -all",
    "two.test TXT v=spf1 include:_spf.mailer.test redirect=_spf.two.test ~all",
    "over.test TXT v=spf1 ip4:" IP " include:i1.over.test include:i2.over.test "
        "include:i3.over.test include:i4.over.test include:i5.over.test include:i6.over.test "
        "a:i7.over.test mx:i8.over.test include:i9.over.test include:i10.over.test "
        "include:i11.over.test -all",
    "i1.over.test TXT v=spf1 -all", "i2.over.test TXT v=spf1 -all",
    "i3.over.test TXT v=spf1 -all", "i4.over.test TXT v=spf1 -all",
    "i5.over.test TXT v=spf1 -all", "i6.over.test TXT v=spf1 -all",
    "i7.over.test A 192.0.2.77", "i8.over.test MX 10 " HOST,
    "i9.over.test TXT v=spf1 -all", "i10.over.test TXT v=spf1 -all",
    "i11.over.test TXT v=spf1 -all",
    "notme.test TXT v=spf1 ip4:192.0.2.55 -all",
    "twonot.test TXT v=spf1 ip4:192.0.2.55 -all",
    "twonot.test TXT v=spf1 include:_spf.mailer.test ~all",
    "soft.test TXT v=spf1 a ~all",
    "soft.test A 192.0.2.56",
    "plus.test TXT v=spf1 +all",
    "bare.test TXT v=spf1 ip4:" IP " all",
    "wide.test TXT v=spf1 ip4:0.0.0.0/0 -all",
    "neutral.test TXT v=spf1 ip4:" IP " ?all",
    "syntax.test TXT v=spf1 ip4:" IP " foo:bar -all",
    "mx.test TXT v=spf1 mx -all",
    "mx.test MX 10 " HOST,
    "inc.test TXT v=spf1 include:_spf.inc.test -all",
    "_spf.inc.test TXT v=spf1 a:" HOST " -all",
    "void.test TXT v=spf1 a:n1.void.test a:n2.void.test a:n3.void.test ip4:" IP " -all",
    "temp.test TXT SERVFAIL",
    NULL,
};

static void
test_spf(void **state)
{
    static const struct want cases[] = {
        { "ok", C_SPF, "good.test", IP, z_good, DOCTOR_OK,
          "v=spf1 ip4:" IP " -all (passes " IP " by ip4:" IP "; 0 of 10 DNS lookups)", NULL, 0 },
        { "mx, 1 lookup", C_SPF, "mx.test", IP, z_spf, DOCTOR_OK, "by mx; 1 of 10", NULL, 0 },
        { "include", C_SPF, "inc.test", IP, z_spf, DOCTOR_OK, "2 of 10 DNS lookups", NULL, 0 },
        { "none", C_SPF, "nospf.test", IP, z_spf, DOCTOR_PROBLEM, "no SPF record",
          "Publish: nospf.test. TXT \"v=spf1 ip4:" IP " -all\"", 1 },
        { "none, v6", C_SPF, "nospf.test", "2001:db8::5", z_spf, DOCTOR_PROBLEM, "no SPF record",
          "TXT \"v=spf1 ip6:2001:db8::5 -all\"", 1 },
        { "none, no ip", C_SPF, "nospf.test", "", z_spf, DOCTOR_PROBLEM, "no SPF record",
          "TXT \"v=spf1 mx -all\"", 1 },
        { "two", C_SPF, "two.test", IP, z_spf, DOCTOR_PROBLEM, "2 SPF records",
          "Replace them with one: two.test. TXT \"v=spf1 include:_spf.mailer.test "
          "include:_spf.two.test ip4:" IP " -all\"", 1 },
        { "two, neither ours", C_SPF, "twonot.test", IP, z_spf, DOCTOR_PROBLEM, "2 SPF records",
          "TXT \"v=spf1 ip4:" IP " include:_spf.mailer.test ip4:192.0.2.55 -all\"", 1 },
        { "over the limit", C_SPF, "over.test", IP, z_spf, DOCTOR_PROBLEM,
          "more than 10 DNS lookups", "write the ip4:/ip6: ranges", 1 },
        { "not this server", C_SPF, "notme.test", IP, z_spf, DOCTOR_PROBLEM,
          "does not authorise this server's address " IP " (fail by -all)",
          "Publish instead: notme.test. TXT \"v=spf1 ip4:" IP " ip4:192.0.2.55 -all\"", 1 },
        { "softfail", C_SPF, "soft.test", IP, z_spf, DOCTOR_PROBLEM, "(softfail by ~all)",
          "\"v=spf1 ip4:" IP " a ~all\"", 1 },
        { "+all", C_SPF, "plus.test", IP, z_spf, DOCTOR_PROBLEM,
          "lets every address send as plus.test (+all)",
          "Publish instead: plus.test. TXT \"v=spf1 ip4:" IP " -all\"", 1 },
        { "bare all", C_SPF, "bare.test", IP, z_spf, DOCTOR_PROBLEM, "(all)",
          "TXT \"v=spf1 ip4:" IP " -all\"", 1 },
        { "0.0.0.0/0", C_SPF, "wide.test", IP, z_spf, DOCTOR_PROBLEM, "(ip4:0.0.0.0/0)",
          "Remove or narrow \"ip4:0.0.0.0/0\"", 1 },
        { "?all", C_SPF, "neutral.test", IP, z_spf, DOCTOR_WARNING, "is neutral (?all)",
          "-all", 0 },
        { "syntax", C_SPF, "syntax.test", IP, z_spf, DOCTOR_PROBLEM, "is broken: syntax error",
          "TXT \"v=spf1 ip4:" IP " -all\"", 1 },
        { "void lookups", C_SPF, "void.test", IP, z_spf, DOCTOR_PROBLEM,
          "more than 2 names that do not exist", "Remove the include:", 1 },
        { "tempfail", C_SPF, "temp.test", IP, z_spf, DOCTOR_WARNING, "could not look up", NULL,
          0 },
        { "no ip", C_SPF, "good.test", "", z_good, DOCTOR_WARNING, "not checked against", NULL,
          0 },
    };

    (void)state;
    failures = 0;
    run_table(cases, NELEM(cases));
    assert_int_equal(failures, 0);
}

static const char *const z_dmarc[] = {
    "_dmarc.none.test TXT v=DMARC1; p=none; rua=mailto:d@none.test",
    "_dmarc.norua.test TXT v=DMARC1; p=none",
    "_dmarc.rej.test TXT v=DMARC1; p=reject",
    "_dmarc.pct.test TXT v=DMARC1; p=quarantine; pct=20",
    "_dmarc.bad.test TXT v=DMARC1; p=maybe",
    "_dmarc.two.test TXT v=DMARC1; p=reject",
    "_dmarc.two.test TXT v=DMARC1; p=none",
    "_dmarc.org.test TXT v=DMARC1; p=reject; sp=none",
    "sub.org.test TXT x",
    "_dmarc.other.test TXT spf2.0/pra",
    "_dmarc.temp.test TXT SERVFAIL",
    NULL,
};

static void
test_dmarc(void **state)
{
    static const struct want cases[] = {
        { "quarantine", C_DMARC, "good.test", IP, z_good, DOCTOR_OK, "policy quarantine", NULL,
          0 },
        { "reject", C_DMARC, "rej.test", IP, z_dmarc, DOCTOR_OK, "v=DMARC1; p=reject: policy "
          "reject", NULL, 0 },
        { "missing", C_DMARC, "nodmarc.test", IP, z_dmarc, DOCTOR_PROBLEM, "no DMARC record",
          "Publish: _dmarc.nodmarc.test. TXT \"v=DMARC1; p=quarantine; "
          "rua=mailto:postmaster@nodmarc.test\"", 1 },
        { "not dmarc", C_DMARC, "other.test", IP, z_dmarc, DOCTOR_PROBLEM, "no DMARC record",
          NULL, 1 },
        { "p=none", C_DMARC, "none.test", IP, z_dmarc, DOCTOR_WARNING, "policy none",
          "move on to p=quarantine", 0 },
        { "p=none, no rua", C_DMARC, "norua.test", IP, z_dmarc, DOCTOR_WARNING, "policy none",
          "Add rua=mailto:postmaster@norua.test", 0 },
        { "pct", C_DMARC, "pct.test", IP, z_dmarc, DOCTOR_WARNING, "for 20% of", "pct=", 0 },
        { "invalid", C_DMARC, "bad.test", IP, z_dmarc, DOCTOR_PROBLEM, "has no valid policy",
          "Publish instead: _dmarc.bad.test. TXT", 1 },
        { "two", C_DMARC, "two.test", IP, z_dmarc, DOCTOR_PROBLEM, "2 DMARC records", "Keep one",
          1 },
        { "subdomain: sp", C_DMARC, "sub.org.test", IP, z_dmarc, DOCTOR_WARNING,
          "(at _dmarc.org.test): policy none", NULL, 0 },
        { "tempfail", C_DMARC, "temp.test", IP, z_dmarc, DOCTOR_WARNING, "could not look up",
          NULL, 0 },
    };

    (void)state;
    failures = 0;
    run_table(cases, NELEM(cases));
    assert_int_equal(failures, 0);
}

static const char *const z_bl[] = {
    "5.0.0.127.bl.test A 127.0.0.2",
    "5.0.0.127.bl.test TXT listed: see https://bl.test/?127.0.0.5",
    "5.0.0.127.zen.spamhaus.org A 127.0.0.4",
    "5.0.0.127.refusing.test A 127.255.255.254",
    "5.0.0.127.odd.test A 198.51.100.1",
    "5.0.0.127.temp.test A SERVFAIL",
    "5.0.0.127.notxt.test A 127.0.0.3",
    "1.2.3.4.bl.test A 127.0.0.2",
    NULL,
};

static void
test_dnsbl(void **state)
{
    static const struct want cases[] = {
        { "clean", C_DNSBL, "bl.test", "127.0.0.9", z_bl, DOCTOR_OK, "127.0.0.9 is not listed "
          "in bl.test", NULL, 0 },
        { "listed", C_DNSBL, "bl.test", IP, z_bl, DOCTOR_PROBLEM, IP " is listed in bl.test "
          "(127.0.0.2): listed: see https://bl.test/?127.0.0.5", "ask bl.test for removal", 1 },
        { "spamhaus", C_DNSBL, "zen.spamhaus.org", IP, z_bl, DOCTOR_PROBLEM, "listed in "
          "zen.spamhaus.org (127.0.0.4)", "https://check.spamhaus.org/", 1 },
        { "no reason", C_DNSBL, "notxt.test", IP, z_bl, DOCTOR_PROBLEM, "listed in notxt.test "
          "(127.0.0.3)", NULL, 1 },
        { "refused", C_DNSBL, "refusing.test", IP, z_bl, DOCTOR_WARNING, "refused the query",
          "dns_servers", 0 },
        { "odd", C_DNSBL, "odd.test", IP, z_bl, DOCTOR_WARNING, "outside 127.0.0.0/8",
          "dns_servers", 0 },
        { "tempfail", C_DNSBL, "temp.test", IP, z_bl, DOCTOR_WARNING, "could not ask", NULL, 0 },
    };

    (void)state;
    failures = 0;
    run_table(cases, NELEM(cases));

    static const unsigned char listed[] = { 127, 255, 255, 254, 127, 0, 0, 2 };
    static const unsigned char odd[] = { 10, 0, 0, 1 };
    if (doctor_dnsbl_verdict(listed, 2) != DOCTOR_BL_LISTED)
        report("verdict: a listing beside a refusal must count");
    if (doctor_dnsbl_verdict(listed, 1) != DOCTOR_BL_REFUSED)
        report("verdict: 127.255.255.254 is a refusal");
    if (doctor_dnsbl_verdict(odd, 1) != DOCTOR_BL_ODD)
        report("verdict: 10.0.0.1 is odd");
    if (doctor_dnsbl_verdict(NULL, 0) != DOCTOR_BL_CLEAN)
        report("verdict: nothing is clean");
    if (!doctor_dnsbl_advice("bl.spamcop.net") || !doctor_dnsbl_advice("b.barracudacentral.org")
        || doctor_dnsbl_advice("bl.test") || doctor_dnsbl_advice("notspamhaus.org"))
        report("advice: wrong lists known");
    assert_int_equal(failures, 0);
}

/* ---- DKIM: real keys -------------------------------------------------- */

static void
test_dkim(void **state)
{
    char err[256];
    struct dkim_key *k = dkim_key_generate(DKIM_ED25519_SHA256, 0, err, sizeof(err));
    struct dkim_key *other = dkim_key_generate(DKIM_ED25519_SHA256, 0, err, sizeof(err));

    (void)state;
    failures = 0;
    assert_non_null(k);
    assert_non_null(other);
    char *txt = dkim_key_txt(k), *otxt = dkim_key_txt(other);
    char *zone = dkim_zone_line("e1", "d.test", txt);
    char *ok_line = xasprintf("e1._domainkey.d.test TXT %s", txt);
    char *other_line = xasprintf("e1._domainkey.x.test TXT %s", otxt);
    const char *const z[] = {
        ok_line, other_line, "e1._domainkey.y.test TXT some text", "e1._domainkey.t.test TXT "
        "SERVFAIL", NULL,
    };
    struct doctor_dkim_key keys[] = {
        { "e1", "/data/dkim/X/e1.ed25519.pem", true, k, NULL },
    };
    struct doctor_dkim_key old_keys[] = {
        { "e1", "/data/dkim/X/e1.ed25519.pem", false, k, NULL },
    };
    struct doctor_dkim_key broken[] = {
        { "e1", "/data/dkim/X/e1.ed25519.pem", true, NULL, "not a key" },
    };
    struct want cases[] = {
        { "published", C_DKIM, "d.test", IP, z, DOCTOR_OK, "e1 (ed25519 256 bits, signs) "
          "published at e1._domainkey.d.test", NULL, 0 },
        { "missing", C_DKIM, "n.test", IP, z, DOCTOR_PROBLEM, "key e1 has no record at "
          "e1._domainkey.n.test", "Publish: e1._domainkey.n.test. IN TXT", 1 },
        { "other key", C_DKIM, "x.test", IP, z, DOCTOR_PROBLEM, "holds another key", "Replace "
          "the record with: e1._domainkey.x.test. IN TXT", 1 },
        { "not a key record", C_DKIM, "y.test", IP, z, DOCTOR_PROBLEM, "has no record", NULL, 1 },
        { "tempfail", C_DKIM, "t.test", IP, z, DOCTOR_WARNING, "could not look up", NULL, 0 },
    };

    dkim_keys = keys;
    ndkim_keys = 1;
    run_table(cases, NELEM(cases));

    /* the fix is the very line "postino dkim keygen" prints */
    struct doctor_report r = DOCTOR_REPORT_INIT;
    run("zone line", C_DKIM, z, IP, "d.test", &r);
    doctor_report_free(&r);
    char *nzone = dkim_zone_line("e1", "n.test", txt);
    run("zone line", C_DKIM, z, IP, "n.test", &r);
    if (r.n != 1 || !r.v[0].fix || strstr(r.v[0].fix, nzone) == NULL)
        report("zone line: got %s, want it to hold %s", r.n ? showz(r.v[0].fix) : "nothing",
               nzone);
    if (r.n == 1 && (strstr(r.v[0].fix, "PRIVATE") || strstr(r.v[0].detail, "PRIVATE")))
        report("zone line: a private key is printed");
    doctor_report_free(&r);
    free(nzone);

    /* an older key without its record: a warning only */
    dkim_keys = old_keys;
    const struct want older[] = {
        { "older", C_DKIM, "n.test", IP, z, DOCTOR_WARNING, "no longer signs", NULL, 0 },
    };
    run_table(older, NELEM(older));
    dkim_keys = broken;
    const struct want bad[] = {
        { "broken file", C_DKIM, "d.test", IP, z, DOCTOR_PROBLEM, "cannot be used: not a key",
          "postino dkim keygen d.test", 1 },
    };
    run_table(bad, NELEM(bad));
    ndkim_keys = 0;
    const struct want none[] = {
        { "no key", C_DKIM, "d.test", IP, z, DOCTOR_PROBLEM, "no DKIM key",
          "postino dkim keygen d.test", 1 },
    };
    run_table(none, NELEM(none));
    dkim_signing = false;
    const struct want off[] = {
        { "signing off", C_DKIM, "d.test", IP, z, DOCTOR_WARNING, "dkim_sign = no",
          "dkim_sign = yes", 0 },
    };
    run_table(off, NELEM(off));
    dkim_signing = true;
    dkim_keys = NULL;

    free(ok_line);
    free(other_line);
    free(zone);
    free(txt);
    free(otxt);
    dkim_key_free(k);
    dkim_key_free(other);
    assert_int_equal(failures, 0);
}

/* ---- local facts -------------------------------------------------------- */

static const struct doctor_env local_env = { HOST, IP, NULL, NULL, NULL, NOW };

static void
test_listeners(void **state)
{
    struct doctor_listener up[] = {
        { "listen_smtp", "0.0.0.0:25", 25, 0 },
        { "listen_submission", "0.0.0.0:587", 587, ECONNREFUSED },
    };
    struct doctor_listener down[] = {
        { "listen_smtp", "127.0.0.1:2525", 2525, ECONNREFUSED },
        { "listen_pop3", "127.0.0.1:2110", 2110, ECONNREFUSED },
    };
    struct doctor_report r = DOCTOR_REPORT_INIT;

    (void)state;
    failures = 0;
    doctor_check_listeners(&local_env, up, NELEM(up), false, &r);
    if (r.n != 2 || r.v[0].status != DOCTOR_OK || r.v[1].status != DOCTOR_PROBLEM ||
        !strstr(r.v[1].detail, "0.0.0.0:587 (listen_submission)") ||
        !strstr(r.v[1].fix, "listen_submission"))
        report("one closed: got %zu findings, want ok then a problem naming the key", r.n);
    doctor_report_free(&r);

    doctor_check_listeners(&local_env, down, NELEM(down), false, &r);
    if (r.n != 1 || r.v[0].status != DOCTOR_PROBLEM || !strstr(r.v[0].detail, "not running") ||
        !strstr(r.v[0].detail, "listen_smtp 127.0.0.1:2525, listen_pop3 127.0.0.1:2110"))
        report("all closed: got %zu findings, want one problem", r.n);
    doctor_report_free(&r);

    down[0].error = 0;
    doctor_check_listeners(&local_env, down, 1, false, &r);
    if (r.n != 1 || r.v[0].status != DOCTOR_WARNING || !strstr(r.v[0].fix, "port 25"))
        report("port 2525: got %zu findings, want a warning", r.n);
    doctor_report_free(&r);
    doctor_check_listeners(&local_env, down, 1, true, &r);
    if (r.n != 1 || r.v[0].status != DOCTOR_OK)
        report("port 2525 in the trial setup: want ok");
    doctor_report_free(&r);
    assert_int_equal(failures, 0);
}

static void
test_cert(void **state)
{
    static const struct {
        const char        *name;
        struct doctor_cert c;
        enum doctor_status st[3];
        size_t             n;
        const char        *detail;
    } cases[] = {
        { "good", { "/c.pem", false, NULL, false, true, HOST, NOW + 60 * 86400, NULL },
          { DOCTOR_OK }, 1, "certificate for " HOST ", valid until 2027-" },
        { "self-signed", { "/d/tls/cert.pem", true, NULL, true, true, HOST, NOW + 300 * 86400,
                           NULL }, { DOCTOR_WARNING }, 1, "is self-signed" },
        { "expiring", { "/c.pem", false, NULL, false, true, HOST, NOW + 5 * 86400, NULL },
          { DOCTOR_PROBLEM }, 1, "expires on 2027-01-" },
        { "expired", { "/c.pem", false, NULL, false, true, HOST, NOW - 86400, NULL },
          { DOCTOR_PROBLEM }, 1, "expired on" },
        { "other name", { "/c.pem", false, NULL, false, false, "www.example.test",
                          NOW + 60 * 86400, NULL }, { DOCTOR_PROBLEM }, 1,
          "is for www.example.test, not for " HOST },
        { "chain", { "/c.pem", false, NULL, false, true, HOST, NOW + 60 * 86400,
                     "unable to get local issuer certificate" }, { DOCTOR_PROBLEM }, 1,
          "does not verify: unable to get local issuer certificate" },
        { "unreadable", { "/c.pem", false, "No such file or directory", false, false, NULL, 0,
                          NULL }, { DOCTOR_PROBLEM }, 1, "cannot read the certificate" },
        { "not made yet", { "/d/tls/cert.pem", true, "No such file or directory", false, false,
                            NULL, 0, NULL }, { DOCTOR_WARNING }, 1, "no certificate yet" },
        { "self-signed, old name", { "/d/tls/cert.pem", true, NULL, true, false, "old.test",
                                     NOW + 300 * 86400, NULL },
          { DOCTOR_PROBLEM, DOCTOR_WARNING }, 2, "is for old.test" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct doctor_report r = DOCTOR_REPORT_INIT;

        doctor_check_cert(&local_env, &cases[i].c, &r);
        bool same = r.n == cases[i].n;
        for (size_t k = 0; same && k < r.n; k++)
            same = r.v[k].status == cases[i].st[k] &&
                   (r.v[k].status == DOCTOR_OK || (r.v[k].why && r.v[k].fix));
        char *all = render(&r);
        if (!same || !strstr(all, cases[i].detail))
            report("%s: got\n%swant %zu findings with \"%s\"", cases[i].name, all, cases[i].n,
                   cases[i].detail);
        free(all);
        doctor_report_free(&r);
    }
    assert_int_equal(failures, 0);
}

static void
test_queue(void **state)
{
    static const struct {
        const char         *name;
        struct doctor_queue q;
        enum doctor_status  st;
        const char         *detail;
        const char         *fix;
    } cases[] = {
        { "empty", { NULL, true, 0, 0, 0, NULL, 0, 432000 }, DOCTOR_OK, "empty", NULL },
        { "empty, stopped", { NULL, false, 0, 0, 0, NULL, 0, 432000 }, DOCTOR_OK,
          "empty (the server is not running)", NULL },
        { "young", { NULL, true, 3, 1, 600, NULL, 0, 432000 }, DOCTOR_OK,
          "3 messages waiting, the oldest for 10m", NULL },
        { "late", { NULL, true, 2, 2, 7300, "Connection refused", 3, 432000 }, DOCTOR_WARNING,
          "2 messages waiting, the oldest for 2h 1m, 2 deferred; most common reason (3 "
          "recipients): Connection refused", "postino queue flush" },
        { "old", { NULL, true, 1, 1, 2 * 86400 + 3600, NULL, 0, 432000 }, DOCTOR_PROBLEM,
          "the oldest for 2d 1h", "postino queue list" },
        { "old, stopped", { NULL, false, 1, 0, 90000, NULL, 0, 432000 }, DOCTOR_PROBLEM,
          "1 message waiting", "postino serve" },
        { "unreadable", { "Permission denied", false, 0, 0, 0, NULL, 0, 432000 },
          DOCTOR_WARNING, "could not read the queue: Permission denied", "root" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct doctor_report r = DOCTOR_REPORT_INIT;

        doctor_check_queue(&local_env, &cases[i].q, &r);
        if (r.n != 1 || r.v[0].status != cases[i].st || !strstr(r.v[0].detail, cases[i].detail)
            || (cases[i].fix && (!r.v[0].fix || !strstr(r.v[0].fix, cases[i].fix))))
            report("%s: got %s \"%s\" fix \"%s\", want %s \"%s\"", cases[i].name,
                   r.n ? doctor_status_name(r.v[0].status) : "nothing",
                   r.n ? r.v[0].detail : "", r.n ? showz(r.v[0].fix) : "",
                   doctor_status_name(cases[i].st), cases[i].detail);
        doctor_report_free(&r);
    }

    char *reasons[] = { "a", NULL, "b", "b", "a", "b" };
    size_t count = 0;
    const char *m = doctor_most_common(reasons, NELEM(reasons), &count);
    if (!m || strcmp(m, "b") != 0 || count != 3)
        report("most common: got %s (%zu), want b (3)", showz(m), count);
    char *tie[] = { "x", "y" };
    m = doctor_most_common(tie, 2, &count);
    if (!m || strcmp(m, "x") != 0 || count != 1)
        report("most common tie: got %s, want the first", showz(m));
    if (doctor_most_common(NULL, 0, &count) != NULL || count != 0)
        report("most common of nothing: want NULL");
    assert_int_equal(failures, 0);
}

static void
test_public_ip(void **state)
{
    struct doctor_report r = DOCTOR_REPORT_INIT;
    struct doctor_env none = local_env;

    (void)state;
    failures = 0;
    doctor_check_public_ip(&local_env, "public_ip", NULL, &r);
    doctor_check_public_ip(&local_env, "eth0", NULL, &r);
    none.public_ip = "";
    doctor_check_public_ip(&none, NULL, "192.168.1.5", &r);
    doctor_check_public_ip(&none, NULL, "", &r);
    if (r.n != 4 || r.v[0].status != DOCTOR_OK || !strstr(r.v[0].detail, "(public_ip)") ||
        !strstr(r.v[1].detail, "found on eth0") || r.v[2].status != DOCTOR_PROBLEM ||
        !strstr(r.v[2].detail, "only 192.168.1.5: it is behind NAT") ||
        !strstr(r.v[2].fix, "public_ip =") || r.v[3].status != DOCTOR_PROBLEM)
        report("public ip: got %zu findings, not the four wanted", r.n);
    doctor_report_free(&r);
    assert_int_equal(failures, 0);
}

/* ---- helpers ------------------------------------------------------------ */

static void
test_addresses(void **state)
{
    static const struct { const char *ip; bool global; } globals[] = {
        { "8.8.8.8", true }, { "203.0.113.5", false }, { "192.0.2.1", false },
        { "10.1.2.3", false }, { "172.16.0.1", false }, { "172.32.0.1", true },
        { "192.168.0.1", false }, { "127.0.0.5", false }, { "169.254.1.1", false },
        { "100.64.0.1", false }, { "100.128.0.1", true }, { "224.0.0.1", false },
        { "2a01:4f8::1", true }, { "2001:db8::1", false }, { "fd00::1", false },
        { "fe80::1", false }, { "::1", false }, { "::ffff:8.8.8.8", true }, { "nope", false },
    };
    static const struct { const char *ip; const char *want; } revs[] = {
        { "203.0.113.5", "5.113.0.203.in-addr.arpa" },
        { "::ffff:192.0.2.1", "1.2.0.192.in-addr.arpa" },
        { "2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
          ".ip6.arpa" },
        { "example.test", NULL },
    };
    char out[128];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(globals); i++)
        if (doctor_ip_global(globals[i].ip) != globals[i].global)
            report("ip_global(%s): got %d, want %d", globals[i].ip, !globals[i].global,
                   globals[i].global);
    for (size_t i = 0; i < NELEM(revs); i++) {
        bool ok = doctor_reverse_name(revs[i].ip, out, sizeof(out));
        if (ok != (revs[i].want != NULL) || (ok && strcmp(out, revs[i].want) != 0))
            report("reverse_name(%s): got %s, want %s", revs[i].ip, ok ? out : "false",
                   showz(revs[i].want));
    }
    if (doctor_reverse_name("2001:db8::1", out, 20))
        report("reverse_name: a short buffer must fail");
    if (!doctor_ip_equal("::ffff:127.0.0.5", "127.0.0.5") ||
        !doctor_ip_equal("2001:db8::1", "2001:0db8:0::1") ||
        doctor_ip_equal("127.0.0.5", "127.0.0.6") || doctor_ip_equal("x", "x"))
        report("ip_equal: wrong");
    assert_int_equal(failures, 0);
}

static void
test_records(void **state)
{
    static const struct { const char *txt; bool spf; } spfs[] = {
        { "v=spf1 -all", true }, { "v=spf1", true }, { "V=SPF1 mx", true },
        { "v=spf10 -all", false }, { "spf2.0/pra", false }, { "", false },
    };
    static const struct { const char *rec; const char *ip; const char *want; } withs[] = {
        { "v=spf1 mx -all", "192.0.2.1", "v=spf1 ip4:192.0.2.1 mx -all" },
        { "v=spf1  ~all", "2001:db8::1", "v=spf1 ip6:2001:db8::1 ~all" },
        { "v=spf1", "192.0.2.1", "v=spf1 ip4:192.0.2.1 -all" },
        { "v=spf1 mx -all", "", "v=spf1 mx -all" },
    };
    static const struct { const char *rec; const char *want; } noplus[] = {
        { "v=spf1 +all", "v=spf1 -all" }, { "v=spf1 mx all", "v=spf1 mx -all" },
        { "v=spf1 mx ~all", "v=spf1 mx ~all" }, { "v=spf1 +ALL", "v=spf1 -all" },
    };
    static const struct { const char *a, *b, *want; } merges[] = {
        { "v=spf1 mx ~all", "v=spf1 ip4:192.0.2.1 MX -all", "v=spf1 mx ip4:192.0.2.1 -all" },
        { "v=spf1 a ?all", "v=spf1 redirect=_spf.x.test", "v=spf1 a include:_spf.x.test ?all" },
        { "v=spf1 +all", "v=spf1 a", "v=spf1 a -all" },
    };
    char *s;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(spfs); i++)
        if (doctor_is_spf(spfs[i].txt) != spfs[i].spf)
            report("is_spf(%s): got %d", spfs[i].txt, !spfs[i].spf);
    for (size_t i = 0; i < NELEM(withs); i++) {
        s = doctor_spf_with_ip(withs[i].rec, withs[i].ip);
        if (strcmp(s, withs[i].want) != 0)
            report("with_ip(%s): got %s, want %s", withs[i].rec, s, withs[i].want);
        free(s);
    }
    for (size_t i = 0; i < NELEM(noplus); i++) {
        s = doctor_spf_without_pass_all(noplus[i].rec);
        if (strcmp(s, noplus[i].want) != 0)
            report("without_pass_all(%s): got %s, want %s", noplus[i].rec, s, noplus[i].want);
        free(s);
    }
    for (size_t i = 0; i < NELEM(merges); i++) {
        char *v[] = { (char *)merges[i].a, (char *)merges[i].b };
        s = doctor_spf_merge(v, 2);
        if (strcmp(s, merges[i].want) != 0)
            report("merge: got %s, want %s", s, merges[i].want);
        free(s);
    }
    s = doctor_spf_suggest("::ffff:192.0.2.7");
    if (strcmp(s, "v=spf1 ip4:192.0.2.7 -all") != 0)
        report("suggest(mapped): got %s", s);
    free(s);
    s = doctor_dmarc_suggest("d.test");
    if (strcmp(s, "v=DMARC1; p=quarantine; rua=mailto:postmaster@d.test") != 0)
        report("dmarc_suggest: got %s", s);
    free(s);

    s = doctor_txt_quoted("a \"q\" \\b");
    if (strcmp(s, "\"a \\\"q\\\" \\\\b\"") != 0)
        report("txt_quoted: got %s", s);
    free(s);
    s = doctor_txt_quoted("");
    if (strcmp(s, "\"\"") != 0)
        report("txt_quoted(\"\"): got %s", s);
    free(s);
    char long_value[600];
    memset(long_value, 'x', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    s = doctor_txt_quoted(long_value);
    /* 255 + 255 + 89: three strings */
    if (strlen(s) != 599 + 6 + 2 || s[256] != '"' || s[257] != ' ' || s[258] != '"')
        report("txt_quoted(599 octets): got %zu octets: %.300s", strlen(s), s);
    free(s);
    assert_int_equal(failures, 0);
}

/* ---- output ------------------------------------------------------------- */

static void
test_format(void **state)
{
    struct doctor_report r = DOCTOR_REPORT_INIT;
    struct buf b = BUF_INIT;
    struct doctor_finding *f;
    char err[128];

    (void)state;
    failures = 0;
    doctor_add(&r, DOCTOR_OK, "example.org", "MX", "mx.example.org (10)");
    f = doctor_add(&r, DOCTOR_PROBLEM, "example.org", "SPF", "no SPF record");
    doctor_why(f, "Receivers cannot tell your mail from forgeries.");
    doctor_fix(f, "Publish: example.org. TXT \"v=spf1 ip4:203.0.113.5 -all\"");
    doctor_add(&r, DOCTOR_WARNING, "mx.example.org", "TLS", "bad \x1b[31m\xc3\xa9 text");
    doctor_format_text(&r, &b);
    static const char want[] =
        "example.org     MX     ok       mx.example.org (10)\n"
        "example.org     SPF    problem  no SPF record. Receivers cannot tell your mail from "
        "forgeries. Publish: example.org. TXT \"v=spf1 ip4:203.0.113.5 -all\"\n"
        "mx.example.org  TLS    warning  bad \\x1b[31m\\xc3\\xa9 text\n";
    if (strcmp(buf_cstr(&b), want) != 0)
        report("text: got\n%swant\n%s", buf_cstr(&b), want);
    buf_reset(&b);

    doctor_format_json(&r, "mx.example.org", "", &b);
    struct json *j = json_parse(b.data, b.len - 1, err, sizeof(err));
    if (!j) {
        report("json: %s in %s", err, b.data);
    } else {
        const struct json *checks = json_get(j, "checks");
        const struct json *p = json_get(j, "problems"), *w = json_get(j, "warnings");
        const struct json *ip = json_get(j, "public_ip");
        if (!checks || checks->len != 3 || !p || p->integer != 1 || !w || w->integer != 1 ||
            !ip || ip->type != JSON_NULL)
            report("json: wrong counts in %s", b.data);
        else if (strcmp(json_get(&checks->items[1], "status")->str, "problem") != 0 ||
                 json_get(&checks->items[0], "fix")->type != JSON_NULL ||
                 !strstr(json_get(&checks->items[1], "fix")->str, "v=spf1"))
            report("json: wrong checks in %s", b.data);
    }
    json_free(j);
    if (doctor_count(&r, DOCTOR_OK) != 1 || strcmp(doctor_status_name(DOCTOR_WARNING), "warning"))
        report("count or names wrong");

    struct doctor_report more = DOCTOR_REPORT_INIT;
    doctor_add(&more, DOCTOR_OK, "a", "B", "c");
    doctor_report_take(&r, &more);
    if (r.n != 4 || more.n != 0 || more.v != NULL)
        report("take: got %zu and %zu", r.n, more.n);
    doctor_report_free(&r);
    doctor_report_free(&r);         /* harmless twice */
    buf_free(&b);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mx),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_spf),
        cmocka_unit_test(test_dmarc),
        cmocka_unit_test(test_dnsbl),
        cmocka_unit_test(test_dkim),
        cmocka_unit_test(test_listeners),
        cmocka_unit_test(test_cert),
        cmocka_unit_test(test_queue),
        cmocka_unit_test(test_public_ip),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_format),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
