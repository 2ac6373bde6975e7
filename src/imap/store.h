/*
 * store - the IMAP message store over a user's Maildir++ (RFC 9051).
 *
 * Layout, as Dovecot and Courier keep it, so that they and mutt agree:
 * the Maildir root is INBOX; folder "A.B" is the directory root/.A.B
 * (hierarchy delimiter "."), with cur/ new/ tmp/ and an empty file
 * "maildirfolder". A message is a file named "<unique>" in new/ or
 * "<unique>:2,<letters>" in cur/, the letters (ASCII order) being its
 * flags: D draft, F flagged, R replied (\Answered), S seen, T trashed
 * (\Deleted). Other letters (Dovecot's keyword letters) are kept as they
 * are when a message is renamed. UIDs, RFC822.SIZE and INTERNALDATE come
 * from the folder's postino-uidlist (see uidlist.h); INTERNALDATE is the
 * file's mtime, as in Dovecot.
 *
 * What it does: list, create, delete and rename folders; subscriptions
 * (root/subscriptions, one name per line); open a folder as a snapshot
 * sorted by UID and bring it up to date (store_sync) with what other
 * sessions, POP3 and local delivery did meanwhile; flags, expunge, copy,
 * move, append, read. What it does not: parse commands, format responses,
 * parse messages, track \Recent (IMAP4rev2 dropped it), keywords, quotas.
 *
 * Every function does blocking file I/O: call it from a worker thread.
 * Different threads may use different store_folder objects at once, on
 * the same folder or not, alongside other processes; one store_folder is
 * used by one thread at a time. Folder names given here are the names on
 * disk (Dovecot keeps them in modified UTF-7); a name is refused with
 * EINVAL unless store_name_ok().
 *
 * Errors: -1 or NULL with errno set and, where an err buffer is given
 * (errlen > 0), a short reason fit for a NO response.
 */
#ifndef POSTINO_IMAP_STORE_H
#define POSTINO_IMAP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/*
 * The flag bitmask. The same values as IMAP_FLAG_* of imap/imap_fmt.h,
 * kept here too so that the store depends on no formatting code.
 */
#define STORE_FLAG_SEEN     1   /* \Seen      "S" */
#define STORE_FLAG_ANSWERED 2   /* \Answered  "R" */
#define STORE_FLAG_FLAGGED  4   /* \Flagged   "F" */
#define STORE_FLAG_DELETED  8   /* \Deleted   "T" */
#define STORE_FLAG_DRAFT    16  /* \Draft     "D" */
#define STORE_FLAGS_ALL     31

/* The largest message store_read loads. */
#define STORE_READ_MAX ((size_t)1 << 31)

/* One message of a snapshot. */
struct store_msg {
    uint32_t  uid;
    unsigned  flags;            /* STORE_FLAG_* */
    uint64_t  size;             /* RFC822.SIZE: each bare LF counts as CRLF */
    time_t    internaldate;     /* the file's mtime */
    char     *name;             /* relative to the folder: "cur/<unique>:2,<letters>"
                                   or "new/<unique>" (read-only sessions) */
    size_t    ulen;             /* the unique part is name + 4, ulen octets */
};

/* An open folder: a snapshot, brought up to date by store_sync. */
struct store_folder {
    char             *root;     /* the user's Maildir root */
    char             *name;     /* "INBOX" or "A.B" */
    char             *path;     /* the folder's directory */
    bool              readonly; /* EXAMINE: no flag changes, new/ stays */
    uint32_t          uidvalidity;
    uint32_t          uidnext;
    struct store_msg *msgs;     /* ascending uid; index i is sequence i+1 */
    size_t            count;
    size_t            unseen;   /* messages without \Seen */
    size_t            deleted;  /* messages with \Deleted */
    uint64_t          total;    /* sum of the sizes */
    /* private to store.c */
    uint32_t          shown;    /* highest uid ever in the snapshot */
    bool              stamp_ok; /* new/ and cur/ mtimes are trustworthy */
    struct timespec   stamp_new, stamp_cur;
};

