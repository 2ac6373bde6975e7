"""test_send - `postino send` (issue 8): one message submitted the way a mail
program does, to test a setup.

Against a real postino: port 587 with STARTTLS and AUTH as alice, port 465
with TLS from the first byte, a message built from --body (Date,
Message-ID, From, To, Subject added) and a whole message from standard
input sent as it is (only its line ends made CRLF, dot-stuffed on the
wire); each lands in the local Maildir. A refused recipient, a wrong
password, a certificate that does not verify end with status 1 and the
reason; -v shows the dialogue, never the password.

The certificate postino makes names mx.example.test: a DNS server on
127.0.0.1:53 (the resolver of the test namespace) says where that is.
Tests with an address literal need no DNS.
"""

import base64
import email
import email.header
import email.policy
import email.utils
import os

import pytest

from conftest import HOST, HOSTNAME, PASSWORD, free_port, parse_delivered
from dnsserver import DNSTestServer
from relayutil import Peer
from tlsutil import cert_path, start_tls_server

ALICE = "alice@example.test"
BOB = "bob@example.test"


@pytest.fixture(scope="module")
def dns53():
    """dns53 - the system resolver's server (127.0.0.1:53) in the test namespace."""
    if os.environ.get("POSTINO_NETNS") != "1":
        pytest.skip("needs the network namespace of scripts/run-integration (port 53)")
    srv = DNSTestServer(port=53)
    srv.add(HOSTNAME, "A", "127.0.0.1")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def srv(start_server):
    return start_tls_server(start_server)


@pytest.fixture
def pwfile(tmp_path):
    p = tmp_path / "alice.pw"
    p.write_text(PASSWORD + "\n")
    return str(p)


def send(cli, *args, input=None):
    """send - run `postino send ...`; (status, stdout, stderr) as text."""
    p = cli(["send"] + [str(a) for a in args], input=input)
    print("$ postino send %s\n%s%s" % (" ".join(str(a) for a in args),
                                       p.stdout.decode("utf-8", "replace"),
                                       p.stderr.decode("utf-8", "replace")))
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def the_message(server, addr):
    """the_message - the one message in addr's Maildir, parsed (headers and the rest)."""
    raw = server.wait_messages(addr, 1)[0]
    d = parse_delivered(raw)
    return d, email.message_from_bytes(d.rest, policy=email.policy.compat32)


def test_starttls_with_auth_and_body(cli, dns53, srv, pwfile):
    body = "Hello Bob,\n.a line that starts with a dot\n..and two\n\nAlice\n"
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--cafile",
                        cert_path(srv), "--user", ALICE, "--password-file", pwfile,
                        "--from", ALICE, "--to", BOB, "--subject", "Hi there",
                        "--header", "X-Test: one", "--body", body)
    assert rc == 0, (out, err)
    assert out.startswith("postino send: accepted: 250 2.0.0 Ok: queued as "), out
    d, m = the_message(srv, BOB)
    assert "ESMTPSA" in d.received, d.received      # authenticated, in TLS
    assert m["From"] == "<%s>" % ALICE
    assert m["To"] == "<%s>" % BOB
    assert m["Subject"] == "Hi there"
    assert m["X-Test"] == "one"
    assert m["Date"] and email.utils.parsedate_tz(m["Date"]), m["Date"]
    assert m["Message-ID"].startswith("<") and m["Message-ID"].endswith("@example.test>"), m["Message-ID"]
    # dot-stuffed on the wire, undone by the server: the text as given
    assert d.rest.split(b"\n\n", 1)[1] == body.encode(), d.rest


def test_implicit_tls_message_from_stdin(cli, dns53, srv, pwfile):
    msg = (b"From: Alice <alice@example.test>\n"
           b"To: Bob <bob@example.test>\n"
           b"Subject: from stdin\n"
           b"Message-ID: <stdin-1@example.test>\n"
           b"Date: Mon, 01 Jan 2024 00:00:00 +0000\n"
           b"\n"
           b"first line\n"
           b".\n"
           b"after a lone dot\n")
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.subs_port), "--tls", "implicit",
                        "--cafile", cert_path(srv), "--user", ALICE, "--password-file", pwfile,
                        "--from", ALICE, "--to", BOB, input=msg)
    assert rc == 0, (out, err)
    d, m = the_message(srv, BOB)
    # sent as it is: nothing added, nothing lost (a lone dot is data)
    assert d.rest == msg, d.rest
    assert m["Message-ID"] == "<stdin-1@example.test>"


