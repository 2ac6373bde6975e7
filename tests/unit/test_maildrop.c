/*
 * test_maildrop - unit tests for src/pop3/maildrop.c: the pure POP3
 * formatting (CRLF, dot-stuffing, TOP, sizes) driven by tables, then a
 * temporary Maildir taken as a drop (new/ -> cur/, order, UIDs, RETR,
 * commit, vanished files).
 *
 * Every mismatch is reported as "got ..., want ..." and each test fails
 * at its end, so one run shows all broken rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "pop3/maildrop.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#include "check.h"

/* One maildrop_format() case. */
struct fmt_case {
    const char *in;
    size_t      len;
    long        top;
    const char *want;
};

#define MSG "Subject: hi\nFrom: a@b.test\n\nline 1\n.line 2\n..line 3\nline 4\n"

static const struct fmt_case fmt_cases[] = {
    { S(""), -1, ".\r\n" },
    { S("\n"), -1, "\r\n.\r\n" },
    { S("a"), -1, "a\r\n.\r\n" },
    { S("a\n"), -1, "a\r\n.\r\n" },
    { S("a\r\n"), -1, "a\r\n.\r\n" },
    { S("a\r"), -1, "a\r\r\n.\r\n" },
    { S("a\r\rb\n"), -1, "a\r\rb\r\n.\r\n" },
    { S("a\nb"), -1, "a\r\nb\r\n.\r\n" },
    { S("a\n\n\nb\n"), -1, "a\r\n\r\n\r\nb\r\n.\r\n" },
    { S("."), -1, "..\r\n.\r\n" },
    { S(".\n"), -1, "..\r\n.\r\n" },
    { S("x\n.\ny\n"), -1, "x\r\n..\r\ny\r\n.\r\n" },
    { S("..\n"), -1, "...\r\n.\r\n" },
    { S(" .\n"), -1, " .\r\n.\r\n" },
    { S("a.b\n"), -1, "a.b\r\n.\r\n" },
    { S("a\0b\n"), -1, "a\0b\r\n.\r\n" },
    { S(MSG), -1, "Subject: hi\r\nFrom: a@b.test\r\n\r\nline 1\r\n..line 2\r\n"
                  "...line 3\r\nline 4\r\n.\r\n" },
    /* TOP: header, empty line, n body lines */
    { S(MSG), 0, "Subject: hi\r\nFrom: a@b.test\r\n\r\n.\r\n" },
    { S(MSG), 1, "Subject: hi\r\nFrom: a@b.test\r\n\r\nline 1\r\n.\r\n" },
    { S(MSG), 2, "Subject: hi\r\nFrom: a@b.test\r\n\r\nline 1\r\n..line 2\r\n.\r\n" },
    { S(MSG), 4, "Subject: hi\r\nFrom: a@b.test\r\n\r\nline 1\r\n..line 2\r\n"
                 "...line 3\r\nline 4\r\n.\r\n" },
    { S(MSG), 100, "Subject: hi\r\nFrom: a@b.test\r\n\r\nline 1\r\n..line 2\r\n"
                   "...line 3\r\nline 4\r\n.\r\n" },
    { S("A: 1\r\n\r\nb\r\nc\r\n"), 1, "A: 1\r\n\r\nb\r\n.\r\n" },
    { S("A: 1\nB: 2\n"), 0, "A: 1\r\nB: 2\r\n.\r\n" },     /* no body at all */
    { S("A: 1"), 0, "A: 1\r\n.\r\n" },
    { S("\nbody\nmore\n"), 0, "\r\n.\r\n" },               /* empty header */
    { S("\nbody\nmore\n"), 1, "\r\nbody\r\n.\r\n" },
    { S(""), 0, ".\r\n" },
    { S("A: 1\n\n\n\nx\n"), 2, "A: 1\r\n\r\n\r\n\r\n.\r\n" },  /* empty body lines count */
};

/* stuffed - the number of dots maildrop_format adds to p[0..n) */
static uint64_t
stuffed(const char *p, size_t n)
{
    uint64_t k = 0;

    for (size_t i = 0; i < n; i++)
        if (p[i] == '.' && (i == 0 || p[i - 1] == '\n'))
            k++;
    return k;
}

