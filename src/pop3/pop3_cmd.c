/*
 * pop3_cmd - POP3 command lines; see pop3_cmd.h.
 *
 * This module only splits and checks text. It does not decide whether a
 * command is allowed in the current state, nor decode SASL responses.
 * XXX: SASL continuation lines during AUTH (RFC 5034 4) are not commands
 * and may be longer than 255 octets; the session reads them itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "pop3/pop3_cmd.h"

/* What each keyword takes. Numeric arguments are converted here so the
 * session never sees a message number it has to range-check itself. */
enum pop3_args {
    ARGS_PLAIN,     /* argmin..argmax free-form words */
    ARGS_REST,      /* PASS: the rest of the line as one argument */
    ARGS_MSG,       /* argmin..1 message numbers */
    ARGS_TOP,       /* message number, line count */
};

static const struct pop3_cmd_def {
    const char     *name;
    enum pop3_verb  verb;
    enum pop3_args  kind;
    unsigned        argmin, argmax;
} pop3_cmd_defs[] = {
    { "USER", POP3_CMD_USER, ARGS_PLAIN, 1, 1 },    /* RFC 1939 7 */
    { "PASS", POP3_CMD_PASS, ARGS_REST,  1, 1 },    /* RFC 1939 7 */
    { "APOP", POP3_CMD_APOP, ARGS_PLAIN, 2, 2 },    /* RFC 1939 7 */
    { "QUIT", POP3_CMD_QUIT, ARGS_PLAIN, 0, 0 },
    { "STAT", POP3_CMD_STAT, ARGS_PLAIN, 0, 0 },
    { "LIST", POP3_CMD_LIST, ARGS_MSG,   0, 1 },
    { "RETR", POP3_CMD_RETR, ARGS_MSG,   1, 1 },
    { "DELE", POP3_CMD_DELE, ARGS_MSG,   1, 1 },
    { "NOOP", POP3_CMD_NOOP, ARGS_PLAIN, 0, 0 },
    { "RSET", POP3_CMD_RSET, ARGS_PLAIN, 0, 0 },
    { "TOP",  POP3_CMD_TOP,  ARGS_TOP,   2, 2 },
    { "UIDL", POP3_CMD_UIDL, ARGS_MSG,   0, 1 },
    { "CAPA", POP3_CMD_CAPA, ARGS_PLAIN, 0, 0 },    /* RFC 2449 5 */
    { "STLS", POP3_CMD_STLS, ARGS_PLAIN, 0, 0 },    /* RFC 2595 4 */
    { "AUTH", POP3_CMD_AUTH, ARGS_PLAIN, 1, 2 },    /* RFC 5034 4: mechanism
                                                       [initial-response] */
};

#define NDEFS (sizeof(pop3_cmd_defs) / sizeof(pop3_cmd_defs[0]))

/* find_def - the table entry for keyword s[0..n), or NULL */
static const struct pop3_cmd_def *
find_def(const char *s, size_t n)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (strlen(pop3_cmd_defs[i].name) == n
            && strncasecmp(pop3_cmd_defs[i].name, s, n) == 0)
            return &pop3_cmd_defs[i];
    return NULL;
}

/* is_alpha - ASCII letter, independent of the locale */
static bool
is_alpha(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* fail - clear all but the verb of cmd and return err */
static enum pop3_cmd_err
fail(struct pop3_cmd *cmd, enum pop3_cmd_err err)
{
    enum pop3_verb verb = cmd->verb;

    memset(cmd, 0, sizeof(*cmd));
    cmd->verb = verb;
    return err;
}

/* pop3_cmd_number - see pop3_cmd.h */
bool
pop3_cmd_number(const char *s, size_t n, uint32_t min, uint32_t *out)
{
    uint64_t v = 0;

    if (s == NULL || n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > POP3_CMD_NUM_MAX)   /* checked every digit: no overflow */
            return false;
    }
    if (v < min)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* pop3_cmd_parse - see pop3_cmd.h */
enum pop3_cmd_err
pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd)
{
    const struct pop3_cmd_def *def;
    size_t kw, pos;

    memset(cmd, 0, sizeof(*cmd));
    if (len > POP3_CMD_LINE_MAX - 2)
        return POP3_CMD_ETOOLONG;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)line[i];

        if (c < 0x20 || c == 0x7f)
            return POP3_CMD_ESYNTAX;
    }

    /* RFC 1939 3: "keywords are three or four characters long" */
    for (kw = 0; kw < len && line[kw] != ' '; kw++)
        if (!is_alpha((unsigned char)line[kw]))
            return POP3_CMD_ESYNTAX;
    if (kw < 3 || kw > 4)
        return POP3_CMD_ESYNTAX;
    def = find_def(line, kw);
    if (def == NULL)
        return POP3_CMD_EUNKNOWN;
    cmd->verb = def->verb;

    if (def->kind == ARGS_REST) {
        /* Everything after the single separating space, spaces included. */
        if (kw + 1 >= len)
            return POP3_CMD_EARGS;
        cmd->argc = 1;
        cmd->arg[0] = line + kw + 1;
        cmd->arglen[0] = len - kw - 1;
        return POP3_CMD_OK;
    }

    /* Words separated by exactly one space: "A  B" and "A " are errors. */
    pos = kw;
    while (pos < len) {
        size_t start = ++pos, end = start;

        while (end < len && line[end] != ' ')
            end++;
        if (end == start)
            return fail(cmd, POP3_CMD_ESYNTAX);
        if (cmd->argc == def->argmax)
            return fail(cmd, POP3_CMD_EARGS);
        cmd->arg[cmd->argc] = line + start;
        cmd->arglen[cmd->argc] = end - start;
        cmd->argc++;
        pos = end;
    }
    if (cmd->argc < def->argmin)
        return fail(cmd, POP3_CMD_EARGS);

    /* RFC 1939 5: a message number is never 0; TOP's line count may be. */
    if ((def->kind == ARGS_MSG || def->kind == ARGS_TOP) && cmd->argc >= 1
        && !pop3_cmd_number(cmd->arg[0], cmd->arglen[0], 1, &cmd->num[0]))
        return fail(cmd, POP3_CMD_ENUMBER);
    if (def->kind == ARGS_TOP
        && !pop3_cmd_number(cmd->arg[1], cmd->arglen[1], 0, &cmd->num[1]))
        return fail(cmd, POP3_CMD_ENUMBER);
    return POP3_CMD_OK;
}

/* pop3_cmd_name - see pop3_cmd.h */
const char *
pop3_cmd_name(enum pop3_verb verb)
{
    for (size_t i = 0; i < NDEFS; i++)
        if (pop3_cmd_defs[i].verb == verb)
            return pop3_cmd_defs[i].name;
    return "?";
}

/* pop3_cmd_strerror - see pop3_cmd.h */
const char *
pop3_cmd_strerror(enum pop3_cmd_err err)
{
    switch (err) {
    case POP3_CMD_OK:       return "ok";
    case POP3_CMD_ETOOLONG: return "line too long";
    case POP3_CMD_ESYNTAX:  return "syntax error";
    case POP3_CMD_EUNKNOWN: return "unknown command";
    case POP3_CMD_EARGS:    return "wrong number of arguments";
    case POP3_CMD_ENUMBER:  return "invalid message number";
    }
    return "error";
}
