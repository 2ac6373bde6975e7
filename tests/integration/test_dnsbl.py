"""test_dnsbl - DNS blocklists and allowlists at connection time (RFC 5782).

On the port-25 listener only, the client's address is looked up in every
`dnsbl` and `dnswl` zone before the greeting. A client that a blocklist
lists (and no allowlist, and not inside `dnsbl_allow`) gets, instead of
the 220,

    554 5.7.1 Service unavailable; client [IP] blocked using ZONE; REASON

(REASON: the zone's TXT record, or "listed"), the log says "blocked using
ZONE", and the session then takes only QUIT (221); every other command gets
503 5.7.1 (RFC 5321 3.1). A clean or allowlisted client is greeted and can
send mail; a list that fails (SERVFAIL) or stays silent (timeout) does not
list. The submission ports are never checked.

The lists are served by the in-test DNS server (dnsserver.py), which postino
asks through dns_servers. The clients connect from different loopback
addresses (the whole of 127/8 is local on Linux); 127.0.0.2 is the address
RFC 5782 5 says every list must list. dnsbl_allow defaults to loopback, so
the tests set it to "" (or to a network without the client) to be checked.
"""

import socket
import time

import pytest

from conftest import HOST, Raw, dot_stuff, make_message
from dnsserver import DNSTestServer
from tlsutil import insecure_context, raw_tls, start_tls_server

SENDER = "sender@client.example.test"
RCPT = "alice@example.test"

LISTED = "127.0.0.2"          # bl.test: A 127.0.0.2, with a TXT reason
NO_TXT = "127.0.0.3"          # bl.test: A 127.0.0.2, no TXT
BOTH = "127.0.0.4"            # bl.test and wl.test
REFUSED_CODE = "127.0.0.5"    # bl.test: A 127.255.255.254 (query refused, not a listing)
NOT_127 = "127.0.0.6"         # bl.test: A 10.0.0.2 (not a listing)
EVIL_TXT = "127.0.0.7"        # bl.test: a TXT with CR LF and non-ASCII in it
CLEAN = "127.0.0.9"           # in no list

REASON = "RFC 5782 test address, see https://bl.test/q?127.0.0.2"
V6_LOOPBACK = ".".join(["1"] + ["0"] * 31)      # the nibbles of ::1, reversed

ZONE = r"""
2.0.0.127.bl.test.   A    127.0.0.2
2.0.0.127.bl.test.   TXT  "RFC 5782 test address, see https://bl.test/q?127.0.0.2"
3.0.0.127.bl.test.   A    127.0.0.2
4.0.0.127.bl.test.   A    127.0.0.2
4.0.0.127.bl.test.   TXT  "listed on bl.test"
4.0.0.127.wl.test.   A    127.0.10.3
5.0.0.127.bl.test.   A    127.255.255.254
5.0.0.127.bl.test.   TXT  "refused: not a listing"
6.0.0.127.bl.test.   A    10.0.0.2
6.0.0.127.bl.test.   TXT  "not 127: not a listing"
7.0.0.127.bl.test.   A    127.0.0.3
7.0.0.127.bl.test.   TXT  "bad\015\012250 2.0.0 injected\011caf\303\251"
2.0.0.127.bl2.test.  A    127.0.0.4
2.0.0.127.bl2.test.  TXT  "bl2.test lists 127.0.0.2"
%s.bl.test.          A    127.0.0.2
%s.bl.test.          TXT  "IPv6 loopback listed"
*.broken.test.       SERVFAIL
*.slow.test.         SILENT
""" % (V6_LOOPBACK, V6_LOOPBACK)


@pytest.fixture
def lists():
    """lists - the DNS server holding bl.test, bl2.test, wl.test and the
    failing zones broken.test (SERVFAIL) and slow.test (no answer)."""
    srv = DNSTestServer(zone_text=ZONE, host=HOST)
    srv.start()
    yield srv
    srv.stop()


def conf(lists, **extra):
    """conf - the server configuration of these tests: blocklist bl.test,
    the DNS server above, nobody exempt, no greet_pause."""
    c = {"dnsbl": "bl.test", "dns_servers": "%s:%d" % (HOST, lists.port),
         "dnsbl_allow": "", "greet_pause": "0s"}
    c.update(extra)
    return c


