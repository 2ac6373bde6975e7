"""test_auth - SMTP AUTH (RFC 4954), issue 3 "SMTP AUTH".

PLAIN and LOGIN against the users of `postino user`, offered and accepted
only inside TLS (auth_plaintext_loopback allows it in the clear from
loopback); 535 5.7.8 after auth_failure_delay; one log line per failure
(for fail2ban), never a password; the block of an address after
auth_max_failures failures (421) for auth_block_time; `postino user passwd`
and `user del` seen by the running server; AUTH= on MAIL accepted and
ignored.

Clients: smtplib (login/auth over starttls() and SMTP_SSL), swaks
(--tls/--tlsc with --auth PLAIN/LOGIN) and conftest.Raw over ssl sockets
for the exact dialog.
"""

import re
import smtplib
import ssl
import subprocess
import time

import pytest

from conftest import (CLIENT_NAME, HOST, HOSTNAME, PASSWORD, Closed, make_message,
                      parse_delivered)
from tlsutil import (Raw, b64, cert_path, ehlo_keywords, plain_b64, port_of, raw_starttls,
                     raw_tls, ssl_client, start_tls_server, starttls_client, verifying_context)

ALICE = "alice@example.test"
BOB = "bob@example.test"
WRONG = "Hunter2-Wr0ng!pw"
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\dT\S+ postino\[\d+\]: ")


def auth_server(start_server, **conf):
    """A server on all three ports; AUTH failures answered at once unless
    the test sets auth_failure_delay."""
    c = {"auth_failure_delay": "0s"}
    c.update(conf)
    return start_tls_server(start_server, conf=c)


@pytest.fixture
def srv(start_server):
    return auth_server(start_server)


def tls_session(s, which="submissions", source=None):
    """A conftest.Raw inside TLS on the given port, EHLO done."""
    ctx = verifying_context(cert_path(s))
    if which == "submissions":
        c = raw_tls(HOST, s.subs_port, ctx, source=source)
    else:
        c = Raw(HOST, port_of(s, which), source=source)
        c.ehlo()
        raw_starttls(c, ctx)
    c.ehlo()
    return c


def try_auth(s, user, password, mech="PLAIN", source=None):
    """try_auth - the reply code of one AUTH over SMTP_SSL with smtplib."""
    c = ssl_client(s, source=source)
    try:
        c.user, c.password = user, password
        try:
            code, _ = c.auth(mech, getattr(c, "auth_" + mech.lower()))
        except smtplib.SMTPAuthenticationError as e:
            code = e.smtp_code
        return code
    finally:
        try:
            c.quit()
        except smtplib.SMTPServerDisconnected:
            pass


def failure_lines(s, ip="127.0.0.1", mech=r"\S+"):
    return re.findall(r"warning: unknown\[%s\]: SASL %s authentication failed: user=<(.*)>$"
                      % (re.escape(ip), mech), s.log(), re.M)


def assert_no_password_in_log(s, *passwords):
    log = s.log()
    for p in passwords:
        assert p not in log, "password %r in the log" % p
        assert b64(p) not in log, "base64 of a password in the log"
    for user in (ALICE, BOB, "erin@example.test"):
        for p in passwords:
            assert plain_b64(user, p) not in log, "AUTH PLAIN response in the log"


# --------------------------------------------------------------------------
# Offered only inside TLS


@pytest.mark.parametrize("which", ["smtp", "submission"])
def test_auth_not_offered_or_accepted_before_starttls(srv, which):
    with Raw(HOST, port_of(srv, which)) as c:
        keys = ehlo_keywords(c.ehlo())
        assert "STARTTLS" in keys, keys
        assert "AUTH" not in keys, "AUTH offered in the clear: %s" % keys
        for line in ("AUTH PLAIN " + plain_b64(ALICE), "AUTH LOGIN", "AUTH PLAIN"):
            r = c.cmd(line)
            assert r.code == 538 and r.enhanced() == "5.7.11", "%s in the clear: %s" % (line.split()[1], r)
        if which == "submission":
            r = c.cmd("MAIL FROM:<%s>" % ALICE)
            assert r.code == 530 and r.enhanced() == "5.7.0", r
        c.expect("QUIT", 221)
    assert "sasl_username" not in srv.log()
    # smtplib, a real client, sees no AUTH and does not try
    with smtplib.SMTP(HOST, port_of(srv, which), local_hostname=CLIENT_NAME, timeout=15) as c:
        with pytest.raises(smtplib.SMTPNotSupportedError):
            c.login(ALICE, PASSWORD)


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize("which", ["submission", "submissions", "smtp"])
def test_smtplib_auth_inside_tls(srv, which, mech):
    if which == "submissions":
        c = ssl_client(srv)
    else:
        c = starttls_client(srv, port_of(srv, which))
    assert sorted(c.esmtp_features["auth"].split()) == ["LOGIN", "PLAIN"], c.esmtp_features
    c.user, c.password = ALICE, PASSWORD
    code, msg = c.auth(mech, getattr(c, "auth_" + mech.lower()))
    assert (code, msg) == (235, b"2.7.0 Authentication successful")
    srv.wait_log(r"unknown\[127\.0\.0\.1\]: sasl_method=%s, sasl_username=%s$" % (mech, re.escape(ALICE)))
    c.sendmail(ALICE, [BOB], make_message(subject="auth %s %s" % (which, mech), frm=ALICE, to=BOB))
    assert c.quit()[0] == 221
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert " with ESMTPSA id " in d.received and "(using TLSv1." in d.received, d.received
    assert d.return_path == "Return-Path: <%s>" % ALICE
    assert_no_password_in_log(srv, PASSWORD)


