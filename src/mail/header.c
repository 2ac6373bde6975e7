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

/* field_name_len - length of the field name that starts line[0..n) and
 * is followed by optional WSP and a colon; 0 if the line is not a field */
static size_t
field_name_len(const char *line, size_t n)
{
    size_t k = 0;
    /* RFC 5322 3.6.8: ftext is printable US-ASCII except colon */
    while (k < n && line[k] >= 33 && line[k] <= 126 && line[k] != ':')
        k++;
    if (k == 0)
        return 0;
    size_t c = k;
    while (c < n && (line[c] == ' ' || line[c] == '\t'))
        c++;
    return c < n && line[c] == ':' ? k : 0;
}

void
header_stats(const char *msg, size_t n, size_t *fields, size_t *octets)
{
    size_t i = 0, nf = 0;

    while (i < n && msg[i] != '\n') {
        const char *line = msg + i;
        const char *e = memchr(line, '\n', n - i);
        size_t len = e ? (size_t)(e - line) : n - i;
        if (line[0] == ' ' || line[0] == '\t') {
            if (nf == 0)
                break;              /* a continuation of nothing */
        } else if (field_name_len(line, len)) {
            nf++;
        } else {
            break;
        }
        i += len + (e != NULL);
    }
    *fields = nf;
    *octets = i;
}
