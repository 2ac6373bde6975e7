/*
 * buf - one growable, binary-safe byte buffer.
 *
 * The data is always followed by a NUL (not counted in len), so text can
 * be handed to C string functions. Growth is overflow-checked and aborts
 * on allocation failure. A struct buf is embedded or allocated by the
 * caller; the handle never moves, only b->data does.
 */
#ifndef POSTINO_UTIL_BUF_H
#define POSTINO_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
    char   *data;   /* NUL-terminated; NULL until the first growth */
    size_t  len;    /* bytes used, excluding the NUL */
    size_t  cap;    /* bytes allocated */
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
/* buf_free - release the storage; the buf may be used again afterwards */
void buf_free(struct buf *b);
/* buf_reset - empty the buffer, keeping its storage */
void buf_reset(struct buf *b);
/* buf_reserve - make room for n more bytes (plus the NUL) */
void buf_reserve(struct buf *b, size_t n);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* buf_cstr - the contents as a C string ("" when empty) */
const char *buf_cstr(const struct buf *b);
/* buf_steal - hand the storage to the caller (free() it), leave b empty */
char *buf_steal(struct buf *b);

#endif
