"""test_connect - `postino doctor --connect HOST[:PORT]` (issue 8): a mail
server tried the way a mail program would, and what is wrong said in words.

One test per way that "cannot connect to the SMTP server" happens: a name
that does not resolve, a refused connection, a connection that times out
(a full listen queue drops the SYN, as a firewall would), a port that
stays silent, postino's implicit-TLS port reached in the clear and its
STARTTLS port reached with TLS first, a certificate for another name, a
self-signed one, an expired one, a TLS version in common with nobody, a
server without STARTTLS, good and bad credentials, and port 25 used for
submission. The last line of the output says what to set, or the problem;
the exit status is 0 only when the server can take mail from a mail
program.

Names: a DNS server on 127.0.0.1:53 (the resolver of the test namespace,
see scripts/run-integration) serves mx.example.test -> 127.0.0.1, the name
in the certificate postino makes. Tests that need it, or the real ports
25, 465 and 587, are skipped outside the network namespace.
"""

import base64
import datetime
import os
import pathlib
import socket
import ssl
import threading
import warnings

import pytest

from conftest import HOST, HOSTNAME, PASSWORD, free_port
from dnsserver import DNSTestServer
from relayutil import Peer
from tlsutil import cert_path, make_cert, start_tls_server

ALICE = "alice@example.test"


def doctor(cli, *args, input=None, timeout=60):
    """doctor - run `postino doctor --connect ...`; (status, stdout, stderr) as text."""
    p = cli(["doctor", "--connect"] + [str(a) for a in args], input=input, timeout=timeout)
    print("$ postino doctor --connect %s\n%s" % (" ".join(str(a) for a in args),
                                                 p.stdout.decode("utf-8", "replace")))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def lines(out, tag):
    """lines - the text of the steps marked tag ("ok", "problem", "note")."""
    return [l.strip()[len(tag):].strip() for l in out.splitlines()
            if l.startswith("  ") and l.strip().split(" ", 1)[0] == tag]


def last_line(out):
    return out.rstrip("\n").splitlines()[-1]


def in_namespace():
    return os.environ.get("POSTINO_NETNS") == "1"


@pytest.fixture(scope="module")
def dns53():
    """dns53 - the system resolver's server (127.0.0.1:53) in the test namespace."""
    if not in_namespace():
        pytest.skip("needs the network namespace of scripts/run-integration (port 53)")
    srv = DNSTestServer(port=53)
    srv.add("mx.example.test", "A", "127.0.0.1")
    srv.add("other.example.test", "A", "127.0.0.1")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def password_file(tmp_path):
    def make(pw=PASSWORD):
        p = tmp_path / ("pw-%d" % len(list(tmp_path.glob("pw-*"))))
        p.write_text(pw + "\n")
        return str(p)
    return make


@pytest.fixture
def tls_server(start_server):
    return start_tls_server(start_server)


