/*
 * fuzz_reply - what a remote SMTP server sends to our client: the input
 * is cut into lines at LF (a CR before it stays on the line, as the
 * parser allows) and fed to reply_feed_line(), as the relay client does.
 * Each complete reply goes through reply_oneline() (at several output
 * sizes) and ehlo_parse(); a line that is not SMTP resets the reply.
 *
 * Checks, besides the sanitizers:
 *  - a complete reply has a code of 200..599, 1..REPLY_MAX_LINES lines,
 *    and an enhanced code that starts with the code's class;
 *  - reply_oneline() writes a NUL-terminated line that fits in outlen,
 *    starts with the code and holds only printable ASCII.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay/reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* check_reply - a complete reply */
static void
check_reply(const struct smtp_reply *r)
{
    static const size_t outlens[] = { 1, 4, 5, 16, 80, 512 };
    struct ehlo_caps caps;

    CHECK(r->done && r->code >= 200 && r->code <= 599);
    CHECK(reply_class(r) >= 2 && reply_class(r) <= 5);
    CHECK(r->nlines >= 1 && r->nlines <= REPLY_MAX_LINES);
    CHECK(r->enhanced[0] == '\0' || r->enhanced[0] == '0' + reply_class(r));
    for (size_t i = 0; i < sizeof(outlens) / sizeof(outlens[0]); i++) {
        char out[512];
        size_t len;

        memset(out, 'X', sizeof(out));
        reply_oneline(r, out, outlens[i]);
        len = strnlen(out, outlens[i]);
        CHECK(len < outlens[i]);
        for (size_t k = 0; k < len; k++)
            CHECK(out[k] >= 0x20 && out[k] < 0x7f);
        CHECK(outlens[i] < 4 || (len >= 3 && out[0] == '0' + reply_class(r)));
    }
    ehlo_parse(r, &caps);
    CHECK(r->code == 250 || (!caps.pipelining && !caps.size && !caps.auth_plain));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smtp_reply r;
    size_t pos = 0;

    reply_init(&r);
    while (pos < size) {
        const uint8_t *nl = memchr(data + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - data) - pos : size - pos;
        char *line = malloc(len ? len : 1);     /* exact size: ASan sees overreads */

        memcpy(line, data + pos, len);
        int rc = reply_feed_line(&r, line, len);
        free(line);
        if (rc == 1)
            check_reply(&r);
        else if (rc < 0)
            reply_reset(&r);
        else
            CHECK(rc == 0 && !r.done && r.nlines > 0);
        pos += len + 1;
    }
    reply_free(&r);
    return 0;
}
