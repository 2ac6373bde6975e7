/*
 * imap_mailbox - the arguments of LIST (RFC 9051 6.3.9, RFC 5258
 * LIST-EXTENDED) and STATUS (6.3.11), LIST pattern matching, mailbox
 * names, and modified UTF-7 (RFC 3501 5.1.3); see imap_parse.h.
 *
 * Pure functions over a parsed command (imap_parse.c) or a name. This
 * file does not look at the store: it does not know which mailboxes
 * exist, nor list, open or subscribe to them, nor map a name to a
 * Maildir++ folder; it checks names and converts their encoding.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* util: no mail knowledge */
#include "util/buf.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/imap_parse.h"
#include "imap/imap_parse_priv.h"

/* ---- LIST, STATUS ------------------------------------------------------- */

/* option - the bit of the atom v in the names table, 0 if none */
static unsigned
option(const struct imap_val *v, const char *const *names)
{
    for (unsigned i = 0; names[i]; i++)
        if (imap_val_is(v, names[i]))
            return 1u << i;
    return 0;
}

/* imap_status_items - see imap_parse.h */
bool
imap_status_items(const struct imap_val *v, unsigned *items, const char **why)
{
    static const char *const names[] = {    /* in IMAP_STATUS_* order */
        "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "DELETED", "SIZE", "RECENT", NULL,
    };

    *items = 0;
    if (v == NULL || v->type != IMAP_VAL_LIST || v->count == 0) {
        *why = "status item list expected";
        return false;
    }
    for (const struct imap_val *e = v->first; e; e = e->next) {
        unsigned bit = option(e, names);

        if (bit == 0) {
            *why = "unknown status item";
            return false;
        }
        *items |= bit;
    }
    return true;
}

/* imap_status_args - see imap_parse.h */
bool
imap_status_args(const struct imap_cmd *cmd, struct imap_status *st, const char **why)
{
    memset(st, 0, sizeof(*st));
    if (cmd->nargs != 2 || !imap_val_astring(cmd->args)) {
        *why = "STATUS needs a mailbox and a list of items";
        return false;
    }
    st->mailbox = cmd->args->s;
    st->mailbox_len = cmd->args->len;
    return imap_status_items(cmd->args->next, &st->items, why);
}

/* is_list_char - list-char = ATOM-CHAR / list-wildcards / resp-specials */
static bool
is_list_char(unsigned char c)
{
    return imap_is_astring_char(c) || c == '%' || c == '*';
}

/* list_mailbox - list-mailbox: an atom of list-chars or a string */
static bool
list_mailbox(const struct imap_val *v)
{
    return v && (v->type == IMAP_VAL_ATOM ? imap_all_of(v->s, v->len, is_list_char)
                                          : imap_val_astring(v));
}

/* list_return - RETURN's options v into l */
static bool
list_return(const struct imap_val *v, struct imap_list *l, const char **why)
{
    static const char *const names[] = {    /* in IMAP_LIST_RET_* order */
        "SUBSCRIBED", "CHILDREN", "SPECIAL-USE", "STATUS", NULL,
    };

    if (v == NULL || v->type != IMAP_VAL_LIST || v->next) {
        *why = "RETURN (options) expected";
        return false;
    }
    for (const struct imap_val *e = v->first; e; e = e->next) {
        unsigned bit = option(e, names);

        if (bit == 0) {
            *why = "unknown LIST return option";
            return false;
        }
        if (bit == IMAP_LIST_RET_STATUS) {     /* RFC 5819: STATUS (items) */
            e = e->next;
            if (!imap_status_items(e, &l->status, why))
                return false;
        }
        l->ret |= bit;
    }
    return true;
}