/* test_format - CRLF, dot-stuffing, TOP; sizes agree with RETR */
static void
test_format(void **state)
{
    struct buf out = BUF_INIT;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
        const struct fmt_case *c = &fmt_cases[i];
        size_t wantlen = strlen(c->want);

        /* the wanted text may hold a NUL: compute its length with the input */
        if (memchr(c->in, '\0', c->len) != NULL)
            wantlen = c->len + 4;
        buf_reset(&out);
        buf_puts(&out, "+OK\r\n");  /* appends, never replaces */
        maildrop_format(c->in, c->len, c->top, &out);
        if (out.len != wantlen + 5 || memcmp(out.data + 5, c->want, wantlen) != 0) {
            report("maildrop_format(\"%s\", %ld): got \"%s\", want \"%s\"",
                   show(c->in, c->len), c->top, show(out.data + 5, out.len - 5),
                   show(c->want, wantlen));
            continue;
        }
        if (c->top < 0) {
            /* RFC 1939 / issue 5: LIST size = RETR octets before stuffing */
            uint64_t got = maildrop_size(c->in, c->len);
            uint64_t want = wantlen - 3 - stuffed(c->in, c->len);

            if (got != want)
                report("maildrop_size(\"%s\"): got %llu, want %llu", show(c->in, c->len),
                       (unsigned long long)got, (unsigned long long)want);
        }
    }
    buf_free(&out);
    assert_int_equal(failures, 0);
}

/* test_size_chunks - feeding any split gives the same size */
static void
test_size_chunks(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(fmt_cases) / sizeof(fmt_cases[0]); i++) {
        const struct fmt_case *c = &fmt_cases[i];
        uint64_t whole = maildrop_size(c->in, c->len);

        for (size_t cut = 0; cut <= c->len; cut++) {
            struct maildrop_size s;
            uint64_t got;

            maildrop_size_init(&s);
            maildrop_size_feed(&s, c->in, cut);
            for (size_t k = cut; k < c->len; k++)   /* the rest byte by byte */
                maildrop_size_feed(&s, c->in + k, 1);
            got = maildrop_size_end(&s);
            if (got != whole)
                report("maildrop_size_feed(\"%s\", cut %zu): got %llu, want %llu",
                       show(c->in, c->len), cut, (unsigned long long)got,
                       (unsigned long long)whole);
        }
    }
    assert_int_equal(failures, 0);
}

/* A temporary Maildir. */
struct fixture {
    char dir[64];
};

/* put - write text to dir/sub/name */
static void
put(const struct fixture *fx, const char *sub, const char *name, const char *text)
{
    char *path = xasprintf("%s/%s/%s", fx->dir, sub, name);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    free(path);
}

/* exists - whether dir/sub/name exists */
static bool
exists(const struct fixture *fx, const char *sub, const char *name)
{
    struct stat st;
    char *path = xasprintf("%s/%s/%s", fx->dir, sub, name);
    bool ok = lstat(path, &st) == 0;

    free(path);
    return ok;
}

/* setup - a Maildir with messages in new/ and cur/, plus noise */
static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    static const char *subs[] = { "new", "cur", "tmp" };

    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_maildrop.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    for (size_t i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%s", fx->dir, subs[i]);

        assert_int_equal(mkdir(p, 0700), 0);
        free(p);
    }
    put(fx, "new", "1700000100.M1P1Q1.host,S=20", "Subject: a\n\n.dot\nend\n");
    put(fx, "new", "1700000050.M2P2Q2.host", "");
    put(fx, "cur", "1700000100.M0P9Q9.host:2,S", "Subject: seen\n\nbody\n");
    put(fx, "cur", "999999999.M3P3Q3.host:2,", "Subject: old\r\n\r\nold\r\n");
    put(fx, "new", ".hidden", "not a message\n");
    put(fx, "cur", ".hidden", "not a message\n");
    put(fx, "tmp", "1700000200.M4P4Q4.host", "in delivery\n");
    *state = fx;
    return 0;
}

/* teardown - remove the Maildir */
static int
teardown(void **state)
{
    struct fixture *fx = *state;
    char *cmd = xasprintf("rm -rf '%s'", fx->dir);

    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(fx);
    return 0;
}

