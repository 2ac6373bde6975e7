"""test_relay_results - what comes of a delivery to another server (issue 4).

Peers are aiosmtpd servers on 127.0.0.x (relayutil.Peer); the in-test DNS
server gives far.test (and a few more) their MX. Covered:

- 5xx at RCPT: a DSN (RFC 3464 multipart/report) from <> in the local
  sender's Maildir, with Reporting-MTA, Final-Recipient, Action, Status,
  Remote-MTA, Diagnostic-Code and the original's header section (parsed
  with the email package); the other recipient of the same transaction is
  delivered and not in the report. 5xx after DATA: every recipient bounces.
- RET=FULL and ENVID; NOTIFY=NEVER (no bounce) and NOTIFY=SUCCESS (a notice).
- 4xx then success on the retry (retry_intervals 1s); a lasting 4xx: one
  delay notice (delay_warning_time) then a 4.4.7 bounce at max_queue_lifetime.
- STARTTLS used when the peer offers it (the peer saw TLS, postino logged
  tls=TLSv1.x with cipher ...), none when it does not.
- Several recipients of one domain in one transaction (one MAIL, one DATA),
  other domains separately; the idle connection reused for the next message.
- A smarthost (relay_host) with AUTH over STARTTLS, and credentials never
  sent to a smarthost that offers no STARTTLS.
- SMTPUTF8 to a peer without it bounces with 5.6.7 (no MAIL sent); to a peer
  with it, MAIL carries SMTPUTF8; BODY=8BITMIME and SIZE= passed on; a
  message larger than the peer's SIZE bounces with 5.3.4.
"""

import os
import re
import time

import pytest

from conftest import give_to_server, make_message
from relayutil import (ALICE, send_authed, status_lines,
                       wait_notices, wait_queue_empty)

CAROL = "carol@example.test"
MX_ZONE = """
    far.test.       MX 10 mx1.far.test.
    mx1.far.test.   A  127.0.0.2
"""


def far_env(env, **peer_kw):
    env.zone(MX_ZONE)
    return env.peer("127.0.0.2", name="mx1.far.test", **peer_kw)


def log_time(line):
    """the time of a log line, in seconds"""
    m = re.match(r"\S*?(\d\d):(\d\d):(\d\d(?:\.\d+)?)Z?\s", line)
    assert m, "no time in %r" % line
    return int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))


# --------------------------------------------------------------------------
# Bounces


