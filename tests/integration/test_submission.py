"""test_submission - the submission ports and their policy (issue 3, "Ports and policy").

listen_submission (587, STARTTLS) and listen_submissions (465, implicit
TLS): MAIL before AUTH gets 530 5.7.0; the envelope sender must be the
user's own address (any case, +tag) or an address the aliases file
delivers to the user, else 553 5.7.1 (the null sender too); an
authenticated user may send to any domain, the messages to other domains
wait in <data_dir>/queue/msg/ while the local recipients get theirs; port
25 never relays without authentication but takes AUTH after STARTTLS;
Date: and Message-ID: added to authenticated messages that lack them
(RFC 6409 8.3); the Received: protocol word (RFC 3848).

Clients: smtplib (SMTP_SSL, starttls()), curl (smtp:// --ssl-reqd and
smtps:// with --user, verifying the certificate by name), swaks, and
conftest.Raw over ssl sockets.
"""

import email.utils
import os
import re
import smtplib
import subprocess
import time

import pytest

from conftest import (CLIENT_NAME, HOST, HOSTNAME, PASSWORD, dot_stuff, is_listening,
                      make_message, parse_delivered, queue_id, to_lf, wait_for)
from tlsutil import (Raw, cert_path, plain_b64, port_of, raw_starttls, raw_tls,
                     ssl_client, start_tls_server, starttls_client, verifying_context)

ALICE = "alice@example.test"
BOB = "bob@example.test"
CAROL = "carol@example.test"
REMOTE = "someone@remote.test"

ALIASES = """# aliases for the sender policy
sales@example.test: alice, bob@example.test
team@example.test: sales, carol
info@other.test: alice@example.test
"""


@pytest.fixture
def srv(start_server):
    # Mail for other domains goes to a smarthost that refuses connections:
    # it stays queued (deferred), which is what these tests look at; the
    # delivery itself is tested in test_relay_*.py.
    from conftest import free_port
    return start_tls_server(start_server, aliases=ALIASES,
                            conf={"auth_failure_delay": "0s", "auth_max_failures": "1000",
                                  "relay_host": "[127.0.0.1]:%d" % free_port(),
                                  "smtp_connect_timeout": "2s"})


def authed(s, which="submissions", user=ALICE, password=PASSWORD):
    """A conftest.Raw inside TLS on the given port, EHLO and AUTH PLAIN done."""
    ctx = verifying_context(cert_path(s))
    if which == "submissions":
        c = raw_tls(HOST, s.subs_port, ctx)
    else:
        c = Raw(HOST, port_of(s, which))
        c.ehlo()
        raw_starttls(c, ctx)
    c.ehlo()
    r = c.cmd("AUTH PLAIN " + plain_b64(user, password))
    assert r.code == 235, r
    return c


def transaction(c, sender, rcpts, data):
    """transaction - MAIL, RCPTs, DATA on a Raw; every step must succeed; the queue id."""
    c.expect("MAIL FROM:<%s>" % sender, 250)
    for r in rcpts:
        c.expect("RCPT TO:<%s>" % r, 250)
    c.expect("DATA", 354)
    c.send(dot_stuff(data))
    r = c.reply()
    assert r.code == 250, "end of data: %s" % r
    return queue_id(r.text)


def queue_file(s, qid):
    return s.data_dir / "queue" / "msg" / qid


# --------------------------------------------------------------------------
# MAIL before AUTH


@pytest.mark.parametrize("how", ["submission-plain", "submission-starttls", "submissions"])
def test_mail_before_auth_530(srv, how):
    ctx = verifying_context(cert_path(srv))
    if how == "submissions":
        c = raw_tls(HOST, srv.subs_port, ctx)
    else:
        c = Raw(HOST, srv.sub_port)
        if how == "submission-starttls":
            c.ehlo()
            raw_starttls(c, ctx)
    with c:
        c.ehlo()
        for sender in (ALICE, "sender@client.example.test", ""):
            r = c.cmd("MAIL FROM:<%s>" % sender)
            assert r.code == 530 and r.enhanced() == "5.7.0", "MAIL FROM:<%s> before AUTH: %s" % (sender, r)
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 503
        assert c.cmd("DATA").code == 503
        c.expect("NOOP", 250)
    assert srv.count() == 0


