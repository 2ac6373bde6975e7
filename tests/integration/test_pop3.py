"""test_pop3 - the POP3 server over the Maildirs (issue 5).

Contract: listen_pop3 (STLS offered) and listen_pop3s (implicit TLS, RFC
8314); "+OK" greeting; CAPA with TOP, UIDL, RESP-CODES, AUTH-RESP-CODE,
PIPELINING, and USER / "SASL PLAIN" only inside TLS (or in the clear from
loopback with auth_plaintext_loopback = yes), STLS only before TLS.
USER/PASS and AUTH PLAIN (initial response or "+ " continuation) for the
users of the users file. In the clear: "-ERR [AUTH]". Wrong password:
"-ERR [AUTH]", one "POP3 authentication failed" log line, counted per IP
like SMTP AUTH. The drop is new/ + cur/ at login; new/ moves to cur/ with
":2,"; later mail is not shown until the next login. STAT/LIST sizes are
the RETR octets (CRLF) before dot-stuffing; RETR/TOP dot-stuff; UIDL stable;
DELE/RSET; deletion only at QUIT; a dropped connection deletes nothing;
[IN-USE] lock released at QUIT and at disconnect; STLS discards pipelined
bytes and starts a fresh session.

Real clients: poplib (stls and POP3_SSL), curl pop3s:// and pop3:// with
--ssl-reqd, fetchmail (skipped when it is not installed).
"""

import base64
import os
import poplib
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (DOMAIN, HOST, HOSTNAME, PASSWORD, Closed, SocketClient, make_message,
                      send_mail, wait_for)
from tlsutil import cert_path, insecure_context, verifying_context

ALICE = "alice@example.test"
BOB = "bob@example.test"
CAROL = "carol@example.test"
WRONG = "not-the-password"
SENDER = "sender@client.example.test"


# --------------------------------------------------------------------------
# Helpers


def pop3_server(start_server, **conf):
    """a started server with both POP3 listeners up; auth_failure_delay 0s."""
    c = {"auth_failure_delay": "0s"}
    c.update(conf)
    s = start_server(start=False, conf=c)
    s.listen = [(s.host, s.port), (s.host, s.pop3_port), (s.host, s.pop3s_port)]
    s.start()
    return s


def ctx_for(server):
    return verifying_context(cert_path(server))


class Pop(SocketClient):
    """A raw POP3 client over a socket (plain or TLS) for exact bytes."""

    def __init__(self, host, port, ctx=None, timeout=10.0, greet=True):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if ctx is not None:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        self.buf = b""
        self.greeting = self.line() if greet else None

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed("connection closed; unread %r" % self.buf)
        self.buf += chunk

    def rawline(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), "line without CRLF: %r" % line
        return line[:-1]

    def line(self):
        return self.rawline().decode("utf-8", "replace")

    def cmd(self, line):
        self.send(line + "\r\n")
        r = self.line()
        assert r.startswith("+OK") or r.startswith("-ERR") or r.startswith("+ "), \
            "%r: malformed status line %r" % (line, r)
        return r

    def ok(self, line):
        r = self.cmd(line)
        assert r.startswith("+OK"), "%r: got %r" % (line, r)
        return r

    def body(self):
        """the raw multi-line body (still dot-stuffed), without the final '.', CRLF ends."""
        out = []
        while True:
            l = self.rawline()
            if l == b".":
                return b"".join(x + b"\r\n" for x in out)
            out.append(l)

    def multi(self, line):
        r = self.ok(line)
        return r, self.body()

    def capa(self):
        _, b = self.multi("CAPA")
        return [l for l in b.decode().split("\r\n") if l]

    def login(self, user=ALICE, password=PASSWORD):
        self.ok("USER " + user)
        return self.ok("PASS " + password)

    def stls(self, ctx):
        r = self.cmd("STLS")
        assert r.startswith("+OK"), "STLS: %r" % r
        assert self.buf == b"", "octets after the STLS +OK before TLS: %r" % self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        return r

    def is_closed(self, timeout=5.0):
        self.sock.settimeout(timeout)
        try:
            while True:
                self._fill()
        except Closed:
            return True
        except (socket.timeout, ssl.SSLError, OSError):
            return False


