/*
 * test_ratelimit - unit tests for src/policy/ratelimit.c (token buckets
 * per key) and src/util/cidr.c (the networks that are exempt).
 *
 * The clock is the caller's: every step gives its own `now`.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "policy/ratelimit.h"
#include "util/cidr.h"

#include "check.h"

struct step {
    const char *key;
    unsigned    limit;
    unsigned    n;
    double      now;
    bool        want;
};

static void
run(const char *name, const struct step *steps, size_t nsteps)
{
    struct ratelimit *r = ratelimit_new();
    for (size_t i = 0; i < nsteps; i++) {
        const struct step *s = &steps[i];
        bool got = ratelimit_take(r, s->key, s->limit, s->n, s->now);
        if (got != s->want)
            report("%s step %zu (%s, limit %u, n %u, t=%.1f): got %d, want %d", name, i,
                   s->key, s->limit, s->n, s->now, got, s->want);
    }
    ratelimit_free(r);
}

static void
test_buckets(void **state)
{
    (void)state;
    /* 3 a minute: three at once, then one every 20 s */
    static const struct step burst[] = {
        { "a", 3, 1, 0, true }, { "a", 3, 1, 0, true }, { "a", 3, 1, 0, true },
        { "a", 3, 1, 0, false }, { "a", 3, 1, 10, false },
        { "a", 3, 1, 20, true }, { "a", 3, 1, 21, false },
        { "b", 3, 1, 21, true },                    /* keys are apart */
        { "a", 3, 1, 100, true }, { "a", 3, 1, 100, true }, { "a", 3, 1, 100, true },
        { "a", 3, 1, 100, false },                  /* refilled to 3, not more */
    };
    run("burst", burst, NELEM(burst));
    static const struct step many[] = {
        { "c", 10, 4, 0, true }, { "c", 10, 4, 0, true }, { "c", 10, 4, 0, false },
        { "c", 10, 2, 0, true }, { "c", 10, 1, 0, false },
        { "c", 10, 11, 1000, false },               /* more than the limit ever allows */
        { "c", 10, 10, 1000, true },
    };
    run("many", many, NELEM(many));
    static const struct step off[] = {
        { "d", 0, 1000, 0, true }, { "d", 0, 1000, 0, true },
    };
    run("no limit", off, NELEM(off));
    assert_int_equal(failures, 0);
}

/* test_bounded - the table forgets full buckets and stays bounded */
static void
test_bounded(void **state)
{
    (void)state;
    struct ratelimit *r = ratelimit_new();
    char key[32];
    for (unsigned i = 0; i < RATELIMIT_MAX; i++) {
        snprintf(key, sizeof(key), "10.%u.%u.%u", i >> 16, (i >> 8) & 255, i & 255);
        assert_true(ratelimit_take(r, key, 1, 1, 0));
    }
    /* full: a new key is let through uncounted, again and again */
    assert_true(ratelimit_take(r, "192.0.2.1", 1, 1, 1));
    assert_true(ratelimit_take(r, "192.0.2.1", 1, 1, 1));
    /* known keys are still counted */
    assert_false(ratelimit_take(r, "10.0.0.7", 1, 1, 1));
    /* a minute later every bucket is full again: the sweep makes room */
    assert_true(ratelimit_take(r, "192.0.2.1", 1, 1, 61));
    assert_false(ratelimit_take(r, "192.0.2.1", 1, 1, 61));
    ratelimit_free(r);
}

static void
test_cidr(void **state)
{
    (void)state;
    static const struct { const char *net; bool ok; } parse[] = {
        { "127.0.0.0/8", true }, { "::1", true }, { "192.0.2.1", true },
        { "2001:db8::/32", true }, { "0.0.0.0/0", true }, { "::/0", true },
        { "10.1.2.3/8", false },        /* host bits set */
        { "10.0.0.0/33", false }, { "2001:db8::/129", false }, { "10.0.0.0/", false },
        { "10.0.0.0/x", false }, { "/8", false }, { "", false }, { "example.com", false },
        { "10.0.0.0/-1", false }, { "10.0.0.0/ 8", false }, { "10.0.0.0/08", true },
    };
    for (size_t i = 0; i < NELEM(parse); i++) {
        struct cidr c;
        if (cidr_parse(parse[i].net, &c) != parse[i].ok)
            report("cidr_parse(\"%s\"): got %d, want %d", parse[i].net, !parse[i].ok,
                   parse[i].ok);
    }
    struct cidr nets[3];
    assert_true(cidr_parse("127.0.0.0/8", &nets[0]));
    assert_true(cidr_parse("2001:db8:1::/48", &nets[1]));
    assert_true(cidr_parse("192.0.2.128/25", &nets[2]));
    struct cidr_list l = { nets, 3 };
    static const struct { const char *ip; bool in; } match[] = {
        { "127.0.0.1", true }, { "127.255.255.254", true }, { "128.0.0.1", false },
        { "::ffff:127.0.0.1", true },   /* IPv4-mapped counts as IPv4 */
        { "2001:db8:1::25", true }, { "2001:db8:2::25", false }, { "::1", false },
        { "192.0.2.128", true }, { "192.0.2.255", true }, { "192.0.2.127", false },
        { "local", false }, { "", false }, { "127.0.0.1.5", false },
    };
    for (size_t i = 0; i < NELEM(match); i++)
        if (cidr_match(&l, match[i].ip) != match[i].in)
            report("cidr_match(\"%s\"): got %d, want %d", match[i].ip, !match[i].in,
                   match[i].in);
    /* a network written IPv4-mapped is an IPv4 network */
    struct cidr m;
    assert_true(cidr_parse("::ffff:192.0.2.0/120", &m));
    struct cidr_list ml = { &m, 1 };
    assert_true(cidr_match(&ml, "192.0.2.77"));
    assert_true(cidr_match(&ml, "::ffff:192.0.2.77"));
    assert_false(cidr_match(&ml, "192.0.3.77"));
    assert_false(cidr_parse("::ffff:192.0.2.1/120", &m));     /* host bits */
    struct cidr_list empty = { NULL, 0 };
    assert_false(cidr_match(&empty, "127.0.0.1"));
    assert_false(cidr_match(NULL, "127.0.0.1"));
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_cidr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
