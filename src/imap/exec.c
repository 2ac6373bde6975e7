/*
 * exec - the mailbox commands of IMAP (RFC 9051 6.3, 6.4) on a worker
 * thread: SELECT, EXAMINE, CREATE, DELETE, RENAME, SUBSCRIBE,
 * UNSUBSCRIBE, LIST (RFC 5258, 5819, 6154), LSUB, NAMESPACE, STATUS,
 * APPEND (RFC 4315 APPENDUID), ENABLE, NOOP, CHECK, CLOSE, UNSELECT
 * (RFC 3691), EXPUNGE, UID EXPUNGE, COPY, MOVE (RFC 6851); and the
 * untagged updates of the selected folder. FETCH, STORE and SEARCH are
 * in fetch.c. See exec.h.
 *
 * Mailbox names: the store keeps them as Dovecot does, in modified UTF-7
 * (RFC 3501 5.1.3). An IMAP4rev1 client sends and sees that form; once a
 * client has enabled IMAP4rev2 it sends and sees UTF-8 (RFC 9051 5.1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* lower layers */
#include "util/buf.h"
#include "util/xmalloc.h"
#include "imap/exec.h"
#include "imap/imap_fmt.h"
#include "imap/imap_parse.h"
#include "imap/store.h"

#define FLAGS_ALL "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

void
imap_tagged(struct buf *out, const struct imap_cmd *cmd, const char *status, const char *fmt,
            ...)
{
    va_list ap;

    buf_printf(out, "%s %s ", cmd->tag, status);
    va_start(ap, fmt);
    buf_vprintf(out, fmt, ap);
    va_end(ap);
    buf_puts(out, "\r\n");
}

void
imap_user_free(struct imap_user *u)
{
    if (!u)
        return;
    imap_fetch_abandon(u);
    store_close(u->sel);
    u->sel = NULL;
    free(u->root);
    u->root = NULL;
}

/* ---- message sets -------------------------------------------------------- */

