/*
 * maildir - local delivery into <data_dir>/mail/<domain>/<local>/.
 *
 * Runs on worker threads, a batch at a time (group commit again): every
 * recipient's copy is written into the Maildir's tmp/, one syncfs(2)
 * makes them durable, they are renamed into new/, and a second sync makes
 * the renames and the queue's delivery records durable before the queue
 * file is removed. A crash between the rename and that record can
 * deliver a copy twice; it can never lose one.
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

/* One message to deliver to its pending recipients. */
struct maildir_job {
    struct workq_item item;
    struct envelope  *env;      /* read-only while the job runs */
    int              *result;   /* per recipient: 1 delivered now, 0 untouched,
                                   else an errno value (temporary failure) */
    bool              complete; /* every recipient delivered; queue files gone */
};

/* maildir_run - workq run function; arg is a struct maildir_ctx */
void maildir_run(struct workq_item **items, size_t n, void *arg);

#endif