def tls_pop(server, login=None):
    """a Pop on the implicit-TLS port, logged in as login when given."""
    p = Pop(HOST, server.pop3s_port, ctx=ctx_for(server))
    assert p.greeting.startswith("+OK"), p.greeting
    if login:
        p.login(login)
    return p


def unstuff(body):
    """undo POP3 dot-stuffing of a multi-line body (CRLF lines)."""
    lines = body.split(b"\r\n")
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)


def expected_pop_bytes(file_bytes):
    """the message as RETR must send it, before dot-stuffing: LF -> CRLF."""
    data = file_bytes.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if data and not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data


def deliver(server, addr, n, body_fn=None):
    """send n messages to addr over SMTP and wait for them; return their bodies."""
    before = server.count(addr)
    bodies = []
    for i in range(n):
        body = body_fn(i) if body_fn else "Message number %d.\r\n" % i
        send_mail(server, SENDER, [addr], make_message(subject="pop3 test %d" % i, body=body, to=addr))
        bodies.append(body)
    server.wait_messages(addr, before + n)
    return bodies


def maildir_names(server, addr):
    md = server.maildir(addr)
    return (sorted(p.name for p in (md / "new").glob("*") if p.is_file()),
            sorted(p.name for p in (md / "cur").glob("*") if p.is_file()))


def parse_list(body):
    out = {}
    for l in body.decode().split("\r\n"):
        if l:
            n, v = l.split(" ", 1)
            out[int(n)] = v
    return out


def failure_lines(server):
    return re.findall(r"warning: unknown\[127\.0\.0\.1\]: POP3 authentication failed: user=<(.*)>$",
                      server.log(), re.M)


# --------------------------------------------------------------------------
# Greeting, CAPA, cleartext refusal


def test_greeting_and_capa_before_and_after_stls(start_server):
    s = pop3_server(start_server)
    with Pop(HOST, s.pop3_port) as p:
        assert p.greeting.startswith("+OK"), p.greeting
        caps = p.capa()
        upper = [c.upper() for c in caps]
        for want in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
            assert want in upper, "CAPA before TLS lacks %s: %r" % (want, caps)
        assert "USER" not in upper, "USER offered in the clear: %r" % caps
        assert not any(c.startswith("SASL") for c in upper), "SASL offered in the clear: %r" % caps
        p.stls(ctx_for(s))
        caps = p.capa()
        upper = [c.upper() for c in caps]
        for want in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "USER"):
            assert want in upper, "CAPA inside TLS lacks %s: %r" % (want, caps)
        assert "STLS" not in upper, "STLS offered inside TLS: %r" % caps
        sasl = [c for c in upper if c.startswith("SASL")]
        assert sasl and "PLAIN" in sasl[0].split()[1:], "no SASL PLAIN inside TLS: %r" % caps
        r = p.cmd("STLS")
        assert r.startswith("-ERR"), "second STLS: %r" % r
        p.login()
        p.ok("QUIT")

    with tls_pop(s) as p:
        upper = [c.upper() for c in p.capa()]
        assert "STLS" not in upper and "USER" in upper, upper
        assert any(c.startswith("SASL") and "PLAIN" in c.split() for c in upper), upper
        r = p.cmd("XYZZY")
        assert r.startswith("-ERR"), "unknown command: %r" % r
        r = p.cmd("STLS")
        assert r.startswith("-ERR"), "STLS on the implicit-TLS port: %r" % r
        p.ok("QUIT")
        assert p.is_closed()


def test_cleartext_login_refused_before_stls(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 1)
    with Pop(HOST, s.pop3_port) as p:
        r = p.cmd("USER " + ALICE)
        assert r.startswith("-ERR [AUTH]"), "USER in the clear: %r" % r
        r = p.cmd("PASS " + PASSWORD)
        assert r.startswith("-ERR"), "PASS in the clear: %r" % r
        plain = base64.b64encode(("\0%s\0%s" % (ALICE, PASSWORD)).encode()).decode()
        r = p.cmd("AUTH PLAIN " + plain)
        assert r.startswith("-ERR [AUTH]"), "AUTH PLAIN in the clear: %r" % r
        r = p.cmd("STAT")
        assert r.startswith("-ERR"), "STAT without a login: %r" % r
        r = p.cmd("RETR 1")
        assert r.startswith("-ERR"), "RETR without a login: %r" % r
        p.ok("QUIT")
    # nothing was taken: the message is still in new/
    new, cur = maildir_names(s, ALICE)
    assert len(new) == 1 and cur == [], (new, cur)
    assert not failure_lines(s), "a refused cleartext login counted as a failure"
    assert PASSWORD not in s.log()


