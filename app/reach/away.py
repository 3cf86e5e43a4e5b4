"""Replies while away: the staff replies a customer missed, sent to them in one message.

The first public staff reply opens a window of the brand's delay (`away_due_at`); replies
within it join it. When it ends, the replies the customer has not had on screen go by mail or
SMS, all in one message. A customer who had their page open saw them and gets nothing.
"""
import logging
from datetime import UTC, timedelta

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from app import events, jobs
from app.core.payloads import conversation_url
from app.reach import sending
from models import Conversation, Message, db
from models.common import utcnow

log = logging.getLogger(__name__)
# An SMS keeps the link whole: the replies are shortened to fit, never below this.
SMS_BODY_MIN = 20
# A window whose sending broke off is tried again this much later (the sweep queues it): soon
# enough for a database that restarted, not a loop for a fault that stays.
RETRY_AFTER = timedelta(seconds=60)


def on_message_posted(message, **_):
    """Open the away window of a public staff reply's conversation, if none is open."""
    if message.author_kind != "staff" or message.internal:
        return
    conversation = message.conversation
    if not (conversation.reach_address and conversation.reach_replies) \
            or conversation.reach_channel not in sending.channels(conversation.brand):
        return
    due = utcnow() + timedelta(seconds=conversation.brand.away_delay_seconds)
    # One statement: the first reply of a window opens it; the rest find it open and join.
    opened = db.session.execute(db.update(Conversation).where(
        Conversation.id == conversation.id, Conversation.away_due_at.is_(None))
        .values(away_due_at=due, updated_at=Conversation.updated_at))
    db.session.commit()
    if opened.rowcount == 1:
        _schedule(conversation.id, due)


def _schedule(conversation_id, due):
    job_id = jobs.job_id("away", conversation_id, int(due.replace(tzinfo=UTC).timestamp()))
    try:
        jobs.enqueue_at(due, send_away_replies, conversation_id, queue=jobs.ALERTS,
                        job_id=job_id)
    except Exception as error:  # noqa: BLE001 - the window is in the table: the sweep sends it
        log.warning("replies of conversation %s wait for the sweep (%s)", conversation_id, error)


def send_away_replies(conversation_id):
    """Send the customer the replies they missed, in one message (a job); return the notice."""
    # Only the run whose conditional update closes the window sends: a job run twice, or the
    # sweep and the job at once, send one message.
    claimed = db.session.execute(db.update(Conversation).where(
        Conversation.id == conversation_id, Conversation.away_due_at <= utcnow())
        .values(away_due_at=None, updated_at=Conversation.updated_at))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    try:
        return _send(db.session.get(Conversation, conversation_id, populate_existing=True))
    except Exception:
        # Reopened for the sweep to try again: left closed, the replies would never go.
        db.session.rollback()
        db.session.execute(db.update(Conversation).where(
            Conversation.id == conversation_id, Conversation.away_due_at.is_(None))
            .values(away_due_at=utcnow() + RETRY_AFTER, updated_at=Conversation.updated_at))
        db.session.commit()
        raise


def missed_replies(conversation):
    """Return the public staff replies newer than what the customer saw or was sent."""
    after = max(conversation.notified_message_id or 0,
                conversation.customer_seen_message_id or 0)
    return db.session.scalars(db.select(Message).where(
        Message.conversation_id == conversation.id, Message.id > after,
        Message.author_kind == "staff", Message.internal.is_(False))
        .options(joinedload(Message.staff)).order_by(Message.id)).all()


def _send(conversation):
    if conversation is None or not conversation.reach_replies \
            or not conversation.reach_address or conversation.erased_at is not None:
        return None
    replies = missed_replies(conversation)
    if not replies:  # their page was open: they saw them
        return None
    with force_locale(conversation.language):
        subject, text, html = compose(conversation, replies)
    # Committed with the notice by send(): the next message starts after these replies.
    conversation.notified_message_id = replies[-1].id
    notice = sending.send(conversation, "replies", subject, text, html,
                          through_message_id=replies[-1].id)
    if notice is None:  # the brand lost the channel meanwhile: nothing went
        db.session.rollback()
    return notice


def compose(conversation, replies):
    """Return (subject, text, html) of the message carrying `replies` (html None for SMS)."""
    brand = conversation.brand
    context = {"brand": brand, "conversation": conversation, "replies": replies,
               "url": conversation_url(conversation)}
    subject = _("%(brand)s replied to your message", brand=brand.name)
    if conversation.reach_channel == "sms":
        return subject, _sms_text(context), None
    return (subject, render_template("reach/replies.txt", **context),
            render_template("reach/replies.html", **context))


def _sms_text(context):
    """Render the SMS; replies too long for one are shortened, so the link stays whole."""
    text = render_template("reach/replies_sms.txt", body_max=sending.SMS_MAX, **context)
    if len(text) <= sending.SMS_MAX:
        return text
    bodies = sum(len(reply.body) for reply in context["replies"])
    room = sending.SMS_MAX - (len(text) - bodies)
    body_max = max(SMS_BODY_MIN, room // len(context["replies"]))
    return render_template("reach/replies_sms.txt", body_max=body_max, **context)


def queue_overdue(grace):
    """Queue the windows whose job was lost (a restart, Redis down); return how many."""
    now = utcnow()
    overdue = db.session.scalars(db.select(Conversation.id).where(
        Conversation.away_due_at < now - grace).order_by(Conversation.id).limit(100)).all()
    for conversation_id in overdue:
        # Pushed forward first, so the next sweep does not queue it again meanwhile.
        moved = db.session.execute(db.update(Conversation).where(
            Conversation.id == conversation_id, Conversation.away_due_at < now - grace)
            .values(away_due_at=now, updated_at=Conversation.updated_at))
        db.session.commit()
        if moved.rowcount == 1:
            jobs.enqueue(send_away_replies, conversation_id, queue=jobs.ALERTS,
                         job_id=jobs.job_id("away", conversation_id,
                                            int(now.replace(tzinfo=UTC).timestamp())))
    db.session.rollback()
    return len(overdue)


def init_app(app):
    events.message_posted.connect(on_message_posted)
