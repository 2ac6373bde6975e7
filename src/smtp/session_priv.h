/*
 * session_priv - what the files of src/smtp/ share about a session:
 * its states, its structures and the helpers that act on it. Not for use
 * outside src/smtp/.
 */
#ifndef POSTINO_SMTP_SESSION_PRIV_H
#define POSTINO_SMTP_SESSION_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "mail/address.h"
#include "mail/data_reader.h"
#include "mail/smtp_cmd.h"
#include "queue/spool.h"
#include "smtp/smtp.h"
#include "util/buf.h"

/*
 * Command lines: RFC 5321 4.5.3.1.4 sets 512 octets, and allows
 * extensions to add to it (SIZE, the DSN parameters of RFC 3461 with an
 * ORCPT of up to 500 characters, AUTH=). 2048 covers them all.
 */
#define SMTP_LINE_MAX   2048
/* Text lines: 1000 octets with the CRLF (RFC 5321 4.5.3.1.6). */
#define SMTP_TEXT_MAX   1000
/* Stop reading while this much output is waiting: a client that
 * pipelines without reading replies cannot make us buffer without end. */
#define SMTP_OUT_HIGH   (256 * 1024)
/* Input held unread while a message commits or a check runs: past this, reading pauses. */
#define SMTP_IN_HIGH    (256 * 1024)

enum smtp_state {
    SMTP_STATE_INIT,        /* greeted, no HELO/EHLO yet */
    SMTP_STATE_READY,       /* HELO/EHLO done, no transaction */
    SMTP_STATE_MAIL,        /* MAIL accepted, no recipient yet */
    SMTP_STATE_RCPT,        /* at least one recipient */
    SMTP_STATE_DATA,        /* reading DATA content */
    SMTP_STATE_BDAT,        /* reading the octets of a BDAT chunk */
    SMTP_STATE_COMMIT,      /* waiting for the queue: read nothing */
    SMTP_STATE_CLOSING,     /* flushing the last reply */
    SMTP_STATE_AUTH_INPUT,  /* AUTH: the next line is a SASL response */
    SMTP_STATE_AUTH_CHECK,  /* AUTH: checking the password; read nothing */
    SMTP_STATE_GREET,       /* before the greeting: greet_pause, DNSBL lookups */
    SMTP_STATE_REFUSED,     /* greeted with 554: only QUIT (RFC 5321 3.1) */
    SMTP_STATE_CHECK,       /* SPF/DKIM/DMARC or DKIM signing: read nothing */
};

/* SASL mechanisms (RFC 4954) */
enum smtp_auth_mech { SMTP_AUTH_NONE, SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN };

struct smtp_auth_job;
struct dnsbl_check;
struct msgauth_job;
struct event;
struct evbuffer_cb_entry;


/* The transaction: apart from the session (OpenSMTPD's smtp_tx). */
struct smtp_tx {
    struct envelope   *env;
    struct mail_params mp;
    struct data_reader dr;
    bool               reader_on;   /* dr initialised */
    bool               bdat;        /* BDAT used: DATA is out of sequence */
    size_t             bdat_octets; /* octets of all chunks so far */
    unsigned           nrcpt;       /* RCPT commands accepted */
    size_t             header_len;  /* of our Received: header (LF form) */
    struct buf         content;     /* Received: header, then the message */
};

struct smtp_session {
    struct smtp_ctx     *ctx;
    struct bufferevent  *bev;
    struct smtp_session *prev, *next;
    enum smtp_state      state;
    enum smtp_kind       kind;
    char                 ip[64];
    char                 helo[256];
    bool                 tls;           /* the connection is encrypted */
    char                 tls_info[160]; /* protocol and cipher, for Received: */
    char                 auth_user[ADDR_MAX + 1];  /* "" until AUTH succeeds */
    char                 local_user[64];   /* SMTP_KIND_LOCAL: the peer's login name */
    long                 local_uid;        /* and uid */
    enum smtp_auth_mech  auth_mech;     /* exchange under way */
    char                *auth_login;    /* LOGIN: the user name given */
    struct smtp_auth_job *auth_job;     /* password check under way */
    struct event        *auth_timer;    /* the delay before a 535 */
    bool                 esmtp;
    bool                 discarding;    /* throwing away an over-long line */
    bool                 bdat_discard;  /* chunk read after a BDAT refused */
    bool                 bdat_last;     /* the chunk being read ends the message */
    size_t               bdat_left;     /* octets of the chunk still to read */
    enum smtp_state      bdat_prev;     /* state to return to after a refused chunk */
    struct event        *greet_timer;   /* greet_pause under way */
    struct dnsbl_check  *dnsbl;         /* blocklist lookups under way */
    struct msgauth_job  *msgauth;       /* message checks or signing under way */
    unsigned             errors;
    unsigned             commands;
    unsigned             messages;
    struct smtp_tx      *tx;
    struct smtp_commit  *commit;        /* under way, or NULL */
    bool                 released;      /* ended; freed by free_ev */
    struct event        *free_ev;       /* deferred free; also the closing deadline */
    struct evbuffer_cb_entry *under_cb; /* closing: watching the socket's output */
    /*
     * Replies wait in out until the end of the loop turn (flush_ev, made
     * active, costs no system call), so that the replies of a pipelined
     * group leave in one write; on plain TCP with nothing queued in bev
     * they are written to the socket at once, which saves the two
     * epoll_ctl calls of arming and disarming bev's write event.
     */
    struct evbuffer     *out;
    struct event        *flush_ev;
    bool                 flush_pending; /* flush_ev is active */
    bool                 out_blocked;   /* reading stopped: too much output queued */
    char                 line[SMTP_LINE_MAX + 1];
};

/* A commit under way; outlives its session if the client goes away. */
struct smtp_commit {
    struct spool_commit  sc;
    struct smtp_ctx     *ctx;
    struct smtp_session *sess;          /* NULL once the session is gone */
};

/*
 * smtp_trusted - may this session send anywhere, as anyone it likes to
 * be known as? An authenticated user (sender policy aside), or a local
 * user of this machine on the sendmail socket.
 */
static inline bool
smtp_trusted(const struct smtp_session *s)
{
    return s->auth_user[0] || s->kind == SMTP_KIND_LOCAL;
}

void smtp_enter_state(struct smtp_session *s, enum smtp_state st);
void smtp_reply(struct smtp_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct evbuffer *smtp_out(struct smtp_session *s);
void smtp_flush(struct smtp_session *s);
void smtp_tx_reset(struct smtp_session *s);
void smtp_set_timeouts(struct smtp_session *s);
void smtp_session_close(struct smtp_session *s);
void smtp_session_process(struct smtp_session *s);

/* auth.c: SMTP AUTH (RFC 4954) */
bool smtp_auth_offered(const struct smtp_session *s);
void smtp_auth_command(struct smtp_session *s, const struct smtp_cmd *cmd);
void smtp_auth_response(struct smtp_session *s, const char *line, size_t len);
void smtp_auth_cleanup(struct smtp_session *s);

#endif
