"""Fetch as a browser does (br, gzip accepted) and keep the bytes as they crossed the wire."""
import gzip

import brotli

ACCEPT_ENCODING = "br, gzip"  # what every current browser sends


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
