/*
 * dns_fixture.h - the in-test DNS server and the per-test resolver that
 * test_dns.c and test_dnsbl.c share.
 *
 * The group setup of such a test calls dnsserver_start() with its zone:
 * it runs tests/integration/dnsserver.py (Debian's python3-dnslib) on a
 * free loopback port and reads the port it prints; dnsserver_servers is
 * then "127.0.0.1:PORT". The group teardown calls dnsserver_stop().
 * $POSTINO_DNSSERVER overrides the path of dnsserver.py.
 *
 * Every test runs between fx_setup() and fx_teardown(): its own
 * event_base and dns_new(base, dnsserver_servers), so that libunbound's
 * caches start empty. A test counts the callbacks it still expects in
 * fx->outstanding; its callbacks end the loop that run() dispatches when
 * that count reaches 0 (through cur, the running test's fixture).
 */
#ifndef POSTINO_TESTS_UNIT_DNS_FIXTURE_H
#define POSTINO_TESTS_UNIT_DNS_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "dns/dns.h"

#include "check.h"

#define PYTHON "/usr/bin/python3"

/* now - seconds on the monotonic clock */
static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the DNS server ------------------------------------------------------ */

static pid_t dnsserver_pid = -1;
static int dnsserver_stdin = -1;        /* the server exits when this closes */
static char dnsserver_servers[64];      /* "127.0.0.1:PORT" */

/* dnsserver_path - tests/integration/dnsserver.py, found from this file */
static void
dnsserver_path(char *out, size_t outlen)
{
    const char *env = getenv("POSTINO_DNSSERVER");
    const char *file = __FILE__, *slash = strrchr(file, '/');

    if (env && *env)
        snprintf(out, outlen, "%s", env);
    else if (slash)
        snprintf(out, outlen, "%.*s/../integration/dnsserver.py", (int)(slash - file), file);
    else
        snprintf(out, outlen, "../integration/dnsserver.py");
}

/*
 * dnsserver_start - run dnsserver.py with zone (its text format), read the
 * port it prints; 0, or -1 with a message. With log_fd >= 0 the server runs
 * with -v and its stderr, one line per query, goes to log_fd.
 */
static int
dnsserver_start(const char *zone, int log_fd)
{
    int in[2], out[2], port;
    char path[512], line[32] = "";
    size_t got = 0;
    double deadline = now() + 20;

    dnsserver_path(path, sizeof(path));
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    dnsserver_pid = fork();
    if (dnsserver_pid < 0)
        return -1;
    if (dnsserver_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (log_fd >= 0)
            dup2(log_fd, 2);
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        if (log_fd >= 0)
            close(log_fd);
        /* without a log, the argument list ends where "-v" would be */
        execl(PYTHON, PYTHON, path, "--zone", zone, "--exit-on-eof",
              log_fd >= 0 ? "-v" : (char *)NULL, (char *)NULL);
        /* stderr may be the log: say it where the parent reads the port */
        fprintf(log_fd >= 0 ? stdout : stderr, "%s: exec %s %s: %s\n",
                program_invocation_short_name, PYTHON, path, strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    dnsserver_stdin = in[1];
    while (got < sizeof(line) - 1 && !strchr(line, '\n')) {
        struct pollfd pfd = { .fd = out[0], .events = POLLIN };
        ssize_t n;

        if (now() > deadline || poll(&pfd, 1, 1000) < 0)
            break;
        if (!(pfd.revents & (POLLIN | POLLHUP)))
            continue;
        n = read(out[0], line + got, sizeof(line) - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        line[got] = '\0';
    }
    close(out[0]);
    port = atoi(line);
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "%s: %s did not print a port (got \"%s\")\n",
                program_invocation_short_name, path, line);
        return -1;
    }
    snprintf(dnsserver_servers, sizeof(dnsserver_servers), "127.0.0.1:%d", port);
    return 0;
}

/* dnsserver_stop - close its stdin (it exits), then make sure */
static void
dnsserver_stop(void)
{
    int status;

    if (dnsserver_stdin >= 0)
        close(dnsserver_stdin);
    if (dnsserver_pid > 0) {
        kill(dnsserver_pid, SIGTERM);
        waitpid(dnsserver_pid, &status, 0);
    }
}

/* ---- one resolver per test ----------------------------------------------- */

struct fx {
    struct event_base *base;
    struct dns        *d;
    int                outstanding;     /* callbacks still expected */
    double             t0;
};

static struct fx *cur;      /* the running test's fixture, for the callbacks */

static int
fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    char err[256];

    assert_non_null(fx);
    fx->base = event_base_new();
    assert_non_null(fx->base);
    fx->d = dns_new(fx->base, dnsserver_servers, err, sizeof(err));
    if (fx->d == NULL)
        fail_msg("dns_new(%s): %s", dnsserver_servers, err);
    fx->t0 = now();
    cur = fx;
    failures = 0;
    *state = fx;
    return 0;
}

static int
fx_teardown(void **state)
{
    struct fx *fx = *state;

    dns_free(fx->d);
    event_base_free(fx->base);
    free(fx);
    cur = NULL;
    return 0;
}

/* on_guard - a run went on too long */
static void
on_guard(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(arg, NULL);
}

/* run - dispatch until every expected callback ran, or for ms at most */
static void
run(struct fx *fx, unsigned ms)
{
    struct event *guard = evtimer_new(fx->base, on_guard, fx->base);
    struct timeval tv = { ms / 1000, (suseconds_t)(ms % 1000) * 1000 };

    evtimer_add(guard, &tv);
    if (fx->outstanding > 0)
        event_base_dispatch(fx->base);
    event_free(guard);
}

/* run_for - dispatch for ms, whatever happens */
static void
run_for(struct fx *fx, unsigned ms)
{
    int keep = fx->outstanding;

    fx->outstanding = 1 << 20;          /* no callback ends the loop early */
    run(fx, ms);
    fx->outstanding = keep;
}

#endif
