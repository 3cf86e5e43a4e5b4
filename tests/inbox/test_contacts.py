"""One view of the customer: the verified contact on a conversation's page, its earlier
conversations (joined by the verified contact alone), and the name and note staff keep."""
import pytest
from sqlalchemy import select

from app.admin.setup import create_brand
from app.reach import contacts
from models import Answer, Contact, Question, Rating, Survey, SurveyResponse, db
from models.common import NAME_MAX
from models.contact import NOTE_MAX

from .scoping import limit
from .staff import Staff, conversation, soup

ADDRESS = "guest.412@example.com"
PANEL = "#contact-panel"
FORM = "#contact-form"


def new_contact(brand, address=ADDRESS, **columns):
    contact = Contact(brand_id=brand.id, channel="email", address=address, **columns)
    db.session.add(contact)
    db.session.commit()
    return contact


def linked(brand, contact, text, **columns):
    """A conversation whose customer verified `contact`'s address."""
    return conversation(brand, text, contact_id=contact.id, reach_channel="email",
                        reach_address=contact.address, **columns)


def panel(staff, convo):
    found = soup(staff.get(f"/inbox/c/{convo.id}")).select_one(PANEL)
    assert found is not None, "no contact panel on the conversation page"
    return found


def earlier_links(staff, convo):
    return [a["href"] for a in panel(staff, convo).select("ul.earlier a")]


def fresh_contact(contact):
    db.session.expire_all()
    return db.session.get(Contact, contact.id)


def test_the_panel_shows_the_verified_contact_and_its_earlier_conversations(demo, manager):
    contact = new_contact(demo, name="Selin Aydın", note="Allergic to feathers.")
    survey = Survey.for_touchpoint(demo)
    question = Question(survey=survey, position=5, kind="text", prompt={"en": "Anything else?"})
    db.session.add(question)
    before = linked(demo, contact, "The pool was cold.", status="resolved", csat=2, minutes=900)
    db.session.add_all([question, SurveyResponse(
        survey=survey, brand_id=demo.id, conversation_id=before.id,
        answers=[Answer(question=question, text="A quieter room next time")])])
    db.session.add(Rating(brand_id=demo.id, conversation_id=before.id, csat=2,
                          comment="Cold pool, warm staff"))
    db.session.commit()
    newest = linked(demo, contact, "Breakfast ends too early.", minutes=60)
    current = linked(demo, contact, "Could I have more towels?")
    shown = panel(manager, current)
    text = shown.get_text(" ", strip=True)
    assert ADDRESS in text and "verified" in text and "not verified" not in text
    assert "Selin Aydın" in text and "Allergic to feathers." in text
    # Newest first, each a link to its page, with its rating and survey answers.
    assert earlier_links(manager, current) == [f"/inbox/c/{newest.id}", f"/inbox/c/{before.id}"]
    assert "CSAT 2 of 5" in text and "Cold pool, warm staff" in text
    assert "Anything else?" in text and "A quieter room next time" in text
    assert manager.get(f"/inbox/c/{before.id}").status_code == 200


def test_the_same_typed_address_joins_nobody(demo, manager):
    # Two customers typed the same address (one of them mistyped theirs, or lied): neither
    # proved it, so neither page shows the other, whatever the typed fields hold.
    first = conversation(demo, "My card was charged twice.", reach_channel="email",
                         reach_address=ADDRESS, customer_contact=ADDRESS, minutes=30)
    second = conversation(demo, "Where is my order?", reach_channel="email",
                          reach_address=ADDRESS, customer_contact=ADDRESS)
    for convo, other in ((first, second), (second, first)):
        shown = panel(manager, convo)
        assert ADDRESS in shown.get_text() and "not verified" in shown.get_text()
        assert shown.select("ul.earlier") == [] and f"/inbox/c/{other.id}" not in str(shown)
        assert contacts.earlier_conversations(convo, manager.member) == []
        assert f'href="/inbox/c/{other.id}"' not in manager.get(f"/inbox/c/{convo.id}").text


def test_a_verified_contact_is_not_joined_to_a_conversation_that_only_typed_it(demo, manager):
    contact = new_contact(demo)
    typed = conversation(demo, "Is the spa open?", reach_channel="email", reach_address=ADDRESS,
                         customer_contact=ADDRESS, minutes=30)
    verified = linked(demo, contact, "Could I have more towels?")
    assert earlier_links(manager, verified) == []
    assert f"/inbox/c/{typed.id}" not in str(panel(manager, verified))


def test_earlier_conversations_the_person_may_not_see_are_left_out(app, demo, agent, people,
                                                                   places, desk):
    contact = new_contact(demo)
    queue = linked(demo, contact, "Noise from next door.", team_id=desk.id, minutes=50)
    someone_elses = linked(demo, contact, "Invoice please.", assignee_id=people["manager"].id,
                           minutes=40)
    other_place = linked(demo, contact, "Table wobbles.", touchpoint=places["table-7"],
                         minutes=30)
    current = linked(demo, contact, "More towels, please.", touchpoint=places["room-412"])
    assert earlier_links(agent, current) == [f"/inbox/c/{other_place.id}",
                                             f"/inbox/c/{queue.id}"]
    assert agent.get(f"/inbox/c/{someone_elses.id}").status_code == 404
    limit(agent.member, places["room-412"])  # the agent now works room 412 alone
    assert earlier_links(agent, current) == [f"/inbox/c/{queue.id}"]
    ids = [row["id"] for row in contacts.earlier_conversations(current, people["manager"])]
    assert ids == [other_place.id, someone_elses.id, queue.id]


