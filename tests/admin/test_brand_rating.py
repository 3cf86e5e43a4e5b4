"""The brand page's satisfaction settings: what is asked, for how long, and report targets."""
import pytest

from models import Brand, db

from ..inbox.staff import option, soup

FORM = 'form[action="/admin/brand"]'


def _brand():
    db.session.expire_all()
    return db.session.scalar(db.select(Brand).filter_by(slug="demo"))


def test_the_defaults_are_shown_and_saved_settings_kept(admin):
    page = admin.get("/admin/brand")
    form = soup(page).select_one(FORM)
    assert form.select_one("#rating_mode option[selected]")["value"] == "csat"
    assert form.select_one("#rating_days")["value"] == "7"
    assert (form.select_one("#response_target_minutes")["value"],
            form.select_one("#visit_minutes")["value"]) == ("3", "60")
    both = option(page, "rating_mode",
                  "How satisfied they are, then how likely to recommend you")
    saved = admin.submit(page, FORM, rating_mode=both, rating_days="30",
                         response_target_minutes="10", visit_minutes="90")
    assert saved.status_code == 303, saved.text
    brand = _brand()
    assert (brand.rating_mode, brand.rating_days, brand.response_target_minutes,
            brand.visit_minutes) == ("both", 30, 10, 90)
    again = soup(admin.get("/admin/brand"))
    assert again.select_one("#rating_mode option[selected]")["value"] == "both"
    assert again.select_one("#rating_days")["value"] == "30"


@pytest.mark.parametrize("field, value, reason", [
    ("rating_mode", "stars", "Please choose one of the questions to ask."),
    ("rating_days", "0", "Please give between 1 and 90 days."),
    ("rating_days", "91", "Please give between 1 and 90 days."),
    ("rating_days", "", "Please say for how many days customers may rate a conversation."),
    ("rating_days", "a week", "Please give between 1 and 90 days."),
    ("response_target_minutes", "1441", "between 1 and 1440 minutes (a day)"),
    ("response_target_minutes", "", "within how many minutes the first reply should come"),
    ("visit_minutes", "4", "a visit length between 5 and 1440 minutes"),
    ("visit_minutes", "", "about how many minutes a visit lasts"),
])
def test_bad_satisfaction_settings_are_refused_with_the_reason(admin, field, value, reason):
    refused = admin.submit(admin.get("/admin/brand"), FORM, **{field: value})
    assert refused.status_code == 422
    errors = [e.get_text() for e in soup(refused).select(f"#{field}-error")]
    assert any(reason in error for error in errors), (field, errors)
    brand = _brand()
    assert (brand.rating_mode, brand.rating_days, brand.response_target_minutes,
            brand.visit_minutes) == ("csat", 7, 3, 60)
