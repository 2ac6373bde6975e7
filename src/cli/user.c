/*
 * user - "postino user add|passwd|del ADDRESS", "postino user list".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/users.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "daemon/privs.h"
#include "deliver/resolve.h"
#include "mail/address.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"

#define PASSWORD_MAX 1024

/* read_line - one line from f without its newline; false at EOF */
static bool
read_line(FILE *f, char *out, size_t outlen)
{
    if (!fgets(out, (int)outlen, f))
        return false;
    out[strcspn(out, "\r\n")] = '\0';
    return true;
}

/* ask - prompt on the terminal with echo off */
static bool
ask(const char *prompt, char *out, size_t outlen)
{
    struct termios old, quiet;
    bool ok;

    fputs(prompt, stderr);
    fflush(stderr);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    ok = read_line(stdin, out, outlen);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return ok;
}

/* get_password - from stdin, or asked twice on a terminal */
static bool
get_password(char *pw, size_t len)
{
    char again[PASSWORD_MAX];

    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, pw, len) || !*pw) {
            fprintf(stderr, "postino user: no password on standard input\n");
            return false;
        }
        return true;
    }
    if (!ask("Password: ", pw, len) || !ask("Again: ", again, sizeof(again)))
        return false;
    bool same = strcmp(pw, again) == 0;
    explicit_bzero(again, sizeof(again));
    if (!same) {
        fprintf(stderr, "postino user: the passwords differ\n");
        return false;
    }
    if (!*pw) {
        fprintf(stderr, "postino user: the password is empty\n");
        return false;
    }
    return true;
}

/* check_address - a plain local@domain of a local domain, safe as a folder */
static bool
check_address(const struct config *cfg, const char *addr)
{
    struct mailbox mb;
    size_t used;
    char path[ADDR_MAX + 3], local[ADDR_LOCAL_MAX + 1];

    snprintf(path, sizeof(path), "<%s>", addr);
    if (strlen(addr) > ADDR_MAX
        || path_parse(path, strlen(path), PATH_UTF8, &mb, &used) != ADDR_OK
        || used != strlen(path) || mb.literal || mb.quoted) {
        fprintf(stderr, "postino user: \"%s\" is not an address like name@example.org\n", addr);
        return false;
    }
    local_unquote(mb.local, local, sizeof(local));
    if (!mailbox_name_safe(local) || strpbrk(local, "%!+")) {
        fprintf(stderr, "postino user: \"%s\": the local part may not start with a dot or "
                "hold \"/\", \"%%\", \"!\" or \"+\"\n", addr);
        return false;
    }
    if (!config_is_local_domain(cfg, mb.domain))
        fprintf(stderr, "postino user: warning: %s is not one of the local domains (%s ...); "
                "mail for it will not be accepted\n", mb.domain, cfg->domains[0]);
    return true;
}

int
cli_user(const struct cli_args *a)
{
    struct buf errs = BUF_INIT;
    char err[512], pw[PASSWORD_MAX];
    int nerr, rc = 1;
    const char *sub = a->nwords ? a->words[0] : "";

    struct config *cfg = config_load(a->config, a->overrides, a->noverrides, &errs, &nerr);
    if (nerr) {
        fprintf(stderr, "%s", buf_cstr(&errs));
        goto out;
    }
    if (strcmp(sub, "list") == 0 && a->nwords == 1) {
        struct users *u = users_new(cfg->users_file);
        if (users_refresh(u) < 0) {
            fprintf(stderr, "postino user: cannot read %s: %s\n", cfg->users_file, strerror(errno));
        } else {
            for (size_t i = 0; i < users_count(u); i++)
                printf("%s\n", users_address(u, i));
            rc = 0;
        }
        users_free(u);
        goto out;
    }
    enum users_op op;
    if (strcmp(sub, "add") == 0)
        op = USERS_ADD;
    else if (strcmp(sub, "passwd") == 0)
        op = USERS_PASSWD;
    else if (strcmp(sub, "del") == 0)
        op = USERS_DEL;
    else {
        fprintf(stderr, "Usage: postino user add|passwd|del ADDRESS | list\n");
        rc = 2;
        goto out;
    }
    if (a->nwords != 2) {
        fprintf(stderr, "Usage: postino user %s ADDRESS\n", sub);
        rc = 2;
        goto out;
    }
    const char *addr = a->words[1];
    if (op == USERS_ADD && !check_address(cfg, addr))
        goto out;
    /* Run as root, write as the server's user: it must read the file. */
    struct privs privs;
    if (privs_prepare(&privs, cfg->run_as, cfg->data_dir, err, sizeof(err)) < 0
        || privs_drop(&privs, err, sizeof(err)) < 0) {
        fprintf(stderr, "postino user: %s\n", err);
        goto out;
    }
    char *hash = NULL;
    if (op != USERS_DEL) {
        if (!get_password(pw, sizeof(pw)))
            goto out;
        hash = users_password_hash(pw);
        explicit_bzero(pw, sizeof(pw));
        if (!hash) {
            fprintf(stderr, "postino user: cannot hash the password: %s\n", strerror(errno));
            goto out;
        }
    }
    if (users_file_update(cfg->users_file, op, addr, hash, err, sizeof(err)) < 0) {
        fprintf(stderr, "postino user: %s\n", err);
    } else {
        printf("%s %s\n", addr, op == USERS_ADD ? "added" : op == USERS_DEL ? "deleted"
                                                             : "password changed");
        rc = 0;
    }
    free(hash);
out:
    buf_free(&errs);
    config_free(cfg);
    return rc;
}
