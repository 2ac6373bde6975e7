/*
 * smtp_cmd - split an SMTP command line into verb and argument;
 * parse ESMTP parameters of MAIL and RCPT.
 *
 * Pure functions over bytes: no I/O, no globals, no allocation.
 */
#ifndef POSTINO_MAIL_SMTP_CMD_H
#define POSTINO_MAIL_SMTP_CMD_H

#include <stdbool.h>
#include <stddef.h>

enum smtp_verb {
    SMTP_CMD_UNKNOWN = 0,
    SMTP_CMD_HELO, SMTP_CMD_EHLO, SMTP_CMD_MAIL, SMTP_CMD_RCPT,
    SMTP_CMD_DATA, SMTP_CMD_BDAT, SMTP_CMD_RSET, SMTP_CMD_NOOP,
    SMTP_CMD_QUIT, SMTP_CMD_HELP, SMTP_CMD_VRFY, SMTP_CMD_EXPN,
    SMTP_CMD_STARTTLS, SMTP_CMD_AUTH,
    SMTP_CMD_HTTP,          /* GET / POST / HEAD / PUT / CONNECT: not mail, close */
};

struct smtp_cmd {
    enum smtp_verb verb;
    const char    *arg;     /* points into the line: for MAIL/RCPT, just after
                               "FROM:" / "TO:"; else after the verb and spaces */
    size_t         arglen;  /* trailing spaces removed */
};

/*
 * smtp_cmd_parse - recognise the verb of line[0..len) (no CRLF), case-
 * insensitively. "MAIL FROM:" and "RCPT TO:" are matched as a whole
 * ("MAIL" without "FROM:" is SMTP_CMD_MAIL with cmd->arg == NULL, a
 * syntax error for the caller to report). A verb must be followed by a
 * space or the end of the line. Returns false for an unknown verb
 * (cmd->verb = SMTP_CMD_UNKNOWN).
 */
bool smtp_cmd_parse(const char *line, size_t len, struct smtp_cmd *cmd);

/* Values for mail_params.body */
enum smtp_body { BODY_NONE = 0, BODY_7BIT, BODY_8BITMIME };
/* Values for mail_params.ret (RFC 3461 4.3) */
enum smtp_ret { RET_NONE = 0, RET_FULL, RET_HDRS };
/* Bits for rcpt_params.notify (RFC 3461 4.1); 0 = not given */
#define NOTIFY_NEVER   0x01
#define NOTIFY_SUCCESS 0x02
#define NOTIFY_FAILURE 0x04
#define NOTIFY_DELAY   0x08

#define ENVID_MAX  100      /* RFC 3461 4.4: 100 chars */
#define ORCPT_MAX  500      /* RFC 3461 4.2: 500 chars */

struct mail_params {
    long long      size;        /* SIZE=, -1 when absent */
    enum smtp_body body;
    enum smtp_ret  ret;
    bool           smtputf8;
    char           envid[ENVID_MAX + 1];  /* xtext as received, "" when absent */
    bool           auth;        /* AUTH= was given (RFC 4954 5: ignored) */
};

struct rcpt_params {
    unsigned notify;
    char     orcpt[ORCPT_MAX + 1];  /* "rfc822;xtext" as received, "" when absent */
};

enum param_status {
    PARAM_OK = 0,
    PARAM_SYNTAX,       /* malformed or duplicated parameter, bad value: 501 5.5.4 */
    PARAM_UNKNOWN,      /* parameter not recognised / not supported: 555 5.5.4 */
};

/*
 * mail_params_parse / rcpt_params_parse - parse the ESMTP parameters
 * that follow the path: s[0..n) is " KEY=VALUE KEY ...". Keywords are
 * case-insensitive (RFC 5321 4.1.2 esmtp-keyword). xtext values are
 * checked (RFC 3461 4: "+" followed by two upper-case hex digits).
 * Recognised: MAIL: SIZE, BODY=7BIT|8BITMIME, SMTPUTF8, RET, ENVID, AUTH;
 * RCPT: NOTIFY, ORCPT. On error, a short reason goes to err (may be NULL).
 */
enum param_status mail_params_parse(const char *s, size_t n, struct mail_params *p,
                                    char *err, size_t errlen);
enum param_status rcpt_params_parse(const char *s, size_t n, struct rcpt_params *p,
                                    char *err, size_t errlen);

/*
 * xtext_valid - true when s[0..n) is valid xtext (RFC 3461 4).
 */
bool xtext_valid(const char *s, size_t n);

#endif
