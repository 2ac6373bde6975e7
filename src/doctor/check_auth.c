/*
 * check_auth - the doctor's checks of what lets receivers trust a
 * domain's mail: SPF (RFC 7208, evaluated with spf_eval), DKIM key
 * records (RFC 6376, against the key files), DMARC (RFC 7489, discovered
 * with dmarc_discover); and the records it suggests. Restartable over the
 * answer provider (doctor.h).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dkim/dkim.h"
#include "dmarc/dmarc.h"
#include "doctor/doctor.h"
#include "spf/spf.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define TXT_STRING_MAX 255      /* octets of one TXT character-string (RFC 1035 3.3) */
#define SPF_RECORDS_MAX 16      /* SPF records of one name looked at */

/* ---- records to suggest ---------------------------------------------- */

bool
doctor_is_spf(const char *txt)
{
    /* RFC 7208 4.5: "v=spf1", then a space or the end ("v=spf10" is not) */
    return strncasecmp(txt, "v=spf1", 6) == 0 && (txt[6] == ' ' || txt[6] == '\0');
}

/* ip_term - "ip4:IP" or "ip6:IP" for ip; "" when ip is no address */
static void
ip_term(const char *ip, char *out, size_t outlen)
{
    unsigned char b[16];

    out[0] = '\0';
    if (ip == NULL || ip[0] == '\0')
        return;
    if (inet_pton(AF_INET, ip, b) == 1)
        snprintf(out, outlen, "ip4:%s", ip);
    else if (inet_pton(AF_INET6, ip, b) == 1) {
        static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        char t[INET_ADDRSTRLEN];

        if (memcmp(b, mapped, sizeof(mapped)) == 0 && inet_ntop(AF_INET, b + 12, t, sizeof(t)))
            snprintf(out, outlen, "ip4:%s", t);
        else
            snprintf(out, outlen, "ip6:%s", ip);
    }
}

char *
doctor_spf_suggest(const char *ip)
{
    char term[80];

    ip_term(ip, term, sizeof(term));
    if (term[0] == '\0')
        return xstrdup("v=spf1 mx -all");
    return xasprintf("v=spf1 %s -all", term);
}

char *
doctor_spf_with_ip(const char *record, const char *ip)
{
    char term[80];
    const char *rest = doctor_is_spf(record) ? record + 6 : "";

    ip_term(ip, term, sizeof(term));
    rest += strspn(rest, " ");
    if (term[0] == '\0')
        return xstrdup(record);
    if (rest[0] == '\0')
        return xasprintf("v=spf1 %s -all", term);
    return xasprintf("v=spf1 %s %s", term, rest);
}

/* is_all - the term t[0..n) is an "all" mechanism, with any qualifier */
static bool
is_all(const char *t, size_t n)
{
    if (n == 4 && strchr("+-~?", t[0]))
        t++, n--;
    return n == 3 && strncasecmp(t, "all", 3) == 0;
}

char *
doctor_spf_merge(char *const *records, size_t n)
{
    static const char *const alls[] = { "-all", "?all", "~all", "-all" };
    struct buf out = BUF_INIT;
    int all_rank = 0;
    char **seen = NULL;
    size_t nseen = 0;

    buf_puts(&out, "v=spf1");
    for (size_t r = 0; r < n; r++) {
        const char *p = doctor_is_spf(records[r]) ? records[r] + 6 : records[r];

        for (;;) {
            p += strspn(p, " ");
            if (*p == '\0')
                break;
            size_t len = strcspn(p, " ");
            char *term;

            if (is_all(p, len)) {
                /* keep the strictest: -all, then ~all, then ?all; never +all */
                int rank = len == 4 ? (int)(strchr("+?~-", p[0]) - "+?~-") : 0;
                if (rank > all_rank)
                    all_rank = rank;
                p += len;
                continue;
            }
            if (len > 9 && strncasecmp(p, "redirect=", 9) == 0)
                term = xasprintf("include:%.*s", (int)(len - 9), p + 9);   /* the same hosts */
            else
                term = xstrndup(p, len);
            bool dup = false;
            for (size_t i = 0; i < nseen && !dup; i++)
                dup = strcasecmp(seen[i], term) == 0;
            if (dup) {
                free(term);
            } else {
                buf_printf(&out, " %s", term);
                seen = xreallocarray(seen, nseen + 1, sizeof(*seen));
                seen[nseen++] = term;
            }
            p += len;
        }
    }
    buf_printf(&out, " %s", alls[all_rank]);
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
    free(seen);
    return buf_steal(&out);
}