# --------------------------------------------------------------------------
# The dialog


def test_plain_with_and_without_initial_response(srv):
    with tls_session(srv) as c:
        r = c.cmd("AUTH PLAIN")
        assert r.lines == ["334 "], r           # an empty challenge
        r = c.cmd(plain_b64(ALICE))
        assert r.code == 235 and r.text == "2.7.0 Authentication successful", r
    with tls_session(srv, "submission") as c:
        r = c.cmd("auth plain " + plain_b64("Alice@Example.TEST"))    # any case
        assert r.code == 235, r
    with tls_session(srv, "smtp") as c:
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE, authzid=ALICE))   # authzid = authcid
        assert r.code == 235, r
    lines = re.findall(r"sasl_method=PLAIN, sasl_username=(\S+)$", srv.log(), re.M)
    assert lines == [ALICE] * 3, lines


def test_login_with_and_without_initial_response(srv):
    with tls_session(srv) as c:
        r = c.cmd("AUTH LOGIN")
        assert r.lines == ["334 VXNlcm5hbWU6"], r
        r = c.cmd(b64(ALICE))
        assert r.lines == ["334 UGFzc3dvcmQ6"], r
        r = c.cmd(b64(PASSWORD))
        assert r.code == 235 and r.enhanced() == "2.7.0", r
    with tls_session(srv) as c:
        r = c.cmd("AUTH LOGIN " + b64(ALICE))
        assert r.lines == ["334 UGFzc3dvcmQ6"], r
        r = c.cmd(b64(PASSWORD))
        assert r.code == 235, r
    srv.wait_log(r"sasl_method=LOGIN, sasl_username=alice@example\.test$", count=2)


def test_authzid_of_another_user_refused(srv):
    with tls_session(srv) as c:
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE, authzid=BOB))
        assert r.code == 535 and r.enhanced() == "5.7.8", r
        r = c.cmd("MAIL FROM:<%s>" % BOB)
        assert r.code == 530, r


@pytest.mark.parametrize("steps", [
    ["AUTH PLAIN", "*"],
    ["AUTH LOGIN", "*"],
    ["AUTH LOGIN", b64(ALICE), "*"],
], ids=["plain", "login-user", "login-password"])
def test_star_cancels(srv, steps):
    with tls_session(srv) as c:
        for line in steps[:-1]:
            assert c.cmd(line).code == 334
        r = c.cmd(steps[-1])
        assert r.code == 501, r
        # not authenticated, and AUTH may start again
        assert c.cmd("MAIL FROM:<%s>" % ALICE).code == 530
        assert c.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235
    assert not failure_lines(srv), "a cancelled exchange counted as a failure"


@pytest.mark.parametrize("steps", [
    ["AUTH PLAIN !!!notbase64!!!"],
    ["AUTH PLAIN", "%%%%"],
    ["AUTH PLAIN " + b64("no nul octets at all")],
    ["AUTH LOGIN", "!!!"],
    ["AUTH LOGIN", b64(ALICE), "@@@@"],
], ids=["plain-ir", "plain-response", "plain-no-nul", "login-user", "login-password"])
def test_bad_base64_501(srv, steps):
    with tls_session(srv) as c:
        for line in steps[:-1]:
            assert c.cmd(line).code == 334
        r = c.cmd(steps[-1])
        assert r.code == 501 and r.enhanced() == "5.5.2", r
        c.expect("NOOP", 250)
        assert c.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235


