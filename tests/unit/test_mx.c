/*
 * test_mx - unit tests for src/relay/mx.c: the order in which to try a
 * domain's MX hosts (RFC 5321 5.1), null MX (RFC 7505), IP-address names,
 * duplicates and ourselves among the hosts.
 *
 * Table-driven: each row is a record list, our own name and a script of
 * "random" numbers, with the status and the list (as "pref host ...")
 * mx_order() should leave; every mismatch is reported as "got ..., want
 * ..." and the test fails at the end. The randomness is a fake that
 * replays the script, so shuffles are exact.
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

#include "relay/mx.h"

#include "check.h"

#define MAXREC 8
#define MAXRND 8

/* The fake randomness: replays seq[], then 0s; counts the calls. */
struct script {
    const unsigned *seq;
    size_t          n;
    size_t          calls;
};

/* script_rnd - the next number of the script */
static unsigned
script_rnd(void *arg)
{
    struct script *s = arg;
    unsigned v = s->calls < s->n ? s->seq[s->calls] : 0;

    s->calls++;
    return v;
}

static const char *const status_names[] = { "MX_OK", "MX_NULL", "MX_LOOP", "MX_UNUSABLE" };

/* status_name - the enum constant's name */
static const char *
status_name(enum mx_status st)
{
    return (unsigned)st < NELEM(status_names) ? status_names[st] : "?";
}

/* list - v[0..n) as "pref host pref host ..." into out */
static void
list(const struct mx_record *v, size_t n, char *out, size_t outlen)
{
    size_t k = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && k < outlen; i++)
        k += (size_t)snprintf(out + k, outlen - k, "%s%u %s", i ? " " : "", v[i].pref, v[i].host);
}

/* One mx_order() case. A NULL rnd script means no rnd function. */
struct mx_case {
    const char      *name;
    struct mx_record in[MAXREC];
    size_t           n;
    const char      *self;
    bool             shuffle;           /* pass script_rnd */
    unsigned         rnd[MAXRND];
    size_t           nrnd;
    enum mx_status   want;
    const char      *list;              /* when MX_OK */
    size_t           calls;             /* rnd calls wanted, when shuffle */
};

#define R(p, h) { p, h }

