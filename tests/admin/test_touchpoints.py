"""Places: an admin adds, edits, archives and deletes them; customers see the result."""
from sqlalchemy import select

from models import Conversation, Question, Survey, Touchpoint, db

from ..inbox.staff import conversation, form_values, option, soup, state

PLACES, ADD = "/admin/touchpoints", "#add-touchpoint"
EDIT = "#edit-touchpoint"


def place(brand, slug):
    db.session.expire_all()
    return db.session.scalar(select(Touchpoint).filter_by(brand_id=brand.id, slug=slug))


def places(brand):
    db.session.expire_all()
    return db.session.execute(select(Touchpoint.id, Touchpoint.slug, Touchpoint.label,
                                     Touchpoint.kind, Touchpoint.survey_id,
                                     Touchpoint.archived_at)
                              .filter_by(brand_id=brand.id).order_by(Touchpoint.id)).all()


def add(admin, **fields):
    return admin.submit(admin.get(PLACES), ADD, **fields)


def errors(page):
    return [p.get_text(" ", strip=True) for p in soup(page).select(".error")]


def row(page, touchpoint):
    return soup(page).select_one(f"#touchpoint-{touchpoint.id}")


def test_add_a_place_with_a_turkish_name_gives_it_a_link_and_a_code(admin, demo, client):
    added = add(admin, label="Oda 412 – Deniz", kind="room", slug="")
    assert added.status_code == 303, errors(added)
    page = admin.get(added.headers["Location"])
    assert "Added “Oda 412 – Deniz”" in page.text
    touchpoint = place(demo, "oda-412-deniz")
    assert (touchpoint.label, touchpoint.kind, touchpoint.survey_id) == ("Oda 412 – Deniz", "room",
                                                                          None)
    assert touchpoint.position > max(t.position for t in demo.touchpoints if t is not touchpoint)
    shown = row(page, touchpoint)
    assert shown.select_one("a.short-link")["href"] == "http://kulak.test/b/demo/oda-412-deniz"
    svg = shown.select_one("img.qr-thumb")["src"]
    assert svg == "/qr/demo/oda-412-deniz.svg"
    downloads = {a.get_text(): a["href"] for a in shown.select("a[download]")}
    assert downloads == {"SVG": svg, "PNG": "/qr/demo/oda-412-deniz.png"}
    assert soup(page).select_one('a[href="/qr/demo"]') is not None  # the printable sheet
    assert client.get(svg).mimetype == "image/svg+xml"
    assert client.get("/qr/demo/oda-412-deniz.png").status_code == 200
    assert "Oda 412 – Deniz" in client.get("/qr/demo").text
    # The customer opens the link and writes from there.
    entry = client.get("/b/demo/oda-412-deniz")
    assert entry.status_code == 200 and "Oda 412 – Deniz" in entry.text
    helped = client.get("/b/demo/oda-412-deniz/help")
    data = form_values(soup(helped).select_one("form")) | {"body": "Could I have a towel?"}
    assert client.post("/b/demo/oda-412-deniz/help", data=data).status_code == 303
    assert db.session.scalar(select(Conversation.touchpoint_id)) == touchpoint.id


def test_a_typed_address_is_used(admin, demo):
    assert add(admin, label="Pool bar", kind="kiosk", slug="pool").status_code == 303
    assert place(demo, "pool").label == "Pool bar"


def test_an_address_used_in_the_brand_is_refused_with_the_reason(admin, demo):
    before = places(demo)
    typed = add(admin, label="Room 412 (new)", kind="room", slug="room-412")
    assert typed.status_code == 422
    assert "“Room 412” already uses the address “room-412”: please choose another." in errors(typed)
    assert soup(typed).select_one("#label")["value"] == "Room 412 (new)"
    derived = add(admin, label="Room 412", kind="room", slug="")
    assert derived.status_code == 422
    assert any("already uses the address “room-412”" in e for e in errors(derived))
    assert places(demo) == before


