/*
 * check_config - "postino check-config": report every problem at once.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/users.h"
#include "cli/cli.h"
#include "conf/config.h"
#include "deliver/aliases.h"

int
cli_check_config(const struct cli_args *a)
{
    struct buf errs = BUF_INIT;
    int nerr;

    struct config *cfg = config_load(a->config, a->overrides, a->noverrides, &errs, &nerr);
    if (nerr == 0) {
        /* The files the configuration points to must parse too. */
        struct aliases *al = aliases_new(cfg->aliases_file);
        size_t before = errs.len;
        if (aliases_refresh(al, &errs) < 0) {
            buf_printf(&errs, "%s: cannot read: %s\n", cfg->aliases_file, strerror(errno));
            nerr++;
        }
        for (size_t i = before; i < errs.len; i++)
            nerr += errs.data[i] == '\n';
        aliases_free(al);
        struct users *u = users_new(cfg->users_file);
        if (users_refresh(u) < 0) {
            buf_printf(&errs, "%s: cannot read: %s\n", cfg->users_file, strerror(errno));
            nerr++;
        }
        users_free(u);
        /* serve started as root needs its run_as user (privs.c) */
        struct passwd *pw = getpwnam(cfg->run_as);
        if (geteuid() == 0 && (!pw || pw->pw_uid == 0)) {
            buf_printf(&errs, "run_as: %s; serve started as root will refuse to run\n",
                       pw ? "is root" : "no such user");
            nerr++;
        }
    }
    if (nerr) {
        fprintf(stderr, "%s", buf_cstr(&errs));
        fprintf(stderr, "%d error(s)\n", nerr);
    } else {
        printf("%s: ok%s\n", cfg->path ? cfg->path : "(no file)",
               cfg->trial ? " (trial setup)" : "");
    }
    buf_free(&errs);
    config_free(cfg);
    return nerr ? 1 : 0;
}