@pytest.mark.parametrize("kind", ["plain", "pipelining-dsn"])
def test_5xx_at_rcpt_gives_dsn_with_original_headers(relay_env, kind):
    """Without PIPELINING, and with PIPELINING and DSN offered (then MAIL,
    both RCPTs and DATA go in one write, RFC 2920)."""
    env = relay_env
    peer = far_env(env, pipelining=kind != "plain", dsn=kind != "plain")
    peer.rules["nobody@far.test"] = "550 5.1.1 <nobody@far.test>: Recipient address rejected: no such user"
    s = env.start()
    msgid = "<dsn-test-1@client.example.test>"
    msg = make_message(subject="quarterly report", frm=ALICE, to="nobody@far.test", msgid=msgid,
                       body="BODY-MARKER-8c1f do not return me\r\n",
                       extra_headers=["X-Original-Marker: kept-in-the-bounce"])
    qid = send_authed(s, ["nobody@far.test", "bob@far.test"], msg)
    [t] = peer.wait_transactions(1)
    assert t.rcpts == ["bob@far.test"], t
    [dsn] = wait_notices(s, ALICE, 1)

    # The envelope and header of the report.
    top = dsn.msg
    assert "MAILER-DAEMON@mx.example.test" in top["From"], top["From"]
    assert ALICE in top["To"], top["To"]
    assert top["Subject"] and top["Date"] and top["Message-ID"], str(top)[:1000]

    # Per message: Reporting-MTA; per recipient: only the refused one.
    assert dsn.fields["Reporting-MTA"].replace(" ", "") == "dns;mx.example.test", str(dsn.fields)
    assert len(dsn.rcpts) == 1, [str(b) for b in dsn.rcpts]
    b = dsn.rcpt("nobody@far.test")
    assert b["Final-Recipient"].replace(" ", "").lower() == "rfc822;nobody@far.test", str(b)
    assert b["Action"].strip() == "failed", str(b)
    assert b["Status"].strip() == "5.1.1", str(b)
    assert b["Remote-MTA"].replace(" ", "").lower() == "dns;mx1.far.test", str(b)
    diag = " ".join(b["Diagnostic-Code"].split())
    assert diag.startswith("smtp;") and "550 5.1.1 <nobody@far.test>: Recipient address rejected" \
        in diag, diag

    # The human part says what happened, in words.
    assert "nobody@far.test" in dsn.human and "550 5.1.1" in dsn.human, dsn.human

    # The original's header section, not its body (no RET=FULL).
    assert dsn.original_type == "text/rfc822-headers", dsn.original_type
    assert "Subject: quarterly report" in dsn.original, dsn.original
    assert "Message-ID: %s" % msgid in dsn.original, dsn.original
    assert "X-Original-Marker: kept-in-the-bounce" in dsn.original, dsn.original
    assert "BODY-MARKER-8c1f" not in dsn.raw.decode("utf-8", "replace")

    s.wait_log(r"%s: to=<nobody@far\.test>, relay=mx1\.far\.test\S*, delay=\d+, dsn=5\.1\.1, "
               r"status=bounced \(550 5\.1\.1 " % qid)
    s.wait_log(r"%s: to=<bob@far\.test>, relay=mx1\.far\.test\S*, .*dsn=2\.\d\.\d, status=sent" % qid)
    wait_queue_empty(s)
    # the bounce went to alice's Maildir only: nothing else was sent out
    s.assert_count_stays(ALICE, 1, settle=0.3)
    assert len(peer.transactions) == 1
    if kind != "plain":
        behind = peer.behind_mail[0]
        assert b"RCPT TO:<nobody@far.test>" in behind and b"RCPT TO:<bob@far.test>" in behind \
            and b"DATA" in behind, "not pipelined: after MAIL only %r had come" % behind


def test_every_rcpt_refused_pipelined_then_connection_reused(relay_env):
    """PIPELINING: MAIL, RCPTs and DATA go at once; every RCPT is refused,
    so the DATA is refused too; both bounce. The connection stays good:
    the next message goes over it."""
    env = relay_env
    peer = far_env(env, pipelining=True)
    peer.rules["x@far.test"] = "550 5.1.1 no x here"
    peer.rules["y@far.test"] = "550 5.1.1 no y here"
    s = env.start()
    q1 = send_authed(s, ["x@far.test", "y@far.test"], make_message(subject="nobody home"))
    [dsn] = wait_notices(s, ALICE, 1)
    assert sorted(b["Status"].strip() for b in dsn.rcpts) == ["5.1.1", "5.1.1"]
    assert peer.transactions == [] and peer.data_count == 0
    q2 = send_authed(s, ["z@far.test"], make_message(subject="somebody home"))
    [t] = peer.wait_transactions(1)
    assert t.rcpts == ["z@far.test"]
    s.wait_log(r"%s: to=<z@far\.test>, .*status=sent" % q2)
    assert len(peer.ehlos) == 1, "the connection was not kept after the refusals: %r" % peer.ehlos
    assert len(peer.mails) == 2
    assert len([l for l in status_lines(s, q1) if "status=bounced" in l]) == 2


def test_5xx_after_data_bounces_every_recipient(relay_env):
    env = relay_env
    peer = far_env(env)
    peer.data_reply = "554 5.7.1 message content rejected"
    s = env.start()
    qid = send_authed(s, ["a@far.test", "b@far.test"], make_message(subject="rejected content"))
    [dsn] = wait_notices(s, ALICE, 1)
    assert sorted(dsn.actions()) == ["failed", "failed"], [str(b) for b in dsn.rcpts]
    for a in ("a@far.test", "b@far.test"):
        b = dsn.rcpt(a)
        assert b["Status"].strip() == "5.7.1", str(b)
        assert "554 5.7.1 message content rejected" in " ".join(b["Diagnostic-Code"].split())
    assert len(peer.refused_data) == 1 and peer.transactions == []
    assert len([l for l in status_lines(s, qid) if "status=bounced" in l]) == 2, status_lines(s, qid)


