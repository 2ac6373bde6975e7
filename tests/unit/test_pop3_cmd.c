/*
 * test_pop3_cmd - unit tests for src/pop3/pop3_cmd.c: POP3 command
 * lines, argument counts and message numbers.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end, so one run shows all broken rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pop3/pop3_cmd.h"

#include "check.h"

/* One pop3_cmd_parse() case; args and nums are checked on POP3_CMD_OK. */
struct cmd_case {
    const char        *line;
    size_t             len;
    enum pop3_cmd_err  err;
    enum pop3_verb     verb;
    unsigned           argc;
    const char        *arg0, *arg1;
    uint32_t           num0, num1;
};

static const struct cmd_case cmd_cases[] = {
    /* no arguments, any case */
    { S("QUIT"), POP3_CMD_OK, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0 },
    { S("quit"), POP3_CMD_OK, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0 },
    { S("QuIt"), POP3_CMD_OK, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0 },
    { S("STAT"), POP3_CMD_OK, POP3_CMD_STAT, 0, NULL, NULL, 0, 0 },
    { S("NOOP"), POP3_CMD_OK, POP3_CMD_NOOP, 0, NULL, NULL, 0, 0 },
    { S("RSET"), POP3_CMD_OK, POP3_CMD_RSET, 0, NULL, NULL, 0, 0 },
    { S("CAPA"), POP3_CMD_OK, POP3_CMD_CAPA, 0, NULL, NULL, 0, 0 },
    { S("stls"), POP3_CMD_OK, POP3_CMD_STLS, 0, NULL, NULL, 0, 0 },
    { S("QUIT now"), POP3_CMD_EARGS, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0 },
    { S("STLS x"), POP3_CMD_EARGS, POP3_CMD_STLS, 0, NULL, NULL, 0, 0 },
    /* LIST / UIDL: 0 or 1 message number */
    { S("LIST"), POP3_CMD_OK, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
    { S("LIST 1"), POP3_CMD_OK, POP3_CMD_LIST, 1, "1", NULL, 1, 0 },
    { S("uidl 42"), POP3_CMD_OK, POP3_CMD_UIDL, 1, "42", NULL, 42, 0 },
    { S("UIDL"), POP3_CMD_OK, POP3_CMD_UIDL, 0, NULL, NULL, 0, 0 },
    { S("LIST 1 2"), POP3_CMD_EARGS, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
    { S("LIST 0"), POP3_CMD_ENUMBER, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
    { S("LIST x"), POP3_CMD_ENUMBER, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
    /* RETR / DELE: exactly one, 1..2^31-1, digits only */
    { S("RETR 1"), POP3_CMD_OK, POP3_CMD_RETR, 1, "1", NULL, 1, 0 },
    { S("RETR 2147483647"), POP3_CMD_OK, POP3_CMD_RETR, 1, "2147483647", NULL,
      2147483647u, 0 },
    { S("RETR 007"), POP3_CMD_OK, POP3_CMD_RETR, 1, "007", NULL, 7, 0 },
    { S("RETR 2147483648"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR 99999999999999999999999"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL,
      NULL, 0, 0 },
    { S("RETR 0"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR +1"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR -1"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR 1x"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR 0x1"), POP3_CMD_ENUMBER, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR"), POP3_CMD_EARGS, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("RETR 1 2"), POP3_CMD_EARGS, POP3_CMD_RETR, 0, NULL, NULL, 0, 0 },
    { S("DELE 3"), POP3_CMD_OK, POP3_CMD_DELE, 1, "3", NULL, 3, 0 },
    { S("DELE"), POP3_CMD_EARGS, POP3_CMD_DELE, 0, NULL, NULL, 0, 0 },
    /* TOP msg n: n may be 0 */
    { S("TOP 1 0"), POP3_CMD_OK, POP3_CMD_TOP, 2, "1", "0", 1, 0 },
    { S("top 5 10"), POP3_CMD_OK, POP3_CMD_TOP, 2, "5", "10", 5, 10 },
    { S("TOP 1"), POP3_CMD_EARGS, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    { S("TOP"), POP3_CMD_EARGS, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    { S("TOP 1 2 3"), POP3_CMD_EARGS, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    { S("TOP 0 1"), POP3_CMD_ENUMBER, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    { S("TOP 1 -1"), POP3_CMD_ENUMBER, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    { S("TOP 1 2147483648"), POP3_CMD_ENUMBER, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    /* USER, APOP */
    { S("USER alice@example.test"), POP3_CMD_OK, POP3_CMD_USER, 1,
      "alice@example.test", NULL, 0, 0 },
    { S("USER"), POP3_CMD_EARGS, POP3_CMD_USER, 0, NULL, NULL, 0, 0 },
    { S("USER a b"), POP3_CMD_EARGS, POP3_CMD_USER, 0, NULL, NULL, 0, 0 },
    { S("APOP mrose c4c9334bac560ecc979e58001b3e22fb"), POP3_CMD_OK, POP3_CMD_APOP,
      2, "mrose", "c4c9334bac560ecc979e58001b3e22fb", 0, 0 },
    { S("APOP mrose"), POP3_CMD_EARGS, POP3_CMD_APOP, 0, NULL, NULL, 0, 0 },
    /* PASS: the rest of the line, spaces included */
    { S("PASS secret"), POP3_CMD_OK, POP3_CMD_PASS, 1, "secret", NULL, 0, 0 },
    { S("PASS two words "), POP3_CMD_OK, POP3_CMD_PASS, 1, "two words ", NULL, 0, 0 },
    { S("PASS  lead"), POP3_CMD_OK, POP3_CMD_PASS, 1, " lead", NULL, 0, 0 },
    { S("pass \xc3\xa9t\xc3\xa9"), POP3_CMD_OK, POP3_CMD_PASS, 1, "\xc3\xa9t\xc3\xa9",
      NULL, 0, 0 },
    { S("PASS"), POP3_CMD_EARGS, POP3_CMD_PASS, 0, NULL, NULL, 0, 0 },
    { S("PASS "), POP3_CMD_EARGS, POP3_CMD_PASS, 0, NULL, NULL, 0, 0 },
    { S("PASS a\tb"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    /* AUTH mechanism [initial-response] (RFC 5034 4) */
    { S("AUTH PLAIN"), POP3_CMD_OK, POP3_CMD_AUTH, 1, "PLAIN", NULL, 0, 0 },
    { S("AUTH PLAIN AGFsaWNlAHNlY3JldA=="), POP3_CMD_OK, POP3_CMD_AUTH, 2, "PLAIN",
      "AGFsaWNlAHNlY3JldA==", 0, 0 },
    { S("AUTH PLAIN ="), POP3_CMD_OK, POP3_CMD_AUTH, 2, "PLAIN", "=", 0, 0 },
    { S("AUTH"), POP3_CMD_EARGS, POP3_CMD_AUTH, 0, NULL, NULL, 0, 0 },
    { S("AUTH A B C"), POP3_CMD_EARGS, POP3_CMD_AUTH, 0, NULL, NULL, 0, 0 },
    /* separators: exactly one space */
    { S("LIST  1"), POP3_CMD_ESYNTAX, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
    { S("LIST 1 "), POP3_CMD_ESYNTAX, POP3_CMD_LIST, 0, NULL, NULL, 0, 0 },
    { S("QUIT "), POP3_CMD_ESYNTAX, POP3_CMD_QUIT, 0, NULL, NULL, 0, 0 },
    { S(" QUIT"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("TOP 1  2"), POP3_CMD_ESYNTAX, POP3_CMD_TOP, 0, NULL, NULL, 0, 0 },
    /* keyword shape and control characters */
    { S(""), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QU"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QUITS"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("STARTTLS"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QU1T"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QUIT\r"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QUIT\0"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QU\0T"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QUIT\x7f"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("QUIT\tx"), POP3_CMD_ESYNTAX, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    /* unknown keywords */
    { S("XTND"), POP3_CMD_EUNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("HELO x"), POP3_CMD_EUNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("GET / HTTP/1.1"), POP3_CMD_EUNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
    { S("LAST"), POP3_CMD_EUNKNOWN, POP3_CMD_NONE, 0, NULL, NULL, 0, 0 },
};

/* check_arg - compare argument k of cmd with want */
static void
check_arg(const struct cmd_case *c, const struct pop3_cmd *cmd, unsigned k,
          const char *want)
{
    if (want == NULL) {
        if (cmd->arg[k] != NULL || cmd->arglen[k] != 0)
            report("pop3_cmd_parse(\"%s\"): got arg%u \"%s\", want NULL",
                   show(c->line, c->len), k, show(cmd->arg[k], cmd->arglen[k]));
        return;
    }
    if (cmd->arg[k] == NULL || cmd->arg[k] < c->line || cmd->arg[k] > c->line + c->len
        || cmd->arglen[k] != strlen(want) || memcmp(cmd->arg[k], want, cmd->arglen[k]) != 0)
        report("pop3_cmd_parse(\"%s\"): got arg%u \"%s\", want \"%s\"",
               show(c->line, c->len), k, show(cmd->arg[k], cmd->arglen[k]), show(want, strlen(want)));
}

/* test_cmd_parse - keywords, argument counts, numbers */
static void
test_cmd_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cmd_cases) / sizeof(cmd_cases[0]); i++) {
        const struct cmd_case *c = &cmd_cases[i];
        struct pop3_cmd cmd;
        enum pop3_cmd_err got;

        memset(&cmd, 0x5a, sizeof(cmd));
        got = pop3_cmd_parse(c->line, c->len, &cmd);
        if (got != c->err || cmd.verb != c->verb || cmd.argc != c->argc) {
            report("pop3_cmd_parse(\"%s\"): got %s verb %s argc %u, want %s verb %s argc %u",
                   show(c->line, c->len), pop3_cmd_strerror(got), pop3_cmd_name(cmd.verb),
                   cmd.argc, pop3_cmd_strerror(c->err), pop3_cmd_name(c->verb), c->argc);
            continue;
        }
        check_arg(c, &cmd, 0, c->arg0);
        check_arg(c, &cmd, 1, c->arg1);
        if (cmd.num[0] != c->num0 || cmd.num[1] != c->num1)
            report("pop3_cmd_parse(\"%s\"): got num %u %u, want %u %u",
                   show(c->line, c->len), cmd.num[0], cmd.num[1], c->num0, c->num1);
    }
    assert_int_equal(failures, 0);
}

/* test_line_limit - RFC 2449 4: 255 octets including CRLF */
static void
test_line_limit(void **state)
{
    static const struct {
        size_t            len;      /* without CRLF */
        enum pop3_cmd_err err;
    } cases[] = {
        { 253, POP3_CMD_OK },
        { 254, POP3_CMD_ETOOLONG },
        { 1000, POP3_CMD_ETOOLONG },
    };
    char line[1001];
    struct pop3_cmd cmd;

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum pop3_cmd_err got;

        memset(line, 'x', sizeof(line));
        memcpy(line, "PASS ", 5);
        got = pop3_cmd_parse(line, cases[i].len, &cmd);
        if (got != cases[i].err)
            report("pop3_cmd_parse(PASS, %zu octets): got %s, want %s", cases[i].len,
                   pop3_cmd_strerror(got), pop3_cmd_strerror(cases[i].err));
        else if (got == POP3_CMD_OK && cmd.arglen[0] != cases[i].len - 5)
            report("pop3_cmd_parse(PASS, %zu octets): got arglen %zu, want %zu",
                   cases[i].len, cmd.arglen[0], cases[i].len - 5);
    }
    assert_int_equal(failures, 0);
}

/* test_number - pop3_cmd_number on its own */
static void
test_number(void **state)
{
    static const struct {
        const char *s;
        uint32_t    min;
        bool        ok;
        uint32_t    want;
    } cases[] = {
        { "1", 1, true, 1 },
        { "0", 0, true, 0 },
        { "0", 1, false, 0 },
        { "2147483647", 1, true, 2147483647u },
        { "2147483648", 1, false, 0 },
        { "4294967296", 0, false, 0 },
        { "18446744073709551617", 0, false, 0 },
        { "", 0, false, 0 },
        { "+1", 0, false, 0 },
        { "-0", 0, false, 0 },
        { " 1", 0, false, 0 },
        { "1 ", 0, false, 0 },
        { "00000000000000000000001", 1, true, 1 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t got = 12345;
        bool ok = pop3_cmd_number(cases[i].s, strlen(cases[i].s), cases[i].min, &got);

        if (ok != cases[i].ok || (ok && got != cases[i].want))
            report("pop3_cmd_number(\"%s\", %u): got %d %u, want %d %u", cases[i].s,
                   cases[i].min, ok, got, cases[i].ok, cases[i].want);
        if (!ok && got != 12345)
            report("pop3_cmd_number(\"%s\"): got *out changed to %u, want untouched",
                   cases[i].s, got);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_parse),
        cmocka_unit_test(test_line_limit),
        cmocka_unit_test(test_number),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
