/*
 * test_guard - unit tests for src/auth/guard.c: failed logins per IP,
 * blocks, expiry, and the bound on the table.
 *
 * The clock is the caller's: every call gets an explicit `now`, so the
 * tests run the same at any wall-clock time. Scripts of steps are
 * table-driven; every mismatch is reported as "got ..., want ..." and the
 * test fails at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/guard.h"

#include "check.h"

/* ---- scripted steps ---------------------------------------------------- */

enum op { FAIL, BLOCKED, SUCCESS };

struct step {
    enum op     op;
    const char *ip;
    time_t      now;
    unsigned    want;       /* FAIL: 1 when it starts a block; BLOCKED: seconds */
};

/* run - play steps against g, reporting each mismatch under name */
static void
run(struct guard *g, const char *name, const struct step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct step *s = &steps[i];
        switch (s->op) {
        case FAIL: {
            bool got = guard_fail(g, s->ip, s->now);
            if (got != (s->want != 0))
                report("%s step %zu: guard_fail(%s, %lld): got %s, want %s", name, i, s->ip,
                       (long long)s->now, got ? "true" : "false", s->want ? "true" : "false");
            break;
        }
        case BLOCKED: {
            unsigned got = guard_blocked(g, s->ip, s->now);
            if (got != s->want)
                report("%s step %zu: guard_blocked(%s, %lld): got %u, want %u", name, i, s->ip,
                       (long long)s->now, got, s->want);
            break;
        }
        case SUCCESS:
            guard_success(g, s->ip, s->now);
            break;
        }
    }
}

/* Limits for the scripts: a block at the 3rd failure within 60 s, for 60 s. */
#define MAXF   3
#define WINDOW 60