char *
doctor_spf_without_pass_all(const char *record)
{
    struct buf out = BUF_INIT;
    const char *p = record;

    while (*p) {
        size_t sp = strspn(p, " ");
        buf_append(&out, p, sp);
        p += sp;
        size_t len = strcspn(p, " ");
        if ((len == 3 && strncasecmp(p, "all", 3) == 0) ||
            (len == 4 && strncasecmp(p, "+all", 4) == 0))
            buf_puts(&out, "-all");
        else
            buf_append(&out, p, len);
        p += len;
    }
    if (out.data == NULL)
        return xstrdup("");
    return buf_steal(&out);
}

char *
doctor_txt_quoted(const char *value)
{
    struct buf out = BUF_INIT;
    size_t len = strlen(value), off = 0;

    do {
        size_t piece = len - off < TXT_STRING_MAX ? len - off : TXT_STRING_MAX;

        if (off)
            buf_putc(&out, ' ');
        buf_putc(&out, '"');
        for (size_t i = 0; i < piece; i++) {
            char c = value[off + i];
            if (c == '"' || c == '\\')
                buf_putc(&out, '\\');
            buf_putc(&out, c);
        }
        buf_putc(&out, '"');
        off += piece;
    } while (off < len);
    return buf_steal(&out);
}

char *
doctor_dmarc_suggest(const char *domain)
{
    return xasprintf("v=DMARC1; p=quarantine; rua=mailto:postmaster@%s", domain);
}

/* ---- SPF --------------------------------------------------------------- */

static int
text_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * What spf_eval() asks through: the doctor's provider, except that with
 * "only" set the TXT records of domain are that one record (to try a
 * record that is not published, or one of several).
 */
struct spf_glue {
    const struct doctor_env *env;
    const char              *domain;
    const char              *only;
};

/* spf_provider - spf_eval's answers, from the doctor's provider */
static bool
spf_provider(void *arg, enum spf_rrtype type, const char *name, struct spf_answer *ans)
{
    const struct spf_glue *g = arg;
    const struct doctor_env *env = g->env;
    struct doctor_answer a;
    enum doctor_qtype q;

    if (g->only && type == SPF_RR_TXT && strcasecmp(name, g->domain) == 0) {
        memset(ans, 0, sizeof(*ans));
        ans->status = SPF_DNS_OK;
        ans->n = 1;
        ans->text = &g->only;
        return true;
    }

    switch (type) {
    case SPF_RR_TXT: q = DOCTOR_Q_TXT; break;
    case SPF_RR_MX:  q = DOCTOR_Q_MX; break;
    case SPF_RR_PTR: q = DOCTOR_Q_PTR; break;
    default:         q = DOCTOR_Q_ADDR; break;
    }
    if (!env->lookup(env->arg, q, name, &a))
        return false;
    memset(ans, 0, sizeof(*ans));
    switch (a.status) {
    case DOCTOR_DNS_OK:       ans->status = SPF_DNS_OK; break;
    case DOCTOR_DNS_NODATA:   ans->status = SPF_DNS_NODATA; break;
    case DOCTOR_DNS_NXDOMAIN: ans->status = SPF_DNS_NXDOMAIN; break;
    default:                  ans->status = SPF_DNS_TEMPFAIL; break;
    }
    if (a.status != DOCTOR_DNS_OK)
        return true;
    if (type == SPF_RR_A || type == SPF_RR_AAAA) {
        /* one ADDR answer holds both families: one without records has none */
        ans->n = type == SPF_RR_A ? a.n4 : a.n6;
        ans->addr = type == SPF_RR_A ? a.a4 : a.a6;
        if (ans->n == 0)
            ans->status = SPF_DNS_NODATA;
    } else {
        ans->n = a.n;
        ans->text = (const char *const *)a.text;
    }
    return true;
}

