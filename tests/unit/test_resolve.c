/*
 * test_resolve - unit tests for src/deliver/resolve.c: from a recipient
 * to the local mailboxes it reaches.
 *
 * The fixtures are the real thing: a struct config from config_new() and
 * config_set(), a users table read from a temporary users file, aliases
 * from aliases_parse_text(), and mailboxes from path_parse() as the SMTP
 * session makes them. Table-driven: each row is one RCPT path and the
 * expected status and mailboxes; every mismatch is reported as "got ...,
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

#include "auth/users.h"
#include "conf/config.h"
#include "deliver/aliases.h"
#include "deliver/resolve.h"
#include "mail/address.h"
#include "util/buf.h"

#include "check.h"

static const char *const status_names[] = {
    "RESOLVE_OK", "RESOLVE_NOT_LOCAL", "RESOLVE_ROUTING", "RESOLVE_UNKNOWN",
    "RESOLVE_LOOP", "RESOLVE_REMOTE_TARGET",
};

/* status_name - the enum constant's name */
static const char *
status_name(enum resolve_status st)
{
    return (unsigned)st < NELEM(status_names) ? status_names[st] : "?";
}

/* The fixture: one configuration, users and aliases, in a temporary folder. */
struct fixture {
    char             dir[64];
    char             users_path[128];
    struct config   *cfg;
    struct users    *users;
    struct aliases  *aliases;
    struct resolve_ctx ctx;
};

/* fixture_new - domains and trial as given; users and aliases from text */
static struct fixture *
fixture_new(const char *domains, bool trial, const char *users_text, const char *aliases_text)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct buf errs = BUF_INIT;
    FILE *f;

    assert_non_null(fx);
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/postino-test-resolve.XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->users_path, sizeof(fx->users_path), "%s/users", fx->dir);

    fx->cfg = config_new();
    assert_true(config_set(fx->cfg, "domains", domains, "test", &errs));
    fx->cfg->trial = trial;

    if (users_text) {
        f = fopen(fx->users_path, "w");
        assert_non_null(f);
        fputs(users_text, f);
        fclose(f);
    }
    fx->users = users_new(fx->users_path);
    assert_int_equal(users_refresh(fx->users), 0);

    fx->aliases = aliases_new("/nonexistent/aliases");
    assert_int_equal(aliases_parse_text(fx->aliases, aliases_text, strlen(aliases_text),
                                        "aliases", &errs), 0);
    assert_string_equal(buf_cstr(&errs), "");
    buf_free(&errs);

    fx->ctx.cfg = fx->cfg;
    fx->ctx.users = fx->users;
    fx->ctx.aliases = fx->aliases;
    return fx;
}

static void
fixture_free(struct fixture *fx)
{
    users_free(fx->users);
    aliases_free(fx->aliases);
    config_free(fx->cfg);
    unlink(fx->users_path);
    rmdir(fx->dir);
    free(fx);
}

struct resolve_case {
    const char *path;           /* as after "RCPT TO:" */
    enum resolve_status want;
    const char *mailboxes;      /* joined by ",", in order; "" when none */
};

/* run_cases - resolve each row's path against fx */
static void
run_cases(const char *what, struct fixture *fx, const struct resolve_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct resolve_case *c = &cases[i];
        struct mailbox mb;
        struct mailbox_set out = { 0 };
        size_t used;
        enum addr_status ast;
        char got[1024];
        size_t k = 0;

        ast = path_parse(c->path, strlen(c->path), PATH_ALLOW_POSTMASTER | PATH_UTF8, &mb,
                         &used);
        if (ast != ADDR_OK) {
            report("%s: path_parse(\"%s\") failed (%d): fix the test", what, c->path, (int)ast);
            continue;
        }
        enum resolve_status st = resolve_recipient(&fx->ctx, &mb, &out);
        got[0] = '\0';
        for (size_t j = 0; j < out.n; j++)
            k += (size_t)snprintf(got + k, k < sizeof(got) ? sizeof(got) - k : 0, "%s%s",
                                  j ? "," : "", out.v[j]);
        if (st != c->want || strcmp(got, c->mailboxes) != 0)
            report("%s: resolve(%s): got %s \"%s\", want %s \"%s\"", what, c->path,
                   status_name(st), got, status_name(c->want), c->mailboxes);
        if (st != RESOLVE_OK && (out.n != 0 || out.v != NULL))
            report("%s: resolve(%s): got %s with %zu mailboxes left in out, want none",
                   what, c->path, status_name(st), out.n);
        mailbox_set_free(&out);
    }
}

/* ---- a normal server: two domains, users, aliases ---------------------- */

