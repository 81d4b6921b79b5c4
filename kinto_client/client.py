"""The Client: Kinto resources as Python methods.

A client holds defaults (bucket, collection) and turns each call into one
:class:`~kinto_client.pipeline.Request`, with its body built by
:mod:`kinto_client.payloads`, for its sender: the HTTP session, which sends
at once, or a batch, which queues. It never asks which one it holds, and
never touches HTTP itself.
"""

# Public methods return the server's JSON bodies, typed as the shapes Kinto
# documents (kinto_client.types); internally a body is Any.
# mypy: no-warn-return-any

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mimetypes
import os
import random
import re
import shutil
import string
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal, SupportsIndex, cast, overload
from urllib.parse import unquote, urljoin, urlsplit

import requests

from kinto_client import payloads, utils
from kinto_client.auth import BasicAuth
from kinto_client.batch import Batch
from kinto_client.endpoints import Endpoints
from kinto_client.exceptions import (
    BucketNotFound,
    CapabilityMissing,
    CollectionNotFound,
    KintoConnectionError,
    KintoException,
    KintoHTTPError,
    KintoTimeout,
    MissingId,
    describe_body,
)
from kinto_client.legacy import LegacySession, is_sender
from kinto_client.payloads import DO_NOT_OVERWRITE
from kinto_client.pipeline import NO_STATUSES, Request, Response, Sender
from kinto_client.session import (
    NOT_GIVEN,
    HTTPFactory,
    NotGiven,
    OnBackoff,
    Session,
    create_session,
)
from kinto_client.types import KintoData, ObjectResponse, Tombstone

logger = logging.getLogger("kinto_client")

__all__ = ["DO_NOT_OVERWRITE", "NOT_MODIFIED", "PATCH_TYPES", "Client", "NotModified", "RecordList"]

_TOLERATE_412 = frozenset({412})
#: The default size (bytes) of the pieces of a downloaded attachment.
_DOWNLOAD_CHUNK = 64 * 1024

#: ``patch_type`` values of the ``patch_*`` methods and their content types:
#: ``merge`` is Kinto's own PATCH (top-level fields replaced), ``merge-patch``
#: RFC 7396 (nested merge, ``None`` removes a field), ``json-patch`` RFC 6902
#: (a list of operations).
PATCH_TYPES = {
    "merge": "application/json",
    "merge-patch": "application/merge-patch+json",
    "json-patch": "application/json-patch+json",
}

#: What ``if_exists=True`` accepts from a DELETE (403: see ``Client._absent``).
_ABSENT = frozenset({403, 404})
#: The methods that write a whole object (``update_*``) may use.
_UPDATE_METHODS = ("PUT", "PATCH")


class NotModified:
    """The answer of a list read with ``if_none_match=`` when nothing changed.

    It iterates as empty and is falsy, so kinto-client 4.0 code that loops
    over the result keeps working; new code tells it apart from an empty
    list with ``result is NOT_MODIFIED``.
    """

    _instance: NotModified | None = None

    def __new__(cls) -> NotModified:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NOT_MODIFIED"

    def __iter__(self) -> Iterator[Any]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        return False


#: See :class:`NotModified`.
NOT_MODIFIED = NotModified()

#: Keyword arguments of :class:`Client` that configure its session.
_SESSION_OPTIONS = (
    "timeout",
    "headers",
    "verify",
    "on_backoff",
    "http",
    "cert",
    "deadline",
    "dry_mode",
)


class RecordList(list[KintoData]):
    """The records of a list call: a plain list that also answers ``['data']``.

    ``records['data']`` is the list itself (kinto-client 4.0's documentation
    reads it that way), so code written either way works. ``timestamp`` is
    the collection's timestamp (from the ``ETag`` of the reply) and
    ``total`` the server's ``Total-Objects`` count, when known.
    """

    timestamp: int | None = None
    total: int | None = None

    @overload
    def __getitem__(self, key: SupportsIndex) -> KintoData: ...
    @overload
    def __getitem__(self, key: slice) -> list[KintoData]: ...
    @overload
    def __getitem__(self, key: Literal["data"]) -> RecordList: ...
    def __getitem__(self, key: Any) -> Any:
        if key == "data":
            return self
        return super().__getitem__(key)


class KintoObject(dict):  # type: ignore[type-arg]
    """A dict read from the server that remembers its bucket and collection.

    When such an object is passed back (``update_record(record)``) to a
    client that has no default collection and no ``collection=`` argument,
    it goes back where it came from.
    """

    __slots__ = ("origin",)

    def __init__(self, value: Mapping[str, Any], origin: tuple[str | None, str | None]) -> None:
        super().__init__(value)
        self.origin = origin


class _ServerInfo:
    """``GET /``, read once and shared by a client and its clones."""

    __slots__ = ("lock", "value")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.value: dict[str, Any] | None = None


