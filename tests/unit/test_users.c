/*
 * test_users - unit tests for src/auth/users.c: the users file, its
 * in-memory table and password hashes.
 *
 * Table-driven: users_file_update() is driven by a script of steps, each
 * with the file it must leave behind; every mismatch is reported as "got
 * ..., want ..." and the test fails at the end. Everything happens in a
 * fresh temporary folder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "auth/users.h"
#include "util/buf.h"
#include "util/fsutil.h"

#include "check.h"

/* A temporary folder with the users file's path in it. */
struct tmp {
    char dir[64];
    char path[128];
    char lock[160];
};

static void
tmp_make(struct tmp *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/postino-test-users.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/users", t->dir);
    snprintf(t->lock, sizeof(t->lock), "%s/users.lock", t->dir);
}

static void
tmp_remove(struct tmp *t)
{
    struct stat st;

    if (lstat(t->path, &st) == 0 && S_ISDIR(st.st_mode))
        rmdir(t->path);
    else
        unlink(t->path);
    unlink(t->lock);
    assert_int_equal(rmdir(t->dir), 0);     /* nothing else was left behind */
}

/* write_file - replace path's contents with text */
static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* read_file - the contents of path, or "(missing)"; free() it */
static char *
read_file(const char *path)
{
    char *text;
    size_t len;

    if (file_read(path, 1 << 20, &text, &len) < 0)
        return strdup("(missing)");
    return text;
}

/* ---- users_file_update ------------------------------------------------- */

static const char *const op_names[] = { "USERS_ADD", "USERS_PASSWD", "USERS_DEL" };

struct step {
    enum users_op op;
    const char   *address;
    const char   *hash;
    int           rc;
    const char   *err;      /* on -1 */
    const char   *file;     /* the file afterwards */
};

static const struct step steps[] = {
    /* the file does not exist yet: removing or changing fails, adding creates it */
    { USERS_DEL,    "bob@example.org",   NULL,   -1, "bob@example.org is not a user", "(missing)" },
    { USERS_PASSWD, "bob@example.org",   "$6$a", -1, "bob@example.org is not a user", "(missing)" },
    { USERS_ADD,    "bob@example.org",   "$6$b", 0,  NULL, "bob@example.org:$6$b\n" },
    /* addresses are kept in lower case */
    { USERS_ADD,    "Alice@Example.ORG", "$6$a", 0,  NULL,
      "bob@example.org:$6$b\nalice@example.org:$6$a\n" },
    /* duplicates, in any case */
    { USERS_ADD,    "BOB@example.org",   "$6$x", -1, "bob@example.org is already a user",
      "bob@example.org:$6$b\nalice@example.org:$6$a\n" },
    { USERS_ADD,    "alice@example.org", "$6$x", -1, "alice@example.org is already a user",
      "bob@example.org:$6$b\nalice@example.org:$6$a\n" },
    /* passwd changes the hash only (the file is rewritten sorted) */
    { USERS_PASSWD, "Bob@Example.org",   "$6$c", 0,  NULL,
      "alice@example.org:$6$a\nbob@example.org:$6$c\n" },
    { USERS_PASSWD, "carol@example.org", "$6$c", -1, "carol@example.org is not a user",
      "alice@example.org:$6$a\nbob@example.org:$6$c\n" },
    /* del */
    { USERS_DEL,    "ALICE@example.org", NULL,   0,  NULL, "bob@example.org:$6$c\n" },
    { USERS_DEL,    "alice@example.org", NULL,   -1, "alice@example.org is not a user",
      "bob@example.org:$6$c\n" },
    { USERS_DEL,    "bob@example.org",   NULL,   0,  NULL, "" },
    { USERS_DEL,    "bob@example.org",   NULL,   -1, "bob@example.org is not a user", "" },
    /* an empty file is a fine starting point */
    { USERS_ADD,    "carol@example.net", "$y$j9T$salt$hash", 0, NULL,
      "carol@example.net:$y$j9T$salt$hash\n" },
};

static void
test_file_update(void **state)
{
    struct tmp t;

    (void)state;
    failures = 0;
    tmp_make(&t);
    for (size_t i = 0; i < NELEM(steps); i++) {
        const struct step *s = &steps[i];
        char err[256] = "";
        int rc = users_file_update(t.path, s->op, s->address, s->hash, err, sizeof(err));

        if (rc != s->rc)
            report("step %zu users_file_update(%s, %s): got %d (%s), want %d", i,
                   op_names[s->op], s->address, rc, err, s->rc);
        else if (rc < 0 && strcmp(err, s->err) != 0)
            report("step %zu users_file_update(%s, %s): got error \"%s\", want \"%s\"", i,
                   op_names[s->op], s->address, err, s->err);
        char *file = read_file(t.path);
        if (strcmp(file, s->file) != 0)
            report("step %zu users_file_update(%s, %s): got file \"%s\", want \"%s\"", i,
                   op_names[s->op], s->address, file, s->file);
        free(file);
    }
    /* the file holds hashes: only its owner may read it */
    struct stat st;
    assert_int_equal(stat(t.path, &st), 0);
    if ((st.st_mode & 0777) != 0600)
        report("users file mode: got %o, want 600", (unsigned)(st.st_mode & 0777));
    tmp_remove(&t);
    assert_int_equal(failures, 0);
}