static const struct mx_case mx_cases[] = {
    { "no records", { { 0, "" } }, 0, NULL, false, { 0 }, 0, MX_OK, "", 0 },
    { "one", { R(10, "mx.a.test") }, 1, NULL, false, { 0 }, 0, MX_OK, "10 mx.a.test", 0 },
    { "sorted", { R(20, "b"), R(10, "a"), R(30, "c") }, 3, NULL, false, { 0 }, 0, MX_OK,
      "10 a 20 b 30 c", 0 },
    { "extremes", { R(65535, "z"), R(0, "a"), R(1, "b") }, 3, NULL, false, { 0 }, 0, MX_OK,
      "0 a 1 b 65535 z", 0 },
    { "equal, no rnd: stable", { R(10, "a"), R(10, "b"), R(10, "c") }, 3, NULL, false, { 0 }, 0,
      MX_OK, "10 a 10 b 10 c", 0 },
    /* RFC 7505 null MX */
    { "null MX", { R(0, "") }, 1, NULL, false, { 0 }, 0, MX_NULL, NULL, 0 },
    { "null MX, pref 10", { R(10, "") }, 1, NULL, false, { 0 }, 0, MX_NULL, NULL, 0 },
    { "null MX written \".\"", { R(0, ".") }, 1, NULL, false, { 0 }, 0, MX_NULL, NULL, 0 },
    { "null MX, self given", { R(0, "") }, 1, "mx.self.test", false, { 0 }, 0, MX_NULL, NULL, 0 },
    { "null MX among others", { R(0, ""), R(10, "mx.a.test") }, 2, NULL, false, { 0 }, 0, MX_OK,
      "10 mx.a.test", 0 },
    { "others, then null MX", { R(20, "b"), R(0, "."), R(10, "a") }, 3, NULL, false, { 0 }, 0,
      MX_OK, "10 a 20 b", 0 },
    { "two roots", { R(0, ""), R(10, "") }, 2, NULL, false, { 0 }, 0, MX_UNUSABLE, NULL, 0 },
    /* names that are IP addresses */
    { "IPv4", { R(10, "192.0.2.1") }, 1, NULL, false, { 0 }, 0, MX_UNUSABLE, NULL, 0 },
    { "IPv4, trailing dot", { R(10, "192.0.2.1.") }, 1, NULL, false, { 0 }, 0, MX_UNUSABLE, NULL, 0 },
    { "IPv6", { R(10, "2001:db8::1") }, 1, NULL, false, { 0 }, 0, MX_UNUSABLE, NULL, 0 },
    { "IPv4-mapped IPv6", { R(10, "::ffff:192.0.2.1") }, 1, NULL, false, { 0 }, 0, MX_UNUSABLE,
      NULL, 0 },
    { "IP and host", { R(5, "192.0.2.1"), R(20, "mx.a.test"), R(1, "::1") }, 3, NULL, false, { 0 },
      0, MX_OK, "20 mx.a.test", 0 },
    { "not quite IPs", { R(10, "1.2.3"), R(20, "192.0.2.1x"), R(30, "[192.0.2.1]") }, 3, NULL,
      false, { 0 }, 0, MX_OK, "10 1.2.3 20 192.0.2.1x 30 [192.0.2.1]", 0 },
    { "numeric label", { R(10, "1.2.3.4.example") }, 1, NULL, false, { 0 }, 0, MX_OK,
      "10 1.2.3.4.example", 0 },
    /* duplicates keep the best preference */
    { "dup, better first", { R(10, "a"), R(20, "a") }, 2, NULL, false, { 0 }, 0, MX_OK, "10 a", 0 },
    { "dup, better last", { R(20, "a"), R(10, "a") }, 2, NULL, false, { 0 }, 0, MX_OK, "10 a", 0 },
    { "dup, any case", { R(20, "mx.A.test"), R(10, "b"), R(5, "MX.a.TEST") }, 3, NULL, false,
      { 0 }, 0, MX_OK, "5 mx.A.test 10 b", 0 },
    { "dup, trailing dot", { R(10, "a.test"), R(20, "a.test.") }, 2, NULL, false, { 0 }, 0, MX_OK,
      "10 a.test", 0 },
    { "dup, same pref", { R(10, "a"), R(10, "a"), R(10, "b") }, 3, NULL, false, { 0 }, 0, MX_OK,
      "10 a 10 b", 0 },
    /* ourselves (5.1): only better preferences may be tried */
    { "self in the middle", { R(10, "a"), R(20, "me.test"), R(30, "c") }, 3, "me.test", false,
      { 0 }, 0, MX_OK, "10 a", 0 },
    { "self, other case and dot", { R(10, "a"), R(20, "me.test"), R(30, "c") }, 3, "ME.Test.",
      false, { 0 }, 0, MX_OK, "10 a", 0 },
    { "self last", { R(10, "a"), R(20, "b"), R(30, "me") }, 3, "me", false, { 0 }, 0, MX_OK,
      "10 a 20 b", 0 },
    { "self shares its pref", { R(10, "a"), R(20, "b"), R(20, "me"), R(30, "c") }, 4, "me", false,
      { 0 }, 0, MX_OK, "10 a", 0 },
    { "self best", { R(10, "me"), R(20, "b") }, 2, "me", false, { 0 }, 0, MX_LOOP, NULL, 0 },
    { "self shares the best pref", { R(10, "a"), R(10, "me"), R(20, "b") }, 3, "me", false, { 0 },
      0, MX_LOOP, NULL, 0 },
    { "self alone", { R(10, "me") }, 1, "me", false, { 0 }, 0, MX_LOOP, NULL, 0 },
    { "self twice", { R(10, "a"), R(30, "me"), R(20, "ME") }, 3, "me", false, { 0 }, 0, MX_OK,
      "10 a", 0 },
    { "self absent", { R(10, "a"), R(20, "b") }, 2, "me", false, { 0 }, 0, MX_OK, "10 a 20 b", 0 },
    { "self a suffix", { R(10, "a"), R(20, "xme") }, 2, "me", false, { 0 }, 0, MX_OK, "10 a 20 xme",
      0 },
    { "self empty", { R(10, "a"), R(20, "b") }, 2, "", false, { 0 }, 0, MX_OK, "10 a 20 b", 0 },
    { "self and IPs", { R(10, "192.0.2.1"), R(20, "me") }, 2, "me", false, { 0 }, 0, MX_LOOP, NULL,
      0 },
    /* equal preferences shuffled by the caller's rnd (Fisher-Yates) */
    { "shuffle 2,1: no swap", { R(10, "a"), R(10, "b"), R(10, "c") }, 3, NULL, true, { 2, 1 }, 2,
      MX_OK, "10 a 10 b 10 c", 2 },
    { "shuffle 0,0", { R(10, "a"), R(10, "b"), R(10, "c") }, 3, NULL, true, { 0, 0 }, 2, MX_OK,
      "10 b 10 c 10 a", 2 },
    { "shuffle 1,0", { R(10, "a"), R(10, "b"), R(10, "c") }, 3, NULL, true, { 1, 0 }, 2, MX_OK,
      "10 c 10 a 10 b", 2 },
    { "shuffle, large numbers", { R(10, "a"), R(10, "b"), R(10, "c") }, 3, NULL, true,
      { 4000000000u, 4000000001u }, 2, MX_OK, "10 a 10 c 10 b", 2 },
    { "shuffle per pref", { R(10, "a"), R(20, "x"), R(10, "b"), R(20, "y") }, 4, NULL, true,
      { 0, 0 }, 2, MX_OK, "10 b 10 a 20 y 20 x", 2 },
    { "no rnd for single prefs", { R(30, "c"), R(10, "a"), R(20, "b") }, 3, NULL, true, { 0 }, 0,
      MX_OK, "10 a 20 b 30 c", 0 },
    { "shuffle, then self", { R(10, "a"), R(10, "b"), R(20, "me"), R(20, "d") }, 4, "me", true,
      { 0, 0 }, 2, MX_OK, "10 b 10 a", 2 },
};

