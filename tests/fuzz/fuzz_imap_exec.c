/*
 * fuzz_imap_exec - what a logged-in IMAP client sends, run against a real
 * Maildir++ store on disk: the commands after login (imap_exec() of
 * exec.c and fetch.c, and through them the store).
 *
 * Input: octet 0 is a set of switches (bit 0: ENABLE IMAP4rev2 already
 * given, so mailbox names are UTF-8; bit 1: imap_exec_updates() after
 * every command, else after every 4th), the rest is the client's stream,
 * framed by imap_scan() as the session does (literals: APPEND 65536,
 * others 65536, {N+} without an extra limit; all octets are there at
 * once, so every synchronising literal is "sent"). Each framed command
 * that imap_parse() accepts goes to imap_exec() unless the session
 * answers it itself (LOGIN, AUTHENTICATE, STARTTLS, IDLE, LOGOUT,
 * CAPABILITY, ID), again while it says IMAP_EXEC_MORE (at most 1000
 * times); at most 32 commands per input; it stops at IMAP_EXEC_BYE.
 * A command whose tag starts with "z" or "Z" runs in a second session of
 * the same user (its own struct imap_user on the same root), so that
 * the first one sees what "another session" did: flags changed,
 * messages expunged or moved away under its snapshot, folders renamed
 * or deleted under it. A BYE of the second session ends it alone.
 *
 * The store: once, a template Maildir root is made in a mkdtemp()
 * directory under /dev/shm (tmpfs: the store fsync()s; /tmp when there is
 * no /dev/shm): INBOX with 5 messages in cur/ (plain, RFC 2047 header
 * words, multipart/mixed with a base64 part, a message/rfc822 part inside
 * a multipart, quoted-printable without ",W=" in its name) and 1 in new/,
 * folders Sub (1 message), Sub.Deep, Caf&AOk- ("Cafe" with an e acute, in
 * modified UTF-7), Arch.2023 (so "Arch" is only implied), and the special
 * folders. Each input runs on a fresh copy of it, removed afterwards.
 * COPY and MOVE are skipped while the selected folder holds over 64
 * messages, so that "COPY 1:* INBOX" cannot double it 32 times.
 * UTF8=ACCEPT is never set: the session has no way to set it.
 *
 * Checks, besides the sanitizers (LeakSanitizer: everything is freed,
 * imap_user_free() closes the folder):
 *  - every imap_exec() answer is non-empty and is whole lines: each line
 *    ends in CRLF, holds no other CR or LF outside the literals it
 *    announces ({N} or ~{N} before a CRLF), and the literals are within
 *    the answer;
 *  - every line but the last of a finished command starts with "* ", the
 *    last with the command's tag and " OK ", " NO " or " BAD "; a part
 *    answered with IMAP_EXEC_MORE and imap_exec_updates() output are "* "
 *    lines only;
 *  - the client's view: "* n EXPUNGE" and "* n FETCH" name a message the
 *    client knows of (1..its count), each EXPUNGE takes one away, "* n
 *    EXISTS" never shrinks the count ("* OK [CLOSED]" and SELECT start
 *    again from 0); after each command and imap_exec_updates() the
 *    client's count is u.sel->count (RFC 9051 7.4.1, 7.5.1);
 *  - u.sel, when set: msgs non-NULL when count is not 0, UIDs ascending,
 *    from 1, below uidnext; unseen, deleted and total agree with the
 *    messages; names in cur/ (or new/ when read-only).
 *
 * FUZZ_IMAP_EXEC_TRACE=1 in the environment prints every answer to stderr
 * (to look at what a seed does).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xmalloc.h"
#include "imap/exec.h"
#include "imap/imap_parse.h"
#include "imap/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define CMDS_MAX    32
#define MORE_MAX    1000
#define COPY_MAX    64          /* COPY/MOVE only from a folder this small */

