"""The inbox list live: a changed conversation's row is redrawn, moves, arrives or leaves."""
import pytest
from bs4 import BeautifulSoup

from app.realtime.hub import LiveSocket
from app.realtime.inbox_list import row_change
from models import db

from ..test_hub import RecordingWebSocket, wait_for
from .staff import conversation, soup


@pytest.mark.parametrize("old, new, change", [
    ((1, 2, 3), (1, 2, 3), {"remove": False, "replace": True, "insert": False, "before": 3}),
    ((1, 2, 3), (1, 3, 2), {"remove": True, "replace": False, "insert": True, "before": None}),
    ((1, 3), (1, 2, 3), {"remove": False, "replace": False, "insert": True, "before": 3}),
    ((1, 2, 3), (1, 3), {"remove": True, "replace": False, "insert": False, "before": None}),
    ((1, 3), (1, 3), {"remove": False, "replace": False, "insert": False, "before": None}),
    ((), (2,), {"remove": False, "replace": False, "insert": True, "before": None}),
])
def test_a_rows_change_names_only_rows_the_page_holds(old, new, change):
    assert row_change(old, new, 2) == change


def test_when_other_rows_changed_too_the_list_is_sent_whole():
    assert row_change((1, 2, 3), (4, 1, 2, 3), 2) is None


def test_a_new_conversation_is_one_row_inserted_not_a_new_list(app, client, demo, people):
    hub = app.extensions["kulak_hub"]
    socket = LiveSocket.for_staff(RecordingWebSocket(), people["manager"], list_url="/inbox/")
    socket.list_view = ("all", "open")
    hub.join(socket, {f"brand:{demo.id}": "inbox"})
    try:
        first = conversation(demo, "The lift is stuck")
        hub.resume(socket, 0)
        assert wait_for(lambda: socket.ws.sent)
        assert 'id="inbox-main"' in socket.ws.sent[0] and f'id="row-{first.id}"' in socket.ws.sent[0]
        second = conversation(demo, "No hot water on floor 3")
        hub.publish((f"conversation:{second.id}", f"brand:{demo.id}"), {
            "type": "conversation", "conversation_id": second.id, "brand_id": demo.id,
            "touchpoint_id": second.touchpoint_id})
        assert wait_for(lambda: len(socket.ws.sent) == 2)
        frame = BeautifulSoup(socket.ws.sent[1], "html.parser")
        assert frame.select_one("#inbox-main") is None  # not the list again
        added = frame.select_one("[hx-swap-oob^=beforebegin], [hx-swap-oob^=beforeend]")
        assert [li["id"] for li in added.select("li")] == [f"row-{second.id}"]
        assert "No hot water on floor 3" in added.text
        assert frame.select_one("#inbox-counts")["hx-get"].startswith("/inbox/counts")
        assert second.id in socket.cursor and first.id in socket.cursor
    finally:
        hub.leave(socket)
        db.session.rollback()


def test_the_counts_come_by_their_own_url(agent, demo):
    conversation(demo, "Late checkout?")
    nav = soup(agent.get("/inbox/counts?view=all&status=open")).select_one("#inbox-filters")
    assert nav.select_one('a[aria-current="page"] .count').text == "1"
