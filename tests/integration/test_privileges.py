"""test_privileges - least privilege (issue 6, "Least privilege").

Started as root (the tests run as root in their namespace), `postino
serve` binds its ports and then runs as the user of run_as (postino) for
good; the data folder is that user's and no one else's (0700 folders, 0600
files); a data folder that others may write to, a missing run_as user and
run_as = root are refused; `postino user` run as root writes files the
server can read. Secrets never reach the log: AUTH data, POP3 passwords,
the smarthost password.
"""

import os
import poplib
import pwd
import re
import stat
import subprocess

import pytest

from conftest import BIN, PASSWORD, RUN_AS, Raw, make_message, send_mail
from tlsutil import b64, plain_b64, ssl_client, start_tls_server

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root, as run-integration has")


def proc_ids(pid):
    """proc_ids - ([real, effective, saved, fs uid], [... gid], groups) of pid"""
    status = open("/proc/%d/status" % pid).read()
    uids = [int(x) for x in re.search(r"^Uid:\s+(.*)$", status, re.M).group(1).split()]
    gids = [int(x) for x in re.search(r"^Gid:\s+(.*)$", status, re.M).group(1).split()]
    groups = [int(x) for x in re.search(r"^Groups:\s*(.*)$", status, re.M).group(1).split()]
    return uids, gids, groups


def test_server_runs_as_run_as_user(server):
    pw = pwd.getpwnam(RUN_AS)
    uids, gids, groups = proc_ids(server.pid)
    assert uids == [pw.pw_uid] * 4, "uids %r, want all %d" % (uids, pw.pw_uid)
    assert gids == [pw.pw_gid] * 4
    assert 0 not in groups, "root's groups kept: %r" % groups
    server.wait_log(r"running as user postino \(uid %d, gid %d\)" % (pw.pw_uid, pw.pw_gid))
    # and it still does its work: mail comes in and lands
    send_mail(server, "s@client.example.test", ["alice@example.test"], make_message())
    server.wait_messages("alice@example.test", 1)


def test_data_folder_is_private(start_server):
    s = start_server()
    s.stop()
    (s.data_dir / "queue").mkdir(exist_ok=True)
    s.start()
    # a message that stays queued: carol's Maildir is blocked by a file
    blocker = s.data_dir / "mail" / "example.test" / "carol"
    send_mail(s, "s@client.example.test", ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    blocker.write_text("blocked\n")
    send_mail(s, "s@client.example.test", ["carol@example.test"], make_message())
    s.wait_log(r"to=<carol@example\.test>.*status=deferred")
    pw = pwd.getpwnam(RUN_AS)
    seen = 0
    for root, dirs, files in os.walk(s.data_dir):
        for name in dirs + files:
            p = os.path.join(root, name)
            if p == str(blocker):
                continue
            st = os.lstat(p)
            assert st.st_uid == pw.pw_uid, "%s belongs to uid %d" % (p, st.st_uid)
            # the way to postino sendmail's socket is the one exception
            if p == str(s.data_dir / "public"):
                assert stat.S_IMODE(st.st_mode) == 0o711, "%s has mode %o" % (p, st.st_mode)
            elif p == str(s.data_dir / "public" / "submit"):
                assert stat.S_ISSOCK(st.st_mode)
            else:
                assert not st.st_mode & 0o077, "%s has mode %o" % (p, stat.S_IMODE(st.st_mode))
            seen += 1
    assert seen > 10
    # data_dir itself may be passed through, not read
    assert stat.S_IMODE(os.stat(s.data_dir).st_mode) == 0o711
    queued = [f for f in (s.data_dir / "queue" / "msg").iterdir()]
    assert queued, "nothing queued"


def test_data_folder_writable_by_others_refused(start_server):
    s = start_server(start=False)
    os.chmod(s.data_dir, 0o777)
    s.start(wait=False)
    assert s.proc.wait(10) != 0
    s.expected_exit = True
    assert re.search(r"data_dir .* may be written by every user \(mode 0777\)", s.log())
    os.chmod(s.data_dir, 0o755)
    s.start()


@pytest.mark.parametrize("user,why", [
    ("no-such-user-here", r"run_as: there is no user \"no-such-user-here\""),
    ("root", r"run_as: \"root\" is root; postino does not run as root"),
])
def test_bad_run_as_refused(start_server, user, why):
    s = start_server(start=False, conf={"run_as": user})
    s.start(wait=False)
    assert s.proc.wait(10) != 0
    s.expected_exit = True
    assert re.search(why, s.log()), s.log()[-2000:]


def test_user_cli_as_root_writes_for_the_server(server):
    users = server.data_dir / "users"
    os.chown(users, 0, 0)          # as if root had edited it by hand
    p = subprocess.run([BIN, "user", "add", "-c", str(server.conf_path), "dave@example.test"],
                       input=b"Dave's pw 1\n", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert p.returncode == 0, p.stdout
    st = os.stat(users)
    assert st.st_uid == pwd.getpwnam(RUN_AS).pw_uid
    assert stat.S_IMODE(st.st_mode) == 0o600
    c = ssl_client(server)         # every listener is open once SMTP's is
    c.login("dave@example.test", "Dave's pw 1")
    c.quit()


def test_secrets_never_logged(start_server):
    s = start_tls_server(start_server, conf={"auth_failure_delay": "0s"})
    # SMTP AUTH PLAIN and LOGIN, right and wrong
    c = ssl_client(s)
    c.login("alice@example.test", PASSWORD)
    c.quit()
    c = ssl_client(s)
    c.user, c.password = "bob@example.test", "Wr0ng-b0b-pw"
    try:
        c.auth("LOGIN", c.auth_login)
    except Exception:
        pass
    c.close()
    # POP3 over TLS: USER/PASS right and wrong
    import ssl
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    p = poplib.POP3_SSL(s.host, s.pop3s_port, context=ctx)
    p.user("alice@example.test")
    p.pass_(PASSWORD)
    p.quit()
    p = poplib.POP3_SSL(s.host, s.pop3s_port, context=ctx)
    p.user("carol@example.test")
    with pytest.raises(poplib.error_proto):
        p.pass_("Carol-wr0ng-pw")
    p.close()
    s.wait_log(r"POP3 authentication failed: user=<carol@example\.test>")
    log = s.log()
    for secret in (PASSWORD, "Wr0ng-b0b-pw", "Carol-wr0ng-pw"):
        if secret != PASSWORD:
            assert secret not in log, "%r in the log" % secret
        assert b64(secret) not in log
    assert plain_b64("alice@example.test", PASSWORD) not in log
    # PASSWORD is a common word: no log line says it after a colon or =
    assert not re.search(r"[=:] ?%s\b" % PASSWORD, log)
