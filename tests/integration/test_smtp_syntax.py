"""test_smtp_syntax - one dialog case per protocol edge case (issue 2, section 3).

Each case opens a fresh session on a shared server, says EHLO (unless the
case is about EHLO), sends its setup commands, then the command under test,
and checks the reply code and its enhanced status code (RFC 3463). A case
with usable=True then checks that the session still works (NOOP 250).
The cases double as seeds for tests/fuzz/.
"""

import pytest

from conftest import CLIENT_NAME, Raw

OK_MAIL = "MAIL FROM:<sender@client.example.test>"
OK_RCPT = "RCPT TO:<alice@example.test>"
LONG_DOMAIN_255 = ".".join(["a" * 63] * 4)           # 255 octets
LONG_DOMAIN_256 = LONG_DOMAIN_255 + "a"

SYNTAX = {"5.5.4", "5.5.2", "5.1.3", "5.1.7"}          # any bad-syntax code
UNKNOWN = {"5.5.1", "5.5.2"}

# (id, ehlo first, setup [(command, code)], command, codes, enhanced codes, usable after)
# A malformed BDAT leaves the server unable to tell where the chunk ends,
# so it may close the session: those cases are not "usable after".
CASES = [
    ("unknown-command", True, [], "FROBNICATE", {500}, UNKNOWN, True),
    ("unknown-command-before-ehlo", False, [], "XYZZY now", {500}, UNKNOWN, True),
    ("http-request", False, [], "GET / HTTP/1.1", {500, 421, 554}, None, False),
    ("rcpt-before-mail", True, [], OK_RCPT, {503}, {"5.5.1"}, True),
    ("data-before-mail", True, [], "DATA", {503}, {"5.5.1"}, True),
    ("data-before-rcpt", True, [(OK_MAIL, 250)], "DATA", {503}, {"5.5.1"}, True),
    ("bdat-before-mail", True, [], "BDAT 0 LAST", {503}, {"5.5.1"}, True),
    ("nested-mail", True, [(OK_MAIL, 250)], OK_MAIL, {503}, {"5.5.1"}, True),
    ("data-after-failed-rcpt", True, [(OK_MAIL, 250), ("RCPT TO:<nobody@example.test>", 550)],
     "DATA", {503, 554}, {"5.5.1", "5.1.1", "5.7.1", "5.5.0"}, True),
    ("ehlo-without-domain", False, [], "EHLO", {501}, {"5.5.4", "5.5.2"}, True),
    ("helo-without-domain", False, [], "HELO", {501}, {"5.5.4", "5.5.2"}, True),
    ("mail-without-colon", True, [], "MAIL FROM <sender@client.example.test>", {501}, SYNTAX, True),
    ("mail-without-brackets", True, [], "MAIL FROM:sender@client.example.test", {501}, SYNTAX, True),
    ("mail-double-at", True, [], "MAIL FROM:<a@@client.example.test>", {501}, SYNTAX, True),
    ("mail-unclosed-bracket", True, [], "MAIL FROM:<a@client.example.test", {501}, SYNTAX, True),
    ("mail-empty-local-part", True, [], "MAIL FROM:<@client.example.test>", {501}, SYNTAX, True),
    ("mail-space-after-colon", True, [], "MAIL FROM: <sender@client.example.test>", {250}, {"2.1.0"}, True),
    ("mail-null-path", True, [], "MAIL FROM:<>", {250}, {"2.1.0"}, True),
    ("mail-source-route-dropped", True, [], "MAIL FROM:<@relay.test,@x.test:u@client.example.test>",
     {250}, {"2.1.0"}, True),
    ("mail-address-literal", True, [], "MAIL FROM:<u@[127.0.0.1]>", {250}, {"2.1.0"}, True),
    ("mail-quoted-local-part", True, [], 'MAIL FROM:<"john q. public"@client.example.test>',
     {250}, {"2.1.0"}, True),
    ("mail-domain-255", True, [], "MAIL FROM:<u@%s>" % LONG_DOMAIN_255, {250}, {"2.1.0"}, True),
    ("mail-domain-256", True, [], "MAIL FROM:<u@%s>" % LONG_DOMAIN_256, {501}, SYNTAX, True),
    ("mail-local-part-65", True, [], "MAIL FROM:<%s@client.example.test>" % ("a" * 65), {501}, SYNTAX, True),
    ("mail-unknown-parameter", True, [], OK_MAIL + " FROBNICATE=YES", {501, 555}, {"5.5.4"}, True),
    ("mail-size-not-a-number", True, [], OK_MAIL + " SIZE=lots", {501, 555}, {"5.5.4"}, True),
    ("mail-size-overflow", True, [], OK_MAIL + " SIZE=99999999999999999999999",
     {501, 552, 555}, {"5.5.4", "5.3.4"}, True),
    ("mail-body-bad-value", True, [], OK_MAIL + " BODY=9BIT", {501, 555}, {"5.5.4"}, True),
    ("mail-body-7bit", True, [], OK_MAIL + " BODY=7BIT", {250}, {"2.1.0"}, True),
    ("mail-utf8-without-smtputf8", True, [], "MAIL FROM:<jürgen@client.example.test>",
     {501, 553, 555}, {"5.6.7", "5.5.4", "5.1.7"}, True),
    ("mail-utf8-with-smtputf8", True, [], "MAIL FROM:<jürgen@client.example.test> SMTPUTF8",
     {250}, {"2.1.0"}, True),
    ("rcpt-double-at", True, [(OK_MAIL, 250)], "RCPT TO:<alice@@example.test>", {501}, SYNTAX, True),
    ("rcpt-null-path", True, [(OK_MAIL, 250)], "RCPT TO:<>", {501}, SYNTAX, True),
    ("rcpt-no-domain", True, [(OK_MAIL, 250)], "RCPT TO:<alice>", {501, 550}, SYNTAX | {"5.1.1"}, True),
    ("rcpt-without-brackets", True, [(OK_MAIL, 250)], "RCPT TO:alice@example.test", {501}, SYNTAX, True),
    ("rcpt-local-part-64-parses", True, [(OK_MAIL, 250)], "RCPT TO:<%s@example.test>" % ("a" * 64),
     {550}, {"5.1.1"}, True),
    ("rcpt-local-part-65", True, [(OK_MAIL, 250)], "RCPT TO:<%s@example.test>" % ("a" * 65),
     {501}, SYNTAX, True),
    ("rcpt-quoted-unknown-user", True, [(OK_MAIL, 250)], 'RCPT TO:<"no body"@example.test>',
     {550}, {"5.1.1"}, True),
    ("rcpt-quoted-known-user", True, [(OK_MAIL, 250)], 'RCPT TO:<"alice"@example.test>',
     {250}, {"2.1.5"}, True),
    ("rcpt-unknown-user", True, [(OK_MAIL, 250)], "RCPT TO:<nobody@example.test>", {550}, {"5.1.1"}, True),
    ("rcpt-unknown-parameter", True, [(OK_MAIL, 250)], OK_RCPT + " FROBNICATE=1", {501, 555}, {"5.5.4"}, True),
    ("rcpt-utf8-without-smtputf8", True, [(OK_MAIL, 250)], "RCPT TO:<jörg@example.test>",
     {501, 553, 555}, {"5.6.7", "5.5.4", "5.1.3"}, True),
    ("vrfy", True, [], "VRFY alice@example.test", {252}, None, True),
    ("help", True, [], "HELP", {214}, None, True),
    ("noop-with-argument", True, [], "NOOP " + "x" * 400, {250}, None, True),
    ("command-line-500-octets", True, [], "NOOP " + "y" * 493, {250}, None, True),
    ("command-line-too-long", True, [], "NOOP " + "z" * 3000, {500}, {"5.5.2"}, True),
    ("command-line-far-too-long", True, [], "MAIL FROM:<" + "w" * 200000 + "@x.test>", {500}, {"5.5.2"}, True),
    ("nul-in-command", True, [], b"NO\x00OP", {500, 501}, None, True),
    ("nul-in-mail", True, [], b"MAIL FROM:<a\x00b@client.example.test>", {500, 501}, None, True),
    ("bdat-without-size", True, [(OK_MAIL, 250), (OK_RCPT, 250)], "BDAT", {501}, {"5.5.4"}, False),
    ("bdat-bad-size", True, [(OK_MAIL, 250), (OK_RCPT, 250)], "BDAT ten", {501}, {"5.5.4"}, False),
    ("bdat-bad-keyword", True, [(OK_MAIL, 250), (OK_RCPT, 250)], "BDAT 0 FIRST", {501}, {"5.5.4"}, False),
]


