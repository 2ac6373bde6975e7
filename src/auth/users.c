/*
 * users - the users file; see users.h.
 */
#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "auth/users.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/xmalloc.h"

#define USERS_FILE_MAX (64u << 20)

struct user {
    char *address;      /* lower case */
    char *hash;
};

struct users {
    char        *path;
    struct user *v;     /* sorted by address */
    size_t       n;
    struct file_stamp stamp;  /* of the file last read */
};

struct users *
users_new(const char *path)
{
    struct users *u = xcalloc(1, sizeof(*u));
    u->path = xstrdup(path);
    return u;
}

static void
users_clear(struct users *u)
{
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].address);
        explicit_bzero(u->v[i].hash, strlen(u->v[i].hash));
        free(u->v[i].hash);
    }
    free(u->v);
    u->v = NULL;
    u->n = 0;
}

void
users_free(struct users *u)
{
    if (!u)
        return;
    users_clear(u);
    free(u->path);
    free(u);
}

static int
user_cmp(const void *a, const void *b)
{
    return strcmp(((const struct user *)a)->address, ((const struct user *)b)->address);
}

/* parse_users - fill v from text: "address:hash" lines; bad lines skipped */
static void
parse_users(struct users *u, char *text)
{
    size_t cap = 0;

    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *colon = strchr(line, ':');
        if (!colon || colon == line || line[0] == '#')
            continue;
        *colon = '\0';
        if (u->n == cap) {
            cap = cap ? cap * 2 : 16;
            u->v = xreallocarray(u->v, cap, sizeof(*u->v));
        }
        for (char *p = line; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        char *h = colon + 1;
        size_t hl = strlen(h);
        if (hl && h[hl - 1] == '\r')
            h[--hl] = '\0';
        u->v[u->n].address = xstrdup(line);
        u->v[u->n].hash = xstrdup(h);
        u->n++;
    }
    if (u->n)
        qsort(u->v, u->n, sizeof(*u->v), user_cmp);
}

int
users_refresh(struct users *u)
{
    char *text;
    size_t len;

    switch (file_reread(u->path, USERS_FILE_MAX, &u->stamp, &text, &len)) {
    case FILE_SAME:
        return 0;
    case FILE_GONE:
        users_clear(u);
        return 0;
    case FILE_ERROR:
        return -1;
    case FILE_CHANGED:
        break;
    }
    users_clear(u);
    parse_users(u, text);
    explicit_bzero(text, len);
    free(text);
    return 0;
}

static const struct user *
users_find(const struct users *u, const char *address)
{
    char key[512];
    size_t n = strlen(address);

    if (n >= sizeof(key))
        return NULL;
    for (size_t i = 0; i <= n; i++)
        key[i] = (char)tolower((unsigned char)address[i]);
    struct user k = { key, NULL };
    return u->n ? bsearch(&k, u->v, u->n, sizeof(*u->v), user_cmp) : NULL;
}

bool
users_exists(const struct users *u, const char *address)
{
    return users_find(u, address) != NULL;
}

const char *
users_hash(const struct users *u, const char *address)
{
    const struct user *e = users_find(u, address);
    return e ? e->hash : NULL;
}

size_t
users_count(const struct users *u)
{
    return u->n;
}

const char *
users_address(const struct users *u, size_t i)
{
    return i < u->n ? u->v[i].address : NULL;
}

char *
users_password_hash(const char *password)
{
    struct crypt_data cd;
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];

    /* yescrypt with the library's default cost, as Debian's /etc/shadow. */
    if (!crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)))
        return NULL;
    memset(&cd, 0, sizeof(cd));
    const char *h = crypt_r(password, salt, &cd);
    if (!h || h[0] == '*') {
        errno = EINVAL;
        return NULL;
    }
    char *r = xstrdup(h);
    explicit_bzero(&cd, sizeof(cd));
    return r;
}

bool
users_password_check(const char *password, const char *hash)
{
    struct crypt_data *cd = xcalloc(1, sizeof(*cd));
    bool ok = false;

    const char *h = crypt_r(password, hash, cd);
    if (h && h[0] != '*' && strlen(h) == strlen(hash)) {
        unsigned char diff = 0;        /* constant-time compare */
        for (size_t i = 0; hash[i]; i++)
            diff |= (unsigned char)(h[i] ^ hash[i]);
        ok = diff == 0;
    }
    explicit_bzero(cd, sizeof(*cd));
    free(cd);
    return ok;
}

int
users_file_update(const char *path, enum users_op op, const char *address,
                  const char *hash, char *err, size_t errlen)
{
    char lockpath[4096];
    struct buf out = BUF_INIT;
    struct users *u;
    int lockfd, rc = -1;
    bool found = false;

    snprintf(lockpath, sizeof(lockpath), "%s.lock", path);
    lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0) {
        snprintf(err, errlen, "cannot lock %s: %s", lockpath, strerror(errno));
        if (lockfd >= 0)
            close(lockfd);
        return -1;
    }
    u = users_new(path);
    if (users_refresh(u) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    char key[512];
    snprintf(key, sizeof(key), "%s", address);
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);

    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->v[i].address, key) == 0) {
            found = true;
            if (op == USERS_DEL)
                continue;
            buf_printf(&out, "%s:%s\n", key, op == USERS_ADD ? u->v[i].hash : hash);
        } else {
            buf_printf(&out, "%s:%s\n", u->v[i].address, u->v[i].hash);
        }
    }
    if (op == USERS_ADD && found) {
        snprintf(err, errlen, "%s is already a user", key);
        goto out;
    }
    if (op != USERS_ADD && !found) {
        snprintf(err, errlen, "%s is not a user", key);
        goto out;
    }
    if (op == USERS_ADD)
        buf_printf(&out, "%s:%s\n", key, hash);
    if (file_replace(path, out.data ? out.data : "", out.len, 0600) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (out.data)
        explicit_bzero(out.data, out.len);
    buf_free(&out);
    users_free(u);
    close(lockfd);
    return rc;
}