def test_port_25_takes_mail_without_auth_but_never_relays(srv):
    """MX: local recipients without AUTH; other domains 554 5.7.1, in the
    clear and after STARTTLS alike."""
    ctx = verifying_context(cert_path(srv))
    for tls in (False, True):
        with Raw(HOST, srv.port) as c:
            c.ehlo()
            if tls:
                raw_starttls(c, ctx)
                c.ehlo()
            c.expect("MAIL FROM:<sender@client.example.test>", 250)
            r = c.cmd("RCPT TO:<%s>" % REMOTE)
            assert r.code == 554 and r.enhanced() == "5.7.1", "relay without AUTH (tls=%s): %s" % (tls, r)
            c.expect("RCPT TO:<%s>" % BOB, 250)
            c.expect("DATA", 354)
            c.send(dot_stuff(make_message(subject="mx tls=%s" % tls, to=BOB)))
            assert c.reply().code == 250
    msgs = srv.wait_messages(BOB, 2)
    received = sorted(parse_delivered(m).received for m in msgs)
    assert any(" with ESMTP id " in r for r in received), received
    assert any(" with ESMTPS id " in r for r in received), received
    # nothing waits in the queue (its files go once the local copies are out)
    wait_for(lambda: not list((srv.data_dir / "queue" / "msg").iterdir()), timeout=5,
             what="an empty queue")


def test_auth_on_port_25_after_starttls_allows_relay(srv):
    """For clients configured with the wrong port."""
    with authed(srv, "smtp") as c:
        qid = transaction(c, ALICE, [REMOTE, BOB], make_message(subject="wrong port", frm=ALICE))
        c.expect("QUIT", 221)
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert " with ESMTPSA id %s" % qid in d.received, d.received
    assert queue_file(srv, qid).is_file()


# --------------------------------------------------------------------------
# Sender policy


ALLOWED_FOR_ALICE = [
    "alice@example.test", "ALICE@EXAMPLE.TEST", "Alice@Example.Test",
    "alice+news@example.test", "Alice+Tag@Example.TEST",
    "sales@example.test", "SALES@example.test",     # an alias list with alice in it
    "team@example.test",                            # an alias chain reaching alice
    "info@other.test",                              # an alias in the other domain
]
REFUSED_FOR_ALICE = [
    "", "bob@example.test", "BOB@example.test", "bob+alice@example.test", "carol@example.test",
    "dave@other.test", "alice@other.test", "alice@remote.test", "alice@sub.example.test",
    "postmaster@example.test", "nobody@example.test", "alice@example.test.remote.test",
]


@pytest.mark.parametrize("which", ["submissions", "submission", "smtp"])
def test_sender_policy(srv, which):
    bad = []
    with authed(srv, which) as c:
        for sender in ALLOWED_FOR_ALICE:
            r = c.cmd("MAIL FROM:<%s>" % sender)
            if r.code != 250:
                bad.append("MAIL FROM:<%s>: got %s, want 250" % (sender, r))
            c.expect("RSET", 250)
        for sender in REFUSED_FOR_ALICE:
            r = c.cmd("MAIL FROM:<%s>" % sender)
            if r.code != 553 or r.enhanced() != "5.7.1":
                bad.append("MAIL FROM:<%s>: got %s, want 553 5.7.1" % (sender, r))
            c.expect("RSET", 250)
        # still usable after the refusals
        transaction(c, "alice+news@example.test", [BOB], make_message(subject="policy " + which))
    assert not bad, "\n".join(bad)
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert d.return_path == "Return-Path: <alice+news@example.test>"
    srv.wait_log(r"NOQUEUE: reject: MAIL from unknown\[127\.0\.0\.1\]: 553 5\.7\.1 <bob@example\.test>: "
                 r"Sender address rejected: not owned by user alice@example\.test")