def test_ret_full_and_envid(relay_env):
    env = relay_env
    peer = far_env(env)
    peer.rules["nobody@far.test"] = "550 5.1.1 no such user"
    s = env.start()
    msg = make_message(subject="full return", body="BODY-MARKER-full line one\r\nline two\r\n")
    send_authed(s, ["nobody@far.test"], msg, mail_options=["RET=FULL", "ENVID=env-42"])
    [dsn] = wait_notices(s, ALICE, 1)
    assert dsn.original_type == "message/rfc822", dsn.original_type
    assert dsn.original["Subject"] == "full return"
    body = dsn.original.get_payload()
    assert "BODY-MARKER-full line one" in body and "line two" in body, body
    assert dsn.fields["Original-Envelope-Id"].strip() == "env-42", str(dsn.fields)
    assert peer.transactions == []


def test_notify_never_and_failure(relay_env):
    """Two refused recipients: the one with NOTIFY=NEVER is left out of the
    report; NOTIFY=FAILURE (like no NOTIFY) is in it."""
    env = relay_env
    peer = far_env(env)
    peer.rules["quiet@far.test"] = "550 5.1.1 no such user"
    peer.rules["loud@far.test"] = "550 5.1.1 no such user"
    s = env.start()
    qid = send_authed(s, ["quiet@far.test", "loud@far.test"], make_message(subject="notify"),
                      rcpt_options={"quiet@far.test": ["NOTIFY=NEVER"],
                                    "loud@far.test": ["NOTIFY=FAILURE"]})
    [dsn] = wait_notices(s, ALICE, 1)
    assert len(dsn.rcpts) == 1 and dsn.rcpt("loud@far.test")["Action"].strip() == "failed"
    assert len([l for l in status_lines(s, qid) if "status=bounced" in l]) == 2
    wait_queue_empty(s)
    s.assert_count_stays(ALICE, 1, settle=0.5)


def test_notify_never_alone_gives_no_bounce(relay_env):
    env = relay_env
    peer = far_env(env)
    peer.rules["quiet@far.test"] = "550 5.1.1 no such user"
    s = env.start()
    qid = send_authed(s, ["quiet@far.test"], make_message(subject="never"),
                      rcpt_options={"quiet@far.test": ["NOTIFY=NEVER"]})
    s.wait_log(r"%s: to=<quiet@far\.test>, .*status=bounced" % qid)
    wait_queue_empty(s)
    s.wait_marker(CAROL)
    s.assert_count_stays(ALICE, 0, settle=0.5)


def test_notify_success_to_a_peer_without_dsn_gives_relayed_notice(relay_env):
    """RFC 3461 5.2.2: relayed to a server that does not do DSN (aiosmtpd
    here), NOTIFY=SUCCESS gets a "relayed" notice from postino."""
    env = relay_env
    peer = far_env(env)
    s = env.start()
    qid = send_authed(s, ["happy@far.test", "plain@far.test"], make_message(subject="tell me"),
                      rcpt_options={"happy@far.test": ["NOTIFY=SUCCESS"]})
    peer.wait_transactions(1)
    [dsn] = wait_notices(s, ALICE, 1)
    assert len(dsn.rcpts) == 1, [str(b) for b in dsn.rcpts]
    b = dsn.rcpt("happy@far.test")
    assert b["Status"].strip().startswith("2."), str(b)
    assert b["Remote-MTA"].replace(" ", "").lower() == "dns;mx1.far.test", str(b)
    s.wait_log(r"%s: to=<happy@far\.test>, .*status=sent" % qid)
    wait_queue_empty(s)
    s.assert_count_stays(ALICE, 1, settle=0.3)
    assert b["Action"].strip() == "relayed", \
        "RFC 3461 5.2.2 wants Action: relayed after a relay to a non-DSN server:\n%s" % b


