"""A brand's conversation categories: add, edit, order, hide; plain values in, each commits."""
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from app.admin.problems import SetupProblem
from app.core.validators import slugify, strip, too_long
from models import Category, db
from models.brand import DEFAULT_CATEGORIES, TAXONOMY
from models.common import LABEL_MAX, LANGUAGES, localized

_TAXONOMY_LABELS = {slug: {"en": en, "tr": tr} for slug, en, tr in DEFAULT_CATEGORIES}


def taxonomy_name(slug, language):
    """Return the readable name of a shipped-taxonomy category, e.g. "Room and facilities"."""
    return localized(_TAXONOMY_LABELS.get(slug), language) or slug


def _language():
    # Only to name a category inside a message; works outside a request too.
    return str(get_locale() or "en")


def _labels(labels):
    labels = {code: strip(labels.get(code) or "") for code in LANGUAGES}
    for code, text in labels.items():
        if len(text) > LABEL_MAX:
            raise SetupProblem(too_long(LABEL_MAX, text), f"label_{code}")
    labels = {code: text for code, text in labels.items() if text}
    if not labels:
        raise SetupProblem(_l("Please name the category in English, in Turkish or in both."),
                           "label_en")
    return labels


def _taxonomy(taxonomy):
    if taxonomy not in TAXONOMY:
        raise SetupProblem(_l("Please choose which kind of message it stands for."), "taxonomy")
    return taxonomy


def _ordered(brand_id):
    return db.session.scalars(db.select(Category).filter_by(brand_id=brand_id)
                              .order_by(Category.position, Category.id)).all()


def _exists(existing, field):
    name = existing.label(_language())
    message = (_("The category “%(name)s” exists already.", name=name) if existing.active
               else _("The category “%(name)s” exists already, hidden: show it again "
                       "instead.", name=name))
    return SetupProblem(message, field)


def _same(one, two):
    # Through slugify: "TEMİZLİK" and "Temizlik" are one name (casefold keeps İ's dot).
    return (slugify(one) or one.casefold()) == (slugify(two) or two.casefold())


def _unique(categories, labels, slug=None, category=None):
    """Refuse a slug or a name another category of the brand has: customers could not tell
    the two apart."""
    for other in categories:
        if other is category:
            continue
        if other.slug == slug:
            raise _exists(other, "label_en" if "en" in labels else "label_tr")
        for code, text in labels.items():
            if _same(other.labels.get(code) or "", text):
                raise _exists(other, f"label_{code}")


def add_category(brand, labels, taxonomy):
    """Add a shown category at the end; its slug comes from the English label (else Turkish)."""
    labels, taxonomy = _labels(labels), _taxonomy(taxonomy)
    slug = slugify(labels.get("en") or labels.get("tr"))
    if not slug:
        raise SetupProblem(_l("Please use at least one letter or digit in the name."),
                           "label_en" if "en" in labels else "label_tr")
    categories = _ordered(brand.id)
    _unique(categories, labels, slug)
    category = Category(brand_id=brand.id, slug=slug, labels=labels, taxonomy=taxonomy,
                        active=True, position=categories[-1].position + 1 if categories else 0)
    db.session.add(category)
    try:
        db.session.commit()
    except IntegrityError:  # another admin added it a moment ago: the unique key decides
        db.session.rollback()
        raise SetupProblem(_l("That category was just added: reload the page."),
                           "label_en" if "en" in labels else "label_tr") from None
    return category


def update_category(category, labels, taxonomy):
    """Rename a category or change what it stands for; its slug stays (rules name it)."""
    labels, taxonomy = _labels(labels), _taxonomy(taxonomy)
    _unique(_ordered(category.brand_id), labels, category=category)
    category.labels, category.taxonomy = labels, taxonomy
    db.session.commit()
    return category


def move_category(category, direction):
    """Swap the category with its neighbour above ("up") or below ("down")."""
    categories = _ordered(category.brand_id)
    index = categories.index(category)
    other = index - 1 if direction == "up" else index + 1 if direction == "down" else None
    if other is None:
        raise SetupProblem(_l("Please move a category up or down."))
    if 0 <= other < len(categories):
        categories[index], categories[other] = categories[other], categories[index]
    # Numbered afresh: equal positions (older data) would make a swap change nothing.
    for position, each in enumerate(categories):
        each.position = position
    db.session.commit()
    return category


def set_category_shown(category, shown):
    """Show or hide a category to customers; at least one stays shown."""
    if not shown and category.active:
        others = db.session.scalar(
            db.select(db.func.count(Category.id))
            .filter(Category.brand_id == category.brand_id, Category.active.is_(True),
                    Category.id != category.id))
        if not others:
            raise SetupProblem(_("“%(name)s” is the last category customers can choose: show "
                                  "another one before hiding it.", name=category.label(_language())))
    category.active = bool(shown)
    db.session.commit()
    return category
