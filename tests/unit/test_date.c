/*
 * test_date - unit tests for src/util/date.c: days from the epoch of
 * proleptic Gregorian dates, checked against Python's datetime.date.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>

#include "util/date.h"

#include "check.h"

static const struct {
    int64_t y;
    int     m, d;
    int64_t days;
} cases[] = {
    { 1970, 1, 1, 0 },
    { 1969, 12, 31, -1 },
    { 2000, 2, 29, 11016 },         /* a leap day of a year divisible by 400 */
    { 2000, 3, 1, 11017 },
    { 1900, 3, 1, -25508 },         /* 1900 was no leap year */
    { 1600, 2, 29, -135081 },
    { 2026, 11, 29, 20786 },
    { 1, 1, 1, -719162 },
    { 9999, 12, 31, 2932896 },
};

static void
test_days_from_civil(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        int64_t got = date_days_from_civil(cases[i].y, cases[i].m, cases[i].d);
        if (got != cases[i].days)
            report("%lld-%02d-%02d: got %lld, want %lld", (long long)cases[i].y, cases[i].m,
                   cases[i].d, (long long)got, (long long)cases[i].days);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_from_civil),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
