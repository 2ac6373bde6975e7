/*
 * sasl - the pure parts of SASL for SMTP AUTH (RFC 4954) and, later,
 * POP3 and IMAP: strict base64, and the PLAIN message (RFC 4616).
 */
#ifndef POSTINO_AUTH_SASL_H
#define POSTINO_AUTH_SASL_H

#include <stddef.h>

#include "util/base64.h"

#define SASL_FIELD_MAX 1024


/*
 * sasl_plain_parse - split the decoded PLAIN message "authzid NUL authcid
 * NUL passwd" (RFC 4616 2). Each field is copied NUL-terminated into a
 * buffer of SASL_FIELD_MAX + 1. Returns 0, or -1 when malformed (a field
 * missing or too long, an empty authcid or password, a NUL inside one).
 */
int sasl_plain_parse(const unsigned char *msg, size_t n, char *authzid,
                     char *authcid, char *passwd);

#endif
