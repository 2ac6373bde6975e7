/*
 * test_address - unit tests for src/mail/address.c: RFC 5321 paths.
 *
 * Table-driven: each row is one input and the expected outcome; every
 * mismatch is reported as "got ..., want ..." and the test fails at the
 * end, so one run shows all broken rows.
 *
 * The second table is the is_email() 3.05 test set (see
 * /work/shared/conformance/addresses/README.md), translated once into C
 * by a script. Each candidate addr-spec is wrapped in "<" ">" and parsed
 * as a forward-path with no flags. All 164 tests apply: the ones about
 * comments, folding white space and CR/LF are simply things an SMTP path
 * may not contain. The verdicts follow the README's table:
 *   VALID, DNSWARN, RFC5321          -> ADDR_OK
 *   CFWS, DEPREC, RFC5322, ERR       -> rejected: ADDR_LOCAL_TOO_LONG or
 *                                       ADDR_DOMAIN_TOO_LONG for the
 *                                       *_TOOLONG diagnoses about the
 *                                       part, ADDR_SYNTAX otherwise
 * with three documented exceptions (OVR_* below):
 *   39, 40  RFC5322_TOOLONG: the whole address is over 254 octets but its
 *           local part is <= 64 and its domain <= 255. address.h limits
 *           the parts only, and RFC 5321 4.5.3.1 sizes are minimums a
 *           server must accept, not maximums it must enforce.
 *   66      "[1111:2222:...:8888]" is RFC5322_DOMAINLITERAL for is_email,
 *           but in the RFC 5321 4.1.3 grammar it is a General-address-
 *           literal (Standardized-tag "1111" is an Ldh-str, the rest is
 *           dcontent), which address.h says we accept.
 * Test 71 (IPv6 with "::" standing for one group) is DEPREC and rejected:
 * RFC 5321 4.1.3 says "::" represents at least 2 groups.
 *
 * is_email test data: Copyright (c) 2016, Dominic Sayers. All rights
 * reserved. Redistribution and use in source and binary forms, with or
 * without modification, are permitted provided that the following
 * conditions are met: Redistributions of source code must retain the
 * above copyright notice, this list of conditions and the following
 * disclaimer. Redistributions in binary form must reproduce the above
 * copyright notice, this list of conditions and the following disclaimer
 * in the documentation and/or other materials provided with the
 * distribution. Neither the name of is_email nor the names of its
 * contributors may be used to endorse or promote products derived from
 * this software without specific prior written permission.
 * THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS
 * "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT
 * LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A
 * PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT
 * HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL,
 * SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT
 * LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,
 * DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY
 * THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT
 * (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
 * OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
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

#include "mail/address.h"

#include "check.h"

#define CONSUMED_ALL ((size_t)-1)

static const char *const status_names[] = {
    "ADDR_OK", "ADDR_SYNTAX", "ADDR_LOCAL_TOO_LONG", "ADDR_DOMAIN_TOO_LONG",
    "ADDR_NEED_UTF8",
};

/* status_name - the enum constant's name */
static const char *
status_name(enum addr_status st)
{
    return (unsigned)st < 5 ? status_names[st] : "?";
}

/* One path_parse() case. local/domain are checked on ADDR_OK only;
 * consumed 0 means "the whole input". */
struct path_case {
    const char *in;
    size_t      len;
    unsigned    flags;
    enum addr_status want;
    const char *local;
    const char *domain;
    unsigned    bits;           /* M_*: the expected booleans */
    size_t      consumed;
};

#define M_NULL     0x01
#define M_QUOTED   0x02
#define M_LITERAL  0x04
#define M_UTF8     0x08

#define F_NULL  PATH_ALLOW_NULL
#define F_PM    PATH_ALLOW_POSTMASTER
#define F_UTF8  PATH_UTF8
#define OK(l, d)            ADDR_OK, l, d, 0, 0
#define OKB(l, d, m)        ADDR_OK, l, d, m, 0
#define OKC(l, d, m, used)  ADDR_OK, l, d, m, used
#define BAD(st)             st, NULL, NULL, 0, 0