def test_reserved_and_invalid_addresses_are_refused(admin, demo):
    before = places(demo)
    help_page = add(admin, label="Help desk", kind="kiosk", slug="help")
    assert help_page.status_code == 422
    assert "“help” is reserved for Kulak's own pages: please choose another." in errors(help_page)
    assert add(admin, label="Admin", kind="link", slug="admin").status_code == 422
    invalid = add(admin, label="Oda 5", kind="room", slug="Oda 5")
    assert invalid.status_code == 422
    assert any("lower-case letters" in e for e in errors(invalid))
    assert soup(invalid).select_one("#slug")["value"] == "Oda 5"
    nothing = add(admin, label="–––", kind="room", slug="")  # nothing to make an address of
    assert nothing.status_code == 422 and any("short name for the address" in e
                                              for e in errors(nothing))
    assert places(demo) == before


def test_a_name_too_long_is_refused_and_the_form_keeps_it(admin, demo):
    before, long_name = places(demo), "Deniz manzaralı süit " * 6 + "!"
    refused = add(admin, label=long_name, kind="room", slug="")
    assert refused.status_code == 422
    assert f"Please use at most 120 characters (it has {len(long_name)})." in errors(refused)
    assert soup(refused).select_one("#label")["value"] == long_name
    assert soup(refused).select_one("#label")["aria-invalid"] == "true"
    too_long_slug = add(admin, label="Suite", kind="room", slug="s" * 65)
    assert "Please use at most 64 characters (it has 65)." in errors(too_long_slug)
    assert add(admin, label="Suite", kind="castle", slug="").status_code == 422
    assert places(demo) == before


def test_choose_the_survey_of_a_place(admin, demo, client, other_brand):
    spa = Survey(brand_id=demo.id, name="Spa visit", questions=[
        Question(position=0, kind="yes_no", prompt={"en": "Was the sauna warm enough?"})])
    db.session.add(spa)
    db.session.commit()
    room = place(demo, "room-412")
    url = f"{PLACES}/{room.id}"
    page = admin.get(url)
    # Escaped like any text (the apostrophe is &#39; in the page): the survey's name is typed.
    assert "The brand's default survey (Stay)" in soup(page).get_text()
    chosen = admin.submit(page, EDIT, survey=option(page, "survey", "Spa visit"))
    assert chosen.status_code == 303
    assert place(demo, "room-412").survey_id == spa.id
    assert "Was the sauna warm enough?" in client.get("/b/demo/room-412").text
    assert "Spa visit" in row(admin.get(PLACES), room).text
    # Another brand's survey is not a choice.
    theirs = Survey(brand_id=other_brand[0].id, name="Theirs")
    db.session.add(theirs)
    db.session.commit()
    refused = admin.submit(admin.get(url), EDIT, survey=str(theirs.id))
    assert refused.status_code == 422 and "Please choose one of your surveys." in errors(refused)
    assert place(demo, "room-412").survey_id == spa.id
    back = admin.submit(admin.get(url), EDIT, survey="")
    assert back.status_code == 303 and place(demo, "room-412").survey_id is None
    assert "How is your stay?" in client.get("/b/demo/room-412").text


def test_rename_and_change_the_address_warns_that_printed_codes_stop(admin, demo, client):
    room = place(demo, "room-412")
    page = admin.get(f"{PLACES}/{room.id}")
    assert "If you change the address, they stop working" in soup(page).select_one(
        f"{EDIT} .warning").text
    saved = admin.submit(page, EDIT, label="Suite 412", slug="suite-412", kind="room")
    assert saved.status_code == 303
    assert (place(demo, "suite-412").id, place(demo, "suite-412").label) == (room.id, "Suite 412")
    assert client.get("/b/demo/room-412").status_code == 404
    assert "Suite 412" in client.get("/b/demo/suite-412").text
    taken = admin.submit(admin.get(f"{PLACES}/{room.id}"), EDIT, slug="table-7")
    assert taken.status_code == 422 and any("“Table 7” already uses" in e for e in errors(taken))
    assert place(demo, "suite-412") is not None