def test_dsn_parameters_passed_to_a_dsn_peer(relay_env):
    """RFC 3461 5.2.1: to a server that offers DSN, RET, ENVID, NOTIFY and
    ORCPT are passed on, and the success notice is that server's job, not
    postino's (postino sends none)."""
    env = relay_env
    peer = far_env(env, dsn=True)
    s = env.start()
    qid = send_authed(s, ["happy@far.test", "plain@far.test"], make_message(subject="pass it on"),
                      mail_options=["RET=HDRS", "ENVID=track+2Dme-7"],
                      rcpt_options={"happy@far.test": ["NOTIFY=SUCCESS,FAILURE",
                                                       "ORCPT=rfc822;Happy@Far.Test"]})
    [t] = peer.wait_transactions(1)
    mopts = [o.upper() for o in t.mail_options]
    assert "RET=HDRS" in mopts and "ENVID=TRACK+2DME-7" in mopts, t.mail_options
    ropts = {a.lower(): [o.upper() for o in opts] for a, opts in t.rcpt_options}
    happy = ropts["happy@far.test"]
    assert "NOTIFY=SUCCESS,FAILURE" in happy, happy
    assert "ORCPT=RFC822;HAPPY@FAR.TEST" in happy, happy
    plain = ropts["plain@far.test"]
    assert not any(o.startswith("NOTIFY=") for o in plain), plain
    assert [o for o in plain if o.startswith("ORCPT=")] in ([], ["ORCPT=RFC822;PLAIN@FAR.TEST"]), plain
    s.wait_log(r"%s: to=<happy@far\.test>, .*status=sent" % qid)
    wait_queue_empty(s)
    s.wait_marker(CAROL)
    assert s.count(ALICE) == 0, \
        "postino sent a success notice although the next server took on DSN (RFC 3461 5.2.1):\n%s" \
        % s.messages(ALICE)[0][:2500].decode("utf-8", "replace")


# --------------------------------------------------------------------------
# Temporary failures


def test_4xx_then_success_on_retry(relay_env):
    env = relay_env
    peer = far_env(env)
    peer.rules["bob@far.test"] = ["451 4.3.0 greylisted, try again later"]
    s = env.start(retry_intervals="1s")
    qid = send_authed(s, ["bob@far.test"], make_message(subject="greylisted"))
    [t] = peer.wait_transactions(1, timeout=10)
    assert t.rcpts == ["bob@far.test"]
    assert peer.rcpts_seen("bob@far.test") == ["bob@far.test", "bob@far.test"], peer.rcpt_log
    s.wait_log(r"%s: to=<bob@far\.test>, .*status=sent" % qid)
    lines = status_lines(s, qid)
    assert len(lines) == 2, lines
    assert re.search(r"dsn=4\.3\.0, status=deferred \(451 4\.3\.0 greylisted", lines[0]), lines
    assert "status=sent" in lines[1], lines
    gap = log_time(lines[1]) - log_time(lines[0])
    assert 0.8 <= gap < 5, "retry after %.2f s, want about 1 s (retry_intervals 1s)" % gap
    wait_queue_empty(s)
    s.assert_count_stays(ALICE, 0, settle=0.3)
    assert len(peer.transactions) == 1


