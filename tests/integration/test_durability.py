"""test_durability - nothing acknowledged is ever lost (issue 2, sections 4 and 5).

kill -9 of the server while 8 clients send, then a restart on the same
data folder: every message that got its 250 is delivered. A recipient
whose delivery fails is retried after a restart without a second copy for
the recipients already served. A full disk answers 4xx, never 250.
"""

import os
import re
import subprocess
import threading

import pytest

from conftest import (HOSTNAME, Raw, dot_stuff, give_to_server, make_message, parse_delivered,
                      send_mail, smtp_client, to_lf, wait_for)

SENDER = "sender@client.example.test"
MSGID_RE = re.compile(rb"^Message-ID: (<[^>]+>)$", re.M | re.I)


@pytest.mark.timeout(120)
def test_kill_9_loses_no_acknowledged_message(start_server):
    """8 clients send without pause; kill -9 in the middle; restart on the
    same data folder. carol's Maildir is blocked until the restart, so many
    acknowledged messages are still in the queue at the kill (deferred),
    while alice's are being delivered at that very moment."""
    s = start_server()
    blocker = s.data_dir / "mail" / "example.test" / "carol"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("blocked until the restart\n")
    acked, errors = [], []
    lock = threading.Lock()
    stop = threading.Event()
    killed = threading.Event()

    def client(i):
        n = 0
        try:
            with smtp_client(s, timeout=10) as c:
                c.ehlo()
                while not stop.is_set():
                    mid = "<kill9-%d-%d@client.example.test>" % (i, n)
                    n += 1
                    rcpts = (["alice@example.test", "carol@example.test"], ["alice@example.test"],
                             ["carol@example.test"])[n % 3]
                    code, _ = c.mail(SENDER)
                    if code != 250:
                        raise RuntimeError("MAIL: %d" % code)
                    for r in rcpts:
                        code, _ = c.rcpt(r)
                        if code != 250:
                            raise RuntimeError("RCPT: %d" % code)
                    code, resp = c.data(make_message(subject="load %d/%d" % (i, n), msgid=mid))
                    if code == 250:
                        with lock:
                            acked.append((mid, tuple(rcpts)))
                    else:
                        raise RuntimeError("DATA: %d %r" % (code, resp))
        except Exception as e:      # after the kill every client fails; before it none may
            if not killed.is_set():
                with lock:
                    errors.append("client %d: %r" % (i, e))

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 200 or errors, 30, 0.01, "200 acknowledged messages")
    assert not errors, errors
    killed.set()
    s.kill9()
    stop.set()
    for t in threads:
        t.join(15)
    assert not errors, errors
    snapshot = list(acked)
    assert any("carol@example.test" in r for _, r in snapshot)
    print("kill -9 after %d acknowledged messages; %d files delivered before the kill"
          % (len(snapshot), s.count()))

    blocker.unlink()
    s.start()
    want = {}
    for mid, rcpts in snapshot:
        for r in rcpts:
            want.setdefault(r, set()).add(mid.encode())

    def delivered(rcpt):
        got = set()
        for data in s.messages(rcpt):
            m = MSGID_RE.search(data)
            assert m, "delivered file without its Message-ID (torn write?): %r" % data[:400]
            assert data.endswith(b"\nHello.\n"), "truncated message in Maildir: %r" % data[-200:]
            got.add(m.group(1))
        return got

    for rcpt, mids in want.items():
        wait_for(lambda: mids <= delivered(rcpt), 30, 0.1,
                 "%d acknowledged messages for %s after the restart (missing: %s)"
                 % (len(mids), rcpt, sorted(mids - delivered(rcpt))[:10]))


def test_queue_is_empty_once_everything_is_delivered(server):
    ids = [send_mail(server, SENDER, ["alice@example.test", "bob@example.test"],
                     make_message(subject="q%d" % i)) for i in range(3)]
    server.wait_messages("bob@example.test", 3)
    queue = server.data_dir / "queue"
    assert queue.is_dir()

    def left():
        return [str(p) for p in queue.rglob("*") if p.is_file()]
    wait_for(lambda: not left(), 10, 0.05, "an empty queue (left: %s)" % left())
    for qid in ids:
        assert not any(qid in p for p in left())


def test_failed_recipient_retried_without_duplicates(start_server):
    s = start_server()
    blocker = s.data_dir / "mail" / "example.test" / "bob"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    give_to_server(blocker.parent)
    give_to_server(blocker.parent.parent)
    blocker.write_text("not a Maildir: delivery to bob must fail and be retried\n")
    msg = make_message(subject="alice now, bob later")
    qid = send_mail(s, SENDER, ["alice@example.test", "bob@example.test"], msg)
    assert parse_delivered(s.wait_messages("alice@example.test", 1)[0]).rest == to_lf(msg)
    s.wait_log(r"%s: to=<bob@example\.test>.*status=deferred" % re.escape(qid))
    queued = [p for p in (s.data_dir / "queue").rglob("*") if p.is_file()]
    assert queued, "message deferred for bob but nothing under %s" % (s.data_dir / "queue")

    assert s.stop() == 0
    blocker.unlink()
    s.start()
    assert parse_delivered(s.wait_messages("bob@example.test", 1, timeout=20)[0]).rest == to_lf(msg)
    s.wait_log(r"%s: to=<bob@example\.test>.*status=sent" % re.escape(qid))
    s.assert_count_stays("alice@example.test", 1, settle=0.5)


