#!/usr/bin/python3
"""dnsserver - a small authoritative DNS server for the tests, on loopback.

It answers, over UDP and TCP on one port, from a zone held in memory, and
can be told to answer SERVFAIL or REFUSED for chosen names, or to stay
silent (no answer at all, so that the client times out). It stands in for
the resolver named by postino's `dns_servers`, which libunbound forwards
every query to; answers carry RA as a recursive resolver's would.

Zone text format (a file, or the --zone argument), one entry a line:

    # comment (also after a record, when preceded by a space)
    <name> [<ttl>] <TYPE> <rdata in master-file syntax>
    <name> SERVFAIL | REFUSED | SILENT [<TYPE>]

    example.test.          MX    10 mx1.example.test.
    example.test.          MX    20 mx2.example.test.
    mx1.example.test.  60  A     127.0.0.2
    mx1.example.test.      AAAA  ::1
    spf.example.test.      TXT   "v=spf1 ip4:127.0.0.0/8 " "-all"
    nullmx.test.           MX    0 .
    *.dnsbl.test.          A     127.0.0.2
    broken.test.           SERVFAIL
    slow.test.             SILENT
    half.test.             A     127.0.0.3
    half.test.             SERVFAIL AAAA

Names are absolute whether or not they end in a dot, and compared without
regard to case. The default TTL is 60. Any type dnslib knows works (A, AAAA,
MX, TXT, CNAME, PTR, SOA, NS, SRV, TLSA, ...). "*.<name>" is a wildcard for
names below <name> that do not exist themselves. A marker without a type
applies to every query for the name; with a type, to that type only.

JSON format (--json, or a file ending in .json): an object mapping names to
either a marker string or an object of TYPE -> rdata string, list of them,
or marker string (so a TXT record reading SERVFAIL must be quoted, '"SERVFAIL"'):

    {"example.test.": {"MX": ["10 mx1.example.test.", "20 mx2.example.test."]},
     "mx1.example.test.": {"A": "127.0.0.2", "AAAA": ["::1"]},
     "half.test.": {"A": "127.0.0.3", "AAAA": "SERVFAIL"},
     "broken.test.": "SERVFAIL", "slow.test.": "SILENT"}

This is also the shape of DNSTestServer.zone, with each rdata list held as
[(rdata, ttl), ...].

Answers: the records of the asked type (following CNAMEs inside the zone);
NOERROR with no answer (NODATA) when the name exists, with other types or
only names below it; NXDOMAIN otherwise. Negative answers carry an SOA in
the authority section: the closest enclosing SOA of the zone if there is
one, else a made-up one at the name's top-level domain. A UDP answer larger
than the client's EDNS buffer (512 without EDNS) is sent truncated (TC), so
that the client asks again over TCP.

As a module:

    from dnsserver import DNSTestServer
    srv = DNSTestServer()                    # or DNSTestServer(zone_text=...)
    srv.add("example.test", "MX", "10 mx.example.test.")
    srv.set_marker("broken.test", "SERVFAIL")
    srv.set_marker("half.test", "SILENT", "AAAA")
    port = srv.start()                       # 127.0.0.1, a free port
    ...                                      # srv.queries: [(name, TYPE, proto)]
    srv.stop()

As a script:

    /usr/bin/python3 dnsserver.py [--host 127.0.0.1] [--port 0]
        [--zone-file FILE | --json TEXT | --zone TEXT]... [--exit-on-eof] [-v]

It prints the port it listens on, alone on the first line of stdout, then
serves until SIGTERM or SIGINT (or, with --exit-on-eof, until its stdin
reaches end of file, so that it dies with a parent that holds the other end
of a pipe). With -v, each query is logged to stderr.

Needs Debian's python3-dnslib (run it with /usr/bin/python3).
"""

import argparse
import json
import signal
import socket
import socketserver
import struct
import sys
import threading

from dnslib import DNSRecord, QTYPE, RCODE, RR, SOA

DEFAULT_TTL = 60
MARKERS = ("SERVFAIL", "REFUSED", "SILENT")
MAX_CNAME_CHAIN = 8


def _norm(name):
    """_norm - lower case, exactly one trailing dot ("." for the root)"""
    name = str(name).strip().lower()
    if not name.endswith("."):
        name += "."
    return "." if name in (".", "..") else name