/* test_mx_order - the mx_cases table */
static void
test_mx_order(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(mx_cases); i++) {
        const struct mx_case *c = &mx_cases[i];
        struct mx_record *v = malloc(sizeof(*v) * (c->n ? c->n : 1));
        struct script sc = { c->rnd, c->nrnd, 0 };
        size_t n = c->n;
        char got[512];

        assert_non_null(v);
        memcpy(v, c->in, sizeof(*v) * c->n);
        enum mx_status st = mx_order(v, &n, c->self, c->shuffle ? script_rnd : NULL, &sc);
        if (st != c->want)
            report("%s: status got %s, want %s", c->name, status_name(st), status_name(c->want));
        else if (st == MX_OK) {
            list(v, n, got, sizeof(got));
            if (strcmp(got, c->list) != 0)
                report("%s: list got \"%s\", want \"%s\"", c->name, got, c->list);
        } else if (n != 0)
            report("%s: n got %zu, want 0 after %s", c->name, n, status_name(st));
        if (c->shuffle && sc.calls != c->calls)
            report("%s: rnd calls got %zu, want %zu", c->name, sc.calls, c->calls);
        free(v);
    }
    assert_int_equal(failures, 0);
}

/* test_mx_shuffle_all - with every script, 3 equal records come out in
 * each of the 6 orders exactly once: the shuffle is uniform given a
 * uniform rnd. */
static void
test_mx_shuffle_all(void **state)
{
    char seen[6][32];
    size_t nseen = 0;

    (void)state;
    failures = 0;
    for (unsigned a = 0; a < 3; a++)
        for (unsigned b = 0; b < 2; b++) {
            struct mx_record v[] = { R(5, "a"), R(5, "b"), R(5, "c") };
            unsigned seq[] = { a, b };
            struct script sc = { seq, 2, 0 };
            size_t n = 3;
            char got[32];

            if (mx_order(v, &n, NULL, script_rnd, &sc) != MX_OK || n != 3)
                report("script %u,%u: got status or n wrong, want MX_OK and 3", a, b);
            list(v, n, got, sizeof(got));
            for (size_t k = 0; k < nseen; k++)
                if (strcmp(seen[k], got) == 0)
                    report("script %u,%u: got \"%s\" again, want a new order", a, b, got);
            if (nseen < 6)
                snprintf(seen[nseen++], sizeof(seen[0]), "%s", got);
        }
    if (nseen != 6)
        report("orders got %zu, want 6", nseen);
    assert_int_equal(failures, 0);
}

/* test_mx_many - 64 records (DNS_MAX_RECORDS) in reverse order, with
 * duplicates every other record */
static void
test_mx_many(void **state)
{
    struct mx_record v[64];
    size_t n = 64;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < 64; i++) {
        v[i].pref = (unsigned)(64 - i);
        snprintf(v[i].host, sizeof(v[i].host), "mx%zu.test", (64 - i) / 2);
    }
    if (mx_order(v, &n, NULL, NULL, NULL) != MX_OK)
        report("64 records: got a status, want MX_OK");
    if (n != 33)
        report("64 records: n got %zu, want 33", n);
    for (size_t i = 0; i < n; i++) {
        char want[32];
        unsigned wpref = i == 0 ? 1 : (unsigned)(2 * i);

        snprintf(want, sizeof(want), "mx%zu.test", i);
        if (v[i].pref != wpref || strcmp(v[i].host, want) != 0)
            report("64 records, #%zu: got %u %s, want %u %s", i, v[i].pref, v[i].host, wpref, want);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mx_order),
        cmocka_unit_test(test_mx_shuffle_all),
        cmocka_unit_test(test_mx_many),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
