"""Categories: an admin adds, renames, orders, hides and shows them; customers choose them."""
from sqlalchemy import select

from models import Category, Conversation, db
from models.brand import DEFAULT_CATEGORIES

from ..inbox.staff import form_values, option, soup

CATEGORIES, ADD, EDIT = "/admin/categories", "#add-category", "#edit-category"
HTMX = {"HX-Request": "true"}


def rows(brand):
    """(slug, labels, taxonomy, active) of the brand's categories, in order."""
    db.session.expire_all()
    return db.session.execute(select(Category.slug, Category.labels, Category.taxonomy,
                                     Category.active)
                              .filter_by(brand_id=brand.id)
                              .order_by(Category.position, Category.id)).all()


def slugs(brand):
    return [r.slug for r in rows(brand)]


def category(brand, slug):
    db.session.expire_all()
    return db.session.scalar(select(Category).filter_by(brand_id=brand.id, slug=slug))


def errors(page):
    return [p.get_text(" ", strip=True) for p in soup(page).select(".error")]


def listed(page):
    """What the list shows: (English, Turkish, stands for, shown) per row, in order."""
    return [tuple(td.get_text(strip=True) for td in tr.select("td")[1:5])
            for tr in soup(page).select("#category-list tbody tr")]


def add(admin, **fields):
    return admin.submit(admin.get(CATEGORIES), ADD, **fields)


def press(admin, brand, slug, action, direction=None, htmx=False):
    target = category(brand, slug)
    selector = f"#category-{target.id} form[action$='/{action}']"
    if direction:
        selector += f":has(input[name=direction][value={direction}])"
    return admin.submit(admin.get(CATEGORIES), selector, htmx=htmx)


def customer_choices(client):
    page = soup(client.get("/b/demo/room-412/help"))
    return [label.get_text(strip=True) for label in page.select(".categories .options label")]


def test_the_list_shows_every_category_in_order_in_both_languages(admin, demo):
    page = admin.get(CATEGORIES)
    assert listed(page) == [(en, tr, en, "Shown") for _slug, en, tr in DEFAULT_CATEGORIES]


def test_add_a_category_that_stands_for_a_shipped_one(admin, demo):
    page = admin.get(CATEGORIES)
    added = admin.submit(page, ADD, label_en="Spa", label_tr="Spa ve hamam",
                         taxonomy=option(page, "taxonomy", "Room and facilities"))
    assert added.status_code == 303, errors(added)
    listing = admin.get(added.headers["Location"])
    assert "Added “Spa”" in listing.text
    assert listed(listing)[-1] == ("Spa", "Spa ve hamam", "Room and facilities", "Shown")
    assert rows(demo)[-1] == ("spa", {"en": "Spa", "tr": "Spa ve hamam"}, "facilities", True)
    # One language is enough; the slug then comes from the Turkish name.
    only_tr = add(admin, label_en="", label_tr="Çamaşırhane", taxonomy="facilities")
    assert only_tr.status_code == 303
    assert rows(demo)[-1][:2] == ("camasirhane", {"tr": "Çamaşırhane"})


def test_bad_category_input_is_refused_and_the_form_keeps_it(admin, demo):
    before = rows(demo)
    empty = add(admin, label_en="  ", label_tr="", taxonomy="other")
    assert empty.status_code == 422
    assert "Please name the category in English, in Turkish or in both." in errors(empty)
    long_tr = "Çok uzun bir kategori adı " * 5
    too_long = add(admin, label_en="Spa", label_tr=long_tr, taxonomy="facilities")
    assert too_long.status_code == 422
    assert f"Please use at most 120 characters (it has {len(long_tr.strip())})." in errors(
        too_long)
    assert soup(too_long).select_one("#label_tr")["value"] == long_tr.strip()
    assert soup(too_long).select_one("#label_en")["value"] == "Spa"
    unknown = add(admin, label_en="Spa", taxonomy="sauna")
    assert unknown.status_code == 422
    assert "Please choose which kind of message it stands for." in errors(unknown)
    taken = add(admin, label_en="Cleanliness", taxonomy="cleanliness")
    assert taken.status_code == 422
    assert "The category “Cleanliness” exists already." in errors(taken)
    symbols = add(admin, label_en="???", taxonomy="other")
    assert "Please use at least one letter or digit in the name." in errors(symbols)
    assert rows(demo) == before


def test_edit_a_categorys_names_and_what_it_stands_for(admin, demo):
    other = category(demo, "other")
    page = admin.get(f"{CATEGORIES}/{other.id}")
    assert soup(page).select_one(ADD) is None
    assert soup(page).select_one("#label_en")["value"] == "Something else"
    saved = admin.submit(page, EDIT, label_en="Anything else", label_tr="Diğer",
                         taxonomy=option(page, "taxonomy", "Staff and service"))
    assert saved.status_code == 303
    assert rows(demo)[-1] == ("other", {"en": "Anything else", "tr": "Diğer"},
                              "staff_service", True)  # the slug stays: rules name it
    refused = admin.submit(admin.get(f"{CATEGORIES}/{other.id}"), EDIT, label_en="x" * 121)
    assert refused.status_code == 422 and soup(refused).select_one("#label_en")["value"] == (
        "x" * 121)
    same_name = admin.submit(admin.get(f"{CATEGORIES}/{other.id}"), EDIT, label_tr="TEMİZLİK")
    assert "The category “Cleanliness” exists already." in errors(same_name)
    assert rows(demo)[-1][1] == {"en": "Anything else", "tr": "Diğer"}


