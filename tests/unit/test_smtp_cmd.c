/*
 * test_smtp_cmd - unit tests for src/mail/smtp_cmd.c: command lines and
 * the ESMTP parameters of MAIL and RCPT.
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

#include "mail/smtp_cmd.h"

#include "check.h"

/* pstatus - the name of a param_status */
static const char *
pstatus(enum param_status st)
{
    switch (st) {
    case PARAM_OK:      return "PARAM_OK";
    case PARAM_SYNTAX:  return "PARAM_SYNTAX";
    case PARAM_UNKNOWN: return "PARAM_UNKNOWN";
    }
    return "?";
}

/* One smtp_cmd_parse() case; arg NULL means cmd.arg must be NULL. */
struct cmd_case {
    const char     *line;
    size_t          len;
    bool            want;
    enum smtp_verb  verb;
    const char     *arg;
};

static const struct cmd_case cmd_cases[] = {
    { S("HELO client.example.test"), true, SMTP_CMD_HELO, "client.example.test" },
    { S("helo client.example.test"), true, SMTP_CMD_HELO, "client.example.test" },
    { S("EHLO client.example.test"), true, SMTP_CMD_EHLO, "client.example.test" },
    { S("eHlO client.example.test"), true, SMTP_CMD_EHLO, "client.example.test" },
    { S("EHLO   client.example.test   "), true, SMTP_CMD_EHLO, "client.example.test" },
    { S("EHLO [192.0.2.1]"), true, SMTP_CMD_EHLO, "[192.0.2.1]" },
    { S("EHLO"), true, SMTP_CMD_EHLO, NULL },
    { S("EHLO "), true, SMTP_CMD_EHLO, NULL },
    { S("EHLO     "), true, SMTP_CMD_EHLO, NULL },
    /* MAIL FROM: / RCPT TO: - arg starts right after the colon */
    { S("MAIL FROM:<a@b.test>"), true, SMTP_CMD_MAIL, "<a@b.test>" },
    { S("mail from:<a@b.test>"), true, SMTP_CMD_MAIL, "<a@b.test>" },
    { S("Mail From:<a@b.test>"), true, SMTP_CMD_MAIL, "<a@b.test>" },
    { S("MAIL FROM:<a@b.test> SIZE=10 BODY=8BITMIME"), true, SMTP_CMD_MAIL,
      "<a@b.test> SIZE=10 BODY=8BITMIME" },
    { S("MAIL FROM: <a@b.test>"), true, SMTP_CMD_MAIL, " <a@b.test>" },
    { S("MAIL FROM:   <a@b.test>   "), true, SMTP_CMD_MAIL, "   <a@b.test>" },
    { S("MAIL FROM:<>"), true, SMTP_CMD_MAIL, "<>" },
    { S("MAIL FROM:"), true, SMTP_CMD_MAIL, "" },
    { S("MAIL FROM:   "), true, SMTP_CMD_MAIL, "" },
    { S("MAIL FROM :<a@b.test>"), true, SMTP_CMD_MAIL, NULL },  /* no space before ":" */
    { S("MAIL FROM"), true, SMTP_CMD_MAIL, NULL },
    { S("MAIL"), true, SMTP_CMD_MAIL, NULL },
    { S("MAIL "), true, SMTP_CMD_MAIL, NULL },
    { S("MAIL TO:<a@b.test>"), true, SMTP_CMD_MAIL, NULL },
    { S("MAIL  FROM:<a@b.test>"), true, SMTP_CMD_MAIL, NULL },
    { S("MAIL FRO:<a@b.test>"), true, SMTP_CMD_MAIL, NULL },
    { S("RCPT TO:<a@b.test>"), true, SMTP_CMD_RCPT, "<a@b.test>" },
    { S("rcpt to:<a@b.test> NOTIFY=NEVER  "), true, SMTP_CMD_RCPT, "<a@b.test> NOTIFY=NEVER" },
    { S("RCPT TO: <Postmaster>"), true, SMTP_CMD_RCPT, " <Postmaster>" },
    { S("RCPT TO:"), true, SMTP_CMD_RCPT, "" },
    { S("RCPT TO :<a@b.test>"), true, SMTP_CMD_RCPT, NULL },
    { S("RCPT FROM:<a@b.test>"), true, SMTP_CMD_RCPT, NULL },
    { S("RCPT"), true, SMTP_CMD_RCPT, NULL },
    /* the other verbs */
    { S("DATA"), true, SMTP_CMD_DATA, NULL },
    { S("data"), true, SMTP_CMD_DATA, NULL },
    { S("DATA  "), true, SMTP_CMD_DATA, NULL },
    { S("DATA x"), true, SMTP_CMD_DATA, "x" },
    { S("BDAT 1000"), true, SMTP_CMD_BDAT, "1000" },
    { S("BDAT 0 LAST"), true, SMTP_CMD_BDAT, "0 LAST" },
    { S("RSET"), true, SMTP_CMD_RSET, NULL },
    { S("NOOP"), true, SMTP_CMD_NOOP, NULL },
    { S("NOOP some text  "), true, SMTP_CMD_NOOP, "some text" },
    { S("QUIT"), true, SMTP_CMD_QUIT, NULL },
    { S("quit"), true, SMTP_CMD_QUIT, NULL },
    { S("HELP"), true, SMTP_CMD_HELP, NULL },
    { S("HELP MAIL"), true, SMTP_CMD_HELP, "MAIL" },
    { S("VRFY user"), true, SMTP_CMD_VRFY, "user" },
    { S("EXPN list"), true, SMTP_CMD_EXPN, "list" },
    { S("STARTTLS"), true, SMTP_CMD_STARTTLS, NULL },
    { S("starttls"), true, SMTP_CMD_STARTTLS, NULL },
    { S("AUTH PLAIN AHVzZXIAcGFzcw=="), true, SMTP_CMD_AUTH, "PLAIN AHVzZXIAcGFzcw==" },
    { S("AUTH LOGIN"), true, SMTP_CMD_AUTH, "LOGIN" },
    /* HTTP on the SMTP port */
    { S("GET / HTTP/1.1"), true, SMTP_CMD_HTTP, "/ HTTP/1.1" },
    { S("get / HTTP/1.0"), true, SMTP_CMD_HTTP, "/ HTTP/1.0" },
    { S("POST /cgi HTTP/1.1"), true, SMTP_CMD_HTTP, "/cgi HTTP/1.1" },
    { S("HEAD /"), true, SMTP_CMD_HTTP, "/" },
    { S("PUT /x"), true, SMTP_CMD_HTTP, "/x" },
    { S("CONNECT mx.example.test:25 HTTP/1.1"), true, SMTP_CMD_HTTP,
      "mx.example.test:25 HTTP/1.1" },
    { S("GET"), true, SMTP_CMD_HTTP, NULL },
    /* not a verb we know */
    { S(""), false, SMTP_CMD_UNKNOWN, NULL },
    { S(" "), false, SMTP_CMD_UNKNOWN, NULL },
    { S(" HELO x"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("HEL"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("HELOX"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("HELO\tx"), false, SMTP_CMD_UNKNOWN, NULL },   /* a verb ends at SP or EOL */
    { S("QUIT\r"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("DA\0A"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("DATA\0"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("MAILFROM:<a@b.test>"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("MAIL:"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("XYZZY"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("TURN"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("ETRN example.test"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("GETS"), false, SMTP_CMD_UNKNOWN, NULL },
    { S("OPTIONS * HTTP/1.1"), false, SMTP_CMD_UNKNOWN, NULL },
};

/* test_cmd_parse - verbs and arguments */
static void
test_cmd_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cmd_cases) / sizeof(cmd_cases[0]); i++) {
        const struct cmd_case *c = &cmd_cases[i];
        struct smtp_cmd cmd;
        bool got;

        memset(&cmd, 0x5a, sizeof(cmd));
        got = smtp_cmd_parse(c->line, c->len, &cmd);
        if (got != c->want || cmd.verb != c->verb) {
            report("smtp_cmd_parse(\"%s\"): got %d verb %d, want %d verb %d",
                   show(c->line, c->len), got, cmd.verb, c->want, c->verb);
            continue;
        }
        if (c->arg == NULL) {
            if (cmd.arg != NULL || cmd.arglen != 0)
                report("smtp_cmd_parse(\"%s\"): got arg \"%s\" (%zu), want NULL",
                       show(c->line, c->len), show(cmd.arg, cmd.arglen), cmd.arglen);
            continue;
        }
        if (cmd.arg == NULL || cmd.arg < c->line || cmd.arg > c->line + c->len ||
            cmd.arglen != strlen(c->arg) || memcmp(cmd.arg, c->arg, cmd.arglen) != 0)
            report("smtp_cmd_parse(\"%s\"): got arg \"%s\", want \"%s\"",
                   show(c->line, c->len), show(cmd.arg, cmd.arglen), c->arg);
    }
    assert_int_equal(failures, 0);
}

/* One mail_params_parse() case; the fields after want are checked on
 * PARAM_OK only. */
struct mail_case {
    const char     *in;
    enum param_status want;
    long long       size;
    enum smtp_body  body;
    enum smtp_ret   ret;
    bool            smtputf8;
    const char     *envid;
    bool            auth;
};

#define M_OK(size, body, ret, utf8, envid, auth) \
    PARAM_OK, size, body, ret, utf8, envid, auth
#define M_NONE              M_OK(-1, BODY_NONE, RET_NONE, false, "", false)
#define M_BAD(st)           st, -1, BODY_NONE, RET_NONE, false, "", false

static const struct mail_case mail_cases[] = {
    { "", M_NONE },
    { " ", M_NONE },
    { "    ", M_NONE },
    /* SIZE (RFC 1870) */
    { " SIZE=1000", M_OK(1000, BODY_NONE, RET_NONE, false, "", false) },
    { " size=0", M_OK(0, BODY_NONE, RET_NONE, false, "", false) },
    { " Size=007", M_OK(7, BODY_NONE, RET_NONE, false, "", false) },
    { " SIZE=999999999999999999", M_OK(999999999999999999LL, BODY_NONE, RET_NONE, false, "", false) },
    { " SIZE=1000000000000000000", M_BAD(PARAM_SYNTAX) },      /* 19 digits */
    { " SIZE=99999999999999999999999", M_BAD(PARAM_SYNTAX) },
    { " SIZE=12a", M_BAD(PARAM_SYNTAX) },
    { " SIZE=-1", M_BAD(PARAM_SYNTAX) },
    { " SIZE=+1", M_BAD(PARAM_SYNTAX) },
    { " SIZE=1.5", M_BAD(PARAM_SYNTAX) },
    { " SIZE= 1", M_BAD(PARAM_SYNTAX) },
    { " SIZE=", M_BAD(PARAM_SYNTAX) },
    { " SIZE", M_BAD(PARAM_SYNTAX) },
    { " SIZE=1 SIZE=2", M_BAD(PARAM_SYNTAX) },
    { " SIZE=1 size=1", M_BAD(PARAM_SYNTAX) },
    /* BODY (RFC 6152); BINARYMIME is not offered */
    { " BODY=7BIT", M_OK(-1, BODY_7BIT, RET_NONE, false, "", false) },
    { " BODY=8BITMIME", M_OK(-1, BODY_8BITMIME, RET_NONE, false, "", false) },
    { " body=8bitmime", M_OK(-1, BODY_8BITMIME, RET_NONE, false, "", false) },
    { " BODY=7bit", M_OK(-1, BODY_7BIT, RET_NONE, false, "", false) },
    { " BODY=BINARYMIME", M_BAD(PARAM_UNKNOWN) },
    { " BODY=9BIT", M_BAD(PARAM_UNKNOWN) },
    { " BODY=8BIT", M_BAD(PARAM_UNKNOWN) },
    { " BODY=", M_BAD(PARAM_SYNTAX) },
    { " BODY", M_BAD(PARAM_SYNTAX) },
    { " BODY=7BIT BODY=7BIT", M_BAD(PARAM_SYNTAX) },
    /* SMTPUTF8 (RFC 6531 3.4): no value */
    { " SMTPUTF8", M_OK(-1, BODY_NONE, RET_NONE, true, "", false) },
    { " smtputf8", M_OK(-1, BODY_NONE, RET_NONE, true, "", false) },
    { " SMTPUTF8=yes", M_BAD(PARAM_SYNTAX) },
    { " SMTPUTF8=", M_BAD(PARAM_SYNTAX) },
    { " SMTPUTF8 SMTPUTF8", M_BAD(PARAM_SYNTAX) },
    /* RET (RFC 3461 4.3) */
    { " RET=FULL", M_OK(-1, BODY_NONE, RET_FULL, false, "", false) },
    { " ret=hdrs", M_OK(-1, BODY_NONE, RET_HDRS, false, "", false) },
    { " RET=BOTH", M_BAD(PARAM_SYNTAX) },
    { " RET=", M_BAD(PARAM_SYNTAX) },
    { " RET", M_BAD(PARAM_SYNTAX) },
    { " RET=FULL RET=HDRS", M_BAD(PARAM_SYNTAX) },
    /* ENVID (RFC 3461 4.4): xtext */
    { " ENVID=QQ314159", M_OK(-1, BODY_NONE, RET_NONE, false, "QQ314159", false) },
    { " ENVID=a+2Bb+3D", M_OK(-1, BODY_NONE, RET_NONE, false, "a+2Bb+3D", false) },
    { " envid=<id@x.test>", M_OK(-1, BODY_NONE, RET_NONE, false, "<id@x.test>", false) },
    { " ENVID=a+2bb", M_BAD(PARAM_SYNTAX) },        /* lower-case hex */
    { " ENVID=a+2", M_BAD(PARAM_SYNTAX) },
    { " ENVID=a+", M_BAD(PARAM_SYNTAX) },
    { " ENVID=a+GG", M_BAD(PARAM_SYNTAX) },
    { " ENVID=\xc3\xa9", M_BAD(PARAM_SYNTAX) },
    { " ENVID=", M_BAD(PARAM_SYNTAX) },
    { " ENVID", M_BAD(PARAM_SYNTAX) },
    { " ENVID=a ENVID=b", M_BAD(PARAM_SYNTAX) },
    /* AUTH (RFC 4954 5): "<>" or xtext; given, but ignored */
    { " AUTH=<>", M_OK(-1, BODY_NONE, RET_NONE, false, "", true) },
    { " AUTH=user+40example.test", M_OK(-1, BODY_NONE, RET_NONE, false, "", true) },
    { " auth=x", M_OK(-1, BODY_NONE, RET_NONE, false, "", true) },
    { " AUTH=a+4", M_BAD(PARAM_SYNTAX) },
    { " AUTH=", M_BAD(PARAM_SYNTAX) },
    { " AUTH", M_BAD(PARAM_SYNTAX) },
    { " AUTH=<> AUTH=<>", M_BAD(PARAM_SYNTAX) },
    /* together, with any number of spaces */
    { " SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc AUTH=<>",
      M_OK(10, BODY_8BITMIME, RET_HDRS, true, "abc", true) },
    { "   SIZE=10    BODY=7BIT   SMTPUTF8   ", M_OK(10, BODY_7BIT, RET_NONE, true, "", false) },
    { " smtputf8 size=5", M_OK(5, BODY_NONE, RET_NONE, true, "", false) },
    /* keywords and values (RFC 5321 4.1.2 esmtp-keyword / esmtp-value) */
    { " FOO=bar", M_BAD(PARAM_UNKNOWN) },
    { " X-FOO", M_BAD(PARAM_UNKNOWN) },
    { " X-FOO=\xc3\xa9", M_BAD(PARAM_UNKNOWN) },        /* UTF-8 value: RFC 6531 */
    { " 8BITMIME", M_BAD(PARAM_UNKNOWN) },
    { " NOTIFY=NEVER", M_BAD(PARAM_UNKNOWN) },          /* an RCPT parameter */
    { " ORCPT=rfc822;a@b.test", M_BAD(PARAM_UNKNOWN) },
    { " SIZES=10", M_BAD(PARAM_UNKNOWN) },
    { " -FOO=1", M_BAD(PARAM_SYNTAX) },
    { " SI_ZE=1", M_BAD(PARAM_SYNTAX) },
    { " S.ZE=1", M_BAD(PARAM_SYNTAX) },
    { " =1", M_BAD(PARAM_SYNTAX) },
    { " SIZE==1", M_BAD(PARAM_SYNTAX) },
    { " FOO=a=b", M_BAD(PARAM_SYNTAX) },
    { " FOO=\x01", M_BAD(PARAM_SYNTAX) },
    { " FOO=\x7f", M_BAD(PARAM_SYNTAX) },
    { " SIZE=10\tBODY=7BIT", M_BAD(PARAM_SYNTAX) },     /* HT is no separator */
    { " \tSIZE=10", M_BAD(PARAM_SYNTAX) },
    { "SIZE=10", M_BAD(PARAM_SYNTAX) },                 /* no space after ">" */
    { " FOO=1 SIZE=x", M_BAD(PARAM_UNKNOWN) },          /* the first error wins */
    { " SIZE=x FOO=1", M_BAD(PARAM_SYNTAX) },
};

/* test_mail_params - the parameters of MAIL FROM */
static void
test_mail_params(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(mail_cases) / sizeof(mail_cases[0]); i++) {
        const struct mail_case *c = &mail_cases[i];
        struct mail_params p;
        char err[64];
        enum param_status st;

        memset(&p, 0x5a, sizeof(p));
        memset(err, 'x', sizeof(err));
        st = mail_params_parse(c->in, strlen(c->in), &p, err, sizeof(err));
        if (st != c->want) {
            report("mail_params_parse(\"%s\"): got %s (%s), want %s",
                   show(c->in, strlen(c->in)), pstatus(st), err, pstatus(c->want));
            continue;
        }
        if (st != PARAM_OK) {
            if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
                report("mail_params_parse(\"%s\"): got no reason, want one",
                       show(c->in, strlen(c->in)));
            continue;
        }
        if (p.size != c->size || p.body != c->body || p.ret != c->ret ||
            p.smtputf8 != c->smtputf8 || strcmp(p.envid, c->envid) != 0 || p.auth != c->auth)
            report("mail_params_parse(\"%s\"): got size %lld body %d ret %d utf8 %d "
                   "envid \"%s\" auth %d, want %lld %d %d %d \"%s\" %d",
                   show(c->in, strlen(c->in)), p.size, p.body, p.ret, p.smtputf8,
                   show(p.envid, strnlen(p.envid, sizeof(p.envid))), p.auth,
                   c->size, c->body, c->ret, c->smtputf8, c->envid, c->auth);
    }
    assert_int_equal(failures, 0);
}

/* One rcpt_params_parse() case. */
struct rcpt_case {
    const char *in;
    enum param_status want;
    unsigned    notify;
    const char *orcpt;
};

#define N_SFD (NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY)

static const struct rcpt_case rcpt_cases[] = {
    { "", PARAM_OK, 0, "" },
    { "  ", PARAM_OK, 0, "" },
    /* NOTIFY (RFC 3461 4.1) */
    { " NOTIFY=NEVER", PARAM_OK, NOTIFY_NEVER, "" },
    { " notify=never", PARAM_OK, NOTIFY_NEVER, "" },
    { " NOTIFY=SUCCESS", PARAM_OK, NOTIFY_SUCCESS, "" },
    { " NOTIFY=FAILURE", PARAM_OK, NOTIFY_FAILURE, "" },
    { " NOTIFY=DELAY", PARAM_OK, NOTIFY_DELAY, "" },
    { " NOTIFY=SUCCESS,FAILURE,DELAY", PARAM_OK, N_SFD, "" },
    { " NOTIFY=delay,Success", PARAM_OK, NOTIFY_DELAY | NOTIFY_SUCCESS, "" },
    { " NOTIFY=FAILURE,FAILURE", PARAM_OK, NOTIFY_FAILURE, "" },
    { " NOTIFY=NEVER,SUCCESS", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=DELAY,NEVER", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=NEVER,NEVER", PARAM_OK, NOTIFY_NEVER, "" },
    { " NOTIFY=SOMETIMES", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=SUCCESS,", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=,SUCCESS", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=SUCCESS,,DELAY", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=SUCCESS;DELAY", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=", PARAM_SYNTAX, 0, "" },
    { " NOTIFY", PARAM_SYNTAX, 0, "" },
    { " NOTIFY=NEVER NOTIFY=NEVER", PARAM_SYNTAX, 0, "" },
    /* ORCPT (RFC 3461 4.2): addr-type ";" xtext */
    { " ORCPT=rfc822;user@example.test", PARAM_OK, 0, "rfc822;user@example.test" },
    { " orcpt=RFC822;user+2Bext@example.test", PARAM_OK, 0, "RFC822;user+2Bext@example.test" },
    { " ORCPT=utf-8;user+40x", PARAM_OK, 0, "utf-8;user+40x" },
    { " ORCPT=rfc822;a;b", PARAM_OK, 0, "rfc822;a;b" },
    { " ORCPT=rfc822", PARAM_SYNTAX, 0, "" },
    { " ORCPT=;user@example.test", PARAM_SYNTAX, 0, "" },
    { " ORCPT=rfc822;", PARAM_SYNTAX, 0, "" },
    { " ORCPT=rf(c;a@b", PARAM_SYNTAX, 0, "" },
    { " ORCPT=rfc822;a+zz", PARAM_SYNTAX, 0, "" },
    { " ORCPT=rfc822;a+2", PARAM_SYNTAX, 0, "" },
    { " ORCPT=rfc822;\xc3\xa9@b", PARAM_SYNTAX, 0, "" },
    { " ORCPT=", PARAM_SYNTAX, 0, "" },
    { " ORCPT", PARAM_SYNTAX, 0, "" },
    { " ORCPT=rfc822;a ORCPT=rfc822;b", PARAM_SYNTAX, 0, "" },
    /* together */
    { " NOTIFY=FAILURE,DELAY ORCPT=rfc822;a@b.test", PARAM_OK,
      NOTIFY_FAILURE | NOTIFY_DELAY, "rfc822;a@b.test" },
    { "   ORCPT=rfc822;a@b.test    NOTIFY=NEVER  ", PARAM_OK, NOTIFY_NEVER, "rfc822;a@b.test" },
    /* unknown, or a MAIL parameter */
    { " SIZE=10", PARAM_UNKNOWN, 0, "" },
    { " SMTPUTF8", PARAM_UNKNOWN, 0, "" },
    { " X-PRIORITY=1", PARAM_UNKNOWN, 0, "" },
    { " -X=1", PARAM_SYNTAX, 0, "" },
    { "NOTIFY=NEVER", PARAM_SYNTAX, 0, "" },
};

/* test_rcpt_params - the parameters of RCPT TO */
static void
test_rcpt_params(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
        const struct rcpt_case *c = &rcpt_cases[i];
        struct rcpt_params p;
        enum param_status st;

        memset(&p, 0x5a, sizeof(p));
        st = rcpt_params_parse(c->in, strlen(c->in), &p, NULL, 0);
        if (st != c->want) {
            report("rcpt_params_parse(\"%s\"): got %s, want %s",
                   show(c->in, strlen(c->in)), pstatus(st), pstatus(c->want));
            continue;
        }
        if (st == PARAM_OK && (p.notify != c->notify || strcmp(p.orcpt, c->orcpt) != 0))
            report("rcpt_params_parse(\"%s\"): got notify 0x%x orcpt \"%s\", "
                   "want 0x%x \"%s\"", show(c->in, strlen(c->in)), p.notify,
                   show(p.orcpt, strnlen(p.orcpt, sizeof(p.orcpt))), c->notify, c->orcpt);
    }
    assert_int_equal(failures, 0);
}

/* One length case: KEY= followed by n filler octets. */
struct plen_case {
    bool        rcpt;
    const char *prefix;     /* " ENVID=" etc. */
    size_t      fill;       /* "x" octets after the prefix */
    enum param_status want;
};

static const struct plen_case plen_cases[] = {
    { false, " ENVID=", 1, PARAM_OK },
    { false, " ENVID=", ENVID_MAX, PARAM_OK },
    { false, " ENVID=", ENVID_MAX + 1, PARAM_SYNTAX },
    { false, " ENVID=", 5000, PARAM_SYNTAX },
    { false, " AUTH=", 5000, PARAM_OK },            /* AUTH's value is not kept */
    { true, " ORCPT=rfc822;", ORCPT_MAX - 7, PARAM_OK },        /* 500 in all */
    { true, " ORCPT=rfc822;", ORCPT_MAX - 7 + 1, PARAM_SYNTAX },
    { true, " ORCPT=rfc822;", 5000, PARAM_SYNTAX },
};

/* test_param_lengths - ENVID 100 and ORCPT 500 (RFC 3461 4.4, 4.2) */
static void
test_param_lengths(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(plen_cases) / sizeof(plen_cases[0]); i++) {
        const struct plen_case *c = &plen_cases[i];
        char in[6000];
        size_t plen = strlen(c->prefix);
        size_t keylen = (size_t)(strchr(c->prefix, '=') - c->prefix);  /* " KEY" */
        size_t vlen = plen + c->fill - keylen - 1;
        enum param_status st;
        struct mail_params mp;
        struct rcpt_params rp;

        memcpy(in, c->prefix, plen);
        memset(in + plen, 'x', c->fill);
        if (c->rcpt)
            st = rcpt_params_parse(in, plen + c->fill, &rp, NULL, 0);
        else
            st = mail_params_parse(in, plen + c->fill, &mp, NULL, 0);
        if (st != c->want) {
            report("%s value of %zu octets: got %s, want %s", c->prefix, vlen,
                   pstatus(st), pstatus(c->want));
            continue;
        }
        if (st == PARAM_OK && c->rcpt && strlen(rp.orcpt) != vlen)
            report("%s value of %zu octets: got %zu kept", c->prefix, vlen, strlen(rp.orcpt));
        if (st == PARAM_OK && !c->rcpt && strncmp(c->prefix, " ENVID", 6) == 0 &&
            strlen(mp.envid) != vlen)
            report("%s value of %zu octets: got %zu kept", c->prefix, vlen, strlen(mp.envid));
    }
    assert_int_equal(failures, 0);
}

/* test_xtext_valid - RFC 3461 4 xtext */
static void
test_xtext_valid(void **state)
{
    static const struct {
        const char *in;
        size_t      len;
        bool        want;
    } cases[] = {
        { S(""), true },
        { S("abc"), true },
        { S("!\"#$%&'()*,-./:;<>?@[\\]^_`{|}~"), true },   /* all xchar but alnum */
        { S("a+2B"), true },
        { S("+41+42+43"), true },
        { S("+00+FF"), true },
        { S("a;b"), true },
        { S("a+2b"), false },
        { S("a+"), false },
        { S("a+4"), false },
        { S("+G0"), false },
        { S("a=b"), false },
        { S("a b"), false },
        { S("a\tb"), false },
        { S("a\0b"), false },
        { S("\x7f"), false },
        { S("\xc3\xa9"), false },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = xtext_valid(cases[i].in, cases[i].len);

        if (got != cases[i].want)
            report("xtext_valid(\"%s\"): got %d, want %d", show(cases[i].in, cases[i].len),
                   got, cases[i].want);
    }
    assert_int_equal(failures, 0);
}

/* test_cmd_then_params - a whole MAIL line through both parsers, as the
 * session does it */
static void
test_cmd_then_params(void **state)
{
    static const char line[] = "MAIL FROM:<a@b.test> SIZE=42 BODY=8BITMIME";
    struct smtp_cmd cmd;
    struct mail_params p;
    const char *params;

    (void)state;
    assert_true(smtp_cmd_parse(line, sizeof(line) - 1, &cmd));
    assert_int_equal(cmd.verb, SMTP_CMD_MAIL);
    params = (const char *)memchr(cmd.arg, '>', cmd.arglen) + 1;
    assert_int_equal(mail_params_parse(params, cmd.arglen - (size_t)(params - cmd.arg), &p,
                                       NULL, 0), PARAM_OK);
    assert_int_equal(p.size, 42);
    assert_int_equal(p.body, BODY_8BITMIME);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_parse),
        cmocka_unit_test(test_mail_params),
        cmocka_unit_test(test_rcpt_params),
        cmocka_unit_test(test_param_lengths),
        cmocka_unit_test(test_xtext_valid),
        cmocka_unit_test(test_cmd_then_params),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
