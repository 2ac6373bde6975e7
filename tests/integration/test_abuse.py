"""test_abuse - limits against floods and bots (issue 6, "Abuse limits").

Per client IP: connections a minute (421 4.7.0 at connect), messages and
recipients a minute (450 4.7.1); authenticated users have their own
message and recipient limits, counted by user name; rate_limit_exempt
networks are not counted. greet_pause: a client that talks before the
port-25 greeting gets 554 and is dropped; the submission ports never wait.
Caps on the header section (header_size_limit, header_count_limit, 552
5.3.4) and on errors per session (smtp_max_errors, then 421).

Every client here is on loopback, which rate_limit_exempt covers by
default: the tests set it to "" (or to another network) to be counted.
"""

import smtplib
import socket
import time

import pytest

from conftest import (HOST, Raw, dot_stuff, make_message, parse_delivered, send_mail, to_lf)
from tlsutil import ssl_client, start_tls_server

SENDER = "sender@client.example.test"


def transaction(c, rcpts=("alice@example.test",), msg=None):
    """One MAIL/RCPT/DATA on a Raw client; returns the first reply that is
    not a success, or the final reply."""
    r = c.cmd("MAIL FROM:<%s>" % SENDER)
    if r.code != 250:
        return r
    for rc in rcpts:
        r = c.cmd("RCPT TO:<%s>" % rc)
        if r.code != 250:
            return r
    r = c.cmd("DATA")
    if r.code != 354:
        return r
    c.send(dot_stuff(msg or make_message()))
    return c.reply()


# --------------------------------------------------------------------------
# Connections a minute


def test_connection_rate_limit_421_then_log(start_server):
    s = start_server(conf={"rate_limit_exempt": "", "max_connection_rate": "3"})
    for _ in range(3):
        with Raw(s) as c:
            assert c.greeting.code == 220
            c.expect("QUIT", 221)
    with Raw(s) as c:
        assert c.greeting.code == 421, c.greeting
        assert c.greeting.enhanced() == "4.7.0"
        assert "too many connections" in c.greeting.text
        assert c.is_closed()
    s.wait_log(r"connection from unknown\[127\.0\.0\.1\] refused: more than 3 connections "
               r"a minute \(max_connection_rate\)")
    # another address has its own count
    with Raw(s, source="127.0.0.2") as c:
        assert c.greeting.code == 220


def test_connection_rate_exempt_network_not_counted(start_server):
    s = start_server(conf={"rate_limit_exempt": "127.0.0.1", "max_connection_rate": "1"})
    for _ in range(5):
        with Raw(s) as c:
            assert c.greeting.code == 220
    with Raw(s, source="127.0.0.3") as c:
        assert c.greeting.code == 220
    with Raw(s, source="127.0.0.3") as c:
        assert c.greeting.code == 421


# --------------------------------------------------------------------------
# Messages and recipients a minute


def test_message_rate_limit_450_and_mail_still_flows_for_others(start_server):
    s = start_server(conf={"rate_limit_exempt": "", "max_message_rate": "2"})
    with Raw(s) as c:
        c.ehlo()
        for i in range(2):
            assert transaction(c, msg=make_message(subject="ok %d" % i)).code == 250
        r = c.cmd("MAIL FROM:<%s>" % SENDER)
        assert r.code == 450 and r.enhanced() == "4.7.1", r
        assert "too many messages from [127.0.0.1]" in r.text
        # the session stays usable
        c.expect("NOOP", 250)
        c.expect("QUIT", 221)
    s.wait_log(r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: 450 4\.7\.1 Error: too "
               r"many messages")
    with Raw(s, source="127.0.0.4") as c:
        c.ehlo()
        assert transaction(c).code == 250
    assert len(s.wait_messages("alice@example.test", 3)) == 3


def test_recipient_rate_limit_counts_every_rcpt(start_server):
    s = start_server(conf={"rate_limit_exempt": "", "max_recipient_rate": "3"})
    with Raw(s) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<nobody@example.test>", 550)     # refused ones count too
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("RCPT TO:<bob@example.test>", 250)
        r = c.cmd("RCPT TO:<carol@example.test>")
        assert r.code == 450 and r.enhanced() == "4.7.1", r
        assert "too many recipients" in r.text
        c.expect("DATA", 354)
        c.send(dot_stuff(make_message()))
        assert c.reply().code == 250
    s.wait_messages("alice@example.test", 1)
    s.wait_messages("bob@example.test", 1)
    assert s.messages("carol@example.test") == []
    s.wait_log(r"NOQUEUE: reject: RCPT from unknown\[127\.0\.0\.1\]: 450 4\.7\.1")


