/*
 * fuzz_authres - Authentication-Results (RFC 8601): authres_strip() of a
 * received message (queue form) for an authserv-id, and authres_format()
 * and authres_quarantine() of fields made from fuzzed strings.
 *
 * Input: a flags octet, then the authserv-id up to the first LF, then
 * the message. The same octets after the flags, split at NUL, are the
 * strings of the field to format, in this order: authserv-id, spf result,
 * spf domain, then four per DKIM signature (result, d, s, b), then dmarc
 * result, policy, disposition, From domain, then the quarantine reason
 * and comment (missing ones NULL).
 *   flags bit 0  spf=;  bit 1  helo;  bit 2  DKIM checked;  bits 3-4  the
 *                number of DKIM signatures;  bit 5  dmarc=
 *
 * Checks, besides the sanitizers:
 *  - strip: the output is the message without some whole lines of its
 *    header section (its lines in order, fewer octets), and the body
 *    (from the empty line on) unchanged at its end; it is the same with
 *    nquarantine NULL, and with the id in capitals with a trailing dot
 *    (ids compare in any case, a trailing dot ignored); stripping the
 *    output again removes nothing and changes nothing: no field claiming
 *    the id, no quarantine field is left;
 *  - format: "Authentication-Results: " up to one final LF, no CR, NUL or
 *    DEL, every other LF followed by a TAB (one field, whatever the
 *    strings hold); a continuation line over AUTHRES_WIDTH columns is
 *    one word (folding is between words); put in front of a message it
 *    is removed by strip for its own id when that id can be written and
 *    read back (1 to 254 octets of printable ASCII, no '@', not ".");
 *  - quarantine: one line "X-Postino-Quarantine: " ... LF, with no other
 *    LF, CR or control octet, at most 200 octets of comment, which
 *    strip removes (counted in nquarantine).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/authres.h"
#include "mail/header.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* subsequence - are out's lines msg's lines in order, some left out? */
static bool
subsequence(const char *out, size_t on, const char *msg, size_t n)
{
    size_t i = 0, j = 0;

    while (i < on) {
        const char *nl = memchr(out + i, '\n', on - i);
        size_t len = nl ? (size_t)(nl - (out + i)) + 1 : on - i;
        bool found = false;

        while (j < n) {
            const char *nl2 = memchr(msg + j, '\n', n - j);
            size_t len2 = nl2 ? (size_t)(nl2 - (msg + j)) + 1 : n - j;

            j += len2;
            if (len2 == len && memcmp(msg + j - len2, out + i, len) == 0) {
                found = true;
                break;
            }
        }
        if (!found)
            return false;
        i += len;
    }
    return true;
}

/* strip - authres_strip() and its invariants; the output in *out */
static size_t
strip(const char *msg, size_t n, const char *id, struct buf *out, size_t *nq)
{
    struct buf again = BUF_INIT, other = BUF_INIT, plain = BUF_INIT;
    size_t removed, q2 = 99, body = header_end(msg, n);
    char *variant = malloc(strlen(id) + 2);

    *nq = 99;
    removed = authres_strip(msg, n, id, out, nq);
    CHECK(*nq != 99 && out->len <= n);
    CHECK(removed + *nq <= n);
    CHECK(out->len >= n - body && memcmp(out->data + out->len - (n - body), msg + body, n - body) == 0);
    CHECK(subsequence(out->data, out->len, msg, n));
    CHECK((removed == 0 && *nq == 0) == (out->len == n));

    /* nquarantine NULL: the same */
    CHECK(authres_strip(msg, n, id, &plain, NULL) == removed);
    CHECK(plain.len == out->len && memcmp(plain.data, out->data, out->len) == 0);

    /* the id in capitals, with a trailing dot (unless it has one) */
    size_t il = strlen(id);
    for (size_t i = 0; i < il; i++)
        variant[i] = id[i] >= 'a' && id[i] <= 'z' ? (char)(id[i] - 32) : id[i];
    variant[il] = '\0';
    if (il > 0 && id[il - 1] != '.')
        strcat(variant, ".");
    CHECK(authres_strip(msg, n, variant, &other, &q2) == removed && q2 == *nq);
    CHECK(other.len == out->len && memcmp(other.data, out->data, out->len) == 0);

    /* nothing more to remove */
    CHECK(authres_strip(out->data, out->len, id, &again, &q2) == 0 && q2 == 0);
    CHECK(again.len == out->len && memcmp(again.data, out->data, out->len) == 0);

    buf_free(&again);
    buf_free(&other);
    buf_free(&plain);
    free(variant);
    return removed;
}

/* one_word - is line[0..n) a single word: no SP outside quotes and parentheses? */
static bool
one_word(const char *line, size_t n)
{
    bool quoted = false;
    int depth = 0;

    for (size_t i = 0; i < n; i++) {
        char c = line[i];

        if (quoted) {
            if (c == '\\')
                i++;
            else if (c == '"')
                quoted = false;
        } else if (c == '"') {
            quoted = true;
        } else if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth--;
        } else if (c == ' ' && depth == 0) {
            return false;
        }
    }
    return true;
}

