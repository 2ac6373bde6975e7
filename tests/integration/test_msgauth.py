"""test_msgauth - SPF, DKIM, DMARC and Authentication-Results (issue 7).

Inbound (port 25): every message gets one "Authentication-Results:
mx.example.test; spf=...; dkim=...; dmarc=..." field right after our
Received:, and fields that claim our name are removed first; DMARC
p=reject refuses at the end of data (550 5.7.1) unless dmarc_enforce is
off, p=quarantine adds X-Postino-Quarantine. Outbound (submission): a
message from a local domain with keys made by `postino dkim keygen` is
signed (RSA and Ed25519), and dkimpy and opendkim-testmsg verify it with
the record keygen printed, served by the in-test DNS server.

Peers are real: the in-test DNS server (dnslib) on loopback, dkimpy
(python3-dkim) to sign and verify, opendkim-testmsg (opendkim-tools).
"""

import os
import pathlib
import re
import shutil
import subprocess

import dkim
import pytest

from conftest import (BIN, HOSTNAME, PASSWORD, Raw, dot_stuff, make_message, parse_delivered,
                      send_mail, to_lf)
from dnsserver import DNSTestServer
from relayutil import send_authed
from tlsutil import start_tls_server

DATA = pathlib.Path(__file__).resolve().parents[3] / "shared" / "conformance" / "dkim" / "dkimpy" / "data"
if not DATA.is_dir():
    DATA = pathlib.Path("/work/shared/conformance/dkim/dkimpy/data")

ZONE = """
pass.test.          TXT "v=spf1 ip4:127.0.0.1 -all"
fail.test.          TXT "v=spf1 -all"
soft.test.          TXT "v=spf1 ~all"
neutral.test.       TXT "v=spf1 ?all"
none.test.          A   192.0.2.1
helo.test.          TXT "v=spf1 ip4:127.0.0.0/8 -all"
spfal.test.         TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.spfal.test.  TXT "v=DMARC1; p=reject"
dkal.test.          TXT "v=spf1 -all"
_dmarc.dkal.test.   TXT "v=DMARC1; p=reject; adkim=s"
bounce.test.        TXT "v=spf1 -all"
rej.test.           TXT "v=spf1 -all"
_dmarc.rej.test.    TXT "v=DMARC1; p=reject"
quar.test.          TXT "v=spf1 -all"
_dmarc.quar.test.   TXT "v=DMARC1; p=quarantine"
orgdom.test.        TXT "v=spf1 -all"
_dmarc.orgdom.test. TXT "v=DMARC1; p=none; sp=reject"
sub.orgdom.test.    TXT "v=spf1 -all"
"""

SENDER_IP = "127.0.0.1"


@pytest.fixture
def dns():
    srv = DNSTestServer(zone_text=ZONE)
    srv.port = srv.start()
    yield srv
    srv.stop()


def mx_server(start_server, dns, **conf):
    c = {"dns_servers": "127.0.0.1:%d" % dns.port}
    c.update(conf)
    return start_server(conf=c)


def txt_of(path):
    return path.read_text().strip()


def smtp_send(s, mail_from, msg, rcpt="alice@example.test", helo="client.example.test"):
    """one transaction on port 25; returns the final reply"""
    with Raw(s) as c:
        c.expect("EHLO " + helo, 250)
        c.expect("MAIL FROM:<%s>" % mail_from, 250)
        c.expect("RCPT TO:<%s>" % rcpt, 250)
        c.expect("DATA", 354)
        c.send(dot_stuff(msg))
        r = c.reply()
        c.expect("QUIT", 221)
        return r


def delivered(s, rcpt="alice@example.test", n=1):
    return parse_delivered(s.wait_messages(rcpt, n)[-1])


def methods(authres):
    """{'spf': 'pass', 'dkim': ['pass', ...], 'dmarc': 'fail'} of an unfolded field"""
    out = {"dkim": []}
    for part in authres.split(";")[1:]:
        m = re.match(r"\s*(spf|dkim|dmarc)=(\w+)", part)
        if m and m.group(1) == "dkim":
            out["dkim"].append(m.group(2))
        elif m:
            out[m.group(1)] = m.group(2)
    return out


# --------------------------------------------------------------------------
# SPF


