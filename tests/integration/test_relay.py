"""test_relay - no relaying for unauthenticated clients, whatever the address.

Issue 2, section 3: a non-local domain is refused with 554 5.7.1; the
tricks (percent hack, source route, quoted "@", bang path, trailing dot,
address literal) are refused too, with any 5xx, never accepted. The
local domains here are example.test and other.test.
"""

import pytest

from conftest import Raw

SENDER = "sender@client.example.test"

PLAINLY_REMOTE = [
    "u@remote.test",
    "U@REMOTE.TEST",
    "alice@sub.example.test",          # a subdomain of a local domain is not local
    "alice@example.test.remote.test",  # a local domain as a prefix
    "alice@localhost",                 # not a local domain in this configuration
    "postmaster@remote.test",
]

TRICKS = {
    "percent-hack": "u%remote.test@example.test",
    "percent-hack-known-user": "alice%remote.test@example.test",
    "source-route": "@example.test:u@remote.test",
    "source-route-two-hops": "@example.test,@other.test:u@remote.test",
    "quoted-at": '"u@remote.test"@example.test',
    "quoted-at-other": '"alice@remote.test"@other.test',
    "bang-path": "remote.test!u@example.test",
    "bang-path-known-user": "remote.test!alice@example.test",
    "trailing-dot": "u@remote.test.",
    "trailing-dot-local": "u@example.test.remote.test.",
    "address-literal": "u@[127.0.0.1]",
    "address-literal-ipv6": "u@[IPv6:::1]",
    "address-literal-remote": "u@[192.0.2.1]",
    "two-ats": "u@remote.test@example.test",
    "numeric-domain": "u@127.0.0.1",
}


def try_rcpt(server, rcpt, sender=SENDER):
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % sender, 250)
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        after = c.cmd("DATA")
        return r, after


@pytest.mark.parametrize("rcpt", PLAINLY_REMOTE)
def test_remote_domain_refused_554(shared_server, rcpt):
    r, after = try_rcpt(shared_server, rcpt)
    assert r.code == 554 and r.enhanced() == "5.7.1", "RCPT TO:<%s>: got %s, want 554 5.7.1" % (rcpt, r)
    assert after.code // 100 == 5, "DATA after the refused RCPT: %s" % after


@pytest.mark.parametrize("rcpt", list(TRICKS.values()), ids=list(TRICKS))
def test_relay_trick_refused(shared_server, rcpt):
    r, after = try_rcpt(shared_server, rcpt)
    assert r.code // 100 == 5, "RCPT TO:<%s> accepted for relay: %s" % (rcpt, r)
    assert after.code // 100 == 5, "DATA after the refused RCPT: %s" % after


@pytest.mark.parametrize("sender", ["", "alice@example.test", "postmaster@example.test"],
                         ids=["null-sender", "local-sender", "local-postmaster"])
def test_local_or_null_sender_does_not_open_relay(shared_server, sender):
    r, _ = try_rcpt(shared_server, "u@remote.test", sender=sender)
    assert r.code == 554 and r.enhanced() == "5.7.1", r


def test_nothing_relayed_after_all_tricks(server):
    """All tricks in a row (reconnecting when the server ends a session
    after too many errors, with 421), then a real message: only it is
    delivered, and only into the local domain's folders."""
    c = None
    try:
        for rcpt in list(TRICKS.values()) + PLAINLY_REMOTE:
            if c is None:
                c = Raw(server)
                c.ehlo()
                c.expect("MAIL FROM:<%s>" % SENDER, 250)
            r = c.cmd("RCPT TO:<%s>" % rcpt)
            if r.code == 421:
                assert r.enhanced() and r.enhanced().startswith("4."), r
                assert c.is_closed(5)
                c.close()
                c = None
                # try this address again in a new session
                c = Raw(server)
                c.ehlo()
                c.expect("MAIL FROM:<%s>" % SENDER, 250)
                r = c.cmd("RCPT TO:<%s>" % rcpt)
            assert r.code // 100 == 5, (rcpt, r)
        if c is not None:
            r = c.cmd("DATA")
            assert r.code // 100 in (4, 5), r
    finally:
        if c is not None:
            c.close()
    server.wait_marker()
    server.assert_count_stays(None, 1, settle=0.3)
    mail = server.data_dir / "mail"
    domains = sorted(p.name for p in mail.iterdir())
    assert domains == ["example.test"], "mail folders for %s" % domains
