/*
 * sasl - base64 and SASL PLAIN; see sasl.h.
 */
#include <string.h>

#include "auth/sasl.h"
#include "util/base64.h"

/* field - copy msg[start..end) into out; -1 when too long */
static int
field(const unsigned char *msg, size_t start, size_t end, char *out)
{
    if (end - start > SASL_FIELD_MAX)
        return -1;
    memcpy(out, msg + start, end - start);
    out[end - start] = '\0';
    return 0;
}

int
sasl_plain_parse(const unsigned char *msg, size_t n, char *authzid,
                 char *authcid, char *passwd)
{
    const unsigned char *z1 = memchr(msg, '\0', n);
    if (!z1)
        return -1;
    size_t a = (size_t)(z1 - msg);
    const unsigned char *z2 = memchr(z1 + 1, '\0', n - a - 1);
    if (!z2)
        return -1;
    size_t b = (size_t)(z2 - msg);
    /* No third NUL: the password runs to the end. */
    if (memchr(z2 + 1, '\0', n - b - 1))
        return -1;
    if (b == a + 1 || b + 1 == n)
        return -1;          /* empty authcid or password */
    if (field(msg, 0, a, authzid) < 0 || field(msg, a + 1, b, authcid) < 0
        || field(msg, b + 1, n, passwd) < 0)
        return -1;
    return 0;
}
