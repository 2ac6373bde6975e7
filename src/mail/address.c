/*
 * address - RFC 5321 paths and mailboxes, parsed strictly; see address.h.
 *
 * This module checks syntax only: it does not look up domains, does not
 * decide whether a mailbox is local, and does not rewrite addresses
 * (percent hacks and bang paths are just atext here). It works over the
 * caller's bytes and writes only into the caller's struct mailbox.
 *
 * The parse runs in one pass and records where the local part and the
 * domain are; lengths and the need for SMTPUTF8 are judged at the end, so
 * that a path that is broken anyway is reported as ADDR_SYNTAX rather
 * than as too long or as needing UTF-8.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"

/* Cursor over the path being parsed. */
struct addr_scan {
    const unsigned char *s;
    size_t n;
    size_t i;           /* next octet to look at; always <= n */
    bool   utf8;        /* saw a well-formed UTF-8 sequence */
};

static size_t addr_utf8_len(const unsigned char *s, size_t n);
static bool addr_is_alpha(unsigned char c);
static bool addr_is_digit(unsigned char c);
static bool addr_is_atext(unsigned char c);
static bool addr_scan_utf8(struct addr_scan *sc);
static bool addr_scan_domain(struct addr_scan *sc);
static bool addr_scan_dot_string(struct addr_scan *sc);
static bool addr_scan_quoted(struct addr_scan *sc);
static bool addr_scan_literal(struct addr_scan *sc);
static bool addr_ipv4_valid(const unsigned char *s, size_t n);
static bool addr_ipv6_valid(const unsigned char *s, size_t n);
static bool addr_ldh_str(const unsigned char *s, size_t n);

/* addr_utf8_len - length (2-4) of the well-formed UTF8-non-ascii
 * sequence (RFC 3629 4) at s[0..n), or 0 when it is malformed. */
static size_t
addr_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;     /* bounds of the 2nd octet */

    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;          /* no overlong forms */
        else if (c == 0xED)
            hi = 0x9F;          /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;          /* nothing above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < len; k++)
        if (s[k] < 0x80 || s[k] > 0xBF)
            return 0;
    return len;
}

/* addr_is_alpha - ALPHA (RFC 5234), ASCII only */
static bool
addr_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* addr_is_digit - DIGIT */
static bool
addr_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* addr_is_atext - atext of RFC 5322 3.2.3, ASCII part */
static bool
addr_is_atext(unsigned char c)
{
    return addr_is_alpha(c) || addr_is_digit(c) ||
           (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* addr_scan_utf8 - consume one UTF8-non-ascii character at the cursor
 * (RFC 6531 3.3); false when it is malformed. */
static bool
addr_scan_utf8(struct addr_scan *sc)
{
    size_t len = addr_utf8_len(sc->s + sc->i, sc->n - sc->i);

    if (len == 0)
        return false;
    sc->i += len;
    sc->utf8 = true;
    return true;
}

/*
 * addr_scan_domain - consume a Domain (RFC 5321 4.1.2):
 *   Domain = sub-domain *("." sub-domain); sub-domain = Let-dig [Ldh-str]
 * Each label is 1-63 octets (RFC 1035 2.3.4). UTF-8 characters count as
 * letters (RFC 6531 3.3: sub-domain =/ U-label); whether they are allowed
 * is decided by the caller from sc->utf8. A dot must be followed by a
 * label, so a trailing dot fails. The cursor stops at the first octet
 * that cannot continue the domain.
 */
static bool
addr_scan_domain(struct addr_scan *sc)
{
    for (;;) {
        size_t start = sc->i;
        bool last_hyphen = false;

        while (sc->i < sc->n) {
            unsigned char c = sc->s[sc->i];

            if (addr_is_alpha(c) || addr_is_digit(c)) {
                sc->i++;
                last_hyphen = false;
            } else if (c == '-' && sc->i > start) {
                sc->i++;
                last_hyphen = true;
            } else if (c >= 0x80) {
                if (!addr_scan_utf8(sc))
                    return false;
                last_hyphen = false;
            } else
                break;
        }
        if (sc->i == start || last_hyphen || sc->i - start > 63)
            return false;
        if (sc->i < sc->n && sc->s[sc->i] == '.')
            sc->i++;
        else
            return true;
    }
}

/* addr_scan_dot_string - consume Dot-string = Atom *("." Atom), with
 * UTF-8 characters allowed in atoms (RFC 6531 3.3). */
static bool
addr_scan_dot_string(struct addr_scan *sc)
{
    for (;;) {
        size_t start = sc->i;

        while (sc->i < sc->n) {
            unsigned char c = sc->s[sc->i];

            if (addr_is_atext(c))
                sc->i++;
            else if (c >= 0x80) {
                if (!addr_scan_utf8(sc))
                    return false;
            } else
                break;
        }
        if (sc->i == start)
            return false;       /* empty atom: leading, trailing or ".." */
        if (sc->i < sc->n && sc->s[sc->i] == '.')
            sc->i++;
        else
            return true;
    }
}

/*
 * addr_scan_quoted - consume Quoted-string = DQUOTE *QcontentSMTP DQUOTE
 *   qtextSMTP = %d32-33 / %d35-91 / %d93-126 (=/ UTF8-non-ascii, RFC 6531)
 *   quoted-pairSMTP = %d92 %d32-126   (no UTF-8 after a backslash)
 */
static bool
addr_scan_quoted(struct addr_scan *sc)
{
    sc->i++;                    /* the opening quote */
    while (sc->i < sc->n) {
        unsigned char c = sc->s[sc->i];

        if (c == '"') {
            sc->i++;
            return true;
        } else if (c == '\\') {
            if (sc->i + 1 >= sc->n || sc->s[sc->i + 1] < 32 || sc->s[sc->i + 1] > 126)
                return false;
            sc->i += 2;
        } else if (c >= 32 && c <= 126)
            sc->i++;
        else if (c >= 0x80) {
            if (!addr_scan_utf8(sc))
                return false;
        } else
            return false;       /* NUL, controls, DEL */
    }
    return false;               /* unterminated */
}

/* addr_ipv4_valid - IPv4-address-literal = Snum 3("." Snum), Snum being
 * 1-3 digits worth 0-255 (RFC 5321 4.1.3). */
static bool
addr_ipv4_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t digits = 0;

        if (part > 0) {
            if (i >= n || s[i] != '.')
                return false;
            i++;
        }
        while (i < n && addr_is_digit(s[i]) && digits < 3) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || v > 255)
            return false;
    }
    return i == n;
}

