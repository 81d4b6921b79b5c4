"""The exceptions raised by kinto_client.

Every error the library raises on purpose is a :class:`KintoException`.
Transport failures also subclass the matching ``requests`` exception, so
code written to catch ``requests.ConnectionError`` keeps working.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests


class KintoException(Exception):
    """A request failed, or the call could not be turned into a request.

    ``request`` and ``response`` hold the HTTP exchange when there was one
    (``requests.PreparedRequest`` / ``requests.Response``, or, inside a batch,
    the sub-request and sub-response dicts). As in kinto-client 4.0, an
    exception without one has no such attribute (``hasattr(exc, 'response')``
    is false); :class:`KintoHTTPError` and :class:`BucketNotFound` always
    have both (``None`` when unknown).
    """

    request: Any
    response: Any
    #: whether the failed request may have been applied all the same (its
    #: reply was lost, or a 5xx came after it may have reached the server)
    may_have_landed: bool = False

    def __init__(self, message: str | None = None, exception: BaseException | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.exception = exception
        if exception is not None:
            request = getattr(exception, "request", None)
            response = getattr(exception, "response", None)
            if request is not None:
                self.request = request
            if response is not None:
                self.response = response

    def __str__(self) -> str:
        return "" if self.message is None else self.message


class MissingId(KintoException, KeyError):
    """An operation needs an object id and none was given (a ``KeyError`` too).

    Its text reads as kinto-client 4.0's ``KeyError`` did (quoted).
    """

    def __str__(self) -> str:
        return KeyError.__str__(self)


class KintoHTTPError(KintoException):
    """The server answered with a status outside 200-399."""

    request: Any = None
    response: Any = None

    @property
    def status_code(self) -> int | None:
        return getattr(self.response, "status_code", None)


class BucketNotFound(KintoHTTPError):
    """The bucket does not exist or cannot be read by these credentials.

    Raised by :meth:`~kinto_client.Client.get_bucket` for a 403 or 404
    answer: a :class:`KintoHTTPError` (with ``status_code``, ``request`` and
    ``response``), so ``except KintoHTTPError`` catches it too. As in
    kinto-client 4.0, ``message`` is the bucket's name; ``str()`` says what
    happened.
    """

    def __str__(self) -> str:
        status = f" ({self.status_code})" if self.status_code else ""
        return f"Bucket {self.message!r} not found, or not readable with these credentials{status}."


class CollectionNotFound(KintoHTTPError):
    """The collection (or its bucket) does not exist or cannot be read.

    Raised by :meth:`~kinto_client.Client.get_collection` for a 403 or 404
    answer, as kinto-http.py raises its ``CollectionNotFound``: a
    :class:`KintoHTTPError` (with ``status_code``, ``request`` and
    ``response``), so code catching ``KintoHTTPError`` or ``KintoException``
    (all that kinto-client 4.0 raised there) catches it too. ``message`` is
    the collection's name, ``bucket`` its bucket's; ``str()`` says what
    happened.
    """

    def __init__(
        self,
        message: str | None = None,
        exception: BaseException | None = None,
        *,
        bucket: str | None = None,
    ) -> None:
        super().__init__(message, exception)
        self.bucket = bucket

    def __str__(self) -> str:
        where = f" in bucket {self.bucket!r}" if self.bucket is not None else ""
        found = f"{self.message!r}{where} not found, or not readable with these credentials"
        if self.exception is None:
            return f"Collection {found}."
        # The server's error first, as kinto-client 4.0 worded it ("404 - {...}").
        return f"{self.exception} (collection {found})"


class KintoConnectionError(KintoException, requests.exceptions.ConnectionError):
    """The server could not be reached, or the connection dropped."""


class KintoTimeout(KintoException, requests.exceptions.Timeout):
    """The server did not answer within the client's timeout."""


class BackoffException(KintoException):
    """The server asked clients to back off and the session is set to raise."""

    def __init__(self, message: str, backoff: float) -> None:
        super().__init__(message)
        self.backoff = backoff


