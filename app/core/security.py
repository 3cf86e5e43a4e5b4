"""Security headers on every response; customer pages also get their brand's frame-ancestors."""
from flask import abort, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from app.core.i18n import STAFF_PATHS

# htmx is served from our own origin; nothing inline, nothing third-party.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors {frame_ancestors}"
)


def allow_framing_by(sources):
    """Let this response be framed by `sources` (a CSP source list)."""
    g.frame_ancestors = sources


def private_cache(response):
    """Let the browser alone keep `response`, asking again before each use (If-None-Match)."""
    response.headers["Cache-Control"] = "private, no-cache"
    g.private_cache = True


def no_store():
    """Tell every cache, shared or the browser's own, not to keep this response."""
    g.no_store = True


def init_app(app):
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    @app.before_request
    def refuse_nul():
        # No address or query of Kulak's holds a NUL character, and PostgreSQL refuses one in
        # text: a look-up with it would be a 500 (form fields drop it: app.core.forms).
        if "\x00" in request.path:
            abort(404)
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            abort(400)

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY.format(frame_ancestors=g.get("frame_ancestors", "'none'")))
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Capability URLs (/c/<token>) must never leak through the Referer header.
        response.headers["Referrer-Policy"] = "no-referrer"
        # Staff pages show other people's conversations: no copy on a shared computer's disk.
        if (request.path.startswith(("/c/", *STAFF_PATHS)) or g.get("no_store")) \
                and not g.get("private_cache"):
            response.headers["Cache-Control"] = "no-store"
        # Once served over https, browsers must never try plain http (no downgrade to strip).
        if current_app.config["PUBLIC_URL"].startswith("https://"):
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
