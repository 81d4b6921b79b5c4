"""Batch: a session that queues requests and sends them to ``POST /batch`` in chunks.

Each queued request is validated and JSON-encoded when it is queued, so a
bad argument raises before anything is sent, and each chunk's body is
assembled from the already-encoded parts (nothing is encoded twice).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from kinto_client import utils
from kinto_client.exceptions import KintoBatchException, KintoException
from kinto_client.session import Session, build_payload, replay_landed

logger = logging.getLogger("kinto_client")

__all__ = ["BatchSession", "Operation"]


_NO_TOLERANCE: frozenset[int] = frozenset()
#: the methods a /batch sub-request may use
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
#: tolerated statuses whose result is ``None`` (nothing there to give back)
_GONE = frozenset({403, 404})


@dataclass
class Operation:
    """One queued operation and, once sent, its outcome: a report, built on demand.

    A batch does not keep one of these per operation while it works: it
    keeps each operation's method and JSON encoding, then each answer as
    the server gave it (a large batch is a few lists, not thousands of
    objects). :attr:`BatchSession.operations` builds these to report.
    """

    encoded: str
    method: str
    tolerate: frozenset[int] = frozenset()
    status: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    #: the exception of the ``/batch`` call that carried it, if that failed
    error: KintoException | None = None
    #: answered with success, but a later sub-request of the same ``/batch``
    #: request got a 409, on which Kinto rolls back the whole transaction
    rolled_back: bool = False

    @property
    def request(self) -> dict[str, Any]:
        """The sub-request as sent to ``/batch``: ``method``, ``path``, ``body``, ``headers``."""
        return json.loads(self.encoded)  # type: ignore[no-any-return]

    @property
    def ok(self) -> bool:
        return _succeeded(self.status, self.tolerate) and not self.rolled_back

    @property
    def outcome(self) -> str:
        """``'committed'``, ``'failed'``, ``'rolled back'`` (answered with
        success, then undone by a later 409 in the same ``/batch`` request),
        ``'unknown'`` (the ``/batch`` request carrying it failed: it may or
        may not be applied) or ``'not sent'``."""
        if self.rolled_back:
            return "rolled back"
        if self.status is not None:
            return "committed" if self.ok else "failed"
        return "unknown" if self.error is not None else "not sent"

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "status": self.status,
            "body": self.body,
            "headers": self.headers or {},
            "ok": self.ok,
            "outcome": self.outcome,
            "response": {"status": self.status, "body": self.body, "headers": self.headers or {}},
            "error": self.error,
        }


def _succeeded(status: Any, tolerate: frozenset[int]) -> bool:
    return type(status) is int and (status < 400 or status in tolerate)


class BatchSession:
    """Queue requests, then send them to the server's ``/batch`` endpoint.

    :param session: the real :class:`~kinto_client.session.Session` that
        sends each chunk (with its retry policy and auth).
    :param batch_max_requests: chunk size; ``0`` or less sends one request.
    :param ignore_4xx: report 4xx sub-failures in :meth:`failures` instead
        of raising :class:`~kinto_client.exceptions.KintoBatchException`.
    """

    is_batch = True

    def __init__(
        self, session: Session, batch_max_requests: int = 0, ignore_4xx: bool = False
    ) -> None:
        self.session = session
        self.server_url = session.server_url
        self.batch_max_requests = batch_max_requests
        self.ignore_4xx = ignore_4xx
        self.cache = session.cache
        self._prefix = urlsplit(session.server_url).path.rstrip("/")
        self._sent = False
        # One entry per queued operation, by position:
        self._methods: list[str] = []
        self._encoded: list[str] = []  # the sub-request, JSON
        self._replies: list[dict[str, Any] | None] = []  # the server's answers
        # Only for the few operations concerned, by position:
        self._tolerate: dict[int, frozenset[int]] = {}  # statuses that count as success
        self._errors: dict[int, KintoException] = {}  # the /batch call carrying it failed
        self._rolled_back: set[int] = set()  # undone by a later 409 in its /batch call
        #: some operation was answered other than with success (or not at all)
        self._answered_otherwise = False

    def __repr__(self) -> str:
        return f"<BatchSession {self.server_url} ({len(self._encoded)} queued)>"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The queued sub-requests, as sent to ``/batch``."""
        return [json.loads(encoded) for encoded in self._encoded]

    @property
    def operations(self) -> list[Operation]:
        """Every queued operation with its outcome so far."""
        return [self._operation(i) for i in range(len(self._encoded))]

    def _operation(self, i: int) -> Operation:
        reply = self._reply(i)
        return Operation(
            self._encoded[i],
            self._methods[i],
            self._tolerate.get(i, _NO_TOLERANCE),
            reply.get("status"),
            reply.get("body"),
            reply.get("headers"),
            self._errors.get(i),
            i in self._rolled_back,
        )

    def _reply(self, i: int) -> dict[str, Any]:
        return (self._replies[i] if i < len(self._replies) else None) or {}

    def _ok(self, i: int) -> bool:
        status = self._reply(i).get("status")
        return _succeeded(status, self._tolerate.get(i, _NO_TOLERANCE)) and (
            i not in self._rolled_back
        )

    def request(
        self,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        payload: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        tolerate: tuple[int, ...] | frozenset[int] = (),
        **kwargs: Any,
    ) -> tuple[None, dict[str, str]]:
        """Queue one request; returns ``(None, {})`` (results come after sending)."""
        if self._sent:
            raise KintoException("This batch was already sent; start a new client.batch().")
        if kwargs and kwargs.get("files"):
            raise KintoException("File uploads cannot go through /batch; upload them outside.")
        method = method.upper()
        if method not in _METHODS:
            raise KintoException(
                f"/batch cannot carry a {method!r} request: use one of {', '.join(_METHODS)}."
            )
        if params or endpoint[:1] != "/" or (self._prefix and endpoint.startswith(self._prefix)):
            endpoint = self._path(endpoint, params)
        # else: a path from Endpoints, as /batch wants it (the common case)
        sub: dict[str, Any] = {"method": method, "path": endpoint}
        if method != "GET" and method != "HEAD":
            body = build_payload(data, permissions, payload)
            if not body.get("data"):
                body.pop("data", None)  # Kinto rejects {"data": {}} in /batch bodies
            if body:
                sub["body"] = body
        if headers:
            sub["headers"] = headers if type(headers) is dict else dict(headers)
        encoded = utils.json_text(sub)  # now: bad input raises before anything is sent
        if tolerate:
            self._tolerate[len(self._encoded)] = frozenset(tolerate)
        self._encoded.append(encoded)
        self._methods.append(method)
        return None, {}

    def _path(self, endpoint: str, params: Mapping[str, Any] | None) -> str:
        """The path of ``endpoint`` below the server URL, with ``params``."""
        path = endpoint
        if path.startswith(self.server_url):
            path = path[len(self.server_url) :]
        elif path.startswith(("http://", "https://")):
            path = urlsplit(path).path
        # Remove the prefix (e.g. /v1) from the start only: ids may contain "v1/".
        if self._prefix and (path == self._prefix or path.startswith(self._prefix + "/")):
            path = path[len(self._prefix) :]
        if not path.startswith("/"):
            path = "/" + path
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        return path

    # -- sending --------------------------------------------------------------

    def send(self) -> list[Any]:
        """Send every queued operation; return one response body per operation.

        Sub-responses with a retryable status (429, 5xx) are sent again,
        alone, under the session's retry policy. When failures remain (4xx
        unless ``ignore_4xx``; anything else always), raises
        :class:`~kinto_client.exceptions.KintoBatchException` describing every
        operation: committed, failed, or never sent.
        """
        self._sent = True
        count = len(self._encoded)
        self._replies = [None] * count
        chunk_errors: list[KintoException] = []
        for chunk in utils.chunks(range(count), self.batch_max_requests):
            try:
                self._send_chunk(chunk)
            except KintoException as exc:
                # The server is unreachable or refuses /batch: later chunks
                # would fail alike, so stop and report what got where.
                chunk_errors.append(exc)
                self._answered_otherwise = True
                for i in chunk:
                    if self._replies[i] is None:
                        self._errors[i] = exc
                break
        if not self._answered_otherwise:
            return self.results()  # every operation answered with success
        operations = self.operations
        failed = [
            op
            for op in operations
            if not op.ok
            and not (self.ignore_4xx and op.outcome == "failed" and 400 <= op.status < 500)  # type: ignore[operator]
        ]
        if failed or chunk_errors:
            raise KintoBatchException([op.as_dict() for op in operations], chunk_errors)
        for op in operations:
            if not op.ok:
                logger.warning(
                    "Batch %s %s failed with %s (ignored): %s",
                    op.method,
                    op.request["path"],
                    op.status,
                    op.body,
                )
        return self.results()

    def _send_chunk(self, chunk: Sequence[int]) -> None:
        """Send the operations at positions ``chunk``; retry those answered 429/5xx."""
        policy = self.session.retry
        started = time.monotonic()
        pending = chunk
        retries = 0
        replies = self._replies
        rolled_back = self._rolled_back
        while pending:
            response = self.session.send(self._prepare(pending))
            answers = (response.body or {}).get("responses", [])
            if len(answers) != len(pending):
                raise KintoException(
                    f"/batch answered {len(answers)} responses for {len(pending)} requests."
                )
            all_succeeded = True
            for i, answer in zip(pending, answers):
                replies[i] = answer
                status = answer.get("status")
                if type(status) is not int or status >= 400 or (rolled_back and i in rolled_back):
                    all_succeeded = False
            if all_succeeded:
                return  # the common case: nothing to decide
            self._answered_otherwise = True
            retry_later, retry_after = self._review(pending, response.replayed, policy.statuses)
            if not retry_later:
                return
            wait = policy.wait(retries, retry_after)
            if not policy.allows(retries, started, wait):
                return
            retries += 1
            logger.info(
                "Retrying %d batch operation(s) answered %s (attempt %d), in %.2fs",
                len(retry_later),
                sorted({status for i in retry_later if (status := self._reply(i).get("status"))}),
                retries + 1,
                wait,
            )
            time.sleep(wait)
            pending = retry_later

    def _review(
        self, pending: Sequence[int], replayed: bool, retry_statuses: frozenset[int]
    ) -> tuple[list[int], str | None]:
        """Settle the answers to ``pending`` that were not plain successes.

        Returns the positions to send again (a retryable status, or rolled
        back by a 409) and the last ``Retry-After`` seen.
        """
        retry_later: list[int] = []
        retry_after: str | None = None
        for i in pending:
            reply = self._reply(i)
            status = reply.get("status")
            tolerate = self._tolerate.get(i, _NO_TOLERANCE)
            resent = i in self._rolled_back
            self._rolled_back.discard(i)
            if status == 412 and status in tolerate:
                existing = _existing(reply.get("body"))
                if existing is not None:
                    reply["body"] = {"data": existing}
            elif (replayed or resent) and not self._ok(i):
                # Its earlier answer may have been committed after all (a
                # backend without transactions): 412/404 may be our own.
                self._resolve_replay(i, reply)
            if reply.get("status") in retry_statuses and not self._ok(i):
                retry_later.append(i)
                retry_after = (reply.get("headers") or {}).get("Retry-After") or retry_after
        conflicts = [k for k, i in enumerate(pending) if self._reply(i).get("status") == 409]
        if conflicts:
            # Kinto aborts the /batch transaction on a 409 sub-response: the
            # writes answered before it were rolled back. Send them again.
            for i in pending[: conflicts[-1]]:
                if self._ok(i) and self._methods[i] not in ("GET", "HEAD"):
                    self._rolled_back.add(i)
            again = set(retry_later)
            retry_later = [i for i in pending if i in self._rolled_back or i in again]
        return retry_later, retry_after

    def _prepare(self, positions: Sequence[int]) -> Any:
        if isinstance(positions, range):
            parts = self._encoded[positions.start : positions.stop]
            methods = self._methods[positions.start : positions.stop]
        else:
            parts = [self._encoded[i] for i in positions]
            methods = [self._methods[i] for i in positions]
        call = self.session.prepare(
            "POST",
            "/batch",
            headers={"Content-Type": "application/json"},
            idempotent="POST" not in methods,
        )
        call.body = ('{"requests":[' + ",".join(parts) + "]}").encode("utf-8")
        return call

    def _resolve_replay(self, i: int, reply: dict[str, Any]) -> None:
        """A replayed chunk: a write answered 412/404 may be our own first attempt."""
        method = self._methods[i]
        status = reply.get("status")
        if method == "DELETE" and status == 404:
            reply["status"], reply["body"] = 200, {"data": {"deleted": True}}
            return
        if status == 412 and method in ("PUT", "PATCH"):
            existing = _existing(reply.get("body"))
            sent = json.loads(self._encoded[i]).get("body") or {}
            if replay_landed(sent.get("data"), existing):
                reply["status"], reply["body"] = 200, {"data": existing}

    # -- results ----------------------------------------------------------------

    def results(self) -> list[Any]:
        """One response body per queued operation, in order, across chunks.

        Reads (``GET``) give their body like writes: a list read gives its
        first page, ``{'data': [...]}``. A tolerated ``if_exists`` delete of
        a missing object gives ``None``; a tolerated ``if_not_exists``
        create gives the existing object, ``{'data': {...}}``. An operation
        never answered (the batch failed first) gives ``None``.
        """
        if len(self._replies) < len(self._encoded):  # not sent yet
            return [None] * len(self._encoded)
        bodies = [None if reply is None else reply.get("body") for reply in self._replies]
        for i, tolerate in self._tolerate.items():
            if self._reply(i).get("status") in tolerate & _GONE:
                bodies[i] = None
        return bodies

    def failures(self) -> list[dict[str, Any]]:
        """The operations that failed (with ``ignore_4xx``, the ignored ones)."""
        if self._sent and not self._answered_otherwise:
            return []
        return [op.as_dict() for op in self.operations if not op.ok]


def _existing(body: Any) -> Any:
    if isinstance(body, dict):
        details = body.get("details")
        if isinstance(details, dict):
            return details.get("existing")
    return None
