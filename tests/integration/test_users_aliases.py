"""test_users_aliases - who is a valid recipient (issue 2, sections 2 and 3).

`postino user add/passwd/del/list` against a running server (which sees
the changes without a restart), the users file format, unknown users 550
5.1.1, plus-addressing, case-insensitive local parts, and aliases: lists,
targets without "@", chains, the catch-all "@domain", loops refused.
"""

import os
import pty
import re
import select
import subprocess
import time

from conftest import (BIN, Raw, make_message, parse_delivered, run_postino, send_mail, to_lf,
                      wait_for)

SENDER = "sender@client.example.test"


def rcpt_reply(server, addr):
    with Raw(server) as c:
        c.ehlo()
        c.expect("MAIL FROM:<%s>" % SENDER, 250)
        return c.cmd("RCPT TO:<%s>" % addr)


def wait_rcpt(server, addr, code, timeout=10):
    last = []

    def ok():
        r = rcpt_reply(server, addr)
        last[:] = [r]
        return r.code == code
    wait_for(ok, timeout, 0.1, "RCPT TO:<%s> to get %d (last reply: %s)" % (addr, code, last))


def users_file(server):
    return (server.data_dir / "users").read_text()


def listed(server):
    p = server.cli("user", "list")
    assert p.returncode == 0, p.stderr
    return sorted(l for l in p.stdout.decode().splitlines() if l.strip())


def test_unknown_user_550(server):
    r = rcpt_reply(server, "nobody@example.test")
    assert r.code == 550 and r.enhanced() == "5.1.1", r
    r = rcpt_reply(server, "nobody@other.test")
    assert r.code == 550 and r.enhanced() == "5.1.1", r


def test_user_add_passwd_del_list_seen_by_running_server(start_server):
    s = start_server(users=())
    erin = "erin@example.test"
    r = rcpt_reply(s, erin)
    assert r.code == 550 and r.enhanced() == "5.1.1", r

    p = s.cli("user", "add", erin, input=b"first password\n")
    assert p.returncode == 0, p.stderr
    m = re.search(r"^erin@example\.test:(\S+)$", users_file(s), re.M)
    assert m, "users file: %r" % users_file(s)
    first_hash = m.group(1)
    assert first_hash.startswith("$y$"), "want a yescrypt hash, got %r" % first_hash
    assert "first password" not in users_file(s)
    wait_rcpt(s, erin, 250)
    msg = make_message(subject="to a new user", to=erin)
    send_mail(s, SENDER, [erin], msg)
    assert parse_delivered(s.wait_messages(erin, 1)[0]).rest == to_lf(msg)

    p = s.cli("user", "add", "frank@other.test", input=b"another\n")
    assert p.returncode == 0, p.stderr
    assert listed(s) == ["erin@example.test", "frank@other.test"]
    wait_rcpt(s, "frank@other.test", 250)

    p = s.cli("user", "passwd", erin, input=b"second password\n")
    assert p.returncode == 0, p.stderr
    m = re.search(r"^erin@example\.test:(\S+)$", users_file(s), re.M)
    assert m and m.group(1) != first_hash and m.group(1).startswith("$y$"), users_file(s)
    assert rcpt_reply(s, erin).code == 250

    p = s.cli("user", "del", erin)
    assert p.returncode == 0, p.stderr
    assert listed(s) == ["frank@other.test"]
    assert "erin@" not in users_file(s)
    wait_rcpt(s, erin, 550)
    assert rcpt_reply(s, "frank@other.test").code == 250


def run_on_tty(args, answers, timeout=20):
    """run_on_tty - run postino with a terminal as stdin; each time it
    prompts (prints something and waits), type the next answer.
    Returns (exit status, everything it printed on the terminal)."""
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN] + args, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out = b""
    answers = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.3)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:         # EIO: the program closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
                continue
            if p.poll() is not None:
                break
            if answers and out:         # quiet and waiting after a prompt: answer it
                os.write(master, answers.pop(0).encode() + b"\n")
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    return rc, out.decode("utf-8", "replace")


def test_user_add_on_a_terminal_asks_twice(start_server):
    s = start_server(start=False, users=())
    conf = ["-c", str(s.conf_path)]
    rc, out = run_on_tty(["user", "add", "ivy@example.test"] + conf, ["tty secret", "tty secret"])
    assert rc == 0, out
    assert "tty secret" not in out, "the password was echoed: %r" % out
    assert listed(s) == ["ivy@example.test"]
    rc, out = run_on_tty(["user", "add", "joe@example.test"] + conf, ["one thing", "another"])
    assert rc != 0, "passwords that differ were accepted: %r" % out
    assert listed(s) == ["ivy@example.test"]


def test_user_commands_refuse_nonsense(start_server):
    s = start_server(start=False, users=("alice@example.test",))
    p = s.cli("user", "add", "alice@example.test", input=b"pw\n")
    assert p.returncode != 0, "adding an existing user succeeded"
    p = s.cli("user", "passwd", "ghost@example.test", input=b"pw\n")
    assert p.returncode != 0, "passwd of a missing user succeeded"
    p = s.cli("user", "del", "ghost@example.test")
    assert p.returncode != 0, "del of a missing user succeeded"
    p = s.cli("user", "add", "not an address", input=b"pw\n")
    assert p.returncode != 0, "added a user that is not an address"
    assert listed(s) == ["alice@example.test"]


