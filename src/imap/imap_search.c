/*
 * imap_search - SEARCH arguments as a tree of keys; see imap_search.h.
 *
 * A recursive descent over the values imap_parse() made: each key takes
 * its arguments from the values that follow it. The recursion is bounded
 * by IMAP_SEARCH_DEPTH (NOT NOT NOT ... nests without any parentheses).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* util: no mail knowledge */
#include "util/xmalloc.h"
/* imap */
#include "imap/imap_parse.h"
#include "imap/imap_search.h"

/* What a key takes after its name. */
enum skey_arg { ARG_NONE, ARG_FLAG, ARG_ASTRING, ARG_HEADER, ARG_DATE, ARG_NUMBER, ARG_SEQ,
                ARG_NOT, ARG_OR };

static const struct skey_def {
    const char        *name;
    enum imap_skey_op  op;
    enum skey_arg      arg;
} skey_defs[] = {                       /* RFC 9051 9 search-key, RFC 3501 9 */
    { "ALL", IMAP_SK_ALL, ARG_NONE },               { "ANSWERED", IMAP_SK_ANSWERED, ARG_NONE },
    { "DELETED", IMAP_SK_DELETED, ARG_NONE },       { "DRAFT", IMAP_SK_DRAFT, ARG_NONE },
    { "FLAGGED", IMAP_SK_FLAGGED, ARG_NONE },       { "SEEN", IMAP_SK_SEEN, ARG_NONE },
    { "UNANSWERED", IMAP_SK_UNANSWERED, ARG_NONE }, { "UNDELETED", IMAP_SK_UNDELETED, ARG_NONE },
    { "UNDRAFT", IMAP_SK_UNDRAFT, ARG_NONE },       { "UNFLAGGED", IMAP_SK_UNFLAGGED, ARG_NONE },
    { "UNSEEN", IMAP_SK_UNSEEN, ARG_NONE },         { "NEW", IMAP_SK_NEW, ARG_NONE },
    { "OLD", IMAP_SK_OLD, ARG_NONE },               { "RECENT", IMAP_SK_RECENT, ARG_NONE },
    { "KEYWORD", IMAP_SK_KEYWORD, ARG_FLAG },       { "UNKEYWORD", IMAP_SK_UNKEYWORD, ARG_FLAG },
    { "BCC", IMAP_SK_BCC, ARG_ASTRING },            { "CC", IMAP_SK_CC, ARG_ASTRING },
    { "FROM", IMAP_SK_FROM, ARG_ASTRING },          { "TO", IMAP_SK_TO, ARG_ASTRING },
    { "SUBJECT", IMAP_SK_SUBJECT, ARG_ASTRING },    { "BODY", IMAP_SK_BODY, ARG_ASTRING },
    { "TEXT", IMAP_SK_TEXT, ARG_ASTRING },          { "HEADER", IMAP_SK_HEADER, ARG_HEADER },
    { "BEFORE", IMAP_SK_BEFORE, ARG_DATE },         { "ON", IMAP_SK_ON, ARG_DATE },
    { "SINCE", IMAP_SK_SINCE, ARG_DATE },           { "SENTBEFORE", IMAP_SK_SENTBEFORE, ARG_DATE },
    { "SENTON", IMAP_SK_SENTON, ARG_DATE },         { "SENTSINCE", IMAP_SK_SENTSINCE, ARG_DATE },
    { "LARGER", IMAP_SK_LARGER, ARG_NUMBER },       { "SMALLER", IMAP_SK_SMALLER, ARG_NUMBER },
    { "UID", IMAP_SK_UID, ARG_SEQ },                { "NOT", IMAP_SK_NOT, ARG_NOT },
    { "OR", IMAP_SK_OR, ARG_OR },
};

struct sparser {
    struct imap_search *s;
    const char         *why;
};

/* sfail - note the first reason; NULL */
static struct imap_skey *
sfail(struct sparser *sp, const char *why)
{
    if (sp->why == NULL)
        sp->why = why;
    return NULL;
}