def test_authenticated_users_have_their_own_limits(start_server):
    s = start_tls_server(start_server, conf={
        "rate_limit_exempt": "", "max_message_rate": "1",
        "auth_max_message_rate": "3", "auth_failure_delay": "0s"})
    from conftest import PASSWORD
    c = ssl_client(s)
    c.login("alice@example.test", PASSWORD)
    for i in range(3):   # above the per-IP limit of 1: counted as the user
        c.sendmail("alice@example.test", ["bob@example.test"],
                   make_message(subject="user %d" % i, frm="alice@example.test"))
    with pytest.raises(smtplib.SMTPSenderRefused) as e:
        c.sendmail("alice@example.test", ["bob@example.test"], make_message())
    assert e.value.smtp_code == 450
    assert b"too many messages from user alice@example.test" in e.value.smtp_error
    c.quit()
    # the per-IP count of 127.0.0.1 was not used up by alice
    with Raw(s) as r:
        r.ehlo()
        assert transaction(r).code == 250
        assert transaction(r).code == 450


# --------------------------------------------------------------------------
# greet_pause


def test_client_talking_before_the_greeting_is_dropped(start_server):
    s = start_server(conf={"greet_pause": "1s"})
    with Raw(s, greet=False) as c:
        c.send(b"EHLO bot.example\r\n")
        replies = c.read_until_closed()
        assert [r.code for r in replies] == [554], replies
        assert replies[0].enhanced() == "5.5.1"
        assert "before the greeting" in replies[0].text
    s.wait_log(r"NOQUEUE: reject: CONNECT from unknown\[127\.0\.0\.1\]: 554 5\.5\.1 talked "
               r"before the greeting: EHLO bot\.example")
    assert s.messages("alice@example.test") == []


def test_patient_client_is_greeted_after_the_pause(start_server):
    s = start_server(conf={"greet_pause": "1s"})
    with Raw(s, greet=False) as c:
        assert c.nothing_within(0.4), "greeted before greet_pause"
        g = c.reply()
        assert g.code == 220
        c.ehlo()
        assert transaction(c).code == 250


def test_submission_ports_do_not_pause(start_server):
    s = start_tls_server(start_server, conf={"greet_pause": "10s"})
    with Raw(HOST, s.sub_port, greet=False) as c:
        # pipelining EHLO right away is not punished on 587
        c.send(b"EHLO client.example\r\n")
        assert c.reply().code == 220
        assert c.reply().code == 250
    c = ssl_client(s)          # 465: greeted at once after the handshake
    assert c.noop()[0] == 250
    c.quit()


# --------------------------------------------------------------------------
# Header caps, errors per session


def test_header_count_limit(start_server):
    s = start_server(conf={"header_count_limit": "10"})
    extra = ["X-Extra-%d: %d" % (i, i) for i in range(5)]      # 5 standard fields + 5
    ok = make_message(subject="ten fields", extra_headers=extra)
    too = make_message(subject="eleven fields", extra_headers=extra + ["X-One-More: 1"])
    with Raw(s) as c:
        c.ehlo()
        r = transaction(c, msg=too)
        assert r.code == 552 and r.enhanced() == "5.3.4", r
        assert "header" in r.text.lower()
        assert transaction(c, msg=ok).code == 250
    [got] = s.wait_messages("alice@example.test", 1)
    assert parse_delivered(got).rest == to_lf(ok)
    s.wait_log(r"NOQUEUE: reject: DATA from unknown\[127\.0\.0\.1\]: 552 5\.3\.4 Too many "
               r"header fields")


def test_header_size_limit(start_server):
    s = start_server(conf={"header_size_limit": "2k"})
    big = make_message(extra_headers=["X-Big: " + "y" * 900, "X-Big2: " + "z" * 900,
                                      "X-Big3: " + "w" * 900])
    # the same amount of text in the body is fine
    body_heavy = make_message(body=("y" * 900 + "\r\n") * 3)
    with Raw(s) as c:
        c.ehlo()
        r = transaction(c, msg=big)
        assert (r.code, r.enhanced()) == (552, "5.3.4"), r
        assert "header too large" in r.text
        assert transaction(c, msg=body_heavy).code == 250


def test_too_many_errors_closes_with_421(start_server):
    s = start_server(conf={"smtp_max_errors": "3"})
    with Raw(s) as c:
        c.expect("FOO", 500)
        c.expect("MAIL FROM:<x@y>", 503)
        c.expect("BAR", 500)
        r = c.cmd("NOOP")
        assert r.code == 421 and "too many errors" in r.text, r
        assert c.is_closed()
    s.wait_log(r"too many errors from unknown\[127\.0\.0\.1\]")


# --------------------------------------------------------------------------
# Stress: idle connections cannot hold every slot


def test_stress_mode_shortens_idle_timeout(start_server):
    s = start_server(conf={"max_connections": "8", "max_connections_per_ip": "8",
                           "smtp_timeout": "5m", "smtp_stress_timeout": "1s"})
    idle = [Raw(s) for _ in range(5)]           # 5 of 8: not yet under stress
    assert not idle[0].is_closed(timeout=1.5), "idle session dropped without stress"
    idle.append(Raw(s))                         # 6 of 8: stress
    s.wait_log(r"warning: stress: 6 of 8 connections in use; idle timeout now 1s")
    for c in idle:
        replies = c.read_until_closed(timeout=10)
        assert [r.code for r in replies] == [421], replies
        assert "timeout" in replies[0].text
        c.close()
    s.wait_log(r"stress over: \d of 8 connections in use")
    # and mail flows
    send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
