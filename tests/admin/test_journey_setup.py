"""A hotel starts on Kulak from nothing, on a real server, in a browser with JavaScript off:
the operator's command, the admin's password link, a new room and its QR code, a guest who
scans it and writes, and the admin's inbox showing the guest."""
import io
import subprocess

import pytest
import zxingcpp
from PIL import Image

from ..conftest import BACKENDS, kulak_command, start_server
from ..test_journey_nojs import Browser


class StaffBrowser(Browser):
    """The same script-free browser, signed in with a session cookie."""

    cookies_allowed = True


@pytest.fixture(scope="module", params=BACKENDS)
def bare_server(request, tmp_path_factory, postgres_schema, htmx_installed):
    """A real Kulak with no brand at all: nothing but what `kulak serve` sets up."""
    server = start_server(request.param, tmp_path_factory.mktemp(f"bare-{request.param}"),
                          postgres_schema, demo=False)
    yield server
    server.stop()


def decode_qr(png):
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return [r.text for r in zxingcpp.read_barcodes(image)
            if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.server
def test_a_hotel_sets_up_and_hears_its_first_guest(bare_server):
    made = subprocess.run(kulak_command("brand", "create", "bosphorus", "--name",
                                        "Hotel Bosphorus", "--admin", "owner@bosphorus.example"),
                          env=bare_server.env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    link = made.stdout.strip().splitlines()[-1]
    assert link.startswith(bare_server.url + "/inbox/password/")

    admin = StaffBrowser(bare_server.url)
    admin.open(link)
    assert admin.response.status_code == 200
    admin.form().fill("New password", "a quiet room by the sea") \
        .fill("The same password again", "a quiet room by the sea").submit()
    assert admin.response.status_code == 200 and admin.url == bare_server.url + "/admin/"
    admin.follow("Places")
    admin.form("#add-touchpoint").fill("Name", "Oda 412 – Deniz").select("Kind", "Room").submit()
    assert admin.response.status_code == 200, admin.soup.get_text()[:500]
    row = next(r for r in admin.soup.select("table.places tr")
               if "Oda 412 – Deniz" in r.get_text())
    short_link = row.select_one("a.short-link")["href"]
    assert short_link == bare_server.url + "/b/bosphorus/oda-412-deniz"
    png = admin.http.get(bare_server.url + row.find("a", string="PNG")["href"], timeout=15)
    assert png.status_code == 200 and decode_qr(png.content) == [short_link]

    guest = Browser(bare_server.url)
    guest.open(short_link)
    assert "Hotel Bosphorus" in guest.soup.get_text() and "Oda 412 – Deniz" in guest.soup.get_text()
    guest.form().choose("How satisfied are you so far?", "2").submit()
    guest.form().choose("What is it about?", "Cleanliness") \
        .fill("Tell us what you need", "The bathroom has not been cleaned").submit()
    assert guest.url.startswith(bare_server.url + "/c/")
    assert "The bathroom has not been cleaned" in guest.messages()
    guest.finish()

    admin.open("/inbox/")
    rows = [r.get_text(" ", strip=True) for r in admin.soup.select("#inbox-main .row")]
    assert len(rows) == 1 and "Oda 412 – Deniz" in rows[0], rows
    assert "The bathroom has not been cleaned" in rows[0]
    current = admin.soup.select_one('.views a[aria-current="page"]').get_text(" ", strip=True)
    assert current.startswith("For me")
