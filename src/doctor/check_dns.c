/*
 * check_dns - the doctor's checks of where mail goes and who this server
 * is: MX records, hostname, reverse DNS, DNS blocklists; and the address
 * helpers they share. Restartable over the answer provider (doctor.h).
 *
 * It does not look anything up itself and does not decide the output.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "doctor/doctor.h"
#include "policy/dnsbl.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define PTR_NAMES_MAX   10      /* PTR names looked at, as SPF's ptr (RFC 7208 4.6.4) */
#define MX_HOSTS_MAX    20      /* MX hosts looked at */

/* ---- addresses --------------------------------------------------------- */

/*
 * parse_ip - ip as 4 (IPv4, also from an IPv4-mapped IPv6 address) or 16
 * octets into bin; the length, or 0 when ip is no address.
 */
static size_t
parse_ip(const char *ip, unsigned char bin[16])
{
    static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

    if (ip == NULL)
        return 0;
    if (inet_pton(AF_INET, ip, bin) == 1)
        return 4;
    if (inet_pton(AF_INET6, ip, bin) != 1)
        return 0;
    if (memcmp(bin, mapped, sizeof(mapped)) == 0) {
        memmove(bin, bin + 12, 4);
        return 4;
    }
    return 16;
}

bool
doctor_ip_equal(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    size_t n = parse_ip(a, x);

    return n != 0 && parse_ip(b, y) == n && memcmp(x, y, n) == 0;
}

/* in_net4 - the IPv4 address b is in net/bits */
static bool
in_net4(const unsigned char *b, unsigned a0, unsigned a1, unsigned a2, unsigned bits)
{
    unsigned long addr = (unsigned long)b[0] << 24 | (unsigned long)b[1] << 16 |
                         (unsigned long)b[2] << 8 | b[3];
    unsigned long net = (unsigned long)a0 << 24 | (unsigned long)a1 << 16 |
                        (unsigned long)a2 << 8;
    unsigned long mask = bits ? 0xffffffffUL << (32 - bits) & 0xffffffffUL : 0;

    return (addr & mask) == (net & mask);
}

bool
doctor_ip_global(const char *ip)
{
    static const struct { unsigned a0, a1, a2, bits; } special[] = {
        { 0, 0, 0, 8 }, { 10, 0, 0, 8 }, { 100, 64, 0, 10 }, { 127, 0, 0, 8 },
        { 169, 254, 0, 16 }, { 172, 16, 0, 12 }, { 192, 0, 0, 24 }, { 192, 0, 2, 24 },
        { 192, 168, 0, 16 }, { 198, 18, 0, 15 }, { 198, 51, 100, 24 }, { 203, 0, 113, 24 },
        { 224, 0, 0, 4 }, { 240, 0, 0, 4 },
    };
    unsigned char b[16];
    size_t n = parse_ip(ip, b);

    if (n == 4) {
        for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
            if (in_net4(b, special[i].a0, special[i].a1, special[i].a2, special[i].bits))
                return false;
        return true;
    }
    if (n == 16) {
        /* 2000::/3 is the global unicast space; 2001:db8::/32 is for documentation */
        if ((b[0] & 0xe0) != 0x20)
            return false;
        return !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);
    }
    return false;
}

