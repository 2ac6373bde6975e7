/*
 * test_json - unit tests for src/util/json.c: string escaping for the
 * control socket's answers, and the strict reader of "postino queue".
 *
 * Table-driven: every mismatch is reported as "got ..., want ..." and the
 * test fails at the end, so one run shows all broken rows. Inputs are
 * heap copies of exactly their length (no NUL after them), so that
 * AddressSanitizer catches a read past the end; its leak check covers
 * the reader's error paths.
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

#include "util/buf.h"
#include "util/json.h"

/* JSON output can be long: cut with "..." */
#define SHOW_STYLE { .width = 592, .more = "..." }
#include "check.h"

/* canon - a parsed tree written back compactly, strings as json_put_string does */
static void
canon(struct buf *b, const struct json *j)
{
    switch (j->type) {
    case JSON_NULL:
        buf_puts(b, "null");
        break;
    case JSON_BOOL:
        buf_puts(b, j->boolean ? "true" : "false");
        break;
    case JSON_INT:
        buf_printf(b, "%lld", j->integer);
        break;
    case JSON_STRING:
        json_put_string(b, j->str, j->len);
        break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        buf_putc(b, j->type == JSON_ARRAY ? '[' : '{');
        for (size_t i = 0; i < j->len; i++) {
            if (i)
                buf_putc(b, ',');
            if (j->type == JSON_OBJECT) {
                json_put_cstr(b, j->keys[i]);
                buf_putc(b, ':');
            }
            canon(b, &j->items[i]);
        }
        buf_putc(b, j->type == JSON_ARRAY ? ']' : '}');
        break;
    }
}

/* ---- json_put_string ----------------------------------------------------- */

static const struct {
    const char *in;
    size_t      len;
    const char *want;
    bool        utf8;       /* valid UTF-8: the reader gives the input back */
} put_cases[] = {
    { S(""),                        "\"\"",                         true },
    { S("alice@example.org"),       "\"alice@example.org\"",        true },
    { S("a\"b\\c/d"),               "\"a\\\"b\\\\c/d\"",            true },
    /* short escapes for the usual control characters */
    { S("1\n2\t3\r4\b5\f"),         "\"1\\n2\\t3\\r4\\b5\\f\"",     true },
    /* the others, and DEL, as \u00XX */
    { S("\x01\x1b[31m\x1f\x7f"),    "\"\\u0001\\u001b[31m\\u001f\\u007f\"", true },
    { S("a\0b"),                    "\"a\\u0000b\"",                true },
    /* valid UTF-8 passes: 2, 3 and 4 octets, U+2028, NBSP */
    { S("caf\xc3\xa9"),             "\"caf\xc3\xa9\"",              true },
    { S("\xe2\x82\xac 5"),          "\"\xe2\x82\xac 5\"",           true },
    { S("\xf0\x9f\x98\x80"),        "\"\xf0\x9f\x98\x80\"",         true },
    { S("\xe2\x80\xa8"),            "\"\xe2\x80\xa8\"",             true },
    { S("\xc2\xa0"),                "\"\xc2\xa0\"",                 true },
    { S("\xf4\x8f\xbf\xbf"),        "\"\xf4\x8f\xbf\xbf\"",         true },
    /* C1 controls are valid UTF-8 but escaped, for terminals */
    { S("\xc2\x85\xc2\x9b"),        "\"\\u0085\\u009b\"",           true },
    /* not UTF-8: each octet as Latin-1 */
    { S("\xc3"),                    "\"\\u00c3\"",                  false },
    { S("\xc3("),                   "\"\\u00c3(\"",                 false },
    { S("a\xe2\x82"),               "\"a\\u00e2\\u0082\"",          false },
    { S("\xff\xfe"),                "\"\\u00ff\\u00fe\"",           false },
    { S("\x80x"),                   "\"\\u0080x\"",                 false },
    /* overlong forms */
    { S("\xc0\xaf"),                "\"\\u00c0\\u00af\"",           false },
    { S("\xc1\xbf"),                "\"\\u00c1\\u00bf\"",           false },
    { S("\xe0\x80\xaf"),            "\"\\u00e0\\u0080\\u00af\"",    false },
    { S("\xf0\x80\x80\xaf"),        "\"\\u00f0\\u0080\\u0080\\u00af\"", false },
    /* surrogates encoded in UTF-8 */
    { S("\xed\xa0\x80"),            "\"\\u00ed\\u00a0\\u0080\"",    false },
    { S("\xed\xbf\xbf"),            "\"\\u00ed\\u00bf\\u00bf\"",    false },
    /* past U+10FFFF, and lead octets that never start anything */
    { S("\xf4\x90\x80\x80"),        "\"\\u00f4\\u0090\\u0080\\u0080\"", false },
    { S("\xf5\x80\x80\x80"),        "\"\\u00f5\\u0080\\u0080\\u0080\"", false },
    /* a good sequence right after a bad octet is kept */
    { S("\xe2\xc3\xa9"),            "\"\\u00e2\xc3\xa9\"",          false },
};