def test_default_modes_and_port(cli, dns53, start_server, pwfile):
    """Port 465 means TLS from the first byte, other ports STARTTLS, and no
    port means 587 (the real ports, in the test namespace)."""
    s = start_server(start=False, conf={"listen_submission": "%s:587" % HOST,
                                        "listen_submissions": "%s:465" % HOST})
    s.sub_port, s.subs_port = 587, 465
    s.listen = [(HOST, 587), (HOST, 465)]
    s.start()
    common = ["--cafile", cert_path(s), "--user", ALICE, "--password-file", pwfile,
              "--from", ALICE, "--to", BOB, "--body", "x", "-v"]
    rc, out, err = send(cli, "--server", HOSTNAME, *common)
    assert rc == 0, (out, err)
    assert "-> STARTTLS" in out, out
    rc, out, err = send(cli, "--server", "%s:465" % HOSTNAME, *common)
    assert rc == 0, (out, err)
    assert "-> STARTTLS" not in out and out.index("** TLS") < out.index("<- 220 "), out
    s.wait_messages(BOB, 2)


def test_address_literal_and_insecure(cli, srv, pwfile):
    """The certificate names mx.example.test, not 127.0.0.1: refused unless
    --insecure."""
    args = ["--server", "%s:%d" % (HOST, srv.sub_port), "--cafile", cert_path(srv),
            "--user", ALICE, "--password-file", pwfile, "--from", ALICE, "--to", BOB,
            "--body", "hello"]
    rc, out, err = send(cli, *args)
    assert rc == 1, (out, err)
    assert ("postino send: TLS: the certificate is for mx.example.test, not the address "
            "127.0.0.1") in err, err
    assert srv.count(BOB) == 0
    rc, out, err = send(cli, *(args + ["--insecure"]))
    assert rc == 0, (out, err)
    srv.wait_messages(BOB, 1)


def test_self_signed_without_cafile(cli, dns53, srv, pwfile):
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--user", ALICE,
                        "--password-file", pwfile, "--from", ALICE, "--to", BOB, "--body", "x")
    assert rc == 1, (out, err)
    assert "postino send: TLS: the certificate (for mx.example.test) is self-signed" in err, err
    assert err.count("--cafile") == 1 and "--insecure skips the check" in err, err


def test_refused_recipient(cli, dns53, srv, pwfile):
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--cafile",
                        cert_path(srv), "--user", ALICE, "--password-file", pwfile,
                        "--from", ALICE, "--to", BOB, "--to", "nobody@example.test",
                        "--body", "hello")
    assert rc == 1, (out, err)
    assert err.startswith("postino send: RCPT TO:<nobody@example.test>: 550 5.1.1 "), err
    srv.wait_marker()
    assert srv.count(BOB) == 0, "a message went out although a recipient was refused"


def test_wrong_password(cli, dns53, srv, tmp_path):
    pw = tmp_path / "wrong"
    pw.write_text("wrong\n")
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--cafile",
                        cert_path(srv), "--user", ALICE, "--password-file", pw,
                        "--from", ALICE, "--to", BOB, "--body", "x")
    assert rc == 1, (out, err)
    assert err.startswith("postino send: AUTH: 535 5.7.8 "), err


def test_no_auth_refused_by_submission(cli, dns53, srv):
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--cafile",
                        cert_path(srv), "--from", ALICE, "--to", BOB, "--body", "x")
    assert rc == 1, (out, err)
    assert err.startswith("postino send: MAIL FROM:<%s>" % ALICE) and " 530 5.7.0 " in err, err


def test_verbose_shows_the_dialogue_not_the_password(cli, dns53, srv, pwfile):
    rc, out, err = send(cli, "-v", "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--cafile",
                        cert_path(srv), "--user", ALICE, "--password-file", pwfile,
                        "--from", ALICE, "--to", BOB, "--body", "hello")
    assert rc == 0, (out, err)
    for want in ("<- 220 ", "-> EHLO [127.0.0.1]", "-> STARTTLS", "** TLSv1.", "-> AUTH PLAIN ***",
                 "<- 235 ", "-> MAIL FROM:<%s> SIZE=" % ALICE, "-> RCPT TO:<%s>" % BOB, "-> DATA",
                 "<- 354 ", "-> hello", "-> .", "<- 250 2.0.0 Ok: queued as ", "-> QUIT"):
        assert want in out, "%r not in:\n%s" % (want, out)
    secret = base64.b64encode(("\0%s\0%s" % (ALICE, PASSWORD)).encode()).decode()
    assert PASSWORD not in out + err and secret not in out + err


