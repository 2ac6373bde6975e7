"""relayutil - helpers for the outbound delivery tests (issue 4): test_relay_*.py.

Not a test module. What it gives:

  Peer        a receiving SMTP server (aiosmtpd) on its own loopback address
              (127.0.0.2, 127.0.0.3, ...) and the shared smtp_port; it records
              every transaction (envelope, options, data, TLS, AUTH) and every
              RCPT, and answers chosen recipients with chosen replies
              (peer.rules["bob@far.test"] = ["451 4.3.0 later"] - a list is used
              up one reply per RCPT, then the address is accepted; a string is
              given every time).
  SilentPeer  a listener that accepts connections and never speaks (timeouts)
  GreetPeer   a listener that greets with a fixed reply (a 421) and hangs up
  RelayEnv    one test's world: the in-test DNS server (dnsserver.py), the
              smtp_port, the peers, and postino started with dns_servers and
              smtp_port pointing at them (the fixture relay_env of conftest)
  send_authed one message submitted as an authenticated local user on the
              submissions port (implicit TLS); returns the queue id
  DSN, parse_dsn, wait_notices   the delivery reports that land in a local
              sender's Maildir, parsed with the email package

Nothing here leaves loopback: every peer, the DNS server and postino bind to
127.0.0.x, and run-integration runs the tests in a network namespace with
only lo.
"""

import email
import email.policy
import pathlib
import re
import smtplib
import socket
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

import conftest
from conftest import CLIENT_NAME, HOST, PASSWORD, free_port, wait_for
from dnsserver import DNSTestServer
from tlsutil import make_cert, start_tls_server

ALICE = "alice@example.test"
BOB = "bob@example.test"


# --------------------------------------------------------------------------
# Receiving peers


class Transaction:
    """One mail transaction a peer took (its DATA was answered 2xx)."""

    def __init__(self, session, envelope, per_rcpt):
        self.mail_from = envelope.mail_from
        self.mail_options = list(envelope.mail_options)
        self.rcpts = list(envelope.rcpt_tos)
        self.rcpt_options = list(per_rcpt)        # [(address, [options])]
        self.data = envelope.original_content or envelope.content   # bytes as received
        self.helo = session.host_name
        ssl_obj = None
        if isinstance(session.ssl, dict):
            ssl_obj = session.ssl.get("ssl_object")
        self.tls_version = ssl_obj.version() if ssl_obj else None
        self.tls_cipher = ssl_obj.cipher()[0] if ssl_obj else None
        self.authenticated = bool(session.authenticated)
        self.auth_data = session.auth_data
        self.peer = session.peer

    def message(self):
        return email.message_from_bytes(self.data, policy=email.policy.compat32)

    def __repr__(self):
        return "Transaction(from=%r, rcpts=%r, tls=%r)" % (self.mail_from, self.rcpts,
                                                            self.tls_version)


class _Handler:
    def __init__(self, peer):
        self.peer = peer

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.peer.lock:
            self.peer.ehlos.append(hostname)
        extra = []
        if self.peer.pipelining:
            extra.append("250-PIPELINING")
        if self.peer.dsn:
            extra.append("250-DSN")
        return responses[:-1] + extra + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.per_rcpt = []
        # What was already read behind MAIL: the pipelined RCPTs and DATA.
        try:
            behind = bytes(server._reader._buffer)
        except AttributeError:
            behind = b""
        with self.peer.lock:
            self.peer.mails.append((address, list(mail_options)))
            self.peer.behind_mail.append(behind)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.peer._rule(address)
        with self.peer.lock:
            self.peer.rcpt_log.append((address, reply or "250"))
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        if not hasattr(envelope, "per_rcpt"):
            envelope.per_rcpt = []
        envelope.per_rcpt.append((address, list(rcpt_options)))
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = self.peer.data_reply
        if isinstance(reply, list):
            reply = reply.pop(0) if reply else None
        t = Transaction(session, envelope, getattr(envelope, "per_rcpt", []))
        with self.peer.lock:
            self.peer.data_count += 1
            if reply and reply[0] != "2":
                self.peer.refused_data.append(t)
                return reply
            self.peer.transactions.append(t)
        return reply or "250 2.0.0 OK: queued at %s" % self.peer.name


