"""test_config_cli - the command line and the configuration (issue 2, section 2).

`postino check-config` reports every error as FILE:LINE and exits
non-zero; the shipped example is valid; -o overrides the file; help
verbs; serve refuses a bad configuration; the keys take effect (hostname,
domains, listen_smtp with several addresses, size suffixes).
"""

import re
import socket

import pytest

from conftest import (HOST, ROOT, Raw, free_port, is_listening, run_postino)


def out(p):
    return (p.stdout + p.stderr).decode("utf-8", "replace")


def check(path, *extra, cwd=None):
    return run_postino(["check-config", "-c", str(path)] + list(extra), cwd=cwd)


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_check_config_accepts_every_key(tmp_path):
    conf = tmp_path / "good.conf"
    conf.write_text(
        "# every key of issue 2\n"
        "data_dir = %s\n"
        "domains = example.test other.test\n"
        "listen_smtp = 127.0.0.1:2600 [::1]:2600 :2601\n"
        "\n"
        "message_size_limit = 10m\n"
        "smtp_timeout = 5m\n"
        "smtp_data_timeout = 180\n"
        "max_connections = 100\n"
        "max_connections_per_ip = 10\n"
        "log = syslog\n"
        "aliases_file = %s\n"
        "   # an indented comment\n"
        "hostname=mx2.example.test\n"
        "  max_recipients   =   7  \n"
        % (tmp_path / "data", tmp_path / "aliases"))
    p = check(conf)
    assert p.returncode == 0, out(p)
    assert not re.search(r"%s:\d+:" % re.escape(str(conf)), out(p)), out(p)


def test_shipped_example_is_valid(tmp_path):
    p = check(ROOT / "postino.conf.example", cwd=tmp_path)
    assert p.returncode == 0, out(p)


BROKEN = """# broken on purpose
hostname = mx.example.test
no_such_key = 1
max_recipients = lots
listen_smtp = 127.0.0.1:99999

smtp_timeout = soon
log = nowhere
message_size_limit = 12q
this line has no equals sign
max_connections_per_ip = -4
domains = example.test
"""


def test_check_config_reports_every_error_at_once(tmp_path):
    conf = tmp_path / "broken.conf"
    conf.write_text(BROKEN)
    p = check(conf)
    text = out(p)
    assert p.returncode != 0, text
    for line in (3, 4, 5, 7, 8, 9, 10, 11):
        assert "%s:%d:" % (conf, line) in text, "no error for line %d of:\n%s\noutput:\n%s" % (line, BROKEN, text)
    for line in (1, 2, 6, 12):
        assert "%s:%d:" % (conf, line) not in text, "error for good line %d:\n%s" % (line, text)


BAD_VALUES = [
    ("no_such_key", "1"),
    ("max_recipients", "lots"),
    ("max_recipients", "-1"),
    ("message_size_limit", "12q"),
    ("message_size_limit", "99999999999999999999999999"),
    ("smtp_timeout", "5 parsecs"),
    ("smtp_timeout", ""),
    ("smtp_data_timeout", "-3s"),
    ("max_connections", "many"),
    ("max_connections_per_ip", "x"),
    ("log", "nowhere"),
    ("listen_smtp", "127.0.0.1"),
    ("listen_smtp", "127.0.0.1:99999"),
    ("listen_smtp", "127.0.0.1:"),
    ("listen_smtp", "300.1.1.1:25"),
    ("listen_smtp", "[::1:25"),
    ("listen_smtp", "127.0.0.1:25x"),
    ("listen_smtp", "mail.example.test:25"),
    ("domains", "bad..domain"),
]


@pytest.mark.parametrize("key,value", BAD_VALUES, ids=["%s=%s" % kv for kv in BAD_VALUES])
def test_check_config_bad_value(tmp_path, key, value):
    conf = tmp_path / "bad.conf"
    conf.write_text("# one bad line\n%s = %s\nhostname = mx.example.test\n" % (key, value))
    p = check(conf)
    assert p.returncode != 0, "%s = %r accepted: %s" % (key, value, out(p))
    assert "%s:2:" % conf in out(p), out(p)
    assert "%s:3:" % conf not in out(p), out(p)


def test_check_config_bad_override(tmp_path):
    conf = tmp_path / "good.conf"
    conf.write_text("hostname = mx.example.test\n")
    assert check(conf).returncode == 0
    for o in ("max_recipients=lots", "no_such_key=1", "listen_smtp=nowhere", "hostname"):
        p = check(conf, "-o", o)
        assert p.returncode != 0, "-o %s accepted: %s" % (o, out(p))


