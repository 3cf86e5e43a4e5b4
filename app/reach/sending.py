"""What Kulak sends a customer: by mail through the one mail sender, by SMS through the brand's
gateway. Each send is kept (a CustomerNotice) before it is queued, so it is counted by the rate
limits, never lost, and never sent twice."""
import logging
from datetime import timedelta
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import current_app
from flask_babel import gettext as _

from app import jobs
from app import mail as outgoing
from app.alerts import service as notifications
from app.core import egress
from models import Brand, CustomerNotice, db
from models.common import utcnow
from models.contact import ERROR_MAX

log = logging.getLogger(__name__)
# SMS attempts wait out a gateway's short outage; the fourth failure gives up.
SMS_BACKOFF_SECONDS = (10, 60, 300)
# Each notice purpose goes out as this mail purpose (the mail log's column).
MAIL_PURPOSE = {"link": "transcript", "replies": "replies"}
SMS_MAX = 1000  # a gateway splits long texts; past this it is a letter, not a text
# Only these carry an SMS: the Apprise schemes of SMS services and of a brand's own gateway.
SMS_SCHEMES = frozenset({"twilio", "vonage", "nexmo", "clicksend", "bulksms", "sinch", "msg91",
                         "httpsms", "smseagle", "smseagles", "signal", "signals", "json", "jsons",
                         "form", "forms"})


def channels(brand):
    """Return the channels this brand can reach customers on now: "email", "sms", both, none."""
    return tuple(channel for channel, ready in (("email", outgoing.configured()),
                                                ("sms", bool(brand.sms_url))) if ready)


def sms_url_problem(url):
    """Return why `url` cannot be a brand's SMS gateway (in words a manager acts on), or None."""
    refused = egress.problem(url, SMS_SCHEMES, current_app.config["EGRESS_ALLOW"])
    if refused == egress.REFUSED and urlsplit(url).scheme.lower() in SMS_SCHEMES:
        return str(egress.INTERNAL_REFUSED)  # a gateway scheme, at an address inside
    if refused is not None or not notifications.is_valid_url(url):
        return _("This is not an SMS gateway address Kulak can use: give an Apprise URL such "
                 "as twilio://SID:TOKEN@FROM_NUMBER or json://sms.example.com/send.")
    return None


def send(conversation, purpose, subject, text, html=None, through_message_id=None):
    """Keep a notice to the address the customer gave on `conversation`'s page and queue it.

    Returns the notice, or None when the brand cannot reach that channel now (no mail sender,
    no SMS gateway). Commits.
    """
    channel, address = conversation.reach_channel, conversation.reach_address
    if not address or channel not in channels(conversation.brand):
        return None
    notice = CustomerNotice(brand_id=conversation.brand_id, conversation_id=conversation.id,
                            channel=channel, address=address, purpose=purpose,
                            status="queued", attempts=0, created_at=utcnow(), due_at=utcnow(),
                            through_message_id=through_message_id)
    db.session.add(notice)
    if channel == "email":
        # send_mail commits the notice with the mail: one is never kept without the other.
        mail = outgoing.send_mail(address, subject, text, html, brand_id=conversation.brand_id,
                                  purpose=MAIL_PURPOSE[purpose])
        notice.mail_id = mail.id
        db.session.commit()
        return notice
    notice.text = text[:SMS_MAX]
    db.session.commit()
    _queue_sms(notice.id, 0)
    return notice


def sent_since(since, conversation_id=None, address=None, purpose=None):
    """Count the notices kept since `since`, for one conversation or one address (rate limits)."""
    query = db.select(db.func.count(CustomerNotice.id)).where(CustomerNotice.created_at >= since)
    if conversation_id is not None:
        query = query.where(CustomerNotice.conversation_id == conversation_id)
    if address is not None:
        query = query.where(CustomerNotice.address == address)
    if purpose is not None:
        query = query.where(CustomerNotice.purpose == purpose)
    return db.session.scalar(query)


