/*
 * imap_parse - what IMAP clients send (RFC 9051 IMAP4rev2, RFC 3501
 * IMAP4rev1): framing commands with literals, parsing one command into
 * a tree of values, and typed readers of the arguments of FETCH, STORE,
 * APPEND, LIST, STATUS; sequence sets, flags, dates, mailbox names and
 * modified UTF-7. SEARCH is in imap_search.h.
 *
 * In three files: imap_parse.c (framing, the tree of values, sequence
 * sets, flag lists), imap_fetch.c (FETCH, STORE and APPEND arguments,
 * dates) and imap_mailbox.c (LIST and STATUS arguments, imap_list_match,
 * mailbox names, modified UTF-7); what they share is in imap_parse_priv.h.
 *
 * Pure functions: no I/O, no globals. This module does not know session
 * state (selected or not, rev1 or rev2), the mailbox (what "*" is), nor
 * the store; it only checks the shape of what the client sent. Every
 * error comes with a short English reason (a static string) for the
 * "tag BAD reason" reply.
 *
 * Not supported (the readers answer BAD): CONDSTORE modifiers (FETCH
 * CHANGEDSINCE, STORE UNCHANGEDSINCE), SEARCHRES ("$", RETURN (SAVE)),
 * MULTIAPPEND, CATENATE, literals inside a FETCH section's header list.
 */
#ifndef POSTINO_IMAP_IMAP_PARSE_H
#define POSTINO_IMAP_IMAP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct buf;

/* Limits on what a client may send. */
#define IMAP_LINE_MAX       8192    /* octets per line, CRLF and literals excluded */
#define IMAP_TEXT_MAX       65536   /* non-literal octets of one command */
#define IMAP_LITERALS_MAX   256     /* literals in one command */
#define IMAP_TAG_MAX        64      /* octets of a tag */
#define IMAP_NAME_MAX       32      /* octets of a command name */
#define IMAP_DEPTH_MAX      16      /* nesting of parenthesised lists */
#define IMAP_LIST_MAX       1024    /* elements of one list */
#define IMAP_VALS_MAX       8192    /* values (lists included) in one command */
#define IMAP_SEQ_MAX        4096    /* ranges of one sequence set */
#define IMAP_SECTION_DEPTH  32      /* part numbers of a FETCH section */
#define IMAP_PART_MAX       1000000 /* largest part number */
#define IMAP_FIELDS_MAX     128     /* names of HEADER.FIELDS (...) */
#define IMAP_KEYWORDS_MAX   64      /* keywords in one flag list */
#define IMAP_PATTERNS_MAX   32      /* patterns of one LIST */
#define IMAP_MAILBOX_MAX    255     /* octets of a mailbox name (UTF-8) */
#define IMAP_NUMBER64_MAX   UINT64_C(9223372036854775807)  /* RFC 9051 number64 */

/* ---- framing ----------------------------------------------------------- */

enum imap_scan_status {
    IMAP_SCAN_MORE = 0,     /* no complete command yet: read more, call again */
    IMAP_SCAN_COMMAND,      /* p[0..len) is one command, tag to final CRLF */
    IMAP_SCAN_LITERAL,      /* a synchronising literal {N} just ended a line:
                               send "+ ..." once (or refuse it: see below) */
    IMAP_SCAN_TOOBIG,       /* a literal over the caller's limit: see below */
    IMAP_SCAN_SKIPPED,      /* p[0..len) is the rest of a command already
                               answered after IMAP_SCAN_TOOBIG: drop it */
    IMAP_SCAN_TOOLONG,      /* a line over IMAP_LINE_MAX, more than
                               IMAP_TEXT_MAX octets of text or
                               IMAP_LITERALS_MAX literals: answer BAD and
                               close the connection (stays in this state) */
};

/* The literal limits, in octets; a literal over its limit is TOOBIG. */
struct imap_scan_limits {
    uint64_t append;        /* literals of APPEND (the message size limit) */
    uint64_t other;         /* literals of every other command (say 64 KiB) */
    uint64_t nonsync;       /* also for {N+}: 4096 under LITERAL- (RFC 7888),
                               0 for no extra limit (LITERAL+) */
};