/*
 * addr_ipv6_valid - IPv6-addr of RFC 5321 4.1.3. inet_pton() checks the
 * RFC 4291 text form; RFC 5321 is stricter about "::": it stands for at
 * least two groups of zeros, so at most 6 groups (an IPv4 tail counts
 * as 2) may be written beside it.
 */
static bool
addr_ipv6_valid(const unsigned char *s, size_t n)
{
    char text[INET6_ADDRSTRLEN + 1];
    unsigned char bin[16];
    unsigned groups = 0;
    bool ipv4 = false;

    if (n == 0 || n >= sizeof(text))
        return false;
    memcpy(text, s, n);
    text[n] = '\0';
    if (strlen(text) != n || inet_pton(AF_INET6, text, bin) != 1)
        return false;
    if (strstr(text, "::") == NULL)
        return true;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.')
            ipv4 = true;
        if (s[i] != ':' && (i == 0 || s[i - 1] == ':'))
            groups++;
    }
    if (ipv4)
        groups++;               /* the IPv4 tail was counted once */
    return groups <= 6;
}

/* addr_ldh_str - Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig */
static bool
addr_ldh_str(const unsigned char *s, size_t n)
{
    if (n == 0 || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!addr_is_alpha(s[i]) && !addr_is_digit(s[i]) && s[i] != '-')
            return false;
    return true;
}

/*
 * addr_scan_literal - consume an address-literal (RFC 5321 4.1.3):
 * "[" IPv4 / "IPv6:" IPv6 / Standardized-tag ":" 1*dcontent "]".
 * The tag "IPv6" (any case) is never taken as a general literal, or a
 * bad IPv6 address would slip through that way.
 */
static bool
addr_scan_literal(struct addr_scan *sc)
{
    const unsigned char *body = sc->s + sc->i + 1;
    size_t len = 0, colon = 0;
    bool has_colon = false;

    sc->i++;                    /* "[" */
    for (;;) {
        unsigned char c;

        if (sc->i >= sc->n)
            return false;
        c = sc->s[sc->i];
        if (c == ']')
            break;
        if (!((c >= 33 && c <= 90) || (c >= 94 && c <= 126)))
            return false;       /* dcontent only: no "[", "\", controls, UTF-8 */
        if (c == ':' && !has_colon) {
            has_colon = true;
            colon = len;
        }
        sc->i++;
        len++;
    }
    sc->i++;                    /* "]" */
    if (!has_colon)
        return addr_ipv4_valid(body, len);
    if (colon == 4 && strncasecmp((const char *)body, "IPv6", 4) == 0)
        return addr_ipv6_valid(body + 5, len - 5);
    return addr_ldh_str(body, colon) && len > colon + 1;
}

