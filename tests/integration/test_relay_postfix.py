"""test_relay_postfix - postino -> a real Postfix -> postino (issue 4).

Debian's Postfix, unpacked with dpkg -x (never installed: it would replace
the system MTA), configured and started by the test on 127.0.0.4 on the
shared smtp_port, as the MX of pf.test (in-test DNS). It delivers
keep@pf.test into a Maildir of its own (the virtual delivery agent), and
sends mail for example.test back to postino's SMTP port on 127.0.0.1
(transport_maps); it offers STARTTLS, PIPELINING, DSN, SMTPUTF8.

  echo@pf.test  a virtual alias: keep@pf.test and bob@example.test, so one
                message goes postino -> Postfix -> Postfix's Maildir and
                back -> postino -> bob's Maildir
  lost@pf.test  a virtual alias to an address Postfix cannot deliver: Postfix
                accepts, then bounces to alice@example.test through postino
  anything else at pf.test: refused by Postfix at RCPT (550 5.1.1), so
                postino bounces to alice itself

Where the unpacked Postfix is: $POSTINO_POSTFIX_ROOT, else
/var/cache/postino-tests/postfix/root (scripts/install-deps puts it there),
else /var/cache/smtp-anchors/root/postfix (the benchmark's). When none is
there but a postfix .deb is at hand (those folders' pkg/, apt's archive
cache) the test unpacks it; it cannot download one (the tests run in a
network namespace with only loopback), and then skips saying so.
"""

import glob
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from conftest import make_message, parse_delivered, wait_for, is_listening
from relayutil import ALICE, BOB, DSN, return_path, send_authed, wait_queue_empty
from tlsutil import make_cert

PF_IP = "127.0.0.4"
PF_NAME = "mx.pf.test"
CACHE = "/var/cache/postino-tests/postfix"
ROOTS = [os.environ.get("POSTINO_POSTFIX_ROOT"), CACHE + "/root",
         "/var/cache/smtp-anchors/root/postfix"]
DEBS = [CACHE + "/pkg/postfix_*.deb", "/var/cache/smtp-anchors/pkg/postfix/postfix_*.deb",
        "/var/cache/apt/archives/postfix_*.deb"]
INSTALL_HINT = "run scripts/install-deps (as root, with network) to fetch and unpack it"


def _is_postfix_root(r):
    return bool(r) and os.path.isfile(os.path.join(r, "usr/sbin/postfix")) and \
        os.path.isfile(os.path.join(r, "usr/lib/postfix/sbin/master"))


def _real_root():
    """root with the whole uid range (not the mapped root of a user namespace,
    which cannot switch to the postfix user)"""
    if os.geteuid() != 0:
        return False
    try:
        with open("/proc/self/uid_map") as f:
            first = f.read().split()
        return first[:3] == ["0", "0", "4294967295"]
    except OSError:
        return True


