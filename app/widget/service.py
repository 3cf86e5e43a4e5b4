"""Customer-side domain operations: record a survey, start a conversation, post a message.

Each operation commits before it returns, so whatever the customer then sees as sent is stored;
each is idempotent on the client-side id, so a retried form post never duplicates.
"""
import hmac

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from app import events
from app.alerts import outbox
from app.routing import service as routing
from app.tagging import service as tagging
from models import Answer, Conversation, Escalation, SurveyResponse, db
from models.common import localized
from models.conversation import commit_once


def _response_signer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="survey-response")


def record_survey(brand, touchpoint, survey, answers, language):
    """Store {question id: value} answers (none means skipped); return a signed reference or
    None."""
    response = SurveyResponse(survey=survey, brand_id=brand.id, language=language,
                              touchpoint_id=touchpoint.id if touchpoint else None)
    for question in survey.live_questions:
        value = answers.get(question.id)
        if value in (None, ""):
            continue
        answer = Answer(question=question)
        if question.kind in ("rating", "nps"):
            answer.number = int(value)
        elif question.kind == "yes_no":
            answer.number = 1 if value == "yes" else 0
        else:
            answer.text = str(value)
        response.answers.append(answer)
    if not response.answers:
        return None
    db.session.add(response)
    db.session.commit()
    return _response_signer().dumps(response.id)


def survey_response_from(reference, brand):
    """Return the unlinked survey response a signed reference names, or None."""
    try:
        response_id = _response_signer().loads(reference or "")
    except BadSignature:
        return None
    response = db.session.get(SurveyResponse, response_id)
    if response is None or response.brand_id != brand.id or response.conversation_id:
        return None
    return response


def acknowledgement(brand, language, conversation=None):
    """Return who answers and how soon, in `language`: honest about a team nobody staffs now."""
    minutes = brand.expected_response_minutes
    team, assignee = (conversation.team, conversation.assignee) if conversation else (None, None)
    with force_locale(language):
        if team is not None and assignee is None:
            return _("Thank you, we have your message. Nobody from %(team)s is online right "
                     "now: they will answer as soon as someone is back. You can keep writing "
                     "here, or bookmark this page to come back later.", team=team.name)
        if assignee is not None:
            who = _("%(name)s from %(team)s", name=assignee.name, team=team.name)
        else:
            who = localized(brand.responder_name, language) or _("Our team")
        template = localized(brand.acknowledgement, language) or _(
            "Thank you, we have your message. {team} will answer within {minutes} minutes. "
            "You can keep writing here, or bookmark this page to come back later.")
    return template.replace("{team}", who).replace("{minutes}", str(minutes))


def _stand_in_key(brand_id, touchpoint_id, client_id, body):
    """Return the key a first post is kept under when another conversation holds its id."""
    # Derived, so a retry of that post finds it again; keyed with the secret, so nobody can
    # take it first.
    secret = current_app.config["SECRET_KEY"]
    secret = secret if isinstance(secret, bytes) else secret.encode()
    text = "\x1f".join((str(brand_id), str(touchpoint_id or ""), client_id, body))
    return hmac.new(secret, text.encode(), "sha256").hexdigest()


def start_conversation(brand, touchpoint, body, language, *, category=None, name=None,
                       contact=None, client_id=None, survey_response=None):
    """Open a conversation with the customer's first message; return (conversation, created).

    `category` is the slug of the brand category the customer picked, if any.
    """
    brand_id, touchpoint_id = brand.id, touchpoint.id if touchpoint else None
    stand_in = _stand_in_key(brand_id, touchpoint_id, client_id, body) if client_id else None

    def retried():
        if not client_id:
            return None
        return Conversation.opened_with(brand_id, touchpoint_id, client_id, body,
                                        (client_id, stand_in))

    if existing := retried():
        return existing, False

    def write(key):
        picked = brand.category(category) if category else None
        conversation = Conversation(
            brand=brand, touchpoint=touchpoint, client_id=key, language=language,
            category=picked, picked_category=picked.taxonomy if picked else None,
            customer_name=name or None, customer_contact=contact or None)
        conversation.retag(tagging.tags_for(conversation, body, survey_response))
        routing.route(conversation)
        first = conversation.add_message("customer", body, client_id=client_id)
        conversation.add_message("system", acknowledgement(brand, language, conversation))
        if survey_response is not None:
            survey_response.conversation = conversation
        db.session.add(conversation)
        outbox.record(conversation, "conversation.created")  # committed with it, or not at all
        outbox.record(conversation, "message.created", message=first)
        Escalation.plan(conversation)
        return conversation

    try:
        conversation, created = commit_once(retried, lambda: write(client_id))
    except IntegrityError:
        if not client_id:
            raise
        # Another conversation holds the id and this is no retry of it (another brand's form,
        # a stale or shared page): the customer's own conversation opens under the stand-in.
        conversation, created = commit_once(retried, lambda: write(stand_in))
    if created:
        events.conversation_started.send(conversation)
    return conversation, created


def _with_outbox_event(message):
    outbox.record(message.conversation, "message.created", message=message)
    return message


def post_customer_message(conversation, body, client_id=None):
    """Append a customer message; return (message, created)."""
    # The customer is waiting for staff again; writing to a resolved conversation reopens it
    # rather than talking into the void.
    reopened = conversation.status == "resolved"
    # A retry is caught by the unique (conversation, client id) key, not by a look-up first:
    # the common case, a new message, then costs no extra query.
    tags = tagging.tags_for(conversation, body)
    message, created = commit_once(
        lambda: conversation.message_with(client_id),
        lambda: _with_outbox_event(conversation.insert_customer_message(body, client_id, tags)))
    if created:
        # A reopened conversation changes the header staff see; new tags only its status line
        # and the tags' own choices.
        events.message_posted.send(message, changed=reopened, retagged=tuple(tags))
    return message, created
