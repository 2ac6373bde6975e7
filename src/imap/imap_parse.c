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
 * This file does not dispatch commands, know the session's state, nor
 * look at a mailbox. XXX: it is long; FETCH and the mailbox names could
 * move to files of their own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* util: no mail knowledge */
#include "util/buf.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/imap_fmt.h"
#include "imap/imap_parse.h"

/* ---- character classes (RFC 9051 9) ------------------------------------ */

/* is_digit - ASCII digit, independent of the locale */
static bool
is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* is_alpha - ASCII letter */
static bool
is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* upper - ASCII upper case */
static char
upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* is_atom_char - ATOM-CHAR: CHAR but atom-specials "(){ %*\"\\]" and CTL */
static bool
is_atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* is_astring_char - ASTRING-CHAR: ATOM-CHAR or "]" */
static bool
is_astring_char(unsigned char c)
{
    return is_atom_char(c) || c == ']';
}

/* is_tag_char - tag = 1*<any ASTRING-CHAR except "+"> */
static bool
is_tag_char(unsigned char c)
{
    return is_astring_char(c) && c != '+';
}

/* is_list_char - list-char = ATOM-CHAR / list-wildcards / resp-specials */
static bool
is_list_char(unsigned char c)
{
    return is_astring_char(c) || c == '%' || c == '*';
}

/* is_token_char - what the tokenizer takes into an atom: every class
 * above, and "\" for flags; the readers check the class they need */
static bool
is_token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '"';
}

/* all_of - every octet of s[0..n) is in class, and n > 0 */
static bool
all_of(const char *s, size_t n, bool (*class)(unsigned char))
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!class((unsigned char)s[i]))
            return false;
    return true;
}

/* utf8_len - the length of the valid UTF-8 sequence at s[0..n) (RFC 3629
 * 4: no overlongs, no surrogates, at most U+10FFFF), 0 if there is none */
static size_t
utf8_len(const unsigned char *s, size_t n)
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

/* word_eq - s[0..n) is word, any case */
static bool
word_eq(const char *s, size_t n, const char *word)
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

/* nz_number - s[0..n) is digit-nz *DIGIT, 1..max */
static bool
nz_number(const char *s, size_t n, uint64_t max, uint64_t *out)
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
    if (i > IMAP_TAG_MAX || !all_of(p, i, is_tag_char))
        return;
    memcpy(tag, p, i);
    tag[i] = '\0';
    if (i == end)
        return;
    for (k = ++i; k < end && p[k] != ' '; k++)
        ;
    if (k - i > IMAP_NAME_MAX || !all_of(p + i, k - i, is_atom_char))
        return;
    for (size_t j = i; j < k; j++)
        name[j - i] = upper(p[j]);
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
    for (start = end; start > 0 && is_digit((unsigned char)s[start - 1]); start--)
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
    return word_eq(s, n, "BODY") || word_eq(s, n, "BODY.PEEK") || word_eq(s, n, "BINARY")
           || word_eq(s, n, "BINARY.PEEK") || word_eq(s, n, "BINARY.SIZE");
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
    v = new_val(ps, word_eq(ps->p + start, ps->pos - start, "NIL") ? IMAP_VAL_NIL
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
            k = utf8_len((const unsigned char *)ps->p + ps->pos, ps->n - ps->pos);
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
    while (ps->pos < ps->n && is_digit((unsigned char)ps->p[ps->pos]))
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
    if (len > IMAP_NAME_MAX || !all_of(ps->p + start, len, is_atom_char))
        return fail(ps, "invalid command name");
    for (size_t i = 0; i < len; i++)
        ps->cmd->name[i] = upper(ps->p[start + i]);
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

    if (len > IMAP_TAG_MAX || !all_of(ps->p, len, is_tag_char))
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
           && word_eq(v->s, v->len, word);
}

