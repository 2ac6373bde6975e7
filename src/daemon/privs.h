/*
 * privs - least privilege: a server started as root binds its ports,
 * reads what only root may read (a configured TLS key), then becomes the
 * user of run_as for good; the data folder belongs to that user.
 *
 * The command line tools that write into the data folder (postino user)
 * do the same, so that what they write stays readable by the server.
 */
#ifndef POSTINO_DAEMON_PRIVS_H
#define POSTINO_DAEMON_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The one way in for other local users: <data_dir>/public/submit, the
 * socket of postino sendmail. data_dir and public may be 0711 (passable,
 * not readable); everything else is 0700/0600.
 */
#define PRIVS_PUBLIC "public"

struct privs {
    bool  root;         /* started as root: the rest applies */
    uid_t uid;
    gid_t gid;
    char  user[64];
};

/*
 * privs_prepare - when running as root: look up user (not root itself),
 * create data_dir (0700) and give it, and everything in it not already
 * theirs, to that user. Not root: only creates data_dir. In every case
 * it refuses a data_dir that other users may write to, and takes access
 * away from group and others for everything in it (umask 077: files
 * 0600, folders 0700). 0, or -1 with a sentence in err.
 */
int privs_prepare(struct privs *p, const char *user, const char *data_dir,
                  char *err, size_t errlen);

/*
 * privs_give - after root wrote under dir (a folder of data_dir): give
 * it and all in it to p's user; in every case take access away from
 * group and others. 0, or -1 with a sentence in err.
 */
int privs_give(const struct privs *p, const char *dir, char *err, size_t errlen);

/*
 * privs_drop - become p's user for good (groups, gid, uid) when p->root;
 * checks that root cannot be regained. 0, or -1 with a sentence in err.
 */
int privs_drop(const struct privs *p, char *err, size_t errlen);

#endif