/* The drop setup() builds, in POP3 order. */
static const struct {
    const char *name, *uid, *body;
} want_drop[] = {
    { "999999999.M3P3Q3.host:2,", "999999999.M3P3Q3.host",
      "Subject: old\r\n\r\nold\r\n.\r\n" },
    { "1700000050.M2P2Q2.host:2,", "1700000050.M2P2Q2.host", ".\r\n" },
    { "1700000100.M0P9Q9.host:2,S", "1700000100.M0P9Q9.host",
      "Subject: seen\r\n\r\nbody\r\n.\r\n" },
    { "1700000100.M1P1Q1.host,S=20:2,", "1700000100.M1P1Q1.host,S=20",
      "Subject: a\r\n\r\n..dot\r\nend\r\n.\r\n" },
};
#define NWANT (sizeof(want_drop) / sizeof(want_drop[0]))

/* check_drop - d holds want_drop first, then extra later messages;
 * sizes and RETR bodies match, and the total adds up */
static void
check_drop(const struct maildrop *d, size_t extra, const char *when)
{
    struct buf out = BUF_INIT;
    uint64_t total = 0;

    if (d->count != NWANT + extra) {
        report("%s: got %zu messages, want %zu", when, d->count, NWANT + extra);
        return;
    }
    for (size_t i = 0; i < NWANT; i++) {
        const struct maildrop_msg *m = &d->msgs[i];
        size_t blen = strlen(want_drop[i].body) - 3;    /* without ".\r\n" */
        uint64_t want = blen - stuffed(want_drop[i].body, blen);

        if (strcmp(m->name, want_drop[i].name) != 0 || strcmp(m->uid, want_drop[i].uid) != 0)
            report("%s: msg %zu: got %s uid %s, want %s uid %s", when, i + 1, m->name,
                   m->uid, want_drop[i].name, want_drop[i].uid);
        if (m->size != want)
            report("%s: msg %zu: got size %llu, want %llu", when, i + 1,
                   (unsigned long long)m->size, (unsigned long long)want);
        buf_reset(&out);
        if (maildrop_retr(d, i, -1, &out) != 0)
            report("%s: maildrop_retr(%zu): got -1 (%s), want 0", when, i, strerror(errno));
        else if (strcmp(buf_cstr(&out), want_drop[i].body) != 0)
            report("%s: maildrop_retr(%zu): got \"%s\", want \"%s\"", when, i,
                   show(out.data, out.len), show(want_drop[i].body, strlen(want_drop[i].body)));
        total += m->size;
    }
    for (size_t i = NWANT; i < d->count; i++)
        total += d->msgs[i].size;
    if (d->total != total)
        report("%s: got total %llu, want %llu", when, (unsigned long long)d->total,
               (unsigned long long)total);
    buf_free(&out);
}

/* test_open - new/ -> cur/ with ":2,", order, sizes, RETR, stable UIDs */
static void
test_open(void **state)
{
    struct fixture *fx = *state;
    struct maildrop *d;
    char err[256] = "";

    failures = 0;
    d = maildrop_open(fx->dir, err, sizeof(err));
    assert_non_null(d);
    check_drop(d, 0, "first open");
    maildrop_free(d);

    if (exists(fx, "new", "1700000100.M1P1Q1.host,S=20")
        || exists(fx, "new", "1700000050.M2P2Q2.host"))
        report("new/: got messages left, want them moved to cur/");
    if (!exists(fx, "new", ".hidden") || !exists(fx, "cur", ".hidden")
        || !exists(fx, "tmp", "1700000200.M4P4Q4.host"))
        report("dot files and tmp/: got touched, want left alone");

    /* A later delivery shows up at the next open only, after the others. */
    put(fx, "new", "1800000000.M5P5Q5.host", "late\n");
    d = maildrop_open(fx->dir, err, sizeof(err));
    assert_non_null(d);
    check_drop(d, 1, "second open");
    if (d->count == NWANT + 1
        && (strcmp(d->msgs[NWANT].uid, "1800000000.M5P5Q5.host") != 0 || d->msgs[NWANT].size != 6))
        report("second open: got last %s size %llu, want 1800000000.M5P5Q5.host size 6",
               d->msgs[NWANT].uid, (unsigned long long)d->msgs[NWANT].size);
    maildrop_free(d);
    assert_int_equal(failures, 0);
}

