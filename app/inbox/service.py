"""Staff-side domain operations; every query is scoped to what the staff member may see
(their brand, and their touchpoints if limited: app.core.scoping).

Each operation commits, then emits an event so that open pages redraw.
"""
from functools import lru_cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import case

from app import events
from app.alerts import outbox
from app.core import scoping
from app.core.scoping import brand_scoped
from app.tagging import retrain
from app.tagging import service as tagging
from models import CannedReply, Conversation, StaffMember, TagCorrection, Team, db
from models.common import utcnow
from models.conversation import STATUSES, commit_once

# The first is where staff land: their own conversations and the ones waiting in their teams'
# queues, so someone who signs in while a guest waits sees the guest, not an empty "Mine".
VIEWS = ("for_me", "mine", "team", "unassigned", "all")
SENTIMENTS = ("positive", "neutral", "negative")
URGENCIES = ("urgent", "normal")
INTENTS = ("question", "request", "complaint", "praise", "suggestion")


def conversation_for(staff, conversation_id):
    """Return a conversation `staff` may see (brand and touchpoint), else 404."""
    return scoping.conversation_for(staff, conversation_id)


def staff_for(staff, staff_id):
    return brand_scoped(staff, StaffMember, staff_id)


def team_for(staff, team_id):
    return brand_scoped(staff, Team, team_id)


def canned_for(staff, canned_id):
    return brand_scoped(staff, CannedReply, canned_id)


def _view_filter(scope, view):
    return {
        "for_me": db.or_(Conversation.assignee_id == scope.staff_id,
                         db.and_(Conversation.assignee_id.is_(None),
                                 Conversation.team_id.in_(scope.teams))),
        "mine": Conversation.assignee_id == scope.staff_id,
        "team": Conversation.team_id.in_(scope.teams),
        "unassigned": Conversation.assignee_id.is_(None),
        "all": db.true(),
    }[view]


LIST_MAX = 200


@lru_cache(maxsize=256)
def _listed(scope, view, status, ids_only):
    # Built once per scope and list: a live list update reads it without rebuilding it.
    return (db.select(Conversation.id if ids_only else Conversation)
            .filter(scoping.scope_condition(scope), Conversation.status == status,
                    _view_filter(scope, view))
            .order_by(case((Conversation.urgency == "urgent", 0), else_=1),
                      case((Conversation.waiting_since.is_(None), 1), else_=0),
                      Conversation.waiting_since, Conversation.last_message_at, Conversation.id)
            .limit(LIST_MAX))


def inbox(staff, view, status):
    """Return the conversations of one view and status: urgent first, then longest waiting."""
    return db.session.scalars(_listed(scoping.scope_of(staff), view, status, False)).all()


def inbox_ids(staff, view, status):
    """Return the ids of inbox(staff, view, status), in its order."""
    return tuple(db.session.scalars(_listed(scoping.scope_of(staff), view, status, True)))


def inbox_counts(staff):
    """Return {(view, status): count} of the conversations `staff` may see."""
    counts, scope = {}, scoping.scope_of(staff)
    for view in VIEWS:
        rows = db.session.execute(
            db.select(Conversation.status, db.func.count(Conversation.id))
            .filter(scoping.scope_condition(scope), _view_filter(scope, view))
            .group_by(Conversation.status)).all()
        found = dict(rows)
        for status in STATUSES:
            counts[view, status] = found.get(status, 0)
    return counts


def _changed(conversation, **details):
    events.conversation_changed.send(conversation, **details)


def _activity(conversation, text):
    conversation.add_message("system", text, internal=True)


ASSIGNED = _l("%(who)s assigned this to %(whom)s.")
TRANSFERRED = _l("%(who)s transferred this to %(team)s.")
RESOLVED = _l("%(who)s resolved this conversation.")
REOPENED = _l("%(who)s reopened this conversation.")


def _in_brand_language(conversation, message, **values):
    """Write an activity line in the brand's language: the timeline is shared by its staff."""
    with force_locale(conversation.brand.default_language):
        return str(message) % values


def reply(conversation, staff, body, client_id=None):
    """Send a staff reply to the customer; return (message, created)."""
    # A retry is caught by the unique (conversation, client id) key at commit, not by a
    # look-up first: the common case, a new message, then costs no extra query.
    message = conversation.add_message("staff", body, client_id=client_id, staff=staff)
    outbox.record(conversation, "message.created", message=message)
    # Taking an unassigned conversation changes the header's buttons, not only its status.
    taken = conversation.assignee_id is None
    conversation.first_response_at = conversation.first_response_at or message.created_at
    conversation.status = "pending"
    if conversation.assignee_id is None:
        conversation.assignee_id = staff.id
    existing, created = commit_once(lambda: conversation.message_with(client_id))
    if not created:
        return existing, False
    events.message_posted.send(message, changed=taken)
    return message, True


