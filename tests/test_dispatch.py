"""The dispatcher merges what waits for a busy conversation and keeps each conversation in order."""
import threading

from app.realtime.dispatch import Dispatcher, merged

from .test_hub import wait_for


class HeldDelivery:
    """Records deliveries; the first one for `hold` waits until released."""

    def __init__(self, hold=None, fail_first=False):
        self.delivered, self.hold, self.fail_first = [], hold, fail_first
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, channels, event):
        if self.fail_first:
            self.fail_first = False
            raise RuntimeError("rendering failed")
        if channels[0] == self.hold and not self.release.is_set():
            self.entered.set()
            self.release.wait(5)
        self.delivered.append((channels, event))


def message(conversation, customer_message_id, author="customer", message_ids=None, **more):
    return {"type": "message", "conversation_id": conversation, "author": author,
            "customer_message_id": customer_message_id,
            "message_ids": message_ids or [customer_message_id], **more}


def test_messages_that_wait_behind_a_render_become_one_delivery_of_the_newest():
    deliver = HeldDelivery(hold="conversation:7")
    dispatcher = Dispatcher(deliver)
    channels = ("conversation:7", "brand:1")
    dispatcher.put(channels, message(7, 1))
    assert deliver.entered.wait(5)
    for customer_message_id in range(2, 7):
        dispatcher.put(channels, message(7, customer_message_id))
    dispatcher.put(("conversation:7",), {"type": "seen", "conversation_id": 7})
    deliver.release.set()
    assert wait_for(lambda: len(deliver.delivered) == 3)
    assert deliver.delivered == [
        (channels, message(7, 1)), (channels, message(7, 6, message_ids=[2, 3, 4, 5, 6])),
        (("conversation:7",), {"type": "seen", "conversation_id": 7})]


def test_a_slow_conversation_does_not_hold_up_another():
    deliver = HeldDelivery(hold="conversation:7")
    dispatcher = Dispatcher(deliver)
    dispatcher.put(("conversation:7",), message(7, 1))
    assert deliver.entered.wait(5)
    dispatcher.put(("conversation:8",), message(8, 2))
    assert wait_for(lambda: deliver.delivered == [(("conversation:8",), message(8, 2))])
    deliver.release.set()
    assert wait_for(lambda: len(deliver.delivered) == 2)


def test_a_failed_delivery_is_logged_and_the_next_event_still_goes_out(caplog):
    deliver = HeldDelivery(fail_first=True)
    dispatcher = Dispatcher(deliver, threads=1)
    dispatcher.put(("conversation:7",), message(7, 1))
    dispatcher.put(("conversation:9",), message(9, 2))
    assert wait_for(lambda: deliver.delivered == [(("conversation:9",), message(9, 2))])
    assert "live event" in caplog.text and "rendering failed" in caplog.text


def test_merging_keeps_the_larger_redraw_the_newest_message_and_only_a_shared_author():
    both = merged(message(7, 3), message(7, 4, author="staff"))
    assert both["type"] == "message" and both["customer_message_id"] == 4
    assert both["author"] is None  # each side must hear it: no author to send last
    header = merged({"type": "conversation", "customer_message_id": None, "author": None},
                    message(7, 5))
    assert header["type"] == "conversation" and header["customer_message_id"] == 5
    replies = merged(message(7, None, author="staff"), message(7, None, author="staff"))
    assert replies["customer_message_id"] is None and replies["author"] == "staff"
    retags = merged(message(7, 6, retagged=["urgency"]), message(7, 7, retagged=["sentiment"]))
    assert retags["retagged"] == ["sentiment", "urgency"]  # both moved tags are swapped in
    assert "retagged" not in merged(message(7, 8), message(7, 9))


def test_typing_merges_per_person_and_never_with_messages():
    deliver = HeldDelivery(hold="conversation:7")
    dispatcher = Dispatcher(deliver)
    dispatcher.put(("conversation:7",), message(7, 1))
    assert deliver.entered.wait(5)
    for who, typing in (("staff", True), ("customer", True), ("staff", False)):
        dispatcher.put(("conversation:7",), {"type": "typing", "who": who, "typing": typing})
    dispatcher.put(("conversation:7",), message(7, 2))
    deliver.release.set()
    assert wait_for(lambda: len(deliver.delivered) == 4)
    assert [event for _, event in deliver.delivered[1:]] == [
        {"type": "typing", "who": "staff", "typing": False},
        {"type": "typing", "who": "customer", "typing": True}, message(7, 2)]
