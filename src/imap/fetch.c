/*
 * fetch - FETCH, STORE and SEARCH (RFC 9051 6.4.4-6.4.6; BINARY, RFC
 * 3516; ESEARCH, RFC 9051 7.3.4) on the selected folder, on a worker
 * thread. See exec.h.
 *
 * A message's file is read only when an item needs its bytes (ENVELOPE,
 * BODY..., a content search key); FLAGS, UID, INTERNALDATE and
 * RFC822.SIZE come from the snapshot. The bytes are made CRLF
 * (imap_msg_crlf) before anything is taken from them, so sizes and
 * sections agree with RFC822.SIZE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* lower layers */
#include "util/buf.h"
#include "util/xmalloc.h"
#include "imap/exec.h"
#include "imap/imap_fmt.h"
#include "imap/imap_parse.h"
#include "imap/imap_search.h"
#include "imap/message.h"
#include "imap/store.h"

/* One message's bytes, read when first needed. */
struct loaded {
    char            *data;      /* CRLF form */
    size_t           len;
    struct imap_msg *msg;
    int              err;       /* store_read failed: errno */
    bool             tried;
};

static void
load(struct imap_user *u, size_t i, struct loaded *l)
{
    char *raw;
    size_t rawlen;

    if (l->tried)
        return;
    l->tried = true;
    if (store_read(u->sel, i, &raw, &rawlen) < 0) {
        l->err = errno;
        return;
    }
    l->data = imap_msg_crlf(raw, rawlen, &l->len);
    free(raw);
}

/* parsed - the MIME structure of a loaded message, parsed at first need
 * (BODY[] and the message's own header and text need none) */
static const struct imap_msg *
parsed(struct loaded *l)
{
    if (!l->msg)
        l->msg = imap_msg_parse(l->data, l->len);
    return l->msg;
}

/* header_len - the octets of the message's header, its empty line
 * included (all of it when there is no empty line), as mime.c counts */
static size_t
header_len(const char *p, size_t n)
{
    if (n >= 2 && p[0] == '\r' && p[1] == '\n')
        return 2;
    const char *e = memmem(p, n, "\r\n\r\n", 4);
    return e ? (size_t)(e - p) + 4 : n;
}

static void
unload(struct loaded *l)
{
    imap_msg_free(l->msg);
    free(l->data);
    memset(l, 0, sizeof(*l));
}

/* put_literal - p[0..n) as a literal; literal8 "~{n}" when it holds NUL
 * (only BINARY may: RFC 3516 4.2) */
static void
put_literal(struct buf *out, const char *p, size_t n, bool binary)
{
    bool nul = binary && memchr(p, '\0', n) != NULL;
    buf_printf(out, "%s{%zu}\r\n", nul ? "~" : "", n);
    buf_append(out, p, n);
}

/* needs_bytes - does att need the message's file? */
static bool
needs_bytes(const struct imap_fetch_att *a)
{
    switch (a->kind) {
    case IMAP_FETCH_FLAGS:
    case IMAP_FETCH_UID:
    case IMAP_FETCH_INTERNALDATE:
    case IMAP_FETCH_RFC822_SIZE:
        return false;
    default:
        return true;
    }
}

/* put_section - BODY[section]<partial> (and RFC822, .HEADER, .TEXT) */
static void
put_section(struct buf *out, const struct imap_fetch_att *a, struct loaded *l,
            struct buf *scratch)
{
    const char *p = "";
    size_t n = 0;
    const struct imap_section *s = &a->section;
    enum imap_msg_sect kind = IMAP_MSG_SECT_ALL;

