/*
 * serve - "postino serve": start every part of the server, run the event
 * loop, stop cleanly.
 */
#ifndef POSTINO_DAEMON_SERVE_H
#define POSTINO_DAEMON_SERVE_H

#include <stddef.h>

/*
 * serve_main - run the server with configuration file path (NULL: the
 * default file or the trial setup) and the "-o" overrides. Returns the
 * process exit status.
 */
int serve_main(const char *path, char **overrides, size_t noverrides);

#endif
