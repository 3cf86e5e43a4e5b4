"""Staff alerts through Apprise, fed by a transactional outbox relayed to the job queue."""
from app import events


def on_conversation_started(conversation, **_):
    from app.alerts import outbox
    outbox.relay()  # right away; the worker's sweep catches what this cannot hand over


def init_app(app):
    events.conversation_started.connect(on_conversation_started)