/* What imap_scan() reports besides its status. */
struct imap_scan_out {
    size_t   len;           /* COMMAND, SKIPPED: octets of the command;
                               LITERAL, TOOBIG: octets through the CRLF that
                               ends the literal's header line */
    uint64_t literal;       /* LITERAL, TOOBIG: the announced size N */
    bool     nonsync;       /* LITERAL, TOOBIG: it was {N+} or ~{N+} */
    bool     binary;        /* LITERAL, TOOBIG: it was ~{N} (RFC 3516) */
    bool     again;         /* TOOBIG: in the rest of a command already
                               answered (after imap_scan_resume()): say
                               nothing, just skip it too */
    char     tag[IMAP_TAG_MAX + 1];   /* the command's tag; "" when not
                                         known yet or not a valid tag */
    char     name[IMAP_NAME_MAX + 1]; /* its name upper-cased, or "" */
};

/* The scanner's state between calls. Only imap_scan() changes it; the
 * session may read in_lit and lit_end after IMAP_SCAN_MORE to wait until
 * p holds lit_end octets before calling again. Offsets are into p. */
struct imap_scan {
    size_t   pos;           /* next octet of p to look at */
    size_t   line;          /* where the current line starts */
    size_t   lit_end;       /* in_lit: the octet after the literal */
    size_t   text;          /* non-literal octets so far */
    unsigned nlit;          /* literals so far */
    bool     in_lit, in_quote, quote_esc, skipping, dead, have_words;
    char     tag[IMAP_TAG_MAX + 1];
    char     name[IMAP_NAME_MAX + 1];
};

/* imap_scan_init - start scanning a new command (the state is reusable) */
void imap_scan_init(struct imap_scan *st);

/*
 * imap_scan - frame one command at the start of the receive buffer
 * p[0..n). Call it again with the same p (more octets appended, the
 * start unchanged) after IMAP_SCAN_MORE and IMAP_SCAN_LITERAL: only the
 * new octets are looked at, and a literal's octets are skipped over, so
 * a large APPEND costs O(n) in all. A line ends at CRLF; a bare LF also
 * ends it (so that a telnet user gets an answer), and imap_parse()
 * refuses such a command. A line ending in "{N}", "{N+}", "~{N}" or
 * "~{N+}" outside a quoted string announces a literal of N octets
 * (RFC 9051 4.3, RFC 7888 LITERAL+, RFC 3516 literal8). The limit of a
 * literal is lim->append when the command's name (its second word) is
 * APPEND, else lim->other, and lim->nonsync too for {N+}.
 *
 * What the session does with each status:
 *  COMMAND   imap_parse(p, out->len), drop p[0..len), imap_scan_init().
 *  LITERAL   send "+ Ready" and call again as data arrives; or, to refuse
 *            it (say over quota), answer "tag NO/BAD", drop p[0..len) and
 *            imap_scan_init(): the client then abandons the command.
 *  TOOBIG    answer "tag BAD" or "tag NO [TOOBIG]". A synchronising
 *            literal was not sent: drop p[0..len), imap_scan_init(). A
 *            non-synchronising one ({N+}) is coming anyway: drop
 *            p[0..len), then N more octets as they arrive, then call
 *            imap_scan_resume() and go on scanning: the rest of that
 *            command ends in IMAP_SCAN_SKIPPED.
 *  SKIPPED   drop p[0..len), imap_scan_init(), say nothing more.
 *  TOOLONG   answer "* BYE" or "tag BAD" and close.
 * out->tag and out->name are filled for every status but MORE, once the
 * first line had them ("" otherwise).
 */
enum imap_scan_status imap_scan(struct imap_scan *st, const char *p, size_t n,
                                const struct imap_scan_limits *lim,
                                struct imap_scan_out *out);

/* imap_scan_resume - continue after a skipped non-synchronising literal,
 * with the receive buffer now starting just past it; see imap_scan() */
void imap_scan_resume(struct imap_scan *st);

/* ---- one command as a tree of values ---------------------------------- */

