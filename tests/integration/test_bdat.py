"""test_bdat - CHUNKING (RFC 3030): BDAT chunks counted exactly.

Raw sockets only: one chunk, several chunks ending with BDAT 0 LAST,
chunk boundaries inside CRLF, pipelined chunks read back reply by reply,
no dot-unstuffing, strict line ends, the size limit, and a refused BDAT
whose octets are still consumed (never read as commands).
"""

import pytest

from conftest import Raw, make_message, parse_delivered, queue_id, to_lf

SENDER = "sender@client.example.test"


def start_tx(c, rcpts=("alice@example.test",), params=""):
    r = c.ehlo()
    assert "CHUNKING" in {t.split()[0].upper() for t in r.texts[1:]}, r
    c.expect("MAIL FROM:<%s>%s" % (SENDER, params), 250)
    for rcpt in rcpts:
        c.expect("RCPT TO:<%s>" % rcpt, 250)


def bdat(chunk, last=False):
    return b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk


def test_single_chunk(server):
    msg = make_message(subject="one chunk", body="Hello in one chunk.\r\n")
    with Raw(server) as c:
        start_tx(c)
        c.send(bdat(msg, last=True))
        r = c.reply()
        assert r.code == 250, r
        qid = queue_id(r.text)
        c.expect("QUIT", 221)
    d = parse_delivered(server.wait_messages("alice@example.test", 1)[0])
    assert d.rest == to_lf(msg)
    assert qid in d.received


def test_several_chunks_then_bdat_0_last(server):
    msg = make_message(subject="chunks", body="".join("line %d of many\r\n" % i for i in range(50)))
    cuts = [0, 7, 100, 101, 350, len(msg)]
    with Raw(server) as c:
        start_tx(c)
        for a, b in zip(cuts, cuts[1:]):
            c.send(bdat(msg[a:b]))
            r = c.reply()
            assert r.code == 250, "chunk %d..%d: %s" % (a, b, r)
        c.send(b"BDAT 0 LAST\r\n")
        r = c.reply()
        assert r.code == 250, r
        queue_id(r.text)
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_chunk_boundary_inside_crlf(server):
    msg = make_message(subject="split crlf", body="first\r\nsecond\r\nthird\r\n")
    i = msg.index(b"first\r\n") + len(b"first\r")        # cut between CR and LF
    j = msg.index(b"second\r\n") + len(b"second")        # cut before CR
    with Raw(server) as c:
        start_tx(c)
        for chunk in (msg[:i], msg[i:j], msg[j:]):
            c.send(bdat(chunk))
            assert c.reply().code == 250
        c.send(b"BDAT 0 LAST\r\n")
        assert c.reply().code == 250
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_pipelined_chunks_read_reply_by_reply(server):
    msg = make_message(subject="pipelined chunks", body="a\r\nb\r\nc\r\n" * 20)
    parts = [msg[:33], msg[33:34], msg[34:200], msg[200:]]
    with Raw(server) as c:
        c.ehlo()
        c.send(b"MAIL FROM:<%s>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n"
               % SENDER.encode()
               + b"".join(bdat(p) for p in parts[:-1]) + bdat(parts[-1], last=True) + b"QUIT\r\n")
        replies = c.read_until_closed()
        assert [r.code for r in replies] == [250, 250, 250, 250, 250, 250, 250, 221], [str(r) for r in replies]
        queue_id(replies[-2].text)
    for r in ("alice@example.test", "bob@example.test"):
        assert parse_delivered(server.wait_messages(r, 1)[0]).rest == to_lf(msg)