static char base_dir[64];       /* the mkdtemp() directory */
static char tmpl[128];          /* base_dir/tmpl: the template root */
static char work[128];          /* base_dir/work: each input's root */
static bool trace;              /* FUZZ_IMAP_EXEC_TRACE set: answers to stderr */

/* ---- the template --------------------------------------------------------- */

static const char msg_plain[] =
    "Return-Path: <alice@example.org>\n"
    "From: Alice Example <alice@example.org>\n"
    "To: Bob <bob@example.com>, carol@example.com\n"
    "Subject: Hello there\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    "Message-ID: <1@example.org>\n"
    "\n"
    "Hi Bob,\n"
    "just a short note.\n"
    "-- \n"
    "Alice\n";

static const char msg_2047[] =
    "From: =?UTF-8?Q?Ren=C3=A9_Dupont?= <rene@example.fr>\n"
    "To: bob@example.com\n"
    "Subject: =?UTF-8?B?w4l0w6kgw6AgUGFyaXM=?= =?ISO-8859-1?Q?caf=E9?=\n"
    "Date: Wed, 15 Nov 2023 08:00:00 +0100\n"
    "Message-ID: <2@example.fr>\n"
    "In-Reply-To: <1@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=UTF-8\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "\xc3\x89t\xc3\xa9 \xc3\xa0 Paris.\n";

static const char msg_mixed[] =
    "From: carol@example.com\n"
    "To: Bob <bob@example.com>\n"
    "Cc: dave@example.net\n"
    "Subject: Report attached\n"
    "Date: Thu, 16 Nov 2023 12:30:00 -0500\n"
    "Message-ID: <3@example.com>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"XYZ\"\n"
    "\n"
    "This is a multi-part message.\n"
    "--XYZ\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "See the attachment.\n"
    "--XYZ\n"
    "Content-Type: application/octet-stream; name=\"r.bin\"\n"
    "Content-Disposition: attachment; filename=\"r.bin\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"
    "MDEyMzQ1Njc4OTo7PD0+Pw==\n"
    "--XYZ--\n";

static const char msg_nested[] =
    "From: dave@example.net\n"
    "To: bob@example.com\n"
    "Subject: Fwd: Hello there\n"
    "Date: Fri, 17 Nov 2023 09:00:00 +0000\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=outer\n"
    "\n"
    "--outer\n"
    "Content-Type: multipart/alternative; boundary=inner\n"
    "\n"
    "--inner\n"
    "Content-Type: text/plain\n"
    "\n"
    "plain\n"
    "--inner\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>html</p>\n"
    "--inner--\n"
    "--outer\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "From: Alice Example <alice@example.org>\n"
    "Subject: Hello there\n"
    "\n"
    "Hi Bob.\n"
    "--outer--\n";

static const char msg_qp[] =
    "From: eve@example.org\n"
    "To: bob@example.com\n"
    "Bcc: mallory@example.org\n"
    "Reply-To: eve-list@example.org\n"
    "Subject: Quoted printable\n"
    "Date: Sat, 18 Nov 2023 18:45:00 +0200\n"
    "Content-Type: text/plain; charset=ISO-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "caf=E9 soft=\n"
    "break\n";

static const char msg_new[] =
    "From: frank@example.com\n"
    "To: bob@example.com\n"
    "Subject: Just delivered\n"
    "\n"
    "new\n";

static const char msg_sub[] =
    "From: alice@example.org\n"
    "To: bob@example.com\n"
    "Subject: Filed away\n"
    "\n"
    "old news\n";

static void
make_dir(const char *path)
{
    CHECK(mkdir(path, 0700) == 0 || errno == EEXIST);
}

/* put_file - path holds text, with mtime when not 0 */
static void
put_file(const char *path, const char *text, time_t mtime)
{
    FILE *fp = fopen(path, "w");
    CHECK(fp != NULL);
    CHECK(fwrite(text, 1, strlen(text), fp) == strlen(text));
    CHECK(fclose(fp) == 0);
    if (mtime) {
        struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };
        CHECK(utimes(path, tv) == 0);
    }
}

