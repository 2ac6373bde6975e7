/*
 * log - one line per event, to stderr or syslog (facility mail).
 *
 * Lines that concern a message start with its queue id ("ID: key=value,
 * ..."), in the manner of Postfix, so that existing log tools and fail2ban
 * filters can be written for them. Text that came from a client must be
 * passed through log_sanitize() first.
 */
#ifndef POSTINO_UTIL_LOG_H
#define POSTINO_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_open(enum log_target target);
/*
 * log_set_buffered - with on, info lines to stderr wait in a buffer until
 * log_flush() or a warning; the first line of a batch logged on the
 * calling thread (the event loop's) calls wake(arg), which must arrange a
 * log_flush() soon without logging. Off flushes.
 */
void log_set_buffered(bool on, void (*wake)(void *arg), void *arg);
void log_flush(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* log_fatal - log and exit(1); for startup errors only */
void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_sanitize - copy client text s[0..n) into out (size outlen) with
 * control and non-ASCII octets escaped as \xHH and truncated (with "...")
 * to fit. Returns out.
 */
char *log_sanitize(const char *s, size_t n, char *out, size_t outlen);

#endif