    switch (a->kind) {
    case IMAP_FETCH_RFC822_HEADER:
        kind = IMAP_MSG_SECT_HEADER;
        break;
    case IMAP_FETCH_RFC822_TEXT:
        kind = IMAP_MSG_SECT_TEXT;
        break;
    case IMAP_FETCH_SECTION:
        /* the same values, by imap/message.h's promise */
        kind = (enum imap_msg_sect)s->text;
        break;
    default:
        break;
    }
    size_t nparts = a->kind == IMAP_FETCH_SECTION ? s->nparts : 0;
    if (nparts == 0 && (kind == IMAP_MSG_SECT_ALL || kind == IMAP_MSG_SECT_HEADER
                        || kind == IMAP_MSG_SECT_TEXT)) {
        /* the whole message, its header or its text: no MIME parse */
        size_t h = kind == IMAP_MSG_SECT_ALL ? 0 : header_len(l->data, l->len);
        p = kind == IMAP_MSG_SECT_TEXT ? l->data + h : l->data;
        n = kind == IMAP_MSG_SECT_ALL ? l->len : kind == IMAP_MSG_SECT_HEADER ? h : l->len - h;
    } else if (a->kind == IMAP_FETCH_SECTION) {
        imap_msg_section(parsed(l), s->part, s->nparts, kind, s->fields, s->nfields, scratch,
                         &p, &n);
    } else {
        imap_msg_section(parsed(l), NULL, 0, kind, NULL, 0, scratch, &p, &n);
    }
    if (a->partial)
        imap_msg_partial(p, n, a->offset, a->length, &p, &n);
    buf_printf(out, "%s ", a->resp);
    put_literal(out, p, n, false);
}

/* put_att - one data item of a FETCH response; false: NO [UNKNOWN-CTE] */
static bool
put_att(struct buf *out, const struct imap_fetch_att *a, const struct store_msg *m,
        struct loaded *l, struct buf *scratch)
{
    const char *p;
    size_t n;
    enum imap_bin_err e;

    switch (a->kind) {
    case IMAP_FETCH_FLAGS:
        buf_puts(out, "FLAGS ");
        imap_fmt_flags(out, m->flags);
        return true;
    case IMAP_FETCH_UID:
        buf_printf(out, "UID %u", m->uid);
        return true;
    case IMAP_FETCH_INTERNALDATE:
        buf_puts(out, "INTERNALDATE ");
        imap_fmt_date_time(out, m->internaldate);
        return true;
    case IMAP_FETCH_RFC822_SIZE:
        buf_printf(out, "RFC822.SIZE %llu", (unsigned long long)m->size);
        return true;
    case IMAP_FETCH_ENVELOPE:
        buf_puts(out, "ENVELOPE ");
        imap_msg_envelope(out, l->data, header_len(l->data, l->len));
        return true;
    case IMAP_FETCH_BODYSTRUCTURE:
    case IMAP_FETCH_BODY:
        buf_puts(out, a->kind == IMAP_FETCH_BODY ? "BODY " : "BODYSTRUCTURE ");
        imap_msg_bodystructure(out, parsed(l), a->kind == IMAP_FETCH_BODYSTRUCTURE);
        return true;
    case IMAP_FETCH_RFC822:
        buf_puts(out, "RFC822 ");
        put_literal(out, l->data, l->len, false);
        return true;
    case IMAP_FETCH_RFC822_HEADER:
    case IMAP_FETCH_RFC822_TEXT:
    case IMAP_FETCH_SECTION:
        put_section(out, a, l, scratch);
        return true;
    case IMAP_FETCH_BINARY:
        e = imap_msg_binary(parsed(l), a->section.part, a->section.nparts, scratch, &p, &n);
        if (e == IMAP_BIN_UNKNOWN_CTE)
            return false;
        if (a->partial)
            imap_msg_partial(p, n, a->offset, a->length, &p, &n);
        buf_printf(out, "%s ", a->resp);
        if (e == IMAP_BIN_NOPART)
            buf_puts(out, "NIL");
        else
            put_literal(out, p, n, true);
        return true;
    case IMAP_FETCH_BINARY_SIZE:
        e = imap_msg_binary_size(parsed(l), a->section.part, a->section.nparts, &n);
        if (e == IMAP_BIN_UNKNOWN_CTE)
            return false;
        buf_printf(out, "%s %zu", a->resp, e == IMAP_BIN_OK ? n : (size_t)0);
        return true;
    }
    return true;
}

/* A FETCH under way, kept between the parts of its answer. */
struct imap_fetch_state {
    struct imap_fetch fa;
    size_t           *idx, n;   /* the messages, and how many */
    size_t            next;     /* the first not answered yet */
    size_t            gone;     /* expunged by someone else meanwhile */
    bool              bytes, seen, has_uid, has_flags;
};

void
imap_fetch_abandon(struct imap_user *u)
{
    struct imap_fetch_state *st = u->fetching;

    if (!st)
        return;
    imap_fetch_free(&st->fa);
    free(st->idx);
    free(st);
    u->fetching = NULL;
}