def test_an_agent_sets_the_name_and_note_with_and_without_htmx(demo, agent):
    contact = new_contact(demo)
    current = linked(demo, contact, "Could I have more towels?")
    page = agent.get(f"/inbox/c/{current.id}")
    saved = agent.submit(page, FORM, name="  Selin Aydın ", note="Regular; room 412.\r\nLate.")
    assert saved.status_code == 303 and saved.location == f"/inbox/c/{current.id}"
    assert (fresh_contact(contact).name, fresh_contact(contact).note) == (
        "Selin Aydın", "Regular; room 412.\nLate.")
    fragment = agent.submit(agent.get(f"/inbox/c/{current.id}"), FORM, htmx=True, name="",
                            note="Prefers the sea view.")
    assert fragment.status_code == 200 and "HX-Request" in fragment.vary
    assert soup(fragment).select_one(PANEL) is not None and "<html" not in fragment.text
    assert "Prefers the sea view." in fragment.text
    assert (fresh_contact(contact).name, fresh_contact(contact).note) == (
        None, "Prefers the sea view.")


@pytest.mark.parametrize("field, limit_, htmx", [("name", NAME_MAX, False),
                                                  ("note", NOTE_MAX, True)])
def test_too_long_is_refused_with_its_reason_and_changes_nothing(demo, agent, field, limit_,
                                                                 htmx):
    contact = new_contact(demo, name="Selin", note="Regular.")
    current = linked(demo, contact, "Could I have more towels?")
    refused = agent.submit(agent.get(f"/inbox/c/{current.id}"), FORM, htmx=htmx,
                           **{field: "x" * (limit_ + 1)})
    assert refused.status_code == 422
    error = soup(refused).select_one(f"#contact-{field}-error")
    assert error.get_text() == f"Please use at most {limit_} characters (it has {limit_ + 1})."
    assert (fresh_contact(contact).name, fresh_contact(contact).note) == ("Selin", "Regular.")
    with pytest.raises(contacts.ContactRefused) as refused_here:
        contacts.update_contact(demo.id, contact.id, **{"name": "", "note": "",
                                                        field: "y" * (limit_ + 1)})
    assert refused_here.value.field == field
    assert (fresh_contact(contact).name, fresh_contact(contact).note) == ("Selin", "Regular.")


@pytest.mark.parametrize("token", [None, "", "not-a-token"])
def test_without_its_csrf_token_the_form_changes_nothing(demo, agent, token):
    contact = new_contact(demo, name="Selin")
    current = linked(demo, contact, "Could I have more towels?")
    refused = agent.submit(agent.get(f"/inbox/c/{current.id}"), FORM, csrf_token=token,
                           name="Someone else")
    assert refused.status_code == 400 and "This form has expired" in refused.text
    assert fresh_contact(contact).name == "Selin"


def test_a_conversation_without_a_verified_contact_has_no_form_and_refuses_a_post(demo, agent):
    typed = conversation(demo, "Is the spa open?", reach_channel="email", reach_address=ADDRESS)
    page = agent.get(f"/inbox/c/{typed.id}")
    assert soup(page).select_one(FORM) is None
    refused = agent.client.post(f"/inbox/c/{typed.id}/contact",
                                data={"csrf_token": agent.token, "name": "Selin"})
    assert refused.status_code == 422 and "no verified contact" in refused.text
    assert db.session.scalars(select(Contact)).all() == []


def test_another_brands_contact_is_not_found(app, demo, agent):
    brand, _owner, _token = create_brand("other-hotel", "Other Hotel", "owner@other.example")
    theirs = new_contact(brand, name="Their guest")
    their_conversation = linked(brand, theirs, "Their towels.", touchpoint=brand.touchpoints[0])
    posted = agent.client.post(f"/inbox/c/{their_conversation.id}/contact",
                               data={"csrf_token": agent.token, "name": "Taken over"})
    assert posted.status_code == 404 and "Their guest" not in posted.text
    with pytest.raises(contacts.ContactNotFound):
        contacts.update_contact(demo.id, theirs.id, "Taken over", "")
    assert fresh_contact(theirs).name == "Their guest"


def test_staff_who_are_not_admins_see_no_export_or_erase_links(app, demo, agent, manager):
    contact = new_contact(demo)
    current = linked(demo, contact, "Could I have more towels?")
    for person in (agent, manager):
        assert "/admin/privacy/" not in str(panel(person, current))
    admin = Staff(app, "admin@demo.example")
    hrefs = [a["href"] for a in panel(admin, current).select(".privacy a")]
    assert hrefs == [f"/admin/privacy/conversations/{current.id}.json",
                     f"/admin/privacy/conversations/{current.id}/erase",
                     f"/admin/privacy/contacts/{contact.id}.json",
                     f"/admin/privacy/contacts/{contact.id}/erase"]
