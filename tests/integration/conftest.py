"""conftest - start real `postino serve` processes for the integration tests.

Every test gets servers of its own: a temporary folder with a configuration
file, a data folder and the server's stderr (its log), SMTP on a free
loopback port. At teardown each server still running is stopped with
SIGTERM and must exit 0; a sanitizer report in its stderr (AddressSanitizer,
LeakSanitizer, UndefinedBehaviorSanitizer "runtime error:") fails the test.

The binary is $POSTINO_BIN (scripts/run-integration sets it), by default
build/postino-san of this repository.

Fixtures:
  start_server(**kw) -> Server   factory; see Server.__init__ for options
  server                         a started server with the default setup
  relay_env                      DNS, peers and postino for outbound delivery (relayutil.py)
  cli                            run a postino verb (not bound to a server)

Helpers (import them from conftest in the test files):
  Raw            a raw-socket SMTP client that reads replies one by one
  smtp_client    an smtplib.SMTP connected to a server
  send_mail      send one message with smtplib, return its queue id
  make_message   a small RFC 5322 message with CRLF line ends
  parse_delivered  split a Maildir file into the added headers and the rest
"""

import atexit
import email.utils
import os
import pathlib
import re
import resource
import signal
import smtplib
import socket
import struct
import subprocess
import time
import uuid

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("POSTINO_BIN") or str(ROOT / "build" / "postino-san")
if not os.path.isabs(BIN):
    BIN = str(ROOT / BIN)

# When pytest is run directly (not through scripts/run-integration).
os.environ.setdefault("ASAN_OPTIONS", "halt_on_error=1:abort_on_error=1:detect_leaks=1")
os.environ.setdefault("UBSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:print_stacktrace=1")

# 300 idle connections and more: the tests and the servers they start (which
# inherit the limit) need more than the usual 1024 descriptors.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
_want = 8192 if _hard == resource.RLIM_INFINITY else min(_hard, 8192)
if _soft < _want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_want, _hard))

HOST = "127.0.0.1"
HOSTNAME = "mx.example.test"
CLIENT_NAME = "client.example.test"
DOMAIN = "example.test"
OTHER_DOMAIN = "other.test"
REMOTE_DOMAIN = "remote.test"           # never local: relaying to it is refused
DEFAULT_USERS = ("alice@example.test", "bob@example.test", "carol@example.test",
                 "dave@other.test")
# crypt(3) sha512 of "secret": the users file is "address:hash" (issue 2, 2).
PASSWORD = "secret"
PASSWORD_HASH = ("$6$qJ2ruT4dP9UUjixx$mN1dgZeD/5DfOYd6hWASszc3D/arl.RKj4tUZ44."
                 "jNoHEWI9zHbN.Zy1O1BEcUgnZL0bMJH/lWIYyukYn13QL/")

SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer",
                   "runtime error:", "ThreadSanitizer", "MemorySanitizer")
QUEUED_RE = re.compile(r"queued as ([A-Za-z0-9]+)")

_all_procs = []


@atexit.register
def _kill_leftovers():
    for p in _all_procs:
        if p.poll() is None:
            p.kill()


# --------------------------------------------------------------------------
# Ports


_ports_given = []


