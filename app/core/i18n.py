"""Pick the language without a cookie: ?lang=, the staff member's own, the conversation, the
browser, the brand."""
from urllib.parse import urlencode

from flask import current_app, g, has_request_context, request
from werkzeug.exceptions import HTTPException

LANGUAGE_NAMES = {"en": "English", "tr": "Türkçe"}
# Pages of signed-in staff: there the person's own language (their profile) comes first.
STAFF_PATHS = ("/inbox", "/admin", "/reports", "/api")


def _staff_language():
    """Return the signed-in person's chosen language, or None (then the browser's)."""
    from flask_login import current_user
    return current_user.language if current_user.is_authenticated else None


def _form_language():
    """Return the posted `lang` field, or None when the body cannot be read."""
    try:
        return request.form.get("lang")
    except HTTPException:
        # A body refused unread (413) or cut off (400) raises on every read: the error page
        # that answers it asks for the language too, and must not raise it again.
        return None


def select_locale():
    """Return the language for this request."""
    supported = current_app.config["LANGUAGES"]
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    chosen = request.args.get("lang") or _form_language()
    if chosen in supported:
        return chosen
    if request.path.startswith(STAFF_PATHS):
        own = _staff_language()
        if own in supported:
            return own
    # A conversation remembers the language it started in: the customer chose it then.
    if g.get("conversation_language") in supported:
        return g.conversation_language
    return (request.accept_languages.best_match(supported)
            or g.get("brand_language") or default)


def language_links():
    """Return (code, name, url) for each language, the current URL with ?lang= replaced."""
    args = request.args.to_dict()
    links = []
    for code in current_app.config["LANGUAGES"]:
        args["lang"] = code
        links.append((code, LANGUAGE_NAMES.get(code, code), f"{request.path}?{urlencode(args)}"))
    return links


def init_app(app):
    from flask_babel import get_locale

    @app.context_processor
    def inject_language():
        return {"language_links": language_links, "current_language": lambda: str(get_locale())}
