/*
 * imap_parse - framing and parsing what IMAP clients send; see
 * imap_parse.h.
 *
 * Two passes over a command, on purpose: imap_scan() only finds where a
 * command ends (lines, literals, quoted strings), cheaply and
 * incrementally; imap_parse() then reads the complete command with the
 * full grammar. They agree on every valid command; on an invalid one
 * they may disagree only about why it is invalid.
 *
 * This file also reads what several commands share, sequence sets and
 * flag lists, and defines the character classes and small readers that
 * imap_fetch.c and imap_mailbox.c use too (imap_parse_priv.h). It does
 * not read the arguments of particular commands: FETCH, STORE, APPEND
 * and dates are in imap_fetch.c; LIST, STATUS, mailbox names and
 * modified UTF-7 in imap_mailbox.c. Nor does it dispatch commands, know
 * the session's state, or look at a mailbox.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* util: no mail knowledge */
#include "util/xmalloc.h"
/* imap */
#include "imap/imap_fmt.h"
#include "imap/imap_parse.h"
#include "imap/imap_parse_priv.h"

/* ---- character classes (RFC 9051 9) ------------------------------------ */

/* imap_is_digit - see imap_parse_priv.h */
bool
imap_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* imap_upper - see imap_parse_priv.h */
char
imap_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* is_atom_char - ATOM-CHAR: CHAR but atom-specials "(){ %*\"\\]" and CTL */
static bool
is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* imap_is_astring_char - see imap_parse_priv.h */
bool
imap_is_astring_char(unsigned char c)
{
    return is_atom_char(c) || c == ']';
}

/* is_tag_char - tag = 1*<any ASTRING-CHAR except "+"> */
static bool
is_tag_char(unsigned char c)
{
    return imap_is_astring_char(c) && c != '+';
}

/* is_token_char - what the tokenizer takes into an atom: every class
 * above, and "\" for flags; the readers check the class they need */
static bool
is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

/* imap_all_of - see imap_parse_priv.h */
bool
imap_all_of(const char *s, size_t n, bool (*class)(unsigned char))
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!class((unsigned char)s[i]))
            return false;
    return true;
}