class CapabilityMissing(KintoException):
    """The server lacks the plugin (capability) that this method needs.

    ``capability`` is the missing name of the server's ``capabilities``
    (``'accounts'``...), ``plugin`` what to enable on the server to get it.
    """

    def __init__(
        self, message: str, capability: str | None = None, plugin: str | None = None
    ) -> None:
        super().__init__(message)
        self.capability = capability
        self.plugin = plugin


class KintoBatchException(KintoException):
    """Some operations of a batch failed.

    ``results`` lists every queued operation in order, each a dict with
    ``request`` (the sub-request), ``status`` (its HTTP status, or ``None``
    if it was never answered), ``body``, ``ok`` and ``outcome``:
    ``'committed'`` (stored on the server), ``'failed'`` (answered with an
    error), ``'rolled back'`` (answered with success, then undone when a
    later sub-request of the same ``/batch`` request got a 409), ``'unknown'``
    (the ``/batch`` request carrying it failed, so it may or may not be
    applied) or ``'not sent'``. ``failures`` holds every
    operation that is not committed; ``committed`` and ``not_sent`` the
    ones so named. ``exceptions`` lists the chunk-level errors (a whole
    ``/batch`` request that failed), each a :class:`KintoException`.
    """

    def __init__(
        self,
        results: list[dict[str, Any]],
        exceptions: list[KintoException] | None = None,
    ) -> None:
        self.results = results
        self.exceptions = exceptions or []
        self.failures = [r for r in results if not r["ok"]]
        self.committed = [r for r in results if r["ok"]]
        self.not_sent = [r for r in results if r.get("outcome") == "not sent"]
        first = self.failures[0] if self.failures else None
        if first is not None:
            self.request = first["request"]
            self.response = first.get("response")
        super().__init__(self._summary())

    def _summary(self) -> str:
        counts: dict[str, int] = {}
        for result in self.results:
            outcome = result.get("outcome") or ("committed" if result["ok"] else "failed")
            counts[outcome] = counts.get(outcome, 0) + 1
        described = ", ".join(
            f"{counts[o]} {o}"
            for o in ("failed", "rolled back", "unknown", "not sent")
            if counts.get(o)
        )
        lines = [
            f"{len(self.failures)} of {len(self.results)} batch operations did not succeed "
            f"({described}); {len(self.committed)} committed."
        ]
        shown = [f for f in self.failures if f["status"] is not None]
        for failure in shown[:10]:
            request = failure["request"]
            if failure.get("outcome") == "rolled back":
                detail = "rolled back (a later 409 in the same /batch request undid it)"
            else:
                detail = f"{failure['status']} - {describe_body(failure['body'])}"
            lines.append(f"  {request['method']} {request['path']}: {detail}")
        if len(shown) > 10:
            lines.append(f"  ... and {len(shown) - 10} more (see .failures)")
        if counts.get("unknown"):
            lines.append(
                f"  {counts['unknown']} operation(s) in a /batch request that failed: "
                "outcome unknown (see the chunk error below and .failures)"
            )
        if self.not_sent:
            lines.append(f"  {len(self.not_sent)} operation(s) never sent (see .not_sent)")
        for exc in self.exceptions:
            lines.append(f"  chunk error: {exc}")
        return "\n".join(lines)


def describe_body(body: Any) -> str:
    """A short, readable form of an error body (JSON or not), secrets masked.

    The value of every ``password`` field (the accounts plugin returns the
    stored hash in 412 details) shows as ``"***"``.
    """
    if body is None:
        return "no body"
    if isinstance(body, (dict, list)):
        text = json.dumps(mask_secrets(body), sort_keys=True)
    else:
        text = _PASSWORD_VALUE.sub(r'\1"***"', str(body))
    return text if len(text) <= 500 else text[:500] + "..."


#: The value of a "password" field in JSON text.
_PASSWORD_VALUE = re.compile(r'("password"\s*:\s*)"(?:[^"\\]|\\.)*"')


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` whose ``password`` fields read ``'***'``."""
    if isinstance(value, dict):
        return {
            k: "***" if k == "password" and v is not None else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value
