/*
 * test_imap_store - unit tests for the IMAP store over Maildir++
 * (src/imap/store*.c, src/imap/uidlist.c): the pure parts (CRLF size,
 * uidlist text, folder names) from tables, then temporary Maildirs under
 * /tmp: UIDs and their stability, new/ -> cur/, flags as file names,
 * store_sync between two sessions, copy/move/append UIDs, folders,
 * subscriptions, two threads numbering at once, a lost uidlist, and a
 * file that vanishes between readdir() and stat().
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
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "imap/store.h"
#include "imap/uidlist.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#include "check.h"

/* ---- pure parts ----------------------------------------------------------- */

/* test_crlf_size - RFC822.SIZE counts each bare LF as CRLF */
static void
test_crlf_size(void **state)
{
    static const struct {
        const char *in;
        size_t      len;
        uint64_t    want;
    } cases[] = {
        { S(""), 0 },
        { S("a"), 1 },
        { S("\n"), 2 },
        { S("\r\n"), 2 },
        { S("a\nb\n"), 6 },
        { S("a\r\nb\r\n"), 6 },
        { S("a\r\rb\n"), 6 },
        { S("\r"), 1 },
        { S("\n\n"), 4 },
        { S("x\r\n\n"), 5 },
        { S("a\0b\n"), 5 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        uint64_t got = store_crlf_size(cases[i].in, cases[i].len);

        if (got != cases[i].want)
            report("store_crlf_size(\"%s\"): got %llu, want %llu",
                   show(cases[i].in, cases[i].len), (unsigned long long)got,
                   (unsigned long long)cases[i].want);
    }
    assert_int_equal(failures, 0);
}

/* test_uidlist_parse - well-formed lists round-trip; anything else is
 * a lost list (validity 0) */
static void
test_uidlist_parse(void **state)
{
    static const struct {
        const char *in;
        bool        ok;
        size_t      n;
    } cases[] = {
        { "postino-uidlist 1 V7 N1\n", true, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 100 a\n4 20 -5 b c\n", true, 2 },
        { "postino-uidlist 1 V4294967295 N4294967295\n4294967294 1 1 x\n", true, 1 },
        { "postino-uidlist 1 V7 N5\n1 18446744073709551615 9223372036854775807 a\n", true, 1 },
        { "", false, 0 },
        { "postino-uidlist 1 V7 N1", false, 0 },            /* no newline */
        { "postino-uidlist 2 V7 N1\n", false, 0 },          /* version */
        { "postino-uidlist 1 V0 N1\n", false, 0 },          /* validity 0 */
        { "postino-uidlist 1 V7 N0\n", false, 0 },
        { "postino-uidlist 1 V4294967296 N1\n", false, 0 }, /* 33 bits */
        { "postino-uidlist 1 V7 N1 \n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 100 a", false, 0 }, /* cut short */
        { "postino-uidlist 1 V7 N5\n2 10 100 a\n2 10 100 b\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n3 10 100 a\n2 10 100 b\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n5 10 100 a\n", false, 0 },  /* uid >= next */
        { "postino-uidlist 1 V7 N5\n0 10 100 a\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 100 a\n2 10 100 a\n", false, 0 }, /* twice */
        { "postino-uidlist 1 V7 N5\n1 10 100 \n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 100 a/b\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 100 a:2,S\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 100 .a\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 -10 100 a\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 9223372036854775808 a\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n1 10 a\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n+1 10 100 a\n", false, 0 },
        { "postino-uidlist 1 V7 N5\n\n", false, 0 },
    };
    struct uidlist ul;
    struct buf b = BUF_INIT;

    (void)state;
    failures = 0;
    uidlist_init(&ul);
    for (size_t i = 0; i < NELEM(cases); i++) {
        size_t len = strlen(cases[i].in);
        char *in = copy(cases[i].in, len);
        int rc = uidlist_parse(&ul, in, len);

        if ((rc == 0) != cases[i].ok || (rc == 0 && ul.n != cases[i].n)
            || (rc < 0 && ul.validity != 0)) {
            report("uidlist_parse(\"%s\"): got rc %d n %zu validity %u, want ok %d n %zu",
                   showz(cases[i].in), rc, ul.n, ul.validity, cases[i].ok, cases[i].n);
        } else if (rc == 0) {
            buf_reset(&b);
            uidlist_format(&ul, &b);
            if (strcmp(buf_cstr(&b), cases[i].in) != 0)
                report("uidlist_format(parse(\"%s\")): got \"%s\"", showz(cases[i].in),
                       showz(buf_cstr(&b)));
        }
        free(in);
    }
    /* find, add, remove */
    assert_int_equal(uidlist_parse(&ul, S("postino-uidlist 1 V7 N5\n1 10 100 a\n4 20 -5 b c\n")),
                     0);
    if (uidlist_find(&ul, "b c", 3) == NULL || uidlist_find(&ul, "b c", 3)->uid != 4
        || uidlist_find(&ul, "b", 1) != NULL)
        report("uidlist_find: got wrong entries");
    if (uidlist_add(&ul, "z", 1, 3, 3) != 5 || ul.next != 6 || uidlist_find(&ul, "z", 1) == NULL)
        report("uidlist_add: got next %u, want 6", ul.next);
    {
        uint32_t gone[] = { 5, 1, 99 };

        if (uidlist_remove_uids(&ul, gone, NELEM(gone)) != 2 || ul.n != 1 || ul.v[0].uid != 4)
            report("uidlist_remove_uids: got n %zu", ul.n);
    }
    ul.next = UINT32_MAX;
    errno = 0;
    if (uidlist_add(&ul, "y", 1, 1, 1) != 0 || errno != EOVERFLOW)
        report("uidlist_add at UINT32_MAX: got a uid, want EOVERFLOW");
    uidlist_free(&ul);
    buf_free(&b);
    assert_int_equal(failures, 0);
}

/* test_names - folder names that may exist, and special use */
static void
test_names(void **state)
{
    static const struct {
        const char *name;
        bool        ok;
    } cases[] = {
        { "INBOX", true }, { "inbox", true }, { "Sent", true }, { "A.B", true },
        { "&AOk-t&AOk-", true }, { "a b", true }, { "x-y_z", true },
        { "", false }, { ".A", false }, { "A.", false }, { "A..B", false }, { ".", false },
        { "..", false }, { "a/b", false }, { "../x", false }, { "a\nb", false },
        { "a\tb", false }, { "a\x7f", false }, { "INBOX.x", false }, { "inbox.Sent", false },
    };
    char longname[202];

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++)
        if (store_name_ok(cases[i].name) != cases[i].ok)
            report("store_name_ok(\"%s\"): got %d, want %d", showz(cases[i].name),
                   !cases[i].ok, cases[i].ok);
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    if (store_name_ok(longname) || !store_name_ok(longname + 1))
        report("store_name_ok: got the 200-octet limit wrong");
    if (strcmp(store_special_use("Sent"), "\\Sent") != 0
        || strcmp(store_special_use("Archive"), "\\Archive") != 0
        || store_special_use("sent") != NULL || store_special_use("INBOX") != NULL)
        report("store_special_use: got wrong attributes");
    assert_int_equal(failures, 0);
}

/* ---- a temporary Maildir ------------------------------------------------- */

struct fixture {
    char root[64];
};

/* put - write text to root/rel with mtime t (0: now) */
static void
put(const struct fixture *fx, const char *rel, const char *text, time_t t)
{
    char *path = xasprintf("%s/%s", fx->root, rel);
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    if (t != 0) {
        struct timespec ts[2] = { { t, 0 }, { t, 0 } };

        assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
    }
    free(path);
}

/* exists - whether root/rel exists */
static bool
exists(const struct fixture *fx, const char *rel)
{
    struct stat st;
    char *path = xasprintf("%s/%s", fx->root, rel);
    bool ok = lstat(path, &st) == 0;

    free(path);
    return ok;
}

/* mv - rename root/a to root/b */
static void
mv(const struct fixture *fx, const char *a, const char *b)
{
    char *x = xasprintf("%s/%s", fx->root, a), *y = xasprintf("%s/%s", fx->root, b);

    assert_int_equal(rename(x, y), 0);
    free(x);
    free(y);
}

/* rm - unlink root/rel */
static void
rm(const struct fixture *fx, const char *rel)
{
    char *x = xasprintf("%s/%s", fx->root, rel);

    assert_int_equal(unlink(x), 0);
    free(x);
}

/* age - set the mtime of root/rel to secs ago */
static void
age(const struct fixture *fx, const char *rel, time_t secs)
{
    char *x = xasprintf("%s/%s", fx->root, rel);
    struct timespec ts[2] = { { time(NULL) - secs, 0 }, { time(NULL) - secs, 0 } };

    assert_int_equal(utimensat(AT_FDCWD, x, ts, 0), 0);
    free(x);
}

/* mkdirs - root/rel with cur/ new/ tmp/ (rel "" for the root) */
static void
mkdirs(const struct fixture *fx, const char *rel)
{
    static const char *subs[] = { "cur", "new", "tmp" };

    for (size_t i = 0; i < 3; i++) {
        char *p = xasprintf("%s/%s%s%s", fx->root, rel, *rel ? "/" : "", subs[i]);

        assert_int_equal(mkdir(p, 0700), 0);
        free(p);
    }
}

/* setup - an INBOX with three messages in new/ and cur/ */
static int
setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));

    snprintf(fx->root, sizeof(fx->root), "/tmp/test_imap_store.XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    mkdirs(fx, "");
    put(fx, "new/1700000300.M1P1Q1.host,S=20", "Subject: c\n\nthird\n", 1700000300);
    put(fx, "cur/1700000100.M1P1Q1.host:2,S", "Subject: a\r\n\r\nfirst\r\n", 1700000100);
    put(fx, "new/1700000200.M1P1Q1.host", "Subject: b\n\nsecond\n", 1700000200);
    put(fx, "new/.hidden", "not a message\n", 0);
    *state = fx;
    return 0;
}

