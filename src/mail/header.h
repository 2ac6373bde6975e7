/*
 * header - look at the header section of a message (RFC 5322 2.2) in
 * the queue's LF form. Pure functions over bytes.
 */
#ifndef POSTINO_MAIL_HEADER_H
#define POSTINO_MAIL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/*
 * header_end - offset of the empty line that ends the header section of
 * msg[0..n) (the body starts one past it), or n when there is none.
 */
size_t header_end(const char *msg, size_t n);

/*
 * header_present - is there a field called name (any case, no colon) in
 * the header section of msg[0..n)? Continuation lines are not fields.
 */
bool header_present(const char *msg, size_t n, const char *name);

#endif
