/*
 * imap_fetch - the readers of the arguments of FETCH (attributes,
 * sections, partials and their names in the response), STORE and
 * APPEND, and the date and date-time parsers (RFC 9051 6.3.12, 6.4.5,
 * 6.4.6, 9); see imap_parse.h.
 *
 * They read a command that imap_parse() (imap_parse.c) has parsed into
 * values, and only check the shape of its arguments: this file does not
 * fetch, store nor append anything, does not know the mailbox (what "*"
 * is) nor the message (whether a section exists), and formats nothing of
 * the FETCH response but the attribute's name. CONDSTORE modifiers and
 * MULTIAPPEND are refused.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* util: no mail knowledge */
#include "util/date.h"
#include "util/buf.h"
#include "util/xmalloc.h"
/* imap */
#include "imap/imap_parse.h"
#include "imap/imap_parse_priv.h"

/* ---- FETCH ------------------------------------------------------------- */

/* is_alpha - ASCII letter */
static bool
is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

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
            for (; i < n - 1 && imap_is_astring_char((unsigned char)s[i]); i++)
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
    while (i < n && imap_is_digit((unsigned char)s[i])) {
        uint64_t part;

        for (k = i; k < n && imap_is_digit((unsigned char)s[k]); k++)
            ;
        if (!imap_nz_number(s + i, k - i, IMAP_PART_MAX, &part)
            || sect->nparts == IMAP_SECTION_DEPTH)
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
    if (imap_word_eq(s + i, k - i, "HEADER"))
        sect->text = IMAP_SECT_HEADER;
    else if (imap_word_eq(s + i, k - i, "TEXT"))
        sect->text = IMAP_SECT_TEXT;
    else if (imap_word_eq(s + i, k - i, "MIME") && sect->nparts > 0)
        sect->text = IMAP_SECT_MIME;
    else if (imap_word_eq(s + i, k - i, "HEADER.FIELDS"))
        sect->text = IMAP_SECT_FIELDS;
    else if (imap_word_eq(s + i, k - i, "HEADER.FIELDS.NOT"))
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
           && imap_nz_number(dot + 1, (size_t)(s + n - 1 - dot) - 1, IMAP_NUMBER64_MAX,
                             &att->length);
}

/* put_field - a header field name, upper-cased, as an atom or quoted */
static void
put_field(struct buf *b, const char *name)
{
    bool atom = imap_all_of(name, strlen(name), imap_is_astring_char);

    if (!atom)
        buf_putc(b, '"');
    for (const char *c = name; *c; c++) {
        if (*c == '"' || *c == '\\')
            buf_putc(b, '\\');
        buf_putc(b, imap_upper(*c));
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
            if (imap_word_eq(s, n, simple[i].name)) {
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
    if (imap_word_eq(s, pre, "BODY") || imap_word_eq(s, pre, "BODY.PEEK"))
        att->kind = IMAP_FETCH_SECTION;
    else if (imap_word_eq(s, pre, "BINARY") || imap_word_eq(s, pre, "BINARY.PEEK"))
        att->kind = IMAP_FETCH_BINARY;
    else if (imap_word_eq(s, pre, "BINARY.SIZE"))
        att->kind = IMAP_FETCH_BINARY_SIZE;
    else {
        *why = "unknown fetch attribute";
        return false;
    }
    att->peek = pre > 5 && imap_word_eq(open - 5, 5, ".PEEK");
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
    s->silent = imap_word_eq(w, n, "FLAGS.SILENT");
    if (!s->silent && !imap_word_eq(w, n, "FLAGS")) {
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
            if (!imap_flag_one(v, &s->flags, why))
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
        if (!imap_is_digit((unsigned char)s[*i + j]))
            return false;
        v = v * 10 + (s[*i + j] - '0');
    }
    *i += k;
    *out = v;
    return true;
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
    *days = date_days_from_civil(year, month + 1, day);
    return true;
}

/* imap_date_parse - see imap_parse.h */
bool
imap_date_parse(const char *s, size_t n, time_t *t)
{
    size_t i = 0;
    int day;
    int64_t days;

    if (!digits(s, n, &i, n > 1 && imap_is_digit((unsigned char)s[1]) ? 2 : 1, &day)
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
    if (!digits(s, n, &i, i == 0 && n > 1 && imap_is_digit((unsigned char)s[1]) ? 2 : 1, &day)
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
