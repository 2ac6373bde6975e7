/*
 * maildir-floor - the kernel's CPU cost of one Maildir delivery, alone.
 *
 * Usage: maildir-floor DIR N SYNC_EVERY
 *
 * Creates N files of 4,200 bytes (a 4 KB message and its two header lines)
 * in DIR/tmp/, each with one open, one write and one close, renames each
 * into DIR/new/ under the name postino's delivery gives it, and calls
 * syncfs(2) after every SYNC_EVERY files (0: never), which is what postino's
 * commit worker does for one batch. Prints the CPU time (user and system,
 * getrusage) and the wall time per file. No sockets, no parsing, no
 * allocation: what is left is what any server that lands each message in a
 * Maildir of its own pays the kernel, the floor under postino's commit
 * worker. bench/ceiling builds and runs it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double
cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)(r.ru_utime.tv_sec + r.ru_stime.tv_sec)
           + (double)(r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
}

static double
wall_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
make_dir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "maildir-floor: mkdir %s: %s\n", path, strerror(errno));
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: maildir-floor DIR N SYNC_EVERY\n");
        return 2;
    }
    const char *dir = argv[1];
    long n = atol(argv[2]), every = atol(argv[3]);
    if (n <= 0 || every < 0) {
        fprintf(stderr, "maildir-floor: N must be > 0 and SYNC_EVERY >= 0\n");
        return 2;
    }
    static char msg[4200];
    memset(msg, 'x', sizeof(msg));
    char tmp[4096], dst[4096];
    make_dir(dir);
    snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
    make_dir(tmp);
    snprintf(dst, sizeof(dst), "%s/new", dir);
    make_dir(dst);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        fprintf(stderr, "maildir-floor: %s: %s\n", dir, strerror(errno));
        return 1;
    }

    double c0 = cpu_seconds(), w0 = wall_seconds();
    for (long i = 0; i < n; i++) {
        /* the shape of postino's names: time, pid, counter, host, sizes */
        char name[256];
        snprintf(name, sizeof(name), "1764424000.M%06ldP4242D%ld_0_1.bench.test,S=4200,W=4300",
                 i % 1000000, i);
        snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, name);
        snprintf(dst, sizeof(dst), "%s/new/%s", dir, name);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, msg, sizeof(msg)) != (ssize_t)sizeof(msg) || close(fd) < 0) {
            fprintf(stderr, "maildir-floor: %s: %s\n", tmp, strerror(errno));
            return 1;
        }
        if (every && (i + 1) % every == 0 && syncfs(dfd) < 0) {
            fprintf(stderr, "maildir-floor: syncfs: %s\n", strerror(errno));
            return 1;
        }
        if (rename(tmp, dst) < 0) {
            fprintf(stderr, "maildir-floor: rename %s: %s\n", tmp, strerror(errno));
            return 1;
        }
    }
    double cpu = cpu_seconds() - c0, wall = wall_seconds() - w0;
    printf("files=%ld sync_every=%ld cpu_us=%.1f wall_us=%.1f\n", n, every,
           cpu / (double)n * 1e6, wall / (double)n * 1e6);
    close(dfd);
    return 0;
}
