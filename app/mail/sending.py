"""Outgoing mail: kept in the database first, then delivered by a job, retried with backoff."""
# A mail's status goes queued -> sending (one run has claimed the attempt) -> sent; after a
# failed attempt it is queued again for the next one, and after the last it is failed.
import logging
import time
from datetime import timedelta
from email.utils import formataddr, parseaddr

from flask import current_app

from app import jobs
from app.core.validators import EMAIL
from app.mail import smtp
from models import OutgoingMail, db
from models.common import EMAIL_MAX, utcnow
from models.mail import ERROR_MAX, MAIL_PURPOSES, SUBJECT_MAX

log = logging.getLogger(__name__)
# Waits before the retries: 5 attempts over about 36 minutes wait out a mail server that
# restarts or a provider's short outage; then the mail is failed, for a person to look at.
BACKOFF_SECONDS = (10, 60, 300, 1800)
# Mail is sent from the default queue: workers take it before slow work (retraining), and an
# SMTP server that is slow to answer holds up other mail, never an alert.
QUEUE = jobs.DEFAULT


def configured():
    """True if a sender is configured (KULAK_MAIL_URL): mail can go out."""
    return bool(current_app.config.get("MAIL_URL"))


def shown_sender():
    """Return the sender's scheme, host and from (never its password), or None without one."""
    # Raises ValueError for a URL Config never saw (set by a test or a shell).
    if not configured():
        return None
    sender = smtp.read(current_app.config["MAIL_URL"])
    return {"scheme": sender.scheme, "host": sender.host,
            "from": formataddr((sender.from_name, sender.from_address))}