def test_move_categories_up_and_down(admin, demo):
    order = slugs(demo)
    assert press(admin, demo, order[1], "move", "up").status_code == 303
    assert slugs(demo) == [order[1], order[0], *order[2:]]
    assert press(admin, demo, order[1], "move", "down").status_code == 303
    assert slugs(demo) == order
    page = admin.get(CATEGORIES)
    first, last = (category(demo, s) for s in (order[0], order[-1]))
    assert soup(page).select_one(f"#category-{first.id} input[value=up]") is None
    assert soup(page).select_one(f"#category-{last.id} input[value=down]") is None
    # The ends stay where they are, whatever is posted.
    admin.client.post(f"{CATEGORIES}/{first.id}/move",
                      data={"csrf_token": admin.token, "direction": "up"})
    assert slugs(demo) == order
    sideways = admin.client.post(f"{CATEGORIES}/{first.id}/move",
                                 data={"csrf_token": admin.token, "direction": "left"})
    assert sideways.status_code == 422 and slugs(demo) == order


def test_with_htmx_the_list_alone_comes_back(admin, demo):
    order = slugs(demo)
    moved = press(admin, demo, order[2], "move", "up", htmx=True)
    assert moved.status_code == 303  # the browser follows it, headers and all
    fragment = admin.get(moved.headers["Location"], headers=HTMX)
    assert fragment.text.startswith('<section id="category-list"')
    assert "<html" not in fragment.text and "Vary" in fragment.headers
    assert listed(fragment)[1][0] == dict(
        (slug, en) for slug, en, _tr in DEFAULT_CATEGORIES)[order[2]]
    page = soup(admin.get(CATEGORIES))
    form = page.select_one("#category-list form[hx-post]")
    assert form["method"] == "post" and form["action"] == form["hx-post"]  # works without it
    assert form["hx-target"] == "#category-list"


def test_hide_and_show_a_category(admin, demo, client):
    assert "Something else" in customer_choices(client)
    assert press(admin, demo, "other", "hide").status_code == 303
    assert not category(demo, "other").active
    assert "Something else" not in customer_choices(client)
    assert listed(admin.get(CATEGORIES))[-1][3] == "Hidden"
    hidden_again = add(admin, label_en="Something else", taxonomy="other")
    assert "The category “Something else” exists already, hidden: show it again instead." in (
        errors(hidden_again))
    assert press(admin, demo, "other", "show").status_code == 303
    assert category(demo, "other").active
    assert "Something else" in customer_choices(client)


def test_the_last_shown_category_cannot_be_hidden(admin, demo):
    for slug in slugs(demo)[1:]:
        assert press(admin, demo, slug, "hide").status_code == 303
    last = slugs(demo)[0]
    refused = press(admin, demo, last, "hide")
    assert refused.status_code == 422
    assert "“Product question” is the last category customers can choose: show another one " \
           "before hiding it." in errors(refused)
    assert category(demo, last).active
    # htmx gets the list with the reason, swapped in (422 swaps).
    fragment = press(admin, demo, last, "hide", htmx=True)
    assert fragment.status_code == 422 and fragment.text.startswith('<section id="category-list"')
    assert "is the last category customers can choose" in fragment.text
    assert [r.active for r in rows(demo)].count(True) == 1


# The first message is tagged "facilities", which the default "Room and facilities" also
# stands for: the customer's own pick must stay.
def test_a_customer_who_picks_a_new_category_gets_it(admin, demo, client):
    assert add(admin, label_en="Spa", label_tr="Spa", taxonomy="facilities").status_code == 303
    help_page = client.get("/b/demo/room-412/help")
    spa = soup(help_page).select_one('input[name=category][value=spa]')
    assert spa is not None and spa.find_parent("label").get_text(strip=True) == "Spa"
    data = form_values(soup(help_page).select_one("form")) | {
        "category": "spa", "body": "The sauna is cold and the steam room does not work"}
    started = client.post("/b/demo/room-412/help", data=data)
    assert started.status_code == 303
    convo = db.session.scalar(select(Conversation))
    assert convo.category_id == category(demo, "spa").id
    assert convo.picked_category == "facilities"


def test_another_brands_categories_look_absent_and_stay_unchanged(admin, demo, other_brand):
    brand = other_brand[0]
    before, theirs = rows(brand), category(brand, "other")
    assert admin.get(f"{CATEGORIES}/{theirs.id}").status_code == 404
    posts = {"": {"label_en": "Hacked", "taxonomy": "other"}, "/move": {"direction": "up"},
             "/hide": {}, "/show": {}}
    for suffix, fields in posts.items():
        answer = admin.client.post(f"{CATEGORIES}/{theirs.id}{suffix}",
                                   data={"csrf_token": admin.token, **fields})
        assert answer.status_code == 404, suffix
    assert rows(brand) == before
    assert "Hacked" not in admin.get(CATEGORIES).text


def test_forms_without_the_csrf_token_are_refused(admin, demo):
    before, other = rows(demo), category(demo, "other")
    assert admin.client.post(CATEGORIES, data={"label_en": "Spa",
                                               "taxonomy": "facilities"}).status_code == 400
    for suffix, fields in {"": {"label_en": "X", "taxonomy": "other"},
                           "/move": {"direction": "up"}, "/hide": {}}.items():
        assert admin.client.post(f"{CATEGORIES}/{other.id}{suffix}",
                                 data=fields).status_code == 400
    assert rows(demo) == before
