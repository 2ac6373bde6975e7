/*
 * tags - tag=value lists (RFC 6376 3.2), base64 with folding white space
 * (3.5 b=, bh=; 3.6.1 p=), colon-separated lists and DNS names; see
 * dkim_priv.h. Pure functions over bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


/* this module */
#include "dkim/dkim_priv.h"

/* utilities */
#include "util/base64.h"
#include "util/xmalloc.h"

bool
dkim_is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * valchar - an octet allowed in a tag value: VALCHAR (%x21-3A / %x3C-7E)
 * or folding white space; octets of 0x80 and up too, for UTF-8 in i=
 * (RFC 8616 4.2) and in notes.
 */
static bool
valchar(unsigned char c)
{
    return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80 || dkim_is_fws((char)c);
}

int
dkim_tags_parse(const char *s, size_t n, struct dkim_tag *t, size_t *nt, char *err, size_t errlen)
{
    size_t i = 0, count = 0;

    *nt = 0;
    for (;;) {
        while (i < n && dkim_is_fws(s[i]))
            i++;
        if (i == n)
            break;                  /* the end, perhaps after a final ";" */
        size_t name = i;
        if (!is_alpha(s[i])) {
            snprintf(err, errlen, "bad tag name");
            return -1;
        }
        while (i < n && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_'))
            i++;
        size_t nlen = i - name;
        while (i < n && dkim_is_fws(s[i]))
            i++;
        if (i == n || s[i] != '=') {
            snprintf(err, errlen, "tag %.*s without \"=\"", nlen > 16 ? 16 : (int)nlen, s + name);
            return -1;
        }
        size_t raw_start = ++i;
        while (i < n && dkim_is_fws(s[i]))
            i++;
        size_t val = i;
        while (i < n && s[i] != ';') {
            if (!valchar((unsigned char)s[i])) {
                snprintf(err, errlen, "control character in tag %.*s",
                         nlen > 16 ? 16 : (int)nlen, s + name);
                return -1;
            }
            i++;
        }
        size_t vend = i;
        while (vend > val && dkim_is_fws(s[vend - 1]))
            vend--;
        for (size_t k = 0; k < count; k++) {
            if (t[k].nlen == nlen && memcmp(t[k].name, s + name, nlen) == 0) {
                snprintf(err, errlen, "tag %.*s repeated", nlen > 16 ? 16 : (int)nlen, s + name);
                return -1;
            }
        }
        if (count == DKIM_TAGS_MAX) {
            snprintf(err, errlen, "too many tags");
            return -1;
        }
        t[count].name = s + name;
        t[count].nlen = nlen;
        t[count].val = s + val;
        t[count].vlen = vend - val;
        t[count].raw_start = raw_start;
        t[count].raw_end = i;
        count++;
        if (i < n)
            i++;                    /* the ";" */
    }
    *nt = count;
    return 0;
}

const struct dkim_tag *
dkim_tag_find(const struct dkim_tag *t, size_t nt, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < nt; i++)
        if (t[i].nlen == len && memcmp(t[i].name, name, len) == 0)
            return &t[i];
    return NULL;
}

bool
dkim_tag_is(const struct dkim_tag *t, const char *s)
{
    size_t len = strlen(s);

    return t->vlen == len && strncasecmp(t->val, s, len) == 0;
}

long
dkim_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
    /* Folding white space may sit anywhere in b=, bh= and p= (RFC 6376
     * 3.5): drop it, then decode strictly. */
    char *t = xmalloc(n ? n : 1);
    size_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (!dkim_is_fws(s[i]))
            t[k++] = s[i];
    long r = base64_decode(t, k, out, cap);
    free(t);
    return r;
}

char *
dkim_b64_encode(const unsigned char *p, size_t n)
{
    char *out = xmalloc(4 * ((n + 2) / 3) + 1);

    base64_encode(p, n, out);
    return out;
}

bool
dkim_list_has(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word), i = 0;

    while (i <= n) {
        const char *colon = memchr(s + i, ':', n - i);
        size_t end = colon ? (size_t)(colon - s) : n;
        size_t a = i, b = end;

        while (a < b && dkim_is_fws(s[a]))
            a++;
        while (b > a && dkim_is_fws(s[b - 1]))
            b--;
        if (b - a == wl && strncasecmp(s + a, word, wl) == 0)
            return true;
        if (!colon)
            break;
        i = end + 1;
    }
    return false;
}

bool
dkim_name_ok(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0 || n > DKIM_NAME_MAX)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            /* a label ends: 1 to 63 octets, no "-" at either end */
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return false;
            label = 0;
            continue;
        }
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '-' && s[i] != '_')
            return false;
        label++;
    }
    return true;
}

bool
dkim_domain_ok(const char *s)
{
    return s && dkim_name_ok(s, strlen(s));
}

bool
dkim_selector_ok(const char *s)
{
    return s && dkim_name_ok(s, strlen(s));
}

void
dkim_lower(const char *s, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    out[n] = '\0';
}