@pytest.mark.parametrize("name,ehlo,setup,command,codes,enhanced,usable", CASES, ids=[c[0] for c in CASES])
def test_dialog(shared_server, name, ehlo, setup, command, codes, enhanced, usable):
    with Raw(shared_server) as c:
        if ehlo:
            c.ehlo()
        for cmd, code in setup:
            c.expect(cmd, code)
        r = c.cmd(command)
        assert r.code in codes, "%r: got %s, want %s" % (command[:80], r, sorted(codes))
        if enhanced is not None:
            assert r.enhanced() in enhanced, "%r: got %s, want enhanced code in %s" % (
                command[:80], r, sorted(enhanced))
        if usable:
            c.expect("NOOP", 250)
            c.expect("RSET", 250)
            c.expect("QUIT", 221)


def test_bare_lf_in_command_keeps_session_in_step(shared_server):
    """A command line ended by a bare LF is refused (500/501) or taken as a
    line end; either way there is at most one reply per line sent and the
    session stays in step."""
    with Raw(shared_server) as c:
        c.ehlo()
        c.send(b"NOOP\nNOOP\r\nQUIT\r\n")
        codes = [x.code for x in c.read_until_closed()]
        assert codes[-1] == 221, codes
        assert codes[:-1] in ([250, 250], [250], [500], [501]), codes


def test_session_survives_many_errors_in_a_row(shared_server):
    """Errors are answered one by one; the session may end after many
    (a limit on errors per session is allowed) but only with a 421."""
    with Raw(shared_server) as c:
        c.ehlo()
        for i in range(3):
            r = c.cmd("BOGUS%d" % i)
            assert r.code == 500, r
        c.expect("NOOP", 250)


def test_line_too_long_then_transaction_works(shared_server):
    with Raw(shared_server) as c:
        c.ehlo()
        r = c.cmd("RCPT TO:<" + "a" * 5000 + "@example.test>")
        assert r.code == 500 and r.enhanced() == "5.5.2", r
        c.expect("MAIL FROM:<sender@client.example.test>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("RSET", 250)


def test_ehlo_twice_resets_transaction(shared_server):
    with Raw(shared_server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<sender@client.example.test>", 250)
        c.ehlo(CLIENT_NAME)
        # RFC 5321 4.1.4: EHLO again clears the transaction
        c.expect("RCPT TO:<alice@example.test>", 503, "5.5.1")
        c.expect("MAIL FROM:<sender@client.example.test>", 250)