/* spf_run - one spf_eval; false after noting every answer it still needs */
static bool
spf_run(const struct doctor_env *env, const char *domain, const char *only, const char *ip,
        struct spf_outcome *o)
{
    struct spf_glue g = { env, domain, only };
    char sender[SPF_NAME_MAX + 20];
    struct spf_request rq = {
        .ip = ip, .sender = sender, .helo = env->hostname, .domain = domain,
        .receiver = env->hostname, .now = (int64_t)env->now,
    };
    struct spf_answer sa;

    snprintf(sender, sizeof(sender), "postmaster@%s", domain);
    if (spf_eval(&rq, spf_provider, &g, o))
        return true;
    /* The first need was asked already; ask the others now, all at once. */
    for (size_t i = 1; i < o->nneed; i++)
        (void)spf_provider(&g, o->need[i].type, o->need[i].name, &sa);
    return false;
}

/* spf_broken - the finding for a record receivers cannot use */
static void
spf_broken(const struct doctor_env *env, const char *domain, const char *reason,
           struct doctor_report *out)
{
    struct doctor_finding *f;
    char *sug = doctor_spf_suggest(env->public_ip);
    char *q = doctor_txt_quoted(sug);

    if (strstr(reason, "DNS lookups")) {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF",
                       "the SPF record needs more than 10 DNS lookups");
        doctor_why(f, "Receivers stop at 10 (RFC 7208 4.6.4) and take the record as broken "
                   "(permerror): your mail fails SPF.");
        doctor_fix(f, "Cut the include:, a, mx, ptr and exists: terms: drop services you no "
                   "longer use, or write the ip4:/ip6: ranges they stand for. For this server "
                   "alone, publish: %s. TXT %s", domain, q);
    } else if (strstr(reason, "void lookups")) {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF",
                       "the SPF record names more than 2 names that do not exist");
        doctor_why(f, "Receivers take the record as broken (permerror, RFC 7208 4.6.4): your "
                   "mail fails SPF.");
        doctor_fix(f, "Remove the include:, a and mx terms whose names do not exist. For this "
                   "server alone, publish: %s. TXT %s", domain, q);
    } else {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF", "the SPF record is broken: %s",
                       reason);
        doctor_why(f, "Receivers take it as a permanent error (permerror): your mail fails SPF.");
        doctor_fix(f, "Correct it; for this server alone, publish: %s. TXT %s", domain, q);
    }
    free(q);
    free(sug);
}