/* new_key - a zeroed key from the pool, or NULL */
static struct imap_skey *
new_key(struct sparser *sp, enum imap_skey_op op)
{
    struct imap_search *s = sp->s;
    struct imap_skey *k;

    if (s->npool == s->maxpool)
        return sfail(sp, "too many search keys");
    k = &s->pool[s->npool++];
    memset(k, 0, sizeof(*k));
    k->op = op;
    return k;
}

/* find_def - the key named by the atom v, or NULL */
static const struct skey_def *
find_def(const struct imap_val *v)
{
    for (size_t i = 0; i < sizeof(skey_defs) / sizeof(skey_defs[0]); i++)
        if (imap_val_is(v, skey_defs[i].name))
            return &skey_defs[i];
    return NULL;
}

/* is_seq_start - could the atom v be a sequence set? */
static bool
is_seq_start(const struct imap_val *v)
{
    return v->type == IMAP_VAL_ATOM
           && ((v->s[0] >= '0' && v->s[0] <= '9') || v->s[0] == '*' || v->s[0] == '$');
}

static struct imap_skey *parse_key(struct sparser *sp, const struct imap_val **cur,
                                   unsigned depth);

/* add_child - parse one key from *cur as the next child of parent */
static bool
add_child(struct sparser *sp, struct imap_skey *parent, struct imap_skey **last,
          const struct imap_val **cur, unsigned depth)
{
    struct imap_skey *k = parse_key(sp, cur, depth);

    if (k == NULL)
        return false;
    if (*last)
        (*last)->next = k;
    else
        parent->child = k;
    *last = k;
    return true;
}

/* key_arg - the argument of def from *cur into k */
static bool
key_arg(struct sparser *sp, const struct skey_def *def, struct imap_skey *k,
        const struct imap_val **cur)
{
    const struct imap_val *v = *cur;
    const char *why = NULL;

    if (v == NULL) {
        sfail(sp, "search key argument missing");
        return false;
    }
    *cur = v->next;
    switch (def->arg) {
    case ARG_FLAG:
        if (v->type != IMAP_VAL_ATOM || v->s[0] == '\\' || !imap_val_astring(v)
            || memchr(v->s, ']', v->len) != NULL)
            why = "keyword expected";
        break;
    case ARG_ASTRING:
        if (!imap_val_astring(v))
            why = "string expected";
        break;
    case ARG_HEADER:
        if (!imap_val_astring(v) || !imap_val_astring(v->next)) {
            why = "HEADER needs a field name and a string";
            break;
        }
        k->str2 = v->next->s;
        k->len2 = v->next->len;
        *cur = v->next->next;
        break;
    case ARG_DATE:
        if ((v->type != IMAP_VAL_ATOM && v->type != IMAP_VAL_QUOTED)
            || !imap_date_parse(v->s, v->len, &k->date))
            why = "invalid date (d-Mon-yyyy expected)";
        break;
    case ARG_NUMBER:
        if (v->type != IMAP_VAL_ATOM || !imap_number(v->s, v->len, IMAP_NUMBER64_MAX, &k->num))
            why = "number expected";
        break;
    case ARG_SEQ:
        if (!imap_seq_parse(v, &k->seq, &why))
            break;
        return true;
    default:
        return true;
    }
    if (why) {
        sfail(sp, why);
        return false;
    }
    k->str = v->s;
    k->len = v->len;
    return true;
}

