"""The brand's tagging model: which one tags its conversations, how it scored, retraining."""
from flask import abort, render_template, request, url_for
from flask_login import current_user

from app.core.rendering import see_other
from app.extensions import db
from app.inbox import bp
from app.inbox.forms import ActionForm
from app.tagging import retrain
from app.tagging import service as tagging
from models import Brand, TagCorrection, TaggerVersion

# Who may retrain: it changes how every conversation of the brand is tagged.
RETRAINERS = ("lead", "manager")


def _brand():
    return db.session.get(Brand, current_user.brand_id)


@bp.get("/model")
def tagging_model():
    """Show the brand's current model, its evaluation figures and every retraining."""
    brand = _brand()
    versions = TaggerVersion.history(brand.id)
    return render_template(
        "inbox/model.html", versions=versions, corrections=TagCorrection.count_for(brand.id),
        current=next((v for v in versions if v.id == brand.tagger_version_id), None),
        shipped=tagging.shipped_model().metadata, can_retrain=current_user.role in RETRAINERS,
        queued=request.args.get("queued") == "1", action_form=ActionForm(formdata=None))


@bp.post("/model/retrain")
def retrain_model():
    """Queue a retraining of the brand's model on its staff's corrections."""
    if current_user.role not in RETRAINERS:
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    retrain.start_retraining(_brand())
    return see_other(url_for("inbox.tagging_model", queued=1))
