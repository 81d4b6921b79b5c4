"""Browser login with OpenID Connect, through the server's ``kinto.plugins.openid``.

The flow, for a provider named ``google`` on the server:

1. the client listens on a loopback HTTP server (``127.0.0.1``, a random
   port) at a random, unguessable path;
2. it opens the system browser on
   ``{server_url}/openid/google/login?callback=<that URL>&scope=openid email``;
3. the server redirects the browser to the provider; the user logs in; the
   provider redirects back to the server's ``/openid/google/token``, where
   the server trades the code for tokens and redirects the browser to the
   callback with the provider's token answer (JSON, base64, URL-quoted)
   appended to it;
4. the client reads the ``access_token`` there, stops listening, and sends
   ``Authorization: <header type> <access_token>`` on every request.

The access token never appears in a repr, a log line or an exception message.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import http.server
import json
import logging
import secrets
import sys
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import requests
from requests.auth import AuthBase

from kinto_client.exceptions import CapabilityMissing, KintoException

logger = logging.getLogger(__name__)

#: Seconds the login waits for the browser to come back to the callback.
DEFAULT_LOGIN_TIMEOUT = 120.0
#: The scopes asked for by default (Kinto allows ``openid email profile``).
DEFAULT_SCOPE = "openid email"
#: A token is renewed (by a new browser login) this many seconds before it expires.
EXPIRY_MARGIN = 10.0

#: The query parameter of the callback URL that receives the server's answer.
_RESULT = "result"
_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
    "<body><h1>{title}</h1><p>{text}</p></body></html>"
)


class OIDCLoginError(KintoException):
    """The browser login did not give an access token.

    ``error`` is the OAuth error code when the provider or the server gave
    one (``'access_denied'``, ``'invalid_grant'``...), else ``None``.
    """

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class OIDCLoginTimeout(OIDCLoginError):
    """No browser came back to the login callback in time."""


class BrowserOIDCAuth(AuthBase):
    """Log in with a browser on the server's OpenID Connect provider, then send the token.

    Example::

        auth = BrowserOIDCAuth("http://localhost:8888/v1", provider="google")
        client = Client(server_url="http://localhost:8888/v1", auth=auth)

    The first request sent with this auth (or :meth:`login`) opens the
    browser on the server's ``/openid/{provider}/login`` and waits for the
    callback; later requests reuse the token until it expires (by the
    provider's ``expires_in``, minus :data:`EXPIRY_MARGIN` seconds), when
    the next request logs in again.

    :param server_url: the Kinto server's root URL (with its ``/v1``), as
        given to the client.
    :param provider: the provider's name on the server, i.e. the name of its
        ``multiauth.policy.<name>`` (listed in the server's
        ``capabilities.openid.providers``).
    :param scope: space-separated scopes; the server refuses scopes that its
        ``allowed_scopes`` setting lacks.
    :param header_type: the ``Authorization`` scheme, e.g. ``'Bearer+OIDC'``;
        by default the ``header_type`` that the server announces for the
        provider. Kinto 26 always announces ``'Bearer'``, even for a provider
        configured with another ``header_type``: give it here in that case.
    :param timeout: seconds to wait for the browser to complete the login
        (default :data:`DEFAULT_LOGIN_TIMEOUT`); then :exc:`OIDCLoginTimeout`.
    :param open_browser: called with the login URL; returns ``False`` if it
        could not open a browser (then the URL is printed on stderr for the
        user to open). Default (``None``): :func:`webbrowser.open`.
    :param port: the loopback port to listen on; ``0`` (default) picks a
        free one. The server trusts any ``127.0.0.1`` port by default.
    :param verify: TLS verification for reading the server's capabilities,
        as ``requests``' ``verify``.
    :raises ValueError: (at construction) for an argument of the wrong form.
    """

    def __init__(
        self,
        server_url: str,
        provider: str,
        *,
        scope: str = DEFAULT_SCOPE,
        header_type: str | None = None,
        timeout: float = DEFAULT_LOGIN_TIMEOUT,
        open_browser: Callable[[str], object] | None = None,
        port: int = 0,
        verify: bool | str = True,
    ) -> None:
        if not isinstance(server_url, str) or urlsplit(server_url).scheme not in ("http", "https"):
            raise ValueError(
                f"server_url must be the server's http(s) URL, such as "
                f"'http://localhost:8888/v1'; got {server_url!r}."
            )
        if (
            not isinstance(provider, str)
            or not provider
            or "/" in provider
            or provider.strip() != provider
        ):
            raise ValueError(
                f"provider must be the name of an OpenID policy of the server "
                f"(as in its capabilities.openid.providers), such as 'google'; got {provider!r}."
            )
        if not isinstance(scope, str) or not scope.split():
            raise ValueError(
                f"scope must be space-separated scopes, such as 'openid email'; got {scope!r}."
            )
        if header_type is not None and (
            not isinstance(header_type, str) or not header_type or len(header_type.split()) != 1
        ):
            raise ValueError(
                "header_type must be one word, such as 'Bearer' or 'Bearer+OIDC'; "
                f"got {header_type!r}."
            )
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}.")
        if open_browser is not None and not callable(open_browser):
            raise ValueError("open_browser must be a callable taking the login URL.")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) or a port number; got {port!r}.")
        self.server_url = server_url.rstrip("/")
        self.provider = provider
        self.scope = " ".join(scope.split())
        self.timeout = float(timeout)
        self.open_browser = open_browser
        self.port = port
        self.verify = verify
        self._header_type = header_type
        self._auth_path: str | None = None
        self._token: str | None = None
        self._expires_at: float | None = None
        self._lock = threading.Lock()

    # -- public API --------------------------------------------------------------

    @property
    def logged_in(self) -> bool:
        """``True`` while a token is held and not about to expire."""
        return self._token is not None and not self._expired()

    @property
    def header_type(self) -> str | None:
        """The ``Authorization`` scheme sent (known once given or read from the server)."""
        return self._header_type

    def login(self) -> None:
        """Log in now with the browser, replacing any token held.

        :raises CapabilityMissing: the server has no ``openid`` capability.
        :raises OIDCLoginError: the provider is unknown to the server, the
            server could not be read, or the login was refused or failed.
        :raises OIDCLoginTimeout: no browser completed the login within ``timeout``.
        """
        with self._lock:
            self._login()

    def logout(self) -> None:
        """Forget the token: the next request logs in again."""
        with self._lock:
            self._token = None
            self._expires_at = None

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        with self._lock:
            if self._token is None or self._expired():
                self._login()
            assert self._token is not None and self._header_type is not None
            request.headers["Authorization"] = f"{self._header_type} {self._token}"
        return request

    def __repr__(self) -> str:
        return (
            f"BrowserOIDCAuth(server_url={self.server_url!r}, provider={self.provider!r}, "
            f"logged_in={self.logged_in})"
        )

    # -- the flow ----------------------------------------------------------------

    def _expired(self) -> bool:
        return self._expires_at is not None and time.monotonic() >= self._expires_at - EXPIRY_MARGIN

    def _login(self) -> None:
        self._token = None
        self._expires_at = None
        auth_path = self._discover()
        started = time.monotonic()
        nonce = secrets.token_urlsafe(32)
        callback = _CallbackServer(self.port, "/" + nonce)
        try:
            callback_url = f"http://127.0.0.1:{callback.port}/{nonce}?{_RESULT}="
            query = urlencode({"callback": callback_url, "scope": self.scope})
            login_url = f"{self.server_url}{auth_path}?{query}"
            callback.start()
            opened = (self.open_browser or webbrowser.open)(login_url)
            if opened is False:
                print(
                    f"Open this URL in a browser to log in to {self.server_url}:\n{login_url}",
                    file=sys.stderr,
                    flush=True,
                )
            outcome = callback.wait(max(0.0, started + self.timeout - time.monotonic()))
        finally:
            callback.stop()
        if outcome is None:
            raise OIDCLoginTimeout(
                f"No browser completed the OpenID login with provider {self.provider!r} "
                f"of {self.server_url} within {self.timeout:g} seconds; "
                "log in with the browser that opened, or give a larger timeout."
            )
        token, expires_in = self._accept(outcome)
        self._check(token)
        self._token = token
        if expires_in is not None:
            self._expires_at = started + expires_in
        logger.info("Logged in to %s with OpenID provider %r", self.server_url, self.provider)

    def _check(self, token: str) -> None:
        """Make sure that the server takes the token as a user of this provider.

        Kinto prefixes user ids with the policy name (``google:<sub>``). This
        also catches a wrong header type: Kinto 26 announces ``Bearer`` for
        every provider, and another policy of the same issuer could then take
        the token as its own user.
        """
        url = self.server_url + "/"
        try:
            response = requests.get(
                url,
                headers={"Authorization": f"{self._header_type} {token}"},
                timeout=30,
                verify=self.verify,
            )
            response.raise_for_status()
            user = response.json().get("user")
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise OIDCLoginError(
                f"Could not check the new token on {url}: {type(exc).__name__}"
            ) from None
        user_id = user.get("id") if isinstance(user, dict) else None
        if not isinstance(user_id, str) or not user_id.startswith(self.provider + ":"):
            found = f"as the user {user_id!r}" if user_id else "as no user"
            raise OIDCLoginError(
                f"The server {self.server_url} takes the token of provider {self.provider!r}, "
                f"sent as 'Authorization: {self._header_type} <token>', {found}: give the "
                f"header_type of the server's multiauth.policy.{self.provider}.header_type "
                "setting (such as 'Bearer+OIDC') to BrowserOIDCAuth."
            )

    def _discover(self) -> str:
        """The login path for the provider; the header type too, unless given."""
        if self._auth_path is not None:
            return self._auth_path
        url = self.server_url + "/"
        try:
            response = requests.get(url, timeout=30, verify=self.verify)
            response.raise_for_status()
            capabilities = response.json().get("capabilities", {})
        except (requests.RequestException, ValueError, AttributeError) as exc:
            raise OIDCLoginError(
                f"Could not read the OpenID providers of {url}: {type(exc).__name__}: {exc}"
            ) from None
        openid = capabilities.get("openid") if isinstance(capabilities, dict) else None
        if not isinstance(openid, dict):
            raise CapabilityMissing(
                f"The server {self.server_url} has no 'openid' capability: enable the "
                "kinto.plugins.openid plugin and an OpenIDConnectPolicy on it.",
                capability="openid",
                plugin="kinto.plugins.openid",
            )
        providers = [p for p in openid.get("providers", []) if isinstance(p, dict)]
        found = [p for p in providers if p.get("name") == self.provider]
        if not found:
            names = ", ".join(repr(p.get("name")) for p in providers) or "none"
            raise OIDCLoginError(
                f"The server {self.server_url} has no OpenID provider named "
                f"{self.provider!r}; its providers: {names}."
            )
        info = found[0]
        path = info.get("auth_path")
        if not isinstance(path, str) or not path.startswith("/"):
            path = f"/openid/{quote(self.provider, safe='')}/login"
        if self._header_type is None:
            header_type = info.get("header_type")
            self._header_type = (
                header_type if isinstance(header_type, str) and header_type else "Bearer"
            )
        self._auth_path = path
        return path

    def _accept(self, outcome: dict[str, str | None]) -> tuple[str, float | None]:
        """Read the server's answer from the callback: the token and its lifetime."""
        if outcome.get("error") is not None:
            error = outcome["error"]
            description = outcome.get("error_description")
            raise OIDCLoginError(
                f"The OpenID login with provider {self.provider!r} failed: {error}"
                + (f" ({description})" if description else ""),
                error=error,
            )
        try:
            answer = json.loads(base64.b64decode(outcome["result"] or "", validate=True))
        except (binascii.Error, ValueError):
            answer = None
        if not isinstance(answer, dict):
            raise OIDCLoginError(
                f"The OpenID login with provider {self.provider!r} came back with an answer "
                "that is not the provider's token JSON (base64): is the server's "
                "kinto.plugins.openid a version this client knows (Kinto 26)?"
            )
        token = answer.get("access_token")
        if not isinstance(token, str) or not token or len(token.split()) != 1:
            error = answer.get("error")
            if isinstance(error, str):
                description = answer.get("error_description")
                raise OIDCLoginError(
                    f"The OpenID provider {self.provider!r} refused to give a token: {error}"
                    + (f" ({description})" if isinstance(description, str) else ""),
                    error=error,
                )
            raise OIDCLoginError(
                f"The OpenID provider {self.provider!r} gave no usable access_token "
                f"(its answer has the keys: {', '.join(sorted(map(str, answer))) or 'none'})."
            )
        expires_in = answer.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            return token, float(expires_in)
        return token, None


class _CallbackServer:
    """A one-shot loopback HTTP server that waits for the login's callback.

    Only a GET on ``path`` (random, never guessed) with the result parameter
    counts; any other request is answered 404 (or 400) and ignored, so that a
    forged request cannot end the login or inject a token.
    """

    def __init__(self, port: int, path: str) -> None:
        self.path = path
        self.outcome: dict[str, str | None] | None = None
        self.done = threading.Event()
        self._lock = threading.Lock()
        # Threads: a browser's idle pre-connection must not block the real callback.
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self, timeout: float) -> dict[str, str | None] | None:
        self.done.wait(timeout)
        return self.outcome

    def stop(self) -> None:
        if self.thread.is_alive():
            self.httpd.shutdown()
            self.thread.join()
        self.httpd.server_close()

    def receive(self, target: str) -> tuple[int, str, str]:
        """Handle one request path; returns (status, page title, page text)."""
        parts = urlsplit(target)
        if not hmac.compare_digest(parts.path.encode(), self.path.encode()):
            return 404, "Not found", "This is not a login callback."
        values = parse_qs(parts.query, keep_blank_values=True)
        result = values.get(_RESULT, [None])[0]
        with self._lock:
            if result is None or self.outcome is not None:
                return 400, "Bad request", "This login callback is not complete, or already used."
            if result.startswith("error="):
                # Kinto appends urlencode({'error': ..., 'error_description': ...}) to the callback.
                description = values.get("error_description", [None])[0]
                self.outcome = {"error": result[len("error=") :], "error_description": description}
                page = (200, "Login failed", "The login failed; see the program's error message.")
            else:
                self.outcome = {"result": result}
                page = (200, "Logged in", "You are logged in: you may close this window.")
            self.done.set()
        return page


def _make_handler(server: _CallbackServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, title, text = server.receive(self.path)
            body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # The request line holds the token: never log it.

    return Handler
