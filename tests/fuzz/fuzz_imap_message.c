/*
 * fuzz_imap_message - a message file (any bytes) through what IMAP FETCH
 * and SEARCH do with it: imap_msg_crlf, imap_msg_parse, ENVELOPE, BODY,
 * BODYSTRUCTURE, every section of every part, BINARY, the searches and
 * the Date: parser. The checks run twice: on the CRLF copy (what the
 * session parses) and on the raw bytes in an allocation of exactly
 * their size (so ASan sees any read past the end).
 *
 * Checks what message.h and mime.h promise:
 *  - imap_msg_crlf: the size is imap_msg_crlf_size, every LF has a CR
 *    before it, and dropping the added CRs gives the input back;
 *  - the tree has 1..MIME_PARTS_MAX parts, at most MIME_DEPTH_MAX
 *    levels, every header and body inside the message and in order;
 *  - ENVELOPE, BODY and BODYSTRUCTURE are one parenthesised list of
 *    well-formed atoms, numbers, quoted strings and literals (checked by
 *    a small reader below), in the shape of RFC 9051 9: 10 envelope
 *    items with address lists of 4-item addresses and balanced group
 *    markers; bodies with the right number of fields for their type,
 *    sizes that are the parts' sizes;
 *  - imap_msg_part finds each part at its IMAP number, and NULL for
 *    numbers past the last; sections lie inside the message (or the
 *    scratch buffer for HEADER.FIELDS, which ends in CRLF);
 *  - BINARY gives at most as many octets as the body has, and
 *    BINARY.SIZE the same length;
 *  - the searches and the date parser return (an empty needle always
 *    matches the body).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "imap/message.h"
#include "imap/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* ---- a reader for IMAP responses: lists, NIL, numbers, strings ---- */

enum item_kind { IT_LIST, IT_NIL, IT_NUM, IT_STR };

struct item {
    enum item_kind kind;
    struct item   *kids;        /* IT_LIST */
    size_t         n;
    const char    *s;           /* IT_STR: the octets (quoted: raw) */
    size_t         slen;
    uint64_t       num;
};

/* item_free - release the kids of it */
static void
item_free(struct item *it)
{
    for (size_t i = 0; it->kind == IT_LIST && i < it->n; i++)
        item_free(&it->kids[i]);
    if (it->kind == IT_LIST)
        free(it->kids);
}

/* read_item - one item at p[*pos..n); false when malformed. depth bounds
 * the recursion. */
static bool
read_item(const char *p, size_t n, size_t *pos, struct item *it, unsigned depth)
{
    size_t i = *pos;

    memset(it, 0, sizeof(*it));
    if (i >= n || depth > 200)
        return false;
    if (p[i] == '(') {
        it->kind = IT_LIST;
        i++;
        while (i < n && p[i] != ')') {
            /* items are separated by a space, except that a list may
             * follow a list directly (1*body, 1*address) */
            if (it->n > 0 && p[i] == ' ')
                i++;
            else if (it->n > 0 && !(p[i] == '(' && it->kids[it->n - 1].kind == IT_LIST))
                return false;
            it->kids = realloc(it->kids, (it->n + 1) * sizeof(*it->kids));
            CHECK(it->kids != NULL);
            if (!read_item(p, n, &i, &it->kids[it->n++], depth + 1))
                return false;
        }
        if (i >= n)
            return false;
        *pos = i + 1;
        return true;
    }
    if (n - i >= 3 && memcmp(p + i, "NIL", 3) == 0) {
        it->kind = IT_NIL;
        *pos = i + 3;
        return true;
    }
    if (p[i] >= '0' && p[i] <= '9') {
        it->kind = IT_NUM;
        while (i < n && p[i] >= '0' && p[i] <= '9' && it->num < UINT64_MAX / 10)
            it->num = it->num * 10 + (uint64_t)(p[i++] - '0');
        *pos = i;
        return true;
    }
    if (p[i] == '"') {
        /* quoted = DQUOTE *QUOTED-CHAR DQUOTE; we never escape */
        it->kind = IT_STR;
        it->s = p + ++i;
        while (i < n && p[i] != '"') {
            unsigned char c = (unsigned char)p[i];

            if (c == 0 || c >= 0x80 || c == '\r' || c == '\n' || c == '\\')
                return false;
            i++;
        }
        if (i >= n)
            return false;
        it->slen = (size_t)(p + i - it->s);
        *pos = i + 1;
        return true;
    }
    if (p[i] == '{') {
        /* literal = "{" number "}" CRLF *CHAR8, no NUL */
        uint64_t len = 0;

        for (i++; i < n && p[i] >= '0' && p[i] <= '9' && len < UINT32_MAX; i++)
            len = len * 10 + (uint64_t)(p[i] - '0');
        if (n - i < 3 || p[i] != '}' || p[i + 1] != '\r' || p[i + 2] != '\n')
            return false;
        i += 3;
        if (len > n - i || memchr(p + i, '\0', len) != NULL)
            return false;
        it->kind = IT_STR;
        it->s = p + i;
        it->slen = len;
        *pos = i + len;
        return true;
    }
    return false;
}

