/*
 * maildrop - a Maildir folder as a POP3 session sees it (RFC 1939).
 *
 * maildrop_open takes the drop: it moves every message of new/ to cur/
 * (adding the Maildir info ":2,"), then lists cur/ in delivery order with
 * each message's UID and its POP3 size. maildrop_retr formats a message
 * for RETR/TOP; maildrop_commit unlinks the messages deleted in the
 * session (UPDATE state). This module does blocking file I/O: run it on a
 * worker thread. It takes no lock; the session prevents two logins to the
 * same folder ([IN-USE]).
 *
 * The formatting (LF -> CRLF, dot-stuffing, TOP, size) is in pure
 * functions, maildrop_size_* and maildrop_format, over bytes.
 */
#ifndef POSTINO_POP3_MAILDROP_H
#define POSTINO_POP3_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

struct maildrop_msg {
    char     *name;     /* file name in cur/, "<unique>:2,<flags>" */
    char     *uid;      /* <unique>: stable across sessions, unique in the
                           drop; the UIDL reply (RFC 1939 7) */
    uint64_t  size;     /* octets as RETR sends them: CRLF line ends,
                           before dot-stuffing, without the final "." */
};

struct maildrop {
    char                *path;      /* the Maildir folder */
    struct maildrop_msg *msgs;      /* sorted by delivery time, then uid */
    size_t               count;
    uint64_t             total;     /* sum of the sizes, for STAT */
};

/* Incremental size count, so large files are read in chunks. */
struct maildrop_size {
    uint64_t octets;
    bool     cr;        /* the last byte seen was CR */
    bool     open;      /* a line has started and has no LF yet */
};

/* maildrop_size_init / _feed / _end - count the octets that
 * maildrop_format would send for a message, minus dot-stuffing and the
 * final ".\r\n": each LF not preceded by CR counts as CRLF, and a last
 * line without LF gets a CRLF. */
void maildrop_size_init(struct maildrop_size *s);
void maildrop_size_feed(struct maildrop_size *s, const char *p, size_t n);
uint64_t maildrop_size_end(const struct maildrop_size *s);
/* maildrop_size - the same for a whole message p[0..n) */
uint64_t maildrop_size(const char *p, size_t n);

/*
 * maildrop_format - append to out the POP3 multi-line body of message
 * p[0..n) (RFC 1939 3): lines end in CRLF (LF and CRLF in the file are
 * both line ends), lines that begin with "." get another ".", and the
 * body ends with ".\r\n". top_lines < 0 sends the whole message; else
 * (TOP, RFC 1939 7) the header section, the empty line, and at most
 * top_lines lines of the body.
 */
void maildrop_format(const char *p, size_t n, long top_lines, struct buf *out);

/*
 * maildrop_open - take the drop of the Maildir folder path. Files whose
 * name begins with "." are ignored, and tmp/ is never read. A message
 * that vanishes while the drop is taken is left out. A message of new/
 * whose name already exists in cur/ stays in new/ for a later session.
 * Returns a new drop (free with maildrop_free), or NULL with a reason in
 * err (errlen > 0) when new/ or cur/ cannot be read.
 */
struct maildrop *maildrop_open(const char *path, char *err, size_t errlen);

/* maildrop_free - release a drop; NULL is harmless. Touches no file. */
void maildrop_free(struct maildrop *d);

/*
 * maildrop_retr - append to out the multi-line body of message i
 * (0-based) as maildrop_format does. Returns 0; or -1 with errno
 * (ENOENT: the message vanished, ERANGE: i out of range), out unchanged.
 */
int maildrop_retr(const struct maildrop *d, size_t i, long top_lines, struct buf *out);

/*
 * maildrop_commit - unlink every message i with deleted[i] true
 * (deleted has d->count entries). A file already gone counts as
 * deleted. Returns the number of messages that could not be deleted
 * (0 on success); the first reason goes to err.
 */
size_t maildrop_commit(const struct maildrop *d, const bool *deleted, char *err, size_t errlen);

#endif
