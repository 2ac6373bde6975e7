"""test_relay_mx - which server postino delivers to (issue 4, DNS and the client).

An in-test DNS server (dnsserver.py, on 127.0.0.1) answers for far.test;
aiosmtpd peers listen on 127.0.0.2, 127.0.0.3, ... on the shared smtp_port.
Covered: MX preference order (RFC 5321 5.1) whatever the order of the
records in the answer; the next MX when the first refuses connections,
greets with 421 or never speaks; the next address of one MX host;
implicit MX (no MX: the domain's A record); null MX (RFC 7505) bounces at
once with 5.1.10 and no connection; NXDOMAIN, and a domain with neither MX
nor address, bounce with 5.1.2; SERVFAIL
defers (4.4.3) and the retry delivers once DNS answers; an MX list that
leads back to postino itself bounces with 5.4.6; MX records naming an IP
address are skipped.

Mail is submitted by alice@example.test (authenticated) to addresses at
far.test; a bounce lands in alice's Maildir.
"""

import re

import pytest

from conftest import make_message
from relayutil import (ALICE, GreetPeer, SilentPeer, send_authed,
                       status_lines, queue_json, wait_notices, wait_queue_empty)

FAR = "bob@far.test"


def submit(env, rcpts=(FAR,), subject="hello far", **kw):
    return send_authed(env.server, list(rcpts), make_message(subject=subject, frm=ALICE,
                                                             to=rcpts[0]), **kw)


def assert_only(peer, others, n=1, timeout=10.0):
    """peer got n transactions for bob@far.test, the others nothing at all"""
    ts = peer.wait_transactions(n, timeout=timeout)
    assert len(ts) == n, ts
    for t in ts:
        assert t.rcpts == [FAR] and t.mail_from == ALICE, t
    for o in others:
        assert o.rcpt_log == [] and o.ehlos == [] and o.transactions == [], \
            "%s (%s) was used: rcpts %s, EHLO %s" % (o.name, o.host, o.rcpt_log, o.ehlos)


# --------------------------------------------------------------------------
# Preference order and fallback


def test_mx_preference_order(relay_env):
    env = relay_env
    # The records are listed worst first: the order of the answer must not matter.
    env.zone("""
        far.test.        MX 30 mx3.far.test.
        far.test.        MX 20 mx2.far.test.
        far.test.        MX 10 mx1.far.test.
        mx1.far.test.    A  127.0.0.2
        mx2.far.test.    A  127.0.0.3
        mx3.far.test.    A  127.0.0.4
    """)
    mx1 = env.peer("127.0.0.2", name="mx1.far.test")
    mx2 = env.peer("127.0.0.3", name="mx2.far.test")
    mx3 = env.peer("127.0.0.4", name="mx3.far.test")
    s = env.start()
    ids = [submit(env, subject="pref %d" % i) for i in range(3)]
    assert_only(mx1, [mx2, mx3], n=3)
    for qid in ids:
        # relay=host[ip]:port, in the manner of Postfix's log
        s.wait_log(r"%s: to=<bob@far\.test>, relay=mx1\.far\.test\[127\.0\.0\.2\]:%d, delay=\d+, "
                   r"dsn=2\.\d\.\d, status=sent \(250 " % (qid, env.port))
    subjects = sorted(t.message()["Subject"] for t in mx1.transactions)
    assert subjects == ["pref 0", "pref 1", "pref 2"]
    assert env.queries("far.test", "MX"), env.dns.queries
    wait_queue_empty(s)


