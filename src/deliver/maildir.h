/*
 * maildir - local delivery into <data_dir>/mail/<domain>/<local>/.
 *
 * Runs on worker threads, a batch at a time (group commit again). From
 * the queue (maildir_run): every recipient's copy is written into the
 * Maildir's tmp/, one syncfs(2) makes them durable, they are renamed into
 * new/, and a second sync makes the renames and the queue's delivery
 * records durable before the queue file is removed. A crash between the
 * rename and that record can deliver a copy twice; it can never lose one.
 * At commit time (maildir_commit_run) there is no queue file to fall
 * back on: the synced copy in tmp/ is the record.
 *
 * Each copy starts with "Return-Path:" and "Delivered-To:"; lines end
 * with LF, as qmail, Postfix and Dovecot write Maildir files.
 */
#ifndef POSTINO_DELIVER_MAILDIR_H
#define POSTINO_DELIVER_MAILDIR_H

#include <stdbool.h>

#include "queue/envelope.h"
#include "queue/spool.h"
#include "util/workq.h"

struct maildir_ctx {
    struct spool *spool;
    const char   *hostname;     /* for unique file names */
};

/*
 * One message: deliver to its pending local recipients, and record durably
 * what the scheduler decided for the others. result[] on the way in: 0
 * to deliver (local) or leave alone (remote), MAILDIR_DONE / MAILDIR_FAILED
 * for a recipient delivered or failed elsewhere (recorded only). On the
 * way out: MAILDIR_DONE for each delivered now, or an errno value.
 */
#define MAILDIR_DONE   1
#define MAILDIR_FAILED 2

struct maildir_job {
    struct workq_item item;
    struct envelope  *env;      /* read-only while the job runs */
    int              *result;
    bool              record_only;  /* write no copies, only records */
    bool              warned;       /* also record that a delay notice went out */
    bool              complete; /* nothing left to do: the queue files are gone */
};

/*
 * maildir_commit_run - the commit workers' run function (arg: a struct
 * maildir_ctx). A message whose spool_commit asks for it (direct) and
 * whose recipients are all local mailboxes wanting no success notice is
 * delivered at once instead of queued: its copies are written into tmp/
 * and one syncfs for the batch (shared with the queue files of the
 * others) makes them durable; then the 250 (c->delivered). No queue
 * file is written for it. Any other message, and one whose copies cannot
 * all be written, goes to the queue (spool_commit_write). A failed sync
 * takes every copy back: the client was not told 250, so it sends again.
 *
 * maildir_commit_after - the commit workers' after hook (workq_set_after):
 * renames the batch's synced direct copies into new/ while the 250s go
 * out. A crash before that rename, or before the next sync makes it
 * durable, leaves a whole copy in tmp/, which maildir_recover_tmp moves.
 */
void maildir_commit_run(struct workq_item **items, size_t n, void *arg);
void maildir_commit_after(void *arg);

/* maildir_run - workq run function; arg is a struct maildir_ctx */
void maildir_run(struct workq_item **items, size_t n, void *arg);

/*
 * maildir_recover_tmp - at start, before any delivery: look through the
 * tmp/ folder of every Maildir under <data_dir>/mail for the copies a
 * stopped server left there (its own names only, see copy_tag in
 * maildir.c). A queue copy ('Q') goes: the queue still holds its message
 * and delivers it again. The direct copies ('D') of one message move into
 * new/ when they were synced (all of them whole, or some already renamed),
 * since the 250 may have gone out; when the stop came while they were
 * being written (copy 0 here, the set incomplete) they all go.
 */
struct maildir_recovery {
    long moved;         /* into new/ */
    long removed;
};
void maildir_recover_tmp(const char *data_dir, struct maildir_recovery *r);

#endif