/* imap_list_args - see imap_parse.h */
bool
imap_list_args(const struct imap_cmd *cmd, struct imap_list *l, const char **why)
{
    static const char *const names[] = {    /* in IMAP_LIST_SEL_* order */
        "SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE", NULL,
    };
    bool lsub = strcmp(cmd->name, "LSUB") == 0;
    const struct imap_val *v = cmd->args;

    memset(l, 0, sizeof(*l));
    if (v && v->type == IMAP_VAL_LIST && !lsub) {
        for (const struct imap_val *e = v->first; e; e = e->next) {
            unsigned bit = option(e, names);

            if (bit == 0) {
                *why = "unknown LIST selection option";
                return false;
            }
            l->select |= bit;
        }
        /* RFC 5258 3.1: not alone, nor only with REMOTE */
        if ((l->select & IMAP_LIST_SEL_RECURSIVEMATCH)
            && !(l->select & (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE))) {
            *why = "RECURSIVEMATCH needs another selection option";
            return false;
        }
        l->extended = true;
        v = v->next;
    }
    if (!imap_val_astring(v) || v->next == NULL) {
        *why = "reference and mailbox pattern expected";
        return false;
    }
    l->ref = v->s;
    l->ref_len = v->len;
    v = v->next;
    if (v->type == IMAP_VAL_LIST && !lsub) {
        if (v->count == 0 || v->count > IMAP_PATTERNS_MAX) {
            *why = v->count ? "too many patterns" : "empty pattern list";
            return false;
        }
        for (const struct imap_val *e = v->first; e; e = e->next) {
            if (!list_mailbox(e)) {
                *why = "invalid mailbox pattern";
                return false;
            }
            l->pat[l->npat] = e->s;
            l->pat_len[l->npat++] = e->len;
        }
        l->extended = true;
    } else if (list_mailbox(v)) {
        l->pat[0] = v->s;
        l->pat_len[0] = v->len;
        l->npat = 1;
    } else {
        *why = "invalid mailbox pattern";
        return false;
    }
    v = v->next;
    if (v == NULL)
        return true;
    if (lsub || !imap_val_is(v, "RETURN")) {
        *why = "unexpected LIST argument";
        return false;
    }
    l->extended = true;
    return list_return(v->next, l, why);
}

/* imap_list_match - see imap_parse.h */
bool
imap_list_match(const char *pat, size_t plen, const char *name, size_t nlen, char delim)
{
    bool inbox = nlen >= 5 && memcmp(name, "INBOX", 5) == 0 && (nlen == 5 || name[5] == delim);
    bool *rows, *cur, *nxt, *tmp, match;
    size_t fixed = 0;
    char prev = 0;

    for (size_t i = 0; i < plen; i++)
        fixed += pat[i] != '*' && pat[i] != '%';
    if (fixed > nlen)
        return false;
    /* cur[j]: the pattern so far matches name[0..j) */
    rows = xcalloc(nlen + 1, 2 * sizeof(*rows));
    cur = rows;
    nxt = rows + nlen + 1;
    cur[0] = true;
    for (size_t i = 0; i < plen; prev = pat[i++]) {
        char pc = pat[i];

        /* "**", "%%" and "*%" match what "*" or "%" alone does: with the
         * count of fixed octets above this bounds the work to O(nlen^2) */
        if ((pc == '*' || pc == '%') && (prev == '*' || prev == pc))
            continue;
        nxt[0] = pc == '*' || pc == '%' ? cur[0] : false;
        for (size_t j = 1; j <= nlen; j++) {
            char nc = name[j - 1];

            if (pc == '*')
                nxt[j] = nxt[j - 1] || cur[j];
            else if (pc == '%')
                nxt[j] = cur[j] || (nxt[j - 1] && nc != delim);
            else
                nxt[j] = cur[j - 1] && (pc == nc || (inbox && j <= 5 && imap_upper(pc) == nc));
        }
        tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    match = cur[nlen];
    free(rows);
    return match;
}

/* ---- mailbox names ------------------------------------------------------- */

/* imap_mailbox_name - see imap_parse.h */
bool
imap_mailbox_name(const char *s, size_t n, char out[IMAP_MAILBOX_MAX + 1], const char **why)
{
    if (n == 0 || n > IMAP_MAILBOX_MAX) {
        *why = n ? "mailbox name too long" : "empty mailbox name";
        return false;
    }
    if (imap_word_eq(s, n, "INBOX")) {       /* RFC 9051 5.1: any case */
        memcpy(out, "INBOX", 6);
        return true;
    }
    for (size_t i = 0; i < n; ) {
        unsigned char c = (unsigned char)s[i];
        size_t k = imap_utf8_len((const unsigned char *)s + i, n - i);

        if (c < 0x20 || c == 0x7f)
            *why = "control character in mailbox name";
        else if (c == '/')
            *why = "'/' in mailbox name";
        else if (c == '*' || c == '%')
            *why = "wildcard in mailbox name";
        else if (k == 0)
            *why = "invalid UTF-8 in mailbox name";
        else {
            i += k;
            continue;
        }
        return false;
    }
    if (s[0] == '.' || s[n - 1] == '.' || memmem(s, n, "..", 2) != NULL) {
        *why = "empty level in mailbox name";
        return false;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* ---- modified UTF-7 (RFC 3501 5.1.3) ---------------------------------- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* put_utf8 - append code point cp as UTF-8 */
static void
put_utf8(struct buf *out, uint32_t cp)
{
    char u[4];
    size_t k;

    if (cp < 0x80) {
        u[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    buf_append(out, u, k);
}

/* mutf7_run - decode the base64 run s[*i..] up to its "-" */
static bool
mutf7_run(const char *s, size_t n, size_t *i, struct buf *out, const char **why)
{
    uint32_t bits = 0, high = 0;
    unsigned nbits = 0, units = 0;

    *why = "invalid modified UTF-7";
    for (; *i < n && s[*i] != '-'; (*i)++) {
        const char *d = s[*i] ? strchr(b64, s[*i]) : NULL;
        uint32_t u;

        if (d == NULL)
            return false;
        bits = (bits << 6 | (uint32_t)(d - b64)) & 0x3fffff;
        nbits += 6;
        if (nbits < 16)
            continue;
        nbits -= 16;
        u = bits >> nbits & 0xffff;
        units++;
        if (high) {                     /* a surrogate pair, RFC 2781 2.2 */
            if (u < 0xdc00 || u > 0xdfff)
                return false;
            put_utf8(out, 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00));
            high = 0;
        } else if (u >= 0xd800 && u <= 0xdbff)
            high = u;
        else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u <= 0x7e))
            return false;               /* lone low half; printable ASCII */
        else
            put_utf8(out, u);
    }
    /* ended by "-", whole units, zero padding, no half pair, not empty */
    if (*i == n || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0 || high || units == 0)
        return false;
    (*i)++;
    return true;
}

/* imap_mutf7_decode - see imap_parse.h */
bool
imap_mutf7_decode(const char *s, size_t n, struct buf *out, const char **why)
{
    for (size_t i = 0; i < n; ) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c > 0x7e) {
            *why = "invalid modified UTF-7";
            return false;
        }
        if (c != '&') {
            buf_putc(out, (char)c);
            i++;
        } else if (i + 1 < n && s[i + 1] == '-') {
            buf_putc(out, '&');
            i += 2;
        } else {
            i++;
            if (!mutf7_run(s, n, &i, out, why))
                return false;
            if (i + 1 < n && s[i] == '&' && s[i + 1] != '-') {
                *why = "invalid modified UTF-7";    /* two runs in a row */
                return false;
            }
        }
    }
    return true;
}

