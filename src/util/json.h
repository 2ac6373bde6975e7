/*
 * json - a strict, bounded JSON writer and reader (RFC 8259), made for
 * the queue control socket (daemon/control.c and its client cli/queue.c).
 *
 * The writer quotes one string. JSON strings are Unicode, not bytes, so
 * the bytes are mapped this way: valid UTF-8 passes through; '"' and '\'
 * are escaped; \n, \t, \r, \b and \f get their short escapes; the other
 * control characters, DEL and the C1 controls (U+0080..U+009F, which some
 * terminals act on) become \u00XX; every byte that is not part of a valid
 * UTF-8 sequence becomes \u00XX too, that is, it is read as Latin-1.
 * The output is always valid JSON and pure ASCII except for valid UTF-8.
 *
 * The reader parses one JSON text into a tree. It is strict: RFC 8259
 * grammar only (no comments, no trailing commas, nothing after the value),
 * strings must be valid UTF-8 with no raw control characters and no lone
 * surrogate escapes, an object may not repeat a key, and numbers must be
 * integers that fit a long long, since the control protocol has no others.
 * It is bounded: nesting at most JSON_DEPTH_MAX deep, at most
 * JSON_OBJECT_MAX members per object; the caller caps the input length.
 * Pure: no I/O, no globals. It does not stream.
 */
#ifndef POSTINO_UTIL_JSON_H
#define POSTINO_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define JSON_DEPTH_MAX   16
#define JSON_OBJECT_MAX  64

enum json_type { JSON_NULL, JSON_BOOL, JSON_INT, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

/* One value. Everything it points to belongs to it; json_free releases all. */
struct json {
    enum json_type type;
    bool         boolean;       /* JSON_BOOL */
    long long    integer;       /* JSON_INT */
    char        *str;           /* JSON_STRING: UTF-8, NUL-terminated, may hold NULs */
    size_t       len;           /* JSON_STRING: octets in str; ARRAY, OBJECT: members */
    struct json *items;         /* ARRAY, OBJECT: len values, in input order */
    char       **keys;          /* OBJECT: len keys, no NUL inside */
};

/* json_put_string - append s[0..n) as a quoted JSON string (see above) */
void json_put_string(struct buf *b, const char *s, size_t n);
/* json_put_cstr - json_put_string for a C string; null for NULL */
void json_put_cstr(struct buf *b, const char *s);

/*
 * json_parse - parse the JSON text text[0..n). Returns the tree (free it
 * with json_free), or NULL with a reason and the offset in err.
 */
struct json *json_parse(const char *text, size_t n, char *err, size_t errlen);
/* json_free - release a tree from json_parse; harmless on NULL */
void json_free(struct json *j);

/* json_get - member key of object o; NULL when absent or o is no object */
const struct json *json_get(const struct json *o, const char *key);

/*
 * json_utf8_seq - length (1..4) of the valid UTF-8 sequence at s[0..n), with
 * its code point in *cp; 0 when s does not start one (overlong forms,
 * surrogates and code points past U+10FFFF are not valid).
 */
size_t json_utf8_seq(const unsigned char *s, size_t n, unsigned long *cp);

#endif
