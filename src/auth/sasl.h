/*
 * sasl - the pure parts of SASL for SMTP AUTH (RFC 4954) and, later,
 * POP3 and IMAP: strict base64, and the PLAIN message (RFC 4616).
 */
#ifndef POSTINO_AUTH_SASL_H
#define POSTINO_AUTH_SASL_H

#include <stddef.h>

#define SASL_FIELD_MAX 1024

/*
 * base64_decode - strict RFC 4648 base64 (padding required, no spaces)
 * of in[0..n) into out (capacity outcap). Returns the decoded length, or
 * -1 when the input is not base64 or does not fit.
 */
long base64_decode(const char *in, size_t n, unsigned char *out, size_t outcap);
/* base64_encode - encode in[0..n) into out (capacity >= 4*((n+2)/3)+1) */
void base64_encode(const unsigned char *in, size_t n, char *out);

/*
 * sasl_plain_parse - split the decoded PLAIN message "authzid NUL authcid
 * NUL passwd" (RFC 4616 2). Each field is copied NUL-terminated into a
 * buffer of SASL_FIELD_MAX + 1. Returns 0, or -1 when malformed (a field
 * missing or too long, an empty authcid or password, a NUL inside one).
 */
int sasl_plain_parse(const unsigned char *msg, size_t n, char *authzid,
                     char *authcid, char *passwd);

#endif