/* fetch_start - the arguments read and the messages found, or a BAD answer */
static struct imap_fetch_state *
fetch_start(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out)
{
    struct imap_fetch_state *st = xcalloc(1, sizeof(*st));
    const char *why;

    if (!imap_fetch_args(cmd, &st->fa, &why)) {
        free(st);
        imap_tagged(out, cmd, "BAD", "%s", why);
        return NULL;
    }
    if (!imap_resolve_set(u->sel, &st->fa.seq, cmd->uid, &st->idx, &st->n, &why)) {
        imap_fetch_free(&st->fa);
        free(st);
        imap_tagged(out, cmd, "BAD", "%s", why);
        return NULL;
    }
    for (unsigned k = 0; k < st->fa.n; k++) {
        const struct imap_fetch_att *a = &st->fa.att[k];
        st->bytes |= needs_bytes(a);
        st->seen |= a->sets_seen && !a->peek;
        st->has_uid |= a->kind == IMAP_FETCH_UID;
        st->has_flags |= a->kind == IMAP_FETCH_FLAGS;
    }
    st->seen = st->seen && !u->sel->readonly;
    return st;
}

enum imap_exec_end
imap_exec_fetch(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out)
{
    struct store_folder *f = u->sel;
    struct imap_fetch_state *st = u->fetching;
    bool cte = true;

    if (!st && !(st = fetch_start(u, cmd, out)))
        return IMAP_EXEC_DONE;
    u->fetching = st;
    struct buf scratch = BUF_INIT;
    size_t first = out->len;
    for (; st->next < st->n && cte; st->next++) {
        if (out->len - first >= IMAP_FETCH_CHUNK)
            break;                      /* the rest in the next part */
        size_t i = st->idx[st->next];
        struct loaded l = { 0 };
        if (st->bytes) {
            load(u, i, &l);
            if (l.err) {
                st->gone++;             /* expunged by someone else meanwhile */
                unload(&l);
                continue;
            }
        }
        /* RFC 9051 6.4.5: BODY[...] without .PEEK sets \Seen, and the
         * change is reported in the same response */
        bool seen_now = false;
        if (st->seen && !(f->msgs[i].flags & STORE_FLAG_SEEN)) {
            char err[160];
            seen_now = store_set_flags(f, i, f->msgs[i].flags | STORE_FLAG_SEEN, err,
                                       sizeof(err)) == 0;
        }
        const struct store_msg *m = &f->msgs[i];
        size_t mark = out->len;
        buf_printf(out, "* %zu FETCH (", i + 1);
        bool sep = false;
        if (cmd->uid && !st->has_uid) {
            /* RFC 9051 6.4.9: UID FETCH answers always carry the UID */
            buf_printf(out, "UID %u", m->uid);
            sep = true;
        }
        for (unsigned a = 0; a < st->fa.n && cte; a++) {
            if (sep)
                buf_putc(out, ' ');
            sep = true;
            cte = put_att(out, &st->fa.att[a], m, &l, &scratch);
        }
        if (seen_now && !st->has_flags) {
            buf_puts(out, " FLAGS ");
            imap_fmt_flags(out, m->flags);
        }
        buf_puts(out, ")\r\n");
        if (!cte) {
            out->len = mark;            /* the message's response is dropped */
            out->data[mark] = '\0';
        }
        unload(&l);
    }
    buf_free(&scratch);
    if (cte && st->next < st->n)
        return IMAP_EXEC_MORE;
    size_t gone = st->gone;
    imap_fetch_abandon(u);
    if (!cte)
        imap_tagged(out, cmd, "NO", "[UNKNOWN-CTE] Unknown Content-Transfer-Encoding");
    else if (gone)
        imap_tagged(out, cmd, "NO", "[EXPUNGEISSUED] Some messages were expunged meanwhile");
    else
        imap_tagged(out, cmd, "OK", "%sFETCH completed", cmd->uid ? "UID " : "");
    return IMAP_EXEC_DONE;
}