def test_restart_finds_queued_messages(start_server):
    """Messages acknowledged but not yet deliverable survive a clean stop too."""
    s = start_server()
    blocker = s.data_dir / "mail" / "example.test" / "carol"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("blocked\n")
    msgs = [make_message(subject="queued %d" % i) for i in range(5)]
    ids = [send_mail(s, SENDER, ["carol@example.test"], m) for m in msgs]
    for qid in ids:
        s.wait_log(r"%s: to=<carol@example\.test>.*status=deferred" % re.escape(qid))
    assert s.stop() == 0
    blocker.unlink()
    s.start()
    got = sorted(parse_delivered(d).rest for d in s.wait_messages("carol@example.test", 5, timeout=20))
    assert got == sorted(to_lf(m) for m in msgs)


def _mount_tmpfs(path, size):
    if os.environ.get("POSTINO_PRIVATE_MOUNTS") != "1":
        pytest.skip("needs the private mount namespace of scripts/run-integration")
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", str(path)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % p.stdout.decode().strip())


def _fill(path):
    """_fill - write into path until the file system is full."""
    f = path / "filler"
    block = b"\0" * 65536
    try:
        with open(f, "wb") as out:
            while True:
                out.write(block)
                out.flush()
    except OSError:
        pass
    # leave no crumb: small files too
    for i in range(1000):
        try:
            with open(path / ("crumb%d" % i), "wb") as out:
                out.write(b"\0" * 1024)
                out.flush()
        except OSError:
            break


def test_full_disk_answers_4xx_never_250(start_server, tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "8m")
    try:
        s = start_server(data_dir=disk / "data")
        before = make_message(subject="before the disk filled up")
        send_mail(s, SENDER, ["alice@example.test"], before)
        s.wait_messages("alice@example.test", 1)
        # one message stays queued through it all: carol's Maildir is blocked
        blocker = s.data_dir / "mail" / "example.test" / "carol"
        blocker.write_text("blocked\n")
        waiting = make_message(subject="queued while the disk fills up")
        qid = send_mail(s, SENDER, ["carol@example.test"], waiting)
        s.wait_log(r"%s: to=<carol@example\.test>.*status=deferred" % re.escape(qid))

        _fill(disk)
        body = "".join("line %d of a message for a full disk\r\n" % i for i in range(2000))
        msg = make_message(subject="disk full", body=body)
        with Raw(s) as c:
            c.ehlo()
            for cmd in ("MAIL FROM:<%s>" % SENDER, "RCPT TO:<bob@example.test>", "DATA"):
                r = c.cmd(cmd)
                if r.code not in (250, 354):
                    break
            else:
                c.send(dot_stuff(msg))
                r = c.reply()
            assert r.code in (451, 452), "full disk: got %s, want 451 or 452" % r
            c.expect("QUIT", 221)
        for f in disk.iterdir():
            if f.name == "filler" or f.name.startswith("crumb"):
                f.unlink()
        after = make_message(subject="after space came back")
        send_mail(s, SENDER, ["bob@example.test"], after)
        [data] = s.wait_messages("bob@example.test", 1)
        assert parse_delivered(data).rest == to_lf(after)
        assert parse_delivered(s.messages("alice@example.test")[0]).rest == to_lf(before)
        # the message queued before the disk filled up is intact
        assert s.stop() == 0
        blocker.unlink()
        s.start()
        assert parse_delivered(s.wait_messages("carol@example.test", 1)[0]).rest == to_lf(waiting)
        assert s.stop() == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)])


def test_orphan_state_file_removed_at_start(start_server):
    """A kill between the removal of queue/msg/ID and of queue/state/ID
    leaves a state file alone; the next start removes it (and only it)."""
    s = start_server()
    send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    assert s.stop() == 0
    orphan = s.data_dir / "queue" / "state" / "661625BDC6EBB000"
    orphan.write_text("done alice@example.test\n")
    s.start()
    s.wait_log(r"661625BDC6EBB000: removed the state file of a message already delivered")
    assert not orphan.exists()
    assert len(s.messages("alice@example.test")) == 1


