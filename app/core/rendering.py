"""The one helper that decides between a full page and an htmx fragment."""
from flask import make_response, render_template, request


def wants_fragment():
    """True for a targeted htmx request; plain requests, boosts and history restores get pages."""
    headers = request.headers
    return (headers.get("HX-Request") == "true"
            and headers.get("HX-History-Restore-Request") != "true"
            and headers.get("HX-Boosted") != "true")


def page_or_fragment(page, fragment, status=200, **context):
    """Render `fragment` for htmx, `page` otherwise, and tell caches the answer varies."""
    template = fragment if wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def init_app(app):
    # Customer pages are counted in bytes on slow phones: drop template whitespace.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
