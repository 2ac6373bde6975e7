/*
 * fuzz_envelope - a queue file as found on disk (maybe damaged) through
 * envelope_parse(), as the spool does at start-up and before delivery.
 *
 * Checks, besides the sanitizers:
 *  - on success: body_off is within the file, just past the empty line
 *    that ends the head; there is at least one recipient and each
 *    mailbox holds an "@"; the id is QUEUE_ID_LEN hex digits;
 *  - the parser accepts only what the writer can write: envelope_format()
 *    (what the spool writes) of a parsed envelope parses again, to an
 *    envelope that formats to the same octets, with its body right after
 *    the head.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "queue/envelope.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);       /* exact size: ASan sees overreads */
    char err[128];
    size_t off = 0, off2 = 0;
    struct envelope *env, *again;
    struct buf out = BUF_INIT, out2 = BUF_INIT;

    memcpy(text, data, size);
    env = envelope_parse(text, size, &off, err, sizeof(err));
    free(text);
    if (env == NULL) {
        CHECK(strnlen(err, sizeof(err)) < sizeof(err));
        return 0;
    }
    CHECK(off >= 2 && off <= size && data[off - 1] == '\n' && data[off - 2] == '\n');
    CHECK(env->nrcpts >= 1 && strlen(env->id) == QUEUE_ID_LEN);
    for (size_t i = 0; i < QUEUE_ID_LEN; i++)
        CHECK(isxdigit((unsigned char)env->id[i]));
    for (size_t i = 0; i < env->nrcpts; i++)
        CHECK(strchr(env->rcpts[i].mailbox, '@') != NULL && env->rcpts[i].orig != NULL);

    /* write it back, read it again */
    envelope_format(env, &out);
    buf_puts(&out, "body");
    again = envelope_parse(out.data, out.len, &off2, err, sizeof(err));
    CHECK(again != NULL);
    CHECK(off2 == out.len - 4 && again->nrcpts == env->nrcpts);
    envelope_format(again, &out2);
    CHECK(out2.len == off2 && memcmp(out.data, out2.data, off2) == 0);

    envelope_free(again);
    envelope_free(env);
    buf_free(&out);
    buf_free(&out2);
    return 0;
}
