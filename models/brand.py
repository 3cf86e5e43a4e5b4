"""The brand aggregate: a brand, its touchpoints and its conversation categories."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.common import LABEL_MAX, NAME_MAX, SLUG_MAX, localized, utcnow

TOUCHPOINT_KINDS = ("room", "table", "kiosk", "web", "link")
DEFAULT_COLOUR = "#23395d"
SMS_URL_MAX = 500
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Brand(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    default_language: Mapped[str] = mapped_column(String(5), default="en")
    # Origins allowed to frame the customer pages, e.g. ["https://shop.example"].
    embed_origins: Mapped[list] = mapped_column(JSON, default=list)
    # {language: text}; "{minutes}" and "{team}" are filled in when a conversation starts.
    acknowledgement: Mapped[dict] = mapped_column(JSON, default=dict)
    responder_name: Mapped[dict] = mapped_column(JSON, default=dict)
    expected_response_minutes: Mapped[int] = mapped_column(default=5)
    # IANA zone for the times customers and staff see, e.g. "Europe/Istanbul".
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # A staff session unused this long ends: a shared front-desk computer left signed in.
    idle_timeout_minutes: Mapped[int] = mapped_column(default=720, server_default="720")
    # Satisfaction: what is asked after a resolution ("csat", "nps" or "both"), for how many
    # days the answer may be changed, the first-response target reports count against, and
    # how long a visit lasts (a conversation resolved within it was resolved on the spot).
    rating_mode: Mapped[str] = mapped_column(String(4), default="csat", server_default="csat")
    rating_days: Mapped[int] = mapped_column(default=7, server_default="7")
    response_target_minutes: Mapped[int] = mapped_column(default=3, server_default="3")
    visit_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    # The brand's own retrained tagging model (a TaggerVersion id); None: the shipped one.
    # Every web process reads it with the brand, so a swap is one committed update.
    tagger_version_id: Mapped[int | None] = mapped_column()
    # The event kinds the brand's active webhooks listen to, kept with the webhooks: every
    # customer post reads the brand anyway, so it knows without a query whether to record one.
    webhook_events: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # {"mon": ["09:00", "18:00"], ...} in the brand's zone; a day left out is closed; no
    # entry at all means open around the clock.
    business_hours: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    # "#rrggbb" of the bar and buttons of its customer pages.
    colour: Mapped[str] = mapped_column(String(7), default=DEFAULT_COLOUR,
                                        server_default=DEFAULT_COLOUR)
    # An Apprise SMS URL (twilio://, vonage://, json:// to a gateway...) for customers' links
    # and replies by SMS; typed by staff, so every send goes through the egress policy.
    sms_url: Mapped[str | None] = mapped_column(String(SMS_URL_MAX))
    # How long after the first staff reply a customer who is away gets the replies they missed.
    away_delay_seconds: Mapped[int] = mapped_column(default=120, server_default="120")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    touchpoints: Mapped[list["Touchpoint"]] = relationship(
        back_populates="brand", order_by="Touchpoint.position, Touchpoint.id",
        cascade="all, delete-orphan")
    categories: Mapped[list["Category"]] = relationship(
        back_populates="brand", order_by="Category.position, Category.id",
        cascade="all, delete-orphan")

    def touchpoint(self, slug):
        """Return this brand's touchpoint with `slug` (archived ones too), or None."""
        return db.session.scalar(
            db.select(Touchpoint).filter_by(brand_id=self.id, slug=slug))

    def category(self, slug):
        """Return this brand's active category with `slug`, or None."""
        return db.session.scalar(
            db.select(Category).filter_by(brand_id=self.id, slug=slug, active=True))

    def category_for(self, label):
        """Return the active category a tag names: by its slug, else the first standing for
        that shipped-taxonomy label (a brand's own "Spa" may stand for "facilities")."""
        active = self.active_categories()
        return (next((c for c in active if c.slug == label), None)
                or next((c for c in active if c.taxonomy == label), None))

    def active_categories(self):
        return [c for c in self.categories if c.active]

    def local(self, utc_naive):
        """Return a naive UTC moment as an aware time in the brand's zone."""
        return utc_naive.replace(tzinfo=UTC).astimezone(ZoneInfo(self.timezone))

    def next_opening(self, utc_naive):
        """Return (naive UTC) when the brand is next open: the moment itself if open then."""
        if not self.business_hours:
            return utc_naive
        local = self.local(utc_naive)
        for day in range(8):
            date = (local + timedelta(days=day)).date()
            hours = self.business_hours.get(WEEKDAYS[date.weekday()])
            if not hours:
                continue
            opens, closes = (datetime.combine(date, time.fromisoformat(h), local.tzinfo)
                             for h in hours)
            if local < closes:
                return max(local, opens).astimezone(UTC).replace(tzinfo=None)
        return utc_naive  # no open day at all: treat as always open rather than never

    @property
    def own_colour(self):
        """Return the brand's colour if it is not the default, else None (no stylesheet)."""
        return self.colour if self.colour and self.colour != DEFAULT_COLOUR else None

    def frame_ancestors(self):
        """Return the CSP frame-ancestors source list for this brand's customer pages."""
        return " ".join(["'self'", *self.embed_origins])

    def __repr__(self):
        return f"<Brand {self.slug}>"


class Touchpoint(db.Model):
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX))
    label: Mapped[str] = mapped_column(String(LABEL_MAX))
    kind: Mapped[str] = mapped_column(String(10), default="link")
    position: Mapped[int] = mapped_column(default=0)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id"))
    # Archived, never deleted: its conversations keep their place; its link says it is closed.
    archived_at: Mapped[datetime | None] = mapped_column()

    brand: Mapped[Brand] = relationship(back_populates="touchpoints")
    survey: Mapped["Survey | None"] = relationship()  # noqa: F821

    def __repr__(self):
        return f"<Touchpoint {self.slug}>"


class Category(db.Model):
    __table_args__ = (UniqueConstraint("brand_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("brand.id"), index=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX))
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    # The shipped taxonomy's category this one stands for, so tagging and routing keep working.
    taxonomy: Mapped[str] = mapped_column(String(SLUG_MAX), default="other",
                                          server_default="other")

    brand: Mapped[Brand] = relationship(back_populates="categories")

    def label(self, language):
        return localized(self.labels, language) or self.slug

    def __repr__(self):
        return f"<Category {self.slug}>"


# The default taxonomy (DESIGN.md); brands may rename, hide or add categories.
DEFAULT_CATEGORIES = (
    ("product_question", "Product question", "Ürün sorusu"),
    ("order_delivery", "Order, delivery or return", "Sipariş, teslimat veya iade"),
    ("billing_payment", "Price, payment or invoice", "Fiyat, ödeme veya fatura"),
    ("cleanliness", "Cleanliness", "Temizlik"),
    ("food_drink", "Food and drink", "Yiyecek ve içecek"),
    ("staff_service", "Staff and service", "Personel ve hizmet"),
    ("facilities", "Room and facilities", "Oda ve tesisler"),
    ("technical", "Website, app or Wi-Fi", "Web sitesi, uygulama veya Wi-Fi"),
    ("other", "Something else", "Başka bir konu"),
)


def ensure_default_categories(brand):
    """Add any default category the brand does not have yet."""
    have = {c.slug for c in brand.categories}
    for position, (slug, en, tr) in enumerate(DEFAULT_CATEGORIES):
        if slug not in have:
            brand.categories.append(Category(slug=slug, labels={"en": en, "tr": tr},
                                             position=position, taxonomy=slug))


TAXONOMY = tuple(slug for slug, _en, _tr in DEFAULT_CATEGORIES)
