/*
 * uidlist - the per-folder file that gives Maildir messages IMAP UIDs.
 *
 * A Maildir names a message by its unique part (the file name before
 * ":2,"); IMAP needs a 32-bit UID per message that grows with each
 * arrival and is never reused while UIDVALIDITY stays the same (RFC 9051
 * 2.3.1.1). The file "postino-uidlist" in the folder records the mapping:
 *
 *     postino-uidlist 1 V<uidvalidity> N<uidnext>
 *     <uid> <size> <mtime> <unique>
 *     ...
 *
 * one line per message in ascending uid order, size being RFC822.SIZE
 * (CRLF line ends) and mtime the INTERNALDATE, both measured once, when
 * the uid is given, so that opening a known folder reads no message file.
 *
 * This module parses, formats, loads and durably replaces that file, and
 * takes the flock() locks that serialise its read-modify-write between
 * threads and processes. It knows nothing of flags or of the folder's
 * directories: that is store.c. Blocking file I/O: worker threads only.
 */
#ifndef POSTINO_IMAP_UIDLIST_H
#define POSTINO_IMAP_UIDLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

#define UIDLIST_FILE "postino-uidlist"
#define UIDLIST_LOCK "postino-uidlist.lock"
/* The largest uidlist we read (about 3 million messages). */
#define UIDLIST_MAX ((size_t)256 << 20)

struct uidlist_ent {
    uint32_t  uid;
    uint64_t  size;         /* RFC822.SIZE */
    int64_t   mtime;        /* INTERNALDATE, seconds since the epoch */
    char     *unique;       /* the Maildir unique name: no "/", ":", "\n" */
    bool      seen;         /* scratch for callers: matched a file */
};

struct uidlist {
    uint32_t            validity;   /* 0: none (missing or unreadable) */
    uint32_t            next;       /* UIDNEXT: above every uid given */
    struct uidlist_ent *v;          /* ascending, distinct uids < next */
    size_t              n, cap;
    size_t             *byname;     /* indexes of v sorted by unique, or
                                       NULL when to be rebuilt */
};

/* uidlist_init - an empty list (validity 0); uidlist_free releases it
 * and leaves it empty again */
void uidlist_init(struct uidlist *ul);
void uidlist_free(struct uidlist *ul);

/*
 * uidlist_parse - replace ul with the file text p[0..n). Returns 0, or -1
 * with errno EINVAL when the text is not a well-formed list (bad header,
 * a line without its newline, uids not ascending or not below uidnext, a
 * unique given twice, numbers out of range): ul is then empty with
 * validity 0, and the caller treats the list as lost.
 */
int uidlist_parse(struct uidlist *ul, const char *p, size_t n);

/* uidlist_format - append the file text of ul to out */
void uidlist_format(const struct uidlist *ul, struct buf *out);

/*
 * uidlist_load - read dir/postino-uidlist into ul. A missing or malformed
 * file gives an empty list with validity 0 and returns 0 (the caller
 * starts a new UIDVALIDITY). Returns -1 with errno when it cannot be read.
 */
int uidlist_load(struct uidlist *ul, const char *dir);

/* uidlist_save - durably replace dir/postino-uidlist (file_replace):
 * 0, or -1 with errno and the old file untouched */
int uidlist_save(const struct uidlist *ul, const char *dir);

/*
 * uidlist_add - give unique[0..ulen) the next uid. Returns the uid, or 0
 * with errno EOVERFLOW when the 32-bit uid space is used up (RFC 9051:
 * the folder then needs a new UIDVALIDITY).
 */
uint32_t uidlist_add(struct uidlist *ul, const char *unique, size_t ulen, uint64_t size,
                     int64_t mtime);

/* uidlist_prune - drop the entries with seen == false; returns how many */
size_t uidlist_prune(struct uidlist *ul);

/* uidlist_remove_uids - drop the entries whose uid is in uids[0..n)
 * (any order); returns how many */
size_t uidlist_remove_uids(struct uidlist *ul, const uint32_t *uids, size_t n);

/* uidlist_find - the entry of unique[0..ulen), or NULL */
struct uidlist_ent *uidlist_find(struct uidlist *ul, const char *unique, size_t ulen);

/*
 * uidlist_lock - open (creating it) dir/name and take an exclusive
 * flock() on it, waiting as long as it takes. Each call opens the file
 * anew, so the lock also excludes other threads of this process. Returns
 * the descriptor to pass to uidlist_unlock, or -1 with errno.
 */
int uidlist_lock(const char *dir, const char *name);
void uidlist_unlock(int fd);

/*
 * uidlist_new_validity - a UIDVALIDITY for a folder of root whose uidlist
 * is new or lost: the time, but above every value handed out before for
 * this root (the file root/postino-uidvalidity, under root/postino.lock),
 * so that a folder deleted and created again, or a list lost and made
 * again, within one second never repeats one (RFC 9051 6.3.5: the UIDs
 * of the former incarnation must not be reused under the same validity).
 * Never 0. Falls back to the time alone when the file cannot be written.
 */
uint32_t uidlist_new_validity(const char *root);

/* uidlist_unique_cmp - order of two unique names (memcmp, then length) */
int uidlist_unique_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
