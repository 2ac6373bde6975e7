/*
 * test_header - unit tests for src/mail/header.c: where the header
 * section of a message ends, and whether it holds a field.
 *
 * Messages are in the queue's LF form. Table-driven: every mismatch is
 * reported as "got ..., want ..." and the test fails at the end. Each
 * message is passed as a heap copy of exactly its length (no NUL after
 * it), so AddressSanitizer catches a read past the end.
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

#include "mail/header.h"

/* header lines: LF by name */
#define SHOW_STYLE { .esc = "\n" }
#include "check.h"

/* ---- header_end -------------------------------------------------------- */

#define NONE ((size_t)-1)   /* want: no empty line, header_end returns n */

static const struct {
    const char *msg;
    size_t      len;
    size_t      want;
} end_cases[] = {
    /* empty message */
    { S(""),                                 NONE },
    /* no header: the message starts with the empty line */
    { S("\n"),                               0 },
    { S("\nbody\n"),                         0 },
    { S("\n\n\n"),                           0 },
    { S("\nSubject: in the body\n"),         0 },
    /* no body: header, empty line, nothing after it */
    { S("Subject: hi\n\n"),                  12 },
    { S("From: a@example.org\nTo: b@example.org\n\n"), 38 },
    /* the body starts at once after the empty line */
    { S("Subject: hi\n\nbody"),              12 },
    { S("Subject: hi\n\n\nbody after a blank line\n"), 12 },
    { S("A: 1\nB: 2\n\nC: 3\n\nD: 4\n"),     10 },
    /* no empty line at all: all header */
    { S("Subject: hi\n"),                    NONE },
    { S("Subject: hi"),                      NONE },
    { S("Subject: hi\nTo: b@example.org"),   NONE },
    { S("just one line of text"),            NONE },
    /* a line of white space is not empty (RFC 5322 2.1: the empty line
     * is CRLF alone); it is part of the header */
    { S("Subject: hi\n \nbody\n"),           NONE },
    { S("Subject: hi\n\t\nbody\n"),          NONE },
    { S("Subject: hi\n \n\nbody\n"),         14 },
    /* continuation lines are header, the empty line after them ends it */
    { S("Subject: a\n long\n\tsubject\n\nbody"), 26 },
    /* CR is an ordinary octet in LF form: "\r\n" is not an empty line */
    { S("Subject: hi\r\n\r\nbody"),          NONE },
    /* NUL octets do not end anything */
    { S("Sub\0ject: hi\n\nb\0dy"),           13 },
    { S("\0\n\n"),                           2 },
};

static void
test_header_end(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(end_cases); i++) {
        size_t n = end_cases[i].len;
        size_t want = end_cases[i].want == NONE ? n : end_cases[i].want;
        char *msg = copy(end_cases[i].msg, n);
        size_t got = header_end(msg, n);

        if (got != want)
            report("header_end(\"%s\"): got %zu, want %zu%s", show(msg, n), got, want,
                   end_cases[i].want == NONE ? " (n: no empty line)" : "");
        else if (got < n && msg[got] != '\n')
            report("header_end(\"%s\"): got %zu, which is not an LF", show(msg, n), got);
        free(msg);
    }
    assert_int_equal(failures, 0);
}

/* test_header_end_prefix - every prefix of a message: never past n */
static void
test_header_end_prefix(void **state)
{
    static const char m[] = "From: a@example.org\nSubject: x\n y\n\nbody\n\nmore\n";
    const size_t full = sizeof(m) - 1, blank = 34;

    (void)state;
    failures = 0;
    assert_int_equal(m[blank], '\n');
    assert_int_equal(m[blank - 1], '\n');
    for (size_t n = 0; n <= full; n++) {
        char *msg = copy(m, n);
        size_t got = header_end(msg, n);
        size_t want = n > blank ? blank : n;
        if (got != want)
            report("header_end(first %zu octets): got %zu, want %zu", n, got, want);
        free(msg);
    }
    assert_int_equal(failures, 0);
}

/* ---- header_present ---------------------------------------------------- */

