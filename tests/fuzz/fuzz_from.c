/*
 * fuzz_from - the RFC5322.From domain that DMARC evaluates: the input as
 * a whole message (queue form) through from_extract(), and as one field
 * body through from_parse() and from_list() (an address list, as
 * sendmail -t reads To, Cc and Bcc), each in an allocation of exactly its
 * size.
 *
 * Checks, besides the sanitizers:
 *  - the status is a valid enum with a text; from_parse() never says
 *    FROM_NONE or FROM_SEVERAL_FIELDS;
 *  - on FROM_OK the domain is non-empty, NUL-terminated within its array,
 *    without '@', ASCII letters in lower case, labels of letters, digits,
 *    '-', '_' or UTF-8 (well-formed), non-empty, ASCII ones at most 63
 *    octets, no dot at either end; the address is NUL-terminated within
 *    its array, holds no CR or LF, and ends in "@" and the domain;
 *  - on FROM_NO_DOMAIN the domain is "" and the address has no CR or LF;
 *    on other errors both are "";
 *  - the address of FROM_OK, parsed again as a field body, gives FROM_OK
 *    and the same domain and address;
 *  - from_list() calls back with FROM_OK, FROM_NO_DOMAIN or FROM_TOO_LONG
 *    (the mailboxes of the first two as above; nothing is promised of
 *    the strings of a FROM_TOO_LONG one, so they are not read), and
 *    agrees with from_parse(): FROM_SYNTAX for the same bodies, FROM_TOO_LONG
 *    for bodies over FROM_FIELD_MAX; else no mailbox for FROM_NO_ADDRESS,
 *    one with the same status, domain and address for FROM_OK,
 *    FROM_NO_DOMAIN and FROM_TOO_LONG, more for FROM_SEVERAL_ADDRESSES;
 *  - a field body that is well folded (every LF followed by SP or TAB),
 *    made into a message "Subject: x\nFROM :<body>\nTo: y\n\nbody",
 *    gives from_extract() the same status, domain and address as
 *    from_parse().
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/from.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* utf8_ok - s[0..n) well-formed UTF-8 (RFC 3629) */
static bool
utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        unsigned long cp, min;

        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            k = 1, cp = c & 0x1f, min = 0x80;
        else if ((c & 0xf0) == 0xe0)
            k = 2, cp = c & 0x0f, min = 0x800;
        else if ((c & 0xf8) == 0xf0)
            k = 3, cp = c & 0x07, min = 0x10000;
        else
            return false;
        if (n - i <= k)
            return false;
        for (size_t m = 1; m <= k; m++) {
            if ((s[i + m] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + m] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += k + 1;
    }
    return true;
}

static void
check_domain(const char *d)
{
    size_t n = strnlen(d, FROM_DOMAIN_MAX), start = 0;

    CHECK(n > 0 && n < FROM_DOMAIN_MAX);
    CHECK(d[0] != '.' && d[n - 1] != '.');
    for (size_t i = 0; i <= n; i++) {
        if (i < n && d[i] != '.') {
            unsigned char c = (unsigned char)d[i];
            CHECK(c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
                  || c == '_');
            continue;
        }
        /* a label: [start, i) */
        bool ascii = true;
        CHECK(i > start);
        for (size_t k = start; k < i; k++)
            ascii = ascii && (unsigned char)d[k] < 0x80;
        if (ascii)
            CHECK(i - start <= 63);
        else
            CHECK(utf8_ok((const unsigned char *)d + start, i - start));
        start = i + 1;
    }
}

/* check - the invariants of one result */
static void
check(enum from_status st, const struct from_addr *a)
{
    size_t an = strnlen(a->address, sizeof(a->address));

    CHECK((unsigned)st <= FROM_TOO_LONG);
    CHECK(strcmp(from_status_text(st), "?") != 0);
    CHECK(an < sizeof(a->address));
    CHECK(strnlen(a->domain, sizeof(a->domain)) < sizeof(a->domain));
    CHECK(memchr(a->address, '\r', an) == NULL && memchr(a->address, '\n', an) == NULL);
    if (st == FROM_OK) {
        size_t dn = strlen(a->domain);

        check_domain(a->domain);
        CHECK(an > dn && a->address[an - dn - 1] == '@' && strcmp(a->address + an - dn, a->domain) == 0);
    } else if (st == FROM_NO_DOMAIN) {
        CHECK(a->domain[0] == '\0');
    } else {
        CHECK(a->domain[0] == '\0' && a->address[0] == '\0');
    }
}

/* What from_list() reported. */
struct list {
    size_t           n;
    enum from_status first_st;
    struct from_addr first;
};

static void
each(void *arg, enum from_status st, const struct from_addr *a)
{
    struct list *l = arg;

    CHECK(st == FROM_OK || st == FROM_NO_DOMAIN || st == FROM_TOO_LONG);
    if (st != FROM_TOO_LONG)
        check(st, a);
    if (l->n++ == 0) {
        l->first_st = st;
        if (st != FROM_TOO_LONG)
            l->first = *a;
    }
}

static bool
same(enum from_status s1, const struct from_addr *a, enum from_status s2, const struct from_addr *b)
{
    return s1 == s2 && strcmp(a->domain, b->domain) == 0 && strcmp(a->address, b->address) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char pre[] = "Subject: x\nFROM :", post[] = "\nTo: y\n\nbody";
    char *v = malloc(size ? size : 1);          /* exact size: ASan sees overreads */
    struct from_addr a, b;
    enum from_status st, st2;

    memcpy(v, data, size);

    /* the whole message */
    st = from_extract(v, size, &a);
    check(st, &a);

    /* one field body */
    st = from_parse(v, size, &a);
    check(st, &a);
    CHECK(st != FROM_NONE && st != FROM_SEVERAL_FIELDS);
    if (st == FROM_OK) {
        size_t an = strlen(a.address);
        char *again = malloc(an ? an : 1);

        memcpy(again, a.address, an);
        st2 = from_parse(again, an, &b);
        CHECK(same(st, &a, st2, &b));
        free(again);
    }

    /* the same body as an address list */
    struct list l = { 0 };
    enum from_status lst = from_list(v, size, each, &l);
    CHECK(lst == FROM_OK || lst == FROM_SYNTAX || lst == FROM_TOO_LONG);
    CHECK((lst == FROM_SYNTAX) == (st == FROM_SYNTAX));
    CHECK((lst == FROM_TOO_LONG) == (size > FROM_FIELD_MAX));
    if (lst == FROM_OK) {
        CHECK((l.n == 0) == (st == FROM_NO_ADDRESS));
        CHECK((l.n > 1) == (st == FROM_SEVERAL_ADDRESSES));
        if (l.n == 1) {
            CHECK(l.first_st == st);
            if (st != FROM_TOO_LONG)
                CHECK(same(st, &a, l.first_st, &l.first));
        }
    }

    /* the same body in a message */
    bool folded = true;
    for (size_t i = 0; i < size && folded; i++)
        if (data[i] == '\n')
            folded = i + 1 < size && (data[i + 1] == ' ' || data[i + 1] == '\t');
    if (folded) {
        size_t n = sizeof(pre) - 1 + size + sizeof(post) - 1;
        char *m = malloc(n);

        memcpy(m, pre, sizeof(pre) - 1);
        memcpy(m + sizeof(pre) - 1, data, size);
        memcpy(m + sizeof(pre) - 1 + size, post, sizeof(post) - 1);
        st2 = from_extract(m, n, &b);
        check(st2, &b);
        CHECK(same(st, &a, st2, &b));
        free(m);
    }
    free(v);
    return 0;
}