enum imap_val_type {
    IMAP_VAL_ATOM = 1,      /* as sent; may hold "\", "%", "*", "]", and a
                               FETCH section: BODY.PEEK[HEADER.FIELDS (A B)]<0.9> */
    IMAP_VAL_NIL,           /* the atom NIL, any case (s is the atom as sent) */
    IMAP_VAL_QUOTED,        /* a quoted string, unescaped */
    IMAP_VAL_LITERAL,       /* a literal's octets (literal8: NUL allowed) */
    IMAP_VAL_LIST,          /* a parenthesised list */
};

struct imap_val {
    enum imap_val_type     type;
    bool                   literal8;    /* LITERAL sent as ~{N} */
    const char            *s;           /* all but LIST: the octets, with a NUL
                                           after them (not counted in len) */
    size_t                 len;
    const struct imap_val *first;       /* LIST: its first element or NULL */
    unsigned               count;       /* LIST: its number of elements */
    const struct imap_val *next;        /* the next value of the same list */
};

struct imap_cmd {
    char                   tag[IMAP_TAG_MAX + 1];   /* "" if none was read */
    char                   name[IMAP_NAME_MAX + 1]; /* upper-cased, "" if none */
    bool                   uid;         /* "UID FETCH ...": name is "FETCH" */
    unsigned               nargs;
    const struct imap_val *args;        /* first argument, linked by next */
    /* private */
    struct imap_val       *pool;
    size_t                 npool, maxpool;
    char                  *arena;
    size_t                 arena_len, arena_cap;
};

/*
 * imap_parse - parse one complete command p[0..n) (tag through the final
 * CRLF, literals included; what imap_scan() framed) into cmd:
 *   command = tag SP name *(SP value) CRLF, or tag SP "UID" SP name ...
 * for UID COPY, MOVE, FETCH, SEARCH, STORE and EXPUNGE. Values are
 * separated by exactly one space. The tag is 1..IMAP_TAG_MAX ASTRING-
 * CHARs but "+" (RFC 9051 9). Returns true, or false with *why set.
 * Either way cmd->tag and cmd->name are set when they could be read (for
 * "tag BAD why"), and cmd holds copies of every octet it refers to, so p
 * may go at once. Free it with imap_cmd_free() in both cases.
 */
bool imap_parse(const char *p, size_t n, struct imap_cmd *cmd, const char **why);

/* imap_cmd_free - release cmd's storage (harmless on a zeroed cmd) */
void imap_cmd_free(struct imap_cmd *cmd);

/* imap_cmd_arg - argument i (0-based) of cmd, or NULL */
const struct imap_val *imap_cmd_arg(const struct imap_cmd *cmd, unsigned i);

/* imap_val_is - v is the atom word, any case */
bool imap_val_is(const struct imap_val *v, const char *word);

/* imap_val_astring - v is an astring (RFC 9051 9: an atom of ASTRING-
 * CHARs, NIL, a quoted string or a literal, not literal8): v->s, v->len
 * hold its value, with no NUL inside */
bool imap_val_astring(const struct imap_val *v);

/* imap_number - s[0..n) is a decimal number 0..max: digits only */
bool imap_number(const char *s, size_t n, uint64_t max, uint64_t *out);

/* ---- sequence sets ------------------------------------------------------ */

#define IMAP_SEQ_STAR 0         /* "*" in a range: never a number here */

struct imap_range {
    uint32_t lo, hi;            /* as sent: 1..UINT32_MAX or IMAP_SEQ_STAR;
                                   lo may be above hi ("5:1" is 1:5) */
};

struct imap_seq {
    size_t             n;
    struct imap_range *r;       /* allocated: imap_seq_free() */
};

/*
 * imap_seq_parse - read the sequence set of the atom v (RFC 9051 9
 * sequence-set: "1:5,7,9:*", "*"), at most IMAP_SEQ_MAX ranges. "$"
 * (SEARCHRES) is refused. Returns true and fills *set, or false with
 * *why and *set empty.
 */
bool imap_seq_parse(const struct imap_val *v, struct imap_seq *set, const char **why);

/* imap_seq_contains - is num in set when "*" stands for star (the number
 * of messages, or the highest UID)? O(ranges) */