bool
doctor_reverse_name(const char *ip, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    size_t n = parse_ip(ip, b);
    struct buf s = BUF_INIT;
    bool ok;

    if (outlen)
        out[0] = '\0';
    if (n == 4) {
        buf_printf(&s, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
    } else if (n == 16) {
        for (size_t i = 16; i-- > 0;)
            buf_printf(&s, "%c.%c.", hex[b[i] & 15], hex[b[i] >> 4]);
        buf_puts(&s, "ip6.arpa");
    } else {
        return false;
    }
    ok = s.len < outlen;
    if (ok)
        memcpy(out, s.data, s.len + 1);
    buf_free(&s);
    return ok;
}

/* has_ip - the ADDR answer a holds ip */
static bool
has_ip(const struct doctor_answer *a, const char *ip)
{
    unsigned char b[16];
    size_t n = parse_ip(ip, b);

    if (a->status != DOCTOR_DNS_OK)
        return false;
    if (n == 4) {
        for (size_t i = 0; i < a->n4; i++)
            if (memcmp(a->a4 + 4 * i, b, 4) == 0)
                return true;
    } else if (n == 16) {
        for (size_t i = 0; i < a->n6; i++)
            if (memcmp(a->a6 + 16 * i, b, 16) == 0)
                return true;
    }
    return false;
}

/* naddr - the addresses of an ADDR answer */
static size_t
naddr(const struct doctor_answer *a)
{
    return a->status == DOCTOR_DNS_OK ? a->n4 + a->n6 : 0;
}

/* addr_list - the addresses of an ADDR answer as "192.0.2.1, 2001:db8::1" (a new string) */
static char *
addr_list(const struct doctor_answer *a)
{
    struct buf s = BUF_INIT;
    char t[INET6_ADDRSTRLEN];

    for (size_t i = 0; a->status == DOCTOR_DNS_OK && i < a->n4; i++) {
        inet_ntop(AF_INET, a->a4 + 4 * i, t, sizeof(t));
        buf_printf(&s, "%s%s", s.len ? ", " : "", t);
    }
    for (size_t i = 0; a->status == DOCTOR_DNS_OK && i < a->n6; i++) {
        inet_ntop(AF_INET6, a->a6 + 16 * i, t, sizeof(t));
        buf_printf(&s, "%s%s", s.len ? ", " : "", t);
    }
    if (s.data == NULL)
        return xstrdup("");
    return buf_steal(&s);
}

/* rr_of - "A" or "AAAA": the record type that holds ip */
static const char *
rr_of(const char *ip)
{
    unsigned char b[16];

    return parse_ip(ip, b) == 16 ? "AAAA" : "A";
}

/* known_ip - public_ip is set */
static bool
known_ip(const struct doctor_env *env)
{
    return env->public_ip != NULL && env->public_ip[0] != '\0';
}

/* why_of - " (SERVFAIL)" for an answer's reason, or "" */
static const char *
why_of(const struct doctor_answer *a, char *buf, size_t len)
{
    if (a->why == NULL || a->why[0] == '\0')
        return "";
    snprintf(buf, len, " (%s)", a->why);
    return buf;
}

/* dns_trouble - the warning for a lookup that did not answer */
static void
dns_trouble(struct doctor_report *out, const char *subject, const char *check,
            const char *what, const struct doctor_answer *a)
{
    char w[80];
    struct doctor_finding *f;

    f = doctor_add(out, DOCTOR_WARNING, subject, check, "could not look up %s%s", what,
                   why_of(a, w, sizeof(w)));
    doctor_why(f, "The DNS did not answer now, so this was not checked; other servers "
               "may meet the same failure and delay your mail.");
    doctor_fix(f, "Run postino doctor again in a while; if it stays, check that the "
               "domain's name servers answer (dig %s).", what);
}

/* ---- MX ---------------------------------------------------------------- */

struct mx_host {
    const char *host;
    unsigned    pref;
    bool        literal;
    struct doctor_answer cname, addr;
};

/* by_pref - order MX hosts by preference, then name */
static int
by_pref(const void *a, const void *b)
{
    const struct mx_host *x = a, *y = b;

    if (x->pref != y->pref)
        return x->pref < y->pref ? -1 : 1;
    return strcmp(x->host, y->host);
}

/* mx_missing - the finding for a domain without usable MX records */
static void
mx_missing(const struct doctor_env *env, const char *domain, struct doctor_report *out,
           enum doctor_dns st)
{
    struct doctor_finding *f;

    if (st == DOCTOR_DNS_NXDOMAIN) {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX", "the domain does not exist in the DNS");
        doctor_why(f, "Nobody can send mail to it.");
        doctor_fix(f, "Register the domain, or publish its records at its DNS provider, "
                   "first: %s. MX 10 %s.", domain, env->hostname);
        return;
    }
    f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX", "no MX record");
    doctor_why(f, "Other servers do not know where to deliver mail for %s: many give up, "
               "the others try the domain's own address.", domain);
    doctor_fix(f, "Publish: %s. MX 10 %s.", domain, env->hostname);
}

bool
doctor_check_mx(const struct doctor_env *env, const char *domain, struct doctor_report *out)
{
    struct doctor_answer mx;
    struct mx_host hosts[MX_HOSTS_MAX];
    size_t n = 0;
    bool complete = true, self_name = false, self_addr = false;
    const char *self_as = NULL;
    struct doctor_finding *f;

    if (!env->lookup(env->arg, DOCTOR_Q_MX, domain, &mx))
        return false;
    if (mx.status == DOCTOR_DNS_TEMPFAIL) {
        dns_trouble(out, domain, "MX", domain, &mx);
        return true;
    }
    if (mx.status != DOCTOR_DNS_OK || mx.n == 0) {
        mx_missing(env, domain, out, mx.status);
        return true;
    }
    for (size_t i = 0; i < mx.n && n < MX_HOSTS_MAX; i++) {
        if (mx.text[i][0] == '\0' || strcmp(mx.text[i], ".") == 0)
            continue;
        memset(&hosts[n], 0, sizeof(hosts[n]));
        hosts[n].host = mx.text[i];
        hosts[n].pref = mx.pref ? mx.pref[i] : 0;
        unsigned char b[16];
        hosts[n].literal = parse_ip(mx.text[i], b) != 0;
        if (!hosts[n].literal) {
            complete &= env->lookup(env->arg, DOCTOR_Q_CNAME, mx.text[i], &hosts[n].cname);
            complete &= env->lookup(env->arg, DOCTOR_Q_ADDR, mx.text[i], &hosts[n].addr);
        }
        n++;
    }
    if (!complete)
        return false;
    if (n == 0) {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX",
                       "null MX (\"0 .\"): the domain says it takes no mail (RFC 7505)");
        doctor_why(f, "Every server bounces mail for %s at once.", domain);
        doctor_fix(f, "Replace it with: %s. MX 10 %s.", domain, env->hostname);
        return true;
    }
    qsort(hosts, n, sizeof(hosts[0]), by_pref);
    for (size_t i = 0; i < n; i++) {
        struct mx_host *h = &hosts[i];
        bool is_self = strcasecmp(h->host, env->hostname) == 0;

        if (h->literal) {
            const char *name = known_ip(env) && doctor_ip_equal(h->host, env->public_ip)
                             ? env->hostname : NULL;
            f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX",
                           "MX %s (%u) is an IP address, not a host name", h->host, h->pref);
            doctor_why(f, "An MX must name a host (RFC 5321 5.1): senders look %s up as a "
                       "name, find nothing and cannot deliver.", h->host);
            if (name)
                doctor_fix(f, "Point the MX at this server's name: %s. MX %u %s. (with %s. %s %s)",
                           domain, h->pref, name, name, rr_of(h->host), h->host);
            else
                doctor_fix(f, "Give the address a name and point the MX at it: mail.%s. %s %s "
                           "and %s. MX %u mail.%s.", domain, rr_of(h->host), h->host, domain,
                           h->pref, domain);
            continue;
        }
        if (is_self)
            self_name = true;
        if (known_ip(env) && has_ip(&h->addr, env->public_ip)) {
            self_addr = true;
            if (!self_as)
                self_as = h->cname.status == DOCTOR_DNS_OK && h->cname.n > 0
                        ? h->cname.text[0] : h->host;
        }
        if (h->cname.status == DOCTOR_DNS_OK && h->cname.n > 0) {
            if (strcasecmp(h->cname.text[0], env->hostname) == 0)
                self_name = true;       /* reaches this server, through the alias */
            f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX",
                           "MX %s (%u) is an alias (CNAME) of %s", h->host, h->pref,
                           h->cname.text[0]);
            doctor_why(f, "An MX must name a host directly, not an alias (RFC 2181 10.3, "
                       "RFC 5321 5.1); some servers refuse to deliver to it.");
            doctor_fix(f, "Point the MX at the real name: %s. MX %u %s.", domain, h->pref,
                       h->cname.text[0]);
            continue;
        }
        if (h->addr.status == DOCTOR_DNS_TEMPFAIL) {
            dns_trouble(out, domain, "MX", h->host, &h->addr);
            continue;
        }
        if (naddr(&h->addr) == 0) {
            f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX",
                           "MX %s (%u) has no address (no A or AAAA record)", h->host, h->pref);
            doctor_why(f, "Senders cannot connect to it: mail for %s waits and finally "
                       "bounces.", domain);
            if (is_self && known_ip(env))
                doctor_fix(f, "Publish: %s. %s %s", h->host, rr_of(env->public_ip),
                           env->public_ip);
            else
                doctor_fix(f, "Publish the address of %s (%s. A ITS-ADDRESS), or remove this "
                           "MX record.", h->host, h->host);
            continue;
        }
        char *list = addr_list(&h->addr);
        doctor_add(out, DOCTOR_OK, domain, "MX", "%s (%u) at %s%s", h->host, h->pref, list,
                   is_self || (known_ip(env) && has_ip(&h->addr, env->public_ip))
                   ? ", this server" : "");
        free(list);
    }
    if (!self_name && !self_addr) {
        f = doctor_add(out, DOCTOR_PROBLEM, domain, "MX",
                       "none of the MX hosts is this server (%s%s%s)", env->hostname,
                       known_ip(env) ? " at " : "", known_ip(env) ? env->public_ip : "");
        doctor_why(f, "Mail for %s goes to those hosts, not here: this server never "
                   "receives it.", domain);
        doctor_fix(f, "Publish: %s. MX 10 %s. (or, if an MX host is this server under "
                   "another name, set hostname to that name and public_ip to its address)",
                   domain, env->hostname);
    } else if (!self_name && self_as) {
        f = doctor_add(out, DOCTOR_WARNING, domain, "MX",
                       "this server is the MX as %s, but calls itself %s", self_as,
                       env->hostname);
        doctor_why(f, "Senders that check certificates (MTA-STS, DANE) expect the MX name %s, "
                   "and the certificate is made for %s.", self_as, env->hostname);
        doctor_fix(f, "Set hostname = %s, or publish: %s. MX 10 %s.", self_as, domain,
                   env->hostname);
    }
    return true;
}