/* path_parse - parse a path at s[0..n); see address.h. */
enum addr_status
path_parse(const char *s, size_t n, unsigned flags, struct mailbox *mb,
           size_t *consumed)
{
    struct addr_scan sc = { (const unsigned char *)s, n, 0, false };
    size_t local_start, local_end, dom_start, dom_end;
    bool quoted, literal;

    memset(mb, 0, sizeof(*mb));
    while (sc.i < n && s[sc.i] == ' ')
        sc.i++;
    if (sc.i >= n || s[sc.i] != '<')
        return ADDR_SYNTAX;
    sc.i++;

    /* "<>": the null reverse-path (4.1.1.2) */
    if (sc.i < n && s[sc.i] == '>') {
        if (!(flags & PATH_ALLOW_NULL))
            return ADDR_SYNTAX;
        mb->null = true;
        *consumed = sc.i + 1;
        return ADDR_OK;
    }

    /* "<Postmaster>" without a domain, any case (4.1.1.3) */
    if ((flags & PATH_ALLOW_POSTMASTER) && n - sc.i >= 11 &&
        strncasecmp(s + sc.i, "postmaster>", 11) == 0) {
        strcpy(mb->local, "Postmaster");
        *consumed = sc.i + 11;
        return ADDR_OK;
    }

    /* A-d-l ":" - a source route, parsed and then ignored (4.1.1.3, C) */
    if (sc.i < n && s[sc.i] == '@') {
        for (;;) {
            sc.i++;             /* "@" */
            if (!addr_scan_domain(&sc) || sc.i >= n)
                return ADDR_SYNTAX;
            if (s[sc.i] == ':') {
                sc.i++;
                break;
            }
            if (s[sc.i] != ',')
                return ADDR_SYNTAX;
            sc.i++;
            if (sc.i >= n || s[sc.i] != '@')
                return ADDR_SYNTAX;
        }
    }
    /* Octets >= 0x80 in the route need SMTPUTF8 too, but do not mark
     * the mailbox. */
    bool route_utf8 = sc.utf8;
    sc.utf8 = false;

    /* Local-part */
    local_start = sc.i;
    if (sc.i >= n)
        return ADDR_SYNTAX;
    quoted = s[sc.i] == '"';
    if (!(quoted ? addr_scan_quoted(&sc) : addr_scan_dot_string(&sc)))
        return ADDR_SYNTAX;
    local_end = sc.i;
    if (sc.i >= n || s[sc.i] != '@')
        return ADDR_SYNTAX;
    sc.i++;

    /* Domain / address-literal */
    dom_start = sc.i;
    literal = sc.i < n && s[sc.i] == '[';
    if (!(literal ? addr_scan_literal(&sc) : addr_scan_domain(&sc)))
        return ADDR_SYNTAX;
    dom_end = sc.i;
    if (sc.i >= n || s[sc.i] != '>')
        return ADDR_SYNTAX;
    sc.i++;

    /* Limits of 4.5.3.1.1 and 4.5.3.1.2, counted as written. */
    if (local_end - local_start > ADDR_LOCAL_MAX)
        return ADDR_LOCAL_TOO_LONG;
    if (dom_end - dom_start > ADDR_DOMAIN_MAX)
        return ADDR_DOMAIN_TOO_LONG;
    if ((sc.utf8 || route_utf8) && !(flags & PATH_UTF8))
        return ADDR_NEED_UTF8;

    memcpy(mb->local, s + local_start, local_end - local_start);
    mb->local[local_end - local_start] = '\0';
    memcpy(mb->domain, s + dom_start, dom_end - dom_start);
    mb->domain[dom_end - dom_start] = '\0';
    mb->quoted = quoted;
    mb->literal = literal;
    mb->utf8 = sc.utf8;
    *consumed = sc.i;
    return ADDR_OK;
}

/* mailbox_format - "local@domain", "" or "Postmaster"; see address.h. */
void
mailbox_format(const struct mailbox *mb, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    if (mb->null)
        out[0] = '\0';
    else if (mb->domain[0] == '\0')
        snprintf(out, outlen, "%s", mb->local);
    else
        snprintf(out, outlen, "%s@%s", mb->local, mb->domain);
}

/* domain_valid - s[0..n) is a Domain of at most 255 octets; see address.h. */
bool
domain_valid(const char *s, size_t n, bool utf8)
{
    struct addr_scan sc = { (const unsigned char *)s, n, 0, false };

    if (n == 0 || n > ADDR_DOMAIN_MAX)
        return false;
    if (!addr_scan_domain(&sc) || sc.i != n)
        return false;
    return utf8 || !sc.utf8;
}

/* local_unquote - the local part without quotes and escapes; see
 * address.h. Output is truncated to outlen - 1 octets. */
size_t
local_unquote(const char *local, char *out, size_t outlen)
{
    size_t o = 0;

    if (outlen == 0)
        return 0;
    if (local[0] != '"') {
        o = strlen(local);
        if (o > outlen - 1)
            o = outlen - 1;
        memcpy(out, local, o);
    } else {
        for (const char *p = local + 1; *p != '\0' && o < outlen - 1; p++) {
            if (*p == '"')
                break;          /* the closing quote */
            if (*p == '\\' && p[1] != '\0')
                p++;
            out[o++] = *p;
        }
    }
    out[o] = '\0';
    return o;
}
