"""Kulak's pages as served: fetched as a browser does (br, gzip accepted), the bytes as they
crossed the wire, a first and a return visit; and the demo server the page benchmarks use."""
import gzip
import uuid
from contextlib import contextmanager
from html.parser import HTMLParser
from urllib.parse import urljoin

import brotli
import requests

from harness.clients import open_conversation
from harness.servers import KulakServer

ACCEPT_ENCODING = "br, gzip"  # what every current browser sends
FIRST_VISIT_FLOOR = 25 * 1024  # HTML + CSS + JS as served, a first visit
RETURN_VISIT_FLOOR = 4 * 1024  # the same page again, with the browser's cache
KEPT_SECONDS = 86400  # a file cached at least this long, immutable, is not asked for again


@contextmanager
def served_demo(workers, body, log):
    """Yield (server, session, token): `kulak serve` on the demo (SQLite in a temporary
    instance folder) and one conversation opened through the real form; stopped after."""
    server = KulakServer(env={"DATABASE_URL": None, "REDIS_URL": None, "SECRET_KEY": None},
                         workers=workers, progress=log)
    try:
        server.start()
        session = requests.Session()
        token = open_conversation(server.url, body, session, 10, client_id=uuid.uuid4().hex)
        log("conversation opened")
        yield server, session, token
    finally:
        server.stop()


def wire_get(session, url, headers=None):
    """GET url as a browser asks (br, gzip); return the response and its body as sent."""
    response = session.get(url, headers={"Accept-Encoding": ACCEPT_ENCODING, **(headers or {})},
                           timeout=10, allow_redirects=False, stream=True)
    body = response.raw.read(decode_content=False)  # the bytes on the wire, not decoded
    response.raw.release_conn()  # kept alive, as a browser's connection is (close() ends it)
    return response, body


def decoded(response, body):
    """Return a body as sent, decoded from its Content-Encoding."""
    encoding = response.headers.get("Content-Encoding", "identity")
    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding, bytes)(body)


class Assets(HTMLParser):
    """Collect <link rel=stylesheet href> (noting those inside <noscript>) and <script src>."""

    def __init__(self):
        """Start with no assets found."""
        super().__init__(convert_charrefs=True)
        self.stylesheets, self.scripts, self.inline_scripts = [], [], 0
        self.noscript_frames = []
        self._noscript = 0

    def handle_starttag(self, tag, attrs):
        """Note a stylesheet, script or <noscript> frame, and entering <noscript>."""
        attrs = dict(attrs)
        if tag == "noscript":
            self._noscript += 1
        elif tag == "link" and "stylesheet" in (attrs.get("rel") or "").lower().split():
            if attrs.get("href"):
                self.stylesheets.append((attrs["href"], self._noscript > 0))
        elif tag == "iframe" and self._noscript and attrs.get("src"):
            self.noscript_frames.append(attrs["src"])
        elif tag == "script":
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
            else:
                self.inline_scripts += 1

    def handle_startendtag(self, tag, attrs):
        """Treat a self-closing tag as a start tag."""
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        """Note leaving <noscript>."""
        if tag == "noscript" and self._noscript:
            self._noscript -= 1


def kept_by_browser(cache_control):
    """Whether a response's Cache-Control lets a browser reuse it without asking again."""
    directives = dict(
        (part.split("=", 1) + [""])[:2] for part in cache_control.replace(" ", "").split(",")
    )
    try:
        max_age = int(directives.get("max-age") or 0)
    except ValueError:
        max_age = 0
    return "immutable" in directives and max_age >= KEPT_SECONDS and "no-store" not in directives


def page_files(base, path, html):
    """Return the page's stylesheets and scripts as (kind, absolute URL, in <noscript>)."""
    parser = Assets()
    parser.feed(html.decode("utf-8", errors="replace"))
    url = base + path
    files = [("css", urljoin(url, href), hidden) for href, hidden in parser.stylesheets]
    files += [("js", urljoin(url, src), False) for src in parser.scripts]
    return list(dict.fromkeys(files))


def as_served(session, base, path):
    """Measure a first and a return visit of one page in bytes as sent, compression included."""
    page, html = wire_get(session, base + path)
    files = []
    for kind, url, hidden in page_files(base, path, decoded(page, html)):
        answer, body = wire_get(session, url)
        files.append({"kind": kind, "url": url.removeprefix(base), "in_noscript": hidden,
                      "status": answer.status_code, "bytes": len(body),
                      "content_encoding": answer.headers.get("Content-Encoding", "identity"),
                      "cache_control": answer.headers.get("Cache-Control", ""),
                      "etag": answer.headers.get("ETag")})
    first = len(html) + sum(f["bytes"] for f in files)
    again, html_again = wire_get(session, base + path)
    linked_again = {u.removeprefix(base) for _, u, _ in page_files(
        base, path, decoded(again, html_again))}
    refetched = []
    for file in files:
        if kept_by_browser(file["cache_control"]) and file["url"] in linked_again:
            continue  # same hashed URL, immutable: the browser does not even ask
        headers = {"If-None-Match": file["etag"]} if file["etag"] else {}
        answer, body = wire_get(session, base + file["url"], headers)
        refetched.append({"url": file["url"], "status": answer.status_code, "bytes": len(body)})
    second = len(html_again) + sum(f["bytes"] for f in refetched)
    return {
        "accept_encoding": ACCEPT_ENCODING,
        "html_bytes": len(html),
        "html_content_encoding": page.headers.get("Content-Encoding", "identity"),
        "html_vary": page.headers.get("Vary", ""),
        "files": files,
        "first_visit_bytes": first,
        "first_visit_within_25kb_floor": first <= FIRST_VISIT_FLOOR,
        "return_visit_html_bytes": len(html_again),
        "return_visit_refetched": refetched,
        "return_visit_bytes": second,
        "return_visit_within_4kb_floor": second <= RETURN_VISIT_FLOOR,
    }
