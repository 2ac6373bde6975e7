/*
 * msgauth - message authentication for the SMTP server: the checks of
 * inbound mail (SPF, DKIM, DMARC; the Authentication-Results field and
 * the DMARC verdict) and the DKIM signing of outbound mail.
 *
 * It drives the pure modules (spf/, dkim/, dmarc/, mail/from, mail/authres)
 * with the asynchronous resolver (dns/) and the worker threads of wq:
 *
 *   check:  on the loop, the From domain, then at once
 *             - SPF of the MAIL FROM domain (postmaster@HELO for <>),
 *               rerun as each DNS answer comes (spf.h's restartable design);
 *             - DMARC policy discovery at the From domain, the same way;
 *             - on a worker, the DKIM hashes of the message
 *               (dkim_verify_new), then on the loop the key records
 *               (dns_txt) and the signature checks (cheap: public keys);
 *           then DMARC's evaluation, the Authentication-Results field
 *           (fields that claim to be ours removed first, RFC 8601 5) and
 *           the disposition: accept, quarantine (a header) or reject.
 *   sign:   on a worker, the keys of the From domain (<data_dir>/dkim/,
 *           read anew for each message, so new keys count at once) and
 *           one DKIM-Signature per key (RSA and/or Ed25519).
 *
 * The message buffer is moved into the job and given back in the
 * result, so a session that goes away while a worker reads the message
 * leaves nothing dangling: msgauth_cancel() stops the callback, and the
 * job frees itself when its worker is done. Every DNS answer of a check
 * is kept in the job (a check asks a few dozen names at most), and the
 * whole check has a deadline (MSGAUTH_DEADLINE): what has not answered
 * by then is a temporary error.
 */
#ifndef POSTINO_POLICY_MSGAUTH_H
#define POSTINO_POLICY_MSGAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "util/buf.h"

struct dns;
struct workq;
struct workq_item;
struct dmarc_psl;
struct msgauth_job;

#define MSGAUTH_DEADLINE 20     /* seconds for a check's DNS (RFC 7208 4.6.4: at least 20) */

/* Shared by every job; owned by the daemon. */
struct msgauth_ctx {
    struct event_base *base;
    struct dns        *dns;
    struct workq      *wq;      /* runs msgauth_work_run */
    struct dmarc_psl  *psl;
};

/* What a job gives back (valid during the callback only, but msg may be
 * moved out of it: set it to BUF_INIT then). */
struct msgauth_result {
    struct buf  msg;            /* the message: prefix, our new fields, the rest */
    bool        reject;         /* DMARC p=reject and dmarc_enforce: refuse it */
    char        reply[256];     /* for a reject: "5.7.1 ..." */
    char        summary[512];   /* for the log: "spf=pass dkim=pass dmarc=pass ..." */
};

typedef void (*msgauth_cb)(void *arg, struct msgauth_result *r);

/* The identities of an inbound message. */
struct msgauth_check_in {
    const char *ip;             /* the client's address */
    const char *helo;           /* its HELO/EHLO name */
    const char *mail_from;      /* the envelope sender; "" for <> */
    const char *hostname;       /* ours: the authserv-id, SPF's %{r} */
    bool        dmarc_enforce;  /* p=reject rejects (else the message is quarantined) */
};

/*
 * msgauth_check - check msg, whose first skip octets (our Received:
 * field) are ours and pass through untouched. msg is moved into the job
 * (*msg is left empty). cb runs once on the loop thread, unless
 * msgauth_cancel() comes first.
 */
struct msgauth_job *msgauth_check(struct msgauth_ctx *ctx, const struct msgauth_check_in *in,
                                  struct buf *msg, size_t skip, msgauth_cb cb, void *arg);

/*
 * msgauth_sign - sign msg (after its first skip octets) with the keys of
 * its From domain, when that domain is one of domains (NULL-terminated)
 * and has keys under <data_dir>/dkim/; otherwise the message comes back
 * as it was. The signatures are put right after the first skip octets.
 */
struct msgauth_job *msgauth_sign(struct msgauth_ctx *ctx, const char *data_dir,
                                 char *const *domains, struct buf *msg, size_t skip,
                                 msgauth_cb cb, void *arg);

/* msgauth_cancel - the callback will not run; NULL is fine */
void msgauth_cancel(struct msgauth_job *j);

/* msgauth_work_run - the workq run function of ctx->wq */
void msgauth_work_run(struct workq_item **items, size_t n, void *arg);

#endif
