"""test_trial - `postino serve` with no configuration at all (issue 2, section 2).

The trial setup: the machine's name as hostname, local domain localhost
accepting any local part, SMTP on 127.0.0.1:2525, data folder
./postino-data. The "Done when" of issue 2: swaks --to you@localhost
lands in postino-data/mail/localhost/you/new/.
"""

import os
import subprocess

import pytest

from conftest import HOST, Raw, Server, is_listening, make_message, parse_delivered, send_mail, to_lf


@pytest.fixture
def trial(tmp_path):
    if os.path.exists("/etc/postino/postino.conf"):
        pytest.skip("/etc/postino/postino.conf exists: serve would read it instead of the trial setup")
    if is_listening(HOST, 2525):
        pytest.skip("127.0.0.1:2525 is taken by another program; the trial setup needs it")
    s = Server(tmp_path / "cwd", trial=True)
    s.start()
    yield s
    s.finish()


def test_swaks_to_you_at_localhost(trial):
    assert trial.argv()[1:] == ["serve"], trial.argv()
    p = subprocess.run(["swaks", "--server", "127.0.0.1:2525", "--helo", "client.example.test",
                        "--from", "me@client.example.test", "--to", "you@localhost",
                        "--body", "first message", "--timeout", "10"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert p.returncode == 0, p.stdout.decode("utf-8", "replace")
    new = trial.workdir / "postino-data" / "mail" / "localhost" / "you" / "new"
    [data] = trial.wait_messages("you@localhost", 1)
    assert len(list(new.iterdir())) == 1
    d = parse_delivered(data)
    assert d.rest.rstrip(b"\n").endswith(b"\n\nfirst message"), d.rest
    assert (trial.workdir / "postino-data" / "queue").is_dir()


def trial_hostname(trial):
    """the name the trial server gives itself: the one in its greeting"""
    with Raw(trial) as c:
        return c.greeting.texts[0].split()[0]


def test_any_local_part_accepted(trial):
    for rcpt, folder in (("anyone@localhost", "anyone"), ("Some.Body@localhost", "some.body"),
                         ("x+tag@LOCALHOST", "x")):
        msg = make_message(subject="to " + rcpt, to=rcpt)
        send_mail(trial, "me@client.example.test", [rcpt], msg)
        [data] = trial.wait_messages("%s@localhost" % folder, 1)
        # the trial server is named after the machine
        assert parse_delivered(data, trial_hostname(trial)).rest == to_lf(msg)


def test_trial_hostname_and_relay(trial):
    node = os.uname().nodename
    with Raw(trial) as c:
        name = c.greeting.texts[0].split()[0]
        assert name == node or name.split(".")[0] == node.split(".")[0], (
            "greeting %s, machine name %s" % (c.greeting, node))
        c.ehlo()
        c.expect("MAIL FROM:<me@client.example.test>", 250)
        c.expect("RCPT TO:<u@remote.test>", 554, "5.7.1")
        c.expect("RCPT TO:<u@example.test>", 554, "5.7.1")
