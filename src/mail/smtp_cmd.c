/*
 * smtp_cmd - SMTP command lines and ESMTP parameters; see smtp_cmd.h.
 *
 * This module only splits and checks text. It knows nothing of session
 * state (whether MAIL is allowed now, whether SIZE exceeds our limit) and
 * does not parse the path of MAIL/RCPT: that is address.c's job.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/smtp_cmd.h"

/* The verbs we know. MAIL and RCPT are followed by a fixed word
 * ("FROM:" / "TO:") that belongs to the command, not to its argument. */
static const struct smtp_cmd_verb {
    const char     *name;
    enum smtp_verb  verb;
    const char     *word;       /* " FROM:" etc., or NULL */
} smtp_cmd_verbs[] = {
    { "HELO",     SMTP_CMD_HELO,     NULL },
    { "EHLO",     SMTP_CMD_EHLO,     NULL },
    { "MAIL",     SMTP_CMD_MAIL,     " FROM:" },
    { "RCPT",     SMTP_CMD_RCPT,     " TO:" },
    { "DATA",     SMTP_CMD_DATA,     NULL },
    { "BDAT",     SMTP_CMD_BDAT,     NULL },
    { "RSET",     SMTP_CMD_RSET,     NULL },
    { "NOOP",     SMTP_CMD_NOOP,     NULL },
    { "QUIT",     SMTP_CMD_QUIT,     NULL },
    { "HELP",     SMTP_CMD_HELP,     NULL },
    { "VRFY",     SMTP_CMD_VRFY,     NULL },
    { "EXPN",     SMTP_CMD_EXPN,     NULL },
    { "STARTTLS", SMTP_CMD_STARTTLS, NULL },
    { "AUTH",     SMTP_CMD_AUTH,     NULL },
    /* HTTP requests sent to the SMTP port (cross-protocol attacks) */
    { "GET",      SMTP_CMD_HTTP,     NULL },
    { "POST",     SMTP_CMD_HTTP,     NULL },
    { "HEAD",     SMTP_CMD_HTTP,     NULL },
    { "PUT",      SMTP_CMD_HTTP,     NULL },
    { "CONNECT",  SMTP_CMD_HTTP,     NULL },
};

/* One "KEYWORD[=VALUE]" of a parameter list. */
struct smtp_param {
    const char *key;
    size_t      keylen;
    const char *val;            /* NULL when there is no "=" */
    size_t      vallen;
};

static size_t smtp_cmd_trim(const char *s, size_t n);
static void smtp_cmd_err(char *err, size_t errlen, const char *what,
                         const struct smtp_param *pm);
static bool smtp_cmd_keyword_valid(const char *s, size_t n);
static bool smtp_cmd_value_valid(const char *s, size_t n);
static bool smtp_cmd_is(const struct smtp_param *pm, const char *key);
static bool smtp_cmd_val_is(const struct smtp_param *pm, const char *val);
static enum param_status smtp_cmd_next(const char *s, size_t n, size_t *pos,
                                       struct smtp_param *pm, bool *got,
                                       char *err, size_t errlen);
static bool smtp_cmd_atom_valid(const char *s, size_t n);
static bool smtp_cmd_notify(const char *s, size_t n, unsigned *notify);

/* smtp_cmd_trim - n without the trailing spaces of s[0..n) */
static size_t
smtp_cmd_trim(const char *s, size_t n)
{
    while (n > 0 && s[n - 1] == ' ')
        n--;
    return n;
}

/* smtp_cmd_parse - verb and argument of a command line; see smtp_cmd.h. */
bool
smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd)
{
    const char *sp = memchr(line, ' ', len);
    size_t vlen = sp ? (size_t)(sp - line) : len;

    cmd->verb = SMTP_CMD_UNKNOWN;
    cmd->arg = NULL;
    cmd->arglen = 0;
    for (size_t k = 0; k < sizeof(smtp_cmd_verbs) / sizeof(smtp_cmd_verbs[0]); k++) {
        const struct smtp_cmd_verb *v = &smtp_cmd_verbs[k];
        size_t i = vlen;

        if (strlen(v->name) != vlen || strncasecmp(line, v->name, vlen) != 0)
            continue;
        cmd->verb = v->verb;
        if (v->word != NULL) {
            /* RFC 5321 4.1.1.2/4.1.1.3: "MAIL FROM:" and "RCPT TO:" are
             * fixed strings; no space is allowed before the colon. The
             * path may follow the colon directly or after spaces. */
            size_t wlen = strlen(v->word);

            if (len - i >= wlen && strncasecmp(line + i, v->word, wlen) == 0) {
                cmd->arg = line + i + wlen;
                cmd->arglen = smtp_cmd_trim(cmd->arg, len - i - wlen);
            }
            return true;
        }
        while (i < len && line[i] == ' ')
            i++;
        if (i < len) {
            cmd->arg = line + i;
            cmd->arglen = smtp_cmd_trim(cmd->arg, len - i);
        }
        return true;
    }
    return false;
}

