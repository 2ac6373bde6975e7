/*
 * fuzz_data_reader - message content after DATA or BDAT, as the client
 * sends it, in pieces of any size.
 *
 * Input: byte 0 seeds the split, byte 1 chooses the reader's settings
 * (bit 0: RAW mode, else DOT; bits 1-2: max_line 1000/0/5/78; bits 3-4:
 * max_size 0/100/10/1000; bit 5: data_reader_finish() at the end), the
 * rest is the content. It is read twice: in one data_reader_feed() call,
 * and cut into pieces of 0-64 octets (sometimes 300) at positions drawn
 * from the seed.
 *
 * Checks what data_reader.h/.c promise:
 *  - a call never consumes more than it was given; RAW consumes it all;
 *    DOT consumes less only when the end of data was reached, and once
 *    done consumes nothing more;
 *  - out never holds a CR or a NUL, and is empty or ends in LF;
 *  - with no error, size is out's length plus one per line (CRLF on
 *    the wire), within max_size, each line within max_line;
 *  - the split does not matter (data_reader.c: "the errors never depend
 *    on how the input was split"): errors, done, size, the octets
 *    consumed and out are the same both ways.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/data_reader.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

struct result {
    struct buf out;
    unsigned   errors;
    bool       done;
    size_t     size, consumed;
};

/* read_all - feed in[0..n) in pieces (seed 0: in one call) */
static void
read_all(const char *in, size_t n, unsigned opts, unsigned seed, struct result *res)
{
    static const size_t max_lines[] = { 1000, 0, 5, 78 };
    static const size_t max_sizes[] = { 0, 100, 10, 1000 };
    enum data_mode mode = (opts & 1) ? DATA_MODE_RAW : DATA_MODE_DOT;
    struct data_reader r;
    size_t pos = 0;

    data_reader_init(&r, mode, max_lines[(opts >> 1) & 3], max_sizes[(opts >> 3) & 3]);
    buf_init(&res->out);
    res->consumed = 0;
    while (pos < n) {
        size_t piece = n - pos;

        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            piece = (seed >> 16) % ((seed & 0x100) ? 301 : 65);
            if (piece > n - pos)
                piece = n - pos;
        }
        size_t used = data_reader_feed(&r, in + pos, piece, &res->out);
        CHECK(used <= piece);
        if (mode == DATA_MODE_RAW)
            CHECK(used == piece);
        else if (used < piece)
            CHECK(r.done);
        res->consumed += used;
        pos += piece;
        if (r.done) {
            /* what follows the end is the next command's */
            CHECK(data_reader_feed(&r, in + res->consumed, n - res->consumed, &res->out) == 0);
            break;
        }
    }
    if (opts & 0x20)
        data_reader_finish(&r, &res->out);
    res->errors = r.errors;
    res->done = r.done;
    res->size = r.size;

    /* out: LF-terminated lines without CR or NUL */
    const char *o = res->out.data;
    size_t olen = res->out.len, lines = 0, start = 0;
    CHECK(olen == 0 || o[olen - 1] == '\n');
    CHECK(olen == 0 || (memchr(o, '\r', olen) == NULL && memchr(o, '\0', olen) == NULL));
    for (size_t i = 0; i < olen; i++)
        if (o[i] == '\n') {
            if (r.errors == 0 && r.max_line != 0)
                CHECK(i - start + 2 <= r.max_line);
            lines++;
            start = i + 1;
        }
    if (r.errors == 0) {
        CHECK(r.size == olen + lines);
        CHECK(r.max_size == 0 || r.size <= r.max_size);
    }
    data_reader_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct result whole, split;

    if (size < 2)
        return 0;
    unsigned seed = data[0] | 0x100u;       /* never 0: 0 means one call */
    unsigned opts = data[1];
    size_t n = size - 2;
    char *in = malloc(n ? n : 1);           /* exact size: ASan sees overreads */

    memcpy(in, data + 2, n);
    read_all(in, n, opts, 0, &whole);
    read_all(in, n, opts, seed, &split);
    CHECK(whole.errors == split.errors && whole.done == split.done);
    CHECK(whole.size == split.size && whole.consumed == split.consumed);
    CHECK(whole.out.len == split.out.len &&
          (whole.out.len == 0 || memcmp(whole.out.data, split.out.data, whole.out.len) == 0));
    buf_free(&whole.out);
    buf_free(&split.out);
    free(in);
    return 0;
}
