/*
 * test_control - unit tests for the pure parts of src/daemon/control.c:
 * queue ids, request lines, the JSON of one message (read back with
 * util/json, as "postino queue" does), the header section of a queue
 * file, and the socket path.
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end. Inputs are heap copies of exactly their length,
 * so that AddressSanitizer catches a read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"
#include "queue/envelope.h"
#include "queue/scheduler.h"
#include "util/buf.h"
#include "util/json.h"

/* control replies can be long: the first 300 octets, then "..." */
#define SHOW_STYLE { .head = 300, .more = "..." }
#include "check.h"

#define ID "0193A1B2C3D4E5F6"

/* ---- control_id_valid ---------------------------------------------------- */

static const struct {
    const char *in;
    size_t      len;
    bool        want;
} id_cases[] = {
    { S(ID),                        true },
    { S("0000000000000000"),        true },
    { S("FFFFFFFFFFFFFFFF"),        true },
    { S("0123456789ABCDEF"),        true },
    { S("0193a1b2c3d4e5f6"),        false },     /* upper case only */
    { S("0193A1B2C3D4E5F"),         false },     /* 15 */
    { S("0193A1B2C3D4E5F60"),       false },     /* 17 */
    { S(""),                        false },
    { S("0193A1B2C3D4E5FG"),        false },
    { S("0193A1B2C3D4E5F "),        false },
    { S(" 193A1B2C3D4E5F6"),        false },
    { S("0193A1B2C3D4E5\0F"),       false },
    { S("../../etc/passwd"),        false },
    { S("0193A1B2C3D4E5F\n"),       false },
    { S("0193A1B2C3D4E5F\xc6"),     false },
};

