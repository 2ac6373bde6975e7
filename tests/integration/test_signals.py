"""test_signals - SIGTERM/SIGINT stop cleanly with status 0; SIGHUP reloads
the configuration, the users and the aliases (issue 2, section 2)."""

import signal
import time

from conftest import (HOST, Raw, dot_stuff, is_listening, make_message, parse_delivered, send_mail,
                      to_lf, wait_for)

SENDER = "sender@client.example.test"


def size_advertised(server):
    with Raw(server) as c:
        r = c.ehlo()
        for t in r.texts:
            if t.upper().startswith("SIZE "):
                return int(t.split()[1])
    return None


def rcpt_code(server, addr):
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        return c.cmd("RCPT TO:<%s>" % addr).code


def test_sigterm_exits_0_with_clients_connected(start_server):
    s = start_server()
    idle = Raw(s)
    busy = Raw(s)
    try:
        busy.ehlo()
        busy.expect("MAIL FROM:<%s>" % SENDER, 250)
        busy.expect("RCPT TO:<alice@example.test>", 250)
        t0 = time.monotonic()
        rc = s.stop(signal.SIGTERM, timeout=10)
        assert rc == 0, "exit status %s on SIGTERM; log:\n%s" % (rc, s.log()[-3000:])
        assert time.monotonic() - t0 < 10
        assert not is_listening(HOST, s.port)
        for c in (idle, busy):
            replies = c.read_until_closed(timeout=5)
            assert all(r.code == 421 for r in replies), [str(r) for r in replies]
    finally:
        idle.close()
        busy.close()


def test_sigterm_repeated_while_stopping_exits_0(start_server):
    """An init system or an impatient admin may send SIGTERM again while
    the server stops. Every one after the first is ignored: the stop runs
    to its end and exits 0 (regression: once the loop's signal events were
    freed, SIGTERM was back at its default action, and a second one in the
    last steps of the stop killed the server)."""
    s = start_server()
    send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    s.expected_exit = True
    deadline = time.monotonic() + 10
    while s.proc.poll() is None and time.monotonic() < deadline:
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.0005)
    rc = s.stop(timeout=1)
    assert rc == 0, "exit status %s; log:\n%s" % (rc, s.log()[-3000:])
    assert "stopped" in s.log()


def test_sigint_exits_0(start_server):
    s = start_server()
    send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    assert s.stop(signal.SIGINT) == 0


def test_sigterm_during_data_keeps_nothing_half_done(start_server):
    s = start_server()
    with Raw(s) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(b"Subject: interrupted\r\n\r\nhalf of it\r\n")
        assert s.stop() == 0
        replies = c.read_until_closed(timeout=5)
        assert not any(r.code == 250 for r in replies), [str(r) for r in replies]
    s.start()
    s.wait_marker()
    s.assert_count_stays("alice@example.test", 0, settle=0.3)
    for data in s.messages():
        assert b"interrupted" not in data


def test_sighup_reloads_configuration(start_server):
    s = start_server(conf={"message_size_limit": 50000})
    assert size_advertised(s) == 50000
    keep = Raw(s)
    try:
        keep.ehlo()
        s.write_config(message_size_limit=60000, domains="example.test other.test new.test")
        s.write_users(("alice@example.test", "bob@example.test", "carol@example.test",
                       "dave@other.test", "neo@new.test"))
        pid = s.pid
        s.send_signal(signal.SIGHUP)
        wait_for(lambda: size_advertised(s) == 60000, 10, 0.05, "SIZE 60000 after SIGHUP")
        assert s.running() and s.pid == pid
        wait_for(lambda: rcpt_code(s, "neo@new.test") == 250, 10, 0.05, "new.test local after SIGHUP")
        # a session opened before the reload goes on
        keep.expect("NOOP", 250)
        keep.expect("MAIL FROM:<%s>" % SENDER, 250)
        keep.expect("RCPT TO:<alice@example.test>", 250)
        keep.expect("DATA", 354)
        msg = make_message(subject="across a reload")
        keep.send(dot_stuff(msg))
        assert keep.reply().code == 250
    finally:
        keep.close()
    assert parse_delivered(s.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)
    send_mail(s, SENDER, ["neo@new.test"], make_message(subject="to the new domain"))
    s.wait_messages("neo@new.test", 1)


def test_sighup_reloads_aliases(start_server):
    s = start_server(aliases="old@example.test: alice\n")
    assert rcpt_code(s, "old@example.test") == 250
    assert rcpt_code(s, "fresh@example.test") == 550
    s.write_aliases("fresh@example.test: bob\n")
    s.send_signal(signal.SIGHUP)
    wait_for(lambda: rcpt_code(s, "fresh@example.test") == 250, 10, 0.05, "new alias after SIGHUP")
    assert rcpt_code(s, "old@example.test") == 550
    msg = make_message(subject="to the fresh alias")
    send_mail(s, SENDER, ["fresh@example.test"], msg)
    assert parse_delivered(s.wait_messages("bob@example.test", 1)[0]).rest == to_lf(msg)


def test_sighup_with_a_broken_file_keeps_serving(start_server):
    """A typo in the file must not take the mail server down on reload: it
    keeps the configuration it has (and logs the error)."""
    s = start_server(conf={"message_size_limit": 50000})
    s.write_config(message_size_limit="lots")
    s.send_signal(signal.SIGHUP)
    s.wait_log(r"%s:\d+:" % s.conf_path)
    assert s.running(), "server exited on SIGHUP with a broken file:\n%s" % s.log()[-3000:]
    assert size_advertised(s) == 50000
    send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    s.write_config(message_size_limit=50000)


def test_second_server_on_the_same_data_dir_refused(start_server):
    """One server per data folder: a second one must not touch the queue."""
    from conftest import free_port, run_postino
    s = start_server()
    send_mail(s, "a@client.example.test", ["alice@example.test"], make_message(subject="before"))
    s.wait_messages("alice@example.test", 1)
    # a file a start would remove as cut short by a crash
    marker = s.data_dir / "queue" / "msg" / "0000000000000B01"
    marker.write_text("POSTINO-QUEUE 1\nid 0000000000000B01\n")
    p = run_postino(["serve", "-c", str(s.conf_path),
                     "-o", "listen_smtp=127.0.0.1:%d" % free_port(),
                     "-o", "listen_submission=", "-o", "listen_submissions=",
                     "-o", "listen_pop3=", "-o", "listen_pop3s=",
                     "-o", "listen_imap=", "-o", "listen_imaps="], timeout=20)
    assert p.returncode != 0
    assert b"another postino serve is using" in p.stderr, p.stderr
    assert marker.exists(), "the second server scanned the queue"
    assert s.running()
