"""The one helper that decides between a full page and an htmx fragment, and the 303 after a post."""
from flask import Response, make_response, render_template, request


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


def see_other(location):
    """Answer a form post with 303 See Other and no body: browsers never show one, and the
    answer leaves in a single write instead of headers and body apart."""
    return Response(status=303, headers={"Location": location})


def init_app(app):
    # Customer pages are counted in bytes on slow phones: drop template whitespace.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
