#!/usr/bin/python3
"""crosscheck - src/dkim against two independent implementations.

Not part of `make unit` (it needs root, dkimpy, python3-nacl, dnslib and
opendkim-tools). Run from the top of the tree as root:

    /usr/bin/python3 tests/unit/data/dkim/crosscheck.py [N]

It builds tests/unit/data/dkim/dkimtool.c against build/san/ (ASan and
UBSan), makes an RSA-2048 and an Ed25519 key with `postino dkim keygen`,
and then, for the fixed vectors and for N (default 300) random messages
(folding, white space runs, repeated and list fields, empty bodies,
trailing blank lines and lines of white space):

  1. signs with postino, verifies with dkimpy (RSA and Ed25519);
  2. signs with postino, verifies with opendkim-testmsg (libopendkim);
  3. signs with dkimpy (all four c= combinations, with and without l=,
     RSA and Ed25519), verifies with postino;
  4. signs with opendkim-testmsg (RSA), verifies with postino.

opendkim looks keys up through the system resolver, so the script runs
itself in a private mount and network namespace (unshare -mn) where
/etc/resolv.conf points at a small dnslib server on 127.0.0.1:53 that
serves the key records; nothing leaves the machine.
"""
import atexit
import base64
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
DATA = os.path.join(HERE, "dkimpy")
NOW = 1764380000

if os.environ.get("CROSSCHECK_INNER") != "1":
    env = dict(os.environ, CROSSCHECK_INNER="1")
    os.execvpe("unshare", ["unshare", "-mn", "/usr/bin/python3", os.path.abspath(__file__)]
               + sys.argv[1:], env)

import dkim                                     # noqa: E402
from dnslib import RR, QTYPE, TXT, RCODE       # noqa: E402
from dnslib.server import DNSServer, DNSLogger, BaseResolver  # noqa: E402

RECORDS = {}                                    # name (no final dot) -> TXT value


class Resolver(BaseResolver):
    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if name in RECORDS and request.q.qtype == QTYPE.TXT:
            v = RECORDS[name].encode()
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, ttl=60,
                                rdata=TXT([v[i:i + 255] for i in range(0, len(v), 255)])))
        elif name not in RECORDS:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def setup_dns(tmp):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    conf = os.path.join(tmp, "resolv.conf")
    with open(conf, "w") as f:
        f.write("nameserver 127.0.0.1\noptions edns0\n")
    subprocess.run(["mount", "--bind", conf, "/etc/resolv.conf"], check=True)
    for tcp in (False, True):
        quiet = DNSLogger(log="-recv,-send,-request,-reply,-truncated,-error,-data")
        s = DNSServer(Resolver(), address="127.0.0.1", port=53, tcp=tcp, logger=quiet)
        threading.Thread(target=s.server.serve_forever, daemon=True).start()


def build_tool():
    objs = ["build/san/dkim/%s.o" % m for m in ("canon", "tags", "key", "sign", "verify", "store")]
    objs += ["build/san/util/%s.o" % m for m in ("buf", "xmalloc", "fsutil")]
    subprocess.run(["make", "-s", "-j2"] + objs, cwd=TOP, check=True)
    # ./postino for keygen; other modules may be half-edited, so an old binary will do
    if subprocess.run(["make", "-s", "-j2", "postino"], cwd=TOP).returncode != 0:
        print("crosscheck: make postino failed; using the existing ./postino", file=sys.stderr)
    cmd = ["cc", "-std=c17", "-Wall", "-Wextra", "-Werror", "-Wshadow", "-Wstrict-prototypes",
           "-Wmissing-prototypes", "-Wformat=2", "-D_GNU_SOURCE", "-Isrc", "-O1", "-g",
           "-fsanitize=address,undefined", "-fno-omit-frame-pointer",
           "-o", "build/dkimtool", os.path.join(HERE, "dkimtool.c")] + objs + ["-lcrypto"]
    subprocess.run(cmd, cwd=TOP, check=True)
    return os.path.join(TOP, "build", "dkimtool")


