"""A message log's windows: the newest page, what a page lacks after its cursor, earlier pages."""
from app.core import transcript
from models import Conversation, db
from models.transcript import PAGE


def long_conversation(demo, count):
    conversation = Conversation(brand=demo, touchpoint=demo.touchpoints[0])
    for n in range(count):
        conversation.add_message("customer" if n % 2 == 0 else "staff", f"line {n}")
    db.session.add(conversation)
    db.session.commit()
    return conversation


def ids(context):
    return [m.id for m in context["messages"]]


def test_a_first_paint_holds_the_newest_page_and_where_earlier_ones_start(app, demo):
    conversation = long_conversation(demo, PAGE + 12)
    everything = [m.id for m in conversation.messages]
    page = transcript.page(conversation)
    assert ids(page) == everything[-PAGE:] and page["last_id"] == everything[-1]
    earlier = transcript.earlier(conversation, page["earlier_id"])
    assert ids(earlier) == everything[:12] and earlier["earlier_id"] is None


def test_what_a_page_lacks_is_what_follows_its_cursor(app, demo):
    conversation = long_conversation(demo, 5)
    everything = [m.id for m in conversation.messages]
    news = transcript.since(conversation, everything[2])
    assert not news["replace"] and ids(news) == everything[3:]
    assert news["cursor"] == everything[2] and news["last_id"] == everything[-1]
    assert ids(transcript.since(conversation, everything[-1])) == []


def test_a_page_too_far_behind_or_holding_no_message_of_ours_gets_the_whole_page(app, demo):
    conversation = long_conversation(demo, PAGE + 3)
    first = conversation.messages[0].id
    assert transcript.since(conversation, first)["replace"]  # more than a page behind
    other = long_conversation(demo, 2)
    assert transcript.since(conversation, other.messages[0].id)["replace"]  # not ours
    assert not transcript.since(conversation, other.messages[0].id, trusted=True)["replace"]


def test_a_message_committed_after_a_newer_one_redraws_the_page(app, demo):
    conversation = long_conversation(demo, 4)
    late, newest = conversation.messages[2].id, conversation.messages[3].id
    # The page got the newest (its cursor) but never the late one: only a redraw shows it.
    news = transcript.since(conversation, newest, missing=[late], trusted=True)
    assert news["replace"] and late in ids(news)
    assert not transcript.since(conversation, newest, missing=[], trusted=True)["replace"]


def test_private_notes_stay_out_of_the_customers_log(app, demo):
    conversation = long_conversation(demo, 2)
    note = conversation.add_message("staff", "a private note", internal=True)
    db.session.commit()
    cursor = conversation.messages[1].id
    assert ids(transcript.since(conversation, cursor)) == []
    assert ids(transcript.since(conversation, cursor, internal=True)) == [note.id]
