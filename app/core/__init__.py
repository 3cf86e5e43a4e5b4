"""Cross-cutting pieces: health, metrics, errors, language, security headers, rendering."""
from flask import Blueprint

bp = Blueprint("core", __name__)

from app.core import errors, routes  # noqa: E402,F401
