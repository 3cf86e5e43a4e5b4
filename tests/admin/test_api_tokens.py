"""/admin/api and `kulak token`: tokens shown once, kept as hashes, revoked at once."""
import pytest
from sqlalchemy import select

from app.cli import main
from models import ApiToken, db
from models.api import TOKEN_NAME_MAX, token_hash

from ..inbox.staff import Staff, soup

PAGE, NEW = "/admin/api", "form.card"


def tokens(brand_id):
    db.session.expire_all()
    return db.session.scalars(select(ApiToken).filter_by(brand_id=brand_id)
                              .order_by(ApiToken.id)).all()


def shown(page):
    code = soup(page).select_one("#new-token p code")
    return code.get_text() if code else None


def test_an_admin_creates_a_token_shown_once_and_kept_as_a_hash(admin, demo):
    page = admin.submit(admin.get(PAGE), NEW, name="Our CRM", read_only=None)
    assert page.status_code == 201
    plain = shown(page)
    [token] = tokens(demo.id)
    assert plain.startswith("kulak_") and token.token_hash == token_hash(plain)
    assert (token.name, token.read_only, token.created_by_id) == ("Our CRM", False,
                                                                  admin.member.id)
    stored = [str(value) for value in db.session.execute(select(ApiToken.__table__)).one()]
    assert plain not in stored and ApiToken.active(plain).id == token.id
    again = admin.get(PAGE)
    assert plain not in again.text and token.hint in again.text and "Our CRM" in again.text


def test_the_form_says_read_only_unless_unchecked(admin, demo):
    page = admin.get(PAGE)
    assert soup(page).select_one("input[name=read_only]").has_attr("checked")
    admin.submit(page, NEW, name="Reporting")
    assert tokens(demo.id)[0].read_only is True


def test_revoking_refuses_the_token_at_once(admin, demo):
    plain = shown(admin.submit(admin.get(PAGE), NEW, name="CRM"))
    token = tokens(demo.id)[0]
    answer = admin.submit(admin.get(PAGE), f"#token-{token.id} form")
    assert answer.status_code == 303 and ApiToken.active(plain) is None
    assert admin.client.get("/api/v1/staff", headers={
        "Authorization": f"Bearer {plain}"}).status_code == 401
    assert "revoked" in admin.get(PAGE).text


@pytest.mark.parametrize("name, message", [("", "Please name the token"),
                                           ("x" * (TOKEN_NAME_MAX + 1), "")])
def test_a_bad_name_is_explained_and_nothing_is_stored(admin, demo, name, message):
    page = admin.submit(admin.get(PAGE), NEW, name=name)
    assert page.status_code == 422 and soup(page).select_one("p.error").get_text()
    assert message in page.text and tokens(demo.id) == []


def test_without_a_csrf_token_nothing_is_created(admin, demo):
    answer = admin.client.post(PAGE, data={"name": "CRM"})
    assert answer.status_code == 400 and tokens(demo.id) == []


@pytest.mark.parametrize("email", ["manager@demo.example", "lead@demo.example",
                                   "agent@demo.example"])
def test_only_admins_may_see_or_make_tokens(app, demo, email):
    person = Staff(app, email)
    assert person.get(PAGE).status_code == 403
    assert person.client.post(PAGE, data={"csrf_token": person.token,
                                          "name": "CRM"}).status_code == 403
    assert tokens(demo.id) == []


def test_another_brands_token_cannot_be_revoked(admin, demo, other_brand):
    brand = other_brand[0]
    token, plain = ApiToken.issue(brand.id, "Theirs", True)
    db.session.commit()
    answer = admin.client.post(f"{PAGE}/{token.id}/revoke", data={"csrf_token": admin.token})
    assert answer.status_code == 404 and ApiToken.active(plain) is not None


def test_the_cli_prints_the_token_last_and_refuses_an_unknown_brand(app, demo):
    runner = app.test_cli_runner()
    made = runner.invoke(main, ["token", "create", "demo", "CRM sync", "--read-only"])
    assert made.exit_code == 0, made.output
    plain = made.output.strip().splitlines()[-1]
    token = ApiToken.active(plain)
    assert token.read_only and token.name == "CRM sync" and token.brand_id == demo.id
    listed = runner.invoke(main, ["token", "list", "demo"])
    assert token.hint in listed.output and plain not in listed.output
    revoked = runner.invoke(main, ["token", "revoke", "demo", str(token.id)])
    assert revoked.exit_code == 0 and ApiToken.active(plain) is None
    unknown = runner.invoke(main, ["token", "create", "nobody", "CRM"])
    assert unknown.exit_code == 2 and "no brand" in unknown.output