def free_port(host=HOST):
    """free_port - a TCP port nobody listens on now (bind to port 0), and
    not one of the last ports handed out: the kernel may give the same
    free port twice in a row, and a server's five listeners are asked for
    before any of them binds."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.append(port)
            del _ports_given[:-64]
            return port


def _proc_net_addr(host):
    if ":" in host:
        packed = socket.inet_pton(socket.AF_INET6, host)
        words = struct.unpack("<4I", packed)
        return "".join("%08X" % w for w in words), "/proc/net/tcp6"
    return "%08X" % struct.unpack("<I", socket.inet_aton(host))[0], "/proc/net/tcp"


def is_listening(host, port):
    """is_listening - true when a socket listens on host:port.

    Reads /proc/net/tcp{,6} rather than connecting, so that the probe is
    not a connection the server would count (connection-limit tests).
    A socket bound to the wildcard address also counts.
    """
    addr, path = _proc_net_addr(host)
    tables = [(path, (addr, "0" * len(addr)))]
    if path == "/proc/net/tcp":     # a dual-stack [::] socket also takes IPv4
        tables.append(("/proc/net/tcp6", ("0" * 32,)))
    try:
        for path, wanted in tables:
            try:
                f = open(path)
            except FileNotFoundError:
                continue
            with f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state = parts[1], parts[3]
                    a, p = local.split(":")
                    if state == "0A" and int(p, 16) == port and a in wanted:
                        return True
        return False
    except OSError:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            return False


# --------------------------------------------------------------------------
# Running the binary


def check_no_sanitizer_report(text, what):
    for mark in SANITIZER_MARKS:
        if mark in text:
            i = text.index(mark)
            pytest.fail("sanitizer report (%s) from %s:\n%s" % (mark, what, text[max(0, i - 2000):i + 6000]))


def run_postino(args, input=None, cwd=None, timeout=30, env=None):
    """run_postino - run the binary with args, return CompletedProcess (bytes).

    A sanitizer report in its stderr fails the test.
    """
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run([BIN] + list(args), input=input if input is not None else b"",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                       timeout=timeout, env=e)
    check_no_sanitizer_report(p.stderr.decode("utf-8", "replace"), "postino " + " ".join(args))
    return p


@pytest.fixture
def cli():
    return run_postino


def wait_for(pred, timeout=10.0, interval=0.02, what="condition"):
    """wait_for - poll pred() until it is true; return its value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            pytest.fail("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# A server started as root becomes this user (the default run_as); the
# tests run as root in their namespace, so every server under test runs as
# postino, as it would in production.
RUN_AS = "postino"


def make_traversable(path):
    """make_traversable - let the server's user reach path: o+x on path and
    every folder above it (pytest makes its temporary folders 0700)."""
    p = pathlib.Path(path).resolve()
    for d in [p] + list(p.parents):
        mode = d.stat().st_mode
        if not mode & 0o001:
            os.chmod(d, (mode & 0o7777) | 0o001)


def give_to_server(path):
    """give_to_server - a file the server reads while running (a password
    file, a key) belongs to its user, as an administrator would set it up."""
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam(RUN_AS)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


class Server:
    """Server - one `postino serve` process with its own folder.

    Options:
      conf      dict of extra configuration keys for the file (None value:
                key left out); the defaults are hostname, data_dir, domains,
                the listeners, log and greet_pause (0s)
      options   dict of "-o key=value" overrides given on the command line
      users     addresses written into <data_dir>/users before the start
      aliases   text of <data_dir>/aliases, written before the start
      trial     no configuration at all: `postino serve` in workdir
      listen    list of (host, port) to wait for; default the SMTP listener
      data_dir  the data folder; default <workdir>/data
    """

    def __init__(self, workdir, conf=None, options=None, users=DEFAULT_USERS,
                 aliases=None, trial=False, listen=None, data_dir=None):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        make_traversable(self.workdir)
        self.trial = trial
        self.host = HOST
        if trial:
            self.port = 2525
            self.sub_port, self.subs_port = 2587, 2465
            self.pop3_port, self.pop3s_port = 2110, 2995
            self.imap_port, self.imaps_port = 2143, 2993
            self.data_dir = self.workdir / "postino-data"
            self.conf_path = None
        else:
            self.port = free_port()
            self.sub_port = free_port()
            self.subs_port = free_port()
            self.pop3_port = free_port()
            self.pop3s_port = free_port()
            self.imap_port = free_port()
            self.imaps_port = free_port()
            self.data_dir = pathlib.Path(data_dir) if data_dir else self.workdir / "data"
            self.conf_path = self.workdir / "postino.conf"
        self.conf = {
            "hostname": HOSTNAME,
            "data_dir": str(self.data_dir),
            "domains": "%s %s" % (DOMAIN, OTHER_DOMAIN),
            "listen_smtp": "%s:%d" % (self.host, self.port),
            "listen_submission": "%s:%d" % (self.host, self.sub_port),
            "listen_submissions": "%s:%d" % (self.host, self.subs_port),
            "listen_pop3": "%s:%d" % (self.host, self.pop3_port),
            "listen_pop3s": "%s:%d" % (self.host, self.pop3s_port),
            "listen_imap": "%s:%d" % (self.host, self.imap_port),
            "listen_imaps": "%s:%d" % (self.host, self.imaps_port),
            "log": "stderr",
            # no pause before the port-25 greeting, except in its own tests
            "greet_pause": "0s",
        }
        self.conf.update(conf or {})
        self.options = dict(options or {})
        self.listen = listen or [(self.host, self.port)]
        self.stderr_path = self.workdir / "stderr.log"
        self.proc = None
        self.expected_exit = False
        self.exits = []
        if not trial:
            self.write_config()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if users:
                self.write_users(users)
            if aliases is not None:
                self.write_aliases(aliases)

    # -- files

    def write_config(self, **changes):
        """write_config - (re)write the configuration file with changes."""
        self.conf.update(changes)
        lines = ["# written by tests/integration/conftest.py"]
        for k, v in self.conf.items():
            if v is not None:
                lines.append("%s = %s" % (k, v))
        self.conf_path.write_text("\n".join(lines) + "\n")

    def write_users(self, users):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "users").write_text("".join("%s:%s\n" % (u, PASSWORD_HASH) for u in users))

    def write_aliases(self, text):
        path = self.conf.get("aliases_file") or (self.data_dir / "aliases")
        pathlib.Path(path).write_text(text)

    # -- process

    def argv(self):
        a = [BIN, "serve"]
        if self.conf_path:
            a += ["-c", str(self.conf_path)]
        for k, v in self.options.items():
            a += ["-o", "%s=%s" % (k, v)]
        return a

    def start(self, wait=True, timeout=10.0):
        assert self.proc is None or self.proc.poll() is not None
        with open(self.stderr_path, "ab") as err:
            err.write(b"=== postino serve started by the test ===\n")
            err.flush()
            self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err, cwd=self.workdir,
                                         start_new_session=True)
        _all_procs.append(self.proc)
        self.expected_exit = False
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                pytest.fail("postino serve exited with status %s before listening:\n%s"
                            % (rc, self.log()[-6000:]))
            if all(is_listening(h, p) for h, p in self.listen):
                return
            if time.monotonic() > deadline:
                pytest.fail("postino serve did not listen on %s within %.0f s:\n%s"
                            % (self.listen, timeout, self.log()[-6000:]))
            time.sleep(0.02)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """stop - send sig, wait for the exit; return the exit status."""
        self.expected_exit = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail("postino did not exit within %.0f s of signal %s:\n%s"
                        % (timeout, sig, self.log()[-6000:]))
        self.exits.append((sig, rc))
        check_no_sanitizer_report(self.log(), "postino serve")
        return rc

    def kill9(self):
        """kill9 - SIGKILL the server and reap it."""
        self.expected_exit = True
        self.proc.kill()
        self.proc.wait()
        check_no_sanitizer_report(self.log(), "postino serve")

    def restart(self):
        self.stop()
        return self.start()

    def finish(self):
        """finish - teardown: stop with SIGTERM, demand status 0 and no reports."""
        if self.proc is None:
            return
        if self.proc.poll() is not None and not self.expected_exit:
            rc = self.proc.returncode
            check_no_sanitizer_report(self.log(), "postino serve")
            pytest.fail("postino serve died during the test with status %s:\n%s"
                        % (rc, self.log()[-6000:]))
        if self.proc.poll() is None:
            self.stop()
        check_no_sanitizer_report(self.log(), "postino serve")
        for sig, rc in self.exits:
            if sig in (signal.SIGTERM, signal.SIGINT):
                assert rc == 0, "postino serve exited with status %s on signal %s:\n%s" % (
                    rc, sig, self.log()[-6000:])

    # -- logs

    def log(self):
        try:
            return self.stderr_path.read_bytes().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_log(self, pattern, timeout=10.0, count=1):
        """wait_log - poll the log until pattern (regex) matches count times; return the matches."""
        rx = re.compile(pattern, re.M)

        def found():
            m = rx.findall(self.log())
            return m if len(m) >= count else None
        deadline = time.monotonic() + timeout
        while True:
            m = found()
            if m:
                return m
            if time.monotonic() > deadline:
                pytest.fail("log never matched %r (%d times) within %.0f s; log:\n%s"
                            % (pattern, count, timeout, self.log()[-6000:]))
            time.sleep(0.02)

    # -- CLI against this server's configuration

    def cli(self, *args, input=None, timeout=30):
        a = list(args)
        if self.conf_path:
            a += ["-c", str(self.conf_path)]
        return run_postino(a, input=input, cwd=self.workdir, timeout=timeout)

    # -- Maildir

    def maildir(self, addr):
        local, domain = addr.rsplit("@", 1)
        return self.data_dir / "mail" / domain.lower() / local.lower()

    def message_files(self, addr=None):
        """message_files - paths of delivered messages (new/ and cur/), oldest first."""
        if addr is None:
            base = self.data_dir / "mail"
            files = [p for p in base.glob("*/*/new/*")] + [p for p in base.glob("*/*/cur/*")]
        else:
            md = self.maildir(addr)
            files = list((md / "new").glob("*")) + list((md / "cur").glob("*"))
        files = [p for p in files if p.is_file()]

        def key(p):
            try:
                return (p.stat().st_mtime_ns, p.name)
            except FileNotFoundError:
                return (0, p.name)
        return sorted(files, key=key)

    def messages(self, addr=None):
        out = []
        for p in self.message_files(addr):
            try:
                out.append(p.read_bytes())
            except FileNotFoundError:
                pass
        return out

    def count(self, addr=None):
        return len(self.message_files(addr))

    def wait_messages(self, addr, n, timeout=10.0):
        """wait_messages - poll until addr's Maildir (None: all) holds n messages; return them.

        More than n is a failure (a duplicate or a smuggled message).
        """
        deadline = time.monotonic() + timeout
        while True:
            c = self.count(addr)
            if c >= n:
                break
            if time.monotonic() > deadline:
                pytest.fail("Maildir of %s has %d messages, want %d (after %.0f s); log:\n%s"
                            % (addr or "everyone", c, n, timeout, self.log()[-4000:]))
            time.sleep(0.02)
        msgs = self.messages(addr)
        assert len(msgs) == n, "Maildir of %s: got %d messages, want %d" % (addr or "everyone", len(msgs), n)
        return msgs

    def assert_count_stays(self, addr, n, settle=0.5):
        """assert_count_stays - the Maildir holds n messages and still n after settle seconds."""
        deadline = time.monotonic() + settle
        while True:
            c = self.count(addr)
            assert c == n, "Maildir of %s: got %d messages, want %d" % (addr or "everyone", c, n)
            if time.monotonic() > deadline:
                return
            time.sleep(0.05)

    def wait_marker(self, addr="carol@example.test"):
        """wait_marker - send a fresh message to addr and wait for it.

        Deliveries that an earlier transaction could have caused have had
        their chance by then: a negative check (nothing smuggled, nothing
        delivered) made after wait_marker is not a guess at a sleep.
        """
        before = self.count(addr)
        marker = "<marker-%s@client.example.test>" % uuid.uuid4().hex
        send_mail(self, "marker@client.example.test", [addr],
                  make_message(subject="marker", msgid=marker))
        self.wait_messages(addr, before + 1)


