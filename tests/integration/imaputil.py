"""imaputil - a raw IMAP client and a response parser for test_imap.

Not a test module. Import what you need:

  imap_server(start_server, **conf)   a started server with SMTP, IMAP and
                                      IMAPS up; auth_failure_delay 0s
  Imap(host, port, ctx=None)          a raw IMAP client over a socket (plain,
                                      implicit TLS with ctx, STARTTLS later)
  Resp                                one command's response: untagged items,
                                      tagged status, response code
  tls_imap(server, login=None)        an Imap on the IMAPS port, logged in
  parse(data)                         one response line (literals inside) as
                                      Python values: atoms are str, strings
                                      bytes, NIL None, lists list
  fetch_items(item), fetches(resp)    "* n FETCH (...)" -> (n, {NAME: value})
  list_entries(resp)                  {name: set of lower-case attributes} of LIST/LSUB
  status_items(item)                  "* STATUS name (...)" -> (name, {ITEM: int})
  deliver(server, addr, ...)          messages by SMTP, waited for in the Maildir
  folder_files(server, addr, folder)  (new/ names, cur/ names) of a Maildir folder
  crlf(data)                          LF line ends -> CRLF (what FETCH must send)
"""

import re
import socket
import ssl
import time

from conftest import HOST, HOSTNAME, PASSWORD, Closed, SocketClient, make_message, send_mail
from tlsutil import cert_path, verifying_context

ALICE = "alice@example.test"
BOB = "bob@example.test"
SENDER = "sender@client.example.test"

_LITERAL_END = re.compile(rb"\{(\d+)\+?\}$")


def imap_server(start_server, **conf):
    """a started server with the SMTP and both IMAP listeners up; auth_failure_delay 0s."""
    c = {"auth_failure_delay": "0s"}
    c.update(conf)
    s = start_server(start=False, conf=c)
    s.listen = [(s.host, s.port), (s.host, s.imap_port), (s.host, s.imaps_port)]
    s.start()
    return s


def ctx_for(server):
    return verifying_context(cert_path(server))


class Resp:
    """The response of one command: the untagged items (bytes, one per
    response, literals inside, without the final CRLF), "+" continuation
    lines met on the way, and the tagged completion."""

    def __init__(self, tag, untagged, tagged, conts=()):
        self.tag = tag
        self.untagged = untagged
        self.tagged = tagged
        self.conts = list(conts)
        rest = tagged[len(tag) + 1:].decode("utf-8", "replace")
        self.status, _, self.text = rest.partition(" ")
        m = re.match(r"\[([^\]]*)\]", self.text)
        self.code = m.group(1) if m else None

    def __repr__(self):
        return "Resp(%r)" % (b"\r\n".join(self.untagged + [self.tagged]).decode("utf-8", "replace"),)

    def items(self, kind):
        """items - the untagged items "* KIND ..." or "* n KIND ..." (kind upper case)."""
        out = []
        for u in self.untagged:
            w = u.split(b" ", 3)
            if len(w) > 1 and w[1].upper() == kind.encode():
                out.append(u)
            elif len(w) > 2 and w[1].isdigit() and w[2].upper().rstrip(b"\r\n") == kind.encode():
                out.append(u)
        return out

    def numbers(self, kind):
        """numbers - n of every "* n KIND" (EXISTS, EXPUNGE, FETCH), in order."""
        return [int(u.split(b" ")[1]) for u in self.items(kind) if u.split(b" ")[1].isdigit()]

    def codes(self):
        """codes - the response codes of the untagged OK/NO/BAD/BYE lines."""
        out = []
        for u in self.untagged:
            m = re.match(rb"\* (?:OK|NO|BAD|BYE|PREAUTH) \[([^\]]*)\]", u)
            if m:
                out.append(m.group(1).decode("utf-8", "replace"))
        return out

    def code_value(self, name):
        """code_value - the rest of the response code "NAME rest" (untagged or tagged), or None."""
        for c in self.codes() + ([self.code] if self.code else []):
            w = c.split(" ", 1)
            if w[0].upper() == name.upper():
                return w[1] if len(w) > 1 else ""
        return None