void
imap_exec_store(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out)
{
    struct store_folder *f = u->sel;
    struct imap_store st;
    const char *why;
    size_t *idx = NULL, n = 0;
    char err[160] = "";
    int fail = 0;

    if (!imap_store_args(cmd, &st, &why)) {
        imap_tagged(out, cmd, "BAD", "%s", why);
        return;
    }
    if (f->readonly) {
        imap_store_free(&st);
        imap_tagged(out, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
        return;
    }
    if (!imap_resolve_set(f, &st.seq, cmd->uid, &idx, &n, &why)) {
        imap_store_free(&st);
        imap_tagged(out, cmd, "BAD", "%s", why);
        return;
    }
    unsigned flags = st.flags.system & STORE_FLAGS_ALL;
    unsigned add = st.op == IMAP_STORE_REMOVE ? 0 : flags;
    unsigned remove = st.op == IMAP_STORE_ADD ? 0 : st.op == IMAP_STORE_REMOVE ? flags : ~flags;
    for (size_t k = 0; k < n; k++) {
        size_t i = idx[k];
        /* from the flags on disk now, which another session may have
         * changed since our snapshot (RFC 9051 6.4.6) */
        if (store_change_flags(f, i, add, remove, err, sizeof(err)) < 0) {
            if (!fail)
                fail = errno;
            continue;
        }
        if (st.silent)
            continue;
        buf_printf(out, "* %zu FETCH (", i + 1);
        if (cmd->uid)
            buf_printf(out, "UID %u ", f->msgs[i].uid);
        buf_puts(out, "FLAGS ");
        imap_fmt_flags(out, f->msgs[i].flags);
        buf_puts(out, ")\r\n");
    }
    free(idx);
    imap_store_free(&st);
    if (fail == ENOENT)
        imap_tagged(out, cmd, "NO", "[EXPUNGEISSUED] Some messages were expunged meanwhile");
    else if (fail)
        imap_tagged(out, cmd, "NO", "[SERVERBUG] %s", err[0] ? err : strerror(fail));
    else
        imap_tagged(out, cmd, "OK", "%sSTORE completed", cmd->uid ? "UID " : "");
}

/* ---- SEARCH ---------------------------------------------------------------- */

struct search_ctx {
    struct imap_user *u;
    size_t            i;        /* the message looked at */
    struct loaded     l;
    uint32_t          maxuid;
};

/* day - the day (00:00 UTC) of t, for the date keys: RFC 9051 6.4.4
 * compares dates "disregarding time and timezone" */
static time_t
day(time_t t)
{
    return t - ((t % 86400) + 86400) % 86400;
}

static bool match(struct search_ctx *c, const struct imap_skey *k);

/* match_content - the keys that need the message's bytes */
static bool
match_content(struct search_ctx *c, const struct imap_skey *k)
{
    load(c->u, c->i, &c->l);
    if (c->l.err)
        return false;
    const struct imap_msg *m = parsed(&c->l);
    switch (k->op) {
    case IMAP_SK_BCC:
        return imap_msg_header_search(m, "Bcc", k->str, k->len);
    case IMAP_SK_CC:
        return imap_msg_header_search(m, "Cc", k->str, k->len);
    case IMAP_SK_FROM:
        return imap_msg_header_search(m, "From", k->str, k->len);
    case IMAP_SK_TO:
        return imap_msg_header_search(m, "To", k->str, k->len);
    case IMAP_SK_SUBJECT:
        return imap_msg_header_search(m, "Subject", k->str, k->len);
    case IMAP_SK_HEADER:
        return imap_msg_header_search(m, k->str, k->str2, k->len2);
    case IMAP_SK_BODY:
        return imap_msg_body_search(m, k->str, k->len);
    case IMAP_SK_TEXT:
        return imap_msg_text_search(m, k->str, k->len);
    default: {
        time_t t;
        int tz;
        if (!imap_msg_sent_date(m, &t, &tz))
            return false;
        time_t d = day(t + tz);
        return k->op == IMAP_SK_SENTBEFORE ? d < k->date
               : k->op == IMAP_SK_SENTON ? d == k->date : d >= k->date;
    }
    }
}

static bool
match(struct search_ctx *c, const struct imap_skey *k)
{
    const struct store_msg *m = &c->u->sel->msgs[c->i];
    const struct imap_skey *x;

    switch (k->op) {
    case IMAP_SK_AND:
        for (x = k->child; x; x = x->next)
            if (!match(c, x))
                return false;
        return true;
    case IMAP_SK_OR:
        return match(c, k->child) || match(c, k->child->next);
    case IMAP_SK_NOT:
        return !match(c, k->child);
    case IMAP_SK_ALL:
    case IMAP_SK_OLD:               /* nothing is \Recent here */
    case IMAP_SK_UNKEYWORD:         /* nor has keywords */
        return true;
    case IMAP_SK_NEW:
    case IMAP_SK_RECENT:
    case IMAP_SK_KEYWORD:
        return false;
    case IMAP_SK_ANSWERED:   return (m->flags & STORE_FLAG_ANSWERED) != 0;
    case IMAP_SK_DELETED:    return (m->flags & STORE_FLAG_DELETED) != 0;
    case IMAP_SK_DRAFT:      return (m->flags & STORE_FLAG_DRAFT) != 0;
    case IMAP_SK_FLAGGED:    return (m->flags & STORE_FLAG_FLAGGED) != 0;
    case IMAP_SK_SEEN:       return (m->flags & STORE_FLAG_SEEN) != 0;
    case IMAP_SK_UNANSWERED: return !(m->flags & STORE_FLAG_ANSWERED);
    case IMAP_SK_UNDELETED:  return !(m->flags & STORE_FLAG_DELETED);
    case IMAP_SK_UNDRAFT:    return !(m->flags & STORE_FLAG_DRAFT);
    case IMAP_SK_UNFLAGGED:  return !(m->flags & STORE_FLAG_FLAGGED);
    case IMAP_SK_UNSEEN:     return !(m->flags & STORE_FLAG_SEEN);
    case IMAP_SK_BEFORE:     return day(m->internaldate) < k->date;
    case IMAP_SK_ON:         return day(m->internaldate) == k->date;
    case IMAP_SK_SINCE:      return day(m->internaldate) >= k->date;
    case IMAP_SK_LARGER:     return m->size > k->num;
    case IMAP_SK_SMALLER:    return m->size < k->num;
    case IMAP_SK_UID:        return imap_seq_contains(&k->seq, m->uid, c->maxuid);
    case IMAP_SK_SEQ:
        return imap_seq_contains(&k->seq, (uint32_t)(c->i + 1), (uint32_t)c->u->sel->count);
    default:
        return match_content(c, k);
    }
}

void
imap_exec_search(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out)
{
    struct store_folder *f = u->sel;
    struct imap_search se;
    const char *why = "Syntax error";

    switch (imap_search_args(cmd, &se, &why)) {
    case IMAP_SEARCH_OK:
        break;
    case IMAP_SEARCH_BADCHARSET:
        imap_search_free(&se);
        imap_tagged(out, cmd, "NO", "[BADCHARSET (UTF-8 US-ASCII)] %s", why);
        return;
    case IMAP_SEARCH_BAD:
        imap_search_free(&se);
        imap_tagged(out, cmd, "BAD", "%s", why);
        return;
    }
    uint32_t *hits = xcalloc(f->count ? f->count : 1, sizeof(*hits));
    size_t nhits = 0;
    struct search_ctx c = { u, 0, { 0 }, f->count ? f->msgs[f->count - 1].uid : 0 };
    for (c.i = 0; c.i < f->count; c.i++) {
        if (match(&c, se.root))
            hits[nhits++] = cmd->uid ? f->msgs[c.i].uid : (uint32_t)(c.i + 1);
        unload(&c.l);
    }
    if (se.ret_given || u->rev2) {
        /* RFC 9051 7.3.4 ESEARCH; MIN, MAX and ALL only when something matched */
        buf_printf(out, "* ESEARCH (TAG \"%s\")%s", cmd->tag, cmd->uid ? " UID" : "");
        if ((se.ret & IMAP_SEARCH_RET_MIN) && nhits)
            buf_printf(out, " MIN %u", hits[0]);
        if ((se.ret & IMAP_SEARCH_RET_MAX) && nhits)
            buf_printf(out, " MAX %u", hits[nhits - 1]);
        if (se.ret & IMAP_SEARCH_RET_COUNT)
            buf_printf(out, " COUNT %zu", nhits);
        if ((se.ret & IMAP_SEARCH_RET_ALL) && nhits) {
            buf_puts(out, " ALL ");
            imap_put_set(out, hits, nhits);
        }
        buf_puts(out, "\r\n");
    } else {
        buf_puts(out, "* SEARCH");
        for (size_t k = 0; k < nhits; k++)
            buf_printf(out, " %u", hits[k]);
        buf_puts(out, "\r\n");
    }
    free(hits);
    imap_search_free(&se);
    imap_tagged(out, cmd, "OK", "%sSEARCH completed", cmd->uid ? "UID " : "");
}
