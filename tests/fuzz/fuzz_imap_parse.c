/*
 * fuzz_imap_parse - the octets an IMAP client sends, as one stream,
 * through imap_scan() as the session uses it (tests/unit/test_imap_parse.c
 * scan_events() does the same), then every framed command through
 * imap_parse() and every typed reader of imap_parse.h and imap_search.h.
 * Limits: APPEND literals 2048, others 256, {N+} 16 more when the input's
 * length is odd (LITERAL-).
 *
 * Checks what the headers promise:
 *  - the outcomes of imap_scan() do not depend on how the stream is cut:
 *    whole, byte by byte, and in pieces of a size taken from the input;
 *  - a COMMAND ends in LF within the bytes given; a LITERAL's header line
 *    ends in "}\r\n" and its size is within the limit, a TOOBIG's is not;
 *  - a parsed command: a valid tag (the one imap_scan() reported), an
 *    upper-case name, values as imap_val says (NUL after the octets,
 *    counts, depth, atoms of 0x21-0x7e (and spaces in a FETCH section),
 *    no NUL but in literal8);
 *  - sequence sets: ranges of 1..2^32-1 or "*", imap_seq_contains() agrees
 *    with imap_seq_resolve(), whose ranges are sorted and apart;
 *  - FETCH, STORE, APPEND, SEARCH, LIST, STATUS results within their
 *    bounds; dates format back to themselves; imap_list_match() agrees
 *    with a naive backtracking matcher on short inputs;
 *  - mailbox names: accepted ones are accepted again unchanged; modified
 *    UTF-7 both ways round trips exactly.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/buf.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/* tag_char - RFC 9051 tag octets: ASTRING-CHAR but "+" */
static bool
tag_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* check_seq - a parsed set: its ranges, and contains vs. resolve */
static void
check_seq(const struct imap_seq *set, uint32_t star)
{
    struct imap_seq res;
    uint32_t probe[8] = { 0, 1, 2, star, star + 1, UINT32_MAX, 0, 0 };

    CHECK(set->n >= 1 && set->n <= IMAP_SEQ_MAX);
    imap_seq_resolve(set, star, &res);
    CHECK(res.n >= 1 && res.n <= set->n);
    for (size_t i = 0; i < res.n; i++) {
        CHECK(res.r[i].lo <= res.r[i].hi);
        if (i > 0)
            CHECK(res.r[i].lo > res.r[i - 1].hi && res.r[i].lo - res.r[i - 1].hi > 1);
    }
    probe[6] = set->r[0].lo;
    probe[7] = set->r[set->n - 1].hi;
    for (size_t p = 0; p < 8; p++) {
        bool in = false;

        for (size_t i = 0; i < res.n; i++)
            in |= res.r[i].lo <= probe[p] && probe[p] <= res.r[i].hi;
        CHECK(in == imap_seq_contains(set, probe[p], star));
    }
    imap_seq_free(&res);
}

/* check_val - v and what it holds, depth lists deep; counts values */
static void
check_val(const struct imap_val *v, unsigned depth, size_t *nvals)
{
    size_t count = 0;

    ++*nvals;
    switch (v->type) {
    case IMAP_VAL_LIST:
        CHECK(depth < IMAP_DEPTH_MAX && v->s == NULL && !v->literal8);
        for (const struct imap_val *e = v->first; e; e = e->next) {
            check_val(e, depth + 1, nvals);
            count++;
        }
        CHECK(count == v->count && count <= IMAP_LIST_MAX);
        return;
    case IMAP_VAL_ATOM:
    case IMAP_VAL_NIL:
        CHECK(v->len >= 1 && !v->literal8);
        for (size_t i = 0; i < v->len; i++)     /* spaces in a FETCH section only */
            CHECK((v->s[i] > 0x20 && v->s[i] < 0x7f)
                  || (v->s[i] == ' ' && memchr(v->s, '[', i) != NULL));
        CHECK((v->type == IMAP_VAL_NIL) == (v->len == 3 && strncasecmp(v->s, "NIL", 3) == 0));
        break;
    case IMAP_VAL_QUOTED:
        CHECK(!v->literal8);
        for (size_t i = 0; i < v->len; i++)
            CHECK(v->s[i] != 0 && v->s[i] != '\r' && v->s[i] != '\n');
        break;
    case IMAP_VAL_LITERAL:
        CHECK(v->literal8 || memchr(v->s, 0, v->len) == NULL);
        break;
    default:
        CHECK(0);
    }
    CHECK(v->s != NULL && v->s[v->len] == '\0' && v->first == NULL);
}

