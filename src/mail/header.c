/*
 * header - the header section of a message; see header.h.
 */
#include <string.h>
#include <strings.h>

#include "mail/header.h"

size_t
header_end(const char *msg, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (msg[i] == '\n')
            return i;               /* an empty line */
        const char *nl = memchr(msg + i, '\n', n - i);
        if (!nl)
            return n;
        i = (size_t)(nl - msg) + 1;
    }
    return n;
}

bool
header_present(const char *msg, size_t n, const char *name)
{
    size_t end = header_end(msg, n), nl = strlen(name), i = 0;

    while (i < end) {
        const char *line = msg + i;
        size_t left = end - i;
        if (left > nl && strncasecmp(line, name, nl) == 0) {
            /* RFC 5322 3.6: optional white space before the colon is obsolete
             * syntax (4.5.3) but seen in the wild. */
            size_t k = nl;
            while (k < left && (line[k] == ' ' || line[k] == '\t'))
                k++;
            if (k < left && line[k] == ':')
                return true;
        }
        const char *e = memchr(line, '\n', left);
        if (!e)
            break;
        i = (size_t)(e - msg) + 1;
    }
    return false;
}