def test_plaintext_loopback_allows_login_in_clear(start_server):
    s = pop3_server(start_server, auth_plaintext_loopback="yes")
    deliver(s, ALICE, 1)
    with Pop(HOST, s.pop3_port) as p:
        upper = [c.upper() for c in p.capa()]
        assert "USER" in upper and "STLS" in upper, upper
        assert any(c.startswith("SASL") and "PLAIN" in c.split() for c in upper), upper
        p.login()
        r = p.ok("STAT")
        assert r.split()[1] == "1", r
        p.ok("QUIT")


# --------------------------------------------------------------------------
# Authentication


def test_user_pass_and_auth_plain_forms(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 2)
    plain = base64.b64encode(("\0%s\0%s" % (ALICE, PASSWORD)).encode()).decode()
    # initial response
    with tls_pop(s) as p:
        r = p.ok("AUTH PLAIN " + plain)
        assert p.ok("STAT").split()[1] == "2"
        p.ok("QUIT")
    # "+ " continuation
    with tls_pop(s) as p:
        r = p.cmd("AUTH PLAIN")
        assert r.startswith("+"), "AUTH PLAIN without initial response: %r" % r
        assert not r.startswith("+OK"), r
        r = p.cmd(plain)
        assert r.startswith("+OK"), "AUTH PLAIN continuation: %r" % r
        assert p.ok("STAT").split()[1] == "2"
        p.ok("QUIT")
    # USER/PASS through poplib's STLS
    c = poplib.POP3(HOST, s.pop3_port, timeout=15)
    try:
        assert c.getwelcome().startswith(b"+OK")
        c.stls(context=ctx_for(s))
        c.user(ALICE)
        c.pass_(PASSWORD)
        assert c.stat()[0] == 2
    finally:
        c.quit()
    # unknown user: [AUTH] too
    with tls_pop(s) as p:
        p.cmd("USER nobody@example.test")
        r = p.cmd("PASS " + PASSWORD)
        assert r.startswith("-ERR [AUTH]"), r


def test_wrong_password(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 1)
    with tls_pop(s) as p:
        p.ok("USER " + ALICE)
        t0 = time.monotonic()
        r = p.cmd("PASS " + WRONG)
        assert r.startswith("-ERR [AUTH]"), "wrong password: %r" % r
        assert time.monotonic() - t0 < 5
        # the session is still usable: not logged in, can try again
        r = p.cmd("STAT")
        assert r.startswith("-ERR"), "STAT after a failed login: %r" % r
        p.login()
        assert p.ok("STAT").split()[1] == "1"
        p.ok("QUIT")
    with tls_pop(s) as p:
        bad = base64.b64encode(("\0%s\0%s" % (ALICE, WRONG)).encode()).decode()
        r = p.cmd("AUTH PLAIN " + bad)
        assert r.startswith("-ERR [AUTH]"), "AUTH PLAIN wrong password: %r" % r
        p.ok("QUIT")
    s.wait_log(r"POP3 authentication failed: user=<alice@example\.test>", count=2)
    assert failure_lines(s) == [ALICE, ALICE], failure_lines(s)
    assert WRONG not in s.log() and PASSWORD not in s.log()


def test_wrong_password_delay(start_server):
    s = pop3_server(start_server, auth_failure_delay="1s")
    with tls_pop(s) as p:
        p.ok("USER " + ALICE)
        t0 = time.monotonic()
        r = p.cmd("PASS " + WRONG)
        dt = time.monotonic() - t0
        assert r.startswith("-ERR [AUTH]"), r
        assert dt >= 0.9, "failure answered after %.2f s, want auth_failure_delay 1s" % dt


