"""The brand page: settings customers see at once, validated, and only for admins."""
from models import Brand, db

from ..inbox.staff import Staff

FORM = 'form[action="/admin/brand"]'


def _brand(slug="demo"):
    db.session.expire_all()
    return db.session.scalar(db.select(Brand).filter_by(slug=slug))


def test_settings_reach_the_customer_pages(admin, client):
    page = admin.get("/admin/brand")
    assert page.status_code == 200
    saved = admin.submit(page, FORM, name="Hotel Bosphorus", default_language="tr",
                         responder_en="Reception", responder_tr="Resepsiyon",
                         acknowledgement_en="Thanks! {team} answers within {minutes} min.",
                         acknowledgement_tr="", expected_response_minutes="7",
                         timezone="Europe/Istanbul", colour="#AA3300",
                         embed_origins="https://Shop.example/\nhttps://shop.example\n"
                                       "http://localhost:8080")
    assert saved.status_code == 303, saved.text
    brand = _brand()
    assert (brand.name, brand.default_language, brand.expected_response_minutes) == (
        "Hotel Bosphorus", "tr", 7)
    assert brand.embed_origins == ["https://shop.example", "http://localhost:8080"]
    assert brand.acknowledgement == {"en": "Thanks! {team} answers within {minutes} min."}
    entry = client.get("/embed/demo/room-412")
    assert ("frame-ancestors 'self' https://shop.example http://localhost:8080"
            in entry.headers["Content-Security-Policy"])
    assert "Hotel Bosphorus" in entry.text
    assert '/b/demo/theme.css?v=aa3300' in entry.text
    theme = client.get("/b/demo/theme.css?v=aa3300")
    assert theme.status_code == 200 and theme.mimetype == "text/css"
    assert theme.text.strip() == ":root{--brand:#aa3300}"


def test_bad_settings_are_refused_and_kept(admin):
    page = admin.get("/admin/brand")
    cases = {
        "embed_origins": ("https://shop.example/path", "is not an origin"),
        "timezone": ("Mars/Olympus", "not a time zone"),
        "colour": ("red", "#rrggbb"),
        "expected_response_minutes": ("0", "between 1 and 1440"),
        "name": ("x" * 121, "at most 120"),
        "acknowledgement_en": ("Hello {name}", "Only {team} and {minutes}"),
    }
    for field, (value, reason) in cases.items():
        refused = admin.submit(page, FORM, **{field: value})
        assert refused.status_code == 422, field
        assert reason in refused.text, (field, refused.text[:2000])
        assert value in refused.text or field == "embed_origins"  # what was typed stays
    assert _brand().name == "Demo Hotel" and _brand().embed_origins == []


def test_without_the_csrf_token_nothing_changes(admin):
    refused = admin.client.post("/admin/brand", data={
        "name": "Forged", "default_language": "en", "expected_response_minutes": "5",
        "timezone": "UTC", "colour": "#000000"})
    assert refused.status_code == 400
    assert _brand().name == "Demo Hotel"


def test_brand_setup_is_for_managers_and_admins(app, demo, client):
    assert client.get("/admin/brand").status_code == 302  # to the login page
    for email in ("agent@demo.example", "lead@demo.example"):
        staff = Staff(app, email)
        assert staff.get("/admin/").status_code == 403
        assert staff.get("/admin/brand").status_code == 403
    assert Staff(app, "manager@demo.example").get("/admin/brand").status_code == 200