def test_auth_command_errors(srv):
    with tls_session(srv) as c:
        r = c.cmd("AUTH CRAM-MD5")
        assert r.code == 504 and r.enhanced() == "5.5.4", r
        r = c.cmd("AUTH")
        assert r.code // 100 == 5, r
        assert c.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE))
        assert r.code == 503 and r.enhanced() == "5.5.1", "second AUTH: %s" % r
        r = c.cmd("AUTH LOGIN")
        assert r.code == 503, r
    # before EHLO (inside TLS), after HELO
    ctx = verifying_context(cert_path(srv))
    with raw_tls(HOST, srv.subs_port, ctx) as c:
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE))
        assert r.code == 503, "AUTH before EHLO: %s" % r
        c.expect("HELO " + CLIENT_NAME, 250)
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE))
        assert r.code == 503, "AUTH after HELO: %s" % r
    # in a transaction (port 25, where MAIL needs no AUTH)
    with tls_session(srv, "smtp") as c:
        c.expect("MAIL FROM:<sender@client.example.test>", 250)
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE))
        assert r.code == 503, "AUTH inside a transaction: %s" % r
    assert "sasl_username" in srv.log()


# --------------------------------------------------------------------------
# Failures


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
def test_wrong_password_535_and_one_log_line(srv, mech):
    with tls_session(srv) as c:
        if mech == "PLAIN":
            r = c.cmd("AUTH PLAIN " + plain_b64(ALICE, WRONG))
        else:
            assert c.cmd("AUTH LOGIN").code == 334
            assert c.cmd(b64(ALICE)).code == 334
            r = c.cmd(b64(WRONG))
        assert r.code == 535 and r.enhanced() == "5.7.8", r
        r = c.cmd("MAIL FROM:<%s>" % ALICE)
        assert r.code == 530 and r.enhanced() == "5.7.0", "MAIL after a failed AUTH: %s" % r
        # a second try in the same session may succeed
        assert c.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235
    srv.wait_log(r"sasl_username=alice@example\.test$")
    assert failure_lines(srv, mech=mech) == [ALICE]
    assert len(failure_lines(srv)) == 1
    assert_no_password_in_log(srv, WRONG, PASSWORD)


def test_unknown_user_535_like_a_wrong_password(srv):
    with tls_session(srv) as c:
        r = c.cmd("AUTH PLAIN " + plain_b64("nobody@example.test", PASSWORD))
        assert r.code == 535 and r.enhanced() == "5.7.8", r
        r2 = c.cmd("AUTH PLAIN " + plain_b64(ALICE, WRONG))
        assert r2.lines == r.lines, "unknown user and wrong password answered differently"
    assert failure_lines(srv) == ["nobody@example.test", ALICE]


def test_failure_answer_is_delayed_without_blocking_others(start_server):
    s = auth_server(start_server, auth_failure_delay="1s")
    with tls_session(s) as slow, tls_session(s, "submission") as other:
        t0 = time.monotonic()
        slow.send("AUTH PLAIN %s\r\n" % plain_b64(ALICE, WRONG))
        # meanwhile another client is served at once, its AUTH too
        other.expect("NOOP", 250)
        assert other.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235
        assert time.monotonic() - t0 < 0.9, "other clients wait for a failure's delay"
        r = slow.reply()
        took = time.monotonic() - t0
        assert r.code == 535 and r.enhanced() == "5.7.8", r
        assert 0.9 <= took <= 3.0, "535 after %.2f s, want about 1 s" % took
        # a success is not delayed
        t0 = time.monotonic()
        assert slow.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235
        assert time.monotonic() - t0 < 0.9


def test_hangup_during_failure_delay(start_server):
    s = auth_server(start_server, auth_failure_delay="1s")
    c = tls_session(s)
    c.send("AUTH PLAIN %s\r\n" % plain_b64(ALICE, WRONG))
    c.close()
    s.wait_log(r"SASL PLAIN authentication failed: user=<alice@example\.test>")
    time.sleep(1.3)             # the delay runs out with nobody there
    assert s.running()
    assert try_auth(s, ALICE, PASSWORD) == 235


def test_failure_log_line_cannot_be_forged(srv):
    """A user name with CR LF must not start a line of its own in the log
    (fail2ban would ban the address named in it)."""
    evil = "x\r\nwarning: unknown[192.0.2.9]: SASL PLAIN authentication failed: user=<y>"
    with tls_session(srv) as c:
        assert c.cmd("AUTH LOGIN").code == 334
        assert c.cmd(b64(evil)).code == 334
        r = c.cmd(b64(WRONG))
        assert r.code == 535, r
        r = c.cmd("AUTH PLAIN " + plain_b64(evil, WRONG))
        assert r.code == 535, r
    srv.wait_log(r"SASL PLAIN authentication failed")
    for line in srv.log().splitlines():
        if line.startswith("=== postino serve started"):
            continue
        assert LOG_PREFIX.match(line), "a log line without the prefix: %r" % line
        assert not re.match(LOG_PREFIX.pattern + r"warning: unknown\[192\.0\.2\.9\]", line), line
    assert len(failure_lines(srv, ip="127.0.0.1")) == 2