bool
doctor_check_spf(const struct doctor_env *env, const char *domain, struct doctor_report *out)
{
    struct doctor_answer txt;
    struct doctor_finding *f;
    struct spf_outcome stranger, mine;
    char *recs[SPF_RECORDS_MAX];
    size_t n = 0;
    bool ip = env->public_ip && env->public_ip[0];

    memset(&stranger, 0, sizeof(stranger));
    memset(&mine, 0, sizeof(mine));
    if (!env->lookup(env->arg, DOCTOR_Q_TXT, domain, &txt))
        return false;
    if (txt.status == DOCTOR_DNS_TEMPFAIL) {
        f = doctor_add(out, DOCTOR_WARNING, domain, "SPF", "could not look up the TXT records "
                       "of %s%s%s%s", domain, txt.why ? " (" : "", txt.why ? txt.why : "",
                       txt.why ? ")" : "");
        doctor_why(f, "The DNS did not answer now, so SPF was not checked; receivers meeting "
                   "the same failure defer your mail.");
        doctor_fix(f, "Run postino doctor again in a while; if it stays, check the domain's "
                   "name servers (dig TXT %s).", domain);
        return true;
    }
    for (size_t i = 0; txt.status == DOCTOR_DNS_OK && i < txt.n; i++)
        if (doctor_is_spf(txt.text[i]) && n < SPF_RECORDS_MAX)
            recs[n++] = txt.text[i];
    if (n == 0) {
        char *sug = doctor_spf_suggest(env->public_ip);
        char *q = doctor_txt_quoted(sug);
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF", "no SPF record");
        doctor_why(f, "Receivers cannot tell your mail from forgeries, and Gmail and others "
                   "junk or refuse mail that no SPF or DKIM vouches for.");
        doctor_fix(f, "Publish: %s. TXT %s", domain, q);
        free(q);
        free(sug);
        return true;
    }
    if (n > 1) {
        /* the DNS gives records in any order: the same fix every time */
        qsort(recs, n, sizeof(recs[0]), text_cmp);
        /* does one of them let this server through? else the fix must */
        bool passes = false, done = true;
        for (size_t i = 0; ip && i < n; i++) {
            if (spf_run(env, domain, recs[i], env->public_ip, &mine))
                passes |= mine.result == SPF_PASS;
            else
                done = false;
        }
        if (!done)
            return false;
        char *merged = doctor_spf_merge(recs, n);
        if (ip && !passes) {
            char *with = doctor_spf_with_ip(merged, env->public_ip);
            free(merged);
            merged = with;
        }
        char *q = doctor_txt_quoted(merged);
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF", "%zu SPF records (v=spf1), where "
                       "one is allowed", n);
        doctor_why(f, "Receivers take two records as a permanent error (RFC 7208 4.5): your "
                   "mail fails SPF.");
        doctor_fix(f, "Replace them with one: %s. TXT %s", domain, q);
        free(q);
        free(merged);
        return true;
    }

    bool done = spf_run(env, domain, NULL, DOCTOR_SPF_STRANGER, &stranger);
    if (ip)
        done &= spf_run(env, domain, NULL, env->public_ip, &mine);
    if (!done)
        return false;
    if (stranger.result == SPF_PERMERROR) {
        spf_broken(env, domain, stranger.mechanism, out);
        return true;
    }
    if (ip && mine.result == SPF_PERMERROR) {
        spf_broken(env, domain, mine.mechanism, out);
        return true;
    }
    unsigned terms = stranger.terms;
    if (ip && mine.terms > terms)
        terms = mine.terms;

    if (!ip) {
        f = doctor_add(out, DOCTOR_WARNING, domain, "SPF", "%s (%u of 10 DNS lookups; not "
                       "checked against this server: its public address is unknown)", recs[0],
                       terms);
        doctor_why(f, "Receivers check the record against the address they see.");
        doctor_fix(f, "Set public_ip to the address other servers see.");
    } else if (mine.result == SPF_PASS) {
        doctor_add(out, DOCTOR_OK, domain, "SPF", "%s (passes %s by %s; %u of 10 DNS lookups)",
                   recs[0], env->public_ip, mine.mechanism, terms);
    } else if (mine.result == SPF_TEMPERROR) {
        f = doctor_add(out, DOCTOR_WARNING, domain, "SPF", "%s: could not be evaluated for %s "
                       "(%s)", recs[0], env->public_ip, mine.mechanism);
        doctor_why(f, "A name it needs did not answer; receivers meeting the same failure "
                   "defer your mail.");
        doctor_fix(f, "Run postino doctor again in a while; if it stays, check the names the "
                   "record includes.");
    } else {
        char *fixed = doctor_spf_with_ip(recs[0], env->public_ip);
        char *q = doctor_txt_quoted(fixed);
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF", "%s does not authorise this "
                       "server's address %s (%s by %s)", recs[0], env->public_ip,
                       spf_result_name(mine.result), mine.mechanism);
        doctor_why(f, "Receivers see spf=%s for mail from this server and junk or refuse it.",
                   spf_result_name(mine.result));
        doctor_fix(f, "Publish instead: %s. TXT %s", domain, q);
        free(q);
        free(fixed);
    }

    if (stranger.result == SPF_PASS) {
        bool top_all = strcasecmp(stranger.mechanism, "+all") == 0 ||
                       strcasecmp(stranger.mechanism, "all") == 0;
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "SPF", "the SPF record lets every address "
                       "send as %s (%s)", domain, stranger.mechanism);
        doctor_why(f, "Anyone can forge mail from %s and it passes SPF; receivers distrust "
                   "such a record.", domain);
        if (top_all) {
            /* when only the "all" let this server through, list it by name */
            bool need_ip = ip && (mine.result != SPF_PASS ||
                                  strcasecmp(mine.mechanism, stranger.mechanism) == 0);
            char *fixed = doctor_spf_without_pass_all(recs[0]);
            char *with = need_ip ? doctor_spf_with_ip(fixed, env->public_ip) : xstrdup(fixed);
            char *q = doctor_txt_quoted(with);
            doctor_fix(f, "Publish instead: %s. TXT %s", domain, q);
            free(q);
            free(with);
            free(fixed);
        } else {
            doctor_fix(f, "Remove or narrow \"%s\": it matches every address.",
                       stranger.mechanism);
        }
    } else if (stranger.result == SPF_NEUTRAL) {
        f = doctor_add(out, DOCTOR_WARNING, domain, "SPF", "mail from addresses the record "
                       "does not list is neutral (%s)", stranger.mechanism);
        doctor_why(f, "Receivers cannot tell forgeries of %s from your mail by SPF.", domain);
        doctor_fix(f, "End the record with -all (or ~all while you test).");
    }
    return true;
}