/* What store_sync found changed since the snapshot was taken or synced. */
struct store_changes {
    uint32_t *expunged;         /* uids gone, ascending */
    size_t    nexpunged;
    size_t    first_new;        /* msgs[first_new..count) are new arrivals */
    size_t    nnew;
    uint32_t *flagged;          /* uids whose flags changed, ascending */
    size_t    nflagged;
};

/* One folder of store_folders. */
struct store_list_entry {
    char       *name;
    bool        has_children;   /* \HasChildren, else \HasNoChildren */
    bool        nonexistent;    /* only implied by its children:
                                   \NonExistent (so \Noselect) */
    const char *special;        /* store_special_use(name) */
};

struct store_list {
    struct store_list_entry *v; /* INBOX first, then by name (strcmp) */
    size_t                   n;
};

/* For STATUS (RFC 9051 6.3.11). */
struct store_status {
    uint32_t messages, uidnext, uidvalidity, unseen, deleted;
    uint64_t size;
};

/* ---- folders (store_list.c) ------------------------------------------- */

/*
 * store_name_ok - whether name can be a folder here: "INBOX" (any case),
 * or 1..200 octets without "/", control characters, a leading or
 * trailing "." or ".." (no empty level), and not under INBOX ("INBOX.x":
 * INBOX is the root directory, so it has no inferiors in this layout).
 */
bool store_name_ok(const char *name);

/* store_is_inbox - whether name is INBOX (case-insensitive, RFC 9051 5.1) */
bool store_is_inbox(const char *name);

/* store_special_use - the RFC 6154 attribute of name ("\\Sent",
 * "\\Drafts", "\\Trash", "\\Junk", "\\Archive") or NULL; a static string */
const char *store_special_use(const char *name);

/*
 * store_ensure_special - create Sent, Drafts, Trash, Junk and Archive
 * where missing (first login) and subscribe the ones it creates.
 * Returns 0, or -1 with errno and err on the first failure.
 */
int store_ensure_special(const char *root, char *err, size_t errlen);

/*
 * store_folders - list INBOX and every folder of root (a ".X" directory
 * with cur/), plus the names only implied by a deeper folder (for ".A.B"
 * without ".A": "A", nonexistent). A missing root lists INBOX alone.
 * Returns 0 and fills *out (free with store_list_free), or -1 with errno.
 */
int store_folders(const char *root, struct store_list *out, char *err, size_t errlen);
void store_list_free(struct store_list *l);

/*
 * store_create - create folder name (cur/ new/ tmp/ maildirfolder). No
 * parent is created: Maildir++ needs none, and an absent parent lists as
 * nonexistent. Completes a ".name" directory that lacks cur/. Errors:
 * EEXIST (the folder or INBOX exists), EINVAL (bad name), or the
 * file-system error.
 */
int store_create(const char *root, const char *name, char *err, size_t errlen);

/*
 * store_delete - delete folder name and all its messages. INBOX cannot be
 * deleted (EPERM; RFC 9051 6.3.5). Inferior folders are kept: ".A" goes,
 * ".A.B" stays, and "A" then lists as \NonExistent with children, which
 * RFC 9051 6.3.5 allows (the name acquires \Noselect). The directory is
 * first renamed out of the way, so deliveries never see half of it.
 * Errors: ENOENT (no such folder), EINVAL, EPERM, file-system errors.
 */
int store_delete(const char *root, const char *name, char *err, size_t errlen);

/*
 * store_rename - rename folder from to to, with all its inferiors (RFC
 * 9051 6.3.6); UIDVALIDITY and UIDs go along. Renaming INBOX creates to
 * and moves every INBOX message there (UIDs change; INBOX stays, empty);
 * inferiors of INBOX do not exist here. Errors: ENOENT (from does not
 * exist), EEXIST (to or one of the renamed inferiors exists), EINVAL
 * (bad name, or to is under from), file-system errors; on error nothing
 * was renamed. Subscriptions are left as they are (RFC 9051 6.3.9: a
 * server must not remove names from the subscription list by itself).
 */
