"""Customer side: entry page, survey, "how can we help", conversation, embed and QR codes."""
from pathlib import Path

from flask import Blueprint

# widget_templates/ is a sibling of the app package: at the repository's root in a checkout
# (or an editable install), in site-packages in a wheel, which ships it beside app/ (setup.cfg).
TEMPLATES = Path(__file__).resolve().parent.parent.parent / "widget_templates"

bp = Blueprint("widget", __name__, template_folder=str(TEMPLATES))

from app.widget import messages, qr, reach, routes, theme, unavailable  # noqa: E402,F401