@pytest.fixture
def start_server(tmp_path):
    servers = []

    def start(name=None, start=True, **kw):
        wd = tmp_path / (name or "server%d" % len(servers))
        s = Server(wd, **kw)
        servers.append(s)
        if start:
            s.start()
        return s
    yield start
    errors = []
    for s in servers:
        try:
            s.finish()
        except BaseException as e:  # keep stopping the others
            errors.append(str(e))
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def relay_env(start_server, tmp_path):
    """relay_env - the world of an outbound delivery test (relayutil.RelayEnv):
    the in-test DNS server, peers on 127.0.0.x, postino pointed at them."""
    from relayutil import RelayEnv
    env = RelayEnv(start_server, tmp_path / "relay")
    env.workdir.mkdir(parents=True, exist_ok=True)
    yield env
    env.close()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """shared_server - one default server for a whole module of dialog tests.

    Only for tests that look at replies, not at Maildir counts.
    """
    s = Server(tmp_path_factory.mktemp("shared"))
    s.start()
    yield s
    s.finish()


@pytest.fixture(autouse=True)
def _test_timeout(request):
    """Fail a test that runs longer than its timeout mark (default 60 s)."""
    m = request.node.get_closest_marker("timeout")
    seconds = m.args[0] if m else 60

    def on_alarm(signum, frame):
        raise TimeoutError("test ran longer than %s s" % seconds)
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------
# SMTP clients


