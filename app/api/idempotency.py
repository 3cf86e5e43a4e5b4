"""Idempotency-Key: a POST retried with the same key gets the first answer, and runs once."""
import hashlib
import json

from flask import Response, request
from flask_smorest import abort
from sqlalchemy.exc import IntegrityError

from app.api.auth import principal
from models import IdempotentRequest, db


def client_id(key):
    """Return the message client id a keyed request writes with: the message table's unique
    key then refuses a second copy even if two retries race past the check below."""
    return None if key is None else "api-" + hashlib.sha256(
        f"{principal().token.id}:{key}".encode()).hexdigest()[:40]


def _fingerprint():
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                          + request.get_data()).hexdigest()


def once(key, run):
    """Return run()'s (document, status), or the first answer to this token's `key`.

    The key is claimed (committed) before `run` starts: a copy sent meanwhile gets 409, one
    sent after gets the stored answer; an error answer frees the key for a corrected retry."""
    if key is None:
        return run()
    token_id, fingerprint = principal().token.id, _fingerprint()
    claim = IdempotentRequest(token_id=token_id, key=key, fingerprint=fingerprint)
    db.session.add(claim)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return _replay(token_id, key, fingerprint)
    try:
        document, status = run()
    except Exception:
        db.session.rollback()
        db.session.execute(db.delete(IdempotentRequest).filter_by(id=claim.id))
        db.session.commit()
        raise
    claim.status, claim.body = status, json.dumps(document, separators=(",", ":"))
    db.session.commit()
    return document, status


def _replay(token_id, key, fingerprint):
    found = db.session.scalar(db.select(IdempotentRequest).filter_by(token_id=token_id, key=key))
    if found is not None and found.fingerprint != fingerprint:
        abort(422, message="Idempotency-Key: this key was used for a different request.",
              errors={"Idempotency-Key": "used before for a different request"})
    if found is None or found.status is None:
        abort(409)
    response = Response(found.body, status=found.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response, found.status
