/*
 * fuzz_pop3_cmd - a POP3 command line from a client (without its CRLF)
 * through pop3_cmd_parse(), and the whole line through pop3_cmd_number().
 *
 * Checks what pop3_cmd.h promises:
 *  - lines over POP3_CMD_LINE_MAX - 2 octets are POP3_CMD_ETOOLONG;
 *  - on POP3_CMD_OK: a known verb whose name is the line's keyword (any
 *    case), at most POP3_CMD_ARGS_MAX non-empty arguments inside the
 *    line, message numbers 1..POP3_CMD_NUM_MAX for LIST/UIDL/RETR/DELE/
 *    TOP and a TOP line count 0..POP3_CMD_NUM_MAX, matching the digits;
 *  - on an error, argc is 0;
 *  - pop3_cmd_number() accepts digits only, within its range.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pop3/pop3_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* check_number - num is the value of the digits s[0..n) */
static void
check_number(const char *s, size_t n, uint32_t num, uint32_t min)
{
    uint64_t v = 0;

    CHECK(n >= 1);
    for (size_t i = 0; i < n; i++) {
        CHECK(s[i] >= '0' && s[i] <= '9');
        v = v * 10 + (uint64_t)(s[i] - '0');
        CHECK(v <= POP3_CMD_NUM_MAX);
    }
    CHECK(v == num && v >= min);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1);       /* exact size: ASan sees overreads */
    struct pop3_cmd cmd;
    enum pop3_cmd_err e;
    uint32_t num = 0;

    memcpy(line, data, size);
    e = pop3_cmd_parse(line, size, &cmd);
    CHECK(pop3_cmd_strerror(e) != NULL);
    CHECK((size > POP3_CMD_LINE_MAX - 2) == (e == POP3_CMD_ETOOLONG));
    if (e == POP3_CMD_OK) {
        const char *name = pop3_cmd_name(cmd.verb);
        size_t kw = strlen(name);

        CHECK(cmd.verb != POP3_CMD_NONE && cmd.argc <= POP3_CMD_ARGS_MAX);
        CHECK(size >= kw && strncasecmp(line, name, kw) == 0 && (size == kw || line[kw] == ' '));
        for (unsigned i = 0; i < cmd.argc; i++)
            CHECK(cmd.arglen[i] > 0 && cmd.arg[i] > line &&
                  cmd.arg[i] + cmd.arglen[i] <= line + size);
        switch (cmd.verb) {
        case POP3_CMD_LIST: case POP3_CMD_UIDL: case POP3_CMD_RETR: case POP3_CMD_DELE:
            if (cmd.argc == 1)
                check_number(cmd.arg[0], cmd.arglen[0], cmd.num[0], 1);
            break;
        case POP3_CMD_TOP:
            CHECK(cmd.argc == 2);
            check_number(cmd.arg[0], cmd.arglen[0], cmd.num[0], 1);
            check_number(cmd.arg[1], cmd.arglen[1], cmd.num[1], 0);
            break;
        default:
            CHECK(cmd.num[0] == 0 && cmd.num[1] == 0);
        }
    } else
        CHECK(cmd.argc == 0);

    if (pop3_cmd_number(line, size, 0, &num))
        check_number(line, size, num, 0);
    if (pop3_cmd_number(line, size, 1, &num))
        check_number(line, size, num, 1);
    free(line);
    return 0;
}
