"""The egress policy itself: which addresses it refuses, and that a refused connection is
never made, through requests and smtplib, with and without gevent."""
import smtplib
import socket
import subprocess
import sys
import textwrap

import pytest
import requests

from app.core import egress
from tests.conftest import free_port
from tests.receivers import HttpReceiver, SmtpInbox

REFUSED_ADDRESSES = [
    "127.0.0.1", "127.0.0.2", "0.0.0.0", "10.0.0.1", "172.16.5.4", "192.168.1.1",
    "169.254.169.254", "100.64.0.1", "224.0.0.1", "255.255.255.255", "::1", "::",
    "fe80::1", "fd00:ec2::254", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2001:db8::1"]
PUBLIC_ADDRESSES = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_loopback_private_link_local_unique_local_and_metadata_addresses_are_refused(address):
    assert not egress.permitted(address)


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_public_addresses_are_permitted(address):
    assert egress.permitted(address)


def test_the_operators_allow_list_admits_its_networks_and_nothing_beside():
    allow = egress.networks(" 127.0.0.1 , 10.20.0.0/16")
    assert egress.permitted("127.0.0.1", allow) and egress.permitted("10.20.3.4", allow)
    assert not egress.permitted("127.0.0.2", allow) and not egress.permitted("10.21.0.1", allow)


def test_a_bad_allow_list_is_refused_at_start_with_an_example():
    with pytest.raises(ValueError, match="KULAK_EGRESS_ALLOW.*10.20.0.0/16"):
        egress.networks("127.0.0.1, intranet")


@pytest.mark.parametrize("url", [
    "json://127.0.0.1:8299/x?method=GET&+X-Probe=1", "jsons://169.254.169.254/latest/",
    "json://metadata.google.internal/computeMetadata/v1/", "json://metadata/",
    "json://[::1]:8080/", "json://10.0.0.1/", "json://0/", "json://2130706433/",
    "json://127.1/", "json://0x7f.1/", "json://017700000001/", "json://[::ffff:127.0.0.1]/",
    "ntfy://localhost/topic", "ntfys://printer.local/topic", "mailto://u:p@127.0.0.1?to=a@b.c",
    "mqtt://broker.example.com/topic", "windows://", "file:///etc/passwd"])
def test_an_alert_url_naming_an_internal_address_or_an_undocumented_scheme_is_refused(url):
    assert egress.problem(url, egress.ALERT_SCHEMES) == egress.REFUSED


@pytest.mark.parametrize("url", ["jsons://hooks.example.com/kulak", "ntfys://ntfy.sh/desk",
                                 "mailtos://user:pw@gmail.com?to=a@example.com",
                                 "tgram://123456:abcdef/987", "json://93.184.216.34/x"])
def test_public_alert_urls_pass_until_they_are_resolved_at_send_time(url):
    assert egress.problem(url, egress.ALERT_SCHEMES) is None


def test_a_name_is_resolved_when_sending_and_refused_when_it_points_inside(http_receiver):
    # "localhost" resolved by this machine's own resolver, with an empty allow-list.
    with egress.guarded(()) as watch, pytest.raises(requests.ConnectionError):
        requests.get(f"http://localhost:{http_receiver.port}/probe", timeout=5)
    assert http_receiver.requests == [] and watch.refused


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, http_receiver):
    """A name that would resolve anew for the connection (DNS rebinding) is never asked twice:
    here the name exists only in the checked answer, yet the request arrives."""
    egress._install()
    real = egress._next["getaddrinfo"]
    answers = iter(["127.0.0.1", "127.0.0.2"])

    def rebinding(host, port, *args, **kwargs):
        if host == "rebind.example":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setitem(egress._next, "getaddrinfo", rebinding)
    allow = egress.networks("127.0.0.1")
    with egress.guarded(allow) as watch:
        assert requests.get(f"http://rebind.example:{http_receiver.port}/one",
                            timeout=5).status_code == 200
        with pytest.raises(requests.ConnectionError):  # the second answer points inside
            requests.get(f"http://rebind.example:{http_receiver.port}/two", timeout=5)
    assert [r["path"] for r in http_receiver.requests] == ["/one"]
    assert watch.refused == ["rebind.example (127.0.0.2)"]


def test_a_redirect_to_an_internal_address_is_not_followed(http_receiver):
    inside = HttpReceiver(host="127.0.0.2").start()
    try:
        http_receiver.redirect_to = f"http://127.0.0.2:{inside.port}/secret"
        with egress.guarded(egress.networks("127.0.0.1")) as watch, \
                pytest.raises(requests.ConnectionError):
            requests.post(f"http://127.0.0.1:{http_receiver.port}/hook", timeout=5)
        assert len(http_receiver.requests) == 1 and inside.requests == []
        assert watch.refused
    finally:
        inside.stop()


def test_smtp_to_an_internal_address_is_refused_and_to_an_admitted_one_works():
    inside = SmtpInbox(free_port(), host="127.0.0.2").start()
    admitted = SmtpInbox(free_port()).start()
    try:
        with egress.guarded(egress.networks("127.0.0.1")):
            with pytest.raises(egress.Refused):
                smtplib.SMTP("127.0.0.2", inside.port, timeout=5)
            with smtplib.SMTP("localhost", admitted.port, timeout=5) as smtp:
                smtp.sendmail("k@example.com", ["a@example.com"], "Subject: hi\r\n\r\nhello")
        assert inside.messages == [] and len(admitted.messages) == 1
    finally:
        inside.stop()
        admitted.stop()


def test_outside_a_guarded_send_nothing_changes(http_receiver):
    """The operator's own settings (a mail relay on 127.0.0.1) are not sent through it."""
    assert requests.get(f"http://localhost:{http_receiver.port}/x", timeout=5).status_code == 200
    socket.create_connection(("localhost", http_receiver.port), timeout=5).close()


GEVENT_PROBE = textwrap.dedent("""
    from gevent import monkey
    monkey.patch_all()
    import smtplib, sys, requests
    from app.core import egress
    http_port, smtp_port = int(sys.argv[1]), int(sys.argv[2])
    outcomes = []
    for allow in ((), egress.networks("127.0.0.1")):
        with egress.guarded(allow):
            for attempt in (lambda: requests.get(f"http://localhost:{http_port}/", timeout=5),
                            lambda: smtplib.SMTP("localhost", smtp_port, timeout=5).quit()):
                try:
                    attempt()
                    outcomes.append("connected")
                except OSError:  # requests' ConnectionError is one too
                    outcomes.append("refused")
    print(" ".join(outcomes))
""")


def test_under_gevent_http_and_smtp_are_refused_too(http_receiver, smtp_inbox):
    """gunicorn's gevent workers replace socket's look-ups: the guard wraps theirs."""
    probe = subprocess.run([sys.executable, "-c", GEVENT_PROBE, str(http_receiver.port),
                            str(smtp_inbox.port)], capture_output=True, text=True, timeout=60)
    # Refused without the allow-list, connected with it: the probe itself can connect.
    assert probe.stdout.split() == ["refused", "refused", "connected", "connected"], \
        probe.stderr[-2000:]
    assert len(http_receiver.requests) == 1
