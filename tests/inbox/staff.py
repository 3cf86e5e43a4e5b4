"""Staff-side test helpers: log in, read and submit forms, build conversations."""
from datetime import timedelta

from bs4 import BeautifulSoup
from sqlalchemy import select

from models import Conversation, Message, StaffMember, TagCorrection, db
from models.common import utcnow

from ..conftest import DEMO_PASSWORD

REPLY, NOTE, ASSIGN = "#reply-form", "#note-form", 'form[action$="/assign"]'
TRANSFER, RESOLVE = 'form[action$="/transfer"]', 'form[action$="/resolve"]'
REOPEN = 'form[action$="/reopen"]'


def tag(field):
    return f'form[action$="/tags"]:has(input[name="field"][value="{field}"])'


def soup(response):
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def form_values(form):
    """What a browser sends for `form` untouched: inputs, textareas, selected options."""
    values = {}
    for control in form.find_all(["input", "textarea", "select"]):
        name, kind = control.get("name"), control.get("type", "text")
        unchecked = kind in ("radio", "checkbox") and not control.has_attr("checked")
        if not name or kind in ("submit", "button") or unchecked:
            continue
        if control.name == "textarea":
            values[name] = control.get_text()
        elif control.name == "select":
            option = control.find("option", selected=True) or control.find("option")
            values[name] = option.get("value", option.get_text()) if option else ""
        else:
            values[name] = control.get("value", "")
    return values


def option(page, select_id, label):
    """The value of the option a person picks by its visible label."""
    options = soup(page).select(f"#{select_id} option")
    return next(o["value"] for o in options if o.get_text() == label)


def login(client, email, password=DEMO_PASSWORD, next_url=None):
    page = client.get("/inbox/login", query_string={"next": next_url} if next_url else None)
    data = form_values(soup(page).select_one("form")) | {"email": email, "password": password}
    return client.post("/inbox/login", data=data)


class Staff:
    """A member of staff with a browser (a client: cookies) of their own."""

    def __init__(self, app, email):
        self.client = app.test_client()
        assert login(self.client, email).status_code == 303
        self.member = db.session.scalar(select(StaffMember).filter_by(email=email))
        self.token = soup(self.get("/inbox/")).find("input", attrs={"name": "csrf_token"})["value"]

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def submit(self, page, selector, htmx=False, action=None, **fields):
        """Post the form `selector` of `page`, `fields` filled in (None leaves a field out)."""
        form = soup(page).select_one(selector)
        assert form is not None, f"no {selector} on the page"
        data = {k: v for k, v in (form_values(form) | fields).items() if v is not None}
        return self.client.post(action or form["action"], data=data,
                                headers={"HX-Request": "true"} if htmx else {})

    def act(self, conversation_id, selector, **fields):
        return self.submit(self.get(f"/inbox/c/{conversation_id}"), selector, **fields)


def conversation(brand, text="Could I have more towels?", minutes=1, session=None, **columns):
    """A conversation whose customer has waited `minutes` since writing `text`."""
    session = db.session if session is None else session
    columns.setdefault("touchpoint", brand.touchpoints[0])
    convo = Conversation(brand=brand, **columns)
    message = convo.add_message("customer", text)
    written = utcnow() - timedelta(minutes=minutes, seconds=10)
    message.created_at = convo.created_at = convo.last_message_at = convo.waiting_since = written
    session.add(convo)
    session.commit()
    return convo


def state(conversation_id):
    """Every row stored about a conversation, read afresh."""
    db.session.expire_all()
    columns = (Conversation.id, Message.conversation_id, TagCorrection.conversation_id)
    return [db.session.execute(select(c.table).where(c == conversation_id)
                               .order_by(*c.table.primary_key)).all() for c in columns]


def fresh(convo):
    db.session.expire_all()
    return db.session.get(Conversation, convo.id)


def customer_journey(client, body, **fields):
    """Scan room 412's code, rate the stay 4 and the room clean, write; return the token."""
    survey = soup(client.get("/b/demo/room-412")).select_one("form")
    chosen = [r for r in survey.select("input[type=radio]") if r["value"] in ("4", "yes")]
    answers = form_values(survey) | {r["name"]: r["value"] for r in chosen}
    help_url = client.post("/b/demo/room-412", data=answers).headers["Location"]
    data = form_values(soup(client.get(help_url)).select_one("form")) | {"body": body, **fields}
    started = client.post(help_url, data=data)
    assert started.status_code == 303, started.text
    return started.headers["Location"].rsplit("/", 1)[1]
