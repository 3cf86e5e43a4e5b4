"""Friendly error pages in the customer's language that reveal nothing."""
from flask import make_response, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc

from app.core import bp, outage, problems
from app.core.rendering import wants_fragment
from app.core.security import no_store

bp.record_once(outage.watch)


def _error_page(status, title, detail):
    if problems.is_api_request():  # a CRM reads JSON, not the customer's page
        return problems.for_status(status)
    return render_template("widget/error.html", title=title, detail=detail), status


@bp.app_errorhandler(CSRFError)
def form_expired(error):
    return _error_page(400, _("This form has expired"),
                       _("For your safety, forms expire. Go back, reload the page and send it "
                         "again; nothing was changed."))


@bp.app_errorhandler(400)
def bad_request(error):
    return _error_page(400, _("Something went wrong"), _("This page cannot be used that way."))


@bp.app_errorhandler(403)
def forbidden(error):
    return _error_page(403, _("Not for your role"),
                       _("Your account may not use this page. Ask your brand's admin if you "
                         "need it."))


@bp.app_errorhandler(404)
def not_found(error):
    return _error_page(404, _("Page not found"),
                       _("This link does not lead anywhere. Check the address, "
                         "or scan the code again."))


@bp.app_errorhandler(405)
def method_not_allowed(error):
    return _error_page(405, _("Not allowed"), _("This page cannot be used that way."))


@bp.app_errorhandler(413)
def too_large(error):
    return _error_page(413, _("Message too long"),
                       _("What you sent is too large. Please shorten it and try again."))


@bp.app_errorhandler(429)
def too_many_requests(error):
    # A limit with its own answer (on_breach) keeps it: e.g. "forgot password" answers the same.
    if getattr(error, "response", None) is not None:
        return error.response
    return _error_page(429, _("Slow down a little"),
                       _("We received many requests from your connection. "
                         "Please wait a minute, then go back and send it again."))


@bp.app_errorhandler(500)
def server_error(error):
    return _error_page(500, _("Something went wrong"),
                       _("Please try again in a moment. If you were sending a message, "
                         "it is safe to send it again: it will not arrive twice."))


@bp.app_errorhandler(exc.DBAPIError)
@bp.app_errorhandler(exc.TimeoutError)
@bp.app_errorhandler(exc.DisconnectionError)
def database_unavailable(error):
    """Answer an outage with 503 and Retry-After, one log line per outage, no traceback."""
    if not outage.is_outage(error):
        raise error  # a bug (IntegrityError...): Flask's own 500, traceback logged
    outage.went_down(error)
    no_store()  # a copy kept by a cache would say "down" after the database is back
    response = outage.blueprint_answer()
    if response is None:
        response = make_response(_error_page(
            503, _("Back in a moment"),
            _("We cannot reach our records just now. Please try again in a few seconds: if "
              "you were sending something, go back and send it again.")))
        if wants_fragment():
            # htmx swaps a 503 (responseHandling): this page has no place in a fragment's
            # target, so leave what is on screen, and what was typed, as it is.
            response.headers["HX-Reswap"] = "none"
    response.headers["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
    return response
