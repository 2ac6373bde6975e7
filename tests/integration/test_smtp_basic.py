"""test_smtp_basic - the SMTP dialog that works (issue 2, sections 3 and 5).

Greeting, EHLO extensions, HELO, one message delivered into Maildir with
Return-Path, Delivered-To and a Received header with the queue id, the
message otherwise byte for byte; several recipients; pipelining read back
reply by reply; 8BITMIME and SMTPUTF8 content; dot-stuffed lines; RSET,
NOOP, HELP, VRFY, QUIT; DSN parameters; swaks as a second client.
"""

import email.utils
import re
import socket
import subprocess
import time

from conftest import (CLIENT_NAME, HOSTNAME, Raw, dot_stuff, make_message, parse_delivered,
                      queue_id, send_mail, smtp_client, to_lf)

SENDER = "sender@client.example.test"
EXTENSIONS = {"PIPELINING", "SIZE", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", "CHUNKING", "DSN"}


def ehlo_keywords(reply):
    return {t.split()[0].upper() for t in reply.texts[1:] if t.strip()}


def test_greeting_is_220_with_hostname(server):
    with Raw(server) as c:
        assert c.greeting.code == 220, c.greeting
        assert c.greeting.texts[0].split()[0] == HOSTNAME, c.greeting


def test_ehlo_advertises_every_extension(server):
    with Raw(server) as c:
        r = c.ehlo()
        assert r.texts[0].split()[0] == HOSTNAME, r
        missing = EXTENSIONS - ehlo_keywords(r)
        assert not missing, "EHLO lacks %s: %s" % (missing, r)
        assert "SIZE 10240000" in r.texts, "default message_size_limit not advertised: %s" % r


def test_ehlo_size_is_the_configured_limit(start_server):
    s = start_server(conf={"message_size_limit": "123456"})
    with Raw(s) as c:
        r = c.ehlo()
        assert "SIZE 123456" in r.texts, r


def test_helo_answers_without_extensions(server):
    with Raw(server) as c:
        r = c.expect("HELO " + CLIENT_NAME, 250)
        assert len(r.lines) == 1, r


def test_message_delivered_with_added_headers(server):
    body = "First line.\r\n\r\nThird line, after an empty one.\r\n  indented\r\nlast\r\n"
    msg = make_message(subject="delivery", body=body)
    qid = send_mail(server, SENDER, ["alice@example.test"], msg)
    [data] = server.wait_messages("alice@example.test", 1)
    md = server.maildir("alice@example.test")
    assert sorted(p.name for p in md.iterdir() if p.is_dir()) == ["cur", "new", "tmp"], list(md.iterdir())
    assert list((md / "tmp").iterdir()) == [], "delivery left files in tmp/"
    d = parse_delivered(data)
    assert d.return_path == "Return-Path: <%s>" % SENDER
    assert re.fullmatch(r"Delivered-To: <?alice@example\.test>?", d.delivered_to), d.delivered_to
    assert d.rest == to_lf(msg), "message altered:\ngot  %r\nwant %r" % (d.rest, to_lf(msg))
    rec = d.received
    assert rec.startswith("Received: from "), rec
    assert re.search(r"\bid %s\b" % re.escape(qid), rec), "no 'id %s' in %r" % (qid, rec)
    assert CLIENT_NAME in rec, rec
    assert "127.0.0.1" in rec, rec
    assert re.search(r"\bby %s\b" % re.escape(HOSTNAME), rec), rec
    assert re.search(r"\bwith ESMTP\b", rec), rec
    assert ";" in rec, "Received without a date: %r" % rec
    when = email.utils.parsedate_to_datetime(rec.rsplit(";", 1)[1].strip())
    assert abs(when.timestamp() - time.time()) < 300, rec


def test_helo_session_is_received_with_smtp(server):
    msg = make_message(subject="helo")
    with Raw(server) as c:
        c.expect("HELO " + CLIENT_NAME, 250)
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        r = c.reply()
        assert r.code == 250, r
        qid = queue_id(r.text)
        c.expect("QUIT", 221)
    [data] = server.wait_messages("alice@example.test", 1)
    d = parse_delivered(data)
    assert re.search(r"\bwith SMTP\b", d.received), d.received
    assert re.search(r"\bid %s\b" % re.escape(qid), d.received), d.received
    assert d.rest == to_lf(msg)


def test_final_reply_names_queue_id(server):
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250, "2.1.0")
        c.expect("RCPT TO:<alice@example.test>", 250, "2.1.5")
        c.expect("DATA", 354)
        c.send(dot_stuff(make_message()))
        r = c.reply()
        assert r.code == 250 and re.match(r"2\.0\.0 Ok: queued as [A-Za-z0-9]+$", r.texts[-1]), r
    server.wait_messages("alice@example.test", 1)


