"""test_limits - sizes, line lengths, recipients, timeouts, connections.

Issue 2, section 3: SIZE (RFC 1870) at MAIL and during DATA, text lines
within RFC 5321 4.5.3.1.6 (1000 octets with CRLF), max_recipients (452
4.5.3), smtp_timeout / smtp_data_timeout, max_connections and
max_connections_per_ip (421 4.7.0 greeting, then close), and 300 idle
connections that do not keep a real message out.
"""

import time

from conftest import Raw, dot_stuff, make_message, parse_delivered, send_mail, to_lf, wait_for

SENDER = "sender@client.example.test"
LIMIT = 20000


def sized_message(n, subject=b"sized"):
    """sized_message - a message of exactly n octets (CRLF form), no dot lines."""
    head = (b"From: <sender@client.example.test>\r\nTo: <alice@example.test>\r\nSubject: "
            + subject + b"\r\n\r\n")
    remaining = n - len(head)
    assert remaining >= 2
    body = bytearray()
    while remaining > 0:
        if remaining <= 998:
            take = remaining
        else:
            take = 80 if remaining - 80 >= 2 else 79
        body += b"x" * (take - 2) + b"\r\n"
        remaining -= take
    msg = head + bytes(body)
    assert len(msg) == n
    return msg


def data_transaction(c, msg, rcpt="alice@example.test", mail_params=""):
    c.expect("MAIL FROM:<%s>%s" % (SENDER, mail_params), 250)
    c.expect("RCPT TO:<%s>" % rcpt, 250)
    c.expect("DATA", 354)
    c.send(dot_stuff(msg))
    return c.reply()


def test_size_parameter_over_limit_refused_at_mail(start_server):
    s = start_server(conf={"message_size_limit": LIMIT})
    with Raw(s) as c:
        r = c.ehlo()
        assert "SIZE %d" % LIMIT in r.texts, r
        c.expect("MAIL FROM:<%s> SIZE=%d" % (SENDER, LIMIT + 1), 552, "5.3.4")
        c.expect("MAIL FROM:<%s> SIZE=%d" % (SENDER, LIMIT), 250)


def test_message_just_under_and_at_the_limit_accepted(start_server):
    s = start_server(conf={"message_size_limit": LIMIT})
    under = sized_message(LIMIT - 1, b"just under")
    at = sized_message(LIMIT, b"at the limit")
    with Raw(s) as c:
        c.ehlo()
        r = data_transaction(c, under, mail_params=" SIZE=%d" % len(under))
        assert r.code == 250, "message of %d octets (limit %d): got %s" % (len(under), LIMIT, r)
        r = data_transaction(c, at, rcpt="bob@example.test", mail_params=" SIZE=%d" % len(at))
        assert r.code == 250, "message of %d octets (limit %d): got %s" % (len(at), LIMIT, r)
    assert parse_delivered(s.wait_messages("alice@example.test", 1)[0]).rest == to_lf(under)
    assert parse_delivered(s.wait_messages("bob@example.test", 1)[0]).rest == to_lf(at)


def test_message_just_over_the_limit_refused_after_data(start_server):
    s = start_server(conf={"message_size_limit": LIMIT})
    over = sized_message(LIMIT + 1, b"just over")
    small = make_message(subject="small after big")
    with Raw(s) as c:
        c.ehlo()
        r = data_transaction(c, over)
        assert r.code == 552, "message of %d octets (limit %d): got %s, want 552" % (len(over), LIMIT, r)
        # the session goes on
        r = data_transaction(c, small)
        assert r.code == 250, r
        c.expect("QUIT", 221)
    [data] = s.wait_messages("alice@example.test", 1)
    assert parse_delivered(data).rest == to_lf(small)
    s.assert_count_stays("alice@example.test", 1, settle=0.3)


def test_message_growing_past_declared_size_refused(start_server):
    s = start_server(conf={"message_size_limit": LIMIT})
    over = sized_message(LIMIT + 500, b"lied about its size")
    with Raw(s) as c:
        c.ehlo()
        r = data_transaction(c, over, mail_params=" SIZE=1000")
        assert r.code == 552, r
        c.expect("NOOP", 250)
    s.wait_marker()
    s.assert_count_stays("alice@example.test", 0, settle=0.2)


def test_huge_message_refused_without_harm(start_server):
    s = start_server(conf={"message_size_limit": LIMIT})
    line = b"y" * 998 + b"\r\n"
    with Raw(s, timeout=30) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: huge\r\n\r\n" + line * 3000 + b".\r\n")    # 3 MB
        r = c.reply()
        assert r.code == 552, r
        c.expect("NOOP", 250)
    s.wait_marker()
    s.assert_count_stays("alice@example.test", 0, settle=0.2)


def test_text_line_of_1000_octets_accepted(server):
    msg = make_message(subject="long line", body="a" * 998 + "\r\nshort\r\n")
    with Raw(server) as c:
        c.ehlo()
        r = data_transaction(c, msg)
        assert r.code == 250, r
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_text_line_of_1001_octets_refused_after_data(server):
    msg = make_message(subject="too long line", body="a" * 999 + "\r\nshort\r\n")
    with Raw(server) as c:
        c.ehlo()
        r = data_transaction(c, msg)
        assert r.code == 500 and r.enhanced() == "5.5.2", "got %s, want 500 5.5.2" % r
        c.expect("NOOP", 250)
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
    server.wait_marker()
    server.assert_count_stays("alice@example.test", 0, settle=0.2)