def test_delay_notice_once_then_expiry_bounce(relay_env):
    """A recipient that keeps answering 451: one delay notice after
    delay_warning_time (1s), then at max_queue_lifetime (4s) a bounce with
    4.4.7 that gives the last reply."""
    env = relay_env
    peer = far_env(env)
    peer.rules["slow@far.test"] = "451 4.3.0 mailbox busy"
    s = env.start(retry_intervals="1s", delay_warning_time="1s", max_queue_lifetime="4s")
    qid = send_authed(s, ["slow@far.test"], make_message(subject="slowly"))
    notices = wait_notices(s, ALICE, 2, timeout=15)
    kinds = [n.rcpt("slow@far.test")["Action"].strip() for n in notices]
    assert sorted(kinds) == ["delayed", "failed"], kinds
    delayed = notices[kinds.index("delayed")]
    failed = notices[kinds.index("failed")]
    assert delayed.rcpt("slow@far.test")["Status"].strip().startswith("4."), str(delayed.rcpts[0])
    fb = failed.rcpt("slow@far.test")
    assert fb["Status"].strip() == "4.4.7", str(fb)
    assert "451 4.3.0 mailbox busy" in " ".join(str(fb).split()), str(fb)
    s.wait_log(r"%s: to=<slow@far\.test>, .*4\.4\.7" % qid)
    wait_queue_empty(s)
    attempts = peer.rcpts_seen("slow@far.test")
    assert 2 <= len(attempts) <= 6, "%d attempts in 4 s with retry_intervals 1s" % len(attempts)
    s.assert_count_stays(ALICE, 2, settle=1.2)


# --------------------------------------------------------------------------
# TLS


def test_starttls_used_when_offered(relay_env):
    env = relay_env
    env.zone(MX_ZONE + """
        plain.test.     MX 10 mx.plain.test.
        mx.plain.test.  A  127.0.0.3
    """)
    tls_peer = env.peer("127.0.0.2", name="mx1.far.test", tls=True)
    plain_peer = env.peer("127.0.0.3", name="mx.plain.test")
    s = env.start()
    q1 = send_authed(s, ["bob@far.test"], make_message(subject="secret"))
    q2 = send_authed(s, ["bob@plain.test"], make_message(subject="not secret"))
    [t] = tls_peer.wait_transactions(1)
    assert t.tls_version in ("TLSv1.2", "TLSv1.3"), "the peer saw no TLS: %r" % t.tls_version
    assert tls_peer.ehlos == ["mx.example.test", "mx.example.test"], \
        "EHLO before and after STARTTLS: %r" % tls_peer.ehlos
    [line] = s.wait_log(r"^.*%s: relay=mx1\.far\.test\[127\.0\.0\.2\]:%d, tls=(TLSv1\.[23]) with "
                        r"cipher (\S+).*, 250 .*$" % (q1, env.port))
    assert line[0] == t.tls_version and line[1] == t.tls_cipher, (line, t.tls_version, t.tls_cipher)
    [p] = plain_peer.wait_transactions(1)
    assert p.tls_version is None
    s.wait_log(r"%s: relay=mx\.plain\.test\[127\.0\.0\.3\]:%d, tls=none, 250 " % (q2, env.port))


# --------------------------------------------------------------------------
# Transactions and connections


def test_recipients_of_one_domain_in_one_transaction(relay_env):
    env = relay_env
    env.zone(MX_ZONE + """
        near.test.      MX 10 mx.near.test.
        mx.near.test.   A  127.0.0.3
    """)
    far = env.peer("127.0.0.2", name="mx1.far.test")
    near = env.peer("127.0.0.3", name="mx.near.test")
    s = env.start()
    rcpts = ["a@far.test", "d@near.test", "b@far.test", CAROL, "C@Far.Test"]
    qid = send_authed(s, rcpts, make_message(subject="to many"))
    [t] = far.wait_transactions(1)
    assert [r.lower() for r in t.rcpts] == ["a@far.test", "b@far.test", "c@far.test"], t.rcpts
    [u] = near.wait_transactions(1)
    assert u.rcpts == ["d@near.test"]
    s.wait_messages(CAROL, 1)
    s.wait_log(r"%s: to=<[Cc]@[Ff]ar\.[Tt]est>, .*status=sent" % qid)
    time.sleep(0.3)
    assert len(far.mails) == 1 and far.data_count == 1, (far.mails, far.data_count)
    assert len(near.mails) == 1 and near.data_count == 1
    assert len(far.ehlos) == 1, far.ehlos
    assert t.message()["Subject"] == "to many"
    wait_queue_empty(s)


