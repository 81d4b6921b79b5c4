"""The batch sender: queues requests, then sends them to ``POST /batch`` in chunks.

Each queued request was checked when the client built it, so a bad argument
raises at the call that passed it and nothing is sent. Each chunk is encoded
at once when it is sent. Sending stops at the first chunk holding a failure
that is not tolerated: the chunks after it are not sent (as in kinto-client
4.0), and :class:`~kinto_client.exceptions.KintoBatchException` says what
was committed, what failed, what may have been applied, and what was not sent.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from kinto_client import payloads, utils
from kinto_client.exceptions import KintoBatchException, KintoException, describe_body
from kinto_client.legacy import LegacySession, is_sender
from kinto_client.pipeline import IDEMPOTENT_METHODS, NO_STATUSES, Request, Response
from kinto_client.retry import Failure, Retry
from kinto_client.session import Session

logger = logging.getLogger("kinto_client")

__all__ = ["Batch", "Operation"]

#: the methods a /batch sub-request may use
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
#: the only content type /batch carries
_JSON = "application/json"
#: tolerated statuses whose result is ``None`` (nothing there to give back)
_GONE = frozenset({403, 404})
#: What queueing answers: no status yet (shared: a response is never changed).
_QUEUED = Response(None)


@dataclass
class Operation:
    """One queued operation and, once sent, its outcome: a report, built on demand."""

    request: dict[str, Any]
    method: str
    tolerate: frozenset[int] = NO_STATUSES
    status: int | None = None
    body: Any = None
    headers: dict[str, str] | None = None
    #: the exception of the ``/batch`` call that carried it, if that failed
    error: KintoException | None = None
    #: answered with success, but a later sub-request of the same ``/batch``
    #: request got a 409, on which Kinto rolls back the whole transaction
    rolled_back: bool = False
    #: it may have been applied, but no answer says so (a 5xx, a lost reply)
    uncertain: bool = False

    @property
    def ok(self) -> bool:
        return _succeeded(self.status, self.tolerate) and not self.rolled_back

    @property
    def outcome(self) -> str:
        """``'committed'``, ``'failed'``, ``'rolled back'`` (answered with
        success, then undone by a later 409 in the same ``/batch`` request),
        ``'unknown'`` (it may or may not be applied: its ``/batch`` request
        failed after sending, or it was answered 5xx and could not safely be
        sent again) or ``'not sent'``."""
        if self.rolled_back:
            return "rolled back"
        if self.ok:
            return "committed"
        if self.uncertain:
            return "unknown"
        if self.status is not None:
            return "failed"
        return "not sent"

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


class Batch:
    """Queue requests, then send them to the server's ``/batch`` endpoint.

    ``client.batch()`` makes one; kinto-client 4.0 code may also build it
    as ``Batch(client, batch_max_requests=0)`` and use :meth:`request`,
    :meth:`send` and :meth:`reset`.

    :param client: the client (or the :class:`~kinto_client.session.Session`)
        whose session sends each chunk, with its retry policy and auth.
    :param batch_max_requests: chunk size; ``0`` or less sends one request.
    :param ignore_4xx: report 4xx sub-failures in :meth:`failures` instead
        of raising :class:`~kinto_client.exceptions.KintoBatchException`
        (and go on with the next chunks).
    :param keep_answers: keep each ``/batch`` answer whole, for :meth:`send`
        to return. ``client.batch()`` does not: of each operation that
        succeeded it keeps the status and the body of the answer, not the
        answer's headers nor the body it sent (both take more memory than
        the records); operations that did not succeed keep everything.
    """

    def __init__(
        self,
        client: Any,
        batch_max_requests: int = 0,
        ignore_4xx: bool = False,
        *,
        keep_answers: bool = True,
    ) -> None:
        session = getattr(client, "session", client)
        if isinstance(session, Batch):
            session = session.session
        if not is_sender(session):
            session = LegacySession(session)  # kinto-client 4.0's session interface
        if not isinstance(session, (Session, LegacySession)):
            raise TypeError(
                f"Batch() needs a Client or a Session to send with; got a {type(client).__name__}."
            )
        #: the session that sends each chunk
        self.session: Session | LegacySession = session
        #: the retry policy of each operation (a 4.0-style session has none: no retry)
        self.policy = session.retry if isinstance(session, Session) else Retry()
        self.endpoints = getattr(client, "endpoints", None)
        self.batch_max_requests = batch_max_requests
        self.ignore_4xx = ignore_4xx
        self.keep_answers = keep_answers
        self._prefix = urlsplit(session.server_url).path.rstrip("/")
        self.reset()

    def reset(self) -> None:
        """Empty the queue and forget any answers, to use this batch again."""
        self._sent = False
        # One entry per queued operation, by position, as /batch takes it:
        self._methods: list[str] = []
        #: {"path": ..., "body": ...}: the path below the server URL (query
        #: included) and the body (checked copies, see json_ready); the
        #: method and headers go in "defaults" when a whole chunk shares them
        self._subs: list[dict[str, Any]] = []
        self._headers: list[Mapping[str, str] | None] = []
        self._replies: list[dict[str, Any] | None] = []  # the server's answers
        # Only for the few operations concerned, by position:
        self._tolerated: dict[int, frozenset[int]] = {}  # error statuses that are answers
        self._idempotent: dict[int, bool] = {}  # where it differs from its method's
        self._errors: dict[int, KintoException] = {}  # the /batch call carrying it failed
        self._rolled_back: set[int] = set()  # undone by a later 409 in its /batch call
        self._uncertain: set[int] = set()  # may have been applied, no answer says so
        #: some operation was answered other than with success (or not at all)
        self._answered_otherwise = False

    @classmethod
    def within(cls, client: Any, ignore_4xx: bool = False) -> Batch:
        """The batch that ``client.batch()`` queues into: a new one sized by the
        server, or, for a client that is already a batch client, its own batch
        (a nested block queues into the outer one, which sends everything)."""
        if isinstance(client.session, Batch):
            return client.session
        return cls(client, client.batch_max_requests, ignore_4xx, keep_answers=False)

    @property
    def server_url(self) -> str:
        return self.session.server_url

    @property
    def auth(self) -> Any:
        """The credentials of the session that sends the batch."""
        return self.session.auth

    @auth.setter
    def auth(self, value: Any) -> None:
        self.session.auth = value

    def copy(self, **changes: Any) -> Batch:
        """Not for a batch: its requests go with the session of its block."""
        raise KintoException(
            f"A batch client cannot take new session settings ({', '.join(sorted(changes))}): "
            "clone the client outside the batch block instead."
        )

    def __repr__(self) -> str:
        return f"<Batch {self.server_url} ({len(self._methods)} queued)>"

    def close(self) -> None:
        """Nothing to release: the batch holds no connection of its own."""

    # -- queueing ---------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        """Queue ``request``; its answer comes with :meth:`results` once sent."""
        method = request.method
        headers = request.headers
        if (
            self._sent
            or request.needs_answer
            or request.files
            or method not in _METHODS
            or (headers and headers.get("Content-Type", _JSON) != _JSON)
        ):
            raise self._refusal(request)
        path = request.path
        if request.query or path[:1] != "/" or (self._prefix and path.startswith(self._prefix)):
            path = self._path(path, request.query)
        body = request.body
        if body is not None and (
            not body or not body.get("data", True) or method == "GET" or method == "HEAD"
        ):
            body = _sendable(method, body)  # rare: most bodies are sent as they are
        if request.tolerate:
            self._tolerated[len(self._methods)] = request.tolerate
        if request.idempotent is not (method in IDEMPOTENT_METHODS):
            self._idempotent[len(self._methods)] = bool(request.idempotent)
        self._methods.append(method)
        self._subs.append({"path": path, "body": body} if body is not None else {"path": path})
        self._headers.append(headers if type(headers) is dict or not headers else dict(headers))
        return _QUEUED

    def _refusal(self, request: Request) -> KintoException:
        """Why ``request`` cannot be queued: the one place a batch says what it cannot do."""
        if self._sent:
            return KintoException("This batch was already sent; start a new client.batch().")
        if request.needs_answer:
            return KintoException(
                f"{request.needs_answer} needs the server's answer at once, so it is not "
                "possible inside a batch; call it on the client outside the batch block."
            )
        if request.files:
            return KintoException(
                "File uploads cannot go through /batch (it carries JSON only): "
                "call it on the client outside the batch block."
            )
        if request.method not in _METHODS:
            return KintoException(
                f"/batch cannot carry a {request.method!r} request: use one of "
                f"{', '.join(sorted(_METHODS))}."
            )
        content_type = (request.headers or {}).get("Content-Type")
        return KintoException(
            f"A {content_type} request cannot go through Kinto's /batch (it sends "
            "every sub-request as application/json): send it outside the batch block."
        )

    def request(
        self,
        method: str,
        endpoint: str,
        data: Any = None,
        permissions: Any = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[defaultdict[str, Any], defaultdict[str, Any]]:
        """Queue one request, as kinto-client 4.0's ``Batch.request`` did.

        Returns two empty ``defaultdict(dict)`` (4.0's placeholder for the
        answer, which only exists once the batch is sent). ``payload=`` and
        ``params=`` are accepted too.
        """
        method = method.upper()
        body = None
        if method not in ("GET", "HEAD"):
            body = payloads.kinto_body(data, permissions, kwargs.pop("payload", None)) or None
        params = kwargs.pop("params", None)
        if kwargs:
            raise TypeError(f"Batch.request() got unexpected arguments: {', '.join(kwargs)}")
        query = utils.encode_params(dict(params)) if params else None
        self.dispatch(Request(method, endpoint, body=body, query=query, headers=headers))
        return defaultdict(dict), defaultdict(dict)

    def _path(self, endpoint: str, query: Mapping[str, Any] | None) -> str:
        """The path of ``endpoint`` below the server URL, with ``query``."""
        path = endpoint
        if path.startswith(self.server_url):
            path = path[len(self.server_url) :]
        elif path.startswith(("http://", "https://")):
            path = urlsplit(path).path
        path = utils.below_prefix(path, self._prefix)
        if query:
            path += ("&" if "?" in path else "?") + urlencode(query, doseq=True)
        return path

    @property
    def requests(self) -> list[dict[str, Any]]:
        """The queued sub-requests, each whole, as the server reads it (a chunk
        sends what they share once, in ``defaults``). After ``client.batch()``
        the body of an operation that succeeded is no longer kept."""
        return [self._sub(i) for i in range(len(self._methods))]

    def _sub(self, i: int) -> dict[str, Any]:
        """Operation ``i`` as one whole ``/batch`` sub-request."""
        sub: dict[str, Any] = {"method": self._methods[i], **self._subs[i]}
        if self._headers[i]:
            sub["headers"] = self._headers[i]
        return sub

    def _request(self, i: int) -> Request:
        """Operation ``i`` as a request value (to settle a replay)."""
        return Request(
            self._methods[i],
            self._subs[i]["path"],
            body=self._subs[i].get("body"),
            headers=self._headers[i],
            idempotent=self._idempotent.get(i),
            tolerate=self._tolerate(i),
        )

    def _tolerate(self, i: int) -> frozenset[int]:
        return self._tolerated.get(i, NO_STATUSES)

    def _is_idempotent(self, i: int) -> bool:
        return self._idempotent.get(i, self._methods[i] in IDEMPOTENT_METHODS)

    # -- sending --------------------------------------------------------------

    def send(self) -> list[tuple[Any, Mapping[str, str]]]:
        """Send the queued operations; return ``(body, headers)`` of each ``/batch``
        call (none unless ``keep_answers``).

        Sub-responses with a retryable status are sent again, alone, as the
        session's retry policy decides. Sending stops at the first chunk
        that holds a failure which is not tolerated (4xx with
        ``ignore_4xx``): the chunks after it are not sent. Then
        :class:`~kinto_client.exceptions.KintoBatchException` describes every
        operation: committed, failed, unknown, rolled back, or not sent.
        """
        self._sent = True
        count = len(self._methods)
        self._replies = [None] * count
        answers: list[tuple[Any, Mapping[str, str]]] = []
        chunk_errors: list[KintoException] = []
        for chunk in utils.chunks(range(count), self.batch_max_requests):
            try:
                answer = self._send_chunk(chunk)
            except KintoException as exc:
                chunk_errors.append(exc)
                self._answered_otherwise = True
                landed = getattr(exc, "may_have_landed", True)
                for i in chunk:
                    if self._replies[i] is None:
                        self._errors[i] = exc
                        if landed:
                            self._uncertain.add(i)
                break
            if self.keep_answers:
                answers.append(answer)
            if self._answered_otherwise and any(self._blocking(i) for i in chunk):
                break
        if not self._answered_otherwise:
            return answers  # every operation answered with success
        operations = self.operations
        if chunk_errors or any(self._blocking(i) for i in range(count)):
            raise KintoBatchException([op.as_dict() for op in operations], chunk_errors)
        for op in operations:
            if not op.ok:
                logger.warning(
                    "Batch %s %s failed with %s (ignored): %s",
                    op.method,
                    op.request["path"],
                    op.status,
                    describe_body(op.body),
                )
        return answers

    def _blocking(self, i: int) -> bool:
        """Whether operation ``i`` failed in a way that stops the batch."""
        if self._ok(i):
            return False
        status = self._reply(i).get("status")
        ignorable = self.ignore_4xx and type(status) is int and 400 <= status < 500
        return not ignorable or i in self._uncertain or i in self._rolled_back

    def _send_chunk(self, chunk: Sequence[int]) -> tuple[Any, Mapping[str, str]]:
        """Send the operations at positions ``chunk``; retry those the policy allows."""
        policy = self.policy
        started = time.monotonic()
        pending = chunk
        retries = 0
        first: tuple[Any, Mapping[str, str]] | None = None
        replies = self._replies
        rolled_back = self._rolled_back
        slim = not self.keep_answers
        resent: set[int] = set()
        while True:
            response = self._post(pending)
            answers = _responses(response.body, len(pending))
            if first is None:
                first = (response.body, response.headers)
            all_succeeded = True
            for i, answer in zip(pending, answers):
                replies[i] = answer
                status = answer.get("status") if type(answer) is dict else None
                if type(status) is not int:
                    raise KintoException(
                        f"/batch answered a sub-response without a status: {describe_body(answer)}"
                    )
                if status >= 400 or i in rolled_back:
                    all_succeeded = False
                elif slim:  # a success keeps its status and body (memory)
                    answer.pop("headers", None)
                    answer.pop("path", None)
            if all_succeeded:
                if slim:  # what was sent is on the server now: let it go (memory)
                    subs = self._subs
                    for i in pending:
                        subs[i].pop("body", None)
                return first  # the common case: nothing to decide
            self._answered_otherwise = True
            retry_later: list[int] = []
            wait = 0.0
            for i in self._review(pending, response.replayed, resent):
                # a write rolled back by a later 409 failed as that 409 did
                status = 409 if i in self._rolled_back else self._reply(i).get("status")
                headers = self._reply(i).get("headers") or {}
                failure = Failure("status", status, headers.get("Retry-After"))
                decision = policy.decide(
                    failure,
                    method=self._methods[i],
                    idempotent=self._is_idempotent(i),
                    retries_done=retries,
                    elapsed=time.monotonic() - started,
                )
                if decision.retry:
                    retry_later.append(i)
                    wait = max(wait, decision.wait)
                elif failure.may_have_landed:
                    self._uncertain.add(i)
            if not retry_later:
                return first
            retries += 1
            logger.info(
                "Retrying %d batch operation(s) answered %s (attempt %d), in %.2fs",
                len(retry_later),
                sorted({self._reply(i).get("status") for i in retry_later}, key=str),
                retries + 1,
                wait,
            )
            time.sleep(wait)
            pending = retry_later
            resent.update(retry_later)
            for i in retry_later:
                self._uncertain.discard(i)

    def _post(self, positions: Sequence[int]) -> Response:
        body: dict[str, Any]
        if isinstance(self.session, LegacySession):  # 4.0's session object: 4.0's body
            body = {"requests": [self._sub(i) for i in positions]}
        elif isinstance(positions, range):
            window = slice(positions.start, positions.stop)
            body = _payload(self._methods[window], self._subs[window], self._headers[window])
        else:
            body = _payload(
                [self._methods[i] for i in positions],
                [self._subs[i] for i in positions],
                [self._headers[i] for i in positions],
            )
        return self.session.dispatch(
            Request(
                "POST",
                "/batch",
                body=body,
                idempotent=all(self._is_idempotent(i) for i in positions),
            )
        )

    def _review(self, pending: Sequence[int], replayed: bool, resent: set[int]) -> list[int]:
        """Settle the answers to ``pending`` that were not plain successes.

        Returns the positions that failed with a status the policy may retry
        (a rolled-back write counts as answered 409).
        """
        failed: list[int] = []
        for i in pending:
            reply = self._reply(i)
            status = reply.get("status")
            tolerate = self._tolerate(i)
            self._rolled_back.discard(i)
            if status == 412 and status in tolerate:
                existing = _existing(reply.get("body"))
                if existing is not None:
                    reply["body"] = {"data": existing}
            elif (replayed or i in resent) and not self._ok(i):
                # Its earlier attempt may have been applied: 412/404 may be our own.
                settled = _settle(self.session, self._request(i), status)
                if settled is not None:
                    reply["status"], reply["body"] = settled.status, settled.body
            if not self._ok(i):
                failed.append(i)
        conflicts = [k for k, i in enumerate(pending) if self._reply(i).get("status") == 409]
        if conflicts:
            # Kinto aborts the /batch transaction on a 409 sub-response: the
            # writes answered before it were rolled back. Send them again.
            for i in pending[: conflicts[-1]]:
                if self._ok(i) and self._methods[i] not in ("GET", "HEAD"):
                    self._rolled_back.add(i)
            rolled = [i for i in pending if i in self._rolled_back]
            failed = sorted(set(failed) | set(rolled), key=list(pending).index)
        return failed

    # -- results ----------------------------------------------------------------

    def _reply(self, i: int) -> dict[str, Any]:
        return (self._replies[i] if i < len(self._replies) else None) or {}

    def _ok(self, i: int) -> bool:
        status = self._reply(i).get("status")
        return _succeeded(status, self._tolerate(i)) and i not in self._rolled_back

    @property
    def operations(self) -> list[Operation]:
        """Every queued operation with its outcome so far."""
        return [self._operation(i) for i in range(len(self._methods))]

    def _operation(self, i: int) -> Operation:
        reply = self._reply(i)
        rolled_back = i in self._rolled_back
        uncertain = i in self._uncertain and not _succeeded(reply.get("status"), self._tolerate(i))
        return Operation(
            self._sub(i),
            self._methods[i],
            self._tolerate(i),
            reply.get("status"),
            reply.get("body"),
            reply.get("headers"),
            self._errors.get(i),
            rolled_back,
            uncertain or (rolled_back and i in self._uncertain),
        )

    def results(self) -> list[Any]:
        """One response body per queued operation, in order, across chunks.

        Reads (``GET``) give their body like writes: a list read gives its
        first page, ``{'data': [...]}``. A tolerated ``if_exists`` delete of
        a missing object gives ``None``; a tolerated ``if_not_exists``
        create gives the existing object, ``{'data': {...}}``. An operation
        never answered (the batch failed first) gives ``None``.
        """
        if len(self._replies) < len(self._methods):  # not sent yet
            return [None] * len(self._methods)
        bodies = [None if reply is None else reply.get("body") for reply in self._replies]
        for i, tolerate in self._tolerated.items():
            if self._reply(i).get("status") in tolerate & _GONE:
                bodies[i] = None
        return bodies

    def failures(self) -> list[dict[str, Any]]:
        """The operations that did not succeed (with ``ignore_4xx``, the ignored ones)."""
        if self._sent and not self._answered_otherwise:
            return []
        return [op.as_dict() for op in self.operations if not op.ok]


def _sendable(method: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """``body`` as ``/batch`` takes it: none on a read, and no empty ``data``
    (Kinto refuses ``{"data": {}}`` in a sub-request)."""
    if method in ("GET", "HEAD"):
        return None
    if "data" in body and not body["data"]:
        body = {k: v for k, v in body.items() if k != "data"}
    return body or None


def _payload(
    methods: list[str], subs: list[dict[str, Any]], headers: list[Mapping[str, str] | None]
) -> dict[str, Any]:
    """The body of one ``POST /batch``.

    A method or headers shared by every sub-request go once, in ``defaults``
    (the server merges them into each sub-request): most batches repeat
    them, and writing them once halves the encoding work.
    """
    same_method = methods.count(methods[0]) == len(methods)
    same_headers = headers.count(headers[0]) == len(headers)
    if not (same_method and same_headers):
        subs = [
            {
                **({} if same_method else {"method": method}),
                **sub,
                **({"headers": sub_headers} if sub_headers and not same_headers else {}),
            }
            for method, sub, sub_headers in zip(methods, subs, headers)
        ]
    defaults: dict[str, Any] = {"method": methods[0]} if same_method else {}
    if same_headers and headers[0]:
        defaults["headers"] = headers[0]
    return {"defaults": defaults, "requests": subs} if defaults else {"requests": subs}


def _responses(body: Any, expected: int) -> list[dict[str, Any]]:
    """The sub-responses of a ``/batch`` answer: what the server sent instead is
    named when it is not a list of one answer per request (each answer's
    status is checked as it is read)."""
    answers = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(answers, list) or len(answers) != expected:
        got = (
            f"{len(answers)} responses"
            if isinstance(answers, list)
            else f"{describe_body(body)} instead of {{'responses': [...]}}"
        )
        raise KintoException(f"/batch answered {got} for {expected} requests.")
    return answers


def _settle(session: Session | LegacySession, request: Request, status: Any) -> Response | None:
    """The session's verdict on a replayed operation (a 4.0-style session never replays)."""
    return session.settle_replay(request, status) if isinstance(session, Session) else None


def _existing(body: Any) -> Any:
    if isinstance(body, dict):
        details = body.get("details")
        if isinstance(details, dict):
            return details.get("existing")
    return None