static void
test_id_valid(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(id_cases); i++) {
        char *in = copy(id_cases[i].in, id_cases[i].len);
        bool got = control_id_valid(in, id_cases[i].len);

        if (got != id_cases[i].want)
            report("control_id_valid(\"%s\"): got %d, want %d", show(in, id_cases[i].len),
                   got, id_cases[i].want);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* ---- control_parse_request ------------------------------------------------ */

static const struct {
    const char      *in;
    size_t           len;
    int              rc;
    enum control_cmd cmd;
    const char      *id;    /* rc 0: the id; rc -1: a part of the error */
} req_cases[] = {
    { S("LIST"),                    0, CONTROL_LIST, "" },
    { S("FLUSH"),                   0, CONTROL_FLUSH, "" },
    { S("SHOW " ID),                0, CONTROL_SHOW, ID },
    { S("RETRY " ID),               0, CONTROL_RETRY, ID },
    { S("DELETE " ID),              0, CONTROL_DELETE, ID },
    /* verbs are upper case and exact */
    { S("list"),                    -1, 0, "unknown request" },
    { S("LISTS"),                   -1, 0, "unknown request" },
    { S("LIS"),                     -1, 0, "unknown request" },
    { S(""),                        -1, 0, "unknown request" },
    { S(" LIST"),                   -1, 0, "unknown request" },
    { S("LIST\0"),                  -1, 0, "unknown request" },
    { S("HELO x"),                  -1, 0, "unknown request" },
    { S("GET / HTTP/1.1"),          -1, 0, "unknown request" },
    { S("SHOW\t" ID),               -1, 0, "unknown request" },
    /* arguments where none go, none where one must */
    { S("LIST "),                   -1, 0, "LIST takes no argument" },
    { S("FLUSH " ID),               -1, 0, "FLUSH takes no argument" },
    { S("SHOW"),                    -1, 0, "SHOW needs a queue id" },
    { S("DELETE"),                  -1, 0, "DELETE needs a queue id" },
    /* bad ids */
    { S("SHOW "),                   -1, 0, "not a queue id" },
    { S("RETRY 0193a1b2c3d4e5f6"),  -1, 0, "not a queue id" },
    { S("DELETE " ID " "),          -1, 0, "not a queue id" },
    { S("DELETE  " ID),             -1, 0, "not a queue id" },
    { S("DELETE " ID ID),           -1, 0, "not a queue id" },
    { S("SHOW ../../../etc/passwd"),-1, 0, "not a queue id" },
    { S("SHOW " ID "\r"),           -1, 0, "not a queue id" },     /* CR is the caller's */
};

static void
test_parse_request(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(req_cases); i++) {
        char *in = copy(req_cases[i].in, req_cases[i].len);
        struct control_request req;
        char err[128] = "";
        int rc = control_parse_request(in, req_cases[i].len, &req, err, sizeof(err));
        const char *what = show(in, req_cases[i].len);

        if (rc != req_cases[i].rc)
            report("control_parse_request(\"%s\"): got %d (%s), want %d", what, rc, err,
                   req_cases[i].rc);
        else if (rc == 0 && (req.cmd != req_cases[i].cmd || strcmp(req.id, req_cases[i].id)))
            report("control_parse_request(\"%s\"): got cmd %d id \"%s\", want %d \"%s\"", what,
                   req.cmd, req.id, req_cases[i].cmd, req_cases[i].id);
        else if (rc < 0 && !strstr(err, req_cases[i].id))
            report("control_parse_request(\"%s\"): got error \"%s\", want \"%s\"", what, err,
                   req_cases[i].id);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* ---- control_format_message ------------------------------------------------ */

/* message - a queued message with three recipients in every state */
static struct envelope *
message(void)
{
    struct envelope *env = envelope_new();
    struct env_rcpt *r;

    memcpy(env->id, ID, sizeof(ID));
    env->arrival = 1764380000;
    free(env->sender);
    env->sender = strdup("alice@example.org");
    env->size = 4096;
    r = envelope_add_rcpt(env, "bob@example.org", "Bob+x@Example.org", 0, NULL);
    r->state = RCPT_PENDING;
    r->last_error = strdup("451 4.2.0 \"busy\"\n\x01 caf\xc3\xa9 \xff");
    r = envelope_add_rcpt(env, "carol@example.org", "carol@example.org", 0, NULL);
    r->state = RCPT_DELIVERED;
    r = envelope_add_rcpt(env, "dave@far.test", "dave@far.test", 0, NULL);
    r->remote = true;
    r->state = RCPT_FAILED;
    r->last_error = strdup("550 5.1.1 no such user");
    return env;
}

static const char message_json[] =
    "{\"id\":\"" ID "\",\"arrival\":1764380000,\"age\":300,\"size\":4096,"
    "\"sender\":\"alice@example.org\",\"attempts\":2,\"next_try\":1764380400,"
    "\"busy\":false,\"recipients\":["
    "{\"address\":\"Bob+x@Example.org\",\"mailbox\":\"bob@example.org\","
    "\"state\":\"pending\",\"remote\":false,"
    "\"last_error\":\"451 4.2.0 \\\"busy\\\"\\n\\u0001 caf\xc3\xa9 \\u00ff\"},"
    "{\"address\":\"carol@example.org\",\"mailbox\":\"carol@example.org\","
    "\"state\":\"delivered\",\"remote\":false,\"last_error\":null},"
    "{\"address\":\"dave@far.test\",\"mailbox\":\"dave@far.test\","
    "\"state\":\"failed\",\"remote\":true,\"last_error\":\"550 5.1.1 no such user\"}]}";

static void
test_format_message(void **state)
{
    struct envelope *env = message();
    struct sched_view v = { .env = env, .next_try = 1764380400, .attempts = 2, .busy = false };
    struct buf b = BUF_INIT;
    char err[128];

    (void)state;
    control_format_message(&b, &v, 1764380300, NULL, 0, false);
    if (strcmp(buf_cstr(&b), message_json) != 0)
        fail_msg("got  %s\nwant %s", b.data, message_json);

    /* What the client reads back. */
    struct json *j = json_parse(b.data, b.len, err, sizeof(err));
    assert_non_null(j);
    assert_string_equal(json_get(j, "id")->str, ID);
    assert_int_equal(json_get(j, "age")->integer, 300);
    const struct json *r = json_get(j, "recipients");
    assert_int_equal(r->len, 3);
    const struct json *le = json_get(&r->items[0], "last_error");
    assert_int_equal(le->len, strlen("451 4.2.0 \"busy\"\n\x01 caf\xc3\xa9 \xc3\xbf"));
    assert_string_equal(le->str, "451 4.2.0 \"busy\"\n\x01 caf\xc3\xa9 \xc3\xbf");
    assert_int_equal(json_get(&r->items[1], "last_error")->type, JSON_NULL);
    assert_true(json_get(&r->items[2], "remote")->boolean);
    assert_null(json_get(j, "headers"));
    json_free(j);

    /* The null sender, a busy message, a clock behind the arrival. */
    free(env->sender);
    env->sender = strdup("");
    v.busy = true;
    v.next_try = 0;
    buf_reset(&b);
    control_format_message(&b, &v, 1764379000, NULL, 0, false);
    assert_non_null(strstr(buf_cstr(&b), "\"age\":0,"));
    assert_non_null(strstr(buf_cstr(&b), "\"sender\":\"\","));
    assert_non_null(strstr(buf_cstr(&b), "\"next_try\":0,\"busy\":true,"));

    /* SHOW: headers, escaped, and the truncation flag. */
    static const char hdr[] = "Subject: =?utf-8?q?hi?=\nX-Evil: \x1b]0;pwned\x07\n";
    buf_reset(&b);
    control_format_message(&b, &v, 1764380300, hdr, sizeof(hdr) - 1, true);
    assert_non_null(strstr(buf_cstr(&b), "\"headers\":\"Subject: =?utf-8?q?hi?=\\nX-Evil: "
                                         "\\u001b]0;pwned\\u0007\\n\",\"headers_truncated\":true}"));
    j = json_parse(b.data, b.len, err, sizeof(err));
    assert_non_null(j);
    assert_int_equal(json_get(j, "headers")->len, sizeof(hdr) - 1);
    assert_memory_equal(json_get(j, "headers")->str, hdr, sizeof(hdr) - 1);
    json_free(j);
    buf_reset(&b);
    control_format_message(&b, &v, 1764380300, "", 0, false);
    assert_non_null(strstr(buf_cstr(&b), "\"headers\":\"\"}"));

    /* A message without recipients still gives valid JSON. */
    struct envelope *bare = envelope_new();
    memcpy(bare->id, ID, sizeof(ID));
    struct sched_view bv = { .env = bare };
    buf_reset(&b);
    control_format_message(&b, &bv, 0, NULL, 0, false);
    assert_non_null(strstr(buf_cstr(&b), "\"recipients\":[]}"));
    j = json_parse(b.data, b.len, err, sizeof(err));
    assert_non_null(j);
    json_free(j);

    envelope_free(bare);
    envelope_free(env);
    buf_free(&b);
}

/* ---- control_headers ------------------------------------------------------ */

#define HEAD "POSTINO-QUEUE 1\nid " ID "\narrival 1764380000\nsender a@b\nrcpt b@c b@c 0 -\n\n"

/* W - a wanted section and its length; NONE when there is none */
#define W(lit) lit, sizeof(lit) - 1
#define NONE NULL, 0

static const struct {
    const char *in;
    size_t      len;
    bool        complete;
    int         rc;
    const char *want;       /* rc 1: the header section */
    size_t      wantlen;
} hdr_cases[] = {
    { S(HEAD "Subject: hi\nFrom: a@b\n\nbody\n\nmore\n"),
      false, 1, W("Subject: hi\nFrom: a@b\n") },
    { S(HEAD "Subject: hi\nFrom: a@b\n\nbody\n\nmore\n"),
      true,  1, W("Subject: hi\nFrom: a@b\n") },
    /* continuation lines belong to the section */
    { S(HEAD "Subject: a\n long\n\tone\n\nbody"),       true,  1, W("Subject: a\n long\n\tone\n") },
    /* no header at all: the message starts with its empty line */
    { S(HEAD "\nbody\n"),                               false, 1, W("") },
    /* only headers, no empty line: all of it once the file has ended */
    { S(HEAD "Subject: hi\n"),                          false, 0, NONE },
    { S(HEAD "Subject: hi\n"),                          true,  1, W("Subject: hi\n") },
    { S(HEAD "Subject: hi"),                            true,  1, W("Subject: hi") },
    { S(HEAD),                                          false, 0, NONE },
    { S(HEAD),                                          true,  1, W("") },
    /* the envelope head has not ended (yet, or ever) */
    { S("POSTINO-QUEUE 1\nid " ID "\n"),                false, 0, NONE },
    { S("POSTINO-QUEUE 1\nid " ID "\n"),                true,  -1, NONE },
    { S(""),                                            false, 0, NONE },
    { S(""),                                            true,  -1, NONE },
    /* a line of white space is no empty line */
    { S(HEAD "A: 1\n \nB: 2\n\nbody"),                  true,  1, W("A: 1\n \nB: 2\n") },
    /* NULs and CRs are ordinary octets */
    { S(HEAD "A: \0\r\n\nbody"),                        true,  1, W("A: \0\r\n") },
};

static void
test_headers(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(hdr_cases); i++) {
        size_t n = hdr_cases[i].len, off = 0, len = 0, wl = hdr_cases[i].wantlen;
        char *in = copy(hdr_cases[i].in, n);
        bool cut = true;
        int rc = control_headers(in, n, hdr_cases[i].complete, &off, &len, &cut);
        const char *what = show(in, n);

        if (rc != hdr_cases[i].rc) {
            report("control_headers(\"%s\", %d): got %d, want %d", what,
                   hdr_cases[i].complete, rc, hdr_cases[i].rc);
        } else if (rc == 1 && (off > n || len > n - off || len != wl
                               || memcmp(in + off, hdr_cases[i].want, wl) != 0 || cut)) {
            report("control_headers(\"%s\"): got \"%s\"%s, want \"%s\"", what,
                   off <= n && len <= n - off ? show(in + off, len) : "(out of range)",
                   cut ? " (cut)" : "", show(hdr_cases[i].want, wl));
        }
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* test_headers_prefixes - while the file is read, never a wrong answer */
static void
test_headers_prefixes(void **state)
{
    static const char file[] = HEAD "Subject: hi\nFrom: a@b\n\nbody\n\nmore\n";
    const size_t full = sizeof(file) - 1;
    const size_t body = sizeof(HEAD) - 1, hlen = strlen("Subject: hi\nFrom: a@b\n");

    (void)state;
    failures = 0;
    for (size_t n = 0; n <= full; n++) {
        char *in = copy(file, n);
        size_t off = 0, len = 0;
        bool cut;
        int rc = control_headers(in, n, false, &off, &len, &cut);
        /* Done once the empty line after the headers is in. */
        int want = n > body + hlen ? 1 : 0;

        if (rc != want)
            report("control_headers(first %zu of %zu): got %d, want %d", n, full, rc, want);
        else if (rc == 1 && (off != body || len != hlen || cut))
            report("control_headers(first %zu): got off %zu len %zu, want %zu %zu", n, off,
                   len, body, hlen);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* test_headers_cap - a header section past CONTROL_HEADERS_MAX is cut at a line end */
static void
test_headers_cap(void **state)
{
    struct buf b = BUF_INIT;
    size_t off, len, line = 100;
    bool cut;

    (void)state;
    /* Lines of 100 octets: the cut falls after the last whole line. */
    buf_puts(&b, HEAD);
    for (size_t i = 0; i < 2 * CONTROL_HEADERS_MAX / line; i++)
        buf_printf(&b, "X-Pad: %092zu\n", i);
    /* Not ended yet, but already too long: the answer is known. */
    assert_int_equal(control_headers(b.data, b.len, false, &off, &len, &cut), 1);
    assert_true(cut);
    assert_int_equal(off, sizeof(HEAD) - 1);
    assert_int_equal(len, CONTROL_HEADERS_MAX / line * line);
    assert_int_equal(b.data[off + len - 1], '\n');
    buf_puts(&b, "\nbody\n");
    assert_int_equal(control_headers(b.data, b.len, true, &off, &len, &cut), 1);
    assert_true(cut);
    assert_int_equal(len, CONTROL_HEADERS_MAX / line * line);

    /* Exactly at the cap: whole, not cut. */
    buf_reset(&b);
    buf_puts(&b, HEAD);
    for (size_t i = 0; i < CONTROL_HEADERS_MAX / 64; i++)
        buf_printf(&b, "X: %060zu\n", i);
    assert_int_equal(b.len - (sizeof(HEAD) - 1), CONTROL_HEADERS_MAX);
    buf_puts(&b, "\nbody\n");
    assert_int_equal(control_headers(b.data, b.len, false, &off, &len, &cut), 1);
    assert_false(cut);
    assert_int_equal(len, CONTROL_HEADERS_MAX);

    /* One line longer than the cap: cut inside it, nothing better to do. */
    buf_reset(&b);
    buf_puts(&b, HEAD "X: ");
    for (size_t i = 0; i < CONTROL_HEADERS_MAX; i++)
        buf_putc(&b, 'a');
    assert_int_equal(control_headers(b.data, b.len, false, &off, &len, &cut), 1);
    assert_true(cut);
    assert_int_equal(len, CONTROL_HEADERS_MAX);
    buf_free(&b);
}

/* ---- control_sockaddr ---------------------------------------------------- */

static void
test_sockaddr(void **state)
{
    struct sockaddr_un sun;
    socklen_t len;
    char err[256], dir[200];
    const size_t room = sizeof(sun.sun_path) - 1 - strlen("/" CONTROL_SOCKET_NAME);

    (void)state;
    assert_int_equal(control_sockaddr("/var/lib/postino", &sun, &len, err, sizeof(err)), 0);
    assert_string_equal(sun.sun_path, "/var/lib/postino/control");
    assert_int_equal(sun.sun_family, AF_UNIX);
    assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + strlen(sun.sun_path) + 1);
    assert_int_equal(control_sockaddr("./postino-data", &sun, &len, err, sizeof(err)), 0);
    assert_string_equal(sun.sun_path, "./postino-data/control");

    /* The longest data_dir that fits, and one octet more. */
    memset(dir, 'd', room);
    dir[0] = '/';
    dir[room] = '\0';
    assert_int_equal(control_sockaddr(dir, &sun, &len, err, sizeof(err)), 0);
    assert_int_equal(strlen(sun.sun_path), sizeof(sun.sun_path) - 1);
    dir[room] = 'd';
    dir[room + 1] = '\0';
    assert_int_equal(control_sockaddr(dir, &sun, &len, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "is too long"));
    assert_non_null(strstr(err, "shorter data_dir"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_id_valid),
        cmocka_unit_test(test_parse_request),
        cmocka_unit_test(test_format_message),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_headers_prefixes),
        cmocka_unit_test(test_headers_cap),
        cmocka_unit_test(test_sockaddr),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
