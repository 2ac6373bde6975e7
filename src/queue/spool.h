/*
 * spool - the durable queue on disk.
 *
 *   <data_dir>/queue/msg/<id>     envelope head, empty line, message
 *   <data_dir>/queue/state/<id>   delivery records, "done N" per recipient
 *                                 index, appended and synced
 *   <data_dir>/queue/corrupt/     files that failed to parse at start
 *
 * The durability contract (docs/ARCHITECTURE.md): a message is
 * acknowledged only after spool_commit_write() has written it to msg/<id>
 * and synced the file system. Group commit: one worker takes every
 * message waiting and pays for one syncfs(2) for the whole batch. The
 * head says how long the message is: at start, a file shorter than
 * that (or with its head cut) is the debris of a crash during a commit,
 * never acknowledged, and is removed.
 */
#ifndef POSTINO_QUEUE_SPOOL_H
#define POSTINO_QUEUE_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "queue/envelope.h"
#include "util/buf.h"
#include "util/workq.h"

struct spool;

/* spool_open - create the folders; NULL with err on failure */
struct spool *spool_open(const char *data_dir, char *err, size_t errlen);
void spool_close(struct spool *sp);
const char *spool_data_dir(const struct spool *sp);

/* spool_new_id - a fresh queue id (loop thread only): time-ordered hex */
void spool_new_id(char id[QUEUE_ID_LEN + 1]);

/* One message to commit. The caller fills env and content, sets
 * item.done, pushes it on the commit workq (maildir_commit_run), and reads
 * error (0, or an errno value) in done(). */
struct spool_commit {
    struct workq_item item;
    struct spool     *spool;
    struct envelope  *env;
    struct buf        content;  /* the message, LF line ends */
    int               error;
    bool              direct;   /* deliver it at once when it can (maildir_commit_run) */
    bool              delivered;/* it was: no queue file, every copy synced (maildir.h) */
};

/*
 * A batch is committed in two steps around one spool_sync() (the commit
 * worker, maildir_commit_run, shares that sync with direct deliveries):
 * spool_commit_write writes each message to msg/<id> (c->error set for
 * those that failed) and returns how many were written;
 * spool_commit_synced takes the sync's result, 0 or an errno value, and
 * on failure fails and removes every message written.
 */
size_t spool_commit_write(struct workq_item **items, size_t n, const struct spool *sp);
void spool_commit_synced(struct workq_item **items, size_t n, const struct spool *sp, int e);

/*
 * spool_scan - at start: call found() for every committed message with
 * its envelope (delivery records applied; ownership passes to found).
 * Files cut short by a crash are removed, unparsable ones move to
 * corrupt/. Returns the number found, or -1.
 */
long spool_scan(struct spool *sp, void (*found)(struct envelope *env, void *arg),
                void *arg);

/* Paths of a message's files; out must hold PATH_MAX. */
void spool_msg_path(const struct spool *sp, const char *id, char *out, size_t outlen);
void spool_state_path(const struct spool *sp, const char *id, char *out, size_t outlen);

/*
 * spool_read - read a committed message: the envelope head is skipped
 * and the content returned in a new allocation (*body, *bodylen); 0 or
 * -1 with errno. Worker threads only.
 */
int spool_read_body(const struct spool *sp, const char *id, char **data,
                    size_t *body_off, size_t *len);

/* spool_sync - syncfs(2) on the data folder's file system; 0 or -1 */
int spool_sync(const struct spool *sp);

#endif
