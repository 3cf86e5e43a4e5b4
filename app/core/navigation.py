"""The staff navigation: each entry shows only to those whose role may use the page."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.core.permissions import can

# (endpoint, label, permission), in the order the menu shows them.
NAVIGATION = (
    ("inbox.index", _l("Inbox"), "inbox.work"),
    ("reports.index", _l("Reports"), "reports.view"),
    ("admin.canned_replies", _l("Canned replies"), "canned.edit"),
    ("admin.routing_rules", _l("Routing"), "routing.edit"),
    ("admin.escalation_policy", _l("Escalation"), "escalation.edit"),
    ("admin.tagging_model", _l("Tagging model"), "model.retrain"),
    ("admin.webhooks", _l("Webhooks"), "webhooks.edit"),
    ("admin.api_tokens", _l("API tokens"), "api.tokens"),
    ("admin.staff", _l("Staff"), "staff.manage"),
    ("admin.teams", _l("Teams"), "teams.edit"),
    ("admin.index", _l("Brand setup"), "brand.setup"),
    ("admin.mail", _l("Mail"), "mail.test"),
    ("inbox.alert_settings", _l("My alerts"), "inbox.work"),
    ("inbox.profile", _l("My profile"), "inbox.work"),
)


def menu():
    """Return the (endpoint, label) entries the signed-in person may use."""
    return [(endpoint, label) for endpoint, label, permission in NAVIGATION
            if can(current_user, permission)]


def init_app(app):
    @app.context_processor
    def inject_menu():
        return {"staff_menu": menu}