/* check_date - a SEARCH date formats back to the same time */
static void
check_date(const struct imap_val *v)
{
    time_t t, t2;
    struct tm tm;
    char s[64];

    if (!imap_date_parse(v->s, v->len, &t))
        return;
    CHECK(t % 86400 == 0 && gmtime_r(&t, &tm) != NULL);
    snprintf(s, sizeof(s), "%d-%.3s-%04d", tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900);
    CHECK(imap_date_parse(s, strlen(s), &t2) && t2 == t);
}

/* check_date_time - a date-time formats back to the same time in UTC */
static void
check_date_time(const struct imap_val *v)
{
    time_t t, t2;
    struct tm tm;
    char s[64];

    if (!imap_date_time_parse(v->s, v->len, &t))
        return;
    CHECK(gmtime_r(&t, &tm) != NULL);
    if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
        return;                 /* the zone moved it out of 4 digits */
    snprintf(s, sizeof(s), "%02d-%.3s-%04d %02d:%02d:%02d +0000", tm.tm_mday,
             months + 3 * tm.tm_mon, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    CHECK(imap_date_time_parse(s, strlen(s), &t2) && t2 == t);
}

/* check_names - mailbox name and modified UTF-7 round trips of v */
static void
check_names(const struct imap_val *v)
{
    char out[IMAP_MAILBOX_MAX + 1], again[IMAP_MAILBOX_MAX + 1];
    struct buf a = BUF_INIT, b = BUF_INIT;
    const char *why;

    if (imap_mailbox_name(v->s, v->len, out, &why)) {
        CHECK(strlen(out) >= 1 && strlen(out) <= IMAP_MAILBOX_MAX);
        CHECK(strpbrk(out, "/*%") == NULL && out[0] != '.' && strstr(out, "..") == NULL);
        CHECK(imap_mailbox_name(out, strlen(out), again, &why) && strcmp(out, again) == 0);
    } else
        CHECK(why != NULL);
    if (imap_mutf7_decode(v->s, v->len, &a, &why)) {
        CHECK(imap_mutf7_encode(a.data ? a.data : "", a.len, &b, &why));
        CHECK(b.len == v->len && memcmp(b.data ? b.data : "", v->s, v->len) == 0);
    }
    buf_reset(&a);
    buf_reset(&b);
    if (imap_mutf7_encode(v->s, v->len, &a, &why)) {
        for (size_t i = 0; i < a.len; i++)
            CHECK(a.data[i] >= 0x20 && a.data[i] <= 0x7e);
        CHECK(imap_mutf7_decode(a.data ? a.data : "", a.len, &b, &why));
        CHECK(b.len == v->len && memcmp(b.data ? b.data : "", v->s, v->len) == 0);
    }
    buf_free(&a);
    buf_free(&b);
}

/* check_args - the readers that take one value, on each value */
static void
check_args(const struct imap_val *v, uint32_t star)
{
    for (; v; v = v->next) {
        struct imap_seq set;
        struct imap_flags f;
        unsigned items;
        const char *why = NULL;

        if (imap_seq_parse(v, &set, &why)) {
            check_seq(&set, star);
            imap_seq_free(&set);
        } else
            CHECK(why != NULL && set.n == 0 && set.r == NULL);
        if (imap_flag_list(v, &f, &why)) {
            CHECK((f.system & ~31u) == 0 && f.nkeywords <= IMAP_KEYWORDS_MAX);
            for (unsigned i = 0; i < f.nkeywords; i++)
                for (unsigned k = 0; k < i; k++)
                    CHECK(strcasecmp(f.keyword[i], f.keyword[k]) != 0);
        }
        if (imap_status_items(v, &items, &why))
            CHECK(items != 0 && items < 128);
        if (imap_val_astring(v))
            check_names(v);
        if (v->type == IMAP_VAL_ATOM || v->type == IMAP_VAL_QUOTED) {
            check_date(v);
            check_date_time(v);
        }
        if (v->type == IMAP_VAL_LIST)
            check_args(v->first, star);
    }
}

/* check_fetch - imap_fetch_args() results */
static void
check_fetch(const struct imap_cmd *cmd, uint32_t star)
{
    struct imap_fetch f;
    const char *why = NULL;

    if (!imap_fetch_args(cmd, &f, &why)) {
        CHECK(why != NULL && f.n == 0 && f.att == NULL && f.seq.r == NULL);
        return;
    }
    check_seq(&f.seq, star);
    CHECK(f.n >= 1 && f.n <= IMAP_LIST_MAX);
    for (unsigned i = 0; i < f.n; i++) {
        const struct imap_fetch_att *a = &f.att[i];
        const struct imap_section *s = &a->section;
        char origin[32];

        CHECK(a->kind >= IMAP_FETCH_FLAGS && a->kind <= IMAP_FETCH_BINARY_SIZE);
        CHECK(a->resp && a->resp[0] && strpbrk(a->resp, "\r\n") == NULL);
        CHECK(!(a->peek && a->sets_seen));
        CHECK(s->nparts <= IMAP_SECTION_DEPTH && s->nfields <= IMAP_FIELDS_MAX);
        for (unsigned k = 0; k < s->nparts; k++)
            CHECK(s->part[k] >= 1 && s->part[k] <= IMAP_PART_MAX);
        CHECK((s->nfields > 0) == (s->text == IMAP_SECT_FIELDS || s->text == IMAP_SECT_FIELDS_NOT));
        CHECK(s->text != IMAP_SECT_MIME || s->nparts > 0);
        for (unsigned k = 0; k < s->nfields; k++) {
            CHECK(s->fields[k][0] != '\0');
            for (const char *c = s->fields[k]; *c; c++)
                CHECK(*c > 0x20 && *c < 0x7f && *c != ':');
        }
        if (a->kind != IMAP_FETCH_SECTION)
            CHECK(s->text == IMAP_SECT_ALL);
        CHECK(!a->partial || (a->length >= 1 && a->length <= IMAP_NUMBER64_MAX
                              && a->offset <= IMAP_NUMBER64_MAX));
        snprintf(origin, sizeof(origin), "<%llu>", (unsigned long long)a->offset);
        CHECK(!a->partial || strstr(a->resp, origin) != NULL);
    }
    imap_fetch_free(&f);
}

/* check_search - a key tree: counts, shapes, depth */
static size_t
check_skey(const struct imap_skey *k, unsigned depth, uint32_t star)
{
    size_t n = 1, children = 0;

    CHECK(depth <= IMAP_SEARCH_DEPTH + 1);
    for (const struct imap_skey *c = k->child; c; c = c->next) {
        n += check_skey(c, depth + 1, star);
        children++;
    }
    switch (k->op) {
    case IMAP_SK_AND:   CHECK(children >= 1); break;
    case IMAP_SK_OR:    CHECK(children == 2); break;
    case IMAP_SK_NOT:   CHECK(children == 1); break;
    case IMAP_SK_UID: case IMAP_SK_SEQ:
        CHECK(children == 0);
        check_seq(&k->seq, star);
        break;
    case IMAP_SK_HEADER:
        CHECK(k->str2 != NULL && k->str2[k->len2] == '\0');
        /* fall through */
    case IMAP_SK_KEYWORD: case IMAP_SK_UNKEYWORD: case IMAP_SK_BCC: case IMAP_SK_CC:
    case IMAP_SK_FROM: case IMAP_SK_TO: case IMAP_SK_SUBJECT: case IMAP_SK_BODY:
    case IMAP_SK_TEXT:
        CHECK(children == 0 && k->str != NULL && k->str[k->len] == '\0');
        CHECK(memchr(k->str, 0, k->len) == NULL);
        break;
    case IMAP_SK_BEFORE: case IMAP_SK_ON: case IMAP_SK_SINCE: case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON: case IMAP_SK_SENTSINCE:
        CHECK(children == 0 && k->date % 86400 == 0);
        break;
    case IMAP_SK_LARGER: case IMAP_SK_SMALLER:
        CHECK(children == 0 && k->num <= IMAP_NUMBER64_MAX);
        break;
    default:
        CHECK(children == 0 && k->op >= IMAP_SK_ALL && k->op <= IMAP_SK_RECENT);
    }
    return n;
}

/* check_search - imap_search_args() results */
static void
check_search(const struct imap_cmd *cmd, uint32_t star)
{
    struct imap_search s;
    const char *why = NULL;
    enum imap_search_status st = imap_search_args(cmd, &s, &why);

    if (st == IMAP_SEARCH_OK) {
        CHECK(s.root && s.root->op == IMAP_SK_AND);
        CHECK(s.ret != 0 && (s.ret & ~15u) == 0);
        CHECK(check_skey(s.root, 0, star) <= IMAP_SEARCH_KEYS_MAX);
    } else
        CHECK((st == IMAP_SEARCH_BAD || st == IMAP_SEARCH_BADCHARSET) && why != NULL);
    imap_search_free(&s);
}

/* naive_match - imap_list_match() by backtracking, for short inputs */
static bool
naive_match(const char *p, size_t pl, const char *n, size_t nl, size_t j, bool inbox, char d)
{
    if (pl == 0)
        return j == nl;
    if (p[0] == '*' || p[0] == '%') {
        for (size_t k = j; k <= nl; k++) {
            if (naive_match(p + 1, pl - 1, n, nl, k, inbox, d))
                return true;
            if (p[0] == '%' && k < nl && n[k] == d)
                return false;
        }
        return false;
    }
    return j < nl
           && (p[0] == n[j] || (inbox && j < 5 && p[0] >= 'a' && p[0] <= 'z' && p[0] - 32 == n[j]))
           && naive_match(p + 1, pl - 1, n, nl, j + 1, inbox, d);
}

/* check_list - imap_list_args() results, and the matcher */
static void
check_list(const struct imap_cmd *cmd)
{
    struct imap_list l;
    const char *why = NULL;

    if (!imap_list_args(cmd, &l, &why)) {
        CHECK(why != NULL);
        return;
    }
    CHECK(l.npat >= 1 && l.npat <= IMAP_PATTERNS_MAX && l.ref != NULL);
    CHECK((l.select & ~15u) == 0 && (l.ret & ~15u) == 0);
    CHECK((l.status != 0) == ((l.ret & IMAP_LIST_RET_STATUS) != 0));
    CHECK(l.extended || (l.select == 0 && l.ret == 0 && l.npat == 1));
    for (unsigned i = 0; i < l.npat; i++) {
        const char *p = l.pat[i];
        size_t pl = l.pat_len[i], nl = l.ref_len;
        bool inbox = nl >= 5 && memcmp(l.ref, "INBOX", 5) == 0 && (nl == 5 || l.ref[5] == '.');

        if (pl <= 12 && nl <= 12)
            CHECK(imap_list_match(p, pl, l.ref, nl, '.')
                  == naive_match(p, pl, l.ref, nl, 0, inbox, '.'));
        else
            (void)imap_list_match(p, pl, l.ref, nl, '.');
    }
}

/* check_command - one framed command through every reader */
static void
check_command(const char *p, size_t n, const struct imap_scan_out *out, uint32_t star)
{
    char *copy = malloc(n ? n : 1);     /* exact size: ASan sees overreads */
    struct imap_cmd cmd;
    struct imap_store st;
    struct imap_append ap;
    struct imap_status stat;
    const char *why = NULL;
    size_t nvals = 0, count = 0;

    memcpy(copy, p, n);
    if (!imap_parse(copy, n, &cmd, &why)) {
        CHECK(why != NULL);
        imap_cmd_free(&cmd);
        free(copy);
        return;
    }
    CHECK(why == NULL && n >= 2 && copy[n - 2] == '\r' && copy[n - 1] == '\n');
    CHECK(strlen(cmd.tag) >= 1 && strlen(cmd.tag) <= IMAP_TAG_MAX);
    for (const char *c = cmd.tag; *c; c++)
        CHECK(tag_char((unsigned char)*c));
    CHECK(cmd.name[0] != '\0');
    for (const char *c = cmd.name; *c; c++)
        CHECK(*c > 0x20 && *c < 0x7f && !(*c >= 'a' && *c <= 'z'));
    CHECK(strcmp(out->tag, cmd.tag) == 0);
    CHECK(strcmp(out->name, cmd.uid ? "UID" : cmd.name) == 0);
    for (const struct imap_val *v = cmd.args; v; v = v->next) {
        check_val(v, 0, &nvals);
        count++;
    }
    CHECK(count == cmd.nargs && nvals <= IMAP_VALS_MAX);
    free(copy);                         /* cmd holds its own copies */

    check_args(cmd.args, star);
    check_fetch(&cmd, star);
    if (imap_store_args(&cmd, &st, &why)) {
        check_seq(&st.seq, star);
        CHECK(st.op >= IMAP_STORE_SET && st.op <= IMAP_STORE_REMOVE);
        CHECK((st.flags.system & ~31u) == 0 && st.flags.nkeywords <= IMAP_KEYWORDS_MAX);
    } else
        CHECK(st.seq.r == NULL);
    imap_store_free(&st);
    if (imap_append_args(&cmd, &ap, &why)) {
        CHECK(ap.mailbox != NULL && ap.msg != NULL && ap.msg_len <= n);
        CHECK(ap.binary || memchr(ap.msg, 0, ap.msg_len) == NULL);
    }
    check_search(&cmd, star);
    check_list(&cmd);
    if (imap_status_args(&cmd, &stat, &why))
        CHECK(stat.items != 0 && stat.mailbox != NULL);
    imap_cmd_free(&cmd);
}

/* run - imap_scan() over p[0..n) given `first` octets, then `step` at a
 * time (0: the rest); the outcomes as text in ev; deep: parse commands */
static void
run(const char *p, size_t n, size_t first, size_t step, const struct imap_scan_limits *lim,
    bool deep, uint32_t star, struct buf *ev)
{
    struct imap_scan st;
    struct imap_scan_out out;
    size_t base = 0, avail = first < n ? first : n;

    imap_scan_init(&st);
    for (;;) {
        enum imap_scan_status s = imap_scan(&st, p + base, avail - base, lim, &out);
        uint64_t limit = strcmp(out.name, "APPEND") == 0 ? lim->append : lim->other;

        if (out.nonsync && lim->nonsync && lim->nonsync < limit)
            limit = lim->nonsync;
        if (s != IMAP_SCAN_MORE)
            buf_printf(ev, "%d:%zu:%llu:%d%d%d:%s:%s ", s, out.len,
                       (unsigned long long)out.literal, out.nonsync, out.binary, out.again,
                       out.tag, out.name);
        switch (s) {
        case IMAP_SCAN_MORE:
            if (avail == n)
                return;
            avail = step && n - avail > step ? avail + step : n;
            continue;
        case IMAP_SCAN_COMMAND:
        case IMAP_SCAN_SKIPPED:
            CHECK(out.len >= 1 && out.len <= avail - base && p[base + out.len - 1] == '\n');
            if (deep && s == IMAP_SCAN_COMMAND)
                check_command(p + base, out.len, &out, star);
            base += out.len;
            imap_scan_init(&st);
            break;
        case IMAP_SCAN_LITERAL:
            CHECK(out.len >= 5 && out.len <= avail - base && !out.nonsync);
            CHECK(memcmp(p + base + out.len - 3, "}\r\n", 3) == 0 && out.literal <= limit);
            break;
        case IMAP_SCAN_TOOBIG:
            CHECK(out.len >= 5 && out.len <= avail - base && out.literal > limit);
            CHECK(memcmp(p + base + out.len - 3, "}\r\n", 3) == 0);
            base += out.len;
            if (!out.nonsync) {
                imap_scan_init(&st);
                break;
            }
            if (out.literal > n - base)
                return;
            base += (size_t)out.literal;
            imap_scan_resume(&st);
            break;
        case IMAP_SCAN_TOOLONG:
            CHECK(imap_scan(&st, p + base, avail - base, lim, &out) == IMAP_SCAN_TOOLONG);
            return;
        default:
            CHECK(0);
        }
        if (avail < base)
            avail = base;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *p = malloc(size ? size : 1);
    struct imap_scan_limits lim = { .append = 2048, .other = 256, .nonsync = size % 2 ? 16 : 0 };
    struct buf whole = BUF_INIT, split = BUF_INIT;
    uint32_t star = size ? (uint32_t)data[0] * 3 : 0;
    struct imap_cmd cmd;
    const char *why;

    memcpy(p, data, size);
    run(p, size, size, 0, &lim, true, star, &whole);
    run(p, size, 0, 1, &lim, false, star, &split);
    CHECK(whole.len == split.len && memcmp(buf_cstr(&whole), buf_cstr(&split), whole.len) == 0);
    if (size > 1) {
        buf_reset(&split);
        run(p, size, data[1] % size, 1 + data[size - 1] % 61, &lim, false, star, &split);
        CHECK(whole.len == split.len && memcmp(buf_cstr(&whole), buf_cstr(&split), whole.len) == 0);
    }
    /* and the whole input as one command, framed or not */
    (void)imap_parse(p, size, &cmd, &why);
    imap_cmd_free(&cmd);
    buf_free(&whole);
    buf_free(&split);
    free(p);
    return 0;
}
