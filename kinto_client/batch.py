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
#: tolerated statuses whose result is ``None`` (nothing there to give back)
_GONE = (403, 404)


@dataclass(slots=True)
class Operation:
    """One queued operation and, once sent, its outcome.

    Only its JSON encoding is kept (and its method): a large batch holds one
    ``bytes`` per operation, not a tree of dicts for the garbage collector to
    walk. :attr:`request` decodes it when asked (failures, replays).
    """

    encoded: bytes
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
        if self.status is None or self.rolled_back:
            return False
        return self.status < 400 or self.status in self.tolerate

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
        self.operations: list[Operation] = []
        self.cache = session.cache
        self._prefix = urlsplit(session.server_url).path.rstrip("/")
        self._sent = False
        #: some operation was answered other than with success (or not at all)
        self._answered_otherwise = False

    def __repr__(self) -> str:
        return f"<BatchSession {self.server_url} ({len(self.operations)} queued)>"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The queued sub-requests, as sent to ``/batch``."""
        return [op.request for op in self.operations]

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
        if params or endpoint[:1] != "/" or (self._prefix and endpoint.startswith(self._prefix)):
            endpoint = self._path(endpoint, params)
        # else: a path from Endpoints, as /batch wants it (the common case)
        sub: dict[str, Any] = {"method": method, "path": endpoint}
        if method == "GET" or method == "HEAD":
            pass
        elif type(data) is dict and permissions is None and payload is None:
            if data:  # Kinto rejects {"data": {}} in /batch bodies
                sub["body"] = {"data": data}
        else:
            body = build_payload(data, permissions, payload)
            if not body.get("data"):
                body.pop("data", None)
            if body:
                sub["body"] = body
        if headers:
            sub["headers"] = headers if type(headers) is dict else dict(headers)
        encoded = utils.json_dumps(sub)  # now: bad input raises before anything is sent
        self.operations.append(
            Operation(encoded, method, frozenset(tolerate) if tolerate else _NO_TOLERANCE)
        )
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
        chunk_errors: list[KintoException] = []
        for chunk in utils.chunks(self.operations, self.batch_max_requests):
            try:
                self._send_chunk(chunk)
            except KintoException as exc:
                # The server is unreachable or refuses /batch: later chunks
                # would fail alike, so stop and report what got where.
                chunk_errors.append(exc)
                for op in chunk:
                    if op.status is None:
                        op.error = exc
                break
        if not chunk_errors and not self._answered_otherwise:
            return self.results()  # every operation answered with success
        failed = [
            op
            for op in self.operations
            if not op.ok
            and not (self.ignore_4xx and op.outcome == "failed" and 400 <= op.status < 500)  # type: ignore[operator]
        ]
        if failed or chunk_errors:
            raise KintoBatchException([op.as_dict() for op in self.operations], chunk_errors)
        for op in self.operations:
            if not op.ok:
                logger.warning(
                    "Batch %s %s failed with %s (ignored): %s",
                    op.request["method"],
                    op.request["path"],
                    op.status,
                    op.body,
                )
        return self.results()

    def _send_chunk(self, chunk: Sequence[Operation]) -> None:
        policy = self.session.retry
        started = time.monotonic()
        pending = chunk
        retries = 0
        while pending:
            response = self.session.send(self._prepare(pending))
            replies = (response.body or {}).get("responses", [])
            if len(replies) != len(pending):
                raise KintoException(
                    f"/batch answered {len(replies)} responses for {len(pending)} requests."
                )
            retry_later: list[Operation] = []
            retry_after: str | None = None
            all_succeeded = True
            for op, reply in zip(pending, replies):
                op.status = status = reply.get("status")
                op.body = reply.get("body")
                op.headers = reply.get("headers")
                if type(status) is int and status < 400 and not op.rolled_back:
                    continue  # the common case: nothing to decide
                all_succeeded = False
                self._answered_otherwise = True
                resent = op.rolled_back
                op.rolled_back = False
                if op.status in op.tolerate and op.status == 412:
                    existing = _existing(op.body)
                    if existing is not None:
                        op.body = {"data": existing}
                elif (response.replayed or resent) and not op.ok:
                    # Its earlier answer may have been committed after all (a
                    # backend without transactions): 412/404 may be our own.
                    self._resolve_replay(op)
                if op.status in policy.statuses and not op.ok:
                    retry_later.append(op)
                    retry_after = (op.headers or {}).get("Retry-After") or retry_after
            if all_succeeded:
                return
            conflicts = [k for k, op in enumerate(pending) if op.status == 409]
            if conflicts:
                # Kinto aborts the /batch transaction on a 409 sub-response: the
                # writes answered before it were rolled back. Send them again.
                for op in pending[: conflicts[-1]]:
                    if op.ok and op.method not in ("GET", "HEAD"):
                        op.rolled_back = True
                again = {id(op) for op in retry_later}
                retry_later = [op for op in pending if op.rolled_back or id(op) in again]
            if not retry_later:
                return
            wait = policy.wait(retries, retry_after)
            if not policy.allows(retries, started, wait):
                return
            retries += 1
            logger.info(
                "Retrying %d batch operation(s) answered %s (attempt %d), in %.2fs",
                len(retry_later),
                sorted({op.status for op in retry_later if op.status is not None}),
                retries + 1,
                wait,
            )
            time.sleep(wait)
            pending = retry_later

    def _prepare(self, ops: Sequence[Operation]) -> Any:
        body = b'{"requests":[' + b",".join(op.encoded for op in ops) + b"]}"
        call = self.session.prepare(
            "POST",
            "/batch",
            headers={"Content-Type": "application/json"},
            idempotent=all(op.method != "POST" for op in ops),
        )
        call.body = body
        return call

    @staticmethod
    def _resolve_replay(op: Operation) -> None:
        """A replayed chunk: a write answered 412/404 may be our own first attempt."""
        method = op.method
        if method == "DELETE" and op.status == 404:
            op.status, op.body = 200, {"data": {"deleted": True}}
            return
        if op.status == 412 and method in ("PUT", "PATCH"):
            existing = _existing(op.body)
            if replay_landed((op.request.get("body") or {}).get("data"), existing):
                op.status, op.body = 200, {"data": existing}

    # -- results ----------------------------------------------------------------

    def results(self) -> list[Any]:
        """One response body per queued operation, in order, across chunks.

        Reads (``GET``) give their body like writes: a list read gives its
        first page, ``{'data': [...]}``. A tolerated ``if_exists`` delete of
        a missing object gives ``None``; a tolerated ``if_not_exists``
        create gives the existing object, ``{'data': {...}}``. An operation
        never answered (the batch failed first) gives ``None``.
        """
        return [
            None
            if op.tolerate and op.status in op.tolerate and op.status in (403, 404)
            else op.body
            for op in self.operations
        ]

    def failures(self) -> list[dict[str, Any]]:
        """The operations that failed (with ``ignore_4xx``, the ignored ones)."""
        return [op.as_dict() for op in self.operations if not op.ok]


def _existing(body: Any) -> Any:
    if isinstance(body, dict):
        details = body.get("details")
        if isinstance(details, dict):
            return details.get("existing")
    return None
