"""CRM webhooks: managers point the brand's events at their systems and read every attempt."""
from flask import abort, render_template, url_for
from flask_login import current_user

from app.core.rendering import see_other
from app.core.scoping import brand_scoped
from app.extensions import db
from app.inbox import bp
from app.inbox.forms import ActionForm, WebhookForm
from models import Brand, Webhook, WebhookDelivery

WEBHOOK_EDITORS = ("manager", "admin")
LOG_SIZE = 50


def _require_editor():
    if current_user.role not in WEBHOOK_EDITORS:
        abort(403)


def _save_kinds():
    """Keep the brand's list of listened-to kinds in step with its webhooks, then commit."""
    brand = db.session.get(Brand, current_user.brand_id)
    db.session.flush()
    brand.webhook_events = Webhook.kinds_for(brand.id)
    db.session.commit()


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks():
    _require_editor()
    form = WebhookForm()
    if form.validate_on_submit():
        db.session.add(Webhook(brand_id=current_user.brand_id, url=form.url.data,
                               events=list(form.events.data)))
        _save_kinds()
        return see_other(url_for("inbox.webhooks"))
    hooks = db.session.scalars(db.select(Webhook).filter_by(
        brand_id=current_user.brand_id).order_by(Webhook.id)).all()
    log = db.session.scalars(db.select(WebhookDelivery).join(Webhook).where(
        Webhook.brand_id == current_user.brand_id)
        .order_by(WebhookDelivery.id.desc()).limit(LOG_SIZE)).all()
    return render_template("inbox/webhooks.html", hooks=hooks, log=log, form=form,
                           action_form=ActionForm(formdata=None)), 422 if form.errors else 200


@bp.post("/webhooks/<int:webhook_id>/delete")
def delete_webhook(webhook_id):
    webhook = brand_scoped(current_user, Webhook, webhook_id)  # 404 before 403
    _require_editor()
    if ActionForm().validate_on_submit():
        db.session.execute(db.delete(WebhookDelivery).filter_by(webhook_id=webhook.id))
        db.session.delete(webhook)
        _save_kinds()
    return see_other(url_for("inbox.webhooks"))