def test_failures_block_the_address(start_server):
    s = pop3_server(start_server, auth_max_failures="2", auth_block_time="60s")
    with tls_pop(s) as p:
        p.ok("USER " + ALICE)
        r = p.cmd("PASS " + WRONG)
        assert r.startswith("-ERR [AUTH]"), r
        p.ok("USER " + ALICE)
        try:
            r = p.cmd("PASS " + WRONG + "2")
        except Closed:
            r = "(closed)"
        assert r == "(closed)" or r.startswith("-ERR"), r
    s.wait_log(r"warning: unknown\[127\.0\.0\.1\]: blocked for 60s after 2 failed authentications")
    assert failure_lines(s) == [ALICE, ALICE], failure_lines(s)
    # blocked now: even the right password does not log in
    try:
        p = tls_pop(s)
    except (Closed, ssl.SSLError, OSError, AssertionError):
        s.wait_log(r"connection from unknown\[127\.0\.0\.1\] refused: blocked for \d+ more seconds")
        return      # refused at connect / greeting
    with p:
        try:
            p.ok("USER " + ALICE)
            r = p.cmd("PASS " + PASSWORD)
        except (Closed, AssertionError):
            return
        assert not r.startswith("+OK"), "logged in from a blocked address: %r" % r


# --------------------------------------------------------------------------
# Maildir semantics


def test_new_moved_to_cur_with_info(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 2)
    new, cur = maildir_names(s, ALICE)
    assert len(new) == 2 and cur == [], (new, cur)
    with tls_pop(s, ALICE) as p:
        new2, cur2 = maildir_names(s, ALICE)
        assert new2 == [], "new/ not emptied at login: %r" % new2
        assert sorted(cur2) == sorted(n + ":2," for n in new), (new, cur2)
        # mail arriving now is not in this session's drop
        deliver(s, ALICE, 1)
        assert p.ok("STAT").split()[1] == "2"
        assert p.cmd("LIST 3").startswith("-ERR")
        assert p.cmd("RETR 3").startswith("-ERR")
        p.ok("QUIT")
    with tls_pop(s, ALICE) as p:
        assert p.ok("STAT").split()[1] == "3"
        p.ok("QUIT")
    new, cur = maildir_names(s, ALICE)
    assert new == [] and len(cur) == 3 and all(n.endswith(":2,") for n in cur), (new, cur)


DOT_BODIES = [
    "Line one.\r\n.\r\n..two dots\r\n.leading dot\r\nend\r\n",
    ".\r\n",
    "no dots here\r\n\r\n. space after dot\r\n...\r\n",
]


def test_list_sizes_match_retr_with_dot_lines(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, len(DOT_BODIES), body_fn=lambda i: DOT_BODIES[i])
    with tls_pop(s, ALICE) as p:
        r = p.ok("STAT")
        n, total = int(r.split()[1]), int(r.split()[2])
        assert n == 3, r
        _, lb = p.multi("LIST")
        sizes = parse_list(lb)
        assert sorted(sizes) == [1, 2, 3], sizes
        sizes = {k: int(v) for k, v in sizes.items()}
        assert sum(sizes.values()) == total, (sizes, total)
        files = {}
        for name in maildir_names(s, ALICE)[1]:
            data = (s.maildir(ALICE) / "cur" / name).read_bytes()
            files[data] = name
        got = []
        for i in (1, 2, 3):
            one = p.ok("LIST %d" % i).split()
            assert one[1] == str(i) and int(one[2]) == sizes[i], one
            _, body = p.multi("RETR %d" % i)
            # every line starting with "." must be stuffed
            for l in body.split(b"\r\n"):
                if l.startswith(b"."):
                    assert l.startswith(b".."), "unstuffed line %r in RETR %d" % (l, i)
            msg = unstuff(body)
            assert len(msg) == sizes[i], "RETR %d sent %d octets, LIST said %d" % (i, len(msg), sizes[i])
            got.append(msg)
        # the octets are the Maildir files with CRLF line ends
        assert sorted(got) == sorted(expected_pop_bytes(f) for f in files), "RETR content differs"
        for i, body in enumerate(DOT_BODIES):
            assert any(body.encode() in m for m in got), "body %d not retrieved intact" % i
        p.ok("QUIT")
    # poplib agrees on the octet counts (it counts unstuffed octets)
    c = poplib.POP3_SSL(HOST, s.pop3s_port, context=ctx_for(s), timeout=15)
    try:
        c.user(ALICE)
        c.pass_(PASSWORD)
        _, listing, _ = c.list()
        for entry in listing:
            num, size = map(int, entry.split())
            _, lines, octets = c.retr(num)
            assert octets == size, "poplib: RETR %d %d octets, LIST %d" % (num, octets, size)
    finally:
        c.quit()


