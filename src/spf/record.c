/*
 * record - the syntax of SPF records and terms (RFC 7208 4.5, 4.6.1, 5,
 * 6, 12); see spf_priv.h.
 *
 * A record is parsed term by term, in place: nothing is copied and
 * nothing allocated. This file knows syntax only; what a term means is
 * spf.c's business. Names of mechanisms and modifiers, and "v=spf1", are
 * case-insensitive (ABNF strings, RFC 5234 2.3).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "spf/spf_priv.h"

/* name_is - is t[0..n) the name word, in any case? */
static bool
name_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(t, word, n) == 0;
}

const char *
spf_record_terms(const char *s)
{
    /* 4.5: "v=spf1" exactly, then a space or the end ("v=spf10" is not) */
    if (strncasecmp(s, "v=spf1", 6) != 0 || (s[6] != ' ' && s[6] != '\0'))
        return NULL;
    return s + 6;
}

bool
spf_toplabel_ok(const char *s, size_t n)
{
    bool alpha = false, dash = false;

    /*
     * toplabel = ( *alphanum ALPHA *alphanum ) /
     *            ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
     * i.e. letters, digits and dashes, not starting or ending with a
     * dash, and not all digits unless a dash is in it (7.1).
     */
    if (n == 0 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '-')
            dash = true;
        else if (isalpha(c) && c < 0x80)
            alpha = true;
        else if (!(isdigit(c) && c < 0x80))
            return false;
    }
    return alpha || dash;
}

/*
 * cidr_value - the digits s[0..n) as a prefix length of at most max.
 * ip4-cidr-length = "/" ( "0" / %x31-39 0*1DIGIT ), ip6-cidr-length =
 * "/" ( "0" / %x31-39 0*2DIGIT ) (5.6): no leading zero ("/032" is an
 * error), no more digits than the maximum has.
 */