/* teardown - remove the Maildir */
static int
teardown(void **state)
{
    struct fixture *fx = *state;
    char *cmd = xasprintf("rm -rf '%s'", fx->root);

    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(fx);
    store_test_hook = NULL;
    return 0;
}

/* The messages setup() makes, in delivery (so UID) order. */
static const struct {
    const char *name;       /* in cur/ after a read-write open */
    const char *body;
    unsigned    flags;
    time_t      date;
} want_inbox[] = {
    { "cur/1700000100.M1P1Q1.host:2,S", "Subject: a\r\n\r\nfirst\r\n", STORE_FLAG_SEEN,
      1700000100 },
    { "cur/1700000200.M1P1Q1.host:2,", "Subject: b\n\nsecond\n", 0, 1700000200 },
    { "cur/1700000300.M1P1Q1.host,S=20:2,", "Subject: c\n\nthird\n", 0, 1700000300 },
};

/* check_inbox - f holds want_inbox with uids 1..3 */
static void
check_inbox(struct store_folder *f, const char *when)
{
    if (f->count != NELEM(want_inbox)) {
        report("%s: got %zu messages, want %zu", when, f->count, NELEM(want_inbox));
        return;
    }
    for (size_t i = 0; i < f->count; i++) {
        const struct store_msg *m = &f->msgs[i];
        uint64_t size = store_crlf_size(want_inbox[i].body, strlen(want_inbox[i].body));
        char *data = NULL;
        size_t len = 0;

        if (m->uid != i + 1 || strcmp(m->name, want_inbox[i].name) != 0
            || m->flags != want_inbox[i].flags || m->size != size
            || m->internaldate != want_inbox[i].date)
            report("%s: msg %zu: got uid %u %s flags %u size %llu date %lld, want uid %zu %s "
                   "flags %u size %llu date %lld", when, i, m->uid, m->name, m->flags,
                   (unsigned long long)m->size, (long long)m->internaldate, i + 1,
                   want_inbox[i].name, want_inbox[i].flags, (unsigned long long)size,
                   (long long)want_inbox[i].date);
        if (store_read(f, i, &data, &len) != 0 || strcmp(data, want_inbox[i].body) != 0)
            report("%s: store_read(%zu): got \"%s\"", when, i, data ? show(data, len) : "-");
        free(data);
    }
    if (f->unseen != 2 || f->deleted != 0 || f->uidnext != 4)
        report("%s: got unseen %zu deleted %zu uidnext %u, want 2 0 4", when, f->unseen,
               f->deleted, f->uidnext);
}