class Reply:
    def __init__(self, lines):
        self.lines = lines                      # str lines without CRLF
        self.code = int(lines[-1][:3])
        self.texts = [l[4:] for l in lines]
        self.text = "\n".join(self.texts)

    def __repr__(self):
        return "Reply(%r)" % ("\n".join(self.lines),)

    def __str__(self):
        return "\n".join(self.lines)

    def enhanced(self):
        """enhanced - the RFC 3463 code of the last line, or None."""
        m = re.match(r"([245]\.\d{1,3}\.\d{1,3})\b", self.texts[-1])
        return m.group(1) if m else None


class Closed(Exception):
    pass


class SocketClient:
    """SocketClient - what the raw protocol clients of the tests share: a
    socket in self.sock, closed by close() or at the end of a with block,
    and send() of bytes or text as they are."""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)


class Raw(SocketClient):
    """Raw - a plain socket SMTP client for exact bytes.

    send() writes bytes as they are; reply() reads exactly one (possibly
    multi-line) reply, so a pipelined exchange is read back reply by reply.
    """

    def __init__(self, server_or_host, port=None, timeout=10.0, source=None, greet=True):
        if port is None:
            host, port = server_or_host.host, server_or_host.port
        else:
            host = server_or_host
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((host, port))
        self.buf = b""
        self.eof = False
        self.send_failed = False
        self.greeting = self.reply() if greet else None

    def send(self, data):
        """send - write bytes; a connection the server has closed is not an
        error here: the next reply() returns what it said last (a 421) or
        raises Closed."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.send_failed = True

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            raise Closed("connection closed by the server; unread: %r" % self.buf)
        self.buf += chunk

    def line(self):
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), "reply line without CRLF: %r" % line
        return line[:-1].decode("utf-8", "replace")

    def reply(self):
        lines = []
        while True:
            l = self.line()
            assert re.match(r"^[2-5]\d\d([ -]|$)", l), "malformed reply line %r (after %r)" % (l, lines)
            lines.append(l)
            if len(l) == 3 or l[3] == " ":
                if lines:
                    codes = {x[:3] for x in lines}
                    assert len(codes) == 1, "multi-line reply with several codes: %r" % lines
                return Reply(lines)

    def cmd(self, line):
        """cmd - send one command line (CRLF added), return its reply."""
        self.send(line.encode("utf-8") if isinstance(line, str) else line)
        self.send(b"\r\n")
        return self.reply()

    def expect(self, line, code, enhanced=None):
        r = self.cmd(line)
        assert r.code == code, "%r: got %s, want %d" % (line, r, code)
        if enhanced:
            assert r.enhanced() == enhanced, "%r: got %s, want %d %s" % (line, r, code, enhanced)
        return r

    def ehlo(self, name=CLIENT_NAME):
        return self.expect("EHLO " + name, 250)

    def read_until_closed(self, timeout=10.0):
        """read_until_closed - every reply until the server closes; returns them."""
        self.sock.settimeout(timeout)
        out = []
        while True:
            try:
                out.append(self.reply())
            except Closed:
                return out

    def is_closed(self, timeout=5.0):
        """is_closed - true when the server closes the connection within timeout (nothing more read)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                self._fill()
        except Closed:
            return True
        except socket.timeout:
            return False

    def nothing_within(self, seconds):
        """nothing_within - true when the server sends nothing for seconds."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(10.0)
        self.buf += chunk
        if not chunk:
            self.eof = True
        return False


def smtp_client(server, timeout=15.0):
    s = smtplib.SMTP(server.host, server.port, local_hostname=CLIENT_NAME, timeout=timeout)
    return s


def queue_id(text):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    m = QUEUED_RE.search(text)
    assert m, "final reply has no 'queued as ID': %r" % text
    return m.group(1)


def send_mail(server, mail_from, rcpts, data, mail_options=(), rcpt_options=()):
    """send_mail - one transaction with smtplib; returns the queue id.

    data is bytes with CRLF line ends (sent as they are, dot-stuffed by
    smtplib). Every step must succeed.
    """
    with smtp_client(server) as s:
        code, msg = s.ehlo()
        assert code == 250, (code, msg)
        code, msg = s.mail(mail_from, list(mail_options))
        assert code == 250, "MAIL FROM:<%s>: got %d %r" % (mail_from, code, msg)
        for r in rcpts:
            code, msg = s.rcpt(r, list(rcpt_options))
            assert code == 250, "RCPT TO:<%s>: got %d %r" % (r, code, msg)
        code, msg = s.data(data)
        assert code == 250, "end of data: got %d %r" % (code, msg)
        assert msg.startswith(b"2.0.0"), msg
        return queue_id(msg)


def make_message(subject="test", body="Hello.\r\n", msgid=None, frm="sender@client.example.test",
                 to="alice@example.test", extra_headers=()):
    """make_message - CRLF bytes of a small message."""
    msgid = msgid or "<%s@client.example.test>" % uuid.uuid4().hex
    hdr = ["From: <%s>" % frm, "To: <%s>" % to, "Subject: %s" % subject,
           "Date: %s" % email.utils.formatdate(), "Message-ID: %s" % msgid]
    hdr += list(extra_headers)
    text = "\r\n".join(hdr) + "\r\n\r\n" + body
    return text.encode("utf-8") if isinstance(text, str) else text


def dot_stuff(data):
    """dot_stuff - RFC 5321 4.5.2 transparency for CRLF data, plus the end marker."""
    if data.startswith(b"."):
        data = b"." + data
    data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def to_lf(data):
    return data.replace(b"\r\n", b"\n")


class Delivered:
    def __init__(self, return_path, delivered_to, received, rest, authres=None, added=()):
        self.return_path = return_path      # str, the whole header line
        self.delivered_to = delivered_to
        self.received = received            # unfolded str
        self.authres = authres              # unfolded str of our Authentication-Results, or None
        self.added = list(added)            # our other fields after it (unfolded str)
        self.rest = rest                    # bytes: the message as sent (LF)


def parse_delivered(data, hostname=HOSTNAME):
    """parse_delivered - split a delivered Maildir file.

    The contract: "Return-Path: <sender>", "Delivered-To: ...", then a
    "Received:" header (maybe folded), then for mail on port 25 our
    "Authentication-Results:" (and X-Postino-Quarantine), then the message
    as it was sent.
    """
    assert b"\r" not in data, "Maildir file has CR octets (want LF line ends): %r" % data[:300]
    lines = data.split(b"\n")
    assert lines[0].startswith(b"Return-Path: "), "first line is not Return-Path: %r" % data[:300]
    assert lines[1].startswith(b"Delivered-To: "), "second line is not Delivered-To: %r" % data[:300]
    assert lines[2].startswith(b"Received: "), "third line is not Received: %r" % data[:300]
    i = 3
    rec = [lines[2]]
    while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
        rec.append(lines[i])
        i += 1
    received = b" ".join(l.strip() for l in rec).decode("utf-8", "replace")
    # then, for mail on port 25, our verdict (issue 7), and the quarantine
    # mark when DMARC asked for it
    authres, added = None, []
    ours = (b"Authentication-Results: " + hostname.encode() + b";", b"X-Postino-Quarantine: ")
    while i < len(lines) and lines[i].startswith(ours):
        field = [lines[i]]
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            field.append(lines[i])
            i += 1
        text = b" ".join(l.strip() for l in field).decode("utf-8", "replace")
        if text.startswith("Authentication-Results: ") and authres is None:
            authres = text
        else:
            added.append(text)
    rest = b"\n".join(lines[i:])
    return Delivered(lines[0].decode("utf-8", "replace"), lines[1].decode("utf-8", "replace"),
                     received, rest, authres, added)