def test_sender_policy_for_user_logged_in_with_capitals(srv):
    """The user name is an address: ALICE@EXAMPLE.TEST is alice, aliases included."""
    with authed(srv, user="ALICE@EXAMPLE.TEST") as c:
        c.expect("MAIL FROM:<sales@example.test>", 250)
        c.expect("RSET", 250)
        c.expect("MAIL FROM:<alice@example.test>", 250)
        c.expect("RSET", 250)
        r = c.cmd("MAIL FROM:<bob@example.test>")
        assert r.code == 553 and r.enhanced() == "5.7.1", r
    # bob is in the sales list too; carol only in team
    with authed(srv, user=BOB) as c:
        c.expect("MAIL FROM:<sales@example.test>", 250)
        c.expect("RSET", 250)
        r = c.cmd("MAIL FROM:<info@other.test>")
        assert r.code == 553, r


def test_sending_as_another_user_refused_smtplib(srv):
    c = ssl_client(srv)
    c.login(ALICE, PASSWORD)
    with pytest.raises(smtplib.SMTPSenderRefused) as ei:
        c.sendmail(BOB, [CAROL], make_message(subject="forged", frm=BOB, to=CAROL))
    assert ei.value.smtp_code == 553 and ei.value.smtp_error.startswith(b"5.7.1"), ei.value
    with pytest.raises(smtplib.SMTPSenderRefused) as ei:
        c.sendmail("", [CAROL], make_message(subject="null sender", to=CAROL))
    assert ei.value.smtp_code == 553
    assert c.quit()[0] == 221
    srv.wait_marker(CAROL)           # nothing else arrives first
    assert srv.count(CAROL) == 1 and srv.count() == 1


# --------------------------------------------------------------------------
# Any domain; the queue


def test_authenticated_user_may_send_to_any_domain(srv):
    msg = make_message(subject="to everyone", frm=ALICE, to=BOB)
    rcpts = [BOB, REMOTE, "Other.Person@Far.Away.Test", CAROL, "x@[192.0.2.1]"]
    with authed(srv) as c:
        qid = transaction(c, ALICE, rcpts, msg)
        qid2 = transaction(c, ALICE, ["only@remote.test"], make_message(subject="only remote"))
    for r in (BOB, CAROL):
        assert parse_delivered(srv.wait_messages(r, 1)[0]).rest.endswith(to_lf(msg).split(b"\n\n", 1)[1])
    srv.wait_log(r"%s: to=<someone@remote\.test>, relay=\S+, delay=\d+, dsn=4\.\d\.\d, status=deferred "
                 r"\(.*connection refused" % qid)
    srv.wait_log(r"%s: to=<only@remote\.test>, relay=\S+.*status=deferred" % qid2)
    srv.wait_marker(CAROL)
    # the local copies are out; the message waits for the others
    for q in (qid, qid2):
        f = queue_file(srv, q)
        assert f.is_file(), "%s not in the queue: %s" % (q, list(f.parent.iterdir()))
    assert b"Subject: to everyone" in queue_file(srv, qid).read_bytes()
    assert b"Subject: only remote" in queue_file(srv, qid2).read_bytes()
    assert srv.count(BOB) == 1
    assert not (srv.data_dir / "mail" / "remote.test").exists()
    # still there after a restart, and the local recipients get nothing twice
    srv.restart()
    srv.wait_marker(CAROL)
    assert queue_file(srv, qid).is_file() and queue_file(srv, qid2).is_file()
    assert srv.count(BOB) == 1 and srv.count(CAROL) == 3     # the message and two markers


def test_unknown_local_recipient_still_refused_when_authenticated(srv):
    with authed(srv) as c:
        c.expect("MAIL FROM:<%s>" % ALICE, 250)
        r = c.cmd("RCPT TO:<nobody@example.test>")
        assert r.code == 550 and r.enhanced() == "5.1.1", r


# --------------------------------------------------------------------------
# Date: and Message-ID: (RFC 6409 8.3)


def _headers(rest):
    head = rest.split(b"\n\n", 1)[0]
    return [l for l in head.split(b"\n") if l and l[:1] not in (b" ", b"\t")]


def _send_authed(srv, data, bdat=False):
    with authed(srv) as c:
        if not bdat:
            return transaction(c, ALICE, [BOB], data)
        c.expect("MAIL FROM:<%s>" % ALICE, 250)
        c.expect("RCPT TO:<%s>" % BOB, 250)
        c.send(b"BDAT %d LAST\r\n" % len(data) + data)
        r = c.reply()
        assert r.code == 250, r
        return queue_id(r.text)