/* is_nstring - NIL or a string */
static bool
is_nstring(const struct item *it)
{
    return it->kind == IT_NIL || it->kind == IT_STR;
}

/* str_is - the string item equals s, any case */
static bool
str_is(const struct item *it, const char *s)
{
    return it->kind == IT_STR && it->slen == strlen(s) && strncasecmp(it->s, s, it->slen) == 0;
}

/* check_alist - NIL, or a list of addresses with balanced groups */
static void
check_alist(const struct item *it)
{
    bool in_group = false;

    if (it->kind == IT_NIL)
        return;
    CHECK(it->kind == IT_LIST && it->n > 0);
    for (size_t i = 0; i < it->n; i++) {
        const struct item *a = &it->kids[i];

        CHECK(a->kind == IT_LIST && a->n == 4);
        for (size_t k = 0; k < 4; k++)
            CHECK(is_nstring(&a->kids[k]));
        if (a->kids[3].kind == IT_NIL) {
            if (a->kids[2].kind == IT_NIL) {        /* end of group */
                CHECK(in_group && a->kids[0].kind == IT_NIL && a->kids[1].kind == IT_NIL);
                in_group = false;
            } else {                                /* start of group */
                CHECK(!in_group);
                in_group = true;
            }
        } else {
            CHECK(a->kids[2].kind == IT_STR && a->kids[2].slen > 0 && a->kids[3].slen > 0);
        }
    }
    CHECK(!in_group);
}

/* check_env - an ENVELOPE */
static void
check_env(const struct item *it)
{
    CHECK(it->kind == IT_LIST && it->n == 10);
    CHECK(is_nstring(&it->kids[0]) && is_nstring(&it->kids[1]));
    for (size_t i = 2; i < 8; i++)
        check_alist(&it->kids[i]);
    CHECK(is_nstring(&it->kids[8]) && is_nstring(&it->kids[9]));
}

/* check_params - body-fld-param: NIL or pairs of strings */
static void
check_params(const struct item *it)
{
    if (it->kind == IT_NIL)
        return;
    CHECK(it->kind == IT_LIST && it->n > 0 && it->n % 2 == 0);
    for (size_t i = 0; i < it->n; i++)
        CHECK(it->kids[i].kind == IT_STR);
}

/* check_ext - body-fld-dsp body-fld-lang body-fld-loc at kids[k..k+3) */
static void
check_ext(const struct item *it, size_t k)
{
    const struct item *dsp = &it->kids[k], *lang = &it->kids[k + 1];

    CHECK(dsp->kind == IT_NIL || (dsp->kind == IT_LIST && dsp->n == 2
                                  && dsp->kids[0].kind == IT_STR));
    if (dsp->kind == IT_LIST)
        check_params(&dsp->kids[1]);
    CHECK(is_nstring(lang) || lang->kind == IT_LIST);
    for (size_t i = 0; lang->kind == IT_LIST && i < lang->n; i++)
        CHECK(lang->kids[i].kind == IT_STR);
    CHECK(is_nstring(&it->kids[k + 2]));
}

/* check_body - a body against its part p of m */
static void
check_body(const struct item *it, const struct mime_part *p, bool ext, unsigned depth)
{
    CHECK(depth <= 2 * MIME_DEPTH_MAX + 2);
    CHECK(it->kind == IT_LIST && it->n >= 2);
    if (p->kind == MIME_MULTIPART) {
        size_t k = p->nparts;

        CHECK(p->nparts >= 1 && it->n == k + 1 + (ext ? 4 : 0));
        for (size_t i = 0; i < k; i++)
            check_body(&it->kids[i], &p->parts[i], ext, depth + 1);
        CHECK(it->kids[k].kind == IT_STR);
        if (ext) {
            check_params(&it->kids[k + 1]);
            check_ext(it, k + 2);
        }
        return;
    }
    bool msg = p->kind == MIME_MESSAGE, text = str_is(&it->kids[0], "text");
    size_t k = 7 + (msg ? 3 : text ? 1 : 0);

    CHECK(it->n == k + (ext ? 4 : 0));
    CHECK(it->kids[0].kind == IT_STR && it->kids[1].kind == IT_STR);
    CHECK(msg == (str_is(&it->kids[0], "message") && (str_is(&it->kids[1], "rfc822")
                                                     || str_is(&it->kids[1], "global"))));
    check_params(&it->kids[2]);
    CHECK(is_nstring(&it->kids[3]) && is_nstring(&it->kids[4]));
    CHECK(it->kids[5].kind == IT_STR);
    CHECK(it->kids[6].kind == IT_NUM && it->kids[6].num == p->body_len);
    if (msg) {
        check_env(&it->kids[7]);
        check_body(&it->kids[8], p->msg, ext, depth + 1);
        CHECK(it->kids[9].kind == IT_NUM && it->kids[9].num == p->lines);
    } else if (text) {
        CHECK(it->kids[7].kind == IT_NUM && it->kids[7].num == p->lines);
    }
    if (ext) {
        CHECK(it->kids[k].kind == IT_NIL);
        check_ext(it, k + 1);
    }
}

