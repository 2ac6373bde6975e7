"""tlsutil - helpers shared by test_tls, test_auth and test_submission (issue 3).

Not a test module. Import what you need:

  Raw                                   conftest.Raw with TCP_NODELAY
  start_tls_server(start_server, **kw)  a started server that listens on all
                                        three ports (smtp, submission, submissions)
  port_of(server, which)                "smtp", "submission" or "submissions"
  cert_path(server), key_path(server)   the self-signed certificate and key
  verifying_context(cafile, name)       an SSLContext that trusts only cafile and
                                        checks that the certificate names `name`
  insecure_context(...)                 no verification (for protocol tests)
  starttls_client / ssl_client          smtplib clients, TLS up and EHLO done
  raw_starttls(raw, ctx)                turn a conftest.Raw into a TLS one
  raw_tls(host, port, ctx)              a conftest.Raw over implicit TLS
  plain_b64(user, password)             the AUTH PLAIN response
  make_cert(dir, cn)                    a new self-signed P-256 certificate
  cert_der, subject_cn, san_dns, peer_of  certificate fields; what a port presents
"""

import base64
import os
import re
import smtplib
import socket
import ssl
import subprocess
import warnings

import conftest
from conftest import CLIENT_NAME, HOST, HOSTNAME, PASSWORD

# Mozilla "intermediate" TLS 1.2 suites (issue 3); nothing else may be chosen.
MOZILLA_INTERMEDIATE_TLS12 = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
}


class Raw(conftest.Raw):
    """conftest.Raw with TCP_NODELAY. Its cmd() writes a line and its CRLF in
    two sends; over TLS those are two records, and Nagle's algorithm would
    hold the second back for the server's delayed ACK (40 ms a command)."""

    def __init__(self, *args, **kw):
        greet = kw.pop("greet", True)
        super().__init__(*args, greet=False, **kw)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if greet:
            self.greeting = self.reply()


def start_tls_server(start_server, **kw):
    """start_tls_server - start a server and wait until all three listeners are up."""
    s = start_server(start=False, **kw)
    s.listen = [(s.host, s.port), (s.host, s.sub_port), (s.host, s.subs_port)]
    s.start()
    return s


def port_of(server, which):
    return {"smtp": server.port, "submission": server.sub_port,
            "submissions": server.subs_port}[which]


def cert_path(server):
    return server.data_dir / "tls" / "cert.pem"


def key_path(server):
    return server.data_dir / "tls" / "key.pem"


class _NamedContext(ssl.SSLContext):
    """An SSLContext that always checks the certificate against expected_name,
    whatever host the client library connected to (smtplib passes the
    address it connected to, 127.0.0.1, as server_hostname)."""

    expected_name = HOSTNAME

    def wrap_socket(self, sock, *args, server_hostname=None, **kw):
        return super().wrap_socket(sock, *args, server_hostname=self.expected_name, **kw)


def verifying_context(cafile, name=HOSTNAME, minimum=None, maximum=None):
    """verifying_context - trust only cafile; the certificate must name `name`."""
    ctx = _NamedContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.expected_name = name
    ctx.load_verify_locations(cafile=str(cafile))
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    if minimum:
        ctx.minimum_version = minimum
    if maximum:
        ctx.maximum_version = maximum
    return ctx


