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


def error(result):
    """The CLI's own message: the last line on stderr (migrations log there before it)."""
    return result.stderr.strip().splitlines()[-1]


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
    box = soup(page).select_one("#new-token").get_text()
    assert "Copy it now: it is not shown again." in box
    public = admin.client.application.config["PUBLIC_URL"]
    assert f'curl -H "Authorization: Bearer {plain}" {public}/api/v1/conversations' in box
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


@pytest.mark.parametrize("name, message", [
    ("", "Please name the token"), ("   ", "Please name the token"),
    ("x" * (TOKEN_NAME_MAX + 1), f"at most {TOKEN_NAME_MAX} characters")])
def test_a_bad_name_is_explained_and_nothing_is_stored(admin, demo, name, message):
    page = admin.submit(admin.get(PAGE), NEW, name=name)
    assert page.status_code == 422 and soup(page).select_one("p.error").get_text()
    assert message in page.text and tokens(demo.id) == []


def test_a_name_of_the_longest_length_is_kept_stripped(admin, demo):
    admin.submit(admin.get(PAGE), NEW, name=f"  {'x' * TOKEN_NAME_MAX}  ")
    assert [token.name for token in tokens(demo.id)] == ["x" * TOKEN_NAME_MAX]


def test_without_a_csrf_token_nothing_is_created_or_revoked(admin, demo):
    answer = admin.client.post(PAGE, data={"name": "CRM"})
    assert answer.status_code == 400 and tokens(demo.id) == []
    token, plain = ApiToken.issue(demo.id, "CRM", True)
    db.session.commit()
    assert admin.client.post(f"{PAGE}/{token.id}/revoke").status_code == 400
    assert ApiToken.active(plain) is not None


@pytest.mark.parametrize("email", ["manager@demo.example", "lead@demo.example",
                                   "agent@demo.example"])
def test_only_admins_may_see_or_make_tokens(app, demo, email):
    token, plain = ApiToken.issue(demo.id, "Admin's", True)
    db.session.commit()
    person = Staff(app, email)
    assert person.get(PAGE).status_code == 403
    assert person.client.post(PAGE, data={"csrf_token": person.token,
                                          "name": "CRM"}).status_code == 403
    assert person.client.post(f"{PAGE}/{token.id}/revoke", data={
        "csrf_token": person.token}).status_code == 403
    assert [t.id for t in tokens(demo.id)] == [token.id] and ApiToken.active(plain)
    assert f'href="{PAGE}"' not in person.get("/inbox/").text


def test_the_menu_links_the_page_for_admins(admin):
    assert f'href="{PAGE}"' in admin.get("/inbox/").text


def test_another_brands_token_cannot_be_revoked(admin, demo, other_brand):
    brand = other_brand[0]
    token, plain = ApiToken.issue(brand.id, "Theirs", True)
    db.session.commit()
    answer = admin.client.post(f"{PAGE}/{token.id}/revoke", data={"csrf_token": admin.token})
    assert answer.status_code == 404 and ApiToken.active(plain) is not None
    assert tokens(brand.id)[0].revoked_at is None and "Theirs" not in admin.get(PAGE).text


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
    assert unknown.exit_code == 2 and unknown.stdout == ""
    assert error(unknown).startswith("Error:") and "nobody" in error(unknown)


def test_the_cli_makes_read_write_tokens_unless_told_and_checks_the_name(app, demo):
    runner = app.test_cli_runner()
    made = runner.invoke(main, ["token", "create", "demo", "  Sync  "])
    token = ApiToken.active(made.output.strip().splitlines()[-1])
    assert made.exit_code == 0 and token.read_only is False and token.name == "Sync"
    for name in ("", "  ", "x" * (TOKEN_NAME_MAX + 1)):
        refused = runner.invoke(main, ["token", "create", "demo", name])
        assert refused.exit_code == 2 and error(refused).startswith("Error:"), name
    theirs = runner.invoke(main, ["token", "revoke", "nobody", str(token.id)])
    assert theirs.exit_code == 2 and ApiToken.active(made.output.strip().splitlines()[-1])
    assert [t.id for t in tokens(demo.id)] == [token.id]