static const char users_text[] =
    "bob@example.org:$y$hash\n"
    "alice@example.org:$y$hash\n"
    "Keep@Example.org:$y$hash\n"
    "carol@example.net:$y$hash\n"
    "x.y@example.org:$y$hash\n";

static const char aliases_text[] =
    "# fan-out, with a repeat\n"
    "sales@example.org: alice, bob, Alice, bob@example.org\n"
    "# alias to alias, overlapping the first\n"
    "team@example.org: sales, bob, carol@example.net\n"
    "# an alias naming itself keeps a copy\n"
    "keep@example.org: keep, bob\n"
    "# loops\n"
    "loop1@example.org: loop2\n"
    "loop2@example.org: loop3\n"
    "loop3@example.org: loop1\n"
    "self@example.org: self\n"
    "half@example.org: bob, loop1\n"
    "# remote targets\n"
    "remote@example.org: someone@elsewhere.example\n"
    "mixed@example.org: bob, someone@elsewhere.example\n"
    "# chains\n"
    "c1@example.org: c2\n"
    "c2@example.org: c3\n"
    "c3@example.org: alice\n"
    "# plus-addressing reaches aliases too\n"
    "list@example.org: bob, alice\n"
    "# the catch-all of example.net\n"
    "@example.net: carol\n"
    "# an alias that shadows a user\n"
    "alice+shadow@example.org: bob\n";

static const struct resolve_case normal_cases[] = {
    /* users */
    { "<bob@example.org>",                  RESOLVE_OK, "bob@example.org" },
    { "<BOB@Example.ORG>",                  RESOLVE_OK, "bob@example.org" },
    { "<Keep@example.org>",                 RESOLVE_OK, "keep@example.org,bob@example.org" },
    { "<x.y@example.org>",                  RESOLVE_OK, "x.y@example.org" },
    { "<\"bob\"@example.org>",              RESOLVE_OK, "bob@example.org" },
    { "<\"x.y\"@example.org>",              RESOLVE_OK, "x.y@example.org" },
    { "<nobody@example.org>",               RESOLVE_UNKNOWN, "" },
    { "<bobby@example.org>",                RESOLVE_UNKNOWN, "" },
    { "<bo@example.org>",                   RESOLVE_UNKNOWN, "" },
    { "<\"bob \"@example.org>",             RESOLVE_UNKNOWN, "" },
    /* plus-addressing */
    { "<bob+news@example.org>",             RESOLVE_OK, "bob@example.org" },
    { "<BOB+News@example.org>",             RESOLVE_OK, "bob@example.org" },
    { "<bob+@example.org>",                 RESOLVE_OK, "bob@example.org" },
    { "<bob+a+b@example.org>",              RESOLVE_OK, "bob@example.org" },
    { "<list+x@example.org>",               RESOLVE_OK, "bob@example.org,alice@example.org" },
    { "<alice+shadow@example.org>",         RESOLVE_OK, "bob@example.org" },
    { "<alice+other@example.org>",          RESOLVE_OK, "alice@example.org" },
    { "<+bob@example.org>",                 RESOLVE_UNKNOWN, "" },
    { "<nobody+x@example.org>",             RESOLVE_UNKNOWN, "" },
    /* aliases: fan-out with de-duplication, alias to alias */
    { "<sales@example.org>",                RESOLVE_OK, "alice@example.org,bob@example.org" },
    { "<Sales@EXAMPLE.org>",                RESOLVE_OK, "alice@example.org,bob@example.org" },
    { "<team@example.org>",                 RESOLVE_OK,
      "alice@example.org,bob@example.org,carol@example.net" },
    { "<c1@example.org>",                   RESOLVE_OK, "alice@example.org" },
    /* loops */
    { "<loop1@example.org>",                RESOLVE_LOOP, "" },
    { "<loop3@example.org>",                RESOLVE_LOOP, "" },
    { "<self@example.org>",                 RESOLVE_LOOP, "" },
    { "<half@example.org>",                 RESOLVE_LOOP, "" },
    /* remote targets are not supported yet, even among local ones */
    { "<remote@example.org>",               RESOLVE_REMOTE_TARGET, "" },
    { "<mixed@example.org>",                RESOLVE_REMOTE_TARGET, "" },
    /* the catch-all */
    { "<carol@example.net>",                RESOLVE_OK, "carol@example.net" },
    { "<anyone@example.net>",               RESOLVE_OK, "carol@example.net" },
    { "<Any.One+tag@EXAMPLE.NET>",          RESOLVE_OK, "carol@example.net" },
    { "<postmaster@example.net>",           RESOLVE_OK, "carol@example.net" },
    /* not ours */
    { "<bob@elsewhere.example>",            RESOLVE_NOT_LOCAL, "" },
    { "<bob@example.org.evil>",             RESOLVE_NOT_LOCAL, "" },
    { "<bob@sub.example.org>",              RESOLVE_NOT_LOCAL, "" },
    { "<bob@localhost>",                    RESOLVE_NOT_LOCAL, "" },
    { "<bob@[127.0.0.1]>",                  RESOLVE_NOT_LOCAL, "" },
    { "<bob@[IPv6:::1]>",                   RESOLVE_NOT_LOCAL, "" },
    { "<postmaster@[127.0.0.1]>",           RESOLVE_NOT_LOCAL, "" },
    /* sender-specified routing in a local part */
    { "<bob%elsewhere.example@example.org>", RESOLVE_ROUTING, "" },
    { "<elsewhere.example!bob@example.org>", RESOLVE_ROUTING, "" },
    { "<\"bob@elsewhere.example\"@example.org>", RESOLVE_ROUTING, "" },
    { "<\"bob%x\"@example.org>",            RESOLVE_ROUTING, "" },
    { "<\"bob\\@x\"@example.org>",          RESOLVE_ROUTING, "" },
    { "<bob%x@elsewhere.example>",          RESOLVE_NOT_LOCAL, "" },  /* relaying decides */
    /* postmaster: always, in any case, and without a domain */
    { "<postmaster@example.org>",           RESOLVE_OK, "postmaster@example.org" },
    { "<PostMaster@Example.ORG>",           RESOLVE_OK, "postmaster@example.org" },
    { "<postmaster+x@example.org>",         RESOLVE_OK, "postmaster@example.org" },
    { "<Postmaster>",                       RESOLVE_OK, "postmaster@example.org" },
    { "<POSTMASTER>",                       RESOLVE_OK, "postmaster@example.org" },
    { "<postmasterx@example.org>",          RESOLVE_UNKNOWN, "" },
    /* an address source route is dropped (RFC 5321 4.1.1.3) */
    { "<@relay.example:bob@example.org>",   RESOLVE_OK, "bob@example.org" },
};

