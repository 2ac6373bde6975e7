/*
 * resolve - from a recipient address to the local mailboxes it reaches.
 *
 * Decides, at RCPT time, whether an address of a local domain exists and
 * which Maildirs get the message: aliases first (as Postfix's virtual
 * aliases), then users, then the address without its "+tag", then the
 * domain's catch-all alias, then the trial setup's any-address rule.
 * Loops in the aliases are detected, not followed.
 */
#ifndef POSTINO_DELIVER_RESOLVE_H
#define POSTINO_DELIVER_RESOLVE_H

#include <stddef.h>

#include "auth/users.h"
#include "conf/config.h"
#include "deliver/aliases.h"
#include "mail/address.h"

struct resolve_ctx {
    const struct config *cfg;
    const struct users  *users;
    const struct aliases *aliases;
};

enum resolve_status {
    RESOLVE_OK,             /* out holds one or more mailboxes */
    RESOLVE_NOT_LOCAL,      /* the domain is not ours: relaying */
    RESOLVE_ROUTING,        /* "%", "!" or "@" in a local part: sender-specified routing */
    RESOLVE_UNKNOWN,        /* no such user: 550 5.1.1 */
    RESOLVE_LOOP,           /* alias loop: 550 5.4.6 */
    RESOLVE_REMOTE_TARGET,  /* an alias points off this server (not supported yet) */
};

/* A set of mailboxes, "local@domain" in lower case, without repeats. */
struct mailbox_set {
    char  **v;
    size_t  n;
};

void mailbox_set_free(struct mailbox_set *s);

/*
 * resolve_recipient - resolve mb. Mailboxes are added to out (which the
 * caller initialises to {0} and frees). Postmaster (RFC 5321 4.5.1) is
 * always accepted for a local domain: its alias if any, else its own
 * mailbox; "<Postmaster>" without a domain means the first local domain.
 */
enum resolve_status resolve_recipient(const struct resolve_ctx *ctx,
                                      const struct mailbox *mb,
                                      struct mailbox_set *out);

/*
 * mailbox_name_safe - may local (lower case, unquoted) name a folder
 * under mail/<domain>/? No "/", no control octets, no leading dot.
 */
bool mailbox_name_safe(const char *local);

#endif