/* check_whole - out is exactly one list; returns it in *it */
static void
check_whole(const struct buf *out, struct item *it)
{
    size_t pos = 0;

    CHECK(read_item(out->data, out->len, &pos, it, 0));
    CHECK(pos == out->len && it->kind == IT_LIST);
}

/* ---- the tree and sections ---- */

/* check_tree - offsets inside msg[0..len), bounds; counts parts */
static void
check_tree(const struct mime_part *p, size_t len, unsigned depth, size_t *count)
{
    (*count)++;
    CHECK(depth <= MIME_DEPTH_MAX);
    CHECK(p->hdr_off <= len && p->hdr_len <= len - p->hdr_off);
    CHECK(p->body_off == p->hdr_off + p->hdr_len && p->body_len <= len - p->body_off);
    CHECK(p->type != NULL && p->subtype != NULL);
    CHECK((p->kind == MIME_MULTIPART) == (p->nparts > 0));
    CHECK((p->kind == MIME_MESSAGE) == (p->msg != NULL));
    for (size_t i = 0; i < p->nparts; i++) {
        const struct mime_part *c = &p->parts[i];

        CHECK(c->hdr_off >= p->body_off && c->body_off + c->body_len <= p->body_off + p->body_len);
        if (i > 0)
            CHECK(c->hdr_off >= p->parts[i - 1].body_off + p->parts[i - 1].body_len);
        check_tree(c, len, depth + 1, count);
    }
    if (p->msg) {
        CHECK(p->msg->hdr_off == p->body_off && p->msg->body_off + p->msg->body_len
              == p->body_off + p->body_len);
        check_tree(p->msg, len, depth + 1, count);
    }
}

/* in - does q[0..qn) lie inside base[0..n)? */
static bool
in(const char *q, size_t qn, const char *base, size_t n)
{
    return q >= base && q <= base + n && qn <= (size_t)(base + n - q);
}

#define PATHS_MAX 48
#define PATH_LEN  (MIME_DEPTH_MAX + 2)

struct path {
    uint32_t                part[PATH_LEN];
    size_t                  n;
    const struct mime_part *want;
};

struct paths {
    struct path v[PATHS_MAX];
    size_t      n;
};

static void add_children(struct paths *ps, const struct path *base, const struct mime_part *p);

/* add_path - base + x, which should find want; then its children */
static void
add_path(struct paths *ps, const struct path *base, uint32_t x, const struct mime_part *want)
{
    struct path *np;

    if (ps->n == PATHS_MAX || base->n == PATH_LEN)
        return;
    np = &ps->v[ps->n++];
    memcpy(np->part, base->part, base->n * sizeof(uint32_t));
    np->part[base->n] = x;
    np->n = base->n + 1;
    np->want = want;
    if (want != NULL)
        add_children(ps, np, want);
}

/* add_message - the parts of message m below base */
static void
add_message(struct paths *ps, const struct path *base, const struct mime_part *m)
{
    if (m->kind == MIME_MULTIPART) {
        for (size_t i = 0; i < m->nparts; i++)
            add_path(ps, base, (uint32_t)i + 1, &m->parts[i]);
        add_path(ps, base, (uint32_t)m->nparts + 1, NULL);
    } else {
        add_path(ps, base, 1, m);
        add_path(ps, base, 2, NULL);
    }
}

/* add_children - the numbered subparts of p below base */
static void
add_children(struct paths *ps, const struct path *base, const struct mime_part *p)
{
    if (p->kind == MIME_MULTIPART) {
        for (size_t i = 0; i < p->nparts; i++)
            add_path(ps, base, (uint32_t)i + 1, &p->parts[i]);
        add_path(ps, base, UINT32_MAX, NULL);
    } else if (p->kind == MIME_MESSAGE) {
        add_message(ps, base, p->msg);
    } else {
        add_path(ps, base, 1, NULL);
    }
}