@pytest.mark.parametrize("domain,want", [
    ("pass.test", "pass"), ("fail.test", "fail"), ("soft.test", "softfail"),
    ("neutral.test", "neutral"), ("none.test", "none"),
])
def test_spf_results(start_server, dns, domain, want):
    s = mx_server(start_server, dns)
    msg = make_message(frm="a@%s" % domain)
    assert smtp_send(s, "a@%s" % domain, msg).code == 250
    d = delivered(s)
    assert d.authres and d.authres.startswith("Authentication-Results: %s;" % HOSTNAME)
    assert "spf=%s smtp.mailfrom=%s" % (want, domain) in d.authres, d.authres
    assert d.rest == to_lf(msg)
    s.wait_log(r": spf=%s .* smtp\.mailfrom=%s" % (want, re.escape(domain)))


def test_spf_of_the_null_sender_checks_helo(start_server, dns):
    s = mx_server(start_server, dns)
    assert smtp_send(s, "", make_message(frm="a@helo.test"), helo="helo.test").code == 250
    assert "spf=pass smtp.helo=helo.test" in delivered(s).authres


# --------------------------------------------------------------------------
# DKIM, inbound


def dkimpy_sign(msg, domain, selector, keyfile, headers=(b"from", b"to", b"subject", b"date")):
    sig = dkim.sign(msg, selector.encode(), domain.encode(), keyfile.read_bytes(),
                    include_headers=list(headers))
    return sig + msg


def test_dkim_signed_by_dkimpy_passes(start_server, dns):
    dns.add("test._domainkey.signed.test", "TXT", '"%s"' % txt_of(DATA / "test.txt"))
    s = mx_server(start_server, dns)
    msg = dkimpy_sign(make_message(frm="a@signed.test"), "signed.test", "test",
                      DATA / "test.private")
    assert smtp_send(s, "a@signed.test", msg).code == 250
    d = delivered(s)
    assert "dkim=pass header.d=signed.test header.s=test" in d.authres, d.authres


@pytest.mark.parametrize("change", ["body", "header"])
def test_dkim_changed_message_fails(start_server, dns, change):
    dns.add("test._domainkey.signed.test", "TXT", '"%s"' % txt_of(DATA / "test.txt"))
    s = mx_server(start_server, dns)
    msg = dkimpy_sign(make_message(frm="a@signed.test", subject="original"), "signed.test",
                      "test", DATA / "test.private")
    if change == "body":
        msg = msg.replace(b"Hello.", b"Hellx.")
    else:
        msg = msg.replace(b"Subject: original", b"Subject: changed!")
    assert smtp_send(s, "a@signed.test", msg).code == 250
    assert methods(delivered(s).authres)["dkim"] == ["fail"]


def test_rfc8463_example_both_signatures_pass(start_server, dns):
    """RFC 8463 A.3: one ed25519-sha256 and one rsa-sha256 signature"""
    dns.add("brisbane._domainkey.football.example.com", "TXT",
            '"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="')
    dns.add("test._domainkey.football.example.com", "TXT", '"%s"' % txt_of(DATA / "test.txt"))
    s = mx_server(start_server, dns)
    msg = (DATA / "rfc6376.signed.msg").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert smtp_send(s, "joe@football.example.com", msg, rcpt="alice@example.test").code == 250
    m = methods(delivered(s).authres)
    assert m["dkim"] == ["pass", "pass"], delivered(s).authres


@pytest.mark.parametrize("record,want", [
    # a corrupted p= may be a key that does not parse, or one that does not match
    ("test_bad.txt", ("fail", "permerror")), ("badk.txt", ("permerror",)),
    ("badversion.txt", ("permerror",)), ("test_tlsrpt.txt", ("permerror",)),
    ("test2.txt", ("pass",)),
])
def test_dkimpy_key_records(start_server, dns, record, want):
    """the key records of dkimpy's test data, with a message signed by test.private"""
    dns.add("test._domainkey.signed.test", "TXT", '"%s"' % txt_of(DATA / record))
    s = mx_server(start_server, dns)
    msg = dkimpy_sign(make_message(frm="a@signed.test"), "signed.test", "test",
                      DATA / "test.private")
    assert smtp_send(s, "a@signed.test", msg).code == 250
    got = methods(delivered(s).authres)["dkim"]
    assert len(got) == 1 and got[0] in want, (record, delivered(s).authres)


def test_dkim_key_missing_is_permerror(start_server, dns):
    s = mx_server(start_server, dns)
    msg = dkimpy_sign(make_message(frm="a@signed.test"), "signed.test", "test",
                      DATA / "test.private")
    assert smtp_send(s, "a@signed.test", msg).code == 250
    assert methods(delivered(s).authres)["dkim"] == ["permerror"]


