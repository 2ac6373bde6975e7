/*
 * log - one line per event, to stderr or syslog; see log.h.
 *
 * Safe to call from worker threads: each line is formatted into a local
 * buffer and written with a single write(2) (stderr) or syslog(3) call;
 * or, once the server runs (log_set_buffered), info lines gather in one
 * buffer that log_flush() writes at once: the first line of a batch logged
 * on the loop thread wakes a flush that runs at the end of the loop's
 * current turn (after every callback already due), and a 50 ms timer
 * takes what worker threads logged. At thousands of messages a second, a
 * write(2) per line was a tenth of the server's time; now the lines of one
 * turn go out together, before the loop waits again, so a reply never
 * reaches a client before the log lines of the work behind it. Warnings,
 * errors and fatal lines flush at once, with what waited before them.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

#include "util/log.h"

static enum log_target log_to = LOG_TO_STDERR;

#define LOG_BUF 65536
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static bool   log_buffered;
static void (*log_wake)(void *arg);     /* asks the loop for a flush */
static void  *log_wake_arg;
static pthread_t log_loop;              /* the thread that may call log_wake */
static size_t log_len;
static char   log_buf[LOG_BUF];

/* flush_locked - write what waits (log_mu held) */
static pid_t log_pid;            /* set by log_open */

static void
flush_locked(void)
{
    size_t off = 0;
    while (off < log_len) {
        ssize_t w = write(STDERR_FILENO, log_buf + off, log_len - off);
        if (w <= 0)
            break;                      /* nowhere to say it */
        off += (size_t)w;
    }
    log_len = 0;
}

void
log_flush(void)
{
    pthread_mutex_lock(&log_mu);
    flush_locked();
    pthread_mutex_unlock(&log_mu);
}

void
log_set_buffered(bool on, void (*wake)(void *arg), void *arg)
{
    pthread_mutex_lock(&log_mu);
    flush_locked();
    log_buffered = on;
    log_wake = on ? wake : NULL;
    log_wake_arg = arg;
    log_loop = pthread_self();
    pthread_mutex_unlock(&log_mu);
}

/* log_open - choose where lines go */
void
log_open(enum log_target target)
{
    /* postino never forks: the pid is asked once (glibc's getpid is a
     * system call), at the first call, before any thread starts. */
    if (!log_pid)
        log_pid = getpid();
    if (log_to == LOG_TO_SYSLOG && target != LOG_TO_SYSLOG)
        closelog();
    log_to = target;
    if (target == LOG_TO_SYSLOG)
        openlog("postino", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static void log_vline(int prio, const char *level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* log_vline - format and emit one line */
static void
log_vline(int prio, const char *level, const char *fmt, va_list ap)
{
    char line[4096];
    size_t n = 0;

    if (log_to == LOG_TO_SYSLOG) {
        vsnprintf(line, sizeof(line), fmt, ap);
        syslog(prio, "%s%s", level, line);
        return;
    }
    /* The date and time to the second change once a second: formatted
     * again only then (each thread keeps its own). */
    static _Thread_local time_t stamp_sec = -1;
    static _Thread_local char stamp[32];
    static _Thread_local size_t stamp_len;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    if (tv.tv_sec != stamp_sec) {
        struct tm tm;
        gmtime_r(&tv.tv_sec, &tm);
        stamp_len = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
        stamp_sec = tv.tv_sec;
    }
    memcpy(line, stamp, stamp_len);
    n = stamp_len;
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ postino[%ld]: %s",
                          (long)(tv.tv_usec / 1000), log_pid ? (long)log_pid : (long)getpid(),
                          level);
    int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (m < 0)
        m = 0;
    n += (size_t)m;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    pthread_mutex_lock(&log_mu);
    if (log_buffered && prio >= LOG_INFO) {
        if (log_len + n > sizeof(log_buf))
            flush_locked();
        bool first = log_len == 0;
        memcpy(log_buf + log_len, line, n);
        log_len += n;
        if (first && log_wake && pthread_equal(pthread_self(), log_loop))
            log_wake(log_wake_arg);
    } else {
        flush_locked();                 /* in order: what waited comes first */
        ssize_t w = write(STDERR_FILENO, line, n);
        (void)w;
    }
    pthread_mutex_unlock(&log_mu);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(LOG_INFO, "", fmt, ap);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(LOG_WARNING, "warning: ", fmt, ap);
    va_end(ap);
}

void
log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(LOG_ERR, "error: ", fmt, ap);
    va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vline(LOG_CRIT, "fatal: ", fmt, ap);
    va_end(ap);
    exit(1);
}

char *
log_sanitize(const char *s, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (outlen == 0)
        return out;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t need = (c < 0x20 || c >= 0x7f || c == '\\') ? 4 : 1;
        if (o + need + 4 > outlen) {            /* room for "..." and NUL */
            if (o + 4 <= outlen)
                memcpy(out + o, "...", 3), o += 3;
            break;
        }
        if (need == 4) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    return out;
}
