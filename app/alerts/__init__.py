"""Staff alerts through Apprise and CRM webhooks, fed by a transactional outbox."""
import threading

from app import events

_sweep_started = threading.Event()


def on_committed_change(_sender, **_):
    from app.alerts import outbox
    # Right away; the worker's sweep catches what this cannot hand over (Redis down).
    outbox.relay_if_recorded()


def start_sweep_once(app):
    """Start this process's outbox sweep (the embedded default's stand-in for the worker)."""
    if _sweep_started.is_set():
        return
    _sweep_started.set()
    from app.alerts.outbox import sweep_forever
    threading.Thread(target=sweep_forever, args=(app,), daemon=True,
                     name="kulak-outbox-sweep").start()


def init_app(app):
    from app.core.egress import explain
    # A failed alert or webhook says why in the reader's language ("refused by policy"...).
    app.add_template_filter(explain, "delivery_problem")
    for signal in (events.conversation_started, events.message_posted,
                   events.conversation_changed):
        signal.connect(on_committed_change)
    if app.config["OUTBOX_SWEEP_IN_PROCESS"] and not app.testing:
        # Started by the first request, inside the serving process (gunicorn's worker, after
        # gevent has patched), never by a command such as `kulak db upgrade`.
        app.before_request(lambda: start_sweep_once(app))