def send_mail(to, subject, text, html=None, brand_id=None, purpose=None):
    """Keep a mail to `to` and queue its delivery; return it, or None without a sender."""
    # Commits the session: the mail is kept before its job is queued, so a crash or Redis
    # being down delays it (the sweep queues it) but never loses it.
    if purpose not in MAIL_PURPOSES:
        raise ValueError(f"purpose must be one of {', '.join(MAIL_PURPOSES)}, not {purpose!r}")
    to = (to or "").strip()
    if len(to) > EMAIL_MAX or not EMAIL.match(to) or parseaddr(to)[1] != to:
        raise ValueError(f"not one email address: {to!r}")
    if not configured():
        return None
    subject = " ".join(subject.split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[:SUBJECT_MAX - 1] + "…"
    mail = OutgoingMail(brand_id=brand_id, purpose=purpose, to_address=to, subject=subject,
                        text=text, html=html, status="queued", attempts=0, due_at=utcnow())
    db.session.add(mail)
    db.session.commit()
    _queue(mail.id, attempts=0)
    return mail


def first_outcome(mail_id, seconds=5.0):
    """Wait up to `seconds` for the mail's first attempt to end; return the mail as it is then."""
    deadline = time.monotonic() + seconds
    while True:
        db.session.rollback()  # a fresh look each time, at what the job has committed
        mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
        if (mail.attempts and mail.status != "sending") or time.monotonic() >= deadline:
            return mail
        time.sleep(0.1)


def _queue(mail_id, attempts, after=None):
    """Queue the attempt after `attempts`, now or `after` seconds from now (Redis down: later)."""
    job_id = jobs.job_id("mail", mail_id, attempts)
    try:
        if after is None:
            jobs.enqueue(deliver_mail, mail_id, queue=QUEUE, timeout=300, job_id=job_id)
        else:
            jobs.enqueue_at(utcnow() + timedelta(seconds=after), deliver_mail, mail_id,
                            queue=QUEUE, job_id=job_id)
    except Exception as error:  # noqa: BLE001 - the mail is kept; the sweep queues it later
        log.warning("mail %s stays queued until the job queue is back (%s)", mail_id, error)


def deliver_mail(mail_id):
    """Make one attempt at a queued mail (a job); return its status after, or None if not ours."""
    # Safe to run twice, or twice at once: only the run whose conditional update claims the
    # mail sends it.
    claimed = db.session.execute(db.update(OutgoingMail).where(
        OutgoingMail.id == mail_id, OutgoingMail.status == "queued")
        .values(status="sending", attempts=OutgoingMail.attempts + 1, due_at=utcnow()))
    db.session.commit()
    if claimed.rowcount != 1:
        return None  # sent or failed already, or another run is sending it now
    # Fresh from the database: this session may hold the mail as it was before the claim.
    mail = db.session.get(OutgoingMail, mail_id, populate_existing=True)
    try:
        problem = _attempt(mail)
    except Exception:  # noqa: BLE001 - a bug or a job timeout must not leave it claimed
        log.exception("mail %s: the attempt broke off", mail_id)
        problem = "Kulak broke off while sending this mail (the server's log says why)."
    _record(mail, problem)
    return mail.status


def _attempt(mail):
    """Send `mail` once; return None, or what went wrong in words (never the mail's content)."""
    url = current_app.config.get("MAIL_URL")
    if not url:
        return "No mail sender is configured any more (KULAK_MAIL_URL is not set)."
    try:
        sender = smtp.read(url)
    except ValueError as error:
        return f"KULAK_MAIL_URL {error}"
    message = smtp.compose(sender, mail.to_address, mail.subject, mail.text, mail.html)
    return smtp.send(sender, message, mail.to_address)


def _record(mail, problem):
    """Record how the attempt went, and queue the next one if there is one."""
    if problem is None:
        mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
    else:
        mail.last_error = problem[:ERROR_MAX]
        mail.status = "failed" if mail.attempts > len(BACKOFF_SECONDS) else "queued"
        mail.due_at = utcnow() + timedelta(seconds=_backoff(mail.attempts))
    if mail.status in ("sent", "failed"):
        # The body may carry a one-time link, a credential: kept only while it may still go.
        mail.text, mail.html = "", None
    db.session.commit()
    if mail.status == "queued":
        _queue(mail.id, mail.attempts, after=_backoff(mail.attempts))
        log.info("mail %s: attempt %s failed, next in %s s", mail.id, mail.attempts,
                 _backoff(mail.attempts))


def _backoff(attempts):
    """Return the seconds to wait after `attempts` failed attempts."""
    # Past the table, its last wait again: mail queued before a release shortened the table.
    return BACKOFF_SECONDS[min(attempts, len(BACKOFF_SECONDS)) - 1] if attempts else 0


# The sweep: called by the outbox sweep every second rather than run as a sweep of its own,
# because that one already runs wherever jobs do (a process per worker, or a thread of the web
# process without Redis) and already picks up every other kind of lost job.
QUEUED_GRACE = timedelta(seconds=30)  # a queued mail's job starts within milliseconds of due
# A send makes about seven exchanges with the server, each waiting at most its timeout (15 s):
# a mail claimed this long ago belongs to a worker that died mid-send.
SENDING_GIVE_UP = timedelta(minutes=10)
SWEEP_LIMIT = 200


def queue_stalled():
    """Queue mail whose job was lost or whose worker died mid-send; return how many."""
    # Lost: a crash before the job was queued, Redis down, a restart that dropped a timer.
    now, queued = utcnow(), 0
    stalled = db.session.execute(db.select(OutgoingMail.id, OutgoingMail.status,
                                           OutgoingMail.attempts).where(db.or_(
        db.and_(OutgoingMail.status == "queued", OutgoingMail.due_at < now - QUEUED_GRACE),
        db.and_(OutgoingMail.status == "sending", OutgoingMail.due_at < now - SENDING_GIVE_UP)))
        .order_by(OutgoingMail.id).limit(SWEEP_LIMIT)).all()
    for mail_id, status, attempts in stalled:
        if status == "queued":
            # Pushed forward first, so the next sweep does not queue it again meanwhile.
            db.session.execute(db.update(OutgoingMail).where(OutgoingMail.id == mail_id)
                               .values(due_at=now))
            db.session.commit()
            _queue(mail_id, attempts)
            queued += 1
        elif _release(mail_id, attempts):
            queued += 1
    db.session.rollback()
    return queued


def _release(mail_id, attempts):
    """Queue the next attempt of a mail whose worker died mid-send, or fail it after its last."""
    # It may arrive twice (the server may have taken it just before the worker died): better
    # than never.
    last = attempts > len(BACKOFF_SECONDS)
    released = db.session.execute(db.update(OutgoingMail).where(
        OutgoingMail.id == mail_id, OutgoingMail.status == "sending",
        OutgoingMail.attempts == attempts).values(
        status="failed" if last else "queued", due_at=utcnow(),
        last_error="The worker stopped while sending this mail."))
    db.session.commit()
    if released.rowcount != 1 or last:
        return False
    _queue(mail_id, attempts)
    return True
