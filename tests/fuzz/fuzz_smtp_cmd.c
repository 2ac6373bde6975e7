/*
 * fuzz_smtp_cmd - an SMTP command line from a client, through what the
 * server does with it: smtp_cmd_parse(), then for MAIL/RCPT path_parse()
 * of the argument and mail_params_parse()/rcpt_params_parse() of what
 * follows the path. The whole input is also tried as a bare path and as
 * a bare parameter list, so that seeds of each kind go straight in.
 *
 * Checks, besides the sanitizers:
 *  - the argument smtp_cmd_parse() returns lies inside the line;
 *  - path_parse(), for each of the 8 flag combinations: on ADDR_OK the
 *    path ends at a ">" within the input, the parts fit their limits,
 *    <> and <Postmaster> only come with their flags, no UTF-8 without
 *    PATH_UTF8; and mailbox_format() round-trips: "<" + the formatted
 *    mailbox + ">" parses again, with the same flags, to the same mailbox
 *    (the unit tests' is_email set checks this on valid addresses);
 *  - the parameter parsers keep their values within bounds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/address.h"
#include "mail/smtp_cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* same_mailbox - every field of two parsed mailboxes */
static bool
same_mailbox(const struct mailbox *a, const struct mailbox *b)
{
    return strcmp(a->local, b->local) == 0 && strcmp(a->domain, b->domain) == 0 &&
           a->null == b->null && a->quoted == b->quoted && a->literal == b->literal &&
           a->utf8 == b->utf8;
}

/* check_path - path_parse() s[0..n) with flags; the params that follow
 * go to the MAIL or RCPT parser. */
static void
check_path(const char *s, size_t n, unsigned flags, bool rcpt)
{
    struct mailbox mb, again;
    size_t used = 0, used2 = 0;
    char fmt[ADDR_MAX + 1], wrapped[ADDR_MAX + 3];
    char err[64];

    if (path_parse(s, n, flags, &mb, &used) != ADDR_OK)
        return;
    CHECK(used > 0 && used <= n && s[used - 1] == '>');
    CHECK(strlen(mb.local) <= ADDR_LOCAL_MAX && strlen(mb.domain) <= ADDR_DOMAIN_MAX);
    CHECK(!mb.null || (flags & PATH_ALLOW_NULL));
    CHECK(mb.null || mb.domain[0] != '\0' || (flags & PATH_ALLOW_POSTMASTER));
    CHECK(!mb.utf8 || (flags & PATH_UTF8));

    /* the round trip */
    mailbox_format(&mb, fmt, sizeof(fmt));
    size_t flen = strlen(fmt);
    wrapped[0] = '<';
    memcpy(wrapped + 1, fmt, flen);
    wrapped[flen + 1] = '>';
    CHECK(path_parse(wrapped, flen + 2, flags, &again, &used2) == ADDR_OK);
    CHECK(used2 == flen + 2 && same_mailbox(&mb, &again));

    if (rcpt) {
        struct rcpt_params rp;
        if (rcpt_params_parse(s + used, n - used, &rp, err, sizeof(err)) == PARAM_OK)
            CHECK(strlen(rp.orcpt) <= ORCPT_MAX && rp.notify <= 0x0f);
    } else {
        struct mail_params mp;
        if (mail_params_parse(s + used, n - used, &mp, err, sizeof(err)) == PARAM_OK)
            CHECK(strlen(mp.envid) <= ENVID_MAX && mp.size >= -1);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so ASan sees any read past the end. */
    char *line = malloc(size ? size : 1);
    struct smtp_cmd cmd;
    struct mail_params mp;
    struct rcpt_params rp;

    memcpy(line, data, size);
    if (smtp_cmd_parse(line, size, &cmd)) {
        CHECK(cmd.verb != SMTP_CMD_UNKNOWN);
        if (cmd.arg != NULL) {
            CHECK(cmd.arg >= line && cmd.arg + cmd.arglen <= line + size);
            if (cmd.verb == SMTP_CMD_MAIL || cmd.verb == SMTP_CMD_RCPT)
                for (unsigned f = 0; f < 8; f++)
                    check_path(cmd.arg, cmd.arglen, f, cmd.verb == SMTP_CMD_RCPT);
        }
    } else
        CHECK(cmd.verb == SMTP_CMD_UNKNOWN && cmd.arg == NULL);

    /* the input as a bare path, and as bare parameters */
    for (unsigned f = 0; f < 8; f++)
        check_path(line, size, f, f & 1);
    if (mail_params_parse(line, size, &mp, NULL, 0) == PARAM_OK)
        CHECK(strlen(mp.envid) <= ENVID_MAX);
    if (rcpt_params_parse(line, size, &rp, NULL, 0) == PARAM_OK)
        CHECK(strlen(rp.orcpt) <= ORCPT_MAX);
    (void)xtext_valid(line, size);
    free(line);
    return 0;
}
