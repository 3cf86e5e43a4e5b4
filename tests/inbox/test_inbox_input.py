"""Bad input on the staff side: refused clearly, with the text kept and nothing changed."""

import pytest
from sqlalchemy import select

from models import CannedReply, db

from .staff import (
    ASSIGN,
    NOTE,
    REPLY,
    RESOLVE,
    TRANSFER,
    Staff,
    conversation,
    option,
    soup,
    state,
    tag,
)


@pytest.mark.parametrize("body, error", [
    ("", "Please write a reply before sending."),
    (" \r\n\t ", "Please write a reply before sending."),
    ("x" * 4001, "4000 characters (it has 4001).")], ids=["empty", "blank", "too-long"])
def test_a_bad_reply_is_refused_with_the_text_kept(demo, agent, body, error):
    convo = conversation(demo)
    page = agent.get(f"/inbox/c/{convo.id}")
    before = state(convo.id)
    for htmx in (False, True):
        refused = agent.submit(page, REPLY, htmx=htmx, body=body)
        assert refused.status_code == 422
        assert error in soup(refused).select_one("#reply-error").get_text()
        assert soup(refused).select_one("#reply-body").get_text() == body.strip()
    assert state(convo.id) == before


def test_a_resolved_conversation_refuses_changes_from_a_stale_tab(app, demo, agent):
    convo = conversation(demo, "All good now")
    page = agent.get(f"/inbox/c/{convo.id}")  # still open when this tab loaded it
    assert Staff(app, "lead@demo.example").act(convo.id, RESOLVE).status_code == 303
    before = state(convo.id)
    for selector, fields, says in [
            (REPLY, {"body": "Hello?"}, "This conversation is resolved: reopen it to reply."),
            (ASSIGN, {}, "This conversation is resolved: reopen it first."),
            (TRANSFER, {"target": option(page, "target", "Mehmet Kaya")}, "reopen it first."),
            (RESOLVE, {}, "This conversation is already resolved.")]:
        for htmx in (False, True):
            refused = agent.submit(page, selector, htmx=htmx, **fields)
            assert refused.status_code == 422 and says in refused.text, selector
    assert soup(refused).select_one(".error").get_text() == "This conversation is already resolved."
    assert "Hello?" in agent.submit(page, REPLY, body="Hello?").text
    assert state(convo.id) == before


def test_a_stale_or_missing_csrf_token_changes_nothing(app, demo, agent):
    convo = conversation(demo)
    canned = CannedReply(brand_id=demo.id, title="Hours", body="Open 24 hours.")
    db.session.add(canned)
    db.session.commit()
    stale = Staff(app, "manager@demo.example").token  # another session's token
    lead = Staff(app, "lead@demo.example")  # canned replies are managed by leads and up
    page, canned_page = agent.get(f"/inbox/c/{convo.id}"), lead.get("/admin/canned")
    before, canned_rows = state(convo.id), db.session.execute(select(CannedReply.__table__)).all()
    forms = [(page, REPLY, {"body": "Hi"}), (page, NOTE, {"note": "n"}), (page, ASSIGN, {}),
             (page, TRANSFER, {"target": option(page, "target", "Mehmet Kaya")}),
             (page, RESOLVE, {}),
             (page, tag("sentiment"), {"value": "negative"}),
             (canned_page, "form.card", {"title": "New", "body": "New text"}),
             (canned_page, f'form[action="/admin/canned/{canned.id}/delete"]', {})]
    for token in (None, "", "not-a-token", stale):
        for source, selector, fields in forms:
            actor = lead if source is canned_page else agent
            refused = actor.submit(source, selector, csrf_token=token, **fields)
            assert refused.status_code == 400, (selector, token)
            assert "This form has expired" in refused.text and "nothing was changed" in refused.text
    assert state(convo.id) == before
    assert db.session.execute(select(CannedReply.__table__)).all() == canned_rows


def test_a_tag_value_outside_the_choices_is_refused(demo, agent):
    convo = conversation(demo, sentiment="neutral")
    page = agent.get(f"/inbox/c/{convo.id}")
    before = state(convo.id)
    for field, value in (("sentiment", "furious"), ("urgency", "whenever"), ("sentiment", ""),
                         ("category", "no-such-category"), ("colour", "blue")):
        refused = agent.submit(page, tag("sentiment"), field=field, value=value)
        assert refused.status_code == 422, (field, value)
        assert "That tag value is not one of the choices." in refused.text
    assert state(convo.id) == before
