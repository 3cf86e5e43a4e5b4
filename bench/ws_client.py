"""Open client WebSockets on raw sockets under gevent (RFC 6455, client side only)."""

# The scripts that import this module call `gevent.monkey.patch_all()` before anything else,
# so that one process can hold thousands of WebSockets, each read by its own greenlet. The
# client does the handshake, reads unmasked server frames, answers pings, and hands each text
# frame to a callback together with the moment `recv()` returned its last bytes, so latency is
# measured where the bytes arrive, before any parsing of the HTML.

import base64
import hashlib
import os
import socket
import struct
import time

import gevent
import gevent.event
from gevent.pool import Pool

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(Exception):
    """The server did not answer the upgrade with 101 Switching Protocols."""


class WSClient:
    """One client WebSocket on a raw TCP socket, read by its own greenlet."""

    __slots__ = (
        "label", "conversation_id", "sock", "frames", "bytes", "closed", "close_code",
        "on_text", "first_frame", "reader", "seen", "opened_at",
    )

    def __init__(self, label, conversation_id=None, on_text=None):
        self.label = label  # "customer", "staff" or "inbox"
        self.conversation_id = conversation_id
        self.on_text = on_text  # callback(client, payload bytes, arrival perf_counter)
        self.sock = None
        self.frames = 0
        self.bytes = 0
        self.closed = False
        self.close_code = None
        self.first_frame = gevent.event.Event()
        self.reader = None
        self.seen = set()  # markers this socket has already shown (latency bookkeeping)
        self.opened_at = None

    def connect(self, port, path, headers=(), timeout=30):
        """Open the TCP connection, upgrade it, and start the reading greenlet."""
        key = base64.b64encode(os.urandom(16))
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers)
            + "\r\n"
        ).encode()
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(request)
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = sock.recv(65536)
            if not chunk:
                sock.close()
                raise HandshakeError(f"connection closed during the handshake: {buffer[:200]!r}")
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status_line = head.split(b"\r\n", 1)[0]
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if b" 101 " not in status_line + b" " or accept not in head:
            sock.close()
            raise HandshakeError(status_line.decode(errors="replace"))
        sock.settimeout(None)
        self.sock = sock
        self.opened_at = time.perf_counter()
        self.reader = gevent.spawn(self._read, bytearray(rest))

    def _send(self, opcode, payload=b""):
        """Send one masked frame (clients must mask)."""
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def send_text(self, text):
        """Send one text frame."""
        self._send(0x1, text.encode())

    def _read(self, buffer):
        """Read frames until the connection ends: text to the callback, pings answered."""
        fragments = []
        arrived = time.perf_counter()
        try:
            while True:
                while True:  # parse every complete frame in the buffer
                    if len(buffer) < 2:
                        break
                    b0, b1 = buffer[0], buffer[1]
                    length, offset = b1 & 0x7F, 2
                    if length == 126:
                        if len(buffer) < 4:
                            break
                        length, offset = struct.unpack_from("!H", buffer, 2)[0], 4
                    elif length == 127:
                        if len(buffer) < 10:
                            break
                        length, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
                    if b1 & 0x80:  # servers must not mask; tolerate it anyway
                        offset += 4
                    if len(buffer) < offset + length:
                        break
                    payload = bytes(buffer[offset : offset + length])
                    del buffer[: offset + length]
                    opcode, fin = b0 & 0x0F, b0 & 0x80
                    if opcode in (0x1, 0x2, 0x0):
                        fragments.append(payload)
                        if fin:
                            message = b"".join(fragments)
                            fragments = []
                            self.frames += 1
                            self.bytes += len(message)
                            self.first_frame.set()
                            if self.on_text is not None:
                                self.on_text(self, message, arrived)
                    elif opcode == 0x9:  # ping
                        self._send(0xA, payload)
                    elif opcode == 0x8:  # close: answer and stop
                        self.close_code = struct.unpack("!H", payload[:2])[0] if payload else None
                        try:
                            self._send(0x8, payload[:2])
                        except OSError:
                            pass
                        return
                chunk = self.sock.recv(262144)
                arrived = time.perf_counter()
                if not chunk:
                    return
                buffer += chunk
        except OSError:
            return
        finally:
            self.closed = True
            self.first_frame.set()
            try:
                self.sock.close()
            except OSError:
                pass

    def close(self):
        """Send a close frame and end the connection."""
        if self.sock is None or self.closed:
            return
        try:
            self._send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


def open_sockets(port, specs, concurrency=50, timeout=30, on_text=None):
    """Open one socket per (label, conversation_id, path, headers); return (clients, errors)."""
    # Every Kulak socket first receives its resync fragment, which the server renders after
    # joining the hub: a socket counts as open (subscribed) once that first frame has arrived.
    clients, errors = [], []

    def open_one(spec):
        label, conversation_id, path, headers = spec
        client = WSClient(label, conversation_id, on_text)
        try:
            client.connect(port, path, headers, timeout=timeout)
            if not client.first_frame.wait(timeout) or client.closed:
                raise HandshakeError(f"no first frame (close code {client.close_code})")
        except (OSError, HandshakeError) as error:
            errors.append(f"{label}: {type(error).__name__}: {error}"[:200])
            client.close()
            return
        clients.append(client)

    Pool(concurrency).map(open_one, specs)
    return clients, errors

