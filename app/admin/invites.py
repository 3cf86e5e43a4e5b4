"""Invitations to a brand's staff: invite, resend, revoke, accept; plain values in, each commits.

An invitation is bound to one address, role, teams and places; its link is the credential for
24 hours and only its hash is kept. The mail goes out in the brand's language; when no mail can
go, the link is handed back once to the caller to show (and never stored).
"""
import re
from collections import namedtuple
from email.utils import parseaddr

from flask import current_app, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.admin.people import brand_teams, brand_touchpoints, check_actor, check_role
from app.admin.problems import SetupProblem
from app.core.forms import PASSWORD_MIN
from app.core.permissions import may_grant, role_label
from app.core.validators import EMAIL, strip, too_long
from models import Brand, Invitation, StaffMember, Team, Touchpoint, db
from models.access import INVITATION_LIFETIME
from models.common import EMAIL_MAX, LANGUAGES, NAME_MAX, utcnow

MAX_INVITES = 20
# A pasted address longer than this is cut in a message: the person recognises it anyway.
ADDRESS_SHOWN = 60


def account_exists(address):
    """Say that `address` is taken, never where (addresses are unique across brands)."""
    return _("%(address)s already has a Kulak account; an address can belong to one account "
              "only.", address=address)


Invited = namedtuple("Invited", "invitation link")
Invited.__doc__ = "An invitation made or renewed; `link` only when no mail could carry it."


class AddressProblems(SetupProblem):
    """Some addresses cannot be invited: `messages` (one per address), `resendable` offers."""

    def __init__(self, messages, resendable=()):
        super().__init__(" ".join(str(m) for m in messages), "emails")
        self.messages, self.resendable = list(messages), list(resendable)


def parse_addresses(text):
    """Split pasted addresses (commas, semicolons, lines; "Name <a@b.c>") into unique ones."""
    found = []
    for item in re.split(r"[,;\n]+", text or ""):
        named = re.fullmatch(r"[^<>]*<([^<>]*)>\s*", item)
        address = strip(named.group(1) if named else item).lower()
        if address and address not in found:
            found.append(address)
    return found


def _shown(address):
    """Return `address` as a message shows it: a very long one cut."""
    return address if len(address) <= ADDRESS_SHOWN else address[:ADDRESS_SHOWN] + "…"


def pending_invitation(brand_id, address):
    """Return the brand's invitation of `address` not accepted nor revoked (expired too)."""
    return db.session.scalar(db.select(Invitation).filter_by(
        brand_id=brand_id, email=address, accepted_at=None, revoked_at=None).limit(1))


def pending_invitations(brand_id):
    """Return the brand's invitations neither accepted nor revoked, newest first."""
    return db.session.scalars(db.select(Invitation).filter_by(
        brand_id=brand_id, accepted_at=None, revoked_at=None)
        .options(selectinload(Invitation.invited_by), selectinload(Invitation.mail))
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())).all()


def address_taken(address):
    """True if `address` has an account (in any brand: addresses are unique)."""
    return db.session.scalar(db.select(StaffMember.id).filter_by(email=address)) is not None


def address_problem(brand_id, address):
    """Return why `address` cannot be invited to the brand (a sentence), or None."""
    if len(address) > EMAIL_MAX:
        return _("“%(address)s” is too long for an email address (at most %(max)d "
                  "characters).", address=_shown(address), max=EMAIL_MAX)
    # As strict as the mail is: an address it could not be sent to is refused here, at once.
    if not EMAIL.match(address) or parseaddr(address)[1] != address:
        return _("“%(address)s” does not look like an email address.", address=_shown(address))
    member = db.session.scalar(db.select(StaffMember).filter_by(email=address))
    if member is not None and member.brand_id == brand_id:
        return (_("%(address)s is already on your staff.", address=address) if member.active
                else _("%(address)s is on your staff, deactivated: reactivate them instead.",
                        address=address))
    if member is not None:  # addresses are unique across brands: say it is taken, never where
        return account_exists(address)
    if pending_invitation(brand_id, address) is not None:
        return _("%(address)s is invited already: resend that invitation instead.",
                  address=address)
    return None


def invite(actor, addresses, role, team_ids=(), touchpoint_ids=()):
    """Invite each address (all or none) with a role, teams and places; return [Invited]."""
    check_actor(actor)
    addresses = list(dict.fromkeys(strip(a).lower() for a in addresses if strip(a)))
    if not addresses:
        raise SetupProblem(_l("Please enter at least one email address."), "emails")
    if len(addresses) > MAX_INVITES:
        raise SetupProblem(_("Please invite at most %(max)d people at a time (there are "
                              "%(count)d).", max=MAX_INVITES, count=len(addresses)), "emails")
    role = check_role(actor, role)
    teams = brand_teams(actor.brand_id, team_ids)
    touchpoints = brand_touchpoints(actor.brand_id, touchpoint_ids)
    problems = [p for p in (address_problem(actor.brand_id, a) for a in addresses) if p]
    if problems:
        raise AddressProblems(problems, filter(None, (
            pending_invitation(actor.brand_id, a) for a in addresses)))
    made = []
    for address in addresses:
        invitation = Invitation(brand_id=actor.brand_id, email=address, role=role,
                                team_ids=[t.id for t in teams], invited_by_id=actor.id,
                                touchpoint_ids=[t.id for t in touchpoints])
        made.append((invitation, invitation.renew()))
        db.session.add(invitation)
    db.session.commit()
    return [Invited(invitation, _mail(invitation, token, actor)) for invitation, token in made]


