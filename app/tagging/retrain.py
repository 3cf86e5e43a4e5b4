"""The per-brand retraining job: seed data plus the brand's corrections, used only if not worse."""
from sqlalchemy import select

from app.jobs import SLOW, enqueue, run_cpu_bound
from app.tagging import service as tagging
from classifier import DEFAULT_LABELS, retraining
from models import Brand, Conversation, TagCorrection, TaggerVersion, Touchpoint, db


def correction_rows(brand_id):
    """Return the brand's corrections as training rows: per conversation, the latest labels."""
    rows = {}
    query = (select(TagCorrection, Touchpoint.kind)
             .join(Conversation, Conversation.id == TagCorrection.conversation_id)
             .outerjoin(Touchpoint, Touchpoint.id == Conversation.touchpoint_id)
             .where(TagCorrection.brand_id == brand_id).order_by(TagCorrection.id))
    for correction, kind in db.session.execute(query):
        # A brand's own categories are not the shipped model's nine: it cannot learn them.
        if correction.new_value not in DEFAULT_LABELS[correction.field]:
            continue
        row = rows.setdefault(correction.conversation_id, {"context": kind})
        row["text"] = correction.text
        row[correction.field] = correction.new_value
    return list(rows.values())


def retrain_brand(brand_id):
    """Retrain a brand's model on its corrections; return the new TaggerVersion's id."""
    brand = db.session.get(Brand, brand_id)
    if brand is None:
        return None
    rows, current = correction_rows(brand_id), tagging.model_for(brand)
    db.session.commit()  # no transaction stays open through a minute of training
    try:
        model, report = run_cpu_bound(retraining.retrain, rows, current)
    except Exception as error:
        _record(brand, rows, outcome="failed", error=f"{type(error).__name__}: {error}"[:2000])
        db.session.commit()
        raise
    better = report["better_or_equal"]
    version = _record(brand, rows, outcome="not_better", report=report,
                      examples=model.metadata["examples"],
                      model=model.to_bytes() if better else None)
    if better:
        version.make_current(brand)  # the swap: one commit with the new version
    db.session.commit()
    return version.id


def _record(brand, rows, **columns):
    version = TaggerVersion(brand_id=brand.id, version=TaggerVersion.next_version(brand.id),
                            corrections=len(rows), **columns)
    db.session.add(version)
    return version


def start_retraining(brand):
    """Queue a retraining of `brand`'s model."""
    return enqueue(retrain_brand, brand.id, queue=SLOW, timeout=900)