/* ---- hostname and reverse DNS ---------------------------------------- */

bool
doctor_check_host(const struct doctor_env *env, struct doctor_report *out)
{
    struct doctor_answer a;
    struct doctor_finding *f;
    const char *h = env->hostname;

    if (!env->lookup(env->arg, DOCTOR_Q_ADDR, h, &a))
        return false;
    if (a.status == DOCTOR_DNS_TEMPFAIL) {
        dns_trouble(out, h, "HOST", h, &a);
        return true;
    }
    if (naddr(&a) == 0) {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "HOST", "%s has no address (no A or AAAA record)",
                       h);
        doctor_why(f, "This server greets other servers with this name (EHLO); many refuse or "
                   "junk mail when the name does not lead back to the sending address.");
        if (known_ip(env))
            doctor_fix(f, "Publish: %s. %s %s", h, rr_of(env->public_ip), env->public_ip);
        else
            doctor_fix(f, "Publish: %s. A THIS-SERVER'S-ADDRESS", h);
        return true;
    }
    char *list = addr_list(&a);
    if (!known_ip(env)) {
        f = doctor_add(out, DOCTOR_WARNING, h, "HOST", "%s resolves to %s (not compared: this "
                       "server's public address is unknown)", h, list);
        doctor_why(f, "Other servers expect this name to lead to the address they see.");
        doctor_fix(f, "Set public_ip to the address other servers see.");
    } else if (has_ip(&a, env->public_ip)) {
        doctor_add(out, DOCTOR_OK, h, "HOST", "%s resolves to %s", h, list);
    } else {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "HOST", "%s resolves to %s, not to this "
                       "server's address %s", h, list, env->public_ip);
        doctor_why(f, "This server greets other servers with this name (EHLO); many refuse or "
                   "junk mail when the name does not lead back to the sending address.");
        doctor_fix(f, "Publish: %s. %s %s (or set public_ip, if %s is not the address "
                   "others see)", h, rr_of(env->public_ip), env->public_ip, env->public_ip);
    }
    free(list);
    return true;
}

