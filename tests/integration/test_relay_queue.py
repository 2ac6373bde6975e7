"""test_relay_queue - the queue of deferred mail and `postino queue` (issue 4).

A peer (aiosmtpd on 127.0.0.2, the MX of far.test) answers 451 for chosen
recipients; retry_intervals is 1h, so nothing is retried on its own while
a test runs: only a restart, `queue flush` or `queue retry ID` make postino
try again. Covered: a message deferred, postino restarted, then `queue
flush` delivers it; `queue list` (text and --json: id, age, size, sender,
each recipient's state and last reply), `queue show ID` (with the header
section), `queue retry ID`, `queue delete ID` (no bounce), and the plain
errors (no such message, a malformed id, no server running).
"""

import json
import re
import time


from conftest import make_message
from relayutil import (ALICE, send_authed, queue_json,
                       wait_queue_empty)

CAROL = "carol@example.test"
MX_ZONE = """
    far.test.       MX 10 mx1.far.test.
    mx1.far.test.   A  127.0.0.2
"""
BUSY = "451 4.3.0 mailbox temporarily busy"


def deferred_env(env, rcpts=("bob@far.test",)):
    """a peer that answers 451 to rcpts, and a postino that retries hourly"""
    env.zone(MX_ZONE)
    peer = env.peer("127.0.0.2", name="mx1.far.test")
    for r in rcpts:
        peer.rules[r] = BUSY
    s = env.start(retry_intervals="1h")
    return peer, s


def wait_deferred(s, qid, rcpt="bob@far.test", count=1):
    s.wait_log(r"%s: to=<%s>, relay=mx1\.far\.test\S*, .*dsn=4\.3\.0, status=deferred \(%s\)"
               % (qid, re.escape(rcpt), re.escape(BUSY)), count=count)


def wait_settled(s, qid):
    """the message is back in the queue, waiting (not under delivery)"""
    def ok():
        ms = [m for m in queue_json(s)["messages"] if m["id"] == qid]
        return ms and not ms[0]["busy"] and ms[0]["next_try"] > 0
    from conftest import wait_for
    wait_for(ok, 10, interval=0.05, what="%s waiting in the queue" % qid)


def test_restart_while_deferred_then_flush_delivers(relay_env):
    env = relay_env
    peer, s = deferred_env(env)
    qid = send_authed(s, ["bob@far.test"], make_message(subject="survives a restart"))
    wait_deferred(s, qid)
    wait_settled(s, qid)
    queue_file = s.data_dir / "queue" / "msg" / qid
    assert queue_file.is_file()

    s.restart()
    # After the restart the message is still there, with its id; any attempt
    # the restart itself makes still meets the 451.
    wait_settled(s, qid)
    time.sleep(0.5)
    wait_settled(s, qid)
    [m] = queue_json(s)["messages"]
    assert m["id"] == qid and m["sender"] == ALICE, m
    [r] = m["recipients"]
    assert r["address"] == "bob@far.test" and r["state"] == "pending" and r["remote"] is True, r
    assert peer.transactions == []

    # The peer is fine now; with retry_intervals 1h nothing happens by itself...
    del peer.rules["bob@far.test"]
    before = len(peer.rcpt_log)
    time.sleep(1.0)
    assert len(peer.rcpt_log) == before and peer.transactions == [], \
        "a retry happened without flush (retry_intervals 1h)"
    # ...until flush.
    p = s.cli("queue", "flush")
    assert p.returncode == 0, p.stderr
    assert re.match(rb"1 message\(s\) will be tried now\n\Z", p.stdout), p.stdout
    [t] = peer.wait_transactions(1, timeout=5)
    assert t.rcpts == ["bob@far.test"] and t.message()["Subject"] == "survives a restart"
    s.wait_log(r"%s: to=<bob@far\.test>, .*status=sent" % qid)
    s.wait_log(r"control: flush: 1 message")
    wait_queue_empty(s)
    assert not queue_file.exists()
    assert s.count(ALICE) == 0, "a notice for a message that was delivered"


def test_queue_list_text_and_json(relay_env):
    env = relay_env
    peer, s = deferred_env(env, rcpts=("bob@far.test", "ann@far.test"))
    msg = make_message(subject="listed", frm=ALICE, to="bob@far.test")
    qid = send_authed(s, [CAROL, "bob@far.test", "ann@far.test"], msg)
    s.wait_messages(CAROL, 1)
    wait_deferred(s, qid, "bob@far.test")
    wait_deferred(s, qid, "ann@far.test")
    wait_settled(s, qid)

    p = s.cli("queue", "list", "--json")
    assert p.returncode == 0, p.stderr
    top = json.loads(p.stdout)
    [m] = top["messages"]
    assert m["id"] == qid and m["sender"] == ALICE
    assert m["size"] >= len(msg) and m["age"] >= 0 and m["busy"] is False, m
    assert m["attempts"] >= 1, m
    assert m["next_try"] >= m["arrival"] + 3000, "next try not an hour on: %r" % m
    rc = {r["address"]: r for r in m["recipients"]}
    assert set(rc) == {CAROL, "bob@far.test", "ann@far.test"}, rc
    assert rc[CAROL]["state"] == "delivered" and rc[CAROL]["remote"] is False, rc[CAROL]
    for a in ("bob@far.test", "ann@far.test"):
        assert rc[a]["state"] == "pending" and rc[a]["remote"] is True, rc[a]
        assert BUSY in rc[a]["last_error"], rc[a]

    p = s.cli("queue", "list")
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    lines = out.splitlines()
    assert re.match(r"ID\s+AGE\s+SIZE\s+SENDER / RECIPIENTS$", lines[0]), out
    assert re.search(r"^%s\s+\d+[smhd]\s+%d\s+%s\s+\(\d+ attempts?, next try in (59m|1h)\)$"
                     % (qid, m["size"], re.escape(ALICE)), out, re.M), out
    assert re.search(r"^\s+pending\s+bob@far\.test \(remote\)\n\s+\(%s\)$" % re.escape(BUSY),
                     out, re.M), out
    assert re.search(r"^\s+pending\s+ann@far\.test \(remote\)$", out, re.M), out
    assert re.search(r"^\s+delivered\s+carol@example\.test$", out, re.M), out
    assert lines[-1] == "-- 1 message, %d octets in total" % m["size"], out


