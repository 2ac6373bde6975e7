/*
 * test_dkim - unit tests for src/dkim/: canonicalisation (RFC 6376 3.4),
 * tag lists, base64, the header fields of a message, signing, verifying
 * (the RFC 8463 A.3 example, the dkimpy test data and dkimpy-signed
 * messages, tampering, malformed signatures and key records, l=), keys
 * and the key files.
 *
 * Messages are in the queue's LF form, passed as heap copies of exactly
 * their length so that AddressSanitizer sees a read past the end. The
 * DNS is a table (struct rec) answered in place of the resolver. Data
 * files are in tests/unit/data/dkim/ (see its README.md); golden
 * signatures there were also verified by dkimpy and opendkim
 * (tests/unit/data/dkim/crosscheck.py).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dkim/dkim.h"
#include "dkim/dkim_priv.h"
#include "util/buf.h"
#include "util/fsutil.h"

#define SHOW_STYLE { .esc = "\n\r\t" }
#include "check.h"

#define NOW 1764380000LL        /* 2025-11-29: after every t= in the data */

/* ---- helpers -------------------------------------------------------------- */

/* data_path - tests/unit/data/dkim/NAME, found from this file's path */
static const char *
data_path(const char *name)
{
    static char path[4096];
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__) : 1;

    snprintf(path, sizeof(path), "%.*s/data/dkim/%s", dir, slash ? __FILE__ : ".", name);
    return path;
}

/* load - a data file in an allocation of exactly its size; *n its length */
static char *
load(const char *name, size_t *n)
{
    char *text, *c;

    if (file_read(data_path(name), 1 << 20, &text, n) < 0)
        fail_msg("cannot read %s: %s", data_path(name), strerror(errno));
    c = copy(text, *n);
    free(text);
    return c;
}

/* load_text - a data file as a C string, final white space cut */
static char *
load_text(const char *name)
{
    size_t n;
    char *t, *s;

    t = load(name, &n);
    while (n > 0 && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
        n--;
    s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, t, n);
    s[n] = '\0';
    free(t);
    return s;
}

/* crlf_to_lf - the queue form of a CRLF message, in place; the new length */
static size_t
crlf_to_lf(char *m, size_t n)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        if (!(m[i] == '\r' && i + 1 < n && m[i + 1] == '\n'))
            m[o++] = m[i];
    return o;
}

/* join - a + b in an allocation of exactly their length */
static char *
join(const char *a, size_t an, const char *b, size_t bn, size_t *n)
{
    char *p = malloc(an + bn ? an + bn : 1);

    assert_non_null(p);
    memcpy(p, a, an);
    memcpy(p + an, b, bn);
    *n = an + bn;
    return p;
}

/* One name in the fake DNS: its records, or a failure. */
struct rec {
    const char   *name;
    enum dkim_dns st;
    const char   *txt[3];       /* NULL-terminated */
};

/* verify - dkim_verify_new, then answer each query from recs (absent: NOKEY) */
static struct dkim_verify *
verify(const char *msg, size_t n, long long now, const struct rec *recs, size_t nrecs)
{
    struct dkim_verify *v = dkim_verify_new(msg, n, (time_t)now);

    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *q = dkim_verify_query(v, i);
        const struct rec *r = NULL;
        size_t nt = 0;

        if (!q)
            continue;
        for (size_t k = 0; k < nrecs; k++)
            if (strcmp(recs[k].name, q) == 0)
                r = &recs[k];
        if (!r) {
            dkim_verify_answer(v, i, DKIM_DNS_NOKEY, NULL, 0);
            continue;
        }
        while (nt < 3 && r->txt[nt])
            nt++;
        dkim_verify_answer(v, i, r->st, (char *const *)r->txt, nt);
    }
    return v;
}

/* expect - result i of v has status st and a reason containing why */
static void
expect(const char *what, const struct dkim_verify *v, size_t i, enum dkim_status st,
       const char *why)
{
    const struct dkim_result *r = dkim_verify_result(v, i);

    if (!r) {
        report("%s: no result %zu (count %zu)", what, i, dkim_verify_count(v));
        return;
    }
    if (r->status != st || (why && !strstr(r->reason, why)))
        report("%s: signature %zu: got %s \"%s\", want %s \"%s\"", what, i,
               dkim_status_name(r->status), r->reason, dkim_status_name(st), why ? why : "");
}

/* ---- canonicalisation ------------------------------------------------------ */

static const struct {
    const char     *field;
    enum dkim_canon c;
    const char     *want;
} header_cases[] = {
    /* RFC 6376 3.4.5 */
    { "A: X",                    DKIM_RELAXED, "a:X" },
    { "B : Y\t\n\tZ  ",          DKIM_RELAXED, "b:Y Z" },
    { "A: X",                    DKIM_SIMPLE,  "A: X" },
    { "B : Y\t\n\tZ  ",          DKIM_SIMPLE,  "B : Y\t\r\n\tZ  " },
    /* name in lower case, none of the value's case touched */
    { "SUBJECT:Hello World",     DKIM_RELAXED, "subject:Hello World" },
    { "Message-ID: <A@B>",       DKIM_RELAXED, "message-id:<A@B>" },
    /* WSP runs inside, at the ends, around the colon */
    { "Subject:  a  \t b  ",     DKIM_RELAXED, "subject:a b" },
    { "Subject \t:\t x",         DKIM_RELAXED, "subject:x" },
    { "Subject:",                DKIM_RELAXED, "subject:" },
    { "Subject:   ",             DKIM_RELAXED, "subject:" },
    /* unfolding, continuation lines of white space only */
    { "X-Long: a\n\tb\n c",      DKIM_RELAXED, "x-long:a b c" },
    { "To:\n x@y",               DKIM_RELAXED, "to:x@y" },
    { "Subject: x\n \t",         DKIM_RELAXED, "subject:x" },
    { "Subject: \n \n\tx",       DKIM_RELAXED, "subject:x" },
    { "Subject: x\n \t",         DKIM_SIMPLE,  "Subject: x\r\n \t" },
    /* a CR is an ordinary octet: the queue has none */
    { "Subject: a\rb",           DKIM_RELAXED, "subject:a\rb" },
};

static void
test_canon_header(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(header_cases); i++) {
        struct buf out = BUF_INIT;
        size_t n = strlen(header_cases[i].field);
        char *f = copy(header_cases[i].field, n);

        dkim_header_canon(f, n, header_cases[i].c, &out);
        if (strcmp(buf_cstr(&out), header_cases[i].want) != 0)
            report("header %s \"%s\": got \"%s\", want \"%s\"",
                   header_cases[i].c == DKIM_SIMPLE ? "simple" : "relaxed", show(f, n),
                   showz(buf_cstr(&out)), showz(header_cases[i].want));
        buf_free(&out);
        free(f);
    }
    assert_int_equal(failures, 0);
}

static const struct {
    const char *body;
    size_t      len;
    const char *simple;
    const char *relaxed;
} body_cases[] = {
    /* RFC 6376 3.4.5 */
    { S(" C \nD \t E\n\n\n"),   " C \r\nD \t E\r\n",     " C\r\nD E\r\n" },
    /* empty bodies: one CRLF in simple (3.4.3), nothing in relaxed (3.4.4) */
    { S(""),                    "\r\n",                   "" },
    { S("\n"),                  "\r\n",                   "" },
    { S("\n\n\n"),              "\r\n",                   "" },
    /* trailing blank lines go, blank lines inside stay */
    { S("a\n"),                 "a\r\n",                  "a\r\n" },
    { S("a\n\n\n"),             "a\r\n",                  "a\r\n" },
    { S("a\n\nb\n"),            "a\r\n\r\nb\r\n",         "a\r\n\r\nb\r\n" },
    { S("a\n\nb\n\n"),          "a\r\n\r\nb\r\n",         "a\r\n\r\nb\r\n" },
    /* lines of white space: empty in relaxed only */
    { S(" \n\t\n"),             " \r\n\t\r\n",            "" },
    { S("a \n \n"),             "a \r\n \r\n",            "a\r\n" },
    { S("x\n \n\ny\n"),         "x\r\n \r\n\r\ny\r\n",    "x\r\n\r\n\r\ny\r\n" },
    /* WSP runs; leading white space kept as one SP */
    { S("a  \t b\t\n"),         "a  \t b\t\r\n",          "a b\r\n" },
    { S("\t lead\n"),           "\t lead\r\n",            " lead\r\n" },
    { S("  a  b  \n"),          "  a  b  \r\n",           " a b\r\n" },
    /* no final LF: a CRLF is added (3.4.3, 3.4.4) */
    { S("a"),                   "a\r\n",                  "a\r\n" },
    { S("a\nb"),                "a\r\nb\r\n",             "a\r\nb\r\n" },
    { S("a \n "),               "a \r\n \r\n",            "a\r\n" },
    { S("a\n\n "),              "a\r\n\r\n \r\n",         "a\r\n" },
    /* a CR is not white space */
    { S("a\r\n"),               "a\r\r\n",                "a\r\r\n" },
    /* NUL octets are octets */
    { S("a\0b\n"),              NULL,                     NULL },
};

static void
test_canon_body(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(body_cases); i++) {
        for (int c = 0; c < 2; c++) {
            const char *want = c == 0 ? body_cases[i].simple : body_cases[i].relaxed;
            size_t wlen = want ? strlen(want) : 5;
            struct buf out = BUF_INIT;
            struct dkim_sink *s = malloc(sizeof(*s));
            char *b = copy(body_cases[i].body, body_cases[i].len);

            assert_non_null(s);
            if (!want)
                want = "a\0b\r\n";
            dkim_sink_init(s, NULL, &out, ~0ULL);
            dkim_body_canon(b, body_cases[i].len, c == 0 ? DKIM_SIMPLE : DKIM_RELAXED, s);
            dkim_sink_flush(s);
            if (out.len != wlen || memcmp(out.data ? out.data : "", want, wlen) != 0
                || s->total != wlen)
                report("body %s \"%s\": got \"%s\" (total %llu), want \"%s\"",
                       c == 0 ? "simple" : "relaxed", show(b, body_cases[i].len),
                       show(out.data, out.len), s->total, show(want, wlen));
            buf_free(&out);
            free(s);
            free(b);
        }
    }
    assert_int_equal(failures, 0);
}