class Checker:
    def __init__(self, tool, tmp):
        self.tool, self.tmp = tool, tmp
        self.counts, self.failures = {}, []

    def count(self, what, ok, detail=""):
        c = self.counts.setdefault(what, [0, 0])
        c[0] += 1
        if ok:
            c[1] += 1
        else:
            self.failures.append("%s: %s" % (what, detail))

    def our_sign(self, msg, key, domain, sel):
        p = subprocess.run([self.tool, "sign", key, domain, sel, str(NOW)], input=msg,
                           capture_output=True)
        if p.returncode != 0:
            raise RuntimeError("dkimtool sign: " + p.stderr.decode())
        return p.stdout

    def our_verify(self, msg):
        dns = os.path.join(self.tmp, "dns")
        with open(dns, "w") as f:
            for name, txt in RECORDS.items():
                f.write("%s\t%s\n" % (name, txt))
        p = subprocess.run([self.tool, "verify", str(NOW), dns], input=msg, capture_output=True)
        if p.returncode != 0 or p.stderr:
            raise RuntimeError("dkimtool verify: " + p.stderr.decode())
        return p.stdout.decode().splitlines()

    @staticmethod
    def dnsfunc(name, timeout=5):
        n = name.decode() if isinstance(name, bytes) else name
        return RECORDS.get(n.rstrip(".").lower(), "").encode() or None

    def dkimpy_verify(self, signed):
        return dkim.verify(signed, dnsfunc=self.dnsfunc)

    def opendkim(self, args, msg):
        # opendkim-testmsg misreads small messages from a pipe ("dkim_chunk():
        # Syntax error"); from a file it is fine
        path = os.path.join(self.tmp, "opendkim.msg")
        with open(path, "wb") as f:
            f.write(msg.replace(b"\n", b"\r\n"))
        with open(path, "rb") as f:
            return subprocess.run(["opendkim-testmsg"] + args, stdin=f, capture_output=True)

    def opendkim_verify(self, signed):
        p = self.opendkim([], signed)
        return p.returncode == 0, p.stderr.decode().strip()

    def opendkim_sign(self, msg, key, domain, sel):
        p = self.opendkim(["-d", domain, "-k", key, "-s", sel], msg)
        if p.returncode != 0:
            return None, p.stderr.decode().strip()
        return p.stdout.replace(b"\r\n", b"\n"), ""


