"""A TCP forwarder in front of a server that a test can cut (a database outage) and restore."""
import socket
import struct
import threading


def _reset(sock):
    """Close `sock` with a reset, as a restarting server's kernel does, not a polite FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)  # wakes the pump thread blocked in recv()
    except OSError:
        pass
    sock.close()


class TcpProxy:
    """Forward 127.0.0.1:<port> to `upstream`; `cut()` drops every connection and refuses
    new ones until `restore()`."""

    def __init__(self, upstream_host, upstream_port):
        self.upstream = (upstream_host, upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = set()
        self.is_cut = False
        self.refused = 0

    def start(self):
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()
        return self

    def stop(self):
        self.cut()
        self.listener.close()

    def cut(self):
        with self.lock:
            self.is_cut = True
            dropped, self.open = self.open, set()
        for sock in dropped:
            _reset(sock)

    def restore(self):
        with self.lock:
            self.is_cut = False

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return  # the listener was closed: stop()
            with self.lock:
                refuse = self.is_cut
                self.refused += refuse
            if refuse:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self.lock:
                self.open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass  # cut, or the other side went away
        with self.lock:
            self.open -= {source, sink}
        for sock in (source, sink):
            _reset(sock)