def test_an_archived_place_says_so_and_leaves_the_sheet(admin, demo, client):
    room = place(demo, "room-412")
    archived = admin.submit(admin.get(PLACES), f"#touchpoint-{room.id} form[action$='/archive']")
    assert archived.status_code == 303
    assert place(demo, "room-412").archived_at is not None
    page = admin.get(PLACES)
    assert soup(page).select_one(f"table.archived #touchpoint-{room.id}") is not None
    assert soup(page).select_one(f"table.places:not(.archived) #touchpoint-{room.id}") is None
    closed = client.get("/b/demo/room-412")
    assert closed.status_code == 410
    assert "This place no longer takes messages here" in soup(closed).h1.text
    assert soup(closed).select_one('main a[href="/b/demo"]') is not None
    assert client.get("/b/demo/room-412", headers={"Accept-Language": "tr"}).status_code == 410
    assert soup(client.get("/b/demo/room-412?lang=tr")).html["lang"] == "tr"
    assert client.post("/b/demo/room-412/help", data={"body": "hello"}).status_code == 410
    assert client.get("/b/demo").status_code == 200
    assert client.get("/qr/demo/room-412.svg").status_code == 410
    sheet = client.get("/qr/demo").text
    assert "room-412" not in sheet and "table-7.svg" in sheet
    assert db.session.scalar(select(db.func.count(Conversation.id))) == 0
    # Un-archived, the printed code works again.
    assert admin.submit(admin.get(PLACES), f"#touchpoint-{room.id} form[action$='/unarchive']"
                        ).status_code == 303
    assert client.get("/b/demo/room-412").status_code == 200
    assert "room-412.svg" in client.get("/qr/demo").text


def test_archiving_a_place_keeps_its_conversations(admin, demo, client):
    room = place(demo, "room-412")
    convo = conversation(demo, "The shower is cold", touchpoint=room)
    before = state(convo.id)
    assert admin.submit(admin.get(f"{PLACES}/{room.id}"), "form[action$='/archive']"
                        ).status_code == 303
    assert state(convo.id) == before
    assert db.session.get(Conversation, convo.id).touchpoint_id == room.id
    assert "Room 412" in admin.get(f"/inbox/c/{convo.id}").text
    assert client.get(f"/c/{convo.token}").status_code == 200  # the customer's page stays


def test_a_place_with_conversations_cannot_be_deleted(admin, demo):
    room, table = place(demo, "room-412"), place(demo, "table-7")
    convo = conversation(demo, "The shower is cold", touchpoint=room)
    page = admin.get(f"{PLACES}/{room.id}")
    assert soup(page).select_one("form[action$='/delete']") is None
    assert "1 conversation started here." in page.text
    refused = admin.client.post(f"{PLACES}/{room.id}/delete", data={"csrf_token": admin.token})
    assert refused.status_code == 422
    assert "it cannot be deleted" in soup(refused).select_one("p.error[role=alert]").text
    assert place(demo, "room-412") is not None and state(convo.id)[0]
    # One nobody used goes.
    deleted = admin.submit(admin.get(f"{PLACES}/{table.id}"), "form[action$='/delete']")
    assert deleted.status_code == 303
    assert place(demo, "table-7") is None
    assert "Deleted “Table 7”." in admin.get(PLACES).text


def test_another_brands_places_look_absent_and_stay_unchanged(admin, demo, other_brand):
    brand = other_brand[0]
    theirs = place(brand, "web")
    before, token = places(brand), admin.token
    assert admin.get(f"{PLACES}/{theirs.id}").status_code == 404
    posts = {"": {"label": "Hacked", "kind": "room", "slug": "hacked"},
             "/archive": {}, "/unarchive": {}, "/delete": {}}
    for suffix, fields in posts.items():
        answer = admin.client.post(f"{PLACES}/{theirs.id}{suffix}",
                                   data={"csrf_token": token, **fields})
        assert answer.status_code == 404, suffix
    assert places(brand) == before
    assert admin.get(f"{PLACES}/999999").status_code == 404


def test_forms_without_the_csrf_token_are_refused(admin, demo):
    before = places(demo)
    room = place(demo, "room-412")
    assert admin.client.post(PLACES, data={"label": "Spa", "kind": "room"}).status_code == 400
    assert admin.client.post(f"{PLACES}/{room.id}/archive").status_code == 400
    assert admin.client.post(f"{PLACES}/{room.id}/delete").status_code == 400
    assert admin.client.post(f"{PLACES}/{room.id}",
                             data={"label": "X", "kind": "room"}).status_code == 400
    assert places(demo) == before


def test_only_managers_and_admins_manage_places(app, demo):
    from ..inbox.staff import Staff
    lead = Staff(app, "lead@demo.example")
    assert lead.get(PLACES).status_code == 403
    assert lead.client.post(PLACES, data={"csrf_token": lead.token, "label": "Spa",
                                          "kind": "room"}).status_code == 403
    assert place(demo, "spa") is None
