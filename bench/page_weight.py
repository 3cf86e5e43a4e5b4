#!/usr/bin/env python3
"""Page weight of Kulak's customer pages, and the host-page cost of the embed snippet.

Starts its own `kulak serve` (gunicorn + gevent, SQLite in a temporary instance folder, after
`kulak demo`) on a free port of 127.0.0.1, opens one conversation through the real form, then
fetches each customer page and every stylesheet it links (including inside <noscript>), and
measures raw and gzipped (gzip module, level 6) bytes. Scripts (the vendored htmx files) are
reported separately and are not counted in that total: pages must be usable before they load.
Then the bytes as served, asked with `Accept-Encoding: br, gzip` as a browser does: a first
visit (HTML, every stylesheet and script) and a return visit (the HTML, and what the cache
headers make a browser fetch again), measured by bench/wire.py's as_served. The frame refresh's
server CPU is bench/frame_refresh.py.
Prints exactly one JSON object on stdout; progress goes to stderr.
"""

import argparse
import gzip
import json
import os
import platform
import re
import sys
import time
from urllib.parse import urljoin, urlsplit

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [BENCH, os.path.dirname(BENCH)]  # bench's modules, then harness/ at the root
from wire import (  # noqa: E402
    ACCEPT_ENCODING,
    FIRST_VISIT_FLOOR,
    RETURN_VISIT_FLOOR,
    Assets,
    as_served,
    served_demo,
)

FLOOR_BYTES = 8192  # the "few KB" budget: HTML + CSS of one customer page, gzipped
GZIP_LEVEL = 6

# The recommended embed, quoted as is by bench/README.md. HOST is the Kulak server's host name.
EMBED_SNIPPET = (
    '<details class="kulak-chat"><summary>Chat with us</summary>'
    '<iframe src="http://HOST/embed/demo" loading="lazy" title="Chat" width="360" height="560">'
    "</iframe></details>"
)

CONVERSATION_BODY = "The air conditioning in my room is not working, could someone take a look?"

PAGES = (  # (name, path); "{token}" is the conversation opened by this run
    ("survey", "/b/demo/room-412"),
    ("help", "/b/demo/room-412/help"),
    ("embed", "/embed/demo"),
    ("conversation", "/c/{token}"),
)


def log(*parts):
    """Print a progress line on stderr."""
    print("[page_weight]", *parts, file=sys.stderr, flush=True)


def gz(data):
    """Return the gzipped size of data, in bytes."""
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def snippet_javascript(snippet):
    """Count what could run script on the host page: <script>, on* handlers, javascript: URLs."""
    tags = len(re.findall(r"<\s*script\b", snippet, re.I))
    script_bodies = re.findall(r"<\s*script\b[^>]*>(.*?)<\s*/\s*script\s*>", snippet, re.I | re.S)
    handlers = re.findall(r"\son[a-z]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", snippet, re.I)
    js_urls = re.findall(r"javascript:[^\"'>]*", snippet, re.I)
    js_bytes = (
        sum(len(b.encode()) for b in script_bodies)
        + sum(len(h.encode()) for h in handlers)
        + sum(len(u.encode()) for u in js_urls)
    )
    return {
        "script_tags": tags,
        "inline_event_handlers": len(handlers),
        "javascript_urls": len(js_urls),
        "javascript_bytes": js_bytes,
    }


def get(session, url):
    """GET url as is: no redirect followed, no compression asked for."""
    # identity: we compress ourselves, so the numbers do not depend on a proxy's settings.
    return session.get(
        url, headers={"Accept-Encoding": "identity"}, timeout=10, allow_redirects=False
    )


