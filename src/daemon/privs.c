/*
 * privs - run as the run_as user; see privs.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/privs.h"
#include "util/fsutil.h"

#define OWN_DEPTH 16

/*
 * own_one - name in dfd: owner uid:gid (when root), no access for others,
 * but for the way to the sendmail socket: "public" at the top is 0711 and
 * a socket keeps its mode (0666, set by the server).
 */
static int
own_one(int dfd, const char *name, const struct stat *st, bool root, uid_t uid, gid_t gid,
        int depth)
{
    mode_t keep = 07700;
    if (depth == 0 && S_ISDIR(st->st_mode) && strcmp(name, PRIVS_PUBLIC) == 0)
        keep = 07711;
    else if (S_ISSOCK(st->st_mode))
        keep = 07777;
    if (root && (st->st_uid != uid || st->st_gid != gid)
        && fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        return errno;
    /* Symbolic links have no mode of their own (and fchmodat would follow). */
    if (!S_ISLNK(st->st_mode) && (st->st_mode & 077) && (root || st->st_uid == geteuid())
        && (st->st_mode & ~keep & 07777) && fchmodat(dfd, name, st->st_mode & keep, 0) < 0)
        return errno;
    return 0;
}

/*
 * own_tree - give everything under the directory dfd to uid:gid (when
 * root) and take access away from group and others. Each step is relative
 * to an open directory and never follows a symbolic link (O_NOFOLLOW,
 * AT_SYMLINK_NOFOLLOW), so a link planted in the tree cannot make root
 * change a file outside it. Closes dfd. Returns 0, or an errno value.
 */
static int
own_tree(int dfd, bool root, uid_t uid, gid_t gid, int depth)
{
    DIR *d = fdopendir(dfd);
    struct dirent *de;
    int e = 0;

    if (!d) {
        e = errno;
        close(dfd);
        return e;
    }
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;                   /* gone meanwhile */
        int oe = own_one(dirfd(d), de->d_name, &st, root, uid, gid, depth);
        if (oe && !e)
            e = oe;
        if (S_ISDIR(st.st_mode) && depth < OWN_DEPTH) {
            int sub = openat(dirfd(d), de->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            int se = sub < 0 ? errno : own_tree(sub, root, uid, gid, depth + 1);
            if (se && !e)
                e = se;
        }
    }
    closedir(d);
    return e;
}

int
privs_prepare(struct privs *p, const char *user, const char *data_dir,
              char *err, size_t errlen)
{
    struct stat st;

    memset(p, 0, sizeof(*p));
    p->root = geteuid() == 0;
    if (p->root) {
        struct passwd *pw = getpwnam(user);
        if (!pw) {
            snprintf(err, errlen, "run_as: there is no user \"%s\" (scripts/install-deps and "
                     "make install create postino), and postino does not run as root", user);
            return -1;
        }
        if (pw->pw_uid == 0) {
            snprintf(err, errlen, "run_as: \"%s\" is root; postino does not run as root", user);
            return -1;
        }
        p->uid = pw->pw_uid;
        p->gid = pw->pw_gid;
        snprintf(p->user, sizeof(p->user), "%s", user);
    }
    if (mkdir_p(data_dir, 0700) < 0) {
        snprintf(err, errlen, "cannot create data_dir %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (stat(data_dir, &st) < 0) {
        snprintf(err, errlen, "data_dir %s: %s", data_dir, strerror(errno));
        return -1;
    }
    if (st.st_mode & S_IWOTH) {
        snprintf(err, errlen, "data_dir %s may be written by every user (mode %04o); "
                 "it holds the queue and the mailboxes: chmod o-w it", data_dir,
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return privs_give(p, data_dir, err, errlen);
}

int
privs_give(const struct privs *p, const char *dir, char *err, size_t errlen)
{
    /* Usually one stat per file; a change only the first time, or after
     * root or a careless umask wrote into the folder (a restore, a tool). */
    struct stat st;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    int e = dfd < 0 || fstat(dfd, &st) < 0 ? errno : 0;
    if (!e && p->root && (st.st_uid != p->uid || st.st_gid != p->gid)
        && fchown(dfd, p->uid, p->gid) < 0)
        e = errno;
    if (!e && (st.st_mode & 066) && (p->root || st.st_uid == geteuid())
        && fchmod(dfd, st.st_mode & 07711) < 0)
        e = errno;
    if (!e)
        e = own_tree(dfd, p->root, p->uid, p->gid, 0);     /* closes dfd */
    else if (dfd >= 0)
        close(dfd);
    if (!e)
        return 0;
    snprintf(err, errlen, "cannot give %s to user %s: %s", dir, p->root ? p->user : "(self)",
             strerror(e));
    return -1;
}

int
privs_drop(const struct privs *p, char *err, size_t errlen)
{
    if (!p->root)
        return 0;
    /* Groups first: setgid and initgroups need root. initgroups keeps
     * the user's supplementary groups (ssl-cert, for a TLS key). */
    if (initgroups(p->user, p->gid) < 0 || setgid(p->gid) < 0 || setuid(p->uid) < 0) {
        snprintf(err, errlen, "cannot become user %s: %s", p->user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0 || geteuid() == 0 || getuid() == 0) {
        snprintf(err, errlen, "still root after becoming %s", p->user);
        return -1;
    }
    return 0;
}
