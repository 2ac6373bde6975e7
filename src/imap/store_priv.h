/*
 * store_priv - helpers shared by the files of the store: store.c (open,
 * sync), store_msg.c (flags, read, expunge), store_xfer.c (copy, move,
 * append) and store_list.c (folders, subscriptions). Not for use outside
 * src/imap/store*.c.
 */
#ifndef POSTINO_IMAP_STORE_PRIV_H
#define POSTINO_IMAP_STORE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store_folder;

/* The lock of root-level changes: folders, subscriptions, UIDVALIDITY. */
#define STORE_ROOT_LOCK "postino.lock"

/* store_err - format a reason into err, when there is room */
void store_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * store_path - the directory of folder name: root itself for INBOX, else
 * root/.name. NULL with errno EINVAL (and err) when !store_name_ok(name).
 * The result is a new allocation.
 */
char *store_path(const char *root, const char *name, char *err, size_t errlen);

/*
 * store_folder_dir - check that the folder at path exists (has cur/);
 * for INBOX (inbox true) create root, cur/, new/ and tmp/ when missing.
 * 0, or -1 with errno (ENOENT: no such folder) and err.
 */
int store_folder_dir(const char *path, const char *name, bool inbox, char *err, size_t errlen);

/*
 * store_rename_noreplace - rename from to to, failing with EEXIST instead
 * of replacing an existing to (files or directories). 0 or -1 (errno).
 */
int store_rename_noreplace(const char *from, const char *to);

/*
 * store_name_flags - the STORE_FLAG_* of a message file name ("cur/..."
 * or "new/...") whose unique part is name + 4, ulen octets; an info other
 * than ":2," has none.
 */
unsigned store_name_flags(const char *name, size_t ulen);

/*
 * store_make_name - "cur/<unique>:2,<letters>" (new allocation) for the
 * unique of name (ulen octets at name + 4) with flags. keep: the other
 * letters of name's info stay, so Dovecot's keywords survive a change.
 */
char *store_make_name(const char *name, size_t ulen, unsigned flags, bool keep);

/*
 * store_find_unique - the current name ("cur/..." or "new/...") of unique
 * u[0..ulen) in the folder at path, in a new allocation, or NULL (errno
 * ENOENT) when no file has it: another session or program may have
 * renamed it. One readdir() of cur/, and of new/ when not found there.
 */
char *store_find_unique(const char *path, const char *u, size_t ulen);

/* store_recount - f's unseen, deleted and total from its messages */
void store_recount(struct store_folder *f);

/*
 * store_forget - remove the messages i with drop[i] from f's snapshot and
 * uidlist; *uids (new array, ascending) and *n say which. The uidlist
 * part is best effort: a later load drops entries of gone files anyway.
 */
void store_forget(struct store_folder *f, const bool *drop, uint32_t **uids, size_t *n);

#endif
