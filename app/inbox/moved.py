"""Old addresses of the settings pages that moved to /admin: bookmarks keep working."""
from flask import redirect, request, url_for

from app.inbox import bp

# Old path under /inbox: the endpoint that now serves the page.
MOVED = {"/routing": "admin.routing_rules", "/escalation": "admin.escalation_policy",
         "/webhooks": "admin.webhooks", "/model": "admin.tagging_model",
         "/canned": "admin.canned_replies"}


def moved_page():
    """Send an old bookmark to the page's new address for good (308), with its query."""
    location = url_for(MOVED[request.url_rule.rule.removeprefix(bp.url_prefix)])
    query = request.query_string.decode()
    return redirect(f"{location}?{query}" if query else location, 308)


for _path in MOVED:
    bp.add_url_rule(_path, "moved_page", moved_page, methods=["GET"])