int store_rename(const char *root, const char *from, const char *to, char *err, size_t errlen);

/*
 * store_subscribe - add (on) or remove (!on) name in root/subscriptions.
 * The name need not exist (RFC 9051 6.3.7). Adding a name present, or
 * removing one absent, succeeds without writing. Returns 0 or -1.
 */
int store_subscribe(const char *root, const char *name, bool on, char *err, size_t errlen);

/*
 * store_subscriptions - the subscribed names in file order (a Dovecot
 * "V\t2" file is read too). Returns 0 and a new array *names of *n new
 * strings (free with store_names_free), or -1 with errno.
 */
int store_subscriptions(const char *root, char ***names, size_t *n);
void store_names_free(char **names, size_t n);

/* ---- messages (store.c, store_msg.c, store_xfer.c) -------------------- */

/*
 * store_open - open folder name of root as a snapshot. Read-write moves
 * new/ to cur/ (adding ":2,"), like Dovecot. Any message without a UID
 * yet gets one (read-only too), in delivery order (the time at the start
 * of its name, then the name); the uidlist is created when missing, with
 * a new UIDVALIDITY. INBOX's directories are created when missing.
 * Returns a folder (free with store_close), or NULL with errno: ENOENT
 * (no such folder: NO [NONEXISTENT]), EINVAL (bad name), EOVERFLOW (UIDs
 * used up), file-system errors.
 */
struct store_folder *store_open(const char *root, const char *name, bool readonly, char *err,
                                size_t errlen);

/* store_close - release a snapshot; NULL is harmless. Touches no file. */
void store_close(struct store_folder *f);

/*
 * store_sync - bring f up to date and say what changed (for the untagged
 * EXPUNGE / EXISTS / FETCH FLAGS after a command, NOOP and IDLE). Cheap
 * when nothing did: two stat() calls. On return f->msgs no longer holds
 * the expunged messages and ends with the new ones; the old 1-based
 * sequence number of the k-th expunged uid (0-based, ascending) is
 * (messages now with a smaller uid) + k + 1, so sending EXPUNGE in
 * descending uid order with those numbers is valid (RFC 9051 7.5.1).
 * Fill *ch (free with store_changes_free) and return 0; or -1 with
 * errno: ENOENT (the folder was deleted), ESTALE (the uidlist was lost
 * and UIDVALIDITY changed: end the session with BYE), others; f is then
 * unchanged.
 */
int store_sync(struct store_folder *f, struct store_changes *ch, char *err, size_t errlen);
void store_changes_free(struct store_changes *ch);

/* store_find - the index of uid in f (binary search): true and *index, or false */
bool store_find(const struct store_folder *f, uint32_t uid, size_t *index);

/*
 * store_set_flags - set message index's flags to flags (STORE_FLAG_*; the
 * whole set, not a change) by renaming its file into cur/ with the new
 * info; other letters stay. A file renamed meanwhile by another session is
 * found again by its unique name. Returns 0; or -1 with errno: EROFS
 * (read-only), ERANGE (index), ENOENT (the message is gone: expunged by
 * someone else; the next store_sync reports it).
 */
int store_set_flags(struct store_folder *f, size_t index, unsigned flags, char *err,
                    size_t errlen);

/*
 * store_change_flags - add the flags add and take away the flags remove
 * (STORE_FLAG_*) of message index, starting from the letters its file
 * has on disk now, so that a change another session or program made
 * since the snapshot is kept (RFC 9051 6.4.6 +FLAGS/-FLAGS). Returns and
 * errors as store_set_flags.
 */
int store_change_flags(struct store_folder *f, size_t index, unsigned add, unsigned remove,
                       char *err, size_t errlen);

/*
 * store_expunge - unlink the messages with \Deleted; when uids is not
 * NULL, only those among uids[0..nuids) (UID EXPUNGE, RFC 9051 6.4.9). A
 * message whose \Deleted another session removed meanwhile is kept; one
 * already gone counts as expunged. They leave the snapshot and the
 * uidlist. Sets *expunged to a new array (free()) of the uids expunged,
 * ascending, *n to their number, and returns 0; or -1 with errno (EROFS;
 * or a file that could not be unlinked, reason in err): the ones in
 * *expunged were expunged all the same, and the session must report them.
 */
