/*
 * mx - the order in which to try a domain's mail servers (RFC 5321 5.1),
 * from the MX records the resolver found. Pure: the randomness for equal
 * preferences comes from the caller.
 */
#ifndef POSTINO_RELAY_MX_H
#define POSTINO_RELAY_MX_H

#include <stddef.h>

#define MX_HOST_MAX 255

struct mx_record {
    unsigned pref;
    char     host[MX_HOST_MAX + 1];     /* lower case, no trailing dot ("" for ".") */
};

enum mx_status {
    MX_OK,          /* v[0..*n) is the list to try, in order */
    MX_NULL,        /* RFC 7505 null MX ("0 ."): the domain accepts no mail; permanent */
    MX_LOOP,        /* we are the best MX ourselves and not a local domain (5.4.6) */
    MX_UNUSABLE,    /* records present but none usable (e.g. IP-literal names); permanent */
};

/*
 * mx_order - order v[0..*n) in place: ascending preference, equal
 * preferences shuffled with rnd(arg) (RFC 5321 5.1), duplicates removed.
 * A null MX (a single record whose host is the root, "" or ".") gives
 * MX_NULL; beside other records the root is ignored. Hosts that
 * look like IP addresses are dropped (an MX names a host, RFC 5321 5.1).
 * When one of the hosts is self (this server's hostname, any case), every
 * record of that preference or worse is dropped (RFC 5321 5.1: "if it
 * appears as an MX, the SMTP client MUST NOT ... any at that preference
 * or higher"); if nothing is left, MX_LOOP. *n is updated (0 unless
 * MX_OK). No records (*n == 0) give MX_OK and an empty list: the caller
 * falls back to the domain itself (5.1). rnd may be NULL (no shuffle).
 */
enum mx_status mx_order(struct mx_record *v, size_t *n, const char *self,
                        unsigned (*rnd)(void *arg), void *arg);

#endif
