"""Real local receivers for what Kulak sends out: an SMTP server and an HTTP endpoint."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class SmtpInbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd) that keeps every message it is given."""

    def __init__(self, port, host="127.0.0.1"):
        # Imported here: aiosmtpd is a test extra, and the benchmarks need only HttpReceiver.
        from aiosmtpd.controller import Controller
        self.messages = []
        self.port = port
        self.controller = Controller(self, hostname=host, port=port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append({"to": envelope.rcpt_tos,
                              "content": envelope.content.decode("utf-8", "replace")})
        return "250 OK"

    def url(self, to):
        """The Apprise URL that sends email to `to` through this server."""
        return f"mailto://127.0.0.1:{self.port}?from=kulak@example.com&to={to}"

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()


class HttpReceiver:
    """An HTTP server on `host` (127.0.0.1) that records every POST; answers `status` (200),
    or a redirect to `redirect_to` when that is set."""

    def __init__(self, host="127.0.0.1"):
        self.requests, self.status, self.delay = [], 200, 0.0
        self.redirect_to = None
        # Statuses to answer in turn before falling back to `status`, e.g. [500, 500].
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                # `wall`: to compare with times the database stamped.
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body, "at": time.monotonic(),
                                          "wall": time.time()})
                time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else receiver.status
                try:
                    self.send_response(307 if receiver.redirect_to else status)
                    if receiver.redirect_to:
                        self.send_header("Location", receiver.redirect_to)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the client gave up waiting
                    pass

            def log_message(self, *args):
                pass

            do_GET = do_POST  # noqa: N815 - e.g. json://...?method=GET

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]

    def json_bodies(self, path=None):
        return [json.loads(r["body"]) for r in self.requests if path in (None, r["path"])]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def wait_for(condition, seconds=10):
    """Poll `condition` until it is true or `seconds` pass; return its last value."""
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return value
