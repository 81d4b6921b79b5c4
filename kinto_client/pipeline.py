"""What a call becomes on its way to the server, and the interface of what carries it.

The client turns each call into one :class:`Request`; a :class:`Sender`
carries it and gives back a :class:`Response`. The senders: the HTTP
:class:`~kinto_client.session.Session`, which sends at once (and its
:class:`~kinto_client.dry.DrySession`, which only logs); the
:class:`~kinto_client.batch.Batch`, which queues and answers when its block
ends; and :class:`~kinto_client.legacy.LegacySession`, around a session
object written for kinto-client 4.0. The client never asks which one it
holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import requests
    from requests.auth import AuthBase

    from kinto_client.exceptions import KintoException

__all__ = ["IDEMPOTENT_METHODS", "NO_STATUSES", "Request", "Response", "Sender", "is_idempotent"]

NO_STATUSES: frozenset[int] = frozenset()
#: Methods whose request may be sent twice with the effect of once (a request may say otherwise).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"})


def is_idempotent(method: str) -> bool:
    """Whether sending ``method`` twice has the effect of sending it once."""
    return method in IDEMPOTENT_METHODS


@dataclass(slots=True, init=False)
class Request:
    """One call to the server, built once by the client and never changed.

    :param method: the HTTP method, upper case.
    :param path: the endpoint below the server URL (``/buckets/b``), or an
        absolute URL the server gave (a ``Next-Page``, an attachment).
    :param body: the JSON body, already checked by
        :func:`kinto_client.utils.json_ready` (``None``: no body).
    :param query: query parameters, already encoded as strings.
    :param headers: request headers beyond the sender's defaults.
    :param idempotent: whether the request may be sent again when its first
        attempt may have reached the server (default: from the method).
    :param tolerate: error statuses that are an answer, not a failure (the
        caller handles them: a 412 of ``if_not_exists``, a 404 of ``if_exists``).
    :param needs_answer: set when the caller needs the server's answer at once
        (what it does, e.g. ``'Counting'``): a batch refuses such a request.
    :param files: files for a multipart upload; the body's top-level fields
        are then sent as form fields.
    :param stream: leave the body of a success unread, in ``Response.raw``.
    :param authenticate: send the session's credentials (only ever to the
        server's own origin, whatever this says).
    :param timeout: seconds or ``(connect, read)``; ``...``: the sender's.
    :param extra: other ``requests`` arguments (``cookies``, ``verify``...),
        passed through as given: only from :meth:`Session.request`.
    """

    method: str
    path: str
    body: Any
    query: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    idempotent: bool
    tolerate: frozenset[int]
    needs_answer: str | None
    files: Any
    stream: bool
    authenticate: bool
    timeout: Any
    extra: Mapping[str, Any] | None

    def __init__(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        tolerate: frozenset[int] = NO_STATUSES,
        needs_answer: str | None = None,
        files: Any = None,
        stream: bool = False,
        authenticate: bool = True,
        timeout: Any = ...,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        # Written out (not generated) to fill in ``idempotent`` without a
        # second call: one request value is built per call, batches make many.
        self.method = method
        self.path = path
        self.body = body
        self.query = query
        self.headers = headers
        self.idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        self.tolerate = tolerate
        self.needs_answer = needs_answer
        self.files = files
        self.stream = stream
        self.authenticate = authenticate
        self.timeout = timeout
        self.extra = extra


@dataclass(slots=True)
class Response:
    """What a sender gives back for one :class:`Request`.

    ``status`` is ``None`` while the request is queued in a batch: its
    answer comes with the batch's results.
    """

    status: int | None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    #: an earlier attempt may have reached the server before this answer
    replayed: bool = False
    #: the ``requests.Response`` (HTTP only): for streams and error details
    raw: requests.Response | None = field(default=None, repr=False)
    #: for a tolerated error status: the exception it would have raised
    error: KintoException | None = field(default=None, repr=False)
    #: made up by dry mode (:class:`~kinto_client.dry.DrySession`): no
    #: server gave it, so nothing local is changed on its word
    simulated: bool = False

    @property
    def queued(self) -> bool:
        """Whether the request waits in a batch (no answer yet)."""
        return self.status is None


class Sender(Protocol):
    """What carries requests: sends them now, or queues them for later.

    What a sender cannot do, it refuses with a clear
    :class:`~kinto_client.exceptions.KintoException`: a batch refuses
    requests that need an answer at once, and a session has no batch results.
    """

    auth: AuthBase | None

    @property
    def server_url(self) -> str:
        """The server root, with its prefix (``http://host/v1``)."""
        ...

    def copy(self, **changes: Any) -> Sender:
        """A new sender like this one, with ``changes`` to its settings."""
        ...

    def results(self) -> list[Any]:
        """One response body per queued operation (a batch, once sent)."""
        ...

    def failures(self) -> list[dict[str, Any]]:
        """The queued operations that did not succeed (a batch, once sent)."""
        ...

    def dispatch(self, request: Request) -> Response:
        """Carry ``request`` (raises :class:`~kinto_client.exceptions.KintoException`)."""
        ...

    def close(self) -> None:
        """Release what this sender holds (connections)."""
        ...
