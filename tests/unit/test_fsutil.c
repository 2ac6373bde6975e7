/*
 * test_fsutil - unit tests for src/util/fsutil.c: write_iov writes every
 * part in order, skips empty ones, and after a short write goes on from
 * the right byte (a real short write: RLIMIT_FSIZE cuts the file);
 * write_all, which is write_iov with one part.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "util/fsutil.h"

#define TEMPLATE "/tmp/test_fsutil.XXXXXX"     /* mkstemp(3) fills in the X's */
static char path[sizeof(TEMPLATE)];

static int
open_tmp(void)
{
    memcpy(path, TEMPLATE, sizeof(TEMPLATE));
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    return fd;
}

/* slurp - the file's bytes, NUL-terminated, and removes it */
static char *
slurp(size_t *len)
{
    static char out[256];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t r = read(fd, out, sizeof(out) - 1);
    assert_true(r >= 0);
    out[r] = '\0';
    *len = (size_t)r;
    close(fd);
    unlink(path);
    return out;
}

static void
test_write_iov_parts_in_order(void **state)
{
    (void)state;
    static const struct { const char *parts[4]; const char *want; } cases[] = {
        { { "Return-Path: <a@b>\n", "body\n", NULL, NULL }, "Return-Path: <a@b>\nbody\n" },
        { { "", "ab", "", "cd" }, "abcd" },               /* empty parts skipped */
        { { "", "", NULL, NULL }, "" },                   /* nothing at all */
        { { "x", NULL, NULL, NULL }, "x" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct iovec iov[4];
        int n = 0;
        while (n < 4 && cases[i].parts[n]) {
            iov[n] = (struct iovec){ (char *)cases[i].parts[n], strlen(cases[i].parts[n]) };
            n++;
        }
        int fd = open_tmp();
        assert_int_equal(write_iov(fd, iov, n), 0);
        close(fd);
        size_t len;
        assert_string_equal(slurp(&len), cases[i].want);
        assert_int_equal(len, strlen(cases[i].want));
    }
}

/* A file size limit of 10 bytes: the first writev(2) writes 10 of 20 (a
 * short write, cut inside the second part), the next fails with EFBIG.
 * write_iov must report it, with exactly those 10 bytes in the file and
 * the second part advanced by the 4 of its bytes that were written. */
static void
test_write_iov_short_write(void **state)
{
    (void)state;
    struct rlimit old, small;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
    int fd = open_tmp();
    char head[] = "head: ", body[] = "0123456789abcd";
    struct iovec iov[2] = { { head, 6 }, { body, 14 } };

    small = old;
    small.rlim_cur = 10;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
    int rc = write_iov(fd, iov, 2);
    int e = errno;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, oldsig);
    close(fd);

    assert_int_equal(rc, -1);
    assert_int_equal(e, EFBIG);
    assert_ptr_equal(iov[1].iov_base, body + 4);
    assert_int_equal(iov[1].iov_len, 10);
    size_t len;
    assert_string_equal(slurp(&len), "head: 0123");
    assert_int_equal(len, 10);
}

/* A bad descriptor: -1 and the kernel's errno, nothing retried forever. */
static void
test_write_iov_error(void **state)
{
    (void)state;
    char a[] = "abc";
    struct iovec iov[1] = { { a, 3 } };
    errno = 0;
    assert_int_equal(write_iov(-1, iov, 1), -1);
    assert_int_equal(errno, EBADF);
    errno = 0;
    assert_int_equal(write_all(-1, a, 3), -1);
    assert_int_equal(errno, EBADF);
}

/* write_all is write_iov with one part. */
static void
test_write_all(void **state)
{
    (void)state;
    int fd = open_tmp();
    assert_int_equal(write_all(fd, "one buffer\n", 11), 0);
    assert_int_equal(write_all(fd, "", 0), 0);
    close(fd);
    size_t len;
    assert_string_equal(slurp(&len), "one buffer\n");
    assert_int_equal(len, 11);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_iov_parts_in_order),
        cmocka_unit_test(test_write_iov_short_write),
        cmocka_unit_test(test_write_iov_error),
        cmocka_unit_test(test_write_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
