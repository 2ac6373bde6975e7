"""test_doctor - `postino doctor` (issue 8): the setup checks.

The doctor asks the configured resolver (dns_servers: here the in-test DNS
server, dnsserver.py) about each domain's MX, SPF, DKIM and DMARC records
and about this server's name, address (public_ip = 127.0.0.5; libunbound's
127.in-addr.arpa zone is made transparent by dns.c, so the PTR comes from
the test server too) and blocklist listings; it connects to the listeners,
reads the certificate and the queue. Every line says ok, warning or
problem; a problem says why it matters and the exact fix; the exit status
is 0 only without problems.

Each fault test builds a zone that is healthy except for one seeded fault
and checks that the doctor reports exactly that one problem, with its fix.
One server runs for the module; its data folder holds the DKIM keys that
`postino dkim keygen` made for every test domain, and the records the
zones publish are the very lines keygen printed.
"""

import json
import re
import time

import pytest

from conftest import HOSTNAME, Server, free_port, wait_for
from dnsserver import DNSTestServer

IP = "127.0.0.5"
REV = "5.0.0.127.in-addr.arpa"
FAULTS = ["nomx", "cname", "noaddr", "twospf", "overspf", "notmine", "plusall", "nodkim",
          "otherkey", "nodmarc"]
DOMAINS = ["good.test"] + ["%s.test" % f for f in FAULTS]
# RFC 8463 A.2's Ed25519 public key: a key record, but not of our key
OTHER_KEY = '"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="'
LINE_RE = re.compile(r"^(\S+)\s+(\S+)\s+(ok|warning|problem)\s+(.*)$")


def parse_zone_line(line):
    """(name, rdata for dnsserver) of `SEL._domainkey.D. IN TXT ( "..." "..." )`"""
    name = line.split()[0].rstrip(".")
    strings = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
    assert strings, line
    return name, " ".join('"%s"' % s for s in strings)


@pytest.fixture(scope="module")
def mx(tmp_path_factory):
    """the server of the module: running, with DKIM keys for every test domain"""
    s = Server(tmp_path_factory.mktemp("doctor"), conf={"domains": " ".join(DOMAINS)})
    s.start()
    s.keys = {}
    for d in DOMAINS:
        algs = ["rsa", "ed25519"] if d == "good.test" else ["ed25519"]
        s.keys[d] = []
        for alg in algs:
            p = s.cli("dkim", "keygen", d, "--algorithm", alg)
            assert p.returncode == 0, p.stderr.decode()
            line = p.stdout.decode().strip()
            s.keys[d].append(line)
    yield s
    s.finish()


@pytest.fixture
def dns():
    srv = DNSTestServer()
    srv.start()
    yield srv
    srv.stop()


def base_zone(dns, ptr=True):
    """this server: hostname -> IP, and IP -> hostname"""
    dns.add(HOSTNAME, "A", IP)
    if ptr:
        dns.add(REV, "PTR", HOSTNAME + ".")


def healthy(dns, mx, domain, skip=()):
    """a domain set up right, but for the parts in skip"""
    if "mx" not in skip:
        dns.add(domain, "MX", "10 %s." % HOSTNAME)
    if "spf" not in skip:
        dns.add(domain, "TXT", '"v=spf1 ip4:%s -all"' % IP)
    dns.add(domain, "TXT", '"site-verification=abc123"')
    if "dkim" not in skip:
        for line in mx.keys[domain]:
            name, rdata = parse_zone_line(line)
            dns.add(name, "TXT", rdata)
    if "dmarc" not in skip:
        dns.add("_dmarc." + domain, "TXT",
                '"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s"' % domain)


def doctor(mx, dns, *args, public_ip=IP, options=()):
    a = ["doctor"] + list(args) + ["-o", "dns_servers=127.0.0.1:%d" % dns.port,
                                   "-o", "public_ip=" + public_ip]
    for o in options:
        a += ["-o", o]
    p = mx.cli(*a, timeout=60)
    return p, p.stdout.decode(), p.stderr.decode()


def lines(out):
    """[(subject, check, status, text)] of the report"""
    got = []
    for line in out.splitlines():
        m = LINE_RE.match(line)
        if m:
            got.append(m.groups())
    return got