class Imap(SocketClient):
    """A raw IMAP client over a socket (plain or TLS) for exact bytes."""

    def __init__(self, host, port, ctx=None, timeout=10.0, greet=True, rcvbuf=None):
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        self.sock.settimeout(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if rcvbuf:                  # a small fixed window: the server's output backs up
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.connect((host, port))
        if ctx is not None:
            self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        self.buf = b""
        self.n = 0
        self.greeting = self.item() if greet else None

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLEOFError):
            chunk = b""
        if not chunk:
            raise Closed("connection closed; unread %r" % self.buf[:500])
        self.buf += chunk

    def rawline(self):
        """rawline - one line without its CRLF (which must be there)."""
        while b"\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), "response line without CRLF: %r" % line[:300]
        return line[:-1]

    def take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def item(self):
        """item - one whole response: a line, with the literals it
        announces ({n} at a line end) and the lines after them joined in."""
        out = self.rawline()
        while True:
            m = _LITERAL_END.search(out)
            if not m:
                return out
            out += b"\r\n" + self.take(int(m.group(1)))
            out += self.rawline()

    def tag(self):
        self.n += 1
        return "a%03d" % self.n

    def read_resp(self, tag):
        """read_resp - items up to tag's completion."""
        untagged, conts = [], []
        t = tag.encode() + b" "
        while True:
            it = self.item()
            if it.startswith(t):
                return Resp(tag, untagged, it, conts)
            if it.startswith(b"+"):
                conts.append(it)
                continue
            assert it.startswith(b"* "), "neither tagged, untagged nor '+': %r" % it[:300]
            untagged.append(it)

    def cmd(self, text, tag=None):
        """cmd - send "tag text" (bytes or str; CRLF added), return its Resp."""
        tag = tag or self.tag()
        if isinstance(text, str):
            text = text.encode("utf-8")
        self.send(tag.encode() + b" " + text + b"\r\n")
        return self.read_resp(tag)

    def ok(self, text):
        r = self.cmd(text)
        assert r.status == "OK", "%r: got %r" % (text, r)
        return r

    def cmd_literal(self, head, literal, tail=b"", tag=None, plus=False):
        """cmd_literal - "tag head {n}" + the literal octets + tail: waits
        for the "+" continuation unless plus (LITERAL+, {n+})."""
        tag = tag or self.tag()
        if isinstance(head, str):
            head = head.encode()
        if isinstance(tail, str):
            tail = tail.encode()
        self.send(b"%s %s {%d%s}\r\n" % (tag.encode(), head, len(literal), b"+" if plus else b""))
        if not plus:
            it = self.item()
            if it.startswith(tag.encode() + b" "):
                return Resp(tag, [], it)        # refused before the literal was sent
            assert it.startswith(b"+"), "no continuation for the literal: %r" % it
        self.send(literal + tail + b"\r\n")
        return self.read_resp(tag)

    def starttls(self, ctx):
        r = self.ok("STARTTLS")
        assert self.buf == b"", "octets after the STARTTLS OK before TLS: %r" % self.buf
        self.sock = ctx.wrap_socket(self.sock, server_hostname=HOSTNAME)
        return r

    def login(self, user=ALICE, password=PASSWORD):
        return self.ok('LOGIN "%s" "%s"' % (user, password))

    def select(self, name="INBOX"):
        return self.ok('SELECT "%s"' % name)

    def is_closed(self, timeout=5.0):
        """is_closed - the server closes within timeout (what it sends meanwhile is kept)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                self._fill()
        except Closed:
            return True
        except (socket.timeout, ssl.SSLError, OSError):
            return False

    def nothing_within(self, seconds):
        """nothing_within - the server sends nothing for seconds."""
        if self.buf:
            return False
        self.sock.settimeout(seconds)
        try:
            self._fill()
        except socket.timeout:
            return True
        except Closed:
            return False
        finally:
            self.sock.settimeout(10.0)
        return False

    def items_until_closed(self, timeout=5.0):
        """items_until_closed - every response until the server closes
        (or timeout seconds pass: then the last item is None)."""
        deadline = time.monotonic() + timeout
        out = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                self.sock.settimeout(left)
                out.append(self.item())
        except Closed:
            return out
        except (socket.timeout, ssl.SSLError, OSError):
            return out + [None]
        finally:
            self.sock.settimeout(10.0)

    def wait_item(self, pred, timeout=10.0):
        """wait_item - read untagged items until pred(item) is true; return
        the items read (the last one matched)."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no matching response within %.0f s; got %r" % (timeout, got)
            self.sock.settimeout(left)
            try:
                it = self.item()
            except socket.timeout:
                raise AssertionError("no matching response within %.0f s; got %r" % (timeout, got))
            finally:
                self.sock.settimeout(10.0)
            got.append(it)
            if pred(it):
                return got


def tls_imap(server, login=None, select=None, rcvbuf=None):
    """tls_imap - an Imap on the implicit-TLS port; logged in as login
    and with select selected when given."""
    c = Imap(HOST, server.imaps_port, ctx=ctx_for(server), rcvbuf=rcvbuf)
    assert c.greeting.startswith(b"* OK"), c.greeting
    if login:
        c.login(login)
    if select:
        c.select(select)
    return c


# --------------------------------------------------------------------------
# Parsing response data


class Atom(str):
    """An atom of a response (also NIL-free flags, numbers, BODY[...] names)."""


