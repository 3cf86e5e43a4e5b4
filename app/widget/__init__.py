"""Customer side: entry page, survey, "how can we help", conversation, embed and QR codes."""
from pathlib import Path

from flask import Blueprint

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "widget_templates"

bp = Blueprint("widget", __name__, template_folder=str(TEMPLATES))

from app.widget import qr, routes  # noqa: E402,F401
