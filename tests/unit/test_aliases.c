/*
 * test_aliases - unit tests for src/deliver/aliases.c: parsing the
 * aliases file and looking keys up.
 *
 * Table-driven: each row is one file's text, the errors it must produce
 * (compared whole, so the "NAME:LINE: message" form is pinned) and the
 * lookups to try afterwards; every mismatch is reported as "got ...,
 * want ..." and the test fails at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver/aliases.h"
#include "util/buf.h"

#include "check.h"

/* joined - the targets of key, joined by ",", or "(none)" */
static const char *
joined(const struct aliases *a, const char *key, char *out, size_t outlen)
{
    char *const *t = aliases_lookup(a, key);
    size_t k = 0;

    if (!t) {
        snprintf(out, outlen, "(none)");
        return out;
    }
    out[0] = '\0';
    for (; *t; t++)
        k += (size_t)snprintf(out + k, k < outlen ? outlen - k : 0, "%s%s",
                              k ? "," : "", *t);
    return out;
}

struct lookup {
    const char *key;        /* NULL ends the list */
    const char *want;       /* joined targets, "(none)" for no entry */
};

struct parse_case {
    const char *text;
    size_t      len;
    int         nerr;
    const char *errs;
    struct lookup look[6];
};

static const struct parse_case cases[] = {
    /* a target without "@" is in the alias's domain */
    { S("postmaster@example.org: bob\n"), 0, "",
      { { "postmaster@example.org", "bob@example.org" },
        { "postmaster@example.net", "(none)" },
        { "bob@example.org", "(none)" } } },
    /* several targets, any separators, lower case everywhere */
    { S("Sales@Example.ORG: Alice, BOB@Example.Net\tcarol,,dave@other.example\n"), 0, "",
      { { "sales@example.org", "alice@example.org,bob@example.net,carol@example.org,"
                               "dave@other.example" },
        { "SALES@EXAMPLE.ORG", "alice@example.org,bob@example.net,carol@example.org,"
                               "dave@other.example" },
        { "Sales@example.org", "alice@example.org,bob@example.net,carol@example.org,"
                               "dave@other.example" } } },
    /* the catch-all of a domain */
    { S("@example.org: catchall\n"), 0, "",
      { { "@example.org", "catchall@example.org" },
        { "@EXAMPLE.org", "catchall@example.org" },
        { "anyone@example.org", "(none)" },     /* the caller falls back, not lookup */
        { "@example.net", "(none)" } } },
    { S("@Example.ORG: Someone@Elsewhere.example\n"), 0, "",
      { { "@example.org", "someone@elsewhere.example" } } },
    /* comments, blank lines, spaces, CRLF */
    { S("# the aliases\n"
        "\n"
        "   \t\n"
        "abuse@example.org: bob # forwarded\n"
        "  admin@example.org  :   carol  \r\n"
        "#root@example.org: nobody\n"
        "hostmaster@example.org: dave#no space\n"
        "webmaster@example.org: erin"), 0, "",
      { { "abuse@example.org", "bob@example.org" },
        { "admin@example.org", "carol@example.org" },
        { "root@example.org", "(none)" },
        { "hostmaster@example.org", "dave@example.org" },
        { "webmaster@example.org", "erin@example.org" } } },
    /* targets that look like other things are still addresses */
    { S("list@example.org: list-owner, a.b+c@example.org\n"), 0, "",
      { { "list@example.org", "list-owner@example.org,a.b+c@example.org" } } },
    /* an alias may name itself (keep a copy) */
    { S("bob@example.org: bob, bob@backup.example\n"), 0, "",
      { { "bob@example.org", "bob@example.org,bob@backup.example" } } },
    /* the empty file */
    { S(""), 0, "", { { "a@example.org", "(none)" }, { "@example.org", "(none)" } } },
    /* bad lines, with their line numbers; the good lines still load */
    { S("no colon here\n"), 1, "t:1: expected \"alias@domain: target, ...\"\n",
      { { "no colon here", "(none)" } } },
    { S("notanaddress: bob\n"), 1, "t:1: \"notanaddress\" is not an address or @domain\n",
      { { "notanaddress", "(none)" } } },
    { S("a@example.org:\n"), 1, "t:1: alias \"a@example.org\" has no target\n",
      { { "a@example.org", "(none)" } } },
    { S("a@example.org: , ,\t\n"), 1, "t:1: alias \"a@example.org\" has no target\n",
      { { "a@example.org", "(none)" } } },
    { S("a@example.org: # all commented\n"), 1, "t:1: alias \"a@example.org\" has no target\n",
      { { "a@example.org", "(none)" } } },
    { S("a@example.org: good, bad/target\n"), 1, "t:1: target \"bad/target\" is not an address\n",
      { { "a@example.org", "(none)" } } },
    { S("a@example.org: b@\n"), 1, "t:1: target \"b@\" is not an address\n",
      { { "a@example.org", "(none)" } } },
    { S("a@example.org: @example.org\n"), 1, "t:1: target \"@example.org\" is not an address\n",
      { { "a@example.org", "(none)" } } },
    { S("a@example.org: b@bad_domain\n"), 1, "t:1: target \"b@bad_domain\" is not an address\n",
      { { "a@example.org", "(none)" } } },
    { S("a b@example.org: c\n"), 1, "t:1: \"a b@example.org\" is not an address or @domain\n",
      { { "a b@example.org", "(none)" } } },
    { S("a@-example.org: c\n"), 1, "t:1: \"a@-example.org\" is not an address or @domain\n",
      { { "a@-example.org", "(none)" } } },
    { S("@: c\n"), 1, "t:1: \"@\" is not an address or @domain\n", { { "@", "(none)" } } },
    { S("a/b@example.org: c\n"), 1, "t:1: \"a/b@example.org\" is not an address or @domain\n",
      { { "a/b@example.org", "(none)" } } },
    { S(": c\n"), 1, "t:1: \"\" is not an address or @domain\n", { { "", "(none)" } } },
    { S("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org: c\n"), 1,
      "t:1: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@example.org\" "
      "is not an address or @domain\n", { { NULL, NULL } } },
    { S("good@example.org: bob\n"
        "bad line\n"
        "# comment\n"
        "x@example.org:\n"
        "other@example.org: carol\n"
        "y@example.org: z@\n"), 3,
      "t:2: expected \"alias@domain: target, ...\"\n"
      "t:4: alias \"x@example.org\" has no target\n"
      "t:6: target \"z@\" is not an address\n",
      { { "good@example.org", "bob@example.org" },
        { "other@example.org", "carol@example.org" },
        { "x@example.org", "(none)" },
        { "y@example.org", "(none)" } } },
    /* regression: a key given twice kept whichever definition bsearch()
     * found (the last one here) and was reported without a line number.
     * The first line wins; the others are reported (in key order, after
     * the per-line errors) and dropped. */
    { S("a@example.org: first\nA@Example.ORG: second\n"), 1,
      "t:2: alias \"a@example.org\" is defined more than once (first on line 1)\n",
      { { "a@example.org", "first@example.org" } } },
    { S("a@example.org: one\n"
        "b@example.org: bee\n"
        "a@example.org: two\n"
        "@example.org: any\n"
        "a@example.org: three\n"
        "@EXAMPLE.ORG: other\n"), 3,
      "t:6: alias \"@example.org\" is defined more than once (first on line 4)\n"
      "t:3: alias \"a@example.org\" is defined more than once (first on line 1)\n"
      "t:5: alias \"a@example.org\" is defined more than once (first on line 1)\n",
      { { "a@example.org", "one@example.org" },
        { "b@example.org", "bee@example.org" },
        { "@example.org", "any@example.org" } } },
};

