"""`kulak brand create` and `kulak brand list`, and the admin's one-time set-password link."""
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.admin.problems import SetupProblem
from app.admin.setup import create_brand
from models import (
    Brand,
    Category,
    EscalationLevel,
    OneTimeLink,
    RoutingRule,
    StaffMember,
    Survey,
    Team,
    Touchpoint,
    db,
)
from models.access import token_hash

from ..conftest import database_url, kulak_command
from ..inbox.staff import form_values, login, soup


def run_kulak(env, *args):
    return subprocess.run(kulak_command(*args), env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_env(request, tmp_path, postgres_schema):
    import os
    env = {**os.environ, "KULAK_INSTANCE": str(tmp_path),
           "DATABASE_URL": database_url(request.param, tmp_path, postgres_schema),
           "KULAK_PUBLIC_URL": "https://feedback.example.com"}
    env.pop("REDIS_URL", None)
    return env


def test_brand_create_prints_a_link_and_refuses_bad_slugs(cli_env):
    made = run_kulak(cli_env, "brand", "create", "hotel-bosphorus", "--name", "Hotel Bosphorus",
                     "--admin", "Owner@Example.com", "--language", "tr")
    assert made.returncode == 0, made.stderr
    last = made.stdout.strip().splitlines()[-1]
    assert last.startswith("https://feedback.example.com/inbox/password/"), made.stdout
    # Each refusal's reason is checked in-process below; here, that the command says it, exit 2.
    for slug, reason in (("hotel-bosphorus", "exists already"),):
        refused = run_kulak(cli_env, "brand", "create", slug, "--name", "X",
                            "--admin", f"x{len(slug)}@example.com")
        assert refused.returncode == 2, (slug, refused.stdout, refused.stderr)
        assert reason in refused.stderr, (slug, refused.stderr)
    listed = run_kulak(cli_env, "brand", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == ["hotel-bosphorus\tHotel Bosphorus\ttr\t1 staff"]


def test_a_new_brand_has_everything_it_needs(app):
    brand, admin, token = create_brand("cafe-moda", "Café Moda", "Owner@Cafe.example", "tr")
    db.session.expire_all()
    brand = db.session.get(Brand, brand.id)
    assert (admin.email, admin.role, admin.brand_id) == ("owner@cafe.example", "admin", brand.id)
    assert not admin.check_password("")
    assert brand.default_language == "tr"
    assert [c.slug for c in brand.categories] == [c.taxonomy for c in brand.categories]
    assert len(brand.categories) == 9
    assert [(t.slug, t.kind) for t in brand.touchpoints] == [("web", "web")]
    survey = Survey.for_touchpoint(brand, brand.touchpoints[0])
    assert survey is not None and [q.kind for q in survey.live_questions] == ["rating"]
    team = db.session.scalar(select(Team).filter_by(brand_id=brand.id))
    assert [m.email for m in team.members] == ["owner@cafe.example"]
    assert [r.team_id for r in RoutingRule.for_brand(brand.id)] == [team.id]
    assert [(lv.after_seconds, lv.target_value) for lv in EscalationLevel.for_brand(brand.id)] \
        == [(180, "lead"), (600, "manager")]
    link = db.session.scalar(select(OneTimeLink).filter_by(staff_id=admin.id))
    # Only the hash is stored; the link lives 24 hours.
    assert link.token_hash == token_hash(token) and token not in link.token_hash
    assert timedelta(hours=23, minutes=59) < link.expires_at - link.created_at <= timedelta(hours=24)


@pytest.mark.parametrize("slug, reason", [
    ("inbox", "reserved"), ("static", "reserved"), ("api", "reserved"), ("x-", "lower-case"),
    ("Hotel", "lower-case"), ("otel-ç", "lower-case"), ("a--b", "lower-case"), ("", "short name"),
    ("a" * 65, "at most 64")])
def test_slugs_that_cannot_be_used(app, slug, reason):
    with pytest.raises(SetupProblem, match=reason):
        create_brand(slug, "Name", "someone@example.com")


def test_a_refused_brand_leaves_nothing_behind(app, demo):
    create_brand("hotel", "Hotel", "owner@example.com")
    counts = [db.session.scalar(select(func.count()).select_from(m))
              for m in (Brand, StaffMember, Touchpoint, Category)]
    for args in (("demo", "Again", "x@example.com"), ("api", "Api", "y@example.com"),
                 ("new-one", "", "z@example.com"), ("new-one", "N", "not-an-email"),
                 ("new-one", "N", "agent@demo.example"), ("new-one", "N", "owner@example.com")):
        with pytest.raises(SetupProblem):
            create_brand(*args)
    with pytest.raises(SetupProblem):
        create_brand("new-one", "N", "n@example.com", language="de")
    assert counts == [db.session.scalar(select(func.count()).select_from(m))
                      for m in (Brand, StaffMember, Touchpoint, Category)]


def _set_password(client, token, password, confirm=None):
    page = client.get(f"/inbox/password/{token}")
    assert page.status_code == 200, page.text
    data = form_values(soup(page).select_one("form")) | {
        "password": password, "confirm": password if confirm is None else confirm}
    return client.post(f"/inbox/password/{token}", data=data)


def test_the_link_sets_a_password_once(app, other_brand):
    brand, owner, token = other_brand
    client = app.test_client()
    short = _set_password(client, token, "short")
    assert short.status_code == 422 and "between 10 and 200" in short.text
    mismatch = _set_password(client, token, "a long enough one", "another long one")
    assert mismatch.status_code == 422 and "not the same" in mismatch.text
    done = _set_password(client, token, "correct horse battery")
    assert done.status_code == 303 and done.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200  # signed in by the link
    again = app.test_client().get(f"/inbox/password/{token}")
    assert again.status_code == 410 and "no longer works" in again.text
    assert login(app.test_client(), owner.email, "correct horse battery").status_code == 303


def test_opening_the_link_changes_nothing_and_a_stale_link_is_refused(app, other_brand):
    brand, owner, token = other_brand
    client = app.test_client()
    for _ in range(3):  # a mail scanner opening the link does not use it up
        assert client.get(f"/inbox/password/{token}").status_code == 200
    link = db.session.scalar(select(OneTimeLink).filter_by(staff_id=owner.id))
    link.expires_at = link.created_at  # 24 hours later
    db.session.commit()
    stale = client.get(f"/inbox/password/{token}")
    assert stale.status_code == 410
    posted = client.post(f"/inbox/password/{token}",
                         data={"password": "x" * 12, "confirm": "x" * 12})
    assert posted.status_code in (400, 410)  # no CSRF token from a page that was refused
    db.session.expire_all()
    assert db.session.get(StaffMember, owner.id).password_hash == "!"
    assert client.get("/inbox/password/" + "A" * 43).status_code == 410
    assert client.get("/inbox/password/" + "A" * 500).status_code == 410