/* check_sections - every kind of section of path ph */
static void
check_sections(const struct imap_msg *m, const struct path *ph, struct buf *scratch)
{
    static char *const names[] = { "Subject", "content-type", "X-Nope" };
    const struct mime_part *p = imap_msg_part(m, ph->part, ph->n);
    size_t bsize = 0;
    const char *q;
    size_t qn;

    CHECK(p == ph->want);
    for (int kind = IMAP_MSG_SECT_ALL; kind <= IMAP_MSG_SECT_MIME; kind++) {
        bool ok = imap_msg_section(m, ph->part, ph->n, (enum imap_msg_sect)kind, names, 3,
                                   scratch, &q, &qn);

        CHECK(ok || (qn == 0 && q != NULL));
        CHECK(!ok || p != NULL);
        if (ok && (kind == IMAP_MSG_SECT_FIELDS || kind == IMAP_MSG_SECT_FIELDS_NOT)) {
            CHECK(q == scratch->data && qn == scratch->len && qn >= 2);
            CHECK(q[qn - 2] == '\r' && q[qn - 1] == '\n');
            CHECK(qn <= m->len + 2);
        } else if (ok) {
            CHECK(in(q, qn, m->data, m->len));
        }
        if (ok && qn > 0) {
            const char *r;
            size_t rn;

            imap_msg_partial(q, qn, qn / 2, 7, &r, &rn);
            CHECK(in(r, rn, q, qn) && rn <= 7);
            imap_msg_partial(q, qn, qn, 1, &r, &rn);
            CHECK(rn == 0);
        }
    }
    enum imap_bin_err e = imap_msg_binary(m, ph->part, ph->n, scratch, &q, &qn);

    CHECK((e == IMAP_BIN_NOPART) == (p == NULL));
    CHECK(imap_msg_binary_size(m, ph->part, ph->n, &bsize) == e);
    if (e == IMAP_BIN_OK) {
        CHECK(bsize == qn && qn <= p->body_len + (ph->n == 0 ? m->len : 0));
        CHECK(in(q, qn, m->data, m->len) || q == scratch->data || qn == 0);
    } else {
        CHECK(qn == 0 && bsize == 0);
    }
}

/* check_message - everything on data[0..len) */
static void
check_message(const char *data, size_t len)
{
    struct imap_msg *m = imap_msg_parse(data, len);
    struct buf out = BUF_INIT, scratch = BUF_INIT;
    struct item it;
    struct paths ps;
    struct path top = { { 0 }, 0, &m->root };
    size_t count = 0;
    time_t t;
    int off;

    CHECK(m->nparts >= 1 && m->nparts <= MIME_PARTS_MAX);
    check_tree(&m->root, len, 0, &count);
    CHECK(count == m->nparts);

    imap_msg_envelope(&out, data + m->root.hdr_off, m->root.hdr_len);
    check_whole(&out, &it);
    check_env(&it);
    item_free(&it);
    for (int ext = 0; ext < 2; ext++) {
        buf_reset(&out);
        imap_msg_bodystructure(&out, m, ext);
        check_whole(&out, &it);
        check_body(&it, &m->root, ext, 0);
        item_free(&it);
    }

    ps.n = 0;
    check_sections(m, &top, &scratch);
    add_message(&ps, &top, &m->root);
    for (size_t i = 0; i < ps.n; i++)
        check_sections(m, &ps.v[i], &scratch);

    CHECK(imap_msg_body_search(m, "", 0));
    CHECK(imap_msg_text_search(m, "", 0));
    (void)imap_msg_header_search(m, "subject", "", 0);
    (void)imap_msg_header_search(m, "From", data, len < 4 ? len : 4);
    (void)imap_msg_body_search(m, data + len / 2, len - len / 2 < 5 ? len - len / 2 : 5);
    (void)imap_msg_text_search(m, data, len < 3 ? len : 3);
    (void)imap_msg_sent_date(m, &t, &off);
    if (imap_msg_date_parse(data, len, &t, &off))
        CHECK(off > -100 * 3600 && off < 100 * 3600);

    buf_free(&out);
    buf_free(&scratch);
    imap_msg_free(m);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *raw = malloc(size ? size : 1);        /* exact size: ASan sees overreads */
    size_t clen, k = 0;
    char *c;

    memcpy(raw, data, size);
    c = imap_msg_crlf(raw, size, &clen);
    CHECK(clen == imap_msg_crlf_size(raw, size) && clen >= size && c[clen] == '\0');
    for (size_t i = 0; i < clen; i++) {
        if (c[i] == '\n')
            CHECK(i > 0 && c[i - 1] == '\r');
        /* drop the CRs we added: the rest is the input */
        if (c[i] == '\r' && i + 1 < clen && c[i + 1] == '\n'
            && !(k < size && raw[k] == '\r'))
            continue;
        CHECK(k < size && c[i] == raw[k]);
        k++;
    }
    CHECK(k == size);

    check_message(c, clen);
    check_message(raw, size);
    free(c);
    free(raw);
    return 0;
}
