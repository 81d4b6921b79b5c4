"""A small fault-injecting HTTP proxy for the fault tests (standard library only).

It listens on 127.0.0.1 on a free port and forwards every request to a real
Kinto server, unless a scripted fault says otherwise. Faults are scripted per
test with :meth:`FaultProxy.add` (first matching rule wins, each fires
``times`` times after letting ``skip`` matching requests through):

- ``respond``: answer with a status, headers and body without forwarding
  (503 with or without ``Retry-After``, an HTML 502...);
- ``drop_before``: close the connection without forwarding;
- ``drop_after``: forward (the write is committed), then close the
  connection without replying (the reply is lost);
- ``fail_after``: forward (the write is committed), then answer ``status``
  instead of the server's reply (a gateway timing out, 504);
- ``delay``: forward, then wait ``delay`` seconds before replying (beyond
  the client's timeout);
- ``headers``: forward and add headers to the reply (``Backoff``, ``Alert``);
- ``batch``: a ``POST /batch`` holding sub-requests that match
  ``sub_match``: those are not forwarded and are answered ``status`` (with
  ``headers``) instead; the others are forwarded and answered by the server;
- ``set_headers``: forward and set headers on the reply, replacing the
  server's ones of the same name (a ``Next-Page`` of the test's choosing);
- ``drip``: forward (or, with ``body``, answer ``status`` with that body),
  then send the body one byte every ``delay`` seconds;
- ``cut_length``: forward, then send only the first half of the body under
  the full ``Content-Length``, and close the connection;
- ``cut_chunked``: forward, then send the first half of the body as one
  chunk (``Transfer-Encoding: chunked``) and close without the last chunk;
- ``bad_gzip``: forward, then send the reply as ``Content-Encoding: gzip``
  with a body that is not gzip.

Any rule may carry ``on_fire``, a function called (in the proxy's thread)
when it fires, before the fault: another client's write between two
attempts, for instance.

``POST .../__echo__`` is answered by the proxy itself with the length and
text of the body it received (for upload tests). The proxy counts requests
per method and path, the TCP connections it accepted (``accepted``) and
served (``connections``, one per keep-alive connection), and can serve TLS.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "accept-encoding",
    }
)

HTML_502 = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>"
    b"</body></html>"
)


def batch_subs(payload: Any) -> list[dict[str, Any]]:
    """The sub-requests of a ``POST /batch`` body as the server reads them:
    ``defaults`` merged into each one (a sub-request's own values win)."""
    defaults = payload.get("defaults") or {}
    return [_merged(sub, defaults) for sub in payload["requests"]]


def _merged(sub: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    merged = dict(sub)
    for key, value in defaults.items():
        if isinstance(value, dict):
            merged[key] = _merged(merged.get(key) or {}, value)
        else:
            merged.setdefault(key, value)
    return merged


@dataclass
class Seen:
    """One request the proxy received."""

    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    fault: str | None = None


@dataclass
class Rule:
    """A scripted fault; see the module docstring for the actions."""

    action: str
    method: str | None = None
    path: str | None = None
    times: int = 1
    skip: int = 0
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0
    sub_match: Callable[[dict[str, Any]], bool] | None = None
    on_fire: Callable[[], Any] | None = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.path is None or self.path in path


class FaultProxy:
    """A scriptable proxy in front of ``upstream`` (e.g. ``http://127.0.0.1:8888/v1``).

    ``url`` is the proxy's URL with the upstream's path prefix. With
    ``tls=(certfile, keyfile)`` it serves HTTPS instead; with ``client_ca``
    too (a CA file), only to clients showing a certificate it signed (mTLS).
    """

    def __init__(
        self, upstream: str, tls: tuple[str, str] | None = None, client_ca: str | None = None
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.rules: list[Rule] = []
        self.seen: list[Seen] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        #: TCP connections accepted (TLS handshakes that failed included).
        self.accepted = 0
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        if tls is not None:
            self._server.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._server.tls.load_cert_chain(*tls)
            if client_ca is not None:
                self._server.tls.verify_mode = ssl.CERT_REQUIRED
                self._server.tls.load_verify_locations(client_ca)
        host, port = self._server.server_address[:2]
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://{host}:{port}{parts.path.rstrip('/')}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every connection this proxy accepted."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=5)

    # -- scripting -----------------------------------------------------------------

    def add(self, action: str, **options: Any) -> Rule:
        """Script a fault (see :class:`Rule`); returns it (``rule.fired`` counts hits)."""
        rule = Rule(action, **options)
        with self._lock:
            self.rules.append(rule)
        return rule

    def reset(self) -> None:
        """Forget the rules and the requests seen (connections are kept)."""
        with self._lock:
            self.rules.clear()
            self.seen.clear()

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matched ``method`` and contained ``path``."""
        with self._lock:
            return sum(
                1
                for s in self.seen
                if (method is None or s.method == method) and (path is None or path in s.path)
            )

    @property
    def open_connections(self) -> int:
        """Client connections currently open."""
        with self._lock:
            return len(self._sockets)

    def wait_for_open_connections(self, expected: int, timeout: float = 10.0) -> int:
        """Wait until ``expected`` connections are open (or ``timeout``); return the count."""
        deadline = time.monotonic() + timeout
        while self.open_connections != expected and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.open_connections

    def requests(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        with self._lock:
            return [
                s
                for s in self.seen
                if (method is None or s.method == method) and (path is None or path in s.path)
            ]

    # -- used by the handler ---------------------------------------------------------

    def _pick(self, method: str, path: str, subs: list[dict[str, Any]] | None) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.action == "batch" and not (
                    subs and rule.sub_match and any(rule.sub_match(sub) for sub in subs)
                ):
                    continue
                if not rule.matches(method, path) or rule.fired >= rule.times + rule.skip:
                    continue
                rule.fired += 1
                if rule.fired > rule.skip:
                    return rule
                return None
        return None

    def _record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def _connected(self, sock: socket.socket) -> int:
        with self._lock:
            self.connections += 1
            self._sockets.add(sock)
            return self.connections

    def _disconnected(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        upstream = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            upstream.request(method, path, body=body or None, headers=headers)
            reply = upstream.getresponse()
            return reply.status, reply.getheaders(), reply.read()
        finally:
            upstream.close()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy
    tls: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        with self.proxy._lock:
            self.proxy.accepted += 1
        if self.tls is not None:
            sock.settimeout(5)  # the handshake runs in the serving thread
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
                sock.settimeout(None)
            except OSError:
                sock.close()
                raise
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timeout) is expected here


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection_id = self.server.proxy._connected(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._disconnected(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        proxy = self.server.proxy
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        method, path = self.command, self.path
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        subs = None
        if method == "POST" and urlsplit(path).path.endswith("/batch"):
            subs = json.loads(body).get("requests")
        rule = proxy._pick(method, path, subs)
        proxy._record(
            Seen(self.connection_id, method, path, headers, body, rule.action if rule else None)
        )
        action = rule.action if rule else "forward"
        if rule is not None and rule.on_fire is not None:
            rule.on_fire()

        if action == "drip" and rule is not None and rule.body is not None:
            self._drip(rule, [("Content-Type", "application/octet-stream")], rule.body)
            return
        if action == "respond":
            assert rule is not None
            reply_body = rule.body if rule.body is not None else _error_body(rule.status)
            default_type = "application/json" if rule.body is None else "text/html"
            reply_headers = {"Content-Type": default_type, **rule.headers}
            self._reply(rule.status, list(reply_headers.items()), reply_body)
            return
        if action == "drop_before":
            self.close_connection = True
            return
        if urlsplit(path).path.endswith("/__echo__"):
            echo = {"length": len(body), "body": body.decode("latin-1")}
            self._reply(200, [("Content-Type", "application/json")], json.dumps(echo).encode())
            return
        if action == "batch":
            assert rule is not None
            status, reply_headers, reply_body = self._faulty_batch(rule, headers, body)
        else:
            status, reply_headers, reply_body = proxy.forward(method, path, headers, body)
        if action == "drop_after":
            self.close_connection = True
            return
        if action == "fail_after":
            assert rule is not None
            status = rule.status
            reply_headers = [("Content-Type", "application/json"), *rule.headers.items()]
            reply_body = rule.body if rule.body is not None else _error_body(rule.status)
        if action == "delay":
            assert rule is not None
            proxy._stopping.wait(rule.delay)
        if action == "headers":
            assert rule is not None
            reply_headers = [*reply_headers, *rule.headers.items()]
        if action == "set_headers":
            assert rule is not None
            names = {name.lower() for name in rule.headers}
            reply_headers = [h for h in reply_headers if h[0].lower() not in names]
            reply_headers += list(rule.headers.items())
        if action in ("drip", "cut_length", "cut_chunked", "bad_gzip"):
            assert rule is not None
            getattr(self, "_" + action)(rule, reply_headers, reply_body, status)
            return
        self._reply(status, reply_headers, reply_body)

    def _start_reply(
        self, status: int, headers: list[tuple[str, str]], extra: list[tuple[str, str]]
    ) -> None:
        self.send_response_only(status)
        for name, value in [*headers, *extra]:
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("date", "server"):
                self.send_header(name, value)
        for name, value in extra:
            if name.lower() in _HOP_BY_HOP:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def _drip(
        self, rule: Rule, headers: list[tuple[str, str]], body: bytes, status: int = 200
    ) -> None:
        self.close_connection = True
        status = rule.status if rule.body is not None else status
        self._start_reply(status, headers, [("Content-Length", str(len(body)))])
        try:
            for i in range(len(body)):
                if self.server.proxy._stopping.wait(rule.delay):
                    return
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
        except OSError:
            pass  # the client gave up

    def _cut_length(
        self, rule: Rule, headers: list[tuple[str, str]], body: bytes, status: int
    ) -> None:
        self.close_connection = True
        self._start_reply(status, headers, [("Content-Length", str(len(body)))])
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()

    def _cut_chunked(
        self, rule: Rule, headers: list[tuple[str, str]], body: bytes, status: int
    ) -> None:
        self.close_connection = True
        self._start_reply(status, headers, [("Transfer-Encoding", "chunked")])
        half = body[: len(body) // 2]
        self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
        self.wfile.flush()

    def _bad_gzip(
        self, rule: Rule, headers: list[tuple[str, str]], body: bytes, status: int
    ) -> None:
        garbage = b"this is not gzip " + body[:40]
        headers = [h for h in headers if h[0].lower() != "content-encoding"]
        self._reply(status, [*headers, ("Content-Encoding", "gzip")], garbage)

    def _faulty_batch(
        self, rule: Rule, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Answer the matching sub-requests with ``rule.status``; forward the others."""
        assert rule.sub_match is not None
        payload = json.loads(body)
        subs = batch_subs(payload)
        faulted = [bool(rule.sub_match(sub)) for sub in subs]
        forwarded = [sub for sub, bad in zip(subs, faulted) if not bad]
        answers: list[Any] = []
        reply_headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
        if forwarded:
            upstream_body = json.dumps({"requests": forwarded}).encode()
            status, reply_headers, raw = self.server.proxy.forward(
                "POST", self.path, headers, upstream_body
            )
            if status != 200:
                return status, reply_headers, raw
            answers = list(json.loads(raw)["responses"])
        responses = []
        for sub, bad in zip(subs, faulted):
            if bad:
                responses.append(
                    {
                        "status": rule.status,
                        "path": sub["path"],
                        "headers": dict(rule.headers),
                        "body": json.loads(_error_body(rule.status)),
                    }
                )
            else:
                responses.append(answers.pop(0))
        return 200, reply_headers, json.dumps({"responses": responses}).encode()

    def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.send_response_only(status)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() not in ("date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


def _error_body(status: int) -> bytes:
    message = http.HTTPStatus(status).phrase if status in http.HTTPStatus._value2member_map_ else ""
    return json.dumps(
        {"code": status, "errno": 201, "error": message, "message": "Injected by the fault proxy"}
    ).encode()


@contextlib.contextmanager
def running(
    upstream: str, tls: tuple[str, str] | None = None, client_ca: str | None = None
) -> Iterator[FaultProxy]:
    """A started proxy in front of ``upstream``, stopped (only it) on exit."""
    proxy = FaultProxy(upstream, tls=tls, client_ca=client_ca).start()
    try:
        yield proxy
    finally:
        proxy.stop()
