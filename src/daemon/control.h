/*
 * control - the queue control socket, <data_dir>/control.
 *
 * A Unix stream socket (mode 0600, inside the 0700 data_dir) served on
 * the event loop. A client sends one request line (LF or CRLF); the
 * server answers with one JSON object and a newline, then closes:
 *
 *   LIST           {"messages":[MESSAGE, ...]}          oldest first
 *   SHOW <id>      MESSAGE plus "headers": the message's header section
 *                  (at most CONTROL_HEADERS_MAX octets; "headers_truncated":
 *                  true when it was longer)
 *   FLUSH          {"flushed":N}                        every message tried now
 *   RETRY <id>     {"ok":true}                          one message tried now
 *   DELETE <id>    {"ok":true}                          dropped, no bounce
 *   anything else, or a failure: {"error":"a sentence"}
 *
 *   MESSAGE = {"id":"0193A1B2C3D4E5F6","arrival":UNIX,"age":SECONDS,
 *              "size":OCTETS,"sender":"a@b" or "","attempts":N,
 *              "next_try":UNIX or 0,"busy":BOOL,
 *              "recipients":[{"address":ORIG,"mailbox":"l@d",
 *                             "state":"pending"|"delivered"|"failed",
 *                             "remote":BOOL,"last_error":"..." or null}]}
 *
 * Ids are QUEUE_ID_LEN upper-case hex digits. At most CONTROL_CLIENTS_MAX
 * connections are served at once; more get an error answer at once. Only
 * root and the server's own user may connect (the mode, and SO_PEERCRED);
 * whoever can connect may run every request. The client is "postino
 * queue" (cli/queue.c), which reads the answers with util/json.
 *
 * The pure parts (request parsing, the JSON of one message, finding the
 * header section in a queue file) are exported for that client and for
 * the unit tests.
 */
#ifndef POSTINO_DAEMON_CONTROL_H
#define POSTINO_DAEMON_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "queue/envelope.h"
#include "util/buf.h"

#define CONTROL_SOCKET_NAME  "control"
#define CONTROL_REQUEST_MAX  64                 /* octets in a request line, without LF */
#define CONTROL_HEADERS_MAX  (64 * 1024)        /* octets of headers in a SHOW answer */
#define CONTROL_CLIENTS_MAX  8

struct event_base;
struct scheduler;
struct sched_view;
struct control;

enum control_cmd { CONTROL_LIST, CONTROL_SHOW, CONTROL_FLUSH, CONTROL_RETRY, CONTROL_DELETE };

struct control_request {
    enum control_cmd cmd;
    char             id[QUEUE_ID_LEN + 1];      /* SHOW, RETRY, DELETE; else "" */
};

/*
 * control_open - listen on <data_dir>/control. A stale socket left by a
 * crash is removed; a live one (something answers) or a file that is no
 * socket is an error. Returns the control, or NULL with a sentence in err.
 * sched must outlive it.
 */
struct control *control_open(struct event_base *base, const char *data_dir,
                             struct scheduler *sched, char *err, size_t errlen);
/* control_close - drop the clients, close and remove the socket; harmless on NULL */
void control_close(struct control *c);

/*
 * control_sockaddr - the address of <data_dir>/control in *sun and *len.
 * 0, or -1 with a sentence in err when the path does not fit sun_path.
 */
int control_sockaddr(const char *data_dir, struct sockaddr_un *sun, socklen_t *len,
                     char *err, size_t errlen);

/* control_id_valid - s[0..n) is a queue id: QUEUE_ID_LEN upper-case hex digits */
bool control_id_valid(const char *s, size_t n);

/*
 * control_parse_request - parse one request line[0..n) (no line end).
 * 0 with *req filled, or -1 with a sentence in err.
 */
int control_parse_request(const char *line, size_t n, struct control_request *req,
                          char *err, size_t errlen);

/*
 * control_format_message - append MESSAGE (see above) for v, its age
 * counted at now; when headers is not NULL, also "headers" (hlen octets)
 * and, if truncated, "headers_truncated".
 */
void control_format_message(struct buf *out, const struct sched_view *v, time_t now,
                            const char *headers, size_t hlen, bool truncated);

/*
 * control_headers - find the message's header section in the first n
 * octets of a queue file: skip the envelope head up to its empty line,
 * then take the header section up to the message's first empty line
 * (the section's last LF included), at most CONTROL_HEADERS_MAX octets,
 * cut at a line end when it is longer (*truncated). complete says no
 * more octets will come. Returns 1 with *off and *len set; 0 when more
 * octets are needed; -1 when the envelope head never ends.
 */
int control_headers(const char *text, size_t n, bool complete, size_t *off, size_t *len,
                    bool *truncated);

#endif