/* test_open - UIDs in delivery order, new/ -> cur/, stable across opens */
static void
test_open(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *f;
    uint32_t validity;

    failures = 0;
    /* read-only first: UIDs, but new/ stays */
    f = store_open(fx->root, "INBOX", true, err, sizeof(err));
    assert_non_null(f);
    if (f->count != 3 || strcmp(f->msgs[1].name, "new/1700000200.M1P1Q1.host") != 0)
        report("read-only open: got %zu messages, msg 2 %s, want it in new/", f->count,
               f->count > 1 ? f->msgs[1].name : "-");
    validity = f->uidvalidity;
    if (validity == 0)
        report("read-only open: got UIDVALIDITY 0");
    errno = 0;
    if (store_set_flags(f, 0, STORE_FLAG_FLAGGED, err, sizeof(err)) != -1 || errno != EROFS)
        report("store_set_flags read-only: got errno %d, want EROFS", errno);
    store_close(f);

    f = store_open(fx->root, "inbox", false, err, sizeof(err));
    assert_non_null(f);
    check_inbox(f, "first open");
    if (f->uidvalidity != validity)
        report("read-write open: got UIDVALIDITY %u, want %u", f->uidvalidity, validity);
    store_close(f);
    if (exists(fx, "new/1700000200.M1P1Q1.host") || !exists(fx, "new/.hidden"))
        report("new/: got messages left or the dot file moved");

    /* a later delivery gets the next uid; the others keep theirs */
    put(fx, "new/1600000000.M9P9Q9.host", "old date, late arrival\n", 0);
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    if (f->count != 4 || f->msgs[3].uid != 4 || f->uidvalidity != validity
        || strcmp(f->msgs[3].name, "cur/1600000000.M9P9Q9.host:2,") != 0)
        report("second open: got %zu messages, last uid %u %s",
               f->count, f->count ? f->msgs[f->count - 1].uid : 0,
               f->count ? f->msgs[f->count - 1].name : "-");
    store_close(f);

    /* a name with ",W=" (our delivery, Dovecot) gives the size unread;
     * without one the file is read and its bare LFs counted */
    put(fx, "new/1800000000.M1P1Q1.host,S=4,W=999", "ab\n\n", 0);
    put(fx, "new/1800000001.M1P1Q2.host,S=4", "ab\n\n", 0);
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    if (f->count != 6 || f->msgs[4].size != 999 || f->msgs[5].size != 6)
        report("sizes: got %zu messages, W= size %llu (want 999), read size %llu (want 6)",
               f->count, f->count > 4 ? (unsigned long long)f->msgs[4].size : 0ULL,
               f->count > 5 ? (unsigned long long)f->msgs[5].size : 0ULL);
    store_close(f);

    errno = 0;
    if (store_open(fx->root, "Nope", false, err, sizeof(err)) != NULL || errno != ENOENT)
        report("open of a missing folder: got errno %d, want ENOENT", errno);
    if (store_open(fx->root, "../x", false, err, sizeof(err)) != NULL || errno != EINVAL)
        report("open of ../x: got errno %d, want EINVAL", errno);
    assert_int_equal(failures, 0);
}

/* test_flags - flags round trip to file names; other letters kept */
static void
test_flags(void **state)
{
    struct fixture *fx = *state;
    static const struct {
        const char *start;  /* file in cur/ */
        unsigned    flags;
        const char *want;   /* file in cur/ afterwards */
    } cases[] = {
        { "1.M1P1Q1.h:2,", STORE_FLAG_SEEN, "1.M1P1Q1.h:2,S" },
        { "2.M1P1Q1.h:2,S", STORE_FLAG_SEEN | STORE_FLAG_FLAGGED, "2.M1P1Q1.h:2,FS" },
        { "3.M1P1Q1.h:2,FS", 0, "3.M1P1Q1.h:2," },
        { "4.M1P1Q1.h:2,Sab", STORE_FLAG_DELETED | STORE_FLAG_ANSWERED, "4.M1P1Q1.h:2,RTab" },
        { "5.M1P1Q1.h:2,Pac", STORE_FLAGS_ALL, "5.M1P1Q1.h:2,DFPRSTac" },
        { "6.M1P1Q1.h:2,DT", STORE_FLAG_DRAFT, "6.M1P1Q1.h:2,D" },
        { "7.M1P1Q1.h", STORE_FLAG_SEEN, "7.M1P1Q1.h:2,S" },
        { "8.M1P1Q1.h:1,xyz", STORE_FLAG_SEEN, "8.M1P1Q1.h:2,S" },
        { "9.M1P1Q1.h:2,a", 0, "9.M1P1Q1.h:2,a" },
    };
    char err[256] = "", path[256];
    struct store_folder *f;

    failures = 0;
    rm(fx, "new/1700000300.M1P1Q1.host,S=20");
    rm(fx, "new/1700000200.M1P1Q1.host");
    rm(fx, "cur/1700000100.M1P1Q1.host:2,S");
    for (size_t i = 0; i < NELEM(cases); i++) {
        snprintf(path, sizeof(path), "cur/%s", cases[i].start);
        put(fx, path, "x\n", 0);
    }
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    assert_int_equal(f->count, NELEM(cases));
    for (size_t i = 0; i < NELEM(cases); i++) {
        if (store_set_flags(f, i, cases[i].flags, err, sizeof(err)) != 0) {
            report("store_set_flags(%s): got -1 (%s)", cases[i].start, err);
            continue;
        }
        snprintf(path, sizeof(path), "cur/%s", cases[i].want);
        if (!exists(fx, path) || strcmp(f->msgs[i].name, path) != 0
            || f->msgs[i].flags != cases[i].flags)
            report("store_set_flags(%s, %u): got %s flags %u, want %s", cases[i].start,
                   cases[i].flags, f->msgs[i].name, f->msgs[i].flags, path);
    }
    store_close(f);

    /* parsed back the same by a new open */
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    for (size_t i = 0; i < f->count && i < NELEM(cases); i++)
        if (f->msgs[i].flags != cases[i].flags)
            report("reopen: msg %zu: got flags %u, want %u", i, f->msgs[i].flags,
                   cases[i].flags);
    /* renamed behind our back (mutt): found again, its letters kept */
    mv(fx, "cur/1.M1P1Q1.h:2,S", "cur/1.M1P1Q1.h:2,Sz");
    {
        char *data = NULL;
        size_t len = 0;

        if (store_read(f, 0, &data, &len) != 0 || strcmp(data, "x\n") != 0
            || strcmp(f->msgs[0].name, "cur/1.M1P1Q1.h:2,Sz") != 0
            || f->msgs[0].flags != STORE_FLAG_SEEN)
            report("read after a foreign rename: got %s, name %s flags %u",
                   data ? "data" : "nothing", f->msgs[0].name, f->msgs[0].flags);
        free(data);
    }
    if (store_set_flags(f, 0, STORE_FLAG_FLAGGED, err, sizeof(err)) != 0
        || !exists(fx, "cur/1.M1P1Q1.h:2,Fz"))
        report("set_flags after a foreign rename: got %s, want cur/1.M1P1Q1.h:2,Fz",
               f->msgs[0].name);
    /* deleted behind our back: ENOENT */
    rm(fx, "cur/2.M1P1Q1.h:2,FS");
    errno = 0;
    if (store_set_flags(f, 1, 0, err, sizeof(err)) != -1 || errno != ENOENT)
        report("set_flags of a gone file: got errno %d, want ENOENT", errno);
    store_close(f);
    assert_int_equal(failures, 0);
}