def test_queue_show(relay_env):
    env = relay_env
    peer, s = deferred_env(env)
    msg = make_message(subject="show me", frm=ALICE, to="bob@far.test",
                       extra_headers=["X-Queue-Test: shown"])
    qid = send_authed(s, ["bob@far.test"], msg)
    wait_deferred(s, qid)
    wait_settled(s, qid)
    p = s.cli("queue", "show", qid)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode()
    assert re.search(r"^%s\s" % qid, out, re.M), out
    assert "pending    bob@far.test (remote)" in out, out
    assert "Subject: show me\n" in out and "X-Queue-Test: shown\n" in out, out
    assert "Hello." not in out, "the body is shown: %s" % out
    pj = s.cli("queue", "show", qid, "--json")
    assert pj.returncode == 0
    j = json.loads(pj.stdout)
    assert j["id"] == qid and "Subject: show me" in j["headers"], j


def test_queue_retry_id(relay_env):
    env = relay_env
    peer, s = deferred_env(env)
    qid = send_authed(s, ["bob@far.test"], make_message(subject="retry me"))
    wait_deferred(s, qid)
    wait_settled(s, qid)
    # Still refused: a retry is one more attempt, deferred again.
    p = s.cli("queue", "retry", qid)
    assert p.returncode == 0 and p.stdout.decode() == "%s: will be tried now\n" % qid, (p.stdout, p.stderr)
    wait_deferred(s, qid, count=2)
    assert peer.rcpts_seen("bob@far.test") == ["bob@far.test"] * 2
    wait_settled(s, qid)
    # Accepted now.
    del peer.rules["bob@far.test"]
    p = s.cli("queue", "retry", qid)
    assert p.returncode == 0, p.stderr
    [t] = peer.wait_transactions(1, timeout=5)
    assert t.message()["Subject"] == "retry me"
    s.wait_log(r"%s: to=<bob@far\.test>, .*status=sent" % qid)
    wait_queue_empty(s)
    p = s.cli("queue", "list")
    assert p.returncode == 0 and p.stdout == b"Mail queue is empty\n", p.stdout
    # The message is gone: retrying it is an error in plain words.
    p = s.cli("queue", "retry", qid)
    assert p.returncode == 1 and p.stdout == b"", p.stdout
    assert b"no such message: " + qid.encode() in p.stderr, p.stderr


def test_queue_delete_id(relay_env):
    env = relay_env
    peer, s = deferred_env(env)
    qid = send_authed(s, ["bob@far.test"], make_message(subject="delete me"))
    keep = send_authed(s, ["ann@far.test"], make_message(subject="keep me"))
    wait_deferred(s, qid)
    s.wait_log(r"%s: to=<ann@far\.test>, .*status=sent" % keep)
    wait_settled(s, qid)
    p = s.cli("queue", "delete", qid)
    assert p.returncode == 0 and p.stdout.decode() == "%s: deleted from the queue\n" % qid, \
        (p.stdout, p.stderr)
    s.wait_log(r"%s: removed \(deleted by the administrator\)" % qid)
    wait_queue_empty(s)
    assert not (s.data_dir / "queue" / "msg" / qid).exists()
    p = s.cli("queue", "show", qid)
    assert p.returncode == 1 and b"no such message" in p.stderr, (p.stdout, p.stderr)
    # Deleting is not a failure to deliver: no bounce; and no more attempts.
    s.wait_marker(CAROL)
    assert s.count(ALICE) == 0
    del peer.rules["bob@far.test"]
    s.cli("queue", "flush")
    time.sleep(0.5)
    assert peer.rcpts_seen("bob@far.test") == ["bob@far.test"], peer.rcpt_log
    assert [t.rcpts for t in peer.transactions] == [["ann@far.test"]]


def test_queue_errors(start_server):
    s = start_server(start=False)
    p = s.cli("queue", "list")
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    err = p.stderr.decode()
    assert err == "postino queue: the server is not running: no control socket at %s\n" \
        % (s.data_dir / "control"), err
    s.start()
    for args in (["show", "nothex!"], ["retry", "abc"], ["delete"], ["frobnicate"]):
        p = s.cli("queue", *args)
        assert p.returncode == 2 and p.stdout == b"", (args, p.returncode, p.stdout, p.stderr)
        assert p.stderr.strip(), args
    p = s.cli("queue", "show", "0123456789ABCDEF")
    assert p.returncode == 1 and p.stderr == b"postino queue: no such message: 0123456789ABCDEF\n", \
        p.stderr
    p = s.cli("queue", "list", "--json")
    assert p.returncode == 0 and json.loads(p.stdout) == {"messages": []}, p.stdout