bool imap_seq_contains(const struct imap_seq *set, uint32_t num, uint32_t star);

/*
 * imap_seq_resolve - set with "*" replaced by star, as ranges lo <= hi
 * sorted and merged, into *out (allocated; free it with imap_seq_free()).
 * Walk these to visit each number once, in order. A star of 0 (empty
 * mailbox) leaves ranges that start at 0.
 */
void imap_seq_resolve(const struct imap_seq *set, uint32_t star, struct imap_seq *out);

/* imap_seq_free - release set's ranges (harmless when empty) */
void imap_seq_free(struct imap_seq *set);

/* ---- flags -------------------------------------------------------------- */

/* A flag list: the system flags as IMAP_FLAG_* bits (imap/imap_fmt.h),
 * keywords (RFC 9051 2.3.2 flag-keyword atoms) as sent, pointing into the
 * command. */
struct imap_flags {
    unsigned    system;
    unsigned    nkeywords;
    const char *keyword[IMAP_KEYWORDS_MAX];
};

/*
 * imap_flag_list - read the flag list "(\Seen $Label1)" v into *f (system
 * flags any case). \Recent and unknown "\" flags are refused, as are more
 * than IMAP_KEYWORDS_MAX keywords. Returns true, or false with *why.
 */
bool imap_flag_list(const struct imap_val *v, struct imap_flags *f, const char **why);

/* ---- FETCH ------------------------------------------------------------- */

enum imap_fetch_kind {
    IMAP_FETCH_FLAGS = 1, IMAP_FETCH_UID, IMAP_FETCH_INTERNALDATE,
    IMAP_FETCH_RFC822_SIZE, IMAP_FETCH_ENVELOPE, IMAP_FETCH_BODYSTRUCTURE,
    IMAP_FETCH_BODY,            /* BODY alone: the non-extensible structure */
    IMAP_FETCH_RFC822,          /* = BODY[] */
    IMAP_FETCH_RFC822_HEADER,   /* = BODY.PEEK[HEADER] */
    IMAP_FETCH_RFC822_TEXT,     /* = BODY[TEXT] */
    IMAP_FETCH_SECTION,         /* BODY[section]<partial>, BODY.PEEK[...] */
    IMAP_FETCH_BINARY,          /* BINARY[part]<partial>, BINARY.PEEK[...] */
    IMAP_FETCH_BINARY_SIZE,     /* BINARY.SIZE[part] */
};

/* The same values as enum imap_msg_sect of imap/message.h: the session
 * converts one into the other. */
enum imap_section_text {
    IMAP_SECT_ALL = 0,          /* no text part: the whole part (or message) */
    IMAP_SECT_HEADER, IMAP_SECT_FIELDS, IMAP_SECT_FIELDS_NOT,
    IMAP_SECT_TEXT, IMAP_SECT_MIME,     /* MIME only after a part number */
};

/* RFC 9051 6.4.5 section: part numbers, then maybe a text part. */
struct imap_section {
    unsigned                nparts;
    uint32_t                part[IMAP_SECTION_DEPTH];   /* 1..IMAP_PART_MAX */
    enum imap_section_text  text;
    unsigned                nfields;    /* FIELDS, FIELDS_NOT: 1..IMAP_FIELDS_MAX */
    char                  **fields;     /* field names as sent (printable
                                           ASCII but ':'), allocated */
};

struct imap_fetch_att {
    enum imap_fetch_kind kind;
    bool                 peek;          /* .PEEK was given */
    bool                 sets_seen;     /* fetching it sets \Seen: RFC822,
                                           RFC822.TEXT, BODY[...], BINARY[...] */
    struct imap_section  section;       /* SECTION, BINARY, BINARY_SIZE */
    bool                 partial;       /* <offset.length> was given */
    uint64_t             offset, length;    /* 0..number64, 1..number64 */
    char                *resp;          /* its name in the response, allocated:
                                           "RFC822.SIZE", "BODY[1.HEADER]",
                                           "BODY[HEADER.FIELDS (FROM TO)]<0>" */
};

