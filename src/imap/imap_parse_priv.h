/*
 * imap_parse_priv - helpers shared by the files of the IMAP parser:
 * imap_parse.c (framing, the value tree, sequence sets, flags), which
 * defines them, imap_fetch.c (FETCH, STORE, APPEND, dates) and
 * imap_mailbox.c (LIST, STATUS, mailbox names, modified UTF-7). Not for
 * use outside those three files: use imap_parse.h.
 */
#ifndef POSTINO_IMAP_IMAP_PARSE_PRIV_H
#define POSTINO_IMAP_IMAP_PARSE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/imap_parse.h"

/* ---- character classes (RFC 9051 9) ------------------------------------ */

/* imap_is_digit - ASCII digit, independent of the locale */
bool imap_is_digit(unsigned char c);

/* imap_upper - ASCII upper case */
char imap_upper(char c);

/* imap_is_astring_char - ASTRING-CHAR: ATOM-CHAR or "]" */
bool imap_is_astring_char(unsigned char c);

/* imap_all_of - every octet of s[0..n) is in class, and n > 0 */
bool imap_all_of(const char *s, size_t n, bool (*class)(unsigned char));

/* imap_utf8_len - the length of the valid UTF-8 sequence at s[0..n) (RFC
 * 3629 4: no overlongs, no surrogates, at most U+10FFFF), 0 if there is
 * none */
size_t imap_utf8_len(const unsigned char *s, size_t n);

/* imap_word_eq - s[0..n) is word, any case */
bool imap_word_eq(const char *s, size_t n, const char *word);

/* imap_nz_number - s[0..n) is digit-nz *DIGIT, 1..max */
bool imap_nz_number(const char *s, size_t n, uint64_t max, uint64_t *out);

/* ---- flags ------------------------------------------------------------- */

/* imap_flag_one - add the flag v to f: "\" system flag or keyword atom */
bool imap_flag_one(const struct imap_val *v, struct imap_flags *f, const char **why);

#endif
