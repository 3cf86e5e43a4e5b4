"""QR codes: every touchpoint's PNG and SVG scan back to its own link; the sheet prints."""
import base64
import io
from urllib.parse import urlparse

import pytest
import zxingcpp
from bs4 import BeautifulSoup
from PIL import Image

from .test_journey_nojs import CustomerClient

TOUCHPOINTS = {"room-412": "Room 412", "table-7": "Table 7", "web": "Website"}


@pytest.fixture
def client(app):
    return CustomerClient(app)


def decode(png_bytes):
    """Return the texts of every QR code found in a PNG image."""
    image = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    return [result.text for result in zxingcpp.read_barcodes(image)
            if result.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.fixture
def render_svg(chromium):
    """Draw an SVG in the real Chromium, as an <img> on a white page; return a PNG."""
    page = chromium.new_page(viewport={"width": 600, "height": 600})

    def render(svg_bytes):
        source = "data:image/svg+xml;base64," + base64.b64encode(svg_bytes).decode()
        page.set_content('<body style="margin:0;background:#fff">'
                         f'<img id="code" src="{source}" width="400" height="400"></body>')
        page.wait_for_function("document.getElementById('code').complete")
        assert page.evaluate("document.getElementById('code').naturalWidth") > 0
        return page.locator("#code").screenshot()

    yield render
    page.close()


def test_png_code_scans_to_the_touchpoint_link(client, demo):
    response = client.get("/qr/demo/room-412.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(response.data) == ["http://kulak.test/b/demo/room-412"]


def test_svg_code_drawn_by_chromium_scans_to_the_touchpoint_link(client, demo, render_svg):
    response = client.get("/qr/demo/room-412.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<script" not in response.data
    assert decode(render_svg(response.data)) == ["http://kulak.test/b/demo/room-412"]


def test_every_touchpoint_code_leads_to_its_own_page(client, demo, render_svg):
    for slug in TOUCHPOINTS:
        link = f"http://kulak.test/b/demo/{slug}"
        assert decode(client.get(f"/qr/demo/{slug}.png").data) == [link]
        assert decode(render_svg(client.get(f"/qr/demo/{slug}.svg").data)) == [link]
        # The link opens that touchpoint's page.
        page = BeautifulSoup(client.get(urlparse(link).path).text, "html.parser")
        assert page.select_one("header .place").get_text(strip=True) == TOUCHPOINTS[slug]


def test_the_printable_sheet_shows_each_code_above_its_label(client, demo):
    response = client.get("/qr/demo")
    assert response.status_code == 200
    page = BeautifulSoup(response.text, "html.parser")
    items = page.select(".qr-sheet li")
    assert [item.select_one(".label").get_text(strip=True) for item in items] == \
        list(TOUCHPOINTS.values())
    for item, slug in zip(items, TOUCHPOINTS, strict=True):
        image = item.find("img")
        assert image["src"] == f"/qr/demo/{slug}.svg"
        assert TOUCHPOINTS[slug] in image["alt"]
        # The label follows the code it names.
        assert image.find_next("p", class_="label") is item.select_one(".label")
        assert item.select_one(".link").get_text(strip=True) == f"http://kulak.test/b/demo/{slug}"
        assert client.get(image["src"]).mimetype == "image/svg+xml"
    stylesheets = [link["href"].split("?")[0] for link in page.select('link[rel="stylesheet"]')]
    assert "/static/kulak.css" in stylesheets
    css = client.get("/static/kulak.css").text
    assert "@media print" in css
    print_rules = css.split("@media print", 1)[1]
    assert ".no-print" in print_rules and "display:none" in print_rules.replace(" ", "")


@pytest.mark.parametrize("url", ["/qr/demo/room-999.png", "/qr/demo/room-999.svg",
                                 "/qr/nobody/room-412.png", "/qr/nobody",
                                 "/qr/demo/room-412.gif"])
def test_unknown_codes_are_not_found(client, demo, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Page not found" in response.text
