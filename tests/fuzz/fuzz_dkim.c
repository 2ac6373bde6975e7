/*
 * fuzz_dkim - a received message (queue form: LF line ends) through
 * dkim_verify_new(), then dkim_verify_answer() for each signature with
 * key records from the input; the key record parser (dkim_record_parse,
 * dkim_tags_parse) on each record; and dkim_sign() of the message, whose
 * signature must verify.
 *
 * Input: a flags octet, then answers separated by NUL, an empty one (two
 * NULs in a row) ending them; the message is the rest (all of it when
 * there is no empty answer). An answer is an optional first octet 0x01
 * NOKEY, 0x02 TEMPFAIL, 0x03 OK without records (else OK), then TXT
 * records separated by 0x1f. Signature i that still needs its key gets
 * answer i modulo their count (NOKEY when there are none).
 *   flags bits 0-1  now: 1764380000, 0, -1, INT64_MAX
 *         bit 2     sign with the RSA (1024-bit) key, else the Ed25519 one
 *
 * Checks, besides the sanitizers and LeakSanitizer:
 *  - dkim_verify_new() does not read the message afterwards (it is freed
 *    at once); count + skipped is the number of DKIM-Signature fields of
 *    the header section (counted here independently), count at most
 *    DKIM_VERIFY_MAX;
 *  - before answers: a signature with a query is temperror "key not looked
 *    up" and the query is "SELECTOR._domainkey.DOMAIN" of its result;
 *    one without is settled as permerror or temperror;
 *  - every result: NUL-terminated strings within their arrays; domain ""
 *    or a name in lower case, selector "" or a name; algorithm, b8 and
 *    reason printable ASCII; reason "" for a pass; l only with has_l;
 *    pass only when l= (if any) is the whole body, neutral only when it
 *    is shorter; TEMPFAIL gives temperror, NOKEY or no record permerror;
 *  - an answered signature has no query, and a second answer or one for
 *    an index out of range changes nothing;
 *  - dkim_record_parse: success only with a key of the algorithm asked,
 *    RSA of 1024..8192 bits; failure with a printable reason and no key;
 *    dkim_tags_parse: tags inside the text, names ALPHA *(ALPHA/DIGIT/_),
 *    no repeats, values trimmed, no ';' in them, each found by
 *    dkim_tag_find; an error is a printable sentence;
 *  - sign then verify: for a message that does not start with white space
 *    (it would continue the new field), at a time t= can say (0 <= now <
 *    10^12), dkim_sign() either fails (no From) or gives a field that,
 *    put in front of the message, verifies as signature 0 with the key's
 *    own record (dkim_key_txt): pass, reason "", no l=.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

#include "dkim/dkim.h"
#include "dkim/dkim_priv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define FIELD_SEP 0x1f

/* RFC 8463 A.1 (tests/unit/data/dkim/brisbane.pem) */
static const char ed_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
    "-----END PRIVATE KEY-----\n";
/* dkimpy's test key (tests/unit/data/dkim/dkimpy/test.private) */
static const char rsa_pem[] =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";

/* The keys and their records, made once (static: not leaks). */
static struct dkim_key *keys[2];
static char *key_txt[2];

static void
init_keys(void)
{
    char err[256];

    if (keys[0])
        return;
    keys[0] = dkim_key_from_pem(ed_pem, sizeof(ed_pem) - 1, err, sizeof(err));
    keys[1] = dkim_key_from_pem(rsa_pem, sizeof(rsa_pem) - 1, err, sizeof(err));
    CHECK(keys[0] && keys[1]);
    for (int k = 0; k < 2; k++)
        CHECK((key_txt[k] = dkim_key_txt(keys[k])) != NULL);
}

/* One answer of the input. */
struct answer {
    enum dkim_dns st;
    char        **txt;
    size_t        n;
};

static void
check_printable(const char *s, size_t size, bool space_ok)
{
    size_t n = strnlen(s, size);

    CHECK(n < size);
    for (size_t i = 0; i < n; i++)
        CHECK((s[i] > 0x20 || (space_ok && s[i] == 0x20)) && s[i] < 0x7f);
}

