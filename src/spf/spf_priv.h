/*
 * spf_priv - what spf.c (evaluation), record.c (term syntax) and macro.c
 * (macro syntax and expansion) share. Not for other modules: they use
 * spf.h. All of it is pure: no I/O, no globals, no allocation.
 */
#ifndef POSTINO_SPF_SPF_PRIV_H
#define POSTINO_SPF_SPF_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "spf/spf.h"

/* ---- record.c: terms (RFC 7208 4.6.1, 5, 6, 12) ---------------------- */

enum spf_kind {
    SPF_K_ALL,
    SPF_K_INCLUDE,
    SPF_K_A,
    SPF_K_MX,
    SPF_K_PTR,
    SPF_K_IP4,
    SPF_K_IP6,
    SPF_K_EXISTS,
    SPF_K_REDIRECT,         /* modifiers from here on */
    SPF_K_EXP,
    SPF_K_UNKNOWN_MOD,      /* name=macro-string: checked, then ignored (6) */
};

/*
 * One term, parsed in place: text and spec point into the record. For
 * directives, qual is SPF_PASS ("+" or none), SPF_FAIL, SPF_SOFTFAIL or
 * SPF_NEUTRAL. spec is the domain-spec when the term has one (include,
 * exists, redirect, exp always; a, mx, ptr when written with ':'), else
 * NULL. cidr4/cidr6: the prefix lengths of a and mx (default 32 and 128),
 * of ip4 (cidr4) and ip6 (cidr6). net: the ip4 (4 octets) or ip6 network.
 */
struct spf_term {
    enum spf_kind   kind;
    enum spf_result qual;
    const char     *text;
    size_t          len;
    const char     *spec;
    size_t          speclen;
    unsigned        cidr4;
    unsigned        cidr6;
    unsigned char   net[16];
};

/*
 * spf_term_parse - parse the term t[0..n) (no spaces in it) into *out.
 * false on any syntax error, which makes the record a permerror (4.6).
 */
bool spf_term_parse(const char *t, size_t n, struct spf_term *out);

/*
 * spf_record_terms - the terms of an SPF record s, after "v=spf1": NULL
 * when s is not an SPF record, i.e. does not start with "v=spf1"
 * (any case) followed by a space or its end (4.5).
 */
const char *spf_record_terms(const char *s);

/* spf_toplabel_ok - toplabel of 7.1: LDH, not all digits, no '-' at the ends */
bool spf_toplabel_ok(const char *s, size_t n);

/* ---- macro.c: macro-strings (RFC 7208 7) ------------------------------ */

enum spf_macro_mode {
    SPF_MACRO_DOMAIN,       /* domain-spec of a term: letters slodiphv */
    SPF_MACRO_EXPLAIN,      /* exp= text: spaces and the letters c, r, t too (7.2) */
    SPF_MACRO_ANY,          /* value of an unknown modifier: syntax only */
};

/* spf_macro_valid - is s[0..n) a macro-string (or explain-string) of mode? */
bool spf_macro_valid(const char *s, size_t n, enum spf_macro_mode mode);
/*
 * spf_domain_spec_valid - is s[0..n) a domain-spec (7.1): a non-empty
 * macro-string ending in a macro-expand or in "." toplabel ["."]?
 */
bool spf_domain_spec_valid(const char *s, size_t n);
/* spf_macro_uses_p - does the (valid) macro-string s[0..n) use %{p}? */
bool spf_macro_uses_p(const char *s, size_t n);

/* A macro's value: text[0..len), not NUL-terminated. */
struct spf_macro_value {
    const char *text;
    size_t      len;
};

/* The values of the macro letters, indexed by letter - 'a'; unset: text NULL. */
struct spf_macro_vars {
    struct spf_macro_value v[26];
};

/*
 * spf_macro_expand - expand the valid macro-string s[0..n) with the
 * values vars into out (outsize >= SPF_NAME_MAX + 1 for a domain).
 * domain: the result names a domain: a trailing dot is dropped and a
 * result over SPF_NAME_MAX octets loses labels on the left until it fits
 * (7.3); a single label too long for that gives "". Otherwise (explain
 * text) the result is cut at outsize - 1 octets and every octet outside
 * printable ASCII becomes '?'. false when s uses a letter whose value is
 * unset.
 */
bool spf_macro_expand(const char *s, size_t n, const struct spf_macro_vars *vars, bool domain,
                      char *out, size_t outsize);

#endif