def _parent(name):
    """_parent - the name one label up, None above the root"""
    if name == ".":
        return None
    rest = name.split(".", 1)[1]
    return rest if rest else "."


class _Silent(Exception):
    """raised by the resolver when no answer is to be sent"""


class DNSTestServer:
    """An authoritative test server over UDP and TCP on one loopback port.

    zone: dict name -> {TYPE: [(rdata, ttl), ...] or marker} or name -> marker; use add(),
    set_marker(), remove(), clear(), load_text(), load_json() to change it,
    also while the server runs.
    """

    def __init__(self, zone_text=None, zone_json=None, host="127.0.0.1", port=0,
                 verbose=False):
        self.host = host
        self.port = port
        self.verbose = verbose
        self.zone = {}
        self.queries = []           # (name, TYPE, "udp"|"tcp"), in order received
        self._lock = threading.RLock()
        self._udp = None
        self._tcp = None
        self._threads = []
        if zone_text:
            self.load_text(zone_text)
        if zone_json:
            self.load_json(zone_json)

    # -- the zone -----------------------------------------------------------

    def add(self, name, rtype, rdata, ttl=DEFAULT_TTL):
        """add - one record; rdata in master-file syntax ("10 mx.example.")"""
        name, rtype = _norm(name), rtype.upper()
        # Parsed now, so that a mistake shows at once rather than as SERVFAIL.
        rr = RR.fromZone("%s %d IN %s %s" % (name, int(ttl), rtype, rdata))
        if len(rr) != 1:
            raise ValueError("bad record: %s %s %s" % (name, rtype, rdata))
        with self._lock:
            node = self.zone.get(name)
            if not isinstance(node, dict):
                node = self.zone[name] = {}
            if not isinstance(node.get(rtype), list):
                node[rtype] = []
            node[rtype].append((str(rdata), int(ttl)))

    def set_marker(self, name, marker, rtype=None):
        """set_marker - answer SERVFAIL / REFUSED, or nothing (SILENT), for
        name: every query, or those of type rtype"""
        marker = marker.upper()
        if marker not in MARKERS:
            raise ValueError("unknown marker %r (want one of %s)" % (marker, MARKERS))
        name = _norm(name)
        with self._lock:
            if rtype is None:
                self.zone[name] = marker
                return
            node = self.zone.get(name)
            if not isinstance(node, dict):
                node = self.zone[name] = {}
            node[rtype.upper()] = marker

    def remove(self, name, rtype=None):
        """remove - a name's records of one type, or everything about the name"""
        name = _norm(name)
        with self._lock:
            node = self.zone.get(name)
            if rtype is None or not isinstance(node, dict):
                self.zone.pop(name, None)
            else:
                node.pop(rtype.upper(), None)
                if not node:
                    del self.zone[name]

    def clear(self):
        """clear - forget the zone and the query log"""
        with self._lock:
            self.zone.clear()
            del self.queries[:]

    def load_text(self, text):
        """load_text - add the entries of a zone text (see the file header)"""
        for lineno, line in enumerate(text.splitlines(), 1):
            # A '#' starts a comment at the start of a line or after a blank,
            # not inside TXT rdata such as "a#b".
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if " #" in line and '"' not in line:
                line = line.split(" #", 1)[0]
            fields = line.split(None, 1)
            if len(fields) < 2:
                raise ValueError("line %d: want <name> <TYPE> <rdata>: %r" % (lineno, line))
            name, rest = fields
            parts = rest.split(None, 1)
            ttl = DEFAULT_TTL
            if parts[0].isdigit():
                ttl = int(parts[0])
                parts = parts[1].split(None, 1) if len(parts) > 1 else []
            if not parts:
                raise ValueError("line %d: no type: %r" % (lineno, line))
            rtype = parts[0].upper()
            if rtype in MARKERS:
                self.set_marker(name, rtype, parts[1].strip() if len(parts) > 1 else None)
                continue
            if len(parts) < 2:
                raise ValueError("line %d: no rdata: %r" % (lineno, line))
            self.add(name, rtype, parts[1].strip(), ttl)

    def load_json(self, obj):
        """load_json - add the entries of a JSON zone (text or parsed)"""
        if isinstance(obj, (str, bytes)):
            obj = json.loads(obj)
        for name, val in obj.items():
            if isinstance(val, str):
                self.set_marker(name, val)
                continue
            for rtype, rdatas in val.items():
                if rdatas in MARKERS:
                    self.set_marker(name, rdatas, rtype)
                    continue
                if isinstance(rdatas, str):
                    rdatas = [rdatas]
                for rdata in rdatas:
                    self.add(name, rtype, rdata)

    # -- answering ----------------------------------------------------------

    def _exists(self, name):
        """_exists - name has a node, or names below it exist"""
        if name in self.zone:
            return True
        if name == ".":
            return bool(self.zone)
        suffix = "." + name
        return any(n.endswith(suffix) for n in self.zone)

    def _lookup(self, name):
        """_lookup - the node for name: exact, else the closest wildcard"""
        node = self.zone.get(name)
        if node is not None or self._exists(name):
            return node
        p = _parent(name)
        while p is not None:
            wild = self.zone.get("*." + p if p != "." else "*.")
            if wild is not None:
                return wild
            if self._exists(p):
                break
            p = _parent(p)
        return None

    def _soa(self, name):
        """_soa - the closest enclosing SOA, else one made up at the TLD"""
        p = name
        while p is not None:
            node = self.zone.get(p)
            if isinstance(node, dict) and isinstance(node.get("SOA"), list):
                rdata, ttl = node["SOA"][0]
                return RR.fromZone("%s %d IN SOA %s" % (p, ttl, rdata))[0]
            p = _parent(p)
        labels = name.rstrip(".").split(".")
        apex = labels[-1] + "." if labels[-1] else "."
        return RR(apex, QTYPE.SOA, ttl=DEFAULT_TTL,
                  rdata=SOA("ns." + apex if apex != "." else "ns.",
                            "hostmaster." + apex if apex != "." else "hostmaster.",
                            (1, 3600, 600, 86400, DEFAULT_TTL)))

    def resolve(self, request, proto):
        """resolve - the reply to request; raises _Silent for no reply"""
        qname = _norm(request.q.qname)
        qtype = QTYPE.get(request.q.qtype, str(request.q.qtype))
        with self._lock:
            self.queries.append((qname, qtype, proto))
            if self.verbose:
                print("dnsserver: %s %s %s" % (proto, qname, qtype), file=sys.stderr, flush=True)
            reply = request.reply(ra=1, aa=1)
            reply.header.ad = 0         # not validated here (copied from the query)
            name = qname
            for _ in range(MAX_CNAME_CHAIN):
                node = self._lookup(name)
                if node == "SILENT":
                    raise _Silent()
                if isinstance(node, str):
                    reply.header.rcode = getattr(RCODE, node)
                    reply.rr = []
                    return reply
                if node is None:
                    if not self._exists(name):
                        reply.header.rcode = RCODE.NXDOMAIN
                    reply.add_auth(self._soa(name))
                    return reply
                marker = node.get(qtype)
                if marker == "SILENT":
                    raise _Silent()
                if isinstance(marker, str):
                    reply.header.rcode = getattr(RCODE, marker)
                    reply.rr = []
                    return reply
                if qtype in node or qtype == "ANY":
                    for rtype, rdatas in node.items():
                        if (rtype != qtype and qtype != "ANY") or isinstance(rdatas, str):
                            continue
                        for rdata, ttl in rdatas:
                            reply.add_answer(*RR.fromZone(
                                "%s %d IN %s %s" % (name, ttl, rtype, rdata)))
                    return reply
                if isinstance(node.get("CNAME"), list) and qtype != "CNAME":
                    rdata, ttl = node["CNAME"][0]
                    rr = RR.fromZone("%s %d IN CNAME %s" % (name, ttl, rdata))[0]
                    reply.add_answer(rr)
                    name = _norm(rr.rdata.label)
                    continue
                reply.add_auth(self._soa(name))     # NODATA
                return reply
            reply.header.rcode = RCODE.SERVFAIL     # CNAME loop
            reply.rr = []
            return reply

    def _answer(self, data, proto):
        """_answer - wire reply to a wire query, or None for no reply"""
        try:
            request = DNSRecord.parse(data)
        except Exception:   # hostile or broken input (any parse error): FORMERR
            if len(data) < 12:
                return None
            hdr = bytearray(data[:12])
            hdr[2] = 0x80 | (hdr[2] & 0x79)     # QR, keep opcode and RD
            hdr[3] = 0x80 | RCODE.FORMERR
            hdr[4:12] = b"\0" * 8
            return bytes(hdr)
        try:
            reply = self.resolve(request, proto)
        except _Silent:
            return None
        wire = reply.pack()
        if proto == "udp":
            limit = 512
            for ar in request.ar:
                if ar.rtype == QTYPE.OPT:
                    limit = max(512, ar.rclass)
            if len(wire) > limit:
                reply.rr, reply.auth, reply.ar = [], [], []
                reply.header.tc = 1
                wire = reply.pack()
        return wire

    # -- the sockets --------------------------------------------------------

    def start(self):
        """start - listen on UDP and TCP (the same port), serve; returns the port"""
        owner = self

        class UDPHandler(socketserver.BaseRequestHandler):
            def handle(self):
                data, sock = self.request
                wire = owner._answer(data, "udp")
                if wire is not None:
                    sock.sendto(wire, self.client_address)

        class TCPHandler(socketserver.BaseRequestHandler):
            def handle(self):
                # Several length-prefixed queries may come on one connection.
                self.request.settimeout(30)
                try:
                    while True:
                        hdr = self._read(2)
                        if hdr is None:
                            return
                        data = self._read(struct.unpack("!H", hdr)[0])
                        if data is None:
                            return
                        wire = owner._answer(data, "tcp")
                        if wire is not None:
                            self.request.sendall(struct.pack("!H", len(wire)) + wire)
                except OSError:
                    return

            def _read(self, n):
                buf = b""
                while len(buf) < n:
                    chunk = self.request.recv(n - len(buf))
                    if not chunk:
                        return None
                    buf += chunk
                return buf

        class UDPServer(socketserver.ThreadingUDPServer):
            daemon_threads = True
            allow_reuse_address = True

        class TCPServer(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        # Port 0: take the UDP port the kernel gives and try it for TCP too.
        for _ in range(20):
            udp = UDPServer((self.host, self.port), UDPHandler)
            port = udp.server_address[1]
            try:
                tcp = TCPServer((self.host, port), TCPHandler)
            except OSError:
                udp.server_close()
                if self.port:
                    raise
                continue
            break
        else:
            raise OSError("dnsserver: no port free for both UDP and TCP")
        self._udp, self._tcp, self.port = udp, tcp, port
        for srv in (udp, tcp):
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                                 daemon=True)
            t.start()
            self._threads.append(t)
        return port

    def stop(self):
        """stop - stop serving and close the sockets; harmless if not started"""
        for srv in (self._udp, self._tcp):
            if srv is not None:
                srv.shutdown()
                srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._udp = self._tcp = None
        self._threads = []

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description="authoritative DNS server for tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: pick a free one (printed)")
    ap.add_argument("--zone-file", action="append", default=[],
                    help="zone text file, or JSON if it ends in .json")
    ap.add_argument("--zone", action="append", default=[], help="zone text")
    ap.add_argument("--json", action="append", default=[], help="zone as JSON text")
    ap.add_argument("--exit-on-eof", action="store_true",
                    help="exit when stdin reaches end of file")
    ap.add_argument("-v", "--verbose", action="store_true", help="log queries to stderr")
    args = ap.parse_args(argv)

    srv = DNSTestServer(host=args.host, port=args.port, verbose=args.verbose)
    for path in args.zone_file:
        with open(path, encoding="utf-8") as f:
            if path.endswith(".json"):
                srv.load_json(f.read())
            else:
                srv.load_text(f.read())
    for text in args.zone:
        srv.load_text(text)
    for text in args.json:
        srv.load_json(text)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    port = srv.start()
    print(port, flush=True)
    if args.exit_on_eof:
        def watch():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except OSError:
                pass
            done.set()
        threading.Thread(target=watch, daemon=True).start()
    while not done.wait(0.5):
        pass
    srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