def test_half_written_copies_in_tmp_removed_at_start(start_server):
    """A kill during local delivery leaves a copy in Maildir tmp/; the queue
    still has the message, so the next start removes that copy. Files that
    other programs write there (Dovecot's names have no Q) stay."""
    s = start_server()
    send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    assert s.stop() == 0
    tmp = s.data_dir / "mail" / "example.test" / "alice" / "tmp"
    ours = tmp / ("1796000000.M123456P4242Q7.%s,S=120" % HOSTNAME)
    dovecot = tmp / ("1796000000.M123456P4242.%s,S=120,W=123" % HOSTNAME)
    for f in (ours, dovecot):
        f.write_text("half a message\n")
    s.start()
    s.wait_log(r"maildir: removed 1 half-written copies from tmp/")
    assert not ours.exists()
    assert dovecot.exists()


def test_synced_direct_copies_in_tmp_moved_to_new_at_start(start_server):
    """A message delivered at commit time gets its 250 once its copies are
    synced in tmp/; the renames into new/ follow, copy 0 first. A stop in
    between leaves whole copies in tmp/: the next start moves them into new/.
    A stop while the copies were still being written (copy 0 still there,
    the set incomplete, or one cut short) means no 250: they all go."""
    s = start_server()
    send_mail(s, SENDER, ["alice@example.test"], make_message(subject="first"))
    [first] = s.wait_messages("alice@example.test", 1)
    assert s.stop() == 0
    base = s.data_dir / "mail" / "example.test"
    [landed] = [p for p in (base / "alice" / "new").iterdir()]
    assert re.search(r"P\d+D\d+_0_1\.", landed.name), landed.name     # marked direct
    for who in ("bob", "carol"):
        for sub in ("tmp", "new", "cur"):
            (base / who / sub).mkdir(parents=True, exist_ok=True)
            give_to_server(base / who / sub)
        give_to_server(base / who)
    body = b"Return-Path: <a@b.example>\nDelivered-To: x@example.test\nSubject: s\n\nhi\n"

    def copy(who, msg, k, m, size=len(body)):
        name = "1796000000.M12345%dP4242D%d_%d_%d.%s,S=%d,W=%d" % (msg, msg, k, m, HOSTNAME,
                                                                   size, size + 5)
        f = base / who / "tmp" / name
        f.write_bytes(body)
        give_to_server(f)
        return f
    moved = [copy("alice", 1, 0, 1),                     # alone and whole
             copy("bob", 2, 0, 2), copy("carol", 2, 1, 2),  # both whole
             copy("carol", 3, 1, 2)]                      # copy 0 renamed already
    removed = [copy("alice", 4, 0, 1, size=len(body) + 40),     # cut short
               copy("bob", 5, 0, 2),                      # copy 1 never written
               copy("bob", 6, 0, 2), copy("carol", 6, 1, 2, size=len(body) + 1)]
    s.start()
    s.wait_log(r"maildir: moved 4 copies synced before a stop from tmp/ into new/")
    s.wait_log(r"maildir: removed 4 half-written copies from tmp/")
    for f in moved + removed:
        assert not f.exists(), f
    for f in moved:
        assert (f.parent.parent / "new" / f.name).read_bytes() == body
    assert first in s.wait_messages("alice@example.test", 2)
    assert len(s.messages("bob@example.test")) == 1
    assert len(s.messages("carol@example.test")) == 2


def test_cut_short_queue_files_removed_at_start(start_server):
    """The commit writes queue/msg/ID and syncs before the 250; a crash in
    between leaves a file shorter than the length its head gives, or an
    empty one, or a cut head. The next start removes those (never
    acknowledged), keeps what is whole, and sets a damaged file aside."""
    s = start_server()
    blocker = s.data_dir / "mail" / "example.test" / "carol"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("blocked\n")
    msg = make_message(subject="whole and queued")
    qid = send_mail(s, SENDER, ["carol@example.test"], msg)
    s.wait_log(r"%s: to=<carol@example\.test>.*status=deferred" % re.escape(qid))
    assert s.stop() == 0

    qdir = s.data_dir / "queue" / "msg"
    whole = (qdir / qid).read_bytes()
    head, sep, body = whole.partition(b"\n\n")
    assert sep and b"\nlength %d\n" % len(body) in head + b"\n", head
    cut = {
        "0000000000000A01": whole[:-7],                 # body cut short
        "0000000000000A02": b"",                        # created, nothing written
        "0000000000000A03": whole[:len(head) // 2],     # head cut
    }
    for name, data in cut.items():
        (qdir / name).write_bytes(data.replace(qid.encode(), name.encode()))
    damaged = qdir / "0000000000000A04"
    damaged.write_bytes(whole.replace(qid.encode(), b"0000000000000A04")
                        .replace(b"\nsize ", b"\nsize x"))
    blocker.unlink()
    s.start()
    for name in cut:
        s.wait_log(r"%s: removed a queue file cut short" % name)
        assert not (qdir / name).exists()
    s.wait_log(r"0000000000000A04: queue file is damaged")
    assert (s.data_dir / "queue" / "corrupt" / "0000000000000A04").exists()
    assert parse_delivered(s.wait_messages("carol@example.test", 1)[0]).rest == to_lf(msg)
    s.assert_count_stays("carol@example.test", 1, settle=0.5)