def measure(session, base, path, token, asset_cache):
    """Measure one page, its stylesheets, scripts and <noscript> frames."""
    url = base + path.format(token=token)
    response = get(session, url)
    html = response.content
    parser = Assets()
    parser.feed(html.decode(response.encoding or "utf-8", errors="replace"))
    stylesheets, scripts = [], []
    seen = set()
    for href, in_noscript in parser.stylesheets:
        css_url = urljoin(url, href)
        if css_url in seen:
            continue
        seen.add(css_url)
        if urlsplit(css_url).hostname != "127.0.0.1":
            raise RuntimeError(f"{path} links a third-party stylesheet: {css_url}")
        stylesheets.append(
            {"href": href, "in_noscript": in_noscript, **fetch_asset(session, css_url, asset_cache)}
        )
    for src in dict.fromkeys(parser.scripts):
        js_url = urljoin(url, src)
        if urlsplit(js_url).hostname != "127.0.0.1":
            raise RuntimeError(f"{path} loads a third-party script: {js_url}")
        scripts.append({"src": src, **fetch_asset(session, js_url, asset_cache)})
    frames = []
    for src in parser.noscript_frames:
        frame = get(session, urljoin(url, src))
        frames.append(
            {
                "src": src.replace(token, "{token}"),
                "status": frame.status_code,
                "html_raw": len(frame.content),
                "html_gzip": gz(frame.content),
            }
        )
    html_raw, html_gzip = len(html), gz(html)
    css_raw = sum(s["raw"] for s in stylesheets)
    css_gzip = sum(s["gzip"] for s in stylesheets)
    css_gzip_noscript = sum(s["gzip"] for s in stylesheets if s["in_noscript"])
    total_gzip = html_gzip + css_gzip
    return {
        "path": path,
        "status": response.status_code,
        "served_content_encoding": response.headers.get("Content-Encoding", "identity"),
        "html_raw": html_raw,
        "html_gzip": html_gzip,
        "css_raw": css_raw,
        "css_gzip": css_gzip,
        "total_raw": html_raw + css_raw,
        "total_gzip": total_gzip,
        "within_8kb_floor": total_gzip <= FLOOR_BYTES,
        "headroom_bytes": FLOOR_BYTES - total_gzip,
        "total_gzip_js_on": total_gzip - css_gzip_noscript,
        "stylesheets": stylesheets,
        "scripts": scripts,
        "inline_scripts": parser.inline_scripts,
        "script_gzip": sum(s["gzip"] for s in scripts),
        "noscript_frames_not_counted": frames,
        "sets_cookie": "Set-Cookie" in response.headers,
    }


def fetch_asset(session, url, cache):
    """Return the status, raw and gzipped size of a stylesheet or script, fetched once."""
    if url not in cache:
        response = get(session, url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} gave {response.status_code}")
        cache[url] = {
            "status": response.status_code,
            "raw": len(response.content),
            "gzip": gz(response.content),
        }
    return dict(cache[url])


def vendor_scripts(session, base, pages):
    """Measure every pinned htmx file, gzipped, and list which measured pages link it."""
    try:
        from app.core.assets import PINNED

        names = list(PINNED)
    except Exception:  # the benchmark must not depend on the app's internals
        names = ["htmx.min.js", "ws.min.js"]
    found = {}
    for name in names:
        response = get(session, f"{base}/static/vendor/{name}")
        linked_by = [
            page
            for page, data in pages.items()
            if any(urlsplit(s["src"]).path.endswith("/vendor/" + name) for s in data["scripts"])
        ]
        found[name] = {
            "status": response.status_code,
            "raw": len(response.content),
            "gzip": gz(response.content) if response.status_code == 200 else 0,
            "linked_by": linked_by,
        }
    return found


def server_compresses(session, base):
    """Return the Content-Encoding the server uses when the client accepts gzip."""
    response = session.get(
        base + "/b/demo/room-412", headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True
    )
    encoding = response.headers.get("Content-Encoding", "identity")
    response.close()
    return encoding