static const struct {
    const char *msg;
    size_t      len;
    const char *name;
    bool        want;
} present_cases[] = {
    { S("Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nbody\n"), "Date", true },
    { S("Subject: x\nDate: now\n\nbody\n"),       "Date",       true },
    { S("Subject: x\nMessage-ID: <a@b>\n\n"),     "Message-ID", true },
    /* any case, both in the message and in the name */
    { S("DATE: now\n\n"),                         "Date",       true },
    { S("date: now\n\n"),                         "Date",       true },
    { S("dAtE: now\n\n"),                         "DATE",       true },
    { S("message-id: <a@b>\n\n"),                 "Message-ID", true },
    { S("MESSAGE-ID: <a@b>\n\n"),                 "message-id", true },
    /* white space before the colon (obsolete syntax, RFC 5322 4.5.3) */
    { S("Date : now\n\n"),                        "Date",       true },
    { S("Date\t: now\n\n"),                       "Date",       true },
    { S("Date \t  : now\n\n"),                    "Date",       true },
    /* no value, and no white space after the colon, is still a field */
    { S("Date:\n\n"),                             "Date",       true },
    { S("Date:now\n\n"),                          "Date",       true },
    /* no colon: not that field */
    { S("Date now\n\n"),                          "Date",       false },
    { S("Date\n\n"),                              "Date",       false },
    { S("Date"),                                  "Date",       false },
    { S("Date \n: now\n\n"),                      "Date",       false },
    /* continuation lines are not fields */
    { S("Subject: x\n Date: y\n\n"),              "Date",       false },
    { S("Subject: x\n\tDate: y\n\n"),             "Date",       false },
    { S("Subject: a\n  Message-ID: <x@y>\n\n"),   "Message-ID", false },
    /* a name that is a prefix of another, or the other way round */
    { S("Date-Received: now\n\n"),                "Date",       false },
    { S("Dates: now\n\n"),                        "Date",       false },
    { S("Date-Received: now\nDate: then\n\n"),    "Date",       true },
    { S("Date: now\n\n"),                         "Date-Received", false },
    { S("Message-ID-Hash: x\n\n"),                "Message-ID", false },
    { S("Message: x\n\n"),                        "Message-ID", false },
    /* or a suffix: the name starts the line */
    { S("X-Date: now\n\n"),                       "Date",       false },
    { S("Resent-Message-ID: <a@b>\n\n"),          "Message-ID", false },
    /* fields in the body do not count */
    { S("Subject: x\n\nDate: now\n"),             "Date",       false },
    { S("\nDate: now\n"),                         "Date",       false },
    { S("Subject: x\n\nMessage-ID: <a@b>\n"),     "Message-ID", false },
    { S("Subject: x\n\n\nDate: now\n"),           "Date",       false },
    /* no empty line: the whole message is header */
    { S("Subject: x\nDate: now"),                 "Date",       true },
    { S("Subject: x\nDate:"),                     "Date",       true },
    { S("Date: now"),                             "Date",       true },
    /* nothing at all */
    { S(""),                                      "Date",       false },
    { S("\n"),                                    "Date",       false },
    /* the field as the last line before the empty line, and the first */
    { S("A: 1\nB: 2\nDate: now\n\nbody"),         "Date",       true },
    { S("Date: now\nA: 1\nB: 2\n\nbody"),         "Date",       true },
    /* a white-space line does not end the header (see header_end) */
    { S("Subject: x\n \nDate: now\n\n"),          "Date",       true },
};

static void
test_header_present(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(present_cases); i++) {
        size_t n = present_cases[i].len;
        char *msg = copy(present_cases[i].msg, n);
        bool got = header_present(msg, n, present_cases[i].name);

        if (got != present_cases[i].want)
            report("header_present(\"%s\", \"%s\"): got %s, want %s", show(msg, n),
                   present_cases[i].name, got ? "true" : "false",
                   present_cases[i].want ? "true" : "false");
        free(msg);
    }
    assert_int_equal(failures, 0);
}

/* test_header_present_prefix - "Date: x" cut short at every length */
static void
test_header_present_prefix(void **state)
{
    static const char m[] = "Subject: x\nDate: now\n\nMessage-ID: <body@x>\n";

    (void)state;
    failures = 0;
    for (size_t n = 0; n <= sizeof(m) - 1; n++) {
        char *msg = copy(m, n);
        bool want = n >= 16;            /* "Subject: x\nDate:" */
        bool got = header_present(msg, n, "Date");
        if (got != want)
            report("header_present(first %zu octets, \"Date\"): got %s, want %s", n,
                   got ? "true" : "false", want ? "true" : "false");
        got = header_present(msg, n, "Message-ID");
        if (got)
            report("header_present(first %zu octets, \"Message-ID\"): got true, want false", n);
        free(msg);
    }
    assert_int_equal(failures, 0);
}

/* ---- header_stats ------------------------------------------------------ */

static const struct {
    const char *msg;
    size_t      len;
    size_t      fields, octets;
} stats_cases[] = {
    { S(""),                                        0, 0 },
    { S("\nbody\n"),                                0, 0 },
    { S("Subject: hi\n\nbody\n"),                    1, 12 },
    { S("Subject: hi\nTo: b@example.org\n\nbody"),     2, 30 },
    /* continuation lines belong to their field */
    { S("Subject: a\n long\n\tsubject\n\nbody"),       1, 26 },
    /* a text without header fields has none, however long */
    { S("just text\nmore text\n"),                    0, 0 },
    { S("Subject: hi\njust text\nTo: x\n\n"),           1, 12 },
    /* a continuation of nothing is not a header */
    { S(" folded\nSubject: hi\n\n"),                   0, 0 },
    /* obsolete white space before the colon (RFC 5322 4.5.3) */
    { S("Subject : hi\n\n"),                          1, 13 },
    /* a colon first, or a space inside the name: not a field */
    { S(": hi\n\n"),                                  0, 0 },
    { S("Sub ject: hi\n\n"),                          0, 0 },
    /* no LF at the end: the last field still counts */
    { S("A: 1\nB: 2"),                                 2, 9 },
    { S("A: 1\nB: 2\n"),                               2, 10 },
};

static void
test_header_stats(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(stats_cases); i++) {
        size_t n = stats_cases[i].len, fields = 99, octets = 99;
        char *msg = copy(stats_cases[i].msg, n);
        header_stats(msg, n, &fields, &octets);
        if (fields != stats_cases[i].fields || octets != stats_cases[i].octets)
            report("header_stats(\"%s\"): got %zu fields in %zu octets, want %zu in %zu",
                   show(msg, n), fields, octets, stats_cases[i].fields, stats_cases[i].octets);
        free(msg);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_end),
        cmocka_unit_test(test_header_end_prefix),
        cmocka_unit_test(test_header_present),
        cmocka_unit_test(test_header_present_prefix),
        cmocka_unit_test(test_header_stats),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
