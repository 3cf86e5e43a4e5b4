"""A brand's own versions of the tagging model, retrained on its staff's corrections."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from models import db
from models.common import utcnow

OUTCOMES = ("current", "replaced", "not_better", "failed")


class TaggerVersion(db.Model):
    """One retraining of a brand's model: what it learnt from, how it scored, whether it is used."""

    __table_args__ = (UniqueConstraint("brand_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # current: the brand's model now; replaced: was current once; not_better: scored below
    # the model it was meant to replace, so never used; failed: training raised.
    outcome: Mapped[str] = mapped_column(String(12))
    examples: Mapped[int] = mapped_column(default=0)
    corrections: Mapped[int] = mapped_column(default=0)
    # {"new": {...}, "current": {...}, "corrections_held_out": n, ...} from classifier.retraining
    report: Mapped[dict] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # The trained model itself (a few MB), in the database so every web process and host
    # reads the same one; loaded only when a process first needs this version.
    model: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))

    @classmethod
    def history(cls, brand_id):
        return db.session.scalars(db.select(cls).filter_by(brand_id=brand_id)
                                  .order_by(cls.version.desc())).all()

    @classmethod
    def next_version(cls, brand_id):
        latest = db.session.scalar(db.select(db.func.max(cls.version)).filter_by(
            brand_id=brand_id))
        return (latest or 0) + 1

    def make_current(self, brand):
        """Swap this version in for `brand`, in the caller's transaction (not committed)."""
        db.session.flush()  # for this version's id
        if brand.tagger_version_id is not None:
            previous = db.session.get(TaggerVersion, brand.tagger_version_id)
            if previous is not None and previous is not self:
                previous.outcome = "replaced"
        self.outcome = "current"
        brand.tagger_version_id = self.id