def test_top(start_server):
    s = pop3_server(start_server)
    body = "first\r\n.dotted\r\nthird\r\nfourth\r\n"
    deliver(s, ALICE, 1, body_fn=lambda i: body)
    with tls_pop(s, ALICE) as p:
        _, full = p.multi("RETR 1")
        full = unstuff(full)
        head = full.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        _, t0 = p.multi("TOP 1 0")
        assert unstuff(t0) == head, (t0, head)
        _, t2 = p.multi("TOP 1 2")
        assert t2.endswith(b"first\r\n..dotted\r\n"), "TOP not dot-stuffed: %r" % t2[-60:]
        assert unstuff(t2) == head + b"first\r\n.dotted\r\n", t2
        _, tall = p.multi("TOP 1 100")
        assert unstuff(tall) == full
        assert p.cmd("TOP 2 0").startswith("-ERR")
        assert p.cmd("TOP 1").startswith("-ERR")
        assert p.cmd("TOP 1 -1").startswith("-ERR")
        p.ok("QUIT")
    # TOP does not delete or change anything
    assert s.count(ALICE) == 1


def test_uidl_stable_across_sessions(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 3)
    with tls_pop(s, ALICE) as p:
        _, b = p.multi("UIDL")
        first = parse_list(b)
        assert sorted(first) == [1, 2, 3] and len(set(first.values())) == 3, first
        for uid in first.values():
            assert re.fullmatch(r"[\x21-\x7e]{1,70}", uid), "bad unique-id %r" % uid
        one = p.ok("UIDL 2").split()
        assert one[1] == "2" and one[2] == first[2], one
        assert p.cmd("UIDL 9").startswith("-ERR")
        p.ok("QUIT")
    deliver(s, ALICE, 1)        # a new message in new/ between the sessions
    with tls_pop(s, ALICE) as p:
        _, b = p.multi("UIDL")
        second = parse_list(b)
        assert len(second) == 4 and len(set(second.values())) == 4, second
        assert set(first.values()) <= set(second.values()), (first, second)
        for k in (1, 2, 3):
            assert second[k] == first[k], "UIDL of message %d changed: %r -> %r" % (k, first, second)
        p.ok("QUIT")
    c = poplib.POP3_SSL(HOST, s.pop3s_port, context=ctx_for(s), timeout=15)
    try:
        c.user(ALICE)
        c.pass_(PASSWORD)
        _, lines, _ = c.uidl()
        third = {int(l.split()[0]): l.split()[1].decode() for l in lines}
        assert third == second, (second, third)
    finally:
        c.quit()


def test_dele_rset_quit_deletes_nothing(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 3)
    with tls_pop(s, ALICE) as p:
        p.ok("DELE 1")
        p.ok("DELE 3")
        assert p.cmd("DELE 1").startswith("-ERR"), "DELE twice"
        assert p.cmd("RETR 1").startswith("-ERR"), "RETR of a deleted message"
        r = p.ok("STAT")
        assert r.split()[1] == "1", "STAT after DELE: %r" % r
        r = p.ok("RSET")
        r = p.ok("STAT")
        assert r.split()[1] == "3", "STAT after RSET: %r" % r
        p.multi("RETR 1")
        p.ok("QUIT")
    assert s.count(ALICE) == 3
    with tls_pop(s, ALICE) as p:
        assert p.ok("STAT").split()[1] == "3"
        p.ok("QUIT")


def test_dele_quit_deletes(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 3, body_fn=lambda i: "body-%d\r\n" % i)
    with tls_pop(s, ALICE) as p:
        _, b = p.multi("UIDL")
        uids = parse_list(b)
        _, m2 = p.multi("RETR 2")
        p.ok("DELE 2")
        # still there until QUIT
        assert s.count(ALICE) == 3
        p.ok("QUIT")
        assert p.is_closed()
    assert s.count(ALICE) == 2
    left = b"".join(s.messages(ALICE))
    assert unstuff(m2).replace(b"\r\n", b"\n").split(b"\n\n", 1)[1] not in left
    with tls_pop(s, ALICE) as p:
        _, b = p.multi("UIDL")
        after = parse_list(b)
        assert sorted(after.values()) == sorted([uids[1], uids[3]]), (uids, after)
        p.ok("QUIT")