def embed_cost(session, base):
    """Measure the embed snippet and check the page its iframe loads."""
    here = EMBED_SNIPPET.replace("HOST", urlsplit(base).netloc)
    iframe_src = re.search(r'src="([^"]+)"', here).group(1)
    framed = get(session, iframe_src)
    csp = framed.headers.get("Content-Security-Policy", "")
    ancestors = re.search(r"frame-ancestors ([^;]*)", csp)
    return {
        "snippet": EMBED_SNIPPET,
        "snippet_bytes": len(EMBED_SNIPPET.encode()),
        "snippet_bytes_with_this_host": len(here.encode()),
        "snippet_gzip": gz(EMBED_SNIPPET.encode()),
        **snippet_javascript(EMBED_SNIPPET),
        "iframe_lazy": 'loading="lazy"' in EMBED_SNIPPET,
        "iframe_src_status": framed.status_code,
        "iframe_src_frame_ancestors": ancestors.group(1).strip() if ancestors else None,
        "note": "a host page on another origin can frame the widget only if the brand lists "
        "that origin (frame-ancestors); the demo brand lists none",
    }


def main():
    """Start a server, measure every page and the embed, and print the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1, help="gunicorn workers (default 1)")
    args = parser.parse_args()
    started = time.monotonic()
    with served_demo(args.workers, CONVERSATION_BODY, log) as (server, session, token):
        cache, pages = {}, {}
        for name, path in PAGES:
            pages[name] = measure(session, server.url, path, token, cache)
            log(
                f"{name}: html {pages[name]['html_gzip']} B + css {pages[name]['css_gzip']} B"
                f" = {pages[name]['total_gzip']} B gzipped"
            )
        vendor = vendor_scripts(session, server.url, pages)
        served = {name: as_served(session, server.url, path.format(token=token))
                  for name, path in PAGES}
        for name, figures in served.items():
            log(f"{name} as served: first visit {figures['first_visit_bytes']} B, "
                f"return visit {figures['return_visit_bytes']} B")
        result = {
            "benchmark": "page_weight",
            "units": "bytes",
            "gzip": f"python gzip module, level {GZIP_LEVEL}",
            "floor_bytes": FLOOR_BYTES,
            "counted": "HTML + every linked stylesheet (inside <noscript> too); scripts not counted",
            "pages": pages,
            "all_within_floor": all(p["within_8kb_floor"] for p in pages.values()),
            "largest_total_gzip": max(p["total_gzip"] for p in pages.values()),
            "scripts_not_counted": {
                "files": vendor,
                "linked_total_gzip": sum(v["gzip"] for v in vendor.values() if v["linked_by"]),
                "all_total_gzip": sum(v["gzip"] for v in vendor.values()),
                "note": "self-hosted htmx files, loaded with defer; pages are usable without "
                "them; a file with an empty linked_by is installed but no page links it",
            },
            "server_content_encoding_when_gzip_accepted": server_compresses(session, server.url),
            "as_served": {
                "counted": "bytes on the wire (bodies, not headers) with Accept-Encoding: "
                f"{ACCEPT_ENCODING}; first visit: HTML + every stylesheet (<noscript> too) + "
                "every script; return visit: the HTML + each file whose cache headers make a "
                "browser ask again (with If-None-Match when it has an ETag)",
                "first_visit_floor_bytes": FIRST_VISIT_FLOOR,
                "return_visit_floor_bytes": RETURN_VISIT_FLOOR,
                "pages": served,
                "largest_first_visit_bytes": max(p["first_visit_bytes"] for p in served.values()),
                "largest_return_visit_bytes": max(p["return_visit_bytes"]
                                                  for p in served.values()),
                "all_within_floors": all(p["first_visit_within_25kb_floor"]
                                         and p["return_visit_within_4kb_floor"]
                                         for p in served.values()),
            },
            "embed_snippet": embed_cost(session, server.url),
            "server": {
                "command": "kulak serve",
                "workers": args.workers,
                "worker_class": "gevent",
                "database": "sqlite (temporary instance)",
            },
            "machine": {
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "elapsed_s": None,
        }
        result["elapsed_s"] = round(time.monotonic() - started, 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