# --------------------------------------------------------------------------
# DMARC


def test_dmarc_pass_by_spf_alignment(start_server, dns):
    s = mx_server(start_server, dns)
    assert smtp_send(s, "a@spfal.test", make_message(frm="a@spfal.test")).code == 250
    a = delivered(s).authres
    assert methods(a)["dmarc"] == "pass" and "header.from=spfal.test" in a, a


def test_dmarc_pass_by_dkim_alignment(start_server, dns):
    dns.add("test._domainkey.dkal.test", "TXT", '"%s"' % txt_of(DATA / "test.txt"))
    s = mx_server(start_server, dns)
    msg = dkimpy_sign(make_message(frm="a@dkal.test"), "dkal.test", "test", DATA / "test.private")
    # the bounce address fails SPF and is not aligned: DKIM alone passes DMARC
    assert smtp_send(s, "b@bounce.test", msg).code == 250
    m = methods(delivered(s).authres)
    assert m["spf"] == "fail" and m["dkim"] == ["pass"] and m["dmarc"] == "pass", m


def test_dmarc_reject_enforced(start_server, dns):
    s = mx_server(start_server, dns)
    r = smtp_send(s, "a@rej.test", make_message(frm="a@rej.test"))
    assert r.code == 550 and r.enhanced() == "5.7.1", r
    assert "DMARC" in r.text and "rej.test" in r.text
    s.wait_log(r"NOQUEUE: reject: DATA from unknown\[127\.0\.0\.1\]: 550 5\.7\.1 .*DMARC")
    s.assert_count_stays("alice@example.test", 0, settle=0.5)


def test_dmarc_reject_not_enforced_is_quarantined(start_server, dns):
    s = mx_server(start_server, dns, dmarc_enforce="no")
    assert smtp_send(s, "a@rej.test", make_message(frm="a@rej.test")).code == 250
    d = delivered(s)
    assert methods(d.authres)["dmarc"] == "fail"
    assert any(a.startswith("X-Postino-Quarantine: dmarc") for a in d.added), d.added


def test_dmarc_quarantine_marked(start_server, dns):
    s = mx_server(start_server, dns)
    msg = make_message(frm="a@quar.test")
    assert smtp_send(s, "a@quar.test", msg).code == 250
    d = delivered(s)
    assert methods(d.authres)["dmarc"] == "fail"
    assert "(p=quarantine dis=quarantine)" in d.authres, d.authres
    assert any(a.startswith("X-Postino-Quarantine: dmarc") for a in d.added), d.added
    assert d.rest == to_lf(msg)


def test_dmarc_subdomain_policy_of_the_organizational_domain(start_server, dns):
    s = mx_server(start_server, dns)
    r = smtp_send(s, "a@sub.orgdom.test", make_message(frm="a@sub.orgdom.test"))
    assert r.code == 550, r             # sp=reject of orgdom.test applies to sub.orgdom.test
    assert smtp_send(s, "a@orgdom.test", make_message(frm="a@orgdom.test")).code == 250
    assert "(p=none dis=none)" in delivered(s).authres


def test_verify_inbound_off(start_server, dns):
    s = mx_server(start_server, dns, verify_inbound="no")
    assert smtp_send(s, "a@rej.test", make_message(frm="a@rej.test")).code == 250
    assert delivered(s).authres is None


# --------------------------------------------------------------------------
# Authentication-Results that claim to be ours


def test_forged_authentication_results_removed(start_server, dns):
    s = mx_server(start_server, dns)
    msg = make_message(frm="a@fail.test", extra_headers=[
        "Authentication-Results: %s; spf=pass smtp.mailfrom=fail.test" % HOSTNAME,
        "Authentication-Results: MX.Example.Test.;\r\n\tdkim=pass header.d=fail.test",
        "Authentication-Results: other.example; spf=pass",
        "X-Postino-Quarantine: none (forged)",
    ])
    assert smtp_send(s, "a@fail.test", msg).code == 250
    d = delivered(s)
    assert "spf=fail" in d.authres
    assert b"Authentication-Results: other.example; spf=pass" in d.rest
    assert HOSTNAME.encode() not in d.rest and b"MX.Example.Test" not in d.rest, d.rest
    assert b"X-Postino-Quarantine" not in d.rest
    s.wait_log(r"removed=3 forged")


# --------------------------------------------------------------------------
# Outbound signing


