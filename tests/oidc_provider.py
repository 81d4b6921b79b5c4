"""A small OpenID Connect provider on 127.0.0.1, for Kinto's ``kinto.plugins.openid``.

It serves what the plugin (Kinto 26) uses, and checks what a real provider checks:

- ``GET /.well-known/openid-configuration``: the discovery document (read by
  Kinto at startup);
- ``GET /authorize``: the browser arrives here from Kinto's
  ``/openid/{provider}/login`` with ``client_id``, ``response_type=code``,
  ``scope``, ``redirect_uri`` and ``state``; the "user" (``self.user``) is
  logged in at once and the browser redirected (302) to ``redirect_uri`` with a
  one-time ``code`` and the same ``state``; or, when ``self.deny`` is set, with
  ``error=access_denied``;
- ``POST /token``: Kinto trades the code (form body: ``code``, ``client_id``,
  ``client_secret``, ``redirect_uri``, ``grant_type=authorization_code``) for
  ``{"access_token", "token_type": "Bearer", "expires_in"}``; a wrong client,
  an unknown or reused code or another ``redirect_uri`` gets the OAuth error
  JSON (400/401);
- ``GET /userinfo`` with ``Authorization: Bearer <access_token>``: Kinto checks
  each new token here and takes the user id from it (``sub``); 401 otherwise;
- ``GET /jwks``: an empty key set (the plugin only reads it when an
  ``audience`` is configured, which the tests do not).

No ``id_token`` is issued: the plugin never reads it (it forwards the token
answer as is), and neither does the client.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from local_http import LocalServer


class OIDCProvider:
    """The provider, in a daemon thread; ``stop()`` shuts it down."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        #: The claims of the user who logs in at the next ``/authorize``.
        self.user: dict[str, Any] = {"sub": "mat", "email": "mat@example.com"}
        #: When true, ``/authorize`` answers ``access_denied``.
        self.deny = False
        #: The ``expires_in`` of the next tokens.
        self.expires_in = 3600
        #: Each ``/authorize`` request's query (for the tests to check).
        self.authorize_requests: list[dict[str, str]] = []
        self._codes: dict[str, tuple[str, dict[str, Any]]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        httpd.daemon_threads = True
        self._server = LocalServer(httpd)
        self.issuer = self._server.url

    def start(self) -> OIDCProvider:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": self.issuer + "/authorize",
            "token_endpoint": self.issuer + "/token",
            "userinfo_endpoint": self.issuer + "/userinfo",
            "jwks_uri": self.issuer + "/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.authorize_requests.append(query)
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != self.client_id or not redirect_uri.startswith("http"):
            return 400, {}, {"error": "invalid_request", "error_description": "unknown client"}
        if query.get("response_type") != "code" or "openid" not in query.get("scope", "").split():
            params = {"error": "invalid_request", "state": query.get("state", "")}
        elif self.deny:
            params = {
                "error": "access_denied",
                "error_description": "The user refused",
                "state": query.get("state", ""),
            }
        else:
            code = secrets.token_urlsafe(16)
            with self._lock:
                self._codes[code] = (redirect_uri, dict(self.user))
            params = {"code": code, "state": query.get("state", "")}
        separator = "&" if "?" in redirect_uri else "?"
        return 302, {"Location": redirect_uri + separator + urlencode(params)}, None

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return 401, {}, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {}, {"error": "unsupported_grant_type"}
        with self._lock:
            redirect_uri, user = self._codes.pop(form.get("code", ""), (None, None))
        if user is None or form.get("redirect_uri") != redirect_uri:
            return 400, {}, {"error": "invalid_grant"}
        access_token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[access_token] = user
        answer = {"access_token": access_token, "token_type": "Bearer"}
        answer["expires_in"] = self.expires_in
        return 200, {"Cache-Control": "no-store"}, answer

    def userinfo(self, authorization: str) -> tuple[int, dict[str, str], Any]:
        scheme, _, token = authorization.partition(" ")
        with self._lock:
            user = self._tokens.get(token) if scheme == "Bearer" else None
        if user is None:
            return 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, None
        return 200, {}, user


def _handler(provider: OIDCProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if parts.path == "/.well-known/openid-configuration":
                self.answer(200, {}, provider.discovery())
            elif parts.path == "/authorize":
                self.answer(*provider.authorize(query))
            elif parts.path == "/userinfo":
                self.answer(*provider.userinfo(self.headers.get("Authorization", "")))
            elif parts.path == "/jwks":
                self.answer(200, {}, {"keys": []})
            else:
                self.answer(404, {}, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            form = {k: v[0] for k, v in parse_qs(body).items()}
            if urlsplit(self.path).path == "/token":
                self.answer(*provider.token(form))
            else:
                self.answer(404, {}, {"error": "not found"})

        def answer(self, status: int, headers: dict[str, str], body: Any) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