class Silent:
    """A listener that accepts and never writes (nor reads)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop_ = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        self.sock.settimeout(0.1)
        while not self.stop_.is_set():
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        self.stop_.set()
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


class TLSOnly:
    """An implicit-TLS listener with a given SSLContext: it handshakes (or
    fails to) and then greets, for the certificate and version cases."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.sock = socket.socket()
        self.sock.bind((HOST, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.stop_ = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(5)
            try:
                t = self.ctx.wrap_socket(c, server_side=True)
                t.sendall(b"220 tls-only.test ESMTP\r\n")
                f = t.makefile("rb")
                for line in f:
                    cmd = line.strip().upper()
                    if cmd.startswith(b"EHLO"):
                        t.sendall(b"250-tls-only.test\r\n250 AUTH PLAIN LOGIN\r\n")
                    elif cmd == b"QUIT":
                        t.sendall(b"221 bye\r\n")
                        break
                    else:
                        t.sendall(b"502 no\r\n")
                t.close()
            except (OSError, ssl.SSLError):
                c.close()

    def close(self):
        self.stop_.set()
        self.thread.join(2)
        self.sock.close()


# --------------------------------------------------------------------------
# Before SMTP: names and connections


def test_closed_port(cli):
    port = free_port()
    rc, out, err = doctor(cli, "%s:%d" % (HOST, port), "--timeout", "2")
    assert rc == 1, (out, err)
    probs = lines(out, "problem")
    assert probs and "refused" in probs[0] and "nothing listens there" in probs[0], out
    assert last_line(out).startswith("Problem: the connection to 127.0.0.1 port %d was refused" % port), out


def test_name_does_not_resolve(cli, dns53):
    rc, out, err = doctor(cli, "nowhere.example.test:587", "--timeout", "2")
    assert rc == 1, (out, err)
    assert "the name nowhere.example.test does not exist in the DNS" in last_line(out), out
    assert "Port 587" not in out, "no port is tried without an address:\n" + out


@pytest.mark.parametrize("name, want", [
    ("mxonly.example.test", "the name mxonly.example.test has no address (no A or AAAA record)"),
    ("broken.example.test", "the name broken.example.test could not be looked up now: the DNS "
                            "did not answer, or failed"),
])
def test_name_without_address(cli, dns53, name, want):
    dns53.add("mxonly.example.test", "MX", "10 mx.example.test.")
    dns53.set_marker("broken.example.test", "SERVFAIL")
    rc, out, err = doctor(cli, name, "--timeout", "2")
    assert rc == 1, (out, err)
    assert last_line(out).startswith("Problem: " + want), out


def test_name_resolves(cli, dns53, tls_server):
    rc, out, err = doctor(cli, "mx.example.test:%d" % tls_server.sub_port, "--cafile",
                          cert_path(tls_server), "--timeout", "5")
    assert rc == 0, (out, err)
    assert "mx.example.test has the address 127.0.0.1" in lines(out, "ok"), out


def test_connect_timeout(cli):
    """A listener whose accept queue is full drops new SYNs: the client sees
    what a firewall that drops packets looks like (a timeout)."""
    lst = socket.socket()
    lst.bind((HOST, 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fillers = []
    try:
        # fill the accept queue (backlog 0 takes one; a second makes sure)
        for _ in range(2):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((HOST, port))
            fillers.append(s)
        rc, out, err = doctor(cli, "%s:%d" % (HOST, port), "--timeout", "1")
    finally:
        for s in fillers:
            s.close()
        lst.close()
    assert rc == 1, (out, err)
    probs = lines(out, "problem")
    assert probs and "no answer from 127.0.0.1 port %d within 1 s: a firewall drops the connection" % port in probs[0], out


def test_silent_port(cli):
    """Connected, no greeting: TLS is tried in case the port is an SSL/TLS
    one; it stays silent to that too."""
    s = Silent()
    try:
        rc, out, err = doctor(cli, "%s:%d" % (HOST, s.port), "--timeout", "1")
    finally:
        s.close()
    assert rc == 1, (out, err)
    notes = lines(out, "note")
    assert any("no greeting within 1 s; trying TLS from the first byte" in n for n in notes), out
    probs = lines(out, "problem")
    assert probs and "says nothing, neither SMTP nor TLS" in probs[0], out
    assert "firewall" in probs[0]
    assert last_line(out).startswith("Problem: connected to port %d, but the server says nothing" % s.port)


# --------------------------------------------------------------------------
# TLS modes


def test_implicit_port_reached_in_the_clear(cli, dns53, tls_server):
    """postino's SSL/TLS port tried as STARTTLS: silence, then TLS works."""
    port = tls_server.subs_port
    rc, out, err = doctor(cli, "mx.example.test:%d" % port, "--cafile", cert_path(tls_server),
                          "--timeout", "1")
    assert rc == 0, (out, err)
    notes = lines(out, "note")
    assert any("port %d speaks TLS from the first byte (implicit TLS): in the mail program, "
               "use SSL/TLS on port %d, not STARTTLS" % (port, port) in n for n in notes), out
    assert any(o.startswith("TLS: TLSv1.") and "certificate for mx.example.test" in o
               and "verified" in o for o in lines(out, "ok")), out
    assert last_line(out) == ("Use: server mx.example.test, port %d, SSL/TLS, your full address "
                              "as user name" % port), out


def test_starttls_port_reached_with_tls(cli, dns53, start_server):
    """Port 465 that speaks plain SMTP with STARTTLS: the TLS handshake meets
    a greeting; the doctor says so and goes on with STARTTLS."""
    if not in_namespace():
        pytest.skip("needs port 465 of the network namespace")
    s = start_server(start=False, conf={"listen_submission": "%s:465" % HOST})
    s.sub_port = 465
    s.listen = [(HOST, 465)]
    s.start()
    rc, out, err = doctor(cli, "mx.example.test:465", "--cafile", cert_path(s), "--timeout", "2")
    assert rc == 0, (out, err)
    assert any("port 465 does not speak TLS from the first byte" in n for n in lines(out, "note")), out
    assert last_line(out) == ("Use: server mx.example.test, port 465, STARTTLS, your full address "
                              "as user name"), out


def test_no_starttls(cli, tmp_path):
    port = free_port()
    peer = Peer(HOST, port, tmp_path, name="plain.test").start()
    try:
        rc, out, err = doctor(cli, "%s:%d" % (HOST, port), "--timeout", "2")
    finally:
        peer.stop()
    assert rc == 1, (out, err)
    assert any(o.startswith("greeting: 220 ") for o in lines(out, "ok")), out
    probs = lines(out, "problem")
    assert probs and probs[0].startswith("the server does not offer STARTTLS on port %d" % port), out
    assert "unencrypted" in probs[0]


# --------------------------------------------------------------------------
# Certificates and TLS versions


def test_certificate_for_another_name(cli, dns53, start_server, tmp_path):
    cert, key = make_cert(tmp_path, "other.example.test")
    s = start_tls_server(start_server, conf={"tls_cert": cert, "tls_key": key})
    rc, out, err = doctor(cli, "mx.example.test:%d" % s.sub_port, "--cafile", cert,
                          "--user", ALICE, "--password-file", tmp_path / "none", "--timeout", "2")
    # the password file does not exist: nothing is tried at all
    assert rc == 2 and "cannot read the password file" in err, (out, err)
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD + "\n")
    rc, out, err = doctor(cli, "mx.example.test:%d" % s.sub_port, "--cafile", cert,
                          "--user", ALICE, "--password-file", pw, "--timeout", "2")
    assert rc == 1, (out, err)
    probs = lines(out, "problem")
    assert probs and probs[0].startswith("the certificate is for other.example.test, not "
                                         "mx.example.test"), out
    assert any("the password was not tried" in n for n in lines(out, "note")), out
    assert last_line(out).startswith("Problem: the certificate is for other.example.test"), out


def test_self_signed_without_cafile(cli, dns53, tls_server):
    rc, out, err = doctor(cli, "mx.example.test:%d" % tls_server.sub_port, "--timeout", "2")
    assert rc == 1, (out, err)
    probs = lines(out, "problem")
    assert probs and "is self-signed" in probs[0] and "--cafile" in probs[0], out
    # the rest is still looked at: AUTH is offered
    assert any(o.startswith("AUTH offered inside TLS: PLAIN LOGIN") for o in lines(out, "ok")), out


def _expired_cert(directory, name):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30))
            .not_valid_after(now - datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .sign(key, hashes.SHA256()))
    c, k = pathlib.Path(directory) / "expired.crt", pathlib.Path(directory) / "expired.key"
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    return str(c), str(k), (now - datetime.timedelta(days=2)).strftime("%Y-%m-%d")


def test_expired_certificate(cli, dns53, tmp_path):
    pytest.importorskip("cryptography")
    cert, key, day = _expired_cert(tmp_path, HOSTNAME)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = TLSOnly(ctx)
    try:
        rc, out, err = doctor(cli, "%s:%d" % (HOSTNAME, srv.port), "--cafile", cert,
                              "--timeout", "1")
    finally:
        srv.close()
    assert rc == 1, (out, err)
    probs = lines(out, "problem")
    assert probs and "expired on %s" % day in probs[0], out


def test_tls_version_in_common_with_nobody(cli, tmp_path):
    cert, key = make_cert(tmp_path, "old.test")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)     # on purpose
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as e:
        pytest.skip("this Python cannot make a TLS 1.1 server: %s" % e)
    ctx.load_cert_chain(cert, key)
    srv = TLSOnly(ctx)
    try:
        rc, out, err = doctor(cli, "%s:%d" % (HOST, srv.port), "--timeout", "1")
    finally:
        srv.close()
    assert rc == 1, (out, err)
    # tried as STARTTLS first (silence: the server waits for a ClientHello),
    # then with TLS, which fails on the version
    probs = lines(out, "problem")
    assert probs and "no TLS version in common" in probs[0], out