static const struct step counting[] = {
    /* nothing known: not blocked */
    { BLOCKED, "192.0.2.1",   1000, 0 },
    /* failures within the window count; the block starts exactly at the 3rd */
    { FAIL,    "192.0.2.1",   1000, 0 },
    { BLOCKED, "192.0.2.1",   1000, 0 },
    { FAIL,    "192.0.2.1",   1030, 0 },
    { BLOCKED, "192.0.2.1",   1030, 0 },
    { FAIL,    "192.0.2.1",   1059, 1 },        /* 59 s after the first: inside */
    { BLOCKED, "192.0.2.1",   1059, WINDOW },
    /* other addresses, even similar ones, are not affected */
    { BLOCKED, "192.0.2.10",  1059, 0 },
    { BLOCKED, "192.0.2.",    1059, 0 },
    { BLOCKED, "",            1059, 0 },
    { BLOCKED, "2001:db8::1", 1059, 0 },
    /* more failures during the block neither start nor lengthen it */
    { FAIL,    "192.0.2.1",   1060, 0 },
    { FAIL,    "192.0.2.1",   1061, 0 },
    { BLOCKED, "192.0.2.1",   1061, WINDOW - 2 },
    /* a success does not lift a block in force (regression: guard_success
     * judged the entry by time(NULL), not the caller's now, and lifted it) */
    { SUCCESS, "192.0.2.1",   1062, 0 },
    { BLOCKED, "192.0.2.1",   1062, WINDOW - 3 },
    /* the block ends window seconds after it started */
    { BLOCKED, "192.0.2.1",   1118, 1 },
    { BLOCKED, "192.0.2.1",   1119, 0 },
    { BLOCKED, "192.0.2.1",   5000, 0 },

    /* the window runs from the first failure: the 3rd at exactly +60 s
     * opens a new window instead of completing the old one */
    { FAIL,    "198.51.100.7", 2000, 0 },
    { FAIL,    "198.51.100.7", 2001, 0 },
    { FAIL,    "198.51.100.7", 2060, 0 },
    { BLOCKED, "198.51.100.7", 2060, 0 },
    { FAIL,    "198.51.100.7", 2061, 0 },
    { FAIL,    "198.51.100.7", 2062, 1 },       /* 3rd of the window from 2060 */
    { BLOCKED, "198.51.100.7", 2062, WINDOW },

    /* long after everything expired, an address starts from zero */
    { FAIL,    "198.51.100.7", 9000, 0 },
    { FAIL,    "198.51.100.7", 9000, 0 },
    { BLOCKED, "198.51.100.7", 9000, 0 },
    { FAIL,    "198.51.100.7", 9000, 1 },       /* three in the same second */
    { BLOCKED, "198.51.100.7", 9000, WINDOW },

    /* a success clears the count: two more failures are not a block */
    { FAIL,    "2001:db8::2",  3000, 0 },
    { FAIL,    "2001:db8::2",  3001, 0 },
    { SUCCESS, "2001:db8::2",  3002, 0 },
    { FAIL,    "2001:db8::2",  3003, 0 },
    { FAIL,    "2001:db8::2",  3004, 0 },
    { BLOCKED, "2001:db8::2",  3004, 0 },
    { FAIL,    "2001:db8::2",  3005, 1 },
    { BLOCKED, "2001:db8::2",  3005, WINDOW },
    /* a success of an address never seen is harmless */
    { SUCCESS, "203.0.113.9",  3005, 0 },
    { BLOCKED, "203.0.113.9",  3005, 0 },
    /* the longest textual IPv6 address is a key like any other */
    { FAIL,    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 4000, 0 },
    { FAIL,    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 4000, 0 },
    { FAIL,    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 4000, 1 },
    { BLOCKED, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.254", 4000, 0 },
};

static void
test_counting(void **state)
{
    struct guard *g = guard_new();

    (void)state;
    failures = 0;
    guard_set_limits(g, MAXF, WINDOW);
    run(g, "counting", counting, NELEM(counting));
    guard_free(g);
    guard_free(NULL);       /* harmless */
    assert_int_equal(failures, 0);
}

/* test_limits - defaults (5 in 15 minutes), a block at the first failure, 0 = never */
static void
test_limits(void **state)
{
    static const struct step defaults[] = {
        { FAIL,    "192.0.2.1", 100, 0 },
        { FAIL,    "192.0.2.1", 200, 0 },
        { FAIL,    "192.0.2.1", 300, 0 },
        { FAIL,    "192.0.2.1", 400, 0 },
        { BLOCKED, "192.0.2.1", 400, 0 },
        { FAIL,    "192.0.2.1", 999, 1 },       /* 5th, 899 s after the 1st */
        { BLOCKED, "192.0.2.1", 999, 900 },
        { BLOCKED, "192.0.2.1", 1898, 1 },
        { BLOCKED, "192.0.2.1", 1899, 0 },
        /* the 5th at 900 s is the 1st of a new window */
        { FAIL,    "192.0.2.2", 0, 0 },
        { FAIL,    "192.0.2.2", 0, 0 },
        { FAIL,    "192.0.2.2", 0, 0 },
        { FAIL,    "192.0.2.2", 0, 0 },
        { FAIL,    "192.0.2.2", 900, 0 },
    };
    static const struct step one[] = {
        { FAIL,    "192.0.2.1", 100, 1 },
        { BLOCKED, "192.0.2.1", 100, 10 },
        { BLOCKED, "192.0.2.1", 110, 0 },
        { FAIL,    "192.0.2.1", 110, 1 },
    };
    static const struct step never[] = {
        { FAIL,    "192.0.2.1", 100, 0 },
        { FAIL,    "192.0.2.1", 100, 0 },
        { FAIL,    "192.0.2.1", 101, 0 },
        { FAIL,    "192.0.2.1", 102, 0 },
        { FAIL,    "192.0.2.1", 103, 0 },
        { FAIL,    "192.0.2.1", 104, 0 },
        { BLOCKED, "192.0.2.1", 104, 0 },
    };

    (void)state;
    failures = 0;
    struct guard *g = guard_new();
    run(g, "defaults", defaults, NELEM(defaults));
    guard_free(g);

    g = guard_new();
    guard_set_limits(g, 1, 10);
    run(g, "max_failures 1", one, NELEM(one));
    guard_free(g);

    g = guard_new();
    guard_set_limits(g, 0, 10);
    run(g, "max_failures 0", never, NELEM(never));
    guard_free(g);
    assert_int_equal(failures, 0);
}

/* test_blocked_decreases - the seconds left fall by one per second to 0 */
static void
test_blocked_decreases(void **state)
{
    static const unsigned windows[] = { 1, 2, 60, 900, 86400 };
    const time_t t0 = 1700000000;

    (void)state;
    failures = 0;
    for (size_t w = 0; w < NELEM(windows); w++) {
        struct guard *g = guard_new();
        guard_set_limits(g, 2, windows[w]);
        guard_fail(g, "192.0.2.1", t0);
        if (!guard_fail(g, "192.0.2.1", t0))
            report("window %u: guard_fail 2 of 2: got false, want true", windows[w]);
        for (time_t t = t0; t <= t0 + (time_t)windows[w] + 2; t++) {
            unsigned want = t < t0 + (time_t)windows[w] ? (unsigned)(t0 + windows[w] - t) : 0;
            unsigned got = guard_blocked(g, "192.0.2.1", t);
            if (got != want)
                report("window %u: guard_blocked(+%lld s): got %u, want %u", windows[w],
                       (long long)(t - t0), got, want);
        }
        guard_free(g);
    }
    assert_int_equal(failures, 0);
}

/* ---- many addresses ---------------------------------------------------- */

#define MANY 20000      /* several per hash bucket, whatever the hash: chains */
#define LATE(i) (((i) >> 2) & 1u)       /* independent of i % 4 */

/* ipv4 - a distinct address for every i < 2^24 */
static const char *
ipv4(char *buf, size_t len, unsigned i)
{
    snprintf(buf, len, "10.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
    return buf;
}

/*
 * test_many_ips - MANY addresses with different counts and start times
 * share the table; expiring some of them (in the middle of hash chains)
 * must not disturb the others.
 */
static void
test_many_ips(void **state)
{
    const time_t t0 = 50000;
    char ip[32];
    struct guard *g = guard_new();

    (void)state;
    failures = 0;
    guard_set_limits(g, 3, 100);
    /* address i fails i % 4 times, at t0 or, when LATE(i), at t0 + 50 */
    for (unsigned i = 0; i < MANY; i++) {
        time_t t = t0 + LATE(i) * 50;
        for (unsigned k = 1; k <= i % 4; k++) {
            bool got = guard_fail(g, ipv4(ip, sizeof(ip), i), t);
            if (got != (k == 3))
                report("guard_fail(%s) %u of %u: got %d, want %d", ip, k, i % 4, got, k == 3);
        }
    }
    /* at t0 + 60: only the addresses with 3 failures are blocked */
    for (unsigned i = 0; i < MANY; i++) {
        unsigned want = i % 4 == 3 ? (LATE(i) ? 90 : 40) : 0;
        unsigned got = guard_blocked(g, ipv4(ip, sizeof(ip), i), t0 + 60);
        if (got != want)
            report("at +60 s guard_blocked(%s): got %u, want %u", ip, got, want);
    }
    /*
     * At t0 + 120 everything from t0 has expired, while the late ones, in
     * the same buckets, are still counted. One more failure: a late
     * address with 2 before is blocked now; nothing else is.
     */
    for (unsigned i = 0; i < MANY; i++) {
        bool want = LATE(i) && i % 4 == 2;
        bool got = guard_fail(g, ipv4(ip, sizeof(ip), i), t0 + 120);
        if (got != want)
            report("at +120 s guard_fail(%s): got %d, want %d", ip, got, want);
    }
    for (unsigned i = 0; i < MANY; i++) {
        unsigned want = 0;
        if (LATE(i))
            want = i % 4 == 3 ? 30 : i % 4 == 2 ? 100 : 0;
        unsigned got = guard_blocked(g, ipv4(ip, sizeof(ip), i), t0 + 120);
        if (got != want)
            report("at +120 s guard_blocked(%s): got %u, want %u", ip, got, want);
    }
    /* at t0 + 120 + 100 all blocks are over */
    for (unsigned i = 0; i < MANY; i++) {
        unsigned got = guard_blocked(g, ipv4(ip, sizeof(ip), i), t0 + 220);
        if (got != 0)
            report("at +220 s guard_blocked(%s): got %u, want 0", ip, got);
    }
    guard_free(g);          /* LeakSanitizer checks that every entry is freed */
    assert_int_equal(failures, 0);
}

/*
 * test_guard_max - the table holds at most GUARD_MAX addresses. When it
 * is full, a new address is not counted (guard.c: "stop counting new
 * ones") while the known ones still are; once entries expire there is
 * room again.
 */
static void
test_guard_max(void **state)
{
    const time_t t0 = 70000;
    char ip[32];
    struct guard *g = guard_new();

    (void)state;
    failures = 0;
    guard_set_limits(g, 2, 100);
    for (unsigned i = 0; i < GUARD_MAX; i++)
        if (guard_fail(g, ipv4(ip, sizeof(ip), i), t0))
            report("filling: guard_fail(%s): got true, want false", ip);

    static const struct step full[] = {
        /* a newcomer is not remembered: never blocked */
        { FAIL,    "192.0.2.77", 70000, 0 },
        { FAIL,    "192.0.2.77", 70000, 0 },
        { FAIL,    "192.0.2.77", 70050, 0 },
        { BLOCKED, "192.0.2.77", 70050, 0 },
        /* the first and the last (the GUARD_MAX-th) address are counted */
        { FAIL,    "10.0.0.0",   70050, 1 },
        { BLOCKED, "10.0.0.0",   70050, 100 },
        { FAIL,    "10.0.255.255", 70050, 1 },
        { BLOCKED, "10.0.255.255", 70050, 100 },
        /* after the window the old entries expire: the newcomer counts */
        { FAIL,    "192.0.2.77", 70100, 0 },
        { FAIL,    "192.0.2.77", 70101, 1 },
        { BLOCKED, "192.0.2.77", 70101, 100 },
        /* the blocked ones stay blocked until their own end */
        { BLOCKED, "10.0.0.0",   70149, 1 },
        { BLOCKED, "10.0.0.0",   70150, 0 },
    };
    run(g, "full table", full, NELEM(full));
    assert_string_equal(ipv4(ip, sizeof(ip), GUARD_MAX - 1), "10.0.255.255");
    guard_free(g);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counting),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_blocked_decreases),
        cmocka_unit_test(test_many_ips),
        cmocka_unit_test(test_guard_max),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