/* smtp_cmd_err - write "what: KEYWORD" into err, if the caller gave one */
static void
smtp_cmd_err(char *err, size_t errlen, const char *what, const struct smtp_param *pm)
{
    if (err == NULL || errlen == 0)
        return;
    if (pm != NULL) {
        int kl = pm->keylen > 32 ? 32 : (int)pm->keylen;
        snprintf(err, errlen, "%s: %.*s", what, kl, pm->key);
    } else
        snprintf(err, errlen, "%s", what);
}

/* smtp_cmd_keyword_valid - esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool
smtp_cmd_keyword_valid(const char *s, size_t n)
{
    if (n == 0 || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') &&
            !(c >= '0' && c <= '9') && c != '-')
            return false;
    }
    return true;
}

/* smtp_cmd_value_valid - esmtp-value = 1*(%d33-60 / %d62-126), with
 * UTF8-non-ascii allowed by RFC 6531 3.3 (checked by the keyword's own
 * rule when we know the keyword). */
static bool
smtp_cmd_value_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 33 || c == '=' || c == 127)
            return false;
    }
    return true;
}

/* smtp_cmd_is - the keyword of pm is key, ignoring case */
static bool
smtp_cmd_is(const struct smtp_param *pm, const char *key)
{
    return strlen(key) == pm->keylen && strncasecmp(pm->key, key, pm->keylen) == 0;
}

/* smtp_cmd_val_is - the value of pm is val, ignoring case */
static bool
smtp_cmd_val_is(const struct smtp_param *pm, const char *val)
{
    return strlen(val) == pm->vallen && strncasecmp(pm->val, val, pm->vallen) == 0;
}

/*
 * smtp_cmd_next - the next parameter of s[0..n) from *pos. Parameters
 * are separated by one or more spaces (RFC 5321 says one; being liberal
 * here costs nothing) and the list, when not empty, starts with a space.
 * *got is false at the end of the list. Keyword and value syntax is
 * checked here, what the value means is checked by the caller.
 */
static enum param_status
smtp_cmd_next(const char *s, size_t n, size_t *pos, struct smtp_param *pm,
              bool *got, char *err, size_t errlen)
{
    size_t i = *pos, start;
    const char *eq;

    *got = false;
    if (i == 0 && n > 0 && s[0] != ' ') {
        smtp_cmd_err(err, errlen, "missing space before parameters", NULL);
        return PARAM_SYNTAX;
    }
    while (i < n && s[i] == ' ')
        i++;
    if (i == n) {
        *pos = i;
        return PARAM_OK;
    }
    start = i;
    while (i < n && s[i] != ' ')
        i++;
    *pos = i;
    pm->key = s + start;
    eq = memchr(pm->key, '=', i - start);
    if (eq != NULL) {
        pm->keylen = (size_t)(eq - pm->key);
        pm->val = eq + 1;
        pm->vallen = i - start - pm->keylen - 1;
    } else {
        pm->keylen = i - start;
        pm->val = NULL;
        pm->vallen = 0;
    }
    if (!smtp_cmd_keyword_valid(pm->key, pm->keylen)) {
        smtp_cmd_err(err, errlen, "bad parameter keyword", NULL);
        return PARAM_SYNTAX;
    }
    if (pm->val != NULL && !smtp_cmd_value_valid(pm->val, pm->vallen)) {
        smtp_cmd_err(err, errlen, "bad parameter value", pm);
        return PARAM_SYNTAX;
    }
    *got = true;
    return PARAM_OK;
}

