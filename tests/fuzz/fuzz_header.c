/*
 * fuzz_header - a received message (queue form: LF line ends) through
 * the header functions the server runs on it: header_end(),
 * header_present() for the names the server asks about and for the
 * message's own first field name, and header_stats().
 *
 * Checks, besides the sanitizers:
 *  - header_end() is n or the offset of the first empty line (an LF at
 *    the start of a line);
 *  - a field name at the very start of the message is always found;
 *  - header_stats() counts octets within the header section, and no
 *    octets without a field.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* first_empty_line - the reference for header_end(), octet by octet */
static size_t
first_empty_line(const char *msg, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] == '\n'))
            return i;
    return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = { "Date", "Message-ID", "From", "Received", "X" };
    char *msg = malloc(size ? size : 1);        /* exact size: ASan sees overreads */
    char name[64];
    size_t end, k = 0;

    memcpy(msg, data, size);
    end = header_end(msg, size);
    CHECK(end == first_empty_line(msg, size));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        (void)header_present(msg, size, names[i]);

    /* "Name:" on the first line: header_present(Name) must say so */
    while (k < size && k < sizeof(name) - 1 && msg[k] > ' ' && msg[k] < 127 && msg[k] != ':')
        k++;
    if (k > 0 && k < size && msg[k] == ':') {
        memcpy(name, msg, k);
        name[k] = '\0';
        CHECK(header_present(msg, size, name));
    }

    size_t fields = 0, octets = 0;
    header_stats(msg, size, &fields, &octets);
    CHECK(octets <= end);
    CHECK(fields > 0 || octets == 0);
    free(msg);
    return 0;
}
