"""Tell a database outage from a bug, and log it once when it starts and once when it ends."""
import threading

from flask import current_app, g, request
from sqlalchemy import event, exc

from models import db

# Long enough for a restart or a failover to finish, short enough that nobody gives up.
RETRY_AFTER_SECONDS = 5
# The errors an unreachable, restarting or overloaded database raises; an IntegrityError or a
# ProgrammingError is a bug, and stays a 500 with its traceback.
OUTAGE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError,
                 exc.DisconnectionError)
EXTENSION = "kulak_database_state"

# Blueprint name -> a function that answers the outage its own way (or returns None).
_answers = {}


def is_outage(error):
    """True if `error` means the database cannot be used just now."""
    return isinstance(error, OUTAGE_ERRORS) or getattr(error, "connection_invalidated", False)


def summary(error):
    """Return the driver's first line of `error`: never the SQL, whose parameters are what a
    customer typed."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [""]
    return f"{type(cause).__name__}: {lines[0]}"


class DatabaseState:
    """Whether this process last found the app's database down; each change is logged once."""

    def __init__(self, logger):
        self.logger = logger
        self.down = False
        self.lock = threading.Lock()

    def failed(self, error):
        with self.lock:
            started, self.down = not self.down, True
        if started:
            self.logger.warning("Database unavailable, answering 503 until it is back (%s)",
                                summary(error))

    def answered(self, *_event_args):
        if not self.down:
            return  # the common case, on every statement: one attribute read
        with self.lock:
            ended, self.down = self.down, False
        if ended:
            # A warning as well: at the default level an info line would not reach the log
            # that holds the outage's line.
            self.logger.warning("Database answers again")


def watch(setup_state):
    """Follow the app's engines: any statement that succeeds means the database is back."""
    app = setup_state.app
    state = app.extensions[EXTENSION] = DatabaseState(app.logger)
    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "after_cursor_execute", state.answered)


def noted(app, error):
    """Note an outage met outside a request (the outbox sweep): logged once, like a request's."""
    app.extensions[EXTENSION].failed(error)


def went_down(error):
    """Note the outage (logged once), and drop this request's session without touching the
    database again: what it had loaded is gone, so nothing may render from it."""
    noted(current_app, error)
    g.database_down = True
    # Nor who is signed in: Flask-Login's template context would load them again (one more
    # failure, inside the error page), and a row loaded before is detached below. Pages render
    # as for nobody; the language falls back to the request's (?lang=, form, browser).
    g._login_user = current_app.login_manager.anonymous_user()
    try:
        db.session.rollback()
    except exc.SQLAlchemyError:
        pass  # its connection is already dead; remove() below still discards the session
    db.session.remove()


def noticed():
    """True once this request has met the outage: then nothing may read the database."""
    return g.get("database_down", False)


def answers_for(blueprint):
    """Register the decorated function as `blueprint`'s own answer to an outage."""
    def register(answer):
        _answers[blueprint] = answer
        return answer
    return register


def blueprint_answer():
    """Return the current blueprint's own answer to the outage, or None."""
    answer = _answers.get(request.blueprint)
    return answer() if answer else None
