"""test_logging - one line per event, the queue id on every line of a
message's life, in the spirit of Postfix (issue 2, section 2):

    ID: from=<a@b>, size=N, nrcpt=1
    ID: to=<x@y>, relay=local, delay=..., dsn=2.0.0, status=sent (...)
"""

import re

from conftest import make_message, send_mail

SENDER = "sender@client.example.test"


def test_from_and_to_lines_carry_the_queue_id(server):
    msg = make_message(subject="logged")
    rcpts = ["alice@example.test", "bob@example.test"]
    qid = send_mail(server, SENDER, rcpts, msg)
    q = re.escape(qid)
    [size] = server.wait_log(r"\b%s: from=<sender@client\.example\.test>, size=(\d+), nrcpt=2\b" % q)
    assert len(msg) <= int(size) <= len(msg) + 4096, "size=%s for a message of %d octets" % (size, len(msg))
    for r in rcpts:
        server.wait_log(r"\b%s: to=<%s>, (orig_to=<[^>]*>, )?relay=local, delay=[0-9.]+s?, "
                        r"(.*, )?dsn=2\.0\.0, status=sent \(" % (q, re.escape(r)))
    server.wait_messages("alice@example.test", 1)
    # the id is on every line that speaks of this message, and each event once
    lines = [l for l in server.log().splitlines() if qid in l]
    assert len([l for l in lines if "from=<" in l]) == 1, lines
    assert len([l for l in lines if "status=sent" in l]) == 2, lines


def test_each_message_has_its_own_id(server):
    ids = [send_mail(server, SENDER, ["carol@example.test"], make_message(subject="n%d" % i))
           for i in range(5)]
    assert len(set(ids)) == 5, ids
    for qid in ids:
        server.wait_log(r"\b%s: to=<carol@example\.test>, .*relay=local, .*status=sent" % re.escape(qid))
    server.wait_messages("carol@example.test", 5)


def test_null_sender_logged_as_empty_path(server):
    qid = send_mail(server, "", ["alice@example.test"], make_message())
    server.wait_log(r"\b%s: from=<>, size=\d+, nrcpt=1\b" % re.escape(qid))
    server.wait_messages("alice@example.test", 1)


def test_alias_delivery_logged_per_mailbox(start_server):
    s = start_server(aliases="sales@example.test: alice, bob\n")
    qid = send_mail(s, SENDER, ["sales@example.test"], make_message())
    q = re.escape(qid)
    for r in ("alice@example.test", "bob@example.test"):
        s.wait_log(r"\b%s: to=<%s>.*status=sent" % (q, re.escape(r)))


def test_log_syslog_keeps_mail_events_off_stderr(start_server):
    s = start_server(conf={"log": "syslog"})
    qid = send_mail(s, SENDER, ["alice@example.test"], make_message())
    s.wait_messages("alice@example.test", 1)
    assert s.stop() == 0
    assert qid not in s.log(), "log = syslog, yet the mail events went to stderr:\n%s" % s.log()