def test_dele_then_disconnect_deletes_nothing(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 2)
    p = tls_pop(s, ALICE)
    p.ok("DELE 1")
    p.ok("DELE 2")
    p.sock.close()                  # no QUIT
    # the lock must be released at disconnect, and nothing deleted
    def relogin():
        q = tls_pop(s)
        q.ok("USER " + ALICE)
        r = q.cmd("PASS " + PASSWORD)
        if r.startswith("+OK"):
            return q
        assert r.startswith("-ERR [IN-USE]"), r
        q.close()
        return None
    q = wait_for(relogin, timeout=10, interval=0.1, what="the lock released after a disconnect")
    with q:
        assert q.ok("STAT").split()[1] == "2"
        q.ok("QUIT")
    assert s.count(ALICE) == 2


def test_in_use_lock_and_release(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 1)
    deliver(s, BOB, 1)
    a = tls_pop(s, ALICE)
    try:
        # a second login to the same mailbox, USER/PASS
        with tls_pop(s) as b:
            r = b.cmd("USER " + ALICE)
            if r.startswith("+OK"):
                r = b.cmd("PASS " + PASSWORD)
            assert r.startswith("-ERR [IN-USE]"), "second login: %r" % r
            # and AUTH PLAIN on the STLS port
        with Pop(HOST, s.pop3_port) as b:
            b.stls(ctx_for(s))
            plain = base64.b64encode(("\0%s\0%s" % (ALICE, PASSWORD)).encode()).decode()
            r = b.cmd("AUTH PLAIN " + plain)
            assert r.startswith("-ERR [IN-USE]"), "second login (AUTH PLAIN): %r" % r
        # another mailbox is not locked
        with tls_pop(s, BOB) as b:
            assert b.ok("STAT").split()[1] == "1"
            b.ok("QUIT")
        # the first session is unharmed
        assert a.ok("STAT").split()[1] == "1"
        a.ok("QUIT")
    finally:
        a.close()
    # released at QUIT
    with tls_pop(s, ALICE) as b:
        assert b.ok("STAT").split()[1] == "1"
        b.ok("QUIT")
    assert s.count(ALICE) == 1


# --------------------------------------------------------------------------
# STLS


def test_stls_discards_pipelined_commands(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 1)
    p = Pop(HOST, s.pop3_port)
    try:
        p.send("STLS\r\nUSER %s\r\n" % ALICE)
        r = p.line()
        assert r.startswith("+OK"), "STLS: %r" % r
        # no answer to the USER in the clear (wait briefly for a stray one)
        p.sock.settimeout(0.5)
        try:
            p._fill()
        except (socket.timeout, Closed):
            pass
        p.sock.settimeout(10)
        assert p.buf == b"", "answered in the clear after STLS: %r" % p.buf
        p.sock = ctx_for(s).wrap_socket(p.sock, server_hostname=HOSTNAME)
        # the injected USER was thrown away: PASS alone does not log in
        r = p.cmd("PASS " + PASSWORD)
        assert r.startswith("-ERR"), "injected USER survived STLS: PASS got %r" % r
        r = p.cmd("STAT")
        assert r.startswith("-ERR"), "logged in by the injected USER: %r" % r
        # a fresh session works
        p.login()
        assert p.ok("STAT").split()[1] == "1"
        p.ok("QUIT")
    finally:
        p.close()
    # nothing was logged as a login by the injection and nothing deleted
    assert s.count(ALICE) == 1


# --------------------------------------------------------------------------
# Real clients: curl, fetchmail


def curl(server, url, *extra):
    args = ["curl", "-sS", "--max-time", "20", "--cacert", str(cert_path(server)),
            "--resolve", "%s:%d:%s" % (HOSTNAME, server.pop3s_port, HOST),
            "--resolve", "%s:%d:%s" % (HOSTNAME, server.pop3_port, HOST),
            "-u", "%s:%s" % (ALICE, PASSWORD)] + list(extra) + [url]
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)