def random_message(rng):
    def ws():
        return rng.choice([" ", " ", "\t", "  ", " \t ", "\t\t"])

    def value(words):
        out = ""
        for i in range(words):
            w = "".join(rng.choice("abcxyzQRS0123-.<>@") for _ in range(rng.randint(1, 9)))
            out += (ws() if i else rng.choice(["", " ", " ", "  ", "\t"])) + w
            if rng.random() < 0.15:
                out += "\n" + ws()            # a fold
        if rng.random() < 0.2:
            out += rng.choice([" ", "\t", "  "])  # trailing white space
        return out

    names = ["To", "Cc", "Subject", "Message-ID", "Reply-To", "List-Id",
             "List-Unsubscribe", "MIME-Version", "Content-Type", "X-Mailer", "Received",
             "In-Reply-To", "References", "Sender"]
    # one From with an address and one Date, which opendkim insists on
    # (its dkim_chunk() says "Syntax error" otherwise); sometimes more
    addr = rng.choice(["a@example.com", " A B <ab@example.com>", "\tX  Y\n <x@example.com>",
                       "  \"Q\" <q@sub.example.com>  ", " c@example.com (comment)"])
    fields = ["%s:%s" % (rng.choice(["From", "FROM", "from"]), addr),
              "%s: %s" % (rng.choice(["Date", "date"]), "Mon, 1 Jan 2024 01:02:03 +0000")]
    for _ in range(rng.randint(0, 10)):
        fields.append("%s:%s" % (rng.choice(names), value(rng.randint(0, 6))))
    rng.shuffle(fields)
    body = []
    for _ in range(rng.choice([0, 0, 1, 2, 5, 20])):
        body.append(rng.choice(["", "", " ", "\t", "text", "a  b", "a\t b ", " lead",
                                "trail  ", "x" * rng.randint(1, 200), value(5).replace("\n", "")]))
    # always a final LF, as in the queue. (Without one, RFC 6376 3.4.4 adds
    # a CRLF; opendkim 2.11 does not for relaxed, and dkimpy keeps a last
    # partial line of white space only: both differ from the RFC there,
    # which the unit tests check instead.)
    text = "\n".join(fields) + "\n\n" + "\n".join(body)
    if body:
        text += "\n"
    text += "\n" * rng.choice([0, 0, 0, 1, 3])
    return text.encode()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    tmp = tempfile.mkdtemp(prefix="dkim-cross-")
    os.chmod(tmp, 0o755)        # keygen, run as root, writes as run_as: it must get in
    setup_dns(tmp)
    tool = build_tool()
    c = Checker(tool, tmp)
    atexit.register(shutil.rmtree, tmp, True)

    # keys: two made by postino dkim keygen, the RFC 8463 / dkimpy ones
    data = os.path.join(tmp, "data")
    keys = {}
    for alg, sel in (("rsa", "cross2048"), ("ed25519", "crossed")):
        p = subprocess.run([os.path.join(TOP, "postino"), "dkim", "keygen", "cross.example",
                            "--selector", sel, "--algorithm", alg, "-o", "data_dir=" + data],
                           capture_output=True, check=True)
        path = os.path.join(data, "dkim", "cross.example", "%s.%s.pem" % (sel, alg))
        # the zone-file line, read by a zone parser (dnslib's)
        rr = RR.fromZone(p.stdout.decode())[0]
        strings = rr.rdata.data
        c.count("keygen zone line parses, strings <= 255",
                str(rr.rname) == "%s._domainkey.cross.example." % sel and rr.rtype == QTYPE.TXT
                and all(len(x) <= 255 for x in strings), p.stdout.decode())
        RECORDS["%s._domainkey.cross.example" % sel] = b"".join(strings).decode()
        keys[alg] = (path, "cross.example", sel)
        # (opendkim-testkey would be the natural check here, but it resolves
        # from the root servers itself, which the namespace cannot reach;
        # opendkim-testmsg verifying signatures made with these keys below
        # shows the records match the keys)
    test_private = os.path.join(DATA, "test.private")
    with open(os.path.join(DATA, "test.txt")) as f:
        RECORDS["test._domainkey.example.com"] = f.read().strip()
    keys["rsa1024"] = (test_private, "example.com", "test")
    seed = base64.b64decode(open(os.path.join(DATA, "rfc8032_7_1.key")).read())
    der = bytes.fromhex("302e020100300506032b657004220420") + seed
    ed_pem = os.path.join(tmp, "brisbane.pem")
    with open(ed_pem, "w") as f:
        f.write("-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n"
                % base64.b64encode(der).decode())
    RECORDS["brisbane._domainkey.football.example.com"] = \
        "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
    keys["brisbane"] = (ed_pem, "football.example.com", "brisbane")
    dkimpy_keys = {
        "rsa1024": (open(test_private, "rb").read(), b"rsa-sha256"),
        "brisbane": (base64.b64encode(seed), b"ed25519-sha256"),
    }

    # the golden signatures of test_dkim.c: the very bytes postino makes,
    # and they verify with dkimpy and opendkim
    for golden, msgfile, kname in (("ours-rsa1024.sig", "test.message", "rsa1024"),
                                   ("ours-ed25519.sig", "rfc6376.msg", "brisbane")):
        gold = open(os.path.join(HERE, golden), "rb").read()
        msg = open(os.path.join(DATA, msgfile), "rb").read()
        c.count("golden %s == postino's output" % golden,
                c.our_sign(msg, *keys[kname]) == gold, golden)
        c.count("golden %s -> dkimpy verify" % golden, c.dkimpy_verify(gold + msg), golden)
        ok, why = c.opendkim_verify(gold + msg)
        c.count("golden %s -> opendkim verify" % golden, ok, "%s %s" % (golden, why))

    fixed = [open(os.path.join(DATA, f), "rb").read()
             for f in ("test.message", "rfc6376.msg", "message.mbox", "test_extra.message")]
    rng = random.Random(6376)
    messages = fixed + [random_message(rng) for _ in range(n)]

    skipped = 0
    for i, msg in enumerate(messages):
        tag = "msg%d" % i
        # opendkim-testmsg refuses some messages outright (obsolete syntax
        # such as a continuation line of white space only, a Sender or From
        # it cannot parse): those are not checked with it
        osigned, owhy = c.opendkim_sign(msg, test_private, "example.com", "test")
        if osigned is None:
            skipped += 1
        for kname, (path, domain, sel) in keys.items():
            sig = c.our_sign(msg, path, domain, sel)
            signed = sig + msg
            c.count("postino sign -> dkimpy verify (%s)" % kname, c.dkimpy_verify(signed),
                    "%s %r" % (tag, signed[:3000]))
            if osigned is not None:
                ok, why = c.opendkim_verify(signed)
                c.count("postino sign -> opendkim verify (%s)" % kname, ok,
                        "%s %s %r" % (tag, why, signed[:3000]))
                ok, why = c.opendkim_verify(signed + b"tampered\n")
                c.count("postino sign + tampered body -> opendkim rejects", not ok, tag)
            got = c.our_verify(signed)
            c.count("postino sign -> postino verify (%s)" % kname,
                    got[0].startswith("pass "), "%s %s" % (tag, got))
        for kname, (pk, alg) in dkimpy_keys.items():
            _, domain, sel = keys[kname]
            for hc in (b"simple", b"relaxed"):
                for bc in (b"simple", b"relaxed"):
                    for length in (False, True):
                        sig = dkim.sign(msg, sel.encode(), domain.encode(), pk,
                                        canonicalize=(hc, bc), signature_algorithm=alg,
                                        length=length)
                        signed = sig.replace(b"\r\n", b"\n") + msg
                        got = c.our_verify(signed)
                        want = "pass "
                        c.count("dkimpy sign -> postino verify (%s)" % kname,
                                got[0].startswith(want),
                                "%s %s/%s l=%s %s %r" % (tag, hc, bc, length, got, signed[:3000]))
                        if length:
                            # text appended after the signed l= octets: neutral, see dkim.h
                            # (an empty body, one CRLF in simple, is not a prefix
                            # of the longer one: there it is a body hash mismatch)
                            more = b"appended\n" if msg.endswith(b"\n") else b"\nappended\n"
                            got = c.our_verify(signed + more)
                            empty = not msg.split(b"\n\n", 1)[1].strip(b"\n")
                            c.count("dkimpy sign l= + appended -> postino neutral",
                                    got[0].startswith("neutral ") or
                                    (empty and bc == b"simple" and "body hash mismatch" in got[0]),
                                    "%s %s" % (tag, got))
        # opendkim-testmsg can only sign with rsa-sha1, which RFC 8301 retired
        if osigned is not None:
            got = c.our_verify(osigned)
            c.count("opendkim sign (rsa-sha1) -> postino permerror",
                    got[0].startswith("permerror ") and "rsa-sha1" in got[0],
                    "%s %s" % (tag, got))
        # a changed body must fail everywhere
        sig = c.our_sign(msg, *keys["rsa"])
        bad = sig + msg + b"tampered\n"
        c.count("postino sign + tampered body -> dkimpy rejects", not c.dkimpy_verify(bad), tag)
        got = c.our_verify(bad)
        c.count("postino sign + tampered body -> postino fail",
                got[0].startswith("fail "), "%s %s" % (tag, got))

    print("%d messages (%d fixed, %d random); opendkim-testmsg refused %d of them"
          % (len(messages), len(fixed), n, skipped))
    for what, (total, ok) in c.counts.items():
        print("%-52s %5d/%d" % (what, ok, total))
    for f in c.failures[:20]:
        print("FAIL", f)
    sys.exit(1 if c.failures else 0)


if __name__ == "__main__":
    main()