struct imap_fetch {
    struct imap_seq        seq;
    unsigned               n;
    struct imap_fetch_att *att;         /* allocated, n of them */
};

/*
 * imap_fetch_args - read the arguments of FETCH (and UID FETCH):
 * sequence-set SP (ALL / FAST / FULL / fetch-att / "(" fetch-att *(SP
 * fetch-att) ")") (RFC 9051 6.4.5, 9). Section keywords are case-
 * insensitive; a partial must be <offset.length> (a bare <offset> is
 * only for responses). Returns true and fills *f (free it with
 * imap_fetch_free()), or false with *why and *f empty.
 */
bool imap_fetch_args(const struct imap_cmd *cmd, struct imap_fetch *f, const char **why);

/* imap_fetch_free - release what imap_fetch_args() allocated */
void imap_fetch_free(struct imap_fetch *f);

/* ---- STORE ------------------------------------------------------------- */

enum imap_store_op { IMAP_STORE_SET = 1, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
    struct imap_seq    seq;
    enum imap_store_op op;              /* FLAGS, +FLAGS, -FLAGS */
    bool               silent;          /* .SILENT */
    struct imap_flags  flags;
};

/*
 * imap_store_args - read the arguments of STORE (and UID STORE):
 * sequence-set SP ["+" / "-"] "FLAGS" [".SILENT"] SP (flag-list / flag
 * *(SP flag)) (RFC 9051 6.4.6). Returns true and fills *s (free it with
 * imap_store_free()), or false with *why and *s empty.
 */
bool imap_store_args(const struct imap_cmd *cmd, struct imap_store *s, const char **why);

/* imap_store_free - release what imap_store_args() allocated */
void imap_store_free(struct imap_store *s);

/* ---- APPEND, dates ----------------------------------------------------- */

struct imap_append {
    const char       *mailbox;          /* astring as sent, in the command */
    size_t            mailbox_len;
    struct imap_flags flags;            /* empty when none was given */
    bool              has_date;
    time_t            date;             /* the date-time, in UTC */
    const char       *msg;              /* the message, in the command */
    size_t            msg_len;
    bool              binary;           /* sent as literal8 ~{N} */
};

/*
 * imap_append_args - read the arguments of APPEND: mailbox [SP flag-list]
 * [SP date-time] SP literal (RFC 9051 6.3.12; literal8 for BINARY, RFC
 * 3516 4.4). One message only (no MULTIAPPEND). Returns true and fills
 * *a (nothing to free), or false with *why.
 */
bool imap_append_args(const struct imap_cmd *cmd, struct imap_append *a, const char **why);

/*
 * imap_date_time_parse - s[0..n) is a date-time without its quotes,
 * "dd-Mon-yyyy hh:mm:ss +zzzz" (RFC 9051 9; the day as "d", " d" or
 * "dd", the month any case): *t is that moment in UTC, the zone applied.
 */
bool imap_date_time_parse(const char *s, size_t n, time_t *t);

/* imap_date_parse - s[0..n) is a SEARCH date "d-Mon-yyyy" (day 1 or 2
 * digits): *t is 00:00:00 UTC of that day */
bool imap_date_parse(const char *s, size_t n, time_t *t);

/* ---- LIST, STATUS ------------------------------------------------------- */

/* RFC 5258 selection options, RFC 6154 SPECIAL-USE */
enum {
    IMAP_LIST_SEL_SUBSCRIBED = 1, IMAP_LIST_SEL_REMOTE = 2,
    IMAP_LIST_SEL_RECURSIVEMATCH = 4, IMAP_LIST_SEL_SPECIAL_USE = 8,
};
/* RFC 5258 return options, RFC 5819 STATUS, RFC 6154 SPECIAL-USE */
enum {
    IMAP_LIST_RET_SUBSCRIBED = 1, IMAP_LIST_RET_CHILDREN = 2,
    IMAP_LIST_RET_SPECIAL_USE = 4, IMAP_LIST_RET_STATUS = 8,
};
/* STATUS items (RFC 9051 6.3.11; RECENT is IMAP4rev1 only) */
enum {
    IMAP_STATUS_MESSAGES = 1, IMAP_STATUS_UIDNEXT = 2, IMAP_STATUS_UIDVALIDITY = 4,
    IMAP_STATUS_UNSEEN = 8, IMAP_STATUS_DELETED = 16, IMAP_STATUS_SIZE = 32,
    IMAP_STATUS_RECENT = 64,
};

