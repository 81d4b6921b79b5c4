"""Authentication objects, and the parsing of every ``auth=`` form the client accepts.

Secrets are kept out of ``repr()`` and ``str()`` so that they never reach a
log line, an exception message or a traceback.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import requests
from requests.auth import AuthBase

__all__ = ["BasicAuth", "BearerTokenAuth", "TokenAuth", "parse_auth", "parse_bearer"]

_BEARER = re.compile(r"^(Bearer(?:\+[A-Za-z0-9_.-]+)?)(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_TOKEN_TYPE = re.compile(r"^Bearer(?:\+[A-Za-z0-9_.-]+)?$", re.IGNORECASE)
#: An HTTP authentication scheme name (RFC 9110 ``token``).
_SCHEME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
#: ``Basic <credentials>``: RFC 7617's base64 ``token68``.
_BASIC = re.compile(r"^(Basic)\s+([A-Za-z0-9+/._~-]+=*)$", re.IGNORECASE)
# ASCII and C1 control characters: in a header value they could end the header
# (CR, LF) or be read differently by the server and the proxies before it.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BasicAuth(AuthBase):
    """HTTP Basic authentication whose password never shows in a repr."""

    def __init__(self, username: str, password: str) -> None:
        self.username = str(username)
        self._header = "Basic " + base64.b64encode(f"{self.username}:{password}".encode()).decode(
            "ascii"
        )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BasicAuth) and other._header == self._header

    def __hash__(self) -> int:
        return hash(self._header)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='***')"


class TokenAuth(AuthBase):
    """``Authorization: <type> <token>`` for any scheme, as kinto-http.py's ``TokenAuth``.

    ``type`` defaults to ``Bearer``; ``TokenAuth(credentials, type='Basic')``
    sends ready-made Basic credentials (what ``auth='Basic <credentials>'``
    gives). The token never shows in a repr or an error message.
    """

    def __init__(self, token: str, type: str | None = None) -> None:
        type = "Bearer" if type is None else type
        if not isinstance(token, str) or not isinstance(type, str):
            raise TypeError("A token and its type must be strings.")
        self._check_type(type)
        if not token.strip() or _CONTROL.search(token) or token != token.strip():
            raise ValueError(
                "A token must be non-empty, without surrounding spaces and without "
                "control characters such as a newline (the token is not shown here)."
            )
        self.type = type
        self._header = f"{type} {token}"

    @staticmethod
    def _check_type(type: str) -> None:
        if not _SCHEME.fullmatch(type):
            raise ValueError(
                f"Unknown token type {type!r}: expected an authentication scheme name "
                "such as 'Bearer' or 'Basic'."
            )

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TokenAuth) and other._header == self._header

    def __hash__(self) -> int:
        return hash(self._header)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(type={self.type!r}, token='***')"


class BearerTokenAuth(TokenAuth):
    """``Authorization: <type> <token>``, e.g. ``Bearer abc`` or ``Bearer+OIDC abc``.

    A :class:`TokenAuth` whose type is ``Bearer`` or ``Bearer+<name>``.
    """

    def __init__(self, token: str, type: str = "Bearer") -> None:
        super().__init__(token, type)

    @staticmethod
    def _check_type(type: str) -> None:
        if not _TOKEN_TYPE.fullmatch(type):
            raise ValueError(f"Unknown token type {type!r}: expected 'Bearer' or 'Bearer+<name>'.")


def parse_bearer(value: str) -> tuple[str, str] | None:
    """Split ``'Bearer <token>'`` (or ``'Bearer+OIDC <token>'``) into ``(type, token)``.

    Returns ``None`` when ``value`` does not start with a Bearer type word, so
    it is no token at all (``'user:password'``). Raises ``ValueError`` when it
    does but the token is missing or holds a control character (a newline...):
    such a value is refused, never read as ``user:password`` instead.

    >>> parse_bearer("Bearer abc")
    ('Bearer', 'abc')
    >>> parse_bearer("alice:s3cr3t") is None
    True
    """
    match = _BEARER.match(value.strip(" "))
    if match is None:
        return None
    token = (match.group(2) or "").strip(" ")
    if not token:
        raise ValueError(f"{match.group(1)!r} needs a token: '{match.group(1)} <token>'.")
    if _CONTROL.search(token):
        raise ValueError(
            "A Bearer token cannot contain control characters such as a newline "
            "(the token is not shown here)."
        )
    return match.group(1), token


def parse_auth(value: Any) -> AuthBase | None:
    """Turn any accepted ``auth`` value into a ``requests`` auth object.

    Accepted: ``None``; a ``(user, password)`` tuple or list of two strings; a
    ``'user:password'`` string; a ``'Bearer <token>'`` string (any
    ``Bearer+X`` type); a ``'Basic <credentials>'`` string (base64, as
    kinto-http.py takes it: a :class:`TokenAuth`); or any ``requests`` auth
    object or callable.
    Raises ``TypeError`` or ``ValueError`` (without the secret) for anything
    else: a ``None`` user or password, a token with a newline...
    """
    if value is None or isinstance(value, AuthBase):
        return value
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"An auth tuple must be (user, password); got {len(value)} items.")
        for name, item in zip(("user", "password"), value):
            if not isinstance(item, str):
                raise TypeError(
                    f"An auth tuple must be (user, password), two strings; its {name} is "
                    f"a {type(item).__name__}."
                )
        return BasicAuth(value[0], value[1])
    if isinstance(value, str):
        bearer = parse_bearer(value)
        if bearer is not None:
            return BearerTokenAuth(bearer[1], type=bearer[0])
        if ":" in value:
            user, password = value.split(":", 1)
            return BasicAuth(user, password)
        basic = _BASIC.fullmatch(value.strip(" "))
        if basic is not None:
            return TokenAuth(basic.group(2), type="Basic")
        raise ValueError(
            "An auth string must be 'user:password', 'Bearer <token>' or 'Basic <base64 "
            "credentials>' (the value given has none of these forms; it is not shown here)."
        )
    if callable(value):
        return value  # type: ignore[no-any-return]
    raise TypeError(
        f"auth must be a (user, password) tuple, a 'user:password', 'Bearer <token>' or "
        f"'Basic <credentials>' string, or a requests auth object; got a {type(value).__name__}."
    )