def keygen(s, domain, *args):
    p = subprocess.run([BIN, "dkim", "keygen", "-c", str(s.conf_path), domain] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, p.stderr
    line = p.stdout.decode().strip()
    m = re.match(r'^(\S+)\._domainkey\.(\S+)\.\s+IN\s+TXT\s+\(\s*((?:"[^"]*"\s*)+)\)$', line)
    assert m, "not a zone-file line: %r" % line
    value = "".join(re.findall(r'"([^"]*)"', m.group(3)))
    return m.group(1), value


def signed_server(start_server, dns):
    s = start_tls_server(start_server, conf={"dns_servers": "127.0.0.1:%d" % dns.port})
    return s


def sigs_of(raw):
    return len(re.findall(rb"^DKIM-Signature:", raw, re.M))


def dkimpy_verify_all(raw, dns_zone):
    """every DKIM-Signature of raw verified by dkimpy against dns_zone {name: txt}"""
    def dnsfunc(name, timeout=5):
        return dns_zone.get(name.decode().rstrip("."), "").encode()
    d = dkim.DKIM(raw)
    n = sigs_of(raw)
    return [d.verify(idx=i, dnsfunc=dnsfunc) for i in range(n)]


def test_submitted_mail_signed_rsa_and_ed25519(start_server, dns):
    s = signed_server(start_server, dns)
    sel_rsa, txt_rsa = keygen(s, "example.test", "--selector", "s1")
    sel_ed, txt_ed = keygen(s, "example.test", "--selector", "e1", "--algorithm", "ed25519")
    assert "k=rsa" in txt_rsa and "k=ed25519" in txt_ed
    key = s.data_dir / "dkim"
    for f in key.rglob("*"):
        if f.is_file():
            assert (f.stat().st_mode & 0o777) == 0o600, f
    zone = {"%s._domainkey.example.test" % sel_rsa: txt_rsa,
            "%s._domainkey.example.test" % sel_ed: txt_ed}
    for name, txt in zone.items():
        dns.add(name, "TXT", " ".join('"%s"' % txt[i:i + 200] for i in range(0, len(txt), 200)))
    msg = make_message(frm="alice@example.test", to="bob@example.test", subject="signed")
    send_authed(s, ["bob@example.test"], msg)
    raw = s.wait_messages("bob@example.test", 1)[0]
    assert sigs_of(raw) == 2, raw[:2000]
    assert b"a=rsa-sha256" in raw and b"a=ed25519-sha256" in raw
    assert dkimpy_verify_all(raw, zone) == [True, True]
    s.wait_log(r"dkim signed d=example\.test s=s1 a=rsa-sha256")

    # opendkim-testmsg asks the system resolver: 127.0.0.1:53 in the test namespace
    if not shutil.which("opendkim-testmsg"):
        pytest.skip("opendkim-testmsg not installed")
    if os.environ.get("POSTINO_PRIVATE_MOUNTS") != "1":
        pytest.skip("needs the network namespace of scripts/run-integration for port 53")
    dns53 = DNSTestServer(port=53)
    for name, txt in zone.items():
        dns53.add(name, "TXT", " ".join('"%s"' % txt[i:i + 200] for i in range(0, len(txt), 200)))
    dns53.start()
    try:
        p = subprocess.run(["opendkim-testmsg"], input=raw, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        assert p.returncode == 0, p.stdout
        # and it does check: a changed body fails
        p = subprocess.run(["opendkim-testmsg"], input=raw.replace(b"Hello.", b"Hellx."),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        assert p.returncode != 0, "opendkim-testmsg accepted a changed body"
    finally:
        dns53.stop()


def test_new_key_used_without_restart(start_server, dns):
    s = signed_server(start_server, dns)
    send_authed(s, ["bob@example.test"], make_message(frm="alice@example.test", subject="before"))
    assert sigs_of(s.wait_messages("bob@example.test", 1)[0]) == 0
    keygen(s, "example.test", "--selector", "late")
    send_authed(s, ["bob@example.test"], make_message(frm="alice@example.test", subject="after"))
    raws = s.wait_messages("bob@example.test", 2)
    assert sorted(sigs_of(r) for r in raws) == [0, 1]


def test_mail_on_port_25_is_never_signed(start_server, dns):
    """a stranger's message claiming our domain must not get our signature"""
    s = signed_server(start_server, dns)
    keygen(s, "example.test", "--selector", "s1")
    assert smtp_send(s, "x@example.test", make_message(frm="alice@example.test")).code == 250
    assert sigs_of(s.wait_messages("alice@example.test", 1)[0]) == 0