/* put_msg - a message in dir/sub (cur or new) as Dovecot names it */
static void
put_msg(const char *folder, const char *sub, unsigned n, const char *text, const char *info,
        bool sizes)
{
    size_t raw = strlen(text), crlf = raw;
    time_t t = 1700000000 + 100 * n;
    char path[512];

    for (const char *c = text; *c; c++)
        crlf += *c == '\n';
    if (sizes)
        snprintf(path, sizeof(path), "%s/%s/%lld.M%uP1Q%u.host,S=%zu,W=%zu%s", folder, sub,
                 (long long)t, n, n, raw, crlf, info);
    else
        snprintf(path, sizeof(path), "%s/%s/%lld.M%uP1Q%u.host%s", folder, sub, (long long)t,
                 n, n, info);
    put_file(path, text, t);
}

/* make_maildir - path with cur/ new/ tmp/ */
static void
make_maildir(const char *path)
{
    static const char *const subs[] = { "cur", "new", "tmp" };
    char p[512];

    make_dir(path);
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s/%s", path, subs[i]);
        make_dir(p);
    }
}

/* make_folder - root/.name as a Maildir, with maildirfolder */
static void
make_folder(const char *root, const char *name, char *path, size_t len)
{
    char p[512];

    snprintf(path, len, "%s/.%s", root, name);
    make_maildir(path);
    snprintf(p, sizeof(p), "%s/maildirfolder", path);
    put_file(p, "", 0);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
rm_tree(const char *path)
{
    nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
cleanup(void)
{
    if (base_dir[0])
        rm_tree(base_dir);
}

/* copy_tree - src to dst: directories, and regular files with their mtimes */
static void
copy_tree(const char *src, const char *dst)
{
    DIR *d = opendir(src);
    struct dirent *e;
    char s[1024], t[1024], chunk[16384];

    CHECK(d != NULL);
    CHECK(mkdir(dst, 0700) == 0);
    while ((e = readdir(d)) != NULL) {
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(s, sizeof(s), "%s/%s", src, e->d_name);
        snprintf(t, sizeof(t), "%s/%s", dst, e->d_name);
        CHECK(lstat(s, &st) == 0);
        if (S_ISDIR(st.st_mode)) {
            copy_tree(s, t);
            continue;
        }
        if (!S_ISREG(st.st_mode))
            continue;
        int in = open(s, O_RDONLY | O_CLOEXEC);
        int out = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
        CHECK(in >= 0 && out >= 0);
        ssize_t r;
        while ((r = read(in, chunk, sizeof(chunk))) > 0)
            CHECK(write(out, chunk, (size_t)r) == r);
        CHECK(r == 0);
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        CHECK(futimens(out, ts) == 0);
        close(in);
        close(out);
    }
    closedir(d);
}

static void
make_template(void)
{
    char p[512], err[160];
    struct store_folder *f;

    const char *dirs[] = { "/dev/shm", "/tmp" };
    for (size_t i = 0; i < 2 && !base_dir[0]; i++) {
        snprintf(base_dir, sizeof(base_dir), "%s/fuzz_imap_exec.XXXXXX", dirs[i]);
        if (mkdtemp(base_dir) == NULL)
            base_dir[0] = '\0';
    }
    CHECK(base_dir[0] != '\0');
    atexit(cleanup);
    snprintf(tmpl, sizeof(tmpl), "%s/tmpl", base_dir);
    snprintf(work, sizeof(work), "%s/work", base_dir);
    make_maildir(tmpl);
    put_msg(tmpl, "cur", 1, msg_plain, ":2,S", true);
    put_msg(tmpl, "cur", 2, msg_2047, ":2,", true);
    put_msg(tmpl, "cur", 3, msg_mixed, ":2,FS", true);
    put_msg(tmpl, "cur", 4, msg_nested, ":2,RS", true);
    put_msg(tmpl, "cur", 5, msg_qp, ":2,T", false);

    make_folder(tmpl, "Sub", p, sizeof(p));
    put_msg(p, "cur", 7, msg_sub, ":2,S", true);
    make_folder(tmpl, "Sub.Deep", p, sizeof(p));
    make_folder(tmpl, "Caf&AOk-", p, sizeof(p));
    make_folder(tmpl, "Arch.2023", p, sizeof(p));

    CHECK(store_ensure_special(tmpl, err, sizeof(err)) == 0);
    CHECK(store_subscribe(tmpl, "Sub", true, err, sizeof(err)) == 0);
    CHECK(store_subscribe(tmpl, "Gone.Away", true, err, sizeof(err)) == 0);
    /* the uidlists (and UIDVALIDITY) once, so that each copy has them */
    CHECK((f = store_open(tmpl, "INBOX", false, err, sizeof(err))) != NULL && f->count == 5);
    store_close(f);
    CHECK((f = store_open(tmpl, "Sub", false, err, sizeof(err))) != NULL && f->count == 1);
    store_close(f);
    /* delivered after: it gets its UID in each copy */
    put_msg(tmpl, "new", 6, msg_new, "", true);
}

/* ---- checks ----------------------------------------------------------------- */

/* see_line - the client's count *view after the untagged line s[0..n)
 * (up to its first CRLF) */
static void
see_line(const char *s, size_t n, size_t *view)
{
    size_t i = 2, num = 0;

    if (n >= 13 && memcmp(s, "* OK [CLOSED]", 13) == 0) {
        *view = 0;
        return;
    }
    while (i < n && i < 12 && s[i] >= '0' && s[i] <= '9')
        num = num * 10 + (size_t)(s[i++] - '0');
    if (i == 2 || i >= n || s[i] != ' ')
        return;
    const char *w = s + i + 1;
    size_t wl = n - i - 1;
    if (wl == 6 && memcmp(w, "EXISTS", 6) == 0) {
        CHECK(num >= *view);
        *view = num;
    } else if (wl == 7 && memcmp(w, "EXPUNGE", 7) == 0) {
        CHECK(num >= 1 && num <= *view);
        --*view;
    } else if (wl >= 7 && memcmp(w, "FETCH (", 7) == 0) {
        CHECK(num >= 1 && num <= *view);
    }
}

/*
 * check_lines - out[0..n) is whole response lines as described above;
 * tag NULL: "* " lines only. Literals are skipped. *view follows the
 * untagged EXISTS, EXPUNGE and FETCH lines.
 */
static void
check_lines(const char *out, size_t n, const char *tag, size_t *view)
{
    size_t i = 0, start = 0, last = 0;
    bool done = false;

    while (i < n) {
        /* one line from start, literals inside it skipped */
        bool first = true;
        start = i;
        for (;;) {
            CHECK(i < n);
            CHECK(out[i] != '\n');     /* a bare LF */
            if (out[i] != '\r') {
                i++;
                continue;
            }
            CHECK(i + 1 < n && out[i + 1] == '\n');     /* a bare CR */
            if (first && out[start] == '*')
                see_line(out + start, i - start, view);
            first = false;
            /* "{N}" or "~{N}" just before this CRLF: a literal follows */
            size_t k = i;
            uint64_t lit = 0, mul = 1;
            bool lit_ok = false;
            if (k > start && out[k - 1] == '}') {
                k--;
                while (k > start && out[k - 1] >= '0' && out[k - 1] <= '9'
                       && mul < UINT64_C(1000000000000000)) {
                    lit += (uint64_t)(out[k - 1] - '0') * mul;
                    mul *= 10;
                    k--;
                }
                lit_ok = mul > 1 && k > start && out[k - 1] == '{';
            }
            i += 2;
            if (!lit_ok)
                break;
            CHECK(lit <= n - i);        /* the literal is in the answer */
            i += (size_t)lit;
        }
        last = start;
        if (i == n)
            done = true;
        if (!done || tag == NULL)
            CHECK(out[start] == '*' && out[start + 1] == ' ');
    }
    if (tag == NULL || n == 0)
        return;
    size_t tl = strlen(tag);
    CHECK(n - last > tl + 4 && memcmp(out + last, tag, tl) == 0);
    const char *s = out + last + tl;
    CHECK(memcmp(s, " OK ", 4) == 0 || memcmp(s, " NO ", 4) == 0
          || (n - last > tl + 5 && memcmp(s, " BAD ", 5) == 0));
}

/* check_sel - the snapshot of the selected folder agrees with itself */
static void
check_sel(const struct store_folder *f)
{
    size_t unseen = 0, deleted = 0;
    uint64_t total = 0;

    if (!f)
        return;
    CHECK(f->count == 0 || f->msgs != NULL);
    CHECK(f->name != NULL && f->path != NULL && f->root != NULL);
    for (size_t i = 0; i < f->count; i++) {
        const struct store_msg *m = &f->msgs[i];
        CHECK(m->uid >= 1 && m->uid < f->uidnext);
        CHECK(i == 0 || m->uid > f->msgs[i - 1].uid);
        CHECK((m->flags & ~(unsigned)STORE_FLAGS_ALL) == 0);
        CHECK(m->name != NULL && strlen(m->name) >= 4 + m->ulen);
        CHECK(strncmp(m->name, "cur/", 4) == 0
              || (f->readonly && strncmp(m->name, "new/", 4) == 0));
        unseen += !(m->flags & STORE_FLAG_SEEN);
        deleted += (m->flags & STORE_FLAG_DELETED) != 0;
        total += m->size;
    }
    CHECK(f->unseen == unseen && f->deleted == deleted && f->total == total);
}

/* ---- the input -------------------------------------------------------------- */

/* session_only - commands the session answers without imap_exec() */
static bool
session_only(const char *name)
{
    static const char *const names[] = { "LOGIN", "AUTHENTICATE", "STARTTLS", "IDLE",
                                         "LOGOUT", "CAPABILITY", "ID" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* updates - imap_exec_updates(), checked; true when it said BYE */
static bool
updates(struct imap_user *u, size_t *view)
{
    struct buf out = BUF_INIT;
    enum imap_exec_end end = imap_exec_updates(u, &out);
    if (trace && out.len)
        fprintf(stderr, "(updates)\n%s", out.data);

    CHECK(end == IMAP_EXEC_DONE || end == IMAP_EXEC_BYE);
    CHECK(end != IMAP_EXEC_BYE || out.len > 0);
    check_lines(out.data ? out.data : "", out.len, NULL, view);
    buf_free(&out);
    check_sel(u->sel);
    if (end == IMAP_EXEC_BYE)
        return true;
    CHECK(u->sel == NULL || *view == u->sel->count);
    return false;
}

/* run_cmd - one parsed command through imap_exec(); true when it said BYE */
static bool
run_cmd(struct imap_user *u, const struct imap_cmd *cmd, size_t *view)
{
    enum imap_exec_end end;
    unsigned rounds = 0;

    if (strcmp(cmd->name, "SELECT") == 0 || strcmp(cmd->name, "EXAMINE") == 0)
        *view = 0;
    do {
        struct buf out = BUF_INIT;

        end = imap_exec(u, cmd, &out);
        if (trace)
            fprintf(stderr, "%s", out.data ? out.data : "");
        CHECK(out.len >= 2 && memcmp(out.data + out.len - 2, "\r\n", 2) == 0);
        check_lines(out.data, out.len, end == IMAP_EXEC_MORE ? NULL : cmd->tag, view);
        buf_free(&out);
        check_sel(u->sel);
        CHECK(end != IMAP_EXEC_MORE || u->fetching != NULL);
    } while (end == IMAP_EXEC_MORE && ++rounds < MORE_MAX);
    if (end == IMAP_EXEC_MORE)
        imap_fetch_abandon(u);          /* as a session closed meanwhile would */
    CHECK(u->fetching == NULL);
    if (end == IMAP_EXEC_BYE)
        return true;
    if (u->sel == NULL)
        *view = 0;
    CHECK(u->sel == NULL || *view == u->sel->count);
    return false;
}

/* run_stream - frame p[0..n) as the session does and run what it holds:
 * in u[0], or in u[1] (the other session) for tags "z..." */
static void
run_stream(struct imap_user u[2], const char *p, size_t n, bool every)
{
    size_t view[2] = { 0, 0 };          /* each client's message count */
    const struct imap_scan_limits lim = { 65536, 65536, 0 };
    struct imap_scan st;
    struct imap_scan_out so;
    size_t base = 0;
    unsigned ncmds = 0;
    bool gone2 = false;                 /* the other session said BYE */

    imap_scan_init(&st);
    while (ncmds < CMDS_MAX) {
        enum imap_scan_status s = imap_scan(&st, p + base, n - base, &lim, &so);

        switch (s) {
        case IMAP_SCAN_MORE:
        case IMAP_SCAN_TOOLONG:
            return;
        case IMAP_SCAN_LITERAL:
            continue;                   /* "+ Ready": the octets are all here */
        case IMAP_SCAN_TOOBIG:
            base += so.len;
            if (!so.nonsync) {
                imap_scan_init(&st);
                continue;
            }
            if (so.literal > n - base)
                return;
            base += (size_t)so.literal;
            imap_scan_resume(&st);
            continue;
        case IMAP_SCAN_SKIPPED:
            base += so.len;
            imap_scan_init(&st);
            continue;
        case IMAP_SCAN_COMMAND:
            break;
        }
        struct imap_cmd cmd;
        const char *why = NULL;
        memset(&cmd, 0, sizeof(cmd));
        bool ok = imap_parse(p + base, so.len, &cmd, &why);
        base += so.len;
        imap_scan_init(&st);
        bool other = cmd.tag[0] == 'z' || cmd.tag[0] == 'Z';
        if (!ok || session_only(cmd.name) || (other && gone2)) {
            imap_cmd_free(&cmd);
            continue;
        }
        struct imap_user *x = &u[other];
        ncmds++;
        bool bye = false;
        if ((strcmp(cmd.name, "COPY") == 0 || strcmp(cmd.name, "MOVE") == 0)
            && x->sel && x->sel->count > COPY_MAX)
            ;                           /* no doubling of folders: see the top */
        else
            bye = run_cmd(x, &cmd, &view[other]);
        imap_cmd_free(&cmd);
        if (!bye && (every || ncmds % 4 == 0))
            bye = updates(x, &view[other]);
        if (bye && !other)
            return;
        gone2 |= bye;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct imap_user u[2];

    if (!tmpl[0]) {
        trace = getenv("FUZZ_IMAP_EXEC_TRACE") != NULL;
        make_template();
    }
    if (size < 1)
        return 0;
    rm_tree(work);
    copy_tree(tmpl, work);

    memset(u, 0, sizeof(u));
    for (int i = 0; i < 2; i++) {
        snprintf(u[i].name, sizeof(u[i].name), "bob@example.com");
        u[i].root = xstrdup(work);
        u[i].append_max = 65536;
        u[i].rev2 = data[0] & 1;
    }
    run_stream(u, (const char *)data + 1, size - 1, (data[0] & 2) != 0);
    for (int i = 0; i < 2; i++) {
        imap_user_free(&u[i]);
        CHECK(u[i].sel == NULL && u[i].root == NULL && u[i].fetching == NULL);
    }
    rm_tree(work);
    return 0;
}
