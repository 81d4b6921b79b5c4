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

_BEARER = re.compile(r"^(Bearer(?:\+[A-Za-z0-9_.-]+)?)\s+(\S.*)$", re.IGNORECASE)


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


class BearerTokenAuth(AuthBase):
    """``Authorization: <type> <token>``, e.g. ``Bearer abc`` or ``Bearer+OIDC abc``."""

    def __init__(self, token: str, type: str = "Bearer") -> None:
        self.type = type
        self._header = f"{type} {token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BearerTokenAuth) and other._header == self._header

    def __hash__(self) -> int:
        return hash(self._header)

    def __repr__(self) -> str:
        return f"BearerTokenAuth(type={self.type!r}, token='***')"


def parse_auth(value: Any) -> AuthBase | None:
    """Turn any accepted ``auth`` value into a ``requests`` auth object.

    Accepted: ``None``; a ``(user, password)`` tuple or list; a
    ``'user:password'`` string; a ``'Bearer <token>'`` string (any
    ``Bearer+X`` type); or any ``requests`` auth object or callable.
    """
    if value is None or isinstance(value, AuthBase):
        return value
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"An auth tuple must be (user, password); got {len(value)} items.")
        return BasicAuth(value[0], value[1])
    if isinstance(value, str):
        bearer = _BEARER.match(value.strip())
        if bearer:
            return BearerTokenAuth(bearer.group(2).strip(), type=bearer.group(1))
        if ":" in value:
            user, password = value.split(":", 1)
            return BasicAuth(user, password)
        raise ValueError(
            "An auth string must be 'user:password' or 'Bearer <token>' "
            "(the value given has neither form; it is not shown here)."
        )
    if callable(value):
        return value  # type: ignore[no-any-return]
    raise TypeError(
        f"auth must be a (user, password) tuple, a 'user:password' or 'Bearer <token>' "
        f"string, or a requests auth object; got a {type(value).__name__}."
    )