bool
doctor_check_ptr(const struct doctor_env *env, struct doctor_report *out)
{
    char rev[80];
    struct doctor_answer ptr, self, addrs[PTR_NAMES_MAX];
    struct doctor_finding *f;
    const char *ip = env->public_ip, *h = env->hostname;
    bool complete = true;
    size_t n;

    if (!known_ip(env) || !doctor_reverse_name(ip, rev, sizeof(rev)))
        return true;
    complete &= env->lookup(env->arg, DOCTOR_Q_PTR, rev, &ptr);
    complete &= env->lookup(env->arg, DOCTOR_Q_ADDR, h, &self);
    if (!complete)
        return false;
    if (ptr.status == DOCTOR_DNS_TEMPFAIL) {
        dns_trouble(out, h, "PTR", rev, &ptr);
        return true;
    }
    if (ptr.status != DOCTOR_DNS_OK || ptr.n == 0) {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "PTR", "no reverse DNS (PTR) for %s", ip);
        doctor_why(f, "Gmail, Outlook and most large receivers refuse or junk mail from an "
                   "address without reverse DNS.");
        doctor_fix(f, "Ask whoever gives you the address (your hosting provider: \"reverse "
                   "DNS\" or \"PTR\" in its panel) to set: %s. PTR %s.", rev, h);
        return true;
    }
    n = ptr.n < PTR_NAMES_MAX ? ptr.n : PTR_NAMES_MAX;
    for (size_t i = 0; i < n; i++)
        complete &= env->lookup(env->arg, DOCTOR_Q_ADDR, ptr.text[i], &addrs[i]);
    if (!complete)
        return false;

    const char *confirmed = NULL;
    bool self_confirmed = false;
    for (size_t i = 0; i < n; i++) {
        if (!has_ip(&addrs[i], ip))
            continue;
        if (!confirmed)
            confirmed = ptr.text[i];
        if (strcasecmp(ptr.text[i], h) == 0)
            self_confirmed = true;
    }
    if (self_confirmed) {
        doctor_add(out, DOCTOR_OK, h, "PTR", "%s -> %s -> %s (forward-confirmed)", ip, h, ip);
    } else if (confirmed) {
        f = doctor_add(out, DOCTOR_WARNING, h, "PTR", "%s -> %s -> %s (forward-confirmed), "
                       "but this server calls itself %s", ip, confirmed, ip, h);
        doctor_why(f, "Some receivers compare the reverse name with the name this server "
                   "greets them with.");
        doctor_fix(f, "Set hostname = %s, or have the PTR changed to %s.", confirmed, h);
    } else {
        char *list = addr_list(&addrs[0]);
        f = doctor_add(out, DOCTOR_PROBLEM, h, "PTR", "the reverse DNS of %s is %s, which "
                       "does not resolve back to it (%s%s)", ip, ptr.text[0],
                       list[0] ? "it resolves to " : "it has no address", list);
        free(list);
        doctor_why(f, "Receivers check that the reverse name leads back to the address "
                   "(forward-confirmed reverse DNS) and refuse or junk mail when it does not.");
        if (has_ip(&self, ip))
            doctor_fix(f, "Ask whoever gives you the address (your hosting provider: \"reverse "
                       "DNS\") to set: %s. PTR %s.", rev, h);
        else
            doctor_fix(f, "Ask whoever gives you the address (your hosting provider: \"reverse "
                       "DNS\") to set: %s. PTR %s. and publish: %s. %s %s", rev, h, h,
                       rr_of(ip), ip);
    }
    return true;
}