@pytest.mark.parametrize("bdat", [False, True], ids=["DATA", "BDAT"])
def test_date_and_message_id_added_when_missing(srv, bdat):
    data = b"From: <alice@example.test>\r\nTo: <bob@example.test>\r\nSubject: bare\r\n\r\nHello.\r\n"
    before = time.time()
    qid = _send_authed(srv, data, bdat=bdat)
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    heads = _headers(d.rest)
    dates = [h for h in heads if h.lower().startswith(b"date:")]
    ids = [h for h in heads if h.lower().startswith(b"message-id:")]
    assert len(dates) == 1 and len(ids) == 1, heads
    when = email.utils.parsedate_to_datetime(dates[0].split(b":", 1)[1].strip().decode())
    assert when.tzinfo is not None
    assert before - 5 <= when.timestamp() <= time.time() + 5, dates[0]
    m = re.match(rb"Message-ID: <([^@<>\s]+)@([^@<>\s]+)>$", ids[0])
    assert m and m.group(2) == HOSTNAME.encode(), ids[0]
    assert m.group(1) == qid.encode(), ids[0]
    # the message itself is untouched, the fields come before it
    assert d.rest.endswith(to_lf(data)), d.rest


@pytest.mark.parametrize("headers", [
    [b"Date: Mon, 1 Jan 2024 10:00:00 +0000", b"Message-ID: <given@client.example.test>"],
    [b"date: Mon, 1 Jan 2024 10:00:00 +0000", b"message-id: <given@client.example.test>"],
    [b"DATE: Mon, 1 Jan 2024 10:00:00 +0000", b"MESSAGE-ID: <given@client.example.test>"],
    [b"Message-Id: <given@client.example.test>", b"Date: Mon, 1 Jan 2024 10:00:00 +0000"],
], ids=["usual", "lower", "upper", "swaks-spelling"])
def test_date_and_message_id_kept_when_present(srv, headers):
    data = b"\r\n".join([b"From: <alice@example.test>", b"Subject: complete"] + headers) + b"\r\n\r\nHi.\r\n"
    _send_authed(srv, data)
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert d.rest == to_lf(data), "the message was changed:\n%r" % d.rest


def test_only_the_missing_field_is_added(srv):
    only_date = b"Subject: one\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nbody\r\n"
    only_id = b"Subject: two\r\nMessage-ID: <two@client.example.test>\r\n\r\nbody\r\n"
    _send_authed(srv, only_date)
    _send_authed(srv, only_id)
    got = {}
    for m in srv.wait_messages(BOB, 2):
        rest = parse_delivered(m).rest
        got[b"one" if b"Subject: one" in rest else b"two"] = rest
    h1, h2 = _headers(got[b"one"]), _headers(got[b"two"])
    assert [h for h in h1 if h.startswith(b"Date:")] == [b"Date: Mon, 1 Jan 2024 10:00:00 +0000"], h1
    assert len([h for h in h1 if h.lower().startswith(b"message-id:")]) == 1, h1
    assert [h for h in h2 if h.lower().startswith(b"message-id:")] == [b"Message-ID: <two@client.example.test>"], h2
    assert len([h for h in h2 if h.lower().startswith(b"date:")]) == 1, h2
    assert got[b"one"].endswith(to_lf(only_date)) and got[b"two"].endswith(to_lf(only_id))


def test_lookalike_fields_do_not_count(srv):
    """X-Date:, Message-ID-Extra: and a "Date:" line in the body are not the fields."""
    data = (b"Subject: lookalikes\r\nX-Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            b"Message-ID-Extra: <x@y>\r\n\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
            b"Message-ID: <in-body@x>\r\n")
    _send_authed(srv, data)
    rest = parse_delivered(srv.wait_messages(BOB, 1)[0]).rest
    heads = _headers(rest)
    assert any(h.startswith(b"Date:") for h in heads), heads
    assert any(h.startswith(b"Message-ID:") for h in heads), heads
    assert rest.endswith(to_lf(data))