# --------------------------------------------------------------------------
# Blocking an address


def test_block_after_repeated_failures(start_server):
    s = auth_server(start_server, auth_max_failures="3", auth_failure_delay="0s",
                    auth_block_time="60s")
    bystander = tls_session(s)          # same address, opened before the block
    with tls_session(s) as c:           # failures 1 and 2
        for i in range(2):
            r = c.cmd("AUTH PLAIN " + plain_b64(ALICE, "%s-%d" % (WRONG, i)))
            assert r.code == 535 and r.enhanced() == "5.7.8", r
        c.expect("QUIT", 221)
    with tls_session(s, "submission") as c:     # failure 3, on another connection and port
        assert c.cmd("AUTH LOGIN").code == 334
        assert c.cmd(b64(ALICE)).code == 334
        r = c.cmd(b64(WRONG))
        assert r.code == 421 and r.enhanced() == "4.7.0", "third failure: %s" % r
        assert "too many failed authentications" in r.text, r
        assert c.is_closed(timeout=5), "not disconnected after the 421"
    s.wait_log(r"warning: unknown\[127\.0\.0\.1\]: blocked for 60s after 3 failed authentications")
    assert len(failure_lines(s)) == 3

    # new connections from the address: 421 at once
    for port in (s.port, s.sub_port):
        with Raw(HOST, port, greet=False) as c:
            r = c.reply()
            assert r.code == 421 and r.enhanced() == "4.7.0", r
            assert "too many failed authentications" in r.text, r
            assert c.is_closed(timeout=5)
    # on the implicit-TLS port no session either
    try:
        c = raw_tls(HOST, s.subs_port, verifying_context(cert_path(s)))
    except (ssl.SSLError, OSError, Closed):
        pass
    else:
        with c:
            assert c.greeting.code == 421, c.greeting
    s.wait_log(r"connection from unknown\[127\.0\.0\.1\] refused: blocked for \d+ more seconds")

    # a session opened before: even the right password gets 421 now
    r = bystander.cmd("AUTH PLAIN " + plain_b64(ALICE))
    assert r.code == 421 and r.enhanced() == "4.7.0", r
    assert bystander.is_closed(timeout=5)
    bystander.close()
    assert "sasl_username" not in s.log()

    # another address is not blocked
    assert try_auth(s, ALICE, PASSWORD, source="127.0.0.2") == 235
    s.wait_log(r"unknown\[127\.0\.0\.2\]: sasl_method=PLAIN, sasl_username=alice@example\.test")
    assert_no_password_in_log(s, WRONG, PASSWORD)


def test_block_ends_after_block_time(start_server):
    s = auth_server(start_server, auth_max_failures="2", auth_failure_delay="0s",
                    auth_block_time="2s")
    with tls_session(s) as c:
        assert c.cmd("AUTH PLAIN " + plain_b64(ALICE, WRONG)).code == 535
        r = c.cmd("AUTH PLAIN " + plain_b64(ALICE, WRONG))
        assert r.code == 421, r
        blocked_at = time.monotonic()
    with Raw(HOST, s.port, greet=False) as c:
        assert c.reply().code == 421
    time.sleep(max(0, blocked_at + 2.3 - time.monotonic()))
    with Raw(HOST, s.port) as c:
        assert c.greeting.code == 220, c.greeting
    assert try_auth(s, ALICE, PASSWORD) == 235


# --------------------------------------------------------------------------
# Users changed on the running server


def test_user_add_passwd_del_take_effect_on_running_server(srv):
    erin = "erin@example.test"
    assert try_auth(srv, erin, "first-pass") == 535
    p = srv.cli("user", "add", erin, input=b"first-pass\n")
    assert p.returncode == 0, p.stderr
    assert try_auth(srv, erin, "first-pass") == 235
    assert try_auth(srv, erin, "first-pass", mech="LOGIN") == 235

    p = srv.cli("user", "passwd", erin, input=b"second-pass\n")
    assert p.returncode == 0, p.stderr
    assert try_auth(srv, erin, "first-pass") == 535, "the old password still works after passwd"
    assert try_auth(srv, erin, "second-pass") == 235, "the new password does not work"
    assert try_auth(srv, ALICE, PASSWORD) == 235        # the others are untouched

    # the new user sends as itself
    c = ssl_client(srv)
    c.login(erin, "second-pass")
    c.sendmail(erin, [BOB], make_message(subject="from erin", frm=erin, to=BOB))
    assert c.quit()[0] == 221
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert d.return_path == "Return-Path: <%s>" % erin

    p = srv.cli("user", "del", erin)
    assert p.returncode == 0, p.stderr
    assert try_auth(srv, erin, "second-pass") == 535, "a deleted user can still log in"
    assert try_auth(srv, ALICE, PASSWORD) == 235
    assert_no_password_in_log(srv, "first-pass", "second-pass")