class _DsnSMTP(SMTP):
    """aiosmtpd's SMTP taking the RFC 3461 parameters (it refuses unknown
    ones with 555); the handler sees them in mail_options / rcpt_options."""

    def _getparams(self, params):
        result = super()._getparams(params)
        if result is not None:
            for k in ("NOTIFY", "ORCPT", "RET", "ENVID"):
                result.pop(k, None)
        return result


class _Controller(Controller):
    def __init__(self, handler, peer, **kw):
        self._peer = peer
        super().__init__(handler, **kw)

    def factory(self):
        cls = _DsnSMTP if self._peer.dsn else SMTP
        return cls(self.handler, **self.SMTP_kwargs)


class Peer:
    """Peer - an aiosmtpd server on host:port that records what it gets.

    name: the greeting's host name. tls: offer STARTTLS (a self-signed
    certificate made in workdir). smtputf8: advertise SMTPUTF8.
    auth: {user: password} - offer AUTH (PLAIN, LOGIN), after STARTTLS only
    unless auth_require_tls is False, and record every attempt.
    dsn: advertise DSN and take NOTIFY, ORCPT, RET, ENVID. pipelining:
    advertise PIPELINING (aiosmtpd reads commands in order, so it copes).
    """

    def __init__(self, host, port, workdir, name=None, tls=False, smtputf8=False, auth=None,
                 auth_require_tls=True, data_size_limit=33554432, dsn=False, pipelining=False,
                 implicit_tls=False):
        self.host, self.port = host, port
        self.dsn, self.pipelining = dsn, pipelining
        self.name = name or "peer-%s" % host
        self.lock = threading.Lock()
        self.transactions = []      # Transaction, in order
        self.refused_data = []      # transactions refused after DATA
        self.mails = []             # (sender, options) of every MAIL
        self.behind_mail = []       # the octets already received when MAIL was handled
        self.rcpt_log = []          # (address, "250" or the refusal) of every RCPT
        self.ehlos = []
        self.auth_attempts = []     # (mechanism, user, password)
        self.data_count = 0
        self.rules = {}             # lower-case address -> reply or [replies...]
        self.data_reply = None      # None: 250; a reply string, or a list used up in turn
        kw = dict(server_hostname=self.name, enable_SMTPUTF8=smtputf8,
                  data_size_limit=data_size_limit, ready_timeout=10)
        if tls or implicit_tls:
            cert, key = make_cert(workdir, self.name, name="peer-%s" % host)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cert, key)
            if not implicit_tls:
                kw.update(tls_context=ctx, require_starttls=False)
        ctl_kw = {"ssl_context": ctx} if implicit_tls else {}
        if auth is not None:
            self.users = dict(auth)
            kw.update(authenticator=self._authenticate, auth_require_tls=auth_require_tls)
        self.controller = _Controller(_Handler(self), self, hostname=host, port=port, **ctl_kw,
                                      **kw)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = False
        user = pw = None
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode("utf-8", "replace")
            pw = auth_data.password.decode("utf-8", "replace")
            ok = self.users.get(user) == pw
        with self.lock:
            self.auth_attempts.append((mechanism, user, pw, bool(session.ssl)))
        return AuthResult(success=ok, handled=False, auth_data=user if ok else None)

    def _rule(self, address):
        with self.lock:
            r = self.rules.get(address.lower())
            if isinstance(r, list):
                if not r:
                    del self.rules[address.lower()]
                    return None
                return r.pop(0)
            return r

    def rcpts_seen(self, address=None):
        with self.lock:
            return [a for a, _ in self.rcpt_log if address is None or a.lower() == address.lower()]

    def delivered_to(self):
        """delivered_to - every recipient of every accepted transaction, in order"""
        with self.lock:
            return [r for t in self.transactions for r in t.rcpts]

    def wait_transactions(self, n, timeout=10.0):
        def enough():
            with self.lock:
                return len(self.transactions) >= n
        wait_for(enough, timeout, what="%d transaction(s) at %s (%s)" % (n, self.name, self.host))
        with self.lock:
            return list(self.transactions)