class Client:
    """A client for one Kinto server.

    :param server_url: the server with its prefix, e.g. ``http://localhost:8888/v1``.
    :param session: an existing :class:`~kinto_client.session.Session` (then
        give neither ``server_url`` nor ``auth``).
    :param auth: ``(user, password)``, ``'user:password'``,
        ``'Bearer <token>'``, ``'Basic <base64 credentials>'`` or any
        ``requests`` auth object (:class:`~kinto_client.TokenAuth`...).
    :param bucket: the default bucket (``'default'``: the per-user bucket).
    :param collection: the default collection.
    :param retry: how many times to retry a throttled or failed request, or a
        :class:`~kinto_client.retry.Retry` policy.
    :param retry_after: a fixed wait between retries, overriding the server's
        ``Retry-After`` (not recommended).

    Keyword-only: ``timeout``, ``headers``, ``verify``, ``on_backoff``,
    ``http``, ``cert``, ``deadline`` (see :class:`~kinto_client.session.Session`;
    left out, the session's defaults apply), ``dry_mode=True`` (send nothing,
    log what would be sent: see :class:`~kinto_client.dry.DrySession`) and
    ``ignore_batch_4xx``. A client is a context manager: leaving the block
    closes its connections (:meth:`close`).
    """

    def __init__(
        self,
        server_url: str | None = None,
        session: Sender | None = None,
        auth: Any = None,
        bucket: str | None = "default",
        collection: str | None = None,
        retry: Any = 0,
        retry_after: float | None = None,
        *,
        timeout: float | tuple[float, float] | NotGiven | None = NOT_GIVEN,
        headers: Mapping[str, str] | None = None,
        verify: bool | str | NotGiven = NOT_GIVEN,
        on_backoff: OnBackoff | NotGiven = NOT_GIVEN,
        http: requests.Session | HTTPFactory | None = None,
        cert: str | tuple[str, str] | None = None,
        deadline: float | str | NotGiven | None = NOT_GIVEN,
        dry_mode: bool = False,
        ignore_batch_4xx: bool = False,
    ) -> None:
        #: The arguments that made the session, as kinto-client 4.0 kept them.
        self.session_kwargs = {
            "server_url": server_url,
            "auth": auth,
            "session": session,
            "retry": retry,
            "retry_after": retry_after,
        }
        self.session = create_session(  # a sender given is returned as it is
            server_url,
            auth,
            cast("Session | None", session),
            retry,
            retry_after,
            timeout=timeout,
            headers=headers,
            verify=verify,
            on_backoff=on_backoff,
            http=http,
            cert=cert,
            deadline=deadline,
            dry_mode=dry_mode,
        )
        self._bucket_name = bucket
        self._collection_name = collection
        self._ignore_batch_4xx = ignore_batch_4xx
        self._server_info = _ServerInfo()
        self.endpoints = Endpoints()

    @property
    def session(self) -> Sender:
        """What carries this client's requests: a Session, or a Batch.

        An object with kinto-client 4.0's session interface (a ``request()``
        method returning ``(body, headers)``, a mock in a test suite) may be
        given or assigned too: the client then calls it as 4.0 did.
        """
        return self._session

    @session.setter
    def session(self, value: Any) -> None:
        self._session: Sender = value if is_sender(value) else LegacySession(value)
        #: carries one request: the sender's own ``dispatch``, looked up once
        self._send: Callable[[Request], Response] = self._session.dispatch

    def __repr__(self) -> str:
        return (
            f"<KintoClient {self.session.server_url}/buckets/{self._bucket_name}"
            f"/collections/{self._collection_name}>"
        )

    @property
    def bucket_name(self) -> str | None:
        """The default bucket."""
        return self._bucket_name

    @property
    def collection_name(self) -> str | None:
        """The default collection."""
        return self._collection_name

    @property
    def server_url(self) -> str:
        return str(self.session.server_url)

    def close(self) -> None:
        """Close the connections of this client's session, in every thread.

        Clones share the session: closing one closes theirs. A closed client
        still works; it opens new connections when next used.
        """
        self.session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- clients --------------------------------------------------------------

    def clone(self, **kwargs: Any) -> Client:
        """A new client sharing this one's session, bucket and collection
        unless overridden.

        Giving ``server_url``, ``auth``, ``retry``, ``retry_after`` or a
        session option (``timeout``, ``headers``, ``verify``, ``on_backoff``...)
        makes a new session that copies everything else from this one.
        """
        new_session = {"server_url", "auth", "retry", "retry_after", *_SESSION_OPTIONS}
        changes = {key: kwargs.pop(key) for key in new_session & set(kwargs)}
        if "session" not in kwargs:
            kwargs["session"] = self.session.copy(**changes) if changes else self.session
        elif changes:
            raise TypeError(
                f"clone() got session= together with {', '.join(sorted(changes))}: "
                "the session already has its own settings."
            )
        kwargs.setdefault("bucket", self._bucket_name)
        kwargs.setdefault("collection", self._collection_name)
        kwargs.setdefault("ignore_batch_4xx", self._ignore_batch_4xx)
        clone = Client(**kwargs)
        if clone.session is self.session or isinstance(clone.session, Batch):
            clone._server_info = self._server_info  # the same server
        return clone

    @contextlib.contextmanager
    def batch(self, **kwargs: Any) -> Iterator[Client]:
        """Queue the requests made in the ``with`` block and send them to ``/batch``.

        Yields a client with the same methods whose requests are queued. On
        leaving the block they are sent in chunks of the server's
        ``batch_max_requests``; nothing is sent if the block raises. Sending
        stops at the first chunk holding a failure that is not tolerated.
        ``kwargs`` (``bucket=``, ``collection=``...) go to the batch client;
        ``ignore_4xx=True`` reports 4xx failures in ``batch.failures()``
        instead of raising. After the block, ``batch.results()`` has one
        response body per operation. A batch inside a batch queues into the
        outer one, which sends everything.
        """
        ignore_4xx = kwargs.pop("ignore_4xx", self._ignore_batch_4xx)
        batch = Batch.within(self, ignore_4xx=ignore_4xx)
        batch_client = self.clone(session=batch, **kwargs)
        yield batch_client
        if batch is not self.session:
            batch.send()

    def results(self) -> list[Any]:
        """On a batch client, after its block: one response body per operation."""
        return self.session.results()

    def failures(self) -> list[dict[str, Any]]:
        """On a batch client, after its block: the operations that did not succeed."""
        return self.session.failures()

    # -- server ---------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        """``GET /``: the server's version, settings and capabilities (read once).

        Shared with this client's clones and batch clients.
        """
        cache = self._server_info
        with cache.lock:
            if cache.value is None:
                body = self._send(
                    Request(
                        "GET",
                        self.endpoints.get("root"),
                        needs_answer="Reading the server's information",
                    )
                ).body
                if not isinstance(body, dict):
                    raise KintoException(
                        f"The server root ({self.server_url}/) answered "
                        f"{_describe(body)} instead of a JSON object: is this a Kinto server?"
                    )
                cache.value = body
            return cache.value

    @property
    def batch_max_requests(self) -> int:
        """How many operations the server takes in one ``/batch`` request."""
        value = (self.server_info().get("settings") or {}).get("batch_max_requests", 25)
        if isinstance(value, bool) or not isinstance(value, int):
            raise KintoException(
                f"The server's settings.batch_max_requests is {value!r}, not a number of "
                "requests: cannot size batches."
            )
        return value

    def _get(self, endpoint: str, query: Mapping[str, str] | None = None) -> Any:
        response = self._send(Request("GET", endpoint, query=query or None))
        if response.queued:
            return None
        body = response.body
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            raise KintoException(
                f"{endpoint} answered {_describe(body)} instead of an object "
                "({'data': {...}}): is this a Kinto server?"
            )
        return body

    @staticmethod
    def _object_query(caller: str, params: Mapping[str, Any]) -> dict[str, str]:
        """The query parameters of a single-object read (``_fields=[...]``), encoded.

        Kinto ignores unknown parameters there, so a misspelt argument
        (``colection=``) would go unnoticed: only options (``_``) are taken.
        """
        wrong = sorted(name for name in params if not str(name).startswith("_"))
        if wrong:
            raise TypeError(
                f"{caller}() got {', '.join(f'{name}=' for name in wrong)}: a single-object "
                "read takes only query options starting with '_' (such as "
                "_fields=['title']). Check the spelling of the arguments; field filters "
                "apply to lists (get_records)."
            )
        return utils.encode_params(dict(params))

    # -- ids and defaults -------------------------------------------------------

    def _bucket(self, bucket: Any = None) -> Any:
        return self._bucket_name if bucket is None else bucket

    def _collection(self, collection: Any = None) -> Any:
        return self._collection_name if collection is None else collection

    def _locate(self, obj: Any, collection: Any, bucket: Any) -> tuple[Any, Any]:
        """(bucket, collection) for an object passed back: arguments first,
        then the client's defaults; an object read from the server fills in
        only when the client has no default collection."""
        if collection is None and self._collection_name is None and isinstance(obj, KintoObject):
            origin_bucket, origin_collection = obj.origin
            return (bucket if bucket is not None else origin_bucket), origin_collection
        return self._bucket(bucket), self._collection(collection)

    def _located(self, body: Any, bucket: Any, collection: Any) -> Any:
        if isinstance(body, dict):
            origin = tuple(None if v is None else utils.slugify(v) for v in (bucket, collection))
            return KintoObject(body, origin)  # type: ignore[arg-type]
        return body

    @staticmethod
    def _from_original(
        caller: str, original: Any, object_id: Any, last_modified: Any
    ) -> tuple[Any, Any]:
        """(id, last_modified) of a ``patch_*`` call given ``original=``.

        ``original`` is the object read earlier (a whole ``{'data': ...}`` or
        its data): its ``id`` names the object and its ``last_modified`` goes
        in ``If-Match``, as kinto-http.py takes them. Arguments given as well
        must agree with it.
        """
        if original is None:
            return object_id, last_modified
        if not isinstance(original, Mapping):
            raise TypeError(
                f"{caller}(): original= must be the object read earlier (a dict); "
                f"got a {type(original).__name__}."
            )
        data, _ = payloads.unpack(original, None)
        original_id, timestamp = data.get("id"), data.get("last_modified")
        if timestamp is None:
            raise ValueError(
                f"{caller}(): original= has no last_modified, so it cannot say which version "
                "to patch: pass the object as read from the server (or last_modified=)."
            )
        if object_id is None:
            object_id = original_id
        elif original_id is not None and utils.slugify(object_id) != utils.slugify(original_id):
            raise ValueError(
                f"{caller}(): the id given ({object_id!r}) is not the id of original= "
                f"({original_id!r}): give one of them."
            )
        if last_modified is None:
            last_modified = timestamp
        elif str(last_modified).strip('"') != str(timestamp).strip('"'):
            raise ValueError(
                f"{caller}(): last_modified={last_modified!r} is not the last_modified of "
                f"original= ({timestamp!r}): give one of them."
            )
        return object_id, last_modified

    @staticmethod
    def _origin_bucket(original: Any, bucket: Any) -> Any:
        """The bucket an object read earlier came from, unless one is given."""
        if bucket is None and isinstance(original, KintoObject):
            return original.origin[0]
        return bucket

    def get_endpoint(
        self,
        name: str,
        bucket: str | None = None,
        collection: str | None = None,
        id: str | None = None,
        *,
        group: str | None = None,
    ) -> str:
        """The path of an endpoint below the server URL, as this client's calls use it.

        ``name`` is one of ``root``, ``batch``, ``buckets``, ``bucket``,
        ``groups``, ``group``, ``collections``, ``collection``, ``records``,
        ``record``, ``history``, ``permissions``, ``accounts``, ``account``,
        ``attachment``, ``changeset`` (or ``heartbeat``, ``lbheartbeat``,
        ``flush``). ``bucket`` and ``collection`` default to the client's;
        ``id`` is the id of the group, record (``record``, ``attachment``) or
        account the name designates. ``group=`` names the group of the
        ``group`` endpoint, as kinto-http.py does (the same as ``id=``; giving
        both with different values raises). Ids are escaped as in real calls.
        Returns the path without the server URL and its prefix
        (``/buckets/b/collections/c``), as kinto-http.py does; the full URL is
        ``client.server_url + client.get_endpoint(...)``. Nothing is sent.
        """
        pattern = Endpoints.endpoints.get(name) if isinstance(name, str) else None
        if pattern is None:
            raise KintoException(
                f"Unknown endpoint {name!r}; known: {', '.join(sorted(Endpoints.endpoints))}."
            )
        fields = {f for _, f, _, _ in string.Formatter().parse(pattern) if f and f != "root"}
        if "timestamp" in fields:
            raise KintoException(
                f"get_endpoint() cannot build the {name} endpoint (it needs a timestamp)."
            )
        if group is not None:
            if "group" not in fields:
                raise ValueError(
                    f"The {name} endpoint takes no group= (it is built from "
                    f"{', '.join(sorted(fields)) or 'nothing'}): leave it out."
                )
            if id is not None and id != group:
                raise ValueError(
                    f"get_endpoint() got id={id!r} and group={group!r}: they name the same "
                    "group; give one of them."
                )
            id = group
        given = {"bucket": bucket, "collection": collection, "id": id}
        values = {
            "bucket": self._bucket(bucket),
            "collection": self._collection(collection),
            "id": id,
            "group": id,
            "user": id,
        }
        for argument, value in given.items():
            wanted = ("id", "group", "user") if argument == "id" else (argument,)
            if value is not None and not fields & set(wanted):
                raise ValueError(
                    f"The {name} endpoint takes no {argument}= (it is built from "
                    f"{', '.join(sorted(fields)) or 'nothing'}): leave it out."
                )
        if name == "account":
            return self._account(id, "get_endpoint")
        return self.endpoints.get(name, **{f: values[f] for f in fields})

    # -- generic operations ---------------------------------------------------

    def _create(
        self,
        endpoint: str,
        data: Any,
        permissions: Any,
        safe: bool,
        if_not_exists: bool,
    ) -> Any:
        response = self._send(
            Request(
                "PUT",
                endpoint,
                body=payloads.kinto_body(data, permissions) or None,
                headers=DO_NOT_OVERWRITE if (safe or if_not_exists) else None,
                tolerate=_TOLERATE_412 if if_not_exists else NO_STATUSES,
            )
        )
        if response.status == 412:  # if_not_exists: it exists, read it
            return self._get(endpoint)
        return response.body

    def _update(
        self,
        endpoint: str,
        data: Any,
        permissions: Any,
        safe: bool,
        last_modified: Any,
        method: str = "put",
        *,
        content_type: str | None = None,
    ) -> Any:
        verb = method.upper() if isinstance(method, str) else method
        if verb not in _UPDATE_METHODS:
            raise ValueError(
                f"method must be 'put' (replace) or 'patch' (merge); got {method!r}. "
                "To delete, use the delete_* methods."
            )
        headers = payloads.if_match(safe, data, last_modified)
        if content_type:
            headers = {**(headers or {}), "Content-Type": content_type}
        body = payloads.kinto_body(data, permissions) or None
        return self._send(Request(verb, endpoint, body=body, headers=headers)).body

    def _delete(
        self, endpoint: str, safe: bool, last_modified: Any, if_exists: bool = False
    ) -> Any:
        response = self._send(
            Request(
                "DELETE",
                endpoint,
                headers=payloads.if_match(safe, None, last_modified),
                tolerate=_ABSENT if if_exists else NO_STATUSES,
            )
        )
        if response.error is not None:  # if_exists, and a 403 or 404
            if self._absent(response, endpoint):
                return None
            raise response.error
        body = response.body
        return body["data"] if body else body

    def _absent(self, response: Response, endpoint: str, plural: bool = False) -> bool:
        """Whether a failed DELETE means "not there" for ``if_exists=True``.

        404 does. Kinto answers 403 both for a missing object whose parent
        these credentials cannot write (a missing bucket, say) and for an
        existing one they may not delete: a read of the same URL tells them
        apart (readable: it exists, so the 403 stands).
        """
        if response.status == 404:
            return True
        probe = self._send(
            Request(
                "GET",
                endpoint,
                query={"_limit": "1"} if plural else None,
                tolerate=_ABSENT,
                needs_answer="Telling a missing object from a forbidden one",
            )
        )
        return probe.status in _ABSENT

    def _pages(self, request: Request, pages: int | None = None) -> Iterator[Response]:
        """Yield the answer to ``request``, then each page its ``Next-Page`` leads to.

        Stops after ``pages`` pages. A ``Next-Page`` to another origin than
        the server's, or one already followed (a loop), raises: neither is
        ever followed.
        """
        if pages is not None and (isinstance(pages, bool) or not isinstance(pages, int)):
            raise TypeError(f"pages must be a whole number of pages or None; got {pages!r}.")
        if pages is not None and pages < 1:
            raise ValueError(f"pages must be 1 or more (or None for all); got {pages!r}.")
        response = self._send(request)
        yield response
        fetched = 1
        followed: set[str] = set()
        while response.status == 200 and (pages is None or fetched < pages):
            link = response.headers.get("Next-Page")
            if not link:
                return
            self._check_link(link, followed)
            del response  # hold no page while fetching the next: the caller holds its own
            # The request's headers go with every page (If-None-Match), as in 4.0.
            response = self._send(
                Request("GET", link, headers=request.headers, needs_answer="Following Next-Page")
            )
            fetched += 1
            yield response

    def _check_link(self, link: str, followed: set[str]) -> None:
        """Refuse a ``Next-Page`` that leaves the server, or loops."""
        if not utils.same_origin(utils.urljoin(self.server_url, link), self.server_url):
            raise KintoException(
                f"The server sent a Next-Page link to another origin ({utils.origin(link)}) than "
                f"{utils.origin(self.server_url)}: not followed, so that neither the credentials "
                "nor the query go there. The list read so far is incomplete."
            )
        if link in followed:
            raise KintoException(
                f"The server sent the Next-Page link {link} a second time: a pagination "
                "loop. Stopped; the list read so far is incomplete."
            )
        followed.add(link)

    def _list(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        pages: int | None = None,
        if_none_match: Any = None,
    ) -> Any:
        request = _list_request(endpoint, params, if_none_match)
        result = RecordList()
        for i, response in enumerate(self._pages(request, pages)):
            if response.queued:
                return None  # inside a batch: the first page comes with its results
            if response.status == 304:
                return NOT_MODIFIED
            if i == 0:
                result.timestamp = _etag(response.headers)
                result.total = _total(response.headers)
            result.extend(_objects(response, endpoint))
        if i > 0:
            _merge_repeats(result)
        return result

    def _delete_list(
        self,
        endpoint: str,
        params: Mapping[str, Any],
        if_exists: bool = False,
        if_match: Any = None,
        safe: bool = True,
    ) -> Any:
        """Plural DELETE, repeated until the server reports no next page.

        Kinto deletes at most one page (``paginate_by``, or ``_limit``) per
        request and sets ``Next-Page`` when more objects matched. The deleted
        ones no longer match, so the same request is sent again until none
        is left. Returns every deleted object (tombstones). An object deleted
        twice means the server is looping: that raises.

        ``if_match`` (with ``safe``) is the list's timestamp as the caller
        read it: the first request sends it in ``If-Match``, each next one
        the timestamp the server answered to the previous one (the list as
        our own deletions left it). So the whole deletion is refused (412)
        if the list changed before it began, and stops (412) if someone else
        changes it between two pages.
        """
        query = utils.encode_params(dict(params)) or None
        headers = payloads.if_match(safe, None, _list_timestamp(if_match))
        request = Request(
            "DELETE",
            endpoint,
            query=query,
            headers=headers,
            tolerate=_ABSENT if if_exists else NO_STATUSES,
        )
        deleted: list[Any] = []
        seen: set[Any] = set()
        while True:
            try:
                response = self._send(request)
            except KintoHTTPError as exc:
                if not deleted or exc.status_code != 412:
                    raise
                raise KintoHTTPError(
                    f"{exc} The list changed while it was deleted page by page: "
                    f"{len(deleted)} objects were deleted before the change, the rest were not.",
                    exc,
                ) from None
            if response.queued:
                return None
            if response.error is not None:
                if self._absent(response, endpoint, plural=True):
                    return deleted
                raise response.error
            page = _objects(response, endpoint)
            ids = {obj.get("id") for obj in page if isinstance(obj, dict)}
            if ids & seen:
                raise KintoException(
                    f"DELETE {endpoint} answered objects it had already deleted "
                    f"({sorted(map(str, ids & seen))[:3]}...): the server is looping. "
                    f"Stopped after deleting {len(deleted)} objects."
                )
            seen |= ids
            deleted.extend(page)
            if not page or not response.headers.get("Next-Page"):
                return deleted
            if headers is not None:
                timestamp = response.headers.get("ETag")
                if not timestamp:
                    raise KintoException(
                        f"DELETE {endpoint} sent no ETag, so the next page cannot be deleted "
                        f"under If-Match: stopped after deleting {len(deleted)} objects."
                    )
                headers = payloads.if_match(True, None, timestamp)
            request = Request(
                "DELETE",
                endpoint,
                query=query,
                headers=headers,
                needs_answer="Deleting page by page",
            )

    def _count(self, endpoint: str, params: Mapping[str, Any]) -> int:
        """``HEAD`` on a list: the server's ``Total-Objects`` for these filters."""
        response = self._send(
            Request(
                "HEAD",
                endpoint,
                query=utils.encode_params(dict(params)) or None,
                needs_answer="Counting",
            )
        )
        total = _total(response.headers)
        if total is None:
            raise KintoException(f"The server sent no Total-Objects header for HEAD {endpoint}.")
        return total

    def _patch(
        self,
        endpoint: str,
        data: Any,
        permissions: Any,
        safe: bool,
        last_modified: Any,
        patch_type: str | None,
        changes: Any,
        add_principals: Any,
        remove_principals: Any,
    ) -> Any:
        """PATCH an object in one of :data:`PATCH_TYPES`.

        ``changes`` (RFC 6902 operations) and ``add_principals`` /
        ``remove_principals`` imply ``json-patch``; ``data`` then becomes
        ``add /data/<field>`` operations (the same effect as a merge).
        """
        json_patch = changes is not None or add_principals or remove_principals
        if patch_type is None:
            patch_type = "json-patch" if json_patch else "merge"
        if patch_type not in PATCH_TYPES:
            raise ValueError(
                f"patch_type must be one of {', '.join(map(repr, PATCH_TYPES))}; "
                f"got {patch_type!r}."
            )
        if json_patch and patch_type != "json-patch":
            raise ValueError(
                "changes=, add_principals= and remove_principals= are JSON Patch (RFC 6902) "
                f"operations: leave patch_type unset or 'json-patch' (got {patch_type!r})."
            )
        if patch_type != "json-patch":
            if data is None and permissions is None:
                raise ValueError("Nothing to patch: give data= and/or permissions=.")
            content_type = None if patch_type == "merge" else PATCH_TYPES[patch_type]
            return self._update(
                endpoint, data, permissions, safe, last_modified, "patch", content_type=content_type
            )
        if permissions is not None:
            raise ValueError(
                "permissions= replaces whole permission lists and cannot be mixed with a JSON "
                "Patch: use add_principals= / remove_principals= (or patch_type='merge')."
            )
        ops = payloads.data_ops(data) + payloads.patch_ops(changes)
        headers = payloads.if_match(safe, data, last_modified) or {}
        add = payloads.check_permissions(add_principals) if add_principals else {}
        remove = payloads.check_permissions(remove_principals) if remove_principals else {}
        current: Mapping[str, Any] = {}
        timestamp = None
        if (set(add) | set(remove)) - set(payloads.BASE_PERMISSIONS):
            # Which permission lists exist decides the operations: read them.
            obj = self._send(
                Request(
                    "GET",
                    endpoint,
                    needs_answer="A JSON Patch of permissions other than read and write",
                )
            ).body
            current = (obj or {}).get("permissions") or {}
            timestamp = ((obj or {}).get("data") or {}).get("last_modified")
        principal_ops, creates = payloads.principal_ops(add, remove, current)
        ops += principal_ops
        if creates and timestamp is not None and "If-Match" not in headers:
            # A permission list is created from what was just read: refuse
            # (412) rather than overwrite one created meanwhile.
            headers.update(payloads.if_match(True, None, timestamp) or {})
        if not ops:
            raise ValueError(
                "Nothing to patch: give data=, changes=, add_principals= or remove_principals=."
            )
        request = Request(
            "PATCH",
            endpoint,
            body=utils.json_ready(ops),
            headers={**headers, "Content-Type": PATCH_TYPES["json-patch"]},
            # Caller's operations may not be idempotent (an append to "/-",
            # a move): never replay them. Ours (set a field, add or remove a
            # principal) are.
            idempotent=changes is None,
        )
        return self._send(request).body

    # -- buckets ----------------------------------------------------------------

    @overload
    def get_buckets(
        self,
        *,
        pages: int | None = None,
        if_none_match: None = None,
        **filters: Any,
    ) -> RecordList: ...
    @overload
    def get_buckets(
        self,
        *,
        pages: int | None = None,
        if_none_match: int | str,
        **filters: Any,
    ) -> RecordList | NotModified: ...
    def get_buckets(
        self,
        *,
        pages: int | None = None,
        if_none_match: int | str | None = None,
        **filters: Any,
    ) -> RecordList | NotModified:
        """Every bucket readable by these credentials, all pages followed.

        ``filters`` become query parameters (see :meth:`get_records`);
        ``if_none_match=<timestamp>`` returns :data:`NOT_MODIFIED` when the
        list has not changed since.
        """
        return self._list(self.endpoints.get("buckets"), filters, pages, if_none_match)

    def count_buckets(self, **filters: Any) -> int:
        """How many buckets these credentials can read (``HEAD``, ``Total-Objects``)."""
        return self._count(self.endpoints.get("buckets"), filters)

    def create_bucket(
        self,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> ObjectResponse:
        """Create a bucket (``if_not_exists=True``: return it if it exists)."""
        data, permissions = payloads.unpack(data, permissions)
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def update_bucket(
        self,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        method: str = "patch",
    ) -> ObjectResponse:
        """Merge ``data`` and ``permissions`` into a bucket (a PATCH, as in 4.0).

        The bucket's other fields stay. ``method='put'`` replaces the whole
        bucket instead.
        """
        data, permissions = payloads.unpack(data, permissions)
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_bucket(
        self,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        *,
        patch_type: str | None = None,
        changes: Iterable[Mapping[str, Any]] | None = None,
        add_principals: Mapping[str, Iterable[str]] | None = None,
        remove_principals: Mapping[str, Iterable[str]] | None = None,
        original: Mapping[str, Any] | None = None,
    ) -> ObjectResponse:
        """Patch a bucket; see :meth:`patch_record` for the patch options
        (``original=`` included)."""
        bucket, last_modified = self._from_original("patch_bucket", original, bucket, last_modified)
        data, permissions = payloads.unpack(data, permissions)
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._patch(
            endpoint,
            data,
            permissions,
            safe,
            last_modified,
            patch_type,
            changes,
            add_principals,
            remove_principals,
        )

    def get_bucket(self, bucket: str | int | None = None, **options: Any) -> ObjectResponse:
        """Read a bucket; raises :class:`BucketNotFound` when it cannot be read.

        ``options`` become query parameters as in :meth:`get_record`
        (``_fields=['title']``).
        """
        name = self._bucket(bucket)
        query = self._object_query("get_bucket", options)
        endpoint = self.endpoints.get("bucket", bucket=name)
        try:
            return self._get(endpoint, query)
        except KintoHTTPError as exc:
            status = exc.status_code
            if status in (403, 404):
                raise BucketNotFound(utils.slugify(name), exc) from None
            raise  # a 401 already says how to authenticate

    def delete_bucket(
        self,
        bucket: str | int | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        if_exists: bool = False,
    ) -> Tombstone | None:
        """Delete a bucket and everything in it; returns the deleted object's data.

        ``if_exists=True``: no error (``None``) when the bucket does not exist
        or is invisible to these credentials.
        """
        endpoint = self.endpoints.get("bucket", bucket=self._bucket(bucket))
        return self._delete(endpoint, safe, last_modified, if_exists)

    def delete_buckets(
        self,
        *,
        if_exists: bool = False,
        safe: bool = True,
        if_match: int | str | None = None,
        **filters: Any,
    ) -> list[Tombstone]:
        """Delete every bucket these credentials can (filters as keywords).

        Follows the server's pages until none is left; returns the tombstones.
        ``if_match=<timestamp>`` (the list's, e.g. ``get_buckets().timestamp``;
        with ``safe``) sends ``If-Match``: refused (412, nothing deleted) if
        the list changed since; each next page is sent under the timestamp
        the previous deletion left, so a change by someone else between two
        pages stops the deletion (412).
        """
        endpoint = self.endpoints.get("buckets")
        return self._delete_list(endpoint, filters, if_exists, if_match, safe)

    # -- collections --------------------------------------------------------------

    @overload
    def get_collections(
        self,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: None = None,
        **filters: Any,
    ) -> RecordList: ...
    @overload
    def get_collections(
        self,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str,
        **filters: Any,
    ) -> RecordList | NotModified: ...
    def get_collections(
        self,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str | None = None,
        **filters: Any,
    ) -> RecordList | NotModified:
        """Every collection of a bucket, all pages followed (see :meth:`get_buckets`)."""
        endpoint = self.endpoints.get("collections", bucket=self._bucket(bucket))
        return self._list(endpoint, filters, pages, if_none_match)

    def count_collections(self, bucket: str | int | None = None, **filters: Any) -> int:
        """How many collections a bucket has (``HEAD``, ``Total-Objects``)."""
        endpoint = self.endpoints.get("collections", bucket=self._bucket(bucket))
        return self._count(endpoint, filters)

    def create_collection(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> ObjectResponse:
        """Create a collection (``if_not_exists=True``: return it if it exists)."""
        data, permissions = payloads.unpack(data, permissions)
        endpoint = self.endpoints.get(
            "collection", bucket=self._bucket(bucket), collection=self._collection(collection)
        )
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def _collection_target(
        self, data: Any, permissions: Any, collection: Any, bucket: Any
    ) -> tuple[str, Any, Any]:
        """(endpoint, data, permissions) of a collection given as arguments or
        as a whole object read earlier."""
        obj = data
        data, permissions = payloads.unpack(data, permissions)
        if collection is None and self._collection_name is None and isinstance(data, Mapping):
            collection = data.get("id")
            # A collection read earlier goes back to the bucket it came from.
            if bucket is None and isinstance(obj, KintoObject) and obj.origin[0] is not None:
                bucket = obj.origin[0]
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get("collection", bucket=bucket, collection=collection)
        return endpoint, data, permissions

    def update_collection(
        self,
        data: Mapping[str, Any] | None = None,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        method: str = "put",
        safe: bool = True,
        last_modified: int | str | None = None,
    ) -> ObjectResponse:
        """Replace (or patch) a collection's data and permissions.

        ``data`` may be a whole object as returned by :meth:`get_collection`.
        With ``data=None`` only the permissions are written; data is kept.
        """
        endpoint, data, permissions = self._collection_target(data, permissions, collection, bucket)
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_collection(
        self,
        data: Mapping[str, Any] | None = None,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        *,
        patch_type: str | None = None,
        changes: Iterable[Mapping[str, Any]] | None = None,
        add_principals: Mapping[str, Iterable[str]] | None = None,
        remove_principals: Mapping[str, Iterable[str]] | None = None,
        original: Mapping[str, Any] | None = None,
    ) -> ObjectResponse:
        """Patch a collection; see :meth:`patch_record` for the patch options
        (``original=`` included)."""
        collection, last_modified = self._from_original(
            "patch_collection", original, collection, last_modified
        )
        bucket = self._origin_bucket(original, bucket)
        endpoint, data, permissions = self._collection_target(data, permissions, collection, bucket)
        return self._patch(
            endpoint,
            data,
            permissions,
            safe,
            last_modified,
            patch_type,
            changes,
            add_principals,
            remove_principals,
        )

    def get_collection(
        self, collection: str | int | None = None, bucket: str | int | None = None, **options: Any
    ) -> ObjectResponse:
        """Read a collection: ``{'data': ..., 'permissions': ...}``.

        Raises :class:`CollectionNotFound` when the collection (or its
        bucket) does not exist or cannot be read. ``options`` become query
        parameters as in :meth:`get_record` (``_fields=['title']``).
        """
        bucket, collection = self._bucket(bucket), self._collection(collection)
        query = self._object_query("get_collection", options)
        endpoint = self.endpoints.get("collection", bucket=bucket, collection=collection)
        try:
            body = self._get(endpoint, query)
        except KintoHTTPError as exc:
            if exc.status_code in (403, 404):
                raise CollectionNotFound(
                    utils.slugify(collection), exc, bucket=utils.slugify(bucket)
                ) from None
            raise  # a 401 already says how to authenticate
        return self._located(body, bucket, None)

    def delete_collection(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        if_exists: bool = False,
    ) -> Tombstone | None:
        """Delete a collection and its records; returns the deleted object's data."""
        endpoint = self.endpoints.get(
            "collection", bucket=self._bucket(bucket), collection=self._collection(collection)
        )
        return self._delete(endpoint, safe, last_modified, if_exists)

    def delete_collections(
        self,
        bucket: str | int | None = None,
        *,
        if_exists: bool = False,
        safe: bool = True,
        if_match: int | str | None = None,
        **filters: Any,
    ) -> list[Tombstone]:
        """Delete every collection of a bucket (filters as keywords), all pages.

        ``if_match=`` (the list's timestamp): see :meth:`delete_buckets`.
        """
        endpoint = self.endpoints.get("collections", bucket=self._bucket(bucket))
        return self._delete_list(endpoint, filters, if_exists, if_match, safe)

    # -- groups -------------------------------------------------------------------

    @overload
    def get_groups(
        self,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: None = None,
        **filters: Any,
    ) -> RecordList: ...
    @overload
    def get_groups(
        self,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str,
        **filters: Any,
    ) -> RecordList | NotModified: ...
    def get_groups(
        self,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str | None = None,
        **filters: Any,
    ) -> RecordList | NotModified:
        """Every group of a bucket, all pages followed (see :meth:`get_buckets`)."""
        endpoint = self.endpoints.get("groups", bucket=self._bucket(bucket))
        return self._list(endpoint, filters, pages, if_none_match)

    def count_groups(self, bucket: str | int | None = None, **filters: Any) -> int:
        """How many groups a bucket has (``HEAD``, ``Total-Objects``)."""
        endpoint = self.endpoints.get("groups", bucket=self._bucket(bucket))
        return self._count(endpoint, filters)

    def _group_target(
        self, group: Any, bucket: Any, data: Any, permissions: Any
    ) -> tuple[str, Any, Any]:
        """(endpoint, data, permissions) of a group given by name or as a whole
        object read earlier (its id and bucket are then used)."""
        if isinstance(bucket, Mapping):
            raise TypeError(
                "The second argument of the group methods is the bucket, as in "
                "create_group(group, bucket, data): pass the group's data as data=..."
            )
        obj = data
        data, permissions = payloads.unpack(data, permissions)
        if group is None and isinstance(data, Mapping):
            group = data.get("id")
        if bucket is None and isinstance(obj, KintoObject) and obj.origin[0] is not None:
            bucket = obj.origin[0]
        endpoint = self.endpoints.get("group", bucket=self._bucket(bucket), group=group)
        return endpoint, data, permissions

    def create_group(
        self,
        group: str | int | None = None,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> ObjectResponse:
        """Create a group: ``data={'members': ['principal', ...]}``.

        ``if_not_exists=True`` returns the existing group instead of failing.
        """
        endpoint, data, permissions = self._group_target(group, bucket, data, permissions)
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def get_group(
        self, group: str | int | None = None, bucket: str | int | None = None, **options: Any
    ) -> ObjectResponse:
        """Read a group: ``{'data': {'members': [...], ...}, 'permissions': ...}``.

        ``options`` become query parameters as in :meth:`get_record`.
        """
        bucket = self._bucket(bucket)
        query = self._object_query("get_group", options)
        endpoint = self.endpoints.get("group", bucket=bucket, group=group)
        return self._located(self._get(endpoint, query), bucket, None)

    def update_group(
        self,
        group: str | int | None = None,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        method: str = "put",
    ) -> ObjectResponse:
        """Replace (``method='put'``) a group's data and permissions.

        The arguments come in :meth:`create_group`'s order (name, bucket,
        data...). ``data`` may be a whole object read with :meth:`get_group`:
        its id, bucket, data and permissions are used.
        """
        endpoint, data, permissions = self._group_target(group, bucket, data, permissions)
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_group(
        self,
        group: str | int | None = None,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        *,
        patch_type: str | None = None,
        changes: Iterable[Mapping[str, Any]] | None = None,
        add_principals: Mapping[str, Iterable[str]] | None = None,
        remove_principals: Mapping[str, Iterable[str]] | None = None,
        original: Mapping[str, Any] | None = None,
    ) -> ObjectResponse:
        """Patch a group; see :meth:`patch_record` for the patch options
        (``original=`` included).

        Adding one member without rewriting the list is a JSON Patch:
        ``changes=[{'op': 'add', 'path': '/data/members/-', 'value': 'bob'}]``.
        """
        group, last_modified = self._from_original("patch_group", original, group, last_modified)
        bucket = self._origin_bucket(original, bucket)
        endpoint, data, permissions = self._group_target(group, bucket, data, permissions)
        return self._patch(
            endpoint,
            data,
            permissions,
            safe,
            last_modified,
            patch_type,
            changes,
            add_principals,
            remove_principals,
        )

    def delete_group(
        self,
        group: str | int | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        if_exists: bool = False,
    ) -> Tombstone | None:
        """Delete a group; returns the deleted object's data."""
        endpoint = self.endpoints.get("group", bucket=self._bucket(bucket), group=group)
        return self._delete(endpoint, safe, last_modified, if_exists)

    def delete_groups(
        self,
        bucket: str | int | None = None,
        *,
        if_exists: bool = False,
        safe: bool = True,
        if_match: int | str | None = None,
        **filters: Any,
    ) -> list[Tombstone]:
        """Delete every group of a bucket (filters as keywords), all pages.

        ``if_match=`` (the list's timestamp): see :meth:`delete_buckets`.
        """
        endpoint = self.endpoints.get("groups", bucket=self._bucket(bucket))
        return self._delete_list(endpoint, filters, if_exists, if_match, safe)

    # -- records ------------------------------------------------------------------

    def _records_endpoint(self, collection: Any, bucket: Any) -> str:
        return self.endpoints.get(
            "records", bucket=self._bucket(bucket), collection=self._collection(collection)
        )

    def iter_records(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        pages: int | None = None,
        **filters: Any,
    ) -> Iterator[KintoData]:
        """Yield the records page by page; memory stays bounded by one page.

        Each page is requested only when the previous one is consumed.
        ``filters`` become query parameters as in :meth:`get_records`
        (``_limit`` is the page size); ``pages`` stops after that many pages.
        """
        endpoint = self._records_endpoint(collection, bucket)
        request = _list_request(endpoint, filters, needs_answer="Reading page by page")
        for response in self._pages(request, pages):
            objects = _objects(response, endpoint)
            del response  # hold one page at a time: not this one while fetching the next
            yield from objects
            del objects

    def get_paginated_records(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str | None = None,
        **filters: Any,
    ) -> Iterator[dict[str, Any]]:
        """Yield each page of records as the server sent it: ``{'data': [...]}``.

        kinto-http.py's ``get_paginated_records``: ``filters``, ``pages``
        and ``if_none_match`` as in :meth:`get_records`. Each page is
        requested only when the previous one is consumed, so memory stays
        bounded by one page; when nothing changed since ``if_none_match``,
        nothing is yielded. To go through records rather than pages, use
        :meth:`iter_records`.
        """
        endpoint = self._records_endpoint(collection, bucket)
        request = _list_request(endpoint, filters, if_none_match, "Reading page by page")
        for response in self._pages(request, pages):
            if response.status == 304:  # nothing changed since if_none_match
                return
            _objects(response, endpoint)  # a list answer, or an error naming what came
            page = response.body
            del response  # hold one page at a time: not this one while fetching the next
            yield page
            del page

    @overload
    def get_records(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: None = None,
        **filters: Any,
    ) -> RecordList: ...
    @overload
    def get_records(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str,
        **filters: Any,
    ) -> RecordList | NotModified: ...
    def get_records(
        self,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        *,
        pages: int | None = None,
        if_none_match: int | str | None = None,
        **filters: Any,
    ) -> RecordList | NotModified:
        """Every record of a collection, all pages followed (a :class:`RecordList`).

        ``filters`` become query parameters, encoded by
        :func:`kinto_client.utils.encode_params`: ``_sort='-last_modified'``,
        ``_fields=['title', 'done']``, ``_limit=100`` (the page size),
        ``in_id=['a', 'b']``, ``has_done=True``, ``like_title='*kinto*'``,
        ``contains_tags=['a']``, ``min_age=18``, ``**{'author.name': 'bob'}``...
        ``_since=<timestamp>`` returns what changed since, deletions included
        as tombstones (``{'id':..., 'last_modified':..., 'deleted': True}``).
        ``pages=N`` stops after N pages. ``if_none_match=<timestamp>`` returns
        :data:`NOT_MODIFIED` (not a list) when nothing changed since.
        The result's ``.timestamp`` is the collection's timestamp.
        """
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get("records", bucket=bucket, collection=collection)
        records = self._list(endpoint, filters, pages, if_none_match)
        if self._collection_name is None and isinstance(records, RecordList):
            origin = (utils.slugify(bucket), utils.slugify(collection))
            records[:] = [KintoObject(r, origin) for r in records]  # type: ignore[misc]
        return records

    def count_records(
        self, collection: str | int | None = None, bucket: str | int | None = None, **filters: Any
    ) -> int:
        """How many records match ``filters`` (``HEAD``, ``Total-Objects``)."""
        return self._count(self._records_endpoint(collection, bucket), filters)

    def get_records_timestamp(
        self, collection: str | int | None = None, bucket: str | int | None = None
    ) -> int:
        """The collection's current timestamp (``ETag`` of a ``HEAD`` on its records)."""
        response = self._send(
            Request(
                "HEAD",
                self._records_endpoint(collection, bucket),
                needs_answer="Reading a timestamp",
            )
        )
        timestamp = _etag(response.headers)
        if timestamp is None:
            raise KintoException("The server sent no ETag for the records list.")
        return timestamp

    def sync_records(
        self,
        records: dict[str, Any],
        since: int | None = None,
        collection: str | int | None = None,
        bucket: str | int | None = None,
    ) -> int | None:
        """Bring a local ``{id: record}`` dict up to date; return the new timestamp.

        With ``since`` (the timestamp this returned last time) only what
        changed since is fetched (``_since``, ``If-None-Match``): new and
        updated records are stored, deleted ones (tombstones) removed. With
        ``since=None`` everything is read and ``records`` becomes an exact
        copy. Pages are applied one at a time. In dry mode ``records`` is
        left as it is and ``since`` returned.
        """
        endpoint = self._records_endpoint(collection, bucket)
        request = Request("GET", endpoint, needs_answer="Syncing")
        if since is not None:
            request = Request(
                "GET",
                endpoint,
                query=utils.encode_params({"_since": since}),
                headers=payloads.if_none_match(since),
                needs_answer="Syncing",
            )
        seen: set[str] = set()
        timestamp = since
        for i, response in enumerate(self._pages(request)):
            if response.status == 304:  # nothing changed
                return since
            if response.simulated:  # dry mode: no server said what changed
                return since
            if i == 0:
                timestamp = _etag(response.headers) or timestamp
            for obj in _objects(response, endpoint):
                if obj.get("deleted"):
                    records.pop(obj["id"], None)
                else:
                    records[obj["id"]] = obj
                    seen.add(obj["id"])
        if since is None:
            for stale in set(records) - seen:
                del records[stale]
        return timestamp

    def get_record(
        self,
        id: str | int,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        **options: Any,
    ) -> ObjectResponse:
        """Read one record: ``{'data': {...}, 'permissions': {...}}``.

        ``options`` become query parameters, encoded as the filters of
        :meth:`get_records`: ``_fields=['title', 'done']`` returns only those
        fields (with ``id`` and ``last_modified``, and no permissions). Only
        names starting with ``_`` are taken: the server ignores any other, so
        a misspelt argument raises instead, before anything is sent.
        """
        bucket, collection = self._bucket(bucket), self._collection(collection)
        query = self._object_query("get_record", options)
        endpoint = self.endpoints.record(bucket, collection, id)
        body = self._get(endpoint, query)
        if self._collection_name is not None:
            return body  # the origin only serves clients without a default collection
        return self._located(body, bucket, collection)

    def create_record(
        self,
        data: Mapping[str, Any] | None = None,
        id: str | int | None = None,
        collection: str | int | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
        *,
        server_id: bool = False,
    ) -> ObjectResponse:
        """Create a record.

        Its id is ``id``, else ``data['id']``, else a new UUID4 drawn once
        (retries reuse it, so a retried create never duplicates). With
        ``server_id=True`` and no id, the server picks the id (``POST``):
        the record's id is then in the answer (or in ``batch.results()``).
        """
        if type(data) is not dict or "data" in data:  # not a plain record: see unpack
            data, permissions = payloads.unpack(data if data is not None else {}, permissions)
        if bucket is None:
            bucket = self._bucket_name
        if collection is None:
            collection = self._collection_name
        record_id = id if id is not None else data.get("id")
        if record_id is None and server_id:
            endpoint = self.endpoints.get("records", bucket=bucket, collection=collection)
            body = payloads.kinto_body(data, permissions)
            return self._send(Request("POST", endpoint, body=body)).body
        if record_id is None:
            record_id = utils.new_id()
        endpoint = self.endpoints.record(bucket, collection, record_id)
        data = payloads.with_id(data, record_id)
        return self._create(endpoint, data, permissions, safe, if_not_exists)

    def _record_target(
        self,
        data: Any,
        id: Any,
        collection: Any,
        bucket: Any,
        permissions: Any,
        original: Any = None,
    ) -> tuple[str, Any, Any]:
        """(endpoint, data with its id, permissions) of a record to write.

        Its location comes from ``original`` (a record read earlier) when
        given as one, else from ``data``.
        """
        obj = original if isinstance(original, KintoObject) else data
        data, permissions = payloads.unpack(data, permissions)
        record_id = id if id is not None else (data or {}).get("id")
        if record_id is None:
            raise MissingId("Unable to update a record, need an id.")
        bucket, collection = self._locate(obj, collection, bucket)
        endpoint = self.endpoints.record(bucket, collection, record_id)
        if data is not None:
            data = payloads.with_id(data, record_id)
        return endpoint, data, permissions

    def update_record(
        self,
        data: Mapping[str, Any] | None,
        id: str | int | None = None,
        collection: str | int | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        method: str = "put",
        last_modified: int | str | None = None,
    ) -> ObjectResponse:
        """Replace (``method='put'``) or patch a record.

        ``data`` may be a whole object as returned by :meth:`get_record`: its
        data and permissions are both written. The id is ``id`` or
        ``data['id']``; with neither, raises :class:`MissingId` (a ``KeyError``).
        """
        endpoint, data, permissions = self._record_target(data, id, collection, bucket, permissions)
        return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_record(
        self,
        data: Mapping[str, Any] | None = None,
        id: str | int | None = None,
        collection: str | int | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        *,
        patch_type: str | None = None,
        changes: Iterable[Mapping[str, Any]] | None = None,
        add_principals: Mapping[str, Iterable[str]] | None = None,
        remove_principals: Mapping[str, Iterable[str]] | None = None,
        original: Mapping[str, Any] | None = None,
    ) -> ObjectResponse:
        """Patch a record: change some fields, keep the others.

        ``patch_type`` (:data:`PATCH_TYPES`):

        - ``'merge'`` (default): Kinto's PATCH; each top-level field of
          ``data`` replaces the stored one; each permission given in
          ``permissions`` replaces that permission's list.
        - ``'merge-patch'``: JSON Merge Patch (RFC 7396): nested objects are
          merged, a ``None`` value removes the field; permissions merge alike.
        - ``'json-patch'``: JSON Patch (RFC 6902). ``changes`` is a list of
          operations on ``/data/...`` and ``/permissions/...`` paths, e.g.
          ``[{'op': 'remove', 'path': '/data/draft'}]``; ``data`` may be given
          too (its fields are set). Implied by ``changes`` and by:
        - ``add_principals={'read': ['system.Everyone']}`` /
          ``remove_principals={'write': ['bob']}``: add or remove principals
          without rewriting the permission lists (removing an absent one is
          not an error).

        Only ``'merge'`` works inside a batch (Kinto's ``/batch`` sends every
        sub-request as ``application/json``); the others raise there, before
        anything is sent. ``safe`` with ``last_modified`` (or
        ``data['last_modified']``) sends ``If-Match``.

        ``original=`` is the object read earlier (as :meth:`get_record`
        returns it, or its data), as in kinto-http.py: its ``id`` names the
        record and its ``last_modified`` is sent in ``If-Match`` (with
        ``safe``), so the patch is refused (412) if the record changed since.
        Only those two are taken from it; ``id=`` or ``last_modified=``
        given too must agree with it. A record read by a client without a
        default collection also brings its bucket and collection.
        """
        id, last_modified = self._from_original("patch_record", original, id, last_modified)
        endpoint, data, permissions = self._record_target(
            data, id, collection, bucket, permissions, original
        )
        return self._patch(
            endpoint,
            data,
            permissions,
            safe,
            last_modified,
            patch_type,
            changes,
            add_principals,
            remove_principals,
        )

    def delete_record(
        self,
        id: str | int,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        if_exists: bool = False,
    ) -> Tombstone | None:
        """Delete one record; returns the deleted object's data (a tombstone)."""
        endpoint = self.endpoints.get(
            "record", bucket=self._bucket(bucket), collection=self._collection(collection), id=id
        )
        return self._delete(endpoint, safe, last_modified, if_exists)

    def update_records(
        self,
        records: Iterable[Mapping[str, Any]],
        collection: str | int | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        method: str = "put",
    ) -> list[dict[str, Any]]:
        """Update many records in one batch; returns one response body each."""
        with self.batch() as batch:
            for record in records:
                batch.update_record(
                    record, collection=collection, bucket=bucket, safe=safe, method=method
                )
        return batch.results()

    def delete_records(
        self,
        records: Iterable[Mapping[str, Any] | str | int] | None = None,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        safe: bool = True,
        *,
        if_exists: bool = False,
        if_match: int | str | None = None,
        **filters: Any,
    ) -> list[Tombstone | None]:
        """Delete records; returns the tombstones.

        With ``records`` (dicts with an ``id``, or ids), deletes those in one
        batch. Without, deletes every record of the collection matching
        ``filters``, following the server's pages until none is left.
        ``if_exists=True``: missing records (or a missing collection) are no
        error (their entry is ``None``). ``if_match=<timestamp>`` (the
        collection's, e.g. ``get_records().timestamp``; with ``safe``) makes
        the deletion by filters conditional: see :meth:`delete_buckets`.
        """
        if records is None:
            endpoint = self._records_endpoint(collection, bucket)
            return self._delete_list(endpoint, filters, if_exists, if_match, safe)
        if if_match is not None:
            raise TypeError(
                "delete_records(): if_match= applies to deleting by filters; records given "
                "as dicts are each deleted under their own last_modified."
            )
        if filters:
            raise TypeError(
                "delete_records() takes either records or filters, not both; "
                f"got filters {', '.join(sorted(filters))}."
            )
        with self.batch() as batch:
            for record in records:
                if isinstance(record, Mapping):
                    data, _ = payloads.unpack(record, None)
                    if data.get("id") is None:
                        raise MissingId(f"Cannot delete a record without an id: {record!r}")
                    rb, rc = self._locate(record, collection, bucket)
                    batch.delete_record(
                        data["id"],
                        collection=rc,
                        bucket=rb,
                        safe=safe,
                        last_modified=data.get("last_modified"),
                        if_exists=if_exists,
                    )
                else:
                    batch.delete_record(
                        record, collection=collection, bucket=bucket, if_exists=if_exists
                    )
        return [body.get("data") if isinstance(body, dict) else body for body in batch.results()]

    # -- server features ------------------------------------------------------

    #: What to enable on a server that lacks a capability some method needs.
    _ENABLE = {
        "history": "the kinto.plugins.history plugin (add it to kinto.includes)",
        "accounts": (
            "the kinto.plugins.accounts plugin (add it to kinto.includes, "
            "with its policy in multiauth.policies)"
        ),
        "attachments": (
            "the kinto-attachment plugin (pip install kinto-attachment, "
            "then add kinto_attachment to kinto.includes)"
        ),
        "permissions_endpoint": "the setting kinto.experimental_permissions_endpoint = true",
    }

    @property
    def capabilities(self) -> dict[str, Any]:
        """The server's capabilities by name (``'history'``, ``'accounts'``...).

        From :meth:`server_info`, so read once per session.
        """
        return dict(self.server_info().get("capabilities") or {})

    def _require(self, capability: str, method: str) -> None:
        """Raise :class:`CapabilityMissing` unless the server has ``capability``."""
        if capability in self.capabilities:
            return
        enable = self._ENABLE[capability]
        raise CapabilityMissing(
            f"{method}() needs the {capability!r} capability, which the server at "
            f"{self.server_url} does not have: enable {enable}.",
            capability=capability,
            plugin=enable,
        )

    def heartbeat(self) -> dict[str, bool | None]:
        """``GET /__heartbeat__``: the server's health checks, by subsystem.

        Returns e.g. ``{'storage': True, 'permission': True, 'cache': True}``
        whether the server is healthy (200) or not (503): a failing check is
        ``False``, one that does not apply ``None``, so the server is healthy
        when ``all(ok is not False for ok in checks.values())``. Anything else
        raises: a transport error, or an error status (a 503 without the
        checks, from a proxy, included). A retry policy retries a 503 like
        any other before the checks are returned. Refused inside a batch (it needs
        the answer at once).
        """
        endpoint = self.endpoints.get("heartbeat")
        response = self._send(
            Request("GET", endpoint, tolerate=_UNHEALTHY, needs_answer="A heartbeat")
        )
        checks = response.body
        if not isinstance(checks, dict):
            if response.error is not None:
                raise response.error
            raise KintoException(
                f"The heartbeat answered {_describe(checks)} instead of a JSON object of checks."
            )
        if response.error is not None:
            logger.warning("Heartbeat of %s: failing checks %s", self.server_url, checks)
        return checks

    # history (kinto.plugins.history)

    def get_history(self, bucket: str | int | None = None, **filters: Any) -> RecordList:
        """Every history entry of a bucket, all pages followed (a :class:`RecordList`).

        ``filters`` become query parameters: ``resource_name='record'``,
        ``collection_id=``, ``record_id=``, ``action='delete'``, ``user_id=``,
        ``_since=``, ``_sort=``, ``_limit=`` (the page size)...; ``pages=N``
        stops after N pages. Needs the ``history`` capability.
        """
        pages = filters.pop("pages", None)
        endpoint = self.endpoints.get("history", bucket=self._bucket(bucket))
        self._require("history", "get_history")
        return self._list(endpoint, filters, pages)

    def purge_history(
        self,
        bucket: str | int | None = None,
        *,
        safe: bool = True,
        if_match: int | str | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        """Delete the history entries of a bucket (those matching ``filters``, or all).

        Follows the server's pages until none is left; returns the deleted
        entries. ``if_match=<timestamp>`` (the history's, e.g.
        ``get_history().timestamp``; with ``safe``) sends ``If-Match``: see
        :meth:`delete_buckets`. Needs the ``history`` capability.
        """
        endpoint = self.endpoints.get("history", bucket=self._bucket(bucket))
        _list_timestamp(if_match)  # checked before the capability is read
        self._require("history", "purge_history")
        return self._delete_list(endpoint, filters, False, if_match, safe)

    def get_collection_snapshot(
        self, timestamp: int, collection: str | int | None = None, bucket: str | int | None = None
    ) -> RecordList:
        """The records of a collection as they were at ``timestamp`` (a :class:`RecordList`).

        Rebuilt by the server from its history
        (``GET /buckets/{bucket}/snapshot/collections/{collection}@{timestamp}``):
        ``timestamp`` is a collection timestamp such as ``records.timestamp``.
        Needs the ``history`` capability, and history kept since ``timestamp``.
        """
        if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
            raise ValueError(
                "timestamp must be a collection timestamp (a non-negative int, e.g. "
                f"get_records().timestamp); got {timestamp!r}."
            )
        bucket, collection = self._bucket(bucket), self._collection(collection)
        endpoint = self.endpoints.get(
            "snapshot", bucket=bucket, collection=collection, timestamp=timestamp
        )
        self._require("history", "get_collection_snapshot")
        response = self._send(Request("GET", endpoint))
        # None on a batch client only: typed for the direct call (see CHANGELOG).
        return None if response.queued else RecordList(_objects(response, endpoint))  # type: ignore[return-value]

    # permissions (kinto.experimental_permissions_endpoint)

    def get_permissions(self, **filters: Any) -> RecordList:
        """Every object these credentials have permissions on, all pages followed.

        ``GET /permissions``: one entry per bucket, collection, group or
        record, with its ``uri``, ``resource_name``, ids and the
        ``permissions`` the current user holds there. ``filters`` become query
        parameters (``resource_name='record'``, ``bucket_id=``, ``_sort=``...);
        ``pages=N`` stops after N pages. Needs the ``permissions_endpoint``
        capability.
        """
        pages = filters.pop("pages", None)
        endpoint = self.endpoints.get("permissions")
        self._require("permissions_endpoint", "get_permissions")
        return self._list(endpoint, filters, pages)

    # accounts (kinto.plugins.accounts)

    def _account(self, user: Any, method: str) -> str:
        """The endpoint of account ``user``, checked (ids keep ``+ . @``)."""
        if not isinstance(user, str) or not _ACCOUNT_ID.match(user):
            raise ValueError(
                f"{method}(): user must be an account id of letters, digits and "
                f"'+ . @ _ -', starting with a letter or a digit; got {user!r}."
            )
        return self.endpoints.get("account", user=user)

    @contextlib.contextmanager
    def _account_errors(self) -> Iterator[None]:
        """Explain account id mismatches (error messages never show passwords)."""
        try:
            yield
        except KintoHTTPError as exc:
            if "Username and account ID do not match" not in str(exc):
                raise
            raise KintoHTTPError(
                f"{exc} These credentials authenticate another user: sign up from a client "
                "without auth=, or manage other accounts as an administrator "
                "(the server's account_write_principals).",
                exc,
            ) from None

    def create_account(
        self,
        user: str,
        password: str,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        if_not_exists: bool = False,
    ) -> ObjectResponse | None:
        """Create the account ``user`` with ``password`` (``PUT /accounts/{user}``).

        Sign up from a client without credentials, or create any account as
        an administrator (the server's ``account_write_principals``). ``data``
        holds extra fields stored with the account. With ``safe=True`` an
        existing account is an error (412); ``if_not_exists=True`` returns it
        instead, or ``None`` when these credentials cannot read it. The server
        keeps only a hash of the password. Needs the ``accounts`` capability.
        """
        endpoint = self._account(user, "create_account")
        data, permissions = payloads.unpack(data, permissions)
        data = payloads.account_data(data, password, "create_account", required=True)
        self._require("accounts", "create_account")
        with self._account_errors():
            try:
                return self._create(endpoint, data, permissions, safe, if_not_exists)
            except KintoHTTPError as exc:
                reading = getattr(exc.request, "method", None) == "GET"
                if if_not_exists and reading and exc.status_code in (401, 403):
                    return None  # it exists, and is not ours to read
                raise

    def get_account(self, user: str) -> ObjectResponse:
        """Read an account: ``{'data': {...}, 'permissions': {...}}``.

        Users read their own account; administrators any. Needs ``accounts``.
        """
        endpoint = self._account(user, "get_account")
        self._require("accounts", "get_account")
        with self._account_errors():
            return self._get(endpoint)

    def get_accounts(self, **filters: Any) -> RecordList:
        """The accounts these credentials can read, all pages followed.

        A user sees their own account, an administrator every account.
        ``filters`` become query parameters; ``pages=N`` stops after N pages.
        """
        pages = filters.pop("pages", None)
        endpoint = self.endpoints.get("accounts")
        self._require("accounts", "get_accounts")
        return self._list(endpoint, filters, pages)

    def update_account(
        self,
        user: str,
        data: Mapping[str, Any] | None = None,
        password: str | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
        method: str = "put",
    ) -> ObjectResponse:
        """Replace (``method='put'``) or patch an account.

        A PUT replaces the whole account, so it needs the password
        (``password=`` or ``data['password']``); :meth:`patch_account`
        changes only the given fields. The password read back from the
        server is a hash: writing it back is refused, since the hash would
        become the password.
        """
        return self._write_account(
            "update_account", user, data, password, permissions, safe, last_modified, method
        )

    def _write_account(
        self,
        caller: str,
        user: str,
        data: Any,
        password: str | None,
        permissions: Any,
        safe: bool,
        last_modified: Any,
        method: str,
    ) -> Any:
        endpoint = self._account(user, caller)
        data, permissions = payloads.unpack(data, permissions)
        data = payloads.account_data(data, password, caller, required=method == "put")
        self._require("accounts", caller)
        with self._account_errors():
            return self._update(endpoint, data, permissions, safe, last_modified, method)

    def patch_account(
        self,
        user: str,
        data: Mapping[str, Any] | None = None,
        password: str | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        last_modified: int | str | None = None,
    ) -> ObjectResponse:
        """Merge ``data`` (and a new ``password``, ``permissions``) into an account."""
        return self._write_account(
            "patch_account", user, data, password, permissions, safe, last_modified, "patch"
        )

    def change_password(self, user: str, password: str) -> ObjectResponse:
        """Set the password of account ``user``; returns the updated account.

        When this client's own basic-auth credentials are that user's, they
        are updated too, so the client (and its clones) keeps working.
        """
        if password is None:
            raise ValueError("change_password() needs the new password (a non-empty string).")
        body = self._write_account(
            "change_password", user, None, password, None, False, None, "patch"
        )
        sender = self.session
        if body is not None and isinstance(sender.auth, BasicAuth) and sender.auth.username == user:
            sender.auth = BasicAuth(user, password)
        return body

    def delete_account(
        self,
        user: str,
        safe: bool = True,
        last_modified: int | str | None = None,
        if_exists: bool = False,
    ) -> Tombstone | None:
        """Delete an account; returns the deleted object's data."""
        endpoint = self._account(user, "delete_account")
        self._require("accounts", "delete_account")
        with self._account_errors():
            return self._delete(endpoint, safe, last_modified, if_exists)

    # attachments (the kinto-attachment plugin)

    def add_attachment(
        self,
        id: str | int,
        filepath: str | os.PathLike[str],
        collection: str | int | None = None,
        bucket: str | int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        mimetype: str | None = None,
        *,
        filename: str | None = None,
    ) -> dict[str, Any]:
        """Upload ``filepath`` as the attachment of record ``id``.

        ``POST .../records/{id}/attachment`` (multipart): replaces any previous
        attachment, creates the record if it does not exist, and merges
        ``data``/``permissions`` into it. ``filename`` is the name sent (and
        stored in the metadata) instead of the file's own, as in
        kinto-http.py: a name, without folders. ``mimetype`` defaults to a
        guess from the name sent. Returns the attachment metadata
        (``filename``, ``location``, ``hash``, ``mimetype``, ``size``), also
        stored in the record's ``attachment`` field. A retried upload re-reads
        the file from its start. Needs the ``attachments`` capability; not
        batchable.
        """
        path = Path(filepath)
        if filename is not None and (
            not isinstance(filename, str)
            or filename in ("", ".", "..")
            or Path(filename).name != filename
            or "\\" in filename
            or _CONTROL_CHARS.search(filename)
        ):
            raise ValueError(
                "add_attachment(): filename= must be a file name without folders or control "
                f"characters, such as 'report.pdf'; got {filename!r}."
            )
        if not path.is_file():
            raise FileNotFoundError(f"add_attachment(): {str(path)!r} is not a readable file.")
        data, permissions = payloads.unpack(data, permissions)
        name = path.name if filename is None else filename
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        endpoint = self._attachment_endpoint(id, collection, bucket)
        self._require("attachments", "add_attachment")
        body = payloads.kinto_body(data, permissions)
        with path.open("rb") as handle:
            request = Request(
                "POST",
                endpoint,
                body=body,
                files={"attachment": (name, handle, mimetype)},
                idempotent=True,  # uploading the same file again gives the same record
            )
            return self._send(request).body

    def remove_attachment(
        self, id: str | int, collection: str | int | None = None, bucket: str | int | None = None
    ) -> None:
        """Delete the attachment of record ``id`` (its file, and its metadata).

        The record stays, with ``attachment`` set to ``None``.
        """
        endpoint = self._attachment_endpoint(id, collection, bucket)
        self._require("attachments", "remove_attachment")
        self._send(Request("DELETE", endpoint))

    def download_attachment(
        self,
        record_or_id: Mapping[str, Any] | str | int,
        filepath: str | os.PathLike[str] | None = None,
        collection: str | int | None = None,
        bucket: str | int | None = None,
        *,
        save_metadata: bool = False,
        overwrite: bool = True,
        chunk_size: int = _DOWNLOAD_CHUNK,
    ) -> str:
        """Download the attachment of a record to ``filepath``; returns the path written.

        ``record_or_id`` is a record (as read from the server) or a record id
        (read first). ``filepath`` is a file, or a directory where the file
        keeps its attachment name (default: the current directory).

        The file is streamed into a temporary file next to the target, its
        size and sha256 checked against the record's attachment metadata,
        then renamed over the target: a failed or mismatching download raises
        (:class:`KintoException`) and leaves any existing file untouched.
        Credentials are sent only when the file is on the Kinto server's own
        host. Not batchable.

        As in kinto-http.py: ``save_metadata=True`` also writes the record
        (its data, as JSON) to ``<path>.meta.json``; ``chunk_size`` is the
        size of the pieces read and written (bytes). ``overwrite=False``
        never replaces an existing file: one that already holds this
        attachment (same size and sha256) is kept and nothing is downloaded;
        any other raises :class:`FileExistsError` before anything is
        downloaded (so does a ``.meta.json`` that differs from the record,
        with ``save_metadata``). The default, ``overwrite=True``, always
        downloads and replaces (kinto-http.py's default is ``False``, which
        there re-downloads over an outdated file).
        """
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(
                f"download_attachment(): chunk_size must be a positive number of bytes; "
                f"got {chunk_size!r}."
            )
        if isinstance(record_or_id, Mapping):
            record, _ = payloads.unpack(record_or_id, None)
        else:
            self._require("attachments", "download_attachment")
            record = self.get_record(record_or_id, collection=collection, bucket=bucket)["data"]
        metadata = record.get("attachment")
        if not isinstance(metadata, Mapping) or not metadata.get("location"):
            raise KintoException(
                f"Record {record.get('id')!r} has no attachment to download "
                "(its 'attachment' field is empty)."
            )
        url = self._attachment_url(str(metadata["location"]))
        target = Path.cwd() if filepath is None else Path(filepath)
        if target.is_dir():
            target = target / _attachment_name(metadata, url)
        if not target.parent.is_dir():
            raise FileNotFoundError(
                f"download_attachment(): the folder of {str(target)!r} does not exist."
            )
        meta_path = target.with_name(target.name + ".meta.json") if save_metadata else None
        if not overwrite:
            if (
                meta_path is not None
                and meta_path.exists()
                and _read_json(meta_path) != dict(record)
            ):
                raise FileExistsError(
                    f"download_attachment(): {str(meta_path)!r} exists and does not describe "
                    "this record; pass overwrite=True to replace it, or another filepath."
                )
            if target.exists():
                if not _holds(target, metadata, chunk_size):
                    raise FileExistsError(
                        f"download_attachment(): {str(target)!r} exists and is not this "
                        "attachment (its size or sha256 differs); pass overwrite=True to "
                        "replace it, or another filepath."
                    )
                logger.info("Attachment %s is already up to date: not downloaded", target)
                if meta_path is not None:
                    _write_json(meta_path, dict(record))
                return str(target)
        request = Request(
            "GET",
            url,
            headers={"Accept": "*/*"},
            stream=True,
            needs_answer="download_attachment()",
        )
        try:
            raw = self._send(request).raw
        except KintoHTTPError as exc:
            raise KintoHTTPError(
                f"Downloading the attachment of record {record.get('id')!r} from {url} "
                f"failed: {exc}",
                exc,
            ) from None
        assert raw is not None
        try:
            _stream_to(raw, target, url, metadata, chunk_size, overwrite)
        finally:
            raw.close()
        if meta_path is not None:
            _write_json(meta_path, dict(record))
        return str(target)

    def _attachment_endpoint(self, id: Any, collection: Any, bucket: Any) -> str:
        bucket, collection = self._bucket(bucket), self._collection(collection)
        return self.endpoints.get("attachment", bucket=bucket, collection=collection, id=id)

    def _attachment_url(self, location: str) -> str:
        """The absolute URL of an attachment ``location`` (relative to ``base_url``)."""
        if urlsplit(location).scheme in ("http", "https"):
            return location
        self._require("attachments", "download_attachment")
        base_url = (self.capabilities.get("attachments") or {}).get("base_url")
        if not base_url:
            raise KintoException(
                f"The attachment location {location!r} is relative and the server "
                "announces no base URL for it (kinto.attachment.base_url): cannot download it."
            )
        return urljoin(str(base_url), location)

    # Remote Settings: the review workflow of its signer plugin, and changesets

    def _review(
        self,
        caller: str,
        fields: dict[str, str],
        id: Any,
        bucket: Any,
        last_modified: Any,
        data: Any = None,
        permissions: Any = None,
        safe: bool = True,
        original: Any = None,
    ) -> Any:
        """Merge ``fields`` (status and comment) into a collection, with the
        caller's ``data`` and ``permissions`` if any: nothing else."""
        for name, value in fields.items():
            if not isinstance(value, str):
                raise TypeError(f"{caller}(): the {name} must be a string; got {value!r}.")
        data, permissions = payloads.unpack(data, permissions)
        clash = sorted(k for k in fields if data is not None and k in data and data[k] != fields[k])
        if clash:
            raise ValueError(
                f"{caller}() sets {' and '.join(clash)} itself, so data= cannot set "
                "a different value: leave it out of data=."
            )
        id, last_modified = self._from_original(caller, original, id, last_modified)
        bucket = self._origin_bucket(original, bucket)
        endpoint = self.endpoints.get(
            "collection", bucket=self._bucket(bucket), collection=self._collection(id)
        )
        body = fields if data is None else {**data, **fields}
        return self._update(endpoint, body, permissions, safe, last_modified, "patch")

    def request_review(
        self,
        message: str,
        id: str | None = None,
        bucket: str | None = None,
        *,
        last_modified: int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        original: Mapping[str, Any] | None = None,
    ) -> Any:
        """Ask for a review of a collection's changes (Remote Settings signer plugin).

        One merge ``PATCH`` of the collection (``id``, default the client's)
        with ``{'status': 'to-review', 'last_editor_comment': message}``; its
        other fields are not touched. ``last_modified`` (the collection's, as
        read) sends ``If-Match``: refused (412) if it changed since. Returns
        the collection as stored (``None`` in a batch: see its results).

        As kinto-http.py passes them to ``patch_collection``, these methods
        also take ``data=`` (more fields merged in the same PATCH; the status
        and comment are the method's), ``permissions=``, ``safe=`` and
        ``original=`` (the collection read earlier: its id and
        ``last_modified``, see :meth:`patch_collection`). Left out, only the
        status and comment are written.
        """
        fields = {"status": "to-review", "last_editor_comment": message}
        return self._review(
            "request_review", fields, id, bucket, last_modified, data, permissions, safe, original
        )

    def approve_changes(
        self,
        id: str | None = None,
        bucket: str | None = None,
        *,
        last_modified: int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        original: Mapping[str, Any] | None = None,
    ) -> Any:
        """Approve the changes under review: ``{'status': 'to-sign'}``, which
        makes the signer plugin sign and publish them. See :meth:`request_review`."""
        fields = {"status": "to-sign"}
        return self._review(
            "approve_changes", fields, id, bucket, last_modified, data, permissions, safe, original
        )

    def decline_changes(
        self,
        message: str,
        id: str | None = None,
        bucket: str | None = None,
        *,
        last_modified: int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        original: Mapping[str, Any] | None = None,
    ) -> Any:
        """Send the changes under review back to the editors:
        ``{'status': 'work-in-progress', 'last_reviewer_comment': message}``.
        See :meth:`request_review`."""
        fields = {"status": "work-in-progress", "last_reviewer_comment": message}
        return self._review(
            "decline_changes", fields, id, bucket, last_modified, data, permissions, safe, original
        )

    def rollback_changes(
        self,
        message: str,
        id: str | None = None,
        bucket: str | None = None,
        *,
        last_modified: int | None = None,
        data: Mapping[str, Any] | None = None,
        permissions: Mapping[str, Iterable[str]] | None = None,
        safe: bool = True,
        original: Mapping[str, Any] | None = None,
    ) -> Any:
        """Drop the changes not yet published:
        ``{'status': 'to-rollback', 'last_editor_comment': message}``, on which
        the signer plugin resets the collection to its published records.
        See :meth:`request_review`."""
        fields = {"status": "to-rollback", "last_editor_comment": message}
        return self._review(
            "rollback_changes", fields, id, bucket, last_modified, data, permissions, safe, original
        )

    def get_changeset(
        self,
        bucket: str | None = None,
        collection: str | None = None,
        bust_cache: bool = False,
        *,
        if_none_match: int | None = None,
        query: Mapping[str, Any] | None = None,
        **filters: Any,
    ) -> Any:
        """A collection's changeset (``GET .../collections/{cid}/changeset``, Remote Settings).

        Returns the server's answer, ``{'metadata': {...}, 'changes': [...],
        'timestamp': ...}``: the collection's metadata, its records (newest
        first) and the records' timestamp. ``filters`` become query
        parameters (:func:`kinto_client.utils.encode_params`):
        ``_since=<timestamp>`` (only what changed since, deletions included
        as tombstones; sent quoted, as the server requires), ``_limit=``,
        ``_expected=<timestamp>`` (the timestamp you expect: a cache key).
        ``query`` holds parameters whose names are taken by the arguments:
        the filters of ``monitor/changes``, ``query={'bucket': 'main'}``.
        ``_expected`` defaults to ``0``, or with ``bust_cache=True`` to a
        random number, which no cache has seen. ``if_none_match=<timestamp>``
        sends ``If-None-Match`` and returns :data:`NOT_MODIFIED` on a 304
        (from a cache in front of the server). A server without the plugin
        answers 404 (:class:`KintoHTTPError`).
        """
        endpoint = self.endpoints.get(
            "changeset", bucket=self._bucket(bucket), collection=self._collection(collection)
        )
        params = dict(query or {})
        clash = sorted(set(params) & set(filters))
        if clash:
            raise TypeError(
                f"get_changeset() got {', '.join(clash)} both in query= and as keywords."
            )
        params.update(filters)
        if params.get("_expected") is None:
            params["_expected"] = random.randint(999999000000, 999999999999) if bust_cache else 0
        since = params.get("_since")
        if isinstance(since, int) and not isinstance(since, bool):
            params["_since"] = utils.quote(since)
        elif isinstance(since, str) and since:
            params["_since"] = utils.quote(since.strip())
        response = self._send(
            Request(
                "GET",
                endpoint,
                query=utils.encode_params(params),
                headers=payloads.if_none_match(if_none_match),
            )
        )
        if response.queued:
            return None
        if response.status == 304:
            return NOT_MODIFIED
        body = response.body
        if not isinstance(body, dict) or not isinstance(body.get("changes"), list):
            raise KintoException(
                f"{endpoint} answered {_describe(body)} instead of a changeset "
                "({'metadata': ..., 'changes': [...], 'timestamp': ...}): is this a Remote "
                "Settings server?"
            )
        return body


# -- helpers ---------------------------------------------------------------------


def _etag(headers: Mapping[str, str]) -> int | None:
    etag = headers.get("ETag")
    if not etag:
        return None
    try:
        return int(etag.strip('"'))
    except ValueError:
        return None


def _list_timestamp(if_match: Any) -> Any:
    """``if_match=`` of a plural delete, checked: a list's timestamp, or ``None``."""
    if if_match is not None and (
        isinstance(if_match, bool) or not isinstance(if_match, (int, str))
    ):
        raise TypeError(
            "if_match must be the list's timestamp (an int, such as "
            f"get_records().timestamp); got {if_match!r}."
        )
    return if_match


def _merge_repeats(objects: list[Any]) -> None:
    """Keep one object per id, where it first came, with its latest version.

    An object changed while the pages are read can come twice; kinto-client
    4.0 kept one (an ordered dict by id). Objects without an id are kept.
    """
    ids = [obj.get("id") if isinstance(obj, dict) else None for obj in objects]
    if len(set(ids)) == len(ids):
        return  # the common case: no repeat
    where: dict[Any, int] = {}
    merged: list[Any] = []
    for obj, obj_id in zip(objects, ids):
        if obj_id is not None and obj_id in where:
            merged[where[obj_id]] = obj
            continue
        if obj_id is not None:
            where[obj_id] = len(merged)
        merged.append(obj)
    objects[:] = merged


def _total(headers: Mapping[str, str]) -> int | None:
    total = headers.get("Total-Objects") or headers.get("Total-Records")
    try:
        return int(total) if total is not None else None
    except ValueError:
        raise KintoException(
            f"The server sent a Total-Objects header that is not a number: {total!r}."
        ) from None


def _list_request(
    endpoint: str, filters: Mapping[str, Any], if_none_match: Any = None, needs_answer: Any = None
) -> Request:
    """The ``GET`` of a list: ``filters`` as query parameters, ``If-None-Match``
    on ``if_none_match`` (sent again with every page)."""
    query = utils.encode_params(dict(filters)) or None
    headers = payloads.if_none_match(if_none_match)
    return Request("GET", endpoint, query=query, headers=headers, needs_answer=needs_answer)


def _objects(response: Response, endpoint: str) -> list[Any]:
    """The objects of a list answer, checked: ``{'data': [...]}``."""
    body = response.body
    objects = body.get("data") if isinstance(body, dict) else None
    if not isinstance(objects, list):
        raise KintoException(
            f"{endpoint} answered {_describe(body)} instead of a list of objects "
            "({'data': [...]}): is this a Kinto server?"
        )
    return objects


def _describe(value: Any) -> str:
    """What the server sent, in a few words, for an error message."""
    if isinstance(value, (dict, list)):
        kind = "a JSON object" if isinstance(value, dict) else "a JSON list"
        return f"{kind} {describe_body(value)[:120]}"
    return f"{type(value).__name__} {value!r:.120}" if value is not None else "no body"


# -- server features helpers ----------------------------------------------------------

#: Kinto's account ids: user names may hold ``+ . @`` (e-mail addresses).
_ACCOUNT_ID = re.compile(r"^[a-zA-Z0-9][+.@a-zA-Z0-9_-]*$")
#: What a heartbeat may answer with its checks: 503, some of them failing.
_UNHEALTHY = frozenset({503})
#: Characters a file name sent to the server may not hold (they would break the header).
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


def _attachment_name(metadata: Mapping[str, Any], url: str) -> str:
    """A safe file name for an attachment: its own name, never a path."""
    for candidate in (metadata.get("filename"), unquote(urlsplit(url).path.rsplit("/", 1)[-1])):
        name = Path(str(candidate or "")).name
        if name not in ("", ".", ".."):
            return name
    raise KintoException(f"Cannot name the file of {url}: pass filepath= with a file name.")


def _holds(path: Path, metadata: Mapping[str, Any], chunk_size: int) -> bool:
    """Whether the file at ``path`` is the attachment ``metadata`` describes
    (its size and sha256; unknown when the metadata lacks either)."""
    size, expected = metadata.get("size"), str(metadata.get("hash") or "").lower()
    if not path.is_file() or not expected or path.stat().st_size != size:
        return False
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest() == expected


def _read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it holds none."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, value: Any) -> None:
    """Write ``value`` as JSON to ``path`` through a temporary file (atomic)."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        partial.write_text(json.dumps(value, sort_keys=True, indent=2), encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _stream_to(
    raw: requests.Response,
    target: Path,
    url: str,
    metadata: Mapping[str, Any],
    chunk_size: int = _DOWNLOAD_CHUNK,
    overwrite: bool = True,
) -> None:
    """Write ``raw``'s body to ``target`` through a temporary file, checked first.

    Without ``overwrite``, a file that appeared at ``target`` meanwhile is
    left alone (:class:`FileExistsError`).
    """
    expected_size = metadata.get("size")
    if isinstance(expected_size, bool) or not isinstance(expected_size, int):
        expected_size = None
    expected_hash = str(metadata.get("hash") or "").lower()
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    digest = hashlib.sha256()
    size = 0
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as out:
            for chunk in raw.iter_content(chunk_size=chunk_size):
                size += len(chunk)
                if expected_size is not None and size > expected_size:
                    break  # more than announced: no need to read the rest
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        problems = []
        if expected_size is not None and size > expected_size:
            problems.append(f"more than the {expected_size} bytes announced")
        else:
            if expected_size is not None and size != expected_size:
                problems.append(f"{size} bytes instead of {expected_size}")
            if expected_hash and digest.hexdigest() != expected_hash:
                problems.append(f"sha256 {digest.hexdigest()} instead of {expected_hash}")
        if problems:
            raise KintoException(
                f"The file downloaded from {url} does not match the record's attachment "
                f"metadata ({'; '.join(problems)}): {str(target)!r} was left untouched."
            )
        if not overwrite:
            _install_new(partial, target)
            return
        if target.exists():
            shutil.copymode(target, partial)
        os.replace(partial, target)
    except requests.RequestException as exc:
        cls = KintoTimeout if isinstance(exc, requests.Timeout) else KintoConnectionError
        raise cls(
            f"Downloading {url} failed after {size} bytes ({type(exc).__name__}): "
            f"{str(target)!r} was left untouched.",
            exc,
        ) from None
    finally:
        partial.unlink(missing_ok=True)


def _install_new(partial: Path, target: Path) -> None:
    """Give ``partial`` the name ``target`` only if no file has it (no replacing)."""
    refused = FileExistsError(
        f"download_attachment(): {str(target)!r} was created while downloading; left "
        "untouched (overwrite=False)."
    )
    try:
        os.link(partial, target)  # fails if target exists: atomic
    except FileExistsError:
        raise refused from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise refused from None
        os.replace(partial, target)