# --------------------------------------------------------------------------
# Plaintext AUTH on loopback, AUTH= on MAIL


def test_plaintext_auth_on_loopback_when_allowed(start_server):
    s = auth_server(start_server, auth_plaintext_loopback="yes")
    with smtplib.SMTP(HOST, s.sub_port, local_hostname=CLIENT_NAME, timeout=15) as c:
        c.ehlo()
        assert c.has_extn("starttls")
        assert sorted(c.esmtp_features["auth"].split()) == ["LOGIN", "PLAIN"], c.esmtp_features
        assert c.login(ALICE, PASSWORD) == (235, b"2.7.0 Authentication successful")
        c.sendmail(ALICE, [BOB], make_message(subject="plaintext auth", frm=ALICE, to=BOB))
    d = parse_delivered(s.wait_messages(BOB, 1)[0])
    assert " with ESMTPA id " in d.received and "using" not in d.received, d.received


def test_auth_parameter_on_mail_accepted_and_ignored(srv):
    with tls_session(srv) as c:
        assert c.cmd("AUTH PLAIN " + plain_b64(ALICE)).code == 235
        for param in ("AUTH=<>", "AUTH=alice@example.test", "AUTH=bob+2Bx@example.test"):
            c.expect("MAIL FROM:<%s> %s" % (ALICE, param), 250)
            c.expect("RSET", 250)
        c.expect("MAIL FROM:<%s> AUTH=<>" % ALICE, 250)
        c.expect("RCPT TO:<%s>" % BOB, 250)
        c.expect("DATA", 354)
        c.send(make_message(subject="auth param", frm=ALICE, to=BOB) + b".\r\n")
        assert c.reply().code == 250
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert d.return_path == "Return-Path: <%s>" % ALICE
    # on port 25 without authentication: accepted, and it authenticates nothing
    with Raw(HOST, srv.port) as c:
        c.ehlo()
        c.expect("MAIL FROM:<sender@client.example.test> AUTH=alice@example.test", 250)
        r = c.cmd("RCPT TO:<someone@remote.test>")
        assert r.code == 554 and r.enhanced() == "5.7.1", r


# --------------------------------------------------------------------------
# swaks


@pytest.mark.parametrize("mech", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize("mode", ["--tls", "--tlsc"])
def test_swaks_auth(srv, mode, mech):
    port = srv.sub_port if mode == "--tls" else srv.subs_port
    argv = ["swaks", "--server", HOST, "--port", str(port), mode, "--auth", mech,
            "--auth-user", ALICE, "--auth-password", PASSWORD, "--from", ALICE, "--to", BOB,
            "--helo", CLIENT_NAME, "--header", "Subject: swaks %s %s" % (mode, mech),
            "--timeout", "15"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    assert 'TLS peer DN="/CN=%s"' % HOSTNAME in out, out
    assert "<~  235 2.7.0" in out and "<~  250 2.0.0 Ok: queued as" in out, out
    assert "<~  221 2.0.0" in out, "no 221 to QUIT:\n" + out
    srv.wait_log(r"sasl_method=%s, sasl_username=alice@example\.test" % mech)
    msg = srv.wait_messages(BOB, 1)[0]
    assert b"Subject: swaks %s %s" % (mode.encode(), mech.encode()) in msg
    assert b" with ESMTPSA id " in msg


def test_swaks_wrong_password(srv):
    argv = ["swaks", "--server", HOST, "--port", str(srv.sub_port), "--tls", "--auth", "PLAIN",
            "--auth-user", ALICE, "--auth-password", WRONG, "--from", ALICE, "--to", BOB,
            "--helo", CLIENT_NAME, "--timeout", "15"]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 28, "swaks exit %d (28: authentication failed):\n%s" % (p.returncode, out)
    assert "<~* 535 5.7.8" in out or "<** 535 5.7.8" in out or "535 5.7.8" in out, out
    assert srv.count(BOB) == 0
    assert failure_lines(srv) == [ALICE]
