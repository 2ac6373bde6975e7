"""test_sendmail - postino sendmail, for cron, scripts and web applications (issue 8).

The message on standard input reaches the running server over
<data_dir>/public/submit, where the server knows the caller by its uid,
and is queued and delivered like any other: recipients as arguments or
from the header (-t; Bcc removed), -i, -f, -F, a From made when there is
none, the postino binary called as "sendmail", a local user without
privileges, DKIM signing of local mail, and clear failures with sysexits
codes: a bad address (65), an unknown recipient (67), no server (75).
"""

import os
import pwd
import re
import subprocess

import pytest

from conftest import BIN, parse_delivered

SYSEXITS = {"EX_USAGE": 64, "EX_DATAERR": 65, "EX_NOUSER": 67, "EX_TEMPFAIL": 75}


def sendmail(s, args, data, argv0=None, user=None):
    argv = [argv0 or BIN] + ([] if argv0 else ["sendmail"]) + ["-C", str(s.conf_path)] + args
    if user:
        argv = ["setpriv", "--reuid=%s" % user, "--regid=%s" % user, "--clear-groups"] + argv
    return subprocess.run(argv, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30)


MSG = (b"From: Cron Daemon <root@example.test>\n"
       b"To: alice@example.test\n"
       b"Cc: Bob <bob@example.test>\n"
       b"Bcc: carol@example.test\n"
       b"Subject: nightly report\n"
       b"\n"
       b"all is well\n")


def test_t_takes_recipients_from_the_header_and_drops_bcc(server):
    p = sendmail(server, ["-t", "-i"], MSG)
    assert p.returncode == 0, p.stderr
    for rcpt in ("alice@example.test", "bob@example.test", "carol@example.test"):
        d = parse_delivered(server.wait_messages(rcpt, 1)[0])
        assert b"Subject: nightly report" in d.rest and b"all is well" in d.rest
        assert b"Bcc:" not in d.rest, d.rest
        assert re.match(r"Received: by mx\.example\.test \(postino, from userid 0 root\)",
                        d.received), d.received
    server.wait_log(r"connect from local user root \(uid 0\)")


def test_arguments_sender_and_a_from_made_for_it(server):
    p = sendmail(server, ["-f", "reports@example.test", "-F", "Night Shift", "bob@example.test"],
                 b"Subject: no From here\n\nhello\n")
    assert p.returncode == 0, p.stderr
    raw = server.wait_messages("bob@example.test", 1)[0]
    assert raw.startswith(b"Return-Path: <reports@example.test>")
    d = parse_delivered(raw)
    assert b"From: Night Shift <reports@example.test>\n" in d.rest, d.rest
    # the server adds what a message needs (RFC 6409 8.3)
    assert re.search(rb"^Date: ", d.rest, re.M) and re.search(rb"^Message-ID: <", d.rest, re.M)


def test_unqualified_recipient_gets_the_first_domain(server):
    p = sendmail(server, ["alice"], b"Subject: to alice\n\nhi\n")
    assert p.returncode == 0, p.stderr
    server.wait_messages("alice@example.test", 1)


def test_dot_line_ends_the_message_without_i(server):
    p = sendmail(server, ["alice@example.test"], b"Subject: dots\n\nbefore\n.\nafter\n")
    assert p.returncode == 0, p.stderr
    d = parse_delivered(server.wait_messages("alice@example.test", 1)[0])
    assert d.rest.endswith(b"before\n"), d.rest
    p = sendmail(server, ["-oi", "bob@example.test"], b"Subject: dots\n\nbefore\n.\n..\nafter\n")
    assert p.returncode == 0, p.stderr
    d = parse_delivered(server.wait_messages("bob@example.test", 1)[0])
    assert d.rest.endswith(b"before\n.\n..\nafter\n"), d.rest


def test_bad_address_exits_with_a_clear_message(server):
    p = sendmail(server, ["not an address@"], b"Subject: x\n\nx\n")
    assert p.returncode == SYSEXITS["EX_DATAERR"], (p.returncode, p.stderr)
    assert b'"not an address@" is not a valid address' in p.stderr
    p = sendmail(server, ["-t"], b"To: a@b@c\nSubject: x\n\nx\n")
    assert p.returncode == SYSEXITS["EX_DATAERR"], (p.returncode, p.stderr)


def test_unknown_recipient_exits_67_with_the_servers_reply(server):
    p = sendmail(server, ["nobody@example.test"], b"Subject: x\n\nx\n")
    assert p.returncode == SYSEXITS["EX_NOUSER"], (p.returncode, p.stderr)
    assert re.search(rb"recipient <nobody@example\.test>: 550 5\.1\.1", p.stderr), p.stderr


def test_no_recipients_is_a_usage_error(server):
    p = sendmail(server, [], b"Subject: x\n\nx\n")
    assert p.returncode == SYSEXITS["EX_USAGE"]
    assert b"no recipients" in p.stderr


def test_server_not_running_exits_75(start_server):
    s = start_server(start=False)
    p = sendmail(s, ["alice@example.test"], b"Subject: x\n\nx\n")
    assert p.returncode == SYSEXITS["EX_TEMPFAIL"], (p.returncode, p.stderr)
    assert b"is \"postino serve\" running?" in p.stderr


def test_called_as_sendmail(server, tmp_path):
    link = tmp_path / "sendmail"
    link.symlink_to(BIN)
    p = subprocess.run([str(link), "-C", str(server.conf_path), "-t"], input=MSG,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    server.wait_messages("carol@example.test", 1)


def test_a_user_without_privileges_may_send(server):
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody")
    probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            BIN, "help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        pytest.skip("nobody cannot run %s here" % BIN)
    argv = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN, "sendmail",
            "-C", str(server.conf_path), "alice@example.test"]
    p = subprocess.run(argv, input=b"Subject: from nobody\n\nhi\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    assert p.returncode == 0, p.stderr
    d = parse_delivered(server.wait_messages("alice@example.test", 1)[0])
    assert "from userid 65534 nobody" in d.received, d.received
    assert b"From: " in d.rest and b"nobody@example.test" in d.rest
    # and it still cannot look inside the data folder
    q = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "ls", str(server.data_dir)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    assert q.returncode != 0


def test_local_mail_is_dkim_signed(server):
    p = subprocess.run([BIN, "dkim", "keygen", "-c", str(server.conf_path), "example.test",
                        "--selector", "local1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.returncode == 0, p.stderr
    p = sendmail(server, ["-t"], MSG)
    assert p.returncode == 0, p.stderr
    raw = server.wait_messages("alice@example.test", 1)[0]
    assert re.search(rb"^DKIM-Signature: .*d=example\.test", raw, re.M | re.S), raw[:1500]
    assert b"s=local1" in raw