def test_auth_login_hidden_too(cli, tmp_path):
    """A server that offers only LOGIN: the user name and password lines are "***"."""
    port = free_port()
    peer = Peer(HOST, port, tmp_path, name="login.test", tls=True, auth={ALICE: PASSWORD})
    peer.controller.SMTP_kwargs["auth_exclude_mechanism"] = ["PLAIN"]
    peer.start()
    pw = tmp_path / "pw"
    pw.write_text(PASSWORD)
    try:
        rc, out, err = send(cli, "-v", "--server", "%s:%d" % (HOST, port), "--insecure",
                            "--user", ALICE, "--password-file", pw, "--from", ALICE,
                            "--to", BOB, "--body", "hi")
        assert rc == 0, (out, err)
        assert peer.auth_attempts and peer.auth_attempts[0][:3] == ("LOGIN", ALICE, PASSWORD)
    finally:
        peer.stop()
    assert "-> AUTH LOGIN" in out and out.count("-> ***") == 2, out
    assert base64.b64encode(PASSWORD.encode()).decode() not in out


def test_eight_bit_body_and_subject(cli, dns53, srv, pwfile):
    subject = "Grüße aus Köln — " + "ä" * 40
    rc, out, err = send(cli, "--server", "%s:%d" % (HOSTNAME, srv.sub_port), "--cafile",
                        cert_path(srv), "--user", ALICE, "--password-file", pwfile, "-v",
                        "--from", ALICE, "--to", BOB, "--subject", subject,
                        "--body", "Schöne Grüße\n")
    assert rc == 0, (out, err)
    assert "BODY=8BITMIME" in out, out
    d, m = the_message(srv, BOB)
    raw_subject = m["Subject"]
    assert raw_subject.startswith("=?UTF-8?B?"), raw_subject
    decoded = str(email.header.make_header(email.header.decode_header(raw_subject)))
    assert decoded == subject
    assert m["Content-Type"] == "text/plain; charset=utf-8"
    assert "Schöne Grüße".encode() in d.rest
    for line in d.rest.split(b"\n\n", 1)[0].split(b"\n"):
        assert len(line) <= 78, line


def test_no_starttls_offered(cli, tmp_path):
    port = free_port()
    peer = Peer(HOST, port, tmp_path, name="plain.test").start()
    try:
        rc, out, err = send(cli, "--server", "%s:%d" % (HOST, port), "--from", ALICE,
                            "--to", BOB, "--body", "x")
        assert rc == 1 and "does not offer STARTTLS" in err, (out, err)
        rc, out, err = send(cli, "--server", "%s:%d" % (HOST, port), "--tls", "none",
                            "--from", ALICE, "--to", BOB, "--body", "x")
        assert rc == 0, (out, err)
        assert peer.wait_transactions(1)[0].rcpts == [BOB]
    finally:
        peer.stop()


@pytest.mark.parametrize("args, want", [
    ([], "--server, --from and --to are needed"),
    (["--server", "h", "--from", "a@b"], "--server, --from and --to are needed"),
    (["--server", "h:x", "--from", "a@b", "--to", "c@d"], "--server wants HOST or HOST:PORT"),
    (["--server", "h", "--from", "a@b", "--to", "c d"], "--to \"c d\" is not an address"),
    (["--server", "h", "--from", "a@b", "--to", "c@d", "--tls", "maybe"], "--tls takes"),
    (["--server", "h", "--from", "a@b", "--to", "c@d", "--subject", "s"],
     "--subject and --header go with --body"),
    (["--server", "h", "--from", "a@b", "--to", "c@d", "--body", "x", "--header", "Bad"],
     "is not \"Name: value\""),
    (["--server", "h", "--from", "a@b", "--to", "c@d", "--tls", "none", "--user", "u",
      "--password-file", "/dev/null"], "--user needs TLS"),
    (["--server", "h", "--from", "a@b", "--to", "c@d", "stray"], "unexpected \"stray\""),
])
def test_usage(cli, args, want):
    rc, out, err = send(cli, *args)
    assert rc == 2, (out, err)
    assert want in err, err
