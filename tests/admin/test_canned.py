"""The canned replies page: every member of staff keeps the brand's frequent answers."""
from sqlalchemy import select

from models import CannedReply, db

from ..inbox.staff import Staff, soup
from ..inbox.test_isolation import build_rival


def test_a_lead_adds_edits_and_deletes_canned_replies(app, demo):
    lead = Staff(app, "lead@demo.example")  # leads and up manage them; agents insert them

    def save(url, title, body):
        return lead.submit(lead.get(url), "form.card", title=title, body=body)

    assert save("/admin/canned", "Breakfast", "At 7.").headers["Location"] == "/admin/canned"
    assert save("/admin/canned", "Checkout", "Checkout is at noon.").status_code == 303
    twice = save("/admin/canned", "Breakfast", "Another text")
    assert twice.status_code == 422
    assert "A canned reply with that title already exists." in twice.text
    assert soup(twice).select_one("#canned-body").get_text() == "Another text"
    breakfast, checkout = db.session.scalars(select(CannedReply).order_by(CannedReply.title)).all()
    garden = "Served 7 to 10 in the garden."
    assert save(f"/admin/canned/{breakfast.id}", "Breakfast", garden).status_code == 303
    clash = save(f"/admin/canned/{checkout.id}", "Breakfast", "Clash")
    assert clash.status_code == 422 and "Edit “Checkout”" in clash.text
    db.session.expire_all()
    assert [(c.title, c.body) for c in db.session.scalars(
        select(CannedReply).order_by(CannedReply.title))] == [
        ("Breakfast", garden), ("Checkout", "Checkout is at noon.")]
    delete = f'form[action="/admin/canned/{checkout.id}/delete"]'
    gone = lead.submit(lead.get("/admin/canned"), delete)
    assert (gone.status_code, gone.headers["Location"]) == (303, "/admin/canned")
    assert db.session.scalars(select(CannedReply.title)).all() == ["Breakfast"]


def test_a_bad_canned_reply_is_refused_with_the_text_kept(app, demo):
    lead = Staff(app, "lead@demo.example")  # leads and up manage them
    page = lead.get("/admin/canned")
    for title, body, message in (("", "Some text", "Please give the reply a short title."),
                                 ("Hours", " ", "Please write the reply's text."),
                                 ("x" * 121, "Some text", "at most 120"),
                                 ("Hours", "y" * 4001, "at most 4000")):
        refused = lead.submit(page, "form.card", title=title, body=body)
        assert refused.status_code == 422 and message in refused.text, message
    assert db.session.scalars(select(CannedReply)).all() == []


def test_only_the_brands_own_replies_are_listed_and_editable(app, demo):
    lead = Staff(app, "lead@demo.example")  # leads and up manage them
    rival = build_rival(db.session)
    assert "Rival canned" not in lead.get("/admin/canned").text
    assert lead.get(f"/admin/canned/{rival['canned']}").status_code == 404
