"""test_tls - TLS on the three listeners (issue 3, "TLS").

STARTTLS (RFC 3207) on listen_smtp and listen_submission, implicit TLS
(RFC 8314) on listen_submissions; the self-signed certificate for
`hostname` made on first start under <data_dir>/tls/ and reused; a
configured certificate chain; TLS 1.2 and 1.3 only with Mozilla's
"intermediate" suites; a fresh session after STARTTLS with whatever the
client pipelined behind the STARTTLS line thrown away (CVE-2011-0411, "NO
STARTTLS"); the handshake timeout; the certificate reloaded on SIGHUP; the
Received: header naming the protocol word and the cipher (RFC 3848).

The clients are real ones: smtplib starttls() / SMTP_SSL with a context
that trusts only the server's certificate and checks its name, and Python's
ssl module on raw sockets where exact bytes matter.
"""

import re
import signal
import ssl
import time

import pytest

from conftest import (CLIENT_NAME, HOST, HOSTNAME, give_to_server, make_message, parse_delivered,
                      queue_id)
from tlsutil import (Raw, MOZILLA_INTERMEDIATE_TLS12, cert_der, cert_path, ehlo_keywords,
                     insecure_context, key_path, make_cert, openssl, peer_of, plain_b64, port_of,
                     raw_starttls, raw_tls, san_dns, ssl_client,
                     start_tls_server, starttls_client, subject_cn, verifying_context)

SENDER = "sender@client.example.test"
STARTTLS_PORTS = ["smtp", "submission"]


@pytest.fixture
def tls_server(start_server):
    """A server of the test's own on all three ports (a crash in one test
    does not take the others with it)."""
    return start_tls_server(start_server)


# --------------------------------------------------------------------------
# The certificate


def test_self_signed_certificate_names_hostname_and_is_reused(start_server):
    s = start_tls_server(start_server)
    cert, key = cert_path(s), key_path(s)
    made = s.wait_log(r"TLS: made a self-signed certificate for (\S+): (\S+)$")
    assert made == [(HOSTNAME, str(cert))], made
    assert cert.is_file() and key.is_file()
    assert key.stat().st_mode & 0o077 == 0, "private key readable by others: %o" % key.stat().st_mode

    text = openssl("x509", "-in", str(cert), "-noout", "-text")
    subject = openssl("x509", "-in", str(cert), "-noout", "-subject", "-nameopt", "RFC2253").strip()
    assert subject == "subject=CN=%s" % HOSTNAME, subject
    assert re.search(r"DNS:%s\b" % re.escape(HOSTNAME), text), text
    assert "id-ecPublicKey" in text and ("prime256v1" in text or "P-256" in text), text

    # All three listeners present exactly this certificate, and a client that
    # trusts only it and checks the name `hostname` accepts it.
    ctx = verifying_context(cert)
    for port, starttls in ((s.subs_port, False), (s.sub_port, True), (s.port, True)):
        der, info, version = peer_of(HOST, port, ctx, starttls=starttls)
        assert der == cert_der(cert), "port %d presents another certificate" % port
        assert subject_cn(info) == HOSTNAME and san_dns(info) == [HOSTNAME], info
        assert version in ("TLSv1.2", "TLSv1.3")

    # A client expecting another name refuses it (the name check is real).
    with pytest.raises(ssl.SSLCertVerificationError):
        peer_of(HOST, s.subs_port, verifying_context(cert, name="other.example.test"))

    # Restart: the same certificate and key are used again, not remade.
    before_cert, before_key = cert.read_bytes(), key.read_bytes()
    s.restart()
    s.wait_log(r"TLS: using the self-signed certificate for %s: %s$"
               % (re.escape(HOSTNAME), re.escape(str(cert))))
    assert len(re.findall(r"TLS: made a self-signed", s.log())) == 1
    assert cert.read_bytes() == before_cert and key.read_bytes() == before_key
    der, _, _ = peer_of(HOST, s.subs_port, ctx)
    assert der == cert_der(cert)