static void
test_resolve_normal(void **state)
{
    struct fixture *fx = fixture_new("example.org, Example.NET", false, users_text,
                                     aliases_text);

    (void)state;
    failures = 0;
    run_cases("normal", fx, normal_cases, NELEM(normal_cases));
    fixture_free(fx);
    assert_int_equal(failures, 0);
}

/* ---- postmaster aliased; one user -------------------------------------- */

static const struct resolve_case pm_cases[] = {
    { "<Postmaster>",                       RESOLVE_OK, "admin@example.org" },
    { "<postmaster@example.org>",           RESOLVE_OK, "admin@example.org" },
    { "<postmaster@example.net>",           RESOLVE_OK, "postmaster@example.net" },
    { "<admin@example.org>",                RESOLVE_OK, "admin@example.org" },
    { "<bob@example.org>",                  RESOLVE_UNKNOWN, "" },
};

static void
test_resolve_postmaster_alias(void **state)
{
    /* the first domain is example.org: <Postmaster> goes there */
    struct fixture *fx = fixture_new("example.org example.net", false,
                                     "admin@example.org:x\n", "postmaster@example.org: admin\n");

    (void)state;
    failures = 0;
    run_cases("postmaster alias", fx, pm_cases, NELEM(pm_cases));
    fixture_free(fx);
    assert_int_equal(failures, 0);
}

/* ---- the trial setup: any safe address of localhost -------------------- */