def test_user_verb_options_anywhere(start_server):
    """GNU style: -c and -o may come between and after the verb's words."""
    s = start_server(start=False, users=())
    conf = str(s.conf_path)
    p = run_postino(["user", "add", "-c", conf, "gina@example.test"], input=b"pw\n")
    assert p.returncode == 0, p.stderr
    p = run_postino(["user", "add", "hal@example.test", "-c", conf], input=b"pw\n")
    assert p.returncode == 0, p.stderr
    assert listed(s) == ["gina@example.test", "hal@example.test"]
    other = s.workdir / "other-data"
    other.mkdir()
    p = run_postino(["user", "list", "-c", conf, "-o", "data_dir=%s" % other])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == b"", "-o data_dir= was not applied: %r" % p.stdout


def test_plus_addressing_delivers_to_the_user(server):
    m1 = make_message(subject="plus tag", to="alice+news@example.test")
    m2 = make_message(subject="plus tag, capitals", to="Alice+Tag@Example.Test")
    send_mail(server, SENDER, ["alice+news@example.test"], m1)
    send_mail(server, SENDER, ["Alice+Tag@Example.Test"], m2)
    got = sorted(parse_delivered(d).rest for d in server.wait_messages("alice@example.test", 2))
    assert got == sorted([to_lf(m1), to_lf(m2)])
    r = rcpt_reply(server, "nobody+tag@example.test")
    assert r.code == 550 and r.enhanced() == "5.1.1", r
    mail = server.data_dir / "mail" / "example.test"
    assert sorted(p.name for p in mail.iterdir()) == ["alice"], "extra Maildirs: %s" % list(mail.iterdir())


def test_local_parts_match_without_case(server):
    for rcpt in ("ALICE@example.test", "Alice@EXAMPLE.TEST", "aLiCe@Example.Test"):
        send_mail(server, SENDER, [rcpt], make_message(subject="case " + rcpt, to=rcpt))
    server.wait_messages("alice@example.test", 3)
    mail = server.data_dir / "mail"
    assert [p.name for p in mail.iterdir()] == ["example.test"]
    assert [p.name for p in (mail / "example.test").iterdir()] == ["alice"]


ALIASES = """# aliases for the tests
sales@example.test: alice, bob@example.test
team@example.test: sales, carol
@other.test: carol@example.test

loop1@example.test: loop2
loop2@example.test: loop1
self@example.test: self@example.test
"""


def test_alias_list_and_target_without_at(start_server):
    s = start_server(aliases=ALIASES)
    msg = make_message(subject="to sales", to="sales@example.test")
    send_mail(s, SENDER, ["sales@example.test"], msg)
    for r in ("alice@example.test", "bob@example.test"):
        assert parse_delivered(s.wait_messages(r, 1)[0]).rest == to_lf(msg)
    send_mail(s, SENDER, ["SALES@Example.Test"], make_message(subject="to SALES"))
    s.wait_messages("alice@example.test", 2)
    s.wait_messages("bob@example.test", 2)
    s.assert_count_stays("carol@example.test", 0, settle=0.2)


def test_alias_chain(start_server):
    s = start_server(aliases=ALIASES)
    msg = make_message(subject="to team", to="team@example.test")
    send_mail(s, SENDER, ["team@example.test"], msg)
    for r in ("alice@example.test", "bob@example.test", "carol@example.test"):
        assert parse_delivered(s.wait_messages(r, 1)[0]).rest == to_lf(msg)


def test_catch_all_alias(start_server):
    s = start_server(aliases=ALIASES)
    msg = make_message(subject="to anyone at other.test", to="whoever@other.test")
    send_mail(s, SENDER, ["whoever@other.test"], msg)
    send_mail(s, SENDER, ["Someone.Else@other.test"], make_message(subject="second"))
    assert parse_delivered(s.wait_messages("carol@example.test", 2)[0]).rest == to_lf(msg)
    # the catch-all is for other.test only
    r = rcpt_reply(s, "whoever@example.test")
    assert r.code == 550 and r.enhanced() == "5.1.1", r


def test_alias_loops_refused_not_followed(start_server):
    s = start_server(aliases=ALIASES)
    for addr in ("loop1@example.test", "loop2@example.test", "self@example.test"):
        r = rcpt_reply(s, addr)
        assert r.code // 100 == 5, "RCPT TO:<%s> in an alias loop: got %s, want 5xx" % (addr, r)
    # the rest of the file still works
    send_mail(s, SENDER, ["sales@example.test"], make_message(subject="after loops"))
    s.wait_messages("alice@example.test", 1)
    s.wait_messages("bob@example.test", 1)
    s.assert_count_stays(None, 2, settle=0.3)


def test_aliases_file_key(start_server, tmp_path):
    path = tmp_path / "elsewhere-aliases"
    s = start_server(conf={"aliases_file": str(path)}, aliases="info@example.test: carol\n")
    assert path.exists() and not (s.data_dir / "aliases").exists()
    msg = make_message(subject="to info", to="info@example.test")
    send_mail(s, SENDER, ["info@example.test"], msg)
    assert parse_delivered(s.wait_messages("carol@example.test", 1)[0]).rest == to_lf(msg)