/* ---- DNS blocklists (RFC 5782) --------------------------------------- */

const char *const doctor_dnsbl_default[] = {
    "zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org", NULL,
};

enum doctor_bl
doctor_dnsbl_verdict(const unsigned char *a4, size_t n4)
{
    bool refused = false, odd = false;

    for (size_t i = 0; i < n4; i++) {
        const unsigned char *a = a4 + 4 * i;

        if (a[0] != 127)
            odd = true;
        else if (a[1] == 255 && a[2] == 255)
            refused = true;
        else
            return DOCTOR_BL_LISTED;
    }
    if (refused)
        return DOCTOR_BL_REFUSED;
    return odd ? DOCTOR_BL_ODD : DOCTOR_BL_CLEAN;
}

/* has_suffix - zone is suffix or ends in "." suffix, any case */
static bool
has_suffix(const char *zone, const char *suffix)
{
    size_t z = strlen(zone), s = strlen(suffix);

    if (z == s)
        return strcasecmp(zone, suffix) == 0;
    return z > s && zone[z - s - 1] == '.' && strcasecmp(zone + z - s, suffix) == 0;
}

const char *
doctor_dnsbl_advice(const char *zone)
{
    if (has_suffix(zone, "spamhaus.org") || has_suffix(zone, "spamhaus.net"))
        return "Look the address up at https://check.spamhaus.org/ and follow the removal "
               "steps there; a PBL listing means the address is meant for home users: ask your "
               "provider for a static business address, or send through relay_host.";
    if (has_suffix(zone, "spamcop.net"))
        return "SpamCop listings expire by themselves 24 hours after the last spam report: "
               "find what sent spam (a hacked account, a web form; see the log and postino "
               "queue list) and stop it; details at https://www.spamcop.net/bl.shtml.";
    if (has_suffix(zone, "barracudacentral.org"))
        return "Stop what sent spam (see the log and postino queue list), then ask for removal "
               "at https://www.barracudacentral.org/rbl/removal-request.";
    if (has_suffix(zone, "psbl.surriel.com"))
        return "Stop what sent spam, then remove the address at https://psbl.org/.";
    if (has_suffix(zone, "mailspike.net"))
        return "Stop what sent spam, then ask for removal at https://mailspike.org/.";
    return NULL;
}