/* parse_key - one search key from *cur, advancing it past its arguments */
static struct imap_skey *
parse_key(struct sparser *sp, const struct imap_val **cur, unsigned depth)
{
    const struct imap_val *v = *cur, *e;
    const struct skey_def *def;
    struct imap_skey *k, *last = NULL;
    const char *why;

    if (v == NULL)
        return sfail(sp, "search key expected");
    if (depth > IMAP_SEARCH_DEPTH)
        return sfail(sp, "search keys nested too deeply");
    *cur = v->next;
    if (v->type == IMAP_VAL_LIST) {     /* "(" search-key *(SP search-key) ")" */
        if (v->count == 0)
            return sfail(sp, "empty search key list");
        if ((k = new_key(sp, IMAP_SK_AND)) == NULL)
            return NULL;
        for (e = v->first; e; )
            if (!add_child(sp, k, &last, &e, depth + 1))
                return NULL;
        return k;
    }
    if (v->type == IMAP_VAL_ATOM && is_seq_start(v)) {
        if ((k = new_key(sp, IMAP_SK_SEQ)) == NULL)
            return NULL;
        if (!imap_seq_parse(v, &k->seq, &why))
            return sfail(sp, why);
        return k;
    }
    if ((def = find_def(v)) == NULL)
        return sfail(sp, "unknown search key");
    if ((k = new_key(sp, def->op)) == NULL)
        return NULL;
    if (def->arg == ARG_NOT || def->arg == ARG_OR) {
        if (!add_child(sp, k, &last, cur, depth + 1))
            return NULL;
        if (def->arg == ARG_OR && !add_child(sp, k, &last, cur, depth + 1))
            return NULL;
        return k;
    }
    if (def->arg != ARG_NONE && !key_arg(sp, def, k, cur))
        return NULL;
    return k;
}

/* search_return - RETURN's list v into s */
static bool
search_return(const struct imap_val *v, struct imap_search *s, const char **why)
{
    static const char *const names[] = { "MIN", "MAX", "ALL", "COUNT", NULL };

    if (v == NULL || v->type != IMAP_VAL_LIST) {
        *why = "RETURN (options) expected";
        return false;
    }
    s->ret_given = true;
    for (const struct imap_val *e = v->first; e; e = e->next) {
        unsigned i;

        for (i = 0; names[i] && !imap_val_is(e, names[i]); i++)
            ;
        if (names[i] == NULL) {
            *why = imap_val_is(e, "SAVE") ? "RETURN (SAVE) (SEARCHRES) is not supported"
                                          : "unknown RETURN option";
            return false;
        }
        s->ret |= 1u << i;
    }
    if (s->ret == 0)
        s->ret = IMAP_SEARCH_RET_ALL;   /* RFC 9051 6.4.4: "RETURN ()" is ALL */
    return true;
}

/* imap_search_args - see imap_search.h */
enum imap_search_status
imap_search_args(const struct imap_cmd *cmd, struct imap_search *s, const char **why)
{
    struct sparser sp = { .s = s, .why = NULL };
    const struct imap_val *v = cmd->args;
    struct imap_skey *last = NULL;

    memset(s, 0, sizeof(*s));
    s->ret = IMAP_SEARCH_RET_ALL;
    if (imap_val_is(v, "RETURN")) {
        s->ret = 0;
        if (!search_return(v->next, s, why))
            return IMAP_SEARCH_BAD;
        v = v->next->next;
    }
    if (imap_val_is(v, "CHARSET")) {
        v = v->next;
        if (!imap_val_astring(v)) {
            *why = "charset expected";
            return IMAP_SEARCH_BAD;
        }
        /* an astring holds no NUL: v->s is a C string */
        if (strcasecmp(v->s, "UTF-8") != 0 && strcasecmp(v->s, "US-ASCII") != 0) {
            *why = "unsupported charset";
            return IMAP_SEARCH_BADCHARSET;
        }
        v = v->next;
    }
    if (v == NULL) {
        *why = "search key expected";
        return IMAP_SEARCH_BAD;
    }
    /* every key but the root takes at least one value */
    s->maxpool = cmd->npool + 1 < IMAP_SEARCH_KEYS_MAX ? (unsigned)cmd->npool + 1
                                                       : IMAP_SEARCH_KEYS_MAX;
    s->pool = xcalloc(s->maxpool, sizeof(*s->pool));
    if ((s->root = new_key(&sp, IMAP_SK_AND)) != NULL)
        while (v && add_child(&sp, s->root, &last, &v, 0))
            ;
    if (sp.why) {
        *why = sp.why;
        return IMAP_SEARCH_BAD;
    }
    return IMAP_SEARCH_OK;
}

/* imap_search_free - see imap_search.h */
void
imap_search_free(struct imap_search *s)
{
    for (unsigned i = 0; i < s->npool; i++)
        imap_seq_free(&s->pool[i].seq);
    free(s->pool);
    memset(s, 0, sizeof(*s));
}
