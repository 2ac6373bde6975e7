/*
 * test_smtpc - unit tests for the pure parts of src/cli/smtpc.c, the
 * command line's SMTP client: HOST[:PORT] arguments, DATA encoding (CRLF
 * line ends and dot-stuffing, RFC 5321 4.5.2), the AUTH PLAIN response
 * (RFC 4616) and the SASL mechanisms of an EHLO reply.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end. The dialogue itself (connections, timeouts, TLS)
 * is tested against real servers in tests/integration/test_connect.py and
 * test_send.py.
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

#include "cli/smtpc.h"
#include "relay/reply.h"
#include "util/buf.h"

#define SHOW_STYLE { .esc = "\r\n" }
#include "check.h"

static void
test_split_hostport(void **state)
{
    static const struct {
        const char *arg;
        int         rc;
        const char *host, *port;
    } cases[] = {
        { "mail.example.org", 0, "mail.example.org", "" },
        { "mail.example.org:587", 0, "mail.example.org", "587" },
        { "mail.example.org:0465", 0, "mail.example.org", "465" },    /* numeric value */
        { "192.0.2.1:25", 0, "192.0.2.1", "25" },
        { "[2001:db8::1]:465", 0, "2001:db8::1", "465" },
        { "[2001:db8::1]", 0, "2001:db8::1", "" },
        { "2001:db8::1", 0, "2001:db8::1", "" },                      /* bare IPv6: no port */
        { "::1", 0, "::1", "" },
        { "h:65535", 0, "h", "65535" },
        { "h:65536", -1, NULL, NULL },
        { "h:0", -1, NULL, NULL },
        { "h:", -1, NULL, NULL },
        { "h:587x", -1, NULL, NULL },
        { "h:-1", -1, NULL, NULL },
        { "h:123456", -1, NULL, NULL },
        { ":587", -1, NULL, NULL },
        { "", -1, NULL, NULL },
        { "[]:25", -1, NULL, NULL },
        { "[::1", -1, NULL, NULL },
        { "[::1]x", -1, NULL, NULL },
        { "[::1]:", -1, NULL, NULL },
        { "a b:25", -1, NULL, NULL },
        { "a/b", -1, NULL, NULL },
        { "a\r\nRCPT:25", -1, NULL, NULL },
    };
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char host[256] = "unset", port[8] = "unset";
        int rc = smtpc_split_hostport(cases[i].arg, host, sizeof(host), port, sizeof(port));
        if (rc != cases[i].rc) {
            report("split(\"%s\"): got %d, want %d", showz(cases[i].arg), rc, cases[i].rc);
            continue;
        }
        if (rc == 0 && (strcmp(host, cases[i].host) || strcmp(port, cases[i].port)))
            report("split(\"%s\"): got host \"%s\" port \"%s\", want \"%s\" \"%s\"",
                   cases[i].arg, host, port, cases[i].host, cases[i].port);
    }
    /* a host too long for the buffer is refused, not cut */
    {
        char host[8], port[8];
        if (smtpc_split_hostport("abcdefgh:25", host, sizeof(host), port, sizeof(port)) != -1)
            report("split of a host longer than the buffer: got 0, want -1");
    }
    assert_int_equal(failures, 0);
}

static void
test_data_encode(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        { "", ".\r\n" },
        { "a", "a\r\n.\r\n" },
        { "a\r\n", "a\r\n.\r\n" },
        { "a\n", "a\r\n.\r\n" },
        { "a\nb\n", "a\r\nb\r\n.\r\n" },
        { "a\rb", "a\r\nb\r\n.\r\n" },                  /* a lone CR is a line end too */
        { "a\r\r\nb", "a\r\n\r\nb\r\n.\r\n" },
        { "a\n\nb", "a\r\n\r\nb\r\n.\r\n" },
        { ".", "..\r\n.\r\n" },                         /* a lone dot is data */
        { ".\n", "..\r\n.\r\n" },
        { "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },
        { "a\r\n..b\r\n", "a\r\n...b\r\n.\r\n" },
        { "a.b\n .c\n", "a.b\r\n .c\r\n.\r\n" },        /* only at the start of a line */
        { "x\r\n.\r\n", "x\r\n..\r\n.\r\n" },           /* an end mark inside is stuffed */
    };
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct buf b = BUF_INIT;
        size_t n = strlen(cases[i].in);
        char *in = copy(cases[i].in, n);
        smtpc_data_encode(&b, in, n);
        if (b.len != strlen(cases[i].want) || memcmp(b.data, cases[i].want, b.len) != 0)
            report("encode(\"%s\"): got \"%s\", want \"%s\"", show(cases[i].in, n),
                   show(b.data, b.len), showz(cases[i].want));
        free(in);
        buf_free(&b);
    }
    assert_int_equal(failures, 0);
}

