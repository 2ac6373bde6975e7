/*
 * envelope - what the queue keeps about a message besides its content:
 * sender, recipients and their DSN requests (RFC 3461), delivery state.
 *
 * On disk it is the head of the queue file: a versioned, human-readable
 * block of "key value" lines ended by an empty line, then the message.
 * Values are %-encoded (octets <= 0x20, 0x7f and "%" as %HH) so that a
 * quoted local part with spaces cannot break the format.
 *
 *   POSTINO-QUEUE 1
 *   id 0193A1B2C3D4E5F6
 *   arrival 1764380000
 *   sender alice@example.org          ("sender" alone for <>)
 *   client 127.0.0.1 mx.example.net   (IP, then the HELO name)
 *   size 4096                         (octets as SMTP carries them)
 *   length 3990                       (octets of the message after the head,
 *                                     as stored: a shorter file is one a crash
 *                                     cut before it was acknowledged)
 *   flags 8bitmime smtputf8
 *   ret full                          (or hdrs; line absent when not asked)
 *   envid QQ314159
 *   rcpt bob@example.org bob+x@example.org 6 rfc822;bob+x@example.org
 *        (mailbox, address given at RCPT, NOTIFY bits, ORCPT or "-",
 *        then "remote" for an address of another domain)
 *
 * envelope_format and envelope_parse are pure; the unit tests and the
 * fuzzer drive envelope_parse with hostile bytes.
 */
#ifndef POSTINO_QUEUE_ENVELOPE_H
#define POSTINO_QUEUE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"

#define QUEUE_ID_LEN 16

#define ENV_F_8BITMIME  0x01
#define ENV_F_SMTPUTF8  0x02

enum rcpt_state { RCPT_PENDING = 0, RCPT_DELIVERED, RCPT_FAILED };

struct env_rcpt {
    char           *mailbox;    /* where it goes: "local@domain" (lower case) */
    char           *orig;       /* the address the client gave */
    unsigned        notify;     /* NOTIFY_* bits of mail/smtp_cmd.h */
    char           *orcpt;      /* ORCPT or NULL */
    bool            remote;     /* not a local mailbox: relayed (authenticated senders) */
    enum rcpt_state state;
    char           *last_error; /* the last failure's reply or reason, or NULL */
    char           *last_status;    /* its enhanced status code, or NULL */
    char           *last_mta;       /* the server that answered, or NULL */
    char           *last_explanation;   /* a sentence for the bounce, or NULL */
};

struct envelope {
    char            id[QUEUE_ID_LEN + 1];
    time_t          arrival;
    char           *sender;     /* "" for the null reverse-path */
    char           *client_ip;
    char           *helo;
    size_t          size;
    size_t          length;     /* octets after the head; 0 when absent */
    bool            have_length;
    unsigned        flags;      /* ENV_F_* */
    int             ret;        /* enum smtp_ret */
    char           *envid;      /* NULL when absent */
    struct env_rcpt *rcpts;
    size_t          nrcpts;
    bool            warned;     /* a delay notice went out (state file) */
};

struct envelope *envelope_new(void);
void envelope_free(struct envelope *env);
/* envelope_add_rcpt - append a recipient (strings are copied) */
struct env_rcpt *envelope_add_rcpt(struct envelope *env, const char *mailbox,
                                   const char *orig, unsigned notify, const char *orcpt);
/* envelope_head_partial - could text[0..n) be the start of a head that
 * was cut short (a prefix of the magic line, or no empty line yet)? */
bool envelope_head_partial(const char *text, size_t n);
/* envelope_format - append the on-disk head (ending with the empty line) */
void envelope_format(const struct envelope *env, struct buf *out);
/*
 * envelope_parse - parse the head at text[0..n). On success returns the
 * envelope and sets *body_off to the offset of the message; NULL with a
 * reason in err when the head is malformed or incomplete.
 */
struct envelope *envelope_parse(const char *text, size_t n, size_t *body_off,
                                char *err, size_t errlen);
/* envelope_pending - recipients still to deliver */
size_t envelope_pending(const struct envelope *env);

#endif