def test_curl_pop3s_list_and_retr(start_server):
    s = pop3_server(start_server)
    deliver(s, ALICE, 2, body_fn=lambda i: "curl body %d\r\n.dot line %d\r\n" % (i, i))
    base = "pop3s://%s:%d/" % (HOSTNAME, s.pop3s_port)
    p = curl(s, base)
    assert p.returncode == 0, "curl list: %d %s" % (p.returncode, p.stderr.decode())
    listing = parse_list(p.stdout)
    assert sorted(listing) == [1, 2], p.stdout
    p = curl(s, base + "1")
    assert p.returncode == 0, "curl retr: %d %s" % (p.returncode, p.stderr.decode())
    assert b"curl body 0\r\n.dot line 0\r\n" in p.stdout, p.stdout
    assert len(p.stdout) == int(listing[1]), "curl got %d octets, LIST said %s" % (len(p.stdout), listing[1])
    # -k as well, and STLS on the plain port with --ssl-reqd
    p = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "-u", "%s:%s" % (ALICE, PASSWORD),
                        "pop3s://%s:%d/2" % (HOST, s.pop3s_port)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr.decode()
    assert b"curl body 1\r\n.dot line 1\r\n" in p.stdout, p.stdout
    p = curl(s, "pop3://%s:%d/1" % (HOSTNAME, s.pop3_port), "--ssl-reqd")
    assert p.returncode == 0, "curl STLS: %d %s" % (p.returncode, p.stderr.decode())
    assert b"curl body 0" in p.stdout
    # wrong password: curl fails (67: login denied)
    p = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "-u", "%s:%s" % (ALICE, WRONG),
                        "pop3s://%s:%d/1" % (HOST, s.pop3s_port)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 67, "curl with a wrong password: %d %s" % (p.returncode, p.stderr.decode())
    assert s.count(ALICE) == 2


@pytest.mark.timeout(90)
@pytest.mark.skipif(shutil.which("fetchmail") is None, reason="fetchmail is not installed")
def test_fetchmail_retrieves_and_deletes(start_server, tmp_path):
    s = pop3_server(start_server)
    deliver(s, ALICE, 3, body_fn=lambda i: "fetchmail body %d\r\n.dot %d\r\n" % (i, i))
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "out.mbox"
    rc = home / "fetchmailrc"
    rc.write_text(
        "set no syslog\n"
        "poll 127.0.0.1 protocol POP3 port %d timeout 20\n"
        "  user \"%s\" there with password \"%s\" is \"root\" here\n"
        "  ssl no sslcertck\n"
        "  no keep\n"
        "  mda \"cat >> %s\"\n" % (s.pop3s_port, ALICE, PASSWORD, out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=str(home), FETCHMAILHOME=str(home))
    p = subprocess.run(["fetchmail", "-f", str(rc), "-v", "--nodetach", "--nosyslog",
                        "--pidfile", str(home / "pid")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
    text = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "fetchmail exit %d:\n%s" % (p.returncode, text)
    got = out.read_bytes()
    for i in range(3):
        assert b"fetchmail body %d\n.dot %d\n" % (i, i) in got.replace(b"\r\n", b"\n"), got
    assert got.count(b"Subject: pop3 test") == 3, got
    # no keep: deleted at QUIT
    assert s.count(ALICE) == 0, "fetchmail's DELE/QUIT left %d messages" % s.count(ALICE)
    assert "3 messages" in text, text


def test_autologout_deletes_nothing_and_unlocks(start_server):
    """RFC 1939 3: a silent client is logged out (pop3_timeout, 10 minutes
    by default; 1 s here); its DELE marks are forgotten and the mailbox is
    free again."""
    s = pop3_server(start_server, pop3_timeout="1s")
    deliver(s, ALICE, 2)
    p = tls_pop(s, login=ALICE)
    assert p.cmd("DELE 1").startswith("+OK")
    assert p.is_closed(timeout=5.0), "the silent session was not logged out"
    s.wait_log(r"pop3: autologout of unknown\[127\.0\.0\.1\]")
    new, cur = maildir_names(s, ALICE)
    assert len(new) + len(cur) == 2, (new, cur)
    q = tls_pop(s, login=ALICE)             # not [IN-USE]: the lock went with it
    assert q.cmd("STAT").startswith("+OK 2 ")
    q.cmd("QUIT")
