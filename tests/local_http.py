"""An HTTP server of the tests' own on 127.0.0.1, served by a daemon thread.

Stubs, file servers and providers that a real Kinto cannot stand in for are
served this one way: ``with LocalServer(httpd) as server:`` (or ``start()``
and ``stop()``), ``server.url`` being ``http://127.0.0.1:<port>``.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any


class LocalServer:
    """Serve ``httpd`` from :meth:`start` to :meth:`stop` (or for a ``with`` block)."""

    def __init__(self, httpd: socketserver.TCPServer, poll_interval: float = 0.5) -> None:
        self.httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": poll_interval}, daemon=True
        )

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close the socket, and wait for the serving thread."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