/* test_file_update_keeps_others - other lines survive a change */
static void
test_file_update_keeps_others(void **state)
{
    struct tmp t;
    char err[256] = "";

    (void)state;
    tmp_make(&t);
    write_file(t.path, "zed@example.org:$6$z\nAmy@Example.org:$6$a\nmid@example.org:$6$m\n");
    assert_int_equal(users_file_update(t.path, USERS_PASSWD, "mid@example.org", "$6$new",
                                       err, sizeof(err)), 0);
    char *file = read_file(t.path);
    assert_string_equal(file,
                        "amy@example.org:$6$a\nmid@example.org:$6$new\nzed@example.org:$6$z\n");
    free(file);
    tmp_remove(&t);
}

/* test_file_update_no_dir - a folder that does not exist is an error, not a crash */
static void
test_file_update_no_dir(void **state)
{
    char err[256] = "";

    (void)state;
    assert_int_equal(users_file_update("/nonexistent-postino-dir/users", USERS_ADD,
                                       "bob@example.org", "$6$x", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "cannot lock /nonexistent-postino-dir/users.lock"));
}

/* ---- users_refresh and the table --------------------------------------- */

/* expect_table - the table's addresses in order, joined by "," */
static void
expect_table(const char *what, const struct users *u, const char *want)
{
    struct buf b = BUF_INIT;

    for (size_t i = 0; i < users_count(u); i++)
        buf_printf(&b, "%s%s", i ? "," : "", users_address(u, i));
    if (strcmp(buf_cstr(&b), want) != 0)
        report("%s: got users \"%s\", want \"%s\"", what, buf_cstr(&b), want);
    if (users_address(u, users_count(u)) != NULL)
        report("%s: got an address past the end, want NULL", what);
    buf_free(&b);
}

static void
test_refresh(void **state)
{
    struct tmp t;
    char err[256];

    (void)state;
    failures = 0;
    tmp_make(&t);
    struct users *u = users_new(t.path);

    /* missing: an empty table */
    assert_int_equal(users_refresh(u), 0);
    expect_table("missing file", u, "");
    if (users_exists(u, "bob@example.org"))
        report("users_exists(bob) in an empty table: got true, want false");

    /* comments, lines without ":" or address, CRLF: skipped or cleaned */
    write_file(t.path,
               "# users\n"
               "Bob@Example.ORG:$6$b\n"
               "no colon here\n"
               ":$6$noaddress\n"
               "\n"
               "alice@example.org:$6$a\r\n"
               "#carol@example.org:$6$c\n");
    assert_int_equal(users_refresh(u), 0);
    expect_table("first file", u, "alice@example.org,bob@example.org");
    static const struct {
        const char *address;
        const char *hash;       /* NULL: not a user */
    } lookups[] = {
        { "bob@example.org",    "$6$b" },
        { "BOB@EXAMPLE.ORG",    "$6$b" },
        { "alice@example.org",  "$6$a" },       /* the CR is not part of the hash */
        { "Alice@Example.Org",  "$6$a" },
        { "carol@example.org",  NULL },
        { "#carol@example.org", NULL },
        { "no colon here",      NULL },
        { "",                   NULL },
        { "bob@example.org.",   NULL },
    };
    for (size_t i = 0; i < NELEM(lookups); i++) {
        const char *h = users_hash(u, lookups[i].address);
        bool e = users_exists(u, lookups[i].address);
        if (e != (lookups[i].hash != NULL) || (h == NULL) != (lookups[i].hash == NULL)
            || (h && strcmp(h, lookups[i].hash) != 0))
            report("users_hash(\"%s\"): got %s (exists %d), want %s", lookups[i].address,
                   h ? h : "NULL", e, lookups[i].hash ? lookups[i].hash : "NULL");
    }
    char huge[1024];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    if (users_exists(u, huge))
        report("users_exists(1023 octets): got true, want false");

    /* unchanged: nothing to do */
    assert_int_equal(users_refresh(u), 0);
    expect_table("unchanged file", u, "alice@example.org,bob@example.org");

    /* "postino user add" from another process is picked up */
    assert_int_equal(users_file_update(t.path, USERS_ADD, "carol@example.org", "$6$c", err,
                                       sizeof(err)), 0);
    assert_int_equal(users_refresh(u), 0);
    expect_table("after add", u, "alice@example.org,bob@example.org,carol@example.org");

    /* a new password, same length: the file is replaced, so it is seen */
    assert_int_equal(users_file_update(t.path, USERS_PASSWD, "bob@example.org", "$6$B", err,
                                       sizeof(err)), 0);
    assert_int_equal(users_refresh(u), 0);
    if (!users_hash(u, "bob@example.org") || strcmp(users_hash(u, "bob@example.org"), "$6$B"))
        report("after passwd: got hash %s, want $6$B",
               users_hash(u, "bob@example.org") ? users_hash(u, "bob@example.org") : "NULL");

    assert_int_equal(users_file_update(t.path, USERS_DEL, "alice@example.org", NULL, err,
                                       sizeof(err)), 0);
    assert_int_equal(users_refresh(u), 0);
    expect_table("after del", u, "bob@example.org,carol@example.org");

    /* a path that exists but cannot be read: -1, the old table is kept */
    assert_int_equal(unlink(t.path), 0);
    assert_int_equal(mkdir(t.path, 0700), 0);
    assert_int_equal(users_refresh(u), -1);
    expect_table("unreadable file", u, "bob@example.org,carol@example.org");
    assert_int_equal(rmdir(t.path), 0);

    /* removed: empty again */
    assert_int_equal(users_refresh(u), 0);
    expect_table("removed file", u, "");

    users_free(u);
    users_free(NULL);       /* harmless */
    tmp_remove(&t);
    assert_int_equal(failures, 0);
}