# --------------------------------------------------------------------------
# AUTH


def test_good_credentials(cli, dns53, tls_server, password_file):
    rc, out, err = doctor(cli, "mx.example.test:%d" % tls_server.sub_port, "--cafile",
                          cert_path(tls_server), "--user", ALICE, "--password-file",
                          password_file(), "--timeout", "5")
    assert rc == 0, (out, err)
    ok = lines(out, "ok")
    assert "STARTTLS offered" in ok, out
    assert "AUTH offered inside TLS: PLAIN LOGIN" in ok, out
    assert "the server accepts the user name %s and its password (AUTH PLAIN)" % ALICE in ok, out
    assert not lines(out, "problem"), out
    assert last_line(out) == ("Use: server mx.example.test, port %d, STARTTLS, user name %s"
                              % (tls_server.sub_port, ALICE)), out


def test_bad_credentials(cli, dns53, tls_server, password_file):
    rc, out, err = doctor(cli, "mx.example.test:%d" % tls_server.sub_port, "--cafile",
                          cert_path(tls_server), "--user", ALICE, "--password-file",
                          password_file("wrong"), "--timeout", "5")
    assert rc == 1, (out, err)
    probs = lines(out, "problem")
    assert probs and probs[0].startswith("the server refuses the user name %s or its password: 535 "
                                         % ALICE), out
    assert last_line(out).startswith("Problem: the server refuses the user name"), out