def add_note(conversation, staff, body):
    """Add a private note that the customer never sees; return it."""
    note = conversation.add_message("staff", body, staff=staff, internal=True)
    conversation.updated_at = note.created_at  # a CRM's "updated since" sees notes too
    db.session.commit()
    _changed(conversation)
    return note


def assign(conversation, staff, assignee):
    conversation.assignee_id = assignee.id
    _activity(conversation, _in_brand_language(
        conversation, ASSIGNED, who=staff.name, whom=assignee.name))
    db.session.commit()
    _changed(conversation)


def transfer_to_team(conversation, staff, team):
    conversation.team_id, conversation.assignee_id = team.id, None
    _activity(conversation, _in_brand_language(
        conversation, TRANSFERRED, who=staff.name, team=team.name))
    db.session.commit()
    _changed(conversation)


def resolve(conversation, staff):
    conversation.status, conversation.resolved_at = "resolved", utcnow()
    conversation.resolved_count = (conversation.resolved_count or 0) + 1
    outbox.record(conversation, "conversation.resolved")
    _activity(conversation, _in_brand_language(
        conversation, RESOLVED, who=staff.name))
    db.session.commit()
    _changed(conversation)


def reopen(conversation, staff):
    conversation.status, conversation.resolved_at = "open", None
    _activity(conversation, _in_brand_language(
        conversation, REOPENED, who=staff.name))
    db.session.commit()
    _changed(conversation)


TAG_LABELS = {
    "positive": _l("Positive"), "neutral": _l("Neutral"), "negative": _l("Negative"),
    "urgent": _l("Urgent"), "normal": _l("Normal"), "question": _l("Question"),
    "request": _l("Request"), "complaint": _l("Complaint"), "praise": _l("Praise"),
    "suggestion": _l("Suggestion"),
}


def tag_choices(conversation):
    """Return {field: [allowed values]} for the tags staff may set."""
    return {"category": [c.slug for c in conversation.brand.active_categories()],
            "sentiment": list(SENTIMENTS), "urgency": list(URGENCIES), "intent": list(INTENTS)}


def tag_options(conversation, language):
    """Return {field: [(value, label)]} for the tag menus, in `language`."""
    options = {field: [(value, str(TAG_LABELS[value])) for value in values]
               for field, values in tag_choices(conversation).items() if field != "category"}
    options["category"] = [(c.slug, c.label(language))
                           for c in conversation.brand.active_categories()]
    return options


# Every tenth correction of a brand retrains its model (also on demand, on the model page).
RETRAIN_EVERY = 10


def correct_tag(conversation, staff, field, value):
    """Change a tag and keep the correction as a labelled example for retraining."""
    before = conversation.category
    if field == "category":
        old = before.slug if before else None
    else:
        old = getattr(conversation, field)
    if old == value:
        return False
    # Marked as staff's: the classifier leaves this tag alone from now on.
    conversation.retag({field: {"label": value, "by": tagging.STAFF}})
    if field == "category":  # the model learns the shipped category the brand's stands for
        old = before.taxonomy if before else None
        value = conversation.category.taxonomy
    text = "\n".join(m.body for m in conversation.messages
                     if m.author_kind == "customer" and not m.internal)
    db.session.add(TagCorrection(conversation_id=conversation.id, brand_id=conversation.brand_id,
                                 staff_id=staff.id, field=field, old_value=old, new_value=value,
                                 text=text))
    db.session.commit()
    _changed(conversation)
    if TagCorrection.count_for(conversation.brand_id) % RETRAIN_EVERY == 0:
        retrain.start_retraining(conversation.brand)
    return True


def mark_seen(conversation, newest=None):
    """Record that staff have the newest customer message on screen; True if that is news."""
    newest = newest or conversation.last_customer_message_id()
    if newest is None or (conversation.staff_seen_message_id or 0) >= newest:
        return False
    conversation.staff_seen_message_id = newest
    db.session.commit()
    _seen(conversation.id, conversation.brand_id, scoping.touchpoint_of(conversation), newest,
          conversation.language)
    return True


def stamp_seen(conversation_id, newest):
    """mark_seen for a page that has just been sent customer message `newest`: one statement,
    no read of the conversation (a live socket's send does this for every message)."""
    row = Conversation.staff_saw(conversation_id, newest)
    if row is None:
        return False
    _seen(conversation_id, row.brand_id, row.touchpoint_id, newest, row.language)
    return True


def _seen(conversation_id, brand_id, touchpoint_id, seen_id, language):
    events.conversation_seen.send(conversation_id, brand_id=brand_id,
                                  touchpoint_id=touchpoint_id, seen_id=seen_id,
                                  language=language)
