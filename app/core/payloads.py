"""The JSON objects Kulak hands to other systems: one serializer for webhooks and the API."""
from flask import current_app


def stamp(moment):
    """Return a stored (naive UTC) time as ISO 8601 with its zone, or None."""
    return None if moment is None else moment.isoformat() + "Z"


def absolute_url(endpoint, **values):
    """Return the absolute URL of `endpoint`, usable outside a request (a job, a webhook)."""
    # Bound by hand: url_for outside a request needs SERVER_NAME.
    return current_app.config["PUBLIC_URL"] + current_app.url_map.bind("kulak").build(
        endpoint, values)


def inbox_url(conversation):
    """Return the absolute inbox URL of `conversation`, usable outside a request."""
    return absolute_url("inbox.conversation", conversation_id=conversation.id)


def conversation_url(conversation):
    """Return the absolute address of the customer's conversation page (their key to it)."""
    return absolute_url("widget.conversation", token=conversation.token)


def conversation_data(conversation):
    """Return a conversation as webhooks send it and the API answers it."""
    touchpoint, category = conversation.touchpoint, conversation.category
    assignee, team = conversation.assignee, conversation.team
    return {
        "id": conversation.id, "status": conversation.status,
        "language": conversation.language,
        "touchpoint_id": conversation.touchpoint_id,
        "place": touchpoint.label if touchpoint else None,
        "category": category.slug if category else None,
        "sentiment": conversation.sentiment, "urgency": conversation.urgency,
        "intent": conversation.intent, "customer_name": conversation.customer_name,
        "customer_contact": conversation.customer_contact,
        "assignee_id": conversation.assignee_id,
        "assignee": assignee.email if assignee else None,
        "team_id": conversation.team_id, "team": team.name if team else None,
        "csat": conversation.csat, "nps": conversation.nps,
        "escalation_level": conversation.escalated_level,
        "created_at": stamp(conversation.created_at),
        "updated_at": stamp(conversation.updated_at),
        "last_message_at": stamp(conversation.last_message_at),
        "first_response_at": stamp(conversation.first_response_at),
        "resolved_at": stamp(conversation.resolved_at),
        "url": inbox_url(conversation)}


def message_data(message):
    """Return a message as webhooks send it and the API answers it."""
    return {"id": message.id, "author": message.author_kind, "body": message.body,
            "internal": bool(message.internal), "staff_id": message.staff_id,
            "created_at": stamp(message.created_at)}