static void
test_auth_plain(void **state)
{
    static const struct {
        const char *user, *pw, *want;
    } cases[] = {
        /* base64 of "\0alice@example.test\0secret" */
        { "alice@example.test", "secret", "AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=" },
        { "a", "b", "AGEAYg==" },
        { "", "b", NULL },
        { "a", "", NULL },
    };
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *got = smtpc_auth_plain(cases[i].user, cases[i].pw);
        if ((got == NULL) != (cases[i].want == NULL)
            || (got && strcmp(got, cases[i].want) != 0))
            report("plain(\"%s\", \"%s\"): got %s, want %s", cases[i].user, cases[i].pw,
                   showz(got), showz(cases[i].want));
        free(got);
    }
    assert_int_equal(failures, 0);
}

static void
test_auth_mechs(void **state)
{
    static const struct {
        const char *lines[8];
        const char *want;
    } cases[] = {
        { { "250-mx.example.org", "250-AUTH PLAIN LOGIN", "250 8BITMIME" }, "PLAIN LOGIN" },
        { { "250-mx", "250-AUTH=LOGIN PLAIN", "250-AUTH LOGIN PLAIN CRAM-MD5" },
          "LOGIN PLAIN CRAM-MD5" },
        { { "250-mx", "250-auth plain xoauth2", "250 SIZE 100" }, "PLAIN XOAUTH2" },
        { { "250-mx", "250-AUTHX PLAIN", "250 SIZE 100" }, "" },
        { { "250-mx", "250-AUTH", "250 SIZE 100" }, "" },
        { { "250 mx AUTH PLAIN" }, "" },            /* the first line is the server's name */
        { { "250-mx", "250 AUTH  PLAIN   LOGIN " }, "PLAIN LOGIN" },
        { { "250-mx", "250-AUTH PLAINX PLAIN" }, "PLAINX PLAIN" },
    };
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        struct smtp_reply r;
        char got[256];
        reply_init(&r);
        for (size_t k = 0; k < 8 && cases[i].lines[k]; k++)
            if (reply_feed_line(&r, cases[i].lines[k], strlen(cases[i].lines[k])) < 0)
                report("case %zu: line %zu does not parse", i, k);
        smtpc_auth_mechs(&r, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            report("mechs #%zu: got \"%s\", want \"%s\"", i, got, cases[i].want);
        reply_free(&r);
    }
    /* a small buffer takes what fits, whole words only */
    {
        struct smtp_reply r;
        char small[12];
        reply_init(&r);
        reply_feed_line(&r, S("250-mx"));
        reply_feed_line(&r, S("250 AUTH PLAIN LOGIN CRAM-MD5"));
        smtpc_auth_mechs(&r, small, sizeof(small));
        if (strcmp(small, "PLAIN LOGIN") != 0)
            report("mechs in 12 octets: got \"%s\", want \"PLAIN LOGIN\"", small);
        reply_free(&r);
    }
    assert_int_equal(failures, 0);
}

static void
test_status_names(void **state)
{
    (void)state;
    failures = 0;
    for (int st = SMTPC_OK; st <= SMTPC_IO_ERROR; st++)
        if (strcmp(smtpc_status_name((enum smtpc_status)st), "?") == 0)
            report("status %d has no name", st);
    if (strcmp(smtpc_status_name(SMTPC_REFUSED), "refused") != 0)
        report("refused: got %s", smtpc_status_name(SMTPC_REFUSED));
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_hostport),
        cmocka_unit_test(test_data_encode),
        cmocka_unit_test(test_auth_plain),
        cmocka_unit_test(test_auth_mechs),
        cmocka_unit_test(test_status_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