def test_very_long_text_line_refused(server):
    msg = make_message(subject="very long line", body="b" * 100000 + "\r\n")
    with Raw(server) as c:
        c.ehlo()
        r = data_transaction(c, msg)
        assert r.code == 500 and r.enhanced() == "5.5.2", r
        c.expect("NOOP", 250)
    server.wait_marker()
    server.assert_count_stays("alice@example.test", 0, settle=0.2)


def test_too_many_recipients(start_server):
    s = start_server(conf={"max_recipients": 3})
    msg = make_message(subject="three of four")
    with Raw(s) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        for r in ("alice@example.test", "bob@example.test", "carol@example.test"):
            c.expect("RCPT TO:<%s>" % r, 250)
        c.expect("RCPT TO:<dave@other.test>", 452, "4.5.3")
        c.expect("RCPT TO:<dave@other.test>", 452, "4.5.3")
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        assert c.reply().code == 250
    for r in ("alice@example.test", "bob@example.test", "carol@example.test"):
        assert parse_delivered(s.wait_messages(r, 1)[0]).rest == to_lf(msg)
    s.assert_count_stays("dave@other.test", 0, settle=0.3)


def test_idle_client_gets_421_after_smtp_timeout(start_server):
    s = start_server(conf={"smtp_timeout": "2s"})
    with Raw(s, timeout=15) as c:
        t0 = time.monotonic()
        r = c.reply()
        elapsed = time.monotonic() - t0
        assert r.code == 421, "got %s, want 421 after the idle timeout" % r
        assert 1.5 <= elapsed <= 10, "421 after %.1f s, smtp_timeout is 2 s" % elapsed
        assert c.is_closed(5), "connection left open after 421"
    with Raw(s, timeout=15) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        t0 = time.monotonic()
        r = c.reply()
        assert r.code == 421 and 1.5 <= time.monotonic() - t0 <= 10, r
        assert c.is_closed(5)


def test_active_client_is_not_timed_out(start_server):
    s = start_server(conf={"smtp_timeout": "2s"})
    with Raw(s) as c:
        c.ehlo()
        for _ in range(4):
            time.sleep(1)
            c.expect("NOOP", 250)
        msg = make_message(subject="slow but alive")
        assert data_transaction(c, msg).code == 250
    s.wait_messages("alice@example.test", 1)


def test_silent_client_in_data_is_dropped(start_server):
    s = start_server(conf={"smtp_timeout": "60s", "smtp_data_timeout": "2s"})
    with Raw(s, timeout=15) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: never finished\r\n\r\nhalf a mess")
        t0 = time.monotonic()
        replies = c.read_until_closed(timeout=15)
        elapsed = time.monotonic() - t0
        assert elapsed <= 10, "connection kept %.1f s with smtp_data_timeout 2 s" % elapsed
        assert elapsed >= 1.5, "dropped after %.1f s, before smtp_data_timeout" % elapsed
        assert all(r.code == 421 for r in replies), [str(r) for r in replies]
    s.wait_marker()
    s.assert_count_stays("alice@example.test", 0, settle=0.2)


def test_connections_per_ip_limit(start_server):
    s = start_server(conf={"max_connections_per_ip": 3, "max_connections": 50})
    conns = [Raw(s) for _ in range(3)]
    try:
        for c in conns:
            assert c.greeting.code == 220, c.greeting
        with Raw(s) as over:
            assert over.greeting.code == 421, "4th connection from one IP: got %s" % over.greeting
            assert over.greeting.enhanced() == "4.7.0", over.greeting
            assert over.is_closed(5), "refused connection left open"
        with Raw(s, source="127.0.0.2") as other:
            assert other.greeting.code == 220, "another IP is refused: %s" % other.greeting
            other.expect("QUIT", 221)
        conns[0].expect("QUIT", 221)
        conns[0].close()

        def room_again():
            with Raw(s) as c:
                if c.greeting.code == 220:
                    c.expect("QUIT", 221)
                    return True
                return False
        wait_for(room_again, 10, 0.05, "a slot freed by QUIT")
        for c in conns[1:]:
            c.expect("NOOP", 250)
    finally:
        for c in conns:
            c.close()


def test_total_connections_limit(start_server):
    s = start_server(conf={"max_connections": 3, "max_connections_per_ip": 50})
    conns = [Raw(s), Raw(s, source="127.0.0.2"), Raw(s, source="127.0.0.3")]
    try:
        for c in conns:
            assert c.greeting.code == 220, c.greeting
        for src in (None, "127.0.0.4"):
            with Raw(s, source=src) as over:
                assert over.greeting.code == 421 and over.greeting.enhanced() == "4.7.0", over.greeting
                assert over.is_closed(5)
        conns[1].close()

        def room_again():
            with Raw(s) as c:
                return c.greeting.code == 220
        wait_for(room_again, 10, 0.05, "a slot freed by a closed connection")
    finally:
        for c in conns:
            c.close()


def test_300_idle_connections_do_not_block_mail(start_server):
    s = start_server(options={"max_connections": 1000, "max_connections_per_ip": 1000})
    conns = []
    try:
        for i in range(300):
            c = Raw(s, timeout=10)
            assert c.greeting.code == 220, "connection %d: %s" % (i, c.greeting)
            conns.append(c)
        msg = make_message(subject="through the crowd")
        send_mail(s, SENDER, ["alice@example.test"], msg)
        assert parse_delivered(s.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)
        for c in conns[::10]:
            c.expect("NOOP", 250)
    finally:
        for c in conns:
            c.close()