def _make_chain(d):
    """root CA -> intermediate CA -> leaf for mail.example.test; returns paths."""
    ca_ext = d / "ca.ext"
    ca_ext.write_text("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
                      "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    leaf_ext = d / "leaf.ext"
    leaf_ext.write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                        "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:mail.example.test\n"
                        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    p = {n: str(d / n) for n in ("root.crt", "root.key", "int.csr", "int.crt", "int.key",
                                 "leaf.csr", "leaf.crt", "leaf.key")}
    openssl("req", "-x509", *ec, "-subj", "/CN=Postino Test Root", "-days", "1",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", p["root.key"], "-out", p["root.crt"])
    openssl("req", "-new", *ec, "-subj", "/CN=Postino Test Intermediate",
            "-keyout", p["int.key"], "-out", p["int.csr"])
    openssl("x509", "-req", "-in", p["int.csr"], "-CA", p["root.crt"], "-CAkey", p["root.key"],
            "-set_serial", "2", "-days", "1", "-extfile", str(ca_ext), "-out", p["int.crt"])
    openssl("req", "-new", *ec, "-subj", "/CN=mail.example.test",
            "-keyout", p["leaf.key"], "-out", p["leaf.csr"])
    openssl("x509", "-req", "-in", p["leaf.csr"], "-CA", p["int.crt"], "-CAkey", p["int.key"],
            "-set_serial", "3", "-days", "1", "-extfile", str(leaf_ext), "-out", p["leaf.crt"])
    return p


def test_configured_certificate_chain_is_sent(start_server, tmp_path):
    """tls_cert may hold a chain: a client that trusts only the root accepts
    the leaf, which it can only do when the intermediate is sent too."""
    p = _make_chain(tmp_path)
    chain = tmp_path / "chain.pem"
    chain.write_text(open(p["leaf.crt"]).read() + open(p["int.crt"]).read())
    s = start_tls_server(start_server, conf={"tls_cert": str(chain), "tls_key": p["leaf.key"]})
    assert not cert_path(s).exists(), "a self-signed certificate was made although tls_cert is set"
    assert "self-signed" not in s.log()
    ctx = verifying_context(p["root.crt"], name="mail.example.test")
    for port, starttls in ((s.subs_port, False), (s.sub_port, True)):
        der, info, _ = peer_of(HOST, port, ctx, starttls=starttls)
        assert der == cert_der(p["leaf.crt"])
        assert subject_cn(info) == "mail.example.test"
    # smtplib end to end over the chain
    c = ssl_client(s, ctx=ctx)
    assert c.noop()[0] == 250
    assert c.quit()[0] == 221


def test_key_without_certificate_is_a_configuration_error(start_server, tmp_path):
    cert, key = make_cert(tmp_path, "lonely.test")
    s = start_server(start=False, conf={"tls_key": key})
    p = s.cli("check-config")
    assert p.returncode != 0
    assert b"tls_cert and tls_key go together" in p.stderr + p.stdout, p


# --------------------------------------------------------------------------
# STARTTLS


@pytest.mark.parametrize("which", STARTTLS_PORTS)
def test_starttls_with_smtplib(tls_server, which):
    s = tls_server
    port = port_of(s, which)
    c = starttls_client(s, port)        # EHLO, STARTTLS (220), EHLO, certificate verified
    try:
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        assert c.sock.compression() is None
        info = c.sock.getpeercert()
        assert subject_cn(info) == HOSTNAME
        # inside TLS: no STARTTLS any more, AUTH now
        assert not c.has_extn("starttls"), c.esmtp_features
        assert sorted(c.esmtp_features["auth"].split()) == ["LOGIN", "PLAIN"], c.esmtp_features
        code, msg = c.docmd("STARTTLS")
        assert code == 503, (code, msg)
        assert c.noop()[0] == 250
    finally:
        code, msg = c.quit()
    assert code == 221, (code, msg)


def test_starttls_reply_text_and_errors(tls_server):
    s = tls_server
    with Raw(HOST, s.port) as c:
        keys = ehlo_keywords(c.ehlo())
        assert "STARTTLS" in keys and "AUTH" not in keys, keys
        c.expect("STARTTLS now", 501)                       # no parameters allowed
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("STARTTLS", 503)                           # not inside a transaction
        c.expect("RSET", 250)
        raw_starttls(c, server=s)                           # 220 2.0.0 Ready to start TLS
        c.expect("NOOP", 250)
        c.expect("STARTTLS", 503)


@pytest.mark.parametrize("which", STARTTLS_PORTS)
def test_session_starts_afresh_after_starttls(tls_server, which):
    """RFC 3207 4.2: everything from before the handshake is forgotten,
    the client must EHLO again."""
    s = tls_server
    with Raw(HOST, port_of(s, which)) as c:
        c.ehlo("before.tls.test")
        raw_starttls(c, server=s)
        r = c.cmd("MAIL FROM:<%s>" % SENDER)
        assert r.code == 503, "MAIL right after the TLS handshake (no EHLO): %s" % r
        r = c.cmd("RCPT TO:<alice@example.test>")
        assert r.code == 503, r
        r = c.ehlo("after.tls.test")
        keys = ehlo_keywords(r)
        assert "STARTTLS" not in keys and keys.get("AUTH") is not None, r
        if which == "smtp":
            c.expect("MAIL FROM:<%s>" % SENDER, 250)
            c.expect("RCPT TO:<alice@example.test>", 250)
            c.expect("RSET", 250)


def test_helo_name_after_starttls_is_the_new_one(start_server):
    """The Received: header names the EHLO given inside TLS, not the one before."""
    s = start_tls_server(start_server)
    with Raw(HOST, s.port) as c:
        c.ehlo("before.tls.test")
        raw_starttls(c, server=s)
        c.ehlo("after.tls.test")
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(make_message(subject="helo after tls") + b".\r\n")
        r = c.reply()
        assert r.code == 250, r
        c.expect("QUIT", 221)
    d = parse_delivered(s.wait_messages("alice@example.test", 1)[0])
    assert d.received.startswith("Received: from after.tls.test (unknown [127.0.0.1])"), d.received
    assert "before.tls.test" not in d.received


@pytest.mark.parametrize("which", STARTTLS_PORTS)
def test_command_pipelined_after_starttls_is_not_answered_inside_tls(start_server, which):
    """CVE-2011-0411: "STARTTLS\\r\\nMAIL FROM:<x@y>\\r\\n" in one packet; the
    MAIL must be thrown away, never executed inside TLS. After the
    handshake the first reply is the one to our own EHLO."""
    s = start_tls_server(start_server)
    injected = b"MAIL FROM:<x@y>\r\n"
    with Raw(HOST, port_of(s, which)) as c:
        c.ehlo()
        c.send(b"STARTTLS\r\n" + injected)          # one write, one segment on loopback
        r = c.reply()
        assert r.code == 220 and r.text == "2.0.0 Ready to start TLS", r
        assert c.buf == b"", "more after the 220 in the clear: %r" % c.buf
        # the handshake reads the socket from here: any plaintext the server
        # sent after the 220 would break it
        c.sock = verifying_context(cert_path(s)).wrap_socket(c.sock, server_hostname=HOSTNAME)
        r = c.cmd("EHLO " + CLIENT_NAME)
        assert r.code == 250 and r.lines[0] == "250-" + HOSTNAME, \
            "first reply inside TLS is not the one to EHLO: %s" % r
        if which == "smtp":
            # had the injected MAIL started a transaction, this would be 503
            c.expect("MAIL FROM:<%s>" % SENDER, 250)
            c.expect("RCPT TO:<alice@example.test>", 250)
            c.expect("RSET", 250)
        else:
            r = c.cmd("MAIL FROM:<alice@example.test>")
            assert r.code == 530 and r.enhanced() == "5.7.0", r
        c.expect("NOOP", 250)                   # replies still in step: nothing extra queued
        assert c.nothing_within(0.3)
    s.wait_log(r"warning: unknown\[127\.0\.0\.1\]: %d octets pipelined after STARTTLS thrown away"
               % len(injected))
    assert "MAIL from unknown" not in s.log() and "x@y" not in s.log().split("thrown away", 1)[1]


def test_pipelined_auth_after_starttls_is_thrown_away(start_server):
    """The same with an AUTH (valid credentials) injected on the submission
    port: inside TLS the session is still unauthenticated."""
    s = start_tls_server(start_server)
    injected = ("AUTH PLAIN %s\r\nMAIL FROM:<alice@example.test>\r\n" % plain_b64("alice@example.test")).encode()
    with Raw(HOST, s.sub_port) as c:
        c.ehlo()
        c.send(b"STARTTLS\r\n" + injected)
        r = c.reply()
        assert r.code == 220, r
        c.sock = verifying_context(cert_path(s)).wrap_socket(c.sock, server_hostname=HOSTNAME)
        c.ehlo()
        r = c.cmd("MAIL FROM:<alice@example.test>")
        assert r.code == 530 and r.enhanced() == "5.7.0", "injected AUTH took effect: %s" % r
    s.wait_log(r"%d octets pipelined after STARTTLS thrown away" % len(injected))
    assert "sasl_username" not in s.log()


@pytest.mark.parametrize("which", ["smtp", "submission", "submissions"])
def test_quit_inside_tls_gets_221_and_server_lives_on(tls_server, which):
    s = tls_server
    ctx = verifying_context(cert_path(s))
    for _ in range(2):
        if which == "submissions":
            c = raw_tls(HOST, s.subs_port, ctx)
        else:
            c = Raw(HOST, port_of(s, which))
            c.ehlo()
            raw_starttls(c, ctx)
        with c:
            c.ehlo()
            r = c.cmd("QUIT")
            assert r.code == 221 and r.enhanced() == "2.0.0", r
            assert c.is_closed(timeout=5)
        assert s.running(), "the server died after QUIT inside TLS:\n" + s.log()[-3000:]


def test_implicit_tls_port_offers_no_starttls(tls_server):
    s = tls_server
    with raw_tls(HOST, s.subs_port, verifying_context(cert_path(s))) as c:
        assert c.greeting.code == 220 and c.greeting.text.startswith(HOSTNAME + " "), c.greeting
        keys = ehlo_keywords(c.ehlo())
        assert "STARTTLS" not in keys, keys
        assert sorted(keys["AUTH"]) == ["LOGIN", "PLAIN"], keys
        c.expect("STARTTLS", 503)
        c.expect("NOOP", 250)


def test_plaintext_on_implicit_tls_port_gets_no_smtp(tls_server):
    """A client speaking SMTP in the clear to the implicit-TLS port gets no
    220 in the clear and is disconnected."""
    s = tls_server
    with Raw(HOST, s.subs_port, greet=False, timeout=5) as c:
        assert c.nothing_within(0.3), "the implicit-TLS port spoke first in the clear: %r" % c.buf
        c.send(b"EHLO " + CLIENT_NAME.encode() + b"\r\n")
        assert c.is_closed(timeout=5)
        assert b"250" not in c.buf and b"220" not in c.buf, c.buf


# --------------------------------------------------------------------------
# Protocol versions and ciphers


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
@pytest.mark.parametrize("which", ["submission", "submissions", "smtp"])
def test_old_tls_versions_refused(tls_server, which, version):
    s = tls_server
    v = getattr(ssl.TLSVersion, version)
    ctx = insecure_context(minimum=v, maximum=v, seclevel0=True)
    before = len(re.findall(r"TLS handshake failed from unknown\[127\.0\.0\.1\]", s.log()))
    starttls = which != "submissions"
    with Raw(HOST, port_of(s, which), greet=starttls) as c:
        if starttls:
            c.ehlo()
            assert c.cmd("STARTTLS").code == 220
        with pytest.raises(ssl.SSLError) as ei:
            ctx.wrap_socket(c.sock, server_hostname=HOSTNAME)
    # Refused by the server: our hello with the old version went out and the
    # server answered with a protocol_version alert (a client-side refusal
    # has no alert), after STARTTLS too, and logged why.
    assert ei.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", ei.value
    s.wait_log(r"TLS handshake failed from unknown\[127\.0\.0\.1\]: .*unsupported protocol",
               count=before + 1)

    # The same client settings with TLS 1.2 succeed: the client could connect.
    ok = insecure_context(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_2,
                          seclevel0=True)
    _, _, got = peer_of(HOST, port_of(s, which), ok, starttls=which != "submissions")
    assert got == "TLSv1.2"


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_tls12_and_tls13_accepted(tls_server, version):
    s = tls_server
    v = getattr(ssl.TLSVersion, version)
    ctx = verifying_context(cert_path(s), minimum=v, maximum=v)
    c = ssl_client(s, ctx=ctx)
    try:
        assert c.sock.version() == version.replace("_", ".")
        name, proto, bits = c.sock.cipher()
        if version == "TLSv1_2":
            assert name in MOZILLA_INTERMEDIATE_TLS12, name
        else:
            assert name.startswith("TLS_") and ("GCM" in name or "CHACHA20" in name), name
        assert bits >= 128
        assert c.noop()[0] == 250
    finally:
        assert c.quit()[0] == 221


@pytest.mark.parametrize("cipher", ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                                    "AES128-SHA", "ECDHE-ECDSA-AES128-SHA256"])
def test_tls12_weak_ciphers_refused(tls_server, cipher):
    """Mozilla intermediate has no CBC suites and no static RSA key exchange."""
    s = tls_server
    ctx = insecure_context(minimum=ssl.TLSVersion.TLSv1_2, maximum=ssl.TLSVersion.TLSv1_2,
                           ciphers=cipher + ":@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as ei:
        peer_of(HOST, s.subs_port, ctx)
    assert "HANDSHAKE_FAILURE" in (ei.value.reason or "") or "NO_SHARED_CIPHER" in str(ei.value), ei.value


# --------------------------------------------------------------------------
# Handshake timeout


def test_tls_handshake_timeout(start_server):
    s = start_tls_server(start_server, conf={"tls_handshake_timeout": "1s"})
    # implicit TLS: connect and send nothing
    with Raw(HOST, s.subs_port, greet=False) as c:
        t0 = time.monotonic()
        assert c.is_closed(timeout=6), "implicit-TLS connection without a handshake kept open"
        took = time.monotonic() - t0
        assert c.buf == b""
    assert 0.7 <= took <= 4.0, "closed after %.2f s, want about 1 s" % took
    s.wait_log(r"TLS handshake timeout from unknown\[127\.0\.0\.1\]")

    # a handshake started but stalled: a record header promising more
    with Raw(HOST, s.subs_port, greet=False) as c:
        c.send(b"\x16\x03\x01\x02\x00\x01")
        t0 = time.monotonic()
        assert c.is_closed(timeout=6)
        assert time.monotonic() - t0 <= 4.0

    # STARTTLS answered, then silence
    with Raw(HOST, s.sub_port) as c:
        c.ehlo()
        assert c.cmd("STARTTLS").code == 220
        t0 = time.monotonic()
        assert c.is_closed(timeout=6), "STARTTLS without a handshake kept open"
        took = time.monotonic() - t0
    assert 0.7 <= took <= 4.0, "closed after %.2f s" % took
    s.wait_log(r"TLS handshake timeout from unknown\[127\.0\.0\.1\]", count=3)

    # after a completed handshake the timeout no longer applies
    c = ssl_client(s)
    time.sleep(1.5)
    assert c.noop()[0] == 250
    assert c.quit()[0] == 221


# --------------------------------------------------------------------------
# SIGHUP


def test_sighup_reloads_certificate(start_server, tmp_path):
    s = start_tls_server(start_server)
    old = cert_path(s)
    old_ctx = verifying_context(old)
    # a session made before the reload, kept open over it
    before = ssl_client(s, ctx=old_ctx)
    assert subject_cn(before.sock.getpeercert()) == HOSTNAME

    # read at the reload by the server's user, as an administrator sets up
    new_cert, new_key = (give_to_server(f) for f in make_cert(tmp_path, "new.test"))
    s.write_config(tls_cert=new_cert, tls_key=new_key)
    s.send_signal(signal.SIGHUP)
    s.wait_log(r"reloaded configuration")

    new_ctx = verifying_context(new_cert, name="new.test")
    for port, starttls in ((s.subs_port, False), (s.sub_port, True), (s.port, True)):
        der, info, _ = peer_of(HOST, port, new_ctx, starttls=starttls)
        assert der == cert_der(new_cert), "port %d still presents the old certificate" % port
        assert subject_cn(info) == "new.test" and san_dns(info) == ["new.test"], info
    with pytest.raises(ssl.SSLCertVerificationError):
        peer_of(HOST, s.subs_port, old_ctx)

    # the old session goes on, with its old certificate
    assert before.noop()[0] == 250
    assert subject_cn(before.sock.getpeercert()) == HOSTNAME
    assert before.quit()[0] == 221

    # a broken pair on the next reload is refused; the new certificate stays
    other_cert, other_key = (give_to_server(f) for f in make_cert(tmp_path, "other.test"))
    s.write_config(tls_key=other_key)           # does not match new_cert
    s.send_signal(signal.SIGHUP)
    s.wait_log(r"reload: keeping the TLS certificate in use")
    s.wait_log(r"reloaded configuration", count=2)
    der, _, _ = peer_of(HOST, s.subs_port, new_ctx)
    assert der == cert_der(new_cert)
    assert s.running()


# --------------------------------------------------------------------------
# Received:


def _send_over(c, rcpt="alice@example.test", sender=SENDER, subject="tls"):
    code, msg = c.mail(sender)
    assert code == 250, (code, msg)
    code, msg = c.rcpt(rcpt)
    assert code == 250, (code, msg)
    code, msg = c.data(make_message(subject=subject))
    assert code == 250, (code, msg)
    return queue_id(msg)


@pytest.mark.parametrize("version", ["TLSv1_2", "TLSv1_3"])
def test_received_names_tls_version_and_cipher(start_server, version):
    s = start_tls_server(start_server)
    v = getattr(ssl.TLSVersion, version)
    c = starttls_client(s, s.port, ctx=verifying_context(cert_path(s), minimum=v, maximum=v))
    name, proto, bits = c.sock.cipher()
    ver = c.sock.version()
    qid = _send_over(c)
    assert c.quit()[0] == 221
    d = parse_delivered(s.wait_messages("alice@example.test", 1)[0])
    want = "(using %s with cipher %s (%d/%d bits))" % (ver, name, bits, bits)
    assert want in d.received, "want %r in %r" % (want, d.received)
    assert re.search(r"by %s \(postino\) with ESMTPS id %s\b" % (re.escape(HOSTNAME), qid),
                     d.received), d.received
    s.wait_log(r"TLS connection established from unknown\[127\.0\.0\.1\]: %s"
               % re.escape(want[7:-1]))


def test_received_without_tls_has_no_s(start_server):
    s = start_tls_server(start_server)
    with Raw(HOST, s.port) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        c.expect("DATA", 354)
        c.send(make_message() + b".\r\n")
        assert c.reply().code == 250
    d = parse_delivered(s.wait_messages("alice@example.test", 1)[0])
    assert " with ESMTP id " in d.received and "using" not in d.received, d.received