/* check_name - s is "" or a name (dkim_name_ok), without capitals if lower */
static void
check_name(const char *s, size_t size, bool lower)
{
    size_t n = strnlen(s, size);

    CHECK(n < size && n <= DKIM_NAME_MAX);
    if (n > 0)
        CHECK(dkim_name_ok(s, n));
    for (size_t i = 0; i < n; i++)
        CHECK(!lower || !(s[i] >= 'A' && s[i] <= 'Z'));
}

static void
check_result(const struct dkim_result *r)
{
    CHECK(r != NULL);
    CHECK((unsigned)r->status <= DKIM_PERMERROR);
    CHECK(strcmp(dkim_status_name(r->status), "") != 0);
    check_name(r->domain, sizeof(r->domain), true);
    check_name(r->selector, sizeof(r->selector), false);
    CHECK(strnlen(r->auid, sizeof(r->auid)) < sizeof(r->auid));
    check_printable(r->algorithm, sizeof(r->algorithm), false);
    check_printable(r->b8, sizeof(r->b8), false);
    check_printable(r->reason, sizeof(r->reason), true);
    CHECK(strlen(r->reason) <= DKIM_REASON_MAX);
    if (!r->has_l)
        CHECK(r->l == 0);
    if (r->status == DKIM_PASS)
        CHECK(r->reason[0] == '\0' && (!r->has_l || r->l == r->body_len) && r->key_bits > 0);
    if (r->status == DKIM_NEUTRAL)
        CHECK(r->has_l && r->l < r->body_len);
}

/* signature_fields - the DKIM-Signature fields of the header section, counted here */
static size_t
signature_fields(const char *m, size_t n)
{
    size_t i = 0, count = 0;

    while (i < n) {
        const char *nl = memchr(m + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - m) : n;

        if (end == i)
            break;                              /* the empty line */
        if (m[i] != ' ' && m[i] != '\t') {
            const char *colon = memchr(m + i, ':', end - i);
            if (colon) {
                size_t k = (size_t)(colon - (m + i));
                while (k > 0 && (m[i + k - 1] == ' ' || m[i + k - 1] == '\t'))
                    k--;
                if (k == 14 && strncasecmp(m + i, "DKIM-Signature", 14) == 0)
                    count++;
            }
        }
        i = nl ? end + 1 : n;
    }
    return count;
}

static bool
is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* check_tags - dkim_tags_parse of s[0..n) (not NUL-terminated) */
static void
check_tags(const char *s, size_t n)
{
    struct dkim_tag t[DKIM_TAGS_MAX];
    char err[64];
    size_t nt = 99;

    if (dkim_tags_parse(s, n, t, &nt, err, sizeof(err)) < 0) {
        check_printable(err, sizeof(err), true);
        CHECK(err[0] != '\0');
        return;
    }
    CHECK(nt <= DKIM_TAGS_MAX);
    for (size_t i = 0; i < nt; i++) {
        const struct dkim_tag *g = &t[i];

        CHECK(g->name >= s && g->nlen >= 1 && g->name + g->nlen <= s + n);
        CHECK((g->name[0] >= 'a' && g->name[0] <= 'z') || (g->name[0] >= 'A' && g->name[0] <= 'Z'));
        for (size_t k = 1; k < g->nlen; k++) {
            char c = g->name[k];
            CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '_');
        }
        CHECK(g->raw_start <= g->raw_end && g->raw_end <= n);
        CHECK(g->val >= s + g->raw_start && g->val + g->vlen <= s + g->raw_end);
        CHECK(g->raw_start > 0 && s[g->raw_start - 1] == '=');
        CHECK(g->raw_end == n || s[g->raw_end] == ';');
        if (g->vlen > 0)
            CHECK(!is_fws(g->val[0]) && !is_fws(g->val[g->vlen - 1]));
        CHECK(memchr(g->val, ';', g->vlen) == NULL);
        for (size_t k = 0; k < i; k++)
            CHECK(t[k].nlen != g->nlen || memcmp(t[k].name, g->name, g->nlen) != 0);
        char name[256];
        if (g->nlen < sizeof(name)) {
            memcpy(name, g->name, g->nlen);
            name[g->nlen] = '\0';
            CHECK(dkim_tag_find(t, nt, name) == g);
        }
    }
}