bool
doctor_check_dnsbl(const struct doctor_env *env, const char *zone, struct doctor_report *out)
{
    char name[300], w[80];
    struct doctor_answer a, txt;
    struct doctor_finding *f;
    const char *h = env->hostname, *ip = env->public_ip;

    if (!known_ip(env) || !dnsbl_query_name(ip, zone, name, sizeof(name)))
        return true;
    if (!env->lookup(env->arg, DOCTOR_Q_ADDR, name, &a))
        return false;
    if (a.status == DOCTOR_DNS_TEMPFAIL) {
        f = doctor_add(out, DOCTOR_WARNING, h, "DNSBL", "could not ask %s%s", zone,
                       why_of(&a, w, sizeof(w)));
        doctor_why(f, "A list that does not answer cannot be checked.");
        doctor_fix(f, "Run postino doctor again later; big lists refuse public resolvers: set "
                   "dns_servers to a resolver of your own.");
        return true;
    }
    switch (a.status == DOCTOR_DNS_OK ? doctor_dnsbl_verdict(a.a4, a.n4) : DOCTOR_BL_CLEAN) {
    case DOCTOR_BL_CLEAN:
        doctor_add(out, DOCTOR_OK, h, "DNSBL", "%s is not listed in %s", ip, zone);
        return true;
    case DOCTOR_BL_REFUSED:
        f = doctor_add(out, DOCTOR_WARNING, h, "DNSBL", "%s refused the query (it answered "
                       "127.255.255.x)", zone);
        doctor_why(f, "The list answers only some resolvers (Spamhaus refuses public and large "
                   "ones), so this check says nothing.");
        doctor_fix(f, "Set dns_servers to a resolver of your own (unbound on this machine, "
                   "say) and run postino doctor again.");
        return true;
    case DOCTOR_BL_ODD: {
        char *list = addr_list(&a);
        f = doctor_add(out, DOCTOR_WARNING, h, "DNSBL", "%s answered %s, outside "
                       "127.0.0.0/8", zone, list);
        free(list);
        doctor_why(f, "The resolver rewrites answers (some providers redirect unknown names), "
                   "so blocklists cannot be checked through it, by the server either.");
        doctor_fix(f, "Set dns_servers to a resolver that does not rewrite answers.");
        return true;
    }
    case DOCTOR_BL_LISTED:
        break;
    }
    if (!env->lookup(env->arg, DOCTOR_Q_TXT, name, &txt))
        return false;
    char *list = addr_list(&a);
    const char *reason = txt.status == DOCTOR_DNS_OK && txt.n > 0 ? txt.text[0] : NULL;
    f = doctor_add(out, DOCTOR_PROBLEM, h, "DNSBL", "%s is listed in %s (%s)%s%s", ip, zone,
                   list, reason ? ": " : "", reason ? reason : "");
    free(list);
    doctor_why(f, "Servers that use %s refuse or junk mail from this server.", zone);
    const char *advice = doctor_dnsbl_advice(zone);
    if (advice)
        doctor_fix(f, "%s", advice);
    else
        doctor_fix(f, "Find what sent spam from %s (a hacked account, a web form; see the log "
                   "and postino queue list) and stop it, then ask %s for removal on its web "
                   "site%s.", ip, zone, reason ? " (the reason above may name it)" : "");
    return true;
}
