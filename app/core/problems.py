"""Errors of the JSON API as RFC 9457 problem documents, with a message a person understands."""
from flask import jsonify, request
from flask_babel import gettext as _

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"


def is_api_request():
    return request.path.startswith(API_PREFIX)


def problem(status, title, detail=None, **extra):
    """Return a problem+json response: `title` says the kind, `detail` this occurrence."""
    document = {"type": "about:blank", "status": status, "title": title, **extra}
    if detail:
        document["detail"] = detail
    response = jsonify(document)
    response.status_code = status
    response.mimetype = MEDIA_TYPE
    return response


def _texts():
    return {
        400: (_("Bad request"), _("The request could not be read: check its JSON and its "
                                  "parameters.")),
        401: (_("Not signed in"), _("Send a valid API token: Authorization: Bearer <token>. "
                                    "A revoked token no longer works.")),
        403: (_("Not allowed"), _("This token may not do that (a read-only token cannot "
                                  "write).")),
        404: (_("Not found"), _("There is no such object in this brand.")),
        405: (_("Method not allowed"), _("This address does not take that method.")),
        413: (_("Body too large"), _("The request body is too large.")),
        409: (_("Conflict"), _("The same Idempotency-Key is still being processed: retry in a "
                               "moment.")),
        415: (_("Unsupported media type"), _("Send the body as application/json.")),
        422: (_("Invalid request"), _("Some fields are missing or wrong: see errors.")),
        429: (_("Too many requests"), _("This token sent too many requests: wait, then retry "
                                        "(see Retry-After).")),
        500: (_("Server error"), _("Something went wrong on our side. A request sent with an "
                                   "Idempotency-Key may be retried safely.")),
        503: (_("Service unavailable"), _("The service cannot reach its records just now; "
                                          "retry in a few seconds.")),
    }


def texts(status):
    """Return (title, detail) that explain an HTTP error status."""
    return _texts().get(status, (_("Error"), None))


def for_status(status):
    """Return the problem document for an HTTP error status."""
    return problem(status, *texts(status))
