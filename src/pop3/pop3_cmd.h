/*
 * pop3_cmd - parse one POP3 command line (RFC 1939, RFC 2449 CAPA,
 * RFC 2595 STLS, RFC 5034 AUTH) into a keyword and its arguments.
 *
 * Pure functions over bytes: no I/O, no globals, no allocation. This
 * module does not know session state (whether RETR is allowed now) nor
 * the drop (whether message 7 exists); it only checks the shape of the
 * line. The session maps each enum pop3_cmd_err to a "-ERR" reply.
 */
#ifndef POSTINO_POP3_POP3_CMD_H
#define POSTINO_POP3_POP3_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 2449 4: a command line is at most 255 octets, CRLF included. */
#define POP3_CMD_LINE_MAX 255
/* The most arguments any command takes (APOP, TOP, AUTH). */
#define POP3_CMD_ARGS_MAX 2
/* RFC 2449 4 / RFC 1939 3: message numbers and line counts are
 * positive integers; we bound them by INT32_MAX. */
#define POP3_CMD_NUM_MAX  2147483647u

enum pop3_verb {
    POP3_CMD_NONE = 0,      /* not recognised */
    POP3_CMD_USER, POP3_CMD_PASS, POP3_CMD_APOP, POP3_CMD_QUIT,
    POP3_CMD_STAT, POP3_CMD_LIST, POP3_CMD_RETR, POP3_CMD_DELE,
    POP3_CMD_NOOP, POP3_CMD_RSET, POP3_CMD_TOP,  POP3_CMD_UIDL,
    POP3_CMD_CAPA, POP3_CMD_STLS, POP3_CMD_AUTH,
};

enum pop3_cmd_err {
    POP3_CMD_OK = 0,
    POP3_CMD_ETOOLONG,      /* line longer than POP3_CMD_LINE_MAX - 2 */
    POP3_CMD_ESYNTAX,       /* keyword not 3-4 letters, empty line, doubled/
                               leading/trailing space, control character */
    POP3_CMD_EUNKNOWN,      /* well-formed keyword we do not know */
    POP3_CMD_EARGS,         /* wrong number of arguments for the keyword */
    POP3_CMD_ENUMBER,       /* message number or line count not digits or
                               out of range */
};

struct pop3_cmd {
    enum pop3_verb verb;
    unsigned       argc;
    const char    *arg[POP3_CMD_ARGS_MAX];     /* point into the line */
    size_t         arglen[POP3_CMD_ARGS_MAX];
    /* Converted numbers: LIST/UIDL/RETR/DELE num[0] = message number
     * (1..POP3_CMD_NUM_MAX) when argc == 1; TOP num[0] = message number,
     * num[1] = line count (0..POP3_CMD_NUM_MAX). Otherwise 0. */
    uint32_t       num[POP3_CMD_ARGS_MAX];
};

/*
 * pop3_cmd_parse - parse line[0..len) (without the CRLF). The keyword is
 * case-insensitive, 3 or 4 letters; arguments are separated by single
 * spaces (RFC 1939 3). PASS takes the whole rest of the line as one
 * argument, since passwords may contain spaces. Control characters
 * (0x00-0x1f, 0x7f) are refused anywhere. Returns POP3_CMD_OK and fills
 * cmd. On error the rest of cmd is zeroed, but cmd->verb stays set
 * when the error was found after a known keyword (EARGS, ENUMBER, bad
 * spacing); control characters and overlong lines are refused before
 * the keyword is read, so the session should redact those lines too.
 */
enum pop3_cmd_err pop3_cmd_parse(const char *line, size_t len, struct pop3_cmd *cmd);

/*
 * pop3_cmd_number - convert s[0..n) to a number in min..POP3_CMD_NUM_MAX:
 * digits only, no sign, no spaces. Returns false when malformed or out of
 * range (*out untouched).
 */
bool pop3_cmd_number(const char *s, size_t n, uint32_t min, uint32_t *out);

/* pop3_cmd_name - the upper-case keyword of verb, "?" for POP3_CMD_NONE */
const char *pop3_cmd_name(enum pop3_verb verb);

/* pop3_cmd_strerror - a short English text for err, for a "-ERR" reply */
const char *pop3_cmd_strerror(enum pop3_cmd_err err);

#endif