static const struct resolve_case trial_cases[] = {
    { "<anyone@localhost>",                 RESOLVE_OK, "anyone@localhost" },
    { "<AnyOne@LOCALHOST>",                 RESOLVE_OK, "anyone@localhost" },
    { "<any.one+tag@localhost>",            RESOLVE_OK, "any.one@localhost" },
    { "<a-b_c=d@localhost>",                RESOLVE_OK, "a-b_c=d@localhost" },
    { "<bob@localhost>",                    RESOLVE_OK, "bob@localhost" },
    { "<Postmaster>",                       RESOLVE_OK, "postmaster@localhost" },
    { "<postmaster@localhost>",             RESOLVE_OK, "postmaster@localhost" },
    { "<\"quoted\"@localhost>",             RESOLVE_OK, "quoted@localhost" },
    { "<caf\xc3\xa9@localhost>",            RESOLVE_OK, "caf\xc3\xa9@localhost" },
    { "<alias@localhost>",                  RESOLVE_OK, "bob@localhost" },
    /* unsafe as a folder name */
    { "<\".hidden\"@localhost>",            RESOLVE_UNKNOWN, "" },
    { "<\"..\"@localhost>",                 RESOLVE_UNKNOWN, "" },
    { "<\".\"@localhost>",                  RESOLVE_UNKNOWN, "" },
    { "<a/b@localhost>",                    RESOLVE_UNKNOWN, "" },
    { "<\"../../etc\"@localhost>",          RESOLVE_UNKNOWN, "" },
    { "<\"a b\"@localhost>",                RESOLVE_UNKNOWN, "" },
    { "<\"a\\\\b\"@localhost>",             RESOLVE_UNKNOWN, "" },
    { "<\"\"@localhost>",                   RESOLVE_UNKNOWN, "" },
    { "<+tag@localhost>",                   RESOLVE_OK, "+tag@localhost" },
    /* routing is refused before anything else */
    { "<a%b@localhost>",                    RESOLVE_ROUTING, "" },
    { "<a!b@localhost>",                    RESOLVE_ROUTING, "" },
    /* only localhost is open, not the other local domains */
    { "<anyone@example.org>",               RESOLVE_UNKNOWN, "" },
    { "<postmaster@example.org>",           RESOLVE_OK, "postmaster@example.org" },
    { "<anyone@elsewhere.example>",         RESOLVE_NOT_LOCAL, "" },
};

static void
test_resolve_trial(void **state)
{
    struct fixture *fx = fixture_new("localhost example.org", true, NULL,
                                     "alias@localhost: bob\n");

    (void)state;
    failures = 0;
    run_cases("trial", fx, trial_cases, NELEM(trial_cases));
    fixture_free(fx);
    assert_int_equal(failures, 0);
}

/* without trial, localhost is an ordinary domain */
static const struct resolve_case not_trial_cases[] = {
    { "<anyone@localhost>",                 RESOLVE_UNKNOWN, "" },
    { "<bob@localhost>",                    RESOLVE_OK, "bob@localhost" },
    { "<Postmaster>",                       RESOLVE_OK, "postmaster@localhost" },
};

static void
test_resolve_not_trial(void **state)
{
    struct fixture *fx = fixture_new("localhost", false, "bob@localhost:x\n", "");

    (void)state;
    failures = 0;
    run_cases("not trial", fx, not_trial_cases, NELEM(not_trial_cases));
    fixture_free(fx);
    assert_int_equal(failures, 0);
}

/* ---- depth -------------------------------------------------------------- */

/* test_resolve_long_chain - a chain of aliases longer than the walk allows */
static void
test_resolve_long_chain(void **state)
{
    struct buf text = BUF_INIT;

    (void)state;
    failures = 0;
    for (int i = 1; i < 30; i++)
        buf_printf(&text, "d%d@example.org: d%d\n", i, i + 1);
    buf_printf(&text, "d30@example.org: bob\n");
    struct fixture *fx = fixture_new("example.org", false, users_text, buf_cstr(&text));
    static const struct resolve_case cases[] = {
        { "<d1@example.org>",  RESOLVE_LOOP, "" },     /* 30 hops: too deep */
        { "<d28@example.org>", RESOLVE_OK, "bob@example.org" },
        { "<d30@example.org>", RESOLVE_OK, "bob@example.org" },
    };
    run_cases("long chain", fx, cases, NELEM(cases));
    fixture_free(fx);
    buf_free(&text);
    assert_int_equal(failures, 0);
}

/* ---- mailbox_name_safe ------------------------------------------------- */

static void
test_mailbox_name_safe(void **state)
{
    static const struct {
        const char *local;
        bool        want;
    } cases[] = {
        { "bob",        true },
        { "b.o.b",      true },
        { "bob.",       true },
        { "b-o_b+x=y",  true },
        { "caf\xc3\xa9", true },
        { "",           false },
        { ".",          false },
        { "..",         false },
        { ".bob",       false },
        { "a/b",        false },
        { "/",          false },
        { "a\\b",       false },
        { "a b",        false },
        { "a\tb",       false },
        { "a\x01",      false },
        { "a\x7f",      false },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        bool got = mailbox_name_safe(cases[i].local);
        if (got != cases[i].want)
            report("mailbox_name_safe(\"%s\"): got %d, want %d", cases[i].local, got,
                   cases[i].want);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_normal),
        cmocka_unit_test(test_resolve_postmaster_alias),
        cmocka_unit_test(test_resolve_trial),
        cmocka_unit_test(test_resolve_not_trial),
        cmocka_unit_test(test_resolve_long_chain),
        cmocka_unit_test(test_mailbox_name_safe),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