def test_null_sender(server):
    msg = make_message(subject="bounce-like")
    send_mail(server, "", ["alice@example.test"], msg)
    [data] = server.wait_messages("alice@example.test", 1)
    d = parse_delivered(data)
    assert d.return_path == "Return-Path: <>", d.return_path
    assert d.rest == to_lf(msg)


def test_several_recipients_each_get_one_copy(server):
    rcpts = ["alice@example.test", "bob@example.test", "dave@other.test"]
    msg = make_message(subject="to three")
    qid = send_mail(server, SENDER, rcpts, msg)
    for r in rcpts:
        [data] = server.wait_messages(r, 1)
        d = parse_delivered(data)
        assert re.fullmatch(r"Delivered-To: <?%s>?" % re.escape(r), d.delivered_to), d.delivered_to
        assert re.search(r"\bid %s\b" % re.escape(qid), d.received), d.received
        assert d.rest == to_lf(msg)
    server.assert_count_stays("carol@example.test", 0, settle=0)


def test_two_transactions_in_one_session(server):
    m1 = make_message(subject="one")
    m2 = make_message(subject="two")
    with Raw(server) as c:
        c.ehlo()
        ids = []
        for m, rcpt in ((m1, "alice@example.test"), (m2, "bob@example.test")):
            c.expect("MAIL FROM:<%s>" % SENDER, 250)
            c.expect("RCPT TO:<%s>" % rcpt, 250)
            c.expect("DATA", 354)
            c.send(dot_stuff(m))
            r = c.reply()
            assert r.code == 250, r
            ids.append(queue_id(r.text))
        c.expect("QUIT", 221)
    assert ids[0] != ids[1], "two messages got the same queue id %s" % ids[0]
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(m1)
    assert parse_delivered(server.wait_messages("bob@example.test", 1)[0]).rest == to_lf(m2)


def test_rset_forgets_the_transaction(server):
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("RSET", 250, "2.0.0")
        c.expect("DATA", 503, "5.5.1")
        c.expect("RCPT TO:<alice@example.test>", 503, "5.5.1")
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<bob@example.test>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(make_message(to="bob@example.test")))
        assert c.reply().code == 250
        c.expect("QUIT", 221)
    server.wait_messages("bob@example.test", 1)
    server.wait_marker()
    assert server.count("alice@example.test") == 0


def test_noop_help_vrfy_quit(server):
    with Raw(server) as c:
        c.ehlo()
        c.expect("NOOP", 250, "2.0.0")
        c.expect("NOOP some argument", 250)
        r = c.cmd("HELP")
        assert r.code == 214, r
        known = c.cmd("VRFY alice@example.test")
        unknown = c.cmd("VRFY nobody-at-all@example.test")
        assert known.code == 252 and unknown.code == 252, (known, unknown)
        assert "alice" not in known.text.lower(), "VRFY reveals the user: %s" % known
        assert known.enhanced() == unknown.enhanced(), (known, unknown)
        c.expect("QUIT", 221, "2.0.0")
        assert c.is_closed(5), "connection still open after QUIT"