/* check_record - dkim_record_parse of txt for both algorithms */
static void
check_record(const char *txt)
{
    for (int a = DKIM_RSA_SHA256; a <= DKIM_ED25519_SHA256; a++) {
        struct dkim_pubkey pub;
        char reason[DKIM_REASON_MAX + 1];

        if (dkim_record_parse(txt, (enum dkim_alg)a, &pub, reason, sizeof(reason)) == 0) {
            CHECK(pub.pkey != NULL && pub.alg == (enum dkim_alg)a);
            if (a == DKIM_RSA_SHA256)
                CHECK(pub.bits >= DKIM_RSA_MIN_BITS && pub.bits <= 8192);
            EVP_PKEY_free(pub.pkey);
        } else {
            CHECK(pub.pkey == NULL);
            check_printable(reason, sizeof(reason), true);
            CHECK(reason[0] != '\0');
        }
    }
}

/* roundtrip - sign msg[0..n) with key k at now, verify the result */
static void
roundtrip(const char *msg, size_t n, int k, time_t now)
{
    char err[256];
    char *sig = dkim_sign(msg, n, keys[k], "example.org", "fz", now, err, sizeof(err));

    if (sig == NULL) {
        check_printable(err, sizeof(err), true);
        return;
    }
    size_t sl = strlen(sig);
    char *sm = malloc(sl + n);
    memcpy(sm, sig, sl);
    memcpy(sm + sl, msg, n);
    struct dkim_verify *v = dkim_verify_new(sm, sl + n, now);
    free(sm);
    CHECK(dkim_verify_count(v) >= 1);
    const char *q = dkim_verify_query(v, 0);
    CHECK(q != NULL && strcmp(q, "fz._domainkey.example.org") == 0);
    dkim_verify_answer(v, 0, DKIM_DNS_OK, &key_txt[k], 1);
    const struct dkim_result *r = dkim_verify_result(v, 0);
    check_result(r);
    CHECK(r->status == DKIM_PASS && r->reason[0] == '\0' && !r->has_l);
    CHECK(strcmp(r->domain, "example.org") == 0 && strcmp(r->selector, "fz") == 0);
    dkim_verify_free(v);
    free(sig);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long nows[] = { 1764380000LL, 0, -1, INT64_MAX };
    struct answer *ans = NULL;
    size_t nans = 0, body;
    time_t now;
    int k;

    if (size == 0)
        return 0;
    init_keys();
    now = (time_t)nows[data[0] & 3];
    k = (data[0] & 4) ? 1 : 0;

    /* the answers: NUL-separated, up to an empty one (at e) */
    size_t e = 0;
    for (size_t i = 1; i < size && e == 0; i++)
        if (data[i] == 0 && (i == 1 || data[i - 1] == 0))
            e = i;
    for (size_t off = 1; e > 1 && off < e - 1;) {
        const uint8_t *s = data + off;
        const uint8_t *z = memchr(s, 0, e - 1 - off);
        size_t len = z ? (size_t)(z - s) : e - 1 - off;
        struct answer *a;

        off += len + 1;
        ans = realloc(ans, (nans + 1) * sizeof(*ans));
        a = &ans[nans++];
        memset(a, 0, sizeof(*a));
        a->st = DKIM_DNS_OK;
        if (len > 0 && s[0] >= 0x01 && s[0] <= 0x03) {
            a->st = s[0] == 0x01 ? DKIM_DNS_NOKEY : s[0] == 0x02 ? DKIM_DNS_TEMPFAIL : DKIM_DNS_OK;
            if (s[0] == 0x03)
                continue;               /* OK, no records */
            s++;
            len--;
        }
        for (size_t i = 0, st = 0; i <= len; i++) {
            if (i < len && s[i] != FIELD_SEP)
                continue;
            a->txt = realloc(a->txt, (a->n + 1) * sizeof(*a->txt));
            a->txt[a->n] = malloc(i - st + 1);
            memcpy(a->txt[a->n], s + st, i - st);
            a->txt[a->n][i - st] = '\0';
            check_tags(a->txt[a->n], i - st);
            check_record(a->txt[a->n]);
            a->n++;
            st = i + 1;
        }
    }
    body = e ? e + 1 : 1;

    /* the message, in an allocation of its size */
    size_t n = size - body;
    char *msg = malloc(n ? n : 1);
    memcpy(msg, data + body, n);
    size_t nsig = signature_fields(msg, n);
    if (n == 0 || (msg[0] != ' ' && msg[0] != '\t')) {
        if ((long long)now >= 0 && (long long)now < 1000000000000LL)
            roundtrip(msg, n, k, now);
    }
    struct dkim_verify *v = dkim_verify_new(msg, n, now);
    free(msg);                  /* not needed afterwards */

    size_t count = dkim_verify_count(v);
    CHECK(count <= DKIM_VERIFY_MAX && count + dkim_verify_skipped(v) == nsig);
    CHECK(dkim_verify_skipped(v) == (nsig > DKIM_VERIFY_MAX ? nsig - DKIM_VERIFY_MAX : 0));
    CHECK(dkim_verify_query(v, count) == NULL && dkim_verify_result(v, count) == NULL);
    for (size_t i = 0; i < count; i++) {
        const struct dkim_result *r = dkim_verify_result(v, i);
        const char *q = dkim_verify_query(v, i);

        check_result(r);
        if (q != NULL) {
            char want[2 * DKIM_NAME_MAX + 16];

            CHECK(r->status == DKIM_TEMPERROR && strcmp(r->reason, "key not looked up") == 0);
            CHECK(r->domain[0] != '\0' && r->selector[0] != '\0');
            snprintf(want, sizeof(want), "%s._domainkey.%s", r->selector, r->domain);
            CHECK(strcmp(q, want) == 0 && strlen(q) <= DKIM_NAME_MAX);
        } else {
            CHECK(r->status == DKIM_PERMERROR || r->status == DKIM_TEMPERROR);
        }
    }

    /* the answers */
    for (size_t i = 0; i < count; i++) {
        struct dkim_result before;
        const struct dkim_result *r;
        const struct answer *a = nans ? &ans[i % nans] : NULL;
        enum dkim_dns st = a ? a->st : DKIM_DNS_NOKEY;
        bool asked = dkim_verify_query(v, i) != NULL;

        memcpy(&before, dkim_verify_result(v, i), sizeof(before));
        dkim_verify_answer(v, i, st, a ? a->txt : NULL, a ? a->n : 0);
        r = dkim_verify_result(v, i);
        check_result(r);
        CHECK(dkim_verify_query(v, i) == NULL);
        if (!asked) {
            CHECK(memcmp(&before, r, sizeof(before)) == 0);
        } else if (st == DKIM_DNS_TEMPFAIL) {
            CHECK(r->status == DKIM_TEMPERROR);
        } else if (st == DKIM_DNS_NOKEY || a == NULL || a->n == 0) {
            CHECK(r->status == DKIM_PERMERROR);
        }
        /* settled: another answer changes nothing */
        memcpy(&before, r, sizeof(before));
        dkim_verify_answer(v, i, DKIM_DNS_OK, &key_txt[0], 1);
        CHECK(memcmp(&before, dkim_verify_result(v, i), sizeof(before)) == 0);
    }
    dkim_verify_answer(v, count, DKIM_DNS_OK, &key_txt[0], 1);     /* out of range: ignored */
    dkim_verify_free(v);

    for (size_t i = 0; i < nans; i++) {
        for (size_t t = 0; t < ans[i].n; t++)
            free(ans[i].txt[t]);
        free(ans[i].txt);
    }
    free(ans);
    return 0;
}
