"""CRM webhooks: the brand's events posted to its systems, and every attempt in a log."""
from flask import render_template, url_for
from flask_login import current_user

from app.admin import bp, current_brand
from app.admin.settings_forms import WebhookForm
from app.core.permissions import requires
from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from models import Webhook, WebhookDelivery, db

LOG_SIZE = 50


def _save_kinds(brand):
    """Keep the brand's list of listened-to kinds in step with its webhooks, then commit."""
    db.session.flush()
    brand.webhook_events = Webhook.kinds_for(brand.id)
    db.session.commit()


def add_webhook(brand, url, events):
    db.session.add(Webhook(brand_id=brand.id, url=url, events=list(events)))
    _save_kinds(brand)


def remove_webhook(brand, webhook):
    """Remove a webhook and its log; its events stop at once."""
    db.session.execute(db.delete(WebhookDelivery).filter_by(webhook_id=webhook.id))
    db.session.delete(webhook)
    _save_kinds(brand)


@bp.route("/webhooks", methods=["GET", "POST"])
@requires("webhooks.edit")
def webhooks():
    """List the brand's webhooks and the latest deliveries; add a webhook."""
    brand, form = current_brand(), WebhookForm()
    if form.validate_on_submit():
        add_webhook(brand, form.url.data, form.events.data)
        return see_other(url_for("admin.webhooks"))
    hooks = db.session.scalars(db.select(Webhook).filter_by(brand_id=brand.id)
                               .order_by(Webhook.id)).all()
    log = db.session.scalars(db.select(WebhookDelivery).join(Webhook).where(
        Webhook.brand_id == brand.id).order_by(WebhookDelivery.id.desc()).limit(LOG_SIZE)).all()
    return render_template("admin/webhooks.html", hooks=hooks, log=log,
                           form=form), 422 if form.errors else 200


@bp.post("/webhooks/<int:webhook_id>/delete")
@requires("webhooks.edit")
def delete_webhook(webhook_id):
    """Remove one of the brand's webhooks."""
    webhook = brand_scoped(current_user, Webhook, webhook_id)
    remove_webhook(current_brand(), webhook)
    return see_other(url_for("admin.webhooks"))
