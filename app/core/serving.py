"""Compressed responses, and static files under content-hashed URLs that browsers keep."""
import gzip
import hashlib
import mimetypes
import os
from pathlib import Path

import brotli
from flask import abort, current_app, request
from flask_compress import Compress
from werkzeug.security import safe_join

from app.core import assets

HASH_LENGTH = 12  # hex digits of sha256: enough that two versions of a file never share one
# A URL that names the file's current hash never changes meaning: browsers keep it a year and
# do not even revalidate. Without it (a page from before a deploy), a short lifetime.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300"
ENCODINGS = ("br", "gzip")  # preferred first: brotli where the client accepts it
# Static files are compressed once per process at the highest levels (~80 ms for htmx);
# dynamic pages at Flask-Compress's moderate defaults, since that CPU is spent on every page.
STATIC_BR_QUALITY = 11
STATIC_GZIP_LEVEL = 9
COMPRESSED_TYPES = ["text/html", "text/css", "text/javascript", "application/javascript",
                    "application/json", "application/problem+json"]


# In memory, not .br/.gz files written beside them: app/static may sit read-only in
# site-packages; and not Flask-Compress's cache, which Flask's streamed file responses bypass.
# Every static file, as is and compressed both ways, is some 120 KB per process.
class StaticFile:
    """A static file's bytes, hash and compressed copies, read from disk once per process."""

    def __init__(self, path):
        self.raw = Path(path).read_bytes()
        self.digest = hashlib.sha256(self.raw).hexdigest()[:HASH_LENGTH]
        self.mimetype = mimetypes.guess_type(str(path))[0] or "application/octet-stream"
        self._encoded = {}

    def body(self, encoding):
        """Return the file as sent with this Content-Encoding (None: as is)."""
        if encoding is None:
            return self.raw
        if encoding not in self._encoded:
            self._encoded[encoding] = (
                brotli.compress(self.raw, quality=STATIC_BR_QUALITY) if encoding == "br"
                else gzip.compress(self.raw, STATIC_GZIP_LEVEL, mtime=0))
        return self._encoded[encoding]


def _path(app, filename):
    """Return where a static filename lives: app/static, or the instance's pinned htmx files."""
    prefix = assets.VENDOR_SUBDIR + "/"
    if filename.startswith(prefix):
        name = filename[len(prefix):]
        return assets.instance_vendor_dir(app) / name if name in assets.PINNED else None
    return safe_join(app.static_folder, filename)


def static_file(app, filename):
    """Return the StaticFile for a filename of url_for('static', ...), or None if none exists."""
    path = _path(app, filename or "")
    if path is None:
        return None
    # Keyed by the normalised path, so /static/./x.css is the same entry as /static/x.css;
    # misses are not kept, so unknown URLs cannot grow the cache (and htmx installed later
    # is found).
    key = os.path.normpath(path)
    cache = app.extensions["kulak_static"]
    if key not in cache:
        if not os.path.isfile(key):
            return None
        cache[key] = StaticFile(key)
    return cache[key]


def send_static(filename):
    """Serve a static file, compressed once, cached a year when its URL names its hash."""
    app = current_app._get_current_object()
    file = static_file(app, filename)
    if file is None:
        abort(404)
    encoding = None
    if len(file.raw) >= app.config["COMPRESS_MIN_SIZE"]:
        encoding = request.accept_encodings.best_match(ENCODINGS)
    response = app.response_class(file.body(encoding), mimetype=file.mimetype)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    # One strong validator per representation: a cache never mixes up br, gzip and identity.
    response.set_etag(f"{file.digest}-{encoding or 'identity'}")
    current = request.args.get("v") == file.digest
    response.headers["Cache-Control"] = IMMUTABLE if current else SHORT_LIVED
    response.vary.add("Accept-Encoding")
    return response.make_conditional(request)


def compress_response(response):
    """Compress through Flask-Compress, except WebSocket handshakes; keep ETags answerable."""
    # flask-sock's view returns a placeholder response once the socket closes: nothing to send.
    if response.status_code == 101 or request.headers.get("Upgrade", "").lower() == "websocket":
        return response
    # Flask-Compress would still pick an encoding the client refused with q=0 ("br;q=0").
    if request.accept_encodings.best_match(ENCODINGS) is None:
        return _vary(response)
    etag, weak = response.get_etag()
    encoded_before = "Content-Encoding" in response.headers
    response = current_app.extensions["compress"].after_request(response)
    if etag and not encoded_before and "Content-Encoding" in response.headers:
        if not weak:
            # Flask-Compress would answer with "<etag>:br", which the view that made <etag>
            # never recognises in If-None-Match, so it would render (and compress) every time.
            # A weak tag says "the same content, encoded" (as nginx does); If-None-Match
            # compares weakly (RFC 9110: make_conditional, if_none_match.contains_weak).
            response.set_etag(etag, weak=True)
        if request.method in ("GET", "HEAD"):
            response.make_conditional(request)
    return response


def _vary(response):
    response.vary.add("Accept-Encoding")  # what Flask-Compress adds to every answer it sees
    return response


def init_app(app):
    """Compress responses; serve static files from memory, their URLs carrying their hash."""
    app.config.setdefault("COMPRESS_ALGORITHM", list(ENCODINGS))
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)  # below this, the headers outweigh the gain
    # No compressed type is streamed (the CSV export is text/csv); static files are sent
    # already compressed by send_static.
    app.config.setdefault("COMPRESS_STREAMS", False)
    app.config["COMPRESS_REGISTER"] = False  # compress_response wraps it instead
    app.config["COMPRESS_EVALUATE_CONDITIONAL_REQUEST"] = False  # done after the ETag fix-up
    app.extensions["compress"] = Compress(app)
    # after_request handlers run in reverse order: registered before any of Kulak's own, this
    # one sees the body and headers they leave.
    app.after_request(compress_response)
    app.extensions["kulak_static"] = {}
    # Flask's own static view reads the file on every request; this one keeps it in memory.
    app.view_functions["static"] = send_static

    @app.url_defaults
    def hash_static_urls(endpoint, values):
        if endpoint == "static" and "v" not in values:
            file = static_file(app, values.get("filename"))
            if file is not None:
                values["v"] = file.digest
