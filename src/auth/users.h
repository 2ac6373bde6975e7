/*
 * users - the users file: "address:crypt-hash", one a line.
 *
 * The running server keeps a sorted copy in memory and reloads it when
 * the file changes (users_refresh compares inode, size and mtime), so
 * "postino user add" takes effect without a restart. The verbs that
 * change the file replace it atomically under an exclusive lock.
 * Addresses are stored and compared in lower case.
 */
#ifndef POSTINO_AUTH_USERS_H
#define POSTINO_AUTH_USERS_H

#include <stdbool.h>
#include <stddef.h>

struct users;

/* users_new - an empty table bound to path (not read yet) */
struct users *users_new(const char *path);
void users_free(struct users *u);
/*
 * users_refresh - reload when the file changed since the last load; a
 * missing file is an empty table. Returns 0, or -1 when the file exists
 * but cannot be read (the old table is kept).
 */
int users_refresh(struct users *u);
/* users_exists - is address (any case) a user? */
bool users_exists(const struct users *u, const char *address);
/* users_hash - the stored hash of address, or NULL */
const char *users_hash(const struct users *u, const char *address);
/* users_count / users_address - iterate, in sorted order */
size_t users_count(const struct users *u);
const char *users_address(const struct users *u, size_t i);

/*
 * users_password_hash - hash password with yescrypt (libxcrypt). Returns
 * a new string, or NULL with errno.
 */
char *users_password_hash(const char *password);
/* users_password_check - true when password matches hash (any crypt format) */
bool users_password_check(const char *password, const char *hash);

enum users_op { USERS_ADD, USERS_PASSWD, USERS_DEL };
/*
 * users_file_update - add, change or delete address in the file at path
 * (hash NULL for USERS_DEL), under a lock, replacing the file durably.
 * Returns 0, or -1 with a sentence in err ("no such user", ...).
 */
int users_file_update(const char *path, enum users_op op, const char *address,
                      const char *hash, char *err, size_t errlen);

#endif