class _RawListener:
    """A TCP listener in a thread; serve(conn) per connection."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.connections = 0
        self.conns = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.connections += 1
            self.conns.append(conn)
            try:
                self.serve(conn)
            except OSError:
                pass

    def serve(self, conn):
        pass

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


class SilentPeer(_RawListener):
    """Accepts connections and says nothing (the client must time out)."""


class GreetPeer(_RawListener):
    """Greets with a fixed reply, reads whatever comes for a moment, hangs up."""

    def __init__(self, host, port, greeting="421 4.3.2 busy, try another server"):
        super().__init__(host, port)
        self.greeting = greeting
        self.received = b""

    def serve(self, conn):
        conn.sendall(self.greeting.encode() + b"\r\n")
        conn.settimeout(0.5)
        try:
            while True:
                d = conn.recv(4096)
                if not d:
                    break
                self.received += d
        except (socket.timeout, OSError):
            pass
        conn.close()


# --------------------------------------------------------------------------
# The world of one test


class RelayEnv:
    """RelayEnv - the DNS server, the peers, and the postino under test.

    env.dns       the DNSTestServer (started); env.zone("text") adds records
    env.port      the smtp_port all peers listen on
    env.peer(ip, **kw)     start a Peer on ip:port (stopped at teardown)
    env.start(**conf)      start postino: relay defaults + conf, listening on
                           smtp, submission and submissions
    env.server    the postino Server
    """

    DEFAULTS = {
        "retry_intervals": "1s",
        "smtp_connect_timeout": "2s",
        "smtp_client_timeout": "5s",
    }

    def __init__(self, start_server, workdir):
        self._start_server = start_server
        self.workdir = pathlib.Path(workdir)
        self.dns = DNSTestServer(host=HOST)
        self.dns.start()
        self.port = free_port("127.0.0.2")
        self.peers = []
        self.server = None

    def zone(self, text):
        self.dns.load_text(text)

    def peer(self, ip, **kw):
        p = Peer(ip, self.port, self.workdir, **kw)
        self.peers.append(p)
        return p.start()

    def raw(self, cls, ip, **kw):
        p = cls(ip, self.port, **kw)
        self.peers.append(p)
        return p.start()

    def conf(self, **extra):
        c = dict(self.DEFAULTS)
        c.update({"dns_servers": "%s:%d" % (HOST, self.dns.port), "smtp_port": str(self.port)})
        c.update(extra)
        return c

    def start(self, name=None, **conf):
        self.server = start_tls_server(self._start_server, name=name, conf=self.conf(**conf))
        return self.server

    def close(self):
        for p in self.peers:
            try:
                p.stop()
            except Exception:   # keep stopping the others
                pass
        self.dns.stop()

    def queries(self, name=None, qtype=None):
        """queries - (name, TYPE) asked of the DNS server, in order"""
        out = []
        for n, t, _ in list(self.dns.queries):
            if name is not None and n.rstrip(".").lower() != name.rstrip(".").lower():
                continue
            if qtype is not None and t != qtype:
                continue
            out.append((n, t))
        return out


# --------------------------------------------------------------------------
# Submitting mail as a local user


def _insecure():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def send_authed(server, rcpts, data, sender=ALICE, user=ALICE, mail_options=(),
                rcpt_options=None):
    """send_authed - one transaction on the submissions port after AUTH;
    every step must succeed; returns the queue id.

    rcpt_options: None, or {address: [options]}.
    """
    with smtplib.SMTP_SSL(HOST, server.subs_port, local_hostname=CLIENT_NAME, timeout=15,
                          context=_insecure()) as c:
        c.ehlo()
        c.login(user, PASSWORD)
        code, msg = c.mail(sender, list(mail_options))
        assert code == 250, "MAIL FROM:<%s>: %d %r" % (sender, code, msg)
        for r in rcpts:
            opts = (rcpt_options or {}).get(r, [])
            code, msg = c.rcpt(r, list(opts))
            assert code == 250, "RCPT TO:<%s>: %d %r" % (r, code, msg)
        code, msg = c.data(data)
        assert code == 250, "end of data: %d %r" % (code, msg)
        return conftest.queue_id(msg)


# --------------------------------------------------------------------------
# Delivery reports


class DSN:
    """DSN - a delivery report as it lies in a Maildir.

    raw        the file's bytes
    msg        email.message.Message of the whole file
    human      the text of the first part
    fields     the per-message fields (a Message: dsn.fields["Reporting-MTA"])
    rcpts      the per-recipient field blocks (Messages), in order
    original   the third part: a Message (message/rfc822) or the header text
               (text/rfc822-headers)
    """

    def __init__(self, raw):
        self.raw = raw
        self.msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        msg = self.msg
        assert msg.get_content_type() == "multipart/report", \
            "not a multipart/report: %s\n%s" % (msg.get_content_type(), raw[:2000])
        assert msg.get_param("report-type") == "delivery-status", msg.get("Content-Type")
        parts = msg.get_payload()
        assert isinstance(parts, list) and len(parts) in (2, 3), \
            "a report has 2 or 3 parts, this one %s:\n%s" % (
                len(parts) if isinstance(parts, list) else "none", raw[:3000])
        self.parts = parts
        assert parts[0].get_content_type() == "text/plain", parts[0].get_content_type()
        self.human = parts[0].get_payload(decode=True).decode("utf-8", "replace")
        assert parts[1].get_content_type() == "message/delivery-status", parts[1].get_content_type()
        blocks = parts[1].get_payload()
        assert isinstance(blocks, list) and len(blocks) >= 2, \
            "message/delivery-status with %r blocks" % (blocks,)
        self.fields = blocks[0]
        self.rcpts = blocks[1:]
        self.original = None
        self.original_type = None
        if len(parts) == 3:
            self.original_type = parts[2].get_content_type()
            if self.original_type == "message/rfc822":
                self.original = parts[2].get_payload()[0]
            else:
                self.original = parts[2].get_payload(decode=True).decode("utf-8", "replace")

    def rcpt(self, address):
        """rcpt - the per-recipient block whose Final-Recipient is address"""
        for b in self.rcpts:
            fr = b.get("Final-Recipient", "")
            if fr.split(";", 1)[-1].strip().lower() == address.lower():
                return b
        raise AssertionError("no Final-Recipient %s in the report; blocks: %s"
                             % (address, [str(b) for b in self.rcpts]))

    def actions(self):
        return [b.get("Action", "").strip().lower() for b in self.rcpts]


def parse_dsn(raw):
    return DSN(raw)


def return_path(raw):
    first = raw.split(b"\n", 1)[0]
    assert first.startswith(b"Return-Path: "), first
    return first[len(b"Return-Path: "):].strip().decode("utf-8", "replace")


def wait_notices(server, addr, n, timeout=10.0):
    """wait_notices - wait for n messages in addr's Maildir; parse them as DSNs
    (each must come from <>)."""
    msgs = server.wait_messages(addr, n, timeout=timeout)
    out = []
    for m in msgs:
        assert return_path(m) == "<>", "a notice not from <>: %r" % m[:300]
        out.append(DSN(m))
    return out


def status_lines(server, qid):
    """status_lines - the log's "ID: to=<...>, relay=..., status=..." lines of qid"""
    rx = re.compile(r"^.*%s: to=<[^>]*>, (?:orig_to=<[^>]*>, )?relay=.*status=.*$" % re.escape(qid),
                    re.M)
    return rx.findall(server.log())


def queue_json(server):
    """queue_json - `postino queue list --json`, parsed"""
    import json
    p = server.cli("queue", "list", "--json")
    assert p.returncode == 0, "queue list --json: %d %s" % (p.returncode, p.stderr.decode())
    return json.loads(p.stdout.decode("utf-8"))


def queue_ids(server):
    return [m["id"] for m in queue_json(server)["messages"]]


def wait_queue_empty(server, timeout=10.0):
    wait_for(lambda: queue_ids(server) == [], timeout, interval=0.1,
             what="an empty queue (now %s)" % queue_json(server))