static const struct path_case path_cases[] = {
    /* plain mailboxes */
    { S("<user@example.test>"), 0, OK("user", "example.test") },
    { S("<u@x>"), 0, OK("u", "x") },
    { S("<first.last@sub.example.test>"), 0, OK("first.last", "sub.example.test") },
    { S("<User.Name+tag@Example.TEST>"), 0, OK("User.Name+tag", "Example.TEST") },
    { S("<!#$%&'*+-/=?^_`{|}~@example.test>"), 0, OK("!#$%&'*+-/=?^_`{|}~", "example.test") },
    { S("<user@123.example>"), 0, OK("user", "123.example") },
    { S("<user@example.123>"), 0, OK("user", "example.123") },
    { S("<user@localhost>"), 0, OK("user", "localhost") },
    { S("<user@a-b--c.test>"), 0, OK("user", "a-b--c.test") },
    { S("<user@xn--bcher-kva.test>"), 0, OK("user", "xn--bcher-kva.test") },
    /* leading spaces, and what follows the ">" */
    { S(" <user@example.test>"), 0, OK("user", "example.test") },
    { S("    <user@example.test>"), 0, OK("user", "example.test") },
    { S("<user@example.test> SIZE=100"), 0, OKC("user", "example.test", 0, 19) },
    { S("  <user@example.test> BODY=8BITMIME"), 0, OKC("user", "example.test", 0, 21) },
    { S("<user@example.test>>"), 0, OKC("user", "example.test", 0, 19) },
    /* percent hacks and bang paths are just atext */
    { S("<user%other.test@relay.test>"), 0, OK("user%other.test", "relay.test") },
    { S("<other.test!user@relay.test>"), 0, OK("other.test!user", "relay.test") },
    { S("<a!b%c@d.test>"), 0, OK("a!b%c", "d.test") },
    /* missing or misplaced brackets */
    { S(""), 0, BAD(ADDR_SYNTAX) },
    { S("   "), 0, BAD(ADDR_SYNTAX) },
    { S("<"), 0, BAD(ADDR_SYNTAX) },
    { S("user@example.test"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test"), 0, BAD(ADDR_SYNTAX) },
    { S("user@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<<user@example.test>>"), 0, BAD(ADDR_SYNTAX) },
    { S("\t<user@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("< user@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test >"), 0, BAD(ADDR_SYNTAX) },
    { S("<user @example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@ example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@example.test>"), 0, BAD(ADDR_SYNTAX) },          /* empty local part */
    { S("<@example.test>"), F_NULL | F_PM | F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<a@b@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test"), F_NULL, BAD(ADDR_SYNTAX) },
    /* dots in the local part */
    { S("<.user@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user.@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<us..er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<.@example.test>"), 0, BAD(ADDR_SYNTAX) },
    /* characters that are not atext */
    { S("<us(er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<us,er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<us[er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<us\\er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<us:er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    /* NUL and other controls, anywhere */
    { S("<us\0er@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@exam\0ple.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test\0>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\0>"), F_NULL, BAD(ADDR_SYNTAX) },
    { S("<\"us\0er\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[1.2.3.4\0]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<us\ter@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test\r>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test\n>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\x7fuser@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@exa\x1bmple.test>"), 0, BAD(ADDR_SYNTAX) },
    /* domains */
    { S("<user@example.test.>"), 0, BAD(ADDR_SYNTAX) },     /* trailing dot */
    { S("<user@.>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@.example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example..test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@-example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example-.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test->"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@exa_mple.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@exa/mple.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@example.test:25>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@\"example\".test>"), 0, BAD(ADDR_SYNTAX) },
    /* quoted local parts: keep their quotes */
    { S("<\"john doe\"@example.test>"), 0, OKB("\"john doe\"", "example.test", M_QUOTED) },
    { S("<\"\"@example.test>"), 0, OKB("\"\"", "example.test", M_QUOTED) },
    { S("<\"a\\\"b\"@example.test>"), 0, OKB("\"a\\\"b\"", "example.test", M_QUOTED) },
    { S("<\"a\\\\b\"@example.test>"), 0, OKB("\"a\\\\b\"", "example.test", M_QUOTED) },
    { S("<\"a\\ b\"@example.test>"), 0, OKB("\"a\\ b\"", "example.test", M_QUOTED) },
    { S("<\"a@b\"@example.test>"), 0, OKB("\"a@b\"", "example.test", M_QUOTED) },
    { S("<\"<>,;:[]()\"@example.test>"), 0, OKB("\"<>,;:[]()\"", "example.test", M_QUOTED) },
    { S("<\"user\"@[192.0.2.1]>"), 0, OKB("\"user\"", "[192.0.2.1]", M_QUOTED | M_LITERAL) },
    { S("<\"abc@example.test>"), 0, BAD(ADDR_SYNTAX) },      /* unterminated */
    { S("<\"abc\\\"@example.test>"), 0, BAD(ADDR_SYNTAX) },  /* escaped close */
    { S("<\"a\"b@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\"a\".b@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<a.\"b\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\"a\"\"b\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\"a\tb\"@example.test>"), 0, BAD(ADDR_SYNTAX) },      /* HT is not qtextSMTP */
    { S("<\"a\\\tb\"@example.test>"), 0, BAD(ADDR_SYNTAX) },    /* nor quoted-pairSMTP */
    { S("<\"a\\\x01\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\"a\x7f\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\"a\\\x7f\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<\"a\r\n b\"@example.test>"), 0, BAD(ADDR_SYNTAX) },
    /* address literals */
    { S("<user@[192.0.2.1]>"), 0, OKB("user", "[192.0.2.1]", M_LITERAL) },
    { S("<user@[0.0.0.0]>"), 0, OKB("user", "[0.0.0.0]", M_LITERAL) },
    { S("<user@[255.255.255.255]>"), 0, OKB("user", "[255.255.255.255]", M_LITERAL) },
    { S("<user@[001.02.3.004]>"), 0, OKB("user", "[001.02.3.004]", M_LITERAL) },
    { S("<user@[IPv6:2001:db8::1]>"), 0, OKB("user", "[IPv6:2001:db8::1]", M_LITERAL) },
    { S("<user@[ipv6:2001:DB8::1]>"), 0, OKB("user", "[ipv6:2001:DB8::1]", M_LITERAL) },
    { S("<user@[IPv6:::1]>"), 0, OKB("user", "[IPv6:::1]", M_LITERAL) },
    { S("<user@[IPv6:::]>"), 0, OKB("user", "[IPv6:::]", M_LITERAL) },
    { S("<user@[IPv6:1:2:3:4:5:6:7:8]>"), 0, OKB("user", "[IPv6:1:2:3:4:5:6:7:8]", M_LITERAL) },
    { S("<user@[IPv6:::ffff:192.0.2.1]>"), 0, OKB("user", "[IPv6:::ffff:192.0.2.1]", M_LITERAL) },
    { S("<user@[IPv6:1:2:3:4:5:6:192.0.2.1]>"), 0, OKB("user", "[IPv6:1:2:3:4:5:6:192.0.2.1]", M_LITERAL) },
    { S("<user@[IPv6:1:2:3:4::192.0.2.1]>"), 0, OKB("user", "[IPv6:1:2:3:4::192.0.2.1]", M_LITERAL) },
    { S("<user@[x-tag:any-content!]>"), 0, OKB("user", "[x-tag:any-content!]", M_LITERAL) },
    { S("<user@[X400:c=us;a=b]>"), 0, OKB("user", "[X400:c=us;a=b]", M_LITERAL) },
    { S("<user@[192.0.2.256]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2.1.5]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2.0001]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2.]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192..2.1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[ 192.0.2.1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2.1>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@192.0.2.1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2.1]x>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[192.0.2.1].test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@x[192.0.2.1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[[192.0.2.1]]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:2001:db8::g]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:1:2:3:4:5:6:7]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:1:2:3:4:5:6:7:8:9]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:1:2:3:4:5:6::8]>"), 0, BAD(ADDR_SYNTAX) },     /* "::" for one group */
    { S("<user@[IPv6:1:2:3:4:5::192.0.2.1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:1::2::3]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:12345::1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6:192.0.2.1]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[IPv6 ::1]>"), 0, BAD(ADDR_SYNTAX) },
    /* XXX no "IPv6:" tag, so by the 4.1.3 grammar a General-address-literal
     * with the tag "2001" (an Ldh-str): accepted, as is_email test 66. */
    { S("<user@[2001:db8::1]>"), 0, OKB("user", "[2001:db8::1]", M_LITERAL) },
    { S("<user@[tag:]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[:content]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[tag-:content]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[t_g:content]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[tag:con tent]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[tag:con\\tent]>"), 0, BAD(ADDR_SYNTAX) },
    { S("<user@[RFC-5322-domain-literal]>"), 0, BAD(ADDR_SYNTAX) },
    /* the null reverse-path */
    { S("<>"), F_NULL, OKC("", "", M_NULL, 0) },
    { S("  <>"), F_NULL, OKC("", "", M_NULL, 0) },
    { S("<> SIZE=10"), F_NULL, OKC("", "", M_NULL, 2) },
    { S("<>"), 0, BAD(ADDR_SYNTAX) },
    { S("<>"), F_PM | F_UTF8, BAD(ADDR_SYNTAX) },
    { S("< >"), F_NULL, BAD(ADDR_SYNTAX) },
    { S("<"), F_NULL, BAD(ADDR_SYNTAX) },
    { S("<\"\">"), F_NULL, BAD(ADDR_SYNTAX) },
    /* <Postmaster> without a domain (RFC 5321 4.1.1.3) */
    { S("<Postmaster>"), F_PM, OK("Postmaster", "") },
    { S("<postmaster>"), F_PM, OK("Postmaster", "") },
    { S("<POSTMASTER>"), F_PM, OK("Postmaster", "") },
    { S("<pOsTmAsTeR> NOTIFY=NEVER"), F_PM, OKC("Postmaster", "", 0, 12) },
    { S("<Postmaster>"), 0, BAD(ADDR_SYNTAX) },
    { S("<Postmaster>"), F_NULL | F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<Postmaste>"), F_PM, BAD(ADDR_SYNTAX) },
    { S("<Postmasters>"), F_PM, BAD(ADDR_SYNTAX) },
    { S("<@a.test:Postmaster>"), F_PM, BAD(ADDR_SYNTAX) },
    { S("<Postmaster@example.test>"), 0, OK("Postmaster", "example.test") },
    { S("<postmaster@example.test>"), F_PM, OK("postmaster", "example.test") },
    /* source routes: accepted and dropped (RFC 5321 4.1.1.3, C) */
    { S("<@a.test:u@c.test>"), 0, OK("u", "c.test") },
    { S("<@a.test,@b.test:u@c.test>"), 0, OK("u", "c.test") },
    { S("<@a.test,@b.test,@d.test:\"q\"@[192.0.2.1]>"), 0, OKB("\"q\"", "[192.0.2.1]", M_QUOTED | M_LITERAL) },
    { S("<@a.test,b.test:u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test,@b.test u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test;@b.test:u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@:u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test:>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test:@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test.:u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test,:u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@[192.0.2.1]:u@c.test>"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test:u@c.test"), 0, BAD(ADDR_SYNTAX) },
    { S("<@a.test>"), 0, BAD(ADDR_SYNTAX) },
    /* UTF-8 (RFC 6531): octets >= 0x80 need PATH_UTF8 */
    { S("<j\xc3\xb6rg@example.test>"), 0, BAD(ADDR_NEED_UTF8) },
    { S("<j\xc3\xb6rg@example.test>"), F_UTF8, OKB("j\xc3\xb6rg", "example.test", M_UTF8) },
    { S("<user@b\xc3\xbc" "cher.test>"), 0, BAD(ADDR_NEED_UTF8) },
    { S("<user@b\xc3\xbc" "cher.test>"), F_UTF8, OKB("user", "b\xc3\xbc" "cher.test", M_UTF8) },
    { S("<\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae@\xcf\x80\xce\xb1\xcf\x81"
        "\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3\xce\xbc\xce\xb1.test>"), F_UTF8,
      OKB("\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae", "\xcf\x80\xce\xb1\xcf\x81"
         "\xce\xac\xce\xb4\xce\xb5\xce\xb9\xce\xb3\xce\xbc\xce\xb1.test", M_UTF8) },
    { S("<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a>"), F_UTF8,
      OKB("\xe7\x94\xa8\xe6\x88\xb7", "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", M_UTF8) },
    { S("<\xf0\x9f\x98\x80@example.test>"), F_UTF8, OKB("\xf0\x9f\x98\x80", "example.test", M_UTF8) },
    { S("<\"j\xc3\xb6 rg\"@example.test>"), F_UTF8, OKB("\"j\xc3\xb6 rg\"", "example.test", M_QUOTED | M_UTF8) },
    { S("<\"j\xc3\xb6 rg\"@example.test>"), 0, BAD(ADDR_NEED_UTF8) },
    { S("<\"\\\xc3\xb6\"@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },  /* no UTF-8 quoted-pair */
    { S("<@b\xc3\xbc" "cher.test:u@c.test>"), 0, BAD(ADDR_NEED_UTF8) },
    { S("<@b\xc3\xbc" "cher.test:u@c.test>"), F_UTF8, OK("u", "c.test") },  /* route dropped */
    { S("<u@[\xc3\xa9]>"), F_UTF8, BAD(ADDR_SYNTAX) },          /* not in literals */
    { S("<u@[tag:\xc3\xa9]>"), F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<\xc3@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },     /* truncated */
    { S("<\xc3(@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<\xc0\xaf@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },  /* overlong */
    { S("<\xe0\x80\xaf@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<\xed\xa0\x80@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },  /* surrogate */
    { S("<\xf4\x90\x80\x80@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },  /* > U+10FFFF */
    { S("<\xff@example.test>"), F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<\x80@example.test>"), 0, BAD(ADDR_SYNTAX) },          /* malformed beats NEED_UTF8 */
    { S("<u@\xc3\xa9-.test>"), F_UTF8, BAD(ADDR_SYNTAX) },
    { S("<j\xc3\xb6rg@example.test"), 0, BAD(ADDR_SYNTAX) },    /* syntax beats NEED_UTF8 */
    { S("<\xc2\xa0@example.test>"), F_UTF8, OKB("\xc2\xa0", "example.test", M_UTF8) },
};

/* test_path_parse - the hand-written cases */
static void
test_path_parse(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *c = &path_cases[i];
        struct mailbox mb;
        size_t consumed = 12345, want_consumed;
        enum addr_status st;

        memset(&mb, 0x5a, sizeof(mb));
        st = path_parse(c->in, c->len, c->flags, &mb, &consumed);
        if (st != c->want) {
            report("path_parse(\"%s\", 0x%x): got %s, want %s", show(c->in, c->len),
                   c->flags, status_name(st), status_name(c->want));
            continue;
        }
        if (st != ADDR_OK)
            continue;
        want_consumed = c->consumed ? c->consumed : c->len;
        if (consumed != want_consumed)
            report("path_parse(\"%s\"): got consumed %zu, want %zu",
                   show(c->in, c->len), consumed, want_consumed);
        if (strcmp(mb.local, c->local) != 0 || strcmp(mb.domain, c->domain) != 0)
            report("path_parse(\"%s\"): got \"%s\" @ \"%s\", want \"%s\" @ \"%s\"",
                   show(c->in, c->len), show(mb.local, strlen(mb.local)),
                   show(mb.domain, strlen(mb.domain)), c->local, c->domain);
        unsigned bits = (mb.null ? M_NULL : 0) | (mb.quoted ? M_QUOTED : 0) |
                        (mb.literal ? M_LITERAL : 0) | (mb.utf8 ? M_UTF8 : 0);
        if (bits != c->bits)
            report("path_parse(\"%s\"): got flags null/quoted/literal/utf8 0x%x, want 0x%x",
                   show(c->in, c->len), bits, c->bits);
    }
    assert_int_equal(failures, 0);
}

/* fill_domain - s[0..n) = a valid domain of exactly n octets made of
 * one-octet labels */
static void
fill_domain(char *s, size_t n)
{
    /* "a.a.a...a" has an odd length; start with "aa" for an even one */
    size_t i = 0;

    if (n % 2 == 0) {
        s[i++] = 'a';
    }
    s[i++] = 'a';
    while (i < n) {
        s[i++] = '.';
        s[i++] = 'a';
    }
}

/* One length case: a mailbox built of a local part and a domain of the
 * given sizes. */
struct len_case {
    size_t local;       /* octets of "a"; with quoted, including the quotes */
    size_t domain;
    bool   quoted;
    size_t label;       /* when not 0: domain is one label of this size + ".test" */
    enum addr_status want;
};

static const struct len_case len_cases[] = {
    { 1, 1, false, 0, ADDR_OK },
    { 63, 10, false, 0, ADDR_OK },
    { 64, 10, false, 0, ADDR_OK },
    { 65, 10, false, 0, ADDR_LOCAL_TOO_LONG },
    { 200, 10, false, 0, ADDR_LOCAL_TOO_LONG },
    { 64, 10, true, 0, ADDR_OK },           /* quotes count: as written */
    { 65, 10, true, 0, ADDR_LOCAL_TOO_LONG },
    { 10, 254, false, 0, ADDR_OK },
    { 10, 255, false, 0, ADDR_OK },
    { 10, 256, false, 0, ADDR_DOMAIN_TOO_LONG },
    { 10, 1001, false, 0, ADDR_DOMAIN_TOO_LONG },
    { 64, 255, false, 0, ADDR_OK },
    { 65, 256, false, 0, ADDR_LOCAL_TOO_LONG },  /* local first */
    { 5, 0, false, 63, ADDR_OK },
    { 5, 0, false, 64, ADDR_SYNTAX },       /* label over 63 octets */
};

/* test_path_lengths - the limits of RFC 5321 4.5.3.1.1 and 4.5.3.1.2 */
static void
test_path_lengths(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(len_cases) / sizeof(len_cases[0]); i++) {
        const struct len_case *c = &len_cases[i];
        char in[2048];
        size_t n = 0, dlen;
        struct mailbox mb;
        size_t consumed;
        enum addr_status st;

        in[n++] = '<';
        memset(in + n, 'a', c->local);
        if (c->quoted) {
            in[n] = '"';
            in[n + c->local - 1] = '"';
        }
        n += c->local;
        in[n++] = '@';
        if (c->label) {
            memset(in + n, 'b', c->label);
            memcpy(in + n + c->label, ".test", 5);
            dlen = c->label + 5;
        } else {
            fill_domain(in + n, c->domain);
            dlen = c->domain;
        }
        n += dlen;
        in[n++] = '>';
        st = path_parse(in, n, 0, &mb, &consumed);
        if (st != c->want) {
            report("path_parse(local %zu%s, domain %zu): got %s, want %s", c->local,
                   c->quoted ? " quoted" : "", dlen, status_name(st), status_name(c->want));
            continue;
        }
        if (st == ADDR_OK && (strlen(mb.local) != c->local || strlen(mb.domain) != dlen ||
                              consumed != n))
            report("path_parse(local %zu, domain %zu): got lengths %zu, %zu, consumed %zu",
                   c->local, dlen, strlen(mb.local), strlen(mb.domain), consumed);
        /* the same domain through domain_valid() */
        if (!c->label && c->local == 10) {
            bool got = domain_valid(in + c->local + 2, dlen, false);

            if (got != (c->want == ADDR_OK))
                report("domain_valid(%zu octets): got %d, want %d", dlen, got,
                       c->want == ADDR_OK);
        }
    }
    assert_int_equal(failures, 0);
}

/* One is_email test: the addr-spec without its brackets. */
struct isemail_case {
    int         id;
    const char *addr;
    size_t      len;
    enum addr_status want;
    int         override;       /* OVR_*: why the README verdict is not used */
};

#define OVR_TOTAL    1  /* over 254 octets in all, but each part within its limit */
#define OVR_GENERAL  2  /* an RFC 5321 General-address-literal */

static const struct isemail_case isemail_cases[] = {
    /* ERR ERR_NODOMAIN */
    {   1, S(""), ADDR_SYNTAX, 0 },
    /* ERR ERR_NODOMAIN */
    {   2, S("test"), ADDR_SYNTAX, 0 },
    /* ERR ERR_NOLOCALPART */
    {   3, S("@"), ADDR_SYNTAX, 0 },
    /* ERR ERR_NODOMAIN */
    {   4, S("test@"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    {   5, S("test@io"), ADDR_OK, 0 },
    /* ERR ERR_NOLOCALPART */
    {   6, S("@io"), ADDR_SYNTAX, 0 },
    /* ERR ERR_NOLOCALPART */
    {   7, S("@iana.org"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    {   8, S("test@iana.org"), ADDR_OK, 0 },
    /* VALID VALID */
    {   9, S("test@nominet.org.uk"), ADDR_OK, 0 },
    /* VALID VALID */
    {  10, S("test@about.museum"), ADDR_OK, 0 },
    /* VALID VALID */
    {  11, S("a@iana.org"), ADDR_OK, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    {  12, S("test@e.com"), ADDR_OK, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    {  13, S("test@iana.a"), ADDR_OK, 0 },
    /* VALID VALID */
    {  14, S("test.test@iana.org"), ADDR_OK, 0 },
    /* ERR ERR_DOT_START */
    {  15, S(".test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_DOT_END */
    {  16, S("test.@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_CONSECUTIVEDOTS */
    {  17, S("test..iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_NODOMAIN */
    {  18, S("test_exa-mple.com"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    {  19, S("!#$%&`*+/=\?^`{|}~@iana.org"), ADDR_OK, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  20, S("test\\@test@iana.org"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    {  21, S("123@iana.org"), ADDR_OK, 0 },
    /* VALID VALID */
    {  22, S("test@123.com"), ADDR_OK, 0 },
    /* RFC5321 RFC5321_TLDNUMERIC */
    {  23, S("test@iana.123"), ADDR_OK, 0 },
    /* RFC5321 RFC5321_TLDNUMERIC */
    {  24, S("test@255.255.255.255"), ADDR_OK, 0 },
    /* VALID VALID */
    {  25, S("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm"
              "@iana.org"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_LOCAL_TOOLONG */
    {  26, S("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm"
              "n@iana.org"), ADDR_LOCAL_TOO_LONG, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    {  27, S("test@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefg"
              "hikl.com"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_LABEL_TOOLONG */
    {  28, S("test@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefg"
              "hiklm.com"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    {  29, S("test@mason-dixon.com"), ADDR_OK, 0 },
    /* ERR ERR_DOMAINHYPHENSTART */
    {  30, S("test@-iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_DOMAINHYPHENEND */
    {  31, S("test@iana-.com"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    {  32, S("test@c--n.com"), ADDR_OK, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    {  33, S("test@iana.co-uk"), ADDR_OK, 0 },
    /* ERR ERR_DOT_START */
    {  34, S("test@.iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_DOT_END */
    {  35, S("test@iana.org."), ADDR_SYNTAX, 0 },
    /* ERR ERR_CONSECUTIVEDOTS */
    {  36, S("test@iana..com"), ADDR_SYNTAX, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    {  37, S("a@a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e."
              "f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k."
              "l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q."
              "r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v"), ADDR_OK, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    {  38, S("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm"
              "@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghikl"
              ".abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghikl"
              ".abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghi"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_TOOLONG */
    {  39, S("abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghiklm"
              "@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghikl"
              ".abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghikl"
              ".abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghij"), ADDR_OK, OVR_TOTAL },
    /* RFC5322 RFC5322_TOOLONG */
    {  40, S("a@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghik"
              "l.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghik"
              "l.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghik"
              "l.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefg.hi"
              "j"), ADDR_OK, OVR_TOTAL },
    /* RFC5322 RFC5322_DOMAIN_TOOLONG */
    {  41, S("a@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghik"
              "l.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghik"
              "l.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghik"
              "l.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefg.hi"
              "jk"), ADDR_DOMAIN_TOO_LONG, 0 },
    /* RFC5321 RFC5321_QUOTEDSTRING */
    {  42, S("\"test\"@iana.org"), ADDR_OK, 0 },
    /* RFC5321 RFC5321_QUOTEDSTRING */
    {  43, S("\"\"@iana.org"), ADDR_OK, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  44, S("\"\"\"@iana.org"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_QUOTEDSTRING */
    {  45, S("\"\\a\"@iana.org"), ADDR_OK, 0 },
    /* RFC5321 RFC5321_QUOTEDSTRING */
    {  46, S("\"\\\"\"@iana.org"), ADDR_OK, 0 },
    /* ERR ERR_UNCLOSEDQUOTEDSTR */
    {  47, S("\"\\\"@iana.org"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_QUOTEDSTRING */
    {  48, S("\"\\\\\"@iana.org"), ADDR_OK, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  49, S("test\"@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDQUOTEDSTR */
    {  50, S("\"test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_ATEXT_AFTER_QS */
    {  51, S("\"test\"test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  52, S("test\"text\"@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  53, S("\"test\"\"test\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_LOCALPART */
    {  54, S("\"test\".\"test\"@iana.org"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_QUOTEDSTRING */
    {  55, S("\"test\\ test\"@iana.org"), ADDR_OK, 0 },
    /* DEPREC DEPREC_LOCALPART */
    {  56, S("\"test\".test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_QTEXT */
    {  57, S("\"test\000\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_QP */
    {  58, S("\"test\\\000\"@iana.org"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_LOCAL_TOOLONG */
    {  59, S("\"abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefgh"
              "j\"@iana.org"), ADDR_LOCAL_TOO_LONG, 0 },
    /* RFC5322 RFC5322_LOCAL_TOOLONG */
    {  60, S("\"abcdefghijklmnopqrstuvwxyz abcdefghijklmnopqrstuvwxyz abcdefg"
              "\\h\"@iana.org"), ADDR_LOCAL_TOO_LONG, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  61, S("test@[255.255.255.255]"), ADDR_OK, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  62, S("test@a[255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    {  63, S("test@[255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    {  64, S("test@[255.255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    {  65, S("test@[255.255.255.256]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    {  66, S("test@[1111:2222:3333:4444:5555:6666:7777:8888]"), ADDR_OK, OVR_GENERAL },
    /* RFC5322 RFC5322_IPV6_GRPCOUNT */
    {  67, S("test@[IPv6:1111:2222:3333:4444:5555:6666:7777]"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  68, S("test@[IPv6:1111:2222:3333:4444:5555:6666:7777:8888]"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_IPV6_GRPCOUNT */
    {  69, S("test@[IPv6:1111:2222:3333:4444:5555:6666:7777:8888:9999]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_IPV6_BADCHAR */
    {  70, S("test@[IPv6:1111:2222:3333:4444:5555:6666:7777:888G]"), ADDR_SYNTAX, 0 },
    /* DEPREC RFC5321_IPV6DEPRECATED */
    {  71, S("test@[IPv6:1111:2222:3333:4444:5555:6666::8888]"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  72, S("test@[IPv6:1111:2222:3333:4444:5555::8888]"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_IPV6_MAXGRPS */
    {  73, S("test@[IPv6:1111:2222:3333:4444:5555:6666::7777:8888]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_IPV6_COLONSTRT */
    {  74, S("test@[IPv6::3333:4444:5555:6666:7777:8888]"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  75, S("test@[IPv6:::3333:4444:5555:6666:7777:8888]"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_IPV6_2X2XCOLON */
    {  76, S("test@[IPv6:1111::4444:5555::8888]"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  77, S("test@[IPv6:::]"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_IPV6_GRPCOUNT */
    {  78, S("test@[IPv6:1111:2222:3333:4444:5555:255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  79, S("test@[IPv6:1111:2222:3333:4444:5555:6666:255.255.255.255]"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_IPV6_GRPCOUNT */
    {  80, S("test@[IPv6:1111:2222:3333:4444:5555:6666:7777:255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_ADDRESSLITERAL */
    {  81, S("test@[IPv6:1111:2222:3333:4444::255.255.255.255]"), ADDR_OK, 0 },
    /* RFC5322 RFC5322_IPV6_MAXGRPS */
    {  82, S("test@[IPv6:1111:2222:3333:4444:5555:6666::255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_IPV6_2X2XCOLON */
    {  83, S("test@[IPv6:1111:2222:3333:4444:::255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_IPV6_COLONSTRT */
    {  84, S("test@[IPv6::255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CFWS_NEAR_AT */
    {  85, S(" test @iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CFWS_NEAR_AT */
    {  86, S("test@ iana .com"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_FWS */
    {  87, S("test . test@iana.org"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_FWS */
    {  88, S("\015\012 test@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_FWS */
    {  89, S("\015\012 \015\012 test@iana.org"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_COMMENT */
    {  90, S("(comment)test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDCOMMENT */
    {  91, S("((comment)test@iana.org"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_COMMENT */
    {  92, S("(comment(comment))test@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CFWS_NEAR_AT */
    {  93, S("test@(comment)iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_ATEXT_AFTER_CFWS */
    {  94, S("test(comment)test@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CFWS_NEAR_AT */
    {  95, S("test@(comment)[255.255.255.255]"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_COMMENT */
    {  96, S("(comment)abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabc"
              "defghiklm@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CFWS_NEAR_AT */
    {  97, S("test@(comment)abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx"
              "yzabcdefghikl.com"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_COMMENT */
    {  98, S("(comment)test@abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwx"
              "yzabcdefghik.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxy"
              "zabcdefghik.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
              "abcdefghijk.abcdefghijklmnopqrstuvwxyzabcdefghijk.abcdefghijklmn"
              "opqrstu"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    {  99, S("test@iana.org\012"), ADDR_SYNTAX, 0 },
    /* VALID VALID */
    { 100, S("test@xn--hxajbheg2az3al.xn--jxalpdlp"), ADDR_OK, 0 },
    /* VALID VALID */
    { 101, S("xn--test@iana.org"), ADDR_OK, 0 },
    /* ERR ERR_DOMAINHYPHENEND */
    { 102, S("test@iana.org-"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDQUOTEDSTR */
    { 103, S("\"test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDCOMMENT */
    { 104, S("(test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDCOMMENT */
    { 105, S("test@(iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDDOMLIT */
    { 106, S("test@[1.2.3.4"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDQUOTEDSTR */
    { 107, S("\"test\\\"@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDCOMMENT */
    { 108, S("(comment\\)test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDCOMMENT */
    { 109, S("test@iana.org(comment\\)"), ADDR_SYNTAX, 0 },
    /* ERR ERR_BACKSLASHEND */
    { 110, S("test@iana.org(comment\\"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    { 112, S("test@[RFC-5322-domain-literal]"), ADDR_SYNTAX, 0 },
    /* ERR ERR_ATEXT_AFTER_DOMLIT */
    { 113, S("test@[RFC-5322]-domain-literal]"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_DTEXT */
    { 114, S("test@[RFC-5322-[domain-literal]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMLIT_OBSDTEXT */
    { 115, S("test@[RFC-5322-\\\007-domain-literal]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMLIT_OBSDTEXT */
    { 116, S("test@[RFC-5322-\\\011-domain-literal]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMLIT_OBSDTEXT */
    { 117, S("test@[RFC-5322-\\]-domain-literal]"), ADDR_SYNTAX, 0 },
    /* ERR ERR_UNCLOSEDDOMLIT */
    { 118, S("test@[RFC-5322-domain-literal\\]"), ADDR_SYNTAX, 0 },
    /* ERR ERR_BACKSLASHEND */
    { 119, S("test@[RFC-5322-domain-literal\\"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    { 120, S("test@[RFC 5322 domain literal]"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAINLITERAL */
    { 121, S("test@[RFC-5322-domain-literal] (comment)"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    { 122, S("\177@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    { 123, S("test@\177.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_QTEXT */
    { 124, S("\"\177\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_QP */
    { 125, S("\"\\\177\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CTEXT */
    { 126, S("(\177)test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_CR_NO_LF */
    { 127, S("test@iana.org\015"), ADDR_SYNTAX, 0 },
    /* ERR ERR_CR_NO_LF */
    { 128, S("\015test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_CR_NO_LF */
    { 129, S("\"\015test\"@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_CR_NO_LF */
    { 130, S("(\015)test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_CR_NO_LF */
    { 131, S("test@iana.org(\015)"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    { 132, S("\012test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_QTEXT */
    { 133, S("\"\012\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_QP */
    { 134, S("\"\\\012\"@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_CTEXT */
    { 135, S("(\012)test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    { 136, S("\007@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_ATEXT */
    { 137, S("test@\007.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_QTEXT */
    { 138, S("\"\007\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_QP */
    { 139, S("\"\\\007\"@iana.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_CTEXT */
    { 140, S("(\007)test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 141, S("\015\012test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 142, S("\015\012 \015\012test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 143, S(" \015\012test@iana.org"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_FWS */
    { 144, S(" \015\012 test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 145, S(" \015\012 \015\012test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_X2 */
    { 146, S(" \015\012\015\012test@iana.org"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_X2 */
    { 147, S(" \015\012\015\012 test@iana.org"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_FWS */
    { 148, S("test@iana.org\015\012 "), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_FWS */
    { 149, S("test@iana.org\015\012 \015\012 "), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 150, S("test@iana.org\015\012"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 151, S("test@iana.org\015\012 \015\012"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 152, S("test@iana.org \015\012"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_FWS */
    { 153, S("test@iana.org \015\012 "), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_END */
    { 154, S("test@iana.org \015\012 \015\012"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_X2 */
    { 155, S("test@iana.org \015\012\015\012"), ADDR_SYNTAX, 0 },
    /* ERR ERR_FWS_CRLF_X2 */
    { 156, S("test@iana.org \015\012\015\012 "), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_FWS */
    { 157, S(" test@iana.org"), ADDR_SYNTAX, 0 },
    /* CFWS CFWS_FWS */
    { 158, S("test@iana.org "), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_IPV6_COLONEND */
    { 159, S("test@[IPv6:1::2:]"), ADDR_SYNTAX, 0 },
    /* ERR ERR_EXPECTING_QPAIR */
    { 160, S("\"test\\\302\251\"@iana.org"), ADDR_SYNTAX, 0 },
    /* RFC5322 RFC5322_DOMAIN */
    { 161, S("test@iana/icann.org"), ADDR_SYNTAX, 0 },
    /* DEPREC DEPREC_COMMENT */
    { 165, S("test.(comment)test@iana.org"), ADDR_SYNTAX, 0 },
    /* RFC5321 RFC5321_TLD */
    { 166, S("test@org"), ADDR_OK, 0 },
    /* DNSWARN DNSWARN_NO_MX_RECORD */
    { 167, S("test@test.com"), ADDR_OK, 0 },
    /* DNSWARN DNSWARN_NO_RECORD */
    { 168, S("test@nic.no"), ADDR_OK, 0 },
};

/* test_isemail - the is_email 3.05 set, each address as "<addr>" */
static void
test_isemail(void **state)
{
    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(isemail_cases) / sizeof(isemail_cases[0]); i++) {
        const struct isemail_case *c = &isemail_cases[i];
        char in[512], fmt[ADDR_MAX + 1];
        struct mailbox mb;
        size_t consumed;
        enum addr_status st;

        assert_true(c->len + 2 <= sizeof(in));
        in[0] = '<';
        memcpy(in + 1, c->addr, c->len);
        in[c->len + 1] = '>';
        st = path_parse(in, c->len + 2, 0, &mb, &consumed);
        if (st != c->want) {
            report("is_email test %d \"%s\": got %s, want %s", c->id, show(c->addr, c->len),
                   status_name(st), status_name(c->want));
            continue;
        }
        if (st != ADDR_OK)
            continue;
        mailbox_format(&mb, fmt, sizeof(fmt));
        if (consumed != c->len + 2 || strlen(fmt) != c->len || memcmp(fmt, c->addr, c->len) != 0)
            report("is_email test %d: got \"%s\" consumed %zu, want \"%s\" consumed %zu",
                   c->id, fmt, consumed, show(c->addr, c->len), c->len + 2);
    }
    assert_int_equal(failures, 0);
}

/* test_path_no_overread - a path cut at every length never reads past
 * its end (ASan watches the exact-size copies) and is never accepted
 * unless it ends at a ">" */
static void
test_path_no_overread(void **state)
{
    static const char *const full[] = {
        "<@a.test,@b.test:\"q\\\"x\"@[IPv6:2001:db8::1]> SIZE=1",
        "<Postmaster>",
        "<j\xc3\xb6rg@b\xc3\xbc" "cher.test>",
        "<user@[192.0.2.1]>",
        "<>",
    };

    (void)state;
    failures = 0;
    for (size_t k = 0; k < sizeof(full) / sizeof(full[0]); k++) {
        size_t n = strlen(full[k]);

        for (size_t cut = 0; cut <= n; cut++) {
            char *copy = malloc(cut ? cut : 1);
            struct mailbox mb;
            size_t consumed = 0;
            enum addr_status st;

            memcpy(copy, full[k], cut);
            st = path_parse(copy, cut, PATH_ALLOW_NULL | PATH_ALLOW_POSTMASTER | PATH_UTF8,
                            &mb, &consumed);
            if (st == ADDR_OK && (consumed == 0 || copy[consumed - 1] != '>'))
                report("path_parse(\"%s\") cut at %zu: got OK ending at %zu",
                       show(full[k], n), cut, consumed);
            free(copy);
        }
    }
    assert_int_equal(failures, 0);
}

/* test_mailbox_format - "local@domain", "" and "Postmaster" */
static void
test_mailbox_format(void **state)
{
    static const struct {
        const char *in;
        unsigned    flags;
        const char *want;
    } cases[] = {
        { "<user@example.test>", 0, "user@example.test" },
        { "<\"a b\"@example.test>", 0, "\"a b\"@example.test" },
        { "<u@[192.0.2.1]>", 0, "u@[192.0.2.1]" },
        { "<@a.test:u@c.test>", 0, "u@c.test" },
        { "<>", PATH_ALLOW_NULL, "" },
        { "<postmaster>", PATH_ALLOW_POSTMASTER, "Postmaster" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct mailbox mb;
        size_t consumed;
        char out[ADDR_MAX + 1];

        assert_int_equal(path_parse(cases[i].in, strlen(cases[i].in), cases[i].flags,
                                    &mb, &consumed), ADDR_OK);
        memset(out, 'x', sizeof(out));
        mailbox_format(&mb, out, sizeof(out));
        if (strcmp(out, cases[i].want) != 0)
            report("mailbox_format(%s): got \"%s\", want \"%s\"", cases[i].in, out,
                   cases[i].want);
    }

    /* the largest mailbox fits in ADDR_MAX + 1 */
    struct mailbox big;
    char out[ADDR_MAX + 1];

    memset(&big, 0, sizeof(big));
    memset(big.local, 'l', ADDR_LOCAL_MAX);
    memset(big.domain, 'd', ADDR_DOMAIN_MAX);
    mailbox_format(&big, out, sizeof(out));
    if (strlen(out) != ADDR_MAX)
        report("mailbox_format(largest): got %zu octets, want %d", strlen(out), ADDR_MAX);
    /* a short buffer truncates, NUL-terminated */
    mailbox_format(&big, out, 5);
    if (strcmp(out, "llll") != 0)
        report("mailbox_format(outlen 5): got \"%s\", want \"llll\"", out);
    assert_int_equal(failures, 0);
}

/* test_domain_valid - Domain syntax alone */
static void
test_domain_valid(void **state)
{
    static const struct {
        const char *in;
        bool        utf8;
        bool        want;
    } cases[] = {
        { "example.test", false, true },
        { "a", false, true },
        { "1.2.3.4", false, true },
        { "xn--bcher-kva.test", false, true },
        { "a-b.c-d", false, true },
        { "", false, false },
        { ".", false, false },
        { "example.test.", false, false },
        { ".example.test", false, false },
        { "example..test", false, false },
        { "-a.test", false, false },
        { "a-.test", false, false },
        { "a_b.test", false, false },
        { "a b.test", false, false },
        { "[192.0.2.1]", false, false },
        { "b\xc3\xbc" "cher.test", false, false },
        { "b\xc3\xbc" "cher.test", true, true },
        { "b\xc3.test", true, false },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", false, true },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.test", false, false },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool got = domain_valid(cases[i].in, strlen(cases[i].in), cases[i].utf8);

        if (got != cases[i].want)
            report("domain_valid(\"%s\", %d): got %d, want %d",
                   show(cases[i].in, strlen(cases[i].in)), cases[i].utf8, got, cases[i].want);
    }
    /* a NUL inside the given length */
    if (domain_valid("exa\0mple", 8, false))
        report("domain_valid(\"exa\\0mple\"): got 1, want 0");
    assert_int_equal(failures, 0);
}

/* test_local_unquote - the semantic local part */
static void
test_local_unquote(void **state)
{
    static const struct {
        const char *in;
        const char *want;
    } cases[] = {
        { "user", "user" },
        { "first.last", "first.last" },
        { "\"john doe\"", "john doe" },
        { "\"\"", "" },
        { "\"a\\\"b\"", "a\"b" },
        { "\"a\\\\b\"", "a\\b" },
        { "\"\\a\\b\\c\"", "abc" },
        { "\"user\"", "user" },
        { "Postmaster", "Postmaster" },
    };

    (void)state;
    failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char out[ADDR_LOCAL_MAX + 1];
        size_t n = local_unquote(cases[i].in, out, sizeof(out));

        if (strcmp(out, cases[i].want) != 0 || n != strlen(cases[i].want))
            report("local_unquote(%s): got \"%s\" (%zu), want \"%s\"", cases[i].in, out, n,
                   cases[i].want);
    }

    /* every parsed local part round-trips within ADDR_LOCAL_MAX + 1 */
    char out[ADDR_LOCAL_MAX + 1];
    char big[ADDR_LOCAL_MAX + 1];

    memset(big, 'a', ADDR_LOCAL_MAX);
    big[ADDR_LOCAL_MAX] = '\0';
    if (local_unquote(big, out, sizeof(out)) != ADDR_LOCAL_MAX || strcmp(out, big) != 0)
        report("local_unquote(64 octets): got \"%s\", want 64 \"a\"", out);
    if (local_unquote("\"abcdef\"", out, 4) != 3 || strcmp(out, "abc") != 0)
        report("local_unquote(outlen 4): got \"%s\", want \"abc\"", out);
    assert_int_equal(failures, 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_parse),
        cmocka_unit_test(test_path_lengths),
        cmocka_unit_test(test_isemail),
        cmocka_unit_test(test_path_no_overread),
        cmocka_unit_test(test_mailbox_format),
        cmocka_unit_test(test_domain_valid),
        cmocka_unit_test(test_local_unquote),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