struct imap_list {
    bool        extended;       /* selection options, RETURN or a pattern
                                   list were given (RFC 5258 3) */
    unsigned    select;         /* IMAP_LIST_SEL_* */
    unsigned    ret;            /* IMAP_LIST_RET_* */
    unsigned    status;         /* IMAP_STATUS_* of RETURN (STATUS (...)) */
    const char *ref;            /* reference name, in the command */
    size_t      ref_len;
    unsigned    npat;           /* 1..IMAP_PATTERNS_MAX */
    const char *pat[IMAP_PATTERNS_MAX];     /* may be empty: "" */
    size_t      pat_len[IMAP_PATTERNS_MAX];
};

/*
 * imap_list_args - read the arguments of LIST: [SP "(" select-opts ")"]
 * SP mailbox SP (pattern / "(" pattern *(SP pattern) ")") [SP "RETURN"
 * SP "(" return-opts ")"] (RFC 9051 6.3.9, RFC 5258); of LSUB (rev1):
 * the basic form only. Unknown options, and RECURSIVEMATCH without
 * another selection option but REMOTE, are errors (RFC 5258 3.1).
 * Returns true and fills *l (nothing to free), or false with *why.
 */
bool imap_list_args(const struct imap_cmd *cmd, struct imap_list *l, const char **why);

/*
 * imap_list_match - does the mailbox name[0..nlen) match the LIST pattern
 * pat[0..plen)? "*" matches anything, "%" anything but delim (RFC 9051
 * 6.3.9). INBOX (the name, and the first level of its children) matches
 * in any case. O(plen * nlen) time, no backtracking.
 */
bool imap_list_match(const char *pat, size_t plen, const char *name, size_t nlen,
                     char delim);

/* imap_status_items - the list v of STATUS items as IMAP_STATUS_* bits
 * (at least one, any case) */
bool imap_status_items(const struct imap_val *v, unsigned *items, const char **why);

struct imap_status {
    const char *mailbox;        /* astring as sent, in the command */
    size_t      mailbox_len;
    unsigned    items;          /* IMAP_STATUS_* */
};

/* imap_status_args - read the arguments of STATUS: mailbox SP "(" item
 * *(SP item) ")". Returns true (nothing to free), or false with *why. */
bool imap_status_args(const struct imap_cmd *cmd, struct imap_status *st, const char **why);

/* ---- mailbox names ------------------------------------------------------ */

/*
 * imap_mailbox_name - check the mailbox name s[0..n) (UTF-8, as a rev2
 * client sends it, or as imap_mutf7_decode() made it) for a Maildir++
 * store with "." as hierarchy delimiter, and copy it to out as a C
 * string: "INBOX" in any case is "INBOX". Refused: empty or over
 * IMAP_MAILBOX_MAX octets, invalid UTF-8, control characters, "/", the
 * wildcards "*" and "%", empty levels (a leading or trailing ".", "..").
 */
bool imap_mailbox_name(const char *s, size_t n, char out[IMAP_MAILBOX_MAX + 1],
                       const char **why);

/*
 * imap_mutf7_decode - append the UTF-8 form of the modified UTF-7 name
 * s[0..n) (RFC 3501 5.1.3) to out. Strict: only printable ASCII, "&-"
 * for "&", base64 runs of UTF-16 (pairs for non-BMP) ended by "-", with
 * zero padding bits, never holding what may be written directly, never
 * two runs in a row; so encode(decode(s)) is s. Returns false with *why
 * (out then holds some of the octets).
 */
bool imap_mutf7_decode(const char *s, size_t n, struct buf *out, const char **why);

/* imap_mutf7_encode - append the modified UTF-7 form of the UTF-8 text
 * s[0..n) to out. Returns false with *why on invalid UTF-8. */
bool imap_mutf7_encode(const char *s, size_t n, struct buf *out, const char **why);

#endif
