"""What one live event sends a member of staff with the conversation open."""
import pytest
from sqlalchemy import event, select

from app.realtime.hub import LiveSocket
from models import Conversation, db

from ..test_hub import RecordingWebSocket, wait_for
from .staff import customer_journey, fresh


@pytest.fixture
def watching(app, client, people):
    """Return (conversation, staff socket): the agent has a customer's conversation open."""
    token = customer_journey(client, "The shower is cold")
    conversation = db.session.scalar(select(Conversation).filter_by(token=token))
    socket = LiveSocket(RecordingWebSocket(), conversation.brand_id,
                        conversation_id=conversation.id, staff_id=people["agent"].id,
                        csrf_token="token-of-this-session")
    hub = app.extensions["kulak_hub"]
    hub.join(socket, {f"conversation:{conversation.id}": "staff"})
    hub.resume(socket, max(m.id for m in conversation.messages))  # the page holds them all
    assert wait_for(lambda: socket.ws.sent)
    yield conversation, socket
    hub.leave(socket)


def post(client, conversation, body):
    answer = client.post(f"/c/{conversation.token}", data={"body": body, "lang": "en"})
    assert answer.status_code == 303


def test_a_new_message_sends_the_message_and_status_line_not_the_forms(client, watching):
    conversation, socket = watching
    cursor = socket.cursor
    # The same words again: the tags stay as they are, so the header's forms need no redraw.
    post(client, conversation, "The shower is cold")
    assert wait_for(lambda: len(socket.ws.sent) == 2)
    frame = socket.ws.sent[1]
    assert frame.count("The shower is cold") == 1  # the new message, not the thread again
    assert f'hx-swap-oob="beforebegin:#after-{cursor}"' in frame and 'id="thread"' not in frame
    assert 'id="conversation-summary"' in frame and "Open" in frame
    assert "<form" not in frame and 'id="conversation-header"' not in frame
    newest = max(m.id for m in fresh(conversation).messages if m.author_kind == "customer")
    # Stamped once the fragment has gone out, just after it.
    assert wait_for(lambda: fresh(conversation).staff_seen_message_id == newest)


def test_a_message_that_reopens_a_resolved_conversation_redraws_the_header(client, watching):
    conversation, socket = watching
    stored = fresh(conversation)
    stored.status = "resolved"
    db.session.commit()
    post(client, conversation, "It broke again")
    assert wait_for(lambda: any("It broke again" in frame for frame in socket.ws.sent))
    frame = next(f for f in socket.ws.sent if "It broke again" in f)
    assert 'id="conversation-header"' in frame and "Resolve</button>" in frame
    assert "token-of-this-session" in frame  # the forms carry this session's CSRF token
    assert fresh(conversation).status == "open"


def test_a_message_that_changes_the_tags_swaps_in_those_tags_alone(client, watching):
    conversation, socket = watching
    before = dict(fresh(conversation).tag_details or {})
    post(client, conversation, "Still cold after 40 minutes and I have to leave soon, awful")
    assert wait_for(lambda: any("40 minutes" in frame for frame in socket.ws.sent))
    after = fresh(conversation).tag_details or {}
    moved = {field for field in ("category", "sentiment", "urgency", "intent")
             if (before.get(field) or {}).get("label") != (after.get(field) or {}).get("label")}
    frame = next(f for f in socket.ws.sent if "40 minutes" in f)
    # The status line with the new badges, and the moved tags' choices by their ids: not the
    # header's forms, which a retag leaves as they were.
    assert 'id="conversation-header"' not in frame and "<form" not in frame
    assert 'id="conversation-summary"' in frame
    assert '<select id="tag-urgency" name="value" hx-swap-oob="true">' in frame
    assert '<option value="urgent" selected>' in frame
    assert all((f'id="tag-{field}"' in frame) == (field in moved)
               for field in ("category", "sentiment", "urgency", "intent"))
    assert len(frame.encode()) <= 2048


def test_the_customers_page_hears_seen_from_the_event_without_a_read(app, client, watching):
    conversation, _ = watching
    hub = app.extensions["kulak_hub"]
    channel = f"conversation:{conversation.id}"
    customer = LiveSocket(RecordingWebSocket(), conversation.brand_id,
                          conversation_id=conversation.id)
    hub.join(customer, {channel: "customer"})
    hub.resume(customer, max(m.id for m in conversation.messages if not m.internal))
    try:
        assert wait_for(lambda: customer.ws.sent)
        post(client, conversation, "Is anyone there?")
        on = '<li id="seen" class="seen" hx-swap-oob="true">Seen</li>'
        # The staff socket's send stamps the message seen; the customer's page then says so.
        assert wait_for(lambda: on in customer.ws.sent)
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            # A stamp of a message that is not the newest on the page: the line goes off.
            older = {"type": "seen", "conversation_id": conversation.id,
                     "brand_id": conversation.brand_id, "seen_id": 1, "language": "tr"}
            hub.publish(channel, older)
            off = '<li id="seen" class="seen" hx-swap-oob="true"></li>'
            assert wait_for(lambda: customer.ws.sent[-1] == off)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert statements == []
    finally:
        hub.leave(customer)


def customer_socket(hub, conversation):
    customer = LiveSocket(RecordingWebSocket(), conversation.brand_id,
                          conversation_id=conversation.id)
    hub.join(customer, {f"conversation:{conversation.id}": "customer"})
    hub.resume(customer, max(m.id for m in conversation.messages if not m.internal))
    assert wait_for(lambda: customer.ws.sent)
    return customer


def test_one_read_of_the_new_messages_serves_the_thread_and_the_customers_page(
        app, client, watching):
    conversation, staff = watching
    hub = app.extensions["kulak_hub"]
    customer = customer_socket(hub, conversation)
    reads = []

    def listener(*args):
        if "message.id >" in args[2]:
            reads.append(args[2])
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        post(client, conversation, "The kettle is broken too")
        assert wait_for(lambda: any("The kettle" in f for f in customer.ws.sent))
        assert wait_for(lambda: any("The kettle" in f for f in staff.ws.sent))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
        hub.leave(customer)
    assert len(reads) == 1


def test_a_private_note_reaches_the_thread_and_never_the_customers_page(
        app, client, watching, people):
    conversation, staff = watching
    hub = app.extensions["kulak_hub"]
    customer = customer_socket(hub, conversation)
    try:
        stored = fresh(conversation)
        stored.add_message("staff", "Guest in 412 is a VIP", internal=True)
        db.session.commit()
        note_id = max(m.id for m in fresh(conversation).messages)
        hub.publish(f"conversation:{conversation.id}", {
            "type": "message", "conversation_id": conversation.id,
            "brand_id": conversation.brand_id, "author": "staff", "message_ids": [note_id]})
        assert wait_for(lambda: any("VIP" in f for f in staff.ws.sent))
        # The customer's page is now behind the thread by a note: a later message reaches
        # both, the customer's without the note.
        post(client, conversation, "Thanks for the kettle")
        assert wait_for(lambda: any("Thanks for the kettle" in f for f in customer.ws.sent))
        assert wait_for(lambda: any("Thanks for the kettle" in f for f in staff.ws.sent))
        assert not any("VIP" in f for f in customer.ws.sent)
    finally:
        hub.leave(customer)