def blocked_text(ip, zone, reason):
    return "5.7.1 Service unavailable; client [%s] blocked using %s; %s" % (ip, zone, reason)


def asked(lists, name, qtype=None):
    """asked - the queries the DNS server got for name (any type, or qtype)"""
    name = name.lower().rstrip(".") + "."
    return [(n, t) for n, t, _ in list(lists.queries) if n == name and (qtype is None or t == qtype)]


def send_one(c):
    """send_one - EHLO and one transaction on a greeted Raw client"""
    c.ehlo()
    c.expect("MAIL FROM:<%s>" % SENDER, 250)
    c.expect("RCPT TO:<%s>" % RCPT, 250)
    c.expect("DATA", 354)
    c.send(dot_stuff(make_message()))
    r = c.reply()
    assert r.code == 250, r
    c.expect("QUIT", 221)


def assert_blocked(s, ip, zone, reason):
    """assert_blocked - a client from ip gets the 554 instead of the greeting"""
    with Raw(s, source=ip) as c:
        g = c.greeting
        assert g.code == 554 and g.text == blocked_text(ip, zone, reason), \
            "client %s: got %s, want 554 %s" % (ip, g, blocked_text(ip, zone, reason))
        c.expect("QUIT", 221)
        assert c.is_closed()
    s.wait_log(r"blocked using %s" % zone.replace(".", r"\."))


def assert_greeted(s, ip, port=None):
    """assert_greeted - a client from ip gets the 220 and can send mail"""
    with Raw(s.host, port or s.port, source=ip) as c:
        assert c.greeting.code == 220, "client %s: got %s, want 220" % (ip, c.greeting)
        send_one(c)


# --------------------------------------------------------------------------
# Listed


def test_listed_client_gets_554_instead_of_the_greeting(start_server, lists):
    s = start_server(conf=conf(lists))
    with Raw(s, source=LISTED) as c:
        g = c.greeting
        assert g.code == 554, g
        assert len(g.lines) == 1, g
        assert g.enhanced() == "5.7.1"
        assert g.text == blocked_text(LISTED, "bl.test", REASON)
        # nothing else comes: no 220 after the 554
        assert c.nothing_within(0.3)
    log = s.wait_log(r".*blocked using bl\.test.*")[0]
    assert "[127.0.0.2]" in log, log
    assert asked(lists, "2.0.0.127.bl.test", "TXT"), "the reason (TXT) was not asked"
    assert s.count() == 0


def test_after_the_554_only_quit_is_accepted(start_server, lists):
    s = start_server(conf=conf(lists))
    with Raw(s, source=LISTED) as c:
        assert c.greeting.code == 554
        for line in ("EHLO client.example.test", "HELO client.example.test",
                     "MAIL FROM:<%s>" % SENDER, "RCPT TO:<%s>" % RCPT, "DATA", "RSET",
                     "NOOP", "VRFY alice", "STARTTLS", "AUTH PLAIN AGFsaWNlAHNlY3JldA=="):
            r = c.cmd(line)
            assert r.code == 503 and r.enhanced() == "5.7.1", "%r: got %s, want 503 5.7.1" % (line, r)
        # pipelined: each command answered in order, QUIT last
        c.send(b"EHLO x.example\r\nMAIL FROM:<a@b.example>\r\nQUIT\r\n")
        assert c.reply().code == 503
        assert c.reply().code == 503
        assert c.reply().code == 221
        assert c.is_closed()
    assert s.count() == 0


def test_listed_without_txt_says_listed(start_server, lists):
    s = start_server(conf=conf(lists))
    assert_blocked(s, NO_TXT, "bl.test", "listed")