def test_no_dot_unstuffing_in_bdat(server):
    msg = b"Subject: dots in bdat\r\n\r\n..two\r\n.\r\n.one\r\n...\r\n"
    with Raw(server) as c:
        start_tx(c)
        c.send(bdat(msg, last=True))
        assert c.reply().code == 250
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_smuggled_dot_in_bdat_is_just_content(server):
    msg = (b"Subject: not two messages\r\n\r\nbody\r\n.\r\n"
           b"MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nevil\r\n")
    with Raw(server) as c:
        start_tx(c)
        c.send(bdat(msg, last=True) + b"QUIT\r\n")
        assert [r.code for r in c.read_until_closed()] == [250, 221]
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)
    server.assert_count_stays("bob@example.test", 0, settle=0.3)


def test_8bit_chunk_byte_for_byte(server):
    msg = (b"Subject: 8bit chunk\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           + "Grüße ✉ 🙂\r\n".encode("utf-8") + bytes(range(0x80, 0x100)) + b"\r\n")
    with Raw(server) as c:
        start_tx(c, params=" BODY=8BITMIME")
        c.send(bdat(msg[:20]) + bdat(msg[20:], last=True))
        assert [c.reply().code for _ in range(2)] == [250, 250]
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


@pytest.mark.parametrize("bad", [b"bare\nlf\r\n", b"bare\rcr\r\n", b"nul\x00\r\n"], ids=["bare-lf", "bare-cr", "nul"])
def test_bad_line_ends_refused_at_last(server, bad):
    msg = b"Subject: bad bdat\r\n\r\n" + bad
    with Raw(server) as c:
        start_tx(c)
        c.send(bdat(msg, last=True))
        r = c.reply()
        assert r.code // 100 == 5, "got %s, want 5xx" % r
        c.expect("NOOP", 250)
    server.wait_marker()
    server.assert_count_stays("alice@example.test", 0, settle=0.2)


def test_chunks_over_the_size_limit(start_server):
    s = start_server(conf={"message_size_limit": 10000})
    half = b"Subject: big\r\n\r\n" + b"z" * 5990 + b"\r\n"
    with Raw(s) as c:
        start_tx(c)
        c.send(bdat(half) + bdat(b"q" * 5998 + b"\r\n", last=True))
        first, second = c.reply(), c.reply()
        assert first.code in (250, 552), first
        if first.code == 250:
            assert second.code == 552, "got %s, want 552 at the end of the message" % second
        else:   # refused early: the transaction is over, the LAST chunk is still consumed
            assert second.code in (552, 503), second
        c.expect("NOOP", 250)
        # the next transaction is unaffected
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<bob@example.test>", 250)
        small = b"Subject: small\r\n\r\nsmall\r\n"
        c.send(bdat(small, last=True))
        assert c.reply().code == 250
    assert parse_delivered(s.wait_messages("bob@example.test", 1)[0]).rest == to_lf(small)
    s.assert_count_stays("alice@example.test", 0, settle=0.2)


@pytest.mark.parametrize("setup", [[], ["MAIL FROM:<sender@client.example.test>"]], ids=["no-mail", "no-rcpt"])
def test_refused_bdat_octets_are_consumed(server, setup):
    chunk = b"MAIL FROM:<x@y.test>\r\nRCPT TO:<bob@example.test>\r\n"
    with Raw(server) as c:
        c.ehlo()
        for cmd in setup:
            c.expect(cmd, 250)
        c.send(bdat(chunk, last=True) + b"NOOP\r\nQUIT\r\n")
        replies = c.read_until_closed()
        assert [r.code for r in replies] == [503, 250, 221], (
            "the chunk's octets were read as commands: %s" % [str(r) for r in replies])
        assert replies[0].enhanced() == "5.5.1", replies[0]


def test_data_after_bdat_refused(server):
    with Raw(server) as c:
        start_tx(c)
        c.send(bdat(b"Subject: x\r\n\r\n"))
        assert c.reply().code == 250
        c.expect("DATA", 503, "5.5.1")


def test_huge_bdat_size_refused(server):
    with Raw(server) as c:
        start_tx(c)
        r = c.cmd("BDAT 99999999999999999999999999 LAST")
        assert r.code // 100 == 5, r
