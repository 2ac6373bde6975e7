/*
 * exec - the IMAP commands of the authenticated and selected states (RFC
 * 9051 6.3, 6.4), run on a worker thread against the store.
 *
 * The session (session.c, on the event loop) frames and parses each
 * command, answers what needs no mailbox itself (CAPABILITY, LOGIN,
 * STARTTLS, LOGOUT, IDLE's waiting), and hands every other command to a
 * worker, which calls imap_exec() and gets back the whole response: the
 * untagged data, then the tagged completion. One command of a session
 * runs at a time, so the struct imap_user it works on is never touched by
 * two threads at once.
 *
 * exec.c: the mailbox commands (SELECT ... APPEND, COPY, MOVE, EXPUNGE,
 * CLOSE) and the untagged updates; fetch.c: FETCH, STORE, SEARCH.
 */
#ifndef POSTINO_IMAP_EXEC_H
#define POSTINO_IMAP_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/sasl.h"

struct buf;
struct imap_cmd;
struct store_folder;

/* What a logged-in session knows, kept between its commands. */
struct imap_user {
    char                 name[SASL_FIELD_MAX + 1]; /* login: the address */
    char                *root;          /* the Maildir root (INBOX) */
    struct store_folder *sel;           /* the selected folder, or NULL */
    bool                 rev2;          /* ENABLE IMAP4rev2 was given: names in
                                           UTF-8, ESEARCH, no \Recent */
    bool                 utf8;          /* ENABLE UTF8=ACCEPT (RFC 6855) */
    bool                 ready;         /* the special folders were made */
    uint64_t             append_max;    /* message_size_limit */
    struct imap_fetch_state *fetching;  /* a FETCH answered in parts (fetch.c) */
};

/* A FETCH answer stops after about this many octets; the session sends
 * them, then runs the command again for the next part (IMAP_EXEC_MORE). */
#define IMAP_FETCH_CHUNK    (4u << 20)

enum imap_exec_end {
    IMAP_EXEC_DONE = 0,     /* go on reading commands */
    IMAP_EXEC_BYE,          /* "* BYE" was written: close after the output */
    IMAP_EXEC_MORE,         /* send the output, then call imap_exec() again with
                               the same command: the answer goes on */
};

/* imap_user_free - release u's storage and close its folder (not u) */
void imap_user_free(struct imap_user *u);

/*
 * imap_exec - run cmd (parsed, tag and name set, session authenticated)
 * for u, appending every response line to out: untagged data, then
 * "tag OK/NO/BAD ...". Blocking: call it on a worker thread.
 */
enum imap_exec_end imap_exec(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out);

/*
 * imap_exec_updates - the untagged EXPUNGE / EXISTS / FETCH FLAGS of
 * what changed in the selected folder since it was last looked at (for
 * NOOP, IDLE, and after commands; RFC 9051 7). Nothing when no folder is
 * selected. IMAP_EXEC_BYE when the folder was deleted or its
 * UIDVALIDITY changed.
 */
enum imap_exec_end imap_exec_updates(struct imap_user *u, struct buf *out);

/* ---- between exec.c and fetch.c --------------------------------------- */

/* imap_exec_fetch / _store / _search - FETCH, STORE and SEARCH (cmd->uid
 * for their UID forms) on u->sel, which is set. imap_exec_fetch returns
 * IMAP_EXEC_MORE after IMAP_FETCH_CHUNK octets of answer, keeping its
 * place in u->fetching. */
enum imap_exec_end imap_exec_fetch(struct imap_user *u, const struct imap_cmd *cmd,
                                   struct buf *out);
/* imap_fetch_abandon - forget a FETCH answered in parts (harmless when none) */
void imap_fetch_abandon(struct imap_user *u);
void imap_exec_store(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out);
void imap_exec_search(struct imap_user *u, const struct imap_cmd *cmd, struct buf *out);

/* imap_put_set - append v[0..n) (ascending numbers) as a sequence set,
 * runs written "a:b" (COPYUID, ESEARCH ALL) */
void imap_put_set(struct buf *out, const uint32_t *v, size_t n);

/* imap_tagged - append "tag status text\r\n" (text is printf-formatted) */
void imap_tagged(struct buf *out, const struct imap_cmd *cmd, const char *status,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * imap_resolve_set - the indexes (0-based, ascending, no repeats) of the
 * messages of f that set names: message numbers, or UIDs when uid; "*"
 * is the last message (its UID). A message number past the end is an
 * error (the client's view is wrong: BAD), except that "*" of an empty
 * folder names nothing; UIDs that no message has are skipped (RFC 9051
 * 6.4.8). Returns true and a new array *idx (free()) of *n entries, or
 * false with *why.
 */
struct imap_seq;
bool imap_resolve_set(const struct store_folder *f, const struct imap_seq *set, bool uid,
                      size_t **idx, size_t *n, const char **why);

#endif
