"""Conversations and their messages: list, read, reply or note, resolve, assign and tag."""
import http
from datetime import UTC

from flask.views import MethodView
from flask_smorest import abort
from marshmallow import RAISE
from sqlalchemy.orm import joinedload

from app.api import bp, idempotency, paging
from app.api import schemas as s
from app.api.auth import acting_staff, brand_staff, principal
from app.core import payloads, scoping
from app.inbox import service
from models import Category, Conversation, Message, Team, db

C = Conversation


def answers(*codes):
    """Document the error answers an operation gives (each a problem document), and that it
    needs the bearer token."""
    def decorate(view):
        for code in (401, 429, *codes):
            view = bp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return bp.doc(security=[{"bearer": []}])(view)
    return decorate


def _conversation(conversation_id):
    """Return the token's brand's conversation, or 404 (another brand's looks absent)."""
    return scoping.brand_scoped(principal(), Conversation, conversation_id)


def _filters(args):
    brand_id = principal().brand_id
    where = [C.brand_id == brand_id, C.id > paging.after_id(args)]
    for name in ("status", "touchpoint_id", "sentiment", "urgency", "assignee_id", "team_id"):
        if args.get(name) is not None:
            where.append(getattr(C, name) == args[name])
    if args.get("category") is not None:
        where.append(C.category_id.in_(db.select(Category.id).filter_by(
            brand_id=brand_id, slug=args["category"])))
    if args.get("updated_since") is not None:
        since = args["updated_since"]
        if since.tzinfo is not None:
            since = since.astimezone(UTC).replace(tzinfo=None)
        where.append(C.updated_at >= since)
    return where


@bp.get("/conversations")
# unknown=RAISE: webargs drops unknown query parameters by default (a misspelt filter would
# then list everything); the query schemas are Strict and must be read as such.
@bp.arguments(s.ConversationQuery, location="query", as_kwargs=False, unknown=RAISE)
@bp.response(200, s.ConversationPage)
@answers(400)
def list_conversations(args):
    """List the brand's conversations, oldest first, a page at a time (cursor)."""
    limit = args["limit"]
    # The names each row shows come along (one query per page, not one per distinct name).
    rows = db.session.scalars(db.select(C).where(*_filters(args)).order_by(C.id).options(
        *(joinedload(getattr(C, name)) for name in ("touchpoint", "category", "assignee",
                                                    "team"))).limit(limit + 1)).unique().all()
    rows, cursor = paging.page(rows, args, limit)
    return {"items": [payloads.conversation_data(row) for row in rows], "next_cursor": cursor}


# One rule per address with all its methods (MethodView): an id no row can have is then a
# 404 for each method, where separate rules would answer 405 for some.
@bp.route("/conversations/<int:conversation_id>")
class ConversationItem(MethodView):
    @bp.response(200, s.Conversation)
    @answers(404)
    def get(self, conversation_id):
        """Read one conversation."""
        return payloads.conversation_data(_conversation(conversation_id))

    @bp.arguments(s.ConversationPatch, as_kwargs=False)
    @bp.response(200, s.Conversation)
    @answers(403, 404)
    def patch(self, changes, conversation_id):
        """Resolve or reopen, assign, move to a team, or correct tags (kept for retraining, as
        in the inbox). Everything is checked before anything changes."""
        conversation = _conversation(conversation_id)
        staff = acting_staff(changes.get("staff_id"))
        for step in _planned(conversation, changes):
            step(staff)
        return payloads.conversation_data(conversation)


@bp.route("/conversations/<int:conversation_id>/messages")
class Messages(MethodView):
    @bp.arguments(s.MessageQuery, location="query", as_kwargs=False, unknown=RAISE)
    @bp.response(200, s.MessagePage)
    @answers(400, 404)
    def get(self, args, conversation_id):
        """List a conversation's messages in order; private notes and activity only when
        asked."""
        return _messages(args, conversation_id)

    @bp.arguments(s.IdempotencyHeader, location="headers", as_kwargs=False)
    @bp.arguments(s.MessageCreate, as_kwargs=False)
    @bp.response(201, s.Message)
    @answers(403, 404, 409)
    def post(self, headers, body, conversation_id):
        """Reply to the customer (live on their page, as from the inbox) or add a private
        note, as a named member of staff. With an Idempotency-Key, a retry returns the first
        answer."""
        return _post_message(headers, body, conversation_id)


def _messages(args, conversation_id):
    conversation, limit = _conversation(conversation_id), args["limit"]
    # The cursor is bound to the conversation too: checked against what it was made from.
    args = {**args, "conversation": conversation.id}
    where = [Message.conversation_id == conversation.id, Message.id > paging.after_id(args)]
    if not args["include_notes"]:
        where.append(Message.internal.is_(False))
    rows = db.session.scalars(db.select(Message).where(*where).order_by(Message.id)
                              .limit(limit + 1)).all()
    rows, cursor = paging.page(rows, args, limit)
    return {"items": [payloads.message_data(row) for row in rows], "next_cursor": cursor}


def _post_message(headers, body, conversation_id):
    conversation = _conversation(conversation_id)
    staff = acting_staff(body["staff_id"])
    if not scoping.may_hold(staff, conversation):
        abort(422, message="staff_id: this member of staff does not work at this "
                           "conversation's place.", errors={"staff_id": "not at this place"})
    key = headers.get("idempotency_key")

    def run():
        if body["internal"]:
            message = service.add_note(conversation, staff, body["body"])
        else:
            message, _created = service.reply(conversation, staff, body["body"],
                                              client_id=idempotency.client_id(key))
        return payloads.message_data(message), 201
    return idempotency.once(key, run)


def _invalid(field, text):
    abort(422, message=f"{field}: {text}", errors={field: text})


def _planned(conversation, changes):
    """Return the operations `changes` asks for, each checked; 422 before any runs."""
    steps = []
    # The team first: a transfer leaves the conversation to the team's queue (no assignee),
    # so an assignee asked for in the same call is set after it.
    if (team_id := changes.get("team_id")) is not None:
        team = db.session.get(Team, team_id)
        if team is None or team.brand_id != conversation.brand_id:
            _invalid("team_id", "this brand has no team with this id")
        steps.append(lambda staff: service.transfer_to_team(conversation, staff, team))
    if (assignee_id := changes.get("assignee_id")) is not None:
        assignee = brand_staff(assignee_id)
        if assignee is None or not scoping.may_hold(assignee, conversation):
            _invalid("assignee_id", "no active member of staff at this conversation's place "
                                    "has this id")
        steps.append(lambda staff: service.assign(conversation, staff, assignee))
    choices = service.tag_choices(conversation)
    for field in ("category", "sentiment", "urgency", "intent"):
        if (value := changes.get(field)) is not None:
            if value not in choices[field]:
                _invalid(field, "one of " + ", ".join(choices[field]))
            steps.append(lambda staff, f=field, v=value: service.correct_tag(
                conversation, staff, f, v))
    status = changes.get("status")
    if status == "resolved" and conversation.status != "resolved":
        steps.append(lambda staff: service.resolve(conversation, staff))
    elif status == "open" and conversation.status == "resolved":
        steps.append(lambda staff: service.reopen(conversation, staff))
    return steps