def find_postfix():
    """the unpacked Postfix tree, unpacking a .deb at hand if need be; or skip"""
    if not _real_root():
        pytest.skip("Postfix's master must run as real root to switch to its postfix user; "
                    "this run is not root (or a user namespace's mapped root)")
    for r in ROOTS:
        if _is_postfix_root(r):
            root = r
            break
    else:
        debs = sorted(d for pat in DEBS for d in glob.glob(pat))
        if not debs:
            pytest.skip("no unpacked Postfix (looked in %s) and no postfix .deb to unpack "
                        "(looked for %s); the tests run without network, so they cannot "
                        "download it: %s" % (", ".join(r for r in ROOTS if r), ", ".join(DEBS),
                                             INSTALL_HINT))
        root = CACHE + "/root"
        tmp = root + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        subprocess.run(["dpkg-deb", "-x", debs[-1], tmp], check=True, timeout=120)
        os.rename(tmp, root)
    for what, look in (("user postfix", lambda: pwd.getpwnam("postfix")),
                       ("group postdrop", lambda: grp.getgrnam("postdrop"))):
        try:
            look()
        except KeyError:
            pytest.skip("Postfix needs the system %s, which does not exist: %s" % (what, INSTALL_HINT))
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, "usr/lib/postfix"))
    p = subprocess.run([os.path.join(root, "usr/sbin/postconf"), "-d", "mail_version"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    if p.returncode != 0:
        pytest.skip("the unpacked Postfix in %s does not run (%s): %s"
                    % (root, p.stderr.decode(errors="replace").strip()[:300], INSTALL_HINT))
    return root


class Postfix:
    """One Postfix instance in a folder of its own, run with start-fg."""

    def __init__(self, root, port, postino_port):
        self.root = root
        self.port = port
        # Postfix's daemons run as the postfix user: the folder must be
        # reachable for it (pytest's tmp folders are 0700 root).
        self.dir = tempfile.mkdtemp(prefix="postino-postfix-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        d = self.dir
        self.etc, self.spool = d + "/etc", d + "/spool"
        self.data, self.maildir_base = d + "/data", d + "/maildir"
        self.maillog = d + "/maillog"
        for p in (self.etc, self.spool, self.data, self.maildir_base):
            os.makedirs(p)
        pf = pwd.getpwnam("postfix")
        os.chown(self.data, pf.pw_uid, pf.pw_gid)
        try:
            vm = pwd.getpwnam("vmail")
        except KeyError:
            vm = pwd.getpwnam("nobody")
        os.chown(self.maildir_base, vm.pw_uid, vm.pw_gid)
        shutil.copy(os.path.join(root, "etc/postfix/postfix-files"), self.etc)
        open(self.etc + "/dynamicmaps.cf", "w").close()
        cert, key = make_cert(self.etc, PF_NAME, name="postfix")
        with open(self.etc + "/vmailbox", "w") as f:
            f.write("keep@pf.test keep/\n")
        with open(self.etc + "/virtual", "w") as f:
            f.write("echo@pf.test keep@pf.test, bob@example.test\n"
                    "lost@pf.test someone@unreachable.test\n")
        with open(self.etc + "/transport", "w") as f:
            f.write("example.test smtp:[127.0.0.1]:%d\n" % postino_port)
        lib = os.path.join(root, "usr/lib/postfix")
        # inet_interfaces must name addresses of an interface (127.0.0.4 is
        # only routed to lo, not an address of it): loopback-only, while
        # master.cf binds smtpd to 127.0.0.4 by name.
        main = """\
compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
daemon_directory = {lib}/sbin
command_directory = {root}/usr/sbin
shlib_directory = {lib}
meta_directory = {etc}
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C LD_LIBRARY_PATH
maillog_file = {maillog}
maillog_file_prefixes = {dir}
mail_owner = postfix
setgid_group = postdrop
myhostname = {name}
mydomain = pf.test
myorigin = pf.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
biff = no
alias_maps =
alias_database =
virtual_mailbox_domains = pf.test
virtual_mailbox_base = {maildirs}
virtual_mailbox_maps = texthash:{etc}/vmailbox
virtual_alias_maps = texthash:{etc}/virtual
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
transport_maps = texthash:{etc}/transport
default_transport = error:5.1.2 this test Postfix delivers nowhere else
relay_transport = error:5.1.2 this test Postfix relays nowhere else
""".format(dir=d, spool=self.spool, data=self.data, lib=lib, root=root, etc=self.etc,
           maillog=self.maillog, name=PF_NAME, cert=cert, key=key,
           maildirs=self.maildir_base, uid=vm.pw_uid, gid=vm.pw_gid)
        with open(self.etc + "/main.cf", "w") as f:
            f.write(main)
        master = """\
{ip}:{port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
""".format(ip=PF_IP, port=port)
        with open(self.etc + "/master.cf", "w") as f:
            f.write(master)
        self.env = dict(os.environ, LD_LIBRARY_PATH=lib)
        self.proc = None

    def run_tty(self, *args):
        """a postfix command with its stderr on a terminal (Postfix commands
        print their errors only there, else only to the log); (status, text)"""
        import pty
        master, slave = pty.openpty()
        p = subprocess.Popen([os.path.join(self.root, "usr/sbin/postfix"), "-c", self.etc] + list(args),
                             stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=self.env)
        os.close(slave)
        chunks = []
        while True:
            try:
                b = os.read(master, 65536)
            except OSError:
                break
            if not b:
                break
            chunks.append(b)
        os.close(master)
        return p.wait(30), b"".join(chunks).decode("utf-8", "replace")

    def start(self):
        # "postfix check" makes the queue folders; then the master itself, in
        # the foreground (-d) and in a session of its own, so that its pid is
        # the one we hold and SIGTERM to it ends its children too. ("postfix
        # start-fg" would leave a shell between us and the master.)
        rc, text = self.run_tty("check")
        if rc != 0 or "fatal" in text:
            pytest.fail("postfix check failed (%s):\n%s" % (rc, text))
        self.out = open(self.dir + "/master.out", "wb")
        self.proc = subprocess.Popen([os.path.join(self.root, "usr/lib/postfix/sbin/master"),
                                      "-c", self.etc, "-d"], stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        deadline = time.monotonic() + 30
        while not is_listening(PF_IP, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail("Postfix did not start (status %s):\n%s\n%s"
                            % (self.proc.returncode, self.output(), self.log()[-3000:]))
            time.sleep(0.05)
        return self

    def stop(self):
        """stop the master we started, by its pid; it ends its children"""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            # the children go when the master does; wait until none is left
            # in its process group (its pid), so the folder can be removed
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.killpg(self.proc.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
        if getattr(self, "out", None):
            self.out.close()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def output(self):
        try:
            with open(self.dir + "/master.out", "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log(self):
        try:
            with open(self.maillog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def messages(self, user="keep"):
        out = []
        for sub in ("new", "cur"):
            for p in sorted(glob.glob(os.path.join(self.maildir_base, user, sub, "*"))):
                with open(p, "rb") as f:
                    out.append(f.read())
        return out

    def wait_messages(self, n, user="keep", timeout=15):
        wait_for(lambda: len(self.messages(user)) >= n, timeout, interval=0.05,
                 what="%d message(s) in Postfix's Maildir of %s; its log:\n%s"
                 % (n, user, self.log()[-3000:]))
        return self.messages(user)

    def wait_log(self, pattern, timeout=15):
        rx = re.compile(pattern, re.M)
        wait_for(lambda: rx.search(self.log()), timeout, interval=0.05,
                 what="Postfix log line %r; log:\n%s" % (pattern, self.log()[-3000:]))
        return rx.search(self.log())


@pytest.fixture
def postfix_world(relay_env):
    """postino (smtp_port = Postfix's port) and Postfix, the MX of pf.test"""
    root = find_postfix()
    env = relay_env
    env.zone("""
        pf.test.       MX 10 mx.pf.test.
        mx.pf.test.    A  %s
    """ % PF_IP)
    s = env.start()
    pf = Postfix(root, env.port, s.port)
    try:
        pf.start()
        yield env, s, pf
    finally:
        pf.stop()
        pf.cleanup()


def test_round_trip_postino_postfix_postino(postfix_world):
    env, s, pf = postfix_world
    msg = make_message(subject="there and back again", frm=ALICE, to="echo@pf.test",
                       body="Round trip body line.\r\n")
    qid = send_authed(s, ["echo@pf.test"], msg)

    # Postfix delivered its copy into its Maildir.
    [there] = pf.wait_messages(1)
    text = there.decode("utf-8", "replace")
    assert "Subject: there and back again" in text and "Round trip body line." in text, text
    assert re.search(r"^Received: from mx\.example\.test \(\S* ?\[127\.0\.0\.1\]\)", text, re.M), text
    assert re.search(r"^Return-Path: <alice@example\.test>", text, re.M), text
    # Postfix's Received: says the hop was encrypted
    assert re.search(r"\(using TLSv1\.[23] with cipher \S+", text), text

    # postino logged the delivery to Postfix, over TLS.
    s.wait_log(r"%s: to=<echo@pf\.test>, relay=mx\.pf\.test\S*, .*dsn=2\.0\.0, status=sent \(250 2\.0\.0 "
               % qid)
    s.wait_log(r"%s: relay=mx\.pf\.test\[%s\]:%d, tls=TLSv1\.[23] with cipher" % (qid, re.escape(PF_IP),
                                                                                  env.port))
    pf.wait_log(r"postfix/smtpd\[\d+\]: Anonymous TLS connection established from "
                r"\S*\[127\.0\.0\.1\]")

    # And back: Postfix sent bob's copy to postino, which put it in bob's Maildir.
    [back] = s.wait_messages(BOB, 1, timeout=15)
    d = parse_delivered(back)
    assert d.return_path == "Return-Path: <alice@example.test>", d.return_path
    assert d.delivered_to == "Delivered-To: bob@example.test", d.delivered_to
    assert "from %s" % PF_NAME in d.received and "[127.0.0.1]" in d.received, d.received
    rest = d.rest.decode("utf-8", "replace")
    assert "Subject: there and back again" in rest and "Round trip body line." in rest, rest
    # the trace shows both hops: postino's own submission, then Postfix's
    assert re.search(r"^Received: from mx\.example\.test", rest, re.M), rest
    pf.wait_log(r"to=<bob@example\.test>, orig_to=<echo@pf\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d"
                r".*status=sent" % s.port)
    wait_queue_empty(s)
    assert s.count(ALICE) == 0, "a notice to alice for a delivered message"


def test_postfix_refuses_unknown_user_postino_bounces(postfix_world):
    env, s, pf = postfix_world
    msg = make_message(subject="to nobody at Postfix", frm=ALICE, to="nobody@pf.test")
    qid = send_authed(s, ["nobody@pf.test", "keep@pf.test"], msg)
    [dsn_raw] = s.wait_messages(ALICE, 1, timeout=15)
    assert return_path(dsn_raw) == "<>"
    dsn = DSN(dsn_raw)
    assert len(dsn.rcpts) == 1
    b = dsn.rcpt("nobody@pf.test")
    assert b["Action"].strip() == "failed" and b["Status"].strip() == "5.1.1", str(b)
    assert b["Remote-MTA"].replace(" ", "").lower() == "dns;mx.pf.test", str(b)
    diag = " ".join(b["Diagnostic-Code"].split())
    assert re.search(r"550 5\.1\.1 <nobody@pf\.test>: Recipient address rejected", diag), diag
    assert "Subject: to nobody at Postfix" in dsn.original
    # keep@pf.test got it, in the same transaction
    [kept] = pf.wait_messages(1)
    assert b"Subject: to nobody at Postfix" in kept
    s.wait_log(r"%s: to=<nobody@pf\.test>, relay=mx\.pf\.test\S*, .*dsn=5\.1\.1, status=bounced" % qid)
    s.wait_log(r"%s: to=<keep@pf\.test>, relay=mx\.pf\.test\S*, .*status=sent" % qid)


def test_postfix_bounce_comes_back_to_postino(postfix_world):
    """Postfix accepts lost@pf.test, cannot deliver it (an alias to nowhere)
    and bounces from <> to alice@example.test, through postino."""
    env, s, pf = postfix_world
    msg = make_message(subject="lost in Postfix", frm=ALICE, to="lost@pf.test")
    qid = send_authed(s, ["lost@pf.test"], msg)
    s.wait_log(r"%s: to=<lost@pf\.test>, relay=mx\.pf\.test\S*, .*status=sent" % qid)
    [raw] = s.wait_messages(ALICE, 1, timeout=20)
    d = parse_delivered(raw)
    assert d.return_path == "Return-Path: <>", d.return_path
    assert "from %s" % PF_NAME in d.received, d.received
    dsn = DSN(raw)
    assert dsn.fields["Reporting-MTA"].replace(" ", "").lower() == "dns;mx.pf.test", str(dsn.fields)
    b = dsn.rcpts[0]
    assert b["Action"].strip() == "failed" and b["Status"].strip().startswith("5."), str(b)
    assert "someone@unreachable.test" in b["Final-Recipient"], str(b)
    orig = dsn.original if isinstance(dsn.original, str) else dsn.original.as_string()
    assert "lost in Postfix" in orig, orig
    pf.wait_log(r"to=<alice@example\.test>, relay=127\.0\.0\.1\[127\.0\.0\.1\]:%d.*status=sent" % s.port)
    wait_queue_empty(s)