/* ---- DMARC ------------------------------------------------------------- */

/* dmarc_provider - dmarc_discover's answers, from the doctor's provider */
static bool
dmarc_provider(void *arg, const char *name, struct dmarc_answer *ans)
{
    const struct doctor_env *env = arg;
    struct doctor_answer a;

    if (!env->lookup(env->arg, DOCTOR_Q_TXT, name, &a))
        return false;
    memset(ans, 0, sizeof(*ans));
    switch (a.status) {
    case DOCTOR_DNS_OK:       ans->status = DMARC_DNS_OK; break;
    case DOCTOR_DNS_NODATA:   ans->status = DMARC_DNS_NODATA; break;
    case DOCTOR_DNS_NXDOMAIN: ans->status = DMARC_DNS_NXDOMAIN; break;
    default:                  ans->status = DMARC_DNS_TEMPFAIL; break;
    }
    if (a.status == DOCTOR_DNS_OK) {
        ans->txt = a.text;
        ans->n = a.n;
    }
    return true;
}

/* dmarc_text - the first v=DMARC1 record at name (known already), or "" */
static const char *
dmarc_text(const struct doctor_env *env, const char *name)
{
    struct doctor_answer a;

    if (!env->lookup(env->arg, DOCTOR_Q_TXT, name, &a) || a.status != DOCTOR_DNS_OK)
        return "";
    for (size_t i = 0; i < a.n; i++)
        if (strncasecmp(a.text[i], "v=DMARC1", 8) == 0)
            return a.text[i];
    return "";
}