def test_password_on_stdin(cli, dns53, tls_server):
    rc, out, err = doctor(cli, "mx.example.test:%d" % tls_server.subs_port, "--cafile",
                          cert_path(tls_server), "--user", ALICE, "--timeout", "1",
                          input=(PASSWORD + "\n").encode())
    assert rc == 0, (out, err)
    assert "SSL/TLS, user name %s" % ALICE in last_line(out), out


def test_verbose_hides_the_password(cli, dns53, tls_server, password_file):
    rc, out, err = doctor(cli, "mx.example.test:%d" % tls_server.sub_port, "--cafile",
                          cert_path(tls_server), "--user", ALICE, "--password-file",
                          password_file(), "-v")
    assert rc == 0, (out, err)
    assert "-> STARTTLS" in out and "<- 220 " in out, out
    assert "-> AUTH PLAIN ***" in out, out
    assert PASSWORD not in out
    b64 = base64.b64encode(("\0%s\0%s" % (ALICE, PASSWORD)).encode()).decode()
    assert b64 not in out and b64 not in err


# --------------------------------------------------------------------------
# The standard ports


def test_default_ports_and_port_25(cli, dns53, start_server, password_file):
    """No port: 587 then 465, both said; port 25: the suggestion."""
    if not in_namespace():
        pytest.skip("needs ports 25, 465 and 587 of the network namespace")
    s = start_server(start=False, conf={"listen_smtp": "%s:25" % HOST,
                                        "listen_submission": "%s:587" % HOST,
                                        "listen_submissions": "%s:465" % HOST})
    s.port, s.sub_port, s.subs_port = 25, 587, 465
    s.listen = [(HOST, 25), (HOST, 587), (HOST, 465)]
    s.start()
    cafile = cert_path(s)

    rc, out, err = doctor(cli, "mx.example.test", "--cafile", cafile, "--user", ALICE,
                          "--password-file", password_file())
    assert rc == 0, (out, err)
    assert "Port 587 (STARTTLS):" in out and "Port 465 (SSL/TLS):" in out, out
    assert "Ports that work: 587 (STARTTLS), 465 (SSL/TLS)" in out, out
    assert last_line(out) == "Use: server mx.example.test, port 587, STARTTLS, user name %s" % ALICE

    rc, out, err = doctor(cli, "mx.example.test:25", "--cafile", cafile)
    assert rc == 0, (out, err)      # it works here, but it is not the port to use
    assert last_line(out).startswith("Use: server mx.example.test, port 25, STARTTLS, your full "
                                     "address as user name (but mail programs should use port "
                                     "587 with STARTTLS or 465 with SSL/TLS"), out
    notes = lines(out, "note")
    assert any(n.startswith("port 25 is for mail between servers") and "port 587 with STARTTLS"
               in n and "port 465 with SSL/TLS" in n for n in notes), out

    # 587 down: 465 is the advice
    s.stop()
    s.write_config(listen_submission="%s:%d" % (HOST, free_port()))
    s.listen = [(HOST, 465)]
    s.start()
    rc, out, err = doctor(cli, "mx.example.test", "--cafile", cafile, "--timeout", "2")
    assert rc == 0, (out, err)
    assert "Ports that work: 465 (SSL/TLS)" in out, out
    assert last_line(out) == ("Use: server mx.example.test, port 465, SSL/TLS, your full address "
                              "as user name"), out