static void
check_format(const char *f, size_t n)
{
    static const char head[] = AUTHRES_FIELD ": ";

    CHECK(n > sizeof(head) && memcmp(f, head, sizeof(head) - 1) == 0 && f[n - 1] == '\n');
    for (size_t i = 0; i < n; i++) {
        CHECK(f[i] != '\r' && f[i] != '\0' && f[i] != 0x7f);
        if (f[i] == '\n' && i + 1 < n)
            CHECK(f[i + 1] == '\t');
    }
    /* continuation lines: at most AUTHRES_WIDTH columns (the TAB as one), or one word */
    const char *p = memchr(f, '\n', n);
    while (p != NULL && p + 1 < f + n) {
        const char *line = p + 2;           /* after LF TAB */
        const char *e = memchr(line, '\n', (size_t)(f + n - line));
        size_t len = (size_t)(e - line);
        const char *text = line;

        if (len > 0 && line[len - 1] == ';')
            len--;                          /* the method's separator, after the words */
        if (1 + len > AUTHRES_WIDTH)
            CHECK(one_word(text, len));
        p = e;
    }
}

/* id_readable - can strip read this id back from what format writes? */
static bool
id_readable(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > 254 || strcmp(id, ".") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] < 0x20 || id[i] > 0x7e || id[i] == '@')
            return false;
    return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a field that is nobody's: no readable id equals "other\x01" */
    static const char rest[] = "Subject: x\nAuthentication-Results: \"other\x01\"; none\n\nbody\n";
    char *strs[32], *id;
    size_t nstr = 0, nq;
    struct buf out = BUF_INIT, f = BUF_INIT, m = BUF_INIT, o2 = BUF_INIT;

    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    data++;
    size--;

    /* strip: the id, then the message */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t idlen = nl ? (size_t)(nl - data) : size;
    id = malloc(idlen + 1);
    memcpy(id, data, idlen);
    id[idlen] = '\0';                   /* a NUL inside ends it */
    size_t n = nl ? size - idlen - 1 : 0;
    char *msg = malloc(n ? n : 1);      /* exact size: ASan sees overreads */
    memcpy(msg, nl ? nl + 1 : data, n);
    strip(msg, n, id, &out, &nq);
    free(msg);

    /* format: the strings */
    for (size_t i = 0, s = 0; i <= size && nstr < 32; i++) {
        if (i < size && data[i] != 0)
            continue;
        strs[nstr] = malloc(i - s + 1);
        memcpy(strs[nstr], data + s, i - s);
        strs[nstr][i - s] = '\0';
        nstr++;
        s = i + 1;
    }
    size_t k = 0;
#define NEXT() (k < nstr ? strs[k++] : NULL)
    struct authres_spf spf;
    struct authres_dkim dkim[3];
    struct authres_dmarc dmarc;
    struct authres ar = { 0 };
    ar.authserv_id = NEXT();
    spf.result = NEXT();
    spf.domain = NEXT();
    spf.helo = flags & 2;
    ar.spf = (flags & 1) ? &spf : NULL;
    ar.dkim_checked = flags & 4;
    ar.ndkim = (flags >> 3) & 3;
    for (size_t i = 0; i < ar.ndkim; i++) {
        dkim[i].result = NEXT();
        dkim[i].d = NEXT();
        dkim[i].s = NEXT();
        dkim[i].b = NEXT();
    }
    ar.dkim = ar.ndkim ? dkim : NULL;
    dmarc.result = NEXT();
    dmarc.policy = NEXT();
    dmarc.disposition = NEXT();
    dmarc.from_domain = NEXT();
    ar.dmarc = (flags & 0x20) ? &dmarc : NULL;
    const char *reason = NEXT(), *comment = NEXT();
#undef NEXT

    buf_puts(&f, "X: y\n");             /* appended to, not overwritten */
    authres_format(&ar, &f);
    check_format(f.data + 5, f.len - 5);
    if (ar.authserv_id && id_readable(ar.authserv_id)) {
        buf_append(&m, f.data + 5, f.len - 5);
        buf_puts(&m, rest);
        CHECK(strip(m.data, m.len, ar.authserv_id, &o2, &nq) == 1 && nq == 0);
        CHECK(o2.len == strlen(rest) && memcmp(o2.data, rest, o2.len) == 0);
    }

    /* the quarantine mark */
    buf_reset(&f);
    authres_quarantine(reason, comment, &f);
    {
        static const char head[] = AUTHRES_QUARANTINE_FIELD ": ";
        const char *open;

        CHECK(f.len > sizeof(head) && memcmp(f.data, head, sizeof(head) - 1) == 0);
        CHECK(f.data[f.len - 1] == '\n');
        for (size_t i = 0; i + 1 < f.len; i++)
            CHECK((unsigned char)f.data[i] >= 0x20 && f.data[i] != 0x7f);
        if ((open = memchr(f.data, '(', f.len)) != NULL)
            CHECK(f.len - (size_t)(open - f.data) - 3 <= 200);   /* "(" ... ")\n" */
        buf_reset(&m);
        buf_reset(&o2);
        buf_append(&m, f.data, f.len);
        buf_puts(&m, rest);
        CHECK(strip(m.data, m.len, "mx.example.org", &o2, &nq) == 0 && nq == 1);
        CHECK(o2.len == strlen(rest) && memcmp(o2.data, rest, o2.len) == 0);
    }

    for (size_t i = 0; i < nstr; i++)
        free(strs[i]);
    free(id);
    buf_free(&out);
    buf_free(&f);
    buf_free(&m);
    buf_free(&o2);
    return 0;
}