def problems(out):
    return [x for x in lines(out) if x[2] == "problem"]


# --------------------------------------------------------------------------
# A healthy setup


def test_healthy_setup_has_no_problem(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    p, out, err = doctor(mx, dns, "good.test")
    assert p.returncode == 0, out + err
    assert problems(out) == [], out
    got = lines(out)
    want_ok = [
        ("good.test", "MX", "%s (10) at %s, this server" % (HOSTNAME, IP)),
        ("good.test", "SPF", "v=spf1 ip4:%s -all (passes %s by ip4:%s; 0 of 10 DNS lookups)"
         % (IP, IP, IP)),
        ("good.test", "DMARC", "policy quarantine"),
        (HOSTNAME, "IP", "this server's address: %s (public_ip)" % IP),
        (HOSTNAME, "HOST", "%s resolves to %s" % (HOSTNAME, IP)),
        (HOSTNAME, "PTR", "%s -> %s -> %s (forward-confirmed)" % (IP, HOSTNAME, IP)),
        (HOSTNAME, "DNSBL", "%s is not listed in zen.spamhaus.org" % IP),
        (HOSTNAME, "DNSBL", "%s is not listed in bl.spamcop.net" % IP),
        (HOSTNAME, "DNSBL", "%s is not listed in b.barracudacentral.org" % IP),
        (HOSTNAME, "LISTEN", "(listen_submission) answers"),
        (HOSTNAME, "LISTEN", "(listen_pop3s) answers"),
        (HOSTNAME, "LISTEN", "(listen_imaps) answers"),
        (HOSTNAME, "QUEUE", "empty"),
    ]
    for subject, check, text in want_ok:
        assert any(s == subject and c == check and st == "ok" and text in t
                   for s, c, st, t in got), (subject, check, text, out)
    dkim = [t for s, c, st, t in got if c == "DKIM"]
    assert len(dkim) == 2 and all("published at" in t for t in dkim), out
    assert any("rsa 2048 bits, signs" in t for t in dkim), out
    assert any("ed25519 256 bits, signs" in t for t in dkim), out
    # the trial-like parts are warnings, not problems: port 2xxx, self-signed
    assert any(c == "TLS" and st == "warning" and "self-signed" in t for s, c, st, t in got), out
    assert "No problem found" in out
    # the resolver really was asked: the CNAME of the MX host, the PTR
    asked = {(n, t) for n, t, _ in dns.queries}
    assert ((HOSTNAME + ".").lower(), "CNAME") in asked, asked
    assert (REV + ".", "PTR") in asked, asked


def test_every_local_domain_by_default(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    p, out, err = doctor(mx, dns)
    subjects = {x[0] for x in lines(out)}
    for d in DOMAINS:
        assert d in subjects, (d, out)
    assert p.returncode == 1            # the other domains publish nothing here


# --------------------------------------------------------------------------
# One fault each


def zone_cname(dns, mx):
    healthy(dns, mx, "cname.test", skip=("mx",))
    dns.add("cname.test", "MX", "10 alias.cname.test.")
    dns.add("alias.cname.test", "CNAME", HOSTNAME + ".")


def zone_noaddr(dns, mx):
    healthy(dns, mx, "noaddr.test")
    dns.add("noaddr.test", "MX", "20 backup.noaddr.test.")


def zone_twospf(dns, mx):
    healthy(dns, mx, "twospf.test")
    dns.add("twospf.test", "TXT", '"v=spf1 include:_spf.mailer.test ~all"')


def zone_overspf(dns, mx):
    healthy(dns, mx, "overspf.test", skip=("spf",))
    incs = ["include:i%d.overspf.test" % i for i in range(1, 12)]
    # two strings of one record, joined without a space (RFC 7208 3.3)
    dns.add("overspf.test", "TXT", '"v=spf1 ip4:%s %s " "%s -all"'
            % (IP, " ".join(incs[:6]), " ".join(incs[6:])))
    for i in range(1, 12):
        dns.add("i%d.overspf.test" % i, "TXT", '"v=spf1 -all"')


def zone_notmine(dns, mx):
    healthy(dns, mx, "notmine.test", skip=("spf",))
    dns.add("notmine.test", "TXT", '"v=spf1 ip4:192.0.2.55 -all"')


def zone_plusall(dns, mx):
    healthy(dns, mx, "plusall.test", skip=("spf",))
    dns.add("plusall.test", "TXT", '"v=spf1 +all"')


def zone_otherkey(dns, mx):
    healthy(dns, mx, "otherkey.test", skip=("dkim",))
    name, _ = parse_zone_line(mx.keys["otherkey.test"][0])
    dns.add(name, "TXT", OTHER_KEY)


FAULT_CASES = {
    # domain: (make the zone, check, the problem's text, its fix)
    "nomx": (lambda dns, mx: healthy(dns, mx, "nomx.test", skip=("mx",)), "MX",
             "no MX record. Other servers do not know where to deliver mail for nomx.test",
             "Publish: nomx.test. MX 10 %s." % HOSTNAME),
    "cname": (zone_cname, "MX",
              "MX alias.cname.test (10) is an alias (CNAME) of %s. An MX must name a host "
              "directly" % HOSTNAME,
              "Point the MX at the real name: cname.test. MX 10 %s." % HOSTNAME),
    "noaddr": (zone_noaddr, "MX",
               "MX backup.noaddr.test (20) has no address (no A or AAAA record). Senders "
               "cannot connect to it",
               "Publish the address of backup.noaddr.test (backup.noaddr.test. A ITS-ADDRESS)"),
    "twospf": (zone_twospf, "SPF",
               "2 SPF records (v=spf1), where one is allowed. Receivers take two records as a "
               "permanent error",
               'Replace them with one: twospf.test. TXT "v=spf1 include:_spf.mailer.test '
               'ip4:%s -all"' % IP),
    "overspf": (zone_overspf, "SPF",
                "the SPF record needs more than 10 DNS lookups. Receivers stop at 10",
                'For this server alone, publish: overspf.test. TXT "v=spf1 ip4:%s -all"' % IP),
    "notmine": (zone_notmine, "SPF",
                "v=spf1 ip4:192.0.2.55 -all does not authorise this server's address %s (fail "
                "by -all). Receivers see spf=fail" % IP,
                'Publish instead: notmine.test. TXT "v=spf1 ip4:%s ip4:192.0.2.55 -all"' % IP),
    "plusall": (zone_plusall, "SPF",
                "the SPF record lets every address send as plusall.test (+all). Anyone can "
                "forge mail",
                'Publish instead: plusall.test. TXT "v=spf1 ip4:%s -all"' % IP),
    "nodkim": (lambda dns, mx: healthy(dns, mx, "nodkim.test", skip=("dkim",)), "DKIM",
               "has no record at ", "Publish: {keyline}"),
    "otherkey": (zone_otherkey, "DKIM",
                 "holds another key than ", "Replace the record with: {keyline}"),
    "nodmarc": (lambda dns, mx: healthy(dns, mx, "nodmarc.test", skip=("dmarc",)), "DMARC",
                "no DMARC record. Receivers do not know what to do with mail that fails",
                'Publish: _dmarc.nodmarc.test. TXT "v=DMARC1; p=quarantine; '
                'rua=mailto:postmaster@nodmarc.test"'),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_domain_fault_is_one_problem_with_its_fix(mx, dns, fault):
    make, check, text, fix = FAULT_CASES[fault]
    domain = fault + ".test"
    base_zone(dns)
    make(dns, mx)
    fix = fix.format(keyline=mx.keys[domain][0])
    p, out, err = doctor(mx, dns, domain)
    assert p.returncode == 1, out + err
    got = problems(out)
    assert len(got) == 1, out
    subject, c, _, line = got[0]
    assert (subject, c) == (domain, check), out
    assert text in line, (text, line)
    assert fix in line, (fix, line)
    assert "No problem found" not in out


def test_ptr_missing(mx, dns):
    base_zone(dns, ptr=False)
    healthy(dns, mx, "good.test")
    p, out, err = doctor(mx, dns, "good.test")
    assert p.returncode == 1, out + err
    assert len(problems(out)) == 1, out
    subject, check, _, line = problems(out)[0]
    assert (subject, check) == (HOSTNAME, "PTR")
    assert line.startswith("no reverse DNS (PTR) for %s. Gmail, Outlook" % IP), line
    assert ('to set: %s. PTR %s.' % (REV, HOSTNAME)) in line, line


def test_ptr_not_matching(mx, dns):
    base_zone(dns, ptr=False)
    dns.add(REV, "PTR", "mail.isp.test.")
    dns.add("mail.isp.test", "A", "127.0.0.99")
    healthy(dns, mx, "good.test")
    p, out, err = doctor(mx, dns, "good.test")
    assert p.returncode == 1, out + err
    assert len(problems(out)) == 1, out
    subject, check, _, line = problems(out)[0]
    assert (subject, check) == (HOSTNAME, "PTR")
    assert ("the reverse DNS of %s is mail.isp.test, which does not resolve back to it (it "
            "resolves to 127.0.0.99)" % IP) in line, line
    assert "forward-confirmed reverse DNS" in line
    assert ('to set: %s. PTR %s.' % (REV, HOSTNAME)) in line, line


def test_listed_in_a_configured_blocklist(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    dns.add("5.0.0.127.bl.test", "A", "127.0.0.2")
    dns.add("5.0.0.127.bl.test", "TXT", '"Listed for spam: https://bl.test/q?127.0.0.5"')
    dns.add("5.0.0.127.clean.test", "TXT", '"not an A record, not a listing"')
    p, out, err = doctor(mx, dns, "good.test", options=["dnsbl=clean.test bl.test"])
    assert p.returncode == 1, out + err
    assert len(problems(out)) == 1, out
    subject, check, _, line = problems(out)[0]
    assert (subject, check) == (HOSTNAME, "DNSBL")
    assert ("%s is listed in bl.test (127.0.0.2): Listed for spam: https://bl.test/q?127.0.0.5. "
            "Servers that use bl.test refuse or junk mail from this server." % IP) in line, line
    assert "ask bl.test for removal" in line, line
    assert any(c == "DNSBL" and st == "ok" and "not listed in clean.test" in t
               for s, c, st, t in lines(out)), out
    # the configured zones replace the default list
    assert "spamhaus" not in out


def test_listed_in_a_default_blocklist_gets_its_delisting_advice(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    dns.add("5.0.0.127.zen.spamhaus.org", "A", "127.0.0.4")
    p, out, err = doctor(mx, dns, "good.test")
    assert p.returncode == 1, out + err
    assert len(problems(out)) == 1, out
    _, check, _, line = problems(out)[0]
    assert check == "DNSBL" and "listed in zen.spamhaus.org (127.0.0.4)" in line, line
    assert "https://check.spamhaus.org/" in line, line


def test_blocklist_that_refuses_the_resolver_is_a_warning(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    dns.add("5.0.0.127.zen.spamhaus.org", "A", "127.255.255.254")
    p, out, err = doctor(mx, dns, "good.test")
    assert p.returncode == 0, out + err
    assert any(c == "DNSBL" and st == "warning" and "refused the query" in t
               for s, c, st, t in lines(out)), out


# --------------------------------------------------------------------------
# JSON


def test_json_output(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "nodmarc.test", skip=("dmarc",))
    p, out, err = doctor(mx, dns, "nodmarc.test", "--json")
    assert p.returncode == 1, out + err
    doc = json.loads(out)
    assert doc["hostname"] == HOSTNAME and doc["public_ip"] == IP
    assert doc["problems"] == 1
    assert doc["warnings"] == sum(1 for c in doc["checks"] if c["status"] == "warning")
    for c in doc["checks"]:
        assert set(c) == {"subject", "check", "status", "detail", "why", "fix"}, c
        assert c["status"] in ("ok", "warning", "problem")
        if c["status"] == "problem":
            assert c["why"] and c["fix"], c
        if c["status"] == "ok":
            assert c["why"] is None and c["fix"] is None, c
    bad = [c for c in doc["checks"] if c["status"] == "problem"]
    assert bad[0]["subject"] == "nodmarc.test" and bad[0]["check"] == "DMARC"
    assert bad[0]["detail"] == "no DMARC record"
    assert ('Publish: _dmarc.nodmarc.test. TXT "v=DMARC1; p=quarantine; '
            'rua=mailto:postmaster@nodmarc.test"') in bad[0]["fix"]


def test_json_healthy(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    p, out, err = doctor(mx, dns, "good.test", "--json")
    assert p.returncode == 0, out + err
    doc = json.loads(out)
    assert doc["problems"] == 0
    assert {c["check"] for c in doc["checks"]} >= {"MX", "SPF", "DKIM", "DMARC", "IP", "HOST",
                                                   "PTR", "DNSBL", "LISTEN", "TLS", "QUEUE"}


# --------------------------------------------------------------------------
# This machine: listeners, queue


def test_a_closed_listener_is_named(mx, dns):
    base_zone(dns)
    healthy(dns, mx, "good.test")
    port = free_port()
    p, out, err = doctor(mx, dns, "good.test",
                         options=["listen_pop3s=127.0.0.1:%d" % port])
    assert p.returncode == 1, out + err
    assert len(problems(out)) == 1, out
    _, check, _, line = problems(out)[0]
    assert check == "LISTEN"
    assert "nothing answers on 127.0.0.1:%d (listen_pop3s)" % port in line, line
    assert "Mail programs cannot collect their mail." in line


def write_old_message(data_dir, rcpt, age):
    """a queue file as the server writes it, arrived age seconds ago"""
    qid = "0193A1B2C3D4E5F6"
    msg = data_dir / "queue" / "msg"
    msg.mkdir(parents=True, exist_ok=True)
    (data_dir / "queue" / "state").mkdir(parents=True, exist_ok=True)
    body = "Subject: old\n\nstill here\n"
    head = ("POSTINO-QUEUE 1\nid %s\narrival %d\nsender alice@example.test\n"
            "client 127.0.0.1 client.example.test\nsize %d\nrcpt %s %s 0 - remote\n\n"
            % (qid, int(time.time()) - age, len(body), rcpt, rcpt))
    (msg / qid).write_text(head + body)
    return qid


def test_server_not_running_and_old_mail_waiting(start_server, dns):
    s = start_server(start=False)
    base_zone(dns)
    write_old_message(s.data_dir, "bob@remote.test", 2 * 86400 + 600)
    p, out, err = doctor(s, dns, "example.test")
    assert p.returncode == 1, out + err
    got = [x for x in problems(out) if x[1] in ("LISTEN", "QUEUE")]
    assert len(got) == 2, out
    assert got[0][1] == "LISTEN" and "the server is not running" in got[0][3], got
    assert "listen_smtp 127.0.0.1:%d" % s.port in got[0][3], got
    assert got[1][1] == "QUEUE", got
    assert "1 message waiting, the oldest for 2d 0h" in got[1][3], got
    assert "Start the server (postino serve)" in got[1][3], got


@pytest.mark.timeout(90)
def test_deferred_mail_names_its_reason(start_server, dns):
    dead = free_port()
    dns.add("remote.test", "MX", "10 mx.remote.test.")
    dns.add("mx.remote.test", "A", "127.0.0.1")
    s = start_server(start=False, conf={"dns_servers": "127.0.0.1:%d" % dns.port,
                                        "smtp_port": str(dead)})
    write_old_message(s.data_dir, "bob@remote.test", 2 * 86400)
    s.start()
    s.wait_log(r"to=<bob@remote\.test>.*status=deferred")

    def settled():
        # the delay notice to alice is queued and delivered meanwhile: wait
        # for the queue to hold the old message alone, its error recorded
        p = s.cli("queue", "list", "--json")
        msgs = json.loads(p.stdout.decode() or "{}").get("messages", [])
        return len(msgs) == 1 and msgs[0]["recipients"][0]["last_error"]
    reason = wait_for(settled, what="the deferral recorded")
    base_zone(dns)
    p, out, err = doctor(s, dns, "example.test")
    got = [x for x in problems(out) if x[1] == "QUEUE"]
    assert len(got) == 1, out
    line = got[0][3]
    assert ("1 message waiting, the oldest for 2d 0h, 1 deferred; most common reason (1 "
            "recipient): %s" % reason) in line, line
    assert "postino queue flush" in line, line