/* test_canon_limit - l=: only the first l octets pass, all are counted */
static void
test_canon_limit(void **state)
{
    static const struct {
        unsigned long long limit;
        const char        *want;
    } cases[] = {
        { 0, "" }, { 3, "abc" }, { 5, "abc\r\n" }, { 6, "abc\r\nd" }, { 99, "abc\r\nde\r\n" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct buf out = BUF_INIT;
        struct dkim_sink *s = malloc(sizeof(*s));

        assert_non_null(s);
        dkim_sink_init(s, NULL, &out, cases[i].limit);
        dkim_body_canon("abc\nde\n\n", 8, DKIM_SIMPLE, s);
        dkim_sink_flush(s);
        if (strcmp(buf_cstr(&out), cases[i].want) != 0 || s->total != 9)
            report("limit %llu: got \"%s\" (total %llu), want \"%s\" (total 9)", cases[i].limit,
                   showz(buf_cstr(&out)), s->total, showz(cases[i].want));
        buf_free(&out);
        free(s);
    }
    /* a body larger than the staging buffer */
    {
        size_t n = 3 * 4096 + 17;
        char *big = malloc(n);
        struct buf out = BUF_INIT;
        struct dkim_sink *s = malloc(sizeof(*s));

        assert_non_null(big);
        assert_non_null(s);
        for (size_t k = 0; k < n; k++)
            big[k] = (k % 100 == 99) ? '\n' : (k % 7 == 0 ? ' ' : 'x');
        dkim_sink_init(s, NULL, &out, 10000);
        dkim_body_canon(big, n, DKIM_SIMPLE, s);
        dkim_sink_flush(s);
        if (out.len != 10000 || s->total < 10000)
            report("big body: got %zu octets passed of %llu, want 10000", out.len, s->total);
        buf_free(&out);
        free(s);
        free(big);
    }
    assert_int_equal(failures, 0);
}

/* ---- header fields ----------------------------------------------------------- */

static void
test_fields(void **state)
{
    static const struct {
        const char *msg;
        size_t      len;
        size_t      nf;
        size_t      body;
        size_t      off[3], len_[3], nlen[3];
    } cases[] = {
        { S("A: 1\nB:2\n\tcont\nnot a field\n C\n\nbody\n"), 3, 31,
          { 0, 5, 15 }, { 4, 9, 14 }, { 1, 1, 0 } },
        { S("Subject : x\n\n"), 1, 13, { 0 }, { 11 }, { 7 } },
        { S("\n"), 0, 1, { 0 }, { 0 }, { 0 } },
        { S(""), 0, 0, { 0 }, { 0 }, { 0 } },
        { S(" lead\nA: 1\n\nb"), 1, 12, { 6 }, { 4 }, { 1 } },
        { S("A: 1\nB: 2"), 2, 9, { 0, 5 }, { 4, 4 }, { 1, 1 } },
        { S("A: 1\n \n\n"), 1, 8, { 0 }, { 6 }, { 1 } },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *m = copy(cases[i].msg, cases[i].len);
        struct dkim_field *f;
        size_t nf, body = dkim_fields(m, cases[i].len, &f, &nf);

        if (nf != cases[i].nf || body != cases[i].body) {
            report("fields \"%s\": got %zu fields, body at %zu; want %zu, %zu",
                   show(m, cases[i].len), nf, body, cases[i].nf, cases[i].body);
        } else {
            for (size_t k = 0; k < nf; k++)
                if (f[k].off != cases[i].off[k] || f[k].len != cases[i].len_[k]
                    || f[k].nlen != cases[i].nlen[k])
                    report("fields \"%s\" #%zu: got %zu+%zu name %zu, want %zu+%zu name %zu",
                           show(m, cases[i].len), k, f[k].off, f[k].len, f[k].nlen,
                           cases[i].off[k], cases[i].len_[k], cases[i].nlen[k]);
        }
        free(f);
        free(m);
    }
    assert_int_equal(failures, 0);
}

/* ---- tag lists and base64 ----------------------------------------------------- */

static void
test_tags(void **state)
{
    static const struct {
        const char *text;
        int         rc;
        size_t      nt;
        const char *name, *value;       /* one tag to check, or NULL */
    } cases[] = {
        { "v=1; a=rsa-sha256",              0, 2, "a", "rsa-sha256" },
        { "v=1; a=rsa-sha256;",             0, 2, "v", "1" },
        { "v=1; a=rsa-sha256; \n\t",        0, 2, NULL, NULL },
        { "v = 1 ;\n\ta =\n b c ;",         0, 2, "a", "b c" },
        { "",                               0, 0, NULL, NULL },
        { " \n\t",                          0, 0, NULL, NULL },
        { "b=",                             0, 1, "b", "" },
        { "b=  ;c=1",                       0, 2, "b", "" },
        { "x_y=1; Z9=2",                    0, 2, "Z9", "2" },
        { "n=a=b:c",                        0, 1, "n", "a=b:c" },
        { "n=caf\xc3\xa9",                  0, 1, "n", "caf\xc3\xa9" },
        /* errors */
        { "v=1;;a=2",                       -1, 0, NULL, NULL },
        { ";",                              -1, 0, NULL, NULL },
        { "v",                              -1, 0, NULL, NULL },
        { "v; a=1",                         -1, 0, NULL, NULL },
        { "1v=2",                           -1, 0, NULL, NULL },
        { "_v=2",                           -1, 0, NULL, NULL },
        { "v=1; v=2",                       -1, 0, NULL, NULL },
        { "v=1\x01",                        -1, 0, NULL, NULL },
        { "v=1\x7f",                        -1, 0, NULL, NULL },
        { "a b=1",                          -1, 0, NULL, NULL },
        { "a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9;j=10;k=11;l=12;m=13;n=14;o=15;p=16;"
          "q=17;r=18;s=19;t=20;u=21;v=22;w=23;x=24;y=25;z=26;A=27;B=28;C=29;D=30;E=31;F=32",
                                            0, 32, "F", "32" },
        { "a=1;b=2;c=3;d=4;e=5;f=6;g=7;h=8;i=9;j=10;k=11;l=12;m=13;n=14;o=15;p=16;"
          "q=17;r=18;s=19;t=20;u=21;v=22;w=23;x=24;y=25;z=26;A=27;B=28;C=29;D=30;E=31;F=32;G=33",
                                            -1, 0, NULL, NULL },
    };
    struct dkim_tag t[DKIM_TAGS_MAX];
    char err[64];
    size_t nt;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t n = strlen(cases[i].text);
        char *s = copy(cases[i].text, n);
        int rc = dkim_tags_parse(s, n, t, &nt, err, sizeof(err));

        if (rc != cases[i].rc || (rc == 0 && nt != cases[i].nt)) {
            report("tags \"%s\": got %d (%zu tags), want %d (%zu)", show(s, n), rc, nt,
                   cases[i].rc, cases[i].nt);
        } else if (rc == 0 && cases[i].name) {
            const struct dkim_tag *tg = dkim_tag_find(t, nt, cases[i].name);
            if (!tg || tg->vlen != strlen(cases[i].value)
                || memcmp(tg->val, cases[i].value, tg->vlen) != 0)
                report("tags \"%s\": %s= got \"%s\", want \"%s\"", show(s, n), cases[i].name,
                       tg ? show(tg->val, tg->vlen) : "(none)", showz(cases[i].value));
        }
        free(s);
    }
    /* the raw extent of a value, for deleting b= */
    {
        const char *s = "a=1; b= xy ;c=3";
        assert_int_equal(dkim_tags_parse(s, strlen(s), t, &nt, err, sizeof(err)), 0);
        const struct dkim_tag *b = dkim_tag_find(t, nt, "b");
        assert_non_null(b);
        if (b->raw_start != 7 || b->raw_end != 11)
            report("raw extent of b: got %zu..%zu, want 7..11", b->raw_start, b->raw_end);
        /* names are case-sensitive (3.2) */
        if (dkim_tag_find(t, nt, "B"))
            report("tag B found for b");
    }
    assert_int_equal(failures, 0);
}

static void
test_base64(void **state)
{
    static const struct {
        const char *in;
        long        want;
        const char *out;
    } cases[] = {
        { "Zm9v",              3, "foo" },
        { "Zm9vYg==",          4, "foob" },
        { "Zm9vYmE=",          5, "fooba" },
        { "Zm9v\n\tYmE =",     5, "fooba" },
        { " Z m 9 v ",         3, "foo" },
        { "",                  0, "" },
        { "Zm9",               -1, NULL },
        { "Zm=v",              -1, NULL },
        { "Zm9v=",             -1, NULL },
        { "Zg===",             -1, NULL },
        { "Zg==Zg==",          -1, NULL },
        { "Z!9v",              -1, NULL },
        { "Zm9v;",             -1, NULL },
        { "Zm9vZm9vZm9v",      -1, NULL },   /* 9 octets: over the capacity of 8 */
    };
    unsigned char out[8];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        long got = dkim_b64_decode(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        if (got != cases[i].want || (got > 0 && memcmp(out, cases[i].out, (size_t)got) != 0))
            report("base64 \"%s\": got %ld \"%s\", want %ld", showz(cases[i].in), got,
                   got > 0 ? show(out, (size_t)got) : "", cases[i].want);
    }
    char *e = dkim_b64_encode((const unsigned char *)"fooba", 5);
    if (strcmp(e, "Zm9vYmE=") != 0)
        report("encode: got %s", e);
    free(e);
    assert_int_equal(failures, 0);
}