/* imap_utf8_len - see imap_parse_priv.h */
size_t
imap_utf8_len(const unsigned char *s, size_t n)
{
    size_t k;
    unsigned char lo = 0x80, hi = 0xbf;

    if (n == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        k = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        k = 3;
        if (s[0] == 0xe0)
            lo = 0xa0;
        else if (s[0] == 0xed)
            hi = 0x9f;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        k = 4;
        if (s[0] == 0xf0)
            lo = 0x90;
        else if (s[0] == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    if (n < k || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < k; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return k;
}

/* imap_word_eq - see imap_parse_priv.h */
bool
imap_word_eq(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* imap_number - see imap_parse.h */
bool
imap_number(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9 || v > (max - d) / 10)   /* v * 10 + d > max */
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* imap_nz_number - see imap_parse_priv.h */
bool
imap_nz_number(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    return n > 0 && s[0] != '0' && imap_number(s, n, max, out);
}

/* ---- framing ------------------------------------------------------------ */

/* imap_scan_init - see imap_parse.h */
void
imap_scan_init(struct imap_scan *st)
{
    memset(st, 0, sizeof(*st));
}

/* imap_scan_resume - see imap_parse.h */
void
imap_scan_resume(struct imap_scan *st)
{
    st->pos = st->line = st->lit_end = 0;
    st->in_lit = st->in_quote = st->quote_esc = false;
    st->skipping = true;
}

/* read_words - the tag and the upper-cased name of the first line
 * p[0..end) into tag and name; "" for either when it is not valid */
static void
read_words(const char *p, size_t end, char *tag, char *name)
{
    size_t i = 0, k;

    tag[0] = name[0] = '\0';
    while (i < end && p[i] != ' ')
        i++;
    if (i > IMAP_TAG_MAX || !imap_all_of(p, i, is_tag_char))
        return;
    memcpy(tag, p, i);
    tag[i] = '\0';
    if (i == end)
        return;
    for (k = ++i; k < end && p[k] != ' '; k++)
        ;
    if (k - i > IMAP_NAME_MAX || !imap_all_of(p + i, k - i, is_atom_char))
        return;
    for (size_t j = i; j < k; j++)
        name[j - i] = imap_upper(p[j]);
    name[k - i] = '\0';
}

/* literal_header - does the line s[0..n) end in "{N}", "{N+}", "~{N}" or
 * "~{N+}"? N saturates at UINT64_MAX. */
static bool
literal_header(const char *s, size_t n, uint64_t *size, bool *nonsync, bool *binary)
{
    size_t end, start;

    if (n < 3 || s[n - 1] != '}')
        return false;
    end = n - 1;
    *nonsync = s[end - 1] == '+';
    if (*nonsync)
        end--;
    for (start = end; start > 0 && imap_is_digit((unsigned char)s[start - 1]); start--)
        ;
    if (start == end || start == 0 || s[start - 1] != '{')
        return false;
    *binary = start >= 2 && s[start - 2] == '~';
    if (!imap_number(s + start, end - start, IMAP_NUMBER64_MAX, size))
        *size = UINT64_MAX;
    return true;
}

/* words_out - the command's tag and name into out, as far as known */
static void
words_out(const struct imap_scan *st, const char *p, struct imap_scan_out *out)
{
    if (st->have_words) {
        memcpy(out->tag, st->tag, sizeof(out->tag));
        memcpy(out->name, st->name, sizeof(out->name));
    } else
        read_words(p, st->pos, out->tag, out->name);    /* first line, cut */
}

/* scan_dead - the command is too long: so it stays */
static enum imap_scan_status
scan_dead(struct imap_scan *st, const char *p, struct imap_scan_out *out)
{
    words_out(st, p, out);
    st->dead = true;
    return IMAP_SCAN_TOOLONG;
}

/* end_of_line - the line ended at st->pos with an eol-octet CRLF or LF:
 * the status to report, or IMAP_SCAN_MORE to go on scanning */
static enum imap_scan_status
end_of_line(struct imap_scan *st, const char *p, size_t eol,
            const struct imap_scan_limits *lim, struct imap_scan_out *out)
{
    enum imap_scan_status status;
    uint64_t size = 0, limit;
    bool nonsync = false, binary = false, lit;

    if (!st->have_words) {
        read_words(p, st->pos, st->tag, st->name);
        st->have_words = true;
    }
    /* a bare LF never announces a literal; imap_parse() refuses it */
    lit = eol == 2 && !st->in_quote
          && literal_header(p + st->line, st->pos - st->line, &size, &nonsync, &binary);
    st->pos += eol;
    st->text += eol;
    st->in_quote = st->quote_esc = false;
    if (st->text > IMAP_TEXT_MAX)
        return scan_dead(st, p, out);
    words_out(st, p, out);
    out->len = st->pos;
    if (!lit) {
        status = st->skipping ? IMAP_SCAN_SKIPPED : IMAP_SCAN_COMMAND;
        imap_scan_init(st);
        return status;
    }
    out->literal = size;
    out->nonsync = nonsync;
    out->binary = binary;
    if (++st->nlit > IMAP_LITERALS_MAX)
        return scan_dead(st, p, out);
    if (st->skipping && !nonsync) {
        /* the client waits for a "+" that will not come: it has its BAD */
        imap_scan_init(st);
        return IMAP_SCAN_SKIPPED;
    }
    limit = strcmp(st->name, "APPEND") == 0 ? lim->append : lim->other;
    if (nonsync && lim->nonsync != 0 && lim->nonsync < limit)
        limit = lim->nonsync;
    if (size > limit || size > SIZE_MAX - st->pos) {
        out->again = st->skipping;
        if (!nonsync)
            imap_scan_init(st);         /* the client will not send it */
        return IMAP_SCAN_TOOBIG;
    }
    st->in_lit = true;
    st->lit_end = st->pos + (size_t)size;
    return nonsync ? IMAP_SCAN_MORE : IMAP_SCAN_LITERAL;
}

/* imap_scan - see imap_parse.h */
enum imap_scan_status
imap_scan(struct imap_scan *st, const char *p, size_t n,
          const struct imap_scan_limits *lim, struct imap_scan_out *out)
{
    memset(out, 0, sizeof(*out));
    if (st->dead)
        return scan_dead(st, p, out);
    for (;;) {
        unsigned char c;

        if (st->in_lit) {
            if (n < st->lit_end) {
                if (n > st->pos)
                    st->pos = n;
                return IMAP_SCAN_MORE;
            }
            st->pos = st->line = st->lit_end;
            st->in_lit = false;
        }
        if (st->pos >= n)
            return IMAP_SCAN_MORE;
        c = (unsigned char)p[st->pos];
        if (c == '\n' || (c == '\r' && st->pos + 1 < n && p[st->pos + 1] == '\n')) {
            enum imap_scan_status s = end_of_line(st, p, c == '\r' ? 2 : 1, lim, out);

            if (s != IMAP_SCAN_MORE)
                return s;
            memset(out, 0, sizeof(*out));   /* past a {N+}: nothing to report */
            continue;
        }
        if (c == '\r' && st->pos + 1 >= n)
            return IMAP_SCAN_MORE;      /* is an LF next? */
        /* any other octet, a lone CR included, is part of the line */
        if (st->in_quote) {
            if (st->quote_esc)
                st->quote_esc = false;
            else if (c == '\\')
                st->quote_esc = true;
            else if (c == '"')
                st->in_quote = false;
        } else if (c == '"')
            st->in_quote = true;
        st->pos++;
        st->text++;
        if (st->pos - st->line > IMAP_LINE_MAX || st->text > IMAP_TEXT_MAX)
            return scan_dead(st, p, out);
    }
}

/* ---- the command as a tree ---------------------------------------------- */

struct parser {
    const char      *p;
    size_t           n, pos;
    struct imap_cmd *cmd;
    const char      *why;
};

/* fail - note the first reason and return false */
static bool
fail(struct parser *ps, const char *why)
{
    if (ps->why == NULL)
        ps->why = why;
    return false;
}

/* new_val - a zeroed value of type from the pool, or NULL */
static struct imap_val *
new_val(struct parser *ps, enum imap_val_type type)
{
    struct imap_cmd *cmd = ps->cmd;
    struct imap_val *v;

    if (cmd->npool == cmd->maxpool) {
        fail(ps, "too many values");
        return NULL;
    }
    v = &cmd->pool[cmd->npool++];
    memset(v, 0, sizeof(*v));
    v->type = type;
    return v;
}

/* arena_room - where the next value's octets go; the arena was sized for
 * every value's octets and NUL (each at most as long as it was sent) */
static char *
arena_room(struct parser *ps)
{
    return ps->cmd->arena + ps->cmd->arena_len;
}

/* arena_done - close the value of len octets started at arena_room() */
static const char *
arena_done(struct parser *ps, size_t len)
{
    struct imap_cmd *cmd = ps->cmd;
    char *s = cmd->arena + cmd->arena_len;

    s[len] = '\0';
    cmd->arena_len += len + 1;
    return s;
}

/* section_prefix - may an atom starting s[0..n) hold a "[...]" section
 * with spaces in it? (RFC 9051 9 fetch-att) */
static bool
section_prefix(const char *s, size_t n)
{
    return imap_word_eq(s, n, "BODY") || imap_word_eq(s, n, "BODY.PEEK")
           || imap_word_eq(s, n, "BINARY") || imap_word_eq(s, n, "BINARY.PEEK")
           || imap_word_eq(s, n, "BINARY.SIZE");
}

/* skip_section - pass the "[...]" at ps->pos: atom octets, spaces,
 * parentheses and quoted strings (a header-list), up to "]" */
static bool
skip_section(struct parser *ps)
{
    for (ps->pos++; ps->pos < ps->n; ps->pos++) {
        unsigned char c = (unsigned char)ps->p[ps->pos];

        if (c == ']') {
            ps->pos++;
            return true;
        }
        if (c == '"') {
            for (ps->pos++; ps->pos < ps->n && ps->p[ps->pos] != '"'; ps->pos++) {
                c = (unsigned char)ps->p[ps->pos];
                if (c == '\\') {
                    if (ps->pos + 1 >= ps->n
                        || (ps->p[ps->pos + 1] != '"' && ps->p[ps->pos + 1] != '\\'))
                        return fail(ps, "bad escape in a section");
                    ps->pos++;
                } else if (c < 0x20 || c >= 0x7f)   /* no field name has them */
                    return fail(ps, "bad character in a section");
            }
            if (ps->pos >= ps->n)
                return fail(ps, "unterminated section");
        } else if (c == '{')
            return fail(ps, "literals in a section are not supported");
        else if (c != ' ' && c != '(' && c != ')' && (!is_token_char(c) || c == '['))
            return fail(ps, "bad character in a section");
    }
    return fail(ps, "unterminated section");
}

/* parse_atom - an atom (or NIL) at ps->pos */
static bool
parse_atom(struct parser *ps, struct imap_val **out)
{
    size_t start = ps->pos;
    bool section = false;
    struct imap_val *v;

    while (ps->pos < ps->n) {
        unsigned char c = (unsigned char)ps->p[ps->pos];

        if (c == '[' && !section && section_prefix(ps->p + start, ps->pos - start)) {
            if (!skip_section(ps))
                return false;
            section = true;
        } else if (is_token_char(c))
            ps->pos++;
        else
            break;
    }
    v = new_val(ps, imap_word_eq(ps->p + start, ps->pos - start, "NIL") ? IMAP_VAL_NIL
                                                                  : IMAP_VAL_ATOM);
    if (v == NULL)
        return false;
    v->len = ps->pos - start;
    memcpy(arena_room(ps), ps->p + start, v->len);
    v->s = arena_done(ps, v->len);
    *out = v;
    return true;
}

/* parse_quoted - a quoted string at ps->pos (RFC 9051 9 quoted: 7-bit
 * TEXT-CHARs, "\" before '"' and "\" only, and UTF-8 for IMAP4rev2) */
static bool
parse_quoted(struct parser *ps, struct imap_val **out)
{
    struct imap_val *v = new_val(ps, IMAP_VAL_QUOTED);
    char *dst;
    size_t len = 0;

    if (v == NULL)
        return false;
    dst = arena_room(ps);
    for (ps->pos++; ps->pos < ps->n; ) {
        unsigned char c = (unsigned char)ps->p[ps->pos];
        size_t k = 1;

        if (c == '"') {
            ps->pos++;
            v->len = len;
            v->s = arena_done(ps, len);
            *out = v;
            return true;
        }
        if (c == '\\') {
            if (ps->pos + 1 >= ps->n || (ps->p[ps->pos + 1] != '"' && ps->p[ps->pos + 1] != '\\'))
                return fail(ps, "bad escape in a quoted string");
            ps->pos++;
        } else if (c == 0 || c == '\r' || c == '\n')
            return fail(ps, "bad character in a quoted string");
        else if (c >= 0x80) {
            k = imap_utf8_len((const unsigned char *)ps->p + ps->pos, ps->n - ps->pos);
            if (k == 0)
                return fail(ps, "invalid UTF-8 in a quoted string");
        }
        memcpy(dst + len, ps->p + ps->pos, k);
        len += k;
        ps->pos += k;
    }
    return fail(ps, "unterminated quoted string");
}

/* parse_literal - "{N}", "{N+}", "~{N}" or "~{N+}", CRLF, N octets */
static bool
parse_literal(struct parser *ps, struct imap_val **out)
{
    struct imap_val *v = new_val(ps, IMAP_VAL_LITERAL);
    size_t start;
    uint64_t size;

    if (v == NULL)
        return false;
    if (ps->p[ps->pos] == '~') {
        v->literal8 = true;
        ps->pos++;
    }
    start = ++ps->pos;                  /* past "{" */
    while (ps->pos < ps->n && imap_is_digit((unsigned char)ps->p[ps->pos]))
        ps->pos++;
    if (!imap_number(ps->p + start, ps->pos - start, IMAP_NUMBER64_MAX, &size))
        return fail(ps, "bad literal size");
    if (ps->pos < ps->n && ps->p[ps->pos] == '+')
        ps->pos++;
    if (ps->n - ps->pos < 3 || memcmp(ps->p + ps->pos, "}\r\n", 3) != 0)
        return fail(ps, "bad literal");
    ps->pos += 3;
    if (size > ps->n - ps->pos)
        return fail(ps, "literal longer than the command");
    v->len = (size_t)size;
    if (!v->literal8 && memchr(ps->p + ps->pos, '\0', v->len) != NULL)
        return fail(ps, "NUL in a literal");   /* CHAR8 is %x01-ff */
    memcpy(arena_room(ps), ps->p + ps->pos, v->len);
    v->s = arena_done(ps, v->len);
    ps->pos += v->len;
    *out = v;
    return true;
}

static bool parse_value(struct parser *ps, unsigned depth, struct imap_val **out);

/* parse_list - "(" [value *(SP value)] ")" at ps->pos, depth lists deep */
static bool
parse_list(struct parser *ps, unsigned depth, struct imap_val **out)
{
    struct imap_val *v, *last = NULL, *e;

    if (depth >= IMAP_DEPTH_MAX)
        return fail(ps, "lists nested too deeply");
    v = new_val(ps, IMAP_VAL_LIST);
    if (v == NULL)
        return false;
    ps->pos++;
    if (ps->pos < ps->n && ps->p[ps->pos] == ')') {
        ps->pos++;
        *out = v;
        return true;
    }
    for (;;) {
        if (!parse_value(ps, depth + 1, &e))
            return false;
        if (v->count == IMAP_LIST_MAX)
            return fail(ps, "list too long");
        if (last)
            last->next = e;
        else
            v->first = e;
        last = e;
        v->count++;
        if (ps->pos < ps->n && ps->p[ps->pos] == ')') {
            ps->pos++;
            *out = v;
            return true;
        }
        if (ps->pos >= ps->n || ps->p[ps->pos] != ' ')
            return fail(ps, "expected a space or ')'");
        ps->pos++;
    }
}

/* parse_value - one value at ps->pos, inside depth lists */
static bool
parse_value(struct parser *ps, unsigned depth, struct imap_val **out)
{
    unsigned char c;

    if (ps->pos >= ps->n)
        return fail(ps, "unexpected end of command");
    c = (unsigned char)ps->p[ps->pos];
    if (c == '(')
        return parse_list(ps, depth, out);
    if (c == '"')
        return parse_quoted(ps, out);
    if (c == '{' || (c == '~' && ps->pos + 1 < ps->n && ps->p[ps->pos + 1] == '{'))
        return parse_literal(ps, out);
    if (is_token_char(c))
        return parse_atom(ps, out);
    if (c == ' ')
        return fail(ps, "extra space");
    if (c == '\r' || c == '\n')
        return fail(ps, "trailing space");
    return fail(ps, "unexpected character");
}

/* read_word - the octets up to the next SP, CR, LF or the end */
static size_t
read_word(struct parser *ps)
{
    size_t start = ps->pos;

    while (ps->pos < ps->n && ps->p[ps->pos] != ' ' && ps->p[ps->pos] != '\r'
           && ps->p[ps->pos] != '\n')
        ps->pos++;
    return ps->pos - start;
}

/* read_name - the command name into cmd->name, upper-cased */
static bool
read_name(struct parser *ps)
{
    size_t start, len;

    if (ps->pos >= ps->n || ps->p[ps->pos] != ' ')
        return fail(ps, "missing command name");
    start = ++ps->pos;
    len = read_word(ps);
    if (len > IMAP_NAME_MAX || !imap_all_of(ps->p + start, len, is_atom_char))
        return fail(ps, "invalid command name");
    for (size_t i = 0; i < len; i++)
        ps->cmd->name[i] = imap_upper(ps->p[start + i]);
    ps->cmd->name[len] = '\0';
    return true;
}

/* parse_command - tag SP name [SP "UID" name] *(SP value) CRLF */
static bool
parse_command(struct parser *ps)
{
    static const char *const uid_cmds[] = {
        "COPY", "MOVE", "FETCH", "SEARCH", "STORE", "EXPUNGE",  /* RFC 9051 6.4.9 */
    };
    struct imap_cmd *cmd = ps->cmd;
    struct imap_val *last = NULL, *v;
    size_t len = read_word(ps);
    bool known = false;

    if (len > IMAP_TAG_MAX || !imap_all_of(ps->p, len, is_tag_char))
        return fail(ps, len == 0 ? "missing tag" : "invalid tag");
    memcpy(cmd->tag, ps->p, len);
    cmd->tag[len] = '\0';
    if (!read_name(ps))
        return false;
    if (strcmp(cmd->name, "UID") == 0) {
        if (!read_name(ps))
            return false;
        for (size_t i = 0; i < sizeof(uid_cmds) / sizeof(uid_cmds[0]); i++)
            known |= strcmp(cmd->name, uid_cmds[i]) == 0;
        if (!known)
            return fail(ps, "unknown UID command");
        cmd->uid = true;
    }
    while (ps->pos < ps->n && ps->p[ps->pos] == ' ') {
        ps->pos++;
        if (!parse_value(ps, 0, &v))
            return false;
        if (last)
            last->next = v;
        else
            cmd->args = v;
        last = v;
        cmd->nargs++;
    }
    if (ps->pos < ps->n && ps->p[ps->pos] == '\n')
        return fail(ps, "lines must end with CRLF");
    if (ps->n - ps->pos < 2 || ps->p[ps->pos] != '\r' || ps->p[ps->pos + 1] != '\n')
        return fail(ps, ps->pos < ps->n && ps->p[ps->pos] != '\r' ? "unexpected character"
                                                                  : "lines must end with CRLF");
    if (ps->pos + 2 != ps->n)
        return fail(ps, "more after the command's end");
    return true;
}

/* imap_parse - see imap_parse.h */
bool
imap_parse(const char *p, size_t n, struct imap_cmd *cmd, const char **why)
{
    struct parser ps = { .p = p, .n = n, .pos = 0, .cmd = cmd, .why = NULL };

    memset(cmd, 0, sizeof(*cmd));
    /* every value takes at least one octet of p, and its copy (plus NUL)
     * is no longer than what was sent, plus one */
    cmd->maxpool = n < IMAP_VALS_MAX ? n : IMAP_VALS_MAX;
    cmd->pool = xcalloc(cmd->maxpool + 1, sizeof(*cmd->pool));
    cmd->arena_cap = n + cmd->maxpool + 1;
    cmd->arena = xmalloc(cmd->arena_cap);
    if (parse_command(&ps)) {
        *why = NULL;
        return true;
    }
    *why = ps.why;
    return false;
}

/* imap_cmd_free - see imap_parse.h */
void
imap_cmd_free(struct imap_cmd *cmd)
{
    free(cmd->pool);
    free(cmd->arena);
    memset(cmd, 0, sizeof(*cmd));
}

/* imap_cmd_arg - see imap_parse.h */
const struct imap_val *
imap_cmd_arg(const struct imap_cmd *cmd, unsigned i)
{
    const struct imap_val *v = cmd->args;

    while (v && i-- > 0)
        v = v->next;
    return v;
}

/* imap_val_is - see imap_parse.h */
bool
imap_val_is(const struct imap_val *v, const char *word)
{
    return v && (v->type == IMAP_VAL_ATOM || v->type == IMAP_VAL_NIL)
           && imap_word_eq(v->s, v->len, word);
}

/* imap_val_astring - see imap_parse.h */
bool
imap_val_astring(const struct imap_val *v)
{
    if (v == NULL)
        return false;
    switch (v->type) {
    case IMAP_VAL_ATOM:     return imap_all_of(v->s, v->len, imap_is_astring_char);
    case IMAP_VAL_NIL:      return true;
    case IMAP_VAL_QUOTED:   return true;
    case IMAP_VAL_LITERAL:  return !v->literal8;
    case IMAP_VAL_LIST:     return false;
    }
    return false;
}

/* ---- sequence sets -------------------------------------------------------- */

/* seq_number - "*" or an nz-number, 32 bits */
static bool
seq_number(const char *s, size_t n, uint32_t *out)
{
    uint64_t v;

    if (n == 1 && s[0] == '*') {
        *out = IMAP_SEQ_STAR;
        return true;
    }
    if (!imap_nz_number(s, n, UINT32_MAX, &v))
        return false;
    *out = (uint32_t)v;
    return true;
}

/* imap_seq_parse - see imap_parse.h */
bool
imap_seq_parse(const struct imap_val *v, struct imap_seq *set, const char **why)
{
    size_t count = 1, start = 0;

    set->n = 0;
    set->r = NULL;
    if (v == NULL || v->type != IMAP_VAL_ATOM) {
        *why = "sequence set expected";
        return false;
    }
    if (v->len == 1 && v->s[0] == '$') {
        *why = "$ (SEARCHRES) is not supported";
        return false;
    }
    for (size_t i = 0; i < v->len; i++)
        count += v->s[i] == ',';
    if (count > IMAP_SEQ_MAX) {
        *why = "sequence set too long";
        return false;
    }
    set->r = xcalloc(count, sizeof(*set->r));
    for (size_t i = 0; i <= v->len; i++) {
        const char *part = v->s + start, *colon;
        size_t len = i - start;

        if (i < v->len && v->s[i] != ',')
            continue;
        colon = memchr(part, ':', len);
        struct imap_range *r = &set->r[set->n];
        if (colon == NULL ? !seq_number(part, len, &r->lo)
                          : !seq_number(part, (size_t)(colon - part), &r->lo)
                            || !seq_number(colon + 1, len - (size_t)(colon - part) - 1, &r->hi)) {
            imap_seq_free(set);
            *why = "invalid sequence set";
            return false;
        }
        if (colon == NULL)
            r->hi = r->lo;
        set->n++;
        start = i + 1;
    }
    return true;
}

/* imap_seq_contains - see imap_parse.h */
bool
imap_seq_contains(const struct imap_seq *set, uint32_t num, uint32_t star)
{
    for (size_t i = 0; i < set->n; i++) {
        uint32_t lo = set->r[i].lo == IMAP_SEQ_STAR ? star : set->r[i].lo;
        uint32_t hi = set->r[i].hi == IMAP_SEQ_STAR ? star : set->r[i].hi;

        if ((lo <= num && num <= hi) || (hi <= num && num <= lo))
            return true;
    }
    return false;
}

/* range_cmp - qsort() order of ranges: by lo */
static int
range_cmp(const void *a, const void *b)
{
    const struct imap_range *x = a, *y = b;

    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* imap_seq_resolve - see imap_parse.h */
void
imap_seq_resolve(const struct imap_seq *set, uint32_t star, struct imap_seq *out)
{
    size_t k = 0;

    out->n = 0;
    out->r = xcalloc(set->n ? set->n : 1, sizeof(*out->r));
    for (size_t i = 0; i < set->n; i++) {
        uint32_t lo = set->r[i].lo == IMAP_SEQ_STAR ? star : set->r[i].lo;
        uint32_t hi = set->r[i].hi == IMAP_SEQ_STAR ? star : set->r[i].hi;

        out->r[i].lo = lo < hi ? lo : hi;
        out->r[i].hi = lo < hi ? hi : lo;
    }
    if (set->n == 0)
        return;
    qsort(out->r, set->n, sizeof(*out->r), range_cmp);
    for (size_t i = 1; i < set->n; i++) {
        struct imap_range *cur = &out->r[k];

        /* overlapping or adjacent (when lo > hi >= 0, lo - 1 cannot wrap) */
        if (out->r[i].lo <= cur->hi || out->r[i].lo - 1 == cur->hi) {
            if (out->r[i].hi > cur->hi)
                cur->hi = out->r[i].hi;
        } else
            out->r[++k] = out->r[i];
    }
    out->n = k + 1;
}

/* imap_seq_free - see imap_parse.h */
void
imap_seq_free(struct imap_seq *set)
{
    free(set->r);
    set->r = NULL;
    set->n = 0;
}

/* ---- flags ------------------------------------------------------------- */

/* imap_flag_one - see imap_parse_priv.h */
bool
imap_flag_one(const struct imap_val *v, struct imap_flags *f, const char **why)
{
    static const struct { const char *name; unsigned bit; } sys[] = {
        { "\\Seen", IMAP_FLAG_SEEN }, { "\\Answered", IMAP_FLAG_ANSWERED },
        { "\\Flagged", IMAP_FLAG_FLAGGED }, { "\\Deleted", IMAP_FLAG_DELETED },
        { "\\Draft", IMAP_FLAG_DRAFT },
    };

    if (v == NULL || (v->type != IMAP_VAL_ATOM && v->type != IMAP_VAL_NIL)) {
        *why = "flag expected";
        return false;
    }
    if (v->s[0] == '\\') {
        for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
            if (imap_word_eq(v->s, v->len, sys[i].name)) {
                f->system |= sys[i].bit;
                return true;
            }
        /* RFC 9051 2.3.2: \Recent (rev1) is set by the server only */
        *why = imap_word_eq(v->s, v->len, "\\Recent") ? "\\Recent cannot be changed"
                                                 : "unknown system flag";
        return false;
    }
    if (!imap_all_of(v->s, v->len, is_atom_char)) {
        *why = "invalid flag";
        return false;
    }
    for (unsigned i = 0; i < f->nkeywords; i++)
        if (strcasecmp(f->keyword[i], v->s) == 0)
            return true;
    if (f->nkeywords == IMAP_KEYWORDS_MAX) {
        *why = "too many keywords";
        return false;
    }
    f->keyword[f->nkeywords++] = v->s;
    return true;
}

/* imap_flag_list - see imap_parse.h */
bool
imap_flag_list(const struct imap_val *v, struct imap_flags *f, const char **why)
{
    memset(f, 0, sizeof(*f));
    if (v == NULL || v->type != IMAP_VAL_LIST) {
        *why = "flag list expected";
        return false;
    }
    for (const struct imap_val *e = v->first; e; e = e->next)
        if (!imap_flag_one(e, f, why))
            return false;
    return true;
}
