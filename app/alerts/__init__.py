"""Staff alerts through Apprise and CRM webhooks, fed by a transactional outbox."""
from app import events


def on_committed_change(_sender, **_):
    from app.alerts import outbox
    # Right away; the worker's sweep catches what this cannot hand over (Redis down).
    outbox.relay_if_recorded()


def init_app(app):
    for signal in (events.conversation_started, events.message_posted,
                   events.conversation_changed):
        signal.connect(on_committed_change)