def test_reason_is_sanitised(start_server, lists):
    s = start_server(conf=conf(lists))
    with Raw(s, source=EVIL_TXT) as c:
        g = c.greeting
        assert g.code == 554 and len(g.lines) == 1, g
        assert g.text.startswith(blocked_text(EVIL_TXT, "bl.test", "bad")), g
        # CR LF and non-ASCII replaced: the "250" stays inside the one line
        assert "\r" not in g.text and "\t" not in g.text, g
        assert all(0x20 <= ord(ch) < 0x7f for ch in g.text), g
        assert "250 2.0.0 injected" in g.text, g
        assert c.nothing_within(0.3), "a second reply line came: %r" % c.buf
        c.expect("QUIT", 221)


def test_first_listing_zone_in_order_is_named(start_server, lists):
    s = start_server(conf=conf(lists, dnsbl="bl2.test bl.test"))
    assert_blocked(s, LISTED, "bl2.test", "bl2.test lists 127.0.0.2")
    # bl2.test does not list 127.0.0.3: the second zone names it
    assert_blocked(s, NO_TXT, "bl.test", "listed")


def test_several_clients_listed_and_clean_at_once(start_server, lists):
    s = start_server(conf=conf(lists))
    clients = [Raw(s, source=ip, greet=False) for ip in (LISTED, CLEAN, NO_TXT, CLEAN)]
    try:
        codes = [c.reply().code for c in clients]
        assert codes == [554, 220, 554, 220], codes
        for c in clients:
            c.expect("QUIT", 221)
    finally:
        for c in clients:
            c.close()


@pytest.mark.timeout(30)
def test_listed_client_with_greet_pause(start_server, lists):
    s = start_server(conf=conf(lists, greet_pause="1s"))
    with Raw(s, source=LISTED) as c:
        assert c.greeting.code == 554, c.greeting
        assert c.greeting.text == blocked_text(LISTED, "bl.test", REASON)
        c.expect("QUIT", 221)
    with Raw(s, source=CLEAN, greet=False) as c:
        t0 = time.monotonic()
        g = c.reply()
        assert g.code == 220, g
        assert time.monotonic() - t0 >= 0.8, "greeted before greet_pause"


# --------------------------------------------------------------------------
# Not listed


def test_clean_client_is_greeted_and_sends_mail(start_server, lists):
    s = start_server(conf=conf(lists))
    assert_greeted(s, CLEAN)
    s.wait_messages(RCPT, 1)
    assert asked(lists, "9.0.0.127.bl.test"), "the blocklist was not asked"
    assert not asked(lists, "9.0.0.127.bl.test", "TXT"), "TXT asked of a zone that does not list"
    assert "blocked using" not in s.log()


def test_answers_outside_127_or_in_127_255_255_do_not_list(start_server, lists):
    s = start_server(conf=conf(lists))
    assert_greeted(s, REFUSED_CODE)
    assert_greeted(s, NOT_127)
    s.wait_messages(RCPT, 2)
    assert not asked(lists, "5.0.0.127.bl.test", "TXT")
    assert not asked(lists, "6.0.0.127.bl.test", "TXT")


def test_allowlist_wins_over_the_blocklist(start_server, lists):
    s = start_server(conf=conf(lists, dnswl="wl.test"))
    assert_greeted(s, BOTH)
    s.wait_messages(RCPT, 1)
    assert asked(lists, "4.0.0.127.wl.test"), "the allowlist was not asked"
    # a client only on the blocklist is still blocked
    assert_blocked(s, LISTED, "bl.test", REASON)


def test_dnsbl_allow_default_exempts_loopback(start_server, lists):
    c = conf(lists)
    del c["dnsbl_allow"]                # the default: 127.0.0.0/8 ::1
    s = start_server(conf=c)
    assert_greeted(s, LISTED)
    s.wait_messages(RCPT, 1)
    # (the message's own SPF and DMARC lookups are not blocklist queries)
    bl = [q for q in lists.queries if q[0].endswith(".bl.test.") or q[0].endswith(".wl.test.")]
    assert bl == [], "looked up a client of dnsbl_allow: %r" % lists.queries


def test_dnsbl_allow_network_without_the_client(start_server, lists):
    s = start_server(conf=conf(lists, dnsbl_allow="127.0.0.2/32 192.0.2.0/24"))
    assert_greeted(s, LISTED)               # inside: not looked up
    assert not asked(lists, "2.0.0.127.bl.test")
    assert_blocked(s, NO_TXT, "bl.test", "listed")   # outside: checked