static void
test_names(void **state)
{
    static const struct {
        const char *s;
        bool        ok;
    } cases[] = {
        { "example.org", true }, { "EXAMPLE.ORG", true }, { "a", true },
        { "s202611", true }, { "mail._sub", true }, { "xn--bcher-kva.example", true },
        { "", false }, { ".", false }, { "example.org.", false }, { ".example.org", false },
        { "a..b", false }, { "-a.b", false }, { "a-.b", false }, { "a b", false },
        { "a/b", false }, { "a\\b", false }, { "caf\xc3\xa9.fr", false }, { "a;b", false },
        { "012345678901234567890123456789012345678901234567890123456789012.x", true },
        { "0123456789012345678901234567890123456789012345678901234567890123.x", false },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++)
        if (dkim_domain_ok(cases[i].s) != cases[i].ok)
            report("name \"%s\": got %d, want %d", showz(cases[i].s), !cases[i].ok, cases[i].ok);
    /* 253 octets in all at most */
    char long_name[260];
    memset(long_name, 'a', sizeof(long_name));
    for (size_t k = 63; k < sizeof(long_name); k += 64)
        long_name[k] = '.';
    long_name[253] = '\0';
    if (!dkim_domain_ok(long_name))
        report("a name of 253 octets refused");
    long_name[253] = 'a';
    long_name[254] = '\0';
    if (dkim_domain_ok(long_name))
        report("a name of 254 octets accepted");
    if (dkim_domain_ok(NULL))
        report("NULL accepted");
    if (!dkim_list_has("sha1 : SHA256", 13, "sha256") || dkim_list_has("sha1:sha2567", 12, "sha256")
        || !dkim_list_has("*", 1, "*") || dkim_list_has("", 0, "email"))
        report("dkim_list_has");
    assert_int_equal(failures, 0);
}

/* ---- verification: the RFC 8463 example and dkimpy's data --------------------- */

#define RFC_ED_NAME  "brisbane._domainkey.football.example.com"
#define RFC_RSA_NAME "test._domainkey.football.example.com"
#define RFC_ED_TXT   "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
/* the p= of dkimpy/test.txt: RFC 8463 A.2's 1024-bit key */
#define TEST_P "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy" \
               "5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM" \
               "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

static void
test_rfc8463(void **state)
{
    size_t n;
    char *msg = load("dkimpy/rfc6376.signed.msg", &n);
    char *rsa_txt = load_text("dkimpy/test.txt");
    struct rec recs[] = {
        { RFC_ED_NAME, DKIM_DNS_OK, { RFC_ED_TXT, NULL } },
        { RFC_RSA_NAME, DKIM_DNS_OK, { rsa_txt, NULL } },
    };
    struct dkim_verify *v = dkim_verify_new(msg, n, (time_t)NOW);

    (void)state;
    failures = 0;
    /* step one: the names to look up */
    assert_int_equal(dkim_verify_count(v), 2);
    assert_int_equal(dkim_verify_skipped(v), 0);
    assert_string_equal(dkim_verify_query(v, 0), RFC_ED_NAME);
    assert_string_equal(dkim_verify_query(v, 1), RFC_RSA_NAME);
    expect("before the answer", v, 0, DKIM_TEMPERROR, "not looked up");
    dkim_verify_free(v);

    v = verify(msg, n, NOW, recs, NELEM(recs));
    expect("RFC 8463 A.3 ed25519", v, 0, DKIM_PASS, "");
    expect("RFC 8463 A.3 rsa", v, 1, DKIM_PASS, "");
    const struct dkim_result *r0 = dkim_verify_result(v, 0), *r1 = dkim_verify_result(v, 1);
    assert_string_equal(r0->domain, "football.example.com");
    assert_string_equal(r0->selector, "brisbane");
    assert_string_equal(r0->algorithm, "ed25519-sha256");
    assert_string_equal(r0->b8, "9/dsDChY");
    assert_string_equal(r0->auid, "@football.example.com");
    assert_int_equal(r0->key_bits, 256);
    assert_int_equal(r0->body_len, 55);
    assert_false(r0->has_l);
    assert_string_equal(r1->selector, "test");
    assert_string_equal(r1->algorithm, "rsa-sha256");
    assert_string_equal(r1->b8, "icKcLSEZ");
    assert_int_equal(r1->key_bits, 1024);
    assert_null(dkim_verify_query(v, 0));           /* settled */
    assert_null(dkim_verify_result(v, 2));
    dkim_verify_answer(v, 0, DKIM_DNS_TEMPFAIL, NULL, 0);   /* ignored: settled */
    expect("answered twice", v, 0, DKIM_PASS, "");
    dkim_verify_free(v);
    free(rsa_txt);
    free(msg);
    assert_int_equal(failures, 0);
}