static void
test_put_string(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(put_cases); i++) {
        struct buf b = BUF_INIT;
        char *in = copy(put_cases[i].in, put_cases[i].len);
        char err[128];

        json_put_string(&b, in, put_cases[i].len);
        if (strcmp(buf_cstr(&b), put_cases[i].want) != 0)
            report("json_put_string(\"%s\"): got %s, want %s", show(in, put_cases[i].len),
                   show(b.data, b.len), show(put_cases[i].want, strlen(put_cases[i].want)));
        /* Whatever it writes, the reader takes; valid UTF-8 comes back as it was. */
        struct json *j = json_parse(b.data, b.len, err, sizeof(err));
        if (!j)
            report("json_parse(json_put_string(\"%s\")): %s", show(in, put_cases[i].len), err);
        else if (j->type != JSON_STRING)
            report("json_parse(json_put_string(\"%s\")): not a string",
                   show(in, put_cases[i].len));
        else if (put_cases[i].utf8 && (j->len != put_cases[i].len
                                       || memcmp(j->str, in, j->len) != 0))
            report("round trip of \"%s\": got \"%s\"", show(in, put_cases[i].len),
                   show(j->str, j->len));
        json_free(j);
        buf_free(&b);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* test_put_string_all_octets - every octet alone gives valid, ASCII-safe JSON */
static void
test_put_string_all_octets(void **state)
{
    (void)state;
    failures = 0;
    for (unsigned c = 0; c < 256; c++) {
        struct buf b = BUF_INIT;
        char in = (char)c, err[128];

        json_put_string(&b, &in, 1);
        for (size_t k = 0; k < b.len; k++)
            if ((unsigned char)b.data[k] < 0x20 || (unsigned char)b.data[k] >= 0x7F)
                report("json_put_string(0x%02x): raw octet 0x%02x in %s", c,
                       (unsigned char)b.data[k], show(b.data, b.len));
        struct json *j = json_parse(b.data, b.len, err, sizeof(err));
        if (!j)
            report("json_parse(json_put_string(0x%02x)): %s", c, err);
        json_free(j);
        buf_free(&b);
    }
    assert_int_equal(failures, 0);
}

static void
test_put_cstr_null(void **state)
{
    struct buf b = BUF_INIT;

    (void)state;
    json_put_cstr(&b, NULL);
    json_put_cstr(&b, "x");
    assert_string_equal(buf_cstr(&b), "null\"x\"");
    buf_free(&b);
}

/* ---- json_parse: accepted ----------------------------------------------- */

static const struct {
    const char *in;
    size_t      len;
    const char *want;       /* canon() of the tree */
} accept_cases[] = {
    { S("{}"),                              "{}" },
    { S("[]"),                              "[]" },
    { S(" \t\r\n[ 1 , -2 ,0 ]\n"),          "[1,-2,0]" },
    { S("true"),                            "true" },
    { S("null"),                            "null" },
    { S("\"\""),                            "\"\"" },
    { S("{\"a\":{\"b\":[true,false,null]}}"), "{\"a\":{\"b\":[true,false,null]}}" },
    { S("{\"b\":1,\"a\":\"x\"}"),           "{\"b\":1,\"a\":\"x\"}" },
    { S("{ \"a\" : 1 , \"b\" : [ ] }"),     "{\"a\":1,\"b\":[]}" },
    { S("9223372036854775807"),             "9223372036854775807" },
    { S("-9223372036854775808"),            "-9223372036854775808" },
    { S("-0"),                              "0" },
    /* escapes */
    { S("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""),  "\"\\\"\\\\/\\b\\f\\n\\r\\t\"" },
    { S("\"\\u00e9\\u00C9\""),              "\"\xc3\xa9\xc3\x89\"" },
    { S("\"\\u20ac\""),                     "\"\xe2\x82\xac\"" },
    { S("\"\\ud83d\\ude00\""),              "\"\xf0\x9f\x98\x80\"" },
    { S("\"\\uD834\\uDD1E\""),              "\"\xf0\x9d\x84\x9e\"" },
    { S("\"\\udbff\\udfff\""),              "\"\xf4\x8f\xbf\xbf\"" },
    { S("\"a\\u0000b\""),                   "\"a\\u0000b\"" },
    { S("\"\\u001b\""),                     "\"\\u001b\"" },
    /* raw UTF-8 and DEL are allowed in strings (RFC 8259 7) */
    { S("\"caf\xc3\xa9 \x7f\""),            "\"caf\xc3\xa9 \\u007f\"" },
    /* the control protocol's shapes */
    { S("{\"flushed\":3}"),                 "{\"flushed\":3}" },
    { S("{\"error\":\"no such message: 0193A1B2C3D4E5F6\"}"),
      "{\"error\":\"no such message: 0193A1B2C3D4E5F6\"}" },
};

static void
test_parse_accepts(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(accept_cases); i++) {
        char *in = copy(accept_cases[i].in, accept_cases[i].len);
        char err[128];
        struct buf b = BUF_INIT;
        struct json *j = json_parse(in, accept_cases[i].len, err, sizeof(err));

        if (!j) {
            report("json_parse(%s): got error \"%s\", want %s", show(in, accept_cases[i].len),
                   err, accept_cases[i].want);
        } else {
            canon(&b, j);
            if (strcmp(buf_cstr(&b), accept_cases[i].want) != 0)
                report("json_parse(%s): got %s, want %s", show(in, accept_cases[i].len),
                       show(b.data, b.len), accept_cases[i].want);
        }
        json_free(j);
        buf_free(&b);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* ---- json_parse: refused ------------------------------------------------ */

static const struct {
    const char *in;
    size_t      len;
    const char *want;       /* in the error */
} reject_cases[] = {
    { S(""),                        "offset 0: unexpected end" },
    { S("  \n"),                    "offset 3: unexpected end" },
    { S("{"),                       "expected a key" },
    { S("["),                       "unexpected end" },
    { S("[1"),                      "expected ',' or ']'" },
    { S("[1,]"),                    "offset 3: unexpected ']'" },
    { S("[1 2]"),                   "expected ',' or ']'" },
    { S("{\"a\":1,}"),              "expected a key" },
    { S("{\"a\" 1}"),               "expected ':'" },
    { S("{\"a\":}"),                "unexpected '}'" },
    { S("{1:2}"),                   "expected a key" },
    { S("{'a':1}"),                 "expected a key" },
    { S("{\"a\":1,\"a\":2}"),       "offset 7: a key repeated" },
    { S("{\"a\\u0000\":1}"),        "holding a NUL" },
    { S("[1]x"),                    "offset 3: data after the value" },
    { S("{\"a\":1}}"),              "data after the value" },
    { S("1 2"),                     "data after the value" },
    { S("/* c */ 1"),               "unexpected '/'" },
    /* numbers: integers only, JSON's grammar, in range */
    { S("01"),                      "may not start with 0" },
    { S("-01"),                     "may not start with 0" },
    { S("-"),                       "a number needs digits" },
    { S("-a"),                      "a number needs digits" },
    { S("+1"),                      "unexpected '+'" },
    { S("1.5"),                     "only integers" },
    { S("1e3"),                     "only integers" },
    { S("1E3"),                     "only integers" },
    { S(".5"),                      "unexpected '.'" },
    { S("9223372036854775808"),     "out of range" },
    { S("-9223372036854775809"),    "out of range" },
    { S("99999999999999999999999"), "out of range" },
    { S("NaN"),                     "unexpected 'N'" },
    /* literals */
    { S("tru"),                     "unexpected 't'" },
    { S("True"),                    "unexpected 'T'" },
    { S("nul"),                     "unexpected 'n'" },
    { S("truex"),                   "data after the value" },
    /* strings */
    { S("\"abc"),                   "unterminated string" },
    { S("\"abc\\"),                 "unterminated string" },
    { S("\"a\x01" "b\""),           "control character 0x01" },
    { S("\"a\nb\""),                "control character 0x0a" },
    { S("\"a\tb\""),                "control character 0x09" },
    { S("\"\\x\""),                 "unknown escape \\x" },
    { S("\"\\'\""),                 "unknown escape \\'" },
    { S("\"\\u12\""),               "four hex digits" },
    { S("\"\\u12G4\""),             "four hex digits" },
    { S("\"\\u"),                   "four hex digits" },
    { S("\"\\ud800\""),             "lone high surrogate" },
    { S("\"\\ud800x\""),            "lone high surrogate" },
    { S("\"\\ud800\\u0041\""),      "without a low one" },
    { S("\"\\ud800\\ud800\""),      "without a low one" },
    { S("\"\\udc00\""),             "lone low surrogate" },
    { S("\"\xff\""),                "invalid UTF-8" },
    { S("\"\xc3\""),                "invalid UTF-8" },
    { S("\"\xc0\xaf\""),            "invalid UTF-8" },
    { S("\"\xed\xa0\x80\""),        "invalid UTF-8" },
    { S("\"\xf4\x90\x80\x80\""),    "invalid UTF-8" },
    { S("\xef\xbb\xbf{}"),          "unexpected octet 0xef" },
    { S("\0"),                      "unexpected octet 0x00" },
    { S("[1]\0"),                   "data after the value" },
};

static void
test_parse_rejects(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(reject_cases); i++) {
        char *in = copy(reject_cases[i].in, reject_cases[i].len);
        char err[128] = "";
        struct json *j = json_parse(in, reject_cases[i].len, err, sizeof(err));

        if (j)
            report("json_parse(%s): got a tree, want error \"%s\"",
                   show(in, reject_cases[i].len), reject_cases[i].want);
        else if (!strstr(err, reject_cases[i].want))
            report("json_parse(%s): got error \"%s\", want \"%s\"",
                   show(in, reject_cases[i].len), err, reject_cases[i].want);
        json_free(j);
        free(in);
    }
    assert_int_equal(failures, 0);
}

/* test_parse_prefixes - every proper prefix of an object is refused */
static void
test_parse_prefixes(void **state)
{
    static const char doc[] =
        "{\"messages\":[{\"id\":\"0193A1B2C3D4E5F6\",\"age\":-12,\"busy\":false,"
        "\"last_error\":null,\"s\":\"caf\xc3\xa9 \\ud83d\\ude00 \\\"q\\\"\",\"x\":[true]}]}";

    (void)state;
    failures = 0;
    for (size_t n = 0; n < sizeof(doc) - 1; n++) {
        char *in = copy(doc, n);
        char err[128] = "";
        struct json *j = json_parse(in, n, err, sizeof(err));

        if (j)
            report("json_parse(first %zu of %zu octets): got a tree, want an error", n,
                   sizeof(doc) - 1);
        else if (!err[0])
            report("json_parse(first %zu of %zu octets): no reason given", n, sizeof(doc) - 1);
        json_free(j);
        free(in);
    }
    char err[128];
    struct json *j = json_parse(doc, sizeof(doc) - 1, err, sizeof(err));
    if (!j)
        report("json_parse(whole): %s", err);
    json_free(j);
    assert_int_equal(failures, 0);
}

/* test_parse_limits - nesting depth and object size are capped */
static void
test_parse_limits(void **state)
{
    struct buf b = BUF_INIT;
    char err[128];
    struct json *j;

    (void)state;
    for (int depth = JSON_DEPTH_MAX; depth <= JSON_DEPTH_MAX + 1; depth++) {
        buf_reset(&b);
        for (int i = 0; i < depth; i++)
            buf_putc(&b, '[');
        for (int i = 0; i < depth; i++)
            buf_putc(&b, ']');
        j = json_parse(b.data, b.len, err, sizeof(err));
        if (depth <= JSON_DEPTH_MAX) {
            assert_non_null(j);
        } else {
            assert_null(j);
            assert_non_null(strstr(err, "nested deeper"));
        }
        json_free(j);
    }
    /* Far too deep fails at the limit, not at the end of the stack. */
    buf_reset(&b);
    for (int i = 0; i < 100000; i++)
        buf_puts(&b, "[{\"a\":");
    assert_null(json_parse(b.data, b.len, err, sizeof(err)));
    assert_non_null(strstr(err, "nested deeper"));

    for (int members = JSON_OBJECT_MAX; members <= JSON_OBJECT_MAX + 1; members++) {
        buf_reset(&b);
        buf_putc(&b, '{');
        for (int i = 0; i < members; i++)
            buf_printf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
        buf_putc(&b, '}');
        j = json_parse(b.data, b.len, err, sizeof(err));
        if (members <= JSON_OBJECT_MAX) {
            assert_non_null(j);
            assert_int_equal(j->len, members);
        } else {
            assert_null(j);
            assert_non_null(strstr(err, "more than"));
        }
        json_free(j);
    }
    /* Arrays have no cap of their own: a long queue is a long array. */
    buf_reset(&b);
    buf_putc(&b, '[');
    for (int i = 0; i < 10000; i++)
        buf_printf(&b, "%s{\"id\":%d}", i ? "," : "", i);
    buf_putc(&b, ']');
    j = json_parse(b.data, b.len, err, sizeof(err));
    assert_non_null(j);
    assert_int_equal(j->len, 10000);
    assert_int_equal(json_get(&j->items[9999], "id")->integer, 9999);
    json_free(j);
    buf_free(&b);
}

/* test_get - members by key; NULL for absent keys and for non-objects */
static void
test_get(void **state)
{
    static const char doc[] = "{\"a\":1,\"b\":\"two\",\"c\":[3]}";
    char err[128];
    struct json *j = json_parse(doc, sizeof(doc) - 1, err, sizeof(err));

    (void)state;
    assert_non_null(j);
    assert_int_equal(json_get(j, "a")->integer, 1);
    assert_string_equal(json_get(j, "b")->str, "two");
    assert_int_equal(json_get(j, "b")->len, 3);
    assert_int_equal(json_get(j, "c")->type, JSON_ARRAY);
    assert_null(json_get(j, "d"));
    assert_null(json_get(j, "A"));
    assert_null(json_get(json_get(j, "c"), "a"));
    assert_null(json_get(NULL, "a"));
    json_free(j);
    json_free(NULL);
}

/* test_small_err - a tiny error buffer is filled, not overrun */
static void
test_small_err(void **state)
{
    char err[8];

    (void)state;
    memset(err, 'x', sizeof(err));
    assert_null(json_parse("[1,]", 4, err, sizeof(err)));
    assert_string_equal(err, "offset ");
    assert_null(json_parse("[", 1, err, 1));
    assert_string_equal(err, "");
    assert_null(json_parse("[", 1, NULL, 0));
}

/* test_utf8_seq - lengths and code points of the decoder */
static void
test_utf8_seq(void **state)
{
    static const struct {
        const char   *in;
        size_t        len;
        size_t        want;
        unsigned long cp;
    } cases[] = {
        { S("A"), 1, 0x41 },
        { S("\xc2\x80"), 2, 0x80 },
        { S("\xdf\xbf"), 2, 0x7FF },
        { S("\xe0\xa0\x80"), 3, 0x800 },
        { S("\xef\xbf\xbf"), 3, 0xFFFF },
        { S("\xed\x9f\xbf"), 3, 0xD7FF },
        { S("\xee\x80\x80"), 3, 0xE000 },
        { S("\xf0\x90\x80\x80"), 4, 0x10000 },
        { S("\xf4\x8f\xbf\xbf"), 4, 0x10FFFF },
        { S("\xc2"), 0, 0 },
        { S("\xc2\x41"), 0, 0 },
        { S("\xe0\x9f\xbf"), 0, 0 },
        { S("\xed\xa0\x80"), 0, 0 },
        { S("\xf0\x8f\xbf\xbf"), 0, 0 },
        { S("\xf4\x90\x80\x80"), 0, 0 },
        { S("\xef\xbf"), 0, 0 },
        { S("\xf0\x90\x80\x41"), 0, 0 },
        { S("\xbf"), 0, 0 },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < NELEM(cases); i++) {
        char *in = copy(cases[i].in, cases[i].len);
        unsigned long cp = 0;
        size_t got = json_utf8_seq((const unsigned char *)in, cases[i].len, &cp);

        if (got != cases[i].want || (got && cp != cases[i].cp))
            report("json_utf8_seq(\"%s\"): got %zu U+%04lX, want %zu U+%04lX",
                   show(in, cases[i].len), got, cp, cases[i].want, cases[i].cp);
        free(in);
    }
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_string),
        cmocka_unit_test(test_put_string_all_octets),
        cmocka_unit_test(test_put_cstr_null),
        cmocka_unit_test(test_parse_accepts),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_parse_prefixes),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_small_err),
        cmocka_unit_test(test_utf8_seq),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
