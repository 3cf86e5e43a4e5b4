"""The one table of who may do what, and the decorator that enforces it on every staff page.

Roles are ranked (agent < lead < manager < admin); each permission names the lowest role that
has it, so a higher role can do everything a lower one can. Pages, the navigation, the API and
the tests all read this table; nothing else lists roles.
"""
import functools

from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.extensions import login_manager
from models.staff import ROLE_RANK, ROLES

# permission: (lowest role that has it, what it lets a person do)
PERMISSIONS = {
    "inbox.work": ("agent", _l("Answer conversations; set one's own alerts and profile")),
    # Without these, one sees what is assigned to one and one's teams' (or no team's) queue.
    "inbox.see_team": ("lead", _l("See every conversation of their teams")),
    "inbox.see_all": ("manager", _l("See every conversation of the brand")),
    # Agents' reports count only what was assigned to them; with see_team or see_all, the
    # conversations a person may see (app.core.scoping).
    "reports.view": ("agent", _l("Read reports: agents their own figures")),
    "reports.export": ("lead", _l("Export the conversations of a report as CSV")),
    "canned.edit": ("lead", _l("Write and change the brand's canned replies")),
    "routing.edit": ("lead", _l("See and change the routing rules")),
    "model.retrain": ("lead", _l("See the tagging model and retrain it")),
    "escalation.edit": ("manager", _l("Change the escalation chain and business hours")),
    "webhooks.edit": ("manager", _l("Add and remove CRM webhooks, read their log")),
    "teams.edit": ("manager", _l("Create, rename and delete teams")),
    # Invite, change roles and deactivate: managers only agents and leads (see may_grant).
    "staff.manage": ("manager", _l("Invite staff, change roles and places, deactivate")),
    # Who may give the role of admin (and change an admin): admins alone.
    "staff.manage_all": ("admin", _l("Invite, change and deactivate managers and admins")),
    "brand.setup": ("manager", _l("Set up the brand, its places, surveys and categories")),
    "mail.test": ("admin", _l("See outgoing mail and send a test mail")),
    # Tokens act for the whole brand (a CRM reads every conversation): admins alone.
    "api.tokens": ("admin", _l("Create and revoke the brand's API tokens")),
    # A customer's name and note are what staff know of them, as the conversation is.
    "contacts.edit": ("agent", _l("Add a name and a note to a customer's contact")),
    # Everything Kulak holds on a person, and its erasure: admins alone.
    "privacy.manage": ("admin", _l("Export and erase a customer's personal data")),
}


ROLE_LABELS = {"agent": _l("Agent"), "lead": _l("Team lead"), "manager": _l("Manager"),
               "admin": _l("Admin")}


def role_label(role):
    """Return a role as people read it."""
    return str(ROLE_LABELS.get(role, role))


def can(staff, permission):
    """True if `staff` (signed in, active) has `permission`; an unknown permission is no one's."""
    lowest = PERMISSIONS.get(permission, (None,))[0]
    if lowest is None or staff is None or not getattr(staff, "is_authenticated", False):
        return False
    return ROLE_RANK.get(staff.role, -1) >= ROLE_RANK[lowest]


def may_grant(staff, role):
    """True if `staff` may give `role` to someone (or change someone who has it): managers
    agents and leads, admins every role."""
    if role not in ROLE_RANK or not can(staff, "staff.manage"):
        return False
    return can(staff, "staff.manage_all") or ROLE_RANK[role] < ROLE_RANK["manager"]


def grantable_roles(staff):
    return [role for role in ROLES if may_grant(staff, role)]


def roles_with(permission):
    """Return the roles that have `permission`, lowest first."""
    lowest = ROLE_RANK[PERMISSIONS[permission][0]]
    return [role for role in ROLES if ROLE_RANK[role] >= lowest]


def requires(permission):
    """Let a view run only for signed-in staff with `permission`: others sign in, or get 403."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(view):
        @functools.wraps(view)
        def guarded(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)
        guarded.permission = permission
        return guarded
    return decorate


def permission_of(view):
    """Return the permission a view was guarded with, or None."""
    return getattr(view, "permission", None)


def init_app(app):
    @app.context_processor
    def inject_can():
        return {"can": lambda permission: can(current_user, permission),
                "role_label": role_label}