def invitation_url(token):
    """Return the absolute address of an invitation's link (mailed or shown, never stored)."""
    return current_app.config["PUBLIC_URL"] + url_for("inbox.accept_invitation", token=token)


def _mail(invitation, token, inviter):
    """Mail the invitation in the brand's language; return its link if no mail can go."""
    from app.mail import send_mail
    brand = db.session.get(Brand, invitation.brand_id)
    url = invitation_url(token)
    with force_locale(brand.default_language):
        context = {"brand": brand, "inviter": inviter, "email": invitation.email, "url": url,
                   "role": role_label(invitation.role),
                   "hours": int(INVITATION_LIFETIME.total_seconds() // 3600)}
        subject = _("%(name)s invites you to %(brand)s on Kulak", name=inviter.name,
                    brand=brand.name)
        text = render_template("mail/invitation.txt", **context)
        html = render_template("mail/invitation.html", **context)
    mail = send_mail(invitation.email, subject, text, html=html, brand_id=brand.id,
                     purpose="invitation")
    invitation.mail_id = None if mail is None else mail.id
    db.session.commit()
    return url if mail is None else None


def _check_invitation(actor, invitation):
    """Refuse unless `actor` may give the invitation's role and it is still pending."""
    check_actor(actor)
    if not may_grant(actor, invitation.role):
        raise SetupProblem(_("This invitation gives the role %(role)s, which you may not "
                              "give: only someone who may can resend or revoke it.",
                              role=role_label(invitation.role)))
    if invitation.accepted_at is not None:
        raise SetupProblem(_("%(address)s has accepted this invitation already.",
                              address=invitation.email))
    if invitation.revoked_at is not None:
        raise SetupProblem(_("This invitation was revoked: invite %(address)s again.",
                              address=invitation.email))


def resend(actor, invitation):
    """Give the invitation a new link and 24 hours, and send it again: the old link dies."""
    _check_invitation(actor, invitation)
    if address_taken(invitation.email):
        raise SetupProblem(account_exists(invitation.email))
    token = invitation.renew()
    invitation.invited_by_id = actor.id
    db.session.commit()
    return Invited(invitation, _mail(invitation, token, actor))


def revoke(actor, invitation):
    """Withdraw a pending invitation: its link stops working at once."""
    _check_invitation(actor, invitation)
    # One conditional update: an acceptance that was first wins, and is not undone.
    done = db.session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None)).values(revoked_at=utcnow())).rowcount == 1
    db.session.commit()
    db.session.expire(invitation)
    if not done:
        raise SetupProblem(_("%(address)s has accepted this invitation already.",
                              address=invitation.email))
    return invitation


def _claim(invitation):
    """Mark the invitation accepted by one conditional update; False if it died first."""
    # Invitation.accept(), and the link opened must still be the live one: a resend or the
    # clock may have passed it since the page was found.
    return db.session.execute(update(Invitation).where(
        Invitation.id == invitation.id, Invitation.token_hash == invitation.token_hash,
        Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > utcnow()).values(accepted_at=utcnow())).rowcount == 1


def accept(invitation, name, password, language=None):
    """Make the invited member of staff once; return them, or None if the link died."""
    # The address and role are the invitation's; teams and places deleted since are dropped.
    name = strip(name or "")
    if not name:
        raise SetupProblem(_l("Please give your name as your colleagues know it."), "name")
    if len(name) > NAME_MAX:
        raise SetupProblem(too_long(NAME_MAX, name), "name")
    if language not in (None, *LANGUAGES) or len(password or "") < PASSWORD_MIN:
        raise SetupProblem(_("Please choose a language and a password of at least %(min)d "
                              "characters.", min=PASSWORD_MIN))
    teams = _existing(Team, invitation.brand_id, invitation.team_ids)
    touchpoints = _existing(Touchpoint, invitation.brand_id, invitation.touchpoint_ids)
    if invitation.touchpoint_ids and not touchpoints:
        # No place left would mean every place: more than the invitation gave.
        raise SetupProblem(_l("The places this invitation was for no longer exist: please ask "
                              "for a new invitation."))
    taken = SetupProblem(account_exists(invitation.email))
    if address_taken(invitation.email):
        raise taken
    if not _claim(invitation):
        db.session.rollback()
        return None
    staff = StaffMember(brand_id=invitation.brand_id, email=invitation.email, name=name,
                        role=invitation.role, language=language or None, teams=teams,
                        touchpoints=touchpoints)
    staff.set_password(password)
    db.session.add(staff)
    try:
        db.session.flush()
    except IntegrityError:  # the address got an account a moment ago: nothing is kept
        db.session.rollback()
        raise taken from None
    db.session.execute(update(Invitation).where(Invitation.id == invitation.id)
                       .values(staff_id=staff.id))
    db.session.commit()
    db.session.expire(invitation)
    return staff


def _existing(model, brand_id, ids):
    """Return the brand's rows among `ids`, dropping those deleted since."""
    ids = [i for i in ids or () if isinstance(i, int)]
    return db.session.scalars(db.select(model).where(
        model.brand_id == brand_id, model.id.in_(ids)).order_by(model.id)).all() if ids else []