/* lower_bound - the first index of f whose uid is >= uid */
static size_t
lower_bound(const struct store_folder *f, uint32_t uid)
{
    size_t lo = 0, hi = f->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->msgs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool
imap_resolve_set(const struct store_folder *f, const struct imap_seq *set, bool uid,
                 size_t **idx, size_t *n, const char **why)
{
    uint32_t star = uid ? (f->count ? f->msgs[f->count - 1].uid : 0) : (uint32_t)f->count;
    struct imap_seq r;
    size_t cap = 0, k = 0;
    size_t *v = NULL;

    *idx = NULL;
    *n = 0;
    imap_seq_resolve(set, star, &r);
    for (size_t i = 0; i < r.n; i++) {
        uint32_t lo = r.r[i].lo, hi = r.r[i].hi;
        if (!uid) {
            if (star == 0 && lo == 0 && hi == 0)
                continue;               /* "*" of an empty folder */
            if (lo == 0 || hi > star) {
                imap_seq_free(&r);
                free(v);
                *why = "Invalid message sequence number";
                return false;
            }
            size_t need = k + (hi - lo + 1);
            if (need > cap) {
                cap = need;
                v = xreallocarray(v, cap, sizeof(*v));
            }
            for (uint32_t m = lo; m <= hi; m++) {
                v[k++] = m - 1;
                if (m == UINT32_MAX)
                    break;
            }
            continue;
        }
        /* UIDs: walk the messages inside [lo, hi]; ranges are disjoint
         * and sorted, so the indexes come out ascending. */
        for (size_t j = lower_bound(f, lo); j < f->count && f->msgs[j].uid <= hi; j++) {
            if (k == cap) {
                cap = cap ? 2 * cap : 16;
                v = xreallocarray(v, cap, sizeof(*v));
            }
            v[k++] = j;
        }
    }
    imap_seq_free(&r);
    *idx = v;
    *n = k;
    return true;
}

/* ---- mailbox names -------------------------------------------------------- */

/*
 * mailbox_arg - the store's name of the mailbox argument v: UTF-8 from a
 * rev2 client is checked and turned into modified UTF-7; a rev1 client's
 * modified UTF-7 is checked by decoding it. "INBOX" in any case is INBOX.
 * trailing_dot allows one final "." (CREATE "a." makes "a").
 */
static bool
mailbox_arg(const struct imap_user *u, const struct imap_val *v, bool trailing_dot,
            char out[IMAP_MAILBOX_MAX + 1], const char **why)
{
    struct buf b = BUF_INIT;
    char utf8[IMAP_MAILBOX_MAX + 1];
    bool ok;

    if (!v || !imap_val_astring(v)) {
        *why = "Mailbox name expected";
        return false;
    }
    size_t len = v->len;
    if (trailing_dot && len > 1 && v->s[len - 1] == '.')
        len--;
    if (u->rev2 || u->utf8) {
        ok = imap_mailbox_name(v->s, len, utf8, why);
        if (ok && strcmp(utf8, "INBOX") != 0) {
            ok = imap_mutf7_encode(utf8, strlen(utf8), &b, why);
            if (ok && b.len > IMAP_MAILBOX_MAX) {
                *why = "Mailbox name too long";
                ok = false;
            }
            if (ok)
                memcpy(out, b.data, b.len + 1);
        } else if (ok) {
            strcpy(out, "INBOX");
        }
    } else {
        ok = imap_mutf7_decode(v->s, len, &b, why)
             && imap_mailbox_name(b.data ? b.data : "", b.len, utf8, why);
        if (ok && strcmp(utf8, "INBOX") == 0) {
            strcpy(out, "INBOX");
        } else if (ok && len > IMAP_MAILBOX_MAX) {
            /* short in UTF-8, longer than that in modified UTF-7 */
            *why = "Mailbox name too long";
            ok = false;
        } else if (ok) {
            memcpy(out, v->s, len);
            out[len] = '\0';
        }
    }
    buf_free(&b);
    if (ok && !store_name_ok(out)) {
        *why = "Invalid mailbox name";
        ok = false;
    }
    return ok;
}

/* wire_name - the name as this client sees it, in buf (reset first) */
static void
wire_name(const struct imap_user *u, const char *disk, struct buf *b)
{
    const char *why;

    buf_reset(b);
    if ((u->rev2 || u->utf8) && imap_mutf7_decode(disk, strlen(disk), b, &why))
        return;
    buf_reset(b);
    buf_puts(b, disk);
}

/* put_name - append the mailbox name disk as this client sees it */
static void
put_name(const struct imap_user *u, struct buf *out, const char *disk)
{
    struct buf b = BUF_INIT;
    wire_name(u, disk, &b);
    imap_fmt_string(out, b.data ? b.data : "", b.len);
    buf_free(&b);
}

/* no_errno - the tagged NO of a store error, with its response code */
static void
no_errno(struct buf *t, const struct imap_cmd *cmd, int e, const char *err)
{
    const char *code = e == ENOENT ? "[NONEXISTENT] " : e == EEXIST ? "[ALREADYEXISTS] "
                       : e == EPERM || e == EROFS || e == EINVAL || e == ENAMETOOLONG
                       ? "[CANNOT] " : e == ENOSPC || e == EDQUOT ? "[OVERQUOTA] "
                       : "[SERVERBUG] ";
    imap_tagged(t, cmd, "NO", "%s%s", code, err && err[0] ? err : strerror(e));
}

/* ---- updates of the selected folder ------------------------------------- */

enum imap_exec_end
imap_exec_updates(struct imap_user *u, struct buf *out)
{
    struct store_changes ch;
    char err[160] = "";

    if (!u->sel)
        return IMAP_EXEC_DONE;
    if (store_sync(u->sel, &ch, err, sizeof(err)) < 0) {
        if (errno == ENOENT || errno == ESTALE) {
            buf_printf(out, "* BYE %s\r\n", errno == ENOENT ? "The selected mailbox was deleted"
                       : "The mailbox's UIDVALIDITY changed; please reconnect");
            return IMAP_EXEC_BYE;
        }
        return IMAP_EXEC_DONE;          /* a passing error: try again later */
    }
    /* RFC 9051 7.5.1: each EXPUNGE renumbers the messages after it, so
     * in ascending uid order the number is 1 + those kept before it. */
    for (size_t k = 0; k < ch.nexpunged; k++)
        buf_printf(out, "* %zu EXPUNGE\r\n", lower_bound(u->sel, ch.expunged[k]) + 1);
    if (ch.nnew || ch.nexpunged) {
        buf_printf(out, "* %zu EXISTS\r\n", u->sel->count);
        if (!u->rev2 && ch.nnew)
            buf_puts(out, "* 0 RECENT\r\n");
    }
    for (size_t k = 0; k < ch.nflagged; k++) {
        size_t i;
        if (!store_find(u->sel, ch.flagged[k], &i))
            continue;
        buf_printf(out, "* %zu FETCH (UID %u FLAGS ", i + 1, u->sel->msgs[i].uid);
        imap_fmt_flags(out, u->sel->msgs[i].flags);
        buf_puts(out, ")\r\n");
    }
    store_changes_free(&ch);
    return IMAP_EXEC_DONE;
}

/* ---- SELECT, EXAMINE, CLOSE, UNSELECT ----------------------------------- */

static void
cmd_select(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out, struct buf *t)
{
    bool ro = strcmp(cmd->name, "EXAMINE") == 0;
    char name[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;

    if (u->sel) {
        /* RFC 9051 6.3.2: the old one is closed, without expunging. */
        store_close(u->sel);
        u->sel = NULL;
        buf_puts(out, "* OK [CLOSED] Previous mailbox closed\r\n");
    }
    if (!mailbox_arg(u, imap_cmd_arg(cmd, 0), false, name, &why)) {
        imap_tagged(t, cmd, "NO", "[NONEXISTENT] %s", why);
        return;
    }
    struct store_folder *f = store_open(u->root, name, ro, err, sizeof(err));
    if (!f) {
        no_errno(t, cmd, errno, err);
        return;
    }
    u->sel = f;
    buf_printf(out, "* %zu EXISTS\r\n", f->count);
    if (!u->rev2)
        buf_puts(out, "* 0 RECENT\r\n");
    buf_puts(out, "* FLAGS (" FLAGS_ALL ")\r\n");
    buf_printf(out, "* OK [PERMANENTFLAGS (%s)] %s\r\n", ro ? "" : FLAGS_ALL,
               ro ? "Read-only mailbox" : "Flags permitted");
    if (!u->rev2 && f->unseen) {
        for (size_t i = 0; i < f->count; i++)
            if (!(f->msgs[i].flags & STORE_FLAG_SEEN)) {
                buf_printf(out, "* OK [UNSEEN %zu] First unseen\r\n", i + 1);
                break;
            }
    }
    buf_printf(out, "* OK [UIDVALIDITY %u] UIDs valid\r\n", f->uidvalidity);
    buf_printf(out, "* OK [UIDNEXT %u] Predicted next UID\r\n", f->uidnext);
    if (u->rev2) {
        /* RFC 9051 6.3.2: a LIST response with the mailbox name */
        buf_puts(out, "* LIST () \".\" ");
        put_name(u, out, name);
        buf_puts(out, "\r\n");
    }
    imap_tagged(t, cmd, "OK", "[%s] %s completed", ro ? "READ-ONLY" : "READ-WRITE", cmd->name);
}

static void
cmd_close(struct imap_user *u, const struct imap_cmd *cmd, struct buf *t)
{
    /* RFC 9051 6.4.1: CLOSE expunges silently (not when read-only). */
    if (strcmp(cmd->name, "CLOSE") == 0 && !u->sel->readonly) {
        uint32_t *gone = NULL;
        size_t n = 0;
        char err[160];
        store_expunge(u->sel, NULL, 0, &gone, &n, err, sizeof(err));
        free(gone);
    }
    store_close(u->sel);
    u->sel = NULL;
    imap_tagged(t, cmd, "OK", "%s completed", cmd->name);
}

/* ---- EXPUNGE, COPY, MOVE ------------------------------------------------- */

/* put_expunged - the EXPUNGE responses of uids gone[0..n) (ascending),
 * which have already left f */
static void
put_expunged(const struct store_folder *f, struct buf *out, const uint32_t *gone, size_t n)
{
    for (size_t k = 0; k < n; k++)
        buf_printf(out, "* %zu EXPUNGE\r\n", lower_bound(f, gone[k]) + 1);
}

static void
cmd_expunge(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out, struct buf *t)
{
    uint32_t *uids = NULL, *gone = NULL;
    size_t nuids = 0, n = 0;
    char err[160] = "";
    const char *why;

    if (u->sel->readonly) {
        imap_tagged(t, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
        return;
    }
    if (cmd->uid) {
        /* UID EXPUNGE set (RFC 9051 6.4.9) */
        struct imap_seq set = { 0, NULL };
        size_t *idx = NULL;
        if (cmd->nargs != 1 || !imap_seq_parse(imap_cmd_arg(cmd, 0), &set, &why)
            || !imap_resolve_set(u->sel, &set, true, &idx, &nuids, &why)) {
            imap_seq_free(&set);
            imap_tagged(t, cmd, "BAD", "%s", cmd->nargs != 1 ? "UID EXPUNGE takes a UID set"
                        : why);
            return;
        }
        imap_seq_free(&set);
        uids = xcalloc(nuids ? nuids : 1, sizeof(*uids));
        for (size_t k = 0; k < nuids; k++)
            uids[k] = u->sel->msgs[idx[k]].uid;
        free(idx);
    } else if (cmd->nargs != 0) {
        imap_tagged(t, cmd, "BAD", "EXPUNGE takes no arguments");
        return;
    }
    int rc = store_expunge(u->sel, cmd->uid ? uids : NULL, nuids, &gone, &n, err, sizeof(err));
    int e = errno;
    put_expunged(u->sel, out, gone, n);
    free(gone);
    free(uids);
    if (rc < 0)
        no_errno(t, cmd, e, err);
    else
        imap_tagged(t, cmd, "OK", "%sEXPUNGE completed", cmd->uid ? "UID " : "");
}

/* imap_put_set - see exec.h */
void
imap_put_set(struct buf *out, const uint32_t *v, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[j + 1] == v[j] + 1)
            j++;
        buf_printf(out, "%s%u", i ? "," : "", v[i]);
        if (j > i)
            buf_printf(out, ":%u", v[j]);
        i = j + 1;
    }
}

static void
cmd_copy(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out, struct buf *t)
{
    bool move = strcmp(cmd->name, "MOVE") == 0;
    struct imap_seq set = { 0, NULL };
    char name[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;
    size_t *idx = NULL, n = 0;

    if (cmd->nargs != 2 || !imap_seq_parse(imap_cmd_arg(cmd, 0), &set, &why)) {
        imap_tagged(t, cmd, "BAD", "%s", cmd->nargs != 2 ? "A message set and a mailbox expected"
                    : why);
        imap_seq_free(&set);
        return;
    }
    bool ok = imap_resolve_set(u->sel, &set, cmd->uid, &idx, &n, &why);
    imap_seq_free(&set);
    if (!ok) {
        imap_tagged(t, cmd, "BAD", "%s", why);
        return;
    }
    if (!mailbox_arg(u, imap_cmd_arg(cmd, 1), false, name, &why)) {
        free(idx);
        imap_tagged(t, cmd, "NO", "[TRYCREATE] %s", why);
        return;
    }
    if (n == 0) {
        free(idx);
        imap_tagged(t, cmd, "OK", "%s completed: no messages", cmd->name);
        return;
    }
    if (move && u->sel->readonly) {
        free(idx);
        imap_tagged(t, cmd, "NO", "[READ-ONLY] The mailbox is read-only");
        return;
    }
    uint32_t validity = 0, *uids = NULL, *gone = NULL;
    size_t ngone = 0;
    uint32_t *src = xcalloc(n, sizeof(*src));
    for (size_t k = 0; k < n; k++)
        src[k] = u->sel->msgs[idx[k]].uid;
    int rc = move ? store_move(u->sel, idx, n, u->root, name, &validity, &uids, &gone, &ngone,
                               err, sizeof(err))
                  : store_copy(u->sel, idx, n, u->root, name, &validity, &uids, err,
                               sizeof(err));
    int e = errno;
    free(idx);
    if (rc < 0) {
        free(src);
        if (e == ENOENT)
            imap_tagged(t, cmd, "NO", "[TRYCREATE] %s", err[0] ? err : "No such mailbox");
        else if (e == ESTALE)
            imap_tagged(t, cmd, "NO", "[EXPUNGEISSUED] Some messages were expunged meanwhile");
        else
            no_errno(t, cmd, e, err);
        return;
    }
    struct buf code = BUF_INIT;
    buf_printf(&code, "[COPYUID %u ", validity);
    imap_put_set(&code, src, n);
    buf_putc(&code, ' ');
    imap_put_set(&code, uids, n);
    buf_putc(&code, ']');
    if (move) {
        /* RFC 6851 4.3: COPYUID in an untagged OK, before the EXPUNGEs */
        buf_printf(out, "* OK %s Moved\r\n", code.data);
        put_expunged(u->sel, out, gone, ngone);
        imap_tagged(t, cmd, "OK", "%sMOVE completed", cmd->uid ? "UID " : "");
    } else {
        imap_tagged(t, cmd, "OK", "%s %sCOPY completed", code.data, cmd->uid ? "UID " : "");
    }
    buf_free(&code);
    free(src);
    free(uids);
    free(gone);
}

/* ---- folders --------------------------------------------------------------- */

static void
cmd_create(struct imap_user *u, const struct imap_cmd *cmd, struct buf *t)
{
    char name[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;
    bool create = strcmp(cmd->name, "CREATE") == 0;

    if (cmd->nargs != 1 || !mailbox_arg(u, imap_cmd_arg(cmd, 0), create, name, &why)) {
        imap_tagged(t, cmd, cmd->nargs != 1 ? "BAD" : "NO", "%s",
                    cmd->nargs != 1 ? "One mailbox name expected" : why);
        return;
    }
    int rc;
    if (create)
        rc = store_create(u->root, name, err, sizeof(err));
    else
        rc = store_delete(u->root, name, err, sizeof(err));
    if (rc < 0) {
        if (!create && errno == EPERM)
            imap_tagged(t, cmd, "NO", "[CANNOT] INBOX cannot be deleted");
        else
            no_errno(t, cmd, errno, err);
        return;
    }
    imap_tagged(t, cmd, "OK", "%s completed", cmd->name);
}

static void
cmd_rename(struct imap_user *u, const struct imap_cmd *cmd, struct buf *t)
{
    char from[IMAP_MAILBOX_MAX + 1], to[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;

    if (cmd->nargs != 2 || !mailbox_arg(u, imap_cmd_arg(cmd, 0), false, from, &why)
        || !mailbox_arg(u, imap_cmd_arg(cmd, 1), false, to, &why)) {
        imap_tagged(t, cmd, cmd->nargs != 2 ? "BAD" : "NO", "%s",
                    cmd->nargs != 2 ? "Two mailbox names expected" : why);
        return;
    }
    if (store_rename(u->root, from, to, err, sizeof(err)) < 0)
        no_errno(t, cmd, errno, err);
    else
        imap_tagged(t, cmd, "OK", "RENAME completed");
}

static void
cmd_subscribe(struct imap_user *u, const struct imap_cmd *cmd, struct buf *t)
{
    char name[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;
    bool on = strcmp(cmd->name, "SUBSCRIBE") == 0;

    if (cmd->nargs != 1 || !mailbox_arg(u, imap_cmd_arg(cmd, 0), false, name, &why)) {
        imap_tagged(t, cmd, cmd->nargs != 1 ? "BAD" : "NO", "%s",
                    cmd->nargs != 1 ? "One mailbox name expected" : why);
        return;
    }
    if (store_subscribe(u->root, name, on, err, sizeof(err)) < 0)
        no_errno(t, cmd, errno, err);
    else
        imap_tagged(t, cmd, "OK", "%s completed", cmd->name);
}

/* put_status - "* STATUS name (...)" of the items asked */
static bool
put_status(const struct imap_user *u, struct buf *out, const char *name, unsigned items,
           char *err, size_t errlen)
{
    struct store_status st;

    if (store_status(u->root, name, &st, err, errlen) < 0)
        return false;
    buf_puts(out, "* STATUS ");
    put_name(u, out, name);
    buf_puts(out, " (");
    size_t mark = out->len;
#define ITEM(bit, fmt, v) \
    if (items & (bit)) buf_printf(out, "%s" fmt, out->len > mark ? " " : "", v)
    ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %u", st.messages);
    ITEM(IMAP_STATUS_RECENT, "RECENT %u", 0u);
    ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %u", st.uidnext);
    ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %u", st.uidvalidity);
    ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %u", st.unseen);
    ITEM(IMAP_STATUS_DELETED, "DELETED %u", st.deleted);
    ITEM(IMAP_STATUS_SIZE, "SIZE %llu", (unsigned long long)st.size);
#undef ITEM
    buf_puts(out, ")\r\n");
    return true;
}

static void
cmd_status(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out, struct buf *t)
{
    struct imap_status st;
    struct imap_val v = { 0 };
    char name[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;

    if (!imap_status_args(cmd, &st, &why)) {
        imap_tagged(t, cmd, "BAD", "%s", why);
        return;
    }
    v.type = IMAP_VAL_QUOTED;
    v.s = st.mailbox;
    v.len = st.mailbox_len;
    if (!mailbox_arg(u, &v, false, name, &why)) {
        imap_tagged(t, cmd, "NO", "[NONEXISTENT] %s", why);
        return;
    }
    if (!put_status(u, out, name, st.items, err, sizeof(err)))
        no_errno(t, cmd, errno, err);
    else
        imap_tagged(t, cmd, "OK", "STATUS completed");
}

/* subscribed - is name among names[0..n)? */
static bool
subscribed(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

/* list_matches - does the client's form of name match ref + one of the patterns? */
static bool
list_matches(const struct imap_list *l, const char *wire, size_t wlen)
{
    for (unsigned p = 0; p < l->npat; p++) {
        struct buf pat = BUF_INIT;
        /* RFC 9051 6.3.9: the reference is prefixed to the pattern (a
         * pattern that is itself rooted stays as it is: no "/" roots here) */
        buf_append(&pat, l->ref, l->ref_len);
        buf_append(&pat, l->pat[p], l->pat_len[p]);
        bool m = imap_list_match(pat.data ? pat.data : "", pat.len, wire, wlen, '.');
        buf_free(&pat);
        if (m)
            return true;
    }
    return false;
}

/* put_list_line - one "* LIST (attrs) "." name" (or LSUB) line */
static void
put_list_line(const struct imap_user *u, struct buf *out, const char *verb, const char *disk,
              const char *attrs)
{
    buf_printf(out, "* %s (%s) \".\" ", verb, attrs);
    put_name(u, out, disk);
    buf_puts(out, "\r\n");
}

/*
 * list_lsub - LSUB (IMAP4rev1, RFC 3501 6.3.9): the subscribed names that
 * match, whether their folder exists or not; for a subscribed "A.B" that
 * a "%" stops short of, "A" with \Noselect when it is not subscribed
 * itself.
 */
static void
list_lsub(struct imap_user *u, const struct imap_list *l, struct buf *out, char **subs,
     size_t nsubs, const struct store_list *sl)
{
    struct buf wire = BUF_INIT;
    char **done = xcalloc(nsubs ? nsubs : 1, sizeof(*done));
    size_t ndone = 0;

    for (size_t k = 0; k < nsubs; k++) {
        bool exists = false;
        for (size_t i = 0; i < sl->n && !exists; i++)
            exists = strcmp(sl->v[i].name, subs[k]) == 0;
        wire_name(u, subs[k], &wire);
        if (list_matches(l, wire.data ? wire.data : "", wire.len)) {
            put_list_line(u, out, "LSUB", subs[k], exists ? "" : "\\Noselect");
            continue;
        }
        for (char *dot = strchr(subs[k], '.'); dot; dot = strchr(dot + 1, '.')) {
            char *parent = xstrndup(subs[k], (size_t)(dot - subs[k]));
            bool seen = subscribed(subs, nsubs, parent) || subscribed(done, ndone, parent);
            wire_name(u, parent, &wire);
            if (!seen && list_matches(l, wire.data ? wire.data : "", wire.len)) {
                put_list_line(u, out, "LSUB", parent, "\\Noselect");
                done[ndone++] = parent;
                break;
            }
            free(parent);
        }
    }
    store_names_free(done, ndone);
    buf_free(&wire);
}

static void
cmd_list(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out, struct buf *t)
{
    bool lsub = strcmp(cmd->name, "LSUB") == 0;
    struct imap_list l;
    struct store_list sl = { NULL, 0 };
    char **subs = NULL;
    size_t nsubs = 0;
    char err[160] = "";
    const char *why;

    if (!imap_list_args(cmd, &l, &why)) {
        imap_tagged(t, cmd, "BAD", "%s", why);
        return;
    }
    /* RFC 9051 6.3.9: an empty pattern asks for the delimiter and root */
    if (!l.extended && l.npat == 1 && l.pat_len[0] == 0) {
        buf_printf(out, "* %s (\\Noselect) \".\" \"\"\r\n", lsub ? "LSUB" : "LIST");
        imap_tagged(t, cmd, "OK", "%s completed", cmd->name);
        return;
    }
    bool want_subs = lsub || (l.select & IMAP_LIST_SEL_SUBSCRIBED)
                     || (l.ret & IMAP_LIST_RET_SUBSCRIBED);
    if (store_folders(u->root, &sl, err, sizeof(err)) < 0
        || (want_subs && store_subscriptions(u->root, &subs, &nsubs) < 0)) {
        no_errno(t, cmd, errno, err);
        store_list_free(&sl);
        return;
    }
    struct buf wire = BUF_INIT, attrs = BUF_INIT;
    if (lsub)
        list_lsub(u, &l, out, subs, nsubs, &sl);
    for (size_t i = 0; !lsub && i < sl.n; i++) {
        const struct store_list_entry *e = &sl.v[i];
        bool sub = want_subs && subscribed(subs, nsubs, e->name);
        wire_name(u, e->name, &wire);
        if (!list_matches(&l, wire.data ? wire.data : "", wire.len))
            continue;
        if ((l.select & IMAP_LIST_SEL_SUBSCRIBED) && !sub)
            continue;
        if ((l.select & IMAP_LIST_SEL_SPECIAL_USE) && !e->special)
            continue;
        buf_reset(&attrs);
        if (e->nonexistent)
            buf_puts(&attrs, "\\NonExistent \\Noselect");
        buf_printf(&attrs, "%s%s", attrs.len ? " " : "",
                   e->has_children ? "\\HasChildren" : "\\HasNoChildren");
        if (sub && (l.select & IMAP_LIST_SEL_SUBSCRIBED || l.ret & IMAP_LIST_RET_SUBSCRIBED))
            buf_puts(&attrs, " \\Subscribed");
        /* RFC 6154 2: the attributes go out unless options ask otherwise */
        if (e->special && (!l.extended || (l.ret & IMAP_LIST_RET_SPECIAL_USE)
                           || (l.select & IMAP_LIST_SEL_SPECIAL_USE)))
            buf_printf(&attrs, " %s", e->special);
        put_list_line(u, out, "LIST", e->name, attrs.data);
        if ((l.ret & IMAP_LIST_RET_STATUS) && !e->nonexistent)
            put_status(u, out, e->name, l.status, err, sizeof(err));    /* RFC 5819 */
    }
    /* Subscribed names that no longer exist (RFC 5258 3.1) */
    if (!lsub && (l.select & IMAP_LIST_SEL_SUBSCRIBED)) {
        for (size_t k = 0; k < nsubs; k++) {
            bool found = false;
            for (size_t i = 0; i < sl.n && !found; i++)
                found = strcmp(sl.v[i].name, subs[k]) == 0;
            wire_name(u, subs[k], &wire);
            if (!found && list_matches(&l, wire.data ? wire.data : "", wire.len))
                put_list_line(u, out, "LIST", subs[k], "\\NonExistent \\Subscribed");
        }
    }
    buf_free(&wire);
    buf_free(&attrs);
    store_list_free(&sl);
    store_names_free(subs, nsubs);
    imap_tagged(t, cmd, "OK", "%s completed", cmd->name);
}

/* ---- APPEND, ENABLE --------------------------------------------------------- */

static void
cmd_append(struct imap_user *u, const struct imap_cmd *cmd, struct buf *t)
{
    struct imap_append a;
    struct imap_val v = { 0 };
    char name[IMAP_MAILBOX_MAX + 1], err[160] = "";
    const char *why;
    uint32_t validity, uid;

    if (!imap_append_args(cmd, &a, &why)) {
        imap_tagged(t, cmd, "BAD", "%s", why);
        return;
    }
    v.type = IMAP_VAL_QUOTED;
    v.s = a.mailbox;
    v.len = a.mailbox_len;
    if (!mailbox_arg(u, &v, false, name, &why)) {
        imap_tagged(t, cmd, "NO", "[TRYCREATE] %s", why);
        return;
    }
    if (a.msg_len > u->append_max) {
        imap_tagged(t, cmd, "NO", "[TOOBIG] Message too large");
        return;
    }
    if (store_append(u->root, name, a.msg, a.msg_len, a.flags.system & STORE_FLAGS_ALL,
                     a.has_date ? a.date : 0, &validity, &uid, err, sizeof(err)) < 0) {
        if (errno == ENOENT)
            imap_tagged(t, cmd, "NO", "[TRYCREATE] %s", err[0] ? err : "No such mailbox");
        else
            no_errno(t, cmd, errno, err);
        return;
    }
    imap_tagged(t, cmd, "OK", "[APPENDUID %u %u] APPEND completed", validity, uid);
}

static void
cmd_enable(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out, struct buf *t)
{
    struct buf en = BUF_INIT;

    if (cmd->nargs == 0) {
        imap_tagged(t, cmd, "BAD", "ENABLE needs a capability");
        return;
    }
    for (const struct imap_val *v = cmd->args; v; v = v->next) {
        if (imap_val_is(v, "IMAP4rev2") && !u->rev2) {
            u->rev2 = true;
            buf_puts(&en, " IMAP4rev2");
        }
    }
    /* RFC 5161 3.2: ENABLED lists what this command newly enabled */
    buf_printf(out, "* ENABLED%s\r\n", en.data ? en.data : "");
    buf_free(&en);
    imap_tagged(t, cmd, "OK", "ENABLE completed");
}

/* ---- dispatch ------------------------------------------------------------------ */

enum imap_exec_end
imap_exec(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out)
{
    const char *n = cmd->name;
    struct buf t = BUF_INIT;
    bool updates = true;
    char err[160];

    if (!u->ready) {
        /* First command after login: the special folders (RFC 6154). */
        if (store_ensure_special(u->root, err, sizeof(err)) == 0)
            u->ready = true;
    }
    if (u->sel && (strcmp(n, "FETCH") == 0 || strcmp(n, "STORE") == 0
                   || strcmp(n, "SEARCH") == 0)) {
        /* RFC 9051 7.5.1: no EXPUNGE while answering these; the updates
         * wait for the next command */
        if (n[0] == 'F')
            return imap_exec_fetch(u, cmd, out);
        if (n[1] == 'T')
            imap_exec_store(u, cmd, out);
        else
            imap_exec_search(u, cmd, out);
        return IMAP_EXEC_DONE;
    }
    if (strcmp(n, "SELECT") == 0 || strcmp(n, "EXAMINE") == 0) {
        cmd_select(u, cmd, out, &t);
        updates = false;
    } else if (strcmp(n, "CREATE") == 0 || strcmp(n, "DELETE") == 0) {
        cmd_create(u, cmd, &t);
    } else if (strcmp(n, "RENAME") == 0) {
        cmd_rename(u, cmd, &t);
    } else if (strcmp(n, "SUBSCRIBE") == 0 || strcmp(n, "UNSUBSCRIBE") == 0) {
        cmd_subscribe(u, cmd, &t);
    } else if (strcmp(n, "LIST") == 0 || strcmp(n, "LSUB") == 0) {
        cmd_list(u, cmd, out, &t);
    } else if (strcmp(n, "NAMESPACE") == 0) {
        buf_puts(out, "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n");
        imap_tagged(&t, cmd, "OK", "NAMESPACE completed");
    } else if (strcmp(n, "STATUS") == 0) {
        cmd_status(u, cmd, out, &t);
    } else if (strcmp(n, "APPEND") == 0) {
        cmd_append(u, cmd, &t);
    } else if (strcmp(n, "ENABLE") == 0) {
        cmd_enable(u, cmd, out, &t);
    } else if (strcmp(n, "NOOP") == 0 || (strcmp(n, "CHECK") == 0 && u->sel)) {
        imap_tagged(&t, cmd, "OK", "%s completed", n);
    } else if (!u->sel && (strcmp(n, "CLOSE") == 0 || strcmp(n, "UNSELECT") == 0
                           || strcmp(n, "EXPUNGE") == 0 || strcmp(n, "COPY") == 0
                           || strcmp(n, "MOVE") == 0 || strcmp(n, "FETCH") == 0
                           || strcmp(n, "STORE") == 0 || strcmp(n, "SEARCH") == 0
                           || strcmp(n, "CHECK") == 0)) {
        imap_tagged(&t, cmd, "BAD", "No mailbox selected");
    } else if (strcmp(n, "CLOSE") == 0 || strcmp(n, "UNSELECT") == 0) {
        cmd_close(u, cmd, &t);
        updates = false;
    } else if (strcmp(n, "EXPUNGE") == 0) {
        cmd_expunge(u, cmd, out, &t);
    } else if (strcmp(n, "COPY") == 0 || strcmp(n, "MOVE") == 0) {
        cmd_copy(u, cmd, out, &t);
    } else {
        imap_tagged(&t, cmd, "BAD", "Unknown command");
        updates = false;
    }
    enum imap_exec_end end = IMAP_EXEC_DONE;
    if (updates && u->sel)
        end = imap_exec_updates(u, out);
    buf_append(out, t.data, t.len);
    buf_free(&t);
    return end;
}
