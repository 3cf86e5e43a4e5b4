"""Cursors for the API's lists: signed, and bound to the query they page through."""
import hashlib
import json

from flask import current_app
from flask_smorest import abort
from itsdangerous import BadSignature, URLSafeSerializer


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="kulak-api-cursor")


def _query_of(filters):
    """Return a short fingerprint of what is asked, whatever the page and its size."""
    kept = {k: str(v) for k, v in filters.items() if k not in ("cursor", "limit")}
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()[:16]


def after_id(filters):
    """Return the id the page starts after (0 for the first page); 400 for a cursor that was
    tampered with or belongs to another query."""
    cursor = filters.get("cursor")
    if not cursor:
        return 0
    try:
        found = _serializer().loads(cursor)
    except BadSignature:
        abort(400, message="cursor: this is not a cursor this API gave out.",
              errors={"cursor": "not a cursor this API gave out"})
    if not isinstance(found, dict) or found.get("q") != _query_of(filters) or \
            not isinstance(found.get("after"), int):
        abort(400, message="cursor: it belongs to another query; start again without it.",
              errors={"cursor": "belongs to another query"})
    return found["after"]


def page(rows, filters, limit):
    """Return {items, next_cursor} from `rows` (limit + 1 were asked for)."""
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = _serializer().dumps({"after": rows[-1].id, "q": _query_of(filters)}) \
        if more else None
    return rows, cursor
