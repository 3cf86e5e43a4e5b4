"""Appends arrive in order under concurrent posts through two processes.

A customer posts through server A while staff reply through server B; sockets on B (the
customer's and the staff thread's) receive appends. Each socket's frames are applied as htmx
applies them (an append lands only before the cursor the page holds), and the result must be
the database's messages, each once, in order.
"""
import json
import threading
import time

import pytest
import simple_websocket
from bs4 import BeautifulSoup

from harness import clients
from harness.databases import conversation_ids

from . import test_live_scaleout as scaleout
from .test_live import staff_session, staff_socket, unique
from .test_live_resume import stored_ids

redis_url, redis_servers = scaleout.redis_url, scaleout.redis_servers  # its two servers

pytestmark = pytest.mark.server
EACH = 12


class Page:
    """A page's message log as htmx keeps it: message ids in order, and its cursor."""

    def __init__(self, cursor):
        self.ids, self.cursor, self.appends, self.replaces = [], cursor, 0, 0

    def apply(self, frame):
        for element in BeautifulSoup(frame, "html.parser").find_all(recursive=False):
            swap = element.get("hx-swap-oob", "")
            if swap.startswith("beforebegin:#after-"):
                if int(swap.rsplit("-", 1)[1]) == self.cursor:  # else: no target, dropped
                    self.ids += [int(li["id"][1:]) for li in element.select("li.message")]
                    self.cursor = int(element.select("li[id^=after-]")[-1]["id"][6:])
                    self.appends += 1
            elif element.get("id") in ("message-list", "thread"):
                self.ids = [int(li["id"][1:]) for li in element.select("li.message")]
                self.cursor = int(element.select_one("li[id^=after-]")["id"][6:])
                self.replaces += 1


def hello(ws, cursor):
    ws.send(json.dumps({"after": str(cursor), "HEADERS": {}}))


def test_concurrent_posts_through_two_processes_append_in_order_once(redis_servers):
    a, b = redis_servers
    url = a.env["DATABASE_URL"]
    token = clients.open_conversation(a.url, unique("Two of us at table 9"))
    cid = conversation_ids(url, [token])[token]
    agent = staff_session(b.url)
    page_token = clients.csrf_token(agent.get(f"{b.url}/inbox/c/{cid}").text)
    start = stored_ids(a, cid)
    customer_ws = simple_websocket.Client.connect(
        f"{b.url.replace('http://', 'ws://')}/c/{token}/ws?hello=1")
    staff_ws = staff_socket(b.url, agent, f"conversation={cid}&hello=1")
    pages = {"customer": Page(start[-1]), "staff": Page(start[-1])}
    for ws, page in ((customer_ws, pages["customer"]), (staff_ws, pages["staff"])):
        page.ids = list(start)
        hello(ws, start[-1])
    try:
        def customer():
            for n in range(EACH):
                clients.customer_post(a.url, f"/c/{token}", f"guest {n}")

        def desk():
            for n in range(EACH):
                clients.staff_reply(agent, b.url, cid, f"desk {n}", token=page_token)
        posters = [threading.Thread(target=customer), threading.Thread(target=desk)]
        for poster in posters:
            poster.start()
        deadline = time.monotonic() + 30
        for name, ws in (("customer", customer_ws), ("staff", staff_ws)):
            page = pages[name]
            while time.monotonic() < deadline:
                frame = ws.receive(timeout=0.5)
                if frame is not None:
                    page.apply(frame)
                elif not any(p.is_alive() for p in posters) and \
                        page.ids == stored_ids(a, cid):
                    break
        stored = stored_ids(a, cid)
        assert len(stored) == len(start) + 2 * EACH
        for name, page in pages.items():
            assert page.ids == stored, name  # each once, in order, nothing missing
            assert page.appends >= 1, name
    finally:
        customer_ws.close()
        staff_ws.close()


def test_a_page_that_says_its_cursor_gets_only_what_follows(redis_servers):
    a, b = redis_servers
    token = clients.open_conversation(a.url, unique("Is breakfast included?"))
    cid = conversation_ids(a.env["DATABASE_URL"], [token])[token]
    first = stored_ids(a, cid)
    later = unique("And parking?")
    clients.customer_post(a.url, f"/c/{token}", later)
    ws = simple_websocket.Client.connect(
        f"{b.url.replace('http://', 'ws://')}/c/{token}/ws?hello=1")
    try:
        hello(ws, first[-1])
        frames = []
        while (frame := ws.receive(timeout=1)) is not None:
            frames.append(frame)
        caught_up = "".join(frames)
        assert later in caught_up and f"beforebegin:#after-{first[-1]}" in caught_up
        assert f'id="m{first[0]}"' not in caught_up  # what it holds: not again
    finally:
        ws.close()