def test_nothing_works_on_either_port(cli, dns53):
    if not in_namespace():
        pytest.skip("needs ports 465 and 587 of the network namespace")
    rc, out, err = doctor(cli, "mx.example.test", "--timeout", "1")
    assert rc == 1, (out, err)
    assert "Ports that work: none" in out
    assert last_line(out).startswith("Problem: port 587: the connection to 127.0.0.1 port 587 was "
                                     "refused"), out
    assert "; port 465: the connection to 127.0.0.1 port 465 was refused" in last_line(out)
    # port 25 for submission: the standard settings, also when it fails
    rc, out, err = doctor(cli, "mx.example.test:25", "--timeout", "1")
    assert rc == 1, (out, err)
    assert last_line(out).startswith("Problem: the connection to 127.0.0.1 port 25 was refused"), out
    assert "mail programs should use port 587 with STARTTLS or 465 with SSL/TLS" in last_line(out)


# --------------------------------------------------------------------------
# Usage


@pytest.mark.parametrize("args, want", [
    (["--connect"], "needs a value"),
    (["--connect", "host:0"], "--connect wants HOST or HOST:PORT"),
    (["--connect", "host:99999"], "--connect wants HOST or HOST:PORT"),
    (["--connect", "[::1"], "--connect wants HOST or HOST:PORT"),
    (["--connect", "h", "--timeout", "x"], "--timeout takes seconds"),
    (["--connect", "h", "--password-file", "/dev/null"], "--password-file goes with --user"),
    (["--connect", "h", "--bogus"], "unknown option --bogus"),
])
def test_usage(cli, args, want):
    p = cli(["doctor"] + args)
    assert p.returncode == 2, p
    assert want in p.stderr.decode(), p.stderr