def test_commands_are_case_insensitive(server):
    msg = make_message(subject="lower case verbs")
    with Raw(server) as c:
        c.expect("ehlo " + CLIENT_NAME, 250)
        c.expect("mail from:<%s>" % SENDER, 250)
        c.expect("Rcpt To:<alice@example.test>", 250)
        c.expect("data", 354)
        c.send(dot_stuff(msg))
        assert c.reply().code == 250
        c.expect("quit", 221)
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_pipelined_transaction_read_reply_by_reply(server):
    m1 = make_message(subject="pipelined one")
    m2 = make_message(subject="pipelined two")
    with Raw(server) as c:
        assert "PIPELINING" in ehlo_keywords(c.ehlo())
        c.send("MAIL FROM:<%s>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\n"
               "RCPT TO:<bob@example.test>\r\nDATA\r\n" % SENDER)
        got = [c.reply() for _ in range(5)]
        assert [r.code for r in got] == [250, 250, 550, 250, 354], got
        assert got[2].enhanced() == "5.1.1", got[2]
        # The message content may begin a group (RFC 2920 3.1).
        c.send(dot_stuff(m1) + b"RSET\r\nMAIL FROM:<%s>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\n"
               % SENDER.encode())
        got = [c.reply() for _ in range(5)]
        assert [r.code for r in got] == [250, 250, 250, 250, 354], got
        id1 = queue_id(got[0].text)
        c.send(dot_stuff(m2) + b"QUIT\r\n")
        got = [c.reply() for _ in range(2)]
        assert [r.code for r in got] == [250, 221], got
        id2 = queue_id(got[0].text)
        assert c.is_closed(5)
    assert id1 != id2
    for r in ("alice@example.test", "bob@example.test"):
        assert parse_delivered(server.wait_messages(r, 1)[0]).rest == to_lf(m1)
    assert parse_delivered(server.wait_messages("carol@example.test", 1)[0]).rest == to_lf(m2)


def test_end_of_data_split_across_packets(server):
    msg = make_message(subject="slow end")
    with Raw(server) as c:
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(msg[:-2])
        for b in (b"\r", b"\n", b".", b"\r", b"\n"):
            time.sleep(0.05)
            c.send(b)
        r = c.reply()
        assert r.code == 250, r
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_8bit_message_byte_for_byte(server):
    high = bytes(range(0x80, 0x100))
    body = (b"Latin-1: caf\xe9 na\xefve\r\nUTF-8: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xac\r\n"
            + high[:64] + b"\r\n" + high[64:] + b"\r\n"
            + bytes(b for b in range(1, 0x80) if b not in (10, 13)) + b"\r\n")
    msg = (b"From: <sender@client.example.test>\r\nTo: <alice@example.test>\r\n"
           b"Subject: 8bit\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: 8bit\r\n\r\n" + body)
    qid = send_mail(server, SENDER, ["alice@example.test"], msg, mail_options=["BODY=8BITMIME"])
    [data] = server.wait_messages("alice@example.test", 1)
    d = parse_delivered(data)
    assert d.rest == to_lf(msg), "8-bit content altered:\ngot  %r\nwant %r" % (d.rest, to_lf(msg))
    assert qid in d.received


def test_smtputf8_message_byte_for_byte(start_server):
    s = start_server(users=("alice@example.test", "jörg@example.test"))
    sender = "jürgen@client.example.test"
    msg = ("From: Jürgen Groß <jürgen@client.example.test>\r\nTo: <jörg@example.test>\r\n"
           "Subject: Grüße aus Köln ✉\r\nMIME-Version: 1.0\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n"
           "Schöne Grüße, 你好, привет, 🙂\r\n").encode("utf-8")
    with Raw(s) as c:
        assert "SMTPUTF8" in ehlo_keywords(c.ehlo())
        c.expect("MAIL FROM:<%s> SMTPUTF8 BODY=8BITMIME" % sender, 250)
        c.expect("RCPT TO:<jörg@example.test>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        r = c.reply()
        assert r.code == 250, r
    for rcpt in ("jörg@example.test", "alice@example.test"):
        [data] = s.wait_messages(rcpt, 1)
        assert data.startswith(("Return-Path: <%s>\n" % sender).encode("utf-8")), data[:200]
        d = parse_delivered(data)
        assert d.rest == to_lf(msg), "UTF-8 content altered:\ngot  %r\nwant %r" % (d.rest, to_lf(msg))


def test_lines_beginning_with_dots_survive(server):
    body = (".\r\n..\r\n...\r\n.hidden\r\n..double\r\n . space first\r\nend.\r\n"
            "\r\n.\r\n")
    msg = make_message(subject="dots", body=body)
    # By hand, with our dot-stuffing ...
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        assert c.reply().code == 250
    # ... and with smtplib's.
    send_mail(server, SENDER, ["bob@example.test"], msg)
    for r in ("alice@example.test", "bob@example.test"):
        d = parse_delivered(server.wait_messages(r, 1)[0])
        assert d.rest == to_lf(msg), "dot lines altered:\ngot  %r\nwant %r" % (d.rest, to_lf(msg))


def test_message_starting_with_a_dot_line(server):
    # No header at all: the very first line of the content is dot-stuffed.
    msg = b".first\r\n.\r\nlast\r\n"
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"..first\r\n..\r\nlast\r\n.\r\n")
        assert c.reply().code == 250
    assert parse_delivered(server.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)


