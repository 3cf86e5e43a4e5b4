"""QR codes for every touchpoint, and a printable sheet of them per brand."""
import io

import qrcode
import qrcode.image.svg
from flask import current_app, render_template, url_for

from app.widget import bp
from app.widget.routes import load_place
from models.common import utcnow

QR_CACHE_SECONDS = 3600


def short_link(brand, touchpoint=None):
    """Return the absolute URL a printed code leads to."""
    path = url_for("widget.entry", brand_slug=brand.slug,
                   tp_slug=touchpoint.slug if touchpoint else None, embed=False)
    return current_app.config["PUBLIC_URL"] + path


def qr_svg(data):
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    return image.to_string(encoding="unicode")


def qr_png(data):
    buffer = io.BytesIO()
    qrcode.make(data, box_size=10, border=4).save(buffer, format="PNG")
    return buffer.getvalue()


@bp.get("/qr/<brand_slug>/<tp_slug>.<any(svg, png):fmt>")
def touchpoint_code(brand_slug, tp_slug, fmt):
    """Return the QR code of a touchpoint's short link as SVG or PNG."""
    brand, touchpoint = load_place(brand_slug, tp_slug)
    link = short_link(brand, touchpoint)
    if fmt == "svg":
        body, mimetype = qr_svg(link), "image/svg+xml"
    else:
        body, mimetype = qr_png(link), "image/png"
    return body, 200, {"Content-Type": mimetype,
                       "Cache-Control": f"public, max-age={QR_CACHE_SECONDS}"}


@bp.get("/qr/<brand_slug>")
def sheet(brand_slug):
    """Show every touchpoint's code with its name under it, ready to print."""
    brand, _ = load_place(brand_slug, None)
    # An archived place's code only says it is closed: nothing to print.
    codes = [(tp, short_link(brand, tp)) for tp in brand.touchpoints if tp.archived_at is None]
    return render_template("widget/qr_sheet.html", brand=brand, codes=codes,
                           brand_link=short_link(brand), printed_at=utcnow())
