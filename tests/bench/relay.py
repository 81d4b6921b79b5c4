"""A tiny TCP relay on 127.0.0.1 that counts connections and HTTP requests.

The benchmark puts one in front of each Kinto server, so the connection and
request counts come from the wire, with nothing patched in the client. It
forwards bytes unchanged, one thread per direction and connection; requests
are counted by following HTTP/1.1 framing (headers, then ``Content-Length``
bytes of body) on the client-to-server side.
"""

from __future__ import annotations

import socket
import threading

_CHUNK = 1 << 18


class CountingRelay:
    """Listen on a free 127.0.0.1 port and forward every connection to ``target_port``."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self.connections = 0
        self.requests = 0
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def start(self) -> CountingRelay:
        self._thread.start()
        return self

    def reset(self) -> tuple[int, int]:
        """Return ``(connections, requests)`` since the last reset, and zero them."""
        with self._lock:
            counts = (self.connections, self.requests)
            self.connections = self.requests = 0
        return counts

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for sock in (downstream, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
            threading.Thread(
                target=self._pump_requests, args=(downstream, upstream), daemon=True
            ).start()
            threading.Thread(target=self._pump, args=(upstream, downstream), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _shut(sink)

    def _pump_requests(self, source: socket.socket, sink: socket.socket) -> None:
        buffer = b""
        body_left = 0
        try:
            while data := source.recv(_CHUNK):
                sink.sendall(data)
                buffer += data
                while True:
                    if body_left:
                        taken = min(body_left, len(buffer))
                        buffer, body_left = buffer[taken:], body_left - taken
                        if body_left:
                            break
                    end = buffer.find(b"\r\n\r\n")
                    if end < 0:
                        break
                    head, buffer = buffer[:end], buffer[end + 4 :]
                    body_left = _content_length(head)
                    with self._lock:
                        self.requests += 1
        except OSError:
            pass
        finally:
            _shut(sink)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
