/*
 * base64 - strict RFC 4648 base64, for SASL (SMTP AUTH, POP3) and DKIM.
 */
#ifndef POSTINO_UTIL_BASE64_H
#define POSTINO_UTIL_BASE64_H

#include <stddef.h>

/* base64_value - the 6-bit value of c in the RFC 4648 alphabet, -1 outside
 * it (also for lenient decoders: MIME bodies, RFC 2047 words) */
int base64_value(unsigned char c);
/*
 * base64_decode - strict RFC 4648 base64 (padding required, no spaces)
 * of in[0..n) into out (capacity outcap). Returns the decoded length, or
 * -1 when the input is not base64 or does not fit.
 */
long base64_decode(const char *in, size_t n, unsigned char *out, size_t outcap);
/* base64_encode - encode in[0..n) into out (capacity >= 4*((n+2)/3)+1) */
void base64_encode(const unsigned char *in, size_t n, char *out);

#endif