/* changes_str - "x1,2 n3 f4" of a store_changes, in a static buffer */
static const char *
changes_str(const struct store_folder *f, const struct store_changes *ch)
{
    static char s[512];
    size_t k = 0;

    k += (size_t)snprintf(s + k, sizeof(s) - k, "x");
    for (size_t i = 0; i < ch->nexpunged; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%s%u", i ? "," : "", ch->expunged[i]);
    k += (size_t)snprintf(s + k, sizeof(s) - k, " n");
    for (size_t i = 0; i < ch->nnew; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%s%u", i ? "," : "",
                              f->msgs[ch->first_new + i].uid);
    k += (size_t)snprintf(s + k, sizeof(s) - k, " f");
    for (size_t i = 0; i < ch->nflagged; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%s%u", i ? "," : "", ch->flagged[i]);
    return s;
}

/* sync_want - store_sync f and compare the changes with want */
static void
sync_want(struct store_folder *f, const char *want, const char *when)
{
    struct store_changes ch;
    char err[256] = "";

    if (store_sync(f, &ch, err, sizeof(err)) != 0) {
        report("%s: store_sync: got -1 (%s)", when, err);
        return;
    }
    if (strcmp(changes_str(f, &ch), want) != 0)
        report("%s: store_sync: got \"%s\", want \"%s\"", when, changes_str(f, &ch), want);
    store_changes_free(&ch);
}

/* test_sync - a session sees another's appends, flags and expunges, and
 * deliveries */
static void
test_sync(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *a, *b;
    uint32_t validity, uid, *gone = NULL;
    size_t ngone = 0;

    failures = 0;
    a = store_open(fx->root, "INBOX", false, err, sizeof(err));
    b = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(a);
    assert_non_null(b);
    sync_want(a, "x n f", "nothing done");

    assert_int_equal(store_append(fx->root, "INBOX", S("appended\r\n"), STORE_FLAG_SEEN, 0,
                                  &validity, &uid, err, sizeof(err)), 0);
    if (uid != 4 || validity != a->uidvalidity)
        report("append: got uid %u validity %u, want 4 %u", uid, validity, a->uidvalidity);
    put(fx, "new/1800000000.M1P1Q1.host", "delivered\n", 0);
    sync_want(a, "x n4,5 f", "append + delivery");
    if (a->count != 5 || a->msgs[3].flags != STORE_FLAG_SEEN || a->msgs[3].size != 10)
        report("after sync: got %zu messages, msg 4 flags %u size %llu", a->count,
               a->count > 3 ? a->msgs[3].flags : 0,
               a->count > 3 ? (unsigned long long)a->msgs[3].size : 0);

    /* b changes flags, expunges one */
    sync_want(b, "x n4,5 f", "b catches up");
    assert_int_equal(store_set_flags(b, 1, STORE_FLAG_DELETED, err, sizeof(err)), 0);
    assert_int_equal(store_set_flags(b, 2, STORE_FLAG_FLAGGED, err, sizeof(err)), 0);
    assert_int_equal(store_expunge(b, NULL, 0, &gone, &ngone, err, sizeof(err)), 0);
    if (ngone != 1 || gone[0] != 2)
        report("expunge: got %zu uids (first %u), want uid 2", ngone, ngone ? gone[0] : 0);
    free(gone);
    sync_want(b, "x n f", "b after its own changes");
    sync_want(a, "x2 n f3", "a sees b's changes");
    if (a->count != 4 || a->msgs[1].uid != 3 || a->msgs[1].flags != STORE_FLAG_FLAGGED)
        report("a after sync: got %zu messages, msg 2 uid %u flags %u", a->count,
               a->msgs[1].uid, a->msgs[1].flags);

    /* POP3 deletes one, mutt flags one: a and b see both */
    rm(fx, "cur/1700000100.M1P1Q1.host:2,S");
    mv(fx, "cur/1800000000.M1P1Q1.host:2,", "cur/1800000000.M1P1Q1.host:2,R");
    sync_want(a, "x1 n f5", "foreign changes, a");
    sync_want(b, "x1 n f5", "foreign changes, b");
    store_close(a);
    store_close(b);
    assert_int_equal(failures, 0);
}

static int scans;

/* count_scan - store_test_hook counting scans */
static void
count_scan(const char *path)
{
    (void)path;
    scans++;
}

/* test_sync_cheap - no scan when neither new/ nor cur/ changed */
static void
test_sync_cheap(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *f;

    failures = 0;
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    store_close(f);
    age(fx, "new", 100);
    age(fx, "cur", 100);
    store_test_hook = count_scan;
    scans = 0;
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    if (scans != 1)
        report("open of a known folder: got %d scans, want 1", scans);
    scans = 0;
    sync_want(f, "x n f", "idle");
    sync_want(f, "x n f", "idle again");
    if (scans != 0)
        report("sync with nothing changed: got %d scans, want 0", scans);
    mv(fx, "cur/1700000200.M1P1Q1.host:2,", "cur/1700000200.M1P1Q1.host:2,T");
    sync_want(f, "x n f2", "a rename in cur/");
    if (scans == 0)
        report("sync after a rename: got no scan");
    store_close(f);
    assert_int_equal(failures, 0);
}

/* test_expunge - \Deleted only; UID EXPUNGE; undeleted meanwhile */
static void
test_expunge(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *f;
    uint32_t *gone = NULL, only[] = { 3, 1 };
    size_t n = 0;

    failures = 0;
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    for (size_t i = 0; i < f->count; i++)
        assert_int_equal(store_set_flags(f, i, STORE_FLAG_DELETED, err, sizeof(err)), 0);
    /* UID EXPUNGE 1,3: message 2 stays although \Deleted */
    mv(fx, "cur/1700000100.M1P1Q1.host:2,T", "cur/1700000100.M1P1Q1.host:2,");  /* undeleted */
    assert_int_equal(store_expunge(f, only, NELEM(only), &gone, &n, err, sizeof(err)), 0);
    if (n != 1 || gone[0] != 3 || f->count != 2)
        report("UID EXPUNGE 1,3: got %zu gone (first %u), %zu left; want 3 gone, 2 left", n,
               n ? gone[0] : 0, f->count);
    free(gone);
    if (!exists(fx, "cur/1700000100.M1P1Q1.host:2,")
        || !exists(fx, "cur/1700000200.M1P1Q1.host:2,T")
        || exists(fx, "cur/1700000300.M1P1Q1.host,S=20:2,T"))
        report("UID EXPUNGE 1,3: got the wrong files left");
    assert_int_equal(store_expunge(f, NULL, 0, &gone, &n, err, sizeof(err)), 0);
    if (n != 1 || gone[0] != 2)
        report("EXPUNGE: got %zu gone, want uid 2", n);
    free(gone);
    store_close(f);
    /* the uidlist forgot them: a new open takes the fast path */
    f = store_open(fx->root, "INBOX", true, err, sizeof(err));
    assert_non_null(f);
    if (f->count != 1 || f->msgs[0].uid != 1 || f->uidnext != 4)
        report("reopen: got %zu messages, uidnext %u", f->count, f->uidnext);
    store_close(f);
    assert_int_equal(failures, 0);
}

/* test_copy_move_append - UIDs in the destination, flags, dates, bytes */
static void
test_copy_move_append(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *in, *sent;
    uint32_t validity = 0, uid = 0, *uids = NULL, *gone = NULL;
    size_t idx[] = { 0, 2 }, ngone = 0;

    failures = 0;
    assert_int_equal(store_create(fx->root, "Sent", err, sizeof(err)), 0);
    errno = 0;
    if (store_append(fx->root, "Nope", S("x\n"), 0, 0, &validity, &uid, err, sizeof(err)) != -1
        || errno != ENOENT)
        report("append to a missing folder: got errno %d, want ENOENT", errno);
    assert_int_equal(store_append(fx->root, "Sent", S("Subject: s\n\nsent\n"),
                                  STORE_FLAG_SEEN | STORE_FLAG_DRAFT, 1234567890, &validity,
                                  &uid, err, sizeof(err)), 0);
    if (uid != 1 || validity == 0)
        report("append: got uid %u validity %u, want 1", uid, validity);

    in = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(in);
    uint32_t v2 = 0;
    assert_int_equal(store_copy(in, idx, 2, fx->root, "Sent", &v2, &uids, err, sizeof(err)), 0);
    if (v2 != validity || uids[0] != 2 || uids[1] != 3)
        report("copy: got validity %u uids %u,%u, want %u 2,3", v2, uids[0], uids[1], validity);
    free(uids);
    errno = 0;
    if (store_copy(in, idx, 2, fx->root, "Nope", &v2, &uids, err, sizeof(err)) != -1
        || errno != ENOENT || uids != NULL)
        report("copy to a missing folder: got errno %d, want ENOENT", errno);

    sent = store_open(fx->root, "Sent", false, err, sizeof(err));
    assert_non_null(sent);
    if (sent->count != 3) {
        report("Sent: got %zu messages, want 3", sent->count);
    } else {
        static const struct {
            unsigned    flags;
            time_t      date;
            const char *body;
        } want[] = {
            { STORE_FLAG_SEEN | STORE_FLAG_DRAFT, 1234567890, "Subject: s\n\nsent\n" },
            { STORE_FLAG_SEEN, 1700000100, "Subject: a\r\n\r\nfirst\r\n" },
            { 0, 1700000300, "Subject: c\n\nthird\n" },
        };

        for (size_t i = 0; i < 3; i++) {
            char *data = NULL;
            size_t len = 0;

            if (sent->msgs[i].uid != i + 1 || sent->msgs[i].flags != want[i].flags
                || sent->msgs[i].internaldate != want[i].date
                || sent->msgs[i].size != store_crlf_size(want[i].body, strlen(want[i].body)))
                report("Sent msg %zu: got uid %u flags %u date %lld size %llu", i,
                       sent->msgs[i].uid, sent->msgs[i].flags,
                       (long long)sent->msgs[i].internaldate,
                       (unsigned long long)sent->msgs[i].size);
            if (store_read(sent, i, &data, &len) != 0 || strcmp(data, want[i].body) != 0)
                report("Sent msg %zu: got \"%s\"", i, data ? show(data, len) : "-");
            free(data);
        }
        if (strncmp(sent->msgs[0].name, "cur/", 4) != 0
            || strcmp(strchr(sent->msgs[0].name, ':'), ":2,DS") != 0)
            report("appended file: got %s, want cur/...:2,DS", sent->msgs[0].name);
    }

    /* move: new UIDs in Sent, gone from INBOX */
    {
        size_t one[] = { 1 };

        assert_int_equal(store_move(in, one, 1, fx->root, "Sent", &v2, &uids, &gone, &ngone,
                                    err, sizeof(err)), 0);
        if (uids[0] != 4 || ngone != 1 || gone[0] != 2 || in->count != 2
            || exists(fx, "cur/1700000200.M1P1Q1.host:2,"))
            report("move: got uid %u, %zu gone (%u), %zu left", uids[0], ngone,
                   ngone ? gone[0] : 0, in->count);
        free(uids);
        free(gone);
    }
    sync_want(sent, "x n4 f", "Sent sees the move");
    if (sent->count == 4) {
        char *data = NULL;
        size_t len = 0;

        if (store_read(sent, 3, &data, &len) != 0 || strcmp(data, "Subject: b\n\nsecond\n") != 0
            || sent->msgs[3].internaldate != 1700000200)
            report("moved message: got \"%s\" date %lld", data ? show(data, len) : "-",
                   (long long)sent->msgs[3].internaldate);
        free(data);
    }
    /* move within the same folder, and duplicate indexes refused */
    {
        size_t two[] = { 0, 0 };

        errno = 0;
        if (store_move(in, two, 2, fx->root, "INBOX", &v2, &uids, &gone, &ngone, err,
                       sizeof(err)) != -1 || errno != EINVAL)
            report("move with a repeated index: got errno %d, want EINVAL", errno);
        assert_int_equal(store_move(in, two, 1, fx->root, "INBOX", &v2, &uids, &gone, &ngone,
                                    err, sizeof(err)), 0);
        if (uids[0] != 4 || ngone != 1 || gone[0] != 1 || in->count != 1)
            report("move into the same folder: got uid %u, gone %u", uids[0],
                   ngone ? gone[0] : 0);
        free(uids);
        free(gone);
        sync_want(in, "x n4 f", "INBOX sees its own move");
    }
    /* a copy whose source vanished: nothing copied, ESTALE */
    rm(fx, "cur/1700000300.M1P1Q1.host,S=20:2,");
    {
        size_t first[] = { 1, 0 };

        errno = 0;
        if (store_copy(in, first, 2, fx->root, "Sent", &v2, &uids, err, sizeof(err)) != -1
            || errno != ESTALE)
            report("copy of a vanished message: got errno %d, want ESTALE", errno);
        sync_want(sent, "x n f", "Sent after a failed copy");
    }
    store_close(sent);
    store_close(in);
    assert_int_equal(failures, 0);
}

/* test_cross_device - copy and move into another file system (tmpfs in
 * /dev/shm, when it is one): bytes copied, INTERNALDATE kept */
static void
test_cross_device(void **state)
{
    struct fixture *fx = *state;
    char other[64] = "/dev/shm/test_imap_store.XXXXXX", err[256] = "";
    struct stat a, b;
    struct store_folder *in, *out;
    uint32_t validity, *uids = NULL, *gone = NULL;
    size_t idx[] = { 0, 1 }, ngone = 0;

    failures = 0;
    if (mkdtemp(other) == NULL || stat(fx->root, &a) != 0 || stat(other, &b) != 0
        || a.st_dev == b.st_dev) {
        rmdir(other);
        skip();
    }
    in = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(in);
    if (store_copy(in, idx, 1, other, "INBOX", &validity, &uids, err, sizeof(err)) != 0
        || uids[0] != 1)
        report("copy across devices: got %s", err);
    free(uids);
    if (store_move(in, idx + 1, 1, other, "INBOX", &validity, &uids, &gone, &ngone, err,
                   sizeof(err)) != 0 || uids[0] != 2 || ngone != 1 || gone[0] != 2
        || exists(fx, "cur/1700000200.M1P1Q1.host:2,"))
        report("move across devices: got %s", err);
    free(uids);
    free(gone);
    out = store_open(other, "INBOX", true, err, sizeof(err));
    assert_non_null(out);
    for (size_t i = 0; i < 2 && i < out->count; i++) {
        char *data = NULL;
        size_t len = 0;

        if (out->msgs[i].internaldate != want_inbox[i].date || store_read(out, i, &data, &len)
            || strcmp(data, want_inbox[i].body) != 0 || out->msgs[i].flags != want_inbox[i].flags)
            report("across devices, msg %zu: got date %lld flags %u", i,
                   (long long)out->msgs[i].internaldate, out->msgs[i].flags);
        free(data);
    }
    if (out->count != 2)
        report("across devices: got %zu messages, want 2", out->count);
    store_close(out);
    store_close(in);
    {
        char *cmd = xasprintf("rm -rf '%s'", other);

        assert_int_equal(system(cmd), 0);
        free(cmd);
    }
    assert_int_equal(failures, 0);
}

/* list_str - "INBOX Sent* A- A.B" of store_folders: * has children,
 * - nonexistent */
static const char *
list_str(const char *root)
{
    static char s[1024];
    struct store_list l;
    size_t k = 0;

    s[0] = '\0';
    if (store_folders(root, &l, NULL, 0) < 0)
        return "error";
    for (size_t i = 0; i < l.n; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%s%s%s%s", i ? " " : "", l.v[i].name,
                              l.v[i].has_children ? "*" : "", l.v[i].nonexistent ? "-" : "");
    store_list_free(&l);
    return s;
}

/* test_folders - create, list, rename and delete, with children */
static void
test_folders(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    const char *got;
    struct store_folder *f;
    uint32_t v1;

    failures = 0;
    assert_int_equal(store_create(fx->root, "A", err, sizeof(err)), 0);
    assert_int_equal(store_create(fx->root, "A.B", err, sizeof(err)), 0);
    assert_int_equal(store_create(fx->root, "X.Y.Z", err, sizeof(err)), 0);
    assert_int_equal(store_create(fx->root, "A-1", err, sizeof(err)), 0);
    if (!exists(fx, ".A.B/maildirfolder") || !exists(fx, ".A.B/cur") || !exists(fx, ".A.B/tmp"))
        report("create: got an incomplete folder");
    errno = 0;
    if (store_create(fx->root, "A", err, sizeof(err)) != -1 || errno != EEXIST)
        report("create twice: got errno %d, want EEXIST", errno);
    if (store_create(fx->root, "INBOX", err, sizeof(err)) != -1 || errno != EEXIST)
        report("create INBOX: got errno %d, want EEXIST", errno);
    if (store_create(fx->root, "a/b", err, sizeof(err)) != -1 || errno != EINVAL)
        report("create a/b: got errno %d, want EINVAL", errno);
    if (strcmp(got = list_str(fx->root), "INBOX A* A-1 A.B X*- X.Y*- X.Y.Z") != 0)
        report("list: got \"%s\"", got);

    /* rename with children keeps UIDVALIDITY */
    f = store_open(fx->root, "A.B", false, err, sizeof(err));
    assert_non_null(f);
    v1 = f->uidvalidity;
    store_close(f);
    assert_int_equal(store_rename(fx->root, "A", "C", err, sizeof(err)), 0);
    if (strcmp(got = list_str(fx->root), "INBOX A-1 C* C.B X*- X.Y*- X.Y.Z") != 0)
        report("list after rename: got \"%s\"", got);
    f = store_open(fx->root, "C.B", false, err, sizeof(err));
    if (f == NULL || f->uidvalidity != v1)
        report("renamed child: got validity %u, want %u", f ? f->uidvalidity : 0, v1);
    store_close(f);
    errno = 0;
    if (store_rename(fx->root, "C", "A-1", err, sizeof(err)) != -1 || errno != EEXIST)
        report("rename onto an existing folder: got errno %d, want EEXIST", errno);
    if (store_rename(fx->root, "C", "C.B.D", err, sizeof(err)) != -1 || errno != EINVAL)
        report("rename under itself: got errno %d, want EINVAL", errno);
    if (store_rename(fx->root, "Nope", "Q", err, sizeof(err)) != -1 || errno != ENOENT)
        report("rename of a missing folder: got errno %d, want ENOENT", errno);
    /* a child in the way: nothing renamed */
    assert_int_equal(store_create(fx->root, "D.B", err, sizeof(err)), 0);
    if (store_rename(fx->root, "C", "D", err, sizeof(err)) != -1 || errno != EEXIST
        || !exists(fx, ".C") || exists(fx, ".D/cur"))
        report("rename with an inferior in the way: got errno %d", errno);

    /* delete with children: the children stay, the name is implied */
    assert_int_equal(store_delete(fx->root, "C", err, sizeof(err)), 0);
    if (strcmp(got = list_str(fx->root), "INBOX A-1 C*- C.B D*- D.B X*- X.Y*- X.Y.Z") != 0)
        report("list after delete: got \"%s\"", got);
    errno = 0;
    if (store_delete(fx->root, "INBOX", err, sizeof(err)) != -1 || errno != EPERM)
        report("delete INBOX: got errno %d, want EPERM", errno);
    if (store_delete(fx->root, "C", err, sizeof(err)) != -1 || errno != ENOENT)
        report("delete twice: got errno %d, want ENOENT", errno);
    /* created again: a new UIDVALIDITY, within the same second too */
    f = store_open(fx->root, "A-1", false, err, sizeof(err));
    assert_non_null(f);
    v1 = f->uidvalidity;
    store_close(f);
    assert_int_equal(store_delete(fx->root, "A-1", err, sizeof(err)), 0);
    assert_int_equal(store_create(fx->root, "A-1", err, sizeof(err)), 0);
    f = store_open(fx->root, "A-1", false, err, sizeof(err));
    assert_non_null(f);
    if (f->uidvalidity <= v1)
        report("re-created folder: got UIDVALIDITY %u, want above %u", f->uidvalidity, v1);
    store_close(f);

    /* rename INBOX: its messages move, INBOX stays, empty */
    assert_int_equal(store_rename(fx->root, "INBOX", "Old", err, sizeof(err)), 0);
    f = store_open(fx->root, "Old", false, err, sizeof(err));
    if (f == NULL || f->count != 3)
        report("rename INBOX: got %zu messages in Old, want 3", f ? f->count : 0);
    store_close(f);
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    if (f == NULL || f->count != 0)
        report("rename INBOX: got %zu messages left in INBOX, want 0", f ? f->count : 0);
    store_close(f);

    /* special-use folders at first login, subscribed */
    assert_int_equal(store_ensure_special(fx->root, err, sizeof(err)), 0);
    assert_int_equal(store_ensure_special(fx->root, err, sizeof(err)), 0);
    {
        struct store_list l;
        char **names = NULL;
        size_t n = 0, specials = 0;

        assert_int_equal(store_folders(fx->root, &l, NULL, 0), 0);
        for (size_t i = 0; i < l.n; i++)
            specials += l.v[i].special != NULL;
        store_list_free(&l);
        assert_int_equal(store_subscriptions(fx->root, &names, &n), 0);
        if (specials != 5 || n != 5)
            report("ensure_special: got %zu special folders, %zu subscribed; want 5, 5",
                   specials, n);
        store_names_free(names, n);
    }
    assert_int_equal(failures, 0);
}

/* subs_str - the subscriptions of root joined by spaces */
static const char *
subs_str(const char *root)
{
    static char s[512];
    char **names = NULL;
    size_t n = 0, k = 0;

    s[0] = '\0';
    if (store_subscriptions(root, &names, &n) < 0)
        return "error";
    for (size_t i = 0; i < n; i++)
        k += (size_t)snprintf(s + k, sizeof(s) - k, "%s%s", i ? " " : "", names[i]);
    store_names_free(names, n);
    return s;
}

/* test_subscriptions - add, remove, idempotent, Dovecot's v2 file */
static void
test_subscriptions(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    const char *got;
    static const char *const steps[][3] = {
        /* name, "+" or "-", wanted list after */
        { "A", "+", "A" },
        { "B.C", "+", "A B.C" },
        { "A", "+", "A B.C" },
        { "Nope", "-", "A B.C" },
        { "A", "-", "B.C" },
        { "INBOX", "+", "B.C INBOX" },
    };

    failures = 0;
    if (strcmp(got = subs_str(fx->root), "") != 0)
        report("no file: got \"%s\"", got);
    for (size_t i = 0; i < NELEM(steps); i++) {
        if (store_subscribe(fx->root, steps[i][0], steps[i][1][0] == '+', err, sizeof(err)) != 0)
            report("subscribe %s %s: got -1 (%s)", steps[i][1], steps[i][0], err);
        else if (strcmp(got = subs_str(fx->root), steps[i][2]) != 0)
            report("subscribe %s %s: got \"%s\", want \"%s\"", steps[i][1], steps[i][0], got,
                   steps[i][2]);
    }
    errno = 0;
    if (store_subscribe(fx->root, "a/b", true, err, sizeof(err)) != -1 || errno != EINVAL)
        report("subscribe a/b: got errno %d, want EINVAL", errno);
    put(fx, "subscriptions", "V\t2\n\nSent\nX\tY\n", 0);
    if (strcmp(got = subs_str(fx->root), "Sent X.Y") != 0)
        report("Dovecot v2 file: got \"%s\", want \"Sent X.Y\"", got);
    assert_int_equal(failures, 0);
}

/* test_uidlist_lost - a new UIDVALIDITY, and open sessions told so */
static void
test_uidlist_lost(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *f, *g;
    struct store_changes ch;

    failures = 0;
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    rm(fx, "postino-uidlist");
    g = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(g);
    if (g->uidvalidity == f->uidvalidity || g->count != 3 || g->msgs[0].uid != 1
        || g->uidnext != 4)
        report("after loss: got validity %u (was %u), %zu messages, uidnext %u",
               g->uidvalidity, f->uidvalidity, g->count, g->uidnext);
    errno = 0;
    if (store_sync(f, &ch, err, sizeof(err)) != -1 || errno != ESTALE)
        report("sync of a session from before: got errno %d, want ESTALE", errno);
    /* a garbled list is lost too */
    put(fx, "postino-uidlist", "garbage\n", 0);
    store_close(f);
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    if (f->uidvalidity <= g->uidvalidity || f->count != 3)
        report("after garbage: got validity %u (was %u)", f->uidvalidity, g->uidvalidity);
    store_close(f);
    store_close(g);
    assert_int_equal(failures, 0);
}

static const struct fixture *vanish_fx;
static int vanish_calls;

/* vanish - store_test_hook deleting a message at the locked rescan, after
 * readdir() listed it and before it is measured */
static void
vanish(const char *path)
{
    (void)path;
    if (++vanish_calls == 2)
        rm(vanish_fx, "cur/1700000200.M1P1Q1.host:2,");
}

/* test_vanish - a message removed between readdir and stat is not there */
static void
test_vanish(void **state)
{
    struct fixture *fx = *state;
    char err[256] = "";
    struct store_folder *f;

    failures = 0;
    vanish_fx = fx;
    vanish_calls = 0;
    store_test_hook = vanish;
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    store_test_hook = NULL;
    if (f == NULL) {
        report("open: got NULL (%s)", err);
    } else {
        if (vanish_calls < 2 || f->count != 2 || f->msgs[0].uid != 1 || f->msgs[1].uid != 2
            || strcmp(f->msgs[1].name, "cur/1700000300.M1P1Q1.host,S=20:2,") != 0)
            report("open: got %d scans, %zu messages", vanish_calls, f->count);
        store_close(f);
    }
    f = store_open(fx->root, "INBOX", true, err, sizeof(err));
    assert_non_null(f);
    if (f->count != 2 || f->uidnext != 3)
        report("reopen: got %zu messages, uidnext %u, want 2, 3", f->count, f->uidnext);
    store_close(f);
    assert_int_equal(failures, 0);
}

/* ---- two threads numbering at once ---------------------------------------- */

#define PER_THREAD 25

struct worker {
    const struct fixture *fx;
    int                   id;
    uint32_t              uids[PER_THREAD];
    int                   failed;
};

/* work - append PER_THREAD messages, deliver as many into new/ and open
 * the folder after each, so both numbering paths race */
static void *
work(void *arg)
{
    struct worker *w = arg;
    char err[256], body[64], rel[128];

    for (int i = 0; i < PER_THREAD; i++) {
        uint32_t validity;
        struct store_status st;

        snprintf(body, sizeof(body), "thread %d message %d\n", w->id, i);
        if (store_append(w->fx->root, "INBOX", body, strlen(body), 0, 0, &validity,
                         &w->uids[i], err, sizeof(err)) != 0)
            w->failed++;
        snprintf(rel, sizeof(rel), "%s/new/%lld.M%dP%dQ%d.test", w->fx->root,
                 (long long)time(NULL), i, w->id, i);
        FILE *f = fopen(rel, "w");
        if (f != NULL) {
            fprintf(f, "delivered %d %d\n", w->id, i);
            fclose(f);
        }
        if (store_status(w->fx->root, "INBOX", &st, err, sizeof(err)) != 0)
            w->failed++;
    }
    return NULL;
}

/* test_threads - UIDs from two threads never collide */
static void
test_threads(void **state)
{
    struct fixture *fx = *state;
    struct worker w[2];
    pthread_t t[2];
    char err[256] = "";
    struct store_folder *f;

    failures = 0;
    for (int i = 0; i < 2; i++) {
        memset(&w[i], 0, sizeof(w[i]));
        w[i].fx = fx;
        w[i].id = i;
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    if (w[0].failed || w[1].failed)
        report("workers: got %d and %d failures", w[0].failed, w[1].failed);
    f = store_open(fx->root, "INBOX", false, err, sizeof(err));
    assert_non_null(f);
    if (f->count != 3 + 4 * PER_THREAD)
        report("folder: got %zu messages, want %d", f->count, 3 + 4 * PER_THREAD);
    for (size_t i = 0; i < f->count; i++)
        if (f->msgs[i].uid != i + 1)
            report("folder: got uid %u at %zu, want %zu", f->msgs[i].uid, i, i + 1);
    /* each appended uid is the message that thread wrote */
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < PER_THREAD; i++) {
            size_t at;
            char *data = NULL, want[64];
            size_t len;

            snprintf(want, sizeof(want), "thread %d message %d\n", k, i);
            if (!store_find(f, w[k].uids[i], &at) || store_read(f, at, &data, &len) != 0
                || strcmp(data, want) != 0)
                report("thread %d message %d: uid %u holds \"%s\"", k, i, w[k].uids[i],
                       data ? show(data, len) : "-");
            free(data);
        }
    }
    store_close(f);
    assert_int_equal(failures, 0);
}

/* test_status - STATUS counts without keeping the folder open */
static void
test_status(void **state)
{
    struct fixture *fx = *state;
    struct store_status st;
    char err[256] = "";
    uint64_t size = 0;

    failures = 0;
    for (size_t i = 0; i < NELEM(want_inbox); i++)
        size += store_crlf_size(want_inbox[i].body, strlen(want_inbox[i].body));
    mv(fx, "new/1700000200.M1P1Q1.host", "cur/1700000200.M1P1Q1.host:2,T");
    assert_int_equal(store_status(fx->root, "INBOX", &st, err, sizeof(err)), 0);
    if (st.messages != 3 || st.uidnext != 4 || st.uidvalidity == 0 || st.unseen != 2
        || st.deleted != 1 || st.size != size)
        report("STATUS: got messages %u uidnext %u unseen %u deleted %u size %llu", st.messages,
               st.uidnext, st.unseen, st.deleted, (unsigned long long)st.size);
    if (!exists(fx, "new/1700000300.M1P1Q1.host,S=20"))
        report("STATUS: got new/ moved, want it left (read-only)");
    errno = 0;
    if (store_status(fx->root, "Nope", &st, err, sizeof(err)) != -1 || errno != ENOENT)
        report("STATUS of a missing folder: got errno %d", errno);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crlf_size),
        cmocka_unit_test(test_uidlist_parse),
        cmocka_unit_test(test_names),
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_cheap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expunge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_move_append, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folders, setup, teardown),
        cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_uidlist_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vanish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