@pytest.mark.parametrize("failure", ["refused", "greeting-421", "silent"])
def test_next_mx_when_the_first_fails(relay_env, failure):
    """The best MX refuses connections (nothing listens on 127.0.0.9), or
    greets with 421, or accepts and never speaks (smtp_client_timeout 2s):
    the next one in preference order (20, not 30) gets the message."""
    env = relay_env
    env.zone("""
        far.test.        MX 10 mx1.far.test.
        far.test.        MX 30 mx3.far.test.
        far.test.        MX 20 mx2.far.test.
        mx1.far.test.    A  127.0.0.9
        mx2.far.test.    A  127.0.0.3
        mx3.far.test.    A  127.0.0.4
    """)
    bad = None
    if failure == "greeting-421":
        bad = env.raw(GreetPeer, "127.0.0.9")
    elif failure == "silent":
        bad = env.raw(SilentPeer, "127.0.0.9")
    mx2 = env.peer("127.0.0.3", name="mx2.far.test")
    mx3 = env.peer("127.0.0.4", name="mx3.far.test")
    s = env.start(smtp_client_timeout="2s", smtp_connect_timeout="2s")
    qid = submit(env)
    assert_only(mx2, [mx3])
    s.wait_log(r"%s: to=<bob@far\.test>, relay=mx2\.far\.test\S*, .*status=sent" % qid)
    why = {"refused": r"connection refused", "greeting-421": r"421 4\.3\.2 busy",
           "silent": r"timeout|timed out"}[failure]
    log = s.log()
    assert re.search(r"%s: .*mx1\.far\.test\[127\.0\.0\.9\]:%d.*(%s)" % (qid, env.port, why), log), \
        "no line saying why mx1 was skipped (%s); log:\n%s" % (failure, log[-3000:])
    if bad is not None:
        assert bad.connections >= 1, "mx1 was never tried"
    if failure == "greeting-421":
        assert b"MAIL FROM" not in bad.received, bad.received
    # no bounce for alice
    s.assert_count_stays(ALICE, 0, settle=0.3)


def test_next_address_of_the_same_mx(relay_env):
    """An MX host with two addresses, the first dead: its second address is
    tried before the next MX host."""
    env = relay_env
    env.zone("""
        far.test.        MX 10 mx1.far.test.
        far.test.        MX 20 mx2.far.test.
        mx1.far.test.    A  127.0.0.9
        mx1.far.test.    A  127.0.0.2
        mx2.far.test.    A  127.0.0.3
    """)
    mx1b = env.peer("127.0.0.2", name="mx1.far.test")
    mx2 = env.peer("127.0.0.3", name="mx2.far.test")
    s = env.start()
    qid = submit(env)
    assert_only(mx1b, [mx2])
    s.wait_log(r"%s: to=<bob@far\.test>, relay=mx1\.far\.test\S*, .*status=sent" % qid)


def test_ip_literal_mx_skipped(relay_env):
    """An MX record naming an IP address ("10 127.0.0.2.") is not a host
    name: it is skipped, the next MX is used."""
    env = relay_env
    env.zone("""
        far.test.        MX 10 127.0.0.2.
        far.test.        MX 20 mx2.far.test.
        mx2.far.test.    A  127.0.0.3
    """)
    literal = env.peer("127.0.0.2", name="literal")
    mx2 = env.peer("127.0.0.3", name="mx2.far.test")
    s = env.start()
    qid = submit(env)
    assert_only(mx2, [literal])
    s.wait_log(r"%s: to=<bob@far\.test>, relay=mx2\.far\.test\S*, .*status=sent" % qid)


# --------------------------------------------------------------------------
# Implicit MX, null MX, DNS failures, loops


def test_implicit_mx(relay_env):
    """No MX records: the domain's own address is the mail server (RFC 5321 5.1)."""
    env = relay_env
    env.zone("far.test. A 127.0.0.2")
    peer = env.peer("127.0.0.2", name="far.test")
    s = env.start()
    qid = submit(env)
    assert_only(peer, [])
    s.wait_log(r"%s: to=<bob@far\.test>, relay=far\.test\S*, .*dsn=2\.\d\.\d, status=sent" % qid)
    asked = [t for _, t in env.queries("far.test")]
    assert "MX" in asked and "A" in asked and asked.index("MX") < asked.index("A"), asked
    wait_queue_empty(s)


def test_null_mx_bounces_at_once(relay_env):
    """RFC 7505: "MX 0 ." - a bounce with 5.1.10 at once, no connection, and
    no address lookup (the domain's A record points at a listening peer)."""
    env = relay_env
    env.zone("""
        far.test. MX 0 .
        far.test. A  127.0.0.2
    """)
    peer = env.peer("127.0.0.2", name="far.test")
    s = env.start()
    qid = submit(env, subject="to a null MX")
    [dsn] = wait_notices(s, ALICE, 1, timeout=5)
    s.wait_log(r"%s: to=<bob@far\.test>, relay=none, delay=\d+, dsn=5\.1\.10, status=bounced "
               r"\(.*null MX" % qid)
    b = dsn.rcpt(FAR)
    assert b["Action"].strip() == "failed" and b["Status"].strip() == "5.1.10", str(b)
    assert "null MX" in dsn.human and "far.test" in dsn.human, dsn.human
    assert "Subject: to a null MX" in dsn.original, dsn.original
    assert peer.ehlos == [] and peer.rcpt_log == [], "a connection to a null-MX domain"
    assert not env.queries("far.test", "A") and not env.queries("far.test", "AAAA"), \
        env.dns.queries
    assert len(status_lines(s, qid)) == 1, status_lines(s, qid)
    wait_queue_empty(s)