def _tokens(data, i, depth=0):
    """parse a space-separated sequence up to ")" or the end; returns (list, i)."""
    assert depth < 50, "nesting too deep"
    out = []
    n = len(data)
    while i < n:
        c = data[i:i + 1]
        if c == b" ":
            i += 1
        elif c == b")":
            return out, i + 1
        elif c == b"(":
            sub, i = _tokens(data, i + 1, depth + 1)
            out.append(sub)
        elif c == b'"':
            j = i + 1
            s = bytearray()
            while data[j:j + 1] != b'"':
                assert j < n, "unterminated quoted string in %r" % data
                if data[j:j + 1] == b"\\":
                    j += 1
                s += data[j:j + 1]
                j += 1
            out.append(bytes(s))
            i = j + 1
        elif c == b"{" or data[i:i + 2] == b"~{":
            if c == b"~":           # literal8 (RFC 3516)
                i += 1
            m = re.match(rb"\{(\d+)\}\r\n", data[i:])
            assert m, "bad literal at %r" % data[i:i + 40]
            start = i + m.end()
            ln = int(m.group(1))
            out.append(data[start:start + ln])
            i = start + ln
        else:
            j = i
            while j < n and data[j:j + 1] not in b" ()":
                if data[j:j + 1] == b"[":
                    k = data.index(b"]", j)
                    j = k + 1
                    continue
                j += 1
            word = data[i:j].decode("utf-8", "replace")
            out.append(None if word.upper() == "NIL" else Atom(word))
            i = j
    return out, i


def parse(data):
    """parse - the values of one response item: atoms Atom (str), quoted
    strings and literals bytes, NIL None, parenthesised lists list."""
    if isinstance(data, str):
        data = data.encode()
    vals, _ = _tokens(data, 0)
    return vals


def fetch_items(item):
    """fetch_items - "* n FETCH (k v ...)" -> (n, {K upper: v})."""
    v = parse(item)
    assert len(v) == 4 and v[0] == "*" and v[2].upper() == "FETCH" and isinstance(v[3], list), \
        "not a FETCH response: %r" % item[:300]
    pairs = v[3]
    assert len(pairs) % 2 == 0, "odd FETCH list: %r" % item[:300]
    return int(v[1]), {str(pairs[k]).upper(): pairs[k + 1] for k in range(0, len(pairs), 2)}


def fetches(resp):
    """fetches - {n: items} of every FETCH of a Resp."""
    out = {}
    for it in resp.items("FETCH"):
        n, d = fetch_items(it)
        out.setdefault(n, {}).update(d)
    return out


# --------------------------------------------------------------------------
# Mail


def deliver(server, addr, n=1, body_fn=None, subject_fn=None, msg_fn=None):
    """deliver - n messages to addr by SMTP, waited for; returns what was sent (bytes)."""
    before = server.count(addr)
    sent = []
    for i in range(n):
        if msg_fn:
            data = msg_fn(i)
        else:
            body = body_fn(i) if body_fn else "Message number %d.\r\n" % i
            subject = subject_fn(i) if subject_fn else "imap test %d" % i
            data = make_message(subject=subject, body=body, to=addr)
        send_mail(server, SENDER, [addr], data)
        sent.append(data)
    server.wait_messages(addr, before + n)
    return sent


def list_entries(resp, verb="LIST"):
    """list_entries - {name (str): set of lower-case attributes} of the
    LIST (or LSUB) items of resp; the delimiter must be "." every time."""
    out = {}
    for it in resp.items(verb):
        v = parse(it)
        assert len(v) == 5 and isinstance(v[2], list), "malformed %s response %r" % (verb, it)
        assert v[3] == b".", "%s delimiter %r, want \".\": %r" % (verb, v[3], it)
        name = v[4].decode("utf-8") if isinstance(v[4], bytes) else str(v[4])
        assert name not in out, "%s names %r twice" % (verb, name)
        out[name] = {str(a).lower() for a in v[2]}
    return out


def status_items(item):
    """status_items - "* STATUS name (K v ...)" -> (name, {K upper: int})."""
    v = parse(item)
    assert len(v) == 4 and v[1].upper() == "STATUS" and isinstance(v[3], list), \
        "malformed STATUS response %r" % item
    name = v[2].decode("utf-8") if isinstance(v[2], bytes) else str(v[2])
    pairs = v[3]
    assert len(pairs) % 2 == 0, item
    return name, {str(pairs[k]).upper(): int(pairs[k + 1]) for k in range(0, len(pairs), 2)}


def folder_dir(server, addr, folder="INBOX"):
    md = server.maildir(addr)
    return md if folder == "INBOX" else md / ("." + folder)


def folder_files(server, addr, folder="INBOX"):
    """folder_files - (sorted new/ names, sorted cur/ names) of a folder."""
    d = folder_dir(server, addr, folder)

    def names(sub):
        p = d / sub
        return sorted(x.name for x in p.iterdir() if x.is_file()) if p.is_dir() else []
    return names("new"), names("cur")


def crlf(data):
    """crlf - the octets IMAP must send for a Maildir file: LF -> CRLF."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
