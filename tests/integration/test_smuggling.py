"""test_smuggling - SMTP smuggling (CVE-2023-51764 class) and strict DATA.

The only end of data is CRLF "." CRLF (RFC 5321 4.1.1.4). Each variant
hides a fake end of data, followed by a second transaction (MAIL FROM,
RCPT TO, DATA, a message, the real CRLF.CRLF), inside one DATA. A correct
server reads to the real end, answers that one DATA with a 5xx (the bare
CR/LF or NUL is refused), and never treats the smuggled lines as commands:
the replies are exactly [5xx, 221 for our QUIT], and no mailbox gets
anything.
"""

import pytest

from conftest import Raw, make_message, parse_delivered, to_lf, dot_stuff

ATTACKER = "sender@client.example.test"
OUTER_RCPT = "alice@example.test"
VICTIM = "bob@example.test"

OUTER = (b"From: <sender@client.example.test>\r\nTo: <alice@example.test>\r\n"
         b"Subject: outer\r\n\r\nouter body")
SMUGGLED = (b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
            b"From: <admin@example.test>\r\nTo: <bob@example.test>\r\nSubject: SMUGGLED\r\n\r\n"
            b"smuggled body\r\n")
REAL_END = b".\r\n"

# name -> the fake end of data that follows "outer body"
FAKE_ENDS = {
    "bare-lf": b"\n.\n",
    "lf-dot-crlf": b"\n.\r\n",
    "crlf-dot-lf": b"\r\n.\n",
    "cr-dot-cr": b"\r.\r",
    "cr-dot-crlf": b"\r.\r\n",
    "crlf-dot-cr": b"\r\n.\r",
    "nul-before-dot": b"\r\n\x00.\r\n",
    "nul-after-dot": b"\r\n.\x00\r\n",
    "cr-cr-lf": b"\r\r\n.\r\r\n",
    "crlf-dot-cr-cr-lf": b"\r\n.\r\r\n",
    "lf-lf-dot-lf": b"\n\n.\n\n",
}


def smuggle(server, fake_end, pause_before_end=False):
    """smuggle - send one DATA with a smuggled transaction; return the replies after DATA."""
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % ATTACKER, 250)
        c.expect("RCPT TO:<%s>" % OUTER_RCPT, 250)
        c.expect("DATA", 354)
        c.send(OUTER + fake_end + SMUGGLED)
        if pause_before_end:
            assert c.nothing_within(0.5), "server replied before the real end of data: %r" % c.buf
        c.send(REAL_END + b"QUIT\r\n")
        return c.read_until_closed()


def assert_nothing_delivered(server):
    server.wait_marker("carol@example.test")
    server.assert_count_stays(VICTIM, 0, settle=0.3)
    server.assert_count_stays(OUTER_RCPT, 0, settle=0)
    server.assert_count_stays(None, 1, settle=0)          # the marker alone
    for m in server.messages():
        assert b"SMUGGLED" not in m and b"smuggled body" not in m, m


@pytest.mark.parametrize("fake_end", list(FAKE_ENDS.values()), ids=list(FAKE_ENDS))
def test_smuggling_variant_is_refused(server, fake_end):
    replies = smuggle(server, fake_end)
    codes = [r.code for r in replies]
    assert len(replies) == 2 and replies[0].code // 100 == 5 and replies[1].code == 221, (
        "want [5xx for the one DATA, 221 for QUIT], got %s" % [str(r) for r in replies])
    assert not any(r.code == 354 for r in replies), codes
    assert_nothing_delivered(server)


def test_refusal_comes_only_after_the_real_end(server):
    replies = smuggle(server, b"\n.\r\n", pause_before_end=True)
    assert [r.code // 100 for r in replies] == [5, 2] and replies[1].code == 221, [str(r) for r in replies]
    assert_nothing_delivered(server)


@pytest.mark.parametrize("body", [b"line one\nline two\r\n", b"line one\rline two\r\n",
                                  b"ends with bare cr\r", b"nul \x00 inside\r\n",
                                  b"\n", b"two\r\r\n"],
                         ids=["bare-lf", "bare-cr", "bare-cr-at-end", "nul", "lone-lf-line", "cr-cr-lf"])
def test_bad_line_end_anywhere_refused(server, body):
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % ATTACKER, 250)
        c.expect("RCPT TO:<%s>" % OUTER_RCPT, 250)
        c.expect("DATA", 354)
        c.send(b"Subject: bad\r\n\r\n" + body + b"\r\n.\r\n")
        r = c.reply()
        assert r.code // 100 == 5, "got %s, want 5xx" % r
        # the transaction is over, the session goes on
        c.expect("NOOP", 250)
        c.expect("DATA", 503)
        c.expect("QUIT", 221)
    server.wait_marker()
    server.assert_count_stays(OUTER_RCPT, 0, settle=0.2)


def test_session_usable_after_refused_data(server):
    msg = make_message(subject="after refusal")
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % ATTACKER, 250)
        c.expect("RCPT TO:<%s>" % OUTER_RCPT, 250)
        c.expect("DATA", 354)
        c.send(OUTER + b"\n.\n" + SMUGGLED + REAL_END)
        assert c.reply().code // 100 == 5
        c.expect("MAIL FROM:<%s>" % ATTACKER, 250)
        c.expect("RCPT TO:<%s>" % OUTER_RCPT, 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        assert c.reply().code == 250
        c.expect("QUIT", 221)
    [data] = server.wait_messages(OUTER_RCPT, 1)
    assert parse_delivered(data).rest == to_lf(msg)
    server.assert_count_stays(VICTIM, 0, settle=0.2)


def test_pipelined_commands_after_a_good_end_are_commands(server):
    """The counterpart: after a real CRLF.CRLF, pipelined commands are
    commands (RFC 2920), so the refusal above is not a refusal of pipelining."""
    inner = b"From: <sender@client.example.test>\r\nSubject: second\r\n\r\nsecond body\r\n"
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % ATTACKER, 250)
        c.expect("RCPT TO:<%s>" % OUTER_RCPT, 250)
        c.expect("DATA", 354)
        c.send(OUTER + b"\r\n.\r\nMAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (ATTACKER.encode(), VICTIM.encode()))
        assert [c.reply().code for _ in range(4)] == [250, 250, 250, 354]
        c.send(inner + b".\r\nQUIT\r\n")
        assert [r.code for r in c.read_until_closed()] == [250, 221]
    assert parse_delivered(server.wait_messages(OUTER_RCPT, 1)[0]).rest == to_lf(OUTER + b"\r\n")
    assert parse_delivered(server.wait_messages(VICTIM, 1)[0]).rest == to_lf(inner)