def test_message_without_header_section(srv):
    data = b"\r\njust a body after an empty line\r\n"
    _send_authed(srv, data)
    rest = parse_delivered(srv.wait_messages(BOB, 1)[0]).rest
    head, body = rest.split(b"\n\n", 1)
    names = sorted(h.split(b":")[0] for h in head.split(b"\n"))
    assert names == [b"Date", b"Message-ID"], rest
    assert body == b"just a body after an empty line\n", rest


def test_unauthenticated_mail_not_changed(srv):
    data = b"From: <x@client.example.test>\r\nSubject: mx\r\n\r\nno date, no id\r\n"
    with Raw(HOST, srv.port) as c:
        c.ehlo()
        transaction(c, "x@client.example.test", [BOB], data)
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert d.rest == to_lf(data), d.rest


# --------------------------------------------------------------------------
# Received:


def test_received_protocol_words(start_server):
    s = start_tls_server(start_server, conf={"auth_plaintext_loopback": "yes",
                                             "auth_failure_delay": "0s"})
    # ESMTPSA: TLS and AUTH
    c = ssl_client(s)
    c.login(ALICE, PASSWORD)
    c.sendmail(ALICE, [BOB], make_message(subject="esmtpsa", frm=ALICE, to=BOB))
    name, _, bits = c.sock.cipher()
    version = c.sock.version()
    assert c.quit()[0] == 221
    # ESMTPA: AUTH in the clear (allowed on loopback by the key)
    with smtplib.SMTP(HOST, s.sub_port, local_hostname=CLIENT_NAME, timeout=15) as c:
        c.login(ALICE, PASSWORD)
        c.sendmail(ALICE, [CAROL], make_message(subject="esmtpa", frm=ALICE, to=CAROL))
    bob = parse_delivered(s.wait_messages(BOB, 1)[0]).received
    carol = parse_delivered(s.wait_messages(CAROL, 1)[0]).received
    assert " with ESMTPSA id " in bob, bob
    assert "(using %s with cipher %s (%d/%d bits))" % (version, name, bits, bits) in bob, bob
    assert " with ESMTPA id " in carol and "(using" not in carol, carol
    assert bob.startswith("Received: from %s (unknown [127.0.0.1])" % CLIENT_NAME), bob


# --------------------------------------------------------------------------
# curl


def _curl(s, url_scheme, port, mail_from, rcpts, body, user=ALICE, password=PASSWORD,
          extra=()):
    """curl with --ssl-reqd (smtp://) or smtps://, verifying the certificate
    against `hostname` (--resolve keeps it off DNS)."""
    f = s.workdir / ("curl-%d.eml" % time.monotonic_ns())
    f.write_bytes(body)
    argv = ["curl", "-sS", "--max-time", "20",
            "--resolve", "%s:%d:%s" % (HOSTNAME, port, HOST),
            "--cacert", str(cert_path(s)),
            "%s://%s:%d/%s" % (url_scheme, HOSTNAME, port, CLIENT_NAME),
            "--mail-from", mail_from, "--upload-file", str(f)]
    if url_scheme == "smtp":
        argv.append("--ssl-reqd")
    if user is not None:
        argv += ["--user", "%s:%s" % (user, password)]
    for r in rcpts:
        argv += ["--mail-rcpt", r]
    argv += list(extra)
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=40)


@pytest.mark.parametrize("scheme,which,mech", [
    ("smtp", "submission", None), ("smtps", "submissions", None),
    ("smtp", "submission", "LOGIN"), ("smtps", "submissions", "PLAIN"),
])
def test_curl_submission(srv, scheme, which, mech):
    msg = make_message(subject="curl %s %s" % (scheme, mech), frm=ALICE, to=BOB)
    extra = ["--login-options", "AUTH=" + mech] if mech else []
    p = _curl(srv, scheme, port_of(srv, which), ALICE, [BOB, REMOTE], msg, extra=extra)
    assert p.returncode == 0, "curl exit %d: %s" % (p.returncode, p.stderr.decode())
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert d.rest == to_lf(msg)
    assert " with ESMTPSA id " in d.received, d.received
    srv.wait_log(r"sasl_method=%s, sasl_username=alice@example\.test" % (mech or r"\w+"))
    srv.wait_log(r"to=<someone@remote\.test>, relay=\S+.*status=deferred")


