"""The brand's settings for the customer's way back: its SMS gateway (never shown back in
full) and how long a customer is away before the replies they missed are sent."""
import pytest
from sqlalchemy import select

from models import Brand, db

from ..inbox.staff import Staff, soup

BRAND_FORM = 'form[action="/admin/brand"]'


@pytest.fixture
def admin(app, demo):
    return Staff(app, "admin@demo.example")


def stored_brand():
    db.session.rollback()
    return db.session.scalar(select(Brand).filter_by(slug="demo"))


def test_the_brand_sets_its_gateway_and_delay(admin):
    page = admin.get("/admin/brand")
    form = soup(page).select_one("#way-back")
    assert form.select_one("input[name=away_minutes]")["value"] == "2"
    assert form.select_one("input[name=sms_url]").get("value", "") == ""
    secret = "json://sms.example.com/send?token=s3cr3t-t0ken-9876"
    saved = admin.submit(page, BRAND_FORM, sms_url=secret, away_minutes="5")
    assert saved.status_code == 303, saved.text
    brand = stored_brand()
    assert (brand.sms_url, brand.away_delay_seconds) == (secret, 300)
    page = admin.get("/admin/brand")
    assert "s3cr3t-t0ken" not in page.text and "json://…9876" in page.text
    assert soup(page).select_one("input[name=away_minutes]")["value"] == "5"
    # Left empty, the box keeps the gateway; the checkbox removes it.
    assert admin.submit(page, BRAND_FORM, away_minutes="1").status_code == 303
    assert (stored_brand().sms_url, stored_brand().away_delay_seconds) == (secret, 60)
    page = admin.get("/admin/brand")
    assert admin.submit(page, BRAND_FORM, remove_sms_url="y").status_code == 303
    assert stored_brand().sms_url is None


@pytest.mark.parametrize("field, value, reason", [
    ("sms_url", "not a gateway", "This is not an SMS gateway address Kulak can use"),
    ("sms_url", "https://sms.example.com/send", "This is not an SMS gateway address"),
    ("sms_url", "json://10.0.0.7/send", "Refused by policy"),
    ("sms_url", "json://sms.example.com/" + "x" * 500, "at most 500 characters"),
    ("away_minutes", "0", "between 1 and 60 minutes"),
    ("away_minutes", "61", "between 1 and 60 minutes"),
    ("away_minutes", "", "after how many minutes"),
])
def test_bad_way_back_settings_are_refused(admin, field, value, reason):
    refused = admin.submit(admin.get("/admin/brand"), BRAND_FORM, **{field: value})
    assert refused.status_code == 422
    assert reason in soup(refused).get_text(), soup(refused).get_text()[:3000]
    brand = stored_brand()
    assert (brand.sms_url, brand.away_delay_seconds) == (None, 120)