/* imap_val_astring - see imap_parse.h */
bool
imap_val_astring(const struct imap_val *v)
{
    if (v == NULL)
        return false;
    switch (v->type) {
    case IMAP_VAL_ATOM:     return all_of(v->s, v->len, is_astring_char);
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
    if (!nz_number(s, n, UINT32_MAX, &v))
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

/* flag_one - add the flag v to f: "\" system flag or keyword atom */
static bool
flag_one(const struct imap_val *v, struct imap_flags *f, const char **why)
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
            if (word_eq(v->s, v->len, sys[i].name)) {
                f->system |= sys[i].bit;
                return true;
            }
        /* RFC 9051 2.3.2: \Recent (rev1) is set by the server only */
        *why = word_eq(v->s, v->len, "\\Recent") ? "\\Recent cannot be changed"
                                                 : "unknown system flag";
        return false;
    }
    if (!all_of(v->s, v->len, is_atom_char)) {
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
        if (!flag_one(e, f, why))
            return false;
    return true;
}

/* ---- FETCH ------------------------------------------------------------- */

/* section_fields - the header-list "(name *(SP name))" s[0..n) into sect;
 * names are astrings (atoms or quoted strings), RFC 5322 field names */
static bool
section_fields(const char *s, size_t n, struct imap_section *sect, const char **why)
{
    size_t i = 1;

    if (n < 3 || s[0] != '(' || s[n - 1] != ')') {
        *why = "header list expected";
        return false;
    }
    sect->fields = xcalloc(IMAP_FIELDS_MAX, sizeof(*sect->fields));
    for (;;) {
        char name[IMAP_LINE_MAX + 1];
        size_t len = 0;

        if (s[i] == '"') {
            for (i++; i < n - 1 && s[i] != '"'; i++) {
                if (s[i] == '\\')
                    i++;
                if (len < IMAP_LINE_MAX)
                    name[len++] = s[i];
            }
            if (i++ >= n - 1) {
                *why = "bad header field name";
                return false;
            }
        } else
            for (; i < n - 1 && is_astring_char((unsigned char)s[i]); i++)
                if (len < IMAP_LINE_MAX)
                    name[len++] = s[i];
        for (size_t k = 0; k < len; k++)
            if (name[k] <= 0x20 || name[k] >= 0x7f || name[k] == ':')  /* RFC 5322 ftext */
                len = 0;
        if (len == 0) {
            *why = "bad header field name";
            return false;
        }
        if (sect->nfields == IMAP_FIELDS_MAX) {
            *why = "too many header field names";
            return false;
        }
        sect->fields[sect->nfields++] = xstrndup(name, len);
        if (i == n - 1)
            return true;
        if (s[i] != ' ' || s[i + 1] == ' ' || s[i + 1] == ')') {
            *why = "bad header list";
            return false;
        }
        i++;
    }
}

/* section_spec - the section s[0..n) between "[" and "]" into sect:
 * section-spec, or section-part only for BINARY (RFC 9051 9) */
static bool
section_spec(const char *s, size_t n, bool binary, struct imap_section *sect,
             const char **why)
{
    size_t i = 0, k;

    *why = "invalid section";
    while (i < n && is_digit((unsigned char)s[i])) {
        uint64_t part;

        for (k = i; k < n && is_digit((unsigned char)s[k]); k++)
            ;
        if (!nz_number(s + i, k - i, IMAP_PART_MAX, &part) || sect->nparts == IMAP_SECTION_DEPTH)
            return false;
        sect->part[sect->nparts++] = (uint32_t)part;
        i = k;
        if (i == n)
            return true;
        if (s[i] != '.' || i + 1 == n)
            return false;
        i++;
    }
    if (i == n)
        return true;                    /* "[]": the whole message */
    if (binary)
        return false;
    for (k = i; k < n && (is_alpha((unsigned char)s[k]) || s[k] == '.'); k++)
        ;
    if (word_eq(s + i, k - i, "HEADER"))
        sect->text = IMAP_SECT_HEADER;
    else if (word_eq(s + i, k - i, "TEXT"))
        sect->text = IMAP_SECT_TEXT;
    else if (word_eq(s + i, k - i, "MIME") && sect->nparts > 0)
        sect->text = IMAP_SECT_MIME;
    else if (word_eq(s + i, k - i, "HEADER.FIELDS"))
        sect->text = IMAP_SECT_FIELDS;
    else if (word_eq(s + i, k - i, "HEADER.FIELDS.NOT"))
        sect->text = IMAP_SECT_FIELDS_NOT;
    else
        return false;
    if (sect->text != IMAP_SECT_FIELDS && sect->text != IMAP_SECT_FIELDS_NOT)
        return k == n;
    if (k == n || s[k] != ' ')
        return false;
    return section_fields(s + k + 1, n - k - 1, sect, why);
}

/* section_close - the "]" that closes the "[" at s[open], skipping
 * quoted strings; n if none */
static size_t
section_close(const char *s, size_t n, size_t open)
{
    for (size_t i = open + 1; i < n; i++) {
        if (s[i] == '"')
            for (i++; i < n && s[i] != '"'; i++)
                if (s[i] == '\\')
                    i++;
        if (i < n && s[i] == ']')
            return i;
    }
    return n;
}

/* fetch_partial - "<offset.length>" s[0..n) into att */
static bool
fetch_partial(const char *s, size_t n, struct imap_fetch_att *att)
{
    const char *dot = memchr(s, '.', n);

    if (n < 5 || s[0] != '<' || s[n - 1] != '>' || dot == NULL)
        return false;
    att->partial = true;
    return imap_number(s + 1, (size_t)(dot - s) - 1, IMAP_NUMBER64_MAX, &att->offset)
           && nz_number(dot + 1, (size_t)(s + n - 1 - dot) - 1, IMAP_NUMBER64_MAX, &att->length);
}

/* put_field - a header field name, upper-cased, as an atom or quoted */
static void
put_field(struct buf *b, const char *name)
{
    bool atom = all_of(name, strlen(name), is_astring_char);

    if (!atom)
        buf_putc(b, '"');
    for (const char *c = name; *c; c++) {
        if (*c == '"' || *c == '\\')
            buf_putc(b, '\\');
        buf_putc(b, upper(*c));
    }
    if (!atom)
        buf_putc(b, '"');
}

/* fetch_resp - the response name of a section attribute */
static char *
fetch_resp(const struct imap_fetch_att *att)
{
    static const char *const texts[] = {
        [IMAP_SECT_ALL] = "", [IMAP_SECT_HEADER] = "HEADER",
        [IMAP_SECT_FIELDS] = "HEADER.FIELDS", [IMAP_SECT_FIELDS_NOT] = "HEADER.FIELDS.NOT",
        [IMAP_SECT_TEXT] = "TEXT", [IMAP_SECT_MIME] = "MIME",
    };
    const struct imap_section *sect = &att->section;
    struct buf b = BUF_INIT;

    buf_puts(&b, att->kind == IMAP_FETCH_SECTION ? "BODY["
                 : att->kind == IMAP_FETCH_BINARY ? "BINARY[" : "BINARY.SIZE[");
    for (unsigned i = 0; i < sect->nparts; i++)
        buf_printf(&b, "%s%u", i ? "." : "", (unsigned)sect->part[i]);
    if (sect->text != IMAP_SECT_ALL)
        buf_printf(&b, "%s%s", sect->nparts ? "." : "", texts[sect->text]);
    if (sect->nfields) {
        buf_puts(&b, " (");
        for (unsigned i = 0; i < sect->nfields; i++) {
            if (i)
                buf_putc(&b, ' ');
            put_field(&b, sect->fields[i]);
        }
        buf_putc(&b, ')');
    }
    buf_putc(&b, ']');
    if (att->partial)   /* RFC 9051 7.5.2: the response gives the origin only */
        buf_printf(&b, "<%llu>", (unsigned long long)att->offset);
    return buf_steal(&b);
}

/* fetch_att - one fetch-att atom v into att (zeroed) */
static bool
fetch_att(const struct imap_val *v, struct imap_fetch_att *att, const char **why)
{
    static const struct { const char *name; enum imap_fetch_kind kind; } simple[] = {
        { "FLAGS", IMAP_FETCH_FLAGS }, { "UID", IMAP_FETCH_UID },
        { "INTERNALDATE", IMAP_FETCH_INTERNALDATE }, { "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
        { "ENVELOPE", IMAP_FETCH_ENVELOPE }, { "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
        { "BODY", IMAP_FETCH_BODY }, { "RFC822", IMAP_FETCH_RFC822 },
        { "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER }, { "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT },
    };
    const char *s, *open;
    size_t n, close, pre;

    if (v == NULL || v->type != IMAP_VAL_ATOM) {
        *why = v && v->type == IMAP_VAL_LIST ? "fetch modifiers (CONDSTORE) are not supported"
                                             : "fetch attribute expected";
        return false;
    }
    s = v->s;
    n = v->len;
    open = memchr(s, '[', n);
    if (open == NULL) {
        for (size_t i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
            if (word_eq(s, n, simple[i].name)) {
                att->kind = simple[i].kind;
                /* RFC 9051 6.4.5: RFC822 and RFC822.TEXT set \Seen */
                att->sets_seen = att->kind == IMAP_FETCH_RFC822
                                 || att->kind == IMAP_FETCH_RFC822_TEXT;
                att->resp = xstrdup(simple[i].name);
                return true;
            }
        *why = "unknown fetch attribute";
        return false;
    }
    pre = (size_t)(open - s);
    if (word_eq(s, pre, "BODY") || word_eq(s, pre, "BODY.PEEK"))
        att->kind = IMAP_FETCH_SECTION;
    else if (word_eq(s, pre, "BINARY") || word_eq(s, pre, "BINARY.PEEK"))
        att->kind = IMAP_FETCH_BINARY;
    else if (word_eq(s, pre, "BINARY.SIZE"))
        att->kind = IMAP_FETCH_BINARY_SIZE;
    else {
        *why = "unknown fetch attribute";
        return false;
    }
    att->peek = pre > 5 && word_eq(open - 5, 5, ".PEEK");
    att->sets_seen = !att->peek && att->kind != IMAP_FETCH_BINARY_SIZE;
    close = section_close(s, n, pre);
    if (close == n) {
        *why = "unterminated section";
        return false;
    }
    if (!section_spec(open + 1, close - pre - 1, att->kind != IMAP_FETCH_SECTION, &att->section,
                      why))
        return false;
    if (close + 1 < n && (att->kind == IMAP_FETCH_BINARY_SIZE
                          || !fetch_partial(s + close + 1, n - close - 1, att))) {
        *why = "invalid partial (<offset.length> expected)";
        return false;
    }
    att->resp = fetch_resp(att);
    return true;
}

/* fetch_add - a new zeroed attribute at the end of f */
static struct imap_fetch_att *
fetch_add(struct imap_fetch *f)
{
    f->att = xreallocarray(f->att, f->n + 1, sizeof(*f->att));
    memset(&f->att[f->n], 0, sizeof(f->att[0]));
    return &f->att[f->n++];
}

/* imap_fetch_args - see imap_parse.h */
bool
imap_fetch_args(const struct imap_cmd *cmd, struct imap_fetch *f, const char **why)
{
    static const struct { const char *name; const char *const atts[6]; } macros[] = {
        /* RFC 9051 6.4.5 */
        { "ALL",  { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL } },
        { "FAST", { "FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL } },
        { "FULL", { "FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", NULL } },
    };
    const struct imap_val *a = imap_cmd_arg(cmd, 1);

    memset(f, 0, sizeof(*f));
    if (cmd->nargs != 2) {
        *why = cmd->nargs > 2 ? "fetch modifiers (CONDSTORE) are not supported"
                              : "FETCH needs a sequence set and attributes";
        return false;
    }
    if (!imap_seq_parse(cmd->args, &f->seq, why))
        return false;
    for (size_t i = 0; i < sizeof(macros) / sizeof(macros[0]); i++) {
        if (!imap_val_is(a, macros[i].name))
            continue;
        for (const char *const *m = macros[i].atts; *m; m++) {
            struct imap_val atom = { .type = IMAP_VAL_ATOM, .s = *m, .len = strlen(*m) };

            fetch_att(&atom, fetch_add(f), why);    /* cannot fail */
        }
        return true;
    }
    if (a->type != IMAP_VAL_LIST) {
        if (fetch_att(a, fetch_add(f), why))
            return true;
    } else if (a->count == 0)
        *why = "empty fetch attribute list";
    else {
        const struct imap_val *e;

        for (e = a->first; e; e = e->next)
            if (!fetch_att(e, fetch_add(f), why))
                break;
        if (e == NULL)
            return true;
    }
    imap_fetch_free(f);
    return false;
}

/* imap_fetch_free - see imap_parse.h */
void
imap_fetch_free(struct imap_fetch *f)
{
    for (unsigned i = 0; i < f->n; i++) {
        for (unsigned k = 0; k < f->att[i].section.nfields; k++)
            free(f->att[i].section.fields[k]);
        free(f->att[i].section.fields);
        free(f->att[i].resp);
    }
    free(f->att);
    imap_seq_free(&f->seq);
    memset(f, 0, sizeof(*f));
}

/* ---- STORE --------------------------------------------------------------- */

/* imap_store_args - see imap_parse.h */
bool
imap_store_args(const struct imap_cmd *cmd, struct imap_store *s, const char **why)
{
    const struct imap_val *op = imap_cmd_arg(cmd, 1), *v;
    const char *w;
    size_t n;

    memset(s, 0, sizeof(*s));
    if (cmd->nargs < 3) {
        *why = "STORE needs a sequence set, FLAGS and flags";
        return false;
    }
    if (op->type == IMAP_VAL_LIST) {
        *why = "store modifiers (CONDSTORE) are not supported";
        return false;
    }
    if (op->type != IMAP_VAL_ATOM) {
        *why = "FLAGS, +FLAGS or -FLAGS expected";
        return false;
    }
    w = op->s;
    n = op->len;
    s->op = IMAP_STORE_SET;
    if (n > 0 && (w[0] == '+' || w[0] == '-')) {
        s->op = w[0] == '+' ? IMAP_STORE_ADD : IMAP_STORE_REMOVE;
        w++;
        n--;
    }
    s->silent = word_eq(w, n, "FLAGS.SILENT");
    if (!s->silent && !word_eq(w, n, "FLAGS")) {
        *why = "FLAGS, +FLAGS or -FLAGS expected";
        return false;
    }
    v = op->next;
    if (v->type == IMAP_VAL_LIST) {
        if (v->next != NULL) {
            *why = "one flag list expected";
            return false;
        }
        if (!imap_flag_list(v, &s->flags, why))
            return false;
    } else
        for (; v; v = v->next)
            if (!flag_one(v, &s->flags, why))
                return false;
    return imap_seq_parse(cmd->args, &s->seq, why);
}

/* imap_store_free - see imap_parse.h */
void
imap_store_free(struct imap_store *s)
{
    imap_seq_free(&s->seq);
}

/* ---- dates ------------------------------------------------------------- */

/* digits - exactly k digits at s[*i..] as a number */
static bool
digits(const char *s, size_t n, size_t *i, size_t k, int *out)
{
    int v = 0;

    if (n - *i < k)
        return false;
    for (size_t j = 0; j < k; j++) {
        if (!is_digit((unsigned char)s[*i + j]))
            return false;
        v = v * 10 + (s[*i + j] - '0');
    }
    *i += k;
    *out = v;
    return true;
}

/* days_from_civil - days since 1970-01-01 of y-m-d (proleptic Gregorian;
 * H. Hinnant's algorithm) */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* date_text - "d-Mon-yyyy" at s[*i..] (the day read by the caller) into
 * days since the epoch */
static bool
date_text(const char *s, size_t n, size_t *i, int day, int64_t *days)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int month = 0, year;

    if (n - *i < 5 || s[*i] != '-' || s[*i + 4] != '-')
        return false;
    while (month < 12 && strncasecmp(s + *i + 1, months + 3 * month, 3) != 0)
        month++;
    *i += 5;
    if (month == 12 || !digits(s, n, i, 4, &year) || day < 1 || day > mdays[month])
        return false;
    if (month == 1 && day == 29 && (year % 4 != 0 || (year % 100 == 0 && year % 400 != 0)))
        return false;
    *days = days_from_civil(year, month + 1, day);
    return true;
}

/* imap_date_parse - see imap_parse.h */
bool
imap_date_parse(const char *s, size_t n, time_t *t)
{
    size_t i = 0;
    int day;
    int64_t days;

    if (!digits(s, n, &i, n > 1 && is_digit((unsigned char)s[1]) ? 2 : 1, &day)
        || !date_text(s, n, &i, day, &days) || i != n)
        return false;
    *t = (time_t)(days * 86400);
    return true;
}

/* imap_date_time_parse - see imap_parse.h */
bool
imap_date_time_parse(const char *s, size_t n, time_t *t)
{
    size_t i = 0;
    int day, hh, mm, ss, zh, zm;
    int64_t days, secs;
    char sign;

    if (n > 0 && s[0] == ' ')
        i = 1;                          /* date-day-fixed: SP DIGIT */
    if (!digits(s, n, &i, i == 0 && n > 1 && is_digit((unsigned char)s[1]) ? 2 : 1, &day)
        || !date_text(s, n, &i, day, &days))
        return false;
    if (n - i != 15 || s[i] != ' ' || s[i + 3] != ':' || s[i + 6] != ':' || s[i + 9] != ' ')
        return false;
    sign = s[i + 10];
    i++;
    if (!digits(s, n, &i, 2, &hh) || !(i++, digits(s, n, &i, 2, &mm))
        || !(i++, digits(s, n, &i, 2, &ss)) || (sign != '+' && sign != '-'))
        return false;
    i += 2;
    if (!digits(s, n, &i, 2, &zh) || !digits(s, n, &i, 2, &zm))
        return false;
    if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
        return false;
    secs = days * 86400 + hh * 3600 + mm * 60 + ss;
    secs += (sign == '+' ? -1 : 1) * (zh * 3600 + zm * 60);   /* local - zone = UTC */
    *t = (time_t)secs;
    return true;
}

/* ---- APPEND ------------------------------------------------------------- */

/* imap_append_args - see imap_parse.h */
bool
imap_append_args(const struct imap_cmd *cmd, struct imap_append *a, const char **why)
{
    const struct imap_val *v = cmd->args;

    memset(a, 0, sizeof(*a));
    if (!imap_val_astring(v)) {
        *why = "mailbox name expected";
        return false;
    }
    a->mailbox = v->s;
    a->mailbox_len = v->len;
    v = v->next;
    if (v && v->type == IMAP_VAL_LIST) {
        if (!imap_flag_list(v, &a->flags, why))
            return false;
        v = v->next;
    }
    if (v && v->type == IMAP_VAL_QUOTED) {
        if (!imap_date_time_parse(v->s, v->len, &a->date)) {
            *why = "invalid date-time";
            return false;
        }
        a->has_date = true;
        v = v->next;
    }
    if (v == NULL || v->type != IMAP_VAL_LITERAL) {
        *why = "message literal expected";
        return false;
    }
    if (v->next) {
        *why = "MULTIAPPEND is not supported";
        return false;
    }
    a->msg = v->s;
    a->msg_len = v->len;
    a->binary = v->literal8;
    return true;
}

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

/* list_mailbox - list-mailbox: an atom of list-chars or a string */
static bool
list_mailbox(const struct imap_val *v)
{
    return v && (v->type == IMAP_VAL_ATOM ? all_of(v->s, v->len, is_list_char)
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
                nxt[j] = cur[j - 1] && (pc == nc || (inbox && j <= 5 && upper(pc) == nc));
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
    if (word_eq(s, n, "INBOX")) {       /* RFC 9051 5.1: any case */
        memcpy(out, "INBOX", 6);
        return true;
    }
    for (size_t i = 0; i < n; ) {
        unsigned char c = (unsigned char)s[i];
        size_t k = utf8_len((const unsigned char *)s + i, n - i);

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
            size_t k = utf8_len(u + i, n - i);
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
