/*
 * fuzz_sasl - an AUTH response from a client: the input as base64 text
 * through base64_decode() (with the buffer sizes the SMTP and POP3
 * sessions use, and a tight one), and as a decoded PLAIN message (the
 * input itself, and what it decodes to) through sasl_plain_parse().
 *
 * Checks, besides the sanitizers:
 *  - the decoder is strict (RFC 4648 with padding and zero pad bits), so
 *    base64_encode() of what it decodes gives back the very input;
 *    decoding with one octet less room fails; encoding any input and
 *    decoding it gives the input back;
 *  - sasl_plain_parse() accepts a message only when it is exactly
 *    authzid NUL authcid NUL passwd, authcid and passwd non-empty, each
 *    at most SASL_FIELD_MAX octets without NUL: the fields joined again
 *    are the message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* check_plain - sasl_plain_parse() of msg[0..n) */
static void
check_plain(const unsigned char *msg, size_t n)
{
    char authzid[SASL_FIELD_MAX + 1], authcid[SASL_FIELD_MAX + 1], passwd[SASL_FIELD_MAX + 1];

    if (sasl_plain_parse(msg, n, authzid, authcid, passwd) != 0)
        return;
    size_t a = strlen(authzid), b = strlen(authcid), c = strlen(passwd);
    CHECK(b > 0 && c > 0 && a <= SASL_FIELD_MAX && b <= SASL_FIELD_MAX && c <= SASL_FIELD_MAX);
    CHECK(a + 1 + b + 1 + c == n);
    CHECK(memcmp(msg, authzid, a) == 0 && msg[a] == '\0');
    CHECK(memcmp(msg + a + 1, authcid, b) == 0 && msg[a + 1 + b] == '\0');
    CHECK(memcmp(msg + a + 2 + b, passwd, c) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the sessions' buffer for a PLAIN response (smtp/auth.c, pop3/session.c) */
    unsigned char plain[3 * SASL_FIELD_MAX + 8];
    char *text = malloc(size ? size : 1);       /* exact size: ASan sees overreads */
    unsigned char *raw = malloc(size ? size : 1);
    char *enc = malloc(4 * ((size + 2) / 3) + 1);
    long n;

    memcpy(text, data, size);
    memcpy(raw, data, size);
    check_plain(raw, size);

    n = base64_decode(text, size, plain, sizeof(plain));
    if (n >= 0) {
        CHECK((size_t)n <= sizeof(plain));
        base64_encode(plain, (size_t)n, enc);
        CHECK(strlen(enc) == size && memcmp(enc, text, size) == 0);
        check_plain(plain, (size_t)n);

        /* exactly enough room, then one octet too few */
        unsigned char *tight = malloc(n ? (size_t)n : 1);
        CHECK(base64_decode(text, size, tight, (size_t)n) == n);
        CHECK(memcmp(tight, plain, (size_t)n) == 0);
        if (n > 0)
            CHECK(base64_decode(text, size, tight, (size_t)n - 1) == -1);
        free(tight);
    }

    /* any octets survive an encode and decode */
    base64_encode(raw, size, enc);
    unsigned char *back = malloc(size ? size : 1);
    CHECK(base64_decode(enc, strlen(enc), back, size) == (long)size);
    CHECK(size == 0 || memcmp(back, raw, size) == 0);

    free(back);
    free(enc);
    free(raw);
    free(text);
    return 0;
}