/* test_key_records - the RSA signature of the RFC example against records */
static void
test_key_records(void **state)
{
    static const struct {
        const char      *file;      /* a dkimpy record file, or NULL */
        const char      *txt[3];    /* else these records */
        enum dkim_dns    st;
        enum dkim_status want;
        const char      *why;
    } cases[] = {
        { "dkimpy/test.txt",        { NULL }, DKIM_DNS_OK, DKIM_PASS, "" },
        { "dkimpy/test2.txt",       { NULL }, DKIM_DNS_OK, DKIM_PASS, "" },   /* no k= */
        { "dkimpy/test_bad.txt",    { NULL }, DKIM_DNS_OK, DKIM_PERMERROR, "p=" },
        { "dkimpy/badversion.txt",  { NULL }, DKIM_DNS_OK, DKIM_PERMERROR, "v=" },
        { "dkimpy/badk.txt",        { NULL }, DKIM_DNS_OK, DKIM_PERMERROR, "k=" },
        { "dkimpy/test_tlsrpt.txt", { NULL }, DKIM_DNS_OK, DKIM_PERMERROR, "s=" },
        /* DNS outcomes (6.1.2) */
        { NULL, { NULL }, DKIM_DNS_NOKEY, DKIM_PERMERROR, "no key" },
        { NULL, { NULL }, DKIM_DNS_OK, DKIM_PERMERROR, "no key" },      /* no records */
        { NULL, { NULL }, DKIM_DNS_TEMPFAIL, DKIM_TEMPERROR, "DNS" },
        /* records (3.6.1) */
        { NULL, { "v=DKIM1; k=rsa; p=" }, DKIM_DNS_OK, DKIM_PERMERROR, "revoked" },
        { NULL, { "v=DKIM1; k=rsa" }, DKIM_DNS_OK, DKIM_PERMERROR, "without p=" },
        { NULL, { "" }, DKIM_DNS_OK, DKIM_PERMERROR, "without p=" },
        { NULL, { "hello world" }, DKIM_DNS_OK, DKIM_PERMERROR, "syntax" },
        { NULL, { "v=DKIM1; h=sha1; p=" TEST_P }, DKIM_DNS_OK, DKIM_PERMERROR, "sha256" },
        { NULL, { "v=DKIM1; h=sha1:sha256; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; s=email; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; s=tlsrpt:*; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; s=tlsrpt:other; p=" TEST_P }, DKIM_DNS_OK, DKIM_PERMERROR, "s=" },
        { NULL, { "v=DKIM1; k=ed25519; p=" TEST_P }, DKIM_DNS_OK, DKIM_PERMERROR, "match" },
        { NULL, { "v=DKIM1; k=dsa; p=" TEST_P }, DKIM_DNS_OK, DKIM_PERMERROR, "k=" },
        { NULL, { "p=" TEST_P "; v=DKIM1" }, DKIM_DNS_OK, DKIM_PERMERROR, "v=" },   /* not first */
        { NULL, { "v=DKIM2; p=" TEST_P }, DKIM_DNS_OK, DKIM_PERMERROR, "v=" },
        { NULL, { "v=dkim1; p=" TEST_P }, DKIM_DNS_OK, DKIM_PERMERROR, "v=" },
        { NULL, { "v=DKIM1; t=y; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        /* t=s: i= is @football.example.com, d= itself */
        { NULL, { "v=DKIM1; t=s; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; n=notes with spaces; g=*; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        /* p= with white space inside, as TXT strings joined may have */
        { NULL, { "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5q"
                  " hdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6"
                  "lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB" },
          DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; p=!!!!" }, DKIM_DNS_OK, DKIM_PERMERROR, "base64" },
        /* an SPKI where a raw key belongs, and the wrong key */
        { NULL, { RFC_ED_TXT }, DKIM_DNS_OK, DKIM_PERMERROR, "match" },
        /* several records: the first that passes wins, else the first's result */
        { NULL, { "v=DKIM1; p=", "v=DKIM1; p=" TEST_P }, DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; p=" TEST_P, "junk" }, DKIM_DNS_OK, DKIM_PASS, "" },
        { NULL, { "v=DKIM1; h=md5; p=" TEST_P, "v=DKIM1; p=" }, DKIM_DNS_OK, DKIM_PERMERROR,
          "sha256" },
    };
    size_t n;
    char *msg = load("dkimpy/rfc6376.signed.msg", &n);

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *file = cases[i].file ? load_text(cases[i].file) : NULL;
        struct rec r = { RFC_RSA_NAME, cases[i].st, { NULL } };
        char what[96];

        if (file) {
            r.txt[0] = file;
        } else {
            for (int k = 0; k < 3; k++)
                r.txt[k] = cases[i].txt[k];
        }
        struct dkim_verify *v = verify(msg, n, NOW, &r, 1);
        snprintf(what, sizeof(what), "record case %zu (%s)", i,
                 file ? cases[i].file : cases[i].txt[0] ? cases[i].txt[0] : "-");
        expect(what, v, 1, cases[i].want, cases[i].why);
        if (i == 23 && !dkim_verify_result(v, 1)->testing)
            report("t=y: testing not reported");
        dkim_verify_free(v);
        free(file);
    }
    free(msg);
    assert_int_equal(failures, 0);
}

/* test_dkimpy_messages - other implementations' signatures */
static void
test_dkimpy_messages(void **state)
{
    char *test_txt = load_text("dkimpy/test.txt");
    char *gmail = load_text("gmail-20120113.txt");
    char *exim = load_text("dkimpy/eximtest.dns");
    size_t n, n2;
    char *m;
    struct dkim_verify *v;
    struct rec recs[] = {
        { "20120113._domainkey.gmail.com", DKIM_DNS_OK, { gmail, NULL } },
        { "sed._domainkey.test.ex", DKIM_DNS_OK, { exim, NULL } },
        { "test._domainkey.example.com", DKIM_DNS_OK, { test_txt, NULL } },
        { RFC_ED_NAME, DKIM_DNS_OK, { RFC_ED_TXT, NULL } },
        { "example._domainkey.canonical.com", DKIM_DNS_OK,
          { "k=rsa; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANmBe10IgY+u7h3enWTukkqtUD5PR52Tb/mPf"
            "jC0QJTocVBq6Za/PlzfV+Py92VaCak19F4WrbVTK5Gg5tW220MCAwEAAQ==", NULL } },
    };

    (void)state;
    failures = 0;
    /* Gmail, 2013: h= folded before ":", a space inside b= (Debian #711751) */
    m = load("dkimpy/test2.message", &n);
    v = verify(m, n, NOW, recs, NELEM(recs));
    expect("test2.message (gmail)", v, 0, DKIM_PASS, "");
    assert_int_equal(dkim_verify_result(v, 0)->key_bits, 2048);
    dkim_verify_free(v);
    free(m);
    /* Exim's Ed25519 signer, CRLF on disk */
    m = load("dkimpy/ed25519test2.msg", &n);
    n = crlf_to_lf(m, n);
    v = verify(m, n, NOW, recs, NELEM(recs));
    expect("ed25519test2.msg (exim)", v, 0, DKIM_PASS, "");
    dkim_verify_free(v);
    free(m);
    /* dkimpy 1.0 */
    static const char *const passing[] = {
        "dkimpy-rsa-relaxed-simple.msg", "dkimpy-ed25519-relaxed.msg", "dkimpy-rsa-l.msg",
    };
    for (size_t i = 0; i < NELEM(passing); i++) {
        m = load(passing[i], &n);
        v = verify(m, n, NOW, recs, NELEM(recs));
        expect(passing[i], v, 0, DKIM_PASS, "");
        dkim_verify_free(v);
        free(m);
    }
    /* l= that covers the whole body passes; text after it makes it neutral */
    m = load("dkimpy-rsa-l.msg", &n);
    v = verify(m, n, NOW, recs, NELEM(recs));
    const struct dkim_result *r = dkim_verify_result(v, 0);
    if (!r->has_l || r->l != 25 || r->body_len != 25)
        report("l=: got has_l %d l %llu body %llu, want l=25 of 25", r->has_l, r->l, r->body_len);
    dkim_verify_free(v);
    char *m2 = join(m, n, S("P.S. click here\n"), &n2);
    v = verify(m2, n2, NOW, recs, NELEM(recs));
    expect("l= and text appended", v, 0, DKIM_NEUTRAL, "longer than l=");
    r = dkim_verify_result(v, 0);
    if (!r->has_l || r->l != 25 || r->body_len != 42)
        report("l= appended: got l %llu body %llu, want 25 of 42", r->l, r->body_len);
    dkim_verify_free(v);
    free(m2);
    /* ... and a shortened body fails */
    m2 = join(m, n - 10, S("\n"), &n2);
    v = verify(m2, n2, NOW, recs, NELEM(recs));
    expect("l= and a shorter body", v, 0, DKIM_FAIL, "l=");
    dkim_verify_free(v);
    free(m2);
    free(m);
    /* a 512-bit key (dkimpy verifies it only with minkey=512) */
    m = load("dkimpy-rsa512.msg", &n);
    v = verify(m, n, NOW, recs, NELEM(recs));
    expect("512-bit key", v, 0, DKIM_PERMERROR, "under 1024");
    dkim_verify_free(v);
    free(m);
    free(test_txt);
    free(gmail);
    free(exim);
    assert_int_equal(failures, 0);
}

/* edit - msg with the first "from" replaced by "to" (must be there) */
static char *
edit(const char *msg, size_t n, const char *from, const char *to, size_t *out)
{
    const char *p = memmem(msg, n, from, strlen(from));
    struct buf b = BUF_INIT;
    char *c;

    assert_non_null(p);
    buf_append(&b, msg, (size_t)(p - msg));
    buf_puts(&b, to);
    buf_append(&b, p + strlen(from), n - (size_t)(p - msg) - strlen(from));
    c = copy(b.data, b.len);
    *out = b.len;
    buf_free(&b);
    return c;
}

static void
test_tamper(void **state)
{
    static const struct {
        const char      *file;
        const char      *from, *to;
        enum dkim_status want;
        const char      *why;
        bool             first;     /* the change touches the first signature only */
    } cases[] = {
        /* simple/simple (RFC 8463 A.3): every change counts */
        { "dkimpy/rfc6376.signed.msg", "Is dinner ready?", "Is dinner ready!", DKIM_FAIL,
          "signature mismatch", false },
        { "dkimpy/rfc6376.signed.msg", "We lost", "We won", DKIM_FAIL, "body hash mismatch", false },
        { "dkimpy/rfc6376.signed.msg", "Subject: Is", "subject: Is", DKIM_FAIL, "signature", false },
        { "dkimpy/rfc6376.signed.msg", "From: Joe", "From: Evil <e@example.net>\nFrom: Joe",
          DKIM_FAIL, "signature mismatch", false },     /* From is signed twice */
        { "dkimpy/rfc6376.signed.msg", "Date: Fri", "Date: Sat, 1 Jan 2000\nDate: Fri",
          DKIM_FAIL, "signature mismatch", false },     /* so are Subject and Date */
        { "dkimpy/rfc6376.signed.msg", "To: Suzie", "Cc: x@example.net\nTo: Suzie", DKIM_PASS,
          "", false },                                   /* Cc is not signed */
        { "dkimpy/rfc6376.signed.msg", "To: Suzie", "To: Other <o@example.net>\nTo: Suzie",
          DKIM_PASS, "", false }, /* a To added above: the lowest To is the one signed */
        { "dkimpy/rfc6376.signed.msg", "Joe.\n", "Joe.\n\n\n\n", DKIM_PASS, "", false },
        { "dkimpy/rfc6376.signed.msg", "Joe.\n", "Joe. \n", DKIM_FAIL, "body hash", false },
        { "dkimpy/rfc6376.signed.msg", "b=9/dsDChY0", "b=9/dsDChY1", DKIM_FAIL, "signature", true },
        { "dkimpy/rfc6376.signed.msg", "bh=4bLNXImK9drU", "bh=4bLNXImK9drV", DKIM_FAIL,
          "body hash", true },
        /* the signature field itself is signed: t= changed */
        { "dkimpy/rfc6376.signed.msg", "t=1518460054", "t=1518460055", DKIM_FAIL, "signature",
          true },
        /* relaxed/relaxed: case, white space and folding do not count */
        { "ours-rsa1024.sig+dkimpy/test.message", "Subject: Testing", "SUBJECT:   Testing  ",
          DKIM_PASS, "", false },
        { "ours-rsa1024.sig+dkimpy/test.message", "To: somebody@example.com",
          "To:\n\tsomebody@example.com", DKIM_PASS, "", false },
        { "ours-rsa1024.sig+dkimpy/test.message", "This is a test message.",
          "This  is\ta test message.  ", DKIM_PASS, "", false },
        { "ours-rsa1024.sig+dkimpy/test.message", "This is a test message.",
          "This is a test message", DKIM_FAIL, "body hash", false },
        { "ours-rsa1024.sig+dkimpy/test.message", "\nThis", "\n\n\nThis", DKIM_FAIL, "body", false },
        { "ours-rsa1024.sig+dkimpy/test.message", "Subject: Testing", "Subject: Testing!",
          DKIM_FAIL, "signature mismatch", false },
        { "ours-rsa1024.sig+dkimpy/test.message", "From: Test", "From: Evil <e@x>\nFrom: Test",
          DKIM_FAIL, "signature mismatch", false },
        /* unsigned fields may change and be added */
        { "ours-rsa1024.sig+dkimpy/test.message", "Received: from localhost",
          "Received: from elsewhere\nX-Spam: yes", DKIM_PASS, "", false },
        /* the fold of our own b= value is folding white space */
        { "ours-rsa1024.sig+dkimpy/test.message", "b=W6n4zc4LlC3p", "b=W6n4zc4L\n\t lC3p",
          DKIM_PASS, "", false },
    };
    char *txt = load_text("dkimpy/test.txt");
    struct rec recs[] = {
        { RFC_ED_NAME, DKIM_DNS_OK, { RFC_ED_TXT, NULL } },
        { RFC_RSA_NAME, DKIM_DNS_OK, { txt, NULL } },
        { "test._domainkey.example.com", DKIM_DNS_OK, { txt, NULL } },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t n, n2, n3;
        char *msg, *m;
        const char *plus = strchr(cases[i].file, '+');

        if (plus) {
            char first[64];
            snprintf(first, sizeof(first), "%.*s", (int)(plus - cases[i].file), cases[i].file);
            char *a = load(first, &n2);
            char *b = load(plus + 1, &n3);
            msg = join(a, n2, b, n3, &n);
            free(a);
            free(b);
        } else {
            msg = load(cases[i].file, &n);
        }
        m = edit(msg, n, cases[i].from, cases[i].to, &n2);
        struct dkim_verify *v = verify(m, n2, NOW, recs, NELEM(recs));
        char what[160];
        snprintf(what, sizeof(what), "%s: \"%s\" -> \"%s\"", cases[i].file, cases[i].from,
                 show(cases[i].to, strlen(cases[i].to)));
        for (size_t k = 0; k < dkim_verify_count(v); k++)
            expect(what, v, k, k > 0 && cases[i].first ? DKIM_PASS : cases[i].want,
                   k > 0 && cases[i].first ? "" : cases[i].why);
        /* and the message unchanged passes */
        struct dkim_verify *v0 = verify(msg, n, NOW, recs, NELEM(recs));
        for (size_t k = 0; k < dkim_verify_count(v0); k++)
            expect(cases[i].file, v0, k, DKIM_PASS, "");
        dkim_verify_free(v0);
        dkim_verify_free(v);
        free(m);
        free(msg);
    }
    free(txt);
    assert_int_equal(failures, 0);
}

/* ---- malformed signatures ----------------------------------------------------- */

#define BH32 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void
test_sig_syntax(void **state)
{
    static const struct {
        const char *sig;            /* the value after "DKIM-Signature:" */
        const char *why;            /* NULL: parses; the key is still to fetch */
    } cases[] = {
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", NULL },
        { "v=1;a=rsa-sha256;d=Example.COM;s=s;h=From:to;bh=" BH32 ";b=AAAA;", NULL },
        { " v=1; a=ed25519-sha256; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", NULL },
        { " a=rsa-sha256; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", "without v=" },
        { " v=1; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", "without a=" },
        { " v=1; a=rsa-sha256; s=s; h=from; bh=" BH32 "; b=AAAA", "without d=" },
        { " v=1; a=rsa-sha256; d=example.com; h=from; bh=" BH32 "; b=AAAA", "without s=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; bh=" BH32 "; b=AAAA", "without h=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; b=AAAA", "without bh=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=" BH32, "without b=" },
        { " v=2; a=rsa-sha256; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", "version" },
        { " v=1; a=rsa-sha1; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", "rsa-sha1" },
        { " v=1; a=hmac-md5; d=example.com; s=s; h=from; bh=" BH32 "; b=AAAA", "algorithm" },
        { " v=1; a=rsa-sha256; d=exa..mple; s=s; h=from; bh=" BH32 "; b=AAAA", "d=" },
        { " v=1; a=rsa-sha256; d=example.com.; s=s; h=from; bh=" BH32 "; b=AAAA", "d=" },
        { " v=1; a=rsa-sha256; d=example.com; s=a/b; h=from; bh=" BH32 "; b=AAAA", "s=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; c=fancy; h=from; bh=" BH32 "; b=AAAA",
          "canonicalisation" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; c=relaxed/fancy; h=from; bh=" BH32 "; b=AAAA",
          "canonicalisation" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; c=relaxed; h=from; bh=" BH32 "; b=AAAA", NULL },
        { " v=1; a=rsa-sha256; d=example.com; s=s; c=Simple/Relaxed; h=from; bh=" BH32 "; b=AAAA",
          NULL },
        { " v=1; a=rsa-sha256; d=example.com; s=s; q=http; h=from; bh=" BH32 "; b=AAAA", "q=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; q=dns/txt:x; h=from; bh=" BH32 "; b=AAAA",
          NULL },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=to:subject; bh=" BH32 "; b=AAAA", "From" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from::to; bh=" BH32 "; b=AAAA", "h=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from:; bh=" BH32 "; b=AAAA", "h=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=fr\xc3\xb6m:from; bh=" BH32 "; b=AAAA", "h=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=to\n\t: from ; bh=" BH32 "; b=AAAA", NULL },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; i=@other.com; bh=" BH32 "; b=AAAA",
          "within d=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; i=u@xexample.com; bh=" BH32 "; b=AAAA",
          "within d=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; i=u@example.com.evil; bh=" BH32
          "; b=AAAA", "within d=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; i=u@sub.EXAMPLE.com; bh=" BH32
          "; b=AAAA", NULL },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; i=nodomain; bh=" BH32 "; b=AAAA",
          "i=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; i=a b@example.com; bh=" BH32
          "; b=AAAA", "i=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; l=abc; bh=" BH32 "; b=AAAA", "l=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; l=-1; bh=" BH32 "; b=AAAA", "l=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; l=10; bh=" BH32 "; b=AAAA", NULL },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; x=1000; bh=" BH32 "; b=AAAA",
          "expired" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; x=1764379800; bh=" BH32 "; b=AAAA",
          NULL },               /* 200 s ago: within the leeway */
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; x=1764379600; bh=" BH32 "; b=AAAA",
          "expired" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; t=2000; x=1000; bh=" BH32 "; b=AAAA",
          "x= not after t=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; t=99999999999999; bh=" BH32
          "; b=AAAA", "t=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; t=1e9; bh=" BH32 "; b=AAAA", "t=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=AAAA; b=AAAA", "bh=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=" BH32 "; b=!!!!", "b=" },
        { " v=1; a=rsa-sha256; d=example.com; s=s; h=from; bh=" BH32 "; b=", "b=" },
        { " v=1; a", "syntax" },
        { " v=1; v=1", "syntax" },
        { "", "without v=" },
        { " v=1; a=rsa-sha256; d=" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaa;"
          " s=sssssssssssssssssssssssssssssssssssssssssssssssss; h=from; bh=" BH32 "; b=AAAA",
          "too long" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct buf b = BUF_INIT;
        size_t n;

        buf_printf(&b, "DKIM-Signature:%s\nFrom: a@example.com\nSubject: x\n\nbody\n",
                   cases[i].sig);
        char *m = copy(b.data, b.len);
        n = b.len;
        buf_free(&b);
        struct dkim_verify *v = dkim_verify_new(m, n, (time_t)NOW);
        const struct dkim_result *r = dkim_verify_result(v, 0);
        const char *q = dkim_verify_query(v, 0);

        if (dkim_verify_count(v) != 1) {
            report("sig \"%s\": %zu signatures", show(cases[i].sig, strlen(cases[i].sig)),
                   dkim_verify_count(v));
        } else if (!cases[i].why) {
            if (!q || strcmp(q, "s._domainkey.example.com") != 0 || r->status != DKIM_TEMPERROR)
                report("sig \"%s\": got query %s, %s \"%s\"; want a key to fetch",
                       show(cases[i].sig, strlen(cases[i].sig)), q ? q : "(none)",
                       dkim_status_name(r->status), r->reason);
            else if (strcmp(r->domain, "example.com") != 0 || strcmp(r->b8, "AAAA") != 0)
                report("sig \"%s\": d=%s b=%s", show(cases[i].sig, strlen(cases[i].sig)),
                       r->domain, r->b8);
        } else if (q || r->status != DKIM_PERMERROR || !strstr(r->reason, cases[i].why)) {
            report("sig \"%s\": got query %s, %s \"%s\"; want permerror \"%s\"",
                   show(cases[i].sig, strlen(cases[i].sig)), q ? q : "(none)",
                   dkim_status_name(r->status), r->reason, cases[i].why);
        }
        dkim_verify_free(v);
        free(m);
    }
    assert_int_equal(failures, 0);
}

/* test_limits - at most DKIM_VERIFY_MAX signatures; odd fields */
static void
test_limits(void **state)
{
    struct buf b = BUF_INIT;
    struct dkim_verify *v;
    char *m;

    (void)state;
    failures = 0;
    for (int i = 0; i < 11; i++)
        buf_printf(&b, "%s: v=1; a=rsa-sha256; d=d%d.example; s=s; h=from; bh=" BH32 "; b=AAAA\n",
                   i % 2 ? "dkim-signature" : "DKIM-Signature", i);
    buf_puts(&b, "DKIM-Signature\n");                     /* no colon: not a field */
    buf_puts(&b, "X-DKIM-Signature: v=1\n");
    buf_puts(&b, "From: a@example.com\n\nbody\n");
    m = copy(b.data, b.len);
    v = dkim_verify_new(m, b.len, (time_t)NOW);
    assert_int_equal(dkim_verify_count(v), DKIM_VERIFY_MAX);
    assert_int_equal(dkim_verify_skipped(v), 3);
    assert_string_equal(dkim_verify_query(v, 7), "s._domainkey.d7.example");
    assert_null(dkim_verify_query(v, 8));
    assert_null(dkim_verify_result(v, 8));
    dkim_verify_answer(v, 99, DKIM_DNS_NOKEY, NULL, 0);   /* out of range: ignored */
    dkim_verify_free(v);
    free(m);
    buf_free(&b);

    /* no signature, no header, nothing */
    static const char *const plain[] = { "From: a@example.com\n\nbody\n", "\n", "" };
    for (size_t i = 0; i < NELEM(plain); i++) {
        m = copy(plain[i], strlen(plain[i]));
        v = dkim_verify_new(m, strlen(plain[i]), (time_t)NOW);
        if (dkim_verify_count(v) != 0)
            report("\"%s\": %zu signatures", showz(plain[i]), dkim_verify_count(v));
        dkim_verify_free(v);
        free(m);
    }
    dkim_verify_free(NULL);

    /* h= with too many names */
    buf_puts(&b, "DKIM-Signature: v=1; a=rsa-sha256; d=example.com; s=s; bh=" BH32 "; b=AAAA; h=");
    for (int i = 0; i < DKIM_HNAMES_MAX + 1; i++)
        buf_puts(&b, "from:");
    buf_puts(&b, "from\nFrom: a@example.com\n\nbody\n");
    m = copy(b.data, b.len);
    v = dkim_verify_new(m, b.len, (time_t)NOW);
    expect("h= too long", v, 0, DKIM_PERMERROR, "h=");
    dkim_verify_free(v);
    free(m);
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* test_hostile - random and mutated messages: nothing crashes (ASan, UBSan) */
static void
test_hostile(void **state)
{
    static const char base[] =
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/simple; d=example.com; s=s;\n"
        "\th=from:to:from; l=5; i=@example.com; t=1; x=9999999999; q=dns/txt;\n"
        "\tbh=" BH32 "; b=AAAA\n"
        "From: a@example.com\nTo: b\n\nbody\n \n\n";
    static const char alphabet[] = "=;:\n\t @.aAzZ09/+-_\r\x80\xff";
    unsigned seed = 6376;
    size_t n = sizeof(base) - 1;
    char *txt[2] = { "v=DKIM1; p=" TEST_P, "v=DKIM1; k=ed25519; p=" BH32 };

    (void)state;
    for (int round = 0; round < 3000; round++) {
        char *m = copy(base, n);
        int edits = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;

        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245u + 12345u;
            m[at] = alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
        }
        size_t len = round % 7 == 0 ? (seed >> 4) % (n + 1) : n;
        struct dkim_verify *v = dkim_verify_new(m, len, (time_t)NOW);
        for (size_t i = 0; i < dkim_verify_count(v); i++)
            dkim_verify_answer(v, i, round % 3 == 0 ? DKIM_DNS_OK : (enum dkim_dns)(round % 3),
                               txt, 1 + (size_t)(round % 2));
        dkim_verify_free(v);
        free(m);
    }
}

/* ---- signing ---------------------------------------------------------------- */

/* sign_file - dkim_sign of data file msgfile with key file keyfile */
static char *
sign_file(const char *msgfile, const char *keyfile, const char *domain, const char *sel)
{
    char err[256], *sig;
    size_t n;
    char *msg = load(msgfile, &n);
    struct dkim_key *k = dkim_key_load(data_path(keyfile), err, sizeof(err));

    if (!k)
        fail_msg("%s: %s", keyfile, err);
    sig = dkim_sign(msg, n, k, domain, sel, (time_t)NOW, err, sizeof(err));
    if (!sig)
        fail_msg("dkim_sign %s: %s", msgfile, err);
    dkim_key_free(k);
    free(msg);
    return sig;
}

/* test_sign_golden - deterministic signatures, byte for byte */
static void
test_sign_golden(void **state)
{
    static const struct {
        const char *msg, *key, *domain, *sel, *golden;
    } cases[] = {
        { "dkimpy/test.message", "dkimpy/test.private", "example.com", "test", "ours-rsa1024.sig" },
        { "dkimpy/rfc6376.msg", "brisbane.pem", "football.example.com", "brisbane",
          "ours-ed25519.sig" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t n;
        char *sig = sign_file(cases[i].msg, cases[i].key, cases[i].domain, cases[i].sel);
        char *want = load(cases[i].golden, &n);

        if (strlen(sig) != n || memcmp(sig, want, n) != 0)
            report("%s: got\n%s\nwant\n%s", cases[i].golden, showz(sig), show(want, n));
        free(sig);
        free(want);
    }
    assert_int_equal(failures, 0);
}

/* h_of - the names of h= in sig (lower case, joined with ":", no white space) */
static void
h_of(const char *sig, char *out, size_t outlen)
{
    struct dkim_tag t[DKIM_TAGS_MAX];
    char err[64];
    size_t nt, o = 0;
    const char *colon = strchr(sig, ':');

    out[0] = '\0';
    if (!colon || dkim_tags_parse(colon + 1, strlen(colon + 1), t, &nt, err, sizeof(err)) < 0)
        return;
    const struct dkim_tag *h = dkim_tag_find(t, nt, "h");
    for (size_t i = 0; h && i < h->vlen && o + 1 < outlen; i++)
        if (!dkim_is_fws(h->val[i]))
            out[o++] = h->val[i];
    out[o] = '\0';
}

static void
test_sign_format(void **state)
{
    static const struct {
        const char *msg;
        const char *h;
    } cases[] = {
        { "From: a@example.org\nTo: b@example.org\nTo: c@example.org\nSubject: s\n"
          "X-Other: x\nList-Id: <l.example.org>\nList-Unsubscribe: <mailto:u@example.org>\n"
          "List-Unsubscribe-Post: List-Unsubscribe=One-Click\nReceived: r\n"
          "Date: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <m@example.org>\n"
          "MIME-Version: 1.0\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bit\n"
          "Reply-To: r@example.org\nCc: d@example.org\nIn-Reply-To: <p@x>\nReferences: <p@x>\n"
          "Sender: s@example.org\nAuthentication-Results: x; dkim=pass\nReturn-Path: <a@x>\n"
          "\nbody\n",
          "from:to:to:subject:list-id:list-unsubscribe:list-unsubscribe-post:date:message-id:"
          "mime-version:content-type:content-transfer-encoding:reply-to:cc:in-reply-to:"
          "references:sender:from" },
        { "FROM: a@example.org\n\n", "from:from" },
        { "X-A: 1\nfrom : a@example.org\nResent-From: r@x\nList: not list-*\n", "from:resent-from:from" },
        { "From: a@example.org\nFrom: b@example.org\n\nbody", "from:from:from" },
        /* a list-* name h= cannot carry is not signed (fuzz_dkim: ";" smuggled tags) */
        { "From: a@example.org\nList-x;l=0;y=: v\nList-Ok_1: v\n\nbody",
          "from:list-ok_1:from" },
    };
    char err[256];
    struct dkim_key *rsa = dkim_key_load(data_path("dkimpy/test.private"), err, sizeof(err));
    struct dkim_key *ed = dkim_key_load(data_path("brisbane.pem"), err, sizeof(err));
    char *rsa_txt = dkim_key_txt(rsa), *ed_txt = dkim_key_txt(ed);
    struct rec recs[] = {
        { "sel._domainkey.example.org", DKIM_DNS_OK, { rsa_txt, NULL } },
        { "a-much-longer-selector-name.and-a-long._domainkey.subdomain.example.org",
          DKIM_DNS_OK, { ed_txt, NULL } },
    };

    (void)state;
    failures = 0;
    assert_non_null(rsa);
    assert_non_null(ed);
    for (size_t i = 0; i < NELEM(cases); i++) {
        for (int kk = 0; kk < 2; kk++) {
            size_t n = strlen(cases[i].msg);
            char *m = copy(cases[i].msg, n), h[1024];
            const char *domain = kk ? "SubDomain.Example.ORG" : "example.org";
            const char *sel = kk ? "a-much-longer-selector-name.and-a-long" : "sel";
            char *sig = dkim_sign(m, n, kk ? ed : rsa, domain, sel, (time_t)NOW, err, sizeof(err));

            if (!sig) {
                report("sign case %zu: %s", i, err);
                free(m);
                continue;
            }
            h_of(sig, h, sizeof(h));
            if (strcmp(h, cases[i].h) != 0)
                report("case %zu h=: got %s, want %s", i, h, cases[i].h);
            if (strncmp(sig, "DKIM-Signature: v=1; a=", 23) != 0 || strstr(sig, "l=")
                || !strstr(sig, "c=relaxed/relaxed;") || !strstr(sig, "t=1764380000;")
                || !strstr(sig, kk ? "d=subdomain.example.org;" : "d=example.org;"))
                report("case %zu: tags: %s", i, showz(sig));
            /* lines of at most 78 columns (a tab as 8), continued with a tab */
            size_t col = 0, lines = 0;
            for (const char *p = sig; *p; p++) {
                if (*p == '\n') {
                    lines++;
                    if (p[1] != '\0' && p[1] != '\t')
                        report("case %zu: continuation without a tab: %s", i, showz(sig));
                    col = 0;
                    continue;
                }
                col += *p == '\t' ? 8 : 1;
                if (col > 78)
                    report("case %zu: a line over 78 columns: %s", i, showz(sig));
            }
            size_t len = strlen(sig);
            if (len < 2 || sig[len - 1] != '\n' || sig[len - 2] == '\n' || lines < 2)
                report("case %zu: field end: %s", i, showz(sig));
            /* and it verifies, prepended */
            size_t n2;
            char *signed_ = join(sig, len, m, n, &n2);
            struct dkim_verify *v = verify(signed_, n2, NOW, recs, NELEM(recs));
            expect("signed", v, 0, DKIM_PASS, "");
            dkim_verify_free(v);
            free(signed_);
            free(sig);
            free(m);
        }
    }
    dkim_key_free(rsa);
    dkim_key_free(ed);
    free(rsa_txt);
    free(ed_txt);
    assert_int_equal(failures, 0);
}

static void
test_sign_errors(void **state)
{
    static const struct {
        const char *msg, *domain, *sel, *why;
    } cases[] = {
        { "To: b@example.org\n\nbody\n", "example.org", "s", "From" },
        { "", "example.org", "s", "From" },
        { "X-From: a\nFromage: b\n\n", "example.org", "s", "From" },
        { "From: a@example.org\n\n", "exa mple.org", "s", "domain" },
        { "From: a@example.org\n\n", "example.org", "", "selector" },
        { "From: a@example.org\n\n", "example.org.", "s", "domain" },
        { "From: a@example.org\n\n", "example.org", "a;b", "selector" },
        { "From: a@example.org\n\n", "example.org",
          "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss."
          "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss."
          "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss."
          "sssssssssssssssssssssssssssssssssssssssssssssssssss", "selector" },
    };
    char err[512];
    struct dkim_key *k = dkim_key_load(data_path("brisbane.pem"), err, sizeof(err));
    size_t n;
    char *nofrom = load("dkimpy/test_nofrom.message", &n);

    (void)state;
    failures = 0;
    assert_non_null(k);
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t len = strlen(cases[i].msg);
        char *m = copy(cases[i].msg, len);
        char *sig = dkim_sign(m, len, k, cases[i].domain, cases[i].sel, (time_t)NOW, err,
                              sizeof(err));
        if (sig || !strstr(err, cases[i].why))
            report("sign error %zu: got %s \"%s\", want NULL \"%s\"", i, sig ? "a field" : "NULL",
                   err, cases[i].why);
        free(sig);
        free(m);
    }
    /* dkimpy's test_no_from_fails */
    char *sig = dkim_sign(nofrom, n, k, "example.com", "test", (time_t)NOW, err, sizeof(err));
    if (sig)
        report("test_nofrom.message signed");
    free(sig);
    free(nofrom);
    dkim_key_free(k);
    assert_int_equal(failures, 0);
}

/* test_roundtrip - new keys, several messages, sign then verify */
static void
test_roundtrip(void **state)
{
    static const char *const files[] = {
        "dkimpy/test.message", "dkimpy/message.mbox", "dkimpy/test_extra.message",
        "dkimpy/rfc6376.msg",
    };
    static const char *const inline_msgs[] = {
        "From: a@example.org\n\n", "From: a@example.org\n", "From: a@example.org",
        "From:\n\n\n\n", "From: a\n \t\n\nbody  \n\t\n \n\n",
        "from: a\nSubject: a\n\tfolded \t subject\n\n x \n",
    };
    char err[256];
    struct dkim_key *keys[3];

    (void)state;
    failures = 0;
    keys[0] = dkim_key_generate(DKIM_RSA_SHA256, 0, err, sizeof(err));
    keys[1] = dkim_key_generate(DKIM_ED25519_SHA256, 0, err, sizeof(err));
    keys[2] = dkim_key_load(data_path("dkimpy/test.private"), err, sizeof(err));
    for (int k = 0; k < 3; k++)
        assert_non_null(keys[k]);
    assert_int_equal(dkim_key_bits(keys[0]), 2048);
    assert_int_equal(dkim_key_bits(keys[2]), 1024);
    char *txt[3], *other = dkim_key_txt(keys[2]);
    for (int k = 0; k < 3; k++)
        txt[k] = dkim_key_txt(keys[k]);

    for (size_t i = 0; i < NELEM(files) + NELEM(inline_msgs); i++) {
        size_t n;
        char *m = i < NELEM(files) ? load(files[i], &n)
                                   : copy(inline_msgs[i - NELEM(files)],
                                          (n = strlen(inline_msgs[i - NELEM(files)])));
        for (int k = 0; k < 3; k++) {
            char *sig = dkim_sign(m, n, keys[k], "example.org", "rt", (time_t)NOW, err,
                                  sizeof(err));
            size_t n2;
            if (!sig) {
                report("roundtrip %zu key %d: %s", i, k, err);
                continue;
            }
            char *sm = join(sig, strlen(sig), m, n, &n2);
            struct rec good = { "rt._domainkey.example.org", DKIM_DNS_OK, { txt[k], NULL } };
            struct rec bad = { "rt._domainkey.example.org", DKIM_DNS_OK,
                               { k == 1 ? RFC_ED_TXT : k == 0 ? other : txt[0], NULL } };
            struct dkim_verify *v = verify(sm, n2, NOW, &good, 1);
            char what[64];
            snprintf(what, sizeof(what), "roundtrip %zu key %d", i, k);
            expect(what, v, 0, DKIM_PASS, "");
            dkim_verify_free(v);
            v = verify(sm, n2, NOW, &bad, 1);
            expect(what, v, 0, DKIM_FAIL, "signature mismatch");
            dkim_verify_free(v);
            if (!dkim_key_matches_record(keys[k], txt[k]) || dkim_key_matches_record(keys[k], bad.txt[0]))
                report("%s: dkim_key_matches_record", what);
            free(sm);
            free(sig);
        }
        free(m);
    }
    for (int k = 0; k < 3; k++) {
        dkim_key_free(keys[k]);
        free(txt[k]);
    }
    free(other);
    assert_int_equal(failures, 0);
}

/* ---- keys ----------------------------------------------------------------------- */

/* tmpdir_make / tmpdir_remove - a private folder for a test */
static char *
tmpdir_make(void)
{
    const char *tmp = getenv("TMPDIR");
    char *d = malloc(4096);

    assert_non_null(d);
    snprintf(d, 4096, "%s/test_dkim.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(d));
    return d;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
tmpdir_remove(char *d)
{
    nftw(d, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

/* pem_of - a PEM private key made by OpenSSL directly */
static char *
pem_of(EVP_PKEY *pkey, const EVP_CIPHER *enc)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p = NULL, *out;
    long n;

    assert_non_null(bio);
    assert_int_equal(PEM_write_bio_PrivateKey(bio, pkey, enc, NULL, 0, NULL, enc ? "pw" : NULL), 1);
    n = BIO_get_mem_data(bio, &p);
    out = malloc((size_t)n + 1);
    assert_non_null(out);
    memcpy(out, p, (size_t)n);
    out[n] = '\0';
    BIO_free(bio);
    return out;
}

static void
test_keys(void **state)
{
    char err[512], *dir = tmpdir_make(), path[4200];
    struct dkim_key *k, *k2;
    char *txt, *txt2;
    struct stat st;

    (void)state;
    failures = 0;
    /* the published halves of known keys (RFC 8463 A.2) */
    k = dkim_key_load(data_path("brisbane.pem"), err, sizeof(err));
    assert_non_null(k);
    assert_int_equal(dkim_key_alg(k), DKIM_ED25519_SHA256);
    txt = dkim_key_txt(k);
    assert_string_equal(txt, RFC_ED_TXT);
    free(txt);
    dkim_key_free(k);
    k = dkim_key_load(data_path("dkimpy/test.private"), err, sizeof(err));    /* PKCS#1 */
    assert_non_null(k);
    txt = dkim_key_txt(k);
    assert_string_equal(txt, "v=DKIM1; k=rsa; p=" TEST_P);
    free(txt);
    dkim_key_free(k);

    /* generated keys, saved and loaded again */
    for (int a = 0; a < 2; a++) {
        enum dkim_alg alg = a ? DKIM_ED25519_SHA256 : DKIM_RSA_SHA256;
        k = dkim_key_generate(alg, a ? 0 : 1024, err, sizeof(err));
        assert_non_null(k);
        assert_int_equal(dkim_key_alg(k), alg);
        assert_int_equal(dkim_key_bits(k), a ? 256 : 1024);
        txt = dkim_key_txt(k);
        if (a) {
            unsigned char raw[64];
            if (strncmp(txt, "v=DKIM1; k=ed25519; p=", 22) != 0 || strlen(txt) != 22 + 44
                || dkim_b64_decode(txt + 22, 44, raw, sizeof(raw)) != 32)
                report("ed25519 txt: %s", txt);
        } else if (strncmp(txt, "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQ", 56) != 0) {
            report("rsa txt: %s", txt);
        }
        snprintf(path, sizeof(path), "%s/k%d.pem", dir, a);
        if (dkim_key_save(k, path, err, sizeof(err)) < 0)
            report("save: %s", err);
        if (stat(path, &st) < 0 || (st.st_mode & 07777) != 0600)
            report("save: mode %o, want 600", (unsigned)st.st_mode & 07777);
        if (dkim_key_save(k, path, err, sizeof(err)) == 0 || !strstr(err, "File exists"))
            report("save over an existing file: %s", err);
        k2 = dkim_key_load(path, err, sizeof(err));
        assert_non_null(k2);
        txt2 = dkim_key_txt(k2);
        if (strcmp(txt, txt2) != 0)
            report("loaded key differs: %s / %s", txt, txt2);
        if (!dkim_key_matches_record(k2, txt) || dkim_key_matches_record(k2, "v=DKIM1; p="))
            report("dkim_key_matches_record");
        free(txt2);
        dkim_key_free(k2);
        free(txt);
        dkim_key_free(k);
    }
    /* refused: a symbolic link where the key would go, wrong sizes */
    snprintf(path, sizeof(path), "%s/link.pem", dir);
    assert_int_equal(symlink("/nonexistent/target", path), 0);
    k = dkim_key_generate(DKIM_ED25519_SHA256, 0, err, sizeof(err));
    if (dkim_key_save(k, path, err, sizeof(err)) == 0)
        report("save through a symbolic link");
    dkim_key_free(k);
    if (dkim_key_generate(DKIM_RSA_SHA256, 512, err, sizeof(err)))
        report("a 512-bit RSA key generated");
    if (dkim_key_generate(DKIM_RSA_SHA256, 16384, err, sizeof(err)))
        report("a 16384-bit RSA key generated");

    /* loading: what is not a usable key */
    static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    if (dkim_key_from_pem(junk, sizeof(junk) - 1, err, sizeof(err)) || !strstr(err, "PEM"))
        report("junk PEM: %s", err);
    if (dkim_key_from_pem("", 0, err, sizeof(err)))
        report("empty PEM");
    snprintf(path, sizeof(path), "%s/none.pem", dir);
    if (dkim_key_load(path, err, sizeof(err)) || !strstr(err, "cannot read"))
        report("missing file: %s", err);
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)512);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    char *pem;
    assert_non_null(small);
    assert_non_null(ec);
    assert_non_null(ed);
    pem = pem_of(small, NULL);
    if (dkim_key_from_pem(pem, strlen(pem), err, sizeof(err)) || !strstr(err, "512 bits"))
        report("512-bit key: %s", err);
    free(pem);
    pem = pem_of(ec, NULL);
    if (dkim_key_from_pem(pem, strlen(pem), err, sizeof(err)) || !strstr(err, "not an RSA"))
        report("EC key: %s", err);
    free(pem);
    pem = pem_of(ed, EVP_aes_128_cbc());        /* encrypted: refused, never prompted */
    if (dkim_key_from_pem(pem, strlen(pem), err, sizeof(err)) || !strstr(err, "encrypted"))
        report("encrypted key: %s", err);
    free(pem);
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
    EVP_PKEY_free(ed);
    tmpdir_remove(dir);
    assert_int_equal(failures, 0);
}

static void
test_zone_line(void **state)
{
    char txt[700], *z;

    (void)state;
    failures = 0;
    z = dkim_zone_line("s1", "example.org", "v=DKIM1; k=ed25519; p=abc");
    assert_string_equal(z, "s1._domainkey.example.org. IN TXT ( \"v=DKIM1; k=ed25519; p=abc\" )");
    free(z);
    /* 600 characters: strings of 255, 255, 90, joined back to the value */
    for (size_t i = 0; i < 600; i++)
        txt[i] = (char)('a' + i % 26);
    txt[600] = '\0';
    z = dkim_zone_line("sel", "example.org", txt);
    const char *p = strchr(z, '"');
    struct buf joined = BUF_INIT;
    size_t strings = 0;
    while (p && *p == '"') {
        const char *e = strchr(p + 1, '"');
        assert_non_null(e);
        if ((size_t)(e - p - 1) > 255)
            report("a string of %zu characters", (size_t)(e - p - 1));
        buf_append(&joined, p + 1, (size_t)(e - p - 1));
        strings++;
        p = e + 1;
        while (*p == ' ')
            p++;
    }
    if (strings != 3 || strcmp(buf_cstr(&joined), txt) != 0 || strcmp(p, ")") != 0)
        report("zone line: %zu strings: %s", strings, z);
    buf_free(&joined);
    free(z);
    /* quotes and backslashes escaped (RFC 1035 5.1) */
    z = dkim_zone_line("s", "d.example", "a\"b\\c");
    assert_string_equal(z, "s._domainkey.d.example. IN TXT ( \"a\\\"b\\\\c\" )");
    free(z);
    /* a name over 253 octets */
    memset(txt, 'a', 250);
    txt[250] = '\0';
    assert_null(dkim_zone_line(txt, "example.org", "v=DKIM1; p=x"));
    /* real keys: every string within 255 */
    char err[128];
    struct dkim_key *k = dkim_key_generate(DKIM_RSA_SHA256, 4096, err, sizeof(err));
    assert_non_null(k);
    char *t = dkim_key_txt(k);
    z = dkim_zone_line("s202611", "example.org", t);
    if (strlen(t) < 700 || !strstr(z, "\" \""))
        report("4096-bit zone line: %s", z);
    free(z);
    free(t);
    dkim_key_free(k);
    assert_int_equal(failures, 0);
}

/* ---- key files ---------------------------------------------------------------- */

/* touch_at - set the modification time of <dir>/dkim/<dom>/<file> */
static void
touch_at(const char *dir, const char *dom, const char *file, time_t t)
{
    char path[4200];
    struct timespec ts[2] = { { t, 0 }, { t, 0 } };

    snprintf(path, sizeof(path), "%s/dkim/%s/%s", dir, dom, file);
    if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
        fail_msg("utimensat %s: %s", path, strerror(errno));
}

static void
test_store(void **state)
{
    char *dir = tmpdir_make(), err[1024], sel[DKIM_NAME_MAX + 1], path[4200];
    struct dkim_signer s[DKIM_SIGNERS_MAX];
    struct dkim_entry *e;
    struct dkim_key *k;
    struct stat st;
    size_t n, ne;
    const time_t nov = 1763164800;        /* 2025-11-15 00:00 UTC */

    (void)state;
    failures = 0;
    /* nothing yet */
    n = dkim_keys_for(dir, "example.org", s, err, sizeof(err));
    if (n != 0 || err[0])
        report("empty: %zu keys, err \"%s\"", n, err);
    assert_int_equal(dkim_store_list(dir, NULL, &e, &ne, err, sizeof(err)), 0);
    assert_int_equal(ne, 0);

    /* dated selectors, taken ones skipped */
    static const struct {
        const char   *sel;
        enum dkim_alg alg;
        const char   *want;      /* NULL: refused */
    } gen[] = {
        { NULL, DKIM_RSA_SHA256, "s202511" },
        { NULL, DKIM_RSA_SHA256, "s202511b" },
        { NULL, DKIM_ED25519_SHA256, "e202511" },
        { "s202511", DKIM_ED25519_SHA256, NULL },       /* one record, one key */
        { "Mail", DKIM_RSA_SHA256, "mail" },
        { "mail", DKIM_RSA_SHA256, NULL },
        { "a/b", DKIM_RSA_SHA256, NULL },
        { "", DKIM_RSA_SHA256, NULL },
    };
    for (size_t i = 0; i < NELEM(gen); i++) {
        k = dkim_store_keygen(dir, "Example.ORG", gen[i].sel, gen[i].alg, nov, sel, err,
                              sizeof(err));
        if (!gen[i].want != !k || (k && strcmp(sel, gen[i].want) != 0))
            report("keygen %s: got %s (%s), want %s", gen[i].sel ? gen[i].sel : "(default)",
                   k ? sel : "NULL", k ? "" : err, gen[i].want ? gen[i].want : "NULL");
        if (k && dkim_key_alg(k) != gen[i].alg)
            report("keygen %zu: wrong algorithm", i);
        dkim_key_free(k);
    }
    if (dkim_store_keygen(dir, "../etc", NULL, DKIM_RSA_SHA256, nov, sel, err, sizeof(err)))
        report("keygen for ../etc");
    snprintf(path, sizeof(path), "%s/dkim/example.org/s202511.rsa.pem", dir);
    if (stat(path, &st) < 0 || (st.st_mode & 07777) != 0600)
        report("%s: mode %o", path, (unsigned)st.st_mode & 07777);
    snprintf(path, sizeof(path), "%s/dkim/example.org", dir);
    if (stat(path, &st) < 0 || (st.st_mode & 07777) != 0700)
        report("%s: mode %o", path, (unsigned)st.st_mode & 07777);
    snprintf(path, sizeof(path), "%s/dkim", dir);
    if (stat(path, &st) < 0 || (st.st_mode & 07777) != 0700)
        report("%s: mode %o", path, (unsigned)st.st_mode & 07777);

    /* the newest of each algorithm signs */
    touch_at(dir, "example.org", "s202511.rsa.pem", nov + 100);
    touch_at(dir, "example.org", "s202511b.rsa.pem", nov + 50);
    touch_at(dir, "example.org", "mail.rsa.pem", nov + 10);
    touch_at(dir, "example.org", "e202511.ed25519.pem", nov);
    n = dkim_keys_for(dir, "EXAMPLE.org", s, err, sizeof(err));
    if (n != 2 || strcmp(s[0].selector, "s202511") != 0 || strcmp(s[1].selector, "e202511") != 0
        || dkim_key_alg(s[0].key) != DKIM_RSA_SHA256 || strcmp(s[0].domain, "example.org") != 0
        || dkim_key_alg(s[1].key) != DKIM_ED25519_SHA256 || err[0])
        report("keys_for: %zu keys %s %s, err \"%s\"", n, n > 0 ? s[0].selector : "",
               n > 1 ? s[1].selector : "", err);
    /* they sign, and their records verify */
    static const char msg[] = "From: a@example.org\nSubject: hi\n\nhello\n";
    for (size_t i = 0; i < n; i++) {
        char *sig = dkim_sign(msg, sizeof(msg) - 1, s[i].key, s[i].domain, s[i].selector,
                              (time_t)NOW, err, sizeof(err));
        char *txt = dkim_key_txt(s[i].key), name[300];
        size_t n2;
        assert_non_null(sig);
        snprintf(name, sizeof(name), "%s._domainkey.%s", s[i].selector, s[i].domain);
        struct rec r = { name, DKIM_DNS_OK, { txt, NULL } };
        char *sm = join(sig, strlen(sig), msg, sizeof(msg) - 1, &n2);
        struct dkim_verify *v = verify(sm, n2, NOW, &r, 1);
        expect("store key", v, 0, DKIM_PASS, "");
        dkim_verify_free(v);
        free(sm);
        free(txt);
        free(sig);
    }
    dkim_signers_free(s, n);
    /* equal times: the greater selector */
    touch_at(dir, "example.org", "s202511b.rsa.pem", nov + 100);
    n = dkim_keys_for(dir, "example.org", s, err, sizeof(err));
    if (n != 2 || strcmp(s[0].selector, "s202511b") != 0)
        report("tie: %s", n ? s[0].selector : "none");
    dkim_signers_free(s, n);

    /* other names are ignored: retired keys, symbolic links, other files */
    snprintf(path, sizeof(path), "%s/dkim/example.org/s202511.rsa.pem", dir);
    char old[4300];
    snprintf(old, sizeof(old), "%s.old", path);
    assert_int_equal(rename(path, old), 0);
    snprintf(path, sizeof(path), "%s/dkim/example.org/link.rsa.pem", dir);
    assert_int_equal(symlink(old, path), 0);
    snprintf(path, sizeof(path), "%s/dkim/example.org/README", dir);
    assert_int_equal(file_replace(path, "x", 1, 0600), 0);
    snprintf(path, sizeof(path), "%s/dkim/example.org/UPPER.rsa.pem", dir);
    assert_int_equal(file_replace(path, "x", 1, 0600), 0);
    assert_int_equal(dkim_store_list(dir, "example.org", &e, &ne, err, sizeof(err)), 0);
    if (ne != 3 || strcmp(e[0].selector, "s202511b") != 0 || !e[0].newest
        || strcmp(e[1].selector, "mail") != 0 || e[1].newest
        || strcmp(e[2].selector, "e202511") != 0 || !e[2].newest)
        report("list: %zu entries: %s %s %s", ne, ne > 0 ? e[0].selector : "",
               ne > 1 ? e[1].selector : "", ne > 2 ? e[2].selector : "");
    dkim_entries_free(e, ne);

    /* a broken newest key: the next one signs, and err says why */
    snprintf(path, sizeof(path), "%s/dkim/example.org/zz.rsa.pem", dir);
    assert_int_equal(file_replace(path, "not a key", 9, 0600), 0);
    touch_at(dir, "example.org", "zz.rsa.pem", nov + 1000);
    k = dkim_key_load(data_path("brisbane.pem"), err, sizeof(err));
    snprintf(path, sizeof(path), "%s/dkim/example.org/wrong.rsa.pem", dir);
    assert_int_equal(dkim_key_save(k, path, err, sizeof(err)), 0);   /* Ed25519 named rsa */
    dkim_key_free(k);
    touch_at(dir, "example.org", "wrong.rsa.pem", nov + 900);
    n = dkim_keys_for(dir, "example.org", s, err, sizeof(err));
    if (n != 2 || strcmp(s[0].selector, "s202511b") != 0 || !strstr(err, "zz.rsa.pem"))
        report("broken newest: %zu keys, %s, err \"%s\"", n, n ? s[0].selector : "", err);
    dkim_signers_free(s, n);
    snprintf(path, sizeof(path), "%s/dkim/example.org/zz.rsa.pem", dir);
    unlink(path);
    n = dkim_keys_for(dir, "example.org", s, err, sizeof(err));
    if (n != 2 || strcmp(s[0].selector, "s202511b") != 0 || !strstr(err, "not an rsa key"))
        report("wrong algorithm: %zu keys, err \"%s\"", n, err);
    dkim_signers_free(s, n);

    /* several domains, listed in order; names that are not domains */
    k = dkim_store_keygen(dir, "a.example", "x", DKIM_ED25519_SHA256, nov, sel, err, sizeof(err));
    assert_non_null(k);
    dkim_key_free(k);
    assert_int_equal(dkim_store_list(dir, NULL, &e, &ne, err, sizeof(err)), 0);
    if (ne != 5 || strcmp(e[0].domain, "a.example") != 0 || strcmp(e[1].domain, "example.org") != 0)
        report("list all: %zu entries, first %s", ne, ne ? e[0].domain : "");
    dkim_entries_free(e, ne);
    if (dkim_keys_for(dir, "../dkim/example.org", s, err, sizeof(err)) != 0
        || dkim_keys_for(dir, "", s, err, sizeof(err)) != 0
        || dkim_keys_for(dir, "nothing.example", s, err, sizeof(err)) != 0)
        report("keys_for of a non-domain");
    tmpdir_remove(dir);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_header),
        cmocka_unit_test(test_canon_body),
        cmocka_unit_test(test_canon_limit),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_rfc8463),
        cmocka_unit_test(test_key_records),
        cmocka_unit_test(test_dkimpy_messages),
        cmocka_unit_test(test_tamper),
        cmocka_unit_test(test_sig_syntax),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_sign_golden),
        cmocka_unit_test(test_sign_format),
        cmocka_unit_test(test_sign_errors),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_zone_line),
        cmocka_unit_test(test_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