/* test_parse - each file's errors and lookups */
static void
test_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        const struct parse_case *c = &cases[i];
        struct aliases *a = aliases_new("/nonexistent/aliases");
        struct buf errs = BUF_INIT;
        char *text = malloc(c->len ? c->len : 1);  /* exact size: ASan sees overreads */

        memcpy(text, c->text, c->len);
        int n = aliases_parse_text(a, text, c->len, "t", &errs);
        free(text);
        if (n != c->nerr)
            report("aliases_parse_text(\"%s\"): got %d errors, want %d",
                   show(c->text, c->len), n, c->nerr);
        if (strcmp(buf_cstr(&errs), c->errs) != 0)
            report("aliases_parse_text(\"%s\"):\n  got  \"%s\"\n  want \"%s\"",
                   show(c->text, c->len), show(buf_cstr(&errs), errs.len),
                   show(c->errs, strlen(c->errs)));
        for (size_t k = 0; k < NELEM(c->look) && c->look[k].key; k++) {
            char got[512];
            joined(a, c->look[k].key, got, sizeof(got));
            if (strcmp(got, c->look[k].want) != 0)
                report("aliases_parse_text(\"%s\"): lookup(\"%s\") got \"%s\", want \"%s\"",
                       show(c->text, c->len), c->look[k].key, got, c->look[k].want);
        }
        buf_free(&errs);
        aliases_free(a);
    }
    assert_int_equal(failures, 0);
}

