"""The API's request and response shapes; flask-smorest writes the OpenAPI document from them."""
from marshmallow import RAISE, Schema, fields, validate

from app.core.validators import ID_MAX
from app.inbox.service import INTENTS, SENTIMENTS, URGENCIES
from models.api import IDEMPOTENCY_KEY_MAX
from models.common import MESSAGE_MAX, SLUG_MAX
from models.conversation import STATUSES

PAGE_MAX = 100
MESSAGES_PAGE_MAX = 200
CURSOR_MAX = 500

def Id(strict=True, **kw):  # noqa: N802 - a field factory, read like the field classes
    """An id: in a JSON body a number (strict: "3" is refused), in a query string its digits."""
    return fields.Integer(strict=strict, validate=validate.Range(1, ID_MAX), **kw)


def QueryId(**kw):  # noqa: N802
    return Id(strict=False, **kw)


def Stamp(**kw):  # noqa: N802
    return fields.String(metadata={"format": "date-time"}, **kw)


def Text(length, minimum=0, **kw):  # noqa: N802
    return fields.String(validate=validate.Length(minimum, length), **kw)


class Strict(Schema):
    class Meta:
        unknown = RAISE  # a misspelt field is an error, not silently nothing


class Problem(Schema):
    """An RFC 9457 problem document."""
    type = fields.String(required=True)
    status = fields.Integer(required=True)
    title = fields.String(required=True)
    detail = fields.String()
    errors = fields.Dict(metadata={"description": "what is wrong with each field"})


class Conversation(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    language = fields.String(required=True)
    touchpoint_id = fields.Integer(allow_none=True, required=True)
    place = fields.String(allow_none=True, required=True)
    category = fields.String(allow_none=True, required=True)
    sentiment = fields.String(allow_none=True, required=True)
    urgency = fields.String(allow_none=True, required=True)
    intent = fields.String(allow_none=True, required=True)
    customer_name = fields.String(allow_none=True, required=True)
    customer_contact = fields.String(allow_none=True, required=True)
    assignee_id = fields.Integer(allow_none=True, required=True)
    assignee = fields.String(allow_none=True, required=True)
    team_id = fields.Integer(allow_none=True, required=True)
    team = fields.String(allow_none=True, required=True)
    csat = fields.Integer(allow_none=True, required=True)
    nps = fields.Integer(allow_none=True, required=True)
    escalation_level = fields.Integer(allow_none=True, required=True)
    created_at = Stamp(required=True)
    updated_at = Stamp(required=True)
    last_message_at = Stamp(required=True)
    first_response_at = Stamp(allow_none=True, required=True)
    resolved_at = Stamp(allow_none=True, required=True)
    url = fields.String(required=True)


class Message(Schema):
    id = fields.Integer(required=True)
    author = fields.String(required=True, validate=validate.OneOf(("customer", "staff",
                                                                   "system")))
    body = fields.String(required=True)
    internal = fields.Boolean(required=True)
    staff_id = fields.Integer(allow_none=True, required=True)
    created_at = Stamp(required=True)


class ConversationPage(Schema):
    items = fields.List(fields.Nested(Conversation), required=True)
    next_cursor = fields.String(allow_none=True, required=True,
                                metadata={"description": "pass as `cursor` for the next page"})


class MessagePage(Schema):
    items = fields.List(fields.Nested(Message), required=True)
    next_cursor = fields.String(allow_none=True, required=True)


class ConversationQuery(Strict):
    status = fields.String(validate=validate.OneOf(STATUSES))
    touchpoint_id = QueryId()
    category = Text(SLUG_MAX)
    sentiment = fields.String(validate=validate.OneOf(SENTIMENTS))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    assignee_id = QueryId()
    team_id = QueryId()
    updated_since = fields.AwareDateTime(
        default_timezone=None, metadata={"description": "ISO 8601 with a zone, e.g. "
                                                        "2026-12-01T08:00:00Z"})
    cursor = Text(CURSOR_MAX)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, PAGE_MAX))


class MessageQuery(Strict):
    include_notes = fields.Boolean(load_default=False,
                                   metadata={"description": "private notes and activity too"})
    cursor = Text(CURSOR_MAX)
    limit = fields.Integer(load_default=100, validate=validate.Range(1, MESSAGES_PAGE_MAX))


class MessageCreate(Strict):
    body = fields.String(required=True, validate=validate.Length(1, MESSAGE_MAX))
    staff_id = Id(required=True, metadata={"description": "the member of staff who writes"})
    internal = fields.Boolean(load_default=False,
                              metadata={"description": "a private note the customer never sees"})


class ConversationPatch(Strict):
    staff_id = Id(metadata={"description": "who makes the change (default: the token's "
                                           "creator)"})
    status = fields.String(validate=validate.OneOf(("resolved", "open")))
    assignee_id = Id()
    team_id = Id()
    category = Text(SLUG_MAX, 1)
    sentiment = fields.String(validate=validate.OneOf(SENTIMENTS))
    urgency = fields.String(validate=validate.OneOf(URGENCIES))
    intent = fields.String(validate=validate.OneOf(INTENTS))


class IdempotencyHeader(Schema):
    # Header names are case-insensitive; webargs reads them by this name.
    idempotency_key = fields.String(data_key="Idempotency-Key",
                                    validate=validate.Length(1, IDEMPOTENCY_KEY_MAX))


class Touchpoint(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    label = fields.String(required=True)
    kind = fields.String(required=True)


class Category(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    label = fields.String(required=True)
    active = fields.Boolean(required=True)


class Team(Schema):
    id = fields.Integer(required=True)
    slug = fields.String(required=True)
    name = fields.String(required=True)


class Staff(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(allow_none=True, required=True)
    role = fields.String(required=True)
    active = fields.Boolean(required=True)


class ReportQuery(Strict):
    period = fields.String(load_default="7d", validate=validate.OneOf(
        ("today", "7d", "30d", "custom")))
    start = fields.Date(metadata={"description": "first day of a custom period"})
    end = fields.Date(metadata={"description": "last day of a custom period"})
    touchpoint = QueryId()
    category = QueryId()
    team = QueryId()
    agent = QueryId()


class Report(Schema):
    period = fields.Dict(required=True)
    volume = fields.Dict(required=True)
    first_response = fields.Dict(required=True)
    resolution = fields.Dict(required=True)
    satisfaction = fields.Dict(required=True)
    survey = fields.List(fields.Dict(), required=True)
    sentiment = fields.List(fields.Dict(), required=True)
    escalations = fields.List(fields.Dict(), required=True)
    agents = fields.List(fields.Dict(), required=True)
    groups = fields.Dict(required=True)