def _queue_sms(notice_id, attempts, after=None):
    job_id = jobs.job_id("sms", notice_id, attempts)
    try:
        if after is None:
            jobs.enqueue(deliver_sms, notice_id, queue=jobs.ALERTS, timeout=120, job_id=job_id)
        else:
            jobs.enqueue_at(utcnow() + timedelta(seconds=after), deliver_sms, notice_id,
                            queue=jobs.ALERTS, job_id=job_id)
    except Exception as error:  # noqa: BLE001 - kept queued; the sweep sends it later
        log.warning("SMS %s stays queued until the job queue is back (%s)", notice_id, error)


def deliver_sms(notice_id):
    """Make one attempt at a queued SMS (a job); return its status, or None if not ours."""
    # Only the run whose conditional update claims the notice sends it: a job run twice, or
    # the sweep and the job at once, send one text.
    claimed = db.session.execute(db.update(CustomerNotice).where(
        CustomerNotice.id == notice_id, CustomerNotice.status == "queued",
        CustomerNotice.channel == "sms").values(status="sending",
                                                attempts=CustomerNotice.attempts + 1))
    db.session.commit()
    if claimed.rowcount != 1:
        return None
    notice = db.session.get(CustomerNotice, notice_id, populate_existing=True)
    brand = db.session.get(Brand, notice.brand_id)
    if not brand.sms_url:
        problem = "The brand has no SMS gateway any more."
    else:
        try:
            problem = notifications.send(to_number(brand.sms_url, notice.address), "",
                                         notice.text or "")
        except Exception:  # noqa: BLE001 - never leave it claimed
            log.exception("SMS %s: the attempt broke off", notice_id)
            problem = egress.UNDELIVERED
        problem = problem and str(egress.EXPLAINED.get(problem, problem))
    _record(notice, problem)
    return notice.status


def to_number(url, number):
    """Return the brand's gateway URL addressed to `number`: Apprise's SMS services take the
    recipient as ?to=, its JSON and form posts carry it as a "to" field (?:to=)."""
    parts = urlsplit(url)
    key = ":to" if parts.scheme.lower() in {"json", "jsons", "form", "forms"} else "to"
    query = "&".join(filter(None, (parts.query, urlencode({key: number}))))
    return urlunsplit(parts._replace(query=query))


def _record(notice, problem):
    if problem is None:
        notice.status, notice.sent_at, notice.last_error = "sent", utcnow(), None
    else:
        notice.last_error = problem[:ERROR_MAX]
        notice.status = "failed" if notice.attempts > len(SMS_BACKOFF_SECONDS) else "queued"
        if notice.status == "queued":
            notice.due_at = utcnow() + timedelta(
                seconds=SMS_BACKOFF_SECONDS[notice.attempts - 1])
    if notice.status in ("sent", "failed"):
        notice.text = None  # it carried the conversation's link: kept only while it may go
    db.session.commit()
    if notice.status == "queued":
        _queue_sms(notice.id, notice.attempts, after=SMS_BACKOFF_SECONDS[notice.attempts - 1])


def queue_stalled_sms(grace):
    """Queue again the SMS whose job was lost (a restart, Redis down); return how many."""
    now = utcnow()
    stalled = db.session.execute(db.select(CustomerNotice.id, CustomerNotice.attempts).where(
        CustomerNotice.channel == "sms", CustomerNotice.status == "queued",
        CustomerNotice.due_at < now - grace).order_by(CustomerNotice.id).limit(100)).all()
    for notice_id, attempts in stalled:
        # Pushed forward first, so the next sweep does not queue it again meanwhile.
        db.session.execute(db.update(CustomerNotice).where(CustomerNotice.id == notice_id)
                           .values(due_at=now))
        db.session.commit()
        _queue_sms(notice_id, attempts)
    db.session.rollback()
    return len(stalled)
