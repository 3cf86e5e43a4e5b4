"""The brand's tagging model: which one tags its conversations, how it scored, retraining."""
from flask import render_template, request, url_for

from app.admin import bp, current_brand
from app.core.permissions import requires
from app.core.rendering import see_other
from app.tagging import retrain
from app.tagging import service as tagging
from models import TagCorrection, TaggerVersion


@bp.get("/model")
@requires("model.retrain")
def tagging_model():
    """Show the brand's current model, its evaluation figures and every retraining."""
    brand = current_brand()
    versions = TaggerVersion.history(brand.id)
    return render_template(
        "admin/model.html", versions=versions, corrections=TagCorrection.count_for(brand.id),
        current=next((v for v in versions if v.id == brand.tagger_version_id), None),
        shipped=tagging.shipped_model().metadata, queued=request.args.get("queued") == "1")


@bp.post("/model/retrain")
@requires("model.retrain")
def retrain_model():
    """Queue a retraining of the brand's model on its staff's corrections."""
    retrain.start_retraining(current_brand())
    return see_other(url_for("admin.tagging_model", queued=1))
