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

/*
 * header_stats - the header fields at the start of msg[0..n): *fields
 * counts them (a continuation line belongs to its field), *octets is
 * their length. The section ends at the empty line, or at the first line
 * that is neither a field ("name:", RFC 5322 2.2) nor a continuation, so
 * that a message with no header at all has none.
 */
void header_stats(const char *msg, size_t n, size_t *fields, size_t *octets);

#endif
