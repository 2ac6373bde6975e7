/*
 * imap_search - the arguments of SEARCH and UID SEARCH (RFC 9051 6.4.4,
 * RFC 3501 6.4.4) as a tree of search keys.
 *
 * Pure functions over a command parsed by imap_parse(): no I/O, no
 * globals. This module does not evaluate the keys against messages, nor
 * know what "*" is; strings stay as sent (the session compares them case-
 * insensitively). RETURN (SAVE) and "$" (SEARCHRES, RFC 5182) are refused
 * with BAD, as the server does not advertise SEARCHRES.
 */
#ifndef POSTINO_IMAP_IMAP_SEARCH_H
#define POSTINO_IMAP_IMAP_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "imap/imap_parse.h"

#define IMAP_SEARCH_KEYS_MAX    512     /* keys (NOT, OR, lists included) */
#define IMAP_SEARCH_DEPTH       32      /* nesting of NOT, OR and lists */

enum imap_search_status {
    IMAP_SEARCH_OK = 0,
    IMAP_SEARCH_BAD,            /* "tag BAD why" */
    IMAP_SEARCH_BADCHARSET,     /* "tag NO [BADCHARSET (UTF-8 US-ASCII)] why" */
};

enum imap_skey_op {
    IMAP_SK_AND = 1,            /* all children: a list, the whole program */
    IMAP_SK_OR,                 /* either of two children */
    IMAP_SK_NOT,                /* not its one child */
    /* no argument */
    IMAP_SK_ALL, IMAP_SK_ANSWERED, IMAP_SK_DELETED, IMAP_SK_DRAFT,
    IMAP_SK_FLAGGED, IMAP_SK_SEEN, IMAP_SK_UNANSWERED, IMAP_SK_UNDELETED,
    IMAP_SK_UNDRAFT, IMAP_SK_UNFLAGGED, IMAP_SK_UNSEEN,
    IMAP_SK_NEW, IMAP_SK_OLD, IMAP_SK_RECENT,           /* IMAP4rev1 */
    /* str: a flag-keyword atom */
    IMAP_SK_KEYWORD, IMAP_SK_UNKEYWORD,
    /* str: an astring */
    IMAP_SK_BCC, IMAP_SK_CC, IMAP_SK_FROM, IMAP_SK_TO, IMAP_SK_SUBJECT,
    IMAP_SK_BODY, IMAP_SK_TEXT,
    IMAP_SK_HEADER,             /* str: the field name; str2: the string */
    /* date: INTERNALDATE (BEFORE, ON, SINCE) or Date: (SENT*) */
    IMAP_SK_BEFORE, IMAP_SK_ON, IMAP_SK_SINCE,
    IMAP_SK_SENTBEFORE, IMAP_SK_SENTON, IMAP_SK_SENTSINCE,
    /* num: RFC822.SIZE */
    IMAP_SK_LARGER, IMAP_SK_SMALLER,
    /* seq */
    IMAP_SK_UID,                /* UID sequence-set */
    IMAP_SK_SEQ,                /* a bare sequence-set: message numbers */
};

struct imap_skey {
    enum imap_skey_op  op;
    struct imap_skey  *child;   /* AND, OR, NOT: the first child */
    struct imap_skey  *next;    /* the next child of the same parent */
    const char        *str;     /* in the command, NUL-terminated */
    size_t             len;
    const char        *str2;
    size_t             len2;
    time_t             date;    /* 00:00:00 UTC of the day */
    uint64_t           num;     /* 0..number64 */
    struct imap_seq    seq;
};

/* RETURN options (RFC 9051 6.4.4.1) */
enum {
    IMAP_SEARCH_RET_MIN = 1, IMAP_SEARCH_RET_MAX = 2,
    IMAP_SEARCH_RET_ALL = 4, IMAP_SEARCH_RET_COUNT = 8,
};

struct imap_search {
    bool              ret_given;    /* RETURN (...) was given */
    unsigned          ret;          /* IMAP_SEARCH_RET_*: ALL when none was
                                       given, or RETURN () */
    struct imap_skey *root;         /* an IMAP_SK_AND of the keys */
    /* private */
    struct imap_skey *pool;
    unsigned          npool, maxpool;
};

/*
 * imap_search_args - read the arguments of SEARCH: [RETURN (opts)]
 * [CHARSET charset] key *(SP key). Keys and their words are any case;
 * dates are "d-Mon-yyyy", quoted or not. Charsets other than UTF-8 and
 * US-ASCII give IMAP_SEARCH_BADCHARSET. At most IMAP_SEARCH_KEYS_MAX
 * keys, nested at most IMAP_SEARCH_DEPTH deep. Returns IMAP_SEARCH_OK and
 * fills *s, whose strings point into cmd (keep it until imap_search_free()),
 * or another status with *why. Free *s with imap_search_free() in every
 * case.
 */
enum imap_search_status imap_search_args(const struct imap_cmd *cmd, struct imap_search *s,
                                         const char **why);

/* imap_search_free - release what imap_search_args() allocated */
void imap_search_free(struct imap_search *s);

#endif