static bool
cidr_value(const char *s, size_t n, unsigned max, unsigned *out)
{
    unsigned v = 0;

    if (n == 0 || n > (max > 99 ? 3u : 2u) || (n > 1 && s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/*
 * ip4_network - ip4-network = qnum "." qnum "." qnum "." qnum, with qnum
 * a decimal 0..255 without leading zeros (5.6); no shortened forms
 * ("1.2.3" is an error, 5.6/4).
 */
static bool
ip4_network(const char *s, size_t n, unsigned char out[4])
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        size_t start = i;
        unsigned v = 0;

        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            start = ++i;
        }
        while (i < n && isdigit((unsigned char)s[i]) && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
            return false;
        out[part] = (unsigned char)v;
    }
    return i == n;
}

/* ip6_network - an IPv6 address in the forms of RFC 4291 2.2 (5.6) */
static bool
ip6_network(const char *s, size_t n, unsigned char out[16])
{
    char text[INET6_ADDRSTRLEN + 1];

    if (n == 0 || n >= sizeof(text) || memchr(s, '\0', n) != NULL)
        return false;
    memcpy(text, s, n);
    text[n] = '\0';
    return inet_pton(AF_INET6, text, out) == 1;
}

/*
 * ip_mechanism - the argument of ip4 or ip6, arg[0..n) after the name:
 * ":" network [ "/" length ]. The dual-cidr form is not allowed here
 * ("ip4:1.2.3.4//32" is an error).
 */
static bool
ip_mechanism(const char *arg, size_t n, bool v6, struct spf_term *out)
{
    const char *slash;
    size_t netlen;

    if (n < 2 || arg[0] != ':')
        return false;
    arg++;
    n--;
    slash = memchr(arg, '/', n);
    netlen = slash ? (size_t)(slash - arg) : n;
    if (v6) {
        if (!ip6_network(arg, netlen, out->net))
            return false;
        out->cidr6 = 128;
        return !slash || cidr_value(slash + 1, n - netlen - 1, 128, &out->cidr6);
    }
    if (!ip4_network(arg, netlen, out->net))
        return false;
    out->cidr4 = 32;
    return !slash || cidr_value(slash + 1, n - netlen - 1, 32, &out->cidr4);
}

/*
 * trailing_cidr - if arg[0..*n) ends in "/" 1*DIGIT (with dslash: "//"
 * 1*DIGIT), take it off *n and return the digits' start in *digits and
 * their count in *ndigits. A domain-spec may contain '/' and digits
 * itself ("a:foo:bar/baz.example.com"), but it cannot end in them (its
 * end is a toplabel or a macro), so a trailing "/digits" is the length.
 */
static bool
trailing_cidr(const char *arg, size_t *n, bool dslash, const char **digits, size_t *ndigits)
{
    size_t end = *n, i = end;

    while (i > 0 && isdigit((unsigned char)arg[i - 1]))
        i--;
    if (i == end || i == 0 || arg[i - 1] != '/')
        return false;
    if (dslash) {
        if (i < 2 || arg[i - 2] != '/')
            return false;
        *n = i - 2;
    } else {
        if (i >= 2 && arg[i - 2] == '/')
            return false;   /* "//digits": the IPv6 length, not ours */
        *n = i - 1;
    }
    *digits = arg + i;
    *ndigits = end - i;
    return true;
}

/*
 * a_or_mx - the argument of a or mx: [ ":" domain-spec ] [ dual-cidr-length ]
 * with dual-cidr-length = [ ip4-cidr-length ] [ "/" ip6-cidr-length ] (5.3,
 * 5.4). The lengths are taken off the end first (see trailing_cidr).
 */
static bool
a_or_mx(const char *arg, size_t n, struct spf_term *out)
{
    const char *d;
    size_t nd;

    out->cidr4 = 32;
    out->cidr6 = 128;
    if (trailing_cidr(arg, &n, true, &d, &nd) && !cidr_value(d, nd, 128, &out->cidr6))
        return false;
    if (trailing_cidr(arg, &n, false, &d, &nd) && !cidr_value(d, nd, 32, &out->cidr4))
        return false;
    if (n == 0)
        return true;
    if (arg[0] != ':')
        return false;
    out->spec = arg + 1;
    out->speclen = n - 1;
    return spf_domain_spec_valid(out->spec, out->speclen);
}

/* required_spec - the argument ":" domain-spec of include and exists */
static bool
required_spec(const char *arg, size_t n, struct spf_term *out)
{
    if (n < 1 || arg[0] != ':')
        return false;
    out->spec = arg + 1;
    out->speclen = n - 1;
    return spf_domain_spec_valid(out->spec, out->speclen);
}

/*
 * modifier - t[0..n) if it is a modifier: name "=" value, name = ALPHA
 * *( ALPHA / DIGIT / "-" / "_" / "." ) (4.6.1, 12). Sets *is_mod; false
 * on a syntax error in a modifier. A known modifier's value must be a
 * domain-spec: "redirect=-all" is an error, not an unknown modifier.
 */
static bool
modifier(const char *t, size_t n, struct spf_term *out, bool *is_mod)
{
    size_t i = 0;

    *is_mod = false;
    if (n == 0 || !isalpha((unsigned char)t[0]))
        return true;
    while (i < n && (isalnum((unsigned char)t[i]) || t[i] == '-' || t[i] == '_' || t[i] == '.'))
        i++;
    if (i == n || t[i] != '=')
        return true;
    *is_mod = true;
    out->spec = t + i + 1;
    out->speclen = n - i - 1;
    if (name_is(t, i, "redirect")) {
        out->kind = SPF_K_REDIRECT;
        return spf_domain_spec_valid(out->spec, out->speclen);
    }
    if (name_is(t, i, "exp")) {
        /* an empty "exp=" is an error: the grammar wins over 6.2/4's
         * "if domain-spec is empty" (the suite's exp-empty-domain) */
        out->kind = SPF_K_EXP;
        return spf_domain_spec_valid(out->spec, out->speclen);
    }
    out->kind = SPF_K_UNKNOWN_MOD;
    return spf_macro_valid(out->spec, out->speclen, SPF_MACRO_ANY);
}

bool
spf_term_parse(const char *t, size_t n, struct spf_term *out)
{
    const char *arg;
    size_t i = 0, namelen, argn;
    bool is_mod;

    memset(out, 0, sizeof(*out));
    out->text = t;
    out->len = n;
    out->qual = SPF_PASS;
    if (!modifier(t, n, out, &is_mod))
        return false;
    if (is_mod)
        return true;

    /* directive = [ qualifier ] mechanism */
    switch (n > 0 ? t[0] : '\0') {
    case '+': out->qual = SPF_PASS; i = 1; break;
    case '-': out->qual = SPF_FAIL; i = 1; break;
    case '~': out->qual = SPF_SOFTFAIL; i = 1; break;
    case '?': out->qual = SPF_NEUTRAL; i = 1; break;
    default: break;
    }
    /* the mechanism's name is its letters and digits (ip4, ip6); then ':',
     * '/' or the end. Anything else, e.g. "all." or "1up", is an unknown
     * mechanism, a permerror (4.6.1, 5). */
    namelen = 0;
    while (i + namelen < n && isalnum((unsigned char)t[i + namelen]))
        namelen++;
    arg = t + i + namelen;
    argn = n - i - namelen;
    if (argn > 0 && arg[0] != ':' && arg[0] != '/')
        return false;
    t += i;

    if (name_is(t, namelen, "all")) {
        out->kind = SPF_K_ALL;
        return argn == 0;
    }
    if (name_is(t, namelen, "include")) {
        out->kind = SPF_K_INCLUDE;
        return required_spec(arg, argn, out);
    }
    if (name_is(t, namelen, "exists")) {
        out->kind = SPF_K_EXISTS;
        return required_spec(arg, argn, out);
    }
    if (name_is(t, namelen, "a")) {
        out->kind = SPF_K_A;
        return a_or_mx(arg, argn, out);
    }
    if (name_is(t, namelen, "mx")) {
        out->kind = SPF_K_MX;
        return a_or_mx(arg, argn, out);
    }
    if (name_is(t, namelen, "ptr")) {
        /* ptr = "ptr" [ ":" domain-spec ]: no length ("ptr/0" is an error) */
        out->kind = SPF_K_PTR;
        return argn == 0 || required_spec(arg, argn, out);
    }
    if (name_is(t, namelen, "ip4")) {
        out->kind = SPF_K_IP4;
        return ip_mechanism(arg, argn, false, out);
    }
    if (name_is(t, namelen, "ip6")) {
        out->kind = SPF_K_IP6;
        return ip_mechanism(arg, argn, true, out);
    }
    return false;
}
