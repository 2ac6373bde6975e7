/*
 * aliases - the aliases file: "alias@domain: target, target ..." and
 * "@domain: target" (the catch-all of a domain). A target without "@" is
 * in the alias's domain. Keys and targets are kept in lower case.
 *
 * Like the users table, the running server reloads it when the file
 * changes. aliases_parse_text() is pure and reports every bad line.
 */
#ifndef POSTINO_DELIVER_ALIASES_H
#define POSTINO_DELIVER_ALIASES_H

#include <stddef.h>

#include "util/buf.h"

struct aliases;

struct aliases *aliases_new(const char *path);
void aliases_free(struct aliases *a);
/*
 * aliases_parse_text - replace the table with the lines of text[0..n);
 * problems are appended to errs as "NAME:LINE: message" lines (those
 * lines are skipped). Returns the number of problems.
 */
int aliases_parse_text(struct aliases *a, const char *text, size_t n,
                       const char *name, struct buf *errs);
/* aliases_refresh - reload if the file changed (missing = empty); 0 or -1 */
int aliases_refresh(struct aliases *a, struct buf *errs);
/*
 * aliases_lookup - the targets of key ("local@domain" or "@domain", any
 * case) as a NULL-terminated array owned by the table, or NULL.
 */
char *const *aliases_lookup(const struct aliases *a, const char *key);

#endif