bool
doctor_check_dmarc(const struct doctor_env *env, const char *domain, struct doctor_report *out)
{
    struct dmarc_discovery d;
    struct doctor_finding *f;
    char name[DMARC_NAME_MAX];
    char *sug = doctor_dmarc_suggest(domain), *q = doctor_txt_quoted(sug);

    if (dmarc_discover(env->psl, domain, dmarc_provider, (void *)env, &d) != DMARC_DONE) {
        free(q);
        free(sug);
        return false;
    }
    snprintf(name, sizeof(name), "_dmarc.%s", d.at_org ? d.org_domain : domain);
    switch (d.found) {
    case DMARC_FOUND_TEMPFAIL:
        f = doctor_add(out, DOCTOR_WARNING, domain, "DMARC", "could not look up %s", name);
        doctor_why(f, "The DNS did not answer now, so DMARC was not checked.");
        doctor_fix(f, "Run postino doctor again in a while; if it stays, check the domain's "
                   "name servers (dig TXT _dmarc.%s).", domain);
        break;
    case DMARC_FOUND_NONE:
        if (d.nrecords > 1) {
            f = doctor_add(out, DOCTOR_PROBLEM, domain, "DMARC", "%zu DMARC records at %s, "
                           "where one is allowed", d.nrecords, name);
            doctor_why(f, "Receivers ignore them all (RFC 7489 6.6.3), as if there were none.");
            doctor_fix(f, "Keep one: %s. TXT %s", name, q);
            break;
        }
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "DMARC", "no DMARC record");
        doctor_why(f, "Receivers do not know what to do with mail that fails SPF and DKIM, so "
                   "forgeries of %s get through, and Gmail and Yahoo junk mail from domains "
                   "without DMARC.", domain);
        doctor_fix(f, "Publish: _dmarc.%s. TXT %s (reports come to postmaster@%s; start with "
                   "p=none if other services send mail as %s)", domain, q, domain, domain);
        break;
    case DMARC_FOUND_INVALID:
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "DMARC", "the DMARC record at %s has no "
                       "valid policy (p=): %s", name, dmarc_text(env, name));
        doctor_why(f, "Receivers ignore it, as if there were none.");
        doctor_fix(f, "Publish instead: %s. TXT %s", name, q);
        break;
    case DMARC_FOUND_RECORD: {
        bool sub = d.at_org && strcasecmp(d.org_domain, domain) != 0;
        enum dmarc_policy p = sub ? d.rec.sp : d.rec.p;
        const char *rec = dmarc_text(env, name);
        char where[DMARC_NAME_MAX + 40] = "";

        if (d.at_org)
            snprintf(where, sizeof(where), " (at %s)", name);
        if (p == DMARC_POLICY_NONE) {
            f = doctor_add(out, DOCTOR_WARNING, domain, "DMARC", "%s%s: policy none%s", rec,
                           where, d.none_by_rua ? " (no valid p=)" : "");
            doctor_why(f, "p=none only asks for reports: receivers still deliver forgeries "
                       "of %s.", domain);
            if (d.rec.rua_valid)
                doctor_fix(f, "When the aggregate reports (rua=) show your own mail passing "
                           "SPF or DKIM, move on to p=quarantine, later p=reject: %s. TXT %s",
                           name, q);
            else
                doctor_fix(f, "Add rua=mailto:postmaster@%s to get reports; when they show "
                           "your own mail passing, move on to: %s. TXT %s", domain, name, q);
        } else if (d.rec.pct < 100) {
            f = doctor_add(out, DOCTOR_WARNING, domain, "DMARC", "%s%s: policy %s for %u%% of "
                           "the failing mail only", rec, where, dmarc_policy_name(p), d.rec.pct);
            doctor_why(f, "The rest of the forgeries of %s are delivered.", domain);
            doctor_fix(f, "When the reports show your own mail passing, remove pct=.");
        } else {
            doctor_add(out, DOCTOR_OK, domain, "DMARC", "%s%s: policy %s", rec, where,
                       dmarc_policy_name(p));
        }
        break;
    }
    }
    free(q);
    free(sug);
    return true;
}

/* ---- DKIM -------------------------------------------------------------- */

/* looks_dkim - txt is meant as a DKIM key record (it has a p= tag) */
static bool
looks_dkim(const char *txt)
{
    return strncasecmp(txt, "v=DKIM1", 7) == 0 || strstr(txt, "p=") != NULL;
}

bool
doctor_check_dkim(const struct doctor_env *env, const char *domain,
                  const struct doctor_dkim_key *keys, size_t nkeys, bool signing,
                  struct doctor_report *out)
{
    struct doctor_finding *f;
    struct doctor_answer *ans;
    bool complete = true;