def insecure_context(minimum=None, maximum=None, ciphers=None, seclevel0=False):
    """insecure_context - no verification; optionally a fixed protocol range.

    seclevel0 lets the client itself offer TLS 1.0/1.1 (OpenSSL 3 refuses
    them at its default security level), so that a failed handshake is
    the server's doing.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if seclevel0:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if ciphers:
        ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # TLSv1, TLSv1_1
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
    return ctx


def starttls_client(server, port, ctx=None, source=None):
    """starttls_client - smtplib.SMTP on port: EHLO, STARTTLS, EHLO again."""
    ctx = ctx or verifying_context(cert_path(server))
    c = smtplib.SMTP(HOST, port, local_hostname=CLIENT_NAME, timeout=15,
                     source_address=(source, 0) if source else None)
    code, _ = c.ehlo()
    assert code == 250
    assert c.has_extn("starttls"), "STARTTLS not offered on port %d: %r" % (port, c.esmtp_features)
    code, msg = c.starttls(context=ctx)
    assert code == 220, (code, msg)
    code, _ = c.ehlo()
    assert code == 250
    return c


def ssl_client(server, ctx=None, source=None):
    """ssl_client - smtplib.SMTP_SSL on the implicit-TLS port, EHLO done."""
    ctx = ctx or verifying_context(cert_path(server))
    c = smtplib.SMTP_SSL(HOST, server.subs_port, local_hostname=CLIENT_NAME, timeout=15,
                         context=ctx, source_address=(source, 0) if source else None)
    code, _ = c.ehlo()
    assert code == 250
    return c


def raw_starttls(raw, ctx=None, server=None):
    """raw_starttls - STARTTLS on a conftest.Raw (EHLO already done); the
    socket is TLS afterwards. Returns the 220 reply."""
    r = raw.cmd("STARTTLS")
    assert r.code == 220 and r.text == "2.0.0 Ready to start TLS", r
    assert raw.buf == b"", "octets after the 220 before TLS: %r" % raw.buf
    ctx = ctx or (verifying_context(cert_path(server)) if server else insecure_context())
    raw.sock = ctx.wrap_socket(raw.sock, server_hostname=HOSTNAME)
    return r


def raw_tls(host, port, ctx, source=None, timeout=10.0):
    """raw_tls - a conftest.Raw over implicit TLS, greeting read."""
    c = Raw(host, port, greet=False, source=source, timeout=timeout)
    c.sock = ctx.wrap_socket(c.sock, server_hostname=HOSTNAME)
    c.greeting = c.reply()
    return c


def b64(data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def plain_b64(user, password=PASSWORD, authzid=""):
    return b64("%s\0%s\0%s" % (authzid, user, password))


def ehlo_keywords(reply):
    """ehlo_keywords - {KEYWORD: [params]} of an EHLO reply (conftest.Reply)."""
    out = {}
    for t in reply.texts[1:]:
        words = t.split()
        out[words[0].upper()] = words[1:]
    return out


def openssl(*args, input=None):
    p = subprocess.run(["openssl"] + list(args), input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, "openssl %s: %s" % (" ".join(args), p.stderr.decode())
    return p.stdout.decode("utf-8", "replace")


def make_cert(directory, cn, name=None):
    """make_cert - a self-signed ECDSA P-256 certificate for cn; (cert, key) paths."""
    name = name or cn
    cert, key = os.path.join(str(directory), name + ".crt"), os.path.join(str(directory), name + ".key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=" + cn, "-addext", "subjectAltName=DNS:" + cn, "-days", "1",
            "-keyout", key, "-out", cert)
    return cert, key


def cert_der(path):
    """cert_der - DER of the first certificate in a PEM file."""
    text = open(str(path)).read()
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    assert m, "no certificate in %s" % path
    return ssl.PEM_cert_to_DER_cert(m.group(0))


def subject_cn(peercert):
    """subject_cn - the CN of getpeercert()'s dict."""
    for rdn in peercert["subject"]:
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


def san_dns(peercert):
    return [v for k, v in peercert.get("subjectAltName", ()) if k == "DNS"]


def peer_of(host, port, ctx, starttls=False):
    """peer_of - (DER, getpeercert() dict or None, TLS version) of a fresh
    connection: STARTTLS after EHLO when starttls, else implicit TLS."""
    if starttls:
        c = Raw(host, port)
        c.ehlo()
        raw_starttls(c, ctx)
    else:
        c = raw_tls(host, port, ctx)
    try:
        t = c.sock
        info = t.getpeercert() if ctx.verify_mode != ssl.CERT_NONE else None
        return t.getpeercert(binary_form=True), info, t.version()
    finally:
        c.close()

