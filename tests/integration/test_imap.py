"""test_imap - the IMAP server over the Maildirs (RFC 9051 IMAP4rev2;
IMAP4rev1 clients per RFC 3501).

Contract: listen_imap (STARTTLS offered) and listen_imaps (implicit TLS,
RFC 8314). Greeting "* OK [CAPABILITY ...]"; in the clear STARTTLS and
LOGINDISABLED, inside TLS AUTH=PLAIN (RFC 9051 6.1.1, 6.2.3); after login
IDLE NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN LIST-EXTENDED LIST-STATUS
SPECIAL-USE ESEARCH. LOGIN and AUTHENTICATE PLAIN (SASL-IR or "+"
continuation) only inside TLS (or in the clear from loopback with
auth_plaintext_loopback = yes): in the clear "NO [PRIVACYREQUIRED]". Wrong
password: "NO [AUTHENTICATIONFAILED]", one "IMAP authentication failed"
log line, counted per IP like SMTP AUTH and POP3; never a password in the
log. STARTTLS throws away what was pipelined after it (RFC 9051 6.2.1).

The store: the Maildir root is INBOX, folder "A.B" is <root>/.A.B, delimiter
"."; Sent Drafts Trash Junk Archive are made at the first login with their
RFC 6154 attributes. Flags are the Maildir info letters (":2,DFRST").
UIDs and UIDVALIDITY survive a restart. FETCH sends the Maildir file with
CRLF line ends (RFC822.SIZE is its length); MOVE (RFC 6851), COPY and
APPEND answer COPYUID/APPENDUID (RFC 4315); SEARCH, ESEARCH (RFC 4731);
IDLE (RFC 2177) reports new mail and other sessions' changes; a too large
APPEND literal is refused with "NO [TOOBIG]" before it is sent.

Real clients: imaplib (starttls and IMAP4_SSL), curl imaps:// and imap://
with --ssl-reqd, s-nail in batch mode. Raw sockets for exact bytes and
for robustness: every bad input gets a tagged BAD/NO or "* BYE", and the
connection stays sane.
"""

import base64
import calendar
import datetime
import imaplib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (HOST, HOSTNAME, PASSWORD, Closed, give_to_server, make_message,
                      parse_delivered, send_mail)
from imaputil import (ALICE, BOB, SENDER, Imap, crlf, ctx_for, deliver, fetch_items, fetches,
                      folder_dir, folder_files, imap_server, list_entries, parse, status_items,
                      tls_imap)
from tlsutil import cert_path, plain_b64

WRONG = "not-the-password"
SPECIAL = {"Sent": "\\sent", "Drafts": "\\drafts", "Trash": "\\trash", "Junk": "\\junk",
           "Archive": "\\archive"}
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


# --------------------------------------------------------------------------
# Helpers