def test_idle_connection_reused_for_next_message(relay_env):
    env = relay_env
    peer = far_env(env)
    s = env.start()
    q1 = send_authed(s, ["one@far.test"], make_message(subject="first"))
    peer.wait_transactions(1)
    s.wait_log(r"%s: to=<one@far\.test>, .*status=sent" % q1)
    q2 = send_authed(s, ["two@far.test"], make_message(subject="second"))
    peer.wait_transactions(2)
    s.wait_log(r"%s: to=<two@far\.test>, .*status=sent" % q2)
    assert len(peer.ehlos) == 1, "a new connection for the second message: EHLOs %r" % peer.ehlos
    assert peer.transactions[0].peer == peer.transactions[1].peer


def test_mail_parameters_size_and_8bitmime(relay_env):
    env = relay_env
    peer = far_env(env)
    s = env.start()
    body = "caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\r\n".encode("utf-8")
    msg = make_message(subject="eight bits", body="") + body
    send_authed(s, ["bob@far.test"], msg, mail_options=["BODY=8BITMIME"])
    [t] = peer.wait_transactions(1)
    opts = [o.upper() for o in t.mail_options]
    assert "BODY=8BITMIME" in opts, t.mail_options
    size = [int(o.split("=", 1)[1]) for o in opts if o.startswith("SIZE=")]
    assert size and abs(size[0] - len(t.data)) < 600, (t.mail_options, len(t.data))
    assert body.rstrip(b"\r\n") in t.data, t.data[-200:]


def test_message_larger_than_peer_size_bounces_5_3_4(relay_env):
    env = relay_env
    peer = far_env(env, data_size_limit=2000)
    s = env.start()
    big = make_message(subject="too big", body=("y" * 70 + "\r\n") * 80)     # 5.7 KB
    qid = send_authed(s, ["bob@far.test"], big)
    [dsn] = wait_notices(s, ALICE, 1)
    assert dsn.rcpt("bob@far.test")["Status"].strip() == "5.3.4", str(dsn.rcpts[0])
    assert peer.mails == [], "MAIL sent for a message larger than SIZE: %r" % peer.mails
    s.wait_log(r"%s: to=<bob@far\.test>, .*dsn=5\.3\.4, status=bounced" % qid)


# --------------------------------------------------------------------------
# SMTPUTF8


def test_smtputf8_to_peer_without_it_bounces(relay_env):
    env = relay_env
    env.zone(MX_ZONE + """
        utf.test.       MX 10 mx.utf.test.
        mx.utf.test.    A  127.0.0.3
    """)
    old = env.peer("127.0.0.2", name="mx1.far.test", smtputf8=False)
    new = env.peer("127.0.0.3", name="mx.utf.test", smtputf8=True)
    s = env.start()
    msg = ("From: J\u00f6rg <alice@example.test>\r\nTo: <bob@far.test>\r\n"
           "Subject: Gr\u00fc\u00dfe aus K\u00f6ln\r\nMessage-ID: <utf8-1@example.test>\r\n"
           "\r\nHall\u00f6chen\r\n").encode("utf-8")
    q1 = send_authed(s, ["bob@far.test"], msg, mail_options=["SMTPUTF8"])
    [dsn] = wait_notices(s, ALICE, 1)
    b = dsn.rcpt("bob@far.test")
    assert b["Status"].strip() == "5.6.7" and b["Action"].strip() == "failed", str(b)
    assert "SMTPUTF8" in dsn.human, dsn.human
    assert old.mails == [], "MAIL was sent to a server without SMTPUTF8: %r" % old.mails
    s.wait_log(r"%s: to=<bob@far\.test>, .*dsn=5\.6\.7, status=bounced" % q1)

    q2 = send_authed(s, ["bob@utf.test"], msg, mail_options=["SMTPUTF8"])
    [t] = new.wait_transactions(1)
    assert "SMTPUTF8" in [o.upper() for o in t.mail_options], t.mail_options
    assert "Gr\u00fc\u00dfe aus K\u00f6ln".encode("utf-8") in t.data
    s.wait_log(r"%s: to=<bob@utf\.test>, .*status=sent" % q2)


# --------------------------------------------------------------------------
# Smarthost


def _password_file(env, text):
    path = env.workdir / "relay-password"
    path.write_text(text)
    os.chmod(path, 0o600)
    return str(give_to_server(path))