int store_expunge(struct store_folder *f, const uint32_t *uids, size_t nuids,
                  uint32_t **expunged, size_t *n, char *err, size_t errlen);

/*
 * store_copy - copy messages idx[0..n) of src into folder dst_name of
 * dst_root (the same folder is allowed), with their system flags
 * (keyword letters are per folder in Dovecot, so they are not copied)
 * and INTERNALDATE: a hard link into the destination's tmp/ (bytes copied
 * when linking fails), renamed into cur/ under a new unique name, the
 * directory fsync()ed before returning. Sets *uidvalidity and a new array
 * *uids (free()) of the new uids, uids[k] for idx[k] (COPYUID, RFC 4315);
 * n == 0 copies nothing and sets NULL and 0.
 * Returns 0; or -1 with errno and nothing copied: ENOENT (no such
 * destination: NO [TRYCREATE]; err says which), ESTALE (a source message
 * was expunged meanwhile), ERANGE (an index), EOVERFLOW, I/O errors.
 */
int store_copy(struct store_folder *src, const size_t *idx, size_t n, const char *dst_root,
               const char *dst_name, uint32_t *uidvalidity, uint32_t **uids, char *err,
               size_t errlen);

/*
 * store_move - store_copy, then the sources leave src (RFC 6851): each
 * file is rename()d into the destination (bytes copied across file
 * systems), and *expunged / *nexpunged (new array, ascending) say which
 * source uids left src's snapshot. idx must not repeat (EINVAL). EROFS
 * when src is read-only. On -1 nothing was moved.
 */
int store_move(struct store_folder *src, const size_t *idx, size_t n, const char *dst_root,
               const char *dst_name, uint32_t *uidvalidity, uint32_t **uids,
               uint32_t **expunged, size_t *nexpunged, char *err, size_t errlen);

/*
 * store_append - add message data[0..len) to folder name with flags and
 * INTERNALDATE internaldate (0: now): written to tmp/, fsync()ed, its
 * mtime set, renamed into cur/, the directory fsync()ed, a uid given.
 * Sets *uidvalidity and *uid (APPENDUID, RFC 4315) and returns 0; or -1
 * with errno: ENOENT (no such folder: NO [TRYCREATE]), EOVERFLOW, I/O.
 */
int store_append(const char *root, const char *name, const char *data, size_t len,
                 unsigned flags, time_t internaldate, uint32_t *uidvalidity, uint32_t *uid,
                 char *err, size_t errlen);

/*
 * store_read - the whole file of message index, in a new NUL-terminated
 * allocation *data (free()) of *len octets, as stored (LF or CRLF line
 * ends). A file renamed meanwhile is found by its unique name. Returns 0;
 * or -1 with errno: ENOENT (expunged by someone else), ERANGE (index),
 * EFBIG (over STORE_READ_MAX), I/O errors.
 */
int store_read(struct store_folder *f, size_t index, char **data, size_t *len);

/* store_unique - the unique part of message index (not NUL-terminated:
 * *len octets), or NULL when index is out of range */
const char *store_unique(const struct store_folder *f, size_t index, size_t *len);

/*
 * store_status - the STATUS items of folder name, without keeping it
 * open (a read-only open: new messages get their UIDs). 0 or -1 as
 * store_open.
 */
int store_status(const char *root, const char *name, struct store_status *st, char *err,
                 size_t errlen);

/*
 * store_crlf_size - RFC822.SIZE of p[0..n): n plus one for each LF not
 * preceded by CR (the session sends such a LF as CRLF). Nothing is added
 * for a last line without a line end.
 */
uint64_t store_crlf_size(const char *p, size_t n);

/*
 * For tests only: when set, called with the folder's directory after each
 * scan of new/ and cur/, before the files found are measured, to play a
 * file deleted between readdir() and stat(). Not for production use.
 */
extern void (*store_test_hook)(const char *path);

#endif