def caps_of(text):
    """the capability names (upper case) of "* CAPABILITY ..." or "[CAPABILITY ...]"."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    m = re.search(r"CAPABILITY ([^\]\r\n]*)", text, re.I)
    assert m, "no capability list in %r" % text
    return {c.upper() for c in m.group(1).split()}


def capability(c):
    r = c.ok("CAPABILITY")
    items = r.items("CAPABILITY")
    assert len(items) == 1, "CAPABILITY: want one untagged CAPABILITY: %r" % r
    return caps_of(items[0])


def failure_lines(server):
    return re.findall(r"unknown\[127\.0\.0\.1\]: IMAP authentication failed: user=<(.*)>$",
                      server.log(), re.M)


def imap_date(ts):
    """an IMAP date ("1-Feb-2024") of the UTC day of ts."""
    t = time.gmtime(ts)
    return "%d-%s-%d" % (t.tm_mday, MONTHS[t.tm_mon - 1], t.tm_year)


def parse_internaldate(v):
    """INTERNALDATE "dd-Mon-yyyy hh:mm:ss +zzzz" -> seconds since the epoch."""
    text = v.decode() if isinstance(v, bytes) else str(v)
    assert re.fullmatch(r"[ 0-3]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}", text), \
        "malformed INTERNALDATE %r (RFC 9051 date-time)" % text
    return datetime.datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").timestamp()


def the_file(server, addr, folder="INBOX"):
    """the one message file of a folder (new/ or cur/), as a Path."""
    new, cur = folder_files(server, addr, folder)
    assert len(new) + len(cur) == 1, "want one message in %s: new=%r cur=%r" % (folder, new, cur)
    d = folder_dir(server, addr, folder)
    return d / "new" / new[0] if new else d / "cur" / cur[0]


def info_of(name):
    """the Maildir info of a file name in cur/: ":2,FS" -> "FS"."""
    assert ":2," in name, "no Maildir info in %r" % name
    return name.split(":2,", 1)[1]


def letters(path):
    """the flag letters of a message file: its info in cur/, "" in new/."""
    if path.parent.name == "new":
        assert ":" not in path.name, "a file with info in new/: %s" % path
        return ""
    return info_of(path.name)


def folder_messages(server, addr, folder="INBOX"):
    """the octets of every message file of a folder."""
    d = folder_dir(server, addr, folder)
    new, cur = folder_files(server, addr, folder)
    return [(d / "new" / n).read_bytes() for n in new] + [(d / "cur" / n).read_bytes() for n in cur]


def set_letters_externally(path, flags):
    """what another program (a MUA on the Maildir) does: rename the file
    to carry flags; returns the new path."""
    unique = path.name.split(":2,")[0]
    dest = path.parent.parent / "cur" / (unique + ":2," + flags)
    path.rename(dest)
    return dest


def bad_or_bye(c, tag):
    """read up to tag's completion or the close: ("bad", items) when tag
    got BAD or NO, ("bye", items) when the server said "* BYE" and closed."""
    out = []
    try:
        while True:
            it = c.item()
            out.append(it)
            if it.startswith(tag.encode() + b" "):
                assert re.match(rb"\S+ (BAD|NO)", it), "want BAD or NO: %r" % out
                return "bad", out
    except Closed:
        assert any(x.startswith(b"* BYE") for x in out), "closed without * BYE: %r" % out
        return "bye", out


def msgid_uids(c):
    """{Message-ID: UID} of the selected folder, through FETCH."""
    r = c.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
    out = {}
    for n, d in fetches(r).items():
        key = [k for k in d if k.startswith("BODY[HEADER.FIELDS")]
        assert key and "UID" in d, "FETCH %d lacks UID or the header: %r" % (n, d)
        m = re.search(rb"<[^>]+>", d[key[0]])
        assert m, d
        out[m.group(0).decode()] = int(d["UID"])
    return out


def search_numbers(resp):
    """the numbers of the one "* SEARCH" response of resp."""
    items = resp.items("SEARCH")
    assert len(items) == 1, "want one untagged SEARCH: %r" % resp
    return [int(x) for x in items[0].split()[2:]]


def esearch(resp):
    """the one "* ESEARCH" of resp -> (tag, uid?, {RESULT: value str})."""
    items = resp.items("ESEARCH")
    assert len(items) == 1, "want one untagged ESEARCH: %r" % resp
    v = parse(items[0])[2:]
    tag = None
    if v and isinstance(v[0], list):
        assert str(v[0][0]).upper() == "TAG", items[0]
        tag = v[0][1].decode()
        v = v[1:]
    uid = bool(v) and str(v[0]).upper() == "UID"
    if uid:
        v = v[1:]
    assert len(v) % 2 == 0, "odd ESEARCH results %r" % items[0]
    return tag, uid, {str(v[k]).upper(): str(v[k + 1]) for k in range(0, len(v), 2)}


def send_quietly(c, data):
    """send data; a server that has closed meanwhile (after a BYE) is not
    an error here: what it said is read afterwards."""
    try:
        c.send(data)
    except OSError:                 # ssl.SSLError, a reset, a broken pipe
        pass


def sane_after(c, what, bye_ok=True):
    """the connection still works after a bad input (a NOOP answered OK),
    or the server said "* BYE" and closed it cleanly. Returns "ok" or "bye"."""
    try:
        r = c.cmd("NOOP")
    except (Closed, OSError):       # OSError: ssl.SSLError, a reset, a broken pipe
        assert bye_ok, "%s: connection closed" % what
        return "bye"
    if any(u.startswith(b"* BYE") for u in r.untagged):
        assert bye_ok and c.is_closed(), "%s: BYE without a close: %r" % (what, r)
        return "bye"
    assert r.status == "OK", "%s: NOOP afterwards got %r" % (what, r)
    return "ok"


def multipart_message(to=ALICE):
    """a multipart/mixed message: a text part and a base64 attachment whose
    bodies are easy to measure (each ends with a CRLF before the CRLF of
    the delimiter, RFC 2046 5.1.1)."""
    hdr = ("From: Sender Name <sender@client.example.test>\r\n"
           "To: <%s>\r\n"
           "Subject: multipart\r\n"
           "Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
           "Message-ID: <multi@client.example.test>\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"b0undary\"\r\n"
           "\r\n" % to)
    text_hdr = "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    text = "Hello\r\nWorld\r\n"
    bin_hdr = ("Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
               "Content-Transfer-Encoding: base64\r\n"
               "Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\n")
    b64 = "QUJDREVGR0g=\r\n"
    body = ("This is a multi-part message.\r\n"
            "--b0undary\r\n" + text_hdr + text + "\r\n"
            "--b0undary\r\n" + bin_hdr + b64 + "\r\n"
            "--b0undary--\r\n")
    return (hdr + body).encode(), text_hdr.encode(), text.encode(), b64.encode()


# --------------------------------------------------------------------------
# Greeting, CAPABILITY


def test_greeting_and_capability_before_and_after_login(start_server):
    s = imap_server(start_server)
    with Imap(HOST, s.imap_port) as c:
        assert c.greeting.startswith(b"* OK [CAPABILITY "), c.greeting
        greet = caps_of(c.greeting)
        for want in ("IMAP4REV2", "IMAP4REV1", "STARTTLS", "LOGINDISABLED"):
            assert want in greet, "greeting in the clear lacks %s: %r" % (want, c.greeting)
        assert "AUTH=PLAIN" not in greet, "AUTH=PLAIN offered in the clear: %r" % c.greeting
        caps = capability(c)
        assert caps == greet, (caps, greet)
        c.starttls(ctx_for(s))
        caps = capability(c)
        assert "AUTH=PLAIN" in caps and "SASL-IR" in caps, caps
        assert "STARTTLS" not in caps and "LOGINDISABLED" not in caps, caps
        r = c.cmd("STARTTLS")
        assert r.status == "BAD" or r.status == "NO", "second STARTTLS: %r" % r
        r = c.login()
        after = caps_of(r.tagged) if r.code else capability(c)
        for want in ("IMAP4REV2", "IDLE", "NAMESPACE", "UNSELECT", "UIDPLUS", "MOVE", "CHILDREN",
                     "LIST-EXTENDED", "LIST-STATUS", "SPECIAL-USE", "ESEARCH", "ENABLE"):
            assert want in after, "capabilities after login lack %s: %r" % (want, after)
        assert capability(c) == after
        assert "STARTTLS" not in after and "LOGINDISABLED" not in after, after
        r = c.ok("LOGOUT")
        assert r.items("BYE"), "LOGOUT without * BYE: %r" % r
        assert c.is_closed()

    with tls_imap(s) as c:
        greet = caps_of(c.greeting)
        assert "AUTH=PLAIN" in greet and "IMAP4REV2" in greet, c.greeting
        assert "STARTTLS" not in greet and "LOGINDISABLED" not in greet, c.greeting
        r = c.cmd("STARTTLS")
        assert r.status in ("BAD", "NO"), "STARTTLS on the implicit-TLS port: %r" % r
        c.ok("NOOP")


# --------------------------------------------------------------------------
# Login


def test_login_refused_in_the_clear(start_server):
    s = imap_server(start_server)
    with Imap(HOST, s.imap_port) as c:
        r = c.cmd('LOGIN "%s" "%s"' % (ALICE, PASSWORD))
        assert r.status == "NO" and r.code == "PRIVACYREQUIRED", "LOGIN in the clear: %r" % r
        r = c.cmd("AUTHENTICATE PLAIN " + plain_b64(ALICE))
        assert r.status == "NO" and r.code == "PRIVACYREQUIRED", "AUTHENTICATE in the clear: %r" % r
        r = c.cmd("AUTHENTICATE PLAIN")
        assert not r.conts, "a '+' continuation for AUTHENTICATE in the clear: %r" % r.conts
        assert r.status == "NO" and r.code == "PRIVACYREQUIRED", r
        for cmd in ("SELECT INBOX", 'LIST "" "*"', "STATUS INBOX (MESSAGES)"):
            r = c.cmd(cmd)
            assert r.status == "BAD" or r.status == "NO", "%s before login: %r" % (cmd, r)
        c.ok("NOOP")
        c.ok("LOGOUT")
    assert not failure_lines(s), "a refused cleartext login counted as a failure"
    assert PASSWORD not in s.log()


def test_plaintext_loopback_allows_login_in_clear(start_server):
    s = imap_server(start_server, auth_plaintext_loopback="yes")
    deliver(s, ALICE, 1)
    with Imap(HOST, s.imap_port) as c:
        caps = caps_of(c.greeting)
        assert "AUTH=PLAIN" in caps and "STARTTLS" in caps and "LOGINDISABLED" not in caps, caps
        c.login()
        r = c.select()
        assert r.numbers("EXISTS") == [1], r


def test_login_and_authenticate_plain_forms(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    # LOGIN with quoted strings
    with tls_imap(s) as c:
        r = c.login()
        assert r.code and r.code.upper().startswith("CAPABILITY"), \
            "LOGIN OK without [CAPABILITY]: %r" % r
        assert c.select().numbers("EXISTS") == [1]
        r = c.cmd('LOGIN "%s" "%s"' % (ALICE, PASSWORD))
        assert r.status == "BAD", "LOGIN when logged in: %r" % r
        r = c.cmd("AUTHENTICATE PLAIN " + plain_b64(ALICE))
        assert r.status == "BAD", "AUTHENTICATE when logged in: %r" % r
    # LOGIN with synchronising literals
    with tls_imap(s) as c:
        c.send(b"L1 LOGIN {%d}\r\n" % len(ALICE))
        assert c.item().startswith(b"+"), "no continuation for the user literal"
        c.send(ALICE.encode() + b" {%d}\r\n" % len(PASSWORD))
        assert c.item().startswith(b"+"), "no continuation for the password literal"
        c.send(PASSWORD.encode() + b"\r\n")
        r = c.read_resp("L1")
        assert r.status == "OK", "LOGIN with literals: %r" % r
        c.select()
    # AUTHENTICATE PLAIN with an initial response (RFC 4959 SASL-IR)
    with tls_imap(s) as c:
        r = c.ok("AUTHENTICATE PLAIN " + plain_b64(ALICE))
        assert not r.conts, r
        c.select()
    # AUTHENTICATE PLAIN with the "+" continuation, authzid = authcid
    with tls_imap(s) as c:
        c.send(b"A1 AUTHENTICATE PLAIN\r\n")
        cont = c.item()
        assert cont.startswith(b"+"), "AUTHENTICATE PLAIN: want '+', got %r" % cont
        c.send(plain_b64(ALICE, authzid=ALICE) + "\r\n")
        r = c.read_resp("A1")
        assert r.status == "OK", "AUTHENTICATE PLAIN continuation: %r" % r
        c.select()
    # "*" cancels (RFC 9051 6.2.2): BAD, still not logged in
    with tls_imap(s) as c:
        c.send(b"A2 AUTHENTICATE PLAIN\r\n")
        assert c.item().startswith(b"+")
        c.send(b"*\r\n")
        r = c.read_resp("A2")
        assert r.status == "BAD", "cancelled AUTHENTICATE: %r" % r
        r = c.cmd("SELECT INBOX")
        assert r.status in ("BAD", "NO"), r
        c.login()
    # unknown user: the same answer as a wrong password
    with tls_imap(s) as c:
        r = c.cmd('LOGIN "nobody@example.test" "%s"' % PASSWORD)
        assert r.status == "NO" and r.code == "AUTHENTICATIONFAILED", r
    assert PASSWORD not in s.log()


def test_wrong_password(start_server):
    s = imap_server(start_server)
    with tls_imap(s) as c:
        t0 = time.monotonic()
        r = c.cmd('LOGIN "%s" "%s"' % (ALICE, WRONG))
        assert r.status == "NO" and r.code == "AUTHENTICATIONFAILED", "wrong password: %r" % r
        assert time.monotonic() - t0 < 5
        r = c.cmd("SELECT INBOX")
        assert r.status in ("BAD", "NO"), "SELECT after a failed login: %r" % r
        c.login()                   # the session may try again
        c.select()
    with tls_imap(s) as c:
        bad = base64.b64encode(("\0%s\0%s" % (ALICE, WRONG)).encode()).decode()
        r = c.cmd("AUTHENTICATE PLAIN " + bad)
        assert r.status == "NO" and r.code == "AUTHENTICATIONFAILED", "AUTHENTICATE: %r" % r
    s.wait_log(r"IMAP authentication failed: user=<alice@example\.test>", count=2)
    assert failure_lines(s) == [ALICE, ALICE], failure_lines(s)
    assert WRONG not in s.log() and PASSWORD not in s.log()


def test_failures_block_the_address(start_server):
    s = imap_server(start_server, auth_max_failures="2", auth_block_time="60s")
    with tls_imap(s) as c:
        r = c.cmd('LOGIN "%s" "%s"' % (ALICE, WRONG))
        assert r.status == "NO" and r.code == "AUTHENTICATIONFAILED", r
        try:
            r = c.cmd('LOGIN "%s" "%s2"' % (ALICE, WRONG))
            assert r.status == "NO", r
        except Closed:
            pass
    s.wait_log(r"unknown\[127\.0\.0\.1\]: blocked for 60s after 2 failed authentications")
    assert failure_lines(s) == [ALICE, ALICE], failure_lines(s)
    assert WRONG not in s.log() and PASSWORD not in s.log()
    # blocked now: even the right password does not log in
    try:
        c = tls_imap(s)
    except (Closed, ssl.SSLError, OSError, AssertionError):
        return                      # refused at connect or at the greeting
    with c:
        try:
            r = c.cmd('LOGIN "%s" "%s"' % (ALICE, PASSWORD))
        except Closed:
            return
        assert r.status == "NO", "logged in from a blocked address: %r" % r


def test_starttls_discards_pipelined_commands(start_server):
    s = imap_server(start_server)
    with Imap(HOST, s.imap_port) as c:
        c.send(b"a STARTTLS\r\nb CAPABILITY\r\n")
        r = c.item()
        assert r.startswith(b"a OK"), "STARTTLS: %r" % r
        assert c.nothing_within(0.3), "answered in the clear after STARTTLS: %r" % c.buf
        c.sock = ctx_for(s).wrap_socket(c.sock, server_hostname=HOSTNAME)
        # RFC 9051 6.2.1: no greeting, and the pipelined b is never answered
        assert c.nothing_within(0.5), "bytes pipelined after STARTTLS were run: %r" % c.buf
        assert "AUTH=PLAIN" in capability(c)
    # an injected LOGIN does not log the TLS session in
    with Imap(HOST, s.imap_port) as c:
        c.send(('a STARTTLS\r\nb LOGIN "%s" "%s"\r\n' % (ALICE, PASSWORD)).encode())
        assert c.item().startswith(b"a OK")
        c.sock = ctx_for(s).wrap_socket(c.sock, server_hostname=HOSTNAME)
        assert c.nothing_within(0.5), c.buf
        r = c.cmd("SELECT INBOX")
        assert r.status in ("BAD", "NO"), "logged in by a LOGIN injected before TLS: %r" % r
        c.login()
    assert len(re.findall(r"imap: unknown\[127\.0\.0\.1\]: login user=", s.log())) == 1, s.log()


# --------------------------------------------------------------------------
# Real clients: imaplib, curl, s-nail


def test_imaplib_starttls(start_server):
    s = imap_server(start_server)
    sent = deliver(s, ALICE, 2)
    c = imaplib.IMAP4(HOST, s.imap_port, timeout=15)
    try:
        assert "STARTTLS" in c.capabilities and "LOGINDISABLED" in c.capabilities, c.capabilities
        typ, _ = c.starttls(ssl_context=ctx_for(s))
        assert typ == "OK"
        typ, _ = c.login(ALICE, PASSWORD)
        assert typ == "OK"
        typ, data = c.list()
        assert typ == "OK" and any(b'"INBOX"' in d or d.endswith(b" INBOX") for d in data), data
        typ, data = c.select("INBOX")
        assert typ == "OK" and data == [b"2"], (typ, data)
        typ, data = c.fetch("2", "(RFC822)")
        assert typ == "OK", (typ, data)
        assert data[0][1].endswith(sent[1]), "imaplib RFC822 of message 2: %r" % data[0][1][-200:]
        typ, data = c.uid("SEARCH", None, "ALL")
        assert typ == "OK" and len(data[0].split()) == 2, data
        c.close()
    finally:
        c.logout()


def test_imaplib_ssl_store_expunge(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    c = imaplib.IMAP4_SSL(HOST, s.imaps_port, ssl_context=ctx_for(s), timeout=15)
    try:
        c.login(ALICE, PASSWORD)
        typ, data = c.select("INBOX")
        assert data == [b"3"], data
        typ, data = c.store("2", "+FLAGS", "(\\Deleted)")
        assert typ == "OK" and b"\\Deleted" in data[0], (typ, data)
        typ, data = c.expunge()
        assert typ == "OK" and data == [b"2"], (typ, data)
        typ, data = c.status("INBOX", "(MESSAGES)")
        assert typ == "OK" and b"MESSAGES 2" in data[0], data
    finally:
        c.logout()
    assert s.count(ALICE) == 2


def curl(server, url, *extra, user=ALICE, password=PASSWORD):
    args = ["curl", "-sS", "--max-time", "20", "--cacert", str(cert_path(server)),
            "--resolve", "%s:%d:%s" % (HOSTNAME, server.imaps_port, HOST),
            "--resolve", "%s:%d:%s" % (HOSTNAME, server.imap_port, HOST),
            "--user", "%s:%s" % (user, password)] + list(extra) + [url]
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)


def test_curl_imaps_list_and_fetch(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2, body_fn=lambda i: "curl body %d\r\n" % i)
    files = {p.read_bytes() for p in s.message_files(ALICE)}
    p = curl(s, "imaps://%s:%d/" % (HOSTNAME, s.imaps_port))
    assert p.returncode == 0, "curl list: %d %s" % (p.returncode, p.stderr.decode())
    for name in ["INBOX"] + list(SPECIAL):
        assert re.search(rb'^\* LIST \([^)]*\) "\." "?%s"?\r?$' % name.encode(), p.stdout, re.M), \
            "curl's folder list lacks %s: %r" % (name, p.stdout)
    p = subprocess.run(["curl", "-sS", "-k", "--max-time", "20", "--user", "%s:%s" % (ALICE, PASSWORD),
                        "imaps://%s:%d/INBOX;UID=1" % (HOST, s.imaps_port)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, "curl fetch: %d %s" % (p.returncode, p.stderr.decode())
    assert b"curl body 0\r\n" in p.stdout, p.stdout
    assert p.stdout in {crlf(f) for f in files}, "curl got %r" % p.stdout
    # STARTTLS on the plain port
    p = curl(s, "imap://%s:%d/INBOX;UID=2" % (HOSTNAME, s.imap_port), "--ssl-reqd")
    assert p.returncode == 0, "curl STARTTLS: %d %s" % (p.returncode, p.stderr.decode())
    assert b"curl body 1\r\n" in p.stdout, p.stdout
    # wrong password: curl fails (67: login denied)
    p = curl(s, "imaps://%s:%d/" % (HOSTNAME, s.imaps_port), password=WRONG)
    assert p.returncode == 67, "curl with a wrong password: %d %s" % (p.returncode, p.stderr.decode())
    assert s.count(ALICE) == 2


@pytest.mark.skipif(shutil.which("s-nail") is None, reason="s-nail is not installed")
def test_snail_reads_delivered_message(start_server, tmp_path):
    s = imap_server(start_server)
    body = "Read by s-nail over IMAP.\r\nSecond line.\r\n"
    deliver(s, ALICE, 1, body_fn=lambda i: body, subject_fn=lambda i: "snail subject")
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), LC_ALL="C", MAILRC="/dev/null")
    url = "imaps://%s@%s:%d" % (ALICE.replace("@", "%40"), HOST, s.imaps_port)
    args = ["s-nail", "-n", "-N", "-#", "-S", "v15-compat", "-S", "tls-verify=ignore",
            "-S", "password=" + PASSWORD, "-f", url]
    p = subprocess.run(args, input=b"headers\nprint 1\nexit\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=30)
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "s-nail exit %d:\n%s\n%s" % (p.returncode, out, err)
    assert "error" not in err.lower(), "s-nail: %s" % err
    assert "snail subject" in out, "s-nail's header summary: %s\n%s" % (out, err)
    assert "Read by s-nail over IMAP." in out and "Second line." in out, out
    s.wait_log(r"imap: unknown\[127\.0\.0\.1\]: login user=alice@example\.test")
    assert PASSWORD not in s.log()


# --------------------------------------------------------------------------
# Folders: special-use, LIST forms, CREATE/DELETE/RENAME, subscriptions


def test_special_folders_made_at_first_login(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    md = s.maildir(ALICE)
    assert not any((md / ("." + n)).exists() for n in SPECIAL), "special folders before login"
    with tls_imap(s, ALICE) as c:
        r = c.ok('LIST "" "*"')
        got = list_entries(r)
        assert set(got) == {"INBOX"} | set(SPECIAL), got
        for name, attr in SPECIAL.items():
            assert attr in got[name], "%s lacks %s: %r" % (name, attr, got[name])
            d = md / ("." + name)
            for sub in ("cur", "new", "tmp"):
                assert (d / sub).is_dir(), "%s has no %s/" % (d, sub)
            assert (d / "maildirfolder").is_file(), "%s has no maildirfolder" % d
        assert not any(a in got["INBOX"] for a in SPECIAL.values()), got["INBOX"]
        # RFC 6154 5.1: only the special-use folders, with their attributes
        r = c.ok('LIST (SPECIAL-USE) "" "*"')
        got = list_entries(r)
        assert set(got) == set(SPECIAL), got
        for name, attr in SPECIAL.items():
            assert attr in got[name], (name, got[name])
        # RFC 6154 5.2: RETURN (SPECIAL-USE)
        got = list_entries(c.ok('LIST "" "*" RETURN (SPECIAL-USE)'))
        assert set(got) == {"INBOX"} | set(SPECIAL), got
        assert all(SPECIAL[n] in got[n] for n in SPECIAL), got
        # one login more: still five, not made twice
        c.ok("LOGOUT")
    with tls_imap(s, ALICE) as c:
        assert set(list_entries(c.ok('LIST "" "*"'))) == {"INBOX"} | set(SPECIAL)


def test_user_without_maildir_yet(start_server):
    """bob never got mail: his Maildir does not exist until he logs in."""
    s = imap_server(start_server)
    assert not s.maildir(BOB).exists()
    with tls_imap(s, BOB) as c:
        r = c.select()
        assert r.numbers("EXISTS") == [0], r
        assert set(list_entries(c.ok('LIST "" "*"'))) == {"INBOX"} | set(SPECIAL)
        r = c.ok("STATUS INBOX (MESSAGES UNSEEN)")
        assert status_items(r.items("STATUS")[0])[1] == {"MESSAGES": 0, "UNSEEN": 0}, r
    assert (s.maildir(BOB) / "cur").is_dir()


def test_list_delimiter_namespace_and_wildcards(start_server):
    s = imap_server(start_server)
    with tls_imap(s, ALICE) as c:
        # RFC 9051 6.3.9: an empty pattern asks for the delimiter
        r = c.ok('LIST "" ""')
        v = [parse(it) for it in r.items("LIST")]
        assert len(v) == 1 and v[0][3] == b"." and v[0][4] == b"", r
        assert "\\noselect" in {str(a).lower() for a in v[0][2]}, r
        r = c.ok("NAMESPACE")
        items = r.items("NAMESPACE")
        assert len(items) == 1, r
        ns = parse(items[0])
        assert ns[2] == [[b"", b"."]] and ns[3] is None and ns[4] is None, \
            "NAMESPACE: %r, want ((\"\" \".\")) NIL NIL" % items[0]
        c.ok('CREATE "A.B"')
        c.ok('CREATE "A.B.C"')
        c.ok('CREATE "Top"')
        all_ = list_entries(c.ok('LIST "" "*"'))
        assert {"A.B", "A.B.C", "Top"} <= set(all_), all_
        # "%" does not cross the delimiter; a level that is only implied
        # by its children is \Noselect (RFC 9051 6.3.9)
        top = list_entries(c.ok('LIST "" "%"'))
        assert "Top" in top and "INBOX" in top and "A" in top, top
        assert "A.B" not in top and "A.B.C" not in top, top
        assert "\\haschildren" in top["A"], top["A"]
        if "\\noselect" in top["A"] or "\\nonexistent" in top["A"]:
            assert "\\noselect" in top["A"], top["A"]
        assert "\\hasnochildren" in top["Top"], top["Top"]
        assert set(list_entries(c.ok('LIST "" "A.%"'))) == {"A.B"}
        assert set(list_entries(c.ok('LIST "" "A.*"'))) == {"A.B", "A.B.C"}
        assert set(list_entries(c.ok('LIST "A." "%"'))) == {"A.B"}, "reference + pattern"
        assert "\\haschildren" in list_entries(c.ok('LIST "" "A.B"'))["A.B"]
        assert set(list_entries(c.ok('LIST "" "inbox"'))) == {"INBOX"}, "INBOX is case-insensitive"
        assert list_entries(c.ok('LIST "" "Nope*"')) == {}


def test_create_delete_rename(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    md = s.maildir(ALICE)
    with tls_imap(s, ALICE) as c:
        c.ok("CREATE Projects")
        assert (md / ".Projects" / "cur").is_dir() and (md / ".Projects" / "maildirfolder").is_file()
        r = c.cmd("CREATE Projects")
        assert r.status == "NO" and r.code == "ALREADYEXISTS", "CREATE twice: %r" % r
        r = c.cmd("CREATE INBOX")
        assert r.status == "NO", "CREATE INBOX: %r" % r
        c.ok('CREATE "Projects.Old"')
        # copy a message in, to see that RENAME keeps it
        c.select()
        c.ok("COPY 1 Projects.Old")
        c.ok("UNSELECT")
        # RFC 9051 6.3.6: the inferiors are renamed too
        c.ok("RENAME Projects Work")
        got = list_entries(c.ok('LIST "" "*"'))
        assert "Work" in got and "Work.Old" in got, got
        assert "Projects" not in got and "Projects.Old" not in got, got
        assert not (md / ".Projects").exists() and not (md / ".Projects.Old").exists()
        r = c.ok("STATUS Work.Old (MESSAGES)")
        assert status_items(r.items("STATUS")[0])[1]["MESSAGES"] == 1, r
        r = c.cmd("RENAME Nope Other")
        assert r.status == "NO" and r.code == "NONEXISTENT", "RENAME of a missing folder: %r" % r
        r = c.cmd("RENAME Work Trash")
        assert r.status == "NO" and r.code == "ALREADYEXISTS", "RENAME onto a folder: %r" % r
        # RFC 9051 6.3.5: deleting a folder with children leaves them
        c.ok("DELETE Work")
        got = list_entries(c.ok('LIST "" "*"'))
        assert "Work.Old" in got, got
        assert "Work" not in got or "\\noselect" in got["Work"], got
        r = c.cmd("SELECT Work")
        assert r.status == "NO", "SELECT of a deleted folder: %r" % r
        c.ok("DELETE Work.Old")
        assert not (md / ".Work.Old").exists()
        assert "Work" not in list_entries(c.ok('LIST "" "*"'))
        r = c.cmd("DELETE Nope")
        assert r.status == "NO" and r.code == "NONEXISTENT", "DELETE of a missing folder: %r" % r
        r = c.cmd("DELETE INBOX")
        assert r.status == "NO", "DELETE INBOX: %r" % r
        r = c.cmd('CREATE "a/b"')
        assert r.status in ("NO", "BAD"), "CREATE with a slash: %r" % r
        r = c.cmd('CREATE ".."')
        assert r.status in ("NO", "BAD"), r
        r = c.cmd('CREATE "../../../etc"')
        assert r.status in ("NO", "BAD"), r
    assert not (s.data_dir / "etc").exists()
    assert s.count(ALICE) == 2


def test_rename_inbox_moves_its_messages(start_server):
    """RFC 9051 6.3.6: renaming INBOX moves its messages to the new name
    and leaves INBOX empty."""
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE) as c:
        c.ok("RENAME INBOX Saved")
        r = c.ok("STATUS Saved (MESSAGES)")
        assert status_items(r.items("STATUS")[0])[1]["MESSAGES"] == 2, r
        r = c.ok("STATUS INBOX (MESSAGES)")
        assert status_items(r.items("STATUS")[0])[1]["MESSAGES"] == 0, r
        got = list_entries(c.ok('LIST "" "*"'))
        assert "INBOX" in got and "Saved" in got, got
    new, cur = folder_files(s, ALICE, "Saved")
    assert len(new) + len(cur) == 2, (new, cur)


def test_subscribe_unsubscribe_lsub(start_server):
    s = imap_server(start_server)
    with tls_imap(s, ALICE) as c:
        c.ok("CREATE Lists")
        c.ok('CREATE "Lists.Dev"')
        c.ok('SUBSCRIBE "Lists.Dev"')
        lsub = list_entries(c.ok('LSUB "" "*"'), "LSUB")
        assert "Lists.Dev" in lsub and "Lists" not in lsub, lsub
        got = list_entries(c.ok('LIST (SUBSCRIBED) "" "*"'))
        assert "Lists.Dev" in got and "\\subscribed" in got["Lists.Dev"], got
        assert "Lists" not in got, got
        got = list_entries(c.ok('LIST "" "Lists*" RETURN (SUBSCRIBED)'))
        assert "\\subscribed" in got["Lists.Dev"] and "\\subscribed" not in got["Lists"], got
        c.ok('UNSUBSCRIBE "Lists.Dev"')
        assert "Lists.Dev" not in list_entries(c.ok('LSUB "" "*"'), "LSUB")
        assert "Lists.Dev" not in list_entries(c.ok('LIST (SUBSCRIBED) "" "*"'))
        # a subscription outlives its folder (RFC 9051 6.3.7; RFC 5258 3.1)
        c.ok('SUBSCRIBE "Lists.Dev"')
        c.ok('DELETE "Lists.Dev"')
        got = list_entries(c.ok('LIST (SUBSCRIBED) "" "*"'))
        assert "Lists.Dev" in got, got
        assert {"\\subscribed", "\\nonexistent"} <= got["Lists.Dev"], got["Lists.Dev"]


def test_lsub_lists_subscribed_name_without_folder(start_server):
    """RFC 3501 6.3.6 and 6.3.9: a subscribed name stays on the list
    after its folder is gone, and LSUB returns the subscribed names (the
    server may not drop it on its own)."""
    s = imap_server(start_server)
    with tls_imap(s, ALICE) as c:
        c.ok("CREATE Gone")
        c.ok("SUBSCRIBE Gone")
        c.ok("DELETE Gone")
        lsub = list_entries(c.ok('LSUB "" "*"'), "LSUB")
        assert "Gone" in lsub, "LSUB dropped a subscribed name whose folder was deleted: %r" % lsub


def test_lsub_percent_returns_unsubscribed_parent_as_noselect(start_server):
    """RFC 3501 6.3.9: with "Lists.Dev" subscribed and "Lists" not, LSUB
    "" "%" returns "Lists" flagged \\Noselect (and not "Lists.Dev")."""
    s = imap_server(start_server)
    with tls_imap(s, ALICE) as c:
        c.ok("CREATE Lists")
        c.ok('CREATE "Lists.Dev"')
        c.ok('SUBSCRIBE "Lists.Dev"')
        lsub = list_entries(c.ok('LSUB "" "%"'), "LSUB")
        assert "Lists.Dev" not in lsub, lsub
        assert "Lists" in lsub and "\\noselect" in lsub["Lists"], \
            "LSUB \"\" \"%%\" with only Lists.Dev subscribed: %r" % lsub


def test_create_trailing_delimiter_and_rename_into_itself(start_server):
    s = imap_server(start_server)
    md = s.maildir(ALICE)
    with tls_imap(s, ALICE) as c:
        # RFC 9051 6.3.4: a trailing delimiter declares a parent; the name is without it
        c.ok('CREATE "Parent."')
        got = list_entries(c.ok('LIST "" "Parent*"'))
        assert set(got) == {"Parent"}, got
        assert (md / ".Parent").is_dir() and not (md / ".Parent.").exists()
        r = c.cmd('RENAME Parent "Parent.Child"')
        assert r.status in ("NO", "BAD"), "RENAME into its own child: %r" % r
        r = c.cmd('RENAME Parent Parent')
        assert r.status in ("NO", "BAD"), "RENAME onto itself: %r" % r
        assert set(list_entries(c.ok('LIST "" "Parent*"'))) == {"Parent"}
        r = c.cmd('CREATE "INBOX.Sub"')
        if r.status == "OK":
            assert "INBOX.Sub" in list_entries(c.ok('LIST "" "*"'))
        else:
            assert r.status == "NO", r


def test_mailbox_names_modified_utf7_and_utf8(start_server):
    """RFC 3501 5.1.3: an IMAP4rev1 client names folders in modified
    UTF-7; after ENABLE IMAP4rev2 the same folder is UTF-8 (RFC 9051 5.1)."""
    s = imap_server(start_server)
    md = s.maildir(ALICE)
    with tls_imap(s, ALICE) as c:
        c.ok('CREATE "&AOk-t&AOk-"')                        # "été"
        assert (md / ".&AOk-t&AOk-").is_dir(), sorted(p.name for p in md.iterdir())
        assert "&AOk-t&AOk-" in list_entries(c.ok('LIST "" "*"'))
        r = c.cmd('CREATE "&Jjo"')                          # unterminated
        assert r.status in ("NO", "BAD"), "bad modified UTF-7: %r" % r
        r = c.cmd('CREATE "caf\xc3\xa9"'.encode("latin-1"))  # 8-bit from a rev1 client
        assert r.status in ("NO", "BAD"), "UTF-8 name from an IMAP4rev1 client: %r" % r
    with tls_imap(s, ALICE) as c:
        c.ok("ENABLE IMAP4rev2")
        got = list_entries(c.ok('LIST "" "*"'))
        assert "été" in got and "&AOk-t&AOk-" not in got, got
        c.ok('CREATE "Καλημέρα"'.encode())
        r = c.ok('STATUS "été" (MESSAGES)'.encode())
        assert status_items(r.items("STATUS")[0]) == ("été", {"MESSAGES": 0}), r
        c.ok('SELECT "été"'.encode())
    with tls_imap(s, ALICE) as c:
        got = list_entries(c.ok('LIST "" "*"'))
        assert "&A5oDsQO7A7cDvAOtA8EDsQ-" in got, "rev1 view of a UTF-8 name: %r" % got


def test_list_return_subscribed_children_status(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE) as c:
        c.ok('CREATE "Sent.2024"')
        c.ok("SUBSCRIBE INBOX")
        c.select()
        c.ok("STORE 1 +FLAGS (\\Seen)")
        c.ok("UNSELECT")
        r = c.ok('LIST "" "*" RETURN (SUBSCRIBED CHILDREN STATUS (MESSAGES UNSEEN))')
        got = list_entries(r)
        assert set(got) == {"INBOX", "Sent.2024"} | set(SPECIAL), got
        assert "\\subscribed" in got["INBOX"], got["INBOX"]
        assert "\\subscribed" not in got["Sent.2024"], got
        assert "\\haschildren" in got["Sent"] and "\\hasnochildren" in got["Trash"], got
        statuses = dict(status_items(it) for it in r.items("STATUS"))
        assert set(statuses) == set(got), "want a STATUS for every LIST: %r" % r
        assert statuses["INBOX"] == {"MESSAGES": 3, "UNSEEN": 2}, statuses["INBOX"]
        assert statuses["Trash"] == {"MESSAGES": 0, "UNSEEN": 0}, statuses["Trash"]
        # RFC 5819: each STATUS follows its LIST
        kinds = [u.split(b" ")[1].upper() for u in r.untagged]
        assert kinds == [b"LIST", b"STATUS"] * len(got), kinds


def test_status(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    files = s.messages(ALICE)
    with tls_imap(s, ALICE) as c:
        r = c.ok("STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN SIZE)")
        name, st = status_items(r.items("STATUS")[0])
        assert name == "INBOX", name
        assert st["MESSAGES"] == 2 and st["UNSEEN"] == 2 and st["UIDNEXT"] == 3, st
        # RFC 8438: SIZE is the total of the RFC822.SIZEs
        assert st["SIZE"] == sum(len(crlf(f)) for f in files), (st, [len(crlf(f)) for f in files])
        sel = c.select()
        assert sel.code_value("UIDVALIDITY") == str(st["UIDVALIDITY"]), (sel, st)
        r = c.cmd("STATUS Nope (MESSAGES)")
        assert r.status == "NO" and r.code in ("NONEXISTENT", "TRYCREATE"), r
        r = c.cmd("STATUS INBOX (BOGUS)")
        assert r.status == "BAD", "unknown STATUS item: %r" % r
        r = c.cmd("STATUS INBOX")
        assert r.status == "BAD", "STATUS without items: %r" % r


# --------------------------------------------------------------------------
# SELECT, EXAMINE, UIDs


def test_select_and_examine_responses(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE) as c:
        r = c.ok("STATUS INBOX (UIDVALIDITY)")
        validity = status_items(r.items("STATUS")[0])[1]["UIDVALIDITY"]
        r = c.select()
        assert r.numbers("EXISTS") == [3], r
        flags = r.items("FLAGS")
        assert len(flags) == 1, r
        assert {f.lower() for f in map(str, parse(flags[0])[2])} == \
            {"\\answered", "\\flagged", "\\deleted", "\\seen", "\\draft"}, flags
        perm = r.code_value("PERMANENTFLAGS")
        assert perm is not None, "SELECT without PERMANENTFLAGS: %r" % r
        assert {"\\seen", "\\deleted", "\\flagged"} <= set(perm.lower().strip("()").split()), perm
        assert r.code_value("UIDVALIDITY") == str(validity), r
        assert r.code_value("UIDNEXT") == "4", r
        assert r.code == "READ-WRITE", "SELECT: %r" % r
        # EXAMINE: read-only, no permanent flags
        r = c.ok("EXAMINE INBOX")
        assert r.code == "READ-ONLY", "EXAMINE: %r" % r
        assert r.numbers("EXISTS") == [3], r
        assert r.code_value("PERMANENTFLAGS") == "()", r
        assert r.code_value("UIDVALIDITY") == str(validity), r
        assert "CLOSED" in r.codes(), "RFC 9051 6.3.2: [CLOSED] when a mailbox was selected: %r" % r
        r = c.cmd("STORE 1 +FLAGS (\\Seen)")
        assert r.status == "NO", "STORE in a read-only mailbox: %r" % r
        r = c.cmd("EXPUNGE")
        assert r.status == "NO", "EXPUNGE in a read-only mailbox: %r" % r
        # a failed SELECT leaves no mailbox selected (RFC 9051 6.3.2)
        r = c.cmd("SELECT Nope")
        assert r.status == "NO", r
        r = c.cmd("CLOSE")
        assert r.status == "BAD", "CLOSE after a failed SELECT: %r" % r
        # IMAP4rev2: no RECENT; a LIST response with the name
        r = c.ok("ENABLE IMAP4rev2")
        assert r.items("ENABLED") and b"IMAP4REV2" in r.items("ENABLED")[0].upper(), r
        r = c.select()
        assert not r.items("RECENT"), "RECENT for an IMAP4rev2 client: %r" % r
        assert r.numbers("EXISTS") == [3], r


def test_examine_changes_nothing(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    before = folder_files(s, ALICE)
    with tls_imap(s, ALICE) as c:
        c.ok("EXAMINE INBOX")
        r = c.ok("FETCH 1 (BODY[] FLAGS)")
        d = fetches(r)[1]
        assert "\\Seen" not in [str(f) for f in d.get("FLAGS", [])], \
            "FETCH BODY[] set \\Seen in a read-only mailbox: %r" % d.get("FLAGS")
        r = c.ok("FETCH 1 (FLAGS)")
        assert fetches(r)[1]["FLAGS"] == [], r
    assert folder_files(s, ALICE) == before, "EXAMINE changed the Maildir"


def test_uids_stable_across_restart(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 4)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.ok("MOVE 1 Trash")        # so that UIDs are not just 1..n
        uids = msgid_uids(c)
        r = c.ok("STATUS INBOX (UIDVALIDITY UIDNEXT)")
        st = status_items(r.items("STATUS")[0])[1]
    assert sorted(uids.values()) == [2, 3, 4], uids
    s.restart()
    with tls_imap(s, ALICE) as c:
        r = c.select()
        assert r.code_value("UIDVALIDITY") == str(st["UIDVALIDITY"]), (r, st)
        assert r.code_value("UIDNEXT") == str(st["UIDNEXT"]), (r, st)
        assert msgid_uids(c) == uids, "UIDs changed across a restart"
    sent = deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        now = msgid_uids(c)
        m = re.search(rb"Message-ID: (<[^>]+>)", sent[0]).group(1).decode()
        assert now[m] == st["UIDNEXT"], "the next message got UID %d, want UIDNEXT %d" % (
            now[m], st["UIDNEXT"])


def test_uid_range_with_star_includes_the_last(start_server):
    """RFC 9051 6.4.9: "UID 559:*" always includes the last message, even
    when 559 is above every UID."""
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("UID FETCH 100:* (FLAGS)")
        f = fetches(r)
        assert list(f) == [3] and int(f[3]["UID"]) == 3, "UID FETCH 100:*: %r" % r
        r = c.ok("UID SEARCH UID 100:*")
        assert search_numbers(r) == [3], r
        r = c.ok("FETCH *:2 (UID)")
        assert sorted(fetches(r)) == [2, 3], "FETCH *:2 is 2:3: %r" % r
        r = c.ok("UID STORE 100:* +FLAGS (\\Flagged)")
        assert list(fetches(r)) == [3], r


# --------------------------------------------------------------------------
# FETCH


def test_fetch_body_equals_maildir_file(start_server):
    s = imap_server(start_server)
    body = "First line.\r\n.leading dot\r\n\r\nAfter a blank line.\r\n"
    sent = deliver(s, ALICE, 1, body_fn=lambda i: body)[0]
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("FETCH 1 (BODY.PEEK[] RFC822.SIZE FLAGS)")
        d = fetches(r)[1]
        got = d["BODY[]"]
        data = the_file(s, ALICE).read_bytes()
        assert got == crlf(data), "BODY[] differs from the Maildir file (CRLF):\n%r\n%r" % (got, data)
        assert got.endswith(sent), "BODY[] does not end with the message as sent: %r" % got
        # what comes before it are our added header lines
        dl = parse_delivered(data)
        assert crlf(dl.rest) == sent, (dl.rest, sent)
        assert got.startswith(b"Return-Path: <%s>\r\n" % SENDER.encode()), got[:200]
        assert int(d["RFC822.SIZE"]) == len(got), "RFC822.SIZE %s, BODY[] %d octets" % (
            d["RFC822.SIZE"], len(got))
        assert d["FLAGS"] == [], "a new message has flags %r" % d["FLAGS"]
        # PEEK did not set \Seen
        assert fetches(c.ok("FETCH 1 (FLAGS)"))[1]["FLAGS"] == [], "BODY.PEEK[] set \\Seen"
        # RFC822.HEADER: the header with its blank line
        assert fetches(c.ok("FETCH 1 (RFC822.HEADER)"))[1]["RFC822.HEADER"] == \
            got[:got.index(b"\r\n\r\n") + 4]
    assert letters(the_file(s, ALICE)) == "", the_file(s, ALICE)


def test_fetch_body_sets_seen(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("FETCH 2 BODY[]")
        d = fetches(r)[2]
        assert "BODY[]" in d, r
        # RFC 9051 6.4.5: the flag change is reported (in this FETCH or at once after)
        flags = d.get("FLAGS")
        if flags is None:
            flags = fetches(c.ok("FETCH 2 (FLAGS)"))[2]["FLAGS"]
        assert [str(f) for f in flags] == ["\\Seen"], "FLAGS after BODY[]: %r" % flags
        assert fetches(c.ok("FETCH 1 (FLAGS)"))[1]["FLAGS"] == [], "message 1 changed too"
    assert sorted(letters(p) for p in s.message_files(ALICE)) == ["", "S"], s.message_files(ALICE)
    with tls_imap(s, ALICE) as c:
        r = c.ok("STATUS INBOX (UNSEEN)")
        assert status_items(r.items("STATUS")[0])[1]["UNSEEN"] == 1, r


def test_fetch_header_fields_and_partial(start_server):
    s = imap_server(start_server)
    body = "0123456789abcdefghij\r\n"
    deliver(s, ALICE, 1, body_fn=lambda i: body, subject_fn=lambda i: "Fields test")
    with tls_imap(s, ALICE, select="INBOX") as c:
        full = fetches(c.ok("FETCH 1 BODY.PEEK[]"))[1]["BODY[]"]
        head, _, text = full.partition(b"\r\n\r\n")
        r = c.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        d = fetches(r)[1]
        keys = [k for k in d if k.startswith("BODY[HEADER.FIELDS")]
        assert len(keys) == 1, d
        assert d[keys[0]] == b"Subject: Fields test\r\n\r\n", d[keys[0]]
        r = c.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT RECEIVED)])")
        d = fetches(r)[1]
        v = d[[k for k in d if k.startswith("BODY[HEADER.FIELDS.NOT")][0]]
        assert b"Subject:" not in v and b"Received:" not in v and b"Message-ID:" in v, v
        assert v.endswith(b"\r\n\r\n"), v
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])"))[1]
        assert d["BODY[HEADER]"] == head + b"\r\n\r\n", d["BODY[HEADER]"]
        assert d["BODY[TEXT]"] == text == body.encode(), d["BODY[TEXT]"]
        # partial: <origin.count>, answered as BODY[]<origin>
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[]<0.10>)"))[1]
        assert d.get("BODY[]<0>") == full[:10], d
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[TEXT]<5.7>)"))[1]
        assert d.get("BODY[TEXT]<5>") == b"56789ab", d
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[]<%d.100>)" % (len(full) - 3)))[1]
        assert d.get("BODY[]<%d>" % (len(full) - 3)) == full[-3:], d
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[]<%d.10>)" % (len(full) + 50)))[1]
        assert d.get("BODY[]<%d>" % (len(full) + 50)) == b"", \
            "RFC 9051 6.4.5: a partial past the end is empty: %r" % d
        assert fetches(c.ok("FETCH 1 (FLAGS)"))[1]["FLAGS"] == [], "PEEK set \\Seen"


def test_fetch_envelope(start_server):
    s = imap_server(start_server)
    msg = (b"From: Sender Name <sender@client.example.test>\r\n"
           b"To: <alice@example.test>, Bob <bob@example.test>\r\n"
           b"Cc: carol@example.test\r\n"
           b"Subject: Envelope test\r\n"
           b"Date: Mon, 01 Jan 2024 10:00:00 +0000\r\n"
           b"Message-ID: <env1@client.example.test>\r\n"
           b"In-Reply-To: <parent@client.example.test>\r\n"
           b"\r\nBody.\r\n")
    deliver(s, ALICE, 1, msg_fn=lambda i: msg)
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("FETCH 1 (ENVELOPE)")
        env = fetches(r)[1]["ENVELOPE"]
        assert isinstance(env, list) and len(env) == 10, "ENVELOPE has 10 fields: %r" % env
        date, subject, frm, sender, reply_to, to, cc, bcc, irt, mid = env
        assert date == b"Mon, 01 Jan 2024 10:00:00 +0000", date
        assert subject == b"Envelope test", subject
        assert frm == [[b"Sender Name", None, b"sender", b"client.example.test"]], frm
        # RFC 9051 7.5.2: Sender and Reply-To default to From
        assert sender == frm and reply_to == frm, (sender, reply_to)
        assert to == [[None, None, b"alice", b"example.test"],
                      [b"Bob", None, b"bob", b"example.test"]], to
        assert cc == [[None, None, b"carol", b"example.test"]], cc
        assert bcc is None, bcc
        assert irt == b"<parent@client.example.test>", irt
        assert mid == b"<env1@client.example.test>", mid


def test_fetch_envelope_quoting(start_server):
    """strings with quotes, backslashes and 8-bit octets go out as valid
    IMAP strings (escaped quoted strings or literals, RFC 9051 4.3)."""
    s = imap_server(start_server)
    with tls_imap(s, ALICE, select="INBOX"):
        pass
    msg = ('From: "Doe, \\"Jo\\" \\\\ X" <jo@remote.test>\n'
           'To: alice@example.test\n'
           'Subject: He said "hi" \\ bye\n'
           ' and folded\n'
           'X-Subject-8bit: caf\u00e9\n'
           'Message-ID: <quote@remote.test>\n\nbody\n').encode("utf-8")
    p = s.maildir(ALICE) / "new" / "1700000000.M1P1.quoting"
    p.write_bytes(msg)
    give_to_server(p)
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("FETCH 1 (ENVELOPE BODY.PEEK[HEADER.FIELDS (X-SUBJECT-8BIT)])")
        d = fetches(r)[1]
        env = d["ENVELOPE"]
        assert env[1] == b'He said "hi" \\ bye and folded', "subject %r (RFC 5322 2.2.3 unfolding)" % env[1]
        assert env[2] == [[b'Doe, "Jo" \\ X', None, b"jo", b"remote.test"]], env[2]
        v = [v for k, v in d.items() if k.startswith("BODY[")][0]
        assert v == "X-Subject-8bit: caf\u00e9\r\n\r\n".encode(), v


def test_fetch_bodystructure_multipart(start_server):
    s = imap_server(start_server)
    msg, text_hdr, text, b64 = multipart_message()
    deliver(s, ALICE, 1, msg_fn=lambda i: msg)
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("FETCH 1 (BODYSTRUCTURE)")
        bs = fetches(r)[1]["BODYSTRUCTURE"]
        assert isinstance(bs, list) and isinstance(bs[0], list) and isinstance(bs[1], list), bs
        one, two = bs[0], bs[1]
        assert bs[2].upper() == b"MIXED", "multipart subtype: %r" % bs
        # extension data: the body parameters with the boundary
        params = bs[3]
        assert isinstance(params, list) and [p.lower() for p in params] == [b"boundary", b"b0undary"], bs
        # the text part: type, subtype, params, id, description, encoding, size, lines
        assert [one[0].upper(), one[1].upper()] == [b"TEXT", b"PLAIN"], one
        assert [p.lower() for p in one[2]] == [b"charset", b"utf-8"], one
        assert one[3] is None and one[4] is None, one
        assert one[5].upper() == b"7BIT", one
        assert int(one[6]) == len(text), "text part size %s, want %d" % (one[6], len(text))
        assert int(one[7]) == 2, "text part lines %s, want 2" % one[7]
        # the attachment
        assert [two[0].upper(), two[1].upper()] == [b"APPLICATION", b"OCTET-STREAM"], two
        assert [p.lower() for p in two[2]] == [b"name", b"a.bin"], two
        assert two[5].upper() == b"BASE64", two
        assert int(two[6]) == len(b64), "attachment size %s, want %d" % (two[6], len(b64))
        # BODY (no extension data) is the same without the extensions
        bd = fetches(c.ok("FETCH 1 (BODY)"))[1]["BODY"]
        assert bd[2].upper() == b"MIXED" and len(bd) == 3, "BODY of a multipart: %r" % bd
        # the parts by number
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[1] BODY.PEEK[2] BODY.PEEK[1.MIME])"))[1]
        assert d["BODY[1]"] == text, d["BODY[1]"]
        assert d["BODY[2]"] == b64, d["BODY[2]"]
        assert d["BODY[1.MIME]"] == text_hdr, d["BODY[1.MIME]"]
        r = c.cmd("FETCH 1 (BODY.PEEK[3])")
        if r.status == "OK":        # RFC 9051 6.4.5: a missing part may be empty
            assert fetches(r)[1].get("BODY[3]", b"") in (b"", None), r
        else:
            assert r.status in ("NO", "BAD"), r


def test_fetch_internaldate_uid_fetch_and_macros(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.ok("MOVE 1 Trash")
        r = c.ok("FETCH 1:* (UID INTERNALDATE RFC822.SIZE)")
        f = fetches(r)
        assert sorted(f) == [1, 2] and [int(f[n]["UID"]) for n in (1, 2)] == [2, 3], f
        files = s.message_files(ALICE)
        mtimes = sorted(p.stat().st_mtime for p in files)
        for n in (1, 2):
            t = parse_internaldate(f[n]["INTERNALDATE"])
            assert abs(t - mtimes[n - 1]) < 1.5, "INTERNALDATE %r, file mtime %r" % (
                f[n]["INTERNALDATE"], mtimes[n - 1])
            assert abs(t - time.time()) < 300, f[n]["INTERNALDATE"]
        # UID FETCH answers with the UID (RFC 9051 6.4.9) and by UID
        r = c.ok("UID FETCH 3 (FLAGS)")
        f = fetches(r)
        assert list(f) == [2] and int(f[2]["UID"]) == 3, r
        r = c.ok("UID FETCH 1:* (FLAGS)")
        assert sorted(int(d["UID"]) for d in fetches(r).values()) == [2, 3], r
        r = c.ok("UID FETCH 1 (FLAGS)")
        assert not r.items("FETCH"), "UID FETCH of an expunged UID: %r" % r
        r = c.ok("UID FETCH 100:200 (FLAGS)")
        assert not r.items("FETCH"), r
        # the macros
        d = fetches(c.ok("FETCH 1 FAST"))[1]
        assert {"FLAGS", "INTERNALDATE", "RFC822.SIZE"} <= set(d), d
        d = fetches(c.ok("FETCH 1 ALL"))[1]
        assert {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"} <= set(d), d
        d = fetches(c.ok("FETCH 1 FULL"))[1]
        assert {"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"} <= set(d), d


def test_fetch_single_part_defaults_and_part_one(start_server):
    """RFC 2045 5.2: no Content-Type is text/plain; charset=us-ascii; RFC
    9051 6.4.5: a non-multipart message has part 1, its body."""
    s = imap_server(start_server)
    body = "one\r\ntwo\r\nthree\r\n"
    deliver(s, ALICE, 1, body_fn=lambda i: body)
    with tls_imap(s, ALICE, select="INBOX") as c:
        d = fetches(c.ok("FETCH 1 (BODYSTRUCTURE BODY.PEEK[1] BODY.PEEK[TEXT])"))[1]
        bs = d["BODYSTRUCTURE"]
        assert [bs[0].upper(), bs[1].upper()] == [b"TEXT", b"PLAIN"], bs
        assert [p.lower() for p in bs[2]] == [b"charset", b"us-ascii"], bs
        assert bs[5].upper() == b"7BIT" and int(bs[6]) == len(body) and int(bs[7]) == 3, bs
        assert d["BODY[1]"] == d["BODY[TEXT]"] == body.encode(), d
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[HEADER.FIELDS (X-NOPE)] BODY.PEEK[HEADER.FIELDS (subject)])"))[1]
        vals = {k: v for k, v in d.items() if k.startswith("BODY[")}
        assert sorted(vals.values()) == [b"\r\n", b"Subject: imap test 0\r\n\r\n"], \
            "RFC 9051 6.4.5: the blank line is always there: %r" % vals
        # RFC822.TEXT is not a PEEK: it sets \Seen
        d = fetches(c.ok("FETCH 1 (RFC822.TEXT)"))[1]
        assert d["RFC822.TEXT"] == body.encode(), d
        assert [str(f) for f in fetches(c.ok("FETCH 1 (FLAGS)"))[1]["FLAGS"]] == ["\\Seen"]


def test_fetch_bodystructure_message_rfc822(start_server):
    s = imap_server(start_server)
    inner = (b"From: <inner@remote.test>\r\nSubject: the inner one\r\n"
             b"Message-ID: <inner@remote.test>\r\n\r\nInner body.\r\nLine 2.\r\n")
    msg = (b"From: <sender@client.example.test>\r\nTo: <alice@example.test>\r\n"
           b"Subject: forwarded\r\nMessage-ID: <outer@client.example.test>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n"
           b"--xx\r\nContent-Type: text/plain\r\n\r\nSee below.\r\n\r\n"
           b"--xx\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--xx--\r\n")
    deliver(s, ALICE, 1, msg_fn=lambda i: msg)
    with tls_imap(s, ALICE, select="INBOX") as c:
        bs = fetches(c.ok("FETCH 1 (BODYSTRUCTURE)"))[1]["BODYSTRUCTURE"]
        part = bs[1]
        assert [part[0].upper(), part[1].upper()] == [b"MESSAGE", b"RFC822"], part
        # type subtype params id desc encoding size envelope body lines
        assert int(part[6]) == len(inner), "message/rfc822 size %s, want %d" % (part[6], len(inner))
        env = part[7]
        assert isinstance(env, list) and len(env) == 10 and env[1] == b"the inner one", env
        assert env[2] == [[None, None, b"inner", b"remote.test"]], env
        body = part[8]
        assert [body[0].upper(), body[1].upper()] == [b"TEXT", b"PLAIN"], body
        assert int(body[6]) == len(b"Inner body.\r\nLine 2.\r\n"), body
        assert int(part[9]) == inner.count(b"\n"), "message/rfc822 lines %s" % part[9]
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[2] BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT] BODY.PEEK[2.1])"))[1]
        assert d["BODY[2]"] == inner, d["BODY[2]"]
        assert d["BODY[2.HEADER]"] == inner[:inner.index(b"\r\n\r\n") + 4], d["BODY[2.HEADER]"]
        assert d["BODY[2.TEXT]"] == b"Inner body.\r\nLine 2.\r\n", d["BODY[2.TEXT]"]
        assert d["BODY[2.1]"] == b"Inner body.\r\nLine 2.\r\n", d["BODY[2.1]"]


def test_fetch_binary(start_server):
    """BINARY (RFC 3516) is advertised: the base64 part decoded."""
    s = imap_server(start_server)
    msg, text_hdr, text, b64 = multipart_message()
    deliver(s, ALICE, 1, msg_fn=lambda i: msg)
    with tls_imap(s, ALICE, select="INBOX") as c:
        d = fetches(c.ok("FETCH 1 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[1])"))[1]
        assert d["BINARY[2]"] == b"ABCDEFGH", d
        assert int(d["BINARY.SIZE[2]"]) == 8, d
        assert d["BINARY[1]"] == text, d
        assert fetches(c.ok("FETCH 1 (FLAGS)"))[1]["FLAGS"] == []


def test_fetch_large_messages_intact(start_server):
    """long FETCH answers (several MB, one message larger than the
    server's 4 MiB parts) arrive whole and in order, with commands
    pipelined behind them answered after them, and no EXPUNGE from
    another session in the middle (RFC 9051 7.5.1)."""
    s = imap_server(start_server)
    with tls_imap(s, ALICE, select="INBOX"):
        pass
    md = s.maildir(ALICE)
    files = []
    for i, size in enumerate((6 * 1024 * 1024, 300000, 2 * 1024 * 1024, 1000)):
        line = (b"%06d " % i) + b"y" * 70 + b"\n"
        data = b"Subject: large %d\nMessage-ID: <large%d@remote.test>\n\n" % (i, i)
        data += line * (size // len(line))
        p = md / "new" / ("1700000000.M%dP1.large" % i)
        p.write_bytes(data)
        give_to_server(p)
        files.append(data)
    with tls_imap(s, ALICE, select="INBOX") as c, tls_imap(s, ALICE, select="INBOX") as b:
        by_subject = {}
        c.send(b"F1 FETCH 1:* (RFC822.SIZE BODY.PEEK[])\r\nN1 NOOP\r\n")
        b.ok("STORE 4 +FLAGS.SILENT (\\Deleted)")
        b.ok("EXPUNGE")
        r = c.read_resp("F1")
        # RFC 9051 7.1: NO [EXPUNGEISSUED] is allowed when a message went meanwhile
        assert r.status == "OK" or (r.status == "NO" and r.code == "EXPUNGEISSUED"), r.tagged
        assert not r.items("EXPUNGE"), "EXPUNGE inside a FETCH answer"
        for d in fetches(r).values():
            by_subject[re.search(rb"Subject: ([^\r\n]*)", d["BODY[]"]).group(1)] = d
        n1 = c.read_resp("N1")
        assert n1.status == "OK" and n1.numbers("EXPUNGE") == [4], n1
        for i, data in enumerate(files):
            d = by_subject.get(b"large %d" % i)
            if d is None:
                continue            # the expunged one may be left out
            assert d["BODY[]"] == crlf(data), "message %d (%d octets) came back different" % (i, len(data))
            assert int(d["RFC822.SIZE"]) == len(crlf(data))
        assert {b"large 0", b"large 1", b"large 2"} <= set(by_subject), list(by_subject)
        # a partial across the 4 MiB mark
        big = crlf(files[0])
        off = 4 * 1024 * 1024 - 100
        d = fetches(c.ok("FETCH 1 (BODY.PEEK[]<%d.300>)" % off))[1]
        assert d["BODY[]<%d>" % off] == big[off:off + 300], d


def test_maildir_written_by_other_programs(start_server):
    """files another MDA or MUA put in the Maildir: CRLF line ends, no
    final newline, flags already in the name; tmp/ and dot files are not
    messages."""
    s = imap_server(start_server)
    md = s.maildir(ALICE)
    with tls_imap(s, ALICE, select="INBOX"):
        pass                        # the server makes the Maildir, as its user
    crlf_msg = b"Subject: crlf\r\nFrom: <x@remote.test>\r\n\r\nbody one\r\nbody two\r\n"
    no_nl = b"Subject: no newline\n\nlast line without newline"
    (md / "new" / "1700000000.M1P1.other").write_bytes(crlf_msg)
    (md / "new" / "1700000001.M2P2.other").write_bytes(no_nl)
    (md / "cur" / "1700000002.M3P3.other:2,FS").write_bytes(b"Subject: flagged\n\nx\n")
    (md / "tmp" / "1700000003.M4P4.other").write_bytes(b"Subject: in tmp\n\nx\n")
    (md / "new" / ".hidden").write_bytes(b"Subject: hidden\n\nx\n")
    for sub in ("new", "cur", "tmp"):
        for p in (md / sub).iterdir():
            give_to_server(p)
    with tls_imap(s, ALICE) as c:
        r = c.select()
        assert r.numbers("EXISTS") == [3], "tmp/ or a dot file counted: %r" % r
        f = fetches(c.ok("FETCH 1:* (FLAGS RFC822.SIZE BODY.PEEK[])"))
        by_subject = {re.search(rb"Subject: ([^\r\n]*)", d["BODY[]"]).group(1): d for d in f.values()}
        assert set(by_subject) == {b"crlf", b"no newline", b"flagged"}, by_subject
        d = by_subject[b"crlf"]
        assert d["BODY[]"] == crlf_msg, "a CRLF file: %r" % d["BODY[]"]
        assert int(d["RFC822.SIZE"]) == len(crlf_msg), d["RFC822.SIZE"]
        d = by_subject[b"no newline"]
        assert d["BODY[]"] in (crlf(no_nl), crlf(no_nl) + b"\r\n"), d["BODY[]"]
        assert int(d["RFC822.SIZE"]) == len(d["BODY[]"]), d
        d = by_subject[b"flagged"]
        assert sorted(map(str, d["FLAGS"])) == ["\\Flagged", "\\Seen"], d
        r = c.ok("STATUS INBOX (MESSAGES UNSEEN SIZE)")
        st = status_items(r.items("STATUS")[0])[1]
        assert st["MESSAGES"] == 3 and st["UNSEEN"] == 2, st
        assert st["SIZE"] == sum(len(d["BODY[]"]) for d in f.values()), st


# --------------------------------------------------------------------------
# STORE


def test_store_flags_are_maildir_info_letters(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        unique = None
        steps = [
            ("+FLAGS (\\Seen)", ["\\Seen"], "S"),
            ("+FLAGS (\\Flagged)", ["\\Flagged", "\\Seen"], "FS"),
            ("FLAGS (\\Deleted)", ["\\Deleted"], "T"),
            ("-FLAGS (\\Deleted)", [], ""),
            ("+FLAGS (\\Answered \\Draft)", ["\\Answered", "\\Draft"], "DR"),
            ("-FLAGS (\\Draft)", ["\\Answered"], "R"),
            ("FLAGS (\\Seen \\Flagged \\Deleted \\Answered \\Draft)",
             ["\\Answered", "\\Deleted", "\\Draft", "\\Flagged", "\\Seen"], "DFRST"),
            ("FLAGS ()", [], ""),
        ]
        for what, flags, want in steps:
            r = c.ok("STORE 1 " + what)
            f = fetches(r)
            assert list(f) == [1], "STORE %s: want one FETCH: %r" % (what, r)
            assert sorted(map(str, f[1]["FLAGS"])) == flags, "STORE %s: %r" % (what, r)
            p = the_file(s, ALICE)
            assert p.parent.name == "cur", p
            assert info_of(p.name) == want, "STORE %s: file %s, want :2,%s" % (what, p.name, want)
            u = p.name.split(":2,")[0]
            assert unique in (None, u), "the unique part changed: %s -> %s" % (unique, u)
            unique = u
        # .SILENT: no FETCH response, the file still renamed
        r = c.ok("STORE 1 +FLAGS.SILENT (\\Flagged)")
        assert not r.items("FETCH"), "FLAGS.SILENT answered with FETCH: %r" % r
        assert info_of(the_file(s, ALICE).name) == "F"
        r = c.ok("STORE 1 FLAGS.SILENT (\\Seen)")
        assert not r.items("FETCH"), r
        assert info_of(the_file(s, ALICE).name) == "S"
        # UID STORE reports the UID (RFC 9051 6.4.9)
        r = c.ok("UID STORE 1 -FLAGS (\\Seen)")
        f = fetches(r)
        assert int(f[1]["UID"]) == 1 and f[1]["FLAGS"] == [], r
        assert info_of(the_file(s, ALICE).name) == ""
        r = c.cmd("STORE 1 +FLAGS (\\Recent)")
        assert r.status in ("BAD", "NO") or info_of(the_file(s, ALICE).name) == "", r
        r = c.cmd("STORE 1 BOGUS (\\Seen)")
        assert r.status == "BAD", "STORE with a bad item: %r" % r


def test_flags_set_in_one_session_seen_in_another(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE, select="INBOX") as a, tls_imap(s, ALICE, select="INBOX") as b:
        a.ok("STORE 2 +FLAGS (\\Flagged)")
        r = b.ok("NOOP")
        f = fetches(r)
        assert list(f) == [2] and [str(x) for x in f[2]["FLAGS"]] == ["\\Flagged"], \
            "NOOP after another session's STORE: %r" % r
        assert b.ok("NOOP").untagged == [], "the change reported twice"
        # a change made by another program (a MUA renaming the file) too
        p = [q for q in s.message_files(ALICE) if letters(q) == ""]
        assert len(p) == 1, s.message_files(ALICE)
        set_letters_externally(p[0], "S")
        r = b.ok("NOOP")
        f = fetches(r)
        assert list(f) == [1], "NOOP after another program set \\Seen: %r" % r
        assert [str(x) for x in f[1]["FLAGS"]] == ["\\Seen"], r


def test_store_keeps_flags_set_meanwhile_elsewhere(start_server):
    """+FLAGS adds to the flags the message has (RFC 9051 6.4.6), not to
    an old snapshot: a \\Flagged set by another session (or by a MUA on
    the Maildir) since this session last looked must survive."""
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE, select="INBOX") as a, tls_imap(s, ALICE, select="INBOX") as b:
        b.ok("STORE 1 +FLAGS (\\Flagged)")
        r = a.ok("STORE 1 +FLAGS (\\Seen)")         # no NOOP in between
        letters_now = sorted(letters(p) for p in s.message_files(ALICE))
        assert letters_now == ["", "FS"], \
            "STORE 1 +FLAGS (\\Seen) after another session's +FLAGS (\\Flagged): files %r, " \
            "want :2,FS (got %r)" % (letters_now, r)
        r = a.ok("FETCH 1 (FLAGS)")
        assert sorted(map(str, fetches(r)[1]["FLAGS"])) == ["\\Flagged", "\\Seen"], r
        # the same when the other writer is a program on the Maildir
        p = [q for q in s.message_files(ALICE) if letters(q) == ""][0]
        set_letters_externally(p, "D")
        a.ok("STORE 2 +FLAGS (\\Answered)")
        letters_now = sorted(letters(q) for q in s.message_files(ALICE))
        assert letters_now == ["DR", "FS"], "a \\Draft set on disk was lost: %r" % letters_now


# --------------------------------------------------------------------------
# COPY, MOVE, EXPUNGE, CLOSE, UNSELECT


def test_copy_with_copyuid(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as c:
        validity = status_items(c.ok("STATUS Trash (UIDVALIDITY)").items("STATUS")[0])[1]["UIDVALIDITY"]
        r = c.ok("COPY 2:3 Trash")
        assert r.code and r.code.upper().startswith("COPYUID"), "COPY without COPYUID: %r" % r
        w = r.code.split()
        assert w[1] == str(validity), "COPYUID validity %s, Trash has %d" % (w[1], validity)
        assert w[2] in ("2:3", "2,3") and w[3] in ("1:2", "1,2"), r.code
        assert not r.items("EXPUNGE"), r
        assert r.numbers("EXISTS") in ([], [3]), r
        r = c.ok("UID COPY 1 Trash")
        assert r.code.split()[2:] == ["1", "3"], r.code
        r = c.cmd("COPY 1 Nope")
        assert r.status == "NO" and r.code == "TRYCREATE", "COPY to a missing folder: %r" % r
        c.ok("SELECT Trash")
        assert msgid_uids(c), "Trash is empty"
    new, cur = folder_files(s, ALICE, "Trash")
    assert len(new) + len(cur) == 3, (new, cur)
    assert sorted(crlf(d) for d in folder_messages(s, ALICE, "Trash")) == \
        sorted(crlf(d) for d in s.messages(ALICE)), "copies differ from the originals"
    assert s.count(ALICE) == 3


def test_move_to_trash(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as c:
        validity = status_items(c.ok("STATUS Trash (UIDVALIDITY)").items("STATUS")[0])[1]["UIDVALIDITY"]
        r = c.ok("MOVE 2 Trash")
        # RFC 6851 4.3: untagged OK [COPYUID ...] before the EXPUNGEs
        assert r.untagged[0].startswith(b"* OK [COPYUID %d 2 1]" % validity), r
        assert r.numbers("EXPUNGE") == [2], r
        assert not r.items("EXISTS") or r.numbers("EXISTS") == [2], r
        r = c.ok("UID MOVE 3 Trash")
        assert r.untagged[0].startswith(b"* OK [COPYUID %d 3 2]" % validity), r
        assert r.numbers("EXPUNGE") == [2], r
        r = c.ok("NOOP")
        assert not r.items("EXPUNGE"), "EXPUNGE reported twice: %r" % r
        assert msgid_uids(c) and len(msgid_uids(c)) == 1
        r = c.cmd("MOVE 1 Nope")
        assert r.status == "NO" and r.code == "TRYCREATE", r
        r = c.cmd("MOVE 5 Trash")
        assert r.status in ("BAD", "NO"), "MOVE of a message number past the end: %r" % r
    assert s.count(ALICE) == 1
    new, cur = folder_files(s, ALICE, "Trash")
    assert new == [] and len(cur) == 2, (new, cur)


def test_copy_and_move_keep_flags_and_internaldate(start_server):
    """RFC 9051 6.4.7: COPY keeps the flags and INTERNALDATE; RFC 6851
    3.3: so does MOVE."""
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.cmd_literal('APPEND INBOX (\\Flagged \\Answered) "05-Mar-2021 08:30:00 +0000"',
                          make_message(subject="old one"))
        assert r.status == "OK", r
        # RFC 9051 6.3.12: the selected mailbox reports the new message
        assert (r.numbers("EXISTS") + c.ok("NOOP").numbers("EXISTS")) == [3], r
        c.ok("STORE 1 +FLAGS.SILENT (\\Seen)")
        src = fetches(c.ok("FETCH 1:* (FLAGS INTERNALDATE)"))
        c.ok("COPY 1:3 Archive")
        c.ok("MOVE 3 Trash")
        c.ok("SELECT Archive")
        got = fetches(c.ok("FETCH 1:* (FLAGS INTERNALDATE)"))
        for n in (1, 2, 3):
            assert sorted(map(str, got[n]["FLAGS"])) == sorted(map(str, src[n]["FLAGS"])), \
                "COPY changed the flags of %d: %r -> %r" % (n, src[n], got[n])
            assert parse_internaldate(got[n]["INTERNALDATE"]) == parse_internaldate(src[n]["INTERNALDATE"]), \
                "COPY changed INTERNALDATE of %d: %r -> %r" % (n, src[n], got[n])
        c.ok("SELECT Trash")
        got = fetches(c.ok("FETCH 1 (FLAGS INTERNALDATE)"))[1]
        assert sorted(map(str, got["FLAGS"])) == ["\\Answered", "\\Flagged"], got
        assert parse_internaldate(got["INTERNALDATE"]) == calendar.timegm((2021, 3, 5, 8, 30, 0)), got
    assert sorted(letters(p) for p in (folder_dir(s, ALICE, "Archive") / "cur").iterdir()) == \
        ["", "FR", "S"]


def test_expunge_and_uid_expunge(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 5)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.ok("STORE 2:4 +FLAGS.SILENT (\\Deleted)")
        # UID EXPUNGE only the UIDs named (RFC 9051 6.4.9)
        r = c.ok("UID EXPUNGE 3")
        assert r.numbers("EXPUNGE") == [3], "UID EXPUNGE 3: %r" % r
        assert s.count(ALICE) == 4
        # EXPUNGE: every \Deleted one; the numbers renumber as they go
        r = c.ok("EXPUNGE")
        assert r.numbers("EXPUNGE") == [2, 2], "EXPUNGE of 2 and 3 (was 4): %r" % r
        assert s.count(ALICE) == 2
        assert sorted(msgid_uids(c).values()) == [1, 5]
        r = c.ok("EXPUNGE")
        assert not r.items("EXPUNGE"), r
        r = c.cmd("UID EXPUNGE")
        assert r.status == "BAD", "UID EXPUNGE without a set: %r" % r


def test_close_expunges_silently_unselect_does_not(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        r = c.ok("UNSELECT")
        assert not r.items("EXPUNGE"), r
        assert s.count(ALICE) == 3, "UNSELECT expunged"
        r = c.cmd("FETCH 1 FLAGS")
        assert r.status == "BAD", "FETCH after UNSELECT: %r" % r
        c.ok("EXAMINE INBOX")
        c.ok("CLOSE")
        assert s.count(ALICE) == 3, "CLOSE of a read-only mailbox expunged"
        c.select()
        r = c.ok("CLOSE")
        assert not r.untagged, "CLOSE is silent (RFC 9051 6.4.1): %r" % r
        assert s.count(ALICE) == 2, "CLOSE did not expunge"
        r = c.cmd("CLOSE")
        assert r.status == "BAD", "CLOSE with nothing selected: %r" % r
        r = c.select()
        assert r.numbers("EXISTS") == [2], r


def test_expunge_in_one_session_seen_in_another(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as a, tls_imap(s, ALICE, select="INBOX") as b:
        a.ok("STORE 2 +FLAGS.SILENT (\\Deleted)")
        a.ok("EXPUNGE")
        r = b.ok("NOOP")
        assert r.numbers("EXPUNGE") == [2], "NOOP after another session's EXPUNGE: %r" % r
        assert sorted(msgid_uids(b).values()) == [1, 3]
        # and a message taken away by another program
        victim = s.message_files(ALICE)[0]
        victim.unlink()
        r = b.ok("NOOP")
        assert len(r.numbers("EXPUNGE")) == 1, "NOOP after a file vanished: %r" % r


# --------------------------------------------------------------------------
# APPEND


def test_append_to_sent_with_flags_and_date(start_server):
    s = imap_server(start_server)
    msg = make_message(subject="sent by me", frm=ALICE, to="someone@remote.test")
    with tls_imap(s, ALICE) as c:
        validity = status_items(c.ok("STATUS Sent (UIDVALIDITY)").items("STATUS")[0])[1]["UIDVALIDITY"]
        r = c.cmd_literal('APPEND Sent (\\Seen) "14-Jul-2023 10:00:00 +0200"', msg)
        assert r.status == "OK", "APPEND: %r" % r
        assert r.code == "APPENDUID %d 1" % validity, "APPEND: want [APPENDUID %d 1]: %r" % (validity, r)
        r = c.cmd_literal("APPEND Sent", msg)
        assert r.code == "APPENDUID %d 2" % validity, r
        r = c.ok("STATUS Sent (MESSAGES UNSEEN UIDNEXT)")
        assert status_items(r.items("STATUS")[0])[1] == {"MESSAGES": 2, "UNSEEN": 1, "UIDNEXT": 3}, r
        c.ok("SELECT Sent")
        f = fetches(c.ok("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])"))[1]
        assert [str(x) for x in f["FLAGS"]] == ["\\Seen"], f["FLAGS"]
        want = calendar.timegm((2023, 7, 14, 8, 0, 0))
        assert parse_internaldate(f["INTERNALDATE"]) == want, f["INTERNALDATE"]
        assert f["BODY[]"] == msg, "APPENDed octets differ: %r" % f["BODY[]"]
        assert int(f["RFC822.SIZE"]) == len(msg)
        r = c.cmd_literal("APPEND Nope", msg)
        assert r.status == "NO" and r.code == "TRYCREATE", "APPEND to a missing folder: %r" % r
        r = c.cmd_literal('APPEND Sent (\\Seen) "99-Foo-2023 10:00:00 +0200"', msg)
        assert r.status == "BAD", "APPEND with a bad date: %r" % r
    new, cur = folder_files(s, ALICE, "Sent")
    assert new == [] and len(cur) == 2, (new, cur)
    files = {n: (folder_dir(s, ALICE, "Sent") / "cur" / n) for n in cur}
    seen = [n for n in cur if info_of(n) == "S"]
    assert len(seen) == 1, cur
    assert int(files[seen[0]].stat().st_mtime) == want, "INTERNALDATE is the file mtime"
    assert crlf(files[seen[0]].read_bytes()) == msg


def test_append_literal_plus_raw(start_server):
    s = imap_server(start_server)
    msg = make_message(subject="draft", frm=ALICE)
    with tls_imap(s, ALICE) as c:
        c.ok("NOOP")
        # everything in one write: no "+" may come back
        c.send(b"P1 APPEND Drafts (\\Draft) {%d+}\r\n%s\r\nP2 NOOP\r\n" % (len(msg), msg))
        r = c.read_resp("P1")
        assert r.status == "OK" and not r.conts, "APPEND {n+}: %r" % r
        assert r.code and r.code.startswith("APPENDUID"), r
        assert c.read_resp("P2").status == "OK"
    new, cur = folder_files(s, ALICE, "Drafts")
    assert new == [] and len(cur) == 1 and info_of(cur[0]) == "D", (new, cur)


def test_append_too_big_refused_before_literal(start_server):
    s = imap_server(start_server, message_size_limit="10000")
    with tls_imap(s, ALICE) as c:
        c.ok("NOOP")
        # RFC 9051 4.3 and 7.1: refused instead of the "+" continuation
        c.send(b"T1 APPEND Sent {20000}\r\n")
        it = c.item()
        assert it.startswith(b"T1 NO [TOOBIG]"), "over-size APPEND: want NO [TOOBIG], got %r" % it
        assert c.nothing_within(0.3), c.buf
        c.ok("NOOP")
        # a literal+ the server cannot take is read and thrown away
        big = b"x" * 20000
        c.send(b"T2 APPEND Sent {20000+}\r\n" + big + b"\r\n")
        r = c.read_resp("T2")
        assert r.status == "NO" and r.code == "TOOBIG", "over-size APPEND {n+}: %r" % r
        assert sane_after(c, "over-size literal+", bye_ok=False) == "ok"
        # just under the limit still works
        msg = make_message(body="y" * 5000 + "\r\n")
        r = c.cmd_literal("APPEND Sent", msg)
        assert r.status == "OK", r
        r = c.ok("STATUS Sent (MESSAGES)")
        assert status_items(r.items("STATUS")[0])[1]["MESSAGES"] == 1, r


# --------------------------------------------------------------------------
# SEARCH, ESEARCH


@pytest.fixture
def search_box(start_server):
    """a server whose alice INBOX holds, after the first message was moved
    away (so that message numbers are UIDs - 1):
      1 (UID 2)  from ann, to alice, subject "Apples", small, \\Seen
      2 (UID 3)  from bob, to alice and dave, "Bananas", body "kiwi", \\Flagged \\Seen
      3 (UID 4)  from ann, to alice, "Cherries", a large body, \\Flagged
      4 (UID 5)  from carl, to alice, "kiwi smoothie", X-Tag: blue, appended
                 with an INTERNALDATE in 2020
    """
    s = imap_server(start_server)
    msgs = [
        make_message(subject="Moved away", frm="zed@client.example.test"),
        make_message(subject="Apples", frm="ann@client.example.test", body="Red ones.\r\n"),
        make_message(subject="Bananas", frm="bob@client.example.test", body="A kiwi too.\r\n",
                     to="alice@example.test>, <dave@other.test"),
        make_message(subject="Cherries", frm="ann@client.example.test", body=("z" * 70 + "\r\n") * 60),
    ]
    deliver(s, ALICE, len(msgs), msg_fn=lambda i: msgs[i])
    c = tls_imap(s, ALICE)
    try:
        _fill_search_box(c)
    except BaseException:
        c.close()
        raise
    yield s, c
    c.close()


def _fill_search_box(c):
    last = make_message(subject="kiwi smoothie", frm="carl@client.example.test",
                        extra_headers=["X-Tag: blue"])
    c.select()                  # the delivered ones get their UIDs first
    r = c.cmd_literal('APPEND INBOX () "01-Feb-2020 12:00:00 +0000"', last)
    assert r.status == "OK", r
    c.ok("NOOP")
    f = fetches(c.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
    order = [f[n][[k for k in f[n] if k.startswith("BODY[")][0]].strip().decode() for n in sorted(f)]
    assert order == ["Subject: " + x for x in ("Moved away", "Apples", "Bananas", "Cherries",
                                               "kiwi smoothie")], order
    c.ok("MOVE 1 Trash")
    c.ok("STORE 1:2 +FLAGS.SILENT (\\Seen)")
    c.ok("STORE 2:3 +FLAGS.SILENT (\\Flagged)")


SEARCHES = [
    ("ALL", [1, 2, 3, 4]),
    ("SEEN", [1, 2]),
    ("UNSEEN", [3, 4]),
    ("FLAGGED", [2, 3]),
    ("UNFLAGGED", [1, 4]),
    ("FLAGGED UNSEEN", [3]),
    ("FROM ann", [1, 3]),
    ("FROM \"ANN@client\"", [1, 3]),
    ("TO dave@other.test", [2]),
    ("SUBJECT apples", [1]),
    ("SUBJECT kiwi", [4]),
    ("BODY kiwi", [2]),
    ("TEXT kiwi", [2, 4]),
    ("TEXT nothing-like-this", []),
    ("HEADER X-Tag blue", [4]),
    ("HEADER X-Tag \"\"", [4]),
    ("LARGER 3000", [3]),
    ("SMALLER 3000", [1, 2, 4]),
    ("UID 3:4", [2, 3]),
    ("UID 1", []),
    ("2:3", [2, 3]),
    ("OR FROM bob FROM carl", [2, 4]),
    ("NOT SEEN", [3, 4]),
    ("NOT FROM ann", [2, 4]),
    ("(FROM ann SEEN)", [1]),
    ("OR (FROM ann SEEN) SUBJECT kiwi", [1, 4]),
    ("BEFORE 1-Jan-2021", [4]),
    ("SINCE 1-Jan-2021", [1, 2, 3]),
    ("ON 1-Feb-2020", [4]),
    ("SENTBEFORE 1-Jan-2000", []),
]


def test_search_criteria(search_box):
    s, c = search_box
    bad = []
    for crit, want in SEARCHES:
        r = c.cmd("SEARCH " + crit)
        if r.status != "OK":
            bad.append("SEARCH %s: %r" % (crit, r))
            continue
        got = search_numbers(r)
        if got != want:
            bad.append("SEARCH %s: got %r, want %r" % (crit, got, want))
    today = imap_date(time.time())
    for crit, want in (("SINCE " + today, [1, 2, 3]), ("BEFORE " + imap_date(time.time() + 2 * 86400),
                                                        [1, 2, 3, 4])):
        r = c.cmd("SEARCH " + crit)
        if r.status != "OK" or search_numbers(r) != want:
            bad.append("SEARCH %s: %r, want %r" % (crit, r, want))
    assert not bad, "\n".join(bad)


def test_uid_search_and_errors(search_box):
    s, c = search_box
    r = c.ok("UID SEARCH ALL")
    assert search_numbers(r) == [2, 3, 4, 5], r
    r = c.ok("UID SEARCH FLAGGED")
    assert search_numbers(r) == [3, 4], r
    r = c.ok("UID SEARCH UID 4:*")
    assert search_numbers(r) == [4, 5], r
    r = c.ok("SEARCH CHARSET UTF-8 SUBJECT bananas")
    assert search_numbers(r) == [2], r
    r = c.cmd("SEARCH CHARSET X-BOGUS SUBJECT x")
    assert r.status == "NO" and r.code and r.code.upper().startswith("BADCHARSET"), \
        "RFC 9051 6.4.4: an unknown charset is NO [BADCHARSET]: %r" % r
    for crit in ("BOGUS", "FROM", "OR SEEN", "(SEEN", "SINCE 32-Jan-2020", "LARGER x"):
        r = c.cmd("SEARCH " + crit)
        assert r.status == "BAD", "SEARCH %s: want BAD, got %r" % (crit, r)
    c.ok("NOOP")


def test_esearch_return_options(search_box):
    s, c = search_box
    r = c.cmd("SEARCH RETURN (COUNT MIN MAX ALL) FLAGGED", tag="es1")
    assert r.status == "OK", r
    assert not r.items("SEARCH"), "RETURN given: ESEARCH only (RFC 4731): %r" % r
    tag, uid, res = esearch(r)
    assert tag == "es1" and not uid, r
    assert res == {"COUNT": "2", "MIN": "2", "MAX": "3", "ALL": "2:3"}, res
    r = c.cmd("UID SEARCH RETURN (COUNT ALL) UNSEEN", tag="es2")
    tag, uid, res = esearch(r)
    assert tag == "es2" and uid, "UID SEARCH RETURN: want UID in ESEARCH: %r" % r
    assert res == {"COUNT": "2", "ALL": "4:5"} or res == {"COUNT": "2", "ALL": "4,5"}, res
    # RFC 4731 3.1: no match: no MIN/MAX/ALL, COUNT 0
    r = c.cmd("SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT nothing-like-this", tag="es3")
    tag, uid, res = esearch(r)
    assert tag == "es3" and res == {"COUNT": "0"}, r
    # RETURN () is RETURN (ALL)
    r = c.cmd("SEARCH RETURN () SEEN", tag="es4")
    tag, uid, res = esearch(r)
    assert res == {"ALL": "1:2"} or res == {"ALL": "1,2"}, r
    # IMAP4rev2: SEARCH answers with ESEARCH (RFC 9051 6.4.4)
    c.ok("ENABLE IMAP4rev2")
    r = c.cmd("SEARCH UNSEEN", tag="es5")
    assert r.status == "OK" and not r.items("SEARCH"), "IMAP4rev2 SEARCH: %r" % r
    tag, uid, res = esearch(r)
    assert tag == "es5" and res in ({"ALL": "3:4"}, {"ALL": "3,4"}), r


def test_search_charset_utf8_decodes_mime(start_server):
    """RFC 3501 6.4.4: with a CHARSET other than US-ASCII, RFC 2047 words
    in headers and content transfer encodings MUST be decoded before
    comparing; the key is sent as a literal."""
    s = imap_server(start_server)
    msgs = [
        make_message(subject="=?UTF-8?Q?Caf=C3=A9_cr=C3=A8me?="),
        make_message(subject="plain", body=base64.b64encode("Un café noir.\r\n".encode()).decode() + "\r\n",
                     extra_headers=["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8",
                                    "Content-Transfer-Encoding: base64"]),
        make_message(subject="nothing", body="Tea.\r\n"),
    ]
    deliver(s, ALICE, 3, msg_fn=lambda i: msgs[i])
    key = "café".encode()
    bad = []
    with tls_imap(s, ALICE, select="INBOX") as c:
        for crit, want in (("SUBJECT", [1]), ("BODY", [2]), ("TEXT", [1, 2])):
            r = c.cmd_literal("SEARCH CHARSET UTF-8 " + crit, key)
            if r.status != "OK" or search_numbers(r) != want:
                bad.append("SEARCH CHARSET UTF-8 %s {%d}caf\\xc3\\xa9: %r, want %r" % (
                    crit, len(key), r, want))
        # across two encoded characters and the "_" space: only in the decoded text
        r = c.cmd_literal("SEARCH CHARSET UTF-8 SUBJECT", "é cr".encode())
        if r.status != "OK" or search_numbers(r) != [1]:
            bad.append("SEARCH SUBJECT {5}\\xc3\\xa9 cr (inside the decoded words): %r, want [1]" % r)
    assert not bad, "\n".join(bad)


# --------------------------------------------------------------------------
# IDLE, several sessions, pipelining, shutdown


def test_idle_reports_new_mail(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.send(b"I1 IDLE\r\n")
        it = c.item()
        assert it.startswith(b"+"), "IDLE: want '+', got %r" % it
        t0 = time.monotonic()
        deliver(s, ALICE, 1)
        got = c.wait_item(lambda x: x == b"* 2 EXISTS", timeout=5)
        assert time.monotonic() - t0 < 5, got
        deliver(s, ALICE, 1)
        c.wait_item(lambda x: x == b"* 3 EXISTS", timeout=5)
        c.send(b"DONE\r\n")
        r = c.read_resp("I1")
        assert r.status == "OK", "DONE: %r" % r
        assert not r.items("EXISTS"), "EXISTS reported twice: %r" % r
        c.ok("NOOP")
        assert len(msgid_uids(c)) == 3


def test_idle_reports_other_sessions_changes(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 3)
    with tls_imap(s, ALICE, select="INBOX") as a, tls_imap(s, ALICE, select="INBOX") as b:
        b.send(b"I1 IDLE\r\n")
        assert b.item().startswith(b"+")
        a.ok("STORE 2 +FLAGS (\\Flagged)")
        got = b.wait_item(lambda x: b" FETCH " in x, timeout=5)
        n, d = fetch_items(got[-1])
        assert n == 2 and [str(x) for x in d["FLAGS"]] == ["\\Flagged"], got
        a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        a.ok("EXPUNGE")
        got = b.wait_item(lambda x: x == b"* 1 EXPUNGE", timeout=5)
        b.send(b"DONE\r\n")
        r = b.read_resp("I1")
        assert r.status == "OK", r
        assert sorted(msgid_uids(b).values()) == [2, 3]


def test_noop_reports_new_mail_and_fetch_holds_back_expunge(start_server):
    """NOOP reports new mail; an EXPUNGE made by another session is not
    reported during FETCH, STORE or SEARCH, only at the next command that
    may (RFC 9051 7.5.1)."""
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE, select="INBOX") as a, tls_imap(s, ALICE, select="INBOX") as b:
        deliver(s, ALICE, 1)
        r = b.ok("NOOP")
        assert r.numbers("EXISTS") == [3], "NOOP after a delivery: %r" % r
        a.ok("NOOP")
        a.ok("STORE 1 +FLAGS.SILENT (\\Deleted)")
        a.ok("EXPUNGE")
        for cmd in ("FETCH 1:* (UID)", "STORE 3 +FLAGS (\\Seen)", "SEARCH ALL", "UID SEARCH ALL"):
            r = b.ok(cmd)
            assert not r.items("EXPUNGE"), "EXPUNGE during %s: %r" % (cmd, r)
        r = b.ok("NOOP")
        assert r.numbers("EXPUNGE") == [1], r
        assert sorted(msgid_uids(b).values()) == [2, 3]


def test_pipelined_and_case_insensitive_commands(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    with tls_imap(s, ALICE) as c:
        c.send(b"p1 noop\r\np2 Select inbox\r\np3 fetch 2 (uid flags)\r\np4 uid Fetch 1 (Flags)\r\n"
               b"p5 STATUS Trash (messages)\r\np6 Capability\r\n")
        rs = [c.read_resp("p%d" % i) for i in range(1, 7)]
        assert all(r.status == "OK" for r in rs), rs
        assert rs[1].numbers("EXISTS") == [2], rs[1]
        assert int(fetches(rs[2])[2]["UID"]) == 2, rs[2]
        assert int(fetches(rs[3])[1]["UID"]) == 1, rs[3]
        assert status_items(rs[4].items("STATUS")[0])[1] == {"MESSAGES": 0}, rs[4]
        assert rs[5].items("CAPABILITY"), rs[5]
        r = c.ok("ID NIL")
        assert r.items("ID"), "ID (RFC 2971): %r" % r


def test_concurrent_appends_and_deliveries_get_distinct_uids(start_server):
    """four sessions APPEND to INBOX while SMTP delivers to it: every
    message gets its own UID, APPENDUIDs match what FETCH shows."""
    import threading
    s = imap_server(start_server)
    with tls_imap(s, ALICE, select="INBOX"):
        pass
    results, errors = [], []

    def appender(k):
        try:
            with tls_imap(s, ALICE) as c:
                for i in range(8):
                    msg = make_message(subject="append %d.%d" % (k, i))
                    r = c.cmd_literal("APPEND INBOX", msg)
                    assert r.status == "OK" and r.code and r.code.startswith("APPENDUID"), r
                    results.append((int(r.code.split()[2]), "append %d.%d" % (k, i)))
        except BaseException as e:     # reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=appender, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for i in range(6):
        send_mail(s, SENDER, [ALICE], make_message(subject="delivered %d" % i))
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(results) == 32
    s.wait_messages(ALICE, 38)
    with tls_imap(s, ALICE, select="INBOX") as c:
        f = fetches(c.ok("FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])"))
        assert len(f) == 38, "want 38 messages, got %d" % len(f)
        uids = [int(f[n]["UID"]) for n in sorted(f)]
        assert uids == sorted(set(uids)), "UIDs not unique and ascending: %r" % uids
        subject_of = {int(d["UID"]): [v for k, v in d.items() if k.startswith("BODY[")][0]
                      .strip().decode()[len("Subject: "):] for d in f.values()}
        for uid, subject in results:
            assert subject_of.get(uid) == subject, "APPENDUID %d is %r, FETCH says %r" % (
                uid, subject, subject_of.get(uid))


def test_idle_without_done(start_server):
    """anything but DONE ends IDLE with BAD (RFC 2177), the session goes on."""
    s = imap_server(start_server)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.send(b"I1 IDLE\r\n")
        assert c.item().startswith(b"+")
        c.send(b"I2 NOOP\r\n")
        r = c.read_resp("I1")
        assert r.status in ("BAD", "NO"), "IDLE ended by a command: %r" % r
        c.ok("NOOP")


@pytest.mark.timeout(90)
def test_sigterm_while_a_command_runs(start_server):
    """SIGTERM: every session gets "* BYE" and is closed (RFC 9051 7.1.5:
    BYE means the server closes the connection); nothing more is run and
    the server exits at once, also when a command was running on a worker
    at that moment while earlier output still waited for the client
    (regression: the worker's end put the session back to the selected
    state, so it went on running commands after the BYE until the 10 s
    closing deadline, and held the shutdown up as long)."""
    s = imap_server(start_server)
    with tls_imap(s, ALICE, select="INBOX"):
        pass                        # the Maildir, made by the server
    md = s.maildir(ALICE)
    body = (b"x" * 76 + b"\n") * 4000
    for i in range(60):             # 18 MB: SEARCH BODY takes a while
        p = md / "new" / ("1700000000.M%dP1.bulk" % i)
        p.write_bytes(b"Subject: bulk %d\n\n" % i + body)
        give_to_server(p)
    with tls_imap(s, ALICE, select="INBOX") as c:
        t0 = time.monotonic()
        c.ok("FETCH 1:10 BODY.PEEK[]")
        tf = time.monotonic() - t0
        t0 = time.monotonic()
        c.ok("SEARCH BODY nothing-like-this")
        ts = time.monotonic() - t0
    with tls_imap(s, ALICE, select="INBOX", rcvbuf=65536) as c:
        # F1's 3 MB answer waits unread in the server; S1..S4 keep a
        # worker busy when SIGTERM comes
        c.send(b"F1 FETCH 1:10 BODY.PEEK[]\r\n"
               + b"".join(b"S%d SEARCH BODY nothing-like-this\r\n" % i for i in range(1, 5)))
        time.sleep(tf + ts / 2)
        s.expected_exit = True
        s.send_signal(signal.SIGTERM)
        time.sleep(ts)
        c.wait_item(lambda x: x.startswith(b"* BYE"), timeout=10)
        send_quietly(c, b"N1 NOOP\r\n")
        after = c.items_until_closed(timeout=3)
        # the command that was running may still be completed; no other
        tagged = [x for x in after if x and re.match(rb"[SN]\d ", x)]
        assert len(tagged) <= 1 and None not in after and b"N1 OK NOOP completed" not in after, \
            "after * BYE Server shutting down: want the close, got %r" % after
    s.stop(timeout=3)


# --------------------------------------------------------------------------
# Robustness with a raw socket


def test_overlong_lines(start_server):
    s = imap_server(start_server)
    # over IMAP_LINE_MAX (8 KiB): BAD and go on, or BYE and close
    with tls_imap(s, ALICE) as c:
        send_quietly(c, b"L1 SELECT " + b"x" * 9000 + b"\r\n")
        how, out = bad_or_bye(c, "L1")
        if how == "bad":
            assert sane_after(c, "a 9000-octet line", bye_ok=False) == "ok"
    # 70000 octets without a literal
    with tls_imap(s, ALICE) as c:
        send_quietly(c, b"L2 NOOP " + b"y" * 70000 + b"\r\nL3 NOOP\r\n")
        how, out = bad_or_bye(c, "L2")
        if how == "bad":
            assert c.read_resp("L3").status == "OK"
    # a long line that never ends
    with tls_imap(s, ALICE) as c:
        send_quietly(c, b"L4 NOOP " + b"z" * 20000)
        out = c.items_until_closed(timeout=5)
        assert out and out[0] and out[0].startswith(b"* BYE") and out[-1] is not None, \
            "an endless line: want * BYE and a close: %r" % out
    with tls_imap(s, ALICE) as c:
        c.ok("NOOP")


def test_unbalanced_parentheses(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        for cmd in ("FETCH 1 (FLAGS", "FETCH 1 FLAGS)", "FETCH 1 ((FLAGS)", 'LIST (( "" "*"',
                    "SEARCH (OR SEEN", "SEARCH SEEN)", "STORE 1 +FLAGS (\\Seen",
                    'STATUS INBOX (MESSAGES', "SEARCH " + "(" * 200 + "ALL" + ")" * 200):
            r = c.cmd(cmd)
            assert r.status in ("BAD", "NO"), "%s: want BAD, got %r" % (cmd[:60], r)
            assert sane_after(c, cmd, bye_ok=False) == "ok"
        assert letters(the_file(s, ALICE)) == "", "a bad STORE changed flags"


def test_huge_literals_outside_append(start_server):
    s = imap_server(start_server)
    # before login: no "+" for a huge literal
    with tls_imap(s) as c:
        c.send(b"H1 LOGIN {999999999}\r\n")
        it = c.item()
        assert not it.startswith(b"+"), "a '+' for a 999999999-octet LOGIN literal"
        assert it.startswith(b"H1 BAD") or it.startswith(b"H1 NO") or it.startswith(b"* BYE"), it
        if not it.startswith(b"* BYE"):
            assert sane_after(c, "huge LOGIN literal") == "ok"
    with tls_imap(s) as c:
        c.send(b"H2 SELECT {5}\r\n")
        it = c.item()
        assert not it.startswith(b"+"), "a literal accepted before login for SELECT"
        assert it.startswith(b"H2 BAD") or it.startswith(b"H2 NO"), it
        sane_after(c, "literal before login", bye_ok=False)
    with tls_imap(s, ALICE, select="INBOX") as c:
        for lit in (b"{100000}", b"{4294967296}", b"{18446744073709551616}",
                    b"{99999999999999999999999}"):
            c.send(b"H3 SEARCH TEXT " + lit + b"\r\n")
            it = c.item()
            assert not it.startswith(b"+"), "a '+' for SEARCH TEXT %r" % lit
            assert it.startswith(b"H3 BAD") or it.startswith(b"H3 NO"), (lit, it)
            assert sane_after(c, "SEARCH literal %r" % lit, bye_ok=False) == "ok"
        # non-synchronising: the octets are read and thrown away
        send_quietly(c, b"H4 SEARCH TEXT {100000+}\r\n" + b"A" * 100000 + b"\r\n")
        r = c.read_resp("H4")
        assert r.status in ("BAD", "NO"), r
        assert sane_after(c, "a 100000-octet literal+", bye_ok=False) == "ok"


def test_too_many_literals_and_long_sasl_response(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        # more literals in one command than anyone needs: BAD or BYE
        send_quietly(c, b"M1 SEARCH" + b" SUBJECT {1+}\r\nx" * 300 + b"\r\n")
        how, out = bad_or_bye(c, "M1")
        if how == "bad":
            assert sane_after(c, "300 literals", bye_ok=False) == "ok"
    with tls_imap(s) as c:
        c.send(b"A1 AUTHENTICATE PLAIN\r\n")
        assert c.item().startswith(b"+")
        send_quietly(c, b"A" * 100000 + b"\r\n")
        how, out = bad_or_bye(c, "A1")
        if how == "bad":
            if sane_after(c, "a 100000-octet SASL response") == "ok":
                c.login()
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.send(b"I1 IDLE\r\n")
        assert c.item().startswith(b"+")
        send_quietly(c, b"D" * 20000 + b"\r\n")
        how, out = bad_or_bye(c, "I1")
        if how == "bad":
            sane_after(c, "a 20000-octet line in IDLE")


def test_long_line_in_idle_or_authenticate_is_not_run_as_a_command(start_server):
    """a line that is not DONE ends IDLE with BAD (RFC 2177), an over-long
    SASL response gets BAD: either way the whole line is thrown away, even
    when it arrives in pieces (regression: the part of a line over 4 KiB
    read so far stayed in the input and ran as the next command)."""
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        c.send(b"I1 IDLE\r\n")
        assert c.item().startswith(b"+")
        c.send(b"x STORE 1 +FLAGS (\\Flagged" + b" \\Flagged" * 500)     # 5 KiB, no CRLF yet
        time.sleep(0.3)
        c.send(b")\r\n")
        out = c.items_until_closed(timeout=1.5)
        assert out and out[0] and re.match(rb"I1 (BAD|NO)", out[0]), out
        assert not any(x and x.startswith(b"x ") for x in out[1:]), \
            "a line sent during IDLE ran as a command: %r" % out
        assert [letters(p) for p in s.message_files(ALICE)] == [""], s.message_files(ALICE)
    with tls_imap(s) as c:
        c.send(b"A1 AUTHENTICATE PLAIN\r\n")
        assert c.item().startswith(b"+")
        c.send(b'x ID ("name" "' + b"n" * 5000)
        time.sleep(0.3)
        c.send(b'")\r\n')
        out = c.items_until_closed(timeout=1.5)
        assert out and out[0] and re.match(rb"A1 (BAD|NO)", out[0]), out
        assert not any(x and (x.startswith(b"x ") or x.startswith(b"* ID")) for x in out[1:]), \
            "an AUTHENTICATE response ran as a command: %r" % out


def test_fetch_odd_sections_and_partials(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s, ALICE, select="INBOX") as c:
        size = len(fetches(c.ok("FETCH 1 BODY.PEEK[]"))[1]["BODY[]"])
        for item in ("BODY.PEEK[]<4294967296.1>", "BODY.PEEK[]<0.4294967296>", "BODY.PEEK[]<1.0>",
                     "BODY.PEEK[99999999999]", "BODY.PEEK[0]", "BODY.PEEK[1.0]",
                     "BODY.PEEK[" + ".".join(["1"] * 40) + "]", "BODY.PEEK[HEADER.FIELDS ()]",
                     "BODY.PEEK[HEADER.FIELDS (" + " ".join(["X"] * 300) + ")]",
                     "BODY.PEEK[2.TEXT]", "BODY.PEEK[1.MIME]", "BODY.PEEK[TEXT.MIME]",
                     "BODY.PEEK[]<-1.5>", "BINARY.PEEK[1]<0.5>", "BODY.PEEK[MIME]"):
            r = c.cmd("FETCH 1 (%s)" % item)
            assert r.status in ("OK", "NO", "BAD"), (item, r)
            for it in r.items("FETCH"):
                n, d = fetch_items(it)          # well-formed
                for k, v in d.items():
                    if isinstance(v, bytes):
                        assert len(v) <= size, (item, k, len(v))
            assert sane_after(c, item, bye_ok=False) == "ok"
        assert [letters(p) for p in s.message_files(ALICE)] == [""], "PEEK set \\Seen"


BAD_SETS = ["0", "1:x", "x", "4294967296", "1,,2", ",1", "1:", ":1", "*:", "1:*:2", "-1",
            "1 2", "99", "2:99"]


def test_bad_sequence_sets(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 2)
    for cmd in ("FETCH %s (FLAGS)", "STORE %s +FLAGS (\\Seen)", "COPY %s Trash", "SEARCH %s"):
        with tls_imap(s, ALICE, select="INBOX") as c:
            for seq in BAD_SETS:
                if cmd.startswith("SEARCH") and seq == "1 2":
                    continue        # two search keys: valid
                line = cmd % seq
                r = c.cmd(line)
                want = ("BAD", "NO") if seq in ("99", "2:99") else ("BAD",)
                if seq in ("99", "2:99") and line.startswith("SEARCH"):
                    want = ("OK", "BAD", "NO")      # SEARCH of a set past the end may match nothing
                assert r.status in want, "%s: want %s, got %r" % (line, "/".join(want), r)
            assert sane_after(c, cmd, bye_ok=False) == "ok"
    with tls_imap(s, ALICE, select="INBOX") as c:
        r = c.ok("UID FETCH 4294967295 (FLAGS)")
        assert not r.items("FETCH"), r
        r = c.ok("UID FETCH 1:4294967295 (FLAGS)")
        assert len(r.items("FETCH")) == 2, r
    assert [letters(p) for p in s.message_files(ALICE)] == ["", ""], "flags changed"
    new, cur = folder_files(s, ALICE, "Trash")
    assert new == [] and cur == [], "a bad COPY copied: %r" % cur


def test_commands_in_the_wrong_state(start_server):
    s = imap_server(start_server)
    deliver(s, ALICE, 1)
    with tls_imap(s) as c:
        for cmd in ("SELECT INBOX", 'LIST "" "*"', "FETCH 1 FLAGS", "IDLE", "NAMESPACE",
                    "CREATE X", "LOGOUT2", "UID FETCH 1 FLAGS", "ENABLE IMAP4rev2"):
            r = c.cmd(cmd)
            assert r.status in ("BAD", "NO"), "%s before login: %r" % (cmd, r)
        c.ok("NOOP")
    with tls_imap(s) as c:
        c.login()
        for cmd in ("FETCH 1 FLAGS", "STORE 1 +FLAGS (\\Seen)", "SEARCH ALL", "EXPUNGE",
                    "CLOSE", "UNSELECT", "COPY 1 Trash", "MOVE 1 Trash", "UID FETCH 1 FLAGS",
                    "UID EXPUNGE 1", "CHECK", "STARTTLS", "LOGIN a b", "AUTHENTICATE PLAIN",
                    "UID NOOP", "UID", "XYZZY", "FETCH", "SELECT", "CREATE", "RENAME A",
                    "SEARCH"):
            r = c.cmd(cmd)
            assert r.status in ("BAD", "NO"), "%s with no mailbox selected: %r" % (cmd, r)
        c.select()
        assert not (s.data_dir / "X").exists()
        new, cur = folder_files(s, ALICE, "Trash")
        assert new == [] and cur == []


def test_eight_bit_garbage_and_bad_tags(start_server):
    s = imap_server(start_server)
    with tls_imap(s, ALICE, select="INBOX") as c:
        lines = [b"\x80\xff\xfe\r\n", b"a1 NOOP\x00\r\n", b"\xff\xfe SELECT INBOX\r\n",
                 b"a2 SELECT \"\xff\xfe\"\r\n", b"a3 CREATE \"\xc3\x28\"\r\n", b"\r\n", b" \r\n",
                 b"a4\r\n", b"a5 \r\n", b"a6  NOOP\r\n", b"a7 NOOP \r\n", b"GET / HTTP/1.1\r\n",
                 b"* NOOP\r\n", b"+ NOOP\r\n", b"a(9 NOOP\r\n",
                 b"a10 NOOP\rX\r\n"]
        for line in lines:
            c.send(line + b"Z1 NOOP\r\n")
            out = []
            while True:
                try:
                    it = c.item()
                except Closed:
                    pytest.fail("closed after %r: %r" % (line, out))
                out.append(it)
                if it.startswith(b"Z1 "):
                    break
            assert out[-1].startswith(b"Z1 OK"), "NOOP after %r: %r" % (line, out)
            answers = out[:-1]
            if line == b"\r\n" and not answers:
                continue            # an empty line may be ignored
            for a in answers:
                assert re.match(rb"^(\S+ (BAD|NO)|\* (BAD|NO|OK|LIST|\d+ (EXISTS|EXPUNGE|FETCH)))", a), \
                    "answer to %r: %r" % (line, a)
            assert any(re.match(rb"^\S+ (BAD|NO)", a) for a in answers), (line, answers)
        got = list_entries(c.ok('LIST "" "*"'))
        assert set(got) == {"INBOX"} | set(SPECIAL), "garbage made a folder: %r" % got


def test_refused_connection_told_why_in_its_protocol(start_server):
    """Over max_connections_per_ip a plain IMAP client gets "* BYE
    [UNAVAILABLE]" (RFC 5530) and a plain POP3 client "-ERR [SYS/TEMP]"
    (RFC 3206) before the close, not an SMTP reply or silence; a client of
    an implicit-TLS port is just closed (a word in the clear would be
    garbage inside its TLS handshake)."""
    s = start_server(start=False, conf={"max_connections_per_ip": "1"})
    s.listen = [(s.host, s.port), (s.host, s.imap_port), (s.host, s.imaps_port),
                (s.host, s.pop3_port)]
    s.start()
    held = Imap(s.host, s.imap_port)            # the one connection allowed
    try:
        assert held.greeting.startswith(b"* OK"), held.greeting
        for port, want in ((s.imap_port, b"* BYE [UNAVAILABLE] "),
                           (s.pop3_port, b"-ERR [SYS/TEMP] ")):
            with socket.create_connection((s.host, port), timeout=10) as c:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                assert data.startswith(want) and b"too many connections" in data, data
                assert c.recv(4096) == b""          # and closed
        with socket.create_connection((s.host, s.imaps_port), timeout=10) as c:
            assert c.recv(4096) == b""              # closed without a word
        # the session that was there is untouched
        r = held.cmd("CAPABILITY")
        assert r.status == "OK", r
    finally:
        held.close()


def test_long_modified_utf7_name_refused(start_server):
    """A name whose UTF-8 form fits the 255-octet limit can be much longer
    in modified UTF-7 (127 "é" are 254 octets, and 344 in an IMAP4rev1
    client's form): it is refused with NO, and the server is unharmed."""
    s = imap_server(start_server)
    units = ("é" * 127).encode("utf-16-be")
    name = "&" + base64.b64encode(units).decode().rstrip("=").replace("/", ",") + "-"
    assert len(name) > 255
    with tls_imap(s, ALICE) as c:
        r = c.cmd('CREATE "%s"' % name)
        assert r.status == "NO", r
        r = c.cmd('SELECT "%s"' % name)
        assert r.status == "NO", r
        c.ok("NOOP")