def test_smarthost_with_auth_over_starttls(relay_env):
    env = relay_env
    # No DNS records at all: through a smarthost nothing is looked up
    # (far.test would be NXDOMAIN, a bounce).
    smart = env.peer("127.0.0.5", name="smtp.provider.test", tls=True,
                     auth={"relay-user@provider.test": "s3cret pass"})
    s = env.start(relay_host="[127.0.0.5]:%d" % env.port,
                  relay_auth_user="relay-user@provider.test",
                  relay_auth_password_file=_password_file(env, "s3cret pass\n"))
    qid = send_authed(s, ["bob@far.test", "x@elsewhere.test"], make_message(subject="via provider"))
    ts = smart.wait_transactions(1)
    time.sleep(0.3)
    ts = list(smart.transactions)
    got = sorted(r for t in ts for r in t.rcpts)
    assert got == ["bob@far.test", "x@elsewhere.test"], ts
    for t in ts:
        assert t.authenticated and t.auth_data == "relay-user@provider.test", t.auth_data
        assert t.tls_version in ("TLSv1.2", "TLSv1.3"), t.tls_version
        assert t.mail_from == ALICE
    assert smart.auth_attempts and all(a[3] for a in smart.auth_attempts), \
        "AUTH outside TLS: %r" % smart.auth_attempts
    assert not env.queries("far.test") and not env.queries("elsewhere.test"), env.dns.queries
    s.wait_log(r"%s: to=<bob@far\.test>, relay=127\.0\.0\.5\S*, .*status=sent" % qid)
    s.wait_log(r"%s: relay=127\.0\.0\.5\[127\.0\.0\.5\]:%d, tls=TLSv1\.[23] with cipher" % (qid, env.port))
    assert "s3cret" not in s.log(), "the password is in the log"
    wait_queue_empty(s)


def test_smarthost_without_starttls_gets_no_password(relay_env):
    env = relay_env
    smart = env.peer("127.0.0.5", name="smtp.provider.test", tls=False,
                     auth={"relay-user@provider.test": "s3cret pass"}, auth_require_tls=False)
    s = env.start(relay_host="[127.0.0.5]:%d" % env.port,
                  relay_auth_user="relay-user@provider.test",
                  relay_auth_password_file=_password_file(env, "s3cret pass\n"),
                  retry_intervals="1h")
    qid = send_authed(s, ["bob@far.test"], make_message(subject="not in the clear"))
    s.wait_log(r"%s: to=<bob@far\.test>, .*status=deferred \(.*(STARTTLS|clear)" % qid)
    assert smart.auth_attempts == [] and smart.mails == [], (smart.auth_attempts, smart.mails)
    assert s.count(ALICE) == 0


def test_smarthost_with_implicit_tls(relay_env):
    """relay_tls = implicit: TLS from the first byte (a provider's port
    465), then AUTH inside it."""
    env = relay_env
    # aiosmtpd hides AUTH until STARTTLS unless told the (implicit) TLS
    # connection is enough: auth_require_tls=False.
    smart = env.peer("127.0.0.6", name="smtps.provider.test", implicit_tls=True,
                     auth={"relay-user@provider.test": "pw465"}, auth_require_tls=False)
    s = env.start(relay_host="[127.0.0.6]:%d" % env.port, relay_tls="implicit",
                  relay_auth_user="relay-user@provider.test",
                  relay_auth_password_file=_password_file(env, "pw465\n"))
    qid = send_authed(s, ["bob@far.test"], make_message(subject="via 465"))
    ts = smart.wait_transactions(1)
    assert ts[0].rcpts == ["bob@far.test"], ts
    assert ts[0].authenticated and ts[0].auth_data == "relay-user@provider.test"
    s.wait_log(r"%s: relay=127\.0\.0\.6\[127\.0\.0\.6\]:%d, tls=TLSv1\.[23] with cipher" % (qid, env.port))
    s.wait_log(r"%s: to=<bob@far\.test>, .*status=sent" % qid)
    wait_queue_empty(s)