def test_nxdomain_bounces_5_1_2(relay_env):
    env = relay_env
    env.zone("other-name.test. A 127.0.0.2")       # far.test itself does not exist
    s = env.start()
    qid = submit(env, rcpts=["x@far.test"], subject="to nowhere")
    [dsn] = wait_notices(s, ALICE, 1, timeout=5)
    b = dsn.rcpt("x@far.test")
    assert b["Status"].strip() == "5.1.2" and b["Action"].strip() == "failed", str(b)
    s.wait_log(r"%s: to=<x@far\.test>, relay=none, .*dsn=5\.1\.2, status=bounced" % qid)
    wait_queue_empty(s)


def test_no_mx_and_no_address_bounces_5_1_2(relay_env):
    """The domain exists (it has a TXT record) but has neither MX nor A/AAAA:
    no implicit MX either, a bounce with 5.1.2."""
    env = relay_env
    env.zone('far.test. TXT "v=spf1 -all"')
    s = env.start()
    qid = submit(env, rcpts=["x@far.test"], subject="to an address-less domain")
    [dsn] = wait_notices(s, ALICE, 1, timeout=5)
    b = dsn.rcpt("x@far.test")
    assert b["Status"].strip() == "5.1.2" and b["Action"].strip() == "failed", str(b)
    s.wait_log(r"%s: to=<x@far\.test>, relay=none, .*dsn=5\.1\.2, status=bounced" % qid)
    assert env.queries("far.test", "MX") and env.queries("far.test", "A"), env.dns.queries
    wait_queue_empty(s)


def test_servfail_defers_then_delivers(relay_env):
    """A temporary DNS failure defers (4.4.3, no bounce); when DNS answers
    again, a retry (retry_intervals 1s) delivers."""
    env = relay_env
    env.zone("far.test. SERVFAIL")
    peer = env.peer("127.0.0.2", name="far.test")
    s = env.start()
    qid = submit(env)
    s.wait_log(r"%s: to=<bob@far\.test>, relay=none, .*dsn=4\.4\.3, status=deferred" % qid)
    [m] = queue_json(s)["messages"]
    assert m["id"] == qid and m["recipients"][0]["state"] == "pending", m
    assert m["recipients"][0]["last_error"], m
    env.dns.remove("far.test")
    env.zone("far.test. A 127.0.0.2")
    assert_only(peer, [], n=1, timeout=20)
    s.wait_log(r"%s: to=<bob@far\.test>, relay=far\.test\S*, .*status=sent" % qid)
    assert s.count(ALICE) == 0, "a bounce for a temporary failure"
    wait_queue_empty(s)


def test_mx_pointing_to_myself_bounces_5_4_6(relay_env):
    """far.test's best MX is postino's own hostname (mx.example.test), and
    postino does not handle far.test: a mail loop, bounced with 5.4.6."""
    env = relay_env
    env.zone("""
        far.test.          MX 10 mx.example.test.
        far.test.          MX 20 mx2.far.test.
        mx.example.test.   A  127.0.0.1
        mx2.far.test.      A  127.0.0.3
    """)
    mx2 = env.peer("127.0.0.3", name="mx2.far.test")
    s = env.start()
    qid = submit(env)
    [dsn] = wait_notices(s, ALICE, 1, timeout=5)
    assert dsn.rcpt(FAR)["Status"].strip() == "5.4.6", str(dsn.rcpt(FAR))
    s.wait_log(r"%s: to=<bob@far\.test>, relay=none, .*dsn=5\.4\.6, status=bounced" % qid)
    assert mx2.rcpt_log == [], "a worse MX than ourselves was tried"