/* imap_mutf7_encode - see imap_parse.h */
bool
imap_mutf7_encode(const char *s, size_t n, struct buf *out, const char **why)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < n; ) {
        uint32_t bits = 0;
        unsigned nbits = 0;

        if (u[i] == '&') {
            buf_puts(out, "&-");
            i++;
            continue;
        }
        if (u[i] >= 0x20 && u[i] <= 0x7e) {
            buf_putc(out, (char)u[i++]);
            continue;
        }
        buf_putc(out, '&');
        while (i < n && !(u[i] >= 0x20 && u[i] <= 0x7e)) {
            size_t k = imap_utf8_len(u + i, n - i);
            uint32_t cp, units[2];
            unsigned nu = 1;

            if (k == 0) {
                *why = "invalid UTF-8";
                return false;
            }
            cp = k == 1 ? u[i] : k == 2 ? (u[i] & 0x1fu) : k == 3 ? (u[i] & 0x0fu) : (u[i] & 0x07u);
            for (size_t j = 1; j < k; j++)
                cp = cp << 6 | (u[i + j] & 0x3fu);
            i += k;
            units[0] = cp;
            if (cp >= 0x10000) {
                units[0] = 0xd800 + ((cp - 0x10000) >> 10);
                units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
                nu = 2;
            }
            for (unsigned j = 0; j < nu; j++) {
                bits = (bits << 16 | units[j]) & 0x3fffff;
                for (nbits += 16; nbits >= 6; nbits -= 6)
                    buf_putc(out, b64[bits >> (nbits - 6) & 0x3f]);
            }
        }
        if (nbits > 0)
            buf_putc(out, b64[bits << (6 - nbits) & 0x3f]);
        buf_putc(out, '-');
    }
    return true;
}