def test_servfail_counts_as_not_listed(start_server, lists):
    s = start_server(conf=conf(lists, dnsbl="broken.test"))
    assert_greeted(s, LISTED)
    s.wait_messages(RCPT, 1)
    assert asked(lists, "2.0.0.127.broken.test")
    # one failing list does not hide another that lists
    s2 = start_server(conf=conf(lists, dnsbl="broken.test bl.test", dnswl="broken.test"))
    assert_blocked(s2, LISTED, "bl.test", REASON)


@pytest.mark.timeout(60)
def test_silent_list_counts_as_not_listed(start_server, lists):
    s = start_server(conf=conf(lists, dnsbl="slow.test"))
    with Raw(s, source=LISTED, greet=False, timeout=30) as c:
        t0 = time.monotonic()
        g = c.reply()
        assert g.code == 220, g
        # greeted once the lookup timed out, well before a client gives up
        # on a greeting (RFC 5321 4.5.3.2.1: 5 minutes)
        assert time.monotonic() - t0 < 25
        c.sock.settimeout(10)
        send_one(c)
    s.wait_messages(RCPT, 1)


# --------------------------------------------------------------------------
# Lookups cut short


def wait_asked(lists, name, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not asked(lists, name):
        assert time.monotonic() < deadline, "%s never asked; queries: %r" % (name, lists.queries)
        time.sleep(0.02)


@pytest.mark.timeout(60)
def test_client_leaving_during_the_lookup(start_server, lists):
    s = start_server(conf=conf(lists, dnsbl="slow.test bl.test"))
    c = Raw(s, source=LISTED, greet=False)
    wait_asked(lists, "2.0.0.127.slow.test")
    c.close()                                   # the lookup is cancelled
    s.wait_log(r"disconnect from unknown\[127\.0\.0\.2\]")
    assert s.running()
    # a client that waits is greeted once the silent list times out
    with Raw(s, source=NO_TXT, greet=False, timeout=30) as c2:
        assert c2.reply().code == 554               # bl.test lists it


def test_shutdown_during_the_lookup(start_server, lists):
    s = start_server(conf=conf(lists, dnsbl="slow.test"))
    with Raw(s, source=LISTED, greet=False) as c:
        wait_asked(lists, "2.0.0.127.slow.test")
        t0 = time.monotonic()
        assert s.stop() == 0
        assert time.monotonic() - t0 < 5, "the pending lookup held the shutdown"
        replies = c.read_until_closed()
        assert [r.code for r in replies] == [421], replies


# --------------------------------------------------------------------------
# Ports and families


def test_submission_ports_are_never_checked(start_server, lists):
    s = start_tls_server(start_server, conf=conf(lists))
    with Raw(HOST, s.sub_port, source=LISTED) as c:
        assert c.greeting.code == 220, c.greeting
        c.ehlo()
        c.expect("QUIT", 221)
    c = raw_tls(HOST, s.subs_port, insecure_context(), source=LISTED)
    try:
        assert c.greeting.code == 220, c.greeting
        c.expect("QUIT", 221)
    finally:
        c.close()
    assert asked(lists, "2.0.0.127.bl.test") == [], "a submission client was looked up"
    # the port-25 listener of the same server does check
    assert_blocked(s, LISTED, "bl.test", REASON)


def _ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as t:
            t.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1) here")
def test_ipv6_client_is_checked_by_its_nibbles(start_server, lists):
    s = start_server(start=False, conf=conf(lists))
    s.write_config(listen_smtp="%s:%d [::1]:%d" % (HOST, s.port, s.port))
    s.listen = [(HOST, s.port), ("::1", s.port)]
    s.start()
    with Raw("::1", s.port) as c:
        g = c.greeting
        assert g.code == 554, g
        assert g.text == blocked_text("::1", "bl.test", "IPv6 loopback listed"), g
        c.expect("QUIT", 221)
    s.wait_log(r"blocked using bl\.test")
    assert asked(lists, V6_LOOPBACK + ".bl.test", "A")
    # the same server over IPv4, from a clean address
    assert_greeted(s, CLEAN)
