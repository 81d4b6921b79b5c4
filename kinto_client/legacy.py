"""kinto-client 4.0's session interface, carried as a sender.

In 4.0 a client called ``session.request(method, endpoint, data=...,
permissions=..., headers=..., params=...)`` and got ``(body, headers)``
back: any object with that method could be a client's session, and test
suites replaced ``client.session`` with a mock. :class:`LegacySession` wraps
such an object so that the client's requests reach it through that same
call, with the arguments 4.0 gave it. Attributes it does not define (the
mock's ``request``, a custom session's settings) are the wrapped object's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kinto_client.exceptions import KintoException, KintoHTTPError
from kinto_client.pipeline import Request, Response

__all__ = ["LegacySession", "is_sender"]

_WRITES = frozenset({"PUT", "PATCH", "POST"})


def is_sender(value: Any) -> bool:
    """Whether ``value`` carries :class:`~kinto_client.pipeline.Request` values itself
    (its class defines ``dispatch``), or needs :class:`LegacySession` around it."""
    return callable(getattr(type(value), "dispatch", None))


class LegacySession:
    """A sender around an object with 4.0's ``request()`` method."""

    def __init__(self, session: Any) -> None:
        object.__setattr__(self, "wrapped", session)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.wrapped, name, value)

    def __repr__(self) -> str:
        return f"<LegacySession {self.wrapped!r}>"

    @property
    def server_url(self) -> str:
        return str(getattr(self.wrapped, "server_url", ""))

    def dispatch(self, request: Request) -> Response:
        """Call the wrapped ``request()`` as kinto-client 4.0 did."""
        method, path = request.method, request.path
        body = request.body if isinstance(request.body, Mapping) else {}
        try:
            if path.rstrip("/").endswith("/batch") and method == "POST":
                answer, headers = self.wrapped.request(
                    method="POST", endpoint=path, payload=dict(body)
                )
            elif method in _WRITES:
                answer, headers = self.wrapped.request(
                    method.lower(),
                    path,
                    data=body.get("data"),
                    permissions=body.get("permissions"),
                    headers=_headers(request),
                )
            elif method == "DELETE":
                answer, headers = self.wrapped.request("delete", path, headers=_headers(request))
            elif request.query is not None or request.headers:
                answer, headers = self.wrapped.request(
                    method.lower(), path, headers=_headers(request) or {}, params=request.query
                )
            else:
                answer, headers = self.wrapped.request(method.lower(), path)
        except KintoException as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status is None or isinstance(exc, KintoHTTPError):
                raise
            # 4.0 raised a plain KintoException with the response: an HTTP error.
            error = KintoHTTPError(str(exc), exc)
            if isinstance(status, int) and status in request.tolerate:
                return Response(status, {}, None, error=error)
            raise error from None
        not_modified = answer is None and request.headers and "If-None-Match" in request.headers
        return Response(304 if not_modified else 200, headers or {}, answer)

    def copy(self, **changes: Any) -> LegacySession:
        raise KintoException(
            f"This client's session is not a kinto_client Session: it cannot take new "
            f"settings ({', '.join(sorted(changes))}). Clone it with session= instead."
        )

    def results(self) -> list[Any]:
        raise KintoException("results() is only available on a batch client.")

    def failures(self) -> list[dict[str, Any]]:
        raise KintoException("failures() is only available on a batch client.")

    def close(self) -> None:
        close = getattr(self.wrapped, "close", None)
        if callable(close):
            close()


def _headers(request: Request) -> dict[str, str] | None:
    headers = {k: v for k, v in (request.headers or {}).items() if k != "Content-Type"}
    return headers or None