/* test_refresh_many - a larger file is sorted and searchable */
static void
test_refresh_many(void **state)
{
    struct tmp t;
    struct buf text = BUF_INIT;
    char addr[64];

    (void)state;
    failures = 0;
    tmp_make(&t);
    for (int i = 199; i >= 0; i--)
        buf_printf(&text, "user%03d@example.org:$6$%d\n", i, i);
    write_file(t.path, buf_cstr(&text));
    struct users *u = users_new(t.path);
    assert_int_equal(users_refresh(u), 0);
    assert_int_equal(users_count(u), 200);
    for (int i = 0; i < 200; i++) {
        snprintf(addr, sizeof(addr), "USER%03d@example.org", i);
        if (!users_exists(u, addr))
            report("users_exists(\"%s\"): got false, want true", addr);
        snprintf(addr, sizeof(addr), "user%03d@example.org", i);
        if (strcmp(users_address(u, (size_t)i), addr) != 0)
            report("users_address(%d): got \"%s\", want \"%s\"", i, users_address(u, (size_t)i),
                   addr);
    }
    users_free(u);
    buf_free(&text);
    tmp_remove(&t);
    assert_int_equal(failures, 0);
}

/* ---- password hashes --------------------------------------------------- */

static void
test_password(void **state)
{
    (void)state;
    failures = 0;

    char *h1 = users_password_hash("s3cret pass");
    char *h2 = users_password_hash("s3cret pass");
    assert_non_null(h1);
    assert_non_null(h2);
    if (strncmp(h1, "$y$", 3) != 0)
        report("users_password_hash: got \"%s\", want a yescrypt \"$y$\" hash", h1);
    if (strcmp(h1, h2) == 0)
        report("users_password_hash twice: got the same hash \"%s\", want a new salt each time",
               h1);

    /* a truncated hash must not match */
    char *cut = strdup(h1);
    cut[strlen(cut) - 1] = '\0';
    /* sha512-crypt, as older tools write it (crypt(3) with "$6$") */
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *c6 = crypt_r("s3cret pass", "$6$saltsaltsalt$", &cd);
    assert_non_null(c6);
    assert_true(strncmp(c6, "$6$saltsaltsalt$", 16) == 0);
    char *h6 = strdup(c6);

    const struct {
        const char *password;
        const char *hash;
        bool        want;
    } cases[] = {
        { "s3cret pass",    h1,   true },
        { "s3cret pass",    h2,   true },
        { "s3cret pass",    h6,   true },
        { "s3cret pass ",   h1,   false },
        { "s3cret pas",     h1,   false },
        { "S3cret pass",    h1,   false },
        { "",               h1,   false },
        { "wrong",          h6,   false },
        { "s3cret pass",    cut,  false },
        { "s3cret pass",    "",   false },
        { "",               "",   false },
        { "s3cret pass",    "*",  false },
        { "s3cret pass",    "!",  false },
        { "s3cret pass",    "$6$saltsaltsalt$", false },
        { "s3cret pass",    "$y$", false },
        { "s3cret pass",    "s3cret pass", false },   /* a clear-text "hash" */
    };
    for (size_t i = 0; i < NELEM(cases); i++) {
        bool got = users_password_check(cases[i].password, cases[i].hash);
        if (got != cases[i].want)
            report("users_password_check(\"%s\", \"%s\"): got %d, want %d", cases[i].password,
                   cases[i].hash, got, cases[i].want);
    }
    free(h1);
    free(h2);
    free(h6);
    free(cut);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_update),
        cmocka_unit_test(test_file_update_keeps_others),
        cmocka_unit_test(test_file_update_no_dir),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_refresh_many),
        cmocka_unit_test(test_password),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