/* xtext_valid - xtext of RFC 3461 4; see smtp_cmd.h. */
bool
xtext_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '+') {
            /* hexchar = "+" 2(%x30-39 / %x41-46): upper case only */
            for (int k = 1; k <= 2; k++) {
                unsigned char h = i + (size_t)k < n ? (unsigned char)s[i + (size_t)k] : 0;

                if (!((h >= '0' && h <= '9') || (h >= 'A' && h <= 'F')))
                    return false;
            }
            i += 2;
        } else if (c < 33 || c > 126 || c == '=')
            return false;       /* xchar = "!".."~" except "+" and "=" */
    }
    return true;
}

/* Bits of the MAIL parameters seen, to refuse duplicates. */
#define SEEN_SIZE   0x01
#define SEEN_BODY   0x02
#define SEEN_UTF8   0x04
#define SEEN_RET    0x08
#define SEEN_ENVID  0x10
#define SEEN_AUTH   0x20
#define SEEN_NOTIFY 0x40
#define SEEN_ORCPT  0x80

/* mail_params_parse - parameters of MAIL FROM; see smtp_cmd.h. */
enum param_status
mail_params_parse(const char *s, size_t n, struct mail_params *p,
                  char *err, size_t errlen)
{
    struct smtp_param pm;
    size_t pos = 0;
    unsigned seen = 0, bit;
    enum param_status st;
    bool got;

    p->size = -1;
    p->body = BODY_NONE;
    p->ret = RET_NONE;
    p->smtputf8 = false;
    p->envid[0] = '\0';
    p->auth = false;
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    for (;;) {
        st = smtp_cmd_next(s, n, &pos, &pm, &got, err, errlen);
        if (st != PARAM_OK || !got)
            return st;
        if (smtp_cmd_is(&pm, "SIZE"))
            bit = SEEN_SIZE;
        else if (smtp_cmd_is(&pm, "BODY"))
            bit = SEEN_BODY;
        else if (smtp_cmd_is(&pm, "SMTPUTF8"))
            bit = SEEN_UTF8;
        else if (smtp_cmd_is(&pm, "RET"))
            bit = SEEN_RET;
        else if (smtp_cmd_is(&pm, "ENVID"))
            bit = SEEN_ENVID;
        else if (smtp_cmd_is(&pm, "AUTH"))
            bit = SEEN_AUTH;
        else {
            smtp_cmd_err(err, errlen, "unknown parameter", &pm);
            return PARAM_UNKNOWN;
        }
        if (seen & bit) {
            smtp_cmd_err(err, errlen, "duplicate parameter", &pm);
            return PARAM_SYNTAX;
        }
        seen |= bit;
        /* Every recognised MAIL parameter but SMTPUTF8 takes a value. */
        if ((bit == SEEN_UTF8) != (pm.val == NULL)) {
            smtp_cmd_err(err, errlen, bit == SEEN_UTF8 ? "unexpected value" :
                         "missing value", &pm);
            return PARAM_SYNTAX;
        }

        switch (bit) {
        case SEEN_SIZE: {
            /* RFC 1870: size-value = 1*20DIGIT; 18 digits always fit in
             * a long long, and nobody sends 10^18 octets. */
            long long v = 0;

            if (pm.vallen > 18)
                goto bad_value;
            for (size_t i = 0; i < pm.vallen; i++) {
                if (pm.val[i] < '0' || pm.val[i] > '9')
                    goto bad_value;
                v = v * 10 + (pm.val[i] - '0');
            }
            p->size = v;
            break;
        }
        case SEEN_BODY:
            /* RFC 6152. BINARYMIME (RFC 3030) is not advertised. */
            if (smtp_cmd_val_is(&pm, "7BIT"))
                p->body = BODY_7BIT;
            else if (smtp_cmd_val_is(&pm, "8BITMIME"))
                p->body = BODY_8BITMIME;
            else {
                smtp_cmd_err(err, errlen, "unsupported value", &pm);
                return PARAM_UNKNOWN;
            }
            break;
        case SEEN_UTF8:
            p->smtputf8 = true;     /* RFC 6531 3.4 */
            break;
        case SEEN_RET:
            if (smtp_cmd_val_is(&pm, "FULL"))
                p->ret = RET_FULL;
            else if (smtp_cmd_val_is(&pm, "HDRS"))
                p->ret = RET_HDRS;
            else
                goto bad_value;
            break;
        case SEEN_ENVID:
            if (pm.vallen > ENVID_MAX || !xtext_valid(pm.val, pm.vallen))
                goto bad_value;
            memcpy(p->envid, pm.val, pm.vallen);
            p->envid[pm.vallen] = '\0';
            break;
        case SEEN_AUTH:
            /* RFC 4954 5: AUTH=<> or AUTH=xtext-encoded mailbox */
            if (!(pm.vallen == 2 && memcmp(pm.val, "<>", 2) == 0) &&
                !xtext_valid(pm.val, pm.vallen))
                goto bad_value;
            p->auth = true;
            break;
        }
    }

bad_value:
    smtp_cmd_err(err, errlen, "bad value", &pm);
    return PARAM_SYNTAX;
}