/* test_top - TOP through the file */
static void
test_top(void **state)
{
    struct fixture *fx = *state;
    struct buf out = BUF_INIT;
    static const struct {
        size_t      msg;
        long        top;
        const char *want;
    } cases[] = {
        { 3, 0, "Subject: a\r\n\r\n.\r\n" },
        { 3, 1, "Subject: a\r\n\r\n..dot\r\n.\r\n" },
        { 3, 9, "Subject: a\r\n\r\n..dot\r\nend\r\n.\r\n" },
        { 1, 0, ".\r\n" },
        { 0, 1, "Subject: old\r\n\r\nold\r\n.\r\n" },
    };
    struct maildrop *d = maildrop_open(fx->dir, NULL, 0);

    assert_non_null(d);
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_reset(&out);
        if (maildrop_retr(d, cases[i].msg, cases[i].top, &out) != 0)
            report("TOP %zu %ld: got -1, want 0", cases[i].msg + 1, cases[i].top);
        else if (strcmp(buf_cstr(&out), cases[i].want) != 0)
            report("TOP %zu %ld: got \"%s\", want \"%s\"", cases[i].msg + 1, cases[i].top,
                   show(out.data, out.len), show(cases[i].want, strlen(cases[i].want)));
    }
    buf_reset(&out);
    errno = 0;
    if (maildrop_retr(d, d->count, -1, &out) != -1 || errno != ERANGE || out.len != 0)
        report("maildrop_retr(count): got errno %d len %zu, want ERANGE and nothing",
               errno, out.len);
    buf_free(&out);
    maildrop_free(d);
    assert_int_equal(failures, 0);
}

/* test_vanished_and_commit - files gone or renamed by another client,
 * then UPDATE deleting only the marked ones */
static void
test_vanished_and_commit(void **state)
{
    struct fixture *fx = *state;
    struct buf out = BUF_INIT;
    bool deleted[NWANT] = { false };
    char err[256] = "";
    struct maildrop *d = maildrop_open(fx->dir, err, sizeof(err));
    char *from, *to;
    size_t failed;

    assert_non_null(d);
    assert_int_equal(d->count, NWANT);
    failures = 0;

    /* msg 2 vanishes: RETR fails with ENOENT, nothing appended */
    from = xasprintf("%s/cur/%s", fx->dir, want_drop[1].name);
    assert_int_equal(unlink(from), 0);
    free(from);
    errno = 0;
    if (maildrop_retr(d, 1, -1, &out) != -1 || errno != ENOENT || out.len != 0)
        report("RETR vanished: got errno %d len %zu, want ENOENT and nothing", errno, out.len);

    /* msg 3 gets a new flag from another client: still found by UID */
    from = xasprintf("%s/cur/%s", fx->dir, want_drop[2].name);
    to = xasprintf("%s/cur/%sT", fx->dir, want_drop[2].name);
    assert_int_equal(rename(from, to), 0);
    free(from);
    free(to);
    buf_reset(&out);
    if (maildrop_retr(d, 2, -1, &out) != 0 || strcmp(buf_cstr(&out), want_drop[2].body) != 0)
        report("RETR renamed: got \"%s\", want \"%s\"", show(out.data, out.len),
               show(want_drop[2].body, strlen(want_drop[2].body)));

    /* UPDATE: delete 2 (gone), 3 (renamed) and 4; keep 1 */
    deleted[1] = deleted[2] = deleted[3] = true;
    failed = maildrop_commit(d, deleted, err, sizeof(err));
    if (failed != 0)
        report("maildrop_commit: got %zu failures (%s), want 0", failed, err);
    maildrop_free(d);

    d = maildrop_open(fx->dir, err, sizeof(err));
    assert_non_null(d);
    if (d->count != 1 || strcmp(d->msgs[0].uid, want_drop[0].uid) != 0)
        report("after commit: got %zu messages (first %s), want 1 (%s)", d->count,
               d->count > 0 ? d->msgs[0].uid : "-", want_drop[0].uid);
    if (!exists(fx, "new", ".hidden") || !exists(fx, "tmp", "1700000200.M4P4Q4.host"))
        report("after commit: got dot file or tmp/ touched, want left alone");
    maildrop_free(d);
    buf_free(&out);
    assert_int_equal(failures, 0);
}

/* test_missing - a folder never delivered to is an empty drop */
static void
test_missing(void **state)
{
    struct maildrop *d;
    char err[256] = "";

    (void)state;
    d = maildrop_open("/nonexistent/postino/mail/x.test/nobody", err, sizeof(err));
    assert_non_null(d);
    assert_int_equal(d->count, 0);
    assert_int_equal(d->total, 0);
    assert_int_equal(maildrop_commit(d, NULL, err, sizeof(err)), 0);
    maildrop_free(d);
    maildrop_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_size_chunks),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_top, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanished_and_commit, setup, teardown),
        cmocka_unit_test(test_missing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