def test_dsn_parameters_accepted(server):
    msg = make_message(subject="dsn")
    with Raw(server) as c:
        assert "DSN" in ehlo_keywords(c.ehlo())
        c.expect("MAIL FROM:<%s> RET=HDRS ENVID=QQ314159" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;alice@example.test", 250)
        c.expect("RCPT TO:<bob@example.test> NOTIFY=NEVER", 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        assert c.reply().code == 250
        c.expect("MAIL FROM:<%s> RET=FULL" % SENDER, 250)
        r = c.cmd("RCPT TO:<alice@example.test> NOTIFY=SOMETIMES")
        assert r.code in (501, 555) and r.enhanced() == "5.5.4", r
        c.expect("RSET", 250)
        r = c.cmd("MAIL FROM:<%s> RET=MAYBE" % SENDER)
        assert r.code in (501, 555) and r.enhanced() == "5.5.4", r
    for r in ("alice@example.test", "bob@example.test"):
        assert parse_delivered(server.wait_messages(r, 1)[0]).rest == to_lf(msg)


def test_size_parameter_within_limit_accepted(server):
    msg = make_message(subject="sized")
    qid = send_mail(server, SENDER, ["alice@example.test"], msg, mail_options=["SIZE=%d" % len(msg)])
    assert qid in parse_delivered(server.wait_messages("alice@example.test", 1)[0]).received


def swaks(server, *args, timeout=30):
    cmd = ["swaks", "--server", "%s:%d" % (server.host, server.port), "--helo", CLIENT_NAME,
           "--timeout", "10"] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)


def test_swaks_plain(server):
    p = swaks(server, "--from", SENDER, "--to", "alice@example.test",
              "--header", "Subject: from swaks", "--body", "Sent by swaks.")
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    qid = queue_id(re.findall(r"<-  250 .*queued as \S+", out)[-1])
    d = parse_delivered(server.wait_messages("alice@example.test", 1)[0])
    assert qid in d.received
    # swaks ends its body with two empty lines of its own
    assert b"\nSubject: from swaks\n" in d.rest and d.rest.rstrip(b"\n").endswith(b"\n\nSent by swaks."), d.rest


def test_swaks_pipeline_several_recipients(server):
    p = swaks(server, "--pipeline", "--from", SENDER, "--to", "alice@example.test,bob@example.test",
              "--body", "pipelined by swaks")
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert "PIPELINING" in out
    for r in ("alice@example.test", "bob@example.test"):
        d = parse_delivered(server.wait_messages(r, 1)[0])
        assert d.rest.rstrip(b"\n").endswith(b"\n\npipelined by swaks"), d.rest


def test_swaks_data_file(server, tmp_path):
    content = ("From: <sender@client.example.test>\nTo: <alice@example.test>\nSubject: raw data\n"
               "Message-ID: <swaks-data@client.example.test>\n\nline one\n.dot line\nline three\n")
    f = tmp_path / "message.eml"
    f.write_text(content)
    p = swaks(server, "--from", SENDER, "--to", "alice@example.test", "--data", "@%s" % f)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    d = parse_delivered(server.wait_messages("alice@example.test", 1)[0])
    # swaks adds an empty line after the data it is given
    assert d.rest.rstrip(b"\n") == content.encode().rstrip(b"\n"), "got %r want %r" % (d.rest, content)


def test_smtplib_sendmail_to_several(server):
    msg = make_message(subject="smtplib")
    with smtp_client(server) as s:
        refused = s.sendmail(SENDER, ["alice@example.test", "carol@example.test"], msg)
        assert refused == {}
    for r in ("alice@example.test", "carol@example.test"):
        assert parse_delivered(server.wait_messages(r, 1)[0]).rest == to_lf(msg)