def test_curl_starttls_on_port_25_without_auth(srv):
    msg = make_message(subject="curl mx", to=BOB)
    p = _curl(srv, "smtp", srv.port, "sender@client.example.test", [BOB], msg, user=None)
    assert p.returncode == 0, p.stderr
    d = parse_delivered(srv.wait_messages(BOB, 1)[0])
    assert " with ESMTPS id " in d.received and d.rest == to_lf(msg), d.received
    p = _curl(srv, "smtp", srv.port, "sender@client.example.test", [REMOTE], msg, user=None)
    assert p.returncode != 0, "relayed without AUTH"
    assert b"554" in p.stderr, p.stderr


def test_curl_refusals(srv):
    msg = make_message(subject="curl refused", frm=BOB, to=CAROL)
    # wrong password: 67 = CURLE_LOGIN_DENIED
    p = _curl(srv, "smtps", srv.subs_port, ALICE, [CAROL], msg, password="Wr0ng-pass")
    assert p.returncode == 67, (p.returncode, p.stderr)
    # sending as another user
    p = _curl(srv, "smtps", srv.subs_port, BOB, [CAROL], msg)
    assert p.returncode != 0 and b"553" in p.stderr, (p.returncode, p.stderr)
    # no AUTH at all on 587
    p = _curl(srv, "smtp", srv.sub_port, ALICE, [CAROL], msg, user=None)
    assert p.returncode != 0 and b"530" in p.stderr, (p.returncode, p.stderr)
    # a certificate that does not name the host it was asked for
    p = subprocess.run(["curl", "-sS", "--max-time", "10", "--cacert", str(cert_path(srv)),
                        "smtps://127.0.0.1:%d/" % srv.subs_port, "--mail-from", ALICE,
                        "--mail-rcpt", CAROL, "--user", "%s:%s" % (ALICE, PASSWORD),
                        "--upload-file", "/dev/null"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 60, (p.returncode, p.stderr)      # CURLE_PEER_FAILED_VERIFICATION
    srv.wait_marker(CAROL)
    assert srv.count(CAROL) == 1 and srv.count() == 1


def test_swaks_to_another_domain(srv):
    p = subprocess.run(["swaks", "--server", HOST, "--port", str(srv.sub_port), "--tls",
                        "--auth", "LOGIN", "--auth-user", ALICE, "--auth-password", PASSWORD,
                        "--from", ALICE, "--to", "%s,%s" % (REMOTE, CAROL),
                        "--helo", CLIENT_NAME, "--timeout", "15"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    assert p.returncode == 0, out
    qid = queue_id(re.search(r"<~  250 2\.0\.0 Ok: queued as \S+", out).group(0))
    srv.wait_messages(CAROL, 1)
    srv.wait_log(r"%s: to=<someone@remote\.test>, relay=\S+.*status=deferred" % qid)
    assert queue_file(srv, qid).is_file()


# --------------------------------------------------------------------------
# Trial defaults


def test_trial_submission_ports(start_server):
    if os.path.exists("/etc/postino/postino.conf"):
        pytest.skip("/etc/postino/postino.conf exists: serve would read it")
    if any(is_listening(HOST, p) for p in (2525, 2587, 2465)):
        pytest.skip("a trial port is taken by another program")
    s = start_server(trial=True, start=False)
    assert (s.sub_port, s.subs_port) == (2587, 2465)
    s.listen = [(HOST, 2525), (HOST, 2587), (HOST, 2465)]
    s.start()
    [(host, path)] = s.wait_log(r"TLS: made a self-signed certificate for (\S+): (\S+)$")
    cert = s.workdir / "postino-data" / "tls" / "cert.pem"
    assert (s.workdir / path).resolve() == cert.resolve(), path
    ctx = verifying_context(cert, name=host)
    c = smtplib.SMTP_SSL(HOST, 2465, local_hostname=CLIENT_NAME, timeout=15, context=ctx)
    try:
        c.ehlo()
        assert c.has_extn("auth")
        code, msg = c.mail("me@localhost")
        assert code == 530, (code, msg)
    finally:
        assert c.quit()[0] == 221
    c = starttls_client(s, 2587, ctx=ctx)
    try:
        assert c.mail("me@localhost")[0] == 530
    finally:
        assert c.quit()[0] == 221
