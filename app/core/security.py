"""Security headers on every response; customer pages also get their brand's frame-ancestors."""
from flask import g, request
from werkzeug.middleware.proxy_fix import ProxyFix

# htmx is served from our own origin; nothing inline, nothing third-party.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors {frame_ancestors}"
)


def allow_framing_by(sources):
    """Let this response be framed by `sources` (a CSP source list)."""
    g.frame_ancestors = sources


def init_app(app):
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    @app.after_request
    def set_security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            CONTENT_SECURITY_POLICY.format(frame_ancestors=g.get("frame_ancestors", "'none'")))
        response.headers["X-Content-Type-Options"] = "nosniff"
        # Capability URLs (/c/<token>) must never leak through the Referer header.
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.path.startswith("/c/"):
            response.headers["Cache-Control"] = "no-store"
        return response
