"""Old bookmarks of the settings pages that moved to /admin lead there for good."""
import pytest

from .staff import Staff, login

MOVED = [("/inbox/routing", "/admin/routing"), ("/inbox/escalation", "/admin/escalation"),
         ("/inbox/webhooks", "/admin/webhooks"), ("/inbox/model", "/admin/model"),
         ("/inbox/canned", "/admin/canned")]


@pytest.mark.parametrize("old, new", MOVED)
def test_an_old_address_redirects_permanently_to_the_new_one(app, demo, old, new):
    manager = Staff(app, "manager@demo.example")
    moved = manager.get(old)
    assert (moved.status_code, moved.location) == (308, new)
    assert manager.get(moved.location).status_code == 200
    assert manager.get(f"{old}?queued=1").location == f"{new}?queued=1"


def test_signed_out_the_old_address_asks_to_sign_in_and_then_leads_on(app, demo, client):
    asked = client.get("/inbox/canned")
    assert asked.status_code == 302 and asked.location.startswith("/inbox/login")
    signed_in = login(client, "agent@demo.example", next_url="/inbox/canned")
    assert client.get(signed_in.location).location == "/admin/canned"


def test_an_old_address_that_moved_still_refuses_those_the_table_refuses(app, demo):
    agent = Staff(app, "agent@demo.example")
    assert agent.get("/inbox/routing").location == "/admin/routing"
    assert agent.get("/admin/routing").status_code == 403
