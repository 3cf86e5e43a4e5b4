"""The JSON API for CRMs (/api/v1): bearer tokens, problem documents, an OpenAPI document."""
import http

import flask_smorest
from flask import current_app
from werkzeug.exceptions import HTTPException

from app.core import problems
from app.extensions import csrf

bp = flask_smorest.Blueprint("api", __name__, url_prefix="/api/v1",
                             description="Conversations, messages and the brand's directory")
EXTENSION = "kulak.api"


class Api(flask_smorest.Api):
    """flask-smorest's Api without its app-wide JSON error handlers (the pages keep theirs),
    whose error responses are documented as the problem documents handle_error answers."""

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        from app.api.schemas import Problem
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["content"] = {problems.MEDIA_TYPE: {"schema": Problem}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "An error, as an RFC 9457 problem document",
            "content": {problems.MEDIA_TYPE: {"schema": Problem}}}, lazy=True)


def _said(texts):
    return " ".join(map(str, texts)) if isinstance(texts, list) else str(texts)


def handle_error(error):
    """Answer any error inside the API as a problem document, with each field's messages."""
    data = getattr(error, "data", None) or {}
    title, detail = problems.texts(error.code)
    extra = {"errors": data["errors"]} if data.get("errors") else {}
    if messages := data.get("messages"):  # webargs: {"json": {"field": ["message"]}, ...}
        flat = {}
        for where, found in messages.items():
            pairs = found.items() if isinstance(found, dict) else [(where, found)]
            flat.update({str(field): _said(texts) for field, texts in pairs})
        detail = "; ".join(f"{field}: {text}" for field, text in flat.items())
        return problems.problem(error.code, title, detail, errors=flat)
    response = problems.problem(error.code, title, data.get("message") or detail, **extra)
    if error.code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="kulak"'
    return response


# By code as well as by class: Flask tries the app's handler for a code (the HTML error
# pages) before a blueprint's handler for a class.
bp.register_error_handler(HTTPException, handle_error)
for _code in (400, 401, 403, 404, 405, 409, 413, 415, 422, 429, 500):
    bp.register_error_handler(_code, handle_error)


def openapi_document():
    """Return the OpenAPI document of this app's API as a dict."""
    return current_app.extensions[EXTENSION].spec.to_dict()


def init_app(app):
    from app.api import conversations, directory  # noqa: F401 - they add the routes
    api = Api(spec_kwargs={"info": {"description": "Kulak's API for CRMs: read conversations "
                                                   "and their messages, reply, resolve, "
                                                   "assign and tag. Send a brand's API token "
                                                   "as `Authorization: Bearer <token>`."}})
    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.register_blueprint(bp)
    from app.api.docs import docs_bp
    app.register_blueprint(docs_bp)
    csrf.exempt(bp)  # no cookie reaches it: the bearer token is the only credential
    app.extensions[EXTENSION] = api