/* smtp_cmd_atom_valid - Atom = 1*atext (RFC 5322 3.2.3), ASCII only */
static bool
smtp_cmd_atom_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') &&
            !(c >= '0' && c <= '9') && strchr("!#$%&'*+-/=?^_`{|}~", c) == NULL)
            return false;
    }
    return true;
}

/*
 * smtp_cmd_notify - RFC 3461 4.1:
 *   "NEVER" / 1#( "SUCCESS" / "FAILURE" / "DELAY" )
 * NEVER may not be combined with the others. A keyword given twice is
 * harmless and accepted.
 */
static bool
smtp_cmd_notify(const char *s, size_t n, unsigned *notify)
{
    size_t i = 0;

    *notify = 0;
    for (;;) {
        const char *comma = memchr(s + i, ',', n - i);
        struct smtp_param item = { NULL, 0, s + i, comma ? (size_t)(comma - s - i) : n - i };

        if (smtp_cmd_val_is(&item, "NEVER"))
            *notify |= NOTIFY_NEVER;
        else if (smtp_cmd_val_is(&item, "SUCCESS"))
            *notify |= NOTIFY_SUCCESS;
        else if (smtp_cmd_val_is(&item, "FAILURE"))
            *notify |= NOTIFY_FAILURE;
        else if (smtp_cmd_val_is(&item, "DELAY"))
            *notify |= NOTIFY_DELAY;
        else
            return false;       /* unknown or empty item */
        if (comma == NULL)
            break;
        i = (size_t)(comma - s) + 1;
    }
    return !((*notify & NOTIFY_NEVER) && *notify != NOTIFY_NEVER);
}

/* rcpt_params_parse - parameters of RCPT TO; see smtp_cmd.h. */
enum param_status
rcpt_params_parse(const char *s, size_t n, struct rcpt_params *p,
                  char *err, size_t errlen)
{
    struct smtp_param pm;
    size_t pos = 0;
    unsigned seen = 0, bit;
    enum param_status st;
    bool got;

    p->notify = 0;
    p->orcpt[0] = '\0';
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    for (;;) {
        st = smtp_cmd_next(s, n, &pos, &pm, &got, err, errlen);
        if (st != PARAM_OK || !got)
            return st;
        if (smtp_cmd_is(&pm, "NOTIFY"))
            bit = SEEN_NOTIFY;
        else if (smtp_cmd_is(&pm, "ORCPT"))
            bit = SEEN_ORCPT;
        else {
            smtp_cmd_err(err, errlen, "unknown parameter", &pm);
            return PARAM_UNKNOWN;
        }
        if (seen & bit) {
            smtp_cmd_err(err, errlen, "duplicate parameter", &pm);
            return PARAM_SYNTAX;
        }
        seen |= bit;
        if (pm.val == NULL) {
            smtp_cmd_err(err, errlen, "missing value", &pm);
            return PARAM_SYNTAX;
        }

        if (bit == SEEN_NOTIFY) {
            if (!smtp_cmd_notify(pm.val, pm.vallen, &p->notify))
                goto bad_value;
        } else {
            /* RFC 3461 4.2: addr-type ";" xtext, at most 500 characters.
             * XXX an empty address after the ";" is valid xtext but
             * names no recipient; it is refused. */
            const char *semi = memchr(pm.val, ';', pm.vallen);
            size_t tlen;

            if (semi == NULL || pm.vallen > ORCPT_MAX)
                goto bad_value;
            tlen = (size_t)(semi - pm.val);
            if (!smtp_cmd_atom_valid(pm.val, tlen) || tlen + 1 == pm.vallen ||
                !xtext_valid(semi + 1, pm.vallen - tlen - 1))
                goto bad_value;
            memcpy(p->orcpt, pm.val, pm.vallen);
            p->orcpt[pm.vallen] = '\0';
        }
    }

bad_value:
    smtp_cmd_err(err, errlen, "bad value", &pm);
    return PARAM_SYNTAX;
}