/* test_reparse - parsing again replaces the table */
static void
test_reparse(void **state)
{
    struct aliases *a = aliases_new("/nonexistent/aliases");
    struct buf errs = BUF_INIT;
    char got[256];

    (void)state;
    assert_int_equal(aliases_parse_text(a, S("a@example.org: b\n"), "t", &errs), 0);
    assert_string_equal(joined(a, "a@example.org", got, sizeof(got)), "b@example.org");
    assert_int_equal(aliases_parse_text(a, S("c@example.org: d\n"), "t", &errs), 0);
    assert_string_equal(joined(a, "a@example.org", got, sizeof(got)), "(none)");
    assert_string_equal(joined(a, "c@example.org", got, sizeof(got)), "d@example.org");
    assert_int_equal(aliases_parse_text(a, S(""), "t", &errs), 0);
    assert_string_equal(joined(a, "c@example.org", got, sizeof(got)), "(none)");
    assert_string_equal(buf_cstr(&errs), "");
    buf_free(&errs);
    aliases_free(a);
    aliases_free(NULL);     /* harmless */
}

/* test_lookup_many - a larger table: every key is found, in any case */
static void
test_lookup_many(void **state)
{
    struct aliases *a = aliases_new("/nonexistent/aliases");
    struct buf text = BUF_INIT, errs = BUF_INIT;
    char key[64], want[64], got[256];

    (void)state;
    failures = 0;
    /* written in reverse order, so that the table must be sorted */
    for (int i = 99; i >= 0; i--)
        buf_printf(&text, "user%02d@example.org: target%02d\n", i, i);
    assert_int_equal(aliases_parse_text(a, text.data, text.len, "t", &errs), 0);
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "USER%02d@Example.Org", i);
        snprintf(want, sizeof(want), "target%02d@example.org", i);
        joined(a, key, got, sizeof(got));
        if (strcmp(got, want) != 0)
            report("aliases_lookup(\"%s\"): got \"%s\", want \"%s\"", key, got, want);
    }
    /* absent, empty and over-long keys */
    static const char *const absent[] = { "user100@example.org", "user1@example.org", "",
                                          "@example.org", "user00@example.org." };
    for (size_t i = 0; i < NELEM(absent); i++)
        if (aliases_lookup(a, absent[i]) != NULL)
            report("aliases_lookup(\"%s\"): got a match, want none", absent[i]);
    char huge[2048];
    memset(huge, 'a', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    if (aliases_lookup(a, huge) != NULL)
        report("aliases_lookup(2047 octets): got a match, want none");
    buf_free(&text);
    buf_free(&errs);
    aliases_free(a);
    assert_int_equal(failures, 0);
}

/* test_refresh - the file is read when it appears and again when it changes */
static void
test_refresh(void **state)
{
    char dir[] = "/tmp/postino-test-aliases.XXXXXX";
    char path[128], tmp[160], got[256];
    struct buf errs = BUF_INIT;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/aliases", dir);
    struct aliases *a = aliases_new(path);

    /* missing: an empty table */
    assert_int_equal(aliases_refresh(a, &errs), 0);
    assert_string_equal(joined(a, "a@example.org", got, sizeof(got)), "(none)");

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("a@example.org: b\nbroken\n", f);
    fclose(f);
    assert_int_equal(aliases_refresh(a, &errs), 0);
    assert_string_equal(joined(a, "a@example.org", got, sizeof(got)), "b@example.org");
    char want[256];
    snprintf(want, sizeof(want), "%s:2: expected \"alias@domain: target, ...\"\n", path);
    assert_string_equal(buf_cstr(&errs), want);

    /* unchanged: not parsed again, so no new errors */
    buf_reset(&errs);
    assert_int_equal(aliases_refresh(a, &errs), 0);
    assert_string_equal(buf_cstr(&errs), "");

    /* replaced (new inode, as an editor or "mv" does) */
    snprintf(tmp, sizeof(tmp), "%s/aliases.new", dir);
    f = fopen(tmp, "w");
    assert_non_null(f);
    fputs("a@example.org: c, d\n", f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
    assert_int_equal(aliases_refresh(a, &errs), 0);
    assert_string_equal(joined(a, "a@example.org", got, sizeof(got)),
                        "c@example.org,d@example.org");

    /* removed: empty again */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(aliases_refresh(a, &errs), 0);
    assert_string_equal(joined(a, "a@example.org", got, sizeof(got)), "(none)");

    aliases_free(a);
    buf_free(&errs);
    assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_reparse),
        cmocka_unit_test(test_lookup_many),
        cmocka_unit_test(test_refresh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