    if (!signing) {
        f = doctor_add(out, DOCTOR_WARNING, domain, "DKIM", "signing is off (dkim_sign = no)");
        doctor_why(f, "Mail from %s goes out unsigned; Gmail, Yahoo and Microsoft junk or "
                   "refuse unsigned mail from bulk senders, and DMARC needs DKIM to survive "
                   "forwarding.", domain);
        doctor_fix(f, "Set dkim_sign = yes%s.", nkeys ? "" : " and run: postino dkim keygen");
        return true;
    }
    if (nkeys == 0) {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "DKIM", "no DKIM key: mail from %s goes "
                       "out unsigned", domain);
        doctor_why(f, "Gmail, Yahoo and Microsoft junk or refuse unsigned mail, and DMARC "
                   "needs DKIM to survive forwarding.");
        doctor_fix(f, "Run: postino dkim keygen %s, and publish the record it prints.", domain);
        return true;
    }
    ans = xcalloc(nkeys, sizeof(*ans));
    for (size_t i = 0; i < nkeys; i++) {
        char name[DKIM_NAME_MAX * 2 + 16];

        if (keys[i].key == NULL)
            continue;
        snprintf(name, sizeof(name), "%s._domainkey.%s", keys[i].selector, domain);
        complete &= env->lookup(env->arg, DOCTOR_Q_TXT, name, &ans[i]);
    }
    if (!complete) {
        free(ans);
        return false;
    }
    for (size_t i = 0; i < nkeys; i++) {
        const struct doctor_dkim_key *k = &keys[i];
        enum doctor_status bad = k->newest ? DOCTOR_PROBLEM : DOCTOR_WARNING;
        const char *older = k->newest ? "" : " (an older key, which no longer signs)";
        char name[DKIM_NAME_MAX * 2 + 16];

        snprintf(name, sizeof(name), "%s._domainkey.%s", k->selector, domain);
        if (k->key == NULL) {
            f = doctor_add(out, bad, domain, "DKIM", "the key file %s cannot be used: %s%s",
                           k->path, k->error ? k->error : "unknown error", older);
            doctor_why(f, "Mail from %s goes out without this signature.", domain);
            doctor_fix(f, "Make a new key: postino dkim keygen %s, publish the record it "
                       "prints, and move the broken file away.", domain);
            continue;
        }
        if (ans[i].status == DOCTOR_DNS_TEMPFAIL) {
            f = doctor_add(out, DOCTOR_WARNING, domain, "DKIM", "could not look up %s%s%s%s",
                           name, ans[i].why ? " (" : "", ans[i].why ? ans[i].why : "",
                           ans[i].why ? ")" : "");
            doctor_why(f, "The DNS did not answer now, so this key was not checked.");
            doctor_fix(f, "Run postino doctor again in a while.");
            continue;
        }
        bool match = false, other = false;
        for (size_t j = 0; ans[i].status == DOCTOR_DNS_OK && j < ans[i].n; j++) {
            if (dkim_key_matches_record(k->key, ans[i].text[j]))
                match = true;
            else if (looks_dkim(ans[i].text[j]))
                other = true;
        }
        enum dkim_alg alg = dkim_key_alg(k->key);
        if (match) {
            doctor_add(out, DOCTOR_OK, domain, "DKIM", "%s (%s %u bits%s) published at %s",
                       k->selector, dkim_key_type(alg), dkim_key_bits(k->key),
                       k->newest ? ", signs" : ", older", name);
            continue;
        }
        char *txt = dkim_key_txt(k->key);
        char *zone = txt ? dkim_zone_line(k->selector, domain, txt) : NULL;
        if (other) {
            f = doctor_add(out, bad, domain, "DKIM", "the record at %s holds another key than "
                           "%s%s", name, k->path, older);
            doctor_why(f, "Receivers check the signatures with the published key: they fail "
                       "(dkim=fail) and your mail looks forged.");
            doctor_fix(f, "Replace the record with: %s", zone ? zone : "(cannot make it)");
        } else {
            f = doctor_add(out, bad, domain, "DKIM", "key %s has no record at %s%s",
                           k->selector, name, older);
            doctor_why(f, "Receivers cannot check the signatures (dkim=permerror, no key): "
                       "your mail counts as unsigned and may land in spam.");
            doctor_fix(f, "Publish: %s", zone ? zone : "(cannot make it)");
        }
        free(zone);
        free(txt);
    }
    free(ans);
    return true;
}
