"""Alert channels and webhooks go only where the egress policy allows: the tests' receivers on
127.0.0.1 are admitted by the allow-list, everything else inside is refused, and a person reads
"refused by policy" or "could not deliver", never the connection's own error."""
import pytest
from sqlalchemy import select

from models import AlertTarget, Webhook, WebhookDelivery, db

from ..conftest import free_port
from ..receivers import HttpReceiver, SmtpInbox, wait_for
from .staff import customer_journey, soup
from .test_alerts import add_target
from .test_webhooks import add_hook

POLICY = "Refused by policy"
INSIDE = ["json://127.0.0.1:8299/x?method=GET&+X-Probe=1", "jsons://169.254.169.254/latest/",
          "json://metadata.google.internal/computeMetadata/v1/", "json://[::1]:8080/",
          "json://10.0.0.1/", "json://0/", "json://2130706433/", "ntfy://localhost/topic",
          "json://127.0.0.2:8000/"]


@pytest.fixture
def no_allow_list(app, monkeypatch):
    """The default install: nothing inside is admitted, not even the tests' 127.0.0.1."""
    monkeypatch.setitem(app.config, "EGRESS_ALLOW", ())


@pytest.fixture
def inside():
    """A receiver on 127.0.0.2: loopback, and outside the tests' allow-list."""
    receiver = HttpReceiver(host="127.0.0.2").start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("url", INSIDE)
def test_an_agent_cannot_point_an_alert_channel_inside(agent, no_allow_list, url):
    refused = add_target(agent, "Probe", url)
    # "json://0/" is one Apprise cannot even read: refused as no alert address at all.
    expected = "Kulak cannot send alerts" if url == "json://0/" else POLICY
    assert refused.status_code == 422 and expected in soup(refused).get_text()
    assert db.session.scalars(select(AlertTarget)).all() == []


@pytest.mark.parametrize("url", ["mqtt://broker.example.com/kulak", "windows://",
                                 "dbus://", "file:///etc/passwd"])
def test_an_undocumented_scheme_is_refused(agent, url):
    refused = add_target(agent, "Probe", url)
    assert refused.status_code == 422
    assert "Kulak cannot send alerts to that address" in soup(refused).get_text()


@pytest.mark.parametrize("url", ["http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/",
                                 "http://0/", "http://2130706433/", "https://169.254.169.254/",
                                 "http://metadata.google.internal/"])
def test_a_manager_cannot_point_a_webhook_inside(manager, no_allow_list, url):
    refused = add_hook(manager, url)
    assert refused.status_code == 422 and POLICY in soup(refused).get_text()
    assert db.session.scalars(select(Webhook)).all() == []


def test_the_allow_list_admits_the_operators_receiver(agent, http_receiver):
    url = f"json://127.0.0.1:{http_receiver.port}/desk"
    assert add_target(agent, "Desk", url).status_code == 303
    tried = agent.submit(agent.get("/inbox/alerts"), 'form[action$="/test"]')
    assert tried.status_code == 200 and [r["path"] for r in http_receiver.requests] == ["/desk"]


def stored_target(agent, url):
    """An alert channel already in the database (added before the policy, or by a name that
    resolved elsewhere then): the send itself must refuse it."""
    member = agent.member
    db.session.add(AlertTarget(brand_id=member.brand_id, staff_id=member.id, label="Probe",
                               url=url))
    db.session.commit()


def test_a_stored_channel_inside_is_refused_when_sending_and_nothing_arrives(agent, inside):
    stored_target(agent, f"json://127.0.0.2:{inside.port}/x?method=GET&+X-Probe=1")
    tried = agent.submit(agent.get("/inbox/alerts"), 'form[action$="/test"]')
    assert tried.status_code == 502
    assert "did not arrive: refused by policy" in soup(tried).get_text()
    assert inside.requests == []


def test_a_redirect_from_an_admitted_receiver_to_inside_is_not_followed(agent, http_receiver,
                                                                        inside):
    http_receiver.redirect_to = f"http://127.0.0.2:{inside.port}/secret"
    add_target(agent, "Desk", f"json://127.0.0.1:{http_receiver.port}/desk")
    tried = agent.submit(agent.get("/inbox/alerts"), 'form[action$="/test"]')
    assert tried.status_code == 502 and "refused by policy" in soup(tried).get_text()
    assert len(http_receiver.requests) == 1 and inside.requests == []


def test_mail_to_a_relay_inside_is_refused_too(agent):
    relay = SmtpInbox(free_port(), host="127.0.0.2").start()
    try:
        stored_target(agent, f"mailto://127.0.0.2:{relay.port}?from=k@example.com&to=a@b.c")
        tried = agent.submit(agent.get("/inbox/alerts"), 'form[action$="/test"]')
        assert tried.status_code == 502 and relay.messages == []
    finally:
        relay.stop()


def test_a_failed_test_alert_does_not_say_how_it_failed(agent):
    """Open, closed or filtered ports would otherwise read differently: a port scanner."""
    add_target(agent, "Old pager", f"json://127.0.0.1:{free_port()}/hook")
    tried = agent.submit(agent.get("/inbox/alerts"), 'form[action$="/test"]')
    text = soup(tried).get_text()
    assert tried.status_code == 502 and "did not arrive: could not deliver" in text
    for raw in ("Connection refused", "Errno", "HTTPConnection", "Max retries"):
        assert raw not in text


def webhook_to(demo, url):
    hook = Webhook(brand_id=demo.id, url=url, secret="s" * 32, events=["conversation.created"])
    db.session.add(hook)
    demo.webhook_events = ["conversation.created"]
    db.session.commit()
    return hook


def first_attempt():
    """The one delivery once its first attempt is over (run by the job the event queued)."""
    def attempted():
        db.session.expire_all()
        delivery = db.session.scalar(select(WebhookDelivery))
        return delivery if delivery is not None and delivery.attempts else None
    return wait_for(attempted)


def test_a_stored_webhook_inside_is_refused_and_its_log_says_so(client, demo, manager, inside):
    webhook_to(demo, f"http://127.0.0.2:{inside.port}/crm")
    customer_journey(client, "Is breakfast included?")
    assert first_attempt().last_error == "refused by policy" and inside.requests == []
    log = soup(manager.get("/admin/webhooks")).get_text()
    assert "refused by policy: Kulak does not send to internal or private addresses" in log


def test_a_webhook_that_cannot_connect_logs_could_not_deliver_not_the_error(client, demo,
                                                                            manager):
    webhook_to(demo, f"http://127.0.0.1:{free_port()}/crm")
    customer_journey(client, "Is breakfast included?")
    assert first_attempt().last_error == "could not deliver"
    log = soup(manager.get("/admin/webhooks")).get_text()
    assert "could not deliver" in log and "Errno" not in log and "Max retries" not in log