def test_check_config_missing_file(tmp_path):
    p = check(tmp_path / "missing.conf")
    assert p.returncode != 0, out(p)


@pytest.mark.parametrize("argv", [["help"], ["serve", "--help"], ["user", "--help"],
                                  ["check-config", "--help"]], ids=lambda a: " ".join(a))
def test_help(argv, tmp_path):
    p = run_postino(argv, cwd=tmp_path, timeout=10)
    assert p.returncode == 0, out(p)
    text = out(p)
    assert "usage" in text.lower() or argv[0] in text, text
    if argv == ["help"]:
        for verb in ("serve", "user", "check-config"):
            assert verb in text, "postino help does not mention %s:\n%s" % (verb, text)
    assert not (tmp_path / "postino-data").exists(), "help created a data folder"


def test_unknown_verb_and_option_fail(tmp_path):
    p = run_postino(["frobnicate"], cwd=tmp_path, timeout=10)
    assert p.returncode != 0, out(p)
    p = run_postino(["serve", "--no-such-option"], cwd=tmp_path, timeout=10)
    assert p.returncode != 0, out(p)
    p = run_postino(["user", "frobnicate", "x@example.test"], cwd=tmp_path, timeout=10)
    assert p.returncode != 0, out(p)


def test_serve_refuses_a_bad_configuration(tmp_path):
    port = free_port()
    conf = tmp_path / "bad.conf"
    conf.write_text("data_dir = %s\nlisten_smtp = 127.0.0.1:%d\nmax_recipients = lots\n" % (tmp_path / "d", port))
    p = run_postino(["serve", "-c", str(conf)], cwd=tmp_path, timeout=15)
    assert p.returncode != 0, out(p)
    assert "%s:3:" % conf in out(p), out(p)
    assert not is_listening(HOST, port)


def test_override_wins_over_the_file(start_server):
    port = free_port()
    s = start_server(options={"listen_smtp": "%s:%d" % (HOST, port), "hostname": "override.example.test"},
                     listen=[(HOST, port)])
    with Raw(HOST, port) as c:
        assert c.greeting.code == 220
        assert c.greeting.texts[0].split()[0] == "override.example.test", c.greeting
    assert not is_listening(HOST, s.port), "still listening on the file's address"


def test_file_syntax_spaces_and_comments(start_server):
    s = start_server(start=False)
    s.conf_path.write_text(
        "# comment\n\n"
        "   data_dir=%s\n"
        "listen_smtp   =   %s:%d   \n"
        "\t# tab-indented comment\n"
        "domains = example.test\n"
        "hostname =spaced.example.test\n" % (s.data_dir, HOST, s.port))
    s.start()
    with Raw(s) as c:
        assert c.greeting.texts[0].split()[0] == "spaced.example.test", c.greeting
        c.ehlo()
        c.expect("MAIL FROM:<a@client.example.test>", 250)
        c.expect("RCPT TO:<alice@example.test>", 250)
        r = c.cmd("RCPT TO:<dave@other.test>")          # other.test is not local here
        assert r.code == 554 and r.enhanced() == "5.7.1", r


def test_size_suffix(start_server):
    s = start_server(conf={"message_size_limit": "20k"})
    with Raw(s) as c:
        r = c.ehlo()
        assert "SIZE 20480" in r.texts or "SIZE 20000" in r.texts, r


def test_listen_on_several_addresses(start_server):
    p1, p2 = free_port(), free_port()
    addrs = [(HOST, p1), (HOST, p2)]
    if ipv6_loopback():
        addrs.append(("::1", free_port("::1")))
    spec = " ".join("[%s]:%d" % a if ":" in a[0] else "%s:%d" % a for a in addrs)
    s = start_server(conf={"listen_smtp": spec}, listen=addrs)
    for h, p in addrs:
        with Raw(h, p) as c:
            assert c.greeting.code == 220, (h, p, c.greeting)
            c.ehlo()
            c.expect("QUIT", 221)
    assert s.running()


def test_listen_on_every_address(start_server):
    p = free_port()
    s = start_server(conf={"listen_smtp": ":%d" % p}, listen=[("0.0.0.0", p)])
    with Raw(HOST, p) as c:
        assert c.greeting.code == 220, c.greeting
    with Raw("127.0.0.2", p) as c:
        assert c.greeting.code == 220, c.greeting
    assert s.running()
